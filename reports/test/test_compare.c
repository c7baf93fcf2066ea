/* Comparing result files (pb_compare.h): the statistics against known
 * values and a brute force; the run key; comparisons of synthetic result
 * files with known differences (latency N(1000, 50) ns against N(1200, 50)
 * ns, throughput +20 %, a change under the threshold, one and three
 * repetitions, cancel rates, unmatched and sweep-like runs), through the
 * C API and as printed (pb_compare_print: the table and the summary); the
 * verdict rule on seeded families with run-to-run noise (A/A: no alarm; a
 * shift found where it is and only there; the correction, the noise floor,
 * too noisy, paired runs); and bad option values. The command, `pendbench
 * compare` (its options, exit status and messages), is tested where it
 * lives: bench/pendbench/test/test_compare_cli.c, on the same fixtures
 * (fixture_runs.h). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_runs.h"
#include "pb_compare.h"
#include "pb_result.h"
#include "pb_rng.h"

/* ---- scratch directory ------------------------------------------------------ */

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pb-compare-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(compare, .init = make_dir, .fini = remove_dir);
TestSuite(compare_stats);
TestSuite(runkey, .init = make_dir, .fini = remove_dir);

static const char *path_in(const char *name)
{
    static char bufs[16][128];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static unsigned count_in(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* ---- synthetic results (fixture_runs.h) --------------------------------------- */

static void read_doc(const char *path, struct pb_result_doc *doc)
{
    char err[512];
    cr_assert_eq(pb_result_read(path, doc, err, sizeof err), 0, "%s", err);
}

/* Writes nb BASE and nn NEW groups to base.json and new.json, reads them
 * back into db and dn (the caller frees them) and compares them through
 * the C API (o NULL: the default options). */
static void compare_groups(const struct spec *b, unsigned nb, const struct spec *n, unsigned nn,
                           const struct pb_compare_opts *o, struct pb_comparison *c,
                           struct pb_result_doc *db, struct pb_result_doc *dn)
{
    write_doc(path_in("base.json"), b, nb);
    write_doc(path_in("new.json"), n, nn);
    read_doc(path_in("base.json"), db);
    read_doc(path_in("new.json"), dn);
    struct pb_compare_opts def;
    pb_compare_opts_default(&def);
    char err[512];
    cr_assert_eq(pb_compare_docs(db, dn, o ? o : &def, c, err, sizeof err), 0, "%s", err);
}

/* Compares two specs (one group each) through the C API. */
static void compare_specs(const struct spec *b, const struct spec *n, const struct pb_compare_opts *o,
                          struct pb_comparison *c)
{
    struct pb_result_doc db, dn;
    compare_groups(b, 1, n, 1, o, c, &db, &dn);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);
}

static const struct pb_compare_metric *metric(const struct pb_comparison *c, unsigned row,
                                              enum pb_metric m)
{
    cr_assert_lt(row, c->nrows);
    for (unsigned k = 0; k < c->rows[row].nmetrics; k++)
        if (c->rows[row].metrics[k].metric == m)
            return &c->rows[row].metrics[k];
    cr_assert_fail("metric %s not in row %u", pb_metric_name(m), row);
    return NULL;
}

#define assert_verdict(c, row, m, v)                                                          \
    do {                                                                                      \
        const struct pb_compare_metric *mm_ = metric((c), (row), (m));                        \
        cr_assert_eq(mm_->verdict, (v), "%s: %s, expected %s (change %.2f, note '%s')",       \
                     pb_metric_name(m), pb_verdict_name(mm_->verdict), pb_verdict_name(v),    \
                     mm_->change, mm_->note);                                                 \
    } while (0)

/* A comparison of two files as pb_compare_print prints it (the table and
 * the summary), and how many metrics regressed (the command exits 1 when
 * any did). */
struct printed {
    unsigned regressed;
    char *out;
    size_t len;
};

static struct printed print_compare(const char *base, const char *new_path,
                                    const struct pb_compare_opts *o)
{
    struct pb_result_doc db, dn;
    read_doc(base, &db);
    read_doc(new_path, &dn);
    struct pb_compare_opts def;
    pb_compare_opts_default(&def);
    struct pb_comparison c;
    char err[512];
    cr_assert_eq(pb_compare_docs(&db, &dn, o ? o : &def, &c, err, sizeof err), 0, "%s", err);
    struct printed r = { .regressed = c.regressed };
    FILE *f = open_memstream(&r.out, &r.len);
    cr_assert_not_null(f);
    pb_compare_print(f, &c, base, &db.ctx, new_path, &dn.ctx);
    cr_assert_eq(fclose(f), 0);
    pb_comparison_free(&c);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);
    return r;
}

/* ---- statistics ---------------------------------------------------------------- */

Test(compare_stats, mann_whitney_known_values)
{
    /* scipy.stats.mannwhitneyu documentation example: U1 = 17, exact p = 0.1111. */
    const double males[] = { 19, 22, 16, 29, 24 }, females[] = { 20, 11, 17, 12 };
    double u;
    double p = pb_mann_whitney_p(males, 5, females, 4, &u);
    cr_assert_float_eq(u, 17, 1e-12);
    cr_assert_float_eq(p, 1.0 / 9.0, 1e-12, "p = %.12f", p);
    /* Complete separation: the smallest p there is, 2 / C(10, 5). */
    const double a[] = { 1, 2, 3, 4, 5 }, b[] = { 6, 7, 8, 9, 10 };
    cr_assert_float_eq(pb_mann_whitney_p(a, 5, b, 5, &u), 2.0 / 252, 1e-12);
    cr_assert_float_eq(u, 0, 1e-12);
    cr_assert_float_eq(pb_mann_whitney_p(b, 5, a, 5, &u), 2.0 / 252, 1e-12);
    cr_assert_float_eq(u, 25, 1e-12);
    /* All equal: no evidence at all. */
    const double same[] = { 7, 7, 7 };
    cr_assert_float_eq(pb_mann_whitney_p(same, 3, same, 3, NULL), 1, 1e-12);
    cr_assert_float_eq(pb_mann_whitney_p(a, 0, b, 5, NULL), 1, 1e-12);
}

/* Brute force: every way to pick na of the pooled values as "a". */
static double brute_p(const double *a, unsigned na, const double *b, unsigned nb)
{
    unsigned n = na + nb;
    double all[16];
    memcpy(all, a, na * sizeof *a);
    memcpy(all + na, b, nb * sizeof *b);
    /* U of a subset: pairs (x in subset, y outside) with x > y, ties 1/2. */
    double obs = 0, mean = na * nb / 2.0;
    for (unsigned i = 0; i < na; i++)
        for (unsigned j = 0; j < nb; j++)
            obs += a[i] > b[j] ? 1 : a[i] == b[j] ? 0.5 : 0;
    unsigned long hits = 0, total = 0;
    for (unsigned mask = 0; mask < (1u << n); mask++) {
        if ((unsigned)__builtin_popcount(mask) != na)
            continue;
        double uu = 0;
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++)
                if ((mask >> i & 1) && !(mask >> j & 1))
                    uu += all[i] > all[j] ? 1 : all[i] == all[j] ? 0.5 : 0;
        total++;
        hits += fabs(uu - mean) >= fabs(obs - mean) - 1e-9;
    }
    return (double)hits / (double)total;
}

Test(compare_stats, mann_whitney_exact_with_ties_matches_brute_force)
{
    struct pb_rng rng;
    pb_rng_seed(&rng, 42, 0);
    for (int trial = 0; trial < 200; trial++) {
        unsigned na = 1 + (unsigned)pb_rng_below(&rng, 7), nb = 1 + (unsigned)pb_rng_below(&rng, 7);
        double a[8], b[8];
        /* Few distinct values: ties on purpose, as binned percentiles have. */
        for (unsigned i = 0; i < na; i++)
            a[i] = (double)pb_rng_below(&rng, 5);
        for (unsigned i = 0; i < nb; i++)
            b[i] = (double)pb_rng_below(&rng, 5) + (trial % 3 == 0 ? 1 : 0);
        double p = pb_mann_whitney_p(a, na, b, nb, NULL), want = brute_p(a, na, b, nb);
        cr_assert_float_eq(p, want, 1e-9, "trial %d (%u/%u): %.9f, brute force %.9f", trial, na,
                           nb, p, want);
    }
}

Test(compare_stats, mann_whitney_normal_approximation)
{
    /* 30 + 30 values: the asymptotic branch. a = 0..29, b = 10..39 (ties
     * on 20 values): U = 190 + 20 / 2 = 200, sigma^2 = 30*30/12 * (61 -
     * 20*6/(60*59)), z = (|200 - 450| - 0.5) / sigma, p = erfc(z / sqrt 2). */
    double a[30], b[30];
    for (int i = 0; i < 30; i++) {
        a[i] = i;
        b[i] = i + 10;
    }
    double u, p = pb_mann_whitney_p(a, 30, b, 30, &u);
    cr_assert_float_eq(u, 200, 1e-9);
    double var = 30.0 * 30 / 12 * (61 - 20.0 * 6 / (60.0 * 59));
    double want = erfc((250 - 0.5) / sqrt(var) / sqrt(2.0));
    cr_assert_float_eq(p, want, 1e-12, "%.12g vs %.12g", p, want);
    /* Close to the exact value where both apply (25 + 25 exact). */
    double pe = pb_mann_whitney_p(a, 25, b, 25, NULL);
    double var25 = 25.0 * 25 / 12 * (51 - 15.0 * 6 / (50.0 * 49));
    double u25;
    pb_mann_whitney_p(a, 25, b, 25, &u25);
    double pa = erfc((fabs(u25 - 312.5) - 0.5) / sqrt(var25) / sqrt(2.0));
    cr_assert(fabs(pe - pa) < 0.005, "exact %.5f, approximation %.5f", pe, pa);
}

