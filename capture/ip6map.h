/*
 * ip6map.h - stand-in IPv4 addresses for IPv6 ones, so TCP over IPv6 can be
 * reassembled by libnids, which only knows IPv4 (DEPENDENCIES.md, "The IPv6
 * gap"). Each IPv6 address gets one address of the reserved 240.0.0.0/4
 * while it is in use; least recently used mappings are recycled.
 */
#ifndef SIPSIFT_IP6MAP_H
#define SIPSIFT_IP6MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/ipaddr.h"
#include "lib/table.h"

struct ip6map;

/* entries: 1 to 2^28 - 2 (the stand-ins 240.0.0.1 upward). Owner: the caller,
 * free with ip6map_free. NULL on a bad size or no memory. */
struct ip6map *ip6map_new(uint32_t entries);
/* The stand-in (network byte order) for a, created if needed (recycling the
 * least recently used one when full); never 0. */
uint32_t ip6map_get(struct ip6map *m, const struct ip_addr *a, uint64_t now_us);
/* The IPv6 address behind a stand-in; false when v4 (network order) is not one of ours. */
bool ip6map_lookup(const struct ip6map *m, uint32_t v4, struct ip_addr *out);
/* True for any address in 240.0.0.0/4 (network byte order). */
static inline bool ip6map_reserved(uint32_t v4_net)
{
    return (((const uint8_t *)&v4_net)[0] & 0xf0) == 0xf0;
}
void ip6map_free(struct ip6map *m);
/* The address table (name "ip6_tcp_map"), for the run's limits. */
const struct table *ip6map_table(const struct ip6map *m);

#endif
