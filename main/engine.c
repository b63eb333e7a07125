/*
 * engine.c - wires the stages together: frames -> decode -> reassembly ->
 * SIP framing and parsing -> state -> sinks, non-SIP UDP -> RTP streams
 * (SDP of SIP messages tells where media goes). Owns the one reusable struct
 * sip_msg, so parsing a message allocates nothing. Capture time drives the
 * once-a-second tick (expiry, batch commits), never the wall clock.
 */
#include "main/engine.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "capture/decode.h"
#include "capture/hep.h"
#include "capture/reasm.h"
#include "dissect/media.h"
#include "dissect/sdp.h"
#include "dissect/sip.h"
#include "dissect/state.h"
#include "rules/crack.h"
#include "rules/geoip.h"
#include "rules/profile.h"
#include "output/dump.h"

#define TICK_US 1000000u

struct engine {
    struct capture_stats cap;
    struct engine_counters cnt;
    struct l4_handler handler;
    struct decoder *dec;
    struct reasm *reasm;
    struct state *state;
    struct detect *detect;
    struct wordlist *wordlist;
    struct crack *crack;
    struct geoip *geoip;
    struct media *media;
    char reasm_limits[512]; /* reassembly's tables as JSON members, kept when it is freed */
    struct dump *dump;          /* --dump-calls, NULL without */
    const struct frame *frame;  /* the frame being decoded, for the dump */
    uint64_t frame_no;
    uint64_t last_tick_us;
    struct sip_msg msg; /* reused for every message: parsing allocates nothing */
};

/* SDP offers and answers (RFC 3264) of a call announce where its media goes:
 * every format of every RTP m= line, with the rtpmap's codec and clock. */
static void sdp_announce(struct engine *e, const struct l4_meta *m, const struct sip_msg *msg)
{
    uint8_t meth = msg->is_request ? msg->method_id : msg->cseq.method_id;
    if (msg->body.n == 0 || sl_empty(msg->call_id) ||
        !(meth == SIP_M_INVITE || meth == SIP_M_ACK || meth == SIP_M_UPDATE || meth == SIP_M_PRACK))
        return;
    struct slice body;
    static struct sdp sdp; /* engine is single-threaded; keeps 5 KB off the stack */
    if (!sdp_find_in_body(msg->content_type, msg->body, &body) || !sdp_parse(body, &sdp))
        return;
    for (unsigned i = 0; i < sdp.n_media && i < SDP_MAX_MEDIA; i++) {
        const struct sdp_media *md = &sdp.media[i];
        struct ip_addr addr;
        /* RTP/AVP, RTP/SAVP(F), UDP/TLS/RTP/SAVPF; not udptl (T.38) nor TCP */
        if (md->port == 0 || sl_find(md->proto, SL_LIT("RTP/")) == md->proto.n ||
            sl_find_nocase(md->proto, SL_LIT("TCP")) < md->proto.n || !sdp_media_addr(&sdp, i, &addr))
            continue;
        for (unsigned f = 0; f < md->n_fmt && f < SDP_MAX_FMT; f++) {
            uint32_t clock = 0;
            struct slice codec = sdp_codec(&sdp, i, md->fmt[f], &clock);
            media_expect(e->media, &addr, md->port, clock, md->fmt[f], codec, msg->call_id, m->ts_us);
        }
        if (md->rtcp_port)
            media_expect_rtcp(e->media, &addr, md->rtcp_port, msg->call_id, m->ts_us);
    }
}

static void on_sip(struct engine *e, const struct l4_meta *m, struct sip_msg *msg)
{
    if (m->flags & L4_F_TRUNCATED) {
        /* The capture cut the message, the sender did not: a body shorter than
         * Content-Length is the snaplen's doing, not a malformed message. */
        msg->anomalies |= SIP_ANOM_TRUNCATED;
        if (msg->anomalies & SIP_ANOM_CL_EXCEEDS)
            msg->malformed = NULL;
    }
    e->cnt.sip_messages++;
    if (msg->malformed)
        e->cnt.sip_malformed++;
    state_on_sip(e->state, m, msg);
    sdp_announce(e, m, msg);
    if (e->dump)
        dump_sip(e->dump, msg, e->frame, e->frame_no);
}

/* One datagram: usually one message; an attacker may pack several, each
 * framed by its own Content-Length (RFC 3261 §18.3 allows only one over UDP).
 * False when it is not SIP. */
