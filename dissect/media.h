/*
 * media.h - RTP streams and their quality figures: which UDP datagrams are
 * RTP/RTCP (SDP-announced endpoints, else a probation heuristic), and per
 * stream packets, loss, reordering, duplicates, delta, jitter (RFC 3550 A.3,
 * A.8), RFC 4733 DTMF digits and what RTCP reports about it. Reads packets
 * through rtp.h; does not parse SIP/SDP, write outputs or decode audio.
 */
#ifndef SIPSIFT_MEDIA_H
#define SIPSIFT_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "lib/ipaddr.h"
#include "lib/slice.h"

#define MEDIA_MAX_STREAMS      8192  /* streams followed at once (LRU evicts) */
#define MEDIA_MAX_ENDPOINTS    16384 /* SDP-announced address:port pairs */
#define MEDIA_MAX_CANDIDATES   2048  /* flows on probation (heuristic) */
#define MEDIA_IDLE_SEC         60    /* a stream ends after this much silence */
#define MEDIA_ENDPOINT_IDLE_SEC 7200 /* an announced endpoint is forgotten after this */
#define MEDIA_CANDIDATE_IDLE_SEC 10
#define MEDIA_CALL_ID_MAX      128   /* Call-ID bytes kept (as dialogs keep) */
#define MEDIA_CODEC_MAX        24    /* encoding name bytes kept, NUL included */
#define MEDIA_CNAME_MAX        64    /* RTCP CNAME bytes kept, NUL included */
#define MEDIA_DTMF_MAX         64    /* digits kept per stream (more are counted) */
#define MEDIA_PT_MAX           8     /* payload types remembered per endpoint */
#define MEDIA_DUP_WINDOW       64    /* sequence numbers behind the highest checked for duplicates */
/* Heuristic probation (docs/media.md): packets buffered, forward sequence
 * steps needed, the largest step, the longest pause between two packets. */
#define MEDIA_PROBE_PACKETS    8
#define MEDIA_PROBE_STEPS      3
#define MEDIA_PROBE_MAX_SEQ_STEP 16
#define MEDIA_PROBE_MAX_TS_STEP  (1u << 20)
#define MEDIA_PROBE_MAX_GAP_US   (5 * 1000000ull)

/* Everything known about one stream when it ends (CONTRACT.md rtp_streams). */
struct media_stream {
    uint64_t id;               /* 1, 2, ... in order of recognition */
    uint32_t ssrc;
    struct ip_addr src_ip, dest_ip;
    uint16_t src_port, dest_port;
    uint8_t payload_type;      /* the media's (first that is neither CN nor an event) */
    char codec[MEDIA_CODEC_MAX]; /* SDP rtpmap name, else RFC 3551's; "" if unknown */
    uint32_t clock_rate;       /* of payload_type; 0 if unknown (then no jitter) */
    uint64_t packets;
    uint64_t bytes;            /* RTP payload bytes (no header, extension, padding) */
    int64_t lost;              /* expected - received (RFC 3550 A.3): negative with duplicates */
    uint64_t out_of_order;     /* arrived behind the highest sequence, first time */
    uint64_t duplicates;       /* a sequence number seen again (within MEDIA_DUP_WINDOW) */
    double jitter_ms;          /* highest interarrival jitter (RFC 3550 §6.4.1, A.8) */
    double jitter_mean_ms;     /* its mean over the packets that count */
    double max_delta_ms;       /* longest gap between consecutive packets */
    uint64_t start_us, end_us; /* first and last packet, capture time */
    char call_id[MEDIA_CALL_ID_MAX]; /* from media_expect; "" when found by heuristics */
    bool from_sdp;             /* found through media_expect, not heuristics */
    char dtmf[MEDIA_DTMF_MAX + 1]; /* RFC 4733 keys in order, NUL-terminated */
    uint32_t dtmf_dropped;     /* digits past MEDIA_DTMF_MAX */
    struct {                   /* what RTCP said about this stream */
        uint32_t reports;      /* report blocks about this SSRC */
        double fraction_lost;  /* latest, 0..1 */
        int32_t cum_lost;      /* latest cumulative loss */
        double jitter_ms;      /* latest jitter (needs clock_rate) */
        double jitter_max_ms;
        uint32_t sr_packets, sr_octets; /* latest SR from the sender */
        char cname[MEDIA_CNAME_MAX];
        bool bye;
    } rtcp;
};

