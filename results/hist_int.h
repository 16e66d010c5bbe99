/* hist_int.h - private parts shared by hist.c and hist_codec.c: bucket layout arithmetic.
 * Owns: nothing. Uses: hist.h. Not for other modules; the layout is described in README.md.
 *
 * Layout (HdrHistogram's): bucket b >= 0 holds values of magnitude 2^(b + unit_magnitude) in
 * linear sub-buckets; bucket 0 uses all 2 * sub_half_count sub-buckets, every later bucket only
 * its upper half (the lower half is covered by the bucket before). The counts array is bucket
 * 0's sub-buckets, then each later bucket's upper half, cut after the index of highest_us. */
#ifndef EL_HIST_INT_H
#define EL_HIST_INT_H

#include "hist.h"

/* Checks cfg and fills the layout fields of h (cfg, magnitudes, mask, counts_len); leaves the
 * rest alone. Returns 0 or EL_EINVAL. */
int el__hist_layout(struct el_hist *h, const struct el_hist_config *cfg, struct el_err *err);

static inline int el__hist_clz64(uint64_t v)
{
    /* v != 0: the callers OR in the sub-bucket mask. */
    return __builtin_clzll(v);
}

/* Counts index of a value >= 0 (value <= highest_us gives an index < counts_len). */
static inline size_t el__hist_index(const struct el_hist *h, int64_t value)
{
    int32_t pow2ceiling = 64 - el__hist_clz64((uint64_t)value | (uint64_t)h->sub_mask);
    int32_t bucket = pow2ceiling - h->unit_magnitude - (h->sub_half_magnitude + 1);
    int64_t sub = value >> (bucket + h->unit_magnitude);
    return ((size_t)(bucket + 1) << h->sub_half_magnitude) + (size_t)(sub - h->sub_half_count);
}

/* Smallest value that lands at counts index i. */
static inline int64_t el__hist_index_lowest(const struct el_hist *h, size_t i)
{
    int32_t bucket = (int32_t)(i >> h->sub_half_magnitude) - 1;
    int64_t sub = (int64_t)(i & (size_t)(h->sub_half_count - 1)) + h->sub_half_count;
    if (bucket < 0) {
        sub -= h->sub_half_count;
        bucket = 0;
    }
    return sub << (bucket + h->unit_magnitude);
}

/* Width of the value range at counts index i (a power of two). */
static inline int64_t el__hist_index_width(const struct el_hist *h, size_t i)
{
    int32_t bucket = (int32_t)(i >> h->sub_half_magnitude) - 1;
    if (bucket < 0)
        bucket = 0;
    return (int64_t)1 << (bucket + h->unit_magnitude);
}

static inline bool el__hist_same_config(const struct el_hist *a, const struct el_hist *b)
{
    return a->cfg.lowest_us == b->cfg.lowest_us && a->cfg.highest_us == b->cfg.highest_us &&
           a->cfg.sig_figs == b->cfg.sig_figs;
}

#endif
