/*
 * state.c - the state stage's entry point: owns the tables of every state
 * module and the sinks array, orders the work for each message (transaction
 * first, so every event knows whether it is a retransmission), drives expiry
 * by capture time, and flushes everything at the end. No protocol rules here:
 * they live in txn.c, dialog.c, reg.c, auth.c and rules/profile.c.
 */
#include "dissect/state.h"

#include <stdio.h>
#include <stdlib.h>

#include "dissect/auth.h"
#include "dissect/dialog.h"
#include "dissect/reg.h"
#include "dissect/txn.h"
#include "lib/table.h"
#include "rules/profile.h"

#define SEC_US 1000000ull
#define T1_US  (500 * 1000ull) /* RFC 3261 §17.1.1.1 */

struct state {
    struct state_cfg cfg;
    struct st_sinks out;
    struct st_observer obs;
    struct txns *txn;
    struct dlgs *dlg;
    struct regs *reg;
    struct auths *auth;
    struct src_profiles *src;
    uint64_t messages;
};

void state_default_cfg(struct state_cfg *c)
{
    *c = (struct state_cfg){
        .max_transactions = 262144,
        .max_dialogs = 131072,
        .max_registrations = 65536,
        .max_nonces = 65536,
        .max_auth_pending = 32768,
        .max_sources = 65536,
        .max_source_pairs = 262144,
        .txn_idle_us = 64 * T1_US,
        .dialog_idle_unanswered_us = 180 * SEC_US,
        .dialog_idle_answered_us = 2 * 3600 * SEC_US,
        .reg_idle_us = 64 * T1_US,
        .auth_idle_us = 64 * T1_US,
        .nonce_idle_us = 15 * 60 * SEC_US,
        .source_idle_us = 0,
    };
}

struct state *state_new(const struct state_cfg *cfg, struct sink *sinks, unsigned n_sinks,
                        const struct st_observer *obs)
{
    struct state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->cfg = *cfg;
    if (obs)
        st->obs = *obs;
    st->out.obs = &st->obs;
    if (n_sinks) {
        st->out.v = calloc(n_sinks, sizeof *st->out.v);
        if (!st->out.v) {
            free(st);
            return NULL;
        }
        memcpy(st->out.v, sinks, n_sinks * sizeof *sinks);
        st->out.n = n_sinks;
    }
    st->txn = txn_new(cfg->max_transactions, cfg->txn_idle_us);
    st->dlg = dlg_new(cfg, &st->out);
    st->reg = reg_new(cfg, &st->out);
    st->src = src_new(cfg, &st->out);
    st->auth = st->src ? auth_new(cfg, &st->out, st->src) : NULL;
    if (!st->txn || !st->dlg || !st->reg || !st->src || !st->auth) {
        state_free(st);
        return NULL;
    }
    return st;
}

void state_free(struct state *st)
{
    if (!st)
        return;
    auth_free(st->auth);
    reg_free(st->reg);
    dlg_free(st->dlg);
    src_free(st->src);
    txn_free(st->txn);
    free(st->out.v);
    free(st);
}

/* A response to an enumeration probe that shows the user exists: a
 * challenge means the registrar knows the user, a 2xx to REGISTER or INVITE
 * that it took it (ATTACKS.md). A 2xx to OPTIONS is left out: any host
 * answers OPTIONS itself (§11.2), so a sweep would "find" its probe user. */
static void user_found(struct state *st, const struct l4_meta *m, const struct sip_msg *msg,
                       const struct txn_ref *tx)
{
    uint8_t meth = msg->cseq.method_id;
    uint16_t code = msg->status;
    bool challenge = code == 401 || code == 407;
    bool ok = code >= 200 && code < 300;
    if (tx->retransmission || tx->stray || tx->part != TXN_MAIN || !(challenge || ok))
        return;
    if (!(meth == SIP_M_REGISTER || meth == SIP_M_INVITE || (meth == SIP_M_OPTIONS && challenge)))
        return;
    /* The requester is who sent the request; without it, where the
     * response goes. */
    const struct ip_addr *who = tx->t && tx->t->have_request ? &tx->t->src : &m->dst;
    src_on_user_found(st->src, who, msg->to.uri.user, m->ts_us);
}

void state_on_sip(struct state *st, const struct l4_meta *m, const struct sip_msg *msg)
{
    struct txn_ref tx;
    txn_on_msg(st->txn, m, msg, &tx);

    struct ev_sip e = { .m = m, .msg = msg, .id = ++st->messages,
                        .retransmission = tx.retransmission };
    for (unsigned i = 0; i < st->out.n; i++)
        if (st->out.v[i].ops && st->out.v[i].ops->sip)
            st->out.v[i].ops->sip(st->out.v[i].self, &e);

    /* A start line that did not parse gives nothing to follow. */
    if (msg->is_request ? sl_empty(msg->method) : (msg->status < 100 || msg->status > 699)) {
        if (st->obs.sip)
            st->obs.sip(st->obs.ctx, &e);
        return;
    }
    if (msg->is_request) {
        src_on_request(st->src, m, msg, tx.retransmission);
        dlg_on_msg(st->dlg, m, msg, &tx);
        reg_on_request(st->reg, m, msg, &tx);
        auth_on_request(st->auth, m, msg, &tx);
    } else {
        dlg_on_msg(st->dlg, m, msg, &tx);
        reg_on_response(st->reg, m, msg, &tx);
        auth_on_response(st->auth, m, msg, &tx);
        user_found(st, m, msg, &tx);
    }
    if (st->obs.sip)
        st->obs.sip(st->obs.ctx, &e);
}

