/*
 * input.c - opens capture files and stdin and hands out their frames in order,
 * BPF-filtered. Classic pcap is read by libpcap; every pcapng by our block
 * reader (pcapng.c), filtered per link type with pcap_offline_filter, because
 * libpcap 1.10 refuses pcapng files whose interfaces differ in link type.
 * Error texts say what is wrong and the fix; the caller prefixes the file name.
 */
#include "capture/input.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/pcapng.h"

/* Distinct link types one pcapng may mix before we give up compiling filters. */
#define INPUT_MAX_LINKTYPES 16

struct link_filter {
    int linktype;
    struct bpf_program prog;
};

/* A pipe cannot be rewound after we peek at its magic: this stdio cookie
 * hands the peeked bytes back first, then the rest of the pipe. */
struct replay {
    FILE *under;
    uint8_t head[4];
    size_t n_head, pos;
    uint64_t consumed; /* bytes handed out, for progress on pipes */
};

struct input {
    pcap_t *pcap;      /* classic pcap: libpcap reads (and closes) fp */
    struct pcapng *ng; /* pcapng: our reader on fp, which we close */
    FILE *fp;
    bool is_stdin;
    struct replay *replay; /* set when reading a pipe (freed with its FILE) */
    uint64_t total;        /* file size, 0 when unknown */
    int linktype;          /* first interface's DLT, -1 if none */
    char link_name[32];
    char *bpf; /* pcapng only: the expression, compiled per link type */
    struct link_filter filters[INPUT_MAX_LINKTYPES];
    unsigned n_filters;
    uint64_t frames; /* frames returned (after filtering), for error messages */
};

static ssize_t replay_read(void *c, char *buf, size_t size)
{
    struct replay *r = c;
    size_t n = 0;
    while (n < size && r->pos < r->n_head)
        buf[n++] = (char)r->head[r->pos++];
    if (n < size) {
        size_t got = fread(buf + n, 1, size - n, r->under);
        if (got == 0 && n == 0 && ferror(r->under))
            return -1;
        n += got;
    }
    r->consumed += n;
    return (ssize_t)n;
}

static int replay_close(void *c)
{
    struct replay *r = c;
    if (r->under != stdin)
        fclose(r->under);
    free(r);
    return 0;
}

/* The first bytes say what the file is; compressed files get the command that fixes them. */
static bool check_magic(const uint8_t m[4], bool *pcapng, char *err, size_t errlen)
{
    static const struct {
        uint8_t b[4];
        uint8_t n;
        const char *what;
    } packed[] = {
        { { 0x1f, 0x8b }, 2, "gzip-compressed: gunzip it first" },
        { { 0xfd, '7', 'z', 'X' }, 4, "xz-compressed: unxz it first" },
        { { 0x28, 0xb5, 0x2f, 0xfd }, 4, "zstd-compressed: unzstd it first" },
        { { 'B', 'Z', 'h' }, 3, "bzip2-compressed: bunzip2 it first" },
    };
    uint32_t le =
        (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
    uint32_t be = __builtin_bswap32(le);
    *pcapng = le == 0x0A0D0D0Au;
    if (*pcapng)
        return true;
    /* pcap in µs, ns, and Kuznetzov's modified format, in either byte order. */
    static const uint32_t pcap_magic[] = { 0xA1B2C3D4u, 0xA1B23C4Du, 0xA1B2CD34u };
    for (size_t i = 0; i < sizeof pcap_magic / sizeof pcap_magic[0]; i++)
        if (le == pcap_magic[i] || be == pcap_magic[i])
            return true;
    for (size_t i = 0; i < sizeof packed / sizeof packed[0]; i++)
        if (memcmp(m, packed[i].b, packed[i].n) == 0) {
            snprintf(err, errlen, "%s", packed[i].what);
            return false;
        }
    snprintf(err, errlen, "not a pcap or pcapng file (it starts with %02x %02x %02x %02x)", m[0],
             m[1], m[2], m[3]);
    return false;
}

/* Open path (or stdin), check its magic and leave it positioned at the start. */
static FILE *open_stream(struct input *in, const char *path, bool *pcapng, char *err, size_t errlen)
{
    FILE *fp;
    struct stat st;
    if (in->is_stdin) {
        fp = stdin;
        if (fstat(fileno(stdin), &st) == 0 && S_ISREG(st.st_mode))
            in->total = (uint64_t)st.st_size;
    } else {
        if (stat(path, &st) != 0) {
            snprintf(err, errlen, "%s", errno == ENOENT ? "no such file" : strerror(errno));
            return NULL;
        }
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, errlen,
                     "is a directory, not a capture file (name a .pcap or .pcapng inside it)");
            return NULL;
        }
        if (S_ISREG(st.st_mode))
            in->total = (uint64_t)st.st_size;
        fp = fopen(path, "rb");
        if (!fp) {
            snprintf(err, errlen, "%s",
                     errno == EACCES ? "permission denied: this user cannot read it"
                                     : strerror(errno));
            return NULL;
        }
    }
    long start = ftell(fp);
    uint8_t m[4];
    size_t n = fread(m, 1, 4, fp);
    bool ok = false;
    if (n == 0 && ferror(fp))
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
    else if (n == 0)
        snprintf(err, errlen, "%s",
                 in->is_stdin ? "empty input: no capture header" : "empty file: no capture header");
    else if (n < 4)
        snprintf(err, errlen, "too short (%zu bytes) to be a pcap or pcapng file", n);
    else
        ok = check_magic(m, pcapng, err, errlen);
    if (!ok) {
        if (fp != stdin)
            fclose(fp);
        return NULL;
    }
    if (start >= 0 && fseek(fp, start, SEEK_SET) == 0)
        return fp;
    /* A pipe: hand the four bytes back through a cookie stream. */
    struct replay *r = calloc(1, sizeof *r);
    FILE *c = r ? fopencookie(r, "rb",
                              (cookie_io_functions_t){ .read = replay_read, .close = replay_close })
                : NULL;
    if (!c) {
        free(r);
        if (fp != stdin)
            fclose(fp);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->under = fp;
    memcpy(r->head, m, 4);
    r->n_head = 4;
    in->replay = r;
    return c;
}

