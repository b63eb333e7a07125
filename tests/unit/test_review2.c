/*
 * test_review2.c - regressions of the second security review of the
 * detection stage: crafted message sequences that hid an attack or gave a
 * wrong verdict. Same fixture style as test_detect.c (own copy: its helpers
 * are static there).
 */
#include "test.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../dissect/sip.h"
#include "../../dissect/state.h"
#include "../../rules/detect.h"
#include "../../rules/profile.h"

#define SEC 1000000ull
#define T0  (1700000000ull * SEC)

struct r2rec {
    unsigned n_alert;
    uint32_t sids[64];
    char sev[64][16];
};

static void r2_alert(void *s, const struct ev_alert *e)
{
    struct r2rec *r = s;
    if (r->n_alert < 64) {
        r->sids[r->n_alert] = e->sid;
        snprintf(r->sev[r->n_alert], sizeof r->sev[0], "%s", e->severity);
    }
    r->n_alert++;
}

static const struct sink_ops r2_ops = { .name = "r2rec", .alert = r2_alert };

struct r2fx {
    struct r2rec rec;
    struct sink sink;
    struct detect *det;
    struct state *st;
    struct sip_msg msg;
};

static void r2_init(struct r2fx *f, const char *cfgtext)
{
    memset(f, 0, sizeof *f);
    f->sink = (struct sink){ &r2_ops, &f->rec };
    struct detect_cfg dc;
    detect_default_cfg(&dc);
    char err[256];
    if (cfgtext)
        CHECK(detect_cfg_parse(&dc, cfgtext, strlen(cfgtext), err, sizeof err));
    f->det = detect_new(&dc, NULL, &f->sink, 1, err, sizeof err);
    struct state_cfg sc;
    state_default_cfg(&sc);
    f->st = state_new(&sc, &f->sink, 1, detect_observer(f->det));
    detect_attach(f->det, state_profiles(f->st));
}

static void r2_finish(struct r2fx *f)
{
    state_finish(f->st);
    state_free(f->st);
    detect_free(f->det);
}

static void r2_feed(struct r2fx *f, uint64_t ts, const char *src, const char *dst, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void r2_feed(struct r2fx *f, uint64_t ts, const char *src, const char *dst, const char *fmt, ...)
{
    char text[4096], wire[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    size_t n = 0;
    for (const char *p = text; *p && n + 2 < sizeof wire; p++) {
        if (*p == '\n')
            wire[n++] = '\r';
        wire[n++] = *p;
    }
    struct l4_meta m = { .ts_us = ts, .sport = 5060, .dport = 5060, .proto = IPPROTO_UDP };
    ip_parse(src, &m.src);
    ip_parse(dst, &m.dst);
    size_t used;
    if (sip_parse(sl_make((const uint8_t *)wire, n), SIP_DGRAM, &f->msg, &used) == SIP_OK)
        state_on_sip(f->st, &m, &f->msg);
}

static unsigned r2_count(const struct r2rec *r, uint32_t sid)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->n_alert && i < 64; i++)
        n += r->sids[i] == sid;
    return n;
}

/* A sweeper sends each target a forged "200 OK" to a REGISTER nobody sent,
 * so that its probes look like a registrar's qualify pings: the sweep must
 * still be seen. */
TEST(review2_forged_register_2xx_does_not_hide_a_sweep)
{
    struct r2fx f;
    r2_init(&f, NULL);
    const char *atk = "198.51.100.9";
    for (unsigned i = 0; i < 12; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "192.0.2.%u", i + 1);
        r2_feed(&f, T0 + i * SEC, atk, dst,
                "SIP/2.0 200 OK\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-f%u\n"
                "From: <sip:x@%s>;tag=f%u\nTo: <sip:x@%s>;tag=t\nCall-ID: forged-%u\n"
                "CSeq: 1 REGISTER\nContent-Length: 0\n\n",
                dst, i, atk, i, atk, i);
        r2_feed(&f, T0 + i * SEC + 1000, atk, dst,
                "OPTIONS sip:100@%s SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-o%u\n"
                "From: <sip:x@%s>;tag=a%u\nTo: <sip:100@%s>\nCall-ID: opt-%u@%s\nCSeq: 1 OPTIONS\n"
                "Content-Length: 0\n\n",
                dst, atk, i, atk, i, dst, i, atk);
    }
    r2_finish(&f);
    CHECK_EQ_INT(r2_count(&f.rec, DET_SID_SWEEP), 1);
}

