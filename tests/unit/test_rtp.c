/*
 * test_rtp.c - RTP/RTCP/RFC 4733 parsing (dissect/rtp.h) and the stream table
 * (dissect/media.h): hand-built packets with known figures, hostile and
 * look-alike datagrams (DNS, QUIC, STUN, DTLS, NTP, SSDP, random), and the
 * public captures against the figures tshark 4.0 gives for them
 * (tshark -q -n -r FILE -o rtp.heuristic_rtp:TRUE -z rtp,streams).
 */
#include "test.h"

#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "../../capture/decode.h"
#include "../../capture/input.h"
#include "../../dissect/media.h"
#include "../../dissect/rtp.h"

#define PUB "pcaps/public/"

/* ---- building packets --------------------------------------------------- */

struct pb {
    uint8_t b[1600];
    size_t n;
};

static void p8(struct pb *b, uint8_t v)
{
    if (b->n < sizeof b->b)
        b->b[b->n++] = v;
}

static void p16(struct pb *b, uint16_t v)
{
    p8(b, (uint8_t)(v >> 8));
    p8(b, (uint8_t)v);
}

static void p32(struct pb *b, uint32_t v)
{
    p16(b, (uint16_t)(v >> 16));
    p16(b, (uint16_t)v);
}

static void pbytes(struct pb *b, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p8(b, ((const uint8_t *)p)[i]);
}

static struct slice pbs(const struct pb *b) { return sl_make(b->b, b->n); }

/* A plain RTP packet: version 2, no padding/extension/CSRC, payload_len bytes of 0xd5. */
static struct pb rtp_pkt(uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc, size_t payload_len)
{
    struct pb b = { .n = 0 };
    p8(&b, 0x80);
    p8(&b, (uint8_t)((marker ? 0x80 : 0) | pt));
    p16(&b, seq);
    p32(&b, ts);
    p32(&b, ssrc);
    for (size_t i = 0; i < payload_len; i++)
        p8(&b, 0xd5);
    return b;
}

/* An RFC 4733 event packet. */
static struct pb ev_pkt(uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc, uint8_t event,
                        bool end, uint16_t duration)
{
    struct pb b = rtp_pkt(pt, marker, seq, ts, ssrc, 0);
    p8(&b, event);
    p8(&b, (uint8_t)((end ? 0x80 : 0) | 10));
    p16(&b, duration);
    return b;
}

static struct l4_meta meta(const char *src, uint16_t sport, const char *dst, uint16_t dport, uint64_t us)
{
    struct l4_meta m = { .ts_us = us, .sport = sport, .dport = dport, .proto = IPPROTO_UDP };
    ip_parse(src, &m.src);
    ip_parse(dst, &m.dst);
    return m;
}

static struct ip_addr ip(const char *s)
{
    struct ip_addr a;
    ip_parse(s, &a);
    return a;
}

/* ---- recording ended streams ------------------------------------------- */

#define REC_MAX 16

static struct media_stream ended[REC_MAX];
static unsigned n_ended;

static void on_end(void *ctx, const struct media_stream *s)
{
    (void)ctx;
    if (n_ended < REC_MAX)
        ended[n_ended] = *s;
    n_ended++;
}

static struct media *mk_media(bool heuristic)
{
    struct media_cfg c;
    media_default_cfg(&c);
    c.heuristic = heuristic;
    c.on_stream_end = on_end;
    n_ended = 0;
    memset(ended, 0, sizeof ended);
    return media_new(&c);
}

static const struct media_stream *ended_ssrc(uint32_t ssrc)
{
    for (unsigned i = 0; i < n_ended && i < REC_MAX; i++)
        if (ended[i].ssrc == ssrc)
            return &ended[i];
    return NULL;
}

