/*
 * test_torture.c - the RFC 4475 / RFC 5118 torture messages in tests/sip-torture/, each
 * parsed as one UDP datagram and held to the verdict in EXPECTED.tsv (read at run time,
 * from the repository root), plus field checks on the valid messages that test something.
 */
#include "test.h"

#include <dirent.h>
#include <stdlib.h>

#include "../../dissect/sip.h"

#define TORTURE_DIR "tests/sip-torture/"

/* A torture file parsed as a datagram; the buffer lives as long as the message. */
struct parsed {
    uint8_t *buf;
    size_t n, used;
    enum sip_result r;
    struct sip_msg m;
};

static struct parsed *parse_file(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", TORTURE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "  cannot open %s (tests run from the repository root)\n", path);
        return NULL;
    }
    struct parsed *p = calloc(1, sizeof *p);
    p->buf = malloc(1 << 16);
    p->n = fread(p->buf, 1, 1 << 16, f);
    fclose(f);
    p->r = sip_parse(sl_make(p->buf, p->n), SIP_DGRAM, &p->m, &p->used);
    return p;
}

static void parsed_free(struct parsed *p)
{
    if (p) {
        free(p->buf);
        free(p);
    }
}

/*
 * The archived rfc5118/ files keep the RFC's Content-Length, which for these two is
 * larger than the bare-LF body (268 > 242, 181 > 180). As datagrams that is exactly
 * RFC 4475 clerr (§18.3: discard), and no rule can accept one and reject the other, so
 * we report the framing error; the rfc5118-wire/ copies with the real length are valid.
 */
static const char *const archive_cl_quirk[] = { "rfc5118/ipv6-in-sdp.dat", "rfc5118/mult-ip-in-sdp.dat" };

/* The rule each invalid message must be caught by (the first one that breaks). */
static const struct { const char *file, *why; } expected_why[] = {
    { "rfc4475/badinv01.dat", "empty parameter" },
    { "rfc4475/clerr.dat", "Content-Length exceeds datagram" },
    { "rfc4475/ncl.dat", "negative Content-Length" },
    { "rfc4475/scalar02.dat", "CSeq out of range" },
    { "rfc4475/scalarlg.dat", "CSeq out of range" },
    { "rfc4475/quotbal.dat", "unbalanced quote in display name" },
    { "rfc4475/ltgtruri.dat", "Request-URI in angle brackets" },
    { "rfc4475/lwsruri.dat", "whitespace in Request-URI" },
    { "rfc4475/lwsstart.dat", "extra whitespace in Request-Line" },
    { "rfc4475/trws.dat", "trailing whitespace in Request-Line" },
    { "rfc4475/escruri.dat", "headers in Request-URI" },
    { "rfc4475/baddate.dat", "Date not in GMT" },
    { "rfc4475/regbadct.dat", "URI headers in addr-spec without <>" },
    { "rfc4475/badaspec.dat", "LWS inside <addr-spec>" },
    { "rfc4475/baddn.dat", "display name not a token or quoted-string" },
    { "rfc4475/badvers.dat", "unsupported SIP version" },
    { "rfc4475/mismatch01.dat", "CSeq method differs from Request-Line" },
    { "rfc4475/mismatch02.dat", "CSeq method differs from Request-Line" },
    { "rfc4475/bigcode.dat", "bad Status-Code" },
    { "rfc4475/badbranch.dat", "empty branch" },
    { "rfc4475/insuf.dat", "missing mandatory header From" },
    { "rfc4475/multi01.dat", "CSeq appears twice" }, /* the first repeat in the message */
    { "rfc4475/mcl01.dat", "conflicting Content-Length values" },
    { "rfc4475/test.dat", "Request-Line lacks SIP-Version" },
    { "rfc5118/ipv6-bad.dat", "bad port in URI" },
    { "rfc5118-wire/ipv6-bad.dat", "bad port in URI" },
};

