/*
 * media.c - the stream table: SDP-announced endpoints, a probation table for
 * flows nothing announced, and per-stream figures (RFC 3550 A.1/A.3/A.8,
 * RFC 4733 digits, RTCP reports). Packets are read with rtp.h; outputs and
 * the engine's wiring live elsewhere. docs/media.md explains each figure.
 */
#include "media.h"

#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dissect/rtp.h"
#include "dissect/sdp.h"
#include "lib/table.h"

#define SKEY_LEN 40 /* src ip, dst ip, src port, dst port, SSRC */
#define EKEY_LEN 18 /* ip, port */

#define SEQ_MOD      (1u << 16)
#define MAX_DROPOUT  3000 /* RFC 3550 A.1: a forward jump still in order */
#define MAX_MISORDER 100  /* RFC 3550 A.1: how far back is late, not a restart */

#define PT_CN     13 /* RFC 3389 comfort noise */
#define PT_CN_OLD 19 /* its reserved predecessor, still sent by some phones */
/* Without an rtpmap, PT 101 carrying 4-byte payloads is taken for RFC 4733
 * events: the value nearly every SIP stack offers (and Wireshark assumes). */
#define PT_EVENT_GUESS 101

enum ev_mode { EV_NO, EV_YES, EV_MAYBE };

struct pt_info {
    uint8_t pt;
    uint8_t event;  /* codec "telephone-event" */
    uint32_t clock;
    char name[MEDIA_CODEC_MAX];
};

struct endpoint {
    char call_id[MEDIA_CALL_ID_MAX];
    bool rtp, rtcp;
    uint8_t n_pt;
    struct pt_info pt[MEDIA_PT_MAX];
};

/* What a stream knows of one payload type. */
struct pt_desc {
    uint32_t clock;    /* 0: unknown, no jitter */
    uint8_t event;     /* enum ev_mode */
    const char *name;  /* NULL: unknown; else into the stream's pt[] or a literal */
};

/* What a stream update needs of one packet (a live one or a replayed probe). */
struct pkt {
    uint64_t us;
    uint32_t ts;
    uint16_t seq;
    uint8_t pt;
    bool marker;
    uint32_t len;      /* payload bytes */
    struct slice head; /* first bytes of the payload (an RFC 4733 event fits) */
};

struct stream {
    struct media_stream pub;
    /* RFC 3550 A.1 sequence state of the current run */
    uint16_t max_seq;
    uint32_t cycles;       /* wraps << 16 */
    uint32_t base_seq;
    uint32_t bad_seq;      /* SEQ_MOD + 1: none pending */
    uint64_t received;
    int64_t lost_before;   /* loss of runs before a restart of the sequence */
    uint64_t window;       /* bit i: extended max - i arrived */
    /* the latest packet in timestamp order, for delta; the latest one that
     * counted for jitter (events and unknown clocks do not) */
    uint64_t ref_us, jit_us;
    uint32_t ref_ts, jit_ts;
    uint32_t jit_clock;    /* clock rate of the jitter reference */
    bool jit_ok;
    bool prev_cn;
    double jitter;         /* J of A.8, in ms */
    double jitter_max, jitter_sum;
    uint64_t jitter_n;
    uint64_t max_delta_us;
    /* payload types */
    bool main_pt_set, cur_known;
    uint8_t first_pt, cur_pt;
    struct pt_desc cur;    /* of cur_pt, looked up when the type changes */
    uint8_t n_pt;
    struct pt_info pt[MEDIA_PT_MAX];
    /* RFC 4733: the event in progress */
    bool ev_active, ev_done;
    uint8_t ev_code;
    uint16_t ev_dur;
    uint32_t ev_ts;
    uint8_t n_dtmf;
};

struct probe_pkt {
    uint64_t us;
    uint32_t ts, len;
    uint16_t seq;
    uint8_t pt, n_head;
    bool marker;
    uint8_t head[RTP_EVENT_LEN];
};

struct candidate {
    uint8_t n, steps;
    bool moved; /* timestamp (or an event's duration) went forward */
    struct probe_pkt pkt[MEDIA_PROBE_PACKETS];
};

struct media {
    struct media_cfg cfg;
    struct table *streams, *endpoints, *cands, *by_ssrc;
    uint64_t next_id;
    struct media_stats st;
    struct stream *last; /* media_last_stream: the latest datagram's stream */
};

/* ---- keys and small helpers -------------------------------------------- */

static void put16(uint8_t *k, uint16_t v)
{
    k[0] = (uint8_t)(v >> 8);
    k[1] = (uint8_t)v;
}

