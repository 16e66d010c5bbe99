/* test_srv_throttle.c - end-to-end tests of issue 8's server side over loopback: one case per
 * knob (partnership limit and 177, per-user concurrency with a held Ping, budget exhausted then
 * refilled, 451 redirect to a second `easload serve`, mailbox quota, policy/wipe counters) and
 * per fault (latency, http500/503/507, drop, cut, truncate, malformed, trickle, vanish,
 * resetkey), each asserting HTTP status, headers, EAS status and the /stats counters; admin
 * changes during the run; nothing injected by default. No case asserts a time.
 * One binary, one case per ctest entry: `test_srv_throttle CASE`. Uses: srv_harness.h. */
#include "srv_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
            fprintf(stderr, "%s:%d: HTTP %ld (curl %d), expected %d\n", __FILE__, __LINE__,        \
                    (resp).status, (resp).curl_rc, (want));                                        \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#define FOLDERSYNC0                                                                                \
    "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>0</FolderHierarchy:SyncKey>"             \
    "</FolderHierarchy:FolderSync>"

/* ---- helpers -----------------------------------------------------------------------------------
 */

struct dev {
    const char *user, *pass, *id;
    char key[16];
    char inbox_key[32];
};

static int provision(struct el_srvh *h, struct dev *d)
{
    if (el_srvh_provision(h, d->user, d->pass, d->id, "14.1", d->key, sizeof(d->key)) != 0) {
        fprintf(stderr, "provision %s/%s failed\n", d->user, d->id);
        failures++;
        return -1;
    }
    return 0;
}

/* One request of device d; xml may be NULL (no body). */
static void dev_do(struct el_srvh *h, const struct dev *d, const char *cmd, const char *xml,
                   struct el_srvh_resp *r)
{
    struct el_srvh_req rq = EL_SRVH_REQ(cmd, d->user, d->pass);
    rq.device_id = d->id;
    rq.policy_key = d->key[0] ? d->key : NULL;
    rq.xml = xml;
    el_srvh_do(h, &rq, r);
}

/* Text of the first `tag` in r's body, "" if none. */
static const char *text(const struct el_srvh_resp *r, uint16_t tag, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (el_srvh_text(r, tag, 0, buf, cap) != 1)
        buf[0] = '\0';
    return buf;
}

static void sync_xml(char *out, size_t cap, const char *coll, const char *key, const char *extra)
{
    snprintf(out, cap,
             "<AirSync:Sync><AirSync:Collections><AirSync:Collection>"
             "<AirSync:SyncKey>%s</AirSync:SyncKey><AirSync:CollectionId>%s</AirSync:CollectionId>"
             "%s</AirSync:Collection></AirSync:Collections></AirSync:Sync>",
             key, coll, extra ? extra : "");
}

