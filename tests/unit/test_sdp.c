/*
 * test_sdp.c - SDP (RFC 4566) and finding it in multipart bodies (RFC 2046):
 * the RFCs' own examples, then hostile bodies with the values they must give.
 */
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>

#include "../../dissect/sdp.h"

/* Append formatted text to buf[*n..cap); stops (never overflows) when full. */
__attribute__((format(printf, 4, 5))) static void add(char *buf, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = *n < cap ? vsnprintf(buf + *n, cap - *n, fmt, ap) : -1;
    va_end(ap);
    if (r > 0)
        *n = (size_t)r < cap - *n ? *n + (size_t)r : cap - 1;
}

static struct ip_addr ip(const char *text)
{
    struct ip_addr a;
    memset(&a, 0, sizeof a);
    if (!ip_parse(text, &a))
        fprintf(stderr, "  bad test address %s\n", text);
    return a;
}

/* RFC 4566 §5, the example session description. */
TEST(sdp_rfc4566_example)
{
    static const char body[] = "v=0\r\n"
                               "o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
                               "s=SDP Seminar\r\n"
                               "i=A Seminar on the session description protocol\r\n"
                               "u=http://www.example.com/seminars/sdp.pdf\r\n"
                               "e=j.doe@example.com (Jane Doe)\r\n"
                               "c=IN IP4 224.2.17.12/127\r\n"
                               "t=2873397496 2873404696\r\n"
                               "a=recvonly\r\n"
                               "m=audio 49170 RTP/AVP 0\r\n"
                               "m=video 51372 RTP/AVP 99\r\n"
                               "a=rtpmap:99 h263-1998/90000\r\n";
    struct sdp s;
    CHECK(sdp_parse(SL_LIT(body), &s));
    CHECK(s.malformed == NULL);
    CHECK_SL(s.origin_user, "jdoe");
    CHECK_SL(s.origin_sess_id, "2890844526");
    CHECK_SL(s.origin_addr, "10.47.16.5");
    CHECK_SL(s.session_name, "SDP Seminar");
    CHECK(s.has_conn);
    CHECK_SL(s.conn_text, "224.2.17.12");
    struct ip_addr want = ip("224.2.17.12"), got;
    CHECK(ip_eq(&s.conn, &want));
    CHECK_EQ_INT(s.dir, SDP_DIR_RECVONLY);
    CHECK_EQ_INT(s.n_media, 2);
    CHECK_SL(s.media[0].type, "audio");
    CHECK_EQ_INT(s.media[0].port, 49170);
    CHECK_EQ_INT(s.media[0].nports, 1);
    CHECK_SL(s.media[0].proto, "RTP/AVP");
    CHECK_EQ_INT(s.media[0].n_fmt, 1);
    CHECK_EQ_INT(s.media[0].fmt[0], 0);
    CHECK(!s.media[0].has_conn);
    CHECK_SL(s.media[1].type, "video");
    CHECK_EQ_INT(s.media[1].port, 51372);
    CHECK_EQ_INT(s.media[1].fmt[0], 99);
    CHECK_EQ_INT(s.media[1].n_rtpmap, 1);
    CHECK_EQ_INT(s.media[1].rtpmap[0].pt, 99);
    CHECK_SL(s.media[1].rtpmap[0].encoding, "h263-1998");
    CHECK_EQ_INT(s.media[1].rtpmap[0].clock_rate, 90000);
    CHECK_SL(s.media[1].rtpmap[0].params, "");
    /* effective values: session c= and session a=recvonly apply to both */
    CHECK(sdp_media_addr(&s, 1, &got) && ip_eq(&got, &want));
    CHECK_EQ_INT(sdp_media_dir(&s, 0), SDP_DIR_RECVONLY);
    CHECK(!sdp_media_addr(&s, 2, &got));
    uint32_t clock = 0;
    CHECK_SL(sdp_codec(&s, 0, 0, &clock), "PCMU");
    CHECK_EQ_INT(clock, 8000);
    CHECK_SL(sdp_codec(&s, 1, 99, &clock), "h263-1998");
    CHECK_EQ_INT(clock, 90000);
    CHECK(sdp_codec(&s, 0, 99, &clock).p == NULL); /* dynamic PT mapped in the other section only */
    CHECK_EQ_INT(clock, 0);
}

