/*
 * eve.c - the EVE sink: each event becomes one compact JSON object and one
 * line. An object is dumped into a reused buffer first and written whole, so
 * a failed dump costs that event, never a half line.
 */
#include "output/eve.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output/json.h"

struct eve {
    struct sink sink;
    FILE *f;                 /* NULL after a failed reopen or run_end */
    char *path;
    bool is_stdout;
    char *buf;               /* dump buffer, grown to the largest line */
    size_t cap;
    bool failed;
    char err[512];
    uint64_t lines, dropped;
    uint64_t calls, registrations, auths, sources;
    uint64_t rtp_streams, rtp_packets; /* rtp events written, and their packets */
};

static void eve_fail(struct eve *e, const char *what, int errnum)
{
    if (!e->failed)
        snprintf(e->err, sizeof e->err, "%s: %s: %s", e->path, what, strerror(errnum));
    e->failed = true;
}

/* Dump o (stolen) as one line. */
static void emit(struct eve *e, json_t *o)
{
    if (!e->f || e->failed) {
        e->dropped++;
        goto out;
    }
    size_t need = json_dumpb(o, e->buf, e->cap - 1, JS_DUMP_FLAGS);
    if (need > e->cap - 1) {
        size_t ncap = need + 1 > 2 * e->cap ? need + 1 : 2 * e->cap;
        char *nb = realloc(e->buf, ncap);
        if (!nb) {
            e->dropped++;
            goto out;
        }
        e->buf = nb;
        e->cap = ncap;
        need = json_dumpb(o, e->buf, e->cap - 1, JS_DUMP_FLAGS);
    }
    if (need == 0 || need > e->cap - 1) {
        e->dropped++;
        goto out;
    }
    e->buf[need] = '\n';
    errno = 0;
    if (fwrite(e->buf, 1, need + 1, e->f) != need + 1)
        eve_fail(e, "write", errno ? errno : EIO);
    else
        e->lines++;
out:
    json_decref(o);
}

/* The keys every event starts with (CONTRACT order). Every line carries all
 * seven so a SIEM can map one schema; keys that do not apply to an event
 * (ports of a source profile, addresses of the stats event) are null. */
static json_t *envelope(uint64_t ts, const char *type, const struct ip_addr *src, uint16_t sport,
                        const struct ip_addr *dst, uint16_t dport, uint8_t proto)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    js_set(o, "timestamp", js_time(ts));
    js_set(o, "event_type", json_string(type));
    js_set(o, "src_ip", src ? js_ip(src) : json_null());
    js_set(o, "src_port", src && dst ? json_integer(sport) : json_null());
    js_set(o, "dest_ip", dst ? js_ip(dst) : json_null());
    js_set(o, "dest_port", dst ? json_integer(dport) : json_null());
    const char *p = dst ? js_proto_name(proto, true) : NULL;
    js_set(o, "proto", p ? json_string(p) : (dst ? json_integer(proto) : json_null()));
    return o;
}

/* Optional attacker text: set only when present, to keep lines short. */
static void set_opt(json_t *o, const char *key, struct slice v)
{
    if (v.n)
        js_set(o, key, js_str(v));
}

static void finish(struct eve *e, json_t *env, const char *type, json_t *body)
{
    if (!env || !body) {
        json_decref(env);
        json_decref(body);
        e->dropped++;
        return;
    }
    js_set(env, type, body);
    emit(e, env);
}

