#!/usr/bin/env python3
"""End-to-end RTP test: `sipsift analyze` on the public captures with media.

- Every stream tshark finds (tests/golden/tshark_rtp.json) is a row of
  rtp_streams with the same packets and loss, max delta and max jitter within
  0.002 ms (docs/media.md), and no other row exists; EVE rtp events carry the
  same figures and tshark's RFC 4733 digits.
- The report's stats count the streams' packets; each call lists exactly the
  streams of its Call-ID, and the streams its SDP announced have that Call-ID.
- DTMF: SIP INFO keys (DTMFsipinfo.pcap, as tshark shows the INFO bodies), and
  RFC 4733 keys of a call's streams (a SIP capture written here whose SDP
  announces rtpproxy/dtmf.pcap's endpoints, read before it).
- --dump-calls: one pcap per call with its SIP and RTP frames, a WAV per G.711
  stream with the right header and length (and `soxi` reads it when installed).

Prints "media: N passed, N failed".
"""
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PCAPS = os.path.join(ROOT, "pcaps", "public")
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "sipsift")
TOL_MS = 0.002

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def analyze(tmp, inputs, extra=()):
    db = os.path.join(tmp, "m.db")
    rep = os.path.join(tmp, "m.json")
    eve = os.path.join(tmp, "m.eve")
    for p in (db, rep, eve):
        if os.path.exists(p):
            os.remove(p)
    cmd = [BIN, "analyze", "-q", "--db", db, "--report", rep, "--eve", eve]
    for i in inputs:
        cmd += ["-r", i]
    cmd += list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, None, None, r
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    with open(rep) as f:
        report = json.load(f)
    with open(eve) as f:
        events = [json.loads(line) for line in f if line.strip()]
    return con, report, events, r


def streams_match(tmp, name, rows):
    con, report, events, r = analyze(tmp, [os.path.join(PCAPS, name)])
    if con is None:
        check(False, "%s: analyze exit %d: %s" % (name, r.returncode, r.stderr.strip()))
        return
    got = [dict(x) for x in con.execute("SELECT * FROM rtp_streams")]
    check(len(got) == len(rows), "%s: %d streams, tshark %d" % (name, len(got), len(rows)))
    eve_rtp = [e["rtp"] for e in events if e["event_type"] == "rtp"]
    check(len(eve_rtp) == len(rows), "%s: %d rtp events, tshark %d streams" % (name, len(eve_rtp), len(rows)))
    for ssrc_hex, sport, dport, packets, lost, max_delta, max_jitter, dtmf in rows:
        ssrc = int(ssrc_hex, 16)
        mine = [g for g in got if g["ssrc"] == ssrc and g["src_port"] == sport and g["dst_port"] == dport]
        if len(mine) != 1:
            check(False, "%s %s %d->%d: %d rows" % (name, ssrc_hex, sport, dport, len(mine)))
            continue
        g = mine[0]
        ok = (g["packets"] == packets and g["lost"] == lost and abs(g["max_delta_ms"] - max_delta) <= TOL_MS
              and abs(g["jitter_ms"] - max_jitter) <= TOL_MS)
        check(ok, "%s %s: packets %s/%d lost %s/%d max delta %.3f/%.3f jitter %.3f/%.3f" % (
            name, ssrc_hex, g["packets"], packets, g["lost"], lost, g["max_delta_ms"], max_delta,
            g["jitter_ms"], max_jitter))
        ev = [e for e in eve_rtp if e["ssrc"] == ssrc and e["src_port"] == sport and e["dest_port"] == dport]
        check(len(ev) == 1 and ev[0]["packets"] == packets and ev[0]["lost"] == lost and ev[0]["dtmf"] == dtmf,
              "%s %s: EVE rtp %s, want packets %d lost %d dtmf %r" % (name, ssrc_hex, ev, packets, lost, dtmf))
    st = report["stats"]
    total = sum(x[3] for x in rows)
    check(st["rtp_packets"] == total and st["rtp_streams"] == len(rows),
          "%s: stats rtp_packets %s/%d rtp_streams %s/%d" % (name, st["rtp_packets"], total,
                                                           st["rtp_streams"], len(rows)))
    run_pk = con.execute("SELECT rtp_packets FROM runs").fetchone()[0]
    check(run_pk == total, "%s: runs.rtp_packets %s, want %d" % (name, run_pk, total))
    check(len(report["rtp_streams"]) == len(rows), "%s: report rtp_streams %d" % (name, len(report["rtp_streams"])))
    # each call lists exactly the streams of its Call-ID
    for c in report["calls"]:
        want = sorted(s["id"] for s in report["rtp_streams"] if s["call_id"] == c["call_id"])
        check(sorted(c["rtp_streams"]) == want, "%s call %s: rtp_streams %s, want %s" % (
            name, c["call_id"], c["rtp_streams"], want))
    con.close()
    return report


