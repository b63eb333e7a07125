#!/usr/bin/python3
"""make_seeds.py - (re)build the seed corpora in tests/fuzz/corpus/<target>/ from
tests/sip-torture/ and the captures under pcaps/ (stdlib only: struct parsing of
pcap/pcapng, link, IP, UDP and TCP). Seeds are deduplicated by shape and capped so
the committed set stays small. Usage: tests/fuzz/make_seeds.py"""
import glob
import hashlib
import os
import re
import struct
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
# Per-target budget in bytes, and the largest seed kept (larger ones are skipped).
BUDGET = {"sip": 120000, "sdp": 40000, "digest": 12000, "uri": 10000, "hep": 30000,
          "frame": 100000, "pcap": 90000}
MAX_SEED = {"sip": 8000, "sdp": 4000, "digest": 600, "uri": 400, "hep": 4000,
            "frame": 6000, "pcap": 12000}
# fuzz_frame.c's link type table, in its order: byte 0 of a frame seed.
FRAME_LINKTYPES = [1, 113, 276, 12, 101, 228, 229, 0, 108]
LINKTYPE_RAW_ALIASES = {14: 12}  # DLT_RAW is 14 on some BSDs

# ---- capture files ----------------------------------------------------------


def read_capture(path):
    """[(linktype, frame bytes)] of a pcap or pcapng file; [] when unreadable."""
    data = open(path, "rb").read()
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(data)
    for end in ("<", ">"):
        (m,) = struct.unpack(end + "I", magic)
        if m in (0xA1B2C3D4, 0xA1B23C4D):
            lt = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
            out, off = [], 24
            while off + 16 <= len(data):
                incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
                out.append((lt, data[off + 16:off + 16 + incl]))
                off += 16 + incl
            return out
    return []


def pcapng_blocks(data):
    """[(type, whole block bytes, endian)]; stops at the first broken block."""
    out, off, end = [], 0, "<"
    while off + 12 <= len(data):
        btype = data[off:off + 4]
        if btype == b"\x0a\x0d\x0d\x0a":
            end = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        (t,) = struct.unpack(end + "I", btype)
        (blen,) = struct.unpack(end + "I", data[off + 4:off + 8])
        if blen < 12 or off + blen > len(data):
            break
        out.append((t, data[off:off + blen], end))
        off += blen
    return out


def read_pcapng(data):
    out, ifs = [], []
    for t, b, end in pcapng_blocks(data):
        if t == 0x0A0D0D0A:
            ifs = []
        elif t == 1:
            ifs.append(struct.unpack(end + "H", b[8:10])[0])
        elif t == 6 and len(b) >= 32:
            ifid, _, _, caplen = struct.unpack(end + "IIII", b[8:24])
            if ifid < len(ifs):
                out.append((ifs[ifid], b[28:28 + caplen]))
        elif t == 3 and ifs:
            out.append((ifs[0], b[12:-4]))
    return out


# ---- link, IP, transport ----------------------------------------------------


def l3_from_link(lt, f):
    """(ethertype-ish, bytes at the IP header) or None."""
    lt = LINKTYPE_RAW_ALIASES.get(lt, lt)
    if lt == 1:
        et, off = struct.unpack(">H", f[12:14])[0] if len(f) >= 14 else 0, 14
        while et in (0x8100, 0x88A8, 0x9100) and len(f) >= off + 4:
            et, off = struct.unpack(">H", f[off + 2:off + 4])[0], off + 4
        if et == 0x8864 and len(f) >= off + 8:  # PPPoE session, PPP protocol
            ppp = struct.unpack(">H", f[off + 6:off + 8])[0]
            et, off = {0x21: 0x0800, 0x57: 0x86DD}.get(ppp, 0), off + 8
        return et, f[off:]
    if lt == 113 and len(f) >= 16:
        return struct.unpack(">H", f[14:16])[0], f[16:]
    if lt == 276 and len(f) >= 20:
        return struct.unpack(">H", f[0:2])[0], f[20:]
    if lt in (12, 101, 228, 229):
        return (0x86DD if f[:1] and f[0] >> 4 == 6 else 0x0800), f
    if lt in (0, 108) and len(f) >= 4:
        return (0x86DD if f[4:5] and f[4] >> 4 == 6 else 0x0800), f[4:]
    return None