static bool sip_datagram(struct engine *e, const struct l4_meta *m, struct slice p)
{
    size_t used;
    if (!sip_looks_like(p) || sip_parse(p, SIP_DGRAM, &e->msg, &used) != SIP_OK)
        return false;
    for (unsigned n = 0;; n++) {
        struct slice rest = sl_drop(p, used);
        bool more = false;
        /* A following message counts only when it is complete and framed by a
         * Content-Length: junk after a message (RFC 4475 dblreq) is not one. */
        while (rest.n && sl_is_lws(rest.p[0]))
            rest = sl_drop(rest, 1);
        if (rest.n && n < 16 && sip_looks_like(rest)) {
            static struct sip_msg next; /* engine is single-threaded */
            size_t nused;
            if (sip_parse(rest, SIP_STREAM, &next, &nused) == SIP_OK && !next.malformed &&
                next.content_length >= 0) {
                e->msg.anomalies &= ~(uint32_t)SIP_ANOM_TRAILING_BYTES;
                e->msg.anomalies |= SIP_ANOM_MULTI_IN_DGRAM;
                more = true;
            }
        }
        if (rest.n && !more)
            e->cnt.sip_dgram_trailing++;
        on_sip(e, m, &e->msg);
        if (!more)
            return true;
        p = rest;
        if (sip_parse(p, SIP_DGRAM, &e->msg, &used) != SIP_OK)
            return true;
        e->msg.anomalies |= SIP_ANOM_MULTI_IN_DGRAM;
    }
}

static void h_udp(void *ctx, const struct l4_meta *m, struct slice payload)
{
    struct engine *e = ctx;
    if (hep_looks_like(payload)) {
        struct hep_msg hm;
        int r = hep_parse(payload, m, &hm);
        if (r == 1) {
            e->cap.hep++;
            if (hm.time_clamped)
                e->cap.anomalies[CAP_A_HEP_TIME]++;
            if (hm.payload_type == 1) {
                e->cnt.hep_messages++;
                sip_datagram(e, &hm.inner, hm.payload);
            }
            return;
        }
        if (r < 0) {
            e->cap.anomalies[CAP_A_HEP_BAD]++;
            return;
        }
    }
    if (!sip_datagram(e, m, payload) && media_on_udp(e->media, m, payload)) {
        e->cnt.rtp_packets = media_stats(e->media)->rtp_packets;
        if (e->dump)
            dump_media(e->dump, media_last_stream(e->media), payload, e->frame, e->frame_no);
    }
}

/* What h_tcp knows about the first bytes of a TCP direction (capture.h *hint). */
#define HINT_KIND 0xc0000000u
#define HINT_HDR  0x40000000u /* value: bytes scanned without the end of a header block */
#define HINT_BODY 0x80000000u /* value: bytes the first message needs in all */
#define HINT_VAL  0x3fffffffu

/* Does s hold an empty line (a '\n' followed by "\n" or "\r\n") at or after from?
 * The same test as the parser's end of a header block. */
static bool has_blank_line(struct slice s, size_t from)
{
    while (from < s.n) {
        const uint8_t *nl = memchr(s.p + from, '\n', s.n - from);
        if (!nl)
            return false;
        size_t i = (size_t)(nl - s.p) + 1;
        if (i < s.n && (s.p[i] == '\n' || (s.p[i] == '\r' && i + 1 < s.n && s.p[i + 1] == '\n')))
            return true;
        from = i;
    }
    return false;
}

static uint32_t hint_of(uint32_t kind, size_t v) { return kind | (uint32_t)(v < HINT_VAL ? v : HINT_VAL); }

static enum tcp_verdict h_tcp(void *ctx, const struct l4_meta *m, struct slice data, size_t *consumed,
                              uint32_t *hint)
{
    struct engine *e = ctx;
    *consumed = 0;
    /* A message still arriving: look again only when its bytes can be there,
     * so a header block or body trickled a byte per segment is scanned once. */
    uint32_t kind = *hint & HINT_KIND, val = *hint & HINT_VAL;
    if (kind == HINT_BODY && data.n < val) {
        e->cnt.tcp_waits++;
        return TCP_CONTINUE;
    }
    if (kind == HINT_HDR && data.n < SIP_MAX_MSG_BYTES && !has_blank_line(data, val > 3 ? val - 3 : 0)) {
        *hint = hint_of(HINT_HDR, data.n);
        e->cnt.tcp_waits++;
        return TCP_CONTINUE;
    }
    *hint = 0;
    size_t off = 0;
    while (off < data.n) {
        struct slice rest = sl_drop(data, off);
        size_t used = 0;
        enum sip_result r = sip_parse(rest, SIP_STREAM, &e->msg, &used);
        if (r == SIP_INCOMPLETE) {
            /* Drop the CRLF keep-alives (RFC 5626 §3.5.1) sip_parse skipped:
             * kept, every later segment re-scanned them, up to tcp_buf_max. */
            off += used;
            size_t left = data.n - off;
            if (e->msg.stream_need > used)
                *hint = hint_of(HINT_BODY, e->msg.stream_need - used);
            else if (left && sl_find_byte(sl_drop(data, off), '\n') < left)
                *hint = hint_of(HINT_HDR, left); /* a start line, no end of headers yet */
            break;
        }
        if (r == SIP_NOT_SIP) {
            /* Wait for a whole first line before judging a stream. */
            if (sl_find_byte(rest, '\n') == rest.n && rest.n < 1024)
                break;
            if (off == 0) {
                e->cnt.tcp_ignored++;
                *consumed = data.n;
                return TCP_IGNORE;
            }
            /* Lost framing after earlier messages: drop what is there. */
            off = data.n;
            break;
        }
        on_sip(e, m, &e->msg);
        off += used ? used : rest.n;
    }
    *consumed = off;
    return TCP_CONTINUE;
}

