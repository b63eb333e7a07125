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

#define SRC_STR_MAX    64   /* bytes kept of one user, user agent or realm */
#define SRC_POOL_BYTES 2048 /* all strings of one profile; past it, counted not kept */

/* A string in the profile's pool. */
struct src_str {
    uint16_t off;
    uint8_t len;
};

struct src_cred {
    struct src_str user, realm;
    bool accepted;
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
