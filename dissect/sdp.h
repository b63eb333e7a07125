/*
 * sdp.h - SDP (RFC 4566) as SIP carries it, also inside multipart bodies
 * (RFC 2046). Slices into the body; bounded counts; no allocation.
 */
#ifndef SIPSIFT_SDP_H
#define SIPSIFT_SDP_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/ipaddr.h"
#include "lib/slice.h"

#define SDP_MAX_MEDIA   8    /* m= lines kept */
#define SDP_MAX_FMT     16   /* payload types kept per m= line */
#define SDP_MAX_LINES   512  /* lines read per body */

enum sdp_dir { SDP_DIR_NONE = 0, SDP_DIR_SENDRECV, SDP_DIR_SENDONLY, SDP_DIR_RECVONLY, SDP_DIR_INACTIVE };

struct sdp_rtpmap {
    uint8_t pt;
    struct slice encoding;   /* "PCMU" */
    uint32_t clock_rate;     /* 8000 */
    struct slice params;     /* channels etc., after the second '/' */
};

struct sdp_media {
    struct slice type;       /* "audio", "video", ... */
    uint16_t port;
    uint16_t nports;         /* from "port/n", 1 otherwise */
    struct slice proto;      /* "RTP/AVP" */
    uint8_t fmt[SDP_MAX_FMT];
    uint8_t n_fmt;
    struct sdp_rtpmap rtpmap[SDP_MAX_FMT];
    uint8_t n_rtpmap;
    bool has_conn;           /* media-level c= */
    struct ip_addr conn;
    struct slice conn_text;
    uint8_t dir;             /* enum sdp_dir, media level (0 = not given) */
    uint16_t rtcp_port;      /* a=rtcp: port, 0 when absent */
};

struct sdp {
    struct slice origin_user, origin_sess_id, origin_addr;
    struct slice session_name;
    bool has_conn;           /* session-level c= */
    struct ip_addr conn;
    struct slice conn_text;
    uint8_t dir;             /* session-level direction */
    struct sdp_media media[SDP_MAX_MEDIA];
    uint8_t n_media;
    const char *malformed;   /* NULL when well formed */
};

/* Parse an SDP body. False when it is not SDP at all (no v= line first). */
bool sdp_parse(struct slice body, struct sdp *out);

/*
 * Find the SDP in a SIP body: the body itself for application/sdp, or the
 * first application/sdp part of a multipart body (boundary from the
 * Content-Type). False when there is none.
 */
bool sdp_find_in_body(struct slice content_type, struct slice body, struct slice *sdp);

/* Effective connection address of media i (media c= else session c=). */
bool sdp_media_addr(const struct sdp *s, unsigned i, struct ip_addr *out);
/* Effective direction of media i. */
uint8_t sdp_media_dir(const struct sdp *s, unsigned i);
/* Codec name for payload type pt in media i: rtpmap, else the RFC 3551 static table; NULL if unknown. */
struct slice sdp_codec(const struct sdp *s, unsigned i, uint8_t pt, uint32_t *clock_rate);

#endif
