/*
 * test_state.c - the state stage (transactions, calls, registrations, digest
 * exchanges, source profiles) fed with hand-built struct sip_msg values, so
 * these tests do not depend on the parser; a recording sink copies every
 * event it gets and the checks read the copies.
 */
#include "test.h"

#include <stdlib.h>

#include "../../dissect/state.h"
#include "../../lib/ipaddr.h"
#include "../../output/sink.h"

/* ---- A recording sink --------------------------------------------------- */

#define REC_MAX 64
#define STR 128

struct rstr {
    size_t n;
    char b[STR];
};

static void rcopy(struct rstr *d, struct slice s)
{
    d->n = s.n < STR ? s.n : STR;
    if (d->n)
        memcpy(d->b, s.p, d->n);
}

#define RSL(r) sl_make((r).b, (r).n)

struct rec_call {
    struct rstr call_id, from, to, from_user, to_user, ua;
    struct ip_addr src, dst;
    uint64_t start_us, answer_us, end_us;
    char state[32];
    uint16_t final_status;
    uint32_t messages;
};

struct rec_reg {
    uint64_t ts_us, resp_us;
    struct rstr aor, user, contact, ua, call_id;
    uint32_t expires;
    uint16_t status;
    bool authenticated;
    char result[32];
};

struct rec_auth {
    uint64_t ts_us, challenge_us;
    struct rstr method, username, realm, nonce, response;
    char header[32], result[32];
    uint16_t status;
};

struct rec_source {
    struct ip_addr ip;
    uint64_t first_us, last_us, sip_messages, methods[SIP_M__COUNT];
    struct rstr uas[SRC_MAX_USER_AGENTS], users[SRC_MAX_USERS], ext[SRC_MAX_EXTENSIONS];
    unsigned n_uas, n_users, n_ext;
    uint32_t targets, users_total;
    uint64_t attempts, failures, successes;
    struct rstr cred_user[SRC_MAX_CREDENTIALS], cred_realm[SRC_MAX_CREDENTIALS];
    bool cred_ok[SRC_MAX_CREDENTIALS];
    unsigned n_cred;
    char severity[16];
};

struct rec {
    unsigned n_sip, n_retrans, n_call, n_reg, n_auth, n_source, n_tick;
    bool retrans[REC_MAX]; /* of the first REC_MAX messages */
    uint64_t last_tick;
    struct rec_call calls[REC_MAX];
    struct rec_reg regs[REC_MAX];
    struct rec_auth auths[REC_MAX];
    struct rec_source sources[REC_MAX];
    /* Bulk calls "bulk-N": which N were emitted, and how often. */
    uint8_t *bulk_seen;
    unsigned bulk_n, bulk_dup;
};

static void r_sip(void *s, const struct ev_sip *e)
{
    struct rec *r = s;
    if (r->n_sip < REC_MAX)
        r->retrans[r->n_sip] = e->retransmission;
    r->n_sip++;
    r->n_retrans += e->retransmission;
}

static void r_call(void *s, const struct ev_call *e)
{
    struct rec *r = s;
    if (r->bulk_seen && sl_starts_lit(e->call_id, "bulk-")) {
        uint32_t k;
        if (sl_to_u32(sl_drop(e->call_id, 5), &k) && k < r->bulk_n) {
            if (r->bulk_seen[k])
                r->bulk_dup++;
            r->bulk_seen[k] = 1;
        }
    }
    if (r->n_call < REC_MAX) {
        struct rec_call *c = &r->calls[r->n_call];
        rcopy(&c->call_id, e->call_id);
        rcopy(&c->from, e->from);
        rcopy(&c->to, e->to);
        rcopy(&c->from_user, e->from_user);
        rcopy(&c->to_user, e->to_user);
        rcopy(&c->ua, e->user_agent);
        c->src = e->src;
        c->dst = e->dst;
        c->start_us = e->start_us;
        c->answer_us = e->answer_us;
        c->end_us = e->end_us;
        snprintf(c->state, sizeof c->state, "%s", e->state);
        c->final_status = e->final_status;
        c->messages = e->messages;
    }
    r->n_call++;
}

static void r_reg(void *s, const struct ev_registration *e)
{
    struct rec *r = s;
    if (r->n_reg < REC_MAX) {
        struct rec_reg *g = &r->regs[r->n_reg];
        g->ts_us = e->ts_us;
        g->resp_us = e->resp_us;
        rcopy(&g->aor, e->aor);
        rcopy(&g->user, e->user);
        rcopy(&g->contact, e->contact);
        rcopy(&g->ua, e->user_agent);
        rcopy(&g->call_id, e->call_id);
        g->expires = e->expires;
        g->status = e->status;
        g->authenticated = e->authenticated;
        snprintf(g->result, sizeof g->result, "%s", e->result);
    }
    r->n_reg++;
}

static void r_auth(void *s, const struct ev_auth *e)
{
    struct rec *r = s;
    if (r->n_auth < REC_MAX) {
        struct rec_auth *a = &r->auths[r->n_auth];
        a->ts_us = e->ts_us;
        a->challenge_us = e->challenge_us;
        rcopy(&a->method, e->method);
        rcopy(&a->username, e->username);
        rcopy(&a->realm, e->realm);
        rcopy(&a->nonce, e->nonce);
        rcopy(&a->response, e->response);
        snprintf(a->header, sizeof a->header, "%s", e->header);
        snprintf(a->result, sizeof a->result, "%s", e->result);
        a->status = e->status;
    }
    r->n_auth++;
}

static void r_source(void *s, const struct ev_source *e)
{
    struct rec *r = s;
    if (r->n_source < REC_MAX) {
        struct rec_source *p = &r->sources[r->n_source];
        p->ip = e->ip;
        p->first_us = e->first_us;
        p->last_us = e->last_us;
        p->sip_messages = e->sip_messages;
        memcpy(p->methods, e->methods, sizeof p->methods);
        p->n_uas = e->n_user_agents;
        for (unsigned i = 0; i < p->n_uas; i++)
            rcopy(&p->uas[i], e->user_agents[i]);
        p->n_users = e->n_users_tried;
        for (unsigned i = 0; i < p->n_users; i++)
            rcopy(&p->users[i], e->users_tried[i]);
        p->n_ext = e->n_extensions_found;
        for (unsigned i = 0; i < p->n_ext; i++)
            rcopy(&p->ext[i], e->extensions_found[i]);
        p->targets = e->targets;
        p->users_total = e->users_tried_total;
        p->attempts = e->auth_attempts;
        p->failures = e->auth_failures;
        p->successes = e->auth_successes;
        p->n_cred = e->n_credentials;
        for (unsigned i = 0; i < p->n_cred; i++) {
            rcopy(&p->cred_user[i], e->credentials[i].user);
            rcopy(&p->cred_realm[i], e->credentials[i].realm);
            p->cred_ok[i] = e->credentials[i].accepted;
        }
        snprintf(p->severity, sizeof p->severity, "%s", e->severity ? e->severity : "");
    }
    r->n_source++;
}

