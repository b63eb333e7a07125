/*
 * test_detect.c - the detection stage (rules/detect.c and friends): each
 * behaviour detector fed hand-built SIP text through the real parser and
 * state, just at and just below its threshold; the fingerprint decoders; the
 * E.164 normalisation; the config file parser; the window counter; the
 * severity model. A recording sink keeps the alerts and source verdicts.
 */
#include "test.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../dissect/sip.h"
#include "../../dissect/state.h"
#include "../../lib/embedded.h"
#include "../../rules/detect.h"
#include "../../rules/e164.h"
#include "../../rules/fingerprint.h"
#include "../../rules/profile.h"
#include "../../rules/window.h"

#define SEC 1000000ull
#define T0  (1700000000ull * SEC)

/* ---- Recording sink ---------------------------------------------------- */

#define DREC_MAX 64

struct drec {
    unsigned n_alert;
    uint32_t sids[DREC_MAX];
    char sev[DREC_MAX][16];
    char detail[DREC_MAX][160];
    unsigned n_source;
    char src_sev[DREC_MAX][16];
    char src_ip[DREC_MAX][IP_STRLEN];
    char src_tech[DREC_MAX][160];
    char src_tools[DREC_MAX][80];
    char src_pw[DREC_MAX][64];
    char src_numbers[DREC_MAX][160];
    char auth_pw[DREC_MAX][64];
    unsigned n_auth;
    unsigned src_reasons[DREC_MAX];
};

static void d_alert(void *s, const struct ev_alert *e)
{
    struct drec *r = s;
    if (r->n_alert < DREC_MAX) {
        r->sids[r->n_alert] = e->sid;
        snprintf(r->sev[r->n_alert], 16, "%s", e->severity);
        snprintf(r->detail[r->n_alert], 160, "%.*s", (int)e->detail.n, (const char *)e->detail.p);
    }
    r->n_alert++;
}

static void d_auth(void *s, const struct ev_auth *e)
{
    struct drec *r = s;
    if (r->n_auth < DREC_MAX)
        snprintf(r->auth_pw[r->n_auth], 64, "%.*s", (int)e->password.n, (const char *)e->password.p);
    r->n_auth++;
}

static void d_source(void *s, const struct ev_source *e)
{
    struct drec *r = s;
    if (r->n_source >= DREC_MAX)
        return;
    unsigned i = r->n_source++;
    snprintf(r->src_sev[i], 16, "%s", e->severity);
    r->src_reasons[i] = e->n_reasons;
    ip_format(&e->ip, r->src_ip[i], IP_STRLEN);
    for (unsigned t = 0; t < e->n_techniques; t++)
        snprintf(r->src_tech[i] + strlen(r->src_tech[i]), 160 - strlen(r->src_tech[i]), "%s,",
                 e->techniques[t]);
    for (unsigned t = 0; t < e->n_tools; t++)
        snprintf(r->src_tools[i] + strlen(r->src_tools[i]), 80 - strlen(r->src_tools[i]), "%s,",
                 e->tools[t]);
    for (unsigned c = 0; c < e->n_credentials; c++)
        if (e->credentials[c].password.n)
            snprintf(r->src_pw[i], 64, "%.*s%s", (int)e->credentials[c].password.n,
                     (const char *)e->credentials[c].password.p, e->credentials[c].accepted ? "+" : "");
    for (unsigned k = 0; k < e->n_numbers; k++)
        snprintf(r->src_numbers[i] + strlen(r->src_numbers[i]), 160 - strlen(r->src_numbers[i]),
                 "%.*s:%.*s,", (int)e->numbers[k].number.n, (const char *)e->numbers[k].number.p,
                 (int)e->numbers[k].country.n, (const char *)e->numbers[k].country.p);
}

static const struct sink_ops drec_ops = {
    .name = "drec", .alert = d_alert, .auth = d_auth, .source = d_source,
};

/* ---- Fixture ----------------------------------------------------------- */

struct dfx {
    struct drec rec;
    struct sink sink;
    struct detect *det;
    struct state *st;
    struct sip_msg msg;
};

static void dfx_init(struct dfx *f, const struct detect_cfg *cfg, const char *rules)
{
    memset(f, 0, sizeof *f);
    f->sink = (struct sink){ &drec_ops, &f->rec };
    struct detect_cfg dc;
    if (cfg)
        dc = *cfg;
    else
        detect_default_cfg(&dc);
    struct ruleset *rs = NULL;
    if (rules) {
        rs = ruleset_new();
        ruleset_load_text(rs, "test.rules", rules, strlen(rules), NULL, NULL);
    }
    char err[256];
    f->det = detect_new(&dc, rs, &f->sink, 1, err, sizeof err);
    struct state_cfg sc;
    state_default_cfg(&sc);
    f->st = state_new(&sc, &f->sink, 1, detect_observer(f->det));
    detect_attach(f->det, state_profiles(f->st));
}

static void dfx_finish(struct dfx *f)
{
    state_finish(f->st);
    state_free(f->st);
    detect_free(f->det);
}

