/*
 * e164.h - where a dialed number goes: strip what a caller types around an
 * E.164 number (separators, outside-line digits, the international prefix
 * 00 / 011 / +), then find its country calling code by longest prefix in the
 * bundled table (rules/e164-country-codes.tsv, compiled in) with the risk the
 * table gives it (normal, high, premium). ATTACKS.md "tollfraud".
 */
#ifndef SIPSIFT_E164_H
#define SIPSIFT_E164_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/slice.h"

#define E164_MAX_DIGITS 32 /* digits kept of a dialed number */

enum e164_risk { E164_RISK_NORMAL, E164_RISK_HIGH, E164_RISK_PREMIUM };

struct e164_code {
    char prefix[8];     /* country calling code, digits */
    char iso2[3];       /* ISO 3166 alpha-2, "" for international networks */
    char country[64];
    unsigned char risk; /* enum e164_risk */
};

/* What a dialed user part turned out to be. */
struct e164_number {
    char digits[E164_MAX_DIGITS + 1]; /* the user part's digits, separators removed */
    bool international;               /* an international prefix was dialed */
    char outside[8];                  /* outside-line digits stripped first ("" if none) */
    const char *national;             /* digits after the international prefix (in digits[]) */
    const struct e164_code *code;     /* NULL when national or unknown */
};

struct e164_table;

/*
 * Parse the table text (TSV: prefix, iso2, country, risk; # comments, a
 * header line). NULL with "line N: why" in err on a bad table or no memory.
 */
struct e164_table *e164_load(const char *text, size_t n, char *err, size_t errlen);
/* The table compiled into the binary. */
struct e164_table *e164_load_bundled(char *err, size_t errlen);
void e164_free(struct e164_table *t);
unsigned e164_count(const struct e164_table *t);

/* The longest country code that prefixes digits (NUL-terminated digits), or NULL. */
const struct e164_code *e164_lookup(const struct e164_table *t, const char *digits);

/*
 * Read a dialed user part (attacker bytes): keep digits, drop the visual
 * separators " -.()" (RFC 3966), stop at '#', '*', ';' or ',' after a digit,
 * keep the first E164_MAX_DIGITS digits (padding does not hide a number),
 * reject anything else (a name is not a number). outside is a comma-free list of outside-line prefixes tried
 * longest first (e.g. {"900","9","0","8",NULL}); an international prefix may
 * follow one. False when user is not a dialable number.
 */
bool e164_parse(const struct e164_table *t, struct slice user, const char *const *outside,
                struct e164_number *out);

const char *e164_risk_name(unsigned risk);

#endif
