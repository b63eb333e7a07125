/*
 * pcapng.c - a small, bounds-checked pcapng reader (RFC draft-ietf-opsawg-pcapng):
 * Section Header Blocks in either byte order (several sections per file),
 * Interface Description Blocks (link type, if_tsresol, if_tsoffset), Enhanced,
 * Simple and obsolete Packet Blocks. Every other block is skipped unread.
 */
#include "capture/pcapng.h"

#include <errno.h>
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/slice.h"

#define BT_SHB 0x0A0D0D0Au /* same bytes in both orders, so it is read before the order is known */
#define BT_IDB 1u
#define BT_OPB 2u /* obsolete Packet Block (pcapng 1.0 writers) */
#define BT_SPB 3u
#define BT_EPB 6u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du

#define OPT_END 0
#define OPT_IF_TSRESOL 9
#define OPT_IF_TSOFFSET 14

/* pcapng stores LINKTYPE_* values; these two differ from the DLT_* libpcap reports. */
#define LINKTYPE_ATM_RFC1483 100
#define LINKTYPE_RAW 101

struct iface {
    int linktype; /* as a DLT_* */
    uint32_t snaplen;
    uint64_t units;   /* timestamp ticks per second */
    int64_t offset_s; /* if_tsoffset: seconds to add to every timestamp */
};

struct pcapng {
    FILE *fp;
    uint64_t off;    /* bytes consumed */
    uint64_t frames; /* frames returned, for error messages */
    bool swap;       /* the current section's byte order differs from ours */
    bool seen_shb;
    struct iface *ifs; /* interfaces of the current section */
    uint32_t n_if, cap_if;
    int first_linktype;
    uint8_t *buf; /* body of the current block (+ its trailing length) */
    size_t buf_cap;
    uint64_t block_start; /* offset of the block being read, for error messages */
    uint64_t last_ts_us;  /* Simple Packet Blocks carry no time: reuse the previous frame's */
};

static uint16_t rd16(const struct pcapng *r, const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return r->swap ? __builtin_bswap16(v) : v;
}

static uint32_t rd32(const struct pcapng *r, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return r->swap ? __builtin_bswap32(v) : v;
}

static uint64_t rd64(const struct pcapng *r, const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return r->swap ? __builtin_bswap64(v) : v;
}

static int corrupt(const struct pcapng *r, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "corrupt pcapng block at byte %llu (after %llu frames): %s",
             (unsigned long long)r->block_start, (unsigned long long)r->frames, what);
    return -1;
}

/* Read exactly n bytes. 1 = done, 0 = clean end of file (only if allow_eof and
 * nothing was read), -1 = cut short or read error. */
static int read_exact(struct pcapng *r, void *dst, size_t n, bool allow_eof, char *err,
                      size_t errlen)
{
    size_t got = fread(dst, 1, n, r->fp);
    r->off += got;
    if (got == n)
        return 1;
    if (ferror(r->fp)) {
        snprintf(err, errlen, "read error at byte %llu: %s", (unsigned long long)r->off,
                 strerror(errno ? errno : EIO));
        return -1;
    }
    if (got == 0 && allow_eof)
        return 0;
    snprintf(err, errlen,
             "truncated: the file ends inside a pcapng block at byte %llu, after %llu complete "
             "frames (the capture was cut short; the frames before the cut were read)",
             (unsigned long long)r->off, (unsigned long long)r->frames);
    return -1;
}

