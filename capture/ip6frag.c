/*
 * ip6frag.c - IPv6 fragment sets keyed by (source, destination, identification) in
 * a lib/table.h table; each keeps its bytes in one buffer grown as fragments arrive,
 * within a byte budget over all sets. It does not parse what the fragments carry.
 */
#include "capture/ip6frag.h"

#include <stdlib.h>
#include <string.h>

#include "lib/table.h"

struct range {
    uint32_t start, end; /* [start, end) */
};

struct fragset {
    uint8_t *buf;
    uint32_t cap;        /* bytes allocated */
    uint32_t total;      /* payload length, known once the last fragment came; 0 = unknown */
    uint8_t next_header; /* from the first fragment (offset 0) */
    bool have_first;
    bool done;           /* rebuilt already: kept only to swallow late copies */
    uint8_t n_ranges;
    struct range ranges[IP6FRAG_MAX_RANGES];
    struct l4_meta meta; /* of the latest fragment, for anomaly reports */
};

struct ip6frag {
    struct table *sets;
    const struct l4_handler *h;
    struct capture_stats *st;
    uint64_t bytes;      /* held in all sets */
    uint64_t max_bytes;
    uint8_t *done;       /* the last completed datagram, handed out by ip6frag_add */
    bool quiet;          /* the caller has reported why the set goes, or nothing to report */
};

static void report(struct ip6frag *f, const struct l4_meta *m, enum cap_anomaly a)
{
    if (f->h && f->h->anomaly)
        f->h->anomaly(f->h->ctx, m, a);
}

static void on_remove(void *ctx, void *value, enum table_why why)
{
    struct ip6frag *f = ctx;
    struct fragset *s = value;
    if (!f->quiet && !s->done) {
        /* A set still incomplete at the end of input never completed either. */
        if (why == TABLE_EXPIRED || why == TABLE_FLUSHED)
            report(f, &s->meta, CAP_A_FRAG_TIMEOUT);
        else if (why == TABLE_EVICTED)
            report(f, &s->meta, CAP_A_FRAG_LIMIT);
    }
    f->bytes -= s->cap;
    free(s->buf);
    s->buf = NULL;
}

struct ip6frag *ip6frag_new(uint32_t max_sets, uint32_t max_bytes, uint64_t timeout_us,
                            const struct l4_handler *h, struct capture_stats *st)
{
    return ip6frag_new_named("ip6_fragments", max_sets, max_bytes, timeout_us, h, st);
}

const struct table *ip6frag_table(const struct ip6frag *f) { return f->sets; }

struct ip6frag *ip6frag_new_named(const char *name, uint32_t max_sets, uint32_t max_bytes,
                                  uint64_t timeout_us, const struct l4_handler *h,
                                  struct capture_stats *st)
{
    struct ip6frag *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    struct table_cfg c = { name, max_sets, sizeof(struct fragset), 36, timeout_us,
                           on_remove, f };
    f->sets = table_new(&c);
    if (!f->sets) {
        free(f);
        return NULL;
    }
    f->h = h;
    f->st = st;
    f->max_bytes = max_bytes;
    return f;
}

static void drop_set(struct ip6frag *f, struct fragset *s, bool quiet)
{
    f->quiet = quiet;
    table_del(f->sets, s);
    f->quiet = false;
}

/* Grow the set's buffer to hold `end` bytes, within the global byte budget. */
static bool reserve(struct ip6frag *f, struct fragset *s, uint32_t end)
{
    if (end <= s->cap)
        return true;
    uint32_t want = (end + 4095) & ~4095u;
    if (want > IP6FRAG_MAX_DATAGRAM + 1)
        want = IP6FRAG_MAX_DATAGRAM + 1;
    if (f->bytes - s->cap + want > f->max_bytes)
        return false;
    uint8_t *nb = realloc(s->buf, want);
    if (!nb)
        return false;
    f->bytes += want - s->cap;
    s->buf = nb;
    s->cap = want;
    return true;
}

/* True when the received ranges cover [0, total) without a gap. */
static bool complete(const struct fragset *s)
{
    if (!s->total || !s->have_first)
        return false;
    uint32_t covered = 0;
    /* ranges are kept sorted and disjoint */
    for (unsigned i = 0; i < s->n_ranges; i++) {
        if (s->ranges[i].start > covered)
            return false;
        if (s->ranges[i].end > covered)
            covered = s->ranges[i].end;
    }
    return covered >= s->total;
}