Test(compare_stats, mann_whitney_reachable_alpha)
{
    cr_assert_float_eq(pb_mann_whitney_min_p(3, 3), 0.1, 1e-12);
    cr_assert_float_eq(pb_mann_whitney_min_p(4, 4), 2.0 / 70, 1e-12);
    cr_assert_float_eq(pb_mann_whitney_min_p(1, 1), 1, 1e-12);
    cr_assert_eq(pb_mann_whitney_min_n(0.05), 4);
    cr_assert_eq(pb_mann_whitney_min_n(0.01), 5);
    cr_assert_eq(pb_mann_whitney_min_n(0.2), 3);
}

Test(compare_stats, percentile_ci_from_histogram)
{
    struct pb_hist *h = malloc(sizeof *h);
    pb_hist_init(h);
    for (uint64_t v = 1000; v < 2000; v++)
        for (int k = 0; k < 10; k++)
            pb_hist_record(h, v);          /* 10000 values, uniform on [1000, 2000) */
    double lo, hi;
    cr_assert_eq(pb_hist_percentile_ci(h, 50, 0.95, &lo, &hi), 0);
    /* True median 1500; ranks 5000 -/+ 98: about 1490..1510, plus a bin (8 ns). */
    cr_assert(lo <= 1500 && hi >= 1500, "[%g, %g]", lo, hi);
    cr_assert(lo >= 1470 && hi <= 1530, "[%g, %g]", lo, hi);
    /* The tail: rank 9990 + 6.2 is within 10000: bounded; 99.99 is not. */
    cr_assert_eq(pb_hist_percentile_ci(h, 99.9, 0.95, &lo, &hi), 0);
    cr_assert(isfinite(hi) && hi <= 1999, "%g", hi);
    cr_assert_eq(pb_hist_percentile_ci(h, 99.99, 0.95, &lo, &hi), 0);
    cr_assert(isinf(hi));
    pb_hist_init(h);
    cr_assert_eq(pb_hist_percentile_ci(h, 50, 0.95, &lo, &hi), -1);
    free(h);
}

Test(compare_stats, two_proportions)
{
    cr_assert_float_eq(pb_two_proportion_p(50, 100, 50, 100), 1, 1e-12);
    /* 50 % against 80 %: z = 0.3 / sqrt(0.65 * 0.35 * 0.02) = 4.447. */
    double p = pb_two_proportion_p(50, 100, 80, 100);
    cr_assert_float_eq(p, erfc(0.3 / sqrt(0.65 * 0.35 * 0.02) / sqrt(2.0)), 1e-12);
    cr_assert_lt(p, 1e-4);
    cr_assert_float_eq(pb_two_proportion_p(0, 0, 3, 10), 1, 1e-12);
    cr_assert_float_eq(pb_two_proportion_p(0, 10, 0, 10), 1, 1e-12);
    cr_assert_float_eq(pb_normal_quantile_upper(0.025), 1.959963985, 1e-8);
}

/* ---- comparisons, C API --------------------------------------------------------- */

Test(compare, latency_regression_found)
{
    struct spec b = base_spec(1), n = base_spec(2);
    n.lat_mean = 1200;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    cr_assert_eq(c.nrows, 1);
    const struct pb_compare_metric *p50 = metric(&c, 0, PB_METRIC_P50);
    cr_assert(p50->tested, "%s", p50->note);
    cr_assert_str_eq(p50->test, "welch-log");
    cr_assert(p50->p_raw < 0.001 && p50->p_adj < 0.01, "p %g, adjusted %g", p50->p_raw, p50->p_adj);
    /* Holm over the 4 tests: the smallest p is multiplied by 4 at most. */
    cr_assert_leq(p50->p_adj, 4 * p50->p_raw + 1e-15);
    cr_assert_geq(p50->p_adj, p50->p_raw);
    cr_assert_eq(c.family, 4);
    cr_assert(p50->ci_disjoint);            /* information only now */
    cr_assert(p50->change > 15 && p50->change < 25, "%g", p50->change);
    cr_assert_eq(p50->n_base, 5);
    cr_assert_eq(p50->reason, PB_REASON_CHANGED);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_REGRESSED);
    assert_verdict(&c, 0, PB_METRIC_P99, PB_VERDICT_REGRESSED);
    assert_verdict(&c, 0, PB_METRIC_P999, PB_VERDICT_REGRESSED);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_UNCHANGED);
    assert_verdict(&c, 0, PB_METRIC_CANCEL, PB_VERDICT_NA);   /* no cancels */
    cr_assert_eq(c.rows[0].verdict, PB_VERDICT_REGRESSED);
    cr_assert_eq(c.regressed, 3);
    cr_assert_eq(c.unchanged, 1);
    cr_assert_eq(c.not_available, 1);
    pb_comparison_free(&c);

    /* The other way round: improved, nothing regressed (the command exits 0). */
    struct printed r = print_compare(path_in("new.json"), path_in("base.json"), NULL);
    cr_assert_eq(r.regressed, 0, "%s", r.out);
    cr_assert(strstr(r.out, "0 regressed, 3 improved, 1 unchanged, 1 n/a"), "%s", r.out);
    free(r.out);
    r = print_compare(path_in("base.json"), path_in("new.json"), NULL);
    cr_assert_eq(r.regressed, 3, "%s", r.out);
    cr_assert(strstr(r.out, "3 regressed, 0 improved, 1 unchanged"), "%s", r.out);
    cr_assert(strstr(r.out, "regressed"));
    free(r.out);
}

Test(compare, identical_inputs_unchanged)
{
    struct spec specs[2] = { base_spec(7), base_spec(8) };
    specs[1].scenario = "cancel-race";
    specs[1].cancel_attempted = 5000;
    specs[1].cancel_rate = 0.4;
    write_doc(path_in("a.json"), specs, 2);
    struct pb_result_doc d;
    read_doc(path_in("a.json"), &d);
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.threshold_pct = 0;          /* even without a threshold: nothing is significant */
    struct pb_comparison c;
    char err[256];
    cr_assert_eq(pb_compare_docs(&d, &d, &o, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.nrows, 2);
    cr_assert_eq(c.regressed + c.improved, 0);
    cr_assert_eq(c.unchanged, 9);           /* 5 + 4 (steady has no cancels) */
    for (unsigned i = 0; i < c.nrows; i++)
        for (unsigned k = 0; k < c.rows[i].nmetrics; k++) {
            const struct pb_compare_metric *m = &c.rows[i].metrics[k];
            if (m->available) {
                cr_assert_float_eq(m->change, 0, 1e-12);
                cr_assert_not(m->significant);
            }
        }
    pb_comparison_free(&c);
    pb_result_doc_free(&d);
    struct printed r = print_compare(path_in("a.json"), path_in("a.json"), &o);
    cr_assert_eq(r.regressed, 0, "%s", r.out);
    cr_assert(strstr(r.out, "0 regressed, 0 improved, 9 unchanged"), "%s", r.out);
    cr_assert(strstr(r.out, "no significant change"));
    free(r.out);
}

Test(compare, independent_samples_of_one_distribution_unchanged)
{
    /* Same distributions, different seeds: noise only. */
    struct spec b = base_spec(11), n = base_spec(12);
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    cr_assert_eq(c.regressed + c.improved, 0);
    pb_comparison_free(&c);
}

Test(compare, throughput_improved)
{
    struct spec b = base_spec(3), n = base_spec(4);
    n.tput = 1.2e6;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert(t->tested && t->p_adj < 0.01, "%g (%s)", t->p_adj, t->note);
    cr_assert(t->change > 15 && t->change < 25, "%g", t->change);
    /* The floor: 3 x the base's robust CV, about 1 % here. */
    cr_assert(t->cv_base > 0.2 && t->cv_base < 3, "%g", t->cv_base);
    cr_assert_float_eq(t->noise_floor, 3 * t->cv_base, 1e-9);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_IMPROVED);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_UNCHANGED);
    cr_assert_eq(c.rows[0].verdict, PB_VERDICT_IMPROVED);
    /* The side's figure is the median of the repetitions. */
    double v[5];
    memcpy(v, t->new_values, sizeof v);
    unsigned below = 0;
    for (int i = 0; i < 5; i++)
        below += v[i] < t->new_value;
    cr_assert_eq(below, 2);
    pb_comparison_free(&c);
}

Test(compare, change_below_threshold_unchanged)
{
    /* -2 % throughput and +2 % latency: significant, but under 5 %. */
    struct spec b = base_spec(5), n = base_spec(6);
    b.tput_noise = n.tput_noise = 0.002;
    n.tput = 0.98e6;
    n.lat_mean = 1020;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert(t->significant, "%s", t->note);
    cr_assert_eq(t->reason, PB_REASON_BELOW_THRESHOLD);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_UNCHANGED);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_UNCHANGED);
    pb_comparison_free(&c);
    /* With a 1 % threshold, the same change is a regression. */
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    char err[256];
    cr_assert_eq(pb_compare_option("threshold", "1", &o, err, sizeof err), 1, "%s", err);
    struct printed r = print_compare(path_in("base.json"), path_in("new.json"), &o);
    cr_assert_gt(r.regressed, 0, "%s", r.out);
    free(r.out);
    r = print_compare(path_in("base.json"), path_in("new.json"), NULL);
    cr_assert_eq(r.regressed, 0, "%s", r.out);
    free(r.out);
}

