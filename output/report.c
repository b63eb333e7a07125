/*
 * report.c - the JSON report, written straight from the store's rows. Keys and
 * their order are CONTRACT.md's; small objects are built with jansson, the
 * arrays and maps are streamed (one dump per element) so memory stays flat.
 */
#include "output/report.h"
#include "output/report_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/json.h"
#include "output/store.h"

/* ---- opening and queries ------------------------------------------------ */

static void rq_fail(struct report *r, const char *what)
{
    if (!r->failed)
        snprintf(r->err, sizeof r->err, "%s: %s: %s", r->path, what, sqlite3_errmsg(r->db));
    r->failed = true;
}

sqlite3_stmt *rq_prepare(struct report *r, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
        rq_fail(r, "query");
        return NULL;
    }
    if (sqlite3_bind_parameter_count(st) >= 1)
        sqlite3_bind_int64(st, 1, r->run_id);
    return st;
}

bool rq_step(struct report *r, sqlite3_stmt *st)
{
    if (!st)
        return false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return true;
    if (rc != SQLITE_DONE)
        rq_fail(r, "reading");
    return false;
}

int64_t rq_int(struct report *r, const char *sql)
{
    sqlite3_stmt *st = rq_prepare(r, sql);
    int64_t v = rq_step(r, st) ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return v;
}

struct report *report_open(const char *db_path, int64_t run_id, char *err, size_t errlen)
{
    struct report *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(db_path))) {
        snprintf(err, errlen, "%s: out of memory", db_path);
        free(r);
        return NULL;
    }
    r->db = store_db_open(db_path, false, err, errlen);
    if (!r->db) {
        report_close(r);
        return NULL;
    }
    r->run_id = run_id;
    int64_t found = rq_int(r, run_id ? "SELECT id FROM runs WHERE id = ?1" : "SELECT max(id) FROM runs");
    if (r->failed || found == 0) {
        if (r->failed)
            snprintf(err, errlen, "%s", r->err);
        else if (run_id)
            snprintf(err, errlen, "%s: no run %lld in this store", db_path, (long long)run_id);
        else
            snprintf(err, errlen, "%s: the store holds no run yet", db_path);
        report_close(r);
        return NULL;
    }
    r->run_id = found;
    return r;
}

void report_close(struct report *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    free(r->path);
    free(r);
}

int64_t report_run_id(const struct report *r)
{
    return r->run_id;
}

/* ---- column values as JSON --------------------------------------------- */

static json_t *c_text(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    const char *t = (const char *)sqlite3_column_text(st, i);
    return js_text(t, (size_t)sqlite3_column_bytes(st, i));
}

static json_t *c_int(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    json_t *v = json_integer(sqlite3_column_int64(st, i));
    return v ? v : json_null();
}

static json_t *c_real(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return json_null();
    json_t *v = json_real(sqlite3_column_double(st, i));
    return v ? v : json_null();
}

static json_t *c_time(sqlite3_stmt *st, int i)
{
    return js_time((uint64_t)sqlite3_column_int64(st, i)); /* NULL reads as 0 -> null */
}

/* A value whatever its storage class (alerts.severity may be text or int). */
static json_t *c_any(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: return c_int(st, i);
    case SQLITE_FLOAT: return c_real(st, i);
    case SQLITE_TEXT: return c_text(st, i);
    default: return json_null();
    }
}

/* A JSON text column (sources' arrays); `empty` ("[]" or "{}") when unreadable. */
static json_t *c_json(sqlite3_stmt *st, int i, const char *empty)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    json_t *v = t ? json_loadb(t, (size_t)sqlite3_column_bytes(st, i), JSON_DECODE_ANY, NULL) : NULL;
    if (!v)
        v = json_loads(empty, 0, NULL);
    return v ? v : json_null();
}

static json_t *c_proto(sqlite3_stmt *st, int i)
{
    const char *p = (const char *)sqlite3_column_text(st, i);
    if (!p)
        return json_null();
    char up[16];
    size_t k = 0;
    for (; p[k] && k < sizeof up - 1; k++)
        up[k] = (char)(p[k] >= 'a' && p[k] <= 'z' ? p[k] - 32 : p[k]);
    up[k] = '\0';
    return js_text(up, k);
}

/* ---- the streaming writer ---------------------------------------------- */

