#!/bin/sh
# engine.sh - bench/engine (issue 5 item 7): memory per idle device and client CPU per request
# of `easload run`, against `easload serve` on loopback, with the peers in the same run:
#   mem   bytes per device holding a Ping (bench/engine_idle.lua), plain HTTP and TLS, at each of
#         MEM_SIZES devices: VmRSS of the run process (one worker) once every Ping is held, minus
#         the same run with one device, divided by the extra devices
#   cpu   CPU per FolderSync over CPU_CONNS keep-alive connections (bench/engine_cpu.lua: every
#         device busy), then wrk (bench/engine_wrk.lua) and bench_curl_floor (bare libcurl multi
#         + libuv loop) sending the same steady-state FolderSync over as many connections
#   flat  the engine's CPU per FolderSync with 100 busy devices among FLAT_SIZES connected ones
#         (the others hold Pings)
#   flatsys  the flat runs again, counting with perf (tracepoints) per request: system calls,
#         poll() calls (curl's liveness check of idle cached connections), epoll_wait calls,
#         context switches; counts do not depend on the machine's load as CPU time does
#         (optional, not in the default sections; needs perf)
#   flatproc the 100 busy devices alone in the run process while ANOTHER easload run process
#         holds the N - 100 Pings (bench/engine_idle.lua, users user101..) on the same server:
#         tells in-process costs of the held devices from server/kernel/machine ones (optional)
#   sync  as cpu, with the 50-item Sync (bench/engine_sync.lua; `bench_curl_floor loop ... sync`
#         and wrk replay the same body) against `easload serve --sync-replay --items 60`: every
#         answer carries the same 50 Inbox items and the same SyncKey
# CPU = utime + stime of the client process over WINDOW seconds (/proc/PID/stat), requests =
# the server's count over the same window (GET /stats). One line per figure:
#   bench=engine_idle mode=https devices=10000 rss_kb=... base_kb=... kb_per_device=...
# usage: bench/engine.sh BUILD_DIR [mem] [cpu] [flat] [sync] [flatsys] [flatproc]
#        (default: mem cpu flat sync)
# env: MEM_SIZES="1000 10000" MEM_MODES="http https" CPU_CONNS=100 FLAT_SIZES="100 1000 10000"
#      WINDOW=10 (seconds); REPEAT=1 (cpu, sync: runs of the trio, then medians); FLAT_SPLIT=1: flat with engine_cpu.lua --var split=1 (the busy
#      devices alone in their multi handle, a diagnostic); SRV_WORKERS=1 (easload serve's threads).
#      Needs: openssl, curl, python3, wrk
#      (perf for flatsys). Loopback only; every server and run is bounded (--duration) and
#      stopped by this script.
set -eu
BUILD=${1:?usage: bench/engine.sh BUILD_DIR [mem] [cpu] [flat] [sync] [flatsys] [flatproc]}
shift
SECTIONS=${*:-mem cpu flat sync}
SRC=$(cd "$(dirname "$0")/.." && pwd)
. "$SRC/bench/certs.sh"
E=$BUILD/cli/easload
FLOOR=$BUILD/bench/bench_curl_floor
MEM_SIZES=${MEM_SIZES:-1000 10000}
MEM_MODES=${MEM_MODES:-http https}
CPU_CONNS=${CPU_CONNS:-100}
FLAT_SIZES=${FLAT_SIZES:-100 1000 10000}
WINDOW=${WINDOW:-10}
REPEAT=${REPEAT:-1}
SRV_WORKERS=${SRV_WORKERS:-1}
TMP=$(mktemp -d /tmp/easload-bench-engine-XXXXXX)
SRV_PID=
RUN_PID=
HOLD_PID=
HZ=$(getconf CLK_TCK)