/* Provision, FolderSync, Inbox (CollectionId 1) primed and fetched until nothing is left. */
static int prepare(struct el_srvh *h, struct dev *d)
{
    if (provision(h, d) != 0)
        return -1;
    struct el_srvh_resp r;
    dev_do(h, d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    snprintf(d->inbox_key, sizeof(d->inbox_key), "0");
    for (int round = 0; round < 20; round++) {
        char xml[1024];
        int first = strcmp(d->inbox_key, "0") == 0;
        sync_xml(xml, sizeof(xml), "1", d->inbox_key,
                 first ? NULL : "<AirSync:WindowSize>512</AirSync:WindowSize>");
        dev_do(h, d, "Sync", xml, &r);
        CHECK_STATUS(r, 200);
        char *x = el_srvh_xml(&r);
        int more = x && strstr(x, "MoreAvailable");
        free(x);
        int ok = el_srvh_text(&r, EL_AS_SYNCKEY, 0, d->inbox_key, sizeof(d->inbox_key)) == 1;
        el_srvh_resp_close(&r);
        CHECK(ok);
        if (!ok)
            return -1;
        if (!first && !more)
            return 0;
    }
    return -1;
}

static void admin_ok(struct el_srvh *h, const char *method, const char *path, const char *json)
{
    struct el_srvh_resp a;
    el_srvh_admin(h, method, path, json, &a);
    if (a.status != 200)
        fprintf(stderr, "admin %s %s: %ld %.*s\n", method, path, a.status, (int)a.body.len,
                (const char *)a.body.data);
    CHECK_STATUS(a, 200);
    el_srvh_resp_close(&a);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- knobs -------------------------------------------------------------------------------------
 */

/* Default partnership limit 10 (as Exchange): exactly the 11th and later devices get 177. */
static int case_max_devices(struct el_srvh *h)
{
    char st[16];
    for (int i = 1; i <= 12; i++) {
        char id[16];
        snprintf(id, sizeof(id), "Part%d", i);
        struct el_srvh_req rq = EL_SRVH_REQ("Provision", "user1", "pass1");
        rq.device_id = id;
        rq.xml = "<Provision:Provision><Provision:Policies><Provision:Policy>"
                 "<Provision:PolicyType>MS-EAS-Provisioning-WBXML</Provision:PolicyType>"
                 "</Provision:Policy></Provision:Policies></Provision:Provision>";
        struct el_srvh_resp r;
        el_srvh_do(h, &rq, &r);
        CHECK_STATUS(r, 200);
        text(&r, EL_PROV_STATUS, st, sizeof(st));
        if (strcmp(st, i <= 10 ? "1" : "177") != 0)
            fprintf(stderr, "device %d: Provision status %s\n", i, st);
        CHECK(strcmp(st, i <= 10 ? "1" : "177") == 0);
        el_srvh_resp_close(&r);
    }
    CHECK(el_srvh_stat(h, "throttle", "max_devices") == 2);
    /* another user has room of its own */
    struct dev other = {.user = "user2", .pass = "pass2", .id = "Part1"};
    CHECK(provision(h, &other) == 0);
    /* 12.1 gets HTTP 403 instead */
    struct el_srvh_req old = EL_SRVH_REQ("FolderSync", "user1", "pass1");
    old.device_id = "Part13";
    old.version = "12.1";
    old.xml = FOLDERSYNC0;
    struct el_srvh_resp r;
    el_srvh_do(h, &old, &r);
    CHECK_STATUS(r, 403);
    el_srvh_resp_close(&r);
    /* raised during the run: the 11th device gets in */
    admin_ok(h, "POST", "/limits", "{\"max_devices_per_user\":11}");
    struct dev eleventh = {.user = "user1", .pass = "pass1", .id = "Part11"};
    CHECK(provision(h, &eleventh) == 0);
    CHECK(el_srvh_stat(h, "throttle", "max_devices") == 3);
    return 0;
}

static void ping_xml(char *out, size_t cap)
{
    snprintf(out, cap,
             "<Ping:Ping><Ping:HeartbeatInterval>900</Ping:HeartbeatInterval><Ping:Folders>"
             "<Ping:Folder><Ping:Id>1</Ping:Id><Ping:Class>Email</Ping:Class></Ping:Folder>"
             "</Ping:Folders></Ping:Ping>");
}

/* --max-concurrency-per-user 1: a held Ping makes the user's next request 503. */
static int case_concurrency(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Conc1"};
    struct dev d2 = {.user = "user1", .pass = "pass1", .id = "Conc2"};
    struct dev o = {.user = "user2", .pass = "pass2", .id = "Other1"};
    if (prepare(h, &d) != 0 || provision(h, &d2) != 0 || provision(h, &o) != 0)
        return 0;
    char xml[512];
    ping_xml(xml, sizeof(xml));
    struct el_srvh_req rq = EL_SRVH_REQ("Ping", d.user, d.pass);
    rq.device_id = d.id;
    rq.policy_key = d.key;
    rq.xml = xml;
    struct el_srvh_call call;
    CHECK(el_srvh_call_start(&call, h, &rq) == 0);
    CHECK(el_srvh_wait_stat(h, "http", "holds_open", 1) == 0);
    /* the same user's other phone: throttled, with Retry-After and X-MS-ASThrottle */
    struct el_srvh_resp r;
    dev_do(h, &d2, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 503);
    char v[64];
    CHECK(el_srvh_header(&r, "Retry-After", v, sizeof(v)) == 1 && strcmp(v, "5") == 0);
    CHECK(el_srvh_header(&r, "X-MS-ASThrottle", v, sizeof(v)) == 1 &&
          strcmp(v, "OutOfBudgets") == 0);
    CHECK(el_srvh_header(&r, "X-Easload-Throttle", v, sizeof(v)) == 1 &&
          strcmp(v, "concurrency") == 0);
    CHECK(el_srvh_header(&r, "MS-Server-ActiveSync", v, sizeof(v)) == 1);
    el_srvh_resp_close(&r);
    /* another user is not affected */
    dev_do(h, &o, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(h, "throttle", "concurrency") == 1);
    /* raised during the run: the second request passes while the Ping is still held */
    admin_ok(h, "POST", "/limits", "{\"max_concurrency_per_user\":2,\"retry_after\":9}");
    dev_do(h, &d2, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    admin_ok(h, "POST", "/limits", "{\"max_concurrency_per_user\":1}");
    dev_do(h, &d2, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 503);
    CHECK(el_srvh_header(&r, "Retry-After", v, sizeof(v)) == 1 && strcmp(v, "9") == 0);
    el_srvh_resp_close(&r);
    /* the Ping ends (a mail arrives): its slot comes back */
    admin_ok(h, "POST", "/deliver", "{\"user\":\"user1\",\"subject\":\"wake\"}");
    el_srvh_call_join(&call);
    CHECK_STATUS(call.resp, 200);
    el_srvh_resp_close(&call.resp);
    dev_do(h, &d2, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(h, "throttle", "concurrency") == 2);
    return 0;
}

/* --budget-per-user 3/2s: the 4th request is 503 with Retry-After; after it, requests pass. */
static int case_budget(struct el_srvh *h)
{
    struct dev d = {.user = "user3", .pass = "pass3", .id = "Budget1"};
    struct el_srvh_resp r;
    for (int i = 0; i < 3; i++) {
        dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r); /* 200 (status 142: not provisioned) */
        CHECK_STATUS(r, 200);
        el_srvh_resp_close(&r);
    }
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 503);
    char v[64] = "";
    CHECK(el_srvh_header(&r, "Retry-After", v, sizeof(v)) == 1);
    long wait_s = atol(v);
    CHECK(wait_s >= 1 && wait_s <= 2);
    CHECK(el_srvh_header(&r, "X-MS-ASThrottle", v, sizeof(v)) == 1 &&
          strcmp(v, "OutOfBudgets") == 0);
    CHECK(el_srvh_header(&r, "X-Easload-Throttle", v, sizeof(v)) == 1 && strcmp(v, "budget") == 0);
    el_srvh_resp_close(&r);
    /* other users have their own bucket */
    struct dev o = {.user = "user4", .pass = "pass4", .id = "Budget2"};
    dev_do(h, &o, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    /* honour Retry-After, then the bucket has refilled (retried until it has: no time asserted) */
    sleep_ms(wait_s * 1000);
    long status = 0;
    for (int tries = 0; tries < 100 && status != 200; tries++) {
        dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
        status = r.status;
        el_srvh_resp_close(&r);
        if (status != 200)
            sleep_ms(100);
    }
    CHECK(status == 200);
    CHECK(el_srvh_stat(h, "throttle", "budget") >= 1);
    /* turned off during the run */
    admin_ok(h, "POST", "/limits", "{\"budget_per_user\":0}");
    for (int i = 0; i < 10; i++) {
        dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
        CHECK_STATUS(r, 200);
        el_srvh_resp_close(&r);
    }
    return 0;
}

/* 451 with X-MS-Location to a second `easload serve`, per user and for all; then cleared. */
static int case_redirect(struct el_srvh *h)
{
    struct el_srvh b;
    if (el_srvh_start(&b, NULL) != 0) {
        failures++;
        return 0;
    }
    char json[256], want[160];
    snprintf(json, sizeof(json), "{\"user\":\"user1\",\"url\":\"%s\"}", b.url);
    admin_ok(h, "POST", "/redirect", json);
    snprintf(want, sizeof(want), "%s/Microsoft-Server-ActiveSync", b.url);
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Redir1"};
    struct el_srvh_resp r;
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 451);
    char loc[256] = "";
    CHECK(el_srvh_header(&r, "X-MS-Location", loc, sizeof(loc)) == 1 && strcmp(loc, want) == 0);
    el_srvh_resp_close(&r);
    /* the device follows it: the second server answers */
    struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", d.user, d.pass);
    rq.base = b.url;
    rq.device_id = d.id;
    rq.xml = FOLDERSYNC0;
    el_srvh_do(&b, &rq, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(&b, "eas", "users") == 5);
    /* other users stay */
    struct dev o = {.user = "user2", .pass = "pass2", .id = "Redir2"};
    dev_do(h, &o, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    /* everybody, then nobody (the per-user redirect stays until cleared itself) */
    snprintf(json, sizeof(json), "{\"url\":\"%s\"}", b.url);
    admin_ok(h, "POST", "/redirect", json);
    dev_do(h, &o, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 451);
    el_srvh_resp_close(&r);
    admin_ok(h, "POST", "/redirect", "{\"url\":null}");
    dev_do(h, &o, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    admin_ok(h, "POST", "/redirect", "{\"user\":\"user1\",\"url\":null}");
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(h, "throttle", "redirect") == 2);
    /* refused input */
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/redirect", "{\"url\":\"http://x\\r\\nSet-Cookie: a=b\"}", &a);
    CHECK_STATUS(a, 400);
    el_srvh_resp_close(&a);
    el_srvh_admin(h, "POST", "/redirect", "{\"user\":\"nobody\",\"url\":\"http://x\"}", &a);
    CHECK_STATUS(a, 404);
    el_srvh_resp_close(&a);
    CHECK(el_srvh_stop(&b) == 0);
    return 0;
}

/* --redirect URL on the command line: every user's first request is 451. */
static int case_redirect_flag(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "RFlag1"};
    struct el_srvh_resp r;
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 451);
    char loc[256] = "";
    CHECK(el_srvh_header(&r, "X-MS-Location", loc, sizeof(loc)) == 1 &&
          strcmp(loc, "http://127.0.0.1:1/Microsoft-Server-ActiveSync") == 0);
    el_srvh_resp_close(&r);
    return 0;
}

