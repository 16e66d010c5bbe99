#!/bin/sh
# run.sh - bench/peers (issue 9 item 4): easload against wrk, Locust and Tsung, and the bare
# curl + libuv loop (bench_curl_floor), with the same workload against the same target
# (`easload serve --no-policy` on loopback), one tool after the other in the same run:
#   busy  N devices, each with its own keep-alive connection and Basic credentials
#         (user<i>/pass<i>), POST FolderSync with the fixed 13-byte body (SyncKey 0,
#         03 01 6a 00 00 07 56 52 03 30 00 01 01) in a closed loop; for each N of SIZES:
#         CPU of all the tool's processes (utime+stime from /proc, the process and its
#         descendants) over WINDOW seconds / requests the server answered in that window
#   idle  N devices, each sends that FolderSync once, then holds one Ping (heartbeat 3000 s) on
#         its connection; for each N of MEM_SIZES: VmRSS of all the tool's processes once the
#         server holds N Pings (+3 s); memory per held device = (RSS(N2) - RSS(N1)) / (N2 - N1)
# Tools: easload (bench/peers/easload_{busy,idle}.lua, --workers 1, HTTPS verified with --ca),
# curl_floor (bench_curl_floor fixed: curl multi + libuv, no Lua/WBXML/results; idle = the Ping
# only), wrk (bench/peers/wrk.lua, -t1), locust (bench/peers/locustfile.py, FastHttpUser, one
# process: Debian's 2.12.1 reports an empty version and its master rejects workers), tsung
# (bench/peers/tsung.xml.in; -n: no web GUI; its epmd is stopped at the end if it was not
# running before). wrk, Locust and Tsung do not verify the server certificate.
# Why --no-policy: `easload serve` enforces a device policy (FolderSync and Ping without a
# policy key get 142), and wrk, Locust and Tsung cannot run the two-phase Provision per device
# without scripting EAS; with --no-policy the server behaves like servers that have no policy
# (SOGo): every tool sends the same request, nothing is provisioned, and the server does the same
# work for every tool (docs/server.md).
# The server: a fresh `easload serve --workers SRV_WORKERS` (default 2) per measurement; it and
# the tool share the 2 cores; its CPU over the same window is printed (server_cpu_pct) so a
# saturated server shows.
# usage: bench/peers/run.sh [BUILD_DIR]      (default build-bench; needs cli/easload and
#        bench/bench_curl_floor of a -DEL_BENCH=ON build; wrk, python3-locust, tsung:
#        deploy/bench-packages.txt, `make bench-peers` installs them)
# env: QUICK=1 (development: N=100 only, idle 100/300, 3 s window), SIZES="100 1000 5000",
#      MEM_SIZES="1000 5000", MODES="http https", TOOLS="easload curl_floor wrk locust tsung",
#      WINDOW=10, WARM=2 (s after all connections are open), SRV_WORKERS=2, OUT=FILE (the
#      bench= lines, also printed). Loopback only; every process is bounded and stopped here.
set -eu
BUILD=${1:-build-bench}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
. "$SRC/bench/certs.sh"
E=$BUILD/cli/easload
FLOOR=$BUILD/bench/bench_curl_floor
PY=/usr/bin/python3
if [ "${QUICK:-0}" = 1 ]; then
    d_sizes=100 d_mem="100 300" d_window=3
else
    d_sizes="100 1000 5000" d_mem="1000 5000" d_window=10
fi
SIZES=${SIZES:-$d_sizes}
MEM_SIZES=${MEM_SIZES:-$d_mem}
WINDOW=${WINDOW:-$d_window}
WARM=${WARM:-2}
MODES=${MODES:-http https}
TOOLS=${TOOLS:-easload curl_floor wrk locust tsung}
SRV_WORKERS=${SRV_WORKERS:-2}
TSUNG_TCPBUF=${TSUNG_TCPBUF:-32768}
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/easload-bench-peers-XXXXXX)
OUT=${OUT:-$TMP/results.txt}
SRV_PID=
TOOL_PID=
EPMD_BEFORE=$(pgrep -x epmd || true)

for f in "$E" "$FLOOR"; do
    [ -x "$f" ] || { echo "run.sh: $f missing (build with -DEL_BENCH=ON)" >&2; exit 2; }
