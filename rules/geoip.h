/*
 * geoip.h - --geoip: country and autonomous system of an address from one
 * MaxMind-format (.mmdb) file, read with libmaxminddb. Knows the GeoIP2/GeoLite2
 * field names and the ip-location-db / ipinfo ones; ships no data.
 */
#ifndef SIPSIFT_GEOIP_H
#define SIPSIFT_GEOIP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/ipaddr.h"

#define GEOIP_COUNTRY_MAX 3 /* ISO 3166-1 alpha-2 + NUL */
#define GEOIP_ASN_MAX 16    /* "AS4294967295" + NUL */
#define GEOIP_ORG_MAX 128   /* longer names are cut at a UTF-8 character boundary */

/* Each field is a NUL-terminated string, "" when the database has nothing for it. */
struct geoip_result {
    char country[GEOIP_COUNTRY_MAX]; /* "NL" */
    char asn[GEOIP_ASN_MAX];         /* "AS64496" */
    char as_org[GEOIP_ORG_MAX];      /* "Example Attacker AS" */
};

struct geoip;

/*
 * Open (memory-map) a .mmdb file. NULL with a one-line reason in err when it
 * cannot be opened ("cannot open: No such file or directory") or is not a
 * MaxMind DB ("not a MaxMind DB (.mmdb) file: ..."). Owner: the caller, close
 * with geoip_close.
 */
struct geoip *geoip_open(const char *path, char *err, size_t errlen);
void geoip_close(struct geoip *g);

/*
 * Look ip up (IPv4 or IPv6; IPv4 also in an IPv6 database). out is always
 * cleared; true when at least one of its fields was filled. Country: the
 * record's country.iso_code, else registered_country.iso_code, else a top-level
 * country_code. ASN: autonomous_system_number, else asn (number or text,
 * "AS" optional). Organisation: autonomous_system_organization, else
 * as_organization, else as_name. One file may hold any mix of these.
 */
bool geoip_lookup(struct geoip *g, const struct ip_addr *ip, struct geoip_result *out);

/* The database's metadata database_type ("GeoLite2-Country", ...), for logs. */
const char *geoip_database_type(const struct geoip *g);

#endif
