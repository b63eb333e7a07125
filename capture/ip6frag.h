/*
 * ip6frag.h - IPv6 fragment reassembly (RFC 8200 §4.5), which libnids lacks.
 * Bounded in sets and bytes, expired by capture time 60 s after a set's first
 * fragment; overlapping fragments drop the whole set (RFC 5722). Exact
 * duplicates, and copies arriving after the datagram was rebuilt, are dropped
 * silently. IPv4 fragments use it too (reasm.c writes their offset, MF bit,
 * protocol and identification as an 8-byte pseudo fragment header): libnids'
 * own IPv4 defragmenter has no bound on destinations and expires by the wall
 * clock, so an offline run kept every incomplete set it ever saw.
 */
#ifndef SIPSIFT_IP6FRAG_H
#define SIPSIFT_IP6FRAG_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "lib/table.h"

#define IP6FRAG_MAX_RANGES 64      /* fragments per set; more -> CAP_A_FRAG_LIMIT */
#define IP6FRAG_MAX_DATAGRAM 65535 /* largest rebuilt payload */

struct ip6frag;

/* Anomalies go to h->anomaly. st (may be NULL: then nothing is counted)
 * counts frags_v6 and reassembled_v6. Owner: the caller, free with ip6frag_free. */
struct ip6frag *ip6frag_new(uint32_t max_sets, uint32_t max_bytes, uint64_t timeout_us,
                            const struct l4_handler *h, struct capture_stats *st);
/* The same with the table's name for the run's limits (ip6frag_new: "ip6_fragments").
 * st's frags_v6/reassembled_v6 are counted only when st is given. */
struct ip6frag *ip6frag_new_named(const char *name, uint32_t max_sets, uint32_t max_bytes,
                                  uint64_t timeout_us, const struct l4_handler *h,
                                  struct capture_stats *st);
const struct table *ip6frag_table(const struct ip6frag *f);
/*
 * Add one fragment (fh = 8-byte fragment header, frag = the data after it).
 * True when the set is complete: *out is the upper-layer payload (owned by
 * ip6frag, valid until the next call), *next_header its protocol.
 */
bool ip6frag_add(struct ip6frag *f, const struct l4_meta *m, struct slice fh, struct slice frag,
                 struct slice *out, uint8_t *next_header);
void ip6frag_tick(struct ip6frag *f, uint64_t now_us);
void ip6frag_free(struct ip6frag *f);

#endif