/* --mailbox-quota 1k (the generated mailbox is far over it): SendMail and MoveItems get 113,
 * Sync Adds item Status 9; lifted during the run, they work. */
static int case_quota(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Quota1"};
    if (prepare(h, &d) != 0)
        return 0;
    const char *mail = "<ComposeMail:SendMail><ComposeMail:ClientId>q-1</ComposeMail:ClientId>"
                       "<ComposeMail:Mime>To: user2@example.test\nSubject: full\n\nx\n"
                       "</ComposeMail:Mime></ComposeMail:SendMail>";
    struct el_srvh_resp r;
    char st[16];
    dev_do(h, &d, "SendMail", mail, &r);
    CHECK_STATUS(r, 200);
    CHECK(strcmp(text(&r, EL_CM_STATUS, st, sizeof(st)), "113") == 0);
    el_srvh_resp_close(&r);
    const char *move = "<Move:MoveItems><Move:Move><Move:SrcMsgId>1:1</Move:SrcMsgId>"
                       "<Move:SrcFldId>1</Move:SrcFldId><Move:DstFldId>11</Move:DstFldId>"
                       "</Move:Move></Move:MoveItems>";
    dev_do(h, &d, "MoveItems", move, &r);
    CHECK_STATUS(r, 200);
    CHECK(strcmp(text(&r, EL_MOVE_STATUS, st, sizeof(st)), "113") == 0);
    el_srvh_resp_close(&r);
    /* a contact added by Sync (Contacts = CollectionId 7) */
    char xml[1024], key[32] = "";
    sync_xml(xml, sizeof(xml), "7", "0", NULL);
    dev_do(h, &d, "Sync", xml, &r);
    el_srvh_text(&r, EL_AS_SYNCKEY, 0, key, sizeof(key));
    el_srvh_resp_close(&r);
    const char *add = "<AirSync:GetChanges>0</AirSync:GetChanges><AirSync:Commands><AirSync:Add>"
                      "<AirSync:ClientId>c-1</AirSync:ClientId><AirSync:ApplicationData>"
                      "<Contacts:FileAs>Quota, Quinn</Contacts:FileAs>"
                      "<Contacts:FirstName>Quinn</Contacts:FirstName>"
                      "</AirSync:ApplicationData></AirSync:Add></AirSync:Commands>";
    sync_xml(xml, sizeof(xml), "7", key, add);
    dev_do(h, &d, "Sync", xml, &r);
    CHECK_STATUS(r, 200);
    /* collection Status 1, the Add's Status 9 */
    char s0[16] = "", s1[16] = "";
    el_srvh_text(&r, EL_AS_STATUS, 0, s0, sizeof(s0));
    el_srvh_text(&r, EL_AS_STATUS, 1, s1, sizeof(s1));
    CHECK(strcmp(s0, "1") == 0 && strcmp(s1, "9") == 0);
    el_srvh_text(&r, EL_AS_SYNCKEY, 0, key, sizeof(key));
    el_srvh_resp_close(&r);
    /* 12.1: HTTP 507 */
    struct el_srvh_req old = EL_SRVH_REQ("SendMail", d.user, d.pass);
    old.device_id = d.id;
    old.policy_key = d.key;
    old.version = "12.1";
    old.content_type = "message/rfc822";
    old.body = "To: user2@example.test\r\nSubject: old\r\n\r\nx\r\n";
    old.body_len = strlen(old.body);
    el_srvh_do(h, &old, &r);
    CHECK_STATUS(r, 507);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(h, "throttle", "quota") == 4);
    /* the mailbox's size and quota are visible */
    struct el_srvh_resp a;
    el_srvh_admin(h, "GET", "/state?user=user1", NULL, &a);
    CHECK(a.status == 200 && a.body.len &&
          strstr((const char *)a.body.data, "\"mailbox_quota_bytes\":1024") != NULL);
    el_srvh_resp_close(&a);
    /* lifted during the run */
    admin_ok(h, "POST", "/limits", "{\"mailbox_quota\":0}");
    dev_do(h, &d, "SendMail", mail, &r);
    CHECK_STATUS(r, 200);
    CHECK(r.body.len == 0); /* SendMail success: empty 200 */
    el_srvh_resp_close(&r);
    add = "<AirSync:GetChanges>0</AirSync:GetChanges><AirSync:Commands><AirSync:Add>"
          "<AirSync:ClientId>c-2</AirSync:ClientId><AirSync:ApplicationData>"
          "<Contacts:FileAs>Quota, Quinn</Contacts:FileAs>"
          "</AirSync:ApplicationData></AirSync:Add></AirSync:Commands>";
    sync_xml(xml, sizeof(xml), "7", key, add);
    dev_do(h, &d, "Sync", xml, &r);
    el_srvh_text(&r, EL_AS_STATUS, 1, s1, sizeof(s1));
    CHECK(strcmp(s1, "1") == 0);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(h, "throttle", "quota") == 4);
    return 0;
}