def l4(et, ip, depth=0):
    """(proto, payload) of the first UDP/TCP inside, or None (fragments skipped)."""
    if depth > 3 or not ip:
        return None
    if et == 0x0800 and len(ip) >= 20 and ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
        proto, body = ip[9], ip[ihl:max(total, ihl)]
    elif et == 0x86DD and len(ip) >= 40 and ip[0] >> 4 == 6:
        proto, body = ip[6], ip[40:40 + struct.unpack(">H", ip[4:6])[0]]
        while proto in (0, 43, 60) and len(body) >= 8:
            proto, body = body[0], body[(body[1] + 1) * 8:]
        if proto == 44:
            return None
    else:
        return None
    if proto == 17 and len(body) >= 8:
        return 17, body[8:]
    if proto == 6 and len(body) >= 20:
        return 6, body[(body[12] >> 4) * 4:]
    if proto == 4:
        return l4(0x0800, body, depth + 1)
    if proto == 41:
        return l4(0x86DD, body, depth + 1)
    if proto == 47 and len(body) >= 4:
        flags, gre_et = struct.unpack(">HH", body[:4])
        off = 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
        return l4(gre_et, body[off:], depth + 1)
    return None


def payloads(path):
    """[(proto, payload)] of every UDP datagram and TCP segment with data."""
    out = []
    for lt, f in read_capture(path):
        l3 = l3_from_link(lt, f)
        r = l4(*l3) if l3 else None
        if r and r[1]:
            out.append(r)
    return out


# ---- SIP helpers ------------------------------------------------------------

SIP_START = re.compile(rb"^(?:[A-Za-z]+ \S+ SIP/2\.0|SIP/2\.0 \d{3})")


def split_sip(msg):
    """(start line, [(name, value)], body) of one SIP message (unfolded, lenient)."""
    head, _, body = msg.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    hdrs = []
    for ln in lines[1:]:
        if ln[:1] in (b" ", b"\t") and hdrs:
            hdrs[-1] = (hdrs[-1][0], hdrs[-1][1] + b" " + ln.strip())
        elif b":" in ln:
            n, _, v = ln.partition(b":")
            hdrs.append((n.strip().lower(), v.strip()))
    return lines[0], hdrs, body


COMPACT = {b"f": b"from", b"t": b"to", b"m": b"contact", b"v": b"via", b"c": b"content-type",
           b"i": b"call-id", b"l": b"content-length"}

# ---- corpus writing ---------------------------------------------------------


class Corpus:
    def __init__(self, target):
        self.target, self.seeds, self.shapes, self.size = target, {}, set(), 0

    def add(self, data, shape=None):
        if not data or len(data) > MAX_SEED[self.target]:
            return False
        if self.size + len(data) > BUDGET[self.target]:
            return False
        shape = shape if shape is not None else data
        if shape in self.shapes:
            return False
        self.shapes.add(shape)
        name = hashlib.sha1(data).hexdigest()
        if name not in self.seeds:
            self.seeds[name] = data
            self.size += len(data)
        return True

    def write(self):
        d = os.path.join(OUT, self.target)
        os.makedirs(d, exist_ok=True)
        for old in os.listdir(d):
            if old not in self.seeds:
                os.unlink(os.path.join(d, old))
        for name, data in self.seeds.items():
            with open(os.path.join(d, name), "wb") as fh:
                fh.write(data)
        print("%-7s %4d seeds %7d bytes" % (self.target, len(self.seeds), self.size))


def captures():
    pats = ["pcaps/test/*.pcap", "pcaps/test/*/*.pcap", "pcaps/public/*/*.pcap*",
            "pcaps/public/*/*/*.pcap*", "pcaps/generated/*.pcap", "pcaps/demo.pcap"]
    files = []
    for p in pats:
        files += [f for f in glob.glob(os.path.join(ROOT, p)) if re.search(r"\.pcap(ng)?$", f)]
    # Small files first: they are the hand-picked edge cases.
    return sorted(set(files), key=lambda f: (os.path.getsize(f), f))


