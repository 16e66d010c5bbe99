#!/bin/sh
# shard-entry.sh - the container command of the Kubernetes shard Job, installed in the image as
# /usr/local/bin/easload-shard (deploy/Containerfile); deploy/local-shards.sh runs it too.
# Runs `easload ARGS...` (an `easload run ... --out DIR`), then prints DIR/results.json on
# stdout, gzip'd and base64'd between marker lines with its sha256, so that deploy/gather.sh
# collects every shard's result from `kubectl logs` without a shared volume.
# SIGTERM/SIGINT (activeDeadlineSeconds, kubectl delete) are passed on to easload, which stops
# gracefully and still writes results.json (this script may be PID 1, which ignores signals
# it does not trap).
# Exit: 0 when easload finished with 0, or with 1 (a threshold or check failed: a shard's
# percentiles mean little, deploy/gather.sh judges the merged result); 2 usage or scenario
# error (the Job's podFailurePolicy then fails the whole Job); 3 or another code: fatal, retried
# up to backoffLimit, no result printed.
# EASLOAD (default: easload on PATH) is the binary to run; JOB_COMPLETION_INDEX labels the
# result (default: the --shard index).
set -eu
easload=${EASLOAD:-easload}
out=
shard=
prev=
for a in "$@"; do
    case $prev in
    --out) out=$a ;;
    --shard) shard=$a ;;
    esac
    case $a in
    --out=*) out=${a#--out=} ;;
    --shard=*) shard=${a#--shard=} ;;
    esac
    prev=$a
done
if [ -z "$out" ]; then
    echo "easload-shard: the arguments need --out DIR" >&2
    exit 2
fi
index=${JOB_COMPLETION_INDEX:-${shard%%/*}}
index=${index:-0}

pid=
forward() {
    [ -n "$pid" ] && kill "-$1" "$pid" 2>/dev/null || true
}
trap 'forward TERM' TERM
trap 'forward INT' INT
"$easload" "$@" &
pid=$!
# wait returns early (> 128) when a trapped signal arrives; wait again until easload is gone
while :; do
    set +e
    wait "$pid"
    rc=$?
    set -e
    kill -0 "$pid" 2>/dev/null || break
done
case $rc in
0 | 1) ;;
*)
    echo "easload-shard: shard $index: easload exited $rc; no result" >&2
    exit "$rc"
    ;;
esac
res=$out/results.json
if [ ! -s "$res" ]; then
    echo "easload-shard: shard $index: $res is missing" >&2
    exit 3
fi
sum=$(sha256sum "$res" | cut -d' ' -f1)
echo "easload-shard: shard $index: easload exited $rc; result follows (gzip, base64)"
echo "-----BEGIN EASLOAD RESULT index=$index sha256=$sum-----"
gzip -9c "$res" | base64
echo "-----END EASLOAD RESULT index=$index-----"
exit 0
