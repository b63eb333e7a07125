/*
 * rule_match.c - one rule against one SIP message, on slices only (values
 * may hold NULs). Content chains follow Suricata's semantics: offset/depth
 * are absolute, distance/within relative to the previous match's end, a
 * relative miss retries the previous content at its next occurrence, and a
 * negated content found ends the buffer's inspection.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/rule_match.h"

#include <netinet/in.h>
#include <pcre2.h>
#include <stdlib.h>

struct rule_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

struct rule_scratch *rule_scratch_new(void)
{
    struct rule_scratch *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->md = pcre2_match_data_create(1, NULL);
    s->mctx = pcre2_match_context_create(NULL);
    if (!s->md || !s->mctx) {
        rule_scratch_free(s);
        return NULL;
    }
    /* Bounded work per regex and message, as Suricata bounds it (pcre.match-limit). */
    pcre2_set_match_limit(s->mctx, RULE_PCRE_MATCH_LIMIT);
    pcre2_set_depth_limit(s->mctx, RULE_PCRE_DEPTH_LIMIT);
    return s;
}

void rule_scratch_free(struct rule_scratch *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mctx);
    free(s);
}

void rule_ctx_init(struct rule_msg_ctx *c, const struct sip_msg *msg, struct rule_scratch *s)
{
    c->msg = msg;
    c->scratch = s;
    c->looked = 0;
    c->steps_exhausted = 0;
    c->pcre_errors = 0;
}

/* ---- buffers -------------------------------------------------------------- */

static struct slice header_value(const struct sip_msg *m, uint8_t id)
{
    const struct sip_header *h = sip_header_get(m, id, 0);
    return h ? h->value : SL_NULL;
}

/* Header lines as sent: from the first header name to the end of the last
 * line, without the empty line that ends the block. */
static struct slice header_block(const struct sip_msg *m)
{
    if (!m->n_hdr || !m->raw.p)
        return SL_NULL;
    const uint8_t *s = m->hdr[0].name.p, *end = m->raw.p + m->raw.n;
    if (s < m->raw.p || s >= end)
        return SL_NULL;
    const uint8_t *e = (m->body.p && m->body.p >= s && m->body.p <= end) ? m->body.p : end;
    struct slice b = sl_make(s, (size_t)(e - s));
    if (sl_ends(b, SL_LIT("\r\n\r\n")))
        b.n -= 2;
    else if (sl_ends(b, SL_LIT("\n\n")))
        b.n -= 1;
    return b;
}

static struct slice compute(struct rule_msg_ctx *c, unsigned b)
{
    const struct sip_msg *m = c->msg;
    bool req = m->is_request;
    switch (b) {
    case RULE_BUF_RAW: return m->raw;
    case RULE_BUF_METHOD: return req ? m->method : SL_NULL;
    case RULE_BUF_URI: return req ? m->ruri_raw : SL_NULL;
    case RULE_BUF_REQUEST_LINE: return req ? m->start_line : SL_NULL;
    case RULE_BUF_STAT_CODE:
        if (req || m->status < 100 || m->status > 999)
            return SL_NULL;
        c->stat_code[0] = (uint8_t)('0' + m->status / 100);
        c->stat_code[1] = (uint8_t)('0' + m->status / 10 % 10);
        c->stat_code[2] = (uint8_t)('0' + m->status % 10);
        return sl_make(c->stat_code, 3);
    case RULE_BUF_STAT_MSG: return req ? SL_NULL : m->reason;
    case RULE_BUF_RESPONSE_LINE: return req ? SL_NULL : m->start_line;
    case RULE_BUF_PROTOCOL: return m->version;
    case RULE_BUF_USER_AGENT: return (req || !m->server.n) ? m->user_agent : m->server;
    case RULE_BUF_FROM: return header_value(m, SIP_H_FROM);
    case RULE_BUF_TO: return header_value(m, SIP_H_TO);
    case RULE_BUF_CALL_ID: return m->call_id;
    case RULE_BUF_CONTENT_TYPE: return m->content_type;
    case RULE_BUF_HEADER: return header_block(m);
    case RULE_BUF_BODY: return m->body;
    default: return SL_NULL;
    }
}

