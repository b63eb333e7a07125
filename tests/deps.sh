#!/bin/sh
# deps.sh - install the Debian 12 packages sipsift builds and tests with,
# only those missing. Needs root (or sudo) when something is missing.
set -e
# mmdb-bin and libmaxmind-db-writer-perl: inspect and rebuild tests/fixtures/*.mmdb (make-geoip.pl)
pkgs="build-essential pkg-config libpcap-dev libnids-dev libnet1-dev libsqlite3-dev
libjansson-dev nettle-dev libsodium-dev libpcre2-dev libmaxminddb-dev sqlite3 python3 clang
libclang-rt-14-dev mmdb-bin libmaxmind-db-writer-perl sox iproute2 tcpreplay"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "sipsift: missing packages:$missing: run as root: apt-get install$missing" >&2; exit 1; }
    SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
