/* hist.h - log-linear (HDR-style) latency histogram: record, merge, percentiles, text encoding.
 * Owns: nothing itself; counts live in caller memory (el_hist_init) or in the one allocation
 * made by el_hist_new. Uses: core/error.h, core/buf.h, libc. No EAS knowledge.
 *
 * The default configuration covers 1 us .. 1 h (3,600,000,000 us) at 3 significant digits:
 * every in-range value lands in a bucket whose width is under 0.1% of the value. Merging adds
 * bucket counts, so the merge of shards is the histogram of all their samples, bucket for bucket,
 * and every percentile of a merged run is exact (not an average of percentiles). A histogram is
 * not thread-safe; keep one per worker and merge. The hot path (el_hist_record*) never
 * allocates. See results/README.md for the layout and the "v1:" text encoding. */
#ifndef EL_HIST_H
#define EL_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define EL_HIST_LOWEST_US  1LL
#define EL_HIST_HIGHEST_US 3600000000LL /* 1 h */
#define EL_HIST_SIG_FIGS   3

/* el_hist_decode_new refuses an encoded configuration needing more count bytes than this. */
#define EL_HIST_DECODE_MAX_BYTES ((size_t)16 << 20)

/* What a histogram covers. Two histograms merge only if their configurations are equal. */
struct el_hist_config {
    int64_t lowest_us;  /* smallest in-range value, >= 1; sets the unit of the smallest bucket */
    int64_t highest_us; /* largest in-range value, >= 2 * lowest_us, <= INT64_MAX / 2 */
    int sig_figs;       /* significant decimal digits kept, 1..5 */
};

/* Fields are private: read them through the functions below. */
struct el_hist {
    struct el_hist_config cfg;
    int32_t unit_magnitude;     /* floor(log2(lowest_us)) */
    int32_t sub_half_magnitude; /* log2 of sub_half_count */
    int64_t sub_half_count;     /* linear sub-buckets per (upper) half bucket */
    int64_t sub_mask;           /* (2 * sub_half_count - 1) << unit_magnitude */
    size_t counts_len;          /* entries in counts: bucket index of highest_us, plus one */
    uint64_t *counts;           /* owner: the caller (el_hist_init) or this histogram's own
                                 * allocation (el_hist_new); counts_len entries */
    uint64_t total;             /* sum of counts, <= INT64_MAX */
    uint64_t below;             /* values < lowest_us offered (saturating) */
    uint64_t above;             /* values > highest_us offered (saturating) */
    int64_t min_us;             /* smallest in-range value recorded; 0 if total == 0 */
    int64_t max_us;             /* largest in-range value recorded; 0 if total == 0 */
    bool owned;                 /* counts came from el_hist_new */
};

/* One non-empty bucket, as visited by el_hist_iter_next. */
struct el_hist_iter {
    const struct el_hist *h; /* borrowed; must outlive the iteration and not change during it */
    size_t next;             /* private: next index to look at */
    size_t index;            /* bucket index (position in the counts array) */
    int64_t lowest_us;       /* smallest value that lands in this bucket */
    int64_t highest_us;      /* largest value that lands in this bucket */
    uint64_t count;          /* samples in this bucket, > 0 */
};

/* --- sizing and lifetime ------------------------------------------------------------------- */

/* The configuration 1 us .. 1 h, 3 significant digits. */
struct el_hist_config el_hist_config_default(void);

/* Sizes the counts array for cfg (NULL: the default) without allocating anything.
 * counts_len, counts_bytes: out, may be NULL. Returns 0, or EL_EINVAL if cfg is out of bounds
 * (lowest_us < 1, highest_us < 2 * lowest_us or > INT64_MAX / 2, sig_figs outside 1..5). */
int el_hist_size(const struct el_hist_config *cfg, size_t *counts_len, size_t *counts_bytes,
                 struct el_err *err);

/* Empty histogram for cfg (NULL: the default) over caller memory: counts has counts_len
 * entries (at least what el_hist_size says; extra entries are unused), is zeroed here, stays
 * owned by the caller and must outlive h. Returns 0, or EL_EINVAL (bad cfg, counts NULL or
 * too short); h is untouched on failure. */
int el_hist_init(struct el_hist *h, const struct el_hist_config *cfg, uint64_t *counts,
                 size_t counts_len, struct el_err *err);

/* Forgets the caller's counts array (does not free it); h must be re-initialised before use. */
void el_hist_close(struct el_hist *h);

/* Allocates an empty histogram for cfg (NULL: the default) in one block; *out is set on
 * success, untouched on failure. Returns 0, EL_EINVAL (bad cfg) or EL_ENOMEM. */
int el_hist_new(const struct el_hist_config *cfg, struct el_hist **out, struct el_err *err);

/* Frees a histogram made by el_hist_new; NULL does nothing. */
void el_hist_free(struct el_hist *h);

/* Sets every count, the out-of-range counters, min and max back to zero. */
void el_hist_reset(struct el_hist *h);

/* --- recording (hot path: no allocation, never aborts) ------------------------------------- */

/* Records one sample. Returns true if value_us was in [lowest_us, highest_us]; otherwise
 * counts it in the below/above counter and returns false. */
bool el_hist_record(struct el_hist *h, int64_t value_us);

