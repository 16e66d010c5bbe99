/* test_eas.c - unit tests of core/eas_*: every command's request is decoded with our WBXML
 * decoder and checked element by element (order included), hand-built responses (made with our
 * encoder) are parsed and the device state checked: provisioning in two phases, 449/14x,
 * the wipe flow, FolderSync changes, Sync priming, paging, status 3 and push stamps, Ping,
 * 503 + Retry-After, 451 + X-MS-Location, transport failures, and truncated, garbage and
 * randomly mutated bodies that must end as MALFORMED naming a byte offset, never a crash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "eas.h"

#define PASSWORD "s3cret-Pa55"
#define BODY_CAP ((size_t)16 << 20)

/* ---- fixtures ---------------------------------------------------------------------------- */

struct fx {
    struct el_eas_device d;
    struct el_buf body; /* request */
    struct el_buf resp; /* response being built */
    struct el_wbxml_encoder enc;
    char url[1024];
    const char *method;
};

static struct fx *fx_new(const char *profile, const char *user)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct el_err err;
    int rc = el_eas_device_init(&f->d, el_eas_profile_lookup(profile), 7, user, PASSWORD,
                                "http://127.0.0.1:8080/", &err);
    assert_int_equal(rc, 0);
    el_buf_init(&f->body, BODY_CAP);
    el_buf_init(&f->resp, BODY_CAP);
    return f;
}

static void fx_free(struct fx *f)
{
    el_eas_device_close(&f->d);
    el_buf_close(&f->body);
    el_buf_close(&f->resp);
    free(f);
}

static int setup(void **state)
{
    *state = fx_new("android-14.1", "alice@example.com");
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

/* Builds call's request into f->body (reset first); asserts success. */
static void build(struct fx *f, struct el_eas_call *c)
{
    struct el_err err;
    el_buf_reset(&f->body);
    int rc = el_eas_build(&f->d, c, &f->body, f->url, sizeof(f->url), &f->method, &err);
    if (rc != 0)
        print_error("build failed: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

static int build_fails(struct fx *f, struct el_eas_call *c, char *msg, size_t cap)
{
    struct el_err err;
    el_buf_reset(&f->body);
    int rc = el_eas_build(&f->d, c, &f->body, f->url, sizeof(f->url), &f->method, &err);
    if (rc != 0 && msg)
        snprintf(msg, cap, "%s", err.msg);
    assert_int_equal(f->body.len, 0);
    return rc;
}

static void call_init(struct el_eas_call *c, int cmd)
{
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->in.filter = -1;
}

/* Starts a response document in f->resp. */
static struct el_wbxml_encoder *resp(struct fx *f)
{
    el_buf_reset(&f->resp);
    el_wbxml_encoder_init(&f->enc, &f->resp);
    return &f->enc;
}

static struct el_http_result result(long status, const void *body, size_t len)
{
    struct el_http_result r;
    memset(&r, 0, sizeof(r));
    r.status = status;
    r.body = body;
    r.body_len = len;
    r.curl_error = r.content_type = r.retry_after = r.ms_location = r.ms_throttle = "";
    r.ms_rp = r.ms_versions = "";
    return r;
}

/* Finishes the response in f->resp and parses it as HTTP 200; returns el_eas_parse's value. */
static int parse_ok(struct fx *f, struct el_eas_call *c)
{
    assert_int_equal(el_wbxml_encoder_finish(&f->enc, NULL), 0);
    struct el_http_result r = result(200, f->resp.data, f->resp.len);
    return el_eas_parse(&f->d, c, &r);
}

static int parse_http(struct fx *f, struct el_eas_call *c, struct el_http_result *r)
{
    (void)f;
    return el_eas_parse(&f->d, c, r);
}

/* ---- request trees ----------------------------------------------------------------------- */

struct node {
    unsigned depth;
    uint16_t tag;
    int empty;
    int opaque;
    size_t len;
    char text[256];
};

struct exp {
    unsigned depth;
    uint16_t tag;
    const char *text; /* NULL: no text expected; "*" any text */
};

static unsigned flatten(const uint8_t *p, size_t n, struct node *out, unsigned max)
{
    struct el_wbxml_decoder dec;
    struct el_wbxml_ev ev;
    struct el_err err;
    assert_int_equal(el_wbxml_decoder_init(&dec, p, n, 0, &err), 0);
    unsigned k = 0;
    int rc;
    while ((rc = el_wbxml_next(&dec, &ev, &err)) == 1) {
        if (ev.type == EL_WBXML_EV_START) {
            assert_true(k < max);
            memset(&out[k], 0, sizeof(out[k]));
            out[k].depth = ev.depth;
            out[k].tag = ev.tag;
            out[k].empty = ev.empty;
            k++;
        } else if (ev.type == EL_WBXML_EV_STR || ev.type == EL_WBXML_EV_OPAQUE) {
            struct node *nd = &out[k - 1];
            size_t c = ev.len < sizeof(nd->text) - 1 ? ev.len : sizeof(nd->text) - 1;
            memcpy(nd->text, ev.data, c);
            nd->text[c] = 0;
            nd->len = ev.len;
            nd->opaque = ev.type == EL_WBXML_EV_OPAQUE;
        }
    }
    if (rc < 0)
        print_error("request is not WBXML: %s\n", err.msg);
    assert_int_equal(rc, 0);
    return k;
}

static void check_tree(const struct el_buf *b, const struct exp *e, unsigned ne)
{
    struct node nodes[128];
    unsigned n = flatten(b->data, b->len, nodes, 128);
    for (unsigned i = 0; i < n || i < ne; i++) {
        const char *want = i < ne ? el_wbxml_tag_name(e[i].tag) : "(nothing)";
        const char *got = i < n ? el_wbxml_tag_name(nodes[i].tag) : "(nothing)";
        if (i >= n || i >= ne || nodes[i].tag != e[i].tag || nodes[i].depth != e[i].depth) {
            print_error("element %u: got <%s> at depth %u, expected <%s> at depth %u\n", i, got,
                        i < n ? nodes[i].depth : 0, want, i < ne ? e[i].depth : 0);
            fail();
        }
        if (e[i].text == NULL) {
            if (nodes[i].len != 0) {
                print_error("element %u <%s>: unexpected text \"%s\"\n", i, got, nodes[i].text);
                fail();
            }
        } else if (strcmp(e[i].text, "*") != 0 && strcmp(e[i].text, nodes[i].text) != 0) {
            print_error("element %u <%s>: text \"%s\", expected \"%s\"\n", i, got, nodes[i].text,
                        e[i].text);
            fail();
        }
    }
}
#define CHECK_TREE(b, arr) check_tree((b), (arr), sizeof(arr) / sizeof((arr)[0]))

/* Gives the device a hierarchy: Inbox 5, Drafts 6, Deleted 7, Sent 8, Calendar 10, Contacts 11,
 * Tasks 12, through a FolderSync answer. */
static void give_folders(struct fx *f)
{
    struct el_eas_call c;
    call_init(&c, EL_EAS_FOLDERSYNC);
    static const struct {
        const char *id, *name;
        int type;
    } fs[] = {{"5", "Inbox", 2},      {"6", "Drafts", 3},    {"7", "Deleted Items", 4},
              {"8", "Sent Items", 5}, {"10", "Calendar", 8}, {"11", "Contacts", 9},
              {"12", "Tasks", 7}};
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 1);
    el_wbxml_text(e, EL_FH_SYNCKEY, "h1");
    el_wbxml_start(e, EL_FH_CHANGES);
    el_wbxml_uint(e, EL_FH_COUNT, 7);
    for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
        el_wbxml_start(e, EL_FH_ADD);
        el_wbxml_text(e, EL_FH_SERVERID, fs[i].id);
        el_wbxml_text(e, EL_FH_PARENTID, "0");
        el_wbxml_text(e, EL_FH_DISPLAYNAME, fs[i].name);
        el_wbxml_uint(e, EL_FH_TYPE, (unsigned long)fs[i].type);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(f->d.nfolders, 7);
}

/* A header line of the device's list, or NULL. */
static const char *header(const struct curl_slist *l, const char *name)
{
    for (; l; l = l->next)
        if (strncmp(l->data, name, strlen(name)) == 0 && l->data[strlen(name)] == ':')
            return l->data;
    return NULL;
}

/* ---- device, profiles, table ------------------------------------------------------------- */

static void device_id_is_derived_from_the_index(void **state)
{
    struct fx *f = *state;
    assert_string_equal(f->d.device_id, "EL0000000000000007");
    size_t n = strlen(f->d.device_id);
    assert_true(n >= 1 && n <= 32);
    for (size_t i = 0; i < n; i++)
        assert_true((f->d.device_id[i] >= '0' && f->d.device_id[i] <= '9') ||
                    (f->d.device_id[i] >= 'A' && f->d.device_id[i] <= 'Z'));
    assert_string_equal(f->d.base_url, "http://127.0.0.1:8080/Microsoft-Server-ActiveSync");
    assert_string_equal(f->d.hierarchy_key, "0");
    assert_int_equal(f->d.version, 141);
}

static void headers_carry_version_agent_auth_and_the_key_once_known(void **state)
{
    struct fx *f = *state;
    /* base64("alice@example.com:s3cret-Pa55") */
    assert_string_equal(f->d.auth_header,
                        "Authorization: Basic YWxpY2VAZXhhbXBsZS5jb206czNjcmV0LVBhNTU=");
    assert_string_equal(header(f->d.headers, "MS-ASProtocolVersion"), "MS-ASProtocolVersion: 14.1");
    assert_string_equal(header(f->d.headers, "Content-Type"),
                        "Content-Type: application/vnd.ms-sync.wbxml");
    assert_non_null(header(f->d.headers, "User-Agent"));
    assert_non_null(header(f->d.headers, "Authorization"));
    assert_null(header(f->d.headers, "X-MS-PolicyKey"));
    for (const struct curl_slist *l = f->d.headers; l; l = l->next)
        assert_null(strstr(l->data, PASSWORD));
    struct el_eas_call c;
    call_init(&c, EL_EAS_OPTIONS);
    assert_null(header(el_eas_headers(&f->d, &c), "Content-Type"));
    assert_non_null(header(el_eas_headers(&f->d, &c), "Authorization"));
}

static void profiles_are_found_by_name(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned version;
        const char *type;
    } want[] = {{"android-14.1", 141, "Android"},
                {"ios-16.1", 161, "iPhone"},
                {"outlook-16.1", 161, "WindowsOutlook15"},
                {"wm-12.1", 121, "PocketPC"}};
    for (size_t i = 0; i < 4; i++) {
        const struct el_eas_profile *p = el_eas_profile_lookup(want[i].name);
        assert_non_null(p);
        assert_int_equal(p->version, want[i].version);
        assert_string_equal(p->device_type, want[i].type);
        assert_true(p->heartbeat_s >= 60);
        assert_non_null(p->user_agent);
        assert_non_null(p->model);
        assert_non_null(p->os);
    }
    assert_null(el_eas_profile_lookup("nokia-2.5"));
    assert_false(el_eas_profile_lookup("wm-12.1")->accepts_wildcard);
}

static void commands_and_classes_have_names(void **state)
{
    (void)state;
    assert_string_equal(el_eas_cmd_name(EL_EAS_SYNC), "Sync");
    assert_string_equal(el_eas_cmd_name(EL_EAS_GETITEMESTIMATE), "GetItemEstimate");
    assert_int_equal(el_eas_cmd_lookup("foldersync"), EL_EAS_FOLDERSYNC);
    assert_int_equal(el_eas_cmd_lookup("ITEMOPERATIONS"), EL_EAS_ITEMOPERATIONS);
    assert_int_equal(el_eas_cmd_lookup("Frobnicate"), -1);
    assert_string_equal(el_eas_class_name(EL_EAS_CLASS_THROTTLED), "throttled");
    assert_string_equal(el_eas_class_name(EL_EAS_CLASS_SCRIPT_ERROR), "script_error");
    for (int i = 0; i < EL_EAS_CMD_COUNT; i++)
        assert_int_equal(el_eas_cmd_lookup(el_eas_cmd_name(i)), i);
}

static void folders_are_found_by_name_id_and_type(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    assert_string_equal(el_eas_device_folder(&f->d, "Inbox")->id, "5");
    assert_string_equal(el_eas_device_folder(&f->d, "10")->name, "Calendar");
    assert_string_equal(el_eas_device_folder(&f->d, "sent")->id, "8");
    assert_string_equal(el_eas_device_folder(&f->d, "deleted")->id, "7");
    assert_string_equal(el_eas_device_folder(&f->d, "contacts")->id, "11");
    assert_string_equal(el_eas_device_folder(&f->d, "inbox")->id, "5");
    assert_null(el_eas_device_folder(&f->d, "Junk"));
    assert_string_equal(el_eas_device_folder(&f->d, "Inbox")->sync_key, "0");
}

/* ---- Provision ----------------------------------------------------------------------------- */

static void provision_response(struct fx *f, uint32_t key)
{
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_SET_DEVICEINFORMATION);
    el_wbxml_uint(e, EL_SET_STATUS, 1);
    el_wbxml_end(e);
    el_wbxml_uint(e, EL_PROV_STATUS, 1);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_uint(e, EL_PROV_STATUS, 1);
    el_wbxml_uint(e, EL_PROV_POLICYKEY, key);
    el_wbxml_start(e, EL_PROV_DATA);
    el_wbxml_start(e, EL_PROV_EASPROVISIONDOC);
    el_wbxml_uint(e, EL_PROV_DEVICEPASSWORDENABLED, 1);
    el_wbxml_empty(e, EL_PROV_MAXATTACHMENTSIZE);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
}