static void ip4(struct ip_addr *a, const char *s) { ip_parse(s, a); }

/* One message (printf-style text, "\n" line ends become CRLF) from src to dst. */
static void feed(struct dfx *f, uint64_t ts, const char *src, const char *dst, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void feed(struct dfx *f, uint64_t ts, const char *src, const char *dst, const char *fmt, ...)
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
    ip4(&m.src, src);
    ip4(&m.dst, dst);
    size_t used;
    if (sip_parse(sl_make((const uint8_t *)wire, n), SIP_DGRAM, &f->msg, &used) == SIP_OK)
        state_on_sip(f->st, &m, &f->msg);
}

static void options(struct dfx *f, uint64_t ts, const char *src, const char *dst, const char *user,
                    unsigned k)
{
    feed(f, ts, src, dst,
         "OPTIONS sip:%s@%s SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-o%u\n"
         "From: <sip:x@%s>;tag=a%u\nTo: <sip:%s@%s>\nCall-ID: opt-%u@%s\nCSeq: 1 OPTIONS\n"
         "Content-Length: 0\n\n",
         user, dst, src, k, src, k, user, dst, k, src);
}

static unsigned count_sid(const struct drec *r, uint32_t sid)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->n_alert && i < DREC_MAX; i++)
        n += r->sids[i] == sid;
    return n;
}

static const char *source_field(const struct drec *r, const char *ip, int which)
{
    for (unsigned i = 0; i < r->n_source && i < DREC_MAX; i++)
        if (strcmp(r->src_ip[i], ip) == 0)
            return which == 0 ? r->src_sev[i] : which == 1 ? r->src_tech[i]
                 : which == 2 ? r->src_tools[i] : which == 3 ? r->src_pw[i] : r->src_numbers[i];
    return "";
}

/* ---- Window ------------------------------------------------------------ */

TEST(detect_window_counts_within_the_window)
{
    struct win w = { 0 };
    uint64_t bw = win_width(60);
    CHECK_EQ_INT(win_add(&w, bw, T0, 1), 1);
    CHECK_EQ_INT(win_add(&w, bw, T0 + 30 * SEC, 1), 2);
    CHECK_EQ_INT(win_add(&w, bw, T0 + 50 * SEC, 1), 3);
    /* 61 s after the first: it has left, the others stay */
    CHECK_EQ_INT(win_add(&w, bw, T0 + 61 * SEC, 1), 3);
    /* far later: everything old is gone */
    CHECK_EQ_INT(win_add(&w, bw, T0 + 1000 * SEC, 1), 1);
    /* time going back counts in the newest bucket */
    CHECK_EQ_INT(win_add(&w, bw, T0 + 999 * SEC, 1), 2);
}

/* ---- Sweep ------------------------------------------------------------- */

static void sweep_hosts(unsigned hosts, unsigned *alerts, char *sev, char *tech)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    for (unsigned i = 0; i < hosts; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "192.0.2.%u", i + 1);
        options(&f, T0 + i * SEC, "198.51.100.1", dst, "100", i);
    }
    dfx_finish(&f);
    *alerts = count_sid(&f.rec, DET_SID_SWEEP);
    snprintf(sev, 16, "%s", source_field(&f.rec, "198.51.100.1", 0));
    snprintf(tech, 160, "%s", source_field(&f.rec, "198.51.100.1", 1));
}

TEST(detect_sweep_at_and_below_threshold)
{
    unsigned alerts;
    char sev[16], tech[160];
    sweep_hosts(9, &alerts, sev, tech);
    CHECK_EQ_INT(alerts, 0);
    CHECK_STR(sev, "info");
    sweep_hosts(10, &alerts, sev, tech);
    CHECK_EQ_INT(alerts, 1);
    CHECK_STR(sev, "low");
    CHECK_STR(tech, "sweep,");
    /* 40 hosts in 40 s: still one alert a window */
    sweep_hosts(40, &alerts, sev, tech);
    CHECK_EQ_INT(alerts, 1);
}

TEST(detect_sweep_leaves_out_phones_registered_through_the_source)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    /* Twelve phones register with the PBX, which then qualifies each. */
    for (unsigned i = 0; i < 12; i++) {
        char ph[32];
        snprintf(ph, sizeof ph, "192.0.2.%u", i + 10);
        feed(&f, T0 + i * SEC, ph, "192.0.2.1",
             "REGISTER sip:192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-r%u\n"
             "From: <sip:%u@192.0.2.1>;tag=r%u\nTo: <sip:%u@192.0.2.1>\nCall-ID: reg-%u\n"
             "CSeq: 1 REGISTER\nContact: <sip:%u@%s>\nExpires: 3600\nContent-Length: 0\n\n",
             ph, i, 200 + i, i, 200 + i, i, 200 + i, ph);
        feed(&f, T0 + i * SEC + 1000, "192.0.2.1", ph,
             "SIP/2.0 200 OK\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-r%u\n"
             "From: <sip:%u@192.0.2.1>;tag=r%u\nTo: <sip:%u@192.0.2.1>;tag=s\nCall-ID: reg-%u\n"
             "CSeq: 1 REGISTER\nContact: <sip:%u@%s>;expires=3600\nContent-Length: 0\n\n",
             ph, i, 200 + i, i, 200 + i, i, 200 + i, ph);
    }
    for (unsigned i = 0; i < 12; i++) {
        char ph[32];
        snprintf(ph, sizeof ph, "192.0.2.%u", i + 10);
        options(&f, T0 + 20 * SEC + i * SEC, "192.0.2.1", ph, "x", 100 + i);
    }
    dfx_finish(&f);
    CHECK_EQ_INT(count_sid(&f.rec, DET_SID_SWEEP), 0);
    CHECK_STR(source_field(&f.rec, "192.0.2.1", 0), "info");
}

