/* `pendbench compare`: the statistics against known values and a brute
 * force; comparisons of synthetic result files with known differences
 * (latency N(1000, 50) ns against N(1200, 50) ns, throughput +20 %, a
 * change under the threshold, one and three repetitions, cancel rates,
 * unmatched and sweep-like runs), through the C API and through the
 * command (its exit status and messages); and bad input, each exit 2. */
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

#include "pb_compare.h"
#include "pb_history.h"
#include "pb_result.h"
#include "pb_rng.h"

/* The command's own entry point, pb_cmd_compare, compiled in here: the
 * reports tests cannot link bench/pendbench, and this is one line. */
#include "../../bench/pendbench/cmd_compare.c"

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
TestSuite(compare_cli, .init = make_dir, .fini = remove_dir);

static const char *path_in(const char *name)
{
    static char bufs[16][128];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* ---- synthetic results ------------------------------------------------------- */

/* One group of repetitions: scenario, strategies, workload, and the
 * distributions its figures are drawn from. */
struct spec {
    const char *scenario, *pool;
    unsigned requesters;       /* 0: 1 */
    unsigned reps;
    double lat_mean, lat_sd;   /* total latency ~ N(mean, sd), ns */
    unsigned samples;          /* per repetition; 0: 20000 */
    double tput, tput_noise;   /* ops/s, relative sd per repetition */
    uint64_t cancel_attempted; /* per repetition */
    double cancel_rate;
    uint64_t seed;
    bool partial, broken;
};

static void set(struct pb_scenario *s, const char *key, const char *value)
{
    char err[256];
    cr_assert_eq(pb_scenario_set(s, key, value, err, sizeof err), 0, "%s=%s: %s", key, value, err);
}

static double normal(struct pb_rng *rng)
{
    /* Box-Muller; 1 - unit keeps the log away from 0. */
    double u = 1 - pb_rng_unit(rng), v = pb_rng_unit(rng);
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void fill_run(struct pb_run_result *r, const struct spec *sp, unsigned rep)
{
    memset(r, 0, sizeof *r);
    struct pb_scenario *s = &r->scenario;
    pb_scenario_defaults(s);
    set(s, "name", sp->scenario ? sp->scenario : "steady");
    set(s, "pool", sp->pool ? sp->pool : "magazine");
    char n[16];
    snprintf(n, sizeof n, "%u", sp->requesters ? sp->requesters : 1);
    set(s, "requesters", n);
    snprintf(n, sizeof n, "%u", rep + 1);
    set(s, "seed", n);          /* not part of the workload: repetitions may differ */
    struct pb_rng rng;
    pb_rng_seed(&rng, sp->seed, rep);
    r->repetition = rep;
    r->partial = sp->partial && rep == 0;
    r->seconds = 1;
    unsigned samples = sp->samples ? sp->samples : 20000;
    r->throughput_ops_s = sp->tput * (1 + sp->tput_noise * normal(&rng));
    r->issued = r->completed = samples;
    pb_hist_init(&r->total);
    pb_hist_init(&r->queue_wait);
    pb_hist_init(&r->service);
    for (unsigned i = 0; i < samples; i++) {
        double v = sp->lat_mean + sp->lat_sd * normal(&rng);
        pb_hist_record(&r->total, v < 1 ? 1 : (uint64_t)llround(v));
    }
    r->cancel.attempted = sp->cancel_attempted;
    /* Binomial draws: the counts vary as real ones would. */
    for (uint64_t i = 0; i < sp->cancel_attempted; i++)
        r->cancel.won += pb_rng_unit(&rng) < sp->cancel_rate;
    r->cancel.lost = r->cancel.attempted - r->cancel.won;
    r->cancel.success_rate = r->cancel.attempted ? (double)r->cancel.won / (double)r->cancel.attempted : 0;
    r->invariants.ok = !sp->broken;
    r->invariants.issued = r->invariants.completed = samples;
    if (sp->broken)
        snprintf(r->invariants.why, sizeof r->invariants.why, "2 callback data outstanding");
    r->c2c_os_cpu_a = r->c2c_os_cpu_b = -1;
}

/* Writes the groups as one result file. */
static void write_doc(const char *path, const struct spec *specs, unsigned nspecs)
{
    unsigned total = 0;
    for (unsigned i = 0; i < nspecs; i++)
        total += specs[i].reps;
    struct pb_run_result *runs = calloc(total ? total : 1, sizeof *runs);
    cr_assert_not_null(runs);
    unsigned k = 0;
    for (unsigned i = 0; i < nspecs; i++)
        for (unsigned rep = 0; rep < specs[i].reps; rep++)
            fill_run(&runs[k++], &specs[i], rep);
    struct pb_context ctx;
    memset(&ctx, 0, sizeof ctx);
    snprintf(ctx.date, sizeof ctx.date, "2024-05-01T12:00:00Z");
    snprintf(ctx.host, sizeof ctx.host, "testhost");
    snprintf(ctx.cpu_model, sizeof ctx.cpu_model, "Test CPU");
    snprintf(ctx.git_commit, sizeof ctx.git_commit, "abc1234");
    char err[512];
    cr_assert_eq(pb_result_write(path, &ctx, runs, total, err, sizeof err), 0, "%s", err);
    for (unsigned i = 0; i < total; i++)
        pb_run_result_free(&runs[i]);
    free(runs);
}

static void read_doc(const char *path, struct pb_result_doc *doc)
{
    char err[512];
    cr_assert_eq(pb_result_read(path, doc, err, sizeof err), 0, "%s", err);
}

/* A default group: 5 repetitions, latency N(1000, 50), 1 M ops/s +- 1 %. */
static struct spec base_spec(uint64_t seed)
{
    return (struct spec){ .reps = 5, .lat_mean = 1000, .lat_sd = 50, .tput = 1e6,
                          .tput_noise = 0.01, .seed = seed };
}

/* Compares two specs (one group each) through the C API. */
static void compare_specs(const struct spec *b, const struct spec *n, const struct pb_compare_opts *o,
                          struct pb_comparison *c)
{
    write_doc(path_in("base.json"), b, 1);
    write_doc(path_in("new.json"), n, 1);
    struct pb_result_doc db, dn;
    read_doc(path_in("base.json"), &db);
    read_doc(path_in("new.json"), &dn);
    struct pb_compare_opts def;
    pb_compare_opts_default(&def);
    char err[512];
    cr_assert_eq(pb_compare_docs(&db, &dn, o ? o : &def, c, err, sizeof err), 0, "%s", err);
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

/* Runs the command's main function with output captured. */
struct cli_result {
    int status;
    char *out, *err;
    size_t outlen, errlen;
};

static struct cli_result cli(int argc, const char **argv)
{
    struct cli_result r = { 0 };
    FILE *out = open_memstream(&r.out, &r.outlen), *err = open_memstream(&r.err, &r.errlen);
    cr_assert(out && err);
    char *args[32];
    cr_assert_lt(argc, 32);
    for (int i = 0; i < argc; i++)
        args[i] = (char *)argv[i];
    args[argc] = NULL;
    r.status = pb_compare_main(argc, args, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static void cli_free(struct cli_result *r)
{
    free(r->out);
    free(r->err);
}

#define CLI(...)                                                                              \
    cli(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *),                       \
        (const char *[]){ __VA_ARGS__ })

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
    cr_assert(p50->utest && p50->utest_p < 0.01, "p %g", p50->utest_p);
    cr_assert(p50->ci_disjoint);
    cr_assert(p50->change > 15 && p50->change < 25, "%g", p50->change);
    cr_assert_eq(p50->n_base, 5);
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

    /* The other way round: improved, and the command exits 0. */
    struct cli_result r = CLI("compare", path_in("new.json"), path_in("base.json"));
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "0 regressed, 3 improved, 1 unchanged, 1 n/a"), "%s", r.out);
    cli_free(&r);
    r = CLI("compare", path_in("base.json"), path_in("new.json"));
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "3 regressed, 0 improved, 1 unchanged"), "%s", r.out);
    cr_assert(strstr(r.out, "regressed"));
    cli_free(&r);
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
    struct cli_result r = CLI("compare", path_in("a.json"), path_in("a.json"), "--threshold", "0");
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "0 regressed, 0 improved, 9 unchanged"), "%s", r.out);
    cr_assert(strstr(r.out, "no significant change"));
    cli_free(&r);
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
    cr_assert(t->utest && t->utest_p < 0.01, "%g", t->utest_p);
    cr_assert(t->change > 15 && t->change < 25, "%g", t->change);
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
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_UNCHANGED);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_UNCHANGED);
    pb_comparison_free(&c);
    /* With a 1 % threshold, the same change is a regression. */
    struct cli_result r = CLI("compare", "--threshold=1", path_in("base.json"), path_in("new.json"));
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cli_free(&r);
    r = CLI("compare", path_in("base.json"), path_in("new.json"));
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cli_free(&r);
}

