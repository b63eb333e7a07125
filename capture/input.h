/*
 * input.h - opening offline captures (pcap, pcapng, "-" for stdin) and
 * reading their frames in order, with an optional BPF filter. pcapng files
 * whose interfaces have different link types (libpcap 1.10 refuses them) are
 * read by our own block reader (pcapng.c). Live interfaces: see live.h.
 */
#ifndef SIPSIFT_INPUT_H
#define SIPSIFT_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One captured frame; data is valid until the next input_next(). */
struct frame {
    uint64_t ts_us;
    uint32_t caplen, len;
    int linktype;          /* DLT_* of the interface that captured it */
    const uint8_t *data;
};

struct input;

/*
 * Open a capture file ("-" = stdin). bpf may be NULL or "". On failure returns
 * NULL and writes a one-line reason (no "sipsift:" prefix) into err.
 */
struct input *input_open(const char *path, const char *bpf, char *err, size_t errlen);

/* 1 = a frame, 0 = end of input, -1 = read error (reason in err; frames
 * returned before it are valid: a truncated file yields everything before the cut). */
int input_next(struct input *in, struct frame *f, char *err, size_t errlen);

/* Link type name of the (first) interface, e.g. "EN10MB", "LINUX_SLL2". */
const char *input_link_name(const struct input *in);
/* Bytes consumed so far and file size (0 when unknown: stdin, pipe). */
void input_progress(const struct input *in, uint64_t *done, uint64_t *total);
void input_close(struct input *in);

/* True when sipsift's decoder handles this DLT. */
bool input_linktype_supported(int linktype);

#endif
