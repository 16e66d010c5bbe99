/* test_srv_provision.c - the EAS side's state, users, auth, dispatch and Provision: both phases,
 * policy-key enforcement (142/144/143 in the body for 14.x, HTTP 449 for 12.1), remote wipe
 * and account-only wipe, DeviceInformation, malformed WBXML (102 / 400), CSV user errors. */
#include "test_srv_util.h"

#include <unistd.h>

static unsigned fs_status(struct t_srv *t)
{
    const char *s = t_text(t, 0, EL_FH_FOLDERSYNC, EL_FH_STATUS, 0);
    assert_non_null(s);
    return (unsigned)atoi(s);
}

static void auth_accepts_only_the_right_password(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 3, 10, 141);
    assert_non_null(el_srv_auth(t.st, "user2", 5, "pass2", 5));
    assert_null(el_srv_auth(t.st, "user2", 5, "pass1", 5));
    assert_null(el_srv_auth(t.st, "user2", 5, "pass22", 6));
    assert_null(el_srv_auth(t.st, "user2", 5, "pass", 4));
    assert_null(el_srv_auth(t.st, "nobody", 6, "pass1", 5));
    assert_string_equal(el_srv_auth(t.st, "user3", 5, "pass3", 5)->email, "user3@example.test");
    t_close(&t);
}

static void command_names_round_trip_through_the_table(void **state)
{
    (void)state;
    assert_string_equal(el_srv_cmd_name(EL_SRV_FOLDERSYNC), "FolderSync");
    assert_int_equal(el_srv_cmd_lookup("Ping", 4), EL_SRV_PING);
    assert_int_equal(el_srv_cmd_lookup("Bogus", 5), -1);
    assert_null(el_srv_cmd_name(5));
}

static void provision_two_phases_give_a_final_key_and_a_policy_document(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 2, 10, 141);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_SET_DEVICEINFORMATION);
    el_wbxml_start(e, EL_SET_SET);
    el_wbxml_text(e, EL_SET_MODEL, "Pixel 8");
    el_wbxml_text(e, EL_SET_OS, "Android 14");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_string_equal(
        t_text(&t, 0, EL_PROV_PROVISION, EL_SET_DEVICEINFORMATION, EL_SET_STATUS, 0), "1");
    assert_string_equal(t_text(&t, 0, EL_PROV_PROVISION, EL_PROV_STATUS, 0), "1");
    uint32_t pol = t_node(&t, 0, EL_PROV_PROVISION, EL_PROV_POLICIES, EL_PROV_POLICY, 0);
    assert_string_equal(t_text(&t, pol, EL_PROV_POLICYTYPE, 0), "MS-EAS-Provisioning-WBXML");
    assert_string_equal(t_text(&t, pol, EL_PROV_STATUS, 0), "1");
    assert_non_null(t_text(&t, pol, EL_PROV_POLICYKEY, 0));
    uint32_t doc = t_node(&t, pol, EL_PROV_DATA, EL_PROV_EASPROVISIONDOC, 0);
    assert_string_equal(t_text(&t, doc, EL_PROV_DEVICEPASSWORDENABLED, 0), "1");
    assert_string_equal(t_text(&t, doc, EL_PROV_MINDEVICEPASSWORDLENGTH, 0), "4");
    assert_string_equal(t_text(&t, doc, EL_PROV_MAXATTACHMENTSIZE, 0), "");
    /* the device information was stored */
    struct el__user *u = el__user_by_name(t.st, "user1", 5);
    assert_string_equal(el__device_find(u, "Dev1")->info->model, "Pixel 8");

    /* the full helper: temporary key, ack, final key */
    t_provision(&t);
    assert_true(t.policy_key != 0);
    assert_string_equal(t_foldersync(&t, "0") ? "ok" : "", "ok");
    assert_int_equal(fs_status(&t), 1);
    t_close(&t);
}

static void provision_ack_of_a_wrong_key_gets_policy_status_5(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 140);
    t_provision(&t);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_text(e, EL_PROV_POLICYKEY, "12345");
    el_wbxml_text(e, EL_PROV_STATUS, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_string_equal(
        t_text(&t, 0, EL_PROV_PROVISION, EL_PROV_POLICIES, EL_PROV_POLICY, EL_PROV_STATUS, 0), "5");
    /* unknown policy type -> 3 */
    e = t_begin(&t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-WAP-Provisioning-XML");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_string_equal(
        t_text(&t, 0, EL_PROV_PROVISION, EL_PROV_POLICIES, EL_PROV_POLICY, EL_PROV_STATUS, 0), "3");
    t_close(&t);
}

