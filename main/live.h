/*
 * live.h - `sipsift analyze -i IFACE...`: capture on interfaces until
 * SIGINT/SIGTERM, committing the store every second, refreshing the report,
 * reopening the EVE file on SIGHUP. The options are analyze.c's.
 */
#ifndef SIPSIFT_MAIN_LIVE_H
#define SIPSIFT_MAIN_LIVE_H

#include <signal.h>
#include <stdbool.h>

#include "capture/live.h"
#include "main/engine.h"
#include "main/privs.h"

#define LIVE_MAX_IFACES 16
#define LIVE_DEFAULT_REPORT_SEC 60

struct live_opts {
    const char *ifaces[LIVE_MAX_IFACES];
    unsigned n_ifaces;
    const char *bpf;                 /* "" = none */
    const char *db, *report, *eve;   /* report, eve may be NULL */
    const struct priv_user *user;    /* -Z, or NULL */
    struct live_cfg cap;
    unsigned report_interval_sec;    /* 0: the report only on SIGUSR1 and at the end */
    int verbosity;                   /* -1 quiet, 0 normal, 1+ verbose */
    struct engine_cfg eng;
    const char *command_line;
};

/*
 * Run until *stop is set (the caller's SIGINT/SIGTERM handler). Installs its
 * own SIGHUP (reopen EVE) and SIGUSR1 (rewrite the report) handlers. Returns
 * the exit status (CONTRACT.md): 0 after a stop by signal, 1 when the capture
 * or the store failed, 2 for a bad filter.
 */
int live_run(const struct live_opts *o, volatile sig_atomic_t *stop);

#endif