Test(compare, one_repetition)
{
    /* No t test: every metric is untested, and a change beyond the
     * threshold is inconclusive, never a verdict, even where the histogram
     * CIs of latency are disjoint (they are, for any two runs). */
    struct spec b = base_spec(9), n = base_spec(10);
    b.reps = n.reps = 1;
    n.lat_mean = 1200;
    n.tput = 0.7e6;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *p50 = metric(&c, 0, PB_METRIC_P50);
    cr_assert_not(p50->tested);
    cr_assert(isnan(p50->p_raw) && isnan(p50->p_adj));
    cr_assert(p50->ci_disjoint);
    cr_assert(strstr(p50->note, "untested 1/1, CI disjoint"), "%s", p50->note);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_INCONCLUSIVE);
    cr_assert_eq(p50->reason, PB_REASON_UNTESTED);
    char words[64];
    cr_assert_str_eq(pb_compare_verdict_words(p50, words, sizeof words),
                     "inconclusive (untested)");
    cr_assert_eq(c.family, 0);
    cr_assert_eq(c.untested, 4);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert_not(t->tested);
    cr_assert(strstr(t->note, "untested"), "%s", t->note);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_INCONCLUSIVE);
    cr_assert_eq(c.regressed, 0);
    cr_assert_eq(c.untested_changed, c.inconclusive);
    cr_assert_geq(c.untested_changed, 2);
    cr_assert_eq(pb_comparison_exit_status(&c), 0);
    c.opts.strict = true;
    cr_assert_eq(pb_comparison_exit_status(&c), PB_COMPARE_EXIT_UNJUDGED);
    pb_comparison_free(&c);

    /* A small throughput change with one repetition: within the threshold. */
    n.lat_mean = 1000;
    n.tput = 0.98e6;
    compare_specs(&b, &n, NULL, &c);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_UNCHANGED);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_UNCHANGED);
    cr_assert_str_eq(pb_compare_verdict_words(metric(&c, 0, PB_METRIC_THROUGHPUT), words,
                                              sizeof words), "below threshold (untested)");
    pb_comparison_free(&c);

    /* p99.9 of one run up by more than the threshold while the histograms cannot tell it apart
     * (few operations: wide intervals): the pooled test vetoes. */
    b.samples = n.samples = 300;
    n.lat_mean = 1100;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *tail = metric(&c, 0, PB_METRIC_P999);
    cr_assert(tail->change > 5, "%g", tail->change);
    cr_assert_not(tail->ci_disjoint);
    cr_assert_eq(tail->reason, PB_REASON_NOT_SIGNIFICANT);
    assert_verdict(&c, 0, PB_METRIC_P999, PB_VERDICT_UNCHANGED);
    pb_comparison_free(&c);
}

Test(compare, three_repetitions_are_enough_for_the_t_test)
{
    struct spec b = base_spec(13), n = base_spec(14);
    b.reps = n.reps = 3;
    n.lat_mean = 1200;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *p50 = metric(&c, 0, PB_METRIC_P50);
    cr_assert_not(p50->utest);                /* U: 2 / C(6, 3) = 0.1 > 0.05 */
    cr_assert(p50->tested && p50->p_adj < 0.05, "%s %g", p50->note, p50->p_adj);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_REGRESSED);
    cr_assert_eq(c.untested, 0);
    pb_comparison_free(&c);
    /* Two a side: untested, so no verdict however large the change. */
    b.reps = n.reps = 2;
    compare_specs(&b, &n, NULL, &c);
    p50 = metric(&c, 0, PB_METRIC_P50);
    cr_assert_not(p50->tested);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_INCONCLUSIVE);
    cr_assert_eq(c.untested, 4);
    pb_comparison_free(&c);
}

Test(compare, cancel_rate)
{
    struct spec b = base_spec(15), n = base_spec(16);
    b.scenario = n.scenario = "cancel-race";
    b.cancel_attempted = n.cancel_attempted = 4000;
    b.cancel_rate = 0.40;
    n.cancel_rate = 0.20;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *m = metric(&c, 0, PB_METRIC_CANCEL);
    cr_assert(m->available);
    cr_assert(m->change < -15 && m->change > -25, "%g points", m->change);
    cr_assert(m->tested && m->proportion_p < 1e-6);
    cr_assert_str_eq(m->test, "welch+counts");
    /* The larger of the two p-values is the test's. */
    cr_assert_geq(m->p_raw, m->proportion_p);
    cr_assert(m->p_adj < 0.01, "%g", m->p_adj);
    /* The spread in points: 4000 Bernoulli draws at 0.4 vary by ~0.8 points. */
    cr_assert(m->cv_base > 0.1 && m->cv_base < 3, "%g points", m->cv_base);
    assert_verdict(&c, 0, PB_METRIC_CANCEL, PB_VERDICT_REGRESSED);
    pb_comparison_free(&c);
    /* 40 % against 41 %: one point is under the 5-point threshold. */
    n.cancel_rate = 0.41;
    compare_specs(&b, &n, NULL, &c);
    assert_verdict(&c, 0, PB_METRIC_CANCEL, PB_VERDICT_UNCHANGED);
    pb_comparison_free(&c);
}

Test(compare, runs_matched_by_scenario_strategies_and_workload)
{
    /* BASE: steady (magazine), steady (malloc), cancel-race, and a sweep
     * of steady/lifo at 1 and 2 requesters. NEW: steady (magazine),
     * the sweep, and steady (jemalloc). */
    struct spec bs[5] = { base_spec(20), base_spec(21), base_spec(22), base_spec(23), base_spec(24) };
    bs[1].pool = "malloc";
    bs[2].scenario = "cancel-race";
    bs[3].pool = bs[4].pool = "lifo";
    bs[4].requesters = 2;
    struct spec ns[4] = { base_spec(30), base_spec(31), base_spec(32), base_spec(33) };
    ns[1].pool = ns[2].pool = "lifo";
    ns[2].requesters = 2;
    ns[2].lat_mean = 1500;       /* only the 2-requester point regressed */
    ns[3].pool = "jemalloc";
    struct pb_result_doc db, dn;
    struct pb_comparison c;
    compare_groups(bs, 5, ns, 4, NULL, &c, &db, &dn);
    cr_assert_eq(c.nrows, 3);
    cr_assert_str_eq(c.rows[0].pool, "magazine");
    cr_assert_str_eq(c.rows[1].pool, "lifo");
    cr_assert_str_eq(c.rows[1].workload, "requesters=1");
    cr_assert_str_eq(c.rows[2].workload, "requesters=2");
    cr_assert_eq(c.rows[1].reps_base, 5);
    cr_assert_eq(c.rows[1].verdict, PB_VERDICT_UNCHANGED);
    cr_assert_eq(c.rows[2].verdict, PB_VERDICT_REGRESSED);
    cr_assert_eq(c.nonly_base, 2);
    cr_assert_eq(c.nonly_new, 1);
    cr_assert(strstr(c.only_base[0], "steady malloc / percpu-mpsc / xchg (5 repetitions)"), "%s",
              c.only_base[0]);
    cr_assert(strstr(c.only_base[1], "cancel-race"), "%s", c.only_base[1]);
    cr_assert(strstr(c.only_new[0], "jemalloc"), "%s", c.only_new[0]);
    pb_comparison_free(&c);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);

    struct printed r = print_compare(path_in("base.json"), path_in("new.json"), NULL);
    cr_assert_gt(r.regressed, 0, "%s", r.out);
    cr_assert(strstr(r.out, "only in BASE: steady malloc"), "%s", r.out);
    cr_assert(strstr(r.out, "only in NEW:  steady jemalloc"), "%s", r.out);
    cr_assert(strstr(r.out, "[requesters=2]"), "%s", r.out);
    free(r.out);
}

Test(compare, changed_workload_matched_with_warning)
{
    struct spec b = base_spec(40), n = base_spec(41);
    n.requesters = 2;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    cr_assert_eq(c.nrows, 1);
    cr_assert_geq(c.rows[0].nwarnings, 1);
    cr_assert(strstr(c.rows[0].warnings[0], "workload differs: requesters 1 -> 2"), "%s",
              c.rows[0].warnings[0]);
    cr_assert_str_eq(c.rows[0].workload, "");       /* the warning says it */
    pb_comparison_free(&c);
}

Test(compare, partial_and_failed_invariants_warned)
{
    struct spec b = base_spec(42), n = base_spec(43);
    b.partial = true;
    n.broken = true;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    cr_assert_eq(c.rows[0].nwarnings, 2);
    cr_assert(strstr(c.rows[0].warnings[0], "BASE: 1 of 5 repetitions partial"), "%s",
              c.rows[0].warnings[0]);
    cr_assert(strstr(c.rows[0].warnings[1], "NEW: invariants FAILED in 5 of 5 repetitions: 2 callback"),
              "%s", c.rows[0].warnings[1]);
    pb_comparison_free(&c);
}

/* Repetitions measured while other processes took a quarter or more of
 * the CPU are named (kept: a warning, not a screen). */
Test(compare, busy_repetitions_warned)
{
    struct spec b = base_spec(44), n = base_spec(45);
    n.busy = (1u << 1) | (1u << 3);
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    cr_assert_eq(c.rows[0].nwarnings, 1);
    cr_assert(strstr(c.rows[0].warnings[0], "NEW: 2 of 5 repetitions ran while other processes "
                                            "took 25% or more of the CPU time (at most 33%)"),
              "%s", c.rows[0].warnings[0]);
    pb_comparison_free(&c);
}