static void commands_without_a_valid_key_get_142_or_144_in_14x(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t.send_key = 0;
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 142);
    assert_null(t_text(&t, 0, EL_FH_FOLDERSYNC, EL_FH_SYNCKEY, 0));
    t_provision(&t);
    uint32_t good = t.policy_key;
    t.policy_key = good + 1;
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 144);
    t.policy_key = good;
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    /* a Ping without the header is fine once provisioned; Sync reports in its own Status */
    t.policy_key = 7;
    t_sync(&t, "0", "1", NULL);
    assert_string_equal(t_text(&t, 0, EL_AS_SYNC, EL_AS_STATUS, 0), "144");
    t_close(&t);
}

static void commands_without_a_valid_key_get_449_in_121(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 121);
    t.send_key = 0;
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_text(e, EL_FH_SYNCKEY, "0");
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_FOLDERSYNC), 449);
    assert_int_equal(t.body.len, 0);
    t_provision(&t);
    t.policy_key++;
    e = t_begin(&t);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_text(e, EL_FH_SYNCKEY, "0");
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_FOLDERSYNC), 449);
    t.policy_key--;
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    t_close(&t);
}

/* --no-policy (bench/peers): no key needed in 14.1 nor 12.1, a wrong key passes too; a
 * pending wipe still gets 140 */
static void no_policy_lets_commands_through_without_a_key(void **state)
{
    (void)state;
    struct el_srv_config cfg = {.nusers = 1, .seed = 5, .items_per_folder = 5, .no_policy = 1};
    struct el_srv_state *st;
    assert_int_equal(el_srv_state_new(&cfg, &st, NULL), 0);
    struct t_srv t;
    t_attach(&t, st, "user1", "pass1", "Dev1", 141);
    t.send_key = 0;
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    t.send_key = 1;
    t.policy_key = 12345;
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    t.send_key = 0;
    t.version = 121;
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    t.version = 141;
    assert_int_equal(el_srv_admin_wipe(st, "user1", "Dev1", 0, NULL), 0);
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 140);
    t_detach(&t);
    el_srv_state_free(st);
}

static void a_policy_bump_asks_for_reprovisioning_with_143(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 160);
    t_provision(&t);
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    assert_int_equal(el_srv_admin_policy_bump(t.st, NULL), 0);
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 143);
    t_provision(&t);
    assert_string_equal(t_text(&t, 0, EL_PROV_PROVISION, EL_PROV_STATUS, 0), "1");
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    t_close(&t);
}

static void remote_wipe_flow_ends_with_the_partnership_dropped(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t_provision(&t);
    struct el_err err;
    assert_int_equal(el_srv_admin_wipe(t.st, "user1", "nope", 0, &err), EL_EUNKNOWN);
    assert_int_equal(el_srv_admin_wipe(t.st, "user1", "Dev1", 0, &err), 0);
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 140);
    /* empty Provision -> RemoteWipe */
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start_end(e, EL_PROV_PROVISION);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_string_equal(t_text(&t, 0, EL_PROV_PROVISION, EL_PROV_STATUS, 0), "1");
    assert_true(t_node(&t, 0, EL_PROV_PROVISION, EL_PROV_REMOTEWIPE, 0) != 0);
    /* a normal phase 1 also gets it */
    e = t_begin(&t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_true(t_node(&t, 0, EL_PROV_PROVISION, EL_PROV_REMOTEWIPE, 0) != 0);
    assert_null(t_node(&t, 0, EL_PROV_PROVISION, EL_PROV_POLICIES, 0) ? "x" : NULL);
    /* the ack drops the partnership */
    e = t_begin(&t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_REMOTEWIPE);
    el_wbxml_text(e, EL_PROV_STATUS, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_string_equal(t_text(&t, 0, EL_PROV_PROVISION, EL_PROV_STATUS, 0), "1");
    struct el_srv_stats s;
    el_srv_get_stats(t.st, &s);
    assert_int_equal(s.devices, 0);
    /* the DeviceId is new: its old key means nothing */
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 144);
    t_provision(&t);
    t_foldersync(&t, "0");
    assert_int_equal(fs_status(&t), 1);
    t_close(&t);
}

static void remote_wipe_in_121_is_449_then_remotewipe(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 121);
    t_provision(&t);
    assert_int_equal(el_srv_admin_wipe(t.st, "user1", "Dev1", 0, NULL), 0);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_text(e, EL_FH_SYNCKEY, "0");
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_FOLDERSYNC), 449);
    e = t_begin(&t);
    el_wbxml_start_end(e, EL_PROV_PROVISION);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_true(t_node(&t, 0, EL_PROV_PROVISION, EL_PROV_REMOTEWIPE, 0) != 0);
    t_close(&t);
}

