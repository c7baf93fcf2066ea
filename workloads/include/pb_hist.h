/* Log-linear latency histograms (HdrHistogram style): values in
 * nanoseconds, 2^PB_HIST_SUB_BITS linear sub-buckets per power of two, so
 * the relative error of any percentile is below 2^-PB_HIST_SUB_BITS.
 * One per thread, recorded without atomics; merged at the end (merge is
 * exact: bin by bin). Percentiles come from merged histograms, never from
 * averaging. The bins are kept in results so runs can be merged later. */
#ifndef PB_HIST_H
#define PB_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_HIST_SUB_BITS 7                    /* 128 sub-buckets: < 0.8% error */
#define PB_HIST_MAX_POW  40                   /* values up to ~2^40 ns (~18 min) */
#define PB_HIST_BINS     ((PB_HIST_MAX_POW - PB_HIST_SUB_BITS + 1) << PB_HIST_SUB_BITS)

struct pb_hist {
    uint64_t count;
    uint64_t min, max;                        /* exact */
    double sum;                               /* for the mean */
    uint64_t bins[PB_HIST_BINS];
};

void pb_hist_init(struct pb_hist *h);
/* Bin of a value (values past the top go to the last bin; max stays exact).
 * Values below 2^(SUB+1) have a bin each; above, a bin spans 2^-SUB of its
 * power of two. Inline: it is on every completion's path. */
static inline unsigned pb_hist_bin(uint64_t v)
{
    if (v >> PB_HIST_MAX_POW)
        return PB_HIST_BINS - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(v | (UINT64_C(1) << PB_HIST_SUB_BITS));
    unsigned shift = b - PB_HIST_SUB_BITS;
    return (shift << PB_HIST_SUB_BITS) + (unsigned)(v >> shift);
}
/* Lowest and highest value a bin holds. */
uint64_t pb_hist_bin_lo(unsigned bin);
uint64_t pb_hist_bin_hi(unsigned bin);

static inline void pb_hist_record(struct pb_hist *h, uint64_t v)
{
    h->bins[pb_hist_bin(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void pb_hist_merge(struct pb_hist *into, const struct pb_hist *from);
/* The value at percentile p (0 < p <= 100): the highest value of the bin
 * where the cumulative count reaches p% (clamped to [min, max]); 0 when
 * empty. p = 100 returns max. */
uint64_t pb_hist_percentile(const struct pb_hist *h, double p);
double pb_hist_mean(const struct pb_hist *h);

/* ---- conversion from TSC ticks, fixed point (no division on the hot path) */
struct pb_tick_scale { uint64_t mult; unsigned shift; };
void pb_tick_scale_init(struct pb_tick_scale *s, double ticks_per_ns);
static inline uint64_t pb_ticks_to_ns(const struct pb_tick_scale *s, uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * s->mult) >> s->shift);
}

#endif
