/* hist.c - the log-linear latency histogram: sizing, recording, merging, percentiles.
 * Owns: the counts block of histograms made by el_hist_new; nothing else.
 * Uses: hist.h, hist_int.h (layout arithmetic). Hot path (el_hist_record*): no allocation. */
#include "hist.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "hist_int.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a)
        return UINT64_MAX;
    return a * b;
}

struct el_hist_config el_hist_config_default(void)
{
    struct el_hist_config cfg = {
        .lowest_us = EL_HIST_LOWEST_US,
        .highest_us = EL_HIST_HIGHEST_US,
        .sig_figs = EL_HIST_SIG_FIGS,
    };
    return cfg;
}

int el__hist_layout(struct el_hist *h, const struct el_hist_config *cfg, struct el_err *err)
{
    struct el_hist_config def = el_hist_config_default();
    if (cfg == NULL)
        cfg = &def;
    if (cfg->lowest_us < 1)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET, "histogram: lowest value %lld is below 1",
                      (long long)cfg->lowest_us);
    if (cfg->sig_figs < 1 || cfg->sig_figs > 5)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "histogram: %d significant digits, supported 1..5", cfg->sig_figs);
    if (cfg->highest_us > INT64_MAX / 2 || cfg->highest_us / 2 < cfg->lowest_us)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "histogram: highest value %lld must be in 2 * lowest (%lld) .. 2^62",
                      (long long)cfg->highest_us, (long long)cfg->lowest_us);

    /* Sub-buckets: enough linear steps that one unit is resolved up to 2 * 10^sig_figs. */
    int64_t single_unit_max = 2;
    for (int i = 0; i < cfg->sig_figs; i++)
        single_unit_max *= 10;
    int32_t sub_magnitude = 0;
    while (((int64_t)1 << sub_magnitude) < single_unit_max)
        sub_magnitude++;
    int32_t unit_magnitude = 0;
    while ((cfg->lowest_us >> (unit_magnitude + 1)) != 0)
        unit_magnitude++;
    if (unit_magnitude + sub_magnitude > 62)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "histogram: lowest value %lld too large for %d significant digits",
                      (long long)cfg->lowest_us, cfg->sig_figs);

    h->cfg = *cfg;
    h->unit_magnitude = unit_magnitude;
    h->sub_half_magnitude = sub_magnitude - 1;
    h->sub_half_count = (int64_t)1 << (sub_magnitude - 1);
    h->sub_mask = (((int64_t)1 << sub_magnitude) - 1) << unit_magnitude;
    h->counts_len = el__hist_index(h, cfg->highest_us) + 1;
    return 0;
}

/* --- sizing and lifetime ------------------------------------------------------------------- */

int el_hist_size(const struct el_hist_config *cfg, size_t *counts_len, size_t *counts_bytes,
                 struct el_err *err)
{
    struct el_hist lay = {.counts_len = 0};
    int rc = el__hist_layout(&lay, cfg, err);
    if (rc < 0)
        return rc;
    if (counts_len != NULL)
        *counts_len = lay.counts_len;
    if (counts_bytes != NULL)
        *counts_bytes = lay.counts_len * sizeof(uint64_t);
    return 0;
}

int el_hist_init(struct el_hist *h, const struct el_hist_config *cfg, uint64_t *counts,
                 size_t counts_len, struct el_err *err)
{
    struct el_hist lay = {.counts_len = 0};
    int rc = el__hist_layout(&lay, cfg, err);
    if (rc < 0)
        return rc;
    if (counts == NULL || counts_len < lay.counts_len)
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "histogram: counts array of %zu entries, need %zu",
                      counts == NULL ? 0 : counts_len, lay.counts_len);
    lay.counts = counts;
    lay.owned = false;
    *h = lay;
    el_hist_reset(h);
    return 0;
}

void el_hist_close(struct el_hist *h)
{
    h->counts = NULL;
    h->counts_len = 0;
    h->total = 0;
}

int el_hist_new(const struct el_hist_config *cfg, struct el_hist **out, struct el_err *err)
{
    struct el_hist lay = {.counts_len = 0};
    int rc = el__hist_layout(&lay, cfg, err);
    if (rc < 0)
        return rc;
    /* One block: the struct, then the counts (sizeof(struct el_hist) is a multiple of 8). */
    struct el_hist *h = calloc(1, sizeof(*h) + lay.counts_len * sizeof(uint64_t));
    if (h == NULL)
        return EL_ERR(err, EL_ENOMEM, EL_NO_OFFSET, "histogram: out of memory for %zu buckets",
                      lay.counts_len);
    *h = lay;
    h->counts = (uint64_t *)(h + 1);
    h->owned = true;
    el_hist_reset(h);
    *out = h;
    return 0;
}

