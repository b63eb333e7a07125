/*
 * dump.c - --dump-calls: a pcap per call, a WAV per G.711 stream (dump.h).
 * Calls and streams are bounded tables; file handles are a small pool lent
 * to whichever file writes, the least recently used closed (and reopened to
 * append) when the pool is short. Names are built only from safe bytes.
 */
#include "output/dump.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dissect/rtp.h"
#include "lib/table.h"

#define NAME_MAX_BYTES 224 /* every name we build fits, extension included */
#define MAX_LINKTYPES  8

enum warn_kind { W_FILES = 1, W_BYTES = 2, W_ERROR = 4, W_LINKTYPE = 8 };

/* Who holds a pool slot: the owner's slot field (1-based, 0 = none). */
struct slot {
    uint16_t *owner;
    pcap_dumper_t *pd; /* a call's pcap */
    FILE *f;           /* a stream's WAV */
    uint64_t used;
};

struct dcall {
    char name[NAME_MAX_BYTES];  /* file name without extension */
    uint64_t last_frame;        /* one frame holding several messages is written once */
    int linktype;               /* of the pcap, set when created */
    bool created, failed;
    uint16_t slot;
};

struct dstream {
    char name[NAME_MAX_BYTES];
    bool skip, wav_created, wav_failed, started;
    uint8_t pt, silence;
    uint16_t slot;
    uint32_t ts0;
    uint64_t samples;           /* bytes of audio written (one byte a sample) */
};

struct dump {
    struct dump_cfg cfg;
    char *dir;
    struct table *calls, *streams;
    struct slot *slots;
    uint64_t use_clock;
    struct { int dlt; pcap_t *p; } dead[MAX_LINKTYPES];
    unsigned n_dead;
    unsigned warned;
    struct dump_stats st;
};

void dump_default_cfg(struct dump_cfg *c)
{
    *c = (struct dump_cfg){ .dir = NULL, .max_calls = DUMP_MAX_CALLS, .max_open = DUMP_MAX_OPEN,
                            .max_files = DUMP_MAX_FILES, .max_bytes = DUMP_MAX_BYTES, .warn = NULL };
}

static void warn_once(struct dump *d, unsigned kind, const char *fmt, const char *a, const char *b)
{
    if (d->warned & kind)
        return;
    d->warned |= kind;
    if (!d->cfg.warn)
        return;
    fprintf(d->cfg.warn, "sipsift: --dump-calls %s: ", d->dir);
    fprintf(d->cfg.warn, fmt, a ? a : "", b ? b : "");
    fputc('\n', d->cfg.warn);
    fflush(d->cfg.warn);
}

size_t dump_safe_name(struct slice s, size_t max, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n && n < max; i++) {
        uint8_t c = s.p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out[n++] = ok ? (char)c : '_';
    }
    if (n == 0) {
        memcpy(out, "unknown", 8);
        return 7;
    }
    out[n] = 0;
    return n;
}

/* ---- the handle pool ----------------------------------------------------- */

static void slot_close(struct dump *d, struct slot *s)
{
    if (s->pd) {
        FILE *f = pcap_dump_file(s->pd);
        if (f && (fflush(f) != 0 || ferror(f))) {
            d->st.errors++;
            warn_once(d, W_ERROR, "writing a call pcap: %s%s", strerror(errno ? errno : EIO), NULL);
        }
        pcap_dump_close(s->pd);
    }
    if (s->f && fclose(s->f) != 0) {
        d->st.errors++;
        warn_once(d, W_ERROR, "writing a WAV: %s%s", strerror(errno ? errno : EIO), NULL);
    }
    if (s->owner)
        *s->owner = 0;
    *s = (struct slot){ 0 };
}

static void release(struct dump *d, uint16_t *owner)
{
    if (*owner)
        slot_close(d, &d->slots[*owner - 1]);
}

/* A free slot for owner, the least recently used one closed if need be. */
static struct slot *slot_take(struct dump *d, uint16_t *owner)
{
    unsigned best = 0;
    for (unsigned i = 0; i < d->cfg.max_open; i++) {
        if (!d->slots[i].owner) {
            best = i;
            goto found;
        }
        if (d->slots[i].used < d->slots[best].used)
            best = i;
    }
    slot_close(d, &d->slots[best]);
found:
    d->slots[best].owner = owner;
    d->slots[best].used = ++d->use_clock;
    *owner = (uint16_t)(best + 1);
    return &d->slots[best];
}

