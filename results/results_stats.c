/* results_stats.c - numbers derived from the stored state, shared by the writers, the summary and
 * the thresholds: a command's (or the run's) histogram merged over outcomes, request totals,
 * what the run saw of throttling, per-device byte statistics. Pure functions of struct
 * el_results, so a merged run derives exactly what the unsplit run derives.
 * Owns: nothing. Uses: hist.h, results_int.h. */
#include <string.h>

#include "results_int.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void add_series(struct el__rs_stats *st, const struct el__rs_series *s)
{
    uint64_t n =
        el_hist_total(s->hist) + el_hist_count_below(s->hist) + el_hist_count_above(s->hist);
    st->requests = sat_add(st->requests, n);
    if (s->error)
        st->errors = sat_add(st->errors, n);
    st->late = sat_add(st->late, s->late);
    st->bytes_in = sat_add(st->bytes_in, s->bytes_in);
    st->bytes_out = sat_add(st->bytes_out, s->bytes_out);
}

void el__rs_collect(const struct el_results *r, uint32_t cmd, uint32_t outcome, struct el_hist *h,
                    struct el__rs_stats *st)
{
    struct el__rs_stats acc = {0};
    if (h != NULL)
        el_hist_reset(h);
    for (uint32_t i = 0; i < r->n_series; i++) {
        const struct el__rs_series *s = &r->series[i];
        if (s->kind != EL__RS_REQUEST)
            continue;
        if ((cmd != EL__RS_NONE && s->cmd != cmd) ||
            (outcome != EL__RS_NONE && s->outcome != outcome))
            continue;
        add_series(&acc, s);
        /* Same configuration by construction; a total past 2^63 cannot come from a run. */
        if (h != NULL)
            (void)el_hist_merge(h, s->hist, NULL);
    }
    if (st != NULL)
        *st = acc;
}

void el__rs_outcome_stats(const struct el_results *r, uint32_t outcome, struct el__rs_stats *st)
{
    el__rs_collect(r, EL__RS_NONE, outcome, NULL, st);
}

static uint64_t counter(const struct el_results *r, const char *name)
{
    uint32_t id = el__rs_lookup(r, name);
    for (uint32_t i = 0; id != EL__RS_NONE && i < r->n_counters; i++)
        if (r->counters[i].name == id)
            return r->counters[i].n;
    return 0;
}

bool el__rs_throttling(const struct el_results *r, struct el__rs_throttling *t)
{
    memset(t, 0, sizeof(*t));
    struct el__rs_stats st;
    el__rs_collect(r, EL__RS_NONE, EL__RS_NONE, NULL, &st);
    t->requests = st.requests;
    uint32_t id = el__rs_lookup(r, "throttled");
    if (id != EL__RS_NONE) {
        el__rs_outcome_stats(r, id, &st);
        t->throttled = st.requests;
    }
    t->http_503 = counter(r, "http.503");
    t->http_451 = counter(r, "http.451");
    for (uint32_t i = 0; i < r->n_counters; i++) {
        const char *name = el__rs_name(r, r->counters[i].name);
        size_t n = strlen(name);
        if (strncmp(name, "eas.", 4) == 0 && n > 15 && strcmp(name + n - 11, ".status.177") == 0)
            t->status_177 = sat_add(t->status_177, r->counters[i].n);
    }
    t->waits = counter(r, "throttle.waits");
    t->retry_after = counter(r, "throttle.retry_after_honoured");
    t->exponential = counter(r, "throttle.backoff_exponential");
    id = el__rs_lookup(r, "backoff");
    for (uint32_t i = 0; id != EL__RS_NONE && i < r->n_series; i++)
        if (r->series[i].kind == EL__RS_VALUE && r->series[i].cmd == id)
            t->backoff = r->series[i].hist;
    return t->throttled > 0 || t->http_503 > 0 || t->waits > 0 ||
           (t->backoff != NULL && el_hist_total(t->backoff) > 0);
}

void el__rs_device_stats(const struct el_results *r, double duration_s,
                         struct el__rs_device_stats *out)
{
    memset(out, 0, sizeof(*out));
    /* Integer sums: the same whatever order the devices were reported or merged in. */
    uint64_t in_sum = 0, out_sum = 0;
    for (uint32_t i = 0; i < r->n_devices; i++) {
        const struct el__rs_device *d = &r->devices[i];
        uint64_t total = sat_add(d->bytes_in, d->bytes_out);
        in_sum = sat_add(in_sum, d->bytes_in);
        out_sum = sat_add(out_sum, d->bytes_out);
        out->syncs += d->syncs;
        if (d->bytes_in > out->in_max)
            out->in_max = d->bytes_in;
        if (d->bytes_out > out->out_max)
            out->out_max = d->bytes_out;
        if (total > out->total_max)
            out->total_max = total;
    }
    out->devices = r->n_devices;
    if (r->n_devices == 0)
        return;
    double all = (double)sat_add(in_sum, out_sum);
    out->in_mean = (double)in_sum / r->n_devices;
    out->out_mean = (double)out_sum / r->n_devices;
    out->total_mean = all / r->n_devices;
    if (out->syncs > 0)
        out->bytes_per_sync = all / (double)out->syncs;
    if (duration_s > 0)
        out->mb_per_device_per_day = out->total_mean / duration_s * 86400.0 / 1e6;
}
