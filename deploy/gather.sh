#!/bin/sh
# gather.sh - collects and merges the results of a sharded easload run: waits for the Indexed
# Job (deploy/render.sh) to finish, reads each completion index's result from the log of its
# succeeded pod (printed by easload-shard, deploy/shard-entry.sh), writes OUT/shard-I/results.json,
# then `easload merge` of all N into OUT/merged.json and `easload report` of it (thresholds are
# judged on the merged result; OUT/report.html too).
# With --logs DIR it reads DIR/shard-I.log instead of asking kubectl (deploy/local-shards.sh
# and the tests use that; no cluster).
#
# usage: deploy/gather.sh [--name easload] [--namespace NS] [--timeout 2h] [--no-wait]
#                         [--out gathered] [--easload PATH] [--logs DIR --shards N]
# Exit: that of `easload report` on the merged result (0 all thresholds and checks passed,
# 1 one failed); 3 when the Job failed, timed out or a shard's result is missing or corrupt;
# 2 usage error.
set -eu
NAME=easload
NAMESPACE=
TIMEOUT=2h
WAIT=1
OUT=gathered
EASLOAD=${EASLOAD:-easload}
LOGS=
SHARDS=
die() {
    echo "gather.sh: $1" >&2
    exit "${2:-2}"
}
while [ $# -gt 0 ]; do
    case $1 in
    --no-wait) WAIT=0; shift; continue ;;
    -h | --help) sed -n '11,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
    --name) NAME=$2 ;;
    --namespace | -n) NAMESPACE=$2 ;;
    --timeout) TIMEOUT=$2 ;;
    --out) OUT=$2 ;;
    --easload) EASLOAD=$2 ;;
    --logs) LOGS=$2 ;;
    --shards) SHARDS=$2 ;;
    *) die "unknown option $1 (--help)" ;;
    esac
    shift 2
done
case $TIMEOUT in
*h) timeout_s=$((${TIMEOUT%h} * 3600)) ;;
*m) timeout_s=$((${TIMEOUT%m} * 60)) ;;
*s) timeout_s=${TIMEOUT%s} ;;
*) timeout_s=$TIMEOUT ;;
esac

kc() {
    if [ -n "$NAMESPACE" ]; then kubectl --namespace "$NAMESPACE" "$@"; else kubectl "$@"; fi
}

# extract LOG INDEX DIR: the result block of LOG (index INDEX) -> DIR/results.json, checked
extract() {
    begin=$(grep -m1 "^-----BEGIN EASLOAD RESULT index=$2 " "$1" || true)
    [ -n "$begin" ] || { echo "gather.sh: shard $2: no result in its log ($1)" >&2; return 1; }
    want=${begin##*sha256=}
    want=${want%%-*}
    mkdir -p "$3"
    sed -n "/^-----BEGIN EASLOAD RESULT index=$2 /,/^-----END EASLOAD RESULT index=$2-----\$/p" \
        "$1" | sed '1d;$d' | base64 -d | gzip -dc >"$3/results.json" || {
        echo "gather.sh: shard $2: the result in its log does not decode" >&2
        return 1
    }
    got=$(sha256sum "$3/results.json" | cut -d' ' -f1)
    [ "$got" = "$want" ] || { echo "gather.sh: shard $2: sha256 mismatch (log cut?)" >&2; return 1; }
}

mkdir -p "$OUT"
if [ -n "$LOGS" ]; then
    [ -n "$SHARDS" ] || die "--logs needs --shards N"
else
    command -v kubectl >/dev/null 2>&1 || die "kubectl not found"
    SHARDS=$(kc get job "$NAME" -o 'jsonpath={.spec.completions}') ||
        die "no Job $NAME (kubectl get job)" 3
    if [ "$WAIT" = 1 ]; then
        start=$(date +%s)
        while :; do
            conds=$(kc get job "$NAME" \
                -o 'jsonpath={range .status.conditions[*]}{.type}={.status} {end}')
            case " $conds" in
            *" Complete=True"*) break ;;
            *" Failed=True"*)
                kc get job "$NAME" -o 'jsonpath={range .status.conditions[*]}{.type}: {.reason} {.message}{"\n"}{end}' >&2 || true
                die "Job $NAME failed; gathering what succeeded is pointless (exact merge needs every shard)" 3
                ;;
            esac
            [ $(($(date +%s) - start)) -lt "$timeout_s" ] || die "Job $NAME not complete after $TIMEOUT" 3
            done_n=$(kc get job "$NAME" -o 'jsonpath={.status.succeeded}')
            echo "gather.sh: waiting for Job $NAME: ${done_n:-0}/$SHARDS shards done" >&2
            sleep 10
        done
    fi
    # INDEX POD of each succeeded pod (a retried index may have failed pods too)
    kc get pods -l "job-name=$NAME" --field-selector=status.phase=Succeeded \
        -o 'jsonpath={range .items[*]}{.metadata.annotations.batch\.kubernetes\.io/job-completion-index} {.metadata.name}{"\n"}{end}' \
        >"$OUT/pods.txt"
fi

bad=0
i=0
while [ "$i" -lt "$SHARDS" ]; do
    if [ -n "$LOGS" ]; then
        log=$LOGS/shard-$i.log
        [ -f "$log" ] || { echo "gather.sh: shard $i: no $log" >&2; bad=1; i=$((i + 1)); continue; }
    else
        pod=$(awk -v i="$i" '$1 == i { print $2; exit }' "$OUT/pods.txt")
        if [ -z "$pod" ]; then
            echo "gather.sh: shard $i: no succeeded pod" >&2
            bad=1
            i=$((i + 1))
            continue
        fi
        log=$OUT/shard-$i.log
        kc logs "$pod" -c easload >"$log" || { bad=1; i=$((i + 1)); continue; }
    fi
    extract "$log" "$i" "$OUT/shard-$i" || bad=1
    i=$((i + 1))
done
[ "$bad" = 0 ] || die "results of some shards are missing; no merge" 3

set --
i=0
while [ "$i" -lt "$SHARDS" ]; do
    set -- "$@" "$OUT/shard-$i/results.json"
    i=$((i + 1))
done
"$EASLOAD" merge "$@" -o "$OUT/merged.json" || die "easload merge failed" 3
echo "gather.sh: merged $SHARDS shards into $OUT/merged.json" >&2
set +e
"$EASLOAD" report "$OUT/merged.json" --html "$OUT/report.html"
rc=$?
set -e
exit "$rc"
