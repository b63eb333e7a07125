/*
 * sipcheck.h - invariants of the SIP sub-parsers, shared by fuzz_sip.c (on
 * every header value of a parsed message) and fuzz_uri.c (on the raw input):
 * every slice inside the value, comma lists that always shrink, ids in range.
 */
#ifndef SIPSIFT_FUZZ_SIPCHECK_H
#define SIPSIFT_FUZZ_SIPCHECK_H

#include "dissect/digest.h"
#include "dissect/sip.h"
#include "tests/fuzz/fuzz.h"

/* More list elements than this in one value would mean *rest stopped shrinking. */
#define FZ_MAX_LIST 100000

static inline void fz_check_uri(const struct sip_uri *u, struct slice in)
{
    FUZZ_INSIDE(u->raw, in);
    FUZZ_INSIDE(u->scheme, in);
    FUZZ_INSIDE(u->user, in);
    FUZZ_INSIDE(u->password, in);
    FUZZ_INSIDE(u->host, in);
    FUZZ_INSIDE(u->params, in);
    FUZZ_INSIDE(u->headers, in);
    FUZZ_CHECK(u->scheme_id <= SIP_URI_TEL);
    FUZZ_CHECK(u->has_port || u->port == 0);
    struct slice v;
    static const char *const names[] = { "transport", "lr", "user", "maddr", "ttl", "method" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (sip_uri_param(u, sl_cstr(names[i]), &v))
            FUZZ_INSIDE(v, u->params);
}

static inline void fz_check_name_addr(const struct sip_name_addr *na, struct slice in)
{
    FUZZ_INSIDE(na->display, in);
    fz_check_uri(&na->uri, in);
    FUZZ_INSIDE(na->params, in);
    FUZZ_INSIDE(na->tag, in);
    struct slice v;
    if (sip_param_get(na->params, SL_LIT("expires"), &v))
        FUZZ_INSIDE(v, na->params);
}

static inline void fz_check_via(const struct sip_via *v, struct slice in)
{
    FUZZ_INSIDE(v->protocol, in);
    FUZZ_INSIDE(v->transport, in);
    FUZZ_INSIDE(v->host, in);
    FUZZ_INSIDE(v->params, in);
    FUZZ_INSIDE(v->branch, in);
    FUZZ_INSIDE(v->received, in);
    FUZZ_INSIDE(v->maddr, in);
    FUZZ_INSIDE(v->rport_value, in);
    FUZZ_CHECK(v->has_port || v->port == 0);
    FUZZ_CHECK(v->rport || v->rport_value.n == 0);
}

static inline void fz_check_digest(const struct sip_digest *d, struct slice in)
{
    const struct slice *f[] = { &d->scheme, &d->username, &d->realm, &d->nonce, &d->uri,
                                &d->response, &d->algorithm, &d->cnonce, &d->opaque, &d->qop,
                                &d->nc, &d->stale, &d->domain };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        FUZZ_INSIDE(*f[i], in);
    FUZZ_CHECK(d->is_digest || d->username.n == 0);
}

/* Every sub-parser of sip.h (and the digest one) on one header value. */
static inline void fz_subparsers(struct slice s)
{
    struct sip_uri u;
    sip_uri_parse(s, &u);
    fz_check_uri(&u, s);

    struct slice rest = s;
    unsigned n = 0;
    struct sip_name_addr na;
    do {
        struct slice before = rest;
        bool ok = sip_name_addr_parse(rest, &na, &rest);
        fz_check_name_addr(&na, before);
        FUZZ_INSIDE(rest, before);
        if (!ok)
            break;
        FUZZ_CHECK(rest.n < before.n);
    } while (rest.n && ++n < FZ_MAX_LIST);

    rest = s;
    n = 0;
    struct sip_via v;
    do {
        struct slice before = rest;
        bool ok = sip_via_parse(rest, &v, &rest);
        fz_check_via(&v, before);
        FUZZ_INSIDE(rest, before);
        if (!ok)
            break;
        FUZZ_CHECK(rest.n < before.n);
    } while (rest.n && ++n < FZ_MAX_LIST);

    struct sip_cseq c;
    if (sip_cseq_parse(s, &c)) {
        FUZZ_CHECK(c.method.n > 0);
        FUZZ_CHECK(c.method_id < SIP_M__COUNT);
    }
    FUZZ_INSIDE(c.method, s);

    struct slice val;
    if (sip_param_get(s, SL_LIT("tag"), &val))
        FUZZ_INSIDE(val, s);

    struct sip_digest d;
    sip_digest_parse(s, &d);
    fz_check_digest(&d, s);
}

#endif