/* libpcap's wording for a cut file, reworded with the frame count and the way out. */
static void pcap_read_error(const struct input *in, const char *why, char *err, size_t errlen)
{
    if (strncmp(why, "truncated dump file", 19) == 0)
        snprintf(err, errlen,
                 "truncated: the file ends in the middle of a record, after %llu frames (the "
                 "capture was cut short; everything before the cut was read)",
                 (unsigned long long)in->frames);
    else
        snprintf(err, errlen, "corrupt record after %llu frames: %s",
                 (unsigned long long)in->frames, why);
}

/* Compiled filter for a link type (pcapng: each interface may differ). */
static const struct bpf_program *filter_for(struct input *in, int linktype, char *err,
                                            size_t errlen)
{
    for (unsigned i = 0; i < in->n_filters; i++)
        if (in->filters[i].linktype == linktype)
            return &in->filters[i].prog;
    if (in->n_filters == INPUT_MAX_LINKTYPES) {
        snprintf(err, errlen, "more than %d link types in one file: split it with editcap",
                 INPUT_MAX_LINKTYPES);
        return NULL;
    }
    pcap_t *dead = pcap_open_dead(linktype, 65535);
    if (!dead) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    struct link_filter *lf = &in->filters[in->n_filters];
    if (pcap_compile(dead, &lf->prog, in->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "bad filter expression '%s' for link type %s: %s", in->bpf,
                 pcap_datalink_val_to_name(linktype) ? pcap_datalink_val_to_name(linktype) : "?",
                 pcap_geterr(dead));
        pcap_close(dead);
        return NULL;
    }
    pcap_close(dead); /* the program does not refer to the handle */
    lf->linktype = linktype;
    in->n_filters++;
    return &lf->prog;
}

static void input_free(struct input *in)
{
    if (in->pcap)
        pcap_close(in->pcap); /* closes fp unless it is stdin */
    else if (in->fp && in->fp != stdin)
        fclose(in->fp);
    pcapng_close(in->ng);
    for (unsigned i = 0; i < in->n_filters; i++)
        pcap_freecode(&in->filters[i].prog);
    free(in->bpf);
    free(in);
}

