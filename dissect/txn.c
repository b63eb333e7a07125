/*
 * txn.c - transaction matching (RFC 3261 §17.1.3, §17.2.3) and
 * retransmission detection for a passive observer. Keys only, no events:
 * the transaction table tells the rest of the state what belongs together.
 */
#include "dissect/txn.h"

#include <stdlib.h>

struct txns {
    struct table *t;
    uint64_t window_us; /* how late a resend may come after the first copy (0: any time) */
};

struct txns *txn_new(uint32_t capacity, uint64_t idle_us)
{
    struct txns *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    struct table_cfg c = {
        .name = "transactions",
        .capacity = capacity,
        .value_size = sizeof(struct txn),
        .key_max = sizeof(struct st_key),
        .idle_us = idle_us,
    };
    x->t = table_new(&c);
    x->window_us = idle_us;
    if (!x->t) {
        free(x);
        return NULL;
    }
    return x;
}

void txn_free(struct txns *x)
{
    if (!x)
        return;
    table_free(x->t);
    free(x);
}

/*
 * The key of the transaction msg belongs to, as if its method were
 * `method`. RFC 3261 §17.2.3: a branch starting with the magic cookie
 * z9hG4bK is unique per transaction together with the sent-by of the top
 * Via and the method. Without the cookie (RFC 2543 peers) the RFC falls back
 * to Request-URI, tags, Call-ID, CSeq and top Via; responses carry no
 * Request-URI, so the key here is Call-ID + CSeq number + method + From tag
 * + top Via sent-by, which requests and their responses share.
 */
static bool key_for(const struct sip_msg *msg, uint8_t method, struct slice method_name,
                    struct st_key *key, bool *rfc2543)
{
    struct st_keybuf kb;
    st_kb_init(&kb);
    struct slice br = msg->via.branch;
    if (br.n > 7 && sl_starts_lit(br, "z9hG4bK")) {
        *rfc2543 = false;
        st_kb_u32(&kb, 3261);
        st_kb_add(&kb, br);
    } else {
        if (sl_empty(msg->call_id))
            return false;
        *rfc2543 = true;
        st_kb_u32(&kb, 2543);
        st_kb_add(&kb, msg->call_id);
        st_kb_u32(&kb, msg->cseq.seq);
        st_kb_add(&kb, msg->from.tag);
    }
    st_kb_add(&kb, msg->via.host);
    st_kb_u32(&kb, msg->via.has_port ? msg->via.port : 0);
    st_kb_u32(&kb, method);
    if (method == SIP_M_UNKNOWN) /* extension methods are told apart by name */
        st_kb_add(&kb, method_name);
    *key = st_kb_key(&kb);
    return true;
}

/*
 * What must be equal for a request to be a resend of another on the same key
 * (RFC 3261 §17.1.1.2: the client retransmits the request itself). Keyed, so
 * a guess cannot be made to collide with the one before; the fields are the
 * ones a scanner varies (target, user, CSeq, credentials), not the whole
 * message, to keep this cheap on every request.
 */
static uint64_t request_fp(const struct sip_msg *msg)
{
    struct st_keybuf kb;
    st_kb_init(&kb);
    st_kb_add(&kb, msg->start_line);
    st_kb_add(&kb, msg->to.uri.raw);
    st_kb_add(&kb, msg->from.uri.raw);
    st_kb_u32(&kb, msg->cseq.seq);
    st_kb_u32(&kb, (uint32_t)(msg->raw.n > UINT32_MAX ? UINT32_MAX : msg->raw.n));
    const struct sip_header *a = st_header(msg, SIP_H_AUTHORIZATION, 0);
    const struct sip_header *pa = st_header(msg, SIP_H_PROXY_AUTHORIZATION, 0);
    st_kb_add(&kb, a ? a->value : SL_NULL);
    st_kb_add(&kb, pa ? pa->value : SL_NULL);
    return st_kb_key(&kb).h[0];
}

static bool same_direction(const struct txn *t, const struct l4_meta *m)
{
    return ip_eq(&t->src, &m->src) && ip_eq(&t->dst, &m->dst) && t->sport == m->sport &&
           t->dport == m->dport;
}