# How many streams each capture's SDP ties to a call (the rest are found by
# heuristics): SIP_CALL_RTP_G711's call announces 200.57.7.204:8000 and
# 200.57.7.196:40376 (the streams between them, both ways); the other
# streams there are relayed legs nothing announced.
CALL_STREAMS = {
    "wireshark-samples/SIP_CALL_RTP_G711.pcap": {"12013223@200.57.7.195": 2},
    "wireshark-samples/sip-rtp-g711.pcap": {"1-1966@10.0.2.20": 1, "1-1968@10.0.2.20": 1},
    "wireshark-samples/sip-rtp-g729a.pcap": None,
    "wireshark-samples/rtp-protocol.pcap": None,
    "wireshark-samples/sip-over-tcp.pcap": None,
    "wireshark-samples/b2bua-asterisk.pcapng": None,
}


def call_streams(report, name):
    want = CALL_STREAMS.get(name)
    if want is None:
        # one call with SDP, every stream of the capture is its media
        with_media = [c for c in report["calls"] if c["rtp_streams"]]
        check(len(with_media) == 1 and len(with_media[0]["rtp_streams"]) == len(report["rtp_streams"]),
              "%s: calls with media %s" % (name, [(c["call_id"], c["rtp_streams"]) for c in report["calls"]]))
        return
    for cid, n in want.items():
        c = [c for c in report["calls"] if c["call_id"] == cid]
        check(len(c) == 1 and len(c[0]["rtp_streams"]) == n, "%s: call %s streams %s, want %d" % (
            name, cid, c[0]["rtp_streams"] if c else None, n))