/* The stream table's callbacks: calls learn their streams and keys, sinks
 * get each stream when it ends. */
static void on_stream_start(void *ctx, const struct media_stream *s)
{
    struct engine *e = ctx;
    state_on_rtp_start(e->state, s);
}

static void on_stream_dtmf(void *ctx, const struct media_stream *s, char key, uint64_t ts_us)
{
    struct engine *e = ctx;
    if (s->call_id[0])
        state_on_dtmf(e->state, sl_cstr(s->call_id), key, ts_us);
}

static void on_stream_end(void *ctx, const struct media_stream *s)
{
    struct engine *e = ctx;
    if (e->dump)
        dump_stream_end(e->dump, s);
    state_on_rtp_end(e->state, s);
}

static void h_anomaly(void *ctx, const struct l4_meta *m, enum cap_anomaly a)
{
    struct engine *e = ctx;
    (void)m;
    if (a < CAP_A__COUNT)
        e->cap.anomalies[a]++;
}

/* --wordlist: try the words on a digest attempt (detect.h detect_crack_fn). */
static bool crack_auth(void *ctx, const struct ev_auth *a, char *pw, size_t cap)
{
    struct crack_request rq = {
        .username = a->username, .realm = a->realm, .method = a->method, .uri = a->uri,
        .nonce = a->nonce, .nc = a->nc, .cnonce = a->cnonce, .qop = a->qop,
        .algorithm = a->algorithm, .response = a->response,
    };
    return crack_digest(ctx, &rq, pw, cap);
}

/* --geoip: country and AS of a source, looked up once when its profile is made. */
static void on_new_source(void *ctx, struct src_profile *p)
{
    struct geoip_result g;
    if (!geoip_lookup(ctx, &p->ip, &g))
        return;
    snprintf(p->country, sizeof p->country, "%s", g.country);
    snprintf(p->asn, sizeof p->asn, "%s", g.asn);
    snprintf(p->as_org, sizeof p->as_org, "%s", g.as_org);
}

struct engine *engine_new(const struct sink *sinks, unsigned n_sinks, const struct engine_cfg *cfg,
                          char *err, size_t errlen)
{
    static const struct engine_cfg no_cfg = { 0 };
    if (!cfg)
        cfg = &no_cfg;
    struct ruleset *rules = cfg->rules;
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        ruleset_free(rules);
        wordlist_free(cfg->wordlist);
        geoip_close(cfg->geoip);
        return NULL;
    }
    e->wordlist = cfg->wordlist;
    e->geoip = cfg->geoip;
    if (cfg->dump_calls_dir) {
        /* before anything is read: a bad DIR is the user's to fix now */
        struct dump_cfg dc;
        dump_default_cfg(&dc);
        dc.dir = cfg->dump_calls_dir;
        dc.warn = stderr;
        if (!(e->dump = dump_new(&dc, err, errlen))) {
            ruleset_free(rules);
            engine_free(e);
            return NULL;
        }
    }
    e->handler = (struct l4_handler){ e, h_udp, h_tcp, NULL, h_anomaly };
    struct reasm_cfg rc;
    reasm_default_cfg(&rc);
    e->reasm = reasm_new(&rc, &e->handler, &e->cap, err, errlen);
    struct detect_cfg dc;
    if (cfg->detect)
        dc = *cfg->detect;
    else
        detect_default_cfg(&dc);
    e->detect = detect_new(&dc, rules, sinks, n_sinks, err, errlen);
    struct state_cfg sc;
    state_default_cfg(&sc);
    e->state = e->detect ? state_new(&sc, (struct sink *)sinks, n_sinks, detect_observer(e->detect))
                         : NULL;
    if (e->state) {
        detect_attach(e->detect, state_profiles(e->state));
        if (e->geoip)
            src_set_on_create(state_profiles(e->state), on_new_source, e->geoip);
    }
    if (e->detect && e->wordlist) {
        e->crack = crack_new(e->wordlist);
        if (e->crack)
            detect_set_cracker(e->detect, crack_auth, e->crack);
    }
    e->dec = e->reasm ? decoder_new(&e->handler, e->reasm, &e->cap) : NULL;
    struct media_cfg mc;
    media_default_cfg(&mc);
    mc.on_stream_start = on_stream_start;
    mc.on_dtmf = on_stream_dtmf;
    mc.on_stream_end = on_stream_end;
    mc.ctx = e;
    e->media = media_new(&mc);
    if (!e->reasm || !e->detect || !e->state || !e->dec || !e->media || (e->wordlist && !e->crack)) {
        if (e->reasm && e->detect && (!e->state || !e->dec || !e->media || (e->wordlist && !e->crack)))
            snprintf(err, errlen, "out of memory");
        engine_free(e);
        return NULL;
    }
    return e;
}