/* ---- the run key ----------------------------------------------------------------- */

Test(runkey, labels_are_canonical_and_compare_on_common_params)
{
    struct pb_runkey a, b;
    cr_assert_eq(pb_runkey_set(&a, "steady", "magazine", "percpu-mpsc", "xchg",
                               "workers=4, requesters=4, mix=read=3,write=1"), 0);
    cr_assert_str_eq(a.workload, "mix=read=3,write=1, requesters=4, workers=4");
    /* A newer pendbench's extra param does not keep them apart. */
    cr_assert_eq(pb_runkey_set(&b, "steady", "magazine", "percpu-mpsc", "xchg",
                               "requesters=4, workers=4, numa-spread=on, mix=read=3,write=1"), 0);
    cr_assert(pb_runkey_same(&a, &b));
    cr_assert(pb_runkey_same(&b, &a));
    /* A value both have that differs does. */
    cr_assert_eq(pb_runkey_set(&b, "steady", "magazine", "percpu-mpsc", "xchg",
                               "requesters=8, workers=4"), 0);
    cr_assert_not(pb_runkey_same(&a, &b));
    cr_assert(pb_runkey_same_name(&a, &b));
    char diff[200];
    cr_assert_not(pb_runkey_workload_same(a.workload, b.workload, diff, sizeof diff));
    cr_assert_str_eq(diff, "requesters 4 -> 8");
    char label[200];
    const struct pb_runkey *others[] = { &a, &b };
    pb_runkey_distinguishing(&a, others, 2, label, sizeof label);
    cr_assert_str_eq(label, "requesters=4");
    pb_runkey_format(&a, label, diff, sizeof diff);
    cr_assert_str_eq(diff, "steady magazine / percpu-mpsc / xchg [requesters=4]");
    /* Another strategy is another configuration. */
    cr_assert_eq(pb_runkey_set(&b, "steady", "lifo", "percpu-mpsc", "xchg", a.workload), 0);
    cr_assert_not(pb_runkey_same(&a, &b));
    /* Not a label. */
    cr_assert_eq(pb_runkey_set(&b, "steady", "lifo", "percpu-mpsc", "xchg", "requesters"), -1);
    cr_assert_not(pb_runkey_is_workload_param("seed"));
    cr_assert_not(pb_runkey_is_workload_param("duration"));
    cr_assert_not(pb_runkey_is_workload_param("split-every"));   /* how it was measured */
    cr_assert_not(pb_runkey_is_workload_param("latency-every"));
    cr_assert_not(pb_runkey_is_workload_param("queue"));
    cr_assert(pb_runkey_is_workload_param("requesters"));
}

Test(runkey, a_run_read_from_a_file_and_its_label_agree)
{
    struct spec sp = base_spec(1);
    sp.requesters = 3;
    sp.reps = 2;
    write_doc(path_in("k.json"), &sp, 1);
    struct pb_result_doc d;
    read_doc(path_in("k.json"), &d);
    struct pb_runkey k0, k1, fromlabel;
    cr_assert_eq(pb_runkey_of_run(&d.runs[0], &k0), 0);
    cr_assert_eq(pb_runkey_of_run(&d.runs[1], &k1), 0);
    /* The repetitions differ in their seed only: the same configuration. */
    cr_assert_str_eq(k0.workload, k1.workload);
    cr_assert_null(strstr(k0.workload, "seed="));
    cr_assert_null(strstr(k0.workload, "duration="));
    cr_assert(strstr(k0.workload, "requesters=3"), "%s", k0.workload);
    cr_assert_str_eq(k0.pool, "magazine");
    cr_assert_eq(pb_runkey_set(&fromlabel, k0.scenario, k0.pool, k0.queue, k0.handoff,
                               k0.workload), 0);
    cr_assert_str_eq(fromlabel.workload, k0.workload);
    cr_assert(pb_runkey_same(&fromlabel, &k0));
    pb_result_doc_free(&d);
}

/* A run under each strategy's own lock keeps the key of a file written
 * before locks existed; a chosen lock is part of the key, compared with
 * the name (never the same configuration as another lock, never matched
 * anyway as a sibling), and shown with the strategies. */
Test(runkey, the_lock_is_part_of_the_key)
{
    struct spec sp[3] = { base_spec(1), base_spec(2), base_spec(3) };
    for (unsigned i = 0; i < 3; i++) {
        sp[i].queue = "global-mutex";
        sp[i].reps = 1;
    }
    sp[1].lock = "mcs";
    sp[2].lock = "tas";
    write_doc(path_in("locks.json"), sp, 3);
    /* The same file as a pendbench before locks wrote it. */
    FILE *in = fopen(path_in("locks.json"), "r");
    cr_assert_not_null(in);
    json_error_t jerr;
    json_t *root = json_loadf(in, 0, &jerr);
    fclose(in);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *run0 = json_array_get(json_object_get(root, "runs"), 0);
    cr_assert_null(json_object_get(json_object_get(run0, "params"), "lock"));
    cr_assert_eq(json_object_del(json_object_get(run0, "strategies"), "lock"), 0);
    cr_assert_eq(json_object_del(json_object_get(run0, "strategies"), "locks_taken"), 0);
    cr_assert_eq(json_dump_file(root, path_in("old.json"), 0), 0);
    json_decref(root);

    struct pb_result_doc d, old;
    read_doc(path_in("locks.json"), &d);
    read_doc(path_in("old.json"), &old);
    struct pb_runkey k[3], ko;
    for (unsigned i = 0; i < 3; i++)
        cr_assert_eq(pb_runkey_of_run(&d.runs[i], &k[i]), 0);
    cr_assert_eq(pb_runkey_of_run(&old.runs[0], &ko), 0);
    cr_assert_str_eq(k[0].workload, ko.workload, "the default run's key is the old file's");
    cr_assert_str_eq(k[0].lock, "");
    cr_assert(pb_runkey_same(&k[0], &ko));
    cr_assert_null(strstr(k[0].workload, "lock"), "%s", k[0].workload);
    /* A chosen lock is in the workload text (the history stores that) and
     * the key's lock. */
    cr_assert(strstr(k[1].workload, "lock=mcs, "), "%s", k[1].workload);
    cr_assert_str_eq(k[1].lock, "mcs");
    cr_assert_str_eq(k[2].lock, "tas");
    for (unsigned i = 0; i < 3; i++)
        for (unsigned j = 0; j < 3; j++) {
            cr_assert_eq(pb_runkey_same(&k[i], &k[j]), i == j, "%u %u", i, j);
            cr_assert_eq(pb_runkey_same_name(&k[i], &k[j]), i == j, "%u %u", i, j);
            cr_assert(pb_runkey_same_but_lock(&k[i], &k[j]), "%u %u", i, j);
        }
    cr_assert_not(pb_runkey_same(&k[1], &ko), "an old run is a default-lock run");
    /* Not a param that tells siblings apart: it is shown with the strategies. */
    const struct pb_runkey *others[] = { &k[0], &k[1], &k[2] };
    char label[200], text[300];
    pb_runkey_distinguishing(&k[1], others, 3, label, sizeof label);
    cr_assert_str_eq(label, "");
    pb_runkey_format(&k[1], "", text, sizeof text);
    cr_assert_str_eq(text, "steady magazine / global-mutex / xchg [lock mcs]");
    pb_runkey_format(&k[0], "requesters=1", text, sizeof text);
    cr_assert_str_eq(text, "steady magazine / global-mutex / xchg [requesters=1]");
    /* Another workload is not "the same but for the lock". */
    struct pb_runkey k4;
    cr_assert_eq(pb_runkey_set(&k4, "steady", "magazine", "global-mutex", "xchg",
                               "lock=tas, requesters=2"), 0);
    cr_assert_not(pb_runkey_same_but_lock(&k[1], &k4));
    /* Rebuilt from the stored text (history): the same key, lock included;
     * "lock=default" is the default, as no item. */
    struct pb_runkey fromlabel;
    cr_assert_eq(pb_runkey_set(&fromlabel, "steady", "magazine", "global-mutex", "xchg",
                               k[1].workload), 0);
    cr_assert_str_eq(fromlabel.lock, "mcs");
    cr_assert(pb_runkey_same(&fromlabel, &k[1]));
    cr_assert_eq(pb_runkey_set(&fromlabel, "steady", "magazine", "global-mutex", "xchg",
                               "requesters=1, lock=default"), 0);
    cr_assert_str_eq(fromlabel.workload, "requesters=1");
    cr_assert_str_eq(fromlabel.lock, "");
    pb_result_doc_free(&d);
    pb_result_doc_free(&old);
}

/* compare: runs match under the same lock only; a run under another lock
 * is listed, never compared as the same configuration; the table names
 * the lock with the strategies. */
