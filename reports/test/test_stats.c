/* The statistics behind compare's verdicts (reports/stats.c): the t
 * distribution, Welch's and the paired t test, the Wilcoxon signed-rank
 * test, the multiple-comparison corrections and the robust CV, against
 * values from scipy 1.10 (the call beside each), hand computations and a
 * brute force; and the edge cases (t = 0, huge t, huge df, NAN, too few
 * values). The Mann-Whitney tests are in test_compare.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pb_compare.h"
#include "pb_rng.h"

/* |got - want| <= rel * |want| (want 0: got == 0). */
#define assert_rel(got, want, rel)                                                                 \
    do {                                                                                           \
        double got_ = (got), want_ = (want);                                                       \
        cr_assert(fabs(got_ - want_) <= (rel) * fabs(want_), "%s = %.17g, want %.17g", #got, got_, \
                  want_);                                                                          \
    } while (0)

/* ---- Student's t ------------------------------------------------------------------ */

Test(stats_t, two_sided_p_known_values)
{
    assert_rel(pb_t_two_sided_p(2.0, 5), 0.10193947882985828, 1e-12);     /* 2*s.t.sf(2, 5) */
    assert_rel(pb_t_two_sided_p(1.5, 3.7), 0.2135981692020133, 1e-12);    /* 2*s.t.sf(1.5, 3.7) */
    assert_rel(pb_t_two_sided_p(-3, 10), 0.013343655022569565, 1e-12);    /* 2*s.t.sf(3, 10) */
    assert_rel(pb_t_two_sided_p(10, 2), 0.009852457023325692, 1e-12);     /* 2*s.t.sf(10, 2) */
    assert_rel(pb_t_two_sided_p(50, 30), 1.8715417659222844e-30, 1e-10);  /* 2*s.t.sf(50, 30) */
    assert_rel(pb_t_two_sided_p(1e-8, 4), 0.9999999925, 1e-12);           /* 2*s.t.sf(1e-8, 4) */
    /* df = 1 is the Cauchy distribution: 1 - 2 atan(t) / pi. */
    assert_rel(pb_t_two_sided_p(0.5, 1), 1 - 2 * atan(0.5) / M_PI, 1e-13);
    /* Symmetric in t. */
    cr_assert_eq(pb_t_two_sided_p(2.5, 7.5), pb_t_two_sided_p(-2.5, 7.5));
}

Test(stats_t, large_df_is_normal)
{
    assert_rel(pb_t_two_sided_p(2, 1e6), 0.0455005338513192, 1e-9);      /* 2*s.t.sf(2, 1e6) */
    /* Past 1e9 the normal distribution itself: erfc(2 / sqrt 2) = 0.04550026389635844. */
    assert_rel(pb_t_two_sided_p(2, 1e12), 0.04550026389635844, 1e-12);
    assert_rel(pb_t_two_sided_p(2, INFINITY), 0.04550026389635844, 1e-12);
    /* Decreasing in t, increasing towards the normal in df. */
    double prev = 1;
    for (double t = 0.25; t < 40; t += 0.25) {
        double p = pb_t_two_sided_p(t, 4.5);
        cr_assert(p < prev && p >= 0, "t=%g p=%g prev=%g", t, p, prev);
        prev = p;
    }
    cr_assert(pb_t_two_sided_p(3, 5) > pb_t_two_sided_p(3, 50));
    cr_assert(pb_t_two_sided_p(3, 50) > pb_t_two_sided_p(3, 5000));
}

Test(stats_t, edge_cases)
{
    cr_assert_eq(pb_t_two_sided_p(0, 3), 1);
    cr_assert_eq(pb_t_two_sided_p(0, 0.5), 1);
    cr_assert_eq(pb_t_two_sided_p(INFINITY, 3), 0);
    cr_assert_eq(pb_t_two_sided_p(-INFINITY, 3), 0);
    double huge = pb_t_two_sided_p(1e200, 3);
    cr_assert(huge >= 0 && huge < 1e-300, "p = %g", huge);
    huge = pb_t_two_sided_p(1e6, 200);
    cr_assert(huge >= 0 && huge < 1e-300, "p = %g", huge);
    cr_assert(isnan(pb_t_two_sided_p(NAN, 3)));
    cr_assert(isnan(pb_t_two_sided_p(1, NAN)));
    cr_assert(isnan(pb_t_two_sided_p(1, 0)));
    cr_assert(isnan(pb_t_two_sided_p(1, -2)));
}

