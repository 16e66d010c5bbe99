#!/bin/sh
# run.sh - the SOGo peer suite: easload itself (no hand-made requests) against the SOGo peer that
# setup.sh brought up, over HTTP and over HTTPS (the set-up's private CA via --ca):
#   probe      `easload probe`: every step, Ping included (SOGo's heartbeat bound negotiated)
#   sync       scenarios/sync.lua, 20 devices, error rate < 1 %
#   search     scenarios/search.lua, 10 devices, error rate < 1 %
#   ping       tests/peers/sogo/ping_sogo.lua, 10 devices, while this script delivers mail into
#              their INBOXes with `doveadm save`: woken Pings, Syncs that fetch the mail, push
#              latency recorded; at most one Ping status 5 per device (the bound), other errors
#              < 1 %
#   direct     sync.lua straight to sogod, which closes the connection after every answer:
#              easload reconnects without errors
# Each run is bounded (duration + timeout). Results stay in $PEER_OUT (default a new directory
# under /tmp); the summary of each run is printed. Exit 0 when every case passed, 1 otherwise.
# usage: run.sh EASLOAD   (env: PEER_OUT, PEER_SECONDS: load phase per run, default 40;
#                          PEER_ONLY: space-separated case names to run, default all;
#                          PEER_BENCH: a file to append bench/RESULTS.md rows to)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
. "$here/common.sh"

E=${1:?usage: run.sh EASLOAD}
[ -x "$E" ] || { echo "run.sh: $E is not an executable" >&2; exit 2; }
E=$(cd "$(dirname "$E")" && pwd)/$(basename "$E")
[ -s "$PEER_ENV" ] || { echo "run.sh: $PEER_ENV missing: run setup.sh first" >&2; exit 2; }
# shellcheck source=/dev/null  # written by setup.sh
. "$PEER_ENV"
SECS=${PEER_SECONDS:-40}
ONLY=${PEER_ONLY:-probe sync search ping direct}
OUT=${PEER_OUT:-$(mktemp -d /tmp/easpeer-sogo-XXXXXX)}
mkdir -p "$OUT"
# HTTPS by name: the certificate is for localhost (and 127.0.0.1)
HTTPS_URL=$(printf '%s' "$EASPEER_HTTPS_URL" | sed 's#//127\.0\.0\.1:#//localhost:#')
CHECK="python3 $here/check.py"
BENCH=${PEER_BENCH:-}

FAILS=0
PASSES=0
DELIVER_PID=""
cleanup() {
    if [ -n "$DELIVER_PID" ]; then
        kill "$DELIVER_PID" 2>/dev/null || true
        wait "$DELIVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wants() {
    case " $ONLY " in *" $1 "*) return 0 ;; esac
    return 1
}

verdict() { # NAME RC
    if [ "$2" -eq 0 ]; then
        echo "ok   $1"
        PASSES=$((PASSES + 1))
    else
        echo "FAIL $1 (exit $2; output in $OUT/$1.log)"
        FAILS=$((FAILS + 1))
    fi
}

# users FIRST COUNT: a users CSV of userFIRST.. (each run gets its own mailboxes, so mail one
# run leaves behind is not what the next one measures); prints its path.
users() {
    f=$OUT/users-$1-$2.csv
    head -n 1 "$EASPEER_USERS_CSV" >"$f"
    sed -n "$(($1 + 1)),$(($1 + $2))p" "$EASPEER_USERS_CSV" >>"$f"
    echo "$f"
}

# easload_run NAME SCENARIO URL DEVICES FIRST_USER [easload flags...]: one bounded run into
# $OUT/NAME, device i as user FIRST_USER+i-1
easload_run() {
    name=$1 scen=$2 url=$3 devices=$4 first=$5
    shift 5
    erc=0
    timeout -k 10 $((SECS + 120)) "$E" run "$scen" --target "$url" --devices "$devices" \
        --ramp 5s --duration "${SECS}s" --users "$(users "$first" "$devices")" --workers 1 \
        --out "$OUT/$name" --no-progress "$@" >"$OUT/$name.log" 2>&1 || erc=$?
    # 0 passed, 1 a threshold or check failed (check.py names it); anything else is broken
    if [ "$erc" -gt 1 ] || [ ! -s "$OUT/$name/results.json" ]; then
        tail -n 20 "$OUT/$name.log" | sed 's/^/    /'
        return "$((erc > 1 ? erc : 3))"
    fi
    return 0
}

