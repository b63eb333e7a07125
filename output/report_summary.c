/*
 * report_summary.c - the terminal summary of one run, read from the store:
 * inputs, counts, top sources and user agents. Wire strings are printed only
 * through term_cell(): no control bytes reach the terminal, long values are
 * cut with "…", columns stay aligned.
 */
#include "output/report.h"
#include "output/report_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/timefmt.h"

#define TOP_N 10

/* Print s (n bytes) in a cell of `width` columns: UTF-8 kept, anything that
 * is not printable (invalid bytes, controls) shown as '?', cut with "…",
 * padded with spaces when pad. One code point counts as one column. */
static void term_cell(FILE *out, const char *s, size_t n, size_t width, bool pad)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t i = 0, cols = 0;
    if (!s)
        n = 0;
    while (i < n) {
        size_t len = 1;
        unsigned char c = p[i];
        bool ok = c >= 0x20 && c < 0x7f;
        if (c >= 0xc2 && c <= 0xf4) { /* lead byte: check the continuation bytes */
            len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
            ok = i + len <= n;
            for (size_t k = 1; ok && k < len; k++)
                ok = (p[i + k] & 0xc0) == 0x80;
            if (ok && c == 0xc2 && p[i + 1] < 0xa0) /* C1 controls */
                ok = false;
            if (!ok)
                len = 1;
        }
        if (cols + 1 == width && i + len < n) { /* room for one column, more to come */
            fputs("…", out);
            cols++;
            break;
        }
        if (ok)
            fwrite(p + i, 1, len, out);
        else
            fputc('?', out);
        cols++;
        i += len;
    }
    while (pad && cols++ < width)
        fputc(' ', out);
}

static void cell_col(FILE *out, sqlite3_stmt *st, int i, size_t width, bool pad)
{
    term_cell(out, (const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i),
              width, pad);
}

