/* test_srv_commands.c - end-to-end tests of the EAS commands of `easload serve` over loopback
 * HTTP: provisioning and policy-key enforcement (142/144/143 in the body for 14.1, 449 for
 * 12.1), the remote-wipe flow, initial and incremental Sync with key reuse and invalidation,
 * SendMail into another user's Inbox waking their Ping, Search and ItemOperations, malformed
 * WBXML. One binary, one case per ctest entry: `test_srv_commands CASE`. No case asserts a time.
 * Uses: srv_harness.h (starts the real binary, speaks HTTP with libcurl). */
#include "srv_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* A device of a user, with its policy key. */
struct dev {
    const char *user, *pass, *id, *version;
    char key[16];
};

/* Sends cmd with an XML body as d; r must be closed by the caller. */
static void send_xml(struct el_srvh *h, const struct dev *d, const char *cmd, const char *xml,
                     struct el_srvh_resp *r)
{
    struct el_srvh_req rq = EL_SRVH_REQ(cmd, d->user, d->pass);
    rq.device_id = d->id;
    rq.version = d->version;
    rq.policy_key = d->key[0] ? d->key : NULL;
    rq.xml = xml;
    if (el_srvh_do(h, &rq, r) != 0)
        failures++;
}

/* Text of the nth element tag of the last response ("" if absent). */
static const char *text(const struct el_srvh_resp *r, uint16_t tag, int nth, char *buf, size_t cap)
{
    buf[0] = 0;
    el_srvh_text(r, tag, nth, buf, cap);
    return buf;
}

static const char foldersync0[] =
    "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>0</FolderHierarchy:SyncKey>"
    "</FolderHierarchy:FolderSync>";

/* FolderSync 0 and its Status. */
static int foldersync_status(struct el_srvh *h, const struct dev *d, long *http)
{
    struct el_srvh_resp r;
    send_xml(h, d, "FolderSync", foldersync0, &r);
    char st[16];
    *http = r.status;
    int s = atoi(text(&r, EL_FH_STATUS, 0, st, sizeof(st)));
    el_srvh_resp_close(&r);
    return s;
}

static void provision(struct el_srvh *h, struct dev *d)
{
    CHECK(el_srvh_provision(h, d->user, d->pass, d->id, d->version, d->key, sizeof(d->key)) == 0);
}

/* One Sync of one collection; new key into key_out; returns the number of Adds (-1 on error)
 * and the collection Status in *status. */
static int sync_once(struct el_srvh *h, const struct dev *d, const char *folder, const char *key,
                     char *key_out, int *status, int *more)
{
    char xml[1024];
    snprintf(xml, sizeof(xml),
             "<AirSync:Sync><AirSync:Collections><AirSync:Collection>"
             "<AirSync:SyncKey>%s</AirSync:SyncKey><AirSync:CollectionId>%s</AirSync:CollectionId>"
             "%s</AirSync:Collection></AirSync:Collections></AirSync:Sync>",
             key, folder, strcmp(key, "0") ? "<AirSync:WindowSize>100</AirSync:WindowSize>" : "");
    struct el_srvh_resp r;
    send_xml(h, d, "Sync", xml, &r);
    CHECK(r.status == 200);
    char st[16], k[64];
    *status = atoi(text(&r, EL_AS_STATUS, 0, st, sizeof(st)));
    if (key_out)
        snprintf(key_out, 64, "%s", text(&r, EL_AS_SYNCKEY, 0, k, sizeof(k)));
    char *x = el_srvh_xml(&r);
    int adds = 0;
    for (const char *p = x; p && (p = strstr(p, "<AirSync:Add>")) != NULL; p++)
        adds++;
    if (more)
        *more = x && strstr(x, "MoreAvailable") != NULL;
    free(x);
    el_srvh_resp_close(&r);
    return adds;
}

/* ---- cases --------------------------------------------------------------------------------- */

