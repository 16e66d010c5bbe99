#!/bin/sh
# test_certs_run.sh - issue 7 through `easload run`: scenarios/certs.lua with devices of four
# profiles against `easload serve --tls-listen 127.0.0.1:0 --cert-fixture DIR/NAME` over
# loopback, --resolve sending owa.example.com to 127.0.0.1, --var fixture=NAME. Asserts on
# results.json counters and checks (never timings): every "PROFILE gets CLASS" check passed for
# each profile, tls.<class> counts exactly the devices that class refused, no other tls.*
# counter. Also a negative control (a wrong expectation fails the run with exit 1), and the auth
# methods of `run`: bearer tokens (--token-file), client certificates (--client-certs,
# --auth cert) and NTLM (--auth ntlm), each with a failing variant that gets class auth.
# usage: test_certs_run.sh EASLOAD SRCDIR CASE
#   CASE: a fixture name (valid, expired-root, ...), negative, bearer, client_cert, cert_auth,
#         ntlm
set -u
E=$1
SRC=$2
CASE=$3
T=$(mktemp -d /tmp/easload-certsrun-XXXXXX)
PROFILES="android-14.1 ios-16.1 outlook-16.1 wm-12.1"
. "$(dirname "$0")/lib.sh"

"$E" certs make "$T/certs" --clients 16 > /dev/null || { echo "certs make failed" >&2; exit 1; }

# start_server NAME [EXTRA-ARGS]: serve on ephemeral loopback ports, sets HTTP_PORT, TLS_PORT
start_server() {
    # shellcheck disable=SC2086
    serve_bg "$1" --users 16 --workers 1 ${2:-}
}

# run_certs OUT WANT-EXIT [RUN-ARGS...]: certs.lua against owa.example.com on TLS_PORT
run_certs() {
    out=$1
    want=$2
    shift 2
    "$E" run "$SRC/scenarios/certs.lua" --target "https://owa.example.com:$TLS_PORT" \
        --resolve "owa.example.com:$TLS_PORT:127.0.0.1" --ca "$T/certs/root.pem" \
        --workers 1 --no-progress --out "$T/$out" "$@" > "$T/$out.txt" 2>&1
    got=$?
    if [ "$got" != "$want" ]; then
        fail "$out: exit $got, expected $want: run $*"
        cat "$T/$out.txt" >&2
    fi
}

# jnum OUT JQ-PATH: a number of results.json (0 when absent)
jnum() {
    jq -r "($2) // 0" "$T/$1/results.json"
}