static void r_tick(void *s, uint64_t now)
{
    struct rec *r = s;
    r->n_tick++;
    r->last_tick = now;
}

static const struct sink_ops rec_ops = {
    .name = "record",
    .sip = r_sip,
    .call = r_call,
    .registration = r_reg,
    .auth = r_auth,
    .source = r_source,
    .tick = r_tick,
};
/* A sink with no callbacks at all: the state must skip NULLs. */
static const struct sink_ops null_ops = { .name = "null" };

struct fixture {
    struct rec *r;
    struct state *st;
    struct sink sinks[2];
};

static void fx_open(struct fixture *f, const struct state_cfg *cfg)
{
    struct state_cfg def;
    if (!cfg) {
        state_default_cfg(&def);
        cfg = &def;
    }
    f->r = calloc(1, sizeof *f->r);
    f->sinks[0] = (struct sink){ &rec_ops, f->r };
    f->sinks[1] = (struct sink){ &null_ops, NULL };
    f->st = state_new(cfg, f->sinks, 2, NULL);
}

static void fx_close(struct fixture *f)
{
    state_free(f->st);
    free(f->r->bulk_seen);
    free(f->r);
}

/* ---- Hand-built messages ------------------------------------------------ */

static struct slice S(const char *s) { return sl_cstr(s); }

static uint8_t method_id(const char *m)
{
    static const char *names[SIP_M__COUNT] = {
        [SIP_M_INVITE] = "INVITE", [SIP_M_ACK] = "ACK", [SIP_M_BYE] = "BYE",
        [SIP_M_CANCEL] = "CANCEL", [SIP_M_REGISTER] = "REGISTER", [SIP_M_OPTIONS] = "OPTIONS",
    };
    for (unsigned i = 1; i < SIP_M__COUNT; i++)
        if (names[i] && !strcmp(names[i], m))
            return (uint8_t)i;
    return SIP_M_UNKNOWN;
}

/* One message, as the fields the state reads. Responses: method = NULL. */
struct spec {
    const char *method;
    unsigned status;
    const char *call_id;
    const char *from_user, *from_tag, *to_user, *to_tag, *ruri_user;
    const char *host;         /* of the From/To/R-URI: sip:user@host */
    uint32_t cseq;
    const char *cseq_method;  /* default: method */
    const char *branch;       /* top Via branch */
    const char *via_host;
    const char *ua;
    const char *contact;      /* Contact URI; "*" for star */
    const char *contact_params;
    long expires;             /* Expires header; 0 = absent, -2 = "Expires: 0" */
    const char *authz, *proxy_authz, *www_auth, *proxy_auth;
};

struct built {
    struct sip_msg msg;
    char from_uri[128], to_uri[128], ruri[128];
};

static void add_hdr(struct sip_msg *m, uint8_t id, const char *name, const char *value)
{
    if (!value)
        return;
    struct sip_header *h = &m->hdr[m->n_hdr++];
    h->name = S(name);
    h->value = S(value);
    h->id = id;
    if (!m->first[id])
        m->first[id] = m->n_hdr;
    m->count[id]++;
}

static void uri(struct sip_uri *u, char *buf, size_t cap, const char *user, const char *host)
{
    snprintf(buf, cap, "sip:%s%s%s", user ? user : "", user ? "@" : "", host);
    u->raw = S(buf);
    u->scheme = SL_LIT("sip");
    u->scheme_id = SIP_URI_SIP;
    u->user = user ? S(user) : SL_NULL;
    u->host = S(host);
}

static void build(struct built *b, const struct spec *s)
{
    memset(b, 0, sizeof *b);
    struct sip_msg *m = &b->msg;
    const char *host = s->host ? s->host : "example.com";
    m->is_request = s->method != NULL;
    if (m->is_request) {
        m->method = S(s->method);
        m->method_id = method_id(s->method);
        uri(&m->ruri, b->ruri, sizeof b->ruri, s->ruri_user ? s->ruri_user : s->to_user, host);
        m->ruri_raw = m->ruri.raw;
    } else {
        m->status = (uint16_t)s->status;
        m->reason = SL_LIT("Reason");
    }
    m->version = SL_LIT("SIP/2.0");
    m->call_id = S(s->call_id);
    uri(&m->from.uri, b->from_uri, sizeof b->from_uri, s->from_user, host);
    m->from.tag = s->from_tag ? S(s->from_tag) : SL_NULL;
    uri(&m->to.uri, b->to_uri, sizeof b->to_uri, s->to_user, host);
    m->to.tag = s->to_tag ? S(s->to_tag) : SL_NULL;
    const char *cm = s->cseq_method ? s->cseq_method : s->method;
    m->has_cseq = cm != NULL;
    if (cm) {
        m->cseq.seq = s->cseq;
        m->cseq.method = S(cm);
        m->cseq.method_id = method_id(cm);
    }
    m->via.protocol = SL_LIT("SIP/2.0");
    m->via.transport = SL_LIT("UDP");
    m->via.host = S(s->via_host ? s->via_host : "192.0.2.10");
    m->via.has_port = true;
    m->via.port = 5060;
    m->via.branch = s->branch ? S(s->branch) : SL_NULL;
    m->n_via = 1;
    m->user_agent = s->ua ? S(s->ua) : SL_NULL;
    if (s->contact) {
        m->has_contact = true;
        if (!strcmp(s->contact, "*")) {
            m->contact.star = true;
        } else {
            m->contact.uri.raw = S(s->contact);
            m->contact.params = s->contact_params ? S(s->contact_params) : SL_NULL;
        }
    }
    if (s->expires) {
        m->has_expires = true;
        m->expires = s->expires == -2 ? 0 : (uint32_t)s->expires;
    }
    m->content_length = 0;
    add_hdr(m, SIP_H_AUTHORIZATION, "Authorization", s->authz);
    add_hdr(m, SIP_H_PROXY_AUTHORIZATION, "Proxy-Authorization", s->proxy_authz);
    add_hdr(m, SIP_H_WWW_AUTHENTICATE, "WWW-Authenticate", s->www_auth);
    add_hdr(m, SIP_H_PROXY_AUTHENTICATE, "Proxy-Authenticate", s->proxy_auth);
}

