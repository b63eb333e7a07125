/*
 * decode.c - frames to datagrams, in place: link layer (Ethernet + VLAN tags,
 * Linux cooked v1/v2, raw IP, BSD null/loopback), PPPoE, GRE and IP-in-IP,
 * IPv4 and IPv6 (extension headers walked). Unfragmented UDP is delivered from
 * here without a copy; fragments and TCP go to reasm. No allocation per packet;
 * malformed headers are reported through the handler, never fatal.
 */
#include "capture/decode.h"

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdlib.h>

#include "capture/reasm.h"

/* Encapsulations (GRE, IP-in-IP, PPPoE) unwrapped per frame before we give up. */
#define DECODE_MAX_TUNNELS 4
/* VLAN tags per Ethernet header (802.1Q, QinQ, and the old 0x9100 outer tag). */
#define DECODE_MAX_VLAN_TAGS 4
/* IPv6 extension headers walked per packet. */
#define DECODE_MAX_EXT_HEADERS 8

#define LINKTYPE_RAW 101 /* pcapng writers' raw IP, when not mapped to DLT_RAW */

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88A8
#define ETH_QINQ_OLD 0x9100
#define ETH_PPPOE_SESSION 0x8864
#define ETH_TEB 0x6558 /* transparent Ethernet bridging (GRE carrying Ethernet) */

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

struct decoder {
    const struct l4_handler *h;
    struct reasm *r;
    struct capture_stats *st;
};

/* State of the frame being decoded. */
struct pkt {
    struct decoder *d;
    struct l4_meta m;
    bool cut;        /* caplen < len: the capture's snaplen cut this frame short */
    bool tagged;     /* a VLAN tag was seen (the outermost one is in m.vlan) */
    bool ip_counted; /* the frame was counted as IPv4/IPv6 already */
    unsigned tunnels;
};

static const char *const anomaly_names[CAP_A__COUNT] = {
    [CAP_A_TRUNCATED] = "truncated",
    [CAP_A_BAD_LINK] = "bad_link",
    [CAP_A_BAD_IP] = "bad_ip",
    [CAP_A_BAD_L4] = "bad_l4",
    [CAP_A_FRAG_OVERLAP] = "frag_overlap",
    [CAP_A_FRAG_LIMIT] = "frag_limit",
    [CAP_A_FRAG_TIMEOUT] = "frag_timeout",
    [CAP_A_TCP_OVERFLOW] = "tcp_overflow",
    [CAP_A_TCP_TABLE_FULL] = "tcp_table_full",
    [CAP_A_HEP_BAD] = "hep_bad",
    [CAP_A_HEP_TIME] = "hep_time",
    [CAP_A_TUNNEL_DEPTH] = "tunnel_depth",
};

