/*
 * store_run.c - the store's runs and inputs rows: a run row at run_start,
 * totals at checkpoints and run_end, and the error a run ends with.
 */
#include "output/store.h"
#include "output/store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

bool store_run_create(struct store *s, const struct run_info *run)
{
    if (s->failed || !s->db)
        return false;
    sqlite3_stmt *st = s->st[S_RUN_NEW];
    store_bind_cstr(s, st, 1, run ? run->version : NULL);
    store_bind_cstr(s, st, 2, run ? run->command_line : NULL);
    store_bind_opt(st, 3, run && run->started_wall_us ? run->started_wall_us : realtime_us());
    store_bind_cstr(s, st, 4, run && run->status ? run->status : "running");
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        store_fail(s, "writing runs");
        return false;
    }
    s->run_id = sqlite3_last_insert_rowid(s->db);
    s->rtp_packets = 0;
    return true;
}

static void write_inputs(struct store *s, const struct run_info *run)
{
    for (unsigned k = 0; k < run->n_inputs && run->inputs; k++) {
        const struct run_input *in = &run->inputs[k];
        if (!store_row_begin(s))
            return;
        sqlite3_stmt *st = s->st[S_INPUT];
        sqlite3_bind_int64(st, 1, s->run_id);
        sqlite3_bind_int64(st, 2, k);
        store_bind_cstr(s, st, 3, in->file);
        store_bind_cstr(s, st, 4, in->link_type);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)in->packets);
        sqlite3_bind_int64(st, 6, (sqlite3_int64)in->bytes);
        store_bind_opt(st, 7, in->start_us);
        store_bind_opt(st, 8, in->end_us);
        if (!store_row_end(s, st, "inputs"))
            return;
    }
}

/* JSON text (compact) of v, stolen; bound with free as its destructor. */
static void bind_json(sqlite3_stmt *st, int i, json_t *v)
{
    char *text = v ? json_dumps(v, JS_DUMP_FLAGS | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (text)
        sqlite3_bind_text(st, i, text, -1, free);
    else
        sqlite3_bind_null(st, i);
}

/* runs.capture_stats: the capture counters, and for live interfaces the
 * kernel's counters as "live": [{input, interface, ps_recv, ps_drop, ps_ifdrop}]. */
static json_t *capture_json(const struct run_info *run)
{
    json_t *o = js_capture_stats(run->capture);
    json_t *live = NULL;
    for (unsigned k = 0; k < run->n_inputs && run->inputs && json_is_object(o); k++) {
        const struct run_input *in = &run->inputs[k];
        if (!in->live)
            continue;
        if (!live && !(live = json_array()))
            break;
        json_t *e = json_object();
        if (!e)
            break;
        js_set(e, "input", js_uint(k));
        js_set(e, "interface", js_cstr(in->file));
        js_set(e, "ps_recv", js_uint(in->ps_recv));
        js_set(e, "ps_drop", js_uint(in->ps_drop));
        js_set(e, "ps_ifdrop", js_uint(in->ps_ifdrop));
        js_push(live, e);
    }
    if (live)
        js_set(o, "live", live);
    return o;
}

/* The runs row's totals and the inputs rows, then commit. */
static void write_totals(struct store *s, const struct run_info *run, const char *status)
{
    if (!run || s->run_id == 0)
        return;
    write_inputs(s, run);
    if (!store_row_begin(s))
        return;
    uint64_t packets = 0, bytes = 0;
    if (run->capture) {
        packets = run->capture->frames;
        bytes = run->capture->bytes;
    } else {
        for (unsigned k = 0; k < run->n_inputs && run->inputs; k++)
            packets += run->inputs[k].packets, bytes += run->inputs[k].bytes;
    }
    sqlite3_stmt *st = s->st[S_RUN_TOTALS];
    sqlite3_bind_int64(st, 1, s->run_id);
    store_bind_opt(st, 2, run->finished_wall_us);
    store_bind_cstr(s, st, 3, run->status ? run->status : status);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)packets);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)bytes);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)run->sip_messages);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)run->sip_malformed);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)run->sip_not_sip);
    /* every RTP packet is in a stream, and streams end before the run does */
    uint64_t rtp = run->rtp_packets > s->rtp_packets ? run->rtp_packets : s->rtp_packets;
    sqlite3_bind_int64(st, 9, (sqlite3_int64)rtp);
    bind_json(st, 10, capture_json(run));
    /* limits_json comes from another module: keep it only if it parses, and
     * then in our compact form. */
    json_t *limits = run->limits_json ? json_loads(run->limits_json, JSON_DECODE_ANY, NULL) : NULL;
    bind_json(st, 11, limits);
    if (store_row_end(s, st, "runs"))
        store_commit(s);
}

void store_on_run_start(void *self, const struct run_info *run)
{
    struct store *s = self;
    store_commit(s); /* rows of an earlier run on this sink stay with it */
    if (!store_run_create(s, run))
        return;
    if (run)
        write_inputs(s, run);
    store_commit(s); /* a report started now sees this run */
}

/* The sink's error (if any) as the one-line reason for the caller. */
static int result(struct store *s, char *err, size_t errlen)
{
    if (!s->failed)
        return 0;
    if (err && errlen) {
        if (s->dropped)
            snprintf(err, errlen, "%s (%llu rows not written)", s->err,
                     (unsigned long long)s->dropped);
        else
            snprintf(err, errlen, "%s", s->err);
    }
    return -1;
}

int store_on_run_end(void *self, const struct run_info *run, char *err, size_t errlen)
{
    struct store *s = self;
    if (s->run_id == 0 && run)
        store_run_create(s, run);
    write_totals(s, run, "finished");
    store_shutdown(s);
    return result(s, err, errlen);
}

int store_checkpoint(struct sink *sk, const struct run_info *run, char *err, size_t errlen)
{
    struct store *s = sk->self;
    write_totals(s, run, "running");
    store_commit(s);
    return result(s, err, errlen);
}