Test(compare, one_repetition)
{
    /* No U test: latency falls back on the histogram CIs; throughput is
     * untested and judged by the threshold alone. */
    struct spec b = base_spec(9), n = base_spec(10);
    b.reps = n.reps = 1;
    n.lat_mean = 1200;
    n.tput = 0.7e6;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *p50 = metric(&c, 0, PB_METRIC_P50);
    cr_assert_not(p50->utest);
    cr_assert(p50->tested && p50->ci_disjoint);
    cr_assert(strstr(p50->note, "no U test"), "%s", p50->note);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_REGRESSED);
    const struct pb_compare_metric *t = metric(&c, 0, PB_METRIC_THROUGHPUT);
    cr_assert_not(t->tested);
    cr_assert(strstr(t->note, "untested"), "%s", t->note);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_REGRESSED);
    pb_comparison_free(&c);

    /* A small throughput change with one repetition: within the threshold. */
    n.lat_mean = 1000;
    n.tput = 0.98e6;
    compare_specs(&b, &n, NULL, &c);
    assert_verdict(&c, 0, PB_METRIC_THROUGHPUT, PB_VERDICT_UNCHANGED);
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_UNCHANGED);
    pb_comparison_free(&c);
}

Test(compare, three_repetitions_fall_back_on_histograms)
{
    struct spec b = base_spec(13), n = base_spec(14);
    b.reps = n.reps = 3;
    n.lat_mean = 1200;
    struct pb_comparison c;
    compare_specs(&b, &n, NULL, &c);
    const struct pb_compare_metric *p50 = metric(&c, 0, PB_METRIC_P50);
    cr_assert_not(p50->utest);                /* 2 / C(6, 3) = 0.1 > 0.05 */
    assert_verdict(&c, 0, PB_METRIC_P50, PB_VERDICT_REGRESSED);
    pb_comparison_free(&c);
    /* alpha 0.2 is reachable with 3: the U test runs. */
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    o.alpha = 0.2;
    compare_specs(&b, &n, &o, &c);
    cr_assert(metric(&c, 0, PB_METRIC_P50)->utest);
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
    cr_assert(m->utest && m->proportion_p < 1e-6);
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
    write_doc(path_in("b.json"), bs, 5);
    write_doc(path_in("n.json"), ns, 4);
    struct pb_result_doc db, dn;
    read_doc(path_in("b.json"), &db);
    read_doc(path_in("n.json"), &dn);
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    struct pb_comparison c;
    char err[512];
    cr_assert_eq(pb_compare_docs(&db, &dn, &o, &c, err, sizeof err), 0, "%s", err);
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

    struct cli_result r = CLI("compare", path_in("b.json"), path_in("n.json"));
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "only in BASE: steady malloc"), "%s", r.out);
    cr_assert(strstr(r.out, "only in NEW:  steady jemalloc"), "%s", r.out);
    cr_assert(strstr(r.out, "[requesters=2]"), "%s", r.out);
    cli_free(&r);
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