struct w {
    FILE *out;
    char *buf;
    size_t cap;
};

/* Dump v (stolen). A value that cannot be dumped (out of memory) is written
 * as null so the document stays valid. */
static void w_json(struct w *w, json_t *v)
{
    size_t need = json_dumpb(v, w->buf, w->cap, JS_DUMP_FLAGS | JSON_ENCODE_ANY);
    if (need > w->cap) {
        char *nb = realloc(w->buf, need);
        if (nb) {
            w->buf = nb;
            w->cap = need;
            need = json_dumpb(v, w->buf, w->cap, JS_DUMP_FLAGS | JSON_ENCODE_ANY);
        }
    }
    if (need == 0 || need > w->cap || !w->buf)
        fputs("null", w->out);
    else
        fwrite(w->buf, 1, need, w->out);
    json_decref(v);
}

/* Our own key literal: nothing to escape. */
static void w_key(struct w *w, const char *key, bool first)
{
    fprintf(w->out, "%s\"%s\":", first ? "" : ",", key);
}

/* An object {key: count} from rows (key, count); int_keys: status codes. */
static void w_map(struct w *w, struct report *r, const char *sql)
{
    sqlite3_stmt *st = rq_prepare(r, sql);
    fputc('{', w->out);
    for (bool first = true; rq_step(r, st); first = false) {
        if (!first)
            fputc(',', w->out);
        json_t *k = c_text(st, 0); /* a NULL key (no method) becomes "" */
        if (!json_is_string(k)) {
            json_decref(k);
            k = json_string("");
        }
        w_json(w, k);
        fputc(':', w->out);
        w_json(w, c_int(st, 1));
    }
    fputc('}', w->out);
    sqlite3_finalize(st);
}

/* An array with one element per row, built by fn. */
static void w_rows(struct w *w, struct report *r, const char *sql,
                   json_t *(*fn)(struct report *r, sqlite3_stmt *st))
{
    sqlite3_stmt *st = rq_prepare(r, sql);
    fputc('[', w->out);
    for (bool first = true; rq_step(r, st); first = false) {
        fputs(first ? "\n" : ",\n", w->out);
        w_json(w, fn(r, st));
    }
    fputs("\n]", w->out);
    sqlite3_finalize(st);
}

/* ---- sections ---------------------------------------------------------- */

static json_t *input_row(struct report *r, sqlite3_stmt *st)
{
    (void)r;
    json_t *o = json_object();
    if (!o)
        return json_null();
    js_set(o, "file", c_text(st, 0));
    js_set(o, "packets", c_int(st, 1));
    js_set(o, "bytes", c_int(st, 2));
    js_set(o, "link_type", c_text(st, 3));
    js_set(o, "start", c_time(st, 4));
    js_set(o, "end", c_time(st, 5));
    /* A live interface: the kernel's counters (docs/json.md). */
    if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
        js_set(o, "ps_recv", c_int(st, 6));
        js_set(o, "ps_drop", c_int(st, 7));
        js_set(o, "ps_ifdrop", c_int(st, 8));
    }
    return o;
}

/* Inputs, with the kernel counters a live run keeps in runs.capture_stats ("live"). */
static const char INPUTS_SQL[] =
    "SELECT i.file, i.packets, i.bytes, i.link_type, i.start_us, i.end_us,"
    " json_extract(l.value, '$.ps_recv'), json_extract(l.value, '$.ps_drop'),"
    " json_extract(l.value, '$.ps_ifdrop')"
    " FROM inputs i LEFT JOIN (SELECT j.value FROM runs r, json_each(CASE WHEN"
    " json_valid(r.capture_stats) THEN r.capture_stats END, '$.live') j WHERE r.id = ?1) l"
    " ON json_extract(l.value, '$.input') = i.idx"
    " WHERE i.run_id = ?1 ORDER BY i.idx";

