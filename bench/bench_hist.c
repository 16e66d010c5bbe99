/* bench_hist.c - cost of the results histograms (results/hist.c): ns per recorded value, cost of
 * a percentile, and merging 1,000 shards, beside the approach of tools that keep every sample
 * (k6's Trend, a sorted array): append per value, sort for a percentile, concatenate to merge.
 * Prints one line per figure: bench=... unit=... ours=... peer=... theirs=... ratio=... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hist.h"

#define SAMPLES 2000000
#define SHARDS  1000
#define PER_SHARD 2000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Deterministic heavy-tailed latencies in us (xorshift; mostly 1-20 ms, a tail to seconds). */
static int64_t next_latency(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    uint64_t r = *s;
    int64_t base = 1000 + (int64_t)(r % 19000);
    if ((r >> 32) % 100 == 0)
        base *= 1 + (int64_t)((r >> 40) % 200);
    return base;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void line(const char *bench, const char *unit, double ours, const char *peer,
                 double theirs, int lower_is_better)
{
    double ratio = lower_is_better ? theirs / ours : ours / theirs;
    printf("bench=%s unit=%s ours=%.2f peer=%s theirs=%.2f ratio=%.2f\n", bench, unit, ours,
           peer, theirs, ratio);
}

int main(void)
{
    struct el_hist_config cfg = el_hist_config_default();
    struct el_hist *h;
    struct el_err err;
    if (el_hist_new(&cfg, &h, &err) < 0) {
        fprintf(stderr, "bench_hist: %s\n", err.msg);
        return 1;
    }
    int64_t *vals = malloc(sizeof(int64_t) * SAMPLES);
    int64_t *arr = malloc(sizeof(int64_t) * SAMPLES);
    if (vals == NULL || arr == NULL)
        return 1;
    memset(arr, 0, sizeof(int64_t) * SAMPLES); /* fault the pages in before timing */
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < SAMPLES; i++)
        vals[i] = next_latency(&seed);

    /* record: histogram vs append to a sample array */
    double t0 = now_s();
    for (size_t i = 0; i < SAMPLES; i++)
        el_hist_record(h, vals[i]);
    double ours_rec = (now_s() - t0) * 1e9 / SAMPLES;
    t0 = now_s();
    for (size_t i = 0; i < SAMPLES; i++)
        arr[i] = vals[i];
    double theirs_rec = (now_s() - t0) * 1e9 / SAMPLES;
    line("hist_record", "ns/value", ours_rec, "sample_array_append", theirs_rec, 1);

    /* percentile of 2M samples: walk the buckets vs sort the samples */
    t0 = now_s();
    int64_t p99 = el_hist_value_at_percentile(h, 99.0);
    double ours_pct = (now_s() - t0) * 1e6;
    t0 = now_s();
    qsort(arr, SAMPLES, sizeof(int64_t), cmp_i64);
    int64_t exact = arr[(size_t)(0.99 * SAMPLES) - 1];
    double theirs_pct = (now_s() - t0) * 1e6;
    line("hist_p99_of_2M", "us", ours_pct, "qsort_samples", theirs_pct, 1);
    printf("# p99 histogram %lld us, exact %lld us (%.3f%% apart)\n", (long long)p99,
           (long long)exact, 100.0 * (double)(p99 - exact) / (double)exact);

    /* merge 1,000 shards of 2,000 samples: add buckets vs concatenate and sort */
    struct el_hist **shards = calloc(SHARDS, sizeof(*shards));
    for (int s = 0; s < SHARDS; s++) {
        if (el_hist_new(&cfg, &shards[s], &err) < 0)
            return 1;
        for (int i = 0; i < PER_SHARD; i++)
            el_hist_record(shards[s], vals[(size_t)s * PER_SHARD + (size_t)i]);
    }
    struct el_hist *merged;
    el_hist_new(&cfg, &merged, &err);
    t0 = now_s();
    for (int s = 0; s < SHARDS; s++)
        el_hist_merge(merged, shards[s], &err);
    int64_t mp99 = el_hist_value_at_percentile(merged, 99.0);
    double ours_merge = (now_s() - t0) * 1e3;
    t0 = now_s();
    for (int s = 0; s < SHARDS; s++)
        memcpy(arr + (size_t)s * PER_SHARD, vals + (size_t)s * PER_SHARD,
               sizeof(int64_t) * PER_SHARD);
    qsort(arr, (size_t)SHARDS * PER_SHARD, sizeof(int64_t), cmp_i64);
    double theirs_merge = (now_s() - t0) * 1e3;
    line("hist_merge_1000_shards", "ms", ours_merge, "concat_and_sort", theirs_merge, 1);
    size_t counts_len = 0, counts_bytes = 0;
    el_hist_size(&cfg, &counts_len, &counts_bytes, NULL);
    printf("# merged equals the unsplit histogram bucket for bucket: %s (p99 %lld us); %zu bytes "
           "of counts per histogram, %zu bytes of samples per shard here\n",
           el_hist_equal(merged, h) ? "yes" : "NO", (long long)mp99, counts_bytes,
           (size_t)PER_SHARD * sizeof(int64_t));

    for (int s = 0; s < SHARDS; s++)
        el_hist_free(shards[s]);
    free(shards);
    el_hist_free(merged);
    el_hist_free(h);
    free(vals);
    free(arr);
    return 0;
}