#define NEAR(a, b, tol) (fabs((double)(a) - (double)(b)) <= (tol))
#define CHECK_NEAR(a, b, tol)                                                                 \
    do {                                                                                      \
        double _a = (a), _b = (b);                                                            \
        if (!NEAR(_a, _b, (tol))) {                                                           \
            fprintf(stderr, "  %s:%d: %s == %.6f, expected %.6f (+-%g)\n", __FILE__, __LINE__, \
                    #a, _a, _b, (double)(tol));                                               \
            test_failed_checks++;                                                             \
        }                                                                                     \
    } while (0)

/* ---- rtp.h: RTP ---------------------------------------------------------- */

TEST(rtp_parse_every_field)
{
    /* V=2 P X CC=2, M, PT 8; two CSRCs; RFC 8285 one-byte extension of one
     * word; 6 payload bytes; 3 bytes of padding (RFC 3550 §5.1, §5.3.1). */
    struct pb b = { .n = 0 };
    p8(&b, 0x80 | 0x20 | 0x10 | 2);
    p8(&b, 0x80 | 8);
    p16(&b, 0x1234);
    p32(&b, 0xdeadbeef);
    p32(&b, 0x01020304);
    p32(&b, 0x11111111);
    p32(&b, 0x22222222);
    p16(&b, 0xbede);
    p16(&b, 1);
    p32(&b, 0x10aabbcc);
    pbytes(&b, "abcdef", 6);
    pbytes(&b, "\0\0\3", 3);
    struct rtp_hdr h;
    const char *why = NULL;
    CHECK(rtp_parse(pbs(&b), &h, &why));
    CHECK(h.padding && h.extension && h.marker);
    CHECK_EQ_INT(h.cc, 2);
    CHECK_EQ_INT(h.pt, 8);
    CHECK_EQ_INT(h.seq, 0x1234);
    CHECK_EQ_INT(h.ts, 0xdeadbeef);
    CHECK_EQ_INT(h.ssrc, 0x01020304);
    CHECK_EQ_INT(rtp_csrc(&h, 0), 0x11111111);
    CHECK_EQ_INT(rtp_csrc(&h, 1), 0x22222222);
    CHECK_EQ_INT(rtp_csrc(&h, 2), 0);
    CHECK_EQ_INT(h.ext_profile, 0xbede);
    CHECK_EQ_INT(h.ext.n, 4);
    CHECK_EQ_INT(h.ext.p[0], 0x10);
    CHECK_EQ_INT(h.pad_len, 3);
    CHECK_SL(h.payload, "abcdef");

    /* the smallest: a bare header, empty payload */
    struct pb e = rtp_pkt(0, false, 1, 2, 3, 0);
    CHECK(rtp_parse(pbs(&e), &h, NULL));
    CHECK_EQ_INT(h.payload.n, 0);
    CHECK(!h.marker && !h.padding && h.cc == 0);
}

TEST(rtp_parse_hostile)
{
    struct rtp_hdr h;
    const char *why;
    struct pb b = rtp_pkt(0, false, 1, 2, 3, 20);

    CHECK(!rtp_parse(sl_make(b.b, 11), &h, &why));
    CHECK_STR(why, "short");
    CHECK(!rtp_parse(SL_NULL, &h, &why));
    b.b[0] = 0x40; /* version 1 */
    CHECK(!rtp_parse(pbs(&b), &h, &why));
    CHECK_STR(why, "version");
    b.b[0] = 0xc0; /* version 3 */
    CHECK(!rtp_parse(pbs(&b), &h, &why));

    b.b[0] = 0x8f; /* 15 CSRCs = 60 bytes, only 20 there */
    CHECK(!rtp_parse(pbs(&b), &h, &why));
    CHECK_STR(why, "csrc");
    b.b[0] = 0x85; /* 5 CSRCs = exactly the 20 bytes: valid, empty payload */
    CHECK(rtp_parse(pbs(&b), &h, &why));
    CHECK_EQ_INT(h.payload.n, 0);

    /* extension header claims 0xffff words */
    struct pb x = rtp_pkt(0, false, 1, 2, 3, 0);
    x.b[0] = 0x90;
    p16(&x, 0xbede);
    p16(&x, 0xffff);
    p32(&x, 0);
    CHECK(!rtp_parse(pbs(&x), &h, &why));
    CHECK_STR(why, "extension");
    x.n = RTP_HDR_LEN + 2; /* extension header itself cut */
    CHECK(!rtp_parse(pbs(&x), &h, &why));

    /* padding: zero count, more than the payload, exactly the payload */
    struct pb p = rtp_pkt(0, false, 1, 2, 3, 4);
    p.b[0] = 0xa0;
    p.b[p.n - 1] = 0;
    CHECK(!rtp_parse(pbs(&p), &h, &why));
    CHECK_STR(why, "padding");
    p.b[p.n - 1] = 5;
    CHECK(!rtp_parse(pbs(&p), &h, &why));
    p.b[p.n - 1] = 4;
    CHECK(rtp_parse(pbs(&p), &h, &why));
    CHECK_EQ_INT(h.payload.n, 0);
    CHECK_EQ_INT(h.pad_len, 4);
    /* a header alone with P set: the count byte is in the SSRC */
    struct pb q = rtp_pkt(0, false, 1, 2, 0x000000ff, 0);
    q.b[0] = 0xa0;
    CHECK(!rtp_parse(pbs(&q), &h, &why));
}

TEST(rtp_event_payload)
{
    /* RFC 4733 §2.3: event 5, E=1, R=0, volume 10, duration 320 */
    static const uint8_t p[] = { 5, 0x80 | 10, 0x01, 0x40 };
    struct rtp_event ev;
    CHECK(rtp_event_parse(sl_make(p, 4), &ev));
    CHECK_EQ_INT(ev.event, 5);
    CHECK(ev.end);
    CHECK_EQ_INT(ev.volume, 10);
    CHECK_EQ_INT(ev.duration, 320);
    static const uint8_t r[] = { 11, 0x40 | 63, 0xff, 0xff }; /* R bit set: ignored */
    CHECK(rtp_event_parse(sl_make(r, 4), &ev));
    CHECK(!ev.end);
    CHECK_EQ_INT(ev.volume, 63);
    CHECK_EQ_INT(ev.duration, 65535);
    CHECK(!rtp_event_parse(sl_make(p, 3), &ev));

    /* §3.2 table 1 */
    CHECK_EQ_INT(rtp_event_digit(0), '0');
    CHECK_EQ_INT(rtp_event_digit(9), '9');
    CHECK_EQ_INT(rtp_event_digit(10), '*');
    CHECK_EQ_INT(rtp_event_digit(11), '#');
    CHECK_EQ_INT(rtp_event_digit(12), 'A');
    CHECK_EQ_INT(rtp_event_digit(15), 'D');
    CHECK_EQ_INT(rtp_event_digit(16), '!');
    CHECK_EQ_INT(rtp_event_digit(17), 0);
    CHECK_EQ_INT(rtp_event_digit(32), 0); /* a fax tone is not a key */
    CHECK_EQ_INT(rtp_event_digit(255), 0);
}

/* ---- rtp.h: RTCP --------------------------------------------------------- */

static void rtcp_hdr(struct pb *b, bool pad, uint8_t count, uint8_t pt, uint16_t words)
{
    p8(b, (uint8_t)(0x80 | (pad ? 0x20 : 0) | count));
    p8(b, pt);
    p16(b, words);
}

static void report_block(struct pb *b, uint32_t ssrc, uint8_t fraction, uint32_t cum24, uint32_t ext_seq,
                         uint32_t jitter, uint32_t lsr, uint32_t dlsr)
{
    p32(b, ssrc);
    p32(b, (uint32_t)fraction << 24 | (cum24 & 0xffffff));
    p32(b, ext_seq);
    p32(b, jitter);
    p32(b, lsr);
    p32(b, dlsr);
}

/* SR with one block + SDES with two chunks + BYE with a reason. */
static struct pb compound(void)
{
    struct pb b = { .n = 0 };
    rtcp_hdr(&b, false, 1, RTCP_SR, 12); /* 4 + 20 + 24 = 48 bytes after the header */
    p32(&b, 0xaaaa0001);
    p32(&b, 0xe5000000); /* NTP seconds */
    p32(&b, 0x80000000); /* NTP fraction */
    p32(&b, 160000);
    p32(&b, 1000);
    p32(&b, 160000);
    report_block(&b, 0xbbbb0002, 64, 0xfffffe, 0x0001fff0, 80, 0x12345678, 65536);
    /* SDES: chunk 1 = CNAME "a@h" + NOTE "x" + END (4+2+3+2+1+1 = 13 -> 16);
     * chunk 2 = NOTE only (4+2+2+1 = 9 -> 12). 28 bytes = 7 words. */
    rtcp_hdr(&b, false, 2, RTCP_SDES, 7);
    p32(&b, 0xaaaa0001);
    p8(&b, RTCP_SDES_CNAME);
    p8(&b, 3);
    pbytes(&b, "a@h", 3);
    p8(&b, 7);
    p8(&b, 1);
    p8(&b, 'x');
    p32(&b, 0); /* END and 3 bytes to the boundary */
    p32(&b, 0xcccc0003);
    p8(&b, 7);
    p8(&b, 2);
    pbytes(&b, "no", 2);
    p8(&b, 0);
    p8(&b, 0);
    p8(&b, 0);
    p8(&b, 0);
    /* BYE: one SSRC, reason "gone" (1+4 bytes, padded to 8) = 12 bytes, 3 words */
    rtcp_hdr(&b, false, 1, RTCP_BYE, 3);
    p32(&b, 0xaaaa0001);
    p8(&b, 4);
    pbytes(&b, "gone", 4);
    pbytes(&b, "\0\0\0", 3);
    return b;
}

TEST(rtcp_compound_sr_sdes_bye)
{
    struct pb b = compound();
    const char *why = NULL;
    CHECK(rtcp_check(pbs(&b), true, &why));
    CHECK(rtcp_check(pbs(&b), false, &why));

    struct slice rest = pbs(&b);
    struct rtcp_pkt p;
    CHECK(rtcp_next(&rest, &p, &why));
    CHECK_EQ_INT(p.pt, RTCP_SR);
    CHECK_EQ_INT(p.count, 1);
    CHECK_EQ_INT(p.ssrc, 0xaaaa0001);
    CHECK_EQ_INT(p.sr.ntp_sec, 0xe5000000);
    CHECK_EQ_INT(p.sr.ntp_frac, 0x80000000);
    CHECK_EQ_INT(p.sr.rtp_ts, 160000);
    CHECK_EQ_INT(p.sr.packets, 1000);
    CHECK_EQ_INT(p.sr.octets, 160000);
    struct rtcp_report r;
    CHECK(rtcp_report_at(&p, 0, &r));
    CHECK_EQ_INT(r.ssrc, 0xbbbb0002);
    CHECK_EQ_INT(r.fraction_lost, 64);
    CHECK_EQ_INT(r.cum_lost, -2); /* 24-bit two's complement: duplicates */
    CHECK_EQ_INT(r.ext_highest_seq, 0x0001fff0);
    CHECK_EQ_INT(r.jitter, 80);
    CHECK_EQ_INT(r.lsr, 0x12345678);
    CHECK_EQ_INT(r.dlsr, 65536);
    CHECK(!rtcp_report_at(&p, 1, &r));

    CHECK(rtcp_next(&rest, &p, &why));
    CHECK_EQ_INT(p.pt, RTCP_SDES);
    CHECK_EQ_INT(p.count, 2);
    struct slice chunks = p.body;
    uint32_t ssrc;
    struct slice cname;
    CHECK(rtcp_sdes_next(&chunks, &ssrc, &cname));
    CHECK_EQ_INT(ssrc, 0xaaaa0001);
    CHECK_SL(cname, "a@h");
    CHECK(rtcp_sdes_next(&chunks, &ssrc, &cname));
    CHECK_EQ_INT(ssrc, 0xcccc0003);
    CHECK_EQ_INT(cname.n, 0);
    CHECK(!rtcp_sdes_next(&chunks, &ssrc, &cname));

    CHECK(rtcp_next(&rest, &p, &why));
    CHECK_EQ_INT(p.pt, RTCP_BYE);
    CHECK(rtcp_bye_ssrc(&p, 0, &ssrc));
    CHECK_EQ_INT(ssrc, 0xaaaa0001);
    CHECK(!rtcp_bye_ssrc(&p, 1, &ssrc));
    CHECK_SL(rtcp_bye_reason(&p), "gone");

    CHECK(!rtcp_next(&rest, &p, &why));
    CHECK(why == NULL); /* the end, not an error */
}

TEST(rtcp_rr_app_and_padding)
{
    /* RR without blocks + APP "TEST" + padded last packet (A.2 allows it) */
    struct pb b = { .n = 0 };
    rtcp_hdr(&b, false, 0, RTCP_RR, 1);
    p32(&b, 0x0000beef);
    rtcp_hdr(&b, true, 3, RTCP_APP, 4); /* ssrc + name + 4 data + 4 padding */
    p32(&b, 0x0000beef);
    pbytes(&b, "TEST", 4);
    p32(&b, 0x01020304);
    pbytes(&b, "\0\0\0\4", 4);
    CHECK(rtcp_check(pbs(&b), true, NULL));
    struct slice rest = pbs(&b);
    struct rtcp_pkt p;
    CHECK(rtcp_next(&rest, &p, NULL));
    CHECK_EQ_INT(p.pt, RTCP_RR);
    CHECK_EQ_INT(p.ssrc, 0xbeef);
    CHECK_EQ_INT(p.reports.n, 0);
    CHECK(rtcp_next(&rest, &p, NULL));
    CHECK_EQ_INT(p.pt, RTCP_APP);
    CHECK_EQ_INT(p.count, 3);
    CHECK(p.padding);
    CHECK_SL(p.app_name, "TEST");
    CHECK_EQ_INT(p.body.n, 12); /* padding removed */
    CHECK(!rtcp_next(&rest, &p, NULL));
}

TEST(rtcp_hostile)
{
    const char *why;
    struct pb good = compound();

    /* A.2: strict wants an SR or RR first; not strict (RFC 5506) does not */
    struct pb sdes = { .n = 0 };
    rtcp_hdr(&sdes, false, 0, RTCP_SDES, 0);
    CHECK(!rtcp_check(pbs(&sdes), true, &why));
    CHECK_STR(why, "first type");
    CHECK(rtcp_check(pbs(&sdes), false, &why));

    /* lengths must add up exactly: a byte more, a byte less */
    struct pb more = good;
    p8(&more, 0);
    CHECK(!rtcp_check(pbs(&more), true, &why));
    CHECK(!rtcp_check(sl_make(good.b, good.n - 1), false, &why));
    CHECK_STR(why, "length");
    /* padding on a packet that is not the last */
    struct pb pad = good;
    pad.b[0] |= 0x20;
    CHECK(!rtcp_check(pbs(&pad), false, &why));
    /* a later packet with version 1 */
    struct pb ver = good;
    ver.b[52] = 0x42;
    CHECK(!rtcp_check(pbs(&ver), false, &why));
    CHECK_STR(why, "version");
    CHECK(!rtcp_check(sl_make(good.b, 3), false, &why));
    CHECK_STR(why, "short");

    /* an RR promising 3 blocks with room for 1: the one that fits is readable */
    struct pb rr = { .n = 0 };
    rtcp_hdr(&rr, false, 3, RTCP_RR, 7);
    p32(&rr, 1);
    report_block(&rr, 2, 0, 5, 100, 0, 0, 0);
    struct slice rest = pbs(&rr);
    struct rtcp_pkt p;
    CHECK(!rtcp_next(&rest, &p, &why));
    CHECK_STR(why, "report count");
    struct rtcp_report r;
    CHECK(rtcp_report_at(&p, 0, &r));
    CHECK_EQ_INT(r.cum_lost, 5);
    CHECK(!rtcp_report_at(&p, 1, &r));
    /* an SR too short for its sender info */
    struct pb sr = { .n = 0 };
    rtcp_hdr(&sr, false, 0, RTCP_SR, 2);
    p32(&sr, 1);
    p32(&sr, 2);
    rest = pbs(&sr);
    CHECK(!rtcp_next(&rest, &p, &why));
    CHECK_STR(why, "short");
    /* a length past the datagram */
    struct pb big = { .n = 0 };
    rtcp_hdr(&big, false, 0, RTCP_RR, 0xffff);
    p32(&big, 1);
    rest = pbs(&big);
    CHECK(!rtcp_next(&rest, &p, &why));
    CHECK_STR(why, "length");
    CHECK_EQ_INT(rest.n, 0);

    /* SDES item whose length runs past the packet; BYE reason too long */
    static const uint8_t item[] = { 0, 0, 0, 1, RTCP_SDES_CNAME, 200, 'a', 'b' };
    struct slice chunks = sl_make(item, sizeof item);
    uint32_t ssrc;
    struct slice cname;
    CHECK(!rtcp_sdes_next(&chunks, &ssrc, &cname));
    CHECK_EQ_INT(chunks.n, 0);
    struct pb bye = { .n = 0 };
    rtcp_hdr(&bye, false, 1, RTCP_BYE, 2);
    p32(&bye, 7);
    p8(&bye, 50);
    pbytes(&bye, "abc", 3);
    rest = pbs(&bye);
    CHECK(rtcp_next(&rest, &p, &why));
    CHECK_EQ_INT(rtcp_bye_reason(&p).n, 0);
    /* BYE count larger than the body */
    bye.b[0] = 0x80 | 5;
    rest = pbs(&bye);
    CHECK(rtcp_next(&rest, &p, &why));
    CHECK(rtcp_bye_ssrc(&p, 0, &ssrc) && ssrc == 7);
    CHECK(!rtcp_bye_ssrc(&p, 2, &ssrc));
}

/* ---- reading captures --------------------------------------------------- */

typedef void (*udp_fn)(void *ctx, const struct l4_meta *m, struct slice p);

/* Every UDP datagram of a capture to fn; frames read, or -1. */
static long run_pcap(const char *path, udp_fn fn, void *ctx)
{
    struct l4_handler h = { ctx, fn, NULL, NULL, NULL };
    struct capture_stats st = { 0 };
    struct decoder *d = decoder_new(&h, NULL, &st);
    char err[256];
    struct input *in = input_open(path, NULL, err, sizeof err);
    if (!in || !d) {
        fprintf(stderr, "  %s: %s\n", path, in ? "decoder" : err);
        if (in)
            input_close(in);
        decoder_free(d);
        return -1;
    }
    struct frame f;
    long n = 0;
    while (input_next(in, &f, err, sizeof err) == 1)
        decode_frame(d, &f, 0, (uint64_t)++n);
    input_close(in);
    decoder_free(d);
    return n;
}

struct rtcp_seen {
    unsigned datagrams, strict_ok, sr, rr, sdes, other;
    char cname[2][32];
    struct rtcp_report last_rr;
    uint32_t last_sr_packets;
    unsigned media_true;
    struct media *m;
};

static void rtcp_udp(void *ctx, const struct l4_meta *m, struct slice d)
{
    struct rtcp_seen *s = ctx;
    s->datagrams++;
    if (rtcp_check(d, true, NULL))
        s->strict_ok++;
    struct slice rest = d;
    struct rtcp_pkt p;
    while (rtcp_next(&rest, &p, NULL)) {
        if (p.pt == RTCP_SR) {
            s->sr++;
            s->last_sr_packets = p.sr.packets;
        } else if (p.pt == RTCP_RR) {
            s->rr++;
            rtcp_report_at(&p, 0, &s->last_rr);
        } else if (p.pt == RTCP_SDES) {
            s->sdes++;
            struct slice c = p.body, cname;
            uint32_t ssrc;
            if (rtcp_sdes_next(&c, &ssrc, &cname))
                sl_copy(cname, s->cname[ssrc == 0x01932db4], sizeof s->cname[0]);
        } else {
            s->other++;
        }
    }
    if (media_on_udp(s->m, m, d))
        s->media_true++;
}

TEST(rtcp_ndpi_compound_capture)
{
    /* nDPI's capture: Linux cooked (SLL), SR+SDES and RR+SDES compounds
     * between two odd ports; figures as tshark -V shows them. */
    struct rtcp_seen s = { 0 };
    s.m = mk_media(true);
    CHECK(s.m != NULL);
    if (!s.m)
        return;
    CHECK_EQ_INT(run_pcap(PUB "ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap", rtcp_udp, &s), 5);
    CHECK_EQ_INT(s.datagrams, 5);
    CHECK_EQ_INT(s.strict_ok, 5);
    CHECK_EQ_INT(s.sr, 3);
    CHECK_EQ_INT(s.rr, 2);
    CHECK_EQ_INT(s.sdes, 5);
    CHECK_EQ_INT(s.other, 0);
    CHECK_STR(s.cname[0], "5d931534");
    CHECK_STR(s.cname[1], "1932db4");
    CHECK_EQ_INT(s.last_sr_packets, 602); /* frame 5 */
    /* frame 4: RR about 0x5d931534 */
    CHECK_EQ_INT(s.last_rr.ssrc, 0x5d931534);
    CHECK_EQ_INT(s.last_rr.fraction_lost, 0);
    CHECK_EQ_INT(s.last_rr.cum_lost, 1);
    CHECK_EQ_INT(s.last_rr.ext_highest_seq, 49035);
    CHECK_EQ_INT(s.last_rr.jitter, 6);
    CHECK_EQ_INT(s.last_rr.lsr, 0xc1704d61);
    CHECK_EQ_INT(s.last_rr.dlsr, 263452);
    /* the stream table takes them as RTCP (A.2 holds), with no RTP stream */
    CHECK_EQ_INT(s.media_true, 5);
    const struct media_stats *st = media_stats(s.m);
    CHECK_EQ_INT(st->rtcp_packets, 5);
    CHECK_EQ_INT(st->rtcp_reports, 5);
    CHECK_EQ_INT(st->streams, 0);
    media_finish(s.m);
    CHECK_EQ_INT(n_ended, 0);
    media_free(s.m);
}

/* ---- media.h: SDP-announced streams ------------------------------------ */

#define A_IP "10.0.0.1"
#define B_IP "10.0.0.2"

TEST(media_sdp_stream_loss_reorder_duplicate)
{
    struct media *m = mk_media(false);
    CHECK(m != NULL);
    if (!m)
        return;
    struct ip_addr b = ip(B_IP);
    media_expect(m, &b, 20000, 8000, 8, SL_LIT("PCMA"), SL_LIT("call-1@host"), 0);
    media_expect(m, &b, 20000, 8000, 101, SL_LIT("telephone-event"), SL_LIT("call-1@host"), 0);

    /* 50 packets, seq 1000..1049 every 20 ms; 1010-1011 lost; 1021 before
     * 1020; 1030 twice. Send index i gives the arrival time. */
    uint16_t order[64];
    unsigned n = 0;
    for (uint16_t q = 1000; q < 1050; q++) {
        if (q == 1010 || q == 1011)
            continue;
        if (q == 1020) {
            order[n++] = 1021;
            order[n++] = 1020;
            q++;
            continue;
        }
        order[n++] = q;
        if (q == 1030)
            order[n++] = 1030;
    }
    uint64_t t0 = 1000000000000000ull;
    unsigned accepted = 0;
    for (unsigned i = 0; i < n; i++) {
        struct pb p = rtp_pkt(8, false, order[i], (uint32_t)(order[i] - 1000) * 160u, 0x1111, 160);
        struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t0 + (uint64_t)i * 20000);
        if (media_on_udp(m, &mt, pbs(&p)))
            accepted++;
    }
    CHECK_EQ_INT(accepted, n); /* announced: no probation, the first packet counts */

    /* RTCP on port+1: an RR from B about 0x1111, SDES + BYE from A */
    struct pb rr = { .n = 0 };
    rtcp_hdr(&rr, false, 1, RTCP_RR, 7);
    p32(&rr, 0x2222);
    report_block(&rr, 0x1111, 64, 2, 1049, 80, 0, 0);
    struct l4_meta mt = meta(B_IP, 20001, A_IP, 30001, t0 + 2000000);
    CHECK(media_on_udp(m, &mt, pbs(&rr)));
    struct pb sd = { .n = 0 };
    rtcp_hdr(&sd, false, 0, RTCP_RR, 1);
    p32(&sd, 0x1111);
    rtcp_hdr(&sd, false, 1, RTCP_SDES, 3);
    p32(&sd, 0x1111);
    p8(&sd, RTCP_SDES_CNAME);
    p8(&sd, 5);
    pbytes(&sd, "alice", 5);
    p8(&sd, 0);
    rtcp_hdr(&sd, false, 1, RTCP_BYE, 1);
    p32(&sd, 0x1111);
    mt = meta(A_IP, 30001, B_IP, 20001, t0 + 2000001);
    CHECK(media_on_udp(m, &mt, pbs(&sd)));

    media_finish(m);
    CHECK_EQ_INT(n_ended, 1);
    const struct media_stream *s = &ended[0];
    CHECK_EQ_INT(s->id, 1);
    CHECK_EQ_INT(s->ssrc, 0x1111);
    CHECK(ip_eq(&s->src_ip, &(struct ip_addr){ 0 }) == false);
    CHECK_EQ_INT(s->src_port, 30000);
    CHECK_EQ_INT(s->dest_port, 20000);
    CHECK_STR(s->call_id, "call-1@host");
    CHECK(s->from_sdp);
    CHECK_EQ_INT(s->payload_type, 8);
    CHECK_STR(s->codec, "PCMA");
    CHECK_EQ_INT(s->clock_rate, 8000);
    CHECK_EQ_INT(s->packets, 49);
    CHECK_EQ_INT(s->bytes, 49 * 160);
    /* RFC 3550 A.3: expected 50, received 49 (48 distinct + a duplicate) */
    CHECK_EQ_INT(s->lost, 1);
    CHECK_EQ_INT(s->duplicates, 1);
    CHECK_EQ_INT(s->out_of_order, 1);
    CHECK_EQ_INT(s->start_us, t0);
    CHECK_EQ_INT(s->end_us, t0 + (uint64_t)(n - 1) * 20000);
    /* 1009 -> 1012 arrive 20 ms apart (60 ms of timestamps). The late 1020
     * is no reference (as in tshark), so 1022 comes 40 ms after 1021. */
    CHECK_NEAR(s->max_delta_ms, 40.0, 1e-9);
    CHECK(s->jitter_ms > 0);
    CHECK_EQ_INT(s->rtcp.reports, 1);
    CHECK_NEAR(s->rtcp.fraction_lost, 0.25, 1e-9);
    CHECK_EQ_INT(s->rtcp.cum_lost, 2);
    CHECK_NEAR(s->rtcp.jitter_ms, 10.0, 1e-9); /* 80 units at 8 kHz */
    CHECK_STR(s->rtcp.cname, "alice");
    CHECK(s->rtcp.bye);
    CHECK_STR(s->dtmf, "");
    const struct media_stats *st = media_stats(m);
    CHECK_EQ_INT(st->rtp_packets, 49);
    CHECK_EQ_INT(st->rtcp_packets, 2);
    CHECK_EQ_INT(st->streams, 1);
    CHECK_EQ_INT(st->streams_sdp, 1);
    CHECK_EQ_INT(st->probes, 0);
    media_free(m);
}

