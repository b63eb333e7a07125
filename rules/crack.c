/*
 * crack.c - wordlist recovery of digest passwords (RFC 2617 §3.2.2, RFC 7616 §3.4.1).
 * Hashes come from nettle; this file only arranges the RFC's strings around them.
 * It never reads headers itself and never prints.
 */
#include "rules/crack.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <nettle/md5.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha2.h>

#include "lib/table.h"

struct wordlist {
    char *buf;        /* the file, each word NUL-terminated in place */
    uint32_t *off;    /* start of word i in buf */
    uint8_t *len;     /* its length (<= CRACK_MAX_WORD_BYTES) */
    size_t count, skipped;
};

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Read all of fd, at most CRACK_MAX_FILE_BYTES; *n = bytes. NULL + errno on failure,
 * NULL with errno EFBIG when the file is over the limit. */
static char *read_bounded(int fd, size_t *n)
{
    size_t cap = 64 * 1024, used = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > CRACK_MAX_FILE_BYTES) {
            errno = EFBIG;
            return NULL;
        }
        cap = (size_t)st.st_size + 1;
    }
    char *buf = malloc(cap + 1);
    if (!buf)
        return NULL;
    for (;;) {
        if (used == cap) {
            if (cap > CRACK_MAX_FILE_BYTES) {
                free(buf);
                errno = EFBIG;
                return NULL;
            }
            size_t ncap = cap * 2 > CRACK_MAX_FILE_BYTES + 1 ? CRACK_MAX_FILE_BYTES + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + used, cap - used);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            errno = e;
            return NULL;
        }
        if (r == 0)
            break;
        used += (size_t)r;
    }
    if (used > CRACK_MAX_FILE_BYTES) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[used] = '\0';
    *n = used;
    return buf;
}

