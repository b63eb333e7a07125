/*
 * outputs.c - opens the sinks of an analyze run (the SQLite store always,
 * EVE lines with --eve), fans run start/end out to them, and writes the
 * report and summary from the store once the run is committed.
 */
#include "main/outputs.h"

#include <stdio.h>
#include <string.h>

#include "output/eve.h"
#include "output/report.h"
#include "output/store.h"

int outputs_open(struct outputs *o, const char *db, const char *eve, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->store = store_open(db, err, errlen);
    if (!o->store)
        return -1;
    o->sinks[o->n_sinks++] = *o->store;
    if (eve) {
        char why[400];
        o->eve = eve_open(eve, why, sizeof why);
        if (!o->eve) {
            snprintf(err, errlen, "%s", why);
            outputs_close(o);
            return -1;
        }
        o->sinks[o->n_sinks++] = *o->eve;
    }
    return 0;
}

void outputs_run_start(struct outputs *o, const struct run_info *run)
{
    for (unsigned i = 0; i < o->n_sinks; i++)
        if (o->sinks[i].ops->run_start)
            o->sinks[i].ops->run_start(o->sinks[i].self, run);
}

int outputs_run_end(struct outputs *o, const struct run_info *run, char *err, size_t errlen)
{
    int rc = 0;
    for (unsigned i = 0; i < o->n_sinks; i++) {
        char why[400];
        if (o->sinks[i].ops->run_end && o->sinks[i].ops->run_end(o->sinks[i].self, run, why, sizeof why) < 0) {
            if (rc == 0)
                snprintf(err, errlen, "%s", why);
            rc = -1;
        }
    }
    return rc;
}

int64_t outputs_run_id(const struct outputs *o) { return o->store ? store_run_id(o->store) : 0; }

int outputs_checkpoint(struct outputs *o, const struct run_info *run, char *err, size_t errlen)
{
    return o->store ? store_checkpoint(o->store, run, err, errlen) : 0;
}

int outputs_reopen_eve(struct outputs *o, char *err, size_t errlen)
{
    return o->eve ? eve_reopen(o->eve, err, errlen) : 0;
}

void outputs_close(struct outputs *o)
{
    if (o->eve)
        o->eve->ops->free(o->eve->self);
    if (o->store)
        o->store->ops->free(o->store->self);
    memset(o, 0, sizeof *o);
}

int outputs_write_report(const char *db, int64_t run_id, const char *path, char *err, size_t errlen)
{
    struct report *r = report_open(db, run_id, err, errlen);
    if (!r)
        return -1;
    int rc = strcmp(path, "-") == 0 ? report_json(r, stdout, err, errlen)
                                    : report_json_file(r, path, err, errlen);
    report_close(r);
    return rc;
}

int outputs_print_summary(const char *db, int64_t run_id, FILE *f, char *err, size_t errlen)
{
    struct report *r = report_open(db, run_id, err, errlen);
    if (!r)
        return -1;
    int rc = report_summary(r, f, err, errlen);
    report_close(r);
    return rc;
}