/* ---- the command --------------------------------------------------------------- */

Test(compare_cli, metric_selection_and_json)
{
    struct spec b = base_spec(50), n = base_spec(51);
    n.lat_mean = 1200;
    write_doc(path_in("b.json"), &b, 1);
    write_doc(path_in("n.json"), &n, 1);
    struct cli_result r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric",
                              "throughput", "--metric=p99.9,cancel", "--json");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    json_error_t je;
    json_t *root = json_loads(r.out, 0, &je);
    cr_assert_not_null(root, "%s: %s", je.text, r.out);
    json_t *runs = json_object_get(root, "runs");
    cr_assert_eq(json_array_size(runs), 1);
    json_t *ms = json_object_get(json_array_get(runs, 0), "metrics");
    cr_assert_eq(json_array_size(ms), 3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 1), "metric")), "p999");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 1), "verdict")), "regressed");
    json_t *u = json_object_get(json_array_get(ms, 1), "mann_whitney");
    cr_assert(json_is_object(u));
    cr_assert_lt(json_real_value(json_object_get(u, "p_value")), 0.05);
    cr_assert_eq(json_array_size(json_object_get(json_array_get(ms, 1), "base_repetitions")), 5);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(root, "summary"), "regressed")), 1);
    cr_assert_eq(json_integer_value(json_object_get(root, "exit_status")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 0), "verdict")), "regressed");
    json_decref(root);
    cli_free(&r);
}