Test(compare, runs_match_under_their_own_lock)
{
    struct spec bs[2] = { base_spec(50), base_spec(51) };
    bs[0].queue = bs[1].queue = "global-mutex";
    bs[1].lock = "mcs";
    struct spec ns[2] = { base_spec(52), base_spec(53) };
    ns[0].queue = ns[1].queue = "global-mutex";
    ns[0].lock = "mcs";
    ns[0].lat_mean = 1500;
    ns[1].lock = "clh";
    struct pb_result_doc db, dn;
    struct pb_comparison c;
    compare_groups(bs, 2, ns, 2, NULL, &c, &db, &dn);
    cr_assert_eq(c.nrows, 1);
    cr_assert_str_eq(c.rows[0].lock, "mcs");
    cr_assert_eq(c.rows[0].nwarnings, 0, "%s", c.rows[0].warnings[0]);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_REGRESSED);
    cr_assert_eq(c.nonly_base, 1);
    cr_assert_eq(c.nonly_new, 1);
    cr_assert_str_eq(c.only_base[0], "steady magazine / global-mutex / xchg (5 repetitions)");
    cr_assert_str_eq(c.only_new[0],
                     "steady magazine / global-mutex / xchg [lock clh] (5 repetitions)");
    /* The JSON names it with the strategies too. */
    char *js = NULL;
    size_t jlen = 0;
    FILE *jf = open_memstream(&js, &jlen);
    cr_assert_not_null(jf);
    cr_assert_eq(pb_compare_print_json(jf, &c, "b", &db.ctx, "n", &dn.ctx), 0);
    cr_assert_eq(fclose(jf), 0);
    json_t *jd = json_loads(js, 0, NULL);
    cr_assert_not_null(jd, "%s", js);
    json_t *st = json_object_get(json_array_get(json_object_get(jd, "runs"), 0), "strategies");
    cr_expect_str_eq(json_string_value(json_object_get(st, "lock")), "mcs", "%s", js);
    json_decref(jd);
    free(js);
    pb_comparison_free(&c);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);

    struct printed r = print_compare(path_in("base.json"), path_in("new.json"), NULL);
    cr_assert(strstr(r.out, "steady        magazine / global-mutex / xchg [lock mcs] throughput "), "%s",
              r.out);
    cr_assert(strstr(r.out, "only in NEW:  steady magazine / global-mutex / xchg [lock clh]"),
              "%s", r.out);
    free(r.out);
}

/* ---- the verdict rule on families ------------------------------------------------------ */

#define NCONF 20

/* NCONF configurations (scenarios conf-00..), 5 repetitions each with
 * run-to-run noise as a real machine has it: 3 % on throughput and on the
 * latency level. Configuration `shifted` (NCONF: none) runs `factor`
 * slower: throughput x factor, latency / factor. */
static void write_family(const char *path, uint64_t seed, unsigned shifted, double factor)
{
    static char names[NCONF][16];
    struct spec sp[NCONF];
    for (unsigned i = 0; i < NCONF; i++) {
        snprintf(names[i], sizeof names[i], "conf-%02u", i);
        sp[i] = base_spec(seed * 100 + i);
        sp[i].scenario = names[i];
        sp[i].samples = 3000;
        sp[i].lat_sd = 100;
        sp[i].tput_noise = 0.03;
        sp[i].lat_noise = 0.03;
        if (i == shifted) {
            sp[i].tput *= factor;
            sp[i].lat_mean /= factor;
        }
    }
    write_doc(path, sp, NCONF);
}

static void compare_files(const char *a, const char *b, const struct pb_compare_opts *o,
                          struct pb_comparison *c)
{
    struct pb_result_doc da, db;
    read_doc(a, &da);
    read_doc(b, &db);
    struct pb_compare_opts def;
    pb_compare_opts_default(&def);
    char err[512];
    cr_assert_eq(pb_compare_docs(&da, &db, o ? o : &def, c, err, sizeof err), 0, "%s", err);
    pb_result_doc_free(&da);
    pb_result_doc_free(&db);
}

Test(compare, aa_families_raise_no_alarm)
{
    /* Five A/A pairs of 20 configurations x 4 metrics: 80 tests each. */
    for (uint64_t pair = 0; pair < 5; pair++) {
        write_family(path_in("a.json"), 2 * pair + 1, NCONF, 1);
        write_family(path_in("b.json"), 2 * pair + 2, NCONF, 1);
        struct pb_comparison c;
        compare_files(path_in("a.json"), path_in("b.json"), NULL, &c);
        cr_assert_eq(c.nrows, NCONF);
        cr_assert_eq(c.family, NCONF * 4);
        cr_assert_eq(c.regressed + c.improved + c.inconclusive, 0,
                     "pair %u: %u regressed, %u improved, %u inconclusive", (unsigned)pair,
                     c.regressed, c.improved, c.inconclusive);
        pb_comparison_free(&c);
    }
    struct printed r = print_compare(path_in("a.json"), path_in("b.json"), NULL);
    cr_assert_eq(r.regressed, 0, "%s", r.out);
    cr_assert(strstr(r.out, "80 tests in the family, holm correction, alpha 0.05"), "%s", r.out);
    free(r.out);
}

Test(compare, a_shift_is_found_where_it_is_and_only_there)
{
    write_family(path_in("a.json"), 11, NCONF, 1);
    write_family(path_in("b.json"), 12, 7, 0.8);   /* conf-07: 20 % slower */
    struct pb_comparison c;
    compare_files(path_in("a.json"), path_in("b.json"), NULL, &c);
    for (unsigned i = 0; i < c.nrows; i++) {
        if (strcmp(c.rows[i].scenario, "conf-07") == 0) {
            assert_verdict(&c, i, PB_METRIC_THROUGHPUT, PB_VERDICT_REGRESSED);
            assert_verdict(&c, i, PB_METRIC_P50, PB_VERDICT_REGRESSED);
            assert_verdict(&c, i, PB_METRIC_P99, PB_VERDICT_REGRESSED);
            cr_assert_eq(c.rows[i].verdict, PB_VERDICT_REGRESSED);
        } else {
            cr_assert_lt(c.rows[i].verdict, PB_VERDICT_INCONCLUSIVE, "%s: %s", c.rows[i].scenario,
                         pb_verdict_name(c.rows[i].verdict));
        }
    }
    cr_assert_geq(c.regressed, 3);
    cr_assert_eq(c.improved, 0);
    pb_comparison_free(&c);
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    char err[256];
    cr_assert_eq(pb_compare_option("metric", "gate", &o, err, sizeof err), 1, "%s", err);
    struct printed r = print_compare(path_in("a.json"), path_in("b.json"), &o);
    cr_assert_eq(r.regressed, 3, "%s", r.out);
    cr_assert(strstr(r.out, "3 regressed, 0 improved, 57 unchanged"), "%s", r.out);
    free(r.out);
}

Test(compare, the_correction_keeps_a_family_from_crying_wolf)
{
    /* No threshold and no noise floor: the test alone. 80 A/A tests at
     * 0.05 without correction give false alarms; Holm and BH do not. */
    write_family(path_in("a.json"), 21, NCONF, 1);
    write_family(path_in("b.json"), 22, NCONF, 1);
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.threshold_pct = 0;
    o.noise_k = 0;
    o.correction = PB_CORRECT_NONE;
    struct pb_comparison c;
    compare_files(path_in("a.json"), path_in("b.json"), &o, &c);
    unsigned alarms = c.regressed + c.improved, none_regressed = c.regressed;
    cr_assert_geq(alarms, 1, "uncorrected: no false alarm in this family (change the seed)");
    double smallest = 1;
    for (unsigned i = 0; i < c.nrows; i++)
        for (unsigned k = 0; k < c.rows[i].nmetrics; k++) {
            const struct pb_compare_metric *m = &c.rows[i].metrics[k];
            if (!m->tested)
                continue;
            cr_assert_float_eq(m->p_adj, m->p_raw, 0);   /* none: unchanged */
            if (m->p_raw < smallest)
                smallest = m->p_raw;
        }
    cr_assert(smallest * 80 > 0.05, "the smallest p %g would survive Holm too", smallest);
    pb_comparison_free(&c);
    o.correction = PB_CORRECT_HOLM;
    compare_files(path_in("a.json"), path_in("b.json"), &o, &c);
    cr_assert_eq(c.regressed + c.improved, 0);
    pb_comparison_free(&c);
    o.correction = PB_CORRECT_BH;
    compare_files(path_in("a.json"), path_in("b.json"), &o, &c);
    cr_assert_eq(c.regressed + c.improved, 0);
    pb_comparison_free(&c);
    /* As printed: the summary names the correction. */
    o.correction = PB_CORRECT_NONE;
    struct printed r = print_compare(path_in("a.json"), path_in("b.json"), &o);
    cr_assert_eq(r.regressed, none_regressed, "%s", r.out);
    cr_assert(strstr(r.out, "none correction"), "%s", r.out);
    free(r.out);
}

Test(compare, a_significant_change_inside_the_noise_floor_is_within_noise)
{
    /* Throughput spread 3 % (robust CV), 20 repetitions a side: a 4 %
     * drop is significant, but under 3 x 3 % of the base's own scatter. */
    struct spec b = base_spec(84), n = base_spec(85);
    b.reps = n.reps = 20;
    b.samples = n.samples = 2000;
    b.tput_noise = n.tput_noise = 0.03;
    n.tput = 0.96e6;
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    o.threshold_pct = 2;
    struct pb_comparison c;
    compare_specs(&b, &n, &o, &c);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert(t->change < -2 && t->change > -6, "%g", t->change);
    cr_assert(t->cv_base > 2 && t->cv_base < 4, "%g", t->cv_base);
    cr_assert(t->noise_floor > -t->change, "floor %g, change %g", t->noise_floor, t->change);
    cr_assert(t->significant, "p adj %g", t->p_adj);
    cr_assert_eq(t->reason, PB_REASON_WITHIN_NOISE);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_UNCHANGED);
    char words[64];
    cr_assert_str_eq(pb_compare_verdict_words(t, words, sizeof words), "within noise");
    pb_comparison_free(&c);
    /* The floor is what decided: without it the same change regressed. */
    o.noise_k = 0;
    compare_specs(&b, &n, &o, &c);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_REGRESSED);
    pb_comparison_free(&c);
}

