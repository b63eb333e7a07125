/* test_reasm.c - reassembly (capture/reasm.c with the real libnids, ip6frag.c,
 * ip6map.c) on packets built here, the generated captures in pcaps/test/reasm/
 * and the public sngrep/ipv6frag.pcap. libnids is global: every test makes its
 * own struct reasm and frees it before returning. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>

#include "capture/reasm.h"
#include "lib/ipaddr.h"

/* ---- a recording l4_handler ---------------------------------------------- */

#define REC_MAX 64
#define REC_DATA 4096

struct rec_item {
    char kind; /* 'u' datagram, 't' stream bytes, 'e' stream end */
    struct l4_meta m;
    size_t n;             /* bytes offered */
    size_t consumed;      /* what the handler said it used ('t') */
    uint32_t hint;        /* the hint capture kept for this direction ('t'): calls before */
    uint8_t data[REC_DATA]; /* the first REC_DATA of them */
};

/* What the TCP handler does with the bytes it is offered. */
enum policy {
    EAT_MESSAGES, /* consume whole messages (up to each blank line), keep the tail */
    EAT_NOTHING,
    IGNORE_NON_SIP, /* TCP_IGNORE unless the bytes start like SIP */
};

static struct {
    struct rec_item it[REC_MAX];
    int n, dropped;
    int anomalies[CAP_A__COUNT];
    struct l4_meta anomaly_m;
    enum policy policy;
} rec;

static struct rec_item *rec_add(char kind, const struct l4_meta *m, struct slice s)
{
    if (rec.n == REC_MAX) {
        rec.dropped++;
        return NULL;
    }
    struct rec_item *it = &rec.it[rec.n++];
    it->kind = kind;
    it->m = *m;
    it->n = s.n;
    it->consumed = 0;
    if (s.n)
        memcpy(it->data, s.p, s.n < REC_DATA ? s.n : REC_DATA);
    return it;
}

static void on_udp(void *ctx, const struct l4_meta *m, struct slice p)
{
    (void)ctx;
    rec_add('u', m, p);
}

static bool looks_sip(struct slice s)
{
    return sl_starts_lit(s, "SIP/2.0") || sl_starts_lit(s, "INVITE") ||
           sl_starts_lit(s, "OPTIONS") || sl_starts_lit(s, "REGISTER") || sl_starts_lit(s, "BYE");
}

static enum tcp_verdict on_tcp(void *ctx, const struct l4_meta *m, struct slice data,
                               size_t *consumed, uint32_t *hint)
{
    (void)ctx;
    struct rec_item *it = rec_add('t', m, data);
    /* The hint counts this direction's calls: capture must keep it per direction. */
    if (it)
        it->hint = *hint;
    (*hint)++;
    if (rec.policy == IGNORE_NON_SIP && !looks_sip(data))
        return TCP_IGNORE;
    size_t used = 0;
    if (rec.policy != EAT_NOTHING) {
        struct slice rest = data;
        for (;;) {
            size_t end = sl_find(rest, SL_LIT("\r\n\r\n"));
            if (end == rest.n)
                break;
            used += end + 4;
            rest = sl_drop(rest, end + 4);
        }
    }
    *consumed = used;
    if (it)
        it->consumed = used;
    return TCP_CONTINUE;
}

static void on_tcp_end(void *ctx, const struct l4_meta *m, struct slice rest)
{
    (void)ctx;
    rec_add('e', m, rest);
}

static void on_anomaly(void *ctx, const struct l4_meta *m, enum cap_anomaly a)
{
    (void)ctx;
    rec.anomalies[a]++;
    rec.anomaly_m = *m;
}

static const struct l4_handler handler = { NULL, on_udp, on_tcp, on_tcp_end, on_anomaly };

static int n_anomalies(void)
{
    int n = 0;
    for (int i = 0; i < CAP_A__COUNT; i++)
        n += rec.anomalies[i];
    return n;
}

static struct capture_stats st;
static uint64_t clock_us, frame_no;

static struct reasm *start(const struct reasm_cfg *cfg)
{
    struct reasm_cfg c;
    reasm_default_cfg(&c);
    if (cfg)
        c = *cfg;
    memset(&rec, 0, sizeof rec);
    memset(&st, 0, sizeof st);
    clock_us = 1700000000000000ull;
    frame_no = 0;
    char err[128] = "";
    struct reasm *r = reasm_new(&c, &handler, &st, err, sizeof err);
    if (!r)
        fprintf(stderr, "  reasm_new: %s\n", err);
    return r;
}

/* Compare a recorded item's bytes with a literal or a buffer. */
static bool item_is(const struct rec_item *it, const void *p, size_t n)
{
    return it->n == n && memcmp(it->data, p, n < REC_DATA ? n : REC_DATA) == 0;
}

/* ---- packet building ----------------------------------------------------- */

static void w16(uint8_t *o, unsigned v)
{
    o[0] = (uint8_t)(v >> 8);
    o[1] = (uint8_t)v;
}

static void w32(uint8_t *o, uint32_t v)
{
    w16(o, v >> 16);
    w16(o + 2, v & 0xffff);
}

/* An address from its text form (IPv4 or IPv6). */
static struct ip_addr addr(const char *s)
{
    struct ip_addr a;
    ip_parse(s, &a);
    return a;
}

/* An IPv4 header over payload (checksums are not checked, so left 0). */
static size_t ip4(uint8_t *b, const struct ip_addr *src, const struct ip_addr *dst, uint8_t proto,
                  uint16_t id, uint16_t frag, const void *pl, size_t n)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    w16(b + 2, (unsigned)(20 + n));
    w16(b + 4, id);
    w16(b + 6, frag);
    b[8] = 64;
    b[9] = proto;
    memcpy(b + 12, src->b + 12, 4);
    memcpy(b + 16, dst->b + 12, 4);
    memcpy(b + 20, pl, n);
    return 20 + n;
}

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

