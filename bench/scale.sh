#!/bin/sh
# scale.sh - bench/scale (issue 9 item 1): DEVICES phones on this one machine, each holding a
# Ping long-poll with periodic Syncs (scenarios/scale.lua), against `easload serve` on loopback,
# plain HTTP and/or TLS. Prints one summary line per mode:
#   bench=scale mode=http devices=20000 held_pings_peak=... requests=... errors=...
#     client_rss_peak_kb=... server_rss_peak_kb=... client_kb_per_device=...
#     server_kb_per_device=... client_us_per_req=... server_us_per_req=... ramp_s=... ramp_ok=...
#
# Layout (why two of everything): the container's hard RLIMIT_NOFILE is 20,000 per process, so
# one process can hold at most ~19,900 connections. The devices are split in SHARDS slices
# (`easload run --shard I/N`, the same device numbers, users and seeds as one run); slice I goes to
# its own `easload serve` on 127.0.0.(I+1) (all users, its own admin API), so each server and each
# client process holds DEVICES/SHARDS connections. The slices' results.json are combined by
# `easload merge` (exact). Every device connects from its own 127.x.y.z source address (core/http),
# so ephemeral ports never run short. Each server has one worker thread (SRV_WORKERS), each
# client shard one worker process (RUN_WORKERS).
#
# Measured, once a second, from /proc (a python3 sampler): VmRSS summed over the client's
# processes (every `easload run` process and its forked workers) and over the servers' (peak =
# the largest sum; VmHWM summed is printed too, an upper bound), CPU = utime + stime of all of
# them; from each server's GET /stats: EAS requests by command, held Pings (holds_open), HTTP
# requests. Requests of the client = totals.requests of the merged results.json (every round trip,
# admin deliveries not included); of the servers = http.requests summed at the end.
# Ramp: the time from the client's start until the servers have answered DEVICES FolderSyncs
# (each device does exactly one, right after its two-phase Provision); ramp_ok=yes when that is
# at most RAMP + RAMP_SLACK seconds (the last device is scheduled at RAMP).
#
# usage: bench/scale.sh BUILD_DIR [http|https]...         (default: http https)
# env:   DEVICES=20000 RAMP=60s DURATION=5m SHARDS=2 ITEMS=20 SRV_WORKERS=1 RUN_WORKERS=1
#        RAMP_SLACK=2 OUT=/tmp/easload-scale-XXXX (kept: results, samples, logs)
#        TRIM_PROBE=1: 20 s before the end, RSS of every process before and after the allocator
#        released its free memory (tcmalloc's MallocExtension_ReleaseFreeMemory, glibc's malloc_trim)
#        called through gdb (needs gdb and ptrace rights; pauses each process for ~1 s)
# Needs: python3, curl, openssl. Loopback only. Bounded: every server gets --duration, every
# client --duration plus a `timeout` kill timer, and this script stops whatever is left.
set -eu
BUILD=${1:?usage: bench/scale.sh BUILD_DIR [http|https]...}
shift
MODES=${*:-http https}
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/certs.sh"
E=$BUILD/cli/easload
DEVICES=${DEVICES:-20000}
RAMP=${RAMP:-60s}
DURATION=${DURATION:-5m}
SHARDS=${SHARDS:-2}
ITEMS=${ITEMS:-20}
SRV_WORKERS=${SRV_WORKERS:-1}
RUN_WORKERS=${RUN_WORKERS:-1}
RAMP_SLACK=${RAMP_SLACK:-2}
TRIM_PROBE=${TRIM_PROBE:-0}
OUT=${OUT:-$(mktemp -d /tmp/easload-scale-XXXXXX)}
mkdir -p "$OUT"
SRV_PIDS=
RUN_PIDS=
SAMPLER_PID=

