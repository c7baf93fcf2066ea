/* `pendbench compare`: two result documents, run by run, metric by metric.
 *
 * Matching. A run's configuration is its run key (pb_runkey.h: scenario
 * name, strategies as the file names them, the lock chosen, workload
 * params except duration, ops, warmup and seed, compared on the params
 * both have). The runs of one side with the same key form a group: its
 * repetitions, ordered by repetition number (the order `pendbench ab`
 * pairs them in). Groups match across sides on the key; then a group left
 * over on each side with the same name, strategies and lock is matched
 * anyway, with a warning naming what changed (never across locks: another
 * lock is another configuration). The rest is listed ("only in BASE"), not
 * failed. No match at all is an error.
 *
 * Figures of a side (never an average of percentiles):
 *   throughput  median of the repetitions' ops/s
 *   p50/p99/p999  of the merged histogram of every repetition (total latency)
 *   cancel      won / attempted, both summed over the repetitions
 * The change is relative to BASE in percent; for the cancel success rate
 * it is in percentage points (a rate near 0 would make any relative
 * change huge), and the threshold, the noise floor and max-cv apply to
 * points there. Paired (3+ pairs), the change is the pairs' own estimate:
 * their geometric mean ratio new_i/base_i (cancel: mean difference).
 *
 * The test. Two results of one build differ mostly by what changes between
 * runs (frequency, placement, the rest of the machine), which only the
 * repetitions show; the operations inside a run are correlated in time,
 * so tests that treat them as independent samples (order statistics of
 * the merged histogram) cry wolf on A/A pairs. So the per-repetition
 * figures decide (each repetition's ops/s, its own percentile, its own
 * cancel rate): Welch's t test on their logarithms (a ratio is what
 * changes; the log makes its spread symmetric and the test scale-free),
 * 3+ repetitions a side. Cancel rates are tested as rates (they may be 0)
 * and the two-proportion test on the summed counts must agree: p is the
 * larger of the two. With opts.paired (`pendbench ab` ran repetition i of
 * BASE and NEW back to back), the t test on the log ratios new_i/base_i
 * removes the drift the pairs share; the Wilcoxon signed-rank p is shown
 * beside it when the pair count can reach alpha at all.
 *
 * The family. Every tested metric of every matched run is one hypothesis:
 * 40 of them at 0.05 would give two false alarms on average. The p-values
 * are adjusted together (Holm by default: at most alpha chance that any
 * alarm at all is false).
 *
 * The verdict of a tested metric, in this order:
 *   adjusted p > alpha                            no significant change
 *   |change| <= threshold                         below threshold
 *   either side's robust CV > max_cv_pct          inconclusive (too noisy)
 *     (paired: the robust CV of the pairs' ratios)
 *   |change| <= noise_k x the base's robust CV    within noise
 *     (paired: x the pairs' robust CV)
 *   otherwise                                     improved / regressed
 * The noise floor is the base's own spread, measured in the same minutes
 * with interleaved repetitions and at no extra cost: a change inside k
 * robust sigmas of it cannot be told from its scatter. Paired, the spread
 * that matters is the pairs' (of the ratios new_i/base_i, for cancel of
 * the differences): drift the two builds shared is what pairing removes,
 * so it must neither raise the floor nor make the run "too noisy".
 *
 * Untested (fewer than 3 figures a side, or 3 pairs): no verdict. A
 * verdict needs significance, and one run a side has none: two runs of one
 * build on a shared machine differ by 5-20% in throughput and tail, and
 * the pooled tests (the percentiles' confidence intervals in the merged
 * histograms, the proportion test for cancel) treat correlated operations
 * as independent samples and call nearly every such difference disjoint.
 * So a change beyond the threshold is inconclusive (untested), counted as
 * inconclusive (`--strict` makes it exit 3), never regressed or improved;
 * a change within it is below threshold; the pooled test can still say
 * there is no significant change. The summary says once what to do. When
 * the t test runs, the pooled latency test and the Mann-Whitney U test are
 * information (note, JSON).
 *
 * A run's verdict is its worst metric's; the exit status counts only
 * regressions. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_compare.h"
#include "pb_env.h"
#include "pb_scenario.h"

#define MIN_REPS 3             /* per side (or pairs) for the t test */

static const struct {
    const char *name, *unit;
    double pct;                /* latency percentile; 0: not a latency */
    bool higher_better;
} metric_info[PB_METRIC_COUNT] = {
    [PB_METRIC_THROUGHPUT] = { "throughput", "ops/s", 0, true },
    [PB_METRIC_P50] = { "p50", "ns", 50, false },
    [PB_METRIC_P99] = { "p99", "ns", 99, false },
    [PB_METRIC_P999] = { "p999", "ns", 99.9, false },
    [PB_METRIC_CANCEL] = { "cancel", "rate", 0, true },
};

const char *pb_metric_name(enum pb_metric m)
{
    return (unsigned)m < PB_METRIC_COUNT ? metric_info[m].name : "?";
}

int pb_metric_parse(const char *name, enum pb_metric *m)
{
    static const struct { const char *name; enum pb_metric m; } alias[] = {
        { "p99.9", PB_METRIC_P999 }, { "tput", PB_METRIC_THROUGHPUT },
        { "ops", PB_METRIC_THROUGHPUT }, { "cancel-rate", PB_METRIC_CANCEL },
    };
    for (unsigned i = 0; i < PB_METRIC_COUNT; i++)
        if (strcmp(name, metric_info[i].name) == 0) {
            *m = (enum pb_metric)i;
            return 0;
        }
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(name, alias[i].name) == 0) {
            *m = alias[i].m;
            return 0;
        }
    return -1;
}

const char *pb_verdict_name(enum pb_verdict v)
{
    switch (v) {
    case PB_VERDICT_UNCHANGED: return "unchanged";
    case PB_VERDICT_INCONCLUSIVE: return "inconclusive";
    case PB_VERDICT_IMPROVED: return "improved";
    case PB_VERDICT_REGRESSED: return "regressed";
    default: return "n/a";
    }
}

void pb_compare_opts_default(struct pb_compare_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threshold_pct = 5;
    o->alpha = 0.05;
    o->metrics = PB_METRIC_ALL;
    o->correction = PB_CORRECT_HOLM;
    o->noise_k = 3;
    o->max_cv_pct = 15;
    o->floor_factor = PB_FLOOR_FACTOR_DEFAULT;
    o->paired = false;
    o->metrics_chosen = false;
}

/* ---- options ------------------------------------------------------------------------ */

/* The options' one strict number (pb_number_prefix: strtod took " 1",
 * "+1" and "0x0.1"), and a '%' after it. */
static bool parse_double(const char *s, double *out)
{
    const char *end;
    double v;
    if (pb_number_prefix(s, &v, &end) != 0)
        return false;
    if (*end == '%' && end[1] == 0)
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

/* Presets: what each is for is in the help text. */
#define METRICS_GATE ((1u << PB_METRIC_THROUGHPUT) | (1u << PB_METRIC_P50) | (1u << PB_METRIC_P99))
#define METRICS_LATENCY ((1u << PB_METRIC_P50) | (1u << PB_METRIC_P99) | (1u << PB_METRIC_P999))

static int parse_metrics(const char *list, unsigned *set)
{
    char buf[256];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
        return -1;
    /* strtok_r skips empty items: 'p50,' or 'p50,,p99' would pass. */
    size_t len = strlen(list);
    if (len == 0 || list[0] == ',' || list[len - 1] == ',' || strstr(list, ",,"))
        return -1;
    char *save = NULL;
    int n = 0;
    *set = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        enum pb_metric m;
        if (strcmp(t, "gate") == 0)
            *set |= METRICS_GATE;
        else if (strcmp(t, "latency") == 0)
            *set |= METRICS_LATENCY;
        else if (strcmp(t, "all") == 0)
            *set |= PB_METRIC_ALL;
        else if (pb_metric_parse(t, &m) == 0)
            *set |= 1u << m;
        else
            return -1;
        n++;
    }
    return n ? 0 : -1;
}