static size_t tcp(uint8_t *b, unsigned sp, unsigned dp, uint32_t seq, uint32_t ack, uint8_t flags,
                  const void *pl, size_t n)
{
    memset(b, 0, 20);
    w16(b, sp);
    w16(b + 2, dp);
    w32(b + 4, seq);
    w32(b + 8, ack);
    b[12] = 5 << 4;
    b[13] = flags;
    w16(b + 14, 65535);
    if (n)
        memcpy(b + 20, pl, n);
    return 20 + n;
}

static struct l4_meta next_meta(void)
{
    clock_us += 1000;
    return (struct l4_meta){ .ts_us = clock_us, .frame = ++frame_no, .vlan = 7, .input = 1 };
}

/* Hand one IPv4 packet to reasm as the decoder does, from an exact-size heap
 * copy so ASan sees any read past it. */
static void feed4(struct reasm *r, const uint8_t *pkt, size_t n)
{
    struct l4_meta m = next_meta();
    ip_from_v4(&m.src, pkt + 12);
    ip_from_v4(&m.dst, pkt + 16);
    m.proto = pkt[9];
    uint8_t *copy = malloc(n);
    memcpy(copy, pkt, n);
    reasm_ipv4(r, &m, sl_make(copy, n));
    free(copy);
}

/* One TCP connection, IPv4 or IPv6, with sequence numbers kept for us. */
struct conn {
    struct ip_addr c, s;
    unsigned cport, sport;
    uint32_t cseq, sseq; /* next byte each side sends */
    bool v6;
};

static void conn_send(struct reasm *r, struct conn *k, bool from_client, uint8_t flags,
                      const char *data, size_t n, uint32_t seq_off)
{
    static uint8_t seg[70000], pkt[70020];
    uint32_t seq = (from_client ? k->cseq : k->sseq) + seq_off;
    uint32_t ack = flags & TH_ACK ? (from_client ? k->sseq : k->cseq) : 0;
    size_t sn = from_client ? tcp(seg, k->cport, k->sport, seq, ack, flags, data, n)
                            : tcp(seg, k->sport, k->cport, seq, ack, flags, data, n);
    const struct ip_addr *src = from_client ? &k->c : &k->s, *dst = from_client ? &k->s : &k->c;
    if (k->v6) {
        struct l4_meta m = next_meta();
        m.src = *src;
        m.dst = *dst;
        m.proto = IPPROTO_TCP;
        m.flags = L4_F_IPV6;
        uint8_t *copy = malloc(sn);
        memcpy(copy, seg, sn);
        reasm_tcp6(r, &m, sl_make(copy, sn));
        free(copy);
    } else {
        feed4(r, pkt, ip4(pkt, src, dst, IPPROTO_TCP, (uint16_t)frame_no, 0x4000, seg, sn));
    }
}

/* Data at the sender's current position, advancing it; seq_off shifts a
 * segment forward (for reordering) without advancing. */
static void conn_data(struct reasm *r, struct conn *k, bool from_client, const char *d, size_t n)
{
    conn_send(r, k, from_client, TH_ACK | TH_PSH, d, n, 0);
    if (from_client)
        k->cseq += (uint32_t)n;
    else
        k->sseq += (uint32_t)n;
}

static void conn_open(struct reasm *r, struct conn *k)
{
    k->cseq = 1000;
    k->sseq = 5000;
    conn_send(r, k, true, TH_SYN, NULL, 0, 0);
    k->cseq++;
    conn_send(r, k, false, TH_SYN | TH_ACK, NULL, 0, 0);
    k->sseq++;
    conn_send(r, k, true, TH_ACK, NULL, 0, 0);
}

static struct conn conn4(unsigned cport)
{
    return (struct conn){ addr("192.0.2.10"), addr("192.0.2.20"), cport, 5060, 0, 0, false };
}

static bool meta_is(const struct l4_meta *m, const struct ip_addr *src, unsigned sport,
                    const struct ip_addr *dst, unsigned dport)
{
    return ip_eq(&m->src, src) && ip_eq(&m->dst, dst) && m->sport == sport && m->dport == dport;
}

#define MSG1 "OPTIONS sip:bob@example.com SIP/2.0\r\nCall-ID: one@test\r\nContent-Length: 0\r\n\r\n"
#define MSG2 "OPTIONS sip:bob@example.com SIP/2.0\r\nCall-ID: two@test\r\nContent-Length: 0\r\n\r\n"

/* ---- IPv4 fragments ------------------------------------------------------ */

