/*
 * sip.c - SIP message framing and parsing (RFC 3261 §7, §18.3, §20): the start line,
 * one memchr-driven pass over the header lines, the key headers parsed eagerly, and
 * Content-Length framing for datagrams and streams. Never copies or allocates; URI and
 * header-value grammar live in sip_uri.c and sip_hdr.c.
 */
#include "dissect/sip_internal.h"

#include <stddef.h>

static void set_malformed(struct sip_msg *m, const char *why)
{
    if (!m->malformed) /* keep the first rule that broke */
        m->malformed = why;
}

/* ---- tables ---------------------------------------------------------------------------- */

static const char *const method_names[SIP_M__COUNT] = {
    [SIP_M_UNKNOWN] = "UNKNOWN", [SIP_M_INVITE] = "INVITE",     [SIP_M_ACK] = "ACK",
    [SIP_M_BYE] = "BYE",         [SIP_M_CANCEL] = "CANCEL",     [SIP_M_REGISTER] = "REGISTER",
    [SIP_M_OPTIONS] = "OPTIONS", [SIP_M_PRACK] = "PRACK",       [SIP_M_SUBSCRIBE] = "SUBSCRIBE",
    [SIP_M_NOTIFY] = "NOTIFY",   [SIP_M_PUBLISH] = "PUBLISH",   [SIP_M_INFO] = "INFO",
    [SIP_M_REFER] = "REFER",     [SIP_M_MESSAGE] = "MESSAGE",   [SIP_M_UPDATE] = "UPDATE",
};

/* Methods are case-sensitive (§7.1): "invite" is an unknown extension method. */
uint8_t sip_method_id(struct slice n)
{
#define M(lit, id)                                                   \
    if (n.n == sizeof(lit) - 1 && memcmp(n.p, lit, sizeof(lit) - 1) == 0) \
        return id;
    if (n.n < 3 || n.n > 9)
        return SIP_M_UNKNOWN;
    switch (n.p[0]) {
    case 'A': M("ACK", SIP_M_ACK) break;
    case 'B': M("BYE", SIP_M_BYE) break;
    case 'C': M("CANCEL", SIP_M_CANCEL) break;
    case 'I': M("INVITE", SIP_M_INVITE) M("INFO", SIP_M_INFO) break;
    case 'M': M("MESSAGE", SIP_M_MESSAGE) break;
    case 'N': M("NOTIFY", SIP_M_NOTIFY) break;
    case 'O': M("OPTIONS", SIP_M_OPTIONS) break;
    case 'P': M("PRACK", SIP_M_PRACK) M("PUBLISH", SIP_M_PUBLISH) break;
    case 'R': M("REGISTER", SIP_M_REGISTER) M("REFER", SIP_M_REFER) break;
    case 'S': M("SUBSCRIBE", SIP_M_SUBSCRIBE) break;
    case 'U': M("UPDATE", SIP_M_UPDATE) break;
    }
    return SIP_M_UNKNOWN;
#undef M
}

const char *sip_method_name(uint8_t id)
{
    return id < SIP_M__COUNT ? method_names[id] : method_names[SIP_M_UNKNOWN];
}

/* Header names are case-insensitive (§7.3.1); compact forms from §7.3.3 and the RFCs
 * that define them (o: 6665, r: 3515, b: 3892, u: 6665, x: 4028). Dispatch on the length
 * first: the inlined compare then fails on the first byte for all but one candidate. */
