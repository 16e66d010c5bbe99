/* test_srv_http.c - end-to-end tests of the HTTP side of `easload serve`: OPTIONS, auth, both
 * query forms, HTTP-level rejections, keep-alive, HTTPS with a chain made at test time, long
 * polls woken by the admin API or abandoned by their client, and a clean SIGTERM stop.
 * One binary, one case per ctest entry: `test_srv_http CASE`. No case asserts a time.
 * Uses: srv_harness.h (which starts the real binary), core/wbxml.h for request bodies. */
#include "srv_harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define CHECK_STATUS(resp, want)                                                                   \
    do {                                                                                           \
        if ((resp).status != (want)) {                                                             \
            fprintf(stderr, "%s:%d: HTTP %ld, expected %d\n", __FILE__, __LINE__, (resp).status,   \
                    (want));                                                                       \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Sends rq and checks the status; returns the status. */
static long expect(struct el_srvh *h, const struct el_srvh_req *rq, int want)
{
    struct el_srvh_resp r;
    el_srvh_do(h, rq, &r);
    CHECK_STATUS(r, want);
    char v[64];
    CHECK(el_srvh_header(&r, "MS-Server-ActiveSync", v, sizeof(v)) == 1);
    CHECK(el_srvh_header(&r, "Content-Length", v, sizeof(v)) == 1);
    CHECK(el_srvh_header(&r, "Transfer-Encoding", v, sizeof(v)) == 0);
    long st = r.status;
    el_srvh_resp_close(&r);
    return st;
}

/* ---- device preparation: Provision, FolderSync, initial Sync of the Inbox ------------------- */

struct dev {
    const char *user, *pass, *id;
    char key[16];
    char inbox[16];
};

static int folder_sync(struct el_srvh *h, struct dev *d)
{
    struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", d->user, d->pass);
    rq.device_id = d->id;
    rq.policy_key = d->key;
    rq.xml = "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>0</FolderHierarchy:SyncKey>"
             "</FolderHierarchy:FolderSync>";
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 200);
    char st[8] = "", type[8], sid[16];
    el_srvh_text(&r, EL_FH_STATUS, 0, st, sizeof(st));
    CHECK(strcmp(st, "1") == 0);
    d->inbox[0] = '\0';
    for (int i = 0; el_srvh_text(&r, EL_FH_TYPE, i, type, sizeof(type)) == 1; i++) {
        if (strcmp(type, "2") == 0 && el_srvh_text(&r, EL_FH_SERVERID, i, sid, sizeof(sid)) == 1) {
            snprintf(d->inbox, sizeof(d->inbox), "%s", sid);
            break;
        }
    }
    el_srvh_resp_close(&r);
    CHECK(d->inbox[0] != '\0');
    return d->inbox[0] ? 0 : -1;
}

/* Initial Sync of the Inbox, then fetch until nothing more is available. */
static int sync_inbox(struct el_srvh *h, struct dev *d)
{
    char key[64] = "0", xml[1024];
    for (int round = 0; round < 100; round++) {
        snprintf(xml, sizeof(xml),
                 "<AirSync:Sync><AirSync:Collections><AirSync:Collection>"
                 "<AirSync:SyncKey>%s</AirSync:SyncKey>"
                 "<AirSync:CollectionId>%s</AirSync:CollectionId>%s"
                 "</AirSync:Collection></AirSync:Collections></AirSync:Sync>",
                 key, d->inbox,
                 strcmp(key, "0") ? "<AirSync:WindowSize>512</AirSync:WindowSize>" : "");
        struct el_srvh_req rq = EL_SRVH_REQ("Sync", d->user, d->pass);
        rq.device_id = d->id;
        rq.policy_key = d->key;
        rq.xml = xml;
        struct el_srvh_resp r;
        el_srvh_do(h, &rq, &r);
        CHECK_STATUS(r, 200);
        if (r.status != 200) {
            el_srvh_resp_close(&r);
            return -1;
        }
        if (r.body.len == 0) { /* empty Sync response: nothing changed */
            el_srvh_resp_close(&r);
            return 0;
        }
        char *x = el_srvh_xml(&r);
        int more = x && strstr(x, "MoreAvailable") != NULL;
        int first = strcmp(key, "0") == 0;
        int ok = el_srvh_text(&r, EL_AS_SYNCKEY, 0, key, sizeof(key)) == 1;
        if (!ok)
            fprintf(stderr, "Sync response without SyncKey:\n%s\n", x ? x : "(not WBXML)");
        free(x);
        el_srvh_resp_close(&r);
        CHECK(ok);
        if (!ok)
            return -1;
        if (!first && !more)
            return 0;
    }
    return -1;
}

static int prepare(struct el_srvh *h, struct dev *d)
{
    if (el_srvh_provision(h, d->user, d->pass, d->id, "14.1", d->key, sizeof(d->key)) != 0) {
        failures++;
        return -1;
    }
    if (folder_sync(h, d) != 0 || sync_inbox(h, d) != 0)
        return -1;
    return 0;
}

static void ping_xml(const struct dev *d, char *out, size_t cap)
{
    snprintf(out, cap,
             "<Ping:Ping><Ping:HeartbeatInterval>900</Ping:HeartbeatInterval><Ping:Folders>"
             "<Ping:Folder><Ping:Id>%s</Ping:Id><Ping:Class>Email</Ping:Class></Ping:Folder>"
             "</Ping:Folders></Ping:Ping>",
             d->inbox);
}

/* ---- cases ------------------------------------------------------------------------------------
 */

static int case_options(struct el_srvh *h)
{
    struct el_srvh_req rq = {.method = "OPTIONS", .user = "user1", .password = "pass1"};
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 200);
    char v[1024];
    CHECK(el_srvh_header(&r, "MS-ASProtocolVersions", v, sizeof(v)) == 1 &&
          strcmp(v, "2.5,12.0,12.1,14.0,14.1,16.0,16.1") == 0);
    CHECK(el_srvh_header(&r, "MS-ASProtocolCommands", v, sizeof(v)) == 1 && strstr(v, "Sync") &&
          strstr(v, "FolderSync") && strstr(v, "Ping") && strstr(v, "Provision"));
    CHECK(el_srvh_header(&r, "MS-Server-ActiveSync", v, sizeof(v)) == 1);
    CHECK(el_srvh_header(&r, "Content-Length", v, sizeof(v)) == 1 && strcmp(v, "0") == 0);
    el_srvh_resp_close(&r);
    /* anonymous OPTIONS is refused like everything else */
    struct el_srvh_req anon = {.method = "OPTIONS"};
    expect(h, &anon, 401);
    return 0;
}