/* RFC 3264 §10.1 offer, with an IP instead of the host names, and a direction per m=. */
TEST(sdp_rfc3264_offer_audio_video)
{
    static const char body[] = "v=0\r\n"
                               "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
                               "s=\r\n"
                               "c=IN IP4 192.0.2.10\r\n"
                               "t=0 0\r\n"
                               "m=audio 49170 RTP/AVP 0 8 97\r\n"
                               "a=rtpmap:0 PCMU/8000\r\n"
                               "a=rtpmap:8 PCMA/8000\r\n"
                               "a=rtpmap:97 iLBC/8000\r\n"
                               "a=sendonly\r\n"
                               "a=rtcp:53020\r\n"
                               "m=video 51372 RTP/AVP 31 32\r\n"
                               "a=rtpmap:31 H261/90000\r\n"
                               "a=rtpmap:32 MPV/90000\r\n"
                               "a=inactive\r\n";
    struct sdp s;
    CHECK(sdp_parse(SL_LIT(body), &s));
    CHECK(s.malformed == NULL);
    CHECK_SL(s.origin_user, "alice");
    CHECK_SL(s.session_name, "");
    CHECK_EQ_INT(s.n_media, 2);
    CHECK_EQ_INT(s.media[0].n_fmt, 3);
    CHECK_EQ_INT(s.media[0].fmt[1], 8);
    CHECK_EQ_INT(s.media[0].fmt[2], 97);
    CHECK_EQ_INT(s.media[0].n_rtpmap, 3);
    CHECK_EQ_INT(s.media[0].rtcp_port, 53020);
    CHECK_EQ_INT(s.media[1].rtcp_port, 0);
    CHECK_EQ_INT(sdp_media_dir(&s, 0), SDP_DIR_SENDONLY);
    CHECK_EQ_INT(sdp_media_dir(&s, 1), SDP_DIR_INACTIVE);
    CHECK_EQ_INT(s.dir, SDP_DIR_NONE);
    uint32_t clock;
    CHECK_SL(sdp_codec(&s, 0, 97, &clock), "iLBC");
    CHECK_EQ_INT(clock, 8000);
    CHECK_SL(sdp_codec(&s, 1, 32, &clock), "MPV");
    CHECK_EQ_INT(clock, 90000);
    struct ip_addr want = ip("192.0.2.10"), got;
    CHECK(sdp_media_addr(&s, 0, &got) && ip_eq(&got, &want));
}

/* RFC 3264 §10.1 answer as written: c= names a host, which is legal but gives no address. */
TEST(sdp_rfc3264_answer_fqdn_connection)
{
    static const char body[] = "v=0\r\n"
                               "o=bob 2808844564 2808844564 IN IP4 host.biloxi.example.com\r\n"
                               "s=\r\n"
                               "c=IN IP4 host.biloxi.example.com\r\n"
                               "t=0 0\r\n"
                               "m=audio 49174 RTP/AVP 0\r\n"
                               "a=rtpmap:0 PCMU/8000\r\n"
                               "m=video 49170 RTP/AVP 32\r\n"
                               "a=rtpmap:32 MPV/90000\r\n";
    struct sdp s;
    CHECK(sdp_parse(SL_LIT(body), &s));
    CHECK(s.malformed == NULL);
    CHECK(!s.has_conn);
    CHECK_SL(s.conn_text, "host.biloxi.example.com");
    CHECK_SL(s.origin_addr, "host.biloxi.example.com");
    struct ip_addr got;
    CHECK(!sdp_media_addr(&s, 0, &got));
    CHECK_EQ_INT(sdp_media_dir(&s, 1), SDP_DIR_SENDRECV); /* default when none is given */
}

