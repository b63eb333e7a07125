/*
 * fuzz_digest.c - libFuzzer target for sip_digest_parse: the input is an
 * Authorization / WWW-Authenticate style header value. Every parameter slice
 * must lie inside it, and parsing twice gives the same answer.
 */
#include "tests/fuzz/sipcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = sl_make(data, size);
    struct sip_digest d;
    bool ok = sip_digest_parse(in, &d);
    fz_check_digest(&d, in);
    FUZZ_CHECK(ok || (d.scheme.n == 0 && !d.is_digest));
    if (ok)
        FUZZ_CHECK(d.scheme.n > 0);
    /* Same bytes, same answer: the parser keeps no state between calls. */
    struct sip_digest d2;
    FUZZ_CHECK(sip_digest_parse(in, &d2) == ok);
    FUZZ_CHECK(d2.username.p == d.username.p && d2.username.n == d.username.n);
    FUZZ_CHECK(d2.malformed == d.malformed);
    return 0;
}
