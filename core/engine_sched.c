/* engine_sched.c - when devices run: the ramp of the closed model (device g starts at
 * ramp * g / devices), the arrival-rate schedule (arrivals numbered globally, split among
 * shards and workers, each with its intended start so latency is timed from it: no
 * coordinated omission), think and back-off timers, and what happens when a device's coroutine
 * ends.
 * Owns: nothing beyond the worker's timers. Uses: engine_int.h. */
#include "engine_int.h"

#include <math.h>

#include <lauxlib.h>

#define ARRIVAL_TICK_MS 10
#define PENDING_MAX     256

static void on_dev_timer(uv_timer_t *t)
{
    struct el__eng_dev *dev = t->data;
    int kind = dev->timer_kind;
    dev->timer_kind = EL__TK_NONE;
    switch (kind) {
    case EL__TK_START:
        if (!dev->w->stopping)
            el__eng_dev_begin(dev, dev->intended_us);
        break;
    case EL__TK_THINK:
        dev->state = EL__DEV_RUNNING;
        el_engine_resume(dev, 0);
        break;
    case EL__TK_BACKOFF:
        el__eng_req_retry(dev);
        break;
    case EL__TK_REAP:
        el_http_conn_free(dev->conn);
        dev->conn = NULL;
        break;
    default:
        break;
    }
    el__eng_maybe_finish(dev->w);
}

void el__eng_dev_sleep(struct el__eng_dev *dev, int kind, int64_t delay_us)
{
    if (delay_us < 0)
        delay_us = 0;
    dev->state = EL__DEV_TIMER;
    dev->timer_kind = kind;
    dev->intended_us = el__eng_now_us(dev->w) + delay_us;
    uv_timer_start(&dev->timer, on_dev_timer, (uint64_t)((delay_us + 999) / 1000), 0);
}

void el__eng_wake_thinkers(struct el_engine *w)
{
    for (uint32_t i = 0; i < w->ndevs; i++) {
        struct el__eng_dev *dev = &w->devs[i];
        if (dev->state != EL__DEV_TIMER)
            continue;
        uv_timer_stop(&dev->timer);
        int kind = dev->timer_kind;
        dev->timer_kind = EL__TK_NONE;
        dev->intended_us = 0;
        if (kind == EL__TK_BACKOFF) {
            el__eng_req_retry(dev);
        } else {
            dev->state = EL__DEV_RUNNING;
            el_engine_resume(dev, 0);
        }
    }
}

/* ---- arrivals ---------------------------------------------------------------------------- */

/* Cumulative arrivals of the whole run at t_s seconds (the integral of the rate). */
static double arrivals_at(const struct el_engine_config *c, double t_s)
{
    double prev = 0, t0 = 0, total = 0;
    for (unsigned i = 0; i < c->nstages; i++) {
        double d = (double)c->stages[i].dur_us / 1e6;
        double r = c->stages[i].rate_per_s;
        if (t_s <= t0 + d) {
            double x = t_s - t0;
            double rx = d > 0 ? prev + (r - prev) * x / d : r;
            return total + (prev + rx) / 2 * x;
        }
        total += (prev + r) / 2 * d;
        t0 += d;
        prev = r;
    }
    return total;
}

/* The time (s) at which the cumulative count reaches k, by bisection in [lo, hi]. */
static double arrival_time(const struct el_engine_config *c, double k, double lo, double hi)
{
    for (int i = 0; i < 40 && hi - lo > 1e-7; i++) {
        double mid = (lo + hi) / 2;
        if (arrivals_at(c, mid) >= k)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static void dispatch(struct el_engine *w, int64_t intended_us)
{
    el_results_count(w->res, "arrivals", 1);
    for (uint32_t n = 0; n < w->ndevs; n++) {
        struct el__eng_dev *dev = &w->devs[(w->rr + n) % w->ndevs];
        if (dev->state == EL__DEV_WAITING && dev->timer_kind == EL__TK_NONE) {
            w->rr = (w->rr + n + 1) % w->ndevs;
            el__eng_dev_begin(dev, intended_us);
            return;
        }
    }
    if (w->pending >= PENDING_MAX) {
        el_results_count(w->res, "arrivals.dropped", 1);
        return;
    }
    w->pending_intended[(w->pending_head + w->pending) % PENDING_MAX] = intended_us;
    w->pending++;
}

static void on_arrivals(uv_timer_t *t)
{
    struct el_engine *w = t->data;
    const struct el_engine_config *c = w->cfg;
    if (w->stopping || w->ndevs == 0)
        return;
    int64_t now = el__eng_now_us(w);
    double now_s = (double)(now - w->t0_us) / 1e6;
    double due = arrivals_at(c, now_s);
    uint64_t step = (uint64_t)(c->nworkers ? c->nworkers : 1) * (c->shards ? c->shards : 1);
    double lo = 0;
    while ((double)(w->next_arrival + 1) <= due && !w->stopping) {
        double at = arrival_time(c, (double)(w->next_arrival + 1), lo, now_s);
        lo = at;
        w->next_arrival += step;
        dispatch(w, w->t0_us + (int64_t)(at * 1e6));
    }
}

void el__eng_sched_start(struct el_engine *w)
{
    const struct el_engine_config *c = w->cfg;
    if (c->nstages > 0) {
        /* arrival a goes to shard a % shards, there to worker (a / shards) % nworkers */
        w->next_arrival = c->shard + (uint64_t)c->worker_id * (c->shards ? c->shards : 1);
        uv_timer_start(&w->arrivals, on_arrivals, 0, ARRIVAL_TICK_MS);
        return;
    }
    for (uint32_t i = 0; i < w->ndevs; i++) {
        struct el__eng_dev *dev = &w->devs[i];
        int64_t at = c->devices > 0 ? (int64_t)((double)c->ramp_us * dev->index / c->devices) : 0;
        dev->state = EL__DEV_WAITING;
        dev->timer_kind = EL__TK_START;
        dev->intended_us = w->t0_us + at;
        uv_timer_start(&dev->timer, on_dev_timer, (uint64_t)(at / 1000), 0);
    }
}

void el__eng_dev_ended(struct el__eng_dev *dev)
{
    struct el_engine *w = dev->w;
    if (dev->req != NULL && dev->state != EL__DEV_HTTP) {
        el__eng_req_put(w, dev->req);
        dev->req = NULL;
    }
    if (dev->co_ref != LUA_NOREF) {
        luaL_unref(w->L, LUA_REGISTRYINDEX, dev->co_ref);
        dev->co_ref = LUA_NOREF;
    }
    dev->co = NULL;
    dev->gen++;
    if (w->active > 0)
        w->active--;
    if (w->cfg->nstages > 0 && !dev->wiped) {
        dev->state = EL__DEV_WAITING;
        if (w->pending > 0 && !w->stopping) {
            dev->intended_us = w->pending_intended[w->pending_head];
            w->pending_head = (w->pending_head + 1) % PENDING_MAX;
            w->pending--;
            dev->timer_kind = EL__TK_START;
            uv_timer_start(&dev->timer, on_dev_timer, 0, 0);
        }
        el__eng_maybe_finish(w);
        return;
    }
    dev->state = EL__DEV_DONE;
    w->finished++;
    /* the connection is freed from the loop, never inside its own completion */
    if (dev->conn != NULL) {
        dev->timer_kind = EL__TK_REAP;
        uv_timer_start(&dev->timer, on_dev_timer, 0, 0);
    }
    el__eng_maybe_finish(w);
}
