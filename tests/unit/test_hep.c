/* test_hep.c - HEP v1/v2/v3 unwrapping: the public hep-wireshark capture
 * (8 HEP3 frames to UDP/9060, MANIFEST row 14) and hand-built packets with
 * truncated and lying lengths. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "capture/decode.h"
#include "capture/hep.h"
#include "capture/input.h"

static bool addr_is(const struct ip_addr *a, const char *text)
{
    struct ip_addr b;
    return ip_parse(text, &b) && ip_eq(a, &b);
}

/* ---- the real capture ---------------------------------------------------- */

static struct {
    int udp, hep_ok, hep_bad;
    struct hep_msg first, second;
    char first_payload[64], second_payload[64];
    struct l4_meta first_outer;
} seen;

static void on_udp(void *ctx, const struct l4_meta *m, struct slice p)
{
    (void)ctx;
    struct hep_msg h;
    seen.udp++;
    int rc = hep_parse(p, m, &h);
    if (rc < 0)
        seen.hep_bad++;
    if (rc != 1)
        return;
    if (seen.hep_ok == 0) {
        seen.first = h;
        seen.first_outer = *m;
        sl_copy(h.payload, seen.first_payload, sizeof seen.first_payload);
    } else if (seen.hep_ok == 1) {
        seen.second = h;
        sl_copy(h.payload, seen.second_payload, sizeof seen.second_payload);
    }
    seen.hep_ok++;
}

TEST(hep_public_capture)
{
    static const struct l4_handler h = { NULL, on_udp, NULL, NULL, NULL };
    struct capture_stats st = { 0 };
    struct decoder *d = decoder_new(&h, NULL, &st);
    char err[256];
    struct input *in = input_open("pcaps/public/hep-wireshark/hep.pcap", NULL, err, sizeof err);
    CHECK(in != NULL && d != NULL);
    if (!in || !d) {
        decoder_free(d);
        return;
    }
    struct frame f;
    uint64_t n = 0;
    while (input_next(in, &f, err, sizeof err) == 1)
        decode_frame(d, &f, 1, ++n);
    input_close(in);
    decoder_free(d);

    CHECK_EQ_INT(n, 8);
    CHECK_EQ_INT(seen.udp, 8);
    CHECK_EQ_INT(seen.hep_ok, 8);
    CHECK_EQ_INT(seen.hep_bad, 0);
    /* Frame 1: the outer packet is 127.0.0.1:51160 -> :9060, HEP says the
     * INVITE went 192.168.1.1:5060 -> 192.168.1.2:5060 at 1481455196.000100. */
    const struct l4_meta *m = &seen.first.inner;
    CHECK(addr_is(&seen.first_outer.src, "127.0.0.1"));
    CHECK_EQ_INT(seen.first_outer.dport, 9060);
    CHECK(addr_is(&m->src, "192.168.1.1") && addr_is(&m->dst, "192.168.1.2"));
    CHECK_EQ_INT(m->sport, 5060);
    CHECK_EQ_INT(m->dport, 5060);
    CHECK_EQ_INT(m->proto, IPPROTO_UDP);
    CHECK_EQ_INT(m->ts_us, 1481455196000100u);
    CHECK_EQ_INT(m->flags, L4_F_HEP);
    CHECK_EQ_INT(m->input, 1);
    CHECK_EQ_INT(m->frame, 1);
    CHECK_EQ_INT(seen.first.payload_type, 1);
    CHECK_EQ_INT(seen.first.capture_id, 2001);
    CHECK_EQ_INT(seen.first.payload.n, 644 - 6);
    CHECK_STR(seen.first_payload,
              "INVITE sip:nodejs@127.0.0.1 SIP/2.0\nCall-ID: qgf3dm9rudi@127.0.");
    CHECK(sl_starts_lit(sl_cstr(seen.second_payload), "SIP/2.0 100 Trying\n"));
    CHECK(addr_is(&seen.second.inner.src, "192.168.1.2"));
    CHECK_EQ_INT(seen.second.inner.ts_us, 1481455196000325u);
}

/* ---- hand-built HEPv3 ---------------------------------------------------- */

struct hb {
    uint8_t b[1024];
    size_t n;
};

static void put16(uint8_t *o, unsigned v)
{
    o[0] = (uint8_t)(v >> 8);
    o[1] = (uint8_t)v;
}

static void chunk(struct hb *h, unsigned vendor, unsigned type, const void *v, size_t n)
{
    put16(h->b + h->n, vendor);
    put16(h->b + h->n + 2, type);
    put16(h->b + h->n + 4, (unsigned)(6 + n));
    memcpy(h->b + h->n + 6, v, n);
    h->n += 6 + n;
}

