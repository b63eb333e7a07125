/*
 * test_review_regressions.c - regressions from the hostile-input review: each
 * test is an attacker's input that once cost quadratic CPU, hid an attack or
 * froze expiry, and checks the value that was wrong. Engine tests feed raw
 * IPv4 frames through the real decoder, libnids and state.
 */
#include "test.h"

#include <netinet/in.h>
#include <pcap/dlt.h>
#include <stdlib.h>
#include <time.h>

#include "../../dissect/sdp.h"
#include "../../dissect/sip.h"
#include "../../dissect/state.h"
#include "../../lib/ipaddr.h"
#include "../../lib/table.h"
#include "../../main/engine.h"
#include "../../output/sink.h"

static double rv_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- A sink that counts what it is told ----------------------------------- */

struct rv_rec {
    unsigned n_sip, n_retrans, n_reg, n_auth, n_source, n_tick, n_call;
    char call_state[16];
    uint64_t last_tick;
    uint64_t src_attempts, src_failures;
    char auth_result[8][16];
};

static void rv_sip(void *s, const struct ev_sip *e)
{
    struct rv_rec *r = s;
    r->n_sip++;
    r->n_retrans += e->retransmission;
}

static void rv_call(void *s, const struct ev_call *e)
{
    struct rv_rec *r = s;
    snprintf(r->call_state, sizeof r->call_state, "%s", e->state);
    r->n_call++;
}

static void rv_reg(void *s, const struct ev_registration *e)
{
    (void)e;
    ((struct rv_rec *)s)->n_reg++;
}

static void rv_auth(void *s, const struct ev_auth *e)
{
    struct rv_rec *r = s;
    if (r->n_auth < 8)
        snprintf(r->auth_result[r->n_auth], sizeof r->auth_result[0], "%s", e->result);
    r->n_auth++;
}

static void rv_source(void *s, const struct ev_source *e)
{
    struct rv_rec *r = s;
    r->n_source++;
    r->src_attempts += e->auth_attempts;
    r->src_failures += e->auth_failures;
}

static void rv_tick(void *s, uint64_t now)
{
    struct rv_rec *r = s;
    r->n_tick++;
    r->last_tick = now;
}

static const struct sink_ops rv_ops = {
    .name = "review",
    .sip = rv_sip,
    .call = rv_call,
    .registration = rv_reg,
    .auth = rv_auth,
    .source = rv_source,
    .tick = rv_tick,
};

/* ---- Raw IPv4/TCP frames through the whole engine ------------------------- */

static void rv_w16(uint8_t *o, unsigned v)
{
    o[0] = (uint8_t)(v >> 8);
    o[1] = (uint8_t)v;
}

static void rv_w32(uint8_t *o, uint32_t v)
{
    rv_w16(o, v >> 16);
    rv_w16(o + 2, v & 0xffff);
}

struct rv_conn {
    struct engine *e;
    uint64_t ts;
    uint32_t cseq, sseq;
};

/* One IPv4 TCP segment client (192.0.2.10:40000) <-> server (192.0.2.20:5060). */
static void rv_seg(struct rv_conn *k, bool from_client, uint8_t flags, const void *pl, size_t n)
{
    static uint8_t pkt[40 + 2000];
    static const uint8_t cli[4] = { 192, 0, 2, 10 }, srv[4] = { 192, 0, 2, 20 };
    if (n > 2000)
        return;
    memset(pkt, 0, 40);
    pkt[0] = 0x45;
    rv_w16(pkt + 2, (unsigned)(40 + n));
    rv_w16(pkt + 6, 0x4000);
    pkt[8] = 64;
    pkt[9] = IPPROTO_TCP;
    memcpy(pkt + 12, from_client ? cli : srv, 4);
    memcpy(pkt + 16, from_client ? srv : cli, 4);
    uint8_t *t = pkt + 20;
    rv_w16(t, from_client ? 40000 : 5060);
    rv_w16(t + 2, from_client ? 5060 : 40000);
    rv_w32(t + 4, from_client ? k->cseq : k->sseq);
    rv_w32(t + 8, (flags & 0x10) ? (from_client ? k->sseq : k->cseq) : 0);
    t[12] = 5 << 4;
    t[13] = flags;
    rv_w16(t + 14, 65535);
    if (n)
        memcpy(pkt + 40, pl, n);
    struct frame f = { .ts_us = k->ts += 100, .caplen = (uint32_t)(40 + n),
                       .len = (uint32_t)(40 + n), .linktype = DLT_RAW, .data = pkt };
    engine_frame(k->e, &f, 0);
    if (from_client)
        k->cseq += (uint32_t)n;
    else
        k->sseq += (uint32_t)n;
}

