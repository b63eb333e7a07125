/*
 * json.c - the one escaping rule for attacker bytes (see json.h) and the
 * jansson builders shared by the sinks and the report. No I/O here.
 */
#include "output/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/timefmt.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is invalid:
 * overlong forms, surrogates and code points past U+10FFFF are invalid, as in
 * jansson's own check, so our output always passes json_stringn. */
static size_t u8_seq(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Code points that are valid but unsafe to show: they move the cursor, hide
 * text or reorder it on a terminal or in a viewer. */
static bool cp_escaped(uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0x2028 || cp == 0x2029;
}

bool js_is_clean(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') { /* fast path: printable ASCII */
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = u8_seq(p + i, n - i, &cp);
        if (len == 0 || cp == '\\' || cp_escaped(cp))
            return false;
        i += len;
    }
    return true;
}

size_t js_escape(const uint8_t *p, size_t n, char *out, size_t cap, size_t *consumed)
{
    static const char hex[] = "0123456789abcdef";
    size_t i = 0, o = 0;
    if (cap == 0) {
        if (consumed)
            *consumed = 0;
        return 0;
    }
    while (i < n) {
        uint32_t cp = 0;
        size_t len = u8_seq(p + i, n - i, &cp);
        if (len > 0 && cp == '\\') {
            if (o + 2 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (len > 0 && !cp_escaped(cp)) {
            if (o + len >= cap)
                break;
            memcpy(out + o, p + i, len);
            o += len;
        } else {
            /* Invalid: escape one byte and resync on the next. Unsafe: escape
             * every byte of the character so it stays recognisable. */
            size_t nb = len ? len : 1;
            if (o + 4 * nb >= cap)
                break;
            for (size_t k = 0; k < nb; k++) {
                uint8_t b = p[i + k];
                out[o++] = '\\';
                out[o++] = 'x';
                out[o++] = hex[b >> 4];
                out[o++] = hex[b & 15];
            }
            len = nb;
        }
        i += len;
    }
    out[o] = '\0';
    if (consumed)
        *consumed = i;
    return o;
}

void js_buf_free(struct js_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->cap = 0;
}

bool js_buf_reserve(struct js_buf *b, size_t n)
{
    if (n <= b->cap)
        return true;
    char *np = realloc(b->p, n);
    if (!np)
        return false;
    b->p = np;
    b->cap = n;
    return true;
}

const char *js_text_of(struct js_buf *b, struct slice s, size_t *len, bool *copied)
{
    if (js_is_clean(s.p, s.n)) {
        *len = s.n;
        *copied = false;
        return s.n ? (const char *)s.p : "";
    }
    if (!js_buf_reserve(b, JS_ESC_MAX(s.n)))
        return NULL;
    *len = js_escape(s.p, s.n, b->p, b->cap, NULL);
    *copied = true;
    return b->p;
}

static json_t *or_null(json_t *v)
{
    return v ? v : json_null();
}

json_t *js_str(struct slice s)
{
    if (js_is_clean(s.p, s.n))
        return or_null(json_stringn(s.n ? (const char *)s.p : "", s.n));
    char small[256];
    if (JS_ESC_MAX(s.n) <= sizeof small) { /* most header values: no heap copy */
        size_t n = js_escape(s.p, s.n, small, sizeof small, NULL);
        return or_null(json_stringn(small, n));
    }
    char *big = malloc(JS_ESC_MAX(s.n));
    if (!big)
        return json_null();
    size_t n = js_escape(s.p, s.n, big, JS_ESC_MAX(s.n), NULL);
    json_t *v = json_stringn(big, n);
    free(big);
    return or_null(v);
}

json_t *js_cstr(const char *s)
{
    return s ? js_str(sl_cstr(s)) : json_null();
}

json_t *js_text(const char *p, size_t n)
{
    json_t *v = json_stringn(p ? p : "", p ? n : 0);
    /* Text from a store some other tool wrote to may not be clean: escape it
     * rather than lose it. */
    return v ? v : js_str(sl_make(p, n));
}

json_t *js_time(uint64_t us)
{
    char buf[TIME_STRLEN];
    if (us == 0)
        return json_null();
    return or_null(json_string(time_format_us(us, buf, sizeof buf)));
}

json_t *js_ip(const struct ip_addr *a)
{
    char buf[IP_STRLEN];
    return or_null(json_string(ip_format(a, buf, sizeof buf)));
}

json_t *js_uint(uint64_t v)
{
    return or_null(json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v));
}

json_t *js_duration(uint64_t answer_us, uint64_t end_us)
{
    double d = answer_us && end_us > answer_us ? (double)(end_us - answer_us) / 1e6 : 0.0;
    return or_null(json_real(d));
}

const char *js_proto_name(uint8_t proto, bool upper)
{
    switch (proto) {
    case 17: return upper ? "UDP" : "udp";
    case 6: return upper ? "TCP" : "tcp";
    case 132: return upper ? "SCTP" : "sctp";
    default: return NULL;
    }
}

const char *js_method_name(unsigned id)
{
    static const char *const names[SIP_M__COUNT] = {
        [SIP_M_UNKNOWN] = "OTHER", [SIP_M_INVITE] = "INVITE", [SIP_M_ACK] = "ACK",
        [SIP_M_BYE] = "BYE", [SIP_M_CANCEL] = "CANCEL", [SIP_M_REGISTER] = "REGISTER",
        [SIP_M_OPTIONS] = "OPTIONS", [SIP_M_PRACK] = "PRACK", [SIP_M_SUBSCRIBE] = "SUBSCRIBE",
        [SIP_M_NOTIFY] = "NOTIFY", [SIP_M_PUBLISH] = "PUBLISH", [SIP_M_INFO] = "INFO",
        [SIP_M_REFER] = "REFER", [SIP_M_MESSAGE] = "MESSAGE", [SIP_M_UPDATE] = "UPDATE",
    };
    return id < SIP_M__COUNT && names[id] ? names[id] : "OTHER";
}

json_t *js_capture_stats(const struct capture_stats *st)
{
    json_t *o = json_object();
    if (!o)
        return json_null();
    if (!st)
        return o;
#define F(name) js_set(o, #name, js_uint(st->name))
    F(frames); F(bytes); F(ipv4); F(ipv6); F(non_ip); F(udp); F(tcp); F(other_l4);
    F(vlan); F(pppoe); F(gre); F(ipip); F(hep); F(truncated); F(frags_v4); F(frags_v6);
    F(reassembled_v4); F(reassembled_v6); F(tcp_streams); F(tcp_bytes);
#undef F
    json_t *a = json_object();
    if (a) {
        for (int i = 0; i < CAP_A__COUNT; i++) {
            const char *name = cap_anomaly_name((enum cap_anomaly)i);
            char fallback[24];
            if (!name || !*name) {
                snprintf(fallback, sizeof fallback, "anomaly_%d", i);
                name = fallback;
            }
            js_set(a, name, js_uint(st->anomalies[i]));
        }
        js_set(o, "anomalies", a);
    }
    return o;
}

/* n is clamped to max: the counts come from another module's struct. */
static json_t *slice_array(const struct slice *v, unsigned n, unsigned max)
{
    if (n > max)
        n = max;
    json_t *a = json_array();
    if (!a)
        return json_null();
    for (unsigned i = 0; i < n; i++)
        js_push(a, js_str(v[i]));
    return a;
}

static json_t *cstr_array(const char *const *v, unsigned n, unsigned max)
{
    if (n > max)
        n = max;
    json_t *a = json_array();
    if (!a)
        return json_null();
    for (unsigned i = 0; i < n; i++)
        js_push(a, js_cstr(v[i]));
    return a;
}

json_t *js_source(const struct ev_source *e)
{
    json_t *o = json_object(), *m = json_object(), *auth = json_object();
    json_t *creds = json_array(), *nums = json_array();
    if (!o || !m || !auth || !creds || !nums) {
        json_decref(o), json_decref(m), json_decref(auth), json_decref(creds), json_decref(nums);
        return json_null();
    }
    js_set(o, "ip", js_ip(&e->ip));
    if (e->country.n)
        js_set(o, "country", js_str(e->country));
    if (e->asn.n)
        js_set(o, "asn", js_str(e->asn));
    if (e->as_org.n)
        js_set(o, "as_org", js_str(e->as_org));
    js_set(o, "first_seen", js_time(e->first_us));
    js_set(o, "last_seen", js_time(e->last_us));
    js_set(o, "sip_messages", js_uint(e->sip_messages));
    /* Known methods first in enum order, unknown tokens last as "OTHER". */
    for (unsigned i = 1; i <= SIP_M__COUNT; i++) {
        unsigned id = i % SIP_M__COUNT;
        if (e->methods[id])
            js_set(m, js_method_name(id), js_uint(e->methods[id]));
    }
    js_set(o, "methods", m);
    js_set(o, "user_agents", slice_array(e->user_agents, e->n_user_agents, SRC_MAX_USER_AGENTS));
    js_set(o, "targets", js_uint(e->targets));
    js_set(o, "users_tried", slice_array(e->users_tried, e->n_users_tried, SRC_MAX_USERS));
    js_set(o, "extensions_found", slice_array(e->extensions_found, e->n_extensions_found, SRC_MAX_EXTENSIONS));
    js_set(auth, "attempts", js_uint(e->auth_attempts));
    js_set(auth, "failures", js_uint(e->auth_failures));
    js_set(auth, "successes", js_uint(e->auth_successes));
    for (unsigned i = 0; i < e->n_credentials && i < SRC_MAX_CREDENTIALS; i++) {
        const struct ev_credential *c = &e->credentials[i];
        json_t *co = json_object();
        if (!co)
            continue;
        js_set(co, "user", js_str(c->user));
        js_set(co, "realm", js_str(c->realm));
        if (c->password.n)
            js_set(co, "password", js_str(c->password));
        js_set(co, "accepted", json_boolean(c->accepted));
        js_push(creds, co);
    }
    js_set(auth, "credentials", creds);
    js_set(o, "auth", auth);
    for (unsigned i = 0; i < e->n_numbers && i < SRC_MAX_NUMBERS; i++) {
        json_t *no = json_object();
        if (!no)
            continue;
        js_set(no, "number", js_str(e->numbers[i].number));
        js_set(no, "country", e->numbers[i].country.n ? js_str(e->numbers[i].country) : json_null());
        js_push(nums, no);
    }
    js_set(o, "numbers_dialed", nums);
    js_set(o, "tools", cstr_array(e->tools, e->n_tools, SRC_MAX_TOOLS));
    js_set(o, "techniques", cstr_array(e->techniques, e->n_techniques, SRC_MAX_TECHNIQUES));
    js_set(o, "severity", js_cstr(e->severity ? e->severity : "info"));
    js_set(o, "reasons", slice_array(e->reasons, e->n_reasons, SRC_MAX_REASONS));
    js_set(o, "users_tried_total", js_uint(e->users_tried_total));
    return o;
}

json_t *js_alert(const struct ev_alert *a)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    js_set(o, "sid", js_uint(a->sid));
    js_set(o, "rev", js_uint(a->rev));
    js_set(o, "msg", js_cstr(a->msg));
    js_set(o, "classtype", a->classtype && *a->classtype ? js_cstr(a->classtype) : json_null());
    js_set(o, "severity", js_cstr(a->severity));
    js_set(o, "priority", js_uint(a->priority));
    js_set(o, "tool", js_cstr(a->tool));
    js_set(o, "technique", js_cstr(a->technique));
    js_set(o, "call_id", a->call_id.n ? js_str(a->call_id) : json_null());
    js_set(o, "detail", a->detail.n ? js_str(a->detail) : json_null());
    return o;
}
