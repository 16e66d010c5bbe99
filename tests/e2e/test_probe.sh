#!/bin/sh
# test_probe.sh - `easload probe` and `easload certcheck` end to end against `easload serve` on
# loopback with certificates made at test time (`easload certs make`): probe passes every step
# over HTTP (with Ping, -v) and HTTPS (--ca DIR/root.pem, --resolve owa.example.com to
# 127.0.0.1), fails clearly on a bad fixture for the profile that rejects it, reports refused
# credentials, and never prints the password (the output is grepped for it).
# ip_san: a leaf with only an IP SAN (made by the openssl command) covers https://127.0.0.1.
# client_cert also covers --auth cert (the certificate names the user; an unknown one gets 403),
# ntlm covers --auth ntlm against serve --ntlm.
# usage: test_probe.sh EASLOAD CASE   (CASE: http, https, fixtures, client_cert, ip_san, ntlm)
set -u
E=$1
CASE=$2
T=$(mktemp -d /tmp/easload-probe-XXXXXX)
PW='Pr0be-S3cret-xyzzy'
. "$(dirname "$0")/lib.sh"

printf 'user,password,email\nprobeuser,%s,probeuser@example.com\nuser1,%s-1,user1@example.com\n' \
    "$PW" "$PW" > "$T/users.csv"
"$E" certs make "$T/certs" > /dev/null || { echo "certs make failed" >&2; exit 1; }

# start_server NAME FIXTURE [EXTRA-ARGS]: starts serve (bearer tokens in $T/tokens-NAME.csv), sets HTTP_PORT
# and TLS_PORT
start_server() {
    fix="--cert-fixture $T/certs/$2"
    [ "$2" = - ] && fix=""   # -: the chain comes in EXTRA-ARGS (--cert, --key)
    # shellcheck disable=SC2086
    serve_bg "$1" $fix --users-file "$T/users.csv" --workers 1 --issue-tokens "$T/tokens-$1.csv" \
        ${3:-}
}

# expect_exit WANT OUTFILE CMD...: runs CMD with output to OUTFILE
expect_exit() {
    want=$1
    out=$2
    shift 2
    "$@" > "$out" 2>&1
    got=$?
    if [ "$got" != "$want" ]; then
        fail "exit $got, expected $want: $*"
        cat "$out" >&2
    fi
    if grep -q "$PW" "$out"; then
        fail "the password appears in the output of: $*"
    fi
}

expect_line() {
    grep -q -- "$2" "$1" || { fail "'$2' not in $1:"; cat "$1" >&2; }
}

case $CASE in
http)
    # every step over plain HTTP, Ping included (60 s heartbeat, the server's minimum), -v;
    # the password comes from the environment
    start_server s valid
    export EASLOAD_PASSWORD="$PW"
    expect_exit 0 "$T/p.txt" "$E" probe "http://127.0.0.1:$HTTP_PORT" --user probeuser -v
    unset EASLOAD_PASSWORD
    for step in DNS TCP OPTIONS auth Provision FolderSync 'Sync Inbox' Ping; do
        grep -q "^ok   $step" "$T/p.txt" || fail "step $step did not pass"
    done
    expect_line "$T/p.txt" 'Authorization: \[redacted\]'
    expect_line "$T/p.txt" 'Provision:Provision'    # WBXML decoded on -v
    expect_line "$T/p.txt" '^result: ok'
    # refused credentials: the auth step says so
    expect_exit 1 "$T/bad.txt" "$E" probe "http://127.0.0.1:$HTTP_PORT" --user probeuser \
        --password "wrong-$PW" --no-ping -v
    expect_line "$T/bad.txt" '^FAIL auth'
    expect_line "$T/bad.txt" '401'
    # an OAuth bearer token the server issued, instead of the password; never printed
    TOKEN=$(sed -n 's/^probeuser,//p' "$T/tokens-s.csv")
    [ -n "$TOKEN" ] || fail "serve --issue-tokens wrote no token for probeuser"
    expect_exit 0 "$T/tok.txt" "$E" probe "http://127.0.0.1:$HTTP_PORT" --user probeuser \
        --token-file "$T/tokens-s.csv" --no-ping -v
    expect_line "$T/tok.txt" '^ok   auth .*bearer token accepted'
    expect_line "$T/tok.txt" '^result: ok'
    grep -q "$TOKEN" "$T/tok.txt" && fail "the bearer token appears in probe's output"
    echo "not-a-token" > "$T/bogus.tok"
    expect_exit 1 "$T/tokbad.txt" "$E" probe "http://127.0.0.1:$HTTP_PORT" --user probeuser \
        --token-file "$T/bogus.tok" --no-ping
    expect_line "$T/tokbad.txt" '^FAIL auth .*401'
    ;;