Test(stats_t, welch_known_values)
{
    const double a[] = { 1.02, 0.98, 1.05, 1.01, 0.99 };
    const double b[] = { 1.10, 1.07, 1.12, 1.08, 1.11, 1.15, 1.04 };
    double t, df;
    /* s.ttest_ind(a, b, equal_var=False) */
    assert_rel(pb_welch_t_p(a, 5, b, 7, &t, &df), 0.000886045972426802, 1e-9);
    assert_rel(t, -4.682833972089161, 1e-12);
    assert_rel(df, 9.906025193246062, 1e-12);   /* (va/na + vb/nb)^2 / (...), numpy ddof=1 */
    /* Swapped: the same p, t negated. */
    assert_rel(pb_welch_t_p(b, 7, a, 5, &t, NULL), 0.000886045972426802, 1e-9);
    assert_rel(t, 4.682833972089161, 1e-12);
    /* Equal means: t = 0, p = 1 (s.ttest_ind(a2, b2, equal_var=False) -> 0.0, 1.0). */
    const double a2[] = { 3.1, 2.9, 3.0, 3.2, 2.8 }, b2[] = { 3.0, 3.05, 2.95, 3.1, 2.9 };
    assert_rel(pb_welch_t_p(a2, 5, b2, 5, &t, NULL), 1, 1e-12);
    cr_assert(fabs(t) < 1e-12);
}

Test(stats_t, welch_edge_cases)
{
    const double a[] = { 1, 2, 3 }, c5[] = { 5, 5, 5 }, c5b[] = { 5, 5 }, c6[] = { 6, 6, 6 };
    double t = 0, df = 0;
    /* Too few values: NAN, outputs NAN. */
    cr_assert(isnan(pb_welch_t_p(a, 1, a, 3, &t, &df)));
    cr_assert(isnan(t) && isnan(df));
    cr_assert(isnan(pb_welch_t_p(a, 3, a, 0, NULL, NULL)));
    /* No spread anywhere: p 1 for equal values, 0 otherwise. */
    cr_assert_eq(pb_welch_t_p(c5, 3, c5b, 2, &t, NULL), 1);
    cr_assert_eq(t, 0);
    cr_assert_eq(pb_welch_t_p(c5, 3, c6, 3, &t, NULL), 0);
    cr_assert(isinf(t) && t < 0);
    /* Spread on one side only: an ordinary test (df = nb - 1 = 2). */
    double p = pb_welch_t_p(c5, 3, a, 3, &t, &df);
    assert_rel(df, 2, 1e-12);
    assert_rel(t, 3 / sqrt(1.0 / 3), 1e-12);
    assert_rel(p, pb_t_two_sided_p(3 / sqrt(1.0 / 3), 2), 1e-12);
    /* A value that is not finite: NAN, never a verdict. */
    const double bad[] = { 1, NAN, 3 }, inf[] = { 1, INFINITY, 3 };
    cr_assert(isnan(pb_welch_t_p(bad, 3, a, 3, NULL, NULL)));
    cr_assert(isnan(pb_welch_t_p(a, 3, inf, 3, NULL, NULL)));
}

Test(stats_t, one_sample_and_paired)
{
    const double d[] = { 0.03, 0.05, 0.02, 0.04, 0.06 };
    double t;
    /* s.ttest_1samp(d, 0) */
    assert_rel(pb_one_sample_t_p(d, 5, &t), 0.004812678330044224, 1e-9);
    assert_rel(t, 5.656854249492381, 1e-12);
    /* The paired test is the one-sample test of the differences:
     * s.ttest_rel(x, y) -> 2.609312292213769, 0.04770940886606157. */
    const double x[] = { 10.2, 11.0, 9.8, 10.5, 10.9, 10.1 };
    const double y[] = { 10.0, 10.6, 9.9, 10.1, 10.3, 10.0 };
    double diff[6];
    for (int i = 0; i < 6; i++)
        diff[i] = x[i] - y[i];
    assert_rel(pb_one_sample_t_p(diff, 6, &t), 0.04770940886606157, 1e-9);
    assert_rel(t, 2.609312292213769, 1e-9);
    /* Edge cases: n < 2, no spread, not finite. */
    cr_assert(isnan(pb_one_sample_t_p(d, 1, &t)));
    cr_assert(isnan(t));
    const double zeros[] = { 0, 0, 0 }, same[] = { 0.1, 0.1, 0.1, 0.1 }, bad[] = { 1, NAN };
    cr_assert_eq(pb_one_sample_t_p(zeros, 3, &t), 1);
    cr_assert_eq(t, 0);
    cr_assert_eq(pb_one_sample_t_p(same, 4, &t), 0);
    cr_assert(isinf(t) && t > 0);
    cr_assert(isnan(pb_one_sample_t_p(bad, 2, NULL)));
}