secs() { python3 -c "import re,sys
t=sys.argv[1]; s=0.0
for n,u in re.findall(r'([0-9.]+)(ms|s|m|h)?', t): s+=float(n)*{'ms':.001,'s':1,'m':60,'h':3600,'':1}[u]
print(int(s))" "$1"; }
RAMP_S=$(secs "$RAMP")
DUR_S=$(secs "$DURATION")

stop_pids() {
    for p in $1; do kill -"$2" "$p" 2>/dev/null || true; done
}
cleanup() {
    stop_pids "$RUN_PIDS" INT
    if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
    stop_pids "$SRV_PIDS" TERM
    for p in $RUN_PIDS $SAMPLER_PID $SRV_PIDS; do wait "$p" 2>/dev/null || true; done
    RUN_PIDS=''
    SRV_PIDS=''
    SAMPLER_PID=''

}
trap 'cleanup; exit 130' INT TERM
trap cleanup EXIT

# Root -> leaf for 127.0.0.1..127.0.0.SHARDS (bench/certs.sh)
make_certs() {
    san=$(python3 -c "import sys;print(','.join('IP:127.0.0.%d'%(i+1) for i in range(int(sys.argv[1]))))" "$SHARDS")
    bench_make_certs "$OUT" "$san" easload-scale-root
}

# start_servers MODE: one server per shard; sets SRV_PIDS, and D/url.K, D/admin.K
start_servers() {
    SRV_PIDS=
    k=0
    while [ $k -lt "$SHARDS" ]; do
        addr=127.0.0.$((k + 1))
        if [ "$1" = https ]; then
            listen="--tls-listen $addr:0 --cert $OUT/srv.pem --key $OUT/srv.key"
        else
            listen="--listen $addr:0"
        fi
        # shellcheck disable=SC2086
        "$E" serve $listen --admin "$addr:0" --users "$DEVICES" --items "$ITEMS" \
            --workers "$SRV_WORKERS" --max-devices-per-user 0 --duration $((DUR_S + 300)) \
            > "$D/srv.$k.out" 2> "$D/srv.$k.err" &
        SRV_PIDS="$SRV_PIDS $!"
        k=$((k + 1))
    done
    k=0
    while [ $k -lt "$SHARDS" ]; do
        bench_serve_urls "$D/srv.$k.out" "$D/srv.$k.err" 200
        echo "$SERVE_URL" > "$D/url.$k"
        echo "$SERVE_ADMIN" > "$D/admin.$k"
        k=$((k + 1))
    done
}

# the sampler: one line a second until D/stop exists, then D/samples.json
start_sampler() {
    admins=
    k=0
    while [ $k -lt "$SHARDS" ]; do admins="$admins $(cat "$D/admin.$k")"; k=$((k + 1)); done
    # shellcheck disable=SC2086
    python3 - "$D" "$(echo $SRV_PIDS | tr ' ' ,)" "$E" $admins > "$D/sampler.log" 2>&1 <<'PY' &
import json, os, sys, time, urllib.request
d, srv_pids = sys.argv[1], [int(p) for p in sys.argv[2].split(",") if p]
run_exe = os.path.realpath(sys.argv[3])
admins = sys.argv[4:]
hz = os.sysconf("SC_CLK_TCK")
def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        rest = s[s.rindex(")") + 2:].split()
        return s[s.index("(") + 1:s.rindex(")")], int(rest[1]), int(rest[11]) + int(rest[12])
    except OSError:
        return None
def mem(pid):
    r = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    r[line[:5]] = int(line.split()[1])
    except OSError:
        pass
    return r.get("VmRSS", 0), r.get("VmHWM", 0)
def run_pids():
    # every easload process that is not a server: the client shards and their forked workers
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit() or int(p) in srv_pids:
            continue
        st = stat(int(p))
        if st is None or st[0] != "easload":
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1] == b"run" and os.path.realpath(argv[0].decode()) == run_exe:
            out.append(int(p))
    return out
ticks = {"client": {}, "server": {}}
peak = {"client": 0, "server": 0}
hwm = {"client": {}, "server": {}}
rows = []
t0 = time.monotonic()
while True:
    stop = os.path.exists(f"{d}/stop")
    t = time.monotonic() - t0
    row = {"t": round(t, 2), "wall": round(time.time(), 3)}
    for side, pids in (("client", run_pids()), ("server", srv_pids)):
        rss = 0
        for p in pids:
            st = stat(p)
            if st is None:
                continue
            ticks[side][p] = max(ticks[side].get(p, 0), st[2])
            r, h = mem(p)
            rss += r
            hwm[side][p] = max(hwm[side].get(p, 0), h)
        peak[side] = max(peak[side], rss)
        row[side + "_rss_kb"] = rss
        row[side + "_cpu_s"] = round(sum(ticks[side].values()) / hz, 2)
    prov = fs = holds = reqs = 0
    for a in admins:
        try:
            with urllib.request.urlopen(a + "/stats", timeout=2) as f:
                s = json.load(f)
            er = s.get("eas", {}).get("requests", {})
            prov += er.get("Provision", 0)
            fs += er.get("FolderSync", 0)
            holds += s["http"]["holds_open"]
            reqs += s["http"]["requests"]
        except Exception as e:
            row["stats_error"] = str(e)
    row.update(provision=prov, foldersync=fs, holds_open=holds, server_requests=reqs,
               load1=float(open("/proc/loadavg").read().split()[0]))
    rows.append(row)
    print(json.dumps(row), flush=True)
    if stop:
        break
    time.sleep(max(0.0, 1.0 - (time.monotonic() - t0 - t)))
json.dump({"rows": rows, "peak_rss_kb": peak,
           "hwm_sum_kb": {k: sum(v.values()) for k, v in hwm.items()},
           "cpu_s": {k: sum(v.values()) / hz for k, v in ticks.items()}},
          open(f"{d}/samples.json", "w"))
PY
    SAMPLER_PID=$!
}

