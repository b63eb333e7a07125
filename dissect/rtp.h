/*
 * rtp.h - RTP and RTCP packets (RFC 3550 §5.1, §6) and RFC 4733 telephone
 * events: header fields and slices into the datagram, no state, no allocation.
 * Which datagrams are RTP at all, and per-stream figures, are media.h's job.
 */
#ifndef SIPSIFT_RTP_H
#define SIPSIFT_RTP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/slice.h"

#define RTP_VERSION       2
#define RTP_HDR_LEN       12  /* fixed header, RFC 3550 §5.1 */
#define RTCP_HDR_LEN      4   /* common header of every RTCP packet, §6.4.1 */
#define RTCP_REPORT_LEN   24  /* one report block (SR/RR), §6.4.1 */
#define RTCP_SENDER_LEN   20  /* sender info of an SR, §6.4.1 */
#define RTP_EVENT_LEN     4   /* RFC 4733 §2.3 payload */

/* RTCP packet types (RFC 3550 §12.1); 205-207 are RTPFB, PSFB, XR. */
enum rtcp_type {
    RTCP_SR = 200,
    RTCP_RR = 201,
    RTCP_SDES = 202,
    RTCP_BYE = 203,
    RTCP_APP = 204,
};

/* SDES item type of the canonical name (RFC 3550 §6.5.1). */
#define RTCP_SDES_END   0
#define RTCP_SDES_CNAME 1

/* One RTP packet (RFC 3550 §5.1). */
struct rtp_hdr {
    bool padding, extension, marker;
    uint8_t cc;            /* CSRC count */
    uint8_t pt;            /* payload type, 7 bits */
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    struct slice csrc;     /* cc * 4 bytes */
    uint16_t ext_profile;  /* "defined by profile" (0xBEDE: RFC 8285 one-byte form) */
    struct slice ext;      /* extension data after its 4-byte header (length * 4 bytes) */
    uint8_t pad_len;       /* padding bytes cut from the end (0 without P) */
    struct slice payload;  /* what is left: not the header, extension or padding */
};

/*
 * Parse an RTP packet. False (with a reason in *why, which may be NULL) when
 * the version is not 2 or a length does not fit: "short", "version",
 * "csrc", "extension", "padding".
 */
bool rtp_parse(struct slice d, struct rtp_hdr *h, const char **why);
/* The i-th CSRC (0 when i >= cc). */
uint32_t rtp_csrc(const struct rtp_hdr *h, unsigned i);

/* RFC 4733 §2.3 telephone-event payload. */
struct rtp_event {
    uint8_t event;     /* 0-9, 10 '*', 11 '#', 12-15 A-D, 16 flash (§3.2) */
    bool end;          /* E: last packet(s) of the event */
    uint8_t volume;    /* 0 to 63, -dBm0 */
    uint16_t duration; /* timestamp units since the event's timestamp */
};

/* Read the first 4 bytes of a telephone-event payload; false if shorter. */
bool rtp_event_parse(struct slice payload, struct rtp_event *ev);
/* The DTMF character of an event code ('0'-'9', '*', '#', 'A'-'D', '!' for
 * flash), or 0 for an event that is not a key (tones, fax, ...). */
char rtp_event_digit(uint8_t event);

/* RTCP SR sender info (§6.4.1). */
struct rtcp_sender_info {
    uint32_t ntp_sec, ntp_frac;
    uint32_t rtp_ts;
    uint32_t packets, octets;   /* sender's counts since it started */
};

/* One report block of an SR or RR (§6.4.1), about source ssrc. */
struct rtcp_report {
    uint32_t ssrc;
    uint8_t fraction_lost;      /* lost since the last report, /256 */
    int32_t cum_lost;           /* cumulative, signed 24 bits (negative with duplicates) */
    uint32_t ext_highest_seq;   /* cycles << 16 | highest sequence */
    uint32_t jitter;            /* interarrival jitter, timestamp units */
    uint32_t lsr, dlsr;         /* last SR (middle 32 bits of NTP), delay since (1/65536 s) */
};

/* One packet of a compound RTCP datagram. */
struct rtcp_pkt {
    uint8_t pt;                 /* enum rtcp_type, or another RTCP type */
    uint8_t count;              /* RC, SC or APP subtype (5 bits) */
    bool padding;
    struct slice body;          /* after the common header, padding removed */
    uint32_t ssrc;              /* sender: SR, RR, APP, 205-207; 0 for SDES, BYE */
    struct rtcp_sender_info sr; /* SR only */
    struct slice reports;       /* SR/RR: the report blocks that fit, count * 24 bytes */
    struct slice app_name;      /* APP: the 4-byte name */
};

/*
 * Validity of a compound RTCP datagram. strict is RFC 3550 A.2 (first packet
 * an SR or RR without padding; every packet version 2; padding only in the
 * last; lengths adding up to the datagram) plus a first packet exactly as
 * long as its report count says, the test for a datagram nothing announced. Not strict drops the first-packet rule (RFC 5506 reduced size)
 * for ports SDP named. Reasons: "short", "version", "first type", "length",
 * "padding".
 */
bool rtcp_check(struct slice d, bool strict, const char **why);

/*
 * Take the next packet of a compound from *rest (advanced past it). False at
 * the end (*why NULL) or on a malformed packet (*why: "short", "version",
 * "length", "padding", "report count"). For "report count" (an SR/RR whose
 * count promises more blocks than its length holds) *p is filled and the
 * blocks that fit are readable with rtcp_report_at.
 */
bool rtcp_next(struct slice *rest, struct rtcp_pkt *p, const char **why);
/* The i-th report block of an SR/RR; false past the ones that fit. */
bool rtcp_report_at(const struct rtcp_pkt *p, unsigned i, struct rtcp_report *r);

/*
 * SDES chunks (§6.5): *chunks starts as p->body. Each call takes one chunk:
 * its SSRC/CSRC and the CNAME item (empty when the chunk has none). False at
 * the end or on a chunk that runs past the packet.
 */
bool rtcp_sdes_next(struct slice *chunks, uint32_t *ssrc, struct slice *cname);

/* BYE (§6.6): the i-th SSRC leaving, false past the count; the reason text. */
bool rtcp_bye_ssrc(const struct rtcp_pkt *p, unsigned i, uint32_t *ssrc);
struct slice rtcp_bye_reason(const struct rtcp_pkt *p);

#endif
