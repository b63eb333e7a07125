/*
 * fuzz.h - shared by the libFuzzer targets in tests/fuzz/: FUZZ_CHECK aborts
 * (so libFuzzer saves the input as a crash) and fz_inside() tests that a slice
 * a parser returned lies inside the input it was given. Header only.
 */
#ifndef SIPSIFT_FUZZ_H
#define SIPSIFT_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/slice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

/* An empty slice may be NULL or point anywhere in [b, b + n]; a non-empty one
 * must be wholly inside. Compared as integers: the pointers may not share an object. */
static inline bool fz_inside(struct slice s, const void *b, size_t n)
{
    uintptr_t lo = (uintptr_t)b, hi = lo + n, p = (uintptr_t)s.p;
    if (!s.p)
        return s.n == 0;
    return p >= lo && p <= hi && s.n <= hi - p;
}

#define FUZZ_INSIDE(s, buf) FUZZ_CHECK(fz_inside((s), (buf).p, (buf).n))

#endif