Test(compare_cli, through_pb_cmd_compare)
{
    struct spec b = base_spec(52), n = base_spec(53);
    write_doc(path_in("b.json"), &b, 1);
    n.tput = 0.5e6;
    write_doc(path_in("n.json"), &n, 1);
    char *argv[] = { "compare", (char *)path_in("b.json"), (char *)path_in("n.json"), "--metric",
                     "throughput", NULL };
    cr_assert_eq(pb_cmd_compare(5, argv), 1);
    char *argv2[] = { "compare", (char *)path_in("b.json"), (char *)path_in("b.json"), NULL };
    cr_assert_eq(pb_cmd_compare(3, argv2), 0);
    char *argv3[] = { "compare", (char *)path_in("missing.json"), (char *)path_in("b.json"), NULL };
    cr_assert_eq(pb_cmd_compare(3, argv3), 2);
}

static void expect_bad(struct cli_result r, const char *message)
{
    cr_assert_eq(r.status, 2, "status %d; out: %s; err: %s", r.status, r.out, r.err);
    cr_assert(strstr(r.err, message), "expected '%s' in: %s", message, r.err);
    cli_free(&r);
}

Test(compare_cli, bad_input_exit_2)
{
    struct spec b = base_spec(60);
    char ok[128];
    snprintf(ok, sizeof ok, "%s", path_in("ok.json"));
    write_doc(ok, &b, 1);
    expect_bad(CLI("compare", path_in("missing.json"), ok), "missing.json: cannot open: No such file");
    expect_bad(CLI("compare", ok, path_in("missing.json")), "missing.json: cannot open: No such file");
    write_text(path_in("text.json"), "this is not json\n");
    expect_bad(CLI("compare", path_in("text.json"), ok), "not JSON");
    write_text(path_in("other.json"), "{\"benchmarks\": []}\n");
    expect_bad(CLI("compare", ok, path_in("other.json")), "not a pendbench result");
    write_text(path_in("v99.json"),
               "{\"schema_version\": 99, \"generator\": \"pendbench\", \"context\": {}, \"runs\": []}\n");
    expect_bad(CLI("compare", path_in("v99.json"), ok), "schema_version 99 is newer than this pendbench reads");
    expect_bad(CLI("compare", ok, path_in(".")), "cannot open");
    /* No runs in common. */
    struct spec other = base_spec(61);
    other.pool = "malloc";
    write_doc(path_in("other-pool.json"), &other, 1);
    expect_bad(CLI("compare", ok, path_in("other-pool.json")),
               "no runs in common (BASE: steady magazine/percpu-mpsc/xchg; NEW: steady malloc/percpu-mpsc/xchg)");
    write_doc(path_in("empty.json"), NULL, 0);
    expect_bad(CLI("compare", ok, path_in("empty.json")), "NEW: no runs");
}