cleanup() {
    if [ -n "$RUN_PID" ]; then kill -INT "$RUN_PID" 2>/dev/null || true; fi
    if [ -n "$HOLD_PID" ]; then kill -INT "$HOLD_PID" 2>/dev/null || true; fi
    if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Root -> leaf for 127.0.0.1 (bench/certs.sh)
make_certs() { bench_make_certs "$TMP" IP:127.0.0.1 easload-bench-root; }

# start_server MODE USERS [ARGS]: sets URL and ADMIN (one server thread: the client gets the other
# core); ARGS go to easload serve (default: --items 5)
start_server() {
    if [ "$1" = https ]; then
        listen="--tls-listen 127.0.0.1:0 --cert $TMP/srv.pem --key $TMP/srv.key"
    else
        listen="--listen 127.0.0.1:0"
    fi
    users=$2; shift 2
    extra=${*:---items 5}
    # shellcheck disable=SC2086
    "$E" serve $listen --admin 127.0.0.1:0 --users "$users" $extra --workers "$SRV_WORKERS" --duration 900 \
        > "$TMP/srv.out" 2> "$TMP/srv.err" &
    SRV_PID=$!
    bench_serve_urls "$TMP/srv.out" "$TMP/srv.err" 100
    URL=$SERVE_URL ADMIN=$SERVE_ADMIN
}

stop_server() {
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=
}

# stat SECTION KEY [SUBKEY]: a number from the server's /stats
stat() {
    curl -s "$ADMIN/stats" | python3 -c "import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1:]: d=d.get(k,0) if isinstance(d,dict) else 0
print(d)" "$@"
}

# wait_stat VALUE SECTION KEY: polls /stats until it reaches VALUE (at most 300 s)
wait_stat() {
    want=$1; shift; i=0
    while [ "$(stat "$@")" -lt "$want" ]; do
        i=$((i + 1)); [ $i -gt 1500 ] && { echo "timeout waiting for $* >= $want" >&2; exit 3; }
        sleep 0.2
    done
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# start_run SCENARIO DEVICES RAMP [ARGS]: easload run with one worker, in the background
start_run() {
    r_sc=$1 r_n=$2 r_ramp=$3; shift 3
    "$E" run "$SRC/bench/$r_sc" --target "$URL" --devices "$r_n" --ramp "$r_ramp" --workers 1 \
        --user-count "$r_n" --duration 600 --out "$TMP/out" --no-progress --log warn "$@" \
        > "$TMP/run.out" 2> "$TMP/run.err" &
    RUN_PID=$!
}

stop_run() {
    kill -INT "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" 2>/dev/null || true
    RUN_PID=
}

# idle_rss MODE N: RSS (KB) of one worker with N devices each holding a Ping -> RSS
idle_rss() {
    start_server "$1" "$2"
    ca=; [ "$1" = https ] && ca="--ca $TMP/ca.pem"
    # ramp: new connections per second the one-thread server takes without dropping any
    # (10,000 TLS handshakes in 11 s overflowed its accept queue)
    rate=300; [ "$1" = https ] && rate=150
    # shellcheck disable=SC2086
    start_run engine_idle.lua "$2" "$(( $2 / rate + 1 ))s" $ca
    wait_stat "$2" http holds_open
    sleep 3
    RSS=$(rss_kb "$RUN_PID")
    stop_run
    stop_server
}

section_mem() {
    for mode in $MEM_MODES; do
        idle_rss "$mode" 1
        base=$RSS
        for n in $MEM_SIZES; do
            idle_rss "$mode" "$n"
            echo "bench=engine_idle mode=$mode devices=$n rss_kb=$RSS base_kb=$base" \
                "kb_per_device=$(python3 -c "print(round(($RSS-$base)/($n-1),2))")" \
                "goal_kb=56"
        done
    done
}

# cpu_window PID: TICKS and REQS of PID and of the server over WINDOW seconds
cpu_window() {
    t0=$(cpu_ticks "$1"); r0=$(stat http requests)
    sleep "$WINDOW"
    t1=$(cpu_ticks "$1"); r1=$(stat http requests)
    TICKS=$((t1 - t0)) REQS=$((r1 - r0))
}

us_per_req() { python3 -c "print(round($1*1e6/$HZ/max($2,1),2))"; }

# engine_cpu N [SCENARIO [split]]: US (per request) and REQS of the engine with N devices, 100
# of them busy (engine_cpu.lua; split: its --var split=1), or all N busy with engine_sync.lua
engine_cpu() {
    sc=${2:-engine_cpu.lua} ndev=$1 split=
    # split: 100 more devices, which end at once (N connected in all)
    if [ "${3:-}" = split ]; then
        split="--var split=1"
        [ "$1" -gt 100 ] && ndev=$(( $1 + 100 ))
    fi
    # shellcheck disable=SC2086
    start_run "$sc" "$ndev" "$(( $1 / 1000 + 2 ))s" $split
    if [ "$sc" != engine_sync.lua ]; then
        wait_stat $(( $1 > 100 ? $1 - 100 : 0 )) http holds_open
    fi
    wait_stat $(( $1 * 3 + 2000 )) http requests
    sleep 2
    cpu_window "$RUN_PID"
    stop_run
    US=$(us_per_req "$TICKS" "$REQS")
}

# cpu_compare CMD SCENARIO [SETUP_ARG]: easload, wrk and bench_curl_floor, CMD over CPU_CONNS
# connections (the server is running)
cpu_compare() {
    cmd=$1 sc=$2 arg=${3:-}
    n=$CPU_CONNS
    engine_cpu "$n" "$sc"
    ours=$US
    echo "bench=engine_cpu cmd=$cmd conns=$n tool=easload requests=$REQS us_per_req=$US"
    # wrk: one provisioned device (wrk sends one request on all its connections)
    # shellcheck disable=SC2086
    key=$("$FLOOR" setup "$URL" WRK000 "user$((n + 1))" "pass$((n + 1))" "$TMP/wrk.wbxml" $arg)
    wcmd=FolderSync; [ "$cmd" = sync ] && wcmd=Sync
    EL_WRK_BODY=$TMP/wrk.wbxml EL_WRK_DEVICE=WRK000 EL_WRK_USER=user$((n + 1)) \
        EL_WRK_PASS=pass$((n + 1)) EL_WRK_POLICY=$key EL_WRK_CMD=$wcmd \
        wrk -t1 -c"$n" -d"$((WINDOW + 4))s" -s "$SRC/bench/engine_wrk.lua" "$URL" \
        > "$TMP/wrk.out" 2>&1 &
    RUN_PID=$!
    sleep 2
    cpu_window "$RUN_PID"
    wait "$RUN_PID" || true
    RUN_PID=
    wrk_us=$(us_per_req "$TICKS" "$REQS")
    echo "bench=engine_cpu cmd=$cmd conns=$n tool=wrk requests=$REQS us_per_req=$wrk_us"
    if grep -q 'Non-2xx' "$TMP/wrk.out"; then grep 'Non-2xx' "$TMP/wrk.out"; fi
    # shellcheck disable=SC2086
    line=$("$FLOOR" loop "$URL" "$n" "$WINDOW" $arg)
    echo "$line"
    floor=$(echo "$line" | sed 's/.*us_per_req=//')
    ratio=$(python3 -c "print(round($ours/$floor,2))")
    echo "$ours $floor $ratio" >> "$TMP/ratios-$cmd"
    echo "bench=engine_cpu cmd=$cmd conns=$n ours=$ours peer=curl_floor theirs=$floor" \
        "ratio=$ratio goal_ratio=1.25 wrk=$wrk_us"
}

# cpu_repeat CMD SCENARIO [SETUP_ARG]: cpu_compare REPEAT times (engine, wrk, floor in turn),
# then the medians: one identical run swings by +-20% on this shared 2-core machine
cpu_repeat() {
    rm -f "$TMP/ratios-$1"
    rep=0 # (not i: wait_stat's)
    while [ $rep -lt "$REPEAT" ]; do
        cpu_compare "$@"
        rep=$((rep + 1))
    done
    python3 - "$1" "$TMP/ratios-$1" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[2])]
med = [statistics.median(c) for c in zip(*rows)]
print(f"bench=engine_cpu_median cmd={sys.argv[1]} runs={len(rows)} ours_us={med[0]:.1f} "
      f"curl_floor_us={med[1]:.1f} ratio={med[2]:.2f} goal_ratio=1.25")
EOF
}