static void w_stats(struct w *w, struct report *r)
{
    static const char *const MSG_TOTALS =
        "SELECT count(*), count(malformed), count(DISTINCT nullif(call_id, ''))"
        " FROM sip_messages WHERE run_id = ?1";
    int64_t msgs = 0, malformed = 0, call_ids = 0;
    sqlite3_stmt *st = rq_prepare(r, MSG_TOTALS);
    if (rq_step(r, st)) {
        msgs = sqlite3_column_int64(st, 0);
        malformed = sqlite3_column_int64(st, 1);
        call_ids = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);

    fputc('{', w->out);
    w_key(w, "packets", true);
    w_json(w, json_integer(rq_int(r, "SELECT coalesce(packets, (SELECT sum(packets) FROM inputs"
                                     " WHERE run_id = ?1), 0) FROM runs WHERE id = ?1")));
    w_key(w, "bytes", false);
    w_json(w, json_integer(rq_int(r, "SELECT coalesce(bytes, (SELECT sum(bytes) FROM inputs"
                                     " WHERE run_id = ?1), 0) FROM runs WHERE id = ?1")));
    w_key(w, "sip_messages", false);
    w_json(w, json_integer(msgs));
    w_key(w, "sip_requests", false);
    w_map(w, r, "SELECT method, count(*) FROM sip_messages WHERE run_id = ?1 AND is_request = 1"
                " GROUP BY method ORDER BY 2 DESC, 1");
    w_key(w, "sip_responses", false);
    w_map(w, r, "SELECT CAST(status AS TEXT), count(*) FROM sip_messages WHERE run_id = ?1"
                " AND is_request = 0 GROUP BY status ORDER BY status");
    w_key(w, "sip_malformed", false);
    w_json(w, json_integer(malformed));
    w_key(w, "user_agents", false);
    w_map(w, r, "SELECT user_agent, count(*) FROM sip_messages WHERE run_id = ?1"
                " AND user_agent IS NOT NULL GROUP BY user_agent ORDER BY 2 DESC, 1");
    w_key(w, "calls", false);
    w_json(w, json_integer(rq_int(r, "SELECT count(DISTINCT call_id) FROM calls WHERE run_id = ?1")));
    w_key(w, "call_ids", false);
    w_json(w, json_integer(call_ids));
    w_key(w, "registrations", false);
    w_json(w, json_integer(rq_int(r, "SELECT count(*) FROM registrations WHERE run_id = ?1")));
    w_key(w, "auth_attempts", false);
    w_json(w, json_integer(rq_int(r, "SELECT count(*) FROM auth_attempts WHERE run_id = ?1")));
    w_key(w, "rtp_packets", false);
    w_json(w, json_integer(rq_int(r, "SELECT coalesce(rtp_packets, (SELECT sum(packets) FROM"
                                     " rtp_streams WHERE run_id = ?1), 0) FROM runs WHERE id = ?1")));
    w_key(w, "rtp_streams", false);
    w_json(w, json_integer(rq_int(r, "SELECT count(*) FROM rtp_streams WHERE run_id = ?1")));
    w_key(w, "alerts", false);
    w_json(w, json_integer(rq_int(r, "SELECT count(*) FROM alerts WHERE run_id = ?1")));
    fputc('}', w->out);
}

static json_t *source_row(struct report *r, sqlite3_stmt *st)
{
    (void)r;
    json_t *o = json_object(), *auth = json_object();
    if (!o || !auth) {
        json_decref(o);
        json_decref(auth);
        return json_null();
    }
    js_set(o, "ip", c_text(st, 0));
    static const char *const geo[] = { "country", "asn", "as_org" };
    for (int k = 0; k < 3; k++)
        if (sqlite3_column_type(st, 1 + k) != SQLITE_NULL)
            js_set(o, geo[k], c_text(st, 1 + k));
    js_set(o, "first_seen", c_time(st, 4));
    js_set(o, "last_seen", c_time(st, 5));
    js_set(o, "sip_messages", c_int(st, 6));
    js_set(o, "methods", c_json(st, 7, "{}"));
    js_set(o, "user_agents", c_json(st, 8, "[]"));
    js_set(o, "targets", c_int(st, 9));
    js_set(o, "users_tried", c_json(st, 10, "[]"));
    js_set(o, "extensions_found", c_json(st, 11, "[]"));
    js_set(auth, "attempts", c_int(st, 12));
    js_set(auth, "failures", c_int(st, 13));
    js_set(auth, "successes", c_int(st, 14));
    js_set(auth, "credentials", c_json(st, 15, "[]"));
    js_set(o, "auth", auth);
    js_set(o, "numbers_dialed", c_json(st, 16, "[]"));
    js_set(o, "tools", c_json(st, 17, "[]"));
    js_set(o, "techniques", c_json(st, 18, "[]"));
    js_set(o, "severity", c_text(st, 19));
    js_set(o, "reasons", c_json(st, 20, "[]"));
    js_set(o, "users_tried_total", c_int(st, 21));
    return o;
}

