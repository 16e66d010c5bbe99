/* test_hist.c - unit tests of results/hist.c and results/hist_codec.c: merging shards equals one
 * histogram bucket for bucket, 0.1% precision, range ends, coordinated omission correction, the
 * "v1:" encoding round trip, and each class of malformed encoding refused with an offset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"

#define HOUR_US 3600000000LL

/* --- helpers ------------------------------------------------------------------------------- */

struct rng {
    uint64_t s;
};

/* splitmix64: a fixed seed gives the same samples on every machine. */
static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Latency-like samples: 1..4000 us scaled by 2^(3k/2) with P(k) = 2^-(k+1), k <= 17: a heavy
 * tail up to ~36 h (a few dozen per million above range), and now and then a 0 (below). */
static int64_t heavy_tail_us(struct rng *r)
{
    uint64_t a = rng_next(r);
    uint64_t b = rng_next(r);
    if ((a >> 32) % 50000 == 0)
        return 0;
    int64_t base = 1 + (int64_t)(a % 4000);
    int shift = __builtin_ctzll(b | (1ULL << 17)) * 3 / 2;
    return base << shift;
}

static struct el_hist *new_hist(const struct el_hist_config *cfg)
{
    struct el_hist *h = NULL;
    struct el_err err;
    assert_int_equal(el_hist_new(cfg, &h, &err), 0);
    assert_non_null(h);
    return h;
}

/* Encodes h into a fresh buffer; the caller closes it. */
static struct el_buf encode(const struct el_hist *h)
{
    struct el_buf b;
    struct el_err err;
    el_buf_init(&b, 1 << 24);
    assert_int_equal(el_hist_encode(h, &b, &err), 0);
    return b;
}