static void chunk_u32(struct hb *h, unsigned type, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    chunk(h, 0, type, b, 4);
}

static void chunk_u16(struct hb *h, unsigned type, unsigned v)
{
    uint8_t b[2];
    put16(b, v);
    chunk(h, 0, type, b, 2);
}

static void chunk_u8(struct hb *h, unsigned type, uint8_t v) { chunk(h, 0, type, &v, 1); }

#define INVITE "INVITE sip:100@192.0.2.2 SIP/2.0\r\nContent-Length: 0\r\n\r\n"

/* A complete IPv4 SIP message; set the total length with hb_close. */
static void hep3_v4(struct hb *h)
{
    uint8_t a[4], b[4];
    inet_pton(AF_INET, "192.0.2.1", a);
    inet_pton(AF_INET, "192.0.2.2", b);
    memcpy(h->b, "HEP3", 4);
    h->n = 6;
    chunk_u8(h, 1, 2);
    chunk_u8(h, 2, IPPROTO_UDP);
    chunk(h, 0, 3, a, 4);
    chunk(h, 0, 4, b, 4);
    chunk_u16(h, 7, 5062);
    chunk_u16(h, 8, 5060);
    chunk_u32(h, 9, 1700000000);
    chunk_u32(h, 10, 250);
    chunk_u8(h, 11, 1);
    chunk_u32(h, 12, 77);
    chunk(h, 0x0b2b, 1, "vendor-specific, skipped", 24);
    chunk(h, 0, 15, INVITE, strlen(INVITE));
}

static void hb_close(struct hb *h) { put16(h->b + 4, (unsigned)h->n); }

static const struct l4_meta outer = { .ts_us = 1700000000000000u, /* HEP's times are near it */
                                      .sport = 40000,
                                      .dport = 9060,
                                      .proto = IPPROTO_UDP,
                                      .vlan = 12,
                                      .input = 2,
                                      .frame = 99 };

/* Parse from an exact-size heap copy so ASan sees any read past the end. */
static int parse(const uint8_t *p, size_t n, const struct l4_meta *m, struct hep_msg *out)
{
    static uint8_t kept[1024];
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, p, n);
    int rc = hep_parse(sl_make(copy, n), m, out);
    if (rc == 1) {
        /* The payload must lie inside the packet; keep a copy past the free. */
        if (out->payload.p < copy || out->payload.p + out->payload.n > copy + n ||
            out->payload.n > sizeof kept)
            rc = -99;
        else
            memcpy(kept, out->payload.p, out->payload.n);
        out->payload = sl_make(kept, out->payload.n);
    }
    free(copy);
    return rc;
}

