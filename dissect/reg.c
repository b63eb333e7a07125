/*
 * reg.c - REGISTER transactions (RFC 3261 §10.2, §10.3): what was asked
 * (AOR, Contact, expiry, credentials or not) and how the registrar answered.
 * One entry per transaction, keyed like the transaction; emitted once.
 */
#include "dissect/reg.h"

#include <stdlib.h>

struct regs {
    struct table *t;
    struct st_sinks out;
};

static const char *result_of(const struct registration *g, uint16_t status)
{
    if (status == 0)
        return "no_response";
    if (status >= 200 && status < 300)
        /* §10.2.2: Contact * or an expiry of 0 removes bindings; a 2xx to
         * a REGISTER without Contact (a query, §10.2.3) lists them. */
        return g->contact_star || g->expires == 0 ? "unregistered" : "registered";
    if (status == 401 || status == 407)
        return "challenged";
    return "failed";
}

static void emit(struct regs *x, const struct registration *g, uint16_t status, uint64_t resp_us)
{
    struct ev_registration e = {
        .ts_us = g->ts_us,
        .resp_us = resp_us,
        .src = g->src,
        .dst = g->dst,
        .sport = g->sport,
        .dport = g->dport,
        .proto = g->proto,
        .aor = st_sl(g->aor),
        .user = st_sl(g->user),
        .contact = g->contact_star ? SL_LIT("*") : st_sl(g->contact),
        .user_agent = st_sl(g->user_agent),
        .call_id = st_sl(g->call_id),
        .expires = g->expires,
        .status = status,
        .authenticated = g->authenticated,
        .result = result_of(g, status),
    };
    st_emit_registration(&x->out, &e);
}

static void on_remove(void *ctx, void *value, enum table_why why)
{
    if (why != TABLE_REMOVED)
        emit(ctx, value, 0, 0);
}

struct regs *reg_new(const struct state_cfg *cfg, const struct st_sinks *out)
{
    struct regs *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->out = *out;
    struct table_cfg c = {
        .name = "registrations",
        .capacity = cfg->max_registrations,
        .value_size = sizeof(struct registration),
        .key_max = sizeof(struct st_key),
        .idle_us = cfg->reg_idle_us,
        .on_remove = on_remove,
        .ctx = x,
    };
    x->t = table_new(&c);
    if (!x->t) {
        free(x);
        return NULL;
    }
    return x;
}

void reg_free(struct regs *x)
{
    if (!x)
        return;
    table_free(x->t);
    free(x);
}

uint32_t reg_expires_of(const struct sip_msg *msg)
{
    struct slice v;
    uint32_t e;
    if (msg->has_contact && !msg->contact.star &&
        sip_param_get(msg->contact.params, SL_LIT("expires"), &v) && sl_to_u32(sl_trim(v), &e))
        return e;
    if (msg->has_expires)
        return msg->expires;
    return UINT32_MAX;
}

void reg_on_request(struct regs *x, const struct l4_meta *m, const struct sip_msg *msg,
                    const struct txn_ref *tx)
{
    if (!tx->t || tx->part != TXN_MAIN || msg->method_id != SIP_M_REGISTER)
        return;
    /* A retransmission keeps an open transaction alive; one arriving after
     * the final response (already emitted) starts nothing. */
    if (tx->retransmission) {
        table_get(x->t, &tx->key, sizeof tx->key, m->ts_us);
        return;
    }
    bool created;
    struct registration *g = table_put(x->t, &tx->key, sizeof tx->key, m->ts_us, &created);
    if (!g || (!created && !tx->restarted))
        return;
    if (!created) {
        /* A different REGISTER reused the key before this one was answered:
         * the earlier one ends unanswered, the new one is followed. */
        emit(x, g, 0, 0);
        memset(g, 0, sizeof *g);
    }
    g->ts_us = m->ts_us;
    g->src = m->src;
    g->dst = m->dst;
    g->sport = m->sport;
    g->dport = m->dport;
    g->proto = m->proto;
    g->authenticated = msg->first[SIP_H_AUTHORIZATION] || msg->first[SIP_H_PROXY_AUTHORIZATION];
    g->has_contact = msg->has_contact;
    g->contact_star = msg->has_contact && msg->contact.star;
    g->expires = reg_expires_of(msg);
    st_set(g->aor, msg->to.uri.raw);
    st_set(g->user, msg->to.uri.user);
    if (msg->has_contact && !msg->contact.star)
        st_set(g->contact, msg->contact.uri.raw);
    st_set(g->user_agent, msg->user_agent);
    st_set(g->call_id, msg->call_id);
}

void reg_on_response(struct regs *x, const struct l4_meta *m, const struct sip_msg *msg,
                     const struct txn_ref *tx)
{
    if (!tx->t || tx->part != TXN_MAIN || msg->status < 200 ||
        msg->cseq.method_id != SIP_M_REGISTER)
        return;
    struct registration *g = table_peek(x->t, &tx->key, sizeof tx->key);
    if (!g)
        return; /* request not seen, or already completed (a retransmitted response) */
    emit(x, g, msg->status, m->ts_us);
    table_del(x->t, g);
}

void reg_expire(struct regs *x, uint64_t now_us) { table_expire(x->t, now_us); }
void reg_flush(struct regs *x) { table_flush(x->t); }
const struct table *reg_table(const struct regs *x) { return x->t; }