uint8_t sip_header_id(struct slice n)
{
#define H(lit, id)         \
    if (SIP_IS(n, lit)) \
        return id;
    switch (n.n) {
    case 1:
        switch (sl_lower(n.p[0])) {
        case 'i': return SIP_H_CALL_ID;
        case 'm': return SIP_H_CONTACT;
        case 'e': return SIP_H_CONTENT_ENCODING;
        case 'l': return SIP_H_CONTENT_LENGTH;
        case 'c': return SIP_H_CONTENT_TYPE;
        case 'f': return SIP_H_FROM;
        case 's': return SIP_H_SUBJECT;
        case 'k': return SIP_H_SUPPORTED;
        case 't': return SIP_H_TO;
        case 'v': return SIP_H_VIA;
        case 'o': return SIP_H_EVENT;
        case 'r': return SIP_H_REFER_TO;
        case 'b': return SIP_H_REFERRED_BY;
        case 'u': return SIP_H_ALLOW_EVENTS;
        case 'x': return SIP_H_SESSION_EXPIRES;
        }
        break;
    case 2: H("to", SIP_H_TO) break;
    case 3: H("via", SIP_H_VIA) break;
    case 4: H("from", SIP_H_FROM) H("cseq", SIP_H_CSEQ) H("date", SIP_H_DATE) break;
    case 5: H("route", SIP_H_ROUTE) H("allow", SIP_H_ALLOW) H("event", SIP_H_EVENT) break;
    case 6: H("server", SIP_H_SERVER) H("accept", SIP_H_ACCEPT) break;
    case 7:
        H("call-id", SIP_H_CALL_ID) H("contact", SIP_H_CONTACT) H("expires", SIP_H_EXPIRES)
        H("subject", SIP_H_SUBJECT) H("require", SIP_H_REQUIRE) H("warning", SIP_H_WARNING)
        break;
    case 8: H("refer-to", SIP_H_REFER_TO) break;
    case 9: H("supported", SIP_H_SUPPORTED) break;
    case 10: H("user-agent", SIP_H_USER_AGENT) break;
    case 11: H("referred-by", SIP_H_REFERRED_BY) H("retry-after", SIP_H_RETRY_AFTER) break;
    case 12:
        H("content-type", SIP_H_CONTENT_TYPE) H("max-forwards", SIP_H_MAX_FORWARDS)
        H("record-route", SIP_H_RECORD_ROUTE) H("allow-events", SIP_H_ALLOW_EVENTS)
        break;
    case 13: H("authorization", SIP_H_AUTHORIZATION) H("proxy-require", SIP_H_PROXY_REQUIRE) break;
    case 14: H("content-length", SIP_H_CONTENT_LENGTH) break;
    case 15: H("session-expires", SIP_H_SESSION_EXPIRES) break;
    case 16: H("www-authenticate", SIP_H_WWW_AUTHENTICATE) H("content-encoding", SIP_H_CONTENT_ENCODING) break;
    case 18: H("proxy-authenticate", SIP_H_PROXY_AUTHENTICATE) break;
    case 19: H("proxy-authorization", SIP_H_PROXY_AUTHORIZATION) break;
    }
    return SIP_H_OTHER;
#undef H
}

const struct sip_header *sip_header_get(const struct sip_msg *m, uint8_t id, unsigned nth)
{
    if (id >= SIP_H__COUNT || !m->first[id])
        return NULL;
    for (unsigned i = m->first[id] - 1u; i < m->n_hdr; i++)
        if (m->hdr[i].id == id && nth-- == 0)
            return &m->hdr[i];
    return NULL;
}

const struct sip_header *sip_header_by_name(const struct sip_msg *m, struct slice name)
{
    for (unsigned i = 0; i < m->n_hdr; i++)
        if (sl_eq_nocase(m->hdr[i].name, name))
            return &m->hdr[i];
    return NULL;
}

/* ---- start line ------------------------------------------------------------------------ */

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1; ABNF literals are case-insensitive). */
bool sip_version_ok(struct slice s)
{
    if (!sl_starts_lit_nocase(s, "SIP/"))
        return false;
    s = sl_drop(s, 4);
    size_t dot = sl_find_byte(s, '.');
    uint32_t v;
    return dot > 0 && dot < s.n && sl_to_u32(sl_prefix(s, dot), &v) &&
           sl_to_u32(sl_drop(s, dot + 1), &v);
}

static bool version_is_2_0(struct slice s) { return sl_eq(sl_drop(s, 4), SL_LIT("2.0")); }

static struct slice rtrim_wsp(struct slice s)
{
    while (s.n && sl_is_wsp(s.p[s.n - 1]))
        s.n--;
    return s;
}

static size_t token_len(struct slice s)
{
    size_t i = 0;
    while (i < s.n && sip_is_token(s.p[i]))
        i++;
    return i;
}

static bool starts_like_sip_uri(struct slice s)
{
    return sl_starts_lit_nocase(s, "sip:") || sl_starts_lit_nocase(s, "sips:") ||
           sl_starts_lit_nocase(s, "tel:");
}

