#!/usr/bin/python3
"""make_link_pcaps.py [OUTDIR] - small captures for link types and encapsulations
the public corpus lacks: Linux cooked v2, BSD null and loopback, QinQ, GRE,
IP-in-IP, IPv6 extension headers. Each frame carries a tiny SIP OPTIONS whose
Call-ID names the frame ("<file>-<n>@test"), so tests/unit/test_capture.c can
check that the right bytes came out with the right addresses and ports.

Run with Debian's interpreter (it has scapy): /usr/bin/python3 tests/gen/make_link_pcaps.py
Output is deterministic (fixed timestamps and IP ids): re-running gives the same bytes.
Addresses are documentation ranges (RFC 5737, RFC 3849)."""
import os
import struct
import sys

from scapy.all import GRE, IP, UDP, Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, \
    IPv6ExtHdrRouting, PadN, conf

conf.verb = 0

DLT_NULL, DLT_EN10MB, DLT_LOOP, DLT_LINUX_SLL2 = 0, 1, 108, 276
T0 = 1700000000  # 2023-11-14T22:13:20Z, first frame of every file

A4, B4 = "192.0.2.10", "192.0.2.20"
A6, B6 = "2001:db8::10", "2001:db8::20"
T1, T2 = "198.51.100.1", "198.51.100.2"  # tunnel endpoints
MAC_A, MAC_B = "02:00:00:00:00:0a", "02:00:00:00:00:14"