# expect_classes OUT SPEC: SPEC "PROFILE=CLASS ..." for every profile; each profile's check
# "PROFILE gets CLASS" passed at least once and never failed; tls.<class> equals the devices
# refused with it; no other tls.* counter; accepted devices synced
expect_classes() {
    out=$1
    spec=$2
    [ -f "$T/$out/results.json" ] || { fail "$out: no results.json"; return; }
    sums=""
    for p in $PROFILES; do
        cls=$(echo "$spec" | tr ' ' '\n' | sed -n "s/^$p=//p")
        passed=$(jnum "$out" ".checks[\"$p gets $cls\"].passed")
        failed=$(jnum "$out" ".checks[\"$p gets $cls\"].failed")
        [ "$passed" -ge 1 ] || fail "$out: no $p device got $cls"
        [ "$failed" -eq 0 ] || fail "$out: $failed $p device(s) did not get $cls"
        if [ "$cls" = ok ]; then
            s=$(jnum "$out" ".checks[\"$p syncs\"].passed")
            [ "$s" -eq "$passed" ] || fail "$out: $p: $s of $passed accepted devices synced"
        else
            sums="$sums $cls:$passed"
        fi
    done
    for c in $(echo "$sums" | tr ' ' '\n' | cut -d: -f1 | sort -u); do
        want=0
        for x in $sums; do
            [ "${x%%:*}" = "$c" ] && want=$((want + ${x#*:}))
        done
        got=$(jnum "$out" ".counters[\"tls.$c\"]")
        [ "$got" -eq "$want" ] || fail "$out: counter tls.$c = $got, expected $want"
    done
    others=$(jq -r '.counters | keys[] | select(startswith("tls."))' "$T/$out/results.json" |
        while read -r k; do
            case "$sums" in *" ${k#tls.}:"*) ;; *) echo "$k" ;; esac
        done)
    [ -z "$others" ] || fail "$out: unexpected counters: $others"
    [ "$(jnum "$out" '.checks | to_entries | map(.value.failed) | add')" -eq 0 ] ||
        fail "$out: a check failed"
}

# fixture NAME SPEC: serve the fixture, run certs.lua for it, check the classes
fixture() {
    start_server "$1" "--cert-fixture $T/certs/$1"
    run_certs "$1" 0 --var "fixture=$1"
    expect_classes "$1" "$2"
}

M="android-14.1 ios-16.1 outlook-16.1"
all() { for p in $PROFILES; do printf '%s=%s ' "$p" "$1"; done; }
modern() { for p in $M; do printf '%s=%s ' "$p" "$1"; done; printf 'wm-12.1=%s' "$2"; }

case $CASE in
valid | valid-rsa2048) fixture "$CASE" "$(all ok)" ;;
expired-root | expired-leaf) fixture "$CASE" "$(all expired)" ;;
not-yet-valid) fixture "$CASE" "$(all not_yet_valid)" ;;
self-signed) fixture "$CASE" "$(all untrusted_root)" ;;
san-missing) fixture "$CASE" "$(all name_mismatch)" ;;
incomplete-chain) fixture "$CASE" "$(all incomplete_chain)" ;;
wildcard) fixture "$CASE" "$(modern ok wildcard_rejected)" ;;
sha1) fixture "$CASE" "$(modern weak_signature ok)" ;;
rsa1024) fixture "$CASE" "$(modern weak_key ok)" ;;
negative)
    # the wildcard chain served, the valid one expected: wm-12.1's check fails, exit 1
    start_server w "--cert-fixture $T/certs/wildcard"
    run_certs neg 1 --var fixture=valid
    [ "$(jnum neg '.checks["wm-12.1 gets ok"].failed')" -ge 1 ] ||
        fail "negative: wm-12.1's wrong expectation did not fail"
    [ "$(jnum neg '.counters["tls.wildcard_rejected"]')" -ge 1 ] ||
        fail "negative: no tls.wildcard_rejected counted"
    grep -q 'wm-12.1: expected ok, got wildcard_rejected' "$T/neg.txt" ||
        fail "negative: no log line naming the class met"
    # an expectation the scenario cannot know is a load error (exit 2), not a silent pass
    run_certs neg2 2 --var fixture=no-such-chain
    grep -q 'unknown --var fixture=no-such-chain' "$T/neg2.txt" || fail "negative: no load error"
    # --var checks
    run_certs neg3 2 --var fixture=valid --var fixture=sha1
    grep -q 'fixture given twice' "$T/neg3.txt" || fail "negative: --var twice accepted"
    run_certs neg4 2 --var =x
    grep -q "expected KEY=VALUE" "$T/neg4.txt" || fail "negative: --var =x accepted"
    # --resolve: malformed, and a name sent elsewhere than loopback is not a loopback target
    run_certs neg5 2 --resolve bogus
    grep -q "expected HOST:PORT:ADDR" "$T/neg5.txt" || fail "negative: --resolve bogus accepted"
    "$E" run "$SRC/scenarios/certs.lua" --target "https://owa.example.com:$TLS_PORT" \
        --resolve "owa.example.com:$TLS_PORT:192.0.2.1" --out "$T/neg6" > "$T/neg6.txt" 2>&1
    [ $? -eq 2 ] && grep -q 'not a loopback address' "$T/neg6.txt" ||
        fail "negative: a target resolved to 192.0.2.1 ran without --allow-remote"
    ;;
bearer)
    # tokens from `serve --issue-tokens`; --token-file gives the users and their tokens
    start_server b "--cert-fixture $T/certs/valid --issue-tokens $T/tokens.csv"
    run_certs bearer 0 --token-file "$T/tokens.csv"
    expect_classes bearer "$(all ok)"
    tok=$(sed -n 's/^user3,//p' "$T/tokens.csv")
    grep -q "$tok" "$T/bearer.txt" "$T/bearer/results.json" "$T/b.log" &&
        fail "bearer: a token appears in the output"
    # tokens the server did not issue: class auth (401) for every device
    sed 's/,\([0-9]*\)\./,\1.bad/' "$T/tokens.csv" > "$T/bad-tokens.csv"
    run_certs bearer_bad 0 --token-file "$T/bad-tokens.csv" --var expect=auth
    [ "$(jnum bearer_bad '.counters["http.401"]')" -ge 16 ] || fail "bearer: no 401s"
    run_certs bearer_flags 2 --auth bearer
    grep -q 'go together' "$T/bearer_flags.txt" || fail "bearer: --auth bearer without file"
    ;;
client_cert)
    # a server that requires client certificates: without one client_cert_needed for every
    # profile; each device presenting its user's certificate (plus Basic) gets through
    start_server c "--cert-fixture $T/certs/valid --client-ca $T/certs/client/ca.pem"
    run_certs nocert 0 --var expect=client_cert_needed
    expect_classes nocert "$(all client_cert_needed)"
    run_certs withcert 0 --client-certs "$T/certs/client"
    expect_classes withcert "$(all ok)"
    run_certs missing 2 --client-certs "$T/certs" --var fixture=valid
    grep -q "client-certs: .*user1/cert.pem" "$T/missing.txt" ||
        fail "client_cert: a missing certificate is not named"
    ;;
