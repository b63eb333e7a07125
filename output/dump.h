/*
 * dump.h - --dump-calls DIR: one pcap per call with its SIP and RTP/RTCP
 * frames as captured (like pcapsipdump), and one WAV per G.711 stream with
 * the RTP payload as sent (mu-law or A-law, no transcoding). Does not decide
 * what is SIP or RTP: the engine hands over each message or packet with the
 * frame it came in. Bounded: calls followed, open files, files and bytes.
 */
#ifndef SIPSIFT_DUMP_H
#define SIPSIFT_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/input.h"
#include "dissect/media.h"
#include "dissect/sip.h"
#include "lib/slice.h"

#define DUMP_MAX_CALLS        4096            /* calls followed at once (LRU) */
#define DUMP_CALL_IDLE_SEC    7200            /* a call with no frame for this long is dropped */
#define DUMP_MAX_OPEN         32              /* files open at once; others closed, reopened to append */
#define DUMP_MAX_FILES        10000           /* files created per run */
#define DUMP_MAX_BYTES        (1ull << 30)    /* bytes written per run (1 GiB) */
#define DUMP_WAV_MAX_GAP      (8000u * 10)    /* samples of silence filled for a timestamp jump */
#define DUMP_NAME_USER_MAX    32              /* bytes of each party in a file name */
#define DUMP_NAME_CALL_ID_MAX 64              /* bytes of the Call-ID in a file name */
#define DUMP_WAV_HEADER       58              /* RIFF, fmt (18), fact, data headers */

struct dump_cfg {
    const char *dir;
    uint32_t max_calls, max_open, max_files;
    uint64_t max_bytes;
    FILE *warn;               /* one line per limit or error hit ("sipsift: --dump-calls ..."); NULL: silent */
};

struct dump_stats {
    uint64_t calls;           /* calls followed (initial INVITEs) */
    uint64_t files;           /* files created (pcap and WAV) */
    uint64_t wavs;
    uint64_t bytes;           /* bytes written */
    uint64_t frames;          /* frames written to call pcaps */
    uint64_t frames_skipped;  /* not written: limits, another link type, write errors */
    uint64_t reopens;         /* files reopened after their handle was lent to another */
    uint64_t errors;          /* files that could not be created or written */
};

/* Defaults above; dir NULL. */
void dump_default_cfg(struct dump_cfg *cfg);
/*
 * NULL with a reason in err ("--dump-calls DIR: <why>") when DIR is missing,
 * not a directory or not writable (a file is created and removed to know).
 * Owner: the caller, free with dump_free after dump_finish.
 */
struct dump *dump_new(const struct dump_cfg *cfg, char *err, size_t errlen);
void dump_free(struct dump *d);

/* A SIP message that came in frame f (number frame_no in the run; f may be
 * NULL: TCP flushed at the end). An initial INVITE starts a call's pcap. */
void dump_sip(struct dump *d, const struct sip_msg *msg, const struct frame *f, uint64_t frame_no);
/* An RTP or RTCP datagram (UDP payload p) of stream s (media_last_stream). */
void dump_media(struct dump *d, const struct media_stream *s, struct slice p, const struct frame *f,
                uint64_t frame_no);
/* Stream s ended: its WAV gets its final sizes. */
void dump_stream_end(struct dump *d, const struct media_stream *s);
void dump_tick(struct dump *d, uint64_t now_us);
/* End of run: finish every WAV, close every file. */
void dump_finish(struct dump *d);
const struct dump_stats *dump_stats(const struct dump *d);

/* The bytes of s kept for a file name: [A-Za-z0-9._-] as they are, any
 * other byte '_', at most max bytes, "unknown" when empty. Returns the
 * length written to out (out has max + 1 bytes at least). */
size_t dump_safe_name(struct slice s, size_t max, char *out);

#endif
