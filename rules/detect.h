/*
 * detect.h - the detection stage: after the state has taken a SIP message
 * (or settled an outcome), run the rules and the behaviour detectors (sweep,
 * enumeration, bruteforce, flood, tollfraud, teardown_spoof, hijack,
 * malformed; ATTACKS.md), decode tool fingerprints that carry data, emit
 * ev_alert to the sinks, and write tools, techniques, numbers, recovered
 * passwords and reasons into the source profiles, whose severity follows
 * (rules/profile.h). It listens to the state through struct st_observer.
 */
#ifndef SIPSIFT_DETECT_H
#define SIPSIFT_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect/state.h"
#include "output/sink.h"
#include "rules/detect_cfg.h"
#include "rules/ruleset.h"

#define DETECT_MAX_SOURCES   65536  /* per-source detector state (LRU) */
#define DETECT_MAX_PAIRS     262144 /* per (source, target/user) counters and seen-sets (LRU) */
#define DETECT_MAX_BINDINGS  65536  /* AOR -> last registered Contact (hijack) */
#define DETECT_MAX_GUESSES   65536  /* passwords read from tool tags, by response */
#define DETECT_IDLE_SEC      3600   /* detector state idle this long is forgotten */
#define DETECT_MAX_HITS      16     /* rule hits kept per message */

/* Detector alert ids (sid), docs/detection.md. */
enum {
    DET_SID_SWEEP = 3100001,
    DET_SID_ENUMERATION,
    DET_SID_BRUTEFORCE,
    DET_SID_BRUTEFORCE_SUCCESS,
    DET_SID_BRUTEFORCE_SLOW,
    DET_SID_FLOOD_SOURCE,
    DET_SID_FLOOD_TARGET,
    DET_SID_TOLLFRAUD_RISK,
    DET_SID_TOLLFRAUD_MANY,
    DET_SID_TEARDOWN_SPOOF,
    DET_SID_TEARDOWN_UNKNOWN,
    DET_SID_HIJACK,
    DET_SID_MALFORMED,
    DET_SID_EYEBEAM_FAKE,
};

struct detect_stats {
    uint64_t alerts;          /* ev_alert emitted */
    uint64_t rule_alerts;     /* of which from rules */
    uint64_t passwords;       /* passwords read or recovered */
};

struct detect;

/*
 * rs (may be NULL: no rules) becomes the stage's; sinks are borrowed and
 * copied like the state's. NULL with a reason on failure.
 */
struct detect *detect_new(const struct detect_cfg *cfg, struct ruleset *rs, const struct sink *sinks,
                          unsigned n_sinks, char *err, size_t errlen);
/* The observer to give state_new, then the state's profiles. */
const struct st_observer *detect_observer(struct detect *d);
void detect_attach(struct detect *d, struct src_profiles *profiles);
/* Password recovery for digest attempts (--wordlist); fn returns true and
 * writes a NUL-terminated password into pw when it finds one. */
typedef bool detect_crack_fn(void *ctx, const struct ev_auth *e, char *pw, size_t cap);
void detect_set_cracker(struct detect *d, detect_crack_fn *fn, void *ctx);
const struct detect_stats *detect_get_stats(const struct detect *d);
/* Table pressure, same JSON members as state_limits_json (no braces). */
int detect_limits_json(const struct detect *d, char *buf, size_t n);
void detect_free(struct detect *d);

/* Severity of a rule alert from its priority: 1 high, 2 medium, 3 low, 4+ info. */
const char *detect_priority_severity(unsigned priority);

#endif
