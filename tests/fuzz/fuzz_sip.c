/*
 * fuzz_sip.c - libFuzzer target for sip_parse: the input as one UDP datagram
 * (and the messages packed after it) and as a TCP stream. Every slice of every
 * message must lie inside the input, stream framing must not depend on what
 * follows a message, and every header value goes through the sub-parsers.
 */
#include "dissect/sdp.h"
#include "tests/fuzz/sipcheck.h"

static struct sip_msg msg, again; /* ~5 KB each: kept off the stack */

static void check_body(const struct sip_msg *m)
{
    struct slice sdp;
    if (!sdp_find_in_body(m->content_type, m->body, &sdp))
        return;
    FUZZ_INSIDE(sdp, m->body);
    static struct sdp s;
    sdp_parse(sdp, &s);
    FUZZ_CHECK(s.n_media <= SDP_MAX_MEDIA);
}

/* §18.3 framing: a body that was framed is exactly Content-Length bytes and ends the message. */
static void check_framing(const struct sip_msg *m, enum sip_transport t)
{
    if (!m->body.p)
        return; /* header block too long: no body was framed */
    FUZZ_CHECK(m->body.p + m->body.n == m->raw.p + m->raw.n);
    if (m->content_length < 0)
        return;
    if (t == SIP_DGRAM && !(m->anomalies & SIP_ANOM_CL_EXCEEDS))
        FUZZ_CHECK(m->body.n == (size_t)m->content_length);
    if (t == SIP_STREAM && m->content_length <= SIP_MAX_CONTENT_LENGTH)
        FUZZ_CHECK(m->body.n == (size_t)m->content_length);
}

static void check_msg(const struct sip_msg *m, struct slice in)
{
    FUZZ_INSIDE(m->raw, in);
    FUZZ_INSIDE(m->start_line, m->raw);
    FUZZ_INSIDE(m->body, m->raw);
    FUZZ_INSIDE(m->method, m->raw);
    FUZZ_INSIDE(m->ruri_raw, m->start_line);
    fz_check_uri(&m->ruri, m->start_line);
    FUZZ_INSIDE(m->reason, m->start_line);
    FUZZ_INSIDE(m->version, m->start_line);
    FUZZ_CHECK(m->method_id < SIP_M__COUNT);
    FUZZ_CHECK(m->status == 0 || (m->status >= 100 && m->status <= 699));
    FUZZ_CHECK(m->n_hdr <= SIP_MAX_HEADERS);
    FUZZ_CHECK(m->content_length >= -1 && m->content_length <= UINT32_MAX);
    for (unsigned id = 0; id < SIP_H__COUNT; id++) {
        FUZZ_CHECK(m->first[id] <= m->n_hdr);
        FUZZ_CHECK(!m->first[id] || m->hdr[m->first[id] - 1].id == id);
        FUZZ_CHECK(!m->first[id] || m->count[id] > 0);
    }
    for (unsigned i = 0; i < m->n_hdr; i++) {
        FUZZ_INSIDE(m->hdr[i].name, m->raw);
        FUZZ_INSIDE(m->hdr[i].value, m->raw);
        FUZZ_CHECK(m->hdr[i].id == sip_header_id(m->hdr[i].name));
        FUZZ_CHECK(sip_header_get(m, m->hdr[i].id, 0) != NULL);
        fz_subparsers(m->hdr[i].value);
    }
    FUZZ_INSIDE(m->call_id, m->raw);
    fz_check_name_addr(&m->from, m->raw);
    fz_check_name_addr(&m->to, m->raw);
    FUZZ_INSIDE(m->cseq.method, m->raw);
    fz_check_via(&m->via, m->raw);
    FUZZ_CHECK(m->via.host.p == NULL || m->n_via > 0);
    FUZZ_INSIDE(m->user_agent, m->raw);
    FUZZ_INSIDE(m->server, m->raw);
    fz_check_name_addr(&m->contact, m->raw);
    FUZZ_INSIDE(m->content_type, m->raw);
    fz_subparsers(m->ruri_raw);
    check_body(m);
}

/* Datagram: the message, then whatever else the datagram packs (as engine.c does). */
static void as_datagram(struct slice in)
{
    struct slice rest = in;
    for (unsigned n = 0; rest.n && n < 64; n++) {
        size_t used = 0;
        bool looks = sip_looks_like(rest);
        enum sip_result r = sip_parse(rest, SIP_DGRAM, &msg, &used);
        /* sip_looks_like promises a start line sip_parse takes. */
        FUZZ_CHECK(!looks || r == SIP_OK);
        if (r != SIP_OK) {
            FUZZ_CHECK(r == SIP_NOT_SIP && used <= rest.n);
            return;
        }
        FUZZ_CHECK(used >= 1 && used <= rest.n);
        check_msg(&msg, rest);
        check_framing(&msg, SIP_DGRAM);
        rest = sl_drop(rest, used);
    }
}

/* Stream: message after message, as engine.c's TCP handler consumes them. */
static void as_stream(struct slice in)
{
    struct slice rest = in;
    for (unsigned n = 0; rest.n && n < 1024; n++) {
        size_t used = 0;
        enum sip_result r = sip_parse(rest, SIP_STREAM, &msg, &used);
        if (r == SIP_NOT_SIP)
            return;
        FUZZ_CHECK(used <= rest.n);
        if (r == SIP_INCOMPLETE)
            return;
        FUZZ_CHECK(used >= 1);
        check_msg(&msg, rest);
        check_framing(&msg, SIP_STREAM);
        /* Framing: the same message must come out of exactly its own bytes, whatever
         * followed it; otherwise a TCP segment boundary would change what we parse. */
        struct slice own = sl_prefix(rest, used);
        size_t used2 = 0;
        FUZZ_CHECK(sip_parse(own, SIP_STREAM, &again, &used2) == SIP_OK);
        FUZZ_CHECK(used2 == used);
        FUZZ_CHECK(again.raw.n == msg.raw.n && again.n_hdr == msg.n_hdr);
        rest = sl_drop(rest, used);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = sl_make(data, size);
    as_datagram(in);
    as_stream(in);
    return 0;
}