TEST(media_jitter_and_delta_exact)
{
    /* RFC 3550 A.8 by hand: packets every 20 ms, ts += 160 (8 kHz); packet
     * 4 (0-based) arrives 10 ms late: D = 10 -> J = 10/16; packet 5 on time:
     * D = -10 -> J += (10 - J)/16; then J decays by 15/16 a packet. Packet
     * 10 comes after 500 ms of silence with the marker bit: not a delta. */
    struct media *m = mk_media(false);
    if (!m)
        return;
    struct ip_addr b = ip(B_IP);
    media_expect(m, &b, 20000, 0, 0, SL_NULL, SL_LIT("j"), 0);    /* PCMU, static clock */
    media_expect(m, &b, 20002, 48000, 111, SL_LIT("opus"), SL_LIT("j"), 0);
    uint64_t t0 = 5000000;
    for (unsigned i = 0; i < 11; i++) {
        uint64_t late = i == 4 ? 10000 : 0;
        uint64_t at = t0 + i * 20000 + late + (i == 10 ? 400000 : 0);
        uint32_t ts = i * 160 + (i == 10 ? 3200 : 0);
        struct pb p = rtp_pkt(0, i == 10, (uint16_t)i, ts, 0xa, 160);
        struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, at);
        CHECK(media_on_udp(m, &mt, pbs(&p)));
        /* the same arrivals as Opus at 48 kHz: the same jitter in ms */
        struct pb o = rtp_pkt(111, i == 10, (uint16_t)i, ts * 6, 0xb, 60);
        mt = meta(A_IP, 30002, B_IP, 20002, at);
        CHECK(media_on_udp(m, &mt, pbs(&o)));
        /* on time, PCMU then Opus from another timestamp base: no D is
         * taken across the change of clock, so no jitter at all */
        uint64_t even = t0 + i * 20000;
        struct pb c = i < 5 ? rtp_pkt(0, false, (uint16_t)i, i * 160, 0xc, 160)
                            : rtp_pkt(111, false, (uint16_t)i, 777777 + (i - 5) * 960, 0xc, 60);
        mt = meta(A_IP, 30004, B_IP, 20002, even);
        CHECK(media_on_udp(m, &mt, pbs(&c)));
    }
    double j = 0, sum = 0, max = 0;
    for (unsigned i = 1; i < 11; i++) {
        double d = i == 4 ? 10 : i == 5 ? -10 : 0;
        j += (fabs(d) - j) / 16;
        if (i != 10) { /* the marker packet is not a regular one */
            sum += j;
            max = j > max ? j : max;
        }
    }
    media_finish(m);
    CHECK_EQ_INT(n_ended, 3);
    const struct media_stream *c = ended_ssrc(0xc);
    CHECK(c && c->jitter_ms == 0 && c->payload_type == 0 && c->packets == 11);
    for (unsigned k = 0; k < 2; k++) {
        const struct media_stream *s = ended_ssrc(k ? 0xb : 0xa);
        CHECK(s != NULL);
        if (!s)
            continue;
        CHECK_NEAR(s->jitter_ms, 1.2109375, 1e-9);
        CHECK_NEAR(s->jitter_ms, max, 1e-9);
        CHECK_NEAR(s->jitter_mean_ms, sum / 9, 1e-9);
        CHECK_NEAR(s->max_delta_ms, 30.0, 1e-9); /* packet 3 -> the late 4 */
        CHECK_EQ_INT(s->lost, 0);
        CHECK_EQ_INT(s->clock_rate, k ? 48000 : 8000);
        CHECK_STR(s->codec, k ? "opus" : "PCMU");
    }
    media_free(m);
}

