/* test_srv_threads.c - the EAS side called from several threads at once, as the HTTP side's
 * workers do: each thread is a phone of its own user that provisions, syncs, sends mail to the
 * next user, parks and finishes Pings, while the admin API delivers mail. Checks that every
 * answer is well formed and that every mail sent arrived; ASan/UBSan (and TSan, if built so)
 * watch the rest. No time is asserted. */
#include "test_srv_util.h"

#include <pthread.h>

#define THREADS 4
#define ROUNDS  40

struct worker {
    struct el_srv_state *st;
    int id;
    int failures;
};

static void *run(void *arg)
{
    struct worker *w = arg;
    char user[16], pass[16], dev[16], next[64], key[32];
    snprintf(user, sizeof(user), "user%d", w->id + 1);
    snprintf(pass, sizeof(pass), "pass%d", w->id + 1);
    snprintf(dev, sizeof(dev), "Thread%d", w->id);
    snprintf(next, sizeof(next), "user%d@example.test", (w->id + 1) % THREADS + 1);
    struct t_srv t;
    t_attach(&t, w->st, user, pass, dev, 141);
    t_ready(&t, "1", key);
    for (int r = 0; r < ROUNDS; r++) {
        struct t_sync_opts o = {.window = 25, .filter = -1};
        t_sync(&t, key, "1", &o);
        if (t_status(&t, t_coll(&t)) != 1)
            w->failures++;
        t_key(&t, key);
        char mime[256], cid[32];
        snprintf(mime, sizeof(mime), "To: %s\r\nSubject: round %d from %s\r\n\r\nhi\r\n", next, r,
                 user);
        snprintf(cid, sizeof(cid), "%s-%d", dev, r);
        struct el_wbxml_encoder *e = t_begin(&t);
        el_wbxml_start(e, EL_CM_SENDMAIL);
        el_wbxml_text(e, EL_CM_CLIENTID, cid);
        el_wbxml_opaque_elem(e, EL_CM_MIME, mime, strlen(mime));
        el_wbxml_end(e);
        if (t_send(&t, EL_SRV_SENDMAIL) != 200 || t.body.len != 0)
            w->failures++;
        e = t_begin(&t);
        el_wbxml_start(e, EL_PING_PING);
        el_wbxml_uint(e, EL_PING_HEARTBEATINTERVAL, 60);
        el_wbxml_start(e, EL_PING_FOLDERS);
        el_wbxml_start(e, EL_PING_FOLDER);
        el_wbxml_text(e, EL_PING_ID, "1");
        el_wbxml_text(e, EL_PING_CLASS, "Email");
        el_wbxml_end(e);
        el_wbxml_end(e);
        el_wbxml_end(e);
        t_send(&t, EL_SRV_PING);
        if (t.rs.watch) {
            el_srv_watch_cancel(w->st, t.rs.watch);
            el_buf_reset(&t.body);
            struct el_srv_response rs = {.body = &t.body};
            if (el_srv_finish_hold(w->st, t.rs.watch, 1, &rs) != 0)
                w->failures++;
        }
        if (r % 10 == 0)
            el_srv_admin_deliver(w->st, next, "from the admin", NULL, 2000, NULL);
    }
    t_detach(&t);
    return NULL;
}

static void many_threads_share_one_state(void **state)
{
    (void)state;
    struct el_srv_config cfg = {.nusers = THREADS, .seed = 3, .items_per_folder = 30};
    struct el_srv_state *st;
    assert_int_equal(el_srv_state_new(&cfg, &st, NULL), 0);
    struct t_wake wake = {0};
    el_srv_set_wake(st, t_on_wake, &wake);
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.st = st, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    /* every Inbox got ROUNDS mails from its neighbour and ROUNDS / 10 from the admin */
    for (int i = 0; i < THREADS; i++) {
        char name[16];
        snprintf(name, sizeof(name), "user%d", i + 1);
        struct el__user *u = el__user_by_name(st, name, strlen(name));
        assert_int_equal(u->mb->f[EL__F_INBOX].live, 30 + ROUNDS + ROUNDS / 10);
    }
    el_srv_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_threads_share_one_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
