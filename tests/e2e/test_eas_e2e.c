/* test_eas_e2e.c - the client EAS layer (core/eas_*) against `easload serve` over real loopback
 * HTTP with core/http on a libuv loop: phone A (user1, android-14.1) runs OPTIONS, Provision
 * (two phases), FolderSync, Sync of the Inbox (key 0, then pages until MoreAvailable ends) and
 * a Ping that the server holds; phone B (user2, wm-12.1) is refused with HTTP 449 before it
 * provisions, then, once A's Ping is held, sends A a raw-MIME mail whose Subject carries a push
 * stamp; A's Ping reports the Inbox, A's next Sync brings the mail and its stamp. Each round trip
 * goes through el_eas_build/el_eas_parse, repeated while el_eas_parse asks for another one. Nothing
 * asserts a time. Uses: srv_harness.h (the server process, its admin API), core/eas.h, core/http.h.
 */
#include "srv_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "eas.h"
#include "http.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

struct world;
struct phone;
/* Called when a command has finished (no more round trips); returns the next command to run
 * or -1 when the phone is done (or waits for someone else to start it). */
typedef int next_fn(struct phone *p);

struct phone {
    struct world *w;
    const char *name;
    struct el_eas_device d;
    struct el_http_conn *conn;
    struct el_eas_call call;
    struct el_buf body;
    char url[2048];
    struct el_http_req rq;
    next_fn *next;
    int stage;
    unsigned synced; /* items A's Sync brought so far */
    int expect_cls;  /* outcome class the running command must end in (OK unless set) */
    int done;
};

struct world {
    uv_loop_t loop;
    struct el_srvh *h;
    struct el_http_loop *hl;
    uv_timer_t watchdog, poll;
    struct phone a, b;
    char inbox_id[EL_EAS_ID_MAX];
    int64_t stamp_us;
    char subject[64];
};

static void on_done(void *ctx, const struct el_http_result *r);

/* Builds and sends the phone's current call. */
static void send_call(struct phone *p)
{
    struct el_err err;
    const char *method;
    el_buf_reset(&p->body);
    int rc = el_eas_build(&p->d, &p->call, &p->body, p->url, sizeof(p->url), &method, &err);
    if (rc != 0) {
        fprintf(stderr, "%s: build %s: %s\n", p->name, el_eas_cmd_name(p->call.cmd), err.msg);
        failures++;
        p->done = 1;
        return;
    }
    memset(&p->rq, 0, sizeof(p->rq));
    p->rq.method = method;
    p->rq.url = p->url;
    p->rq.headers = el_eas_headers(&p->d, &p->call);
    p->rq.body = p->body.data;
    p->rq.body_len = p->body.len;
    p->rq.timeout_ms = 60000;
    rc = el_http_start(p->conn, &p->rq, on_done, p, &err);
    if (rc != 0) {
        fprintf(stderr, "%s: start: %s\n", p->name, err.msg);
        failures++;
        p->done = 1;
    }
}

/* Starts command cmd with the parameters the stage set up in p->call.in. */
static void run(struct phone *p, int cmd)
{
    p->call.cmd = cmd;
    p->call.step = 0;
    send_call(p);
}

static void on_done(void *ctx, const struct el_http_result *r)
{
    struct phone *p = ctx;
    int again = el_eas_parse(&p->d, &p->call, r);
    const char *cmd = el_eas_cmd_name(p->call.cmd);
    fprintf(stderr, "%s: %s step %u: HTTP %ld class %s status %d added %u more %d %s\n", p->name,
            cmd, p->call.step, r->status, el_eas_class_name(p->call.out.cls), p->call.out.status,
            p->call.out.added, p->call.out.more, p->call.out.detail);
    if (p->call.out.cls != p->expect_cls) {
        fprintf(stderr, "%s: %s ended as %s, expected %s\n", p->name, cmd,
                el_eas_class_name(p->call.out.cls), el_eas_class_name(p->expect_cls));
        failures++;
        p->done = 1;
        return;
    }
    p->expect_cls = EL_EAS_CLASS_OK;
    if (again) {
        send_call(p);
        return;
    }
    int next = p->next(p);
    if (next >= 0)
        run(p, next);
}

/* ---- phone A: the receiver --------------------------------------------------------------- */

static int next_a(struct phone *p)
{
    struct world *w = p->w;
    struct el_eas_call *c = &p->call;
    switch (p->stage++) {
    case 0: /* OPTIONS done */
        return EL_EAS_PROVISION;
    case 1:
        CHECK(p->d.policy_key != 0);
        return EL_EAS_FOLDERSYNC;
    case 2: {
        CHECK(c->out.added >= 5);
        struct el_eas_folder *in = el_eas_device_folder(&p->d, "inbox");
        CHECK(in != NULL);
        if (in == NULL)
            return -1;
        snprintf(w->inbox_id, sizeof(w->inbox_id), "%s", in->id);
        memset(&c->in, 0, sizeof(c->in));
        c->in.folder = "inbox";
        c->in.window = 10;
        c->in.filter = -1;
        return EL_EAS_SYNC; /* key 0, then the items */
    }
    case 3:
        p->synced += c->out.added;
        if (c->out.more) {
            p->stage = 3;
            return EL_EAS_SYNC;
        }
        CHECK(p->synced > 0);
        CHECK(el_eas_device_folder(&p->d, "inbox")->items == p->synced);
        memset(&c->in, 0, sizeof(c->in));
        c->in.folders[0] = "inbox";
        c->in.nfolders = 1;
        c->in.heartbeat_s = 300;
        c->in.filter = -1;
        return EL_EAS_PING;
    case 4:
        CHECK(c->out.status == 2);
        CHECK(c->out.count == 1 && strcmp(c->out.changed_folders[0], w->inbox_id) == 0);
        memset(&c->in, 0, sizeof(c->in));
        c->in.folder = "inbox";
        c->in.filter = -1;
        return EL_EAS_SYNC;
    case 5:
        CHECK(c->out.added == 1);
        CHECK(c->out.npushed == 1 && c->out.pushed_unix_us[0] == w->stamp_us);
        p->done = 1;
        return -1;
    }
    return -1;
}