/* Worst first, then busiest: the order an analyst reads them in. */
#define SEVERITY_RANK "CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3" \
                      " WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"

static const char SOURCES_SQL[] =
    "SELECT ip, country, asn, as_org, first_us, last_us, sip_messages, methods, user_agents,"
    " targets, users_tried, extensions_found, auth_attempts, auth_failures, auth_successes,"
    " credentials, numbers_dialed, tools, techniques, severity, reasons, users_tried_total"
    " FROM sources WHERE run_id = ?1 ORDER BY " SEVERITY_RANK " DESC, sip_messages DESC, ip";

static json_t *alert_row(struct report *r, sqlite3_stmt *st)
{
    (void)r;
    json_t *o = json_object();
    if (!o)
        return json_null();
    js_set(o, "timestamp", c_time(st, 0));
    js_set(o, "sid", c_int(st, 1));
    js_set(o, "rev", c_int(st, 2));
    js_set(o, "msg", c_text(st, 3));
    js_set(o, "classtype", c_text(st, 4));
    js_set(o, "severity", c_any(st, 5));
    js_set(o, "src_ip", c_text(st, 6));
    js_set(o, "src_port", c_int(st, 7));
    js_set(o, "dest_ip", c_text(st, 8));
    js_set(o, "dest_port", c_int(st, 9));
    js_set(o, "proto", c_proto(st, 10));
    js_set(o, "call_id", c_text(st, 11));
    js_set(o, "tool", c_text(st, 12));
    js_set(o, "technique", c_text(st, 13));
    js_set(o, "detail", c_text(st, 14));
    return o;
}

static const char ALERTS_SQL[] =
    "SELECT ts_us, sid, rev, msg, classtype, severity, src_ip, src_port, dst_ip, dst_port, proto,"
    " call_id, tool, technique, detail FROM alerts WHERE run_id = ?1 ORDER BY ts_us, id";

/* The ids of a call's RTP streams (one indexed lookup per call, skipped when
 * the run has no streams). */
static json_t *call_streams(struct report *r, sqlite3_stmt *call, int col)
{
    json_t *a = json_array();
    static const char sql[] = "SELECT id FROM rtp_streams WHERE run_id = ?1 AND call_id = ?2 ORDER BY id";
    if (!a || sqlite3_column_type(call, col) == SQLITE_NULL || !r->has_streams)
        return a ? a : json_null();
    sqlite3_stmt *st = rq_prepare(r, sql);
    if (st)
        sqlite3_bind_text(st, 2, (const char *)sqlite3_column_text(call, col),
                          sqlite3_column_bytes(call, col), SQLITE_TRANSIENT);
    while (rq_step(r, st))
        js_push(a, c_int(st, 0));
    sqlite3_finalize(st);
    return a;
}

static json_t *call_row(struct report *r, sqlite3_stmt *st)
{
    json_t *o = json_object();
    if (!o)
        return json_null();
    js_set(o, "call_id", c_text(st, 0));
    js_set(o, "from", c_text(st, 1));
    js_set(o, "to", c_text(st, 2));
    js_set(o, "src_ip", c_text(st, 3));
    js_set(o, "dest_ip", c_text(st, 4));
    js_set(o, "start", c_time(st, 5));
    js_set(o, "answer", c_time(st, 6));
    js_set(o, "end", c_time(st, 7));
    js_set(o, "state", c_text(st, 8));
    js_set(o, "duration", js_duration((uint64_t)sqlite3_column_int64(st, 6),
                                      (uint64_t)sqlite3_column_int64(st, 7)));
    js_set(o, "dtmf", sqlite3_column_type(st, 9) == SQLITE_NULL ? json_string("") : c_text(st, 9));
    js_set(o, "rtp_streams", call_streams(r, st, 0));
    js_set(o, "src_port", c_int(st, 10));
    js_set(o, "dest_port", c_int(st, 11));
    js_set(o, "proto", c_proto(st, 12));
    js_set(o, "user_agent", c_text(st, 13));
    js_set(o, "final_status", c_int(st, 14));
    js_set(o, "messages", c_int(st, 15));
    return o;
}