/* RFC 5118 §4.6 ipv6-in-sdp (body as on the wire: CRLF). */
TEST(sdp_rfc5118_ipv6_in_sdp)
{
    static const char body[] = "v=0\r\n"
                               "o=assistant 971731711378798081 0 IN IP6 2001:db8::20\r\n"
                               "s=Live video feed for today's meeting\r\n"
                               "c=IN IP6 2001:db8::20\r\n"
                               "t=3338481189 3370017201\r\n"
                               "m=audio 6000 RTP/AVP 2\r\n"
                               "a=rtpmap:2 G726-32/8000\r\n"
                               "m=video 6024 RTP/AVP 107\r\n"
                               "a=rtpmap:107 H263-1998/90000\r\n";
    struct sdp s;
    CHECK(sdp_parse(SL_LIT(body), &s));
    CHECK(s.malformed == NULL);
    CHECK_SL(s.origin_addr, "2001:db8::20");
    CHECK(s.has_conn);
    struct ip_addr want = ip("2001:db8::20"), got;
    CHECK(ip_eq(&s.conn, &want));
    CHECK(!ip_is_v4(&s.conn));
    CHECK(sdp_media_addr(&s, 1, &got) && ip_eq(&got, &want));
    uint32_t clock;
    CHECK_SL(sdp_codec(&s, 0, 2, &clock), "G726-32"); /* PT 2 is reserved in RFC 3551: rtpmap only */
    CHECK_EQ_INT(clock, 8000);
    CHECK_EQ_INT(s.media[1].fmt[0], 107);
}

/* RFC 5118 §4.8 mult-ip-in-sdp: media-level c= per section, IPv4 and IPv6, no session c=. */
TEST(sdp_media_conn_overrides_session)
{
    static const char body[] = "v=0\r\n"
                               "o=bob 280744730 28977631 IN IP4 host.example.com\r\n"
                               "s=\r\n"
                               "t=0 0\r\n"
                               "m=audio 22334 RTP/AVP 0\r\n"
                               "c=IN IP4 192.0.2.1\r\n"
                               "m=video 6024 RTP/AVP 107\r\n"
                               "c=IN IP6 2001:db8::1\r\n"
                               "a=rtpmap:107 H263-1998/90000\r\n";
    struct sdp s;
    CHECK(sdp_parse(SL_LIT(body), &s));
    CHECK(s.malformed == NULL);
    CHECK(!s.has_conn);
    struct ip_addr a4 = ip("192.0.2.1"), a6 = ip("2001:db8::1"), got;
    CHECK(sdp_media_addr(&s, 0, &got) && ip_eq(&got, &a4));
    CHECK(sdp_media_addr(&s, 1, &got) && ip_eq(&got, &a6));
    CHECK_SL(s.media[1].conn_text, "2001:db8::1");

    /* with a session c= as well, each section still uses its own; one without c= falls back */
    static const char body2[] = "v=0\n"
                                "o=- 1 1 IN IP4 198.51.100.1\n"
                                "s=-\n"
                                "c=IN IP4 198.51.100.1\n"
                                "t=0 0\n"
                                "a=sendonly\n"
                                "m=audio 4000 RTP/AVP 0\n"
                                "c=IN IP4 203.0.113.7\n"
                                "a=recvonly\n"
                                "m=audio 4002 RTP/AVP 8\n";
    CHECK(sdp_parse(SL_LIT(body2), &s));
    CHECK(s.malformed == NULL);
    struct ip_addr sess = ip("198.51.100.1"), media = ip("203.0.113.7");
    CHECK(sdp_media_addr(&s, 0, &got) && ip_eq(&got, &media));
    CHECK(sdp_media_addr(&s, 1, &got) && ip_eq(&got, &sess));
    CHECK_EQ_INT(sdp_media_dir(&s, 0), SDP_DIR_RECVONLY);
    CHECK_EQ_INT(sdp_media_dir(&s, 1), SDP_DIR_SENDONLY);
}

