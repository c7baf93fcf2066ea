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
 *
 * Rank tests alone cannot give a trustworthy verdict with the repetitions
 * a benchmark can afford. Compare makes ~16 tests at once (metrics x
 * runs), and a multiple-comparison correction asks each for about
 * alpha / 16 = 0.003; with 5 repetitions a side, the smallest p Mann-Whitney
 * can give is 2 / C(10, 5) = 0.0079 and Wilcoxon's, on 5 pairs, 2 / 2^5 =
 * 0.0625: no change, however large, could be found. t tests use the sizes
 * of the differences, not only their order, so a consistent shift gives
 * them small p-values. Hence:
 *
 *  - unpaired (two result files): Welch's t test on the log of the
 *    per-repetition figures (a change is a ratio; the log makes it a
 *    shift and tames the right skew of timings). Welch's, not Student's,
 *    because nothing says the two sides are equally noisy; its fractional
 *    Welch-Satterthwaite df goes into the t distribution as it is.
 *    pb_welch_t_p = scipy.stats.ttest_ind(a, b, equal_var=False).
 *  - paired (`pendbench ab`, ABBA pairs run back to back): the one-sample
 *    t test on the log ratios of the pairs, which removes the drift the
 *    pairs share. pb_one_sample_t_p = scipy.stats.ttest_1samp(d, 0)
 *    = scipy.stats.ttest_rel(x, y) on d = x - y.
 *    The Wilcoxon signed-rank test is reported beside it when the pairs can
 *    reach alpha (pb_wilcoxon_min_p), as the check that assumes no
 *    distribution. pb_wilcoxon_signed_rank_p = scipy.stats.wilcoxon(d)
 *    (zero_method "wilcox", correction=False): method "exact" up to
 *    PB_WILCOXON_EXACT_MAX nonzero differences, "approx" above (scipy
 *    1.10's "auto" stays exact up to 50). Like the U test, the exact
 *    distribution is built over doubled mid-ranks, so it is exact with ties
 *    too, where scipy uses the untied distribution or the approximation.
 *  - pb_t_two_sided_p = 2 * scipy.stats.t.sf(|t|, df), through the
 *    regularized incomplete beta function (its continued fraction,
 *    modified Lentz): about 1e-12 relative up to 1e5 df, 1e-9 at 1e7;
 *    above 1e9 df the normal distribution, which is then within 1e-7.
 *  - pb_adjust_p: Holm's step-down controls the family-wise error rate,
 *    the chance of any false verdict in the comparison, which is what a
 *    CI gate's false alarm is; it is the default. Benjamini-Hochberg's
 *    step-up controls the false discovery rate (the share of false ones
 *    among the verdicts), less strict when many things changed. The
 *    textbook definitions (statsmodels' multipletests "holm", "fdr_bh").
 *  - pb_robust_cv_pct: the spread of the repetitions, from the median and
 *    the MAD so that one wild repetition does not decide that a whole run
 *    is too noisy to judge (scipy.stats.median_abs_deviation with scale
 *    1 / 1.4826, over the median).
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

/* ---- Student's t -------------------------------------------------------------- */

/* lgamma(a + b) - lgamma(a). For large a the two lgamma values are huge and
 * nearly equal; the difference of Stirling's series, with log1p, keeps the
 * digits that the subtraction would lose (a >= 100: the first omitted term
 * is below 1e-17). */
static double lgamma_ratio(double a, double b)
{
    if (a < 100)
        return lgamma(a + b) - lgamma(a);
    double c = a + b;
    double corr_c = 1 / (12 * c) - 1 / (360 * c * c * c) + 1 / (1260 * c * c * c * c * c);
    double corr_a = 1 / (12 * a) - 1 / (360 * a * a * a) + 1 / (1260 * a * a * a * a * a);
    return (a - 0.5) * log1p(b / a) + b * log(c) - b + corr_c - corr_a;
}

static double log_beta(double a, double b)
{
    double big = a > b ? a : b, small = a > b ? b : a;
    return lgamma(small) - lgamma_ratio(big, small);
}

/* The continued fraction of the incomplete beta function (the even and odd
 * terms of the classical expansion), by the modified Lentz method: each
 * step multiplies the estimate by a ratio that tends to 1. Converges fast
 * for x < (a + 1) / (a + b + 2), which the caller ensures. */
static double beta_fraction(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double f = tiny, c = tiny, d = 0;
    for (unsigned j = 1; j < 100000; j++) {
        double num;
        if (j == 1) {
            num = 1;
        } else {
            double k = j - 1, m = floor(k / 2);
            if (j % 2 == 0)   /* k odd */
                num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
            else
                num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
        }
        d = 1 + num * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + num / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double delta = c * d;
        f *= delta;
        if (fabs(delta - 1) < eps)
            break;
    }
    return f;
}

/* Regularized incomplete beta I_x(a, b), given x and y = 1 - x separately
 * (the caller can often compute y without the cancellation of 1 - x). */
static double incomplete_beta(double a, double b, double x, double y)
{
    if (!(x > 0))
        return 0;
    if (!(y > 0))
        return 1;
    double lx = x < 0.5 ? log(x) : log1p(-y), ly = y < 0.5 ? log(y) : log1p(-x);
    double front = exp(a * lx + b * ly - log_beta(a, b));
    if (y > (b + 1) / (a + b + 2))
        return front / a * beta_fraction(a, b, x);
    return 1 - front / b * beta_fraction(b, a, y);
}

double pb_t_two_sided_p(double t, double df)
{
    if (isnan(t) || isnan(df) || !(df > 0))
        return NAN;
    if (t == 0)
        return 1;
    if (isinf(t))
        return 0;
    /* Past 1e9 degrees of freedom the fraction loses digits (x is within
     * 1e-9 of 1) while the t distribution is the normal one to about 1e-7
     * (relative, for p > 1e-6). */
    if (df > 1e9)
        return erfc(fabs(t) / sqrt(2.0));
    /* P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2). */
    double t2 = t * t;
    double x = df / (df + t2), y = t2 / (df + t2);
    if (isinf(t2)) {   /* |t| > 1e154: x underflows long before p would matter */
        x = 0;
        y = 1;
    }
    double p = incomplete_beta(df / 2, 0.5, x, y);
    if (p < 0)
        p = 0;
    return p > 1 ? 1 : p;
}

/* Mean and sample variance (two passes: the values are close together,
 * log figures, and a one-pass formula would cancel). A constant sample
 * gets exactly its value and 0, so that "no spread at all" is exact. */
static int mean_var(const double *v, unsigned n, double *mean, double *var)
{
    double sum = 0;
    bool constant = true;
    for (unsigned i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return -1;
        sum += v[i];
        constant = constant && v[i] == v[0];
    }
    if (constant) {
        *mean = v[0];
        *var = 0;
        return 0;
    }
    double m = sum / n, ss = 0;
    for (unsigned i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *var = ss / (n - 1);
    return 0;
}

double pb_welch_t_p(const double *a, unsigned na, const double *b, unsigned nb, double *t_out,
                    double *df_out)
{
    if (t_out)
        *t_out = NAN;
    if (df_out)
        *df_out = NAN;
    double ma, va, mb, vb;
    if (na < 2 || nb < 2 || mean_var(a, na, &ma, &va) || mean_var(b, nb, &mb, &vb))
        return NAN;
    double sa = va / na, sb = vb / nb, se2 = sa + sb;
    if (!(se2 > 0)) {
        /* No spread on either side: any difference is certain. */
        if (t_out)
            *t_out = ma == mb ? 0 : ma > mb ? INFINITY : -INFINITY;
        return ma == mb ? 1 : 0;
    }
    double t = (ma - mb) / sqrt(se2);
    double df = se2 * se2 / (sa * sa / (na - 1) + sb * sb / (nb - 1));
    if (t_out)
        *t_out = t;
    if (df_out)
        *df_out = df;
    return pb_t_two_sided_p(t, df);
}

double pb_one_sample_t_p(const double *d, unsigned n, double *t_out)
{
    if (t_out)
        *t_out = NAN;
    double m, v;
    if (n < 2 || mean_var(d, n, &m, &v))
        return NAN;
    if (!(v > 0)) {
        if (t_out)
            *t_out = m == 0 ? 0 : m > 0 ? INFINITY : -INFINITY;
        return m == 0 ? 1 : 0;
    }
    double t = m / sqrt(v / n);
    if (t_out)
        *t_out = t;
    return pb_t_two_sided_p(t, n - 1);
}

/* ---- Wilcoxon signed rank ----------------------------------------------------------- */

struct signed_abs {
    double abs;
    bool positive;
};

static int cmp_signed_abs(const void *x, const void *y)
{
    double a = ((const struct signed_abs *)x)->abs, b = ((const struct signed_abs *)y)->abs;
    return (a > b) - (a < b);
}

double pb_wilcoxon_min_p(unsigned n)
{
    if (n <= 1)
        return 1;
    return ldexp(1.0, 1 - (int)(n > 2000 ? 2000 : n));
}

/* P(W+ <= w2) under the null, W+ in doubled ranks: each rank joins the
 * positive sum with probability 1/2, so the distribution is the subset-sum
 * count over 2^n, built by dynamic programming (ties exact). */
static double signed_rank_cdf(const unsigned *rank2, unsigned n, unsigned long w2)
{
    unsigned long max_s = 0;
    for (unsigned i = 0; i < n; i++)
        max_s += rank2[i];
    double *ways = calloc(max_s + 1, sizeof *ways);
    if (!ways)
        return NAN;
    ways[0] = 1;
    unsigned long top = 0;
    for (unsigned i = 0; i < n; i++) {
        top += rank2[i];
        for (unsigned long s = top; s >= rank2[i]; s--)
            ways[s] += ways[s - rank2[i]];
    }
    double below = 0;
    for (unsigned long s = 0; s <= w2 && s <= max_s; s++)
        below += ways[s];
    free(ways);
    return ldexp(below, -(int)n);
}

double pb_wilcoxon_signed_rank_p(const double *d, unsigned n, double *w_out)
{
    if (w_out)
        *w_out = NAN;
    for (unsigned i = 0; i < n; i++)
        if (isnan(d[i]))
            return NAN;
    struct signed_abs *v = malloc((n ? n : 1) * sizeof *v);
    unsigned *rank2 = malloc((n ? n : 1) * sizeof *rank2);
    if (!v || !rank2) {
        free(v);
        free(rank2);
        return NAN;
    }
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        if (d[i] != 0)   /* Wilcoxon's method: a zero says nothing about the sign */
            v[m++] = (struct signed_abs){ fabs(d[i]), d[i] > 0 };
    if (!m) {
        free(v);
        free(rank2);
        return NAN;
    }
    qsort(v, m, sizeof *v, cmp_signed_abs);
    unsigned long plus2 = 0, total2 = 0;
    double tie_term = 0;
    for (unsigned i = 0; i < m;) {
        unsigned j = i;
        while (j + 1 < m && v[j + 1].abs == v[i].abs)
            j++;
        double t = j - i + 1;
        tie_term += t * t * t - t;
        for (unsigned k = i; k <= j; k++) {
            rank2[k] = i + j + 2;   /* doubled mid-rank, as in the U test */
            total2 += rank2[k];
            if (v[k].positive)
                plus2 += rank2[k];
        }
        i = j + 1;
    }
    free(v);
    unsigned long min2 = plus2 < total2 - plus2 ? plus2 : total2 - plus2;
    if (w_out)
        *w_out = (double)min2 / 2.0;
    double p;
    if (m <= PB_WILCOXON_EXACT_MAX) {
        p = 2 * signed_rank_cdf(rank2, m, min2);
    } else {
        double nn = m, mean = nn * (nn + 1) / 4;
        double var = nn * (nn + 1) * (2 * nn + 1) / 24 - tie_term / 48;
        p = var > 0 ? erfc(fabs((double)min2 / 2.0 - mean) / sqrt(var) / sqrt(2.0)) : 1;
    }
    free(rank2);
    return p > 1 ? 1 : p;
}

/* ---- multiple comparisons --------------------------------------------------------- */

struct indexed_p {
    double p;
    unsigned at;
};

static int cmp_indexed_p(const void *x, const void *y)
{
    const struct indexed_p *a = x, *b = y;
    if (a->p != b->p)
        return (a->p > b->p) - (a->p < b->p);
    return (a->at > b->at) - (a->at < b->at);   /* ties in input order, whatever qsort does */
}

void pb_adjust_p(double *p, unsigned n, enum pb_correction c)
{
    if (c != PB_CORRECT_HOLM && c != PB_CORRECT_BH)
        return;
    struct indexed_p *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) {
        /* Cannot rank them: call nothing significant rather than too much. */
        for (unsigned i = 0; i < n; i++)
            if (!isnan(p[i]))
                p[i] = 1;
        return;
    }
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        if (!isnan(p[i]))
            order[m++] = (struct indexed_p){ p[i], i };
    qsort(order, m, sizeof *order, cmp_indexed_p);
    if (c == PB_CORRECT_HOLM) {
        /* Step-down: the k-th smallest (0-based) is tested at alpha / (m - k),
         * and cannot be significant unless every smaller one is: running max. */
        double run = 0;
        for (unsigned k = 0; k < m; k++) {
            double q = (double)(m - k) * order[k].p;
            if (q > 1)
                q = 1;
            if (q > run)
                run = q;
            p[order[k].at] = run;
        }
    } else {
        /* Step-up: the k-th smallest (1-based) is compared with k alpha / m,
         * and is significant when any larger one is: running min from the top. */
        double run = 1;
        for (unsigned k = m; k-- > 0;) {
            double q = (double)m / (double)(k + 1) * order[k].p;
            if (q < run)
                run = q;
            p[order[k].at] = run;
        }
    }
    free(order);
}

const char *pb_correction_name(enum pb_correction c)
{
    switch (c) {
    case PB_CORRECT_HOLM:
        return "holm";
    case PB_CORRECT_BH:
        return "bh";
    case PB_CORRECT_NONE:
        return "none";
    }
    return "unknown";
}

int pb_correction_parse(const char *name, enum pb_correction *out)
{
    if (!name || !out)
        return -1;
    if (!strcmp(name, "holm"))
        *out = PB_CORRECT_HOLM;
    else if (!strcmp(name, "bh") || !strcmp(name, "benjamini-hochberg") || !strcmp(name, "fdr"))
        *out = PB_CORRECT_BH;
    else if (!strcmp(name, "none"))
        *out = PB_CORRECT_NONE;
    else
        return -1;
    return 0;
}

/* ---- spread ---------------------------------------------------------------------------- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median_sorted(const double *v, unsigned n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double pb_robust_cv_pct(const double *v, unsigned n)
{
    if (n < 3)
        return NAN;
    for (unsigned i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return NAN;
    double *w = malloc(n * sizeof *w);
    if (!w)
        return NAN;
    memcpy(w, v, n * sizeof *w);
    qsort(w, n, sizeof *w, cmp_double);
    double med = median_sorted(w, n);
    for (unsigned i = 0; i < n; i++)
        w[i] = fabs(w[i] - med);
    qsort(w, n, sizeof *w, cmp_double);
    double mad = median_sorted(w, n);
    free(w);
    if (med == 0)
        return NAN;
    return 1.4826 * mad / fabs(med) * 100;
}
