/*
 * detect.c - the detection stage (detect.h): rules on every message, the
 * behaviour detectors of ATTACKS.md on counts within sliding windows of
 * capture time (rules/window.h), fingerprints that carry data, and the
 * verdicts written into the source profiles. Every table is bounded (LRU)
 * and forgets what stayed idle for DETECT_IDLE_SEC. Nothing here allocates
 * per message.
 */
#include "rules/detect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "dissect/dialog.h"
#include "dissect/digest.h"
#include "lib/table.h"
#include "rules/e164.h"
#include "rules/fingerprint.h"
#include "rules/profile.h"
#include "rules/window.h"

/* Reasons and details are cut to their buffers on purpose (attacker-sized
 * users and numbers must not make a reason unbounded). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define SEC_US 1000000ull

/* Kinds of keys in the shared pair and seen tables. */
enum {
    K_DST = 1,  /* seen: (source, destination IP) within the sweep window */
    K_REGD,     /* seen: (registrar, phone) - the phone registered through it */
    K_USER,     /* seen: (source, target, user) within the enumeration window */
    K_NUMBER,   /* seen: (source, international number) within the tollfraud window */
    K_RESP,     /* seen: (source, user, failed digest response) */
    K_ENUM,     /* pair: (source, target) enumeration counter */
    K_BF,       /* pair: (source, user) brute-force record */
    K_FLOOD_DST,/* pair: (target) requests from anyone */
    K_REGQ,     /* seen: (phone, registrar) - a REGISTER went that way */
    K_FLOOD_COPIES, /* pair: (target) retransmitted requests from anyone */
    K_BF_USER,  /* pair: (source, user) brute-force record, any realm (hijack) */
};

/* RFC 3261 timers resend one request at most ~3 times in 5 s (0.5, 1.5,
 * 3.5 s), twice that on a tap that mirrors each packet: more copies per new
 * request than this are a replay flood, counted as requests. */
#define FLOOD_COPIES_PER_REQUEST 8u

/* Per-source detector state. */
struct det_src {
    struct win sweep, flood, numbers, malformed, fails;
    struct win flood_copies;   /* retransmissions, for the flood count */
    uint64_t last_alert[16];   /* by alert slot (sid - 3100000), capture time */
    uint32_t malformed_kinds;  /* bit per malformation reason (hashed) */
    bool eyebeam_told, sv_told, sv_relay_told;
    bool bf_fast;              /* failures reached the bruteforce threshold once */
};

/* Per-pair counter. */
struct det_pair {
    struct win w;
    uint32_t fails, distinct;
    bool success, told;
    uint64_t last_alert;
};

struct det_binding {
    struct ip_addr src;
    ST_STR(64) contact_host;
};

struct det_guess {
    ST_STR(64) password;
};

struct detect {
    struct detect_cfg cfg;
    struct ruleset *rs;
    struct e164_table *e164;
    const char *outside[DCFG_MAX_LIST + 1];
    struct st_sinks out;
    struct st_observer obs;
    struct src_profiles *prof;
    struct table *srcs, *pairs, *seen, *bindings, *guesses;
    detect_crack_fn *crack;
    void *crack_ctx;
    struct detect_stats stats;
    struct rule_hit hits[DETECT_MAX_HITS];
    char pw[FP_TEXT_MAX + 1];
};

const char *detect_priority_severity(unsigned priority)
{
    return priority <= 1 ? "high" : priority == 2 ? "medium" : priority == 3 ? "low" : "info";
}

/* ---- Keys ------------------------------------------------------------- */

static struct st_key key_of(unsigned kind, const struct ip_addr *a, const struct ip_addr *b,
                            struct slice s1, struct slice s2)
{
    struct st_keybuf kb;
    st_kb_init(&kb);
    st_kb_u32(&kb, kind);
    if (a)
        st_kb_add(&kb, sl_make(a->b, sizeof a->b));
    if (b)
        st_kb_add(&kb, sl_make(b->b, sizeof b->b));
    st_kb_add(&kb, s1);
    st_kb_add(&kb, s2);
    return st_kb_key(&kb);
}

/* True when key is new, or was last seen longer than window_us ago; marks it seen now. */
static bool seen_fresh(struct detect *d, struct st_key k, uint64_t window_us, uint64_t now)
{
    void *v = table_peek(d->seen, &k, sizeof k);
    bool fresh = !v || now >= table_last_seen(d->seen, v) + window_us;
    table_put(d->seen, &k, sizeof k, now, NULL);
    return fresh;
}

static bool seen_has(struct detect *d, struct st_key k)
{
    return table_peek(d->seen, &k, sizeof k) != NULL;
}

static struct det_pair *pair_get(struct detect *d, struct st_key k, uint64_t now)
{
    return table_put(d->pairs, &k, sizeof k, now, NULL);
}

static struct det_src *src_state(struct detect *d, const struct ip_addr *ip, uint64_t now)
{
    return table_put(d->srcs, ip, sizeof *ip, now, NULL);
}

/* ---- Alerts ----------------------------------------------------------- */

struct alert_args {
    uint32_t sid;
    const char *msg, *classtype, *severity, *technique, *tool;
    uint8_t priority;
    const struct ip_addr *src, *dst;
    uint16_t sport, dport;
    uint8_t proto;
    struct slice call_id;
    uint64_t sip_id, ts_us;
};

