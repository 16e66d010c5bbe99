/* engine_worker.c - one worker: its uv loop, HTTP loop, Lua state and devices; signals
 * (SIGINT/SIGTERM -> graceful stop, a second one cancels in-flight requests), the end of the
 * load phase and the grace period, the progress line once a second, and the teardown.
 * Owns: the worker (struct el_engine) for the length of el_engine_worker_run.
 * Uses: engine_int.h, lua/ (the state), core/http.h, results.h. */
#include "engine_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

int64_t el__eng_now_us(const struct el_engine *w)
{
    (void)w;
    return (int64_t)(uv_hrtime() / 1000);
}

int64_t el__eng_unix_us(const struct el_engine *w, int64_t mono_us)
{
    return w->t0_unix_us + (mono_us - w->t0_us);
}

int el__eng_running(const struct el__eng_dev *dev)
{
    return !dev->w->stopping && !dev->wiped;
}

static int64_t unix_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- progress ---------------------------------------------------------------------------- */

static void progress_line(struct el_engine *w, int final)
{
    uint64_t req = 0, errs = 0;
    int64_t p99 = 0;
    el_results_totals(w->res, &req, &errs, &p99);
    if (w->cfg->progress_fd >= 0) {
        struct el__eng_progress p = {w->cfg->worker_id, w->active, req, errs, p99, final, {0}};
        if (w->prog_lat)
            memcpy(p.lat, w->prog_lat, sizeof(p.lat));
        ssize_t n = write(w->cfg->progress_fd, &p, sizeof(p));
        (void)n; /* a full pipe (EAGAIN) drops this record; the next one carries the totals */
        return;
    }
    if (w->cfg->progress == 0)
        return;
    int64_t t = (el__eng_now_us(w) - w->t0_us) / 1000000;
    uint64_t rate = req - w->last_requests;
    w->last_requests = req;
    char line[200];
    snprintf(line, sizeof(line),
             "[%4llds] devices %u/%u  req/s %llu  requests %llu  errors %llu"
             "  p99 %.1fms%s",
             (long long)t, w->active, w->ndevs, (unsigned long long)rate, (unsigned long long)req,
             (unsigned long long)errs, (double)p99 / 1000.0, w->stopping ? "  (stopping)" : "");
    if (w->cfg->progress == 1) {
        fprintf(stderr, "\r\033[K%s", line);
        w->progress_tty_line = !final;
        if (final)
            fputc('\n', stderr);
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

static void on_tick(uv_timer_t *t)
{
    struct el_engine *w = t->data;
    progress_line(w, 0);
}

/* ---- stop -------------------------------------------------------------------------------- */

static void hard_stop(struct el_engine *w)
{
    if (w->hard_stop)
        return;
    w->hard_stop = 1;
    for (uint32_t i = 0; i < w->ndevs; i++)
        if (w->devs[i].state == EL__DEV_HTTP)
            el__eng_req_cancel(&w->devs[i]);
    el__eng_maybe_finish(w);
}

static void on_end_timer(uv_timer_t *t)
{
    struct el_engine *w = t->data;
    if (!w->stopping) {
        el__eng_stop(w, "duration reached");
        return;
    }
    el__eng_log(w, -1, EL_LOG_INFO, "engine", "grace period over: canceling in-flight requests");
    hard_stop(w);
}

void el__eng_stop(struct el_engine *w, const char *why)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    el__eng_log(w, -1, EL_LOG_INFO, "engine", "stopping: %s", why);
    uv_timer_stop(&w->arrivals);
    /* devices not started yet never start */
    for (uint32_t i = 0; i < w->ndevs; i++) {
        struct el__eng_dev *dev = &w->devs[i];
        if (dev->state == EL__DEV_WAITING && dev->timer_kind == EL__TK_START) {
            uv_timer_stop(&dev->timer);
            dev->timer_kind = EL__TK_NONE;
        }
    }
    w->pending = 0;
    /* long polls would hold the end for their heartbeat: cancel them now; other requests get
     * the grace period */
    for (uint32_t i = 0; i < w->ndevs; i++) {
        struct el__eng_dev *dev = &w->devs[i];
        if (dev->state == EL__DEV_HTTP && dev->req && !dev->req->admin &&
            dev->req->call.cmd == EL_EAS_PING)
            el__eng_req_cancel(dev);
    }
    el__eng_wake_thinkers(w);
    uv_timer_start(&w->end_timer, on_end_timer, (uint64_t)(w->cfg->grace_us / 1000), 0);
    el__eng_maybe_finish(w);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct el_engine *w = s->data;
    if (!w->stopping) {
        el__eng_stop(w, signum == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
        return;
    }
    el__eng_log(w, -1, EL_LOG_WARN, "engine", "second signal: canceling in-flight requests");
    hard_stop(w);
}

static void close_handles(struct el_engine *w)
{
    uv_timer_stop(&w->tick);
    uv_timer_stop(&w->end_timer);
    uv_timer_stop(&w->arrivals);
    uv_signal_stop(&w->sigint);
    uv_signal_stop(&w->sigterm);
    uv_close((uv_handle_t *)&w->tick, NULL);
    uv_close((uv_handle_t *)&w->end_timer, NULL);
    uv_close((uv_handle_t *)&w->arrivals, NULL);
    uv_close((uv_handle_t *)&w->sigint, NULL);
    uv_close((uv_handle_t *)&w->sigterm, NULL);
}

void el__eng_maybe_finish(struct el_engine *w)
{
    if (w->closing)
        return;
    int all_done = w->finished == w->ndevs && w->cfg->nstages == 0;
    if (!all_done && !w->stopping)
        return;
    for (uint32_t i = 0; i < w->ndevs; i++) {
        int st = w->devs[i].state;
        if (st == EL__DEV_HTTP || st == EL__DEV_TIMER || st == EL__DEV_RUNNING)
            return;
    }
    if (!w->stopping) {
        w->stopping = 1;
        el__eng_log(w, -1, EL_LOG_INFO, "engine", "every device finished");
    }
    w->closing = 1;
    uv_stop(&w->loop);
}

/* ---- setup and teardown ------------------------------------------------------------------ */

static void free_devices(struct el_engine *w)
{
    for (uint32_t i = 0; i < w->ndevs; i++) {
        struct el__eng_dev *dev = &w->devs[i];
        if (dev->req) {
            el__eng_req_put(w, dev->req);
            dev->req = NULL;
        }
        el_http_conn_free(dev->conn);
        dev->conn = NULL;
        if (dev->eas_ready) {
            el_results_device_bytes(w->res, dev->index, dev->bytes_in, dev->bytes_out, dev->syncs);
            el_eas_device_close(&dev->eas);
            dev->eas_ready = 0;
        }
        uv_close((uv_handle_t *)&dev->timer, NULL);
    }
}

static void free_reqs(struct el_engine *w)
{
    while (w->nfree_streams > 0)
        el_eas_stream_free(w->free_streams[--w->nfree_streams]);
    while (w->free_reqs) {
        struct el__eng_req *rq = w->free_reqs;
        w->free_reqs = rq->next;
        el_buf_close(&rq->body);
        free(rq->raw);
        free(rq->prov);
        curl_slist_free_all(rq->admin_headers);
        free(rq);
    }
}

int el_engine_worker_run(const struct el_engine_config *c, struct el_results *res,
                         int64_t *start_unix_us, int64_t *end_unix_us, struct el_err *err)
{
    int rc = 0;
    struct el_engine *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
    w->cfg = c;
    w->res = res;
    if (c->progress_fd >= 0) {
        w->prog_lat = calloc(EL__PROG_BUCKETS, sizeof(*w->prog_lat));
        if (w->prog_lat == NULL) {
            free(w);
            return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory");
        }
    }
    w->t0_us = el__eng_now_us(w);
    w->t0_unix_us = unix_now_us();
    if (start_unix_us)
        *start_unix_us = w->t0_unix_us;
    int uvrc = uv_loop_init(&w->loop);
    if (uvrc != 0) {
        free(w->prog_lat);
        free(w);
        return EL_ERR(err, EL_EIO, EL_NO_OFFSET, "uv_loop_init: %s", uv_strerror(uvrc));
    }
    uv_timer_init(&w->loop, &w->tick);
    uv_timer_init(&w->loop, &w->end_timer);
    uv_timer_init(&w->loop, &w->arrivals);
    uv_signal_init(&w->loop, &w->sigint);
    uv_signal_init(&w->loop, &w->sigterm);
    w->tick.data = w->end_timer.data = w->arrivals.data = w;
    w->sigint.data = w->sigterm.data = w;
    uv_signal_start(&w->sigint, on_signal, SIGINT);
    uv_signal_start(&w->sigterm, on_signal, SIGTERM);
    /* a forked worker starts with them blocked (so none is lost before this point) */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_UNBLOCK, &set, NULL);

    /* devices of this worker: first + worker_id, then every nw-th of the shard's slice */
    unsigned nw = c->nworkers ? c->nworkers : 1;
    uint32_t first, end, n = 0;
    el_engine_shard_range(c, &first, &end);
    if (end - first > c->worker_id)
        n = (end - first - c->worker_id + nw - 1) / nw;
    w->devs = calloc(n ? n : 1, sizeof(*w->devs));
    struct el_http_opts ho = {0};
    ho.ca_file = c->ca_file[0] ? c->ca_file : NULL;
    ho.insecure = c->insecure;
    ho.bind_source = el_engine_url_is_loopback(c->target) || c->resolve_loopback;
    ho.resolve = c->resolve;
    if (w->devs == NULL) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "out of memory for %u devices", n);
        goto fail_loop;
    }
    rc = el_http_loop_new(&w->loop, &ho, &w->http, err);
    if (rc < 0)
        goto fail_loop;
    w->heap.max = c->lua_heap_max;
    w->L = el_lua_sandbox_new(c, &w->heap);
    if (w->L == NULL) {
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "cannot create the Lua state");
        goto fail_http;
    }
    /* the worker is reachable from Lua code through the devices only; the admin library needs
     * it without a device (easload.users()) */
    lua_pushlightuserdata(w->L, w);
    lua_setfield(w->L, LUA_REGISTRYINDEX, "easload.worker");
    rc = el_lua_sandbox_dofile(w->L, c->scenario_path, err);
    if (rc < 0) {
        el__eng_script_error(w, NULL, err->msg);
        goto fail_lua;
    }
    lua_getglobal(w->L, "device");
    if (lua_type(w->L, -1) != LUA_TFUNCTION) {
        lua_pop(w->L, 1);
        rc = EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "%s: defines no function device(d)",
                    c->scenario_path);
        el__eng_script_error(w, NULL, err->msg);
        goto fail_lua;
    }
    lua_pop(w->L, 1);

    for (uint32_t i = 0; i < n; i++) {
        struct el__eng_dev *dev = &w->devs[i];
        dev->w = w;
        dev->index = first + c->worker_id + i * nw;
        dev->co_ref = LUA_NOREF;
        uint64_t z = c->seed * 0x9E3779B97F4A7C15ull + dev->index + 1;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        dev->rng = z ^ (z >> 31);
        if (dev->rng == 0)
            dev->rng = 1;
        uv_timer_init(&w->loop, &dev->timer);
        dev->timer.data = dev;
    }
    w->ndevs = n;
    if (n == 0)
        w->stopping = 1;

    uv_timer_start(&w->tick, on_tick, 1000, 1000);
    w->end_us = w->t0_us + c->duration_us;
    uv_timer_start(&w->end_timer, on_end_timer, (uint64_t)(c->duration_us / 1000), 0);
    el__eng_log(w, -1, EL_LOG_INFO, "engine", "%u devices, %s for %.1fs", n,
                c->nstages ? "arrival-rate schedule" : "closed model",
                (double)c->duration_us / 1e6);
    el__eng_sched_start(w);
    el__eng_maybe_finish(w);
    if (!w->closing)
        uv_run(&w->loop, UV_RUN_DEFAULT);
    progress_line(w, 1);
    if (w->fatal)
        rc = EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "%s", w->fatal_msg);

fail_lua:
    /* devices first (their connections), then Lua, HTTP, handles */
    free_devices(w);
    lua_close(w->L);
    w->L = NULL;
fail_http:
    el_http_loop_free(w->http);
fail_loop:
    close_handles(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&w->loop) != 0)
        el__eng_log(w, -1, EL_LOG_WARN, "engine", "handles left open at the end");
    free_reqs(w);
    free(w->devs);
    free(w->prog_lat);
    if (end_unix_us)
        *end_unix_us = unix_now_us();
    free(w);
    return rc;
}