/* "v1:" + base64 of raw bytes, for hand-made malformed payloads. */
static size_t to_text(const uint8_t *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    memcpy(out, "v1:", 3);
    o = 3;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

static size_t put_uvarint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Header of the default configuration with the given min and max. */
static size_t put_default_header(uint8_t *p, uint64_t min, uint64_t max)
{
    size_t n = 0;
    n += put_uvarint(p + n, 1);
    n += put_uvarint(p + n, (uint64_t)HOUR_US);
    n += put_uvarint(p + n, 3);
    n += put_uvarint(p + n, 0);
    n += put_uvarint(p + n, 0);
    n += put_uvarint(p + n, min);
    n += put_uvarint(p + n, max);
    return n;
}

/* Decodes raw payload bytes (as text) into a default histogram; expects EL_EFORMAT with the
 * histogram unchanged, and returns the error offset. */
static size_t expect_format_error(const uint8_t *payload, size_t n)
{
    char text[512];
    size_t len = to_text(payload, n, text);
    struct el_hist *h = new_hist(NULL);
    struct el_hist *ref = new_hist(NULL);
    el_hist_record(h, 42);
    el_hist_record(ref, 42);
    struct el_err err;
    memset(&err, 0, sizeof(err));
    assert_int_equal(el_hist_decode(h, text, len, &err), EL_EFORMAT);
    assert_int_equal(err.code, EL_EFORMAT);
    assert_true(err.offset <= len);
    assert_true(el_hist_equal(h, ref));
    el_hist_free(h);
    el_hist_free(ref);
    return err.offset;
}

/* --- sizing and lifetime ------------------------------------------------------------------- */

static void default_configuration_needs_23221_buckets_of_8_bytes(void **state)
{
    (void)state;
    size_t len = 0, bytes = 0;
    struct el_err err;
    assert_int_equal(el_hist_size(NULL, &len, &bytes, &err), 0);
    assert_int_equal(len, 23221);
    assert_int_equal(bytes, 185768);
    struct el_hist_config cfg = el_hist_config_default();
    assert_int_equal(cfg.lowest_us, 1);
    assert_int_equal(cfg.highest_us, HOUR_US);
    assert_int_equal(cfg.sig_figs, 3);
}

static void sizing_refuses_configurations_out_of_bounds(void **state)
{
    (void)state;
    static const struct el_hist_config bad[] = {
        {0, 1000, 3}, {-1, 1000, 3},
        {1, 1000, 0}, {1, 1000, 6},
        {10, 19, 3},  {1, INT64_MAX / 2 + 1, 3},
        {1, 1, 3},    {INT64_MAX / 4, INT64_MAX / 2, 3},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct el_err err;
        size_t len = 7;
        assert_int_equal(el_hist_size(&bad[i], &len, NULL, &err), EL_EINVAL);
        assert_int_equal(len, 7);
        struct el_hist *h = NULL;
        assert_int_equal(el_hist_new(&bad[i], &h, &err), EL_EINVAL);
        assert_null(h);
    }
    struct el_hist_config small = {1, 2, 1};
    size_t len = 0;
    assert_int_equal(el_hist_size(&small, &len, NULL, NULL), 0);
    assert_int_equal(len, 3);
}

static void init_keeps_counts_in_caller_memory_of_the_reported_size(void **state)
{
    (void)state;
    size_t len = 0, bytes = 0;
    assert_int_equal(el_hist_size(NULL, &len, &bytes, NULL), 0);
    uint64_t *counts = malloc(bytes);
    assert_non_null(counts);
    memset(counts, 0xAB, bytes);
    struct el_hist h;
    struct el_err err;
    assert_int_equal(el_hist_init(&h, NULL, counts, len - 1, &err), EL_EINVAL);
    assert_int_equal(el_hist_init(&h, NULL, NULL, len, &err), EL_EINVAL);
    assert_int_equal(el_hist_init(&h, NULL, counts, len, &err), 0);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(counts[i], 0);
    assert_true(el_hist_record(&h, 1500));
    assert_int_equal(counts[1500], 1);
    el_hist_close(&h);
    free(counts);
    el_hist_free(NULL);
}

static void reset_empties_the_histogram(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    struct el_hist *fresh = new_hist(NULL);
    el_hist_record(h, 77);
    el_hist_record(h, 0);
    el_hist_record(h, HOUR_US + 1);
    el_hist_reset(h);
    assert_true(el_hist_equal(h, fresh));
    assert_int_equal(el_hist_total(h), 0);
    assert_int_equal(el_hist_min(h), 0);
    assert_int_equal(el_hist_max(h), 0);
    assert_int_equal(el_hist_value_at_percentile(h, 50.0), 0);
    assert_true(el_hist_mean(h) == 0.0);
    el_hist_free(h);
    el_hist_free(fresh);
}

/* --- merging ------------------------------------------------------------------------------- */

static void merged_histograms_equal_one_histogram(void **state)
{
    (void)state;
    enum {
        SHARDS = 7,
        SAMPLES = 1000000
    };
    struct el_hist *whole = new_hist(NULL);
    struct el_hist *shard[SHARDS];
    for (int s = 0; s < SHARDS; s++)
        shard[s] = new_hist(NULL);
    struct rng r = {.s = 20240601};
    for (int i = 0; i < SAMPLES; i++) {
        int64_t v = heavy_tail_us(&r);
        el_hist_record(whole, v);
        el_hist_record(shard[rng_next(&r) % SHARDS], v);
    }
    assert_true(el_hist_count_below(whole) > 0);
    assert_true(el_hist_count_above(whole) > 0);
    assert_true(el_hist_max(whole) > 1000000000);

    struct el_hist *merged = new_hist(NULL);
    struct el_hist *reversed = new_hist(NULL);
    struct el_err err;
    for (int s = 0; s < SHARDS; s++)
        assert_int_equal(el_hist_merge(merged, shard[s], &err), 0);
    for (int s = SHARDS - 1; s >= 0; s--)
        assert_int_equal(el_hist_merge(reversed, shard[s], &err), 0);

    assert_true(el_hist_equal(merged, whole));
    assert_true(el_hist_equal(reversed, whole));
    assert_memory_equal(merged->counts, whole->counts, whole->counts_len * sizeof(uint64_t));
    assert_int_equal(
        el_hist_total(merged) + el_hist_count_below(merged) + el_hist_count_above(merged), SAMPLES);
    static const double pct[] = {0.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0};
    for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++)
        assert_int_equal(el_hist_value_at_percentile(merged, pct[i]),
                         el_hist_value_at_percentile(whole, pct[i]));
    assert_int_equal(el_hist_min(merged), el_hist_min(whole));
    assert_int_equal(el_hist_max(merged), el_hist_max(whole));
    assert_true(el_hist_mean(merged) == el_hist_mean(whole));
    assert_int_equal(el_hist_value_at_percentile(merged, 100.0), el_hist_max(whole));

    for (int s = 0; s < SHARDS; s++)
        el_hist_free(shard[s]);
    el_hist_free(whole);
    el_hist_free(merged);
    el_hist_free(reversed);
}

