#!/bin/sh
# setup.sh - brings up SOGo 5.8 with its ActiveSync module on loopback as a real EAS peer for
# easload (shared/docs/peers.md): PostgreSQL (own cluster: user source and SOGo's storage),
# Dovecot IMAP (own instance, users user1..userN with seeded mail), memcached, sogod and nginx in
# front with HTTP and HTTPS (a private CA made here). Root, Debian 12, no systemd needed.
# Idempotent: a running instance is stopped first and every run starts from fresh data (mail,
# SOGo database); packages are installed only when missing (and listed for teardown.sh
# --uninstall). Ports and sizes come from the environment (common.sh). On success it writes
# /var/lib/easpeer-sogo/peer.env (URLs, CA path, users) for run.sh; on failure it stops what it
# started and prints the end of the logs.
# usage: setup.sh        (env: SOGO_PORT PG_PORT IMAP_PORT MEMCACHED_PORT HTTP_PORT HTTPS_PORT
#                               SOGO_WORKERS PEER_USERS PEER_MAILS)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: must run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

started=$(date +%s)
done_ok=0
added_policy=0
cleanup() {
    if [ "$added_policy" -eq 1 ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
    if [ "$done_ok" -eq 0 ]; then
        peer_log "set-up FAILED; the end of the logs in $PEER_LOG:"
        for f in "$PEER_LOG"/*.log "$PEER_LOG"/daemons.out; do
            [ -s "$f" ] || continue
            echo "--- $f" >&2
            tail -n 15 "$f" >&2
        done
        "$here/teardown.sh" --keep-data >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- packages (only what is missing) -------------------------------------------------------
missing=""
for p in $PEER_PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    peer_log "installing:$missing"
    # package scripts must not start the stock services (ports 80, 143, 5432, 11211)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        added_policy=1
    fi
    before=$(mktemp)
    dpkg-query -W -f='${Package}\n' | sort >"$before"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # everything that came in (dependencies too), for teardown.sh --uninstall
    dpkg-query -W -f='${Package} ${Status}\n' | awk '/install ok installed/ {print $1}' | sort |
        comm -13 "$before" - >>"$PEER_INSTALLED"
    rm -f "$before"
fi
for c in sogod dovecot doveadm memcached nginx pg_ctlcluster openssl curl; do
    if ! command -v "$c" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$c" ]; then
        echo "setup.sh: $c missing after installing packages" >&2
        exit 1
    fi
done
PGV=$(pg_version)
[ -n "$PGV" ] || { echo "setup.sh: no PostgreSQL server installed" >&2; exit 1; }

# ---- a previous instance goes first (keeps packages, drops data) ---------------------------
"$here/teardown.sh" >/dev/null
for port in $PG_PORT $IMAP_PORT $MEMCACHED_PORT $SOGO_PORT $HTTP_PORT $HTTPS_PORT; do
    if ss -Hltn "sport = :$port" | grep -q LISTEN; then
        echo "setup.sh: port $port is taken by another program; set the port variables" >&2
        exit 1
    fi
done

if ! getent passwd vmail >/dev/null; then
    useradd --system --user-group --home-dir "$PEER_MAIL" --no-create-home \
        --shell /usr/sbin/nologin vmail
    : >"$PEER_INSTALLED.vmail"
fi
install -d -m 755 "$PEER_ETC" "$PEER_LIB" "$PEER_RUN" "$PEER_LOG"
install -d -m 700 "$PEER_ETC/tls"
install -d -o vmail -g vmail -m 700 "$PEER_MAIL"
: >"$PEER_LOG/daemons.out"

# ---- TLS: a private CA and a server certificate for localhost / 127.0.0.1 ------------------
tls=$PEER_ETC/tls
if ! openssl x509 -checkend 86400 -noout -in "$tls/server.pem" >/dev/null 2>&1; then
    peer_log "making a CA and a server certificate in $tls"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=easload peer test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
        -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
        >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 30 -sha256 -extfile "$tls/server.ext" -out "$tls/server.pem" \
        2>/dev/null
    rm -f "$tls/server.csr"
fi
chmod 644 "$tls/ca.pem" "$tls/server.pem"

# ---- PostgreSQL: its own cluster, user source + SOGo's tables ------------------------------
if ! pg_lsclusters -h | awk '{print $1 "/" $2}' | grep -qx "$PGV/$PG_CLUSTER"; then
    peer_log "creating PostgreSQL cluster $PGV/$PG_CLUSTER"
    pg_createcluster "$PGV" "$PG_CLUSTER" -p "$PG_PORT" >/dev/null
fi
pgconf=/etc/postgresql/$PGV/$PG_CLUSTER
sed -i "s/^port = .*/port = $PG_PORT/" "$pgconf/postgresql.conf"
# settings go to conf.d: pg_createcluster -o writes listen_addresses unquoted (peers.md)
cat >"$pgconf/conf.d/easpeer.conf" <<EOF
listen_addresses = '127.0.0.1'
shared_buffers = 16MB
max_connections = 120
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
pg_ctlcluster "$PGV" "$PG_CLUSTER" start </dev/null >>"$PEER_LOG/daemons.out" 2>&1
psql_root() {
    runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qAt "$@"
}
psql_root -c "DROP DATABASE IF EXISTS sogo" 2>/dev/null
psql_root -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sogo') THEN
              CREATE ROLE sogo LOGIN PASSWORD 'sogo'; END IF; END \$\$"
psql_root -c "CREATE DATABASE sogo OWNER sogo"
{
    echo "CREATE TABLE sogo_users (c_uid varchar(64) PRIMARY KEY, c_name varchar(64) NOT NULL,"
    echo "  c_password varchar(128) NOT NULL, c_cn varchar(128), mail varchar(128));"
    echo "ALTER TABLE sogo_users OWNER TO sogo;"
    i=1
    while [ "$i" -le "$PEER_USERS" ]; do
        echo "INSERT INTO sogo_users VALUES ('user$i','user$i','pass$i','Test User$i','user$i@example.test');"
        i=$((i + 1))
    done
} | psql_root -d sogo

# ---- Dovecot: its own instance, users with seeded mail -------------------------------------
vmail_uid=$(id -u vmail)
: >"$PEER_ETC/dovecot.passwd"
i=1
while [ "$i" -le "$PEER_USERS" ]; do
    echo "user$i:{PLAIN}pass$i" >>"$PEER_ETC/dovecot.passwd"
    i=$((i + 1))
done
chown root:dovecot "$PEER_ETC/dovecot.passwd"
chmod 640 "$PEER_ETC/dovecot.passwd"
install -d -m 755 "$PEER_RUN/dovecot"
install -d -m 750 "$PEER_LIB/dovecot-state"
cat >"$DOVECOT_CONF" <<EOF
# written by easload tests/peers/sogo/setup.sh; a complete config, /etc/dovecot is not read
protocols = imap
listen = 127.0.0.1
instance_name = easpeer
base_dir = $PEER_RUN/dovecot
state_dir = $PEER_LIB/dovecot-state
log_path = $PEER_LOG/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = $vmail_uid
mail_max_userip_connections = 200
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $PEER_ETC/dovecot.passwd
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=$PEER_MAIL/%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Templates {
    auto = subscribe
  }
}
mail_plugins = acl
protocol imap {
  mail_plugins = \$mail_plugins imap_acl
}
plugin {
  acl = vfile
}
imap_max_line_length = 2M
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = 1
}
EOF

