/*
 * rule_match.h - does one rule match one SIP message? Header (protocol,
 * addresses, ports, direction), then a prefilter content, then every
 * content/pcre group on its sticky buffer. Buffers are found lazily, once per
 * message, and shared by all rules through struct rule_msg_ctx. No
 * thresholds here (ruleset.c), no allocation per message.
 */
#ifndef SIPSIFT_RULE_MATCH_H
#define SIPSIFT_RULE_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "rules/rule.h"

/* PCRE2 match data and limits, reused for every message. One per thread. */
struct rule_scratch;
/* NULL on allocation failure. Owner: the caller, free with rule_scratch_free. */
struct rule_scratch *rule_scratch_new(void);
void rule_scratch_free(struct rule_scratch *s);

/* What one message offers the rules; valid while msg is. */
struct rule_msg_ctx {
    const struct sip_msg *msg;
    struct rule_scratch *scratch;
    uint32_t looked;                   /* bit per enum rule_buf: buf[] is filled */
    struct slice buf[RULE_BUF__COUNT]; /* single-instance buffers (empty: absent) */
    uint8_t stat_code[3];
    uint64_t steps_exhausted;          /* groups given up at RULE_MATCH_STEPS */
    uint64_t pcre_errors;              /* pcre2_match failures (match limit ...) */
};

void rule_ctx_init(struct rule_msg_ctx *c, const struct sip_msg *msg, struct rule_scratch *s);

/* Instance nth (0-based) of a buffer: false when there is no such instance.
 * sip.via and sip.contact have one instance per header line; others one. */
bool rule_buffer(struct rule_msg_ctx *c, unsigned buf, unsigned nth, struct slice *out);

/* Protocol, addresses and ports of the datagram or stream against the header. */
bool rule_match_header(const struct rule *r, const struct l4_meta *m);
/* The rule's prefilter content occurs somewhere in its buffer (necessary, not sufficient). */
bool rule_match_prefilter(const struct rule *r, struct rule_msg_ctx *c);
/* Every content/pcre group matches (the message kind is not checked: see r->needs). */
bool rule_match_payload(const struct rule *r, struct rule_msg_ctx *c);
/* Message kind, header, prefilter and payload, cheapest first. */
bool rule_match(const struct rule *r, const struct l4_meta *m, struct rule_msg_ctx *c);

#endif