struct wordlist *wordlist_load(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_err(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t n = 0;
    char *buf = read_bounded(fd, &n);
    int e = errno;
    close(fd);
    if (!buf) {
        if (e == EFBIG)
            set_err(err, errlen, "larger than %u MiB (limit)", CRACK_MAX_FILE_BYTES >> 20);
        else
            set_err(err, errlen, "cannot read: %s", strerror(e));
        return NULL;
    }

    struct wordlist *wl = calloc(1, sizeof *wl);
    /* Upper bound on lines: one per LF plus a last unterminated one. */
    size_t lines = 1;
    for (const char *q = buf; (q = memchr(q, '\n', (size_t)(buf + n - q))) != NULL; q++)
        lines++;
    size_t slots = lines < CRACK_MAX_WORDS + 1 ? lines : CRACK_MAX_WORDS + 1;
    if (!wl || !(wl->off = malloc(slots * sizeof *wl->off)) || !(wl->len = malloc(slots))) {
        set_err(err, errlen, "cannot read: %s", strerror(ENOMEM));
        goto fail;
    }
    wl->buf = buf;

    struct slice rest = sl_make(buf, n);
    while (rest.n) {
        size_t eol = sl_find_byte(rest, '\n');
        size_t wlen = eol;
        size_t start = (size_t)(rest.p - (const uint8_t *)buf);
        if (wlen && rest.p[wlen - 1] == '\r')
            wlen--;
        rest = sl_drop(rest, eol + 1);
        buf[start + wlen] = '\0'; /* the LF or CR; the file's NUL at buf[n] for the last line */
        if (wlen == 0)
            continue;
        if (wlen > CRACK_MAX_WORD_BYTES || memchr(buf + start, '\0', wlen)) {
            wl->skipped++;
            continue;
        }
        if (wl->count == CRACK_MAX_WORDS) {
            set_err(err, errlen, "more than %u words (limit)", CRACK_MAX_WORDS);
            goto fail;
        }
        wl->off[wl->count] = (uint32_t)start;
        wl->len[wl->count] = (uint8_t)wlen;
        wl->count++;
    }
    if (wl->count == 0) {
        if (wl->skipped)
            set_err(err, errlen, "no usable words (%zu lines over %u bytes or holding a NUL byte)",
                    wl->skipped, CRACK_MAX_WORD_BYTES);
        else
            set_err(err, errlen, "no words (the file is empty or holds only empty lines)");
        goto fail;
    }
    return wl;

fail:
    if (wl) {
        free(wl->off);
        free(wl->len);
        free(wl);
    }
    free(buf);
    return NULL;
}

void wordlist_free(struct wordlist *wl)
{
    if (!wl)
        return;
    free(wl->buf);
    free(wl->off);
    free(wl->len);
    free(wl);
}

size_t wordlist_count(const struct wordlist *wl) { return wl ? wl->count : 0; }
size_t wordlist_skipped(const struct wordlist *wl) { return wl ? wl->skipped : 0; }

/* ---- cracking ---- */

/* RFC 7616 §3.3 / RFC 8760 algorithm names; "-sess" variants hash the nonces into HA1. */
static const struct {
    const char *name;
    size_t len;
    const struct nettle_hash *hash;
    bool sess;
} algorithms[] = {
    { "MD5", 3, &nettle_md5, false },
    { "MD5-sess", 8, &nettle_md5, true },
    { "SHA-256", 7, &nettle_sha256, false },
    { "SHA-256-sess", 12, &nettle_sha256, true },
    { "SHA-512-256", 11, &nettle_sha512_256, false },
    { "SHA-512-256-sess", 16, &nettle_sha512_256, true },
};

#define MAX_DIGEST 32 /* SHA-256 and SHA-512/256; MD5 is 16 */

/* Room for any nettle context we use (sha512_256 shares sha512's). */
union hash_ctx {
    struct md5_ctx md5;
    struct sha256_ctx sha256;
    struct sha512_ctx sha512;
};

/*
 * The per-request constants: the hash, the decoded response, the HA1 context
 * after "user:realm:", the "-sess" tail ":nonce:cnonce", and one or two tails
 * of the final hash (":nonce:HA2" or ":nonce:nc:cnonce:qop:HA2").
 */
struct attempt {
    const struct nettle_hash *h;
    bool sess;
    uint8_t want[MAX_DIGEST];
    union hash_ctx ha1_prefix;
    uint8_t sess_tail[2 * CRACK_MAX_FIELD_BYTES + 2];
    size_t sess_n;
    uint8_t tail[2][5 * CRACK_MAX_FIELD_BYTES + 2 * MAX_DIGEST + 8];
    size_t tail_n[2];
    int tails;
};

struct cache_val {
    uint32_t word;  /* index of the word found */
    uint8_t state;  /* CACHE_FOUND or CACHE_NONE */
};
enum { CACHE_NONE = 1, CACHE_FOUND = 2 };

struct crack {
    const struct wordlist *wl;
    struct table *cache;
    uint64_t tick; /* LRU clock of the cache: one per request */
    struct crack_stats stats;
    struct attempt a; /* the request being cracked (~10 KiB: kept off the stack) */
};

struct crack *crack_new(const struct wordlist *wl)
{
    struct crack *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wl = wl;
    struct table_cfg cfg = {
        .name = "crack_cache",
        .capacity = CRACK_CACHE_ENTRIES,
        .value_size = sizeof(struct cache_val),
        .key_max = SHA256_DIGEST_SIZE,
    };
    c->cache = table_new(&cfg);
    if (!c->cache) {
        free(c);
        return NULL;
    }
    return c;
}

void crack_free(struct crack *c)
{
    if (!c)
        return;
    table_free(c->cache);
    free(c);
}

const struct crack_stats *crack_stats(const struct crack *c) { return &c->stats; }

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
}