static void provision_runs_two_phases_and_keeps_the_final_key(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_PROVISION);
    build(f, &c);
    assert_string_equal(f->method, "POST");
    assert_string_equal(f->url, "http://127.0.0.1:8080/Microsoft-Server-ActiveSync?Cmd=Provision"
                                "&User=alice%40example.com&DeviceId=EL0000000000000007"
                                "&DeviceType=Android");
    const struct el_eas_profile *p = f->d.profile;
    char friendly[64];
    snprintf(friendly, sizeof(friendly), "%s 7", p->model);
    const struct exp phase1[] = {
        {1, EL_PROV_PROVISION, NULL},
        {2, EL_SET_DEVICEINFORMATION, NULL},
        {3, EL_SET_SET, NULL},
        {4, EL_SET_MODEL, p->model},
        {4, EL_SET_FRIENDLYNAME, friendly},
        {4, EL_SET_OS, p->os},
        {4, EL_SET_OSLANGUAGE, "English"},
        {4, EL_SET_USERAGENT, p->user_agent},
        {2, EL_PROV_POLICIES, NULL},
        {3, EL_PROV_POLICY, NULL},
        {4, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML"},
    };
    CHECK_TREE(&f->body, phase1);

    provision_response(f, 1111);
    assert_int_equal(parse_ok(f, &c), 1);
    assert_int_equal(c.step, 1);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(f->d.policy_key, 1111); /* the temporary key goes in the header */
    assert_string_equal(header(f->d.headers, "X-MS-PolicyKey"), "X-MS-PolicyKey: 1111");

    build(f, &c);
    const struct exp phase2[] = {
        {1, EL_PROV_PROVISION, NULL},   {2, EL_PROV_POLICIES, NULL},
        {3, EL_PROV_POLICY, NULL},      {4, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML"},
        {4, EL_PROV_POLICYKEY, "1111"}, {4, EL_PROV_STATUS, "1"},
    };
    CHECK_TREE(&f->body, phase2);

    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_uint(e, EL_PROV_STATUS, 1);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_uint(e, EL_PROV_STATUS, 1);
    el_wbxml_uint(e, EL_PROV_POLICYKEY, 3942919513u);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.status, 1);
    assert_int_equal(f->d.policy_key, 3942919513u);
    assert_string_equal(header(f->d.headers, "X-MS-PolicyKey"), "X-MS-PolicyKey: 3942919513");
}

static void provision_of_a_12_1_device_has_no_device_information(void **state)
{
    (void)state;
    struct fx *f = fx_new("wm-12.1", "bob");
    struct el_eas_call c;
    call_init(&c, EL_EAS_PROVISION);
    build(f, &c);
    const struct exp phase1[] = {
        {1, EL_PROV_PROVISION, NULL},
        {2, EL_PROV_POLICIES, NULL},
        {3, EL_PROV_POLICY, NULL},
        {4, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML"},
    };
    CHECK_TREE(&f->body, phase1);
    assert_string_equal(header(f->d.headers, "MS-ASProtocolVersion"), "MS-ASProtocolVersion: 12.1");
    assert_non_null(strstr(f->url, "&DeviceType=PocketPC"));
    fx_free(f);
}

static void provisioning_signals_are_class_provision(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    /* 449 (<= 12.1, Z-Push for every version) */
    call_init(&c, EL_EAS_SYNC);
    struct el_http_result r = result(449, NULL, 0);
    assert_int_equal(parse_http(f, &c, &r), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_PROVISION);
    assert_int_equal(c.out.http_status, 449);
    /* 14.x bodies: 142 in Sync, 144 in FolderSync, 143 in Ping, 140 in Search */
    call_init(&c, EL_EAS_SYNC);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_uint(e, EL_AS_STATUS, 142);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_PROVISION);
    assert_int_equal(c.out.status, 142);

    call_init(&c, EL_EAS_FOLDERSYNC);
    e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 144);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_PROVISION);
    assert_int_equal(c.out.status, 144);
    assert_int_equal(f->d.nfolders, 7); /* nothing dropped */

    call_init(&c, EL_EAS_PING);
    e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 143);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_PROVISION);

    call_init(&c, EL_EAS_SEARCH);
    e = resp(f);
    el_wbxml_start(e, EL_SEARCH_SEARCH);
    el_wbxml_uint(e, EL_SEARCH_STATUS, 140);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_PROVISION);
    assert_int_equal(c.out.status, 140);
}

static void remote_wipe_is_acknowledged_then_the_device_stops(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    f->d.policy_key = 77;
    for (int account_only = 0; account_only < 2; account_only++) {
        struct el_eas_call c;
        call_init(&c, EL_EAS_PROVISION);
        build(f, &c);
        struct el_wbxml_encoder *e = resp(f);
        el_wbxml_start(e, EL_PROV_PROVISION);
        el_wbxml_uint(e, EL_PROV_STATUS, 1);
        el_wbxml_empty(e, account_only ? EL_PROV_ACCOUNTONLYREMOTEWIPE : EL_PROV_REMOTEWIPE);
        el_wbxml_end(e);
        assert_int_equal(parse_ok(f, &c), 1);
        assert_int_equal(c.step, account_only ? 3u : 2u);
        assert_int_equal(f->d.wiped, 0);
        build(f, &c);
        uint16_t w = account_only ? EL_PROV_ACCOUNTONLYREMOTEWIPE : EL_PROV_REMOTEWIPE;
        const struct exp ack[] = {
            {1, EL_PROV_PROVISION, NULL},
            {2, w, NULL},
            {3, EL_PROV_STATUS, "1"},
        };
        CHECK_TREE(&f->body, ack);
        e = resp(f);
        el_wbxml_start(e, EL_PROV_PROVISION);
        el_wbxml_uint(e, EL_PROV_STATUS, 1);
        el_wbxml_end(e);
        assert_int_equal(parse_ok(f, &c), 0);
        assert_int_equal(c.out.cls, EL_EAS_CLASS_WIPE);
        assert_int_equal(f->d.wiped, 1);
        assert_int_equal(f->d.policy_key, 0);
        assert_int_equal(f->d.nfolders, 0);
        assert_string_equal(f->d.hierarchy_key, "0");
        call_init(&c, EL_EAS_FOLDERSYNC);
        char msg[256];
        assert_int_equal(build_fails(f, &c, msg, sizeof(msg)), EL_EINVAL);
        assert_non_null(strstr(msg, "wipe"));
        f->d.wiped = 0;
    }
}

