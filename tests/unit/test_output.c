/* test_output.c - the escaping rule, the SQLite store, the report read back
 * from it, the EVE lines, and the store's behaviour on errors and kill -9.
 * Events are built by hand: no dependency on the SIP parser. */
#include "test.h"

#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "../../output/eve.h"
#include "../../output/json.h"
#include "../../output/report.h"
#include "../../output/store.h"

/* capture/decode.c defines the real one; this stands in when the outputs are
 * built alone (weak: the real definition wins when it is linked). */
__attribute__((weak)) const char *cap_anomaly_name(enum cap_anomaly a)
{
    static const char *const names[CAP_A__COUNT] = {
        "truncated", "bad_link", "bad_ip", "bad_l4", "frag_overlap", "frag_limit",
        "frag_timeout", "tcp_overflow", "tcp_table_full", "hep_bad", "tunnel_depth",
    };
    return (unsigned)a < CAP_A__COUNT ? names[a] : "unknown";
}

/* ---- fixtures ---------------------------------------------------------- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sipsift-out-XXXXXX");
    if (!mkdtemp(tmpdir))
        tmpdir[0] = '\0';
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0]) {
        chmod(tmpdir, 0700);
        nftw(tmpdir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    }
}

static const char *tmp_path(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
    return buf;
}

/* One SIP message and its metadata, with room for the strings it points to. */
struct fake {
    struct sip_msg msg;
    struct l4_meta m;
    char ruri[128], from[128], to[128];
};

static struct ip_addr ip(const char *s)
{
    struct ip_addr a;
    memset(&a, 0, sizeof a);
    ip_parse(s, &a);
    return a;
}

#define T0 1281873600000000ull /* 2010-08-15T12:00:00Z */

static void fake_base(struct fake *f, uint64_t ts, const char *src, const char *dst,
                      const char *call_id, const char *user)
{
    memset(f, 0, sizeof *f);
    f->m.ts_us = ts;
    f->m.src = ip(src);
    f->m.dst = ip(dst);
    f->m.sport = 5060;
    f->m.dport = 5060;
    f->m.proto = 17;
    f->m.frame = 1;
    snprintf(f->from, sizeof f->from, "sip:%s@example.com", user);
    snprintf(f->to, sizeof f->to, "sip:%s@192.0.2.10", user);
    f->msg.call_id = sl_cstr(call_id);
    f->msg.from.uri.raw = sl_cstr(f->from);
    f->msg.from.uri.user = sl_make(f->from + 4, strlen(user));
    f->msg.from.tag = SL_LIT("a73kszlfl");
    f->msg.to.uri.raw = sl_cstr(f->to);
    f->msg.to.uri.user = sl_make(f->to + 4, strlen(user));
    f->msg.has_cseq = true;
    f->msg.cseq.seq = 1;
    f->msg.via.host = sl_cstr(src);
    f->msg.via.has_port = true;
    f->msg.via.port = 5060;
    f->msg.via.branch = SL_LIT("z9hG4bK776asdhds");
    f->msg.content_length = -1;
    f->msg.raw = SL_LIT("INVITE sip:100@192.0.2.10 SIP/2.0\r\n\r\n");
}

static void fake_req(struct fake *f, uint64_t ts, const char *src, const char *method,
                     const char *call_id, const char *user, struct slice ua)
{
    fake_base(f, ts, src, "192.0.2.10", call_id, user);
    f->msg.is_request = true;
    f->msg.method = sl_cstr(method);
    snprintf(f->ruri, sizeof f->ruri, "sip:%s@192.0.2.10", user);
    f->msg.ruri_raw = sl_cstr(f->ruri);
    f->msg.ruri.user = sl_make(f->ruri + 4, strlen(user));
    f->msg.cseq.method = sl_cstr(method);
    f->msg.user_agent = ua;
}

static void fake_resp(struct fake *f, uint64_t ts, const char *dst, int status, const char *reason,
                      const char *call_id, const char *method, struct slice server)
{
    fake_base(f, ts, "192.0.2.10", dst, call_id, "100");
    f->msg.status = (uint16_t)status;
    f->msg.reason = sl_cstr(reason);
    f->msg.cseq.method = sl_cstr(method);
    f->msg.server = server;
}

static void feed(struct sink *s, struct fake *f, uint64_t id, bool retrans)
{
    struct ev_sip e = { &f->m, &f->msg, id, retrans };
    s->ops->sip(s->self, &e);
}

/* A User-Agent with a NUL, an invalid byte and an ESC in it. */
static const char EVIL_UA[] = "sip\0scan\xff\x1b[2J";
#define EVIL_UA_SL sl_make(EVIL_UA, sizeof EVIL_UA - 1)
#define EVIL_UA_ESCAPED "sip\\x00scan\\xff\\x1b[2J"

static struct run_input inputs[2] = {
    { "pcaps/a.pcap", "EN10MB", 100, 10000, T0, T0 + 60000000 },
    { "pcaps/b.pcapng", "LINUX_SLL", 5, 500, T0 + 60000000, T0 + 61000000 },
};
static struct capture_stats cstats = { .frames = 105, .bytes = 10500, .udp = 100, .anomalies = { [CAP_A_BAD_LINK] = 2 } };

