/*
 * test_fuzz_regressions.c - every input a fuzz target crashed on, kept under
 * tests/fuzz/regressions/<target>/, replayed through the parser entry that target
 * calls: first what the parser must answer for each known input, then every file
 * of each directory through the target's own invariants (slices inside the input).
 */
#include "test.h"

#include <dirent.h>
#include <pcap/dlt.h>
#include <stdlib.h>

#include "../../dissect/digest.h"
#include "../../dissect/sdp.h"
#include "../../dissect/sip.h"
#include "../../main/engine.h"

#define REG_DIR "tests/fuzz/regressions/"

static struct sip_msg msg, again; /* ~6 KB each: not on the test's stack */

/* The whole file in a buffer of exactly its size (ASan sees a read past it). */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *b = NULL;
    long len = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
    if (len >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (b = malloc(len ? (size_t)len : 1)) &&
        fread(b, 1, (size_t)len, fp) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    *n = len > 0 ? (size_t)len : 0;
    return b;
}

static bool inside(struct slice s, struct slice in)
{
    uintptr_t lo = (uintptr_t)in.p, hi = lo + in.n, p = (uintptr_t)s.p;
    return s.p ? p >= lo && p <= hi && s.n <= hi - p : s.n == 0;
}

/* Run fn on every file of regressions/<target>/; returns how many there were. */
static unsigned replay(const char *target, void (*fn)(struct slice in, const char *name))
{
    char dir[256], path[512];
    snprintf(dir, sizeof dir, REG_DIR "%s", target);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *b = slurp(path, &len);
        CHECK(b != NULL);
        if (!b)
            continue;
        fn(sl_make(b, len), e->d_name);
        free(b);
        n++;
    }
    closedir(d);
    return n;
}

/* ---- one test per input: what the parser must make of it -------------------------- */

/* fuzz_sip: a REGISTER without Content-Type. sdp_find_in_body got SL_NULL and
 * sl_drop() computed NULL + 0 (undefined in C; clang's UBSan stops there). */
TEST(fuzz_regression_sip_null_content_type)
{
    size_t n, used;
    uint8_t *b = slurp(REG_DIR "sip/ubsan-null-content-type.sip", &n);
    CHECK(b != NULL);
    if (!b)
        return;
    struct slice in = sl_make(b, n);
    CHECK_EQ_INT(sip_parse(in, SIP_DGRAM, &msg, &used), SIP_OK);
    CHECK_EQ_INT(used, n);
    CHECK_EQ_INT(msg.method_id, SIP_M_REGISTER);
    CHECK(msg.has_expires && msg.expires == 3600);
    CHECK(msg.content_type.p == NULL && msg.body.n == 0);
    CHECK_STR(msg.malformed, "missing mandatory header Via");
    struct slice sdp = SL_LIT("x");
    CHECK(!sdp_find_in_body(msg.content_type, msg.body, &sdp));
    CHECK_SL(sdp, "x"); /* untouched when there is none */
    free(b);

    /* The primitive itself: an empty slice stays what it was. */
    CHECK(sl_drop(SL_NULL, 0).p == NULL && sl_drop(SL_NULL, 3).n == 0);
    CHECK(sl_sub(SL_NULL, 1, 5).p == NULL && sl_sub(SL_NULL, 1, 5).n == 0);
    struct slice s = SL_LIT("abc");
    CHECK_SL(sl_drop(s, 1), "bc");
    CHECK(sl_drop(s, 9).p == s.p + 3 && sl_drop(s, 9).n == 0);
    CHECK_SL(sl_sub(s, 1, 9), "bc");
}

/* fuzz_frame's input format: byte 0 picks the link type (here DLT_RAW), then
 * records of u16 length, u8 flags, bytes. Fed through a fresh engine; the frames
 * are checked to come back as they went in. */
static void feed_frames(struct engine *e, struct slice in, int linktype, unsigned *n)
{
    uint64_t ts = 1700000000000000ull;
    for (in = sl_drop(in, 1); in.n >= 3;) {
        size_t len = (size_t)in.p[0] << 8 | in.p[1];
        struct slice b = sl_prefix(sl_drop(in, 3), len);
        in = sl_drop(in, 3 + b.n);
        struct frame f = { .ts_us = ts += 1000, .caplen = (uint32_t)b.n, .len = (uint32_t)b.n,
                           .linktype = linktype, .data = b.p };
        engine_frame(e, &f, 0);
        (*n)++;
    }
}

/* fuzz_frame: an IPv4 fragment whose options hold End of Option List and then junk.
 * libnids' ip_options_compile zeroes the junk in place, so feeding it the capture's
 * own buffer wrote to a const frame; reasm.c now hands it a copy. The datagram
 * must still be reassembled and its SIP message seen. */