/* ---- FolderSync ---------------------------------------------------------------------------- */

static void foldersync_applies_adds_updates_and_deletes(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_FOLDERSYNC);
    build(f, &c);
    const struct exp req0[] = {{1, EL_FH_FOLDERSYNC, NULL}, {2, EL_FH_SYNCKEY, "0"}};
    CHECK_TREE(&f->body, req0);
    assert_non_null(strstr(f->url, "?Cmd=FolderSync&"));
    give_folders(f);
    assert_string_equal(f->d.hierarchy_key, "h1");
    f->d.folders[0].items = 3;
    memcpy(f->d.folders[0].sync_key, "k9", 3);

    build(f, &c);
    const struct exp req1[] = {{1, EL_FH_FOLDERSYNC, NULL}, {2, EL_FH_SYNCKEY, "h1"}};
    CHECK_TREE(&f->body, req1);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 1);
    el_wbxml_text(e, EL_FH_SYNCKEY, "h2");
    el_wbxml_start(e, EL_FH_CHANGES);
    el_wbxml_uint(e, EL_FH_COUNT, 3);
    el_wbxml_start(e, EL_FH_UPDATE);
    el_wbxml_text(e, EL_FH_SERVERID, "5");
    el_wbxml_text(e, EL_FH_PARENTID, "0");
    el_wbxml_text(e, EL_FH_DISPLAYNAME, "Posteingang");
    el_wbxml_uint(e, EL_FH_TYPE, 2);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_FH_DELETE);
    el_wbxml_text(e, EL_FH_SERVERID, "12");
    el_wbxml_end(e);
    el_wbxml_start(e, EL_FH_ADD);
    el_wbxml_text(e, EL_FH_SERVERID, "20");
    el_wbxml_text(e, EL_FH_PARENTID, "5");
    el_wbxml_text(e, EL_FH_DISPLAYNAME, "Projects");
    el_wbxml_uint(e, EL_FH_TYPE, 12);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.added, 1);
    assert_int_equal(c.out.changed, 1);
    assert_int_equal(c.out.deleted, 1);
    assert_string_equal(f->d.hierarchy_key, "h2");
    assert_int_equal(f->d.nfolders, 7);
    assert_null(el_eas_device_folder(&f->d, "Tasks"));
    struct el_eas_folder *in = el_eas_device_folder(&f->d, "inbox");
    assert_string_equal(in->name, "Posteingang");
    assert_string_equal(in->sync_key, "k9"); /* an update keeps the sync state */
    assert_int_equal(in->items, 3);
    struct el_eas_folder *pr = el_eas_device_folder(&f->d, "Projects");
    assert_non_null(pr);
    assert_string_equal(pr->parent, "5");
    assert_int_equal(pr->type, 12);
    assert_string_equal(pr->sync_key, "0");

    /* status 9: the hierarchy starts over */
    e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 9);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 9);
    assert_string_equal(f->d.hierarchy_key, "0");
    assert_int_equal(f->d.nfolders, 0);
    assert_non_null(strstr(c.out.detail, "FolderSync status 9"));
}

static void foldersync_grows_past_many_folders(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_FOLDERSYNC);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 1);
    el_wbxml_text(e, EL_FH_SYNCKEY, "1");
    el_wbxml_start(e, EL_FH_CHANGES);
    for (int i = 0; i < 300; i++) {
        char id[16], name[32];
        snprintf(id, sizeof(id), "f%d", i);
        snprintf(name, sizeof(name), "Folder %d", i);
        el_wbxml_start(e, EL_FH_ADD);
        el_wbxml_text(e, EL_FH_SERVERID, id);
        el_wbxml_text(e, EL_FH_PARENTID, "0");
        el_wbxml_text(e, EL_FH_DISPLAYNAME, name);
        el_wbxml_uint(e, EL_FH_TYPE, i == 0 ? 2 : 12);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.added, 300);
    assert_int_equal(f->d.nfolders, 300);
    assert_string_equal(el_eas_device_folder(&f->d, "Folder 299")->id, "f299");
    assert_string_equal(el_eas_device_folder(&f->d, "inbox")->id, "f0");
}

/* ---- Sync ---------------------------------------------------------------------------------- */

static void sync_response_begin(struct el_wbxml_encoder *e, const char *key, int status)
{
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, key);
    el_wbxml_text(e, EL_AS_COLLECTIONID, "5");
    el_wbxml_uint(e, EL_AS_STATUS, (unsigned long)status);
}

static void mail_add(struct el_wbxml_encoder *e, const char *id, const char *subject)
{
    el_wbxml_start(e, EL_AS_ADD);
    el_wbxml_text(e, EL_AS_SERVERID, id);
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_EMAIL_TO, "\"Alice\" <alice@example.com>");
    el_wbxml_text(e, EL_EMAIL_SUBJECT, subject);
    el_wbxml_text(e, EL_EMAIL_READ, "0");
    el_wbxml_start(e, EL_ASB_BODY);
    el_wbxml_uint(e, EL_ASB_TYPE, 1);
    el_wbxml_text(e, EL_ASB_DATA, "hello");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
}

static void sync_primes_with_key_0_then_pages_through_items(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_SYNC);
    c.in.folder = "Inbox";
    c.in.window = 25;
    c.in.body_type = 2;
    c.in.truncate = 4096;
    c.in.filter = 3;
    build(f, &c);
    const struct exp prime[] = {
        {1, EL_AS_SYNC, NULL},   {2, EL_AS_COLLECTIONS, NULL}, {3, EL_AS_COLLECTION, NULL},
        {4, EL_AS_SYNCKEY, "0"}, {4, EL_AS_COLLECTIONID, "5"},
    };
    CHECK_TREE(&f->body, prime);
    struct el_wbxml_encoder *e = resp(f);
    sync_response_begin(e, "s1", 1);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 1); /* primed: the engine sends the real Sync */
    assert_int_equal(c.step, 1);
    assert_string_equal(el_eas_device_folder(&f->d, "Inbox")->sync_key, "s1");

    build(f, &c);
    const struct exp full[] = {
        {1, EL_AS_SYNC, NULL},        {2, EL_AS_COLLECTIONS, NULL},
        {3, EL_AS_COLLECTION, NULL},  {4, EL_AS_SYNCKEY, "s1"},
        {4, EL_AS_COLLECTIONID, "5"}, {4, EL_AS_GETCHANGES, NULL},
        {4, EL_AS_WINDOWSIZE, "25"},  {4, EL_AS_OPTIONS, NULL},
        {5, EL_AS_FILTERTYPE, "3"},   {5, EL_ASB_BODYPREFERENCE, NULL},
        {6, EL_ASB_TYPE, "2"},        {6, EL_ASB_TRUNCATIONSIZE, "4096"},
    };
    CHECK_TREE(&f->body, full);

    /* page 1: three adds (one pushed by a scenario), a change, a delete, a soft delete */
    e = resp(f);
    sync_response_begin(e, "s2", 1);
    el_wbxml_empty(e, EL_AS_MOREAVAILABLE);
    el_wbxml_start(e, EL_AS_COMMANDS);
    mail_add(e, "5:1", "Quarterly report");
    mail_add(e, "5:2", "easload-push:1700000000123456");
    mail_add(e, "5:3", "Lunch?");
    el_wbxml_start(e, EL_AS_CHANGE);
    el_wbxml_text(e, EL_AS_SERVERID, "5:1");
    el_wbxml_start(e, EL_AS_APPLICATIONDATA);
    el_wbxml_text(e, EL_EMAIL_READ, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_DELETE);
    el_wbxml_text(e, EL_AS_SERVERID, "5:0");
    el_wbxml_end(e);
    el_wbxml_start(e, EL_AS_SOFTDELETE);
    el_wbxml_text(e, EL_AS_SERVERID, "5:-1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    c.step = 0;
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.status, 1);
    assert_int_equal(c.out.added, 3);
    assert_int_equal(c.out.changed, 1);
    assert_int_equal(c.out.deleted, 2);
    assert_int_equal(c.out.more, 1);
    assert_int_equal(c.out.npushed, 1);
    assert_true(c.out.pushed_unix_us[0] == 1700000000123456LL);
    struct el_eas_folder *in = el_eas_device_folder(&f->d, "Inbox");
    assert_string_equal(in->sync_key, "s2");
    assert_string_equal(in->last_item, "5:3");
    assert_int_equal(in->items, 1); /* 3 added, 2 deleted */

    /* page 2: nothing more; then status 3 resets the folder */
    e = resp(f);
    sync_response_begin(e, "s3", 1);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.more, 0);
    assert_int_equal(c.out.added, 0);
    assert_string_equal(in->sync_key, "s3");

    e = resp(f);
    sync_response_begin(e, "s3", 3);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 3);
    assert_string_equal(in->sync_key, "0");
    assert_int_equal(in->items, 0);
    assert_string_equal(in->last_item, "");
    assert_non_null(strstr(c.out.detail, "Sync status 3"));

    /* an empty 200 (12.1+ "no changes") */
    struct el_http_result r = result(200, NULL, 0);
    assert_int_equal(parse_http(f, &c, &r), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
}