static void on_sip(void *self, const struct ev_sip *ev)
{
    struct eve *e = self;
    const struct l4_meta *m = ev->m;
    const struct sip_msg *msg = ev->msg;
    if (!m || !msg)
        return;
    json_t *env = envelope(m->ts_us, "sip", &m->src, m->sport, &m->dst, m->dport, m->proto);
    json_t *o = json_object();
    if (o) {
        js_set(o, "id", js_uint(ev->id));
        js_set(o, "frame", js_uint(m->frame));
        js_set(o, "input", json_integer(m->input));
        if (msg->is_request) {
            js_set(o, "method", js_str(msg->method));
            js_set(o, "uri", js_str(msg->ruri_raw));
        } else {
            js_set(o, "status", json_integer(msg->status));
            js_set(o, "reason", js_str(msg->reason));
        }
        js_set(o, "call_id", js_str(msg->call_id));
        js_set(o, "from", js_str(msg->from.uri.raw));
        set_opt(o, "from_tag", msg->from.tag);
        js_set(o, "to", js_str(msg->to.uri.raw));
        set_opt(o, "to_tag", msg->to.tag);
        if (msg->has_cseq) {
            js_set(o, "cseq", json_integer(msg->cseq.seq));
            js_set(o, "cseq_method", js_str(msg->cseq.method));
        }
        set_opt(o, "via_branch", msg->via.branch);
        set_opt(o, "user_agent",
                msg->is_request || !msg->server.n ? msg->user_agent : msg->server);
        if (msg->has_contact)
            js_set(o, "contact", msg->contact.star ? json_string("*") : js_str(msg->contact.uri.raw));
        set_opt(o, "content_type", msg->content_type);
        js_set(o, "body_len", js_uint(msg->body.n));
        js_set(o, "size", js_uint(msg->raw.n));
        js_set(o, "retransmission", json_boolean(ev->retransmission));
        js_set(o, "malformed", js_cstr(msg->malformed));
        js_set(o, "anomalies", json_integer(msg->anomalies));
        js_set(o, "hep", json_boolean(m->flags & L4_F_HEP));
    }
    finish(e, env, "sip", o);
}

static void on_call(void *self, const struct ev_call *c)
{
    struct eve *e = self;
    e->calls++;
    json_t *env = envelope(c->end_us ? c->end_us : c->start_us, "call", &c->src, c->sport, &c->dst,
                           c->dport, c->proto);
    json_t *o = json_object();
    if (o) {
        js_set(o, "call_id", js_str(c->call_id));
        js_set(o, "from", js_str(c->from));
        js_set(o, "to", js_str(c->to));
        js_set(o, "src_ip", js_ip(&c->src));
        js_set(o, "dest_ip", js_ip(&c->dst));
        js_set(o, "start", js_time(c->start_us));
        js_set(o, "answer", js_time(c->answer_us));
        js_set(o, "end", js_time(c->end_us));
        js_set(o, "state", js_cstr(c->state));
        js_set(o, "duration", js_duration(c->answer_us, c->end_us));
        js_set(o, "dtmf", js_str(c->dtmf));
        json_t *ids = json_array();
        for (unsigned k = 0; ids && k < c->n_rtp_streams && c->rtp_streams; k++)
            json_array_append_new(ids, js_uint(c->rtp_streams[k]));
        js_set(o, "rtp_streams", ids ? ids : json_null()); /* ids of this run's rtp events */
        js_set(o, "from_user", js_str(c->from_user));
        js_set(o, "to_user", js_str(c->to_user));
        js_set(o, "user_agent", js_str(c->user_agent));
        js_set(o, "final_status", c->final_status ? json_integer(c->final_status) : json_null());
        js_set(o, "messages", json_integer(c->messages));
    }
    finish(e, env, "call", o);
}

/* Empty text is absent (null), as the store's NULL reads in the report. */
static json_t *opt_cstr(const char *v) { return v && v[0] ? js_str(sl_cstr(v)) : json_null(); }

static void on_rtp(void *self, const struct ev_rtp *ev)
{
    struct eve *e = self;
    const struct media_stream *s = ev->s;
    e->rtp_streams++;
    e->rtp_packets += s->packets;
    json_t *env = envelope(s->end_us, "rtp", &s->src_ip, s->src_port, &s->dest_ip, s->dest_port,
                           IPPROTO_UDP);
    json_t *o = json_object();
    if (o) {
        js_set(o, "id", js_uint(s->id));
        js_set(o, "ssrc", js_uint(s->ssrc));
        js_set(o, "src_ip", js_ip(&s->src_ip));
        js_set(o, "src_port", json_integer(s->src_port));
        js_set(o, "dest_ip", js_ip(&s->dest_ip));
        js_set(o, "dest_port", json_integer(s->dest_port));
        js_set(o, "payload_type", json_integer(s->payload_type));
        js_set(o, "codec", opt_cstr(s->codec));
        js_set(o, "packets", js_uint(s->packets));
        js_set(o, "bytes", js_uint(s->bytes));
        js_set(o, "lost", json_integer(s->lost));
        js_set(o, "out_of_order", js_uint(s->out_of_order));
        js_set(o, "jitter_ms", json_real(s->jitter_ms));
        js_set(o, "max_delta_ms", json_real(s->max_delta_ms));
        js_set(o, "start", js_time(s->start_us));
        js_set(o, "end", js_time(s->end_us));
        js_set(o, "call_id", opt_cstr(s->call_id));
        js_set(o, "duplicates", js_uint(s->duplicates));
        js_set(o, "jitter_mean_ms", json_real(s->jitter_mean_ms));
        js_set(o, "clock_rate", json_integer(s->clock_rate));
        js_set(o, "dtmf", js_str(sl_cstr(s->dtmf)));
        js_set(o, "from_sdp", json_boolean(s->from_sdp));
        json_t *r = json_object();
        if (r) {
            js_set(r, "reports", json_integer(s->rtcp.reports));
            js_set(r, "fraction_lost", json_real(s->rtcp.fraction_lost));
            js_set(r, "cum_lost", json_integer(s->rtcp.cum_lost));
            js_set(r, "jitter_ms", json_real(s->rtcp.jitter_ms));
            js_set(r, "jitter_max_ms", json_real(s->rtcp.jitter_max_ms));
            js_set(r, "sr_packets", json_integer(s->rtcp.sr_packets));
            js_set(r, "sr_octets", json_integer(s->rtcp.sr_octets));
            js_set(r, "cname", opt_cstr(s->rtcp.cname));
            js_set(r, "bye", json_boolean(s->rtcp.bye));
        }
        js_set(o, "rtcp", r ? r : json_null());
    }
    finish(e, env, "rtp", o);
}