TEST(detect_trusted_sources_are_left_out)
{
    struct detect_cfg c;
    detect_default_cfg(&c);
    char err[128];
    const char *txt = "trusted = 198.51.100.0/24\n";
    CHECK(detect_cfg_parse(&c, txt, strlen(txt), err, sizeof err));
    struct dfx f;
    dfx_init(&f, &c, NULL);
    for (unsigned i = 0; i < 20; i++) {
        char dst[32];
        snprintf(dst, sizeof dst, "192.0.2.%u", i + 1);
        options(&f, T0 + i * SEC, "198.51.100.1", dst, "100", i);
    }
    dfx_finish(&f);
    CHECK_EQ_INT(count_sid(&f.rec, DET_SID_SWEEP), 0);
}

/* ---- Enumeration ------------------------------------------------------- */

static unsigned enum_users(unsigned users)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    for (unsigned i = 0; i < users; i++) {
        feed(&f, T0 + i * 100000, "198.51.100.2", "192.0.2.60",
             "REGISTER sip:192.0.2.60 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-e%u\n"
             "From: <sip:%u@192.0.2.60>;tag=e%u\nTo: <sip:%u@192.0.2.60>\nCall-ID: enum-%u\n"
             "CSeq: 1 REGISTER\nContent-Length: 0\n\n",
             i, 100 + i, i, 100 + i, i);
        /* the same user again counts once */
        feed(&f, T0 + i * 100000 + 50000, "198.51.100.2", "192.0.2.60",
             "REGISTER sip:192.0.2.60 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.2:5060;branch=z9hG4bK-f%u\n"
             "From: <sip:%u@192.0.2.60>;tag=f%u\nTo: <sip:%u@192.0.2.60>\nCall-ID: enum2-%u\n"
             "CSeq: 1 REGISTER\nContent-Length: 0\n\n",
             i, 100 + i, i, 100 + i, i);
    }
    dfx_finish(&f);
    return count_sid(&f.rec, DET_SID_ENUMERATION);
}

TEST(detect_enumeration_at_and_below_threshold)
{
    CHECK_EQ_INT(enum_users(9), 0);
    CHECK_EQ_INT(enum_users(10), 1);
}

/* ---- Brute force ------------------------------------------------------- */

static void register_auth(struct dfx *f, uint64_t ts, const char *src, unsigned k, const char *user,
                          const char *resp, unsigned code, const char *tag)
{
    feed(f, ts, src, "192.0.2.61",
         "REGISTER sip:192.0.2.61 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-b%u\n"
         "From: <sip:%s@192.0.2.61>;tag=%s\nTo: <sip:%s@192.0.2.61>\nCall-ID: bf-%u\n"
         "CSeq: 2 REGISTER\nContact: <sip:%s@%s>\n"
         "Authorization: Digest username=\"%s\", realm=\"asterisk\", nonce=\"n%u\", "
         "uri=\"sip:192.0.2.61\", response=\"%s\", algorithm=MD5\nContent-Length: 0\n\n",
         src, k, user, tag, user, k, user, src, user, k, resp);
    feed(f, ts + 1000, "192.0.2.61", src,
         "SIP/2.0 %u %s\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-b%u\n"
         "From: <sip:%s@192.0.2.61>;tag=%s\nTo: <sip:%s@192.0.2.61>;tag=srv\nCall-ID: bf-%u\n"
         "CSeq: 2 REGISTER\nContact: <sip:%s@%s>;expires=3600\nContent-Length: 0\n\n",
         code, code == 200 ? "OK" : "Forbidden", src, k, user, tag, user, k, user, src);
}

static void bruteforce(unsigned fails, uint64_t gap, bool succeed, struct drec *out)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    for (unsigned i = 0; i < fails; i++) {
        char resp[40];
        snprintf(resp, sizeof resp, "%032x", i + 1);
        register_auth(&f, T0 + i * gap, "198.51.100.88", i, "100", resp, 403, "t");
    }
    if (succeed)
        register_auth(&f, T0 + fails * gap, "198.51.100.88", fails, "100",
                      "ffffffffffffffffffffffffffffffff", 200, "t");
    dfx_finish(&f);
    *out = f.rec;
}

