/*
 * dialog.c - calls: INVITE dialogs keyed by Call-ID, followed from the
 * initial INVITE to BYE, CANCEL or failure, and emitted once as ev_call.
 * The media stage tells it which RTP streams and RFC 4733 keys belong to a
 * call (by Call-ID); SIP INFO keys are read here.
 *
 * Two tables because one idle time does not fit both: an early dialog (no
 * 2xx yet, RFC 3261 §12.1) is forgotten after a few minutes of silence, a
 * confirmed one may be silent for hours while RTP flows. A 2xx moves the
 * dialog from the first table to the second. A final failure is emitted when
 * the early dialog expires, not at once, so that a 401/407 followed by an
 * INVITE with credentials on the same Call-ID (§22.2) stays one call.
 */
#include "dissect/dialog.h"

#include <stdlib.h>

struct dlgs {
    struct table *early, *confirmed;
    struct st_sinks out;
    uint64_t calls;
};

static struct st_key callid_key(struct slice call_id)
{
    struct st_keybuf kb;
    st_kb_init(&kb);
    st_kb_add(&kb, call_id);
    return st_kb_key(&kb);
}

/* The state reported for a call, from what was seen (docs/output.md). */
static const char *state_name(const struct dialog *d)
{
    if (d->phase == DLG_ANSWERED)
        return d->bye_seen ? "completed" : "answered";
    /* A CANCEL, or a BYE before the answer (§15), ends an early dialog. */
    if (d->final_status == 487 || d->cancel_seen || d->bye_seen)
        return "cancelled";
    if (d->phase == DLG_FAILED)
        return "failed";
    if (d->phase == DLG_RINGING)
        return "ringing";
    if (d->phase == DLG_TRYING)
        return "trying";
    return "no_response";
}

static uint64_t end_time(const struct dialog *d, const char *state)
{
    if (!strcmp(state, "completed"))
        return d->bye_us;
    if (!strcmp(state, "cancelled")) {
        if (d->cancel_us)
            return d->cancel_us;
        if (d->bye_us)
            return d->bye_us;
    }
    if (d->end_us)
        return d->end_us;
    return d->last_us;
}

static void emit(struct dlgs *x, const struct dialog *d)
{
    const char *state = state_name(d);
    struct ev_call e = {
        .call_id = st_sl(d->call_id),
        .from = st_sl(d->from),
        .to = st_sl(d->to),
        .from_user = st_sl(d->from_user),
        .to_user = st_sl(d->to_user),
        .user_agent = st_sl(d->user_agent),
        .src = d->src,
        .dst = d->dst,
        .sport = d->sport,
        .dport = d->dport,
        .proto = d->proto,
        .start_us = d->start_us,
        .answer_us = d->answer_us,
        .end_us = end_time(d, state),
        .state = state,
        .final_status = d->final_status,
        .messages = d->messages,
        .dtmf = st_sl(d->dtmf),
        .rtp_streams = d->streams,
        .n_rtp_streams = d->n_streams,
    };
    st_emit_call(&x->out, &e);
}

/* A dialog leaving a table without having been emitted is emitted now; an
 * explicit table_del (TABLE_REMOVED) follows an emit or a move. */
static void on_remove(void *ctx, void *value, enum table_why why)
{
    if (why != TABLE_REMOVED)
        emit(ctx, value);
}

struct dlgs *dlg_new(const struct state_cfg *cfg, const struct st_sinks *out)
{
    struct dlgs *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->out = *out;
    struct table_cfg c = {
        .name = "dialogs_early",
        .capacity = cfg->max_dialogs,
        .value_size = sizeof(struct dialog),
        .key_max = sizeof(struct st_key),
        .idle_us = cfg->dialog_idle_unanswered_us,
        .on_remove = on_remove,
        .ctx = x,
    };
    x->early = table_new(&c);
    c.name = "dialogs_confirmed";
    c.idle_us = cfg->dialog_idle_answered_us;
    x->confirmed = table_new(&c);
    if (!x->early || !x->confirmed) {
        dlg_free(x);
        return NULL;
    }
    return x;
}

void dlg_free(struct dlgs *x)
{
    if (!x)
        return;
    table_free(x->early);
    table_free(x->confirmed);
    free(x);
}