Test(compare, too_noisy_is_inconclusive_and_does_not_fail)
{
    /* NEW's repetitions spread 25 %: a 40 % drop is significant and far
     * beyond the base's floor, but the machine was too noisy to trust. */
    struct spec b, n;
    too_noisy_pair(&b, &n, 82);
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    struct pb_comparison c;
    compare_specs(&b, &n, &o, &c);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert(t->significant, "p adj %g", t->p_adj);
    cr_assert(t->cv_new > 15, "%g", t->cv_new);
    cr_assert_eq(t->verdict, PB_VERDICT_INCONCLUSIVE);
    cr_assert_eq(c.rows[0].verdict, PB_VERDICT_INCONCLUSIVE);
    cr_assert_eq(c.inconclusive, 1);
    pb_comparison_free(&c);
    struct printed r = print_compare(path_in("base.json"), path_in("new.json"), &o);
    cr_assert_eq(r.regressed, 0, "inconclusive is not a failure: %s", r.out);
    cr_assert(strstr(r.out, "inconclusive (too noisy)"), "%s", r.out);
    cr_assert(strstr(r.out, "0 regressed, 0 improved, 0 unchanged, 1 inconclusive"), "%s", r.out);
    cr_assert(strstr(r.out, "the machine was too noisy (robust CV over 15%, or too few "
                            "repetitions left in one machine state): rerun on a quiet machine or "
                            "use `pendbench ab`"), "%s", r.out);
    free(r.out);
    /* A wider tolerance judges it. */
    o.max_cv_pct = 60;
    r = print_compare(path_in("base.json"), path_in("new.json"), &o);
    cr_assert_eq(r.regressed, 1, "%s", r.out);
    free(r.out);
}

/* --strict: what could not be judged (a metric inconclusive, a run the
 * screen left with no repetition on a side) is exit status 3 instead of
 * 0; a regression is still 1; without --strict nothing changes. */
Test(compare, strict_tells_could_not_judge_from_no_regression)
{
    struct spec b, n;
    too_noisy_pair(&b, &n, 84);
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    struct pb_comparison c;
    compare_specs(&b, &n, &o, &c);
    cr_assert_eq(c.inconclusive, 1);
    cr_expect_eq(pb_comparison_exit_status(&c), 0);
    pb_comparison_free(&c);
    char err[256];
    cr_assert_eq(pb_compare_option("strict", NULL, &o, err, sizeof err), 1, "%s", err);
    cr_assert(o.strict);
    compare_specs(&b, &n, &o, &c);
    cr_expect_eq(pb_comparison_exit_status(&c), PB_COMPARE_EXIT_UNJUDGED);
    char sum[2048];
    pb_comparison_summary(&c, sum, sizeof sum);
    cr_expect(strstr(sum, "--strict: nothing regressed, but not everything could be judged: "
                          "exit status 3") != NULL, "%s", sum);
    pb_comparison_free(&c);
    /* A regression beside it: 1. */
    struct spec b2[2] = { b, base_spec(86) }, n2[2] = { n, base_spec(87) };
    b2[1].queue = n2[1].queue = "percpu-ring";
    n2[1].tput = 0.5e6;
    struct pb_result_doc db, dn;
    compare_groups(b2, 2, n2, 2, &o, &c, &db, &dn);
    cr_expect_eq(c.regressed, 1);
    cr_expect_eq(pb_comparison_exit_status(&c), 1);
    pb_comparison_free(&c);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);

    /* Paired: a run whose NEW ran in another machine state throughout
     * (floor 400 ns against the comparison's 70) compares nothing. */
    struct spec p[2] = { base_spec(88), base_spec(89) }, q[2] = { base_spec(90), base_spec(91) };
    p[1].queue = q[1].queue = "percpu-ring";
    for (int i = 0; i < 2; i++) {
        p[i].reps = q[i].reps = 6;
        for (int k = 0; k < 6; k++)
            p[i].floor[k] = q[i].floor[k] = i == 1 ? 400 : 70;
    }
    for (int k = 0; k < 6; k++)
        p[1].floor[k] = 70;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    o.paired = true;
    compare_groups(p, 2, q, 2, &o, &c, &db, &dn);
    cr_assert_eq(c.nrows, 2);
    cr_expect_eq(c.screened_out, 1, "%u", c.screened_out);
    cr_expect(c.rows[1].screened_out);
    cr_expect_not(c.rows[0].screened_out);
    cr_expect_eq(c.inconclusive, 0);
    cr_expect_eq(pb_comparison_exit_status(&c), 0);
    pb_comparison_summary(&c, sum, sizeof sum);
    cr_expect(strstr(sum, "1 run compared nothing: the screen left a side with no repetition") !=
              NULL, "%s", sum);
    c.opts.strict = true;
    cr_expect_eq(pb_comparison_exit_status(&c), PB_COMPARE_EXIT_UNJUDGED);
    pb_comparison_free(&c);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);
    cr_expect_eq(pb_compare_option("strict", "yes", &o, err, sizeof err), -1);
    cr_expect(strstr(err, "takes no value") != NULL, "%s", err);
}

/* `pendbench ab` compares paired files and prints this summary itself:
 * its advice names ab's own --repeat, never "use `pendbench ab`". */
Test(compare, paired_summary_does_not_advise_ab)
{
    struct pb_comparison c;
    memset(&c, 0, sizeof c);
    pb_compare_opts_default(&c.opts);
    c.untested = 2;
    c.untested_changed = 1;
    c.inconclusive = 2;     /* the untested change, and one too noisy */
    char sum[2048];
    pb_comparison_summary(&c, sum, sizeof sum);
    cr_expect(strstr(sum, "run each side with --repeat 5, or use `pendbench ab`") != NULL, "%s",
              sum);
    cr_expect(strstr(sum, "rerun on a quiet machine or use `pendbench ab`") != NULL, "%s", sum);
    c.opts.paired = true;
    pb_comparison_summary(&c, sum, sizeof sum);
    cr_expect(strstr(sum, "pendbench ab") == NULL, "%s", sum);
    cr_expect(strstr(sum, "2 metrics untested (fewer than 3 pairs): no verdict without a test, "
                          "so the 1 beyond the threshold is inconclusive; rerun with 5 clean "
                          "pairs or more (ab's --repeat 5)")
              != NULL, "%s", sum);
    /* The untested change is not the machine's noise: one metric too noisy. */
    cr_expect(strstr(sum, "\n1 metric inconclusive: the machine was too noisy") != NULL, "%s",
              sum);
    cr_expect(strstr(sum, "too few pairs left in one machine state): rerun on a quiet machine\n")
              != NULL, "%s", sum);
}

Test(compare, paired_runs_see_through_drift)
{
    /* The machine drifts by +-30 % from one pair to the next; NEW is 7 %
     * slower than BASE within every pair. */
    static const double drift[6] = { 1.0, 1.3, 0.75, 1.2, 0.85, 1.1 };
    struct spec b = base_spec(90), n = base_spec(91);
    b.reps = n.reps = 5;
    b.tput_noise = n.tput_noise = 0.005;
    memcpy(b.drift, drift, sizeof drift);
    memcpy(n.drift, drift, sizeof drift);
    n.tput = 0.93e6;
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    struct pb_comparison c;
    /* Unpaired, the drift hides it. */
    compare_specs(&b, &n, &o, &c);
    cr_assert_neq(metric(&c, 0, PB_METRIC_THROUGHPUT)->verdict, PB_VERDICT_REGRESSED);
    pb_comparison_free(&c);
    o.paired = true;
    compare_specs(&b, &n, &o, &c);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert_str_eq(t->test, "paired-t-log");
    cr_assert_eq(t->npairs, 5);
    cr_assert_float_eq(t->df, 4, 0);
    /* The change is the pairs' geometric mean ratio: 0.93. */
    cr_assert(t->change > -8 && t->change < -6, "%g", t->change);
    cr_assert(t->p_adj < 0.001, "%g", t->p_adj);
    cr_assert(t->cv_pairs < 2, "the pairs' spread %g", t->cv_pairs);
    cr_assert_gt(t->cv_base, 15);      /* the sides' own spread is the drift */
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_REGRESSED);
    /* 5 pairs cannot reach 0.05 with Wilcoxon (2 / 32): not shown, and the
     * note says how many would. */
    cr_assert(isnan(t->wilcoxon_p));
    cr_assert(strstr(t->note, "paired-t-log 5 pairs (W: 6+ pairs)"), "%s", t->note);
    pb_comparison_free(&c);
    /* 6 pairs, all the same sign: Wilcoxon's smallest p, 2 / 64. */
    b.reps = n.reps = 6;
    compare_specs(&b, &n, &o, &c);
    t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert_float_eq(t->wilcoxon_p, 2.0 / 64, 1e-12);
    cr_assert(strstr(t->note, "W p=0.031"), "%s", t->note);
    pb_comparison_free(&c);
    /* Unequal counts: the first min(n) are paired, with a warning. */
    n.reps = 5;
    compare_specs(&b, &n, &o, &c);
    t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert_eq(t->npairs, 5);
    cr_assert(strstr(c.rows[0].warnings[0], "paired: BASE has 6 repetitions, NEW 5: the first 5 "
                                            "of each are paired"), "%s", c.rows[0].warnings[0]);
    pb_comparison_free(&c);
    /* As printed: the note says which test and how many pairs. */
    struct printed r = print_compare(path_in("base.json"), path_in("new.json"), &o);
    cr_assert_eq(r.regressed, 1, "%s", r.out);
    cr_assert(strstr(r.out, "paired-t-log 5 pairs"), "%s", r.out);
    free(r.out);
}