static void rv_open(struct rv_conn *k)
{
    k->cseq = 1000;
    k->sseq = 5000;
    rv_seg(k, true, 0x02, NULL, 0); /* SYN */
    k->cseq++;
    rv_seg(k, false, 0x12, NULL, 0); /* SYN ACK */
    k->sseq++;
    rv_seg(k, true, 0x10, NULL, 0); /* ACK */
}

#define RV_REGISTER                                                                          \
    "REGISTER sip:pbx.example.com SIP/2.0\r\n"                                               \
    "Via: SIP/2.0/TCP 192.0.2.10:40000;branch=z9hG4bK-tcp1\r\n"                              \
    "From: <sip:100@pbx.example.com>;tag=a1\r\nTo: <sip:100@pbx.example.com>\r\n"            \
    "Call-ID: ka@192.0.2.10\r\nCSeq: 1 REGISTER\r\nContact: <sip:100@192.0.2.10:40000>\r\n" \
    "Content-Length: 0\r\n\r\n"

/*
 * RFC 5626 §3.5.1 CRLF keep-alives on a SIP/TCP connection. engine.c's TCP
 * handler left the CRLFs sip_parse had skipped unconsumed, so every segment
 * re-scanned all of them (67 s of CPU for 256 KiB sent a byte at a time) and
 * once 256 KiB piled up the buffer overflowed and was dropped, taking the
 * start of the next REGISTER with it; the rest then looked like non-SIP and
 * the whole direction was ignored: both REGISTERs vanished.
 */
TEST(review_tcp_crlf_keepalives_are_consumed)
{
    char err[256] = "";
    struct engine *e = engine_new(NULL, 0, NULL, err, sizeof err);
    CHECK(e != NULL);
    if (!e)
        return;
    struct rv_conn k = { .e = e, .ts = 1700000000000000ull };
    rv_open(&k);
    static char crlf[1400];
    for (size_t i = 0; i < sizeof crlf; i += 2)
        memcpy(crlf + i, "\r\n", 2);
    size_t sent = 0, total = 262144 - 10;
    while (sent < total) {
        size_t n = total - sent < sizeof crlf ? total - sent : sizeof crlf;
        rv_seg(&k, true, 0x18, crlf, n);
        rv_seg(&k, false, 0x10, NULL, 0); /* the server acks: libnids keeps to its window */
        sent += n;
    }
    const char *msg = RV_REGISTER;
    size_t mlen = strlen(msg);
    rv_seg(&k, true, 0x18, msg, 100); /* split across segments */
    rv_seg(&k, true, 0x18, msg + 100, mlen - 100);
    rv_seg(&k, true, 0x18, msg, mlen);
    const struct capture_stats *cs = engine_capture_stats(e);
    const struct engine_counters *ec = engine_counters(e);
    CHECK_EQ_INT(cs->anomalies[CAP_A_TCP_OVERFLOW], 0);
    CHECK_EQ_INT(ec->tcp_ignored, 0);
    CHECK_EQ_INT(ec->sip_messages, 2);
    engine_finish(e);
    engine_free(e);
}

/*
 * A header block and a body trickled one byte per TCP segment: engine.c
 * parsed the whole buffer again on every segment, quadratic in the message
 * size (a 64 KiB header block cost seconds per stream). With the per-direction
 * hint (capture.h) the handler waits for the end of the header block, then
 * for Content-Length bytes, and parses the message once.
 */