# deliver SECONDS_FROM_NOW SECONDS FIRST_USER USERS: every second, one mail with the Subject
# "easload-push:<unix_us>" into a random INBOX of USERS users from userFIRST_USER (doveadm
# save, as root); the number delivered ends in $OUT/delivered.
deliver() {
    sleep "$1"
    end=$(($(date +%s) + $2))
    n=0
    while [ "$(date +%s)" -lt "$end" ]; do
        u=user$(($(od -An -N2 -tu2 /dev/urandom) % $4 + $3))
        stamp=$(($(date +%s%N) / 1000))
        printf 'From: Pusher <push@example.test>\nTo: %s@example.test\nSubject: easload-push:%s\nDate: %s\nMessage-ID: <push-%s-%s@example.test>\nMIME-Version: 1.0\nContent-Type: text/plain\n\nA pushed message.\n' \
            "$u" "$stamp" "$(date -R)" "$stamp" "$u" |
            doveadm -c "$EASPEER_DOVECOT_CONF" save -u "$u" -m INBOX 2>>"$OUT/deliver.err" &&
            n=$((n + 1))
        echo "$n" >"$OUT/delivered"
        sleep 1
    done
}

echo "SOGo peer suite: easload $E, results in $OUT, ${SECS} s per run"

if wants probe; then
    for v in http https; do
        if [ "$v" = http ]; then url=$EASPEER_HTTP_URL; ca=""; else url=$HTTPS_URL; ca=$EASPEER_CA; fi
        rc=0
        EASLOAD_PASSWORD=pass1 timeout -k 5 180 "$E" probe "$url" --user user1 \
            ${ca:+--ca "$ca"} >"$OUT/probe-$v.log" 2>&1 || rc=$?
        sed 's/^/    /' "$OUT/probe-$v.log"
        verdict "probe-$v" "$rc"
    done
fi

if wants sync; then
    for v in http https; do
        if [ "$v" = http ]; then set -- ; url=$EASPEER_HTTP_URL; else url=$HTTPS_URL; set -- --ca "$EASPEER_CA"; fi
        rc=0
        if [ "$v" = http ]; then first=1; else first=21; fi
        easload_run "sync-$v" "$root/scenarios/sync.lua" "$url" 20 "$first" "$@" || rc=$?
        if [ "$rc" -eq 0 ]; then
            $CHECK "$OUT/sync-$v/results.json" "sync-$v" --max-error-rate 0.01 \
                --min "sync ok=20" ${BENCH:+--markdown "$BENCH"} || rc=$?
        fi
        verdict "sync-$v" "$rc"
    done
fi

if wants search; then
    for v in http https; do
        if [ "$v" = http ]; then set -- ; url=$EASPEER_HTTP_URL; else url=$HTTPS_URL; set -- --ca "$EASPEER_CA"; fi
        rc=0
        easload_run "search-$v" "$root/scenarios/search.lua" "$url" 10 41 "$@" || rc=$?
        if [ "$rc" -eq 0 ]; then
            $CHECK "$OUT/search-$v/results.json" "search-$v" --max-error-rate 0.01 \
                --min "mailbox search=10" --min "gal search=10" ${BENCH:+--markdown "$BENCH"} ||
                rc=$?
        fi
        verdict "search-$v" "$rc"
    done
fi

if wants ping; then
    for v in http https; do
        if [ "$v" = http ]; then set -- ; url=$EASPEER_HTTP_URL; else url=$HTTPS_URL; set -- --ca "$EASPEER_CA"; fi
        devices=10
        if [ "$v" = http ]; then first=1; else first=11; fi
        # deliveries start once the devices have synced and hold Pings; they end 15 s before the
        # load phase does, so the last mail is still fetched
        rm -f "$OUT/delivered"
        deliver 10 $((SECS - 25)) "$first" "$devices" &
        DELIVER_PID=$!
        rc=0
        easload_run "ping-$v" "$here/ping_sogo.lua" "$url" "$devices" "$first" "$@" || rc=$?
        wait "$DELIVER_PID" 2>/dev/null || true
        DELIVER_PID=""
        delivered=$(cat "$OUT/delivered" 2>/dev/null || echo 0)
        echo "    delivered $delivered mails with doveadm save"
        if [ "$rc" -eq 0 ]; then
            if [ "$delivered" -lt 5 ]; then
                echo "    FAIL: only $delivered deliveries (see $OUT/deliver.err)"
                rc=1
            fi
            # most mail must arrive through a woken Ping + Sync within the run, none twice
            $CHECK "$OUT/ping-$v/results.json" "ping-$v" --max-error-rate 0.01 \
                --allow "eas.ping.status.5=$devices" \
                --min "push=$((delivered * 3 / 4))" --max "push=$delivered" \
                ${BENCH:+--markdown "$BENCH"} || rc=$?
        fi
        verdict "ping-$v" "$rc"
    done
fi

if wants direct; then
    rc=0
    easload_run direct "$root/scenarios/sync.lua" "$EASPEER_DIRECT_URL" 10 31 || rc=$?
    if [ "$rc" -eq 0 ]; then
        # sogod closes after every answer: nearly every request needs a new connection
        $CHECK "$OUT/direct/results.json" direct --max-error-rate 0.01 \
            --min "connections.reopened=20" || rc=$?
    fi
    verdict direct "$rc"
fi

echo "SOGo peer suite: $PASSES passed, $FAILS failed (results in $OUT)"
[ "$FAILS" -eq 0 ]
