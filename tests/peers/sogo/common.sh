# common.sh - settings shared by setup.sh, teardown.sh and run.sh of the SOGo peer (sourced).
# Every port comes from the environment; the defaults are no distribution's, so a stock
# PostgreSQL, memcached, IMAP or web server on the same machine is left alone.
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
SOGO_PORT=${SOGO_PORT:-20000}
PG_PORT=${PG_PORT:-5433}
IMAP_PORT=${IMAP_PORT:-1143}
MEMCACHED_PORT=${MEMCACHED_PORT:-11311}
HTTP_PORT=${HTTP_PORT:-8880}
HTTPS_PORT=${HTTPS_PORT:-8883}
SOGO_WORKERS=${SOGO_WORKERS:-24}   # above the number of Pings the suite holds at once
PEER_USERS=${PEER_USERS:-50}       # user1/pass1 .. user50/pass50
PEER_MAILS=${PEER_MAILS:-5}        # messages seeded per INBOX

PEER_ETC=/etc/easpeer-sogo
PEER_LIB=/var/lib/easpeer-sogo
PEER_RUN=/run/easpeer-sogo
PEER_LOG=/var/log/easpeer-sogo
PEER_MAIL=$PEER_LIB/mail
PEER_ENV=$PEER_LIB/peer.env        # what run.sh reads: URLs, CA path, users
PEER_INSTALLED=/var/lib/easpeer-sogo.installed   # packages setup.sh installed (kept by teardown)
PG_CLUSTER=easpeer
DOVECOT_CONF=$PEER_ETC/dovecot.conf

# the packages of shared/docs/peers.md
PEER_PACKAGES="sogo sogo-activesync postgresql dovecot-imapd memcached nginx-light openssl curl
libwbxml2-utils"

peer_log() {
    printf '%s peer-sogo: %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# The PostgreSQL major version installed (Debian 12: 15).
pg_version() {
    ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1
}

# pid_alive FILE: the pid in FILE runs.
pid_alive() {
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# wait_port PORT SECONDS: until something listens on 127.0.0.1:PORT.
wait_port() {
    i=0
    while [ "$i" -lt $(($2 * 10)) ]; do
        if ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}
