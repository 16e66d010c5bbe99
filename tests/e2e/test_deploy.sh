#!/bin/sh
# test_deploy.sh - offline test of deploy/ (issue 9, Kubernetes): no cluster, no kubectl, no
# image build. (1) deploy/render.sh renders the ConfigMap + Indexed Job for several shard counts,
# scenarios, a CA and thresholds, and deploy/check-manifests.py (Debian's python3-yaml) accepts
# them, the ConfigMap holding the scenario exactly; (2) the validator rejects each of a list of
# broken variants (no Indexed mode, parallelism != completions, no deadline or backoffLimit,
# $(VAR) without env, scenario not mounted, no requests, misspelt field, unquoted env number,
# remote target without --allow-remote, short deadline, root); (3) render.sh refuses bad
# input; (4) the wrapper deploy/shard-entry.sh and deploy/gather.sh (--logs, and via a
# stand-in kubectl) with a stand-in easload: exit codes, result block, sha256 check, SIGTERM passed on; (5) deploy/Containerfile:
# its build packages are in deploy/debian-packages.txt, the runtime packages derived from the
# built binary are Debian packages, the Lua modules are installed; (6) when `easload run` has
# --shard: deploy/local-shards.sh runs 3 shards against a loopback easload serve and merges them.
# usage: test_deploy.sh PATH/TO/easload SOURCE_DIR
set -eu
easload=$1
src=$2
deploy=$src/deploy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
checks=0
fail() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}
ok() { checks=$((checks + 1)); }

# Debian's python3 has python3-yaml; a python3 earlier on PATH (pyenv, venv) may not.
py=
for candidate in /usr/bin/python3 python3; do
    if "$candidate" -c 'import yaml' 2>/dev/null; then
        py=$candidate
        break
    fi
done
if [ -z "$py" ]; then
    echo "FAIL: python3-yaml is not installed (deploy/debian-packages.txt)" >&2
    exit 1
fi
if ! command -v envsubst >/dev/null 2>&1; then
    echo "FAIL: envsubst is not installed (gettext-base, deploy/debian-packages.txt)" >&2
    exit 1
fi
check() { "$py" "$deploy/check-manifests.py" "$@"; }