static void stream_key(uint8_t k[SKEY_LEN], const struct ip_addr *src, uint16_t sport,
                       const struct ip_addr *dst, uint16_t dport, uint32_t ssrc)
{
    memcpy(k, src->b, 16);
    memcpy(k + 16, dst->b, 16);
    put16(k + 32, sport);
    put16(k + 34, dport);
    put16(k + 36, (uint16_t)(ssrc >> 16));
    put16(k + 38, (uint16_t)ssrc);
}

static void endpoint_key(uint8_t k[EKEY_LEN], const struct ip_addr *a, uint16_t port)
{
    memcpy(k, a->b, 16);
    put16(k + 16, port);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}

uint32_t media_static_clock(uint8_t pt, const char **name)
{
    /* One copy of RFC 3551's table in sipsift: sdp_codec's, asked with an
     * SDP that has no media (so no rtpmap can answer). Its names are
     * literals, so the slice is NUL-terminated. */
    static const struct sdp no_sdp;
    uint32_t clock = 0;
    struct slice s = sdp_codec(&no_sdp, 0, pt, &clock);
    if (name)
        *name = s.n ? (const char *)s.p : NULL;
    return s.n ? clock : 0;
}

/* RTP payload types a stream nothing announced may plausibly carry: RFC
 * 3551's assigned static types and the dynamic range. 72-76 are excluded
 * with the rest of 35-95: with the marker bit they are RTCP (RFC 5761 §4). */
static bool pt_plausible(uint8_t pt)
{
    if (pt >= 96)
        return true;
    if (pt > 34)
        return false;
    static const uint64_t assigned = (1ull << 0) | (0xffffull << 3) | (1ull << 19) | (1ull << 25) |
                                     (1ull << 26) | (1ull << 28) | (0xfull << 31);
    return (assigned >> pt) & 1;
}

/* Ports whose traffic is something else (DNS, DHCP, TFTP, NTP, NetBIOS,
 * SNMP, IKE, syslog, SSDP, STUN/TURN, NAT-T, mDNS, LLMNR): never RTP by
 * heuristics. RTP uses dynamic ports (RFC 3550 §11), so below 1024 is out. */
static bool port_excluded(uint16_t port)
{
    switch (port) {
    case 1900: case 3478: case 4500: case 5349: case 5353: case 5355:
        return true;
    default:
        return port < 1024;
    }
}

/* Shapes on the RTP path that are other protocols with a first byte of
 * 0x80-0xBF: STUN's magic cookie where the RTP timestamp would be (RFC 8489
 * §5), a QUIC long header whose fixed bit is greased (RFC 9287) with version
 * 1 or 2 and a connection ID of at most 20 bytes (RFC 9000 §17.2, RFC 9369).
 * Version 0 (negotiation) is left out: it is also PCMU with sequence 0 and a
 * timestamp starting at 0, the first packet of many streams. */
static bool other_protocol(struct slice d)
{
    if (d.n >= 8 && d.p[4] == 0x21 && d.p[5] == 0x12 && d.p[6] == 0xa4 && d.p[7] == 0x42)
        return true;
    if (d.n >= 6) {
        uint32_t v = (uint32_t)d.p[1] << 24 | (uint32_t)d.p[2] << 16 | (uint32_t)d.p[3] << 8 | d.p[4];
        if ((v == 0x00000001 || v == 0x6b3343cf) && d.p[5] <= 20)
            return true;
    }
    return false;
}

/* ---- endpoints (SDP) ----------------------------------------------------- */

static struct endpoint *endpoint_put(struct media *m, const struct ip_addr *a, uint16_t port,
                                     struct slice call_id, uint64_t now)
{
    uint8_t k[EKEY_LEN];
    endpoint_key(k, a, port);
    bool created;
    struct endpoint *e = table_put(m->endpoints, k, EKEY_LEN, now, &created);
    if (!e)
        return NULL;
    char cid[MEDIA_CALL_ID_MAX];
    sl_copy(call_id, cid, sizeof cid);
    if (strcmp(cid, e->call_id) != 0) {
        /* the address:port now belongs to another call: its formats go too */
        memcpy(e->call_id, cid, sizeof cid);
        e->n_pt = 0;
    }
    return e;
}