const char *cap_anomaly_name(enum cap_anomaly a)
{
    return (unsigned)a < CAP_A__COUNT && anomaly_names[a] ? anomaly_names[a] : "unknown";
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* The handler counts anomalies (capture_stats.anomalies); we only report them. */
static void anomaly(struct pkt *k, enum cap_anomaly a)
{
    if (k->d->h->anomaly)
        k->d->h->anomaly(k->d->h->ctx, &k->m, a);
}

static void count_ip(struct pkt *k, bool v6)
{
    if (k->ip_counted)
        return;
    k->ip_counted = true;
    if (v6)
        k->d->st->ipv6++;
    else
        k->d->st->ipv4++;
}

static void count_l4(struct pkt *k, uint8_t proto)
{
    struct capture_stats *st = k->d->st;
    if (proto == IPPROTO_UDP)
        st->udp++;
    else if (proto == IPPROTO_TCP)
        st->tcp++;
    else
        st->other_l4++;
}

/* One more encapsulation; false (and reported) past the bound. */
static bool enter_tunnel(struct pkt *k)
{
    if (++k->tunnels > DECODE_MAX_TUNNELS) {
        anomaly(k, CAP_A_TUNNEL_DEPTH);
        return false;
    }
    k->m.flags |= L4_F_TUNNEL;
    return true;
}

/*
 * The IP header claims more bytes than were captured. Whatever is there is
 * still decoded and delivered, flagged. Cut by the snaplen (caplen < len) that
 * is normal; otherwise the header lies, or a slicing tool kept len = caplen:
 * reported as well.
 */
static void truncated_ip(struct pkt *k)
{
    k->m.flags |= L4_F_TRUNCATED;
    if (!k->cut)
        anomaly(k, CAP_A_TRUNCATED);
}

static void decode_ipv4(struct pkt *k, struct slice s);
static void decode_ipv6(struct pkt *k, struct slice s);
static void decode_ethernet(struct pkt *k, struct slice s);

/*
 * UDP: s = the IP payload; short_ = the IP datagram is incomplete. A UDP
 * length beyond a complete datagram is a lie a receiver would drop: so do we.
 */
static void decode_udp(struct pkt *k, struct slice s, bool short_)
{
    if (s.n < 8) {
        anomaly(k, short_ ? CAP_A_TRUNCATED : CAP_A_BAD_L4);
        return;
    }
    uint16_t ulen = be16(s.p + 4);
    k->m.sport = be16(s.p);
    k->m.dport = be16(s.p + 2);
    k->m.proto = IPPROTO_UDP;
    if (ulen < 8) {
        anomaly(k, CAP_A_BAD_L4);
        return;
    }
    struct slice payload = sl_drop(s, 8);
    if (ulen > s.n) {
        if (!short_) {
            anomaly(k, CAP_A_BAD_L4);
            return;
        }
        k->m.flags |= L4_F_TRUNCATED;
    } else {
        payload = sl_prefix(payload, ulen - 8u);
    }
    if (k->d->h->udp)
        k->d->h->udp(k->d->h->ctx, &k->m, payload);
}

/* GRE (RFC 2784, key and sequence of RFC 2890). Version 1 (PPTP) and the
 * RFC 1701 routing field are not decoded: counted as non-IP. */
static void decode_gre(struct pkt *k, struct slice s)
{
    if (s.n < 4) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    uint16_t flags = be16(s.p), proto = be16(s.p + 2);
    if ((flags & 0x7) != 0 || (flags & 0x4000)) {
        k->d->st->non_ip++;
        return;
    }
    size_t hl =
        4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);
    if (s.n < hl) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    k->d->st->gre++;
    if (!enter_tunnel(k))
        return;
    struct slice inner = sl_drop(s, hl);
    switch (proto) {
    case ETH_IPV4:
        decode_ipv4(k, inner);
        break;
    case ETH_IPV6:
        decode_ipv6(k, inner);
        break;
    case ETH_TEB:
        decode_ethernet(k, inner);
        break;
    default:
        k->d->st->non_ip++;
    }
}

/* The upper layer of an IP packet. ip = the whole packet (for reasm), l4 = its payload. */
static void ip_upper(struct pkt *k, bool v6, uint8_t proto, struct slice ip, struct slice l4,
                     bool short_)
{
    switch (proto) {
    case IPPROTO_IPIP:
    case IPPROTO_IPV6:
        k->d->st->ipip++;
        if (enter_tunnel(k)) {
            if (proto == IPPROTO_IPIP)
                decode_ipv4(k, l4);
            else
                decode_ipv6(k, l4);
        }
        return;
    case IPPROTO_GRE:
        decode_gre(k, l4);
        return;
    }
    count_ip(k, v6);
    count_l4(k, proto);
    k->m.proto = proto;
    if (proto == IPPROTO_UDP) {
        decode_udp(k, l4, short_);
    } else if (proto == IPPROTO_TCP) {
        if (l4.n >= 4) {
            k->m.sport = be16(l4.p);
            k->m.dport = be16(l4.p + 2);
        }
        if (k->d->r) {
            if (v6)
                reasm_tcp6(k->d->r, &k->m, l4);
            else
                reasm_ipv4(k->d->r, &k->m, ip);
        }
    }
}

static void decode_ipv4(struct pkt *k, struct slice s)
{
    if (s.n < 20) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    size_t ihl = (size_t)(s.p[0] & 0x0f) * 4;
    size_t total = be16(s.p + 2);
    if (total == 0)
        total = s.n; /* TSO: the NIC fills in the length after capture saw the packet */
    if ((s.p[0] >> 4) != 4 || ihl < 20 || total < ihl) {
        anomaly(k, CAP_A_BAD_IP);
        return;
    }
    if (s.n < ihl) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    bool short_ = total > s.n;
    if (short_)
        truncated_ip(k);
    struct slice ip = sl_prefix(s, total); /* drops Ethernet padding */
    k->m.flags &= (uint8_t)~L4_F_IPV6;
    ip_from_v4(&k->m.src, s.p + 12);
    ip_from_v4(&k->m.dst, s.p + 16);
    uint8_t proto = s.p[9];
    uint16_t frag = be16(s.p + 6);
    struct slice l4 = sl_drop(ip, ihl);
    if (frag & 0x3fff) { /* MF or a fragment offset */
        struct capture_stats *st = k->d->st;
        count_ip(k, false);
        st->frags_v4++;
        k->m.proto = proto;
        if ((frag & 0x1fff) == 0) {
            count_l4(k, proto); /* one count per datagram: its first fragment */
            if ((proto == IPPROTO_UDP || proto == IPPROTO_TCP) && l4.n >= 4) {
                k->m.sport = be16(l4.p);
                k->m.dport = be16(l4.p + 2);
            }
        }
        /* A cut fragment would rebuild a datagram with a hole: not fed. */
        if (short_ && k->cut)
            anomaly(k, CAP_A_TRUNCATED);
        else if (!short_ && k->d->r)
            reasm_ipv4(k->d->r, &k->m, ip);
        return;
    }
    ip_upper(k, false, proto, ip, l4, short_);
}