TEST(reasm_udp_fragments_reversed_arrive_whole)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    /* A 3,000-byte SIP-ish payload in a UDP datagram: 3,008 bytes of IP
     * payload cut at 1,480 and 2,960 (multiples of 8). */
    static uint8_t udp[3008], pkt[1600];
    for (size_t i = 8; i < sizeof udp; i++)
        udp[i] = (uint8_t)('a' + i % 26);
    memcpy(udp + 8, "INVITE sip:bob@example.com SIP/2.0\r\n", 36);
    w16(udp, 5070);
    w16(udp + 2, 5060);
    w16(udp + 4, sizeof udp);
    struct ip_addr a = addr("192.0.2.1"), b = addr("198.51.100.2");
    feed4(r, pkt, ip4(pkt, &a, &b, IPPROTO_UDP, 77, 2960 / 8, udp + 2960, 48));
    feed4(r, pkt, ip4(pkt, &a, &b, IPPROTO_UDP, 77, 0x2000 | 1480 / 8, udp + 1480, 1480));
    CHECK_EQ_INT(rec.n, 0);
    feed4(r, pkt, ip4(pkt, &a, &b, IPPROTO_UDP, 77, 0x2000, udp, 1480));
    CHECK_EQ_INT(rec.n, 1);
    const struct rec_item *it = &rec.it[0];
    CHECK(it->kind == 'u');
    CHECK(item_is(it, udp + 8, 3000));
    CHECK(meta_is(&it->m, &a, 5070, &b, 5060));
    CHECK(it->m.flags == L4_F_FRAGMENTED && it->m.proto == IPPROTO_UDP);
    /* time, frame, input and VLAN are the completing (last fed) fragment's */
    CHECK(it->m.frame == 3 && it->m.ts_us == clock_us && it->m.vlan == 7 && it->m.input == 1);
    /* the decoder counts fragments and UDP; reasm adds nothing there */
    CHECK(st.frags_v4 == 0 && st.udp == 0);
    CHECK_EQ_INT(n_anomalies(), 0);
    /* unfragmented UDP is never fed to libnids, so never delivered here */
    feed4(r, pkt, ip4(pkt, &a, &b, IPPROTO_UDP, 78, 0x4000, udp, 100));
    CHECK_EQ_INT(rec.n, 1);
    reasm_free(r);
}

/* ---- TCP ----------------------------------------------------------------- */

TEST(reasm_tcp_reordered_segments_and_buffered_tail)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    struct conn k = conn4(40000);
    conn_open(r, &k);
    CHECK_EQ_INT(st.tcp_streams, 1);
    CHECK_EQ_INT(rec.n, 0);
    static const char s[] = MSG1 MSG2;
    const size_t n = sizeof s - 1, l1 = sizeof MSG1 - 1, cut1 = 20, cut2 = l1 + 30;
    /* segments [0,20) [20,l1+30) [l1+30,n), the last one sent before the middle */
    conn_send(r, &k, true, TH_ACK | TH_PSH, s, cut1, 0);
    conn_send(r, &k, true, TH_ACK | TH_PSH, s + cut2, n - cut2, (uint32_t)cut2);
    CHECK_EQ_INT(rec.n, 1); /* the out-of-order segment waits in libnids */
    conn_send(r, &k, true, TH_ACK | TH_PSH, s + cut1, cut2 - cut1, (uint32_t)cut1);
    k.cseq += (uint32_t)n;
    CHECK_EQ_INT(rec.n, 3);
    if (rec.n == 3) {
        /* 1st: 20 bytes, no whole message: nothing consumed */
        CHECK(item_is(&rec.it[0], s, cut1) && rec.it[0].consumed == 0);
        /* 2nd: the kept 20 bytes + the middle segment; MSG1 is consumed */
        CHECK(item_is(&rec.it[1], s, cut2) && rec.it[1].consumed == l1);
        /* 3rd: the unconsumed 30 bytes of MSG2 + the late segment, in order */
        CHECK(item_is(&rec.it[2], s + l1, n - l1) && rec.it[2].consumed == n - l1);
        for (int i = 0; i < 3; i++) {
            CHECK(rec.it[i].kind == 't' && rec.it[i].m.proto == IPPROTO_TCP);
            CHECK(meta_is(&rec.it[i].m, &k.c, 40000, &k.s, 5060));
            CHECK(rec.it[i].m.flags == 0 && rec.it[i].m.vlan == 7);
        }
        CHECK(rec.it[2].m.frame == frame_no);
        /* the handler's hint came back on each call of this direction */
        CHECK(rec.it[0].hint == 0 && rec.it[1].hint == 1 && rec.it[2].hint == 2);
    }
    CHECK_EQ_INT(st.tcp_bytes, n);
    /* the server answers with half a message: it stays buffered ... */
    static const char resp[] = "SIP/2.0 200 OK\r\nCall-ID: one@test\r\n";
    conn_data(r, &k, false, resp, sizeof resp - 1);
    CHECK_EQ_INT(rec.n, 4);
    CHECK(rec.n == 4 && rec.it[3].consumed == 0 && meta_is(&rec.it[3].m, &k.s, 5060, &k.c, 40000));
    CHECK(rec.n == 4 && rec.it[3].hint == 0); /* the other direction has its own */
    /* ... and is handed over when the run ends (NIDS_EXITING): the server's
     * half first (client -> server, nothing left), then the client's */
    rec.n = 0;
    reasm_free(r);
    CHECK_EQ_INT(rec.n, 2);
    if (rec.n == 2) {
        CHECK(rec.it[0].kind == 'e' && rec.it[0].n == 0);
        CHECK(meta_is(&rec.it[0].m, &k.c, 40000, &k.s, 5060));
        CHECK(rec.it[1].kind == 'e' && item_is(&rec.it[1], resp, sizeof resp - 1));
        CHECK(meta_is(&rec.it[1].m, &k.s, 5060, &k.c, 40000));
    }
    CHECK_EQ_INT(n_anomalies(), 0);
}

/* A TCP segment cut into two IPv4 fragments (sent last first) is rebuilt by
 * sipsift (capture/ip6frag.c) and reaches the stream once, whole. */
TEST(reasm_tcp_segment_in_ipv4_fragments)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    struct conn k = conn4(40100);
    conn_open(r, &k);
    static const char s[] = MSG1;
    static uint8_t seg[4096], pkt[4200];
    size_t sn = tcp(seg, k.cport, k.sport, k.cseq, k.sseq, TH_ACK | TH_PSH, s, sizeof s - 1);
    size_t cut = 48; /* a multiple of 8: the TCP header and 28 bytes of SIP */
    CHECK(sn > cut);
    feed4(r, pkt, ip4(pkt, &k.c, &k.s, IPPROTO_TCP, 0x3131, (uint16_t)(cut / 8), seg + cut, sn - cut));
    CHECK_EQ_INT(rec.n, 0);
    feed4(r, pkt, ip4(pkt, &k.c, &k.s, IPPROTO_TCP, 0x3131, 0x2000, seg, cut));
    CHECK_EQ_INT(rec.n, 1);
    if (rec.n == 1) {
        /* (stream bytes carry no per-packet flags: L4_F_FRAGMENTED is for datagrams) */
        CHECK(item_is(&rec.it[0], s, sizeof s - 1) && rec.it[0].consumed == sizeof s - 1);
    }
    CHECK_EQ_INT(st.reassembled_v4, 1);
    CHECK_EQ_INT(n_anomalies(), 0);
    reasm_free(r);
}

