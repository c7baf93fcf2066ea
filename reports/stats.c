/* The statistics of `pendbench compare`.
 *
 * Two kinds of noise make two results differ when nothing changed:
 *
 *  - between runs: frequency, placement, what else the machine does. Only
 *    repetitions show it. The test is Mann-Whitney U on the per-repetition
 *    figures, as Google Benchmark's tools/compare.py does (scipy's
 *    mannwhitneyu, two-sided): rank-based, so it assumes no distribution
 *    and one wild repetition cannot dominate it. The p-value is exact
 *    (a permutation distribution built by dynamic programming over the
 *    doubled mid-ranks, so ties are exact too) up to PB_MWU_EXACT_MAX
 *    figures in all, and the normal approximation with tie and continuity
 *    corrections above (scipy's asymptotic method; at 50 figures the two
 *    agree to about 0.001). scipy's "exact" ignores ties and switches to
 *    the approximation whenever there is one; per-repetition percentiles
 *    from log-linear bins tie often, hence the exact tie-aware version.
 *  - within a run: which operations happened to be slow. The merged
 *    histogram shows it: an order-statistic confidence interval of a
 *    percentile needs no assumption on the distribution, only that the
 *    values are draws from it (they are correlated in time, so these
 *    intervals are too narrow; this is why the repetitions decide when
 *    there are enough of them, see compare.c). The bootstrap would give
 *    about the same interval for a lot more work and a seed to document.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_compare.h"

double pb_normal_quantile_upper(double q)
{
    if (!(q > 0))
        return INFINITY;
    if (!(q < 1))
        return -INFINITY;
    /* 0.5 * erfc(z / sqrt 2) = q, by bisection: a handful of calls per
     * comparison, so simplicity wins over a rational approximation. */
    double lo = -40, hi = 40;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(mid / sqrt(2.0)) > q)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* ---- Mann-Whitney U ---------------------------------------------------------- */

struct ranked {
    double v;
    unsigned from_a;
};

static int cmp_ranked(const void *x, const void *y)
{
    double a = ((const struct ranked *)x)->v, b = ((const struct ranked *)y)->v;
    return (a > b) - (a < b);
}

double pb_mann_whitney_min_p(unsigned na, unsigned nb)
{
    if (!na || !nb)
        return 1;
    /* C(n, k) as a product of ratios: no overflow before it exceeds 2/alpha. */
    unsigned n = na + nb, k = na < nb ? na : nb;
    double c = 1;
    for (unsigned i = 1; i <= k; i++)
        c = c * (double)(n - k + i) / (double)i;
    double p = 2.0 / c;
    return p > 1 ? 1 : p;
}

unsigned pb_mann_whitney_min_n(double alpha)
{
    unsigned n = 1;
    while (n < PB_COMPARE_MAX_REPS && pb_mann_whitney_min_p(n, n) > alpha)
        n++;
    return n;
}

/* Exact two-sided p from the permutation distribution of the doubled rank
 * sum of sample a (integers, ties included): P(|S - E S| >= |s - E S|). */
static double exact_p(const unsigned *rank2, unsigned n, unsigned na, unsigned long s_obs)
{
    unsigned long max_s = 0;
    for (unsigned i = 0; i < n; i++)
        max_s += rank2[i];
    size_t width = max_s + 1;
    double *ways = calloc((size_t)(na + 1) * width, sizeof *ways);
    if (!ways)
        return NAN;
    ways[0] = 1;
    unsigned long top = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned r = rank2[i];
        top += r;
        unsigned kmax = i + 1 < na ? i + 1 : na;
        for (unsigned k = kmax; k >= 1; k--) {
            double *row = ways + (size_t)k * width, *prev = ways + (size_t)(k - 1) * width;
            for (unsigned long s = top; s >= r; s--)
                row[s] += prev[s - r];
        }
    }
    double total = 0, tail = 0;
    long mean = (long)na * (long)(n + 1);   /* doubled: na * (n + 1) / 2 * 2 */
    long dev = labs((long)s_obs - mean);
    const double *last = ways + (size_t)na * width;
    for (unsigned long s = 0; s <= max_s; s++) {
        total += last[s];
        if (labs((long)s - mean) >= dev)
            tail += last[s];
    }
    free(ways);
    double p = tail / total;
    return p > 1 ? 1 : p;
}