done
for t in $TOOLS; do
    case $t in
    wrk) command -v wrk >/dev/null || { echo "run.sh: wrk missing" >&2; exit 2; } ;;
    locust) [ -x /usr/bin/locust ] || { echo "run.sh: /usr/bin/locust missing" >&2; exit 2; } ;;
    tsung) [ -x /usr/bin/tsung ] || { echo "run.sh: /usr/bin/tsung missing" >&2; exit 2; } ;;
    esac
done

P() { "$PY" "$HERE/peers.py" "$@"; }

# kill_tree PID [PID...]: TERM to the processes and their descendants (the list is taken
# first: Tsung's beam.smp outlives its parent script), KILL after 5 s
kill_tree() {
    pids=$(P tree "$@")
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null || true
    i=0
    # shellcheck disable=SC2086
    while [ $i -lt 50 ] && [ -n "$(P alive $pids)" ]; do sleep 0.1; i=$((i + 1)); done
    # shellcheck disable=SC2086
    left=$(P alive $pids)
    # shellcheck disable=SC2086
    [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

stop_epmd() {
    # Tsung's Erlang VM leaves epmd behind; stop it only if this script started it
    now=$(pgrep -x epmd || true)
    for p in $now; do
        case " $EPMD_BEFORE " in *" $p "*) ;; *) kill "$p" 2>/dev/null || true ;; esac
    done
}

cleanup() {
    [ -z "$TOOL_PID" ] || kill_tree "$TOOL_PID"
    [ -z "$SRV_PID" ] || kill_tree "$SRV_PID"
    stop_epmd
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say() { echo "$*" | tee -a "$OUT"; }

# Root -> leaf for 127.0.0.1 (bench/certs.sh)
make_certs() { bench_make_certs "$TMP" IP:127.0.0.1 easload-bench-root; }

# The bodies: FolderSync SyncKey 0 (13 bytes) and Ping of folder 1 (the Inbox), heartbeat 3000
make_bodies() {
    printf '03016a000007565203300001 01' | xxd -r -p > "$TMP/fs.wbxml"
    printf '%s' '<Ping:Ping><Ping:HeartbeatInterval>3000</Ping:HeartbeatInterval><Ping:Folders>' \
        '<Ping:Folder><Ping:Id>1</Ping:Id><Ping:Class>Email</Ping:Class></Ping:Folder>' \
        '</Ping:Folders></Ping:Ping>' | "$E" wbxml encode -o "$TMP/ping.wbxml" -
    [ "$(wc -c < "$TMP/fs.wbxml")" -eq 13 ] || { echo "run.sh: bad FolderSync body" >&2; exit 3; }
}

MAXN=1
for n in $SIZES $MEM_SIZES; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done

# start_server MODE: URL, PORT, ADMIN
start_server() {
    if [ "$1" = https ]; then
        listen="--tls-listen 127.0.0.1:0 --cert $TMP/srv.pem --key $TMP/srv.key"
    else
        listen="--listen 127.0.0.1:0"
    fi
    # shellcheck disable=SC2086
    "$E" serve $listen --admin 127.0.0.1:0 --users "$MAXN" --items 5 --no-policy \
        --max-devices-per-user 0 --workers "$SRV_WORKERS" --duration 900 \
        > "$TMP/srv.out" 2> "$TMP/srv.err" &
    SRV_PID=$!
    bench_serve_urls "$TMP/srv.out" "$TMP/srv.err" 100
    URL=$SERVE_URL ADMIN=$SERVE_ADMIN
    PORT=${URL##*:}
}

stop_server() {
    kill_tree "$SRV_PID"
    SRV_PID=
}

# start_tool TOOL MODE KIND N: TOOL_PID (the root of the tool's processes)
start_tool() {
    tool=$1 mode=$2 kind=$3 n=$4
    rate=500; [ "$mode" = https ] && rate=250          # new connections per second (idle ramp)
    [ "$kind" = busy ] && rate=1000
    ramp=$(( (n + rate - 1) / rate ))
    # Tsung: an integer phase duration, and it starts fewer users than the rate says in a short
    # phase (8 of 100 in a 1 s phase at 1000/s): a longer phase, capped by maxnumber
    tramp=$(( ramp * 2 + 5 ))
    log=$TMP/$tool-$mode-$kind-$n.log
    case $tool in
    easload)
        ca=; [ "$mode" = https ] && ca="--ca $TMP/ca.pem"
        # shellcheck disable=SC2086
        "$E" run "$HERE/easload_$kind.lua" --target "$URL" --devices "$n" --ramp "${ramp}s" \
            --workers 1 --user-count "$n" --duration 900 --out "$TMP/out-$mode-$kind-$n" \
            --no-progress --log warn $ca > "$log" 2>&1 &
        ;;
    curl_floor)
        ca=; [ "$mode" = https ] && ca=$TMP/ca.pem
        cmd=FolderSync body=$TMP/fs.wbxml
        [ "$kind" = idle ] && cmd=Ping body=$TMP/ping.wbxml
        # shellcheck disable=SC2086
        "$FLOOR" fixed "$URL" "$n" 900 "$cmd" "$body" $ca > "$log" 2>&1 &
        ;;
    wrk)
        PEERS_MODE=$kind PEERS_N=$n PEERS_FS_BODY=$TMP/fs.wbxml PEERS_PING_BODY=$TMP/ping.wbxml \
            wrk -t1 -c"$n" -d900s --timeout 30s -s "$HERE/wrk.lua" "$URL" > "$log" 2>&1 &
        ;;
    locust)
        (cd "$TMP" && PEERS_MODE=$kind PEERS_N=$n PEERS_FS_BODY=$TMP/fs.wbxml \
            PEERS_PING_BODY=$TMP/ping.wbxml exec /usr/bin/locust -f "$HERE/locustfile.py" \
            --headless -u "$n" -r "$rate" -t 900s -H "$URL" --only-summary --loglevel WARNING \
            > "$log" 2>&1) &
        ;;
    tsung)
        type=tcp; [ "$mode" = https ] && type=ssl
        pb=0 pi=100; [ "$kind" = busy ] && pb=100 pi=0
        awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "user%d;pass%d;TS%06d\n", i, i, i }' \
            > "$TMP/tsung-users.csv"
        sed -e "s|@PORT@|$PORT|; s|@TYPE@|$type|; s|@DURATION@|900|; s|@RAMP@|$tramp|" \
            -e "s|@N@|$n|g; s|@RATE@|$rate|; s|@USERS@|$TMP/tsung-users.csv|" \
            -e "s|@P_BUSY@|$pb|; s|@P_IDLE@|$pi|; s|@TCPBUF@|$TSUNG_TCPBUF|" \
            -e "s|@FS_BODY@|$TMP/fs.wbxml|g; s|@PING_BODY@|$TMP/ping.wbxml|g" \
            "$HERE/tsung.xml.in" > "$TMP/tsung.xml"
        mkdir -p "$TMP/tsung-home"
        (cd "$TMP" && HOME=$TMP/tsung-home exec /usr/bin/tsung -n -f "$TMP/tsung.xml" \
            -l "$TMP/tsung-log" start > "$log" 2>&1) &
        ;;
    *) echo "run.sh: unknown tool $tool" >&2; exit 2 ;;
    esac
    TOOL_PID=$!
}

