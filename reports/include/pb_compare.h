/* Comparing two result documents (`pendbench compare`): runs are matched
 * by scenario, strategies and workload (pb_runkey.h); each metric gets a
 * change, a significance test whose p-value is adjusted across every
 * metric and run compared, a noise floor and a verdict (improved,
 * regressed, no significant change, within noise, inconclusive). The
 * statistics, and why they were chosen, are described at the top of
 * reports/stats.c and reports/compare.c; `pendbench compare --help` says
 * it for users. */
#ifndef PB_COMPARE_H
#define PB_COMPARE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pb_hist.h"
#include "pb_result.h"
#include "pb_runkey.h"

/* ---- statistics (reports/stats.c) ----------------------------------------- */

/* Two-sided Mann-Whitney U test of samples a and b (ties get mid-ranks).
 * Exact permutation p-value (ties included) when na + nb <= PB_MWU_EXACT_MAX,
 * otherwise the normal approximation with tie and continuity corrections
 * (scipy.stats.mannwhitneyu's asymptotic method). *u_out (may be NULL): U
 * of sample a. Returns 1 when either sample is empty. */
#define PB_MWU_EXACT_MAX 50
double pb_mann_whitney_p(const double *a, unsigned na, const double *b, unsigned nb,
                         double *u_out);
/* The smallest two-sided p-value samples of these sizes can give:
 * 2 / C(na + nb, na). Above alpha, the test cannot find anything. */
double pb_mann_whitney_min_p(unsigned na, unsigned nb);
/* The fewest repetitions per side (equal sizes) that can reach alpha. */
unsigned pb_mann_whitney_min_n(double alpha);

/* Distribution-free confidence interval of the p-th percentile (0 < p < 100)
 * of the values a histogram holds, by order statistics: the ranks
 * N*q -/+ z*sqrt(N*q*(1-q)) (normal approximation to the binomial; the +1
 * of the upper rank is the usual correction), read off the cumulative
 * histogram outward (lower bound: the low edge of the rank's bin, upper:
 * the high edge), so the bin width is inside the interval. A rank below 1
 * gives lo = 0 (unbounded below: latencies are not negative), a rank above
 * N gives hi = INFINITY. -1 when the histogram is empty. */
int pb_hist_percentile_ci(const struct pb_hist *h, double p, double confidence, double *lo,
                          double *hi);

/* Two-sided test of two proportions k1/n1 and k2/n2 (pooled z test). 1
 * when either n is 0 or both proportions are 0 or 1. */
double pb_two_proportion_p(uint64_t k1, uint64_t n1, uint64_t k2, uint64_t n2);

/* Upper quantile of the standard normal: z with P(Z > z) = q (0 < q < 1). */
double pb_normal_quantile_upper(double q);

/* Student's t distribution: the two-sided p-value P(|T| >= |t|) with df
 * degrees of freedom (df > 0, may be fractional, as Welch's; INFINITY is
 * the normal). t = 0 gives 1, t = +/-INFINITY 0; a NAN or df <= 0, NAN. */
double pb_t_two_sided_p(double t, double df);
/* Welch's two-sample t test (unequal variances, Welch-Satterthwaite df),
 * two-sided. Needs na, nb >= 2 and finite values; otherwise returns NAN.
 * Both variances 0: p = 1 when the means are equal, 0 otherwise (t 0 or
 * +/-INFINITY, df NAN). *t_out, *df_out may be NULL. */
double pb_welch_t_p(const double *a, unsigned na, const double *b, unsigned nb, double *t_out,
                    double *df_out);
/* One-sample t test that the mean of d[0..n) is 0 (the paired t test on
 * differences), two-sided, df = n - 1. n >= 2 and finite values, else NAN.
 * No spread: p = 1 when every d is 0, 0 otherwise (t 0 or +/-INFINITY). */
double pb_one_sample_t_p(const double *d, unsigned n, double *t_out);
/* Wilcoxon signed-rank test that d[0..n) is symmetric about 0: zeros
 * dropped (Wilcoxon's method), ties get mid-ranks; exact two-sided p when
 * the nonzero count is <= PB_WILCOXON_EXACT_MAX, otherwise the normal
 * approximation with tie correction (scipy.stats.wilcoxon's defaults).
 * *w_out (may be NULL): the smaller rank sum. NAN when nothing is left
 * or a d is NAN (infinities are ordinary large differences). */
