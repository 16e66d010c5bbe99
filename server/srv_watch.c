/* srv_watch.c - watches: parked Pings waiting for a change in one of their folders. A change to a
 * folder (admin delivery, SendMail from another user, MoveItems, a Sync by another device...)
 * fires each armed watch of that user whose device then has something to fetch there; firing
 * disarms the watch and calls the HTTP side's wake function once.
 * Locking: the wake function is called with the state mutex held (srv.h allows it: it only
 * queues). That is what makes the promise below cheap to keep: wake(w) never runs after
 * el_srv_watch_cancel(w) or el_srv_finish_hold(w) has started, and runs at most once per watch.
 * Owns: struct el_srv_watch, from el__watch_new until el_srv_finish_hold. Uses: srv_int.h. */
#include "srv_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct el_srv_watch *el__watch_new(struct el__user *u, const char *dev_id, uint16_t mask,
                                   unsigned version)
{
    struct el_srv_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->user = u;
    snprintf(w->dev_id, sizeof(w->dev_id), "%s", dev_id);
    w->mask = mask;
    w->version = version;
    w->armed = 1;
    w->next = u->watches;
    w->pprev = &u->watches;
    if (u->watches)
        u->watches->pprev = &w->next;
    u->watches = w;
    return w;
}

void el__watch_unlink(struct el_srv_watch *w)
{
    if (!w->armed)
        return;
    if (w->pprev)
        *w->pprev = w->next;
    if (w->next)
        w->next->pprev = w->pprev;
    w->next = NULL;
    w->pprev = NULL;
    w->armed = 0;
}

static void fire(struct el_srv_state *st, struct el_srv_watch *w)
{
    el__watch_unlink(w);
    w->fired = 1;
    if (st->wake)
        st->wake(st->wake_ctx, w);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void el__watch_notify(struct el_srv_state *st, struct el__user *u, int fi)
{
    struct el_srv_watch *w = u->watches;
    while (w) {
        struct el_srv_watch *next = w->next;
        if (w->mask & (1u << fi)) {
            const struct el__device *d = el__device_find(u, w->dev_id);
            if (el__ping_changed(st, u, d, (uint16_t)(1u << fi), now_ms()))
                fire(st, w);
        }
        w = next;
    }
}

void el__watch_replace(struct el_srv_state *st, struct el__user *u, const char *dev_id)
{
    struct el_srv_watch *w = u->watches;
    while (w) {
        struct el_srv_watch *next = w->next;
        if (strcmp(w->dev_id, dev_id) == 0)
            fire(st, w);
        w = next;
    }
}

void el_srv_set_wake(struct el_srv_state *st, el_srv_wake_fn *fn, void *ctx)
{
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    st->wake = fn;
    st->wake_ctx = ctx;
    pthread_mutex_unlock(&st->mu);
}

void el_srv_watch_set_owner(struct el_srv_watch *w, void *owner)
{
    w->owner = owner;
}

void *el_srv_watch_owner(const struct el_srv_watch *w)
{
    return w->owner;
}

void el_srv_watch_cancel(struct el_srv_state *st, struct el_srv_watch *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    el__watch_unlink(w);
    w->fired = 1; /* never wakes from now on */
    pthread_mutex_unlock(&st->mu);
}

int el_srv_finish_hold(struct el_srv_state *st, struct el_srv_watch *w, int timed_out,
                       struct el_srv_response *rs)
{
    if (w == NULL)
        return EL_EINVAL;
    (void)timed_out; /* the answer is what is there now: changes if any, else "nothing new" */
    if (rs->http_status == 0)
        rs->http_status = 200;
    rs->hold_seconds = 0;
    rs->watch = NULL;
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    el__state_changed(st);
    el__watch_unlink(w);
    struct el__user *u = w->user;
    if (w->is_sync && u) {
        /* a held Sync: run it again now, without holding (changes, or new keys and none) */
        rc = el__sync_replay(st, w, rs);
        pthread_mutex_unlock(&st->mu);
    } else {
        uint16_t changed = 0;
        if (u) {
            const struct el__device *d = el__device_find(u, w->dev_id);
            changed = el__ping_changed(st, u, d, w->mask, now_ms());
        }
        pthread_mutex_unlock(&st->mu);
        struct el_err err;
        size_t start = rs->body->len;
        if (w->is_sync) {
            rs->http_status = 500; /* the state is gone (server stopping) */
        } else {
            rc = el__ping_write(u ? u->mb : NULL, rs->body, changed, &err);
            if (rc < 0)
                rs->body->len = start;
        }
    }
    free(w->body);
    free(w);
    return rc;
}