void state_on_rtp_start(struct state *st, const struct media_stream *s)
{
    if (s->call_id[0])
        dlg_on_stream(st->dlg, sl_cstr(s->call_id), s->id);
}

void state_on_dtmf(struct state *st, struct slice call_id, char key, uint64_t ts_us)
{
    (void)ts_us; /* keys arrive in capture order: appending keeps time order */
    dlg_on_dtmf(st->dlg, call_id, key);
}

void state_on_rtp_end(struct state *st, const struct media_stream *s)
{
    struct ev_rtp e = { .s = s };
    for (unsigned i = 0; i < st->out.n; i++)
        if (st->out.v[i].ops && st->out.v[i].ops->rtp)
            st->out.v[i].ops->rtp(st->out.v[i].self, &e);
}

void state_tick(struct state *st, uint64_t now_us)
{
    auth_expire(st->auth, now_us);
    reg_expire(st->reg, now_us);
    dlg_expire(st->dlg, now_us);
    src_expire(st->src, now_us);
    txn_expire(st->txn, now_us);
    if (st->obs.tick)
        st->obs.tick(st->obs.ctx, now_us);
    for (unsigned i = 0; i < st->out.n; i++)
        if (st->out.v[i].ops && st->out.v[i].ops->tick)
            st->out.v[i].ops->tick(st->out.v[i].self, now_us);
}

void state_finish(struct state *st)
{
    auth_flush(st->auth);
    reg_flush(st->reg);
    dlg_flush(st->dlg);
    src_flush(st->src);
    txn_flush(st->txn);
}

void state_emit_sources(struct state *st) { src_emit_all(st->src); }

struct src_profiles *state_profiles(struct state *st) { return st->src; }

uint64_t state_last_sip_id(const struct state *st) { return st->messages; }

int state_limits_json(const struct state *st, char *buf, size_t n)
{
    const struct table *tabs[] = {
        txn_table(st->txn),
        dlg_table_early(st->dlg),
        dlg_table_confirmed(st->dlg),
        reg_table(st->reg),
        auth_nonce_table(st->auth),
        auth_pending_table(st->auth),
        src_table(st->src),
        src_targets_table(st->src),
        src_users_table(st->src),
    };
    if (n)
        buf[0] = '{';
    int k = table_stats_json(tabs, sizeof tabs / sizeof tabs[0], n > 1 ? buf + 1 : NULL, n > 1 ? n - 1 : 0);
    if (k < 0)
        return -1;
    size_t used = 1 + (size_t)k;
    if (used + 1 < n) {
        buf[used] = '}';
        buf[used + 1] = '\0';
    }
    return used + 1 > INT32_MAX ? -1 : (int)(used + 1);
}

/* ---- Shared helpers of the state modules ------------------------------ */

static void kb_put(struct st_keybuf *kb, const void *p, size_t n)
{
    if (kb->n + n > ST_KEY_BUF)
        return;
    memcpy(kb->b + kb->n, p, n);
    kb->n += n;
}

void st_kb_u32(struct st_keybuf *kb, uint32_t v) { kb_put(kb, &v, sizeof v); }

void st_kb_add(struct st_keybuf *kb, struct slice field)
{
    uint64_t h = table_hash(field.p ? field.p : (const uint8_t *)"", field.n);
    uint32_t len = field.n > UINT32_MAX ? UINT32_MAX : (uint32_t)field.n;
    kb_put(kb, &len, sizeof len);
    kb_put(kb, &h, sizeof h);
}

struct st_key st_kb_key(struct st_keybuf *kb)
{
    struct st_key k;
    k.h[0] = table_hash(kb->b, kb->n);
    kb->b[kb->n] = 0xa5; /* a second, independent hash: 128 bits in all */
    k.h[1] = table_hash(kb->b, kb->n + 1);
    return k;
}

#define EMIT(o, fn, e)                                                \
    do {                                                              \
        for (unsigned i_ = 0; i_ < (o)->n; i_++)                      \
            if ((o)->v[i_].ops && (o)->v[i_].ops->fn)                 \
                (o)->v[i_].ops->fn((o)->v[i_].self, (e));             \
    } while (0)

void st_emit_call(const struct st_sinks *o, const struct ev_call *e)
{
    if (o->obs && o->obs->call)
        o->obs->call(o->obs->ctx, e);
    EMIT(o, call, e);
}

void st_emit_registration(const struct st_sinks *o, const struct ev_registration *e)
{
    if (o->obs && o->obs->registration)
        o->obs->registration(o->obs->ctx, e);
    EMIT(o, registration, e);
}

void st_emit_auth(const struct st_sinks *o, struct ev_auth *e)
{
    if (o->obs && o->obs->auth)
        o->obs->auth(o->obs->ctx, e);
    EMIT(o, auth, e);
}
void st_emit_source(const struct st_sinks *o, const struct ev_source *e) { EMIT(o, source, e); }

const struct sip_header *st_header(const struct sip_msg *msg, uint8_t id, unsigned nth)
{
    if (id >= SIP_H__COUNT || !msg->first[id])
        return NULL;
    unsigned n = msg->n_hdr < SIP_MAX_HEADERS ? msg->n_hdr : SIP_MAX_HEADERS;
    for (unsigned i = msg->first[id] - 1u; i < n; i++)
        if (msg->hdr[i].id == id && nth-- == 0)
            return &msg->hdr[i];
    return NULL;
}