#define PB_WILCOXON_EXACT_MAX 30
double pb_wilcoxon_signed_rank_p(const double *d, unsigned n, double *w_out);
/* The smallest two-sided p n pairs can give: 2 / 2^n (1 for n <= 1). */
double pb_wilcoxon_min_p(unsigned n);

/* Multiple-comparison control over a family of p-values, in place: each
 * becomes its adjusted p-value (compare it with alpha). NAN entries
 * (tests that did not run) are skipped and stay NAN. Holm's step-down
 * controls the family-wise error rate; Benjamini-Hochberg's step-up the
 * false discovery rate (which is the family-wise rate when nothing truly
 * changed, as in an A/A check). Adjusted values are monotone and <= 1. */
enum pb_correction { PB_CORRECT_HOLM = 0, PB_CORRECT_BH, PB_CORRECT_NONE };
void pb_adjust_p(double *p, unsigned n, enum pb_correction c);
const char *pb_correction_name(enum pb_correction c);   /* "holm", "bh", "none" */
int pb_correction_parse(const char *name, enum pb_correction *out);   /* 0 or -1 */

/* Robust coefficient of variation in percent: 1.4826 * MAD / |median| * 100
 * (the MAD scaled to estimate a normal sigma). NAN for n < 3 or a median
 * of 0 or a value that is not finite. */
double pb_robust_cv_pct(const double *v, unsigned n);

/* ---- the comparison (reports/compare.c) ------------------------------------- */

enum pb_metric {
    PB_METRIC_THROUGHPUT = 0,  /* ops/s, median of the repetitions; higher is better */
    PB_METRIC_P50,             /* ns, total latency, merged histogram; lower is better */
    PB_METRIC_P99,
    PB_METRIC_P999,
    PB_METRIC_CANCEL,          /* cancel success rate, won / attempted summed; higher is better */
    PB_METRIC_COUNT
};
#define PB_METRIC_ALL ((1u << PB_METRIC_COUNT) - 1u)

/* "throughput", "p50", "p99", "p999", "cancel". */
const char *pb_metric_name(enum pb_metric m);
/* Accepts the names above and "p99.9", "tput", "cancel-rate". 0 or -1. */
int pb_metric_parse(const char *name, enum pb_metric *m);

enum pb_verdict {
    PB_VERDICT_NA = 0,         /* no data on a side (no cancels, empty histogram) */
    PB_VERDICT_UNCHANGED,      /* no significant change (or within the threshold / the noise) */
    PB_VERDICT_INCONCLUSIVE,   /* a change, but the repetitions were too noisy to tell */
    PB_VERDICT_IMPROVED,
    PB_VERDICT_REGRESSED,
};
/* "n/a", "unchanged", "inconclusive", "improved", "regressed" */
const char *pb_verdict_name(enum pb_verdict v);

struct pb_compare_opts {
    double threshold_pct;      /* a change must exceed this (percent; cancel: points); >= 0 */
    double alpha;              /* significance level of the family, 0 < alpha < 1 */
    unsigned metrics;          /* bit set of 1u << enum pb_metric */
    enum pb_correction correction;   /* across every metric and run compared (default Holm) */
    double noise_k;            /* a change must also exceed noise_k x the base's robust CV
                                * (paired: the pairs' ratios') */
    double floor_factor;       /* a repetition whose c2c floor exceeds this x the comparison's
                                * median floor, or whose floor moved during it, ran on another
                                * machine state: left out (paired: with its partner); 0: keep all */
    double max_cv_pct;         /* repetitions (paired: ratios) spread wider than this: too noisy
                                * to judge, inconclusive */
    bool paired;               /* repetition i of BASE with repetition i of NEW (pendbench ab) */
    bool metrics_chosen;       /* set by pb_compare_option("metric"): a second --metric adds to
                                * the first instead of replacing the default */
    bool strict;               /* --strict: what could not be judged is exit status 3, not 0
                                * (pb_comparison_exit_status) */
};
/* threshold 5, alpha 0.05, all metrics, Holm, noise_k 3, max_cv_pct 15, floor_factor 1.5,
 * unpaired. */