TEST(media_sequence_wrap_jump_restart)
{
    struct media *m = mk_media(false);
    if (!m)
        return;
    struct ip_addr b = ip(B_IP);
    media_expect(m, &b, 20000, 0, 0, SL_NULL, SL_LIT("w"), 0);
    uint64_t t = 1000000;
    /* 65530 .. 9 across the wrap, 2 lost */
    unsigned sent = 0;
    for (uint32_t q = 65530; q < 65536 + 10; q++) {
        if (q == 65536 + 2)
            continue;
        struct pb p = rtp_pkt(0, false, (uint16_t)q, q * 160u, 0xc, 160);
        struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t += 20000);
        media_on_udp(m, &mt, pbs(&p));
        sent++;
    }
    /* one stray packet far away (A.1: not believed, not counted) */
    struct pb stray = rtp_pkt(0, false, 30000, 0, 0xc, 160);
    struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t += 20000);
    media_on_udp(m, &mt, pbs(&stray));
    /* then the sequence goes on: 10, 11 */
    for (uint32_t q = 10; q < 12; q++) {
        struct pb p = rtp_pkt(0, false, (uint16_t)q, (65536 + q) * 160u, 0xc, 160);
        mt = meta(A_IP, 30000, B_IP, 20000, t += 20000);
        media_on_udp(m, &mt, pbs(&p));
    }
    media_foreach(m, (void (*)(void *, const struct media_stream *))on_end, NULL);
    CHECK_EQ_INT(n_ended, 1);
    CHECK_EQ_INT(ended[0].packets, sent + 3);
    CHECK_EQ_INT(ended[0].lost, 1);
    CHECK_EQ_INT(ended[0].out_of_order, 0);

    /* the sender restarts at 40000 (two in a row): a new run, loss kept */
    for (uint32_t q = 40000; q < 40005; q++) {
        struct pb p = rtp_pkt(0, false, (uint16_t)q, q * 160u, 0xc, 160);
        mt = meta(A_IP, 30000, B_IP, 20000, t += 20000);
        media_on_udp(m, &mt, pbs(&p));
    }
    media_finish(m);
    CHECK_EQ_INT(n_ended, 2);
    CHECK_EQ_INT(ended[1].packets, sent + 3 + 5);
    CHECK_EQ_INT(ended[1].lost, 1);
    CHECK_EQ_INT(ended[1].duplicates, 0);
    media_free(m);
}