TEST(detect_bruteforce_at_and_below_threshold)
{
    static struct drec r;
    bruteforce(9, SEC, false, &r);
    CHECK_EQ_INT(count_sid(&r, DET_SID_BRUTEFORCE), 0);
    /* 9 failures with 9 responses: the slow pattern, low */
    CHECK(count_sid(&r, DET_SID_BRUTEFORCE_SLOW) >= 1);
    CHECK_STR(source_field(&r, "198.51.100.88", 0), "low");
    bruteforce(10, SEC, false, &r);
    CHECK_EQ_INT(count_sid(&r, DET_SID_BRUTEFORCE), 1);
    CHECK_STR(source_field(&r, "198.51.100.88", 0), "high");
    /* 10 failures spread over 30 minutes: never 10 within 300 s */
    bruteforce(10, 180 * SEC, false, &r);
    CHECK_EQ_INT(count_sid(&r, DET_SID_BRUTEFORCE), 0);
}

TEST(detect_bruteforce_success_is_critical_only_after_a_fast_brute_force)
{
    static struct drec r;
    bruteforce(12, SEC / 10, true, &r);
    CHECK_EQ_INT(count_sid(&r, DET_SID_BRUTEFORCE_SUCCESS), 1);
    CHECK_STR(source_field(&r, "198.51.100.88", 0), "critical");
    /* a person retyping a password: four failures in ten minutes, then in */
    bruteforce(4, 150 * SEC, true, &r);
    CHECK_EQ_INT(count_sid(&r, DET_SID_BRUTEFORCE_SUCCESS), 0);
    CHECK_STR(source_field(&r, "198.51.100.88", 0), "low");
}

/* An attacker who first names many long users fills the profile's evidence
 * lists; the verdicts (reasons, the password of the accepted guess) must
 * still fit in the part of the pool kept for them. */
TEST(detect_long_users_do_not_crowd_out_the_verdicts)
{
    struct detect_cfg c;
    detect_default_cfg(&c);
    c.show_passwords = true;
    struct dfx f;
    dfx_init(&f, &c, NULL);
    for (unsigned i = 0; i < 64; i++) {
        char u[80];
        snprintf(u, sizeof u, "%02u-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", i);
        options(&f, T0 + i * 1000, "198.51.100.88", "192.0.2.61", u, 500 + i);
    }
    for (unsigned i = 0; i < 12; i++) {
        char text[32], tag[128] = "", resp[40];
        snprintf(text, sizeof text, i == 11 ? "100:kitten77" : "100:guess%u", i);
        for (const char *q = text; *q; q++)
            snprintf(tag + strlen(tag), 4, "%02x", (unsigned char)*q);
        strcat(tag, "01383930323936343232");
        snprintf(resp, sizeof resp, "%032x", i + 7);
        register_auth(&f, T0 + SEC + i * 100000, "198.51.100.88", i, "100", resp, i == 11 ? 200 : 403, tag);
    }
    dfx_finish(&f);
    CHECK_STR(source_field(&f.rec, "198.51.100.88", 0), "critical");
    CHECK_STR(source_field(&f.rec, "198.51.100.88", 3), "kitten77+");
    CHECK(f.rec.n_source == 1 && f.rec.src_reasons[0] >= 3);
}

TEST(detect_svcrack_tag_gives_the_password_redacted_unless_asked)
{
    for (int show = 0; show < 2; show++) {
        struct detect_cfg c;
        detect_default_cfg(&c);
        c.show_passwords = show;
        struct dfx f;
        dfx_init(&f, &c, NULL);
        /* svcrack: tag = hex("100:guessN") 01 hex(digits) */
        for (unsigned i = 0; i < 4; i++) {
            char text[32], tag[128] = "", resp[40];
            snprintf(text, sizeof text, i == 3 ? "100:kitten77" : "100:guess%u", i);
            for (const char *p = text; *p; p++)
                snprintf(tag + strlen(tag), 4, "%02x", (unsigned char)*p);
            strcat(tag, "01383930323936343232");
            snprintf(resp, sizeof resp, "%032x", i + 7);
            register_auth(&f, T0 + i * 100000, "198.51.100.88", i, "100", resp, i == 3 ? 200 : 403, tag);
        }
        dfx_finish(&f);
        CHECK_STR(source_field(&f.rec, "198.51.100.88", 2), "sipvicious,");
        CHECK_STR(source_field(&f.rec, "198.51.100.88", 3), show ? "kitten77+" : "(redacted)+");
        CHECK_STR(source_field(&f.rec, "198.51.100.88", 0), "critical");
        CHECK_STR(f.rec.auth_pw[3], show ? "kitten77" : "(redacted)");
    }
}

/* ---- Flood ------------------------------------------------------------- */

static unsigned flood(unsigned n, uint64_t span_us)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    for (unsigned i = 0; i < n; i++)
        options(&f, T0 + (uint64_t)i * span_us / n, "198.51.100.9", "192.0.2.65", "100", i);
    dfx_finish(&f);
    return count_sid(&f.rec, DET_SID_FLOOD_SOURCE);
}

