/*
 * store.h - the SQLite store: a sink that writes every event of a run into one
 * file (schema in docs/schema.md), and the opener the report uses to read it.
 * Writes are batched in transactions; a kill -9 loses at most the open batch.
 */
#ifndef SIPSIFT_STORE_H
#define SIPSIFT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "output/sink.h"

#define STORE_SCHEMA_VERSION  2                 /* PRAGMA user_version */
#define STORE_BATCH_ROWS      10000             /* rows per transaction at most */
#define STORE_COMMIT_WALL_US  1000000           /* tick() commits after this much wall time */
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_CACHE_KIB       (64 * 1024)       /* writer's page cache */
#define STORE_CHECKPOINT_PAGES 16384            /* WAL pages (4 KiB) between checkpoints */
/* The WAL is truncated back to this size after a checkpoint. */
#define STORE_JOURNAL_LIMIT_BYTES (64 * 1024 * 1024)

/*
 * Open (or create) the store at path for writing and return it as a sink.
 * An existing store gets a new run appended at run_start. NULL on error, with
 * a one-line reason in err ("sipsift.db: ..."): unwritable path, not a SQLite
 * file, another tool's database, or another schema version.
 * The caller owns the sink; s->ops->free(s->self) releases everything, the
 * struct sink included (it lives inside the store).
 */
struct sink *store_open(const char *path, char *err, size_t errlen);

/* Same as s->ops->free(s->self); NULL is fine. */
void store_close(struct sink *s);

/* The runs.id of the current run (0 before run_start). Valid after run_end. */
int64_t store_run_id(const struct sink *s);

/*
 * Live mode: write the run's totals so far (runs and inputs rows) and commit,
 * so a report refreshed now sees them. 0, or -1 with the reason in err.
 */
int store_checkpoint(struct sink *s, const struct run_info *run, char *err, size_t errlen);

/*
 * Lower level, shared with the report: open path with the schema checked.
 * write = false opens read-only and requires an existing store; write = true
 * creates the schema in an empty file. NULL on error with the reason in err.
 */
sqlite3 *store_db_open(const char *path, bool write, char *err, size_t errlen);

#endif