/* Send one RFC 4733 event: n_mid packets, then its end packet 3 times
 * (same_seq: SIPp's way, one sequence number; else three). */
static void send_event(struct media *m, uint16_t *seq, uint32_t ts, uint8_t code, unsigned n_mid, bool with_end,
                       bool same_seq, uint64_t *t)
{
    uint16_t dur = 0;
    for (unsigned i = 0; i < n_mid; i++) {
        struct pb p = ev_pkt(101, i == 0, (*seq)++, ts, 0xe, code, false, dur += 160);
        struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, *t += 20000);
        media_on_udp(m, &mt, pbs(&p));
    }
    if (!with_end)
        return;
    for (unsigned i = 0; i < 3; i++) {
        struct pb p = ev_pkt(101, false, same_seq ? *seq : (*seq)++, ts, 0xe, code, true, dur);
        struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, *t += 5000);
        media_on_udp(m, &mt, pbs(&p));
    }
    if (same_seq)
        (*seq)++;
}

TEST(media_dtmf_rfc4733)
{
    struct media *m = mk_media(false);
    if (!m)
        return;
    struct ip_addr b = ip(B_IP);
    media_expect(m, &b, 20000, 8000, 0, SL_LIT("PCMU"), SL_LIT("d"), 0);
    media_expect(m, &b, 20000, 8000, 101, SL_LIT("telephone-event"), SL_LIT("d"), 0);
    uint16_t seq = 100;
    uint64_t t = 1000000;
    /* some voice first, so the stream's type is PCMU */
    for (unsigned i = 0; i < 5; i++) {
        struct pb p = rtp_pkt(0, false, seq++, 1000 + i * 160, 0xe, 160);
        struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t += 20000);
        media_on_udp(m, &mt, pbs(&p));
    }
    send_event(m, &seq, 10000, 1, 5, true, true, &t);   /* "1", ends share a seq */
    send_event(m, &seq, 20000, 11, 4, true, false, &t); /* "#", RFC style */
    send_event(m, &seq, 30000, 5, 4, false, false, &t); /* "5": every end lost */
    send_event(m, &seq, 40000, 9, 3, true, false, &t);  /* "9" ends "5" too */
    /* "0" too long for one segment: goes on at ts + duration (§2.5.2.3) */
    send_event(m, &seq, 50000, 0, 3, false, false, &t);
    send_event(m, &seq, 50000 + 480, 0, 2, true, false, &t);
    /* a late packet of the "9" event: not a new key */
    struct pb late = ev_pkt(101, false, (uint16_t)(seq - 12), 40000, 0xe, 9, true, 480);
    struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t += 1000);
    media_on_udp(m, &mt, pbs(&late));
    /* "*" still going when the capture ends */
    send_event(m, &seq, 60000, 10, 2, false, false, &t);

    /* a live look: the pending "*" shows, but is not counted yet */
    n_ended = 0;
    media_foreach(m, (void (*)(void *, const struct media_stream *))on_end, NULL);
    CHECK_STR(ended[0].dtmf, "1#590*");
    CHECK_EQ_INT(media_stats(m)->dtmf_digits, 5);
    n_ended = 0;
    media_finish(m);
    CHECK_EQ_INT(n_ended, 1);
    const struct media_stream *s = &ended[0];
    CHECK_STR(s->dtmf, "1#590*");
    CHECK_EQ_INT(s->dtmf_dropped, 0);
    CHECK_EQ_INT(s->payload_type, 0);
    CHECK_STR(s->codec, "PCMU");
    CHECK_EQ_INT(s->duplicates, 2 + 1); /* SIPp-style ends, the late packet */
    CHECK_EQ_INT(media_stats(m)->dtmf_digits, 6);
    media_free(m);
}

TEST(media_dtmf_bounded)
{
    struct media *m = mk_media(false);
    if (!m)
        return;
    struct ip_addr b = ip(B_IP);
    media_expect(m, &b, 20000, 8000, 96, SL_LIT("Telephone-Event"), SL_LIT("d"), 0);
    uint64_t t = 1000000;
    uint16_t seq = 0;
    for (unsigned e = 0; e < MEDIA_DTMF_MAX + 5; e++) {
        struct pb p = ev_pkt(96, true, seq++, e * 1000, 0xf, (uint8_t)(e % 10), true, 160);
        struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t += 20000);
        media_on_udp(m, &mt, pbs(&p));
    }
    media_finish(m);
    CHECK_EQ_INT(n_ended, 1);
    CHECK_EQ_INT(strlen(ended[0].dtmf), MEDIA_DTMF_MAX);
    CHECK_EQ_INT(ended[0].dtmf_dropped, 5);
    CHECK(sl_starts_lit(sl_cstr(ended[0].dtmf), "0123456789012"));
    CHECK_STR(ended[0].codec, "Telephone-Event"); /* events only: their type */
    media_free(m);
}

