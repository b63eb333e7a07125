/*
 * capture.h - what the capture stage hands to the rest of sipsift, and the
 * counters it keeps. Capture = open inputs, decode link/IP/tunnels, reassemble
 * IPv4/IPv6 fragments and TCP streams, unwrap HEP. It knows nothing of SIP.
 *
 * Flow: input_next() -> decode_frame() -> (fast path) UDP datagram, or
 * reasm (libnids for IPv4 fragments and TCP; own code for IPv6 fragments; a
 * 240/4 address shim for TCP over IPv6) -> struct l4_handler callbacks.
 */
#ifndef SIPSIFT_CAPTURE_H
#define SIPSIFT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ipaddr.h"
#include "lib/slice.h"

/* Flags on a delivered datagram or stream chunk. */
#define L4_F_HEP        0x01 /* addresses, ports and time come from a HEP header */
#define L4_F_TRUNCATED  0x02 /* payload cut short by the capture's snaplen */
#define L4_F_TUNNEL     0x04 /* came out of GRE, IP-in-IP or PPPoE */
#define L4_F_FRAGMENTED 0x08 /* reassembled from IP fragments */
#define L4_F_IPV6       0x10 /* the (inner) IP layer was IPv6 */

/* One datagram or one piece of a TCP stream, as seen after decoding. */
struct l4_meta {
    uint64_t ts_us;         /* capture time, µs since the epoch (HEP: the HEP time) */
    struct ip_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;          /* IPPROTO_UDP or IPPROTO_TCP */
    uint8_t flags;          /* L4_F_* */
    uint16_t vlan;          /* outermost 802.1Q VLAN id, 0 when untagged */
    uint32_t input;         /* index of the input (the n-th -r), 0-based */
    uint64_t frame;         /* frame number across the whole run, 1-based */
};

/* What the handler says about a TCP direction after seeing its bytes. */
enum tcp_verdict {
    TCP_CONTINUE, /* keep following; bytes not consumed stay buffered */
    TCP_IGNORE,   /* not interesting (not SIP): stop collecting this stream */
};

/* Malformed or unhandled things capture counts and reports (never fatal). */
enum cap_anomaly {
    CAP_A_TRUNCATED,        /* frame shorter than its headers say */
    CAP_A_BAD_LINK,         /* link header malformed */
    CAP_A_BAD_IP,           /* IP header malformed (version, ihl, length) */
    CAP_A_BAD_L4,           /* UDP/TCP header malformed */
    CAP_A_FRAG_OVERLAP,     /* overlapping IP fragments (dropped) */
    CAP_A_FRAG_LIMIT,       /* fragment memory/count limit reached (dropped) */
    CAP_A_FRAG_TIMEOUT,     /* incomplete fragment set expired */
    CAP_A_TCP_OVERFLOW,     /* stream buffer limit reached (data dropped) */
    CAP_A_TCP_TABLE_FULL,   /* libnids stream table full (oldest evicted) */
    CAP_A_HEP_BAD,          /* HEP packet that could not be decoded */
    CAP_A_TUNNEL_DEPTH,     /* too many nested encapsulations */
    CAP_A_HEP_TIME,         /* HEP time over HEP_MAX_SKEW_US from the packet's: packet time used */
    CAP_A__COUNT
};

const char *cap_anomaly_name(enum cap_anomaly a);

/* Where capture delivers. All callbacks are synchronous; slices are valid
 * only during the call. */
struct l4_handler {
    void *ctx;
    void (*udp)(void *ctx, const struct l4_meta *m, struct slice payload);
    /* data = every byte of this direction not consumed yet (libnids keeps the
     * rest, up to the stream limit). Set *consumed to what was used. *hint is
     * the handler's own note about this direction (0 when it starts), kept
     * for it between calls so it need not scan the same bytes again: a
     * header block or body sent a byte per segment costs linear time, not
     * quadratic. Capture never reads it. */
    enum tcp_verdict (*tcp)(void *ctx, const struct l4_meta *m, struct slice data,
                            size_t *consumed, uint32_t *hint);
    /* A stream direction ended (FIN, RST, timeout, end of input) with these
     * bytes still unconsumed (may be empty). May be NULL. */
    void (*tcp_end)(void *ctx, const struct l4_meta *m, struct slice rest);
    void (*anomaly)(void *ctx, const struct l4_meta *m, enum cap_anomaly a);
};

/* Counters of the capture stage (all monotonic). */
struct capture_stats {
    uint64_t frames, bytes;        /* frames read (after BPF), their wire length */
    uint64_t ipv4, ipv6, non_ip;   /* by network layer (inner layer for tunnels) */
    uint64_t udp, tcp, other_l4;
    uint64_t vlan, pppoe, gre, ipip, hep;
    uint64_t truncated;            /* caplen < wire length */
    uint64_t frags_v4, frags_v6;   /* fragments seen */
    uint64_t reassembled_v6;       /* IPv6 datagrams rebuilt */
    uint64_t reassembled_v4;       /* IPv4 datagrams rebuilt */
    uint64_t tcp_streams;          /* streams libnids established */
    uint64_t tcp_bytes;            /* stream bytes delivered */
    uint64_t anomalies[CAP_A__COUNT];
};

#endif