static void sync_sends_client_adds_changes_and_deletes(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_folder *cal = el_eas_device_folder(&f->d, "Calendar");
    memcpy(cal->sync_key, "c4", 3);
    memcpy(cal->last_item, "10:7", 5);
    cal->items = 4;
    struct el_eas_call c;
    call_init(&c, EL_EAS_SYNC);
    c.in.folder = "calendar";
    c.in.adds = 2;
    c.in.changes = 1;
    build(f, &c);
    struct node nodes[128];
    unsigned n = flatten(f->body.data, f->body.len, nodes, 128);
    /* Collection children in spec order, Commands last; ClientIds 1 and 2; Change of 10:7 */
    uint16_t order[16];
    unsigned no = 0;
    unsigned clientids = 0, change_at = 0;
    for (unsigned i = 0; i < n; i++) {
        if (nodes[i].depth == 4)
            order[no++] = nodes[i].tag;
        if (nodes[i].tag == EL_AS_CLIENTID) {
            clientids++;
            assert_int_equal(atoi(nodes[i].text), (int)clientids);
        }
        if (nodes[i].tag == EL_AS_CHANGE)
            change_at = i;
    }
    const uint16_t want[] = {EL_AS_SYNCKEY,    EL_AS_COLLECTIONID, EL_AS_GETCHANGES,
                             EL_AS_WINDOWSIZE, EL_AS_OPTIONS,      EL_AS_COMMANDS};
    assert_int_equal(no, 6);
    assert_memory_equal(order, want, sizeof(want));
    assert_int_equal(clientids, 2);
    assert_true(change_at > 0);
    assert_int_equal(nodes[change_at + 1].tag, EL_AS_SERVERID);
    assert_string_equal(nodes[change_at + 1].text, "10:7");
    assert_int_equal(nodes[change_at + 2].tag, EL_AS_APPLICATIONDATA);
    assert_int_equal(f->d.client_id_seq, 3);

    /* the server answers our adds with their ServerIds */
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, "c5");
    el_wbxml_text(e, EL_AS_COLLECTIONID, "10");
    el_wbxml_uint(e, EL_AS_STATUS, 1);
    el_wbxml_start(e, EL_AS_RESPONSES);
    for (int i = 1; i <= 2; i++) {
        char cid[4], sid[8];
        snprintf(cid, sizeof(cid), "%d", i);
        snprintf(sid, sizeof(sid), "10:%d", 100 + i);
        el_wbxml_start(e, EL_AS_ADD);
        el_wbxml_text(e, EL_AS_CLIENTID, cid);
        el_wbxml_text(e, EL_AS_SERVERID, sid);
        el_wbxml_uint(e, EL_AS_STATUS, 1);
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(cal->items, 6);
    assert_string_equal(cal->last_item, "10:102");
    assert_string_equal(cal->sync_key, "c5");

    /* a delete of the remembered item */
    call_init(&c, EL_EAS_SYNC);
    c.in.folder = "Calendar";
    c.in.deletes = 1;
    build(f, &c);
    n = flatten(f->body.data, f->body.len, nodes, 128);
    assert_int_equal(nodes[n - 2].tag, EL_AS_DELETE);
    assert_int_equal(nodes[n - 1].tag, EL_AS_SERVERID);
    assert_string_equal(nodes[n - 1].text, "10:102");
    e = resp(f);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_start(e, EL_AS_COLLECTIONS);
    el_wbxml_start(e, EL_AS_COLLECTION);
    el_wbxml_text(e, EL_AS_SYNCKEY, "c6");
    el_wbxml_text(e, EL_AS_COLLECTIONID, "10");
    el_wbxml_uint(e, EL_AS_STATUS, 1);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(cal->items, 5);
    assert_string_equal(cal->last_item, "");

    /* mail folders cannot take client adds; a change needs a known item */
    char msg[256];
    call_init(&c, EL_EAS_SYNC);
    memcpy(el_eas_device_folder(&f->d, "Inbox")->sync_key, "i1", 3);
    c.in.adds = 1;
    assert_int_equal(build_fails(f, &c, msg, sizeof(msg)), EL_EINVAL);
    assert_non_null(strstr(msg, "cannot add mail"));
    call_init(&c, EL_EAS_SYNC);
    c.in.changes = 1;
    assert_int_equal(build_fails(f, &c, msg, sizeof(msg)), EL_EINVAL);
    assert_non_null(strstr(msg, "no item known"));
}

static void sync_of_a_12_1_device_names_the_class_first(void **state)
{
    (void)state;
    struct fx *f = fx_new("wm-12.1", "bob");
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_SYNC);
    build(f, &c);
    const struct exp prime[] = {
        {1, EL_AS_SYNC, NULL},     {2, EL_AS_COLLECTIONS, NULL}, {3, EL_AS_COLLECTION, NULL},
        {4, EL_AS_CLASS, "Email"}, {4, EL_AS_SYNCKEY, "0"},      {4, EL_AS_COLLECTIONID, "5"},
    };
    CHECK_TREE(&f->body, prime);
    fx_free(f);
}

static void sync_of_an_unknown_folder_is_a_scenario_error(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_SYNC);
    c.in.folder = "Inbox";
    char msg[256];
    assert_int_equal(build_fails(f, &c, msg, sizeof(msg)), EL_EINVAL);
    assert_non_null(strstr(msg, "Inbox"));
    assert_non_null(strstr(msg, "EL0000000000000007"));
    give_folders(f);
    c.in.folder = "Junk";
    assert_int_equal(build_fails(f, &c, msg, sizeof(msg)), EL_EINVAL);
}

/* ---- GetItemEstimate ----------------------------------------------------------------------- */

static void estimate_uses_the_version_s_form(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_GETITEMESTIMATE);
    c.in.filter = 5;
    build(f, &c);
    const struct exp e14[] = {
        {1, EL_GIE_GETITEMESTIMATE, NULL}, {2, EL_GIE_COLLECTIONS, NULL},
        {3, EL_GIE_COLLECTION, NULL},      {4, EL_AS_SYNCKEY, "0"},
        {4, EL_GIE_COLLECTIONID, "5"},     {4, EL_AS_OPTIONS, NULL},
        {5, EL_AS_FILTERTYPE, "5"},
    };
    CHECK_TREE(&f->body, e14);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_GIE_GETITEMESTIMATE);
    el_wbxml_start(e, EL_GIE_RESPONSE);
    el_wbxml_uint(e, EL_GIE_STATUS, 1);
    el_wbxml_start(e, EL_GIE_COLLECTION);
    el_wbxml_text(e, EL_GIE_COLLECTIONID, "5");
    el_wbxml_uint(e, EL_GIE_ESTIMATE, 42);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.status, 1);
    assert_int_equal(c.out.count, 42);

    e = resp(f);
    el_wbxml_start(e, EL_GIE_GETITEMESTIMATE);
    el_wbxml_start(e, EL_GIE_RESPONSE);
    el_wbxml_uint(e, EL_GIE_STATUS, 3);
    el_wbxml_end(e);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 3);

    struct fx *w = fx_new("wm-12.1", "bob");
    give_folders(w);
    build(w, &c);
    const struct exp e12[] = {
        {1, EL_GIE_GETITEMESTIMATE, NULL}, {2, EL_GIE_COLLECTIONS, NULL},
        {3, EL_GIE_COLLECTION, NULL},      {4, EL_GIE_CLASS, "Email"},
        {4, EL_GIE_COLLECTIONID, "5"},     {4, EL_AS_FILTERTYPE, "5"},
        {4, EL_AS_SYNCKEY, "0"},
    };
    CHECK_TREE(&w->body, e12);
    fx_free(w);
}

/* ---- Ping ---------------------------------------------------------------------------------- */

static void ping_watches_folders_and_reports_changes(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_PING);
    c.in.folders[0] = "Inbox";
    c.in.folders[1] = "calendar";
    c.in.folders[2] = "Contacts";
    c.in.nfolders = 3;
    build(f, &c);
    const struct exp req[] = {
        {1, EL_PING_PING, NULL},        {2, EL_PING_HEARTBEATINTERVAL, "295"},
        {2, EL_PING_FOLDERS, NULL},     {3, EL_PING_FOLDER, NULL},
        {4, EL_PING_ID, "5"},           {4, EL_PING_CLASS, "Email"},
        {3, EL_PING_FOLDER, NULL},      {4, EL_PING_ID, "10"},
        {4, EL_PING_CLASS, "Calendar"}, {3, EL_PING_FOLDER, NULL},
        {4, EL_PING_ID, "11"},          {4, EL_PING_CLASS, "Contacts"},
    };
    CHECK_TREE(&f->body, req);

    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 2);
    el_wbxml_start(e, EL_PING_FOLDERS);
    el_wbxml_text(e, EL_PING_FOLDER, "5");
    el_wbxml_text(e, EL_PING_FOLDER, "10");
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.status, 2);
    assert_int_equal(c.out.count, 2);
    assert_string_equal(c.out.changed_folders[0], "5");
    assert_string_equal(c.out.changed_folders[1], "10");

    e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 1);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.count, 0);

    e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 5);
    el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, 540);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 5);
    assert_int_equal(c.out.count, 540);

    for (int st = 3; st <= 7; st += 4) { /* 3 full Ping needed, 7 FolderSync needed */
        e = resp(f);
        el_wbxml_start(e, EL_PING_PING);
        el_wbxml_uint(e, EL_PING_STATUS, (unsigned long)st);
        el_wbxml_end(e);
        parse_ok(f, &c);
        assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
        assert_int_equal(c.out.status, st);
    }

    /* no folders: the cached form, an empty body without Content-Type */
    call_init(&c, EL_EAS_PING);
    build(f, &c);
    assert_int_equal(f->body.len, 0);
    assert_null(header(el_eas_headers(&f->d, &c), "Content-Type"));
}

