/*
 * crack.h - --wordlist: recover the password behind an observed HTTP digest
 * response (RFC 2617 §3.2.2, RFC 3261 §22.4, RFC 7616 §3.4) by trying every
 * word of a list. Does not parse headers (dissect/digest.c does) and does not
 * decide what is shown to whom (recovered passwords are the caller's to redact).
 */
#ifndef SIPSIFT_CRACK_H
#define SIPSIFT_CRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/slice.h"

/* Wordlist limits (docs/detection-extras.md). Over a limit, loading fails. */
#define CRACK_MAX_WORDS 1000000u
#define CRACK_MAX_FILE_BYTES (64u * 1024 * 1024)
/* Longest password tried; longer lines are skipped (counted), as are lines
 * holding a NUL byte. A recovered password fits in CRACK_PASSWORD_MAX bytes. */
#define CRACK_MAX_WORD_BYTES 255u
#define CRACK_PASSWORD_MAX (CRACK_MAX_WORD_BYTES + 1)
/* Longest observed parameter (nonce, uri, ...) a crack accepts; longer: not tried. */
#define CRACK_MAX_FIELD_BYTES 1024u
/* Results remembered so one (user, realm, nonce, response, ...) is cracked once. */
#define CRACK_CACHE_ENTRIES 16384u

struct wordlist;

/*
 * Load one password per line: LF or CRLF endings are stripped, every other byte
 * (spaces included) is part of the word, empty lines are skipped. NULL with a
 * one-line reason in err ("cannot open: No such file or directory", "no words",
 * "more than 1000000 words (limit)") when the file cannot be used.
 * Owner: the caller, free with wordlist_free.
 */
struct wordlist *wordlist_load(const char *path, char *err, size_t errlen);
void wordlist_free(struct wordlist *wl);
size_t wordlist_count(const struct wordlist *wl);
/* Lines skipped: longer than CRACK_MAX_WORD_BYTES or holding a NUL byte. */
size_t wordlist_skipped(const struct wordlist *wl);

/* What one Authorization / Proxy-Authorization carried, plus the request's
 * method (as dissect/digest.h gives them: slices, quotes removed, any bytes). */
struct crack_request {
    struct slice username, realm, method, uri, nonce, nc, cnonce, qop, algorithm, response;
};

struct crack_stats {
    uint64_t requests;    /* crack_digest calls */
    uint64_t cache_hits;  /* answered from the cache, no hashing */
    uint64_t unsupported; /* auth-int, unknown algorithm or qop, bad response, oversize field */
    uint64_t found;       /* a word reproduced the response (cache hits included) */
    uint64_t words_tried; /* words hashed, over all requests */
};

struct crack;

/*
 * A cracker over wl (borrowed: wl must outlive it) with its result cache.
 * NULL on allocation failure. Owner: the caller, free with crack_free.
 */
struct crack *crack_new(const struct wordlist *wl);
void crack_free(struct crack *c);

/*
 * Try every word against rq. True when one reproduces rq->response: the word is
 * written NUL-terminated to password (cap >= CRACK_PASSWORD_MAX always fits).
 * False when no word matches, or the request cannot be checked: qop auth-int or
 * unknown, algorithm other than MD5, MD5-sess, SHA-256(-sess), SHA-512-256(-sess)
 * (case-insensitive; absent = MD5), response not hex of the digest's length,
 * a field over CRACK_MAX_FIELD_BYTES, or a word that does not fit in cap.
 * Cost: two hashes per word, a cache hit costs one SHA-256 of the fields.
 */
bool crack_digest(struct crack *c, const struct crack_request *rq, char *password, size_t cap);

const struct crack_stats *crack_stats(const struct crack *c);

#endif