# pids of the tool: its tree, plus an epmd Tsung started
tool_pids() {
    extra=
    if [ "$1" = tsung ]; then
        for p in $(pgrep -x epmd || true); do
            case " $EPMD_BEFORE " in *" $p "*) ;; *) extra="$extra $p" ;; esac
        done
    fi
    echo "$TOOL_PID$extra"
}

stop_tool() {
    kill_tree "$TOOL_PID"
    TOOL_PID=
}

now() { date +%s.%N; }
calc() { "$PY" -c "print($1)"; }

# busy TOOL MODE N: one peers_cpu line
busy() {
    tool=$1 mode=$2 n=$3
    start_server "$mode"
    start_tool "$tool" "$mode" busy "$n"
    # ready: every device has had a request answered (TLS handshakes done), i.e. the server
    # knows N devices (each tool sends one FolderSync per device before it loops)
    if ! P wait "$ADMIN" "$n" $((30 + n / 50)) eas devices > /dev/null; then
        say "bench=peers_cpu mode=$mode tool=$tool n=$n us_per_req=failed" \
            "detail=devices_$(P stat "$ADMIN" eas devices)_of_$n"
        tail -3 "$TMP/$tool-$mode-busy-$n.log" >&2 || true
        stop_tool; stop_server; return 0
    fi
    sleep "$WARM"
    pids=$(tool_pids "$tool")
    # shellcheck disable=SC2086
    set -- $(P proc $pids) $(P proc "$SRV_PID")
    c0=$1 np=$3 s0=$4
    r0=$(P stat "$ADMIN" http requests); t0=$(now)
    sleep "$WINDOW"
    # shellcheck disable=SC2086
    set -- $(P proc $pids) $(P proc "$SRV_PID")
    c1=$1 s1=$4
    r1=$(P stat "$ADMIN" http requests); t1=$(now)
    errs=$(P errs "$ADMIN")
    conns=$(P stat "$ADMIN" http connections)
    stop_tool
    stop_server
    dr=$((r1 - r0)); [ "$dr" -gt 0 ] || dr=1
    say "bench=peers_cpu mode=$mode tool=$tool n=$n requests=$dr" \
        "window_s=$(calc "round($t1-$t0,2)") req_s=$(calc "round($dr/($t1-$t0))")" \
        "us_per_req=$(calc "round(($c1-$c0)*1e6/$HZ/$dr,1)")" \
        "client_cpu_pct=$(calc "round(($c1-$c0)*100/$HZ/($t1-$t0))")" \
        "server_cpu_pct=$(calc "round(($s1-$s0)*100/$HZ/($t1-$t0))")" \
        "server_us_per_req=$(calc "round(($s1-$s0)*1e6/$HZ/$dr,1)")" \
        "non2xx=$errs connections=$conns procs=$np"
}