static void decode_ipv6(struct pkt *k, struct slice s)
{
    if (s.n < 40) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    if ((s.p[0] >> 4) != 6) {
        anomaly(k, CAP_A_BAD_IP);
        return;
    }
    size_t total = 40 + (size_t)be16(s.p + 4);
    if (total == 40 && s.p[6] != 59)
        total = s.n; /* jumbogram or Linux BIG TCP/GSO: length 0 means "all of it" */
    bool short_ = total > s.n;
    if (short_)
        truncated_ip(k);
    struct slice ip = sl_prefix(s, total);
    k->m.flags |= L4_F_IPV6;
    ip_from_v6(&k->m.src, s.p + 8);
    ip_from_v6(&k->m.dst, s.p + 24);
    uint8_t nh = s.p[6];
    struct slice rest = sl_drop(ip, 40);
    bool reassembled = false;
    for (unsigned i = 0;; i++) {
        size_t hl;
        switch (nh) {
        case 0:  /* hop-by-hop */
        case 43: /* routing */
        case 60: /* destination options */
        case 51: /* AH: its length counts 4-byte words, minus 2 */
            if (i == DECODE_MAX_EXT_HEADERS) {
                anomaly(k, CAP_A_BAD_IP);
                return;
            }
            if (rest.n < 2) {
                anomaly(k, short_ ? CAP_A_TRUNCATED : CAP_A_BAD_IP);
                return;
            }
            hl = nh == 51 ? ((size_t)rest.p[1] + 2) * 4 : ((size_t)rest.p[1] + 1) * 8;
            if (rest.n < hl) {
                anomaly(k, short_ ? CAP_A_TRUNCATED : CAP_A_BAD_IP);
                return;
            }
            nh = rest.p[0];
            rest = sl_drop(rest, hl);
            continue;
        case 44: { /* fragment */
            if (i == DECODE_MAX_EXT_HEADERS || reassembled) {
                anomaly(k, CAP_A_BAD_IP);
                return;
            }
            if (rest.n < 8) {
                anomaly(k, short_ ? CAP_A_TRUNCATED : CAP_A_BAD_IP);
                return;
            }
            uint16_t off_m = be16(rest.p + 2);
            if ((off_m & 0xfff9) == 0) { /* atomic fragment (RFC 6946): not fragmented at all */
                nh = rest.p[0];
                rest = sl_drop(rest, 8);
                continue;
            }
            count_ip(k, true);
            k->d->st->frags_v6++;
            if (short_) {
                if (k->cut)
                    anomaly(k, CAP_A_TRUNCATED);
                return;
            }
            struct slice out;
            uint8_t onh;
            if (!k->d->r || !reasm_ipv6_frag(k->d->r, &k->m, sl_prefix(rest, 8), sl_drop(rest, 8),
                                             rest.p[0], &out, &onh))
                return;
            /* The set is complete: carry on with the rebuilt upper layer. */
            k->m.flags |= L4_F_FRAGMENTED;
            reassembled = true;
            rest = out;
            nh = onh;
            continue;
        }
        case 59: /* no next header */
            count_ip(k, true);
            count_l4(k, nh);
            return;
        default:
            ip_upper(k, true, nh, ip, rest, short_);
            return;
        }
    }
}

