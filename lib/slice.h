/*
 * slice.h - the only way sipsift touches attacker bytes: a pointer and a length.
 *
 * Every parser takes a struct slice and returns slices into it. Nothing here
 * assumes a NUL terminator or reads past p + n. Literals passed as `const char *`
 * are our own constants (never packet data).
 */
#ifndef SIPSIFT_SLICE_H
#define SIPSIFT_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct slice {
    const uint8_t *p;
    size_t n;
};

#define SL_NULL ((struct slice){ NULL, 0 })
/* A slice over a string literal (compile-time length, no strlen). */
#define SL_LIT(s) ((struct slice){ (const uint8_t *)(s), sizeof(s) - 1 })

static inline struct slice sl_make(const void *p, size_t n)
{
    return (struct slice){ (const uint8_t *)p, n };
}

/* Our own C string (never packet data) as a slice. */
static inline struct slice sl_cstr(const char *s)
{
    return (struct slice){ (const uint8_t *)s, s ? strlen(s) : 0 };
}

static inline bool sl_empty(struct slice s) { return s.n == 0; }

/* First n bytes (all of s if shorter). */
static inline struct slice sl_prefix(struct slice s, size_t n)
{
    return (struct slice){ s.p, n < s.n ? n : s.n };
}

/* s without its first n bytes (empty if shorter). An empty slice comes back
 * as it is: SL_NULL + 0 is undefined in C (fuzz_sip: an absent Content-Type). */
static inline struct slice sl_drop(struct slice s, size_t n)
{
    if (s.n == 0)
        return s;
    if (n >= s.n)
        return (struct slice){ s.p + s.n, 0 };
    return (struct slice){ s.p + n, s.n - n };
}

/* Bytes [from, to) of s, clamped (an empty s comes back as it is, as in sl_drop). */
static inline struct slice sl_sub(struct slice s, size_t from, size_t to)
{
    if (s.n == 0)
        return s;
    if (to > s.n)
        to = s.n;
    if (from > to)
        from = to;
    return (struct slice){ s.p + from, to - from };
}

/* Offset of the first byte c in s, or s.n if absent. */
static inline size_t sl_find_byte(struct slice s, uint8_t c)
{
    const uint8_t *q = s.n ? memchr(s.p, c, s.n) : NULL;
    return q ? (size_t)(q - s.p) : s.n;
}

static inline bool sl_has_byte(struct slice s, uint8_t c) { return sl_find_byte(s, c) < s.n; }

/* Offset of the first occurrence of needle in s, or s.n if absent. */
size_t sl_find(struct slice s, struct slice needle);
/* Same, ASCII case-insensitive. */
size_t sl_find_nocase(struct slice s, struct slice needle);

bool sl_eq(struct slice a, struct slice b);
bool sl_eq_nocase(struct slice a, struct slice b);
bool sl_starts(struct slice s, struct slice prefix);
bool sl_starts_nocase(struct slice s, struct slice prefix);
bool sl_ends(struct slice s, struct slice suffix);

/* Literal comparisons: sl_is(s, "INVITE"). */
#define sl_is(s, lit) sl_eq((s), SL_LIT(lit))
#define sl_is_nocase(s, lit) sl_eq_nocase((s), SL_LIT(lit))
#define sl_starts_lit(s, lit) sl_starts((s), SL_LIT(lit))
#define sl_starts_lit_nocase(s, lit) sl_starts_nocase((s), SL_LIT(lit))

/* Whitespace: SP and HTAB (RFC 3261 WSP); LWS adds CR and LF. */
static inline bool sl_is_wsp(uint8_t c) { return c == ' ' || c == '\t'; }
static inline bool sl_is_lws(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

struct slice sl_trim(struct slice s);      /* strip SP/HTAB/CR/LF both ends */
struct slice sl_ltrim(struct slice s);
struct slice sl_rtrim(struct slice s);

/*
 * Take the bytes before the first `sep` and advance *s past it. When sep is
 * absent, return all of *s and leave *s empty.
 */
struct slice sl_take_token(struct slice *s, uint8_t sep);

/*
 * Take one line ending in LF (a CR before it is dropped) and advance *s past
 * it. Returns false when *s holds no complete line (then *s is unchanged).
 */
bool sl_take_line(struct slice *s, struct slice *line);

/* Parse all of s as a decimal number. False on empty, non-digit, or overflow. */
bool sl_to_u32(struct slice s, uint32_t *out);
bool sl_to_u64(struct slice s, uint64_t *out);
/* Leading digits of s (at most max_digits); false if none. *used = bytes read. */
bool sl_prefix_u32(struct slice s, uint32_t *out, size_t *used);

/* Copy at most cap-1 bytes into buf and NUL-terminate; returns bytes copied.
 * For our own buffers (names, keys); never a way to parse. */
size_t sl_copy(struct slice s, char *buf, size_t cap);

/* Lower-case ASCII of one byte. */
static inline uint8_t sl_lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

#endif
