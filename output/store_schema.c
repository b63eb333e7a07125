/*
 * store_schema.c - the store's tables and indexes (docs/schema.md), and the
 * one way to open a store file: pragmas, schema creation, version check.
 * Inserting rows is store.c's job; reading them is report.c's.
 */
#include "output/store.h"

#include <stdio.h>
#include <string.h>

/* Times are INTEGER µs since the epoch (*_us); IPs TEXT; NULL = absent.
 * Changing anything here means STORE_SCHEMA_VERSION + 1 and docs/schema.md. */
static const char SCHEMA_SQL[] =
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY, version TEXT, command_line TEXT,"
    " started_us INTEGER, finished_us INTEGER, status TEXT,"
    " packets INTEGER, bytes INTEGER, sip_messages INTEGER, sip_malformed INTEGER,"
    " sip_not_sip INTEGER, rtp_packets INTEGER, capture_stats TEXT, limits TEXT);"

    "CREATE TABLE inputs ("
    " run_id INTEGER NOT NULL, idx INTEGER NOT NULL, file TEXT, link_type TEXT,"
    " packets INTEGER, bytes INTEGER, start_us INTEGER, end_us INTEGER,"
    " PRIMARY KEY (run_id, idx));"

    "CREATE TABLE sip_messages ("
    " id INTEGER NOT NULL, run_id INTEGER NOT NULL, ts_us INTEGER NOT NULL,"
    " frame INTEGER, input INTEGER,"
    " src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, proto TEXT, hep INTEGER,"
    " is_request INTEGER, method TEXT, ruri TEXT, ruri_user TEXT, status INTEGER, reason TEXT,"
    " call_id TEXT, from_uri TEXT, from_user TEXT, from_tag TEXT,"
    " to_uri TEXT, to_user TEXT, to_tag TEXT, cseq INTEGER, cseq_method TEXT,"
    " via_branch TEXT, via_sent_by TEXT, user_agent TEXT, contact TEXT, content_type TEXT,"
    " body_len INTEGER, retransmission INTEGER, malformed TEXT, anomalies INTEGER,"
    " size INTEGER);"

    "CREATE TABLE calls ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, call_id TEXT,"
    " from_uri TEXT, to_uri TEXT, from_user TEXT, to_user TEXT, user_agent TEXT,"
    " src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, proto TEXT,"
    " start_us INTEGER, answer_us INTEGER, end_us INTEGER, state TEXT,"
    " final_status INTEGER, messages INTEGER, dtmf TEXT);"

    "CREATE TABLE registrations ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, ts_us INTEGER, resp_us INTEGER,"
    " src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, proto TEXT,"
    " aor TEXT, user TEXT, contact TEXT, user_agent TEXT, call_id TEXT,"
    " expires INTEGER, status INTEGER, authenticated INTEGER, result TEXT);"

    "CREATE TABLE auth_attempts ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, ts_us INTEGER,"
    " src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, proto TEXT,"
    " method TEXT, call_id TEXT, header TEXT, scheme TEXT, username TEXT, realm TEXT,"
    " nonce TEXT, uri TEXT, response TEXT, algorithm TEXT, qop TEXT, nc TEXT, cnonce TEXT,"
    " opaque TEXT, challenge_us INTEGER, status INTEGER, result TEXT, password TEXT);"

    "CREATE TABLE sources ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, ip TEXT NOT NULL,"
    " country TEXT, asn TEXT, as_org TEXT, first_us INTEGER, last_us INTEGER,"
    " sip_messages INTEGER, methods TEXT, user_agents TEXT, targets INTEGER,"
    " users_tried TEXT, users_tried_total INTEGER, extensions_found TEXT,"
    " auth_attempts INTEGER, auth_failures INTEGER, auth_successes INTEGER,"
    " credentials TEXT, numbers_dialed TEXT, tools TEXT, techniques TEXT,"
    " severity TEXT, reasons TEXT, UNIQUE (run_id, ip));"

    "CREATE TABLE alerts ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, ts_us INTEGER,"
    " sid INTEGER, rev INTEGER, msg TEXT, classtype TEXT, severity TEXT, priority INTEGER,"
    " src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER, proto TEXT,"
    " call_id TEXT, tool TEXT, technique TEXT, sip_id INTEGER, detail TEXT);"

    "CREATE TABLE rtp_streams ("
    " id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, ssrc INTEGER,"
    " src_ip TEXT, src_port INTEGER, dst_ip TEXT, dst_port INTEGER,"
    " payload_type INTEGER, codec TEXT, packets INTEGER, bytes INTEGER, lost INTEGER,"
    " out_of_order INTEGER, jitter_ms REAL, max_delta_ms REAL,"
    " start_us INTEGER, end_us INTEGER, call_id TEXT);"

    /* What an analyst asks: by source, by Call-ID, by time. The run_id index
     * is appended in order (cheap) and keeps per-run reports off full scans. */
    "CREATE INDEX sip_messages_run ON sip_messages(run_id);"
    "CREATE INDEX sip_messages_src_ip ON sip_messages(src_ip);"
    "CREATE INDEX sip_messages_call_id ON sip_messages(call_id);"
    "CREATE INDEX sip_messages_ts ON sip_messages(ts_us);"
    "CREATE INDEX calls_run ON calls(run_id);"
    "CREATE INDEX calls_call_id ON calls(call_id);"
    "CREATE INDEX calls_src_ip ON calls(src_ip);"
    "CREATE INDEX registrations_run ON registrations(run_id);"
    "CREATE INDEX registrations_aor ON registrations(aor);"
    "CREATE INDEX auth_attempts_run ON auth_attempts(run_id);"
    "CREATE INDEX auth_attempts_src_ip ON auth_attempts(src_ip);"
    "CREATE INDEX auth_attempts_username ON auth_attempts(username);"
    "CREATE INDEX sources_ip ON sources(ip);"
    "CREATE INDEX alerts_run ON alerts(run_id);"
    "CREATE INDEX alerts_src_ip ON alerts(src_ip);"
    "CREATE INDEX alerts_sid ON alerts(sid);"
    "CREATE INDEX rtp_streams_run ON rtp_streams(run_id);"
    "CREATE INDEX rtp_streams_call_id ON rtp_streams(call_id);";

