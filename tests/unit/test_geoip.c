/*
 * test_geoip.c - --geoip lookups against tests/fixtures/geoip-test.mmdb (built
 * by tests/fixtures/make-geoip.pl from documentation ranges), and the errors
 * for files that are missing or are no .mmdb.
 */
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

#include "../../rules/geoip.h"

#define FIXTURE TEST_DATA("tests/fixtures/geoip-test.mmdb")
#define FIXTURE_V4 TEST_DATA("tests/fixtures/geoip-v4only.mmdb")

static bool look(struct geoip *g, const char *text, struct geoip_result *r)
{
    struct ip_addr a;
    CHECK(ip_parse(text, &a));
    return geoip_lookup(g, &a, r);
}

TEST(geoip_geolite2_fields)
{
    char err[128] = "";
    struct geoip *g = geoip_open(FIXTURE, err, sizeof err);
    CHECK(g != NULL);
    if (!g) {
        fprintf(stderr, "  %s: %s\n", FIXTURE, err);
        return;
    }
    CHECK_STR(geoip_database_type(g), "sipsift-test");
    struct geoip_result r;
    CHECK(look(g, "198.51.100.88", &r));
    CHECK_STR(r.country, "NL");
    CHECK_STR(r.asn, "AS64496");
    CHECK_STR(r.as_org, "Example Attacker AS");
    /* first and last address of the /24 */
    CHECK(look(g, "198.51.100.0", &r) && strcmp(r.asn, "AS64496") == 0);
    CHECK(look(g, "198.51.100.255", &r) && strcmp(r.country, "NL") == 0);

    CHECK(look(g, "203.0.113.7", &r));
    CHECK_STR(r.country, "CN");
    CHECK_STR(r.asn, "AS64497");
    CHECK_STR(r.as_org, ""); /* absent: empty */
    geoip_close(g);
}

TEST(geoip_ipv6_and_v4_in_v6_tree)
{
    char err[128];
    struct geoip *g = geoip_open(FIXTURE, err, sizeof err);
    CHECK(g != NULL);
    if (!g)
        return;
    struct geoip_result r;
    CHECK(look(g, "2001:db8::1", &r));
    CHECK_STR(r.country, "DE");
    CHECK_STR(r.asn, "");
    CHECK_STR(r.as_org, "");
    CHECK(look(g, "2001:db8:1234:5678::9", &r));
    CHECK_STR(r.country, "DE");
    /* registered_country when the record has no country */
    CHECK(look(g, "2001:db8:ffff::1", &r));
    CHECK_STR(r.country, "SE");
    /* An IPv4 address is held as ::ffff:a.b.c.d; it is looked up in the tree's IPv4 part. */
    struct ip_addr a;
    CHECK(ip_parse("::ffff:198.51.100.1", &a));
    CHECK(ip_is_v4(&a));
    CHECK(geoip_lookup(g, &a, &r));
    CHECK_STR(r.country, "NL");
    geoip_close(g);
}

TEST(geoip_other_layouts)
{
    char err[128];
    struct geoip *g = geoip_open(FIXTURE, err, sizeof err);
    CHECK(g != NULL);
    if (!g)
        return;
    struct geoip_result r;
    /* ip-location-db: country_code, asn as digits, as_organization */
    CHECK(look(g, "192.0.2.10", &r));
    CHECK_STR(r.country, "JP");
    CHECK_STR(r.asn, "AS64498");
    CHECK_STR(r.as_org, "Example Victim Net");
    /* ipinfo: asn "AS…", as_name */
    CHECK(look(g, "192.0.2.200", &r));
    CHECK_STR(r.country, "US");
    CHECK_STR(r.asn, "AS64499");
    CHECK_STR(r.as_org, "Example ipinfo-style Net");
    geoip_close(g);
}

TEST(geoip_misses)
{
    char err[128];
    struct geoip *g = geoip_open(FIXTURE, err, sizeof err);
    CHECK(g != NULL);
    if (!g)
        return;
    struct geoip_result r;
    memset(&r, 'x', sizeof r);
    CHECK(!look(g, "8.8.8.8", &r));
    CHECK_STR(r.country, "");
    CHECK_STR(r.asn, "");
    CHECK_STR(r.as_org, "");
    CHECK(!look(g, "198.51.101.1", &r));
    CHECK(!look(g, "2001:db9::1", &r));
    CHECK(!look(g, "::", &r));
    CHECK(!look(g, "::1", &r));
    CHECK(!geoip_lookup(NULL, NULL, &r));
    geoip_close(g);
    geoip_close(NULL);

    /* An IPv6 address in an IPv4-only database: not found, not an error. */
    g = geoip_open(FIXTURE_V4, err, sizeof err);
    CHECK(g != NULL);
    if (!g)
        return;
    CHECK(look(g, "198.51.100.9", &r));
    CHECK_STR(r.country, "NL");
    CHECK(!look(g, "2001:db8::1", &r));
    CHECK_STR(r.country, "");
    geoip_close(g);
}

TEST(geoip_open_errors)
{
    char err[160] = "";
    CHECK(geoip_open("/nonexistent/sipsift/geo.mmdb", err, sizeof err) == NULL);
    CHECK_STR(err, "cannot open: No such file or directory");

    /* A file that is no .mmdb: this very test's source. */
    CHECK(geoip_open("tests/unit/test_geoip.c", err, sizeof err) == NULL);
    CHECK(strncmp(err, "not a MaxMind DB (.mmdb) file: ", 31) == 0);

    /* An empty file and a truncated database are refused too. */
    char path[64] = "/tmp/sipsift-geoip-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(geoip_open(path, err, sizeof err) == NULL);
    CHECK_STR(err, "not a MaxMind DB (.mmdb) file: the file is empty");
    CHECK(geoip_open("tests/fixtures", err, sizeof err) == NULL);
    CHECK_STR(err, "cannot open: Is a directory");
    FILE *in = fopen(FIXTURE, "rb");
    CHECK(in != NULL);
    if (in) {
        char half[600];
        size_t n = fread(half, 1, sizeof half, in); /* the metadata is at the end: cut off */
        fclose(in);
        CHECK(n == sizeof half);
        CHECK(write(fd, half, n) == (ssize_t)n);
        CHECK(geoip_open(path, err, sizeof err) == NULL);
        CHECK(strncmp(err, "not a MaxMind DB (.mmdb) file: ", 31) == 0);
    }
    close(fd);
    unlink(path);

    /* The err buffer is optional and bounded. */
    CHECK(geoip_open("/nonexistent/x", NULL, 0) == NULL);
    char small[10];
    CHECK(geoip_open("/nonexistent/x", small, sizeof small) == NULL);
    CHECK_STR(small, "cannot op");
}