int pb_compare_option(const char *key, const char *value, struct pb_compare_opts *o,
                      char *err, size_t errlen)
{
    static const char *const keys[] = { "threshold", "alpha", "metric", "correction",
                                        "noise-k", "max-cv", "floor-factor" };
    if (key && strcmp(key, "strict") == 0) {
        if (value) {
            snprintf(err, errlen, "--strict: takes no value");
            return -1;
        }
        o->strict = true;
        return 1;
    }
    bool mine = false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        mine |= key && strcmp(key, keys[i]) == 0;
    if (!mine)
        return 0;
    if (!value || !value[0]) {
        snprintf(err, errlen, "--%s: needs a value", key);
        return -1;
    }
    double v;
    if (strcmp(key, "threshold") == 0) {
        if (!parse_double(value, &v) || v < 0) {
            snprintf(err, errlen, "--threshold: '%s' is not a percentage >= 0", value);
            return -1;
        }
        o->threshold_pct = v;
    } else if (strcmp(key, "alpha") == 0) {
        if (!parse_double(value, &v) || !(v > 0 && v < 1)) {
            snprintf(err, errlen, "--alpha: '%s' is not a level between 0 and 1 (exclusive)",
                     value);
            return -1;
        }
        o->alpha = v;
    } else if (strcmp(key, "metric") == 0) {
        unsigned set;
        if (parse_metrics(value, &set) != 0) {
            snprintf(err, errlen, "--metric: '%s' is not a list of throughput, p50, p99, p999, "
                                  "cancel or the presets gate, latency, all", value);
            return -1;
        }
        o->metrics = o->metrics_chosen ? o->metrics | set : set;
        o->metrics_chosen = true;
    } else if (strcmp(key, "correction") == 0) {
        if (pb_correction_parse(value, &o->correction) != 0) {
            snprintf(err, errlen, "--correction: '%s' is not holm, bh or none", value);
            return -1;
        }
    } else if (strcmp(key, "noise-k") == 0) {
        if (!parse_double(value, &v) || v < 0 || strchr(value, '%')) {
            snprintf(err, errlen, "--noise-k: '%s' is not a number >= 0", value);
            return -1;
        }
        o->noise_k = v;
    } else if (strcmp(key, "floor-factor") == 0) {
        if (!parse_double(value, &v) || (v != 0 && v < 1) || strchr(value, '%')) {
            snprintf(err, errlen, "--floor-factor: '%s' is not 0 (off) or a factor >= 1", value);
            return -1;
        }
        o->floor_factor = v;
    } else {
        if (!parse_double(value, &v) || !(v > 0)) {
            snprintf(err, errlen, "--max-cv: '%s' is not a percentage > 0", value);
            return -1;
        }
        o->max_cv_pct = v;
    }
    return 1;
}

/* ---- grouping and matching ----------------------------------------------------- */

struct group {
    const struct pb_result_run *runs[PB_COMPARE_MAX_REPS];
    unsigned idx[PB_COMPARE_MAX_REPS];   /* in the document's runs */
    unsigned n, dropped;
    struct pb_runkey key;
    int partner;               /* index in the other side's groups, or -1 */
    bool fuzzy;                /* matched on the name and strategies alone */
};

struct side {
    struct group *g;
    unsigned n;
};

static void append(char *buf, size_t size, const char *sep, const char *text)
{
    size_t len = strlen(buf);
    /* Truncation is acceptable: the text is for a person; the return value
     * is only taken to say so. */
    if (len + 1 < size && snprintf(buf + len, size - len, "%s%s", len ? sep : "", text) < 0)
        buf[len] = 0;
}

static int group_side(const struct pb_result_doc *doc, struct side *s)
{
    s->g = calloc(doc->nruns ? doc->nruns : 1, sizeof *s->g);
    s->n = 0;
    struct pb_runkey *key = malloc(sizeof *key);
    if (!s->g || !key) {
        free(key);
        return -1;
    }
    for (unsigned i = 0; i < doc->nruns; i++) {
        const struct pb_result_run *run = &doc->runs[i];
        /* A workload too long to hold whole still compares on what it holds. */
        (void)pb_runkey_of_run(run, key);
        struct group *g = NULL;
        for (unsigned k = 0; k < s->n && !g; k++)
            if (pb_runkey_same(&s->g[k].key, key))
                g = &s->g[k];
        if (!g) {
            g = &s->g[s->n++];
            g->key = *key;
            g->partner = -1;
        }
        if (g->n == PB_COMPARE_MAX_REPS) {
            g->dropped++;
            continue;
        }
        /* In repetition order (stable): pairs are formed by position. */
        unsigned at = g->n;
        while (at > 0 && g->runs[at - 1]->r.repetition > run->r.repetition) {
            g->runs[at] = g->runs[at - 1];
            g->idx[at] = g->idx[at - 1];
            at--;
        }
        g->runs[at] = run;
        g->idx[at] = i;
        g->n++;
    }
    free(key);
    return 0;
}

static void match(struct side *b, struct side *n)
{
    for (unsigned i = 0; i < b->n; i++)
        for (unsigned k = 0; k < n->n; k++)
            if (n->g[k].partner < 0 && pb_runkey_same(&b->g[i].key, &n->g[k].key)) {
                b->g[i].partner = (int)k;
                n->g[k].partner = (int)i;
                break;
            }
    /* Left over: the only unmatched group with this name on each side. */
    for (unsigned i = 0; i < b->n; i++) {
        if (b->g[i].partner >= 0)
            continue;
        int cand = -1, count = 0;
        for (unsigned k = 0; k < n->n; k++)
            if (n->g[k].partner < 0 && pb_runkey_same_name(&b->g[i].key, &n->g[k].key)) {
                cand = (int)k;
                count++;
            }
        int others = 0;
        for (unsigned j = 0; j < b->n; j++)
            if (j != i && b->g[j].partner < 0 && pb_runkey_same_name(&b->g[i].key, &b->g[j].key))
                others++;
        if (count == 1 && others == 0) {
            b->g[i].partner = cand;
            b->g[i].fuzzy = true;
            n->g[cand].partner = (int)i;
            n->g[cand].fuzzy = true;
        }
    }
}

/* The params that tell g from the groups with its name and strategies but
 * another workload, on either side ("requesters=4, workers=4"); a partner
 * matched despite another workload says so in a warning instead. */
static int workload_label(const struct group *g, const struct group *partner,
                          const struct side *sides[2], char *out, size_t size)
{
    unsigned total = sides[0]->n + sides[1]->n, n = 0;
    const struct pb_runkey **others = malloc((total ? total : 1) * sizeof *others);
    if (!others)
        return -1;
    for (int s = 0; s < 2; s++)
        for (unsigned k = 0; k < sides[s]->n; k++)
            if (&sides[s]->g[k] != g && &sides[s]->g[k] != partner)
                others[n++] = &sides[s]->g[k].key;
    pb_runkey_distinguishing(&g->key, others, n, out, size);
    free(others);
    return 0;
}

static void run_label(const struct group *g, const char *workload, char *out, size_t size)
{
    char reps[48];
    snprintf(reps, sizeof reps, " (%u repetition%s)", g->n + g->dropped,
             g->n + g->dropped == 1 ? "" : "s");
    pb_runkey_format(&g->key, workload, out, size);
    append(out, size, "", reps);
}

/* ---- the figures ------------------------------------------------------------------- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(const double *v, unsigned n)
{
    if (!n)
        return NAN;
    double s[PB_COMPARE_MAX_REPS];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* The robust sigma of rates in percentage points: the cancel metric's
 * spread is in the unit of its change (a relative spread of rates near 0
 * would be huge). NAN under 3. */
static double robust_sigma_points(const double *v, unsigned n)
{
    if (n < MIN_REPS)
        return NAN;
    double med = median(v, n), dev[PB_COMPARE_MAX_REPS];
    for (unsigned i = 0; i < n; i++)
        dev[i] = fabs(v[i] - med);
    return 1.4826 * median(dev, n) * 100;
}

/* One side's figures: the side's value, each repetition's (rep[], NAN
 * where it has none, in group order), the finite ones packed (values[]),
 * and for latency the merged histogram's CI, for cancel the sums. False
 * when the side has no data. */
struct side_figures {
    double value;
    double rep[PB_COMPARE_MAX_REPS];
    double values[PB_COMPARE_MAX_REPS];
    unsigned n;
    double ci_lo, ci_hi;
    uint64_t won, attempted;
};

static bool figures(const struct group *g, enum pb_metric m, double alpha, struct pb_hist *merged,
                    struct side_figures *f)
{
    memset(f, 0, sizeof *f);
    f->value = f->ci_lo = f->ci_hi = NAN;
    for (unsigned i = 0; i < g->n; i++)
        f->rep[i] = NAN;
    if (m == PB_METRIC_THROUGHPUT) {
        for (unsigned i = 0; i < g->n; i++)
            if (isfinite(g->runs[i]->r.throughput_ops_s))
                f->values[f->n++] = f->rep[i] = g->runs[i]->r.throughput_ops_s;
        f->value = median(f->values, f->n);
        return f->n > 0;
    }
    if (m == PB_METRIC_CANCEL) {
        for (unsigned i = 0; i < g->n; i++) {
            const struct pb_cancel_outcomes *c = &g->runs[i]->r.cancel;
            f->won += c->won;
            f->attempted += c->attempted;
            if (c->attempted)
                f->values[f->n++] = f->rep[i] = (double)c->won / (double)c->attempted;
        }
        if (!f->attempted)
            return false;
        f->value = (double)f->won / (double)f->attempted;
        return true;
    }
    double pct = metric_info[m].pct;
    pb_hist_init(merged);
    for (unsigned i = 0; i < g->n; i++) {
        const struct pb_hist *h = &g->runs[i]->r.total;
        pb_hist_merge(merged, h);
        if (h->count)
            f->values[f->n++] = f->rep[i] = (double)pb_hist_percentile(h, pct);
    }
    if (!merged->count)
        return false;
    f->value = (double)pb_hist_percentile(merged, pct);
    pb_hist_percentile_ci(merged, pct, 1 - alpha, &f->ci_lo, &f->ci_hi);
    return true;
}