static int case_auth(struct el_srvh *h)
{
    struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", "user1", "wrongpass1");
    rq.xml = "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>0</FolderHierarchy:SyncKey>"
             "</FolderHierarchy:FolderSync>";
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 401);
    char v[128];
    CHECK(el_srvh_header(&r, "WWW-Authenticate", v, sizeof(v)) == 1 &&
          strcmp(v, "Basic realm=\"easload\"") == 0);
    el_srvh_resp_close(&r);
    rq.user = NULL;
    expect(h, &rq, 401);
    rq.user = "nosuchuser";
    rq.password = "pass1";
    expect(h, &rq, 401);
    /* the rejection is logged with device and command, never with the credentials */
    char *log = el_srvh_log(h);
    CHECK(log && strstr(log, "dDev1 http: POST FolderSync: 401"));
    CHECK(log && strstr(log, "wrongpass1") == NULL);
    CHECK(log && strstr(log, "dXNlcjE6") == NULL); /* base64 of "user1:" */
    free(log);
    return 0;
}

static int case_query_forms(struct el_srvh *h)
{
    struct dev d = {.user = "user2", .pass = "pass2", .id = "QForm1"};
    if (el_srvh_provision(h, d.user, d.pass, d.id, "14.1", d.key, sizeof(d.key)) != 0) {
        failures++;
        return 0;
    }
    /* plain form */
    if (folder_sync(h, &d) != 0)
        return 0;
    /* base64 form: 14.1, FolderSync (9), en-US, DeviceId, policy key (LE), DeviceType */
    uint8_t b[64];
    size_t n = 0;
    b[n++] = 141;
    b[n++] = 9;
    b[n++] = 0x09;
    b[n++] = 0x04;
    b[n++] = (uint8_t)strlen(d.id);
    memcpy(b + n, d.id, strlen(d.id));
    n += strlen(d.id);
    uint32_t key = (uint32_t)strtoul(d.key, NULL, 10);
    b[n++] = 4;
    for (int i = 0; i < 4; i++)
        b[n++] = (uint8_t)(key >> (8 * i));
    b[n++] = 10;
    memcpy(b + n, "SmartPhone", 10);
    n += 10;
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[128];
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)b[i] << 16 | (i + 1 < n ? (uint32_t)b[i + 1] << 8 : 0) |
                     (i + 2 < n ? b[i + 2] : 0);
        q[o++] = tbl[v >> 18];
        q[o++] = tbl[(v >> 12) & 63];
        q[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        q[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    q[o] = '\0';
    struct el_srvh_req rq = {.user = d.user, .password = d.pass, .query = q, .version = ""};
    rq.xml = "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>0</FolderHierarchy:SyncKey>"
             "</FolderHierarchy:FolderSync>";
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 200);
    char st[8] = "";
    CHECK(el_srvh_text(&r, EL_FH_STATUS, 0, st, sizeof(st)) == 1 && strcmp(st, "1") == 0);
    el_srvh_resp_close(&r);

    /* the example of [MS-ASHTTP] 2.2.1.1.1.1: 14.0 Sync, en-US, DeviceId v140Device, no policy
     * key: it reaches the EAS side, which wants the device provisioned first */
    struct el_srvh_req ex = {.user = d.user, .password = d.pass, .version = ""};
    ex.query = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l";
    el_srvh_do(h, &ex, &r);
    CHECK(r.status == 200 || r.status == 449 || r.status == 403);
    el_srvh_resp_close(&r);

    /* malformed requests */
    struct el_srvh_req bad = {.user = d.user, .password = d.pass, .policy_key = d.key};
    bad.query = "User=user2&DeviceId=QForm1&DeviceType=SP";
    expect(h, &bad, 400); /* no Cmd */
    bad.query = "Cmd=Frobnicate&User=user2&DeviceId=QForm1&DeviceType=SP";
    expect(h, &bad, 501); /* unknown command */
    bad.query = "Cmd=FolderSync&User=user2&DeviceId=bad-id!&DeviceType=SP";
    expect(h, &bad, 400); /* DeviceId not alphanumeric */
    bad.query = "Cmd=FolderSync&User=user2&DeviceId=0123456789012345678901234567890123&"
                "DeviceType=SP";
    expect(h, &bad, 400); /* DeviceId longer than 32 */
    bad.query = "@@@notbase64@@@";
    expect(h, &bad, 400);
    bad.query = "";
    expect(h, &bad, 400);
    struct el_srvh_req v = EL_SRVH_REQ("FolderSync", d.user, d.pass);
    v.device_id = d.id;
    v.policy_key = d.key;
    v.xml = rq.xml;
    v.version = "2.5";
    expect(h, &v, 400); /* advertised, not accepted */
    v.version = "";
    expect(h, &v, 400); /* plain form without MS-ASProtocolVersion */
    v.version = "14.1";
    v.content_type = "";
    expect(h, &v, 400); /* body without Content-Type, as Exchange */
    v.content_type = "text/plain";
    expect(h, &v, 415);
    v.content_type = "application/vnd.ms-sync.wbxml; charset=utf-8";
    expect(h, &v, 200);
    v.content_type = NULL;
    v.policy_key = "12ab";
    expect(h, &v, 400);
    char *log = el_srvh_log(h);
    CHECK(log && strstr(log, "dQForm1 http: POST FolderSync: 415 wrong Content-Type"));
    CHECK(log && strstr(log, "POST Frobnicate: 501 unknown command"));
    free(log);
    return 0;
}