TEST(sdp_rtpmap_channels_port_count_multicast_v6)
{
    static const char body[] = "v=0\r\n"
                               "o=- 7 7 IN IP6 2001:db8::5\r\n"
                               "s=music\r\n"
                               "c=IN IP6 FF15::101/3\r\n"
                               "t=0 0\r\n"
                               "m=audio 49170/2 RTP/AVP 10 97 webrtc-datachannel\r\n"
                               "a=rtpmap:97 L16/48000/2\r\n"
                               "a=rtpmap:10 L16/44100/2\r\n"
                               "a=fmtp:97 whatever\r\n"
                               "a=rtcp:53020 IN IP4 126.16.64.4\r\n";
    struct sdp s;
    CHECK(sdp_parse(SL_LIT(body), &s));
    CHECK(s.malformed == NULL);
    CHECK_SL(s.conn_text, "FF15::101");
    struct ip_addr want = ip("ff15::101");
    CHECK(s.has_conn && ip_eq(&s.conn, &want));
    CHECK_EQ_INT(s.media[0].port, 49170);
    CHECK_EQ_INT(s.media[0].nports, 2);
    CHECK_EQ_INT(s.media[0].n_fmt, 2); /* the non-numeric format is not a PT */
    CHECK_EQ_INT(s.media[0].fmt[0], 10);
    CHECK_EQ_INT(s.media[0].fmt[1], 97);
    CHECK_EQ_INT(s.media[0].n_rtpmap, 2);
    CHECK_SL(s.media[0].rtpmap[0].encoding, "L16");
    CHECK_EQ_INT(s.media[0].rtpmap[0].clock_rate, 48000);
    CHECK_SL(s.media[0].rtpmap[0].params, "2");
    CHECK_EQ_INT(s.media[0].rtcp_port, 53020);
}

TEST(sdp_static_payload_table)
{
    struct sdp s;
    memset(&s, 0, sizeof s);
    uint32_t clock;
    CHECK_SL(sdp_codec(&s, 0, 8, &clock), "PCMA");
    CHECK_EQ_INT(clock, 8000);
    CHECK_SL(sdp_codec(&s, 0, 9, &clock), "G722");
    CHECK_EQ_INT(clock, 8000); /* RFC 3551 §4.5.2: 8000 although sampled at 16 kHz */
    CHECK_SL(sdp_codec(&s, 0, 18, &clock), "G729");
    CHECK_SL(sdp_codec(&s, 0, 6, &clock), "DVI4");
    CHECK_EQ_INT(clock, 16000);
    CHECK_SL(sdp_codec(&s, 0, 11, &clock), "L16");
    CHECK_EQ_INT(clock, 44100);
    CHECK_SL(sdp_codec(&s, 0, 34, &clock), "H263");
    CHECK_EQ_INT(clock, 90000);
    CHECK(sdp_codec(&s, 0, 2, &clock).p == NULL);  /* reserved */
    CHECK(sdp_codec(&s, 0, 35, &clock).p == NULL); /* unassigned */
    CHECK(sdp_codec(&s, 0, 96, NULL).p == NULL);   /* dynamic */
}

/* RFC 4475 sdp01 (and most RFC 4475 SDP): "a=rtpmap:31 LPC" has no clock rate; kept, rate 0. */
TEST(sdp_rfc4475_sdp01_rtpmap_without_clock)
{
    static const char body[] = "v=0\r\n"
                               "o=mhandley 29739 7272939 IN IP4 192.0.2.5\r\n"
                               "s=-\r\n"
                               "c=IN IP4 192.0.2.5\r\n"
                               "t=0 0\r\n"
                               "m=audio 49217 RTP/AVP 0 12\r\n"
                               "m=video 3227 RTP/AVP 31\r\n"
                               "a=rtpmap:31 LPC\r\n";
    struct sdp s;
    CHECK(sdp_parse(SL_LIT(body), &s));
    CHECK(s.malformed == NULL); /* RFC 4475 calls the message valid */
    uint32_t clock = 1;
    CHECK_SL(sdp_codec(&s, 1, 31, &clock), "LPC");
    CHECK_EQ_INT(clock, 0);
    CHECK_SL(sdp_codec(&s, 0, 12, &clock), "QCELP");
}

