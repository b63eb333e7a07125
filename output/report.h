/*
 * report.h - the JSON report (CONTRACT.md) and the terminal summary, both read
 * from the SQLite store, so `sipsift report --db` shows exactly what analyze
 * wrote. Large arrays (calls, sources) are streamed row by row: memory stays
 * flat whatever the size of the run.
 */
#ifndef SIPSIFT_REPORT_H
#define SIPSIFT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct report;

/*
 * Open the store at db_path read-only and pick run run_id (0 = the latest).
 * NULL on error with a one-line reason in err (missing file, not a store,
 * other schema version, no such run). Release with report_close.
 */
struct report *report_open(const char *db_path, int64_t run_id, char *err, size_t errlen);
void report_close(struct report *r);

/* The run this report describes. */
int64_t report_run_id(const struct report *r);

/* The JSON report (docs/json.md) to out. 0, or -1 with the reason in err. */
int report_json(struct report *r, FILE *out, char *err, size_t errlen);

/* The same into path, atomically (a temporary file renamed over it), so a
 * live run can refresh it while others read it. 0, or -1 with the reason. */
int report_json_file(struct report *r, const char *path, char *err, size_t errlen);

/* The terminal summary: inputs, counts, top sources and user agents. */
int report_summary(struct report *r, FILE *out, char *err, size_t errlen);

#endif