static void init_call(struct dialog *d, const struct l4_meta *m, const struct sip_msg *msg)
{
    st_set(d->call_id, msg->call_id);
    st_set(d->from, msg->from.uri.raw);
    st_set(d->to, msg->to.uri.raw);
    st_set(d->from_user, msg->from.uri.user);
    st_set(d->to_user, msg->to.uri.user);
    st_set(d->from_tag, msg->from.tag);
    st_set(d->user_agent, msg->user_agent);
    d->src = m->src;
    d->dst = m->dst;
    d->sport = m->sport;
    d->dport = m->dport;
    d->proto = m->proto;
    d->phase = DLG_CALLING;
    d->invite_cseq = msg->cseq.seq;
    d->invites = 1;
    d->messages = 1;
    d->start_us = d->last_us = m->ts_us;
}

/* The 2xx to the initial INVITE confirms the dialog (§12.1.2, §13.2.2.4):
 * move it to the table with the long idle time. Returns the new copy. */
static struct dialog *confirm(struct dlgs *x, struct dialog *d, const struct st_key *k,
                              uint64_t now)
{
    struct dialog *c = table_put(x->confirmed, k, sizeof *k, now, NULL);
    if (!c)
        return d;
    *c = *d;
    table_del(x->early, d);
    return c;
}

static void add_dtmf(struct dialog *d, char key)
{
    if (d->dtmf.n >= sizeof d->dtmf.b) {
        if (d->dtmf_dropped < UINT32_MAX)
            d->dtmf_dropped++;
        return;
    }
    d->dtmf.b[d->dtmf.n++] = (uint8_t)key;
}

