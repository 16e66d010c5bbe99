#!/bin/sh
# teardown.sh - stops the SOGo peer of setup.sh (pid files only: nginx, sogod and its workers,
# memcached, Dovecot, the PostgreSQL cluster) and by default removes its data: the cluster,
# /etc/easpeer-sogo, /var/lib/easpeer-sogo, /run/easpeer-sogo, the logs, and puts Debian's
# sogo.conf back. Safe to run when nothing is up. Root.
# usage: teardown.sh [--keep-data] [--uninstall]
#   --keep-data  only stop the daemons (logs and data stay for a look)
#   --uninstall  also purge the packages setup.sh installed (to measure a set-up from scratch)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

keep=0
uninstall=0
for a in "$@"; do
    case "$a" in
    --keep-data) keep=1 ;;
    --uninstall) uninstall=1 ;;
    *)
        echo "usage: teardown.sh [--keep-data] [--uninstall]" >&2
        exit 2
        ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "teardown.sh: must run as root" >&2
    exit 1
fi

# stop_pid NAME PIDFILE SECONDS: TERM, wait, then KILL.
stop_pid() {
    [ -s "$2" ] || return 0
    p=$(cat "$2")
    kill -TERM "$p" 2>/dev/null || return 0
    i=0
    while kill -0 "$p" 2>/dev/null && [ "$i" -lt $(($3 * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$p" 2>/dev/null; then
        kill -KILL "$p" 2>/dev/null || true
    fi
    rm -f "$2"
}

stop_pid nginx "$PEER_RUN/nginx.pid" 10

# sogod: the parent removes its pid file at once on TERM while idle workers sit in poll() for
# a long time (peers.md pitfall 2): take the workers' pids first, TERM, 3 s, then KILL.
if [ -s /run/sogo/sogo.pid ]; then
    p=$(cat /run/sogo/sogo.pid)
    if kill -0 "$p" 2>/dev/null; then
        kids=$(pgrep -P "$p" || true)
        kill -TERM "$p" 2>/dev/null || true
        i=0
        while [ "$i" -lt 30 ]; do
            alive=0
            for k in $p $kids; do
                if kill -0 "$k" 2>/dev/null; then alive=1; fi
            done
            [ "$alive" -eq 1 ] || break
            sleep 0.1
            i=$((i + 1))
        done
        for k in $kids $p; do
            kill -KILL "$k" 2>/dev/null || true
        done
    fi
    rm -f /run/sogo/sogo.pid
fi

stop_pid memcached "$PEER_RUN/memcached/memcached.pid" 5
stop_pid dovecot "$PEER_RUN/dovecot/master.pid" 10

PGV=$(pg_version)
if [ -n "$PGV" ] && command -v pg_lsclusters >/dev/null 2>&1 &&
    pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "$PGV/$PG_CLUSTER"; then
    if [ "$keep" -eq 1 ]; then
        pg_ctlcluster "$PGV" "$PG_CLUSTER" stop -m fast </dev/null >/dev/null 2>&1 || true
    else
        pg_dropcluster "$PGV" "$PG_CLUSTER" --stop </dev/null >/dev/null 2>&1 || true
    fi
fi

if [ "$keep" -eq 0 ]; then
    rm -rf "$PEER_ETC" "$PEER_LIB" "$PEER_RUN" "$PEER_LOG"
    if [ -f /etc/sogo/sogo.conf.dist ]; then
        mv -f /etc/sogo/sogo.conf.dist /etc/sogo/sogo.conf
    fi
fi

if [ "$uninstall" -eq 1 ] && [ -s "$PEER_INSTALLED" ]; then
    pkgs=$(sort -u "$PEER_INSTALLED" | tr '\n' ' ')
    echo "teardown.sh: purging $pkgs" >&2
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $pkgs >/dev/null
    rm -f "$PEER_INSTALLED"
    if [ -f "$PEER_INSTALLED.vmail" ]; then # the mail user setup.sh made
        userdel vmail 2>/dev/null || true
        rm -f "$PEER_INSTALLED.vmail"
    fi
    case " $pkgs " in
    *" sogo "*) rm -rf /etc/sogo /var/lib/sogo /var/log/sogo /var/spool/sogo ;;
    esac
fi
exit 0
