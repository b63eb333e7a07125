/*
 * table.h - bounded hash table with LRU order and capture-time expiry.
 *
 * Every piece of sipsift state (transactions, dialogs, registrations, sources,
 * fragments, streams) lives in one of these. Capacity is fixed at creation;
 * when full, the least recently touched entry is evicted (and counted), as
 * Suricata's flow manager does with its memcap. Entries idle for longer than
 * idle_us of *capture* time are expired by table_expire(). Keys are hashed with
 * keyed SipHash (libsodium) so an attacker cannot aim Call-IDs at one bucket.
 *
 * Memory: one calloc of capacity * entry size at creation; pages are touched
 * only as entries are first used, so an idle table costs little RSS.
 * Values are zeroed when created; the caller owns what they point to and
 * releases it in on_remove.
 */
#ifndef SIPSIFT_TABLE_H
#define SIPSIFT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum table_why {
    TABLE_EXPIRED, /* idle past idle_us */
    TABLE_EVICTED, /* table full: least recently used made room */
    TABLE_FLUSHED, /* table_flush() at the end of a run */
    TABLE_REMOVED, /* table_del() by the owner */
};

struct table_cfg {
    const char *name;      /* for stats: "dialogs", "transactions", ... */
    uint32_t capacity;     /* maximum entries */
    uint32_t value_size;   /* bytes of the caller's value */
    uint16_t key_max;      /* longest key accepted; longer keys are rejected */
    uint64_t idle_us;      /* expiry after this much capture time untouched (0: never) */
    /* Called before an entry leaves the table for any reason. May be NULL. */
    void (*on_remove)(void *ctx, void *value, enum table_why why);
    void *ctx;
};

struct table_stats {
    uint64_t inserted;
    uint64_t expired;
    uint64_t evicted;
    uint64_t rejected; /* key longer than key_max */
    uint32_t count;
    uint32_t peak;
};

struct table;

/* Returns NULL on allocation failure. Owner: the caller, free with table_free. */
struct table *table_new(const struct table_cfg *cfg);
/* Frees without calling on_remove (call table_flush first to see the entries). */
void table_free(struct table *t);

/* Find and mark used at `now`; NULL if absent. */
void *table_get(struct table *t, const void *key, size_t klen, uint64_t now);
/* Find without touching LRU order or time. */
void *table_peek(const struct table *t, const void *key, size_t klen);
/* Find or create (value zeroed, *created = true). NULL only if klen > key_max. */
void *table_put(struct table *t, const void *key, size_t klen, uint64_t now, bool *created);
/* Remove an entry obtained from this table (on_remove sees TABLE_REMOVED). */
void table_del(struct table *t, void *value);
/* The key stored with a value. */
const void *table_key(const struct table *t, const void *value, size_t *klen);
/* Last capture time the entry was touched. */
uint64_t table_last_seen(const struct table *t, const void *value);

/* Expire every entry idle since before now - idle_us. Returns how many. An
 * entry last touched after `now` is aged from `now` instead (clocks in the
 * data, such as HEP's, may run ahead). */
size_t table_expire(struct table *t, uint64_t now);
/* Remove every entry (TABLE_FLUSHED), oldest first. */
void table_flush(struct table *t);
/* Visit every entry, most recent first. fn must not add or remove entries. */
void table_foreach(const struct table *t, void (*fn)(void *ctx, void *value), void *ctx);

const struct table_stats *table_stats(const struct table *t);
/*
 * The pressure of n tables as JSON members, comma-separated, no braces:
 * "name":{"count":..,"peak":..,"capacity":..,"expired":..,"evicted":..}.
 * Returns the length of the whole text like snprintf (>= len: truncated), or -1.
 */
int table_stats_json(const struct table *const *tabs, size_t n, char *buf, size_t len);
const char *table_name(const struct table *t);
uint32_t table_capacity(const struct table *t);

/* Keyed SipHash-2-4 of a key, with the process's random key (for callers' own sets). */
uint64_t table_hash(const void *key, size_t klen);

#endif
