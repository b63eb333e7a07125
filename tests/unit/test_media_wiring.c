/*
 * test_media_wiring.c - the engine's media wiring: SDP (plain and multipart)
 * announces endpoints, RTP to them becomes streams of the call from the first
 * packet, streams reach every sink as ev_rtp, calls list their stream ids and
 * their DTMF keys (RFC 4733 and SIP INFO) in time order. Frames are built
 * here as raw IPv4/UDP, so every value checked is known exactly.
 */
#include "test.h"

#include <pcap/dlt.h>
#include <stdlib.h>

#include "dissect/dialog.h"
#include "main/engine.h"

#define MW_MAX 16

struct mw_rec {
    struct media_stream rtp[MW_MAX];
    unsigned n_rtp;
    unsigned n_calls;
    char call_dtmf[80];
    uint64_t call_streams[DLG_MAX_STREAMS];
    unsigned n_call_streams;
    unsigned order; /* 1: the last rtp event came before the call event */
};

static void mw_rtp(void *self, const struct ev_rtp *e)
{
    struct mw_rec *r = self;
    if (r->n_rtp < MW_MAX)
        r->rtp[r->n_rtp] = *e->s;
    r->n_rtp++;
}

static void mw_call(void *self, const struct ev_call *e)
{
    struct mw_rec *r = self;
    r->n_calls++;
    size_t n = e->dtmf.n < sizeof r->call_dtmf - 1 ? e->dtmf.n : sizeof r->call_dtmf - 1;
    memcpy(r->call_dtmf, e->dtmf.p ? (const char *)e->dtmf.p : "", n);
    r->call_dtmf[n] = 0;
    r->n_call_streams = e->n_rtp_streams;
    for (unsigned i = 0; i < e->n_rtp_streams && i < DLG_MAX_STREAMS; i++)
        r->call_streams[i] = e->rtp_streams[i];
    r->order = r->n_rtp > 0;
}

static const struct sink_ops mw_ops = { .name = "mw", .call = mw_call, .rtp = mw_rtp };