TEST(review_tcp_trickled_message_is_parsed_once)
{
    char err[256] = "";
    struct engine *e = engine_new(NULL, 0, NULL, err, sizeof err);
    CHECK(e != NULL);
    if (!e)
        return;
    struct rv_conn k = { .e = e, .ts = 1700000000000000ull };
    rv_open(&k);
    static char msg[24000];
    static char pad[16000], body[3000];
    memset(pad, 'a', sizeof pad - 1);
    memset(body, 'b', sizeof body - 1);
    int n = snprintf(msg, sizeof msg,
                     "MESSAGE sip:100@pbx.example.com SIP/2.0\r\n"
                     "Via: SIP/2.0/TCP 192.0.2.10:40000;branch=z9hG4bK-trickle\r\n"
                     "From: <sip:1@pbx.example.com>;tag=t\r\nTo: <sip:100@pbx.example.com>\r\n"
                     "Call-ID: trickle@192.0.2.10\r\nCSeq: 1 MESSAGE\r\nX-Pad: %s\r\n"
                     "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
                     pad, strlen(body), body);
    CHECK(n > 0 && (size_t)n < sizeof msg);
    for (int i = 0; i < n; i++) {
        rv_seg(&k, true, 0x18, msg + i, 1);
        rv_seg(&k, false, 0x10, NULL, 0);
    }
    const struct engine_counters *ec = engine_counters(e);
    CHECK_EQ_INT(ec->sip_messages, 1);
    CHECK_EQ_INT(ec->sip_malformed, 0);
    /* every segment waited unparsed but those of the start line (no hint
     * before its end, ~60 bytes) and the two that completed a part */
    if (ec->tcp_waits + 64 < (uint64_t)n)
        fprintf(stderr, "  waits %llu of %d segments\n", (unsigned long long)ec->tcp_waits, n);
    CHECK(ec->tcp_waits + 64 >= (uint64_t)n);
    engine_finish(e);
    engine_free(e);
}

/*
 * A capture with one frame stamped far in the future (a corrupt or crafted
 * pcapng timestamp, or a second -r file older than the first): the tick
 * stopped for the rest of the run because it waited for that future time
 * plus a second, so no state expired and no sink was ticked again.
 */
TEST(review_engine_ticks_resume_after_time_jump)
{
    struct rv_rec *r = calloc(1, sizeof *r);
    struct sink sk = { &rv_ops, r };
    char err[256] = "";
    struct engine *e = engine_new(&sk, 1, NULL, err, sizeof err);
    CHECK(e != NULL);
    if (!e) {
        free(r);
        return;
    }
    static const uint8_t junk[1] = { 0 };
    uint64_t t0 = 1700000000000000ull;
    uint64_t times[] = { t0, t0 + 2000000, t0 + 1000000000000000ull, t0 + 3000000,
                         t0 + 5000000, t0 + 7000000 };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        struct frame f = { .ts_us = times[i], .caplen = 1, .len = 1, .linktype = DLT_RAW,
                           .data = junk };
        engine_frame(e, &f, 0);
    }
    /* t0+2 s and the jump tick as before; then capture time goes on from t0+3 s. */
    CHECK(r->n_tick >= 4);
    CHECK_EQ_INT(r->last_tick, t0 + 7000000);
    engine_finish(e);
    engine_free(e);
    free(r);
}

/* ---- Tables --------------------------------------------------------------- */

/*
 * LRU order is touch order, and table_expire stopped at the least recently
 * used entry that was not idle yet. One entry stamped in the future (a HEP
 * header carries its own time, so any UDP packet that looks like HEP sets
 * it) then shielded every entry behind it from expiry for good.
 */
