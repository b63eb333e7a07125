/*
 * digest.c - the auth-scheme and auth-params of Authorization/WWW-Authenticate
 * style headers (RFC 3261 §22.4, §25.1; RFC 2617 §3.2; RFC 7616 §3.3-3.4).
 * It reads the parameters only; it does not check a response (no MD5 here).
 */
#include "dissect/digest.h"

#include <stddef.h>

static void note(struct sip_digest *d, const char *why)
{
    if (!d->malformed)
        d->malformed = why;
}

/* token characters (RFC 3261 §25.1) */
static bool is_token(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'': case '~':
        return true;
    default:
        return false;
    }
}

/* LWS = [*WSP CRLF] 1*WSP (RFC 3261 §25.1): a folded line is just more whitespace here. */
static struct slice skip_lws(struct slice s)
{
    return sl_ltrim(s);
}

static size_t token_len(struct slice s)
{
    size_t i = 0;
    while (i < s.n && is_token(s.p[i]))
        i++;
    return i;
}

/*
 * s starts at '"'. Length of the quoted-string including both quotes, or 0
 * when the closing quote is missing. quoted-pair "\" escapes any next byte
 * (RFC 3261 §25.1), so \" does not end the string.
 */
static size_t quoted_len(struct slice s)
{
    size_t i = 1;
    while (i < s.n) {
        if (s.p[i] == '\\')
            i += 2;
        else if (s.p[i] == '"')
            return i + 1;
        else
            i++;
    }
    return 0;
}

/* Skip to the next ',' outside quotes after a broken parameter; false if a quote never closes. */
static bool resync(struct slice *s)
{
    while (s->n && s->p[0] != ',') {
        if (s->p[0] == '"') {
            size_t q = quoted_len(*s);
            if (q == 0)
                return false;
            *s = sl_drop(*s, q);
        } else {
            *s = sl_drop(*s, 1);
        }
    }
    return true;
}

static const struct {
    const char *name;
    size_t off;
} fields[] = {
    { "username", offsetof(struct sip_digest, username) },
    { "realm", offsetof(struct sip_digest, realm) },
    { "nonce", offsetof(struct sip_digest, nonce) },
    { "uri", offsetof(struct sip_digest, uri) },
    { "response", offsetof(struct sip_digest, response) },
    { "algorithm", offsetof(struct sip_digest, algorithm) },
    { "cnonce", offsetof(struct sip_digest, cnonce) },
    { "opaque", offsetof(struct sip_digest, opaque) },
    { "qop", offsetof(struct sip_digest, qop) },
    { "nc", offsetof(struct sip_digest, nc) },
    { "stale", offsetof(struct sip_digest, stale) },
    { "domain", offsetof(struct sip_digest, domain) },
};

static void store(struct sip_digest *d, struct slice name, struct slice value)
{
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!sl_eq_nocase(name, sl_cstr(fields[i].name)))
            continue;
        struct slice *f = (struct slice *)((char *)d + fields[i].off);
        /* RFC 7616 §3.4: each directive at most once; the first one wins, the rest is flagged */
        if (f->p)
            note(d, "duplicate parameter");
        else
            *f = value;
        return;
    }
    /* unknown auth-param (userhash, username*, ...): skipped (RFC 2617 §3.2.1) */
}

bool sip_digest_parse(struct slice value, struct sip_digest *d)
{
    memset(d, 0, sizeof *d);
    struct slice s = skip_lws(value);
    size_t n = token_len(s);
    if (n == 0)
        return false;
    d->scheme = sl_prefix(s, n);
    d->is_digest = sl_is_nocase(d->scheme, "Digest");
    if (!d->is_digest)
        return true; /* other schemes (Basic, NTLM, ...): their credentials are not ours to read */
    s = sl_drop(s, n);
    if (s.n && !sl_is_lws(s.p[0]))
        note(d, "no space after scheme");

    for (;;) {
        /* #rule (RFC 2616 §2.1): empty list elements are allowed, so commas may repeat */
        s = skip_lws(s);
        while (s.n && s.p[0] == ',')
            s = skip_lws(sl_drop(s, 1));
        if (s.n == 0)
            break;

        n = token_len(s);
        if (n == 0) {
            note(d, "empty parameter name");
            if (!resync(&s))
                break;
            continue;
        }
        struct slice name = sl_prefix(s, n);
        s = skip_lws(sl_drop(s, n));
        if (s.n == 0 || s.p[0] != '=') {
            note(d, "missing '='");
            if (!resync(&s))
                break;
            continue;
        }
        s = skip_lws(sl_drop(s, 1));

        struct slice v;
        if (s.n && s.p[0] == '"') {
            size_t q = quoted_len(s);
            if (q == 0) {
                note(d, "unterminated quoted string");
                break;
            }
            v = sl_sub(s, 1, q - 1); /* raw bytes: escapes stay as written */
            s = sl_drop(s, q);
        } else {
            /* token per the grammar; we also take unquoted URIs some UAs send (up to LWS or ',') */
            size_t i = 0;
            while (i < s.n && !sl_is_lws(s.p[i]) && s.p[i] != ',' && s.p[i] != '"')
                i++;
            v = sl_prefix(s, i);
            s = sl_drop(s, i);
        }
        store(d, name, v);

        s = skip_lws(s);
        if (s.n && s.p[0] != ',')
            note(d, "missing ',' between parameters"); /* carry on: the next name may still parse */
    }
    return true;
}