TEST(sdp_hostile_not_sdp)
{
    struct sdp s;
    CHECK(!sdp_parse(SL_LIT("o=x 1 1 IN IP4 192.0.2.1\r\nv=0\r\n"), &s));
    CHECK(!sdp_parse(SL_LIT("hello world\r\n"), &s));
    CHECK(!sdp_parse(SL_LIT(""), &s));
    CHECK(!sdp_parse(SL_LIT("\r\n\r\n"), &s));
    CHECK(!sdp_parse(SL_LIT("v"), &s));
    CHECK(!sdp_parse(SL_NULL, &s));
    CHECK(!sdp_parse(SL_LIT("\0=0\r\n"), &s));
    CHECK(sdp_parse(SL_LIT("v=0"), &s)); /* no line end at all */
    CHECK(s.malformed == NULL && s.n_media == 0);
}

TEST(sdp_hostile_many_media_lines)
{
    enum { N = 10000 };
    static char body[8 + N * 32];
    size_t n = 0;
    add(body, sizeof body, &n, "v=0\r\n");
    for (int i = 0; i < N; i++)
        add(body, sizeof body, &n, "m=audio %d RTP/AVP 0\r\n", 1000 + i);
    CHECK(sl_ends(sl_make(body, n), SL_LIT("m=audio 10999 RTP/AVP 0\r\n")));
    struct sdp s;
    CHECK(sdp_parse(sl_make(body, n), &s));
    CHECK_EQ_INT(s.n_media, SDP_MAX_MEDIA);
    CHECK_EQ_INT(s.media[SDP_MAX_MEDIA - 1].port, 1000 + SDP_MAX_MEDIA - 1);
    CHECK(s.malformed == NULL);

    /* a=/c= lines of a dropped m= section must not land on the last kept one */
    char b2[1024];
    n = 0;
    add(b2, sizeof b2, &n, "v=0\r\n");
    for (int i = 0; i < SDP_MAX_MEDIA + 1; i++)
        add(b2, sizeof b2, &n, "m=audio %d RTP/AVP 0\r\n", 2000 + i);
    add(b2, sizeof b2, &n, "c=IN IP4 192.0.2.99\r\na=inactive\r\na=rtpmap:0 X/1\r\n");
    CHECK(sdp_parse(sl_make(b2, n), &s));
    const struct sdp_media *last = &s.media[SDP_MAX_MEDIA - 1];
    CHECK(!last->has_conn && last->dir == SDP_DIR_NONE && last->n_rtpmap == 0);

    /* more than SDP_MAX_LINES lines: the rest is not read */
    static char b3[16 + (SDP_MAX_LINES + 10) * 8];
    n = 0;
    add(b3, sizeof b3, &n, "v=0\r\n");
    for (int i = 0; i < SDP_MAX_LINES + 5; i++)
        add(b3, sizeof b3, &n, "i=x\r\n");
    add(b3, sizeof b3, &n, "s=late\r\n");
    CHECK(sl_ends(sl_make(b3, n), SL_LIT("s=late\r\n")));
    CHECK(sdp_parse(sl_make(b3, n), &s));
    CHECK(s.session_name.n == 0);
}

TEST(sdp_hostile_megabyte_line)
{
    size_t big = 1u << 20;
    char *body = malloc(big + 64);
    CHECK(body != NULL);
    if (!body)
        return;
    size_t n = 0;
    memcpy(body, "v=0\r\ns=", 7);
    n = 7;
    memset(body + n, 'A', big);
    n += big;
    memcpy(body + n, "\r\nc=IN IP4 ", 11);
    n += 11;
    memset(body + n, '1', 40); /* an address longer than any literal */
    n += 40;
    struct sdp s;
    CHECK(sdp_parse(sl_make(body, n), &s));
    CHECK_EQ_INT(s.session_name.n, big);
    CHECK(!s.has_conn);
    CHECK_STR(s.malformed, "bad c= line");
    free(body);
}

