#!/usr/bin/python3
"""make_reasm_pcaps.py - captures for reassembly (capture/reasm.c, ip6frag.c,
ip6map.c), built with scapy independently of our C packet builders; run with
Debian's /usr/bin/python3. Output is deterministic (T0 + 1 ms a frame).
Writes pcaps/test/reasm/:
  v4-frag-tcp.pcap  IPv4/Ethernet: a 3,160-byte SIP INVITE over UDP in three
                    fragments sent last first; a SIP/TCP session (handshake,
                    two OPTIONS in three segments, the last one sent before
                    the middle, a 200 OK, FIN both ways).
  v6-frag-tcp.pcap  the same over IPv6 (fragment header; the middle fragment
                    sent twice, an exact duplicate), plus a datagram whose
                    fragments overlap (RFC 5722: must be dropped).
Checked by tests/unit/test_reasm.c (reasm_generated_pcaps).
"""
import os
from scapy.all import Ether, IP, IPv6, IPv6ExtHdrFragment, TCP, UDP, Raw, wrpcap

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "pcaps", "test", "reasm")
T0 = 1700000000.0


def eth():
    """Fixed locally administered MACs (scapy would look them up and warn)."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def sip(first, call_id, via_proto, pad=0, method=None):
    pad_hdr = b"X-Pad: " + b"p" * pad + b"\r\n" if pad else b""
    return (first + b"\r\n"
            b"Via: SIP/2.0/" + via_proto + b" host.example.com:5060;branch=z9hG4bK-" + call_id + b"\r\n"
            b"From: <sip:alice@example.com>;tag=a1\r\n"
            b"To: <sip:bob@example.com>\r\n"
            b"Call-ID: " + call_id + b"@reasm.test\r\n"
            b"CSeq: 1 " + (method or first.split(b" ")[0]) + b"\r\n" + pad_hdr +
            b"Content-Length: 0\r\n\r\n")


class Clock:
    def __init__(self):
        self.t = T0

    def stamp(self, p):
        self.t += 0.001
        p.time = self.t
        return p


def udp_fragments(L3, src, dst, ident, payload, cut, order, dup=None):
    """The UDP datagram (checksum computed over the whole) cut at `cut` bytes of
    IP payload (a multiple of 8), fragments emitted in `order`."""
    whole = bytes(L3(src=src, dst=dst) / UDP(sport=5062, dport=5060) / Raw(payload))
    udp = whole[20:] if L3 is IP else whole[40:]
    pieces = [(off, udp[off:off + cut]) for off in range(0, len(udp), cut)]
    out = []
    for i in order + ([dup] if dup is not None else []):
        off, chunk = pieces[i]
        more = off + len(chunk) < len(udp)
        if L3 is IP:
            p = IP(src=src, dst=dst, id=ident, proto=17, flags="MF" if more else 0, frag=off // 8) / Raw(chunk)
        else:
            p = IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(nh=17, offset=off // 8, m=int(more), id=ident) / Raw(chunk)
        out.append(eth() / p)
    return out


def tcp_session(L3, cli, srv, cport):
    """Handshake, OPTIONS x2 split [0,20) [20,l1+30) [l1+30,end) sent 1,3,2,
    a 200 OK, FIN both ways."""
    cs, ss = 1000, 5000
    data = sip(b"OPTIONS sip:bob@example.com SIP/2.0", b"tcp-one", b"TCP") + \
        sip(b"OPTIONS sip:bob@example.com SIP/2.0", b"tcp-two", b"TCP")
    l1 = len(sip(b"OPTIONS sip:bob@example.com SIP/2.0", b"tcp-one", b"TCP"))
    ok = sip(b"SIP/2.0 200 OK", b"tcp-one", b"TCP", method=b"OPTIONS")

    def seg(fc, flags, seq, ack, payload=b""):
        s, d = (cli, srv) if fc else (srv, cli)
        sp, dp = (cport, 5060) if fc else (5060, cport)
        p = eth() / L3(src=s, dst=d) / TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack, window=65535)
        return p / Raw(payload) if payload else p

    c1, s1 = cs + 1, ss + 1
    a, b = 20, l1 + 30
    out = [seg(True, "S", cs, 0), seg(False, "SA", ss, c1), seg(True, "A", c1, s1),
           seg(True, "PA", c1, s1, data[:a]),
           seg(True, "PA", c1 + b, s1, data[b:]),
           seg(True, "PA", c1 + a, s1, data[a:b])]
    c2 = c1 + len(data)
    out += [seg(False, "PA", s1, c2, ok)]
    s2 = s1 + len(ok)
    out += [seg(True, "FA", c2, s2), seg(False, "A", s2, c2 + 1),
            seg(False, "FA", s2, c2 + 1), seg(True, "A", c2 + 1, s2 + 1)]
    return out


def v4():
    clk = Clock()
    inv = sip(b"INVITE sip:bob@example.com SIP/2.0", b"frag4", b"UDP", pad=2900)
    frames = udp_fragments(IP, "192.0.2.1", "198.51.100.2", 0x4711, inv, 1480, [2, 1, 0])
    frames += tcp_session(IP, "192.0.2.10", "192.0.2.20", 40000)
    wrpcap(os.path.join(OUT, "v4-frag-tcp.pcap"), [clk.stamp(p) for p in frames])


def v6():
    clk = Clock()
    inv = sip(b"INVITE sip:bob@example.com SIP/2.0", b"frag6", b"UDP", pad=2900)
    frames = udp_fragments(IPv6, "2001:db8::1", "2001:db8::2", 0x61, inv, 1232, [2, 1, 0], dup=1)
    # overlap: [0,64) then [32,96) then the last piece; dropped as a whole
    bad = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5062, dport=5060) /
                Raw(sip(b"OPTIONS sip:bob@example.com SIP/2.0", b"overlap6", b"UDP")))[40:]
    for off, end, more in ((0, 64, 1), (32, 96, 1), (96, len(bad), 0)):
        frames.append(eth() / IPv6(src="2001:db8::1", dst="2001:db8::2") /
                      IPv6ExtHdrFragment(nh=17, offset=off // 8, m=more, id=0x62) / Raw(bad[off:end]))
    frames += tcp_session(IPv6, "2001:db8:1::10", "2001:db8:2::20", 40001)
    wrpcap(os.path.join(OUT, "v6-frag-tcp.pcap"), [clk.stamp(p) for p in frames])


os.makedirs(OUT, exist_ok=True)
v4()
v6()
