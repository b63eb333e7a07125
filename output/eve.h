/*
 * eve.h - the EVE sink: one JSON object per line per event (docs/json.md),
 * to a file (appended) or stdout, for jq, Filebeat, Splunk and friends.
 */
#ifndef SIPSIFT_EVE_H
#define SIPSIFT_EVE_H

#include <stddef.h>

#include "output/sink.h"

/*
 * Open path for appending ("-" = stdout) and return the sink. NULL on error
 * with a one-line reason in err. The caller owns the sink:
 * s->ops->free(s->self) releases everything (the struct sink lives inside).
 */
struct sink *eve_open(const char *path, char *err, size_t errlen);

/* Same as s->ops->free(s->self); NULL is fine. */
void eve_close(struct sink *s);

/*
 * Close and reopen the file (after log rotation moved it: call on SIGHUP,
 * from the main loop, not from the signal handler). No-op for stdout.
 * 0, or -1 with the reason in err (the sink then writes nothing until the
 * next successful reopen).
 */
int eve_reopen(struct sink *s, char *err, size_t errlen);

#endif
