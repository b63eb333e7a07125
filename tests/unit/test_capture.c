/* test_capture.c - the capture front end: decode.c on hand-built frames (every
 * link type, VLAN tags, PPPoE, GRE, IP-in-IP, IPv6 extension headers,
 * truncation, lying lengths), the generated captures in pcaps/test/, and
 * input.c + pcapng.c on the public corpus, hand-built pcapng and broken files.
 * HEP is in test_hep.c. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/decode.h"
#include "capture/input.h"
#include "capture/reasm.h"
#include "lib/ipaddr.h"

/* ---- a packet builder: layers are pushed innermost first ----------------- */

struct pb {
    uint8_t b[4096];
    size_t off;
};

static void pb_init(struct pb *p) { p->off = sizeof p->b; }
static size_t pb_len(const struct pb *p) { return sizeof p->b - p->off; }
static const uint8_t *pb_data(const struct pb *p) { return p->b + p->off; }
static uint8_t *pb_data_mut(struct pb *p) { return p->b + p->off; }
static uint8_t *pb_push(struct pb *p, size_t n)
{
    p->off -= n;
    return p->b + p->off;
}
static void pb_bytes(struct pb *p, const void *d, size_t n) { memcpy(pb_push(p, n), d, n); }
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

/* Append bytes after the packet (Ethernet padding). */
static void pb_bytes_end(struct pb *p, const void *d, size_t n)
{
    size_t len = pb_len(p);
    memmove(p->b + p->off - n, p->b + p->off, len);
    p->off -= n;
    memcpy(p->b + sizeof p->b - n, d, n);
}

static void pb_udp(struct pb *p, unsigned sp, unsigned dp)
{
    size_t n = pb_len(p) + 8;
    uint8_t *h = pb_push(p, 8);
    w16(h, sp);
    w16(h + 2, dp);
    w16(h + 4, (unsigned)n);
    w16(h + 6, 0);
}

static void pb_tcp(struct pb *p, unsigned sp, unsigned dp)
{
    uint8_t *h = pb_push(p, 20);
    memset(h, 0, 20);
    w16(h, sp);
    w16(h + 2, dp);
    w32(h + 4, 1000);
    h[12] = 5 << 4;
    h[13] = 0x02; /* SYN */
    w16(h + 14, 65535);
}

static void pb_ip4(struct pb *p, uint8_t proto, const char *src, const char *dst)
{
    size_t n = pb_len(p) + 20;
    uint8_t *h = pb_push(p, 20);
    memset(h, 0, 20);
    h[0] = 0x45;
    w16(h + 2, (unsigned)n);
    w16(h + 4, 1);
    h[8] = 64;
    h[9] = proto;
    inet_pton(AF_INET, src, h + 12);
    inet_pton(AF_INET, dst, h + 16);
}

static void pb_ip6(struct pb *p, uint8_t nh, const char *src, const char *dst)
{
    size_t n = pb_len(p);
    uint8_t *h = pb_push(p, 40);
    memset(h, 0, 40);
    h[0] = 0x60;
    w16(h + 4, (unsigned)n);
    h[6] = nh;
    h[7] = 64;
    inet_pton(AF_INET6, src, h + 8);
    inet_pton(AF_INET6, dst, h + 24);
}

/* An IPv6 extension header of `type` and `len` bytes, followed by `nh`.
 * Zero option bytes are Pad1 options: valid. */
static void pb_ext6(struct pb *p, uint8_t nh, uint8_t type, size_t len)
{
    uint8_t *h = pb_push(p, len);
    memset(h, 0, len);
    h[0] = nh;
    h[1] = (uint8_t)(type == 51 ? len / 4 - 2 : len / 8 - 1);
}

static void pb_frag6(struct pb *p, uint8_t nh, unsigned offset, bool more, uint32_t id)
{
    uint8_t *h = pb_push(p, 8);
    h[0] = nh;
    h[1] = 0;
    w16(h + 2, (offset & 0xfff8) | (more ? 1 : 0));
    w32(h + 4, id);
}

static void pb_eth(struct pb *p, unsigned type)
{
    uint8_t *h = pb_push(p, 14);
    memcpy(h, "\x02\0\0\0\0\x14\x02\0\0\0\0\x0a", 12);
    w16(h + 12, type);
}

/* One VLAN tag (TCI, then the Ethertype after it); the TPID is the type of
 * whatever is pushed next. */
static void pb_tag(struct pb *p, unsigned tci, unsigned inner_type)
{
    uint8_t *h = pb_push(p, 4);
    w16(h, tci);
    w16(h + 2, inner_type);
}

static void pb_sll(struct pb *p, unsigned proto)
{
    uint8_t *h = pb_push(p, 16);
    memset(h, 0, 16);
    w16(h + 2, 1); /* ARPHRD_ETHER */
    w16(h + 4, 6);
    w16(h + 14, proto);
}

static void pb_sll2(struct pb *p, unsigned proto)
{
    uint8_t *h = pb_push(p, 20);
    memset(h, 0, 20);
    w16(h, proto);
    w32(h + 4, 2); /* ifindex */
    w16(h + 8, 1);
    h[11] = 6;
}

static void pb_pppoe(struct pb *p, unsigned ppp_proto, bool compressed)
{
    if (compressed)
        *pb_push(p, 1) = (uint8_t)ppp_proto;
    else
        w16(pb_push(p, 2), ppp_proto);
    size_t n = pb_len(p);
    uint8_t *h = pb_push(p, 6);
    h[0] = 0x11;
    h[1] = 0;
    w16(h + 2, 0x0001);
    w16(h + 4, (unsigned)n);
}

/* GRE header with `words` optional 4-byte fields actually present. */
static void pb_gre(struct pb *p, unsigned flags, unsigned proto, unsigned words)
{
    uint8_t *h = pb_push(p, 4 + 4 * words);
    memset(h, 0, 4 + 4 * words);
    w16(h, flags);
    w16(h + 2, proto);
    for (unsigned i = 0; i < words; i++)
        w32(h + 4 + 4 * i, 0x1234 + i);
}

/* ---- a handler that records what capture delivers ------------------------ */

#define REC_MAX 64
struct got {
    struct l4_meta m;
    size_t n;
    uint8_t p[2048];
};

static struct {
    struct capture_stats st;
    int n; /* UDP datagrams delivered */
    struct got g[REC_MAX];
    int anom[CAP_A__COUNT];
    int n_anom;
    unsigned sum; /* every payload byte is read, so ASan sees a slice past the frame */
} rec;

static void rec_reset(void) { memset(&rec, 0, sizeof rec); }

static void rec_udp(void *ctx, const struct l4_meta *m, struct slice p)
{
    (void)ctx;
    for (size_t i = 0; i < p.n; i++)
        rec.sum += p.p[i];
    if (rec.n < REC_MAX) {
        struct got *g = &rec.g[rec.n];
        g->m = *m;
        g->n = p.n;
        memcpy(g->p, p.p, p.n < sizeof g->p ? p.n : sizeof g->p);
    }
    rec.n++;
}

static void rec_anomaly(void *ctx, const struct l4_meta *m, enum cap_anomaly a)
{
    (void)ctx;
    (void)m;
    rec.anom[a]++;
    rec.n_anom++;
}

static const struct l4_handler rec_handler = { NULL, rec_udp, NULL, NULL, rec_anomaly };

static struct slice got_payload(const struct got *g)
{
    return sl_make(g->p, g->n < sizeof g->p ? g->n : sizeof g->p);
}

static bool addr_is(const struct ip_addr *a, const char *text)
{
    struct ip_addr b;
    return ip_parse(text, &b) && ip_eq(a, &b);
}

/* ---- reading files ------------------------------------------------------- */

static int lt_count[512]; /* frames per link type in the last read_and_decode */
static char last_err[512];

/* Frames of path (after bpf), each decoded by d when d != NULL; -1 on an open
 * or read error (reason in last_err; frames before a read error still count
 * in lt_count). */
static long read_and_decode(const char *path, const char *bpf, struct decoder *d,
                            long *frames_before_error)
{
    memset(lt_count, 0, sizeof lt_count);
    last_err[0] = 0;
    struct input *in = input_open(path, bpf, last_err, sizeof last_err);
    if (!in)
        return -1;
    struct frame f;
    long n = 0;
    int rc;
    while ((rc = input_next(in, &f, last_err, sizeof last_err)) == 1) {
        n++;
        if (f.linktype >= 0 && f.linktype < 512)
            lt_count[f.linktype]++;
        if (d)
            decode_frame(d, &f, 0, (uint64_t)n);
    }
    input_close(in);
    if (frames_before_error)
        *frames_before_error = n;
    return rc < 0 ? -1 : n;
}

