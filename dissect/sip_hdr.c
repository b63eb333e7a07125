/*
 * sip_hdr.c - parsers for structured header values (RFC 3261 §20, §25.1): name-addr /
 * addr-spec lists (From, To, Contact), Via, CSeq and generic ";name=value" parameters.
 * Values may hold folds (CRLF + WSP), which count as LWS; nothing here reads past s.p + s.n.
 */
#include "dissect/sip_internal.h"

/* quoted-string (§25.1), p at '"': just past the closing quote, or NULL if it never closes.
 * quoted-pair "\" escapes any byte (RFC 4475 intmeth has raw BEL/NUL/DEL after '\'). */
static const uint8_t *skip_quoted(const uint8_t *p, const uint8_t *e)
{
    for (p++; p < e; p++) {
        if (*p == '"')
            return p + 1;
        if (*p == '\\' && ++p == e)
            return NULL;
    }
    return NULL;
}

/* gen-value = token / host / quoted-string; host adds ':' '[' ']' (IPv6, RFC 5118 §4.5). */
static bool is_gen_value(uint8_t c) { return sip_is_token(c) || c == ':' || c == '[' || c == ']'; }

/*
 * One generic-param, *pp at its ';' (SEMI and EQUAL allow LWS on both sides, §25.1).
 * A param without '=' gets an empty value that still points into the input (p != NULL).
 */
static const char *next_param(const uint8_t **pp, const uint8_t *e, struct slice *name,
                              struct slice *value)
{
    const uint8_t *p = sip_skip_lws(*pp + 1, e);
    const uint8_t *q = sip_skip_cc(p, e, SIP_CC_TOKEN);
    if (q == p)
        return "empty parameter"; /* RFC 4475 badinv01: ";;" */
    *name = sl_make(p, (size_t)(q - p));
    *value = sl_make(q, 0);
    const uint8_t *r = sip_skip_lws(q, e);
    if (r < e && *r == '=') {
        const uint8_t *v = sip_skip_lws(r + 1, e);
        if (v < e && *v == '"') {
            r = skip_quoted(v, e);
            if (!r)
                return "unbalanced quote in parameter";
        } else {
            for (r = v; r < e && is_gen_value(*r); r++)
                ;
        }
        if (r == v)
            return "empty parameter value";
        *value = sl_make(v, (size_t)(r - v));
        q = r;
    }
    *pp = q;
    return NULL;
}

/* After one list element: the end, or ',' and the next element (§7.3.1 comma lists). */
static const char *list_next(const uint8_t *p, const uint8_t *e, struct slice *rest)
{
    p = sip_skip_lws(p, e);
    if (p == e)
        return NULL;
    if (*p != ',')
        return "unexpected character after value";
    p = sip_skip_lws(p + 1, e);
    if (p == e || *p == ',')
        return "empty list element"; /* RFC 4475 badinv01: ",," */
    *rest = sl_make(p, (size_t)(e - p));
    return NULL;
}

/* The display-name and URI part of a name-addr / addr-spec (§20.10, §25.1), *pp past it. */
static const char *addr_part(const uint8_t **pp, const uint8_t *e, struct sip_name_addr *na)
{
    const uint8_t *p = *pp, *q;
    if (*p == '"') {
        q = skip_quoted(p, e);
        if (!q)
            return "unbalanced quote in display name"; /* RFC 4475 quotbal */
        na->display = sl_make(p + 1, (size_t)(q - p - 2));
        p = sip_skip_lws(q, e);
        if (p == e || *p != '<')
            return "quoted display name without <addr-spec>";
    } else if (*p != '<') {
        /* display-name = *(token LWS): a token run glued to '<' is one too (RFC 4475
         * lwsdisp: "caller<sip:...>", accepted though the ABNF wants LWS there). */
        for (q = p; q < e && (sip_is_token(*q) || sl_is_lws(*q)); q++)
            ;
        if (q < e && *q == '<') {
            na->display = sl_rtrim(sl_make(p, (size_t)(q - p)));
            p = q;
        } else {
            /* addr-spec without <>: its ';' start header params, so it ends at ';' ',' or
             * LWS; §20: a URI holding ',' '?' or ';' must be in <> (RFC 4475 regbadct). */
            for (q = p; q < e && *q != ';' && *q != ',' && !sl_is_lws(*q); q++)
                ;
            struct slice spec = sl_make(p, (size_t)(q - p));
            if (sl_has_byte(spec, '?'))
                return "URI headers in addr-spec without <>";
            const char *why = sip_uri_check(spec, &na->uri);
            if (why) /* RFC 4475 baddn: Bell, Alexander <sip:...> */
                return memchr(q, '<', (size_t)(e - q)) ? "display name not a token or quoted-string" : why;
            *pp = q;
            return NULL;
        }
    }
    const uint8_t *gt = memchr(p, '>', (size_t)(e - p));
    if (!gt)
        return "'<' without '>'";
    struct slice spec = sl_make(p + 1, (size_t)(gt - p - 1));
    if (spec.n && (sl_is_lws(spec.p[0]) || sl_is_lws(spec.p[spec.n - 1])))
        return "LWS inside <addr-spec>"; /* RFC 4475 badaspec */
    const char *why = sip_uri_check(spec, &na->uri);
    if (why)
        return why;
    *pp = gt + 1;
    return NULL;
}