section_cpu() {
    start_server http $((CPU_CONNS + 10))
    cpu_repeat foldersync engine_cpu.lua
    stop_server
}

section_flatsys() {
    ev=raw_syscalls:sys_enter,syscalls:sys_enter_poll,syscalls:sys_enter_epoll_wait
    ev=$ev,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,context-switches
    for n in $FLAT_SIZES; do
        start_server http $(( n + 100 ))
        start_run engine_cpu.lua "$n" "$(( n / 1000 + 2 ))s"
        wait_stat $(( n > 100 ? n - 100 : 0 )) http holds_open
        wait_stat $(( n * 3 + 2000 )) http requests
        sleep 2
        r0=$(stat http requests)
        perf stat -x, -e "$ev" -p "$RUN_PID" -o "$TMP/perf.txt" -- sleep "$WINDOW" || true
        r1=$(stat http requests)
        stop_run
        stop_server
        echo "bench=engine_flatsys busy=100 connected=$n requests=$((r1 - r0))" \
            "$(awk -F, -v r=$((r1 - r0)) '$3 ~ /:|switches/ {
                 split($3, a, ":"); k = a[length(a)]; sub(/^sys_enter_?/, "", k);
                 if (k == "") k = "syscalls"; printf "%s_per_req=%.2f ", k, $1 / r }' \
               "$TMP/perf.txt")"
    done
}