/* Scratch files live in one directory, removed when the tests end. */
static char tmpdir[64];
#define SCRATCH_FILES 32
static char tmp_made[SCRATCH_FILES][128];
static int n_tmp;

static const char *tmp_path(const char *name)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/sipsift-capture-XXXXXX");
        if (!mkdtemp(tmpdir))
            abort();
    }
    if (n_tmp == SCRATCH_FILES)
        abort();
    snprintf(tmp_made[n_tmp], sizeof tmp_made[0], "%s/%s", tmpdir, name);
    return tmp_made[n_tmp++];
}

__attribute__((destructor)) static void tmp_cleanup(void)
{
    for (int i = 0; i < n_tmp; i++) {
        unlink(tmp_made[i]);
        rmdir(tmp_made[i]); /* the test that makes a directory */
    }
    if (tmpdir[0])
        rmdir(tmpdir);
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static const char *spit(const char *name, const void *p, size_t n)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
    return path;
}

/* What reasm is given, when the doubles below are in use. */
static struct {
    int v4, frag6, tcp6;
    struct l4_meta m;
    size_t n, fh_n;
    uint8_t first, first_nh, set_nh;
} rr;

/* ---- reasm test doubles ----------------------------------------------------
 * Weak, so the real capture/reasm.c wins when the Makefile links it; tests
 * that need them check reasm_doubles_active() first. */
static void dbl_ipv4(struct reasm *r, const struct l4_meta *m, struct slice ip)
{
    (void)r;
    rr.v4++;
    rr.m = *m;
    rr.n = ip.n;
    rr.first = ip.n ? ip.p[0] : 0;
}

/* Rebuilds a set by offsets in one static buffer: enough for the tests. */
static bool dbl_frag6(struct reasm *r, const struct l4_meta *m, struct slice fh, struct slice frag,
                      uint8_t first_nh, struct slice *out, uint8_t *nh)
{
    static uint8_t buf[65536];
    static size_t have;
    (void)r;
    rr.frag6++;
    rr.m = *m;
    rr.n = frag.n;
    rr.fh_n = fh.n;
    rr.first_nh = first_nh;
    size_t off = (size_t)(fh.p[2] << 8 | fh.p[3]) & 0xfff8;
    bool more = fh.p[3] & 1;
    if (off == 0) {
        have = 0;
        rr.set_nh = first_nh;
    }
    if (off + frag.n > sizeof buf)
        return false;
    memcpy(buf + off, frag.p, frag.n);
    have += frag.n;
    if (more)
        return false;
    *out = sl_make(buf, have);
    *nh = rr.set_nh;
    return true;
}

static void dbl_tcp6(struct reasm *r, const struct l4_meta *m, struct slice seg)
{
    (void)r;
    rr.tcp6++;
    rr.m = *m;
    rr.n = seg.n;
}

void reasm_ipv4(struct reasm *r, const struct l4_meta *m, struct slice ip)
    __attribute__((weak, alias("dbl_ipv4")));
bool reasm_ipv6_frag(struct reasm *r, const struct l4_meta *m, struct slice fh, struct slice frag,
                     uint8_t first_nh, struct slice *out, uint8_t *nh)
    __attribute__((weak, alias("dbl_frag6")));
void reasm_tcp6(struct reasm *r, const struct l4_meta *m, struct slice seg)
    __attribute__((weak, alias("dbl_tcp6")));

static bool reasm_doubles_active(void)
{
    if (reasm_ipv4 != dbl_ipv4) {
        fprintf(stderr, "  (real capture/reasm.c linked: reasm hand-off checks skipped)\n");
        return false;
    }
    return true;
}

/* ---- decoding hand-built frames ------------------------------------------ */

static struct decoder *dec;

static void start(bool with_reasm)
{
    static int fake_reasm;
    rec_reset();
    memset(&rr, 0, sizeof rr);
    decoder_free(dec);
    dec = decoder_new(&rec_handler, with_reasm ? (struct reasm *)&fake_reasm : NULL, &rec.st);
}

/* Decode p as one frame, cut to caplen bytes (0 = whole), from an exact-size
 * heap copy so ASan sees any read past the frame. */
static void run(int linktype, const struct pb *p, size_t caplen)
{
    size_t len = pb_len(p);
    if (!caplen || caplen > len)
        caplen = len;
    uint8_t *copy = malloc(caplen ? caplen : 1);
    memcpy(copy, pb_data(p), caplen);
    struct frame f = { .ts_us = 1700000000123456u,
                       .caplen = (uint32_t)caplen,
                       .len = (uint32_t)len,
                       .linktype = linktype,
                       .data = copy };
    decode_frame(dec, &f, 3, 77);
    free(copy);
}

#define SIP_OPT "OPTIONS sip:100@example.com SIP/2.0\r\nContent-Length: 0\r\n\r\n"

/* UDP 5062 -> 5060 carrying SIP_OPT over IPv4 192.0.2.1 -> 192.0.2.2. */
static void udp4(struct pb *p)
{
    pb_init(p);
    pb_bytes(p, SIP_OPT, strlen(SIP_OPT));
    pb_udp(p, 5062, 5060);
    pb_ip4(p, IPPROTO_UDP, "192.0.2.1", "192.0.2.2");
}

static void udp6(struct pb *p)
{
    pb_init(p);
    pb_bytes(p, SIP_OPT, strlen(SIP_OPT));
    pb_udp(p, 5062, 5060);
    pb_ip6(p, IPPROTO_UDP, "2001:db8::1", "2001:db8::2");
}

/* The one datagram every well-formed test frame should yield. */
static void check_sip4(uint8_t flags, uint16_t vlan)
{
    CHECK_EQ_INT(rec.n, 1);
    CHECK_EQ_INT(rec.n_anom, 0);
    if (rec.n < 1)
        return;
    const struct got *g = &rec.g[0];
    CHECK(addr_is(&g->m.src, "192.0.2.1") && addr_is(&g->m.dst, "192.0.2.2"));
    CHECK_EQ_INT(g->m.sport, 5062);
    CHECK_EQ_INT(g->m.dport, 5060);
    CHECK_EQ_INT(g->m.proto, IPPROTO_UDP);
    CHECK_EQ_INT(g->m.flags, flags);
    CHECK_EQ_INT(g->m.vlan, vlan);
    CHECK_EQ_INT(g->m.ts_us, 1700000000123456u);
    CHECK_EQ_INT(g->m.input, 3);
    CHECK_EQ_INT(g->m.frame, 77);
    CHECK_SL(got_payload(g), SIP_OPT);
}

static void check_sip6(uint8_t flags)
{
    CHECK_EQ_INT(rec.n, 1);
    CHECK_EQ_INT(rec.n_anom, 0);
    if (rec.n < 1)
        return;
    const struct got *g = &rec.g[0];
    CHECK(addr_is(&g->m.src, "2001:db8::1") && addr_is(&g->m.dst, "2001:db8::2"));
    CHECK_EQ_INT(g->m.sport, 5062);
    CHECK_EQ_INT(g->m.flags, flags);
    CHECK_SL(got_payload(g), SIP_OPT);
}

TEST(decode_ethernet_ipv4_udp)
{
    struct pb p;
    start(false);
    udp4(&p);
    pb_eth(&p, 0x0800);
    pb_bytes_end(&p, "\0\0\0\0\0\0", 6); /* Ethernet padding after the IP datagram */
    run(DLT_EN10MB, &p, 0);
    check_sip4(0, 0);
    CHECK_EQ_INT(rec.st.frames, 1);
    CHECK_EQ_INT(rec.st.bytes, pb_len(&p));
    CHECK_EQ_INT(rec.st.ipv4, 1);
    CHECK_EQ_INT(rec.st.udp, 1);
    CHECK_EQ_INT(rec.st.truncated, 0);
}

TEST(decode_vlan_qinq_and_tag_limit)
{
    struct pb p;
    start(false);
    udp4(&p);
    pb_tag(&p, 100, 0x0800);
    pb_eth(&p, 0x8100);
    run(DLT_EN10MB, &p, 0);
    check_sip4(0, 100);

    /* 802.1ad outer 200, 802.1Q inner 300: the outer one is recorded. */
    start(false);
    udp4(&p);
    pb_tag(&p, 300, 0x0800);
    pb_tag(&p, 0x2000 | 200, 0x8100); /* priority bits are not part of the id */
    pb_eth(&p, 0x88a8);
    run(DLT_EN10MB, &p, 0);
    check_sip4(0, 200);
    CHECK_EQ_INT(rec.st.vlan, 1);

    /* Old-style 0x9100 outer tag over IPv6. */
    start(false);
    udp6(&p);
    pb_tag(&p, 7, 0x86dd);
    pb_eth(&p, 0x9100);
    run(DLT_EN10MB, &p, 0);
    check_sip6(L4_F_IPV6);
    CHECK_EQ_INT(rec.g[0].m.vlan, 7);

    /* Five tags: past the bound, reported, not decoded. */
    start(false);
    udp4(&p);
    pb_tag(&p, 5, 0x0800);
    for (int i = 4; i >= 1; i--)
        pb_tag(&p, (uint16_t)i, 0x8100);
    pb_eth(&p, 0x8100);
    run(DLT_EN10MB, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_LINK], 1);
}