static void path_of(const struct dump *d, const char *name, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s%s", d->dir, name, ext);
}

/* Create name+ext anew (never over an existing file: a later run, or a
 * Call-ID reused, gets "-2"...). False past the file limit or on error. */
static bool create_file(struct dump *d, char *name, const char *ext, int *fd_out)
{
    if (d->st.files >= d->cfg.max_files) {
        char n[32];
        snprintf(n, sizeof n, "%u", d->cfg.max_files);
        warn_once(d, W_FILES, "%s files written, the limit: later calls and streams get no file%s", n, NULL);
        return false;
    }
    size_t base = strnlen(name, NAME_MAX_BYTES - 8);
    char path[PATH_MAX];
    for (unsigned k = 1; k <= 9; k++) {
        if (k > 1)
            snprintf(name + base, NAME_MAX_BYTES - base, "-%u", k);
        path_of(d, name, ext, path, sizeof path);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            d->st.files++;
            *fd_out = fd;
            return true;
        }
        if (errno != EEXIST)
            break;
    }
    d->st.errors++;
    warn_once(d, W_ERROR, "creating %s: %s", path, strerror(errno));
    return false;
}

/* Room for n more bytes under the byte limit. */
static bool budget(struct dump *d, uint64_t n)
{
    if (d->st.bytes + n <= d->cfg.max_bytes)
        return true;
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)d->cfg.max_bytes);
    warn_once(d, W_BYTES, "%s bytes written, the limit: the rest of the run is not dumped%s", b, NULL);
    return false;
}

/* ---- call pcaps ---------------------------------------------------------- */

static pcap_t *dead_for(struct dump *d, int dlt)
{
    for (unsigned i = 0; i < d->n_dead; i++)
        if (d->dead[i].dlt == dlt)
            return d->dead[i].p;
    if (d->n_dead == MAX_LINKTYPES)
        return NULL;
    pcap_t *p = pcap_open_dead(dlt, 262144);
    if (p)
        d->dead[d->n_dead++] = (typeof(d->dead[0])){ dlt, p };
    return p;
}

static void call_removed(void *ctx, void *value, enum table_why why)
{
    (void)why;
    struct dcall *c = value;
    release(ctx, &c->slot);
}

/* Write frame f to call c's pcap, created (with f's link type) on first use. */
static void call_write(struct dump *d, struct dcall *c, const struct frame *f, uint64_t frame_no)
{
    if (c->last_frame == frame_no)
        return;
    c->last_frame = frame_no;
    if (c->failed || !budget(d, 16 + (uint64_t)f->caplen + (c->created ? 0 : 24))) {
        d->st.frames_skipped++;
        return;
    }
    if (c->created && f->linktype != c->linktype) {
        /* one link type per pcap file; a call seen on two interfaces of
         * different types keeps the first */
        d->st.frames_skipped++;
        warn_once(d, W_LINKTYPE, "frames of a call on another link type than its first are not dumped%s%s",
                  NULL, NULL);
        return;
    }
    char path[PATH_MAX];
    if (!c->slot) {
        pcap_t *dead = dead_for(d, f->linktype);
        int fd;
        if (!dead) {
            d->st.frames_skipped++;
            return;
        }
        if (!c->created) {
            if (!create_file(d, c->name, ".pcap", &fd)) {
                c->failed = true;
                d->st.frames_skipped++;
                return;
            }
            close(fd);
            c->created = true;
            c->linktype = f->linktype;
            d->st.bytes += 24;
        } else {
            d->st.reopens++;
        }
        path_of(d, c->name, ".pcap", path, sizeof path);
        /* an empty file gets the header; an existing one is appended to */
        pcap_dumper_t *pd = pcap_dump_open_append(dead, path);
        if (!pd) {
            c->failed = true;
            d->st.errors++;
            d->st.frames_skipped++;
            warn_once(d, W_ERROR, "opening %s: %s", path, pcap_geterr(dead));
            return;
        }
        slot_take(d, &c->slot)->pd = pd;
    }
    struct slot *s = &d->slots[c->slot - 1];
    s->used = ++d->use_clock;
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(f->ts_us / 1000000u);
    h.ts.tv_usec = (suseconds_t)(f->ts_us % 1000000u);
    h.caplen = f->caplen;
    h.len = f->len;
    pcap_dump((u_char *)s->pd, &h, f->data);
    d->st.bytes += 16 + (uint64_t)f->caplen;
    d->st.frames++;
}