TEST(sdp_hostile_nul_bytes)
{
    /* a NUL after a valid address must not let inet_pton stop early and accept it */
    static const char body[] = "v=0\r\n"
                               "s=a\0b\r\n"
                               "c=IN IP4 192.0.2.1\0evil\r\n"
                               "m=audio 4000\0 RTP/AVP 0\r\n";
    struct sdp s;
    CHECK(sdp_parse(sl_make(body, sizeof body - 1), &s));
    CHECK_EQ_INT(s.session_name.n, 3);
    CHECK(!s.has_conn);
    CHECK_EQ_INT(s.n_media, 1);
    CHECK_EQ_INT(s.media[0].port, 0);
    CHECK_STR(s.malformed, "bad c= line");

    static const char host[] = "v=0\r\nc=IN IP4 host\0.example.com\r\n";
    CHECK(sdp_parse(sl_make(host, sizeof host - 1), &s));
    CHECK(!s.has_conn);
    CHECK_STR(s.malformed, "bad c= line");
}

TEST(sdp_hostile_bad_values)
{
    struct sdp s;
    CHECK(sdp_parse(SL_LIT("v=0\r\nc=IN IP4 300.1.1.1\r\nm=audio 4000 RTP/AVP 0\r\n"), &s));
    CHECK(!s.has_conn);
    CHECK_STR(s.malformed, "bad c= line");
    struct ip_addr got;
    CHECK(!sdp_media_addr(&s, 0, &got));

    /* a broken media c= does not silently fall back to the session address */
    CHECK(sdp_parse(SL_LIT("v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 1.2.3\r\n"), &s));
    CHECK_STR(s.malformed, "bad c= line");
    CHECK(!sdp_media_addr(&s, 0, &got));

    CHECK(sdp_parse(SL_LIT("v=0\r\nc=IN IP6 192.0.2.1\r\n"), &s)); /* wrong family */
    CHECK(!s.has_conn);
    CHECK_STR(s.malformed, "bad c= line");

    CHECK(sdp_parse(SL_LIT("v=0\r\nc=IN IP4\r\n"), &s));
    CHECK_STR(s.malformed, "bad c= line");

    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 70000 RTP/AVP 0\r\nm=video 5000 RTP/AVP 31\r\n"), &s));
    CHECK_STR(s.malformed, "bad m= line");
    CHECK_EQ_INT(s.n_media, 2); /* the section keeps its place for offer/answer matching */
    CHECK_EQ_INT(s.media[0].port, 0);
    CHECK_EQ_INT(s.media[1].port, 5000);

    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 4000/0 RTP/AVP 0\r\n"), &s));
    CHECK_STR(s.malformed, "bad m= line");
    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 4000 RTP/AVP\r\n"), &s));
    CHECK_STR(s.malformed, "bad m= line");
    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 4000 RTP/AVP 0 300 8\r\n"), &s));
    CHECK_STR(s.malformed, "bad m= line");
    CHECK_EQ_INT(s.media[0].n_fmt, 2);
    CHECK_EQ_INT(s.media[0].fmt[1], 8);
    /* outside RTP a format is any token, numbers included */
    CHECK(sdp_parse(SL_LIT("v=0\r\nm=image 4000 udptl t38 300\r\n"), &s));
    CHECK(s.malformed == NULL);
    CHECK_EQ_INT(s.media[0].n_fmt, 0);

    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:300 X/8000\r\na=rtpmap:0 PCMU/8000\r\n"), &s));
    CHECK_STR(s.malformed, "bad a=rtpmap line");
    CHECK_EQ_INT(s.media[0].n_rtpmap, 1);
    CHECK_EQ_INT(s.media[0].rtpmap[0].pt, 0);

    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/fast/2\r\n"), &s));
    CHECK_STR(s.malformed, "bad a=rtpmap line"); /* a rate that is written must be a number */
    CHECK_EQ_INT(s.media[0].rtpmap[0].clock_rate, 0);
    CHECK_SL(s.media[0].rtpmap[0].params, "2");

    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:99999\r\n"), &s));
    CHECK_STR(s.malformed, "bad a=rtcp line");
    CHECK_EQ_INT(s.media[0].rtcp_port, 0);

    CHECK(sdp_parse(SL_LIT("v=0\r\nthis line has no equals\r\nm=audio 4000 RTP/AVP 0\r\n"), &s));
    CHECK_STR(s.malformed, "line without '='");
    CHECK_EQ_INT(s.n_media, 1); /* parsing went on */
    CHECK_EQ_INT(s.media[0].port, 4000);

    /* RFC 4475 test.dat: '=' is there but the type is not one character */
    CHECK(sdp_parse(SL_LIT("v=0\r\ntesting=123\r\n"), &s));
    CHECK_STR(s.malformed, "bad line type");

    CHECK(sdp_parse(SL_LIT("v=1\r\n"), &s));
    CHECK_STR(s.malformed, "bad v= line");
    CHECK(sdp_parse(SL_LIT("v=0\r\no=only two\r\n"), &s));
    CHECK_STR(s.malformed, "bad o= line");
    CHECK_SL(s.origin_user, "only");

    /* too many formats and rtpmaps: the first SDP_MAX_FMT kept */
    CHECK(sdp_parse(SL_LIT("v=0\r\nm=audio 1 RTP/AVP 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\r\n"), &s));
    CHECK(s.malformed == NULL);
    CHECK_EQ_INT(s.media[0].n_fmt, SDP_MAX_FMT);
    CHECK_EQ_INT(s.media[0].fmt[SDP_MAX_FMT - 1], SDP_MAX_FMT - 1);
}