TEST(media_expiry_eviction_and_endpoints)
{
    struct media_cfg c;
    media_default_cfg(&c);
    c.heuristic = false;
    c.max_streams = 2;
    c.idle_us = 10 * 1000000ull;
    c.endpoint_idle_us = 100 * 1000000ull;
    c.on_stream_end = on_end;
    n_ended = 0;
    struct media *m = media_new(&c);
    CHECK(m != NULL);
    if (!m)
        return;
    struct ip_addr b = ip(B_IP);
    media_expect(m, &b, 20000, 0, 8, SL_NULL, SL_LIT("e"), 0);
    uint64_t t = 1000000;
    /* three SSRCs to one endpoint: the table holds 2, the oldest goes */
    for (uint32_t ssrc = 1; ssrc <= 3; ssrc++) {
        for (unsigned i = 0; i < 3; i++) {
            struct pb p = rtp_pkt(8, false, (uint16_t)i, i * 160, ssrc, 160);
            struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t += 20000);
            CHECK(media_on_udp(m, &mt, pbs(&p)));
        }
    }
    CHECK_EQ_INT(n_ended, 1);
    CHECK_EQ_INT(ended[0].ssrc, 1);
    CHECK_EQ_INT(ended[0].packets, 3);
    CHECK_EQ_INT(media_stats(m)->streams_evicted, 1);
    CHECK_STR(ended[0].codec, "PCMA");

    /* idle: nothing for 10 s ends both */
    media_tick(m, t + 5 * 1000000ull);
    CHECK_EQ_INT(n_ended, 1);
    media_tick(m, t + 11 * 1000000ull);
    CHECK_EQ_INT(n_ended, 3);
    CHECK_EQ_INT(media_stats(m)->streams_ended, 3);

    /* the endpoint is forgotten after endpoint_idle_us: media to it is no longer RTP */
    media_tick(m, t + 101 * 1000000ull);
    struct pb p = rtp_pkt(8, false, 50, 8000, 9, 160);
    struct l4_meta mt = meta(A_IP, 30000, B_IP, 20000, t + 102 * 1000000ull);
    CHECK(!media_on_udp(m, &mt, pbs(&p)));

    /* a new call on the same address:port takes it over, formats and all */
    media_expect(m, &b, 20000, 0, 0, SL_NULL, SL_LIT("old"), mt.ts_us);
    media_expect(m, &b, 20000, 16000, 9, SL_LIT("G722"), SL_LIT("new"), mt.ts_us);
    p = rtp_pkt(0, false, 51, 8160, 9, 160);
    CHECK(media_on_udp(m, &mt, pbs(&p)));
    /* port 0 (declined) and an RTCP endpoint that hears junk */
    media_expect(m, &b, 0, 0, 0, SL_NULL, SL_LIT("x"), mt.ts_us);
    static const uint8_t junk[] = { 0x80, 0xc9, 0x00, 0x09, 1, 2, 3, 4 };
    struct l4_meta rt = meta(A_IP, 30001, B_IP, 20001, mt.ts_us);
    CHECK(!media_on_udp(m, &rt, sl_make(junk, sizeof junk)));
    CHECK_EQ_INT(media_stats(m)->malformed_rtcp, 1);
    static const uint8_t short_rtp[] = { 0x80, 0x00, 0x00, 0x01, 0, 0, 0, 0 };
    CHECK(!media_on_udp(m, &mt, sl_make(short_rtp, sizeof short_rtp)));
    CHECK_EQ_INT(media_stats(m)->malformed_rtp, 1);
    media_finish(m);
    CHECK_EQ_INT(n_ended, 4);
    CHECK_STR(ended[3].call_id, "new");
    CHECK_EQ_INT(ended[3].payload_type, 0); /* PT 0 of "old" went with it: static PCMU */
    CHECK_STR(ended[3].codec, "PCMU");
    media_free(m);
}

/* ---- media.h: heuristics ------------------------------------------------ */

TEST(media_heuristic_probation_then_replay)
{
    struct media *m = mk_media(true);
    if (!m)
        return;
    uint64_t t0 = 7000000;
    for (unsigned i = 0; i < 10; i++) {
        struct pb p = rtp_pkt(0, i == 0, (uint16_t)(500 + i), 80000 + i * 160, 0x5eed, 160);
        struct l4_meta mt = meta(A_IP, 41000, B_IP, 42000, t0 + i * 20000);
        bool r = media_on_udp(m, &mt, pbs(&p));
        /* three forward steps with a moving timestamp: the 4th packet */
        CHECK(r == (i >= 3));
    }
    media_finish(m);
    CHECK_EQ_INT(n_ended, 1);
    const struct media_stream *s = &ended[0];
    CHECK_EQ_INT(s->packets, 10); /* the probation packets were counted */
    CHECK_EQ_INT(s->start_us, t0);
    CHECK_EQ_INT(s->lost, 0);
    CHECK_STR(s->call_id, "");
    CHECK(!s->from_sdp);
    CHECK_STR(s->codec, "PCMU");
    CHECK_NEAR(s->max_delta_ms, 20.0, 1e-9);
    CHECK_EQ_INT(media_stats(m)->probes, 1);
    CHECK_EQ_INT(media_stats(m)->probe_resets, 0);

    /* a flow that pauses 6 s during probation starts over */
    n_ended = 0;
    for (unsigned i = 0; i < 3; i++) {
        struct pb p = rtp_pkt(8, false, (uint16_t)i, i * 160, 0x77, 160);
        struct l4_meta mt = meta(A_IP, 41002, B_IP, 42002, t0 + i * 20000);
        CHECK(!media_on_udp(m, &mt, pbs(&p)));
    }
    struct pb p = rtp_pkt(8, false, 3, 480, 0x77, 160);
    struct l4_meta mt = meta(A_IP, 41002, B_IP, 42002, t0 + 6000000);
    CHECK(!media_on_udp(m, &mt, pbs(&p)));
    CHECK_EQ_INT(media_stats(m)->probe_resets, 1);
    media_free(m);
}

