#!/bin/sh
# live.sh SIPSIFT - live capture (-i) end to end, inside network namespaces
# this script creates and always removes: bundled captures are replayed with
# tcpreplay into one end of a veth pair while sipsift captures on the other.
# Checks: the live run finds exactly what the offline run of the same file
# finds (counts, not times: the replay restamps frames), commits on a quiet
# link, SIGTERM mid-stream, SIGUSR1 (report), SIGHUP (EVE reopen), several
# -i, -Z, and the one-line errors. Ends with "live: N passed, N failed".
# Skipped (with a "skipped" line) only when not root or namespaces are impossible.
set -u
bin=$1
cd "$(dirname "$0")/../.." || exit 2
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

skip() {
    echo "live: skipped: $*"
    echo "live: 0 passed, 0 failed"
    exit 0
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, packet capture)"
command -v ip >/dev/null || skip "ip (iproute2) not found"
if ! command -v tcpreplay >/dev/null; then
    echo "FAIL: tcpreplay not found: run tests/deps.sh"
    echo "live: 0 passed, 1 failed"
    exit 1
fi

tag="ss$$"
nsa="${tag}a" # the sender: tcpreplay
nsb="${tag}b" # the sensor: sipsift
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=""
cleanup() {
    for p in $pids; do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$nsa" 2>/dev/null
    ip netns del "$nsb" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$nsa" 2>/dev/null || skip "cannot create a network namespace"
ip netns add "$nsb" || skip "cannot create a second network namespace"
# Two veth pairs: xN in the sender's namespace, yN in the sensor's. IPv6 is
# off so the links are silent (no router solicitations): "idle" means idle.
for ns in "$nsa" "$nsb"; do
    ip netns exec "$ns" sh -c 'for k in all default; do echo 1 >/proc/sys/net/ipv6/conf/$k/disable_ipv6; done' 2>/dev/null
done
for n in 1 2; do
    ip link add "${tag}x$n" netns "$nsa" type veth peer name "${tag}y$n" netns "$nsb" ||
        skip "cannot create a veth pair"
    ip -n "$nsa" link set "${tag}x$n" up && ip -n "$nsb" link set "${tag}y$n" up ||
        skip "cannot bring the veth pair up"
done
ifb="${tag}y1"

# sipsift in the sensor namespace, in the background: start_live NAME ARGS...
# Waits for "listening on", printed once the interfaces, the store and the
# run row are all in place (not with -q).
live_pid=""
start_live() {
    _name=$1
    shift
    ip netns exec "$nsb" "$bin" analyze "$@" >"$tmp/$_name.out" 2>"$tmp/$_name.err" &
    live_pid=$!
    pids="$pids $live_pid"
    _i=0
    while [ $_i -lt 100 ]; do
        _n=$(grep -c "listening on" "$tmp/$_name.err" 2>/dev/null)
        [ "${_n:-0}" -ge "$want_ifaces" ] && return 0
        kill -0 "$live_pid" 2>/dev/null || break
        sleep 0.1
        _i=$((_i + 1))
    done
    bad "$_name: sipsift did not start listening: $(head -c 300 "$tmp/$_name.err")"
    return 1
}
want_ifaces=1

# stop_live [SIG]: signal it, wait at most 20 s, set live_rc.
stop_live() {
    kill "-${1:-TERM}" "$live_pid" 2>/dev/null
    _i=0
    while kill -0 "$live_pid" 2>/dev/null && [ $_i -lt 200 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    if kill -0 "$live_pid" 2>/dev/null; then
        kill -KILL "$live_pid"
        bad "sipsift did not stop within 20 s of SIG${1:-TERM}"
    fi
    wait "$live_pid"
    live_rc=$?
}

# Helpers' variables start with _: sh has no locals and the callers loop too.
# Replays are paced (--pps 20000: a 1,000-frame capture in 50 ms) rather than
# --topspeed, so a burst cannot overflow the veth's backlog on a loaded machine.
replay() { # replay IFACE_NO FILE [tcpreplay options]
    _x=$1
    _f=$2
    shift 2
    ip netns exec "$nsa" tcpreplay -q -i "${tag}x$_x" "$@" "$_f" >/dev/null 2>"$tmp/replay.err" ||
        bad "tcpreplay $_f: $(head -c 200 "$tmp/replay.err")"
}

# SIP messages committed in the store's latest run (a reader, as a user would).
committed() {
    $py - "$1" <<'PY' 2>/dev/null || echo -1
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
print(c.execute("SELECT count(*) FROM sip_messages WHERE run_id = (SELECT max(id) FROM runs)").fetchone()[0])
PY
}

# wait_count DB N SECONDS: poll until N SIP messages are committed; 0 if they are in time.
wait_count() {
    $py - "$@" <<'PY' 2>/dev/null
import sqlite3, sys, time
db, want, end = sys.argv[1], int(sys.argv[2]), time.monotonic() + float(sys.argv[3])
while True:
    try:
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        n = c.execute("SELECT count(*) FROM sip_messages WHERE run_id = (SELECT max(id) FROM runs)").fetchone()[0]
        c.close()
    except sqlite3.Error:
        n = -1
    if n >= want:
        sys.exit(0)
    if time.monotonic() > end:
        sys.exit(1)
    time.sleep(0.05)
PY
}

sip_total() { # SIP messages of an offline report
    $py -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"]["sip_messages"])' "$1"
}

# --- 1. live = offline, capture by capture --------------------------------
compare() { # compare OFFLINE.json LIVE.json LABEL
    if $py - "$1" "$2" >"$tmp/cmp.txt" 2>&1 <<'PY'
import json, sys
off, live = (json.load(open(p)) for p in sys.argv[1:3])
bad = []
for k in ("sip_messages", "sip_requests", "sip_responses", "sip_malformed", "user_agents",
          "calls", "call_ids", "registrations", "auth_attempts"):
    if off["stats"][k] != live["stats"][k]:
        bad.append("stats.%s: offline %r, live %r" % (k, off["stats"][k], live["stats"][k]))
def src(r):
    keep = ("sip_messages", "methods", "user_agents", "targets", "users_tried",
            "extensions_found", "auth", "tools", "techniques", "severity")
    return {s["ip"]: {k: s.get(k) for k in keep} for s in r["sources"]}
if src(off) != src(live):
    bad.append("sources: offline %r, live %r" % (src(off), src(live)))
def calls(r):
    return sorted((c["call_id"], c["state"]) for c in r["calls"])
if calls(off) != calls(live):
    bad.append("calls: offline %r, live %r" % (calls(off), calls(live)))
inp = live["inputs"][0]
if inp.get("ps_drop") != 0 or inp.get("ps_recv", 0) < inp["packets"]:
    bad.append("kernel counters: %r" % inp)
if live["run"]["status"] != "finished":
    bad.append("run status %r" % live["run"]["status"])
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
    then ok; else bad "$3: live differs from offline: $(head -c 600 "$tmp/cmp.txt")"; fi
}

n=0
for f in pcaps/generated/svcrack-dict.pcap pcaps/generated/sipp-tollfraud.pcap \
         pcaps/generated/legit-office.pcap pcaps/public/wireshark-samples/sip-over-tcp.pcap \
         pcaps/public/suricata-verify/sip-method/sip.pcap; do
    n=$((n + 1))
    "$bin" analyze -q -r "$f" --db "$tmp/off$n.db" --report "$tmp/off$n.json" ||
        { bad "offline run of $f failed"; continue; }
    expect=$(sip_total "$tmp/off$n.json")
    start_live "live$n" -i "$ifb" --db "$tmp/live$n.db" || continue
    replay 1 "$f" --pps 20000
    # No frame follows the replay: only the wall-clock tick can commit the
    # last batch, and it must within about a second (3.5 s: slack for ASan
    # and a loaded CI machine; without the tick nothing is ever committed).
    wait_count "$tmp/live$n.db" "$expect" 3.5 && ok ||
        bad "$f: $(committed "$tmp/live$n.db") of $expect SIP messages committed 3.5 s after the replay"
    stop_live TERM
    [ "$live_rc" -eq 0 ] && ok || bad "$f: live run exit $live_rc: $(head -c 300 "$tmp/live$n.err")"
    "$bin" report --db "$tmp/live$n.db" --json >"$tmp/live$n.json" 2>>"$tmp/live$n.err"
    compare "$tmp/off$n.json" "$tmp/live$n.json" "$f"
    # the summary printed at the stop shows the kernel's counters of the interface
    grep -q "^  $ifb .* 0 *0$" "$tmp/live$n.out" && ok ||
        bad "$f: the summary lacks the interface's kernel counters: $(grep -A2 INTERFACE "$tmp/live$n.out")"
done

# --- 2. SIGTERM in mid-stream: committed rows kept, store intact -----------
big=pcaps/public/sip-attacks/SIP-Bruteforce-Single-IP.pcap
if start_live term -i "$ifb" --db "$tmp/term.db"; then
    ip netns exec "$nsa" tcpreplay -q -i "${tag}x1" --pps 500 "$big" >/dev/null 2>&1 &
    rp=$!
    pids="$pids $rp"
    wait_count "$tmp/term.db" 300 10 || bad "SIGTERM: nothing committed while replaying"
    seen=$(committed "$tmp/term.db")
    stop_live TERM
    kill "$rp" 2>/dev/null
    wait "$rp" 2>/dev/null
    [ "$live_rc" -eq 0 ] && ok || bad "SIGTERM: exit $live_rc: $(head -c 300 "$tmp/term.err")"
    if $py - "$tmp/term.db" "$seen" >"$tmp/term.txt" 2>&1 <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
seen = int(sys.argv[2])
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check"
status, fin, msgs, stats = c.execute(
    "SELECT status, finished_us, sip_messages, capture_stats FROM runs ORDER BY id DESC").fetchone()
rows = c.execute("SELECT count(*) FROM sip_messages").fetchone()[0]
assert status == "finished" and fin, (status, fin)
assert rows >= seen, ("rows lost", rows, seen)
assert rows == msgs, ("runs.sip_messages vs rows", msgs, rows)
assert rows < 2639, ("not stopped mid-stream", rows)
assert '"live"' in stats and '"ps_recv"' in stats, stats
PY
    then ok; else bad "SIGTERM mid-stream: $(tail -n 2 "$tmp/term.txt")"; fi
fi

# --- 3. SIGUSR1 rewrites the report, SIGHUP reopens the EVE file ------------
a=pcaps/generated/svcrack-dict.pcap
b=pcaps/generated/sipp-tollfraud.pcap
na=$(sip_total "$tmp/off1.json")
nb=$(sip_total "$tmp/off2.json")
report_says() { # report_says FILE N: the report exists and counts N SIP messages, run running
    $py - "$1" "$2" <<'PY' 2>/dev/null
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(0 if r["stats"]["sip_messages"] == int(sys.argv[2]) and r["run"]["status"] == "running"
         and r["sources"] else 1)
PY
}
wait_report() {
    _i=0
    while [ $_i -lt 50 ]; do
        report_says "$1" "$2" && return 0
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}
sip_lines() { grep -c '"event_type":"sip"' "$1" 2>/dev/null || true; }
if start_live sig -i "$ifb" --db "$tmp/sig.db" --report "$tmp/sig.json" --report-interval 0 \
        --eve "$tmp/sig.eve"; then
    replay 1 "$a" --pps 20000
    wait_count "$tmp/sig.db" "$na" 5 || bad "signals: first capture not committed"
    [ ! -e "$tmp/sig.json" ] && ok || bad "--report-interval 0 wrote a report before SIGUSR1"
    kill -USR1 "$live_pid"
    wait_report "$tmp/sig.json" "$na" && ok || bad "SIGUSR1: report does not show $na messages"
    [ "$(sip_lines "$tmp/sig.eve")" = "$na" ] && ok ||
        bad "EVE has $(sip_lines "$tmp/sig.eve") sip events, expected $na (flushed per tick)"
    mv "$tmp/sig.eve" "$tmp/sig.eve.1"
    kill -HUP "$live_pid"
    i=0
    while [ ! -e "$tmp/sig.eve" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done # bounded
    [ -e "$tmp/sig.eve" ] && ok || bad "SIGHUP: EVE file not reopened"
    replay 1 "$b" --pps 20000
    wait_count "$tmp/sig.db" $((na + nb)) 5 || bad "signals: second capture not committed"
    kill -USR1 "$live_pid"
    wait_report "$tmp/sig.json" $((na + nb)) && ok || bad "second SIGUSR1: report not rewritten"
    stop_live TERM
    [ "$live_rc" -eq 0 ] && ok || bad "signals: exit $live_rc: $(head -c 300 "$tmp/sig.err")"
    [ "$(sip_lines "$tmp/sig.eve.1")" = "$na" ] && [ "$(sip_lines "$tmp/sig.eve")" = "$nb" ] && ok ||
        bad "after rotation: $(sip_lines "$tmp/sig.eve.1") + $(sip_lines "$tmp/sig.eve") sip events, expected $na + $nb"
    grep -q '"status":"finished"' "$tmp/sig.json" && ok || bad "final report not written at stop"
fi

# --- 4. several interfaces at once -----------------------------------------
want_ifaces=2
if start_live two -i "${tag}y1" -i "${tag}y2" --db "$tmp/two.db" --report "$tmp/two.json"; then
    replay 1 "$a" --pps 20000
    replay 2 "$b" --pps 20000
    wait_count "$tmp/two.db" $((na + nb)) 5 || bad "two interfaces: not all committed"
    stop_live TERM
    if [ "$live_rc" -eq 0 ] && $py - "$tmp/two.json" "$na" "$nb" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
na, nb = int(sys.argv[2]), int(sys.argv[3])
assert r["stats"]["sip_messages"] == na + nb, r["stats"]["sip_messages"]
assert [i["file"][-2:] for i in r["inputs"]] == ["y1", "y2"], r["inputs"]
assert all(i["ps_drop"] == 0 and i["packets"] > 0 for i in r["inputs"]), r["inputs"]
PY
    then ok; else bad "two interfaces: exit $live_rc $(head -c 300 "$tmp/two.err")"; fi
fi
want_ifaces=1

# --- 5. -Z: root only to open the interface; files are the user's ----------
mkdir "$tmp/z" && chown nobody "$tmp/z"
if start_live zuser -i "$ifb" -Z nobody --db "$tmp/z/z.db" --eve "$tmp/z/z.eve" \
        --report "$tmp/z/z.json" --report-interval 1; then
    replay 1 "$a" --pps 20000
    wait_count "$tmp/z/z.db" "$na" 5 || bad "-Z: not committed"
    # The periodic report (a child process, as the user) shows everything within a second or two.
    wait_report "$tmp/z/z.json" "$na" && ok || bad "--report-interval 1: no current report while running"
    uid=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$live_pid/status")
    nobody=$(id -u nobody)
    [ "$uid" = "$nobody$nobody$nobody$nobody" ] && ok || bad "-Z nobody: running with uids $uid"
    owners=$(stat -c %U "$tmp/z/z.db" "$tmp/z/z.db-wal" "$tmp/z/z.db-shm" "$tmp/z/z.eve" | sort -u)
    [ "$owners" = "nobody" ] && ok || bad "-Z nobody: files owned by $owners"
    stop_live TERM
    [ "$live_rc" -eq 0 ] && [ "$(stat -c %U "$tmp/z/z.json")" = nobody ] && ok ||
        bad "-Z: exit $live_rc, report owner $(stat -c %U "$tmp/z/z.json" 2>&1): $(head -c 300 "$tmp/zuser.err")"
fi

# -Z with files: read as root, written as the user.
if "$bin" analyze -q -r "$a" -Z nobody --db "$tmp/z/r.db" 2>"$tmp/zr.err" &&
    [ "$(stat -c %U "$tmp/z/r.db")" = nobody ]; then ok; else bad "-Z with -r: $(head -c 300 "$tmp/zr.err")"; fi

# --- 6. errors: one line naming the thing, exit status per CONTRACT --------
expect_exit() { # expect_exit CODE PATTERN -- command...
    code=$1
    pat=$2
    shift 3
    "$@" >"$tmp/e.out" 2>"$tmp/e.err"
    got=$?
    if [ "$got" -ne "$code" ]; then
        bad "$* -> exit $got, expected $code ($(head -c 300 "$tmp/e.err"))"
    elif ! grep -q -- "$pat" "$tmp/e.err" || [ "$(wc -l <"$tmp/e.err")" -ne 1 ]; then
        bad "$* -> stderr '$(head -c 300 "$tmp/e.err")', expected one line with '$pat'"
    else
        ok
    fi
}
inb() { ip netns exec "$nsb" "$@"; }
expect_exit 2 "not both" -- inb "$bin" analyze -i lo -r "$a" --db "$tmp/e.db"
expect_exit 1 "sipsift: nosuch0: no such interface" -- inb "$bin" analyze -q -i nosuch0 --db "$tmp/e.db"
expect_exit 2 "sipsift: -Z nosuchuser9: no such user" -- inb "$bin" analyze -i lo -Z nosuchuser9 --db "$tmp/e.db"
expect_exit 2 "snaplen" -- inb "$bin" analyze -i lo --snaplen 10 --db "$tmp/e.db"
expect_exit 2 "filter" -- inb "$bin" analyze -q -i "$ifb" --db "$tmp/e.db" 'udp port nonsense('
expect_exit 2 "for live capture" -- "$bin" analyze -r "$a" --buffer-size 8 --db "$tmp/e.db"
expect_exit 1 "sipsift: lo: permission denied" -- inb setpriv --reuid=nobody --regid=nogroup \
    --clear-groups "$bin" analyze -q -i lo --db "$tmp/z/e.db"
[ ! -e "$tmp/e.db" ] && ok || bad "a failed start created the store"

echo "live: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
