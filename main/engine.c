/*
 * engine.c - wires the stages together: frames -> decode -> reassembly ->
 * SIP framing and parsing -> state -> sinks. Owns the one reusable struct
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
#include "dissect/sip.h"
#include "dissect/state.h"

#define TICK_US 1000000u

struct engine {
    struct capture_stats cap;
    struct engine_counters cnt;
    struct l4_handler handler;
    struct decoder *dec;
    struct reasm *reasm;
    struct state *state;
    uint64_t frame_no;
    uint64_t last_tick_us;
    struct sip_msg msg; /* reused for every message: parsing allocates nothing */
};

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
}

/* One datagram: usually one message; an attacker may pack several, each
 * framed by its own Content-Length (RFC 3261 §18.3 allows only one over UDP). */
static void sip_datagram(struct engine *e, const struct l4_meta *m, struct slice p)
{
    size_t used;
    if (!sip_looks_like(p) || sip_parse(p, SIP_DGRAM, &e->msg, &used) != SIP_OK)
        return;
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
            return;
        p = rest;
        if (sip_parse(p, SIP_DGRAM, &e->msg, &used) != SIP_OK)
            return;
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
    sip_datagram(e, m, payload);
}

static enum tcp_verdict h_tcp(void *ctx, const struct l4_meta *m, struct slice data, size_t *consumed)
{
    struct engine *e = ctx;
    size_t off = 0;
    *consumed = 0;
    while (off < data.n) {
        struct slice rest = sl_drop(data, off);
        size_t used = 0;
        enum sip_result r = sip_parse(rest, SIP_STREAM, &e->msg, &used);
        if (r == SIP_INCOMPLETE) {
            /* Drop the CRLF keep-alives (RFC 5626 §3.5.1) sip_parse skipped:
             * kept, every later segment re-scanned them, up to tcp_buf_max. */
            off += used;
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

static void h_anomaly(void *ctx, const struct l4_meta *m, enum cap_anomaly a)
{
    struct engine *e = ctx;
    (void)m;
    if (a < CAP_A__COUNT)
        e->cap.anomalies[a]++;
}

struct engine *engine_new(const struct sink *sinks, unsigned n_sinks, const struct engine_cfg *cfg,
                          char *err, size_t errlen)
{
    static const struct engine_cfg no_cfg = { 0 };
    if (!cfg)
        cfg = &no_cfg;
    /* Options whose stage is not wired yet refuse to run rather than be ignored. */
    const char *unwired = cfg->rules_path ? "-R" : cfg->config_path ? "-c"
                        : cfg->wordlist_path ? "--wordlist" : cfg->geoip_path ? "--geoip"
                        : cfg->dump_calls_dir ? "--dump-calls" : NULL;
    if (unwired) {
        snprintf(err, errlen, "%s: not available in this build yet", unwired);
        return NULL;
    }
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->handler = (struct l4_handler){ e, h_udp, h_tcp, NULL, h_anomaly };
    struct reasm_cfg rc;
    reasm_default_cfg(&rc);
    e->reasm = reasm_new(&rc, &e->handler, &e->cap, err, errlen);
    struct state_cfg sc;
    state_default_cfg(&sc);
    e->state = state_new(&sc, (struct sink *)sinks, n_sinks);
    e->dec = e->reasm ? decoder_new(&e->handler, e->reasm, &e->cap) : NULL;
    if (!e->reasm || !e->state || !e->dec) {
        if (e->reasm && (!e->state || !e->dec))
            snprintf(err, errlen, "out of memory");
        engine_free(e);
        return NULL;
    }
    return e;
}

void engine_frame(struct engine *e, const struct frame *f, uint32_t input)
{
    decode_frame(e->dec, f, input, ++e->frame_no);
    if (f->ts_us >= e->last_tick_us && f->ts_us - e->last_tick_us >= TICK_US) {
        if (e->last_tick_us) {
            reasm_tick(e->reasm, f->ts_us);
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
        reasm_free(e->reasm); /* flushes open TCP streams into the state */
        e->reasm = NULL;
    }
    state_finish(e->state);
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
    return state_limits_json(e->state, buf, n);
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    if (e->reasm)
        reasm_free(e->reasm);
    decoder_free(e->dec);
    state_free(e->state);
    free(e);
}