/* Records count samples of value_us (count 0 records nothing and returns true). Returns false
 * if value_us is out of range (count is added to the below/above counter) or if the total
 * would pass INT64_MAX (then nothing at all is recorded). */
bool el_hist_record_n(struct el_hist *h, int64_t value_us, uint64_t count);

/* Records value_us corrected for coordinated omission, as HdrHistogram's
 * hdr_record_corrected_value: a closed-loop caller that meant to send every
 * expected_interval_us but was stalled for value_us also missed the samples value_us - k *
 * expected_interval_us for every k >= 1 that leaves at least expected_interval_us; those are
 * recorded too (a 1 s stall at a 10 ms interval adds 99 samples: 990 ms, 980 ms, ... 10 ms).
 * expected_interval_us <= 0 records value_us alone. Work is O(buckets), not O(samples).
 * Prefer timing from the intended start under an arrival-rate schedule (design.md section 5);
 * this is for closed-loop scenarios. Returns as el_hist_record_n. */
bool el_hist_record_corrected(struct el_hist *h, int64_t value_us, int64_t expected_interval_us);

/* As el_hist_record_corrected, each sample (real and synthetic) counted count times. */
bool el_hist_record_corrected_n(struct el_hist *h, int64_t value_us, uint64_t count,
                                int64_t expected_interval_us);

/* --- merging ------------------------------------------------------------------------------- */

/* Adds every sample of src to dst: bucket counts, total, below/above counters, min and max.
 * After merging shards into an empty histogram it equals (el_hist_equal) the histogram that
 * recorded all their samples, in any merge order. Returns 0; EL_EINVAL if the configurations
 * differ; EL_ELIMIT if dst's total would pass INT64_MAX. On failure dst is unchanged. */
int el_hist_merge(struct el_hist *dst, const struct el_hist *src, struct el_err *err);

/* True if a and b have the same configuration, counts, counters, min and max. */
bool el_hist_equal(const struct el_hist *a, const struct el_hist *b);

/* --- queries ------------------------------------------------------------------------------- */

/* In-range samples recorded. */
uint64_t el_hist_total(const struct el_hist *h);
/* Samples offered below lowest_us (including 0 and negatives) and above highest_us. */
uint64_t el_hist_count_below(const struct el_hist *h);
uint64_t el_hist_count_above(const struct el_hist *h);

/* Exact smallest and largest in-range value recorded; 0 if the histogram is empty. */
int64_t el_hist_min(const struct el_hist *h);
int64_t el_hist_max(const struct el_hist *h);

/* Mean of the in-range samples, each taken at the middle of its bucket (within 0.05% at 3
 * significant digits); 0.0 if empty. */
double el_hist_mean(const struct el_hist *h);

/* Value at percentile (0..100; outside values are clamped, NaN counts as 0), HdrHistogram's
 * rule: the highest value of the first bucket whose cumulative count reaches
 * round(percentile / 100 * total), at least 1 sample; the result is clamped to the exact max,
 * and percentile 0 gives the exact min. So at least percentile % of the samples are <= the
 * result. 0 if the histogram is empty. */
int64_t el_hist_value_at_percentile(const struct el_hist *h, double percentile);

/* Bounds of the bucket value_us falls in (value_us must be in range, else returns value_us).
 * The width highest - lowest + 1 is at most max(value_us / 10^sig_figs, 2^floor(log2(lowest_us))):
 * at 3 digits and lowest_us 1, under 0.1% of the value (exact below 2048 us). */
int64_t el_hist_lowest_equivalent(const struct el_hist *h, int64_t value_us);
int64_t el_hist_highest_equivalent(const struct el_hist *h, int64_t value_us);

/* Iteration over non-empty buckets in increasing value order:
 *   struct el_hist_iter it; el_hist_iter_init(&it, h);
 *   while (el_hist_iter_next(&it)) use(it.lowest_us, it.highest_us, it.count); */
void el_hist_iter_init(struct el_hist_iter *it, const struct el_hist *h);
/* Moves to the next non-empty bucket; false when there is none left. */
bool el_hist_iter_next(struct el_hist_iter *it);

/* --- text encoding (results.json) ---------------------------------------------------------- */

/* Appends the "v1:" text form of h to out (no NUL): ASCII, JSON-safe, the same text for equal
 * histograms on every platform. Returns 0 or EL_ELIMIT / EL_ENOMEM from the buffer (out then
 * holds a partial encoding: reset or drop it). */
int el_hist_encode(const struct el_hist *h, struct el_buf *out, struct el_err *err);

/* Replaces the contents of h with the histogram encoded in text[0..len) (no NUL needed).
 * Returns 0; EL_EFORMAT for malformed or non-canonical text, with err->offset the byte offset
 * in text where decoding stopped; EL_EINVAL if the encoded configuration differs from h's. On
 * failure h is unchanged. Never reads outside text[0..len). */
int el_hist_decode(struct el_hist *h, const char *text, size_t len, struct el_err *err);

/* As el_hist_decode into a new histogram (el_hist_new) of the encoded configuration; *out is
 * set on success only. Also EL_ELIMIT if that configuration needs more than
 * EL_HIST_DECODE_MAX_BYTES of counts, EL_ENOMEM. */
int el_hist_decode_new(const char *text, size_t len, struct el_hist **out, struct el_err *err);

#endif
