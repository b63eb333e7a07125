#!/bin/sh
# run.sh BUILD_DIR - every test suite against the binaries in BUILD_DIR:
# unit tests, golden end-to-end comparisons with tshark, CLI behaviour,
# detection against truth files, RTP, live capture in network namespaces
# (root only; skipped otherwise).
# Each suite prints "suite: N passed, N failed"; this prints the total.
set -u
build=${1:-build}
cd "$(dirname "$0")/.." || exit 2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

total_pass=0
total_fail=0
log=$(mktemp)
run_suite() {
    name=$1
    shift
    echo "== $name ($build)"
    "$@" >"$log" 2>&1
    status=$?
    cat "$log"
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | sed -E 's/^.*[^0-9]([0-9]+) passed.*$/\1/')
    f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    [ -n "$line" ] || { p=0; f=1; echo "$name: no result line (exit $status)"; }
    [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && { f=1; echo "$name: exit status $status"; }
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
}

run_suite unit "$build/tests/unit/run"
run_suite decode "$build/tests/unit/run-decode"
run_suite cli sh tests/e2e/cli.sh "$build/sipsift"
run_suite golden $py tests/e2e/golden.py "$build/sipsift"
run_suite detect $py tests/e2e/detect.py "$build/sipsift"
run_suite media $py tests/e2e/media.py "$build/sipsift"
run_suite live sh tests/e2e/live.sh "$build/sipsift"
run_suite limits $py tests/e2e/limits.py "$build/sipsift"
rm -f "$log"
echo "all ($build): $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
