#!/usr/bin/env python3
"""Limits end-to-end test: for each stateful limit of docs/security.md, a capture
built to exhaust it runs in flat memory (issue 4).

Every scenario writes its capture at test time (a plain struct-based pcap writer:
scapy is far too slow for a million frames) at two sizes, N and 2N, both past the
limit, runs `sipsift analyze -q -r FILE --db DB` with the peak RSS of that one
child taken from os.wait4, and checks:
  - the exit status (0);
  - peak RSS under a stated bound, and RSS(2N) - RSS(N) under a small margin
    ("flat memory": the tables are full at N, so twice the attack costs nothing);
  - the counters in the store show the limit was hit: runs.limits (table ->
    count, peak, capacity, expired, evicted) or runs.capture_stats anomalies,
    with peak <= capacity, and values the capture predicts where it can.
Scenarios that exhaust a table by LRU pack their frames in a few seconds of
capture time; those that exercise expiry spread them. Scenarios whose other
tables would still be filling between N and 2N are spread so those tables reach
their idle steady state before N.

A check that shows a gap nobody has fixed yet is an expected failure: it prints
"KNOWN: ..." and is not counted as passed; if it starts passing it prints
"FIXED: ..." and fails, so the docs (docs/security.md, "Known gaps") and this
test are updated together. Under ASan (BUILD dir build/san in argv[1]) sizes are
scaled down and the bounds and margin relaxed.

Usage: limits.py PATH/TO/sipsift [SCENARIO...]; ends with "limits: N passed, N failed".
"""
import json
import os
import re
import resource
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

MIB = 1024  # ru_maxrss is in KiB
T0_US = 1700000000 * 1000000

# ---- capture writing ------------------------------------------------------


