/* test_srv_ping.c - Ping on the EAS side: immediate Status 2 when changes wait, holding (hold
 * seconds and a watch), the wake function on delivery, el_srv_finish_hold's answers (2 with the
 * folder, 1 on timeout), the interval bounds (5), too many folders (6), unknown folder (7),
 * the per-device cache (3 without one), and a new Ping replacing a parked one. */
#include "test_srv_util.h"

static void ping_begin(struct t_srv *t, long interval, const char *const *ids, unsigned n)
{
    struct el_wbxml_encoder *e = t_begin(t);
    el_wbxml_start(e, EL_PING_PING);
    if (interval >= 0)
        el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, (unsigned long)interval);
    if (ids) {
        el_wbxml_start(e, EL_PING_FOLDERS);
        for (unsigned i = 0; i < n; i++) {
            el_wbxml_start(e, EL_PING_FOLDER);
            el_wbxml_text(e, EL_PING_ID, ids[i]);
            el_wbxml_text(e, EL_PING_CLASS, "Email");
            el_wbxml_end(e);
        }
        el_wbxml_end(e);
    }
    el_wbxml_end(e);
}

static const char *ping_status(struct t_srv *t)
{
    return t_text(t, 0, EL_PING_PING, EL_PING_STATUS, 0);
}

/* Finishes a hold into a fresh buffer and parses it into t->tree. */
static void finish(struct t_srv *t, struct el_srv_watch *w, int timed_out)
{
    el_buf_reset(&t->body);
    struct el_srv_response rs = {.body = &t->body};
    assert_int_equal(el_srv_finish_hold(t->st, w, timed_out, &rs), 0);
    assert_int_equal(rs.http_status, 200);
    el__tree_free(&t->tree);
    struct el_err err;
    assert_int_equal(el__tree_parse(&t->tree, t->body.data, t->body.len, &err), 0);
}

/* user1/Dev1 provisioned with Inbox and Calendar synced up. */
static void ready(struct t_srv *t)
{
    char key[32];
    t_ready(t, "1", key);
    t_sync(t, key, "1", NULL);
    t_sync(t, "0", "6", NULL);
    t_key(t, key);
    t_sync(t, key, "6", NULL);
}

static void ping_answers_2_at_once_when_changes_wait(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    t_provision(&t);
    t_foldersync(&t, "0");
    t_sync(&t, "0", "1", NULL); /* primed, 10 items not fetched yet */
    static const char *ids[] = {"1", "6"};
    ping_begin(&t, 300, ids, 2);
    assert_int_equal(t_send(&t, EL_SRV_PING), 200);
    assert_int_equal(t.rs.hold_seconds, 0);
    assert_null(t.rs.watch);
    assert_string_equal(ping_status(&t), "2");
    uint32_t f = t_node(&t, 0, EL_PING_PING, EL_PING_FOLDERS, 0);
    assert_int_equal(t_count(&t, f, EL_PING_FOLDER), 1);
    assert_string_equal(t_text(&t, f, EL_PING_FOLDER, 0), "1");
    t_close(&t);
}

static void held_ping_wakes_on_delivery_and_reports_the_folder(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 2, 10, 141);
    ready(&t);
    static const char *ids[] = {"1", "6"};
    ping_begin(&t, 480, ids, 2);
    assert_int_equal(t_send(&t, EL_SRV_PING), 200);
    assert_int_equal(t.body.len, 0);
    assert_int_equal(t.rs.hold_seconds, 480);
    struct el_srv_watch *w = t.rs.watch;
    assert_non_null(w);
    int owner_tag;
    el_srv_watch_set_owner(w, &owner_tag);
    assert_ptr_equal(el_srv_watch_owner(w), &owner_tag);
    /* mail to someone else does not wake it */
    assert_int_equal(el_srv_admin_deliver(t.st, "user2", "not yours", NULL, 100, NULL), 0);
    assert_int_equal(t.wake.calls, 0);
    assert_int_equal(el_srv_admin_deliver(t.st, "user1", "wake up", NULL, 100, NULL), 0);
    assert_int_equal(t.wake.calls, 1);
    assert_ptr_equal(t.wake.last, w);
    /* a second delivery does not wake it twice */
    assert_int_equal(el_srv_admin_deliver(t.st, "user1", "again", NULL, 100, NULL), 0);
    assert_int_equal(t.wake.calls, 1);
    finish(&t, w, 0);
    assert_string_equal(ping_status(&t), "2");
    uint32_t f = t_node(&t, 0, EL_PING_PING, EL_PING_FOLDERS, 0);
    assert_int_equal(t_count(&t, f, EL_PING_FOLDER), 1);
    assert_string_equal(t_text(&t, f, EL_PING_FOLDER, 0), "1");
    t_close(&t);
}

