/*
 * reasm.c - reassembly glue. libnids rebuilds IPv4 fragments and TCP streams
 * from bare IPv4 packets we feed it (our decoder handles link layers libnids
 * does not know); IPv6 fragments go to ip6frag.c; TCP over IPv6 is fed to the
 * same libnids under 240/4 stand-in addresses (ip6map.c) and mapped back.
 *
 * libnids is process-global and its callbacks carry no user pointer, so this
 * file keeps the one struct reasm in a static (`cur`), with the meta of the
 * packet being fed, so callbacks know its time, input and frame.
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

struct reasm {
    struct reasm_cfg cfg;
    const struct l4_handler *h;
    struct capture_stats *st;
    pcap_t *dead;
    struct ip6frag *frag6;
    struct ip6map *map6;
    struct l4_meta feeding;   /* meta of the packet inside nids_pcap_handler */
    bool ended;
    uint8_t shim[65535];      /* IPv4 rewrite of an IPv6 TCP segment */
    uint16_t shim_id;
};

static struct reasm *cur;

/* Checksums off for every address: offloading NICs leave them wrong in
 * captures (DEPENDENCIES.md: default libnids dropped all TCP from a veth). */
static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM, 0 };

void reasm_default_cfg(struct reasm_cfg *c)
{
    /* libnids uses 3/4 of n_tcp_streams; its pool is pre-touched at ~216 B a
     * slot: 262,144 costs ~58 MB and holds ~196k concurrent streams, enough
     * that a SYN sweep does not evict a live SIP/TCP dialog. */
    c->tcp_streams = 262144;
    /* Unconsumed bytes per direction: 4 maximal SIP messages. */
    c->tcp_buf_max = 262144;
    c->ip6_frag_sets = 4096;
    c->ip6_frag_bytes = 16u << 20;
    c->ip6_frag_timeout_us = 60u * 1000000u; /* RFC 8200 §4.5: 60 s */
    c->ip6_map_entries = 65536;
}

static void report(enum cap_anomaly a)
{
    if (cur && cur->h->anomaly)
        cur->h->anomaly(cur->h->ctx, &cur->feeding, a);
}

/* libnids' warnings (never printed): the ones that lose data become anomalies. */
static void nids_warn(int type, int err, struct ip *iph, void *data)
{
    (void)iph;
    (void)data;
    if (type == NIDS_WARN_TCP && err == NIDS_WARN_TCP_TOOMUCH)
        report(CAP_A_TCP_TABLE_FULL);
    else if (type == NIDS_WARN_IP && err == NIDS_WARN_IP_OVERLAP)
        report(CAP_A_FRAG_OVERLAP);
    else if (type == NIDS_WARN_IP && (err == NIDS_WARN_IP_OVERSIZED || err == NIDS_WARN_IP_INVLIST))
        report(CAP_A_FRAG_LIMIT);
    else if (type == NIDS_WARN_IP && err == NIDS_WARN_IP_HDR)
        report(CAP_A_BAD_IP);
    else if (type == NIDS_WARN_TCP && err == NIDS_WARN_TCP_HDR)
        report(CAP_A_BAD_L4);
    else if (type == NIDS_WARN_TCP && err == NIDS_WARN_TCP_BIGQUEUE)
        report(CAP_A_TCP_OVERFLOW);
}

static void nids_nomem(char *where)
{
    (void)where;
    report(CAP_A_FRAG_LIMIT);
}

/* An address libnids hands back: a stand-in becomes its IPv6 address again. */
static bool unmap(uint32_t v4, struct ip_addr *out)
{
    if (ip6map_reserved(v4) && cur->map6 && ip6map_lookup(cur->map6, v4, out))
        return true;
    ip_from_v4(out, (const uint8_t *)&v4);
    return false;
}

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
    m.flags |= L4_F_FRAGMENTED;
    cur->st->udp++;
    cur->h->udp(cur->h->ctx, &m, sl_make(data, (size_t)len));
}

