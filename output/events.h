/*
 * events.h - what the state and detection stages tell the sinks. One struct
 * per event type; every string is a slice (attacker bytes may hold NULs) into
 * the packet or into state-owned copies, valid only during the sink call.
 * Sinks (SQLite store, EVE JSON lines) implement struct sink_ops (sink.h).
 */
#ifndef SIPSIFT_EVENTS_H
#define SIPSIFT_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/media.h"
#include "dissect/sip.h"
#include "lib/ipaddr.h"
#include "lib/slice.h"

/* Every SIP message, retransmissions included. */
struct ev_sip {
    const struct l4_meta *m;
    const struct sip_msg *msg;
    uint64_t id;              /* 1-based message number in this run */
    bool retransmission;      /* same transaction, same request/response seen before */
};

/* An INVITE dialog (call), emitted once when it ends, expires, or at end of run. */
struct ev_call {
    struct slice call_id;
    struct slice from, to;         /* From / To URIs of the initial INVITE */
    struct slice from_user, to_user;
    struct slice user_agent;       /* caller's User-Agent */
    struct ip_addr src, dst;       /* caller -> first hop */
    uint16_t sport, dport;
    uint8_t proto;
    uint64_t start_us;             /* first INVITE */
    uint64_t answer_us;            /* first 2xx to the INVITE; 0 = never */
    uint64_t end_us;               /* BYE / CANCEL / final failure / last message */
    const char *state;             /* see docs/output.md: answered, completed, cancelled,
                                      failed, ringing, trying, no_response */
    uint16_t final_status;         /* final response to the initial INVITE; 0 = none */
    uint32_t messages;
    struct slice dtmf;             /* DTMF keys in time order: RFC 4733 and SIP INFO */
    const uint64_t *rtp_streams;   /* media_stream ids of the call's streams (this run) */
    unsigned n_rtp_streams;
};

/* A REGISTER transaction, emitted when it completes or expires. */
struct ev_registration {
    uint64_t ts_us;                /* the request */
    uint64_t resp_us;              /* the final response; 0 = none */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    struct slice aor;              /* To URI */
    struct slice user;             /* To user */
    struct slice contact;          /* Contact URI (first), "*" for remove-all */
    struct slice user_agent;
    struct slice call_id;
    uint32_t expires;              /* Expires header or contact param; UINT32_MAX = not given */
    uint16_t status;               /* final response code; 0 = none */
    bool authenticated;            /* request carried Authorization */
    const char *result;            /* registered, unregistered, challenged, failed, no_response */
};

/* A request carrying digest credentials, emitted when its outcome is known. */
struct ev_auth {
    uint64_t ts_us;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    struct slice method;           /* REGISTER, INVITE, ... */
    struct slice call_id;
    const char *header;            /* "Authorization" or "Proxy-Authorization" */
    struct slice scheme;           /* "Digest" */
    struct slice username, realm, nonce, uri, response, algorithm, qop, nc, cnonce, opaque;
    uint64_t challenge_us;         /* the 401/407 that issued this nonce; 0 = not seen */
    uint16_t status;               /* final response; 0 = none */
    const char *result;            /* accepted, rejected, challenged, no_response */
    struct slice password;         /* recovered password (detection issue); empty = unknown */
};

#define SRC_MAX_USER_AGENTS 8
#define SRC_MAX_USERS       64
#define SRC_MAX_EXTENSIONS  64
#define SRC_MAX_CREDENTIALS 16
#define SRC_MAX_NUMBERS     64
#define SRC_MAX_TOOLS       8
#define SRC_MAX_TECHNIQUES  8
#define SRC_MAX_REASONS     16

struct ev_credential {
    struct slice user, realm, password;
    bool accepted;
};

struct ev_number {
    struct slice number;
    struct slice country;          /* ISO 3166 alpha-2, empty if unknown */
};

/* A source IP that sent SIP requests: emitted at the end of the run (and
 * periodically in live mode, same ip = replace). */
struct ev_source {
    struct ip_addr ip;
    uint64_t first_us, last_us;
    uint64_t sip_messages;          /* requests sent */
    uint64_t methods[SIP_M__COUNT]; /* by enum sip_method; [0] = unknown methods */
    struct slice user_agents[SRC_MAX_USER_AGENTS];
    uint8_t n_user_agents;
    uint32_t targets;               /* distinct destination IPs */
    struct slice users_tried[SRC_MAX_USERS];
    uint16_t n_users_tried;
    uint32_t users_tried_total;     /* distinct users, including those past the cap */
    struct slice extensions_found[SRC_MAX_EXTENSIONS];
    uint16_t n_extensions_found;
    uint64_t auth_attempts, auth_failures, auth_successes;
    struct ev_credential credentials[SRC_MAX_CREDENTIALS];
    uint8_t n_credentials;
    struct ev_number numbers[SRC_MAX_NUMBERS];
    uint16_t n_numbers;
    const char *tools[SRC_MAX_TOOLS];
    uint8_t n_tools;
    const char *techniques[SRC_MAX_TECHNIQUES];
    uint8_t n_techniques;
    const char *severity;           /* info, low, medium, high, critical */
    struct slice reasons[SRC_MAX_REASONS];
    uint8_t n_reasons;
    struct slice country, asn, as_org; /* with --geoip */
};

/*
 * A rule or a behaviour detector fired. Rule alerts come from one message
 * (sip_id); detector alerts judge many messages (sip_id 0) and say what they
 * counted in detail. Strings of the rule or detector are NUL-terminated and
 * live as long as the run; slices are attacker bytes, valid during the call.
 */
struct ev_alert {
    uint64_t ts_us;
    uint32_t sid, rev;
    const char *msg;
    const char *classtype;         /* "" when none */
    const char *severity;          /* info, low, medium, high, critical */
    uint8_t priority;              /* 1 (highest) .. 4 */
    const char *tool;              /* metadata tool, FINGERPRINTS.md id; NULL when none */
    const char *technique;         /* metadata technique; NULL when none */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    struct slice call_id;
    uint64_t sip_id;               /* ev_sip.id of the message; 0 = a detector's verdict */
    struct slice detail;           /* what a detector counted ("212 users in 60 s"); may be empty */
};

/* An RTP stream, emitted when it ends (idle, evicted, end of run). */
struct ev_rtp {
    const struct media_stream *s;
};

/* One input file of the run. */
struct run_input {
    const char *file;
    const char *link_type;
    uint64_t packets, bytes;
    uint64_t start_us, end_us;     /* first and last frame; 0 when empty */
    /* Live interfaces only: the kernel's pcap_stats counters since it was opened. */
    bool live;
    uint64_t ps_recv, ps_drop, ps_ifdrop;
};

/* The run as a whole: given to sinks at open and again at close with totals. */
struct run_info {
    const char *version;
    const char *command_line;
    uint64_t started_wall_us, finished_wall_us;
    const struct run_input *inputs;
    unsigned n_inputs;
    const struct capture_stats *capture;
    uint64_t sip_messages, sip_malformed, sip_not_sip;
    uint64_t rtp_packets;
    /* Table pressure, "name": {count, peak, capacity, expired, evicted} as JSON text. */
    const char *limits_json;
    const char *status;            /* running, finished, interrupted, error */
};

#endif
