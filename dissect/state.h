/*
 * state.h - SIP state between the parser and the sinks: transactions
 * (retransmissions), INVITE dialogs (calls), REGISTER transactions, digest
 * exchanges and per-source profiles. The engine calls only the first part of
 * this header; the second part is shared by the state modules (txn.c,
 * dialog.c, reg.c, auth.c, rules/profile.c) and is not for anyone else.
 *
 * Time is always capture time (l4_meta.ts_us), never the wall clock. Every
 * table is a lib/table.h bounded table: fixed capacity, LRU eviction, expiry
 * by capture time. An entry that leaves a table before its event was emitted
 * (expired, evicted, flushed) is emitted on the way out, so nothing is lost.
 */
#ifndef SIPSIFT_STATE_H
#define SIPSIFT_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/capture.h"
#include "dissect/sip.h"
#include "lib/slice.h"
#include "output/sink.h"

/* ---- The engine's API ------------------------------------------------- */

struct state_cfg {
    /* Capacities (entries). */
    uint32_t max_transactions;  /* RFC 3261 §17 transactions (262144) */
    uint32_t max_dialogs;       /* each of the two dialog tables: early, confirmed (131072) */
    uint32_t max_registrations; /* REGISTER transactions waiting for a final response (65536) */
    uint32_t max_nonces;        /* digest challenges by nonce (65536) */
    uint32_t max_auth_pending;  /* requests with credentials waiting for a final response (32768) */
    uint32_t max_sources;       /* source profiles (65536) */
    uint32_t max_source_pairs;  /* each of (source, destination IP) and (source, user) sets (262144) */
    /* Idle timeouts, µs of capture time (0 = never expire). */
    uint64_t txn_idle_us;              /* 64*T1 = 32 s (RFC 3261 §17.1.1.2 Timer B, §17.1.2.2 F) */
    uint64_t dialog_idle_unanswered_us; /* early dialogs: 180 s (Timer C is > 3 min, §16.6) */
    uint64_t dialog_idle_answered_us;   /* confirmed dialogs: 2 h without any message */
    uint64_t reg_idle_us;              /* REGISTER without final response: 32 s */
    uint64_t auth_idle_us;             /* credentials without final response: 32 s */
    uint64_t nonce_idle_us;            /* a challenge's nonce unused for 15 min */
    uint64_t source_idle_us;           /* 0: profiles leave only by LRU or at the end */
};

void state_default_cfg(struct state_cfg *cfg);

struct dialog;

/*
 * What the detection stage (rules/detect.c) learns from the state besides
 * the messages themselves: outcomes that only the state can tie together.
 * Each is called before the event goes to the sinks. Callbacks may be NULL.
 */
struct st_observer {
    void *ctx;
    /* A message, after every state module has taken it (profiles updated). */
    void (*sip)(void *ctx, const struct ev_sip *e);
    /* Capture time advanced (after the state's own expiry). */
    void (*tick)(void *ctx, uint64_t now_us);
    /* A digest attempt's outcome; may set e->password (valid until it returns). */
    void (*auth)(void *ctx, struct ev_auth *e);
    void (*registration)(void *ctx, const struct ev_registration *e);
    void (*call)(void *ctx, const struct ev_call *e);
    /* A BYE or CANCEL (retransmissions left out) and its open dialog, NULL when none. */
    void (*teardown)(void *ctx, const struct l4_meta *m, const struct sip_msg *msg,
                     const struct dialog *d);
};

/*
 * Sinks are borrowed: the state copies the array of n_sinks (ops, self)
 * pairs but never frees a sink. obs (may be NULL) is copied. Returns NULL on
 * allocation failure. Owner: the caller, free with state_free.
 */
struct state *state_new(const struct state_cfg *cfg, struct sink *sinks, unsigned n_sinks,
                        const struct st_observer *obs);

/* The source profiles, for the detection stage's verdicts (rules/profile.h). */
struct src_profiles *state_profiles(struct state *st);

/* The number the next ev_sip gets is this + 1 (the last one emitted). */
uint64_t state_last_sip_id(const struct state *st);

