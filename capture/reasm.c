/*
 * reasm.c - reassembly glue: IPv4 fragments and TCP through libnids (fed bare IPv4),
 * IPv6 fragments through ip6frag.c, TCP over IPv6 through libnids under 240/4
 * stand-ins (ip6map.c). It parses no SIP and counts no frames (the decoder does).
 */
#include "capture/reasm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <nids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/ip6frag.h"
#include "capture/ip6map.h"
#include "lib/table.h"

/*
 * Streams the handler gave up on (TCP_IGNORE on both directions, or on a
 * mid-stream segment). libnids frees a stream nobody collects, without a
 * callback; its later segments would then look like a capture begun
 * mid-session and reach the handler again through midstream(). Remembering
 * the 4-tuple a while keeps "ignore" meaning ignore. Entries are small
 * (~64 B); the LRU bound and idle expiry only ever cost a re-ignore.
 */
#define REASM_IGNORED_MAX 65536u
#define REASM_IGNORED_IDLE_US (300ull * 1000000u)

#define IP4_SHIM_MAX_PAYLOAD (65535u - 20u) /* the IPv4 length field's limit */

struct reasm {
    struct reasm_cfg cfg;
    const struct l4_handler *h;
    struct capture_stats *st;
    pcap_t *dead;
    struct ip6frag *frag6;
    struct ip6frag *frag4;
    struct ip6map *map6;
    struct table *ignored;    /* 4-tuples of streams the handler ignored */
    struct l4_meta feeding;   /* meta of the packet inside nids_pcap_handler */
    uint64_t nids_warnings;   /* every libnids warning, mapped or not (for a debugger) */
    uint16_t shim_id;
    uint8_t shim[65535];      /* IPv4 rewrite of an IPv6 TCP segment */
    uint8_t opts_copy[65535]; /* a packet with IPv4 options, which libnids writes to */
    uint8_t whole4[65535];    /* an IPv4 datagram rebuilt from its fragments */
};

/*
 * libnids is process-global and its callbacks (UDP, TCP, syslog, no_mem)
 * take no user pointer, so the one struct reasm lives here while it exists.
 * Its `feeding` member gives callbacks the time, input, frame and VLAN of
 * the packet that made libnids call.
 */
static struct reasm *cur;

/* Checksums off for every address: offloading NICs leave them wrong in
 * captures (DEPENDENCIES.md: default libnids dropped all TCP from a veth),
 * and the 240/4 shim changes the pseudo-header. libnids keeps the pointer. */
static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM, 0 };

void reasm_default_cfg(struct reasm_cfg *c)
{
    /* libnids uses 3/4 of n_tcp_streams and pre-touches its pool at ~216 B a
     * slot: 262,144 costs ~58 MB and holds ~196k concurrent streams, so a
     * SYN sweep does not evict a live SIP/TCP dialog (2,000 SYNs did at the
     * default 1,040; DEPENDENCIES.md). */
    c->tcp_streams = 262144;
    /* Unconsumed bytes per direction: several maximal SIP messages (a UDP
     * datagram caps one at 64 KiB), far above any real header block. */
    c->tcp_buf_max = 262144;
    /* Fragmented SIP is rare and short-lived (large INVITEs over UDP): 4,096
     * sets in 16 MiB is one 4 KiB set each, or 256 full 64 KiB datagrams. */
    c->ip6_frag_sets = 4096;
    c->ip6_frag_bytes = 16u << 20;
    c->ip6_frag_timeout_us = 60u * 1000000u; /* RFC 8200 §4.5: 60 s */
    /* IPv4 the same, expired after 30 s of capture time (Linux ipfrag_time). */
    c->ip4_frag_sets = 4096;
    c->ip4_frag_bytes = 16u << 20;
    c->ip4_frag_timeout_us = 30u * 1000000u;
    /* Two addresses per TCP/IPv6 stream; 65,536 stand-ins (~2 MB) cover
     * 32k concurrent peers before the least recently used one is recycled. */
    c->ip6_map_entries = 65536;
}

