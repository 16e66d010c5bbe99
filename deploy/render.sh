#!/bin/sh
# render.sh - renders the Kubernetes manifests of a sharded easload run (deploy/k8s/*.yaml.in):
# the scenario ConfigMap and the Indexed Job of N shards, as one multi-document YAML on stdout
# (or -o FILE), ready for `kubectl apply -f`. Talks to no cluster. Needs envsubst (Debian's
# gettext-base). deploy/check-manifests.py validates the result offline.
#
# usage: deploy/render.sh --shards N --image IMAGE --target URL --scenario FILE --devices N
#            [--ramp 30s] [--duration 5m] [--name easload] [--namespace default]
#            [--cpu 2] [--memory 1Gi] [--memory-limit 2Gi] [--deadline SECONDS]
#            [--backoff 3] [--ttl 86400] [--ca FILE] [--threshold EXPR]... [--arg ARG]...
#            [-o FILE]
#   --devices   the whole run's devices (all shards together); shard i runs slice i of them
#   --cpu       CPU request of a pod in whole cores; also easload's --workers
#   --deadline  activeDeadlineSeconds (default ramp + duration + 900 s, for image pulls,
#               start-up and retries)
#   --ca FILE   a PEM CA for an https target: put in the ConfigMap, passed as --ca
#   --threshold judged again on the merged result by deploy/gather.sh; --arg passes one more
#               argument to `easload run` as is (e.g. --arg --profile --arg ios-16.1)
set -eu
here=$(cd "$(dirname "$0")" && pwd)

usage() {
    sed -n '8,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() {
    echo "render.sh: $*" >&2
    exit 2
}
# seconds "30s" | "5m" | "1h" | "45": the number of seconds, or fails
seconds() {
    case $1 in
    *[!0-9smh]* | '' | [smh]*) return 1 ;;
    *s) echo "${1%s}" ;;
    *m) echo $((${1%m} * 60)) ;;
    *h) echo $((${1%h} * 3600)) ;;
    *[0-9]) echo "$1" ;;
    *) return 1 ;;
    esac
}
# yaml_quote ARG: ARG as a single-quoted YAML scalar; "$(" becomes "$$(" so Kubernetes leaves it
yaml_quote() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g; s/\\\$(/\$\$(/g")"
}

SHARDS='' IMAGE='' TARGET='' SCENARIO='' DEVICES=''
RAMP=30s DURATION=5m NAME=easload NAMESPACE=default CPU=2 MEMORY=1Gi MEMORY_LIMIT=2Gi
DEADLINE='' BACKOFF=3 TTL=86400 CA='' OUT=''
EXTRA_ARGS=
add_arg() {
    EXTRA_ARGS="$EXTRA_ARGS            - $(yaml_quote "$1")
"
}
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || case $1 in -h | --help) usage ;; *) die "$1 needs a value" ;; esac
    case $1 in
    --shards) SHARDS=$2 ;;
    --image) IMAGE=$2 ;;
    --target) TARGET=$2 ;;
    --scenario) SCENARIO=$2 ;;
    --devices) DEVICES=$2 ;;
    --ramp) RAMP=$2 ;;
    --duration) DURATION=$2 ;;
    --name) NAME=$2 ;;
    --namespace) NAMESPACE=$2 ;;
    --cpu) CPU=$2 ;;
    --memory) MEMORY=$2 ;;
    --memory-limit) MEMORY_LIMIT=$2 ;;
    --deadline) DEADLINE=$2 ;;
    --backoff) BACKOFF=$2 ;;
    --ttl) TTL=$2 ;;
    --ca) CA=$2 ;;
    --threshold) add_arg --threshold; add_arg "$2" ;;
    --arg) add_arg "$2" ;;
    -o) OUT=$2 ;;
    *) die "unknown option $1 (--help)" ;;
    esac
    shift 2
done

[ -n "$SHARDS" ] && [ -n "$IMAGE" ] && [ -n "$TARGET" ] && [ -n "$SCENARIO" ] && [ -n "$DEVICES" ] ||
    die "--shards, --image, --target, --scenario and --devices are required (--help)"
