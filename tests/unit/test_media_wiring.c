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
 * a SIP INFO '7' (dtmf-relay, retransmitted once), a SIP INFO '#'
 * (application/dtmf), then BYE.
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
    /* its retransmission (same branch and CSeq) is not a second key */
    mw_sip(e, t0 + 300500, true,
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

/* ---- --dump-calls (output/dump.c) ---------------------------------------- */

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/dump.h"

static char dw_dir[64];

static void dw_mkdir(void)
{
    snprintf(dw_dir, sizeof dw_dir, "/tmp/sipsift-dumpXXXXXX");
    if (!mkdtemp(dw_dir))
        dw_dir[0] = 0;
}

static void dw_rmdir(void)
{
    DIR *dir = opendir(dw_dir);
    struct dirent *de;
    char p[512];
    while (dir && (de = readdir(dir)))
        if (de->d_name[0] != '.') {
            snprintf(p, sizeof p, "%s/%s", dw_dir, de->d_name);
            unlink(p);
        }
    if (dir)
        closedir(dir);
    rmdir(dw_dir);
}

/* Files in the dump dir whose name holds part and ends in ext; the first's path in out. */
static int dw_files(const char *part, const char *ext, char *out, size_t cap)
{
    DIR *dir = opendir(dw_dir);
    struct dirent *de;
    int n = 0;
    while (dir && (de = readdir(dir))) {
        size_t l = strlen(de->d_name), e = strlen(ext);
        if (strstr(de->d_name, part) && l > e && !strcmp(de->d_name + l - e, ext)) {
            if (!n++ && out)
                snprintf(out, cap, "%s/%s", dw_dir, de->d_name);
        }
    }
    if (dir)
        closedir(dir);
    return n;
}

static int dw_pcap_frames(const char *part)
{
    char path[512], eb[PCAP_ERRBUF_SIZE];
    if (dw_files(part, ".pcap", path, sizeof path) != 1)
        return -1;
    pcap_t *p = pcap_open_offline(path, eb);
    if (!p)
        return -2;
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0;
    while (pcap_next_ex(p, &h, &data) == 1)
        n++;
    pcap_close(p);
    return n;
}

static struct sip_msg dw_msg;

/* dump_sip with a message of call cid (initial INVITE or a BYE in the
 * dialog), carried by a frame of n bytes. */
static void dw_sip(struct dump *d, const char *cid, bool invite, uint64_t ts, uint64_t frame_no)
{
    char text[512];
    snprintf(text, sizeof text,
             "%s sip:200@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-%llu\r\nFrom: <sip:al ice@x>;tag=1\r\n"
             "To: <sip:../bob@y>%s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
             invite ? "INVITE" : "BYE", (unsigned long long)frame_no, invite ? "" : ";tag=2", cid,
             invite ? "INVITE" : "BYE");
    size_t used;
    if (sip_parse(sl_cstr(text), SIP_DGRAM, &dw_msg, &used) != SIP_OK) {
        CHECK(0);
        return;
    }
    static uint8_t data[200];
    memset(data, 0x45, sizeof data);
    struct frame f = { ts, sizeof data, sizeof data, DLT_RAW, data };
    dump_sip(d, &dw_msg, &f, frame_no);
}

static struct dump *dw_new(uint32_t max_open, uint32_t max_files, uint64_t max_bytes, FILE *warn)
{
    struct dump_cfg c;
    dump_default_cfg(&c);
    c.dir = dw_dir;
    c.max_open = max_open;
    c.max_files = max_files;
    c.max_bytes = max_bytes;
    c.warn = warn;
    char err[256] = "";
    struct dump *d = dump_new(&c, err, sizeof err);
    if (!d)
        fprintf(stderr, "  dump_new: %s\n", err);
    return d;
}

static int dw_lines(FILE *f, const char *needle)
{
    char line[512];
    int n = 0, hits = 0;
    rewind(f);
    while (fgets(line, sizeof line, f)) {
        n++;
        hits += strstr(line, needle) != NULL;
    }
    return hits == n ? n : -n;
}

TEST(dump_safe_names)
{
    char out[80];
    CHECK_EQ_INT(dump_safe_name(SL_LIT("a84b4c76e66710@pc33.example.com"), 64, out), 31);
    CHECK_STR(out, "a84b4c76e66710_pc33.example.com");
    dump_safe_name(SL_LIT("../../etc/passwd"), 64, out);
    CHECK_STR(out, ".._.._etc_passwd"); /* no '/': never leaves DIR */
    dump_safe_name(sl_make("a\0b\xff\n", 5), 64, out);
    CHECK_STR(out, "a_b__");
    CHECK_EQ_INT(dump_safe_name(SL_LIT("0123456789abcdef"), 8, out), 8);
    CHECK_STR(out, "01234567");
    dump_safe_name(SL_NULL, 8, out);
    CHECK_STR(out, "unknown");
}

/* With one file handle for two calls, every write reopens the other's pcap
 * in append mode: both files hold all their frames, in one valid pcap each. */
TEST(dump_reopens_files_in_append_mode)
{
    dw_mkdir();
    struct dump *d = dw_new(1, 100, 1 << 20, NULL);
    CHECK(d != NULL);
    if (!d) {
        dw_rmdir();
        return;
    }
    uint64_t t = 1700000000000000ull;
    dw_sip(d, "call-a@h", true, t, 1);
    dw_sip(d, "call-b@h", true, t + 1, 2);
    dw_sip(d, "call-a@h", false, t + 2, 3);
    dw_sip(d, "call-b@h", false, t + 3, 4);
    dw_sip(d, "call-a@h", false, t + 4, 5);
    dw_sip(d, "call-a@h", false, t + 4, 5); /* same frame, second message: written once */
    dw_sip(d, "not-a-call@h", false, t + 5, 6); /* no INVITE: no file */
    dump_finish(d);
    const struct dump_stats *st = dump_stats(d);
    CHECK_EQ_INT(st->calls, 2);
    CHECK_EQ_INT(st->files, 2);
    CHECK_EQ_INT(st->frames, 5);
    CHECK(st->reopens >= 3);
    CHECK_EQ_INT(dw_pcap_frames("call-a_h"), 3);
    CHECK_EQ_INT(dw_pcap_frames("call-b_h"), 2);
    /* 20231114-221320_al_ice_.._bob_call-a_h.pcap: time, parties, Call-ID, safe bytes */
    CHECK_EQ_INT(dw_files("20231114-221320_al_ice_.._bob_call-a_h", ".pcap", NULL, 0), 1);
    CHECK_EQ_INT(dw_files("not-a-call", "", NULL, 0), 0);
    dump_free(d);
    /* a second run into the same DIR never overwrites: "-2" */
    d = dw_new(4, 100, 1 << 20, NULL);
    if (d) {
        dw_sip(d, "call-a@h", true, t, 1);
        dump_finish(d);
        dump_free(d);
    }
    CHECK_EQ_INT(dw_files("call-a_h-2", ".pcap", NULL, 0), 1);
    CHECK_EQ_INT(dw_files("call-a_h", ".pcap", NULL, 0), 2);
    dw_rmdir();
}

TEST(dump_limits_warn_once)
{
    dw_mkdir();
    FILE *warn = tmpfile();
    struct dump *d = warn ? dw_new(8, 1, 1 << 20, warn) : NULL;
    CHECK(d != NULL);
    uint64_t t = 1700000000000000ull;
    if (d) {
        for (unsigned i = 0; i < 5; i++) {
            char cid[32];
            snprintf(cid, sizeof cid, "c%u@h", i);
            dw_sip(d, cid, true, t + i, i + 1);
        }
        dump_finish(d);
        CHECK_EQ_INT(dump_stats(d)->files, 1);
        CHECK_EQ_INT(dump_stats(d)->frames, 1);
        CHECK_EQ_INT(dw_lines(warn, "1 files written, the limit"), 1);
        dump_free(d);
    }
    if (warn)
        fclose(warn);
    dw_rmdir();

    /* bytes: header 24 + 3 frames of 16 + 200 fit in 700, the 4th does not */
    dw_mkdir();
    warn = tmpfile();
    d = warn ? dw_new(8, 100, 700, warn) : NULL;
    CHECK(d != NULL);
    if (d) {
        dw_sip(d, "c@h", true, t, 1);
        for (unsigned i = 2; i < 8; i++)
            dw_sip(d, "c@h", false, t + i, i);
        dump_finish(d);
        CHECK_EQ_INT(dump_stats(d)->frames, 3);
        CHECK_EQ_INT(dump_stats(d)->frames_skipped, 4);
        CHECK(dump_stats(d)->bytes <= 700);
        CHECK_EQ_INT(dw_pcap_frames("c_h"), 3);
        CHECK_EQ_INT(dw_lines(warn, "700 bytes written, the limit"), 1);
        dump_free(d);
    }
    if (warn)
        fclose(warn);
    dw_rmdir();
}

TEST(dump_new_refuses_bad_dirs)
{
    struct dump_cfg c;
    dump_default_cfg(&c);
    char err[256];
    c.dir = "/nonexistent-sipsift";
    CHECK(dump_new(&c, err, sizeof err) == NULL);
    CHECK_STR(err, "--dump-calls /nonexistent-sipsift: No such file or directory");
    c.dir = "/etc/hostname";
    CHECK(dump_new(&c, err, sizeof err) == NULL);
    CHECK_STR(err, "--dump-calls /etc/hostname: not a directory");
    c.dir = "/proc";
    CHECK(dump_new(&c, err, sizeof err) == NULL);
    CHECK(strncmp(err, "--dump-calls /proc: cannot create files there: ", 47) == 0);
}

/* A G.711 stream's WAV: audio placed by timestamp (a lost packet becomes
 * silence, a late one is not written twice), RTCP and other payload types
 * left out; the header gets its sizes when the stream ends. */
TEST(dump_wav_by_timestamp)
{
    dw_mkdir();
    struct dump *d = dw_new(2, 100, 1 << 20, NULL);
    CHECK(d != NULL);
    if (!d) {
        dw_rmdir();
        return;
    }
    uint64_t t = 1700000000000000ull;
    dw_sip(d, "w@h", true, t, 1);
    struct media_stream ms;
    memset(&ms, 0, sizeof ms);
    ms.id = 7;
    ms.ssrc = 0xABCDEF01;
    ms.payload_type = 8;
    strcpy(ms.codec, "pcma");
    strcpy(ms.call_id, "w@h");
    uint8_t pl[160], pkt[200];
    static uint8_t fr[64];
    struct frame f = { t, sizeof fr, sizeof fr, DLT_RAW, fr };
    uint64_t no = 10;
    /* ts 0, 160, (320 lost), 480, 160 again (late), event PT 101, RTCP */
    static const uint32_t ts[] = { 1000, 1160, 1480, 1160 };
    for (unsigned i = 0; i < 4; i++) {
        memset(pl, (int)(0x10 + i), sizeof pl);
        size_t n = mw_rtp_pkt(pkt, 8, false, (uint16_t)i, ts[i], ms.ssrc, pl, sizeof pl);
        f.ts_us = t + 20000 * (i + 1);
        dump_media(d, &ms, sl_make(pkt, n), &f, ++no);
    }
    uint8_t ev[4] = { 1, 0x80, 0, 160 };
    size_t n = mw_rtp_pkt(pkt, 101, false, 9, 1640, ms.ssrc, ev, 4);
    dump_media(d, &ms, sl_make(pkt, n), &f, ++no);
    static const uint8_t rtcp[8] = { 0x80, 201, 0, 1, 0xAB, 0xCD, 0xEF, 0x01 };
    dump_media(d, &ms, sl_make(rtcp, sizeof rtcp), &f, ++no);
    /* a stream of a call not dumped: nothing */
    struct media_stream other = ms;
    other.id = 8;
    strcpy(other.call_id, "other@h");
    dump_media(d, &other, sl_make(pkt, n), &f, ++no);
    dump_stream_end(d, &ms);
    char path[512];
    CHECK_EQ_INT(dw_files("_rtp7_ABCDEF01_PCMA", ".wav", path, sizeof path), 1);
    FILE *w = fopen(path, "rb");
    uint8_t buf[1024];
    size_t got = w ? fread(buf, 1, sizeof buf, w) : 0;
    if (w)
        fclose(w);
    /* 0..159 first, 160..319 second, 320..479 silence, 480..639 third */
    CHECK_EQ_INT(got, DUMP_WAV_HEADER + 640);
    if (got == DUMP_WAV_HEADER + 640) {
        CHECK(memcmp(buf, "RIFF", 4) == 0 && memcmp(buf + 8, "WAVEfmt ", 8) == 0);
        CHECK_EQ_INT(buf[4] | buf[5] << 8, 50 + 640);
        CHECK_EQ_INT(buf[20], 6); /* A-law */
        CHECK_EQ_INT(buf[24] | buf[25] << 8, 8000);
        CHECK_EQ_INT(buf[46] | buf[47] << 8, 640);
        CHECK_EQ_INT(buf[54] | buf[55] << 8, 640);
        const uint8_t *a = buf + DUMP_WAV_HEADER;
        CHECK(a[0] == 0x10 && a[159] == 0x10 && a[160] == 0x11 && a[319] == 0x11);
        CHECK(a[320] == 0xD5 && a[479] == 0xD5 && a[480] == 0x12 && a[639] == 0x12);
    }
    dump_finish(d);
    /* the call's pcap: INVITE, 4 RTP, the event, the RTCP */
    CHECK_EQ_INT(dw_pcap_frames("w_h"), 7);
    CHECK_EQ_INT(dump_stats(d)->wavs, 1);
    dump_free(d);
    dw_rmdir();
}
