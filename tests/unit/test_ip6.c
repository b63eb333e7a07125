/* test_ip6.c - IPv6 fragment reassembly and the 240/4 stand-in map. */
#include "test.h"

#include "capture/ip6frag.h"
#include "capture/ip6map.h"

struct seen {
    int anomalies[CAP_A__COUNT];
};

static void on_anomaly(void *ctx, const struct l4_meta *m, enum cap_anomaly a)
{
    (void)m;
    ((struct seen *)ctx)->anomalies[a]++;
}

static struct l4_meta meta6(uint64_t ts)
{
    struct l4_meta m = { .ts_us = ts };
    ip_parse("2001:db8::1", &m.src);
    ip_parse("2001:db8::2", &m.dst);
    return m;
}

/* Fragment header: next header 17, offset in bytes, more flag, id. */
static struct slice fh(uint8_t *b, uint32_t off, bool more, uint32_t id)
{
    b[0] = 17;
    b[1] = 0;
    uint16_t v = (uint16_t)(off | (more ? 1 : 0));
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
    b[4] = (uint8_t)(id >> 24), b[5] = (uint8_t)(id >> 16), b[6] = (uint8_t)(id >> 8), b[7] = (uint8_t)id;
    return sl_make(b, 8);
}

TEST(ip6frag_in_order_and_reversed)
{
    struct seen s = { { 0 } };
    struct capture_stats st = { 0 };
    struct l4_handler h = { &s, 0, 0, 0, on_anomaly };
    struct ip6frag *f = ip6frag_new(16, 1 << 20, 60000000, &h, &st);
    uint8_t data[3000];
    for (unsigned i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    uint8_t hb[8];
    struct slice out;
    uint8_t nh = 0;
    struct l4_meta m = meta6(1000);
    CHECK(!ip6frag_add(f, &m, fh(hb, 0, true, 7), sl_make(data, 1232), &out, &nh));
    CHECK(!ip6frag_add(f, &m, fh(hb, 1232, true, 7), sl_make(data + 1232, 1232), &out, &nh));
    CHECK(ip6frag_add(f, &m, fh(hb, 2464, false, 7), sl_make(data + 2464, 536), &out, &nh));
    CHECK(out.n == 3000 && nh == 17 && memcmp(out.p, data, 3000) == 0);
    /* reversed, another id */
    CHECK(!ip6frag_add(f, &m, fh(hb, 2464, false, 8), sl_make(data + 2464, 536), &out, &nh));
    CHECK(!ip6frag_add(f, &m, fh(hb, 1232, true, 8), sl_make(data + 1232, 1232), &out, &nh));
    CHECK(ip6frag_add(f, &m, fh(hb, 0, true, 8), sl_make(data, 1232), &out, &nh));
    CHECK(out.n == 3000 && memcmp(out.p, data, 3000) == 0);
    CHECK(st.reassembled_v6 == 2 && st.frags_v6 == 6);
    ip6frag_free(f);
    CHECK(s.anomalies[CAP_A_FRAG_TIMEOUT] == 0);
}

TEST(ip6frag_overlap_timeout_and_limits)
{
    struct seen s = { { 0 } };
    struct capture_stats st = { 0 };
    struct l4_handler h = { &s, 0, 0, 0, on_anomaly };
    struct ip6frag *f = ip6frag_new(2, 8192, 60000000, &h, &st);
    uint8_t data[4096] = { 0 }, hb[8];
    struct slice out;
    uint8_t nh;
    struct l4_meta m = meta6(1000);
    /* RFC 5722: an overlap drops the set; the rest never completes it. */
    CHECK(!ip6frag_add(f, &m, fh(hb, 0, true, 1), sl_make(data, 64), &out, &nh));
    CHECK(!ip6frag_add(f, &m, fh(hb, 32, true, 1), sl_make(data, 64), &out, &nh));
    CHECK(s.anomalies[CAP_A_FRAG_OVERLAP] == 1);
    CHECK(!ip6frag_add(f, &m, fh(hb, 64, false, 1), sl_make(data, 8), &out, &nh));
    /* an incomplete set expires by capture time, not wall time */
    ip6frag_tick(f, 1000 + 59000000);
    CHECK(s.anomalies[CAP_A_FRAG_TIMEOUT] == 0);
    ip6frag_tick(f, 1000 + 61000000);
    CHECK(s.anomalies[CAP_A_FRAG_TIMEOUT] == 1);
    /* three concurrent sets in a table of two: the oldest is evicted */
    for (uint32_t id = 10; id < 13; id++)
        CHECK(!ip6frag_add(f, &m, fh(hb, 0, true, id), sl_make(data, 64), &out, &nh));
    CHECK(s.anomalies[CAP_A_FRAG_LIMIT] == 1);
    /* a fourth set evicts another (2nd limit hit), then needs 12 KiB where the
     * budget is 8 KiB with 4 KiB already held: refused (3rd) */
    CHECK(!ip6frag_add(f, &m, fh(hb, 8192, true, 20), sl_make(data, 4096), &out, &nh));
    CHECK(s.anomalies[CAP_A_FRAG_LIMIT] == 3);
    /* a non-last fragment whose length is not a multiple of 8 is malformed */
    CHECK(!ip6frag_add(f, &m, fh(hb, 0, true, 30), sl_make(data, 13), &out, &nh));
    CHECK(s.anomalies[CAP_A_BAD_IP] == 1);
    ip6frag_free(f);
}

TEST(ip6map_round_trip_and_recycling)
{
    struct ip6map *m = ip6map_new(2);
    struct ip_addr a, b, c, back;
    ip_parse("2001:db8::a", &a);
    ip_parse("2001:db8::b", &b);
    ip_parse("2001:db8::c", &c);
    uint32_t va = ip6map_get(m, &a, 1), vb = ip6map_get(m, &b, 2);
    CHECK(va != vb && ip6map_reserved(va) && ip6map_reserved(vb));
    CHECK(ip6map_get(m, &a, 3) == va);
    CHECK(ip6map_lookup(m, vb, &back) && ip_eq(&back, &b));
    /* a third address recycles the least recently used (b) */
    uint32_t vc = ip6map_get(m, &c, 4);
    CHECK(vc == vb);
    CHECK(ip6map_lookup(m, vc, &back) && ip_eq(&back, &c));
    CHECK(ip6map_lookup(m, va, &back) && ip_eq(&back, &a));
    uint8_t v4[4] = { 192, 0, 2, 1 };
    uint32_t plain;
    memcpy(&plain, v4, 4);
    CHECK(!ip6map_reserved(plain) && !ip6map_lookup(m, plain, &back));
    ip6map_free(m);
}
