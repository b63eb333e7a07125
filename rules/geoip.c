/*
 * geoip.c - country and AS of an address from a .mmdb file (libmaxminddb,
 * memory-mapped). Reads the operator's database, never packet bytes; copies
 * every string out bounded, as libmaxminddb's strings are not NUL-terminated.
 */
#include "rules/geoip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <maxminddb.h>

#include "lib/slice.h"

struct geoip {
    MMDB_s db;
};

struct geoip *geoip_open(const char *path, char *err, size_t errlen)
{
    struct geoip *g = calloc(1, sizeof *g);
    if (!g) {
        if (err && errlen)
            snprintf(err, errlen, "cannot open: %s", strerror(ENOMEM));
        return NULL;
    }
    /* libmaxminddb would mmap these and report ENODEV / EINVAL: say what they are. */
    struct stat st;
    if (stat(path, &st) == 0 && (S_ISDIR(st.st_mode) || st.st_size == 0)) {
        if (err && errlen)
            snprintf(err, errlen, S_ISDIR(st.st_mode) ? "cannot open: %s"
                                                      : "not a MaxMind DB (.mmdb) file: %s",
                     S_ISDIR(st.st_mode) ? strerror(EISDIR) : "the file is empty");
        free(g);
        return NULL;
    }
    errno = 0;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
    if (rc == MMDB_SUCCESS)
        return g;
    int e = errno;
    if (err && errlen) {
        switch (rc) {
        case MMDB_FILE_OPEN_ERROR:
            snprintf(err, errlen, "cannot open: %s", e ? strerror(e) : MMDB_strerror(rc));
            break;
        case MMDB_IO_ERROR:
        case MMDB_OUT_OF_MEMORY_ERROR:
            snprintf(err, errlen, "cannot read: %s", e ? strerror(e) : MMDB_strerror(rc));
            break;
        default: /* metadata missing or bad, unknown format, corrupt tree */
            snprintf(err, errlen, "not a MaxMind DB (.mmdb) file: %s", MMDB_strerror(rc));
            break;
        }
    }
    free(g); /* MMDB_open frees what it built when it fails */
    return NULL;
}

void geoip_close(struct geoip *g)
{
    if (!g)
        return;
    MMDB_close(&g->db);
    free(g);
}

const char *geoip_database_type(const struct geoip *g)
{
    return g && g->db.metadata.database_type ? g->db.metadata.database_type : "";
}

/* The value at a path (NULL-terminated list of keys), if present. */
static bool get(MMDB_entry_s *entry, MMDB_entry_data_s *d, const char *const *path)
{
    return MMDB_aget_value(entry, d, path) == MMDB_SUCCESS && d->has_data;
}

/* A UTF-8 string value copied into buf (cap bytes with the NUL), stopping at an
 * embedded NUL and cutting only between characters. False when it is no string. */
static bool copy_string(const MMDB_entry_data_s *d, char *buf, size_t cap)
{
    if (d->type != MMDB_DATA_TYPE_UTF8_STRING || cap == 0)
        return false;
    const char *s = d->utf8_string;
    size_t n = d->data_size;
    const char *nul = n ? memchr(s, '\0', n) : NULL;
    if (nul)
        n = (size_t)(nul - s);
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* s[n] continues a character */
            n--;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return n > 0;
}

static bool set_country(const MMDB_entry_data_s *d, char out[GEOIP_COUNTRY_MAX])
{
    if (d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size != 2)
        return false;
    char cc[2];
    for (int i = 0; i < 2; i++) {
        char c = d->utf8_string[i];
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 32);
        if (c < 'A' || c > 'Z')
            return false;
        cc[i] = c;
    }
    out[0] = cc[0];
    out[1] = cc[1];
    out[2] = '\0';
    return true;
}

/* ASN as a number, or as text "64496" / "AS64496"; written "AS64496". */
static bool set_asn(const MMDB_entry_data_s *d, char out[GEOIP_ASN_MAX])
{
    uint64_t v = 0;
    switch (d->type) {
    case MMDB_DATA_TYPE_UINT16: v = d->uint16; break;
    case MMDB_DATA_TYPE_UINT32: v = d->uint32; break;
    case MMDB_DATA_TYPE_UINT64: v = d->uint64; break;
    case MMDB_DATA_TYPE_INT32:
        if (d->int32 < 0)
            return false;
        v = (uint64_t)d->int32;
        break;
    case MMDB_DATA_TYPE_UTF8_STRING: {
        struct slice s = sl_make(d->utf8_string, d->data_size);
        if (sl_starts_lit_nocase(s, "AS"))
            s = sl_drop(s, 2);
        uint32_t u;
        if (!sl_to_u32(s, &u))
            return false;
        v = u;
        break;
    }
    default:
        return false;
    }
    if (v == 0 || v > UINT32_MAX) /* AS 0 is reserved (RFC 7607): "none" */
        return false;
    snprintf(out, GEOIP_ASN_MAX, "AS%u", (unsigned)v);
    return true;
}

bool geoip_lookup(struct geoip *g, const struct ip_addr *ip, struct geoip_result *out)
{
    memset(out, 0, sizeof *out);
    if (!g || !ip)
        return false;

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (ip_is_v4(ip)) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, ip->b + 12, 4);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, ip->b, 16);
    }
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(&g->db, (const struct sockaddr *)&ss, &mmdb_error);
    /* An IPv6 address in an IPv4-only database is an error, and simply not there. */
    if (mmdb_error != MMDB_SUCCESS || !r.found_entry)
        return false;

    static const char *const p_country[] = { "country", "iso_code", NULL };
    static const char *const p_registered[] = { "registered_country", "iso_code", NULL };
    static const char *const p_country_code[] = { "country_code", NULL };
    static const char *const p_asn[] = { "autonomous_system_number", NULL };
    static const char *const p_asn_text[] = { "asn", NULL };
    static const char *const p_org[] = { "autonomous_system_organization", NULL };
    static const char *const p_org_ild[] = { "as_organization", NULL };
    static const char *const p_org_ipinfo[] = { "as_name", NULL };

    MMDB_entry_data_s d;
    bool any = false;
    if ((get(&r.entry, &d, p_country) && set_country(&d, out->country)) ||
        (get(&r.entry, &d, p_registered) && set_country(&d, out->country)) ||
        (get(&r.entry, &d, p_country_code) && set_country(&d, out->country)))
        any = true;
    if ((get(&r.entry, &d, p_asn) && set_asn(&d, out->asn)) ||
        (get(&r.entry, &d, p_asn_text) && set_asn(&d, out->asn)))
        any = true;
    if ((get(&r.entry, &d, p_org) && copy_string(&d, out->as_org, sizeof out->as_org)) ||
        (get(&r.entry, &d, p_org_ild) && copy_string(&d, out->as_org, sizeof out->as_org)) ||
        (get(&r.entry, &d, p_org_ipinfo) && copy_string(&d, out->as_org, sizeof out->as_org)))
        any = true;
    return any;
}