/* Policy change and remote wipe (admin API) are counted like the other knobs. */
static int case_policy_wipe(struct el_srvh *h)
{
    struct dev d = {.user = "user2", .pass = "pass2", .id = "PolWipe1"};
    if (provision(h, &d) != 0)
        return 0;
    admin_ok(h, "POST", "/policy", NULL);
    struct el_srvh_resp r;
    char st[16];
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK(strcmp(text(&r, EL_FH_STATUS, st, sizeof(st)), "143") == 0);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(h, "throttle", "policy") == 1);
    CHECK(provision(h, &d) == 0);
    admin_ok(h, "POST", "/wipe", "{\"user\":\"user2\",\"device\":\"PolWipe1\"}");
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK(strcmp(text(&r, EL_FH_STATUS, st, sizeof(st)), "140") == 0);
    el_srvh_resp_close(&r);
    struct el_srvh_req rq = EL_SRVH_REQ("Provision", d.user, d.pass);
    rq.device_id = d.id;
    rq.xml = "<Provision:Provision><Provision:Policies><Provision:Policy>"
             "<Provision:PolicyType>MS-EAS-Provisioning-WBXML</Provision:PolicyType>"
             "</Provision:Policy></Provision:Policies></Provision:Provision>";
    el_srvh_do(h, &rq, &r);
    char *x = el_srvh_xml(&r);
    CHECK(x && strstr(x, "RemoteWipe"));
    free(x);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_stat(h, "throttle", "wipe") == 1);
    CHECK(el_srvh_stat(h, "throttle", "policy") == 2);
    return 0;
}