Test(compare, too_few_repetitions_said_once)
{
    struct spec specs[3] = { base_spec(95), base_spec(96), base_spec(97) };
    specs[1].scenario = "burst";
    specs[2].scenario = "fanout";
    for (int i = 0; i < 3; i++)
        specs[i].reps = 1;
    write_doc(path_in("a.json"), specs, 3);
    for (int i = 0; i < 3; i++)
        specs[i].seed += 10;
    write_doc(path_in("b.json"), specs, 3);
    struct printed r = print_compare(path_in("a.json"), path_in("b.json"), NULL);
    cr_assert_eq(r.regressed, 0, "%s", r.out);
    cr_assert_eq(count_in(r.out, "--repeat 5"), 1, "%s", r.out);
    cr_assert(strstr(r.out, "12 metrics untested (fewer than 3 repetitions a side): no verdict "
                            "without a test"), "%s", r.out);
    cr_assert(strstr(r.out, "; run each side with --repeat 5, or use `pendbench ab`\n"), "%s",
              r.out);
    cr_assert_geq(count_in(r.out, "(untested)"), 12, "%s", r.out);
    cr_assert(strstr(r.out, "0 tests in the family"), "%s", r.out);
    free(r.out);
}

Test(compare, presets_and_compare_option)
{
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    cr_assert_eq(o.metrics, PB_METRIC_ALL);
    cr_assert_eq(o.correction, PB_CORRECT_HOLM);
    cr_assert_float_eq(o.noise_k, 3, 0);
    cr_assert_float_eq(o.max_cv_pct, 15, 0);
    char err[256];
    cr_assert_eq(pb_compare_option("metric", "gate", &o, err, sizeof err), 1);
    cr_assert_eq(o.metrics, (1u << PB_METRIC_THROUGHPUT) | (1u << PB_METRIC_P50) |
                                (1u << PB_METRIC_P99));
    /* A second --metric adds. */
    cr_assert_eq(pb_compare_option("metric", "cancel", &o, err, sizeof err), 1);
    cr_assert_eq(o.metrics, (1u << PB_METRIC_THROUGHPUT) | (1u << PB_METRIC_P50) |
                                (1u << PB_METRIC_P99) | (1u << PB_METRIC_CANCEL));
    pb_compare_opts_default(&o);
    cr_assert_eq(pb_compare_option("metric", "latency", &o, err, sizeof err), 1);
    cr_assert_eq(o.metrics, (1u << PB_METRIC_P50) | (1u << PB_METRIC_P99) | (1u << PB_METRIC_P999));
    pb_compare_opts_default(&o);
    cr_assert_eq(pb_compare_option("metric", "p99.9,tput", &o, err, sizeof err), 1);
    cr_assert_eq(o.metrics, (1u << PB_METRIC_P999) | (1u << PB_METRIC_THROUGHPUT));
    cr_assert_eq(pb_compare_option("metric", "all", &o, err, sizeof err), 1);
    cr_assert_eq(o.metrics, PB_METRIC_ALL);
    cr_assert_eq(pb_compare_option("correction", "bh", &o, err, sizeof err), 1);
    cr_assert_eq(o.correction, PB_CORRECT_BH);
    cr_assert_eq(pb_compare_option("noise-k", "0", &o, err, sizeof err), 1);
    cr_assert_float_eq(o.noise_k, 0, 0);
    cr_assert_eq(pb_compare_option("max-cv", "20%", &o, err, sizeof err), 1);
    cr_assert_float_eq(o.max_cv_pct, 20, 0);
    cr_assert_eq(pb_compare_option("threshold", "2.5", &o, err, sizeof err), 1);
    cr_assert_float_eq(o.threshold_pct, 2.5, 0);
    cr_assert_eq(pb_compare_option("alpha", "0.01", &o, err, sizeof err), 1);
    cr_assert_float_eq(o.alpha, 0.01, 0);
    /* An underflow is a number as near 0 as a double gets, not garbage. */
    cr_assert_eq(pb_compare_option("threshold", "1e-320", &o, err, sizeof err), 1, "%s", err);
    cr_assert_lt(o.threshold_pct, 1e-300);
    /* Not one of compare's: left to the caller. */
    cr_assert_eq(pb_compare_option("repeat", "6", &o, err, sizeof err), 0);
    cr_assert_eq(pb_compare_option("paired", NULL, &o, err, sizeof err), 0);
    /* Bad values: -1 and a message naming the option and the value. */
    static const struct { const char *key, *value, *message; } bad[] = {
        { "threshold", "-1", "--threshold: '-1' is not a percentage >= 0" },
        { "threshold", "5x", "--threshold: '5x'" },
        { "threshold", "1e400", "--threshold: '1e400'" },
        { "alpha", "1", "--alpha: '1' is not a level between 0 and 1" },
        { "alpha", "0", "--alpha: '0'" },
        { "metric", "p42", "--metric: 'p42' is not a list of" },
        { "metric", ",", "--metric: ','" },
        { "metric", "p50,", "--metric: 'p50,'" },
        { "metric", "p50,,p99", "--metric: 'p50,,p99'" },
        { "correction", "bonferroni", "--correction: 'bonferroni' is not holm, bh or none" },
        { "noise-k", "-1", "--noise-k: '-1' is not a number >= 0" },
        { "noise-k", "3%", "--noise-k: '3%'" },
        { "max-cv", "0", "--max-cv: '0' is not a percentage > 0" },
        { "max-cv", "lots", "--max-cv: 'lots'" },
        { "max-cv", "", "--max-cv: needs a value" },
        { "alpha", NULL, "--alpha: needs a value" },
        /* strtod took these: a hexadecimal float, a blank, a sign. */
        { "alpha", "0x0.1", "--alpha: '0x0.1' is not a level between 0 and 1" },
        { "alpha", " 0.1", "--alpha: ' 0.1'" },
        { "threshold", "+5", "--threshold: '+5'" },
        { "max-cv", "0x10", "--max-cv: '0x10'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct pb_compare_opts before;
        pb_compare_opts_default(&o);
        before = o;
        err[0] = 0;
        cr_assert_eq(pb_compare_option(bad[i].key, bad[i].value, &o, err, sizeof err), -1,
                     "%s=%s", bad[i].key, bad[i].value ? bad[i].value : "(null)");
        cr_assert(strstr(err, bad[i].message), "expected '%s' in '%s'", bad[i].message, err);
        cr_assert_eq(memcmp(&o, &before, sizeof o), 0, "a bad value changed the options");
    }
}

/* On a VM one process can see the two CPUs bounce a line 5x slower than
 * the next (the c2c floor says so): such repetitions are left out, with
 * their partners, and the change underneath is found. */
Test(compare, repetitions_in_another_machine_state_are_left_out)
{
    struct spec b = base_spec(120), n = base_spec(121);
    b.reps = n.reps = 6;
    n.tput = 0.8e6;                     /* NEW 20 % slower */
    for (int k = 0; k < 6; k++)
        b.floor[k] = n.floor[k] = 70;
    /* BASE's first two processes ran in the slow state: floor 400 ns, 2.5x slower. */
    b.floor[0] = b.floor[1] = 400;
    b.drift[0] = b.drift[1] = 0.4;
    for (int k = 2; k < 6; k++)
        b.drift[k] = 1;
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    o.paired = true;
    struct pb_comparison c;
    o.floor_factor = 0;                 /* kept: the slow state hides the regression */
    compare_specs(&b, &n, &o, &c);
    cr_expect_neq(metric(&c, 0, PB_METRIC_THROUGHPUT)->verdict, PB_VERDICT_REGRESSED);
    cr_expect_eq(c.excluded, 0);
    pb_comparison_free(&c);
    pb_compare_opts_default(&o);        /* the default screen: 1.5x the median floor */
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    o.paired = true;
    compare_specs(&b, &n, &o, &c);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_expect_eq(t->npairs, 4);
    cr_expect_eq(c.excluded, 4, "two pairs: %u", c.excluded);
    cr_expect_float_eq(c.floor_ref_ns, 70, 1e-9);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_REGRESSED);
    cr_expect(strstr(c.rows[0].warnings[0], "2 of BASE and 2 of NEW left out") != NULL, "%s",
              c.rows[0].warnings[0]);
    char sum[2048];
    pb_comparison_summary(&c, sum, sizeof sum);
    cr_expect(strstr(sum, "4 repetitions left out") != NULL, "%s", sum);
    pb_comparison_free(&c);

    /* A/A with the same slow state on one side: nothing regressed once screened. */
    n = b;
    n.seed = 122;
    for (int k = 0; k < 6; k++) {
        n.floor[k] = 70;
        n.drift[k] = 1;
    }
    compare_specs(&b, &n, &o, &c);
    cr_expect_eq(c.regressed + c.improved, 0);
    pb_comparison_free(&c);

    /* Too few left in the majority state: inconclusive, never the threshold alone. */
    struct spec b3 = b, n3 = base_spec(125);
    b3.reps = n3.reps = 4;
    n3.tput = 0.8e6;
    for (int k = 0; k < 4; k++)
        n3.floor[k] = 70;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    o.paired = true;
    compare_specs(&b3, &n3, &o, &c);       /* pairs 0 and 1 out: 2 left */
    t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_expect_not(t->tested);
    cr_expect(t->screened);
    cr_expect_eq(t->verdict, PB_VERDICT_INCONCLUSIVE);
    cr_expect_eq(c.untested, 0);
    char words[96];
    cr_expect_str_eq(pb_compare_verdict_words(t, words, sizeof words),
                     "inconclusive (machine state changed)");
    pb_comparison_free(&c);

    /* Unpaired: a floor that moved during a repetition leaves it out alone. */
    o.paired = false;
    struct spec u = base_spec(123), v = base_spec(124);
    for (int k = 0; k < 5; k++)
        u.floor[k] = v.floor[k] = 70;
    v.floor_moved = 1u << 3;
    compare_specs(&u, &v, &o, &c);
    cr_expect_eq(c.excluded, 1);
    cr_expect_eq(c.rows[0].metrics[0].n_new, 4);
    cr_expect_eq(c.rows[0].metrics[0].n_base, 5);
    pb_comparison_free(&c);

    /* A state that came and went inside a window: the floors before and
     * after are the majority's, the throughput is not. Paired: the pair
     * whose ratio is off the median ratio goes; the change underneath is
     * found. Unpaired: the run off its side's median goes. */
    struct spec p = base_spec(126), q = base_spec(127);
    p.reps = q.reps = 5;
    q.tput = 0.85e6;
    for (int k = 0; k < 5; k++) {
        p.floor[k] = q.floor[k] = 70;
        p.drift[k] = q.drift[k] = 1;
    }
    p.drift[2] = 0.3;
    pb_compare_opts_default(&o);
    o.metrics = 1u << PB_METRIC_THROUGHPUT;
    o.paired = true;
    compare_specs(&p, &q, &o, &c);
    cr_expect_eq(c.excluded, 2, "one pair: %u", c.excluded);
    cr_expect_eq(metric(&c, 0, PB_METRIC_THROUGHPUT)->npairs, 4);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_REGRESSED);
    cr_expect(strstr(c.rows[0].warnings[0], "throughput lay beyond 1.5x") != NULL, "%s",
              c.rows[0].warnings[0]);
    pb_comparison_free(&c);
    o.paired = false;
    compare_specs(&p, &q, &o, &c);
    cr_expect_eq(c.excluded, 1);
    cr_expect_eq(c.rows[0].metrics[0].n_base, 4);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_REGRESSED);
    pb_comparison_free(&c);
    o.paired = true;

    /* The option: 0 off, a factor >= 1, anything else refused. */
    char err[256];
    cr_expect_eq(pb_compare_option("floor-factor", "0", &o, err, sizeof err), 1);
    cr_expect_eq(o.floor_factor, 0);
    cr_expect_eq(pb_compare_option("floor-factor", "2.5", &o, err, sizeof err), 1);
    cr_expect_eq(o.floor_factor, 2.5);
    cr_expect_eq(pb_compare_option("floor-factor", "0.5", &o, err, sizeof err), -1);
    cr_expect(strstr(err, "floor-factor") != NULL, "%s", err);
}

