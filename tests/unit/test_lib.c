/* test_lib.c - the slice API and the bounded table. */
#include "test.h"

#include "../../lib/ipaddr.h"
#include "../../lib/slice.h"
#include "../../lib/table.h"
#include "../../lib/timefmt.h"

TEST(slice_take_token_and_line)
{
    struct slice s = SL_LIT("a;b;;c");
    CHECK_SL(sl_take_token(&s, ';'), "a");
    CHECK_SL(sl_take_token(&s, ';'), "b");
    CHECK_SL(sl_take_token(&s, ';'), "");
    CHECK_SL(sl_take_token(&s, ';'), "c");
    CHECK(s.n == 0);
    struct slice t = SL_LIT("one\r\ntwo\nthree"), line;
    CHECK(sl_take_line(&t, &line));
    CHECK_SL(line, "one");
    CHECK(sl_take_line(&t, &line));
    CHECK_SL(line, "two");
    CHECK(!sl_take_line(&t, &line));
    CHECK_SL(t, "three");
}

TEST(slice_numbers_reject_overflow_and_junk)
{
    uint32_t v;
    CHECK(sl_to_u32(SL_LIT("4294967295"), &v) && v == 4294967295u);
    CHECK(!sl_to_u32(SL_LIT("4294967296"), &v));
    CHECK(!sl_to_u32(SL_LIT("4294967301"), &v));
    CHECK(!sl_to_u32(SL_LIT(""), &v));
    CHECK(!sl_to_u32(SL_LIT("-1"), &v));
    CHECK(!sl_to_u32(SL_LIT("12a"), &v));
    uint64_t w;
    CHECK(!sl_to_u64(SL_LIT("99999999999999999999999"), &w));
    size_t used;
    CHECK(sl_prefix_u32(SL_LIT("200 OK"), &v, &used) && v == 200 && used == 3);
}

TEST(slice_compare_and_find)
{
    CHECK(sl_eq_nocase(SL_LIT("Call-ID"), SL_LIT("call-id")));
    CHECK(!sl_eq_nocase(SL_LIT("Call-ID"), SL_LIT("call-i")));
    CHECK(sl_find_nocase(SL_LIT("xxFriendly-Scanner"), SL_LIT("friendly")) == 2);
    CHECK(sl_find(SL_LIT("abc"), SL_LIT("abcd")) == 3);
    CHECK_SL(sl_trim(SL_LIT(" \t x y \r\n")), "x y");
    CHECK_SL(sl_sub(SL_LIT("hello"), 1, 99), "ello");
    CHECK_SL(sl_drop(SL_LIT("hi"), 5), "");
    uint8_t nul[] = { 'a', 0, 'b' };
    CHECK(sl_find_byte(sl_make(nul, 3), 'b') == 2);
}

TEST(ipaddr_roundtrip)
{
    struct ip_addr a;
    char buf[IP_STRLEN];
    CHECK(ip_parse("192.0.2.1", &a) && ip_is_v4(&a));
    CHECK_STR(ip_format(&a, buf, sizeof buf), "192.0.2.1");
    CHECK(ip_parse("2001:db8::10", &a) && !ip_is_v4(&a));
    CHECK_STR(ip_format(&a, buf, sizeof buf), "2001:db8::10");
    CHECK(!ip_parse("300.1.1.1", &a));
}

TEST(time_rfc3339_micro)
{
    char buf[TIME_STRLEN];
    CHECK_STR(time_format_us(1281873600123456ull, buf, sizeof buf), "2010-08-15T12:00:00.123456Z");
}

struct counter {
    int removed[4];
};

static void count_remove(void *ctx, void *value, enum table_why why)
{
    (void)value;
    ((struct counter *)ctx)->removed[why]++;
}

TEST(table_insert_find_evict_expire)
{
    struct counter c = { { 0 } };
    struct table_cfg cfg = { "t", 4, sizeof(int), 16, 10, count_remove, &c };
    struct table *t = table_new(&cfg);
    CHECK(t != NULL);
    bool created;
    int *v = table_put(t, "a", 1, 1, &created);
    CHECK(v && created && *v == 0);
    *v = 7;
    CHECK(*(int *)table_put(t, "a", 1, 2, &created) == 7 && !created);
    table_put(t, "b", 1, 3, NULL);
    table_put(t, "c", 1, 4, NULL);
    table_put(t, "d", 1, 5, NULL);
    CHECK(table_stats(t)->count == 4);
    /* full: a=2, b=3, c=4, d=5: "a" is the least recently used and goes */
    table_put(t, "e", 1, 6, NULL);
    CHECK(table_peek(t, "a", 1) == NULL);
    CHECK(c.removed[TABLE_EVICTED] == 1 && table_stats(t)->evicted == 1);
    /* touching b makes c the oldest */
    CHECK(table_get(t, "b", 1, 7) != NULL);
    CHECK(table_expire(t, 15) == 2); /* c (4) and d (5) idle >= 10 */
    CHECK(table_peek(t, "c", 1) == NULL && table_peek(t, "d", 1) == NULL);
    CHECK(table_peek(t, "b", 1) != NULL);
    CHECK(table_put(t, "0123456789abcdefX", 17, 15, NULL) == NULL);
    CHECK(table_stats(t)->rejected == 1);
    size_t kl;
    void *e = table_peek(t, "e", 1);
    CHECK(e && memcmp(table_key(t, e, &kl), "e", 1) == 0 && kl == 1);
    table_del(t, e);
    CHECK(c.removed[TABLE_REMOVED] == 1);
    table_flush(t);
    CHECK(table_stats(t)->count == 0 && c.removed[TABLE_FLUSHED] == 1);
    table_free(t);
}

TEST(table_many_keys_stay_bounded)
{
    struct table_cfg cfg = { "big", 1000, 8, 32, 0, NULL, NULL };
    struct table *t = table_new(&cfg);
    char key[32];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(key, sizeof key, "call-%d", i);
        uint64_t *v = table_put(t, key, (size_t)n, (uint64_t)i, NULL);
        CHECK(v != NULL);
        if (v)
            *v = (uint64_t)i;
    }
    CHECK(table_stats(t)->count == 1000);
    CHECK(table_stats(t)->evicted == 99000);
    int n = snprintf(key, sizeof key, "call-%d", 99999);
    uint64_t *v = table_peek(t, key, (size_t)n);
    CHECK(v && *v == 99999);
    table_free(t);
}