class Pcap:
    """Classic pcap, Ethernet, microsecond stamps; frames buffered and written in chunks."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        self.buf = []
        self.held = 0
        self.frames = 0

    def add(self, ts_us, frame):
        self.buf.append(struct.pack("<IIII", ts_us // 1000000, ts_us % 1000000, len(frame), len(frame)))
        self.buf.append(frame)
        self.frames += 1
        self.held += len(frame)
        # Small chunks keep this process small: a child's ru_maxrss starts at
        # the RSS of the process it was forked from.
        if self.held >= 1 << 20:
            self.f.write(b"".join(self.buf))
            self.buf = []
            self.held = 0

    def close(self):
        self.f.write(b"".join(self.buf))
        self.f.close()


ETH4 = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
ETH6 = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd"


def v4(n):
    return struct.pack("!I", n)


def v6(n):
    return b"\x20\x01\x0d\xb8" + struct.pack("!IQ", 0, n)


def ip4(src, dst, proto, payload, ident=0, frag=0):
    """frag: the flags + offset field (0x2000 = MF)."""
    return ETH4 + struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                              src, dst) + payload


def ip6(src, dst, nh, payload):
    return ETH6 + struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


SYN, ACK, PSH, RST = 0x02, 0x10, 0x08, 0x04


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                       65535, 0, 0) + payload


def request(method, ruri, call_id, branch, src, cseq=1, extra=b"", body=b"", content_length=None):
    cl = len(body) if content_length is None else content_length
    return (b"%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n"
            b"From: <sip:scan@%s>;tag=f%s\r\nTo: <%s>\r\nCall-ID: %s\r\nCSeq: %d %s\r\n"
            b"Max-Forwards: 70\r\n%sContent-Length: %d\r\n\r\n%s") % (
                method, ruri, src, branch, src, branch, ruri, call_id, cseq, method, extra, cl, body)


def response(code, reason, method, ruri, call_id, branch, src, to_tag=b"", extra=b""):
    tt = b";tag=" + to_tag if to_tag else b""
    return (b"SIP/2.0 %d %s\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n"
            b"From: <sip:scan@%s>;tag=f%s\r\nTo: <%s>%s\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"
            b"%sContent-Length: 0\r\n\r\n") % (code, reason, src, branch, src, branch, ruri, tt, call_id,
                                                method, extra)


def dotted(b):
    return b"%d.%d.%d.%d" % tuple(b)


SRC = v4(0x0A010001)   # 10.1.0.1, the attacker
DST = v4(0x0A020001)   # 10.2.0.1, the PBX
SRC_S, DST_S = dotted(SRC), dotted(DST)

# ---- scenario builders: build(pcap, n) ---------------------------------------
# Each writes a capture of size n; `spec` gives the numbers the checks use.


def b_options(step_us):
    """n OPTIONS from one source, every one a new transaction, step_us apart."""
    def build(p, n):
        ruri = b"sip:100@" + DST_S
        for i in range(n):
            br = b"%x" % i
            p.add(T0_US + i * step_us, ip4(SRC, DST, 17, udp(5060, 5060, request(
                b"OPTIONS", ruri, br + b"@o", br, SRC_S))))
    return build


def b_invites(step_us, answered):
    """n INVITEs with distinct Call-IDs; answered: each gets a 200 OK (To tag), never a BYE."""
    def build(p, n):
        ruri = b"sip:200@" + DST_S
        for i in range(n):
            br = b"%x" % i
            cid = br + b"@d"
            t = T0_US + i * step_us
            p.add(t, ip4(SRC, DST, 17, udp(5060, 5060, request(b"INVITE", ruri, cid, br, SRC_S))))
            if answered:
                p.add(t + 1, ip4(DST, SRC, 17, udp(5060, 5060, response(
                    200, b"OK", b"INVITE", ruri, cid, br, SRC_S, to_tag=b"t" + br))))
    return build


def b_registers(step_us):
    """n REGISTERs (distinct Call-IDs, users), never answered."""
    def build(p, n):
        for i in range(n):
            br = b"%x" % i
            p.add(T0_US + i * step_us, ip4(SRC, DST, 17, udp(5060, 5060, request(
                b"REGISTER", b"sip:" + DST_S, br + b"@r", br, SRC_S,
                extra=b"Contact: <sip:%d@%s>\r\nExpires: 60\r\n" % (1000 + i % 5000, SRC_S)))))
    return build


def b_challenges(step_us):
    """n REGISTERs each challenged by a 401 with a distinct nonce, never retried."""
    def build(p, n):
        for i in range(n):
            br = b"%x" % i
            cid = br + b"@n"
            t = T0_US + i * step_us
            ruri = b"sip:" + DST_S
            p.add(t, ip4(SRC, DST, 17, udp(5060, 5060, request(b"REGISTER", ruri, cid, br, SRC_S))))
            p.add(t + 1, ip4(DST, SRC, 17, udp(5060, 5060, response(
                401, b"Unauthorized", b"REGISTER", ruri, cid, br, SRC_S, to_tag=b"t" + br,
                extra=b'WWW-Authenticate: Digest realm="pbx", nonce="%08x%s", algorithm=MD5\r\n' % (
                    i, br)))))
    return build


def b_sources(step_us):
    """n spoofed sources (11.0.0.0 up), each sending OPTIONS to two PBX addresses:
    n source profiles, 2n (source, target) and (source, user) pairs."""
    def build(p, n):
        for i in range(n):
            s = v4(0x0B000000 + i)
            for k in range(2):
                d = v4(0x0A020001 + k)
                br = b"%x-%d" % (i, k)
                p.add(T0_US + (2 * i + k) * step_us, ip4(s, d, 17, udp(5060, 5060, request(
                    b"OPTIONS", b"sip:100@" + dotted(d), br + b"@s", br, dotted(s)))))
    return build


def b_syn_v4(p, n):
    """n SYNs, never answered, from distinct (address, port) clients: libnids' stream table."""
    for i in range(n):
        s = v4(0x0E000000 + i // 50000)
        p.add(T0_US + i * 2, ip4(s, DST, 6, tcp(10000 + i % 50000, 5060, i * 7919, 0, SYN)))


def b_syn_v6(p, n):
    """n TCP/IPv6 SYNs from distinct IPv6 sources: the IPv6 -> 240/4 stand-in map."""
    d = v6(1)
    for i in range(n):
        p.add(T0_US + i * 2, ip6(v6(0x10000 + i), d, 6, tcp(40000, 5060, i, 0, SYN)))


def handshake(p, t, c, s, cport, cseq, sseq):
    p.add(t, ip4(c, s, 6, tcp(cport, 5060, cseq, 0, SYN)))
    p.add(t + 1, ip4(s, c, 6, tcp(5060, cport, sseq, cseq + 1, SYN | ACK)))
    p.add(t + 2, ip4(c, s, 6, tcp(cport, 5060, cseq + 1, sseq + 1, ACK)))


def b_tcp_established(p, n):
    """n SIP/TCP handshakes, never closed: libnids' stream table (196,608 usable slots)."""
    for i in range(n):
        c = v4(0x0E400000 + i // 50000)
        handshake(p, T0_US + i * 4, c, DST, 10000 + i % 50000, i * 7919, 5000)


def b_tcp_unterminated(p, n):
    """n SIP/TCP streams that each send a start line and 300 KiB of one header
    line that never ends, acknowledged by the server (so libnids takes it all),
    then reset: each message is cut at SIP_MAX_MSG_BYTES and the stream freed."""
    seg = 60000
    data = b"INVITE sip:200@" + DST_S + b" SIP/2.0\r\nX-Long: " + b"a" * (300 * 1024)
    for i in range(n):
        c = v4(0x0F000000 + i)
        t = T0_US + i * 20000
        handshake(p, t, c, DST, 30000, 1000, 5000)
        off = 0
        k = 3
        while off < len(data):
            chunk = data[off:off + seg]
            p.add(t + k, ip4(c, DST, 6, tcp(30000, 5060, 1001 + off, 5001, ACK | PSH, chunk)))
            off += len(chunk)
            p.add(t + k + 1, ip4(DST, c, 6, tcp(5060, 30000, 5001, 1001 + off, ACK)))
            k += 2
        p.add(t + k, ip4(c, DST, 6, tcp(30000, 5060, 1001 + off, 5001, RST | ACK)))


def b_tcp_held(p, n):
    """n SIP/TCP streams that each send 60,000 bytes of a header block not ended
    yet (under SIP_MAX_MSG_BYTES: sipsift must wait for the rest) and stay open."""
    data = b"INVITE sip:200@" + DST_S + b" SIP/2.0\r\nX-Long: " + b"a" * 59970
    for i in range(n):
        c = v4(0x0F400000 + i)
        t = T0_US + i * 20000
        handshake(p, t, c, DST, 30000, 1000, 5000)
        p.add(t + 3, ip4(c, DST, 6, tcp(30000, 5060, 1001, 5001, ACK | PSH, data)))
        p.add(t + 4, ip4(DST, c, 6, tcp(5060, 30000, 5001, 1001 + len(data), ACK)))


def b_tcp_hole(p, n):
    """n SIP/TCP streams with a 1,000-byte hole then 80 KB out of order: libnids
    prunes a queue over 64 KiB (NIDS_WARN_TCP_BIGQUEUE -> tcp_overflow); reset after."""
    chunk = b"b" * 40000
    for i in range(n):
        c = v4(0x0F800000 + i)
        t = T0_US + i * 20000
        handshake(p, t, c, DST, 30001, 1000, 5000)
        for k in range(2):
            p.add(t + 3 + k, ip4(c, DST, 6, tcp(30001, 5060, 1001 + 1000 + k * 40000, 5001, ACK | PSH, chunk)))
        p.add(t + 6, ip4(c, DST, 6, tcp(30001, 5060, 1001 + 81000, 5001, RST | ACK)))


def b_frag4(step_us, hosts):
    """n IPv4 first fragments (MF, offset 0, 1,000 bytes of a UDP datagram) that
    never complete, to `hosts` destination addresses (libnids keeps sets per destination)."""
    def build(p, n):
        body = udp(5060, 5060, b"INVITE sip:200@x SIP/2.0\r\n" + b"z" * 966)
        for i in range(n):
            d = v4(0x0A030000 + i % hosts)
            p.add(T0_US + i * step_us, ip4(SRC, d, 17, body, ident=i & 0xFFFF, frag=0x2000))
    return build


def b_frag6(step_us, offset):
    """n IPv6 fragments (M set, 1,000 bytes at `offset`) of datagrams that never complete."""
    def build(p, n):
        payload = b"y" * 1000
        d = v6(1)
        for i in range(n):
            fh = struct.pack("!BBHI", 17, 0, (offset & 0xFFF8) | 1, i)
            p.add(T0_US + i * step_us, ip6(v6(2), d, 44, fh + payload))
    return build


def b_malformed(p, n):
    """n rounds of five hostile messages: 2,000 header lines before the Call-ID
    (UDP), a 60,000-byte header line (UDP), Content-Length: 100000 in a 300-byte
    datagram, and on one TCP stream each Content-Length: 100000 and a header block
    of 70,000 bytes with no end."""
    ruri = b"sip:300@" + DST_S
    many = b"".join(b"X-H%d: v\r\n" % k for k in range(2000))
    huge = b"X-Huge: " + b"h" * 60000 + b"\r\n"
    c = v4(0x0A010002)
    for i in range(n):
        t = T0_US + i * 10000
        p.add(t, ip4(SRC, DST, 17, udp(5060, 5060, (b"OPTIONS %s SIP/2.0\r\n%sCall-ID: many-%d@m\r\n"
                                                     b"Via: SIP/2.0/UDP %s;branch=z9hG4bK-m%d\r\n"
                                                     b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n") % (
                                                        ruri, many, i, SRC_S, i))))
        p.add(t + 1, ip4(SRC, DST, 17, udp(5060, 5060, request(b"OPTIONS", ruri, b"huge-%d@m" % i,
                                                               b"h%d" % i, SRC_S, extra=huge))))
        p.add(t + 2, ip4(SRC, DST, 17, udp(5060, 5060, request(b"MESSAGE", ruri, b"cl-%d@m" % i, b"c%d" % i,
                                                               SRC_S, body=b"hi", content_length=100000))))
        port = 20000 + i % 40000
        cl = request(b"MESSAGE", ruri, b"tcpcl-%d@m" % i, b"t%d" % i, SRC_S, body=b"x" * 100,
                     content_length=100000)
        long_block = (b"INVITE %s SIP/2.0\r\nCall-ID: tcplong-%d@m\r\n" % (ruri, i)) + \
            b"".join(b"X-L%d: %s\r\n" % (k, b"l" * 60) for k in range(1100))
        handshake(p, t + 3, c, DST, port, 1000, 9000)
        seq = 1001
        for k, chunk in enumerate((cl, long_block[:40000], long_block[40000:])):
            p.add(t + 10 + 2 * k, ip4(c, DST, 6, tcp(port, 5060, seq, 9001, ACK | PSH, chunk)))
            seq += len(chunk)
            # acknowledged, as a server would: libnids takes nothing past the window
            p.add(t + 11 + 2 * k, ip4(DST, c, 6, tcp(5060, port, 9001, seq, ACK)))
        p.add(t + 200, ip4(c, DST, 6, tcp(port, 5060, seq, 9001, RST | ACK)))


# ---- checks -------------------------------------------------------------------
# check(res, n) returns a list of (ok, text, known): known is None for an
# ordinary check, or the reason for an expected failure.


def lim(table, expired=False, evicted=False, full=False, peak_max=None, no_expiry=False, no_evict=False):
    """Checks on one runs.limits table."""
    def check(res, n):
        t = res["limits"].get(table)
        if t is None:
            return [(False, "runs.limits has no table %r" % table, None)]
        out = [(t["peak"] <= t["capacity"], "%s peak %d <= capacity %d" % (table, t["peak"], t["capacity"]), None)]
        if evicted:
            out.append((t["evicted"] > 0, "%s evicted %d > 0" % (table, t["evicted"]), None))
        if expired:
            out.append((t["expired"] > 0, "%s expired %d > 0" % (table, t["expired"]), None))
        if full:
            out.append((t["peak"] == t["capacity"], "%s peak %d == capacity" % (table, t["peak"]), None))
        if no_expiry:
            out.append((t["expired"] == 0, "%s expired %d == 0 (packed in time)" % (table, t["expired"]), None))
        if no_evict:
            out.append((t["evicted"] == 0, "%s evicted %d == 0 (expiry keeps it below capacity)" % (
                table, t["evicted"]), None))
        if peak_max is not None:
            pm = peak_max(n)
            out.append((t["peak"] <= pm, "%s peak %d <= %d (idle window)" % (table, t["peak"], pm), None))
        return out
    return check


def anomaly(name, at_least, known=None):
    def check(res, n):
        got = res["stats"]["anomalies"][name]
        want = at_least(n)
        return [(got >= want and got > 0, "capture_stats anomalies.%s %d >= %d" % (name, got, want), known)]
    return check


def stat_eq(key, want_fn):
    def check(res, n):
        got, want = res["run"][key], want_fn(n)
        return [(got == want, "runs.%s %d == %d" % (key, got, want), None)]
    return check


def sql_eq(label, query, want_fn):
    def check(res, n):
        got, want = res["sql"][query], want_fn(n)
        return [(got == want, "%s: %d == %d" % (label, got, want), None)]
    return check


# ---- scenarios ------------------------------------------------------------------
# name, builder, N (plain), N (ASan), flat margin override, checks, queries, known-flatness reason
SCENARIOS = [
    dict(name="transactions-lru", build=b_options(2), n=280000, n_san=280000,
         doc="OPTIONS with new branches, 2 us apart: the table fills and evicts (LRU)",
         checks=[lim("transactions", evicted=True, full=True, no_expiry=True),
                 stat_eq("sip_messages", lambda n: n)]),
    dict(name="transactions-idle", build=b_options(2000), n=40000, n_san=40000,
         doc="OPTIONS 2 ms apart: transactions expire after 32 s idle, never evicted",
         checks=[lim("transactions", expired=True, no_evict=True,
                     peak_max=lambda n: 32000000 // 2000 + 1000 + 1)]),
    dict(name="dialogs-early", build=b_invites(1000, False), n=240000, n_san=240000,
         doc="INVITEs with new Call-IDs never answered, 1 ms apart (transactions reach their "
             "32 s steady state, unanswered dialogs would live 180 s: LRU)",
         checks=[lim("dialogs_early", evicted=True, full=True), lim("transactions", expired=True)]),
    dict(name="dialogs-confirmed", build=b_invites(1000, True), n=140000, n_san=140000,
         doc="INVITE + 200 OK with new Call-IDs, never a BYE, 1 ms apart (answered dialogs live 2 h: LRU)",
         checks=[lim("dialogs_confirmed", evicted=True, full=True, no_expiry=True)]),
    dict(name="registrations", build=b_registers(400), n=100000, n_san=100000,
         doc="REGISTERs never answered, 400 us apart: 80,000 a 32 s window, over the 65,536 capacity",
         checks=[lim("registrations", evicted=True, full=True)]),
    dict(name="nonces", build=b_challenges(1000), n=80000, n_san=80000,
         doc="REGISTER + 401 with a new nonce each, 1 ms apart (nonces live 15 min: LRU)",
         checks=[lim("nonces", evicted=True, full=True, no_expiry=True)]),
    dict(name="sources", build=b_sources(500), n=135000, n_san=135000, bound=768,
         doc="135,000 / 270,000 spoofed sources, each to two PBX addresses, 0.5 ms apart: "
             "profiles (65,536) and (source, target/user) pairs (262,144) by LRU",
         checks=[lim("sources", evicted=True, full=True), lim("detect_sources", evicted=True, full=True),
                 lim("source_targets", evicted=True, full=True), lim("source_users", evicted=True, full=True),
                 lim("detect_pairs", evicted=True, full=True), lim("detect_seen", evicted=True, full=True),
                 sql_eq("source rows written", "select count(*) from sources", lambda n: n)],
         queries=["select count(*) from sources"]),
    dict(name="tcp-syn", build=b_syn_v4, n=250000, n_san=250000,
         doc="SYNs never answered from 250,000 / 500,000 clients (libnids: 196,608 usable slots)",
         checks=[anomaly("tcp_table_full", lambda n: n - 262144 * 3 // 4 - 1,
                         known="libnids evicts a stream that never got past its SYN without a "
                               "warning: a SYN flood fills the table and tcp_table_full stays 0")]),
    dict(name="tcp-established", build=b_tcp_established, n=250000, n_san=250000,
         doc="SIP/TCP handshakes never closed, 250,000 / 500,000 (libnids: 196,608 usable slots)",
         checks=[anomaly("tcp_table_full", lambda n: n - 262144 * 3 // 4 - 1),
                 lambda res, n: [(res["stats"]["tcp_streams"] == n,
                                  "capture_stats tcp_streams %d == %d" % (res["stats"]["tcp_streams"], n), None)]]),
    dict(name="tcp-unterminated", build=b_tcp_unterminated, n=400, n_san=200,
         doc="SIP/TCP streams each sending 300 KiB of a header line that never ends, acked, reset after",
         checks=[sql_eq("messages cut at 64 KiB", "select count(*) from sip_messages where malformed = "
                        "'header block too long'", lambda n: n)],
         queries=["select count(*) from sip_messages where malformed = 'header block too long'"]),
    dict(name="tcp-held", build=b_tcp_held, n=400, n_san=200,
         doc="SIP/TCP streams each holding 60,000 bytes of an unfinished header block, left open",
         known_flat="each open stream keeps its unconsumed bytes in a libnids buffer (2x the first "
                    "segment, up to SIP_MAX_MSG_BYTES and more) and no budget spans streams: memory "
                    "grows with the number of open streams, up to 196,608 of them",
         checks=[lambda res, n: [(res["stats"]["tcp_streams"] == n,
                                  "capture_stats tcp_streams %d == %d" % (res["stats"]["tcp_streams"], n), None)]]),
    dict(name="tcp-out-of-order", build=b_tcp_hole, n=2000, n_san=1000,
         doc="SIP/TCP streams with a hole and 80 KB queued after it (libnids prunes over 64 KiB)",
         checks=[anomaly("tcp_overflow", lambda n: n)]),
    dict(name="frag4-one-host", build=b_frag4(2, 1), n=100000, n_san=50000,
         doc="IPv4 first fragments that never complete, to one host, 2 us apart: 4,096 sets, LRU",
         checks=[anomaly("frag_limit", lambda n: n - 4096),
                 lim("ip4_fragments", evicted=True, full=True, no_expiry=True)]),
    dict(name="frag4-many-hosts", build=b_frag4(1000, 1 << 20), n=50000, n_san=25000,
         doc="IPv4 first fragments that never complete, 1 ms apart, each to a new destination "
             "(30,000 would live 30 s: the 4,096 sets evict, the rest expire)",
         checks=[anomaly("frag_limit", lambda n: n // 2),
                 anomaly("frag_timeout", lambda n: 1),
                 lim("ip4_fragments", evicted=True, full=True)]),
    dict(name="frag6-sets", build=b_frag6(2, 0), n=20000, n_san=20000,
         doc="IPv6 first fragments that never complete, packed: 4,096 sets, LRU",
         checks=[anomaly("frag_limit", lambda n: n - 4096)]),
    dict(name="frag6-bytes", build=b_frag6(2, 64000), n=5000, n_san=5000,
         doc="IPv6 fragments at offset 64,000 (64 KiB a set): 16 MiB hold 256 sets",
         checks=[anomaly("frag_limit", lambda n: n - 256)]),
    dict(name="frag6-expiry", build=b_frag6(20000, 0), n=6000, n_san=6000,
         doc="IPv6 first fragments 20 ms apart: 3,000 in a 60 s window, all expire",
         checks=[anomaly("frag_timeout", lambda n: n)]),
    dict(name="ip6-tcp-map", build=b_syn_v6, n=100000, n_san=100000,
         doc="TCP/IPv6 SYNs from 100,000 / 200,000 sources: 65,536 stand-ins, LRU",
         checks=[lim("ip6_tcp_map", evicted=True, full=True)]),
    dict(name="sip-malformed", build=b_malformed, n=200, n_san=100,
         doc="2,000 headers, a 60,000-byte header line, Content-Length 100000 (UDP and TCP), "
             "an endless header block on TCP",
         checks=[sql_eq("over 128 headers, flagged, Call-ID still found",
                        "select count(*) from sip_messages where anomalies & 1 and call_id like 'many-%'",
                        lambda n: n),
                 sql_eq("60,000-byte header line parsed",
                        "select count(*) from sip_messages where call_id like 'huge-%' and malformed is null",
                        lambda n: n),
                 sql_eq("UDP Content-Length 100000",
                        "select count(*) from sip_messages where malformed = 'Content-Length exceeds datagram'",
                        lambda n: n),
                 sql_eq("TCP Content-Length 100000",
                        "select count(*) from sip_messages where malformed = 'Content-Length too large'",
                        lambda n: n),
                 sql_eq("TCP header block over 64 KiB",
                        "select count(*) from sip_messages where malformed = 'header block too long'",
                        lambda n: n)],
         queries=["select count(*) from sip_messages where anomalies & 1 and call_id like 'many-%'",
                  "select count(*) from sip_messages where call_id like 'huge-%' and malformed is null",
                  "select count(*) from sip_messages where malformed = 'Content-Length exceeds datagram'",
                  "select count(*) from sip_messages where malformed = 'Content-Length too large'",
                  "select count(*) from sip_messages where malformed = 'header block too long'"]),
]

# ---- running ----------------------------------------------------------------------


def store_cache_mib():
    """STORE_CACHE_KIB from output/store.h, in MiB (the writer's SQLite page cache)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "output", "store.h")) as f:
        m = re.search(r"#define\s+STORE_CACHE_KIB\s+\(?\s*(\d+)\s*(?:\*\s*(\d+))?", f.read())
    return int(m.group(1)) * int(m.group(2) or 1) / 1024


def run_sipsift(binary, pcap, db, timeout):
    """(exit status, peak RSS in KiB of this one child, seconds)."""
    start = time.monotonic()
    env = dict(os.environ)
    # ASan keeps freed blocks in a 256 MiB quarantine by default: memory that
    # churns (fragments, queued segments) would look like growth. A small one
    # keeps its use-after-free checks and the RSS comparable between sizes.
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4").lstrip(":")
    p = subprocess.Popen([binary, "analyze", "-q", "-r", pcap, "--db", db],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = start + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            p.kill()
            pid, status, ru = os.wait4(p.pid, 0)
            p.returncode = -9
            return None, ru.ru_maxrss, time.monotonic() - start
        time.sleep(0.02)
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    return p.returncode, ru.ru_maxrss, time.monotonic() - start


def job(binary, tmp, sc, n, timeout):
    base = os.path.join(tmp, "%s-%d" % (sc["name"], n))
    pcap, db = base + ".pcap", base + ".db"
    t = time.monotonic()
    w = Pcap(pcap)
    sc["build"](w, n)
    w.close()
    gen = time.monotonic() - t
    rc, rss, secs = run_sipsift(binary, pcap, db, timeout)
    res = {"n": n, "rc": rc, "rss": rss, "secs": secs, "gen": gen, "frames": w.frames,
           "bytes": os.path.getsize(pcap)}
    os.unlink(pcap)
    if rc is not None and os.path.exists(db):
        con = sqlite3.connect(db)
        row = con.execute("select limits, capture_stats, packets, sip_messages, sip_malformed "
                          "from runs order by id desc limit 1").fetchone()
        if row:
            res["limits"] = json.loads(row[0] or "{}")
            res["stats"] = json.loads(row[1] or "{}")
            res["run"] = {"packets": row[2], "sip_messages": row[3], "sip_malformed": row[4]}
            res["sql"] = {q: con.execute(q).fetchone()[0] for q in sc.get("queries", [])}
            res["db_bytes"] = (con.execute("pragma page_count").fetchone()[0] *
                               con.execute("pragma page_size").fetchone()[0])
        con.close()
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.unlink(f)
    return res


def main():
    binary = os.path.abspath(sys.argv[1])
    only = set(sys.argv[2:])
    san = "build/san" in sys.argv[1]
    # Bounds (per scenario, "bound", default 512 MiB plain): the tables a
    # scenario fills are touched up to capacity (65,536 source profiles alone
    # take ~350 MiB), plus libnids' ~58 MiB stream pool and the store's page
    # cache. ASan adds redzones and a quarantine: 4x the bound, a wider margin.
    margin_mib = 64 if san else 16
    timeout = 900 if san else 300
    scs = [s for s in SCENARIOS if not only or s["name"] in only]
    passed = failed = known = 0
    lock = threading.Lock()
    min_child = [1 << 40]
    t_all = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sipsift-limits-") as tmp:
        with ThreadPoolExecutor(max_workers=2) as ex:
            futs = []
            for sc in scs:
                n = sc["n_san"] if san else sc["n"]
                futs.append((sc, n, ex.submit(job, binary, tmp, sc, n, timeout),
                             ex.submit(job, binary, tmp, sc, 2 * n, timeout)))
            for sc, n, f1, f2 in futs:
                r1, r2 = f1.result(), f2.result()
                min_child[0] = min(min_child[0], r1["rss"], r2["rss"])
                results = []
                notes = []

                def add(ok, text, why=None):
                    results.append((ok, text, why))

                for r in (r1, r2):
                    add(r["rc"] == 0, "size %d: exit %s (0 expected)" % (r["n"], r["rc"]))
                    bound = sc.get("bound", 512) * (4 if san else 1)
                    add(r["rss"] <= bound * MIB, "size %d: peak RSS %.1f MiB <= %d MiB" % (
                        r["n"], r["rss"] / MIB, bound))
                growth = (r2["rss"] - r1["rss"]) / MIB
                # The store's page cache (STORE_CACHE_KIB, output/store.h) fills
                # as the database grows, up to its bound: allowed on top of the
                # margin, by the pages the larger run can have added to it.
                cache = store_cache_mib()
                db1, db2 = r1.get("db_bytes", 0) / (1 << 20), r2.get("db_bytes", 0) / (1 << 20)
                allow = 1.1 * (min(cache, db2) - min(cache, db1))
                flat = "flat: RSS(%d) - RSS(%d) = %+.1f MiB <= %d MiB + %.1f MiB of store cache (store " \
                    "%.1f -> %.1f MiB, cache bound %d MiB)" % (r2["n"], r1["n"], growth, margin_mib, allow,
                                                              db1, db2, cache)
                if san and sc.get("known_flat"):
                    # Known growth is measured on the plain build; ASan's smaller
                    # sizes and wider margin would hide it, not fix it.
                    notes.append("  (%s: not judged under ASan, known gap)" % flat)
                else:
                    add(growth <= margin_mib + allow, flat, sc.get("known_flat"))
                for r in (r1, r2):
                    if "limits" not in r:
                        add(False, "size %d: no run row in the store" % r["n"])
                        continue
                    for chk in sc["checks"]:
                        for ok, text, why in chk(r, r["n"]):
                            add(ok, "size %d: %s" % (r["n"], text), why)
                print("%s: %s" % (sc["name"], sc["doc"]))
                print("  N=%d (%d frames, %.1f MB, %.1f s), 2N=%d (%d frames, %.1f MB, %.1f s); "
                      "peak RSS %.1f MiB / %.1f MiB" % (
                          r1["n"], r1["frames"], r1["bytes"] / 1e6, r1["secs"], r2["n"], r2["frames"],
                          r2["bytes"] / 1e6, r2["secs"], r1["rss"] / MIB, r2["rss"] / MIB))
                for line in notes:
                    print(line)
                for ok, text, why in results:
                    with lock:
                        if why is not None and not ok:
                            known += 1
                            print("  KNOWN: %s: %s (%s)" % (sc["name"], text, why))
                        elif why is not None:
                            failed += 1
                            print("  FIXED: %s: %s now holds: drop the expected failure and the "
                                  "Known gaps line (%s)" % (sc["name"], text, why))
                        elif ok:
                            passed += 1
                            print("  ok %s" % text)
                        else:
                            failed += 1
                            print("  FAIL %s: %s" % (sc["name"], text))
        # A child's ru_maxrss includes the RSS of the process it was forked
        # from: the numbers above mean something only if this one stayed smaller.
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if own < min_child[0]:
            passed += 1
            print("  ok measurement: this process peaked at %.1f MiB, under every child (%.1f MiB)" % (
                own / MIB, min_child[0] / MIB))
        else:
            failed += 1
            print("  FAIL measurement: this process peaked at %.1f MiB, not under every child (%.1f MiB)" % (
                own / MIB, min_child[0] / MIB))
    print("limits: %.1f s (%s)" % (time.monotonic() - t_all, "ASan" if san else "plain"))
    print("limits: %d passed, %d failed (%d known gaps, not counted as passed)" % (passed, failed, known))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