static int hex_val(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = sl_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Hex of exactly n bytes (either case) into out; false otherwise. */
static bool from_hex(struct slice s, uint8_t *out, size_t n)
{
    if (s.n != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_val(s.p[2 * i]), lo = hex_val(s.p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* Appends to a bounded buffer; false once it would overflow. */
struct sbuf {
    uint8_t *p;
    size_t n, cap;
};

static bool sb_add(struct sbuf *b, const void *p, size_t n)
{
    if (n > b->cap - b->n)
        return false;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return true;
}

static bool sb_sl(struct sbuf *b, struct slice s) { return sb_add(b, s.p, s.n); }
static bool sb_colon(struct sbuf *b) { return sb_add(b, ":", 1); }

/* SHA-256 over every field, each preceded by its length: the cache key. */
static void request_key(const struct crack_request *rq, uint8_t key[SHA256_DIGEST_SIZE])
{
    const struct slice f[] = { rq->username, rq->realm, rq->method, rq->uri, rq->nonce,
                               rq->nc, rq->cnonce, rq->qop, rq->algorithm, rq->response };
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        uint8_t len[4] = { (uint8_t)(f[i].n >> 24), (uint8_t)(f[i].n >> 16), (uint8_t)(f[i].n >> 8),
                           (uint8_t)f[i].n };
        sha256_update(&ctx, sizeof len, len);
        if (f[i].n)
            sha256_update(&ctx, f[i].n, f[i].p);
    }
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, key);
}

static bool put_word(const struct wordlist *wl, uint32_t i, char *password, size_t cap)
{
    size_t len = wl->len[i];
    if (!password || cap < len + 1)
        return false;
    memcpy(password, wl->buf + wl->off[i], len);
    password[len] = '\0';
    return true;
}

static bool prepare(const struct crack_request *rq, struct attempt *a)
{
    const struct slice f[] = { rq->username, rq->realm, rq->method, rq->uri, rq->nonce,
                               rq->nc, rq->cnonce, rq->qop, rq->algorithm, rq->response };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].n > CRACK_MAX_FIELD_BYTES)
            return false;

    a->h = NULL;
    if (rq->algorithm.n == 0) {
        a->h = &nettle_md5; /* RFC 2617 §3.2.1: absent means MD5 */
        a->sess = false;
    }
    for (size_t i = 0; !a->h && i < sizeof algorithms / sizeof algorithms[0]; i++) {
        if (sl_eq_nocase(rq->algorithm, sl_make(algorithms[i].name, algorithms[i].len))) {
            a->h = algorithms[i].hash;
            a->sess = algorithms[i].sess;
        }
    }
    if (!a->h || !from_hex(rq->response, a->want, a->h->digest_size))
        return false;

    /* qop: absent is RFC 2069; "auth" is RFC 2617; auth-int needs the body: not tried. */
    bool qop_auth = rq->qop.n != 0;
    if (qop_auth && !sl_is_nocase(rq->qop, "auth"))
        return false;

    uint8_t d[MAX_DIGEST];
    char ha2[2 * MAX_DIGEST];
    union hash_ctx ctx;
    a->h->init(&ctx);
    a->h->update(&ctx, rq->method.n, rq->method.p);
    a->h->update(&ctx, 1, (const uint8_t *)":");
    a->h->update(&ctx, rq->uri.n, rq->uri.p);
    a->h->digest(&ctx, a->h->digest_size, d);
    to_hex(d, a->h->digest_size, ha2);

    a->h->init(&a->ha1_prefix);
    a->h->update(&a->ha1_prefix, rq->username.n, rq->username.p);
    a->h->update(&a->ha1_prefix, 1, (const uint8_t *)":");
    a->h->update(&a->ha1_prefix, rq->realm.n, rq->realm.p);
    a->h->update(&a->ha1_prefix, 1, (const uint8_t *)":");

    struct sbuf s = { a->sess_tail, 0, sizeof a->sess_tail };
    bool ok = sb_colon(&s) && sb_sl(&s, rq->nonce) && sb_colon(&s) && sb_sl(&s, rq->cnonce);
    a->sess_n = s.n;

    a->tails = 0;
    if (qop_auth) {
        struct sbuf t = { a->tail[a->tails], 0, sizeof a->tail[0] };
        ok = ok && sb_colon(&t) && sb_sl(&t, rq->nonce) && sb_colon(&t) && sb_sl(&t, rq->nc) &&
             sb_colon(&t) && sb_sl(&t, rq->cnonce) && sb_colon(&t) && sb_sl(&t, rq->qop) &&
             sb_colon(&t) && sb_add(&t, ha2, 2 * a->h->digest_size);
        a->tail_n[a->tails++] = t.n;
    }
    /* RFC 2069 form; also for "qop=auth" without nc and cnonce, which svcrack
     * sends and SIPp's verifyauth checks this way (it keys on cnonce). */
    if (!qop_auth || (rq->nc.n == 0 && rq->cnonce.n == 0)) {
        struct sbuf t = { a->tail[a->tails], 0, sizeof a->tail[0] };
        ok = ok && sb_colon(&t) && sb_sl(&t, rq->nonce) && sb_colon(&t) &&
             sb_add(&t, ha2, 2 * a->h->digest_size);
        a->tail_n[a->tails++] = t.n;
    }
    return ok;
}