TEST(decode_linux_cooked_v1_v2)
{
    struct pb p;
    start(false);
    udp4(&p);
    pb_sll(&p, 0x0800);
    run(DLT_LINUX_SLL, &p, 0);
    check_sip4(0, 0);

    start(false);
    udp6(&p);
    pb_sll2(&p, 0x86dd);
    run(DLT_LINUX_SLL2, &p, 0);
    check_sip6(L4_F_IPV6);

    /* A VLAN tag the kernel left in the packet, after a cooked header. */
    start(false);
    udp4(&p);
    pb_tag(&p, 42, 0x0800);
    pb_sll(&p, 0x8100);
    run(DLT_LINUX_SLL, &p, 0);
    check_sip4(0, 42);

    start(false);
    pb_init(&p);
    pb_bytes(&p, "\0\1\2\3", 4);
    pb_sll2(&p, 0x0806); /* ARP */
    run(DLT_LINUX_SLL2, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.st.non_ip, 1);
    CHECK_EQ_INT(rec.n_anom, 0);
}

TEST(decode_raw_ip_link_types)
{
    struct pb p;
    static const int raw4[] = { DLT_RAW, 101, DLT_IPV4 };
    for (size_t i = 0; i < 3; i++) {
        start(false);
        udp4(&p);
        run(raw4[i], &p, 0);
        check_sip4(0, 0);
    }
    static const int raw6[] = { DLT_RAW, 101, DLT_IPV6 };
    for (size_t i = 0; i < 3; i++) {
        start(false);
        udp6(&p);
        run(raw6[i], &p, 0);
        check_sip6(L4_F_IPV6);
    }
    start(false);
    udp4(&p);
    run(DLT_IPV6, &p, 0); /* IPv4 bytes where the link type promises IPv6 */
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_IP], 1);
}

TEST(decode_bsd_null_and_loop)
{
    struct pb p;
    static const struct {
        int dlt;
        uint8_t fam[4];
        bool v6;
    } cases[] = {
        { DLT_NULL, { 2, 0, 0, 0 }, false }, /* little-endian host */
        { DLT_NULL, { 0, 0, 0, 2 }, false }, /* big-endian host */
        { DLT_NULL, { 30, 0, 0, 0 }, true }, /* macOS */
        { DLT_NULL, { 0, 0, 0, 28 }, true }, /* FreeBSD, big-endian */
        { DLT_LOOP, { 0, 0, 0, 24 }, true }, /* OpenBSD loop: network order */
        { DLT_LOOP, { 0, 0, 0, 2 }, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        start(false);
        if (cases[i].v6)
            udp6(&p);
        else
            udp4(&p);
        pb_bytes(&p, cases[i].fam, 4);
        run(cases[i].dlt, &p, 0);
        if (cases[i].v6)
            check_sip6(L4_F_IPV6);
        else
            check_sip4(0, 0);
    }
    start(false);
    udp4(&p);
    pb_bytes(&p, "\x07\0\0\0", 4); /* AF 7: not IP */
    run(DLT_NULL, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.st.non_ip, 1);
}

TEST(decode_pppoe_session)
{
    struct pb p;
    start(false);
    udp4(&p);
    pb_pppoe(&p, 0x0021, false);
    pb_eth(&p, 0x8864);
    run(DLT_EN10MB, &p, 0);
    check_sip4(L4_F_TUNNEL, 0);
    CHECK_EQ_INT(rec.st.pppoe, 1);

    /* VLAN + PPPoE + IPv6 with a compressed (1-byte) PPP protocol field. */
    start(false);
    udp6(&p);
    pb_pppoe(&p, 0x57, true);
    pb_tag(&p, 100, 0x8864);
    pb_eth(&p, 0x8100);
    run(DLT_EN10MB, &p, 0);
    check_sip6(L4_F_IPV6 | L4_F_TUNNEL);
    CHECK_EQ_INT(rec.g[0].m.vlan, 100);

    /* LCP is session control, not IP. */
    start(false);
    pb_init(&p);
    pb_bytes(&p, "\x01\x01\x00\x04", 4);
    pb_pppoe(&p, 0xc021, false);
    pb_eth(&p, 0x8864);
    run(DLT_EN10MB, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.st.non_ip, 1);

    /* A discovery code (PADI = 0x09) on the session Ethertype is malformed. */
    start(false);
    udp4(&p);
    pb_pppoe(&p, 0x0021, false);
    pb_data_mut(&p)[1] = 0x09;
    pb_eth(&p, 0x8864);
    run(DLT_EN10MB, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_LINK], 1);
}

