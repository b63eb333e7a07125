/*
 * sdp.c - SDP session descriptions (RFC 4566) as offered/answered in SIP
 * (RFC 3264): origin, connection, media, rtpmap, direction, rtcp. One pass over
 * the body, slices into it, bounded counts; other lines are skipped unread.
 */
#include "dissect/sdp.h"

#include <arpa/inet.h>

/* Where a= and c= lines go: session level, a kept m= section, or a dropped one. */
#define CUR_SESSION (-1)
#define CUR_DROPPED (-2)

static void note(struct sdp *s, const char *why)
{
    if (!s->malformed)
        s->malformed = why;
}

/*
 * Next space-separated field. RFC 4566 §5 separates fields by one SP; we
 * accept runs of SP/HTAB so that a sloppy sender still yields its values.
 */
static struct slice next_field(struct slice *s)
{
    size_t i = 0;
    while (i < s->n && sl_is_wsp(s->p[i]))
        i++;
    size_t j = i;
    while (j < s->n && !sl_is_wsp(s->p[j]))
        j++;
    struct slice f = sl_sub(*s, i, j);
    *s = sl_drop(*s, j);
    return f;
}

/* A decimal port 0-65535. */
static bool parse_port(struct slice f, uint16_t *port)
{
    uint32_t v;
    if (!sl_to_u32(f, &v) || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Bytes that can appear in an IPv4 or IPv6 literal (RFC 4566 §9 IP4/IP6-address). */
static bool is_literal_byte(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
           c == ':';
}

enum conn_result { CONN_BAD, CONN_IP, CONN_NAME };

/*
 * c=<nettype> <addrtype> <connection-address> (RFC 4566 §5.7). The multicast
 * suffixes "/ttl" and "/n" are dropped from the text. An FQDN is legal there,
 * so it is CONN_NAME (text kept, no address), not an error. A literal is
 * parsed from a bounded NUL-terminated copy: inet_pton never sees packet bytes.
 */
static enum conn_result parse_conn(struct slice v, struct ip_addr *addr, struct slice *text)
{
    struct slice nettype = next_field(&v), addrtype = next_field(&v), a = next_field(&v);
    if (a.n == 0 || !sl_empty(sl_trim(v)))
        return CONN_BAD;
    a = sl_prefix(a, sl_find_byte(a, '/'));
    *text = a;
    if (a.n == 0)
        return CONN_BAD;
    if (!sl_is(nettype, "IN"))
        return CONN_NAME; /* other network types: nothing we can place */
    int af;
    if (sl_is_nocase(addrtype, "IP4"))
        af = AF_INET;
    else if (sl_is_nocase(addrtype, "IP6"))
        af = AF_INET6;
    else
        return CONN_NAME;

    bool literal = true, has_alpha = false;
    for (size_t i = 0; i < a.n; i++) {
        uint8_t c = a.p[i];
        if (!is_literal_byte(c))
            literal = false;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            has_alpha = true;
    }
    /* Without ':' and with a letter it is a host name; digits and dots alone are an IPv4
     * literal (no all-numeric top-level domain, RFC 3696 §2), wrong in an IP6 line. */
    if (!sl_has_byte(a, ':') && has_alpha) {
        for (size_t i = 0; i < a.n; i++) {
            uint8_t c = a.p[i];
            /* RFC 4566 §9 FQDN: alphanumerics, '-' and '.' only (NULs are no part of a name) */
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '-' || c == '.'))
                return CONN_BAD;
        }
        return CONN_NAME;
    }
    char buf[IP_STRLEN];
    if (!literal || a.n >= sizeof buf)
        return CONN_BAD;
    sl_copy(a, buf, sizeof buf);
    uint8_t raw[16];
    if (inet_pton(af, buf, raw) != 1)
        return CONN_BAD;
    if (af == AF_INET)
        ip_from_v4(addr, raw);
    else
        ip_from_v6(addr, raw);
    return CONN_IP;
}

/* m=<media> <port>[/<number of ports>] <proto> <fmt> ... (RFC 4566 §5.14). */
static void parse_media(struct slice v, struct sdp_media *m, struct sdp *s)
{
    m->type = next_field(&v);
    struct slice port = next_field(&v);
    m->proto = next_field(&v);
    m->nports = 1;
    bool ok = m->type.n && m->proto.n;

    size_t slash = sl_find_byte(port, '/');
    struct slice count = sl_drop(port, slash + 1);
    bool has_count = slash < port.n;
    port = sl_prefix(port, slash);
    if (!parse_port(port, &m->port)) {
        m->port = 0; /* unusable port: the section keeps its index for offer/answer */
        ok = false;
    }
    if (has_count) {
        uint32_t n;
        if (sl_to_u32(count, &n) && n >= 1 && n <= 65535)
            m->nports = (uint16_t)n;
        else
            ok = false;
    }

    /* RTP profiles carry payload types 0-127 (RFC 3550 §5.1); others use any token. */
    bool rtp = sl_find(m->proto, SL_LIT("RTP/")) < m->proto.n;
    size_t n_fmt = 0;
    for (struct slice f = next_field(&v); f.n; f = next_field(&v)) {
        n_fmt++;
        uint32_t pt;
        if (!sl_to_u32(f, &pt))
            continue; /* "webrtc-datachannel", "*", MIME types: legal, not a PT */
        if (pt > 127) {
            if (rtp)
                ok = false;
            continue;
        }
        if (m->n_fmt < SDP_MAX_FMT)
            m->fmt[m->n_fmt++] = (uint8_t)pt;
    }
    if (n_fmt == 0)
        ok = false; /* the grammar asks for 1*(SP fmt) */
    if (!ok)
        note(s, "bad m= line");
}