static void on_registration(void *self, const struct ev_registration *r)
{
    struct eve *e = self;
    e->registrations++;
    json_t *env = envelope(r->ts_us, "registration", &r->src, r->sport, &r->dst, r->dport, r->proto);
    json_t *o = json_object();
    if (o) {
        js_set(o, "aor", js_str(r->aor));
        js_set(o, "user", js_str(r->user));
        js_set(o, "contact", js_str(r->contact));
        js_set(o, "user_agent", js_str(r->user_agent));
        js_set(o, "call_id", js_str(r->call_id));
        js_set(o, "expires", r->expires == UINT32_MAX ? json_null() : json_integer(r->expires));
        js_set(o, "status", r->status ? json_integer(r->status) : json_null());
        js_set(o, "authenticated", json_boolean(r->authenticated));
        js_set(o, "result", js_cstr(r->result));
        js_set(o, "response_time", js_time(r->resp_us));
    }
    finish(e, env, "registration", o);
}

static void on_auth(void *self, const struct ev_auth *a)
{
    struct eve *e = self;
    e->auths++;
    json_t *env = envelope(a->ts_us, "auth", &a->src, a->sport, &a->dst, a->dport, a->proto);
    json_t *o = json_object();
    if (o) {
        js_set(o, "user", js_str(a->username));
        js_set(o, "realm", js_str(a->realm));
        js_set(o, "result", js_cstr(a->result));
        js_set(o, "status", a->status ? json_integer(a->status) : json_null());
        js_set(o, "method", js_str(a->method));
        js_set(o, "uri", js_str(a->uri));
        js_set(o, "call_id", js_str(a->call_id));
        js_set(o, "header", js_cstr(a->header));
        js_set(o, "scheme", js_str(a->scheme));
        set_opt(o, "algorithm", a->algorithm);
        set_opt(o, "qop", a->qop);
        js_set(o, "nonce", js_str(a->nonce));
        set_opt(o, "nc", a->nc);
        set_opt(o, "cnonce", a->cnonce);
        set_opt(o, "opaque", a->opaque);
        js_set(o, "response", js_str(a->response));
        js_set(o, "challenge_time", js_time(a->challenge_us));
        set_opt(o, "password", a->password);
    }
    finish(e, env, "auth", o);
}

static void on_source(void *self, const struct ev_source *s)
{
    struct eve *e = self;
    e->sources++;
    json_t *env = envelope(s->last_us, "source", &s->ip, 0, NULL, 0, 0);
    json_t *o = js_source(s);
    finish(e, env, "source", json_is_object(o) ? o : NULL);
}

static void on_alert(void *self, const struct ev_alert *a)
{
    struct eve *e = self;
    json_t *env = envelope(a->ts_us, "alert", &a->src, a->sport, &a->dst, a->dport, a->proto);
    finish(e, env, "alert", js_alert(a));
}

static void flush(struct eve *e)
{
    errno = 0;
    if (e->f && !e->failed && fflush(e->f) != 0)
        eve_fail(e, "write", errno ? errno : EIO);
}

static void on_tick(void *self, uint64_t now_us)
{
    (void)now_us;
    flush(self); /* tail -f and pipes see events at least once a tick */
}