TEST(detect_flood_at_and_below_threshold)
{
    CHECK_EQ_INT(flood(999, 2 * SEC), 0);
    CHECK_EQ_INT(flood(1000, 2 * SEC), 1);
    /* 1000 requests over 100 s (10/s) is not a flood */
    CHECK_EQ_INT(flood(1000, 100 * SEC), 0);
}

/* ---- Toll fraud -------------------------------------------------------- */

static void invite(struct dfx *f, uint64_t ts, const char *src, const char *number, unsigned k)
{
    feed(f, ts, src, "192.0.2.63",
         "INVITE sip:%s@192.0.2.63 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-i%u\n"
         "From: <sip:caller@%s>;tag=i%u\nTo: <sip:%s@192.0.2.63>\nCall-ID: call-%u@%s\n"
         "CSeq: 1 INVITE\nContent-Length: 0\n\n",
         number, src, k, src, k, number, k, src);
}

TEST(detect_tollfraud_high_risk_and_many_numbers)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    invite(&f, T0, "198.51.100.66", "900252615123458", 1); /* 9 + 00 + Somalia */
    dfx_finish(&f);
    CHECK_EQ_INT(count_sid(&f.rec, DET_SID_TOLLFRAUD_RISK), 1);
    CHECK_STR(source_field(&f.rec, "198.51.100.66", 0), "high");
    CHECK_STR(source_field(&f.rec, "198.51.100.66", 4), "900252615123458:SO,");

    /* two international numbers of normal risk: below; three: at */
    for (unsigned n = 2; n <= 3; n++) {
        dfx_init(&f, NULL, NULL);
        const char *nums[] = { "0046701234567", "01144207946000", "+4930123456" };
        for (unsigned i = 0; i < n; i++)
            invite(&f, T0 + i * 60 * SEC, "198.51.100.67", nums[i], i);
        dfx_finish(&f);
        CHECK_EQ_INT(count_sid(&f.rec, DET_SID_TOLLFRAUD_MANY), n == 3);
        CHECK_EQ_INT(count_sid(&f.rec, DET_SID_TOLLFRAUD_RISK), 0);
    }
    /* national numbers never count */
    dfx_init(&f, NULL, NULL);
    for (unsigned i = 0; i < 5; i++) {
        char num[16];
        snprintf(num, sizeof num, "20%u", i);
        invite(&f, T0 + i * SEC, "192.0.2.111", num, i);
    }
    dfx_finish(&f);
    CHECK_EQ_INT(f.rec.n_alert, 0);
    CHECK_STR(source_field(&f.rec, "192.0.2.111", 0), "info");
}

TEST(detect_tollfraud_home_country_and_allowed_destinations)
{
    struct detect_cfg c;
    detect_default_cfg(&c);
    char err[200];
    const char *txt = "home_country = +46\nallowed_countries = gb, DE\n";
    CHECK(detect_cfg_parse(&c, txt, strlen(txt), err, sizeof err));
    struct dfx f;
    dfx_init(&f, &c, NULL);
    const char *nums[] = { "0046701234567", "01144207946000", "+4930123456" };
    for (unsigned i = 0; i < 3; i++)
        invite(&f, T0 + i * SEC, "198.51.100.67", nums[i], i);
    dfx_finish(&f);
    CHECK_EQ_INT(f.rec.n_alert, 0);
}

/* ---- Teardown ---------------------------------------------------------- */

static void call_then_bye(const char *bye_from, struct drec *out)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    const char *cid = "spoof-1@192.0.2.31";
    feed(&f, T0, "192.0.2.31", "192.0.2.32",
         "INVITE sip:200@192.0.2.32 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.31:5060;branch=z9hG4bK-c1\n"
         "From: <sip:100@192.0.2.31>;tag=a\nTo: <sip:200@192.0.2.32>\nCall-ID: %s\n"
         "CSeq: 1 INVITE\nContent-Length: 0\n\n", cid);
    feed(&f, T0 + SEC, "192.0.2.32", "192.0.2.31",
         "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.0.2.31:5060;branch=z9hG4bK-c1\n"
         "From: <sip:100@192.0.2.31>;tag=a\nTo: <sip:200@192.0.2.32>;tag=b\nCall-ID: %s\n"
         "CSeq: 1 INVITE\nContent-Length: 0\n\n", cid);
    feed(&f, T0 + 10 * SEC, bye_from, "192.0.2.31",
         "BYE sip:100@192.0.2.31 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-bye\n"
         "From: <sip:200@192.0.2.32>;tag=b\nTo: <sip:100@192.0.2.31>;tag=a\nCall-ID: %s\n"
         "CSeq: 2 BYE\nContent-Length: 0\n\n", bye_from, cid);
    feed(&f, T0 + 20 * SEC, "192.0.2.77", "192.0.2.31",
         "BYE sip:100@192.0.2.31 SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bK-x\n"
         "From: <sip:1@x>;tag=q\nTo: <sip:100@192.0.2.31>;tag=r\nCall-ID: never-seen\n"
         "CSeq: 2 BYE\nContent-Length: 0\n\n");
    dfx_finish(&f);
    *out = f.rec;
}