/* Feed n datagrams made by gen(i, buf) on one 5-tuple; how many were taken. */
static unsigned feed(struct media *m, const char *src, uint16_t sport, uint16_t dport, unsigned n,
                     size_t (*gen)(unsigned i, uint8_t *buf))
{
    unsigned taken = 0;
    uint8_t buf[1500];
    for (unsigned i = 0; i < n; i++) {
        size_t len = gen(i, buf);
        struct l4_meta mt = meta(src, sport, B_IP, dport, 1000000 + (uint64_t)i * 20000);
        if (media_on_udp(m, &mt, sl_make(buf, len)))
            taken++;
    }
    return taken;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* DNS query for www.example.com, ID from i with its top bit set (so the
 * first byte looks like RTP version 2) */
static size_t gen_dns(unsigned i, uint8_t *b)
{
    static const uint8_t q[] = { 0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
                                 0, 1, 0, 1 };
    memcpy(b, q, sizeof q);
    b[0] = (uint8_t)(0x80 | (i * 37 & 0x3f));
    b[1] = (uint8_t)(i * 91);
    return sizeof q;
}

/* QUIC long header (Initial) with the fixed bit greased, version 1 */
static size_t gen_quic_grease(unsigned i, uint8_t *b)
{
    static const uint8_t q[] = { 0x80, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x41, 0x00 };
    memcpy(b, q, sizeof q);
    for (unsigned k = 0; k < 1200 - sizeof q; k++)
        b[sizeof q + k] = (uint8_t)(rnd() + i);
    return 1200;
}

/* QUIC long (0xc0..) and short (0x40..) headers */
static size_t gen_quic(unsigned i, uint8_t *b)
{
    b[0] = (uint8_t)((i & 1) ? 0xc3 : 0x43);
    for (unsigned k = 1; k < 300; k++)
        b[k] = (uint8_t)rnd();
    return 300;
}

/* STUN binding request (RFC 8489), and the cookie behind an RTP-looking first byte */
static size_t gen_stun(unsigned i, uint8_t *b)
{
    static const uint8_t s[] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
    memcpy(b, s, sizeof s);
    if (i & 1)
        b[0] = 0x80; /* not STUN any more, but the cookie still says so */
    b[2] = (uint8_t)(i >> 8);
    b[3] = (uint8_t)i; /* "sequence" advancing by one */
    for (unsigned k = 8; k < 20; k++)
        b[k] = (uint8_t)rnd();
    return 20;
}

/* DTLS 1.2 ClientHello record */
static size_t gen_dtls(unsigned i, uint8_t *b)
{
    static const uint8_t d[] = { 0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 1 };
    memcpy(b, d, sizeof d);
    b[10] = (uint8_t)i;
    memset(b + sizeof d, 0x11, 64);
    return sizeof d + 64;
}

/* NTP v4 client request with LI=2 (first byte 0xa3: version bits say 2) */
static size_t gen_ntp(unsigned i, uint8_t *b)
{
    memset(b, 0, 48);
    b[0] = 0xa3;
    b[2] = 6;    /* poll */
    b[3] = 0xe9; /* precision */
    for (unsigned k = 40; k < 48; k++) /* transmit timestamp moves */
        b[k] = (uint8_t)(i * 13 + k);
    return 48;
}

static size_t gen_ssdp(unsigned i, uint8_t *b)
{
    static const char s[] = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
                            "MX: 1\r\nST: ssdp:all\r\n\r\n";
    (void)i;
    memcpy(b, s, sizeof s - 1);
    return sizeof s - 1;
}

/* random bytes with a version-2 first byte */
static size_t gen_random(unsigned i, uint8_t *b)
{
    size_t n = 12 + (i * 7) % 300;
    for (size_t k = 0; k < n; k++)
        b[k] = (uint8_t)rnd();
    b[0] = (uint8_t)(0x80 | (b[0] & 0x3f));
    return n;
}

/* random, but one SSRC and a plausible type: the sequence gives it away */
static size_t gen_random_ssrc(unsigned i, uint8_t *b)
{
    size_t n = gen_random(i, b);
    b[1] = 0;
    b[8] = 0x12, b[9] = 0x34, b[10] = 0x56, b[11] = 0x78;
    return n;
}

/* RTP-perfect but payload type 72 (RTCP's SR with the marker bit clear) */
static size_t gen_pt72(unsigned i, uint8_t *b)
{
    struct pb p = rtp_pkt(72, false, (uint16_t)i, i * 160, 0x4242, 160);
    memcpy(b, p.b, p.n);
    return p.n;
}

/* RTP-perfect with the marker: byte 2 is 200, so it is read as RTCP and fails */
static size_t gen_pt72_marker(unsigned i, uint8_t *b)
{
    struct pb p = rtp_pkt(72, true, (uint16_t)i, i * 160, 0x4242, 160);
    memcpy(b, p.b, p.n);
    return p.n;
}

static size_t gen_rtp(unsigned i, uint8_t *b)
{
    struct pb p = rtp_pkt(0, false, (uint16_t)i, i * 160, 0x4343, 160);
    memcpy(b, p.b, p.n);
    return p.n;
}

/* SIP over UDP never looks like version 2 */
static size_t gen_sip(unsigned i, uint8_t *b)
{
    static const char s[] = "OPTIONS sip:100@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\n\r\n";
    (void)i;
    memcpy(b, s, sizeof s - 1);
    return sizeof s - 1;
}

TEST(media_heuristic_rejects_lookalikes)
{
    struct media *m = mk_media(true);
    if (!m)
        return;
    CHECK_EQ_INT(feed(m, A_IP, 40000, 53, 200, gen_dns), 0);      /* DNS port */
    CHECK_EQ_INT(feed(m, A_IP, 40000, 40053, 200, gen_dns), 0);   /* DNS shape, high port */
    CHECK_EQ_INT(feed(m, A_IP, 40001, 443, 200, gen_quic_grease), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40001, 40443, 200, gen_quic_grease), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40002, 40444, 200, gen_quic), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40003, 3478, 200, gen_stun), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40003, 40478, 200, gen_stun), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40004, 40005, 200, gen_dtls), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40006, 123, 200, gen_ntp), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40006, 40123, 200, gen_ntp), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40007, 1900, 50, gen_ssdp), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40007, 40900, 50, gen_ssdp), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40008, 40009, 3000, gen_random), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40010, 40011, 3000, gen_random_ssrc), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40012, 40013, 100, gen_pt72), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40012, 40015, 100, gen_pt72_marker), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40016, 5060, 100, gen_sip), 0);
    /* genuine RTP between a low and a high port, or to mDNS: not taken */
    CHECK_EQ_INT(feed(m, A_IP, 500, 40020, 100, gen_rtp), 0);
    CHECK_EQ_INT(feed(m, A_IP, 40021, 5353, 100, gen_rtp), 0);
    /* random source ports, each datagram its own flow */
    unsigned taken = 0;
    for (unsigned i = 0; i < 2000; i++) {
        uint8_t buf[400];
        size_t n = gen_random(i, buf);
        struct l4_meta mt = meta(A_IP, (uint16_t)(1024 + rnd() % 60000), B_IP, (uint16_t)(1024 + rnd() % 60000),
                                 2000000 + i);
        taken += media_on_udp(m, &mt, sl_make(buf, n));
    }
    CHECK_EQ_INT(taken, 0);
    media_finish(m);
    CHECK_EQ_INT(n_ended, 0);
    CHECK_EQ_INT(media_stats(m)->streams, 0);
    CHECK_EQ_INT(media_stats(m)->rtcp_packets, 0);
    CHECK_EQ_INT(media_stats(m)->rtp_packets, 0);
    /* and the genuine stream on ordinary ports is taken */
    CHECK_EQ_INT(feed(m, A_IP, 40022, 40024, 10, gen_rtp), 7);
    media_free(m);
}

TEST(media_heuristic_off)
{
    struct media *m = mk_media(false);
    if (!m)
        return;
    CHECK_EQ_INT(feed(m, A_IP, 40022, 40024, 50, gen_rtp), 0);
    struct pb b = compound();
    struct l4_meta mt = meta(A_IP, 40023, B_IP, 40025, 1);
    CHECK(!media_on_udp(m, &mt, pbs(&b)));
    CHECK_EQ_INT(media_stats(m)->probes, 0);
    media_free(m);
}

/* ---- public captures against tshark ------------------------------------- */

/*
 * tshark 4.0.17, -z rtp,streams with heuristic RTP. Tolerances: packets and
 * lost exact; max delta and max jitter 0.002 ms (tshark prints 3 decimals;
 * we measure in µs); mean jitter 0.002 ms where the stream has no marker or
 * comfort-noise packet. Where it has, tshark divides by every packet though
 * it sums only the regular ones, so its mean differs: tshark_mean then holds
 * tshark's figure and mean our plain mean, checked against a replica of the
 * computation from tshark's own per-packet fields (docs/media.md).
 */
struct want {
    const char *file;
    uint32_t ssrc;
    uint16_t sport;
    unsigned packets;
    int lost;
    double max_delta, max_jitter, mean_jitter, tshark_mean;
    const char *dtmf;
    uint8_t pt;
};