static int case_not_found(struct el_srvh *h)
{
    struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", "user1", "pass1");
    rq.path = "/foo";
    expect(h, &rq, 404);
    rq.path = "/SOGo/Microsoft-Server-ActiveSync";
    expect(h, &rq, 404);
    rq.path = "/Microsoft-Server-ActiveSync/";
    expect(h, &rq, 404);
    rq.path = NULL;
    rq.method = "GET";
    expect(h, &rq, 501);
    return 0;
}

static int case_too_large(struct el_srvh *h)
{
    static uint8_t big[4096];
    struct el_srvh_req rq = EL_SRVH_REQ("SendMail", "user1", "pass1");
    rq.device_id = "Big1";
    rq.body = big;
    rq.body_len = sizeof(big);
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 413);
    char v[64];
    CHECK(el_srvh_header(&r, "MS-Server-ActiveSync", v, sizeof(v)) == 1);
    el_srvh_resp_close(&r);
    /* a body right at the limit passes the HTTP side */
    rq.body_len = 1024;
    el_srvh_do(h, &rq, &r);
    CHECK(r.status != 413 && r.status != 0);
    el_srvh_resp_close(&r);
    char *log = el_srvh_log(h);
    CHECK(log && strstr(log, "dBig1 http: POST SendMail: 413"));
    free(log);
    return 0;
}