static struct ip_addr IP(const char *s)
{
    struct ip_addr a;
    if (!ip_parse(s, &a))
        memset(&a, 0, sizeof a);
    return a;
}

#define T0 1281873600000000ull /* 2010-08-15T12:00:00Z */
#define MS 1000ull
#define SEC 1000000ull

static void feed(struct fixture *f, uint64_t ts, const char *src, const char *dst, struct spec s)
{
    struct built b;
    build(&b, &s);
    struct l4_meta m = {
        .ts_us = ts, .src = IP(src), .dst = IP(dst), .sport = 5060, .dport = 5060, .proto = 17,
    };
    state_on_sip(f->st, &m, &b.msg);
}

/* The usual parties: alice at 192.0.2.10 calls bob through 192.0.2.20. */
#define ALICE "192.0.2.10"
#define PBX   "192.0.2.20"

static struct spec call_req(const char *method, const char *cid, const char *branch,
                            uint32_t cseq, const char *to_tag)
{
    return (struct spec){ .method = method, .call_id = cid, .from_user = "alice",
                          .from_tag = "af1", .to_user = "bob", .to_tag = to_tag,
                          .cseq = cseq, .branch = branch, .ua = "Zoiper rv2.10" };
}

static struct spec call_resp(unsigned status, const char *cid, const char *branch,
                             uint32_t cseq, const char *method, const char *to_tag)
{
    return (struct spec){ .status = status, .call_id = cid, .from_user = "alice",
                          .from_tag = "af1", .to_user = "bob", .to_tag = to_tag,
                          .cseq = cseq, .cseq_method = method, .branch = branch };
}

/* ---- Calls --------------------------------------------------------------- */

TEST(state_full_call_answered_then_completed)
{
    struct fixture f;
    fx_open(&f, NULL);
    CHECK(f.st != NULL);
    const char *cid = "call-1@192.0.2.10";
    feed(&f, T0, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-inv1", 1, NULL));
    feed(&f, T0 + 10 * MS, PBX, ALICE, call_resp(100, cid, "z9hG4bK-inv1", 1, "INVITE", NULL));
    feed(&f, T0 + 100 * MS, PBX, ALICE, call_resp(180, cid, "z9hG4bK-inv1", 1, "INVITE", "bt9"));
    feed(&f, T0 + 2 * SEC, PBX, ALICE, call_resp(200, cid, "z9hG4bK-inv1", 1, "INVITE", "bt9"));
    feed(&f, T0 + 2 * SEC + 50 * MS, ALICE, PBX, call_req("ACK", cid, "z9hG4bK-ack1", 1, "bt9"));
    feed(&f, T0 + 10 * SEC, ALICE, PBX, call_req("BYE", cid, "z9hG4bK-bye1", 2, "bt9"));
    CHECK_EQ_INT(f.r->n_call, 0); /* the BYE is not answered yet */
    feed(&f, T0 + 10 * SEC + 10 * MS, PBX, ALICE, call_resp(200, cid, "z9hG4bK-bye1", 2, "BYE", "bt9"));
    CHECK_EQ_INT(f.r->n_call, 1); /* emitted when the BYE completed, not at the end */
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_call, 1);
    CHECK_EQ_INT(f.r->n_sip, 7);
    CHECK_EQ_INT(f.r->n_retrans, 0);
    struct rec_call *c = &f.r->calls[0];
    CHECK_STR(c->state, "completed");
    CHECK_SL(RSL(c->call_id), cid);
    CHECK_SL(RSL(c->from), "sip:alice@example.com");
    CHECK_SL(RSL(c->to), "sip:bob@example.com");
    CHECK_SL(RSL(c->from_user), "alice");
    CHECK_SL(RSL(c->to_user), "bob");
    CHECK_SL(RSL(c->ua), "Zoiper rv2.10");
    struct ip_addr a = IP(ALICE), p = IP(PBX);
    CHECK(ip_eq(&c->src, &a));
    CHECK(ip_eq(&c->dst, &p));
    CHECK_EQ_INT(c->start_us, T0);
    CHECK_EQ_INT(c->answer_us, T0 + 2 * SEC);
    CHECK_EQ_INT(c->end_us, T0 + 10 * SEC);
    CHECK_EQ_INT(c->end_us - c->answer_us, 8 * SEC); /* duration */
    CHECK_EQ_INT(c->final_status, 200);
    CHECK_EQ_INT(c->messages, 7);
    /* One caller profile: INVITE, ACK, BYE. The PBX only answered: no profile. */
    CHECK_EQ_INT(f.r->n_source, 1);
    CHECK(ip_eq(&f.r->sources[0].ip, &a));
    CHECK_EQ_INT(f.r->sources[0].methods[SIP_M_INVITE], 1);
    CHECK_EQ_INT(f.r->sources[0].methods[SIP_M_ACK], 1);
    CHECK_EQ_INT(f.r->sources[0].methods[SIP_M_BYE], 1);
    fx_close(&f);
}