# idle TOOL MODE N: RSS (KB) of the tool with N Pings held
idle() {
    tool=$1 mode=$2 n=$3
    start_server "$mode"
    start_tool "$tool" "$mode" idle "$n"
    if ! P wait "$ADMIN" "$n" $((30 + n / 50)) http holds_open > /dev/null; then
        RSS=
        say "bench=peers_rss mode=$mode tool=$tool n=$n rss_kb=failed" \
            "detail=holds_open_$(P stat "$ADMIN" http holds_open)_of_$n"
        tail -3 "$TMP/$tool-$mode-idle-$n.log" >&2 || true
        stop_tool; stop_server; return 0
    fi
    sleep 3
    # shellcheck disable=SC2086
    set -- $(P proc $(tool_pids "$tool"))
    RSS=$2
    say "bench=peers_rss mode=$mode tool=$tool n=$n rss_kb=$RSS procs=$3" \
        "holds_open=$(P stat "$ADMIN" http holds_open) non2xx=$(P errs "$ADMIN")"
    stop_tool
    stop_server
}

say "# bench/peers/run.sh $(date -u '+%Y-%m-%d %H:%M:%S UTC') commit" \
    "$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$SRC" status --porcelain 2>/dev/null | grep -q . && echo ' + uncommitted tree')" \
    "$(nproc) cores, $(uname -r); build $BUILD"
say "# sizes=\"$SIZES\" mem_sizes=\"$MEM_SIZES\" modes=\"$MODES\" tools=\"$TOOLS\" window=${WINDOW}s" \
    "warm=${WARM}s server_workers=$SRV_WORKERS; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
say "# versions: wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), locust" \
    "$(dpkg-query -W -f='${Version}' python3-locust 2>/dev/null || echo -), tsung" \
    "$(dpkg-query -W -f='${Version}' tsung 2>/dev/null || echo -), curl" \
    "$(curl --version | head -1 | awk '{print $2}')"
make_certs
make_bodies
start_time=$(date +%s)
for mode in $MODES; do
    for tool in $TOOLS; do
        for n in $SIZES; do busy "$tool" "$mode" "$n"; done
        first= rss1=
        for n in $MEM_SIZES; do
            idle "$tool" "$mode" "$n"
            if [ -n "$first" ] && [ -n "$rss1" ] && [ -n "$RSS" ]; then
                say "bench=peers_mem mode=$mode tool=$tool n1=$first n2=$n rss1_kb=$rss1" \
                    "rss2_kb=$RSS kb_per_device=$(calc "round(($RSS-$rss1)/($n-$first),1)")"
            fi
            [ -n "$first" ] || { first=$n; rss1=$RSS; }
        done
        [ "$tool" = tsung ] && stop_epmd
        say "# $mode $tool done, $(( $(date +%s) - start_time )) s; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
    done
done
echo
P table "$OUT"