void media_expect(struct media *m, const struct ip_addr *addr, uint16_t port, uint32_t clock_rate,
                  uint8_t pt, struct slice codec, struct slice call_id, uint64_t now)
{
    if (!m || !addr || port == 0) /* port 0: the stream was declined (RFC 3264 §6) */
        return;
    struct endpoint *e = endpoint_put(m, addr, port, call_id, now);
    if (!e)
        return;
    e->rtp = true;
    pt &= 0x7f;
    unsigned i = 0;
    while (i < e->n_pt && e->pt[i].pt != pt)
        i++;
    if (i == MEDIA_PT_MAX)
        i = MEDIA_PT_MAX - 1; /* full: the latest format replaces the last */
    else if (i == e->n_pt)
        e->n_pt++;
    struct pt_info *p = &e->pt[i];
    const char *static_name;
    uint32_t static_clock = media_static_clock(pt, &static_name);
    p->pt = pt;
    p->clock = clock_rate ? clock_rate : static_clock;
    if (codec.n)
        sl_copy(codec, p->name, sizeof p->name);
    else
        copy_str(p->name, sizeof p->name, static_name);
    p->event = sl_is_nocase(codec, "telephone-event");
    if (p->event && !clock_rate)
        p->clock = 8000; /* RFC 4733 §7.1.1 default rate */
    if (port < UINT16_MAX)
        media_expect_rtcp(m, addr, (uint16_t)(port + 1), call_id, now);
}

void media_expect_rtcp(struct media *m, const struct ip_addr *addr, uint16_t port,
                       struct slice call_id, uint64_t now)
{
    if (!m || !addr || port == 0)
        return;
    struct endpoint *e = endpoint_put(m, addr, port, call_id, now);
    if (e)
        e->rtcp = true;
}

static struct endpoint *endpoint_get(struct media *m, const struct ip_addr *a, uint16_t port,
                                     uint64_t now)
{
    uint8_t k[EKEY_LEN];
    endpoint_key(k, a, port);
    return table_get(m->endpoints, k, EKEY_LEN, now);
}

/* ---- per-stream figures ------------------------------------------------- */

/* Payload type pt as the stream's SDP formats, else RFC 3551, describe it. */
static struct pt_desc pt_describe(const struct stream *s, uint8_t pt)
{
    for (unsigned i = 0; i < s->n_pt; i++)
        if (s->pt[i].pt == pt)
            return (struct pt_desc){ s->pt[i].clock, s->pt[i].event ? EV_YES : EV_NO, s->pt[i].name };
    struct pt_desc d = { 0, pt == PT_EVENT_GUESS ? EV_MAYBE : EV_NO, NULL };
    d.clock = media_static_clock(pt, &d.name);
    return d;
}

/* The stream's payload type is pt; event says its packets are RFC 4733
 * events (the only name a guessed PT 101 can get). */
static void set_main_pt(struct media_stream *pub, uint8_t pt, const struct pt_desc *d, bool event)
{
    const char *name = d->name;
    if (!name && event)
        name = "telephone-event";
    pub->payload_type = pt;
    pub->clock_rate = d->clock;
    copy_str(pub->codec, sizeof pub->codec, name);
}

static void seq_init(struct stream *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = SEQ_MOD + 1;
    s->cycles = 0;
    s->received = 1;
    s->window = 1;
}

static int64_t run_lost(const struct stream *s)
{
    int64_t expected = (int64_t)s->cycles + s->max_seq - s->base_seq + 1;
    return expected - (int64_t)s->received;
}

/* RFC 3550 A.1 update_seq, without the probation (media_on_udp decides what
 * is a stream) and keeping counts across a restart of the sequence. */
static void seq_update(struct stream *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta != 0 && udelta < MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += SEQ_MOD;
        s->window = udelta >= MEDIA_DUP_WINDOW ? 0 : s->window << udelta;
        s->window |= 1;
        s->max_seq = seq;
    } else if (udelta != 0 && udelta <= SEQ_MOD - MAX_MISORDER) {
        if (seq != s->bad_seq) {
            /* a jump: wait for the next packet before believing it */
            s->bad_seq = (seq + 1) & (SEQ_MOD - 1);
            return;
        }
        /* two in a row after a jump: the sender restarted its sequence */
        s->lost_before += run_lost(s);
        seq_init(s, seq);
        return;
    } else {
        /* at or behind the highest: a duplicate or a late packet */
        uint16_t back = (uint16_t)(s->max_seq - seq);
        if (back < MEDIA_DUP_WINDOW && (s->window >> back) & 1) {
            s->pub.duplicates++;
        } else {
            s->pub.out_of_order++;
            if (back < MEDIA_DUP_WINDOW)
                s->window |= 1ull << back;
        }
    }
    s->received++;
}