TEST(hep3_handbuilt)
{
    struct hb h;
    struct hep_msg m;
    hep3_v4(&h);
    hb_close(&h);
    CHECK(hep_looks_like(sl_make(h.b, h.n)));
    CHECK_EQ_INT(hep_parse(sl_make(h.b, h.n), &outer, &m), 1);
    CHECK_SL(m.payload, INVITE);
    CHECK(addr_is(&m.inner.src, "192.0.2.1") && addr_is(&m.inner.dst, "192.0.2.2"));
    CHECK_EQ_INT(m.inner.sport, 5062);
    CHECK_EQ_INT(m.inner.dport, 5060);
    CHECK_EQ_INT(m.inner.proto, IPPROTO_UDP);
    CHECK_EQ_INT(m.inner.ts_us, 1700000000000250u);
    CHECK(!m.time_clamped);
    CHECK_EQ_INT(m.inner.flags, L4_F_HEP);
    CHECK_EQ_INT(m.inner.vlan, 12);
    CHECK_EQ_INT(m.inner.input, 2);
    CHECK_EQ_INT(m.inner.frame, 99);
    CHECK_EQ_INT(m.payload_type, 1);
    CHECK_EQ_INT(m.capture_id, 77);

    /* IPv6 addresses over an outer IPv6 packet; no time chunks: the outer time stays. */
    uint8_t a[16], b[16];
    inet_pton(AF_INET6, "2001:db8::1", a);
    inet_pton(AF_INET6, "2001:db8::2", b);
    memcpy(h.b, "HEP3", 4);
    h.n = 6;
    chunk_u8(&h, 1, 10);
    chunk_u8(&h, 2, IPPROTO_TCP);
    chunk(&h, 0, 5, a, 16);
    chunk(&h, 0, 6, b, 16);
    chunk_u16(&h, 12, 3); /* a 16-bit capture id, as some agents send */
    chunk(&h, 0, 15, INVITE, strlen(INVITE));
    hb_close(&h);
    struct l4_meta o6 = outer;
    o6.flags = L4_F_IPV6 | L4_F_TUNNEL;
    CHECK_EQ_INT(parse(h.b, h.n, &o6, &m), 1);
    CHECK(addr_is(&m.inner.src, "2001:db8::1") && addr_is(&m.inner.dst, "2001:db8::2"));
    CHECK_EQ_INT(m.inner.flags, L4_F_HEP | L4_F_IPV6 | L4_F_TUNNEL);
    CHECK_EQ_INT(m.inner.proto, IPPROTO_TCP);
    CHECK_EQ_INT(m.inner.ts_us, 1700000000000000u);
    CHECK(!m.time_clamped);
    CHECK_EQ_INT(m.capture_id, 3);
    CHECK_EQ_INT(m.payload_type, 0); /* no chunk 11 */

    /* A HEP time days away from the packet's (a broken or hostile agent) is
     * replaced by the packet's: it must not move the clock tables expire by. */
    struct l4_meta later = outer;
    later.ts_us = 1700000000000000u + 2 * 24 * 3600 * 1000000ull;
    hep3_v4(&h);
    hb_close(&h);
    CHECK_EQ_INT(hep_parse(sl_make(h.b, h.n), &later, &m), 1);
    CHECK(m.time_clamped);
    CHECK_EQ_INT(m.inner.ts_us, later.ts_us);
    later.ts_us = 1700000000000000u + HEP_MAX_SKEW_US; /* just inside: kept */
    CHECK_EQ_INT(hep_parse(sl_make(h.b, h.n), &later, &m), 1);
    CHECK(!m.time_clamped);
    CHECK_EQ_INT(m.inner.ts_us, 1700000000000250u);

    /* Not HEP at all. */
    CHECK(!hep_looks_like(SL_LIT(INVITE)));
    CHECK_EQ_INT(hep_parse(SL_LIT(INVITE), &outer, &m), 0);
    CHECK_EQ_INT(hep_parse(SL_LIT("\x80\x08\x00\x01\x00\x00\x00\xa0"), &outer, &m), 0); /* RTP */
    CHECK_EQ_INT(hep_parse(SL_LIT("HEP"), &outer, &m), 0);
}

TEST(hep3_lying_and_truncated_lengths)
{
    struct hb h, good;
    struct hep_msg m;
    hep3_v4(&good);
    hb_close(&good);

    /* Every prefix: the total length then claims more than is there. */
    for (size_t n = 0; n < good.n; n++)
        CHECK_EQ_INT(parse(good.b, n, &outer, &m), n < 4 ? 0 : -1);

    /* ... unless the capture's snaplen cut it: then the payload is what is left. */
    struct l4_meta cut = outer;
    cut.flags = L4_F_TRUNCATED;
    CHECK_EQ_INT(parse(good.b, good.n - 10, &cut, &m), 1);
    CHECK_EQ_INT(m.payload.n, strlen(INVITE) - 10);
    CHECK(m.inner.flags & L4_F_TRUNCATED);
    CHECK_EQ_INT(parse(good.b, 20, &cut, &m), -1); /* cut before the payload chunk */

    /* Total length below the 6-byte header. */
    h = good;
    put16(h.b + 4, 5);
    CHECK_EQ_INT(parse(h.b, h.n, &outer, &m), -1);

    /* A chunk length under 6 (0 would loop forever if trusted). */
    static const unsigned small[] = { 0, 5 };
    for (size_t i = 0; i < 2; i++) {
        h = good;
        put16(h.b + 6 + 4, small[i]);
        CHECK_EQ_INT(parse(h.b, h.n, &outer, &m), -1);
    }

    /* The last chunk claims more than the packet holds. */
    h = good;
    put16(h.b + h.n - strlen(INVITE) - 2, (unsigned)(6 + strlen(INVITE) + 1));
    CHECK_EQ_INT(parse(h.b, h.n, &outer, &m), -1);

    /* An IPv4 address chunk of 5 bytes. */
    memcpy(h.b, "HEP3", 4);
    h.n = 6;
    chunk(&h, 0, 3, "\1\2\3\4\5", 5);
    chunk(&h, 0, 15, INVITE, strlen(INVITE));
    hb_close(&h);
    CHECK_EQ_INT(parse(h.b, h.n, &outer, &m), -1);

    /* Only a compressed payload (chunk 16): not inflated, so not decodable. */
    memcpy(h.b, "HEP3", 4);
    h.n = 6;
    chunk_u8(&h, 11, 1);
    chunk(&h, 0, 16, "\x78\x9c\x03\x00", 4);
    hb_close(&h);
    CHECK_EQ_INT(parse(h.b, h.n, &outer, &m), -1);

    /* No payload at all (a keepalive). */
    memcpy(h.b, "HEP3", 4);
    h.n = 6;
    chunk_u8(&h, 1, 2);
    hb_close(&h);
    CHECK_EQ_INT(parse(h.b, h.n, &outer, &m), -1);
    CHECK(m.payload.n == 0);

    /* Trailing bytes after the total length are not parsed. */
    h = good;
    memcpy(h.b + h.n, "\0\0\0\0", 4);
    CHECK_EQ_INT(parse(h.b, h.n + 4, &outer, &m), 1);
}