const char *sip_name_addr_check(struct slice s, struct sip_name_addr *na, struct slice *rest)
{
    memset(na, 0, sizeof *na);
    *rest = s;
    if (s.n == 0) /* also keeps SL_NULL out of the pointer arithmetic below */
        return "empty name-addr";
    const uint8_t *p = s.p, *e = s.p + s.n;
    *rest = sl_make(e, 0);
    p = sip_skip_lws(p, e);
    if (p == e)
        return "empty name-addr";
    if (*p == ',')
        return "empty list element";
    if (*p == '*') { /* Contact: * (§20.10), no params */
        na->star = true;
        return list_next(p + 1, e, rest);
    }
    const char *why = addr_part(&p, e, na);
    if (why)
        return why;
    const uint8_t *first = NULL, *last = NULL;
    for (p = sip_skip_lws(p, e); p < e && *p == ';'; p = sip_skip_lws(p, e)) {
        struct slice name, val;
        if ((why = next_param(&p, e, &name, &val)))
            return why;
        if (!first)
            first = name.p;
        last = val.p + val.n;
        if (!na->tag.p && SIP_IS(name, "tag"))
            na->tag = val;
    }
    if (first)
        na->params = sl_make(first, (size_t)(last - first));
    return list_next(p, e, rest);
}

bool sip_name_addr_parse(struct slice s, struct sip_name_addr *na, struct slice *rest)
{
    return sip_name_addr_check(s, na, rest) == NULL;
}

/* SLASH = SWS "/" SWS (§25.1): the position after it, or NULL. */
static const uint8_t *slash(const uint8_t *p, const uint8_t *e)
{
    p = sip_skip_lws(p, e);
    return p < e && *p == '/' ? sip_skip_lws(p + 1, e) : NULL;
}

