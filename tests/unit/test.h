/*
 * test.h - a tiny unit-test runner: TEST(name) { CHECK(...); } in any
 * tests/unit/test_*.c file registers itself; tests/unit/main.c runs them all and
 * prints "N passed, N failed". Filter with: tests/unit/run NAME-SUBSTRING.
 */
#ifndef SIPSIFT_TEST_H
#define SIPSIFT_TEST_H

#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    const char *file;
    void (*fn)(void);
    struct test_case *next;
};

void test_register(struct test_case *tc);
extern int test_failed_checks; /* checks failed in the running test */

#define TEST(name)                                                                 \
    static void test_fn_##name(void);                                              \
    static struct test_case test_tc_##name = { #name, __FILE__, test_fn_##name, 0 }; \
    __attribute__((constructor)) static void test_reg_##name(void)                 \
    {                                                                              \
        test_register(&test_tc_##name);                                            \
    }                                                                              \
    static void test_fn_##name(void)

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            test_failed_checks++;                                                \
        }                                                                        \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                          \
    do {                                                                            \
        long long _a = (long long)(a), _b = (long long)(b);                         \
        if (_a != _b) {                                                             \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
                    __LINE__, #a, _a, #b, _b);                                      \
            test_failed_checks++;                                                   \
        }                                                                           \
    } while (0)

/* Compare a struct slice (or any {p,n}) with a C string literal. */
#define CHECK_SL(s, lit)                                                              \
    do {                                                                              \
        __typeof__(s) _s = (s);                                                       \
        const char *_l = (lit);                                                       \
        size_t _ln = strlen(_l);                                                      \
        if (_s.n != _ln || (_s.n && memcmp(_s.p, _l, _ln) != 0)) {                    \
            fprintf(stderr, "  %s:%d: %s is \"%.*s\", expected \"%s\"\n", __FILE__,   \
                    __LINE__, #s, (int)(_s.n > 200 ? 200 : _s.n),                      \
                    _s.p ? (const char *)_s.p : "", _l);                              \
            test_failed_checks++;                                                     \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                                 \
    do {                                                                                \
        const char *_a = (a), *_b = (b);                                                \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                        \
            fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    #a, _a ? _a : "(null)", _b ? _b : "(null)");                        \
            test_failed_checks++;                                                       \
        }                                                                               \
    } while (0)

/* Path of a test data file relative to the repository root (tests run from there). */
#define TEST_DATA(rel) (rel)

#endif