static char dtmf_key(struct slice v)
{
    v = sl_trim(v);
    if (v.n == 1) {
        uint8_t c = v.p[0];
        if ((c >= '0' && c <= '9') || c == '*' || c == '#')
            return (char)c;
        if ((c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd'))
            return (char)(c & ~0x20);
        return 0;
    }
    uint32_t code;
    if (!sl_to_u32(v, &code))
        return 0;
    return code == 10 ? '*' : code == 11 ? '#' : code == 16 ? '!' : 0;
}

char dlg_info_dtmf(struct slice content_type, struct slice body)
{
    struct slice type = sl_trim(sl_take_token(&content_type, ';'));
    if (sl_is_nocase(type, "application/dtmf"))
        return dtmf_key(body);
    if (!sl_is_nocase(type, "application/dtmf-relay"))
        return 0;
    /* "Signal=5\r\nDuration=160\r\n" (draft-choudhuri-sip-info-digit-00) */
    for (unsigned i = 0; body.n && i < 16; i++) {
        struct slice line;
        if (!sl_take_line(&body, &line)) {
            line = body;
            body = SL_NULL;
        }
        struct slice name = sl_trim(sl_take_token(&line, '='));
        if (sl_is_nocase(name, "Signal"))
            return dtmf_key(line);
    }
    return 0;
}

static void on_request(struct dialog *d, bool confirmed, const struct l4_meta *m,
                       const struct sip_msg *msg)
{
    switch (msg->method_id) {
    case SIP_M_INVITE:
        /* A new initial INVITE on an open early dialog is the same call
         * tried again, typically with credentials after a 401/407 (§22.2)
         * with a higher CSeq (§8.1.3.5). A re-INVITE (To tag) only counts. */
        if (!confirmed && sl_empty(msg->to.tag) && msg->cseq.seq > d->invite_cseq) {
            d->invite_cseq = msg->cseq.seq;
            if (d->invites < UINT32_MAX)
                d->invites++;
            if (d->phase == DLG_FAILED) {
                d->phase = DLG_CALLING;
                d->final_status = 0;
                d->end_us = 0;
            }
        }
        if (sl_empty(st_sl(d->user_agent)) && ip_eq(&m->src, &d->src))
            st_set(d->user_agent, msg->user_agent);
        break;
    case SIP_M_CANCEL:
        if (!confirmed && !d->cancel_seen) {
            d->cancel_seen = true;
            d->cancel_us = m->ts_us;
        }
        break;
    case SIP_M_INFO: {
        char key = dlg_info_dtmf(msg->content_type, msg->body);
        if (key)
            add_dtmf(d, key);
        break;
    }
    case SIP_M_BYE:
        if (!d->bye_seen) {
            d->bye_seen = true;
            d->bye_us = m->ts_us;
        }
        break;
    default:
        break;
    }
}

static void on_response(struct dlgs *x, struct dialog *d, bool confirmed, const struct st_key *k,
                        const struct l4_meta *m, const struct sip_msg *msg)
{
    uint16_t code = msg->status;
    if (msg->cseq.method_id == SIP_M_INVITE && !confirmed && msg->cseq.seq == d->invite_cseq) {
        if (code < 200) {
            uint8_t p = code == 100 ? DLG_TRYING : DLG_RINGING;
            if (d->phase < p)
                d->phase = p;
        } else if (code < 300) {
            d->phase = DLG_ANSWERED;
            d->answer_us = m->ts_us;
            d->final_status = code;
            st_set(d->to_tag, msg->to.tag);
            d->callee = m->src;
            d->callee_port = m->sport;
            /* A CANCEL that lost the race with the 2xx ends nothing (§9.1);
             * a BYE sent before the answer is not a hang-up of this call. */
            d->cancel_seen = false;
            d->bye_seen = false;
            d->bye_us = 0;
            confirm(x, d, k, m->ts_us);
        } else {
            d->phase = DLG_FAILED;
            d->final_status = code;
            d->end_us = m->ts_us;
            /* 487 answers a CANCEL (§9.2): the call is over, emit now. */
            if (code == 487 || d->cancel_seen || d->bye_seen) {
                emit(x, d);
                table_del(x->early, d);
            }
        }
        return;
    }
    if (msg->cseq.method_id == SIP_M_BYE && confirmed && d->bye_seen && code >= 200) {
        /* §15.1.1: a 2xx, or a 481/408, and the UAC considers the session
         * over. Other errors (a 401/407 challenge, a 403) leave it up; the
         * next BYE starts the clock again. */
        if (code < 300 || code == 481 || code == 408) {
            emit(x, d);
            table_del(x->confirmed, d);
        } else {
            d->bye_seen = false;
            d->bye_us = 0;
        }
    }
}

void dlg_on_msg(struct dlgs *x, const struct l4_meta *m, const struct sip_msg *msg,
                const struct txn_ref *tx)
{
    if (sl_empty(msg->call_id) || !msg->has_cseq)
        return;
    struct st_key k = callid_key(msg->call_id);
    bool confirmed = true;
    struct dialog *d = table_get(x->confirmed, &k, sizeof k, m->ts_us);
    if (!d) {
        confirmed = false;
        d = table_get(x->early, &k, sizeof k, m->ts_us);
    }
    if (msg->is_request && (msg->method_id == SIP_M_BYE || msg->method_id == SIP_M_CANCEL) &&
        !tx->retransmission && x->out.obs && x->out.obs->teardown)
        x->out.obs->teardown(x->out.obs->ctx, m, msg, d);
    if (!d) {
        /* Only an initial INVITE (no To tag, §12.1) creates a call; a
         * retransmission of one whose call already ended does not. */
        if (!msg->is_request || msg->method_id != SIP_M_INVITE || !sl_empty(msg->to.tag) ||
            tx->retransmission)
            return;
        d = table_put(x->early, &k, sizeof k, m->ts_us, NULL);
        if (!d)
            return;
        init_call(d, m, msg);
        x->calls++;
        return;
    }
    if (d->messages < UINT32_MAX)
        d->messages++;
    if (m->ts_us > d->last_us)
        d->last_us = m->ts_us;
    if (tx->retransmission || tx->stray) /* a stray response answers nothing (txn.c) */
        return;
    if (msg->is_request)
        on_request(d, confirmed, m, msg);
    else
        on_response(x, d, confirmed, &k, m, msg);
}

/* The open call with this Call-ID, confirmed first; its LRU place is kept
 * (media does not keep a silent dialog alive). */
static struct dialog *find_call(struct dlgs *x, struct slice call_id)
{
    if (sl_empty(call_id))
        return NULL;
    struct st_key k = callid_key(call_id);
    struct dialog *d = table_peek(x->confirmed, &k, sizeof k);
    return d ? d : table_peek(x->early, &k, sizeof k);
}

void dlg_on_stream(struct dlgs *x, struct slice call_id, uint64_t stream_id)
{
    struct dialog *d = find_call(x, call_id);
    if (!d)
        return;
    if (d->n_streams < DLG_MAX_STREAMS)
        d->streams[d->n_streams++] = stream_id;
    else if (d->streams_dropped < UINT32_MAX)
        d->streams_dropped++;
}

void dlg_on_dtmf(struct dlgs *x, struct slice call_id, char key)
{
    struct dialog *d = find_call(x, call_id);
    if (d)
        add_dtmf(d, key);
}

void dlg_expire(struct dlgs *x, uint64_t now_us)
{
    table_expire(x->early, now_us);
    table_expire(x->confirmed, now_us);
}

void dlg_flush(struct dlgs *x)
{
    table_flush(x->early);
    table_flush(x->confirmed);
}

uint64_t dlg_calls(const struct dlgs *x) { return x->calls; }
const struct table *dlg_table_early(const struct dlgs *x) { return x->early; }
const struct table *dlg_table_confirmed(const struct dlgs *x) { return x->confirmed; }