static int case_provision(struct el_srvh *h)
{
    long http;
    struct dev d = {.user = "user1", .pass = "pass1", .id = "ProvE2E1", .version = "14.1"};
    CHECK(foldersync_status(h, &d, &http) == 142);
    CHECK(http == 200);
    snprintf(d.key, sizeof(d.key), "%s", "4242");
    CHECK(foldersync_status(h, &d, &http) == 144);
    d.key[0] = 0;
    provision(h, &d);
    CHECK(foldersync_status(h, &d, &http) == 1);
    /* 12.1: HTTP 449 */
    struct dev old = {.user = "user2", .pass = "pass2", .id = "ProvE2E2", .version = "12.1"};
    foldersync_status(h, &old, &http);
    CHECK(http == 449);
    provision(h, &old);
    CHECK(foldersync_status(h, &old, &http) == 1 && http == 200);
    /* a policy change: 143 for 14.1, 449 for 12.1, until reprovisioned */
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/policy", "{}", &a);
    CHECK(a.status == 200);
    el_srvh_resp_close(&a);
    CHECK(foldersync_status(h, &d, &http) == 143);
    foldersync_status(h, &old, &http);
    CHECK(http == 449);
    provision(h, &d);
    CHECK(foldersync_status(h, &d, &http) == 1);
    return 0;
}

static int case_wipe(struct el_srvh *h)
{
    long http;
    struct dev d = {.user = "user3", .pass = "pass3", .id = "WipeE2E1", .version = "14.1"};
    provision(h, &d);
    CHECK(foldersync_status(h, &d, &http) == 1);
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/wipe", "{\"user\":\"user3\",\"device\":\"WipeE2E1\"}", &a);
    CHECK(a.status == 200);
    el_srvh_resp_close(&a);
    CHECK(foldersync_status(h, &d, &http) == 140);
    struct el_srvh_resp r;
    send_xml(h, &d, "Provision", "<Provision:Provision/>", &r);
    char *x = el_srvh_xml(&r);
    CHECK(x && strstr(x, "RemoteWipe") != NULL);
    free(x);
    el_srvh_resp_close(&r);
    send_xml(h, &d, "Provision",
             "<Provision:Provision><Provision:RemoteWipe><Provision:Status>1</Provision:Status>"
             "</Provision:RemoteWipe></Provision:Provision>",
             &r);
    char st[16];
    CHECK(strcmp(text(&r, EL_PROV_STATUS, 0, st, sizeof(st)), "1") == 0);
    el_srvh_resp_close(&r);
    /* the partnership is gone */
    el_srvh_admin(h, "GET", "/state?user=user3&device=WipeE2E1", NULL, &a);
    CHECK(a.status == 404);
    el_srvh_resp_close(&a);
    CHECK(foldersync_status(h, &d, &http) == 144);
    return 0;
}

static int case_sync(struct el_srvh *h)
{
    long http;
    struct dev d = {.user = "user1", .pass = "pass1", .id = "SyncE2E1", .version = "14.1"};
    provision(h, &d);
    CHECK(foldersync_status(h, &d, &http) == 1);
    char k1[64], k2[64], k3[64];
    int st, more;
    CHECK(sync_once(h, &d, "1", "0", k1, &st, NULL) == 0 && st == 1);
    int total = 0;
    char cur[64];
    snprintf(cur, sizeof(cur), "%s", k1);
    do {
        total += sync_once(h, &d, "1", cur, k2, &st, &more);
        CHECK(st == 1);
        snprintf(cur, sizeof(cur), "%s", k2);
    } while (more && st == 1);
    CHECK(total > 0);
    /* nothing new, then one delivered mail */
    CHECK(sync_once(h, &d, "1", cur, k2, &st, NULL) == 0);
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/deliver", "{\"user\":\"user1\",\"subject\":\"e2e\",\"bytes\":500}",
                  &a);
    CHECK(a.status == 200);
    el_srvh_resp_close(&a);
    CHECK(sync_once(h, &d, "1", k2, k3, &st, NULL) == 1 && st == 1);
    /* retry with the previous key once: the same mail again */
    CHECK(sync_once(h, &d, "1", k2, cur, &st, NULL) == 1 && st == 1);
    /* k3 was replaced, k2 used up */
    sync_once(h, &d, "1", k3, NULL, &st, NULL);
    CHECK(st == 3);
    sync_once(h, &d, "1", k2, NULL, &st, NULL);
    CHECK(st == 3);
    CHECK(sync_once(h, &d, "1", cur, NULL, &st, NULL) == 0 && st == 1);
    return 0;
}