# Several messages per INBOX, with words the search scenario looks for. Files go to tmp/ and
# are moved to new/ (peers.md: no ",S=" in the name unless the size is right).
peer_log "seeding $PEER_MAILS messages for each of $PEER_USERS users"
words="meeting report invoice lunch project review budget"
now=$(date +%s)
i=1
while [ "$i" -le "$PEER_USERS" ]; do
    md=$PEER_MAIL/user$i/Maildir
    mkdir -p "$md/cur" "$md/new" "$md/tmp"
    m=1
    while [ "$m" -le "$PEER_MAILS" ]; do
        w=$(echo "$words" | cut -d' ' -f$(((i + m) % 7 + 1)))
        f=$now.M${m}P$i.easpeer
        if [ "$m" -eq 1 ]; then
            subject="Welcome user$i"
        else
            subject="The $w for user$i, part $m"
        fi
        cat >"$md/tmp/$f" <<EOF
Return-Path: <sender@example.test>
From: Sender $m <sender$m@example.test>
To: Test User$i <user$i@example.test>
Subject: $subject
Date: $(date -R -d "@$((now - 3600 * (PEER_MAILS - m + 1)))")
Message-ID: <seed-$i-$m-$now@example.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello user$i, this is message $m in your INBOX. It is about the $w.
EOF
        mv "$md/tmp/$f" "$md/new/$f"
        m=$((m + 1))
    done
    i=$((i + 1))