static const struct want wants[] = {
    { "wireshark-samples/SIP_CALL_RTP_G711.pcap", 0x00002E3D, 30000, 6, 0, 30.043, 0.639, 0.257, 0, "", 8 },
    { "wireshark-samples/SIP_CALL_RTP_G711.pcap", 0x58F33DEA, 40376, 891, 0, 379.905, 0.251, 0.099, 0, "", 8 },
    { "wireshark-samples/SIP_CALL_RTP_G711.pcap", 0x58F33DEA, 4800, 891, 0, 379.912, 0.078, 0.030, 0, "", 8 },
    { "wireshark-samples/SIP_CALL_RTP_G711.pcap", 0xD2BD4E3E, 40378, 548, 0, 5843.747, 7.400, 2.548, 0, "", 8 },
    { "wireshark-samples/SIP_CALL_RTP_G711.pcap", 0xD2BD4E3E, 8000, 548, 0, 5843.742, 7.407, 2.517, 0, "", 8 },
    { "wireshark-samples/sip-rtp-g711.pcap", 0x343FFA34, 28102, 414, 0, 20.115, 0.019, 0.004, 0, "", 8 },
    { "wireshark-samples/sip-rtp-g711.pcap", 0x343DA99B, 27942, 425, 0, 20.049, 0.010, 0.006, 0, "", 0 },
    { "wireshark-samples/sip-rtp-g729a.pcap", 0x044559A1, 28120, 425, 0, 20.471, 0.143, 0.085, 0, "", 18 },
    { "wireshark-samples/rtp-protocol.pcap", 0x06C156FD, 6040, 201, 0, 24.777, 3.293, 2.4408, 2.423, "", 8 },
    { "wireshark-samples/rtp-protocol.pcap", 0x44C61AFB, 6020, 47, 0, 24.232, 0.556, 0.2792, 0.309, "", 8 },
    { "wireshark-samples/sip-over-tcp.pcap", 0x5A3361B3, 6000, 24, 0, 20.158, 0.069, 0.0423, 0.039, "", 8 },
    { "wireshark-samples/sip-over-tcp.pcap", 0x42F433D4, 6050, 42, 0, 23.982, 3.063, 2.3244, 2.304, "", 8 },
    { "wireshark-samples/b2bua-asterisk.pcapng", 0x6AB21E82, 8000, 355, 0, 52.351, 10.171, 7.361, 0, "", 0 },
    { "sipp/g711a.pcap", 0xDEE0EE8F, 5000, 236, 0, 34.829, 0.829, 0.350, 0, "", 8 },
    /* events: no jitter (no clock for a guessed type); lost counts the
     * duplicated end packets negative, as RFC 3550 A.3 and tshark do */
    { "sipp/dtmf_2833_0.pcap", 0x0E05384E, 49176, 10, -2, 20.072, 0, 0, 0, "0", 101 },
    { "rtpproxy/dtmf.pcap", 0xEE693E61, 56890, 45, 50, 29.949, 0, 0, 0, "54321#", 101 },
    { "rtpproxy/dtmf.pcap", 0x37ED87F3, 19438, 151, 141, 0, 0, 0, 0, "123456789*0#5", 101 },
    /* VLAN, pcapng with two interfaces; dynamic types without SDP: no clock */
    { "ndpi/rtp.pcapng", 0xB80974D8, 55402, 29, 0, 118.004, 0, 0, 0, "", 111 },
    { "ndpi/rtp.pcapng", 0x001A757D, 50003, 6, 0, 30.264, 0, 0, 0, "", 120 },
    { "ndpi/rtp.pcapng", 0x001A759F, 50003, 12, 0, 46.364, 0, 0, 0, "", 101 },
    { "ndpi/rtp.pcapng", 0x001A7E73, 54234, 7, 0, 36.489, 0, 0, 0, "", 120 },
    { "ndpi/rtp.pcapng", 0x00001646, 6000, 15, 0, 77.061, 1.431, 0.9134, 0.692, "", 34 },
    /* snaplen 200: every RTP header intact, payloads cut */
    { "derived/snaplen200_SIP_CALL_RTP_G711.pcap", 0xD2BD4E3E, 8000, 548, 0, 5843.742, 7.407, 2.517, 0, "", 8 },
    { "suricata-verify/sip-method/sip.pcap", 0x3796CB71, 30000, 9, 0, 69.947, 7.799, 5.646, 0, "", 8 },
};

struct cap_run {
    struct media *m;
};

static void cap_udp(void *ctx, const struct l4_meta *m, struct slice p)
{
    struct cap_run *r = ctx;
    media_on_udp(r->m, m, p);
}

#define MAX_CAP_STREAMS 16
static struct media_stream cap_streams[MAX_CAP_STREAMS];
static unsigned n_cap_streams;

static void cap_end(void *ctx, const struct media_stream *s)
{
    (void)ctx;
    if (n_cap_streams < MAX_CAP_STREAMS)
        cap_streams[n_cap_streams] = *s;
    n_cap_streams++;
}

/* Streams found in one capture (heuristics only: no SIP is read here). */
static unsigned capture_streams(const char *file)
{
    struct media_cfg c;
    media_default_cfg(&c);
    c.on_stream_end = cap_end;
    struct cap_run r = { media_new(&c) };
    n_cap_streams = 0;
    char path[256];
    snprintf(path, sizeof path, PUB "%s", file);
    if (!r.m || run_pcap(path, cap_udp, &r) < 0) {
        media_free(r.m);
        return 0;
    }
    media_finish(r.m);
    media_free(r.m);
    return n_cap_streams;
}

TEST(media_public_captures_match_tshark)
{
    const char *last = NULL;
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++) {
        const struct want *w = &wants[i];
        if (!last || strcmp(last, w->file) != 0) {
            capture_streams(w->file);
            last = w->file;
        }
        const struct media_stream *s = NULL;
        for (unsigned k = 0; k < n_cap_streams && k < MAX_CAP_STREAMS; k++)
            if (cap_streams[k].ssrc == w->ssrc && cap_streams[k].src_port == w->sport)
                s = &cap_streams[k];
        if (!s) {
            fprintf(stderr, "  %s: no stream 0x%08X from port %u\n", w->file, w->ssrc, w->sport);
            test_failed_checks++;
            continue;
        }
        if (s->packets != w->packets || s->lost != w->lost || !NEAR(s->max_delta_ms, w->max_delta, 0.002) ||
            !NEAR(s->jitter_ms, w->max_jitter, 0.002) || !NEAR(s->jitter_mean_ms, w->mean_jitter, 0.002) ||
            strcmp(s->dtmf, w->dtmf) != 0 || s->payload_type != w->pt) {
            fprintf(stderr,
                    "  %s 0x%08X: packets %llu/%u lost %lld/%d max delta %.3f/%.3f jitter max %.3f/%.3f "
                    "mean %.4f/%.4f dtmf \"%s\"/\"%s\" pt %u/%u\n",
                    w->file, w->ssrc, (unsigned long long)s->packets, w->packets, (long long)s->lost, w->lost,
                    s->max_delta_ms, w->max_delta, s->jitter_ms, w->max_jitter, s->jitter_mean_ms, w->mean_jitter,
                    s->dtmf, w->dtmf, s->payload_type, w->pt);
            test_failed_checks++;
        }
        /* where tshark's mean differs, it differs by its weighting only */
        if (w->tshark_mean > 0)
            CHECK(!NEAR(s->jitter_mean_ms, w->tshark_mean, 0.002) && NEAR(s->jitter_mean_ms, w->tshark_mean, 0.25));
    }
}

TEST(media_public_capture_stream_counts)
{
    /* as many streams as tshark finds, but b2bua-asterisk's one-packet
     * stream (no probation can accept a single packet; SDP would) */
    CHECK_EQ_INT(capture_streams("wireshark-samples/SIP_CALL_RTP_G711.pcap"), 5);
    CHECK_EQ_INT(capture_streams("wireshark-samples/b2bua-asterisk.pcapng"), 1);
    CHECK_EQ_INT(capture_streams("ndpi/rtp.pcapng"), 5);
    CHECK_EQ_INT(capture_streams("rtpproxy/dtmf.pcap"), 2);
    /* captures with no RTP: nothing taken for a stream */
    CHECK_EQ_INT(capture_streams("sip-attacks/SIP-Bruteforce-Single-IP.pcap"), 0);
    CHECK_EQ_INT(capture_streams("arkime/arkime_synthetic.pcap"), 0);
    CHECK_EQ_INT(capture_streams("pcapplusplus/many_interfaces-1.pcapng"), 0);
    CHECK_EQ_INT(capture_streams("zeek/sip-junk-before-request.pcap"), 0);
}

TEST(media_public_capture_with_sdp)
{
    /* SIP_CALL_RTP_G711 with the endpoints its SDP announced (200.57.7.204
     * :8000 PCMA, 200.57.7.196:40376): the stream to 8000 gets the call and
     * the same figures as by heuristics; so does the reverse (symmetric). */
    struct media_cfg c;
    media_default_cfg(&c);
    c.heuristic = false;
    c.on_stream_end = cap_end;
    struct cap_run r = { media_new(&c) };
    if (!r.m)
        return;
    n_cap_streams = 0;
    struct ip_addr a = ip("200.57.7.204");
    media_expect(r.m, &a, 8000, 8000, 8, SL_LIT("PCMA"), SL_LIT("12013223@200.57.7.195"), 0);
    CHECK(run_pcap(PUB "wireshark-samples/SIP_CALL_RTP_G711.pcap", cap_udp, &r) > 0);
    media_finish(r.m);
    CHECK_EQ_INT(n_cap_streams, 2);
    for (unsigned k = 0; k < n_cap_streams && k < MAX_CAP_STREAMS; k++) {
        const struct media_stream *s = &cap_streams[k];
        CHECK_STR(s->call_id, "12013223@200.57.7.195");
        CHECK(s->from_sdp);
        CHECK_EQ_INT(s->packets, s->src_port == 8000 ? 548 : 891);
        CHECK_NEAR(s->max_delta_ms, s->src_port == 8000 ? 5843.742 : 379.905, 0.002);
        /* RTCP on 8001 reached it (SR/RR of the X-Lite side) */
        CHECK(s->rtcp.reports > 0);
    }
    const struct media_stats *st = media_stats(r.m);
    CHECK_EQ_INT(st->streams_sdp, 2);
    CHECK_EQ_INT(st->probes, 0);
    media_free(r.m);
}
