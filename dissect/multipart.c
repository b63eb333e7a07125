/*
 * multipart.c - finds the SDP in a SIP body: application/sdp itself, or the
 * first application/sdp part of a multipart body (RFC 2046 §5.1, RFC 5621).
 * It does not decode transfer encodings or check signatures; parts are slices.
 */
#include "dissect/sdp.h"

/* multipart levels walked below the top one: enough for signed(mixed(sdp, ...)). */
#define MP_MAX_NESTING 1

struct ctype {
    struct slice type, subtype, boundary;
};

/*
 * Content-Type: type "/" subtype *(";" parameter) (RFC 2045 §5.1, RFC 3261
 * §20.15). LWS, folded CRLF included, may surround every separator. Only the
 * boundary parameter is kept; a quoted value is the raw bytes between quotes.
 */
static bool parse_ctype(struct slice ct, struct ctype *c)
{
    memset(c, 0, sizeof *c);
    ct = sl_trim(ct);
    size_t semi = sl_find_byte(ct, ';');
    struct slice mt = sl_prefix(ct, semi), params = sl_drop(ct, semi + 1);
    c->type = sl_trim(sl_take_token(&mt, '/'));
    c->subtype = sl_trim(mt);
    if (c->type.n == 0 || c->subtype.n == 0)
        return false;

    while (params.n) {
        params = sl_ltrim(params);
        size_t i = 0;
        while (i < params.n && params.p[i] != '=' && params.p[i] != ';')
            i++;
        struct slice name = sl_trim(sl_prefix(params, i));
        if (i == params.n || params.p[i] == ';') { /* parameter without a value */
            params = sl_drop(params, i + 1);
            continue;
        }
        params = sl_ltrim(sl_drop(params, i + 1));
        struct slice val;
        if (params.n && params.p[0] == '"') {
            size_t j = 1;
            while (j < params.n && params.p[j] != '"')
                j += params.p[j] == '\\' ? 2 : 1; /* quoted-pair (RFC 822 §3.3) */
            if (j >= params.n)
                return true; /* unterminated: nothing after it can be trusted */
            val = sl_sub(params, 1, j);
            params = sl_drop(params, j + 1);
        } else {
            size_t e = sl_find_byte(params, ';');
            val = sl_trim(sl_prefix(params, e));
            params = sl_drop(params, e);
        }
        params = sl_drop(params, sl_find_byte(params, ';') + 1);
        if (sl_is_nocase(name, "boundary") && c->boundary.n == 0)
            c->boundary = val;
    }
    return true;
}

static bool is_sdp(const struct ctype *c)
{
    return sl_is_nocase(c->type, "application") && sl_is_nocase(c->subtype, "sdp");
}

/*
 * Next delimiter line at or after `from` (RFC 2046 §5.1.1): "--" boundary at
 * the start of a line, then "--" (close delimiter) or transport padding and a
 * line end. *line = where the "--" starts, *next = first byte after the line.
 * `from` is 0 or the first byte after a line. Only line starts are compared
 * with "--" boundary, each at most to its line's end: the scan is linear
 * however long the boundary (searching the whole body for the boundary first
 * made a 20,000-byte run of one letter cost 1 s per message). NULs in binary
 * parts do not matter; a line merely starting with "--boundary" is not a
 * delimiter.
 */
static bool find_delim(struct slice body, size_t from, struct slice boundary, size_t *line, size_t *next,
                       bool *close)
{
    if (from > 0 && from < body.n && body.p[from - 1] != '\n')
        from += sl_find_byte(sl_drop(body, from), '\n') + 1;
    for (size_t ls = from; ls < body.n;) {
        struct slice here = sl_drop(body, ls);
        size_t eol = sl_find_byte(here, '\n');
        size_t at = ls + 2;
        ls += eol + 1; /* the next line start (past body.n when this is the last) */
        if (!sl_starts_lit(here, "--") || !sl_starts(sl_drop(here, 2), boundary))
            continue;
        struct slice rest = sl_drop(body, at + boundary.n);
        if (sl_starts_lit(rest, "--")) {
            *line = at - 2;
            *next = body.n;
            *close = true;
            return true;
        }
        size_t k = 0;
        while (k < rest.n && sl_is_wsp(rest.p[k]))
            k++;
        if (k < rest.n && rest.p[k] == '\r')
            k++;
        if (k < rest.n && rest.p[k] == '\n') {
            *line = at - 2;
            *next = (size_t)(rest.p - body.p) + k + 1;
            *close = false;
            return true;
        }
        if (k == rest.n) { /* delimiter as the last bytes: nothing follows */
            *line = at - 2;
            *next = body.n;
            *close = true;
            return true;
        }
    }
    return false;
}

/*
 * Split a body part into its Content-Type value and its content (RFC 2046
 * §5.1.1: headers, an empty line, octets). Folded header lines extend the
 * value. No Content-Type means text/plain (RFC 2045 §5.2): *ct stays empty.
 */
static bool split_part(struct slice part, struct slice *ct, struct slice *content)
{
    *ct = SL_NULL;
    bool in_ct = false;
    struct slice line;
    while (sl_take_line(&part, &line)) {
        if (line.n == 0) {
            *content = part;
            return true;
        }
        if (sl_is_wsp(line.p[0])) { /* continuation of the header above */
            if (in_ct)
                ct->n = (size_t)(line.p + line.n - ct->p);
            continue;
        }
        struct slice v = line;
        struct slice name = sl_trim(sl_take_token(&v, ':'));
        in_ct = sl_is_nocase(name, "Content-Type") || sl_is_nocase(name, "c"); /* c: RFC 3261 §7.3.3 */
        if (in_ct)
            *ct = v;
    }
    return false; /* headers never ended: no content */
}

static bool find_sdp(struct slice ct, struct slice body, unsigned depth, struct slice *sdp)
{
    struct ctype c;
    if (!parse_ctype(ct, &c))
        return false;
    if (is_sdp(&c)) {
        *sdp = body;
        return body.n > 0;
    }
    /* A boundary holding LF (RFC 2046 bchars have none) cannot sit on one
     * delimiter line, and would let one compare run across many lines. */
    if (!sl_is_nocase(c.type, "multipart") || depth > MP_MAX_NESTING || c.boundary.n == 0 ||
        sl_has_byte(c.boundary, '\n'))
        return false;

    size_t line, next;
    bool close;
    if (!find_delim(body, 0, c.boundary, &line, &next, &close)) /* the preamble is skipped */
        return false;
    while (!close) {
        size_t start = next;
        size_t end;
        if (find_delim(body, start, c.boundary, &line, &next, &close)) {
            /* the line end before a delimiter belongs to the delimiter (RFC 2046 §5.1.1) */
            end = line;
            if (end > start && body.p[end - 1] == '\n')
                end--;
            if (end > start && body.p[end - 1] == '\r')
                end--;
        } else {
            end = body.n; /* no close delimiter: the last part runs to the end */
            close = true;
        }
        struct slice pct, content;
        if (!split_part(sl_sub(body, start, end), &pct, &content) || pct.n == 0)
            continue;
        struct ctype part;
        if (!parse_ctype(pct, &part))
            continue;
        if (is_sdp(&part)) {
            if (content.n) {
                *sdp = content;
                return true;
            }
        } else if (sl_is_nocase(part.type, "multipart") && find_sdp(pct, content, depth + 1, sdp)) {
            return true;
        }
    }
    return false;
}

bool sdp_find_in_body(struct slice content_type, struct slice body, struct slice *sdp)
{
    return find_sdp(content_type, body, 0, sdp);
}