/* 1234567 -> "1,234,567" (locale-free, so scripts and tests see one form). */
static const char *count_str(int64_t v, char buf[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v < 0 ? 0 : v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
    return buf;
}

static void w_inputs(FILE *out, struct report *r)
{
    char c[32], t1[TIME_STRLEN], t2[TIME_STRLEN];
    sqlite3_stmt *st = rq_prepare(r, "SELECT file, packets, link_type, start_us, end_us FROM inputs"
                                     " WHERE run_id = ?1 ORDER BY idx");
    fprintf(out, "Inputs\n  %-32s %12s  %-10s  %-27s  %-27s  %s\n", "FILE", "PACKETS", "LINK",
            "FIRST FRAME", "LAST FRAME", "SPAN");
    while (rq_step(r, st)) {
        int64_t a = sqlite3_column_int64(st, 3), b = sqlite3_column_int64(st, 4);
        fputs("  ", out);
        cell_col(out, st, 0, 32, true);
        fprintf(out, " %12s  ", count_str(sqlite3_column_int64(st, 1), c));
        cell_col(out, st, 2, 10, true);
        fprintf(out, "  %-27s  %-27s  ", a ? time_format_us((uint64_t)a, t1, sizeof t1) : "-",
                b ? time_format_us((uint64_t)b, t2, sizeof t2) : "-");
        if (a && b >= a)
            fprintf(out, "%.1f s\n", (double)(b - a) / 1e6);
        else
            fputs("-\n", out);
    }
    sqlite3_finalize(st);
    /* Live runs: what the kernel says it could not hand over (docs/deploy.md). */
    st = rq_prepare(r, "SELECT json_extract(value, '$.interface'), json_extract(value, '$.ps_recv'),"
                       " json_extract(value, '$.ps_drop'), json_extract(value, '$.ps_ifdrop')"
                       " FROM runs, json_each(runs.capture_stats, '$.live') WHERE runs.id = ?1");
    int n = 0;
    while (rq_step(r, st)) {
        char c2[32], c3[32];
        if (n++ == 0)
            fprintf(out, "  %-32s %12s  %12s  %12s\n", "INTERFACE (kernel counters)", "RECEIVED",
                    "DROPPED", "IF DROPPED");
        fputs("  ", out);
        cell_col(out, st, 0, 32, true);
        fprintf(out, " %12s  %12s  %12s\n", count_str(sqlite3_column_int64(st, 1), c),
                count_str(sqlite3_column_int64(st, 2), c2), count_str(sqlite3_column_int64(st, 3), c3));
    }
    sqlite3_finalize(st);
}

/* "  label   count   k1 n1 · k2 n2 ..." from rows (key, count), at most 8. */
static void w_breakdown(FILE *out, struct report *r, const char *label, int64_t total,
                        const char *sql, const char *suffix)
{
    char c[32];
    sqlite3_stmt *st = rq_prepare(r, sql);
    fprintf(out, "  %-16s %12s ", label, count_str(total, c));
    int shown = 0, more = 0;
    while (rq_step(r, st)) {
        if (shown == 8) {
            more++;
            continue;
        }
        fputs(shown++ ? ", " : "  ", out);
        cell_col(out, st, 0, 24, false);
        fprintf(out, "%s %s", suffix, count_str(sqlite3_column_int64(st, 1), c));
    }
    if (more)
        fprintf(out, ", … %d more", more);
    fputc('\n', out);
    sqlite3_finalize(st);
}

static void w_counts(FILE *out, struct report *r)
{
    char c[32];
    int64_t msgs = rq_int(r, "SELECT count(*) FROM sip_messages WHERE run_id = ?1");
    int64_t reqs = rq_int(r, "SELECT count(*) FROM sip_messages WHERE run_id = ?1 AND is_request = 1");
    int64_t analyzed = rq_int(r, "SELECT coalesce(sip_messages, 0) FROM runs WHERE id = ?1");
    fprintf(out, "\nSIP\n  %-16s %12s\n", "messages", count_str(msgs, c));
    w_breakdown(out, r, "requests", reqs,
                "SELECT method, count(*) FROM sip_messages WHERE run_id = ?1 AND is_request = 1"
                " GROUP BY method ORDER BY 2 DESC, 1", "");
    w_breakdown(out, r, "responses", msgs - reqs,
                "SELECT status / 100, count(*) FROM sip_messages WHERE run_id = ?1"
                " AND is_request = 0 GROUP BY 1 ORDER BY 1", "xx");
    static const struct { const char *label, *sql; } rows[] = {
        { "malformed", "SELECT count(malformed) FROM sip_messages WHERE run_id = ?1" },
        { "Call-IDs", "SELECT count(DISTINCT nullif(call_id, '')) FROM sip_messages WHERE run_id = ?1" },
        { "calls", "SELECT count(DISTINCT call_id) FROM calls WHERE run_id = ?1" },
        { "registrations", "SELECT count(*) FROM registrations WHERE run_id = ?1" },
        { "auth attempts", "SELECT count(*) FROM auth_attempts WHERE run_id = ?1" },
        { "RTP streams", "SELECT count(*) FROM rtp_streams WHERE run_id = ?1" },
        { "alerts", "SELECT count(*) FROM alerts WHERE run_id = ?1" },
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
        fprintf(out, "  %-16s %12s\n", rows[k].label, count_str(rq_int(r, rows[k].sql), c));
    /* Said plainly when the store lost rows (disk full mid-run). */
    if (analyzed > msgs)
        fprintf(out, "  note: analyze saw %" PRId64 " SIP messages, the store holds %" PRId64 "\n",
                analyzed, msgs);
}

#define SUMMARY_SEV_RANK "CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3" \
                         " WHEN 'medium' THEN 2 WHEN 'low' THEN 1 ELSE 0 END"
#define ALERT_SEV_RANK SUMMARY_SEV_RANK

static void w_sources(FILE *out, struct report *r)
{
    char c[32];
    sqlite3_stmt *st = rq_prepare(r, "SELECT ip, sip_messages, severity, techniques,"
                                     " json_extract(user_agents, '$[0]') FROM sources"
                                     " WHERE run_id = ?1 ORDER BY sip_messages DESC, ip LIMIT 10");
    int n = 0;
    while (rq_step(r, st)) {
        if (n++ == 0)
            fprintf(out, "\nTop sources (by SIP messages)\n  %-39s %12s  %-8s  %-30s  %s\n", "SOURCE",
                    "MESSAGES", "SEVERITY", "TECHNIQUES", "USER AGENT");
        fputs("  ", out);
        cell_col(out, st, 0, 39, true);
        fprintf(out, " %12s  ", count_str(sqlite3_column_int64(st, 1), c));
        cell_col(out, st, 2, 8, true);
        fputs("  ", out);
        /* techniques is a JSON array of our own ids: show it without the brackets and quotes */
        char tech[128] = "";
        const unsigned char *t = sqlite3_column_text(st, 3);
        size_t o = 0;
        for (; t && *t && o < sizeof tech - 1; t++)
            if (*t != '[' && *t != ']' && *t != '"')
                tech[o++] = (char)*t;
        tech[o] = '\0';
        term_cell(out, tech, o, 30, true);
        fputs("  ", out);
        cell_col(out, st, 4, 40, false);
        fputc('\n', out);
    }
    sqlite3_finalize(st);
}

/* A JSON array of strings from the store as "a, b, c" (our own ids, or
 * attacker text that term_cell escapes). */
static void json_list_cell(FILE *out, sqlite3_stmt *st, int col, size_t width)
{
    char buf[256] = "";
    size_t o = 0;
    const unsigned char *t = sqlite3_column_text(st, col);
    for (; t && *t && o < sizeof buf - 2; t++) {
        if (*t == '[' || *t == ']' || *t == '"')
            continue;
        buf[o++] = (char)*t;
        if (*t == ',')
            buf[o++] = ' ';
    }
    buf[o] = '\0';
    term_cell(out, buf, o, width, width != 0);
}

/* Sources the detectors judged (low or more): worst first, with why. */
static void w_attackers(FILE *out, struct report *r)
{
    char c[32];
    sqlite3_stmt *st = rq_prepare(r, "SELECT ip, severity, sip_messages, tools, techniques, reasons,"
                                     " country FROM sources WHERE run_id = ?1 AND severity IN"
                                     " ('low','medium','high','critical') ORDER BY " SUMMARY_SEV_RANK
                                     " DESC, sip_messages DESC, ip LIMIT 10");
    int n = 0;
    while (rq_step(r, st)) {
        if (n++ == 0)
            fprintf(out, "\nAttackers (worst first)\n  %-39s %-8s  %12s  %-22s  %s\n", "SOURCE",
                    "SEVERITY", "MESSAGES", "TOOLS", "TECHNIQUES");
        fputs("  ", out);
        cell_col(out, st, 0, 39, true);
        fputc(' ', out);
        cell_col(out, st, 1, 8, true);
        fprintf(out, "  %12s  ", count_str(sqlite3_column_int64(st, 2), c));
        json_list_cell(out, st, 3, 22);
        fputs("  ", out);
        json_list_cell(out, st, 4, 0);
        fputc('\n', out);
        /* the reasons, one a line (they are short by construction) */
        sqlite3_stmt *rs = rq_prepare(r, "SELECT value FROM json_each(?2) LIMIT 6");
        if (rs) {
            sqlite3_bind_value(rs, 2, sqlite3_column_value(st, 5));
            while (rq_step(r, rs)) {
                fputs("      - ", out);
                cell_col(out, rs, 0, 110, false);
                fputc('\n', out);
            }
            sqlite3_finalize(rs);
        }
    }
    sqlite3_finalize(st);
}

/* Alerts by rule or detector: how often, how bad, from how many sources. */
static void w_alerts(FILE *out, struct report *r)
{
    char c[32];
    sqlite3_stmt *st = rq_prepare(r, "SELECT sid, count(*), max(" ALERT_SEV_RANK "), count(DISTINCT src_ip),"
                                     " msg FROM alerts WHERE run_id = ?1 GROUP BY sid"
                                     " ORDER BY 3 DESC, 2 DESC, sid LIMIT 20");
    static const char *const names[] = { "info", "low", "medium", "high", "critical" };
    int n = 0;
    while (rq_step(r, st)) {
        if (n++ == 0)
            fprintf(out, "\nAlerts\n  %12s  %-8s  %8s  %-8s  %s\n", "ALERTS", "SEVERITY", "SOURCES",
                    "SID", "MESSAGE");
        int sev = sqlite3_column_int(st, 2);
        fprintf(out, "  %12s  %-8s", count_str(sqlite3_column_int64(st, 1), c),
                names[sev >= 0 && sev < 5 ? sev : 0]);
        fprintf(out, "  %8s  %-8lld  ", count_str(sqlite3_column_int64(st, 3), c),
                (long long)sqlite3_column_int64(st, 0));
        cell_col(out, st, 4, 80, false);
        fputc('\n', out);
    }
    sqlite3_finalize(st);
}

static void w_user_agents(FILE *out, struct report *r)
{
    char c[32];
    sqlite3_stmt *st = rq_prepare(r, "SELECT user_agent, count(*) FROM sip_messages WHERE run_id = ?1"
                                     " AND user_agent IS NOT NULL GROUP BY user_agent"
                                     " ORDER BY 2 DESC, 1 LIMIT 10");
    int n = 0;
    while (rq_step(r, st)) {
        if (n++ == 0)
            fprintf(out, "\nTop user agents\n  %12s  %s\n", "MESSAGES", "USER AGENT / SERVER");
        fprintf(out, "  %12s  ", count_str(sqlite3_column_int64(st, 1), c));
        cell_col(out, st, 0, 80, false);
        fputc('\n', out);
    }
    sqlite3_finalize(st);
}

int report_summary(struct report *r, FILE *out, char *err, size_t errlen)
{
    char t1[TIME_STRLEN];
    sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL); /* one consistent view, as report_json */
    sqlite3_stmt *st = rq_prepare(r, "SELECT status, version, started_us FROM runs WHERE id = ?1");
    if (rq_step(r, st)) {
        fprintf(out, "sipsift run %" PRId64 " (", r->run_id);
        cell_col(out, st, 0, 16, false);
        fputs(", sipsift ", out);
        cell_col(out, st, 1, 16, false);
        int64_t started = sqlite3_column_int64(st, 2);
        fprintf(out, ", started %s) in ", started ? time_format_us((uint64_t)started, t1, sizeof t1) : "-");
        term_cell(out, r->path, strlen(r->path), 200, false);
        fputs("\n\n", out);
    }
    sqlite3_finalize(st);
    w_inputs(out, r);
    w_counts(out, r);
    w_attackers(out, r);
    w_alerts(out, r);
    w_sources(out, r);
    w_user_agents(out, r);
    sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
    errno = 0;
    if (!r->failed && (fflush(out) != 0 || ferror(out))) {
        snprintf(r->err, sizeof r->err, "writing the summary: %s", strerror(errno ? errno : EIO));
        r->failed = true;
    }
    if (r->failed) {
        snprintf(err, errlen, "%s", r->err);
        return -1;
    }
    return 0;
}