/* Read one whole block into r->buf. *type, *body_len set; 1 = block, 0 = EOF, -1 = error. */
static int read_block(struct pcapng *r, uint32_t *type, size_t *body_len, char *err, size_t errlen)
{
    uint8_t hdr[12];
    r->block_start = r->off;
    int rc = read_exact(r, hdr, 8, true, err, errlen);
    if (rc <= 0)
        return rc;
    memcpy(type, hdr, 4);
    size_t have = 0; /* body bytes already read */
    if (*type == BT_SHB) {
        /* The byte-order magic, first in the body, decides how to read everything
         * in this section, the block's own length included. */
        if (read_exact(r, hdr + 8, 4, false, err, errlen) < 0)
            return -1;
        uint32_t bom;
        memcpy(&bom, hdr + 8, 4);
        if (bom == BYTE_ORDER_MAGIC)
            r->swap = false;
        else if (__builtin_bswap32(bom) == BYTE_ORDER_MAGIC)
            r->swap = true;
        else
            return corrupt(r, "bad byte-order magic in the section header", err, errlen);
        r->seen_shb = true;
        have = 4;
    } else {
        if (!r->seen_shb)
            return corrupt(r, "the file does not start with a section header", err, errlen);
        *type = rd32(r, hdr);
    }
    uint32_t len = rd32(r, hdr + 4);
    if (len < 12 || len % 4 != 0 || len > PCAPNG_MAX_BLOCK_BYTES || (*type == BT_SHB && len < 28)) {
        char what[96];
        snprintf(what, sizeof what, "impossible block length %u", len);
        return corrupt(r, what, err, errlen);
    }
    *body_len = len - 12;
    if (r->buf_cap < *body_len + 4) {
        size_t cap = r->buf_cap ? r->buf_cap : 65536;
        while (cap < *body_len + 4)
            cap *= 2;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb) {
            snprintf(err, errlen, "out of memory for a %u-byte pcapng block", len);
            return -1;
        }
        r->buf = nb;
        r->buf_cap = cap;
    }
    memcpy(r->buf, hdr + 8, have);
    /* The body and the trailing copy of the length. */
    if (read_exact(r, r->buf + have, *body_len + 4 - have, false, err, errlen) < 0)
        return -1;
    if (rd32(r, r->buf + *body_len) != len)
        return corrupt(r, "block lengths at start and end differ", err, errlen);
    return 1;
}

static uint64_t ts_to_us(const struct iface *ifc, uint64_t ticks)
{
    uint64_t us = ifc->units == 1000000
                      ? ticks
                      : (uint64_t)((unsigned __int128)ticks * 1000000u / ifc->units);
    int64_t shift = ifc->offset_s * 1000000;
    if (shift < 0 && (uint64_t)-shift > us)
        return 0;
    return us + (uint64_t)shift;
}

static int section_header(struct pcapng *r, struct slice body, char *err, size_t errlen)
{
    uint16_t major = rd16(r, body.p + 4), minor = rd16(r, body.p + 6);
    if (major != 1) {
        char what[64];
        snprintf(what, sizeof what, "pcapng version %u.%u is not supported", major, minor);
        return corrupt(r, what, err, errlen);
    }
    r->n_if = 0; /* interface numbers start again in every section */
    return 0;
}

static int interface_block(struct pcapng *r, struct slice body, char *err, size_t errlen)
{
    if (body.n < 8)
        return corrupt(r, "interface description too short", err, errlen);
    if (r->n_if == PCAPNG_MAX_INTERFACES)
        return corrupt(r, "too many interfaces in one section", err, errlen);
    if (r->n_if == r->cap_if) {
        uint32_t cap = r->cap_if ? r->cap_if * 2 : 8;
        struct iface *n = realloc(r->ifs, cap * sizeof *n);
        if (!n) {
            snprintf(err, errlen, "out of memory for pcapng interfaces");
            return -1;
        }
        r->ifs = n;
        r->cap_if = cap;
    }
    struct iface ifc = { .linktype = rd16(r, body.p),
                         .snaplen = rd32(r, body.p + 4),
                         .units = 1000000 };
    if (ifc.linktype == LINKTYPE_RAW)
        ifc.linktype = DLT_RAW;
    else if (ifc.linktype == LINKTYPE_ATM_RFC1483)
        ifc.linktype = DLT_ATM_RFC1483;
    /* Options are 4-byte aligned TLVs; a list that runs off the block just ends it. */
    for (struct slice o = sl_drop(body, 8); o.n >= 4;) {
        uint16_t code = rd16(r, o.p), olen = rd16(r, o.p + 2);
        size_t padded = ((size_t)olen + 3) & ~(size_t)3;
        if (code == OPT_END || 4 + padded > o.n)
            break;
        const uint8_t *v = o.p + 4;
        if (code == OPT_IF_TSRESOL && olen >= 1) {
            unsigned e = v[0] & 0x7f;
            if ((v[0] & 0x80) ? e > 63 : e > 19)
                return corrupt(r, "invalid if_tsresol", err, errlen);
            uint64_t units = 1;
            for (unsigned i = 0; i < e; i++)
                units *= (v[0] & 0x80) ? 2 : 10;
            ifc.units = units;
        } else if (code == OPT_IF_TSOFFSET && olen == 8) {
            ifc.offset_s = (int64_t)rd64(r, v);
            if (ifc.offset_s > INT32_MAX || ifc.offset_s < INT32_MIN)
                ifc.offset_s = 0; /* nonsense: ignore rather than wrap the clock */
        }
        o = sl_drop(o, 4 + padded);
    }
    r->ifs[r->n_if++] = ifc;
    if (r->first_linktype < 0)
        r->first_linktype = ifc.linktype;
    return 0;
}