done
chown -R vmail:vmail "$PEER_MAIL"

dovecot -c "$DOVECOT_CONF" </dev/null >>"$PEER_LOG/daemons.out" 2>&1
wait_port "$IMAP_PORT" 20 || { echo "setup.sh: Dovecot did not listen on $IMAP_PORT" >&2; exit 1; }

# peers.md pitfall 1: SOGo only sees changes in a mailbox on which CONDSTORE was used once.
peer_log "enabling CONDSTORE on every mailbox"
i=1
while [ "$i" -le "$PEER_USERS" ]; do
    echo "user$i"
    i=$((i + 1))
done | xargs -P 4 -I U sh -c 'printf "a ENABLE CONDSTORE\r\nb SELECT INBOX\r\nc SELECT Drafts\r\nd SELECT Sent\r\ne SELECT Trash\r\nf SELECT Junk\r\ng SELECT Templates\r\nz LOGOUT\r\n" |
    doveadm -c "$1" exec imap -u U >/dev/null 2>&1' sh "$DOVECOT_CONF"

# ---- memcached -----------------------------------------------------------------------------
install -d -o memcache -g memcache "$PEER_RUN/memcached"
memcached -d -u memcache -l 127.0.0.1 -p "$MEMCACHED_PORT" -U 0 -m 32 -c 256 \
    -P "$PEER_RUN/memcached/memcached.pid" </dev/null >>"$PEER_LOG/daemons.out" 2>&1
wait_port "$MEMCACHED_PORT" 20 || { echo "setup.sh: memcached did not start" >&2; exit 1; }

# ---- sogod ---------------------------------------------------------------------------------
if [ -f /etc/sogo/sogo.conf ] && [ ! -f /etc/sogo/sogo.conf.dist ]; then
    cp -p /etc/sogo/sogo.conf /etc/sogo/sogo.conf.dist