static bool in_list(const char *file, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(file, list[i]) == 0)
            return true;
    return false;
}

#define FAIL_FILE(file, ...)                                   \
    do {                                                       \
        fprintf(stderr, "  %s: ", file);                       \
        fprintf(stderr, __VA_ARGS__);                          \
        fputc('\n', stderr);                                   \
        test_failed_checks++;                                  \
    } while (0)

static void check_row(const char *file, bool valid)
{
    struct parsed *p = parse_file(file);
    if (!p) {
        test_failed_checks++;
        return;
    }
    const struct sip_msg *m = &p->m;
    const char *why = m->malformed;
    if (p->r != SIP_OK)
        FAIL_FILE(file, "sip_parse returned %d, not SIP_OK", p->r);
    else if (in_list(file, archive_cl_quirk, sizeof archive_cl_quirk / sizeof archive_cl_quirk[0]))
        CHECK(why && strcmp(why, "Content-Length exceeds datagram") == 0 &&
              (m->anomalies & SIP_ANOM_CL_EXCEEDS));
    else if (valid && why)
        FAIL_FILE(file, "valid, but parsed as malformed: %s", why);
    else if (!valid && !why)
        FAIL_FILE(file, "invalid, but parsed as well formed");
    for (size_t i = 0; i < sizeof expected_why / sizeof expected_why[0]; i++)
        if (strcmp(file, expected_why[i].file) == 0 && (!why || strcmp(why, expected_why[i].why) != 0))
            FAIL_FILE(file, "malformed is \"%s\", expected \"%s\"", why ? why : "(null)", expected_why[i].why);
    if (p->r == SIP_OK && (p->used == 0 || p->used > p->n || m->raw.n == 0))
        FAIL_FILE(file, "used %zu of %zu", p->used, p->n);
    parsed_free(p);
}

/* Every .dat under dir must have a row: a file added without a verdict is a test gap. */
static void check_listed(const char *dir, const char *tsv, size_t *files)
{
    char path[256], key[300];
    snprintf(path, sizeof path, TORTURE_DIR "%s", dir);
    DIR *d = opendir(path);
    CHECK(d != NULL);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".dat") != 0)
            continue;
        snprintf(key, sizeof key, "\n%s/%s\t", dir, de->d_name);
        if (!strstr(tsv, key))
            FAIL_FILE(key + 1, "has no row in EXPECTED.tsv");
        (*files)++;
    }
    closedir(d);
}