/* ---- Wilcoxon signed rank ------------------------------------------------------------ */

Test(stats_wilcoxon, exact_known_values)
{
    double w;
    /* s.wilcoxon(d) (method 'exact' without ties or zeros): 3.0, 0.0390625 = 10/256. */
    const double d8[] = { 0.3, -0.1, 0.25, 0.2, -0.05, 0.15, 0.4, 0.35 };
    assert_rel(pb_wilcoxon_signed_rank_p(d8, 8, &w), 0.0390625, 1e-12);
    assert_rel(w, 3, 1e-12);
    /* Five pairs, all one way: the smallest p five pairs can give. */
    const double d5[] = { 1, 2, 3, 4, 5 };
    assert_rel(pb_wilcoxon_signed_rank_p(d5, 5, &w), 0.0625, 1e-12);   /* s.wilcoxon(d5) */
    cr_assert_eq(w, 0);
    cr_assert_eq(pb_wilcoxon_min_p(5), 0.0625);
    /* s.wilcoxon([-1, 2, -3, 4, -5, 6]) -> 9.0, 0.84375 */
    const double d6[] = { -1, 2, -3, 4, -5, 6 };
    assert_rel(pb_wilcoxon_signed_rank_p(d6, 6, &w), 0.84375, 1e-12);
    assert_rel(w, 9, 1e-12);
    /* 30 values, still exact: s.wilcoxon(d30, method='exact') -> 145.0, 0.07324407435953617. */
    double d30[30];
    for (int i = 0; i < 30; i++)
        d30[i] = (double)((i + 1) * (i % 3 ? 1 : -1)) + 0.001 * i;
    assert_rel(pb_wilcoxon_signed_rank_p(d30, 30, &w), 0.07324407435953617, 1e-10);
    assert_rel(w, 145, 1e-12);
}

Test(stats_wilcoxon, ties_and_zeros_by_hand)
{
    /* {1, -1, 2, 0, 3}: the zero is dropped; |d| = 1, 1, 2, 3 get ranks
     * 1.5, 1.5, 3, 4; W+ = 8.5, W- = 1.5. Of the 16 sign patterns, those
     * with W+ <= 1.5 are {}, {1.5}, {1.5'}: P = 3/16, p = 2 * 3/16. (scipy
     * 1.10 would use the untied distribution or the approximation here.) */
    const double d[] = { 1, -1, 2, 0, 3 };
    double w;
    assert_rel(pb_wilcoxon_signed_rank_p(d, 5, &w), 6.0 / 16, 1e-12);
    assert_rel(w, 1.5, 1e-12);
    /* All tied and one way: {2, 2, 2, 2}, ranks 2.5 each, W- = 0; only the
     * empty set has W+ <= 0: p = 2 / 16. */
    const double t4[] = { 2, 2, 2, 2 };
    assert_rel(pb_wilcoxon_signed_rank_p(t4, 4, &w), 2.0 / 16, 1e-12);
    cr_assert_eq(w, 0);
    /* Nothing left after the zeros: NAN; one value: p 1 (2 * 1/2). */
    const double z[] = { 0, 0, 0 }, one[] = { 0, 4, 0 };
    cr_assert(isnan(pb_wilcoxon_signed_rank_p(z, 3, &w)));
    cr_assert(isnan(w));
    cr_assert(isnan(pb_wilcoxon_signed_rank_p(z, 0, NULL)));
    cr_assert_eq(pb_wilcoxon_signed_rank_p(one, 3, NULL), 1);
    const double bad[] = { 1, NAN, 2 };
    cr_assert(isnan(pb_wilcoxon_signed_rank_p(bad, 3, NULL)));
}

