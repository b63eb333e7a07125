/*
 * rtp.c - RTP headers (RFC 3550 §5.1), compound RTCP (§6, A.2) and RFC 4733
 * telephone events, read from a slice. Whether a datagram is RTP at all and
 * what a stream's figures are is media.c's business, not this file's.
 */
#include "rtp.h"

/* Big-endian reads at off; 0 when the bytes are not there (callers check
 * lengths first, this is the backstop that keeps every read in bounds). */
static uint16_t get16(struct slice s, size_t off)
{
    if (s.n < 2 || off > s.n - 2)
        return 0;
    return (uint16_t)(s.p[off] << 8 | s.p[off + 1]);
}

static uint32_t get32(struct slice s, size_t off)
{
    if (s.n < 4 || off > s.n - 4)
        return 0;
    return (uint32_t)s.p[off] << 24 | (uint32_t)s.p[off + 1] << 16 |
           (uint32_t)s.p[off + 2] << 8 | s.p[off + 3];
}

static bool fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

bool rtp_parse(struct slice d, struct rtp_hdr *h, const char **why)
{
    memset(h, 0, sizeof *h);
    if (d.n < RTP_HDR_LEN)
        return fail(why, "short");
    uint8_t b0 = d.p[0], b1 = d.p[1];
    if (b0 >> 6 != RTP_VERSION)
        return fail(why, "version");
    h->padding = b0 & 0x20;
    h->extension = b0 & 0x10;
    h->cc = b0 & 0x0f;
    h->marker = b1 & 0x80;
    h->pt = b1 & 0x7f;
    h->seq = get16(d, 2);
    h->ts = get32(d, 4);
    h->ssrc = get32(d, 8);

    size_t off = RTP_HDR_LEN;
    if (d.n - off < (size_t)h->cc * 4)
        return fail(why, "csrc");
    h->csrc = sl_sub(d, off, off + (size_t)h->cc * 4);
    off += (size_t)h->cc * 4;

    /* §5.3.1: 16 bits for the profile, a length in 32-bit words not
     * counting the 4-byte extension header itself. */
    if (h->extension) {
        if (d.n - off < 4)
            return fail(why, "extension");
        h->ext_profile = get16(d, off);
        size_t len = (size_t)get16(d, off + 2) * 4;
        off += 4;
        if (d.n - off < len)
            return fail(why, "extension");
        h->ext = sl_sub(d, off, off + len);
        off += len;
    }

    /* §5.1: the last byte counts the padding, itself included; it cannot be
     * zero nor reach into the header. */
    size_t end = d.n;
    if (h->padding) {
        uint8_t pad = d.p[d.n - 1];
        if (pad == 0 || pad > end - off)
            return fail(why, "padding");
        h->pad_len = pad;
        end -= pad;
    }
    h->payload = sl_make(d.p + off, end - off);
    return true;
}

uint32_t rtp_csrc(const struct rtp_hdr *h, unsigned i)
{
    return i < h->cc ? get32(h->csrc, (size_t)i * 4) : 0;
}

bool rtp_event_parse(struct slice payload, struct rtp_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (payload.n < RTP_EVENT_LEN)
        return false;
    ev->event = payload.p[0];
    ev->end = payload.p[1] & 0x80;
    /* bit 0x40 is reserved: senders set it to zero, receivers ignore it */
    ev->volume = payload.p[1] & 0x3f;
    ev->duration = get16(payload, 2);
    return true;
}

char rtp_event_digit(uint8_t event)
{
    static const char keys[] = "0123456789*#ABCD!";
    return event < sizeof keys - 1 ? keys[event] : 0;
}

/* Read the common header at the start of s: version, padding, count, type,
 * and the packet length in bytes ((length + 1) * 4, §6.4.1). */
static bool rtcp_head(struct slice s, size_t *len, const char **why)
{
    if (s.n < RTCP_HDR_LEN)
        return fail(why, "short");
    if (s.p[0] >> 6 != RTP_VERSION)
        return fail(why, "version");
    *len = ((size_t)get16(s, 2) + 1) * 4;
    if (*len > s.n)
        return fail(why, "length");
    return true;
}

bool rtcp_check(struct slice d, bool strict, const char **why)
{
    if (d.n < RTCP_HDR_LEN)
        return fail(why, "short");
    if (strict) {
        if ((d.p[0] & 0xe0) != 0x80 || (d.p[1] != RTCP_SR && d.p[1] != RTCP_RR))
            return fail(why, (d.p[0] >> 6) != RTP_VERSION ? "version" : "first type");
        /* and its length is what its report count makes it: the profile
         * extension §6.4.1 allows is unused in practice, and without it an
         * RTP packet that happens to read as an SR is told apart */
        size_t words = (d.p[1] == RTCP_SR ? 6u : 1u) + 6u * (d.p[0] & 0x1f);
        if (get16(d, 2) != words)
            return fail(why, "length");
    }
    struct slice rest = d;
    while (rest.n) {
        size_t len;
        if (!rtcp_head(rest, &len, why))
            return false;
        /* Only the last packet of a compound may be padded (A.2). */
        if ((rest.p[0] & 0x20) && len != rest.n)
            return fail(why, "padding");
        rest = sl_drop(rest, len);
    }
    return true;
}

