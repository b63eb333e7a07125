/*
 * outputs.h - the sinks of one analyze run (SQLite store always, EVE lines
 * when asked) and the report/summary written from the store afterwards.
 * Keeps analyze.c free of sink-specific calls: a new sink is added here.
 */
#ifndef SIPSIFT_OUTPUTS_H
#define SIPSIFT_OUTPUTS_H

#include <stdint.h>
#include <stdio.h>

#include "main/engine.h"
#include "output/sink.h"

struct outputs {
    struct sink sinks[ENGINE_MAX_SINKS];
    unsigned n_sinks;
    struct sink *store; /* always */
    struct sink *eve;   /* with --eve */
};

int outputs_open(struct outputs *o, const char *db, const char *eve, char *err, size_t errlen);
void outputs_run_start(struct outputs *o, const struct run_info *run);
int outputs_run_end(struct outputs *o, const struct run_info *run, char *err, size_t errlen);
int64_t outputs_run_id(const struct outputs *o);
/* Live mode: write the run's totals so far and commit (store_checkpoint). */
int outputs_checkpoint(struct outputs *o, const struct run_info *run, char *err, size_t errlen);
/* Live mode, SIGHUP: reopen the EVE file (log rotation). 0 without --eve. */
int outputs_reopen_eve(struct outputs *o, char *err, size_t errlen);
void outputs_close(struct outputs *o);

/* Write the JSON report of run_id (0 = latest) atomically (temp file + rename). */
int outputs_write_report(const char *db, int64_t run_id, const char *path, char *err, size_t errlen);
int outputs_print_summary(const char *db, int64_t run_id, FILE *f, char *err, size_t errlen);

#endif
