/* srv_http_hold.c - parked long polls (Ping, Sync with Wait): the heartbeat timer, wake-ups from
 * any thread, and the once-a-second sweep that notices clients which left (h2o-notes 2-4).
 * Owns: each struct el__srv_hold (malloc'd at park, freed in its timer's close callback); the
 * worker's wake queue arrays. Per held request: one malloc (hold + timer) and a guard pointer in
 * h2o's request pool; nothing else. Uses: srv.h (el_srv_finish_hold, el_srv_watch_*), h2o, uv. */
#include "srv_http_int.h"

#include <stdlib.h>
#include <string.h>

/* Lives in req->pool; its dispose callback runs when h2o frees the request. */
struct el__srv_hold_guard {
    struct el__srv_hold *hold; /* NULL once detached (answered on purpose) */
};

static void on_hold_closed(uv_handle_t *handle)
{
    struct el__srv_hold *hold = H2O_STRUCT_FROM_MEMBER(struct el__srv_hold, timer, handle);
    free(hold);
}

/* Removes hold from the open list and the wake queue, stops its timer (the close callback frees
 * it at the end of this loop turn, so the pointer stays readable until then). */
static void hold_unlink(struct el__srv_hold *hold)
{
    struct el__srv_worker *w = hold->w;
    if (hold->prev)
        hold->prev->next = hold->next;
    else
        w->holds = hold->next;
    if (hold->next)
        hold->next->prev = hold->prev;
    hold->prev = hold->next = NULL;
    uv_timer_stop(&hold->timer);
    uv_close((uv_handle_t *)&hold->timer, on_hold_closed);
    atomic_fetch_sub_explicit(&w->n_hold_open, 1, memory_order_relaxed);
}

/* Called after el_srv_finish_hold: the EAS side will not wake this watch again, so a queued
 * entry is the last one; drop it. */
static void wakeq_purge(struct el__srv_worker *w, struct el__srv_hold *hold)
{
    pthread_mutex_lock(&w->wake_mu);
    if (hold->queued) {
        size_t o = 0;
        for (size_t i = 0; i < w->wakeq_len; i++)
            if (w->wakeq[i] != hold)
                w->wakeq[o++] = w->wakeq[i];
        w->wakeq_len = o;
        hold->queued = 0;
    }
    pthread_mutex_unlock(&w->wake_mu);
}

/* Ends a hold. why: 0 woken, 1 heartbeat expired (or server stopping), 2 client gone (the
 * request is still there but nobody reads), 3 request already disposed by h2o. */
static void hold_end(struct el__srv_hold *hold, int why)
{
    struct el__srv_worker *w = hold->w;
    struct el_srv_state *st = w->h->st;
    h2o_req_t *req = hold->req;
    struct el_srv_watch *watch = hold->watch;
    if (watch == NULL)
        return; /* already ended in this loop turn */
    hold->watch = NULL;
    hold->req = NULL;
    if (hold->guard) {
        hold->guard->hold = NULL;
        hold->guard = NULL;
    }
    hold_unlink(hold);
    if (why >= 2)
        el_srv_watch_cancel(st, watch);
    struct el_srv_response rs;
    memset(&rs, 0, sizeof(rs));
    rs.http_status = 200;
    el_buf_reset(&w->scratch);
    rs.body = &w->scratch;
    int rc = el_srv_finish_hold(st, watch, why != 0, &rs);
    wakeq_purge(w, hold);
    if (why == 0)
        atomic_fetch_add_explicit(&w->n_hold_woken, 1, memory_order_relaxed);
    else if (why == 1)
        atomic_fetch_add_explicit(&w->n_hold_expired, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&w->n_hold_gone, 1, memory_order_relaxed);
    if (req == NULL)
        return;
    if (rc < 0) {
        el__srv_log(w->h, &w->lograte, w->id, EL__SRV_LOG_ERROR, hold->device_id,
                    "POST %s: 500 server failure ending a hold: %s", el_srv_cmd_name(hold->cmd),
                    el_strerror(rc));
        memset(&rs, 0, sizeof(rs));
        rs.http_status = 500;
    }
    if (why == 2) {
        /* nobody will read it: a bodiless close lets h2o drop the connection */
        req->http1_is_persistent = 0;
        el_buf_reset(&w->scratch);
        el__srv_rctx_release(hold->rc);
        el__srv_send(w, req, &rs);
        return;
    }
    el__srv_send_rc(w, req, &rs, hold->rc);
}