/*
 * One SIP message (retransmissions included): decide retransmission, emit
 * ev_sip to every sink, then update transactions, dialogs, registrations,
 * digest exchanges and the source profile. msg's slices are only read during
 * the call.
 */
void state_on_sip(struct state *st, const struct l4_meta *m, const struct sip_msg *msg);

/*
 * Media of calls (the engine's stream table, dissect/media.h): a stream was
 * recognised for s->call_id (the call lists its id); an RFC 4733 key was
 * seen on a stream of call_id (the call's DTMF, in time order with SIP INFO
 * keys); a stream ended (ev_rtp to every sink).
 */
void state_on_rtp_start(struct state *st, const struct media_stream *s);
void state_on_dtmf(struct state *st, struct slice call_id, char key, uint64_t ts_us);
void state_on_rtp_end(struct state *st, const struct media_stream *s);

/* Capture time advanced: expire every table, then call every sink's tick. */
void state_tick(struct state *st, uint64_t now_us);

/*
 * End of input: emit every open digest exchange, registration and call (by
 * what was seen), then every source profile; all tables are empty after.
 */
void state_finish(struct state *st);

/* Emit ev_source for every profile now, keeping them (live mode refresh). */
void state_emit_sources(struct state *st);

/*
 * Table pressure as JSON text: {"transactions":{"count":..,"peak":..,
 * "capacity":..,"expired":..,"evicted":..},"dialogs_early":{..},...}.
 * Returns the length of the whole text (like snprintf: >= n means buf was too
 * small and holds a truncated text), or -1 on a formatting error.
 */
int state_limits_json(const struct state *st, char *buf, size_t n);

void state_free(struct state *st);

/* ---- Shared by the state modules only --------------------------------- */

/*
 * A 128-bit key for the tables: each identifying field (branch, sent-by,
 * Call-ID, ...) goes in as its length and keyed SipHash (lib/table.h), and
 * the key is two keyed SipHashes of that. Fixed-size keys keep entries small
 * whatever an attacker puts in a branch or Call-ID, nothing is cut, and the
 * keyed hash cannot be aimed at one bucket.
 */
#define ST_KEY_BUF 256 /* 21 fields; more are ignored (callers use at most 7) */

struct st_key {
    uint64_t h[2];
};

struct st_keybuf {
    uint8_t b[ST_KEY_BUF + 1];
    size_t n;
};

static inline void st_kb_init(struct st_keybuf *kb) { kb->n = 0; }
void st_kb_add(struct st_keybuf *kb, struct slice field);
void st_kb_u32(struct st_keybuf *kb, uint32_t v);
struct st_key st_kb_key(struct st_keybuf *kb);

/*
 * Bounded copies of attacker strings, made once when an entry is created:
 * length + bytes (the bytes may hold NULs), cut at the array size.
 */
#define ST_STR(cap)         \
    struct {                \
        uint16_t n;         \
        uint8_t b[cap];     \
    }

static inline void st_copy(uint8_t *b, uint16_t *n, size_t cap, struct slice s)
{
    size_t k = s.n < cap ? s.n : cap;
    if (k)
        memcpy(b, s.p, k);
    *n = (uint16_t)k;
}

#define st_set(dst, s) st_copy((dst).b, &(dst).n, sizeof (dst).b, (s))
#define st_sl(x) sl_make((x).b, (x).n)

/* The sinks every module emits to (callbacks may be NULL). */
struct st_sinks {
    struct sink *v;
    unsigned n;
    const struct st_observer *obs; /* never NULL inside the state */
};

void st_emit_call(const struct st_sinks *o, const struct ev_call *e);
void st_emit_registration(const struct st_sinks *o, const struct ev_registration *e);
void st_emit_auth(const struct st_sinks *o, struct ev_auth *e);
void st_emit_source(const struct st_sinks *o, const struct ev_source *e);

/* The n-th header with this id (0-based), without the parser's helpers. */
const struct sip_header *st_header(const struct sip_msg *msg, uint8_t id, unsigned nth);

#endif
