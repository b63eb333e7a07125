/*
 * fuzz_pcap.c - libFuzzer target for the capture file reader: the input is a
 * whole file (pcap through libpcap, pcapng through our block reader pcapng.c),
 * written to a memfd and opened by path with input_open, then read to the end
 * with input_next. Some inputs also get a BPF filter (the pcapng per-link path).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "capture/input.h"
#include "tests/fuzz/fuzz.h"

#define MAX_FRAMES 100000

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        fd = memfd_create("fuzz_pcap", 0);
        FUZZ_CHECK(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);

    char err[512] = "";
    /* The size decides, so a crash reproduces from the file alone. */
    const char *bpf = size % 3 == 0 ? "udp or tcp" : NULL;
    struct input *in = input_open(path, bpf, err, sizeof err);
    if (!in) {
        FUZZ_CHECK(err[0] != '\0'); /* a failure always says why */
        return 0;
    }
    FUZZ_CHECK(input_link_name(in)[0] != '\0');
    struct frame f;
    int rc;
    unsigned n = 0;
    volatile uint8_t sink = 0;
    while (n < MAX_FRAMES && (rc = input_next(in, &f, err, sizeof err)) == 1) {
        n++;
        /* Every captured byte must be readable (ASan checks the buffer's end). */
        for (uint32_t i = 0; i < f.caplen; i++)
            sink ^= f.data[i];
        FUZZ_CHECK(f.caplen <= size); /* a frame cannot hold more than the file */
    }
    if (n < MAX_FRAMES && rc < 0)
        FUZZ_CHECK(err[0] != '\0');
    uint64_t done, total;
    input_progress(in, &done, &total);
    FUZZ_CHECK(total == size && done <= size);
    input_close(in);
    (void)sink;
    return 0;
}
