/*
 * test_crack.c - --wordlist: loading and its limits, then digest recovery with
 * the RFCs' own vectors (RFC 2617 §3.5, RFC 7616 §3.9.1), computed ones for the
 * other forms, the svcrack capture, and hostile requests.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../rules/crack.h"

/* A temporary file holding n bytes of text; the path is written to path[64]. */
static void tmp_file(char path[64], const void *text, size_t n)
{
    snprintf(path, 64, "/tmp/sipsift-crack-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, text, n) == (ssize_t)n);
    close(fd);
}

static struct wordlist *load_text(const char *text, size_t n, char *err, size_t errlen)
{
    char path[64];
    tmp_file(path, text, n);
    struct wordlist *wl = wordlist_load(path, err, errlen);
    unlink(path);
    return wl;
}

#define LOAD(lit, err) load_text((lit), sizeof(lit) - 1, (err), sizeof(err))

/* The usual list, with the passwords of the vectors below somewhere in it. */
static const char words[] = "123456\npassword\n100\n\nadmin\r\nCircle Of Life\nzanzibar\n"
                            "s3cr3t pass\nCircle of Life\nkitten77\nqwerty";

static struct crack_request rq_of(const char *user, const char *realm, const char *method,
                                  const char *uri, const char *nonce, const char *nc,
                                  const char *cnonce, const char *qop, const char *alg,
                                  const char *response)
{
    return (struct crack_request){ sl_cstr(user),  sl_cstr(realm),  sl_cstr(method),
                                   sl_cstr(uri),   sl_cstr(nonce),  sl_cstr(nc),
                                   sl_cstr(cnonce), sl_cstr(qop),   sl_cstr(alg),
                                   sl_cstr(response) };
}

TEST(crack_wordlist_lines)
{
    char err[128] = "";
    struct wordlist *wl = LOAD("  lead space\r\ntrail space \n\n\r\nlast-no-newline", err);
    CHECK(wl != NULL);
    /* "\r\n" alone is an empty line too; spaces belong to the word */
    CHECK_EQ_INT(wordlist_count(wl), 3);
    CHECK_EQ_INT(wordlist_skipped(wl), 0);
    wordlist_free(wl);

    /* A line over CRACK_MAX_WORD_BYTES and one with a NUL are skipped, not fatal. */
    char big[600];
    memset(big, 'x', 300);
    memcpy(big + 300, "\nok\na\0b\n", 8);
    wl = load_text(big, 308, err, sizeof err);
    CHECK(wl != NULL);
    CHECK_EQ_INT(wordlist_count(wl), 1);
    CHECK_EQ_INT(wordlist_skipped(wl), 2);
    wordlist_free(wl);
    wordlist_free(NULL);
}

TEST(crack_wordlist_errors)
{
    char err[128] = "";
    CHECK(wordlist_load("/nonexistent/sipsift/words.txt", err, sizeof err) == NULL);
    CHECK_STR(err, "cannot open: No such file or directory");

    CHECK(wordlist_load("/tmp", err, sizeof err) == NULL);
    CHECK_STR(err, "cannot read: Is a directory");

    CHECK(LOAD("", err) == NULL);
    CHECK_STR(err, "no words (the file is empty or holds only empty lines)");
    CHECK(LOAD("\n\r\n\n", err) == NULL);
    CHECK_STR(err, "no words (the file is empty or holds only empty lines)");

    char longline[400];
    memset(longline, 'y', sizeof longline);
    CHECK(load_text(longline, sizeof longline, err, sizeof err) == NULL);
    CHECK_STR(err, "no usable words (1 lines over 255 bytes or holding a NUL byte)");

    /* A tiny err buffer is truncated, not overrun. */
    char small[8];
    CHECK(wordlist_load("/nonexistent/x", small, sizeof small) == NULL);
    CHECK_STR(small, "cannot ");
}

TEST(crack_wordlist_limits)
{
    char err[128] = "";
    /* One word more than CRACK_MAX_WORDS (2 MB of "a\n"). */
    size_t n = 2 * ((size_t)CRACK_MAX_WORDS + 1);
    char *text = malloc(n);
    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t i = 0; i < n; i += 2)
        text[i] = 'a', text[i + 1] = '\n';
    struct wordlist *wl = load_text(text, n, err, sizeof err);
    CHECK(wl == NULL);
    CHECK_STR(err, "more than 1000000 words (limit)");
    /* exactly the limit loads */
    wl = load_text(text, n - 2, err, sizeof err);
    CHECK(wl != NULL);
    CHECK_EQ_INT(wordlist_count(wl), CRACK_MAX_WORDS);
    wordlist_free(wl);
    free(text);

    /* A (sparse) file one byte over 64 MiB is refused before it is read. */
    char path[64];
    tmp_file(path, "", 0);
    CHECK(truncate(path, (off_t)CRACK_MAX_FILE_BYTES + 1) == 0);
    CHECK(wordlist_load(path, err, sizeof err) == NULL);
    CHECK_STR(err, "larger than 64 MiB (limit)");
    unlink(path);
}