static void account_only_wipe_is_announced_to_161_devices(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 161);
    t_provision(&t);
    assert_int_equal(el_srv_admin_wipe(t.st, "user1", "Dev1", 1, NULL), 0);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start_end(e, EL_PROV_PROVISION);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_true(t_node(&t, 0, EL_PROV_PROVISION, EL_PROV_ACCOUNTONLYREMOTEWIPE, 0) != 0);
    assert_true(t_node(&t, 0, EL_PROV_PROVISION, EL_PROV_REMOTEWIPE, 0) == 0);
    e = t_begin(&t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_ACCOUNTONLYREMOTEWIPE);
    el_wbxml_text(e, EL_PROV_STATUS, "1");
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    struct el_srv_stats s;
    el_srv_get_stats(t.st, &s);
    assert_int_equal(s.devices, 0);
    t_close(&t);
}

static void malformed_wbxml_gets_102_in_14x_and_400_in_121(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 140);
    t_provision(&t);
    /* FolderSync, SyncKey, then a STR_I without its terminator */
    static const uint8_t bad[] = {0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30};
    assert_int_equal(t_send_raw(&t, EL_SRV_FOLDERSYNC, bad, sizeof(bad)), 200);
    assert_int_equal(fs_status(&t), 102);
    assert_non_null(t.rs.log_reason);
    assert_non_null(strstr(t.rs.log_reason, "byte"));
    /* unknown tag on page 0 */
    static const uint8_t bad2[] = {0x03, 0x01, 0x6A, 0x00, 0x45, 0x3F, 0x01};
    assert_int_equal(t_send_raw(&t, EL_SRV_SYNC, bad2, sizeof(bad2)), 200);
    assert_string_equal(t_text(&t, 0, EL_AS_SYNC, EL_AS_STATUS, 0), "102");
    /* a well-formed body with the wrong root */
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_AS_SYNC);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_FOLDERSYNC), 200);
    assert_int_equal(fs_status(&t), 103);
    t.version = 121;
    assert_int_equal(t_send_raw(&t, EL_SRV_FOLDERSYNC, bad, sizeof(bad)), 400);
    assert_int_equal(t.body.len, 0);
    /* not-implemented and out-of-range commands */
    assert_int_equal(t_send_raw(&t, EL_SRV_VALIDATECERT, NULL, 0), 501);
    assert_int_equal(t_send_raw(&t, 99, NULL, 0), 501);
    t_close(&t);
}

static void garbage_bodies_never_crash_the_handler(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t_provision(&t);
    uint8_t buf[64];
    uint64_t x = 1;
    for (int round = 0; round < 3000; round++) {
        size_t n = 4 + (size_t)(round % 60);
        buf[0] = 0x03;
        buf[1] = 0x01;
        buf[2] = 0x6A;
        buf[3] = 0x00;
        for (size_t i = 4; i < n; i++) {
            x = el__mix64(x + (uint64_t)round);
            buf[i] = (uint8_t)x;
        }
        static const int cmds[] = {EL_SRV_SYNC,
                                   EL_SRV_FOLDERSYNC,
                                   EL_SRV_PING,
                                   EL_SRV_SEARCH,
                                   EL_SRV_PROVISION,
                                   EL_SRV_ITEMOPERATIONS,
                                   EL_SRV_MOVEITEMS,
                                   EL_SRV_SENDMAIL,
                                   EL_SRV_SETTINGS,
                                   EL_SRV_GETITEMESTIMATE,
                                   EL_SRV_MEETINGRESPONSE,
                                   EL_SRV_SMARTREPLY};
        int cmd = cmds[round % (int)(sizeof(cmds) / sizeof(cmds[0]))];
        t_send_raw(&t, cmd, buf, n);
        if (t.rs.watch) {
            el_srv_watch_cancel(t.st, t.rs.watch);
            struct el_buf b;
            el_buf_init(&b, 4096);
            struct el_srv_response rs = {.body = &b};
            el_srv_finish_hold(t.st, t.rs.watch, 1, &rs);
            el_buf_close(&b);
        }
        if (cmd == EL_SRV_PROVISION) /* a garbage Provision may have reset nothing; re-key */
            t_provision(&t);
    }
    t_close(&t);
}