void el_hist_free(struct el_hist *h)
{
    if (h == NULL)
        return;
    assert(h->owned && "el_hist_free on a histogram from el_hist_init");
    if (h->owned)
        free(h);
}

void el_hist_reset(struct el_hist *h)
{
    memset(h->counts, 0, h->counts_len * sizeof(uint64_t));
    h->total = 0;
    h->below = 0;
    h->above = 0;
    h->min_us = 0;
    h->max_us = 0;
}

/* --- recording ----------------------------------------------------------------------------- */

/* Counts an out-of-range value; true if value_us is in range (nothing counted then). */
static bool in_range_or_count(struct el_hist *h, int64_t value_us, uint64_t count)
{
    if (value_us < h->cfg.lowest_us) {
        h->below = sat_add(h->below, count);
        return false;
    }
    if (value_us > h->cfg.highest_us) {
        h->above = sat_add(h->above, count);
        return false;
    }
    return true;
}

/* Widens [min, max] to take lo..hi (both in range); call before total grows. */
static void track_min_max(struct el_hist *h, int64_t lo, int64_t hi)
{
    if (h->total == 0) {
        h->min_us = lo;
        h->max_us = hi;
        return;
    }
    if (lo < h->min_us)
        h->min_us = lo;
    if (hi > h->max_us)
        h->max_us = hi;
}

bool el_hist_record_n(struct el_hist *h, int64_t value_us, uint64_t count)
{
    if (!in_range_or_count(h, value_us, count))
        return false;
    if (count > (uint64_t)INT64_MAX - h->total)
        return false;
    if (count == 0)
        return true;
    track_min_max(h, value_us, value_us);
    h->counts[el__hist_index(h, value_us)] += count;
    h->total += count;
    return true;
}

bool el_hist_record(struct el_hist *h, int64_t value_us)
{
    return el_hist_record_n(h, value_us, 1);
}

bool el_hist_record_corrected_n(struct el_hist *h, int64_t value_us, uint64_t count,
                                int64_t expected_interval_us)
{
    if (!in_range_or_count(h, value_us, count))
        return false;
    int64_t iv = expected_interval_us;
    if (iv <= 0 || value_us <= iv || count == 0)
        return el_hist_record_n(h, value_us, count);

    /* Missed samples v_k = value - k * iv for k = 1..k_all, all >= iv; the first k_in of them
     * are >= lowest_us (in range), the rest count as below. */
    uint64_t k_all = (uint64_t)(value_us / iv) - 1;
    uint64_t k_in = (uint64_t)((value_us - h->cfg.lowest_us) / iv);
    if (k_in > k_all)
        k_in = k_all;
    uint64_t room = (uint64_t)INT64_MAX - h->total;
    if (k_in + 1 > room / count)
        return false;

    track_min_max(h, value_us - (int64_t)k_in * iv, value_us);
    h->counts[el__hist_index(h, value_us)] += count;
    /* Walk the sequence a bucket at a time: O(buckets), however long the stall. */
    int64_t cur = value_us - iv;
    uint64_t left = k_in;
    while (left > 0) {
        size_t i = el__hist_index(h, cur);
        int64_t lo = el__hist_index_lowest(h, i);
        if (lo < h->cfg.lowest_us)
            lo = h->cfg.lowest_us;
        uint64_t n = (uint64_t)((cur - lo) / iv) + 1;
        if (n > left)
            n = left;
        h->counts[i] += n * count;
        cur -= (int64_t)n * iv;
        left -= n;
    }
    h->total += (k_in + 1) * count;
    h->below = sat_add(h->below, sat_mul(k_all - k_in, count));
    return true;
}

bool el_hist_record_corrected(struct el_hist *h, int64_t value_us, int64_t expected_interval_us)
{
    return el_hist_record_corrected_n(h, value_us, 1, expected_interval_us);
}

/* --- merging ------------------------------------------------------------------------------- */