Test(compare_cli, bad_usage_exit_2)
{
    struct spec b = base_spec(62);
    char ok[128];
    snprintf(ok, sizeof ok, "%s", path_in("ok.json"));
    write_doc(ok, &b, 1);
    expect_bad(CLI("compare"), "expected two files");
    expect_bad(CLI("compare", ok), "expected two files");
    expect_bad(CLI("compare", ok, ok, ok), "too many files");
    expect_bad(CLI("compare", ok, ok, "--threshold", "-1"), "--threshold: '-1'");
    expect_bad(CLI("compare", ok, ok, "--threshold", "lots"), "--threshold: 'lots'");
    expect_bad(CLI("compare", ok, ok, "--alpha", "1"), "--alpha: '1'");
    expect_bad(CLI("compare", ok, ok, "--alpha=0"), "--alpha: '0'");
    expect_bad(CLI("compare", ok, ok, "--alpha"), "--alpha needs a value");
    expect_bad(CLI("compare", ok, ok, "--metric", "p42"), "--metric: 'p42'");
    expect_bad(CLI("compare", ok, ok, "--frobnicate"), "unknown option '--frobnicate'");
    expect_bad(CLI("compare", "--baseline", "last", ok, ok), "with --baseline, give one file");
    expect_bad(CLI("compare", "--baseline", "last", "--history-db", path_in("none.db"), ok),
               "none.db");
    /* Good values are accepted: threshold 0 and "5%". */
    struct cli_result r = CLI("compare", ok, ok, "--threshold", "5%", "--alpha", "0.01");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cli_free(&r);
    r = CLI("compare", "--help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "usage: pendbench compare"));
    cli_free(&r);
}

/* ---- against the history ---------------------------------------------------------- */

static void record(const char *db, const struct spec *sp, const char *commit)
{
    struct pb_run_result *runs = calloc(sp->reps, sizeof *runs);
    cr_assert_not_null(runs);
    for (unsigned rep = 0; rep < sp->reps; rep++)
        fill_run(&runs[rep], sp, rep);
    struct pb_context ctx;
    memset(&ctx, 0, sizeof ctx);
    snprintf(ctx.host, sizeof ctx.host, "testhost");
    snprintf(ctx.git_commit, sizeof ctx.git_commit, "%s", commit);
    char err[512];
    cr_assert_eq(pb_history_record(db, &ctx, runs, sp->reps, NULL, err, sizeof err), 0, "%s", err);
    for (unsigned rep = 0; rep < sp->reps; rep++)
        pb_run_result_free(&runs[rep]);
    free(runs);
}

Test(compare_cli, baseline_from_history)
{
    char db[128];
    snprintf(db, sizeof db, "%s", path_in("history.db"));
    struct spec old = base_spec(70), last = base_spec(71), n = base_spec(72);
    old.lat_mean = 800;          /* at commit beef1234: faster than now */
    record(db, &old, "beef1234");
    record(db, &last, "cafe5678");
    write_doc(path_in("n.json"), &n, 1);
    /* Against the last recorded run: the same distribution. */
    struct cli_result r = CLI("compare", "--baseline", "last", "--history-db", db, path_in("n.json"));
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "BASE history:last"), "%s", r.out);
    cr_assert(strstr(r.out, "commit cafe5678"), "%s", r.out);
    cli_free(&r);
    /* Against an older commit, by prefix: latency regressed since. */
    r = CLI("compare", "--baseline=beef", "--history-db", db, path_in("n.json"));
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "commit beef1234"), "%s", r.out);
    cli_free(&r);
    /* A commit the history does not have; a damaged database. */
    r = CLI("compare", "--baseline", "dead0000", "--history-db", db, path_in("n.json"));
    cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
    cr_assert(strstr(r.err, "--baseline dead0000: "), "%s", r.err);
    cli_free(&r);
    write_text(path_in("damaged.db"), "this is not an SQLite database, not even close............\n");
    r = CLI("compare", "--baseline", "last", "--history-db", path_in("damaged.db"), path_in("n.json"));
    cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
    cr_assert(strstr(r.err, "damaged.db"), "%s", r.err);
    cli_free(&r);
}