/* Append the key of event code to pub's digits (*n so far): true if added. */
static bool dtmf_append(struct media_stream *pub, uint8_t *n, uint8_t code)
{
    char c = rtp_event_digit(code);
    if (!c)
        return false;
    if (*n >= MEDIA_DTMF_MAX) {
        pub->dtmf_dropped++;
        return false;
    }
    pub->dtmf[(*n)++] = c;
    pub->dtmf[*n] = 0;
    return true;
}

static void dtmf_emit(struct media *m, struct stream *s, uint8_t code, uint64_t us)
{
    if (dtmf_append(&s->pub, &s->n_dtmf, code))
        m->st.dtmf_digits++;
    char c = rtp_event_digit(code);
    if (c && m->cfg.on_dtmf)
        m->cfg.on_dtmf(m->cfg.ctx, &s->pub, c, us);
}

/* RFC 4733: every packet of one event has the event's start timestamp; the
 * end bit comes on the last packet, sent three times (§2.5.1.4). One digit
 * per event: at the first end packet, or when the next event starts if every
 * end packet was lost. An event too long for 16 bits of duration goes on
 * with the same code at timestamp + duration (§2.5.2.3): the same key. */
static void dtmf_packet(struct media *m, struct stream *s, const struct pkt *k)
{
    struct rtp_event ev;
    if (!rtp_event_parse(k->head, &ev))
        return;
    if (!s->ev_active || (int32_t)(k->ts - s->ev_ts) > 0) {
        bool continues = s->ev_active && !s->ev_done && ev.event == s->ev_code &&
                         k->ts - s->ev_ts <= s->ev_dur;
        if (s->ev_active && !s->ev_done && !continues)
            dtmf_emit(m, s, s->ev_code, k->us);
        if (!continues) {
            s->ev_done = false;
            s->ev_code = ev.event;
        }
        s->ev_active = true;
        s->ev_ts = k->ts;
        s->ev_dur = 0;
    } else if (k->ts != s->ev_ts) {
        return; /* a late packet of an earlier event */
    }
    if (ev.duration > s->ev_dur)
        s->ev_dur = ev.duration;
    if (ev.end && !s->ev_done) {
        dtmf_emit(m, s, s->ev_code, k->us);
        s->ev_done = true;
    }
}

static void stream_packet(struct media *m, struct stream *s, const struct pkt *k)
{
    struct media_stream *pub = &s->pub;
    m->st.rtp_packets++;
    pub->bytes += k->len;
    if (!s->cur_known || k->pt != s->cur_pt) {
        s->cur = pt_describe(s, k->pt);
        s->cur_pt = k->pt;
        s->cur_known = true;
    }
    bool event = s->cur.event == EV_YES || (s->cur.event == EV_MAYBE && k->len == RTP_EVENT_LEN);
    bool cn = k->pt == PT_CN || k->pt == PT_CN_OLD;
    if (!s->main_pt_set && !cn && !event) {
        set_main_pt(pub, k->pt, &s->cur, false);
        s->main_pt_set = true;
    }
    if (event)
        dtmf_packet(m, s, k);

    bool jitter_pt = !event && s->cur.clock != 0;
    if (pub->packets++ == 0) {
        pub->start_us = pub->end_us = k->us;
        s->first_pt = k->pt;
        seq_init(s, k->seq);
        s->ref_us = k->us;
        s->ref_ts = k->ts;
        if (jitter_pt) {
            s->jit_us = k->us;
            s->jit_ts = k->ts;
            s->jit_clock = s->cur.clock;
            s->jit_ok = true;
        }
        s->prev_cn = cn;
        return;
    }
    if (k->us > pub->end_us)
        pub->end_us = k->us;
    seq_update(s, k->seq);

    /* RFC 3550 A.8: D = (Rj - Ri) - (Sj - Si), J += (|D| - J) / 16. A.8
     * keeps J in timestamp units; J_ms = J * 1000 / clock and the filter is
     * linear, so we keep ms and J stays one figure when the payload type
     * changes to another clock rate (no D is taken across that change, RFC
     * 7160). The reference is the latest packet in timestamp order (as
     * Wireshark), so a late packet is measured once and moves nothing. */
    bool jitter_counted = false;
    if (jitter_pt) {
        if (s->jit_ok && s->jit_clock != s->cur.clock)
            s->jit_ok = false;
        if (s->jit_ok) {
            double d = (double)(int64_t)(k->us - s->jit_us) / 1000.0 -
                       (double)(int32_t)(k->ts - s->jit_ts) * 1000.0 / s->cur.clock;
            s->jitter += (fabs(d) - s->jitter) / 16.0;
            jitter_counted = true;
        }
        if (!s->jit_ok || (int32_t)(k->ts - s->jit_ts) >= 0) {
            s->jit_us = k->us;
            s->jit_ts = k->ts;
            s->jit_clock = s->cur.clock;
            s->jit_ok = true;
        }
    }

    /* Delta and the jitter peaks skip what is no sign of trouble, as
     * Wireshark's RTP analysis does: a marker (a talkspurt after silence),
     * comfort noise and the packet after it, a timestamp going back. */
    bool ts_back = (int32_t)(k->ts - s->ref_ts) < 0;
    bool regular = !k->marker && !cn && !s->prev_cn && !ts_back;
    if (regular) {
        uint64_t delta = k->us > s->ref_us ? k->us - s->ref_us : 0;
        if (delta > s->max_delta_us)
            s->max_delta_us = delta;
        if (jitter_counted) {
            if (s->jitter > s->jitter_max)
                s->jitter_max = s->jitter;
            s->jitter_sum += s->jitter;
            s->jitter_n++;
        }
    }
    if (!ts_back) {
        s->ref_us = k->us;
        s->ref_ts = k->ts;
    }
    s->prev_cn = cn;
}