TEST(decode_gre_variants)
{
    struct pb p;
    /* Key only (RFC 2890): inner addresses and ports are what is delivered. */
    start(false);
    udp4(&p);
    pb_gre(&p, 0x2000, 0x0800, 1);
    pb_ip4(&p, IPPROTO_GRE, "198.51.100.1", "198.51.100.2");
    pb_eth(&p, 0x0800);
    run(DLT_EN10MB, &p, 0);
    check_sip4(L4_F_TUNNEL, 0);
    CHECK_EQ_INT(rec.st.gre, 1);
    CHECK_EQ_INT(rec.st.ipv4, 1); /* the inner layer only */

    /* Checksum + key + sequence, over IPv6. */
    start(false);
    udp4(&p);
    pb_gre(&p, 0x8000 | 0x2000 | 0x1000, 0x0800, 3);
    pb_ip6(&p, IPPROTO_GRE, "2001:db8:f::1", "2001:db8:f::2");
    pb_eth(&p, 0x86dd);
    run(DLT_EN10MB, &p, 0);
    check_sip4(L4_F_TUNNEL, 0);

    /* Transparent Ethernet bridging: Ethernet (with a VLAN tag) inside GRE. */
    start(false);
    udp4(&p);
    pb_tag(&p, 55, 0x0800);
    pb_eth(&p, 0x8100);
    pb_gre(&p, 0, 0x6558, 0);
    pb_ip4(&p, IPPROTO_GRE, "198.51.100.1", "198.51.100.2");
    pb_eth(&p, 0x0800);
    run(DLT_EN10MB, &p, 0);
    check_sip4(L4_F_TUNNEL, 55);

    /* Version 1 (PPTP) is not decoded: counted as non-IP, no anomaly. */
    start(false);
    udp4(&p);
    pb_gre(&p, 0x0001, 0x880b, 0);
    pb_ip4(&p, IPPROTO_GRE, "198.51.100.1", "198.51.100.2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.st.non_ip, 1);
    CHECK_EQ_INT(rec.n_anom, 0);

    /* Flags promise a key the packet does not hold. */
    start(false);
    pb_init(&p);
    pb_gre(&p, 0x2000, 0x0800, 0);
    pb_ip4(&p, IPPROTO_GRE, "198.51.100.1", "198.51.100.2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_TRUNCATED], 1);
}

TEST(decode_ip_in_ip_and_depth_limit)
{
    struct pb p;
    start(false);
    udp4(&p);
    pb_ip4(&p, IPPROTO_IPIP, "198.51.100.1", "198.51.100.2");
    run(DLT_RAW, &p, 0);
    check_sip4(L4_F_TUNNEL, 0);
    CHECK_EQ_INT(rec.st.ipip, 1);

    start(false);
    udp6(&p);
    pb_ip4(&p, IPPROTO_IPV6, "198.51.100.1", "198.51.100.2");
    run(DLT_RAW, &p, 0);
    check_sip6(L4_F_TUNNEL | L4_F_IPV6);

    /* IPv4 inside IPv6: the inner layer decides the IPv6 flag. */
    start(false);
    udp4(&p);
    pb_ip6(&p, IPPROTO_IPIP, "2001:db8:f::1", "2001:db8:f::2");
    run(DLT_RAW, &p, 0);
    check_sip4(L4_F_TUNNEL, 0);

    /* Four levels are decoded, five are one too many. */
    start(false);
    udp4(&p);
    for (int i = 0; i < 4; i++)
        pb_ip4(&p, IPPROTO_IPIP, "198.51.100.1", "198.51.100.2");
    run(DLT_RAW, &p, 0);
    check_sip4(L4_F_TUNNEL, 0);
    start(false);
    udp4(&p);
    for (int i = 0; i < 5; i++)
        pb_ip4(&p, IPPROTO_IPIP, "198.51.100.1", "198.51.100.2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_TUNNEL_DEPTH], 1);
}

TEST(decode_ipv6_extension_headers)
{
    struct pb p;
    /* hop-by-hop (8) + routing (24) + destination options (16) + AH (12 + 4) */
    start(false);
    pb_init(&p);
    pb_bytes(&p, SIP_OPT, strlen(SIP_OPT));
    pb_udp(&p, 5062, 5060);
    pb_ext6(&p, IPPROTO_UDP, 51, 16);
    pb_ext6(&p, 51, 60, 16);
    pb_ext6(&p, 60, 43, 24);
    pb_ext6(&p, 43, 0, 8);
    pb_ip6(&p, 0, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    check_sip6(L4_F_IPV6);

    /* An atomic fragment (offset 0, no M bit; RFC 6946) is not a fragment. */
    start(false);
    pb_init(&p);
    pb_bytes(&p, SIP_OPT, strlen(SIP_OPT));
    pb_udp(&p, 5062, 5060);
    pb_frag6(&p, IPPROTO_UDP, 0, false, 0x1234);
    pb_ip6(&p, 44, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    check_sip6(L4_F_IPV6);
    CHECK_EQ_INT(rec.st.frags_v6, 0);

    /* Nine destination-options headers: more than we walk. */
    start(false);
    pb_init(&p);
    pb_bytes(&p, SIP_OPT, strlen(SIP_OPT));
    pb_udp(&p, 5062, 5060);
    pb_ext6(&p, IPPROTO_UDP, 60, 8);
    for (int i = 0; i < 8; i++)
        pb_ext6(&p, 60, 60, 8);
    pb_ip6(&p, 60, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_IP], 1);

    /* An extension header whose length runs past the packet. */
    start(false);
    pb_init(&p);
    pb_bytes(&p, "12345678", 8);
    pb_ext6(&p, IPPROTO_UDP, 60, 8);
    pb_data_mut(&p)[1] = 200;
    pb_ip6(&p, 60, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_IP], 1);

    /* No next header: an IPv6 packet with nothing in it. */
    start(false);
    pb_init(&p);
    pb_ip6(&p, 59, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n + rec.n_anom, 0);
    CHECK_EQ_INT(rec.st.ipv6, 1);
    CHECK_EQ_INT(rec.st.other_l4, 1);
}

TEST(decode_snaplen_truncation)
{
    struct pb p;
    start(false);
    udp4(&p);
    pb_eth(&p, 0x0800);
    size_t full = pb_len(&p);
    run(DLT_EN10MB, &p, 14 + 20 + 8 + 10); /* 10 bytes of SIP captured */
    CHECK_EQ_INT(rec.n, 1);
    CHECK_EQ_INT(rec.st.truncated, 1);
    CHECK_EQ_INT(rec.n_anom, 0);
    if (rec.n) {
        CHECK_EQ_INT(rec.g[0].m.flags, L4_F_TRUNCATED);
        CHECK_SL(got_payload(&rec.g[0]), "OPTIONS si");
    }
    /* Every cut of the frame: no read past it (ASan), headers that do not fit
     * are reported, and whatever part of the payload is there is delivered. */
    for (size_t cut = 1; cut < full; cut++) {
        start(false);
        udp4(&p);
        pb_eth(&p, 0x0800);
        run(DLT_EN10MB, &p, cut);
        if (cut < 14 + 20 + 8) {
            CHECK_EQ_INT(rec.n, 0);
            CHECK_EQ_INT(rec.anom[CAP_A_TRUNCATED], 1);
        } else {
            CHECK_EQ_INT(rec.n, 1);
            CHECK_EQ_INT(rec.g[0].n, cut - 42);
            CHECK_EQ_INT(rec.g[0].m.flags, L4_F_TRUNCATED);
        }
    }
}

TEST(decode_bad_ipv4_headers)
{
    struct pb p;
    /* IHL 4 (16 bytes) is below the minimum. */
    start(false);
    udp4(&p);
    pb_data_mut(&p)[0] = 0x44;
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_IP], 1);
    CHECK_EQ_INT(rec.n, 0);

    /* IHL 15 (60 bytes) in a 50-byte datagram: total length < header length. */
    start(false);
    pb_init(&p);
    pb_bytes(&p, "0123456789012345678901234567890", 30);
    pb_ip4(&p, IPPROTO_UDP, "192.0.2.1", "192.0.2.2");
    pb_data_mut(&p)[0] = 0x4f;
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_IP], 1);

    /* Total length claims 200 more bytes than a frame that was not cut holds
     * (a lie, or a slicer that kept len = caplen): reported, and what is
     * there is delivered as truncated. The UDP length is consistent with IP. */
    start(false);
    udp4(&p);
    size_t tot = pb_len(&p) + 200;
    pb_data_mut(&p)[2] = (uint8_t)(tot >> 8);
    pb_data_mut(&p)[3] = (uint8_t)tot;
    pb_data_mut(&p)[20 + 4] = (uint8_t)((tot - 20) >> 8);
    pb_data_mut(&p)[20 + 5] = (uint8_t)(tot - 20);
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_TRUNCATED], 1);
    CHECK_EQ_INT(rec.n, 1);
    if (rec.n) {
        CHECK_EQ_INT(rec.g[0].m.flags, L4_F_TRUNCATED);
        CHECK_SL(got_payload(&rec.g[0]), SIP_OPT);
    }
    CHECK_EQ_INT(rec.st.truncated, 0); /* caplen == len */

    /* ... but a fragment like that is not given to reassembly. */
    start(reasm_doubles_active());
    udp4(&p);
    pb_data_mut(&p)[2] = (uint8_t)(tot >> 8);
    pb_data_mut(&p)[3] = (uint8_t)tot;
    pb_data_mut(&p)[6] = 0x20;
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_TRUNCATED], 1);
    CHECK_EQ_INT(rec.st.frags_v4, 1);
    CHECK_EQ_INT(rr.v4, 0);

    /* Shorter than a header at all. */
    start(false);
    pb_init(&p);
    pb_bytes(&p, "\x45\0\0\x14", 4);
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_TRUNCATED], 1);
}

TEST(decode_udp_length_checks)
{
    struct pb p;
    /* UDP length shorter than what IP carries: the extra bytes are not payload. */
    start(false);
    udp4(&p);
    pb_data_mut(&p)[20 + 4] = 0;
    pb_data_mut(&p)[20 + 5] = 8 + 7;
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n, 1);
    if (rec.n)
        CHECK_SL(got_payload(&rec.g[0]), "OPTIONS");

    /* UDP length beyond the datagram, not cut by the capture: a lie, dropped. */
    start(false);
    udp4(&p);
    pb_data_mut(&p)[20 + 4] = 0x7f;
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_L4], 1);

    /* UDP length below its own header. */
    start(false);
    udp4(&p);
    pb_data_mut(&p)[20 + 4] = 0;
    pb_data_mut(&p)[20 + 5] = 7;
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_L4], 1);

    /* IP says 4 bytes of UDP: no room for its header. */
    start(false);
    pb_init(&p);
    pb_bytes(&p, "\x13\xc4\x13\xc4", 4);
    pb_ip4(&p, IPPROTO_UDP, "192.0.2.1", "192.0.2.2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.anom[CAP_A_BAD_L4], 1);
}

