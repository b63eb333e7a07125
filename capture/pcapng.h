/*
 * pcapng.h - our own pcapng block reader, used by input.c for every pcapng
 * file: libpcap 1.10 refuses files whose interfaces have different link types
 * (mergecap output), and one code path for all pcapng is easier to trust.
 * It reads; it does not filter (input.c applies BPF per link type).
 */
#ifndef SIPSIFT_PCAPNG_H
#define SIPSIFT_PCAPNG_H

#include <stdint.h>
#include <stdio.h>

/* Largest block we accept (libpcap's own limit): a bigger length is corruption. */
#define PCAPNG_MAX_BLOCK_BYTES (16u * 1024 * 1024)
/* Interfaces per section; each IDB costs a few bytes, this only stops a runaway file. */
#define PCAPNG_MAX_INTERFACES 65536u

struct pcapng_frame {
    uint64_t ts_us;
    uint32_t caplen, len;
    int linktype;        /* DLT_* (LINKTYPE_RAW 101 is given as DLT_RAW, as libpcap does) */
    uint32_t interface;  /* interface index within its section */
    const uint8_t *data; /* valid until the next pcapng_next() */
};

struct pcapng;

/*
 * Start reading fp (positioned at the Section Header Block; not closed by us).
 * Reads up to the first Interface Description Block so the first link type is
 * known. NULL on failure with a one-line reason in err.
 */
struct pcapng *pcapng_open(FILE *fp, char *err, size_t errlen);

/* 1 = a frame, 0 = end of file, -1 = corrupt or truncated (reason in err). */
int pcapng_next(struct pcapng *r, struct pcapng_frame *f, char *err, size_t errlen);

/* Link type of the first interface of the first section, -1 if none yet. */
int pcapng_first_linktype(const struct pcapng *r);
/* Bytes of the file consumed so far. */
uint64_t pcapng_offset(const struct pcapng *r);
void pcapng_close(struct pcapng *r);

#endif
