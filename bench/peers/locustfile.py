"""locustfile.py - bench/peers: Locust (Debian's python3-locust 2.12, FastHttpUser), one process.

Each Locust user is one device with its own FastHttpUser connection (keep-alive) and its own
Basic credentials (user<i>/pass<i>, DeviceId LC<i>), the Authorization header computed once.
PEERS_MODE=busy: one FolderSync with the fixed 13-byte body (PEERS_FS_BODY), then a barrier until
all PEERS_N users have started (Locust spawns users from the same process and starves once the
first ones loop: 3,450 of 5,000 in 80 s), then FolderSync in a closed loop (wait_time 0). PEERS_MODE=idle: one FolderSync, then a Ping (PEERS_PING_BODY, heartbeat 3000 s)
held, again and again. HTTPS is not verified (FastHttpUser's default insecure = True), and all
users share one SSL context (ssl_context_factory below): Locust's default makes a context per user
and loads Debian's CA bundle into it (measured here: ~0.9 MB and tens of ms of CPU per user, which
would make the 5,000-device TLS runs take minutes and GBs); sharing one is the kinder setting
for Locust, so the comparison is the conservative one. PEERS_LOCUST_CTX=per-user restores it.
No Provision: the server runs with --no-policy (bench/peers/run.sh).
"""
import base64
import itertools
import os

import gevent.ssl
from gevent.event import Event
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

MODE = os.environ.get("PEERS_MODE", "busy")
with open(os.environ["PEERS_FS_BODY"], "rb") as f:
    FS_BODY = f.read()
with open(os.environ["PEERS_PING_BODY"], "rb") as f:
    PING_BODY = f.read()
_ids = itertools.count(1)
N = int(os.environ.get("PEERS_N", "1"))
_started = [0]
_all_started = Event()

_ctx = gevent.ssl.create_default_context(cafile=None, capath=None, cadata=None)
_ctx.check_hostname = False
_ctx.verify_mode = gevent.ssl.CERT_NONE


def shared_context(cafile=None, **_):
    return _ctx


class Phone(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 3600.0
    connection_timeout = 60.0
    insecure = True
    if os.environ.get("PEERS_LOCUST_CTX") != "per-user":
        ssl_context_factory = staticmethod(shared_context)

    def on_start(self):
        i = next(_ids)
        user = "user%d" % i
        cred = base64.b64encode(("%s:pass%d" % (user, i)).encode()).decode()
        self.h = {
            "Authorization": "Basic " + cred,
            "Content-Type": "application/vnd.ms-sync.wbxml",
            "MS-ASProtocolVersion": "14.1",
            "User-Agent": "Android-EAS/14.1 (locust)",
        }
        q = "&User=%s&DeviceId=LC%06d&DeviceType=Android" % (user, i)
        self.fs = "/Microsoft-Server-ActiveSync?Cmd=FolderSync" + q
        self.ping = "/Microsoft-Server-ActiveSync?Cmd=Ping" + q
        self.client.post(self.fs, data=FS_BODY, headers=self.h, name="FolderSync")
        if MODE == "busy":
            _started[0] += 1
            if _started[0] >= N:
                _all_started.set()
            _all_started.wait()

    @task
    def work(self):
        if MODE == "idle":
            self.client.post(self.ping, data=PING_BODY, headers=self.h, name="Ping")
        else:
            self.client.post(self.fs, data=FS_BODY, headers=self.h, name="FolderSync")