static void merge_refuses_a_different_configuration(void **state)
{
    (void)state;
    struct el_hist_config two_digits = {1, HOUR_US, 2};
    struct el_hist *dst = new_hist(NULL);
    struct el_hist *ref = new_hist(NULL);
    struct el_hist *src = new_hist(&two_digits);
    el_hist_record(dst, 100);
    el_hist_record(ref, 100);
    el_hist_record(src, 200);
    struct el_err err;
    assert_int_equal(el_hist_merge(dst, src, &err), EL_EINVAL);
    assert_int_equal(err.code, EL_EINVAL);
    assert_true(el_hist_equal(dst, ref));
    assert_false(el_hist_equal(dst, src));
    el_hist_free(dst);
    el_hist_free(ref);
    el_hist_free(src);
}

static void merge_refuses_totals_past_int64_max(void **state)
{
    (void)state;
    struct el_hist *dst = new_hist(NULL);
    struct el_hist *src = new_hist(NULL);
    assert_true(el_hist_record_n(dst, 10, INT64_MAX));
    assert_false(el_hist_record(dst, 10));
    assert_int_equal(el_hist_total(dst), INT64_MAX);
    assert_int_equal(el_hist_count_below(dst) + el_hist_count_above(dst), 0);
    el_hist_record(src, 20);
    struct el_err err;
    assert_int_equal(el_hist_merge(dst, src, &err), EL_ELIMIT);
    assert_int_equal(el_hist_total(dst), INT64_MAX);
    assert_int_equal(el_hist_max(dst), 10);
    el_hist_free(dst);
    el_hist_free(src);
}

/* --- precision and range ------------------------------------------------------------------- */

static void check_precision(const struct el_hist *h, int64_t v)
{
    int64_t lo = el_hist_lowest_equivalent(h, v);
    int64_t hi = el_hist_highest_equivalent(h, v);
    assert_true(lo <= v && v <= hi);
    /* Any value of the bucket stands for v within 0.1%. */
    assert_true((hi - lo) * 1000 <= v);
}

static void recorded_values_stay_within_a_tenth_of_a_percent(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    for (int64_t v = 1; v <= 100000; v++)
        check_precision(h, v);
    for (double d = 1.0; d <= (double)HOUR_US; d *= 1.00037)
        check_precision(h, (int64_t)d);
    struct rng r = {.s = 7};
    for (int i = 0; i < 100000; i++)
        check_precision(h, 1 + (int64_t)(rng_next(&r) % (uint64_t)HOUR_US));
    check_precision(h, HOUR_US);

    /* Recorded values come back from iteration in a bucket of the same precision. */
    for (int i = 0; i < 2000; i++) {
        int64_t v = 1 + (int64_t)(rng_next(&r) % (uint64_t)HOUR_US);
        el_hist_reset(h);
        assert_true(el_hist_record(h, v));
        struct el_hist_iter it;
        el_hist_iter_init(&it, h);
        assert_true(el_hist_iter_next(&it));
        assert_true(it.lowest_us <= v && v <= it.highest_us);
        assert_true((it.highest_us - it.lowest_us) * 1000 <= v);
        assert_int_equal(it.count, 1);
        assert_false(el_hist_iter_next(&it));
        int64_t p50 = el_hist_value_at_percentile(h, 50.0);
        assert_int_equal(p50, v); /* one sample: clamped to the exact max */
    }
    el_hist_free(h);
}

static void range_ends_are_recorded_and_outsiders_counted(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    assert_true(el_hist_record(h, 1));
    assert_true(el_hist_record(h, HOUR_US));
    assert_false(el_hist_record(h, 0));
    assert_false(el_hist_record(h, -1));
    assert_false(el_hist_record(h, INT64_MIN));
    assert_false(el_hist_record(h, HOUR_US + 1));
    assert_false(el_hist_record(h, INT64_MAX));
    assert_false(el_hist_record_n(h, 0, 10));
    assert_false(el_hist_record_corrected(h, HOUR_US * 2, 1000));
    assert_int_equal(el_hist_total(h), 2);
    assert_int_equal(el_hist_count_below(h), 13);
    assert_int_equal(el_hist_count_above(h), 3);
    assert_int_equal(el_hist_min(h), 1);
    assert_int_equal(el_hist_max(h), HOUR_US);
    assert_int_equal(el_hist_value_at_percentile(h, 0.0), 1);
    assert_int_equal(el_hist_value_at_percentile(h, 50.0), 1);
    assert_int_equal(el_hist_value_at_percentile(h, 100.0), HOUR_US);
    assert_int_equal(el_hist_value_at_percentile(h, 1000.0), HOUR_US);
    assert_int_equal(el_hist_value_at_percentile(h, -5.0), 1);

    struct el_hist_iter it;
    el_hist_iter_init(&it, h);
    assert_true(el_hist_iter_next(&it));
    assert_int_equal(it.lowest_us, 1);
    assert_int_equal(it.highest_us, 1);
    assert_true(el_hist_iter_next(&it));
    assert_true(it.lowest_us <= HOUR_US && HOUR_US <= it.highest_us);
    assert_int_equal(it.index, h->counts_len - 1);
    assert_false(el_hist_iter_next(&it));
    assert_false(el_hist_iter_next(&it));

    /* Saturating out-of-range counters never wrap. */
    assert_false(el_hist_record_n(h, 0, UINT64_MAX));
    assert_int_equal(el_hist_count_below(h), UINT64_MAX);
    el_hist_free(h);
}

