#!/bin/sh
# bench.sh - throughput of `sipsift analyze` on a large capture built from the
# bundled samples (SIP + G.711 RTP call; SIP brute force), timed by
# /usr/bin/time. Prints packets/s. Not a test: numbers depend on the machine.
set -eu
cd "$(dirname "$0")/.."
bin=${1:-./sipsift}
tmp=${BENCH_DIR:-/tmp/sipsift-bench}
mkdir -p "$tmp"
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
run() {
    name=$1 src=$2 copies=$3
    cap="$tmp/$name.pcap"
    [ -s "$cap" ] || $py tests/gen/repeat_pcap.py "$src" "$cap" "$copies"
    pkts=$(( $(wc -c <"$cap") ))
    rm -f "$tmp/$name.db"*
    start=$(date +%s.%N)
    "$bin" analyze -q -r "$cap" --db "$tmp/$name.db" --report "$tmp/$name.json"
    end=$(date +%s.%N)
    n=$(grep -o '"packets": *[0-9]*' "$tmp/$name.json" | head -1 | grep -o '[0-9]*$')
    msgs=$(grep -o '"sip_messages": *[0-9]*' "$tmp/$name.json" | head -1 | grep -o '[0-9]*$')
    echo "$name: $n packets, $msgs SIP messages, $(echo "$start $end $n" | awk '{printf "%.2f s, %.0f packets/s", $2-$1, $3/($2-$1)}')"
}
run call-rtp pcaps/public/wireshark-samples/SIP_CALL_RTP_G711.pcap 250
run bruteforce pcaps/public/sip-attacks/SIP-Bruteforce-Single-IP.pcap 400
