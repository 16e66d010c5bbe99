/* results_timeline.c - the per-second timeline: requests, errors, throttled requests and bytes
 * per unix second, and each second's latencies as a sparse histogram (classes of the timeline
 * configuration, 1 us .. 1 h at 2 significant digits: p50/p99 per second within 1%) that merges
 * exactly by adding counts.
 * Owns: the seconds array and each second's classes. Uses: hist.h (bucket arithmetic through
 * a scratch histogram). Memory: a second holds at most one entry per class it saw (<= ~3,200). */
#include <stdlib.h>
#include <string.h>

#include "results_int.h"

void el__rs_timeline_free(struct el_results *r)
{
    for (uint32_t i = 0; i < r->n_seconds; i++)
        free(r->seconds[i].entries);
    free(r->seconds);
    r->seconds = NULL;
    r->n_seconds = r->cap_seconds = 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct el__rs_second *el__rs_second_get(struct el_results *r, int64_t t)
{
    /* Records come roughly in order: try the last second first, then search. */
    uint32_t lo = 0, hi = r->n_seconds;
    if (hi > 0 && r->seconds[hi - 1].t == t)
        return &r->seconds[hi - 1];
    if (hi > 0 && r->seconds[hi - 1].t < t) {
        lo = hi;
    } else {
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (r->seconds[mid].t < t)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < r->n_seconds && r->seconds[lo].t == t)
            return &r->seconds[lo];
    }
    if (r->n_seconds >= EL__RS_SECONDS_MAX)
        return NULL;
    el__rs_grow((void **)&r->seconds, &r->cap_seconds, r->n_seconds, sizeof(*r->seconds),
                "timeline");
    memmove(&r->seconds[lo + 1], &r->seconds[lo],
            (size_t)(r->n_seconds - lo) * sizeof(*r->seconds));
    struct el__rs_second *s = &r->seconds[lo];
    memset(s, 0, sizeof(*s));
    s->t = t;
    r->n_seconds++;
    return s;
}

void el__rs_second_add(struct el__rs_second *s, int64_t key_us, uint64_t count)
{
    uint32_t lo = 0, hi = s->n_entries;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->entries[mid].key_us < key_us)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n_entries && s->entries[lo].key_us == key_us) {
        uint64_t c = s->entries[lo].count;
        s->entries[lo].count = c > UINT64_MAX - count ? UINT64_MAX : c + count;
        return;
    }
    el__rs_grow((void **)&s->entries, &s->cap_entries, s->n_entries, sizeof(*s->entries),
                "timeline latency");
    memmove(&s->entries[lo + 1], &s->entries[lo],
            (size_t)(s->n_entries - lo) * sizeof(*s->entries));
    s->entries[lo].key_us = key_us;
    s->entries[lo].count = count;
    s->n_entries++;
}

void el__rs_timeline_record(struct el_results *r, int64_t start_unix_us, int64_t latency_us,
                            bool error, bool throttled, uint64_t bytes_out, uint64_t bytes_in)
{
    struct el__rs_second *s = el__rs_second_get(r, floor_div(start_unix_us, 1000000));
    if (s == NULL) {
        r->timeline_dropped++;
        return;
    }
    s->requests++;
    if (error)
        s->errors++;
    if (throttled)
        s->throttled++;
    s->bytes_in = s->bytes_in > UINT64_MAX - bytes_in ? UINT64_MAX : s->bytes_in + bytes_in;
    s->bytes_out = s->bytes_out > UINT64_MAX - bytes_out ? UINT64_MAX : s->bytes_out + bytes_out;
    const struct el_hist_config *c = &r->timeline_cfg;
    if (latency_us < c->lowest_us || latency_us > c->highest_us)
        return; /* counted as a request; the run's histograms count it as below/above */
    el__rs_second_add(s, el_hist_lowest_equivalent(r->timeline_scratch, latency_us), 1);
}

void el__rs_second_fill(const struct el__rs_second *s, struct el_hist *scratch)
{
    el_hist_reset(scratch);
    for (uint32_t i = 0; i < s->n_entries; i++)
        el_hist_record_n(scratch, s->entries[i].key_us, s->entries[i].count);
}