enum start_kind { SK_NOT, SK_MAYBE, SK_REQ, SK_RESP };

/*
 * What the first line says. SIP is a request line whose last word starts "SIP/" or a
 * line starting "SIP/"; so "NOTIFY * HTTP/1.1" (SSDP) and "HTTP/1.1 200 OK" are not.
 * A request line lacking the version but aiming at a sip:/sips:/tel: URI is broken SIP
 * (RFC 4475 test.dat). An incomplete line (stream) may be SK_MAYBE: wait for the rest.
 */
static enum start_kind classify(struct slice line, bool complete)
{
    if (sl_starts_lit_nocase(line, "SIP/"))
        return SK_RESP;
    if (!complete && line.n < 4 && sl_eq_nocase(line, sl_prefix(SL_LIT("SIP/"), line.n)))
        return SK_MAYBE;
    size_t i = token_len(line);
    if (i == line.n)
        return complete ? SK_NOT : SK_MAYBE;
    if (i == 0 || line.p[i] != ' ')
        return SK_NOT;
    struct slice rest = sl_drop(line, i + 1);
    if (!complete) {
        while (rest.n && rest.p[0] == ' ')
            rest = sl_drop(rest, 1);
        return starts_like_sip_uri(rest) ? SK_REQ : SK_MAYBE;
    }
    rest = rtrim_wsp(rest);
    const uint8_t *sp = rest.n ? memrchr(rest.p, ' ', rest.n) : NULL;
    if (sp)
        return sl_starts_lit_nocase(sl_make(sp + 1, (size_t)(rest.p + rest.n - sp - 1)), "SIP/") ? SK_REQ : SK_NOT;
    return starts_like_sip_uri(rest) ? SK_REQ : SK_NOT;
}

bool sip_looks_like(struct slice buf)
{
    /* Skip what sip_parse skips (keep-alive CRLFs, NUL/SP/HTAB junk): a
     * datagram the parser would take must not be refused here, or a space
     * before the start line would hide a message from the analysis. */
    while (buf.n && (buf.p[0] == '\r' || buf.p[0] == '\n' || buf.p[0] == 0 || buf.p[0] == ' ' ||
                     buf.p[0] == '\t'))
        buf = sl_drop(buf, 1);
    struct slice line = sl_prefix(buf, sl_find_byte(buf, '\n'));
    if (line.n && line.p[line.n - 1] == '\r')
        line.n--;
    if (sl_starts_lit_nocase(line, "SIP/")) { /* Status-Line: version SP 3DIGIT SP */
        size_t sp = sl_find_byte(line, ' ');
        struct slice code = sl_sub(line, sp + 1, sp + 4);
        return sip_version_ok(sl_prefix(line, sp)) && code.n == 3 && sip_is_digit(code.p[0]) && sip_is_digit(code.p[1]) && sip_is_digit(code.p[2]) &&
               (line.n == sp + 4 || line.p[sp + 4] == ' ');
    }
    size_t i = token_len(line);
    if (i == 0 || i == line.n || line.p[i] != ' ')
        return false;
    struct slice rest = rtrim_wsp(sl_drop(line, i + 1));
    const uint8_t *sp = rest.n ? memrchr(rest.p, ' ', rest.n) : NULL;
    return sp && sp > rest.p && sip_version_ok(sl_make(sp + 1, (size_t)(rest.p + rest.n - sp - 1)));
}