/* ---- sdp_find_in_body ---- */

TEST(sdp_find_plain_content_types)
{
    struct slice body = SL_LIT("v=0\r\n"), out;
    CHECK(sdp_find_in_body(SL_LIT("application/sdp"), body, &out) && out.p == body.p && out.n == body.n);
    CHECK(sdp_find_in_body(SL_LIT("Application/SDP"), body, &out));
    CHECK(sdp_find_in_body(SL_LIT("  application / sdp ; charset=utf-8"), body, &out));
    CHECK(!sdp_find_in_body(SL_LIT("application/sdpx"), body, &out));
    CHECK(!sdp_find_in_body(SL_LIT("text/plain"), body, &out));
    CHECK(!sdp_find_in_body(SL_LIT(""), body, &out));
    CHECK(!sdp_find_in_body(SL_LIT("application/sdp"), SL_LIT(""), &out));
    CHECK(!sdp_find_in_body(SL_LIT("multipart/mixed"), body, &out)); /* no boundary */
}

/* RFC 5621 §3 style: SDP beside another part, quoted boundary, preamble and epilogue. */
TEST(sdp_find_multipart_mixed)
{
    static const char body[] = "This is a preamble.\r\n"
                               "--unique-boundary-1\r\n"
                               "Content-Type: application/resource-lists+xml\r\n"
                               "Content-Disposition: recipient-list\r\n"
                               "\r\n"
                               "<list>--unique-boundary-1x</list>\r\n"
                               "--unique-boundary-1   \r\n"
                               "content-type:\r\n"
                               "  application/SDP\r\n"
                               "\r\n"
                               "v=0\r\n"
                               "s=in a part\r\n"
                               "\r\n"
                               "--unique-boundary-1--\r\n"
                               "epilogue\r\n";
    struct slice out;
    CHECK(sdp_find_in_body(SL_LIT("multipart/mixed;boundary=\"unique-boundary-1\""), SL_LIT(body), &out));
    CHECK_SL(out, "v=0\r\ns=in a part\r\n");
    struct sdp s;
    CHECK(sdp_parse(out, &s));
    CHECK_SL(s.session_name, "in a part");
    /* token boundary, LF-only line ends */
    static const char lf[] = "--b1\nContent-Type: application/sdp\n\nv=0\n--b1--\n";
    CHECK(sdp_find_in_body(SL_LIT("multipart/alternative; boundary=b1"), SL_LIT(lf), &out));
    CHECK_SL(out, "v=0");
    /* wrong boundary: nothing */
    CHECK(!sdp_find_in_body(SL_LIT("multipart/mixed;boundary=b2"), SL_LIT(lf), &out));
}