void pb_compare_opts_default(struct pb_compare_opts *o);

/* ---- the floor screen (reports/compare.c) ------------------------------------------ */

/* A run's c2c floor, measured before and after its window, is the state of
 * the machine as the run saw it. On a VM the same two CPUs bounce a line in
 * 30, 70 or 400 ns depending on where the host placed them at the time: a
 * run measured in another state than the others is another experiment.
 * The reference is the median floor of the runs considered together that
 * measured it between the same two CPUs (the first requester's and the
 * first worker's: a cross-node or scattered placement measures another
 * pair, whose floor differs by design, not by state); a run is off the
 * floor when its floor moved during it (floor_unstable) or its floor
 * before or after the window is more than `factor` times the reference or
 * less than its 1/factor. Runs without a measured floor are never off. */
#define PB_FLOOR_FACTOR_DEFAULT 1.5   /* compare's and ab's --floor-factor, the session's screen */

struct pb_floor_state {
    double start_ns, end_ns;   /* the floor's median before and after the window; 0: none */
    bool unstable;             /* it moved during the run (pb_run_result.floor_unstable) */
    int cpu_lo, cpu_hi;        /* the two OS CPUs it was measured between; -1: unknown */
};
void pb_floor_state_of(const struct pb_run_result *r, struct pb_floor_state *out);
/* The median floor of all n (for display: it mixes CPU pairs). */
double pb_floor_reference(const struct pb_floor_state *f, unsigned n);
/* The reference to judge `like` by: the median floor of those of the n
 * measured between its two CPUs. 0 when none measured a floor. */
double pb_floor_reference_like(const struct pb_floor_state *f, unsigned n,
                               const struct pb_floor_state *like);
bool pb_floor_off(const struct pb_floor_state *f, double reference_ns, double factor);
/* The paired throughput screen (the floors are taken before and after a
 * window, so a state that came and went inside it shows only in its
 * figures): of n pairs' NEW/BASE throughput ratios, with 4 or more, a pair
 * whose ratio lies beyond factor of their median ran in another machine
 * state. Sets keep[k]; returns how many are kept (all of them under 4).
 * compare's screen, and `ab` counting the clean pairs it still needs. */
unsigned pb_screen_pair_ratios(const double *ratio, unsigned n, double factor, bool *keep);
/* pb_floor_reference_like over every run of a document. */
double pb_floor_reference_in_doc(const struct pb_result_doc *d, const struct pb_run_result *like);
/* Of the n runs of one configuration, those to summarise: the runs not off
 * the floor, or all of them when every one is (then none is more right
 * than another). Sets keep[i]; returns how many are kept. The session's
 * table and the report's lock tables summarise by it. */
unsigned pb_floor_screen(const struct pb_run_result *const *runs, unsigned n, double reference_ns,
                         double factor, bool *keep);
/* The same for runs of one configuration of document d, against d's
 * floors for their CPU pair, with the default factor (the report and the
 * history summarise a document's repetitions so). */
unsigned pb_floor_screen_in_doc(const struct pb_result_doc *d,
                                const struct pb_run_result *const *runs, unsigned n, bool *keep);

/* Waiting for a machine state to come back. A VM's vCPUs move between
 * placements for tens of seconds at a time (seen: 20-30 s at c2c ~420 ns
 * against ~47 ns), so a run measured again at once lands in the same
 * placement; the session waits for the floor to return first. */
struct pb_floor_wait {
    unsigned budget_ms;            /* give up after this long */
    unsigned poll_ms;              /* sleep between probes */
    double factor;                 /* "back": within factor of the reference, as pb_floor_off */
    volatile sig_atomic_t *stop;   /* set (SIGINT): give up at once; NULL: none */
    /* One probe of the floor now: its median in ns, <= 0 when it failed. */
    double (*probe)(void *ctx);
    void *ctx;
};
/* Probes until the floor lies within factor of reference_ns either way.
 * 1: back (at once when the first probe says so); 0: not back within the
 * budget, or stopped; -1: a probe failed or the arguments are unusable.
 * *last_ns is the last probe's floor (0: none), *waited_ms the time spent. */
