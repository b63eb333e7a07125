/*
 * hep.c - HEP v1/v2 and v3 (sipcapture.org's Homer Encapsulation Protocol):
 * unwraps the mirrored message with the addresses, ports and time the capture
 * agent recorded. Every length is checked against the bytes present; chunk 16
 * (compressed payload) is not inflated, so a message with only that is bad.
 */
#include "capture/hep.h"

#include <netinet/in.h>
#include <string.h>

#define HEP_FAMILY_V4 2
#define HEP_FAMILY_V6 10
#define HEP_V2_TIME_BYTES 12 /* struct hep_timehdr {u32 sec, usec; u16 captid} with its padding */

enum hep3_chunk {
    C_FAMILY = 1,
    C_PROTO = 2,
    C_SRC4 = 3,
    C_DST4 = 4,
    C_SRC6 = 5,
    C_DST6 = 6,
    C_SPORT = 7,
    C_DPORT = 8,
    C_SEC = 9,
    C_USEC = 10,
    C_PTYPE = 11,
    C_CAPID = 12,
    C_PAYLOAD = 15,
    C_ZPAYLOAD = 16,
};

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const uint8_t *p) { return __builtin_bswap32(be32(p)); }

bool hep_looks_like(struct slice p)
{
    if (p.n >= 4 && memcmp(p.p, "HEP3", 4) == 0)
        return true;
    /* v1/v2: version, then the header length that its family implies. */
    return p.n >= 8 && (p.p[0] == 1 || p.p[0] == 2) &&
           ((p.p[2] == HEP_FAMILY_V4 && p.p[1] == 16) || (p.p[2] == HEP_FAMILY_V6 && p.p[1] == 40));
}

/* Length a fixed-size vendor-0 chunk must have, 0 for variable ones. */
static size_t chunk_size(uint16_t type)
{
    switch (type) {
    case C_FAMILY:
    case C_PROTO:
    case C_PTYPE:
        return 1;
    case C_SPORT:
    case C_DPORT:
        return 2;
    case C_SRC4:
    case C_DST4:
    case C_SEC:
    case C_USEC:
        return 4;
    case C_SRC6:
    case C_DST6:
        return 16;
    default:
        return 0;
    }
}

static int parse_v3(struct slice p, const struct l4_meta *outer, struct hep_msg *out)
{
    if (p.n < 6)
        return -1;
    size_t total = be16(p.p + 4);
    bool cut = false;
    if (total < 6)
        return -1;
    if (total > p.n) {
        /* Only the capture's snaplen may shorten a HEP packet; otherwise the length lies. */
        if (!(outer->flags & L4_F_TRUNCATED))
            return -1;
        total = p.n;
        cut = true;
    }
    struct slice c = sl_sub(p, 6, total);
    bool have_payload = false, have_sec = false, v6 = false;
    uint32_t sec = 0, usec = 0;
    while (c.n) {
        if (c.n < 6) {
            if (cut)
                break;
            return -1;
        }
        uint16_t vendor = be16(c.p), type = be16(c.p + 2), len = be16(c.p + 4);
        if (len < 6)
            return -1;
        struct slice v;
        if (len > c.n) {
            if (!cut)
                return -1;
            if (vendor != 0 || type != C_PAYLOAD)
                break; /* the snaplen ended the packet inside a chunk we can do without */
            v = sl_drop(c, 6);
            out->inner.flags |= L4_F_TRUNCATED;
            c = sl_drop(c, c.n);
        } else {
            v = sl_sub(c, 6, len);
            c = sl_drop(c, len);
        }
        if (vendor != 0)
            continue; /* vendor-specific chunks are skipped */
        size_t want = chunk_size(type);
        if (want && v.n != want)
            return -1;
        switch (type) {
        case C_FAMILY:
            v6 = v.p[0] == HEP_FAMILY_V6;
            break;
        case C_PROTO:
            out->inner.proto = v.p[0];
            break;
        case C_SRC4:
            ip_from_v4(&out->inner.src, v.p);
            break;
        case C_DST4:
            ip_from_v4(&out->inner.dst, v.p);
            break;
        case C_SRC6:
            ip_from_v6(&out->inner.src, v.p);
            v6 = true;
            break;
        case C_DST6:
            ip_from_v6(&out->inner.dst, v.p);
            v6 = true;
            break;
        case C_SPORT:
            out->inner.sport = be16(v.p);
            break;
        case C_DPORT:
            out->inner.dport = be16(v.p);
            break;
        case C_SEC:
            sec = be32(v.p);
            have_sec = true;
            break;
        case C_USEC:
            usec = be32(v.p);
            break;
        case C_PTYPE:
            out->payload_type = v.p[0];
            break;
        case C_CAPID: /* u32 by the spec; some agents send a u16 */
            if (v.n == 4)
                out->capture_id = be32(v.p);
            else if (v.n == 2)
                out->capture_id = be16(v.p);
            else
                return -1;
            break;
        case C_PAYLOAD:
            out->payload = v;
            have_payload = true;
            break;
        default:
            break; /* compressed payload, auth key, correlation id, ...: not needed */
        }
    }
    if (!have_payload)
        return -1;
    if (v6)
        out->inner.flags |= L4_F_IPV6;
    if (have_sec)
        out->inner.ts_us = (uint64_t)sec * 1000000u + usec;
    return 1;
}

