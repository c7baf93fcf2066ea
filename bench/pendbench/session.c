/* A session: the configurations a verb (the suite, run, sweep) measures,
 * their repetitions, the table, the result file and the history record.
 *
 * The measurement design (DESIGN.md, "Measurement"):
 * - A configuration asked for twice (the suite's default strategies stand
 *   in two groups) is measured once and shown in both places.
 * - Repetitions are interleaved: round after round, every configuration
 *   once per round in a seeded random order (Google Benchmark's
 *   --benchmark_enable_random_interleaving), so a load spike, frequency
 *   drift or the process warming up hits every configuration alike
 *   instead of biasing whichever ran first. --no-interleave keeps the old
 *   order (a configuration's repetitions back to back). The seed and each
 *   run's place in the order are in the result file.
 * - When the session measures 3 or more runs, a repetition measured in
 *   another machine state than the others (compare's floor screen: its c2c
 *   floor moved, or lay beyond 1.5x either way of the session's median
 *   floor for the same two CPUs) is measured again, at most N extra per
 *   configuration (N = --repeat, so once in the default suite, whose one
 *   run per configuration would otherwise set a configuration measured in
 *   a VM's other placement against a baseline measured in the usual one),
 *   after waiting for the floor between its CPUs to come back (a VM's
 *   placement lasts tens of seconds; at most a quarter of the session's
 *   time so far, 30 s in all);
 *   the file keeps every run (compare screens them the same way) and the
 *   table and aggregate lines summarise the clean ones. A configuration
 *   still in another state than its group's baseline has its 'vs base'
 *   marked as no comparison.
 * - After the repetitions one aggregate line per configuration says how
 *   much its repetitions agree (median, min-max, CV); one whose CV exceeds
 *   --max-cv is marked unstable.
 * - The environment is sampled at the start and the end; what threatens
 *   the figures is printed as warnings and recorded in the context. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "pb_compare.h"
#include "pb_env.h"
#include "pb_history.h"
#include "pb_lock.h"
#include "pb_html.h"
#include "pb_result.h"
#include "pb_rng.h"
#include "pb_tsc.h"

void pb_session_init(struct pb_session *s, const char *verb)
{
    memset(s, 0, sizeof *s);
    s->verb = verb;
    s->repeat = 1;
    s->interleave = true;
    s->max_cv_pct = PB_SESSION_MAX_CV_DEFAULT;
}

/* The command line, for the record. */
void pb_session_note_command(struct pb_session *s, int argc, char **argv)
{
    size_t used = (size_t)snprintf(s->command, sizeof s->command, "pendbench");
    for (int k = 0; k < argc && used < sizeof s->command; k++) {
        bool quote = strpbrk(argv[k], " \t\"'$\\") != NULL || !argv[k][0];
        used += (size_t)snprintf(s->command + used, sizeof s->command - used,
                                 quote ? " '%s'" : " %s", argv[k]);
    }
}

enum { SS_REPEAT, SS_NO_INTERLEAVE, SS_INTERLEAVE_SEED, SS_MAX_CV, SS_JSON, SS_QUIET,
       SS_NO_HISTORY, SS_HISTORY_DB };

const struct pb_opt pb_session_opts[] = {
    { "repeat", 0, "N", "measure each configuration N times, 1 to 1000 (compare needs 3+, 5 "
      "advised; default 1)", SS_REPEAT },
    { "no-interleave", 0, NULL, "repetitions back to back instead of in seeded random rounds",
      SS_NO_INTERLEAVE },
    { "interleave-seed", 0, "N", "the seed of the interleaved order (default: random, recorded)",
      SS_INTERLEAVE_SEED },
    { "max-cv", 0, "PCT", "mark a configuration unstable above this CV of its repetitions' "
      "throughput or p50 (default 10)", SS_MAX_CV },
    { "json", 0, "FILE", "the result file ('-': stdout, and the table goes to stderr)", SS_JSON },
    { "quiet", 0, NULL, "no progress line and no aggregate line per configuration (the table "
      "stays)", SS_QUIET },
    { "no-history", 0, NULL, "do not record the invocation in the history database",
      SS_NO_HISTORY },
    { "history-db", 0, "PATH", "record it there (default $PENDBENCH_HISTORY_DB, else "
      PB_HISTORY_DEFAULT "; postgresql://... for PostgreSQL)", SS_HISTORY_DB },
    { NULL, 0, NULL, NULL, 0 },
};

int pb_session_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                   size_t errlen)
{
    struct pb_session *s = ctx;
    uint64_t n;
    switch (o->id) {
    case SS_REPEAT:
        if (pb_opt_count(value, 1, 1000, &n, err, errlen) != 0)
            return -1;
        s->repeat = (unsigned)n;
        return 0;
    case SS_NO_INTERLEAVE:
        s->interleave = false;
        return 0;
    case SS_INTERLEAVE_SEED:
        if (pb_opt_seed(value, &s->seed, err, errlen) != 0)
            return -1;
        s->seed_given = true;
        return 0;
    case SS_MAX_CV:
        return pb_opt_percent(value, 0, 1, HUGE_VAL, &s->max_cv_pct, err, errlen);
    case SS_JSON:
        s->json_path = value;
        return pb_opt_path(value, err, errlen);
    case SS_QUIET:
        s->quiet = true;
        return 0;
    case SS_NO_HISTORY:
        s->no_history = true;
        return 0;
    case SS_HISTORY_DB:
        s->history_db = value;
        return pb_opt_path(value, err, errlen);
    }
    snprintf(err, errlen, "not a session option (bench/pendbench/session.c)");
    return -1;
}

/* ---- per-configuration aggregates ------------------------------------------------- */

struct figure {
    double median, min, max, cv_pct;    /* cv: stddev / mean over the repetitions; NAN < 2 */
};