https)
    start_server s valid
    expect_exit 0 "$T/p.txt" "$E" probe "https://owa.example.com:$TLS_PORT" --user probeuser \
        --password "$PW" --ca "$T/certs/root.pem" \
        --resolve "owa.example.com:$TLS_PORT:127.0.0.1" --no-ping
    for step in DNS TCP TLS OPTIONS auth Provision FolderSync 'Sync Inbox'; do
        grep -q "^ok   $step" "$T/p.txt" || fail "step $step did not pass over HTTPS"
    done
    expect_line "$T/p.txt" '^result: ok'
    # a phone without the private root
    expect_exit 1 "$T/none.txt" "$E" probe "https://owa.example.com:$TLS_PORT" --user probeuser \
        --password "$PW" --ca none --resolve "owa.example.com:$TLS_PORT:127.0.0.1" --no-ping
    expect_line "$T/none.txt" '^FAIL TLS.*untrusted_root.*0x80072F0D'
    # certcheck: every name of the valid chain
    expect_exit 0 "$T/cc.txt" "$E" certcheck "https://owa.example.com:$TLS_PORT" \
        --names owa.example.com,mail.example.com,autodiscover.example.com,exchange.example.local \
        --ca "$T/certs/root.pem" --resolve "owa.example.com:$TLS_PORT:127.0.0.1"
    expect_line "$T/cc.txt" 'ok   chain complete'
    expect_line "$T/cc.txt" 'days left'
    expect_line "$T/cc.txt" '^result: ok'
    # Autodiscover in phone order: https://example.com (not in the certificate: the name
    # error), then https://autodiscover.example.com, whose EAS URL is probed
    expect_exit 0 "$T/ad.txt" "$E" probe --email probeuser@example.com --user probeuser \
        --password "$PW" --ca "$T/certs/root.pem" --autodiscover-port "$TLS_PORT" \
        --resolve "example.com:$TLS_PORT:127.0.0.1" \
        --resolve "autodiscover.example.com:$TLS_PORT:127.0.0.1" --no-ping -v
    expect_line "$T/ad.txt" "^warn Autodiscover .*https://example.com:$TLS_PORT/autodiscover/autodiscover.xml: TLS name_mismatch.*0x80072F06"
    expect_line "$T/ad.txt" "^ok   Autodiscover .*https://autodiscover.example.com:$TLS_PORT/.*EAS URL https://autodiscover.example.com:$TLS_PORT/Microsoft-Server-ActiveSync"
    expect_line "$T/ad.txt" '^ok   FolderSync'
    expect_line "$T/ad.txt" '^result: ok'
    ;;
fixtures)
    # wildcard: accepted by Android, rejected by Windows Mobile with the name error
    start_server w wildcard
    R="owa.example.com:$TLS_PORT:127.0.0.1"
    U="https://owa.example.com:$TLS_PORT"
    expect_exit 0 "$T/w1.txt" "$E" probe "$U" --user probeuser --password "$PW" \
        --ca "$T/certs/root.pem" --resolve "$R" --no-ping --profile android-14.1
    expect_exit 1 "$T/w2.txt" "$E" probe "$U" --user probeuser --password "$PW" \
        --ca "$T/certs/root.pem" --resolve "$R" --no-ping --profile wm-12.1
    expect_line "$T/w2.txt" '^FAIL TLS.*wildcard_rejected.*0x80072F06'
    # san-missing: autodiscover. not covered, named by certcheck
    start_server m san-missing
    expect_exit 1 "$T/m.txt" "$E" certcheck "https://owa.example.com:$TLS_PORT" \
        --names mail.example.com,autodiscover.example.com --ca "$T/certs/root.pem" \
        --resolve "owa.example.com:$TLS_PORT:127.0.0.1"
    expect_line "$T/m.txt" 'FAIL name autodiscover.example.com'
    expect_line "$T/m.txt" 'ok   name mail.example.com'
    expect_line "$T/m.txt" 'name_mismatch, the phone shows 0x80072F06'
    # ... so Autodiscover finds no endpoint a phone accepts
    expect_exit 1 "$T/mad.txt" "$E" probe --email probeuser@example.com --user probeuser \
        --password "$PW" --ca "$T/certs/root.pem" --autodiscover-port "$TLS_PORT" \
        --resolve "example.com:$TLS_PORT:127.0.0.1" \
        --resolve "autodiscover.example.com:$TLS_PORT:127.0.0.1" --no-ping
    expect_line "$T/mad.txt" "^FAIL Autodiscover .*autodiscover.example.com.*name_mismatch"
    expect_line "$T/mad.txt" '^result: FAIL'
    # incomplete chain: probe stops at TLS with the phone's code
    start_server i incomplete-chain
    expect_exit 1 "$T/i.txt" "$E" probe "https://owa.example.com:$TLS_PORT" --user probeuser \
        --password "$PW" --ca "$T/certs/root.pem" \
        --resolve "owa.example.com:$TLS_PORT:127.0.0.1" --no-ping
    expect_line "$T/i.txt" '^FAIL TLS.*incomplete_chain.*0x80072F0D'
    ;;