static void fmt_p(char *buf, size_t size, double p)
{
    if (!isfinite(p))
        snprintf(buf, size, "-");
    else if (p < 0.001)
        snprintf(buf, size, "<0.001");
    else
        snprintf(buf, size, "%.3f", p);
}

/* What the test sees of a figure: its log (a ratio is what changes), or
 * for cancel the rate itself (it may be 0). False: not usable. */
static bool test_scale(enum pb_metric m, double v, double *out)
{
    if (m == PB_METRIC_CANCEL) {
        *out = v;
        return isfinite(v);
    }
    if (!(v > 0) || !isfinite(v))
        return false;
    *out = log(v);
    return true;
}

/* The test that decides (see the top of the file); sets tested, test,
 * p_raw, t, df, npairs, wilcoxon_p, and the note. */
static void run_test(const struct group *gb, const struct group *gn, enum pb_metric m,
                     const struct pb_compare_opts *o, const struct side_figures *fb,
                     const struct side_figures *fn, struct pb_compare_metric *out)
{
    bool cancel = m == PB_METRIC_CANCEL;
    char extra[64] = "";
    if (o->paired) {
        unsigned np = gb->n < gn->n ? gb->n : gn->n, k = 0;
        double d[PB_COMPARE_MAX_REPS], ratio[PB_COMPARE_MAX_REPS], xb, xn;
        for (unsigned i = 0; i < np; i++)
            if (test_scale(m, fb->rep[i], &xb) && test_scale(m, fn->rep[i], &xn)) {
                d[k] = xn - xb;   /* log(new / base); cancel: the rate difference */
                ratio[k++] = cancel ? 0 : fn->rep[i] / fb->rep[i];
            }
        out->npairs = k;
        /* The pairs' own scatter: the drift both builds saw is not in it. */
        out->cv_pairs = cancel ? robust_sigma_points(d, k) : pb_robust_cv_pct(ratio, k);
        if (k >= MIN_REPS) {
            /* The pairs estimate the change better than two medians of
             * drifting sides: their geometric mean ratio (cancel: mean
             * difference, points). */
            double mean = 0;
            for (unsigned i = 0; i < k; i++)
                mean += d[i] / k;
            out->change = cancel ? mean * 100 : (exp(mean) - 1) * 100;
            out->p_raw = pb_one_sample_t_p(d, k, &out->t);
            out->df = k - 1;
            snprintf(out->test, sizeof out->test, cancel ? "paired-t+counts" : "paired-t-log");
            if (pb_wilcoxon_min_p(k) <= o->alpha) {
                out->wilcoxon_p = pb_wilcoxon_signed_rank_p(d, k, NULL);
                char p[16];
                fmt_p(p, sizeof p, out->wilcoxon_p);
                snprintf(extra, sizeof extra, ", W p=%s", p);
            } else {
                unsigned need = k;
                while (pb_wilcoxon_min_p(need) > o->alpha && need < PB_COMPARE_MAX_REPS)
                    need++;
                snprintf(extra, sizeof extra, " (W: %u+ pairs)", need);
            }
        }
        snprintf(out->note, sizeof out->note, "%s %u pair%s%s", out->test[0] ? out->test : "untested",
                 k, k == 1 ? "" : "s", extra);
    } else {
        double lb[PB_COMPARE_MAX_REPS], ln[PB_COMPARE_MAX_REPS];
        unsigned kb = 0, kn = 0;
        for (unsigned i = 0; i < fb->n; i++)
            kb += test_scale(m, fb->values[i], &lb[kb]);
        for (unsigned i = 0; i < fn->n; i++)
            kn += test_scale(m, fn->values[i], &ln[kn]);
        if (kb >= MIN_REPS && kn >= MIN_REPS) {
            out->p_raw = pb_welch_t_p(lb, kb, ln, kn, &out->t, &out->df);
            snprintf(out->test, sizeof out->test, cancel ? "welch+counts" : "welch-log");
        }
        snprintf(out->note, sizeof out->note, "%s %u/%u", out->test[0] ? out->test : "untested",
                 kb, kn);
    }
    out->tested = out->test[0] && !isnan(out->p_raw);
    if (!out->tested) {
        out->test[0] = 0;
        out->p_raw = NAN;
    } else if (cancel && out->pooled && out->proportion_p > out->p_raw) {
        /* Both must find it: the larger p (an intersection-union test). */
        out->p_raw = out->proportion_p;
    }
}

static void compare_metric(const struct group *gb, const struct group *gn, enum pb_metric m,
                           const struct pb_compare_opts *o, struct pb_hist *scratch,
                           struct pb_compare_metric *out)
{
    memset(out, 0, sizeof *out);
    out->metric = m;
    out->verdict = PB_VERDICT_NA;
    out->reason = PB_REASON_NO_DATA;
    out->utest_p = out->proportion_p = out->p_raw = out->p_adj = NAN;
    out->t = out->df = out->wilcoxon_p = NAN;
    out->cv_base = out->cv_new = out->cv_pairs = out->noise_floor = NAN;
    out->base_ci_lo = out->base_ci_hi = out->new_ci_lo = out->new_ci_hi = NAN;
    struct side_figures fb, fn;
    bool hb = figures(gb, m, o->alpha, scratch, &fb);
    bool hn = figures(gn, m, o->alpha, scratch, &fn);
    out->base = fb.value;
    out->new_value = fn.value;
    out->n_base = fb.n;
    out->n_new = fn.n;
    memcpy(out->base_values, fb.values, fb.n * sizeof fb.values[0]);
    memcpy(out->new_values, fn.values, fn.n * sizeof fn.values[0]);
    if (!hb || !hn) {
        snprintf(out->note, sizeof out->note, "%s in %s",
                 m == PB_METRIC_CANCEL ? "no cancels" : "no data",
                 !hb && !hn ? "either" : !hb ? "BASE" : "NEW");
        return;
    }
    out->available = true;
    if (m == PB_METRIC_CANCEL)
        out->change = (fn.value - fb.value) * 100;
    else if (fb.value != 0)
        out->change = (fn.value - fb.value) / fabs(fb.value) * 100;
    else
        out->change = fn.value == 0 ? 0 : fn.value > 0 ? INFINITY : -INFINITY;

    if (m == PB_METRIC_CANCEL) {
        out->cv_base = robust_sigma_points(fb.values, fb.n);
        out->cv_new = robust_sigma_points(fn.values, fn.n);
    } else {
        out->cv_base = pb_robust_cv_pct(fb.values, fb.n);
        out->cv_new = pb_robust_cv_pct(fn.values, fn.n);
    }

    if (fb.n && fn.n && pb_mann_whitney_min_p(fb.n, fn.n) <= o->alpha) {
        out->utest = true;
        out->utest_p = pb_mann_whitney_p(fb.values, fb.n, fn.values, fn.n, NULL);
    }
    char pooled[48] = "";
    if (metric_info[m].pct > 0) {
        out->pooled = true;
        out->base_ci_lo = fb.ci_lo;
        out->base_ci_hi = fb.ci_hi;
        out->new_ci_lo = fn.ci_lo;
        out->new_ci_hi = fn.ci_hi;
        out->ci_disjoint = fb.ci_hi < fn.ci_lo || fn.ci_hi < fb.ci_lo;
        snprintf(pooled, sizeof pooled, "CI %s", out->ci_disjoint ? "disjoint" : "overlap");
    } else if (m == PB_METRIC_CANCEL) {
        out->pooled = true;
        out->proportion_p = pb_two_proportion_p(fb.won, fb.attempted, fn.won, fn.attempted);
        char p[16];
        fmt_p(p, sizeof p, out->proportion_p);
        snprintf(pooled, sizeof pooled, "counts p=%s", p);
    }
    run_test(gb, gn, m, o, &fb, &fn, out);
    double spread = o->paired ? out->cv_pairs : out->cv_base;
    if (isfinite(spread))
        out->noise_floor = o->noise_k * spread;
    /* The pooled test is part of the note where it can veto (untested) or
     * is part of the test (cancel); the U test is only in the JSON. */
    if (pooled[0] && (!out->tested || m == PB_METRIC_CANCEL))
        append(out->note, sizeof out->note, ", ", pooled);
}

