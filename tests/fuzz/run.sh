#!/bin/sh
# run.sh BUILD SECONDS TARGET... - run each libFuzzer target BUILD/fuzz_TARGET for
# SECONDS on its seeds (tests/fuzz/corpus/T and regressions/T, read only; new inputs
# go to BUILD/corpus-T). Exits 1 when any target found a crash, leak or timeout.
set -u
build=$1
secs=$2
shift 2
cd "$(dirname "$0")/../.." || exit 2
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/crashes"
failed=""
for t in "$@"; do
    case $t in
    digest | uri) max_len=8192 ;;
    pcap) max_len=131072 ;;
    *) max_len=65535 ;;
    esac
    work=$build/corpus-$t
    mkdir -p "$work"
    dirs="$work tests/fuzz/corpus/$t"
    [ -d "tests/fuzz/regressions/$t" ] && dirs="$dirs tests/fuzz/regressions/$t"
    log=$build/fuzz_$t.log
    # shellcheck disable=SC2086 # dirs is a list
    "$build/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len="$max_len" -dict=tests/fuzz/sip.dict -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$t-" $dirs >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -E 's/.* cov: ([0-9]+).*/\1/')
    if [ "$rc" -eq 0 ]; then
        echo "fuzz_$t: ok, ${runs:-?} runs in ${secs}s (${rate:-?}/s), coverage ${cov:-?}"
    else
        echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} runs; log: $log"
        grep -E 'ERROR|SUMMARY|invariant broken|Test unit written|^ *#[0-9]+ 0x' "$log" | head -n 40
        failed="$failed $t"
    fi
done
if [ -n "$failed" ]; then
    echo "make fuzz: crashes in:$failed (reproduce: $build/fuzz_T $build/crashes/T-...; see docs/fuzzing.md)"
    exit 1
fi
echo "make fuzz: no crash, leak or timeout in $# targets"