static void held_ping_times_out_with_status_1(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 140);
    ready(&t);
    static const char *ids[] = {"1"};
    ping_begin(&t, 60, ids, 1);
    assert_int_equal(t_send(&t, EL_SRV_PING), 200);
    assert_int_equal(t.rs.hold_seconds, 60);
    struct el_srv_watch *w = t.rs.watch;
    assert_non_null(w);
    /* a client that went away: cancel, then finish (the HTTP side's order) */
    el_srv_watch_cancel(t.st, w);
    el_srv_watch_cancel(t.st, w); /* idempotent */
    assert_int_equal(el_srv_admin_deliver(t.st, "user1", "too late", NULL, 100, NULL), 0);
    assert_int_equal(t.wake.calls, 0);
    finish(&t, w, 1);
    assert_string_equal(ping_status(&t), "2"); /* the mail is there now */
    /* a plain timeout with nothing new */
    char key[32];
    t_sync(&t, "0", "1", NULL);
    t_key(&t, key);
    t_sync(&t, key, "1", NULL);
    ping_begin(&t, 60, ids, 1);
    assert_int_equal(t_send(&t, EL_SRV_PING), 200);
    w = t.rs.watch;
    assert_non_null(w);
    finish(&t, w, 1);
    assert_string_equal(ping_status(&t), "1");
    assert_null(t_node(&t, 0, EL_PING_PING, EL_PING_FOLDERS, 0) ? "x" : NULL);
    t_close(&t);
}

static void heartbeat_out_of_bounds_gets_status_5_with_the_bound(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    ready(&t);
    static const char *ids[] = {"1"};
    ping_begin(&t, 30, ids, 1);
    t_send(&t, EL_SRV_PING);
    assert_string_equal(ping_status(&t), "5");
    assert_string_equal(t_text(&t, 0, EL_PING_PING, EL_PING_HEARTBEATINTERVAL, 0), "60");
    ping_begin(&t, 4000, ids, 1);
    t_send(&t, EL_SRV_PING);
    assert_string_equal(ping_status(&t), "5");
    assert_string_equal(t_text(&t, 0, EL_PING_PING, EL_PING_HEARTBEATINTERVAL, 0), "3540");
    assert_null(t.rs.watch);
    t_close(&t);
}

static void too_many_or_unknown_folders_get_6_and_7(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    ready(&t);
    const char *many[301];
    for (int i = 0; i < 301; i++)
        many[i] = "1";
    ping_begin(&t, 300, many, 301);
    t_send(&t, EL_SRV_PING);
    assert_string_equal(ping_status(&t), "6");
    assert_string_equal(t_text(&t, 0, EL_PING_PING, EL_PING_MAXFOLDERS, 0), "300");
    static const char *unknown[] = {"1", "404"};
    ping_begin(&t, 300, unknown, 2);
    t_send(&t, EL_SRV_PING);
    assert_string_equal(ping_status(&t), "7");
    t_close(&t);
}

static void ping_without_parameters_uses_the_cache_or_gets_3(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    ready(&t);
    assert_int_equal(t_send_raw(&t, EL_SRV_PING, NULL, 0), 200);
    assert_string_equal(ping_status(&t), "3");
    ping_begin(&t, 120, NULL, 0); /* interval only, no folders cached yet */
    t_send(&t, EL_SRV_PING);
    assert_string_equal(ping_status(&t), "3");
    static const char *ids[] = {"6"};
    ping_begin(&t, 120, ids, 1);
    t_send(&t, EL_SRV_PING);
    struct el_srv_watch *w = t.rs.watch;
    assert_non_null(w);
    /* an empty Ping reuses 120 s and folder 6, and ends the parked one */
    assert_int_equal(t_send_raw(&t, EL_SRV_PING, NULL, 0), 200);
    assert_int_equal(t.rs.hold_seconds, 120);
    struct el_srv_watch *w2 = t.rs.watch;
    assert_non_null(w2);
    assert_int_equal(t.wake.calls, 1);
    assert_ptr_equal(t.wake.last, w);
    finish(&t, w, 0);
    assert_string_equal(ping_status(&t), "1");
    /* a folder change outside the cached set does not wake it */
    el_srv_admin_deliver(t.st, "user1", "inbox only", NULL, 10, NULL);
    assert_int_equal(t.wake.calls, 1);
    finish(&t, w2, 1);
    assert_string_equal(ping_status(&t), "1");
    t_close(&t);
}

static void ping_needs_a_provisioned_device(void **state)
{
    (void)state;
    struct t_srv t;
    t_open(&t, 1, 10, 141);
    static const char *ids[] = {"1"};
    ping_begin(&t, 300, ids, 1);
    t_send(&t, EL_SRV_PING);
    assert_string_equal(ping_status(&t), "142");
    t_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ping_answers_2_at_once_when_changes_wait),
        cmocka_unit_test(held_ping_wakes_on_delivery_and_reports_the_folder),
        cmocka_unit_test(held_ping_times_out_with_status_1),
        cmocka_unit_test(heartbeat_out_of_bounds_gets_status_5_with_the_bound),
        cmocka_unit_test(too_many_or_unknown_folders_get_6_and_7),
        cmocka_unit_test(ping_without_parameters_uses_the_cache_or_gets_3),
        cmocka_unit_test(ping_needs_a_provisioned_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
