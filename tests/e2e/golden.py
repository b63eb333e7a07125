#!/usr/bin/env python3
"""Golden end-to-end test: sipsift's counts against tshark's on real captures.

For every capture in tests/golden/tshark.json (tshark 4.0.17's counts, copied
from pcaps/public/MANIFEST.md) and every labelled capture in pcaps/generated/
(its .truth.json), run `sipsift analyze` and compare: packets, SIP messages,
requests by method, responses by status code, distinct Call-IDs. Where tshark
is wrong (SIP inside HEP, ...) tests/golden/deviations.json gives sipsift's
expected value and the reason; tests/golden/local.json holds captures made
for cases the public corpus lacks (pcaps/test/), each with its source. Prints one line per failed check and ends with
"N passed, N failed". Usage: golden.py PATH/TO/sipsift
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(path):
    with open(os.path.join(ROOT, path)) as f:
        return json.load(f)


def cases():
    for row in load("tests/golden/tshark.json") + load("tests/golden/local.json"):
        yield row["file"], {k: v for k, v in row.items() if k not in ("file", "source")}, row["source"]
    gen = os.path.join(ROOT, "pcaps/generated")
    for name in sorted(os.listdir(gen)):
        if name.endswith(".truth.json"):
            t = load(os.path.join("pcaps/generated", name))
            pcap = "pcaps/generated/" + name[: -len(".truth.json")] + ".pcap"
            row = {k: t[src] for k, src in (("packets", "packets"), ("sip_messages", "messages"),
                                             ("sip_requests", "sip_requests"),
                                             ("sip_responses", "sip_responses")) if src in t}
            yield pcap, row, "truth file " + name


def run(binary, pcap, tmp):
    db = os.path.join(tmp, "g.db")
    rep = os.path.join(tmp, "g.json")
    for p in (db, db + "-wal", db + "-shm", rep):
        if os.path.exists(p):
            os.unlink(p)
    r = subprocess.run([binary, "analyze", "-q", "-r", os.path.join(ROOT, pcap), "--db", db,
                        "--report", rep], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        return None, "exit %d: %s" % (r.returncode, r.stderr.strip())
    with open(rep) as f:
        return json.load(f), None


def main():
    binary = os.path.abspath(sys.argv[1])
    deviations = load("tests/golden/deviations.json")
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for pcap, want, source in cases():
            report, err = run(binary, pcap, tmp)
            if report is None:
                print("FAIL %s: %s" % (pcap, err))
                failed += 1
                continue
            st = report["stats"]
            got = {
                "packets": st["packets"],
                "sip_messages": st["sip_messages"],
                "sip_requests": st["sip_requests"],
                "sip_responses": st["sip_responses"],
                "call_ids": st["call_ids"],
            }
            dev = deviations.get(pcap, {})
            for key, expected in want.items():
                if key not in got:
                    continue
                why = None
                if key in dev:
                    expected, why = dev[key]["sipsift"], dev[key]["why"]
                if got[key] == expected:
                    passed += 1
                else:
                    failed += 1
                    print("FAIL %s %s: sipsift %s, expected %s (%s%s)" % (
                        pcap, key, json.dumps(got[key], sort_keys=True),
                        json.dumps(expected, sort_keys=True), source,
                        "; deviation: " + why if why else ""))
    print("golden: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
