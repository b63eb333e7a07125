/*
 * store.c - the SQLite sink: one row per event, bound parameters only, batched
 * transactions (STORE_BATCH_ROWS rows or a second of wall time). The schema and
 * the opener are in store_schema.c; the run rows in store_run.c.
 */
#include "output/store.h"
#include "output/store_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output/json.h"

static const char *const SQL[S__COUNT] = {
    [S_SIP] = "INSERT INTO sip_messages (id, run_id, ts_us, frame, input, src_ip, src_port,"
              " dst_ip, dst_port, proto, hep, is_request, method, ruri, ruri_user, status, reason,"
              " call_id, from_uri, from_user, from_tag, to_uri, to_user, to_tag, cseq, cseq_method,"
              " via_branch, via_sent_by, user_agent, contact, content_type, body_len,"
              " retransmission, malformed, anomalies, size) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
              "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_CALL] = "INSERT INTO calls (run_id, call_id, from_uri, to_uri, from_user, to_user,"
               " user_agent, src_ip, src_port, dst_ip, dst_port, proto, start_us, answer_us, end_us,"
               " state, final_status, messages, dtmf) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_REG] = "INSERT INTO registrations (run_id, ts_us, resp_us, src_ip, src_port, dst_ip,"
              " dst_port, proto, aor, user, contact, user_agent, call_id, expires, status,"
              " authenticated, result) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_AUTH] = "INSERT INTO auth_attempts (run_id, ts_us, src_ip, src_port, dst_ip, dst_port,"
               " proto, method, call_id, header, scheme, username, realm, nonce, uri, response,"
               " algorithm, qop, nc, cnonce, opaque, challenge_us, status, result, password)"
               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    /* Live mode re-emits a source with fresh totals: same (run, ip) = replace. */
    [S_SOURCE] = "INSERT OR REPLACE INTO sources (run_id, ip, country, asn, as_org, first_us,"
                 " last_us, sip_messages, methods, user_agents, targets, users_tried,"
                 " users_tried_total, extensions_found, auth_attempts, auth_failures,"
                 " auth_successes, credentials, numbers_dialed, tools, techniques, severity,"
                 " reasons) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_ALERT] = "INSERT INTO alerts (run_id, ts_us, sid, rev, msg, classtype, severity, priority,"
                " src_ip, src_port, dst_ip, dst_port, proto, call_id, tool, technique, sip_id,"
                " detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_INPUT] = "INSERT OR REPLACE INTO inputs (run_id, idx, file, link_type, packets, bytes,"
                " start_us, end_us) VALUES (?,?,?,?,?,?,?,?)",
    [S_RUN_NEW] = "INSERT INTO runs (version, command_line, started_us, status) VALUES (?,?,?,?)",
    [S_RUN_TOTALS] = "UPDATE runs SET finished_us = ?2, status = ?3, packets = ?4, bytes = ?5,"
                     " sip_messages = ?6, sip_malformed = ?7, sip_not_sip = ?8, rtp_packets = ?9,"
                     " capture_stats = ?10, limits = ?11 WHERE id = ?1",
    [S_RTP] = "INSERT INTO rtp_streams (run_id, ssrc, src_ip, src_port, dst_ip, dst_port,"
              " payload_type, codec, packets, bytes, lost, out_of_order, jitter_ms, max_delta_ms,"
              " start_us, end_us, call_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [S_BEGIN] = "BEGIN",
    [S_COMMIT] = "COMMIT",
};

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* First failure wins: it is the cause, later ones are consequences. After it
 * the store writes nothing more and counts what it dropped. */
void store_fail(struct store *s, const char *what)
{
    if (!s->failed) {
        int code = s->db ? sqlite3_extended_errcode(s->db) & 0xff : 0;
        snprintf(s->err, sizeof s->err, "%s: %s: %s%s", s->path, what,
                 s->db ? sqlite3_errmsg(s->db) : "store closed",
                 code == SQLITE_FULL ? ": free space there or give --db a file on another disk"
                 : code == SQLITE_READONLY ? ": check file and folder permissions" : "");
    }
    s->failed = true;
    if (s->db && !sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_tx = false;
    s->batch_rows = 0;
}

void store_commit(struct store *s)
{
    if (!s->in_tx || s->failed)
        return;
    int rc = sqlite3_step(s->st[S_COMMIT]);
    sqlite3_reset(s->st[S_COMMIT]);
    if (rc != SQLITE_DONE) {
        store_fail(s, "commit");
        return;
    }
    s->in_tx = false;
    s->batch_rows = 0;
    s->last_commit_wall_us = wall_us();
}

bool store_row_begin(struct store *s)
{
    if (s->failed || !s->db) {
        s->dropped++;
        return false;
    }
    if (s->run_id == 0 && !store_run_create(s, NULL))
        return false;
    if (!s->in_tx) {
        int rc = sqlite3_step(s->st[S_BEGIN]);
        sqlite3_reset(s->st[S_BEGIN]);
        if (rc != SQLITE_DONE) {
            store_fail(s, "begin transaction");
            s->dropped++;
            return false;
        }
        s->in_tx = true;
    }
    return true;
}

bool store_row_end(struct store *s, sqlite3_stmt *st, const char *table)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof what, "writing %s", table);
        store_fail(s, what);
        s->dropped++;
        return false;
    }
    s->rows++;
    if (++s->batch_rows >= STORE_BATCH_ROWS)
        store_commit(s);
    return true;
}

/* Attacker text: bound in place when clean (the slice lives until step, which
 * runs before we return), else escaped into the scratch buffer and copied. */
void store_bind_slice(struct store *s, sqlite3_stmt *st, int i, struct slice v)
{
    size_t len;
    bool copied;
    const char *t = v.n ? js_text_of(&s->scratch, v, &len, &copied) : NULL;
    if (!t || len > INT_MAX) {
        sqlite3_bind_null(st, i);
        return;
    }
    sqlite3_bind_text(st, i, t, (int)len, copied ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

void store_bind_cstr(struct store *s, sqlite3_stmt *st, int i, const char *v)
{
    store_bind_slice(s, st, i, v ? sl_cstr(v) : SL_NULL);
}

/* slot 0/1: the struct holds two formatted addresses so a row binds them
 * without a copy. */
static void bind_ip(struct store *s, sqlite3_stmt *st, int i, const struct ip_addr *a, int slot)
{
    ip_format(a, s->ipbuf[slot], sizeof s->ipbuf[slot]);
    sqlite3_bind_text(st, i, s->ipbuf[slot], -1, SQLITE_STATIC);
}

static void bind_proto(sqlite3_stmt *st, int i, uint8_t proto)
{
    const char *p = js_proto_name(proto, false);
    if (p)
        sqlite3_bind_text(st, i, p, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_bind_int64(st, i, v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

/* 0 means "none" in the events (no answer, no response): NULL in SQL. */
void store_bind_opt(sqlite3_stmt *st, int i, uint64_t v)
{
    if (v)
        bind_u64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* "host:port" as in the Via; IPv6 hosts get their brackets back. */
static void bind_sent_by(struct store *s, sqlite3_stmt *st, int i, const struct sip_via *v)
{
    if (!v->host.n) {
        sqlite3_bind_null(st, i);
        return;
    }
    if (!v->has_port) {
        store_bind_slice(s, st, i, v->host);
        return;
    }
    if (!js_buf_reserve(&s->scratch, JS_ESC_MAX(v->host.n) + 16)) {
        sqlite3_bind_null(st, i);
        return;
    }
    bool v6 = sl_has_byte(v->host, ':');
    size_t o = 0;
    if (v6)
        s->scratch.p[o++] = '[';
    o += js_escape(v->host.p, v->host.n, s->scratch.p + o, s->scratch.cap - o, NULL);
    if (v6)
        s->scratch.p[o++] = ']';
    s->scratch.p[o++] = ':';
    char digits[8]; /* by hand: this runs for every message */
    int nd = 0;
    for (unsigned port = v->port; nd == 0 || port; port /= 10)
        digits[nd++] = (char)('0' + port % 10);
    while (nd)
        s->scratch.p[o++] = digits[--nd];
    sqlite3_bind_text(st, i, s->scratch.p, (int)o, SQLITE_TRANSIENT);
}

/* The hot path: one row per SIP message. No allocation of ours, no JSON. */
static void on_sip(void *self, const struct ev_sip *e)
{
    struct store *s = self;
    const struct l4_meta *m = e->m;
    const struct sip_msg *msg = e->msg;
    if (!m || !msg || !store_row_begin(s))
        return;
    sqlite3_stmt *st = s->st[S_SIP];
    int i = 1;
    bind_u64(st, i++, e->id);
    sqlite3_bind_int64(st, i++, s->run_id);
    bind_u64(st, i++, m->ts_us);
    bind_u64(st, i++, m->frame);
    sqlite3_bind_int64(st, i++, m->input);
    bind_ip(s, st, i++, &m->src, 0);
    sqlite3_bind_int(st, i++, m->sport);
    bind_ip(s, st, i++, &m->dst, 1);
    sqlite3_bind_int(st, i++, m->dport);
    bind_proto(st, i++, m->proto);
    sqlite3_bind_int(st, i++, (m->flags & L4_F_HEP) ? 1 : 0);
    sqlite3_bind_int(st, i++, msg->is_request ? 1 : 0);
    if (msg->is_request) {
        store_bind_slice(s, st, i++, msg->method);
        store_bind_slice(s, st, i++, msg->ruri_raw);
        store_bind_slice(s, st, i++, msg->ruri.user);
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
    } else {
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
        sqlite3_bind_null(st, i++);
        sqlite3_bind_int(st, i++, msg->status);
        store_bind_slice(s, st, i++, msg->reason);
    }
    store_bind_slice(s, st, i++, msg->call_id);
    store_bind_slice(s, st, i++, msg->from.uri.raw);
    store_bind_slice(s, st, i++, msg->from.uri.user);
    store_bind_slice(s, st, i++, msg->from.tag);
    store_bind_slice(s, st, i++, msg->to.uri.raw);
    store_bind_slice(s, st, i++, msg->to.uri.user);
    store_bind_slice(s, st, i++, msg->to.tag);
    if (msg->has_cseq)
        sqlite3_bind_int64(st, i++, msg->cseq.seq);
    else
        sqlite3_bind_null(st, i++);
    store_bind_slice(s, st, i++, msg->cseq.method);
    store_bind_slice(s, st, i++, msg->via.branch);
    bind_sent_by(s, st, i++, &msg->via);
    /* Responses identify their software with Server (RFC 3261 §20.35); some
     * send User-Agent anyway. */
    struct slice ua = msg->is_request || !msg->server.n ? msg->user_agent : msg->server;
    store_bind_slice(s, st, i++, ua);
    if (msg->has_contact && msg->contact.star)
        sqlite3_bind_text(st, i++, "*", 1, SQLITE_STATIC);
    else
        store_bind_slice(s, st, i++, msg->has_contact ? msg->contact.uri.raw : SL_NULL);
    store_bind_slice(s, st, i++, msg->content_type);
    bind_u64(st, i++, msg->body.n);
    sqlite3_bind_int(st, i++, e->retransmission ? 1 : 0);
    store_bind_cstr(s, st, i++, msg->malformed);
    sqlite3_bind_int64(st, i++, msg->anomalies);
    bind_u64(st, i++, msg->raw.n);
    store_row_end(s, st, "sip_messages");
}

static void on_call(void *self, const struct ev_call *e)
{
    struct store *s = self;
    if (!store_row_begin(s))
        return;
    sqlite3_stmt *st = s->st[S_CALL];
    int i = 1;
    sqlite3_bind_int64(st, i++, s->run_id);
    store_bind_slice(s, st, i++, e->call_id);
    store_bind_slice(s, st, i++, e->from);
    store_bind_slice(s, st, i++, e->to);
    store_bind_slice(s, st, i++, e->from_user);
    store_bind_slice(s, st, i++, e->to_user);
    store_bind_slice(s, st, i++, e->user_agent);
    bind_ip(s, st, i++, &e->src, 0);
    sqlite3_bind_int(st, i++, e->sport);
    bind_ip(s, st, i++, &e->dst, 1);
    sqlite3_bind_int(st, i++, e->dport);
    bind_proto(st, i++, e->proto);
    store_bind_opt(st, i++, e->start_us);
    store_bind_opt(st, i++, e->answer_us);
    store_bind_opt(st, i++, e->end_us);
    store_bind_cstr(s, st, i++, e->state);
    store_bind_opt(st, i++, e->final_status);
    sqlite3_bind_int64(st, i++, e->messages);
    store_bind_slice(s, st, i++, e->dtmf);
    store_row_end(s, st, "calls");
}

/* rtp_streams.id is the row id (unique in the store, across runs); the run's
 * own stream numbers (media_stream.id) are the EVE events'. */
static void on_rtp(void *self, const struct ev_rtp *e)
{
    struct store *s = self;
    const struct media_stream *r = e->s;
    s->rtp_packets += r->packets;
    if (!store_row_begin(s))
        return;
    sqlite3_stmt *st = s->st[S_RTP];
    int i = 1;
    sqlite3_bind_int64(st, i++, s->run_id);
    sqlite3_bind_int64(st, i++, r->ssrc);
    bind_ip(s, st, i++, &r->src_ip, 0);
    sqlite3_bind_int(st, i++, r->src_port);
    bind_ip(s, st, i++, &r->dest_ip, 1);
    sqlite3_bind_int(st, i++, r->dest_port);
    sqlite3_bind_int(st, i++, r->payload_type);
    store_bind_cstr(s, st, i++, r->codec[0] ? r->codec : NULL);
    bind_u64(st, i++, r->packets);
    bind_u64(st, i++, r->bytes);
    sqlite3_bind_int64(st, i++, r->lost);
    bind_u64(st, i++, r->out_of_order);
    sqlite3_bind_double(st, i++, r->jitter_ms);
    sqlite3_bind_double(st, i++, r->max_delta_ms);
    store_bind_opt(st, i++, r->start_us);
    store_bind_opt(st, i++, r->end_us);
    store_bind_cstr(s, st, i++, r->call_id[0] ? r->call_id : NULL);
    store_row_end(s, st, "rtp_streams");
}

static void on_registration(void *self, const struct ev_registration *e)
{
    struct store *s = self;
    if (!store_row_begin(s))
        return;
    sqlite3_stmt *st = s->st[S_REG];
    int i = 1;
    sqlite3_bind_int64(st, i++, s->run_id);
    store_bind_opt(st, i++, e->ts_us);
    store_bind_opt(st, i++, e->resp_us);
    bind_ip(s, st, i++, &e->src, 0);
    sqlite3_bind_int(st, i++, e->sport);
    bind_ip(s, st, i++, &e->dst, 1);
    sqlite3_bind_int(st, i++, e->dport);
    bind_proto(st, i++, e->proto);
    store_bind_slice(s, st, i++, e->aor);
    store_bind_slice(s, st, i++, e->user);
    store_bind_slice(s, st, i++, e->contact);
    store_bind_slice(s, st, i++, e->user_agent);
    store_bind_slice(s, st, i++, e->call_id);
    if (e->expires == UINT32_MAX)
        sqlite3_bind_null(st, i++);
    else
        sqlite3_bind_int64(st, i++, e->expires);
    store_bind_opt(st, i++, e->status);
    sqlite3_bind_int(st, i++, e->authenticated ? 1 : 0);
    store_bind_cstr(s, st, i++, e->result);
    store_row_end(s, st, "registrations");
}

static void on_auth(void *self, const struct ev_auth *e)
{
    struct store *s = self;
    if (!store_row_begin(s))
        return;
    sqlite3_stmt *st = s->st[S_AUTH];
    int i = 1;
    sqlite3_bind_int64(st, i++, s->run_id);
    store_bind_opt(st, i++, e->ts_us);
    bind_ip(s, st, i++, &e->src, 0);
    sqlite3_bind_int(st, i++, e->sport);
    bind_ip(s, st, i++, &e->dst, 1);
    sqlite3_bind_int(st, i++, e->dport);
    bind_proto(st, i++, e->proto);
    store_bind_slice(s, st, i++, e->method);
    store_bind_slice(s, st, i++, e->call_id);
    store_bind_cstr(s, st, i++, e->header);
    const struct slice f[] = { e->scheme, e->username, e->realm, e->nonce, e->uri, e->response,
                               e->algorithm, e->qop, e->nc, e->cnonce, e->opaque };
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++)
        store_bind_slice(s, st, i++, f[k]);
    store_bind_opt(st, i++, e->challenge_us);
    store_bind_opt(st, i++, e->status);
    store_bind_cstr(s, st, i++, e->result);
    store_bind_slice(s, st, i++, e->password);
    store_row_end(s, st, "auth_attempts");
}

/* A member of the source's JSON (from js_source) as compact JSON text. */
static void bind_member(sqlite3_stmt *st, int i, json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    char *text = v ? json_dumps(v, JS_DUMP_FLAGS | JSON_ENCODE_ANY) : NULL;
    if (text)
        sqlite3_bind_text(st, i, text, -1, free);
    else
        sqlite3_bind_null(st, i);
}

/* Sources are few (one per attacker IP, at the end): JSON text here is fine. */
static void on_source(void *self, const struct ev_source *e)
{
    struct store *s = self;
    if (!store_row_begin(s))
        return;
    json_t *o = js_source(e);
    json_t *auth = json_object_get(o, "auth");
    sqlite3_stmt *st = s->st[S_SOURCE];
    int i = 1;
    sqlite3_bind_int64(st, i++, s->run_id);
    bind_ip(s, st, i++, &e->ip, 0);
    store_bind_slice(s, st, i++, e->country);
    store_bind_slice(s, st, i++, e->asn);
    store_bind_slice(s, st, i++, e->as_org);
    store_bind_opt(st, i++, e->first_us);
    store_bind_opt(st, i++, e->last_us);
    bind_u64(st, i++, e->sip_messages);
    bind_member(st, i++, o, "methods");
    bind_member(st, i++, o, "user_agents");
    bind_u64(st, i++, e->targets);
    bind_member(st, i++, o, "users_tried");
    bind_u64(st, i++, e->users_tried_total);
    bind_member(st, i++, o, "extensions_found");
    bind_u64(st, i++, e->auth_attempts);
    bind_u64(st, i++, e->auth_failures);
    bind_u64(st, i++, e->auth_successes);
    bind_member(st, i++, auth, "credentials");
    bind_member(st, i++, o, "numbers_dialed");
    bind_member(st, i++, o, "tools");
    bind_member(st, i++, o, "techniques");
    store_bind_cstr(s, st, i++, e->severity ? e->severity : "info");
    bind_member(st, i++, o, "reasons");
    json_decref(o);
    store_row_end(s, st, "sources");
}

static void on_alert(void *self, const struct ev_alert *e)
{
    struct store *s = self;
    if (!store_row_begin(s))
        return;
    sqlite3_stmt *st = s->st[S_ALERT];
    int i = 1;
    sqlite3_bind_int64(st, i++, s->run_id);
    store_bind_opt(st, i++, e->ts_us);
    sqlite3_bind_int64(st, i++, e->sid);
    sqlite3_bind_int64(st, i++, e->rev);
    store_bind_cstr(s, st, i++, e->msg);
    if (e->classtype && *e->classtype)
        store_bind_cstr(s, st, i++, e->classtype);
    else
        sqlite3_bind_null(st, i++);
    store_bind_cstr(s, st, i++, e->severity);
    sqlite3_bind_int(st, i++, e->priority);
    bind_ip(s, st, i++, &e->src, 0);
    sqlite3_bind_int(st, i++, e->sport);
    bind_ip(s, st, i++, &e->dst, 1);
    sqlite3_bind_int(st, i++, e->dport);
    bind_proto(st, i++, e->proto);
    store_bind_slice(s, st, i++, e->call_id);
    store_bind_cstr(s, st, i++, e->tool);
    store_bind_cstr(s, st, i++, e->technique);
    store_bind_opt(st, i++, e->sip_id);
    if (e->detail.n)
        store_bind_slice(s, st, i++, e->detail);
    else
        sqlite3_bind_null(st, i++);
    store_row_end(s, st, "alerts");
}

static void on_tick(void *self, uint64_t now_us)
{
    struct store *s = self;
    (void)now_us; /* capture time: the commit rule is about wall time */
    if (s->in_tx && wall_us() - s->last_commit_wall_us >= STORE_COMMIT_WALL_US)
        store_commit(s);
}

/* Commit what is open, finalize, close. Returns false when closing failed. */
bool store_shutdown(struct store *s)
{
    if (!s->db)
        return true;
    store_commit(s);
    for (int k = 0; k < S__COUNT; k++) {
        sqlite3_finalize(s->st[k]);
        s->st[k] = NULL;
    }
    bool ok = sqlite3_close(s->db) == SQLITE_OK;
    if (!ok)
        store_fail(s, "close");
    s->db = NULL;
    return ok;
}

static void on_free(void *self)
{
    struct store *s = self;
    if (!s)
        return;
    store_shutdown(s);
    js_buf_free(&s->scratch);
    free(s->path);
    free(s);
}

static const struct sink_ops store_ops = {
    .name = "sqlite",
    .run_start = store_on_run_start,
    .sip = on_sip,
    .call = on_call,
    .registration = on_registration,
    .auth = on_auth,
    .source = on_source,
    .alert = on_alert,
    .rtp = on_rtp,
    .tick = on_tick,
    .run_end = store_on_run_end,
    .free = on_free,
};

struct sink *store_open(const char *path, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(s);
        return NULL;
    }
    s->db = store_db_open(path, true, err, errlen);
    if (!s->db) {
        on_free(s);
        return NULL;
    }
    for (int k = 0; k < S__COUNT; k++) {
        if (sqlite3_prepare_v3(s->db, SQL[k], -1, SQLITE_PREPARE_PERSISTENT, &s->st[k], NULL) !=
            SQLITE_OK) {
            snprintf(err, errlen, "%s: preparing statements: %s", path, sqlite3_errmsg(s->db));
            on_free(s);
            return NULL;
        }
    }
    s->last_commit_wall_us = wall_us();
    s->sink.ops = &store_ops;
    s->sink.self = s;
    return &s->sink;
}

void store_close(struct sink *sk)
{
    if (sk)
        sk->ops->free(sk->self);
}

int64_t store_run_id(const struct sink *sk)
{
    const struct store *s = sk ? sk->self : NULL;
    return s ? s->run_id : 0;
}