TEST(state_cancelled_call)
{
    struct fixture f;
    fx_open(&f, NULL);
    const char *cid = "cancel-1";
    const char *br = "z9hG4bK-c1";
    feed(&f, T0, ALICE, PBX, call_req("INVITE", cid, br, 1, NULL));
    feed(&f, T0 + 5 * MS, PBX, ALICE, call_resp(100, cid, br, 1, "INVITE", NULL));
    feed(&f, T0 + 50 * MS, PBX, ALICE, call_resp(180, cid, br, 1, "INVITE", "bt"));
    /* CANCEL: same branch and CSeq number, method CANCEL (RFC 3261 §9.1). */
    feed(&f, T0 + 3 * SEC, ALICE, PBX, call_req("CANCEL", cid, br, 1, NULL));
    feed(&f, T0 + 3 * SEC + 5 * MS, PBX, ALICE, call_resp(200, cid, br, 1, "CANCEL", "bt"));
    feed(&f, T0 + 3 * SEC + 6 * MS, PBX, ALICE, call_resp(487, cid, br, 1, "INVITE", "bt"));
    CHECK_EQ_INT(f.r->n_call, 1); /* 487 ends it at once */
    feed(&f, T0 + 3 * SEC + 7 * MS, ALICE, PBX, call_req("ACK", cid, br, 1, "bt"));
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_call, 1);
    CHECK_EQ_INT(f.r->n_retrans, 0); /* CANCEL, its 200 and the ACK are not retransmissions */
    struct rec_call *c = &f.r->calls[0];
    CHECK_STR(c->state, "cancelled");
    CHECK_EQ_INT(c->final_status, 487);
    CHECK_EQ_INT(c->answer_us, 0);
    CHECK_EQ_INT(c->end_us, T0 + 3 * SEC);
    CHECK_EQ_INT(c->messages, 6);
    fx_close(&f);
}

#define CHALLENGE "Digest realm=\"asterisk\", nonce=\"n0nce-1\", algorithm=MD5, qop=\"auth\""
#define CREDS(nonce, resp)                                                                 \
    "Digest username=\"alice\", realm=\"asterisk\", nonce=\"" nonce "\", "              \
    "uri=\"sip:bob@example.com\", response=\"" resp "\", algorithm=MD5, qop=auth, "      \
    "nc=00000001, cnonce=\"c1\""

TEST(state_auth_challenge_then_answered_call)
{
    struct fixture f;
    fx_open(&f, NULL);
    const char *cid = "auth-call";
    feed(&f, T0, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-a1", 1, NULL));
    struct spec ch = call_resp(407, cid, "z9hG4bK-a1", 1, "INVITE", "pt");
    ch.proxy_auth = CHALLENGE;
    feed(&f, T0 + 10 * MS, PBX, ALICE, ch);
    feed(&f, T0 + 11 * MS, ALICE, PBX, call_req("ACK", cid, "z9hG4bK-a1", 1, "pt"));
    struct spec inv = call_req("INVITE", cid, "z9hG4bK-a2", 2, NULL);
    inv.proxy_authz = CREDS("n0nce-1", "0123456789abcdef0123456789abcdef");
    feed(&f, T0 + 20 * MS, ALICE, PBX, inv);
    feed(&f, T0 + 25 * MS, PBX, ALICE, call_resp(100, cid, "z9hG4bK-a2", 2, "INVITE", NULL));
    feed(&f, T0 + 1 * SEC, PBX, ALICE, call_resp(200, cid, "z9hG4bK-a2", 2, "INVITE", "bt"));
    CHECK_EQ_INT(f.r->n_auth, 1);
    feed(&f, T0 + 1 * SEC + 5 * MS, ALICE, PBX, call_req("ACK", cid, "z9hG4bK-a3", 2, "bt"));
    CHECK_EQ_INT(f.r->n_call, 0); /* answered, still up */
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_call, 1);
    struct rec_call *c = &f.r->calls[0];
    CHECK_STR(c->state, "answered");
    CHECK_EQ_INT(c->final_status, 200);
    CHECK_EQ_INT(c->start_us, T0);
    CHECK_EQ_INT(c->answer_us, T0 + 1 * SEC);
    CHECK_EQ_INT(c->messages, 7);

    struct rec_auth *a = &f.r->auths[0];
    CHECK_STR(a->result, "accepted");
    CHECK_STR(a->header, "Proxy-Authorization");
    CHECK_EQ_INT(a->status, 200);
    CHECK_EQ_INT(a->ts_us, T0 + 20 * MS);
    CHECK_EQ_INT(a->challenge_us, T0 + 10 * MS);
    CHECK_SL(RSL(a->method), "INVITE");
    CHECK_SL(RSL(a->username), "alice");
    CHECK_SL(RSL(a->realm), "asterisk");
    CHECK_SL(RSL(a->nonce), "n0nce-1");
    CHECK_SL(RSL(a->response), "0123456789abcdef0123456789abcdef");

    CHECK_EQ_INT(f.r->n_source, 1);
    struct rec_source *s = &f.r->sources[0];
    CHECK_EQ_INT(s->attempts, 1);
    CHECK_EQ_INT(s->successes, 1);
    CHECK_EQ_INT(s->failures, 0);
    CHECK_EQ_INT(s->n_cred, 1);
    CHECK_SL(RSL(s->cred_user[0]), "alice");
    CHECK_SL(RSL(s->cred_realm[0]), "asterisk");
    CHECK(s->cred_ok[0]);
    fx_close(&f);
}

/* ---- Registrations and digest outcomes ------------------------------------ */

static struct spec reg_req(const char *branch, uint32_t cseq, const char *authz)
{
    return (struct spec){ .method = "REGISTER", .call_id = "reg-1", .from_user = "100",
                          .from_tag = "rf", .to_user = "100", .cseq = cseq, .branch = branch,
                          .ua = "Linphone/5", .contact = "sip:100@192.0.2.10:5062",
                          .contact_params = "expires=3600", .authz = authz };
}

static struct spec reg_resp(unsigned status, const char *branch, uint32_t cseq)
{
    return (struct spec){ .status = status, .call_id = "reg-1", .from_user = "100",
                          .from_tag = "rf", .to_user = "100", .to_tag = "rt", .cseq = cseq,
                          .cseq_method = "REGISTER", .branch = branch };
}

