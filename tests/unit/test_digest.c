/*
 * test_digest.c - Digest credentials and challenges (RFC 2617, RFC 3261 §22.4):
 * the RFCs' examples, then broken parameter lists and what must still be kept.
 */
#include "test.h"

#include "../../dissect/digest.h"

/* RFC 2617 §3.5, the Authorization header of the example exchange. */
TEST(digest_rfc2617_example)
{
    static const char v[] = "Digest username=\"Mufasa\",\r\n"
                            "                 realm=\"testrealm@host.com\",\r\n"
                            "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
                            "                 uri=\"/dir/index.html\",\r\n"
                            "                 qop=auth,\r\n"
                            "                 nc=00000001,\r\n"
                            "                 cnonce=\"0a4f113b\",\r\n"
                            "                 response=\"6629fae49393a05397450978507c4ef1\",\r\n"
                            "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT(v), &d));
    CHECK(d.malformed == NULL);
    CHECK(d.is_digest);
    CHECK_SL(d.scheme, "Digest");
    CHECK_SL(d.username, "Mufasa");
    CHECK_SL(d.realm, "testrealm@host.com");
    CHECK_SL(d.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    CHECK_SL(d.uri, "/dir/index.html");
    CHECK_SL(d.qop, "auth");
    CHECK_SL(d.nc, "00000001");
    CHECK_SL(d.cnonce, "0a4f113b");
    CHECK_SL(d.response, "6629fae49393a05397450978507c4ef1");
    CHECK_SL(d.opaque, "5ccc069c403ebaf9f0171e9517f40e41");
    CHECK(d.algorithm.p == NULL && d.stale.p == NULL && d.domain.p == NULL);
}

/* RFC 3261 §22.4 / §25.1 style REGISTER credentials: mixed case names, LWS around '=' and ','. */
TEST(digest_sip_register_authorization)
{
    static const char v[] = "  digest USERNAME = \"alice\" ,realm=\"atlanta.com\",  nonce=\"84a4cc6f3082121f32b42a2187831a9e\","
                            "uri=\"sip:atlanta.com\" , response = \"7587245234b3434cc3412213e5f113a5\", "
                            "Algorithm=MD5, userhash=false, username*=UTF-8''%c2%a3, x=\"a,b\"";
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT(v), &d));
    CHECK(d.malformed == NULL);
    CHECK(d.is_digest);
    CHECK_SL(d.scheme, "digest");
    CHECK_SL(d.username, "alice"); /* username* is another parameter (RFC 7616 §3.4.4) */
    CHECK_SL(d.realm, "atlanta.com");
    CHECK_SL(d.nonce, "84a4cc6f3082121f32b42a2187831a9e");
    CHECK_SL(d.uri, "sip:atlanta.com");
    CHECK_SL(d.response, "7587245234b3434cc3412213e5f113a5");
    CHECK_SL(d.algorithm, "MD5");
}

/* A challenge: qop as a quoted list, stale, domain, RFC 7616 algorithm. */
TEST(digest_www_authenticate_challenge)
{
    static const char v[] = "Digest realm=\"biloxi.com\", domain=\"sip:ss1.carrier.com sip:biloxi.com\", "
                            "qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                            "opaque=\"\", stale=FALSE, algorithm=SHA-256";
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT(v), &d));
    CHECK(d.malformed == NULL);
    CHECK_SL(d.realm, "biloxi.com");
    CHECK_SL(d.domain, "sip:ss1.carrier.com sip:biloxi.com");
    CHECK_SL(d.qop, "auth,auth-int");
    CHECK_SL(d.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
    CHECK_SL(d.opaque, "");
    CHECK(d.opaque.p != NULL); /* present but empty, unlike an absent one */
    CHECK_SL(d.stale, "FALSE");
    CHECK_SL(d.algorithm, "SHA-256");
    CHECK(d.username.p == NULL);
}