static int case_sendmail_ping(struct el_srvh *h)
{
    long http;
    struct dev rcpt = {.user = "user2", .pass = "pass2", .id = "MailE2E2", .version = "14.1"};
    struct dev sender = {.user = "user1", .pass = "pass1", .id = "MailE2E1", .version = "14.1"};
    provision(h, &rcpt);
    provision(h, &sender);
    CHECK(foldersync_status(h, &rcpt, &http) == 1);
    char k[64], k2[64];
    int st, more = 1;
    sync_once(h, &rcpt, "1", "0", k, &st, NULL);
    while (more && st == 1) {
        sync_once(h, &rcpt, "1", k, k2, &st, &more);
        snprintf(k, sizeof(k), "%s", k2);
    }
    struct el_srvh_req rq = EL_SRVH_REQ("Ping", rcpt.user, rcpt.pass);
    rq.device_id = rcpt.id;
    rq.policy_key = rcpt.key;
    rq.xml = "<Ping:Ping><Ping:HeartbeatInterval>900</Ping:HeartbeatInterval><Ping:Folders>"
             "<Ping:Folder><Ping:Id>1</Ping:Id><Ping:Class>Email</Ping:Class></Ping:Folder>"
             "</Ping:Folders></Ping:Ping>";
    struct el_srvh_call call;
    CHECK(el_srvh_call_start(&call, h, &rq) == 0);
    CHECK(el_srvh_wait_stat(h, "http", "holds_open", 1) == 0);
    struct el_srvh_resp r;
    send_xml(h, &sender, "SendMail",
             "<ComposeMail:SendMail><ComposeMail:ClientId>e2e-1</ComposeMail:ClientId>"
             "<ComposeMail:SaveInSentItems/><ComposeMail:Mime>To: user2@example.test\n"
             "Subject: Quarterly zebra numbers\n\nSee you.\n</ComposeMail:Mime>"
             "</ComposeMail:SendMail>",
             &r);
    CHECK(r.status == 200 && r.body.len == 0);
    el_srvh_resp_close(&r);
    el_srvh_call_join(&call);
    char buf[64];
    CHECK(call.resp.status == 200);
    CHECK(strcmp(text(&call.resp, EL_PING_STATUS, 0, buf, sizeof(buf)), "2") == 0);
    CHECK(strcmp(text(&call.resp, EL_PING_FOLDER, 0, buf, sizeof(buf)), "1") == 0);
    el_srvh_resp_close(&call.resp);
    CHECK(sync_once(h, &rcpt, "1", k, NULL, &st, NULL) == 1 && st == 1);
    /* the same ClientId again: 118 */
    send_xml(h, &sender, "SendMail",
             "<ComposeMail:SendMail><ComposeMail:ClientId>e2e-1</ComposeMail:ClientId>"
             "<ComposeMail:Mime>To: user2@example.test\nSubject: again\n\nx\n</ComposeMail:Mime>"
             "</ComposeMail:SendMail>",
             &r);
    CHECK(strcmp(text(&r, EL_CM_STATUS, 0, buf, sizeof(buf)), "118") == 0);
    el_srvh_resp_close(&r);
    return 0;
}

