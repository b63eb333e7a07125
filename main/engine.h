/*
 * engine.h - the pipeline of one run: capture (decode, reassembly) feeds the
 * SIP dissector, whose messages feed the state, which emits events to the
 * sinks. The engine owns every stage and is the l4_handler capture calls.
 * It does no I/O of its own but --dump-calls (output/dump.c): analyze.c
 * opens inputs and sinks.
 */
#ifndef SIPSIFT_ENGINE_H
#define SIPSIFT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "capture/input.h"
#include "output/sink.h"
#include "rules/detect.h"

#define ENGINE_MAX_SINKS 4

struct engine_counters {
    uint64_t sip_messages;   /* every SIP message (retransmissions included) */
    uint64_t sip_malformed;
    uint64_t sip_dgram_trailing; /* datagrams with bytes after the last message */
    uint64_t hep_messages;
    uint64_t tcp_ignored;    /* TCP directions that were not SIP */
    uint64_t tcp_waits;      /* TCP deliveries not parsed: the awaited bytes were not there yet */
    uint64_t rtp_packets;    /* RTP packets counted in streams (media_stats) */
};

/* What the command line asks of the stages; every path may be NULL. */
struct engine_cfg {
    const char *rules_path;     /* -R: rule file or folder (NULL: the bundled rules) */
    const char *config_path;    /* -c: detector thresholds and options */
    const char *wordlist_path;  /* --wordlist: passwords to try on digest responses */
    const char *geoip_path;     /* --geoip: MaxMind .mmdb */
    const char *dump_calls_dir; /* --dump-calls: a pcap per call, a WAV per G.711 stream */
    int verbosity;              /* -1 quiet, 0 normal, 1+ verbose */
    bool show_passwords;        /* --show-passwords: store recovered passwords unredacted */
    /* Loaded by main/detect_setup.c: */
    const struct detect_cfg *detect; /* NULL: defaults */
    struct ruleset *rules;      /* given to the engine by engine_new (even on failure); NULL: none */
    struct wordlist *wordlist;  /* --wordlist, given to the engine likewise; NULL: none */
    struct geoip *geoip;        /* --geoip, given to the engine likewise; NULL: none */
};

struct engine;

/*
 * sinks are borrowed: the caller frees them after engine_free. cfg (may be
 * NULL) is read during the call only. On failure: NULL and a one-line reason
 * in err ("<thing>: <why>").
 */
struct engine *engine_new(const struct sink *sinks, unsigned n_sinks, const struct engine_cfg *cfg,
                          char *err, size_t errlen);
/* One frame of input `input`. */
void engine_frame(struct engine *e, const struct frame *f, uint32_t input);
/* End of all input: flush reassembly and state (emits calls, sources...). */
void engine_finish(struct engine *e);
/*
 * Live capture only: the capture clock reached now_us without a frame (a
 * quiet link). Expire what is idle and let the sinks commit, as a frame a
 * second later would. Offline runs never call it: their clock is the frames'.
 */
void engine_tick(struct engine *e, uint64_t now_us);
/* Live capture: emit every source profile with its totals so far, keeping
 * them, so a report refreshed from the store is current. */
void engine_refresh_sources(struct engine *e);
const struct capture_stats *engine_capture_stats(const struct engine *e);
const struct engine_counters *engine_counters(const struct engine *e);
/* {"transactions":{...},...} describing table pressure. */
int engine_limits_json(const struct engine *e, char *buf, size_t n);
const struct detect_stats *engine_detect_stats(const struct engine *e);
void engine_free(struct engine *e);

#endif