static void on_guard_dispose(void *p)
{
    struct el__srv_hold_guard *g = p;
    if (g->hold == NULL)
        return;
    g->hold->guard = NULL;
    hold_end(g->hold, 3);
}

static void on_hold_timer(uv_timer_t *t)
{
    struct el__srv_hold *hold = H2O_STRUCT_FROM_MEMBER(struct el__srv_hold, timer, t);
    hold_end(hold, 1);
}

/* Removes watch from the orphan list; 1 if it was there. Caller holds owner_mu. */
static int orphan_take(struct el_srv_http *h, struct el_srv_watch *watch)
{
    for (size_t i = 0; i < h->norphans; i++) {
        if (h->orphans[i] == watch) {
            h->orphans[i] = h->orphans[--h->norphans];
            return 1;
        }
    }
    return 0;
}

void el__srv_hold_forget(struct el_srv_http *h, struct el_srv_watch *watch)
{
    pthread_mutex_lock(&h->owner_mu);
    orphan_take(h, watch);
    pthread_mutex_unlock(&h->owner_mu);
}

/* Puts hold in its worker's wake queue and wakes the loop. Any thread. */
static void wake_queue(struct el__srv_hold *hold)
{
    struct el__srv_worker *w = hold->w;
    pthread_mutex_lock(&w->wake_mu);
    if (!hold->queued) {
        if (w->wakeq_len == w->wakeq_cap) {
            size_t cap = w->wakeq_cap ? w->wakeq_cap * 2 : 64;
            struct el__srv_hold **n = realloc(w->wakeq, cap * sizeof(*n));
            if (n == NULL) {
                pthread_mutex_unlock(&w->wake_mu);
                return; /* the heartbeat still answers it */
            }
            w->wakeq = n;
            w->wakeq_cap = cap;
        }
        w->wakeq[w->wakeq_len++] = hold;
        hold->queued = 1;
    }
    pthread_mutex_unlock(&w->wake_mu);
    uv_async_send(&w->async);
}

void el__srv_hold_start(struct el__srv_worker *w, h2o_req_t *req, const struct el__srv_query *q,
                        unsigned version, struct el_srv_response *rs, struct el__srv_rctx *rc)
{
    struct el__srv_hold *hold = calloc(1, sizeof(*hold));
    if (hold == NULL) {
        struct el_srv_watch *watch = rs->watch;
        el_srv_finish_hold(w->h->st, watch, 1, rs);
        el__srv_hold_forget(w->h, watch);
        el__srv_send_rc(w, req, rs, rc);
        return;
    }
    hold->rc = rc;
    hold->w = w;
    hold->req = req;
    hold->watch = rs->watch;
    hold->cmd = q->cmd;
    hold->version = version;
    memcpy(hold->device_id, q->device_id, sizeof(hold->device_id));
    h2o_socket_t *sock =
        req->conn->callbacks->get_socket ? req->conn->callbacks->get_socket(req->conn) : NULL;
    hold->fd = sock ? h2o_socket_get_fd(sock) : -1;
    uv_timer_init(&w->loop, &hold->timer);
    struct el__srv_hold_guard *g = h2o_mem_alloc_shared(&req->pool, sizeof(*g), on_guard_dispose);
    g->hold = hold;
    hold->guard = g;
    hold->next = w->holds;
    if (w->holds)
        w->holds->prev = hold;
    w->holds = hold;
    atomic_fetch_add_explicit(&w->n_hold, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->n_hold_open, 1, memory_order_relaxed);
    uv_timer_start(&hold->timer, on_hold_timer, (uint64_t)rs->hold_seconds * 1000u, 0);
    /* Tag the watch; a wake-up that came before the tag left the watch in the orphan list. */
    struct el_srv_http *h = w->h;
    pthread_mutex_lock(&h->owner_mu);
    el_srv_watch_set_owner(rs->watch, hold);
    int missed = orphan_take(h, rs->watch);
    pthread_mutex_unlock(&h->owner_mu);
    if (missed)
        wake_queue(hold);
    if (w->stopping)
        hold_end(hold, 1);
}