static void report_at(const struct l4_meta *m, enum cap_anomaly a)
{
    if (cur && cur->h->anomaly)
        cur->h->anomaly(cur->h->ctx, m, a);
}

static void report(enum cap_anomaly a)
{
    if (cur)
        report_at(&cur->feeding, a);
}

/* libnids' warnings (its default hook calls syslog(3)): never printed; the
 * ones that lose data become anomalies of the packet being fed. */
static void nids_warn(int type, int err, struct ip *iph, void *data)
{
    (void)iph;
    (void)data;
    if (!cur)
        return;
    cur->nids_warnings++;
    if (type == NIDS_WARN_TCP) {
        if (err == NIDS_WARN_TCP_TOOMUCH) /* "Max number of TCP streams reached" */
            report(CAP_A_TCP_TABLE_FULL);
        else if (err == NIDS_WARN_TCP_HDR)
            report(CAP_A_BAD_L4);
        else if (err == NIDS_WARN_TCP_BIGQUEUE) /* >64 KiB out of order: pruned */
            report(CAP_A_TCP_OVERFLOW);
    } else if (type == NIDS_WARN_IP) {
        if (err == NIDS_WARN_IP_OVERLAP)
            report(CAP_A_FRAG_OVERLAP);
        else if (err == NIDS_WARN_IP_OVERSIZED || err == NIDS_WARN_IP_INVLIST)
            report(CAP_A_FRAG_LIMIT);
        else if (err == NIDS_WARN_IP_HDR || err == NIDS_WARN_IP_SRR)
            report(CAP_A_BAD_IP);
    }
}

/* libnids dereferences the failed allocation right after calling this, so
 * there is nothing to return to: stop here, where the cause is visible. */
static void nids_nomem(char *where)
{
    (void)where;
    abort();
}

/* An address libnids hands back: a stand-in becomes its IPv6 address again. */
static bool unmap(uint32_t v4, struct ip_addr *out)
{
    if (ip6map_reserved(v4) && ip6map_lookup(cur->map6, v4, out))
        return true;
    ip_from_v4(out, (const uint8_t *)&v4);
    return false;
}

/* ---- streams the handler ignored ----------------------------------------- */

/* Both directions give one key: the lower (address, port) end first. */
static void ignored_key(uint8_t key[12], uint32_t a, uint16_t ap, uint32_t b, uint16_t bp)
{
    uint64_t ea = (uint64_t)ntohl(a) << 16 | ap, eb = (uint64_t)ntohl(b) << 16 | bp;
    if (ea > eb) {
        uint32_t ta = a;
        uint16_t tp = ap;
        a = b, ap = bp, b = ta, bp = tp;
    }
    memcpy(key, &a, 4);
    memcpy(key + 4, &b, 4);
    memcpy(key + 8, &ap, 2);
    memcpy(key + 10, &bp, 2);
}

static void ignore_stream(const struct tuple4 *t, uint64_t now)
{
    uint8_t key[12];
    ignored_key(key, t->saddr, t->source, t->daddr, t->dest);
    table_put(cur->ignored, key, sizeof key, now, NULL);
}

static bool is_ignored(struct reasm *r, const struct tuple4 *t, uint64_t now)
{
    uint8_t key[12];
    ignored_key(key, t->saddr, t->source, t->daddr, t->dest);
    return table_get(r->ignored, key, sizeof key, now) != NULL;
}

/* ---- libnids callbacks --------------------------------------------------- */

/* A UDP datagram libnids rebuilt from IPv4 fragments (unfragmented UDP is the
 * decoder's fast path and is never fed). The decoder counted it already. */