struct media_stats {
    uint64_t rtp_packets;      /* datagrams counted in a stream (probation ones once accepted) */
    uint64_t rtcp_packets;     /* RTCP datagrams read */
    uint64_t rtcp_reports;     /* report blocks read */
    uint64_t rtcp_unmatched;   /* report blocks, SRs, SDES, BYE about no known stream */
    uint64_t streams;          /* streams recognised */
    uint64_t streams_sdp;      /* of which through media_expect */
    uint64_t streams_ended;    /* handed to on_stream_end */
    uint64_t streams_evicted;  /* ended early because the table was full */
    uint64_t probes;           /* flows put on probation */
    uint64_t probe_resets;     /* probation restarted (not RTP-like) */
    uint64_t malformed_rtp;    /* datagram to an RTP endpoint that is not RTP */
    uint64_t malformed_rtcp;   /* same for RTCP */
    uint64_t dtmf_digits;
};

struct media_cfg {
    uint32_t max_streams, max_endpoints, max_candidates;
    uint64_t idle_us;          /* stream idle expiry (capture time) */
    uint64_t endpoint_idle_us;
    bool heuristic;            /* recognise streams nothing announced */
    /* A stream ended (idle, evicted, media_finish). s is valid during the call. */
    void (*on_stream_end)(void *ctx, const struct media_stream *s);
    /* A stream was recognised, before its first packet is counted: id, the
     * key, call_id and from_sdp are set. s is valid during the call. */
    void (*on_stream_start)(void *ctx, const struct media_stream *s);
    /* An RFC 4733 key was recorded for s (as it enters s->dtmf, or would past
     * MEDIA_DTMF_MAX) at capture time ts_us. */
    void (*on_dtmf)(void *ctx, const struct media_stream *s, char key, uint64_t ts_us);
    void *ctx;
};

struct media;

/* Defaults above, heuristics on, no callback. */
void media_default_cfg(struct media_cfg *cfg);
/* NULL on allocation failure. Owner: the caller, free with media_free. */
struct media *media_new(const struct media_cfg *cfg);
/* Frees without ending streams (call media_finish first to see them). */
void media_free(struct media *m);

/*
 * SDP said media for call_id is to be sent to addr:port with payload type pt
 * (one call per format of the m= line), codec and clock_rate from its rtpmap
 * (SDP bytes, copied bounded). clock_rate 0 and an empty codec take RFC 3551's
 * static values; codec "telephone-event" marks pt as RFC 4733 events.
 * RTCP is expected on port+1 (media_expect_rtcp for a=rtcp). Calling again
 * refreshes the endpoint and adds formats; a new call_id replaces the old.
 */
void media_expect(struct media *m, const struct ip_addr *addr, uint16_t port, uint32_t clock_rate,
                  uint8_t pt, struct slice codec, struct slice call_id, uint64_t now);
/* RTCP for call_id on addr:port (SDP a=rtcp, RFC 3605). */
void media_expect_rtcp(struct media *m, const struct ip_addr *addr, uint16_t port,
                       struct slice call_id, uint64_t now);

/*
 * One UDP datagram. True when it was RTP or RTCP of a known stream or of one
 * recognised now; false for anything else, including packets still on
 * probation (they are counted later if the flow is accepted). A known stream
 * costs one hash lookup and no allocation.
 */
bool media_on_udp(struct media *m, const struct l4_meta *meta, struct slice payload);

/*
 * The stream the last media_on_udp datagram was counted in (RTP), or the
 * first stream an RTCP datagram spoke of; NULL when it was neither or when
 * it was a probation packet. Valid until the next media_* call; only the
 * identity (id, key, call_id) and payload_type/codec/clock_rate are current,
 * the figures are those of media_foreach.
 */
const struct media_stream *media_last_stream(const struct media *m);

/* Capture time advanced: end streams idle past idle_us, forget old endpoints. */
void media_tick(struct media *m, uint64_t now);
/* End every stream (on_stream_end for each), drop probation flows. */
void media_finish(struct media *m);
/* Visit every open stream's figures so far (live refresh), most recent first. */
void media_foreach(struct media *m, void (*fn)(void *ctx, const struct media_stream *s), void *ctx);

const struct media_stats *media_stats(const struct media *m);

/* RFC 3551 static clock rate and name of pt; 0 and NULL when dynamic or unassigned. */
uint32_t media_static_clock(uint8_t pt, const char **name);

#endif