/* SOGo (docs/servers.md): a HeartbeatInterval above its maximum is answered with status 5 and
 * the maximum. The device keeps the bound, sends the same Ping once more inside it, and asks
 * for no more than the bound from then on; a bound equal to what was sent ends the call. */
static void ping_status_5_bound_is_kept_and_the_ping_sent_again_inside_it(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_PING);
    c.in.folders[0] = "Inbox";
    c.in.nfolders = 1;
    c.in.heartbeat_s = 300;
    build(f, &c);
    const struct exp asked[] = {
        {1, EL_PING_PING, NULL},    {2, EL_PING_HEARTBEATINTERVAL, "300"},
        {2, EL_PING_FOLDERS, NULL}, {3, EL_PING_FOLDER, NULL},
        {4, EL_PING_ID, "5"},       {4, EL_PING_CLASS, "Email"},
    };
    CHECK_TREE(&f->body, asked);

    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 5);
    el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, 10);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 1); /* another round trip */
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 5);
    assert_int_equal(c.step, 1);
    assert_int_equal(f->d.ping_max_s, 10);
    assert_int_equal(f->d.ping_min_s, 0);

    build(f, &c);
    const struct exp again[] = {
        {1, EL_PING_PING, NULL},    {2, EL_PING_HEARTBEATINTERVAL, "10"},
        {2, EL_PING_FOLDERS, NULL}, {3, EL_PING_FOLDER, NULL},
        {4, EL_PING_ID, "5"},       {4, EL_PING_CLASS, "Email"},
    };
    CHECK_TREE(&f->body, again);
    assert_int_equal(c.in.heartbeat_s, 10); /* the engine times the request with it */
    e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 1);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);

    /* a new Ping asking for 300 asks for 10; a status 5 naming 10 again ends the call */
    call_init(&c, EL_EAS_PING);
    c.in.folders[0] = "Inbox";
    c.in.nfolders = 1;
    c.in.heartbeat_s = 300;
    build(f, &c);
    CHECK_TREE(&f->body, again);
    e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 5);
    el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, 10);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);

    /* a lower bound raises what is asked */
    call_init(&c, EL_EAS_PING);
    c.in.folders[0] = "Inbox";
    c.in.nfolders = 1;
    c.in.heartbeat_s = 5;
    f->d.ping_min_s = 0;
    f->d.ping_max_s = 0;
    build(f, &c);
    e = resp(f);
    el_wbxml_start(e, EL_PING_PING);
    el_wbxml_uint(e, EL_PING_STATUS, 5);
    el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, 60);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 1);
    assert_int_equal(f->d.ping_min_s, 60);
    build(f, &c);
    assert_int_equal(c.in.heartbeat_s, 60);
}

/* ---- HTTP outcomes ------------------------------------------------------------------------- */

static void throttling_503_reads_retry_after_seconds_and_dates(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_FOLDERSYNC);
    struct el_http_result r = result(503, "busy", 4);
    r.retry_after = "120";
    r.ms_throttle = "OutOfBudgets";
    parse_http(f, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_THROTTLED);
    assert_int_equal(c.out.retry_after_s, 120);
    assert_int_equal(c.out.http_status, 503);
    assert_non_null(strstr(c.out.detail, "OutOfBudgets"));

    char date[64];
    time_t when = time(NULL) + 300;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    r = result(503, NULL, 0);
    r.retry_after = date;
    parse_http(f, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_THROTTLED);
    assert_true(c.out.retry_after_s >= 295 && c.out.retry_after_s <= 300);

    r = result(503, NULL, 0); /* none, or garbage: 0 = the device's own back-off */
    parse_http(f, &c, &r);
    assert_int_equal(c.out.retry_after_s, 0);
    r.retry_after = "soon";
    parse_http(f, &c, &r);
    assert_int_equal(c.out.retry_after_s, 0);
    r.retry_after = "Sun, 06 Nov 1994 08:49:37 GMT"; /* in the past */
    parse_http(f, &c, &r);
    assert_int_equal(c.out.retry_after_s, 0);
}

static void redirect_451_moves_the_base_url(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_FOLDERSYNC);
    struct el_http_result r = result(451, NULL, 0);
    r.ms_location = "https://mail2.example.com/Microsoft-Server-ActiveSync?Cmd=FolderSync";
    assert_int_equal(parse_http(f, &c, &r), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_REDIRECT);
    assert_string_equal(f->d.base_url, "https://mail2.example.com/Microsoft-Server-ActiveSync");
    build(f, &c);
    assert_true(strncmp(f->url, "https://mail2.example.com/Microsoft-Server-ActiveSync?Cmd=", 58) ==
                0);
    r.ms_location = "";
    parse_http(f, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_REDIRECT);
    assert_string_equal(f->d.base_url, "https://mail2.example.com/Microsoft-Server-ActiveSync");
    assert_non_null(strstr(c.out.detail, "X-MS-Location"));
}

static void transport_failures_and_http_errors_are_classified(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_SYNC);
    static const struct {
        long status;
        int curl;
        long verify;
        int rc;
        int cls;
    } cases[] = {
        {401, 0, 0, 0, EL_EAS_CLASS_AUTH},
        {403, 0, 0, 0, EL_EAS_CLASS_AUTH},
        {500, 0, 0, 0, EL_EAS_CLASS_HTTP_STATUS},
        {404, 0, 0, 0, EL_EAS_CLASS_HTTP_STATUS},
        {0, CURLE_OPERATION_TIMEDOUT, 0, EL_EIO, EL_EAS_CLASS_TIMEOUT},
        {0, CURLE_COULDNT_CONNECT, 0, EL_EIO, EL_EAS_CLASS_NETWORK},
        {0, CURLE_GOT_NOTHING, 0, EL_EIO, EL_EAS_CLASS_NETWORK},
        {0, CURLE_PEER_FAILED_VERIFICATION, 20, EL_EIO, EL_EAS_CLASS_TLS},
        {0, CURLE_SSL_CONNECT_ERROR, 0, EL_EIO, EL_EAS_CLASS_TLS},
        {0, 0, 0, EL_ECANCELED, EL_EAS_CLASS_CANCELED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct el_http_result r = result(cases[i].status, NULL, 0);
        r.curl_code = cases[i].curl;
        r.tls_verify_error = cases[i].verify;
        r.rc = cases[i].rc;
        r.curl_error = "something failed";
        assert_int_equal(parse_http(f, &c, &r), 0);
        assert_int_equal(c.out.cls, cases[i].cls);
        assert_true(c.out.detail[0] != 0);
        assert_null(strstr(c.out.detail, PASSWORD));
    }
}

/* ---- bodies that are not what they should be ---------------------------------------------- */

static void truncated_and_garbage_bodies_are_malformed_with_an_offset(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_FOLDERSYNC);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 1);
    el_wbxml_text(e, EL_FH_SYNCKEY, "h9");
    el_wbxml_start(e, EL_FH_CHANGES);
    el_wbxml_start(e, EL_FH_DELETE);
    el_wbxml_text(e, EL_FH_SERVERID, "5");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(el_wbxml_encoder_finish(e, NULL), 0);
    for (size_t n = 1; n < f->resp.len; n++) {
        struct el_http_result r = result(200, f->resp.data, n);
        assert_int_equal(el_eas_parse(&f->d, &c, &r), 0);
        assert_int_equal(c.out.cls, EL_EAS_CLASS_MALFORMED);
        assert_non_null(strstr(c.out.detail, "byte "));
        /* nothing of a half answer is applied */
        assert_int_equal(f->d.nfolders, 7);
        assert_string_equal(f->d.hierarchy_key, "h1");
    }
    static const char html[] = "<html><body>Service Unavailable</body></html>";
    struct el_http_result r = result(200, html, sizeof(html) - 1);
    el_eas_parse(&f->d, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_MALFORMED);
    assert_non_null(strstr(c.out.detail, "byte 0"));
    r = result(200, NULL, 0); /* FolderSync must have a body */
    el_eas_parse(&f->d, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_MALFORMED);
    assert_non_null(strstr(c.out.detail, "byte 0"));
    /* a well-formed answer of another command */
    e = resp(f);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_uint(e, EL_AS_STATUS, 1);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_MALFORMED);
    assert_non_null(strstr(c.out.detail, "byte 4: root <Sync>, expected <FolderSync>"));
}

/* Sync is parsed in one pass (EL__EAS_ONE_PASS): a body cut anywhere leaves neither the folder
 * state nor the counts, push stamps or MoreAvailable the events saw before the cut. */
static void truncated_sync_applies_nothing_and_reports_nothing(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_SYNC);
    c.in.folder = "Inbox";
    struct el_eas_folder *inbox = el_eas_device_folder(&f->d, "Inbox");
    snprintf(inbox->sync_key, sizeof(inbox->sync_key), "%s", "s1");
    struct el_wbxml_encoder *e = resp(f);
    sync_response_begin(e, "s2", 1);
    el_wbxml_empty(e, EL_AS_MOREAVAILABLE);
    el_wbxml_start(e, EL_AS_COMMANDS);
    mail_add(e, "5:1", "easload-push:1700000000123456");
    mail_add(e, "5:2", "Lunch?");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(el_wbxml_encoder_finish(e, NULL), 0);
    for (size_t n = 1; n < f->resp.len; n++) {
        struct el_http_result r = result(200, f->resp.data, n);
        assert_int_equal(el_eas_parse(&f->d, &c, &r), 0);
        assert_int_equal(c.out.cls, EL_EAS_CLASS_MALFORMED);
        assert_non_null(strstr(c.out.detail, "byte "));
        assert_int_equal(c.out.http_status, 200);
        assert_int_equal(c.out.added, 0);
        assert_int_equal(c.out.npushed, 0);
        assert_int_equal(c.out.more, 0);
        assert_string_equal(inbox->sync_key, "s1");
        assert_string_equal(inbox->last_item, "");
    }
    /* the whole body: applied (the control) */
    struct el_http_result r = result(200, f->resp.data, f->resp.len);
    assert_int_equal(el_eas_parse(&f->d, &c, &r), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.added, 2);
    assert_int_equal(c.out.npushed, 1);
    assert_int_equal(c.out.more, 1);
    assert_string_equal(inbox->sync_key, "s2");
    assert_string_equal(inbox->last_item, "5:2");
}

