/*
 * sip.h - SIP message parsing (RFC 3261 §7, §20, §25). A parsed message is a
 * struct of slices into the caller's buffer: no copies, no allocation.
 * Header names are matched case-insensitively with their compact forms;
 * folded lines stay inside the value slice (sub-parsers treat CR/LF as LWS).
 * A message that breaks the grammar is still returned, with `malformed`
 * naming the first rule that broke: it is data, not an error.
 *
 * Sub-parsers (URI, name-addr, Via, CSeq) live in sip_uri.c / sip_hdr.c and
 * are callable on any header value.
 */
#ifndef SIPSIFT_SIP_H
#define SIPSIFT_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/slice.h"

/* Limits (documented in docs/security.md). */
#define SIP_MAX_HEADERS     128     /* header lines kept per message; more -> anomaly */
#define SIP_MAX_MSG_BYTES   65535   /* a message (headers + body) larger than this is cut */
#define SIP_MAX_CONTENT_LENGTH 65535

enum sip_method {
    SIP_M_UNKNOWN = 0, SIP_M_INVITE, SIP_M_ACK, SIP_M_BYE, SIP_M_CANCEL, SIP_M_REGISTER,
    SIP_M_OPTIONS, SIP_M_PRACK, SIP_M_SUBSCRIBE, SIP_M_NOTIFY, SIP_M_PUBLISH, SIP_M_INFO,
    SIP_M_REFER, SIP_M_MESSAGE, SIP_M_UPDATE, SIP_M__COUNT
};

/* Headers sipsift looks at by id; everything else is SIP_H_OTHER. */
enum sip_hdr_id {
    SIP_H_OTHER = 0, SIP_H_VIA, SIP_H_FROM, SIP_H_TO, SIP_H_CALL_ID, SIP_H_CSEQ, SIP_H_CONTACT,
    SIP_H_CONTENT_LENGTH, SIP_H_CONTENT_TYPE, SIP_H_MAX_FORWARDS, SIP_H_USER_AGENT, SIP_H_SERVER,
    SIP_H_EXPIRES, SIP_H_AUTHORIZATION, SIP_H_PROXY_AUTHORIZATION, SIP_H_WWW_AUTHENTICATE,
    SIP_H_PROXY_AUTHENTICATE, SIP_H_ROUTE, SIP_H_RECORD_ROUTE, SIP_H_SUBJECT, SIP_H_SUPPORTED,
    SIP_H_REQUIRE, SIP_H_PROXY_REQUIRE, SIP_H_ALLOW, SIP_H_EVENT, SIP_H_ACCEPT,
    SIP_H_CONTENT_ENCODING, SIP_H_REFER_TO, SIP_H_REFERRED_BY, SIP_H_DATE, SIP_H_WARNING,
    SIP_H_RETRY_AFTER, SIP_H_SESSION_EXPIRES, SIP_H_ALLOW_EVENTS, SIP_H__COUNT
};

enum sip_uri_scheme { SIP_URI_OTHER = 0, SIP_URI_SIP, SIP_URI_SIPS, SIP_URI_TEL };

struct sip_uri {
    struct slice raw;      /* the whole URI as written */
    struct slice scheme;   /* "sip", "sips", "tel", or any other scheme */
    uint8_t scheme_id;     /* enum sip_uri_scheme */
    bool has_port;
    uint16_t port;
    struct slice user;     /* as on the wire (still %-escaped); tel: the number */
    struct slice password;
    struct slice host;     /* IPv6 references without the brackets */
    struct slice params;   /* ";a=b;c" after host[:port], before '?' (without the first ';') */
    struct slice headers;  /* after '?' */
};

struct sip_name_addr {
    struct slice display;  /* display name, quotes removed (escapes kept) */
    struct sip_uri uri;
    struct slice params;   /* header parameters after the URI (without the first ';') */
    struct slice tag;      /* the tag parameter's value */
    bool star;             /* Contact: * */
};

struct sip_via {
    struct slice protocol;   /* "SIP/2.0" */
    struct slice transport;  /* "UDP", "TCP", "TLS", ... */
    struct slice host;       /* sent-by host (IPv6 without brackets) */
    bool has_port;
    uint16_t port;
    struct slice params;     /* without the first ';' */
    struct slice branch, received, maddr;
    bool rport;              /* rport present */
    struct slice rport_value;
};

struct sip_cseq {
    uint32_t seq;
    struct slice method;
    uint8_t method_id;       /* enum sip_method */
};

struct sip_header {
    struct slice name;
    struct slice value;      /* trimmed; may contain folded CRLF+WSP */
    uint8_t id;              /* enum sip_hdr_id */
};