/* v1/v2: fixed header, addresses, (v2) time, then the payload to the end. */
static int parse_v2(struct slice p, struct hep_msg *out)
{
    bool v6 = p.p[2] == HEP_FAMILY_V6;
    size_t hl = p.p[1], off = hl + (p.p[0] == 2 ? HEP_V2_TIME_BYTES : 0);
    if (p.n < off)
        return -1;
    out->inner.proto = p.p[3];
    out->inner.sport = be16(p.p + 4);
    out->inner.dport = be16(p.p + 6);
    if (v6) {
        ip_from_v6(&out->inner.src, p.p + 8);
        ip_from_v6(&out->inner.dst, p.p + 24);
        out->inner.flags |= L4_F_IPV6;
    } else {
        ip_from_v4(&out->inner.src, p.p + 8);
        ip_from_v4(&out->inner.dst, p.p + 12);
    }
    if (p.p[0] == 2) {
        /* Agents memcpy this struct in their own byte order (little-endian in
         * practice); a microsecond field over a million says it was the other. */
        const uint8_t *t = p.p + hl;
        uint32_t sec = le32(t), usec = le32(t + 4);
        uint16_t capid = (uint16_t)(t[8] | t[9] << 8);
        if (usec >= 1000000 && be32(t + 4) < 1000000) {
            sec = be32(t);
            usec = be32(t + 4);
            capid = be16(t + 8);
        }
        out->inner.ts_us = (uint64_t)sec * 1000000u + usec;
        out->capture_id = capid;
    }
    out->payload_type = 1; /* v1/v2 carry SIP only */
    out->payload = sl_drop(p, off);
    return out->payload.n ? 1 : -1;
}

int hep_parse(struct slice p, const struct l4_meta *outer, struct hep_msg *out)
{
    if (!hep_looks_like(p))
        return 0;
    memset(out, 0, sizeof *out);
    /* Keep where and when the outer packet was seen; what it carried is HEP's to say. */
    out->inner.ts_us = outer->ts_us;
    out->inner.input = outer->input;
    out->inner.frame = outer->frame;
    out->inner.vlan = outer->vlan;
    out->inner.flags = (uint8_t)((outer->flags & (L4_F_TUNNEL | L4_F_FRAGMENTED)) | L4_F_HEP);
    int rc = p.p[0] == 'H' ? parse_v3(p, outer, out) : parse_v2(p, out);
    if (rc != 1)
        out->payload = SL_NULL;
    uint64_t t = out->inner.ts_us, o = outer->ts_us;
    if (rc == 1 && (t > o ? t - o : o - t) > HEP_MAX_SKEW_US) {
        out->inner.ts_us = o;
        out->time_clamped = true;
    }
    return rc;
}