bool rtcp_next(struct slice *rest, struct rtcp_pkt *p, const char **why)
{
    memset(p, 0, sizeof *p);
    if (why)
        *why = NULL;
    if (rest->n == 0)
        return false;
    size_t len;
    if (!rtcp_head(*rest, &len, why)) {
        *rest = sl_drop(*rest, rest->n);
        return false;
    }
    struct slice pkt = sl_prefix(*rest, len);
    *rest = sl_drop(*rest, len);

    p->padding = pkt.p[0] & 0x20;
    p->count = pkt.p[0] & 0x1f;
    p->pt = pkt.p[1];
    size_t end = pkt.n;
    if (p->padding) {
        uint8_t pad = pkt.p[pkt.n - 1];
        if (pad == 0 || pad > pkt.n - RTCP_HDR_LEN)
            return fail(why, "padding");
        end -= pad;
    }
    p->body = sl_sub(pkt, RTCP_HDR_LEN, end);

    struct slice b = p->body;
    switch (p->pt) {
    case RTCP_SR:
        if (b.n < 4 + RTCP_SENDER_LEN)
            return fail(why, "short");
        p->ssrc = get32(b, 0);
        p->sr.ntp_sec = get32(b, 4);
        p->sr.ntp_frac = get32(b, 8);
        p->sr.rtp_ts = get32(b, 12);
        p->sr.packets = get32(b, 16);
        p->sr.octets = get32(b, 20);
        p->reports = sl_sub(b, 4 + RTCP_SENDER_LEN, 4 + RTCP_SENDER_LEN + (size_t)p->count * RTCP_REPORT_LEN);
        break;
    case RTCP_RR:
        if (b.n < 4)
            return fail(why, "short");
        p->ssrc = get32(b, 0);
        p->reports = sl_sub(b, 4, 4 + (size_t)p->count * RTCP_REPORT_LEN);
        break;
    case RTCP_APP:
        if (b.n < 8)
            return fail(why, "short");
        p->ssrc = get32(b, 0);
        p->app_name = sl_sub(b, 4, 8);
        break;
    case RTCP_SDES:
    case RTCP_BYE:
        break;
    default:
        /* RTPFB, PSFB, XR (RFC 4585, RFC 3611) start with the sender SSRC
         * too; anything else we only step over. */
        if (p->pt >= 205 && p->pt <= 207 && b.n >= 4)
            p->ssrc = get32(b, 0);
        break;
    }
    /* A count promising more blocks than the length holds is malformed;
     * the blocks that fit are still readable. */
    if ((p->pt == RTCP_SR || p->pt == RTCP_RR) && p->reports.n < (size_t)p->count * RTCP_REPORT_LEN)
        return fail(why, "report count");
    return true;
}

bool rtcp_report_at(const struct rtcp_pkt *p, unsigned i, struct rtcp_report *r)
{
    memset(r, 0, sizeof *r);
    size_t off = (size_t)i * RTCP_REPORT_LEN;
    if (off + RTCP_REPORT_LEN > p->reports.n)
        return false;
    struct slice b = sl_sub(p->reports, off, off + RTCP_REPORT_LEN);
    r->ssrc = get32(b, 0);
    uint32_t lost = get32(b, 4);
    r->fraction_lost = (uint8_t)(lost >> 24);
    /* 24-bit two's complement (RFC 3550 §6.4.1, A.3 clamps to it) */
    uint32_t cum = lost & 0xffffff;
    r->cum_lost = (cum & 0x800000) ? (int32_t)cum - 0x1000000 : (int32_t)cum;
    r->ext_highest_seq = get32(b, 8);
    r->jitter = get32(b, 12);
    r->lsr = get32(b, 16);
    r->dlsr = get32(b, 20);
    return true;
}

bool rtcp_sdes_next(struct slice *chunks, uint32_t *ssrc, struct slice *cname)
{
    *ssrc = 0;
    *cname = SL_NULL;
    if (chunks->n < 4)
        return false;
    struct slice c = *chunks;
    *ssrc = get32(c, 0);
    size_t off = 4;
    /* Items until an END (type 0); the chunk then pads to a 32-bit
     * boundary (§6.5). A chunk without END runs to the packet's end. */
    for (;;) {
        if (off >= c.n) { /* no END: keep what was read */
            *chunks = sl_drop(c, c.n);
            return true;
        }
        uint8_t type = c.p[off];
        if (type == RTCP_SDES_END) {
            off = (off + 4) & ~(size_t)3; /* the END byte plus padding to the boundary */
            *chunks = sl_drop(c, off);
            return true;
        }
        if (c.n - off < 2) {
            *chunks = sl_drop(c, c.n);
            return false;
        }
        size_t len = c.p[off + 1];
        if (c.n - off - 2 < len) {
            *chunks = sl_drop(c, c.n);
            return false;
        }
        if (type == RTCP_SDES_CNAME && cname->n == 0)
            *cname = sl_sub(c, off + 2, off + 2 + len);
        off += 2 + len;
    }
}

bool rtcp_bye_ssrc(const struct rtcp_pkt *p, unsigned i, uint32_t *ssrc)
{
    *ssrc = 0;
    if (p->pt != RTCP_BYE || i >= p->count || ((size_t)i + 1) * 4 > p->body.n)
        return false;
    *ssrc = get32(p->body, (size_t)i * 4);
    return true;
}

struct slice rtcp_bye_reason(const struct rtcp_pkt *p)
{
    /* §6.6: after the SSRC list, an optional length-prefixed text. */
    size_t off = (size_t)p->count * 4;
    if (p->pt != RTCP_BYE || off >= p->body.n)
        return SL_NULL;
    size_t len = p->body.p[off];
    if (p->body.n - off - 1 < len)
        return SL_NULL;
    return sl_sub(p->body, off + 1, off + 1 + len);
}