# trim_probe SECONDS: that long after the clients start (Pings held, steady phase), VmRSS of each
# server and client process before and after the allocator gives its free memory back, called
# through gdb (tcmalloc's MallocExtension_ReleaseFreeMemory, the default allocator of the binary;
# glibc's malloc_trim(0) in an EL_MALLOC=glibc build): how much of the RSS is heap the allocator
# holds free (freed memory not given back to the kernel)
trim_probe() {
    sleep "$1"
    for p in $SRV_PIDS $(pgrep -f "^$E run " || true); do
        b=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
        gdb -p "$p" -batch -ex 'call (void)MallocExtension_ReleaseFreeMemory()' \
            -ex 'call (int)malloc_trim(0)' > /dev/null 2>&1 || true
        a=$(awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
        role=client
        case " $SRV_PIDS " in *" $p "*) role=server ;; esac
        echo "trim $role pid=$p rss_kb_before=$b rss_kb_after=$a"
    done
}

run_mode() {
    mode=$1
    D=$OUT/$mode
    rm -rf "$D"
    mkdir -p "$D"
    start_servers "$mode"
    ca=
    [ "$mode" = https ] && ca="--ca $OUT/ca.pem"
    start_sampler
    sleep 1 # the sampler's first row: servers idle, no client yet
    RUN_PIDS=
    date +%s.%N > "$D/start"
    k=0
    while [ $k -lt "$SHARDS" ]; do
        # shellcheck disable=SC2086
        timeout -s INT -k 30 $((DUR_S + 120)) "$E" run "$SRC/scenarios/scale.lua" \
            --target "$(cat "$D/url.$k")" --admin "$(cat "$D/admin.$k")" $ca \
            --devices "$DEVICES" --user-count "$DEVICES" --ramp "$RAMP" --duration "$DURATION" \
            --shard "$k/$SHARDS" --workers "$RUN_WORKERS" --out "$D/shard$k" --no-progress \
            --log warn > "$D/run.$k.out" 2> "$D/run.$k.err" &
        RUN_PIDS="$RUN_PIDS $!"
        k=$((k + 1))
    done
    TRIM_PID=
    if [ "$TRIM_PROBE" = 1 ] && [ "$DUR_S" -gt 40 ]; then
        trim_probe "$((DUR_S - 20))" > "$D/trim.txt" 2>&1 &
        TRIM_PID=$!
    fi
    rcs=
    for p in $RUN_PIDS; do
        rc=0
        wait "$p" || rc=$?
        rcs="$rcs $rc"
    done
    RUN_PIDS=
    if [ -n "$TRIM_PID" ]; then wait "$TRIM_PID" || true; fi
    sleep 1 # one more sample with the final server counters
    touch "$D/stop"
    wait "$SAMPLER_PID" || true
    SAMPLER_PID=
    stop_pids "$SRV_PIDS" TERM
    for p in $SRV_PIDS; do wait "$p" 2>/dev/null || true; done
    SRV_PIDS=
    files=
    k=0
    while [ $k -lt "$SHARDS" ]; do files="$files $D/shard$k/results.json"; k=$((k + 1)); done
    # shellcheck disable=SC2086
    "$E" merge $files -o "$D/merged.json" > "$D/merge.out" 2>&1 || echo "merge failed: $(cat "$D/merge.out")" >&2
    python3 - "$D" "$mode" "$DEVICES" "$RAMP_S" "$RAMP_SLACK" "$rcs" <<'PY'
import json, sys
d, mode, n, ramp_s, slack, rcs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6].split()
s = json.load(open(f"{d}/samples.json"))
rows = s["rows"]
# t = seconds since the clients were started (their start time is in D/start, wall clock)
launch = float(open(f"{d}/start").read())
for r in rows:
    r["t"] = r["wall"] - launch
ramp = next((r["t"] for r in rows if r["foldersync"] >= n), None)
prov_done = next((r["t"] for r in rows if r["provision"] >= 2 * n), None)
try:
    m = json.load(open(f"{d}/merged.json"))
except Exception:
    m = {"totals": {"requests": 0, "errors": 0}, "counters": {}, "checks": {}, "commands": {}}