TEST(fuzz_regression_frame_libnids_writes_ip_options)
{
    size_t n;
    uint8_t *b = slurp(REG_DIR "frame/libnids-writes-ip-options.frames", &n);
    CHECK(b != NULL && n > 30);
    if (!b)
        return;
    uint8_t *copy = malloc(n);
    memcpy(copy, b, n);
    char err[256];
    struct engine *e = engine_new(NULL, 0, NULL, err, sizeof err);
    CHECK(e != NULL);
    if (e) {
        unsigned frames = 0;
        CHECK_EQ_INT(b[0], 3); /* fuzz_frame.c's index of DLT_RAW */
        feed_frames(e, sl_make(b, n), DLT_RAW, &frames);
        CHECK(memcmp(b, copy, n) == 0); /* not one byte of the frames changed */
        const struct capture_stats *cs = engine_capture_stats(e);
        const struct engine_counters *ec = engine_counters(e);
        CHECK_EQ_INT(frames, 2);
        CHECK_EQ_INT(cs->frames, 2);
        CHECK_EQ_INT(cs->frags_v4, 2);
        CHECK_EQ_INT(ec->sip_messages, 1);
        CHECK_EQ_INT(ec->sip_malformed, 0);
        engine_finish(e);
        engine_free(e);
    }
    free(copy);
    free(b);
}

/* ---- every file through its target's invariants ----------------------------------- */

static void check_sip_msg(const struct sip_msg *m, struct slice in)
{
    CHECK(inside(m->raw, in) && inside(m->body, m->raw) && inside(m->start_line, m->raw));
    CHECK(m->n_hdr <= SIP_MAX_HEADERS);
    for (unsigned i = 0; i < m->n_hdr; i++)
        CHECK(inside(m->hdr[i].name, m->raw) && inside(m->hdr[i].value, m->raw));
    CHECK(inside(m->call_id, m->raw) && inside(m->via.branch, m->raw));
    CHECK(inside(m->from.uri.host, m->raw) && inside(m->to.tag, m->raw));
    struct slice sdp;
    if (sdp_find_in_body(m->content_type, m->body, &sdp))
        CHECK(inside(sdp, m->body));
}

static void replay_sip(struct slice in, const char *name)
{
    size_t used;
    (void)name;
    enum sip_result r = sip_parse(in, SIP_DGRAM, &msg, &used);
    if (r == SIP_OK) {
        CHECK(used >= 1 && used <= in.n);
        check_sip_msg(&msg, in);
    }
    /* Stream: each message, then the same from exactly its own bytes. */
    for (struct slice rest = in; rest.n;) {
        if (sip_parse(rest, SIP_STREAM, &msg, &used) != SIP_OK)
            break;
        CHECK(used >= 1 && used <= rest.n);
        check_sip_msg(&msg, rest);
        size_t used2 = 0;
        CHECK_EQ_INT(sip_parse(sl_prefix(rest, used), SIP_STREAM, &again, &used2), SIP_OK);
        CHECK_EQ_INT(used2, used);
        if (used == 0)
            break;
        rest = sl_drop(rest, used);
    }
}

static void replay_digest(struct slice in, const char *name)
{
    struct sip_digest d;
    (void)name;
    if (sip_digest_parse(in, &d))
        CHECK(d.scheme.n > 0 && inside(d.scheme, in));
    CHECK(inside(d.username, in) && inside(d.nonce, in) && inside(d.response, in));
}

static void replay_uri(struct slice in, const char *name)
{
    struct sip_name_addr na;
    struct sip_via v;
    struct slice rest;
    (void)name;
    sip_name_addr_parse(in, &na, &rest);
    CHECK(inside(na.uri.host, in) && inside(na.tag, in) && inside(rest, in));
    sip_via_parse(in, &v, &rest);
    CHECK(inside(v.host, in) && inside(v.branch, in) && inside(rest, in));
}

static void replay_sdp(struct slice in, const char *name)
{
    static struct sdp s;
    (void)name;
    if (sdp_parse(in, &s)) {
        CHECK(s.n_media <= SDP_MAX_MEDIA && inside(s.session_name, in));
        for (unsigned i = 0; i < s.n_media; i++)
            CHECK(inside(s.media[i].proto, in) && s.media[i].n_fmt <= SDP_MAX_FMT);
    }
}

/* Every file of every directory (frame and pcap inputs have their own tests above). */
TEST(fuzz_regressions_replay_all)
{
    unsigned n = replay("sip", replay_sip);
    CHECK(n >= 1); /* the directory ships with the test */
    replay("digest", replay_digest);
    replay("uri", replay_uri);
    replay("sdp", replay_sdp);
}