static void udp_cb(struct tuple4 *t, u_char *data, int len, struct ip *iph)
{
    (void)iph;
    if (!cur || len < 0)
        return;
    struct l4_meta m = cur->feeding;
    ip_from_v4(&m.src, (const uint8_t *)&t->saddr);
    ip_from_v4(&m.dst, (const uint8_t *)&t->daddr);
    m.sport = t->source;
    m.dport = t->dest;
    m.proto = IPPROTO_UDP;
    m.flags = (uint8_t)((m.flags & ~L4_F_IPV6) | L4_F_FRAGMENTED);
    cur->h->udp(cur->h->ctx, &m, sl_make(data, (size_t)len));
}

/*
 * Meta for bytes travelling toward `to_server`'s side (server half = sent by
 * the client). Time, frame, input and VLAN are the fed packet's: for
 * NIDS_TIMED_OUT (eviction) and NIDS_EXITING that is the packet, or last
 * packet, that caused the end, not one of the stream's own.
 */
static void stream_meta(const struct tcp_stream *a, bool to_server, struct l4_meta *m)
{
    *m = cur->feeding;
    struct ip_addr cli, srv;
    bool v6 = unmap(a->addr.saddr, &cli);
    v6 |= unmap(a->addr.daddr, &srv);
    m->flags &= (uint8_t) ~(L4_F_FRAGMENTED | L4_F_IPV6);
    if (v6)
        m->flags |= L4_F_IPV6;
    m->proto = IPPROTO_TCP;
    if (to_server) {
        m->src = cli, m->dst = srv, m->sport = a->addr.source, m->dport = a->addr.dest;
    } else {
        m->src = srv, m->dst = cli, m->sport = a->addr.dest, m->dport = a->addr.source;
    }
}

static void deliver(struct tcp_stream *a, struct half_stream *half, bool to_server)
{
    int avail = half->count - half->offset;
    if (avail <= 0 || !half->collect)
        return;
    struct l4_meta m;
    stream_meta(a, to_server, &m);
    size_t consumed = 0;
    cur->st->tcp_bytes += (uint64_t)half->count_new;
    struct slice data = sl_make(half->data, (size_t)avail);
    /* The handler's hint for each direction lives in the stream's user
     * pointer: two 32-bit halves, no allocation per stream. */
    _Static_assert(sizeof(uintptr_t) >= 8, "two 32-bit hints in a pointer");
    uintptr_t u = (uintptr_t)a->user;
    uint32_t hint = to_server ? (uint32_t)u : (uint32_t)(u >> 32);
    enum tcp_verdict v = cur->h->tcp(cur->h->ctx, &m, data, &consumed, &hint);
    u = to_server ? (u & ~(uintptr_t)0xffffffffu) | hint
                  : (u & (uintptr_t)0xffffffffu) | ((uintptr_t)hint << 32);
    a->user = (void *)u;
    if (v == TCP_IGNORE) {
        /* libnids drops this half's bytes (nothing discarded = all read) and
         * adds none; with both halves ignored it frees the stream silently
         * after this callback, so remember the tuple for midstream(). */
        half->collect--;
        if (a->client.collect <= 0 && a->server.collect <= 0)
            ignore_stream(&a->addr, m.ts_us);
        return;
    }
    if (consumed > (size_t)avail)
        consumed = (size_t)avail;
    if ((size_t)avail - consumed > cur->cfg.tcp_buf_max) {
        /* A message that never ends: drop it all (libnids' default when
         * nothing is kept) rather than buffer without bound. */
        report_at(&m, CAP_A_TCP_OVERFLOW);
        /* libnids drops the bytes: the handler's note about them is void */
        a->user = (void *)(to_server ? u & ~(uintptr_t)0xffffffffu : u & (uintptr_t)0xffffffffu);
        return;
    }
    nids_discard(a, (int)consumed); /* the rest stays in half->data */
}

static void end_half(struct tcp_stream *a, struct half_stream *half, bool to_server)
{
    if (!cur->h->tcp_end || half->collect <= 0)
        return; /* an ignored direction has nothing to say */
    struct l4_meta m;
    stream_meta(a, to_server, &m);
    int avail = half->count - half->offset;
    cur->h->tcp_end(cur->h->ctx, &m, avail > 0 ? sl_make(half->data, (size_t)avail) : SL_NULL);
}

