/*
 * fuzz_hep.c - libFuzzer target for hep_parse (HEP v1/v2/v3): the input is one
 * UDP payload, parsed as a whole packet and as one the capture's snaplen cut.
 * The inner payload must lie inside the input; what it carries goes to sip_parse.
 */
#include "capture/hep.h"
#include "dissect/sip.h"
#include "tests/fuzz/fuzz.h"

static struct sip_msg msg;

static void one(struct slice in, uint8_t outer_flags)
{
    struct l4_meta outer = { .ts_us = 1700000000000000ull, .sport = 9060, .dport = 9060,
                             .proto = 17, .flags = outer_flags, .vlan = 7, .input = 1,
                             .frame = 42 };
    struct hep_msg h;
    int r = hep_parse(in, &outer, &h);
    FUZZ_CHECK(r >= -1 && r <= 1);
    FUZZ_CHECK((r != 0) == hep_looks_like(in)); /* 0 means exactly "not HEP" */
    if (r != 1)
        return;
    FUZZ_INSIDE(h.payload, in);
    FUZZ_CHECK(h.inner.flags & L4_F_HEP);
    /* Where and when the outer packet was seen is kept, whatever HEP says. */
    FUZZ_CHECK(h.inner.frame == outer.frame && h.inner.input == outer.input &&
               h.inner.vlan == outer.vlan);
    /* Only a cut outer packet may yield a cut inner one. */
    FUZZ_CHECK(!(h.inner.flags & L4_F_TRUNCATED) || (outer_flags & L4_F_TRUNCATED));
    size_t used;
    if (h.payload_type == 1 && sip_looks_like(h.payload) &&
        sip_parse(h.payload, SIP_DGRAM, &msg, &used) == SIP_OK) {
        FUZZ_INSIDE(msg.raw, h.payload);
        FUZZ_CHECK(used >= 1 && used <= h.payload.n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct slice in = sl_make(data, size);
    one(in, 0);
    one(in, L4_F_TRUNCATED | L4_F_TUNNEL);
    return 0;
}