TEST(reasm_tcp_close_and_reset_end_the_stream)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    /* FIN both ways, each acknowledged: NIDS_CLOSE with the unconsumed tail */
    struct conn k = conn4(40001);
    conn_open(r, &k);
    conn_data(r, &k, true, MSG1 "BYE sip:", sizeof MSG1 - 1 + 8);
    conn_send(r, &k, true, TH_FIN | TH_ACK, NULL, 0, 0);
    k.cseq++;
    conn_send(r, &k, false, TH_ACK, NULL, 0, 0);
    conn_send(r, &k, false, TH_FIN | TH_ACK, NULL, 0, 0);
    k.sseq++;
    CHECK_EQ_INT(rec.n, 1);
    conn_send(r, &k, true, TH_ACK, NULL, 0, 0);
    CHECK_EQ_INT(rec.n, 3);
    if (rec.n == 3) {
        CHECK(rec.it[1].kind == 'e' && item_is(&rec.it[1], "BYE sip:", 8));
        CHECK(rec.it[2].kind == 'e' && rec.it[2].n == 0);
        CHECK(rec.it[1].m.frame == frame_no);
    }
    /* RST: NIDS_RESET */
    rec.n = 0;
    struct conn j = conn4(40002);
    conn_open(r, &j);
    conn_data(r, &j, true, "INVITE", 6);
    conn_send(r, &j, true, TH_RST, NULL, 0, 0);
    CHECK_EQ_INT(rec.n, 3);
    if (rec.n == 3)
        CHECK(rec.it[1].kind == 'e' && item_is(&rec.it[1], "INVITE", 6) &&
              meta_is(&rec.it[1].m, &j.c, 40002, &j.s, 5060));
    /* nothing is left open for reasm_free to flush */
    rec.n = 0;
    reasm_free(r);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(st.tcp_streams, 2);
}

TEST(reasm_tcp_ignore_stops_delivery)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = IGNORE_NON_SIP;
    /* one direction ignored: the other is still followed */
    struct conn k = conn4(40010);
    conn_open(r, &k);
    conn_data(r, &k, true, "\x16\x03\x01 not sip\r\n\r\n", 15);
    conn_data(r, &k, true, "more TLS", 8);
    CHECK_EQ_INT(rec.n, 1);
    conn_data(r, &k, false, "SIP/2.0 400 Bad\r\n\r\n", 19);
    CHECK_EQ_INT(rec.n, 2);
    CHECK(rec.n == 2 && meta_is(&rec.it[1].m, &k.s, 5060, &k.c, 40010));

    /* both directions ignored: libnids frees the stream without a callback,
     * and its later segments must not come back as mid-stream data */
    struct conn j = conn4(40011);
    conn_open(r, &j);
    conn_data(r, &j, true, "GET / HTTP/1.1\r\n\r\n", 18);
    conn_data(r, &j, false, "HTTP/1.1 200 OK\r\n\r\n", 19);
    CHECK_EQ_INT(rec.n, 4);
    conn_data(r, &j, true, "GET /2 HTTP/1.1\r\n\r\n", 19);
    conn_data(r, &j, false, "HTTP/1.1 404 Not Found\r\n\r\n", 26);
    CHECK_EQ_INT(rec.n, 4);

    /* a mid-stream segment ignored: the rest of that connection too */
    struct conn q = conn4(40012);
    q.cseq = 777, q.sseq = 999;
    conn_data(r, &q, true, "\x16\x03\x01 hello", 9);
    CHECK_EQ_INT(rec.n, 5);
    conn_data(r, &q, false, "\x16\x03\x01 server hello", 16);
    conn_data(r, &q, true, "SIP/2.0 looks like SIP now", 26);
    CHECK_EQ_INT(rec.n, 5);

    /* at the end only k's followed direction is flushed */
    rec.n = 0;
    reasm_free(r);
    CHECK_EQ_INT(rec.n, 1);
    CHECK(rec.n == 1 && rec.it[0].kind == 'e' && meta_is(&rec.it[0].m, &k.s, 5060, &k.c, 40010));
    CHECK_EQ_INT(n_anomalies(), 0);
}

TEST(reasm_tcp_midstream_segments_delivered_alone)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    struct conn k = conn4(40020);
    k.cseq = 123456, k.sseq = 654321;
    conn_data(r, &k, true, MSG1, sizeof MSG1 - 1);
    conn_data(r, &k, false, "SIP/2.0 200 OK\r\n\r\n", 18);
    CHECK_EQ_INT(rec.n, 2);
    if (rec.n == 2) {
        CHECK(item_is(&rec.it[0], MSG1, sizeof MSG1 - 1));
        CHECK(meta_is(&rec.it[0].m, &k.c, 40020, &k.s, 5060));
        CHECK(item_is(&rec.it[1], "SIP/2.0 200 OK\r\n\r\n", 18));
    }
    CHECK_EQ_INT(st.tcp_streams, 0);
    rec.n = 0;
    reasm_free(r);
    CHECK_EQ_INT(rec.n, 0);
}