static int case_search_fetch(struct el_srvh *h)
{
    struct dev d = {.user = "user4", .pass = "pass4", .id = "SearchE2E", .version = "14.1"};
    provision(h, &d);
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/deliver", "{\"user\":\"user4\",\"subject\":\"Okapi report\"}", &a);
    el_srvh_resp_close(&a);
    struct el_srvh_resp r;
    send_xml(h, &d, "Search",
             "<Search:Search><Search:Store><Search:Name>Mailbox</Search:Name><Search:Query>"
             "<Search:And><AirSync:Class>Email</AirSync:Class><Search:FreeText>okapi"
             "</Search:FreeText></Search:And></Search:Query><Search:Options><Search:Range>0-9"
             "</Search:Range></Search:Options></Search:Store></Search:Search>",
             &r);
    char buf[128], lid[64];
    CHECK(strcmp(text(&r, EL_SEARCH_TOTAL, 0, buf, sizeof(buf)), "1") == 0);
    CHECK(strcmp(text(&r, EL_EMAIL_SUBJECT, 0, buf, sizeof(buf)), "Okapi report") == 0);
    text(&r, EL_SEARCH_LONGID, 0, lid, sizeof(lid));
    el_srvh_resp_close(&r);
    char xml[512];
    snprintf(xml, sizeof(xml),
             "<ItemOperations:ItemOperations><ItemOperations:Fetch><ItemOperations:Store>Mailbox"
             "</ItemOperations:Store><Search:LongId>%s</Search:LongId></ItemOperations:Fetch>"
             "</ItemOperations:ItemOperations>",
             lid);
    send_xml(h, &d, "ItemOperations", xml, &r);
    CHECK(strcmp(text(&r, EL_IO_STATUS, 1, buf, sizeof(buf)), "1") == 0);
    CHECK(strcmp(text(&r, EL_EMAIL_SUBJECT, 0, buf, sizeof(buf)), "Okapi report") == 0);
    el_srvh_resp_close(&r);
    send_xml(h, &d, "Search",
             "<Search:Search><Search:Store><Search:Name>GAL</Search:Name><Search:Query>user5"
             "</Search:Query></Search:Store></Search:Search>",
             &r);
    CHECK(strcmp(text(&r, EL_GAL_EMAILADDRESS, 0, buf, sizeof(buf)), "user5@example.test") == 0);
    el_srvh_resp_close(&r);
    return 0;
}

static int case_sync_hold(struct el_srvh *h)
{
    long http;
    struct dev d = {.user = "user5", .pass = "pass5", .id = "HoldE2E1", .version = "14.1"};
    provision(h, &d);
    CHECK(foldersync_status(h, &d, &http) == 1);
    char k[64], k2[64];
    int st, more = 1;
    sync_once(h, &d, "1", "0", k, &st, NULL);
    while (more && st == 1) {
        sync_once(h, &d, "1", k, k2, &st, &more);
        snprintf(k, sizeof(k), "%s", k2);
    }
    char xml[512];
    snprintf(xml, sizeof(xml),
             "<AirSync:Sync><AirSync:Collections><AirSync:Collection>"
             "<AirSync:SyncKey>%s</AirSync:SyncKey><AirSync:CollectionId>1</AirSync:CollectionId>"
             "</AirSync:Collection></AirSync:Collections>"
             "<AirSync:HeartbeatInterval>600</AirSync:HeartbeatInterval></AirSync:Sync>",
             k);
    struct el_srvh_req rq = EL_SRVH_REQ("Sync", d.user, d.pass);
    rq.device_id = d.id;
    rq.policy_key = d.key;
    rq.xml = xml;
    struct el_srvh_call call;
    CHECK(el_srvh_call_start(&call, h, &rq) == 0);
    CHECK(el_srvh_wait_stat(h, "http", "holds_open", 1) == 0);
    struct el_srvh_resp a;
    el_srvh_admin(h, "POST", "/deliver", "{\"user\":\"user5\",\"subject\":\"held\"}", &a);
    CHECK(a.status == 200);
    el_srvh_resp_close(&a);
    el_srvh_call_join(&call);
    CHECK(call.resp.status == 200);
    char buf[64];
    CHECK(strcmp(text(&call.resp, EL_AS_STATUS, 0, buf, sizeof(buf)), "1") == 0);
    CHECK(strcmp(text(&call.resp, EL_EMAIL_SUBJECT, 0, buf, sizeof(buf)), "held") == 0);
    el_srvh_resp_close(&call.resp);
    return 0;
}

