/*
 * profile.h - one profile per source IP that sends SIP requests: when, what
 * methods, which user agents, how many targets and users it tried, which
 * extensions answered as existing, and its digest attempts. Emitted as
 * ev_source at the end of the run (or on eviction). Scoring (tools,
 * techniques, severity) is the detection issue's; severity is "info" here.
 */
#ifndef SIPSIFT_PROFILE_H
#define SIPSIFT_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "dissect/state.h"
#include "lib/table.h"
#include "output/events.h"

#define SRC_STR_MAX    64   /* bytes kept of one user, user agent, realm or number */
#define SRC_REASON_MAX 120  /* bytes of one reason */
#define SRC_POOL_BYTES 3072 /* all strings of one profile; past it, counted not kept */

/* Severity of a technique or a source (CONTRACT.md names, src_severity_name). */
enum src_severity { SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

/* A string in the profile's pool. */
struct src_str {
    uint16_t off;
    uint8_t len;
};

struct src_cred {
    struct src_str user, realm, password;
    bool accepted, has_password;
};

struct src_number {
    struct src_str number;
    char iso2[3];
};

struct src_profile {
    struct ip_addr ip;
    uint64_t gen;                      /* incarnation: keys its entries in the pair sets */
    uint64_t first_us, last_us;        /* first and last request */
    uint64_t sip_messages;             /* requests sent, retransmissions included */
    uint64_t methods[SIP_M__COUNT];    /* [0] = methods sipsift does not know */
    uint32_t targets;                  /* distinct destination IPs */
    uint32_t users_tried_total;        /* distinct users, past the cap too */
    uint64_t auth_attempts, auth_failures, auth_successes;
    uint8_t n_user_agents, n_credentials;
    uint16_t n_users, n_extensions;
    struct src_str user_agents[SRC_MAX_USER_AGENTS];
    struct src_str users[SRC_MAX_USERS];
    struct src_str extensions[SRC_MAX_EXTENSIONS];
    struct src_cred credentials[SRC_MAX_CREDENTIALS];
    /* Verdicts of the detection stage (rules/detect.c). */
    const char *tools[SRC_MAX_TOOLS];  /* ids that live as long as the run */
    uint8_t n_tools;
    bool scanner;                      /* a tool that is an attack tool (not sipsak/SIPp) */
    uint8_t tech_sev[8];               /* severity per enum rule_technique, 0 = not seen */
    bool tech_seen[8];
    uint8_t chain_sev;                 /* a chain (bruteforce success, then abroad...) */
    uint8_t n_reasons;
    struct src_str reasons[SRC_MAX_REASONS];
    uint16_t n_numbers;
    struct src_number numbers[SRC_MAX_NUMBERS];
    char country[3], asn[16], as_org[128]; /* --geoip (rules/geoip.h sizes) */
    uint16_t pool_used;
    uint8_t pool[SRC_POOL_BYTES];
};

struct src_profiles;

/* NULL on allocation failure. Owner: the caller, free with src_free. */
struct src_profiles *src_new(const struct state_cfg *cfg, const struct st_sinks *out);
void src_free(struct src_profiles *s);

/* A request from m->src: counts, user agent, target, users tried. */
void src_on_request(struct src_profiles *s, const struct l4_meta *m, const struct sip_msg *msg,
                    bool retransmission);
/* A request carrying digest credentials (one per transaction). */
void src_on_auth_attempt(struct src_profiles *s, const struct ip_addr *src, struct slice user,
                         struct slice realm, uint64_t now_us);
/* Its outcome: accepted (2xx), or a failure (401/403/407 after credentials). */
void src_on_auth_result(struct src_profiles *s, const struct ip_addr *src, struct slice user,
                        struct slice realm, bool accepted, bool failure, uint64_t now_us);
/* A user this source tried exists: the target answered 401/407 or 2xx. */
void src_on_user_found(struct src_profiles *s, const struct ip_addr *src, struct slice user,
                       uint64_t now_us);

/* ---- Verdicts (rules/detect.c) ---- */
/* Add tool id (a string that lives for the run); scanner: an attack tool. */
void src_add_tool(struct src_profile *p, const char *tool, bool scanner);
/* Technique t found at severity sev, with a reason (kept in time order when
 * it is new or raises the technique's severity). */
void src_add_technique(struct src_profile *p, unsigned t, unsigned sev, const char *reason);
/* A chain of steps makes the source this severe (reason as above). */
void src_add_chain(struct src_profile *p, unsigned sev, const char *reason);
void src_add_reason(struct src_profile *p, const char *reason);
/* A number dialed (INVITE Request-URI user), its destination ISO code or "". */
void src_add_number(struct src_profile *p, struct slice number, const char *iso2);
/* The password behind user@realm's digest response (recovered or read from a tool's tag). */
void src_set_password(struct src_profile *p, struct slice user, struct slice realm,
                      struct slice password, bool accepted);
bool src_has_technique(const struct src_profile *p, unsigned t);
/* The source's severity: the highest technique, one step up when an attack
 * tool's fingerprint agrees, the chains; "low" for a fingerprint alone. */
unsigned src_severity(const struct src_profile *p);
const char *src_severity_name(unsigned sev);

/* Called once when a profile is created (geoip lookup). */
void src_set_on_create(struct src_profiles *s, void (*fn)(void *ctx, struct src_profile *p), void *ctx);

/* The profile of ip, or NULL; does not touch LRU order. */
struct src_profile *src_find(struct src_profiles *s, const struct ip_addr *ip);
/* The event for one profile; slices point into p. */
void src_fill_event(const struct src_profile *p, struct ev_source *e);
/* Emit every profile now and keep them (live mode). */
void src_emit_all(struct src_profiles *s);

void src_expire(struct src_profiles *s, uint64_t now_us);
/* Emit every profile (oldest first) and empty the tables. */
void src_flush(struct src_profiles *s);
const struct table *src_table(const struct src_profiles *s);
const struct table *src_targets_table(const struct src_profiles *s);
const struct table *src_users_table(const struct src_profiles *s);

#endif
