/*
 * live.c - the live capture loop of `sipsift analyze -i`: open every
 * interface (as root), drop privileges (-Z), open the outputs as that user,
 * then poll the interfaces' descriptors with our own wall-clock timers:
 * engine tick (expiry, commits) even on a quiet link, totals checkpoint,
 * report refresh, kernel drop counters. Signals only set flags; the work is
 * done here, between reads. Frames' capture time still drives the analysis.
 */
#include "main/live.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "main/cli.h"
#include "main/detect_setup.h"
#include "main/outputs.h"

#define LIVE_TICK_MS        200   /* engine tick: the store commits when a second has passed */
#define LIVE_STATS_MS       1000  /* pcap_stats sampled (wrap-safe widening needs < 1 h) */
#define LIVE_CHECKPOINT_MS  10000 /* runs/inputs totals written */
#define LIVE_PRINT_MS       10000 /* -v: counters on stderr */
#define LIVE_BURST          4096  /* frames read from one interface before looking at the others */

static volatile sig_atomic_t hup_requested, usr1_requested;

static void on_hup(int sig)
{
    (void)sig;
    hup_requested = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    usr1_requested = 1;
}

static uint64_t clock_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

extern char **environ;

struct live_state {
    const struct live_opts *o;
    bool engine_tried; /* engine_new was called: it owns the detection inputs */
    const sigset_t *waitmask;  /* the signal mask outside our critical sections */
    pid_t report_pid;          /* `sipsift report` writing the periodic report, or 0 */
    char report_tmp[4096];     /* where it writes; renamed over --report when it succeeds */
    struct live *cap[LIVE_MAX_IFACES];
    struct run_input rin[LIVE_MAX_IFACES];
    struct outputs out;
    struct engine *eng;
    struct run_info run;
    char limits[4096];
};

static void update_totals(struct live_state *s)
{
    for (unsigned i = 0; i < s->o->n_ifaces; i++) {
        const struct live_stats *ks = live_stats(s->cap[i]);
        s->rin[i].ps_recv = ks->recv;
        s->rin[i].ps_drop = ks->drop;
        s->rin[i].ps_ifdrop = ks->ifdrop;
    }
    const struct engine_counters *cnt = engine_counters(s->eng);
    s->run.sip_messages = cnt->sip_messages;
    s->run.sip_malformed = cnt->sip_malformed;
    if (engine_limits_json(s->eng, s->limits, sizeof s->limits) < 0 ||
        strlen(s->limits) + 1 >= sizeof s->limits)
        snprintf(s->limits, sizeof s->limits, "{}");
    s->run.limits_json = s->limits;
}

static void print_counters(const struct live_state *s)
{
    for (unsigned i = 0; i < s->o->n_ifaces; i++)
        fprintf(stderr,
                "sipsift: %s: %llu packets; kernel: %llu received, %llu dropped (ring full), "
                "%llu dropped by the interface\n",
                s->o->ifaces[i], (unsigned long long)s->rin[i].packets,
                (unsigned long long)s->rin[i].ps_recv, (unsigned long long)s->rin[i].ps_drop,
                (unsigned long long)s->rin[i].ps_ifdrop);
}

/* Collect the report writer if it has ended (wait: block until it has) and
 * put its report in place when it succeeded. */
