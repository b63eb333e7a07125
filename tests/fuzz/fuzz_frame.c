/*
 * fuzz_frame.c - libFuzzer target for whole frames through the real engine:
 * decode -> IPv4/IPv6 reassembly and TCP (libnids) -> SIP -> state, with no
 * sinks. libnids is process-global, so one engine lives across all inputs and
 * is finished (streams, dialogs, sources flushed) when the process exits.
 *
 * Input: byte 0 picks the link type among those input_linktype_supported()
 * accepts; then frames, each a 3-byte record header (length, big-endian u16;
 * flags: bits 0-6 seconds since the previous frame, bit 7 "cut by snaplen")
 * and its bytes. The last frame takes what is left when the length lies.
 */
#include <pcap/dlt.h>

#include "main/engine.h"
#include "tests/fuzz/fuzz.h"

static const int linktypes[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101,
                                 DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP };
#define N_LINKTYPES (sizeof linktypes / sizeof linktypes[0])

static struct engine *eng;
static uint64_t now_us = 1700000000000000ull; /* capture time, carried across inputs */
static uint64_t frames_fed;

static void finish(void)
{
    engine_finish(eng); /* flushes TCP streams, calls, registrations, sources */
    engine_free(eng);
    eng = NULL;
}

static void setup(void)
{
    char err[256];
    for (size_t i = 0; i < N_LINKTYPES; i++)
        FUZZ_CHECK(input_linktype_supported(linktypes[i]));
    eng = engine_new(NULL, 0, NULL, err, sizeof err);
    if (!eng) {
        fprintf(stderr, "fuzz_frame: engine_new: %s\n", err);
        abort();
    }
    atexit(finish);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!eng)
        setup();
    if (size < 1)
        return 0;
    int linktype = linktypes[data[0] % N_LINKTYPES];
    struct slice in = sl_drop(sl_make(data, size), 1);
    while (in.n >= 3) {
        size_t len = (size_t)in.p[0] << 8 | in.p[1];
        uint8_t flags = in.p[2];
        in = sl_drop(in, 3);
        struct slice bytes = sl_prefix(in, len);
        in = sl_drop(in, bytes.n);
        now_us += (uint64_t)(flags & 0x7f) * 1000000u + 1;
        struct frame f = { .ts_us = now_us, .caplen = (uint32_t)bytes.n,
                           .len = (uint32_t)bytes.n + ((flags & 0x80) ? 1000 : 0),
                           .linktype = linktype, .data = bytes.p };
        engine_frame(eng, &f, 0);
        frames_fed++;
    }
    const struct capture_stats *cs = engine_capture_stats(eng);
    const struct engine_counters *ec = engine_counters(eng);
    FUZZ_CHECK(cs->frames == frames_fed);
    FUZZ_CHECK(ec->sip_malformed <= ec->sip_messages);
    FUZZ_CHECK(ec->hep_messages <= cs->hep);
    return 0;
}