TEST(detect_teardown_spoof_from_outside_the_dialog)
{
    static struct drec r;
    call_then_bye("198.51.100.13", &r);
    CHECK_EQ_INT(count_sid(&r, DET_SID_TEARDOWN_SPOOF), 1);
    CHECK_STR(source_field(&r, "198.51.100.13", 0), "high");
    /* a BYE for a call never seen: only low (the capture may have begun mid-call) */
    CHECK_EQ_INT(count_sid(&r, DET_SID_TEARDOWN_UNKNOWN), 1);
    CHECK_STR(source_field(&r, "192.0.2.77", 0), "low");
    /* the callee hanging up is a party */
    call_then_bye("192.0.2.32", &r);
    CHECK_EQ_INT(count_sid(&r, DET_SID_TEARDOWN_SPOOF), 0);
}

/* ---- Hijack ------------------------------------------------------------ */

static void reg_ok(struct dfx *f, uint64_t ts, const char *src, const char *contact, unsigned k)
{
    feed(f, ts, src, "192.0.2.62",
         "REGISTER sip:192.0.2.62 SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-h%u\n"
         "From: <sip:101@192.0.2.62>;tag=h%u\nTo: <sip:101@192.0.2.62>\nCall-ID: hj-%u\n"
         "CSeq: 1 REGISTER\nContact: <sip:101@%s>\nExpires: 300\nContent-Length: 0\n\n",
         src, k, k, k, contact);
    feed(f, ts + 1000, "192.0.2.62", src,
         "SIP/2.0 200 OK\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-h%u\n"
         "From: <sip:101@192.0.2.62>;tag=h%u\nTo: <sip:101@192.0.2.62>;tag=s\nCall-ID: hj-%u\n"
         "CSeq: 1 REGISTER\nContact: <sip:101@%s>;expires=300\nContent-Length: 0\n\n",
         src, k, k, k, contact);
}

TEST(detect_hijack_contact_moved_by_a_new_source)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    reg_ok(&f, T0, "192.0.2.101", "192.0.2.101", 1);
    reg_ok(&f, T0 + 60 * SEC, "192.0.2.101", "192.0.2.101", 2); /* refresh: nothing */
    reg_ok(&f, T0 + 120 * SEC, "198.51.100.140", "198.51.100.140:5070", 3);
    dfx_finish(&f);
    CHECK_EQ_INT(count_sid(&f.rec, DET_SID_HIJACK), 1);
    CHECK_STR(source_field(&f.rec, "198.51.100.140", 0), "medium");
    CHECK_STR(source_field(&f.rec, "192.0.2.101", 0), "info");
}

/* ---- Malformed --------------------------------------------------------- */

static unsigned malformed(unsigned n)
{
    struct dfx f;
    dfx_init(&f, NULL, NULL);
    for (unsigned i = 0; i < n; i++)
        feed(&f, T0 + i * SEC, "198.51.100.5", "192.0.2.1",
             "INVITE sip:%u@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.5;branch=z9hG4bK-m%u\n"
             "To: <sip:1@192.0.2.1>\nCall-ID: mal-%u\nCSeq: 1 INVITE\nContent-Length: 0\n\n",
             i, i, i); /* no From: malformed */
    dfx_finish(&f);
    return count_sid(&f.rec, DET_SID_MALFORMED);
}

TEST(detect_malformed_at_and_below_threshold)
{
    CHECK_EQ_INT(malformed(4), 0);
    CHECK_EQ_INT(malformed(5), 1);
}

/* ---- Rules ------------------------------------------------------------- */

TEST(detect_rules_fire_and_name_the_tool)
{
    struct dfx f;
    dfx_init(&f, NULL,
             "alert sip any any -> any any (msg:\"ua\"; sip.user_agent; content:\"friendly-scanner\"; "
             "classtype:attempted-recon; metadata:tool sipvicious, technique sweep; sid:9; rev:2;)\n");
    feed(&f, T0, "198.51.100.23", "192.0.2.1",
         "OPTIONS sip:100@192.0.2.1 SIP/2.0\nVia: SIP/2.0/UDP 198.51.100.23:5060;branch=z9hG4bK-1\n"
         "From: <sip:100@1.1.1.1>;tag=x\nTo: <sip:100@1.1.1.1>\nCall-ID: r1\nCSeq: 1 OPTIONS\n"
         "User-Agent: friendly-scanner\nContent-Length: 0\n\n");
    dfx_finish(&f);
    CHECK_EQ_INT(count_sid(&f.rec, 9), 1);
    CHECK_STR(f.rec.sev[0], "medium"); /* attempted-recon: priority 2 */
    CHECK_STR(source_field(&f.rec, "198.51.100.23", 2), "sipvicious,");
    /* a fingerprint alone is low, never more */
    CHECK_STR(source_field(&f.rec, "198.51.100.23", 0), "low");
}

/* ---- Fingerprints ------------------------------------------------------ */

static bool parse_text(const char *text, struct sip_msg *msg)
{
    static char wire[4096];
    size_t n = 0, used;
    for (const char *p = text; *p && n + 2 < sizeof wire; p++) {
        if (*p == '\n')
            wire[n++] = '\r';
        wire[n++] = *p;
    }
    return sip_parse(sl_make((const uint8_t *)wire, n), SIP_DGRAM, msg, &used) == SIP_OK;
}