TEST(reasm_tcp_overflow_drops_the_unconsumed_bytes)
{
    struct reasm_cfg c;
    reasm_default_cfg(&c);
    c.tcp_buf_max = 64;
    struct reasm *r = start(&c);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    struct conn k = conn4(40030);
    conn_open(r, &k);
    static char junk[100];
    memset(junk, 'x', sizeof junk);
    conn_data(r, &k, true, junk, 60); /* 60 kept: within the limit */
    CHECK_EQ_INT(rec.anomalies[CAP_A_TCP_OVERFLOW], 0);
    conn_data(r, &k, true, junk, 40); /* 100 kept: over it, all dropped */
    CHECK_EQ_INT(rec.anomalies[CAP_A_TCP_OVERFLOW], 1);
    CHECK(meta_is(&rec.anomaly_m, &k.c, 40030, &k.s, 5060));
    conn_data(r, &k, true, MSG2, sizeof MSG2 - 1);
    CHECK_EQ_INT(rec.n, 3);
    if (rec.n == 3) {
        CHECK(rec.it[0].n == 60 && rec.it[1].n == 100);
        /* only the new bytes: the 100 were discarded */
        CHECK(item_is(&rec.it[2], MSG2, sizeof MSG2 - 1) && rec.it[2].consumed == sizeof MSG2 - 1);
    }
    reasm_free(r);
}

TEST(reasm_tcp_table_full_evicts_the_oldest)
{
    struct reasm_cfg c;
    reasm_default_cfg(&c);
    c.tcp_streams = 8; /* libnids: 3/4 of 8 = 6 slots, + 1 spare */
    struct reasm *r = start(&c);
    CHECK(r != NULL);
    if (!r)
        return;
    struct conn k[8];
    for (unsigned i = 0; i < 8; i++) {
        k[i] = conn4(41000 + i);
        conn_open(r, &k[i]);
    }
    /* the 8th SYN evicted the 1st (established) stream: one warning, and the
     * stream ends (NIDS_TIMED_OUT) in both directions */
    CHECK_EQ_INT(rec.anomalies[CAP_A_TCP_TABLE_FULL], 1);
    CHECK_EQ_INT(n_anomalies(), 1);
    CHECK_EQ_INT(rec.n, 2);
    if (rec.n == 2) {
        CHECK(rec.it[0].kind == 'e' && meta_is(&rec.it[0].m, &k[0].c, 41000, &k[0].s, 5060));
        CHECK(rec.it[1].kind == 'e' && meta_is(&rec.it[1].m, &k[0].s, 5060, &k[0].c, 41000));
    }
    CHECK_EQ_INT(st.tcp_streams, 8);
    rec.n = 0;
    reasm_free(r);
    CHECK_EQ_INT(rec.n, 14); /* the 7 left, two directions each */
}

/* ---- IPv6 fragments ------------------------------------------------------ */

static struct l4_meta meta6(void)
{
    struct l4_meta m = next_meta();
    ip_parse("2001:db8::1", &m.src);
    ip_parse("2001:db8::2", &m.dst);
    m.flags = L4_F_IPV6;
    return m;
}

/* Fragment header: next header, offset in bytes, more flag, identification. */
static struct slice fh6(uint8_t *b, uint8_t nh, uint32_t off, bool more, uint32_t id)
{
    b[0] = nh;
    b[1] = 0;
    w16(b + 2, off | (more ? 1u : 0u));
    w32(b + 4, id);
    return sl_make(b, 8);
}

/* Offer one fragment (from a heap copy); true when the set completed. */
static bool frag6(struct reasm *r, uint32_t id, uint32_t off, bool more, const uint8_t *d, size_t n,
                  struct slice *out, uint8_t *nh)
{
    uint8_t hb[8];
    struct l4_meta m = meta6();
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, d, n);
    bool done = reasm_ipv6_frag(r, &m, fh6(hb, 17, off, more, id), sl_make(copy, n), 17, out, nh);
    free(copy);
    return done;
}

TEST(reasm_ipv6_fragments_in_order_reversed_duplicated)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    static uint8_t d[3000];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(i * 7);
    struct slice out = SL_NULL;
    uint8_t nh = 0;
    CHECK(!frag6(r, 1, 0, true, d, 1232, &out, &nh));
    CHECK(!frag6(r, 1, 1232, true, d + 1232, 1232, &out, &nh));
    CHECK(frag6(r, 1, 2464, false, d + 2464, 536, &out, &nh));
    CHECK(out.n == 3000 && nh == 17 && memcmp(out.p, d, 3000) == 0);
    CHECK(!frag6(r, 2, 2464, false, d + 2464, 536, &out, &nh));
    CHECK(!frag6(r, 2, 1232, true, d + 1232, 1232, &out, &nh));
    CHECK(frag6(r, 2, 0, true, d, 1232, &out, &nh));
    CHECK(out.n == 3000 && memcmp(out.p, d, 3000) == 0);
    /* an exact duplicate (a SPAN port seeing the packet twice) is not an overlap */
    CHECK(!frag6(r, 3, 0, true, d, 1232, &out, &nh));
    CHECK(!frag6(r, 3, 0, true, d, 1232, &out, &nh));
    CHECK(frag6(r, 3, 1232, false, d + 1232, 100, &out, &nh));
    CHECK(out.n == 1332 && memcmp(out.p, d, 1332) == 0);
    /* ... and so is a copy arriving after the datagram was rebuilt: it does
     * not start a set that could only time out */
    CHECK(!frag6(r, 3, 1232, false, d + 1232, 100, &out, &nh));
    CHECK(!frag6(r, 1, 0, true, d, 1232, &out, &nh));
    /* the decoder counts fragments; reasm counts datagrams rebuilt */
    CHECK_EQ_INT(st.reassembled_v6, 3);
    CHECK_EQ_INT(st.frags_v6, 0);
    CHECK_EQ_INT(n_anomalies(), 0);
    reasm_free(r);
    CHECK_EQ_INT(n_anomalies(), 0); /* nothing left incomplete */
}