/* home_country = 1 (a NANP office): +1 876 is Jamaica, a high-risk
 * destination of its own in the E.164 table, not a home call. */
TEST(review2_home_country_does_not_swallow_longer_risky_codes)
{
    struct r2fx f;
    r2_init(&f, "home_country = 1\n");
    const char *nums[] = { "+18765550100", "01118095550101" };
    for (unsigned i = 0; i < 2; i++) {
        char src[32];
        snprintf(src, sizeof src, "198.51.100.%u", 80 + i);
        r2_feed(&f, T0 + i * SEC, src, "192.0.2.63",
                "INVITE sip:%s@192.0.2.63 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-i%u\n"
                "From: <sip:c@%s>;tag=i%u\nTo: <sip:%s@192.0.2.63>\nCall-ID: call-%u\n"
                "CSeq: 1 INVITE\nContent-Length: 0\n\n",
                nums[i], src, i, src, i, nums[i], i);
    }
    /* a plain US number stays home */
    r2_feed(&f, T0 + 5 * SEC, "198.51.100.71", "192.0.2.63",
            "INVITE sip:+12125550100@192.0.2.63 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.71:5060;branch=z9hG4bK-h\n"
            "From: <sip:c@198.51.100.71>;tag=h\nTo: <sip:+12125550100@192.0.2.63>\nCall-ID: call-h\n"
            "CSeq: 1 INVITE\nContent-Length: 0\n\n");
    r2_finish(&f);
    CHECK_EQ_INT(r2_count(&f.rec, DET_SID_TOLLFRAUD_RISK), 2);
    CHECK_EQ_INT(f.rec.n_alert, 2);
}

/* One request replayed at line rate is all "retransmissions" to the
 * transaction layer: the flood detectors must still count it, and must
 * still leave alone a busy source whose requests go unanswered and are
 * resent on RFC 3261's timers. */
static void r2_options(struct r2fx *f, uint64_t ts, unsigned k)
{
    r2_feed(f, ts, "198.51.100.9", "192.0.2.1",
            "OPTIONS sip:100@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bK-x%u\n"
            "From: <sip:x@198.51.100.9>;tag=a%u\nTo: <sip:100@192.0.2.1>\nCall-ID: x%u@y\n"
            "CSeq: 1 OPTIONS\nContent-Length: 0\n\n", k, k, k);
}

TEST(review2_replayed_request_is_a_flood)
{
    struct r2fx f;
    r2_init(&f, NULL);
    for (unsigned i = 0; i < 6000; i++) /* 2000 copies/s of one packet */
        r2_options(&f, T0 + i * 500, 1);
    r2_finish(&f);
    CHECK_EQ_INT(r2_count(&f.rec, DET_SID_FLOOD_SOURCE), 1);
    CHECK_EQ_INT(r2_count(&f.rec, DET_SID_FLOOD_TARGET), 1);

    /* 900 requests in 5 s (below 1000), each resent at 1, 2 and 3.5 s */
    r2_init(&f, NULL);
    static const uint64_t at[] = { 0, 1 * SEC, 2 * SEC, 3500000 };
    for (unsigned r = 0; r < 4; r++)
        for (unsigned i = 0; i < 900; i++)
            r2_options(&f, T0 + at[r] + i * 1000, i);
    r2_finish(&f);
    CHECK_EQ_INT(r2_count(&f.rec, DET_SID_FLOOD_SOURCE), 0);
    CHECK_EQ_INT(f.rec.n_alert, 0);
}