/* The figures of s as they stand; final also records a pending digit. */
static void stream_result(struct media *m, const struct stream *s, struct media_stream *out, bool final)
{
    *out = s->pub;
    if (!s->main_pt_set && s->pub.packets) {
        /* only comfort noise or events: report the first packet's type */
        struct pt_desc d = pt_describe(s, s->first_pt);
        set_main_pt(out, s->first_pt, &d, d.event != EV_NO);
    }
    out->lost = s->pub.packets ? s->lost_before + run_lost(s) : 0;
    out->jitter_ms = s->jitter_max;
    out->jitter_mean_ms = s->jitter_n ? s->jitter_sum / (double)s->jitter_n : 0;
    out->max_delta_ms = (double)s->max_delta_us / 1000.0;
    if (s->ev_active && !s->ev_done) {
        /* the call or the capture ended inside an event, or its ends were lost */
        uint8_t n = s->n_dtmf;
        if (dtmf_append(out, &n, s->ev_code) && final)
            m->st.dtmf_digits++;
    }
}

/* ---- the stream table ---------------------------------------------------- */

static void stream_removed(void *ctx, void *value, enum table_why why)
{
    struct media *m = ctx;
    struct stream *s = value;
    size_t klen;
    const uint8_t *key = table_key(m->streams, s, &klen);
    uint8_t *ik = table_peek(m->by_ssrc, &s->pub.ssrc, sizeof s->pub.ssrc);
    if (ik && memcmp(ik, key, SKEY_LEN) == 0)
        table_del(m->by_ssrc, ik);
    if (m->last == s)
        m->last = NULL;
    struct media_stream out;
    stream_result(m, s, &out, true);
    if (s->ev_active && !s->ev_done && m->cfg.on_dtmf && rtp_event_digit(s->ev_code))
        m->cfg.on_dtmf(m->cfg.ctx, &out, rtp_event_digit(s->ev_code), s->pub.end_us);
    m->st.streams_ended++;
    if (why == TABLE_EVICTED)
        m->st.streams_evicted++;
    if (m->cfg.on_stream_end)
        m->cfg.on_stream_end(m->cfg.ctx, &out);
}

static struct stream *stream_new(struct media *m, const uint8_t key[SKEY_LEN], const struct l4_meta *meta,
                                 uint32_t ssrc, const struct endpoint *ep, uint64_t now)
{
    bool created;
    struct stream *s = table_put(m->streams, key, SKEY_LEN, now, &created);
    if (!s || !created)
        return s;
    s->pub.id = ++m->next_id;
    s->pub.ssrc = ssrc;
    s->pub.src_ip = meta->src;
    s->pub.dest_ip = meta->dst;
    s->pub.src_port = meta->sport;
    s->pub.dest_port = meta->dport;
    if (ep) {
        memcpy(s->pub.call_id, ep->call_id, sizeof s->pub.call_id);
        s->pub.from_sdp = true;
        s->n_pt = ep->n_pt;
        memcpy(s->pt, ep->pt, sizeof s->pt);
        m->st.streams_sdp++;
    }
    m->st.streams++;
    uint8_t *ik = table_put(m->by_ssrc, &ssrc, sizeof ssrc, now, NULL);
    if (ik)
        memcpy(ik, key, SKEY_LEN);
    if (m->cfg.on_stream_start)
        m->cfg.on_stream_start(m->cfg.ctx, &s->pub);
    return s;
}

/* ---- heuristic probation -------------------------------------------------- */