static void emit_alert(struct detect *d, const struct alert_args *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emit_alert(struct detect *d, const struct alert_args *a, const char *fmt, ...)
{
    char detail[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    struct ev_alert e = {
        .ts_us = a->ts_us,
        .sid = a->sid,
        .rev = 1,
        .msg = a->msg,
        .classtype = a->classtype ? a->classtype : "",
        .severity = a->severity,
        .priority = a->priority,
        .tool = a->tool,
        .technique = a->technique,
        .src = *a->src,
        .dst = *a->dst,
        .sport = a->sport,
        .dport = a->dport,
        .proto = a->proto,
        .call_id = a->call_id,
        .sip_id = a->sip_id,
        .detail = sl_cstr(detail),
    };
    d->stats.alerts++;
    for (unsigned i = 0; i < d->out.n; i++)
        if (d->out.v[i].ops && d->out.v[i].ops->alert)
            d->out.v[i].ops->alert(d->out.v[i].self, &e);
}

/* At most one alert of a slot per source and window: a /16 sweep is one
 * alert a window, not 65,536. */
static bool alert_due(struct det_src *s, uint32_t sid, uint32_t seconds, uint64_t now)
{
    unsigned slot = (sid - 3100000u) % 16;
    if (s->last_alert[slot] && now < s->last_alert[slot] + (uint64_t)seconds * SEC_US)
        return false;
    s->last_alert[slot] = now ? now : 1;
    return true;
}

static uint8_t sev_priority(unsigned sev)
{
    return sev >= SEV_HIGH ? 1 : sev == SEV_MEDIUM ? 2 : sev == SEV_LOW ? 3 : 4;
}

/* A detector's verdict for a source: technique on the profile, alert if due. */
static void verdict(struct detect *d, struct det_src *s, const struct l4_meta *m, uint64_t sip_id,
                    struct slice call_id, uint32_t sid, unsigned tech, unsigned sev,
                    const char *msg, const char *classtype, uint32_t window_s, const char *reason)
{
    struct src_profile *p = d->prof ? src_find(d->prof, &m->src) : NULL;
    if (p)
        src_add_technique(p, tech, sev, reason);
    if (s && !alert_due(s, sid, window_s, m->ts_us))
        return;
    struct alert_args a = {
        .sid = sid, .msg = msg, .classtype = classtype, .severity = src_severity_name(sev),
        .technique = rule_technique_name(tech), .priority = sev_priority(sev),
        .src = &m->src, .dst = &m->dst, .sport = m->sport, .dport = m->dport, .proto = m->proto,
        .call_id = call_id, .sip_id = sip_id, .ts_us = m->ts_us,
    };
    emit_alert(d, &a, "%s", reason);
}

static void fmt_ip(const struct ip_addr *a, char *buf) { ip_format(a, buf, IP_STRLEN); }

/* A bounded, printable copy of attacker bytes for a reason text. */
static void printable(struct slice s, char *buf, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n && n + 1 < cap; i++)
        buf[n++] = s.p[i] >= 0x20 && s.p[i] < 0x7f ? (char)s.p[i] : '?';
    buf[n] = '\0';
}

/* ---- Rules ------------------------------------------------------------ */

static void run_rules(struct detect *d, const struct ev_sip *e)
{
    if (!d->rs)
        return;
    const struct l4_meta *m = e->m;
    unsigned n = ruleset_match(d->rs, m, e->msg, m->ts_us, d->hits, DETECT_MAX_HITS);
    struct src_profile *p = d->prof && e->msg->is_request ? src_find(d->prof, &m->src) : NULL;
    for (unsigned i = 0; i < n; i++) {
        const struct rule_hit *h = &d->hits[i];
        struct alert_args a = {
            .sid = h->sid, .msg = h->msg, .classtype = h->classtype,
            .severity = detect_priority_severity(h->priority), .technique = h->technique,
            .tool = h->tool, .priority = h->priority, .src = &m->src, .dst = &m->dst,
            .sport = m->sport, .dport = m->dport, .proto = m->proto, .call_id = e->msg->call_id,
            .sip_id = e->id, .ts_us = m->ts_us,
        };
        emit_alert(d, &a, NULL);
        d->stats.rule_alerts++;
        if (!p)
            continue;
        /* A fingerprint rule names the tool (an attack tool when it names
         * techniques too); the detectors decide techniques from behaviour.
         * A rule with no tool and one technique is a behaviour rule. */
        char reason[SRC_REASON_MAX];
        if (h->tool) {
            src_add_tool(p, h->tool, h->techniques != 0);
            snprintf(reason, sizeof reason, "%s fingerprint: rule %u", h->tool, h->sid);
            src_add_reason(p, reason);
        } else if (h->technique && (h->techniques & (h->techniques - 1)) == 0) {
            unsigned t = 0;
            while (t < RULE_T__COUNT && !(h->techniques & (1u << t)))
                t++;
            unsigned sev = h->priority <= 1 ? SEV_HIGH : h->priority == 2 ? SEV_MEDIUM : SEV_LOW;
            snprintf(reason, sizeof reason, "%s: rule %u", h->technique, h->sid);
            src_add_technique(p, t, sev, reason);
        }
    }
}

/* ---- Per-request detectors -------------------------------------------- */

static bool allowed_country(const struct detect *d, const char *iso2)
{
    for (unsigned i = 0; i < d->cfg.n_allowed; i++)
        if (strcmp(d->cfg.allowed[i], iso2) == 0)
            return true;
    return false;
}

static bool risky_country(const struct detect *d, const struct e164_code *c)
{
    if (c->risk != E164_RISK_NORMAL)
        return true;
    for (unsigned i = 0; i < d->cfg.n_high_risk; i++)
        if (c->iso2[0] && strcmp(d->cfg.high_risk[i], c->iso2) == 0)
            return true;
    return false;
}

/* Dialed number of an initial INVITE: Request-URI user (tel: number). */
static bool dialed_abroad(const struct detect *d, struct slice user, struct e164_number *num)
{
    if (!e164_parse(d->e164, user, d->outside, num) || !num->international)
        return false;
    /* Home is the home code itself, not a longer code under it: with
     * home_country 1, +1 876 is Jamaica (the table's own row), not home. */
    const char *home = d->cfg.home_country;
    size_t hn = strlen(home);
    if (hn && strncmp(num->national, home, hn) == 0 &&
        (!num->code || strlen(num->code->prefix) <= hn))
        return false;
    return !(num->code && num->code->iso2[0] && allowed_country(d, num->code->iso2));
}

static void on_invite(struct detect *d, struct det_src *s, const struct ev_sip *e,
                      struct src_profile *p)
{
    const struct l4_meta *m = e->m;
    const struct sip_msg *msg = e->msg;
    struct slice user = msg->ruri.user;
    struct e164_number num;
    bool parsed = e164_parse(d->e164, user, d->outside, &num);
    bool abroad = parsed && dialed_abroad(d, user, &num);
    if (p && parsed)
        src_add_number(p, user, abroad && num.code ? num.code->iso2 : "");
    if (!abroad)
        return;
    char reason[SRC_REASON_MAX], nb[E164_MAX_DIGITS + 1];
    printable(user, nb, sizeof nb);
    const struct e164_code *c = num.code;
    if (c && risky_country(d, c)) {
        snprintf(reason, sizeof reason, "INVITE to %s destination %s (+%s %s)",
                 c->risk == E164_RISK_PREMIUM ? "premium" : "high-risk", nb, c->prefix, c->country);
        verdict(d, s, m, e->id, msg->call_id, DET_SID_TOLLFRAUD_RISK, RULE_T_TOLLFRAUD, SEV_HIGH,
                "SIPSIFT toll fraud: call to a high-risk or premium destination", "policy-violation",
                d->cfg.tollfraud.seconds, reason);
    }
    /* Distinct dial strings: many numbers, or one number tried behind many
     * prefixes (9, 011, carrier codes) to find a way out of the dial plan. */
    struct st_key k = key_of(K_NUMBER, &m->src, NULL, sl_cstr(num.digits), SL_NULL);
    uint64_t win = (uint64_t)d->cfg.tollfraud.seconds * SEC_US;
    if (seen_fresh(d, k, win, m->ts_us)) {
        uint32_t n = win_add(&s->numbers, win_width(d->cfg.tollfraud.seconds), m->ts_us, 1);
        if (n >= d->cfg.tollfraud.count) {
            snprintf(reason, sizeof reason, "%u international dial strings within %u s (last %s)", n,
                     d->cfg.tollfraud.seconds, nb);
            verdict(d, s, m, e->id, msg->call_id, DET_SID_TOLLFRAUD_MANY, RULE_T_TOLLFRAUD, SEV_HIGH,
                    "SIPSIFT toll fraud: calls to many international numbers or prefixes",
                    "policy-violation",
                    d->cfg.tollfraud.seconds, reason);
        }
    }
}

static void fingerprints(struct detect *d, struct det_src *s, const struct ev_sip *e,
                         struct src_profile *p)
{
    const struct l4_meta *m = e->m;
    const struct sip_msg *msg = e->msg;
    char reason[SRC_REASON_MAX];
    struct fp_sipvicious sv;
    if (fp_sipvicious_tag(msg, &sv)) {
        if (p)
            src_add_tool(p, "sipvicious", true);
        if (sv.kind == FP_SV_GUESS) {
            /* svcrack: remember the guess by its digest response; the
             * outcome (auth observer) tells whether it was the password. */
            const struct sip_header *h = st_header(msg, SIP_H_AUTHORIZATION, 0);
            if (!h)
                h = st_header(msg, SIP_H_PROXY_AUTHORIZATION, 0);
            struct sip_digest dg;
            if (h && sip_digest_parse(h->value, &dg) && !sl_empty(dg.response)) {
                struct st_key k = key_of(0, &m->src, NULL, dg.username, dg.response);
                struct det_guess *g = table_put(d->guesses, &k, sizeof k, m->ts_us, NULL);
                if (g)
                    st_set(g->password, sl_cstr(sv.password));
            }
        }
        if (p && sv.kind == FP_SV_TARGET && !s->sv_relay_told && !ip_eq(&sv.target, &m->dst)) {
            /* svmap wrote the address it meant to probe: another one here
             * means the probe was relayed, NATed or spoofed on the way. */
            s->sv_relay_told = true;
            char want[IP_STRLEN], got[IP_STRLEN];
            fmt_ip(&sv.target, want);
            fmt_ip(&m->dst, got);
            snprintf(reason, sizeof reason, "svmap probe meant for %s:%u arrived at %s", want,
                     sv.target_port, got);
            src_add_reason(p, reason);
        }
        if (p && !s->sv_told) {
            s->sv_told = true;
            const char *what = sv.kind == FP_SV_TARGET ? "svmap (target in the tag)"
                             : sv.kind == FP_SV_GUESS ? "svcrack (user:password in the tag)"
                                                      : "svwar (extension in the tag)";
            snprintf(reason, sizeof reason, "SIPVicious From tag: %s", what);
            src_add_reason(p, reason);
        }
    }
    if (p && fp_sipp(msg))
        src_add_tool(p, "sipp", false);
    struct fp_eyebeam eb;
    if (fp_eyebeam_fake(m, msg, &eb)) {
        if (p) {
            src_add_tool(p, "eyebeam-fake", true);
            snprintf(reason, sizeof reason, "fake eyeBeam scanner: scanner %s, victim %s, number %s",
                     eb.scanner, eb.victim, eb.number[0] ? eb.number : "-");
            if (!s->eyebeam_told)
                src_add_reason(p, reason);
        }
        if (!s->eyebeam_told) {
            s->eyebeam_told = true;
            struct alert_args a = {
                .sid = DET_SID_EYEBEAM_FAKE,
                .msg = "SIPSIFT fake eyeBeam scanner (addresses and number encoded in branch/Call-ID)",
                .classtype = "attempted-recon", .severity = "medium", .technique = "sweep",
                .tool = "eyebeam-fake", .priority = 2, .src = &m->src, .dst = &m->dst,
                .sport = m->sport, .dport = m->dport, .proto = m->proto, .call_id = msg->call_id,
                .sip_id = e->id, .ts_us = m->ts_us,
            };
            emit_alert(d, &a, "scanner %s, victim %s, number %s", eb.scanner, eb.victim,
                       eb.number[0] ? eb.number : "-");
        }
    }
}

/* Requests and copies counted with their windows' counts: new ones, plus
 * the copies beyond what retransmission timers explain. */
static uint32_t flood_count(struct win *req, struct win *copies, uint64_t width, uint64_t now,
                            bool fresh)
{
    uint64_t n = win_add(req, width, now, fresh ? 1 : 0);
    uint64_t c = win_add(copies, width, now, fresh ? 0 : 1);
    if (c > n * FLOOD_COPIES_PER_REQUEST)
        n += c - n * FLOOD_COPIES_PER_REQUEST;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* flood: requests per source, and to one target from anyone. A copy of a
 * request (fresh false) counts only past what retransmissions explain: one
 * packet replayed at line rate is a flood, not a retransmission. */
static void on_flood(struct detect *d, struct det_src *s, const struct ev_sip *e, bool fresh)
{
    const struct l4_meta *m = e->m;
    const struct sip_msg *msg = e->msg;
    const struct detect_cfg *c = &d->cfg;
    char reason[SRC_REASON_MAX];
    uint32_t n = flood_count(&s->flood, &s->flood_copies, win_width(c->flood_source.seconds),
                             m->ts_us, fresh);
    if (n >= c->flood_source.count) {
        snprintf(reason, sizeof reason, "%u requests within %u s", n, c->flood_source.seconds);
        verdict(d, s, m, e->id, msg->call_id, DET_SID_FLOOD_SOURCE, RULE_T_FLOOD, SEV_MEDIUM,
                "SIPSIFT flood: request rate from one source", "attempted-dos",
                c->flood_source.seconds * 12, reason);
    }
    struct det_pair *fp = pair_get(d, key_of(K_FLOOD_DST, NULL, &m->dst, SL_NULL, SL_NULL), m->ts_us);
    struct det_pair *fc = pair_get(d, key_of(K_FLOOD_COPIES, NULL, &m->dst, SL_NULL, SL_NULL), m->ts_us);
    if (fp && fc) {
        uint32_t t = flood_count(&fp->w, &fc->w, win_width(c->flood_target.seconds), m->ts_us, fresh);
        if (t >= c->flood_target.count &&
            (!fp->last_alert || m->ts_us >= fp->last_alert + 60 * SEC_US)) {
            fp->last_alert = m->ts_us;
            struct alert_args a = {
                .sid = DET_SID_FLOOD_TARGET, .msg = "SIPSIFT flood: request rate to one target",
                .classtype = "attempted-dos", .severity = "medium", .technique = "flood",
                .priority = 2, .src = &m->src, .dst = &m->dst, .sport = m->sport,
                .dport = m->dport, .proto = m->proto, .call_id = msg->call_id, .sip_id = e->id,
                .ts_us = m->ts_us,
            };
            emit_alert(d, &a, "%u requests to this target within %u s", t, c->flood_target.seconds);
        }
    }
}

static void on_request(struct detect *d, const struct ev_sip *e)
{
    const struct l4_meta *m = e->m;
    const struct sip_msg *msg = e->msg;
    if (sl_empty(msg->method) || detect_cfg_trusted(&d->cfg, &m->src))
        return;
    struct det_src *s = src_state(d, &m->src, m->ts_us);
    if (!s)
        return;
    if (e->retransmission) {
        on_flood(d, s, e, false);
        return;
    }
    struct src_profile *p = d->prof ? src_find(d->prof, &m->src) : NULL;
    const struct detect_cfg *c = &d->cfg;
    char reason[SRC_REASON_MAX];

    fingerprints(d, s, e, p);

    on_flood(d, s, e, true);
    uint32_t n;

    /* sweep: distinct destinations, leaving out phones that registered through this source */
    uint64_t sweep_win = (uint64_t)c->sweep.seconds * SEC_US;
    if (!seen_has(d, key_of(K_REGD, &m->src, &m->dst, SL_NULL, SL_NULL)) &&
        seen_fresh(d, key_of(K_DST, &m->src, &m->dst, SL_NULL, SL_NULL), sweep_win, m->ts_us)) {
        n = win_add(&s->sweep, win_width(c->sweep.seconds), m->ts_us, 1);
        if (n >= c->sweep.count) {
            snprintf(reason, sizeof reason, "%u hosts probed within %u s (%u in all)", n,
                     c->sweep.seconds, p ? p->targets : n);
            verdict(d, s, m, e->id, msg->call_id, DET_SID_SWEEP, RULE_T_SWEEP, SEV_LOW,
                    "SIPSIFT sweep: one source probing many hosts", "attempted-recon",
                    c->sweep.seconds, reason);
        }
    }

    /* enumeration: distinct users at one target */
    uint8_t meth = msg->method_id;
    if (meth == SIP_M_REGISTER || meth == SIP_M_INVITE || meth == SIP_M_OPTIONS ||
        meth == SIP_M_SUBSCRIBE || meth == SIP_M_MESSAGE) {
        struct slice user = !sl_empty(msg->ruri.user) ? msg->ruri.user : msg->to.uri.user;
        uint64_t win = (uint64_t)c->enumeration.seconds * SEC_US;
        if (!sl_empty(user) &&
            seen_fresh(d, key_of(K_USER, &m->src, &m->dst, user, SL_NULL), win, m->ts_us)) {
            struct det_pair *ep = pair_get(d, key_of(K_ENUM, &m->src, &m->dst, SL_NULL, SL_NULL),
                                           m->ts_us);
            uint32_t u = ep ? win_add(&ep->w, win_width(c->enumeration.seconds), m->ts_us, 1) : 0;
            if (u >= c->enumeration.count) {
                char dst[IP_STRLEN];
                fmt_ip(&m->dst, dst);
                snprintf(reason, sizeof reason, "%u users tried at %s within %u s (%u found)", u,
                         dst, c->enumeration.seconds, p ? p->n_extensions : 0);
                verdict(d, s, m, e->id, msg->call_id, DET_SID_ENUMERATION, RULE_T_ENUMERATION,
                        SEV_MEDIUM, "SIPSIFT enumeration: many users tried at one target",
                        "attempted-recon", c->enumeration.seconds, reason);
            }
        }
    }

    if (meth == SIP_M_INVITE && sl_empty(msg->to.tag))
        on_invite(d, s, e, p);
}

/* A malformed message: a burst from one source is a fuzzer or an exploit try. */
static void on_malformed(struct detect *d, const struct ev_sip *e)
{
    const struct l4_meta *m = e->m;
    /* A message the capture cut (snaplen) is broken by the sensor, not the sender. */
    if (detect_cfg_trusted(&d->cfg, &m->src) || (m->flags & L4_F_TRUNCATED) ||
        (e->msg->anomalies & SIP_ANOM_TRUNCATED))
        return;
    struct det_src *s = src_state(d, &m->src, m->ts_us);
    if (!s)
        return;
    const char *why = e->msg->malformed;
    s->malformed_kinds |= 1u << (table_hash(why, strlen(why)) % 32);
    uint32_t n = win_add(&s->malformed, win_width(d->cfg.malformed.seconds), m->ts_us, 1);
    if (n < d->cfg.malformed.count)
        return;
    unsigned kinds = (unsigned)__builtin_popcount(s->malformed_kinds);
    unsigned sev = kinds >= d->cfg.malformed_variety ? SEV_MEDIUM : SEV_LOW;
    char reason[SRC_REASON_MAX];
    snprintf(reason, sizeof reason, "%u malformed messages within %u s, %u kinds (last: %.40s)", n,
             d->cfg.malformed.seconds, kinds, why);
    verdict(d, s, m, e->id, e->msg->call_id, DET_SID_MALFORMED, RULE_T_MALFORMED, sev,
            sev >= SEV_MEDIUM ? "SIPSIFT malformed: fuzzer-like burst of broken messages"
                              : "SIPSIFT malformed: burst of broken messages",
            "protocol-command-decode", d->cfg.malformed.seconds, reason);
}

static void on_response(struct detect *d, const struct ev_sip *e)
{
    const struct sip_msg *msg = e->msg;
    /* A 2xx to REGISTER: the phone registered through this registrar, whose
     * qualify pings to it are then not a sweep (ATTACKS.md traps). */
    /* Only a 2xx answering a REGISTER seen from that phone to this
     * registrar: a sweeper's own forged 200s must not exempt its probes. */
    if (!e->retransmission && msg->cseq.method_id == SIP_M_REGISTER && msg->status >= 200 &&
        msg->status < 300 && seen_has(d, key_of(K_REGQ, &e->m->dst, &e->m->src, SL_NULL, SL_NULL)))
        seen_fresh(d, key_of(K_REGD, &e->m->src, &e->m->dst, SL_NULL, SL_NULL), 0, e->m->ts_us);
}

static void obs_sip(void *ctx, const struct ev_sip *e)
{
    struct detect *d = ctx;
    run_rules(d, e);
    if (e->msg->malformed)
        on_malformed(d, e);
    if (e->msg->is_request && !e->retransmission && e->msg->method_id == SIP_M_REGISTER)
        seen_fresh(d, key_of(K_REGQ, &e->m->src, &e->m->dst, SL_NULL, SL_NULL), 0, e->m->ts_us);
    if (e->msg->is_request)
        on_request(d, e);
    else
        on_response(d, e);
}

/* ---- Outcomes from the state ------------------------------------------ */

static void obs_auth(void *ctx, struct ev_auth *e)
{
    struct detect *d = ctx;
    bool accepted = !strcmp(e->result, "accepted");
    bool failure = !strcmp(e->result, "rejected") &&
                   (e->status == 401 || e->status == 403 || e->status == 407);
    struct src_profile *p = d->prof ? src_find(d->prof, &e->src) : NULL;

    /* The password: read from a tool's tag, or recovered with --wordlist. */
    struct st_key gk = key_of(0, &e->src, NULL, e->username, e->response);
    struct det_guess *g = table_peek(d->guesses, &gk, sizeof gk);
    struct slice pw = SL_NULL;
    if (g) {
        pw = st_sl(g->password);
    } else if (d->crack && (accepted || failure) && d->crack(d->crack_ctx, e, d->pw, sizeof d->pw)) {
        pw = sl_cstr(d->pw);
    }
    if (!sl_empty(pw)) {
        d->stats.passwords++;
        if (!d->cfg.show_passwords)
            pw = SL_LIT("(redacted)");
        e->password = pw;
        if (p && (accepted || !g))
            src_set_password(p, e->username, e->realm, pw, accepted);
    }
    if ((!accepted && !failure) || detect_cfg_trusted(&d->cfg, &e->src))
        return;

    struct det_src *s = src_state(d, &e->src, e->ts_us);
    struct det_pair *bp = pair_get(d, key_of(K_BF, &e->src, NULL, e->username, e->realm), e->ts_us);
    struct det_pair *bu = pair_get(d, key_of(K_BF_USER, &e->src, NULL, e->username, SL_NULL), e->ts_us);
    if (!s || !bp || !bu)
        return;
    struct l4_meta m = { .ts_us = e->ts_us, .src = e->src, .dst = e->dst, .sport = e->sport,
                         .dport = e->dport, .proto = e->proto };
    char reason[SRC_REASON_MAX], user[48];
    printable(e->username, user, sizeof user);
    const struct detect_cfg *c = &d->cfg;
    if (accepted) {
        /* Success after a brute force: the source failed at machine speed
         * (threshold reached), or an attack tool guessed. A person who
         * mistypes a password four times in six minutes is not one. */
        bool attack = s->bf_fast || (p && p->scanner);
        if (bp->fails >= 3 && !bp->success && !bp->told && !attack && p) {
            bp->told = true;
            snprintf(reason, sizeof reason, "user %s accepted after %u failed attempts (slow: a person retyping?)",
                     user, bp->fails);
            src_add_reason(p, reason);
        }
        if (bp->fails >= 3 && !bp->success && attack) {
            bp->success = bu->success = true;
            snprintf(reason, sizeof reason, "brute force succeeded: user %s accepted after %u failures%s",
                     user, bp->fails, sl_empty(pw) ? "" : " (password known)");
            if (p) {
                src_add_technique(p, RULE_T_BRUTEFORCE, SEV_HIGH, NULL);
                src_add_chain(p, SEV_CRITICAL, reason);
            }
            struct alert_args a = {
                .sid = DET_SID_BRUTEFORCE_SUCCESS, .msg = "SIPSIFT brute force succeeded",
                .classtype = "successful-user", .severity = "critical", .technique = "bruteforce",
                .priority = 1, .src = &m.src, .dst = &m.dst, .sport = m.sport, .dport = m.dport,
                .proto = m.proto, .call_id = e->call_id, .ts_us = m.ts_us,
            };
            emit_alert(d, &a, "%s", reason);
        }
        return;
    }
    bp->fails++;
    bu->fails++;
    if (seen_fresh(d, key_of(K_RESP, &e->src, NULL, e->username, e->response), UINT64_MAX / 2,
                   e->ts_us))
        bp->distinct++;
    uint32_t n = win_add(&s->fails, win_width(c->bruteforce.seconds), e->ts_us, 1);
    if (n >= c->bruteforce.count) {
        s->bf_fast = true;
        snprintf(reason, sizeof reason, "%u failed digest attempts within %u s (user %s: %u responses)",
                 n, c->bruteforce.seconds, user, bp->distinct);
        verdict(d, s, &m, 0, e->call_id, DET_SID_BRUTEFORCE, RULE_T_BRUTEFORCE, SEV_HIGH,
                "SIPSIFT brute force: repeated failed digest authentication", "attempted-user",
                c->bruteforce.seconds, reason);
    } else if (bp->distinct >= c->bruteforce_responses) {
        /* Slow, or one phone with a wrong password: worth telling, not alarming. */
        snprintf(reason, sizeof reason, "%u failed digest attempts for user %s with %u different responses",
                 bp->fails, user, bp->distinct);
        verdict(d, s, &m, 0, e->call_id, DET_SID_BRUTEFORCE_SLOW, RULE_T_BRUTEFORCE, SEV_LOW,
                "SIPSIFT repeated digest failures for one user (wrong password or slow brute force)",
                "attempted-user", c->bruteforce.seconds, reason);
    }
}

/* Host part of a Contact URI ("sip:u@host:port;p" -> host). */
static struct slice uri_host(struct slice uri)
{
    size_t at = sl_find_byte(uri, '@');
    struct slice h = at < uri.n ? sl_drop(uri, at + 1) : sl_drop(uri, sl_find_byte(uri, ':') + 1);
    size_t end = 0;
    if (h.n && h.p[0] == '[')
        end = sl_find_byte(h, ']') + 1;
    else
        while (end < h.n && h.p[end] != ':' && h.p[end] != ';' && h.p[end] != '>' && h.p[end] != '?')
            end++;
    return sl_prefix(h, end);
}

static void obs_registration(void *ctx, const struct ev_registration *e)
{
    struct detect *d = ctx;
    if (strcmp(e->result, "registered") != 0 || sl_empty(e->aor))
        return;
    struct st_key k = key_of(0, NULL, NULL, e->aor, SL_LIT("binding"));
    struct det_binding *b = table_peek(d->bindings, &k, sizeof k);
    struct slice host = uri_host(e->contact);
    /* Did this source brute-force this user (any realm) and get in? The
     * registration is told before the auth outcome of the same REGISTER
     * (state.c), so a 2xx after a brute force that meets obs_auth's test is
     * the success itself. Kept in the detector's own table: the profile's
     * credential list lives in a string pool an attacker can fill first. */
    struct src_profile *p = d->prof ? src_find(d->prof, &e->src) : NULL;
    struct st_key uk = key_of(K_BF_USER, &e->src, NULL, e->user, SL_NULL);
    const struct det_pair *bu = table_peek(d->pairs, &uk, sizeof uk);
    /* The REGISTER that carries the winning guess is the brute force's
     * success (obs_auth, told after this): a hijack is a registration after
     * it, binding the account the attacker now owns. */
    bool cracked = bu && bu->success;
    char reason[SRC_REASON_MAX], user[48], hb[64], src[IP_STRLEN];
    printable(e->user, user, sizeof user);
    printable(host, hb, sizeof hb);
    fmt_ip(&e->src, src);
    bool moved = b && !sl_eq(st_sl(b->contact_host), sl_prefix(host, 64)) && !ip_eq(&b->src, &e->src);
    if ((moved || cracked) && !detect_cfg_trusted(&d->cfg, &e->src)) {
        unsigned sev = cracked ? SEV_CRITICAL : SEV_MEDIUM;
        if (cracked)
            snprintf(reason, sizeof reason, "hijack: registered brute-forced user %s with Contact host %s",
                     user, hb);
        else {
            char old[64];
            printable(st_sl(b->contact_host), old, sizeof old);
            snprintf(reason, sizeof reason, "hijack: user %s's Contact moved from %s to %s by %s", user,
                     old, hb, src);
        }
        struct l4_meta m = { .ts_us = e->resp_us ? e->resp_us : e->ts_us, .src = e->src, .dst = e->dst,
                             .sport = e->sport, .dport = e->dport, .proto = e->proto };
        struct det_src *s = src_state(d, &e->src, m.ts_us);
        if (p) {
            src_add_technique(p, RULE_T_HIJACK, sev, reason);
            if (cracked)
                src_add_chain(p, SEV_CRITICAL, NULL);
        }
        if (s && alert_due(s, DET_SID_HIJACK, 60, m.ts_us)) {
            struct alert_args a = {
                .sid = DET_SID_HIJACK, .msg = "SIPSIFT registration hijack: Contact replaced",
                .classtype = "successful-user", .severity = src_severity_name(sev),
                .technique = "hijack", .priority = sev_priority(sev), .src = &m.src, .dst = &m.dst,
                .sport = m.sport, .dport = m.dport, .proto = m.proto, .call_id = e->call_id,
                .ts_us = m.ts_us,
            };
            emit_alert(d, &a, "%s", reason);
        }
    }
    b = table_put(d->bindings, &k, sizeof k, e->ts_us, NULL);
    if (b) {
        b->src = e->src;
        st_set(b->contact_host, host);
    }
}

static void obs_call(void *ctx, const struct ev_call *e)
{
    struct detect *d = ctx;
    if (!e->answer_us || !d->prof)
        return;
    struct src_profile *p = src_find(d->prof, &e->src);
    struct e164_number num;
    if (!p || !src_has_technique(p, RULE_T_TOLLFRAUD) || !dialed_abroad(d, e->to_user, &num))
        return;
    char reason[SRC_REASON_MAX], nb[E164_MAX_DIGITS + 1];
    printable(e->to_user, nb, sizeof nb);
    uint64_t secs = e->end_us > e->answer_us ? (e->end_us - e->answer_us) / SEC_US : 0;
    snprintf(reason, sizeof reason, "toll fraud: call to %s (%s) answered, %llu s", nb,
             num.code ? num.code->country : "unknown", (unsigned long long)secs);
    src_add_chain(p, SEV_CRITICAL, reason);
}

static void obs_teardown(void *ctx, const struct l4_meta *m, const struct sip_msg *msg,
                         const struct dialog *dlg)
{
    struct detect *d = ctx;
    if (detect_cfg_trusted(&d->cfg, &m->src))
        return;
    struct det_src *s = src_state(d, &m->src, m->ts_us);
    char reason[SRC_REASON_MAX], src[IP_STRLEN], cid[40];
    fmt_ip(&m->src, src);
    printable(msg->call_id, cid, sizeof cid);
    const char *what = msg->method_id == SIP_M_BYE ? "BYE" : "CANCEL";
    if (!dlg) {
        /* Could be a call whose INVITE came before the capture started: low. */
        snprintf(reason, sizeof reason, "%s for a call not seen (Call-ID %s)", what, cid);
        verdict(d, s, m, 0, msg->call_id, DET_SID_TEARDOWN_UNKNOWN, RULE_T_TEARDOWN_SPOOF, SEV_LOW,
                "SIPSIFT teardown for an unknown dialog", "misc-activity", 60, reason);
        return;
    }
    bool party = ip_eq(&m->src, &dlg->src) || ip_eq(&m->src, &dlg->dst) ||
                 (dlg->phase == DLG_ANSWERED && ip_eq(&m->src, &dlg->callee));
    if (party)
        return;
    char a[IP_STRLEN], b[IP_STRLEN];
    fmt_ip(&dlg->src, a);
    fmt_ip(dlg->phase == DLG_ANSWERED ? &dlg->callee : &dlg->dst, b);
    snprintf(reason, sizeof reason, "%s from %s, not a party of call %s (%s <-> %s)", what, src, cid, a, b);
    verdict(d, s, m, 0, msg->call_id, DET_SID_TEARDOWN_SPOOF, RULE_T_TEARDOWN_SPOOF, SEV_HIGH,
            "SIPSIFT teardown spoofing: BYE/CANCEL from outside the dialog", "attempted-dos", 60,
            reason);
}

static void obs_tick(void *ctx, uint64_t now_us)
{
    struct detect *d = ctx;
    table_expire(d->srcs, now_us);
    table_expire(d->pairs, now_us);
    table_expire(d->seen, now_us);
    table_expire(d->bindings, now_us);
    table_expire(d->guesses, now_us);
}

/* ---- Life cycle ------------------------------------------------------- */

struct detect *detect_new(const struct detect_cfg *cfg, struct ruleset *rs, const struct sink *sinks,
                          unsigned n_sinks, char *err, size_t errlen)
{
    struct detect *d = calloc(1, sizeof *d);
    if (!d) {
        ruleset_free(rs);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->cfg = *cfg;
    d->rs = rs;
    for (unsigned i = 0; i < cfg->n_outside; i++)
        d->outside[i] = d->cfg.outside[i];
    if (n_sinks) {
        d->out.v = calloc(n_sinks, sizeof *d->out.v);
        if (d->out.v) {
            memcpy(d->out.v, sinks, n_sinks * sizeof *sinks);
            d->out.n = n_sinks;
        }
    }
    d->obs = (struct st_observer){ .ctx = d, .sip = obs_sip, .tick = obs_tick, .auth = obs_auth,
                                   .registration = obs_registration, .call = obs_call,
                                   .teardown = obs_teardown };
    uint64_t idle = DETECT_IDLE_SEC * SEC_US;
    struct table_cfg tc = { .name = "detect_sources", .capacity = DETECT_MAX_SOURCES,
                            .value_size = sizeof(struct det_src), .key_max = sizeof(struct ip_addr),
                            .idle_us = idle };
    d->srcs = table_new(&tc);
    tc = (struct table_cfg){ .name = "detect_pairs", .capacity = DETECT_MAX_PAIRS,
                             .value_size = sizeof(struct det_pair), .key_max = sizeof(struct st_key),
                             .idle_us = idle };
    d->pairs = table_new(&tc);
    tc.name = "detect_seen";
    tc.value_size = 1;
    d->seen = table_new(&tc);
    tc = (struct table_cfg){ .name = "detect_bindings", .capacity = DETECT_MAX_BINDINGS,
                             .value_size = sizeof(struct det_binding),
                             .key_max = sizeof(struct st_key), .idle_us = 0 };
    d->bindings = table_new(&tc);
    tc.name = "detect_guesses";
    tc.capacity = DETECT_MAX_GUESSES;
    tc.value_size = sizeof(struct det_guess);
    tc.idle_us = idle;
    d->guesses = table_new(&tc);
    char e164err[128] = "";
    d->e164 = e164_load_bundled(e164err, sizeof e164err);
    if ((n_sinks && !d->out.v) || !d->srcs || !d->pairs || !d->seen || !d->bindings ||
        !d->guesses || !d->e164) {
        snprintf(err, errlen, "%s", e164err[0] ? e164err : "out of memory");
        detect_free(d);
        return NULL;
    }
    return d;
}

const struct st_observer *detect_observer(struct detect *d) { return &d->obs; }

void detect_attach(struct detect *d, struct src_profiles *profiles) { d->prof = profiles; }

void detect_set_cracker(struct detect *d, detect_crack_fn *fn, void *ctx)
{
    d->crack = fn;
    d->crack_ctx = ctx;
}

const struct detect_stats *detect_get_stats(const struct detect *d) { return &d->stats; }

int detect_limits_json(const struct detect *d, char *buf, size_t n)
{
    const struct table *tabs[] = { d->srcs, d->pairs, d->seen, d->bindings, d->guesses };
    return table_stats_json(tabs, sizeof tabs / sizeof tabs[0], buf, n);
}

void detect_free(struct detect *d)
{
    if (!d)
        return;
    ruleset_free(d->rs);
    e164_free(d->e164);
    table_free(d->srcs);
    table_free(d->pairs);
    table_free(d->seen);
    table_free(d->bindings);
    table_free(d->guesses);
    free(d->out.v);
    free(d);
}
