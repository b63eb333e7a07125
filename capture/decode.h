/*
 * decode.h - frames to datagrams: link layers (Ethernet + 802.1Q/QinQ, Linux
 * cooked v1/v2, raw IP, BSD null/loopback), PPPoE, GRE, IP-in-IP, IPv4 and
 * IPv6 headers (extension headers walked). UDP that needs no reassembly goes
 * straight to the handler; IPv4 fragments and TCP go to libnids (reasm.h);
 * IPv6 fragments to ip6frag.h; TCP over IPv6 through the 240/4 shim.
 */
#ifndef SIPSIFT_DECODE_H
#define SIPSIFT_DECODE_H

#include "capture/capture.h"
#include "capture/input.h"

struct decoder;
struct reasm;

/* st and h must outlive the decoder. r may be NULL (no TCP/fragment reassembly). */
struct decoder *decoder_new(const struct l4_handler *h, struct reasm *r, struct capture_stats *st);
void decoder_free(struct decoder *d);

/* Decode one frame of input number `input`; frame_no counts across inputs. */
void decode_frame(struct decoder *d, const struct frame *f, uint32_t input, uint64_t frame_no);

#endif
