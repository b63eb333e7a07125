/*
 * detect_cfg.h - the detection stage's settings: each behaviour detector's
 * threshold (a count within a window of capture time, ATTACKS.md defaults),
 * the dial plan (home country, outside-line digits, allowed and extra
 * high-risk countries), trusted sources and rule variables. Read from the
 * `-c FILE` config file (docs/detection.md): `key = value` lines.
 */
#ifndef SIPSIFT_DETECT_CFG_H
#define SIPSIFT_DETECT_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ipaddr.h"

#define DCFG_MAX_LIST     32  /* entries of one list setting */
#define DCFG_MAX_VARS     16  /* rule variables set from the config */
#define DCFG_STR          64  /* bytes of one list entry */
#define DCFG_VAR_VALUE    1024

struct det_threshold {
    uint32_t count;
    uint32_t seconds;
};

struct det_cidr {
    struct ip_addr net;
    uint8_t prefix; /* bits, IPv4 as ::ffff:0:0/96 + n */
};

struct detect_cfg {
    struct det_threshold sweep;          /* distinct destination IPs per source: 10 in 60 s */
    struct det_threshold enumeration;    /* distinct users at one target per source: 10 in 60 s */
    struct det_threshold bruteforce;     /* auth failures per source: 10 in 300 s */
    uint32_t bruteforce_responses;       /* distinct digest responses for one user: 3 */
    struct det_threshold flood_source;   /* requests per source: 1000 in 5 s (200/s) */
    struct det_threshold flood_target;   /* requests to one target: 5000 in 5 s (1000/s) */
    struct det_threshold tollfraud;      /* distinct international numbers per source: 3 in 600 s */
    struct det_threshold malformed;      /* malformed messages per source: 5 in 60 s */
    uint32_t malformed_variety;          /* distinct malformation reasons for "fuzzer": 3 */
    char home_country[8];                /* country calling code of the home network ("" none) */
    char outside[DCFG_MAX_LIST][8];      /* outside-line prefixes, longest first */
    unsigned n_outside;
    char allowed[DCFG_MAX_LIST][3];      /* ISO alpha-2 destinations not counted abroad */
    unsigned n_allowed;
    char high_risk[DCFG_MAX_LIST][3];    /* ISO alpha-2 treated as high risk on top of the table */
    unsigned n_high_risk;
    struct det_cidr trusted[DCFG_MAX_LIST]; /* sources the behaviour detectors ignore */
    unsigned n_trusted;
    char var_name[DCFG_MAX_VARS][DCFG_STR];  /* rule variables (HOME_NET = [...]) */
    char var_value[DCFG_MAX_VARS][DCFG_VAR_VALUE];
    unsigned n_vars;
    bool show_passwords;                 /* passwords read or recovered stored as they are
                                            (default: "(redacted)", ATTACKS.md privacy) */
};

void detect_default_cfg(struct detect_cfg *c);

/*
 * Read settings from a config file over the defaults. On error returns false
 * with "LINE: message" in err (the caller adds the file name).
 */
bool detect_cfg_load(struct detect_cfg *c, const char *path, char *err, size_t errlen);
/* The same for text in memory. */
bool detect_cfg_parse(struct detect_cfg *c, const char *text, size_t n, char *err, size_t errlen);

bool detect_cfg_trusted(const struct detect_cfg *c, const struct ip_addr *ip);

#endif