client_cert)
    # a server that requires a client certificate: without one the phone's 0x80072F0C, with
    # the user's certificate (from `easload certs make`) every step passes
    start_server c valid "--client-ca $T/certs/client/ca.pem"
    R="owa.example.com:$TLS_PORT:127.0.0.1"
    U="https://owa.example.com:$TLS_PORT"
    expect_exit 1 "$T/c1.txt" "$E" probe "$U" --user probeuser --password "$PW" \
        --ca "$T/certs/root.pem" --resolve "$R" --no-ping
    expect_line "$T/c1.txt" '^warn TLS .*asks for a client certificate'
    expect_line "$T/c1.txt" '^FAIL OPTIONS .*client_cert_needed.*0x80072F0C'
    expect_exit 0 "$T/c2.txt" "$E" probe "$U" --user probeuser --password "$PW" \
        --ca "$T/certs/root.pem" --resolve "$R" --no-ping \
        --client-cert "$T/certs/client/user1/cert.pem" --client-key "$T/certs/client/user1/key.pem"
    expect_line "$T/c2.txt" '^ok   FolderSync'
    expect_line "$T/c2.txt" '^result: ok'
    expect_exit 0 "$T/c3.txt" "$E" certcheck "$U" --ca "$T/certs/root.pem" --resolve "$R"
    expect_line "$T/c3.txt" 'asks for a client certificate'
    # --auth cert: no Authorization, no password; user1's certificate is user1 (email SAN)
    expect_exit 0 "$T/c4.txt" "$E" probe "$U" --user user1 --auth cert --ca "$T/certs/root.pem" \
        --resolve "$R" --no-ping -v --client-cert "$T/certs/client/user1/cert.pem" \
        --client-key "$T/certs/client/user1/key.pem"
    expect_line "$T/c4.txt" '^ok   auth .*client certificate accepted for user1'
    expect_line "$T/c4.txt" '^ok   FolderSync'
    grep -q 'Authorization' "$T/c4.txt" && fail "--auth cert sent an Authorization header"
    # a certificate of a user the server does not have: 403
    expect_exit 1 "$T/c5.txt" "$E" probe "$U" --user user2 --auth cert --ca "$T/certs/root.pem" \
        --resolve "$R" --no-ping --client-cert "$T/certs/client/user2/cert.pem" \
        --client-key "$T/certs/client/user2/key.pem"
    expect_line "$T/c5.txt" '^FAIL .*403'
    grep -q 'the client certificate names no user' "$T/c.log" ||
        fail "serve did not log the unknown certificate user"
    expect_exit 2 "$T/c6.txt" "$E" probe "$U" --user user1 --auth cert --ca "$T/certs/root.pem"
    expect_line "$T/c6.txt" 'auth cert with --client-cert'
    ;;