section_flatproc() {
    for n in $FLAT_SIZES; do
        [ "$n" -le 100 ] && continue
        start_server http $(( n + 100 ))
        printf 'user,password\n' > "$TMP/holders.csv"
        i=101; while [ $i -le "$n" ]; do printf 'user%d,pass%d\n' $i $i; i=$((i + 1)); done \
            >> "$TMP/holders.csv"
        "$E" run "$SRC/bench/engine_idle.lua" --target "$URL" --devices $(( n - 100 )) \
            --ramp "$(( n / 300 + 1 ))s" --workers 1 --users "$TMP/holders.csv" --duration 600 \
            --out "$TMP/out-holders" --no-progress --log warn > /dev/null 2>&1 &
        HOLD_PID=$!
        wait_stat $(( n - 100 )) http holds_open
        engine_cpu 100
        kill -INT "$HOLD_PID" 2>/dev/null || true
        wait "$HOLD_PID" 2>/dev/null || true
        HOLD_PID=
        echo "bench=engine_cpu_flatproc cmd=foldersync busy=100 held_by_other_process=$(( n - 100 ))" \
            "requests=$REQS us_per_req=$US"
        stop_server
    done
}

section_sync() {
    start_server http $((CPU_CONNS + 10)) --items 60 --sync-replay
    cpu_repeat sync engine_sync.lua sync
    stop_server
}

section_flat() {
    for n in $FLAT_SIZES; do
        start_server http $(( n + 100 ))
        s=; [ "${FLAT_SPLIT:-0}" = 1 ] && s=split
        # shellcheck disable=SC2086
        engine_cpu "$n" engine_cpu.lua $s
        echo "bench=engine_cpu_flat cmd=foldersync busy=100 connected=$n requests=$REQS" \
            "us_per_req=$US split=${FLAT_SPLIT:-0}"
        stop_server
    done
}

echo "# bench/engine.sh $(date -u '+%Y-%m-%d %H:%M UTC') commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo ?)" \
    "$(nproc) cores, $(uname -r)"
make_certs
for s in $SECTIONS; do
    case $s in
    mem) section_mem ;;
    cpu) section_cpu ;;
    flat) section_flat ;;
    sync) section_sync ;;
    flatsys) section_flatsys ;;
    flatproc) section_flatproc ;;
    *) echo "unknown section $s" >&2; exit 2 ;;
    esac
done
