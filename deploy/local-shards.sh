#!/bin/sh
# local-shards.sh - what the Kubernetes shard Job does, without Kubernetes: runs N shards of one
# `easload run` as N separate local processes (each through easload-shard, deploy/shard-entry.sh,
# like a pod, its output in OUT/logs/shard-I.log like a pod log), then deploy/gather.sh --logs
# decodes the N results and merges them into OUT/merged.json and prints the report.
# The target is loopback only: without --target an `easload serve` is started on a free
# 127.0.0.1 port for the run and stopped afterwards.
#
# usage: deploy/local-shards.sh --scenario FILE [--shards 3] [--devices 30] [--ramp 2s]
#            [--duration 10s] [--target http://127.0.0.1:PORT] [--out local-shards]
#            [--easload build/cli/easload] [-- MORE easload run ARGS]
# Exit: that of gather.sh (0 merged and all thresholds and checks passed, 1 one failed,
# 3 a shard failed or easload serve did not start, 2 usage).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SHARDS=3 DEVICES=30 RAMP=2s DURATION=10s TARGET='' OUT=local-shards SCENARIO=''
EASLOAD=${EASLOAD:-$here/../build/cli/easload}
die() {
    echo "local-shards.sh: $1" >&2
    exit "${2:-2}"
}
while [ $# -gt 0 ]; do
    case $1 in
    --) shift; break ;;
    -h | --help) sed -n '8,13p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
    --scenario) SCENARIO=$2 ;;
    --shards) SHARDS=$2 ;;
    --devices) DEVICES=$2 ;;
    --ramp) RAMP=$2 ;;
    --duration) DURATION=$2 ;;
    --target) TARGET=$2 ;;
    --out) OUT=$2 ;;
    --easload) EASLOAD=$2 ;;
    *) die "unknown option $1 (--help)" ;;
    esac
    shift 2
done
[ -n "$SCENARIO" ] || die "--scenario FILE is required"
[ -x "$EASLOAD" ] || die "no easload binary at $EASLOAD (--easload PATH)"
case $SHARDS in '' | *[!0-9]* | 0) die "--shards: 1 or more" ;; esac
case $TARGET in
'' | http://127.* | https://127.* | http://localhost[:/]* | https://localhost[:/]* | http://\[::1\]*) ;;
*) die "--target: loopback only (127.x, localhost, [::1]); the Job is for remote targets" ;;
esac

mkdir -p "$OUT/logs"
srv_pid=
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    if [ -n "$srv_pid" ]; then
        kill "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$TARGET" ]; then
    "$EASLOAD" serve --listen 127.0.0.1:0 --users 100 --duration 3600 \
        >"$OUT/serve.out" 2>"$OUT/serve.log" &
    srv_pid=$!
    n=0
    until grep -q "listening on http://" "$OUT/serve.out" 2>/dev/null; do
        n=$((n + 1))
        if [ $n -gt 100 ] || ! kill -0 "$srv_pid" 2>/dev/null; then
            cat "$OUT/serve.log" >&2
            die "easload serve did not start" 3
        fi
        sleep 0.1
    done
    TARGET=$(grep -m1 "listening on http://" "$OUT/serve.out" | sed 's/.*listening on //')
fi

echo "local-shards.sh: $SHARDS shards of $DEVICES devices against $TARGET" >&2
i=0
while [ "$i" -lt "$SHARDS" ]; do
    JOB_COMPLETION_INDEX=$i EASLOAD=$EASLOAD sh "$here/shard-entry.sh" run "$SCENARIO" \
        --target "$TARGET" --shard "$i/$SHARDS" --devices "$DEVICES" --ramp "$RAMP" \
        --duration "$DURATION" --workers 1 --no-progress --out "$OUT/run-$i" "$@" \
        >"$OUT/logs/shard-$i.log" 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
done
failed=0
i=0
for p in $pids; do
    if ! wait "$p"; then
        echo "local-shards.sh: shard $i failed; its log:" >&2
        tail -n 20 "$OUT/logs/shard-$i.log" >&2
        failed=1
    fi
    i=$((i + 1))
done
pids=
[ "$failed" = 0 ] || exit 3
EASLOAD=$EASLOAD sh "$here/gather.sh" --logs "$OUT/logs" --shards "$SHARDS" --out "$OUT"
