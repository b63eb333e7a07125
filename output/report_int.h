/*
 * report_int.h - what report.c (JSON) and report_summary.c (terminal) share:
 * the open report and the query helpers. Not for the rest of sipsift.
 */
#ifndef SIPSIFT_REPORT_INT_H
#define SIPSIFT_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "output/report.h"

struct report {
    sqlite3 *db;
    char *path;
    int64_t run_id;
    bool has_streams;    /* the run has RTP streams: look them up per call */
    bool failed;
    char err[512];       /* first query error */
};

/* Prepare sql with ?1 bound to the run id; NULL (and r->err set) on error. */
sqlite3_stmt *rq_prepare(struct report *r, const char *sql);
/* Step; true on a row. An error other than the end is recorded in r->err. */
bool rq_step(struct report *r, sqlite3_stmt *st);
/* First column of the first row of sql as an integer (0 if none). */
int64_t rq_int(struct report *r, const char *sql);

#endif