static uint16_t event_duration(const struct probe_pkt *p)
{
    return p->n_head == RTP_EVENT_LEN && p->len == RTP_EVENT_LEN ? (uint16_t)(p->head[2] << 8 | p->head[3]) : 0;
}

/*
 * A flow nobody announced becomes a stream after MEDIA_PROBE_STEPS forward
 * sequence steps of at most MEDIA_PROBE_MAX_SEQ_STEP with one SSRC, a
 * plausible payload type, timestamps never going back (nor leaping) and
 * moving at least once (or, for RFC 4733 events whose timestamp stays, the
 * duration growing), with no pause over MEDIA_PROBE_MAX_GAP_US. Anything else
 * restarts the probation. The buffered packets are then counted in order.
 */
static bool probe(struct media *m, const struct l4_meta *meta, const struct rtp_hdr *h,
                  struct slice d, const uint8_t key[SKEY_LEN])
{
    if (!pt_plausible(h->pt) || other_protocol(d))
        return false;
    uint64_t now = meta->ts_us;
    bool created;
    struct candidate *c = table_put(m->cands, key, SKEY_LEN, now, &created);
    if (!c)
        return false;
    if (created)
        m->st.probes++;
    struct probe_pkt cur = { .us = now, .ts = h->ts, .len = (uint32_t)h->payload.n, .seq = h->seq,
                             .pt = h->pt, .marker = h->marker };
    struct slice head = sl_prefix(h->payload, RTP_EVENT_LEN);
    if (head.n)
        memcpy(cur.head, head.p, head.n);
    cur.n_head = (uint8_t)head.n;

    if (c->n) {
        const struct probe_pkt *prev = &c->pkt[c->n - 1];
        uint16_t ds = (uint16_t)(h->seq - prev->seq);
        int32_t dts = (int32_t)(h->ts - prev->ts);
        bool ok = c->n < MEDIA_PROBE_PACKETS && ds <= MEDIA_PROBE_MAX_SEQ_STEP && dts >= 0 &&
                  (uint32_t)dts <= MEDIA_PROBE_MAX_TS_STEP && now >= prev->us &&
                  now - prev->us <= MEDIA_PROBE_MAX_GAP_US;
        if (!ok) {
            m->st.probe_resets++;
            c->n = c->steps = 0;
            c->moved = false;
        } else {
            if (ds)
                c->steps++;
            if (dts > 0 || (ds && event_duration(&cur) > event_duration(prev)))
                c->moved = true;
        }
    }
    c->pkt[c->n++] = cur;
    if (c->steps < MEDIA_PROBE_STEPS || !c->moved)
        return false;

    struct stream *s = stream_new(m, key, meta, h->ssrc, NULL, now);
    if (s) {
        for (unsigned i = 0; i < c->n; i++) {
            const struct probe_pkt *p = &c->pkt[i];
            struct pkt k = { p->us, p->ts, p->seq, p->pt, p->marker, p->len, sl_make(p->head, p->n_head) };
            stream_packet(m, s, &k);
        }
        m->last = s;
    }
    table_del(m->cands, c);
    return s != NULL;
}

/* ---- RTCP ---------------------------------------------------------------- */

/* The stream ssrc an RTCP datagram speaks of: sent by the datagram's source
 * (sender) or by its destination. RTP sits one port below (RFC 3550 §11), or
 * on the same ports (RFC 5761 mux); else the latest stream with that SSRC. */
static struct stream *rtcp_stream_find(struct media *m, const struct l4_meta *meta, uint32_t ssrc, bool sender)
{
    const struct ip_addr *a = sender ? &meta->src : &meta->dst, *b = sender ? &meta->dst : &meta->src;
    uint16_t ap = sender ? meta->sport : meta->dport, bp = sender ? meta->dport : meta->sport;
    uint8_t k[SKEY_LEN];
    struct stream *s;
    if (ap > 0 && bp > 0) {
        stream_key(k, a, (uint16_t)(ap - 1), b, (uint16_t)(bp - 1), ssrc);
        if ((s = table_peek(m->streams, k, SKEY_LEN)))
            return s;
    }
    stream_key(k, a, ap, b, bp, ssrc);
    if ((s = table_peek(m->streams, k, SKEY_LEN)))
        return s;
    const uint8_t *ik = table_peek(m->by_ssrc, &ssrc, sizeof ssrc);
    return ik ? table_peek(m->streams, ik, SKEY_LEN) : NULL;
}