TEST(state_register_challenged_then_registered)
{
    struct fixture f;
    fx_open(&f, NULL);
    feed(&f, T0, ALICE, PBX, reg_req("z9hG4bK-r1", 1, NULL));
    struct spec ch = reg_resp(401, "z9hG4bK-r1", 1);
    ch.www_auth = CHALLENGE;
    feed(&f, T0 + 3 * MS, PBX, ALICE, ch);
    CHECK_EQ_INT(f.r->n_reg, 1);
    feed(&f, T0 + 10 * MS, ALICE, PBX, reg_req("z9hG4bK-r2", 2, CREDS("n0nce-1", "aaaa")));
    feed(&f, T0 + 12 * MS, PBX, ALICE, reg_resp(200, "z9hG4bK-r2", 2));
    CHECK_EQ_INT(f.r->n_reg, 2);
    CHECK_EQ_INT(f.r->n_auth, 1);
    struct rec_reg *g = &f.r->regs[0];
    CHECK_STR(g->result, "challenged");
    CHECK_EQ_INT(g->status, 401);
    CHECK(!g->authenticated);
    CHECK_EQ_INT(g->ts_us, T0);
    CHECK_EQ_INT(g->resp_us, T0 + 3 * MS);
    g = &f.r->regs[1];
    CHECK_STR(g->result, "registered");
    CHECK_EQ_INT(g->status, 200);
    CHECK(g->authenticated);
    CHECK_EQ_INT(g->expires, 3600);
    CHECK_SL(RSL(g->aor), "sip:100@example.com");
    CHECK_SL(RSL(g->user), "100");
    CHECK_SL(RSL(g->contact), "sip:100@192.0.2.10:5062");
    CHECK_SL(RSL(g->ua), "Linphone/5");
    CHECK_SL(RSL(g->call_id), "reg-1");
    struct rec_auth *a = &f.r->auths[0];
    CHECK_STR(a->result, "accepted");
    CHECK_STR(a->header, "Authorization");
    CHECK_EQ_INT(a->challenge_us, T0 + 3 * MS);
    CHECK_SL(RSL(a->method), "REGISTER");
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_reg, 2);
    CHECK_EQ_INT(f.r->n_auth, 1);
    CHECK_EQ_INT(f.r->n_call, 0); /* REGISTER is no call */
    /* 100 answered 401 and then 200: it exists. */
    CHECK_EQ_INT(f.r->sources[0].n_ext, 1);
    CHECK_SL(RSL(f.r->sources[0].ext[0]), "100");
    fx_close(&f);
}

TEST(state_register_wrong_password_rejected)
{
    struct fixture f;
    fx_open(&f, NULL);
    feed(&f, T0, ALICE, PBX, reg_req("z9hG4bK-w1", 1, NULL));
    struct spec ch = reg_resp(401, "z9hG4bK-w1", 1);
    ch.www_auth = CHALLENGE;
    feed(&f, T0 + 1 * MS, PBX, ALICE, ch);
    feed(&f, T0 + 2 * MS, ALICE, PBX, reg_req("z9hG4bK-w2", 2, CREDS("n0nce-1", "bad")));
    feed(&f, T0 + 3 * MS, ALICE, PBX, reg_req("z9hG4bK-w2", 2, CREDS("n0nce-1", "bad"))); /* again */
    feed(&f, T0 + 4 * MS, PBX, ALICE, reg_resp(403, "z9hG4bK-w2", 2));
    feed(&f, T0 + 5 * MS, PBX, ALICE, reg_resp(403, "z9hG4bK-w2", 2)); /* again */
    CHECK_EQ_INT(f.r->n_auth, 1);
    CHECK_STR(f.r->auths[0].result, "rejected");
    CHECK_EQ_INT(f.r->auths[0].status, 403);
    CHECK_EQ_INT(f.r->n_reg, 2);
    CHECK_STR(f.r->regs[1].result, "failed");
    CHECK_EQ_INT(f.r->regs[1].status, 403);
    CHECK_EQ_INT(f.r->n_retrans, 2);
    CHECK(f.r->retrans[3] && f.r->retrans[5]);
    /* A late retransmission after the final response starts nothing new. */
    feed(&f, T0 + 6 * MS, ALICE, PBX, reg_req("z9hG4bK-w2", 2, CREDS("n0nce-1", "bad")));
    CHECK(f.r->retrans[6]);

    /* A stale nonce (RFC 2617 §3.2.1) is a new challenge, not a wrong password. */
    feed(&f, T0 + 1 * SEC, ALICE, PBX, reg_req("z9hG4bK-w3", 3, CREDS("n0nce-1", "good")));
    struct spec st = reg_resp(401, "z9hG4bK-w3", 3);
    st.www_auth = "Digest realm=\"asterisk\", nonce=\"n0nce-2\", stale=TRUE";
    feed(&f, T0 + 1 * SEC + 1 * MS, PBX, ALICE, st);
    CHECK_EQ_INT(f.r->n_auth, 2);
    CHECK_STR(f.r->auths[1].result, "challenged");
    CHECK_EQ_INT(f.r->auths[1].status, 401);

    /* Credentials never answered: no_response at the end. */
    feed(&f, T0 + 2 * SEC, ALICE, PBX, reg_req("z9hG4bK-w4", 4, CREDS("n0nce-2", "x")));
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_auth, 3);
    CHECK_STR(f.r->auths[2].result, "no_response");
    CHECK_EQ_INT(f.r->auths[2].status, 0);
    CHECK_EQ_INT(f.r->auths[2].challenge_us, T0 + 1 * SEC + 1 * MS);
    CHECK_EQ_INT(f.r->n_reg, 4);
    CHECK_STR(f.r->regs[3].result, "no_response");
    struct rec_source *s = &f.r->sources[0];
    CHECK_EQ_INT(s->attempts, 3);
    CHECK_EQ_INT(s->failures, 1);
    CHECK_EQ_INT(s->successes, 0);
    CHECK_EQ_INT(s->n_cred, 1);
    CHECK(!s->cred_ok[0]);
    fx_close(&f);
}

TEST(state_unregister_and_expires_header)
{
    struct fixture f;
    fx_open(&f, NULL);
    struct spec r = reg_req("z9hG4bK-u1", 1, NULL);
    r.contact = "*";
    r.contact_params = NULL;
    r.expires = -2;
    feed(&f, T0, ALICE, PBX, r);
    feed(&f, T0 + 1 * MS, PBX, ALICE, reg_resp(200, "z9hG4bK-u1", 1));
    r = reg_req("z9hG4bK-u2", 2, NULL);
    r.contact_params = NULL;
    r.expires = 120;
    feed(&f, T0 + 2 * MS, ALICE, PBX, r);
    feed(&f, T0 + 3 * MS, PBX, ALICE, reg_resp(200, "z9hG4bK-u2", 2));
    r = reg_req("z9hG4bK-u3", 3, NULL);
    r.contact_params = NULL;
    feed(&f, T0 + 4 * MS, ALICE, PBX, r);
    feed(&f, T0 + 5 * MS, PBX, ALICE, reg_resp(404, "z9hG4bK-u3", 3));
    CHECK_EQ_INT(f.r->n_reg, 3);
    CHECK_STR(f.r->regs[0].result, "unregistered");
    CHECK_SL(RSL(f.r->regs[0].contact), "*");
    CHECK_EQ_INT(f.r->regs[0].expires, 0);
    CHECK_STR(f.r->regs[1].result, "registered");
    CHECK_EQ_INT(f.r->regs[1].expires, 120);
    CHECK_STR(f.r->regs[2].result, "failed");
    CHECK_EQ_INT(f.r->regs[2].expires, UINT32_MAX);
    /* A REGISTER nobody answers expires 32 s later by capture time. */
    feed(&f, T0 + 10 * SEC, ALICE, PBX, reg_req("z9hG4bK-u4", 4, NULL));
    state_tick(f.st, T0 + 20 * SEC);
    CHECK_EQ_INT(f.r->n_reg, 3);
    state_tick(f.st, T0 + 43 * SEC);
    CHECK_EQ_INT(f.r->n_reg, 4);
    CHECK_STR(f.r->regs[3].result, "no_response");
    CHECK_EQ_INT(f.r->n_tick, 2);
    CHECK_EQ_INT(f.r->last_tick, T0 + 43 * SEC);
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_reg, 4);
    fx_close(&f);
}