TEST(decode_reassembly_handoff)
{
    struct pb p;
    if (!reasm_doubles_active())
        return;
    /* An IPv4 first fragment goes to reasm whole, from its IP header. */
    start(true);
    udp4(&p);
    pb_data_mut(&p)[6] = 0x20; /* MF */
    pb_tag(&p, 9, 0x0800);
    pb_eth(&p, 0x8100);
    run(DLT_EN10MB, &p, 0);
    CHECK_EQ_INT(rr.v4, 1);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rr.n, pb_len(&p) - 18);
    CHECK_EQ_INT(rr.first, 0x45);
    CHECK_EQ_INT(rr.m.vlan, 9);
    CHECK_EQ_INT(rr.m.frame, 77);
    CHECK_EQ_INT(rr.m.sport, 5062);
    CHECK_EQ_INT(rec.st.frags_v4, 1);
    CHECK_EQ_INT(rec.st.udp, 1);

    /* TCP over IPv4 also goes to reasm (libnids). */
    start(true);
    pb_init(&p);
    pb_tcp(&p, 40000, 5060);
    pb_ip4(&p, IPPROTO_TCP, "192.0.2.1", "192.0.2.2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rr.v4, 1);
    CHECK_EQ_INT(rr.m.dport, 5060);
    CHECK_EQ_INT(rr.m.proto, IPPROTO_TCP);
    CHECK_EQ_INT(rec.st.tcp, 1);

    /* TCP over IPv6 goes to the shim with the segment only. */
    start(true);
    pb_init(&p);
    pb_tcp(&p, 40000, 5061);
    pb_ip6(&p, IPPROTO_TCP, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rr.tcp6, 1);
    CHECK_EQ_INT(rr.n, 20);
    CHECK_EQ_INT(rr.m.dport, 5061);
    CHECK(rr.m.flags & L4_F_IPV6);
    CHECK(addr_is(&rr.m.src, "2001:db8::1"));

    /* IPv6 fragments: when the set completes, the rebuilt UDP is delivered. */
    start(true);
    struct pb whole;
    udp6(&whole);
    struct slice l4 = sl_drop(sl_make(pb_data(&whole), pb_len(&whole)), 40);
    pb_init(&p);
    pb_bytes(&p, l4.p, 24);
    pb_frag6(&p, IPPROTO_UDP, 0, true, 77);
    pb_ip6(&p, 44, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rr.frag6, 1);
    CHECK_EQ_INT(rr.fh_n, 8);
    CHECK_EQ_INT(rr.n, 24);
    CHECK_EQ_INT(rr.first_nh, IPPROTO_UDP);
    CHECK_EQ_INT(rec.n, 0);
    pb_init(&p);
    pb_bytes(&p, l4.p + 24, l4.n - 24);
    pb_frag6(&p, IPPROTO_UDP, 24, false, 77);
    pb_ip6(&p, 44, "2001:db8::1", "2001:db8::2");
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rr.frag6, 2);
    check_sip6(L4_F_IPV6 | L4_F_FRAGMENTED);
    CHECK_EQ_INT(rec.st.frags_v6, 2);
    CHECK_EQ_INT(rec.st.ipv6, 2);
    CHECK_EQ_INT(rec.st.udp, 1);
}

TEST(decode_without_reasm_counts_fragments)
{
    struct pb p;
    start(false);
    udp4(&p);
    pb_data_mut(&p)[6] = 0x00;
    pb_data_mut(&p)[7] = 0x10; /* offset 128 bytes, last fragment */
    run(DLT_RAW, &p, 0);
    CHECK_EQ_INT(rec.n, 0);
    CHECK_EQ_INT(rec.st.frags_v4, 1);
    CHECK_EQ_INT(rec.st.udp, 0); /* counted with the first fragment only */
    CHECK_EQ_INT(rec.n_anom, 0);
}