/* ---- faults ------------------------------------------------------------------------------------
 */

static long long fault_count(struct el_srvh *h, const char *kind)
{
    return el_srvh_stat(h, "faults", kind);
}

/* No --fault: nothing is injected and every counter stays 0. */
static int case_off_by_default(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Plain1"};
    if (prepare(h, &d) != 0)
        return 0;
    static const char *const kinds[] = {"latency", "http500", "http503",  "http507",
                                        "drop",    "cut",     "truncate", "malformed",
                                        "trickle", "vanish",  "resetkey", "vanished_items"};
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        CHECK(fault_count(h, kinds[i]) == 0);
    static const char *const knobs[] = {"concurrency", "budget", "redirect", "max_devices",
                                        "quota",       "policy", "wipe"};
    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
        CHECK(el_srvh_stat(h, "throttle", knobs[i]) == 0);
    struct el_srvh_resp a;
    el_srvh_admin(h, "GET", "/faults", NULL, &a);
    CHECK(a.status == 200 && a.body.len == 13 && memcmp(a.body.data, "{\"faults\":[]}", 13) == 0);
    el_srvh_resp_close(&a);
    el_srvh_admin(h, "GET", "/limits", NULL, &a);
    CHECK(a.status == 200 && strstr((const char *)a.body.data, "\"max_devices_per_user\":10"));
    el_srvh_resp_close(&a);
    return 0;
}