/* Request-Line = Method SP Request-URI SP SIP-Version CRLF (§7.1, §25.1). */
static void parse_request_line(struct sip_msg *m, struct slice line)
{
    size_t i = token_len(line); /* classify() saw a token and a SP */
    m->is_request = true;
    m->method = sl_prefix(line, i);
    m->method_id = sip_method_id(m->method);

    struct slice rest = sl_drop(line, i + 1), r = rtrim_wsp(rest);
    const uint8_t *sp = r.n ? memrchr(r.p, ' ', r.n) : NULL;
    struct slice uri = r;
    if (sp) {
        uri = sl_make(r.p, (size_t)(sp - r.p));
        m->version = sl_make(sp + 1, (size_t)(r.p + r.n - sp - 1));
    }
    if (uri.n && (sl_is_wsp(uri.p[0]) || sl_is_wsp(uri.p[uri.n - 1])))
        set_malformed(m, "extra whitespace in Request-Line"); /* RFC 4475 lwsstart */
    while (uri.n && sl_is_wsp(uri.p[0]))
        uri = sl_drop(uri, 1);
    uri = rtrim_wsp(uri);
    m->ruri_raw = uri;

    struct slice target = uri;
    if (uri.n == 0) {
        set_malformed(m, "empty Request-URI");
    } else {
        for (size_t j = 0; j < uri.n; j++)
            if (sl_is_lws(uri.p[j])) {
                set_malformed(m, "whitespace in Request-URI"); /* RFC 4475 lwsruri */
                break;
            }
        if (uri.p[0] == '<') { /* RFC 4475 ltgtruri; the URI inside still gets parsed */
            set_malformed(m, "Request-URI in angle brackets");
            target = sl_sub(uri, 1, uri.p[uri.n - 1] == '>' ? uri.n - 1 : uri.n);
        }
    }
    const char *why = sip_uri_check(target, &m->ruri);
    if (why && uri.n)
        set_malformed(m, why);
    /* §19.1.1 table: headers are not allowed in a Request-URI (RFC 4475 escruri). */
    if (m->ruri.scheme_id != SIP_URI_OTHER && m->ruri.headers.n)
        set_malformed(m, "headers in Request-URI");
    if (!sp)
        set_malformed(m, "Request-Line lacks SIP-Version");
    else if (!sip_version_ok(m->version))
        set_malformed(m, "bad SIP-Version");
    else if (!version_is_2_0(m->version))
        set_malformed(m, "unsupported SIP version"); /* RFC 4475 badvers: answer 505 */
    if (r.n < rest.n)
        set_malformed(m, "trailing whitespace in Request-Line"); /* RFC 4475 trws */
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (§7.2); the reason may be
 * empty but the SP before it is not optional (RFC 4475 noreason keeps it). */
static void parse_status_line(struct sip_msg *m, struct slice line)
{
    size_t sp = sl_find_byte(line, ' ');
    m->is_request = false;
    m->version = sl_prefix(line, sp);
    if (!sip_version_ok(m->version))
        set_malformed(m, "bad SIP-Version");
    else if (!version_is_2_0(m->version))
        set_malformed(m, "unsupported SIP version");
    struct slice after = sl_drop(line, sp + 1);
    size_t d = 0;
    while (d < after.n && sip_is_digit(after.p[d]))
        d++;
    if (sp == line.n || d != 3) { /* RFC 4475 bigcode: 4294967301 is 10 digits, no overflow */
        set_malformed(m, "bad Status-Code");
        return;
    }
    uint16_t code = (uint16_t)((after.p[0] - '0') * 100 + (after.p[1] - '0') * 10 + (after.p[2] - '0'));
    if (code < 100 || code > 699) {
        set_malformed(m, "Status-Code out of range");
        return;
    }
    m->status = code;
    if (after.n == 3 || after.p[3] != ' ') {
        set_malformed(m, "Status-Line lacks SP before Reason-Phrase");
        m->reason = sl_drop(after, after.n);
        return;
    }
    m->reason = sl_drop(after, 4);
}

/* ---- headers --------------------------------------------------------------------------- */

struct ctx {
    struct sip_msg *m;
    struct slice from_raw, to_raw, cseq_raw; /* first values, to spot differing repeats */
    enum { CL_ABSENT, CL_OK, CL_BAD } cl_state;
    uint32_t cl;
    unsigned n_contact;
};

/* Every value of every Via header (§20.42: a header may hold a comma list). A broken
 * value is still recorded as the top Via if it is the first, filled as far as parsed. */
static void eager_via(struct ctx *cx, struct slice v)
{
    struct sip_msg *m = cx->m;
    struct slice rest = v;
    do {
        struct sip_via tmp;
        const char *why = sip_via_check(rest, &tmp, &rest);
        if (m->n_via == 0)
            m->via = tmp;
        if (m->n_via < UINT16_MAX)
            m->n_via++;
        if (why) {
            set_malformed(m, why);
            return;
        }
    } while (rest.n);
}

static void eager_contact(struct ctx *cx, struct slice v)
{
    struct sip_msg *m = cx->m;
    struct slice rest = v;
    do {
        struct sip_name_addr tmp;
        const char *why = sip_name_addr_check(rest, &tmp, &rest);
        if (!m->has_contact) {
            m->contact = tmp;
            m->has_contact = true;
        }
        cx->n_contact++;
        if (why) {
            set_malformed(m, why);
            return;
        }
        if (tmp.star && (cx->n_contact > 1 || rest.n))
            set_malformed(m, "Contact '*' with other values"); /* §10.2.2 */
        struct slice exp;
        uint32_t secs;
        if (sip_param_get(tmp.params, SL_LIT("expires"), &exp) && !sl_to_u32(exp, &secs))
            set_malformed(m, "Contact expires out of range"); /* RFC 4475 scalar02 */
    } while (rest.n);
}

/* From/To: one name-addr, no '*'; a repeat must be the same bytes (RFC 4475 multi01). */
static void eager_party(struct ctx *cx, struct slice v, struct sip_name_addr *na, struct slice *raw,
                        bool first, const char *twice)
{
    if (!first) {
        if (!sl_eq(*raw, v))
            set_malformed(cx->m, twice);
        return;
    }
    *raw = v;
    struct slice rest;
    const char *why = sip_name_addr_check(v, na, &rest);
    if (why)
        set_malformed(cx->m, why);
    else if (rest.n)
        set_malformed(cx->m, "several values in a single-valued header");
    else if (na->star)
        set_malformed(cx->m, "'*' outside Contact");
}

/* A decimal header value (§25.1 1*DIGIT): "out of range" when all digits but too big. */
static bool number_ok(struct sip_msg *m, struct slice v, uint32_t *out, const char *bad, const char *range)
{
    if (sl_to_u32(v, out))
        return true;
    size_t i = 0;
    while (i < v.n && sip_is_digit(v.p[i]))
        i++;
    set_malformed(m, v.n && i == v.n ? range : bad);
    return false;
}

static void eager(struct ctx *cx, uint8_t id, struct slice v)
{
    struct sip_msg *m = cx->m;
    bool first = m->count[id] == 1;
    uint32_t n;
    switch (id) {
    case SIP_H_CALL_ID:
        if (!first) {
            if (!sl_eq(m->call_id, v))
                set_malformed(m, "Call-ID appears twice");
            break;
        }
        m->call_id = v;
        /* callid = word [ "@" word ] (§25.1): visible ASCII, so no LWS inside */
        for (size_t i = 0; i < v.n; i++)
            if (v.p[i] <= 0x20 || v.p[i] >= 0x7f) {
                set_malformed(m, "bad Call-ID");
                break;
            }
        if (v.n == 0)
            set_malformed(m, "bad Call-ID");
        break;
    case SIP_H_FROM:
        eager_party(cx, v, &m->from, &cx->from_raw, first, "From appears twice");
        break;
    case SIP_H_TO:
        eager_party(cx, v, &m->to, &cx->to_raw, first, "To appears twice");
        break;
    case SIP_H_CSEQ:
        if (!first) {
            if (!sl_eq(cx->cseq_raw, v))
                set_malformed(m, "CSeq appears twice");
        } else {
            const char *why = sip_cseq_check(v, &m->cseq);
            cx->cseq_raw = v;
            if (why)
                set_malformed(m, why);
            else
                m->has_cseq = true;
        }
        break;
    case SIP_H_VIA:
        eager_via(cx, v);
        break;
    case SIP_H_CONTACT:
        eager_contact(cx, v);
        break;
    case SIP_H_CONTENT_LENGTH:
        /* Never trusted unless it is one plain number, the same every time (§18.3,
         * RFC 4475 ncl: -999, mcl01: 13 then 5). */
        if (v.n && v.p[0] == '-') {
            set_malformed(m, "negative Content-Length");
            cx->cl_state = CL_BAD;
        } else if (!number_ok(m, v, &n, "bad Content-Length", "Content-Length out of range")) {
            cx->cl_state = CL_BAD;
        } else if (cx->cl_state == CL_ABSENT) {
            cx->cl_state = CL_OK;
            cx->cl = n;
        } else if (cx->cl_state == CL_OK && cx->cl != n) {
            set_malformed(m, "conflicting Content-Length values");
            cx->cl_state = CL_BAD;
        }
        break;
    case SIP_H_CONTENT_TYPE:
        if (first)
            m->content_type = v;
        break;
    case SIP_H_USER_AGENT:
        if (first)
            m->user_agent = v;
        break;
    case SIP_H_SERVER:
        if (first)
            m->server = v;
        break;
    case SIP_H_EXPIRES: /* delta-seconds, 32 bits (§20.19, RFC 4475 scalar02) */
        if (first && number_ok(m, v, &m->expires, "bad Expires", "Expires out of range"))
            m->has_expires = true;
        break;
    case SIP_H_MAX_FORWARDS: /* §20.22: an integer 0-255 */
        if (number_ok(m, v, &n, "bad Max-Forwards", "Max-Forwards out of range") && n > 255)
            set_malformed(m, "Max-Forwards out of range");
        break;
    case SIP_H_DATE: /* rfc1123-date always ends in "GMT" (§20.17; RFC 4475 baddate: EST) */
        if (v.n < 4 || v.p[v.n - 4] != ' ' || !sl_is_nocase(sl_drop(v, v.n - 3), "GMT"))
            set_malformed(m, "Date not in GMT");
        break;
    }
}

static void add_header(struct ctx *cx, struct slice name, const uint8_t *vstart, const uint8_t *vend)
{
    struct sip_msg *m = cx->m;
    vstart = sip_skip_lws(vstart, vend);
    while (vend > vstart && sl_is_lws(vend[-1]))
        vend--;
    struct slice value = sl_make(vstart, (size_t)(vend - vstart));
    uint8_t id = sip_header_id(name);
    if (m->n_hdr < SIP_MAX_HEADERS) {
        m->hdr[m->n_hdr] = (struct sip_header){ name, value, id };
        if (!m->first[id])
            m->first[id] = (uint16_t)(m->n_hdr + 1);
        m->n_hdr++;
    } else {
        /* Not kept, but still counted and parsed: a Call-ID hidden behind 200 junk
         * headers must not vanish from the message. */
        m->anomalies |= SIP_ANOM_TOO_MANY_HEADERS;
    }
    if (m->count[id] < 255)
        m->count[id]++;
    eager(cx, id, value);
}

/*
 * Walk the header lines in [p, e): "name : value", continuation lines (starting with
 * SP/HTAB) extend the value (§7.3.1 folding). Lines end at LF, a CR before it is dropped
 * (bare LF accepted, as in the RFC 5118 archive). Returns the byte after the blank line
 * that ends the block, or NULL; `tail_is_line` makes an unterminated last line a header
 * (the end of a datagram ends it).
 */
static const uint8_t *parse_headers(struct ctx *cx, const uint8_t *p, const uint8_t *e, bool tail_is_line)
{
    struct sip_msg *m = cx->m;
    struct slice name = SL_NULL;
    const uint8_t *vstart = NULL, *vend = NULL;
    while (p < e) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl && !tail_is_line)
            break;
        const uint8_t *le = nl ? nl : e, *next = nl ? nl + 1 : e;
        if (le > p && le[-1] == '\r')
            le--;
        if (le == p && nl) { /* the empty line */
            if (vstart)
                add_header(cx, name, vstart, vend);
            return next;
        }
        if (sl_is_wsp(*p)) {
            if (vstart) {
                vend = le;
                m->anomalies |= SIP_ANOM_FOLDED;
            } else {
                set_malformed(m, "continuation line without a header");
            }
        } else {
            if (vstart)
                add_header(cx, name, vstart, vend);
            vstart = NULL;
            const uint8_t *colon = memchr(p, ':', (size_t)(le - p));
            if (!colon) {
                set_malformed(m, "header line without ':'");
            } else {
                /* field-name is a token; WSP may precede ':' (HCOLON, §25.1) */
                name = rtrim_wsp(sl_make(p, (size_t)(colon - p)));
                if (token_len(name) != name.n)
                    set_malformed(m, "bad header name");
                vstart = colon + 1;
                vend = le;
            }
        }
        p = next;
    }
    if (vstart)
        add_header(cx, name, vstart, vend);
    return NULL;
}

