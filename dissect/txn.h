/*
 * txn.h - RFC 3261 §17 transactions as a passive observer sees them: which
 * request and response belong together, and which are retransmissions.
 * Does not emit events; dialogs, registrations and auth key their own state
 * on the transaction key computed here.
 */
#ifndef SIPSIFT_TXN_H
#define SIPSIFT_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "dissect/state.h"
#include "lib/table.h"

#define TXN_MAX_STATUSES 6 /* distinct (status, To tag) pairs remembered per part */

/*
 * An ACK for a non-2xx final response and a CANCEL carry the INVITE's branch
 * (RFC 3261 §17.1.1.3, §9.1) and are matched to the INVITE transaction
 * (§17.2.3), but each is counted in its own part so an ACK or CANCEL is never
 * taken for a retransmitted INVITE.
 */
enum txn_part { TXN_MAIN, TXN_ACK, TXN_CANCEL, TXN__PARTS };

struct txn_part_state {
    uint32_t requests;  /* requests seen, retransmissions included */
    uint32_t responses; /* responses seen, retransmissions included */
    uint8_t n_status;
    uint16_t status[TXN_MAX_STATUSES];
    uint32_t totag_h[TXN_MAX_STATUSES]; /* forks answer with the same code, other To tags */
    uint16_t final_status;              /* first final response; 0 = none yet */
    uint64_t final_us;
};

struct txn {
    uint8_t method;    /* enum sip_method of the request the key was made for */
    bool rfc2543;      /* keyed without a z9hG4bK branch */
    bool have_request; /* the request itself was seen (not only responses) */
    uint64_t req_us;   /* first request (of the latest request on this key) */
    uint64_t req_fp;   /* fingerprint of that request, to tell a resend from a new one */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    struct txn_part_state part[TXN__PARTS];
};

/* What txn_on_msg found for one message. */
struct txn_ref {
    struct txn *t;          /* NULL when the message cannot be keyed */
    struct st_key key;      /* the transaction's key (INVITE's for a matched ACK/CANCEL) */
    enum txn_part part;
    bool retransmission;
    bool restarted;         /* a different request reused the key: state on it starts over */
    bool stray;             /* a response not going back to the request's sender: t is NULL */
};

struct txns;

/* NULL on allocation failure. Owner: the caller, free with txn_free. */
struct txns *txn_new(uint32_t capacity, uint64_t idle_us);
void txn_free(struct txns *x);

/*
 * Find or create the transaction of msg and record it. out->t is NULL when
 * the message has no CSeq, or neither a usable branch nor a Call-ID. A
 * request is a retransmission only when it is the same request again, the
 * same way, within idle_us (64*T1) of its first copy; a different request on
 * a known key (a branch reused by a scanner) restarts the transaction.
 */
void txn_on_msg(struct txns *x, const struct l4_meta *m, const struct sip_msg *msg,
                struct txn_ref *out);

void txn_expire(struct txns *x, uint64_t now_us);
void txn_flush(struct txns *x);
const struct table *txn_table(const struct txns *x);

#endif