/* Brute force: every sign pattern of the nonzero |d|, mid-ranks summed as
 * doubles; two-sided p = 2 * P(W+ <= min(W+, W-)), at most 1. */
static double brute_signed_rank_p(const double *d, unsigned n)
{
    double a[16], r[16];
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        if (d[i] != 0)
            a[m++] = d[i];
    double plus = 0, total = 0;
    for (unsigned i = 0; i < m; i++) {
        double below = 0, equal = 0;
        for (unsigned j = 0; j < m; j++) {
            below += fabs(a[j]) < fabs(a[i]);
            equal += fabs(a[j]) == fabs(a[i]);
        }
        r[i] = below + (equal + 1) / 2;
        total += r[i];
        if (a[i] > 0)
            plus += r[i];
    }
    double w = plus < total - plus ? plus : total - plus;
    unsigned long hits = 0;
    for (unsigned mask = 0; mask < (1u << m); mask++) {
        double s = 0;
        for (unsigned i = 0; i < m; i++)
            if (mask >> i & 1)
                s += r[i];
        hits += s <= w + 1e-9;
    }
    double p = 2.0 * (double)hits / (double)(1u << m);
    return p > 1 ? 1 : p;
}

Test(stats_wilcoxon, exact_with_ties_matches_brute_force)
{
    struct pb_rng rng;
    pb_rng_seed(&rng, 7, 0);
    for (int trial = 0; trial < 300; trial++) {
        unsigned n = 1 + (unsigned)pb_rng_below(&rng, 12);
        double d[12];
        /* Small integers, shifted a little at random: many ties and zeros. */
        int shift = (int)pb_rng_below(&rng, 3);
        for (unsigned i = 0; i < n; i++)
            d[i] = (double)((int)pb_rng_below(&rng, 7) - 3 + shift);
        double want = brute_signed_rank_p(d, n);
        double got = pb_wilcoxon_signed_rank_p(d, n, NULL);
        unsigned nonzero = 0;
        for (unsigned i = 0; i < n; i++)
            nonzero += d[i] != 0;
        if (!nonzero) {
            cr_assert(isnan(got));
            continue;
        }
        cr_assert_float_eq(got, want, 1e-12, "trial %d n=%u: %.12f vs %.12f", trial, n, got, want);
    }
}

Test(stats_wilcoxon, normal_approximation)
{
    double w;
    /* 31 distinct values: s.wilcoxon(d31, method='approx') -> 176.0, 0.15825899104195218. */
    double d31[31];
    for (int i = 0; i < 31; i++)
        d31[i] = (double)((i + 1) * (i % 3 ? 1 : -1)) + 0.001 * i;
    assert_rel(pb_wilcoxon_signed_rank_p(d31, 31, &w), 0.15825899104195218, 1e-10);
    assert_rel(w, 176, 1e-12);
    /* 40 values with ties plus two zeros (dropped):
     * s.wilcoxon(d42, method='approx') -> 218.5, 0.010003859479405458. */
    double d42[42];
    for (int i = 0; i < 40; i++)
        d42[i] = (double)(((i % 13) + 1) * (i % 4 ? 1 : -1)) * 0.1;
    d42[40] = d42[41] = 0;
    assert_rel(pb_wilcoxon_signed_rank_p(d42, 42, &w), 0.010003859479405458, 1e-10);
    assert_rel(w, 218.5, 1e-12);
}

Test(stats_wilcoxon, min_p)
{
    cr_assert_eq(pb_wilcoxon_min_p(0), 1);
    cr_assert_eq(pb_wilcoxon_min_p(1), 1);
    cr_assert_eq(pb_wilcoxon_min_p(2), 0.5);
    cr_assert_eq(pb_wilcoxon_min_p(6), 0.03125);
    cr_assert_eq(pb_wilcoxon_min_p(4000), 0);
    /* The bound is reached: n values all one way. */
    for (unsigned n = 1; n <= 20; n++) {
        double d[20];
        for (unsigned i = 0; i < n; i++)
            d[i] = -(double)(i + 1);
        assert_rel(pb_wilcoxon_signed_rank_p(d, n, NULL), pb_wilcoxon_min_p(n), 1e-12);
    }
}

