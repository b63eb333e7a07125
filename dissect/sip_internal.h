/*
 * sip_internal.h - private to the SIP parser (sip.c, sip_uri.c, sip_hdr.c):
 * RFC 3261 §25.1 character classes and the "check" variants of the sub-parsers,
 * which name the grammar rule that broke instead of returning a bare bool.
 * Other modules use dissect/sip.h only.
 */
#ifndef SIPSIFT_SIP_INTERNAL_H
#define SIPSIFT_SIP_INTERNAL_H

#include "dissect/sip.h"

/* Character classes of RFC 3261 §25.1 (one table, defined in sip_uri.c). */
#define SIP_CC_TOKEN  0x01 /* token: alphanum - . ! % * _ + ` ' ~ */
#define SIP_CC_USER   0x02 /* user: unreserved / user-unreserved (& = + $ , ; ? /), and '#' */
#define SIP_CC_PASS   0x04 /* password: unreserved / & = + $ , */
#define SIP_CC_PARAM  0x08 /* paramchar: unreserved / [ ] / : & + $ */
#define SIP_CC_HNV    0x10 /* hname/hvalue chars plus the '=' '&' separators */
#define SIP_CC_HOST   0x20 /* hostname / IPv4: alphanum - . (and '_', seen in the wild) */
#define SIP_CC_SCHEME 0x40 /* scheme: ALPHA *( ALPHA / DIGIT / + - . ) */
#define SIP_CC_HEX    0x80 /* HEXDIG */

extern const uint8_t sip_cc[256];

static inline bool sip_cc_is(uint8_t c, uint8_t cls) { return (sip_cc[c] & cls) != 0; }
static inline bool sip_is_token(uint8_t c) { return sip_cc_is(c, SIP_CC_TOKEN); }
static inline bool sip_is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* s equals the lower-case literal lit, ASCII case-insensitively. Inlined: header names
 * and parameter names are compared on every message (slice.c's version is a call). */
static inline bool sip_eq_lower(struct slice s, const char *lit, size_t n)
{
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (sl_lower(s.p[i]) != (uint8_t)lit[i])
            return false;
    return true;
}
#define SIP_IS(s, lit) sip_eq_lower((s), "" lit, sizeof(lit) - 1)

/* Skip LWS (SP, HTAB and the CR LF of a fold, RFC 3261 §7.3.1) from p up to e. */
static inline const uint8_t *sip_skip_lws(const uint8_t *p, const uint8_t *e)
{
    while (p < e && sl_is_lws(*p))
        p++;
    return p;
}

/* Run of bytes of class cls from p up to e. */
static inline const uint8_t *sip_skip_cc(const uint8_t *p, const uint8_t *e, uint8_t cls)
{
    while (p < e && sip_cc_is(*p, cls))
        p++;
    return p;
}

/* IPv6reference contents without the brackets; port = 1..5 digits up to 65535. */
bool sip_ipv6_ok(struct slice s);
bool sip_port_ok(struct slice s, uint16_t *port);

/* True if s is "SIP/" 1*DIGIT "." 1*DIGIT (RFC 3261 §25.1 SIP-Version; "SIP" is case-insensitive). */
bool sip_version_ok(struct slice s);

/*
 * The sub-parsers of sip.h, returning NULL when s is well formed or a short
 * static string naming the rule that broke. Outputs are filled as far as parsed.
 */
const char *sip_uri_check(struct slice s, struct sip_uri *u);
const char *sip_name_addr_check(struct slice s, struct sip_name_addr *na, struct slice *rest);
const char *sip_via_check(struct slice s, struct sip_via *v, struct slice *rest);
const char *sip_cseq_check(struct slice s, struct sip_cseq *c);

#endif