/* libnids frees the stream itself after NIDS_CLOSE/RESET/TIMED_OUT/EXITING:
 * calling nids_free_tcp_stream here would free it twice. */
static void tcp_cb(struct tcp_stream *a, void **param)
{
    (void)param;
    if (!cur)
        return;
    switch (a->nids_state) {
    case NIDS_JUST_EST:
        /* Without a collector on some direction libnids drops the stream. */
        a->client.collect++;
        a->server.collect++;
        cur->st->tcp_streams++;
        break;
    case NIDS_DATA:
        if (a->server.count_new)
            deliver(a, &a->server, true);
        else if (a->client.count_new)
            deliver(a, &a->client, false);
        break;
    default: /* NIDS_CLOSE, NIDS_RESET, NIDS_TIMED_OUT, NIDS_EXITING */
        end_half(a, &a->server, true);
        end_half(a, &a->client, false);
        break;
    }
}

/* ---- setup --------------------------------------------------------------- */

static void release(struct reasm *r)
{
    if (r->dead)
        pcap_close(r->dead);
    ip6frag_free(r->frag6);
    ip6frag_free(r->frag4);
    ip6map_free(r->map6);
    table_free(r->ignored);
    free(r);
}

struct reasm *reasm_new(const struct reasm_cfg *c, const struct l4_handler *h,
                        struct capture_stats *st, char *err, size_t errlen)
{
    if (cur) {
        snprintf(err, errlen, "reassembly is already running (libnids is global)");
        return NULL;
    }
    if (c->tcp_streams < 4 || c->tcp_streams > (1u << 24)) {
        snprintf(err, errlen, "TCP stream table of %u: use 4 to 16777216", c->tcp_streams);
        return NULL;
    }
    /* A segment needs its two addresses mapped at once: with one entry the
     * destination's mapping would recycle the source's. */
    if (c->ip6_map_entries < 2 || c->ip6_frag_sets == 0) {
        snprintf(err, errlen, "IPv6 map of %u entries, %u fragment sets: need at least 2 and 1",
                 c->ip6_map_entries, c->ip6_frag_sets);
        return NULL;
    }
    struct reasm *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->cfg = *c;
    r->h = h;
    r->st = st;
    r->dead = pcap_open_dead(DLT_RAW, 65535);
    /* The decoder counts fragments seen (frags_v6); we count datagrams rebuilt. */
    r->frag6 = ip6frag_new(c->ip6_frag_sets, c->ip6_frag_bytes, c->ip6_frag_timeout_us, h, NULL);
    r->frag4 = ip6frag_new_named("ip4_fragments", c->ip4_frag_sets ? c->ip4_frag_sets : 1,
                                 c->ip4_frag_bytes, c->ip4_frag_timeout_us, h, NULL);
    r->map6 = ip6map_new(c->ip6_map_entries);
    struct table_cfg ic = { "tcp_ignored", REASM_IGNORED_MAX, 1, 12, REASM_IGNORED_IDLE_US,
                            NULL, NULL };
    r->ignored = table_new(&ic);
    if (!r->dead || !r->frag6 || !r->frag4 || !r->map6 || !r->ignored) {
        snprintf(err, errlen, "out of memory");
        release(r);
        return NULL;
    }
    nids_params.pcap_desc = r->dead; /* bare IPv4 from our decoder, no link layer */
    nids_params.filename = NULL;
    nids_params.device = NULL;
    nids_params.pcap_filter = NULL;
    nids_params.syslog = nids_warn;
    nids_params.no_mem = nids_nomem;
    nids_params.scan_num_hosts = 0; /* its portscan detector runs on wall-clock time */
    nids_params.n_tcp_streams = (int)c->tcp_streams;
    nids_params.n_hosts = 4096;     /* sizes the IPv4 fragment hash only */
    nids_params.one_loop_less = 0;
    nids_params.multiproc = 0;
    nids_params.tcp_workarounds = 0; /* its closing timeouts are per-packet mallocs */
    cur = r; /* nids_init may warn through nids_warn */
    if (!nids_init()) {
        snprintf(err, errlen, "libnids: %s", nids_errbuf);
        cur = NULL;
        nids_params.pcap_desc = NULL;
        release(r);
        return NULL;
    }
    /* nids_init empties the callback lists: register after it, every time. */
    nids_register_chksum_ctl(&no_checksums, 1);
    nids_register_udp(udp_cb);
    nids_register_tcp(tcp_cb);
    return r;
}