/* ---- Transactions -------------------------------------------------------- */

TEST(state_retransmissions_flagged)
{
    struct fixture f;
    fx_open(&f, NULL);
    const char *cid = "rtx";
    feed(&f, T0, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-x1", 1, NULL));
    feed(&f, T0 + 500 * MS, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-x1", 1, NULL));
    feed(&f, T0 + 510 * MS, PBX, ALICE, call_resp(100, cid, "z9hG4bK-x1", 1, "INVITE", NULL));
    feed(&f, T0 + 1500 * MS, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-x1", 1, NULL));
    feed(&f, T0 + 1510 * MS, PBX, ALICE, call_resp(100, cid, "z9hG4bK-x1", 1, "INVITE", NULL));
    feed(&f, T0 + 2 * SEC, PBX, ALICE, call_resp(486, cid, "z9hG4bK-x1", 1, "INVITE", "bt"));
    feed(&f, T0 + 2 * SEC + 1 * MS, ALICE, PBX, call_req("ACK", cid, "z9hG4bK-x1", 1, "bt"));
    feed(&f, T0 + 2500 * MS, PBX, ALICE, call_resp(486, cid, "z9hG4bK-x1", 1, "INVITE", "bt"));
    feed(&f, T0 + 2501 * MS, ALICE, PBX, call_req("ACK", cid, "z9hG4bK-x1", 1, "bt"));
    bool want[] = { false, true, false, true, true, false, false, true, true };
    CHECK_EQ_INT(f.r->n_sip, 9);
    for (unsigned i = 0; i < 9; i++)
        if (f.r->retrans[i] != want[i]) {
            fprintf(stderr, "  message %u: retransmission=%d\n", i, f.r->retrans[i]);
            CHECK(f.r->retrans[i] == want[i]);
        }
    /* RFC 2543 peer, no z9hG4bK cookie: Call-ID/CSeq/From tag/sent-by. */
    feed(&f, T0 + 3 * SEC, ALICE, PBX, call_req("OPTIONS", "old", "1234", 7, NULL));
    feed(&f, T0 + 3500 * MS, ALICE, PBX, call_req("OPTIONS", "old", "1234", 7, NULL));
    feed(&f, T0 + 3600 * MS, ALICE, PBX, call_req("OPTIONS", "old", NULL, 8, NULL));
    CHECK(!f.r->retrans[9] && f.r->retrans[10] && !f.r->retrans[11]);
    /* The same request relayed the other way is not a retransmission. */
    feed(&f, T0 + 4 * SEC, PBX, ALICE, call_req("OPTIONS", "old", NULL, 8, NULL));
    CHECK(!f.r->retrans[12]);
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_call, 1); /* retransmitted INVITEs are one call */
    CHECK_STR(f.r->calls[0].state, "failed");
    CHECK_EQ_INT(f.r->calls[0].final_status, 486);
    CHECK_EQ_INT(f.r->calls[0].messages, 9);
    CHECK_EQ_INT(f.r->calls[0].end_us, T0 + 2 * SEC);
    /* Profile counts every request sent, retransmissions included. */
    CHECK_EQ_INT(f.r->sources[0].methods[SIP_M_INVITE], 3);
    fx_close(&f);
}

TEST(state_reinvite_is_not_a_call)
{
    struct fixture f;
    fx_open(&f, NULL);
    const char *cid = "re";
    feed(&f, T0, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-e1", 1, NULL));
    feed(&f, T0 + 1 * SEC, PBX, ALICE, call_resp(200, cid, "z9hG4bK-e1", 1, "INVITE", "bt"));
    feed(&f, T0 + 1 * SEC, ALICE, PBX, call_req("ACK", cid, "z9hG4bK-e2", 1, "bt"));
    feed(&f, T0 + 30 * SEC, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-e3", 2, "bt"));
    feed(&f, T0 + 30 * SEC, PBX, ALICE, call_resp(491, cid, "z9hG4bK-e3", 2, "INVITE", "bt"));
    feed(&f, T0 + 31 * SEC, ALICE, PBX, call_req("INVITE", cid, "z9hG4bK-e4", 3, "bt"));
    feed(&f, T0 + 31 * SEC, PBX, ALICE, call_resp(200, cid, "z9hG4bK-e4", 3, "INVITE", "bt"));
    /* In-dialog INVITE for a dialog never seen (capture began mid-call). */
    feed(&f, T0 + 32 * SEC, ALICE, PBX, call_req("INVITE", "unknown", "z9hG4bK-e5", 9, "zz"));
    feed(&f, T0 + 32 * SEC, PBX, ALICE, call_resp(200, "unknown", "z9hG4bK-e5", 9, "INVITE", "zz"));
    /* A BYE refused with 403 does not end the call; the next one does. */
    feed(&f, T0 + 60 * SEC, ALICE, PBX, call_req("BYE", cid, "z9hG4bK-e6", 4, "bt"));
    feed(&f, T0 + 60 * SEC, PBX, ALICE, call_resp(403, cid, "z9hG4bK-e6", 4, "BYE", "bt"));
    CHECK_EQ_INT(f.r->n_call, 0);
    feed(&f, T0 + 61 * SEC, ALICE, PBX, call_req("BYE", cid, "z9hG4bK-e7", 5, "bt"));
    feed(&f, T0 + 61 * SEC, PBX, ALICE, call_resp(200, cid, "z9hG4bK-e7", 5, "BYE", "bt"));
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_call, 1);
    CHECK_STR(f.r->calls[0].state, "completed");
    CHECK_EQ_INT(f.r->calls[0].answer_us, T0 + 1 * SEC);
    CHECK_EQ_INT(f.r->calls[0].end_us, T0 + 61 * SEC);
    CHECK_EQ_INT(f.r->calls[0].final_status, 200);
    CHECK_EQ_INT(f.r->calls[0].messages, 11);
    fx_close(&f);
}

TEST(state_calls_expire_by_capture_time)
{
    struct fixture f;
    fx_open(&f, NULL);
    feed(&f, T0, ALICE, PBX, call_req("INVITE", "silent", "z9hG4bK-s1", 1, NULL));
    feed(&f, T0 + 1 * SEC, ALICE, PBX, call_req("INVITE", "trying", "z9hG4bK-s2", 1, NULL));
    feed(&f, T0 + 1 * SEC, PBX, ALICE, call_resp(100, "trying", "z9hG4bK-s2", 1, "INVITE", NULL));
    feed(&f, T0 + 2 * SEC, ALICE, PBX, call_req("INVITE", "busy", "z9hG4bK-s3", 1, NULL));
    feed(&f, T0 + 2 * SEC, PBX, ALICE, call_resp(404, "busy", "z9hG4bK-s3", 1, "INVITE", "t"));
    feed(&f, T0 + 3 * SEC, ALICE, PBX, call_req("INVITE", "talk", "z9hG4bK-s4", 1, NULL));
    feed(&f, T0 + 4 * SEC, PBX, ALICE, call_resp(200, "talk", "z9hG4bK-s4", 1, "INVITE", "t"));
    state_tick(f.st, T0 + 100 * SEC);
    CHECK_EQ_INT(f.r->n_call, 0); /* the failure waits: a retry may follow */
    state_tick(f.st, T0 + 183 * SEC);
    CHECK_EQ_INT(f.r->n_call, 3);
    CHECK_STR(f.r->calls[0].state, "no_response");
    CHECK_SL(RSL(f.r->calls[0].call_id), "silent");
    CHECK_EQ_INT(f.r->calls[0].end_us, T0);
    CHECK_EQ_INT(f.r->calls[0].final_status, 0);
    CHECK_STR(f.r->calls[1].state, "trying");
    CHECK_STR(f.r->calls[2].state, "failed");
    CHECK_EQ_INT(f.r->calls[2].final_status, 404);
    CHECK_EQ_INT(f.r->calls[2].end_us, T0 + 2 * SEC);
    /* Answered calls stay up to 2 h without messages. */
    state_tick(f.st, T0 + 3600 * SEC);
    CHECK_EQ_INT(f.r->n_call, 3);
    state_tick(f.st, T0 + 7205 * SEC);
    CHECK_EQ_INT(f.r->n_call, 4);
    CHECK_STR(f.r->calls[3].state, "answered");
    CHECK_EQ_INT(f.r->calls[3].end_us, T0 + 4 * SEC);
    /* A late retransmission of an expired call's INVITE is no new call. */
    feed(&f, T0 + 7206 * SEC, ALICE, PBX, call_req("INVITE", "x", "z9hG4bK-s5", 1, NULL));
    feed(&f, T0 + 7206 * SEC, ALICE, PBX, call_req("INVITE", "x", "z9hG4bK-s5", 1, NULL));
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_call, 5);
    CHECK_STR(f.r->calls[4].state, "no_response");
    CHECK_EQ_INT(f.r->calls[4].messages, 2);
    fx_close(&f);
}

TEST(state_dialogs_bounded_and_every_call_emitted)
{
    struct state_cfg cfg;
    state_default_cfg(&cfg);
    cfg.max_dialogs = 1000;
    cfg.max_transactions = 2000;
    struct fixture f;
    fx_open(&f, &cfg);
    const unsigned N = 100000;
    f.r->bulk_n = N;
    f.r->bulk_seen = calloc(N, 1);
    char cid[32], br[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(cid, sizeof cid, "bulk-%u", i);
        snprintf(br, sizeof br, "z9hG4bK-%u", i);
        feed(&f, T0 + i * MS, ALICE, PBX, call_req("INVITE", cid, br, 1, NULL));
    }
    CHECK_EQ_INT(f.r->n_call, N - 1000); /* evicted ones were emitted on eviction */
    char js[4096];
    int n = state_limits_json(f.st, js, sizeof js);
    CHECK(n > 0 && (size_t)n < sizeof js);
    CHECK(strstr(js, "\"dialogs_early\":{\"count\":1000,\"peak\":1000,\"capacity\":1000,"
                     "\"expired\":0,\"evicted\":99000}") != NULL);
    CHECK(strstr(js, "\"transactions\":{\"count\":2000,\"peak\":2000,\"capacity\":2000,") != NULL);
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_call, N);
    CHECK_EQ_INT(f.r->bulk_dup, 0);
    unsigned seen = 0;
    for (unsigned i = 0; i < N; i++)
        seen += f.r->bulk_seen[i];
    CHECK_EQ_INT(seen, N);
    CHECK_STR(f.r->calls[0].state, "no_response");
    /* 100,000 users named in To: 64 kept, all counted. */
    CHECK_EQ_INT(f.r->n_source, 1);
    CHECK_EQ_INT(f.r->sources[0].methods[SIP_M_INVITE], N);
    fx_close(&f);
}

/* ---- Source profiles ------------------------------------------------------ */

TEST(state_source_profile_enumeration)
{
    struct fixture f;
    fx_open(&f, NULL);
    const char *att = "198.51.100.41";
    /* An OPTIONS sweep over three hosts; one answers 200 (no extension found). */
    const char *hosts[] = { "192.0.2.1", "192.0.2.2", PBX };
    for (unsigned i = 0; i < 3; i++) {
        struct spec o = { .method = "OPTIONS", .call_id = hosts[i], .from_user = "100",
                          .from_tag = "sv", .to_user = "100", .cseq = 1,
                          .branch = hosts[i], .via_host = att, .ua = "friendly-scanner" };
        feed(&f, T0 + i * MS, att, hosts[i], o);
    }
    struct spec ok = { .status = 200, .call_id = PBX, .from_user = "100", .from_tag = "sv",
                       .to_user = "100", .to_tag = "x", .cseq = 1, .cseq_method = "OPTIONS",
                       .branch = PBX, .via_host = att };
    feed(&f, T0 + 5 * MS, PBX, att, ok);
    /* REGISTER enumeration of 200..204: 200 and 202 answer 401, the rest 404. */
    char user[8], cid[16], br[16];
    for (unsigned i = 0; i < 5; i++) {
        snprintf(user, sizeof user, "%u", 200 + i);
        snprintf(cid, sizeof cid, "enum-%u", i);
        snprintf(br, sizeof br, "z9hG4bK-%u", i);
        struct spec r = { .method = "REGISTER", .call_id = cid, .from_user = user,
                          .from_tag = "sv", .to_user = user, .cseq = 1, .branch = br,
                          .via_host = att, .ua = i == 4 ? "sipcli/v1.8" : "friendly-scanner" };
        feed(&f, T0 + (10 + i) * MS, att, PBX, r);
        struct spec a = { .status = (i == 0 || i == 2) ? 401 : 404, .call_id = cid,
                          .from_user = user, .from_tag = "sv", .to_user = user, .to_tag = "t",
                          .cseq = 1, .cseq_method = "REGISTER", .branch = br, .via_host = att,
                          .www_auth = i == 0 || i == 2 ? CHALLENGE : NULL };
        feed(&f, T0 + (10 + i) * MS + 1, PBX, att, a);
    }
    /* An extension method and a second source. */
    struct spec x = { .method = "FOO", .call_id = "foo", .from_user = "200", .from_tag = "sv",
                      .to_user = "200", .cseq = 1, .cseq_method = "FOO",
                      .branch = "z9hG4bK-foo", .via_host = att };
    feed(&f, T0 + 1 * SEC, att, PBX, x);
    feed(&f, T0 + 2 * SEC, ALICE, PBX, call_req("INVITE", "legit", "z9hG4bK-l", 1, NULL));
    CHECK_EQ_INT(f.r->n_source, 0); /* profiles are emitted at the end */
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_reg, 5);
    CHECK_EQ_INT(f.r->n_source, 2);
    struct ip_addr ai = IP(att);
    struct rec_source *s = ip_eq(&f.r->sources[0].ip, &ai) ? &f.r->sources[0] : &f.r->sources[1];
    CHECK(ip_eq(&s->ip, &ai));
    CHECK_EQ_INT(s->first_us, T0);
    CHECK_EQ_INT(s->last_us, T0 + 1 * SEC);
    CHECK_EQ_INT(s->sip_messages, 9);
    CHECK_EQ_INT(s->methods[SIP_M_OPTIONS], 3);
    CHECK_EQ_INT(s->methods[SIP_M_REGISTER], 5);
    CHECK_EQ_INT(s->methods[SIP_M_UNKNOWN], 1);
    CHECK_EQ_INT(s->targets, 3);
    CHECK_EQ_INT(s->n_uas, 2);
    CHECK_SL(RSL(s->uas[0]), "friendly-scanner");
    CHECK_SL(RSL(s->uas[1]), "sipcli/v1.8");
    CHECK_EQ_INT(s->users_total, 6); /* 100, 200..204 (FOO names no user tried) */
    CHECK_EQ_INT(s->n_users, 6);
    CHECK_SL(RSL(s->users[0]), "100");
    CHECK_SL(RSL(s->users[5]), "204");
    CHECK_EQ_INT(s->n_ext, 2);
    CHECK_SL(RSL(s->ext[0]), "200");
    CHECK_SL(RSL(s->ext[1]), "202");
    CHECK_STR(s->severity, "info");
    fx_close(&f);
}