double pb_mann_whitney_p(const double *a, unsigned na, const double *b, unsigned nb,
                         double *u_out)
{
    if (u_out)
        *u_out = NAN;
    if (!na || !nb)
        return 1;
    unsigned n = na + nb;
    struct ranked *all = malloc(n * sizeof *all);
    unsigned *rank2 = malloc(n * sizeof *rank2);
    if (!all || !rank2) {
        free(all);
        free(rank2);
        return NAN;
    }
    for (unsigned i = 0; i < na; i++)
        all[i] = (struct ranked){ a[i], 1 };
    for (unsigned i = 0; i < nb; i++)
        all[na + i] = (struct ranked){ b[i], 0 };
    qsort(all, n, sizeof *all, cmp_ranked);
    /* Mid-ranks, doubled so they stay integers: positions i..j (0-based)
     * share rank (i + 1 + j + 1) / 2. */
    unsigned long s_obs = 0;
    double tie_term = 0;
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v)
            j++;
        double t = j - i + 1;
        tie_term += t * t * t - t;
        for (unsigned k = i; k <= j; k++) {
            rank2[k] = i + j + 2;
            if (all[k].from_a)
                s_obs += rank2[k];
        }
        i = j + 1;
    }
    free(all);
    double u = (double)s_obs / 2.0 - (double)na * (na + 1) / 2.0;
    if (u_out)
        *u_out = u;
    double p;
    if (n <= PB_MWU_EXACT_MAX) {
        p = exact_p(rank2, n, na, s_obs);
    } else {
        double mu = (double)na * nb / 2.0;
        double var = (double)na * nb / 12.0 * ((n + 1) - tie_term / ((double)n * (n - 1)));
        if (!(var > 0)) {
            p = 1;
        } else {
            double z = (fabs(u - mu) - 0.5) / sqrt(var);
            if (z < 0)
                z = 0;
            p = erfc(z / sqrt(2.0));
            if (p > 1)
                p = 1;
        }
    }
    free(rank2);
    return p;
}

/* ---- histogram percentiles ------------------------------------------------------- */

/* The bin holding the value of the given rank (1-based, <= count). */
static unsigned bin_of_rank(const struct pb_hist *h, uint64_t rank)
{
    uint64_t cum = 0;
    for (unsigned i = 0; i < PB_HIST_BINS; i++) {
        cum += h->bins[i];
        if (cum >= rank)
            return i;
    }
    return PB_HIST_BINS - 1;
}

int pb_hist_percentile_ci(const struct pb_hist *h, double p, double confidence, double *lo,
                          double *hi)
{
    if (!h->count || !(p > 0) || !(p < 100) || !(confidence > 0) || !(confidence < 1))
        return -1;
    double n = (double)h->count, q = p / 100.0;
    double z = pb_normal_quantile_upper((1 - confidence) / 2);
    double sd = sqrt(n * q * (1 - q));
    double lo_rank = floor(n * q - z * sd), hi_rank = ceil(n * q + z * sd) + 1;
    if (lo_rank < 1) {
        *lo = 0;
    } else {
        double v = (double)pb_hist_bin_lo(bin_of_rank(h, (uint64_t)lo_rank));
        *lo = v < (double)h->min ? (double)h->min : v;
    }
    if (hi_rank > n) {
        *hi = INFINITY;
    } else {
        double v = (double)pb_hist_bin_hi(bin_of_rank(h, (uint64_t)hi_rank));
        *hi = v > (double)h->max ? (double)h->max : v;
    }
    return 0;
}

/* ---- proportions ------------------------------------------------------------------ */

double pb_two_proportion_p(uint64_t k1, uint64_t n1, uint64_t k2, uint64_t n2)
{
    if (!n1 || !n2)
        return 1;
    double p1 = (double)k1 / (double)n1, p2 = (double)k2 / (double)n2;
    double pooled = (double)(k1 + k2) / (double)(n1 + n2);
    double var = pooled * (1 - pooled) * (1.0 / (double)n1 + 1.0 / (double)n2);
    if (!(var > 0))
        return 1;
    double z = fabs(p1 - p2) / sqrt(var);
    double p = erfc(z / sqrt(2.0));
    return p > 1 ? 1 : p;
}
