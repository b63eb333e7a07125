/*
 * auth.c - digest challenges and credentials (RFC 3261 §22.2-§22.4): which
 * nonce was issued when and by whom, and what became of each request that
 * answered one. Does not check responses against passwords.
 */
#include "dissect/auth.h"

#include <stdlib.h>

#include "dissect/digest.h"

struct auths {
    struct table *nonces;  /* nonce -> struct auth_challenge */
    struct table *pending; /* transaction key -> struct auth_attempt */
    struct st_sinks out;
    struct src_profiles *profiles;
};

static struct st_key nonce_key(struct slice nonce)
{
    struct st_keybuf kb;
    st_kb_init(&kb);
    st_kb_add(&kb, nonce);
    return st_kb_key(&kb);
}

static void emit(struct auths *a, const struct auth_attempt *t, uint16_t status,
                 const char *result)
{
    struct ev_auth e = {
        .ts_us = t->ts_us,
        .src = t->src,
        .dst = t->dst,
        .sport = t->sport,
        .dport = t->dport,
        .proto = t->proto,
        .method = st_sl(t->method),
        .call_id = st_sl(t->call_id),
        .header = t->proxy ? "Proxy-Authorization" : "Authorization",
        .scheme = st_sl(t->scheme),
        .username = st_sl(t->username),
        .realm = st_sl(t->realm),
        .nonce = st_sl(t->nonce),
        .uri = st_sl(t->uri),
        .response = st_sl(t->response),
        .algorithm = st_sl(t->algorithm),
        .qop = st_sl(t->qop),
        .nc = st_sl(t->nc),
        .cnonce = st_sl(t->cnonce),
        .opaque = st_sl(t->opaque),
        .challenge_us = t->challenge_us,
        .status = status,
        .result = result,
        .password = SL_NULL,
    };
    st_emit_auth(&a->out, &e);
}

/* An attempt that leaves unanswered (expiry, eviction, end of run). */
static void on_remove_pending(void *ctx, void *value, enum table_why why)
{
    if (why != TABLE_REMOVED)
        emit(ctx, value, 0, "no_response");
}