static void new_devices_beyond_max_devices_get_177(void **state)
{
    (void)state;
    struct el_srv_config cfg = {.nusers = 1, .seed = 5, .items_per_folder = 5, .max_devices = 2};
    struct el_srv_state *st;
    assert_int_equal(el_srv_state_new(&cfg, &st, NULL), 0);
    struct t_srv t;
    t_attach(&t, st, "user1", "pass1", "PhoneA", 141);
    t_provision(&t);
    t_detach(&t);
    t_attach(&t, st, "user1", "pass1", "PhoneB", 141);
    t_provision(&t);
    t_detach(&t);
    t_attach(&t, st, "user1", "pass1", "PhoneC", 141);
    struct el_wbxml_encoder *e = t_begin(&t);
    el_wbxml_start(e, EL_PROV_PROVISION);
    el_wbxml_start(e, EL_PROV_POLICIES);
    el_wbxml_start(e, EL_PROV_POLICY);
    el_wbxml_text(e, EL_PROV_POLICYTYPE, "MS-EAS-Provisioning-WBXML");
    el_wbxml_end(e);
    el_wbxml_end(e);
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_PROVISION), 200);
    assert_string_equal(t_text(&t, 0, EL_PROV_PROVISION, EL_PROV_STATUS, 0), "177");
    t.version = 121;
    e = t_begin(&t);
    el_wbxml_start(e, EL_FH_FOLDERSYNC);
    el_wbxml_text(e, EL_FH_SYNCKEY, "0");
    el_wbxml_end(e);
    assert_int_equal(t_send(&t, EL_SRV_FOLDERSYNC), 403);
    struct el_srv_stats s;
    el_srv_get_stats(st, &s);
    assert_int_equal(s.devices, 2);
    /* the known devices still work */
    t_detach(&t);
    t_attach(&t, st, "user1", "pass1", "PhoneA", 141);
    t_provision(&t);
    t_detach(&t);
    el_srv_state_free(st);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void users_csv_is_read_and_errors_name_file_and_line(void **state)
{
    (void)state;
    char path[] = "/tmp/el_srv_users_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct el_srv_config cfg = {.users_file = path, .seed = 1};
    struct el_srv_state *st = NULL;
    struct el_err err;

    write_file(path, "user,password,email\nalice,s3cret,alice@corp.test\n\"bob\",\"p,w\"\n");
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), 0);
    assert_non_null(el_srv_auth(st, "alice", 5, "s3cret", 6));
    assert_non_null(el_srv_auth(st, "bob", 3, "p,w", 3));
    assert_string_equal(el_srv_auth(st, "bob", 3, "p,w", 3)->email, "bob@example.test");
    assert_string_equal(el_srv_auth(st, "alice", 5, "s3cret", 6)->email, "alice@corp.test");
    el_srv_state_free(st);

    write_file(path, "\xEF\xBB\xBFUser,Password\r\ncarol,pw\r\n\r\n# comment\r\n");
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), 0);
    assert_non_null(el_srv_auth(st, "carol", 5, "pw", 2));
    el_srv_state_free(st);

    write_file(path, "name,secret\nalice,x\n");
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), EL_EFORMAT);
    assert_non_null(strstr(err.msg, ":1:"));

    write_file(path, "user,password\nalice,x\nbob,y\nalice,z\n");
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), EL_EINVAL);
    assert_non_null(strstr(err.msg, ":4:"));
    assert_non_null(strstr(err.msg, "alice"));

    write_file(path, "user,password\nalice,\"unterminated\n");
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), EL_EFORMAT);
    assert_non_null(strstr(err.msg, ":2:"));

    write_file(path, "user,password\n,x\n");
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), EL_EFORMAT);
    assert_non_null(strstr(err.msg, "empty user"));

    unlink(path);
    cfg.users_file = "/nonexistent/users.csv";
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), EL_EIO);
    cfg.users_file = NULL;
    cfg.nusers = 0;
    assert_int_equal(el_srv_state_new(&cfg, &st, &err), EL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auth_accepts_only_the_right_password),
        cmocka_unit_test(command_names_round_trip_through_the_table),
        cmocka_unit_test(provision_two_phases_give_a_final_key_and_a_policy_document),
        cmocka_unit_test(provision_ack_of_a_wrong_key_gets_policy_status_5),
        cmocka_unit_test(commands_without_a_valid_key_get_142_or_144_in_14x),
        cmocka_unit_test(commands_without_a_valid_key_get_449_in_121),
        cmocka_unit_test(no_policy_lets_commands_through_without_a_key),
        cmocka_unit_test(a_policy_bump_asks_for_reprovisioning_with_143),
        cmocka_unit_test(remote_wipe_flow_ends_with_the_partnership_dropped),
        cmocka_unit_test(remote_wipe_in_121_is_449_then_remotewipe),
        cmocka_unit_test(account_only_wipe_is_announced_to_161_devices),
        cmocka_unit_test(malformed_wbxml_gets_102_in_14x_and_400_in_121),
        cmocka_unit_test(garbage_bodies_never_crash_the_handler),
        cmocka_unit_test(new_devices_beyond_max_devices_get_177),
        cmocka_unit_test(users_csv_is_read_and_errors_name_file_and_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