static int case_keepalive(struct el_srvh *h)
{
    CURL *c = curl_easy_init();
    long connects = 0;
    for (int i = 0; i < 6; i++) {
        struct el_srvh_req rq = {.user = "user1", .password = "pass1", .curl = c};
        if (i % 2 == 0)
            rq.method = "OPTIONS";
        else
            rq.cmd = "Frobnicate"; /* a 501 keeps the connection too */
        struct el_srvh_resp r;
        el_srvh_do(h, &rq, &r);
        CHECK(r.status == (i % 2 ? 501 : 200));
        char v[32];
        CHECK(!el_srvh_header(&r, "Connection", v, sizeof(v)) || strcmp(v, "close") != 0);
        connects += r.num_connects;
        el_srvh_resp_close(&r);
    }
    curl_easy_cleanup(c);
    CHECK(connects == 1);
    CHECK(el_srvh_stat(h, "http", "connections") == 1);
    CHECK(el_srvh_stat(h, "http", "requests") == 6);
    return 0;
}

static int case_https(struct el_srvh *h)
{
    CHECK(h->tls_url[0] != '\0');
    CURL *c = curl_easy_init();
    struct el_srvh_req rq = {
        .tls = 1, .method = "OPTIONS", .user = "user1", .password = "pass1", .curl = c};
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 200);
    char v[128];
    CHECK(el_srvh_header(&r, "MS-ASProtocolVersions", v, sizeof(v)) == 1);
    el_srvh_resp_close(&r);
    /* same connection, an EAS command over TLS */
    struct el_srvh_req p = EL_SRVH_REQ("Frobnicate", "user1", "pass1");
    p.tls = 1;
    p.curl = c;
    el_srvh_do(h, &p, &r);
    CHECK_STATUS(r, 501);
    CHECK(r.num_connects == 0);
    el_srvh_resp_close(&r);
    curl_easy_cleanup(c);
    /* the chain is verified against the root only: the server must send the intermediate */
    struct el_srvh_req d = {.tls = 1, .method = "OPTIONS", .user = "user1", .password = "pass1"};
    el_srvh_do(h, &d, &r);
    CHECK(r.curl_rc == CURLE_OK);
    el_srvh_resp_close(&r);
    return 0;
}

static int case_ping_wake(struct el_srvh *h)
{
    struct dev d = {.user = "user3", .pass = "pass3", .id = "PingWake1"};
    if (prepare(h, &d) != 0)
        return 0;
    char xml[512];
    ping_xml(&d, xml, sizeof(xml));
    struct el_srvh_req rq = EL_SRVH_REQ("Ping", d.user, d.pass);
    rq.device_id = d.id;
    rq.policy_key = d.key;
    rq.xml = xml;
    struct el_srvh_call call;
    CHECK(el_srvh_call_start(&call, h, &rq) == 0);
    CHECK(el_srvh_wait_stat(h, "http", "holds_open", 1) == 0);
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/deliver",
                  "{\"user\":\"user3\",\"subject\":\"wake up\",\"from\":\"a@example.test\","
                  "\"bytes\":2048}",
                  &a);
    CHECK_STATUS(a, 200);
    el_srvh_resp_close(&a);
    el_srvh_call_join(&call);
    CHECK_STATUS(call.resp, 200);
    char st[8] = "";
    CHECK(el_srvh_text(&call.resp, EL_PING_STATUS, 0, st, sizeof(st)) == 1 && strcmp(st, "2") == 0);
    el_srvh_resp_close(&call.resp);
    CHECK(el_srvh_stat(h, "http", "holds_open") == 0);
    CHECK(el_srvh_stat(h, "http", "holds_woken") == 1);
    /* admin errors are JSON with 400/404 */
    el_srvh_admin(h, "POST", "/deliver", "{\"user\":\"nosuchuser\"}", &a);
    CHECK_STATUS(a, 404);
    CHECK(a.body.len > 9 && memcmp(a.body.data, "{\"error\":", 9) == 0);
    el_srvh_resp_close(&a);
    el_srvh_admin(h, "POST", "/deliver", "not json", &a);
    CHECK_STATUS(a, 400);
    el_srvh_resp_close(&a);
    el_srvh_admin(h, "GET", "/nothing", NULL, &a);
    CHECK_STATUS(a, 404);
    el_srvh_resp_close(&a);
    return 0;
}