/* The verdict, once p_adj is known (the rule at the top of the file). */
static void decide(struct pb_compare_metric *m, const struct pb_compare_opts *o)
{
    if (!m->available) {
        m->verdict = PB_VERDICT_NA;
        m->reason = PB_REASON_NO_DATA;
        return;
    }
    double mag = fabs(m->change);
    m->verdict = PB_VERDICT_UNCHANGED;
    if (m->tested) {
        bool better = metric_info[m->metric].higher_better ? m->change > 0 : m->change < 0;
        m->significant = m->p_adj <= o->alpha;
        if (!m->significant)
            m->reason = PB_REASON_NOT_SIGNIFICANT;
        else if (!(mag > o->threshold_pct))
            m->reason = PB_REASON_BELOW_THRESHOLD;
        else if (o->paired ? m->cv_pairs > o->max_cv_pct
                           : m->cv_base > o->max_cv_pct || m->cv_new > o->max_cv_pct) {
            m->reason = PB_REASON_TOO_NOISY;
            m->verdict = PB_VERDICT_INCONCLUSIVE;
        } else if (isfinite(m->noise_floor) && !(mag > m->noise_floor))
            m->reason = PB_REASON_WITHIN_NOISE;
        else {
            m->reason = PB_REASON_CHANGED;
            m->verdict = better ? PB_VERDICT_IMPROVED : PB_VERDICT_REGRESSED;
        }
        return;
    }
    bool veto = m->pooled && (m->metric == PB_METRIC_CANCEL ? !(m->proportion_p <= o->alpha)
                                                            : !m->ci_disjoint);
    /* No test, no verdict (the rule at the top of the file): a change
     * beyond the threshold is inconclusive. Repetitions the screen left
     * out say the machine changed under them; too few to test for another
     * reason (runs made once) say nothing about the machine. */
    if (!(mag > o->threshold_pct))
        m->reason = PB_REASON_BELOW_THRESHOLD;
    else if (m->screened)
        m->reason = PB_REASON_SCREENED;
    else if (veto)
        m->reason = PB_REASON_NOT_SIGNIFICANT;
    else
        m->reason = PB_REASON_UNTESTED;
    if (m->reason == PB_REASON_SCREENED || m->reason == PB_REASON_UNTESTED)
        m->verdict = PB_VERDICT_INCONCLUSIVE;
}

const char *pb_compare_verdict_words(const struct pb_compare_metric *m, char *buf, size_t size)
{
    const char *w;
    switch (m->reason) {
    case PB_REASON_NOT_SIGNIFICANT: w = "no significant change"; break;
    case PB_REASON_BELOW_THRESHOLD: w = "below threshold"; break;
    case PB_REASON_TOO_NOISY: w = "inconclusive (too noisy)"; break;
    case PB_REASON_WITHIN_NOISE: w = "within noise"; break;
    case PB_REASON_SCREENED: w = "inconclusive (machine state changed)"; break;
    case PB_REASON_UNTESTED: w = "inconclusive"; break;
    case PB_REASON_CHANGED: w = pb_verdict_name(m->verdict); break;
    default: w = "n/a"; break;
    }
    snprintf(buf, size, "%s%s", w, m->available && !m->tested && !m->screened ? " (untested)" : "");
    return buf;
}

static void row_warning(struct pb_compare_row *row, const char *fmt, const char *side,
                        const char *detail)
{
    if (row->nwarnings < sizeof row->warnings / sizeof row->warnings[0] &&
        snprintf(row->warnings[row->nwarnings], sizeof row->warnings[0], fmt, side, detail) >= 0)
        row->nwarnings++;
}

static void side_warnings(struct pb_compare_row *row, const struct group *g, const char *side)
{
    unsigned partial = 0, failed = 0, empty = 0, busy = 0;
    double busiest = 0;
    const char *why = "";
    for (unsigned i = 0; i < g->n; i++) {
        partial += g->runs[i]->r.partial;
        empty += g->runs[i]->r.total.count == 0;
        double others = g->runs[i]->r.others_pct;     /* -1: not recorded (older files) */
        if (others >= PB_OTHERS_BUSY_PCT) {
            busy++;
            busiest = others > busiest ? others : busiest;
        }
        if (!g->runs[i]->r.invariants.ok) {
            if (!failed)
                why = g->runs[i]->r.invariants.why;
            failed++;
        }
    }
    char detail[160];
    if (partial) {
        snprintf(detail, sizeof detail, "%u of %u", partial, g->n);
        row_warning(row, "%s: %s repetitions partial (stopped early): compare with care", side,
                    detail);
    }
    if (empty) {
        /* Its throughput (0) still counts in the median: it is what was measured. */
        snprintf(detail, sizeof detail, "%u of %u", empty, g->n);
        row_warning(row, "%s: %s repetitions measured no operation", side, detail);
    }
    if (busy) {
        /* A warning, not a screen: what the repetitions measured is kept
         * (the session's stall guard already left their windows unjudged). */
        snprintf(detail, sizeof detail, "%u of %u repetitions ran while other processes took "
                 "%.0f%% or more of the CPU time (at most %.0f%%)", busy, g->n,
                 PB_OTHERS_BUSY_PCT, busiest);
        row_warning(row, "%s: %s: compare with care", side, detail);
    }
    if (failed) {
        snprintf(detail, sizeof detail, "%u of %u repetitions: %.120s", failed, g->n, why);
        row_warning(row, "%s: invariants FAILED in %s", side, detail);
    }
    if (g->dropped) {
        snprintf(detail, sizeof detail, "%u", g->dropped);
        row_warning(row, "%s: more than 64 repetitions; %s ignored", side, detail);
    }
}

static void doc_warning(struct pb_comparison *c, const char *text)
{
    if (c->nwarnings < sizeof c->warnings / sizeof c->warnings[0])
        snprintf(c->warnings[c->nwarnings++], sizeof c->warnings[0], "%s", text);
}

static void context_warnings(struct pb_comparison *c, const struct pb_result_doc *b,
                             const struct pb_result_doc *n)
{
    char text[240];
    if ((b->ctx.host[0] && n->ctx.host[0] && strcmp(b->ctx.host, n->ctx.host) != 0) ||
        (b->ctx.cpu_model[0] && n->ctx.cpu_model[0] &&
         strcmp(b->ctx.cpu_model, n->ctx.cpu_model) != 0)) {
        snprintf(text, sizeof text, "measured on different machines: BASE %.40s (%.50s), NEW %.40s (%.50s)",
                 b->ctx.host, b->ctx.cpu_model, n->ctx.host, n->ctx.cpu_model);
        doc_warning(c, text);
    }
    if (b->ctx.partial)
        doc_warning(c, "BASE: the session was interrupted (partial): some runs may be missing");
    if (n->ctx.partial)
        doc_warning(c, "NEW: the session was interrupted (partial): some runs may be missing");
}

static void list_groups(const struct side *s, char *out, size_t size)
{
    out[0] = 0;
    for (unsigned i = 0; i < s->n && i < 3; i++) {
        const struct pb_runkey *k = &s->g[i].key;
        char item[5 * PB_NAME_MAX + 24];
        snprintf(item, sizeof item, "%s %s/%s/%s%s%s%s", k->scenario, k->pool, k->queue,
                 k->handoff, k->lock[0] ? " [lock " : "", k->lock, k->lock[0] ? "]" : "");
        append(out, size, ", ", item);
    }
    if (s->n > 3) {
        char more[32];
        snprintf(more, sizeof more, "and %u more", s->n - 3);
        append(out, size, ", ", more);
    }
    if (!s->n)
        snprintf(out, size, "no runs");
}

/* Adjusts the p-values of every tested metric together, then decides. */
static int adjust_and_decide(struct pb_comparison *c)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->nrows; i++)
        for (unsigned k = 0; k < c->rows[i].nmetrics; k++)
            n += c->rows[i].metrics[k].tested;
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!p)
        return -1;
    unsigned at = 0;
    for (unsigned i = 0; i < c->nrows; i++)
        for (unsigned k = 0; k < c->rows[i].nmetrics; k++)
            if (c->rows[i].metrics[k].tested)
                p[at++] = c->rows[i].metrics[k].p_raw;
    pb_adjust_p(p, n, c->opts.correction);
    c->family = n;
    at = 0;
    for (unsigned i = 0; i < c->nrows; i++) {
        struct pb_compare_row *row = &c->rows[i];
        row->verdict = PB_VERDICT_NA;
        for (unsigned k = 0; k < row->nmetrics; k++) {
            struct pb_compare_metric *m = &row->metrics[k];
            if (m->tested)
                m->p_adj = p[at++];
            decide(m, &c->opts);
            switch (m->verdict) {
            case PB_VERDICT_REGRESSED: c->regressed++; break;
            case PB_VERDICT_IMPROVED: c->improved++; break;
            case PB_VERDICT_UNCHANGED: c->unchanged++; break;
            case PB_VERDICT_INCONCLUSIVE: c->inconclusive++; break;
            default: c->not_available++; break;
            }
            c->untested += m->available && !m->tested && !m->screened;
            c->untested_changed += m->reason == PB_REASON_UNTESTED;
            /* n/a < unchanged < inconclusive < improved < regressed */
            if (m->verdict > row->verdict)
                row->verdict = m->verdict;
        }
    }
    free(p);
    return 0;
}

/* ---- the floor screen ------------------------------------------------------------- */

/* The c2c floor is the machine's state as each run saw it (measured before
 * and after its window). On this project's VM the same two vCPUs bounce a
 * line in 70 ns most of the time, in 400 ns for seconds at a time (the
 * host put them on different sockets) and now and then in 30 ns (SMT
 * siblings): about a quarter of the runs of a gate check were in another
 * state than the majority, and their figures moved 2-3x with it. A run
 * measured in another state is another experiment, and no test on its
 * figures can tell that from a code change. So a repetition off the floor
 * (pb_floor_off, against the median floor of every matched repetition of
 * both sides) is left out; paired, its partner goes with it. Symmetric for
 * both sides, so it cannot manufacture a difference; the row and the
 * summary say what was left out. */