static struct dcall *call_find(struct dump *d, struct slice call_id, uint64_t now, bool create,
                               const struct sip_msg *msg)
{
    /* keyed by the Call-ID as the stream table keeps it (MEDIA_CALL_ID_MAX) */
    struct slice k = sl_prefix(call_id, MEDIA_CALL_ID_MAX - 1);
    if (!create)
        return table_get(d->calls, k.p, k.n, now);
    bool created;
    struct dcall *c = table_put(d->calls, k.p, k.n, now, &created);
    if (!c || !created)
        return c;
    d->st.calls++;
    /* 20100815-120001_alice_bob_a84b4c76e66710.pcap: start, parties, Call-ID */
    char when[32], from[DUMP_NAME_USER_MAX + 8], to[DUMP_NAME_USER_MAX + 8], cid[DUMP_NAME_CALL_ID_MAX + 8];
    time_t t = (time_t)(now / 1000000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(when, sizeof when, "%Y%m%d-%H%M%S", &tm))
        snprintf(when, sizeof when, "0");
    dump_safe_name(msg->from.uri.user, DUMP_NAME_USER_MAX, from);
    dump_safe_name(msg->to.uri.user, DUMP_NAME_USER_MAX, to);
    dump_safe_name(call_id, DUMP_NAME_CALL_ID_MAX, cid);
    snprintf(c->name, sizeof c->name, "%s_%s_%s_%s", when, from, to, cid);
    return c;
}

void dump_sip(struct dump *d, const struct sip_msg *msg, const struct frame *f, uint64_t frame_no)
{
    if (!d || !f || sl_empty(msg->call_id))
        return;
    bool initial = msg->is_request && msg->method_id == SIP_M_INVITE && sl_empty(msg->to.tag);
    struct dcall *c = call_find(d, msg->call_id, f->ts_us, initial, msg);
    if (c)
        call_write(d, c, f, frame_no);
}

/* ---- G.711 WAVs ---------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* RIFF/WAVE with a non-PCM fmt chunk (18 bytes) and the fact chunk it needs:
 * format tag 7 mu-law or 6 A-law, 8000 Hz, mono, 8 bits. */
static void wav_header(uint8_t h[DUMP_WAV_HEADER], bool alaw, uint32_t samples)
{
    memcpy(h, "RIFF\0\0\0\0WAVEfmt ", 16);
    put32(h + 4, DUMP_WAV_HEADER - 8 + samples);
    put32(h + 16, 18);
    h[20] = alaw ? 6 : 7, h[21] = 0;  /* WAVE_FORMAT_ALAW / WAVE_FORMAT_MULAW */
    h[22] = 1, h[23] = 0;             /* channels */
    put32(h + 24, 8000);              /* samples per second */
    put32(h + 28, 8000);              /* bytes per second */
    h[32] = 1, h[33] = 0;             /* block align */
    h[34] = 8, h[35] = 0;             /* bits per sample */
    h[36] = 0, h[37] = 0;             /* no extra format bytes */
    memcpy(h + 38, "fact", 4);
    put32(h + 42, 4);
    put32(h + 46, samples);
    memcpy(h + 50, "data", 4);
    put32(h + 54, samples);
}

static void wav_finish(struct dump *d, struct dstream *s)
{
    release(d, &s->slot);
    if (!s->wav_created || s->wav_failed)
        return;
    char path[PATH_MAX];
    path_of(d, s->name, ".wav", path, sizeof path);
    uint8_t h[DUMP_WAV_HEADER];
    uint32_t n = s->samples > UINT32_MAX - DUMP_WAV_HEADER ? UINT32_MAX - DUMP_WAV_HEADER : (uint32_t)s->samples;
    wav_header(h, s->silence == 0xD5, n);
    FILE *f = fopen(path, "r+be");
    bool ok = f && fwrite(h, 1, sizeof h, f) == sizeof h;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok) {
        d->st.errors++;
        warn_once(d, W_ERROR, "writing %s: %s", path, strerror(errno ? errno : EIO));
    }
    s->wav_failed = true; /* finished: nothing more is written to it */
}

static void stream_removed(void *ctx, void *value, enum table_why why)
{
    (void)why;
    wav_finish(ctx, value);
}

static bool is_codec(const char *codec, const char *name)
{
    return strncasecmp(codec, name, 5) == 0;
}

