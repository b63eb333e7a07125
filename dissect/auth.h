/*
 * auth.h - digest exchanges (RFC 3261 §22, RFC 2617): challenges (401/407)
 * remembered by nonce, and requests carrying credentials followed to their
 * final response: one ev_auth per request (retransmissions folded), fed to
 * the sender's profile. Password recovery is the detection issue's.
 */
#ifndef SIPSIFT_AUTH_H
#define SIPSIFT_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "dissect/state.h"
#include "dissect/txn.h"
#include "lib/table.h"
#include "rules/profile.h"

/* A 401/407 challenge, by nonce. */
struct auth_challenge {
    uint64_t ts_us;
    struct ip_addr server;     /* who challenged */
    uint16_t server_port;
    uint16_t status;           /* 401 or 407 */
    bool stale;
    ST_STR(64) realm, opaque;
    ST_STR(32) algorithm, qop;
};

/* A request with credentials waiting for its final response. */
struct auth_attempt {
    uint64_t ts_us, challenge_us;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    bool proxy;                /* Proxy-Authorization (else Authorization) */
    ST_STR(16) method, scheme, algorithm, qop, nc;
    ST_STR(128) call_id, nonce, uri;
    ST_STR(64) username, realm, cnonce, opaque;
    ST_STR(128) response;      /* 32 hex for MD5, 64 for SHA-256 (RFC 7616) */
};

struct auths;

/* NULL on allocation failure. Owner: the caller, free with auth_free.
 * profiles is borrowed (attempts and outcomes are counted there). */
struct auths *auth_new(const struct state_cfg *cfg, const struct st_sinks *out,
                       struct src_profiles *profiles);
void auth_free(struct auths *a);

/* A request: starts an attempt when it carries (Proxy-)Authorization. */
void auth_on_request(struct auths *a, const struct l4_meta *m, const struct sip_msg *msg,
                     const struct txn_ref *tx);
/* A response: a 401/407 stores its challenges; a final one settles the
 * attempt of its transaction. */
void auth_on_response(struct auths *a, const struct l4_meta *m, const struct sip_msg *msg,
                      const struct txn_ref *tx);

void auth_expire(struct auths *a, uint64_t now_us);
/* Emit every open attempt as no_response and empty both tables. */
void auth_flush(struct auths *a);
const struct table *auth_nonce_table(const struct auths *a);
const struct table *auth_pending_table(const struct auths *a);

#endif