/* RFC 4475 §3.3.7 regaut01: an unknown scheme is kept, its parameters are not read. */
TEST(digest_rfc4475_regaut01_unknown_scheme)
{
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT("NoOneKnowsThisScheme opaque-data=here"), &d));
    CHECK(!d.is_digest);
    CHECK_SL(d.scheme, "NoOneKnowsThisScheme");
    CHECK(d.opaque.p == NULL);
    CHECK(d.malformed == NULL);

    CHECK(sip_digest_parse(SL_LIT("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &d));
    CHECK(!d.is_digest);
    CHECK_SL(d.scheme, "Basic");

    CHECK(!sip_digest_parse(SL_LIT(""), &d));
    CHECK(!sip_digest_parse(SL_LIT("   \r\n "), &d));
    CHECK(!sip_digest_parse(SL_LIT("=foo"), &d));
    CHECK(!sip_digest_parse(SL_NULL, &d));
}

TEST(digest_escaped_quote_kept_raw)
{
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT("Digest username=\"bob \\\"the\\\" \\\\admin\", realm=\"r\""), &d));
    CHECK(d.malformed == NULL);
    CHECK_SL(d.username, "bob \\\"the\\\" \\\\admin"); /* escapes as written */
    CHECK_SL(d.realm, "r");
    /* an escaped quote at the very end does not close the string */
    CHECK(sip_digest_parse(SL_LIT("Digest realm=\"r\", username=\"x\\\""), &d));
    CHECK_STR(d.malformed, "unterminated quoted string");
    CHECK_SL(d.realm, "r");
    CHECK(d.username.p == NULL);
}

TEST(digest_folded_header_value)
{
    /* LWS with a folded line end on both sides of '=' and ',' (RFC 3261 §7.3.1) */
    static const char v[] = "Digest\r\n username\r\n\t=\r\n \"carol\"\r\n ,\r\n realm=\"example.com\"\r\n";
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT(v), &d));
    CHECK(d.malformed == NULL);
    CHECK_SL(d.username, "carol");
    CHECK_SL(d.realm, "example.com");
}

TEST(digest_hostile_unterminated_quote)
{
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT("Digest username=\"eve\", realm=\"never ends, nonce=abc"), &d));
    CHECK_STR(d.malformed, "unterminated quoted string");
    CHECK_SL(d.username, "eve");
    CHECK(d.realm.p == NULL);
    CHECK(d.nonce.p == NULL); /* inside the open quote: not a parameter */

    /* realm's quote closes at nonce's first quote; what follows is not taken as a nonce */
    CHECK(sip_digest_parse(SL_LIT("Digest username=\"eve\", realm=\"never ends, nonce=\"abc\""), &d));
    CHECK_STR(d.malformed, "missing ',' between parameters");
    CHECK_SL(d.realm, "never ends, nonce=");
    CHECK(d.nonce.p == NULL);
}

TEST(digest_hostile_missing_equals_and_empty_name)
{
    struct sip_digest d;
    CHECK(sip_digest_parse(SL_LIT("Digest username \"x\", realm=\"r\""), &d));
    CHECK_STR(d.malformed, "missing '='");
    CHECK(d.username.p == NULL);
    CHECK_SL(d.realm, "r"); /* parsing resumed after the next ',' */

    CHECK(sip_digest_parse(SL_LIT("Digest =\"x\", nonce=\"n\""), &d));
    CHECK_STR(d.malformed, "empty parameter name");
    CHECK_SL(d.nonce, "n");

    CHECK(sip_digest_parse(SL_LIT("Digest realm=\"a\" nonce=\"b\",,, uri=c"), &d));
    CHECK_STR(d.malformed, "missing ',' between parameters");
    CHECK_SL(d.realm, "a");
    CHECK_SL(d.nonce, "b");
    CHECK_SL(d.uri, "c");

    CHECK(sip_digest_parse(SL_LIT("Digest username=\"a\", username=\"b\""), &d));
    CHECK_STR(d.malformed, "duplicate parameter");
    CHECK_SL(d.username, "a");

    CHECK(sip_digest_parse(SL_LIT("Digest username"), &d));
    CHECK_STR(d.malformed, "missing '='");

    CHECK(sip_digest_parse(SL_LIT("Digest"), &d));
    CHECK(d.is_digest && d.malformed == NULL);

    /* a NUL inside a quoted value is just a byte of it */
    static const char nul[] = "Digest username=\"a\0b\", realm=\"r\"";
    CHECK(sip_digest_parse(sl_make(nul, sizeof nul - 1), &d));
    CHECK(d.malformed == NULL);
    CHECK_EQ_INT(d.username.n, 3);
    CHECK_SL(d.realm, "r");

    /* a backslash as the last byte must not read past the end */
    CHECK(sip_digest_parse(SL_LIT("Digest username=\"\\"), &d));
    CHECK_STR(d.malformed, "unterminated quoted string");
}