static int case_latency(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Lat1"};
    if (provision(h, &d) != 0)
        return 0;
    struct el_srvh_resp r;
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    char st[16];
    CHECK(strcmp(text(&r, EL_FH_STATUS, st, sizeof(st)), "1") == 0);
    el_srvh_resp_close(&r);
    CHECK(fault_count(h, "latency") == 1);
    return 0;
}

static int case_http_errors(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Err1"};
    if (provision(h, &d) != 0)
        return 0;
    struct el_srvh_resp r;
    char v[64];
    /* foldersync:http500@every2: the 2nd and 4th */
    for (int i = 1; i <= 4; i++) {
        dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
        CHECK_STATUS(r, i % 2 ? 200 : 500);
        el_srvh_resp_close(&r);
    }
    /* settings:http503=7 */
    const char *settings = "<Settings:Settings><Settings:UserInformation><Settings:Get/>"
                           "</Settings:UserInformation></Settings:Settings>";
    dev_do(h, &d, "Settings", settings, &r);
    CHECK_STATUS(r, 503);
    CHECK(el_srvh_header(&r, "Retry-After", v, sizeof(v)) == 1 && strcmp(v, "7") == 0);
    CHECK(el_srvh_header(&r, "X-Easload-Fault", v, sizeof(v)) == 1 && strcmp(v, "http503") == 0);
    el_srvh_resp_close(&r);
    /* sendmail:http507 */
    dev_do(h, &d, "SendMail",
           "<ComposeMail:SendMail><ComposeMail:ClientId>e-1</ComposeMail:ClientId>"
           "<ComposeMail:Mime>To: user2@example.test\nSubject: x\n\nx\n</ComposeMail:Mime>"
           "</ComposeMail:SendMail>",
           &r);
    CHECK_STATUS(r, 507);
    el_srvh_resp_close(&r);
    CHECK(fault_count(h, "http500") == 2);
    CHECK(fault_count(h, "http503") == 1);
    CHECK(fault_count(h, "http507") == 1);
    /* the http500 entry saw 4 FolderSyncs and fired twice */
    struct el_srvh_resp a;
    el_srvh_admin(h, "GET", "/faults", NULL, &a);
    CHECK(a.status == 200 &&
          strstr((const char *)a.body.data,
                 "{\"spec\":\"foldersync:http500@every2\",\"matched\":4,\"fired\":2}"));
    el_srvh_resp_close(&a);
    return 0;
}

/* foldersync:drop@every2: no answer, the connection closed; a new connection works. */
static int case_drop(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Drop1"};
    if (provision(h, &d) != 0)
        return 0;
    CURL *c = curl_easy_init();
    struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", d.user, d.pass);
    rq.device_id = d.id;
    rq.policy_key = d.key;
    rq.xml = FOLDERSYNC0;
    rq.curl = c;
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 200);
    el_srvh_resp_close(&r);
    /* on a fresh connection (curl silently retries a request whose reused connection died) */
    rq.curl = NULL;
    CHECK(el_srvh_do(h, &rq, &r) == -1);
    CHECK(r.status == 0 && r.curl_rc == CURLE_GOT_NOTHING);
    el_srvh_resp_close(&r);
    rq.curl = c;
    CHECK(fault_count(h, "drop") == 1);
    /* a new connection works; the next FolderSync (3rd) is not dropped */
    el_srvh_do(h, &rq, &r);
    CHECK_STATUS(r, 200);
    char st[16];
    CHECK(strcmp(text(&r, EL_FH_STATUS, st, sizeof(st)), "1") == 0);
    el_srvh_resp_close(&r);
    curl_easy_cleanup(c);
    CHECK(el_srvh_wait_stat(h, "http", "connections_open", 0) == 0);
    return 0;
}

