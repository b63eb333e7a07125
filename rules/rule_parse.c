/*
 * rule_parse.c - text of one rule -> struct rule. The header (action, proto,
 * address and port groups with variables, direction) and every option of
 * docs/rules.md; regexes compiled once here with PCRE2. It reads rule text,
 * never packet bytes, and reports the first problem of a rule in one line.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules/rule.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- names ---------------------------------------------------------------- */

static const struct {
    const char *name;
    uint8_t needs;
} bufs[RULE_BUF__COUNT] = {
    [RULE_BUF_RAW] = { "pkt_data", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_METHOD] = { "sip.method", RULE_NEED_REQUEST },
    [RULE_BUF_URI] = { "sip.uri", RULE_NEED_REQUEST },
    [RULE_BUF_REQUEST_LINE] = { "sip.request_line", RULE_NEED_REQUEST },
    [RULE_BUF_STAT_CODE] = { "sip.stat_code", RULE_NEED_RESPONSE },
    [RULE_BUF_STAT_MSG] = { "sip.stat_msg", RULE_NEED_RESPONSE },
    [RULE_BUF_RESPONSE_LINE] = { "sip.response_line", RULE_NEED_RESPONSE },
    [RULE_BUF_PROTOCOL] = { "sip.protocol", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_USER_AGENT] = { "sip.user_agent", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_FROM] = { "sip.from", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_TO] = { "sip.to", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_CALL_ID] = { "sip.call_id", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_VIA] = { "sip.via", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_CONTACT] = { "sip.contact", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_CONTENT_TYPE] = { "sip.content_type", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_HEADER] = { "sip.header", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
    [RULE_BUF_BODY] = { "sip.body", RULE_NEED_REQUEST | RULE_NEED_RESPONSE },
};

const char *rule_buf_name(unsigned buf) { return buf < RULE_BUF__COUNT ? bufs[buf].name : "?"; }
unsigned rule_buf_needs(unsigned buf) { return buf < RULE_BUF__COUNT ? bufs[buf].needs : 0; }

static const char *const techniques[RULE_T__COUNT] = {
    "sweep", "enumeration", "bruteforce", "flood", "tollfraud", "teardown_spoof", "hijack", "malformed",
};

const char *rule_technique_name(unsigned t) { return t < RULE_T__COUNT ? techniques[t] : "?"; }

/* Suricata's classification.config: name and default priority. */
static const struct {
    const char *name;
    uint8_t priority;
} classtypes[] = {
    { "not-suspicious", 3 }, { "unknown", 3 }, { "bad-unknown", 2 }, { "attempted-recon", 2 },
    { "successful-recon-limited", 2 }, { "successful-recon-largescale", 2 }, { "attempted-dos", 2 },
    { "successful-dos", 2 }, { "attempted-user", 1 }, { "unsuccessful-user", 1 },
    { "successful-user", 1 }, { "attempted-admin", 1 }, { "successful-admin", 1 },
    { "rpc-portmap-decode", 2 }, { "shellcode-detect", 1 }, { "string-detect", 3 },
    { "suspicious-filename-detect", 2 }, { "suspicious-login", 2 }, { "system-call-detect", 2 },
    { "tcp-connection", 4 }, { "trojan-activity", 1 }, { "unusual-client-port-connection", 2 },
    { "network-scan", 3 }, { "denial-of-service", 2 }, { "non-standard-protocol", 2 },
    { "protocol-command-decode", 3 }, { "web-application-activity", 2 },
    { "web-application-attack", 1 }, { "misc-activity", 3 }, { "misc-attack", 2 },
    { "icmp-event", 3 }, { "inappropriate-content", 1 }, { "policy-violation", 1 },
    { "default-login-attempt", 2 }, { "targeted-activity", 1 }, { "exploit-kit", 1 },
    { "external-ip-check", 2 }, { "domain-c2", 1 }, { "pup-activity", 2 },
    { "credential-theft", 1 }, { "social-engineering", 2 }, { "coin-mining", 2 },
    { "command-and-control", 1 },
};
#define N_CLASSTYPES (sizeof classtypes / sizeof classtypes[0])

/* ---- parse context -------------------------------------------------------- */

/* Options that may appear once. */
enum once { O_MSG = 1, O_SID = 2, O_REV = 4, O_CLASSTYPE = 8, O_PRIORITY = 16, O_THRESHOLD = 32 };

struct pctx {
    struct rule *r;
    char *err;
    size_t errlen;
    rule_var_fn *var;
    void *var_ctx;
    bool var_check;       /* checking a variable's value: names resolve to "any" */
    unsigned seen;        /* enum once bits */
    int buf;              /* sticky buffer in effect */
    bool buf_explicit;    /* chosen by a keyword (must be followed by a match) */
    unsigned buf_items;   /* items added since the sticky buffer was chosen */
    int last;             /* index of the last item in this buffer, -1 when none */
};

static bool fail(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(struct pctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* Rule text in messages: printable, at most 60 bytes. */
static const char *show(struct slice s, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < s.n && o + 4 < cap; i++) {
        if (i == 60) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        uint8_t ch = s.p[i];
        buf[o++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
    buf[o] = 0;
    return buf;
}
#define SHOW(s) show((s), (char[72]){ 0 }, 72)

static char *dup_slice(struct slice s)
{
    char *p = malloc(s.n + 1);
    if (p) {
        if (s.n)
            memcpy(p, s.p, s.n);
        p[s.n] = 0;
    }
    return p;
}

static bool is_space(uint8_t ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; }

/* ---- address and port groups ---------------------------------------------- */

struct netp {
    struct pctx *c;
    struct rule_net_item v[RULE_MAX_NET_ITEMS];
    unsigned n;
    bool port;
    const char *what;     /* "source address", ... */
    char via[80];         /* "(from $HOME_NET)" when inside a variable */
};

static bool net_push(struct netp *np, struct rule_net_item it, unsigned *idx)
{
    if (np->n >= RULE_MAX_NET_ITEMS)
        return fail(np->c, "%s has more than %d entries%s", np->what, RULE_MAX_NET_ITEMS, np->via);
    *idx = np->n;
    np->v[np->n++] = it;
    return true;
}

static void skip_ws(struct slice *s)
{
    while (s->n && is_space(s->p[0]))
        *s = sl_drop(*s, 1);
}

static bool net_list(struct netp *np, struct slice *s, bool bracket, unsigned depth);

static bool parse_port(struct netp *np, struct slice t, struct rule_net_item *it)
{
    size_t colon = sl_find_byte(t, ':');
    struct slice a = sl_prefix(t, colon), b = colon < t.n ? sl_drop(t, colon + 1) : a;
    uint32_t lo = 0, hi = 65535;
    bool ok = (a.n || b.n) && (!a.n || sl_to_u32(a, &lo)) && (!b.n || sl_to_u32(b, &hi));
    if (!ok || lo > 65535 || hi > 65535)
        return fail(np->c, "bad port '%s' in %s%s (want any, N, N:M, N:, :M, a [list] or a $VARIABLE)",
                    SHOW(t), np->what, np->via);
    if (lo > hi)
        return fail(np->c, "port range '%s' in %s%s runs backwards", SHOW(t), np->what, np->via);
    it->kind = RULE_NET_PORTS;
    it->lo = (uint16_t)lo;
    it->hi = (uint16_t)hi;
    return true;
}

static bool parse_cidr(struct netp *np, struct slice t, struct rule_net_item *it)
{
    char a[64];
    size_t slash = sl_find_byte(t, '/');
    uint32_t bits = 0;
    struct ip_addr ip;
    bool ok = slash < sizeof a && sl_copy(sl_prefix(t, slash), a, sizeof a) == slash && ip_parse(a, &ip);
    if (ok) {
        bool v4 = ip_is_v4(&ip) && !sl_has_byte(sl_prefix(t, slash), ':');
        uint32_t max = v4 ? 32 : 128;
        if (slash < t.n)
            ok = sl_to_u32(sl_drop(t, slash + 1), &bits) && bits <= max;
        else
            bits = max;
        if (v4)
            bits += 96;
    }
    if (!ok)
        return fail(np->c, "bad address '%s' in %s%s (want any, an IPv4/IPv6 address or CIDR, a [list] or a $VARIABLE)",
                    SHOW(t), np->what, np->via);
    for (unsigned i = bits; i < 128; i++) /* host bits off, as Suricata does */
        ip.b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
    it->kind = RULE_NET_CIDR;
    it->prefix = (uint8_t)bits;
    it->net = ip;
    return true;
}

/* A negated group that holds "any" and no negation matches nothing (Suricata
 * refuses it too). Not judged while checking a variable's own value. */
static bool negates_all(const struct netp *np, unsigned idx)
{
    bool any = false;
    for (unsigned i = idx + 1; i <= idx + np->v[idx].size; i++) {
        if (np->v[i].neg)
            return false;
        any |= np->v[i].kind == RULE_NET_ANY;
    }
    return any && !np->c->var_check;
}

static bool net_elem(struct netp *np, struct slice *s, unsigned depth)
{
    struct rule_net_item it = { 0 };
    skip_ws(s);
    while (s->n && s->p[0] == '!') {
        it.neg = !it.neg;
        *s = sl_drop(*s, 1);
        skip_ws(s);
    }
    unsigned idx = 0;
    if (s->n && s->p[0] == '[') {
        *s = sl_drop(*s, 1);
        it.kind = RULE_NET_GROUP;
        if (!net_push(np, it, &idx) || !net_list(np, s, true, depth))
            return false;
        np->v[idx].size = (uint16_t)(np->n - idx - 1);
        if (it.neg && negates_all(np, idx))
            return fail(np->c, "'![...]' in %s%s negates every %s", np->what, np->via, np->port ? "port" : "address");
        return true;
    }
    if (s->n && s->p[0] == '$') {
        size_t k = 1;
        while (k < s->n && (s->p[k] == '_' || (s->p[k] >= 'A' && s->p[k] <= 'Z') ||
                            (s->p[k] >= 'a' && s->p[k] <= 'z') || (s->p[k] >= '0' && s->p[k] <= '9')))
            k++;
        struct slice name = sl_sub(*s, 1, k);
        *s = sl_drop(*s, k);
        const char *val = np->c->var ? np->c->var(np->c->var_ctx, name) : NULL;
        if (!name.n || !val) {
            const char *known = np->c->var ? np->c->var(np->c->var_ctx, SL_NULL) : NULL;
            return fail(np->c, "unknown variable '$%s' in %s%s (defined: %s)", SHOW(name), np->what, np->via,
                        known && known[0] ? known : "none");
        }
        if (depth >= RULE_MAX_VAR_DEPTH)
            return fail(np->c, "variable '$%s' nests more than %d deep (a loop?)", SHOW(name), RULE_MAX_VAR_DEPTH);
        char saved[sizeof np->via];
        memcpy(saved, np->via, sizeof saved);
        if (!np->via[0])
            snprintf(np->via, sizeof np->via, " (from $%s)", SHOW(name));
        it.kind = RULE_NET_GROUP;
        struct slice vs = sl_cstr(val);
        if (!net_push(np, it, &idx) || !net_list(np, &vs, false, depth + 1))
            return false;
        np->v[idx].size = (uint16_t)(np->n - idx - 1);
        memcpy(np->via, saved, sizeof saved);
        if (it.neg && negates_all(np, idx))
            return fail(np->c, "'!$%s' in %s%s negates every %s: $%s is any", SHOW(name), np->what, np->via,
                        np->port ? "port" : "address", SHOW(name));
        return true;
    }
    size_t k = 0;
    while (k < s->n && s->p[k] != ',' && s->p[k] != ']' && s->p[k] != '[' && !is_space(s->p[k]))
        k++;
    struct slice t = sl_prefix(*s, k);
    *s = sl_drop(*s, k);
    if (!t.n)
        return fail(np->c, "empty entry in %s%s", np->what, np->via);
    if (sl_is_nocase(t, "any")) {
        if (it.neg)
            return fail(np->c, "'!any' in %s%s matches nothing", np->what, np->via);
        it.kind = RULE_NET_ANY;
    } else if (!(np->port ? parse_port(np, t, &it) : parse_cidr(np, t, &it))) {
        return false;
    }
    return net_push(np, it, &idx);
}

static bool net_list(struct netp *np, struct slice *s, bool bracket, unsigned depth)
{
    for (;;) {
        if (!net_elem(np, s, depth))
            return false;
        skip_ws(s);
        if (s->n && s->p[0] == ',') {
            *s = sl_drop(*s, 1);
            continue;
        }
        if (bracket) {
            if (!s->n || s->p[0] != ']')
                return fail(np->c, "'[' not closed by ']' in %s%s", np->what, np->via);
            *s = sl_drop(*s, 1);
        } else if (s->n) {
            return fail(np->c, "unexpected '%s' in %s%s", SHOW(*s), np->what, np->via);
        }
        return true;
    }
}

/* Parse a header field into out; "any" (and anything that cannot exclude) is n = 0. */
static bool parse_net(struct pctx *c, struct slice text, bool port, const char *what, struct rule_net *out)
{
    struct netp *np = calloc(1, sizeof *np);
    if (!np)
        return fail(c, "out of memory");
    np->c = c;
    np->port = port;
    np->what = what;
    unsigned root = 0;
    bool ok = net_push(np, (struct rule_net_item){ .kind = RULE_NET_GROUP }, &root) &&
              net_list(np, &text, false, 0);
    if (ok) {
        np->v[root].size = (uint16_t)(np->n - 1);
        bool neg = false, any = false;
        for (unsigned i = 0; i < np->n; i++) {
            neg |= np->v[i].neg;
            any |= np->v[i].kind == RULE_NET_ANY;
        }
        out->n = 0;
        out->v = NULL;
        if (!(any && !neg)) {
            out->v = malloc(np->n * sizeof *out->v);
            if (!out->v)
                ok = fail(c, "out of memory");
            else {
                memcpy(out->v, np->v, np->n * sizeof *out->v);
                out->n = (uint16_t)np->n;
            }
        }
    }
    free(np);
    return ok;
}

static const char *any_var(void *ctx, struct slice name)
{
    (void)ctx;
    return name.n ? "any" : "";
}

bool rule_var_check(const char *value, char *err, size_t errlen)
{
    struct pctx c = { .err = err, .errlen = errlen, .var = any_var, .var_check = true };
    struct rule_net n = { 0 };
    char first[256];
    if (parse_net(&c, sl_cstr(value), false, "the value", &n)) {
        free(n.v);
        return true;
    }
    snprintf(first, sizeof first, "%s", err);
    if (parse_net(&c, sl_cstr(value), true, "the value", &n)) {
        free(n.v);
        return true;
    }
    snprintf(err, errlen, "'%s' is neither an address group nor a port group: %s", value, first);
    return false;
}

/* ---- quoted strings ------------------------------------------------------- */

static int hexval(uint8_t ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = sl_lower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

enum qmode { Q_TEXT, Q_CONTENT, Q_RAW };

/*
 * v is `"..."` (or `!"..."` when neg is non-NULL). Q_CONTENT decodes |hex| and
 * the escapes \" \; \\ \: \|; Q_TEXT the escapes only (others kept); Q_RAW
 * keeps every byte between the quotes (a regex). *out is malloc'd, NUL-ended.
 */
static bool parse_quoted(struct pctx *c, const char *kw, struct slice v, enum qmode mode, bool *neg,
                         uint8_t **out, uint32_t *outlen)
{
    v = sl_trim(v);
    if (neg) {
        *neg = false;
        if (v.n && v.p[0] == '!') {
            *neg = true;
            v = sl_ltrim(sl_drop(v, 1));
        }
    }
    if (v.n < 2 || v.p[0] != '"')
        return fail(c, "%s needs a quoted string: %s:\"...\"", kw, kw);
    uint8_t *o = malloc(v.n);
    if (!o)
        return fail(c, "out of memory");
    size_t n = 0, i = 1, hex_start = 0;
    bool hex = false, closed = false;
    int nib = -1;
    for (; i < v.n; i++) {
        uint8_t ch = v.p[i];
        if (hex) {
            if (ch == '"')
                break; /* reported below: hex never closed */
            if (ch == '|') {
                if (nib >= 0) {
                    free(o);
                    return fail(c, "%s: odd number of hex digits in '|%s|'", kw,
                                SHOW(sl_sub(v, hex_start, i)));
                }
                hex = false;
            } else if (!is_space(ch)) {
                int h = hexval(ch);
                if (h < 0) {
                    free(o);
                    return fail(c, "%s: bad hex digit '%c' in '|%s|'", kw, ch,
                                SHOW(sl_sub(v, hex_start, v.n - 1)));
                }
                if (nib < 0) {
                    nib = h;
                } else {
                    o[n++] = (uint8_t)(nib << 4 | h);
                    nib = -1;
                }
            }
            continue;
        }
        if (ch == '\\' && i + 1 < v.n) {
            uint8_t e = v.p[++i];
            if (mode == Q_RAW || (mode == Q_TEXT && e != '"' && e != ';' && e != '\\')) {
                o[n++] = '\\';
                o[n++] = e;
            } else if (e == '"' || e == ';' || e == '\\' || e == ':' || e == '|') {
                o[n++] = e;
            } else {
                free(o);
                return fail(c, "%s: unknown escape '\\%c' (escape only \\\" \\; \\\\ \\: \\|; write other bytes as |hex|)",
                            kw, e >= 0x20 && e < 0x7f ? e : '?');
            }
            continue;
        }
        if (ch == '"') {
            closed = true;
            break;
        }
        if (ch == '|' && mode == Q_CONTENT) {
            hex = true;
            hex_start = i + 1;
            continue;
        }
        o[n++] = ch;
    }
    if (hex) {
        free(o);
        return fail(c, "%s: '|' opens hex bytes that are never closed", kw);
    }
    if (!closed) {
        free(o);
        return fail(c, "%s: the quoted string is not closed", kw);
    }
    if (i + 1 != v.n) {
        free(o);
        return fail(c, "%s: unexpected '%s' after the closing quote (escape a quote inside as \\\")", kw,
                    SHOW(sl_ltrim(sl_drop(v, i + 1))));
    }
    o[n] = 0;
    *out = o;
    *outlen = (uint32_t)n;
    return true;
}

/* ---- options -------------------------------------------------------------- */

static bool num(struct pctx *c, const char *kw, struct slice v, uint32_t min, uint32_t max, uint32_t *out)
{
    v = sl_trim(v);
    if (!sl_to_u32(v, out) || *out < min || *out > max)
        return fail(c, "%s: '%s' is not a number from %u to %u", kw, SHOW(v), min, max);
    return true;
}

static bool once(struct pctx *c, unsigned bit, const char *kw)
{
    if (c->seen & bit)
        return fail(c, "'%s' given twice", kw);
    c->seen |= bit;
    return true;
}

static bool opt_msg(struct pctx *c, struct slice v)
{
    uint8_t *s;
    uint32_t n;
    if (!once(c, O_MSG, "msg") || !parse_quoted(c, "msg", v, Q_TEXT, NULL, &s, &n))
        return false;
    free(c->r->msg);
    c->r->msg = (char *)s;
    return true;
}

static bool opt_sid(struct pctx *c, struct slice v)
{
    return once(c, O_SID, "sid") && num(c, "sid", v, 1, UINT32_MAX, &c->r->sid);
}

static bool opt_rev(struct pctx *c, struct slice v)
{
    return once(c, O_REV, "rev") && num(c, "rev", v, 0, UINT32_MAX, &c->r->rev);
}

static bool opt_priority(struct pctx *c, struct slice v)
{
    uint32_t p;
    if (!once(c, O_PRIORITY, "priority") || !num(c, "priority", v, 1, 255, &p))
        return false;
    c->r->priority = (uint8_t)p;
    return true;
}

static bool opt_classtype(struct pctx *c, struct slice v)
{
    if (!once(c, O_CLASSTYPE, "classtype"))
        return false;
    v = sl_trim(v);
    for (size_t i = 0; i < N_CLASSTYPES; i++) {
        if (sl_eq(v, sl_cstr(classtypes[i].name))) {
            c->r->classtype = classtypes[i].name;
            return true;
        }
    }
    char known[1024];
    size_t o = 0;
    for (size_t i = 0; i < N_CLASSTYPES && o < sizeof known; i++)
        o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i ? ", " : "", classtypes[i].name);
    return fail(c, "unknown classtype '%s' (known: %s)", SHOW(v), known);
}

static bool valid_id(struct slice s)
{
    for (size_t i = 0; i < s.n; i++) {
        uint8_t ch = s.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return s.n > 0;
}

static bool opt_metadata(struct pctx *c, struct slice v)
{
    struct rule *r = c->r;
    while (v.n) {
        struct slice pair = sl_trim(sl_take_token(&v, ','));
        if (!pair.n)
            continue;
        size_t sp = 0;
        while (sp < pair.n && !is_space(pair.p[sp]))
            sp++;
        struct slice key = sl_prefix(pair, sp), val = sl_trim(sl_drop(pair, sp));
        if (!val.n)
            return fail(c, "metadata '%s' has no value (write 'key value, key value')", SHOW(key));
        if (sl_is(key, "tool") && !valid_id(val))
            return fail(c, "metadata tool '%s': use a lower-case id such as sipvicious (FINGERPRINTS.md)", SHOW(val));
        if (sl_is(key, "technique")) {
            unsigned t = 0;
            while (t < RULE_T__COUNT && !sl_eq(val, sl_cstr(techniques[t])))
                t++;
            if (t == RULE_T__COUNT)
                return fail(c, "metadata technique '%s' is not one of sweep, enumeration, bruteforce, flood, tollfraud, teardown_spoof, hijack, malformed",
                            SHOW(val));
            r->techniques |= (uint16_t)(1u << t);
        }
        if (r->n_meta >= RULE_MAX_METADATA)
            return fail(c, "more than %d metadata pairs", RULE_MAX_METADATA);
        struct rule_meta *m = &r->meta[r->n_meta];
        m->key = dup_slice(key);
        m->value = dup_slice(val);
        r->n_meta++;
        if (!m->key || !m->value)
            return fail(c, "out of memory");
    }
    return true;
}

static bool opt_reference(struct pctx *c, struct slice v)
{
    v = sl_trim(v);
    size_t comma = sl_find_byte(v, ',');
    if (comma == 0 || comma + 1 >= v.n)
        return fail(c, "reference '%s' needs 'type,id' (e.g. url,example.com/advisory)", SHOW(v));
    if (c->r->n_refs >= RULE_MAX_REFERENCES)
        return fail(c, "more than %d references", RULE_MAX_REFERENCES);
    if (!(c->r->refs[c->r->n_refs++] = dup_slice(v)))
        return fail(c, "out of memory");
    return true;
}

/* threshold: type T, track X, count N, seconds S  /  detection_filter: track, count, seconds */
static bool opt_threshold(struct pctx *c, struct slice v, bool filter)
{
    const char *kw = filter ? "detection_filter" : "threshold";
    if (c->seen & O_THRESHOLD)
        return fail(c, "'%s': a rule takes one threshold or one detection_filter", kw);
    c->seen |= O_THRESHOLD;
    struct rule_threshold *t = &c->r->thr;
    bool has_type = filter, has_track = false, has_count = false, has_seconds = false;
    t->type = filter ? RULE_THR_DETECTION_FILTER : RULE_THR_NONE;
    while (v.n) {
        struct slice pair = sl_trim(sl_take_token(&v, ','));
        size_t sp = 0;
        while (sp < pair.n && !is_space(pair.p[sp]))
            sp++;
        struct slice k = sl_prefix(pair, sp), val = sl_trim(sl_drop(pair, sp));
        if (sl_is(k, "type") && !filter) {
            has_type = true;
            if (sl_is(val, "limit"))
                t->type = RULE_THR_LIMIT;
            else if (sl_is(val, "threshold"))
                t->type = RULE_THR_THRESHOLD;
            else if (sl_is(val, "both"))
                t->type = RULE_THR_BOTH;
            else
                return fail(c, "threshold: type '%s' is not limit, threshold or both", SHOW(val));
        } else if (sl_is(k, "track")) {
            has_track = true;
            if (sl_is(val, "by_src"))
                t->track = RULE_TRACK_BY_SRC;
            else if (sl_is(val, "by_dst"))
                t->track = RULE_TRACK_BY_DST;
            else if (sl_is(val, "by_both"))
                t->track = RULE_TRACK_BY_BOTH;
            else if (sl_is(val, "by_rule"))
                t->track = RULE_TRACK_BY_RULE;
            else
                return fail(c, "%s: track '%s' is not by_src, by_dst, by_both or by_rule", kw, SHOW(val));
        } else if (sl_is(k, "count")) {
            has_count = true;
            if (!num(c, kw, val, 1, UINT32_MAX, &t->count))
                return false;
        } else if (sl_is(k, "seconds")) {
            has_seconds = true;
            if (!num(c, kw, val, 1, 86400 * 365, &t->seconds))
                return false;
        } else {
            return fail(c, "%s: unknown setting '%s' (known: %strack, count, seconds)", kw, SHOW(k),
                        filter ? "" : "type, ");
        }
    }
    if (!has_type || !has_track || !has_count || !has_seconds)
        return fail(c, "%s needs %s%s%s%s", kw, has_type ? "" : "type ", has_track ? "" : "track ",
                    has_count ? "" : "count ", has_seconds ? "" : "seconds");
    return true;
}

/* Select a sticky buffer. */
static bool opt_buffer(struct pctx *c, unsigned buf)
{
    if (c->buf_explicit && c->buf_items == 0)
        return fail(c, "'%s' is not followed by a content or pcre", rule_buf_name((unsigned)c->buf));
    c->buf = (int)buf;
    c->buf_explicit = true;
    c->buf_items = 0;
    c->last = -1;
    return true;
}

static struct rule_item *new_item(struct pctx *c, const char *kw)
{
    if (c->r->n_items >= RULE_MAX_ITEMS) {
        fail(c, "%s: more than %d content/pcre conditions in one rule", kw, RULE_MAX_ITEMS);
        return NULL;
    }
    c->last = c->r->n_items;
    c->buf_items++;
    struct rule_item *it = &c->r->items[c->r->n_items++];
    memset(it, 0, sizeof *it);
    it->buf = (uint8_t)c->buf;
    return it;
}

static bool opt_content(struct pctx *c, struct slice v)
{
    bool neg;
    uint8_t *pat;
    uint32_t n;
    if (!parse_quoted(c, "content", v, Q_CONTENT, &neg, &pat, &n))
        return false;
    if (n == 0 || n > RULE_MAX_CONTENT_BYTES) {
        free(pat);
        return fail(c, n ? "content longer than %d bytes" : "empty content \"\" (it would match anything)",
                    RULE_MAX_CONTENT_BYTES);
    }
    struct rule_item *it = new_item(c, "content");
    if (!it) {
        free(pat);
        return false;
    }
    it->kind = RULE_ITEM_CONTENT;
    it->pat = pat;
    it->len = n;
    it->flags = neg ? RULE_C_NEGATED : 0;
    return true;
}

static bool opt_pcre(struct pctx *c, struct slice v)
{
    bool neg;
    uint8_t *src;
    uint32_t n;
    if (!parse_quoted(c, "pcre", v, Q_RAW, &neg, &src, &n))
        return false;
    struct slice s = sl_make(src, n);
    size_t end = n;
    while (end > 1 && src[end - 1] != '/')
        end--;
    if (n < 2 || src[0] != '/' || end <= 1) {
        free(src);
        return fail(c, "pcre needs \"/regex/flags\", e.g. pcre:\"/^sip:\\d+@/i\"");
    }
    if (end == 2) {
        free(src);
        return fail(c, "pcre: empty regex '//' (it would match anything)");
    }
    uint32_t opts = 0;
    for (size_t i = end; i < n; i++) {
        switch (src[i]) {
        case 'i': opts |= PCRE2_CASELESS; break;
        case 's': opts |= PCRE2_DOTALL; break;
        case 'm': opts |= PCRE2_MULTILINE; break;
        case 'x': opts |= PCRE2_EXTENDED; break;
        case 'A': opts |= PCRE2_ANCHORED; break;
        case 'E': opts |= PCRE2_DOLLAR_ENDONLY; break;
        case 'G': opts |= PCRE2_UNGREEDY; break;
        case 'R':
            free(src);
            return fail(c, "pcre flag 'R' (relative to the previous match) is not supported: put the "
                           "pattern in one regex, or use content with distance/within");
        case 'U': case 'I': case 'P': case 'Q': case 'H': case 'D': case 'M': case 'C': case 'K':
        case 'S': case 'Y': case 'B': case 'V': case 'W': case 'Z': case 'O': {
            char f = (char)src[i];
            free(src);
            return fail(c, "pcre flag '%c' selects an HTTP buffer or option of Suricata's: put a sip.* "
                           "sticky buffer before the pcre instead", f);
        }
        default: {
            char f = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
            free(src);
            return fail(c, "unknown pcre flag '%c' (known: i s m x A E G)", f);
        }
        }
    }
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile(src + 1, end - 2, opts, &code, &off, NULL);
    if (!re) {
        char m[160];
        pcre2_get_error_message(code, (PCRE2_UCHAR *)m, sizeof m);
        bool ok = fail(c, "pcre '%s': %s at offset %zu", SHOW(s), m, (size_t)off);
        free(src);
        return ok;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* the interpreter is used when JIT is unavailable */
    struct rule_item *it = new_item(c, "pcre");
    if (!it) {
        pcre2_code_free(re);
        free(src);
        return false;
    }
    it->kind = RULE_ITEM_PCRE;
    it->pat = src;
    it->len = n;
    it->re = re;
    it->flags = neg ? RULE_C_NEGATED : 0;
    return true;
}

enum mod { M_NOCASE, M_STARTSWITH, M_ENDSWITH, M_DEPTH, M_OFFSET, M_DISTANCE, M_WITHIN, M_FAST };
static const struct {
    const char *name;
    uint16_t flag;
    uint16_t conflicts;
} mods[] = {
    [M_NOCASE] = { "nocase", RULE_C_NOCASE, 0 },
    [M_STARTSWITH] = { "startswith", RULE_C_STARTSWITH, RULE_C_OFFSET | RULE_C_DEPTH | RULE_C_RELATIVE },
    [M_ENDSWITH] = { "endswith", RULE_C_ENDSWITH, RULE_C_OFFSET | RULE_C_RELATIVE },
    [M_DEPTH] = { "depth", RULE_C_DEPTH, RULE_C_STARTSWITH | RULE_C_RELATIVE },
    [M_OFFSET] = { "offset", RULE_C_OFFSET, RULE_C_STARTSWITH | RULE_C_ENDSWITH | RULE_C_RELATIVE },
    [M_DISTANCE] = { "distance", RULE_C_DISTANCE, RULE_C_STARTSWITH | RULE_C_ENDSWITH | RULE_C_OFFSET | RULE_C_DEPTH },
    [M_WITHIN] = { "within", RULE_C_WITHIN, RULE_C_STARTSWITH | RULE_C_ENDSWITH | RULE_C_OFFSET | RULE_C_DEPTH },
    [M_FAST] = { "fast_pattern", RULE_C_FAST_PATTERN, 0 },
};

static const char *flag_name(uint16_t f)
{
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++)
        if (mods[i].flag & f)
            return mods[i].name;
    return "?";
}

static bool opt_modifier(struct pctx *c, enum mod m, struct slice v, bool has_val)
{
    const char *kw = mods[m].name;
    if (c->last < 0)
        return fail(c, "'%s' needs a content before it in %s", kw, rule_buf_name((unsigned)c->buf));
    struct rule_item *it = &c->r->items[c->last];
    if (it->kind != RULE_ITEM_CONTENT)
        return fail(c, "'%s' follows a pcre: modifiers apply to content (pcre takes /flags)", kw);
    if (it->flags & mods[m].flag)
        return fail(c, "'%s' given twice for one content", kw);
    if (it->flags & mods[m].conflicts)
        return fail(c, "'%s' cannot be combined with '%s' on one content", kw, flag_name(it->flags & mods[m].conflicts));
    bool wants_val = m == M_DEPTH || m == M_OFFSET || m == M_DISTANCE || m == M_WITHIN;
    if (wants_val && !has_val)
        return fail(c, "'%s' needs a number: %s:N", kw, kw);
    if (!wants_val && has_val)
        return fail(c, "'%s' takes no value", kw);
    uint32_t x = 0;
    switch (m) {
    case M_DEPTH:
    case M_WITHIN:
        if (!num(c, kw, v, 1, RULE_MAX_CONTENT_BYTES, &x))
            return false;
        if (x < it->len)
            return fail(c, "%s:%u is shorter than its content (%u bytes)", kw, x, it->len);
        if (m == M_DEPTH)
            it->depth = x;
        else
            it->within = x;
        break;
    case M_OFFSET:
        if (!num(c, kw, v, 0, RULE_MAX_CONTENT_BYTES, &x))
            return false;
        it->offset = x;
        break;
    case M_DISTANCE: {
        struct slice t = sl_trim(v);
        bool minus = t.n && t.p[0] == '-';
        if (!num(c, kw, minus ? sl_drop(t, 1) : t, 0, RULE_MAX_CONTENT_BYTES, &x))
            return false;
        it->distance = minus ? -(int32_t)x : (int32_t)x;
        break;
    }
    case M_FAST:
        if (it->flags & RULE_C_NEGATED)
            return fail(c, "fast_pattern on a negated content: choose a content that must be present");
        for (unsigned i = 0; i < c->r->n_items; i++)
            if (c->r->items[i].flags & RULE_C_FAST_PATTERN)
                return fail(c, "'fast_pattern' given on two contents");
        break;
    default:
        break;
    }
    it->flags |= mods[m].flag;
    return true;
}

/* ---- keyword table -------------------------------------------------------- */

enum kw_id {
    K_MSG, K_SID, K_REV, K_CLASSTYPE, K_PRIORITY, K_METADATA, K_REFERENCE, K_CONTENT, K_PCRE,
    K_THRESHOLD, K_DETECTION_FILTER, K_MOD, K_BUF,
};

static const struct {
    const char *name;
    uint8_t id;
    uint8_t arg; /* mod or buffer */
} keywords[] = {
    { "msg", K_MSG, 0 }, { "sid", K_SID, 0 }, { "rev", K_REV, 0 }, { "classtype", K_CLASSTYPE, 0 },
    { "priority", K_PRIORITY, 0 }, { "metadata", K_METADATA, 0 }, { "reference", K_REFERENCE, 0 },
    { "content", K_CONTENT, 0 }, { "pcre", K_PCRE, 0 },
    { "nocase", K_MOD, M_NOCASE }, { "startswith", K_MOD, M_STARTSWITH },
    { "endswith", K_MOD, M_ENDSWITH }, { "depth", K_MOD, M_DEPTH }, { "offset", K_MOD, M_OFFSET },
    { "distance", K_MOD, M_DISTANCE }, { "within", K_MOD, M_WITHIN }, { "fast_pattern", K_MOD, M_FAST },
    { "threshold", K_THRESHOLD, 0 }, { "detection_filter", K_DETECTION_FILTER, 0 },
    { "pkt_data", K_BUF, RULE_BUF_RAW }, { "sip.method", K_BUF, RULE_BUF_METHOD },
    { "sip.uri", K_BUF, RULE_BUF_URI }, { "sip.request_line", K_BUF, RULE_BUF_REQUEST_LINE },
    { "sip.stat_code", K_BUF, RULE_BUF_STAT_CODE }, { "sip.stat_msg", K_BUF, RULE_BUF_STAT_MSG },
    { "sip.response_line", K_BUF, RULE_BUF_RESPONSE_LINE }, { "sip.protocol", K_BUF, RULE_BUF_PROTOCOL },
    { "sip.user_agent", K_BUF, RULE_BUF_USER_AGENT }, { "sip.from", K_BUF, RULE_BUF_FROM },
    { "sip.to", K_BUF, RULE_BUF_TO }, { "sip.call_id", K_BUF, RULE_BUF_CALL_ID },
    { "sip.via", K_BUF, RULE_BUF_VIA }, { "sip.contact", K_BUF, RULE_BUF_CONTACT },
    { "sip.content_type", K_BUF, RULE_BUF_CONTENT_TYPE }, { "sip.header", K_BUF, RULE_BUF_HEADER },
    { "sip.body", K_BUF, RULE_BUF_BODY },
};
#define N_KEYWORDS (sizeof keywords / sizeof keywords[0])

/* Edit distance of two short names (for "did you mean"), capped at 9. */
static unsigned distance(struct slice a, const char *b)
{
    size_t bn = strlen(b);
    if (a.n > 40 || bn > 40)
        return 9;
    unsigned row[41];
    for (size_t j = 0; j <= bn; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= a.n; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= bn; j++) {
            unsigned up = row[j];
            unsigned best = diag + (sl_lower(a.p[i - 1]) != (uint8_t)b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[bn] > 9 ? 9 : row[bn];
}

static bool option(struct pctx *c, struct slice key, struct slice val, bool has_val)
{
    size_t k = 0;
    while (k < N_KEYWORDS && !sl_eq(key, sl_cstr(keywords[k].name)))
        k++;
    if (k == N_KEYWORDS) {
        char known[1024], hint[64] = "";
        size_t o = 0, best = N_KEYWORDS;
        unsigned best_d = 3; /* suggest only close names */
        for (size_t i = 0; i < N_KEYWORDS && o < sizeof known; i++) {
            o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", i ? ", " : "", keywords[i].name);
            unsigned d = distance(key, keywords[i].name);
            if (d < best_d) {
                best_d = d;
                best = i;
            }
        }
        if (best < N_KEYWORDS)
            snprintf(hint, sizeof hint, "did you mean '%s'? ", keywords[best].name);
        return fail(c, "unknown keyword '%s' (%sknown: %s)", SHOW(key), hint, known);
    }
    uint8_t id = keywords[k].id;
    if (id == K_MOD)
        return opt_modifier(c, keywords[k].arg, val, has_val);
    if (id == K_BUF) {
        if (has_val)
            return fail(c, "'%s' takes no value: write '%s; content:...'", keywords[k].name, keywords[k].name);
        return opt_buffer(c, keywords[k].arg);
    }
    if (!has_val || !sl_trim(val).n)
        return fail(c, "'%s' needs a value: %s:...", keywords[k].name, keywords[k].name);
    switch (id) {
    case K_MSG: return opt_msg(c, val);
    case K_SID: return opt_sid(c, val);
    case K_REV: return opt_rev(c, val);
    case K_CLASSTYPE: return opt_classtype(c, val);
    case K_PRIORITY: return opt_priority(c, val);
    case K_METADATA: return opt_metadata(c, val);
    case K_REFERENCE: return opt_reference(c, val);
    case K_CONTENT: return opt_content(c, val);
    case K_PCRE: return opt_pcre(c, val);
    case K_THRESHOLD: return opt_threshold(c, val, false);
    case K_DETECTION_FILTER: return opt_threshold(c, val, true);
    default: return fail(c, "internal: keyword '%s'", keywords[k].name);
    }
}

/* Split "key:value; key; ..." (quotes and backslash escapes protect ';'). */
static bool options(struct pctx *c, struct slice s)
{
    for (;;) {
        skip_ws(&s);
        if (!s.n)
            return true;
        size_t i = 0;
        while (i < s.n && s.p[i] != ':' && s.p[i] != ';')
            i++;
        struct slice key = sl_trim(sl_prefix(s, i)), val = SL_NULL;
        bool has_val = i < s.n && s.p[i] == ':';
        s = sl_drop(s, i);
        if (has_val) {
            s = sl_drop(s, 1);
            bool q = false;
            size_t j = 0;
            for (; j < s.n; j++) {
                if (s.p[j] == '\\')
                    j++;
                else if (s.p[j] == '"')
                    q = !q;
                else if (s.p[j] == ';' && !q)
                    break;
            }
            if (q)
                return fail(c, "'%s': the quoted string is not closed", SHOW(key));
            val = sl_prefix(s, j);
            s = sl_drop(s, j);
        }
        if (s.n)
            s = sl_drop(s, 1); /* ';' */
        if (!key.n) {
            if (has_val)
                return fail(c, "option without a keyword before ':'");
            continue; /* ";;" */
        }
        if (!option(c, key, val, has_val))
            return false;
    }
}

/* ---- header --------------------------------------------------------------- */

/* Next whitespace-separated field; spaces inside [...] belong to the field. */
static struct slice header_field(struct slice *s, bool *unclosed)
{
    skip_ws(s);
    size_t i = 0;
    int depth = 0;
    for (; i < s->n; i++) {
        uint8_t ch = s->p[i];
        if (ch == '[')
            depth++;
        else if (ch == ']' && depth)
            depth--;
        else if (is_space(ch) && !depth)
            break;
    }
    struct slice f = sl_prefix(*s, i);
    *s = sl_drop(*s, i);
    *unclosed |= depth > 0;
    return f;
}

static bool header(struct pctx *c, struct slice h)
{
    struct rule *r = c->r;
    struct slice f[8];
    unsigned n = 0;
    bool unclosed = false;
    for (;;) {
        struct slice x = header_field(&h, &unclosed);
        if (!x.n)
            break;
        if (n == 8)
            break;
        f[n++] = x;
    }
    if (unclosed)
        return fail(c, "'[' not closed by ']' in the rule header");
    if (n != 7)
        return fail(c, "the rule header needs 7 fields (action proto src_addr src_port -> dst_addr dst_port) before '(', found %u%s",
                    n, n == 8 ? " or more" : "");
    if (sl_is(f[0], "alert"))
        r->action = RULE_ACT_ALERT;
    else if (sl_is(f[0], "drop"))
        r->action = RULE_ACT_DROP;
    else if (sl_is(f[0], "pass"))
        r->action = RULE_ACT_PASS;
    else
        return fail(c, "unknown action '%s' (known: alert, drop, pass)", SHOW(f[0]));
    if (sl_is(f[1], "sip"))
        r->proto = RULE_PROTO_SIP;
    else if (sl_is(f[1], "udp"))
        r->proto = RULE_PROTO_UDP;
    else if (sl_is(f[1], "tcp"))
        r->proto = RULE_PROTO_TCP;
    else
        return fail(c, "unknown protocol '%s' (known: sip, udp, tcp)", SHOW(f[1]));
    if (sl_is(f[4], "->"))
        r->bidir = false;
    else if (sl_is(f[4], "<>"))
        r->bidir = true;
    else
        return fail(c, "bad direction '%s' (use -> or <>)", SHOW(f[4]));
    return parse_net(c, f[2], false, "source address", &r->src_addr) &&
           parse_net(c, f[3], true, "source port", &r->src_port) &&
           parse_net(c, f[5], false, "destination address", &r->dst_addr) &&
           parse_net(c, f[6], true, "destination port", &r->dst_port);
}

/* ---- after the options ---------------------------------------------------- */

static bool finish(struct pctx *c)
{
    struct rule *r = c->r;
    if (c->buf_explicit && c->buf_items == 0)
        return fail(c, "'%s' is not followed by a content or pcre", rule_buf_name((unsigned)c->buf));
    if (!r->sid)
        return fail(c, "the rule has no sid (add sid:N;)");

    /* Group items by buffer (order of first use), keeping rule order within a buffer. */
    struct rule_item tmp[RULE_MAX_ITEMS];
    unsigned n = 0;
    r->needs = RULE_NEED_REQUEST | RULE_NEED_RESPONSE;
    int req_buf = -1, resp_buf = -1;
    for (unsigned i = 0; i < r->n_items; i++) {
        unsigned b = r->items[i].buf;
        bool placed = false;
        for (unsigned g = 0; g < r->n_groups; g++)
            placed |= r->groups[g].buf == b;
        if (placed)
            continue;
        struct rule_group *g = &r->groups[r->n_groups++];
        g->buf = (uint8_t)b;
        g->first = (uint8_t)n;
        for (unsigned j = i; j < r->n_items; j++)
            if (r->items[j].buf == b)
                tmp[n++] = r->items[j];
        g->n = (uint8_t)(n - g->first);
        r->needs &= (uint8_t)rule_buf_needs(b);
        if (rule_buf_needs(b) == RULE_NEED_REQUEST && req_buf < 0)
            req_buf = (int)b;
        if (rule_buf_needs(b) == RULE_NEED_RESPONSE && resp_buf < 0)
            resp_buf = (int)b;
    }
    /* Items were gathered on rule_parse's stack: keep exactly what the rule uses. */
    struct rule_item *fit = malloc((n ? n : 1) * sizeof *fit);
    if (!fit)
        return fail(c, "out of memory");
    if (n)
        memcpy(fit, tmp, n * sizeof tmp[0]);
    r->items = fit;
    if (!r->needs)
        return fail(c, "'%s' exists only in requests and '%s' only in responses: the rule can never match",
                    rule_buf_name((unsigned)req_buf), rule_buf_name((unsigned)resp_buf));

    /* Prefilter: the fast_pattern content, else the longest content that must be present. */
    r->prefilter = -1;
    for (unsigned i = 0; i < r->n_items; i++) {
        const struct rule_item *it = &r->items[i];
        if (it->kind != RULE_ITEM_CONTENT || (it->flags & RULE_C_NEGATED))
            continue;
        if (it->flags & RULE_C_FAST_PATTERN) {
            r->prefilter = (int16_t)i;
            break;
        }
        if (r->prefilter < 0 || it->len > r->items[r->prefilter].len)
            r->prefilter = (int16_t)i;
    }

    if (!(c->seen & O_PRIORITY)) {
        r->priority = 3;
        for (size_t i = 0; r->classtype && i < N_CLASSTYPES; i++)
            if (classtypes[i].name == r->classtype)
                r->priority = classtypes[i].priority;
    }
    r->tool = rule_meta_get(r, "tool", 0);
    r->technique = rule_meta_get(r, "technique", 0);
    if (!r->msg && !(r->msg = dup_slice(SL_LIT(""))))
        return fail(c, "out of memory");
    return true;
}

struct rule *rule_parse(struct slice text, rule_var_fn *var, void *var_ctx, char *err, size_t errlen)
{
    struct rule *r = calloc(1, sizeof *r);
    struct rule_item items[RULE_MAX_ITEMS];
    struct pctx c = { .r = r, .err = err, .errlen = errlen, .var = var, .var_ctx = var_ctx, .last = -1 };
    if (errlen)
        err[0] = 0;
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->items = items;
    text = sl_trim(text);
    size_t open = sl_find_byte(text, '(');
    bool ok;
    if (open == text.n)
        ok = fail(&c, "no '(': a rule is 'action proto src_addr src_port -> dst_addr dst_port (options)'");
    else if (text.p[text.n - 1] != ')')
        ok = fail(&c, sl_has_byte(sl_drop(text, open), ')') ? "unexpected text after the closing ')'"
                                                             : "the options are not closed by ')'");
    else
        ok = header(&c, sl_prefix(text, open)) && options(&c, sl_sub(text, open + 1, text.n - 1)) &&
             finish(&c);
    if (!ok) {
        if (r->items == items) { /* not moved to the heap yet */
            for (unsigned i = 0; i < r->n_items; i++) {
                free(items[i].pat);
                if (items[i].re)
                    pcre2_code_free(items[i].re);
            }
            r->items = NULL;
            r->n_items = 0;
        }
        rule_free(r);
        return NULL;
    }
    return r;
}

void rule_free(struct rule *r)
{
    if (!r)
        return;
    for (unsigned i = 0; r->items && i < r->n_items; i++) {
        free(r->items[i].pat);
        if (r->items[i].re)
            pcre2_code_free(r->items[i].re);
    }
    free(r->items);
    free(r->src_addr.v);
    free(r->src_port.v);
    free(r->dst_addr.v);
    free(r->dst_port.v);
    for (unsigned i = 0; i < r->n_meta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    for (unsigned i = 0; i < r->n_refs; i++)
        free(r->refs[i]);
    free(r->msg);
    free(r);
}

const char *rule_meta_get(const struct rule *r, const char *key, unsigned nth)
{
    for (unsigned i = 0; i < r->n_meta; i++)
        if (strcmp(r->meta[i].key, key) == 0 && nth-- == 0)
            return r->meta[i].value;
    return NULL;
}