struct auths *auth_new(const struct state_cfg *cfg, const struct st_sinks *out,
                       struct src_profiles *profiles)
{
    struct auths *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->out = *out;
    a->profiles = profiles;
    struct table_cfg c = {
        .name = "nonces",
        .capacity = cfg->max_nonces,
        .value_size = sizeof(struct auth_challenge),
        .key_max = sizeof(struct st_key),
        .idle_us = cfg->nonce_idle_us,
    };
    a->nonces = table_new(&c);
    c = (struct table_cfg){
        .name = "auth_pending",
        .capacity = cfg->max_auth_pending,
        .value_size = sizeof(struct auth_attempt),
        .key_max = sizeof(struct st_key),
        .idle_us = cfg->auth_idle_us,
        .on_remove = on_remove_pending,
        .ctx = a,
    };
    a->pending = table_new(&c);
    if (!a->nonces || !a->pending) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(struct auths *a)
{
    if (!a)
        return;
    table_free(a->nonces);
    table_free(a->pending);
    free(a);
}

void auth_on_request(struct auths *a, const struct l4_meta *m, const struct sip_msg *msg,
                     const struct txn_ref *tx)
{
    /* ACK and CANCEL get no response of their own to judge (§17.1.1.3, §9.1). */
    if (!tx->t || tx->part != TXN_MAIN || tx->retransmission || msg->method_id == SIP_M_ACK ||
        msg->method_id == SIP_M_CANCEL)
        return;
    bool proxy = false;
    const struct sip_header *h = st_header(msg, SIP_H_AUTHORIZATION, 0);
    if (!h) {
        h = st_header(msg, SIP_H_PROXY_AUTHORIZATION, 0);
        proxy = true;
    }
    struct sip_digest d;
    if (!h || !sip_digest_parse(h->value, &d))
        return;
    bool created;
    struct auth_attempt *t = table_put(a->pending, &tx->key, sizeof tx->key, m->ts_us, &created);
    if (!t || (!created && !tx->restarted)) /* the same attempt again */
        return;
    if (!created) {
        /* Another request reused the key before this one was answered (a
         * guesser that keeps its branch): the earlier guess ends unanswered. */
        emit(a, t, 0, "no_response");
        memset(t, 0, sizeof *t);
    }
    t->ts_us = m->ts_us;
    t->src = m->src;
    t->dst = m->dst;
    t->sport = m->sport;
    t->dport = m->dport;
    t->proto = m->proto;
    t->proxy = proxy;
    st_set(t->method, msg->method);
    st_set(t->call_id, msg->call_id);
    st_set(t->scheme, d.scheme);
    st_set(t->username, d.username);
    st_set(t->realm, d.realm);
    st_set(t->nonce, d.nonce);
    st_set(t->uri, d.uri);
    st_set(t->response, d.response);
    st_set(t->algorithm, d.algorithm);
    st_set(t->qop, d.qop);
    st_set(t->nc, d.nc);
    st_set(t->cnonce, d.cnonce);
    st_set(t->opaque, d.opaque);
    if (!sl_empty(d.nonce)) {
        struct st_key k = nonce_key(d.nonce);
        const struct auth_challenge *c = table_get(a->nonces, &k, sizeof k, m->ts_us);
        if (c)
            t->challenge_us = c->ts_us;
    }
    src_on_auth_attempt(a->profiles, &m->src, d.username, d.realm, m->ts_us);
}

/* Remember the challenges of a 401 (WWW-Authenticate) or 407
 * (Proxy-Authenticate, §22.3); true when one says stale=true (RFC 2617
 * §3.2.1: the credentials were right, only the nonce was old). */
static bool store_challenges(struct auths *a, const struct l4_meta *m, const struct sip_msg *msg)
{
    uint8_t id = msg->status == 401 ? SIP_H_WWW_AUTHENTICATE : SIP_H_PROXY_AUTHENTICATE;
    bool stale = false;
    const struct sip_header *h;
    for (unsigned i = 0; (h = st_header(msg, id, i)) != NULL; i++) {
        struct sip_digest d;
        if (!sip_digest_parse(h->value, &d) || sl_empty(d.nonce))
            continue;
        bool is_stale = sl_is_nocase(sl_trim(d.stale), "true");
        stale = stale || is_stale;
        struct st_key k = nonce_key(d.nonce);
        struct auth_challenge *c = table_put(a->nonces, &k, sizeof k, m->ts_us, NULL);
        if (!c)
            continue;
        c->ts_us = m->ts_us;
        c->server = m->src;
        c->server_port = m->sport;
        c->status = msg->status;
        c->stale = is_stale;
        st_set(c->realm, d.realm);
        st_set(c->opaque, d.opaque);
        st_set(c->algorithm, d.algorithm);
        st_set(c->qop, d.qop);
    }
    return stale;
}

void auth_on_response(struct auths *a, const struct l4_meta *m, const struct sip_msg *msg,
                      const struct txn_ref *tx)
{
    if (tx->retransmission || tx->stray)
        return;
    bool stale = false;
    if (msg->status == 401 || msg->status == 407)
        stale = store_challenges(a, m, msg);
    if (msg->status < 200 || !tx->t || tx->part != TXN_MAIN)
        return;
    struct auth_attempt *t = table_peek(a->pending, &tx->key, sizeof tx->key);
    if (!t)
        return;
    uint16_t code = msg->status;
    bool accepted = code >= 200 && code < 300;
    bool challenged = (code == 401 || code == 407) && stale;
    emit(a, t, code, accepted ? "accepted" : challenged ? "challenged" : "rejected");
    /* Only a challenge or a refusal after credentials is a failed guess;
     * a 404 or 5xx says nothing about the password. */
    bool failure = !accepted && !challenged && (code == 401 || code == 403 || code == 407);
    src_on_auth_result(a->profiles, &t->src, st_sl(t->username), st_sl(t->realm), accepted,
                       failure, m->ts_us);
    table_del(a->pending, t);
}

void auth_expire(struct auths *a, uint64_t now_us)
{
    table_expire(a->pending, now_us);
    table_expire(a->nonces, now_us);
}

void auth_flush(struct auths *a)
{
    table_flush(a->pending);
    table_flush(a->nonces);
}

const struct table *auth_nonce_table(const struct auths *a) { return a->nonces; }
const struct table *auth_pending_table(const struct auths *a) { return a->pending; }