struct config {
    unsigned display;                   /* first display index asking for it */
    const struct pb_topo *topo;
    unsigned nreps;                     /* measured */
    bool failed;                        /* could not run: no further repetitions */
    struct pb_run_result *reps;         /* [slots]: repeat, then extra ones */
    bool *have;                         /* [slots] */
    unsigned screened;                  /* runs left out of the summary: another machine state */
    /* the summary, once measured */
    struct figure tput, p50, p99;
    struct pb_hist *merged;
    double c2c_ns;                      /* median over runs with a stable floor; 0 none */
    struct pb_floor_state cpus;         /* of its first run: the CPUs its floor is measured on */
    unsigned floors_unstable;
    bool ok, partial, stalled, unstable;
    /* Failed operations over the summarised runs: not throughput (item 8). */
    uint64_t nfailed, outcomes;
    uint32_t failure_status;
    bool mostly_failed;
    double cancel_rate;
    uint64_t cancel_attempted;
};

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static struct figure figure_of(double *v, unsigned n)
{
    struct figure f = { NAN, NAN, NAN, NAN };
    if (!n)
        return f;
    qsort(v, n, sizeof *v, cmp_double);
    f.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    f.min = v[0];
    f.max = v[n - 1];
    if (n >= 2) {
        double mean = 0, ss = 0;
        for (unsigned i = 0; i < n; i++)
            mean += v[i];
        mean /= n;
        for (unsigned i = 0; i < n; i++)
            ss += (v[i] - mean) * (v[i] - mean);
        f.cv_pct = mean > 0 ? 100 * sqrt(ss / (n - 1)) / mean : NAN;
    }
    return f;
}

#define FLOOR_FACTOR PB_FLOOR_FACTOR_DEFAULT

static bool off_floor(const struct pb_run_result *r, double ref)
{
    struct pb_floor_state f;
    pb_floor_state_of(r, &f);
    return pb_floor_off(&f, ref, FLOOR_FACTOR);
}

/* The floor c's runs are judged by: the median floor of every run of the
 * session measured so far between the same two CPUs as c's (another
 * placement measures another pair). 0: none, or c has no run yet. */
static double config_floor(const struct config *cfg, unsigned ncfg, unsigned slots,
                           const struct config *c)
{
    const struct pb_run_result *first = NULL;
    for (unsigned r = 0; r < slots && !first; r++)
        if (c->have[r])
            first = &c->reps[r];
    struct pb_floor_state *f = malloc((ncfg && slots ? (size_t)ncfg * slots : 1) * sizeof *f);
    if (!first || !f) {
        free(f);
        return 0;
    }
    unsigned n = 0;
    for (unsigned u = 0; u < ncfg; u++)
        for (unsigned r = 0; r < slots; r++)
            if (cfg[u].have[r])
                pb_floor_state_of(&cfg[u].reps[r], &f[n++]);
    struct pb_floor_state like;
    pb_floor_state_of(first, &like);
    double ref = pb_floor_reference_like(f, n, &like);
    free(f);
    return ref;
}

/* A configuration that could not run gets no further repetitions. One
 * whose strategy this build does not have (jemalloc under the sanitizers)
 * is skipped with a note: a sweep over "all" is not a failure for it
 * (issue #10 item 6); anything else is bad input (exit 2). */
static void could_not_run(const char *verb, const char *label, const struct pb_scenario *sc,
                          struct pb_run_result *res, struct config *c, int *status, FILE *out)
{
    if (res->not_available) {
        if (!c->failed)
            fprintf(out, "skipped %s (%s): %s\n", sc->name, label, res->error);
    } else {
        fprintf(stderr, "pendbench %s: %s: %s\n", verb, sc->name, res->error);
        *status = PB_EXIT_USAGE;
    }
    pb_run_result_free(res);
    c->failed = true;
}

static void config_label(const struct pb_scenario *s, char *buf, size_t size);

/* The longest a run may last: --duration's limit (pb_scenario_validate). */
#define MAX_RUN_S 1e6
/* An --ops run its own settings keep longer than this gets a note. */
#define OPS_NOTE_S 60.0

/* The least time an open loop's arrivals (its rate, and its bursts)
 * need to bring its --ops operations: the smallest window w with
 * pb_scenario_allows(sc, w) >= ops with the service times left out, found
 * by bisection (the arrivals never fall as w grows; with bursts they are
 * a step function). The service times are left out because allows' bound
 * from them is the workers' alone, and an operation that is not pended
 * (pend-fraction 0, fast I/O) is served in its requester: no lower bound
 * on the time. 0 in a closed loop; more than MAX_RUN_S when not even
 * that window brings them. */
