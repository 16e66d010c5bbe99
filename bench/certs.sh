# certs.sh - sourced by the bench scripts (engine.sh, scale.sh, peers/run.sh): a root and a
# server leaf made with the openssl command at run time (EC P-256, valid 2 days), and the
# addresses a started `easload serve` prints.
# bench_make_certs DIR SANS ROOT_CN: writes DIR/ca.pem (trust it), DIR/srv.pem and DIR/srv.key
# for the subjectAltName list SANS (e.g. IP:127.0.0.1,IP:127.0.0.2).
bench_make_certs() {
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n%s\n%s\n' \
        'extendedKeyUsage=serverAuth' "subjectAltName=$2" > "$1/leaf.ext"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$1/ca.key" -out "$1/ca.pem" -days 2 -subj "/CN=$3" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1/srv.key" \
        -out "$1/srv.csr" -subj /CN=127.0.0.1 >/dev/null 2>&1
    openssl x509 -req -in "$1/srv.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" \
        -CAcreateserial -days 2 -extfile "$1/leaf.ext" -out "$1/srv.pem" >/dev/null 2>&1
}

# bench_serve_urls OUT ERR TRIES: waits (TRIES x 0.1 s) until `easload serve` has printed both
# of its "listening on" lines to OUT, then sets SERVE_URL (the EAS listener) and SERVE_ADMIN;
# exits 3 with the text of ERR when it does not start.
bench_serve_urls() {
    bsu_n=0
    while [ "$(grep -c 'listening on' "$1" 2>/dev/null || true)" -lt 2 ]; do
        bsu_n=$((bsu_n + 1))
        [ $bsu_n -gt "$3" ] && { echo "easload serve did not start: $(cat "$2" 2>/dev/null)" >&2; exit 3; }
        sleep 0.1
    done
    SERVE_URL=$(grep -v admin "$1" | grep -o 'https\?://[0-9.:]*' | head -1)
    SERVE_ADMIN=$(grep admin "$1" | grep -o 'http://[0-9.:]*')
}
