/* Log-linear latency histograms (see pb_hist.h).
 *
 * Bin layout, with S = PB_HIST_SUB_BITS (7) and M = PB_HIST_MAX_POW (40):
 *   - values 0 .. 2^(S+1)-1 (0..255) have a bin each: bin = v;
 *   - a value v with highest set bit b > S (v in [2^b, 2^(b+1))) is cut
 *     into 2^S sub-buckets of width 2^(b-S):
 *       shift = b - S,  bin = shift * 2^S + (v >> shift)
 *     (v >> shift lies in [2^S, 2^(S+1)), so the power of two b owns bins
 *     (b-S+1) * 2^S .. (b-S+2) * 2^S - 1);
 *   - values of 2^M and above go to the last bin.
 * The same formula covers the first case (b <= S: shift 0, bin = v) when
 * b is taken from v | 2^S, so pb_hist_bin is a compare, a clz and shifts.
 * Values below 2^M use bins 0 .. (M-S+1) * 2^S - 1 = PB_HIST_BINS - 1.
 * A bin of width 2^(b-S) starts at or above 2^b: its relative width is at
 * most 2^-S. The last bin's highest value is UINT64_MAX (it also holds
 * everything past the top); percentiles clamp to the exact max anyway. */
#include <math.h>
#include <string.h>

#include "pb_hist.h"

#define SUB       PB_HIST_SUB_BITS
#define LAST_BIN  ((unsigned)PB_HIST_BINS - 1u)

_Static_assert(PB_HIST_BINS == (PB_HIST_MAX_POW - PB_HIST_SUB_BITS + 1) << PB_HIST_SUB_BITS,
               "bin count");
_Static_assert(PB_HIST_MAX_POW > PB_HIST_SUB_BITS && PB_HIST_MAX_POW < 64, "layout");

void pb_hist_init(struct pb_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
    h->max = 0;
}

uint64_t pb_hist_bin_lo(unsigned bin)
{
    if (bin > LAST_BIN)
        bin = LAST_BIN;
    if (bin < (2u << SUB))
        return bin;
    unsigned shift = (bin >> SUB) - 1u;
    return (uint64_t)(bin - (shift << SUB)) << shift;
}

uint64_t pb_hist_bin_hi(unsigned bin)
{
    if (bin >= LAST_BIN)
        return UINT64_MAX;
    if (bin < (2u << SUB))
        return bin;
    unsigned shift = (bin >> SUB) - 1u;
    return pb_hist_bin_lo(bin) + (UINT64_C(1) << shift) - 1u;
}

void pb_hist_merge(struct pb_hist *into, const struct pb_hist *from)
{
    if (from->count == 0)
        return;
    for (unsigned i = 0; i < PB_HIST_BINS; i++)
        into->bins[i] += from->bins[i];
    into->count += from->count;
    into->sum += from->sum;
    if (from->min < into->min)
        into->min = from->min;
    if (from->max > into->max)
        into->max = from->max;
}

uint64_t pb_hist_percentile(const struct pb_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (!(p > 0))                       /* also NaN */
        return h->min;
    if (p >= 100)
        return h->max;
    /* Rank of the value: ceil(p% of count), computed as p * count / 100 so
     * integral products stay exact; a relative slack of 1e-12 keeps
     * 99 * 100000 / 100 from becoming 99000.000...1 -> 99001. */
    double x = p * (double)h->count / 100.0;
    double r = ceil(x - x * 1e-12);
    uint64_t rank = r < 1 ? 1 : (uint64_t)r;
    if (rank > h->count)
        rank = h->count;
    uint64_t cum = 0;
    unsigned bin = LAST_BIN;
    for (unsigned i = 0; i < PB_HIST_BINS; i++) {
        cum += h->bins[i];
        if (cum >= rank) {
            bin = i;
            break;
        }
    }
    uint64_t v = pb_hist_bin_hi(bin);
    if (v > h->max)
        v = h->max;
    if (v < h->min)
        v = h->min;
    return v;
}

double pb_hist_mean(const struct pb_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

/* mult / 2^shift = 1 / ticks_per_ns, with the largest shift (<= 64) whose
 * mult still fits in 63 bits: ticks * mult needs at most 40 + 63 bits for
 * ticks below 2^40 (and never overflows 128 bits for any 64-bit tick count).
 * The rounding of mult is relative 2^-53 (double) at worst; the result is
 * truncated to whole nanoseconds. */
void pb_tick_scale_init(struct pb_tick_scale *s, double ticks_per_ns)
{
    if (!(ticks_per_ns > 0) || !isfinite(ticks_per_ns)) {
        s->mult = 1;                    /* nonsense in: ticks pass through */
        s->shift = 0;
        return;
    }
    double inv = 1.0 / ticks_per_ns;
    int shift = 64;
    while (shift > 0 && ldexp(inv, shift) >= ldexp(1.0, 63))
        shift--;
    double m = nearbyint(ldexp(inv, shift));
    if (m < 1)
        m = 1;
    if (m >= ldexp(1.0, 63))
        m = ldexp(1.0, 63) - 1024;      /* 1/tpn >= 2^63: beyond any use */
    s->mult = (uint64_t)m;
    s->shift = (unsigned)shift;
}
