/*
 * sip_uri.c - URI parsing (RFC 3261 §19.1, §25.1; tel: RFC 3966; IPv6 RFC 5118):
 * splits sip:/sips: URIs into user, password, host, port, params and headers, keeps
 * tel: numbers and other schemes whole. Values stay %-escaped: unescaping is the caller's.
 */
#include "dissect/sip_internal.h"

#define CC_ALNUM (SIP_CC_TOKEN | SIP_CC_USER | SIP_CC_PASS | SIP_CC_PARAM | SIP_CC_HNV | \
                  SIP_CC_HOST | SIP_CC_SCHEME)
/* RFC 3261 §25.1 mark: - _ . ! ~ * ' ( ) are unreserved, so allowed in user, password, params, headers. */
#define CC_MARK (SIP_CC_USER | SIP_CC_PASS | SIP_CC_PARAM | SIP_CC_HNV)

const uint8_t sip_cc[256] = {
    ['0' ... '9'] = CC_ALNUM | SIP_CC_HEX,
    ['A' ... 'F'] = CC_ALNUM | SIP_CC_HEX,
    ['G' ... 'Z'] = CC_ALNUM,
    ['a' ... 'f'] = CC_ALNUM | SIP_CC_HEX,
    ['g' ... 'z'] = CC_ALNUM,
    ['-'] = CC_MARK | SIP_CC_TOKEN | SIP_CC_HOST | SIP_CC_SCHEME,
    ['.'] = CC_MARK | SIP_CC_TOKEN | SIP_CC_HOST | SIP_CC_SCHEME,
    ['_'] = CC_MARK | SIP_CC_TOKEN | SIP_CC_HOST,
    ['!'] = CC_MARK | SIP_CC_TOKEN,
    ['~'] = CC_MARK | SIP_CC_TOKEN,
    ['*'] = CC_MARK | SIP_CC_TOKEN,
    ['\''] = CC_MARK | SIP_CC_TOKEN,
    ['('] = CC_MARK,
    [')'] = CC_MARK,
    ['%'] = SIP_CC_TOKEN, /* in URIs only as the start of an escape, checked by run_ok() */
    ['`'] = SIP_CC_TOKEN,
    ['+'] = SIP_CC_TOKEN | SIP_CC_USER | SIP_CC_PASS | SIP_CC_PARAM | SIP_CC_HNV | SIP_CC_SCHEME,
    ['&'] = SIP_CC_USER | SIP_CC_PASS | SIP_CC_PARAM | SIP_CC_HNV,
    ['='] = SIP_CC_USER | SIP_CC_PASS | SIP_CC_HNV,
    ['$'] = SIP_CC_USER | SIP_CC_PASS | SIP_CC_PARAM | SIP_CC_HNV,
    [','] = SIP_CC_USER | SIP_CC_PASS,
    [';'] = SIP_CC_USER,
    ['?'] = SIP_CC_USER | SIP_CC_HNV,
    ['/'] = SIP_CC_USER | SIP_CC_PARAM | SIP_CC_HNV,
    /* '#' is not in RFC 3261 user, but user may be a telephone-subscriber (RFC 2806
     * dtmf-digit), which allows it: "sip:*21#@pbx" is common and legal. */
    ['#'] = SIP_CC_USER,
    ['['] = SIP_CC_PARAM | SIP_CC_HNV,
    [']'] = SIP_CC_PARAM | SIP_CC_HNV,
    [':'] = SIP_CC_PARAM | SIP_CC_HNV,
};

/* Every byte of s is of class cls or starts a %HH escape (RFC 3261 §25.1 escaped). */
static bool run_ok(struct slice s, uint8_t cls)
{
    for (size_t i = 0; i < s.n; i++) {
        uint8_t c = s.p[i];
        if (sip_cc_is(c, cls))
            continue;
        if (c != '%' || i + 2 >= s.n || !sip_cc_is(s.p[i + 1], SIP_CC_HEX) ||
            !sip_cc_is(s.p[i + 2], SIP_CC_HEX))
            return false;
        i += 2;
    }
    return true;
}

/* IPv6reference contents (RFC 3261 §25.1 / RFC 5118 §4.10): hex, ':' and '.', one ':' at
 * least. Lenient on purpose: RFC 5118 asks receivers to take "2001:db8:::192.0.2.1". */
bool sip_ipv6_ok(struct slice s)
{
    if (s.n < 2 || s.n > 64 || !sl_has_byte(s, ':'))
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (!sip_cc_is(s.p[i], SIP_CC_HEX) && s.p[i] != ':' && s.p[i] != '.')
            return false;
    return true;
}