/* ---- feeding ------------------------------------------------------------- */

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void feed(struct reasm *r, const struct l4_meta *m, struct slice ip)
{
    struct pcap_pkthdr hdr;
    hdr.ts.tv_sec = (time_t)(m->ts_us / 1000000u);
    hdr.ts.tv_usec = (suseconds_t)(m->ts_us % 1000000u);
    hdr.caplen = hdr.len = (bpf_u_int32)ip.n;
    r->feeding = *m;
    /* libnids rewrites IPv4 options in place (its ip_options_compile bumps the
     * record-route and timestamp pointers), and the frame is the capture's, not
     * ours: a header with options goes in as a copy (fuzz_frame found the write).
     * libnids reads total-length bytes, never more than 65535. */
    if ((ip.p[0] & 0x0f) > 5) {
        size_t n = ip.n < sizeof r->opts_copy ? ip.n : sizeof r->opts_copy;
        memcpy(r->opts_copy, ip.p, n);
        ip = sl_make(r->opts_copy, n);
        hdr.caplen = hdr.len = (bpf_u_int32)n;
    }
    nids_pcap_handler(NULL, &hdr, (u_char *)(uintptr_t)ip.p);
}

/*
 * libnids follows a stream only from its handshake (DEPENDENCIES.md: no
 * mid-stream pickup). A data segment of a stream it does not know would be
 * dropped, so it is handed to the handler on its own: complete SIP messages
 * in it are seen (captures that begin mid-session), a message split across
 * segments is not. ip is a whole IPv4 packet (maybe our shim); src6/dst6 are
 * the real addresses behind a shim. True when the segment was handled here.
 */
static bool midstream(struct reasm *r, const struct l4_meta *m, struct slice ip,
                      const struct ip_addr *src6, const struct ip_addr *dst6)
{
    size_t ihl = (size_t)(ip.p[0] & 0x0f) * 4;
    struct slice th = sl_drop(ip, ihl);
    if (ihl < 20 || th.n < 20)
        return false;
    size_t doff = (size_t)(th.p[12] >> 4) * 4;
    if (doff < 20 || th.n <= doff || (th.p[13] & 0x02)) /* no payload, or a SYN */
        return false;
    struct tuple4 t;
    memcpy(&t.saddr, ip.p + 12, 4);
    memcpy(&t.daddr, ip.p + 16, 4);
    t.source = be16(th.p);
    t.dest = be16(th.p + 2);
    struct tuple4 rev = { t.dest, t.source, t.daddr, t.saddr };
    if (nids_find_tcp_stream(&t) || nids_find_tcp_stream(&rev))
        return false;
    if (is_ignored(r, &t, m->ts_us))
        return true;
    struct l4_meta mm = *m;
    mm.flags &= (uint8_t) ~(L4_F_FRAGMENTED | L4_F_IPV6);
    if (src6) {
        mm.src = *src6;
        mm.dst = *dst6;
        mm.flags |= L4_F_IPV6;
    } else {
        ip_from_v4(&mm.src, ip.p + 12);
        ip_from_v4(&mm.dst, ip.p + 16);
    }
    mm.sport = t.source;
    mm.dport = t.dest;
    mm.proto = IPPROTO_TCP;
    struct slice payload = sl_drop(th, doff);
    size_t consumed = 0;
    r->st->tcp_bytes += payload.n;
    r->feeding = *m;
    uint32_t hint = 0; /* a lone segment: nothing stays buffered */
    if (r->h->tcp(r->h->ctx, &mm, payload, &consumed, &hint) == TCP_IGNORE)
        ignore_stream(&t, m->ts_us);
    return true;
}