static bool wav_write(struct dump *d, struct dstream *s, const uint8_t *p, size_t n)
{
    if (!budget(d, n))
        return false;
    if (!s->slot) {
        char path[PATH_MAX];
        path_of(d, s->name, ".wav", path, sizeof path);
        FILE *f = fopen(path, "abe");
        if (!f) {
            d->st.errors++;
            warn_once(d, W_ERROR, "opening %s: %s", path, strerror(errno));
            return false;
        }
        d->st.reopens++;
        slot_take(d, &s->slot)->f = f;
    }
    struct slot *sl = &d->slots[s->slot - 1];
    sl->used = ++d->use_clock;
    if (fwrite(p, 1, n, sl->f) != n) {
        d->st.errors++;
        warn_once(d, W_ERROR, "writing %s.wav: %s", s->name, strerror(errno ? errno : EIO));
        return false;
    }
    d->st.bytes += n;
    return true;
}

/* Audio placed by RTP timestamp (one byte a sample at 8000 Hz): a gap is
 * filled with silence up to DUMP_WAV_MAX_GAP, a longer jump (a new talk
 * spurt after a restart) just continues; a late packet fills nothing twice. */
static void wav_packet(struct dump *d, struct dstream *s, const struct dcall *c, const struct media_stream *ms,
                       struct slice p)
{
    struct rtp_hdr h;
    if (s->wav_failed || !rtp_parse(p, &h, NULL) || h.pt != ms->payload_type || h.payload.n == 0)
        return;
    if (!s->wav_created) {
        bool alaw = is_codec(ms->codec, "PCMA");
        if (!alaw && !is_codec(ms->codec, "PCMU")) {
            s->wav_failed = true; /* not G.711: no WAV */
            return;
        }
        char name[NAME_MAX_BYTES];
        snprintf(name, sizeof name, "%.160s_rtp%llu_%08X_%s", c->name, (unsigned long long)ms->id,
                 (unsigned)ms->ssrc, alaw ? "PCMA" : "PCMU");
        memcpy(s->name, name, sizeof s->name);
        int fd;
        uint8_t hdr[DUMP_WAV_HEADER];
        wav_header(hdr, alaw, 0);
        if (!budget(d, sizeof hdr) || !create_file(d, s->name, ".wav", &fd)) {
            s->wav_failed = true;
            return;
        }
        FILE *f = fdopen(fd, "wb");
        if (!f || fwrite(hdr, 1, sizeof hdr, f) != sizeof hdr) {
            if (f)
                fclose(f);
            else
                close(fd);
            s->wav_failed = true;
            d->st.errors++;
            warn_once(d, W_ERROR, "writing %s.wav: %s", s->name, strerror(errno ? errno : EIO));
            return;
        }
        d->st.bytes += sizeof hdr;
        d->st.wavs++;
        slot_take(d, &s->slot)->f = f;
        s->wav_created = true;
        s->silence = alaw ? 0xD5 : 0xFF; /* G.711 zero level */
    }
    if (!s->started) {
        s->started = true;
        s->ts0 = h.ts;
    }
    uint32_t off = h.ts - s->ts0;
    if ((int32_t)off < 0)
        return; /* before the first packet */
    struct slice pl = h.payload;
    if (off > s->samples) {
        uint64_t gap = off - s->samples;
        if (gap > DUMP_WAV_MAX_GAP) {
            s->ts0 = h.ts - (uint32_t)s->samples;
        } else {
            static uint8_t fill[1024];
            while (gap) {
                size_t k = gap < sizeof fill ? (size_t)gap : sizeof fill;
                memset(fill, s->silence, k);
                if (!wav_write(d, s, fill, k))
                    return;
                s->samples += k;
                gap -= k;
            }
        }
    } else if (off < s->samples) {
        uint64_t dup = s->samples - off;
        if (dup >= pl.n)
            return;
        pl = sl_drop(pl, (size_t)dup);
    }
    if (wav_write(d, s, pl.p, pl.n))
        s->samples += pl.n;
}