static struct stream *rtcp_stream(struct media *m, const struct l4_meta *meta, uint32_t ssrc, bool sender)
{
    struct stream *s = rtcp_stream_find(m, meta, ssrc, sender);
    if (s && !m->last)
        m->last = s;
    return s;
}

static void rtcp_report(struct media *m, const struct l4_meta *meta, const struct rtcp_report *r)
{
    m->st.rtcp_reports++;
    struct stream *s = rtcp_stream(m, meta, r->ssrc, false);
    if (!s) {
        m->st.rtcp_unmatched++;
        return;
    }
    s->pub.rtcp.reports++;
    s->pub.rtcp.fraction_lost = r->fraction_lost / 256.0;
    s->pub.rtcp.cum_lost = r->cum_lost;
    uint32_t clock = s->pub.clock_rate ? s->pub.clock_rate : s->cur.clock;
    s->pub.rtcp.jitter_ms = clock ? r->jitter * 1000.0 / clock : 0;
    if (s->pub.rtcp.jitter_ms > s->pub.rtcp.jitter_max_ms)
        s->pub.rtcp.jitter_max_ms = s->pub.rtcp.jitter_ms;
}

static bool on_rtcp(struct media *m, const struct l4_meta *meta, struct slice d)
{
    uint64_t now = meta->ts_us;
    const struct endpoint *e = endpoint_get(m, &meta->dst, meta->dport, now);
    if (!e)
        e = endpoint_get(m, &meta->src, meta->sport, now);
    bool known = e != NULL;
    if (!known && (!m->cfg.heuristic || port_excluded(meta->sport) || port_excluded(meta->dport)))
        return false;
    if (!rtcp_check(d, !known, NULL)) {
        if (known)
            m->st.malformed_rtcp++;
        return false;
    }
    m->st.rtcp_packets++;
    struct slice rest = d;
    struct rtcp_pkt p;
    while (rtcp_next(&rest, &p, NULL)) {
        struct stream *s;
        switch (p.pt) {
        case RTCP_SR:
            if ((s = rtcp_stream(m, meta, p.ssrc, true))) {
                s->pub.rtcp.sr_packets = p.sr.packets;
                s->pub.rtcp.sr_octets = p.sr.octets;
            } else {
                m->st.rtcp_unmatched++;
            }
            /* an SR carries report blocks as an RR does */
            __attribute__((fallthrough));
        case RTCP_RR:
            for (unsigned i = 0; i < p.count; i++) {
                struct rtcp_report r;
                if (rtcp_report_at(&p, i, &r))
                    rtcp_report(m, meta, &r);
            }
            break;
        case RTCP_SDES: {
            struct slice chunks = p.body;
            uint32_t ssrc;
            struct slice cname;
            for (unsigned i = 0; i < p.count && rtcp_sdes_next(&chunks, &ssrc, &cname); i++) {
                if ((s = rtcp_stream(m, meta, ssrc, true)))
                    sl_copy(cname, s->pub.rtcp.cname, sizeof s->pub.rtcp.cname);
                else
                    m->st.rtcp_unmatched++;
            }
            break;
        }
        case RTCP_BYE: {
            uint32_t ssrc;
            for (unsigned i = 0; rtcp_bye_ssrc(&p, i, &ssrc); i++) {
                if ((s = rtcp_stream(m, meta, ssrc, true)))
                    s->pub.rtcp.bye = true;
                else
                    m->st.rtcp_unmatched++;
            }
            break;
        }
        default: /* APP, feedback, XR: skipped */
            break;
        }
    }
    return true;
}

/* ---- the datagram path ------------------------------------------------- */