int pb_floor_wait(const struct pb_floor_wait *w, double reference_ns, double *last_ns,
                  double *waited_ms);

/* One option of compare's (and ab's) command line: key without dashes
 * ("threshold", "alpha", "metric", "correction", "noise-k", "max-cv",
 * "floor-factor"; and the flag "strict", value NULL), value as given.
 * 1 handled, 0 not one of these, -1 bad value (message in
 * err). "metric" takes a comma-separated list of names and the presets
 * "gate" (throughput, p50, p99), "latency" (p50, p99, p999) and "all";
 * the first replaces the default set, later ones add to it. */
int pb_compare_option(const char *key, const char *value, struct pb_compare_opts *o,
                      char *err, size_t errlen);

#define PB_COMPARE_MAX_REPS 64 /* per side and group: more are ignored (with a warning) */

/* Why a metric got its verdict, in the order the rule looks. */
enum pb_compare_reason {
    PB_REASON_NO_DATA = 0,       /* n/a */
    PB_REASON_NOT_SIGNIFICANT,   /* adjusted p > alpha (untested: the pooled test saw nothing) */
    PB_REASON_BELOW_THRESHOLD,   /* |change| <= threshold */
    PB_REASON_TOO_NOISY,         /* inconclusive: a side's robust CV > max_cv_pct */
    PB_REASON_WITHIN_NOISE,      /* |change| <= noise floor */
    PB_REASON_CHANGED,           /* improved or regressed */
    PB_REASON_SCREENED,          /* inconclusive: the floor screen left too few to test */
    PB_REASON_UNTESTED,          /* inconclusive: beyond the threshold, but too few to test */
};

struct pb_compare_metric {
    enum pb_metric metric;
    bool available;            /* both sides have data */
    double base, new_value;    /* ops/s, ns, or a rate 0..1 */
    double change;             /* percent of base (cancel: percentage points); +/-INFINITY from 0;
                                * paired: the pairs' geometric mean ratio (cancel: mean
                                * difference) */
    unsigned n_base, n_new;    /* per-repetition figures */
    double base_values[PB_COMPARE_MAX_REPS], new_values[PB_COMPARE_MAX_REPS];
    /* (1) Mann-Whitney U on the repetitions: information only */
    bool utest;                /* run: enough repetitions to reach alpha */
    double utest_p;
    /* (2) pooled: latency: percentile CIs of the merged histograms
     *     (information, or a veto when untested); cancel: two-proportion
     *     test on the summed counts (part of the test, or a veto) */
    bool pooled;
    double base_ci_lo, base_ci_hi, new_ci_lo, new_ci_hi;   /* latency */
    bool ci_disjoint;
    double proportion_p;       /* cancel */
    /* (3) the test that decides: Welch's t on the logs of the figures (cancel:
     *     on the rates, and the proportion test; p is the larger), or with
     *     opts.paired the t test on the pairs' log ratios (cancel: rate
     *     differences) */
    bool tested;               /* it ran: 3+ figures a side (3+ pairs) */
    bool screened;             /* untested only because the floor screen left too few */
    char test[24];             /* "welch-log", "paired-t-log", "welch+counts",
                                * "paired-t+counts"; "" untested */
    double p_raw;              /* NAN when untested */
    double p_adj;              /* p_raw after opts.correction over the family; NAN untested */
    double t, df;              /* t statistic and degrees of freedom (df: n - 1 when paired) */
    unsigned npairs;           /* paired: pairs with a figure on both sides */
    double wilcoxon_p;         /* paired, when npairs can reach alpha: signed-rank p; else NAN */
    double cv_base, cv_new;    /* robust CV of the figures, percent (cancel: points); NAN < 3 */
    double cv_pairs;           /* paired: robust CV of the ratios new_i/base_i (cancel: of the
                                * differences, points); NAN unpaired or < 3 pairs */
    double noise_floor;        /* noise_k x cv_base (paired: x cv_pairs), percent (cancel:
                                * points); NAN unknown */
    bool significant;          /* tested and p_adj <= alpha */
    enum pb_compare_reason reason;
    enum pb_verdict verdict;
    char note[128];            /* the test in a few words: "welch-log 5/5; U p=0.008" */
};

