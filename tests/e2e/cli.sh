#!/bin/sh
# cli.sh SIPSIFT - the command line as a user meets it: exit codes of
# CONTRACT.md, one-line errors naming the thing and the fix, outputs that
# agree with each other. Ends with "cli: N passed, N failed".
set -u
bin=$1
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_exit CODE PATTERN -- command...: exit code, and stderr is one line matching PATTERN
expect_exit() {
    code=$1; pat=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    lines=$(wc -l <"$tmp/err")
    if [ "$got" -ne "$code" ]; then
        bad "$* -> exit $got, expected $code ($(head -c 300 "$tmp/err"))"
    elif [ -n "$pat" ] && ! grep -q -- "$pat" "$tmp/err"; then
        bad "$* -> stderr '$(head -c 300 "$tmp/err")' lacks '$pat'"
    elif [ -n "$pat" ] && [ "$lines" -ne 1 ]; then
        bad "$* -> $lines lines on stderr, expected one"
    else
        ok
    fi
}

sip=pcaps/public/suricata-verify/sip-method/sip.pcap

# A full disk (a tiny tmpfs; root only): one line that names the file and the
# fix, exit 1, and the other outputs are complete and sound.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$tmp/full" && mount -t tmpfs -o size=96k tmpfs "$tmp/full" 2>/dev/null; then
    trap 'umount "$tmp/full" 2>/dev/null; rm -rf "$tmp"' EXIT
    big=pcaps/public/sip-attacks/SIP-Bruteforce-Single-IP.pcap
    # too small for the schema, then room for the schema but not the first batch
    expect_exit 1 "schema: database or disk is full: free space there" -- "$bin" analyze -q -r "$big" --db "$tmp/full/a.db"
    rm -f "$tmp/full/"*
    mount -o remount,size=400k "$tmp/full"
    expect_exit 1 "commit: database or disk is full: free space there" -- "$bin" analyze -q -r "$big" --db "$tmp/full/a.db"
    if [ "$(sqlite3 "$tmp/full/a.db" "pragma integrity_check" 2>&1)" = "ok" ]; then ok; else bad "full disk: the store is not sound"; fi
    rm -f "$tmp/full/"*
    expect_exit 1 "e.json: write: No space left" -- "$bin" analyze -q -r "$big" --db "$tmp/f.db" --eve "$tmp/full/e.json"
    if [ "$(sqlite3 "$tmp/f.db" "pragma integrity_check; select status || ' ' || sip_messages from runs; select count(*) from sip_messages" 2>&1 | tr '\n' ' ')" = "ok finished 2645 2645 " ]; then
        ok
    else
        bad "full disk for --eve: the store is not whole"
    fi
    umount "$tmp/full"
    trap 'rm -rf "$tmp"' EXIT
else
    echo "cli: full-disk checks skipped (need root to mount a tmpfs)"
fi
expect_exit 2 "unknown command" -- "$bin" frobnicate
expect_exit 2 "no input" -- "$bin" analyze --db "$tmp/a.db"
expect_exit 2 "bad option" -- "$bin" analyze --bogus -r "$sip"
expect_exit 1 "sipsift: $tmp/missing.pcap" -- "$bin" analyze -q -r "$tmp/missing.pcap" --db "$tmp/a.db"
expect_exit 1 "sipsift: $tmp" -- "$bin" analyze -q -r "$tmp" --db "$tmp/a.db"
: >"$tmp/empty.pcap"
expect_exit 1 "empty.pcap" -- "$bin" analyze -q -r "$tmp/empty.pcap" --db "$tmp/a.db"
gzip -c "$sip" >"$tmp/c.pcap.gz"
expect_exit 1 "gunzip" -- "$bin" analyze -q -r "$tmp/c.pcap.gz" --db "$tmp/a.db"
head -c 1000 /dev/urandom >"$tmp/junk.pcap"
expect_exit 1 "junk.pcap" -- "$bin" analyze -q -r "$tmp/junk.pcap" --db "$tmp/a.db"
# A link type sipsift does not decode (802.11) is named, not silently skipped.
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\151\000\000\000' >"$tmp/wifi.pcap"
expect_exit 1 "IEEE802_11" -- "$bin" analyze -q -r "$tmp/wifi.pcap" --db "$tmp/a.db"
expect_exit 2 "filter" -- "$bin" analyze -q -r "$sip" --db "$tmp/a.db" 'udp port nonsense('
# --dump-calls DIR is checked before anything is read: missing, not a
# directory, no file can be created there (/proc refuses even root).
expect_exit 1 "^sipsift: --dump-calls $tmp/no-dir: No such file or directory$" -- "$bin" analyze -q -r "$sip" --db "$tmp/a.db" --dump-calls "$tmp/no-dir"
expect_exit 1 "^sipsift: --dump-calls $tmp/junk.pcap: not a directory$" -- "$bin" analyze -q -r "$sip" --db "$tmp/a.db" --dump-calls "$tmp/junk.pcap"
expect_exit 1 "^sipsift: --dump-calls /proc: cannot create files there: " -- "$bin" analyze -q -r "$sip" --db "$tmp/a.db" --dump-calls /proc
expect_exit 1 "" -- "$bin" report --db "$tmp/nothing-here.db"
[ ! -e "$tmp/nothing-here.db" ] && ok || bad "report created a store that did not exist"