TEST(torture_verdicts_match_expected_tsv)
{
    FILE *f = fopen(TORTURE_DIR "EXPECTED.tsv", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    static char tsv[1 << 16];
    size_t len = fread(tsv, 1, sizeof tsv - 1, f);
    fclose(f);
    tsv[len] = '\0';

    size_t rows = 0, yes = 0, files = 0;
    for (char *line = tsv, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        size_t n = next ? (size_t)(next - line) : strlen(line);
        if (next)
            next++;
        char row[1024];
        snprintf(row, sizeof row, "%.*s", (int)(n < sizeof row - 1 ? n : sizeof row - 1), line);
        char *tab1 = strchr(row, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
        if (!tab1 || !tab2 || strncmp(row, "file\t", 5) == 0)
            continue;
        *tab1 = *tab2 = '\0';
        bool valid = strcmp(tab1 + 1, "yes") == 0;
        CHECK(valid || strcmp(tab1 + 1, "no") == 0);
        check_row(row, valid);
        rows++;
        yes += valid;
    }
    CHECK_EQ_INT(rows, 74); /* 50 RFC 4475 + 12 RFC 5118 archived + 12 on-the-wire copies */
    CHECK_EQ_INT(yes, 48);
    check_listed("rfc4475", tsv, &files);
    check_listed("rfc5118", tsv, &files);
    check_listed("rfc5118-wire", tsv, &files);
    CHECK_EQ_INT(files, rows);
}

TEST(torture_wsinv_folding_and_whitespace)
{
    struct parsed *p = parse_file("rfc4475/wsinv.dat");
    CHECK(p && p->r == SIP_OK);
    if (!p)
        return;
    const struct sip_msg *m = &p->m;
    CHECK_SL(m->method, "INVITE");
    CHECK_SL(m->ruri.host, "chair-dnrc.example.com");
    CHECK_SL(m->ruri.params, "unknownparam");
    CHECK_SL(m->call_id, "wsinv.ndaksdj@192.0.2.1");
    CHECK_SL(m->to.uri.user, "vivekg");
    CHECK_SL(m->to.tag, "1918181833n");
    CHECK_SL(m->from.display, "J Rosenberg \\\\\\\"");
    CHECK_SL(m->from.tag, "98asjd8");
    CHECK(m->has_cseq && m->cseq.seq == 9 && m->cseq.method_id == SIP_M_INVITE);
    CHECK_EQ_INT(m->n_via, 3);
    CHECK_SL(m->via.transport, "UDP");
    CHECK_SL(m->via.host, "192.0.2.2");
    CHECK_SL(m->via.branch, "390skdjuw");
    CHECK(m->anomalies & SIP_ANOM_FOLDED);
    CHECK(m->anomalies & SIP_ANOM_BAD_BRANCH); /* no RFC 3261 cookie: counted, still legal */
    /* "s :" has an empty value; the folded unknown header keeps its fold in the slice */
    const struct sip_header *s = sip_header_get(m, SIP_H_SUBJECT, 0);
    CHECK(s && s->value.n == 0);
    const struct sip_header *nf = sip_header_by_name(m, SL_LIT("newfangledheader"));
    CHECK(nf != NULL);
    if (nf)
        CHECK_SL(nf->value, "newfangled value\r\n continued newfangled value");
    CHECK(m->has_contact);
    CHECK_SL(m->contact.display, "Quoted string \\\"\\\"");
    struct slice q;
    CHECK(sip_param_get(m->contact.params, SL_LIT("Q"), &q));
    CHECK_SL(q, "0.33");
    CHECK(sip_param_get(m->contact.params, SL_LIT("newparam"), &q));
    CHECK_SL(q, "newvalue");
    CHECK_EQ_INT(m->content_length, 150);
    CHECK_EQ_INT(m->body.n, 150);
    CHECK(sl_starts_lit(m->body, "v=0\r\n"));
    parsed_free(p);
}

TEST(torture_escapes_stay_escaped)
{
    struct parsed *p = parse_file("rfc4475/esc01.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_SL(p->m.ruri.user, "sips%3Auser%40example.com");
        CHECK_SL(p->m.ruri.host, "example.net");
        CHECK_SL(p->m.to.uri.user, "%75se%72");
        CHECK_SL(p->m.from.uri.user, "I%20have%20spaces");
        struct slice v;
        CHECK(sip_uri_param(&p->m.contact.uri, SL_LIT("n%61me"), &v));
        CHECK_SL(v, "v%61lue%25%34%31");
    }
    parsed_free(p);

    p = parse_file("rfc4475/escnull.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_SL(p->m.to.uri.user, "null-%00-null");
        CHECK_EQ_INT(p->m.count[SIP_H_CONTACT], 2);
        CHECK_SL(p->m.contact.uri.user, "%00");
    }
    parsed_free(p);

    /* RE%47IST%45R is an unknown method, C%6Fntact an unknown header */
    p = parse_file("rfc4475/esc02.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_SL(p->m.method, "RE%47IST%45R");
        CHECK_EQ_INT(p->m.method_id, SIP_M_UNKNOWN);
        CHECK_EQ_INT(p->m.count[SIP_H_CONTACT], 2);
        CHECK_SL(p->m.from.display, "%Z%45");
        CHECK_SL(p->m.via.branch, "z9hG4bK209%fzsnel234");
    }
    parsed_free(p);
}

TEST(torture_intmeth_and_lwsdisp)
{
    struct parsed *p = parse_file("rfc4475/intmeth.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_SL(p->m.method, "!interesting-Method0123456789_*+`.%indeed'~");
        CHECK_EQ_INT(p->m.method_id, SIP_M_UNKNOWN);
        CHECK_SL(p->m.ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
        CHECK_SL(p->m.ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
        CHECK_SL(p->m.ruri.host, "example.com");
        CHECK_SL(p->m.from.display, "token1~` token2'+_ token3*%!.-");
        CHECK_SL(p->m.from.tag, "_token~1'+`*%!-.");
        CHECK_EQ_INT(p->m.to.display.n, 20); /* BEL:\^G NUL:\^@ DEL:\^? with raw bytes */
        CHECK(p->m.to.display.n == 20 && p->m.to.display.p[5] == 0x07 && p->m.to.display.p[12] == 0);
    }
    parsed_free(p);

    p = parse_file("rfc4475/lwsdisp.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_SL(p->m.from.display, "caller");
        CHECK_SL(p->m.from.uri.user, "caller");
    }
    parsed_free(p);
}

TEST(torture_semiuri_longreq_mpart)
{
    struct parsed *p = parse_file("rfc4475/semiuri.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_SL(p->m.ruri.user, "user;par=u%40example.net");
        CHECK_SL(p->m.ruri.host, "example.com");
        CHECK(p->m.ruri.params.n == 0);
    }
    parsed_free(p);

    p = parse_file("rfc4475/longreq.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_EQ_INT(p->m.n_via, 34);
        CHECK_SL(p->m.via.host, "sip33.example.com");
        CHECK_EQ_INT(p->m.count[SIP_H_VIA], 34);
        CHECK_EQ_INT(p->m.to.display.n, 103);
        CHECK_EQ_INT(p->m.to.uri.port, 6000);
        CHECK_EQ_INT(p->m.from.tag.n, 155);
        CHECK_EQ_INT(p->m.call_id.n, 141);
        CHECK_EQ_INT(p->m.from.uri.user.n, 115);
        const struct sip_header *last = sip_header_get(&p->m, SIP_H_VIA, 33);
        CHECK(last && sl_starts_lit(last->value, "SIP/2.0/TCP host.example.com;received=192.0.2.5"));
        CHECK_EQ_INT(p->m.body.n, 150);
    }
    parsed_free(p);

    /* binary body with NULs and bare LFs: framed by Content-Length only */
    p = parse_file("rfc4475/mpart01.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_EQ_INT(p->m.body.n, 553);
        CHECK(memchr(p->m.body.p, 0, p->m.body.n) != NULL);
        CHECK(sl_ends(p->m.body, SL_LIT("--7a9cbec02ceef655--\r\n")));
        CHECK_EQ_INT(p->used, p->n);
        CHECK(p->m.via.rport && p->m.via.rport_value.n == 0);
        CHECK_SL(p->m.user_agent, "SIPimp.org/0.2.5 (curses)");
        CHECK_SL(p->m.content_type, "multipart/mixed;boundary=7a9cbec02ceef655");
    }
    parsed_free(p);
}

TEST(torture_dblreq_transports_responses)
{
    struct parsed *p = parse_file("rfc4475/dblreq.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) { /* the REGISTER only; the INVITE-looking octets are trailing bytes */
        CHECK_EQ_INT(p->m.method_id, SIP_M_REGISTER);
        CHECK(p->m.anomalies & SIP_ANOM_TRAILING_BYTES);
        CHECK(p->used < p->n && sl_starts_lit(sl_make(p->buf + p->used, p->n - p->used), "\r\nINVITE "));
        CHECK_SL(p->m.contact.uri.host, "host.example.com");
    }
    parsed_free(p);

    p = parse_file("rfc4475/transports.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        static const char *const tr[] = { "UDP", "SCTP", "TLS", "UNKNOWN", "TCP" };
        for (unsigned i = 0; i < 5; i++) {
            const struct sip_header *h = sip_header_get(&p->m, SIP_H_VIA, i);
            struct sip_via v;
            struct slice rest;
            CHECK(h && sip_via_parse(h->value, &v, &rest) && rest.n == 0);
            if (h)
                CHECK_SL(v.transport, tr[i]);
        }
    }
    parsed_free(p);

    p = parse_file("rfc4475/noreason.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK(!p->m.is_request && p->m.status == 100 && p->m.reason.n == 0);
        CHECK_EQ_INT(p->m.method_id, SIP_M_INVITE); /* from CSeq */
    }
    parsed_free(p);

    p = parse_file("rfc4475/unreason.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed && p->m.status == 200);
    if (p)
        CHECK(sl_starts_lit(p->m.reason, "= 2**3 * 5**2 "));
    parsed_free(p);

    p = parse_file("rfc4475/bcast.dat");
    CHECK(p && p->r == SIP_OK && !p->m.malformed);
    if (p) {
        CHECK_EQ_INT(p->m.n_via, 2);
        struct sip_via v;
        struct slice rest;
        const struct sip_header *h = sip_header_get(&p->m, SIP_H_VIA, 1);
        CHECK(h && sip_via_parse(h->value, &v, &rest));
        if (h)
            CHECK_SL(v.host, "255.255.255.255");
    }
    parsed_free(p);
}

TEST(torture_contacts_schemes_and_2543)
{
    struct parsed *p = parse_file("rfc4475/cparam01.dat");
    CHECK(p && !p->m.malformed);
    if (p) { /* no <>: ;unknownparam belongs to the header */
        CHECK_SL(p->m.contact.uri.user, "+19725552222");
        CHECK(p->m.contact.uri.params.n == 0);
        CHECK_SL(p->m.contact.params, "unknownparam");
    }
    parsed_free(p);
    p = parse_file("rfc4475/cparam02.dat");
    CHECK(p && !p->m.malformed);
    if (p) { /* in <>: it belongs to the URI */
        CHECK_SL(p->m.contact.uri.params, "unknownparam");
        CHECK(p->m.contact.params.n == 0);
    }
    parsed_free(p);
    p = parse_file("rfc4475/regescrt.dat");
    CHECK(p && !p->m.malformed);
    if (p)
        CHECK_SL(p->m.contact.uri.headers, "Route=%3Csip:sip.example.com%3E");
    parsed_free(p);

    p = parse_file("rfc4475/unksm2.dat");
    CHECK(p && !p->m.malformed);
    if (p) {
        CHECK_SL(p->m.to.uri.scheme, "isbn");
        CHECK_EQ_INT(p->m.to.uri.scheme_id, SIP_URI_OTHER);
        CHECK_SL(p->m.from.uri.raw, "http://www.example.com");
        CHECK_SL(p->m.contact.uri.raw, "name:John_Smith");
    }
    parsed_free(p);
    p = parse_file("rfc4475/novelsc.dat");
    CHECK(p && !p->m.malformed);
    if (p)
        CHECK_SL(p->m.ruri.scheme, "soap.beep");
    parsed_free(p);

    p = parse_file("rfc4475/inv2543.dat");
    CHECK(p && !p->m.malformed);
    if (p) {
        CHECK(p->m.anomalies & SIP_ANOM_CL_MISSING);
        CHECK(!(p->m.anomalies & SIP_ANOM_BAD_BRANCH)); /* no branch at all: plain RFC 2543 */
        CHECK(p->m.via.branch.p == NULL && p->m.from.tag.n == 0);
        CHECK_EQ_INT(p->m.content_length, -1);
        CHECK_EQ_INT(p->m.body.n, p->n - (size_t)(p->m.body.p - p->buf));
        CHECK_SL(p->m.to.params, "user=phone");
    }
    parsed_free(p);

    p = parse_file("rfc4475/badbranch.dat");
    CHECK(p && (p->m.anomalies & SIP_ANOM_BAD_BRANCH));
    if (p)
        CHECK_SL(p->m.via.branch, "z9hG4bK");
    parsed_free(p);

    p = parse_file("rfc4475/bigcode.dat");
    CHECK(p && p->m.status == 0 && !p->m.is_request);
    parsed_free(p);
}

TEST(torture_rfc5118_ipv6)
{
    static const char *const dirs[] = { "rfc5118/", "rfc5118-wire/" };
    for (int d = 0; d < 2; d++) {
        char f[128];
        snprintf(f, sizeof f, "%sipv6-good.dat", dirs[d]);
        struct parsed *p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p) {
            CHECK_SL(p->m.ruri.host, "2001:db8::10");
            CHECK(!p->m.ruri.has_port);
            CHECK_SL(p->m.via.host, "2001:db8::9:1");
            CHECK_SL(p->m.contact.uri.host, "2001:db8::1");
        }
        parsed_free(p);

        snprintf(f, sizeof f, "%sport-unambiguous.dat", dirs[d]);
        p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p) {
            CHECK_SL(p->m.ruri.host, "2001:db8::10");
            CHECK(p->m.ruri.has_port && p->m.ruri.port == 5070);
        }
        parsed_free(p);

        snprintf(f, sizeof f, "%sport-ambiguous.dat", dirs[d]);
        p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p) {
            CHECK_SL(p->m.ruri.host, "2001:db8::10:5070");
            CHECK(!p->m.ruri.has_port);
        }
        parsed_free(p);

        snprintf(f, sizeof f, "%svia-received-param-with-delim.dat", dirs[d]);
        p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p)
            CHECK_SL(p->m.via.received, "[2001:db8::9:255]");
        parsed_free(p);

        snprintf(f, sizeof f, "%svia-received-param-no-delim.dat", dirs[d]);
        p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p)
            CHECK_SL(p->m.via.received, "2001:db8::9:255");
        parsed_free(p);

        snprintf(f, sizeof f, "%smult-ip-in-header.dat", dirs[d]);
        p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p) {
            CHECK_EQ_INT(p->m.n_via, 3);
            CHECK_SL(p->m.via.host, "2001:db8::9:1");
            CHECK(p->m.via.has_port && p->m.via.port == 6050);
            struct sip_via v;
            struct slice rest;
            const struct sip_header *h = sip_header_get(&p->m, SIP_H_VIA, 2);
            CHECK(h && sip_via_parse(h->value, &v, &rest));
            if (h) {
                CHECK_SL(v.host, "2001:db8::9:255");
                CHECK_SL(v.received, "192.0.2.200");
                CHECK_SL(v.transport, "TCP");
            }
        }
        parsed_free(p);

        snprintf(f, sizeof f, "%sipv4-mapped-ipv6.dat", dirs[d]);
        p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p) {
            CHECK_SL(p->m.via.host, "::ffff:192.0.2.10");
            CHECK_EQ_INT(p->m.via.port, 19823);
            CHECK_SL(p->m.contact.uri.host, "::ffff:192.0.2.2");
            CHECK_SL(p->m.contact.display, "T. desk phone");
        }
        parsed_free(p);

        snprintf(f, sizeof f, "%sipv6-bug-abnf-3-colons.dat", dirs[d]);
        p = parse_file(f);
        CHECK(p && !p->m.malformed);
        if (p)
            CHECK_SL(p->m.ruri.host, "2001:db8:::192.0.2.1");
        parsed_free(p);
    }
    /* the wire copy of ipv6-in-sdp frames exactly (see archive_cl_quirk for the archived one) */
    struct parsed *p = parse_file("rfc5118-wire/ipv6-in-sdp.dat");
    CHECK(p && !p->m.malformed && p->m.body.n == 251 && p->used == p->n);
    parsed_free(p);
}