ntlm)
    # --auth ntlm against serve --ntlm over HTTP and HTTPS; a wrong password fails at auth;
    # neither the password nor an NTLM message (base64 "TlRMTVNT") is printed
    start_server n valid --ntlm
    expect_exit 0 "$T/n1.txt" "$E" probe "http://127.0.0.1:$HTTP_PORT" --user probeuser \
        --password "$PW" --auth ntlm --no-ping -v
    expect_line "$T/n1.txt" '^ok   auth .*NTLM accepted for probeuser'
    expect_line "$T/n1.txt" '^ok   Sync Inbox'
    expect_exit 0 "$T/n2.txt" "$E" probe "https://owa.example.com:$TLS_PORT" --user probeuser \
        --password "$PW" --auth ntlm --ca "$T/certs/root.pem" \
        --resolve "owa.example.com:$TLS_PORT:127.0.0.1" --no-ping
    expect_line "$T/n2.txt" '^result: ok'
    expect_exit 1 "$T/n3.txt" "$E" probe "http://127.0.0.1:$HTTP_PORT" --user probeuser \
        --password "wrong-$PW" --auth ntlm --no-ping -v
    expect_line "$T/n3.txt" '^FAIL auth .*401'
    grep -q 'TlRMTVNT' "$T"/n1.txt "$T"/n2.txt "$T"/n3.txt "$T/n.log" &&
        fail "an NTLM message appears in the output"
    grep -q "$PW" "$T/n.log" && fail "the password appears in the server's log"
    # Basic still works on the same server; the 401 offers both schemes
    expect_exit 0 "$T/n4.txt" "$E" probe "http://127.0.0.1:$HTTP_PORT" --user probeuser \
        --password "$PW" --no-ping
    expect_line "$T/n4.txt" '^ok   auth .*Basic accepted'
    curl -s -o /dev/null -D "$T/n5.txt" -X OPTIONS \
        "http://127.0.0.1:$HTTP_PORT/Microsoft-Server-ActiveSync"
    expect_line "$T/n5.txt" 'WWW-Authenticate: NTLM'
    expect_line "$T/n5.txt" 'WWW-Authenticate: Basic'
    ;;
ip_san)
    # a leaf made by the openssl command with only an IP SAN (as for nginx on an address):
    # https://127.0.0.1 is covered by IP:127.0.0.1 (a DNS-name check said name_mismatch), and
    # https://127.0.0.1 against a leaf for IP:127.0.0.2 is not
    O="$T/ip"
    mkdir -p "$O"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=IP-Test-CA \
        -keyout "$O/ca.key" -out "$O/ca.pem" -days 2 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
        > /dev/null 2>&1 || { echo "openssl req (CA) failed" >&2; exit 1; }
    for ip in 127.0.0.1 127.0.0.2; do
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=leaf \
            -keyout "$O/$ip.key" -out "$O/$ip.csr" > /dev/null 2>&1 &&
            printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$ip" > "$O/$ip.ext" &&
            openssl x509 -req -in "$O/$ip.csr" -CA "$O/ca.pem" -CAkey "$O/ca.key" \
                -CAcreateserial -days 2 -extfile "$O/$ip.ext" -out "$O/$ip.pem" > /dev/null 2>&1 ||
            { echo "openssl (leaf $ip) failed" >&2; exit 1; }
    done
    start_server ip - "--cert $O/127.0.0.1.pem --key $O/127.0.0.1.key"
    expect_exit 0 "$T/ip1.txt" "$E" certcheck "https://127.0.0.1:$TLS_PORT" --ca "$O/ca.pem"
    expect_line "$T/ip1.txt" 'ok   name 127.0.0.1: covered'
    expect_line "$T/ip1.txt" 'names     IP:127.0.0.1'
    for p in android-14.1 wm-12.1; do
        expect_exit 0 "$T/ip2-$p.txt" "$E" probe "https://127.0.0.1:$TLS_PORT" --user probeuser \
            --password "$PW" --ca "$O/ca.pem" --no-ping --profile $p
        expect_line "$T/ip2-$p.txt" '^ok   TLS'
        expect_line "$T/ip2-$p.txt" '^result: ok'
    done
    start_server ip2 - "--cert $O/127.0.0.2.pem --key $O/127.0.0.2.key"
    expect_exit 1 "$T/ip3.txt" "$E" certcheck "https://127.0.0.1:$TLS_PORT" --ca "$O/ca.pem"
    expect_line "$T/ip3.txt" 'FAIL name 127.0.0.1'
    expect_line "$T/ip3.txt" 'name_mismatch, the phone shows 0x80072F06'
    expect_exit 1 "$T/ip4.txt" "$E" probe "https://127.0.0.1:$TLS_PORT" --user probeuser \
        --password "$PW" --ca "$O/ca.pem" --no-ping
    expect_line "$T/ip4.txt" '^FAIL TLS.*name_mismatch'
    ;;
*)
    echo "unknown case $CASE" >&2
    exit 2
    ;;
esac
[ $FAILS -eq 0 ] || { echo "$FAILS failure(s)" >&2; exit 1; }
echo "ok"