static void emit_stats(struct eve *e, const struct run_info *run)
{
    uint64_t ts = 0;
    for (unsigned k = 0; k < run->n_inputs && run->inputs; k++)
        if (run->inputs[k].end_us > ts)
            ts = run->inputs[k].end_us;
    if (!ts) /* live, or empty inputs: the wall clock is the capture clock */
        ts = run->finished_wall_us;
    json_t *env = envelope(ts, "stats", NULL, 0, NULL, 0, 0);
    json_t *o = json_object();
    if (o) {
        js_set(o, "status", js_cstr(run->status ? run->status : "finished"));
        js_set(o, "packets", js_uint(run->capture ? run->capture->frames : 0));
        js_set(o, "bytes", js_uint(run->capture ? run->capture->bytes : 0));
        js_set(o, "sip_messages", js_uint(run->sip_messages));
        js_set(o, "sip_malformed", js_uint(run->sip_malformed));
        js_set(o, "sip_not_sip", js_uint(run->sip_not_sip));
        js_set(o, "calls", js_uint(e->calls));
        js_set(o, "registrations", js_uint(e->registrations));
        js_set(o, "auth_attempts", js_uint(e->auths));
        js_set(o, "sources", js_uint(e->sources));
        /* every RTP packet is in a stream, and every stream has ended by now */
        js_set(o, "rtp_packets", js_uint(run->rtp_packets > e->rtp_packets ? run->rtp_packets
                                                                             : e->rtp_packets));
        js_set(o, "rtp_streams", js_uint(e->rtp_streams));
        js_set(o, "capture", js_capture_stats(run->capture));
        json_t *lim = run->limits_json ? json_loads(run->limits_json, JSON_DECODE_ANY, NULL) : NULL;
        js_set(o, "limits", lim ? lim : json_null());
    }
    finish(e, env, "stats", o);
}

static void close_file(struct eve *e)
{
    if (!e->f)
        return;
    if (e->is_stdout) {
        flush(e);
    } else if ((errno = 0, fclose(e->f) != 0)) {
        eve_fail(e, "close", errno ? errno : EIO);
    }
    e->f = NULL;
}

static int on_run_end(void *self, const struct run_info *run, char *err, size_t errlen)
{
    struct eve *e = self;
    if (run)
        emit_stats(e, run);
    flush(e);
    close_file(e);
    if (!e->failed)
        return 0;
    if (err && errlen)
        snprintf(err, errlen, "%s (%llu events not written)", e->err, (unsigned long long)e->dropped);
    return -1;
}

static void on_free(void *self)
{
    struct eve *e = self;
    if (!e)
        return;
    close_file(e);
    free(e->buf);
    free(e->path);
    free(e);
}

static const struct sink_ops eve_ops = {
    .name = "eve",
    .sip = on_sip,
    .call = on_call,
    .registration = on_registration,
    .auth = on_auth,
    .source = on_source,
    .alert = on_alert,
    .rtp = on_rtp,
    .tick = on_tick,
    .run_end = on_run_end,
    .free = on_free,
};

static bool open_file(struct eve *e, char *err, size_t errlen)
{
    if (e->is_stdout) {
        e->f = stdout;
        return true;
    }
    e->f = fopen(e->path, "a");
    if (!e->f) {
        snprintf(err, errlen, "%s: cannot open for appending: %s", e->path, strerror(errno));
        return false;
    }
    return true;
}

struct sink *eve_open(const char *path, char *err, size_t errlen)
{
    struct eve *e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path)) || !(e->buf = malloc(e->cap = 4096))) {
        snprintf(err, errlen, "%s: out of memory", path);
        if (e)
            free(e->path);
        free(e);
        return NULL;
    }
    e->is_stdout = strcmp(path, "-") == 0;
    if (!open_file(e, err, errlen)) {
        on_free(e);
        return NULL;
    }
    e->sink.ops = &eve_ops;
    e->sink.self = e;
    return &e->sink;
}

void eve_close(struct sink *s)
{
    if (s)
        s->ops->free(s->self);
}

int eve_reopen(struct sink *s, char *err, size_t errlen)
{
    struct eve *e = s->self;
    if (e->is_stdout)
        return 0;
    close_file(e);
    if (!open_file(e, err, errlen)) {
        e->failed = true;
        snprintf(e->err, sizeof e->err, "%s", err);
        return -1;
    }
    e->failed = false; /* a new file: earlier write errors were the old file's */
    return 0;
}