/* The byte after the first empty line in [p, e) (p at a line start), or NULL. */
static const uint8_t *find_blank_line(const uint8_t *p, const uint8_t *e)
{
    while (p < e) {
        if (*p == '\n')
            return p + 1;
        if (*p == '\r' && p + 1 < e && p[1] == '\n')
            return p + 2;
        const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    return NULL;
}

/* Rules over the whole header block: mandatory headers (§8.1.1), CSeq vs method (§8.1.1.5),
 * the top Via branch (§8.1.1.7: "z9hG4bK" alone carries no transaction id). */
static void check_message(struct ctx *cx)
{
    struct sip_msg *m = cx->m;
    static const struct { uint8_t id; const char *why; } need[] = {
        { SIP_H_VIA, "missing mandatory header Via" },
        { SIP_H_FROM, "missing mandatory header From" },
        { SIP_H_TO, "missing mandatory header To" },
        { SIP_H_CALL_ID, "missing mandatory header Call-ID" },
        { SIP_H_CSEQ, "missing mandatory header CSeq" },
    };
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!m->count[need[i].id])
            set_malformed(m, need[i].why);
    if (m->has_cseq) {
        if (!m->is_request) { /* the transaction method of a response */
            m->method = m->cseq.method;
            m->method_id = m->cseq.method_id;
        } else if (!sl_eq(m->cseq.method, m->method)) {
            set_malformed(m, "CSeq method differs from Request-Line"); /* RFC 4475 mismatch01/02 */
        }
    }
    struct slice b = m->via.branch;
    if (b.p) {
        /* Any branch without the RFC 3261 cookie is worth counting (RFC 2543 clients,
         * hand-made scanners); the cookie alone or nothing is broken (RFC 4475 badbranch).
         * No branch at all is plain RFC 2543 (inv2543) and not flagged. */
        if (b.n == 0 || sl_is(b, "z9hG4bK")) {
            m->anomalies |= SIP_ANOM_BAD_BRANCH;
            set_malformed(m, "empty branch");
        } else if (!sl_starts_lit(b, "z9hG4bK")) {
            m->anomalies |= SIP_ANOM_BAD_BRANCH;
        }
    }
    m->content_length = cx->cl_state == CL_OK ? (int64_t)cx->cl : -1;
}