void el__srv_hold_wake(void *ctx, struct el_srv_watch *watch)
{
    struct el_srv_http *h = ctx;
    pthread_mutex_lock(&h->owner_mu);
    struct el__srv_hold *hold = el_srv_watch_owner(watch);
    if (hold == NULL) {
        /* el_srv_handle made it and it fired before the park: the park picks it up */
        if (h->norphans == h->orphans_cap) {
            size_t cap = h->orphans_cap ? h->orphans_cap * 2 : 16;
            struct el_srv_watch **n = realloc(h->orphans, cap * sizeof(*n));
            if (n != NULL) {
                h->orphans = n;
                h->orphans_cap = cap;
            }
        }
        if (h->norphans < h->orphans_cap)
            h->orphans[h->norphans++] = watch;
        pthread_mutex_unlock(&h->owner_mu);
        return;
    }
    pthread_mutex_unlock(&h->owner_mu);
    wake_queue(hold);
}

void el__srv_hold_drain(struct el__srv_worker *w)
{
    pthread_mutex_lock(&w->wake_mu);
    struct el__srv_hold **list = w->wakeq;
    size_t n = w->wakeq_len;
    size_t cap = w->wakeq_cap;
    w->wakeq = w->wake_spare;
    w->wakeq_cap = w->wake_spare_cap;
    w->wakeq_len = 0;
    for (size_t i = 0; i < n; i++)
        list[i]->queued = 0;
    pthread_mutex_unlock(&w->wake_mu);
    /* Every entry was live when swapped out; one ended meanwhile has watch == NULL and its memory
     * is freed only by a close callback, after this function returns. */
    for (size_t i = 0; i < n; i++)
        hold_end(list[i], 0);
    pthread_mutex_lock(&w->wake_mu);
    w->wake_spare = list;
    w->wake_spare_cap = cap;
    pthread_mutex_unlock(&w->wake_mu);
}

void el__srv_hold_sweep(struct el__srv_worker *w)
{
    size_t n = 0;
    for (struct el__srv_hold *hold = w->holds; hold; hold = hold->next) {
        if (n == w->sweep_cap) {
            size_t cap = w->sweep_cap ? w->sweep_cap * 2 : 256;
            struct el__srv_hold **a = realloc(w->sweep_arr, cap * sizeof(*a));
            if (a == NULL)
                break;
            w->sweep_arr = a;
            w->sweep_cap = cap;
        }
        w->sweep_arr[n++] = hold;
    }
    const size_t batch = sizeof(w->pfd) / sizeof(w->pfd[0]);
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        for (size_t k = 0; k < m; k++) {
            w->pfd[k].fd = w->sweep_arr[i + k]->fd;
            w->pfd[k].events = POLLRDHUP;
            w->pfd[k].revents = 0;
        }
        if (poll(w->pfd, (nfds_t)m, 0) <= 0)
            continue;
        for (size_t k = 0; k < m; k++)
            if (w->pfd[k].revents & (POLLRDHUP | POLLHUP | POLLERR))
                hold_end(w->sweep_arr[i + k], 2);
    }
}

void el__srv_hold_finish_all(struct el__srv_worker *w)
{
    while (w->holds)
        hold_end(w->holds, 1);
}
