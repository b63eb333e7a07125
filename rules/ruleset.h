/*
 * ruleset.h - the loaded rules: files and folders of *.rules, variables
 * ($HOME_NET, $EXTERNAL_NET, $SIP_PORTS), and the per-message entry point
 * that returns the rules that fired after pass rules, thresholds and
 * detection filters (state by capture time, in a bounded table).
 * It prints nothing: load errors go to the caller's callback.
 */
#ifndef SIPSIFT_RULESET_H
#define SIPSIFT_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "rules/rule.h"

#define RULESET_THRESH_MAX_ENTRIES 65536      /* (sid, tracked address) pairs with threshold state */
#define RULESET_MAX_FILE_BYTES     (64 << 20) /* one .rules file */
#define RULESET_MAX_VARS           64

/* One rule that fired. Pointers are valid while the ruleset lives. */
struct rule_hit {
    const struct rule *rule;
    uint32_t sid, rev;
    uint8_t action;         /* RULE_ACT_ALERT or RULE_ACT_DROP (drop is reported, never enforced) */
    uint8_t priority;       /* 1 (highest) .. 255 */
    uint16_t techniques;    /* bit (1 << enum rule_technique) per metadata technique */
    const char *msg;        /* "" when the rule has none */
    const char *classtype;  /* NULL when none */
    const char *tool;       /* metadata tool id (FINGERPRINTS.md), NULL when none */
    const char *technique;  /* first metadata technique (CONTRACT.md name), NULL when none */
};

struct ruleset_stats {
    uint64_t messages;          /* ruleset_match calls */
    uint64_t evaluated;         /* rules looked at (right protocol and message kind) */
    uint64_t prefilter_rejects; /* rules ruled out by their prefilter content */
    uint64_t matched;           /* rule matches, before pass rules and thresholds */
    uint64_t hits;              /* hits returned */
    uint64_t thresholded;       /* matches held back by threshold or detection_filter */
    uint64_t passed;            /* messages a pass rule silenced */
    uint64_t hits_dropped;      /* hits beyond max_hits */
    uint64_t steps_exhausted;   /* content chains given up at RULE_MATCH_STEPS */
    uint64_t pcre_errors;       /* regex runs stopped by the PCRE2 limits */
    uint32_t thresh_entries;    /* threshold state entries now */
    uint64_t thresh_evicted;    /* entries evicted because the table was full */
};

/* A load problem: file, line (0 when the file as a whole), one-line message. */
typedef void ruleset_err_fn(void *ctx, const char *file, unsigned line, const char *msg);

/* NULL on allocation failure. Owner: the caller, free with ruleset_free. */
struct ruleset *ruleset_new(void);
void ruleset_free(struct ruleset *rs);

/*
 * Set a variable for the rules loaded after ("HOME_NET" or "$HOME_NET",
 * "[192.0.2.0/24,!192.0.2.1]"). Defaults: HOME_NET and EXTERNAL_NET "any",
 * SIP_PORTS "[5060,5061]". False with a reason when the name or value is bad.
 */
bool ruleset_set_var(struct ruleset *rs, const char *name, const char *value, char *err, size_t errlen);

/*
 * Load a .rules file, or every *.rules file of a folder in name order.
 * Rules with errors (and duplicate sids) are reported through fn and left
 * out; the rest are kept. A file already loaded (the same file, by any
 * path) is skipped. Returns the number of errors reported.
 */
unsigned ruleset_load(struct ruleset *rs, const char *path, ruleset_err_fn *fn, void *ctx);
/* The same for text held in memory (a file's contents), called `name` in messages. */
unsigned ruleset_load_text(struct ruleset *rs, const char *name, const char *text, size_t n,
                           ruleset_err_fn *fn, void *ctx);

unsigned ruleset_count(const struct ruleset *rs);
const struct rule *ruleset_rule(const struct ruleset *rs, unsigned i);
const struct rule *ruleset_find(const struct ruleset *rs, uint32_t sid);

/* Sort rules for matching and size the threshold table; ruleset_match does it
 * when rules changed. False on allocation failure. */
bool ruleset_prepare(struct ruleset *rs);

/*
 * Rules that fire on one SIP message carried by m (addresses, ports, UDP or
 * TCP), at capture time now_us. A matching pass rule silences the message.
 * Hits come highest priority first (then by sid); at most max_hits are
 * written, the rest counted. Thresholds count every match, written or not.
 */
unsigned ruleset_match(struct ruleset *rs, const struct l4_meta *m, const struct sip_msg *msg,
                       uint64_t now_us, struct rule_hit *hits, unsigned max_hits);

void ruleset_get_stats(const struct ruleset *rs, struct ruleset_stats *out);

#endif