static void percentiles_of_a_uniform_run_are_upper_bounds_within_precision(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    for (int64_t v = 1; v <= 1000000; v++)
        el_hist_record(h, v);
    static const double pct[] = {10.0, 50.0, 90.0, 99.0, 99.9};
    for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
        int64_t exact = (int64_t)(pct[i] * 10000.0 + 0.5);
        int64_t got = el_hist_value_at_percentile(h, pct[i]);
        assert_true(got >= exact);
        assert_true((got - exact) * 1000 <= exact);
    }
    assert_int_equal(el_hist_value_at_percentile(h, 100.0), 1000000);
    assert_int_equal(el_hist_value_at_percentile(h, 0.0), 1);
    double mean = el_hist_mean(h);
    assert_true(mean > 500000.5 * 0.9995 && mean < 500000.5 * 1.0005);
    el_hist_free(h);
}

static void iteration_visits_non_empty_buckets_in_order(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    el_hist_record(h, 1000000000);
    el_hist_record(h, 5);
    el_hist_record(h, 3000);
    el_hist_record(h, 5);
    struct el_hist_iter it;
    el_hist_iter_init(&it, h);
    assert_true(el_hist_iter_next(&it));
    assert_int_equal(it.lowest_us, 5);
    assert_int_equal(it.count, 2);
    assert_true(el_hist_iter_next(&it));
    assert_true(it.lowest_us <= 3000 && 3000 <= it.highest_us);
    assert_int_equal(it.count, 1);
    assert_true(el_hist_iter_next(&it));
    assert_true(it.lowest_us <= 1000000000 && 1000000000 <= it.highest_us);
    assert_false(el_hist_iter_next(&it));
    el_hist_free(h);
}

/* --- coordinated omission ------------------------------------------------------------------ */

/* HdrHistogram's hdr_record_corrected_values, one sample at a time. */
static void record_corrected_naive(struct el_hist *h, int64_t v, uint64_t count, int64_t iv)
{
    if (!el_hist_record_n(h, v, count))
        return;
    if (iv <= 0 || v <= iv)
        return;
    for (int64_t m = v - iv; m >= iv; m -= iv)
        el_hist_record_n(h, m, count);
}

static void one_second_stall_at_10ms_interval_adds_99_samples(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    struct el_hist *naive = new_hist(NULL);
    assert_true(el_hist_record_corrected(h, 1000000, 10000));
    record_corrected_naive(naive, 1000000, 1, 10000);
    assert_int_equal(el_hist_total(h), 100);
    assert_true(el_hist_equal(h, naive));
    assert_int_equal(el_hist_min(h), 10000);
    assert_int_equal(el_hist_max(h), 1000000);
    int64_t p50 = el_hist_value_at_percentile(h, 50.0);
    assert_true(p50 >= 500000 && p50 <= 500500);

    /* Within the interval, or with no interval, only the value itself is recorded. */
    el_hist_reset(h);
    assert_true(el_hist_record_corrected(h, 10000, 10000));
    assert_true(el_hist_record_corrected(h, 50000, 0));
    assert_true(el_hist_record_corrected(h, 50000, -3));
    assert_int_equal(el_hist_total(h), 3);
    el_hist_free(h);
    el_hist_free(naive);
}

