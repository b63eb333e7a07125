/*
 * rule.h - one parsed rule of the Suricata/Snort-style SIP rule language
 * (docs/rules.md): header (action, protocol, addresses, ports, direction),
 * identity (sid, rev, msg, classtype, priority, metadata, references), the
 * content/pcre conditions grouped by sticky buffer, and its threshold.
 * Parsing is rule_parse.c; matching rule_match.c; sets and state ruleset.c.
 */
#ifndef SIPSIFT_RULE_H
#define SIPSIFT_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ipaddr.h"
#include "lib/slice.h"

/* Limits (docs/rules.md). */
#define RULE_MAX_TEXT_BYTES    65536 /* one rule, continuation lines joined */
#define RULE_MAX_ITEMS         64    /* content + pcre conditions per rule */
#define RULE_MAX_CONTENT_BYTES 65535 /* one content pattern (as long as a SIP message) */
#define RULE_MAX_NET_ITEMS     1024  /* entries of one address or port group, variables expanded */
#define RULE_MAX_VAR_DEPTH     8     /* variables naming variables */
#define RULE_MAX_METADATA      16    /* metadata key/value pairs kept per rule */
#define RULE_MAX_REFERENCES    8
#define RULE_MATCH_STEPS       3000  /* backtracking steps per rule and buffer (Suricata's
                                        inspection-recursion-limit) */
#define RULE_PCRE_MATCH_LIMIT  3500  /* PCRE2 match limit (Suricata's default) */
#define RULE_PCRE_DEPTH_LIMIT  1500  /* PCRE2 backtracking depth limit */

enum rule_action { RULE_ACT_ALERT, RULE_ACT_DROP, RULE_ACT_PASS };
enum rule_proto { RULE_PROTO_SIP, RULE_PROTO_UDP, RULE_PROTO_TCP };

/* Sticky buffers: which bytes of a SIP message a content or pcre looks at. */
enum rule_buf {
    RULE_BUF_RAW = 0,      /* pkt_data, and the default: the whole message */
    RULE_BUF_METHOD,       /* requests only */
    RULE_BUF_URI,          /* requests only: the Request-URI as written */
    RULE_BUF_REQUEST_LINE, /* requests only */
    RULE_BUF_STAT_CODE,    /* responses only: three digits */
    RULE_BUF_STAT_MSG,     /* responses only: the reason phrase */
    RULE_BUF_RESPONSE_LINE,/* responses only */
    RULE_BUF_PROTOCOL,     /* "SIP/2.0" of the start line */
    RULE_BUF_USER_AGENT,   /* User-Agent; on responses Server (User-Agent if no Server) */
    RULE_BUF_FROM,         /* the From header value */
    RULE_BUF_TO,
    RULE_BUF_CALL_ID,
    RULE_BUF_VIA,          /* each Via header value: one instance per header line */
    RULE_BUF_CONTACT,      /* each Contact header value */
    RULE_BUF_CONTENT_TYPE,
    RULE_BUF_HEADER,       /* every header line as sent, "Name: value\r\n" each */
    RULE_BUF_BODY,
    RULE_BUF__COUNT
};

/* Keyword naming a buffer ("sip.method"), and whether it exists only in requests
 * or responses (RULE_NEED_*). */
const char *rule_buf_name(unsigned buf);
#define RULE_NEED_REQUEST  0x1
#define RULE_NEED_RESPONSE 0x2
unsigned rule_buf_needs(unsigned buf);

/* Address and port groups: a preorder tree in one array. A group item is
 * followed by its `size` descendants. A group matches when one of its positive
 * members matches (or it has none) and none of its negated members matches. */
enum rule_net_kind { RULE_NET_ANY, RULE_NET_GROUP, RULE_NET_CIDR, RULE_NET_PORTS };

struct rule_net_item {
    uint8_t kind;   /* enum rule_net_kind */
    bool neg;
    uint8_t prefix; /* CIDR: bits of `net` that must match (IPv4 as ::ffff:0:0/96 + n) */
    uint16_t size;  /* group: descendants that follow */
    uint16_t lo, hi;/* ports: inclusive range */
    struct ip_addr net;
};

struct rule_net {
    struct rule_net_item *v; /* NULL when n == 0 */
    uint16_t n;              /* 0: any */
};