/* ---- phone B: the sender ----------------------------------------------------------------- */

static int next_b(struct phone *p)
{
    switch (p->stage++) {
    case 0: /* FolderSync before Provision: a 12.1 device hears 449 */
        CHECK(p->call.out.http_status == 449);
        CHECK(p->d.nfolders == 0);
        return EL_EAS_PROVISION;
    case 1:
        CHECK(p->d.policy_key != 0);
        return -1; /* the poll timer starts the SendMail once A's Ping is held */
    case 2:
        p->done = 1;
        return -1;
    }
    return -1;
}

static void on_poll(uv_timer_t *t)
{
    struct world *w = t->data;
    if (w->b.stage != 2 || w->a.stage != 4 || w->b.call.cmd == EL_EAS_SENDMAIL)
        return;
    if (el_srvh_stat(w->h, "http", "holds_open") < 1)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    w->stamp_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    snprintf(w->subject, sizeof(w->subject), "easload-push:%lld", (long long)w->stamp_us);
    struct el_eas_call *c = &w->b.call;
    memset(&c->in, 0, sizeof(c->in));
    c->in.to = "user1@example.test";
    c->in.subject = w->subject;
    c->in.body_bytes = 2000;
    c->in.filter = -1;
    run(&w->b, EL_EAS_SENDMAIL);
}

static void on_watchdog(uv_timer_t *t)
{
    struct world *w = t->data;
    fprintf(stderr, "watchdog: A at stage %d, B at stage %d\n", w->a.stage, w->b.stage);
    failures++;
    uv_stop(&w->loop);
}

static void on_check_done(uv_timer_t *t)
{
    struct world *w = t->data;
    if (w->a.done && w->b.done)
        uv_stop(&w->loop);
}

static int phone_init(struct world *w, struct phone *p, const char *name, const char *profile,
                      uint32_t index, const char *user, const char *pass, next_fn *next)
{
    struct el_err err;
    p->w = w;
    p->name = name;
    p->next = next;
    el_buf_init(&p->body, (size_t)1 << 20);
    if (el_eas_device_init(&p->d, el_eas_profile_lookup(profile), index, user, pass, w->h->url,
                           &err) != 0 ||
        el_http_conn_new(w->hl, index, &p->conn, &err) != 0) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        return -1;
    }
    memset(&p->call, 0, sizeof(p->call));
    p->call.in.filter = -1;
    return 0;
}

static void phone_close(struct phone *p)
{
    el_http_conn_free(p->conn);
    el_eas_device_close(&p->d);
    el_buf_close(&p->body);
}

int main(void)
{
    struct el_srvh h;
    if (el_srvh_start(&h, NULL) != 0)
        return 1;
    struct world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return 1;
    w->h = &h;
    struct el_err err;
    struct el_http_opts o = {0};
    if (uv_loop_init(&w->loop) != 0 || el_http_loop_new(&w->loop, &o, &w->hl, &err) != 0) {
        fprintf(stderr, "loop: %s\n", err.msg);
        return 1;
    }
    if (phone_init(w, &w->a, "A", "android-14.1", 1, "user1", "pass1", next_a) != 0 ||
        phone_init(w, &w->b, "B", "wm-12.1", 2, "user2", "pass2", next_b) != 0)
        return 1;
    uv_timer_init(&w->loop, &w->watchdog);
    w->watchdog.data = w;
    uv_timer_start(&w->watchdog, on_watchdog, 90000, 0);
    uv_timer_init(&w->loop, &w->poll);
    w->poll.data = w;
    uv_timer_start(&w->poll, on_poll, 20, 20);
    uv_timer_t done;
    uv_timer_init(&w->loop, &done);
    done.data = w;
    uv_timer_start(&done, on_check_done, 10, 10);

    run(&w->a, EL_EAS_OPTIONS);
    w->b.expect_cls = EL_EAS_CLASS_PROVISION;
    run(&w->b, EL_EAS_FOLDERSYNC);
    uv_run(&w->loop, UV_RUN_DEFAULT);

    CHECK(w->a.done && w->b.done);
    CHECK(w->a.d.version == 141); /* OPTIONS: the server speaks 14.1 */
    phone_close(&w->a);
    phone_close(&w->b);
    el_http_loop_free(w->hl);
    uv_close((uv_handle_t *)&w->watchdog, NULL);
    uv_close((uv_handle_t *)&w->poll, NULL);
    uv_close((uv_handle_t *)&done, NULL);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&w->loop) == 0);
    free(w);
    int st = el_srvh_stop(&h);
    CHECK(st == 0);
    if (failures)
        fprintf(stderr, "test_eas_e2e: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