/* Base64 of "user:pass" for a hand-written request. */
static void basic(const char *up, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(up), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)up[i] << 16 |
                     (i + 1 < n ? (uint32_t)(uint8_t)up[i + 1] << 8 : 0) |
                     (i + 2 < n ? (uint8_t)up[i + 2] : 0);
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

static int case_ping_gone(struct el_srvh *h)
{
    struct dev d = {.user = "user4", .pass = "pass4", .id = "PingGone1"};
    if (prepare(h, &d) != 0)
        return 0;
    char xml[512];
    ping_xml(&d, xml, sizeof(xml));
    struct el_buf body;
    el_buf_init(&body, 1 << 16);
    CHECK(el_wbxml_from_xml(xml, strlen(xml), &body, NULL) == 0);
    /* a raw socket, so the test can walk away while the Ping is parked */
    int port = atoi(strrchr(h->url, ':') + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    char auth[64], head[1024];
    basic("user4:pass4", auth);
    int n = snprintf(head, sizeof(head),
                     "POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=user4&DeviceId=%s&"
                     "DeviceType=SmartPhone HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Basic %s\r\nMS-ASProtocolVersion: 14.1\r\n"
                     "X-MS-PolicyKey: %s\r\nContent-Type: application/vnd.ms-sync.wbxml\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     d.id, auth, d.key, body.len);
    CHECK(write(fd, head, (size_t)n) == n);
    CHECK(write(fd, body.data, body.len) == (ssize_t)body.len);
    el_buf_close(&body);
    CHECK(el_srvh_wait_stat(h, "http", "holds_open", 1) == 0);
    close(fd);
    /* the sweep notices the departed client and ends the hold */
    CHECK(el_srvh_wait_stat(h, "http", "holds_open", 0) == 0);
    CHECK(el_srvh_stat(h, "http", "holds_gone") == 1);
    CHECK(el_srvh_wait_stat(h, "http", "connections_open", 0) == 0);
    /* and the server still serves */
    struct el_srvh_req rq = {.method = "OPTIONS", .user = "user1", .password = "pass1"};
    expect(h, &rq, 200);
    return 0;
}

static int case_sigterm(struct el_srvh *h)
{
    struct dev d = {.user = "user5", .pass = "pass5", .id = "Term1"};
    if (prepare(h, &d) != 0)
        return 0;
    char xml[512];
    ping_xml(&d, xml, sizeof(xml));
    struct el_srvh_req rq = EL_SRVH_REQ("Ping", d.user, d.pass);
    rq.device_id = d.id;
    rq.policy_key = d.key;
    rq.xml = xml;
    struct el_srvh_call call;
    CHECK(el_srvh_call_start(&call, h, &rq) == 0);
    CHECK(el_srvh_wait_stat(h, "http", "holds_open", 1) == 0);
    /* an idle keep-alive connection too: stop must close it */
    CURL *idle = curl_easy_init();
    struct el_srvh_req o = {
        .method = "OPTIONS", .user = "user1", .password = "pass1", .curl = idle};
    expect(h, &o, 200);
    int rc = el_srvh_stop(h);
    CHECK(rc == 0);
    el_srvh_call_join(&call);
    CHECK_STATUS(call.resp, 200); /* the parked Ping was answered, not dropped */
    el_srvh_resp_close(&call.resp);
    curl_easy_cleanup(idle);
    return 0;
}

static const char *const max_body_args[] = {"--max-body", "1024", NULL};

static const struct el_srvh_case cases[] = {
    {"options", case_options, {0}},
    {"auth", case_auth, {0}},
    {"query_forms", case_query_forms, {0}},
    {"not_found", case_not_found, {0}},
    {"too_large", case_too_large, {.args = max_body_args}},
    {"keepalive", case_keepalive, {.workers = 1}},
    {"https", case_https, {.tls = 1}},
    {"ping_wake", case_ping_wake, {0}},
    {"ping_gone", case_ping_gone, {0}},
    {"sigterm", case_sigterm, {0}},
};

int main(int argc, char **argv)
{
    return el_srvh_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]), &failures);
}