/* Anomaly bits: things worth counting even in a message that parses. */
#define SIP_ANOM_TOO_MANY_HEADERS  0x0001
#define SIP_ANOM_TRAILING_BYTES    0x0002 /* datagram bytes after Content-Length */
#define SIP_ANOM_CL_MISSING        0x0004 /* no Content-Length (legal on UDP) */
#define SIP_ANOM_CL_EXCEEDS        0x0008 /* Content-Length larger than the bytes there */
#define SIP_ANOM_FOLDED            0x0010 /* header line folding used */
#define SIP_ANOM_LEADING_JUNK      0x0020 /* bytes before the start line skipped */
#define SIP_ANOM_BAD_BRANCH        0x0040 /* Via branch without RFC 3261 cookie or empty */
#define SIP_ANOM_MULTI_IN_DGRAM    0x0080 /* several messages in one datagram */
#define SIP_ANOM_TRUNCATED         0x0100 /* cut by the capture's snaplen */

struct sip_msg {
    struct slice raw;          /* the whole message: start line .. end of body */
    struct slice start_line;
    bool is_request;
    /* request */
    struct slice method;       /* in a response: the CSeq method (its transaction's) */
    uint8_t method_id;         /* enum sip_method */
    struct slice ruri_raw;
    struct sip_uri ruri;
    /* response */
    uint16_t status;
    struct slice reason;
    struct slice version;      /* "SIP/2.0" */

    struct sip_header hdr[SIP_MAX_HEADERS];
    uint16_t n_hdr;
    uint16_t first[SIP_H__COUNT]; /* index + 1 of the first header with this id; 0 = none */
    uint8_t count[SIP_H__COUNT];  /* occurrences (saturates at 255) */

    /* Parsed eagerly because every message needs them. Empty when absent. */
    struct slice call_id;
    struct sip_name_addr from, to;
    struct sip_cseq cseq;
    bool has_cseq;
    struct sip_via via;        /* top-most Via value */
    uint16_t n_via;            /* Via values in all Via headers */
    struct slice user_agent;
    struct slice server;
    struct sip_name_addr contact; /* first Contact value */
    bool has_contact;
    int64_t content_length;    /* -1 when absent */
    /* SIP_STREAM and SIP_INCOMPLETE with the header block complete: the bytes
     * of buf the whole message needs (headers + Content-Length); 0 otherwise.
     * A caller can wait for that much instead of parsing again per segment. */
    size_t stream_need;
    struct slice content_type;
    bool has_expires;
    uint32_t expires;
    struct slice body;

    uint32_t anomalies;        /* SIP_ANOM_* */
    const char *malformed;     /* NULL when well formed, else e.g. "bad request line" */
};

enum sip_transport { SIP_DGRAM, SIP_STREAM };

enum sip_result {
    SIP_OK,          /* a message was parsed (check msg->malformed) */
    SIP_NOT_SIP,     /* the bytes do not start like SIP: not counted as SIP */
    SIP_INCOMPLETE,  /* stream only: wait for more bytes */
};

/*
 * Parse the message at the start of buf. Datagram: the message ends at
 * Content-Length or at the end of buf (the rest is SIP_ANOM_TRAILING_BYTES).
 * Stream: framed by Content-Length; SIP_INCOMPLETE until all of it is there
 * (leading CRLF keep-alives are skipped and counted in *used).
 * On SIP_OK, *used is the bytes this message took from buf (>= 1).
 * On SIP_INCOMPLETE, *used is the leading CRLF keep-alive (or NUL/SP/HTAB padding)
 * bytes already skipped, which the caller may drop (often 0).
 */
enum sip_result sip_parse(struct slice buf, enum sip_transport t, struct sip_msg *msg, size_t *used);

/* Cheap test of the first line only: request line with SIP/x.y, or status line. */
bool sip_looks_like(struct slice buf);

/* Method name <-> id. */
uint8_t sip_method_id(struct slice name);
const char *sip_method_name(uint8_t id);

/* Header name (full or compact, any case) -> id. */
uint8_t sip_header_id(struct slice name);

/* The n-th header (0-based) with this id, or NULL. */
const struct sip_header *sip_header_get(const struct sip_msg *m, uint8_t id, unsigned nth);
/* The first header with this name (any case, compact forms not applied), or NULL. */
const struct sip_header *sip_header_by_name(const struct sip_msg *m, struct slice name);

/* Sub-parsers, usable on any header value. All return false on a grammar break. */
bool sip_uri_parse(struct slice s, struct sip_uri *u);
/* Value of URI parameter `name` (";name=value"; *value empty for ";name"). */
bool sip_uri_param(const struct sip_uri *u, struct slice name, struct slice *value);
/* Parse one name-addr / addr-spec; *rest = what follows a ',' at top level. */
bool sip_name_addr_parse(struct slice s, struct sip_name_addr *na, struct slice *rest);
/* Parse the first Via value of a comma-separated list; *rest = the others. */
bool sip_via_parse(struct slice s, struct sip_via *v, struct slice *rest);
bool sip_cseq_parse(struct slice s, struct sip_cseq *c);
/* Generic ";name=value" lookup in a parameter list (names any case). */
bool sip_param_get(struct slice params, struct slice name, struct slice *value);

#endif