static int case_folders(struct el_srvh *h)
{
    struct dev a = {.user = "user2", .pass = "pass2", .id = "FoldE2EA", .version = "14.1"};
    struct dev b = {.user = "user2", .pass = "pass2", .id = "FoldE2EB", .version = "16.1"};
    provision(h, &a);
    provision(h, &b);
    char ka[64], kb[64], buf[64], xml[512];
    struct el_srvh_resp r;
    send_xml(h, &a, "FolderSync", foldersync0, &r);
    text(&r, EL_FH_SYNCKEY, 0, ka, sizeof(ka));
    el_srvh_resp_close(&r);
    send_xml(h, &b, "FolderSync", foldersync0, &r);
    text(&r, EL_FH_SYNCKEY, 0, kb, sizeof(kb));
    el_srvh_resp_close(&r);
    snprintf(xml, sizeof(xml),
             "<FolderHierarchy:FolderCreate><FolderHierarchy:SyncKey>%s</FolderHierarchy:SyncKey>"
             "<FolderHierarchy:ParentId>0</FolderHierarchy:ParentId><FolderHierarchy:DisplayName>"
             "Travel</FolderHierarchy:DisplayName><FolderHierarchy:Type>12</FolderHierarchy:Type>"
             "</FolderHierarchy:FolderCreate>",
             ka);
    send_xml(h, &a, "FolderCreate", xml, &r);
    CHECK(r.status == 200);
    CHECK(strcmp(text(&r, EL_FH_STATUS, 0, buf, sizeof(buf)), "1") == 0);
    char sid[16];
    text(&r, EL_FH_SERVERID, 0, sid, sizeof(sid));
    CHECK(sid[0] != 0);
    el_srvh_resp_close(&r);
    snprintf(xml, sizeof(xml),
             "<FolderHierarchy:FolderSync><FolderHierarchy:SyncKey>%s</FolderHierarchy:SyncKey>"
             "</FolderHierarchy:FolderSync>",
             kb);
    send_xml(h, &b, "FolderSync", xml, &r);
    CHECK(strcmp(text(&r, EL_FH_COUNT, 0, buf, sizeof(buf)), "1") == 0);
    CHECK(strcmp(text(&r, EL_FH_SERVERID, 0, buf, sizeof(buf)), sid) == 0);
    CHECK(strcmp(text(&r, EL_FH_DISPLAYNAME, 0, buf, sizeof(buf)), "Travel") == 0);
    el_srvh_resp_close(&r);
    return 0;
}

static int case_malformed(struct el_srvh *h)
{
    struct dev d = {.user = "user5", .pass = "pass5", .id = "BadE2E1", .version = "14.1"};
    provision(h, &d);
    static const uint8_t bad[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30};
    struct el_srvh_req rq = EL_SRVH_REQ("FolderSync", d.user, d.pass);
    rq.device_id = d.id;
    rq.policy_key = d.key;
    rq.body = bad;
    rq.body_len = sizeof(bad);
    struct el_srvh_resp r;
    el_srvh_do(h, &rq, &r);
    char buf[16];
    CHECK(r.status == 200);
    CHECK(strcmp(text(&r, EL_FH_STATUS, 0, buf, sizeof(buf)), "102") == 0);
    el_srvh_resp_close(&r);
    rq.version = "12.1";
    el_srvh_do(h, &rq, &r);
    CHECK(r.status == 400);
    el_srvh_resp_close(&r);
    /* the HTTP side logs the EAS side's reason with the device id */
    char *log = el_srvh_log(h);
    CHECK(log && strstr(log, "BadE2E1") != NULL && strstr(log, "malformed WBXML") != NULL);
    free(log);
    return 0;
}

static const struct el_srvh_case cases[] = {
    {"provision", case_provision, {0}},
    {"wipe", case_wipe, {0}},
    {"sync", case_sync, {0}},
    {"sendmail_ping", case_sendmail_ping, {0}},
    {"search_fetch", case_search_fetch, {0}},
    {"malformed", case_malformed, {0}},
    {"sync_hold", case_sync_hold, {0}},
    {"folders", case_folders, {0}},
};

int main(int argc, char **argv)
{
    return el_srvh_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]), &failures);
}