struct input *input_open(const char *path, const char *bpf, char *err, size_t errlen)
{
    struct input *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    in->is_stdin = strcmp(path, "-") == 0;
    in->linktype = -1;
    bool pcapng = false;
    in->fp = open_stream(in, path, &pcapng, err, errlen);
    if (!in->fp) {
        free(in);
        return NULL;
    }
    bool want_filter = bpf && *bpf;
    if (pcapng) {
        in->ng = pcapng_open(in->fp, err, errlen);
        if (!in->ng)
            goto fail;
        in->linktype = pcapng_first_linktype(in->ng);
        if (want_filter) {
            in->bpf = strdup(bpf);
            /* Compile now so a typo fails at open, not at the first packet. */
            if (!in->bpf ||
                !filter_for(in, in->linktype >= 0 ? in->linktype : DLT_EN10MB, err, errlen))
                goto fail;
        }
    } else {
        char ebuf[PCAP_ERRBUF_SIZE] = "";
        in->pcap = pcap_fopen_offline(in->fp, ebuf);
        if (!in->pcap) {
            if (strncmp(ebuf, "truncated dump file", 19) == 0)
                snprintf(err, errlen, "truncated: the file ends inside its pcap header");
            else
                snprintf(err, errlen, "cannot read as pcap: %s", ebuf);
            goto fail;
        }
        in->linktype = pcap_datalink(in->pcap);
        if (!input_linktype_supported(in->linktype)) {
            const char *ln = pcap_datalink_val_to_name(in->linktype);
            snprintf(err, errlen,
                     "link type %s (%d) is not supported: sipsift reads Ethernet, Linux cooked "
                     "v1/v2, raw IP and BSD null/loopback captures",
                     ln ? ln : "unknown", in->linktype);
            goto fail;
        }
        if (want_filter) {
            struct bpf_program prog;
            if (pcap_compile(in->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
                snprintf(err, errlen, "bad filter expression '%s': %s", bpf, pcap_geterr(in->pcap));
                goto fail;
            }
            int rc = pcap_setfilter(in->pcap, &prog);
            pcap_freecode(&prog);
            if (rc != 0) {
                snprintf(err, errlen, "cannot apply filter '%s': %s", bpf, pcap_geterr(in->pcap));
                goto fail;
            }
        }
    }
    const char *name = in->linktype >= 0 ? pcap_datalink_val_to_name(in->linktype) : "none";
    if (name)
        snprintf(in->link_name, sizeof in->link_name, "%s", name);
    else
        snprintf(in->link_name, sizeof in->link_name, "DLT_%d", in->linktype);
    return in;
fail:
    input_free(in);
    return NULL;
}

int input_next(struct input *in, struct frame *f, char *err, size_t errlen)
{
    if (in->pcap) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(in->pcap, &h, &data);
        if (rc == PCAP_ERROR_BREAK)
            return 0; /* end of file */
        if (rc != 1) {
            pcap_read_error(in, pcap_geterr(in->pcap), err, errlen);
            return -1;
        }
        in->frames++;
        f->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        f->caplen = h->caplen;
        f->len = h->len;
        f->linktype = in->linktype;
        f->data = data;
        return 1;
    }
    for (;;) {
        struct pcapng_frame pf;
        int rc = pcapng_next(in->ng, &pf, err, errlen);
        if (rc != 1)
            return rc;
        if (in->bpf) {
            const struct bpf_program *prog = filter_for(in, pf.linktype, err, errlen);
            if (!prog)
                return -1;
            struct pcap_pkthdr ph = { .caplen = pf.caplen, .len = pf.len };
            if (!pcap_offline_filter(prog, &ph, pf.data))
                continue;
        }
        in->frames++;
        f->ts_us = pf.ts_us;
        f->caplen = pf.caplen;
        f->len = pf.len;
        f->linktype = pf.linktype;
        f->data = pf.data;
        return 1;
    }
}

const char *input_link_name(const struct input *in) { return in->link_name; }

void input_progress(const struct input *in, uint64_t *done, uint64_t *total)
{
    long pos = -1;
    if (in->ng)
        pos = (long)pcapng_offset(in->ng);
    else if (in->pcap && !in->replay)
        pos = ftell(pcap_file(in->pcap));
    if (pos < 0 && in->replay)
        pos = (long)in->replay->consumed;
    *done = pos > 0 ? (uint64_t)pos : 0;
    *total = in->total;
}

void input_close(struct input *in)
{
    if (in)
        input_free(in);
}

bool input_linktype_supported(int linktype)
{
    switch (linktype) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_RAW:
    case 101: /* LINKTYPE_RAW, as some writers leave it */
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
        return true;
    default:
        return false;
    }
}