TEST(state_source_profiles_bounded_evicted_emitted)
{
    struct state_cfg cfg;
    state_default_cfg(&cfg);
    cfg.max_sources = 2;
    cfg.max_source_pairs = 16;
    struct fixture f;
    fx_open(&f, &cfg);
    char ip[32], cid[32];
    for (unsigned i = 0; i < 5; i++) {
        snprintf(ip, sizeof ip, "198.51.100.%u", i + 1);
        snprintf(cid, sizeof cid, "s%u", i);
        feed(&f, T0 + i * SEC, ip, PBX, call_req("OPTIONS", cid, cid, 1, NULL));
    }
    CHECK_EQ_INT(f.r->n_source, 3); /* the oldest three, pushed out */
    struct ip_addr first = IP("198.51.100.1");
    CHECK(ip_eq(&f.r->sources[0].ip, &first));
    CHECK_EQ_INT(f.r->sources[0].targets, 1);
    /* Live mode: emit all now, keep them. */
    state_emit_sources(f.st);
    CHECK_EQ_INT(f.r->n_source, 5);
    state_finish(f.st);
    CHECK_EQ_INT(f.r->n_source, 7);
    fx_close(&f);
}

TEST(state_limits_json_names_every_table)
{
    struct fixture f;
    fx_open(&f, NULL);
    char js[2048];
    int n = state_limits_json(f.st, js, sizeof js);
    CHECK(n > 0 && (size_t)n == strlen(js));
    CHECK(js[0] == '{' && js[n - 1] == '}');
    const char *names[] = { "transactions", "dialogs_early", "dialogs_confirmed", "registrations",
                            "nonces", "auth_pending", "sources", "source_targets",
                            "source_users" };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\":{\"count\":0,\"peak\":0,\"capacity\":", names[i]);
        if (!strstr(js, key)) {
            fprintf(stderr, "  missing %s in %s\n", key, js);
            CHECK(strstr(js, key) != NULL);
        }
    }
    int depth = 0, min = 1;
    for (int i = 0; i < n; i++) {
        depth += js[i] == '{' ? 1 : js[i] == '}' ? -1 : 0;
        if (i < n - 1 && depth < min)
            min = depth;
    }
    CHECK_EQ_INT(depth, 0);
    CHECK_EQ_INT(min, 1);
    CHECK(strstr(js, "\"capacity\":262144") != NULL);
    /* Too small a buffer: truncated, NUL-terminated, and the full length returned. */
    char small[16];
    CHECK_EQ_INT(state_limits_json(f.st, small, sizeof small), n);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
    fx_close(&f);
}