/* A placement that measures its floor between other CPUs (SMT siblings at
 * 20 ns, two nodes at 70 ns: both steady) is not another machine state:
 * each run is judged against the floors of its own CPU pair, and nothing
 * is left out. One median over both pairs (45 ns) put every run off. */
Test(compare, floors_of_other_cpu_pairs_are_not_another_state)
{
    struct spec b[2] = { base_spec(130), base_spec(131) };
    b[1].scenario = "cross-node";
    b[1].floor_cpu_b = 8;
    for (int k = 0; k < 5; k++) {
        b[0].floor[k] = 20;
        b[1].floor[k] = 70;
    }
    struct spec n[2] = { b[0], b[1] };
    n[0].seed = 132;
    n[1].seed = 133;
    struct pb_comparison c;
    struct pb_result_doc db, dn;
    compare_groups(b, 2, n, 2, NULL, &c, &db, &dn);
    cr_expect_eq(c.excluded, 0, "%u left out", c.excluded);
    cr_assert_eq(c.nrows, 2);
    for (unsigned r = 0; r < 2; r++)
        cr_expect_eq(c.rows[r].reps_base, 5, "row %u", r);
    pb_comparison_free(&c);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);
    /* Within one pair the screen still works: a run of cross-node at 400. */
    n[1].floor[2] = 400;
    compare_groups(b, 2, n, 2, NULL, &c, &db, &dn);
    cr_expect_eq(c.excluded, 1, "%u left out", c.excluded);
    pb_comparison_free(&c);
    pb_result_doc_free(&db);
    pb_result_doc_free(&dn);
    /* The reference itself, by pair. */
    struct pb_floor_state f[3] = { { 20, 20, false, 0, 1 }, { 22, 22, false, 0, 1 },
                                   { 70, 70, false, 0, 8 } };
    cr_expect_float_eq(pb_floor_reference_like(f, 3, &f[0]), 21, 1e-9);
    cr_expect_float_eq(pb_floor_reference_like(f, 3, &f[2]), 70, 1e-9);
    cr_expect_float_eq(pb_floor_reference(f, 3), 22, 1e-9);
}

/* The screen itself, as the session uses it on two configurations' floors
 * (a configuration against its baseline) and on a run against the
 * session's median: beyond the factor either way, the edges inclusive. */
Test(compare, floor_off_either_way_beyond_the_factor)
{
    struct pb_floor_state f = { .start_ns = 45, .end_ns = 45 };
    cr_expect_not(pb_floor_off(&f, 45, 1.5));
    cr_expect_not(pb_floor_off(&f, 67.5, 1.5), "exactly 1.5x is still the same state");
    cr_expect(pb_floor_off(&f, 68, 1.5), "the other placement, above");
    cr_expect(pb_floor_off(&f, 29, 1.5), "the other placement, below");
    cr_expect(pb_floor_off(&f, 420, 1.5));
    /* Either end of the window counts. */
    f.end_ns = 420;
    cr_expect(pb_floor_off(&f, 45, 1.5));
    cr_expect(pb_floor_off(&f, 420, 1.5));
    /* A floor that moved inside the run is off whatever its medians say. */
    f = (struct pb_floor_state){ .start_ns = 45, .end_ns = 45, .unstable = true };
    cr_expect(pb_floor_off(&f, 45, 1.5));
    /* Nothing to judge by: no floor, no reference, no factor. */
    f = (struct pb_floor_state){ 0 };
    cr_expect_not(pb_floor_off(&f, 45, 1.5));
    f.start_ns = f.end_ns = 45;
    cr_expect_not(pb_floor_off(&f, 0, 1.5));
    cr_expect_not(pb_floor_off(&f, 420, 0));
}

/* Waiting for the state to come back: a scripted floor, probed until it
 * lies within the factor, or until the budget is spent. */
struct scripted_floor {
    const double *ns;
    unsigned n, probes;
};

static double scripted_probe(void *ctx)
{
    struct scripted_floor *s = ctx;
    double v = s->ns[s->probes < s->n ? s->probes : s->n - 1];
    s->probes++;
    return v;
}

Test(compare, floor_wait_comes_back_or_gives_up)
{
    /* The far placement for two probes, then the usual one. */
    const double away_then_back[] = { 420, 430, 52 };
    struct scripted_floor sf = { away_then_back, 3, 0 };
    struct pb_floor_wait w = { .budget_ms = 5000, .poll_ms = 10, .factor = 1.5,
                               .probe = scripted_probe, .ctx = &sf };
    double last, waited;
    cr_expect_eq(pb_floor_wait(&w, 47, &last, &waited), 1);
    cr_expect_eq(sf.probes, 3);
    cr_expect_float_eq(last, 52, 1e-9);
    cr_expect(waited >= 20 && waited < 5000, "waited %.1f ms", waited);

    /* Already there: one probe, no sleep. */
    sf = (struct scripted_floor){ away_then_back + 2, 1, 0 };
    cr_expect_eq(pb_floor_wait(&w, 47, &last, &waited), 1);
    cr_expect_eq(sf.probes, 1);
    cr_expect(waited < 10, "waited %.1f ms", waited);

    /* Never back: gives up after the budget (not long after it). */
    const double away[] = { 420 };
    sf = (struct scripted_floor){ away, 1, 0 };
    w.budget_ms = 120;
    w.poll_ms = 25;
    cr_expect_eq(pb_floor_wait(&w, 47, &last, &waited), 0);
    cr_expect(waited >= 120 && waited < 2000, "waited %.1f ms", waited);
    cr_expect(sf.probes >= 2 && sf.probes <= 7, "%u probes", sf.probes);   /* fewer: naps overslept under load */
    cr_expect_float_eq(last, 420, 1e-9);

    /* Below counts as away too (the reference was the far one). */
    sf = (struct scripted_floor){ away_then_back + 2, 1, 0 };
    cr_expect_eq(pb_floor_wait(&w, 420, &last, &waited), 0);

    /* Stopped (SIGINT): at once, whatever the budget. */
    volatile sig_atomic_t stop = 1;
    sf = (struct scripted_floor){ away, 1, 0 };
    w.budget_ms = 60000;
    w.stop = &stop;
    cr_expect_eq(pb_floor_wait(&w, 47, &last, &waited), 0);
    cr_expect_eq(sf.probes, 1);
    cr_expect(waited < 1000, "waited %.1f ms", waited);

    /* A probe that fails, and arguments it cannot use. */
    const double failed[] = { 0 };
    sf = (struct scripted_floor){ failed, 1, 0 };
    w.stop = NULL;
    cr_expect_eq(pb_floor_wait(&w, 47, &last, &waited), -1);
    cr_expect_eq(pb_floor_wait(&w, 0, &last, &waited), -1);
    w.probe = NULL;
    cr_expect_eq(pb_floor_wait(&w, 47, &last, &waited), -1);
}
