#!/bin/sh
# demo.sh - what `make demo` runs: a short WBXML round trip of a shipped capture (the codec under
# everything), then the real thing: `easload serve` on free loopback ports in the background and
# `easload run scenarios/mixed.lua` with 1,000 simulated phones for 45 s against it, printing the
# live progress line and the summary; the server is stopped at the end.
# Usage: scenarios/demo.sh [path/to/easload] [devices] [duration]
set -eu
easload=${1:-build/cli/easload}
devices=${2:-1000}
duration=${3:-45s}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
srv_pid=
cleanup() {
    if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

printf '=== 1. WBXML: a captured Sync response decoded to XML and encoded back ===\n'
f="$root/tests/fixtures/wbxml/sync-response.wbxml"
"$easload" wbxml decode "$f" | head -n 20
"$easload" wbxml decode "$f" >"$tmp/sync.xml"
"$easload" wbxml encode -o "$tmp/sync.wbxml" "$tmp/sync.xml"
if cmp -s "$f" "$tmp/sync.wbxml"; then
    printf '... re-encoded byte for byte (%s bytes)\n\n' "$(wc -c <"$f")"
else
    echo "demo: re-encoded bytes differ from the capture" >&2
    exit 1
fi

printf '=== 2. easload serve: the reference EAS server on free loopback ports ===\n'
"$easload" serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 --users 500 --duration 600 \
    >"$tmp/serve.out" 2>"$tmp/serve.log" &
srv_pid=$!
i=0
while ! grep -q "admin http" "$tmp/serve.out" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
        echo "demo: easload serve did not start:" >&2
        cat "$tmp/serve.log" >&2
        exit 3
    fi
    sleep 0.1
done
cat "$tmp/serve.out"
target=$(grep -m1 "listening on http://" "$tmp/serve.out" | sed 's/.*listening on //')
admin=$(grep -m1 "listening on admin" "$tmp/serve.out" | sed 's/.*listening on admin //')

out=${DEMO_OUT:-$root/build/demo}
printf '\n=== 3. easload run scenarios/mixed.lua: %s phones for %s ===\n' "$devices" "$duration"
set +e
"$easload" run "$root/scenarios/mixed.lua" --target "$target" --admin "$admin" \
    --devices "$devices" --ramp 15s --duration "$duration" --user-count 500 \
    --out "$out"
rc=$?
"$easload" report "$out/results.json" --html "$out/report.html" >/dev/null 2>&1 &&
    printf 'report: %s (open it in a browser)\n' "$out/report.html"
set -e
printf '\nserver side: %s\n' "$(curl -s "$admin/stats" 2>/dev/null | head -c 300)"
printf 'demo: easload run exited %d (0 = every threshold and check passed)\n' "$rc"
exit $rc