/* a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (RFC 4566 §6). */
static void parse_rtpmap(struct slice v, struct sdp_media *m, struct sdp *s)
{
    struct slice ptf = next_field(&v);
    struct slice enc = sl_trim(v);
    uint32_t pt;
    if (!sl_to_u32(ptf, &pt) || pt > 127 || enc.n == 0) {
        note(s, "bad a=rtpmap line");
        return;
    }
    if (m->n_rtpmap >= SDP_MAX_FMT)
        return;
    struct sdp_rtpmap *r = &m->rtpmap[m->n_rtpmap++];
    r->pt = (uint8_t)pt;
    bool has_clock = sl_has_byte(enc, '/');
    r->encoding = sl_take_token(&enc, '/');
    struct slice clock = sl_take_token(&enc, '/');
    r->params = enc;
    /*
     * The grammar wants a clock rate, but RFC 4475 puts "a=rtpmap:31 LPC" in the
     * SDP of nearly every message it calls valid, so a missing rate is rate 0
     * (unknown), not an error. A rate that is written must be a number.
     */
    if (!sl_to_u32(clock, &r->clock_rate)) {
        r->clock_rate = 0;
        if (has_clock)
            note(s, "bad a=rtpmap line");
    }
}

/* Attribute lines we read; everything else (fmtp, ptime, ice, crypto...) is skipped. */
static void parse_attr(struct slice v, int cur, struct sdp *s)
{
    struct slice name = sl_take_token(&v, ':');
    uint8_t dir = 0;
    if (sl_is(name, "sendrecv"))
        dir = SDP_DIR_SENDRECV;
    else if (sl_is(name, "sendonly"))
        dir = SDP_DIR_SENDONLY;
    else if (sl_is(name, "recvonly"))
        dir = SDP_DIR_RECVONLY;
    else if (sl_is(name, "inactive"))
        dir = SDP_DIR_INACTIVE;
    if (dir) { /* RFC 4566 §6: allowed at session and media level */
        if (cur == CUR_SESSION)
            s->dir = dir;
        else if (cur >= 0)
            s->media[cur].dir = dir;
        return;
    }
    if (cur < 0)
        return; /* rtpmap and rtcp are media-level only (RFC 4566 §6, RFC 3605 §2.1) */
    struct sdp_media *m = &s->media[cur];
    if (sl_is(name, "rtpmap")) {
        parse_rtpmap(v, m, s);
    } else if (sl_is(name, "rtcp")) {
        /* a=rtcp:<port> [<nettype> <addrtype> <connection-address>] (RFC 3605 §2.1) */
        struct slice port = next_field(&v);
        if (!parse_port(port, &m->rtcp_port) || m->rtcp_port == 0) {
            m->rtcp_port = 0;
            note(s, "bad a=rtcp line");
        }
    }
}

