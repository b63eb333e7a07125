/*
 * ipaddr.h - one address type for IPv4 and IPv6, so tables, keys and sinks
 * never branch on the family. IPv4 is held as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
 */
#ifndef SIPSIFT_IPADDR_H
#define SIPSIFT_IPADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ip_addr {
    uint8_t b[16];
};

#define IP_STRLEN 46 /* INET6_ADDRSTRLEN */

static inline bool ip_is_v4(const struct ip_addr *a)
{
    static const uint8_t pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    return memcmp(a->b, pfx, 12) == 0;
}

static inline void ip_from_v4(struct ip_addr *a, const uint8_t v4[4])
{
    memset(a->b, 0, 10);
    a->b[10] = a->b[11] = 0xff;
    memcpy(a->b + 12, v4, 4);
}

static inline void ip_from_v6(struct ip_addr *a, const uint8_t v6[16]) { memcpy(a->b, v6, 16); }

static inline bool ip_eq(const struct ip_addr *a, const struct ip_addr *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}

/* Text form ("192.0.2.1", "2001:db8::1") into buf of at least IP_STRLEN bytes. */
const char *ip_format(const struct ip_addr *a, char *buf, size_t n);
/* Parse text form; false if it is neither an IPv4 nor an IPv6 literal. */
bool ip_parse(const char *s, struct ip_addr *out);

#endif