fi
if [ "${IMAP_POOL:-0}" = 1 ]; then pool=NO; else pool=YES; fi
if [ "${EAS_DEBUG:-0}" = 1 ]; then easdebug=YES; else easdebug=NO; fi
db="postgresql://sogo:sogo@127.0.0.1:$PG_PORT/sogo"
cat >/etc/sogo/sogo.conf <<EOF
/* written by easload tests/peers/sogo/setup.sh; Debian's original is sogo.conf.dist */
{
  WOPort = "127.0.0.1:$SOGO_PORT";
  WOWorkersCount = $SOGO_WORKERS;
  WOListenQueueSize = 128;
  WOLogFile = "$PEER_LOG/sogo.log";
  WOPidFile = "/run/sogo/sogo.pid";
  WOWatchDogRequestTimeout = 10;
  SOGoProfileURL = "$db/sogo_user_profile";
  OCSFolderInfoURL = "$db/sogo_folder_info";
  OCSStoreURL = "$db/sogo_store";
  OCSAclURL = "$db/sogo_acl";
  OCSCacheFolderURL = "$db/sogo_cache_folder";
  OCSEMailAlarmsFolderURL = "$db/sogo_alarms_folder";
  SOGoUserSources = (
    {
      type = sql;
      id = users;
      canAuthenticate = YES;
      isAddressBook = NO;
      viewURL = "$db/sogo_users";
      userPasswordAlgorithm = plain;
    }
  );
  SOGoIMAPServer = "imap://127.0.0.1:$IMAP_PORT";
  SOGoMailDomain = example.test;
  SOGoMailingMechanism = smtp;
  SOGoSMTPServer = "smtp://127.0.0.1:25";
  SOGoSentFolderName = Sent;
  SOGoTrashFolderName = Trash;
  SOGoDraftsFolderName = Drafts;
  SOGoJunkFolderName = Junk;
  SOGoIMAPAclConformsToIMAPExt = YES;
  SOGoSieveScriptsEnabled = NO;
  SOGoVacationEnabled = NO;
  SOGoForwardEnabled = NO;
  SOGoEnableEMailAlarms = NO;
  SOGoAppointmentSendEMailNotifications = NO;
  SOGoPasswordChangeEnabled = NO;
  SOGoMemcachedHost = "127.0.0.1:$MEMCACHED_PORT";
  SOGoTimeZone = UTC;
  SOGoLanguage = English;
  SOGoMaximumPingInterval = 10;
  SOGoMaximumSyncInterval = 30;
  SOGoInternalSyncInterval = 5;
  SOGoEASDebugEnabled = $easdebug;
  NGImap4DisableIMAP4Pooling = $pool;
}
EOF
chown root:sogo /etc/sogo/sogo.conf
chmod 640 /etc/sogo/sogo.conf
install -d -o sogo -g sogo /run/sogo
touch "$PEER_LOG/sogo.log"
chown sogo:sogo "$PEER_LOG/sogo.log"
runuser -u sogo -- env HOME=/run/sogo /usr/sbin/sogod -WOWorkersCount "$SOGO_WORKERS" \
    -WOPidFile /run/sogo/sogo.pid -WOLogFile "$PEER_LOG/sogo.log" \
    </dev/null >>"$PEER_LOG/daemons.out" 2>&1
wait_port "$SOGO_PORT" 30 || { echo "setup.sh: sogod did not listen on $SOGO_PORT" >&2; exit 1; }

# ---- nginx in front: the standard path, HTTP and HTTPS, no upstream keep-alive -------------
install -d -m 755 "$PEER_LIB/nginx"
for t in body proxy fastcgi uwsgi scgi; do
    install -d -o www-data -g www-data -m 700 "$PEER_LIB/nginx/$t"
done
cat >"$PEER_ETC/nginx.conf" <<EOF
# written by easload tests/peers/sogo/setup.sh
user www-data;
worker_processes 1;
pid $PEER_RUN/nginx.pid;
error_log $PEER_LOG/nginx-error.log;
events {
  worker_connections 1024;
}
http {
  access_log $PEER_LOG/nginx-access.log;
  client_body_temp_path $PEER_LIB/nginx/body;
  proxy_temp_path $PEER_LIB/nginx/proxy;
  fastcgi_temp_path $PEER_LIB/nginx/fastcgi;
  uwsgi_temp_path $PEER_LIB/nginx/uwsgi;
  scgi_temp_path $PEER_LIB/nginx/scgi;
  client_max_body_size 50m;
  keepalive_timeout 120s;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$HTTP_PORT;
    listen 127.0.0.1:$HTTPS_PORT ssl;
    server_name localhost;
    ssl_certificate $tls/server.pem;
    ssl_certificate_key $tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location /Microsoft-Server-ActiveSync {
      # sogod closes the connection after every answer: no upstream keepalive (peers.md)
      proxy_pass http://127.0.0.1:$SOGO_PORT/SOGo/Microsoft-Server-ActiveSync;
      proxy_connect_timeout 10s;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
      proxy_set_header Host \$host;
      proxy_set_header x-webobjects-server-protocol HTTP/1.0;
      proxy_set_header x-webobjects-remote-host 127.0.0.1;
      proxy_set_header x-webobjects-server-name \$server_name;
      proxy_set_header x-webobjects-server-url \$scheme://\$host:\$server_port;
      proxy_set_header x-webobjects-server-port \$server_port;
    }
  }
}
EOF
nginx -t -q -c "$PEER_ETC/nginx.conf" -p "$PEER_LIB/nginx" </dev/null >>"$PEER_LOG/daemons.out" 2>&1
nginx -c "$PEER_ETC/nginx.conf" -p "$PEER_LIB/nginx" </dev/null >>"$PEER_LOG/daemons.out" 2>&1
wait_port "$HTTPS_PORT" 20 || { echo "setup.sh: nginx did not start" >&2; exit 1; }