void pb_floor_state_of(const struct pb_run_result *r, struct pb_floor_state *out)
{
    memset(out, 0, sizeof *out);
    int a = r->c2c_os_cpu_a, b = r->c2c_os_cpu_b;
    out->cpu_lo = a < b ? a : b;
    out->cpu_hi = a < b ? b : a;
    if (!(r->c2c_round_trip_ns > 0))
        return;
    out->start_ns = r->c2c_start.median_ns > 0 ? r->c2c_start.median_ns : r->c2c_round_trip_ns;
    out->end_ns = r->c2c_end.median_ns > 0 ? r->c2c_end.median_ns : out->start_ns;
    out->unstable = r->floor_unstable;
}

static bool same_cpus(const struct pb_floor_state *a, const struct pb_floor_state *b)
{
    return a->cpu_lo == b->cpu_lo && a->cpu_hi == b->cpu_hi;
}

double pb_floor_reference(const struct pb_floor_state *f, unsigned n)
{
    return pb_floor_reference_like(f, n, NULL);
}

/* like NULL: all of them. */
double pb_floor_reference_like(const struct pb_floor_state *f, unsigned n,
                               const struct pb_floor_state *like)
{
    double *v = malloc((n ? 2 * (size_t)n : 1) * sizeof *v);
    if (!v)
        return 0;
    unsigned k = 0;
    for (unsigned i = 0; i < n; i++) {
        if (like && !same_cpus(&f[i], like))
            continue;
        if (f[i].start_ns > 0)
            v[k++] = f[i].start_ns;
        if (f[i].end_ns > 0)
            v[k++] = f[i].end_ns;
    }
    qsort(v, k, sizeof *v, cmp_double);
    double ref = k ? (k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2])) : 0;
    free(v);
    return ref;
}

bool pb_floor_off(const struct pb_floor_state *f, double ref, double factor)
{
    if (!(f->start_ns > 0) || !(ref > 0) || !(factor >= 1))
        return false;
    if (f->unstable)
        return true;
    double hi = f->start_ns > f->end_ns ? f->start_ns : f->end_ns;
    double lo = f->start_ns < f->end_ns ? f->start_ns : f->end_ns;
    return hi > factor * ref || lo * factor < ref;
}

static double monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int pb_floor_wait(const struct pb_floor_wait *w, double ref, double *last_ns, double *waited_ms)
{
    double t0 = monotonic_ms();
    *last_ns = 0;
    *waited_ms = 0;
    if (!w->probe || !(ref > 0) || !(w->factor >= 1))
        return -1;
    struct pb_floor_state now = { 0 };
    for (;;) {
        double f = w->probe(w->ctx);
        *waited_ms = monotonic_ms() - t0;
        if (!(f > 0))
            return -1;
        *last_ns = f;
        now.start_ns = now.end_ns = f;
        if (!pb_floor_off(&now, ref, w->factor))
            return 1;
        double left = (double)w->budget_ms - *waited_ms;
        if (left <= 0 || (w->stop && *w->stop))
            return 0;
        double nap = w->poll_ms < left ? w->poll_ms : left;
        struct timespec ts = { (time_t)(nap / 1e3), (long)(fmod(nap, 1e3) * 1e6) };
        nanosleep(&ts, NULL);      /* EINTR (SIGINT): the stop check above ends it */
        if (w->stop && *w->stop) {
            *waited_ms = monotonic_ms() - t0;
            return 0;
        }
    }
}

double pb_floor_reference_in_doc(const struct pb_result_doc *d, const struct pb_run_result *like)
{
    struct pb_floor_state *f = malloc((d->nruns ? d->nruns : 1) * sizeof *f);
    if (!f)
        return 0;
    for (unsigned i = 0; i < d->nruns; i++)
        pb_floor_state_of(&d->runs[i].r, &f[i]);
    struct pb_floor_state l;
    pb_floor_state_of(like, &l);
    double ref = pb_floor_reference_like(f, d->nruns, &l);
    free(f);
    return ref;
}

unsigned pb_floor_screen(const struct pb_run_result *const *runs, unsigned n, double reference_ns,
                         double factor, bool *keep)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < n; i++) {
        struct pb_floor_state f;
        pb_floor_state_of(runs[i], &f);
        keep[i] = !pb_floor_off(&f, reference_ns, factor);
        kept += keep[i];
    }
    if (kept)
        return kept;
    for (unsigned i = 0; i < n; i++)
        keep[i] = true;
    return n;
}

unsigned pb_floor_screen_in_doc(const struct pb_result_doc *d,
                                const struct pb_run_result *const *runs, unsigned n, bool *keep)
{
    double ref = n ? pb_floor_reference_in_doc(d, runs[0]) : 0;
    return pb_floor_screen(runs, n, ref, PB_FLOOR_FACTOR_DEFAULT, keep);
}

/* The floor farther from the reference, on a log scale; 0 when none. */
static double floor_worst(const struct pb_result_run *r, double ref)
{
    struct pb_floor_state f;
    pb_floor_state_of(&r->r, &f);
    if (!(f.start_ns > 0))
        return 0;
    return fabs(log(f.start_ns / ref)) >= fabs(log(f.end_ns / ref)) ? f.start_ns : f.end_ns;
}

/* The floors of every matched repetition of both sides, and the reference
 * of each pair of CPUs they were measured between (computed once each). */
struct floor_refs {
    struct pb_floor_state *all;
    unsigned n;
    struct { struct pb_floor_state like; double ref; } pair[32];
    unsigned npairs;
};

static int floor_refs_init(struct floor_refs *r, const struct side *sb, const struct side *sn)
{
    memset(r, 0, sizeof *r);
    unsigned cap = 0;
    for (unsigned i = 0; i < sb->n; i++)
        if (sb->g[i].partner >= 0)
            cap += sb->g[i].n + sn->g[sb->g[i].partner].n;
    r->all = malloc((cap ? cap : 1) * sizeof *r->all);
    if (!r->all)
        return -1;
    for (unsigned i = 0; i < sb->n; i++) {
        if (sb->g[i].partner < 0)
            continue;
        const struct group *gs[2] = { &sb->g[i], &sn->g[sb->g[i].partner] };
        for (int s = 0; s < 2; s++)
            for (unsigned k = 0; k < gs[s]->n; k++)
                pb_floor_state_of(&gs[s]->runs[k]->r, &r->all[r->n++]);
    }
    return 0;
}

/* The reference a run is judged by: its CPU pair's median floor. */
static double floor_ref_of(struct floor_refs *r, const struct pb_floor_state *f)
{
    for (unsigned i = 0; i < r->npairs; i++)
        if (same_cpus(&r->pair[i].like, f))
            return r->pair[i].ref;
    double ref = pb_floor_reference_like(r->all, r->n, f);
    if (r->npairs < sizeof r->pair / sizeof r->pair[0]) {
        r->pair[r->npairs].like = *f;
        r->pair[r->npairs++].ref = ref;
    }
    return ref;
}

static bool off_floor(const struct pb_result_run *r, struct floor_refs *refs, double factor,
                      double *ref_out)
{
    struct pb_floor_state f;
    pb_floor_state_of(&r->r, &f);
    double ref = floor_ref_of(refs, &f);
    if (ref_out)
        *ref_out = ref;
    return pb_floor_off(&f, ref, factor);
}

/* The floors are measured before and after a window, not in it: a state
 * that came and went during the window shows only in the run's figures.
 * With 4 or more repetitions (pairs), a repetition whose throughput lies
 * beyond floor_factor of its side's median (paired: a pair whose ratio lies
 * beyond floor_factor of the median ratio) ran in another machine state
 * too (the VM's state changes moved throughput 2.5-3.5x; a change in the
 * code moves every repetition of a side alike, so it is not touched). */
static bool tput_off(double v, double med, double factor)
{
    return v > 0 && med > 0 && (v > factor * med || v * factor < med);
}