TEST(detect_sipvicious_tags)
{
    static struct sip_msg msg;
    struct fp_sipvicious sv;
    /* svmap (generated capture): c0000200 13c4 = 192.0.2.0:5060 */
    CHECK(parse_text("OPTIONS sip:100@192.0.2.0 SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\n"
                     "From: <sip:100@1.1.1.1>;tag=63303030303230303133633401353739353337303432\n"
                     "To: <sip:100@1.1.1.1>\nCall-ID: 1\nCSeq: 1 OPTIONS\n\n", &msg));
    CHECK(fp_sipvicious_tag(&msg, &sv));
    CHECK_EQ_INT(sv.kind, FP_SV_TARGET);
    char ip[IP_STRLEN];
    CHECK_STR(ip_format(&sv.target, ip, sizeof ip), "192.0.2.0");
    CHECK_EQ_INT(sv.target_port, 5060);
    /* svwar: the extension */
    CHECK(parse_text("REGISTER sip:192.0.2.60 SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\n"
                     "From: <sip:100@192.0.2.60>;tag=3130300133363139333133343930\n"
                     "To: <sip:100@192.0.2.60>\nCall-ID: 1\nCSeq: 1 REGISTER\n\n", &msg));
    CHECK(fp_sipvicious_tag(&msg, &sv));
    CHECK_EQ_INT(sv.kind, FP_SV_EXTENSION);
    CHECK_STR(sv.text, "100");
    /* random hex tags of other tools are not SIPVicious */
    CHECK(parse_text("OPTIONS sip:100@192.0.2.0 SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\n"
                     "From: <sip:100@1.1.1.1>;tag=41013537\nTo: <sip:1@1.1.1.1>\nCall-ID: 1\n"
                     "CSeq: 1 OPTIONS\n\n", &msg));
    CHECK(!fp_sipvicious_tag(&msg, &sv));
    CHECK(parse_text("OPTIONS sip:100@192.0.2.0 SIP/2.0\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bK-1\n"
                     "From: <sip:100@1.1.1.1>;tag=zz01\nTo: <sip:1@1.1.1.1>\nCall-ID: 1\n"
                     "CSeq: 1 OPTIONS\n\n", &msg));
    CHECK(!fp_sipvicious_tag(&msg, &sv));
}

TEST(detect_eyebeam_fake_and_genuine)
{
    static struct sip_msg msg;
    struct fp_eyebeam eb;
    struct l4_meta m = { 0 };
    ip_parse("203.0.113.5", &m.src);
    ip_parse("192.0.2.20", &m.dst);
    CHECK(parse_text(
        "INVITE sip:82727117149111@192.0.2.20;transport=udp SIP/2.0\n"
        "Via: SIP/2.0/UDP 203.0.113.5:5060;branch=00100100101000011000001100100203.0.113.5192.0.2.20715104324\n"
        "From: <sip:2143545182@203.0.113.5>;tag=2143545182203.0.113.5\nTo: <sip:82727117149111@192.0.2.20>\n"
        "Call-ID: e7eba3c80010001111203.0.113.5192.0.2.2071510432485acfbc827271171491112143545182\n"
        "CSeq: 1 INVITE\nUser-Agent: eyeBeam release 1003s stamp 31159\n\n", &msg));
    CHECK(fp_eyebeam_fake(&m, &msg, &eb));
    CHECK_STR(eb.scanner, "203.0.113.5");
    CHECK_STR(eb.victim, "192.0.2.20");
    CHECK_STR(eb.number, "82727117149111");
    /* a genuine eyeBeam: RFC 3261 branch */
    CHECK(parse_text("INVITE sip:201@192.0.2.1 SIP/2.0\n"
                     "Via: SIP/2.0/UDP 192.0.2.55:5060;branch=z9hG4bK-d87543-4a8f3e1b2c\n"
                     "From: <sip:200@192.0.2.1>;tag=abc\nTo: <sip:201@192.0.2.1>\nCall-ID: YzE0\n"
                     "CSeq: 1 INVITE\nUser-Agent: eyeBeam release 1003s stamp 31159\n\n", &msg));
    CHECK(!fp_eyebeam_fake(&m, &msg, &eb));
}

/* ---- E.164 ------------------------------------------------------------- */