bool media_on_udp(struct media *m, const struct l4_meta *meta, struct slice d)
{
    if (m)
        m->last = NULL;
    if (!m || meta->proto != IPPROTO_UDP || d.n < RTCP_HDR_LEN || d.p[0] >> 6 != RTP_VERSION)
        return false; /* SIP, STUN, DTLS, QUIC short headers... end here (RFC 7983) */
    /* RFC 5761 §4: second byte 192-223 is RTCP (RTP would be PT 64-95 + marker) */
    if (d.p[1] >= 192 && d.p[1] <= 223)
        return on_rtcp(m, meta, d);

    uint64_t now = meta->ts_us;
    struct rtp_hdr h;
    if (!rtp_parse(d, &h, NULL)) {
        const struct endpoint *e = endpoint_get(m, &meta->dst, meta->dport, now);
        if ((e && e->rtp) || ((e = endpoint_get(m, &meta->src, meta->sport, now)) && e->rtp))
            m->st.malformed_rtp++;
        return false;
    }
    uint8_t key[SKEY_LEN];
    stream_key(key, &meta->src, meta->sport, &meta->dst, meta->dport, h.ssrc);
    struct stream *s = table_get(m->streams, key, SKEY_LEN, now);
    if (!s) {
        /* media goes to the address SDP announced; symmetric RTP (RFC 4961)
         * also comes from it, which finds streams whose peer's SDP was missed */
        const struct endpoint *e = endpoint_get(m, &meta->dst, meta->dport, now);
        if (!e || !e->rtp)
            e = endpoint_get(m, &meta->src, meta->sport, now);
        if (e && e->rtp)
            s = stream_new(m, key, meta, h.ssrc, e, now);
        else if (m->cfg.heuristic && !port_excluded(meta->sport) && !port_excluded(meta->dport))
            return probe(m, meta, &h, d, key);
        if (!s)
            return false;
    }
    struct pkt k = { now, h.ts, h.seq, h.pt, h.marker, (uint32_t)h.payload.n,
                     sl_prefix(h.payload, RTP_EVENT_LEN) };
    stream_packet(m, s, &k);
    m->last = s;
    return true;
}

const struct media_stream *media_last_stream(const struct media *m)
{
    return m && m->last ? &m->last->pub : NULL;
}

/* ---- life cycle ------------------------------------------------------------ */

void media_default_cfg(struct media_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_streams = MEDIA_MAX_STREAMS;
    cfg->max_endpoints = MEDIA_MAX_ENDPOINTS;
    cfg->max_candidates = MEDIA_MAX_CANDIDATES;
    cfg->idle_us = MEDIA_IDLE_SEC * 1000000ull;
    cfg->endpoint_idle_us = MEDIA_ENDPOINT_IDLE_SEC * 1000000ull;
    cfg->heuristic = true;
}

struct media *media_new(const struct media_cfg *cfg)
{
    struct media *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cfg = *cfg;
    struct table_cfg tc = { .name = "rtp_streams", .capacity = cfg->max_streams,
                            .value_size = sizeof(struct stream), .key_max = SKEY_LEN,
                            .idle_us = cfg->idle_us, .on_remove = stream_removed, .ctx = m };
    m->streams = table_new(&tc);
    tc = (struct table_cfg){ .name = "rtp_endpoints", .capacity = cfg->max_endpoints,
                             .value_size = sizeof(struct endpoint), .key_max = EKEY_LEN,
                             .idle_us = cfg->endpoint_idle_us };
    m->endpoints = table_new(&tc);
    tc = (struct table_cfg){ .name = "rtp_candidates", .capacity = cfg->max_candidates,
                             .value_size = sizeof(struct candidate), .key_max = SKEY_LEN,
                             .idle_us = MEDIA_CANDIDATE_IDLE_SEC * 1000000ull };
    m->cands = table_new(&tc);
    /* SSRC -> stream key, to find what RTCP speaks of when ports say nothing */
    tc = (struct table_cfg){ .name = "rtp_ssrc", .capacity = cfg->max_streams,
                             .value_size = SKEY_LEN, .key_max = sizeof(uint32_t) };
    m->by_ssrc = table_new(&tc);
    if (!m->streams || !m->endpoints || !m->cands || !m->by_ssrc) {
        media_free(m);
        return NULL;
    }
    return m;
}

void media_free(struct media *m)
{
    if (!m)
        return;
    table_free(m->streams);
    table_free(m->endpoints);
    table_free(m->cands);
    table_free(m->by_ssrc);
    free(m);
}

void media_tick(struct media *m, uint64_t now)
{
    if (!m)
        return;
    m->last = NULL;
    table_expire(m->streams, now);
    table_expire(m->cands, now);
    table_expire(m->endpoints, now);
}

void media_finish(struct media *m)
{
    if (!m)
        return;
    m->last = NULL;
    table_flush(m->streams);
    table_flush(m->cands);
    table_flush(m->endpoints);
}

struct foreach_ctx {
    struct media *m;
    void (*fn)(void *ctx, const struct media_stream *s);
    void *ctx;
};

static void foreach_one(void *ctx, void *value)
{
    struct foreach_ctx *f = ctx;
    struct media_stream out;
    stream_result(f->m, value, &out, false);
    f->fn(f->ctx, &out);
}

void media_foreach(struct media *m, void (*fn)(void *ctx, const struct media_stream *s), void *ctx)
{
    if (!m || !fn)
        return;
    struct foreach_ctx f = { m, fn, ctx };
    table_foreach(m->streams, foreach_one, &f);
}

const struct media_stats *media_stats(const struct media *m) { return &m->st; }