TEST(reasm_ipv6_fragments_overlap_expiry_limits)
{
    struct reasm_cfg c;
    reasm_default_cfg(&c);
    c.ip6_frag_sets = 2;
    c.ip6_frag_bytes = 8192;
    struct reasm *r = start(&c);
    CHECK(r != NULL);
    if (!r)
        return;
    static uint8_t d[4096];
    struct slice out;
    uint8_t nh;
    /* overlap (RFC 5722): the set is dropped, the rest never completes it */
    CHECK(!frag6(r, 10, 0, true, d, 64, &out, &nh));
    CHECK(!frag6(r, 10, 32, true, d + 1, 64, &out, &nh));
    CHECK_EQ_INT(rec.anomalies[CAP_A_FRAG_OVERLAP], 1);
    CHECK(!frag6(r, 10, 96, false, d, 8, &out, &nh));
    CHECK_EQ_INT(n_anomalies(), 1);
    /* expiry by capture time, 60 s after the first fragment even though a
     * later one arrived at +50 s */
    uint64_t t0 = clock_us;
    reasm_tick(r, t0 + 50000000);
    CHECK(!frag6(r, 10, 0, true, d, 8, &out, &nh)); /* joins the set from +0 s */
    clock_us = t0 + 50000000;
    CHECK(!frag6(r, 10, 8, true, d, 8, &out, &nh));
    reasm_tick(r, t0 + 59000000);
    CHECK_EQ_INT(rec.anomalies[CAP_A_FRAG_TIMEOUT], 0);
    reasm_tick(r, t0 + 61000000);
    CHECK_EQ_INT(rec.anomalies[CAP_A_FRAG_TIMEOUT], 1);
    /* the missing middle arrives too late: alone, it completes nothing */
    clock_us = t0 + 61000000;
    CHECK(!frag6(r, 10, 16, true, d, 80, &out, &nh));
    /* a third set where two fit: the oldest is evicted */
    CHECK(!frag6(r, 11, 0, true, d, 64, &out, &nh));
    CHECK(!frag6(r, 12, 0, true, d, 64, &out, &nh));
    CHECK_EQ_INT(rec.anomalies[CAP_A_FRAG_LIMIT], 1);
    /* the byte budget: 8 KiB, 8 KiB held by two 4 KiB sets: a 12 KiB one is refused */
    CHECK(!frag6(r, 13, 8192, true, d, 4096, &out, &nh));
    CHECK_EQ_INT(rec.anomalies[CAP_A_FRAG_LIMIT], 3); /* evicted 11, then refused */
    /* larger than 65,535 bytes rebuilt: malformed */
    CHECK(!frag6(r, 14, 65528, false, d, 16, &out, &nh));
    CHECK_EQ_INT(rec.anomalies[CAP_A_BAD_IP], 1);
    CHECK_EQ_INT(st.reassembled_v6, 0);
    reasm_free(r);
}

/* ---- TCP over IPv6 and the 240/4 shim ------------------------------------ */

TEST(reasm_tcp6_through_the_shim_keeps_ipv6_addresses)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    struct conn k = { .cport = 40040, .sport = 5060, .v6 = true };
    ip_parse("2001:db8:1::10", &k.c);
    ip_parse("2001:db8:2::20", &k.s);
    conn_open(r, &k);
    CHECK_EQ_INT(st.tcp_streams, 1);
    static const char s[] = MSG1 MSG2;
    conn_send(r, &k, true, TH_ACK | TH_PSH, s + 50, sizeof s - 1 - 50, 50);
    conn_send(r, &k, true, TH_ACK | TH_PSH, s, 50, 0);
    k.cseq += (uint32_t)(sizeof s - 1);
    conn_data(r, &k, false, "SIP/2.0 200 OK\r\n\r\n", 18);
    CHECK_EQ_INT(rec.n, 3);
    if (rec.n == 3) {
        CHECK(item_is(&rec.it[0], s, 50));
        CHECK(item_is(&rec.it[1], s, sizeof s - 1));
        CHECK(meta_is(&rec.it[1].m, &k.c, 40040, &k.s, 5060));
        CHECK(rec.it[1].m.flags == L4_F_IPV6);
        CHECK(meta_is(&rec.it[2].m, &k.s, 5060, &k.c, 40040) && rec.it[2].m.flags == L4_F_IPV6);
    }
    /* a real IPv4 packet using the stand-ins libnids knows this stream by
     * (240.0.0.1/.2) is dropped, not spliced into it */
    static uint8_t seg[64], pkt[128];
    struct ip_addr s1 = addr("240.0.0.1"), s2 = addr("240.0.0.2");
    size_t sn = tcp(seg, 40040, 5060, k.cseq, k.sseq, TH_ACK | TH_PSH, "BYE x\r\n\r\n", 9);
    feed4(r, pkt, ip4(pkt, &s1, &s2, IPPROTO_TCP, 1, 0, seg, sn));
    CHECK_EQ_INT(rec.anomalies[CAP_A_BAD_IP], 1);
    CHECK_EQ_INT(rec.n, 3);
    /* an IPv4 stream alongside is not marked IPv6 */
    struct conn j = conn4(40041);
    conn_open(r, &j);
    conn_data(r, &j, true, MSG1, sizeof MSG1 - 1);
    CHECK(rec.n == 4 && rec.it[3].m.flags == 0 && ip_is_v4(&rec.it[3].m.src));
    rec.n = 0;
    reasm_free(r);
    CHECK_EQ_INT(rec.n, 4);
    if (rec.n == 4) {
        int v6 = 0;
        for (int i = 0; i < 4; i++)
            v6 += ip_eq(&rec.it[i].m.src, &k.c) || ip_eq(&rec.it[i].m.src, &k.s);
        CHECK_EQ_INT(v6, 2);
    }
}