# ---- (1) renders that must validate ----
n=0
for shards in 1 3 16; do
    for scen in "$src"/scenarios/*.lua; do
        n=$((n + 1))
        ok
        if ! sh "$deploy/render.sh" --shards "$shards" --image registry.example.org/easload:0.1.0 \
            --target http://eas.loadtest.svc:8080 --scenario "$scen" \
            --devices $((shards * 100)) --duration 2m --ramp 30s --name "el-$n" \
            --namespace load -o "$tmp/m.yaml" 2>"$tmp/err"; then
            fail "render $shards shards $scen: $(cat "$tmp/err")"
            continue
        fi
        check --shards "$shards" --scenario "$scen" "$tmp/m.yaml" >/dev/null 2>"$tmp/err" ||
            fail "valid render ($shards shards, $scen) rejected: $(cat "$tmp/err")"
    done
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/ca.pem" \
    -subj /CN=easload-test-ca -days 1 2>/dev/null
ok
sh "$deploy/render.sh" --shards 5 --image easload:test --target https://eas.example.org/ \
    --scenario "$src/scenarios/sync.lua" --devices 20000 --cpu 4 --memory 3Gi \
    --memory-limit 6Gi --ca "$tmp/ca.pem" --threshold 'sync.p99<800ms' --arg --profile \
    --arg ios-16.1 --arg 'odd $(HOME) '"'"'quote' >"$tmp/ca.yaml"
check --shards 5 --scenario "$src/scenarios/sync.lua" "$tmp/ca.yaml" >/dev/null 2>"$tmp/err" ||
    fail "render with --ca and --threshold rejected: $(cat "$tmp/err")"
"$py" - "$tmp/ca.yaml" "$tmp/ca.pem" <<'PY' || fail "render with --ca: content"
import sys, yaml
cm, job = list(yaml.safe_load_all(open(sys.argv[1])))
assert cm["data"]["ca.pem"] == open(sys.argv[2]).read(), "ca.pem differs"
c = job["spec"]["template"]["spec"]["containers"][0]
args = c["args"]
assert args[args.index("--ca") + 1] == "/scenario/ca.pem", args
assert args[args.index("--threshold") + 1] == "sync.p99<800ms", args
assert "odd $$(HOME) 'quote" in args, args  # $$( is Kubernetes' escape: passed as $(HOME)
assert c["resources"]["requests"] == {"cpu": "4", "memory": "3Gi"}, c["resources"]
env = {e["name"]: e.get("value") for e in c["env"]}
assert env["WORKERS"] == "4" and env["SHARDS"] == "5" and env["DEVICES"] == "20000", env
spec = job["spec"]
assert spec["completions"] == spec["parallelism"] == 5
assert spec["activeDeadlineSeconds"] == 30 + 300 + 900, spec["activeDeadlineSeconds"]
PY

# ---- (2) broken variants the validator must reject, each with its reason ----
sh "$deploy/render.sh" --shards 3 --image easload:test --target http://eas.example.org:8080 \
    --scenario "$src/scenarios/ping.lua" --devices 300 --duration 5m -o "$tmp/base.yaml"
check --shards 3 "$tmp/base.yaml" >/dev/null || fail "base render rejected"
# mutate NAME EXPECTED-TEXT PYTHON: the Job (j), its container (c) and ConfigMap (cm) after the
# statements must be rejected with EXPECTED-TEXT on stderr
mutate() {
    ok
    "$py" - "$tmp/base.yaml" "$tmp/bad.yaml" "$3" <<'PY'
import sys, yaml
cm, j = list(yaml.safe_load_all(open(sys.argv[1])))
c = j["spec"]["template"]["spec"]["containers"][0]
env = {e["name"]: e for e in c["env"]}
exec(sys.argv[3])
yaml.safe_dump_all([cm, j], open(sys.argv[2], "w"), sort_keys=False)
PY
    if check --shards 3 "$tmp/bad.yaml" >/dev/null 2>"$tmp/err"; then
        fail "$1: accepted"
    elif ! grep -qF -- "$2" "$tmp/err"; then
        fail "$1: rejected without '$2': $(cat "$tmp/err")"
    fi
}
mutate not-indexed "completionMode must be Indexed" 'del j["spec"]["completionMode"]'
mutate parallelism "parallelism 2 != completions 3" 'j["spec"]["parallelism"] = 2'
mutate shards "expected 3 shards" \
    'j["spec"]["completions"] = j["spec"]["parallelism"] = 4; env["SHARDS"]["value"] = "4"'
mutate shard-n "N is not spec.completions" 'env["SHARDS"]["value"] = "2"'
mutate no-deadline "spec.activeDeadlineSeconds: required" 'del j["spec"]["activeDeadlineSeconds"]'
mutate short-deadline "does not leave room" 'j["spec"]["activeDeadlineSeconds"] = 300'
mutate no-backoff "spec.backoffLimit: required" 'del j["spec"]["backoffLimit"]'
mutate no-ttl "spec.ttlSecondsAfterFinished: required" 'del j["spec"]["ttlSecondsAfterFinished"]'
mutate restart "restartPolicy must be Never" \
    'j["spec"]["template"]["spec"]["restartPolicy"] = "OnFailure"'
mutate no-index "expected \$(JOB_COMPLETION_INDEX)/N" \
    'i = c["args"].index("--shard"); c["args"][i + 1] = "0/$(SHARDS)"'
mutate no-shard "easload run has no --shard" \
    'i = c["args"].index("--shard"); del c["args"][i:i + 2]'
mutate env-missing "\$(TARGET) is not in the container's env" \
    'c["env"] = [e for e in c["env"] if e["name"] != "TARGET"]'
mutate index-env "job-completion-index annotation" \
    'env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"] = "metadata.name"'
mutate not-mounted "scenario /scenario/scenario.lua is on no volume mount" \
    'c["volumeMounts"][0]["mountPath"] = "/config"'
mutate wrong-key "has no key 'scenario.lua'" 'cm["data"] = {"other.lua": "x"}'
mutate wrong-cm "not in the manifest" \
    'j["spec"]["template"]["spec"]["volumes"][0]["configMap"]["name"] = "nope"'
mutate no-requests "resources.requests.cpu is required" 'del c["resources"]["requests"]'
mutate low-limit "limits.memory is below the request" 'c["resources"]["limits"]["memory"] = "1Mi"'
mutate typo "unknown field 'ttlSecondAfterFinished'" \
    'j["spec"]["ttlSecondAfterFinished"] = j["spec"].pop("ttlSecondsAfterFinished")'
mutate env-int "expected a string, got int" 'env["DEVICES"]["value"] = 300'
mutate quantity "not a Kubernetes quantity" 'c["resources"]["requests"]["memory"] = "1 GB"'
mutate remote "is not loopback: easload refuses it without --allow-remote" \
    'c["args"].remove("--allow-remote")'
mutate root "runAsNonRoot must be true" \
    'del j["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]'
mutate rootfs "readOnlyRootFilesystem must be true" \
    'c["securityContext"]["readOnlyRootFilesystem"] = False'
mutate out-ro "is not on a writable emptyDir" 'c["volumeMounts"][1]["readOnly"] = True'
mutate no-duration "every run is bounded" \
    'i = c["args"].index("--duration"); del c["args"][i:i + 2]'
mutate sysctl "not a safe sysctl" \
    'j["spec"]["template"]["spec"]["securityContext"]["sysctls"][0]["name"] = "net.core.somaxconn"'
mutate pfp "podFailurePolicy names container" \
    'j["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["containerName"] = "x"'
mutate name "is not a DNS-1123 label" 'j["metadata"]["name"] = "Easload_Job"'
ok
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: [1}\n' >"$tmp/syntax.yaml"
set +e
check "$tmp/syntax.yaml" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "YAML syntax error: exit $rc, expected 2"

# ---- (3) render.sh refuses bad input (exit 2) ----
# refuse EXPECTED-TEXT ARGS...: render.sh exits 2 naming EXPECTED-TEXT
refuse() {
    ok
    want=$1
    shift
    set +e
    sh "$deploy/render.sh" "$@" >/dev/null 2>"$tmp/err"
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "render.sh $*: exit $rc, expected 2"
    grep -qF -- "$want" "$tmp/err" || fail "render.sh $*: stderr lacks '$want': $(cat "$tmp/err")"
}
base="--image i:1 --target http://t:1 --scenario $src/scenarios/ping.lua --devices 10"
# shellcheck disable=SC2086
{
    refuse "are required" $base
    refuse "--shards: 1..100000" --shards 0 $base
    refuse "at least one per shard" --shards 11 $base
    refuse "--name" --shards 2 --name Bad_Name $base
    refuse "--deadline" --shards 2 --duration 10m --deadline 300 $base
    refuse "--duration" --shards 2 --duration soon $base
    refuse "memory" --shards 2 --memory 1GB $base
    refuse "unknown option" --shards 2 --frobnicate 1 $base
}
refuse "--target" --shards 2 --image i:1 --target 'http://t:1/"x' \
    --scenario "$src/scenarios/ping.lua" --devices 10
refuse "--scenario: no file" --shards 2 --image i:1 --target http://t:1 \
    --scenario "$tmp/none.lua" --devices 10
printf 'scenario{}\r\n' >"$tmp/crlf.lua"
refuse "carriage returns" --shards 2 --image i:1 --target http://t:1 --scenario "$tmp/crlf.lua" \
    --devices 10

# ---- (4) shard-entry.sh and gather.sh --logs with a stand-in easload ----
# fake easload: `run` writes the fixture results.json to --out and exits $FAKE_RC (after
# $FAKE_SLEEP seconds, or on SIGTERM at once, still writing); merge/report: the real easload
cat >"$tmp/fake-easload" <<EOF
#!/bin/sh
set -eu
if [ "\$1" != run ]; then exec "$easload" "\$@"; fi
out=
prev=
for a in "\$@"; do [ "\$prev" = --out ] && out=\$a; prev=\$a; done
mkdir -p "\$out"
echo "fake easload: run \$*"
stop() { echo "fake easload: SIGTERM"; cp "$src/tests/fixtures/results/results-v1.json" "\$out/results.json"; exit 0; }
trap stop TERM
n=0
while [ "\$n" -lt "\${FAKE_SLEEP:-0}" ]; do sleep 1; n=\$((n + 1)); done
[ "\${FAKE_RC:-0}" = 3 ] || cp "$src/tests/fixtures/results/results-v1.json" "\$out/results.json"
exit "\${FAKE_RC:-0}"
EOF
chmod +x "$tmp/fake-easload"
mkdir -p "$tmp/logs"
entry() { # entry INDEX RC: the wrapper's exit code; its output in $tmp/logs/shard-INDEX.log
    set +e
    FAKE_RC=$2 EASLOAD=$tmp/fake-easload JOB_COMPLETION_INDEX=$1 sh "$deploy/shard-entry.sh" \
        run s.lua --shard "$1/3" --out "$tmp/run-$1" >"$tmp/logs/shard-$1.log" 2>&1
    rc=$?
    set -e
    return $rc
}
ok
entry 0 0 || fail "shard-entry: easload 0 -> exit $rc, expected 0"
entry 1 1 || fail "shard-entry: easload 1 (threshold) -> exit $rc, expected 0"
grep -q '^-----BEGIN EASLOAD RESULT index=1 sha256=' "$tmp/logs/shard-1.log" ||
    fail "shard-entry: no result block: $(cat "$tmp/logs/shard-1.log")"
ok
if entry 9 2; then fail "shard-entry: easload 2 -> exit 0"; fi
[ "$rc" -eq 2 ] || fail "shard-entry: easload 2 -> exit $rc, expected 2"
if entry 9 3; then fail "shard-entry: easload 3 -> exit 0"; fi
[ "$rc" -eq 3 ] || fail "shard-entry: easload 3 -> exit $rc, expected 3"
! grep -q 'BEGIN EASLOAD RESULT' "$tmp/logs/shard-9.log" || fail "shard-entry: result after exit 3"
rm -f "$tmp/logs/shard-9.log"
# SIGTERM (activeDeadlineSeconds) is passed on; easload's result is still printed
ok
FAKE_SLEEP=60 EASLOAD=$tmp/fake-easload JOB_COMPLETION_INDEX=2 sh "$deploy/shard-entry.sh" \
    run s.lua --out "$tmp/run-2" >"$tmp/logs/shard-2.log" 2>&1 &
wpid=$!
i=0
until grep -q "fake easload: run" "$tmp/logs/shard-2.log" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || break
    sleep 0.1
done
kill -TERM "$wpid"
set +e
wait "$wpid"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "shard-entry after SIGTERM: exit $rc, expected 0"
grep -q "fake easload: SIGTERM" "$tmp/logs/shard-2.log" || fail "SIGTERM not passed on"
grep -q '^-----END EASLOAD RESULT index=2-----$' "$tmp/logs/shard-2.log" ||
    fail "no result after SIGTERM: $(cat "$tmp/logs/shard-2.log")"
# gather: three logs -> merged.json of 3 x the fixture (report exit 1: the fixture fails some)
ok
set +e
EASLOAD=$easload sh "$deploy/gather.sh" --logs "$tmp/logs" --shards 3 --out "$tmp/g" \
    >"$tmp/g.out" 2>"$tmp/g.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "gather.sh --logs: exit $rc, expected 1 (report of the fixture)"
"$py" - "$tmp/g/merged.json" "$tmp/g/shard-1/results.json" \
    "$src/tests/fixtures/results/results-v1.json" <<'PY' || fail "gather.sh: merged result"
import json, sys
m = json.load(open(sys.argv[1]))
assert open(sys.argv[2], "rb").read() == open(sys.argv[3], "rb").read(), "shard 1 differs"
assert m["devices"] == 3 * 64, m["devices"]
PY
# gather.sh's kubectl path with a stand-in kubectl (no cluster): Job complete, one succeeded
# pod per index, listed out of order; logs from the files above
mkdir -p "$tmp/bin"
cat >"$tmp/bin/kubectl" <<EOF
#!/bin/sh
set -eu
echo "\$*" >>"$tmp/kubectl.calls"
case "\$*" in
*"get job easload -o jsonpath={.spec.completions}"*) printf 3 ;;
*"get job easload -o jsonpath={range .status.conditions"*) printf 'Complete=True ' ;;
*"get pods -l job-name=easload --field-selector=status.phase=Succeeded"*)
    printf '2 easload-2-ccc\n0 easload-0-aaa\n1 easload-1-bbb\n' ;;
*" logs easload-"*) i=\${*#* logs easload-}; cat "$tmp/logs/shard-\${i%%-*}.log" ;;
*) echo "stand-in kubectl: unexpected: \$*" >&2; exit 1 ;;
esac
EOF
chmod +x "$tmp/bin/kubectl"
ok
set +e
PATH=$tmp/bin:$PATH EASLOAD=$easload sh "$deploy/gather.sh" --namespace load --out "$tmp/gk" \
    >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "gather.sh (kubectl): exit $rc, expected 1: $(cat "$tmp/err")"
cmp -s "$tmp/gk/merged.json" "$tmp/g/merged.json" || fail "gather.sh (kubectl): other merge"
grep -q -- "--namespace load logs easload-1-bbb -c easload" "$tmp/kubectl.calls" ||
    fail "gather.sh (kubectl): calls $(cat "$tmp/kubectl.calls")"
# a cut log: sha256 mismatch, exit 3, no merge
ok
sed -i '/^-----BEGIN/{n;d}' "$tmp/logs/shard-1.log"
set +e
EASLOAD=$easload sh "$deploy/gather.sh" --logs "$tmp/logs" --shards 3 --out "$tmp/g2" \
    >/dev/null 2>"$tmp/err"
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "gather.sh with a cut log: exit $rc, expected 3"
grep -q "shard 1" "$tmp/err" || fail "gather.sh with a cut log: $(cat "$tmp/err")"
[ ! -e "$tmp/g2/merged.json" ] || fail "gather.sh merged despite a bad shard"
ok
rm "$tmp/logs/shard-0.log"
set +e
EASLOAD=$easload sh "$deploy/gather.sh" --logs "$tmp/logs" --shards 3 --out "$tmp/g3" \
    >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "gather.sh with a missing shard: exit $rc, expected 3"

# ---- (5) the container recipe agrees with the package list and the build ----
ok
"$py" - "$deploy/Containerfile" "$deploy/debian-packages.txt" "$deploy/k8s/job.yaml.in" \
    <<'PY' || fail "Containerfile"
import re, sys
cf = open(sys.argv[1]).read()
listed = {l.strip() for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")}
build = cf.split("\nFROM ")[1]
m = re.search(r"--no-install-recommends \\\n(.*?)\n \&\&", build, re.S)
pkgs = set(m.group(1).replace("\\", " ").split())
assert pkgs, "no build packages found"
assert pkgs <= listed, f"not in debian-packages.txt: {sorted(pkgs - listed)}"
assert cf.startswith("# deploy/Containerfile"), "no leading comment"
assert re.search(r"^FROM docker.io/library/debian:12 AS build$", cf, re.M)
assert re.search(r"^FROM docker.io/library/debian:12$", cf, re.M)
assert "ENV EASLOAD_LUA_DIR=/usr/share/easload/lua" in cf
assert "/src/lua/easload /usr/share/easload/lua/easload" in cf
assert "shard-entry.sh /usr/local/bin/easload-shard" in cf
user = re.search(r"^USER (\d+):(\d+)$", cf, re.M)
assert user and user.group(1) != "0", "USER must be numeric, non-root"
job = open(sys.argv[3]).read()
assert f"runAsUser: {user.group(1)}" in job, "Job runAsUser differs from the image's USER"
assert 'command: ["easload-shard"]' in job
PY
ok
if ! sh "$deploy/runtime-packages.sh" "$easload" >"$tmp/rt.txt" 2>"$tmp/err"; then
    fail "runtime-packages.sh: $(cat "$tmp/err")"
fi
for p in libc6 libcurl4 libuv1 liblua5.4-0 libjansson4 libssl3; do
    grep -qx "$p" "$tmp/rt.txt" || fail "runtime-packages.sh: $p missing: $(tr '\n' ' ' <"$tmp/rt.txt")"
done
while read -r p; do
    case $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) in
    *"install ok installed"*) ;;
    *) fail "runtime-packages.sh: $p is not an installed Debian package" ;;
    esac
done <"$tmp/rt.txt"
# as in the image: the local shards below run with EASLOAD_LUA_DIR at a copy of lua/easload
mkdir -p "$tmp/lua"
cp -r "$src/lua/easload" "$tmp/lua/"

# ---- (6) local shards: 3 processes against a loopback easload serve, merged ----
if "$easload" run --help 2>&1 | grep -q -- '--shard'; then
    ok
    set +e
    EASLOAD_LUA_DIR=$tmp/lua timeout 300 sh "$deploy/local-shards.sh" \
        --scenario "$src/tests/e2e/scenarios/fixed.lua" --shards 3 --devices 12 --ramp 1s \
        --duration 30s --out "$tmp/local" --easload "$easload" >"$tmp/local.out" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 0 ] || fail "local-shards.sh: exit $rc: $(tail -n 20 "$tmp/local.out")"
    "$py" - "$tmp/local" <<'PY' || fail "local-shards.sh: merged result"
import json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/merged.json"))
shards = [json.load(open(f"{d}/shard-{i}/results.json")) for i in range(3)]
assert [s["devices"] for s in shards] == [4, 4, 4], [s["devices"] for s in shards]
assert [(s["shard"], s["shards"]) for s in shards] == [(0, 3), (1, 3), (2, 3)]
assert m["devices"] == 12, m["devices"]
ids = [k for k in m["checks"] if k.startswith("device ")]
assert len(ids) == 12 and len({k.split()[1] for k in ids}) == 12, ids
assert m["checks"]["provisioned"]["passed"] == 12, m["checks"]["provisioned"]
PY
else
    echo "SKIP: easload run has no --shard yet; deploy/local-shards.sh not run" >&2
fi

echo "test_deploy: $checks checks, $failed failed"
[ "$failed" -eq 0 ]