static void correction_matches_hdrhistogram_sample_by_sample(void **state)
{
    (void)state;
    struct el_hist_config coarse = {1000, 100000000, 2};
    const struct el_hist_config *cfgs[] = {NULL, &coarse};
    struct rng r = {.s = 99};
    for (size_t c = 0; c < 2; c++) {
        struct el_hist *fast = new_hist(cfgs[c]);
        struct el_hist *naive = new_hist(cfgs[c]);
        for (int i = 0; i < 300; i++) {
            int64_t v = 1 + (int64_t)(rng_next(&r) % 5000000);
            int64_t iv = 1 + (int64_t)(rng_next(&r) % 20000);
            if (i % 10 == 0)
                iv = v / (1 + (int64_t)(rng_next(&r) % 4000)) + 1;
            uint64_t count = 1 + rng_next(&r) % 3;
            el_hist_record_corrected_n(fast, v, count, iv);
            record_corrected_naive(naive, v, count, iv);
            assert_true(el_hist_equal(fast, naive));
        }
        el_hist_free(fast);
        el_hist_free(naive);
    }
}

static void correction_of_an_hour_stall_at_1us_fills_every_bucket(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    assert_true(el_hist_record_corrected(h, HOUR_US, 1));
    assert_int_equal(el_hist_total(h), HOUR_US);
    assert_int_equal(el_hist_min(h), 1);
    /* Every value 1..1 h recorded once: each bucket but the top one holds its width. */
    struct el_hist_iter it;
    el_hist_iter_init(&it, h);
    size_t buckets = 0;
    while (el_hist_iter_next(&it)) {
        buckets++;
        if (it.index + 1 < h->counts_len)
            assert_int_equal(it.count, (uint64_t)(it.highest_us - it.lowest_us + 1));
        else
            assert_int_equal(it.count, (uint64_t)(HOUR_US - it.lowest_us + 1));
    }
    assert_int_equal(buckets, h->counts_len - 1);
    /* A total that would pass INT64_MAX is refused whole. */
    struct el_hist *ref = new_hist(NULL);
    assert_int_equal(el_hist_merge(ref, h, NULL), 0);
    assert_false(el_hist_record_corrected_n(h, HOUR_US, INT64_MAX / 1000, 1));
    assert_true(el_hist_equal(h, ref));
    el_hist_free(h);
    el_hist_free(ref);
}

/* --- text encoding ------------------------------------------------------------------------- */

static void round_trip(const struct el_hist *h)
{
    struct el_buf b = encode(h);
    struct el_err err;
    struct el_hist *back = NULL;
    assert_int_equal(el_hist_decode_new((const char *)b.data, b.len, &back, &err), 0);
    assert_true(el_hist_equal(back, h));
    struct el_buf again = encode(back);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    for (size_t i = 0; i < b.len; i++) /* ASCII, nothing JSON must escape */
        assert_true(b.data[i] > 0x20 && b.data[i] < 0x7F && b.data[i] != '"' && b.data[i] != '\\');
    el_hist_free(back);
    el_buf_close(&b);
    el_buf_close(&again);
}

static void encoding_round_trips_exactly(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    round_trip(h);
    el_hist_record(h, 1);
    round_trip(h);
    el_hist_record(h, HOUR_US);
    round_trip(h);
    struct rng r = {.s = 3};
    for (int i = 0; i < 200000; i++)
        el_hist_record(h, heavy_tail_us(&r));
    round_trip(h);
    el_hist_record_n(h, 123456, (uint64_t)INT64_MAX - el_hist_total(h));
    round_trip(h);

    struct el_hist_config coarse = {1000, 100000000, 2};
    struct el_hist *c = new_hist(&coarse);
    for (int i = 0; i < 1000; i++)
        el_hist_record(c, heavy_tail_us(&r));
    round_trip(c);

    /* Decoding into an existing histogram replaces its contents. */
    struct el_buf b = encode(h);
    struct el_hist *into = new_hist(NULL);
    el_hist_record(into, 999);
    assert_int_equal(el_hist_decode(into, (const char *)b.data, b.len, NULL), 0);
    assert_true(el_hist_equal(into, h));
    el_buf_close(&b);
    el_hist_free(h);
    el_hist_free(c);
    el_hist_free(into);
}

static void encoding_is_stable(void **state)
{
    (void)state;
    /* The README's worked example; changing this string breaks stored results.json files. */
    static const char golden[] = "v1:AYDIzrQNAwEBAc8PAQLLDwbLDwI=";
    struct el_hist *h = new_hist(NULL);
    el_hist_record(h, 0);
    el_hist_record(h, HOUR_US + 1);
    el_hist_record(h, 1);
    el_hist_record_n(h, 1000, 3);
    el_hist_record(h, 1999);
    struct el_buf b = encode(h);
    assert_int_equal(b.len, strlen(golden));
    assert_memory_equal(b.data, golden, b.len);
    el_buf_close(&b);
    el_hist_free(h);
}