/* A raw IPv4/UDP frame from a.b.c.d-style addresses given as host-order u32. */
static void mw_udp(struct engine *e, uint64_t ts, uint32_t src, uint16_t sport, uint32_t dst,
                   uint16_t dport, const void *payload, size_t n)
{
    static uint8_t buf[2048];
    if (n + 28 > sizeof buf)
        return;
    memset(buf, 0, 28);
    buf[0] = 0x45;
    buf[2] = (uint8_t)((n + 28) >> 8);
    buf[3] = (uint8_t)(n + 28);
    buf[8] = 64;
    buf[9] = 17;
    for (int i = 0; i < 4; i++) {
        buf[12 + i] = (uint8_t)(src >> (24 - 8 * i));
        buf[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
    }
    buf[20] = (uint8_t)(sport >> 8);
    buf[21] = (uint8_t)sport;
    buf[22] = (uint8_t)(dport >> 8);
    buf[23] = (uint8_t)dport;
    buf[24] = (uint8_t)((n + 8) >> 8);
    buf[25] = (uint8_t)(n + 8);
    memcpy(buf + 28, payload, n);
    struct frame f = { ts, (uint32_t)(n + 28), (uint32_t)(n + 28), DLT_RAW, buf };
    engine_frame(e, &f, 0);
}

/* An RTP packet: version 2, pt, seq, ts, ssrc, then payload bytes. */
static size_t mw_rtp_pkt(uint8_t *b, uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc,
                         const uint8_t *payload, size_t n)
{
    b[0] = 0x80;
    b[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        b[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        b[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    memcpy(b + 12, payload, n);
    return 12 + n;
}

#define IP_A 0x0a000001u /* 10.0.0.1 caller */
#define IP_B 0x0a000002u /* 10.0.0.2 callee */

static void mw_sip(struct engine *e, uint64_t ts, bool from_a, const char *text)
{
    mw_udp(e, ts, from_a ? IP_A : IP_B, 5060, from_a ? IP_B : IP_A, 5060, text, strlen(text));
}

#define MW_HDRS(cseq, tag)                                                                \
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" cseq "\r\n"                        \
    "From: <sip:100@10.0.0.1>;tag=a1\r\nTo: <sip:200@10.0.0.2>" tag "\r\n"              \
    "Call-ID: mw-call-1@10.0.0.1\r\nCSeq: " cseq "\r\n"

#define SDP_A                                                                             \
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"             \
    "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"                             \
    "a=rtpmap:101 telephone-event/8000\r\n"

#define SDP_B                                                                             \
    "v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"             \
    "m=audio 6000 RTP/AVP 8 96\r\na=rtpmap:8 PCMA/8000\r\n"                              \
    "a=rtpmap:96 telephone-event/8000\r\nm=image 0 udptl t38\r\n"

static char *mw_fmt(const char *start, const char *hdrs, const char *ctype, const char *body)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s\r\n%s%s%s%sContent-Length: %zu\r\n\r\n%s", start, hdrs,
             ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", strlen(body), body);
    return buf;
}

/*
 * One call: INVITE with SDP (caller 10.0.0.1:4000, PCMU + events 101), a 200
 * whose SDP is inside multipart/mixed (callee 10.0.0.2:6000, PCMA + events
 * 96), RTP both ways with one packet lost, an RFC 4733 '5' from the callee,
 * a SIP INFO '7' (dtmf-relay), another RFC 4733 '#' (dtmf), then BYE.
 */
static void mw_call_flow(struct engine *e, uint64_t t0, unsigned caller_packets)
{
    mw_sip(e, t0, true, mw_fmt("INVITE sip:200@10.0.0.2 SIP/2.0", MW_HDRS("1 INVITE", ""), "application/sdp", SDP_A));
    mw_sip(e, t0 + 1000, false,
           mw_fmt("SIP/2.0 200 OK", MW_HDRS("1 INVITE", ";tag=b2"), "multipart/mixed;boundary=XyZ",
                  "--XyZ\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
                  "--XyZ\r\nContent-Type: application/sdp\r\n\r\n" SDP_B "\r\n--XyZ--\r\n"));
    mw_sip(e, t0 + 2000, true, mw_fmt("ACK sip:200@10.0.0.2 SIP/2.0", MW_HDRS("1 ACK", ";tag=b2"), NULL, ""));
    uint8_t pl[160], pkt[256];
    memset(pl, 0xff, sizeof pl);
    /* caller -> callee's 6000: PCMA; seq 10 missing */
    for (unsigned i = 0; i < caller_packets; i++) {
        if (i == 10)
            continue;
        size_t n = mw_rtp_pkt(pkt, 8, i == 0, (uint16_t)(100 + i), 1000 + 160 * i, 0xAAAA0001, pl, sizeof pl);
        mw_udp(e, t0 + 10000 + 20000ull * i, IP_A, 4000, IP_B, 6000, pkt, n);
    }
    /* callee -> caller's 4000: PCMU, then an RFC 4733 '5' (PT 101), */
    for (unsigned i = 0; i < 5; i++) {
        size_t n = mw_rtp_pkt(pkt, 0, false, (uint16_t)(7 + i), 5000 + 160 * i, 0xBBBB0002, pl, sizeof pl);
        mw_udp(e, t0 + 11000 + 20000ull * i, IP_B, 6000, IP_A, 4000, pkt, n);
    }
    uint8_t ev[4] = { 5, 0x0a, 0, 0 };
    for (unsigned i = 0; i < 4; i++) {
        ev[1] = i == 3 ? 0x8a : 0x0a; /* end bit on the last */
        ev[3] = (uint8_t)(160 * (i + 1));
        size_t n = mw_rtp_pkt(pkt, 101, i == 0, (uint16_t)(12 + i), 5800, 0xBBBB0002, ev, 4);
        mw_udp(e, t0 + 120000 + 20000ull * i, IP_B, 6000, IP_A, 4000, pkt, n);
    }
    /* SIP INFO '7' after the '5' */
    mw_sip(e, t0 + 300000, true,
           mw_fmt("INFO sip:200@10.0.0.2 SIP/2.0", MW_HDRS("2 INFO", ";tag=b2"), "application/dtmf-relay",
                  "Signal= 7\r\nDuration= 160\r\n"));
    mw_sip(e, t0 + 301000, true,
           mw_fmt("INFO sip:200@10.0.0.2 SIP/2.0", MW_HDRS("3 INFO", ";tag=b2"), "application/dtmf", "#"));
    mw_sip(e, t0 + 400000, true, mw_fmt("BYE sip:200@10.0.0.2 SIP/2.0", MW_HDRS("4 BYE", ";tag=b2"), NULL, ""));
    mw_sip(e, t0 + 401000, false, mw_fmt("SIP/2.0 200 OK", MW_HDRS("4 BYE", ";tag=b2"), NULL, ""));
}

static const struct media_stream *mw_find(const struct mw_rec *r, uint32_t ssrc)
{
    for (unsigned i = 0; i < r->n_rtp && i < MW_MAX; i++)
        if (r->rtp[i].ssrc == ssrc)
            return &r->rtp[i];
    return NULL;
}

TEST(media_wiring_sdp_streams_and_call)
{
    struct mw_rec *r = calloc(1, sizeof *r);
    struct sink sk = { &mw_ops, r };
    char err[256] = "";
    struct engine *e = engine_new(&sk, 1, NULL, err, sizeof err);
    CHECK(e != NULL);
    if (!e || !r) {
        free(r);
        return;
    }
    mw_call_flow(e, 1700000000000000ull, 20);
    engine_finish(e);
    CHECK_EQ_INT(r->n_rtp, 2);
    const struct media_stream *a = mw_find(r, 0xAAAA0001), *b = mw_find(r, 0xBBBB0002);
    CHECK(a && b);
    if (a && b) {
        /* announced: no probation, every packet counts, the call is known */
        CHECK_EQ_INT(a->packets, 19);
        CHECK_EQ_INT(a->lost, 1);
        CHECK_EQ_INT(a->bytes, 19 * 160);
        CHECK_STR(a->codec, "PCMA");
        CHECK_EQ_INT(a->payload_type, 8);
        CHECK(a->from_sdp);
        CHECK_STR(a->call_id, "mw-call-1@10.0.0.1");
        CHECK_EQ_INT(b->packets, 9);
        CHECK_EQ_INT(b->lost, 0);
        CHECK_STR(b->codec, "PCMU");
        CHECK_STR(b->dtmf, "5");
        CHECK_STR(b->call_id, "mw-call-1@10.0.0.1");
        CHECK_EQ_INT(engine_counters(e)->rtp_packets, 28);
    }
    CHECK_EQ_INT(r->n_calls, 1);
    /* RFC 4733 '5', then INFO '7' and '#', in time order */
    CHECK_STR(r->call_dtmf, "57#");
    CHECK_EQ_INT(r->n_call_streams, 2);
    if (a && b && r->n_call_streams == 2) {
        CHECK_EQ_INT(r->call_streams[0], a->id);
        CHECK_EQ_INT(r->call_streams[1], b->id);
    }
    CHECK_EQ_INT(r->order, 0); /* the BYE's 200 ended the call before its streams */
    engine_free(e);
    free(r);
}

/* A one-packet stream is a stream when SDP announced it (no probation);
 * without SIP the same packet is nothing. */
TEST(media_wiring_single_packet_needs_sdp)
{
    for (int with_sip = 0; with_sip < 2; with_sip++) {
        struct mw_rec *r = calloc(1, sizeof *r);
        struct sink sk = { &mw_ops, r };
        char err[256] = "";
        struct engine *e = engine_new(&sk, 1, NULL, err, sizeof err);
        if (!e || !r) {
            CHECK(0);
            free(r);
            engine_free(e);
            return;
        }
        uint64_t t0 = 1700000000000000ull;
        if (with_sip)
            mw_sip(e, t0, true, mw_fmt("INVITE sip:200@10.0.0.2 SIP/2.0", MW_HDRS("1 INVITE", ""),
                                       "application/sdp", SDP_A));
        uint8_t pl[20] = { 0 }, pkt[64];
        size_t n = mw_rtp_pkt(pkt, 0, false, 1, 1, 0x12345678, pl, sizeof pl);
        mw_udp(e, t0 + 5000, IP_B, 7000, IP_A, 4000, pkt, n);
        engine_finish(e);
        CHECK_EQ_INT(r->n_rtp, with_sip ? 1 : 0);
        if (with_sip && r->n_rtp == 1) {
            CHECK_EQ_INT(r->rtp[0].packets, 1);
            CHECK_STR(r->rtp[0].codec, "PCMU");
            /* the call, open at the end, is flushed after its stream ended */
            CHECK_EQ_INT(r->n_calls, 1);
            CHECK_EQ_INT(r->order, 1);
            CHECK_EQ_INT(r->n_call_streams, 1);
        }
        engine_free(e);
        free(r);
    }
}

/* A declined stream (port 0) and T.38 (udptl) announce nothing: packets to
 * them are left to the heuristics, which want more than one packet. */
TEST(media_wiring_declined_and_udptl_not_announced)
{
    struct mw_rec *r = calloc(1, sizeof *r);
    struct sink sk = { &mw_ops, r };
    char err[256] = "";
    struct engine *e = engine_new(&sk, 1, NULL, err, sizeof err);
    if (!e || !r) {
        CHECK(0);
        free(r);
        engine_free(e);
        return;
    }
    uint64_t t0 = 1700000000000000ull;
    mw_sip(e, t0, true,
           mw_fmt("INVITE sip:200@10.0.0.2 SIP/2.0", MW_HDRS("1 INVITE", ""), "application/sdp",
                  "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                  "m=audio 0 RTP/AVP 0\r\nm=image 4002 udptl t38\r\n"));
    uint8_t pl[20] = { 0 }, pkt[64];
    size_t n = mw_rtp_pkt(pkt, 0, false, 1, 1, 0x12345678, pl, sizeof pl);
    mw_udp(e, t0 + 5000, IP_B, 7000, IP_A, 4002, pkt, n);
    engine_finish(e);
    CHECK_EQ_INT(r->n_rtp, 0);
    engine_free(e);
    free(r);
}

TEST(media_wiring_info_dtmf_bodies)
{
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), SL_LIT("Signal=5\r\nDuration=160\r\n")), '5');
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("Application/DTMF-Relay ; x=y"), SL_LIT("Duration= 180\r\nSignal= #")), '#');
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), SL_LIT("signal=11\r\n")), '#');
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), SL_LIT("Signal=10")), '*');
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), SL_LIT("Signal=d")), 'D');
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf"), SL_LIT("9\r\n")), '9');
    /* not DTMF: other types, empty or unknown signals, no Signal line */
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("text/plain"), SL_LIT("Signal=5")), 0);
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), SL_LIT("Signal=\r\n")), 0);
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), SL_LIT("Signal=55")), 0);
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), SL_LIT("Duration=160")), 0);
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf"), SL_LIT("")), 0);
    CHECK_EQ_INT(dlg_info_dtmf(SL_NULL, SL_NULL), 0);
    /* a NUL inside the value is not a key */
    CHECK_EQ_INT(dlg_info_dtmf(SL_LIT("application/dtmf-relay"), sl_make("Signal=5\0", 9)), 0);
}