bool rule_buffer(struct rule_msg_ctx *c, unsigned buf, unsigned nth, struct slice *out)
{
    if (buf == RULE_BUF_VIA || buf == RULE_BUF_CONTACT) {
        const struct sip_header *h =
            sip_header_get(c->msg, buf == RULE_BUF_VIA ? SIP_H_VIA : SIP_H_CONTACT, nth);
        if (!h)
            return false;
        *out = h->value;
        return true;
    }
    if (nth || buf >= RULE_BUF__COUNT)
        return false;
    if (!(c->looked & (1u << buf))) {
        c->buf[buf] = compute(c, buf);
        c->looked |= 1u << buf;
    }
    *out = c->buf[buf];
    return out->n > 0;
}

/* ---- header --------------------------------------------------------------- */

static bool cidr_has(const struct rule_net_item *it, const struct ip_addr *ip)
{
    unsigned full = it->prefix / 8u, rem = it->prefix % 8u;
    if (full && memcmp(it->net.b, ip->b, full) != 0)
        return false;
    if (!rem)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rem));
    return (it->net.b[full] & mask) == (ip->b[full] & mask);
}

static bool net_group(const struct rule_net_item *v, unsigned i, const struct ip_addr *ip, uint16_t port);

/* Item i without its negation. */
static bool net_item(const struct rule_net_item *v, unsigned i, const struct ip_addr *ip, uint16_t port)
{
    switch (v[i].kind) {
    case RULE_NET_ANY: return true;
    case RULE_NET_GROUP: return net_group(v, i, ip, port);
    case RULE_NET_CIDR: return ip && cidr_has(&v[i], ip);
    case RULE_NET_PORTS: return port >= v[i].lo && port <= v[i].hi;
    default: return false;
    }
}

/* A group: one positive member matches (or there is none) and no negated member does. */
static bool net_group(const struct rule_net_item *v, unsigned i, const struct ip_addr *ip, uint16_t port)
{
    unsigned end = i + 1u + v[i].size;
    bool has_pos = false, pos_hit = false;
    for (unsigned j = i + 1; j < end; j += 1u + v[j].size) {
        if (v[j].neg) {
            if (net_item(v, j, ip, port))
                return false;
        } else {
            has_pos = true;
            if (!pos_hit)
                pos_hit = net_item(v, j, ip, port);
        }
    }
    return !has_pos || pos_hit;
}

static bool addr_ok(const struct rule_net *n, const struct ip_addr *ip)
{
    return n->n == 0 || net_group(n->v, 0, ip, 0);
}

static bool port_ok(const struct rule_net *n, uint16_t port)
{
    return n->n == 0 || net_group(n->v, 0, NULL, port);
}

bool rule_match_header(const struct rule *r, const struct l4_meta *m)
{
    if ((r->proto == RULE_PROTO_UDP && m->proto != IPPROTO_UDP) ||
        (r->proto == RULE_PROTO_TCP && m->proto != IPPROTO_TCP))
        return false;
    if (addr_ok(&r->src_addr, &m->src) && port_ok(&r->src_port, m->sport) &&
        addr_ok(&r->dst_addr, &m->dst) && port_ok(&r->dst_port, m->dport))
        return true;
    return r->bidir && addr_ok(&r->src_addr, &m->dst) && port_ok(&r->src_port, m->dport) &&
           addr_ok(&r->dst_addr, &m->src) && port_ok(&r->dst_port, m->sport);
}

/* ---- contents ------------------------------------------------------------- */

#define NONE SIZE_MAX

static bool same(const struct rule_item *it, const uint8_t *p)
{
    if (!(it->flags & RULE_C_NOCASE))
        return memcmp(p, it->pat, it->len) == 0;
    for (uint32_t i = 0; i < it->len; i++)
        if (sl_lower(p[i]) != sl_lower(it->pat[i]))
            return false;
    return true;
}

/* First position >= s where the content lies wholly before e; NONE when none. */
static size_t find(const struct rule_item *it, struct slice b, size_t s, size_t e)
{
    if (e > b.n)
        e = b.n;
    if (s > e || e - s < it->len)
        return NONE;
    if (it->flags & RULE_C_ENDSWITH) {
        size_t pos = b.n - it->len;
        return pos >= s && pos + it->len <= e && same(it, b.p + pos) ? pos : NONE;
    }
    struct slice w = sl_sub(b, s, e), pat = sl_make(it->pat, it->len);
    size_t k = (it->flags & RULE_C_NOCASE) ? sl_find_nocase(w, pat) : sl_find(w, pat);
    return k < w.n ? s + k : NONE;
}