def sip_pcap(path, t0, frames):
    """A pcap of Ethernet/IPv4/UDP SIP frames: (dt, src, dst, text)."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for dt, src, dst, text in frames:
        body = text.replace("\n", "\r\n").encode()
        udp = struct.pack("!HHHH", 5060, 5060, 8 + len(body), 0) + body
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))) + udp
        eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00" + ip
        ts = t0 + dt
        out.append(struct.pack("<IIII", int(ts), int(round((ts - int(ts)) * 1e6)), len(eth), len(eth)) + eth)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def sdp_msg(start, cseq, tag, port, pt_event):
    sdp = ("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
           "m=audio %d RTP/AVP %d\na=rtpmap:%d telephone-event/8000\n" % (port, pt_event, pt_event))
    sdp = sdp.replace("\n", "\r\n")
    return ("%s\nVia: SIP/2.0/UDP 10.10.0.82:5060;branch=z9hG4bK-%s\nFrom: <sip:100@x>;tag=a\n"
            "To: <sip:200@y>%s\nCall-ID: dtmf-call@e2e\nCSeq: %s\nContent-Type: application/sdp\n"
            "Content-Length: %d\n\n" % (start, cseq.replace(" ", ""), tag, cseq, len(sdp))) + sdp.replace("\r\n", "\n")


def rfc4733_in_call(tmp):
    """A call whose SDP announces rtpproxy/dtmf.pcap's two endpoints: its keys
    are both streams' digits in time order, its streams both streams."""
    p = os.path.join(tmp, "dtmf-sip.pcap")
    t0 = 1574634878.0  # 2019-11-24 22:34:38, just before the RTP
    sip_pcap(p, t0, [
        (0.0, "10.10.0.82", "127.0.0.1", sdp_msg("INVITE sip:200@y SIP/2.0", "1 INVITE", "", 24272, 101)),
        (0.1, "127.0.0.1", "10.10.0.82", sdp_msg("SIP/2.0 200 OK", "1 INVITE", ";tag=b", 24270, 101)),
    ])
    con, report, events, r = analyze(tmp, [p, os.path.join(PCAPS, "rtpproxy/dtmf.pcap")])
    if con is None:
        check(False, "rfc4733 call: analyze exit %d: %s" % (r.returncode, r.stderr.strip()))
        return
    calls = report["calls"]
    check(len(calls) == 1 and calls[0]["dtmf"] == "123456789*0#554321#",
          "rfc4733 call: dtmf %s, want 123456789*0#554321#" % [c["dtmf"] for c in calls])
    check(len(calls) == 1 and len(calls[0]["rtp_streams"]) == 2, "rfc4733 call: streams %s" % calls)
    eve_calls = [e["call"] for e in events if e["event_type"] == "call"]
    check(len(eve_calls) == 1 and eve_calls[0]["dtmf"] == "123456789*0#554321#"
          and len(eve_calls[0]["rtp_streams"]) == 2, "rfc4733 call: EVE call %s" % eve_calls)
    dbd = con.execute("SELECT dtmf FROM calls").fetchall()
    dbd = [tuple(x) for x in dbd]
    check(dbd == [("123456789*0#554321#",)], "rfc4733 call: calls.dtmf %s" % dbd)
    con.close()


def info_dtmf(tmp):
    # tshark -Y 'sip.Method == "INFO"' shows Signal= 1, 3, 4, 2 (application/dtmf-relay)
    for name in ("wireshark-samples/DTMFsipinfo.pcap", "derived/vlan100_DTMFsipinfo.pcap"):
        con, report, events, r = analyze(tmp, [os.path.join(PCAPS, name)])
        if con is None:
            check(False, "%s: analyze exit %d" % (name, r.returncode))
            continue
        got = [c["dtmf"] for c in report["calls"]]
        check(got == ["1342"], "%s: calls dtmf %s, want ['1342']" % (name, got))
        con.close()


