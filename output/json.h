/*
 * json.h - attacker bytes to safe text, and the jansson helpers the EVE sink,
 * the store's JSON columns and the report share. One escaping rule everywhere
 * (docs/json.md "Strings"), so the store, the EVE lines and the report agree.
 */
#ifndef SIPSIFT_JSON_H
#define SIPSIFT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "capture/capture.h"
#include "lib/ipaddr.h"
#include "lib/slice.h"
#include "output/events.h"

/*
 * The escaping rule: the output is valid UTF-8 without control characters.
 *   - a backslash becomes two backslashes (so the escape below is unambiguous);
 *   - each byte of an invalid UTF-8 sequence, of a C0 control (NUL, CR, LF,
 *     TAB, ESC...), DEL, a C1 control (U+0080..U+009F), a bidirectional
 *     override (U+202A..U+202E, U+2066..U+2069) or U+2028/U+2029 becomes the
 *     four characters "\xNN" (lower-case hex).
 * Nothing is dropped, and the original bytes can be recovered.
 */
#define JS_ESC_MAX(n) ((n) * 4 + 1) /* worst-case output size for n input bytes, with NUL */

/* Dump flags every JSON writer uses: reals keep µs precision without noise digits. */
#define JS_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* True when p[0..n) is already what js_escape would write (the common case). */
bool js_is_clean(const uint8_t *p, size_t n);

/*
 * Escape p[0..n) into out (cap bytes, NUL-terminated). Never splits a
 * character or an escape: stops early when out is full. Returns bytes
 * written, NUL excluded; *consumed (may be NULL) = input bytes used.
 */
size_t js_escape(const uint8_t *p, size_t n, char *out, size_t cap, size_t *consumed);

/* A scratch buffer reused across calls (grows to the largest value seen, so
 * steady state does no allocation). Zero-initialise; free with js_buf_free. */
struct js_buf {
    char *p;
    size_t cap;
};
void js_buf_free(struct js_buf *b);
/* Make room for n bytes; false when out of memory (b is unchanged). */
bool js_buf_reserve(struct js_buf *b, size_t n);

/*
 * Safe text of s: s.p itself when clean (*copied = false), else the escaped
 * form in b (*copied = true, valid until the next use of b). NULL only when
 * growing b failed. Not NUL-terminated when not copied: use *len.
 */
const char *js_text_of(struct js_buf *b, struct slice s, size_t *len, bool *copied);

/*
 * jansson values. None returns NULL: when jansson cannot allocate, they return
 * json_null() so a caller's json_object_set_new never sees NULL.
 */
json_t *js_str(struct slice s);           /* attacker bytes, escaped */
json_t *js_cstr(const char *s);           /* our own C string, escaped; NULL -> null */
json_t *js_text(const char *p, size_t n); /* text already escaped (from the store) */
json_t *js_time(uint64_t us);             /* RFC 3339 UTC µs; 0 -> null */
json_t *js_ip(const struct ip_addr *a);
json_t *js_uint(uint64_t v);              /* clamped to INT64_MAX */

/* A call's talk time in seconds (answer to end, µs precision); 0 when never
 * answered. The report and the EVE "call" object share this rule. */
json_t *js_duration(uint64_t answer_us, uint64_t end_us);

/* Set key (our literal) to v (stolen) in obj. */
static inline void js_set(json_t *obj, const char *key, json_t *v)
{
    json_object_set_new(obj, key, v);
}

/* "udp"/"tcp" (upper: "UDP"/"TCP"); NULL for anything else. */
const char *js_proto_name(uint8_t proto, bool upper);

/* Method name for enum sip_method ids; "OTHER" for 0 and unknown ids. Kept
 * here (not sip.c) so the outputs build and test without the SIP parser. */
const char *js_method_name(unsigned id);

/* Every capture_stats field plus "anomalies": {cap_anomaly_name: count}. */
json_t *js_capture_stats(const struct capture_stats *st);

/* A source as in the report (CONTRACT key order): the EVE "source" object,
 * and the store takes its array/object members from it. */
json_t *js_source(const struct ev_source *e);
/* The alert's members (sid, rev, msg, classtype, severity, priority, tool,
 * technique, call_id, detail); addresses and time are the envelope's. */
json_t *js_alert(const struct ev_alert *a);

/* Append v (stolen) to array a. */
static inline void js_push(json_t *a, json_t *v)
{
    json_array_append_new(a, v);
}

#endif