def sip_shape(msg):
    start, hdrs, body = split_sip(msg)
    names = tuple(sorted({COMPACT.get(n, n) for n, _ in hdrs}))
    ctype = dict(hdrs).get(b"content-type", b"")
    return (start.split(b" ")[0], names, ctype.split(b";")[0].lower(), bool(body))


def main():
    c = {t: Corpus(t) for t in BUDGET}
    torture = sorted(glob.glob(os.path.join(ROOT, "tests/sip-torture/*/*.dat")))
    sip_msgs = [open(f, "rb").read() for f in torture]
    for m in sip_msgs:  # every torture message: each is a different broken rule
        c["sip"].add(m, shape=("torture", m))

    caps = captures()
    hep_raw = []
    for path in caps:
        per_file = 0
        for proto, p in payloads(path):
            if p[:4] == b"HEP3" or (len(p) > 8 and p[0] in (1, 2) and p[2] in (2, 10)):
                hep_raw.append(p)
            elif SIP_START.match(p):
                sip_msgs.append(p)
                if per_file < 12 and c["sip"].add(p, shape=sip_shape(p)):
                    per_file += 1
    for p in hep_raw:
        c["hep"].add(p, shape=(p[:1], len(p) // 64))

    # Header values, bodies and credentials out of every SIP message seen.
    for m in sip_msgs:
        start, hdrs, body = split_sip(m)
        parts = start.split(b" ")
        if len(parts) == 3 and not start.startswith(b"SIP/"):
            c["uri"].add(parts[1])
        for n, v in hdrs:
            n = COMPACT.get(n, n)
            if n in (b"from", b"to", b"contact", b"via", b"cseq", b"route", b"record-route",
                     b"refer-to", b"p-asserted-identity"):
                c["uri"].add(v, shape=(n, re.sub(rb"[0-9a-zA-Z]", b"a", v)))
            if n in (b"authorization", b"proxy-authorization", b"www-authenticate",
                     b"proxy-authenticate"):
                keys = tuple(sorted(set(re.findall(rb"([A-Za-z-]+)\s*=", v))))
                c["digest"].add(v, shape=(n, keys, v.split(b" ")[0].lower()))
        ctype = dict(hdrs).get(b"content-type") or dict(hdrs).get(b"c")
        if body and ctype:
            lines = tuple(sorted({ln[:2] for ln in body.split(b"\n")}))
            c["sdp"].add(ctype + b"\n" + body, shape=(ctype.split(b";")[0].lower(), lines))
            if body.startswith(b"v=0"):
                c["sdp"].add(body, shape=("bare", lines))

    hand_made(c)
    hand_made_frames(c)
    hand_made_pcapng(c)

    # Frames: the first frames of every capture, in fuzz_frame.c's record format.
    for path in caps:
        frames = read_capture(path)
        if not frames:
            continue
        lt = LINKTYPE_RAW_ALIASES.get(frames[0][0], frames[0][0])
        if lt not in FRAME_LINKTYPES:
            continue
        rec = bytes([FRAME_LINKTYPES.index(lt)])
        for flt, f in frames[:16]:
            if flt != frames[0][0]:
                break
            rec += struct.pack(">HB", len(f), 0) + f
            if len(rec) > 3000:
                break
        c["frame"].add(rec, shape=os.path.basename(path))

    # Capture files: whole small ones, the first records of bigger ones.
    for path in caps:
        c["pcap"].add(shorten(open(path, "rb").read()), shape=os.path.basename(path))

    for t in c.values():
        t.write()


def shorten(data):
    """A capture cut after its first records (whole records/blocks only)."""
    limit = MAX_SEED["pcap"]
    if len(data) <= limit:
        return data
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        out = b""
        for _, b, _ in pcapng_blocks(data):
            if len(out) + len(b) > limit:
                break
            out += b
        return out
    end = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > limit:
            break
        off += 16 + incl
    return data[:off]


def hand_made(c):
    """Forms the captures may lack: HEP v2/v3 built around a SIP message, odd credentials."""
    sip = (b"OPTIONS sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK1\r\n"
           b"From: <sip:a@192.0.2.9>;tag=1\r\nTo: <sip:100@192.0.2.1>\r\nCall-ID: x@y\r\n"
           b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    v4 = bytes([2, 16, 2, 17]) + struct.pack(">HH", 5060, 5060) + bytes([192, 0, 2, 9, 192, 0, 2, 1])
    c["hep"].add(v4 + struct.pack("<IIH2x", 1700000000, 5, 7) + sip)
    v6 = bytes([2, 40, 10, 17]) + struct.pack(">HH", 5060, 5060) + bytes(15) + b"\1" + bytes(15) + b"\2"
    c["hep"].add(v6 + struct.pack("<IIH2x", 1700000000, 5, 7) + sip)

    def chunk(t, v):
        return struct.pack(">HHH", 0, t, 6 + len(v)) + v
    body = (chunk(1, b"\x02") + chunk(2, b"\x11") + chunk(3, bytes([192, 0, 2, 9])) +
            chunk(4, bytes([192, 0, 2, 1])) + chunk(7, b"\x13\xc4") + chunk(8, b"\x13\xc4") +
            chunk(9, struct.pack(">I", 1700000000)) + chunk(10, struct.pack(">I", 5)) +
            chunk(11, b"\x01") + chunk(12, struct.pack(">I", 2001)) +
            struct.pack(">HHH", 0x1234, 99, 8) + b"vv" + chunk(15, sip))
    c["hep"].add(b"HEP3" + struct.pack(">H", 6 + len(body)) + body)
    for cred in [b'Digest username="alice", realm="example.com", nonce="abc", uri="sip:x", '
                 b'response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="c", '
                 b'qop=auth, nc=00000001, opaque="o"',
                 b'Digest realm="r", nonce="n\\"q", stale=TRUE, domain="sip:a sip:b", qop="auth,auth-int"',
                 b"Basic dXNlcjpwYXNz", b"Digest ,,username=bob,,", b'Digest username="x\\', b"NTLM"]:
        c["digest"].add(cred)
    mp = (b'multipart/mixed;boundary="unique-boundary-1"\n--unique-boundary-1\r\n'
          b"Content-Type: application/sdp\r\n\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
          b"c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n"
          b"a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n\r\n--unique-boundary-1--\r\n")
    c["sdp"].add(mp)
    c["uri"].add(b'"Bob \\"B\\"" <sips:bob@[2001:db8::1]:5061;transport=tls?subject=x>;tag=9, <tel:+1-555;phone-context=x>')


# ---- frames the captures may lack (fuzz_frame.c record format) ---------------


def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xFFFF) + (t >> 16)
    return ~t & 0xFFFF


def ipv4(proto, payload, ident=1, frag=0, src=b"\xc0\x00\x02\x09", dst=b"\xc0\x00\x02\x01"):
    """frag = (offset in bytes, more fragments); the header checksum is right (libnids checks it)."""
    off, mf = frag if frag else (0, False)
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, (off // 8) | (0x2000 * mf),
                    64, proto, 0, src, dst)
    return h[:10] + struct.pack(">H", csum(h)) + h[12:] + payload


def ipv6(nh, payload, src=b"\x20\x01\x0d\xb8" + bytes(11) + b"\x09",
         dst=b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01"):
    return struct.pack(">IHBB", 6 << 28, len(payload), nh, 64) + src + dst + payload


def udp(payload, sport=5060, dport=5060):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(seq, ack, flags, payload=b"", sport=40000, dport=5060):
    return struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def eth(et, l3):
    return b"\x00\x11\x22\x33\x44\x55\x00\x66\x77\x88\x99\xaa" + struct.pack(">H", et) + l3


def records(frames, step=0):
    return bytes([0]) + b"".join(struct.pack(">HB", len(f), step) + f for f in frames)


def hand_made_frames(c):
    """IPv4 and IPv6 fragments, TCP sessions over both (a message split across
    segments), HEP over UDP: the reassembly paths the first frames of captures miss."""
    sip = (b"INVITE sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK77\r\n"
           b"From: <sip:a@192.0.2.9>;tag=1\r\nTo: <sip:100@192.0.2.1>\r\nCall-ID: frag@x\r\n"
           b"CSeq: 1 INVITE\r\nContact: <sip:a@192.0.2.9>\r\nContent-Type: application/sdp\r\n"
           b"Content-Length: 60\r\n\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\n"
           b"m=audio 4000 RTP/AVP 0\r\n")
    dgram = udp(sip)
    cut = 24 * 8
    c["frame"].add(records([eth(0x0800, ipv4(17, dgram[:cut], 7, (0, True))),
                            eth(0x0800, ipv4(17, dgram[cut:], 7, (cut, False)))]), shape="frag4")
    c["frame"].add(records([eth(0x0800, ipv4(17, dgram[cut:], 8, (cut, False))),
                            eth(0x0800, ipv4(17, dgram[:cut], 8, (0, True)))]), shape="frag4-rev")
    fh = lambda off, more: struct.pack(">BBHI", 17, 0, off | more, 0x1234)
    c["frame"].add(records([eth(0x86DD, ipv6(44, fh(0, 1) + dgram[:cut])),
                            eth(0x86DD, ipv6(44, fh(cut, 0) + dgram[cut:]))]), shape="frag6")
    for name, ip, et, nh in (("tcp4", ipv4, 0x0800, 6), ("tcp6", ipv6, 0x86DD, 6)):
        half = len(sip) // 2
        seg = [tcp(1000, 0, 0x02), tcp(5000, 1001, 0x12, sport=5060, dport=40000),
               tcp(1001, 5001, 0x10), tcp(1001, 5001, 0x18, sip[:half]),
               tcp(1001 + half, 5001, 0x18, sip[half:] + sip),
               tcp(5001, 1001 + 2 * len(sip), 0x18, b"SIP/2.0 100 Trying\r\nContent-Length: 0\r\n\r\n",
                   sport=5060, dport=40000),
               tcp(1001 + 2 * len(sip), 5001, 0x11)]
        c["frame"].add(records([eth(et, ip(nh, s)) for s in seg]), shape=name)
    hep = b"HEP3" + struct.pack(">H", 6 + 7 + 6 + len(sip)) + struct.pack(">HHHB", 0, 11, 7, 1) + \
        struct.pack(">HHH", 0, 15, 6 + len(sip)) + sip
    c["frame"].add(records([eth(0x0800, ipv4(17, udp(hep, 9060, 9060)))], step=2), shape="hep")


def hand_made_pcapng(c):
    """pcapng in both byte orders: two sections, interfaces of different link types with
    if_tsresol/if_tsoffset, Enhanced, Simple and obsolete Packet Blocks, an unknown block."""
    frame = eth(0x0800, ipv4(17, udp(b"OPTIONS sip:x@192.0.2.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n")))
    for e in "<>":
        def block(t, body):
            body += bytes(-len(body) % 4)
            return struct.pack(e + "II", t, 12 + len(body)) + body + struct.pack(e + "I", 12 + len(body))
        def opt(code, v):
            return struct.pack(e + "HH", code, len(v)) + v + bytes(-len(v) % 4)
        shb = block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1))
        idb_eth = block(1, struct.pack(e + "HHI", 1, 0, 65535) + opt(9, b"\x09") +
                        opt(14, struct.pack(e + "q", 3600)) + opt(0, b""))
        idb_raw = block(1, struct.pack(e + "HHI", 101, 0, 0) + opt(9, b"\x86"))
        raw = frame[14:]
        epb = lambda ifid, data: block(6, struct.pack(e + "IIIII", ifid, 0x5A0, 0x12345678, len(data),
                                                     len(data)) + data)
        f = (shb + idb_eth + idb_raw + epb(0, frame) + epb(1, raw) +
             block(3, struct.pack(e + "I", len(frame)) + frame) +
             block(2, struct.pack(e + "HHIIII", 1, 0, 0x5A0, 0x1, len(raw), len(raw)) + raw) +
             block(0x0BAD, b"unknown!") + shb + idb_raw + epb(0, raw))
        c["pcap"].add(f, shape="pcapng" + e)


if __name__ == "__main__":
    sys.exit(main())
