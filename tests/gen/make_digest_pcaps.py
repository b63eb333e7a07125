#!/usr/bin/python3
"""make_digest_pcaps.py [OUTDIR] - a digest brute force whose responses are real
MD5 digests (RFC 2617) of known passwords, for the --wordlist end-to-end test:
the generated attack captures in pcaps/generated/ had their addresses rewritten
after hashing, so their responses no longer match their URIs.

198.51.100.50 guesses user 300 (realm "pbx", qop=auth): letmein, qwerty -> 403,
s3cret! -> 200. 192.0.2.71 registers user 301 without qop (RFC 2069 style),
password hunter2 -> 200. Run: /usr/bin/python3 tests/gen/make_digest_pcaps.py
Deterministic output; documentation addresses (RFC 5737)."""
import hashlib
import os
import sys

from scapy.all import IP, UDP, Ether, conf, wrpcap

conf.verb = 0
T0 = 1700000000
PBX = "192.0.2.70"


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def frame(t, src, dst, text):
    p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / \
        IP(src=src, dst=dst, id=1, ttl=64) / UDP(sport=5060, dport=5060) / text.replace("\n", "\r\n").encode()
    p.time = t
    return p


def register(src, user, k, auth=""):
    return ("REGISTER sip:%s SIP/2.0\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-d%d\n"
            "From: <sip:%s@%s>;tag=d%d\nTo: <sip:%s@%s>\nCall-ID: dg-%s-%d@%s\nCSeq: %d REGISTER\n"
            "Contact: <sip:%s@%s>\nExpires: 600\n%sContent-Length: 0\n\n"
            % (PBX, src, k, user, PBX, k, user, PBX, user, k, src, k + 1, user, src, auth))


def response(src, user, k, code, reason, extra=""):
    return ("SIP/2.0 %d %s\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-d%d\n"
            "From: <sip:%s@%s>;tag=d%d\nTo: <sip:%s@%s>;tag=srv\nCall-ID: dg-%s-%d@%s\n"
            "CSeq: %d REGISTER\n%sContent-Length: 0\n\n"
            % (code, reason, src, k, user, PBX, k, user, PBX, user, k, src, k + 1, extra))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "pcaps/test/detect"
    pkts, t = [], T0
    att, realm, uri = "198.51.100.50", "pbx", "sip:" + PBX
    for k, (pw, code) in enumerate([("letmein", 403), ("qwerty", 403), ("s3cret!", 200)]):
        nonce, cnonce, nc = "n%08d" % k, "c%08d" % k, "00000001"
        ha1, ha2 = md5("300:%s:%s" % (realm, pw)), md5("REGISTER:" + uri)
        resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
        pkts.append(frame(t, att, PBX, register(att, "300", k)))
        pkts.append(frame(t + 0.01, PBX, att, response(att, "300", k, 401, "Unauthorized",
                    'WWW-Authenticate: Digest realm="%s", nonce="%s", qop="auth", algorithm=MD5\n' % (realm, nonce))))
        auth = ('Authorization: Digest username="300", realm="%s", nonce="%s", uri="%s", '
                'response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"\n' % (realm, nonce, uri, resp, nc, cnonce))
        pkts.append(frame(t + 0.02, att, PBX, register(att, "300", 100 + k, auth)))
        pkts.append(frame(t + 0.03, PBX, att, response(att, "300", 100 + k, code, "OK" if code == 200 else "Forbidden")))
        t += 0.5
    phone, nonce = "192.0.2.71", "plainnonce"
    resp = md5("%s:%s:%s" % (md5("301:%s:hunter2" % realm), nonce, md5("REGISTER:" + uri)))
    pkts.append(frame(t, phone, PBX, register(phone, "301", 7)))
    pkts.append(frame(t + 0.01, PBX, phone, response(phone, "301", 7, 401, "Unauthorized",
                'WWW-Authenticate: Digest realm="%s", nonce="%s"\n' % (realm, nonce))))
    auth = ('Authorization: Digest username="301", realm="%s", nonce="%s", uri="%s", response="%s"\n'
            % (realm, nonce, uri, resp))
    pkts.append(frame(t + 0.02, phone, PBX, register(phone, "301", 107, auth)))
    pkts.append(frame(t + 0.03, PBX, phone, response(phone, "301", 107, 200, "OK")))
    os.makedirs(out, exist_ok=True)
    wrpcap(os.path.join(out, "digest-wordlist.pcap"), pkts)
    with open(os.path.join(out, "digest-wordlist.txt"), "w") as f:
        f.write("123456\npassword\nletmein\nqwerty\nhunter2\ns3cret!\n")


main()