/* RFC 2617 §3.5: qop=auth, the RFC's own response. */
TEST(crack_rfc2617_example)
{
    char err[128], pw[CRACK_PASSWORD_MAX];
    struct wordlist *wl = LOAD(words, err);
    struct crack *c = crack_new(wl);
    CHECK(c != NULL);
    struct crack_request rq = rq_of("Mufasa", "testrealm@host.com", "GET", "/dir/index.html",
                                    "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b",
                                    "auth", "", "6629fae49393a05397450978507c4ef1");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "Circle Of Life");
    /* upper-case hex and algorithm spelled md5 are the same request */
    rq.response = SL_LIT("6629FAE49393A05397450978507C4EF1");
    rq.algorithm = SL_LIT("md5");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "Circle Of Life");
    CHECK_EQ_INT(crack_stats(c)->found, 2);
    crack_free(c);
    wordlist_free(wl);
}

/*
 * RFC 2069 form (no qop): the RFC 2617 example without qop, and a SIP INVITE
 * whose password has a space. Computed with Python hashlib:
 *   ha1 = md5(b"Mufasa:testrealm@host.com:Circle Of Life").hexdigest()
 *   ha2 = md5(b"GET:/dir/index.html").hexdigest()
 *   md5(f"{ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:{ha2}".encode())
 *     -> 670fd8c2df070c60b045671b8b24ff02
 *   md5(b"alice:atlanta.com:s3cr3t pass") / md5(b"INVITE:sip:bob@biloxi.com"),
 *     nonce 84a4cc6f3082121f32b42a2187831a9e -> de09c446e2bd0dbbcfc58cadbd7c607c
 */
TEST(crack_rfc2069_no_qop)
{
    char err[128], pw[CRACK_PASSWORD_MAX];
    struct wordlist *wl = LOAD(words, err);
    struct crack *c = crack_new(wl);
    struct crack_request rq = rq_of("Mufasa", "testrealm@host.com", "GET", "/dir/index.html",
                                    "dcd98b7102dd2f0e8b11d0f600bfb0c093", "", "", "", "",
                                    "670fd8c2df070c60b045671b8b24ff02");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "Circle Of Life");

    rq = rq_of("alice", "atlanta.com", "INVITE", "sip:bob@biloxi.com",
               "84a4cc6f3082121f32b42a2187831a9e", "", "", "", "MD5",
               "de09c446e2bd0dbbcfc58cadbd7c607c");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "s3cr3t pass");
    crack_free(c);
    wordlist_free(wl);
}

/*
 * MD5-sess (RFC 2617 §3.2.2.2 with the hex HA1 of RFC 7616 §3.4.2 / erratum 1649):
 *   h1 = md5(b"bob:biloxi.com:zanzibar").hexdigest()
 *   h1s = md5(f"{h1}:ea9c8e88df84f1cec4341ae6cbe5a359:0a4f113b".encode()).hexdigest()
 *   h2 = md5(b"REGISTER:sip:biloxi.com").hexdigest()
 *   md5(f"{h1s}:ea9c8e88df84f1cec4341ae6cbe5a359:00000001:0a4f113b:auth:{h2}".encode())
 *     -> d527e3b9740899312e1cabcc3df6392b
 */