/*
 * An IPv4 fragment: into its set (ip6frag.c, with an 8-byte pseudo fragment
 * header: protocol, byte offset | MF, a v4 marker, protocol, identification),
 * and once the set is whole, the datagram goes on as if it had come unfragmented:
 * UDP to the handler (flag L4_F_FRAGMENTED), TCP to libnids.
 */
static void defrag4(struct reasm *r, const struct l4_meta *m, struct slice ip)
{
    size_t ihl = (size_t)(ip.p[0] & 0x0f) * 4, tot = be16(ip.p + 2);
    if (ihl < 20 || tot < ihl) {
        report_at(m, CAP_A_BAD_IP);
        return;
    }
    uint16_t ff = be16(ip.p + 6);
    uint16_t off = (uint16_t)(((ff & 0x1fffu) << 3) | ((ff & 0x2000u) ? 1u : 0u));
    uint8_t fh[8] = { ip.p[9], 0, (uint8_t)(off >> 8), (uint8_t)off, 0x40, ip.p[9], ip.p[4], ip.p[5] };
    struct l4_meta fm = *m;
    ip_from_v4(&fm.src, ip.p + 12);
    ip_from_v4(&fm.dst, ip.p + 16);
    fm.flags = (uint8_t)((fm.flags & ~L4_F_IPV6) | L4_F_FRAGMENTED);
    struct slice out;
    uint8_t proto;
    if (!ip6frag_add(r->frag4, &fm, sl_make(fh, sizeof fh), sl_make(ip.p + ihl, tot - ihl), &out, &proto))
        return;
    r->st->reassembled_v4++;
    if (proto == IPPROTO_UDP) {
        if (out.n < 8 || be16(out.p + 4) < 8) {
            report_at(&fm, CAP_A_BAD_L4);
            return;
        }
        size_t ulen = be16(out.p + 4);
        fm.sport = be16(out.p);
        fm.dport = be16(out.p + 2);
        fm.proto = IPPROTO_UDP;
        /* The UDP length decides where the payload ends; trailing bytes are padding. */
        r->h->udp(r->h->ctx, &fm, sl_make(out.p + 8, (ulen < out.n ? ulen : out.n) - 8));
        return;
    }
    if (proto != IPPROTO_TCP || out.n + 20 > sizeof r->whole4)
        return;
    /* A plain IPv4 header (no options, not fragmented) over the rebuilt segment. */
    uint8_t *w = r->whole4;
    memcpy(w, ip.p, 20);
    w[0] = 0x45;
    w[2] = (uint8_t)((out.n + 20) >> 8);
    w[3] = (uint8_t)(out.n + 20);
    w[6] = w[7] = 0;
    w[10] = w[11] = 0; /* checksums are not checked (no_checksums) */
    memcpy(w + 20, out.p, out.n);
    struct slice whole = sl_make(w, out.n + 20);
    struct l4_meta wm = *m;
    wm.flags |= L4_F_FRAGMENTED;
    if (!midstream(r, &wm, whole, NULL, NULL))
        feed(r, &wm, whole);
}