is_uint() { case $1 in '' | *[!0-9]* | 0[0-9]*) return 1 ;; esac; }
is_uint "$SHARDS" && [ "$SHARDS" -ge 1 ] && [ "$SHARDS" -le 100000 ] ||
    die "--shards: 1..100000"
is_uint "$DEVICES" && [ "$DEVICES" -ge "$SHARDS" ] ||
    die "--devices: a whole number, at least one per shard"
is_uint "$CPU" && [ "$CPU" -ge 1 ] || die "--cpu: whole cores (it is also --workers)"
is_uint "$BACKOFF" || die "--backoff: a whole number"
is_uint "$TTL" || die "--ttl: seconds"
ramp_s=$(seconds "$RAMP") || die "--ramp: N, Ns, Nm or Nh"
dur_s=$(seconds "$DURATION") || die "--duration: N, Ns, Nm or Nh"
[ "$dur_s" -ge 1 ] || die "--duration: at least 1 s (every run is bounded)"
[ -n "$DEADLINE" ] || DEADLINE=$((ramp_s + dur_s + 900))
is_uint "$DEADLINE" && [ "$DEADLINE" -gt $((ramp_s + dur_s)) ] ||
    die "--deadline: seconds, more than ramp + duration ($((ramp_s + dur_s)))"
# names: DNS-1123 labels; pods are NAME-INDEX-xxxxx, so keep NAME short
printf '%s' "$NAME" | grep -Eqx '[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?' ||
    die "--name: lower-case letters, digits and '-', at most 42 characters"
printf '%s' "$NAMESPACE" | grep -Eqx '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?' ||
    die "--namespace: a DNS-1123 label"
printf '%s' "$TARGET" | grep -Eqx 'https?://[][A-Za-z0-9._~:/?#@!&*+,;=%-]+' ||
    die "--target: an http:// or https:// URL without quotes, spaces or dollar signs"
printf '%s' "$IMAGE" | grep -Eqx '[A-Za-z0-9._/:@-]+' || die "--image: a container image name"
for q in "$MEMORY" "$MEMORY_LIMIT"; do
    printf '%s' "$q" | grep -Eqx '[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?' || die "memory: e.g. 512Mi, 2Gi"
done
[ -f "$SCENARIO" ] || die "--scenario: no file $SCENARIO"
[ -z "$CA" ] || [ -f "$CA" ] || die "--ca: no file $CA"
size=$(cat "$SCENARIO" ${CA:+"$CA"} | wc -c)
[ "$size" -le 900000 ] || die "scenario and CA: $size bytes; a ConfigMap holds at most 1 MiB"
for f in "$SCENARIO" ${CA:+"$CA"}; do
    if tr -d '\r\000' <"$f" | cmp -s - "$f"; then :; else
        die "$f holds carriage returns or NUL bytes"
    fi
done
command -v envsubst >/dev/null 2>&1 || die "envsubst not found (Debian: apt-get install gettext-base)"

# the ConfigMap's files, each line indented by four spaces (blocks |2+ in the template)
SCENARIO_DATA=$(sed 's/^/    /' "$SCENARIO")
if [ -n "$CA" ]; then
    SCENARIO_DATA="$SCENARIO_DATA
  ca.pem: |2+
$(sed 's/^/    /' "$CA")"
    add_arg --ca
    add_arg /scenario/ca.pem
fi
EXTRA_ARGS=${EXTRA_ARGS%
}
WORKERS=$CPU
export NAME NAMESPACE SHARDS IMAGE TARGET DEVICES RAMP DURATION WORKERS CPU MEMORY \
    MEMORY_LIMIT DEADLINE BACKOFF TTL SCENARIO_DATA EXTRA_ARGS
vars='${NAME} ${NAMESPACE} ${SHARDS} ${IMAGE} ${TARGET} ${DEVICES} ${RAMP} ${DURATION}
${WORKERS} ${CPU} ${MEMORY} ${MEMORY_LIMIT} ${DEADLINE} ${BACKOFF} ${TTL} ${SCENARIO_DATA}
${EXTRA_ARGS}'

render() {
    envsubst "$vars" <"$here/k8s/configmap.yaml.in"
    echo "---"
    envsubst "$vars" <"$here/k8s/job.yaml.in"
}
if [ -n "$OUT" ]; then
    render >"$OUT"
else
    render
fi