TEST(crack_md5_sess)
{
    char err[128], pw[CRACK_PASSWORD_MAX];
    struct wordlist *wl = LOAD(words, err);
    struct crack *c = crack_new(wl);
    struct crack_request rq = rq_of("bob", "biloxi.com", "REGISTER", "sip:biloxi.com",
                                    "ea9c8e88df84f1cec4341ae6cbe5a359", "00000001", "0a4f113b",
                                    "auth", "md5-SESS", "d527e3b9740899312e1cabcc3df6392b");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "zanzibar");
    /* the same response read as plain MD5 is not reproduced by any word */
    rq.algorithm = SL_LIT("MD5");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "");
    crack_free(c);
    wordlist_free(wl);
}

/* RFC 7616 §3.9.1: the same exchange answered with MD5 and with SHA-256. */
TEST(crack_rfc7616_sha256)
{
    char err[128], pw[CRACK_PASSWORD_MAX];
    struct wordlist *wl = LOAD(words, err);
    struct crack *c = crack_new(wl);
    struct crack_request rq = rq_of("Mufasa", "http-auth@example.org", "GET", "/dir/index.html",
                                    "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "00000001",
                                    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth",
                                    "SHA-256",
                                    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "Circle of Life");
    rq.algorithm = SL_LIT("MD5");
    rq.response = SL_LIT("8ca523f5e9506fed4657c9700eebdbec");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "Circle of Life");
    /* a SHA-256 response length under MD5 (and the reverse) is not hex of the right size */
    rq.response = SL_LIT("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->unsupported, 1);
    crack_free(c);
    wordlist_free(wl);
}

/*
 * svcrack-dict.pcap (SIPVicious 0.3.3), frame 91, answered 200 (frame 92):
 *   Digest username="100",realm="asterisk",nonce="7846c23e7",uri="sip:192.0.2.61",
 *   algorithm=MD5,qop=auth,response="6b7a75d33e2376068578514339898468"
 * svcrack says qop=auth but sends neither nc nor cnonce; SIPp's verifyauth then
 * checks the RFC 2069 form. The capture's addresses were rewritten after the
 * hash was made (pcaps/generated/README.md): the response was computed over
 * uri "sip:127.2.30.10", found by searching 127/8 with the known password
 * (md5(f"{md5('100:asterisk:kitten77')}:7846c23e7:{md5('REGISTER:sip:127.2.30.10')}")).
 * With the uri as it stands in the capture no word can match.
 */
TEST(crack_svcrack_capture)
{
    char err[128], pw[CRACK_PASSWORD_MAX];
    struct wordlist *wl = LOAD(words, err);
    struct crack *c = crack_new(wl);
    struct crack_request rq = rq_of("100", "asterisk", "REGISTER", "sip:127.2.30.10", "7846c23e7",
                                    "", "", "auth", "MD5", "6b7a75d33e2376068578514339898468");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "kitten77");
    rq.uri = SL_LIT("sip:192.0.2.61");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    crack_free(c);
    wordlist_free(wl);
}

TEST(crack_not_in_list_and_cache)
{
    char err[128], pw[CRACK_PASSWORD_MAX];
    struct wordlist *wl = LOAD("hunter2\nletmein\nadmin\n", err);
    struct crack *c = crack_new(wl);
    struct crack_request rq = rq_of("Mufasa", "testrealm@host.com", "GET", "/dir/index.html",
                                    "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b",
                                    "auth", "", "6629fae49393a05397450978507c4ef1");
    strcpy(pw, "junk");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "");
    CHECK_EQ_INT(crack_stats(c)->words_tried, 3);
    /* the same request again: answered from the cache, no word hashed */
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->words_tried, 3);
    CHECK_EQ_INT(crack_stats(c)->cache_hits, 1);
    /* another nc is another request */
    rq.nc = SL_LIT("00000002");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->words_tried, 6);
    crack_free(c);
    wordlist_free(wl);

    /* a found password comes back from the cache too */
    wl = LOAD(words, err);
    c = crack_new(wl);
    rq.nc = SL_LIT("00000001");
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    uint64_t tried = crack_stats(c)->words_tried;
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "Circle Of Life");
    CHECK_EQ_INT(crack_stats(c)->words_tried, tried);
    CHECK_EQ_INT(crack_stats(c)->found, 2);
    /* a buffer too small for the word: false, nothing half-written */
    char tiny[5] = "zzzz";
    CHECK(!crack_digest(c, &rq, tiny, sizeof tiny));
    CHECK_STR(tiny, "");
    crack_free(c);
    wordlist_free(wl);
}