static void msg_reset(struct sip_msg *m)
{
    /* Everything but hdr[]: entries are written before n_hdr counts them, and skipping
     * the ~5 KB array keeps the reset cheap at a million messages per second. */
    _Static_assert(offsetof(struct sip_msg, n_hdr) ==
                       offsetof(struct sip_msg, hdr) + sizeof(((struct sip_msg *)0)->hdr),
                   "hdr[] must sit right before n_hdr");
    memset(m, 0, offsetof(struct sip_msg, hdr));
    memset(&m->n_hdr, 0, sizeof *m - offsetof(struct sip_msg, n_hdr));
    m->content_length = -1;
}

static bool only_crlf(const uint8_t *p, const uint8_t *e)
{
    for (; p < e; p++)
        if (*p != '\r' && *p != '\n')
            return false;
    return true;
}

/*
 * On SIP_INCOMPLETE, *used counts the leading CRLF keep-alives (RFC 5626 §3.5.1) and
 * NUL/SP/HTAB padding the caller may already drop (often 0); on SIP_NOT_SIP it is the
 * bytes of a datagram that holds nothing but such padding, else 0.
 */
enum sip_result sip_parse(struct slice buf, enum sip_transport t, struct sip_msg *m, size_t *used)
{
    msg_reset(m);
    /* §7.5: CRLFs before the start line are ignored (keep-alives); NUL/SP/HTAB are junk
     * worth counting (Zeek's sip_junk_before_request). */
    size_t skip = 0;
    bool junk = false;
    for (; skip < buf.n; skip++) {
        uint8_t c = buf.p[skip];
        if (c == 0 || c == ' ' || c == '\t')
            junk = true;
        else if (c != '\r' && c != '\n')
            break;
    }
    *used = skip;
    struct slice s = sl_drop(buf, skip);
    if (s.n == 0)
        return t == SIP_DGRAM ? SIP_NOT_SIP : SIP_INCOMPLETE;