void dump_media(struct dump *d, const struct media_stream *ms, struct slice p, const struct frame *f,
                uint64_t frame_no)
{
    if (!d || !ms || !f || !ms->call_id[0])
        return;
    /* keyed as call_find keys it; a stream whose call is not followed is
     * remembered as such, so it costs one lookup a packet */
    struct slice cid = sl_prefix(sl_cstr(ms->call_id), MEDIA_CALL_ID_MAX - 1);
    bool created;
    struct dstream *s = table_put(d->streams, &ms->id, sizeof ms->id, f->ts_us, &created);
    if (!s)
        return;
    if (created)
        s->skip = !table_peek(d->calls, cid.p, cid.n);
    if (s->skip)
        return;
    struct dcall *c = table_get(d->calls, cid.p, cid.n, f->ts_us);
    if (!c)
        return;
    call_write(d, c, f, frame_no);
    /* RTCP (RFC 5761 §4) has no audio */
    if (p.n >= 2 && !(p.p[1] >= 192 && p.p[1] <= 223))
        wav_packet(d, s, c, ms, p);
}

void dump_stream_end(struct dump *d, const struct media_stream *ms)
{
    if (!d)
        return;
    struct dstream *s = table_peek(d->streams, &ms->id, sizeof ms->id);
    if (s)
        table_del(d->streams, s);
}

/* ---- life cycle ---------------------------------------------------------- */

struct dump *dump_new(const struct dump_cfg *cfg, char *err, size_t errlen)
{
    const char *dir = cfg->dir ? cfg->dir : "";
    struct stat sb;
    if (!*dir || stat(dir, &sb) != 0) {
        snprintf(err, errlen, "--dump-calls %s: %s", dir, *dir ? strerror(errno) : "no directory given");
        return NULL;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "--dump-calls %s: not a directory", dir);
        return NULL;
    }
    /* Writable? Only creating a file tells (root, read-only mounts, ACLs). */
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/.sipsift-probe-XXXXXX", dir);
    int fd = mkstemp(probe);
    if (fd < 0) {
        snprintf(err, errlen, "--dump-calls %s: cannot create files there: %s", dir, strerror(errno));
        return NULL;
    }
    close(fd);
    unlink(probe);

    struct dump *d = calloc(1, sizeof *d);
    if (!d || !(d->dir = strdup(dir))) {
        free(d);
        snprintf(err, errlen, "--dump-calls %s: out of memory", dir);
        return NULL;
    }
    d->cfg = *cfg;
    if (d->cfg.max_open == 0)
        d->cfg.max_open = 1;
    if (d->cfg.max_open > UINT16_MAX - 1)
        d->cfg.max_open = UINT16_MAX - 1;
    d->slots = calloc(d->cfg.max_open, sizeof *d->slots);
    struct table_cfg tc = { .name = "dump_calls", .capacity = cfg->max_calls ? cfg->max_calls : 1,
                            .value_size = sizeof(struct dcall), .key_max = MEDIA_CALL_ID_MAX - 1,
                            .idle_us = DUMP_CALL_IDLE_SEC * 1000000ull, .on_remove = call_removed, .ctx = d };
    d->calls = table_new(&tc);
    tc = (struct table_cfg){ .name = "dump_streams", .capacity = MEDIA_MAX_STREAMS,
                             .value_size = sizeof(struct dstream), .key_max = sizeof(uint64_t),
                             .idle_us = (MEDIA_IDLE_SEC + 60) * 1000000ull, .on_remove = stream_removed,
                             .ctx = d };
    d->streams = table_new(&tc);
    if (!d->slots || !d->calls || !d->streams) {
        dump_free(d);
        snprintf(err, errlen, "--dump-calls %s: out of memory", dir);
        return NULL;
    }
    return d;
}

void dump_tick(struct dump *d, uint64_t now_us)
{
    if (!d)
        return;
    table_expire(d->streams, now_us);
    table_expire(d->calls, now_us);
}

void dump_finish(struct dump *d)
{
    if (!d)
        return;
    table_flush(d->streams);
    table_flush(d->calls);
    for (unsigned i = 0; i < d->cfg.max_open; i++)
        if (d->slots[i].owner)
            slot_close(d, &d->slots[i]);
}

const struct dump_stats *dump_stats(const struct dump *d) { return &d->st; }

void dump_free(struct dump *d)
{
    if (!d)
        return;
    if (d->slots)
        for (unsigned i = 0; i < d->cfg.max_open; i++)
            if (d->slots[i].owner)
                slot_close(d, &d->slots[i]);
    table_free(d->streams);
    table_free(d->calls);
    for (unsigned i = 0; i < d->n_dead; i++)
        pcap_close(d->dead[i].p);
    free(d->slots);
    free(d->dir);
    free(d);
}
