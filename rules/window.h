/*
 * window.h - a count over a sliding window of capture time, in constant
 * space: the window is cut into WIN_BUCKETS buckets and the count is the sum
 * of the buckets that are still inside it, so an event leaves the count
 * between 7/8 and 8/8 of the window after it happened (docs/detection.md).
 * Used by the detectors for "N things within S seconds" per source or pair.
 */
#ifndef SIPSIFT_WINDOW_H
#define SIPSIFT_WINDOW_H

#include <stdint.h>
#include <string.h>

#define WIN_BUCKETS 8

struct win {
    uint64_t epoch;              /* bucket number of the latest add (capture time / width) */
    uint32_t b[WIN_BUCKETS];
};

/* Width of one bucket for a window of `seconds` (at least 1 µs). */
static inline uint64_t win_width(uint32_t seconds)
{
    uint64_t w = (uint64_t)seconds * 1000000u / WIN_BUCKETS;
    return w ? w : 1;
}

/* Drop the buckets that fell out of the window at time now. */
static inline void win_advance(struct win *w, uint64_t width, uint64_t now_us)
{
    uint64_t e = now_us / width;
    if (e <= w->epoch)
        return; /* same bucket, or time went back: count it in the newest */
    if (e - w->epoch >= WIN_BUCKETS)
        memset(w->b, 0, sizeof w->b);
    else
        for (uint64_t i = w->epoch + 1; i <= e; i++)
            w->b[i % WIN_BUCKETS] = 0;
    w->epoch = e;
}

/* Add n at time now and return the count within the window. */
static inline uint32_t win_add(struct win *w, uint64_t width, uint64_t now_us, uint32_t n)
{
    win_advance(w, width, now_us);
    uint32_t *b = &w->b[w->epoch % WIN_BUCKETS];
    *b = *b > UINT32_MAX - n ? UINT32_MAX : *b + n;
    uint64_t sum = 0;
    for (unsigned i = 0; i < WIN_BUCKETS; i++)
        sum += w->b[i];
    return sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

#endif