/* via-parm = sent-protocol LWS sent-by *( SEMI via-params ) (§20.42, §25.1). */
const char *sip_via_check(struct slice s, struct sip_via *v, struct slice *rest)
{
    memset(v, 0, sizeof *v);
    *rest = s;
    if (s.n == 0)
        return "empty Via";
    const uint8_t *p = s.p, *e = s.p + s.n, *q;
    *rest = sl_make(e, 0);
    p = sip_skip_lws(p, e);
    if (p == e)
        return "empty Via";
    if (*p == ',')
        return "empty list element";
    const uint8_t *proto = p;
    struct slice tok[3];
    for (int i = 0; i < 3; i++) { /* protocol-name SLASH protocol-version SLASH transport */
        if (i && !(p = slash(p, e)))
            return "bad Via sent-protocol";
        q = sip_skip_cc(p, e, SIP_CC_TOKEN);
        if (q == p)
            return "bad Via sent-protocol";
        tok[i] = sl_make(p, (size_t)(q - p));
        p = q;
    }
    v->protocol = sl_make(proto, (size_t)(tok[1].p + tok[1].n - proto));
    v->transport = tok[2];

    q = sip_skip_lws(p, e);
    if (q == p || q == e)
        return "missing Via sent-by";
    p = q;
    if (*p == '[') {
        q = memchr(p, ']', (size_t)(e - p));
        if (!q || !sip_ipv6_ok(sl_make(p + 1, (size_t)(q - p - 1))))
            return "bad IPv6 reference";
        v->host = sl_make(p + 1, (size_t)(q - p - 1));
        q++;
    } else {
        q = sip_skip_cc(p, e, SIP_CC_HOST);
        v->host = sl_make(p, (size_t)(q - p));
        if (v->host.n == 0)
            return "bad Via sent-by host";
    }
    p = sip_skip_lws(q, e);
    if (p < e && *p == ':') { /* COLON = SWS ":" SWS */
        p = sip_skip_lws(p + 1, e);
        for (q = p; q < e && sip_is_digit(*q); q++)
            ;
        if (!sip_port_ok(sl_make(p, (size_t)(q - p)), &v->port))
            return "bad Via sent-by port";
        v->has_port = true;
        p = sip_skip_lws(q, e);
    }

    const uint8_t *first = NULL, *last = NULL;
    for (; p < e && *p == ';'; p = sip_skip_lws(p, e)) {
        struct slice name, val;
        const char *why = next_param(&p, e, &name, &val);
        if (why)
            return why;
        if (!first)
            first = name.p;
        last = val.p + val.n;
        if (!v->branch.p && SIP_IS(name, "branch"))
            v->branch = val;
        else if (!v->received.p && SIP_IS(name, "received"))
            v->received = val;
        else if (!v->maddr.p && SIP_IS(name, "maddr"))
            v->maddr = val;
        else if (!v->rport && SIP_IS(name, "rport")) {
            v->rport = true; /* RFC 3581: bare in requests, valued in responses */
            v->rport_value = val;
        }
    }
    if (first)
        v->params = sl_make(first, (size_t)(last - first));
    return list_next(p, e, rest);
}

bool sip_via_parse(struct slice s, struct sip_via *v, struct slice *rest)
{
    return sip_via_check(s, v, rest) == NULL;
}

/* CSeq = 1*DIGIT LWS Method (§20.16); the number must fit 32 bits (RFC 4475 scalar02). */
const char *sip_cseq_check(struct slice s, struct sip_cseq *c)
{
    memset(c, 0, sizeof *c);
    if (s.n == 0)
        return "bad CSeq number";
    const uint8_t *e = s.p + s.n, *p = sip_skip_lws(s.p, e), *q = p;
    while (q < e && sip_is_digit(*q))
        q++;
    if (q == p)
        return "bad CSeq number";
    if (!sl_to_u32(sl_make(p, (size_t)(q - p)), &c->seq))
        return "CSeq out of range";
    p = sip_skip_lws(q, e);
    if (p == e)
        return "CSeq without method";
    if (p == q)
        return "bad CSeq number";
    q = sip_skip_cc(p, e, SIP_CC_TOKEN);
    if (q == p)
        return "bad CSeq method";
    c->method = sl_make(p, (size_t)(q - p));
    c->method_id = sip_method_id(c->method);
    if (sip_skip_lws(q, e) != e)
        return "unexpected character after CSeq method";
    return NULL;
}

bool sip_cseq_parse(struct slice s, struct sip_cseq *c) { return sip_cseq_check(s, c) == NULL; }

/*
 * Lenient lookup for values already parsed (or any header's params): split at ';'
 * outside quotes, trim LWS around names and '='. The value is as written (quotes kept).
 */
bool sip_param_get(struct slice params, struct slice name, struct slice *value)
{
    if (params.n == 0)
        return false;
    const uint8_t *p = params.p, *e = params.p + params.n;
    while (p < e) {
        const uint8_t *q = p;
        bool quoted = false;
        for (; q < e && (quoted || *q != ';'); q++) {
            if (*q == '"')
                quoted = !quoted;
            else if (*q == '\\' && quoted && q + 1 < e)
                q++;
        }
        struct slice one = sl_trim(sl_make(p, (size_t)(q - p)));
        size_t eq = sl_find_byte(one, '=');
        if (sl_eq_nocase(sl_rtrim(sl_prefix(one, eq)), name)) {
            *value = eq < one.n ? sl_ltrim(sl_drop(one, eq + 1)) : sl_drop(one, one.n);
            return true;
        }
        p = q < e ? q + 1 : e;
    }
    return false;
}
