/*
 * store_int.h - what the store's own files (store.c, store_run.c) share; not
 * for the rest of sipsift, which uses store.h.
 */
#ifndef SIPSIFT_STORE_INT_H
#define SIPSIFT_STORE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "lib/ipaddr.h"
#include "output/json.h"
#include "output/sink.h"

/* Prepared once at open, bind -> step -> reset per row. */
enum store_stmt {
    S_SIP, S_CALL, S_REG, S_AUTH, S_SOURCE, S_ALERT, S_INPUT, S_RUN_NEW, S_RUN_TOTALS, S_BEGIN, S_COMMIT,
    S_RTP,
    S__COUNT
};

struct store {
    struct sink sink;              /* what store_open returns; lives here */
    sqlite3 *db;                   /* NULL once closed */
    char *path;
    sqlite3_stmt *st[S__COUNT];
    int64_t run_id;                /* runs.id of this run; 0 before run_start */
    bool in_tx;                    /* a batch is open */
    unsigned batch_rows;           /* rows in the open batch */
    uint64_t last_commit_wall_us;  /* CLOCK_MONOTONIC */
    uint64_t rows, dropped;        /* written; not written because of an error */
    uint64_t rtp_packets;          /* packets of the rtp events of this run */
    bool failed;
    char err[512];                 /* first failure, one line */
    struct js_buf scratch;         /* escaped text of the value being bound */
    char ipbuf[2][IP_STRLEN];      /* src and dst of the row being bound */
};

void store_fail(struct store *s, const char *what);
void store_commit(struct store *s);
bool store_row_begin(struct store *s);
bool store_row_end(struct store *s, sqlite3_stmt *st, const char *table);
bool store_shutdown(struct store *s);
void store_bind_slice(struct store *s, sqlite3_stmt *st, int i, struct slice v);
void store_bind_cstr(struct store *s, sqlite3_stmt *st, int i, const char *v);
void store_bind_opt(sqlite3_stmt *st, int i, uint64_t v);

/* store_run.c: the runs and inputs rows. run may be NULL (a run row created
 * lazily when events come before run_start). */
bool store_run_create(struct store *s, const struct run_info *run);
void store_on_run_start(void *self, const struct run_info *run);
int store_on_run_end(void *self, const struct run_info *run, char *err, size_t errlen);

#endif