/* Meta for data that arrived at `to` (server: sent by the client). */
static void stream_meta(const struct tcp_stream *a, bool to_server, struct l4_meta *m)
{
    *m = cur->feeding;
    struct ip_addr cli, srv;
    bool v6 = unmap(a->addr.saddr, &cli);
    v6 |= unmap(a->addr.daddr, &srv);
    if (v6)
        m->flags |= L4_F_IPV6;
    m->proto = IPPROTO_TCP;
    m->flags &= (uint8_t)~L4_F_FRAGMENTED;
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
    enum tcp_verdict v = cur->h->tcp(cur->h->ctx, &m, sl_make(half->data, (size_t)avail), &consumed);
    if (v == TCP_IGNORE) {
        half->collect--;
        return; /* libnids drops the buffered bytes by default */
    }
    if (consumed > (size_t)avail)
        consumed = (size_t)avail;
    size_t keep = (size_t)avail - consumed;
    if (keep > cur->cfg.tcp_buf_max) {
        /* A message that never ends: drop it rather than grow without bound. */
        report(CAP_A_TCP_OVERFLOW);
        return;
    }
    nids_discard(a, (int)consumed);
}

static void end_half(struct tcp_stream *a, struct half_stream *half, bool to_server)
{
    if (!cur->h->tcp_end || !half->collect)
        return;
    struct l4_meta m;
    stream_meta(a, to_server, &m);
    int avail = half->count - half->offset;
    cur->h->tcp_end(cur->h->ctx, &m, avail > 0 ? sl_make(half->data, (size_t)avail) : SL_NULL);
}

static void tcp_cb(struct tcp_stream *a, void **param)
{
    (void)param;
    if (!cur)
        return;
    switch (a->nids_state) {
    case NIDS_JUST_EST:
        a->client.collect++;
        a->server.collect++;
        cur->st->tcp_streams++;
        break;
    case NIDS_DATA:
        if (a->server.count_new)
            deliver(a, &a->server, true);
        if (a->client.count_new)
            deliver(a, &a->client, false);
        break;
    default: /* NIDS_CLOSE, NIDS_RESET, NIDS_TIMED_OUT, NIDS_EXITING */
        end_half(a, &a->server, true);
        end_half(a, &a->client, false);
        break;
    }
}