TEST(crack_unsupported_and_hostile)
{
    char err[128], pw[CRACK_PASSWORD_MAX];
    struct wordlist *wl = LOAD(words, err);
    struct crack *c = crack_new(wl);
    const struct crack_request good = rq_of("Mufasa", "testrealm@host.com", "GET", "/dir/index.html",
                                            "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001",
                                            "0a4f113b", "auth", "", "6629fae49393a05397450978507c4ef1");
    struct crack_request rq = good;
    rq.qop = SL_LIT("auth-int");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    rq.qop = SL_LIT("auth,auth-int"); /* a challenge's list is not a credential's value */
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    rq = good;
    rq.algorithm = SL_LIT("AKAv1-MD5");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    rq.algorithm = SL_LIT("MD5 ");
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    rq = good;
    rq.response = SL_LIT("6629fae49393a05397450978507c4efg"); /* not hex */
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    rq.response = SL_LIT("6629fae49393a05397450978507c4ef"); /* 31 digits */
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    rq.response = SL_NULL;
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->unsupported, 7);
    CHECK_EQ_INT(crack_stats(c)->words_tried, 0);

    /* A field over CRACK_MAX_FIELD_BYTES is refused before any hashing. */
    static uint8_t huge[CRACK_MAX_FIELD_BYTES + 1];
    memset(huge, 'n', sizeof huge);
    rq = good;
    rq.nonce = sl_make(huge, sizeof huge);
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->unsupported, 8);
    rq.nonce = sl_make(huge, CRACK_MAX_FIELD_BYTES); /* at the limit: tried, not found */
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->unsupported, 8);
    CHECK_EQ_INT(crack_stats(c)->words_tried, wordlist_count(wl));

    /* Slices into larger buffers, not NUL-terminated: only n bytes are read. */
    static const char wire[] = "MufasaXtestrealm@host.comXGETX/dir/index.htmlX"
                               "dcd98b7102dd2f0e8b11d0f600bfb0c093X00000001X0a4f113bXauthX"
                               "6629fae49393a05397450978507c4ef1";
    const char *p = wire;
    rq.username = sl_make(p, 6), p += 7;
    rq.realm = sl_make(p, 18), p += 19;
    rq.method = sl_make(p, 3), p += 4;
    rq.uri = sl_make(p, 15), p += 16;
    rq.nonce = sl_make(p, 34), p += 35;
    rq.nc = sl_make(p, 8), p += 9;
    rq.cnonce = sl_make(p, 8), p += 9;
    rq.qop = sl_make(p, 4), p += 5;
    rq.algorithm = SL_NULL;
    rq.response = sl_make(p, 32);
    CHECK(crack_digest(c, &rq, pw, sizeof pw));
    CHECK_STR(pw, "Circle Of Life");

    /* NUL and high bytes in the user name are hashed as they are: no match, no error. */
    rq = good;
    rq.username = sl_make("Muf\0sa\xff", 7);
    uint64_t unsup = crack_stats(c)->unsupported;
    CHECK(!crack_digest(c, &rq, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->unsupported, unsup);

    /* Every field empty: MD5 without qop over empty strings; the response is empty: refused. */
    struct crack_request empty = { 0 };
    CHECK(!crack_digest(c, &empty, pw, sizeof pw));
    CHECK_EQ_INT(crack_stats(c)->unsupported, unsup + 1);
    /* A NULL password buffer is not written. */
    CHECK(!crack_digest(c, &good, NULL, 0));
    crack_free(c);
    crack_free(NULL);
    wordlist_free(wl);
}
