#!/bin/sh
# test_fd_limit.sh - descriptor limits (issue 9): under a lowered soft+hard RLIMIT_NOFILE
# (util-linux prlimit, which then execs the command),
#   - `easload run` with more devices per worker than descriptors fails at start with one clear
#     line (need ~N, the hard limit, the --workers that would fit) and exit 2, before any device;
#   - a run that fits passes that check;
#   - `easload serve` says how many connections its limit leaves room for, and once the
#     connections fill it, logs the refused accepts (one line, not a silent drop).
# usage: test_fd_limit.sh PATH/TO/easload SOURCE_DIR   (ctest passes both)
set -eu
easload=$1
src=$2
tmp=$(mktemp -d)
srv=
cleanup() {
    if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. 2,000 devices in one worker under 1,000 descriptors: refused with one line, exit 2
set +e
prlimit --nofile=1000:1000 "$easload" run "$src/scenarios/ping.lua" --target http://127.0.0.1:9 \
    --devices 2000 --workers 1 --out "$tmp/o1" --no-progress >"$tmp/out1" 2>"$tmp/err1"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "run exited $rc, expected 2: $(cat "$tmp/err1")"
[ "$(wc -l <"$tmp/err1")" -eq 1 ] || fail "expected one line on stderr, got: $(cat "$tmp/err1")"
grep -q '^easload run: 2000 devices in 1 worker(s) need ~[0-9]* file descriptors per worker, the hard limit is 1000: use --workers 3 or raise it (ulimit -Hn)$' \
    "$tmp/err1" || fail "unexpected message: $(cat "$tmp/err1")"
[ ! -e "$tmp/o1/results.json" ] || fail "results written although no device ran"

# the same devices over enough workers pass the check (the target refuses: devices fail fast)
set +e
prlimit --nofile=1000:1000 "$easload" run "$src/scenarios/ping.lua" --target http://127.0.0.1:9 \
    --devices 2000 --workers 3 --ramp 0s --duration 1s --out "$tmp/o2" --no-progress \
    --log error >"$tmp/out2" 2>"$tmp/err2"
set -e
if grep -q 'file descriptors' "$tmp/err2"; then fail "refused with 3 workers: $(cat "$tmp/err2")"; fi
[ -s "$tmp/o2/results.json" ] || fail "no results.json from the run that fits: $(cat "$tmp/err2")"

# 2. serve under 64 descriptors: the room is said; 80 connections fill it and the refusal is
# logged
prlimit --nofile=64:64 "$easload" serve --listen 127.0.0.1:0 --workers 1 --users 5 \
    --duration 60 >"$tmp/sout" 2>"$tmp/serr" &
srv=$!
i=0
while ! grep -q 'listening on' "$tmp/sout" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "serve did not start: $(cat "$tmp/serr")"
    sleep 0.1
done
grep -q '^easload serve: descriptor limit 64 (hard 64): room for [1-5][0-9] connections$' \
    "$tmp/serr" || fail "no room line: $(cat "$tmp/serr")"
url=$(grep -o 'http://[0-9.:]*' "$tmp/sout" | head -1)
# holds the connections until the line is there (at most 60 s: the server looks once a second)
python3 - "$url" "$tmp/serr" <<'PY'
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
socks = []
for _ in range(80):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect((host, int(port)))
        socks.append(s)
    except OSError:
        s.close()
for _ in range(600):
    with open(sys.argv[2]) as f:
        if "descriptor limit 64 (room for" in f.read():
            break
    time.sleep(0.1)
for s in socks:
    s.close()
PY
i=0
while ! grep -q 'accept: .*connections open, descriptor limit 64 (room for' "$tmp/serr"; do
    i=$((i + 1))
    [ $i -le 50 ] || fail "no descriptor-limit line: $(cat "$tmp/serr")"
    sleep 0.1
done
n=$(grep -c 'accept: ' "$tmp/serr")
[ "$n" -le 2 ] || fail "descriptor-limit line not rate-limited ($n lines)"
kill "$srv"
wait "$srv" || fail "serve did not stop cleanly after SIGTERM"
srv=
echo "ok"