TEST(review_table_future_entry_does_not_block_expiry)
{
    struct table_cfg c = { .name = "t", .capacity = 8, .value_size = 4, .key_max = 4,
                           .idle_us = 10 };
    struct table *t = table_new(&c);
    CHECK(t != NULL);
    if (!t)
        return;
    uint32_t a = 1, b = 2, d = 3;
    table_put(t, &a, 4, 1000000, NULL); /* from the future */
    table_put(t, &b, 4, 100, NULL);
    table_put(t, &d, 4, 105, NULL);
    CHECK_EQ_INT(table_expire(t, 200), 2);
    CHECK(table_peek(t, &b, 4) == NULL);
    CHECK(table_peek(t, &d, 4) == NULL);
    /* The future entry stays, now aged from the time it was found. */
    CHECK(table_peek(t, &a, 4) != NULL);
    CHECK_EQ_INT(table_stats(t)->count, 1);
    CHECK_EQ_INT(table_expire(t, 205), 0);
    CHECK_EQ_INT(table_expire(t, 211), 1);
    CHECK_EQ_INT(table_stats(t)->count, 0);
    table_free(t);
}

/* ---- Transactions: a reused branch ---------------------------------------- */

static void rv_feed(struct state *st, uint64_t ts, bool from_client, const char *text,
                    struct sip_msg *msg)
{
    size_t used;
    CHECK(sip_parse(sl_cstr(text), SIP_DGRAM, msg, &used) == SIP_OK);
    struct l4_meta m = { .ts_us = ts, .sport = 5060, .dport = 5060, .proto = IPPROTO_UDP };
    ip_parse(from_client ? "198.51.100.7" : "192.0.2.20", &m.src);
    ip_parse(from_client ? "192.0.2.20" : "198.51.100.7", &m.dst);
    state_on_sip(st, &m, msg);
}

static void rv_register(char *buf, size_t cap, unsigned cseq, const char *response)
{
    snprintf(buf, cap,
             "REGISTER sip:pbx.example.com SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-same\r\n"
             "From: <sip:100@pbx.example.com>;tag=f1\r\nTo: <sip:100@pbx.example.com>\r\n"
             "Call-ID: brute@198.51.100.7\r\nCSeq: %u REGISTER\r\n"
             "Contact: <sip:100@198.51.100.7>\r\n"
             "Authorization: Digest username=\"100\", realm=\"pbx\", nonce=\"n1\", "
             "uri=\"sip:pbx.example.com\", response=\"%s\"\r\n"
             "Content-Length: 0\r\n\r\n",
             cseq, response);
}

static void rv_403(char *buf, size_t cap, unsigned cseq)
{
    snprintf(buf, cap,
             "SIP/2.0 403 Forbidden\r\n"
             "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-same\r\n"
             "From: <sip:100@pbx.example.com>;tag=f1\r\nTo: <sip:100@pbx.example.com>;tag=s9\r\n"
             "Call-ID: brute@198.51.100.7\r\nCSeq: %u REGISTER\r\nContent-Length: 0\r\n\r\n",
             cseq);
}

/*
 * A password guesser that keeps one Via branch for every guess: txn.c took
 * every request after the first on that branch (same direction) for a
 * retransmission, and the 403s for retransmitted responses, so registrations,
 * digest attempts and the source's auth counters saw one guess out of many.
 * A stateless registrar (or any server over TCP, or after Timer J) answers
 * each guess. A retransmission is the same request again (RFC 3261
 * §17.1.1.2) within 64*T1 of the first copy.
 */