static struct run_info mk_run(const char *status)
{
    struct run_info r = {
        .version = "0.1.0", .command_line = "sipsift analyze -r pcaps/a.pcap",
        .started_wall_us = 1700000000000000ull, .finished_wall_us = 1700000005000000ull,
        .inputs = inputs, .n_inputs = 2, .capture = &cstats, .sip_messages = 9,
        .sip_malformed = 1, .rtp_packets = 0,
        .limits_json = "{\"dialogs\":{\"count\":1,\"peak\":2,\"capacity\":1000,\"expired\":0,\"evicted\":0}}",
        .status = status,
    };
    return r;
}

/* Every kind of event of one small scan, into any sink. */
static void feed_scenario(struct sink *s)
{
    static struct fake f; /* ~7 KB: keep it off the stack */
    struct run_info run = mk_run("running");
    if (s->ops->run_start)
        s->ops->run_start(s->self, &run);
    uint64_t id = 1;
    fake_req(&f, T0 + 1000000, "203.0.113.5", "INVITE", "call-a@x", "100", SL_LIT("friendly-scanner"));
    feed(s, &f, id++, false);
    feed(s, &f, id++, true); /* retransmission: counted as a message */
    fake_resp(&f, T0 + 1100000, "203.0.113.5", 100, "Trying", "call-a@x", "INVITE", SL_NULL);
    feed(s, &f, id++, false);
    fake_resp(&f, T0 + 2000000, "203.0.113.5", 200, "OK", "call-a@x", "INVITE", SL_LIT("Asterisk PBX 1.6"));
    feed(s, &f, id++, false);
    fake_req(&f, T0 + 3000000, "203.0.113.5", "INVITE", "call-b@x", "101", SL_LIT("friendly-scanner"));
    feed(s, &f, id++, false);
    fake_req(&f, T0 + 4000000, "198.51.100.7", "REGISTER", "reg-1@y", "200", SL_LIT("sipcli/v1.8"));
    feed(s, &f, id++, false);
    fake_resp(&f, T0 + 4100000, "198.51.100.7", 401, "Unauthorized", "reg-1@y", "REGISTER", SL_NULL);
    feed(s, &f, id++, false);
    fake_req(&f, T0 + 5000000, "198.51.100.7", "OPTIONS", "", "100", EVIL_UA_SL);
    f.msg.malformed = "bad request line";
    f.msg.anomalies = SIP_ANOM_CL_MISSING;
    feed(s, &f, id++, false);
    fake_req(&f, T0 + 6000000, "2001:db8::5", "OPTIONS", "opt-6@z", "100", SL_LIT("friendly-scanner"));
    feed(s, &f, id++, false);

    struct ev_call answered = {
        .call_id = SL_LIT("call-a@x"), .from = SL_LIT("sip:100@example.com"),
        .to = SL_LIT("sip:100@192.0.2.10"), .from_user = SL_LIT("100"), .to_user = SL_LIT("100"),
        .user_agent = SL_LIT("friendly-scanner"), .src = ip("203.0.113.5"), .dst = ip("192.0.2.10"),
        .sport = 5060, .dport = 5060, .proto = 17, .start_us = T0 + 1000000,
        .answer_us = T0 + 2000000, .end_us = T0 + 14500000, .state = "completed",
        .final_status = 200, .messages = 6, .dtmf = SL_LIT("1234#"),
    };
    s->ops->call(s->self, &answered);
    struct ev_call unanswered = answered;
    unanswered.call_id = SL_LIT("call-b@x");
    unanswered.start_us = T0 + 3000000;
    unanswered.answer_us = 0;
    unanswered.end_us = T0 + 35000000;
    unanswered.state = "no_response";
    unanswered.final_status = 0;
    unanswered.dtmf = SL_NULL;
    s->ops->call(s->self, &unanswered);

    struct ev_registration reg = {
        .ts_us = T0 + 4000000, .resp_us = T0 + 4100000, .src = ip("198.51.100.7"),
        .dst = ip("192.0.2.10"), .sport = 5060, .dport = 5060, .proto = 17,
        .aor = SL_LIT("sip:200@192.0.2.10"), .user = SL_LIT("200"),
        .contact = SL_LIT("sip:200@198.51.100.7:5060"), .user_agent = SL_LIT("sipcli/v1.8"),
        .call_id = SL_LIT("reg-1@y"), .expires = UINT32_MAX, .status = 401,
        .authenticated = false, .result = "challenged",
    };
    s->ops->registration(s->self, &reg);

    struct ev_auth auth = {
        .ts_us = T0 + 4200000, .src = ip("198.51.100.7"), .dst = ip("192.0.2.10"), .sport = 5060,
        .dport = 5060, .proto = 17, .method = SL_LIT("REGISTER"), .call_id = SL_LIT("reg-1@y"),
        .header = "Authorization", .scheme = SL_LIT("Digest"), .username = SL_LIT("200"),
        .realm = SL_LIT("asterisk"), .nonce = SL_LIT("4b6f1c1a"), .uri = SL_LIT("sip:192.0.2.10"),
        .response = SL_LIT("6629fae49393a05397450978507c4ef1"), .algorithm = SL_LIT("MD5"),
        .challenge_us = T0 + 4100000, .status = 403, .result = "rejected",
    };
    s->ops->auth(s->self, &auth);

    static struct ev_source src; /* big: off the stack */
    memset(&src, 0, sizeof src);
    src.ip = ip("203.0.113.5");
    src.first_us = T0 + 1000000;
    src.last_us = T0 + 3000000;
    src.sip_messages = 3;
    src.methods[SIP_M_INVITE] = 3;
    src.methods[SIP_M_UNKNOWN] = 1;
    src.user_agents[0] = SL_LIT("friendly-scanner");
    src.user_agents[1] = EVIL_UA_SL;
    src.n_user_agents = 2;
    src.targets = 1;
    src.users_tried[0] = SL_LIT("100");
    src.users_tried[1] = SL_LIT("101");
    src.n_users_tried = 2;
    src.users_tried_total = 2;
    src.extensions_found[0] = SL_LIT("100");
    src.n_extensions_found = 1;
    src.auth_attempts = 1;
    src.auth_failures = 1;
    src.credentials[0] = (struct ev_credential){ SL_LIT("100"), SL_LIT("asterisk"), SL_LIT("1234"), true };
    src.n_credentials = 1;
    src.numbers[0] = (struct ev_number){ SL_LIT("0044123456789"), SL_LIT("GB") };
    src.n_numbers = 1;
    src.tools[0] = "sipvicious";
    src.n_tools = 1;
    src.techniques[0] = "enumeration";
    src.techniques[1] = "tollfraud";
    src.n_techniques = 2;
    src.severity = "high";
    src.reasons[0] = SL_LIT("dialed an international number after a 200");
    src.n_reasons = 1;
    s->ops->source(s->self, &src);
    src.sip_messages = 4; /* live re-emit: same ip replaces */
    s->ops->source(s->self, &src);

    if (s->ops->tick)
        s->ops->tick(s->self, T0 + 7000000);
}

