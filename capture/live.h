/*
 * live.h - live capture on a network interface (a mirror port): libpcap
 * opened with pcap_create/pcap_activate, promiscuous, non-blocking, with a
 * selectable descriptor for the caller's poll loop and the kernel's drop
 * counters. It reads; the loop, the clock and the outputs are main/live.c's.
 * Offline files are input.h's.
 */
#ifndef SIPSIFT_LIVE_H
#define SIPSIFT_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/input.h"

#define LIVE_DEFAULT_SNAPLEN    65535
#define LIVE_MIN_SNAPLEN        68      /* IPv6 + TCP headers: less cannot hold SIP */
#define LIVE_MAX_SNAPLEN        262144  /* libpcap's own maximum */
#define LIVE_DEFAULT_BUFFER_MIB 64      /* kernel ring (DEPENDENCIES.md: 64-256 for a mirror port) */
#define LIVE_MAX_BUFFER_MIB     4096
/* Without immediate mode the kernel hands over a block of packets when it is
 * full or this old: the most a packet waits before sipsift sees it. */
#define LIVE_TIMEOUT_MS         100

struct live_cfg {
    int snaplen;    /* bytes kept per frame */
    int buffer_mib; /* kernel ring size */
    bool immediate; /* deliver each packet at once (the ring then holds far fewer packets) */
};

/* pcap_stats since the interface was opened, widened to 64 bits (libpcap's
 * counters are 32-bit and wrap within hours on a busy link). */
struct live_stats {
    uint64_t recv;   /* packets the kernel received for us, dropped ones included */
    uint64_t drop;   /* dropped because the ring was full: sipsift was too slow */
    uint64_t ifdrop; /* dropped by the interface or its driver before the kernel saw them */
};

struct live;

/*
 * Open and activate iface with the BPF filter bpf (NULL or "" = none). On
 * failure NULL and a one-line reason with the fix in err (no "sipsift:"
 * prefix; a bad filter's reason contains "filter"). A warning from libpcap
 * (e.g. promiscuous mode not supported) is kept for live_warning.
 * Owner: the caller, release with live_close.
 */
struct live *live_open(const char *iface, const char *bpf, const struct live_cfg *cfg, char *err,
                       size_t errlen);

/* The descriptor to poll for input (POLLIN). */
int live_fd(const struct live *l);

/* 1 = a frame (valid until the next call), 0 = none waiting now, -1 = the
 * capture failed (interface gone or down: reason in err). */
int live_next(struct live *l, struct frame *f, char *err, size_t errlen);

/* Refresh the 64-bit counters from pcap_stats (call at least once a minute
 * so a 32-bit counter cannot wrap twice unseen) and return them. */
const struct live_stats *live_stats(struct live *l);

const char *live_link_name(const struct live *l);
/* libpcap's activation warning, or NULL. */
const char *live_warning(const struct live *l);
void live_close(struct live *l);

#endif