/* port = 1*DIGIT; we take 1..5 digits up to 65535. */
bool sip_port_ok(struct slice s, uint16_t *port)
{
    uint32_t v = 0;
    if (s.n == 0 || s.n > 5)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        if (!sip_is_digit(s.p[i]))
            return false;
        v = v * 10 + (uint32_t)(s.p[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* uri-parameters (§19.1.1): ";"-separated, each pname ["=" pvalue], both 1*paramchar. */
static bool params_ok(struct slice s)
{
    do {
        struct slice one = sl_take_token(&s, ';');
        size_t eq = sl_find_byte(one, '=');
        struct slice name = sl_prefix(one, eq);
        if (name.n == 0 || !run_ok(name, SIP_CC_PARAM))
            return false;
        if (eq < one.n) {
            struct slice val = sl_drop(one, eq + 1);
            if (val.n == 0 || !run_ok(val, SIP_CC_PARAM))
                return false;
        }
    } while (s.n);
    return true;
}

/* sip:/sips: after the scheme: [userinfo "@"] hostport uri-parameters [headers] (§19.1.1). */
static const char *parse_sip(struct slice rest, struct sip_uri *u)
{
    /* '@' cannot appear unescaped after the userinfo (not in host, paramchar or hvalue),
     * so the first one ends it even when the user holds ';' or '?' (RFC 4475 semiuri). */
    struct slice hp = rest;
    size_t at = sl_find_byte(rest, '@');
    if (at < rest.n) {
        struct slice ui = sl_prefix(rest, at);
        size_t colon = sl_find_byte(ui, ':');
        u->user = sl_prefix(ui, colon);
        if (colon < ui.n)
            u->password = sl_drop(ui, colon + 1);
        if (u->user.n == 0)
            return "empty user in URI";
        if (!run_ok(u->user, SIP_CC_USER))
            return "bad user in URI";
        if (!run_ok(u->password, SIP_CC_PASS))
            return "bad password in URI";
        hp = sl_drop(rest, at + 1);
    }

    size_t i = 0;
    if (hp.n && hp.p[0] == '[') {
        size_t close = sl_find_byte(hp, ']');
        if (close == hp.n)
            return "unterminated IPv6 reference";
        u->host = sl_sub(hp, 1, close);
        if (!sip_ipv6_ok(u->host))
            return "bad IPv6 reference";
        i = close + 1;
    } else {
        while (i < hp.n && sip_cc_is(hp.p[i], SIP_CC_HOST))
            i++;
        u->host = sl_prefix(hp, i);
    }
    if (u->host.n == 0)
        return "empty host in URI";
    if (i < hp.n && hp.p[i] == ':') {
        size_t j = i + 1;
        while (j < hp.n && sip_is_digit(hp.p[j]))
            j++;
        if (!sip_port_ok(sl_sub(hp, i + 1, j), &u->port))
            return "bad port in URI"; /* also a bare IPv6 address: sip:2001:db8::10 */
        u->has_port = true;
        i = j;
    }

    struct slice tail = sl_drop(hp, i);
    size_t q = sl_find_byte(tail, '?');
    struct slice params = sl_prefix(tail, q);
    if (params.n) {
        if (params.p[0] != ';')
            return "bad host in URI";
        u->params = sl_drop(params, 1);
        if (!params_ok(u->params))
            return "bad URI parameter";
    }
    if (q < tail.n) {
        u->headers = sl_drop(tail, q + 1);
        if (u->headers.n == 0 || !run_ok(u->headers, SIP_CC_HNV))
            return "bad URI headers";
    }
    return NULL;
}

const char *sip_uri_check(struct slice s, struct sip_uri *u)
{
    memset(u, 0, sizeof *u);
    u->raw = s;
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1) */
    if (s.n == 0 || !((s.p[0] | 0x20) >= 'a' && (s.p[0] | 0x20) <= 'z'))
        return "URI without scheme";
    size_t i = 1;
    while (i < s.n && sip_cc_is(s.p[i], SIP_CC_SCHEME))
        i++;
    if (i == s.n || s.p[i] != ':')
        return "URI without scheme";
    u->scheme = sl_prefix(s, i);
    struct slice rest = sl_drop(s, i + 1);

    if (SIP_IS(u->scheme, "sip") || SIP_IS(u->scheme, "sips")) {
        u->scheme_id = u->scheme.n == 3 ? SIP_URI_SIP : SIP_URI_SIPS;
        return parse_sip(rest, u);
    }
    /* Any other absoluteURI: no LWS, controls, quotes or angle brackets (all escaped in a
     * URI), else the bracket-less addr-spec and Request-URI splitting would be ambiguous. */
    for (size_t j = 0; j < rest.n; j++) {
        uint8_t c = rest.p[j];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"')
            return "bad character in URI";
    }
    if (rest.n == 0)
        return "empty URI after scheme";
    if (SIP_IS(u->scheme, "tel")) {
        /* RFC 3966: telephone-subdomain ";" par; the number goes into user like a SIP user. */
        u->scheme_id = SIP_URI_TEL;
        size_t semi = sl_find_byte(rest, ';');
        u->user = sl_prefix(rest, semi);
        if (u->user.n == 0 || !run_ok(u->user, SIP_CC_USER))
            return "bad tel number";
        if (semi < rest.n) {
            u->params = sl_drop(rest, semi + 1);
            if (!params_ok(u->params))
                return "bad URI parameter";
        }
    }
    return NULL;
}

bool sip_uri_parse(struct slice s, struct sip_uri *u) { return sip_uri_check(s, u) == NULL; }

bool sip_uri_param(const struct sip_uri *u, struct slice name, struct slice *value)
{
    return sip_param_get(u->params, name, value);
}
