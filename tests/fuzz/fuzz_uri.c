/*
 * fuzz_uri.c - libFuzzer target for the SIP header-value parsers on their own:
 * sip_uri_parse, sip_name_addr_parse and sip_via_parse over whole comma lists,
 * sip_cseq_parse, sip_param_get (and sip_digest_parse) on the raw input.
 */
#include "tests/fuzz/sipcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = sl_make(data, size);
    fz_subparsers(in);

    /* The CSeq parser's promise: a parsed number is the digits as written. */
    struct sip_cseq c;
    if (sip_cseq_parse(in, &c)) {
        FUZZ_CHECK(c.method.p > in.p);
        FUZZ_CHECK(sip_method_id(c.method) == c.method_id);
    }
    /* A name-addr that parses without a list after it names a URI that parses. */
    struct sip_name_addr na;
    struct slice rest;
    if (sip_name_addr_parse(in, &na, &rest) && !na.star) {
        struct sip_uri u;
        FUZZ_CHECK(sip_uri_parse(na.uri.raw, &u));
        FUZZ_CHECK(u.host.n == na.uri.host.n && u.port == na.uri.port);
    }
    return 0;
}
