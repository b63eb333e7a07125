/*
 * detect_cfg.c - defaults and the `-c FILE` parser of detect_cfg.h. The file
 * is the operator's, not an attacker's, but it is still read bounded and a
 * mistake names its line: "LINE: unknown key 'x' (known: ...)".
 */
#include "rules/detect_cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DCFG_MAX_FILE (1 << 20)

void detect_default_cfg(struct detect_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->sweep = (struct det_threshold){ 10, 60 };
    c->enumeration = (struct det_threshold){ 10, 60 };
    c->bruteforce = (struct det_threshold){ 10, 300 };
    c->bruteforce_responses = 3;
    c->flood_source = (struct det_threshold){ 1000, 5 };
    c->flood_target = (struct det_threshold){ 5000, 5 };
    c->tollfraud = (struct det_threshold){ 3, 600 };
    c->malformed = (struct det_threshold){ 5, 60 };
    c->malformed_variety = 3;
    /* Trunk-seizing digits attackers put before 00/011 (ATTACKS.md), longest first. */
    static const char *const outside[] = { "900", "90", "9", "8", "0" };
    for (unsigned i = 0; i < sizeof outside / sizeof outside[0]; i++)
        snprintf(c->outside[c->n_outside++], sizeof c->outside[0], "%s", outside[i]);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static bool parse_u32(const char *v, uint32_t *out)
{
    if (!isdigit((unsigned char)*v))
        return false;
    errno = 0;
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || *trim(end) || x == 0 || x > 100000000ul)
        return false;
    *out = (uint32_t)x;
    return true;
}

static bool parse_cidr(char *s, struct det_cidr *out)
{
    char *slash = strchr(s, '/');
    if (slash)
        *slash = '\0';
    if (!ip_parse(s, &out->net))
        return false;
    unsigned max = ip_is_v4(&out->net) ? 32 : 128;
    uint32_t bits = max;
    if (slash && (!isdigit((unsigned char)slash[1]) || (bits = (uint32_t)atoi(slash + 1)) > max))
        return false;
    out->prefix = (uint8_t)(ip_is_v4(&out->net) ? 96 + bits : bits);
    return true;
}

/* A comma list into fixed slots; check() validates one entry. */
static bool parse_list(char *v, char (*slots)[8], size_t slot, unsigned *n, bool (*check)(const char *),
                       char *err, size_t errlen, unsigned line)
{
    *n = 0;
    for (char *tok = strtok(v, ","); tok; tok = strtok(NULL, ",")) {
        tok = trim(tok);
        if (!*tok)
            continue;
        if (*n == DCFG_MAX_LIST || strlen(tok) >= slot || !check(tok)) {
            snprintf(err, errlen, "%u: bad list entry '%.40s' (or more than %d)", line, tok, DCFG_MAX_LIST);
            return false;
        }
        memcpy((char *)slots + (size_t)*n * sizeof slots[0], tok, strlen(tok) + 1);
        (*n)++;
    }
    return true;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static bool iso2(const char *s)
{
    return strlen(s) == 2 && isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]);
}

static int by_len_desc(const void *a, const void *b)
{
    return (int)strlen((const char *)b) - (int)strlen((const char *)a);
}

#define KNOWN "sweep, enumeration, bruteforce, flood_source, flood_target, tollfraud, malformed" \
              " (each .count and .seconds), bruteforce.responses, malformed.variety, home_country," \
              " outside_line, allowed_countries, high_risk_countries, trusted, show_passwords, var.NAME"

