/*
 * hep.h - HEP v2/v3 (Homer Encapsulation Protocol, sipcapture.org), the
 * capture protocol SIP proxies use to mirror signalling over UDP. The inner
 * message is dissected with the addresses, ports and time HEP records.
 * HEPv3: "HEP3" magic + chunks (vendor 0: 1 family, 2 proto, 3/4 IPv4 src/dst,
 * 5/6 IPv6 src/dst, 7/8 ports, 9/10 time s/µs, 11 payload type, 12 capture id,
 * 15 payload, 16 compressed payload (not inflated: counted as HEP_BAD)).
 * HEPv2: version 2 header (version, length, family, proto, ports, addresses,
 * then time and capture id) followed by the payload.
 */
#ifndef SIPSIFT_HEP_H
#define SIPSIFT_HEP_H

#include "capture/capture.h"

/* The most a HEP agent's clock may differ from the capture's: beyond it the
 * packet's own time is used (a broken or hostile agent must not move the
 * clock every table expires by). One hour allows an agent without NTP. */
#define HEP_MAX_SKEW_US (3600 * 1000000ull)

struct hep_msg {
    struct l4_meta inner;   /* outer meta with HEP's addresses, ports, proto, time; L4_F_HEP set */
    uint8_t payload_type;   /* 1 = SIP (HEPv3 chunk 11; HEPv2: 1) */
    uint32_t capture_id;
    struct slice payload;
    bool time_clamped;      /* HEP's time was beyond HEP_MAX_SKEW_US: inner.ts_us is the packet's */
};

/* Cheap check: does this UDP payload start like HEP v2 or v3? */
bool hep_looks_like(struct slice p);

/* 1 = decoded, 0 = not HEP, -1 = HEP but malformed. */
int hep_parse(struct slice p, const struct l4_meta *outer, struct hep_msg *out);

#endif
