/*
 * ip6map.c - IPv6 address <-> 240/4 stand-in: a lib/table.h table maps the address
 * to slot i (stand-in 240.0.0.0 + i + 1), an array maps slots back. It knows
 * nothing of streams.
 */
#include "capture/ip6map.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "lib/table.h"

struct slot_ref {
    uint32_t slot;
};

struct ip6map {
    struct table *fwd;
    struct ip_addr *rev;  /* slot -> IPv6 address */
    uint8_t *used;        /* slot in use */
    uint32_t *free_slots; /* stack of released slots */
    uint32_t n_free;
    uint32_t next_fresh;
    uint32_t entries;
};

static void on_remove(void *ctx, void *value, enum table_why why)
{
    (void)why;
    struct ip6map *m = ctx;
    uint32_t slot = ((struct slot_ref *)value)->slot;
    m->used[slot] = 0;
    m->free_slots[m->n_free++] = slot;
}

struct ip6map *ip6map_new(uint32_t entries)
{
    if (entries == 0 || entries > (1u << 28) - 2)
        return NULL;
    struct ip6map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    struct table_cfg c = { "ip6_tcp_map", entries, sizeof(struct slot_ref), 16, 0, on_remove, m };
    m->fwd = table_new(&c);
    m->rev = calloc(entries, sizeof *m->rev);
    m->used = calloc(entries, 1);
    m->free_slots = calloc(entries, sizeof *m->free_slots);
    m->entries = entries;
    if (!m->fwd || !m->rev || !m->used || !m->free_slots) {
        ip6map_free(m);
        return NULL;
    }
    return m;
}

/*
 * An evicted (least recently used) mapping frees its slot for reuse. Every
 * segment touches both its addresses, so only a stream idle while `entries`
 * other addresses came and went loses its mapping (its later segments then
 * look mid-stream to libnids): the price of not tracking stream lifetimes.
 */
uint32_t ip6map_get(struct ip6map *m, const struct ip_addr *a, uint64_t now_us)
{
    bool created;
    struct slot_ref *r = table_put(m->fwd, a->b, 16, now_us, &created);
    if (!r)
        return 0;
    if (created) {
        /* table_put evicted the LRU entry first if full, so a slot is free. */
        r->slot = m->n_free ? m->free_slots[--m->n_free] : m->next_fresh++;
        m->rev[r->slot] = *a;
        m->used[r->slot] = 1;
    }
    return htonl(0xf0000000u + r->slot + 1);
}

bool ip6map_lookup(const struct ip6map *m, uint32_t v4, struct ip_addr *out)
{
    uint32_t h = ntohl(v4);
    if ((h & 0xf0000000u) != 0xf0000000u)
        return false;
    uint32_t slot = (h & 0x0fffffffu) - 1;
    if (slot >= m->entries || !m->used[slot])
        return false;
    *out = m->rev[slot];
    return true;
}

void ip6map_free(struct ip6map *m)
{
    if (!m)
        return;
    table_free(m->fwd);
    free(m->rev);
    free(m->used);
    free(m->free_slots);
    free(m);
}

const struct table *ip6map_table(const struct ip6map *m) { return m->fwd; }