static double least_time_for_ops(const struct pb_scenario *sc)
{
    if (!sc->ops || !(sc->rate > 0))
        return 0;
    struct pb_scenario arrivals = *sc;
    char err[200];
    if (pb_scenario_set(&arrivals, "service", "0", err, sizeof err) != 0 ||
        pb_scenario_set(&arrivals, "fs-service", "0", err, sizeof err) != 0)
        return 0;
    double ops = (double)sc->ops;
    if (pb_scenario_allows(&arrivals, MAX_RUN_S) < ops)
        return 2 * MAX_RUN_S;
    double lo = 0, hi = MAX_RUN_S;
    for (int i = 0; i < 64 && hi - lo > 1e-6; i++) {
        double mid = (lo + hi) / 2;
        if (pb_scenario_allows(&arrivals, mid) >= ops)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* Measures repetition r of configuration c into its slot: pb_run, then the
 * bookkeeping every measured repetition gets. false when it could not run. */
static bool measure_one(const struct pb_session *s, struct config *c, unsigned r,
                        struct pb_run_env *env, struct pb_progress *prog, unsigned *done,
                        int *status, FILE *out)
{
    const struct pb_scenario *sc = &s->sc[c->display];
    char label[200];
    config_label(sc, label, sizeof label);
    prog->label = label;
    env->topo = c->topo;
    struct pb_run_result *res = &c->reps[r];
    int rc = pb_run(sc, env, res);
    pb_progress_clear(prog);
    prog->label = NULL;
    if (rc != 0) {
        could_not_run(s->verb, label, sc, res, c, status, out);
        return false;
    }
    res->repetition = r;
    res->order = (*done)++;
    c->have[r] = true;
    if (!res->invariants.ok) {
        fprintf(stderr, "pendbench %s: %s: invariants FAILED: %s\n", s->verb, label,
                res->invariants.why);
        *status = PB_EXIT_FAILED;
    }
    return true;
}

/* Summarises the runs in the majority's machine state (all when none is). */
static void summarise(struct config *c, unsigned slots, double max_cv, double ref)
{
    double tp[2000], a[2000], b[2000], c2c[2000];
    const struct pb_run_result *measured[2000] = { 0 };   /* 0: gcc cannot see nm bound the reads */
    bool keep[2000];
    unsigned n = 0, nc = 0, nm = 0;
    for (unsigned r = 0; r < slots && nm < 2000; r++)
        if (c->have[r])
            measured[nm++] = &c->reps[r];
    pb_floor_screen(measured, nm, ref, FLOOR_FACTOR, keep);
    if (nm)
        pb_floor_state_of(measured[0], &c->cpus);
    c->ok = true;
    c->screened = 0;
    c->cancel_attempted = 0;
    c->floors_unstable = 0;
    c->nfailed = c->outcomes = 0;
    c->failure_status = 0;
    c->mostly_failed = false;
    pb_hist_init(c->merged);
    uint64_t won = 0;
    for (unsigned i = 0; i < nm; i++) {
        const struct pb_run_result *x = measured[i];
        c->ok &= x->invariants.ok;
        if (!keep[i]) {
            c->screened++;
            continue;
        }
        tp[n] = x->throughput_ops_s;
        a[n] = (double)pb_hist_percentile(&x->total, 50);
        b[n] = (double)pb_hist_percentile(&x->total, 99);
        n++;
        pb_hist_merge(c->merged, &x->total);
        c->partial |= x->partial;
        c->stalled |= x->stalled;
        if (x->c2c_round_trip_ns > 0 && !x->floor_unstable)
            c2c[nc++] = x->c2c_round_trip_ns;
        c->floors_unstable += x->c2c_round_trip_ns > 0 && x->floor_unstable;
        won += x->cancel.won;
        c->cancel_attempted += x->cancel.attempted;
        c->nfailed += x->failed;
        c->outcomes += x->completed + x->completed_cancelled + x->failed;
        c->mostly_failed |= x->mostly_failed;
        if (!c->failure_status)
            c->failure_status = x->failure_status;
    }
    c->nreps = n;
    c->tput = figure_of(tp, n);
    c->p50 = figure_of(a, n);
    c->p99 = figure_of(b, n);
    c->c2c_ns = nc ? figure_of(c2c, nc).median : 0;
    c->cancel_rate = c->cancel_attempted ? (double)won / (double)c->cancel_attempted : 0;
    c->unstable = (isfinite(c->tput.cv_pct) && c->tput.cv_pct > max_cv) ||
                  (isfinite(c->p50.cv_pct) && c->p50.cv_pct > max_cv);
}

static const char *fmt_rate(double v, char *buf, size_t size)
{
    if (!isfinite(v))
        snprintf(buf, size, "-");
    else if (v >= 1e6)
        snprintf(buf, size, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, size, "%.1fk", v / 1e3);
    else
        snprintf(buf, size, "%.0f", v);
    return buf;
}

static const char *fmt_cv(double cv, char *buf, size_t size)
{
    if (isfinite(cv))
        snprintf(buf, size, "%.1f%%", cv);
    else
        snprintf(buf, size, "-");
    return buf;
}

static void config_label(const struct pb_scenario *s, char *buf, size_t size)
{
    /* People's text: cut when it does not fit. */
    if (snprintf(buf, size, "%s %s/%s/%s%s%s", s->name, s->pool, s->queue, s->handoff,
                 s->lock[0] ? " lock " : "", s->lock) < 0 && size)
        buf[0] = 0;
}

/* The line after a configuration's last repetition. */
static void aggregate_line(FILE *out, const struct config *c, const struct pb_scenario *s)
{
    char label[200], m[16], lo[16], hi[16], cv[16], a[16], b[16], d[16], e[16], f[16], g[16];
    config_label(s, label, sizeof label);
    fprintf(out, "  %-54.54s %2u reps  ops/s %s [%s-%s] cv %s", label, c->nreps,
            fmt_rate(c->tput.median, m, sizeof m), fmt_rate(c->tput.min, lo, sizeof lo),
            fmt_rate(c->tput.max, hi, sizeof hi), fmt_cv(c->tput.cv_pct, cv, sizeof cv));
    fprintf(out, "  p50 %s [%s-%s] cv %s", pb_fmt_ns(c->p50.median, a, sizeof a),
            pb_fmt_ns(c->p50.min, b, sizeof b), pb_fmt_ns(c->p50.max, d, sizeof d),
            fmt_cv(c->p50.cv_pct, cv, sizeof cv));
    fprintf(out, "  p99 %s [%s-%s] cv %s", pb_fmt_ns(c->p99.median, e, sizeof e),
            pb_fmt_ns(c->p99.min, f, sizeof f), pb_fmt_ns(c->p99.max, g, sizeof g),
            fmt_cv(c->p99.cv_pct, cv, sizeof cv));
    if (c->screened)
        fprintf(out, "  (%u in another machine state left out)", c->screened);
    fprintf(out, "%s\n", !c->ok ? "  FAILED" : c->unstable ? "  UNSTABLE" : "");
}

/* A configuration and its baseline summarised in different machine states:
 * their c2c floors (medians over the summarised runs) beyond FLOOR_FACTOR
 * apart, as when a VM's vCPUs moved from one pair of cores to another. */
static bool states_differ(const struct config *a, const struct config *b)
{
    /* Floors measured between other CPUs differ by design (a cross-node
     * placement): no verdict on the state from them. */
    if (a->cpus.cpu_lo != b->cpus.cpu_lo || a->cpus.cpu_hi != b->cpus.cpu_hi)
        return false;
    struct pb_floor_state fa = { .start_ns = a->c2c_ns, .end_ns = a->c2c_ns };
    return pb_floor_off(&fa, b->c2c_ns, FLOOR_FACTOR);     /* false when either has none */
}

static void print_table(FILE *out, const struct pb_session *s, struct config *cfg,
                        const unsigned *cfg_of, unsigned repeat)
{
    bool reps = repeat > 1;
    fprintf(out, "%-13s %-54s %11s %9s %9s %9s %7s %8s %8s %s%s\n", "scenario",
            "pool / queue / handoff", reps ? "ops/s(med)" : "ops/s", "p50", "p99", "p99.9",
            "cancel", "vs base", "p50/c2c", reps ? "cv      " : "", "ok");
    unsigned withheld = 0, apart = 0;
    for (unsigned i = 0; i < s->n; i++) {
        const struct config *c = &cfg[cfg_of[i]];
        if (!c->nreps)
            continue;
        const struct pb_scenario *sc = &s->sc[i];
        char strat[240], a[16], b[16], d[16], cancel[16], base[16], c2c[16], cv[16];
        /* A chosen lock is part of what was measured: shown after the strategies. */
        snprintf(strat, sizeof strat, "%s / %s / %s%s%s", sc->pool, sc->queue, sc->handoff,
                 sc->lock[0] ? " [" : "", sc->lock[0] ? sc->lock : "");
        if (sc->lock[0])
            strncat(strat, "]", sizeof strat - strlen(strat) - 1);
        double p50 = (double)pb_hist_percentile(c->merged, 50);
        bool timed = c->merged->count > 0;    /* none: no latency to show, not 0 ns */
        pb_fmt_ns(p50, a, sizeof a);
        pb_fmt_ns((double)pb_hist_percentile(c->merged, 99), b, sizeof b);
        pb_fmt_ns((double)pb_hist_percentile(c->merged, 99.9), d, sizeof d);
        if (!timed) {
            snprintf(a, sizeof a, "-");
            snprintf(b, sizeof b, "-");
            snprintf(d, sizeof d, "-");
        }
        if (c->cancel_attempted)
            snprintf(cancel, sizeof cancel, "%.1f%%", 100 * c->cancel_rate);
        else
            snprintf(cancel, sizeof cancel, "-");
        int bi = s->baseline_of ? s->baseline_of[i] : -1;
        const struct config *bc = bi >= 0 ? &cfg[cfg_of[bi]] : NULL;
        if (bi == (int)i)
            snprintf(base, sizeof base, "base");
        else if (bc && bc->nreps && bc->tput.median > 0) {
            bool differ = states_differ(c, bc);
            snprintf(base, sizeof base, "%.2fx%s", c->tput.median / bc->tput.median,
                     differ ? "*" : "");
            apart += differ;
        }
        else
            snprintf(base, sizeof base, "-");
        if (c->c2c_ns > 0 && timed) {
            snprintf(c2c, sizeof c2c, "%.1fx", p50 / c->c2c_ns);
        } else if (c->floors_unstable) {
            snprintf(c2c, sizeof c2c, "?");
            withheld++;
        } else {
            snprintf(c2c, sizeof c2c, "-");
        }
        char status[120], fails[80] = "";
        if (c->nfailed)
            snprintf(fails, sizeof fails, " %s %.1f%% %s",
                     c->mostly_failed ? "MOSTLY FAILED:" : "failed",
                     c->outcomes ? 100.0 * (double)c->nfailed / (double)c->outcomes : 0.0,
                     nt_status_name((NTSTATUS)c->failure_status));
        snprintf(status, sizeof status, "%s%s%s%s", !c->ok ? (c->stalled ? "STALLED" : "FAILED") : "ok",
                 c->unstable ? " unstable" : "", c->partial ? " (partial)" : "", fails);
        if (reps)
            fprintf(out, "%-13.13s %-54.54s %11.0f %9s %9s %9s %7s %8s %8s %-8s %s\n", sc->name,
                    strat, c->tput.median, a, b, d, cancel, base, c2c,
                    fmt_cv(c->tput.cv_pct, cv, sizeof cv), status);
        else
            fprintf(out, "%-13.13s %-54.54s %11.0f %9s %9s %9s %7s %8s %8s %s\n", sc->name, strat,
                    c->tput.median, a, b, d, cancel, base, c2c, status);
    }
    if (apart)
        fprintf(out, "vs base '*': %u configuration%s and %s baseline ran in different machine "
                     "states (c2c floors over %.1fx apart, even when measured again): no "
                     "comparison; run again\n",
                apart, apart == 1 ? "" : "s", apart == 1 ? "its" : "their", FLOOR_FACTOR);
    if (withheld)
        fprintf(out, "p50/c2c '?': the c2c floor was unstable around every repetition of %u "
                     "configuration%s (moved or spread wide; see floor_note in the result)\n",
                withheld, withheld == 1 ? "" : "s");
}

/* The floors line: the first measured floor, and how it held across the session. */
static void print_floors(FILE *out, const struct config *cfg, unsigned ncfg, unsigned slots)
{
    const struct pb_run_result *f = NULL;
    double med[2000];
    unsigned n = 0, unstable = 0, total = 0, every_lo = 0, every_hi = 0;
    for (unsigned u = 0; u < ncfg; u++)
        for (unsigned r = 0; r < slots; r++) {
            if (!cfg[u].have[r])
                continue;
            const struct pb_run_result *x = &cfg[u].reps[r];
            if (!f)
                f = x;
            if (x->latency_every >= 1) {
                every_lo = every_lo && every_lo < x->latency_every ? every_lo : x->latency_every;
                every_hi = every_hi > x->latency_every ? every_hi : x->latency_every;
            }
            if (x->c2c_round_trip_ns > 0 && n < 2000) {
                med[n++] = x->c2c_round_trip_ns;
                total++;
                unstable += x->floor_unstable;
            }
        }
    if (!f)
        return;
    char a[16], b[16], c[16], lo[16], hi[16];
    struct figure fl = figure_of(med, n);
    if (n)
        fprintf(out, "\nfloors: c2c round trip %s (median of %u run%s; range %s-%s; CPUs %d,%d), ",
                pb_fmt_ns(fl.median, a, sizeof a), n, n == 1 ? "" : "s",
                pb_fmt_ns(fl.min, lo, sizeof lo), pb_fmt_ns(fl.max, hi, sizeof hi),
                f->c2c_os_cpu_a, f->c2c_os_cpu_b);
    else
        fprintf(out, "\nfloors: c2c round trip n/a, ");
    fprintf(out, "timestamp %s, futex wake-to-run %s; instrumentation %.1f ns/op",
            pb_fmt_ns(f->timestamp_overhead_ns, b, sizeof b),
            f->futex_wake_ns > 0 ? pb_fmt_ns(f->futex_wake_ns, c, sizeof c) : "n/a",
            f->instrumentation_ns_per_op);
    /* latency-every: the share of operations whose latency was timed. */
    if (every_hi > 1 && every_lo == every_hi)
        fprintf(out, " (latency timed on ~1 op in %u)", every_hi);
    else if (every_hi > 1)
        fprintf(out, " (latency timed on ~1 op in %u to %u)", every_lo, every_hi);
    fputc('\n', out);
    if (unstable)
        fprintf(out, "floors: the c2c floor was unstable in %u of %u run%s (moved between before "
                     "and after the window, or spread wide): their ratios are withheld\n",
                unstable, total, total == 1 ? "" : "s");
}

/* ---- saving and recording ------------------------------------------------------------ */

static void write_suite_report(FILE *out, const char *verb, const char *result_path)
{
    char html[PATH_MAX], err[512];
    const char *slash = strrchr(result_path, '/');
    int dirlen = slash ? (int)(slash - result_path) + 1 : 0;
    /* A cut name would be a page written elsewhere. */
    if ((size_t)snprintf(html, sizeof html, "%.*sreport.html", dirlen, result_path) >=
        sizeof html) {
        fprintf(stderr, "pendbench %s: warning: no report.html: the name beside %s is too long\n",
                verb, result_path);
        return;
    }
    struct pb_html_stats st;
    if (pb_html_report_file(result_path, html, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench %s: warning: no report.html: %s\n", verb, err);
        return;
    }
    fprintf(out, "report: %s\n", html);
    if (st.gnuplot_missing)
        fprintf(stderr, "pendbench %s: warning: the report has no charts: charts need gnuplot "
                        "(gnuplot-nox): %s\n", verb, st.note);
    else if (st.gnuplot_timed_out)
        fprintf(stderr, "pendbench %s: warning: %s; %u chart%s of the report not drawn\n", verb,
                st.note, st.charts_failed, st.charts_failed == 1 ? "" : "s");
    else if (st.charts_failed)
        fprintf(stderr, "pendbench %s: warning: %u chart%s of the report could not be drawn: %s\n",
                verb, st.charts_failed, st.charts_failed == 1 ? "" : "s", st.note);
}

/* --history-db, else $PENDBENCH_HISTORY_DB, else the default file. */
static const char *history_path(const struct pb_session *s)
{
    const char *db = s->history_db ? s->history_db : getenv("PENDBENCH_HISTORY_DB");
    return db && *db ? db : PB_HISTORY_DEFAULT;
}

/* A history that cannot be written costs a warning, never the results or
 * the exit status. */
static void record_history(const struct pb_session *s, const struct pb_context *ctx,
                           const struct pb_run_result *runs, unsigned n, const char *result_path)
{
    if (s->no_history || n == 0)
        return;
    const char *db = history_path(s);
    if (strcmp(db, PB_HISTORY_DEFAULT) == 0 && mkdir("results", 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "pendbench %s: history not recorded: cannot create results/: %s\n",
                s->verb, strerror(errno));
        return;
    }
    char err[512];
    /* Absolute, so the record still finds the file from another directory. */
    char *abs = result_path ? realpath(result_path, NULL) : NULL;
    if (pb_history_record(db, ctx, runs, n, abs ? abs : result_path, err, sizeof err) != 0)
        fprintf(stderr, "pendbench %s: history not recorded: %s\n", s->verb, err);
    free(abs);
}

static void fill_context(struct pb_context *ctx, const struct pb_session *s,
                         const struct pb_run_result *runs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (runs[i].c2c_round_trip_ns > 0 && ctx->c2c_round_trip_ns == 0)
            ctx->c2c_round_trip_ns = runs[i].c2c_round_trip_ns;
        if (runs[i].timestamp_overhead_ns > 0 && ctx->timestamp_overhead_ns == 0)
            ctx->timestamp_overhead_ns = runs[i].timestamp_overhead_ns;
        if (runs[i].futex_wake_ns > 0 && ctx->futex_wake_ns == 0)
            ctx->futex_wake_ns = runs[i].futex_wake_ns;
        if (runs[i].partial)
            ctx->partial = true;
        if (runs[i].nthreads > ctx->env.max_threads)
            ctx->env.max_threads = runs[i].nthreads;
        ctx->env.migrations += runs[i].migrations;
        if (runs[i].others_pct >= PB_OTHERS_BUSY_PCT)
            ctx->env.others_busy_runs++;
        if (runs[i].others_pct > ctx->env.others_pct_max)
            ctx->env.others_pct_max = runs[i].others_pct;
        ctx->env.smt_siblings_used |= runs[i].smt_siblings_used;
    }
    ctx->tsc_ticks_per_ns = pb_tsc_ticks_per_ns();
    snprintf(ctx->command, sizeof ctx->command, "%s", s->command);
    ctx->interleaved = s->interleave;
    ctx->interleave_seed = s->seed;
    ctx->repetitions = s->repeat;
}

/* ---- the session ------------------------------------------------------------------------ */

/* Waits (within the session's allowance) for the c2c floor between the
 * CPUs of c's runs to come back near ref. */
static void wait_for_state(const struct pb_session *s, const struct config *c, double ref,
                           struct pb_state_wait *sw, FILE *out)
{
    const struct pb_run_result *first = NULL;
    for (unsigned r = 0; !first; r++)
        if (c->have[r])
            first = &c->reps[r];
    pb_wait_for_state(sw, first->c2c_os_cpu_a, first->c2c_os_cpu_b, ref, FLOOR_FACTOR,
                      s->quiet ? NULL : out);
}

int pb_session_run(struct pb_session *s)
{
    const char *verb = s->verb;
    /* An output that cannot be written is bad input, found before the
     * runs rather than after them (issue #10 item 7). */
    char why[600];
    if (s->json_path && pb_check_output_path(s->json_path, why, sizeof why) != 0) {
        fprintf(stderr, "pendbench %s: --json: %s\n", verb, why);
        return PB_EXIT_USAGE;
    }
    /* Nor may it replace a file the session reads (the plugins are
     * pb_output_is_input's own; topo_of, the suite's simulated topology,
     * is no file). */
    const struct pb_input inputs[] = {
        { "the history database", s->no_history ? NULL : history_path(s) },
        { "the job file", s->jobfile },
        { "the topology XML", s->topo ? pb_topo_xml_file(s->topo) : NULL },
    };
    if (pb_output_is_input(verb, "--json", s->json_path, "the result", inputs,
                           sizeof inputs / sizeof inputs[0]))
        return PB_EXIT_USAGE;
    /* A lock without mutual exclusion corrupts the structures it guards
     * and can crash the process: stress runs it in a child process and
     * reports what it broke; a session has no such shield. */
    for (unsigned i = 0; i < s->n; i++) {
        const char *name = s->sc[i].lock;
        const struct pb_lock_ops *lk =
            !name[0] ? NULL
            : pb_plugin_is_path(name) ? pb_plugin_load(name, PB_PLUGIN_LOCK, why, sizeof why)
                                      : pb_lock_find(name);
        if (lk && (lk->flags & PB_BROKEN)) {
            fprintf(stderr, "pendbench %s: lock '%s' is broken on purpose (no mutual exclusion: it "
                            "can corrupt memory and crash the run); `pendbench stress --lock %s` "
                            "runs it in a child process and reports what it breaks\n",
                    verb, lk->name, lk->name);
            return PB_EXIT_USAGE;
        }
    }
    /* A history named on the command line or in the environment is
     * checked as well (a path in a missing folder, a device, a file that is
     * not a history, a server that cannot be reached): both were asked for
     * (the environment's cost a warning after the runs, exit 0). The
     * default one, whose folder the record makes, costs a warning at the
     * end if it cannot be written. */
    const char *env_db = getenv("PENDBENCH_HISTORY_DB");
    if (!s->no_history && (s->history_db || (env_db && *env_db)) &&
        pb_history_check(history_path(s), why, sizeof why) != 0) {
        fprintf(stderr, "pendbench %s: %s: %s (or --no-history)\n", verb,
                s->history_db ? "--history-db" : "$PENDBENCH_HISTORY_DB", why);
        return PB_EXIT_USAGE;
    }
    bool json_stdout = s->json_path && strcmp(s->json_path, "-") == 0;
    /* With the document on stdout, everything for a person goes to stderr. */
    FILE *out = json_stdout ? stderr : stdout;
    unsigned repeat = s->repeat ? s->repeat : 1;
    /* Room for the extra repetitions of runs in another machine state. */
    unsigned slots = 2 * repeat;

    /* One configuration per distinct scenario (and topology). */
    unsigned *cfg_of = calloc(s->n ? s->n : 1, sizeof *cfg_of);
    struct config *cfg = calloc(s->n ? s->n : 1, sizeof *cfg);
    unsigned ncfg = 0;
    int status = PB_EXIT_OK;
    if (!cfg_of || !cfg)
        goto oom;
    for (unsigned i = 0; i < s->n; i++) {
        const struct pb_topo *t = s->topo_of && s->topo_of[i] ? s->topo_of[i] : s->topo;
        unsigned u;
        for (u = 0; u < ncfg; u++)
            if (cfg[u].topo == t && pb_scenario_equal(&s->sc[cfg[u].display], &s->sc[i]))
                break;
        if (u == ncfg) {
            cfg[u].display = i;
            cfg[u].topo = t;
            ncfg++;
        }
        cfg_of[i] = u;
    }

    /* Every run's result stays in memory to the end (the table, the
     * result file, which copies them): ~100 KB each, its histograms. A
     * session whose results would not fit in half the machine's memory is
     * refused now, not found out hours in (a sweep of every strategy x 8
     * thread counts x --repeat 1000 is 1.3 M runs, ~250 GB). */
    uint64_t planned = (uint64_t)ncfg * repeat;
    uint64_t per_run = 2 * sizeof(struct pb_run_result);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (mem && planned * per_run > mem / 2) {
        fprintf(stderr,
                "pendbench %s: %u configuration%s x %u repetition%s = %llu runs: their results "
                "(%.1f GiB, kept to the end) would not fit in half of this machine's %.1f GiB; "
                "at most %llu runs in one invocation: fewer strategies, thread counts or "
                "repetitions, or several invocations\n",
                verb, ncfg, ncfg == 1 ? "" : "s", repeat, repeat == 1 ? "" : "s",
                (unsigned long long)planned, (double)(planned * per_run) / (1u << 30),
                (double)mem / (1u << 30), (unsigned long long)(mem / 2 / per_run));
        status = PB_EXIT_USAGE;
        goto out;
    }
    /* A window its own settings leave empty (a 5 s service time in a
     * 0.2 s window) measures nothing; said before the runs, not read off
     * a row of dashes after them. With --ops the window is not the
     * duration (ops replaces it, and the default 2 s stays in the
     * scenario; the note named it): it lasts until the ops are done,
     * which an open loop's rate may make take hours (--rate 10 --ops
     * 10k: 1000 s) with nothing said. Beyond the longest a run may last
     * (MAX_RUN_S, --duration's limit) that is a hang, refused; beyond a
     * minute, a note. */
    for (unsigned u = 0; u < ncfg; u++) {
        const struct pb_scenario *sc = &s->sc[cfg[u].display];
        if (!sc->ops) {
            if (!s->quiet && sc->duration_s > 0 && pb_scenario_allows(sc, sc->duration_s) < 1)
                fprintf(out, "note: %s: its service time or arrival rate allows fewer than one "
                        "completion in its %g s window: it may measure nothing (lengthen "
                        "--duration)\n", sc->name, sc->duration_s);
            continue;
        }
        double least = least_time_for_ops(sc);
        if (least > MAX_RUN_S) {
            fprintf(stderr, "pendbench %s: %s: its arrival rate brings its %llu operations "
                    "(--ops) in more than %g s, the longest a run may last: lower --ops or "
                    "raise --rate\n", verb, sc->name, (unsigned long long)sc->ops, MAX_RUN_S);
            status = PB_EXIT_USAGE;
            goto out;
        }
        if (!s->quiet && least > OPS_NOTE_S)
            fprintf(out, "note: %s: its arrival rate brings its %llu operations (--ops) in "
                    "no less than %.0f s\n", sc->name, (unsigned long long)sc->ops, least);
    }
    for (unsigned u = 0; u < ncfg; u++) {
        cfg[u].reps = calloc(slots, sizeof *cfg[u].reps);
        cfg[u].have = calloc(slots, sizeof *cfg[u].have);
        cfg[u].merged = malloc(sizeof *cfg[u].merged);
        if (!cfg[u].reps || !cfg[u].have || !cfg[u].merged)
            goto oom;
    }

    /* The order: round r measures every configuration once. */
    if (!s->seed_given) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->seed = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
    }
    unsigned total = ncfg * repeat;
    unsigned *order = calloc(total ? total : 1, sizeof *order);     /* u * repeat + r */
    if (!order)
        goto oom;
    struct pb_rng rng;
    pb_rng_seed(&rng, s->seed, 0);
    for (unsigned r = 0, k = 0; r < repeat; r++) {
        unsigned *round = order + r * ncfg;
        for (unsigned u = 0; u < ncfg; u++)
            round[u] = u;
        for (unsigned u = ncfg; s->interleave && u > 1; u--) {   /* Fisher-Yates */
            unsigned j = (unsigned)pb_rng_below(&rng, u);
            unsigned t = round[u - 1];
            round[u - 1] = round[j];
            round[j] = t;
        }
        for (unsigned u = 0; u < ncfg; u++, k++)
            order[k] = round[u] * repeat + r;
    }
    if (!s->interleave)        /* back to back: configuration-major */
        for (unsigned k = 0; k < total; k++)
            order[k] = k;

    struct pb_context ctx;
    pb_context_collect(&ctx, s->topo ? pb_topo_description(s->topo) : "machine");
    pb_env_begin(&ctx.env);

    pb_install_interrupt();
    struct pb_progress prog = { .enabled = !s->quiet && isatty(2), .total = total };
    struct pb_run_env env = { .stop = &pb_interrupted, .progress = pb_progress_cb,
                              .progress_arg = &prog };
    unsigned done = 0;
    struct pb_state_wait sw;
    pb_state_wait_begin(&sw);
    if (repeat > 1 && !s->quiet)
        fprintf(out, "%u configuration%s x %u repetitions, %s (seed %llu)\n", ncfg,
                ncfg == 1 ? "" : "s", repeat,
                s->interleave ? "interleaved in random rounds" : "back to back",
                (unsigned long long)s->seed);
    for (unsigned k = 0; k < total && !pb_interrupted; k++) {
        unsigned u = order[k] / repeat, r = order[k] % repeat;
        struct config *c = &cfg[u];
        if (c->failed)
            continue;
        prog.index = k + 1;
        measure_one(s, c, r, &env, &prog, &done, &status, out);
    }

    /* Runs in another machine state than the majority: measured again, in
     * rounds over the configurations that lack clean repetitions. */
    /* Fewer than 3 runs in all make no majority to judge them by. */
    bool judge = ncfg * repeat >= 3;
    unsigned *next = calloc(ncfg ? ncfg : 1, sizeof *next), extra_runs = 0;
    for (unsigned u = 0; next && u < ncfg; u++)
        next[u] = repeat;
    for (bool more = judge && next; more && !pb_interrupted;) {
        more = false;
        unsigned *round = order;               /* reused: a permutation of the configurations */
        for (unsigned u = 0; u < ncfg; u++)
            round[u] = u;
        for (unsigned u = ncfg; s->interleave && u > 1; u--) {
            unsigned j = (unsigned)pb_rng_below(&rng, u);
            unsigned t = round[u - 1];
            round[u - 1] = round[j];
            round[j] = t;
        }
        for (unsigned i = 0; i < ncfg && !pb_interrupted; i++) {
            struct config *c = &cfg[round[i]];
            double ref = config_floor(cfg, ncfg, slots, c);
            if (!(ref > 0))
                continue;
            unsigned clean = 0;
            for (unsigned r = 0; r < next[round[i]]; r++)
                clean += c->have[r] && !off_floor(&c->reps[r], ref);
            if (c->failed || clean >= repeat || next[round[i]] >= slots)
                continue;
            if (!extra_runs && !s->quiet)
                fprintf(out, "runs in another machine state (c2c floor off the session's %.0f ns "
                             "median for their CPUs): measuring them again\n", ref);
            wait_for_state(s, c, ref, &sw, out);
            if (pb_interrupted)
                break;
            unsigned r = next[round[i]]++;
            extra_runs++;
            more |= measure_one(s, c, r, &env, &prog, &done, &status, out);
        }
    }
    free(next);
    if (repeat > 1 && !s->quiet)
        for (unsigned u = 0; u < ncfg; u++)
            if (cfg[u].nreps || !cfg[u].failed) {
                summarise(&cfg[u], slots, s->max_cv_pct, config_floor(cfg, ncfg, slots, &cfg[u]));
                if (cfg[u].nreps)
                    aggregate_line(out, &cfg[u], &s->sc[cfg[u].display]);
            }

    /* The runs in configuration order, for the file and the history. */
    struct pb_run_result *runs = calloc(done ? done : 1, sizeof *runs);
    if (!runs)
        goto oom_order;
    unsigned nruns = 0;
    for (unsigned u = 0; u < ncfg; u++) {
        summarise(&cfg[u], slots, s->max_cv_pct, config_floor(cfg, ncfg, slots, &cfg[u]));
        for (unsigned r = 0; r < slots; r++)
            if (cfg[u].have[r])
                runs[nruns++] = cfg[u].reps[r];     /* shallow: pairs stay owned by cfg */
    }
    fill_context(&ctx, s, runs, nruns);
    pb_env_end(&ctx.env);

    if (nruns) {
        fprintf(out, "\n");
        print_table(out, s, cfg, cfg_of, repeat);
        print_floors(out, cfg, ncfg, slots);
        fprintf(out, "latency is pend-to-completion; 'vs base' is throughput against the group's "
                     "baseline; p50/c2c is p50 over the measured round trip%s\n",
                repeat > 1 ? "; with repetitions: ops/s is their median, percentiles come from "
                             "their merged histograms, cv is throughput's" : "");
        for (unsigned w = 0; w < ctx.env.nwarnings; w++)
            fprintf(out, "warning: %s\n", ctx.env.warnings[w]);
    }
    /* Every configuration was skipped as not available in this build
     * (one refused for another reason has already set exit 2): nothing
     * was measured and there is no result file to write. Exit 0 would
     * read as a pass, with the --json file a script expects missing;
     * asking only for what this build lacks is bad input. The skip stays
     * a note when something else in the session ran (a sweep over all). */
    if (!nruns && !pb_interrupted && status == PB_EXIT_OK) {
        fprintf(stderr, "pendbench %s: nothing measured: every configuration was skipped "
                        "(its strategy is not available in this build)\n", verb);
        status = PB_EXIT_USAGE;
    }
    if (pb_interrupted)
        fprintf(stderr, "pendbench %s: interrupted: %u of %u run%s measured, saved as partial\n",
                verb, done, total, total == 1 ? "" : "s");
    char written[PATH_MAX] = "";       /* the whole name (pb_check_output_path: it fits) */
    if ((s->json_path || s->suite_dir) && nruns) {
        /* An output that fails once written to (a full disk, /dev/full) is
         * bad input like one refused before the run: exit 2; the document
         * went to stdout instead. */
        if (pb_save_results(s->json_path, s->suite_dir, &ctx, runs, nruns, written,
                            sizeof written) != 0 && status == PB_EXIT_OK)
            status = PB_EXIT_USAGE;
        else if (written[0])
            fprintf(out, "results: %s\n", written);
        if (s->suite_dir && written[0])
            write_suite_report(out, verb, written);
    }
    record_history(s, &ctx, runs, nruns, written[0] ? written : NULL);
    free(runs);
    if (pb_interrupted && status == PB_EXIT_OK)
        status = pb_interrupted_status();
    goto out_order;

oom_order:
    fprintf(stderr, "pendbench %s: out of memory\n", verb);
    status = PB_EXIT_USAGE;
out_order:
    free(order);
    goto out;
oom:
    fprintf(stderr, "pendbench %s: out of memory\n", verb);
    status = PB_EXIT_USAGE;
out:
    for (unsigned u = 0; cfg && u < ncfg; u++) {
        for (unsigned r = 0; cfg[u].reps && r < slots; r++)
            if (cfg[u].have && cfg[u].have[r])
                pb_run_result_free(&cfg[u].reps[r]);
        free(cfg[u].reps);
        free(cfg[u].have);
        free(cfg[u].merged);
    }
    free(cfg);
    free(cfg_of);
    return status;
}