struct pb_compare_row {
    char scenario[PB_NAME_MAX], pool[PB_NAME_MAX], queue[PB_NAME_MAX], handoff[PB_NAME_MAX];
    char lock[PB_NAME_MAX];    /* the lock chosen; "" = each strategy's default */
    char workload[160];        /* the params that tell it from a sibling with the same name and
                                * strategies ("requesters=4, workers=4"); usually empty */
    unsigned reps_base, reps_new;
    unsigned nmetrics;
    struct pb_compare_metric metrics[PB_METRIC_COUNT];
    enum pb_verdict verdict;   /* the worst of its metrics */
    bool screened_out;         /* the screen left out every repetition of a side: n/a */
    unsigned nwarnings;
    char warnings[6][200];     /* partial, busy, invariants failed, workload differs, ... */
    /* The repetitions' indices in each document's runs, in repetition order
     * (the order pairs are formed in): reps_base and reps_new of them. */
    unsigned base_runs[PB_COMPARE_MAX_REPS], new_runs[PB_COMPARE_MAX_REPS];
};

struct pb_comparison {
    struct pb_compare_opts opts;
    unsigned nrows;
    struct pb_compare_row *rows;
    unsigned nonly_base, nonly_new;
    char (*only_base)[200], (*only_new)[200];   /* "steady magazine / percpu-mpsc / xchg (5 repetitions)" */
    unsigned regressed, improved, unchanged, not_available;   /* metrics */
    unsigned inconclusive;     /* metrics */
    unsigned untested;         /* available metrics whose test could not run (counted above too) */
    unsigned untested_changed; /* of those, beyond the threshold: inconclusive (PB_REASON_UNTESTED) */
    unsigned family;           /* p-values adjusted together */
    unsigned excluded;         /* repetitions left out by the floor screen (both sides) */
    unsigned screened_out;     /* rows the screen left with no repetition on a side */
    double floor_ref_ns;       /* the comparison's median c2c floor; 0 when none measured */
    unsigned nwarnings;
    char warnings[4][240];     /* document-wide: different hosts, partial session */
};

/* Compares base against new_doc. 0, or -1 with a message in err (no runs in
 * common, out of memory); *out is then empty (safe to free). */
int pb_compare_docs(const struct pb_result_doc *base, const struct pb_result_doc *new_doc,
                    const struct pb_compare_opts *opts, struct pb_comparison *out, char *err,
                    size_t errlen);
void pb_comparison_free(struct pb_comparison *c);

/* The exit status of compare and ab: 1 when a metric regressed; else, with
 * opts.strict, 3 when something could not be judged (a metric inconclusive,
 * a row the screen left with no repetition on a side: the machine kept
 * changing state), so that a CI gate tells "no regression" from "could
 * not measure"; else 0. */
#define PB_COMPARE_EXIT_UNJUDGED 3
int pb_comparison_exit_status(const struct pb_comparison *c);

/* A metric's verdict in words, as the table, the JSON and the HTML report
 * show it: "regressed", "improved", "no significant change", "below
 * threshold", "within noise", "inconclusive (too noisy)", "inconclusive
 * (machine state changed)", "n/a"; an untested metric's words end in
 * " (untested)" ("inconclusive (untested)": a change beyond the threshold
 * that no test could judge). */
const char *pb_compare_verdict_words(const struct pb_compare_metric *m, char *buf, size_t size);

/* The summary for a person: the counts per verdict, the family, its
 * correction and alpha, on one line; then one line for each of: metrics
 * untested (too few repetitions, and what to do), inconclusive metrics.
 * Lines end in '\n'. */
void pb_comparison_summary(const struct pb_comparison *c, char *buf, size_t size);

/* The table for a person, then the one-line summary. Names: the files (or
 * "history:last"). */
void pb_compare_print(FILE *out, const struct pb_comparison *c, const char *base_name,
                      const struct pb_context *base_ctx, const char *new_name,
                      const struct pb_context *new_ctx);
/* The same as one JSON document (jansson). 0 or -1. */
int pb_compare_print_json(FILE *out, const struct pb_comparison *c, const char *base_name,
                          const struct pb_context *base_ctx, const char *new_name,
                          const struct pb_context *new_ctx);

#endif