void txn_on_msg(struct txns *x, const struct l4_meta *m, const struct sip_msg *msg,
                struct txn_ref *out)
{
    memset(out, 0, sizeof *out);
    out->part = TXN_MAIN;
    if (!msg->has_cseq)
        return;
    uint8_t meth = msg->cseq.method_id;
    bool r2543 = false;
    struct st_key k;
    if (meth == SIP_M_ACK || meth == SIP_M_CANCEL) {
        /* An ACK for a non-2xx and a CANCEL reuse the INVITE's branch; an
         * ACK for a 2xx has a branch of its own (§13.2.2.4, §17.1.1.3). */
        if (key_for(msg, SIP_M_INVITE, SL_LIT("INVITE"), &k, &r2543) &&
            table_peek(x->t, &k, sizeof k))
            out->part = meth == SIP_M_ACK ? TXN_ACK : TXN_CANCEL;
        else if (!key_for(msg, meth, msg->cseq.method, &k, &r2543))
            return;
    } else if (!key_for(msg, meth, msg->cseq.method, &k, &r2543)) {
        return;
    }

    bool created;
    struct txn *t = table_put(x->t, &k, sizeof k, m->ts_us, &created);
    if (!t)
        return;
    if (created) {
        t->method = out->part == TXN_MAIN ? meth : SIP_M_INVITE;
        t->rfc2543 = r2543;
    }
    out->t = t;
    out->key = k;
    struct txn_part_state *ps = &t->part[out->part];

    if (msg->is_request) {
        if (out->part == TXN_MAIN) {
            /* §17.2.1/§17.2.2: the client resends the same request on the
             * same transaction; the same request seen going the same way
             * again is a retransmission (a proxy's copy has its own Via). */
            uint64_t fp = request_fp(msg);
            if (t->have_request) {
                if (same_direction(t, m)) {
                    bool in_time = x->window_us == 0 || m->ts_us <= t->req_us ||
                                   m->ts_us - t->req_us <= x->window_us;
                    if (fp == t->req_fp && in_time) {
                        out->retransmission = true;
                    } else {
                        /* The key reused by another request (a scanner's
                         * constant branch) or a copy too late to be a resend:
                         * counted as a new request, with fresh responses. */
                        out->restarted = true;
                        t->req_us = m->ts_us;
                        t->req_fp = fp;
                        memset(t->part, 0, sizeof t->part);
                    }
                }
            } else {
                t->have_request = true;
                t->req_us = m->ts_us;
                t->req_fp = fp;
                t->src = m->src;
                t->dst = m->dst;
                t->sport = m->sport;
                t->dport = m->dport;
                t->proto = m->proto;
            }
        } else {
            out->retransmission = ps->requests > 0;
        }
        if (ps->requests < UINT32_MAX)
            ps->requests++;
        return;
    }

    /* A response goes back to the request's sender (§18.2.2, RFC 3581). One
     * going elsewhere (a final response an attacker forges at the server to
     * close its own attempt before the real 200) answers nothing here. */
    if (t->have_request && !ip_eq(&m->dst, &t->src)) {
        out->t = NULL;
        out->stray = true;
        return;
    }

    /* Responses: the server transaction resends its last response for each
     * retransmitted request (§17.2.1, §17.2.2), and a UAS resends a 2xx until
     * the ACK (§13.3.1.4): the same code with the same To tag again is a
     * retransmission. Forked 2xx carry different To tags (§12.1.2). */
    if (ps->responses < UINT32_MAX)
        ps->responses++;
    uint32_t th = msg->to.tag.n ? (uint32_t)table_hash(msg->to.tag.p, msg->to.tag.n) : 0;
    for (unsigned i = 0; i < ps->n_status; i++)
        if (ps->status[i] == msg->status && ps->totag_h[i] == th)
            out->retransmission = true;
    if (!out->retransmission && ps->n_status < TXN_MAX_STATUSES) {
        ps->status[ps->n_status] = msg->status;
        ps->totag_h[ps->n_status] = th;
        ps->n_status++;
    }
    if (msg->status >= 200 && !ps->final_status) {
        ps->final_status = msg->status;
        ps->final_us = m->ts_us;
    }
}

void txn_expire(struct txns *x, uint64_t now_us) { table_expire(x->t, now_us); }
void txn_flush(struct txns *x) { table_flush(x->t); }
const struct table *txn_table(const struct txns *x) { return x->t; }