struct reasm *reasm_new(const struct reasm_cfg *c, const struct l4_handler *h,
                        struct capture_stats *st, char *err, size_t errlen)
{
    if (cur) {
        snprintf(err, errlen, "reassembly is already running (libnids is global)");
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
    r->frag6 = ip6frag_new(c->ip6_frag_sets, c->ip6_frag_bytes, c->ip6_frag_timeout_us, h, st);
    r->map6 = ip6map_new(c->ip6_map_entries);
    if (!r->dead || !r->frag6 || !r->map6) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    nids_params.pcap_desc = r->dead;
    nids_params.filename = NULL;
    nids_params.device = NULL;
    nids_params.syslog = nids_warn;
    nids_params.no_mem = nids_nomem;
    nids_params.scan_num_hosts = 0; /* its portscan detector runs on wall-clock time */
    nids_params.n_tcp_streams = (int)c->tcp_streams;
    nids_params.n_hosts = 4096;
    nids_params.pcap_filter = NULL;
    if (!nids_init()) {
        snprintf(err, errlen, "libnids: %s", nids_errbuf);
        goto fail;
    }
    /* nids_init empties the callback lists: register after it. */
    nids_register_chksum_ctl(&no_checksums, 1);
    nids_register_udp(udp_cb);
    nids_register_tcp(tcp_cb);
    cur = r;
    return r;
fail:
    if (r->dead)
        pcap_close(r->dead);
    ip6frag_free(r->frag6);
    ip6map_free(r->map6);
    free(r);
    return NULL;
}

static void feed(struct reasm *r, const struct l4_meta *m, const uint8_t *ip, size_t len)
{
    struct pcap_pkthdr hdr;
    hdr.ts.tv_sec = (time_t)(m->ts_us / 1000000u);
    hdr.ts.tv_usec = (suseconds_t)(m->ts_us % 1000000u);
    hdr.caplen = hdr.len = (bpf_u_int32)len;
    r->feeding = *m;
    nids_pcap_handler(NULL, &hdr, (u_char *)ip);
}

/*
 * libnids follows a stream only from its handshake (DEPENDENCIES.md: no
 * mid-stream pickup). A data segment of a stream it does not know would be
 * dropped, so it is handed to the handler on its own: complete SIP messages
 * in it are seen (captures that begin mid-session), a message split across
 * segments is not. True when the segment was handled here.
 */
static bool midstream(struct reasm *r, const struct l4_meta *m, const uint8_t *ip, size_t len,
                      const struct ip_addr *src6, const struct ip_addr *dst6)
{
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    if (len < ihl + 20)
        return false;
    const uint8_t *th = ip + ihl;
    size_t doff = (size_t)(th[12] >> 4) * 4;
    if (doff < 20 || ihl + doff >= len || (th[13] & 0x02)) /* no payload, or a SYN */
        return false;
    struct tuple4 t;
    memcpy(&t.saddr, ip + 12, 4);
    memcpy(&t.daddr, ip + 16, 4);
    t.source = (u_short)(th[0] << 8 | th[1]);
    t.dest = (u_short)(th[2] << 8 | th[3]);
    if (nids_find_tcp_stream(&t))
        return false;
    struct tuple4 rev = { t.dest, t.source, t.daddr, t.saddr };
    if (nids_find_tcp_stream(&rev))
        return false;
    struct l4_meta mm = *m;
    if (src6) {
        mm.src = *src6;
        mm.dst = *dst6;
        mm.flags |= L4_F_IPV6;
    } else {
        ip_from_v4(&mm.src, ip + 12);
        ip_from_v4(&mm.dst, ip + 16);
    }
    mm.sport = t.source;
    mm.dport = t.dest;
    mm.proto = IPPROTO_TCP;
    size_t consumed = 0;
    r->st->tcp_bytes += len - ihl - doff;
    r->h->tcp(r->h->ctx, &mm, sl_make(th + doff, len - ihl - doff), &consumed);
    return true;
}

void reasm_ipv4(struct reasm *r, const struct l4_meta *m, struct slice ip)
{
    if (ip.n < 20)
        return;
    uint32_t src, dst;
    memcpy(&src, ip.p + 12, 4);
    memcpy(&dst, ip.p + 16, 4);
    if (ip6map_reserved(src) || ip6map_reserved(dst)) {
        /* 240/4 is where IPv6 stand-ins live; a real packet there would collide. */
        r->feeding = *m;
        report(CAP_A_BAD_IP);
        return;
    }
    if ((ip.p[9] == IPPROTO_UDP) && (ip.p[6] & 0x3f) == 0 && ip.p[7] == 0)
        return; /* unfragmented UDP is the decoder's fast path, never libnids' */
    if (ip.p[6] & 0x3f || ip.p[7])
        r->st->frags_v4++;
    else if (ip.p[9] == IPPROTO_TCP && midstream(r, m, ip.p, ip.n, NULL, NULL))
        return;
    feed(r, m, ip.p, ip.n);
}

bool reasm_ipv6_frag(struct reasm *r, const struct l4_meta *m, struct slice fh, struct slice frag,
                     uint8_t first_next_header, struct slice *out, uint8_t *next_header)
{
    (void)first_next_header; /* the fragment header's own next-header field decides */
    return ip6frag_add(r->frag6, m, fh, frag, out, next_header);
}

void reasm_tcp6(struct reasm *r, const struct l4_meta *m, struct slice seg)
{
    if (seg.n < 20 || seg.n > sizeof r->shim - 20)
        return;
    uint32_t s4 = ip6map_get(r->map6, &m->src, m->ts_us);
    uint32_t d4 = ip6map_get(r->map6, &m->dst, m->ts_us);
    if (!s4 || !d4)
        return;
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
    struct l4_meta mm = *m;
    mm.flags |= L4_F_IPV6;
    if (!midstream(r, &mm, h, total, &m->src, &m->dst))
        feed(r, &mm, h, total);
}

void reasm_tick(struct reasm *r, uint64_t now_us) { ip6frag_tick(r->frag6, now_us); }

void reasm_free(struct reasm *r)
{
    if (!r)
        return;
    if (cur == r) {
        nids_exit(); /* flushes open streams to tcp_cb as NIDS_EXITING */
        cur = NULL;
    }
    ip6frag_free(r->frag6);
    ip6map_free(r->map6);
    pcap_close(r->dead);
    free(r);
}
