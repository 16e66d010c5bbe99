/* results_merge.c - adds one run's results into another: histograms bucket by bucket, counters,
 * checks, late starts, bytes, per-device totals, timeline seconds and their latency classes,
 * thresholds (by expression). Addition only, so shards merged in any order equal the unsplit run.
 * Owns: nothing beyond what it adds to dst. Uses: results_int.h, hist.h. */
#include <string.h>

#include "results_int.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool same_cfg(const struct el_hist_config *a, const struct el_hist_config *b)
{
    return a->lowest_us == b->lowest_us && a->highest_us == b->highest_us &&
           a->sig_figs == b->sig_figs;
}

int el_results_merge(struct el_results *dst, const struct el_results *src, struct el_err *err)
{
    if (!same_cfg(&dst->hist_cfg, &src->hist_cfg) ||
        !same_cfg(&dst->timeline_cfg, &src->timeline_cfg))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "results merge: histogram configurations differ (%lld..%lld us at %d "
                      "digits into %lld..%lld us at %d digits)",
                      (long long)src->hist_cfg.lowest_us, (long long)src->hist_cfg.highest_us,
                      src->hist_cfg.sig_figs, (long long)dst->hist_cfg.lowest_us,
                      (long long)dst->hist_cfg.highest_us, dst->hist_cfg.sig_figs);

    for (uint32_t i = 0; i < src->n_series; i++) {
        const struct el__rs_series *s = &src->series[i];
        uint32_t cmd = el__rs_intern(dst, el__rs_name(src, s->cmd));
        uint32_t outcome = s->outcome == EL__RS_NONE
                               ? EL__RS_NONE
                               : el__rs_intern(dst, el__rs_name(src, s->outcome));
        struct el__rs_series *d = el__rs_series_get(dst, s->kind, cmd, outcome);
        int rc = el_hist_merge(d->hist, s->hist, err);
        if (rc < 0)
            return rc;
        d->late = sat_add(d->late, s->late);
        d->bytes_in = sat_add(d->bytes_in, s->bytes_in);
        d->bytes_out = sat_add(d->bytes_out, s->bytes_out);
    }
    for (uint32_t i = 0; i < src->n_counters; i++) {
        const struct el__rs_counter *c = &src->counters[i];
        struct el__rs_counter *d =
            el__rs_counter_get(dst, el__rs_intern(dst, el__rs_name(src, c->name)));
        d->n = sat_add(d->n, c->n);
    }
    for (uint32_t i = 0; i < src->n_checks; i++) {
        const struct el__rs_check *c = &src->checks[i];
        struct el__rs_check *d =
            el__rs_check_get(dst, el__rs_intern(dst, el__rs_name(src, c->name)));
        d->passed = sat_add(d->passed, c->passed);
        d->failed = sat_add(d->failed, c->failed);
    }
    for (uint32_t i = 0; i < src->n_devices; i++) {
        const struct el__rs_device *s = &src->devices[i];
        el_results_device_bytes(dst, s->id, s->bytes_in, s->bytes_out, s->syncs);
    }
    for (uint32_t i = 0; i < src->n_seconds; i++) {
        const struct el__rs_second *s = &src->seconds[i];
        struct el__rs_second *d = el__rs_second_get(dst, s->t);
        if (d == NULL) {
            dst->timeline_dropped = sat_add(dst->timeline_dropped, s->requests);
            continue;
        }
        d->requests = sat_add(d->requests, s->requests);
        d->errors = sat_add(d->errors, s->errors);
        d->throttled = sat_add(d->throttled, s->throttled);
        d->bytes_in = sat_add(d->bytes_in, s->bytes_in);
        d->bytes_out = sat_add(d->bytes_out, s->bytes_out);
        for (uint32_t k = 0; k < s->n_entries; k++)
            el__rs_second_add(d, s->entries[k].key_us, s->entries[k].count);
    }
    dst->timeline_dropped = sat_add(dst->timeline_dropped, src->timeline_dropped);
    if (!src->timeline_throttled) /* one part without per-second throttled counts: none are */
        dst->timeline_throttled = false;
    for (uint32_t i = 0; i < src->n_thresholds; i++) {
        int rc = el_results_threshold_add(dst, src->thresholds[i].expr, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}