# A capture cut in the middle of a record: everything before the cut is kept, exit 1.
head -c 60000 "$sip" >"$tmp/cut.pcap"
expect_exit 1 "cut.pcap" -- "$bin" analyze -q -r "$tmp/cut.pcap" --db "$tmp/cut.db" --report "$tmp/cut.json"
if [ -s "$tmp/cut.json" ] && grep -q '"sip_messages"' "$tmp/cut.json"; then ok; else bad "truncated capture: no report"; fi

# A clean run: report file, EVE lines, and `report --json` agreeing with --report.
expect_exit 0 "" -- "$bin" analyze -q -r "$sip" --db "$tmp/b.db" --report "$tmp/b.json" --eve "$tmp/b.eve"
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
if $py - "$tmp/b.json" "$tmp/b.eve" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
for k in ("version", "inputs", "stats", "sources", "alerts", "calls", "rtp_streams"):
    assert k in rep, k
n = 0
for line in open(sys.argv[2]):
    ev = json.loads(line)
    for k in ("timestamp", "event_type", "src_ip", "src_port", "dest_ip", "dest_port", "proto"):
        assert k in ev, (k, ev)
    assert ev["event_type"] in ev, ev
    n += ev["event_type"] == "sip"
assert n == rep["stats"]["sip_messages"], (n, rep["stats"]["sip_messages"])
PY
then ok; else bad "report/EVE keys or counts"; fi
"$bin" report --db "$tmp/b.db" --json >"$tmp/b2.json" 2>"$tmp/err" && cmp -s "$tmp/b.json" "$tmp/b2.json" && ok \
    || bad "report --json differs from analyze --report ($(head -c 200 "$tmp/err"))"
"$bin" report --db "$tmp/b.db" >"$tmp/sum.txt" 2>&1 && grep -q "REGISTER" "$tmp/sum.txt" && ok || bad "report summary"
# Several inputs, read in order, stdin as one of them.
"$bin" analyze -q -r "$sip" -r - --db "$tmp/c.db" --report "$tmp/c.json" <"$sip" >/dev/null 2>"$tmp/err" \
    && grep -q '"packets": *1382' "$tmp/c.json" && ok || bad "two inputs (file + stdin): $(head -c 200 "$tmp/err")"
# A BPF filter keeps only what it matches.
"$bin" analyze -q -r "$sip" --db "$tmp/d.db" --report "$tmp/d.json" 'udp port 5060' >/dev/null 2>&1 \
    && ! grep -q '"packets": *691' "$tmp/d.json" && ok || bad "BPF filter did not filter"

# Rule files: the bundled set is valid; an error names file and line, exit 2.
"$bin" rules check rules/sipsift.rules >"$tmp/out" 2>&1 && grep -q "rules OK" "$tmp/out" && ok \
    || bad "rules check rules/sipsift.rules: $(head -c 300 "$tmp/out")"
printf '# bad\nalert sip any any -> any any (msg:"x"; sip.fooo; content:"a"; sid:1;)\n' >"$tmp/bad.rules"
"$bin" rules check "$tmp/bad.rules" >"$tmp/out" 2>&1
st=$?
[ "$st" -eq 2 ] && grep -q "bad.rules:2: .*sip.fooo" "$tmp/out" && ok || bad "rules check bad.rules: exit $st, $(head -c 300 "$tmp/out")"

# SIGTERM while reading a slow pipe: exit 0, run marked interrupted, every
# message already read is in the store and the report, the store is sound.
(cat "$sip"; sleep 10) | "$bin" analyze -q -r - --db "$tmp/t.db" --report "$tmp/t.json" >/dev/null 2>"$tmp/err" &
pid=$!
sleep 3 # start-up under ASan alone can take over a second
kill -TERM "$pid" 2>/dev/null
wait "$pid"
st=$?
if [ "$st" -eq 0 ] && grep -q '"sip_messages": *81' "$tmp/t.json" \
    && [ "$(sqlite3 "$tmp/t.db" 'pragma integrity_check; select status from runs;' 2>&1 | tr '\n' ' ')" = "ok interrupted " ]; then
    ok
else
    bad "SIGTERM: exit $st, $(head -c 200 "$tmp/err"), $(sqlite3 "$tmp/t.db" 'select status, sip_messages from runs' 2>&1)"
fi

# HEP: the SIP inside is reported with the addresses HEP recorded, not the carrier's.
"$bin" analyze -q -r pcaps/public/hep-wireshark/hep.pcap --db "$tmp/h.db" >/dev/null 2>&1
[ "$(sqlite3 "$tmp/h.db" "select count(*) from sip_messages where hep = 1 and src_ip in ('192.168.1.1','192.168.1.2') and src_port = 5060")" = 6 ] \
    && ok || bad "HEP addresses: $(sqlite3 "$tmp/h.db" 'select src_ip, src_port, hep from sip_messages' 2>&1 | head -3)"

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