    /* Nothing of one message is looked at beyond SIP_MAX_MSG_BYTES: a sender that never
     * ends its start line or header block gets cut there, never waited for. */
    bool at_limit = t == SIP_DGRAM ? s.n > SIP_MAX_MSG_BYTES : s.n >= SIP_MAX_MSG_BYTES;
    const uint8_t *e = s.p + s.n, *lim = s.n > SIP_MAX_MSG_BYTES ? s.p + SIP_MAX_MSG_BYTES : e;
    const uint8_t *nl = memchr(s.p, '\n', (size_t)(lim - s.p));
    bool whole_line = nl || (t == SIP_DGRAM && !at_limit);
    struct slice line = sl_make(s.p, (size_t)((nl ? nl : lim) - s.p));
    if (whole_line && line.n && line.p[line.n - 1] == '\r')
        line.n--;
    enum start_kind kind = classify(line, whole_line);
    if (kind == SK_NOT || (kind == SK_MAYBE && (at_limit || t == SIP_DGRAM))) {
        *used = 0;
        return SIP_NOT_SIP;
    }
    if (!whole_line && !at_limit)
        return SIP_INCOMPLETE;
    m->start_line = line;
    if (junk)
        m->anomalies |= SIP_ANOM_LEADING_JUNK;
    if (!whole_line) { /* a start line longer than any message may be */
        m->is_request = kind == SK_REQ;
        if (m->is_request) {
            m->method = sl_prefix(line, token_len(line));
            m->method_id = sip_method_id(m->method);
        }
        set_malformed(m, "header block too long");
        m->raw = line;
        *used = skip + line.n;
        return SIP_OK;
    }
    if (kind == SK_REQ)
        parse_request_line(m, line);
    else
        parse_status_line(m, line);