/* A Sync answer with MoreAvailable, two Adds (the first a pushed test mail) and a Delete; with
 * long_text the second Add's body is that text and the same bytes as OPAQUE. */
static void sync_sample(struct el_wbxml_encoder *e, const char *long_text)
{
    sync_response_begin(e, "s2", 1);
    el_wbxml_empty(e, EL_AS_MOREAVAILABLE);
    el_wbxml_start(e, EL_AS_COMMANDS);
    mail_add(e, "5:1", "easload-push:1700000000000001");
    if (long_text == NULL) {
        mail_add(e, "5:2", "x");
    } else {
        el_wbxml_start(e, EL_AS_ADD);
        el_wbxml_text(e, EL_AS_SERVERID, "5:2");
        el_wbxml_start(e, EL_AS_APPLICATIONDATA);
        el_wbxml_start(e, EL_ASB_BODY);
        el_wbxml_text(e, EL_ASB_DATA, long_text);
        el_wbxml_opaque_elem(e, EL_ASB_PREVIEW, long_text, strlen(long_text));
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
    }
    el_wbxml_start(e, EL_AS_DELETE);
    el_wbxml_text(e, EL_AS_SERVERID, "5:0");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
}

/* Responses for the mutation run: each a valid answer to its command. */
static size_t sample(struct fx *f, int which, struct el_eas_call *c)
{
    struct el_wbxml_encoder *e = resp(f);
    switch (which) {
    case 0:
        call_init(c, EL_EAS_SYNC);
        sync_sample(e, NULL);
        break;
    case 1:
        call_init(c, EL_EAS_FOLDERSYNC);
        el_wbxml_start(e, EL_FH_FOLDERSYNC);
        el_wbxml_uint(e, EL_FH_STATUS, 1);
        el_wbxml_text(e, EL_FH_SYNCKEY, "h2");
        el_wbxml_start(e, EL_FH_CHANGES);
        el_wbxml_start(e, EL_FH_ADD);
        el_wbxml_text(e, EL_FH_SERVERID, "30");
        el_wbxml_text(e, EL_FH_PARENTID, "0");
        el_wbxml_text(e, EL_FH_DISPLAYNAME, "New");
        el_wbxml_uint(e, EL_FH_TYPE, 12);
        el_wbxml_end(e);
        el_wbxml_start(e, EL_FH_DELETE);
        el_wbxml_text(e, EL_FH_SERVERID, "6");
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
        break;
    case 2:
        call_init(c, EL_EAS_PROVISION);
        provision_response(f, 99);
        break;
    case 3:
        call_init(c, EL_EAS_PING);
        el_wbxml_start(e, EL_PING_PING);
        el_wbxml_uint(e, EL_PING_STATUS, 2);
        el_wbxml_start(e, EL_PING_FOLDERS);
        el_wbxml_text(e, EL_PING_FOLDER, "5");
        el_wbxml_end(e);
        el_wbxml_end(e);
        break;
    case 4:
        call_init(c, EL_EAS_SEARCH);
        el_wbxml_start(e, EL_SEARCH_SEARCH);
        el_wbxml_uint(e, EL_SEARCH_STATUS, 1);
        el_wbxml_start(e, EL_SEARCH_RESPONSE);
        el_wbxml_start(e, EL_SEARCH_STORE);
        el_wbxml_uint(e, EL_SEARCH_STATUS, 1);
        el_wbxml_start(e, EL_SEARCH_RESULT);
        el_wbxml_start(e, EL_SEARCH_PROPERTIES);
        el_wbxml_text(e, EL_GAL_DISPLAYNAME, "Bob");
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_text(e, EL_SEARCH_RANGE, "0-0");
        el_wbxml_uint(e, EL_SEARCH_TOTAL, 1);
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
        break;
    default:
        call_init(c, EL_EAS_ITEMOPERATIONS);
        el_wbxml_start(e, EL_IO_ITEMOPERATIONS);
        el_wbxml_uint(e, EL_IO_STATUS, 1);
        el_wbxml_start(e, EL_IO_RESPONSE);
        el_wbxml_start(e, EL_IO_FETCH);
        el_wbxml_uint(e, EL_IO_STATUS, 1);
        el_wbxml_start(e, EL_IO_PROPERTIES);
        el_wbxml_start(e, EL_ASB_BODY);
        el_wbxml_opaque_elem(e, EL_ASB_DATA, "0123456789", 10);
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
        break;
    }
    return f->resp.len;
}

static void random_mutations_never_crash_the_parser(void **state)
{
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    unsigned malformed = 0, runs = 0;
    uint8_t *m = malloc(4096);
    assert_non_null(m);
    for (int which = 0; which < 6; which++) {
        struct fx *f = fx_new("android-14.1", "alice@example.com");
        give_folders(f);
        struct el_eas_call c;
        size_t n = sample(f, which, &c);
        assert_int_equal(el_wbxml_encoder_finish(&f->enc, NULL), 0);
        assert_true(n > 4 && n < 4096);
        for (int i = 0; i < 10000 / 6 + 1; i++) {
            memcpy(m, f->resp.data, n);
            size_t len = n;
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            unsigned k = 1 + (unsigned)(seed % 4);
            for (unsigned j = 0; j < k; j++) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                size_t at = 4 + (size_t)(seed >> 8) % (len - 4);
                switch (seed % 5) {
                case 0: /* flip a byte */
                    m[at] ^= (uint8_t)(seed >> 40);
                    break;
                case 1: /* truncate */
                    len = at > 4 ? at : 5;
                    break;
                case 2: /* a global token */
                    m[at] = (uint8_t)((seed >> 32) % 5 | ((seed >> 36) % 4) << 6);
                    break;
                case 3: /* a huge OPAQUE */
                    m[at] = 0xC3;
                    break;
                default: /* a page switch */
                    m[at] = 0x00;
                    break;
                }
            }
            struct el_http_result r = result(200, m, len);
            c.step = 0;
            el_eas_parse(&f->d, &c, &r);
            runs++;
            assert_true(c.out.cls >= 0 && c.out.cls < EL_EAS_CLASS_COUNT);
            assert_true(memchr(c.out.detail, 0, sizeof(c.out.detail)) != NULL);
            if (c.out.cls == EL_EAS_CLASS_MALFORMED) {
                malformed++;
                assert_true(strstr(c.out.detail, "byte ") != NULL ||
                            strstr(c.out.detail, "without") != NULL ||
                            strstr(c.out.detail, "folders") != NULL ||
                            strstr(c.out.detail, "PolicyKey") != NULL);
            }
            assert_true(f->d.nfolders <= 4096);
            f->d.wiped = 0;
        }
        fx_free(f);
    }
    free(m);
    assert_true(runs >= 10000);
    assert_true(malformed > runs / 4);
}

/* ---- Search, ItemOperations, compose, MoveItems, Settings, OPTIONS, RAW ------------------- */

static void search_mailbox_and_gal(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_SEARCH);
    c.in.query = "report";
    c.in.range_max = 24;
    build(f, &c);
    const struct exp mbx[] = {
        {1, EL_SEARCH_SEARCH, NULL},
        {2, EL_SEARCH_STORE, NULL},
        {3, EL_SEARCH_NAME, "Mailbox"},
        {3, EL_SEARCH_QUERY, NULL},
        {4, EL_SEARCH_AND, NULL},
        {5, EL_AS_CLASS, "Email"},
        {5, EL_AS_COLLECTIONID, "5"},
        {5, EL_SEARCH_FREETEXT, "report"},
        {3, EL_SEARCH_OPTIONS, NULL},
        {4, EL_SEARCH_RANGE, "0-24"},
        {4, EL_SEARCH_REBUILDRESULTS, NULL},
        {4, EL_ASB_BODYPREFERENCE, NULL},
        {5, EL_ASB_TYPE, "1"},
        {5, EL_ASB_TRUNCATIONSIZE, "256"},
    };
    CHECK_TREE(&f->body, mbx);

    c.in.store = "GAL";
    c.in.query = "smi";
    c.in.range_max = 0;
    build(f, &c);
    const struct exp gal[] = {
        {1, EL_SEARCH_SEARCH, NULL}, {2, EL_SEARCH_STORE, NULL},   {3, EL_SEARCH_NAME, "GAL"},
        {3, EL_SEARCH_QUERY, "smi"}, {3, EL_SEARCH_OPTIONS, NULL}, {4, EL_SEARCH_RANGE, "0-9"},
    };
    CHECK_TREE(&f->body, gal);
    sample(f, 4, &c);
    c.in.store = "GAL";
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.results, 1);
    assert_int_equal(c.out.count, 1);

    struct el_wbxml_encoder *e = resp(f); /* Store status 12: past the end of the range */
    el_wbxml_start(e, EL_SEARCH_SEARCH);
    el_wbxml_uint(e, EL_SEARCH_STATUS, 1);
    el_wbxml_start(e, EL_SEARCH_RESPONSE);
    el_wbxml_start(e, EL_SEARCH_STORE);
    el_wbxml_uint(e, EL_SEARCH_STATUS, 12);
    el_wbxml_empty(e, EL_SEARCH_RESULT);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 12);
    assert_int_equal(c.out.results, 0);

    call_init(&c, EL_EAS_SEARCH);
    assert_int_equal(build_fails(f, &c, NULL, 0), EL_EINVAL); /* no query */
}