/* ---- HEPv1/v2 ------------------------------------------------------------ */

TEST(hep2_and_hep1)
{
    uint8_t b[256];
    struct hep_msg m;
    /* v2, IPv4: header, addresses, time (sender's host order: little-endian), payload. */
    size_t n = 0;
    b[n++] = 2;
    b[n++] = 16;
    b[n++] = 2;
    b[n++] = IPPROTO_UDP;
    put16(b + n, 5062);
    put16(b + n + 2, 5060);
    n += 4;
    inet_pton(AF_INET, "192.0.2.1", b + n);
    inet_pton(AF_INET, "192.0.2.2", b + n + 4);
    n += 8;
    uint32_t sec = 1700000000, usec = 999999;
    uint16_t capid = 9;
    memcpy(b + n, &sec, 4); /* this test runs on little-endian hosts, as the agents do */
    memcpy(b + n + 4, &usec, 4);
    memcpy(b + n + 8, &capid, 2);
    b[n + 10] = b[n + 11] = 0;
    n += 12;
    memcpy(b + n, INVITE, strlen(INVITE));
    n += strlen(INVITE);
    CHECK(hep_looks_like(sl_make(b, n)));
    CHECK_EQ_INT(parse(b, n, &outer, &m), 1);
    CHECK_SL(m.payload, INVITE);
    CHECK(addr_is(&m.inner.src, "192.0.2.1") && addr_is(&m.inner.dst, "192.0.2.2"));
    CHECK_EQ_INT(m.inner.sport, 5062);
    CHECK_EQ_INT(m.inner.ts_us, 1700000000999999u);
    CHECK_EQ_INT(m.capture_id, 9);
    CHECK_EQ_INT(m.payload_type, 1);
    CHECK_EQ_INT(m.inner.flags, L4_F_HEP);

    /* The same time written big-endian by a big-endian agent. */
    uint8_t be[256];
    memcpy(be, b, n);
    uint8_t t[8] = { 0x65, 0x53, 0xf1, 0x00, 0x00, 0x0f, 0x42, 0x3f };
    memcpy(be + 16, t, 8);
    CHECK_EQ_INT(parse(be, n, &outer, &m), 1);
    CHECK_EQ_INT(m.inner.ts_us, 1700000000999999u);

    /* Cut inside the time header: malformed. Every shorter prefix too. */
    for (size_t k = 0; k < 8 + 8 + 12; k++)
        CHECK_EQ_INT(parse(b, k, &outer, &m), k < 8 ? 0 : -1);
    /* Nothing after the headers. */
    CHECK_EQ_INT(parse(b, 8 + 8 + 12, &outer, &m), -1);

    /* v1 has no time header: the payload follows the addresses. */
    uint8_t v1[128];
    memcpy(v1, b, 16);
    v1[0] = 1;
    memcpy(v1 + 16, INVITE, strlen(INVITE));
    CHECK_EQ_INT(parse(v1, 16 + strlen(INVITE), &outer, &m), 1);
    CHECK_SL(m.payload, INVITE);
    CHECK_EQ_INT(m.inner.ts_us, outer.ts_us);

    /* v2 over IPv6 addresses (header length 40). */
    uint8_t v6[256];
    memset(v6, 0, sizeof v6);
    v6[0] = 2;
    v6[1] = 40;
    v6[2] = 10;
    v6[3] = IPPROTO_TCP;
    inet_pton(AF_INET6, "2001:db8::1", v6 + 8);
    inet_pton(AF_INET6, "2001:db8::2", v6 + 24);
    memcpy(v6 + 40 + 12, INVITE, strlen(INVITE));
    CHECK_EQ_INT(parse(v6, 40 + 12 + strlen(INVITE), &outer, &m), 1);
    CHECK(addr_is(&m.inner.dst, "2001:db8::2"));
    CHECK_EQ_INT(m.inner.flags, L4_F_HEP | L4_F_IPV6);
    CHECK_EQ_INT(m.inner.proto, IPPROTO_TCP);

    /* A header length that does not match the family is not HEP. */
    v6[1] = 16;
    CHECK_EQ_INT(parse(v6, 40 + 12 + strlen(INVITE), &outer, &m), 0);
}