static void report_reap(struct live_state *s, bool wait)
{
    if (!s->report_pid)
        return;
    int st;
    pid_t r = waitpid(s->report_pid, &st, wait ? 0 : WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return;
    s->report_pid = 0;
    if (r > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        if (rename(s->report_tmp, s->o->report) == 0)
            return;
        fprintf(stderr, "sipsift: %s: cannot rename into place: %s\n", s->o->report,
                strerror(errno));
    } /* else the writer printed its own one-line reason */
    unlink(s->report_tmp);
}

/*
 * The periodic report is read from the store, which takes seconds once it
 * holds millions of messages: done here it would stall the capture and the
 * ring would overflow. A child process (this binary, `report --json`, a
 * fresh SQLite connection after exec) writes it while the loop goes on.
 * Returns false when no child could be started (the caller writes it itself).
 */
static bool report_spawn(struct live_state *s)
{
    if (s->report_pid)
        return true; /* the previous one is still writing: this refresh is folded into it */
    char run[32];
    snprintf(run, sizeof run, "%" PRId64, outputs_run_id(&s->out));
    if ((size_t)snprintf(s->report_tmp, sizeof s->report_tmp, "%s.live.%ld", s->o->report,
                         (long)getpid()) >= sizeof s->report_tmp)
        return false;
    int fd = open(s->report_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigmask(&at, s->waitmask);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    char *argv[] = { "sipsift", "report", "--db", (char *)s->o->db, "--run", run, "--json", NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fd);
    if (rc != 0) {
        unlink(s->report_tmp);
        return false;
    }
    s->report_pid = pid;
    return true;
}

/* Sources re-emitted with their totals, totals committed, report rewritten. */
static int refresh(struct live_state *s, char *err, size_t errlen)
{
    engine_refresh_sources(s->eng);
    update_totals(s);
    if (outputs_checkpoint(&s->out, &s->run, err, errlen) < 0)
        return -1;
    if (s->o->report && !report_spawn(s) &&
        outputs_write_report(s->o->db, outputs_run_id(&s->out), s->o->report, err, errlen) < 0)
        fprintf(stderr, "sipsift: %s\n", err); /* the capture goes on; next refresh retries */
    return 0;
}

/* Open every interface; on failure print why and return the exit status. */
static int open_interfaces(struct live_state *s)
{
    const struct live_opts *o = s->o;
    char err[512];
    for (unsigned i = 0; i < o->n_ifaces; i++) {
        s->cap[i] = live_open(o->ifaces[i], o->bpf, &o->cap, err, sizeof err);
        if (!s->cap[i]) {
            fprintf(stderr, "sipsift: %s: %s\n", o->ifaces[i], err);
            return strstr(err, "filter") ? SIPSIFT_EXIT_USAGE : SIPSIFT_EXIT_RUNTIME;
        }
        if (live_warning(s->cap[i]) && o->verbosity >= 0)
            fprintf(stderr, "sipsift: %s: warning: %s\n", o->ifaces[i], live_warning(s->cap[i]));
    }
    return 0;
}

/* Read what is waiting on interface i, at most LIVE_BURST frames.
 * 1 = more may be waiting, 0 = drained, -1 = capture failed. */
static int drain(struct live_state *s, unsigned i, char *err, size_t errlen)
{
    struct run_input *in = &s->rin[i];
    for (unsigned n = 0; n < LIVE_BURST; n++) {
        struct frame f;
        int r = live_next(s->cap[i], &f, err, errlen);
        if (r <= 0)
            return r;
        if (!in->start_us)
            in->start_us = f.ts_us;
        in->end_us = f.ts_us;
        in->packets++;
        in->bytes += f.len;
        engine_frame(s->eng, &f, i);
    }
    return 1;
}

static int64_t until(uint64_t deadline, uint64_t now)
{
    return deadline > now ? (int64_t)(deadline - now) : 0;
}

/* The loop proper: returns 0 when stopped by signal, 1 on a capture or store failure. */
static int loop(struct live_state *s, volatile sig_atomic_t *stop, const sigset_t *waitmask)
{
    const struct live_opts *o = s->o;
    struct pollfd pfd[LIVE_MAX_IFACES];
    for (unsigned i = 0; i < o->n_ifaces; i++)
        pfd[i] = (struct pollfd){ .fd = live_fd(s->cap[i]), .events = POLLIN };
    uint64_t now = clock_us(CLOCK_MONOTONIC);
    uint64_t next_tick = now + LIVE_TICK_MS * 1000u, next_stats = now + LIVE_STATS_MS * 1000u;
    uint64_t next_ckpt = now + LIVE_CHECKPOINT_MS * 1000u, next_print = now + LIVE_PRINT_MS * 1000u;
    uint64_t report_us = (uint64_t)o->report_interval_sec * 1000000u;
    uint64_t next_report = report_us ? now + report_us : UINT64_MAX;
    bool more = false;
    char err[512];
    int rc = 0;
    while (!*stop) {
        int64_t wait = more ? 0 : until(next_tick, now);
        struct timespec ts = { wait / 1000000, (long)(wait % 1000000) * 1000 };
        /* Signals are blocked except inside ppoll: a flag set by a handler
         * is always seen right here, never lost between check and sleep. */
        int n = ppoll(pfd, o->n_ifaces, &ts, waitmask);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "sipsift: poll: %s\n", strerror(errno));
            rc = SIPSIFT_EXIT_RUNTIME;
            break;
        }
        if (*stop)
            break;
        more = false;
        for (unsigned i = 0; i < o->n_ifaces; i++) {
            /* Read even without POLLIN: the ring may hold a retired block
             * whose wake-up we consumed earlier; reading an empty ring is cheap. */
            int r = drain(s, i, err, sizeof err);
            if (r < 0) {
                fprintf(stderr, "sipsift: %s: %s\n", o->ifaces[i], err);
                return SIPSIFT_EXIT_RUNTIME;
            }
            more |= r > 0;
        }
        now = clock_us(CLOCK_MONOTONIC);
        if (now >= next_tick) {
            /* In live capture the kernel stamps frames with the real-time
             * clock, so a quiet second of wall time is a second of capture time. */
            engine_tick(s->eng, clock_us(CLOCK_REALTIME));
            next_tick = now + LIVE_TICK_MS * 1000u;
        }
        if (now >= next_stats) {
            for (unsigned i = 0; i < o->n_ifaces; i++)
                live_stats(s->cap[i]);
            next_stats = now + LIVE_STATS_MS * 1000u;
        }
        report_reap(s, false);
        if (hup_requested) {
            hup_requested = 0;
            if (outputs_reopen_eve(&s->out, err, sizeof err) < 0)
                fprintf(stderr, "sipsift: %s (events are dropped until the next SIGHUP)\n", err);
        }
        if (usr1_requested || now >= next_report) {
            usr1_requested = 0;
            if (refresh(s, err, sizeof err) < 0)
                return SIPSIFT_EXIT_RUNTIME; /* run_end says why, once */
            next_report = report_us ? now + report_us : UINT64_MAX;
            next_ckpt = now + LIVE_CHECKPOINT_MS * 1000u;
        } else if (now >= next_ckpt) {
            update_totals(s);
            if (outputs_checkpoint(&s->out, &s->run, err, sizeof err) < 0)
                return SIPSIFT_EXIT_RUNTIME;
            next_ckpt = now + LIVE_CHECKPOINT_MS * 1000u;
        }
        if (o->verbosity > 0 && now >= next_print) {
            update_totals(s);
            print_counters(s);
            next_print = now + LIVE_PRINT_MS * 1000u;
        }
    }
    return rc;
}

