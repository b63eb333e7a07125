/*
 * fingerprint.h - tool traits that carry data (FINGERPRINTS.md), decoded
 * from one request: SIPVicious hides its target, the extension or the
 * password it tried in the From tag; the fake eyeBeam scanner builds its Via
 * branch and Call-ID from the scanner address, the victim address and the
 * dialed number. Pure functions over the parsed message: no state.
 */
#ifndef SIPSIFT_FINGERPRINT_H
#define SIPSIFT_FINGERPRINT_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "lib/ipaddr.h"
#include "lib/slice.h"

#define FP_TEXT_MAX 128 /* decoded tag text kept */

/* What a SIPVicious From tag says (hex text, 0x01, decimal digits). */
enum fp_sv_kind {
    FP_SV_NONE,     /* not a SIPVicious tag */
    FP_SV_TARGET,   /* svmap: the probe's target address and port */
    FP_SV_EXTENSION,/* svwar: the extension tried */
    FP_SV_GUESS,    /* svcrack: user:password of the guess */
};

struct fp_sipvicious {
    uint8_t kind;                 /* enum fp_sv_kind */
    char text[FP_TEXT_MAX + 1];   /* the decoded text (NUL-terminated; NULs inside refused) */
    struct ip_addr target;        /* FP_SV_TARGET */
    uint16_t target_port;
    char user[FP_TEXT_MAX + 1];   /* FP_SV_GUESS: before the first ':' */
    char password[FP_TEXT_MAX + 1]; /* FP_SV_GUESS: after it */
};

/*
 * Decode the From tag of a request. The kind follows from the text and the
 * request: 12 hex digits = svmap target; "user:password" on a request with
 * credentials = svcrack guess; otherwise the text is an svwar extension.
 */
bool fp_sipvicious_tag(const struct sip_msg *msg, struct fp_sipvicious *out);

/* The fake eyeBeam scanner's decoded fields. */
struct fp_eyebeam {
    char scanner[IP_STRLEN];     /* the first address in the branch */
    char victim[IP_STRLEN];      /* the one after it */
    char number[33];             /* the Request-URI user, found again in the Call-ID */
};

/*
 * The fake eyeBeam scanner: an eyeBeam User-Agent with a Via branch that is
 * not RFC 3261's (no z9hG4bK) made of 0/1 digits running into an address the
 * message names elsewhere (Via sent-by, or the packet's source), followed by
 * the victim's (Request-URI host, or the packet's destination). A genuine
 * CounterPath phone never matches.
 */
bool fp_eyebeam_fake(const struct l4_meta *m, const struct sip_msg *msg, struct fp_eyebeam *out);

/*
 * SIPp's own identifiers (sip-tester 3.6.1): Call-ID "N-PID@host" and Via
 * branch "z9hG4bK-PID-N-M". A test tool, not an attack by itself.
 */
bool fp_sipp(const struct sip_msg *msg);

#endif