static void itemoperations_fetches_the_remembered_item(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_ITEMOPERATIONS);
    char msg[256];
    assert_int_equal(build_fails(f, &c, msg, sizeof(msg)), EL_EINVAL);
    assert_non_null(strstr(msg, "nothing to fetch"));
    memcpy(el_eas_device_folder(&f->d, "Inbox")->last_item, "5:9", 4);
    c.in.body_type = 4;
    build(f, &c);
    const struct exp req[] = {
        {1, EL_IO_ITEMOPERATIONS, NULL},  {2, EL_IO_FETCH, NULL},     {3, EL_IO_STORE, "Mailbox"},
        {3, EL_AS_COLLECTIONID, "5"},     {3, EL_AS_SERVERID, "5:9"}, {3, EL_IO_OPTIONS, NULL},
        {4, EL_ASB_BODYPREFERENCE, NULL}, {5, EL_ASB_TYPE, "4"},
    };
    CHECK_TREE(&f->body, req);
    sample(f, 5, &c);
    c.cmd = EL_EAS_ITEMOPERATIONS;
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.bytes, 10);

    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_IO_ITEMOPERATIONS);
    el_wbxml_uint(e, EL_IO_STATUS, 1);
    el_wbxml_start(e, EL_IO_RESPONSE);
    el_wbxml_start(e, EL_IO_FETCH);
    el_wbxml_uint(e, EL_IO_STATUS, 6);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 6);
}

/* Feeds body[0, n) to a stream in pieces of `piece` bytes and parses it as a 200 answer. */
static int parse_streamed(struct fx *f, struct el_eas_call *c, const uint8_t *body, size_t n,
                          size_t piece)
{
    struct el_eas_stream *s = el_eas_stream_new();
    assert_non_null(s);
    assert_true(el_eas_streams(c->cmd));
    el_eas_stream_begin(s, &f->d, c);
    for (size_t at = 0; at < n; at += piece)
        el_eas_stream_feed(s, body + at, n - at < piece ? n - at : piece);
    struct el_http_result r = result(200, NULL, 0); /* the body went to the stream */
    int more = el_eas_parse_stream(s, &r);
    el_eas_stream_free(s);
    return more;
}

/* A Sync answer read as it arrives (engine: Sync, Search, ItemOperations bodies go from curl's
 * buffer to the decoder) gives what el_eas_parse gives on the whole body, for every piece size,
 * also with text longer than the decoder keeps of a value cut by a piece's end; a cut answer
 * applies and reports nothing; the other commands are read whole. */
static void streamed_sync_equals_whole_for_every_piece_size(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    assert_false(el_eas_streams(EL_EAS_FOLDERSYNC));
    assert_false(el_eas_streams(EL_EAS_PING));
    assert_true(el_eas_streams(EL_EAS_SEARCH));
    struct el_eas_call c;
    call_init(&c, EL_EAS_SYNC);
    c.in.folder = "Inbox";
    struct el_eas_folder *inbox = el_eas_device_folder(&f->d, "Inbox");
    char body[3000];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    struct el_wbxml_encoder *e = resp(f);
    sync_sample(e, body);
    assert_int_equal(el_wbxml_encoder_finish(e, NULL), 0);
    const uint8_t *doc = f->resp.data;
    size_t len = f->resp.len;

    snprintf(inbox->sync_key, sizeof(inbox->sync_key), "%s", "s1");
    struct el_http_result r = result(200, doc, len);
    assert_int_equal(el_eas_parse(&f->d, &c, &r), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.added, 2);
    assert_int_equal(c.out.deleted, 1);
    assert_int_equal(c.out.npushed, 1);
    assert_string_equal(inbox->sync_key, "s2");
    struct el_eas_call whole = c;
    uint32_t items = inbox->items;

    static const size_t pieces[] = {1, 2, 3, 7, 64, 255, 256, 257, 1000, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        snprintf(inbox->sync_key, sizeof(inbox->sync_key), "%s", "s1");
        inbox->items = 0;
        inbox->last_item[0] = '\0';
        assert_int_equal(parse_streamed(f, &c, doc, len, pieces[i]), 0);
        assert_memory_equal(&c.out, &whole.out, sizeof(c.out));
        assert_string_equal(inbox->sync_key, "s2");
        assert_string_equal(inbox->last_item, "5:2");
        assert_int_equal(inbox->items, items);
    }
    /* cut anywhere: nothing applied, nothing reported, the decoder's byte offset named */
    for (size_t n = 1; n < len; n += 97) {
        snprintf(inbox->sync_key, sizeof(inbox->sync_key), "%s", "s1");
        assert_int_equal(parse_streamed(f, &c, doc, n, 5), 0);
        assert_int_equal(c.out.cls, EL_EAS_CLASS_MALFORMED);
        assert_non_null(strstr(c.out.detail, "byte "));
        assert_int_equal(c.out.added, 0);
        assert_int_equal(c.out.npushed, 0);
        assert_string_equal(inbox->sync_key, "s1");
    }
    /* data after the document, and another command's document */
    static uint8_t twice[16384];
    assert_true(2 * len <= sizeof(twice));
    memcpy(twice, doc, len);
    memcpy(twice + len, doc, len);
    assert_int_equal(parse_streamed(f, &c, twice, 2 * len, 100), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_MALFORMED);
    assert_non_null(strstr(c.out.detail, "data after the root element"));
    e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 1);
    el_wbxml_end(e);
    assert_int_equal(el_wbxml_encoder_finish(e, NULL), 0);
    assert_int_equal(parse_streamed(f, &c, f->resp.data, f->resp.len, 3), 0);
    assert_non_null(strstr(c.out.detail, "byte 6: root <FolderSync>, expected <Sync>"));
}

/* ItemOperations counts the fetched Data bytes in full, also when a piece's end cuts them. */
static void streamed_itemoperations_counts_every_data_byte(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_ITEMOPERATIONS);
    static uint8_t data[5000];
    memset(data, 'm', sizeof(data));
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_IO_ITEMOPERATIONS);
    el_wbxml_uint(e, EL_IO_STATUS, 1);
    el_wbxml_start(e, EL_IO_RESPONSE);
    el_wbxml_start(e, EL_IO_FETCH);
    el_wbxml_uint(e, EL_IO_STATUS, 1);
    el_wbxml_start(e, EL_IO_PROPERTIES);
    el_wbxml_opaque_elem(e, EL_IO_DATA, data, sizeof(data));
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(el_wbxml_encoder_finish(e, NULL), 0);
    assert_int_equal(parse_streamed(f, &c, f->resp.data, f->resp.len, 1000), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.bytes, sizeof(data));
}

static void sendmail_carries_a_realistic_mime_message(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_SENDMAIL);
    c.in.to = "bob@example.com";
    c.in.subject = "Hello\r\nBcc: evil@example.com";
    c.in.body_bytes = 5000;
    build(f, &c);
    struct node nodes[16];
    unsigned n = flatten(f->body.data, f->body.len, nodes, 16);
    assert_int_equal(n, 4);
    assert_int_equal(nodes[0].tag, EL_CM_SENDMAIL);
    assert_int_equal(nodes[1].tag, EL_CM_CLIENTID);
    assert_true(strlen(nodes[1].text) > 0);
    assert_int_equal(nodes[2].tag, EL_CM_SAVEINSENTITEMS);
    assert_int_equal(nodes[3].tag, EL_CM_MIME);
    assert_true(nodes[3].opaque);
    /* the MIME is the tail of the body: headers, a blank line, exactly body_bytes */
    const char *mime = (const char *)f->body.data + f->body.len - 2 - nodes[3].len; /* 2 ENDs */
    const char *end = strstr(mime, "\r\n\r\n");
    assert_non_null(end);
    assert_int_equal(nodes[3].len - (size_t)(end + 4 - mime), 5000);
    char hdrs[2048];
    memcpy(hdrs, mime, (size_t)(end - mime));
    hdrs[end - mime] = 0;
    assert_non_null(strstr(hdrs, "To: bob@example.com\r\n"));
    assert_non_null(strstr(hdrs, "Subject: Hello  Bcc: evil@example.com\r\n")); /* one line */
    assert_null(strstr(hdrs, "\r\nBcc:"));
    assert_non_null(strstr(hdrs, "\r\nDate: "));
    assert_non_null(strstr(hdrs, "\r\nMessage-ID: <"));
    assert_non_null(strstr(hdrs, "MIME-Version: 1.0"));
    assert_null(strstr((const char *)f->body.data, PASSWORD));

    /* success is an empty 200; a Status is a failure */
    struct el_http_result r = result(200, NULL, 0);
    assert_int_equal(parse_http(f, &c, &r), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_CM_SENDMAIL);
    el_wbxml_uint(e, EL_CM_STATUS, 118);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 118);
    assert_non_null(strstr(c.out.detail, "MessagePreviouslySent"));

    /* a second message has another ClientId */
    char first[256];
    snprintf(first, sizeof(first), "%s", nodes[1].text);
    build(f, &c);
    flatten(f->body.data, f->body.len, nodes, 16);
    assert_string_not_equal(first, nodes[1].text);

    call_init(&c, EL_EAS_SMARTREPLY); /* no item to reply to yet */
    c.in.to = "bob@example.com";
    assert_int_equal(build_fails(f, &c, NULL, 0), EL_EINVAL);
    memcpy(el_eas_device_folder(&f->d, "Inbox")->last_item, "5:4", 4);
    build(f, &c);
    n = flatten(f->body.data, f->body.len, nodes, 16);
    const uint16_t want[] = {EL_CM_SMARTREPLY, EL_CM_CLIENTID,        EL_CM_SOURCE, EL_CM_FOLDERID,
                             EL_CM_ITEMID,     EL_CM_SAVEINSENTITEMS, EL_CM_MIME};
    assert_int_equal(n, 7);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(nodes[i].tag, want[i]);
    assert_string_equal(nodes[3].text, "5");
    assert_string_equal(nodes[4].text, "5:4");
    assert_non_null(strstr(f->url, "?Cmd=SmartReply&"));
}