int el_hist_merge(struct el_hist *dst, const struct el_hist *src, struct el_err *err)
{
    if (!el__hist_same_config(dst, src))
        return EL_ERR(err, EL_EINVAL, EL_NO_OFFSET,
                      "histogram merge: configurations differ (%lld..%lld us/%d digits into "
                      "%lld..%lld us/%d digits)",
                      (long long)src->cfg.lowest_us, (long long)src->cfg.highest_us,
                      src->cfg.sig_figs, (long long)dst->cfg.lowest_us,
                      (long long)dst->cfg.highest_us, dst->cfg.sig_figs);
    if (src->total > (uint64_t)INT64_MAX - dst->total)
        return EL_ERR(err, EL_ELIMIT, EL_NO_OFFSET,
                      "histogram merge: total count would pass 2^63 - 1");
    if (src->total > 0) {
        track_min_max(dst, src->min_us, src->max_us);
        /* Each count <= its total, so no bucket can overflow either. */
        for (size_t i = 0; i < dst->counts_len; i++)
            dst->counts[i] += src->counts[i];
        dst->total += src->total;
    }
    dst->below = sat_add(dst->below, src->below);
    dst->above = sat_add(dst->above, src->above);
    return 0;
}

bool el_hist_equal(const struct el_hist *a, const struct el_hist *b)
{
    if (!el__hist_same_config(a, b))
        return false;
    if (a->total != b->total || a->below != b->below || a->above != b->above ||
        a->min_us != b->min_us || a->max_us != b->max_us)
        return false;
    return memcmp(a->counts, b->counts, a->counts_len * sizeof(uint64_t)) == 0;
}

/* --- queries ------------------------------------------------------------------------------- */

uint64_t el_hist_total(const struct el_hist *h)
{
    return h->total;
}

uint64_t el_hist_count_below(const struct el_hist *h)
{
    return h->below;
}

uint64_t el_hist_count_above(const struct el_hist *h)
{
    return h->above;
}

int64_t el_hist_min(const struct el_hist *h)
{
    return h->min_us;
}

int64_t el_hist_max(const struct el_hist *h)
{
    return h->max_us;
}

double el_hist_mean(const struct el_hist *h)
{
    if (h->total == 0)
        return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < h->counts_len; i++) {
        if (h->counts[i] == 0)
            continue;
        int64_t mid = el__hist_index_lowest(h, i) + (el__hist_index_width(h, i) >> 1);
        sum += (double)h->counts[i] * (double)mid;
    }
    return sum / (double)h->total;
}

int64_t el_hist_value_at_percentile(const struct el_hist *h, double percentile)
{
    if (h->total == 0)
        return 0;
    if (!(percentile > 0.0)) /* also NaN */
        return h->min_us;
    if (percentile > 100.0)
        percentile = 100.0;
    double want = percentile / 100.0 * (double)h->total + 0.5;
    uint64_t rank = want >= (double)h->total ? h->total : (uint64_t)want;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < h->counts_len; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            int64_t v = el__hist_index_lowest(h, i) + el__hist_index_width(h, i) - 1;
            return v < h->max_us ? v : h->max_us;
        }
    }
    return h->max_us; /* not reached: the counts sum to total */
}

int64_t el_hist_lowest_equivalent(const struct el_hist *h, int64_t value_us)
{
    if (value_us < h->cfg.lowest_us || value_us > h->cfg.highest_us)
        return value_us;
    return el__hist_index_lowest(h, el__hist_index(h, value_us));
}

int64_t el_hist_highest_equivalent(const struct el_hist *h, int64_t value_us)
{
    if (value_us < h->cfg.lowest_us || value_us > h->cfg.highest_us)
        return value_us;
    size_t i = el__hist_index(h, value_us);
    return el__hist_index_lowest(h, i) + el__hist_index_width(h, i) - 1;
}

void el_hist_iter_init(struct el_hist_iter *it, const struct el_hist *h)
{
    memset(it, 0, sizeof(*it));
    it->h = h;
}

bool el_hist_iter_next(struct el_hist_iter *it)
{
    const struct el_hist *h = it->h;
    for (size_t i = it->next; i < h->counts_len; i++) {
        if (h->counts[i] == 0)
            continue;
        it->next = i + 1;
        it->index = i;
        it->lowest_us = el__hist_index_lowest(h, i);
        it->highest_us = it->lowest_us + el__hist_index_width(h, i) - 1;
        it->count = h->counts[i];
        return true;
    }
    it->next = h->counts_len;
    return false;
}