void engine_frame(struct engine *e, const struct frame *f, uint32_t input)
{
    e->frame = f;
    decode_frame(e->dec, f, input, ++e->frame_no);
    e->frame = NULL;
    if (f->ts_us >= e->last_tick_us && f->ts_us - e->last_tick_us >= TICK_US) {
        if (e->last_tick_us) {
            reasm_tick(e->reasm, f->ts_us);
            media_tick(e->media, f->ts_us);
            dump_tick(e->dump, f->ts_us);
            state_tick(e->state, f->ts_us);
        }
        e->last_tick_us = f->ts_us;
    } else if (f->ts_us + TICK_US < e->last_tick_us) {
        /* Time went back (one frame stamped in the future, or a -r file older
         * than the one before): tick from here, or nothing would expire and
         * no sink would tick until capture time caught up with that frame. */
        e->last_tick_us = f->ts_us;
    }
}

void engine_finish(struct engine *e)
{
    if (e->reasm) {
        if (reasm_limits_json(e->reasm, e->reasm_limits, sizeof e->reasm_limits) >=
            (int)sizeof e->reasm_limits)
            e->reasm_limits[0] = '\0';
        reasm_free(e->reasm); /* flushes open TCP streams into the state */
        e->reasm = NULL;
    }
    /* Streams end first: calls flushed next still learn late keys, and each
     * stream's event comes before its call's. */
    media_finish(e->media);
    e->cnt.rtp_packets = media_stats(e->media)->rtp_packets;
    state_finish(e->state);
    dump_finish(e->dump);
}

void engine_tick(struct engine *e, uint64_t now_us)
{
    if (e->reasm)
        reasm_tick(e->reasm, now_us);
    state_tick(e->state, now_us);
}

void engine_refresh_sources(struct engine *e) { state_emit_sources(e->state); }

const struct capture_stats *engine_capture_stats(const struct engine *e) { return &e->cap; }
const struct engine_counters *engine_counters(const struct engine *e) { return &e->cnt; }

int engine_limits_json(const struct engine *e, char *buf, size_t n)
{
    int k = state_limits_json(e->state, buf, n);
    if (k < 2 || (size_t)k >= n)
        return k;
    /* state's {...} plus the detection tables: replace its closing brace */
    size_t used = (size_t)k - 1;
    buf[used++] = ',';
    int j = detect_limits_json(e->detect, buf + used, n - used);
    if (j < 0)
        return -1;
    used += (size_t)j;
    /* reassembly's tables: live now, or as engine_finish left them */
    char live[512] = "";
    const char *ra = e->reasm_limits;
    if (e->reasm && reasm_limits_json(e->reasm, live, sizeof live) < (int)sizeof live)
        ra = live;
    if (*ra) {
        int r = snprintf(used < n ? buf + used : NULL, used < n ? n - used : 0, ",%s", ra);
        if (r < 0)
            return -1;
        used += (size_t)r;
    }
    int c = snprintf(used < n ? buf + used : NULL, used < n ? n - used : 0, "}");
    return c < 0 ? -1 : (int)(used + (size_t)c);
}

const struct detect_stats *engine_detect_stats(const struct engine *e)
{
    return detect_get_stats(e->detect);
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    if (e->reasm)
        reasm_free(e->reasm);
    decoder_free(e->dec);
    media_free(e->media);
    dump_free(e->dump);
    state_free(e->state);
    detect_free(e->detect);
    crack_free(e->crack);
    wordlist_free(e->wordlist);
    geoip_close(e->geoip);
    free(e);
}
