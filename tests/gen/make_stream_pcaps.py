#!/usr/bin/python3
"""make_stream_pcaps.py - captures for stream and datagram framing cases the
public corpus lacks; run with Debian's /usr/bin/python3 (scapy). Output is
deterministic. Writes pcaps/test/stream/:
  tcp6-split.pcap    SIP over TCP over IPv6: handshake, an INVITE split over
                     three segments (the middle one sent last), then a 100
                     and a 200 packed in one segment, an ACK, FIN.
  tcp4-midstream.pcap  SIP over TCP over IPv4 without the handshake (capture
                     begun mid-session): two segments, each one whole message.
  udp-multi.pcap     one UDP datagram carrying two complete SIP messages, each
                     framed by Content-Length (an attacker's trick), and one
                     datagram with a REGISTER followed by junk (RFC 4475 dblreq).
"""
import os
from scapy.all import Ether, IP, IPv6, TCP, UDP, Raw, wrpcap

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "pcaps", "test", "stream")
T0 = 1700000000.0


def sip(start, call_id, cseq, extra=b"", body=b""):
    h = (start + b"\r\nVia: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK-" + call_id + str(cseq).encode() +
         b"\r\nFrom: <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>" + extra +
         b"\r\nCall-ID: " + call_id + b"\r\nCSeq: " + str(cseq).encode() + b" " +
         start.split(b" ")[0 if not start.startswith(b"SIP/") else 0] + b"\r\n")
    return h


def msg(first, call_id, cseq, method, to_tag=b"", body=b""):
    return (first + b"\r\n"
            b"Via: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK-" + call_id + b"-" + str(cseq).encode() + b"\r\n"
            b"From: <sip:alice@example.com>;tag=a1\r\n"
            b"To: <sip:bob@example.com>" + (b";tag=" + to_tag if to_tag else b"") + b"\r\n"
            b"Call-ID: " + call_id + b"\r\n"
            b"CSeq: " + str(cseq).encode() + b" " + method + b"\r\n"
            b"Max-Forwards: 70\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def frames_tcp(ipc, ips, L3, segs, handshake=True):
    """segs: list of (from_client, payload, seq_offset_override or None)."""
    cs, ss = 1000, 5000
    out = []
    t = T0
    def pkt(fc, flags, seq, ack, data=b""):
        nonlocal t
        t += 0.01
        src, dst = (ipc, ips) if fc else (ips, ipc)
        sp, dp = (40000, 5060) if fc else (5060, 40000)
        p = Ether() / L3(src=src, dst=dst) / TCP(sport=sp, dport=dp, flags=flags, seq=seq, ack=ack)
        if data:
            p = p / Raw(data)
        p.time = t
        return p
    if handshake:
        out.append(pkt(True, "S", cs - 1, 0))
        out.append(pkt(False, "SA", ss - 1, cs))
        out.append(pkt(True, "A", cs, ss))
    cpos, spos = cs, ss
    for fc, data, off in segs:
        if fc:
            seq = cpos if off is None else cs + off
            out.append(pkt(True, "PA", seq, spos, data))
            if off is None:
                cpos += len(data)
        else:
            seq = spos if off is None else ss + off
            out.append(pkt(False, "PA", seq, cpos, data))
            if off is None:
                spos += len(data)
    return out, (cpos, spos)


def tcp6_split():
    body = b"v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    inv = msg(b"INVITE sip:bob@example.com SIP/2.0", b"tcp6-call", 1, b"INVITE",
              body=body).replace(b"Max-Forwards", b"Content-Type: application/sdp\r\nMax-Forwards")
    a, b = 150, 300
    r100 = msg(b"SIP/2.0 100 Trying", b"tcp6-call", 1, b"INVITE")
    r200 = msg(b"SIP/2.0 200 OK", b"tcp6-call", 1, b"INVITE", to_tag=b"b2")
    ack = msg(b"ACK sip:bob@example.com SIP/2.0", b"tcp6-call", 1, b"ACK", to_tag=b"b2")
    segs = [(True, inv[:a], 0), (True, inv[b:], b), (True, inv[a:b], a),
            (False, r100 + r200, 0), (True, ack, len(inv))]
    fr, _ = frames_tcp("2001:db8::1", "2001:db8::2", IPv6, segs)
    wrpcap(os.path.join(OUT, "tcp6-split.pcap"), fr)


def tcp4_midstream():
    opt = msg(b"OPTIONS sip:bob@example.com SIP/2.0", b"mid-call", 7, b"OPTIONS")
    ok = msg(b"SIP/2.0 200 OK", b"mid-call", 7, b"OPTIONS", to_tag=b"m1")
    fr, _ = frames_tcp("192.0.2.21", "192.0.2.22", IP, [(True, opt, None), (False, ok, None)], handshake=False)
    wrpcap(os.path.join(OUT, "tcp4-midstream.pcap"), fr)


def udp_multi():
    one = msg(b"OPTIONS sip:a@192.0.2.31 SIP/2.0", b"multi-1", 1, b"OPTIONS").replace(b"/TCP", b"/UDP")
    two = msg(b"OPTIONS sip:b@192.0.2.31 SIP/2.0", b"multi-2", 1, b"OPTIONS").replace(b"/TCP", b"/UDP")
    reg = msg(b"REGISTER sip:192.0.2.31 SIP/2.0", b"dbl-1", 1, b"REGISTER").replace(b"/TCP", b"/UDP")
    junk = b"\r\nINVITE sip:joe@example.com SIP/2.0\r\nt: sip:joe@example.com\r\nContent-Length: 150\r\n\r\nv=0\r\n"
    p1 = Ether() / IP(src="198.51.100.7", dst="192.0.2.31") / UDP(sport=5060, dport=5060) / Raw(one + two)
    p2 = Ether() / IP(src="198.51.100.7", dst="192.0.2.31") / UDP(sport=5060, dport=5060) / Raw(reg + junk)
    p1.time, p2.time = T0, T0 + 1
    wrpcap(os.path.join(OUT, "udp-multi.pcap"), [p1, p2])


os.makedirs(OUT, exist_ok=True)
tcp6_split()
tcp4_midstream()
udp_multi()