cert_auth)
    # --auth cert: no Authorization, the server takes the user from the certificate (email SAN
    # userN@...): each device reaches its own user's mailbox (device index i is user i+1's)
    start_server a "--cert-fixture $T/certs/valid --client-ca $T/certs/client/ca.pem \
        --admin 127.0.0.1:0"
    ADMIN=$(sed -n 's|.*listening on admin \(http://[0-9.:]*\).*|\1|p' "$T/a.out")
    run_certs certauth 0 --auth cert --client-certs "$T/certs/client"
    expect_classes certauth "$(all ok)"
    [ "$(jnum certauth '.counters["http.401"]')" -eq 0 ] || fail "cert_auth: 401s"
    curl -s "$ADMIN/state?user=user3" > "$T/state3.json"
    jq -e '.. | strings | select(. == "EL0000000000000002")' "$T/state3.json" > /dev/null ||
        fail "cert_auth: user3's mailbox does not know device EL0000000000000002 (user3's)"
    jq -e '.. | strings | select(. == "EL0000000000000003")' "$T/state3.json" > /dev/null &&
        fail "cert_auth: user3's mailbox knows user4's device"
    # certificates of users the server does not have (it has user1, user2): 403, class auth
    start_server u "--users 2 --cert-fixture $T/certs/valid --client-ca $T/certs/client/ca.pem"
    printf 'user,password\nuser3,x\nuser4,x\n' > "$T/u34.csv"
    run_certs unknown 0 --auth cert --client-certs "$T/certs/client" --users "$T/u34.csv" \
        --var expect=auth
    [ "$(jnum unknown '.counters["http.403"]')" -eq 16 ] || fail "cert_auth: unknown users not 403"
    ;;
ntlm)
    # --auth ntlm: libcurl answers serve --ntlm's challenge once per connection (NTLMv2), later
    # requests of the connection carry no Authorization and are still that user's
    start_server n "--cert-fixture $T/certs/valid --ntlm --admin 127.0.0.1:0"
    ADMIN=$(sed -n 's|.*listening on admin \(http://[0-9.:]*\).*|\1|p' "$T/n.out")
    run_certs ntlm 0 --auth ntlm
    expect_classes ntlm "$(all ok)"
    curl -s "$ADMIN/stats" > "$T/nstats.json"
    conns=$(jq '.http.connections' "$T/nstats.json")
    c4xx=$(jq '.http.responses["4xx"]' "$T/nstats.json")
    reqs=$(jq '.http.requests' "$T/nstats.json")
    ok=$(jq '.totals.requests' "$T/ntlm/results.json")
    [ "$conns" -eq 16 ] || fail "ntlm: $conns connections, expected one per device (16)"
    [ "$c4xx" -eq "$conns" ] || fail "ntlm: $c4xx challenges (401) for $conns connections"
    [ "$reqs" -eq $((ok + conns)) ] ||
        fail "ntlm: server saw $reqs requests, client $ok plus one NEGOTIATE per connection"
    curl -s "$ADMIN/state?user=user3" > "$T/nstate3.json"
    jq -e '.. | strings | select(. == "EL0000000000000002")' "$T/nstate3.json" > /dev/null ||
        fail "ntlm: user3's mailbox does not know user3's device"
    jq -e '.. | strings | select(. == "EL0000000000000003")' "$T/nstate3.json" > /dev/null &&
        fail "ntlm: user3's mailbox knows user4's device"
    # wrong passwords: 401 after the AUTHENTICATE, class auth for every device
    printf 'user,password\n' > "$T/wrongpw.csv"
    for i in 1 2 3 4 5 6 7 8; do printf 'user%s,wrong%s\n' $i $i >> "$T/wrongpw.csv"; done
    run_certs ntlm_bad 0 --auth ntlm --users "$T/wrongpw.csv" --var expect=auth
    [ "$(jnum ntlm_bad '.counters["http.401"]')" -ge 16 ] || fail "ntlm: wrong passwords not 401"
    # no NTLM message or password in any output (TlRMTVNT: base64 of "NTLMSSP")
    if grep -l -e 'TlRMTVNT' -e 'pass3' -e 'wrong3' "$T"/ntlm*.txt "$T"/n.log "$T"/ntlm/* \
        "$T"/ntlm_bad/*; then
        fail "ntlm: a secret appears in the output"
    fi
    # a Basic client against the same server still works
    run_certs ntlm_basic 0
    expect_classes ntlm_basic "$(all ok)"
    ;;
*)
    echo "unknown case $CASE" >&2
    exit 2
    ;;
esac
[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "ok"