unsigned pb_screen_pair_ratios(const double *ratio, unsigned n, double factor, bool *keep)
{
    for (unsigned k = 0; k < n; k++)
        keep[k] = true;
    if (n < 4)
        return n;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return n;                    /* no screen rather than a wrong one */
    memcpy(s, ratio, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double med = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    unsigned kept = 0;
    for (unsigned k = 0; k < n; k++) {
        keep[k] = !tput_off(ratio[k], med, factor);
        kept += keep[k];
    }
    return kept;
}

static void drop_run(struct group *g, unsigned k)
{
    memmove(&g->runs[k], &g->runs[k + 1], (g->n - k - 1) * sizeof g->runs[0]);
    memmove(&g->idx[k], &g->idx[k + 1], (g->n - k - 1) * sizeof g->idx[0]);
    g->n--;
}

static void screen_throughput(struct group *fb, struct group *fn, const struct pb_compare_opts *o,
                              unsigned *out_b, unsigned *out_n)
{
    double v[PB_COMPARE_MAX_REPS];
    if (o->paired) {
        unsigned np = fb->n < fn->n ? fb->n : fn->n;
        if (np < 4)
            return;
        for (unsigned k = 0; k < np; k++) {
            double b = fb->runs[k]->r.throughput_ops_s, n = fn->runs[k]->r.throughput_ops_s;
            if (!(b > 0) || !(n > 0))
                return;
            v[k] = n / b;
        }
        bool keep[PB_COMPARE_MAX_REPS];
        pb_screen_pair_ratios(v, np, o->floor_factor, keep);
        for (unsigned k = np; k-- > 0;)
            if (!keep[k]) {
                drop_run(fb, k);
                drop_run(fn, k);
                (*out_b)++;
                (*out_n)++;
            }
        return;
    }
    for (int s = 0; s < 2; s++) {
        struct group *g = s ? fn : fb;
        if (g->n < 4)
            continue;
        for (unsigned k = 0; k < g->n; k++)
            v[k] = g->runs[k]->r.throughput_ops_s;
        double med = median(v, g->n);
        for (unsigned k = g->n; k-- > 0;)
            if (tput_off(g->runs[k]->r.throughput_ops_s, med, o->floor_factor)) {
                drop_run(g, k);
                (*(s ? out_n : out_b))++;
            }
    }
}

/* Copies of a matched pair of groups without the off-floor repetitions.
 * Returns how many were left out of each side; *worst: the floor left out
 * farthest from its reference, *worst_ref that reference. */
static void screen_pair(const struct group *gb, const struct group *gn, struct floor_refs *refs,
                        const struct pb_compare_opts *o, struct group *fb, struct group *fn,
                        unsigned *out_b, unsigned *out_n, double *worst, double *worst_ref)
{
    *fb = *gb;
    *fn = *gn;
    *out_b = *out_n = 0;
    *worst = *worst_ref = 0;
    if (!(o->floor_factor > 0))
        return;
    fb->n = fn->n = 0;
    unsigned np = gb->n < gn->n ? gb->n : gn->n;
    for (int s = 0; s < 2; s++) {
        const struct group *g = s ? gn : gb;
        struct group *f = s ? fn : fb;
        for (unsigned k = 0; k < g->n; k++) {
            double ref;
            bool off = off_floor(g->runs[k], refs, o->floor_factor, &ref);
            if (o->paired && k < np) {
                const struct group *other = s ? gb : gn;
                off |= off_floor(other->runs[k], refs, o->floor_factor, NULL);
            }
            if (off) {
                (*(s ? out_n : out_b))++;
                double w = ref > 0 ? floor_worst(g->runs[k], ref) : 0;
                if (w > 0 && (!*worst || fabs(log(w / ref)) > fabs(log(*worst / *worst_ref)))) {
                    *worst = w;
                    *worst_ref = ref;
                }
                continue;
            }
            f->runs[f->n] = g->runs[k];
            f->idx[f->n] = g->idx[k];
            f->n++;
        }
    }
    screen_throughput(fb, fn, o, out_b, out_n);
}

int pb_compare_docs(const struct pb_result_doc *base, const struct pb_result_doc *new_doc,
                    const struct pb_compare_opts *opts, struct pb_comparison *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->opts = *opts;
    struct side sb = { 0 }, sn = { 0 };
    struct floor_refs refs = { 0 };
    struct pb_hist *scratch = malloc(sizeof *scratch);
    struct group *fb = malloc(sizeof *fb), *fn = malloc(sizeof *fn);
    int rc = -1;
    if (!scratch || !fb || !fn || group_side(base, &sb) != 0 || group_side(new_doc, &sn) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    match(&sb, &sn);
    unsigned matched = 0;
    for (unsigned i = 0; i < sb.n; i++)
        matched += sb.g[i].partner >= 0;
    if (!matched) {
        char lb[400], ln[400];
        list_groups(&sb, lb, sizeof lb);
        list_groups(&sn, ln, sizeof ln);
        snprintf(err, errlen, "no runs in common (BASE: %s; NEW: %s)", lb, ln);
        goto out;
    }
    out->rows = calloc(matched, sizeof *out->rows);
    out->only_base = calloc(sb.n ? sb.n : 1, sizeof *out->only_base);
    out->only_new = calloc(sn.n ? sn.n : 1, sizeof *out->only_new);
    if (!out->rows || !out->only_base || !out->only_new) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    const struct side *both[2] = { &sb, &sn };
    if (floor_refs_init(&refs, &sb, &sn) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    out->floor_ref_ns = pb_floor_reference(refs.all, refs.n);
    for (unsigned i = 0; i < sb.n; i++) {
        const struct group *gb = &sb.g[i];
        char wl[sizeof out->rows[0].workload];
        if (workload_label(gb, gb->partner >= 0 ? &sn.g[gb->partner] : NULL, both, wl,
                           sizeof wl) != 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        if (gb->partner < 0) {
            run_label(gb, wl, out->only_base[out->nonly_base++], sizeof out->only_base[0]);
            continue;
        }
        unsigned ex_b, ex_n;
        double worst, worst_ref;
        const struct group *gn0 = &sn.g[gb->partner];
        bool enough = opts->paired ? (gb->n < gn0->n ? gb->n : gn0->n) >= MIN_REPS
                                   : gb->n >= MIN_REPS && gn0->n >= MIN_REPS;
        screen_pair(gb, gn0, &refs, opts, fb, fn, &ex_b, &ex_n, &worst, &worst_ref);
        const struct group *gn = fn;
        gb = fb;
        struct pb_compare_row *row = &out->rows[out->nrows++];
        snprintf(row->scenario, sizeof row->scenario, "%s", gb->key.scenario);
        snprintf(row->pool, sizeof row->pool, "%s", gb->key.pool);
        snprintf(row->queue, sizeof row->queue, "%s", gb->key.queue);
        snprintf(row->handoff, sizeof row->handoff, "%s", gb->key.handoff);
        snprintf(row->lock, sizeof row->lock, "%s", gb->key.lock);
        snprintf(row->workload, sizeof row->workload, "%s", wl);
        row->reps_base = gb->n;
        row->reps_new = gn->n;
        memcpy(row->base_runs, gb->idx, gb->n * sizeof gb->idx[0]);
        memcpy(row->new_runs, gn->idx, gn->n * sizeof gn->idx[0]);
        row->screened_out = (ex_b && gb->n == 0) || (ex_n && gn->n == 0);
        out->screened_out += row->screened_out;
        if (gb->fuzzy) {
            char diff[180];
            pb_runkey_workload_same(gb->key.workload, gn->key.workload, diff, sizeof diff);
            row_warning(row, "%s differs: %s", "workload", diff);
        }
        if (opts->paired && gb->n != gn->n) {
            char detail[120];
            unsigned np = gb->n < gn->n ? gb->n : gn->n;
            snprintf(detail, sizeof detail, "BASE has %u repetitions, NEW %u: the first %u of "
                     "each are paired", gb->n, gn->n, np);
            row_warning(row, "%s: %s", "paired", detail);
        }
        if (ex_b || ex_n) {
            char detail[400];
            if (worst > 0)
                snprintf(detail, sizeof detail, "%u of BASE and %u of NEW left out: c2c floor "
                         "moved or %.0f ns (median %.0f), or throughput beyond %gx of the "
                         "others' (another machine state)", ex_b, ex_n, worst,
                         worst_ref, opts->floor_factor);
            else
                snprintf(detail, sizeof detail, "%u of BASE and %u of NEW left out: throughput "
                         "lay beyond %gx of the others' (another machine state)", ex_b, ex_n,
                         opts->floor_factor);
            row_warning(row, "%s: %s", "repetitions", detail);
            out->excluded += ex_b + ex_n;
        }
        side_warnings(row, gb, "BASE");
        side_warnings(row, gn, "NEW");
        for (unsigned m = 0; m < PB_METRIC_COUNT; m++) {
            if (!(opts->metrics & (1u << m)))
                continue;
            struct pb_compare_metric *cm = &row->metrics[row->nmetrics++];
            compare_metric(gb, gn, (enum pb_metric)m, opts, scratch, cm);
            cm->screened = cm->available && !cm->tested && enough && (ex_b || ex_n);
        }
    }
    for (unsigned k = 0; k < sn.n; k++)
        if (sn.g[k].partner < 0) {
            char wl[sizeof out->rows[0].workload];
            if (workload_label(&sn.g[k], NULL, both, wl, sizeof wl) != 0) {
                snprintf(err, errlen, "out of memory");
                goto out;
            }
            run_label(&sn.g[k], wl, out->only_new[out->nonly_new++], sizeof out->only_new[0]);
        }
    if (adjust_and_decide(out) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    context_warnings(out, base, new_doc);
    rc = 0;
out:
    free(refs.all);
    free(scratch);
    free(fb);
    free(fn);
    free(sb.g);
    free(sn.g);
    if (rc != 0)
        pb_comparison_free(out);
    return rc;
}

void pb_comparison_free(struct pb_comparison *c)
{
    if (!c)
        return;
    free(c->rows);
    free(c->only_base);
    free(c->only_new);
    memset(c, 0, sizeof *c);
}

int pb_comparison_exit_status(const struct pb_comparison *c)
{
    if (c->regressed)
        return 1;
    return c->opts.strict && (c->inconclusive || c->screened_out) ? PB_COMPARE_EXIT_UNJUDGED : 0;
}

void pb_comparison_summary(const struct pb_comparison *c, char *buf, size_t size)
{
    if (!size)
        return;
    buf[0] = 0;
    char line[512];
    int n = snprintf(line, sizeof line, "%u regressed, %u improved, %u unchanged", c->regressed,
                     c->improved, c->unchanged);
    if (c->inconclusive)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %u inconclusive", c->inconclusive);
    if (c->not_available)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %u n/a", c->not_available);
    snprintf(line + n, sizeof line - (size_t)n,
             " (%u run%s compared; %u test%s in the family, %s correction, alpha %g; "
             "threshold %g%%, noise floor %g x the %s robust CV)\n",
             c->nrows, c->nrows == 1 ? "" : "s", c->family, c->family == 1 ? "" : "s",
             pb_correction_name(c->opts.correction), c->opts.alpha, c->opts.threshold_pct,
             c->opts.noise_k, c->opts.paired ? "pairs'" : "base's");
    append(buf, size, "", line);
    /* Paired files come from `pendbench ab`, which prints this summary
     * itself: its advice is ab's own --repeat, not ab. */
    if (c->untested) {
        char changed[96] = "";
        if (c->untested_changed)
            snprintf(changed, sizeof changed, ", so the %u beyond the threshold %s inconclusive",
                     c->untested_changed, c->untested_changed == 1 ? "is" : "are");
        snprintf(line, sizeof line,
                 "%u metric%s untested (fewer than %u %s): no verdict without a test%s; %s\n",
                 c->untested, c->untested == 1 ? "" : "s", MIN_REPS,
                 c->opts.paired ? "pairs" : "repetitions a side", changed,
                 c->opts.paired ? "rerun with 5 clean pairs or more (ab's --repeat 5)"
                                : "run each side with --repeat 5, or use `pendbench ab`");
        append(buf, size, "", line);
    }
    unsigned noisy = c->inconclusive - c->untested_changed;
    if (noisy) {
        snprintf(line, sizeof line,
                 "%u metric%s inconclusive: the machine was too noisy (robust CV over %g%%, or "
                 "too few %s left in one machine state): rerun on a quiet machine%s\n",
                 noisy, noisy == 1 ? "" : "s", c->opts.max_cv_pct,
                 c->opts.paired ? "pairs" : "repetitions",
                 c->opts.paired ? "" : " or use `pendbench ab`");
        append(buf, size, "", line);
    }
    if (c->excluded) {
        snprintf(line, sizeof line,
                 "%u repetition%s left out: measured in another machine state (c2c floor moved, "
                 "or beyond %gx the comparison's median of %.0f ns either way; --floor-factor 0 "
                 "keeps them)\n",
                 c->excluded, c->excluded == 1 ? "" : "s", c->opts.floor_factor,
                 c->floor_ref_ns);
        append(buf, size, "", line);
    }
    if (c->screened_out) {
        snprintf(line, sizeof line,
                 "%u run%s compared nothing: the screen left a side with no repetition (the "
                 "machine kept changing state)\n", c->screened_out,
                 c->screened_out == 1 ? "" : "s");
        append(buf, size, "", line);
    }
    if (pb_comparison_exit_status(c) == PB_COMPARE_EXIT_UNJUDGED)
        append(buf, size, "", "--strict: nothing regressed, but not everything could be judged: "
                              "exit status 3\n");
}

/* ---- output --------------------------------------------------------------------- */

static const char *fmt_value(enum pb_metric m, double v, char *buf, size_t size)
{
    if (!isfinite(v))
        snprintf(buf, size, "-");
    else if (m == PB_METRIC_THROUGHPUT)
        snprintf(buf, size, v >= 1e6 ? "%.3f M/s" : v >= 1e3 ? "%.2f k/s" : "%.0f /s",
                 v >= 1e6 ? v / 1e6 : v >= 1e3 ? v / 1e3 : v);
    else if (m == PB_METRIC_CANCEL)
        snprintf(buf, size, "%.2f%%", v * 100);
    else if (v < 1000)
        snprintf(buf, size, "%.0f ns", v);
    else if (v < 1e6)
        snprintf(buf, size, "%.2f us", v / 1e3);
    else if (v < 1e9)
        snprintf(buf, size, "%.2f ms", v / 1e6);
    else
        snprintf(buf, size, "%.2f s", v / 1e9);
    return buf;
}

static const char *fmt_change(const struct pb_compare_metric *m, char *buf, size_t size)
{
    if (!m->available)
        snprintf(buf, size, "-");
    else if (!isfinite(m->change))
        snprintf(buf, size, "%sinf%%", m->change > 0 ? "+" : "-");
    else if (m->metric == PB_METRIC_CANCEL)
        snprintf(buf, size, "%+.2f pp", m->change);
    else
        snprintf(buf, size, "%+.1f%%", m->change);
    return buf;
}

/* The noise floor where it took part in the verdict: a tested metric that
 * was significant and beyond the threshold. */
static const char *fmt_noise(const struct pb_compare_metric *m, char *buf, size_t size)
{
    bool decided = m->tested && m->significant && isfinite(m->noise_floor) &&
                   m->reason != PB_REASON_BELOW_THRESHOLD;
    if (!decided)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, m->metric == PB_METRIC_CANCEL ? "%.2f pp" : "%.1f%%", m->noise_floor);
    return buf;
}

static void print_side(FILE *out, const char *label, const char *name, const struct pb_context *c)
{
    fprintf(out, "%-4s %s", label, name);
    if (c && c->date[0])
        fprintf(out, "  %s", c->date);
    if (c && c->git_commit[0])
        fprintf(out, "  commit %s", c->git_commit);
    if (c && c->host[0])
        fprintf(out, "  on %s", c->host);
    fprintf(out, "\n");
}

void pb_compare_print(FILE *out, const struct pb_comparison *c, const char *base_name,
                      const struct pb_context *base_ctx, const char *new_name,
                      const struct pb_context *new_ctx)
{
    print_side(out, "BASE", base_name, base_ctx);
    print_side(out, "NEW", new_name, new_ctx);
    for (unsigned w = 0; w < c->nwarnings; w++)
        fprintf(out, "warning: %s\n", c->warnings[w]);
    /* The strategies' column fits the longest (a chosen lock makes a name
     * longer: "magazine / global-mutex / xchg [lock futex-mutex]"). */
    int sw = 34;
    for (unsigned i = 0; i < c->nrows; i++) {
        char strat[5 * PB_NAME_MAX + 32];
        const struct pb_compare_row *r = &c->rows[i];
        pb_runkey_strategies_text(r->pool, r->queue, r->handoff, r->lock, strat, sizeof strat);
        if ((int)strlen(strat) > sw)
            sw = (int)strlen(strat);
    }
    fprintf(out, "\n%-13s %-*s %-10s %12s %12s %9s  %-34s %7s %7s %8s  %s\n", "scenario", sw,
            "pool / queue / handoff", "metric", "base", "new", "change", "test", "p",
            "p adj", "noise", "verdict");
    for (unsigned i = 0; i < c->nrows; i++) {
        const struct pb_compare_row *r = &c->rows[i];
        char strat[5 * PB_NAME_MAX + 32];
        pb_runkey_strategies_text(r->pool, r->queue, r->handoff, r->lock, strat, sizeof strat);
        for (unsigned k = 0; k < r->nmetrics; k++) {
            const struct pb_compare_metric *m = &r->metrics[k];
            char vb[32], vn[32], ch[32], p[16], pa[16], nf[24], words[64];
            fmt_p(p, sizeof p, m->p_raw);
            fmt_p(pa, sizeof pa, m->p_adj);
            fprintf(out, "%-13.13s %-*s %-10s %12s %12s %9s  %-34s %7s %7s %8s  %s\n",
                    k == 0 ? r->scenario : "", sw, k == 0 ? strat : "", pb_metric_name(m->metric),
                    fmt_value(m->metric, m->base, vb, sizeof vb),
                    fmt_value(m->metric, m->new_value, vn, sizeof vn), fmt_change(m, ch, sizeof ch),
                    m->note, p, pa, fmt_noise(m, nf, sizeof nf),
                    pb_compare_verdict_words(m, words, sizeof words));
        }
        if (r->workload[0])
            fprintf(out, "%-13s   [%s]\n", "", r->workload);
        for (unsigned w = 0; w < r->nwarnings; w++)
            fprintf(out, "%-13s   ! %s\n", "", r->warnings[w]);
    }
    if (c->nonly_base || c->nonly_new)
        fprintf(out, "\n");
    for (unsigned i = 0; i < c->nonly_base; i++)
        fprintf(out, "only in BASE: %s\n", c->only_base[i]);
    for (unsigned i = 0; i < c->nonly_new; i++)
        fprintf(out, "only in NEW:  %s\n", c->only_new[i]);
    char summary[2048];
    pb_comparison_summary(c, summary, sizeof summary);
    fprintf(out, "\n%s", summary);
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *side_json(const char *name, const struct pb_context *ctx)
{
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(name));
    if (ctx) {
        json_object_set_new(o, "date", json_string(ctx->date));
        json_object_set_new(o, "git_commit", json_string(ctx->git_commit));
        json_object_set_new(o, "run_id", json_string(ctx->run_id));
        json_object_set_new(o, "host", json_string(ctx->host));
        json_object_set_new(o, "cpu_model", json_string(ctx->cpu_model));
        json_object_set_new(o, "partial", json_boolean(ctx->partial));
    }
    return o;
}

static json_t *values_json(const double *v, unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, jnum(v[i]));
    return a;
}

static const char *reason_name(enum pb_compare_reason r)
{
    switch (r) {
    case PB_REASON_NOT_SIGNIFICANT: return "not_significant";
    case PB_REASON_BELOW_THRESHOLD: return "below_threshold";
    case PB_REASON_TOO_NOISY: return "too_noisy";
    case PB_REASON_WITHIN_NOISE: return "within_noise";
    case PB_REASON_CHANGED: return "changed";
    case PB_REASON_SCREENED: return "screened";
    case PB_REASON_UNTESTED: return "untested";
    default: return "no_data";
    }
}

static json_t *metric_json(const struct pb_compare_metric *m)
{
    json_t *o = json_object();
    bool cancel = m->metric == PB_METRIC_CANCEL;
    json_object_set_new(o, "metric", json_string(pb_metric_name(m->metric)));
    json_object_set_new(o, "unit", json_string(metric_info[m->metric].unit));
    json_object_set_new(o, "better", json_string(metric_info[m->metric].higher_better ? "higher" : "lower"));
    json_object_set_new(o, "available", json_boolean(m->available));
    json_object_set_new(o, "base", jnum(m->base));
    json_object_set_new(o, "new", jnum(m->new_value));
    json_object_set_new(o, cancel ? "change_points" : "change_pct",
                        m->available ? jnum(m->change) : json_null());
    json_object_set_new(o, "base_repetitions", values_json(m->base_values, m->n_base));
    json_object_set_new(o, "new_repetitions", values_json(m->new_values, m->n_new));
    if (m->tested) {
        json_t *t = json_object();
        json_object_set_new(t, "name", json_string(m->test));
        json_object_set_new(t, "p_value", jnum(m->p_raw));
        json_object_set_new(t, "p_adjusted", jnum(m->p_adj));
        json_object_set_new(t, "t", jnum(m->t));
        json_object_set_new(t, "df", jnum(m->df));
        if (m->npairs)
            json_object_set_new(t, "pairs", json_integer(m->npairs));
        json_object_set_new(o, "test", t);
    } else {
        json_object_set_new(o, "test", json_null());
    }
    if (isfinite(m->wilcoxon_p)) {
        json_t *w = json_object();
        json_object_set_new(w, "p_value", jnum(m->wilcoxon_p));
        json_object_set_new(w, "pairs", json_integer(m->npairs));
        json_object_set_new(o, "wilcoxon", w);
    } else {
        json_object_set_new(o, "wilcoxon", json_null());
    }
    /* Spread: percent of the median, or percentage points for cancel. */
    json_object_set_new(o, "spread_unit", json_string(cancel ? "points" : "percent"));
    json_object_set_new(o, "robust_cv_base", jnum(m->cv_base));
    json_object_set_new(o, "robust_cv_new", jnum(m->cv_new));
    json_object_set_new(o, "robust_cv_pairs", jnum(m->cv_pairs));
    json_object_set_new(o, "noise_floor", jnum(m->noise_floor));
    if (m->utest) {
        json_t *u = json_object();
        json_object_set_new(u, "p_value", jnum(m->utest_p));
        json_object_set_new(u, "n_base", json_integer(m->n_base));
        json_object_set_new(u, "n_new", json_integer(m->n_new));
        json_object_set_new(o, "mann_whitney", u);
    } else {
        json_object_set_new(o, "mann_whitney", json_null());
    }
    if (m->pooled && cancel) {
        json_t *t = json_object();
        json_object_set_new(t, "p_value", jnum(m->proportion_p));
        json_object_set_new(o, "proportion_test", t);
    } else if (m->pooled) {
        json_t *t = json_object();
        json_t *bci = json_array(), *nci = json_array();
        json_array_append_new(bci, jnum(m->base_ci_lo));
        json_array_append_new(bci, jnum(m->base_ci_hi));
        json_array_append_new(nci, jnum(m->new_ci_lo));
        json_array_append_new(nci, jnum(m->new_ci_hi));
        json_object_set_new(t, "base_ci_ns", bci);
        json_object_set_new(t, "new_ci_ns", nci);
        json_object_set_new(t, "disjoint", json_boolean(m->ci_disjoint));
        json_object_set_new(o, "histogram_ci", t);
    }
    char words[64];
    json_object_set_new(o, "tested", json_boolean(m->tested));
    json_object_set_new(o, "significant", json_boolean(m->significant));
    json_object_set_new(o, "reason", json_string(reason_name(m->reason)));
    json_object_set_new(o, "verdict", json_string(pb_verdict_name(m->verdict)));
    json_object_set_new(o, "verdict_words",
                        json_string(pb_compare_verdict_words(m, words, sizeof words)));
    json_object_set_new(o, "note", json_string(m->note));
    return o;
}

int pb_compare_print_json(FILE *out, const struct pb_comparison *c, const char *base_name,
                          const struct pb_context *base_ctx, const char *new_name,
                          const struct pb_context *new_ctx)
{
    json_t *root = json_object();
    json_object_set_new(root, "base", side_json(base_name, base_ctx));
    json_object_set_new(root, "new", side_json(new_name, new_ctx));
    json_object_set_new(root, "threshold_pct", json_real(c->opts.threshold_pct));
    json_object_set_new(root, "alpha", json_real(c->opts.alpha));
    json_object_set_new(root, "correction", json_string(pb_correction_name(c->opts.correction)));
    json_object_set_new(root, "noise_k", json_real(c->opts.noise_k));
    json_object_set_new(root, "max_cv_pct", json_real(c->opts.max_cv_pct));
    json_object_set_new(root, "paired", json_boolean(c->opts.paired));
    json_object_set_new(root, "family_size", json_integer(c->family));
    json_t *warn = json_array();
    for (unsigned w = 0; w < c->nwarnings; w++)
        json_array_append_new(warn, json_string(c->warnings[w]));
    json_object_set_new(root, "warnings", warn);
    json_t *runs = json_array();
    for (unsigned i = 0; i < c->nrows; i++) {
        const struct pb_compare_row *r = &c->rows[i];
        json_t *o = json_object(), *st = json_object(), *ms = json_array(), *rw = json_array();
        json_object_set_new(o, "scenario", json_string(r->scenario));
        json_object_set_new(st, "pool", json_string(r->pool));
        json_object_set_new(st, "queue", json_string(r->queue));
        json_object_set_new(st, "handoff", json_string(r->handoff));
        json_object_set_new(st, "lock", json_string(r->lock[0] ? r->lock : "default"));
        json_object_set_new(o, "strategies", st);
        json_object_set_new(o, "workload", json_string(r->workload));
        json_object_set_new(o, "repetitions_base", json_integer(r->reps_base));
        json_object_set_new(o, "repetitions_new", json_integer(r->reps_new));
        json_object_set_new(o, "verdict", json_string(pb_verdict_name(r->verdict)));
        for (unsigned k = 0; k < r->nmetrics; k++)
            json_array_append_new(ms, metric_json(&r->metrics[k]));
        json_object_set_new(o, "metrics", ms);
        for (unsigned w = 0; w < r->nwarnings; w++)
            json_array_append_new(rw, json_string(r->warnings[w]));
        json_object_set_new(o, "warnings", rw);
        json_array_append_new(runs, o);
    }
    json_object_set_new(root, "runs", runs);
    json_t *ob = json_array(), *on = json_array();
    for (unsigned i = 0; i < c->nonly_base; i++)
        json_array_append_new(ob, json_string(c->only_base[i]));
    for (unsigned i = 0; i < c->nonly_new; i++)
        json_array_append_new(on, json_string(c->only_new[i]));
    json_object_set_new(root, "only_in_base", ob);
    json_object_set_new(root, "only_in_new", on);
    json_t *sum = json_object();
    json_object_set_new(sum, "regressed", json_integer(c->regressed));
    json_object_set_new(sum, "improved", json_integer(c->improved));
    json_object_set_new(sum, "unchanged", json_integer(c->unchanged));
    json_object_set_new(sum, "inconclusive", json_integer(c->inconclusive));
    json_object_set_new(sum, "not_available", json_integer(c->not_available));
    json_object_set_new(sum, "untested", json_integer(c->untested));
    json_object_set_new(sum, "untested_changed", json_integer(c->untested_changed));
    json_object_set_new(sum, "excluded_repetitions", json_integer(c->excluded));
    json_object_set_new(sum, "screened_out_runs", json_integer(c->screened_out));
    json_object_set_new(sum, "floor_reference_ns", jnum(c->floor_ref_ns));
    json_object_set_new(root, "summary", sum);
    json_object_set_new(root, "strict", json_boolean(c->opts.strict));
    json_object_set_new(root, "exit_status", json_integer(pb_comparison_exit_status(c)));
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (rc == 0)
        fputc('\n', out);
    fflush(out);
    json_decref(root);
    return rc == 0 ? 0 : -1;
}
