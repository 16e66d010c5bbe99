# lib.sh - sourced by the e2e shell tests (test_probe.sh, test_certs_run.sh): failure counting,
# clean-up of the servers a test started and of its temp dir, and an easload serve on ephemeral
# loopback ports. The sourcing script sets E (the easload binary) and T (its temp dir) first.
FAILS=0
PIDS=""

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

cleanup() {
    for p in $PIDS; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

# serve_bg NAME SERVE-ARGS...: `easload serve --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0
# SERVE-ARGS` in the background (output in $T/NAME.out, log in $T/NAME.log); waits until both
# listeners are up and sets HTTP_PORT and TLS_PORT.
serve_bg() {
    name=$1
    shift
    "$E" serve --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 "$@" \
        > "$T/$name.out" 2> "$T/$name.log" &
    PIDS="$PIDS $!"
    i=0
    while [ $i -lt 300 ]; do
        c=$(grep -c 'listening on' "$T/$name.out" 2>/dev/null)
        [ "${c:-0}" -ge 2 ] && break
        sleep 0.1
        i=$((i + 1))
    done
    HTTP_PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$T/$name.out")
    TLS_PORT=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\).*|\1|p' "$T/$name.out")
    [ -n "$HTTP_PORT" ] && [ -n "$TLS_PORT" ] || { echo "serve did not start" >&2; exit 1; }
}
