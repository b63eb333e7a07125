/*
 * reg.h - REGISTER transactions (RFC 3261 §10): one ev_registration per
 * transaction (retransmissions folded) when its final response arrives, or
 * with result no_response when it expires or the run ends. Bindings over
 * time (who moved an AOR's Contact) are the detection issue's.
 */
#ifndef SIPSIFT_REG_H
#define SIPSIFT_REG_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "dissect/state.h"
#include "dissect/txn.h"
#include "lib/table.h"

#define REG_STR_MAX  128 /* AOR, Contact, User-Agent, Call-ID: bytes kept */
#define REG_USER_MAX 64

struct registration {
    uint64_t ts_us;
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    bool authenticated;  /* Authorization or Proxy-Authorization present */
    bool contact_star;   /* Contact: * (remove all bindings, §10.2.2) */
    bool has_contact;
    uint32_t expires;    /* UINT32_MAX = not given */
    ST_STR(REG_STR_MAX) aor, contact, user_agent, call_id;
    ST_STR(REG_USER_MAX) user;
};

struct regs;

/* NULL on allocation failure. Owner: the caller, free with reg_free. */
struct regs *reg_new(const struct state_cfg *cfg, const struct st_sinks *out);
void reg_free(struct regs *r);

/* A REGISTER request (tx: its transaction; retransmissions only touch it). */
void reg_on_request(struct regs *r, const struct l4_meta *m, const struct sip_msg *msg,
                    const struct txn_ref *tx);
/* A response with CSeq method REGISTER: a final one completes the transaction. */
void reg_on_response(struct regs *r, const struct l4_meta *m, const struct sip_msg *msg,
                     const struct txn_ref *tx);

/* Expiry per the first Contact's expires parameter, else the Expires header
 * (§10.2.1.1); UINT32_MAX when neither gives a number. */
uint32_t reg_expires_of(const struct sip_msg *msg);

void reg_expire(struct regs *r, uint64_t now_us);
void reg_flush(struct regs *r);
const struct table *reg_table(const struct regs *r);

#endif