# ---- a calendar event and a contact per user (CalDAV/CardDAV, straight to sogod) -----------
peer_log "seeding a calendar event and a contact per user"
seed_dav() { # user number
    u=user$1
    day=$(date -u -d '+1 day' +%Y%m%d)
    printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easload//peer seed//EN\r\nBEGIN:VEVENT\r\nUID:easpeer-event-%s\r\nDTSTAMP:%sT090000Z\r\nDTSTART:%sT100000Z\r\nDTEND:%sT110000Z\r\nSUMMARY:Project meeting of %s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
        "$u" "$day" "$day" "$day" "$u" |
        curl -fsS -o /dev/null -m 30 -u "$u:pass$1" -X PUT -H 'Content-Type: text/calendar' \
            --data-binary @- \
            "http://127.0.0.1:$SOGO_PORT/SOGo/dav/$u/Calendar/personal/easpeer-event.ics"
    printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:easpeer-contact-%s\r\nFN:Colleague of %s\r\nN:of %s;Colleague;;;\r\nEMAIL;TYPE=work:colleague.%s@example.test\r\nEND:VCARD\r\n' \
        "$u" "$u" "$u" "$u" |
        curl -fsS -o /dev/null -m 30 -u "$u:pass$1" -X PUT -H 'Content-Type: text/vcard' \
            --data-binary @- \
            "http://127.0.0.1:$SOGO_PORT/SOGo/dav/$u/Contacts/personal/easpeer-contact.vcf"
}
i=1
fails=0
while [ "$i" -le "$PEER_USERS" ]; do
    seed_dav "$i" || fails=$((fails + 1))
    i=$((i + 1))
done
if [ "$fails" -gt 0 ]; then
    echo "setup.sh: seeding calendar/contacts failed for $fails users" >&2
    exit 1
fi

# ---- self-test: OPTIONS over both front ends -----------------------------------------------
for url in "http://127.0.0.1:$HTTP_PORT" "https://127.0.0.1:$HTTPS_PORT"; do
    h=$(curl -fsS -m 20 --cacert "$tls/ca.pem" -X OPTIONS -u user1:pass1 -D - -o /dev/null \
        "$url/Microsoft-Server-ActiveSync")
    if ! printf '%s' "$h" | grep -qi '^MS-Server-ActiveSync:'; then
        echo "setup.sh: OPTIONS on $url answered without MS-Server-ActiveSync" >&2
        exit 1
    fi
done

# ---- what run.sh reads ---------------------------------------------------------------------
printf 'user,password,email\n' >"$PEER_LIB/users.csv"
i=1
while [ "$i" -le "$PEER_USERS" ]; do
    printf 'user%d,pass%d,user%d@example.test\n' "$i" "$i" "$i" >>"$PEER_LIB/users.csv"
    i=$((i + 1))
done
cat >"$PEER_ENV" <<EOF
# written by tests/peers/sogo/setup.sh
EASPEER_HTTP_URL=http://127.0.0.1:$HTTP_PORT/Microsoft-Server-ActiveSync
EASPEER_HTTPS_URL=https://127.0.0.1:$HTTPS_PORT/Microsoft-Server-ActiveSync
EASPEER_DIRECT_URL=http://127.0.0.1:$SOGO_PORT/SOGo/Microsoft-Server-ActiveSync
EASPEER_CA=$tls/ca.pem
EASPEER_USERS_CSV=$PEER_LIB/users.csv
EASPEER_USERS=$PEER_USERS
EASPEER_MAILS=$PEER_MAILS
EASPEER_WORKERS=$SOGO_WORKERS
EASPEER_MAILDIR=$PEER_MAIL
EASPEER_DOVECOT_CONF=$DOVECOT_CONF
EASPEER_LOG=$PEER_LOG
EOF
done_ok=1
peer_log "SOGo peer up in $(($(date +%s) - started)) s: $PEER_ENV"