/* foldersync:cut: headers and half the body, then the connection closes. */
static int case_cut(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Cut1"};
    if (provision(h, &d) != 0)
        return 0;
    struct el_srvh_resp r;
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK(r.curl_rc == CURLE_PARTIAL_FILE);
    CHECK(r.status == 200); /* the status line came */
    el_srvh_resp_close(&r);
    CHECK(fault_count(h, "cut") == 1);
    /* cleared during the run: a new connection gets the whole answer */
    admin_ok(h, "POST", "/faults", "{\"clear\":true}");
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    char *x = el_srvh_xml(&r);
    CHECK(x != NULL);
    free(x);
    el_srvh_resp_close(&r);
    CHECK(el_srvh_wait_stat(h, "http", "connections_open", 0) == 0);
    return 0;
}

/* foldersync:truncate and foldersync:malformed (added by the admin API): complete HTTP answers
 * whose WBXML does not decode. */
static int case_body_faults(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Body1"};
    if (provision(h, &d) != 0)
        return 0;
    struct el_srvh_resp r;
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    size_t full = r.body.len;
    el_srvh_resp_close(&r);
    admin_ok(h, "POST", "/faults", "{\"add\":\"foldersync:truncate\"}");
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    CHECK(r.curl_rc == CURLE_OK);
    CHECK(r.body.len == full / 2);
    char v[32];
    CHECK(el_srvh_header(&r, "X-Easload-Fault", v, sizeof(v)) == 1 && strcmp(v, "truncate") == 0);
    char *x = el_srvh_xml(&r);
    CHECK(x == NULL);
    free(x);
    el_srvh_resp_close(&r);
    admin_ok(h, "POST", "/faults", "{\"clear\":true,\"add\":[\"foldersync:malformed\"]}");
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    CHECK_STATUS(r, 200);
    CHECK(r.body.len == full && r.body.data[0] != 0x03);
    x = el_srvh_xml(&r);
    CHECK(x == NULL);
    free(x);
    el_srvh_resp_close(&r);
    CHECK(fault_count(h, "truncate") == 1);
    CHECK(fault_count(h, "malformed") == 1);
    /* a bad SPEC changes nothing */
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/faults", "{\"clear\":true,\"add\":[\"sync:nope\"]}", &a);
    CHECK_STATUS(a, 400);
    CHECK(strstr((const char *)a.body.data, "unknown action 'nope'") != NULL);
    el_srvh_resp_close(&a);
    el_srvh_admin(h, "GET", "/faults", NULL, &a);
    CHECK(strstr((const char *)a.body.data, "foldersync:malformed") != NULL);
    el_srvh_resp_close(&a);
    return 0;
}

/* sync:trickle=30ms: the answer arrives whole, in chunks. */
static int case_trickle(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Trickle1"};
    if (prepare(h, &d) != 0)
        return 0;
    CHECK(fault_count(h, "trickle") >= 1);
    /* the Inbox was fetched through trickled answers and decoded every time (prepare) */
    struct el_srvh_resp a;
    el_srvh_admin(h, "GET", "/state?user=user1&device=Trickle1", NULL, &a);
    CHECK(a.status == 200 && strstr((const char *)a.body.data, "\"items\":") != NULL);
    el_srvh_resp_close(&a);
    return 0;
}

/* sync:vanish=3 added during the run: the next Sync of the Inbox reports 3 Deletes. */
static int case_vanish(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Vanish1"};
    if (prepare(h, &d) != 0)
        return 0;
    admin_ok(h, "POST", "/faults", "{\"add\":\"sync:vanish=3\"}");
    char xml[1024];
    sync_xml(xml, sizeof(xml), "1", d.inbox_key, NULL);
    struct el_srvh_resp r;
    dev_do(h, &d, "Sync", xml, &r);
    CHECK_STATUS(r, 200);
    char *x = el_srvh_xml(&r);
    int deletes = 0;
    for (const char *p = x; p && (p = strstr(p, "<AirSync:Delete>")) != NULL; p++)
        deletes++;
    CHECK(deletes == 3);
    free(x);
    el_srvh_resp_close(&r);
    CHECK(fault_count(h, "vanish") == 1);
    CHECK(fault_count(h, "vanished_items") == 3);
    CHECK(el_srvh_stat(h, "eas", "items") == 187 - 3);
    return 0;
}