static json_t *load_report(const char *db, int64_t run_id, int64_t *got_run)
{
    char err[512] = "";
    struct report *r = report_open(db, run_id, err, sizeof err);
    if (!r) {
        fprintf(stderr, "  report_open: %s\n", err);
        return NULL;
    }
    *got_run = report_run_id(r);
    FILE *f = tmpfile();
    json_t *j = NULL;
    if (f && report_json(r, f, err, sizeof err) == 0) {
        rewind(f);
        json_error_t je;
        j = json_loadf(f, 0, &je);
        if (!j)
            fprintf(stderr, "  report is not JSON: %s (line %d)\n", je.text, je.line);
    } else {
        fprintf(stderr, "  report_json: %s\n", err);
    }
    if (f)
        fclose(f);
    report_close(r);
    return j;
}

static bool is_rfc3339(const json_t *v)
{
    const char *s = json_string_value(v);
    return s && strlen(s) == 27 && s[4] == '-' && s[10] == 'T' && s[19] == '.' && s[26] == 'Z';
}

static int64_t jint(const json_t *o, const char *path_a, const char *path_b)
{
    const json_t *v = json_object_get(o, path_a);
    if (path_b)
        v = json_object_get(v, path_b);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* ---- tests ------------------------------------------------------------- */

TEST(output_escape_rule)
{
    char out[256];
    struct { const char *in; size_t n; const char *want; } cases[] = {
        { "friendly-scanner", 16, "friendly-scanner" },
        { "a\\b", 3, "a\\\\b" },
        { "\0", 1, "\\x00" },
        { "caf\xc3\xa9", 5, "caf\xc3\xa9" },           /* valid UTF-8 kept */
        { "\xff\xfe", 2, "\\xff\\xfe" },
        { "\xc0\x80", 2, "\\xc0\\x80" },               /* overlong NUL */
        { "\xed\xa0\x80", 3, "\\xed\\xa0\\x80" },      /* surrogate */
        { "\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80" }, /* past U+10FFFF */
        { "\xc2\x85", 2, "\\xc2\\x85" },               /* C1 NEL */
        { "a\xe2\x80\xaez", 5, "a\\xe2\\x80\\xaez" },  /* RIGHT-TO-LEFT OVERRIDE */
        { "ab\xe2\x82", 4, "ab\\xe2\\x82" },           /* cut at the end */
        { "\r\n\t", 3, "\\x0d\\x0a\\x09" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = js_escape((const uint8_t *)cases[k].in, cases[k].n, out, sizeof out, NULL);
        CHECK_STR(out, cases[k].want);
        CHECK_EQ_INT(n, strlen(cases[k].want));
        CHECK(js_is_clean((const uint8_t *)cases[k].in, cases[k].n) == (strcmp(cases[k].in, cases[k].want) == 0 && cases[k].n == strlen(cases[k].want)));
        json_t *j = js_str(sl_make(cases[k].in, cases[k].n));
        CHECK(json_is_string(j));
        CHECK_STR(json_string_value(j), cases[k].want);
        json_decref(j);
    }
    /* A full buffer never splits an escape or a character. */
    size_t used;
    size_t n = js_escape((const uint8_t *)"ab\xff", 3, out, 5, &used);
    CHECK_STR(out, "ab");
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(used, 2);
    n = js_escape((const uint8_t *)"\xc3\xa9\xc3\xa9", 4, out, 4, &used);
    CHECK_STR(out, "\xc3\xa9");
    CHECK_EQ_INT(used, 2);
    /* Every byte value alone comes out as valid JSON. */
    for (int b = 0; b < 256; b++) {
        uint8_t c = (uint8_t)b;
        json_t *j = js_str(sl_make(&c, 1));
        CHECK(json_is_string(j));
        json_decref(j);
    }
    json_t *t = js_time(T0 + 123456);
    CHECK_STR(json_string_value(t), "2010-08-15T12:00:00.123456Z");
    json_decref(t);
    CHECK(json_is_null(js_time(0)));
}

TEST(output_store_report_roundtrip)
{
    make_tmpdir();
    char db[128], err[512] = "";
    tmp_path("sipsift.db", db, sizeof db);
    struct sink *s = store_open(db, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "  store_open: %s\n", err);
        remove_tmpdir();
        return;
    }
    feed_scenario(s);
    struct run_info run = mk_run("finished");
    CHECK_EQ_INT(s->ops->run_end(s->self, &run, err, sizeof err), 0);
    CHECK_EQ_INT(store_run_id(s), 1);
    store_close(s);

    int64_t got = 0;
    json_t *j = load_report(db, 0, &got);
    CHECK(j != NULL);
    CHECK_EQ_INT(got, 1);
    if (j) {
        CHECK_STR(json_string_value(json_object_get(j, "version")), "0.1.0");
        /* Contract key order. */
        const char *order[] = { "version", "inputs", "stats", "sources", "alerts", "calls", "rtp_streams" };
        void *it = json_object_iter(j);
        for (size_t k = 0; k < 7 && it; k++, it = json_object_iter_next(j, it))
            CHECK_STR(json_object_iter_key(it), order[k]);
        json_t *in0 = json_array_get(json_object_get(j, "inputs"), 0);
        CHECK_STR(json_string_value(json_object_get(in0, "file")), "pcaps/a.pcap");
        CHECK_STR(json_string_value(json_object_get(in0, "link_type")), "EN10MB");
        CHECK_STR(json_string_value(json_object_get(in0, "start")), "2010-08-15T12:00:00.000000Z");
        CHECK_EQ_INT(json_array_size(json_object_get(j, "inputs")), 2);

        json_t *st = json_object_get(j, "stats");
        CHECK_EQ_INT(jint(st, "packets", NULL), 105);
        CHECK_EQ_INT(jint(st, "bytes", NULL), 10500);
        CHECK_EQ_INT(jint(st, "sip_messages", NULL), 9);
        CHECK_EQ_INT(jint(st, "sip_requests", "INVITE"), 3);
        CHECK_EQ_INT(jint(st, "sip_requests", "REGISTER"), 1);
        CHECK_EQ_INT(jint(st, "sip_requests", "OPTIONS"), 2);
        CHECK_EQ_INT(jint(st, "sip_responses", "100"), 1);
        CHECK_EQ_INT(jint(st, "sip_responses", "200"), 1);
        CHECK_EQ_INT(jint(st, "sip_responses", "401"), 1);
        CHECK_EQ_INT(jint(st, "sip_malformed", NULL), 1);
        CHECK_EQ_INT(jint(st, "user_agents", "friendly-scanner"), 4);
        CHECK_EQ_INT(jint(st, "user_agents", "Asterisk PBX 1.6"), 1);
        CHECK_EQ_INT(jint(st, "user_agents", EVIL_UA_ESCAPED), 1);
        CHECK_EQ_INT(jint(st, "calls", NULL), 2);
        CHECK_EQ_INT(jint(st, "call_ids", NULL), 4); /* call-a, call-b, reg-1, opt-6; "" not counted */
        CHECK_EQ_INT(jint(st, "registrations", NULL), 1);
        CHECK_EQ_INT(jint(st, "auth_attempts", NULL), 1);
        CHECK_EQ_INT(jint(st, "rtp_streams", NULL), 0);
        CHECK_EQ_INT(jint(st, "alerts", NULL), 0);

        json_t *calls = json_object_get(j, "calls");
        CHECK_EQ_INT(json_array_size(calls), 2);
        json_t *c0 = json_array_get(calls, 0), *c1 = json_array_get(calls, 1);
        CHECK_STR(json_string_value(json_object_get(c0, "call_id")), "call-a@x");
        CHECK_STR(json_string_value(json_object_get(c0, "state")), "completed");
        CHECK(json_is_real(json_object_get(c0, "duration")) &&
              json_real_value(json_object_get(c0, "duration")) == 12.5);
        CHECK_STR(json_string_value(json_object_get(c0, "answer")), "2010-08-15T12:00:02.000000Z");
        CHECK(is_rfc3339(json_object_get(c0, "start")) && is_rfc3339(json_object_get(c0, "end")));
        CHECK_STR(json_string_value(json_object_get(c0, "src_ip")), "203.0.113.5");
        CHECK_STR(json_string_value(json_object_get(c0, "dtmf")), "1234#");
        CHECK(json_is_array(json_object_get(c0, "rtp_streams")));
        CHECK(json_is_null(json_object_get(c1, "answer")));
        CHECK(json_real_value(json_object_get(c1, "duration")) == 0.0);
        CHECK_STR(json_string_value(json_object_get(c1, "state")), "no_response");

        json_t *srcs = json_object_get(j, "sources");
        CHECK_EQ_INT(json_array_size(srcs), 1); /* the re-emit replaced, not added */
        json_t *s0 = json_array_get(srcs, 0);
        CHECK_STR(json_string_value(json_object_get(s0, "ip")), "203.0.113.5");
        CHECK(json_object_get(s0, "country") == NULL); /* omitted without --geoip */
        CHECK_EQ_INT(jint(s0, "sip_messages", NULL), 4);
        CHECK_EQ_INT(jint(s0, "methods", "INVITE"), 3);
        CHECK_EQ_INT(jint(s0, "methods", "OTHER"), 1);
        CHECK_STR(json_string_value(json_array_get(json_object_get(s0, "user_agents"), 1)), EVIL_UA_ESCAPED);
        CHECK_EQ_INT(json_array_size(json_object_get(s0, "users_tried")), 2);
        CHECK_STR(json_string_value(json_array_get(json_object_get(s0, "extensions_found"), 0)), "100");
        json_t *cred = json_array_get(json_object_get(json_object_get(s0, "auth"), "credentials"), 0);
        CHECK_STR(json_string_value(json_object_get(cred, "password")), "1234");
        CHECK(json_is_true(json_object_get(cred, "accepted")));
        CHECK_EQ_INT(jint(s0, "auth", "attempts"), 1);
        json_t *num = json_array_get(json_object_get(s0, "numbers_dialed"), 0);
        CHECK_STR(json_string_value(json_object_get(num, "country")), "GB");
        CHECK_STR(json_string_value(json_array_get(json_object_get(s0, "tools"), 0)), "sipvicious");
        CHECK_STR(json_string_value(json_array_get(json_object_get(s0, "techniques"), 1)), "tollfraud");
        CHECK_STR(json_string_value(json_object_get(s0, "severity")), "high");
        CHECK(is_rfc3339(json_object_get(s0, "first_seen")));
        CHECK_EQ_INT(jint(j, "capture", "frames"), 105);
        CHECK_EQ_INT(jint(json_object_get(j, "capture"), "anomalies", cap_anomaly_name(CAP_A_BAD_LINK)), 2);
        CHECK_EQ_INT(jint(json_object_get(j, "limits"), "dialogs", "peak"), 2);
        CHECK_STR(json_string_value(json_object_get(json_object_get(j, "run"), "status")), "finished");
        json_decref(j);
    }

    /* Rows as an analyst queries them. */
    sqlite3 *h = NULL;
    CHECK(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(h, "SELECT username, realm, result, status, challenge_us FROM auth_attempts", -1, &q, NULL);
    CHECK(q && sqlite3_step(q) == SQLITE_ROW);
    if (q) {
        CHECK_STR((const char *)sqlite3_column_text(q, 0), "200");
        CHECK_STR((const char *)sqlite3_column_text(q, 1), "asterisk");
        CHECK_STR((const char *)sqlite3_column_text(q, 2), "rejected");
        CHECK_EQ_INT(sqlite3_column_int(q, 3), 403);
        CHECK_EQ_INT(sqlite3_column_int64(q, 4), T0 + 4100000);
    }
    sqlite3_finalize(q);
    sqlite3_prepare_v2(h, "SELECT m.via_sent_by, m.user_agent, m.retransmission, m.proto, m.hep,"
                          " m.anomalies, length(m.user_agent), r.expires IS NULL"
                          " FROM sip_messages m, registrations r WHERE m.id = 8", -1, &q, NULL);
    CHECK(q && sqlite3_step(q) == SQLITE_ROW);
    if (q) {
        CHECK_STR((const char *)sqlite3_column_text(q, 0), "198.51.100.7:5060");
        CHECK_STR((const char *)sqlite3_column_text(q, 1), EVIL_UA_ESCAPED);
        CHECK_EQ_INT(sqlite3_column_int(q, 2), 0);
        CHECK_STR((const char *)sqlite3_column_text(q, 3), "udp");
        CHECK_EQ_INT(sqlite3_column_int(q, 5), SIP_ANOM_CL_MISSING);
        CHECK_EQ_INT(sqlite3_column_int(q, 6), strlen(EVIL_UA_ESCAPED)); /* no NUL cut it short */
        CHECK_EQ_INT(sqlite3_column_int(q, 7), 1);
    }
    sqlite3_finalize(q);
    sqlite3_prepare_v2(h, "SELECT via_sent_by FROM sip_messages WHERE src_ip = '2001:db8::5'", -1, &q, NULL);
    CHECK(q && sqlite3_step(q) == SQLITE_ROW);
    if (q)
        CHECK_STR((const char *)sqlite3_column_text(q, 0), "[2001:db8::5]:5060");
    sqlite3_finalize(q);
    sqlite3_prepare_v2(h, "SELECT count(*) FROM sip_messages WHERE retransmission = 1", -1, &q, NULL);
    CHECK(q && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1);
    sqlite3_finalize(q);
    sqlite3_close(h);

    /* The terminal summary: readable, no control bytes from the wire. */
    struct report *r = report_open(db, 0, err, sizeof err);
    CHECK(r != NULL);
    char *text = NULL;
    size_t tlen = 0;
    FILE *mf = open_memstream(&text, &tlen);
    if (r && mf) {
        CHECK_EQ_INT(report_summary(r, mf, err, sizeof err), 0);
        fclose(mf);
        CHECK(strstr(text, "friendly-scanner") != NULL);
        CHECK(strstr(text, "203.0.113.5") != NULL);
        CHECK(strstr(text, "INVITE 3") != NULL);
        CHECK(strstr(text, "4xx 1") != NULL);
        CHECK(strstr(text, "pcaps/a.pcap") != NULL);
        bool clean = true;
        for (size_t k = 0; k < tlen; k++)
            if ((unsigned char)text[k] < 0x20 && text[k] != '\n')
                clean = false;
        CHECK(clean);
        free(text);
    }
    report_close(r);

    /* A second analyze appends run 2; the report picks the latest by default. */
    s = store_open(db, err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        static struct fake f;
        struct run_info run2 = mk_run("running");
        run2.n_inputs = 1;
        s->ops->run_start(s->self, &run2);
        fake_req(&f, T0 + 99000000, "192.0.2.99", "BYE", "late@x", "300", SL_LIT("Linphone"));
        feed(s, &f, 1, false);
        run2.status = "finished";
        run2.sip_messages = 1;
        CHECK_EQ_INT(s->ops->run_end(s->self, &run2, err, sizeof err), 0);
        CHECK_EQ_INT(store_run_id(s), 2);
        store_close(s);
    }
    j = load_report(db, 0, &got);
    CHECK_EQ_INT(got, 2);
    CHECK_EQ_INT(jint(json_object_get(j, "stats"), "sip_messages", NULL), 1);
    CHECK_EQ_INT(jint(json_object_get(j, "stats"), "sip_requests", "BYE"), 1);
    CHECK_EQ_INT(json_array_size(json_object_get(j, "sources")), 0);
    json_decref(j);
    j = load_report(db, 1, &got);
    CHECK_EQ_INT(got, 1);
    CHECK_EQ_INT(jint(json_object_get(j, "stats"), "sip_messages", NULL), 9);
    json_decref(j);
    CHECK(report_open(db, 7, err, sizeof err) == NULL && strstr(err, "no run 7"));

    /* Atomic report file. */
    char rp[128];
    r = report_open(db, 0, err, sizeof err);
    CHECK(r && report_json_file(r, tmp_path("report.json", rp, sizeof rp), err, sizeof err) == 0);
    report_close(r);
    json_t *fj = json_load_file(rp, 0, NULL);
    CHECK(json_is_object(fj));
    json_decref(fj);
    remove_tmpdir();
}

TEST(output_report_alerts_and_streams)
{
    /* No event for these yet (detection and media issues): rows written by
     * SQL come out with the contract keys. */
    make_tmpdir();
    char db[128], err[512] = "";
    tmp_path("s.db", db, sizeof db);
    struct sink *s = store_open(db, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        remove_tmpdir();
        return;
    }
    feed_scenario(s);
    struct run_info run = mk_run("finished");
    s->ops->run_end(s->self, &run, err, sizeof err);
    store_close(s);
    sqlite3 *h = NULL;
    sqlite3_open(db, &h);
    CHECK(sqlite3_exec(h,
        "INSERT INTO alerts (run_id, ts_us, sid, rev, msg, classtype, severity, src_ip, src_port,"
        " dst_ip, dst_port, proto, call_id) VALUES (1, 1281873601000000, 1000001, 2,"
        " 'SIPVicious scan', 'attempted-recon', 2, '203.0.113.5', 5060, '192.0.2.10', 5060, 'udp', 'call-a@x');"
        "INSERT INTO rtp_streams (run_id, ssrc, src_ip, src_port, dst_ip, dst_port, payload_type,"
        " codec, packets, bytes, lost, out_of_order, jitter_ms, max_delta_ms, start_us, end_us, call_id)"
        " VALUES (1, 3735928559, '192.0.2.10', 10000, '203.0.113.5', 20000, 0, 'PCMU', 500, 86000,"
        " 2, 1, 1.25, 40.5, 1281873602000000, 1281873612000000, 'call-a@x');",
        NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(h);
    int64_t got;
    json_t *j = load_report(db, 0, &got);
    json_t *a = json_array_get(json_object_get(j, "alerts"), 0);
    CHECK_EQ_INT(jint(a, "sid", NULL), 1000001);
    CHECK_STR(json_string_value(json_object_get(a, "proto")), "UDP");
    CHECK_STR(json_string_value(json_object_get(a, "timestamp")), "2010-08-15T12:00:01.000000Z");
    CHECK_STR(json_string_value(json_object_get(a, "dest_ip")), "192.0.2.10");
    json_t *rs = json_array_get(json_object_get(j, "rtp_streams"), 0);
    CHECK_EQ_INT(jint(rs, "ssrc", NULL), 3735928559ll);
    CHECK_STR(json_string_value(json_object_get(rs, "codec")), "PCMU");
    CHECK(json_real_value(json_object_get(rs, "jitter_ms")) == 1.25);
    CHECK(is_rfc3339(json_object_get(rs, "end")));
    json_t *c0 = json_array_get(json_object_get(j, "calls"), 0);
    CHECK_EQ_INT(json_array_size(json_object_get(c0, "rtp_streams")), 1);
    CHECK_EQ_INT(json_integer_value(json_array_get(json_object_get(c0, "rtp_streams"), 0)), jint(rs, "id", NULL));
    CHECK_EQ_INT(jint(json_object_get(j, "stats"), "alerts", NULL), 1);
    CHECK_EQ_INT(jint(json_object_get(j, "stats"), "rtp_packets", NULL), 0); /* from the run row */
    json_decref(j);
    remove_tmpdir();
}

TEST(output_eve_lines)
{
    make_tmpdir();
    char path[128], err[512] = "";
    tmp_path("eve.json", path, sizeof path);
    struct sink *s = eve_open(path, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        remove_tmpdir();
        return;
    }
    feed_scenario(s);
    struct run_info run = mk_run("finished");
    CHECK_EQ_INT(s->ops->run_end(s->self, &run, err, sizeof err), 0);
    eve_close(s);

    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0, sip = 0, calls = 0, auth = 0, regs = 0, sources = 0, stats = 0, evil = 0;
    while (f && (n = getline(&line, &cap, f)) > 0) {
        lines++;
        CHECK(line[n - 1] == '\n');
        json_error_t je;
        json_t *o = json_loadb(line, (size_t)n, 0, &je);
        CHECK(json_is_object(o));
        const char *type = json_string_value(json_object_get(o, "event_type"));
        CHECK(type != NULL);
        CHECK(is_rfc3339(json_object_get(o, "timestamp")));
        CHECK(json_object_get(o, type) != NULL); /* the object named after the type */
        if (type && strcmp(type, "stats") != 0)
            CHECK(json_is_string(json_object_get(o, "src_ip")));
        if (type && strcmp(type, "sip") == 0) {
            sip++;
            CHECK_STR(json_string_value(json_object_get(o, "proto")), "UDP");
            CHECK(json_is_integer(json_object_get(o, "dest_port")));
            CHECK(json_is_integer(json_object_get(o, "src_port")));
            CHECK(json_is_string(json_object_get(o, "dest_ip")));
            const char *ua = json_string_value(json_object_get(json_object_get(o, "sip"), "user_agent"));
            if (ua && strcmp(ua, EVIL_UA_ESCAPED) == 0)
                evil++;
        }
        calls += type && !strcmp(type, "call");
        auth += type && !strcmp(type, "auth");
        regs += type && !strcmp(type, "registration");
        sources += type && !strcmp(type, "source");
        if (type && !strcmp(type, "stats")) {
            stats++;
            CHECK_EQ_INT(jint(json_object_get(o, "stats"), "calls", NULL), 2);
            CHECK_EQ_INT(jint(json_object_get(o, "stats"), "packets", NULL), 105);
        }
        if (type && !strcmp(type, "call") && json_object_get(json_object_get(o, "call"), "answer") &&
            !json_is_null(json_object_get(json_object_get(o, "call"), "answer")))
            CHECK(json_real_value(json_object_get(json_object_get(o, "call"), "duration")) == 12.5);
        if (type && !strcmp(type, "auth"))
            CHECK_STR(json_string_value(json_object_get(json_object_get(o, "auth"), "user")), "200");
        json_decref(o);
    }
    free(line);
    if (f)
        fclose(f);
    CHECK_EQ_INT(lines, 9 + 2 + 1 + 1 + 2 + 1);
    CHECK_EQ_INT(sip, 9);
    CHECK_EQ_INT(calls, 2);
    CHECK_EQ_INT(auth, 1);
    CHECK_EQ_INT(regs, 1);
    CHECK_EQ_INT(sources, 2);
    CHECK_EQ_INT(stats, 1);
    CHECK_EQ_INT(evil, 1);

    /* Rotation: the old file moved away, reopen writes a new one. */
    s = eve_open(path, err, sizeof err);
    char moved[160];
    snprintf(moved, sizeof moved, "%s.1", path);
    CHECK(s && rename(path, moved) == 0);
    if (s) {
        CHECK_EQ_INT(eve_reopen(s, err, sizeof err), 0);
        CHECK_EQ_INT(s->ops->run_end(s->self, &run, err, sizeof err), 0);
        eve_close(s);
    }
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && sb.st_size > 0);
    CHECK(eve_open("/nonexistent-dir/eve.json", err, sizeof err) == NULL && strstr(err, "/nonexistent-dir"));
    remove_tmpdir();
}

TEST(output_store_open_errors)
{
    make_tmpdir();
    char p[128], err[512];
    err[0] = '\0';
    CHECK(store_open("/nonexistent-dir/x.db", err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent-dir/x.db") != NULL);
    err[0] = '\0';
    CHECK(store_open(tmpdir, err, sizeof err) == NULL && err[0]); /* a directory */

    FILE *f = fopen(tmp_path("notdb", p, sizeof p), "w");
    if (f) {
        fputs("this is not a database, just text that is long enough to have a header....\n", f);
        fclose(f);
    }
    err[0] = '\0';
    CHECK(store_open(p, err, sizeof err) == NULL && strstr(err, "not a"));
    err[0] = '\0';
    CHECK(report_open(p, 0, err, sizeof err) == NULL && strstr(err, "not a"));

    sqlite3 *h = NULL;
    sqlite3_open(tmp_path("v7.db", p, sizeof p), &h);
    sqlite3_exec(h, "CREATE TABLE t(x); PRAGMA user_version = 7;", NULL, NULL, NULL);
    sqlite3_close(h);
    err[0] = '\0';
    CHECK(store_open(p, err, sizeof err) == NULL && strstr(err, "version 7"));

    sqlite3_open(tmp_path("other.db", p, sizeof p), &h);
    sqlite3_exec(h, "CREATE TABLE t(x);", NULL, NULL, NULL);
    sqlite3_close(h);
    err[0] = '\0';
    CHECK(store_open(p, err, sizeof err) == NULL && strstr(err, "not a sipsift store"));
    err[0] = '\0';
    CHECK(report_open(tmp_path("missing.db", p, sizeof p), 0, err, sizeof err) == NULL && err[0]);

    /* An existing store on a read-only file, opened by a user who cannot
     * write it (root writes anyway, so the child drops to nobody). */
    tmp_path("ro.db", p, sizeof p);
    struct sink *s = store_open(p, err, sizeof err);
    CHECK(s != NULL);
    store_close(s);
    chmod(p, 0444);
    chmod(tmpdir, 0555);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        char e2[512] = "";
        struct sink *ro = store_open(p, e2, sizeof e2);
        _exit(ro == NULL && strstr(e2, "ro.db") && strstr(e2, "read") ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    remove_tmpdir();
}

/* Rows worth of SIP messages into s; returns after n or when told to die. */
static void insert_rows(struct sink *s, unsigned n, unsigned die_at)
{
    static struct fake f;
    static const char *const methods[] = { "INVITE", "REGISTER", "OPTIONS" };
    char cid[32];
    for (unsigned k = 1; k <= n; k++) {
        if (k == die_at)
            raise(SIGKILL);
        snprintf(cid, sizeof cid, "c%u@x", k % 977);
        fake_req(&f, T0 + k * 1000ull, "203.0.113.5", methods[k % 3], cid, "100", SL_LIT("friendly-scanner"));
        feed(s, &f, k, false);
    }
}

TEST(output_store_survives_kill9)
{
    make_tmpdir();
    char db[128], err[512] = "";
    tmp_path("crash.db", db, sizeof db);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct sink *s = store_open(db, err, sizeof err);
        if (!s)
            _exit(2);
        struct run_info run = mk_run("running");
        s->ops->run_start(s->self, &run);
        insert_rows(s, 30000, 25000); /* batches at 10,000 and 20,000 committed */
        _exit(4);                      /* not reached */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    sqlite3 *h = NULL;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &q, NULL);
    CHECK(q && sqlite3_step(q) == SQLITE_ROW);
    if (q)
        CHECK_STR((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_prepare_v2(h, "SELECT count(*), max(id) FROM sip_messages", -1, &q, NULL);
    CHECK(q && sqlite3_step(q) == SQLITE_ROW);
    if (q) {
        int64_t rows = sqlite3_column_int64(q, 0);
        CHECK(rows >= 20000 && rows < 25000);
        CHECK_EQ_INT(sqlite3_column_int64(q, 1), rows); /* committed batches are whole */
    }
    sqlite3_finalize(q);
    sqlite3_close(h);

    /* The interrupted run reads back, and the store takes a new run. */
    int64_t got = 0;
    json_t *j = load_report(db, 0, &got);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(j, "run"), "status")), "running");
    CHECK(jint(json_object_get(j, "stats"), "sip_messages", NULL) >= 20000);
    json_decref(j);
    struct sink *s = store_open(db, err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        struct run_info run = mk_run("running");
        s->ops->run_start(s->self, &run);
        CHECK_EQ_INT(store_run_id(s), 2);
        store_close(s);
    }
    remove_tmpdir();
}

TEST(output_store_write_error_is_reported)
{
    /* A file size limit stands in for a full disk: writes fail with EFBIG. */
    make_tmpdir();
    char db[128];
    tmp_path("full.db", db, sizeof db);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char err[512] = "";
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 256 * 1024, 256 * 1024 };
        setrlimit(RLIMIT_FSIZE, &rl);
        struct sink *s = store_open(db, err, sizeof err);
        if (!s)
            _exit(2);
        struct run_info run = mk_run("running");
        s->ops->run_start(s->self, &run);
        insert_rows(s, 25000, 0);
        run.status = "finished";
        int rc = s->ops->run_end(s->self, &run, err, sizeof err);
        store_close(s);
        /* One line naming the file and what failed. */
        _exit(rc == -1 && strstr(err, "full.db") && strstr(err, "rows not written") &&
              !strchr(err, '\n') ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    remove_tmpdir();
}