static sqlite3 *fail(sqlite3 *db, char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "%s: %s%s%s", path, what, db ? ": " : "", db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return NULL;
}

/* Single-value query (a pragma or a count); false on error. */
static bool query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return false;
    bool ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return ok;
}

/* A reader opens read-write when it may, with query_only so it cannot write:
 * the last connection to close then removes -wal and -shm, which a read-only
 * connection leaves behind. False (and *db NULL) when that is not possible,
 * e.g. on read-only media: the caller falls back to SQLITE_OPEN_READONLY. */
static bool open_reader(const char *path, sqlite3 **db)
{
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
        sqlite3_db_readonly(*db, "main") == 0 &&
        sqlite3_exec(*db, "PRAGMA query_only=ON", NULL, NULL, NULL) == SQLITE_OK)
        return true;
    sqlite3_close(*db);
    *db = NULL;
    return false;
}

sqlite3 *store_db_open(const char *path, bool write, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    /* One thread per connection: no need for SQLite's per-call mutex. */
    int flags = (write ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) |
                SQLITE_OPEN_NOMUTEX;
    bool opened = !write && open_reader(path, &db);
    if (!opened && sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        if (!db)
            return fail(NULL, err, errlen, path, "cannot open (out of memory)");
        char what[128];
        snprintf(what, sizeof what, "cannot open%s", write ? " for writing" : "");
        return fail(db, err, errlen, path, what);
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
    /* SQLite quietly falls back to read-only when the OS refuses writes: we
     * want a clear error now, not a failed insert later. */
    if (write && sqlite3_db_readonly(db, "main") == 1) {
        sqlite3_close(db);
        return fail(NULL, err, errlen, path, "read-only: check file and folder permissions");
    }

    int64_t version = 0, tables = 0;
    if (!query_int(db, "PRAGMA user_version", &version) ||
        !query_int(db, "SELECT count(*) FROM sqlite_master", &tables))
        return fail(db, err, errlen, path, "not a readable SQLite store");
    if (version != STORE_SCHEMA_VERSION && !(version == 0 && tables == 0 && write)) {
        char what[160];
        if (version == 0 && tables == 0)
            snprintf(what, sizeof what, "empty file, not a sipsift store (run sipsift analyze first)");
        else if (version == 0)
            snprintf(what, sizeof what, "not a sipsift store (a database of another tool): use a new file");
        else
            snprintf(what, sizeof what,
                     "store schema version %lld, this sipsift reads version %d: use a new file",
                     (long long)version, STORE_SCHEMA_VERSION);
        sqlite3_close(db);
        snprintf(err, errlen, "%s: %s", path, what);
        return NULL;
    }
    if (!write)
        return db;

    /* WAL keeps committed batches across kill -9 and lets a report read while
     * analyze writes; NORMAL syncs at checkpoints only (DEPENDENCIES.md). The
     * cache and the rarer checkpoints matter with four indexes on
     * sip_messages: 1M rows went from 42k to ~90k rows/s. */
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit=%d;"
             " PRAGMA cache_size=-%d; PRAGMA wal_autocheckpoint=%d;",
             STORE_JOURNAL_LIMIT_BYTES, STORE_CACHE_KIB, STORE_CHECKPOINT_PAGES);
    if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
        return fail(db, err, errlen, path, "cannot set WAL mode");
    if (version == 0) {
        char sql[sizeof SCHEMA_SQL + 64];
        snprintf(sql, sizeof sql, "BEGIN;%sPRAGMA user_version=%d;COMMIT;", SCHEMA_SQL,
                 STORE_SCHEMA_VERSION);
        if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            /* The cause, before ROLLBACK's own message replaces it. */
            char what[256];
            int code = sqlite3_extended_errcode(db) & 0xff;
            snprintf(what, sizeof what, "cannot create the schema: %s%s", sqlite3_errmsg(db),
                     code == SQLITE_FULL ? ": free space there or give --db a file on another disk" : "");
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            sqlite3_close(db);
            snprintf(err, errlen, "%s: %s", path, what);
            return NULL;
        }
    }
    return db;
}
