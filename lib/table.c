/*
 * table.c - bounded hash table: chained buckets of entry indices, an
 * intrusive doubly-linked LRU list, a free list. See table.h for the contract.
 */
#include "table.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct entry_hdr {
    uint64_t hash;
    uint64_t last;     /* capture time of last touch, µs */
    uint32_t next;     /* bucket chain, or free list */
    uint32_t prev_lru; /* towards most recent */
    uint32_t next_lru; /* towards least recent */
    uint16_t klen;
    uint8_t used;
};

struct table {
    struct table_cfg cfg;
    size_t esize;       /* bytes per entry */
    size_t key_off;     /* offset of key bytes in an entry */
    size_t val_off;     /* offset of the value in an entry */
    uint8_t *entries;   /* capacity * esize, zeroed lazily by the kernel */
    uint32_t *buckets;  /* index + 1; 0 = empty */
    uint32_t nbuckets;  /* power of two */
    uint32_t fresh;     /* entries [fresh, capacity) never used yet */
    uint32_t free_head; /* recycled entries */
    uint32_t lru_head;  /* most recent */
    uint32_t lru_tail;  /* least recent */
    struct table_stats st;
};

static uint8_t hash_key[crypto_shorthash_KEYBYTES];
static int hash_ready;

static void hash_init(void)
{
    if (hash_ready)
        return;
    if (sodium_init() < 0) {
        /* libsodium could not initialise its RNG: fall back to a fixed key
         * (still a good hash, just not secret). */
        memset(hash_key, 0x5a, sizeof hash_key);
    } else {
        randombytes_buf(hash_key, sizeof hash_key);
    }
    hash_ready = 1;
}