static const char CALLS_SQL[] =
    "SELECT call_id, from_uri, to_uri, src_ip, dst_ip, start_us, answer_us, end_us, state, dtmf,"
    " src_port, dst_port, proto, user_agent, final_status, messages"
    " FROM calls WHERE run_id = ?1 ORDER BY start_us, id";

static json_t *stream_row(struct report *r, sqlite3_stmt *st)
{
    (void)r;
    static const char *const keys[] = { "id", "ssrc", "src_ip", "src_port", "dest_ip", "dest_port",
                                        "payload_type", "codec", "packets", "bytes", "lost",
                                        "out_of_order", "jitter_ms", "max_delta_ms" };
    json_t *o = json_object();
    if (!o)
        return json_null();
    for (int k = 0; k < (int)(sizeof keys / sizeof keys[0]); k++)
        js_set(o, keys[k], c_any(st, k));
    js_set(o, "start", c_time(st, 14));
    js_set(o, "end", c_time(st, 15));
    js_set(o, "call_id", c_text(st, 16));
    return o;
}

static const char STREAMS_SQL[] =
    "SELECT id, ssrc, src_ip, src_port, dst_ip, dst_port, payload_type, codec, packets, bytes,"
    " lost, out_of_order, jitter_ms, max_delta_ms, start_us, end_us, call_id"
    " FROM rtp_streams WHERE run_id = ?1 ORDER BY start_us, id";

static json_t *run_row(struct report *r, sqlite3_stmt *st)
{
    json_t *o = json_object();
    if (!o)
        return json_null();
    js_set(o, "id", json_integer(r->run_id));
    js_set(o, "status", c_text(st, 1));
    js_set(o, "command_line", c_text(st, 2));
    js_set(o, "started", c_time(st, 3));
    js_set(o, "finished", c_time(st, 4));
    return o;
}

int report_json(struct report *r, FILE *out, char *err, size_t errlen)
{
    struct w w = { out, NULL, 0 };
    /* One read transaction: a live analyze may commit meanwhile, and every
     * section must describe the same moment. */
    sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *run = rq_prepare(r, "SELECT version, status, command_line, started_us,"
                                      " finished_us, capture_stats, limits FROM runs WHERE id = ?1");
    bool have_run = rq_step(r, run);
    r->has_streams = rq_int(r, "SELECT EXISTS (SELECT 1 FROM rtp_streams WHERE run_id = ?1)");

    fputs("{\"version\":", out);
    w_json(&w, have_run && sqlite3_column_type(run, 0) != SQLITE_NULL ? c_text(run, 0)
                                                                      : json_string(""));
    fputs(",\n\"inputs\":", out);
    w_rows(&w, r, INPUTS_SQL, input_row);
    fputs(",\n\"stats\":", out);
    w_stats(&w, r);
    fputs(",\n\"sources\":", out);
    w_rows(&w, r, SOURCES_SQL, source_row);
    fputs(",\n\"alerts\":", out);
    w_rows(&w, r, ALERTS_SQL, alert_row);
    fputs(",\n\"calls\":", out);
    w_rows(&w, r, CALLS_SQL, call_row);
    fputs(",\n\"rtp_streams\":", out);
    w_rows(&w, r, STREAMS_SQL, stream_row);
    /* Extensions (docs/json.md): after the contract keys, never instead. */
    fputs(",\n\"run\":", out);
    w_json(&w, have_run ? run_row(r, run) : json_null());
    fputs(",\n\"capture\":", out);
    w_json(&w, have_run ? c_json(run, 5, "{}") : json_object());
    fputs(",\n\"limits\":", out);
    w_json(&w, have_run && sqlite3_column_type(run, 6) != SQLITE_NULL ? c_json(run, 6, "{}")
                                                                      : json_null());
    fputs("}\n", out);

    sqlite3_finalize(run);
    sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    free(w.buf);
    errno = 0;
    if (!r->failed && (fflush(out) != 0 || ferror(out))) {
        snprintf(r->err, sizeof r->err, "writing the report: %s", strerror(errno ? errno : EIO));
        r->failed = true;
    }
    if (r->failed) {
        snprintf(err, errlen, "%s", r->err);
        return -1;
    }
    return 0;
}

int report_json_file(struct report *r, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        return -1;
    }
    int rc = report_json(r, f, err, errlen);
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot rename into place: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    return rc;
}
