/* fuzz_srv_request.c - libFuzzer target: the reference server's request path without sockets:
 * query parsing (plain and base64 forms), the header-value parsers, then el_srv_handle() on a
 * fresh server state with arbitrary bodies, and el_srv_finish_hold() for long polls.
 * Input: if it starts with 03 (a WBXML header) it is a body, sent as the command its root
 * element names (so the WBXML fixtures seed every handler) by a provisioned device; otherwise
 * bytes up to the first 00 are the query string and the rest is the body.
 * Checks, beyond "no crash, no sanitizer report, no leak": the response status is an HTTP status,
 * a parked request always has a watch, and every WBXML body the server emits decodes.
 * Owns: one server state per input. Uses: server/srv_http_int.h (parsers), server/srv.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_http_int.h"
#include "wbxml.h"

#define DEVICE "FuzzDev1"

static void require(int ok, const char *what)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_srv_request: property violated: %s\n", what);
    abort();
}

/* Root element -> command, so a body reaches the handler that parses it. */
static const struct {
    uint16_t root;
    int cmd;
} roots[] = {
    {EL_AS_SYNC, EL_SRV_SYNC},
    {EL_FH_FOLDERSYNC, EL_SRV_FOLDERSYNC},
    {EL_FH_FOLDERCREATE, EL_SRV_FOLDERCREATE},
    {EL_FH_FOLDERDELETE, EL_SRV_FOLDERDELETE},
    {EL_FH_FOLDERUPDATE, EL_SRV_FOLDERUPDATE},
    {EL_PING_PING, EL_SRV_PING},
    {EL_PROV_PROVISION, EL_SRV_PROVISION},
    {EL_SEARCH_SEARCH, EL_SRV_SEARCH},
    {EL_IO_ITEMOPERATIONS, EL_SRV_ITEMOPERATIONS},
    {EL_GIE_GETITEMESTIMATE, EL_SRV_GETITEMESTIMATE},
    {EL_MOVE_MOVEITEMS, EL_SRV_MOVEITEMS},
    {EL_SET_SETTINGS, EL_SRV_SETTINGS},
    {EL_CM_SENDMAIL, EL_SRV_SENDMAIL},
    {EL_CM_SMARTREPLY, EL_SRV_SMARTREPLY},
    {EL_CM_SMARTFORWARD, EL_SRV_SMARTFORWARD},
    {EL_MR_MEETINGRESPONSE, EL_SRV_MEETINGRESPONSE},
    {EL_RR_RESOLVERECIPIENTS, EL_SRV_RESOLVERECIPIENTS},
    {EL_VC_VALIDATECERT, EL_SRV_VALIDATECERT},
    {EL_FIND_FIND, EL_SRV_FIND},
};

static int root_cmd(const uint8_t *data, size_t size)
{
    struct el_wbxml_decoder d;
    struct el_wbxml_ev ev;
    if (el_wbxml_decoder_init(&d, data, size, 0, NULL) != 0 || el_wbxml_next(&d, &ev, NULL) != 1)
        return (int)(size % EL_SRV_CMD_MAX);
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
        if (roots[i].root == ev.tag)
            return roots[i].cmd;
    return (int)(size % EL_SRV_CMD_MAX);
}

/* Checks and releases one response; ends a hold the way `how` says. */
static void finish(struct el_srv_state *st, struct el_srv_response *rs, unsigned how)
{
    require(rs->http_status >= 100 && rs->http_status <= 599, "HTTP status out of range");
    if (rs->hold_seconds > 0) {
        require(rs->watch != NULL, "hold without a watch");
        el_buf_reset(rs->body);
        if (how % 3 == 2)
            el_srv_watch_cancel(st, rs->watch);
        el_srv_finish_hold(st, rs->watch, how % 3 != 0, rs);
    }
    if (rs->body->len > 0 && rs->content_type == NULL) {
        struct el_buf xml;
        el_buf_init(&xml, 64u << 20);
        struct el_err err;
        int rc = el_wbxml_to_xml(rs->body->data, rs->body->len, 0, &xml, &err);
        if (rc != 0)
            fprintf(stderr, "response body: %s\n", err.msg);
        require(rc == 0, "the server emitted WBXML our decoder rejects");
        el_buf_close(&xml);
    }
}

static int handle(struct el_srv_state *st, struct el_srv_request *rq, struct el_buf *body,
                  struct el_srv_response *rs)
{
    memset(rs, 0, sizeof(*rs));
    rs->http_status = 200;
    el_buf_reset(body);
    rs->body = body;
    rq->now_ms = 1700000000000ull;
    return el_srv_handle(st, rq, rs);
}