TEST(review_txn_reused_branch_counts_every_guess)
{
    struct rv_rec *r = calloc(1, sizeof *r);
    struct sink sk = { &rv_ops, r };
    struct state_cfg cfg;
    state_default_cfg(&cfg);
    struct state *st = state_new(&cfg, &sk, 1, NULL);
    struct sip_msg *msg = malloc(sizeof *msg);
    CHECK(st != NULL && msg != NULL);
    if (!st || !msg) {
        state_free(st);
        free(msg);
        free(r);
        return;
    }
    char req[1024], resp[1024];
    uint64_t t0 = 1700000000000000ull;
    /* Guess 1, its retransmission, the answer and its retransmission. */
    rv_register(req, sizeof req, 1, "00000000000000000000000000000001");
    rv_feed(st, t0, true, req, msg);
    rv_feed(st, t0 + 500000, true, req, msg);
    rv_403(resp, sizeof resp, 1);
    rv_feed(st, t0 + 600000, false, resp, msg);
    rv_feed(st, t0 + 700000, false, resp, msg);
    CHECK_EQ_INT(r->n_retrans, 2);
    /* Guesses 2 and 3 on the same branch, each answered. */
    rv_register(req, sizeof req, 2, "00000000000000000000000000000002");
    rv_feed(st, t0 + 1000000, true, req, msg);
    rv_403(resp, sizeof resp, 2);
    rv_feed(st, t0 + 1100000, false, resp, msg);
    rv_register(req, sizeof req, 3, "00000000000000000000000000000003");
    rv_feed(st, t0 + 2000000, true, req, msg);
    rv_403(resp, sizeof resp, 3);
    rv_feed(st, t0 + 2100000, false, resp, msg);
    CHECK_EQ_INT(r->n_retrans, 2);
    /* Guesses 4 and 5 sent before any answer: 4 is superseded unanswered. */
    rv_register(req, sizeof req, 4, "00000000000000000000000000000004");
    rv_feed(st, t0 + 3000000, true, req, msg);
    rv_register(req, sizeof req, 5, "00000000000000000000000000000005");
    rv_feed(st, t0 + 3000100, true, req, msg);
    rv_403(resp, sizeof resp, 5);
    rv_feed(st, t0 + 3100000, false, resp, msg);
    /* Guess 1's bytes replayed a minute later: no resend is that late. */
    rv_register(req, sizeof req, 1, "00000000000000000000000000000001");
    rv_feed(st, t0 + 61000000, true, req, msg);
    state_finish(st);
    CHECK_EQ_INT(r->n_retrans, 2);
    CHECK_EQ_INT(r->n_auth, 6);
    CHECK_EQ_INT(r->n_reg, 6);
    CHECK_STR(r->auth_result[0], "rejected");
    CHECK_STR(r->auth_result[1], "rejected");
    CHECK_STR(r->auth_result[2], "rejected");
    CHECK_STR(r->auth_result[3], "no_response"); /* guess 4 */
    CHECK_STR(r->auth_result[4], "rejected");    /* guess 5 */
    CHECK_STR(r->auth_result[5], "no_response"); /* the replay */
    CHECK_EQ_INT(r->src_attempts, 6);
    CHECK_EQ_INT(r->src_failures, 4);
    state_free(st);
    free(msg);
    free(r);
}

/* ---- Multipart ------------------------------------------------------------ */

/*
 * find_delim searched the body for every occurrence of the boundary and only
 * then checked for "--" at a line start; a boundary of 20,000 'a' over a body
 * of 'a' made each of ~20,000 matches cost a full-length compare (1.2 s for
 * one 60 KB message). Delimiters are looked for at line starts only.
 */
TEST(review_multipart_long_boundary_is_linear)
{
    size_t L = 20000, B = 40000;
    char *ct = malloc(L + 64);
    uint8_t *body = malloc(B);
    CHECK(ct && body);
    if (!ct || !body) {
        free(ct);
        free(body);
        return;
    }
    int o = sprintf(ct, "multipart/mixed;boundary=");
    memset(ct + o, 'a', L);
    memset(body, 'a', B);
    struct slice sdp;
    double t = rv_now();
    bool found = sdp_find_in_body(sl_make(ct, (size_t)o + L), sl_make(body, B), &sdp);
    double dt = rv_now() - t;
    CHECK(!found);
    CHECK(dt < 0.25);
    if (dt >= 0.25)
        fprintf(stderr, "  multipart scan took %.3f s\n", dt);
    /* A well-formed body with a long boundary is still split. */
    const char *bd = "0123456789012345678901234567890123456789012345678901234567890123456789";
    char ct2[128], body2[512];
    snprintf(ct2, sizeof ct2, "multipart/mixed; boundary=\"%s\"", bd);
    int n = snprintf(body2, sizeof body2,
                     "preamble\r\n--%s\r\nContent-Type: text/plain\r\n\r\nhi\r\n--%s\r\n"
                     "Content-Type: application/sdp\r\n\r\nv=0\r\n--%s--\r\n",
                     bd, bd, bd);
    CHECK(sdp_find_in_body(sl_cstr(ct2), sl_make(body2, (size_t)n), &sdp));
    CHECK_SL(sdp, "v=0");
    free(ct);
    free(body);
}

