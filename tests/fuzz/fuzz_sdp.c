/*
 * fuzz_sdp.c - libFuzzer target for sdp_find_in_body + sdp_parse. Input: a
 * Content-Type line, '\n', then the body (multipart bodies find their SDP part
 * by the boundary in it); no '\n' in the first 256 bytes: all of it is SDP.
 */
#include "dissect/sdp.h"
#include "tests/fuzz/fuzz.h"

static void check_sdp(const struct sdp *s, struct slice in)
{
    FUZZ_CHECK(s->n_media <= SDP_MAX_MEDIA);
    FUZZ_INSIDE(s->origin_user, in);
    FUZZ_INSIDE(s->origin_sess_id, in);
    FUZZ_INSIDE(s->origin_addr, in);
    FUZZ_INSIDE(s->session_name, in);
    FUZZ_INSIDE(s->conn_text, in);
    FUZZ_CHECK(s->dir <= SDP_DIR_INACTIVE);
    for (unsigned i = 0; i < s->n_media; i++) {
        const struct sdp_media *m = &s->media[i];
        FUZZ_INSIDE(m->type, in);
        FUZZ_INSIDE(m->proto, in);
        FUZZ_INSIDE(m->conn_text, in);
        FUZZ_CHECK(m->n_fmt <= SDP_MAX_FMT && m->n_rtpmap <= SDP_MAX_FMT);
        FUZZ_CHECK(m->dir <= SDP_DIR_INACTIVE);
        for (unsigned k = 0; k < m->n_rtpmap; k++) {
            FUZZ_INSIDE(m->rtpmap[k].encoding, in);
            FUZZ_INSIDE(m->rtpmap[k].params, in);
        }
        struct ip_addr a;
        sdp_media_addr(s, i, &a);
        uint8_t dir = sdp_media_dir(s, i);
        FUZZ_CHECK(dir >= SDP_DIR_SENDRECV && dir <= SDP_DIR_INACTIVE);
        for (unsigned k = 0; k < m->n_fmt; k++) {
            uint32_t clock;
            struct slice codec = sdp_codec(s, i, m->fmt[k], &clock);
            /* an rtpmap name from the body, else RFC 3551's static table */
            FUZZ_CHECK(fz_inside(codec, in.p, in.n) || (m->fmt[k] < 35 && codec.n <= 5));
        }
    }
    FUZZ_CHECK(!sdp_media_addr(s, s->n_media, &(struct ip_addr){ 0 }));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sdp s;
    struct slice in = sl_make(data, size), ct = SL_LIT("application/sdp"), body = in;
    size_t nl = sl_find_byte(sl_prefix(in, 256), '\n');
    if (nl < in.n && nl < 256) {
        ct = sl_prefix(in, nl);
        body = sl_drop(in, nl + 1);
    }
    struct slice sdp;
    if (sdp_find_in_body(ct, body, &sdp)) {
        FUZZ_INSIDE(sdp, body);
        if (sdp_parse(sdp, &s))
            check_sdp(&s, sdp);
    }
    /* The whole input as SDP too: the seeds without a Content-Type line. */
    if (sdp_parse(in, &s))
        check_sdp(&s, in);
    return 0;
}