bool sdp_parse(struct slice body, struct sdp *out)
{
    memset(out, 0, sizeof *out);
    int cur = CUR_SESSION;
    bool seen_v = false;
    for (unsigned lines = 0; body.n && lines < SDP_MAX_LINES; lines++) {
        struct slice line;
        if (!sl_take_line(&body, &line)) { /* last line without its line end */
            line = body;
            if (line.p[line.n - 1] == '\r')
                line.n--;
            body = sl_drop(body, body.n);
        }
        if (line.n == 0)
            continue; /* stray empty lines (e.g. a trailing CRLF) carry nothing */
        /* RFC 4566 §5: "<type>=<value>", type one character, no space around '=' */
        if (line.n < 2 || line.p[1] != '=') {
            if (!seen_v)
                return false;
            note(out, sl_has_byte(line, '=') ? "bad line type" : "line without '='");
            continue;
        }
        uint8_t type = line.p[0];
        struct slice v = sl_drop(line, 2);
        if (!seen_v) {
            if (type != 'v') /* §5: the description starts with v= */
                return false;
            seen_v = true;
            if (!sl_is(v, "0"))
                note(out, "bad v= line");
            continue;
        }
        switch (type) {
        case 'o': {
            /* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (§5.2) */
            if (cur != CUR_SESSION)
                break;
            out->origin_user = next_field(&v);
            out->origin_sess_id = next_field(&v);
            struct slice ver = next_field(&v), net = next_field(&v), at = next_field(&v);
            out->origin_addr = next_field(&v);
            if (ver.n == 0 || net.n == 0 || at.n == 0 || out->origin_addr.n == 0)
                note(out, "bad o= line");
            break;
        }
        case 's':
            if (cur == CUR_SESSION)
                out->session_name = v;
            break;
        case 'c': {
            if (cur == CUR_DROPPED)
                break;
            bool *has = cur == CUR_SESSION ? &out->has_conn : &out->media[cur].has_conn;
            struct ip_addr *addr = cur == CUR_SESSION ? &out->conn : &out->media[cur].conn;
            struct slice *text = cur == CUR_SESSION ? &out->conn_text : &out->media[cur].conn_text;
            struct slice t = SL_NULL;
            switch (parse_conn(v, addr, &t)) {
            case CONN_IP:
                *has = true;
                *text = t;
                break;
            case CONN_NAME:
                *has = false;
                *text = t;
                break;
            case CONN_BAD:
                /* kept as text so a broken media c= does not fall back to the session one */
                *has = false;
                *text = t.n ? t : sl_trim(v);
                note(out, "bad c= line");
                break;
            }
            break;
        }
        case 'm':
            if (out->n_media >= SDP_MAX_MEDIA) {
                cur = CUR_DROPPED; /* its a= and c= lines must not land on another section */
                break;
            }
            cur = out->n_media++;
            parse_media(v, &out->media[cur], out);
            break;
        case 'a':
            if (cur != CUR_DROPPED)
                parse_attr(v, cur, out);
            break;
        default:
            break; /* i= u= e= p= b= t= r= z= k= and unknown types: not needed */
        }
    }
    return seen_v;
}

bool sdp_media_addr(const struct sdp *s, unsigned i, struct ip_addr *out)
{
    if (i >= s->n_media)
        return false;
    const struct sdp_media *m = &s->media[i];
    /* RFC 4566 §5.7: a media-level c= replaces the session one, even when it names a host. */
    if (m->has_conn) {
        *out = m->conn;
        return true;
    }
    if (m->conn_text.n)
        return false;
    if (s->has_conn) {
        *out = s->conn;
        return true;
    }
    return false;
}

uint8_t sdp_media_dir(const struct sdp *s, unsigned i)
{
    if (i >= s->n_media)
        return SDP_DIR_NONE;
    if (s->media[i].dir)
        return s->media[i].dir;
    if (s->dir)
        return s->dir;
    return SDP_DIR_SENDRECV; /* RFC 4566 §6 / RFC 3264 §5.1: sendrecv when none is given */
}

/* RFC 3551 §6 Tables 4 and 5: the static payload types. */
static const struct {
    const char *name;
    uint32_t clock;
} static_pt[35] = {
    [0] = { "PCMU", 8000 },   [3] = { "GSM", 8000 },    [4] = { "G723", 8000 },
    [5] = { "DVI4", 8000 },   [6] = { "DVI4", 16000 },  [7] = { "LPC", 8000 },
    [8] = { "PCMA", 8000 },
    [9] = { "G722", 8000 },   /* sampled at 16 kHz, RTP clock 8000 (RFC 3551 §4.5.2) */
    [10] = { "L16", 44100 },  [11] = { "L16", 44100 },  [12] = { "QCELP", 8000 },
    [13] = { "CN", 8000 },    [14] = { "MPA", 90000 },  [15] = { "G728", 8000 },
    [16] = { "DVI4", 11025 }, [17] = { "DVI4", 22050 }, [18] = { "G729", 8000 },
    [25] = { "CelB", 90000 }, [26] = { "JPEG", 90000 }, [28] = { "nv", 90000 },
    [31] = { "H261", 90000 }, [32] = { "MPV", 90000 },  [33] = { "MP2T", 90000 },
    [34] = { "H263", 90000 },
};

struct slice sdp_codec(const struct sdp *s, unsigned i, uint8_t pt, uint32_t *clock_rate)
{
    if (i < s->n_media) {
        const struct sdp_media *m = &s->media[i];
        for (unsigned k = 0; k < m->n_rtpmap; k++) {
            if (m->rtpmap[k].pt == pt) {
                if (clock_rate)
                    *clock_rate = m->rtpmap[k].clock_rate;
                return m->rtpmap[k].encoding;
            }
        }
    }
    if (pt < sizeof static_pt / sizeof static_pt[0] && static_pt[pt].name) {
        if (clock_rate)
            *clock_rate = static_pt[pt].clock;
        return sl_cstr(static_pt[pt].name);
    }
    if (clock_rate)
        *clock_rate = 0;
    return SL_NULL;
}