static void install(int sig, void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sigaction(sig, &sa, NULL);
}

int live_run(const struct live_opts *o, volatile sig_atomic_t *stop)
{
    install(SIGHUP, on_hup);
    install(SIGUSR1, on_usr1);
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGHUP);
    sigdelset(&waitmask, SIGUSR1);

    struct live_state *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "sipsift: out of memory\n");
        struct engine_cfg unused = o->eng;
        detect_setup_free(&unused);
        return SIPSIFT_EXIT_RUNTIME;
    }
    s->o = o;
    s->waitmask = &waitmask;
    char err[512];
    int rc = open_interfaces(s);
    if (rc)
        goto close_caps;
    /* Root was needed for the interfaces only: everything written from here
     * on (store, its -wal/-shm, EVE, report) is created by the -Z user. */
    if (o->user && priv_drop(o->user, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
        goto close_caps;
    }
    if (outputs_open(&s->out, o->db, o->eve, err, sizeof err) < 0) {
        if (o->user)
            fprintf(stderr, "sipsift: %s (opened as user %s: give it write access there)\n", err,
                    o->user->name);
        else
            fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
        goto close_caps;
    }
    s->engine_tried = true;
    s->eng = engine_new(s->out.sinks, s->out.n_sinks, &o->eng, err, sizeof err);
    if (!s->eng) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
        goto close_outputs;
    }
    for (unsigned i = 0; i < o->n_ifaces; i++) {
        s->rin[i].file = o->ifaces[i];
        s->rin[i].link_type = live_link_name(s->cap[i]);
        s->rin[i].live = true;
    }
    s->run = (struct run_info){
        .version = SIPSIFT_VERSION,
        .command_line = o->command_line,
        .started_wall_us = clock_us(CLOCK_REALTIME),
        .inputs = s->rin,
        .n_inputs = o->n_ifaces,
        .capture = engine_capture_stats(s->eng),
        .status = "running",
    };
    outputs_run_start(&s->out, &s->run);
    if (o->verbosity >= 0)
        for (unsigned i = 0; i < o->n_ifaces; i++)
            fprintf(stderr, "sipsift: listening on %s (%s, snaplen %d, buffer %d MiB%s)\n",
                    o->ifaces[i], live_link_name(s->cap[i]), o->cap.snaplen, o->cap.buffer_mib,
                    o->cap.immediate ? ", immediate" : "");

    rc = loop(s, stop, &waitmask);
    report_reap(s, true); /* an older report must not land over the final one */

    update_totals(s);
    if (o->verbosity > 0)
        print_counters(s);
    engine_finish(s->eng);
    update_totals(s); /* finish emitted the open calls and sources */
    s->run.finished_wall_us = clock_us(CLOCK_REALTIME);
    /* Stopping by signal is how a live capture ends: a finished run. */
    s->run.status = rc ? "error" : "finished";
    if (outputs_run_end(&s->out, &s->run, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
    }
    int64_t run_id = outputs_run_id(&s->out);
    engine_free(s->eng);
    outputs_close(&s->out);
    for (unsigned i = 0; i < o->n_ifaces; i++)
        live_close(s->cap[i]);
    free(s);
    if (o->report && outputs_write_report(o->db, run_id, o->report, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
    }
    if (o->verbosity >= 0 && outputs_print_summary(o->db, run_id, stdout, err, sizeof err) < 0) {
        fprintf(stderr, "sipsift: %s\n", err);
        rc = SIPSIFT_EXIT_RUNTIME;
    }
    return rc;

close_outputs:
    outputs_close(&s->out);
close_caps:
    if (!s->eng) {
        /* engine_new takes the rules, wordlist and GeoIP database even when
         * it fails; before it was called they are still ours to free. */
        struct engine_cfg unused = o->eng;
        if (!s->engine_tried)
            detect_setup_free(&unused);
    }
    for (unsigned i = 0; i < o->n_ifaces; i++)
        live_close(s->cap[i]);
    free(s);
    return rc;
}
