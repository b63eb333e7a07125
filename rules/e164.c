/*
 * e164.c - the E.164 country-code table and dialed-number normalisation
 * (e164.h). The table is small (a few hundred rows): a sorted array and a
 * longest-prefix search of at most seven probes per number.
 */
#include "rules/e164.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/embedded.h"

#define E164_MAX_ROWS 4096

struct e164_table {
    struct e164_code *v;
    unsigned n;
};

static int cmp_code(const void *a, const void *b)
{
    return strcmp(((const struct e164_code *)a)->prefix, ((const struct e164_code *)b)->prefix);
}

/* Next tab-separated field of line [p, end): copied bounded into out. */
static const char *field(const char *p, const char *end, char *out, size_t cap, bool *ok)
{
    const char *q = p;
    while (q < end && *q != '\t')
        q++;
    size_t n = (size_t)(q - p);
    if (n >= cap) {
        *ok = false;
        n = cap - 1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return q < end ? q + 1 : q;
}

struct e164_table *e164_load(const char *text, size_t n, char *err, size_t errlen)
{
    struct e164_table *t = calloc(1, sizeof *t);
    if (t)
        t->v = calloc(E164_MAX_ROWS, sizeof *t->v);
    if (!t || !t->v) {
        snprintf(err, errlen, "out of memory");
        e164_free(t);
        return NULL;
    }
    const char *p = text, *end = text + n;
    unsigned line = 0;
    bool header = false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *l = p;
        p = nl ? nl + 1 : end;
        if (le > l && le[-1] == '\r')
            le--;
        if (le == l || *l == '#')
            continue;
        if (!header) { /* the column names */
            header = true;
            continue;
        }
        if (t->n == E164_MAX_ROWS) {
            snprintf(err, errlen, "line %u: more than %d rows", line, E164_MAX_ROWS);
            e164_free(t);
            return NULL;
        }
        struct e164_code *c = &t->v[t->n];
        char risk[16];
        bool ok = true;
        const char *f = field(l, le, c->prefix, sizeof c->prefix, &ok);
        f = field(f, le, c->iso2, sizeof c->iso2, &ok);
        f = field(f, le, c->country, sizeof c->country, &ok);
        field(f, le, risk, sizeof risk, &ok);
        bool digits = c->prefix[0] != '\0';
        for (const char *d = c->prefix; *d; d++)
            digits = digits && *d >= '0' && *d <= '9';
        if (!strcmp(risk, "normal"))
            c->risk = E164_RISK_NORMAL;
        else if (!strcmp(risk, "high"))
            c->risk = E164_RISK_HIGH;
        else if (!strcmp(risk, "premium"))
            c->risk = E164_RISK_PREMIUM;
        else
            ok = false;
        if (!ok || !digits) {
            snprintf(err, errlen, "line %u: want prefix<TAB>iso2<TAB>country<TAB>normal|high|premium",
                     line);
            e164_free(t);
            return NULL;
        }
        t->n++;
    }
    qsort(t->v, t->n, sizeof *t->v, cmp_code);
    return t;
}

struct e164_table *e164_load_bundled(char *err, size_t errlen)
{
    const struct embedded_file *f = embedded_get("e164-country-codes.tsv");
    if (!f) {
        snprintf(err, errlen, "E.164 table not compiled in");
        return NULL;
    }
    return e164_load((const char *)f->data, f->len, err, errlen);
}

void e164_free(struct e164_table *t)
{
    if (!t)
        return;
    free(t->v);
    free(t);
}

unsigned e164_count(const struct e164_table *t) { return t->n; }

const struct e164_code *e164_lookup(const struct e164_table *t, const char *digits)
{
    struct e164_code key;
    size_t n = strlen(digits);
    for (size_t k = n < sizeof key.prefix - 1 ? n : sizeof key.prefix - 1; k > 0; k--) {
        memcpy(key.prefix, digits, k);
        key.prefix[k] = '\0';
        const struct e164_code *c = bsearch(&key, t->v, t->n, sizeof *t->v, cmp_code);
        if (c)
            return c;
    }
    return NULL;
}

static bool starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

bool e164_parse(const struct e164_table *t, struct slice user, const char *const *outside,
                struct e164_number *out)
{
    memset(out, 0, sizeof *out);
    size_t n = 0;
    bool plus = false;
    for (size_t i = 0; i < user.n; i++) {
        uint8_t c = user.p[i];
        if (c >= '0' && c <= '9') {
            /* Digits past the longest E.164 number are padding a switch may
             * ignore: keep the first ones, do not let padding hide the call. */
            if (n < E164_MAX_DIGITS)
                out->digits[n++] = (char)c;
        } else if (c == '+' && n == 0 && !plus) {
            plus = true;
        } else if ((c == '#' || c == '*' || c == ';' || c == ',') && n > 0) {
            break; /* end of dialing, DTMF after a pause, or URI parameters */
        } else if (!(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')')) {
            return false;
        }
    }
    if (n == 0)
        return false;
    out->digits[n] = '\0';
    const char *d = out->digits;
    if (plus) {
        out->international = true;
        out->national = d;
    } else {
        /* Outside-line digits, then 00 or 011: "9" + "00252..." is Somalia.
         * A NANP dial-around carrier code (101XXXX) may come first too. */
        static const char *const none[] = { "", NULL };
        char cic[8] = "";
        const char *cic_list[] = { cic, NULL };
        if (n > 7 + 3 && starts(d, "101")) {
            memcpy(cic, d, 7);
            cic[7] = '\0';
        }
        for (unsigned pass = 0; pass < 3 && !out->international; pass++) {
            const char *const *list = pass == 0 ? none : pass == 1 ? outside : cic[0] ? cic_list : NULL;
            for (unsigned i = 0; list && list[i] && !out->international; i++) {
                if (!starts(d, list[i]))
                    continue;
                const char *r = d + strlen(list[i]);
                const char *ip = starts(r, "011") ? "011" : starts(r, "00") ? "00" : NULL;
                if (ip && strlen(r) > strlen(ip) + 2) {
                    out->international = true;
                    snprintf(out->outside, sizeof out->outside, "%s", list[i]);
                    out->national = r + strlen(ip);
                }
            }
        }
    }
    if (out->international)
        out->code = e164_lookup(t, out->national);
    return true;
}

const char *e164_risk_name(unsigned risk)
{
    static const char *const names[] = { "normal", "high", "premium" };
    return risk < 3 ? names[risk] : "normal";
}