bool ip6frag_add(struct ip6frag *f, const struct l4_meta *m, struct slice fh, struct slice frag,
                 struct slice *out, uint8_t *next_header)
{
    if (f->st)
        f->st->frags_v6++;
    if (fh.n < 8) {
        report(f, m, CAP_A_TRUNCATED);
        return false;
    }
    uint16_t offflags = (uint16_t)(fh.p[2] << 8 | fh.p[3]);
    uint32_t start = offflags & 0xfff8u;
    bool more = offflags & 1;
    uint32_t end = start + (uint32_t)frag.n;
    /* Non-last fragments carry multiples of 8 bytes (RFC 8200 §4.5). */
    if (end > IP6FRAG_MAX_DATAGRAM || (more && (frag.n & 7)) || frag.n == 0) {
        report(f, m, CAP_A_BAD_IP);
        return false;
    }
    uint8_t key[36];
    memcpy(key, m->src.b, 16);
    memcpy(key + 16, m->dst.b, 16);
    memcpy(key + 32, fh.p + 4, 4);
    /* Peek first so that only creation sets the entry's time: a set expires
     * 60 s after its first fragment (RFC 8200 §4.5), however many trickle in. */
    struct fragset *s = table_peek(f->sets, key, sizeof key);
    if (!s)
        s = table_put(f->sets, key, sizeof key, m->ts_us, NULL);
    if (!s)
        return false;
    /* A copy of a fragment of a datagram already rebuilt (a SPAN port that
     * sees each packet twice): it would start a set that can only time out. */
    if (s->done)
        return false;
    s->meta = *m;
    for (unsigned i = 0; i < s->n_ranges; i++) {
        if (start == s->ranges[i].start && end == s->ranges[i].end &&
            memcmp(s->buf + start, frag.p, frag.n) == 0) {
            /* The same fragment again (a SPAN port that sees the packet on
             * two ports): RFC 8200 §4.5 allows dropping exact duplicates. */
            return false;
        }
        if (start < s->ranges[i].end && end > s->ranges[i].start) {
            /* RFC 5722: overlapping fragments make the whole datagram suspect. */
            report(f, m, CAP_A_FRAG_OVERLAP);
            drop_set(f, s, true);
            return false;
        }
    }
    if ((!more && s->total && s->total != end) || (s->total && end > s->total) ||
        (!more && end < (s->n_ranges ? s->ranges[s->n_ranges - 1].end : 0))) {
        report(f, m, CAP_A_BAD_IP);
        drop_set(f, s, true);
        return false;
    }
    if (s->n_ranges == IP6FRAG_MAX_RANGES || !reserve(f, s, end)) {
        report(f, m, CAP_A_FRAG_LIMIT);
        drop_set(f, s, true);
        return false;
    }
    memcpy(s->buf + start, frag.p, frag.n);
    unsigned at = 0;
    while (at < s->n_ranges && s->ranges[at].start < start)
        at++;
    memmove(&s->ranges[at + 1], &s->ranges[at], (s->n_ranges - at) * sizeof s->ranges[0]);
    s->ranges[at] = (struct range){ start, end };
    s->n_ranges++;
    if (!more)
        s->total = end;
    if (start == 0) {
        s->have_first = true;
        s->next_header = fh.p[0];
    }
    if (!complete(s))
        return false;
    /* Hand the buffer out; it lives until the next call. */
    free(f->done);
    f->done = s->buf;
    f->bytes -= s->cap;
    s->buf = NULL;
    s->cap = 0;
    *out = sl_make(f->done, s->total);
    *next_header = s->next_header;
    /* Keep the emptied set until it expires or is evicted, never reported. */
    s->done = true;
    s->n_ranges = 0;
    if (f->st)
        f->st->reassembled_v6++;
    return true;
}

void ip6frag_tick(struct ip6frag *f, uint64_t now_us) { table_expire(f->sets, now_us); }

void ip6frag_free(struct ip6frag *f)
{
    if (!f)
        return;
    table_flush(f->sets);
    table_free(f->sets);
    free(f->done);
    free(f);
}