/* ---- multiple comparisons ------------------------------------------------------------ */

Test(stats_adjust, holm)
{
    /* Sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06,
     * 0.04 x 1 = 0.04 -> running max 0.06. */
    double p[] = { 0.01, 0.04, 0.03, 0.005 };
    pb_adjust_p(p, 4, PB_CORRECT_HOLM);
    const double want[] = { 0.03, 0.06, 0.06, 0.02 };
    for (int i = 0; i < 4; i++)
        assert_rel(p[i], want[i], 1e-12);
    /* Capped at 1: sorted 0.01 x 4 = 0.04, 0.4 x 3 = 1.2 -> 1, 0.45 x 2 = 0.9
     * and 0.5 x 1 raised to the running max 1. */
    double q[] = { 0.4, 0.5, 0.01, 0.45 };
    pb_adjust_p(q, 4, PB_CORRECT_HOLM);
    const double want_q[] = { 1, 1, 0.04, 1 };
    for (int i = 0; i < 4; i++)
        assert_rel(q[i], want_q[i], 1e-12);
}

Test(stats_adjust, benjamini_hochberg)
{
    /* Sorted 0.005, 0.01, 0.03, 0.04 times m/k = 4, 2, 4/3, 1:
     * 0.02, 0.02, 0.04, 0.04; running min from the top leaves them. */
    double p[] = { 0.01, 0.04, 0.03, 0.005 };
    pb_adjust_p(p, 4, PB_CORRECT_BH);
    const double want[] = { 0.02, 0.04, 0.04, 0.02 };
    for (int i = 0; i < 4; i++)
        assert_rel(p[i], want[i], 1e-12);
    /* Step-up: {0.02, 0.025, 0.03}: 0.06, 0.0375, 0.03 -> min from the top:
     * 0.03, 0.03, 0.03. */
    double q[] = { 0.03, 0.02, 0.025 };
    pb_adjust_p(q, 3, PB_CORRECT_BH);
    for (int i = 0; i < 3; i++)
        assert_rel(q[i], 0.03, 1e-12);
}

Test(stats_adjust, nan_skipped_none_and_empty)
{
    /* The NANs are not counted: Holm over {0.01, 0.04, 0.03, 0.005} as above. */
    double p[] = { NAN, 0.01, 0.04, NAN, 0.03, 0.005 };
    pb_adjust_p(p, 6, PB_CORRECT_HOLM);
    cr_assert(isnan(p[0]) && isnan(p[3]));
    assert_rel(p[1], 0.03, 1e-12);
    assert_rel(p[2], 0.06, 1e-12);
    assert_rel(p[4], 0.06, 1e-12);
    assert_rel(p[5], 0.02, 1e-12);
    double b[] = { NAN, 0.01, 0.04 };
    pb_adjust_p(b, 3, PB_CORRECT_BH);
    cr_assert(isnan(b[0]));
    assert_rel(b[1], 0.02, 1e-12);
    assert_rel(b[2], 0.04, 1e-12);
    double n[] = { 0.01, NAN, 0.5 };
    pb_adjust_p(n, 3, PB_CORRECT_NONE);
    cr_assert_eq(n[0], 0.01);
    cr_assert(isnan(n[1]));
    cr_assert_eq(n[2], 0.5);
    double all_nan[] = { NAN, NAN };
    pb_adjust_p(all_nan, 2, PB_CORRECT_HOLM);
    cr_assert(isnan(all_nan[0]) && isnan(all_nan[1]));
    pb_adjust_p(NULL, 0, PB_CORRECT_BH);
    double single[] = { 0.04 };
    pb_adjust_p(single, 1, PB_CORRECT_HOLM);
    cr_assert_eq(single[0], 0.04);
}