def read_pcap(path):
    """(linktype, [(ts, caplen, data)]) of a classic pcap, either byte order."""
    with open(path, "rb") as f:
        d = f.read()
    if len(d) < 24:
        return None, []
    magic = struct.unpack("<I", d[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    lt = struct.unpack(e + "I", d[20:24])[0]
    out, off = [], 24
    while off + 16 <= len(d):
        sec, usec, cap, ln = struct.unpack(e + "IIII", d[off:off + 16])
        out.append((sec + usec / 1e6, cap, d[off + 16:off + 16 + cap]))
        off += 16 + cap
    return lt, out


def dump_calls(tmp):
    name = "wireshark-samples/sip-rtp-g711.pcap"
    src = os.path.join(PCAPS, name)
    dump = os.path.join(tmp, "calls")
    os.mkdir(dump)
    con, report, events, r = analyze(tmp, [src], ["--dump-calls", dump])
    if con is None:
        check(False, "--dump-calls: analyze exit %d: %s" % (r.returncode, r.stderr.strip()))
        return
    files = sorted(os.listdir(dump))
    pcaps = [f for f in files if f.endswith(".pcap")]
    wavs = [f for f in files if f.endswith(".wav")]
    check(len(pcaps) == 2 and len(wavs) == 2, "--dump-calls: files %s" % files)
    check(all(all(c.isalnum() or c in "._-" for c in f) for f in files), "--dump-calls: unsafe names %s" % files)
    # per call: its SIP messages (tshark: sip.Call-ID) and its stream's RTP
    # (425 PCMU for 1-1966, 414 PCMA for 1-1968: the tshark table)
    want = {"1-1966@10.0.2.20": (6, 425, 7, "PCMU"), "1-1968@10.0.2.20": (4, 414, 6, "PCMA")}
    for cid, (sip, rtp, fmt_tag, codec) in want.items():
        safe = cid.replace("@", "_")
        pf = [f for f in pcaps if safe in f]
        if len(pf) != 1:
            check(False, "--dump-calls: no pcap for %s in %s" % (cid, pcaps))
            continue
        lt, frames = read_pcap(os.path.join(dump, pf[0]))
        check(lt == 1 and len(frames) == sip + rtp, "--dump-calls %s: linktype %s, %d frames, want %d" % (
            cid, lt, len(frames), sip + rtp))
        check(all(frames[i][0] <= frames[i + 1][0] for i in range(len(frames) - 1)), "--dump-calls %s: order" % cid)
        if not shutil.which("tshark"):
            print("media: tshark not installed: dumped pcap checked by this script's reader only")
        else:
            t = subprocess.run(["tshark", "-n", "-r", os.path.join(dump, pf[0]), "-o", "rtp.heuristic_rtp:TRUE",
                                "-T", "fields", "-e", "frame.protocols"], capture_output=True, text=True)
            protos = t.stdout.split()
            n_sip = sum(1 for p in protos if ":sip" in p)
            n_rtp = sum(1 for p in protos if ":rtp" in p)
            check(t.returncode == 0 and n_sip == sip and n_rtp == rtp,
                  "--dump-calls %s: tshark sees %d SIP + %d RTP, want %d + %d" % (cid, n_sip, n_rtp, sip, rtp))
        wf = [f for f in wavs if safe in f and codec in f]
        if len(wf) != 1:
            check(False, "--dump-calls: no %s wav for %s in %s" % (codec, cid, wavs))
            continue
        with open(os.path.join(dump, wf[0]), "rb") as f:
            w = f.read()
        # 20 ms packets at 8000 Hz, timestamps contiguous: 160 samples each
        samples = rtp * 160
        hdr_ok = (w[:4] == b"RIFF" and w[8:16] == b"WAVEfmt " and struct.unpack("<IHHIIHHH", w[16:38])
                  == (18, fmt_tag, 1, 8000, 8000, 1, 8, 0) and w[38:42] == b"fact" and w[50:54] == b"data")
        check(hdr_ok, "--dump-calls %s: WAV header %r" % (cid, w[:58]))
        riff, = struct.unpack("<I", w[4:8])
        fact, = struct.unpack("<I", w[46:50])
        data, = struct.unpack("<I", w[54:58])
        check(data == samples and fact == samples and riff == len(w) - 8 and len(w) == 58 + samples,
              "--dump-calls %s: WAV data %d fact %d riff %d size %d, want %d samples" % (
                  cid, data, fact, riff, len(w), samples))
        if not shutil.which("soxi"):
            print("media: soxi not installed (tests/deps.sh installs sox): WAV not read by sox")
        else:
            s = subprocess.run(["soxi", "-s", os.path.join(dump, wf[0])], capture_output=True, text=True)
            check(s.returncode == 0 and s.stdout.strip() == str(samples),
                  "--dump-calls %s: soxi -s says %r (%s)" % (cid, s.stdout.strip(), s.stderr.strip()))
    con.close()


def main():
    with open(os.path.join(ROOT, "tests", "golden", "tshark_rtp.json")) as f:
        golden = json.load(f)["captures"]
    tmp = tempfile.mkdtemp(prefix="sipsift-media-")
    try:
        for name, rows in golden.items():
            report = streams_match(tmp, name, rows)
            if report is not None and name in CALL_STREAMS:
                call_streams(report, name)
        info_dtmf(tmp)
        rfc4733_in_call(tmp)
        if "--no-dump" not in sys.argv:
            dump_calls(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("media: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