TEST(decode_unsupported_link_and_anomaly_names)
{
    struct pb p;
    start(false);
    udp4(&p);
    run(DLT_IEEE802_11, &p, 0);
    CHECK_EQ_INT(rec.st.non_ip, 1);
    CHECK(!input_linktype_supported(DLT_IEEE802_11));
    static const int ok[] = {
        DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, 12, 101, 228, 229, 0, 108
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK(input_linktype_supported(ok[i]));
    CHECK_STR(cap_anomaly_name(CAP_A_TRUNCATED), "truncated");
    CHECK_STR(cap_anomaly_name(CAP_A_TUNNEL_DEPTH), "tunnel_depth");
    CHECK_STR(cap_anomaly_name(CAP_A__COUNT), "unknown");
    for (int a = 0; a < CAP_A__COUNT; a++)
        CHECK(strcmp(cap_anomaly_name((enum cap_anomaly)a), "unknown") != 0);
}

/* ---- the generated captures in pcaps/test -------------------------------- */

/* Expected datagram i of a generated file. */
struct want {
    const char *call_id, *src, *dst;
    uint16_t sport, dport, vlan;
    uint8_t flags;
};

static void check_generated(const char *file, int linktype, const struct want *w, size_t n,
                            size_t frames)
{
    char path[256];
    snprintf(path, sizeof path, "pcaps/test/%s", file);
    start(false);
    long got = read_and_decode(path, NULL, dec, NULL);
    CHECK_EQ_INT(got, (long)frames);
    CHECK_EQ_INT(rec.n, n);
    CHECK_EQ_INT(rec.n_anom, 0);
    CHECK_EQ_INT(lt_count[linktype], frames);
    for (size_t i = 0; i < n && i < (size_t)rec.n; i++) {
        const struct got *g = &rec.g[i];
        char cid[64];
        snprintf(cid, sizeof cid, "Call-ID: %s@test\r\n", w[i].call_id);
        CHECK(sl_find(got_payload(g), sl_cstr(cid)) < g->n);
        CHECK(sl_starts_lit(got_payload(g), "OPTIONS sip:100@"));
        CHECK(addr_is(&g->m.src, w[i].src));
        CHECK(addr_is(&g->m.dst, w[i].dst));
        CHECK_EQ_INT(g->m.sport, w[i].sport);
        CHECK_EQ_INT(g->m.dport, w[i].dport);
        CHECK_EQ_INT(g->m.vlan, w[i].vlan);
        CHECK_EQ_INT(g->m.flags, w[i].flags);
        CHECK_EQ_INT(g->m.ts_us, 1700000000000000u + i * 1001000u);
        if (test_failed_checks) {
            fprintf(stderr, "  in %s datagram %zu\n", file, i + 1);
            break;
        }
    }
}

#define A4 "192.0.2.10"
#define B4 "192.0.2.20"
#define A6 "2001:db8::10"
#define B6 "2001:db8::20"
#define V6 L4_F_IPV6
#define TUN L4_F_TUNNEL

TEST(generated_sll2_null_loop)
{
    static const struct want sll2[] = { { "sll2-1", A4, B4, 5062, 5060, 0, 0 },
                                        { "sll2-2", A6, B6, 5060, 5080, 0, V6 } };
    check_generated("sll2.pcap", DLT_LINUX_SLL2, sll2, 2, 3);
    CHECK_EQ_INT(rec.st.non_ip, 1); /* the ARP frame */
    static const struct want null[] = { { "null-1", A4, B4, 5060, 5060, 0, 0 },
                                        { "null-2", A6, B6, 5060, 5060, 0, V6 },
                                        { "null-3", A6, B6, 5070, 5060, 0, V6 },
                                        { "null-4", A4, B4, 5071, 5060, 0, 0 } };
    check_generated("null.pcap", DLT_NULL, null, 4, 4);
    static const struct want loop[] = { { "loop-1", A4, B4, 5060, 5060, 0, 0 },
                                        { "loop-2", A6, B6, 5060, 5060, 0, V6 } };
    check_generated("loop.pcap", DLT_LOOP, loop, 2, 2);
}

TEST(generated_qinq_gre_ipip_ipv6ext)
{
    static const struct want qinq[] = { { "qinq-1", A4, B4, 5060, 5060, 200, 0 },
                                        { "qinq-2", A4, B4, 5060, 5060, 201, 0 },
                                        { "qinq-3", A6, B6, 5060, 5060, 202, V6 } };
    check_generated("qinq.pcap", DLT_EN10MB, qinq, 3, 3);
    static const struct want gre[] = { { "gre-1", "192.0.2.11", "192.0.2.21", 5061, 5060, 0, TUN },
                                       { "gre-2", "192.0.2.12", "192.0.2.22", 5060, 5060, 0, TUN },
                                       { "gre-3", "192.0.2.13", "192.0.2.23", 5060, 5060, 0, TUN },
                                       { "gre-4", A6, B6, 5060, 5060, 0, TUN | V6 } };
    check_generated("gre.pcap", DLT_EN10MB, gre, 4, 4);
    CHECK_EQ_INT(rec.st.gre, 4);
    static const struct want ipip[] = { { "ipip-1", "192.0.2.11", B4, 5063, 5060, 0, TUN },
                                        { "ipip-2", A6, B6, 5060, 5060, 0, TUN | V6 },
                                        { "ipip-3", A4, B4, 5060, 5060, 0, TUN } };
    check_generated("ipip.pcap", DLT_EN10MB, ipip, 3, 3);
    CHECK_EQ_INT(rec.st.ipip, 3);
    static const struct want ext[] = { { "ipv6-ext-1", A6, B6, 5060, 5060, 0, V6 },
                                       { "ipv6-ext-2", A6, B6, 5090, 5060, 0, V6 } };
    check_generated("ipv6-ext.pcap", DLT_EN10MB, ext, 2, 2);
}

__attribute__((destructor)) static void free_decoder(void)
{
    decoder_free(dec);
    dec = NULL;
}

/* ---- input.c and pcapng.c on real and broken files ----------------------- */

#define PUB "pcaps/public/"

TEST(input_public_link_types_and_counts)
{
    static const struct {
        const char *path, *name;
        long frames;
        int linktype;
        int udp;
    } files[] = {
        { PUB "sngrep/ipv6frag.pcap", "LINUX_SLL", 34, DLT_LINUX_SLL, 30 }, /* + 4 fragments */
        { PUB "heplify/ipip0.pcap", "RAW", 8, DLT_RAW, 8 },
        { PUB "wireshark-samples/DTMFsipinfo.pcap", "EN10MB", 32, DLT_EN10MB, 32 },
        { PUB "derived/vlan100_DTMFsipinfo.pcap", "EN10MB", 32, DLT_EN10MB, 32 },
        { PUB "ndpi/rtp.pcapng", "EN10MB", 112, DLT_EN10MB, 75 }, /* + 37 TCP */
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char err[256];
        struct input *in = input_open(files[i].path, NULL, err, sizeof err);
        CHECK(in != NULL);
        if (!in) {
            fprintf(stderr, "  %s: %s\n", files[i].path, err);
            continue;
        }
        CHECK_STR(input_link_name(in), files[i].name);
        input_close(in);
        start(false);
        CHECK_EQ_INT(read_and_decode(files[i].path, NULL, dec, NULL), files[i].frames);
        CHECK_EQ_INT(lt_count[files[i].linktype], files[i].frames);
        CHECK_EQ_INT(rec.n, files[i].udp);
        CHECK_EQ_INT(rec.st.frames, files[i].frames);
        CHECK_EQ_INT(rec.n_anom, 0);
    }

    /* Raw IP: the first INVITE, with its addresses. */
    start(false);
    read_and_decode(PUB "heplify/ipip0.pcap", NULL, dec, NULL);
    CHECK(addr_is(&rec.g[0].m.src, "179.43.150.26") && addr_is(&rec.g[0].m.dst, "157.161.10.72"));
    CHECK_EQ_INT(rec.g[0].m.sport, 33489);
    CHECK_EQ_INT(rec.g[0].n, 1464);
    CHECK(sl_starts_lit(got_payload(&rec.g[0]), "INVITE sip:+3908351673002@"));

    /* PPPoE, then VLAN 100 + PPPoE: every datagram came through the tunnel. */
    start(false);
    read_and_decode(PUB "wireshark-samples/DTMFsipinfo.pcap", NULL, dec, NULL);
    CHECK_EQ_INT(rec.st.pppoe, 32);
    CHECK(addr_is(&rec.g[0].m.src, "178.45.73.241") && addr_is(&rec.g[0].m.dst, "213.192.59.75"));
    CHECK_EQ_INT(rec.g[0].n, 1043);
    CHECK(sl_starts_lit(got_payload(&rec.g[0]), "INVITE sip:echo@iptel.org SIP/2.0"));
    start(false);
    read_and_decode(PUB "derived/vlan100_DTMFsipinfo.pcap", NULL, dec, NULL);
    CHECK_EQ_INT(rec.st.vlan, 32);
    int v100 = 0;
    for (int i = 0; i < rec.n && i < REC_MAX; i++)
        v100 += rec.g[i].m.vlan == 100 && rec.g[i].m.flags == L4_F_TUNNEL;
    CHECK_EQ_INT(v100, 32);

    /* RTP over 802.1Q in pcapng: 30 tagged frames. */
    start(false);
    read_and_decode(PUB "ndpi/rtp.pcapng", NULL, dec, NULL);
    CHECK_EQ_INT(rec.st.vlan, 30);
    CHECK_EQ_INT(rec.st.tcp, 37);
}

TEST(input_pcapng_mixed_link_types)
{
    /* libpcap itself refuses this file: the reason the fallback exists. */
    char ebuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(PUB "derived/multi_if_sll+eth.pcapng", ebuf);
    if (p) {
        struct pcap_pkthdr *h;
        const u_char *d;
        int rc;
        while ((rc = pcap_next_ex(p, &h, &d)) == 1)
            ;
        CHECK_EQ_INT(rc, PCAP_ERROR);
        CHECK(strstr(pcap_geterr(p), "different from the type of the first interface") != NULL);
        pcap_close(p);
    }

    start(false);
    CHECK_EQ_INT(read_and_decode(PUB "derived/multi_if_sll+eth.pcapng", NULL, dec, NULL), 36);
    CHECK_EQ_INT(lt_count[DLT_EN10MB], 2);
    CHECK_EQ_INT(lt_count[DLT_LINUX_SLL], 34);
    CHECK_EQ_INT(rec.n, 32); /* 2 REGISTER/200 over Ethernet, 30 unfragmented over SLL */
    CHECK_EQ_INT(rec.st.frags_v6, 4);
    /* The Ethernet interface (#1) holds the first two frames. */
    CHECK(addr_is(&rec.g[0].m.src, "10.33.6.101"));
    CHECK_EQ_INT(rec.g[0].m.ts_us, 1312180642150251u);
    CHECK(addr_is(&rec.g[2].m.src, "fd17:625c:f037:2:a00:27ff:feb9:3519"));
    CHECK_EQ_INT(rec.g[2].m.flags, L4_F_IPV6);
    char err[256];
    struct input *in = input_open(PUB "derived/multi_if_sll+eth.pcapng", NULL, err, sizeof err);
    CHECK(in && strcmp(input_link_name(in), "LINUX_SLL") == 0);
    input_close(in);

    /* 11 interfaces, Ethernet and BSD null mixed; frame 3 is on interface 10. */
    CHECK_EQ_INT(read_and_decode(PUB "pcapplusplus/many_interfaces-1.pcapng", NULL, NULL, NULL),
                 64);
    CHECK_EQ_INT(lt_count[DLT_EN10MB], 62);
    CHECK_EQ_INT(lt_count[DLT_NULL], 2);
    in = input_open(PUB "pcapplusplus/many_interfaces-1.pcapng", NULL, err, sizeof err);
    CHECK(in != NULL);
    if (in) {
        struct frame f;
        CHECK_STR(input_link_name(in), "EN10MB");
        CHECK_EQ_INT(input_next(in, &f, err, sizeof err), 1);
        CHECK_EQ_INT(f.ts_us, 1439753725701607u);
        CHECK_EQ_INT(input_next(in, &f, err, sizeof err), 1);
        CHECK_EQ_INT(input_next(in, &f, err, sizeof err), 1);
        CHECK_EQ_INT(f.linktype, DLT_NULL);
        CHECK_EQ_INT(f.ts_us, 1439753725701568u);
        input_close(in);
    }
}

TEST(input_ipv6_fragments_reach_reasm)
{
    if (!reasm_doubles_active())
        return;
    start(true);
    CHECK_EQ_INT(read_and_decode(PUB "sngrep/ipv6frag.pcap", NULL, dec, NULL), 34);
    CHECK_EQ_INT(rr.frag6, 4);
    CHECK_EQ_INT(rec.n, 32);
    /* Datagram 1 is INVITE rebuilt from frames 1 and 2 (UDP length 1699). */
    CHECK_EQ_INT(rec.g[0].m.flags, L4_F_IPV6 | L4_F_FRAGMENTED);
    CHECK_EQ_INT(rec.g[0].n, 1699 - 8);
    CHECK_EQ_INT(rec.g[0].m.sport, 15060);
    CHECK_EQ_INT(rec.g[0].m.dport, 5062);
    CHECK(addr_is(&rec.g[0].m.src, "fd17:625c:f037:2:a00:27ff:feb9:1521"));
    CHECK(sl_starts_lit(got_payload(&rec.g[0]), "INVITE sip:08019200028@"));
    CHECK_EQ_INT(rec.g[2].n, 1879 - 8);
    CHECK_EQ_INT(rec.g[1].m.flags, L4_F_IPV6);
}

TEST(input_bpf_filters)
{
    CHECK_EQ_INT(
        read_and_decode(PUB "wireshark-samples/sip-register.pcap", "udp port 5060", NULL, NULL), 2);
    CHECK_EQ_INT(
        read_and_decode(PUB "wireshark-samples/sip-register.pcap", "udp port 9999", NULL, NULL), 0);
    CHECK_EQ_INT(read_and_decode(PUB "wireshark-samples/sip-register.pcap", "", NULL, NULL), 2);
    /* pcapng fallback: one program per link type; tcpdump on the two source
     * files gives 30 (SLL) + 0 (Ethernet) for this filter, and 34 + 2 for "udp". */
    CHECK_EQ_INT(
        read_and_decode(PUB "derived/multi_if_sll+eth.pcapng", "udp port 5062", NULL, NULL), 30);
    CHECK_EQ_INT(lt_count[DLT_LINUX_SLL], 30);
    CHECK_EQ_INT(read_and_decode(PUB "derived/multi_if_sll+eth.pcapng", "udp", NULL, NULL), 36);
    CHECK_EQ_INT(read_and_decode(PUB "derived/multi_if_sll+eth.pcapng", "ip", NULL, NULL), 2);

    /* Syntax errors fail at open, naming the expression (pcap and pcapng). */
    CHECK(read_and_decode(PUB "wireshark-samples/sip-register.pcap", "udp port", NULL, NULL) < 0);
    CHECK(strstr(last_err, "bad filter expression 'udp port'") != NULL);
    CHECK(strstr(last_err, "syntax error") != NULL);
    CHECK(read_and_decode(PUB "ndpi/rtp.pcapng", "port port", NULL, NULL) < 0);
    CHECK(strstr(last_err, "bad filter expression 'port port'") != NULL);

    /* A filter the third frame's link type (BSD null) cannot express. */
    long before = -1;
    CHECK(read_and_decode(PUB "pcapplusplus/many_interfaces-1.pcapng",
                          "ether src 02:00:00:00:00:01", NULL, &before) < 0);
    CHECK(strstr(last_err, "link type NULL") != NULL);
    CHECK_EQ_INT(before, 0);
}

TEST(input_open_errors)
{
    static const struct {
        const char *name;
        const char *bytes;
        size_t n;
        const char *want;
    } bad[] = {
        { "empty.pcap", "", 0, "empty file" },
        { "garbage.pcap", "<!DOCTYPE html>", 15,
          "not a pcap or pcapng file (it starts with 3c 21 44 4f)" },
        { "cap.pcap.gz", "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8,
          "gzip-compressed: gunzip it first" },
        { "cap.pcap.zst", "\x28\xb5\x2f\xfd\x00", 5, "zstd-compressed" },
        { "short.pcap", "\xd4\xc3", 2, "too short (2 bytes)" },
        { "hdr.pcap", "\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00", 10,
          "truncated: the file ends inside its pcap header" },
        { "shb.pcapng", "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c", 10, "truncated" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = spit(bad[i].name, bad[i].bytes, bad[i].n);
        err[0] = 0;
        CHECK(input_open(path, NULL, err, sizeof err) == NULL);
        if (!strstr(err, bad[i].want)) {
            fprintf(stderr, "  %s: got \"%s\"\n", bad[i].name, err);
            CHECK(!"error text");
        }
    }
    CHECK(input_open("pcaps/no-such-file.pcap", NULL, err, sizeof err) == NULL);
    CHECK_STR(err, "no such file");
    CHECK(input_open("pcaps", NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "is a directory") != NULL);
    /* The caller prints "sipsift: FILE: reason" and treats "filter" as a usage
     * error (main/analyze.c): no other message may say "filter". */
    CHECK(strstr(err, "filter") == NULL);
}

TEST(input_truncated_and_corrupt_records)
{
    size_t n;
    uint8_t *b = slurp(PUB "wireshark-samples/sip-register.pcap", &n);
    CHECK(b != NULL && n == 908);
    if (!b)
        return;
    /* Cut inside the second record's data: the first frame is still returned. */
    long before = -1;
    CHECK(read_and_decode(spit("cut-data.pcap", b, n - 50), NULL, NULL, &before) < 0);
    CHECK_EQ_INT(before, 1);
    CHECK(strstr(last_err, "truncated: the file ends in the middle of a record, after 1 frames") !=
          NULL);
    /* Cut inside a record header. */
    CHECK(read_and_decode(spit("cut-hdr.pcap", b, 24 + 16 + 506 + 5), NULL, NULL, &before) < 0);
    CHECK_EQ_INT(before, 1);
    CHECK(strstr(last_err, "truncated") != NULL);

    /* A header snaplen of 4 GiB is clamped by libpcap: the frames still read. */
    uint8_t *c = malloc(n + 16 + 100);
    memcpy(c, b, n);
    memset(c + 16, 0xff, 4);
    CHECK_EQ_INT(read_and_decode(spit("hugesnap.pcap", c, n), NULL, NULL, NULL), 2);
    /* A record claiming 5 MB captured: an error after the two good frames. */
    memcpy(c, b, n);
    memcpy(c + n, b + 24, 16);
    uint32_t huge = 5000000;
    memcpy(c + n + 8, &huge, 4);
    memset(c + n + 16, 'x', 100);
    CHECK(read_and_decode(spit("hugecap.pcap", c, n + 16 + 100), NULL, NULL, &before) < 0);
    CHECK_EQ_INT(before, 2);
    CHECK(strstr(last_err, "corrupt record after 2 frames") != NULL);
    CHECK(strstr(last_err, "5000000") != NULL);
    free(c);
    free(b);

    /* pcapng cut in the middle of a block. */
    b = slurp(PUB "derived/multi_if_sll+eth.pcapng", &n);
    CHECK(b != NULL);
    if (!b)
        return;
    CHECK(read_and_decode(spit("cut.pcapng", b, n / 2), NULL, NULL, &before) < 0);
    CHECK(before > 10 && before < 36);
    CHECK(strstr(last_err, "truncated: the file ends inside a pcapng block") != NULL);
    free(b);
}

/* Read path through stdin: from a pipe (the peeked magic must be replayed)
 * and from a redirected regular file. */
static long read_stdin_from(const char *path, bool pipe_it, uint64_t *done, uint64_t *total)
{
    int saved = dup(0);
    pid_t pid = -1;
    if (pipe_it) {
        int fd[2];
        if (pipe(fd) != 0)
            return -2;
        pid = fork();
        if (pid == 0) {
            size_t n;
            uint8_t *b = slurp(path, &n);
            close(fd[0]);
            for (size_t off = 0; b && off < n;) {
                ssize_t w = write(fd[1], b + off, n - off);
                if (w <= 0)
                    break;
                off += (size_t)w;
            }
            _exit(0);
        }
        close(fd[1]);
        dup2(fd[0], 0);
        close(fd[0]);
    } else {
        FILE *f = fopen(path, "rb");
        dup2(fileno(f), 0);
        fclose(f);
    }
    clearerr(stdin);
    char err[256];
    long frames = -1;
    struct input *in = input_open("-", NULL, err, sizeof err);
    if (in) {
        struct frame fr;
        frames = 0;
        while (input_next(in, &fr, err, sizeof err) == 1)
            frames++;
        input_progress(in, done, total);
        input_close(in);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
    return frames;
}

TEST(input_stdin_and_progress)
{
    uint64_t done = 0, total = 1;
    CHECK_EQ_INT(read_stdin_from(PUB "wireshark-samples/sip-register.pcap", true, &done, &total),
                 2);
    CHECK_EQ_INT(total, 0);
    CHECK_EQ_INT(done, 908);
    CHECK_EQ_INT(read_stdin_from(PUB "derived/multi_if_sll+eth.pcapng", true, &done, &total), 36);
    CHECK_EQ_INT(done, 32996);
    CHECK_EQ_INT(read_stdin_from(PUB "wireshark-samples/sip-register.pcap", false, &done, &total),
                 2);
    CHECK_EQ_INT(total, 908);
    CHECK_EQ_INT(done, 908);

    char err[256];
    struct input *in = input_open(PUB "derived/multi_if_sll+eth.pcapng", NULL, err, sizeof err);
    CHECK(in != NULL);
    if (in) {
        struct frame f;
        input_progress(in, &done, &total);
        CHECK_EQ_INT(total, 32996);
        CHECK(done > 0 && done < 1000); /* the section header and first interface */
        while (input_next(in, &f, err, sizeof err) == 1)
            ;
        input_progress(in, &done, &total);
        CHECK_EQ_INT(done, 32996);
        input_close(in);
    }
}

/* ---- hand-built pcapng --------------------------------------------------- */

/* A pcapng writer in either byte order. */
struct ngw {
    uint8_t b[8192];
    size_t n;
    bool be;
};

static void ng16(struct ngw *w, unsigned v)
{
    uint8_t *o = w->b + w->n;
    w->n += 2;
    if (w->be)
        w16(o, v);
    else {
        o[0] = (uint8_t)v;
        o[1] = (uint8_t)(v >> 8);
    }
}

static void ng32(struct ngw *w, uint32_t v)
{
    if (w->be) {
        ng16(w, v >> 16);
        ng16(w, v & 0xffff);
    } else {
        ng16(w, v & 0xffff);
        ng16(w, v >> 16);
    }
}

static void ngbytes(struct ngw *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
    while (w->n % 4)
        w->b[w->n++] = 0;
}

/* Start a block; ng_end fills in both lengths. */
static size_t ng_begin(struct ngw *w, uint32_t type)
{
    size_t at = w->n;
    ng32(w, type);
    ng32(w, 0);
    return at;
}

static void ng_end(struct ngw *w, size_t at)
{
    uint32_t len = (uint32_t)(w->n - at + 4);
    size_t save = w->n;
    w->n = at + 4;
    ng32(w, len);
    w->n = save;
    ng32(w, len);
}

static void ng_shb(struct ngw *w, bool be)
{
    w->be = be;
    size_t at = ng_begin(w, 0x0A0D0D0A);
    ng32(w, 0x1A2B3C4D);
    ng16(w, 1);
    ng16(w, 0);
    ng32(w, 0xffffffff);
    ng32(w, 0xffffffff); /* section length unknown */
    ng_end(w, at);
}

static void ng_idb(struct ngw *w, unsigned linktype, int tsresol, int64_t tsoffset)
{
    size_t at = ng_begin(w, 1);
    ng16(w, linktype);
    ng16(w, 0);
    ng32(w, 0); /* no snaplen */
    if (tsresol >= 0) {
        uint8_t r = (uint8_t)tsresol;
        ng16(w, 9);
        ng16(w, 1);
        ngbytes(w, &r, 1);
    }
    if (tsoffset) {
        ng16(w, 14);
        ng16(w, 8);
        ng32(w, w->be ? (uint32_t)((uint64_t)tsoffset >> 32) : (uint32_t)tsoffset);
        ng32(w, w->be ? (uint32_t)tsoffset : (uint32_t)((uint64_t)tsoffset >> 32));
    }
    ng16(w, 0);
    ng16(w, 0);
    ng_end(w, at);
}

static void ng_epb(struct ngw *w, uint32_t type, uint32_t ifid, uint64_t ticks, const struct pb *p)
{
    size_t at = ng_begin(w, type);
    if (type == 3) { /* simple: original length, data */
        ng32(w, (uint32_t)pb_len(p));
    } else {
        if (type == 6)
            ng32(w, ifid);
        else {
            ng16(w, ifid);
            ng16(w, 0); /* drops */
        }
        ng32(w, (uint32_t)(ticks >> 32));
        ng32(w, (uint32_t)ticks);
        ng32(w, (uint32_t)pb_len(p));
        ng32(w, (uint32_t)pb_len(p));
    }
    ngbytes(w, pb_data(p), pb_len(p));
    ng_end(w, at);
}

TEST(pcapng_sections_byte_orders_and_block_types)
{
    struct ngw w = { .n = 0 };
    struct pb eth, raw;
    udp4(&eth);
    pb_eth(&eth, 0x0800);
    udp4(&raw);
    /* Section 1, big-endian: Ethernet in nanoseconds; an unknown block; EPB, SPB, OPB. */
    ng_shb(&w, true);
    ng_idb(&w, 1, 9, 0);
    size_t at = ng_begin(&w, 0x00000BAD);
    ngbytes(&w, "skip me", 7);
    ng_end(&w, at);
    ng_epb(&w, 6, 0, 1700000000123456789ull, &eth);
    ng_epb(&w, 3, 0, 0, &eth);
    ng_epb(&w, 2, 0, 1700000001000000000ull, &eth);
    /* Section 2, little-endian: LINKTYPE_RAW in 1/1024 s, 100 s offset, and a
     * second interface so that numbering restarts at 0 per section. */
    ng_shb(&w, false);
    ng_idb(&w, 101, 0x80 | 10, 100);
    ng_idb(&w, 1, -1, 0);
    ng_epb(&w, 6, 0, 5 * 1024 + 512, &raw);
    ng_epb(&w, 6, 1, 42, &eth);
    const char *path = spit("sections.pcapng", w.b, w.n);

    static const uint64_t ts[] = { 1700000000123456u, 1700000000123456u, 1700000001000000u,
                                   105500000u, 42u };
    static const int lt[] = { DLT_EN10MB, DLT_EN10MB, DLT_EN10MB, DLT_RAW, DLT_EN10MB };
    char err[256];
    struct input *in = input_open(path, NULL, err, sizeof err);
    CHECK(in != NULL);
    if (!in) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_STR(input_link_name(in), "EN10MB");
    start(false);
    struct frame f;
    int i = 0, rc;
    while ((rc = input_next(in, &f, err, sizeof err)) == 1 && i < 5) {
        CHECK_EQ_INT(f.ts_us, ts[i]);
        CHECK_EQ_INT(f.linktype, lt[i]);
        decode_frame(dec, &f, 0, (uint64_t)++i);
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(i, 5);
    CHECK_EQ_INT(rec.n, 5);
    for (int k = 0; k < rec.n && k < 5; k++)
        CHECK_SL(got_payload(&rec.g[k]), SIP_OPT);
    input_close(in);
}

TEST(pcapng_corrupt_blocks)
{
    struct pb eth;
    udp4(&eth);
    pb_eth(&eth, 0x0800);
    char err[256];
    struct ngw w;

    /* A packet for an interface the section never described. */
    w = (struct ngw){ .n = 0 };
    ng_shb(&w, false);
    ng_idb(&w, 1, -1, 0);
    ng_epb(&w, 6, 0, 1, &eth);
    ng_epb(&w, 6, 3, 2, &eth);
    long before = -1;
    CHECK(read_and_decode(spit("badif.pcapng", w.b, w.n), NULL, NULL, &before) < 0);
    CHECK_EQ_INT(before, 1);
    CHECK(strstr(last_err, "packet for interface 3, but the section describes 1") != NULL);

    /* Lengths at the two ends of a block disagree. */
    w.b[w.n - 1] ^= 0x40;
    CHECK(read_and_decode(spit("trailer.pcapng", w.b, w.n), NULL, NULL, &before) < 0);
    CHECK(strstr(last_err, "block lengths at start and end differ") != NULL);

    /* A block length that is not a multiple of 4, and one of 2 GiB. */
    w = (struct ngw){ .n = 0 };
    ng_shb(&w, false);
    ng_idb(&w, 1, -1, 0);
    size_t at = w.n;
    ng_epb(&w, 6, 0, 1, &eth);
    uint32_t odd = 0x3d, big = 0x80000000u;
    memcpy(w.b + at + 4, &odd, 4);
    CHECK(read_and_decode(spit("oddlen.pcapng", w.b, w.n), NULL, NULL, NULL) < 0);
    CHECK(strstr(last_err, "impossible block length 61") != NULL);
    memcpy(w.b + at + 4, &big, 4);
    CHECK(read_and_decode(spit("biglen.pcapng", w.b, w.n), NULL, NULL, NULL) < 0);
    CHECK(strstr(last_err, "impossible block length") != NULL);

    /* A captured length running past its block. */
    w = (struct ngw){ .n = 0 };
    ng_shb(&w, false);
    ng_idb(&w, 1, -1, 0);
    at = w.n;
    ng_epb(&w, 6, 0, 1, &eth);
    uint32_t cap = 4000;
    memcpy(w.b + at + 20, &cap, 4);
    CHECK(read_and_decode(spit("caplen.pcapng", w.b, w.n), NULL, NULL, NULL) < 0);
    CHECK(strstr(last_err, "captured length runs past the block") != NULL);

    /* A byte-order magic that is neither order: refused at open. */
    w = (struct ngw){ .n = 0 };
    ng_shb(&w, false);
    w.b[8] = 0x77;
    CHECK(input_open(spit("bom.pcapng", w.b, w.n), NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "bad byte-order magic") != NULL);

    /* A section with no interface and no packets is just empty. */
    w = (struct ngw){ .n = 0 };
    ng_shb(&w, true);
    CHECK_EQ_INT(read_and_decode(spit("noif.pcapng", w.b, w.n), NULL, NULL, NULL), 0);
    struct input *in = input_open(spit("noif2.pcapng", w.b, w.n), "udp", err, sizeof err);
    CHECK(in != NULL);
    if (in) {
        CHECK_STR(input_link_name(in), "none");
        input_close(in);
    }
}

TEST(input_directory_named_like_a_capture)
{
    const char *d = tmp_path("dir.pcap");
    CHECK(mkdir(d, 0700) == 0);
    char err[256];
    CHECK(input_open(d, NULL, err, sizeof err) == NULL);
    CHECK(strstr(err, "is a directory, not a capture file") != NULL);
}