uint64_t table_hash(const void *key, size_t klen)
{
    uint8_t out[crypto_shorthash_BYTES];
    hash_init();
    crypto_shorthash(out, key, klen, hash_key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static struct entry_hdr *ent(const struct table *t, uint32_t i)
{
    return (struct entry_hdr *)(t->entries + (size_t)i * t->esize);
}

static void *val_of(const struct table *t, uint32_t i) { return (uint8_t *)ent(t, i) + t->val_off; }

static uint32_t idx_of(const struct table *t, const void *value)
{
    return (uint32_t)(((const uint8_t *)value - t->val_off - t->entries) / t->esize);
}

struct table *table_new(const struct table_cfg *cfg)
{
    hash_init();
    if (!cfg || cfg->capacity == 0 || cfg->capacity >= NIL)
        return NULL;
    struct table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *cfg;
    t->key_off = round16(sizeof(struct entry_hdr));
    t->val_off = t->key_off + round16(cfg->key_max);
    t->esize = t->val_off + round16(cfg->value_size ? cfg->value_size : 1);
    uint32_t nb = 16;
    while (nb < cfg->capacity && nb < (1u << 30))
        nb <<= 1;
    t->nbuckets = nb;
    t->entries = calloc(cfg->capacity, t->esize);
    t->buckets = calloc(nb, sizeof *t->buckets);
    if (!t->entries || !t->buckets) {
        free(t->entries);
        free(t->buckets);
        free(t);
        return NULL;
    }
    t->free_head = NIL;
    t->lru_head = t->lru_tail = NIL;
    return t;
}

void table_free(struct table *t)
{
    if (!t)
        return;
    free(t->entries);
    free(t->buckets);
    free(t);
}

static void lru_unlink(struct table *t, uint32_t i)
{
    struct entry_hdr *e = ent(t, i);
    if (e->prev_lru != NIL)
        ent(t, e->prev_lru)->next_lru = e->next_lru;
    else
        t->lru_head = e->next_lru;
    if (e->next_lru != NIL)
        ent(t, e->next_lru)->prev_lru = e->prev_lru;
    else
        t->lru_tail = e->prev_lru;
    e->prev_lru = e->next_lru = NIL;
}

static void lru_push_head(struct table *t, uint32_t i)
{
    struct entry_hdr *e = ent(t, i);
    e->prev_lru = NIL;
    e->next_lru = t->lru_head;
    if (t->lru_head != NIL)
        ent(t, t->lru_head)->prev_lru = i;
    t->lru_head = i;
    if (t->lru_tail == NIL)
        t->lru_tail = i;
}

static void touch(struct table *t, uint32_t i, uint64_t now)
{
    struct entry_hdr *e = ent(t, i);
    if (now > e->last)
        e->last = now;
    if (t->lru_head != i) {
        lru_unlink(t, i);
        lru_push_head(t, i);
    }
}

static uint32_t lookup(const struct table *t, const void *key, size_t klen, uint64_t h)
{
    uint32_t i = t->buckets[h & (t->nbuckets - 1)];
    while (i) {
        struct entry_hdr *e = ent(t, i - 1);
        if (e->hash == h && e->klen == klen &&
            memcmp((uint8_t *)e + t->key_off, key, klen) == 0)
            return i - 1;
        i = e->next;
    }
    return NIL;
}

/* Unlink entry i from everything and put it on the free list. */
static void drop(struct table *t, uint32_t i, enum table_why why)
{
    struct entry_hdr *e = ent(t, i);
    if (t->cfg.on_remove)
        t->cfg.on_remove(t->cfg.ctx, val_of(t, i), why);
    uint32_t *pp = &t->buckets[e->hash & (t->nbuckets - 1)];
    while (*pp && *pp != i + 1)
        pp = &ent(t, *pp - 1)->next;
    if (*pp)
        *pp = e->next;
    lru_unlink(t, i);
    e->used = 0;
    e->next = t->free_head;
    t->free_head = i;
    t->st.count--;
    if (why == TABLE_EXPIRED)
        t->st.expired++;
    else if (why == TABLE_EVICTED)
        t->st.evicted++;
}

void *table_get(struct table *t, const void *key, size_t klen, uint64_t now)
{
    if (klen > t->cfg.key_max)
        return NULL;
    uint32_t i = lookup(t, key, klen, table_hash(key, klen));
    if (i == NIL)
        return NULL;
    touch(t, i, now);
    return val_of(t, i);
}

void *table_peek(const struct table *t, const void *key, size_t klen)
{
    if (klen > t->cfg.key_max)
        return NULL;
    uint32_t i = lookup(t, key, klen, table_hash(key, klen));
    return i == NIL ? NULL : val_of(t, i);
}

void *table_put(struct table *t, const void *key, size_t klen, uint64_t now, bool *created)
{
    if (created)
        *created = false;
    if (klen > t->cfg.key_max) {
        t->st.rejected++;
        return NULL;
    }
    uint64_t h = table_hash(key, klen);
    uint32_t i = lookup(t, key, klen, h);
    if (i != NIL) {
        touch(t, i, now);
        return val_of(t, i);
    }
    if (t->free_head == NIL && t->fresh == t->cfg.capacity)
        drop(t, t->lru_tail, TABLE_EVICTED);
    if (t->free_head != NIL) {
        i = t->free_head;
        t->free_head = ent(t, i)->next;
    } else {
        i = t->fresh++;
    }
    struct entry_hdr *e = ent(t, i);
    memset(e, 0, t->esize);
    e->hash = h;
    e->last = now;
    e->klen = (uint16_t)klen;
    e->used = 1;
    memcpy((uint8_t *)e + t->key_off, key, klen);
    uint32_t *b = &t->buckets[h & (t->nbuckets - 1)];
    e->next = *b;
    *b = i + 1;
    e->prev_lru = e->next_lru = NIL;
    lru_push_head(t, i);
    t->st.inserted++;
    if (++t->st.count > t->st.peak)
        t->st.peak = t->st.count;
    if (created)
        *created = true;
    return val_of(t, i);
}

void table_del(struct table *t, void *value) { drop(t, idx_of(t, value), TABLE_REMOVED); }

const void *table_key(const struct table *t, const void *value, size_t *klen)
{
    struct entry_hdr *e = ent(t, idx_of(t, value));
    if (klen)
        *klen = e->klen;
    return (uint8_t *)e + t->key_off;
}

uint64_t table_last_seen(const struct table *t, const void *value)
{
    return ent(t, idx_of(t, value))->last;
}

size_t table_expire(struct table *t, uint64_t now)
{
    if (t->cfg.idle_us == 0)
        return 0;
    size_t n = 0;
    while (t->lru_tail != NIL) {
        uint32_t i = t->lru_tail;
        struct entry_hdr *e = ent(t, i);
        if (e->last > now) {
            /* Stamped after `now` (a HEP header's own clock, a frame from the
             * future): LRU order is not time order then, and stopping here
             * would shield every entry behind it from expiry. Age it from now.
             * Each such entry is moved once, so the loop ends. */
            e->last = now;
            lru_unlink(t, i);
            lru_push_head(t, i);
            continue;
        }
        if (e->last + t->cfg.idle_us > now)
            break;
        drop(t, t->lru_tail, TABLE_EXPIRED);
        n++;
    }
    return n;
}

void table_flush(struct table *t)
{
    while (t->lru_tail != NIL)
        drop(t, t->lru_tail, TABLE_FLUSHED);
}

void table_foreach(const struct table *t, void (*fn)(void *ctx, void *value), void *ctx)
{
    for (uint32_t i = t->lru_head; i != NIL; i = ent(t, i)->next_lru)
        fn(ctx, val_of(t, i));
}

const struct table_stats *table_stats(const struct table *t) { return &t->st; }
const char *table_name(const struct table *t) { return t->cfg.name; }
uint32_t table_capacity(const struct table *t) { return t->cfg.capacity; }

int table_stats_json(const struct table *const *tabs, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_stats *s = table_stats(tabs[i]);
        /* Names are our own constants: no escaping needed. */
        int k = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0,
                         "%s\"%s\":{\"count\":%u,\"peak\":%u,\"capacity\":%u,\"expired\":%llu,"
                         "\"evicted\":%llu}",
                         i ? "," : "", table_name(tabs[i]), s->count, s->peak, table_capacity(tabs[i]),
                         (unsigned long long)s->expired, (unsigned long long)s->evicted);
        if (k < 0)
            return -1;
        used += (size_t)k;
    }
    return used > INT32_MAX ? -1 : (int)used;
}