/* Packet blocks: fill *f. */
static int packet_block(struct pcapng *r, uint32_t type, struct slice body, struct pcapng_frame *f,
                        char *err, size_t errlen)
{
    uint32_t ifid, caplen, len;
    size_t hdr;
    uint64_t ticks = 0;
    if (type == BT_SPB) {
        if (body.n < 4)
            return corrupt(r, "simple packet block too short", err, errlen);
        ifid = 0;
        len = rd32(r, body.p);
        hdr = 4;
        /* Its captured length is implicit: the lesser of the packet and the block. */
        caplen = len < body.n - 4 ? len : (uint32_t)(body.n - 4);
        if (r->n_if && r->ifs[0].snaplen && caplen > r->ifs[0].snaplen)
            caplen = r->ifs[0].snaplen;
    } else {
        if (body.n < 20)
            return corrupt(r, "packet block too short", err, errlen);
        ifid = type == BT_EPB ? rd32(r, body.p) : rd16(r, body.p);
        ticks = (uint64_t)rd32(r, body.p + 4) << 32 | rd32(r, body.p + 8);
        caplen = rd32(r, body.p + 12);
        len = rd32(r, body.p + 16);
        hdr = 20;
        if (caplen > body.n - 20)
            return corrupt(r, "captured length runs past the block", err, errlen);
    }
    if (ifid >= r->n_if) {
        char what[96];
        snprintf(what, sizeof what, "packet for interface %u, but the section describes %u", ifid,
                 r->n_if);
        return corrupt(r, what, err, errlen);
    }
    const struct iface *ifc = &r->ifs[ifid];
    f->ts_us = type == BT_SPB ? r->last_ts_us : ts_to_us(ifc, ticks);
    f->caplen = caplen;
    f->len = len < caplen ? caplen : len; /* decode reads caplen < len as "cut by snaplen" */
    f->linktype = ifc->linktype;
    f->interface = ifid;
    f->data = body.p + hdr;
    r->last_ts_us = f->ts_us;
    r->frames++;
    return 1;
}

/* 1 = *f holds a frame, 0 = block consumed, -1 = error. */
static int handle_block(struct pcapng *r, uint32_t type, size_t body_len, struct pcapng_frame *f,
                        char *err, size_t errlen)
{
    struct slice body = sl_make(r->buf, body_len);
    switch (type) {
    case BT_SHB:
        return section_header(r, body, err, errlen);
    case BT_IDB:
        return interface_block(r, body, err, errlen);
    case BT_EPB:
    case BT_SPB:
    case BT_OPB:
        return packet_block(r, type, body, f, err, errlen);
    default:
        return 0; /* name resolution, statistics, custom, ...: not ours to read */
    }
}

struct pcapng *pcapng_open(FILE *fp, char *err, size_t errlen)
{
    struct pcapng *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->fp = fp;
    r->first_linktype = -1;
    for (;;) {
        uint32_t type;
        size_t n;
        int rc = read_block(r, &type, &n, err, errlen);
        if (rc == 0)
            break;
        struct pcapng_frame f;
        if (rc > 0)
            rc = handle_block(r, type, n, &f, err, errlen);
        if (rc < 0) {
            pcapng_close(r);
            return NULL;
        }
        /* A packet block before any IDB names a missing interface: handle_block
         * refused it above, so rc is 0 here. */
        if (r->first_linktype >= 0)
            break;
    }
    return r;
}

int pcapng_next(struct pcapng *r, struct pcapng_frame *f, char *err, size_t errlen)
{
    for (;;) {
        uint32_t type;
        size_t n;
        int rc = read_block(r, &type, &n, err, errlen);
        if (rc <= 0)
            return rc;
        rc = handle_block(r, type, n, f, err, errlen);
        if (rc != 0)
            return rc;
    }
}

int pcapng_first_linktype(const struct pcapng *r) { return r->first_linktype; }
uint64_t pcapng_offset(const struct pcapng *r) { return r->off; }

void pcapng_close(struct pcapng *r)
{
    if (!r)
        return;
    free(r->ifs);
    free(r->buf);
    free(r);
}