TEST(sdp_find_multipart_nested_one_level)
{
    static const char body[] = "--outer\r\n"
                               "Content-Type: multipart/alternative; boundary=inner\r\n"
                               "\r\n"
                               "--inner\r\n"
                               "Content-Type: text/plain\r\n"
                               "\r\n"
                               "hi\r\n"
                               "--inner\r\n"
                               "Content-Type: application/sdp\r\n"
                               "\r\n"
                               "v=0\r\n"
                               "--inner--\r\n"
                               "--outer--\r\n";
    struct slice out;
    CHECK(sdp_find_in_body(SL_LIT("multipart/signed; boundary=outer; protocol=\"application/pkcs7-signature\""),
                           SL_LIT(body), &out));
    CHECK_SL(out, "v=0");

    /* two levels below the top are not walked */
    static const char deep[] = "--a\r\n"
                               "Content-Type: multipart/mixed;boundary=b\r\n"
                               "\r\n"
                               "--b\r\n"
                               "Content-Type: multipart/mixed;boundary=c\r\n"
                               "\r\n"
                               "--c\r\n"
                               "Content-Type: application/sdp\r\n"
                               "\r\n"
                               "v=0\r\n"
                               "--c--\r\n"
                               "--b--\r\n"
                               "--a--\r\n";
    CHECK(!sdp_find_in_body(SL_LIT("multipart/mixed;boundary=a"), SL_LIT(deep), &out));
    size_t b = sl_find(SL_LIT(deep), SL_LIT("--b\r\n"));
    CHECK(sdp_find_in_body(SL_LIT("multipart/mixed;boundary=b"), sl_make(deep + b, sizeof deep - 1 - b), &out));
    CHECK_SL(out, "v=0");
}

/* Read one message file and return its body (after the first empty line). */
static size_t read_body(const char *name, char *buf, size_t cap, struct slice *body, struct slice *ct)
{
    char path[256];
    snprintf(path, sizeof path, "tests/sip-torture/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    struct slice msg = sl_make(buf, n), line;
    *ct = SL_NULL;
    while (sl_take_line(&msg, &line)) {
        if (line.n == 0) {
            *body = msg;
            return n;
        }
        if (sl_starts_lit_nocase(line, "Content-Type:"))
            *ct = sl_drop(line, 13);
    }
    return 0;
}

/* RFC 4475 §3.1.1.11 mpart01: a binary part with NULs and bare LFs, and no SDP. */
TEST(sdp_find_rfc4475_mpart01)
{
    static char buf[4096];
    struct slice body, ct, out;
    size_t n = read_body("rfc4475/mpart01.dat", buf, sizeof buf, &body, &ct);
    CHECK(n > 0);
    if (!n)
        return;
    CHECK_EQ_INT(body.n, 553); /* its Content-Length */
    CHECK(sl_has_byte(body, 0));
    CHECK(!sdp_find_in_body(ct, body, &out));

    /* The text part retyped application/sdp: found, and it is exactly "Hello". */
    static char copy[4096];
    size_t at = sl_find(body, SL_LIT("text/plain"));
    CHECK(at < body.n);
    if (at >= body.n)
        return;
    size_t m = 0;
    memcpy(copy, body.p, at);
    m = at;
    memcpy(copy + m, "application/sdp", 15);
    m += 15;
    memcpy(copy + m, body.p + at + 10, body.n - at - 10);
    m += body.n - at - 10;
    CHECK(sdp_find_in_body(ct, sl_make(copy, m), &out));
    CHECK_SL(out, "Hello");

    /* The binary part retyped instead: the walk crosses the first part and returns all of the
     * binary bytes, up to the line end that belongs to the close delimiter. */
    memcpy(copy, body.p, body.n);
    struct slice c = sl_make(copy, body.n);
    at = sl_find(c, SL_LIT("application/octet-stream"));
    CHECK(at < c.n);
    if (at >= c.n)
        return;
    memcpy(copy + at, "application/sdp         ", 24);
    CHECK(sdp_find_in_body(ct, c, &out));
    size_t end = sl_find(c, SL_LIT("\r\n--7a9cbec02ceef655--"));
    CHECK(end < c.n);
    CHECK(out.n > 0 && out.p[0] == '0'); /* the binary part's first byte */
    CHECK(out.p + out.n == c.p + end);
    CHECK(sl_has_byte(out, 0));
    struct sdp s;
    CHECK(!sdp_parse(out, &s)); /* binary is not SDP */
}
