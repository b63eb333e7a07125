#!/usr/bin/env python3
"""Detection end-to-end test: does `sipsift analyze` find every attacker in the
labelled captures, with the right tool, technique and evidence, and stay quiet
on legitimate traffic?

- pcaps/generated/*.truth.json (real sipvicious, sipsak and SIPp traffic,
  crafted scanners): every attacker IP is a source of severity medium or more
  with the truth's tool and technique(s); extensions found, the cracked
  password (read from the svcrack tag), the numbers dialed, the fake eyeBeam
  scanner's decoded addresses and number; every legit IP at info or low.
- the real attack captures in pcaps/public/sip-attacks/ (expectations below,
  from pcaps/public/MANIFEST.md);
- every other public capture (legitimate traffic): no alert and no source
  above "low";
- --wordlist on pcaps/test/detect/digest-wordlist.pcap, --geoip with the
  fixture database, and the errors of -R, -c, --wordlist and --geoip.
Prints one line per failed check, then "detect: N passed, N failed".
Usage: detect.py PATH/TO/sipsift
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

# Real attack captures: (file, attacker ip or None for "every source",
# tool, techniques, lowest severity).
PUBLIC_ATTACKS = [
    ("pcaps/public/sip-attacks/BadUserAgent-sipvicious.pcap", None, "sipvicious", [], "low"),
    ("pcaps/public/sip-attacks/SIP-Bruteforce-Single-IP.pcap", "199.105.226.32", None,
     ["bruteforce", "enumeration"], "high"),
    ("pcaps/public/sip-attacks/SIP-3700-unauthorized-401.pcap", "40.129.198.250", "sipcli",
     ["tollfraud"], "high"),
]


class Checker:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL %s" % what)


def run(binary, tmp, pcap, *extra):
    db = os.path.join(tmp, "d.db")
    rep = os.path.join(tmp, "d.json")
    for p in (db, db + "-wal", db + "-shm", rep):
        if os.path.exists(p):
            os.unlink(p)
    r = subprocess.run([binary, "analyze", "-q", "-r", os.path.join(ROOT, pcap), "--db", db,
                        "--report", rep] + list(extra), capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        return None, "exit %d: %s" % (r.returncode, r.stderr.strip())
    with open(rep) as f:
        return json.load(f), None


def as_list(v):
    return v if isinstance(v, list) else [v]


def truth_cases(binary, tmp, c):
    gen = os.path.join(ROOT, "pcaps/generated")
    for name in sorted(os.listdir(gen)):
        if not name.endswith(".truth.json"):
            continue
        with open(os.path.join(gen, name)) as f:
            t = json.load(f)
        pcap = "pcaps/generated/" + name[: -len(".truth.json")] + ".pcap"
        rep, err = run(binary, tmp, pcap, "--show-passwords")
        c.check(rep is not None, "%s: %s" % (pcap, err))
        if rep is None:
            continue
        srcs = {s["ip"]: s for s in rep["sources"]}
        for ip in t.get("attacker_ips", []):
            s = srcs.get(ip)
            c.check(s is not None, "%s: attacker %s not a source" % (pcap, ip))
            if s is None:
                continue
            c.check(RANK[s["severity"]] >= RANK["medium"],
                    "%s: attacker %s severity %s, want medium or more" % (pcap, ip, s["severity"]))
            if t.get("tool"):
                c.check(t["tool"] in s["tools"], "%s: %s tools %s lack %s" % (pcap, ip, s["tools"], t["tool"]))
            for tech in as_list(t.get("technique", [])):
                c.check(tech in s["techniques"],
                        "%s: %s techniques %s lack %s" % (pcap, ip, s["techniques"], tech))
            for ext in t.get("extensions_found", []):
                c.check(ext in s["extensions_found"],
                        "%s: %s extensions %s lack %s" % (pcap, ip, s["extensions_found"], ext))
            if "extensions_found" in t:
                extra = set(s["extensions_found"]) - set(t["extensions_found"])
                c.check(not extra, "%s: %s extensions found that do not exist: %s" % (pcap, ip, sorted(extra)))
            if "cracked" in t:
                want = t["cracked"]
                got = [x for x in s["auth"]["credentials"] if x["user"] == want["user"]]
                c.check(any(x.get("accepted") and x.get("password") == want["password"] for x in got),
                        "%s: %s credentials %s lack %s accepted" % (pcap, ip, got, want))
            for num in t.get("dialed", []):
                c.check(any(n["number"] == num for n in s["numbers_dialed"]),
                        "%s: %s numbers dialed lack %s" % (pcap, ip, num))
            if "encoded" in t:
                reasons = " ".join(s["reasons"])
                for k, v in t["encoded"].items():
                    c.check(v in reasons, "%s: decoded %s %s not in reasons %s" % (pcap, k, v, s["reasons"]))
            if "hijacked_contact" in t:
                c.check(any("hijack" in r for r in s["reasons"]), "%s: no hijack reason" % pcap)
        for ip in t.get("legit_ips", []):
            s = srcs.get(ip)
            if s is not None:
                c.check(RANK[s["severity"]] <= RANK["low"],
                        "%s: legit %s severity %s (%s)" % (pcap, ip, s["severity"], s["reasons"]))
        legit = set(t.get("legit_ips", []))
        for a in rep["alerts"]:
            if a["src_ip"] in legit:
                c.check(RANK[a["severity"]] <= RANK["low"],
                        "%s: alert %s %s on legit %s" % (pcap, a["sid"], a["severity"], a["src_ip"]))


def public_attacks(binary, tmp, c):
    for pcap, ip, tool, techs, floor in PUBLIC_ATTACKS:
        rep, err = run(binary, tmp, pcap)
        c.check(rep is not None, "%s: %s" % (pcap, err))
        if rep is None:
            continue
        srcs = [s for s in rep["sources"] if ip is None or s["ip"] == ip]
        c.check(len(srcs) > 0, "%s: no source %s" % (pcap, ip))
        for s in srcs:
            c.check(RANK[s["severity"]] >= RANK[floor],
                    "%s: %s severity %s, want %s or more" % (pcap, s["ip"], s["severity"], floor))
            if tool:
                c.check(tool in s["tools"], "%s: %s tools %s lack %s" % (pcap, s["ip"], s["tools"], tool))
            for tech in techs:
                c.check(tech in s["techniques"], "%s: %s techniques %s lack %s" % (pcap, s["ip"], s["techniques"], tech))


def legit_public(binary, tmp, c):
    attacks = {p for p, *_ in PUBLIC_ATTACKS}
    for d, _, files in os.walk(os.path.join(ROOT, "pcaps/public")):
        for name in sorted(files):
            if not name.endswith((".pcap", ".pcapng")):
                continue
            pcap = os.path.relpath(os.path.join(d, name), ROOT)
            if pcap in attacks:
                continue
            rep, err = run(binary, tmp, pcap)
            c.check(rep is not None, "%s: %s" % (pcap, err))
            if rep is None:
                continue
            loud = [s["ip"] + " " + s["severity"] for s in rep["sources"] if RANK[s["severity"]] > RANK["low"]]
            c.check(not loud, "%s: legit capture has sources above low: %s" % (pcap, loud))
            loud = ["%s %s" % (a["sid"], a["severity"]) for a in rep["alerts"] if RANK[a["severity"]] > RANK["low"]]
            c.check(not loud, "%s: legit capture has alerts above low: %s" % (pcap, loud))


def extras(binary, tmp, c):
    pcap = "pcaps/test/detect/digest-wordlist.pcap"
    wl = os.path.join(ROOT, "pcaps/test/detect/digest-wordlist.txt")
    rep, err = run(binary, tmp, pcap, "--wordlist", wl, "--show-passwords")
    c.check(rep is not None, "%s: %s" % (pcap, err))
    if rep:
        creds = {(x["user"], x.get("password"), x["accepted"]) for s in rep["sources"] for x in s["auth"]["credentials"]}
        c.check(("300", "s3cret!", True) in creds, "wordlist: qop=auth password not recovered: %s" % creds)
        c.check(("301", "hunter2", True) in creds, "wordlist: RFC 2069 password not recovered: %s" % creds)
    rep, err = run(binary, tmp, pcap, "--wordlist", wl)
    if rep:
        pws = {x.get("password") for s in rep["sources"] for x in s["auth"]["credentials"]}
        c.check(pws == {"(redacted)"}, "wordlist: passwords not redacted by default: %s" % pws)
    rep, err = run(binary, tmp, "pcaps/generated/svcrack-dict.pcap", "--geoip",
                   os.path.join(ROOT, "tests/fixtures/geoip-test.mmdb"))
    c.check(rep is not None, "geoip: %s" % err)
    if rep:
        s = [s for s in rep["sources"] if s["ip"] == "198.51.100.88"]
        c.check(s and s[0]["country"] == "NL" and s[0]["asn"] == "AS64496",
                "geoip: 198.51.100.88 got %s" % [(x["country"], x["asn"]) for x in s])

    # Start-up errors: one line naming the thing, exit 2, nothing analysed.
    bad_rule = os.path.join(tmp, "bad.rules")
    with open(bad_rule, "w") as f:
        f.write("# ok\nalert sip any any -> any any (msg:\"x\"; sip.fooo; sid:1;)\n")
    bad_cfg = os.path.join(tmp, "bad.conf")
    with open(bad_cfg, "w") as f:
        f.write("sweep.count = 10\nsweep.cuont = 3\n")
    good_cfg = os.path.join(tmp, "good.conf")
    with open(good_cfg, "w") as f:
        f.write("sweep.count = 300\n")
    db = os.path.join(tmp, "e.db")
    for args, needle in ((["-R", bad_rule], bad_rule + ":2: "),
                         (["-R", "/nonexistent.rules"], "/nonexistent.rules"),
                         (["-c", bad_cfg], bad_cfg + ":2: unknown key 'sweep.cuont'"),
                         (["-c", "/nonexistent.conf"], "/nonexistent.conf: cannot open"),
                         (["--wordlist", "/nonexistent.txt"], "--wordlist /nonexistent.txt: "),
                         (["--geoip", bad_cfg], "--geoip " + bad_cfg + ": ")):
        r = subprocess.run([binary, "analyze", "-q", "-r", os.path.join(ROOT, "pcaps/demo.pcap"),
                            "--db", db] + args, capture_output=True, text=True, timeout=60)
        c.check(r.returncode == 2, "%s: exit %d, want 2" % (args, r.returncode))
        c.check(needle in r.stderr and r.stderr.startswith("sipsift: "),
                "%s: stderr %r lacks %r" % (args, r.stderr, needle))
        c.check(not os.path.exists(db), "%s: a store was written before the error" % args)
    # A config raising the sweep threshold silences the svmap sweep technique.
    rep, err = run(binary, tmp, "pcaps/generated/svmap-sweep.pcap", "-c", good_cfg)
    c.check(rep is not None and all("sweep" not in s["techniques"] for s in rep["sources"]),
            "-c sweep.count = 300 did not apply: %s" % (err or [s["techniques"] for s in rep["sources"]]))
    # -R with our own rule only: the bundled rules are not loaded then.
    own = os.path.join(tmp, "own.rules")
    with open(own, "w") as f:
        f.write('alert sip any any -> any any (msg:"mine"; sip.method; content:"OPTIONS"; '
                'threshold:type limit, track by_src, count 1, seconds 3600; sid:4000001; rev:1;)\n')
    rep, err = run(binary, tmp, "pcaps/generated/svmap-sweep.pcap", "-R", own)
    sids = {a["sid"] for a in rep["alerts"]} if rep else set()
    c.check(4000001 in sids and 3000001 not in sids, "-R own.rules: sids %s" % sorted(sids))


def main():
    binary = os.path.abspath(sys.argv[1])
    c = Checker()
    with tempfile.TemporaryDirectory() as tmp:
        truth_cases(binary, tmp, c)
        public_attacks(binary, tmp, c)
        legit_public(binary, tmp, c)
        extras(binary, tmp, c)
    print("detect: %d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