tot = m["totals"]
creq, cerr = tot["requests"], tot["errors"]
sreq = max((r["server_requests"] for r in rows), default=0)
holds_peak = max((r["holds_open"] for r in rows), default=0)
# held Pings over the steady phase: from the end of the ramp + 10 s to 10 s before the end
end_t = max((r["t"] for r in rows if r["client_rss_kb"] > 0), default=0)
win = [r for r in rows if ramp is not None and ramp + 10 < r["t"] < end_t - 10]
steady = sorted(r["holds_open"] for r in win)
holds_med = steady[len(steady) // 2] if steady else 0
# CPU per request in that steady window (no handshakes, no ramp): both sides / server requests
def per_req(side):
    if len(win) < 2:
        return None
    dreq = win[-1]["server_requests"] - win[0]["server_requests"]
    dcpu = win[-1][side + "_cpu_s"] - win[0][side + "_cpu_s"]
    return round(dcpu * 1e6 / dreq, 1) if dreq > 0 else None
steady_req_s = (round((win[-1]["server_requests"] - win[0]["server_requests"]) /
                      max(win[-1]["t"] - win[0]["t"], 1), 1) if len(win) >= 2 else None)
pk = s["peak_rss_kb"]
cpu = s["cpu_s"]
ck = m.get("checks", {})
def chk(name, k):
    return ck.get(name, {}).get(k, 0)
cmds = m.get("commands", {})
ping = cmds.get("ping", {})
conns = m.get("counters", {}).get("connections.opened", 0)
out = {
    "bench": "scale", "mode": mode, "devices": n,
    "held_pings_peak": holds_peak, "held_pings_steady_median": holds_med,
    "requests": creq, "server_requests": sreq, "errors": cerr,
    "error_pct": round(100.0 * cerr / max(creq, 1), 3),
    "client_rss_peak_kb": pk["client"], "server_rss_peak_kb": pk["server"],
    "client_hwm_sum_kb": s["hwm_sum_kb"]["client"], "server_hwm_sum_kb": s["hwm_sum_kb"]["server"],
    "client_kb_per_device": round(pk["client"] / n, 1), "server_kb_per_device": round(pk["server"] / n, 1),
    "client_cpu_s": round(cpu["client"], 1), "server_cpu_s": round(cpu["server"], 1),
    "client_us_per_req": round(cpu["client"] * 1e6 / max(creq, 1), 1),
    "server_us_per_req": round(cpu["server"] * 1e6 / max(sreq, 1), 1),
    "steady_req_per_s": steady_req_s,
    "client_us_per_req_steady": per_req("client"), "server_us_per_req_steady": per_req("server"),
    "server_base_kb": rows[0]["server_rss_kb"] if rows else 0,
    "ramp_s": None if ramp is None else round(ramp, 1),
    "provision_done_s": None if prov_done is None else round(prov_done, 1),
    "ramp_ok": "yes" if ramp is not None and ramp <= ramp_s + slack else "no",
    "provisioned": chk("provisioned", "passed"), "provision_failed": chk("provisioned", "failed"),
    "pings_ok": chk("ping", "passed"), "pings_failed": chk("ping", "failed"),
    "mails_delivered": chk("mail delivered", "passed"),
    "connections_opened": conns, "exit_codes": ",".join(rcs),
    "load1_max": max((r.get("load1", 0) for r in rows), default=0),
}
json.dump(out, open(f"{d}/summary.json", "w"), indent=1)
print(" ".join(f"{k}={v}" for k, v in out.items()), flush=True)
PY
    if [ -s "$D/trim.txt" ]; then
        awk '/^trim/ {split($4, b, "="); split($5, a, "="); B[$2] += b[2]; A[$2] += a[2]}
             END {for (r in B) printf "# trim %s rss_kb_before=%d rss_kb_after=%d\n", r, B[r], A[r]}' \
            "$D/trim.txt"
    fi
    # what went wrong, if anything: outcome classes other than ok
    python3 - "$D/merged.json" <<'PY' || true
import json, sys
m = json.load(open(sys.argv[1]))
bad = {f"{c}.{o}": v["requests"] for c, cv in m.get("commands", {}).items()
       for o, v in cv.get("outcomes", {}).items() if o != "ok"}
if bad:
    print("# non-ok outcomes: " + " ".join(f"{k}={v}" for k, v in sorted(bad.items())))
PY
}

echo "# bench/scale.sh $(date -u '+%Y-%m-%d %H:%M UTC') commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo ?)" \
    "$(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), nofile $(awk '/open files/ {print $5}' /proc/self/limits)," \
    "devices=$DEVICES ramp=$RAMP duration=$DURATION shards=$SHARDS out=$OUT"
make_certs
for mode in $MODES; do
    case $mode in
    http | https) run_mode "$mode" ;;
    *) echo "unknown mode $mode (http, https)" >&2; exit 2 ;;
    esac
    echo "# $mode done $(date -u '+%H:%M:%S UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
done