def sip(call_id, dst):
    return ("OPTIONS sip:100@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s\r\n"
            "From: <sip:scan@%s>;tag=1\r\nTo: <sip:100@%s>\r\n"
            "Call-ID: %s@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            % (dst, dst, call_id, dst, dst, call_id)).encode()


def udp4(name, src=A4, dst=B4, sport=5060, dport=5060):
    return IP(src=src, dst=dst, id=1, ttl=64) / UDP(sport=sport, dport=dport) / sip(name, dst)


def udp6(name, src=A6, dst=B6, sport=5060, dport=5060, ext=None):
    ip = IPv6(src=src, dst=dst, hlim=64)
    if ext is not None:
        ip = ip / ext
    return ip / UDP(sport=sport, dport=dport) / sip(name, dst)


def write(path, linktype, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for i, fr in enumerate(frames):
            data = bytes(fr)
            f.write(struct.pack("<IIII", T0 + i, 1000 * i, len(data), len(data)))
            f.write(data)


def sll2(proto, payload):
    # protocol, reserved, ifindex, ARPHRD_ETHER, PACKET_HOST, addr len 6, addr (8)
    addr = bytes.fromhex("02000000000a0000")
    return struct.pack(">HHIHBB8s", proto, 0, 2, 1, 0, 6, addr) + bytes(payload)


def eth(payload, ethertype=None):
    e = Ether(src=MAC_A, dst=MAC_B)
    if ethertype is None:
        return e / payload
    return bytes(e)[:12] + struct.pack(">H", ethertype) + bytes(payload)


def vlan_tags(tags, payload, inner_type):
    """Ethernet with explicit (TPID, VID) tags, outermost first."""
    out = bytes(Ether(src=MAC_A, dst=MAC_B))[:12]
    for tpid, vid in tags:
        out += struct.pack(">HH", tpid, vid)
    return out + struct.pack(">H", inner_type) + bytes(payload)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "pcaps", "test")
    os.makedirs(out, exist_ok=True)

    # Linux cooked v2 (tcpdump -i any): IPv4, IPv6, and an ARP frame that is not IP.
    write(os.path.join(out, "sll2.pcap"), DLT_LINUX_SLL2, [
        sll2(0x0800, udp4("sll2-1", sport=5062)),
        sll2(0x86DD, udp6("sll2-2", dport=5080)),
        sll2(0x0806, bytes(28)),
    ])

    # BSD null: the family in the capturing host's byte order (little- then big-endian host);
    # IPv6 is 30 on macOS, 28 on FreeBSD, 24 on NetBSD/OpenBSD.
    write(os.path.join(out, "null.pcap"), DLT_NULL, [
        struct.pack("<I", 2) + bytes(udp4("null-1")),
        struct.pack("<I", 30) + bytes(udp6("null-2")),
        struct.pack(">I", 28) + bytes(udp6("null-3", sport=5070)),
        struct.pack(">I", 2) + bytes(udp4("null-4", sport=5071)),
    ])

    # OpenBSD loopback: the family always in network byte order.
    write(os.path.join(out, "loop.pcap"), DLT_LOOP, [
        struct.pack(">I", 2) + bytes(udp4("loop-1")),
        struct.pack(">I", 24) + bytes(udp6("loop-2")),
    ])

    # QinQ: 802.1ad outer 200 + 802.1Q inner 300; the old 0x9100 outer tag; three tags over IPv6.
    write(os.path.join(out, "qinq.pcap"), DLT_EN10MB, [
        vlan_tags([(0x88A8, 200), (0x8100, 300)], udp4("qinq-1"), 0x0800),
        vlan_tags([(0x9100, 201), (0x8100, 301)], udp4("qinq-2"), 0x0800),
        vlan_tags([(0x88A8, 202), (0x8100, 302), (0x8100, 303)], udp6("qinq-3"), 0x86DD),
    ])

    # GRE: with a key (RFC 2890); with checksum+key+sequence; bridging Ethernet (0x6558);
    # over IPv6 carrying IPv6. Outer addresses are the tunnel endpoints (198.51.100.0/24).
    inner1 = udp4("gre-1", src="192.0.2.11", dst="192.0.2.21", sport=5061)
    inner2 = udp4("gre-2", src="192.0.2.12", dst="192.0.2.22")
    inner3 = Ether(src=MAC_A, dst=MAC_B) / udp4("gre-3", src="192.0.2.13", dst="192.0.2.23")
    inner4 = udp6("gre-4")
    write(os.path.join(out, "gre.pcap"), DLT_EN10MB, [
        eth(IP(src=T1, dst=T2, id=1) / GRE(key_present=1, key=0x1234, proto=0x0800) / inner1),
        # (scapy spells the field "seqence_number")
        eth(IP(src=T1, dst=T2, id=2) / GRE(chksum_present=1, key_present=1, seqnum_present=1,
                                           key=7, seqence_number=42, proto=0x0800) / inner2),
        eth(IP(src=T1, dst=T2, id=3) / GRE(proto=0x6558) / inner3),
        eth(IPv6(src="2001:db8:ffff::1", dst="2001:db8:ffff::2") / GRE(proto=0x86DD) / inner4),
    ])

    # IP-in-IP (4), IPv6-in-IPv4 (41), IPv4-in-IPv6 (4).
    write(os.path.join(out, "ipip.pcap"), DLT_EN10MB, [
        eth(IP(src=T1, dst=T2, id=1, proto=4) / udp4("ipip-1", src="192.0.2.11", sport=5063)),
        eth(IP(src=T1, dst=T2, id=2, proto=41) / udp6("ipip-2")),
        eth(IPv6(src="2001:db8:ffff::1", dst="2001:db8:ffff::2", nh=4) / udp4("ipip-3")),
    ])

    # IPv6 extension headers before UDP: destination options; hop-by-hop + routing
    # (type 0 with no segments left) + destination options.
    write(os.path.join(out, "ipv6-ext.pcap"), DLT_EN10MB, [
        eth(udp6("ipv6-ext-1", ext=IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00\x00\x00\x00")]))),
        eth(udp6("ipv6-ext-2", sport=5090,
                 ext=IPv6ExtHdrHopByHop() / IPv6ExtHdrRouting(type=0, segleft=0, addresses=[]) /
                 IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\x00" * 12)]))),
    ])


main()