static void decode_refuses_a_different_configuration_with_einval(void **state)
{
    (void)state;
    struct el_hist_config coarse = {1000, 100000000, 2};
    struct el_hist *c = new_hist(&coarse);
    el_hist_record(c, 5000);
    struct el_buf b = encode(c);
    struct el_hist *h = new_hist(NULL);
    struct el_err err;
    assert_int_equal(el_hist_decode(h, (const char *)b.data, b.len, &err), EL_EINVAL);
    assert_int_equal(el_hist_total(h), 0);
    el_buf_close(&b);
    el_hist_free(c);
    el_hist_free(h);
}

/* --- malformed encodings ------------------------------------------------------------------- */

static void decode_refuses_every_truncation(void **state)
{
    (void)state;
    struct el_hist *h = new_hist(NULL);
    struct rng r = {.s = 11};
    for (int i = 0; i < 5000; i++)
        el_hist_record(h, heavy_tail_us(&r));
    struct el_buf b = encode(h);
    struct el_hist *into = new_hist(NULL);
    for (size_t n = 0; n < b.len; n++) {
        char *cut = malloc(n + 1); /* exact size: ASan sees any read past n */
        assert_non_null(cut);
        memcpy(cut, b.data, n);
        struct el_err err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(el_hist_decode(into, cut, n, &err), EL_EFORMAT);
        assert_true(err.offset <= n);
        assert_int_equal(el_hist_total(into), 0);
        free(cut);
    }
    el_buf_close(&b);
    el_hist_free(h);
    el_hist_free(into);
}

static void decode_refuses_bad_prefix_and_bad_base64_at_their_offset(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t offset;
    } cases[] = {
        {"", 0},
        {"v1", 0},
        {"v2:AQ==", 0},
        {"V1:AQ==", 0},
        {"v1:", 3},         /* header missing */
        {"v1:AQ", 5},       /* group cut short */
        {"v1:AQ*=", 5},     /* not base64 */
        {"v1:A Q=", 4},     /* space */
        {"v1:AQ==AQAA", 5}, /* padding before the end */
        {"v1:A===", 4},     /* padding too early in the group */
        {"v1:AQ=A", 6},     /* data after padding */
        {"v1:AR==", 4},     /* unused bits set */
        {"v1:AQE=AQAA", 6}, /* padding mid-text */
        {"v1:AQF=", 5},     /* unused bits set, two-byte group */
        {"v1:AQ\x80=", 5},  /* high byte */
    };
    struct el_hist *h = new_hist(NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].text);
        char *copy = malloc(len + 1);
        assert_non_null(copy);
        memcpy(copy, cases[i].text, len);
        struct el_err err;
        memset(&err, 0, sizeof(err));
        assert_int_equal(el_hist_decode(h, copy, len, &err), EL_EFORMAT);
        if (err.offset != cases[i].offset)
            fail_msg("case %zu \"%s\": offset %zu, want %zu (%s)", i, cases[i].text, err.offset,
                     cases[i].offset, err.msg);
        free(copy);
    }
    el_hist_free(h);
}

