/*
 * analyze.c - `sipsift analyze`: parse options, check every input before
 * starting, run the frames of each input through the engine, then close the
 * sinks, write the JSON report and print the summary. SIGINT/SIGTERM stop
 * reading; what was seen is committed and reported (status "interrupted").
 * Live capture (-i) has its own loop in main/live.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "capture/input.h"
#include "main/cli.h"
#include "main/detect_setup.h"
#include "main/engine.h"
#include "main/live.h"
#include "main/outputs.h"
#include "main/privs.h"

#define MAX_INPUTS 256

struct analyze_opts {
    const char *reads[MAX_INPUTS];
    unsigned n_reads;
    const char *ifaces[LIVE_MAX_IFACES];
    unsigned n_ifaces;
    struct live_cfg cap;
    unsigned report_interval_sec;
    bool have_user;
    struct priv_user user;
    const char *live_opt; /* a live-only option given (for the error with -r) */
    const char *db;
    const char *report;
    const char *eve;
    char bpf[4096];
    int verbosity; /* -1 quiet, 0 normal, 1+ verbose */
    struct engine_cfg eng;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

enum {
    OPT_DUMP_CALLS = 256, OPT_WORDLIST, OPT_GEOIP, OPT_SNAPLEN, OPT_BUFFER, OPT_IMMEDIATE,
    OPT_REPORT_INTERVAL, OPT_SHOW_PASSWORDS
};

/* A whole decimal number in [lo, hi], or -1 after a one-line error. */
static long num_opt(const char *opt, const char *v, long lo, long hi, const char *unit)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        fprintf(stderr, "sipsift: %s %s: give a whole number of %s from %ld to %ld\n", opt, v,
                unit, lo, hi);
        return -1;
    }
    return n;
}