TEST(detect_e164_table_and_numbers)
{
    char err[128];
    struct e164_table *t = e164_load_bundled(err, sizeof err);
    CHECK(t != NULL);
    if (!t)
        return;
    CHECK(e164_count(t) > 200);
    static const char *const outside[] = { "900", "90", "9", "8", "0", NULL };
    struct e164_number n;
    struct { const char *in; bool intl; const char *iso; } cases[] = {
        { "00252615123456", true, "SO" },   { "011252615123457", true, "SO" },
        { "900252615123458", true, "SO" },  { "0046701234567", true, "SE" },
        { "+1 (876) 555-0100", true, "JM" }, { "+12125550100", true, "US" },
        { "1010333011972599501806", true, "IL" }, { "9011972599501806", true, "IL" },
        { "00881622123456", true, "" },     { "202", false, "" },
        { "82727117149111", false, "" },
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(e164_parse(t, sl_cstr(cases[i].in), outside, &n));
        CHECK_EQ_INT(n.international, cases[i].intl);
        if (cases[i].intl) {
            CHECK(n.code != NULL);
            if (n.code)
                CHECK_STR(n.code->iso2, cases[i].iso);
        }
    }
    /* names and junk are not numbers */
    CHECK(!e164_parse(t, sl_cstr("alice"), outside, &n));
    CHECK(!e164_parse(t, sl_cstr(""), outside, &n));
    /* padding past 32 digits, and what follows '#', do not hide the destination */
    CHECK(e164_parse(t, sl_cstr("900252615123458000000000000000000000000"), outside, &n));
    CHECK(n.international && n.code && strcmp(n.code->iso2, "SO") == 0);
    CHECK(e164_parse(t, sl_cstr("00252615123456#77"), outside, &n));
    CHECK(n.international && strcmp(n.digits, "00252615123456") == 0);
    CHECK(!e164_parse(t, sl_cstr("#00252"), outside, &n));
    CHECK(!e164_parse(t, sl_make((const uint8_t *)"12\0" "3", 4), outside, &n));
    e164_free(t);
    /* a bad table names its line */
    CHECK(e164_load("# c\nprefix\tiso2\tcountry\trisk\n1\tUS\tX\tweird\n", 40, err, sizeof err) == NULL);
    CHECK(strstr(err, "line 3") != NULL);
}

/* ---- Config ------------------------------------------------------------ */

TEST(detect_config_file)
{
    struct detect_cfg c;
    detect_default_cfg(&c);
    char err[512];
    const char *ok = "# thresholds\nsweep.count = 20\nsweep.seconds=30\n"
                     "bruteforce.responses = 5\noutside_line = 9, 0, 900\n"
                     "var.HOME_NET = [192.0.2.0/24]\nshow_passwords = yes\n";
    CHECK(detect_cfg_parse(&c, ok, strlen(ok), err, sizeof err));
    CHECK_EQ_INT(c.sweep.count, 20);
    CHECK_EQ_INT(c.sweep.seconds, 30);
    CHECK_EQ_INT(c.bruteforce_responses, 5);
    CHECK_EQ_INT(c.n_outside, 3);
    CHECK_STR(c.outside[0], "900"); /* longest first */
    CHECK_STR(c.var_name[0], "HOME_NET");
    CHECK(c.show_passwords);
    const char *bad[] = { "sweep.count = 0\n", "sweep.count = ten\n", "nonsense = 1\n",
                          "just words\n", "trusted = 300.1.1.1\n", "home_country = UK\n",
                          "allowed_countries = GBR\n" };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        detect_default_cfg(&c);
        err[0] = '\0';
        CHECK(!detect_cfg_parse(&c, bad[i], strlen(bad[i]), err, sizeof err));
        CHECK(strncmp(err, "1: ", 3) == 0);
    }
    CHECK(!detect_cfg_load(&c, "/nonexistent/sipsift.conf", err, sizeof err));
    CHECK(strstr(err, "cannot open") != NULL);
}

/* ---- Severity ---------------------------------------------------------- */

TEST(detect_severity_model)
{
    static struct src_profile p;
    memset(&p, 0, sizeof p);
    CHECK_EQ_INT(src_severity(&p), SEV_INFO);
    src_add_tool(&p, "sipsak", false);
    CHECK_EQ_INT(src_severity(&p), SEV_INFO); /* a test tool is not an attack */
    src_add_tool(&p, "sipvicious", true);
    CHECK_EQ_INT(src_severity(&p), SEV_LOW);  /* a fingerprint alone */
    src_add_technique(&p, RULE_T_SWEEP, SEV_LOW, "sweep");
    CHECK_EQ_INT(src_severity(&p), SEV_MEDIUM); /* raised one step by the fingerprint */
    src_add_technique(&p, RULE_T_BRUTEFORCE, SEV_HIGH, "bf");
    CHECK_EQ_INT(src_severity(&p), SEV_HIGH);   /* high is not raised to critical */
    src_add_chain(&p, SEV_CRITICAL, "success");
    CHECK_EQ_INT(src_severity(&p), SEV_CRITICAL);
    CHECK_EQ_INT(p.n_reasons, 3);
    CHECK_STR(src_severity_name(SEV_CRITICAL), "critical");
}

TEST(detect_bundled_rules_are_compiled_in)
{
    const struct embedded_file *f = embedded_get("sipsift.rules");
    CHECK(f != NULL && f->len > 1000);
    struct ruleset *rs = ruleset_new();
    CHECK_EQ_INT(ruleset_load_text(rs, "bundled", (const char *)f->data, f->len, NULL, NULL), 0);
    CHECK(ruleset_count(rs) >= 11);
    ruleset_free(rs);
}