Test(stats_adjust, monotone_bounded_and_ordered)
{
    struct pb_rng rng;
    pb_rng_seed(&rng, 11, 0);
    for (int trial = 0; trial < 200; trial++) {
        unsigned n = 1 + (unsigned)pb_rng_below(&rng, 20);
        double raw[20], holm[20], bh[20];
        for (unsigned i = 0; i < n; i++) {
            /* Some exact ties. */
            raw[i] = pb_rng_below(&rng, 4) ? pb_rng_unit(&rng) * 0.2 : 0.05;
            holm[i] = bh[i] = raw[i];
        }
        pb_adjust_p(holm, n, PB_CORRECT_HOLM);
        pb_adjust_p(bh, n, PB_CORRECT_BH);
        for (unsigned i = 0; i < n; i++) {
            /* Never below the raw value, never above 1; BH never above Holm. */
            cr_assert(holm[i] >= raw[i] && holm[i] <= 1, "holm %g raw %g", holm[i], raw[i]);
            cr_assert(bh[i] >= raw[i] && bh[i] <= 1, "bh %g raw %g", bh[i], raw[i]);
            cr_assert(bh[i] <= holm[i] + 1e-15, "bh %g > holm %g", bh[i], holm[i]);
            /* The order of the raw values is kept. */
            for (unsigned j = 0; j < n; j++)
                if (raw[i] <= raw[j]) {
                    cr_assert(holm[i] <= holm[j]);
                    cr_assert(bh[i] <= bh[j]);
                }
        }
    }
}

Test(stats_adjust, names)
{
    enum pb_correction c = PB_CORRECT_NONE;
    cr_assert_eq(pb_correction_parse("holm", &c), 0);
    cr_assert_eq(c, PB_CORRECT_HOLM);
    const char *bh_names[] = { "bh", "benjamini-hochberg", "fdr" };
    for (int i = 0; i < 3; i++) {
        c = PB_CORRECT_NONE;
        cr_assert_eq(pb_correction_parse(bh_names[i], &c), 0);
        cr_assert_eq(c, PB_CORRECT_BH);
    }
    cr_assert_eq(pb_correction_parse("none", &c), 0);
    cr_assert_eq(c, PB_CORRECT_NONE);
    c = PB_CORRECT_BH;
    cr_assert_eq(pb_correction_parse("bonferroni", &c), -1);
    cr_assert_eq(pb_correction_parse("", &c), -1);
    cr_assert_eq(pb_correction_parse(NULL, &c), -1);
    cr_assert_eq(c, PB_CORRECT_BH, "a bad name leaves the value alone");
    cr_assert_str_eq(pb_correction_name(PB_CORRECT_HOLM), "holm");
    cr_assert_str_eq(pb_correction_name(PB_CORRECT_BH), "bh");
    cr_assert_str_eq(pb_correction_name(PB_CORRECT_NONE), "none");
    /* Every name parses back to itself. */
    for (int i = PB_CORRECT_HOLM; i <= PB_CORRECT_NONE; i++) {
        cr_assert_eq(pb_correction_parse(pb_correction_name((enum pb_correction)i), &c), 0);
        cr_assert_eq((int)c, i);
    }
}

/* ---- robust CV ---------------------------------------------------------------------- */

Test(stats_spread, robust_cv)
{
    /* Median 101; deviations 1, 1, 3, 0, 29 -> MAD 1: the outlier (130)
     * does not move it. 1.4826 / 101 * 100. */
    const double v[] = { 100, 102, 98, 101, 130 };
    assert_rel(pb_robust_cv_pct(v, 5), 148.26 / 101, 1e-12);
    /* Even count: median 11.5, deviations 1.5, 0.5, 0.5, 1.5 -> MAD 1. */
    const double e[] = { 10, 12, 11, 13 };
    assert_rel(pb_robust_cv_pct(e, 4), 148.26 / 11.5, 1e-12);
    /* A negative median: |median|. */
    const double neg[] = { -10, -12, -11, -13 };
    assert_rel(pb_robust_cv_pct(neg, 4), 148.26 / 11.5, 1e-12);
    /* No spread. */
    const double same[] = { 4, 4, 4 };
    cr_assert_eq(pb_robust_cv_pct(same, 3), 0);
    /* Too few, a median of 0, not finite: NAN. */
    cr_assert(isnan(pb_robust_cv_pct(v, 2)));
    const double zero[] = { -1, 0, 1 }, bad[] = { 1, NAN, 3 };
    cr_assert(isnan(pb_robust_cv_pct(zero, 3)));
    cr_assert(isnan(pb_robust_cv_pct(bad, 3)));
    /* The input is left as it was. */
    cr_assert_eq(v[4], 130);
    cr_assert_eq(v[0], 100);
}
