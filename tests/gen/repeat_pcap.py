#!/usr/bin/env python3
"""repeat_pcap.py IN OUT N - write OUT, a classic pcap holding N copies of IN's
frames, each copy shifted in time past the previous one, for `make bench`.
Copies keep their bytes (so Call-IDs repeat across copies; the state sees
retransmission-like traffic, which is the cheap path: the benchmark measures
decode + parse + store throughput, not state growth)."""
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            e = "<"
        else:
            e = ">"
        nano = struct.unpack(e + "I", hdr[:4])[0] == 0xA1B23C4D
        out = []
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                break
            s, us, cap, ln = struct.unpack(e + "IIII", rh)
            data = f.read(cap)
            if nano:
                us //= 1000
            out.append((s * 1000000 + us, ln, data))
        linktype = struct.unpack(e + "I", hdr[20:24])[0]
        return linktype, out


def main():
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    linktype, fr = frames(src)
    span = fr[-1][0] - fr[0][0] + 1000000
    with open(dst, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i in range(n):
            off = i * span
            for ts, ln, data in fr:
                t = ts + off
                f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(data), ln))
                f.write(data)


main()