static void sendmail_of_a_12_1_device_posts_raw_mime(void **state)
{
    (void)state;
    struct fx *f = fx_new("wm-12.1", "bob@example.com");
    give_folders(f);
    struct el_eas_call c;
    call_init(&c, EL_EAS_SENDMAIL);
    c.in.body_bytes = 100;
    build(f, &c); /* no recipient: a note to self */
    assert_true(strncmp((const char *)f->body.data, "From: bob@example.com\r\nTo: bob@example.com",
                        42) == 0);
    assert_non_null(strstr(f->url, "&DeviceType=PocketPC&SaveInSent=T"));
    assert_string_equal(header(el_eas_headers(&f->d, &c), "Content-Type"),
                        "Content-Type: message/rfc822");
    assert_non_null(header(el_eas_headers(&f->d, &c), "Authorization"));
    memcpy(el_eas_device_folder(&f->d, "Inbox")->last_item, "5:4", 4);
    call_init(&c, EL_EAS_SMARTFORWARD);
    c.in.to = "carol@example.com";
    build(f, &c);
    assert_non_null(strstr(f->url, "&SaveInSent=T&ItemId=5%3A4&CollectionId=5") ||
                    strstr(f->url, "&SaveInSent=T&ItemId=5:4&CollectionId=5"));
    struct el_eas_call s;
    call_init(&s, EL_EAS_SYNC);
    assert_string_equal(header(el_eas_headers(&f->d, &s), "Content-Type"),
                        "Content-Type: application/vnd.ms-sync.wbxml");
    struct el_http_result r = result(200, NULL, 0);
    el_eas_parse(&f->d, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    fx_free(f);
}

static void moveitems_succeeds_with_status_3(void **state)
{
    struct fx *f = *state;
    give_folders(f);
    struct el_eas_folder *in = el_eas_device_folder(&f->d, "Inbox");
    memcpy(in->last_item, "5:4", 4);
    in->items = 2;
    struct el_eas_call c;
    call_init(&c, EL_EAS_MOVEITEMS);
    c.in.dest = "deleted";
    build(f, &c);
    const struct exp req[] = {
        {1, EL_MOVE_MOVEITEMS, NULL}, {2, EL_MOVE_MOVE, NULL},    {3, EL_MOVE_SRCMSGID, "5:4"},
        {3, EL_MOVE_SRCFLDID, "5"},   {3, EL_MOVE_DSTFLDID, "7"},
    };
    CHECK_TREE(&f->body, req);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_MOVE_MOVEITEMS);
    el_wbxml_start(e, EL_MOVE_RESPONSE);
    el_wbxml_text(e, EL_MOVE_SRCMSGID, "5:4");
    el_wbxml_uint(e, EL_MOVE_STATUS, 3);
    el_wbxml_text(e, EL_MOVE_DSTMSGID, "7:1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(parse_ok(f, &c), 0);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(c.out.status, 3);
    assert_string_equal(in->last_item, "");
    assert_int_equal(in->items, 1);
    assert_string_equal(el_eas_device_folder(&f->d, "deleted")->last_item, "7:1");

    e = resp(f);
    el_wbxml_start(e, EL_MOVE_MOVEITEMS);
    el_wbxml_start(e, EL_MOVE_RESPONSE);
    el_wbxml_uint(e, EL_MOVE_STATUS, 1);
    el_wbxml_end(e);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 1);
}

static void settings_sends_device_information_and_asks_for_oof(void **state)
{
    struct fx *f = *state;
    struct el_eas_call c;
    call_init(&c, EL_EAS_SETTINGS);
    build(f, &c);
    const struct el_eas_profile *p = f->d.profile;
    const struct exp req[] = {
        {1, EL_SET_SETTINGS, NULL},
        {2, EL_SET_OOF, NULL},
        {3, EL_SET_GET, NULL},
        {4, EL_SET_BODYTYPE, "Text"},
        {2, EL_SET_DEVICEINFORMATION, NULL},
        {3, EL_SET_SET, NULL},
        {4, EL_SET_MODEL, p->model},
        {4, EL_SET_FRIENDLYNAME, "*"},
        {4, EL_SET_OS, p->os},
        {4, EL_SET_OSLANGUAGE, "English"},
        {4, EL_SET_USERAGENT, p->user_agent},
    };
    CHECK_TREE(&f->body, req);
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_SET_SETTINGS);
    el_wbxml_uint(e, EL_SET_STATUS, 1);
    el_wbxml_start(e, EL_SET_OOF);
    el_wbxml_uint(e, EL_SET_STATUS, 1);
    el_wbxml_start(e, EL_SET_GET);
    el_wbxml_uint(e, EL_SET_OOFSTATE, 0);
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_SET_DEVICEINFORMATION);
    el_wbxml_uint(e, EL_SET_STATUS, 5);
    el_wbxml_end(e);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 5);
}

static void options_settles_on_a_common_version(void **state)
{
    (void)state;
    struct fx *f = fx_new("ios-16.1", "carol");
    struct el_eas_call c;
    call_init(&c, EL_EAS_OPTIONS);
    build(f, &c);
    assert_string_equal(f->method, "OPTIONS");
    assert_string_equal(f->url, "http://127.0.0.1:8080/Microsoft-Server-ActiveSync");
    assert_int_equal(f->body.len, 0);
    struct el_http_result r = result(200, NULL, 0);
    r.ms_versions = "2.5,12.0,12.1,14.0,14.1";
    el_eas_parse(&f->d, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(f->d.version, 141);
    assert_string_equal(header(f->d.headers, "MS-ASProtocolVersion"), "MS-ASProtocolVersion: 14.1");
    r.ms_versions = "";
    el_eas_parse(&f->d, &c, &r);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_OK);
    assert_int_equal(f->d.version, 141);
    fx_free(f);
}

static void raw_sends_the_caller_s_wbxml(void **state)
{
    struct fx *f = *state;
    static const uint8_t fs0[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56,
                                  0x52, 0x03, 0x30, 0x00, 0x01, 0x01};
    struct el_eas_call c;
    call_init(&c, EL_EAS_RAW);
    c.in.raw = fs0;
    c.in.raw_len = sizeof(fs0);
    c.in.raw_cmd = "FolderSync";
    build(f, &c);
    assert_memory_equal(f->body.data, fs0, sizeof(fs0));
    assert_non_null(strstr(f->url, "?Cmd=FolderSync&User="));
    struct el_wbxml_encoder *e = resp(f);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_uint(e, EL_FH_STATUS, 9);
    el_wbxml_end(e);
    parse_ok(f, &c);
    assert_int_equal(c.out.cls, EL_EAS_CLASS_EAS_STATUS);
    assert_int_equal(c.out.status, 9);
    assert_string_equal(f->d.hierarchy_key, "0"); /* RAW leaves the device alone */
    c.in.raw_cmd = "Foo&Bar";
    assert_int_equal(build_fails(f, &c, NULL, 0), EL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(device_id_is_derived_from_the_index),
        T(headers_carry_version_agent_auth_and_the_key_once_known),
        T(profiles_are_found_by_name),
        T(commands_and_classes_have_names),
        T(folders_are_found_by_name_id_and_type),
        T(provision_runs_two_phases_and_keeps_the_final_key),
        T(provision_of_a_12_1_device_has_no_device_information),
        T(provisioning_signals_are_class_provision),
        T(remote_wipe_is_acknowledged_then_the_device_stops),
        T(foldersync_applies_adds_updates_and_deletes),
        T(foldersync_grows_past_many_folders),
        T(sync_primes_with_key_0_then_pages_through_items),
        T(sync_sends_client_adds_changes_and_deletes),
        T(sync_of_a_12_1_device_names_the_class_first),
        T(sync_of_an_unknown_folder_is_a_scenario_error),
        T(estimate_uses_the_version_s_form),
        T(ping_watches_folders_and_reports_changes),
        T(ping_status_5_bound_is_kept_and_the_ping_sent_again_inside_it),
        T(throttling_503_reads_retry_after_seconds_and_dates),
        T(redirect_451_moves_the_base_url),
        T(transport_failures_and_http_errors_are_classified),
        T(truncated_and_garbage_bodies_are_malformed_with_an_offset),
        T(truncated_sync_applies_nothing_and_reports_nothing),
        T(streamed_sync_equals_whole_for_every_piece_size),
        T(streamed_itemoperations_counts_every_data_byte),
        T(random_mutations_never_crash_the_parser),
        T(search_mailbox_and_gal),
        T(itemoperations_fetches_the_remembered_item),
        T(sendmail_carries_a_realistic_mime_message),
        T(sendmail_of_a_12_1_device_posts_raw_mime),
        T(moveitems_succeeds_with_status_3),
        T(settings_sends_device_information_and_asks_for_oof),
        T(options_settles_on_a_common_version),
        T(raw_sends_the_caller_s_wbxml),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