/* An Ethertype (after Ethernet, Linux cooked, or a VLAN tag) and what follows it. */
static void decode_ethertype(struct pkt *k, uint16_t type, struct slice s)
{
    for (unsigned tags = 0; type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD; tags++) {
        if (tags == DECODE_MAX_VLAN_TAGS) {
            anomaly(k, CAP_A_BAD_LINK);
            return;
        }
        if (s.n < 4) {
            anomaly(k, CAP_A_TRUNCATED);
            return;
        }
        if (!k->tagged) {
            k->tagged = true;
            k->m.vlan = be16(s.p) & 0x0fff;
            k->d->st->vlan++;
        }
        type = be16(s.p + 2);
        s = sl_drop(s, 4);
    }
    switch (type) {
    case ETH_IPV4:
        decode_ipv4(k, s);
        return;
    case ETH_IPV6:
        decode_ipv6(k, s);
        return;
    case ETH_PPPOE_SESSION: {
        /* RFC 2516 §4: ver/type 0x11, code 0, session, length; then PPP. */
        if (s.n < 8) {
            anomaly(k, CAP_A_TRUNCATED);
            return;
        }
        if (s.p[0] != 0x11 || s.p[1] != 0) {
            anomaly(k, CAP_A_BAD_LINK);
            return;
        }
        struct slice ppp = sl_prefix(sl_drop(s, 6), be16(s.p + 4));
        if (ppp.n < 2) {
            anomaly(k, CAP_A_BAD_LINK);
            return;
        }
        /* PPP protocol field compression (RFC 1661 §6.5) leaves one odd byte. */
        bool pfc = ppp.p[0] & 1;
        uint16_t proto = pfc ? ppp.p[0] : be16(ppp.p);
        ppp = sl_drop(ppp, pfc ? 1 : 2);
        k->d->st->pppoe++;
        if (proto != PPP_IPV4 && proto != PPP_IPV6) {
            k->d->st->non_ip++; /* LCP, IPCP, ...: session control */
            return;
        }
        if (!enter_tunnel(k))
            return;
        if (proto == PPP_IPV4)
            decode_ipv4(k, ppp);
        else
            decode_ipv6(k, ppp);
        return;
    }
    default:
        k->d->st->non_ip++;
    }
}

static void decode_ethernet(struct pkt *k, struct slice s)
{
    if (s.n < 14) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    decode_ethertype(k, be16(s.p + 12), sl_drop(s, 14));
}

/* Raw IP: the version nibble says which. */
static void decode_raw(struct pkt *k, struct slice s)
{
    if (s.n == 0) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    if ((s.p[0] >> 4) == 4)
        decode_ipv4(k, s);
    else if ((s.p[0] >> 4) == 6)
        decode_ipv6(k, s);
    else
        anomaly(k, CAP_A_BAD_IP);
}

/* BSD null/loopback: a 4-byte address family, in the capturing host's byte
 * order for DLT_NULL and network order for DLT_LOOP; we accept either, since
 * the family values are small. IPv6 is 24, 28 or 30 depending on the BSD. */
static void decode_null(struct pkt *k, struct slice s)
{
    if (s.n < 4) {
        anomaly(k, CAP_A_TRUNCATED);
        return;
    }
    uint32_t le =
        (uint32_t)s.p[0] | (uint32_t)s.p[1] << 8 | (uint32_t)s.p[2] << 16 | (uint32_t)s.p[3] << 24;
    uint32_t fam = le < 256 ? le : __builtin_bswap32(le);
    struct slice ip = sl_drop(s, 4);
    if (fam == 2)
        decode_ipv4(k, ip);
    else if (fam == 24 || fam == 28 || fam == 30)
        decode_ipv6(k, ip);
    else
        k->d->st->non_ip++;
}

void decode_frame(struct decoder *d, const struct frame *f, uint32_t input, uint64_t frame_no)
{
    struct pkt k = {
        .d = d,
        .m = { .ts_us = f->ts_us, .input = input, .frame = frame_no },
        .cut = f->caplen < f->len,
    };
    struct slice s = sl_make(f->data, f->caplen);
    d->st->frames++;
    d->st->bytes += f->len;
    if (k.cut)
        d->st->truncated++;
    switch (f->linktype) {
    case DLT_EN10MB:
        decode_ethernet(&k, s);
        break;
    case DLT_LINUX_SLL: /* 16 bytes, protocol last (an Ethertype for IP) */
        if (s.n < 16)
            anomaly(&k, CAP_A_TRUNCATED);
        else
            decode_ethertype(&k, be16(s.p + 14), sl_drop(s, 16));
        break;
    case DLT_LINUX_SLL2: /* 20 bytes, protocol first */
        if (s.n < 20)
            anomaly(&k, CAP_A_TRUNCATED);
        else
            decode_ethertype(&k, be16(s.p), sl_drop(s, 20));
        break;
    case DLT_RAW:
    case LINKTYPE_RAW:
        decode_raw(&k, s);
        break;
    case DLT_IPV4:
        decode_ipv4(&k, s);
        break;
    case DLT_IPV6:
        decode_ipv6(&k, s);
        break;
    case DLT_NULL:
    case DLT_LOOP:
        decode_null(&k, s);
        break;
    default:
        d->st->non_ip++; /* the caller warns about the link type once */
    }
}

struct decoder *decoder_new(const struct l4_handler *h, struct reasm *r, struct capture_stats *st)
{
    struct decoder *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->h = h;
    d->r = r;
    d->st = st;
    return d;
}

void decoder_free(struct decoder *d) { free(d); }
