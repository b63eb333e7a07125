/*
 * fingerprint.c - decoders of fingerprint.h, read from SIPVicious 0.3.3's
 * source (svhelper.py: the tag is hex(text) + "01" + hex(random digits)) and
 * from the eyeBeam seed sample (FINGERPRINTS.md). Attacker bytes: every
 * read is bounded by the slices.
 */
#include "rules/fingerprint.h"

#include <stdio.h>
#include <string.h>

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (hexval((uint8_t)s[i]) < 0)
            return false;
    return true;
}

bool fp_sipvicious_tag(const struct sip_msg *msg, struct fp_sipvicious *out)
{
    memset(out, 0, sizeof *out);
    struct slice tag = msg->from.tag;
    if (tag.n < 6 || tag.n % 2 || tag.n > 2 * (FP_TEXT_MAX + 40))
        return false;
    /* hex(text) 01 hex(digits): text is printable, the tail decimal digits. */
    size_t n = 0;
    bool sep = false;
    unsigned tail = 0;
    for (size_t i = 0; i < tag.n; i += 2) {
        int hi = hexval(tag.p[i]), lo = hexval(tag.p[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        uint8_t b = (uint8_t)(hi << 4 | lo);
        if (!sep) {
            if (b == 0x01) {
                sep = true;
                continue;
            }
            if (b < 0x20 || b > 0x7e || n == FP_TEXT_MAX)
                return false;
            out->text[n++] = (char)b;
        } else {
            if (b < '0' || b > '9')
                return false;
            tail++;
        }
    }
    /* SIPVicious's tail is a random number of 9-10 digits: asking for 6
     * keeps random hex tags of other tools ("4101 35") from passing. */
    if (!sep || n == 0 || tail < 6)
        return false;
    out->text[n] = '\0';

    bool creds = msg->first[SIP_H_AUTHORIZATION] || msg->first[SIP_H_PROXY_AUTHORIZATION];
    const char *colon = strchr(out->text, ':');
    if (n == 12 && all_hex(out->text, 12)) {
        uint8_t v4[4];
        for (unsigned i = 0; i < 4; i++)
            v4[i] = (uint8_t)(hexval((uint8_t)out->text[2 * i]) << 4 | hexval((uint8_t)out->text[2 * i + 1]));
        ip_from_v4(&out->target, v4);
        unsigned port = 0;
        for (unsigned i = 8; i < 12; i++)
            port = port << 4 | (unsigned)hexval((uint8_t)out->text[i]);
        out->target_port = (uint16_t)port;
        out->kind = FP_SV_TARGET;
    } else if (colon && creds) {
        size_t u = (size_t)(colon - out->text);
        memcpy(out->user, out->text, u);
        out->user[u] = '\0';
        snprintf(out->password, sizeof out->password, "%s", colon + 1);
        out->kind = FP_SV_GUESS;
    } else {
        out->kind = FP_SV_EXTENSION;
    }
    return true;
}

/* Does s contain the text form of ip at or after from? Returns its offset or -1. */
static long find_text(struct slice s, size_t from, const char *txt)
{
    size_t k = strlen(txt);
    if (!k || from > s.n)
        return -1;
    for (size_t i = from; i + k <= s.n; i++)
        if (memcmp(s.p + i, txt, k) == 0)
            return (long)i;
    return -1;
}

/* An address the message names, as text (host slices are attacker bytes). */
static bool host_text(struct slice host, char *buf, size_t cap)
{
    struct ip_addr a;
    if (host.n == 0 || host.n >= cap)
        return false;
    memcpy(buf, host.p, host.n);
    buf[host.n] = '\0';
    return ip_parse(buf, &a);
}

bool fp_eyebeam_fake(const struct l4_meta *m, const struct sip_msg *msg, struct fp_eyebeam *out)
{
    memset(out, 0, sizeof *out);
    struct slice br = msg->via.branch;
    if (!msg->is_request || sl_find_nocase(msg->user_agent, SL_LIT("eyeBeam")) == msg->user_agent.n ||
        br.n < 16 || sl_starts_lit_nocase(br, "z9hG4bK"))
        return false;
    /* The branch opens with a run of binary digits. */
    size_t run = 0;
    while (run < br.n && (br.p[run] == '0' || br.p[run] == '1'))
        run++;
    if (run < 8)
        return false;
    char cand[2][IP_STRLEN];
    unsigned nc = 0;
    if (host_text(msg->via.host, cand[nc], sizeof cand[0]))
        nc++;
    ip_format(&m->src, cand[nc], sizeof cand[0]);
    nc++;
    long at = -1;
    for (unsigned i = 0; i < nc && at < 0; i++) {
        /* The binary run swallows the address's first digits when they are
         * 0/1 ("...0110202.71..."): look for it anywhere after 8 digits. */
        at = find_text(br, 8, cand[i]);
        if (at >= 0)
            snprintf(out->scanner, sizeof out->scanner, "%s", cand[i]);
    }
    if (at < 0)
        return false;
    size_t after = (size_t)at + strlen(out->scanner);
    char victim[2][IP_STRLEN];
    unsigned nv = 0;
    if (host_text(msg->ruri.host, victim[nv], sizeof victim[0]))
        nv++;
    ip_format(&m->dst, victim[nv], sizeof victim[0]);
    nv++;
    for (unsigned i = 0; i < nv && !out->victim[0]; i++)
        if (find_text(br, after, victim[i]) == (long)after)
            snprintf(out->victim, sizeof out->victim, "%s", victim[i]);
    if (!out->victim[0])
        return false;
    struct slice user = msg->ruri.user;
    if (user.n && user.n < sizeof out->number && sl_find(msg->call_id, user) < msg->call_id.n) {
        memcpy(out->number, user.p, user.n);
        out->number[user.n] = '\0';
    }
    return true;
}

/* Digits then sep: returns the offset after sep, or 0. */
static size_t digits_then(struct slice s, size_t at, uint8_t sep)
{
    size_t i = at;
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9')
        i++;
    return i > at && i < s.n && s.p[i] == sep ? i + 1 : 0;
}

bool fp_sipp(const struct sip_msg *msg)
{
    struct slice cid = msg->call_id, br = msg->via.branch;
    size_t i = digits_then(cid, 0, '-');
    if (!i || !digits_then(cid, i, '@'))
        return false;
    if (!sl_starts_lit(br, "z9hG4bK-"))
        return false;
    i = digits_then(br, 8, '-');
    i = i ? digits_then(br, i, '-') : 0;
    if (!i || i >= br.n)
        return false;
    for (; i < br.n; i++)
        if (br.p[i] < '0' || br.p[i] > '9')
            return false;
    return true;
}
