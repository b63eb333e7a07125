/*
 * dialog.h - INVITE dialogs as calls (RFC 3261 §12, §13, §15): one per
 * Call-ID, created only by an initial INVITE, emitted once as ev_call when
 * the call ends (BYE answered, CANCEL/487), expires, is evicted, or at the
 * end of the run. Other dialog-creating methods (SUBSCRIBE) are not calls.
 */
#ifndef SIPSIFT_DIALOG_H
#define SIPSIFT_DIALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "dissect/state.h"
#include "dissect/txn.h"
#include "lib/table.h"

#define DLG_STR_MAX  128 /* Call-ID, From/To URIs, User-Agent: bytes kept */
#define DLG_USER_MAX 64  /* From/To user parts */
#define DLG_TAG_MAX  64  /* From/To tags */
#define DLG_MAX_STREAMS 8 /* RTP stream ids listed per call (more are counted) */
#define DLG_DTMF_MAX 64   /* DTMF keys kept per call (more are counted) */

/* How far the initial INVITE got (before the call is answered). */
enum dlg_phase { DLG_CALLING, DLG_TRYING, DLG_RINGING, DLG_ANSWERED, DLG_FAILED };

struct dialog {
    ST_STR(DLG_STR_MAX) call_id, from, to, user_agent;
    ST_STR(DLG_USER_MAX) from_user, to_user;
    ST_STR(DLG_TAG_MAX) from_tag, to_tag;  /* to_tag from the 2xx that confirmed it */
    struct ip_addr src, dst;               /* caller -> first hop, from the initial INVITE */
    uint16_t sport, dport;
    uint8_t proto;
    struct ip_addr callee;                 /* who sent the 2xx (teardown checks later) */
    uint16_t callee_port;
    uint8_t phase;                         /* enum dlg_phase */
    bool cancel_seen, bye_seen;
    uint16_t final_status;                 /* latest final response to the initial INVITE */
    uint32_t invite_cseq;                  /* CSeq of the latest initial INVITE */
    uint32_t invites;                      /* initial INVITE transactions (auth retries) */
    uint32_t messages;                     /* every message with this Call-ID, retransmissions too */
    uint64_t start_us, answer_us, end_us, cancel_us, bye_us, last_us;
    ST_STR(DLG_DTMF_MAX) dtmf;             /* RFC 4733 and SIP INFO keys, in time order */
    uint32_t dtmf_dropped, streams_dropped;
    uint8_t n_streams;
    uint64_t streams[DLG_MAX_STREAMS];     /* media_stream ids */
};

struct dlgs;

/* NULL on allocation failure. Owner: the caller, free with dlg_free. */
struct dlgs *dlg_new(const struct state_cfg *cfg, const struct st_sinks *out);
void dlg_free(struct dlgs *d);

/* One message (tx from txn_on_msg: retransmissions never create a call). */
void dlg_on_msg(struct dlgs *d, const struct l4_meta *m, const struct sip_msg *msg,
                const struct txn_ref *tx);

/* A stream of the call call_id was recognised (media_stream id). */
void dlg_on_stream(struct dlgs *d, struct slice call_id, uint64_t stream_id);
/* An RFC 4733 key on a stream of call call_id. */
void dlg_on_dtmf(struct dlgs *d, struct slice call_id, char key);
/*
 * The key a SIP INFO body carries (application/dtmf-relay "Signal=5",
 * application/dtmf "5"), or 0 when it carries none. Keys: 0-9 * # A-D, and
 * '!' for flash (Signal=16); Signal=10/11 are taken for * and # (RFC 4733
 * event codes, as some phones send them).
 */
char dlg_info_dtmf(struct slice content_type, struct slice body);

void dlg_expire(struct dlgs *d, uint64_t now_us);
/* Emit every open call (by what was seen) and empty both tables. */
void dlg_flush(struct dlgs *d);
/* Calls created so far (initial INVITEs on a Call-ID not already open). */
uint64_t dlg_calls(const struct dlgs *d);
const struct table *dlg_table_early(const struct dlgs *d);
const struct table *dlg_table_confirmed(const struct dlgs *d);

#endif