/* Index of the first word reproducing the response, or -1. */
static long search(const struct wordlist *wl, const struct attempt *a, uint64_t *tried)
{
    const struct nettle_hash *h = a->h;
    const size_t dn = h->digest_size;
    uint8_t d[MAX_DIGEST];
    char ha1[2 * MAX_DIGEST];
    union hash_ctx ctx;
    for (size_t i = 0; i < wl->count; i++) {
        (*tried)++;
        memcpy(&ctx, &a->ha1_prefix, h->context_size);
        h->update(&ctx, wl->len[i], (const uint8_t *)wl->buf + wl->off[i]);
        h->digest(&ctx, dn, d);
        to_hex(d, dn, ha1);
        if (a->sess) { /* RFC 7616 §3.4.2 (RFC 2617 erratum 1649): the hex HA1 */
            h->init(&ctx);
            h->update(&ctx, 2 * dn, (const uint8_t *)ha1);
            h->update(&ctx, a->sess_n, a->sess_tail);
            h->digest(&ctx, dn, d);
            to_hex(d, dn, ha1);
        }
        for (int t = 0; t < a->tails; t++) {
            h->init(&ctx);
            h->update(&ctx, 2 * dn, (const uint8_t *)ha1);
            h->update(&ctx, a->tail_n[t], a->tail[t]);
            h->digest(&ctx, dn, d);
            if (memcmp(d, a->want, dn) == 0)
                return (long)i;
        }
    }
    return -1;
}

bool crack_digest(struct crack *c, const struct crack_request *rq, char *password, size_t cap)
{
    if (password && cap)
        password[0] = '\0';
    c->stats.requests++;
    c->tick++;

    uint8_t key[SHA256_DIGEST_SIZE];
    request_key(rq, key);
    struct cache_val *v = table_get(c->cache, key, sizeof key, c->tick);
    if (v) {
        c->stats.cache_hits++;
        if (v->state != CACHE_FOUND)
            return false;
        c->stats.found++;
        return put_word(c->wl, v->word, password, cap);
    }

    if (!c->wl || !prepare(rq, &c->a)) {
        c->stats.unsupported++;
        return false;
    }
    long i = search(c->wl, &c->a, &c->stats.words_tried);

    bool created;
    v = table_put(c->cache, key, sizeof key, c->tick, &created);
    if (v) {
        v->state = i >= 0 ? CACHE_FOUND : CACHE_NONE;
        v->word = i >= 0 ? (uint32_t)i : 0;
    }
    if (i < 0)
        return false;
    c->stats.found++;
    return put_word(c->wl, (uint32_t)i, password, cap);
}