/* A brute force that succeeds, then registers the cracked user: 3100012
 * is critical (the REGISTER carrying the winning guess is the success,
 * 3100004, not a hijack). The verdict looked the user up in the profile's credential
 * list, which lives in a 3 KiB string pool; a few OPTIONS naming long
 * users filled the pool first, the cracked user was never listed, and the
 * hijack came out medium (or not at all for a first binding). */
static void r2_register(struct r2fx *f, uint64_t ts, const char *src, unsigned k, const char *resp,
                        unsigned code)
{
    r2_feed(f, ts, src, "192.0.2.61",
            "REGISTER sip:192.0.2.61 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-b%u\n"
            "From: <sip:100@192.0.2.61>;tag=t\nTo: <sip:100@192.0.2.61>\nCall-ID: bf-%u\n"
            "CSeq: 2 REGISTER\nContact: <sip:100@%s>\nExpires: 300\n"
            "Authorization: Digest username=\"100\", realm=\"asterisk\", nonce=\"n%u\", "
            "uri=\"sip:192.0.2.61\", response=\"%s\", algorithm=MD5\nContent-Length: 0\n\n",
            src, k, k, src, k, resp);
    r2_feed(f, ts + 1000, "192.0.2.61", src,
            "SIP/2.0 %u %s\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-b%u\n"
            "From: <sip:100@192.0.2.61>;tag=t\nTo: <sip:100@192.0.2.61>;tag=srv\nCall-ID: bf-%u\n"
            "CSeq: 2 REGISTER\nContact: <sip:100@%s>;expires=300\nContent-Length: 0\n\n",
            code, code == 200 ? "OK" : "Forbidden", src, k, k, src);
}

static void r2_crack_then_register(bool stuff_pool, struct r2rec *out)
{
    static struct r2fx f;
    r2_init(&f, NULL);
    const char *atk = "198.51.100.88";
    uint64_t t = T0;
    for (unsigned i = 0; stuff_pool && i < 20; i++) {
        char u[3][80];
        for (unsigned j = 0; j < 3; j++)
            snprintf(u[j], sizeof u[j], "%02u%u-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i, j);
        r2_feed(&f, t += SEC, atk, "192.0.2.61",
                "OPTIONS sip:%s@192.0.2.61 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-s%u\n"
                "From: <sip:%s@192.0.2.61>;tag=s%u\nTo: <sip:%s@192.0.2.61>\nCall-ID: stuff-%u\n"
                "CSeq: 1 OPTIONS\nContent-Length: 0\n\n",
                u[0], atk, i, u[1], i, u[2], i);
    }
    for (unsigned i = 0; i < 10; i++) {
        char resp[40];
        snprintf(resp, sizeof resp, "%032x", i + 1);
        r2_register(&f, t += SEC, atk, i, resp, 403);
    }
    r2_register(&f, t += SEC, atk, 10, "ffffffffffffffffffffffffffffffff", 200);
    /* the winning guess is the brute force's success; the attacker then
     * registers the account it owns (as pcaps/generated/svcrack-hijack) */
    r2_register(&f, t += SEC, atk, 11, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 200);
    r2_finish(&f);
    *out = f.rec;
}

TEST(review2_hijack_after_crack_survives_a_full_profile_pool)
{
    static struct r2rec r;
    for (int stuff = 0; stuff < 2; stuff++) {
        r2_crack_then_register(stuff, &r);
        unsigned hij = 0;
        for (unsigned i = 0; i < r.n_alert && i < 64; i++)
            if (r.sids[i] == DET_SID_HIJACK) {
                hij++;
                CHECK_STR(r.sev[i], "critical");
            }
        if (hij != 1)
            fprintf(stderr, "  stuffed %d: %u hijack alerts\n", stuff, hij);
        CHECK_EQ_INT(hij, 1);
    }
}