/* The window [*s, *e) a content may occupy, given where the previous match ended. */
static void window(const struct rule_item *it, size_t blen, size_t prev_end, size_t *s, size_t *e)
{
    *s = 0;
    *e = blen;
    if (it->flags & RULE_C_STARTSWITH) {
        *e = it->len;
    } else if (it->flags & RULE_C_RELATIVE) {
        int64_t st = (int64_t)prev_end + it->distance;
        *s = st < 0 ? 0 : (size_t)st;
        if (it->flags & RULE_C_WITHIN) {
            int64_t en = st + (int64_t)it->within;
            *e = en < 0 ? 0 : (size_t)en;
        }
    } else {
        *s = it->offset;
        if (it->flags & RULE_C_DEPTH)
            *e = (size_t)it->offset + it->depth;
    }
}

/* 1 match (end in *end), 0 no match, -1 error (match limit, ...). */
static int pcre_find(struct rule_msg_ctx *c, const struct rule_item *it, struct slice b, size_t *end)
{
    pcre2_match_data *md = c->scratch->md;
    int rc = pcre2_match(it->re, b.p, b.n, 0, 0, md, c->scratch->mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        c->pcre_errors++;
        return -1;
    }
    *end = pcre2_get_ovector_pointer(md)[1];
    return 1;
}

enum { NO, YES, STOP };

static int chain(struct rule_msg_ctx *c, const struct rule_item *it, unsigned n, struct slice b,
                 size_t prev_end, unsigned *steps)
{
    if (!n)
        return YES;
    bool neg = it->flags & RULE_C_NEGATED;
    if (it->kind == RULE_ITEM_PCRE) {
        size_t end = 0;
        int rc = pcre_find(c, it, b, &end);
        if (rc < 0)
            return STOP;
        if (neg)
            return rc ? STOP : chain(c, it + 1, n - 1, b, prev_end, steps);
        return rc ? chain(c, it + 1, n - 1, b, end, steps) : NO;
    }
    size_t s, e;
    window(it, b.n, prev_end, &s, &e);
    if (neg)
        return find(it, b, s, e) == NONE ? chain(c, it + 1, n - 1, b, prev_end, steps) : STOP;
    /* Trying the next occurrence helps only when the next item is relative to this one. */
    bool retry = n > 1 && it[1].kind == RULE_ITEM_CONTENT && (it[1].flags & RULE_C_RELATIVE);
    for (;;) {
        size_t pos = find(it, b, s, e);
        if (pos == NONE)
            return NO;
        int r = chain(c, it + 1, n - 1, b, pos + it->len, steps);
        if (r != NO || !retry)
            return r;
        if (++*steps >= RULE_MATCH_STEPS) {
            c->steps_exhausted++;
            return STOP;
        }
        s = pos + 1;
    }
}

static bool group_match(const struct rule *r, const struct rule_group *g, struct rule_msg_ctx *c)
{
    struct slice b;
    for (unsigned nth = 0; rule_buffer(c, g->buf, nth, &b); nth++) {
        unsigned steps = 0;
        if (b.n && chain(c, &r->items[g->first], g->n, b, 0, &steps) == YES)
            return true;
    }
    return false;
}

bool rule_match_prefilter(const struct rule *r, struct rule_msg_ctx *c)
{
    if (r->prefilter < 0)
        return true;
    const struct rule_item *it = &r->items[r->prefilter];
    struct slice b;
    for (unsigned nth = 0; rule_buffer(c, it->buf, nth, &b); nth++)
        if (find(it, b, 0, b.n) != NONE)
            return true;
    return false;
}

bool rule_match_payload(const struct rule *r, struct rule_msg_ctx *c)
{
    for (unsigned g = 0; g < r->n_groups; g++)
        if (!group_match(r, &r->groups[g], c))
            return false;
    return true;
}

bool rule_match(const struct rule *r, const struct l4_meta *m, struct rule_msg_ctx *c)
{
    unsigned kind = c->msg->is_request ? RULE_NEED_REQUEST : RULE_NEED_RESPONSE;
    return (r->needs & kind) && rule_match_header(r, m) && rule_match_prefilter(r, c) &&
           rule_match_payload(r, c);
}
