/*
 * slice.c - bounded byte-slice helpers (see slice.h). No function here reads
 * beyond p + n or relies on a terminator.
 */
#include "slice.h"

size_t sl_find(struct slice s, struct slice needle)
{
    if (needle.n == 0)
        return 0;
    if (needle.n > s.n)
        return s.n;
    const uint8_t *q = memmem(s.p, s.n, needle.p, needle.n);
    return q ? (size_t)(q - s.p) : s.n;
}

size_t sl_find_nocase(struct slice s, struct slice needle)
{
    if (needle.n == 0)
        return 0;
    if (needle.n > s.n)
        return s.n;
    uint8_t first = sl_lower(needle.p[0]);
    for (size_t i = 0; i + needle.n <= s.n; i++) {
        if (sl_lower(s.p[i]) != first)
            continue;
        size_t j = 1;
        while (j < needle.n && sl_lower(s.p[i + j]) == sl_lower(needle.p[j]))
            j++;
        if (j == needle.n)
            return i;
    }
    return s.n;
}

bool sl_eq(struct slice a, struct slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool sl_eq_nocase(struct slice a, struct slice b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++)
        if (sl_lower(a.p[i]) != sl_lower(b.p[i]))
            return false;
    return true;
}

bool sl_starts(struct slice s, struct slice prefix)
{
    return s.n >= prefix.n && (prefix.n == 0 || memcmp(s.p, prefix.p, prefix.n) == 0);
}

bool sl_starts_nocase(struct slice s, struct slice prefix)
{
    return s.n >= prefix.n && sl_eq_nocase(sl_prefix(s, prefix.n), prefix);
}

bool sl_ends(struct slice s, struct slice suffix)
{
    return s.n >= suffix.n && (suffix.n == 0 || memcmp(s.p + s.n - suffix.n, suffix.p, suffix.n) == 0);
}

struct slice sl_ltrim(struct slice s)
{
    while (s.n && sl_is_lws(s.p[0])) {
        s.p++;
        s.n--;
    }
    return s;
}

struct slice sl_rtrim(struct slice s)
{
    while (s.n && sl_is_lws(s.p[s.n - 1]))
        s.n--;
    return s;
}

struct slice sl_trim(struct slice s) { return sl_rtrim(sl_ltrim(s)); }

struct slice sl_take_token(struct slice *s, uint8_t sep)
{
    size_t i = sl_find_byte(*s, sep);
    struct slice tok = sl_prefix(*s, i);
    *s = (i < s->n) ? sl_drop(*s, i + 1) : sl_drop(*s, s->n);
    return tok;
}

bool sl_take_line(struct slice *s, struct slice *line)
{
    size_t i = sl_find_byte(*s, '\n');
    if (i == s->n)
        return false;
    size_t end = (i > 0 && s->p[i - 1] == '\r') ? i - 1 : i;
    *line = sl_prefix(*s, end);
    *s = sl_drop(*s, i + 1);
    return true;
}

bool sl_to_u64(struct slice s, uint64_t *out)
{
    if (s.n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        uint8_t c = s.p[i];
        if (c < '0' || c > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return true;
}

bool sl_to_u32(struct slice s, uint32_t *out)
{
    uint64_t v;
    if (!sl_to_u64(s, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

bool sl_prefix_u32(struct slice s, uint32_t *out, size_t *used)
{
    size_t i = 0;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
        i++;
    *used = i;
    return i > 0 && sl_to_u32(sl_prefix(s, i), out);
}

size_t sl_copy(struct slice s, char *buf, size_t cap)
{
    if (cap == 0)
        return 0;
    size_t n = s.n < cap - 1 ? s.n : cap - 1;
    if (n)
        memcpy(buf, s.p, n);
    buf[n] = '\0';
    return n;
}