    struct ctx cx = { .m = m };
    const uint8_t *hs = nl ? nl + 1 : e, *hend;
    if (t == SIP_STREAM) {
        /* Find the end first so a partial block is not parsed again and again. */
        hend = find_blank_line(hs, lim);
        if (!hend && !at_limit) {
            *used = skip;
            return SIP_INCOMPLETE;
        }
        parse_headers(&cx, hs, hend ? hend : lim, false);
    } else {
        hend = parse_headers(&cx, hs, lim, !at_limit);
        if (!hend && !at_limit)
            hend = e; /* no empty line: the datagram ends the headers (RFC 4475 baddn) */
    }
    if (!hend) {
        set_malformed(m, "header block too long");
        check_message(&cx);
        m->raw = sl_make(s.p, (size_t)(lim - s.p));
        *used = skip + m->raw.n;
        return SIP_OK;
    }
    check_message(&cx);

    /* Framing, §18.3: Content-Length bytes after the empty line. */
    size_t hdr_len = (size_t)(hend - s.p), avail = s.n - hdr_len, body = 0, take;
    if (t == SIP_DGRAM) {
        if (cx.cl_state == CL_OK && cx.cl <= avail) {
            body = cx.cl;
            take = hdr_len + body;
            /* RFC 4475 dblreq: what follows is not a second message; the caller decides. */
            if (only_crlf(s.p + take, e))
                take = s.n;
            else
                m->anomalies |= SIP_ANOM_TRAILING_BYTES;
        } else {
            body = avail;
            take = s.n;
            if (cx.cl_state == CL_OK) {
                m->anomalies |= SIP_ANOM_CL_EXCEEDS;
                set_malformed(m, "Content-Length exceeds datagram"); /* RFC 4475 clerr */
            } else if (cx.cl_state == CL_ABSENT) {
                m->anomalies |= SIP_ANOM_CL_MISSING; /* legal on UDP: body to the end */
            }
        }
    } else {
        if (cx.cl_state == CL_OK && cx.cl > SIP_MAX_CONTENT_LENGTH) {
            set_malformed(m, "Content-Length too large");
        } else if (cx.cl_state == CL_OK) {
            if (avail < cx.cl) {
                *used = skip;
                m->stream_need = skip + hdr_len + (size_t)cx.cl;
                return SIP_INCOMPLETE;
            }
            body = cx.cl;
        } else if (cx.cl_state == CL_ABSENT) {
            m->anomalies |= SIP_ANOM_CL_MISSING;
            set_malformed(m, "missing Content-Length on a stream"); /* §18.3: MUST */
        }
        take = hdr_len + body;
    }
    m->body = sl_make(hend, body);
    m->raw = sl_make(s.p, hdr_len + body);
    *used = skip + take;
    return SIP_OK;
}