static bool set_key(struct detect_cfg *c, const char *k, char *v, unsigned line, char *err, size_t errlen)
{
    struct { const char *name; struct det_threshold *t; } th[] = {
        { "sweep", &c->sweep }, { "enumeration", &c->enumeration }, { "bruteforce", &c->bruteforce },
        { "flood_source", &c->flood_source }, { "flood_target", &c->flood_target },
        { "tollfraud", &c->tollfraud }, { "malformed", &c->malformed },
    };
    for (unsigned i = 0; i < sizeof th / sizeof th[0]; i++) {
        size_t n = strlen(th[i].name);
        if (strncmp(k, th[i].name, n) || k[n] != '.')
            continue;
        uint32_t *slot = !strcmp(k + n + 1, "count") ? &th[i].t->count
                       : !strcmp(k + n + 1, "seconds") ? &th[i].t->seconds : NULL;
        if (!slot)
            break;
        if (!parse_u32(v, slot)) {
            snprintf(err, errlen, "%u: %s wants a whole number from 1 to 100000000", line, k);
            return false;
        }
        return true;
    }
    if (!strcmp(k, "bruteforce.responses") || !strcmp(k, "malformed.variety")) {
        if (!parse_u32(v, k[0] == 'b' ? &c->bruteforce_responses : &c->malformed_variety)) {
            snprintf(err, errlen, "%u: %s wants a whole number from 1 to 100000000", line, k);
            return false;
        }
        return true;
    }
    if (!strcmp(k, "home_country")) {
        if (*v == '+')
            v++;
        if (strlen(v) >= sizeof c->home_country || (*v && !all_digits(v))) {
            snprintf(err, errlen, "%u: home_country wants a country calling code such as 44 or 1", line);
            return false;
        }
        snprintf(c->home_country, sizeof c->home_country, "%s", v);
        return true;
    }
    if (!strcmp(k, "outside_line")) {
        if (!parse_list(v, c->outside, sizeof c->outside[0], &c->n_outside, all_digits, err, errlen, line))
            return false;
        qsort(c->outside, c->n_outside, sizeof c->outside[0], by_len_desc);
        return true;
    }
    if (!strcmp(k, "allowed_countries") || !strcmp(k, "high_risk_countries")) {
        bool allowed = k[0] == 'a';
        char tmp[DCFG_MAX_LIST][8];
        unsigned n;
        if (!parse_list(v, tmp, sizeof tmp[0], &n, iso2, err, errlen, line))
            return false;
        for (unsigned i = 0; i < n; i++) {
            char *dst = allowed ? c->allowed[i] : c->high_risk[i];
            dst[0] = (char)toupper((unsigned char)tmp[i][0]);
            dst[1] = (char)toupper((unsigned char)tmp[i][1]);
            dst[2] = '\0';
        }
        *(allowed ? &c->n_allowed : &c->n_high_risk) = n;
        return true;
    }
    if (!strcmp(k, "trusted")) {
        c->n_trusted = 0;
        for (char *tok = strtok(v, ","); tok; tok = strtok(NULL, ",")) {
            tok = trim(tok);
            if (!*tok)
                continue;
            if (c->n_trusted == DCFG_MAX_LIST || !parse_cidr(tok, &c->trusted[c->n_trusted])) {
                snprintf(err, errlen, "%u: trusted: bad address or CIDR '%.60s' (or more than %d)",
                         line, tok, DCFG_MAX_LIST);
                return false;
            }
            c->n_trusted++;
        }
        return true;
    }
    if (!strcmp(k, "show_passwords")) {
        bool yes = !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1");
        bool no = !strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0");
        if (!yes && !no) {
            snprintf(err, errlen, "%u: show_passwords wants yes or no", line);
            return false;
        }
        c->show_passwords = yes;
        return true;
    }
    if (!strncmp(k, "var.", 4) && k[4]) {
        if (c->n_vars == DCFG_MAX_VARS || strlen(k + 4) >= DCFG_STR || strlen(v) >= DCFG_VAR_VALUE) {
            snprintf(err, errlen, "%u: %s: too long, or more than %d variables", line, k, DCFG_MAX_VARS);
            return false;
        }
        snprintf(c->var_name[c->n_vars], DCFG_STR, "%s", k + 4);
        snprintf(c->var_value[c->n_vars], DCFG_VAR_VALUE, "%s", v);
        c->n_vars++;
        return true;
    }
    snprintf(err, errlen, "%u: unknown key '%.60s' (known: " KNOWN ")", line, k);
    return false;
}

bool detect_cfg_parse(struct detect_cfg *c, const char *text, size_t n, char *err, size_t errlen)
{
    char buf[2048];
    unsigned line = 0;
    const char *p = text, *end = text + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        line++;
        if (len >= sizeof buf) {
            snprintf(err, errlen, "%u: line longer than %zu bytes", line, sizeof buf - 1);
            return false;
        }
        memcpy(buf, p, len);
        buf[len] = '\0';
        p = nl ? nl + 1 : end;
        if (memchr(buf, '\0', len)) {
            snprintf(err, errlen, "%u: NUL byte: not a text file", line);
            return false;
        }
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(buf);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%u: want 'key = value'", line);
            return false;
        }
        *eq = '\0';
        if (!set_key(c, trim(s), trim(eq + 1), line, err, errlen))
            return false;
    }
    return true;
}

bool detect_cfg_load(struct detect_cfg *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return false;
    }
    char *text = malloc(DCFG_MAX_FILE + 1);
    size_t n = text ? fread(text, 1, DCFG_MAX_FILE + 1, f) : 0;
    bool bad = !text || ferror(f);
    fclose(f);
    if (bad || n > DCFG_MAX_FILE) {
        snprintf(err, errlen, bad ? "cannot read (a folder?)" : "larger than %d bytes", DCFG_MAX_FILE);
        free(text);
        return false;
    }
    bool ok = detect_cfg_parse(c, text, n, err, errlen);
    free(text);
    return ok;
}

bool detect_cfg_trusted(const struct detect_cfg *c, const struct ip_addr *ip)
{
    for (unsigned i = 0; i < c->n_trusted; i++) {
        const struct det_cidr *r = &c->trusted[i];
        unsigned full = r->prefix / 8, rest = r->prefix % 8;
        if (memcmp(ip->b, r->net.b, full))
            continue;
        if (rest && ((ip->b[full] ^ r->net.b[full]) & (uint8_t)(0xff << (8 - rest))))
            continue;
        return true;
    }
    return false;
}