TEST(reasm_real_240_ipv4_is_dropped)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    struct conn k = { addr("240.1.2.3"), addr("192.0.2.20"), 40050, 5060, 0, 0, false };
    conn_open(r, &k);
    conn_data(r, &k, true, MSG1, sizeof MSG1 - 1);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(st.tcp_streams, 0);
    CHECK_EQ_INT(rec.anomalies[CAP_A_BAD_IP], 4);
    CHECK(ip_eq(&rec.anomaly_m.src, &k.c) && rec.anomaly_m.frame == frame_no);
    /* a fragment to 255.255.255.255 (in 240/4 too) */
    uint8_t pkt[64];
    struct ip_addr a = addr("192.0.2.1"), b = addr("255.255.255.255");
    feed4(r, pkt, ip4(pkt, &a, &b, IPPROTO_UDP, 9, 0x2000, "12345678", 8));
    CHECK_EQ_INT(rec.anomalies[CAP_A_BAD_IP], 5);
    reasm_free(r);
}

TEST(reasm_runs_again_after_free)
{
    /* libnids is global: a second instance while one lives is refused, and a
     * new one after reasm_free works (callbacks registered again). */
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    struct reasm_cfg c;
    reasm_default_cfg(&c);
    char err[128] = "";
    CHECK(reasm_new(&c, &handler, &st, err, sizeof err) == NULL && strstr(err, "already"));
    reasm_free(r);
    /* sizes that cannot work are refused with a reason */
    c.ip6_map_entries = 1;
    CHECK(reasm_new(&c, &handler, &st, err, sizeof err) == NULL && strstr(err, "IPv6 map"));
    reasm_default_cfg(&c);
    c.tcp_streams = 2;
    CHECK(reasm_new(&c, &handler, &st, err, sizeof err) == NULL && strstr(err, "TCP stream table"));
    r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    struct conn k = conn4(40060);
    conn_open(r, &k);
    conn_data(r, &k, true, MSG1, sizeof MSG1 - 1);
    CHECK_EQ_INT(rec.n, 1);
    reasm_free(r);
}

/* ---- captures ------------------------------------------------------------ */

/* The public sngrep capture (Linux cooked v1): two INVITEs over UDP/IPv6 in
 * two fragments each, the rest unfragmented. tshark: UDP lengths 1699, 1879. */
TEST(reasm_sngrep_ipv6frag_pcap)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(TEST_DATA("/work/shared/pcaps/public/sngrep/ipv6frag.pcap"), eb);
    if (!p)
        p = pcap_open_offline(TEST_DATA("pcaps/public/sngrep/ipv6frag.pcap"), eb);
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_EQ_INT(pcap_datalink(p), DLT_LINUX_SLL);
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    struct pcap_pkthdr *h;
    const u_char *d;
    int frags = 0, done = 0;
    size_t lens[4] = { 0 };
    while (r && pcap_next_ex(p, &h, &d) == 1) {
        struct slice f = sl_make(d, h->caplen);
        /* SLL: 16 bytes, protocol at 14; IPv6: next header at 6, addresses at 8/24 */
        if (f.n < 16 + 40 + 8 || f.p[14] != 0x86 || f.p[15] != 0xdd || f.p[16 + 6] != 44)
            continue;
        struct slice ip = sl_drop(f, 16);
        struct l4_meta m = { .ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec,
                             .frame = ++frame_no, .flags = L4_F_IPV6 };
        ip_from_v6(&m.src, ip.p + 8);
        ip_from_v6(&m.dst, ip.p + 24);
        struct slice rest = sl_drop(ip, 40);
        struct slice out;
        uint8_t nh;
        frags++;
        if (reasm_ipv6_frag(r, &m, sl_prefix(rest, 8), sl_drop(rest, 8), rest.p[0], &out, &nh)) {
            CHECK(nh == 17 && out.n > 8 && out.n == (size_t)(out.p[4] << 8 | out.p[5]));
            struct slice sip = sl_drop(out, 8);
            CHECK(sl_starts_lit(sip, "INVITE sip:08019200028@[fd17:625c:f037:2:a00:27ff:feb9:4222]"
                                     ":25060 SIP/2.0\r\n"));
            CHECK(sl_find(out, SL_LIT("\r\n\r\nv=0\r\n")) < out.n); /* the SDP body */
            CHECK(sl_ends(out, SL_LIT("\r\n")));
            if (done < 4)
                lens[done] = out.n;
            done++;
        }
    }
    CHECK_EQ_INT(frags, 4);
    CHECK_EQ_INT(done, 2);
    CHECK_EQ_INT(lens[0], 1699);
    CHECK_EQ_INT(lens[1], 1879);
    CHECK_EQ_INT(n_anomalies(), 0);
    reasm_free(r);
    pcap_close(p);
}

/*
 * Feed a generated Ethernet capture as the decoder would: IPv4 TCP and
 * fragments to reasm_ipv4, IPv6 fragments to reasm_ipv6_frag (a rebuilt UDP
 * datagram is recorded here, as the decoder would deliver it), TCP over IPv6
 * to reasm_tcp6. Returns the frames read, or -1 if the file is missing.
 */
