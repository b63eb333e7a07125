/*
 * reasm.h - reassembly: IPv4 fragments and TCP streams through libnids (fed
 * bare IPv4, checksums off, portscan detection off), IPv6 fragments with our
 * own bounded, capture-time-expired reassembler (ip6frag.h), and TCP over IPv6
 * through libnids via a synthetic 240.0.0.0/4 address map (DEPENDENCIES.md).
 *
 * libnids is process-global, so there is at most one struct reasm.
 */
#ifndef SIPSIFT_REASM_H
#define SIPSIFT_REASM_H

#include "capture/capture.h"
#include "lib/table.h"

struct reasm_cfg {
    uint32_t tcp_streams;     /* libnids n_tcp_streams (3/4 usable) */
    uint32_t tcp_buf_max;     /* max unconsumed bytes per direction */
    uint32_t ip6_frag_sets;   /* concurrent IPv6 fragment sets */
    uint32_t ip6_frag_bytes;  /* total bytes held in IPv6 fragments */
    uint32_t ip6_frag_timeout_us;
    uint32_t ip6_map_entries; /* IPv6 addresses mapped into 240/4 */
    uint32_t ip4_frag_sets;   /* concurrent IPv4 fragment sets */
    uint32_t ip4_frag_bytes;  /* total bytes held in IPv4 fragments */
    uint32_t ip4_frag_timeout_us;
};

void reasm_default_cfg(struct reasm_cfg *c);

/* NULL on failure (reason in err). One instance per process. */
struct reasm *reasm_new(const struct reasm_cfg *c, const struct l4_handler *h,
                        struct capture_stats *st, char *err, size_t errlen);

/* A whole IPv4 packet (from its header) that needs reassembly: TCP (libnids),
 * or a fragment (rebuilt here, then its UDP delivered or its TCP fed to libnids).
 * m carries time, input, frame, vlan, flags; addresses are read from ip. */
void reasm_ipv4(struct reasm *r, const struct l4_meta *m, struct slice ip);

/* An IPv6 fragment: fh = the 8-byte fragment header, frag = the bytes after it.
 * When the set completes, *out receives the reassembled upper-layer payload
 * (valid until the next reasm call) with *next_header, and true is returned. */
bool reasm_ipv6_frag(struct reasm *r, const struct l4_meta *m, struct slice fh,
                     struct slice frag, uint8_t first_next_header,
                     struct slice *out, uint8_t *next_header);

/* A TCP segment over IPv6 (m has the v6 addresses); fed to libnids via the shim. */
void reasm_tcp6(struct reasm *r, const struct l4_meta *m, struct slice tcp_segment);

/* Advance capture time (expiry of IPv6 fragments and map entries). */
void reasm_tick(struct reasm *r, uint64_t now_us);

/* End of all input: flushes open streams (handler->tcp_end), frees everything. */
void reasm_free(struct reasm *r);
/* The tables reassembly keeps (IPv4 and IPv6 fragment sets, the IPv6 address
 * map) as JSON members for the run's limits, like table_stats_json. */
int reasm_limits_json(const struct reasm *r, char *buf, size_t n);

#endif