/* ---- Transactions: a response sent somewhere else ------------------------- */

/*
 * An attacker who sends each guess and then, at the server, a forged final
 * response on that guess's branch: the first final response settled the
 * digest attempt, the registration and the call, and the server's real 200
 * that came next was ignored, so a guessed password or an answered fraud call
 * was reported as rejected or cancelled. A response goes back to whoever
 * sent the request (RFC 3261 §18.2.2, RFC 3581); one going elsewhere answers
 * nothing.
 */
TEST(review_txn_response_not_to_requester_settles_nothing)
{
    struct rv_rec *r = calloc(1, sizeof *r);
    struct sink sk = { &rv_ops, r };
    struct state_cfg cfg;
    state_default_cfg(&cfg);
    struct state *st = state_new(&cfg, &sk, 1, NULL);
    struct sip_msg *msg = malloc(sizeof *msg);
    CHECK(st != NULL && msg != NULL);
    if (!st || !msg) {
        state_free(st);
        free(msg);
        free(r);
        return;
    }
    char req[1024], resp[1024];
    uint64_t t0 = 1700000000000000ull;
    rv_register(req, sizeof req, 7, "0123456789abcdef0123456789abcdef");
    rv_feed(st, t0, true, req, msg);
    /* The forged 403 goes from the attacker to the server. */
    rv_403(resp, sizeof resp, 7);
    rv_feed(st, t0 + 1000, true, resp, msg);
    /* The server's real answer goes back to the attacker. */
    snprintf(resp, sizeof resp,
             "SIP/2.0 200 OK\r\n"
             "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-same\r\n"
             "From: <sip:100@pbx.example.com>;tag=f1\r\nTo: <sip:100@pbx.example.com>;tag=s9\r\n"
             "Call-ID: brute@198.51.100.7\r\nCSeq: 7 REGISTER\r\n"
             "Contact: <sip:100@198.51.100.7>;expires=60\r\nContent-Length: 0\r\n\r\n");
    rv_feed(st, t0 + 2000, false, resp, msg);
    CHECK_EQ_INT(r->n_auth, 1);
    CHECK_STR(r->auth_result[0], "accepted");
    CHECK_EQ_INT(r->n_reg, 1);
    /* A fraud call: the forged 487 at the server must not end it. */
    const char *inv =
        "INVITE sip:0044123456@pbx.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-call\r\n"
        "From: <sip:100@pbx.example.com>;tag=f2\r\nTo: <sip:0044123456@pbx.example.com>\r\n"
        "Call-ID: fraud@198.51.100.7\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    rv_feed(st, t0 + 3000, true, inv, msg);
    const char *fmt = "SIP/2.0 %u X\r\n"
                      "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-call\r\n"
                      "From: <sip:100@pbx.example.com>;tag=f2\r\n"
                      "To: <sip:0044123456@pbx.example.com>;tag=t2\r\n"
                      "Call-ID: fraud@198.51.100.7\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    snprintf(resp, sizeof resp, fmt, 487u);
    rv_feed(st, t0 + 4000, true, resp, msg);
    snprintf(resp, sizeof resp, fmt, 200u);
    rv_feed(st, t0 + 5000, false, resp, msg);
    CHECK_EQ_INT(r->n_call, 0);
    state_finish(st);
    CHECK_EQ_INT(r->n_call, 1);
    CHECK_STR(r->call_state, "answered");
    CHECK_EQ_INT(r->src_attempts, 1);
    CHECK_EQ_INT(r->src_failures, 0);
    state_free(st);
    free(msg);
    free(r);
}