static int feed_pcap(struct reasm *r, const char *path)
{
    char eb[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, eb);
    if (!p) {
        fprintf(stderr, "  %s: %s\n", path, eb);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    int n = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        n++;
        struct slice f = sl_make(d, h->caplen);
        struct l4_meta m = { .ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec,
                             .frame = (uint64_t)n };
        uint16_t type = f.n >= 14 ? (uint16_t)(f.p[12] << 8 | f.p[13]) : 0;
        struct slice ip = sl_drop(f, 14);
        if (type == 0x0800 && ip.n >= 20) {
            ip_from_v4(&m.src, ip.p + 12);
            ip_from_v4(&m.dst, ip.p + 16);
            m.proto = ip.p[9];
            reasm_ipv4(r, &m, sl_prefix(ip, (size_t)(ip.p[2] << 8 | ip.p[3])));
        } else if (type == 0x86dd && ip.n >= 48) {
            ip_from_v6(&m.src, ip.p + 8);
            ip_from_v6(&m.dst, ip.p + 24);
            m.flags = L4_F_IPV6;
            struct slice up = sl_drop(ip, 40);
            struct slice out;
            uint8_t nh;
            if (ip.p[6] == IPPROTO_TCP) {
                m.proto = IPPROTO_TCP;
                reasm_tcp6(r, &m, up);
            } else if (ip.p[6] == 44 && reasm_ipv6_frag(r, &m, sl_prefix(up, 8), sl_drop(up, 8),
                                                        up.p[0], &out, &nh) &&
                       nh == IPPROTO_UDP && out.n >= 8) {
                m.proto = IPPROTO_UDP;
                m.flags |= L4_F_FRAGMENTED;
                m.sport = (uint16_t)(out.p[0] << 8 | out.p[1]);
                m.dport = (uint16_t)(out.p[2] << 8 | out.p[3]);
                on_udp(NULL, &m, sl_drop(out, 8));
            }
        }
    }
    pcap_close(p);
    return n;
}

/* Concatenate what the handler consumed of one direction ('t' items from src). */
static size_t consumed_from(const struct ip_addr *src, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < rec.n; i++) {
        const struct rec_item *it = &rec.it[i];
        if (it->kind != 't' || !ip_eq(&it->m.src, src) || n + it->consumed > cap)
            continue;
        memcpy(buf + n, it->data, it->consumed);
        n += it->consumed;
    }
    return n;
}

/* pcaps/test/reasm/ (tests/gen/make_reasm_pcaps.py, scapy): what tshark 4.0.17
 * rebuilds, except the overlapping IPv6 datagram, which tshark accepts and
 * RFC 5722 (and we) drop. */
static void check_generated(const char *path, const char *cli, const char *srv, const char *frag_id,
                            bool v6)
{
    struct reasm *r = start(NULL);
    CHECK(r != NULL);
    if (!r)
        return;
    rec.policy = EAT_MESSAGES;
    int frames = feed_pcap(r, path);
    CHECK_EQ_INT(frames, v6 ? 18 : 14);
    reasm_free(r);
    struct ip_addr c = addr(cli), s = addr(srv);
    int udp = 0, ends = 0;
    for (int i = 0; i < rec.n; i++) {
        const struct rec_item *it = &rec.it[i];
        if (it->kind == 'u') {
            udp++;
            /* the 3,143-byte datagram, whole: an INVITE with 2,900 bytes of padding */
            struct slice got = sl_make(it->data, it->n);
            CHECK(it->n == 3135 && sl_starts_lit(got, "INVITE sip:bob@example.com"));
            CHECK(sl_find(got, sl_cstr(frag_id)) < it->n);
            CHECK(sl_ends(got, SL_LIT("Content-Length: 0\r\n\r\n")));
            CHECK(it->m.flags == (L4_F_FRAGMENTED | (v6 ? L4_F_IPV6 : 0)) && it->m.frame == 3);
        } else if (it->kind == 'e') {
            ends++;
            CHECK(it->n == 0);
        } else {
            CHECK(it->m.flags == (v6 ? L4_F_IPV6 : 0));
            CHECK((ip_eq(&it->m.src, &c) && ip_eq(&it->m.dst, &s)) ||
                  (ip_eq(&it->m.src, &s) && ip_eq(&it->m.dst, &c)));
        }
    }
    CHECK_EQ_INT(udp, 1);
    CHECK_EQ_INT(ends, 2); /* FIN both ways: NIDS_CLOSE, nothing left over */
    CHECK_EQ_INT(st.tcp_streams, 1);
    static uint8_t buf[2048];
    size_t n = consumed_from(&c, buf, sizeof buf);
    struct slice up = sl_make(buf, n);
    size_t one = sl_find(up, SL_LIT("Call-ID: tcp-one@reasm.test\r\n"));
    size_t two = sl_find(up, SL_LIT("Call-ID: tcp-two@reasm.test\r\n"));
    CHECK(n == 464 && one < two && two < n); /* both OPTIONS, in order, whole */
    n = consumed_from(&s, buf, sizeof buf);
    CHECK(n == 211 && sl_starts_lit(sl_make(buf, n), "SIP/2.0 200 OK\r\n"));
    CHECK_EQ_INT(rec.anomalies[CAP_A_FRAG_OVERLAP], v6 ? 1 : 0);
    /* the overlapping set's last fragment, alone after the drop, never completes */
    CHECK_EQ_INT(rec.anomalies[CAP_A_FRAG_TIMEOUT], v6 ? 1 : 0);
    CHECK_EQ_INT(n_anomalies(), v6 ? 2 : 0);
}

TEST(reasm_generated_pcaps)
{
    check_generated(TEST_DATA("pcaps/test/reasm/v4-frag-tcp.pcap"), "192.0.2.10", "192.0.2.20",
                    "Call-ID: frag4@reasm.test", false);
    check_generated(TEST_DATA("pcaps/test/reasm/v6-frag-tcp.pcap"), "2001:db8:1::10",
                    "2001:db8:2::20", "Call-ID: frag6@reasm.test", true);
}
