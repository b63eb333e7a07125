/*
 * digest.h - HTTP digest parameters in SIP (RFC 3261 §22.4, RFC 2617,
 * RFC 7616/8760): Authorization, Proxy-Authorization, WWW-Authenticate,
 * Proxy-Authenticate. Values are slices with the quotes removed.
 */
#ifndef SIPSIFT_DIGEST_H
#define SIPSIFT_DIGEST_H

#include <stdbool.h>

#include "lib/slice.h"

struct sip_digest {
    struct slice scheme;      /* "Digest" (any other scheme is kept, params not read) */
    bool is_digest;
    struct slice username, realm, nonce, uri, response, algorithm, cnonce, opaque, qop, nc,
        stale, domain;
    const char *malformed;    /* NULL when the parameter list parsed cleanly */
};

/* Parse a credentials or challenge header value. False when not even a scheme is there. */
bool sip_digest_parse(struct slice value, struct sip_digest *d);

#endif