/* sync:resetkey and foldersync:resetkey: status 3 and 9; from key 0 everything works again. */
static int case_resetkey(struct el_srvh *h)
{
    struct dev d = {.user = "user1", .pass = "pass1", .id = "Reset1"};
    if (prepare(h, &d) != 0)
        return 0;
    admin_ok(h, "POST", "/faults", "{\"add\":[\"sync:resetkey@every1\",\"foldersync:resetkey\"]}");
    char xml[1024], st[16];
    sync_xml(xml, sizeof(xml), "1", d.inbox_key, NULL);
    struct el_srvh_resp r;
    dev_do(h, &d, "Sync", xml, &r);
    CHECK_STATUS(r, 200);
    CHECK(strcmp(text(&r, EL_AS_STATUS, st, sizeof(st)), "3") == 0);
    el_srvh_resp_close(&r);
    /* a FolderSync with a current key: 9 */
    dev_do(h, &d, "FolderSync", FOLDERSYNC0, &r);
    char hkey[32] = "";
    el_srvh_text(&r, EL_FH_SYNCKEY, 0, hkey, sizeof(hkey));
    el_srvh_resp_close(&r);
    admin_ok(h, "POST", "/faults", "{\"clear\":true,\"add\":\"foldersync:resetkey\"}");
    char fx[256];
    snprintf(fx, sizeof(fx),
             "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>%s</FolderHierarchy:SyncKey>"
             "</FolderHierarchy:FolderSync>",
             hkey);
    dev_do(h, &d, "FolderSync", fx, &r);
    CHECK(strcmp(text(&r, EL_FH_STATUS, st, sizeof(st)), "9") == 0);
    el_srvh_resp_close(&r);
    /* the old key is gone for good, key 0 starts over */
    admin_ok(h, "POST", "/faults", "{\"clear\":true}");
    dev_do(h, &d, "Sync", xml, &r);
    CHECK(strcmp(text(&r, EL_AS_STATUS, st, sizeof(st)), "3") == 0);
    el_srvh_resp_close(&r);
    sync_xml(xml, sizeof(xml), "1", "0", NULL);
    dev_do(h, &d, "Sync", xml, &r);
    CHECK(strcmp(text(&r, EL_AS_STATUS, st, sizeof(st)), "1") == 0);
    el_srvh_resp_close(&r);
    CHECK(fault_count(h, "resetkey") == 2);
    return 0;
}

/* ---- table -------------------------------------------------------------------------------------
 */

static const char *const conc_args[] = {"--max-concurrency-per-user", "1", NULL};
static const char *const budget_args[] = {"--budget-per-user", "3/2s", NULL};
static const char *const redirect_args[] = {"--redirect", "http://127.0.0.1:1", NULL};
static const char *const quota_args[] = {"--mailbox-quota", "1k", NULL};
static const char *const latency_args[] = {"--fault", "foldersync:latency=300ms", NULL};
static const char *const errors_args[] = {"--fault",
                                          "foldersync:http500@every2",
                                          "--fault",
                                          "settings:http503=7",
                                          "--fault=sendmail:http507",
                                          NULL};
static const char *const drop_args[] = {"--fault", "foldersync:drop@every2", "--seed", "3", NULL};
static const char *const cut_args[] = {"--fault", "foldersync:cut", NULL};
static const char *const trickle_args[] = {"--fault", "sync:trickle=30ms", NULL};

static const struct el_srvh_case cases[] = {
    {"max_devices", case_max_devices, {0}},
    {"concurrency", case_concurrency, {.args = conc_args, .workers = 1}},
    {"budget", case_budget, {.args = budget_args}},
    {"redirect", case_redirect, {0}},
    {"redirect_flag", case_redirect_flag, {.args = redirect_args}},
    {"quota", case_quota, {.args = quota_args}},
    {"policy_wipe", case_policy_wipe, {0}},
    {"off_by_default", case_off_by_default, {0}},
    {"latency", case_latency, {.args = latency_args}},
    {"http_errors", case_http_errors, {.args = errors_args}},
    {"drop", case_drop, {.args = drop_args}},
    {"cut", case_cut, {.args = cut_args}},
    {"body_faults", case_body_faults, {0}},
    {"trickle", case_trickle, {.args = trickle_args}},
    {"vanish", case_vanish, {0}},
    {"resetkey", case_resetkey, {0}},
};

int main(int argc, char **argv)
{
    return el_srvh_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]), &failures);
}
