#!/bin/sh
# test-peers.sh - what `make test-peers` runs: sets the SOGo peer up (setup.sh), runs the peer
# suite (run.sh) and tears the peer down (teardown.sh, also when interrupted); prints the minutes
# each part took. Exit status: the suite's (or set-up's, when that failed). Root, Debian 12.
# usage: test-peers.sh EASLOAD   (env: see setup.sh and run.sh)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
E=${1:?usage: test-peers.sh EASLOAD}

t0=$(date +%s)
up=0
finish() {
    rc=$?
    t2=$(date +%s)
    if [ "$up" -eq 1 ] || [ -d /var/lib/easpeer-sogo ]; then
        "$here/teardown.sh" || rc=1
    fi
    t3=$(date +%s)
    mins() { awk -v s="$1" 'BEGIN { printf "%.1f", s / 60 }'; }
    echo "test-peers: set-up $(mins $((${t1:-$t2} - t0))) min, suite $(mins $((t2 - ${t1:-$t2}))) min, tear-down $(mins $((t3 - t2))) min, total $(mins $((t3 - t0))) min (exit $rc)"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

"$here/setup.sh"
up=1
t1=$(date +%s)
"$here/run.sh" "$E"
