/*
 * fuzz_rules.c - libFuzzer target for the operator-supplied text sipsift
 * reads at start-up: the rule language (rules/rule_parse.c via ruleset.c)
 * and the detector config file (rules/detect_cfg.c). A rules file is not
 * attacker input, but a shared or downloaded one can be anything: it must
 * give errors, never crash, hang or leak. Rules that load are also run on
 * one fixed SIP message, so the matcher sees whatever the parser accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/detect_cfg.h"
#include "rules/ruleset.h"
#include "tests/fuzz/fuzz.h"

static const char MSG[] =
    "INVITE sip:00252615123456@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-1\r\n"
    "From: \"sipvicious\" <sip:100@1.1.1.1>;tag=3130300133363139\r\nTo: <sip:100@192.0.2.1>\r\n"
    "Call-ID: 1@x\r\nCSeq: 1 INVITE\r\nUser-Agent: friendly-scanner\r\nContact: <sip:1@2>\r\n"
    "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";

static void count_error(void *ctx, const char *file, unsigned line, const char *msg)
{
    (void)file;
    (void)line;
    FUZZ_CHECK(msg != NULL && strlen(msg) < 4096);
    (*(unsigned *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The config parser takes the same bytes. */
    struct detect_cfg c;
    detect_default_cfg(&c);
    char err[512];
    if (!detect_cfg_parse(&c, (const char *)data, size, err, sizeof err))
        FUZZ_CHECK(err[0] >= '1' && err[0] <= '9');
    FUZZ_CHECK(c.n_outside <= DCFG_MAX_LIST && c.n_trusted <= DCFG_MAX_LIST && c.n_vars <= DCFG_MAX_VARS);

    struct ruleset *rs = ruleset_new();
    if (!rs)
        return 0;
    unsigned errors = 0;
    unsigned reported = ruleset_load_text(rs, "fuzz.rules", (const char *)data, size, count_error, &errors);
    FUZZ_CHECK(reported == errors);
    if (ruleset_count(rs) > 0 && ruleset_prepare(rs)) {
        static struct sip_msg msg;
        size_t used;
        if (sip_parse(sl_make((const uint8_t *)MSG, sizeof MSG - 1), SIP_DGRAM, &msg, &used) == SIP_OK) {
            struct l4_meta m = { .ts_us = 1700000000000000ull, .sport = 5060, .dport = 5060, .proto = 17 };
            ip_parse("198.51.100.1", &m.src);
            ip_parse("192.0.2.1", &m.dst);
            struct rule_hit hits[8];
            unsigned n = ruleset_match(rs, &m, &msg, m.ts_us, hits, 8);
            FUZZ_CHECK(n <= 8);
            for (unsigned i = 0; i < n; i++)
                FUZZ_CHECK(hits[i].rule != NULL && hits[i].msg != NULL);
        }
    }
    ruleset_free(rs);
    return 0;
}