/* Two-phase Provision of DEVICE for user1; returns the key or 0. */
static uint32_t provision(struct el_srv_state *st, const struct el_srv_user *u, struct el_buf *body)
{
    static const char p1[] =
        "<Provision:Provision><Provision:Policies><Provision:Policy>"
        "<Provision:PolicyType>MS-EAS-Provisioning-WBXML</Provision:PolicyType>"
        "</Provision:Policy></Provision:Policies></Provision:Provision>";
    char p2[512];
    struct el_buf req;
    el_buf_init(&req, 1 << 16);
    struct el_srv_request rq;
    memset(&rq, 0, sizeof(rq));
    rq.cmd = EL_SRV_PROVISION;
    rq.user = u;
    rq.device_id = DEVICE;
    rq.device_type = "SmartPhone";
    rq.version = 141;
    uint32_t key = 0;
    struct el_srv_response rs;
    char tmp[32] = "";
    for (int phase = 0; phase < 2; phase++) {
        el_buf_reset(&req);
        if (phase == 1)
            snprintf(p2, sizeof(p2),
                     "<Provision:Provision><Provision:Policies><Provision:Policy>"
                     "<Provision:PolicyType>MS-EAS-Provisioning-WBXML</Provision:PolicyType>"
                     "<Provision:PolicyKey>%s</Provision:PolicyKey>"
                     "<Provision:Status>1</Provision:Status>"
                     "</Provision:Policy></Provision:Policies></Provision:Provision>",
                     tmp);
        const char *x = phase ? p2 : p1;
        if (el_wbxml_from_xml(x, strlen(x), &req, NULL) != 0)
            break;
        rq.body = req.data;
        rq.body_len = req.len;
        rq.has_policy_key = phase == 1;
        rq.policy_key = key;
        if (handle(st, &rq, body, &rs) != 0) {
            finish(st, &rs, 0);
            break;
        }
        /* find PolicyKey */
        struct el_wbxml_decoder d;
        struct el_wbxml_ev ev;
        tmp[0] = '\0';
        if (el_wbxml_decoder_init(&d, body->data, body->len, 0, NULL) == 0)
            while (el_wbxml_next(&d, &ev, NULL) == 1)
                if (ev.type == EL_WBXML_EV_STR && ev.tag == EL_PROV_POLICYKEY &&
                    ev.len < sizeof(tmp)) {
                    memcpy(tmp, ev.data, ev.len);
                    tmp[ev.len] = '\0';
                }
        finish(st, &rs, 0);
        key = (uint32_t)strtoul(tmp, NULL, 10);
    }
    el_buf_close(&req);
    return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct el_srv_config cfg = {.nusers = 3, .seed = 7, .items_per_folder = 3};
    struct el_srv_state *st = NULL;
    if (el_srv_state_new(&cfg, &st, NULL) != 0)
        return 0;
    const struct el_srv_user *u = el_srv_auth(st, "user1", 5, "pass1", 5);
    require(u != NULL, "user1/pass1 must authenticate");
    struct el_buf body;
    el_buf_init(&body, 64u << 20);

    struct el__srv_query q;
    const char *why;
    struct el_srv_request rq;
    memset(&rq, 0, sizeof(rq));
    rq.user = u;
    uint32_t key = provision(st, u, &body);

    if (size > 0 && data[0] == 0x03) {
        rq.cmd = root_cmd(data, size);
        rq.device_id = DEVICE;
        rq.device_type = "SmartPhone";
        rq.version = size % 5 == 0 ? 161 : 141;
        rq.has_policy_key = key != 0;
        rq.policy_key = key;
        rq.body = data;
        rq.body_len = size;
    } else {
        const uint8_t *nul = memchr(data, 0, size);
        size_t qlen = nul ? (size_t)(nul - data) : size;
        char qs[2048];
        if (qlen >= sizeof(qs))
            qlen = sizeof(qs) - 1;
        memcpy(qs, data, qlen);
        qs[qlen] = '\0';
        /* the small header parsers see the same bytes */
        char abuf[512];
        size_t ul, pl;
        const char *pass;
        uint32_t pk;
        if (el__srv_basic_decode(qs, qlen, abuf, sizeof(abuf), &ul, &pass, &pl) == 0)
            el_srv_auth(st, abuf, ul, pass, pl);
        el__srv_version_parse(qs, qlen);
        el__srv_policy_key_parse(qs, qlen, &pk);
        el__srv_content_type_check((int)(size % EL_SRV_CMD_MAX), 121, qs, qlen);

        int status = el__srv_query_parse(qs, qlen, &q, &why);
        require(status == 0 || status == 400 || status == 501, "query status");
        require(why != NULL, "query reason");
        if (status != 0)
            goto done;
        require(q.cmd >= 0 && q.cmd < EL_SRV_CMD_MAX && el_srv_cmd_name(q.cmd), "command code");
        size_t dl = strlen(q.device_id);
        require(dl >= 1 && dl <= 32, "device id length");
        unsigned version = q.form ? q.version : 141;
        if (!el__srv_version_accepted(version))
            goto done;
        rq.cmd = q.cmd;
        rq.device_id = q.device_id;
        rq.device_type = q.device_type;
        rq.version = version;
        rq.has_policy_key = q.form ? q.has_policy_key : strcmp(q.device_id, DEVICE) == 0;
        rq.policy_key = q.form ? q.policy_key : key;
        rq.item_id = q.item_id[0] ? q.item_id : NULL;
        rq.collection_id = q.collection_id[0] ? q.collection_id : NULL;
        rq.save_in_sent = q.save_in_sent;
        rq.body = nul ? nul + 1 : NULL;
        rq.body_len = nul ? size - (size_t)(nul - data) - 1 : 0;
    }
    struct el_srv_response rs;
    if (handle(st, &rq, &body, &rs) == 0 || rs.watch)
        finish(st, &rs, (unsigned)size);
done:
    el_buf_close(&body);
    el_srv_state_free(st);
    return 0;
}
