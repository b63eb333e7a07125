/*
 * sink.h - the one interface every output implements (SQLite store, EVE
 * lines; later HEP, syslog, ...). A new sink is one file plus one line where
 * the engine registers it. Callbacks may be NULL. Sinks copy what they keep:
 * event slices die when the call returns.
 */
#ifndef SIPSIFT_SINK_H
#define SIPSIFT_SINK_H

#include "output/events.h"

struct sink_ops {
    const char *name;
    void (*run_start)(void *s, const struct run_info *run);
    void (*sip)(void *s, const struct ev_sip *e);
    void (*call)(void *s, const struct ev_call *e);
    void (*registration)(void *s, const struct ev_registration *e);
    void (*auth)(void *s, const struct ev_auth *e);
    void (*source)(void *s, const struct ev_source *e);
    void (*alert)(void *s, const struct ev_alert *e);
    void (*rtp)(void *s, const struct ev_rtp *e);
    /* Capture time advanced (about once a second): a chance to commit a batch. */
    void (*tick)(void *s, uint64_t now_us);
    /* End of run: write totals, commit, close files. Returns 0 or -1 (reason in err). */
    int (*run_end)(void *s, const struct run_info *run, char *err, size_t errlen);
    void (*free)(void *s);
};

struct sink {
    const struct sink_ops *ops;
    void *self;
};

#endif