static void decode_refuses_bad_varints(void **state)
{
    (void)state;
    /* Overlong: 1 written as 0x81 0x00; the offset names the redundant byte's character. */
    static const uint8_t overlong[] = {0x81, 0x00};
    assert_int_equal(expect_format_error(overlong, sizeof(overlong)), 4);
    /* Eleven bytes. */
    static const uint8_t eleven[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                     0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    expect_format_error(eleven, sizeof(eleven));
    /* Ten bytes, the last carrying bits past 64. */
    static const uint8_t past64[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
    expect_format_error(past64, sizeof(past64));
    /* A body token cut inside. */
    uint8_t p[64];
    size_t n = put_default_header(p, 0, 0);
    p[n++] = 0x80;
    expect_format_error(p, n);
    /* Header cut after three fields. */
    expect_format_error(p, 5);
}

static void decode_refuses_counts_that_overflow(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = put_default_header(p, 1, 2);
    n += put_uvarint(p + n, 1);                        /* index 0 empty */
    n += put_uvarint(p + n, (uint64_t)INT64_MAX << 1); /* index 1: 2^63 - 1 */
    n += put_uvarint(p + n, 2);                        /* index 2: 1 more */
    expect_format_error(p, n);
}

static void decode_refuses_too_many_buckets(void **state)
{
    (void)state;
    size_t buckets = 0;
    assert_int_equal(el_hist_size(NULL, &buckets, NULL, NULL), 0);
    uint8_t p[64];
    /* A run past the end. */
    size_t n = put_default_header(p, 1, 1);
    n += put_uvarint(p + n, 1);
    n += put_uvarint(p + n, 2);
    n += put_uvarint(p + n, ((uint64_t)buckets - 2) << 1 | 1); /* runs 2..buckets-1, then past */
    n += put_uvarint(p + n, 2);
    expect_format_error(p, n);
    /* A run longer than the array. */
    n = put_default_header(p, 1, 1);
    n += put_uvarint(p + n, UINT64_MAX);
    expect_format_error(p, n);
}

static void decode_refuses_non_canonical_or_inconsistent_bodies(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n;
    /* A zero count (empty buckets must be runs). */
    n = put_default_header(p, 1, 1);
    n += put_uvarint(p + n, 1);
    n += put_uvarint(p + n, 0);
    expect_format_error(p, n);
    /* Two runs in a row. */
    n = put_default_header(p, 2, 2);
    n += put_uvarint(p + n, 1);
    n += put_uvarint(p + n, 1);
    n += put_uvarint(p + n, 2);
    expect_format_error(p, n);
    /* A trailing run. */
    n = put_default_header(p, 1, 1);
    n += put_uvarint(p + n, 1);
    n += put_uvarint(p + n, 2);
    n += put_uvarint(p + n, 1);
    expect_format_error(p, n);
    /* A count for value 0, below the lowest value. */
    n = put_default_header(p, 1, 1);
    n += put_uvarint(p + n, 2);
    n += put_uvarint(p + n, 2);
    expect_format_error(p, n);
    /* min not in the first bucket, max not in the last, min > max, empty with a max. */
    static const uint64_t minmax[][2] = {{2, 1}, {1, 3}, {1, 0}, {0, 1}};
    for (size_t i = 0; i < 4; i++) {
        n = put_default_header(p, minmax[i][0], minmax[i][1]);
        n += put_uvarint(p + n, 1);
        n += put_uvarint(p + n, 2);
        expect_format_error(p, n);
    }
    n = put_default_header(p, 0, 7);
    expect_format_error(p, n);
    /* Unsupported configurations: 6 digits, lowest 0, highest past INT64_MAX. */
    static const uint64_t cfgs[][3] = {{1, 1000, 6}, {0, 1000, 3}, {1, UINT64_MAX, 3}};
    for (size_t i = 0; i < 3; i++) {
        n = 0;
        for (int k = 0; k < 3; k++)
            n += put_uvarint(p + n, cfgs[i][k]);
        for (int k = 0; k < 4; k++)
            n += put_uvarint(p + n, 0);
        assert_int_equal(expect_format_error(p, n), 3);
    }
}

static void decode_new_refuses_configurations_past_its_memory_limit(void **state)
{
    (void)state;
    uint8_t p[64];
    size_t n = 0;
    n += put_uvarint(p + n, 1);
    n += put_uvarint(p + n, (uint64_t)INT64_MAX / 2);
    n += put_uvarint(p + n, 5);
    for (int k = 0; k < 4; k++)
        n += put_uvarint(p + n, 0);
    char text[128];
    size_t len = to_text(p, n, text);
    struct el_hist *h = NULL;
    struct el_err err;
    assert_int_equal(el_hist_decode_new(text, len, &h, &err), EL_ELIMIT);
    assert_null(h);
}

/* Random and mutated texts: never a crash or an out-of-bounds read (ASan), only 0 or a refusal
 * with an offset inside the text, the target unchanged on refusal, and whatever decodes
 * encodes back to the same text (the encoding is canonical). */
static void decode_survives_random_and_mutated_text(void **state)
{
    (void)state;
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    struct el_hist *src = new_hist(NULL);
    struct rng r = {.s = 5};
    for (int i = 0; i < 300; i++)
        el_hist_record(src, heavy_tail_us(&r));
    struct el_buf valid = encode(src);
    struct el_hist *h = new_hist(NULL);
    struct el_hist *ref = new_hist(NULL);
    el_hist_record(h, 31337);
    el_hist_record(ref, 31337);
    int decoded = 0;
    for (int iter = 0; iter < 60000; iter++) {
        size_t len;
        char *t;
        int kind = iter % 3;
        if (kind == 0) { /* random bytes */
            len = rng_next(&r) % 48;
            t = malloc(len ? len : 1);
            assert_non_null(t);
            for (size_t i = 0; i < len; i++)
                t[i] = (char)rng_next(&r);
            if (len >= 3 && rng_next(&r) % 2)
                memcpy(t, "v1:", 3);
        } else if (kind == 1) { /* "v1:" + base64 characters */
            len = 3 + 4 * (rng_next(&r) % 12);
            t = malloc(len);
            assert_non_null(t);
            memcpy(t, "v1:", 3);
            for (size_t i = 3; i < len; i++)
                t[i] = abc[rng_next(&r) % 64];
        } else { /* a valid encoding with a few characters changed, or cut */
            len = valid.len;
            if (rng_next(&r) % 4 == 0)
                len = 3 + rng_next(&r) % (valid.len - 3);
            t = malloc(len);
            assert_non_null(t);
            memcpy(t, valid.data, len);
            int edits = len > 3 ? 1 + (int)(rng_next(&r) % 3) : 0;
            for (int e = 0; e < edits; e++)
                t[3 + rng_next(&r) % (len - 3)] = abc[rng_next(&r) % 65];
        }
        struct el_err err;
        memset(&err, 0, sizeof(err));
        int rc = el_hist_decode(h, t, len, &err);
        if (rc == 0) {
            decoded++;
            struct el_buf again = encode(h);
            assert_int_equal(again.len, len);
            assert_memory_equal(again.data, t, len);
            el_buf_close(&again);
            el_hist_reset(h);
            assert_int_equal(el_hist_merge(h, ref, NULL), 0);
        } else {
            if (rc != EL_EFORMAT && rc != EL_EINVAL)
                fail_msg("unexpected %s: %s", el_err_name(rc), err.msg);
            assert_int_equal(err.code, rc);
            assert_true(err.offset <= len);
            assert_true(el_hist_equal(h, ref));
        }
        struct el_hist *made = NULL;
        rc = el_hist_decode_new(t, len, &made, &err);
        assert_true(rc == 0 || rc == EL_EFORMAT || rc == EL_ELIMIT);
        assert_true((rc == 0) == (made != NULL));
        el_hist_free(made);
        free(t);
    }
    assert_true(decoded > 0);
    el_buf_close(&valid);
    el_hist_free(src);
    el_hist_free(h);
    el_hist_free(ref);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_configuration_needs_23221_buckets_of_8_bytes),
        cmocka_unit_test(sizing_refuses_configurations_out_of_bounds),
        cmocka_unit_test(init_keeps_counts_in_caller_memory_of_the_reported_size),
        cmocka_unit_test(reset_empties_the_histogram),
        cmocka_unit_test(merged_histograms_equal_one_histogram),
        cmocka_unit_test(merge_refuses_a_different_configuration),
        cmocka_unit_test(merge_refuses_totals_past_int64_max),
        cmocka_unit_test(recorded_values_stay_within_a_tenth_of_a_percent),
        cmocka_unit_test(range_ends_are_recorded_and_outsiders_counted),
        cmocka_unit_test(percentiles_of_a_uniform_run_are_upper_bounds_within_precision),
        cmocka_unit_test(iteration_visits_non_empty_buckets_in_order),
        cmocka_unit_test(one_second_stall_at_10ms_interval_adds_99_samples),
        cmocka_unit_test(correction_matches_hdrhistogram_sample_by_sample),
        cmocka_unit_test(correction_of_an_hour_stall_at_1us_fills_every_bucket),
        cmocka_unit_test(encoding_round_trips_exactly),
        cmocka_unit_test(encoding_is_stable),
        cmocka_unit_test(decode_refuses_a_different_configuration_with_einval),
        cmocka_unit_test(decode_refuses_every_truncation),
        cmocka_unit_test(decode_refuses_bad_prefix_and_bad_base64_at_their_offset),
        cmocka_unit_test(decode_refuses_bad_varints),
        cmocka_unit_test(decode_refuses_counts_that_overflow),
        cmocka_unit_test(decode_refuses_too_many_buckets),
        cmocka_unit_test(decode_refuses_non_canonical_or_inconsistent_bodies),
        cmocka_unit_test(decode_new_refuses_configurations_past_its_memory_limit),
        cmocka_unit_test(decode_survives_random_and_mutated_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