/* Flags of a content or pcre condition. */
#define RULE_C_NEGATED      0x0001
#define RULE_C_NOCASE       0x0002
#define RULE_C_STARTSWITH   0x0004
#define RULE_C_ENDSWITH     0x0008
#define RULE_C_OFFSET       0x0010
#define RULE_C_DEPTH        0x0020
#define RULE_C_DISTANCE     0x0040
#define RULE_C_WITHIN       0x0080
#define RULE_C_FAST_PATTERN 0x0100
#define RULE_C_RELATIVE     (RULE_C_DISTANCE | RULE_C_WITHIN)

enum rule_item_kind { RULE_ITEM_CONTENT, RULE_ITEM_PCRE };

struct rule_item {
    uint8_t kind;        /* enum rule_item_kind */
    uint8_t buf;         /* enum rule_buf */
    uint16_t flags;      /* RULE_C_* */
    uint8_t *pat;        /* content bytes (may hold NULs); pcre: the source text */
    uint32_t len;
    uint32_t offset, depth, within;
    int32_t distance;
    void *re;            /* pcre2_code * (kept opaque: only rule_*.c include pcre2.h) */
};

/* The items of one buffer, contiguous in rule->items. */
struct rule_group {
    uint8_t buf;
    uint8_t n;
    uint8_t first;
};

enum rule_thresh_type {
    RULE_THR_NONE, RULE_THR_LIMIT, RULE_THR_THRESHOLD, RULE_THR_BOTH, RULE_THR_DETECTION_FILTER
};
enum rule_track { RULE_TRACK_BY_SRC, RULE_TRACK_BY_DST, RULE_TRACK_BY_BOTH, RULE_TRACK_BY_RULE };

struct rule_threshold {
    uint8_t type;   /* enum rule_thresh_type */
    uint8_t track;  /* enum rule_track */
    uint32_t count;
    uint32_t seconds;
};

/* Technique names of the report (CONTRACT.md); metadata "technique X" must be one. */
enum rule_technique {
    RULE_T_SWEEP, RULE_T_ENUMERATION, RULE_T_BRUTEFORCE, RULE_T_FLOOD, RULE_T_TOLLFRAUD,
    RULE_T_TEARDOWN_SPOOF, RULE_T_HIJACK, RULE_T_MALFORMED, RULE_T__COUNT
};
const char *rule_technique_name(unsigned t);

struct rule_meta {
    char *key;
    char *value;
};

struct rule {
    uint32_t sid, rev;
    uint8_t action;           /* enum rule_action */
    uint8_t proto;            /* enum rule_proto */
    bool bidir;               /* "<>": either way round */
    uint8_t priority;         /* 1 (highest) .. 255; classtype's default, else 3 */
    uint8_t needs;            /* RULE_NEED_* bits: message kinds the rule can match */
    char *msg;                /* "" when absent */
    const char *classtype;    /* static name, NULL when absent */
    struct rule_net src_addr, src_port, dst_addr, dst_port;

    struct rule_item *items;  /* grouped by buffer, in rule order within a buffer */
    uint8_t n_items;
    struct rule_group groups[RULE_BUF__COUNT];
    uint8_t n_groups;
    int16_t prefilter;        /* index of the content checked first, -1 when none */

    struct rule_threshold thr;

    struct rule_meta meta[RULE_MAX_METADATA];
    uint8_t n_meta;
    char *refs[RULE_MAX_REFERENCES];
    uint8_t n_refs;
    const char *tool;         /* first "metadata: tool X" value, NULL when none */
    const char *technique;    /* first "metadata: technique X" value, NULL when none */
    uint16_t techniques;      /* bit (1 << enum rule_technique) per technique named */

    const char *file;         /* where it was read: owned by the ruleset, may be NULL */
    unsigned line;
};

/* Variables ($HOME_NET): the parser asks for a value by name; NULL = not defined.
 * Asked for the empty name, it returns the defined names ("$A, $B") for messages. */
typedef const char *rule_var_fn(void *ctx, struct slice name);

/*
 * Parse one rule (a logical line: continuations joined, no comment). On
 * error returns NULL with a one-line reason in err ("unknown keyword
 * 'sip.fooo' (known: ...)"). Owner: the caller, free with rule_free.
 */
struct rule *rule_parse(struct slice text, rule_var_fn *var, void *var_ctx, char *err, size_t errlen);
void rule_free(struct rule *r);

/* Check that a variable's value is written as an address group or a port
 * group. Variables it names are resolved when a rule uses it, so values may be
 * set in any order. */
bool rule_var_check(const char *value, char *err, size_t errlen);

/* Value of the nth metadata pair named key (0-based), NULL when none. */
const char *rule_meta_get(const struct rule *r, const char *key, unsigned nth);

#endif
