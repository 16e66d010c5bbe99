# certs.sh - sourced by the bench scripts (engine.sh, scale.sh, peers/run.sh): a root and a
# server leaf made with the openssl command at run time (EC P-256, valid 2 days).
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