static int parse_opts(int argc, char **argv, struct analyze_opts *o)
{
    static const struct option longopts[] = {
        { "read", required_argument, 0, 'r' },   { "db", required_argument, 0, 'd' },
        { "report", required_argument, 0, 'o' }, { "eve", required_argument, 0, 'e' },
        { "interface", required_argument, 0, 'i' }, { "quiet", no_argument, 0, 'q' },
        { "verbose", no_argument, 0, 'v' },      { "help", no_argument, 0, 'h' },
        { "rules", required_argument, 0, 'R' },  { "config", required_argument, 0, 'c' },
        { "dump-calls", required_argument, 0, OPT_DUMP_CALLS },
        { "wordlist", required_argument, 0, OPT_WORDLIST },
        { "geoip", required_argument, 0, OPT_GEOIP },
        { "show-passwords", no_argument, 0, OPT_SHOW_PASSWORDS },
        { "user", required_argument, 0, 'Z' },
        { "snaplen", required_argument, 0, OPT_SNAPLEN },
        { "buffer-size", required_argument, 0, OPT_BUFFER },
        { "immediate", no_argument, 0, OPT_IMMEDIATE },
        { "report-interval", required_argument, 0, OPT_REPORT_INTERVAL },
        { 0, 0, 0, 0 },
    };
    memset(o, 0, sizeof *o);
    o->db = "sipsift.db";
    o->cap = (struct live_cfg){ LIVE_DEFAULT_SNAPLEN, LIVE_DEFAULT_BUFFER_MIB, false };
    o->report_interval_sec = LIVE_DEFAULT_REPORT_SEC;
    long num;
    optind = 1;
    opterr = 0; /* our own one-line messages, not getopt's */
    int c;
    while ((c = getopt_long(argc, argv, "+:r:d:o:e:i:R:c:Z:qvh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o->n_reads == MAX_INPUTS) {
                fprintf(stderr, "sipsift: -r: more than %d inputs: merge them with mergecap\n", MAX_INPUTS);
                return -1;
            }
            o->reads[o->n_reads++] = optarg;
            break;
        case 'd': o->db = optarg; break;
        case 'o': o->report = optarg; break;
        case 'e': o->eve = optarg; break;
        case 'i':
            if (o->n_ifaces == LIVE_MAX_IFACES) {
                fprintf(stderr, "sipsift: -i: more than %d interfaces: run another sipsift\n",
                        LIVE_MAX_IFACES);
                return -1;
            }
            for (unsigned k = 0; k < o->n_ifaces; k++)
                if (strcmp(o->ifaces[k], optarg) == 0) {
                    fprintf(stderr, "sipsift: -i %s: given twice: name each interface once\n",
                            optarg);
                    return -1;
                }
            o->ifaces[o->n_ifaces++] = optarg;
            break;
        case 'Z': {
            char err[256];
            if (priv_lookup(optarg, &o->user, err, sizeof err) < 0) {
                fprintf(stderr, "sipsift: %s\n", err);
                return -1;
            }
            o->have_user = true;
            break;
        }
        case OPT_SNAPLEN:
            o->live_opt = "--snaplen";
            if ((num = num_opt("--snaplen", optarg, LIVE_MIN_SNAPLEN, LIVE_MAX_SNAPLEN, "bytes")) < 0)
                return -1;
            o->cap.snaplen = (int)num;
            break;
        case OPT_BUFFER:
            o->live_opt = "--buffer-size";
            if ((num = num_opt("--buffer-size", optarg, 1, LIVE_MAX_BUFFER_MIB, "MiB")) < 0)
                return -1;
            o->cap.buffer_mib = (int)num;
            break;
        case OPT_IMMEDIATE:
            o->live_opt = "--immediate";
            o->cap.immediate = true;
            break;
        case OPT_REPORT_INTERVAL:
            o->live_opt = "--report-interval";
            if ((num = num_opt("--report-interval", optarg, 0, 86400, "seconds")) < 0)
                return -1;
            o->report_interval_sec = (unsigned)num;
            break;
        case 'R': o->eng.rules_path = optarg; break;
        case 'c': o->eng.config_path = optarg; break;
        case OPT_DUMP_CALLS: o->eng.dump_calls_dir = optarg; break;
        case OPT_WORDLIST: o->eng.wordlist_path = optarg; break;
        case OPT_GEOIP: o->eng.geoip_path = optarg; break;
        case OPT_SHOW_PASSWORDS: o->eng.show_passwords = true; break;
        case 'q': o->verbosity = -1; break;
        case 'v': o->verbosity++; break;
        case 'h':
            printf("usage: sipsift analyze -r FILE [-r FILE...] [--db FILE] [--report FILE] "
                   "[--eve FILE]\n"
                   "                       [-R RULES] [-c CONFIG] [--wordlist FILE] [--geoip FILE]\n"
                   "                       [--show-passwords] [--dump-calls DIR] [-q|-v] [BPF filter]\n"
                   "       sipsift analyze -i IFACE [-i IFACE...] [-Z USER] [--snaplen N]\n"
                   "                       [--buffer-size MiB] [--immediate] [--report-interval SEC]\n"
                   "                       [--db FILE] [--report FILE] [--eve FILE] [-q|-v] [BPF filter]\n");
            exit(0);
        case ':':
            fprintf(stderr, "sipsift: analyze: %s needs a value: see 'sipsift help'\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "sipsift: analyze: bad option '%s': see 'sipsift help'\n", argv[optind - 1]);
            return -1;
        }
    }
    if (o->n_reads && o->n_ifaces) {
        fprintf(stderr, "sipsift: analyze: -r and -i together: analyse files (-r) or capture "
                        "live (-i), not both in one run\n");
        return -1;
    }
    if (o->n_reads && o->live_opt) {
        fprintf(stderr, "sipsift: analyze: %s is for live capture (-i), not for files (-r)\n",
                o->live_opt);
        return -1;
    }
    if (o->n_reads == 0 && o->n_ifaces == 0) {
        fprintf(stderr, "sipsift: analyze: no input: give a capture file with -r FILE or an "
                        "interface with -i IFACE\n");
        return -1;
    }
    size_t len = 0;
    for (int i = optind; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (len + n + 2 > sizeof o->bpf) {
            fprintf(stderr, "sipsift: BPF filter: longer than %zu bytes\n", sizeof o->bpf - 1);
            return -1;
        }
        if (len)
            o->bpf[len++] = ' ';
        memcpy(o->bpf + len, argv[i], n);
        len += n;
        o->bpf[len] = '\0';
    }
    unsigned stdin_uses = 0;
    for (unsigned i = 0; i < o->n_reads; i++)
        stdin_uses += strcmp(o->reads[i], "-") == 0;
    if (stdin_uses > 1) {
        fprintf(stderr, "sipsift: -r -: standard input can be read only once\n");
        return -1;
    }
    return 0;
}

static char *join_argv(int argc, char **argv)
{
    size_t n = 8;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) + 1;
    char *s = malloc(n + 8);
    if (!s)
        return NULL;
    strcpy(s, "sipsift");
    for (int i = 0; i < argc; i++) {
        strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

/* Progress on stderr, only for a terminal: packets, MB, % of the input. */
static void show_progress(const struct input *in, const char *path, uint64_t frames, bool final)
{
    uint64_t done, total;
    input_progress(in, &done, &total);
    if (total)
        fprintf(stderr, "\r%s: %llu packets, %.1f MB, %3.0f%%%s", path, (unsigned long long)frames,
                done / 1e6, 100.0 * (double)done / (double)total, final ? "\n" : "");
    else
        fprintf(stderr, "\r%s: %llu packets, %.1f MB%s", path, (unsigned long long)frames,
                done / 1e6, final ? "\n" : "");
}

int cmd_analyze(int argc, char **argv)
{
    /* First thing: a stop asked for during start-up still ends in a clean,
     * committed run (status "interrupted"), never a half-written store. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct analyze_opts o;
    if (parse_opts(argc, argv, &o) < 0)
        return SIPSIFT_EXIT_USAGE;

    /* Rules and config first: a bad rule is a usage error before any work. */
    int setup_rc = detect_setup(&o.eng);
    if (setup_rc)
        return setup_rc;
    if (o.n_ifaces) {
        char *cmd = join_argv(argc, argv);
        struct live_opts lo = {
            .n_ifaces = o.n_ifaces,
            .bpf = o.bpf,
            .db = o.db,
            .report = o.report,
            .eve = o.eve,
            .user = o.have_user ? &o.user : NULL,
            .cap = o.cap,
            .report_interval_sec = o.report_interval_sec,
            .verbosity = o.verbosity,
            .eng = o.eng,
            .command_line = cmd ? cmd : "sipsift analyze",
        };
        lo.eng.verbosity = o.verbosity;
        memcpy(lo.ifaces, o.ifaces, sizeof lo.ifaces);
        int rc = live_run(&lo, &stop_requested);
        free(cmd);
        return rc;
    }

    char err[512];
    /* Open every input before starting, so a typo in the third -r costs nothing. */
    struct input *inputs[MAX_INPUTS] = { 0 };
    for (unsigned i = 0; i < o.n_reads; i++) {
        inputs[i] = input_open(o.reads[i], o.bpf, err, sizeof err);
        if (!inputs[i]) {
            fprintf(stderr, "sipsift: %s: %s\n", o.reads[i], err);
            for (unsigned j = 0; j < i; j++)
                input_close(inputs[j]);
            detect_setup_free(&o.eng);
            return strstr(err, "filter") ? SIPSIFT_EXIT_USAGE : SIPSIFT_EXIT_RUNTIME;
        }
    }

    /* -Z with files: read them as root if need be, write everything as the user. */
    if (o.have_user && priv_drop(&o.user, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        for (unsigned i = 0; i < o.n_reads; i++)
            input_close(inputs[i]);
        return SIPSIFT_EXIT_RUNTIME;
    }
    struct outputs out;
    if (outputs_open(&out, o.db, o.eve, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        for (unsigned i = 0; i < o.n_reads; i++)
            input_close(inputs[i]);
        detect_setup_free(&o.eng);
        return SIPSIFT_EXIT_RUNTIME;
    }
    o.eng.verbosity = o.verbosity;
    struct engine *eng = engine_new(out.sinks, out.n_sinks, &o.eng, err, sizeof err);
    if (!eng) {
        fprintf(stderr, "sipsift: %s\n", err);
        outputs_close(&out);
        for (unsigned i = 0; i < o.n_reads; i++)
            input_close(inputs[i]);
        return SIPSIFT_EXIT_RUNTIME;
    }

    struct run_input rin[MAX_INPUTS];
    memset(rin, 0, sizeof rin);
    char *cmdline = join_argv(argc, argv);
    struct run_info run = {
        .version = SIPSIFT_VERSION,
        .command_line = cmdline ? cmdline : "sipsift analyze",
        .started_wall_us = wall_us(),
        .inputs = rin,
        .n_inputs = o.n_reads,
        .capture = engine_capture_stats(eng),
        .status = "running",
    };
    for (unsigned i = 0; i < o.n_reads; i++) {
        rin[i].file = o.reads[i];
        rin[i].link_type = input_link_name(inputs[i]);
    }
    outputs_run_start(&out, &run);

    int rc = SIPSIFT_EXIT_OK;
    bool tty = isatty(STDERR_FILENO) && o.verbosity >= 0;
    for (unsigned i = 0; i < o.n_reads && !stop_requested; i++) {
        struct frame f;
        uint64_t last_shown = wall_us();
        int r = 0;
        while (!stop_requested && (r = input_next(inputs[i], &f, err, sizeof err)) == 1) {
            if (!rin[i].start_us)
                rin[i].start_us = f.ts_us;
            rin[i].end_us = f.ts_us;
            rin[i].packets++;
            rin[i].bytes += f.len;
            engine_frame(eng, &f, i);
            if (tty && (rin[i].packets & 0xfff) == 0) {
                uint64_t now = wall_us();
                if (now - last_shown > 500000) {
                    show_progress(inputs[i], o.reads[i], rin[i].packets, false);
                    last_shown = now;
                }
            }
        }
        if (tty && rin[i].packets > 0xfff)
            show_progress(inputs[i], o.reads[i], rin[i].packets, true);
        if (!stop_requested && r < 0) {
            /* Everything before the damage is kept; the run goes on with the next file. */
            fprintf(stderr, "sipsift: %s: %s\n", o.reads[i], err);
            rc = SIPSIFT_EXIT_RUNTIME;
        }
    }
    engine_finish(eng);

    const struct engine_counters *cnt = engine_counters(eng);
    char limits[4096];
    if (engine_limits_json(eng, limits, sizeof limits) < 0)
        snprintf(limits, sizeof limits, "{}");
    run.limits_json = limits;
    run.sip_messages = cnt->sip_messages;
    run.sip_malformed = cnt->sip_malformed;
    run.rtp_packets = cnt->rtp_packets;
    run.finished_wall_us = wall_us();
    run.status = stop_requested ? "interrupted" : (rc ? "error" : "finished");
    if (outputs_run_end(&out, &run, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
    }
    int64_t run_id = outputs_run_id(&out);
    engine_free(eng);
    outputs_close(&out);
    for (unsigned i = 0; i < o.n_reads; i++)
        input_close(inputs[i]);
    free(cmdline);

    if (o.report && outputs_write_report(o.db, run_id, o.report, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
    }
    if (o.verbosity >= 0 && outputs_print_summary(o.db, run_id, stdout, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
    }
    return rc;
}