void reasm_ipv4(struct reasm *r, const struct l4_meta *m, struct slice ip)
{
    if (ip.n < 20 || (ip.p[0] >> 4) != 4)
        return; /* the decoder has reported it */
    uint32_t src, dst;
    memcpy(&src, ip.p + 12, 4);
    memcpy(&dst, ip.p + 16, 4);
    if (ip6map_reserved(src) || ip6map_reserved(dst)) {
        /* 240/4 is where IPv6 stand-ins live; a real packet there would join
         * or fake a TCP/IPv6 stream. */
        report_at(m, CAP_A_BAD_IP);
        return;
    }
    /* A packet cut by the snaplen: libnids would reject it as a bad header,
     * and the decoder has counted the truncation already. */
    if (be16(ip.p + 2) > ip.n)
        return;
    bool fragment = (be16(ip.p + 6) & 0x3fff) != 0; /* MF or an offset */
    if (fragment) {
        defrag4(r, m, ip);
        return;
    }
    if (!fragment && ip.p[9] == IPPROTO_UDP)
        return; /* unfragmented UDP is the decoder's fast path, never libnids' */
    if (!fragment && ip.p[9] == IPPROTO_TCP && midstream(r, m, ip, NULL, NULL))
        return;
    feed(r, m, ip);
}

bool reasm_ipv6_frag(struct reasm *r, const struct l4_meta *m, struct slice fh, struct slice frag,
                     uint8_t first_next_header, struct slice *out, uint8_t *next_header)
{
    (void)first_next_header; /* the first fragment's own next-header field decides */
    if (!ip6frag_add(r->frag6, m, fh, frag, out, next_header))
        return false;
    r->st->reassembled_v6++;
    return true;
}

void reasm_tcp6(struct reasm *r, const struct l4_meta *m, struct slice seg)
{
    if (seg.n < 20) {
        report_at(m, CAP_A_BAD_L4);
        return;
    }
    if (seg.n > IP4_SHIM_MAX_PAYLOAD) {
        /* A jumbogram or a GRO-merged segment: more than an IPv4 packet can
         * hold, so libnids cannot take it and the stream loses these bytes. */
        report_at(m, CAP_A_TCP_OVERFLOW);
        return;
    }
    uint32_t s4 = ip6map_get(r->map6, &m->src, m->ts_us);
    uint32_t d4 = ip6map_get(r->map6, &m->dst, m->ts_us);
    if (!s4 || !d4)
        return;
    /* IPv4 header, checksum left 0 (checks are off): version/IHL, length,
     * a fresh id (no DF, no fragment), TTL, protocol, the stand-ins. */
    uint8_t *h = r->shim;
    size_t total = seg.n + 20;
    memset(h, 0, 20);
    h[0] = 0x45;
    h[2] = (uint8_t)(total >> 8);
    h[3] = (uint8_t)total;
    r->shim_id++;
    h[4] = (uint8_t)(r->shim_id >> 8);
    h[5] = (uint8_t)r->shim_id;
    h[8] = 64;
    h[9] = IPPROTO_TCP;
    memcpy(h + 12, &s4, 4);
    memcpy(h + 16, &d4, 4);
    memcpy(h + 20, seg.p, seg.n);
    struct slice ip = sl_make(h, total);
    if (!midstream(r, m, ip, &m->src, &m->dst))
        feed(r, m, ip);
}

void reasm_tick(struct reasm *r, uint64_t now_us)
{
    ip6frag_tick(r->frag6, now_us);
    ip6frag_tick(r->frag4, now_us);
    table_expire(r->ignored, now_us);
}

void reasm_free(struct reasm *r)
{
    if (!r)
        return;
    if (cur == r) {
        nids_exit(); /* flushes open streams to tcp_cb as NIDS_EXITING */
        /* nids_exit leaves the callback lists and the next nids_init drops
         * them without freeing: free them now (16 B each). */
        nids_unregister_tcp(tcp_cb);
        nids_unregister_udp(udp_cb);
        nids_params.pcap_desc = NULL;
        cur = NULL;
    }
    release(r);
}

int reasm_limits_json(const struct reasm *r, char *buf, size_t n)
{
    const struct table *tabs[] = { ip6frag_table(r->frag4), ip6frag_table(r->frag6),
                                   ip6map_table(r->map6) };
    return table_stats_json(tabs, sizeof tabs / sizeof tabs[0], buf, n);
}
