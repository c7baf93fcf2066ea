/* pendbench-micro --summary: the ratios the project tracks, from this run's
 * results as Google Benchmark wrote them (JSON, read with jansson). A ratio
 * is printed with its target and "met" / "NOT met"; nothing is asserted:
 * these are reports, and a shared or small machine may miss a target that
 * a quiet one meets. With --benchmark_repetitions, a benchmark's value is
 * the median of its repetitions (one repetition preempted for a time slice
 * moves a mean by several times; with --benchmark_enable_random_interleaving
 * the repetitions of every benchmark spread over the same minutes). A
 * benchmark that was filtered out or failed gives "n/a". */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "micro.h"
#include "pb_calibrate.h"

/* The c2c floor as the run engine measures it (pb_calibrate.h: pinned, a
 * warm-up, the median of batches of round trips and its p10-p90 spread),
 * between the first two CPUs this process may use. The benchmark
 * floor/c2c_round_trip reports a mean over Google Benchmark's iterations,
 * which a single preemption can pull far up on a shared machine; ratios
 * are taken against this median so that micro and the suite divide by the
 * same floor. 0 when fewer than two CPUs. */
static double measured_c2c(struct pb_floor *f, unsigned *cpu_a, unsigned *cpu_b)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    int found = 0;
    for (unsigned c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &set))
            *(found++ ? cpu_b : cpu_a) = c;
    if (found < 2 || pb_measure_c2c_round_trip(*cpu_a, *cpu_b, 200, f) != 0)
        return 0;
    return f->median_ns;
}

static json_t *benchmarks;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAX_REPS 256

/* Median of counter key over the successful repetitions of benchmark name
 * (the mean of the middle two for an even count); NAN when there is none. */
static double value(const char *name, const char *key)
{
    double v[MAX_REPS];
    unsigned n = 0;
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        const char *bn = json_string_value(json_object_get(b, "name"));
        const char *type = json_string_value(json_object_get(b, "run_type"));
        if (!bn || strcmp(bn, name) != 0 || (type && strcmp(type, "iteration") != 0))
            continue;
        if (json_is_true(json_object_get(b, "error_occurred")))
            continue;
        json_t *x = json_object_get(b, key);
        if (!json_is_number(x) || n == MAX_REPS)
            continue;
        v[n++] = json_number_value(x);
    }
    if (!n)
        return NAN;
    qsort(v, n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool failed(const char *name)
{
    size_t i;
    json_t *b;
    json_array_foreach(benchmarks, i, b) {
        const char *bn = json_string_value(json_object_get(b, "name"));
        if (bn && strcmp(bn, name) == 0 && json_is_true(json_object_get(b, "error_occurred")))
            return true;
    }
    return false;
}

enum want { AT_LEAST, AT_MOST, INFO };

/* A ratio row: num over den against the target, or "n/a" naming the
 * benchmark `missing` (whose value is absent) as failed or not run. The
 * values column names the first-named thing's value first: `inverted`
 * says that is den (a figure where lower is better, so theirs over ours). */
static void ratio_row(FILE *out, const char *what, double num, double den, enum want want,
                      double target, const char *unit, const char *missing, bool inverted)
{
    char measured[32], tgt[32], detail[160];
    const char *verdict;
    if (isnan(num) || isnan(den) || den == 0) {
        snprintf(measured, sizeof measured, "n/a");
        verdict = "n/a";
        snprintf(detail, sizeof detail, "%s %s", missing, failed(missing) ? "failed" : "not run");
    } else {
        double r = num / den;
        snprintf(measured, sizeof measured, "%.2fx", r);
        verdict = want == INFO ? "(info)"
                  : (want == AT_LEAST ? r >= target : r <= target) ? "met"
                                                                   : "NOT met";
        if (inverted)
            snprintf(detail, sizeof detail, "%.4g vs %.4g %s (lower is better)", den, num, unit);
        else
            snprintf(detail, sizeof detail, "%.4g vs %.4g %s", num, den, unit);
    }
    if (want == INFO)
        snprintf(tgt, sizeof tgt, "-");
    else
        snprintf(tgt, sizeof tgt, "%s %.1fx", want == AT_LEAST ? ">=" : "<=", target);
    fprintf(out, "  %-52s %9s  %-8s %-8s %s\n", what, measured, tgt, verdict, detail);
}

/* One row: ratio = num / den of the named values, against target. */
static void row(FILE *out, const char *what, const char *num_name, const char *den_name,
                const char *key, enum want want, double target, const char *unit)
{
    double num = value(num_name, key), den = value(den_name, key);
    ratio_row(out, what, num, den, want, target, unit, isnan(num) ? num_name : den_name, false);
}

/* One row of a figure where lower is better: ratio = theirs / ours, so
 * that > 1 still favours `ours`, the first named; the values column shows
 * ours first, as the row's name reads. */
static void lower_row(FILE *out, const char *what, const char *ours, const char *theirs,
                      const char *key, double target, const char *unit)
{
    double o = value(ours, key), t = value(theirs, key);
    ratio_row(out, what, t, o, AT_LEAST, target, unit, isnan(o) ? ours : theirs, true);
}

/* One row from two values already in hand (a counter and the measured
 * floor, or two counters of one benchmark). */
static void floor_row(FILE *out, const char *what, double num, double den, enum want want,
                      double target, const char *bench)
{
    ratio_row(out, what, num, den, want, target, "ns", bench, false);
}

/* Google Benchmark writes NaN, inf and -inf as bare tokens (the cv of a
 * counter that is 0 in every repetition is 0/0), which are not JSON: read
 * the file and turn them into null, which value() skips. */
static json_t *load_results(const char *path, json_error_t *err, bool *oom)
{
    *oom = false;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->text, sizeof err->text, "cannot open it: %s", strerror(errno));
        err->line = 0;
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (!buf) {
        *oom = true;
        return NULL;
    }
    if (len == 0) {
        free(buf);
        snprintf(err->text, sizeof err->text, "it is empty");
        err->line = 0;
        return NULL;
    }
    static const char *const bad[] = { "-Infinity", "Infinity", "-inf", "NaN", "nan", "inf" };
    /* Each token becomes "null" (at most one byte longer): outside strings
     * only, i.e. right after a ':' (a name never holds a bare token there). */
    char *fixed = malloc(2 * len + 1);
    size_t o = 0;
    for (size_t i = 0; fixed && i < len;) {
        fixed[o++] = buf[i];
        if (buf[i++] != ':')
            continue;
        while (i < len && buf[i] == ' ')
            fixed[o++] = buf[i++];
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            size_t n = strlen(bad[k]);
            if (i + n <= len && memcmp(buf + i, bad[k], n) == 0) {
                memcpy(fixed + o, "null", 4);
                o += 4;
                i += n;
                break;
            }
        }
    }
    free(buf);
    if (!fixed) {
        *oom = true;
        return NULL;
    }
    buf = fixed;
    len = o;
    json_t *root = json_loadb(buf, len, 0, err);
    free(buf);
    return root;
}

static void cell(FILE *out, int width, int decimals, double v)
{
    if (isnan(v) || isinf(v))
        fprintf(out, " %*s", width, "n/a");
    else
        fprintf(out, " %*.*f", width, decimals, v);
}

/* The locks side by side: lock+unlock alone (ns), acquisitions per second
 * with two threads contending and how many of them passed the lock to the
 * other thread, Jain's index at 2 and N threads. The baseline is the lock
 * flagged PB_BASELINE (its flags say so, not its name); "x base" > 1
 * favours the lock (faster alone, more acquisitions per second). */
static void lock_table(FILE *out)
{
    const struct pb_lock_ops *base = NULL;
    for (size_t i = 0; pb_locks[i] && !base; i++)
        if (pb_locks[i]->flags & PB_BASELINE)
            base = pb_locks[i];
    unsigned n = micro_lock_threads_n();
    char name[160], flags[160], jn[16];
    double base_ns = NAN, base_rate = NAN;
    if (base) {
        snprintf(name, sizeof name, "lock/%s/uncontended", base->name);
        base_ns = value(name, "ns_per_op");
        snprintf(name, sizeof name, "lock/%s/handover/iterations:1/threads:2", base->name);
        base_rate = value(name, "ops_per_s");
    }
    snprintf(jn, sizeof jn, "jain@%u", n);
    fprintf(out, "  locks (baseline: %s; uncontended = lock+unlock ns, one thread; @2 = two "
                 "threads contending)\n", base ? base->name : "none flagged");
    fprintf(out, "    %-14s %9s %7s %12s %7s %9s %7s %7s  %s\n", "lock", "uncont ns", "x base",
            "acq/s @2", "x base", "handover", "jain@2", n > 2 ? jn : "", "flags");
    for (size_t i = 0; pb_locks[i]; i++) {
        const struct pb_lock_ops *l = pb_locks[i];
        snprintf(name, sizeof name, "lock/%s/uncontended", l->name);
        double ns = value(name, "ns_per_op");
        snprintf(name, sizeof name, "lock/%s/handover/iterations:1/threads:2", l->name);
        double rate = value(name, "ops_per_s");
        double ratio = value(name, "handover_ratio");
        double jain2 = value(name, "jain");
        snprintf(name, sizeof name, "lock/%s/handover/iterations:1/threads:%u", l->name, n);
        double jainn = n > 2 ? value(name, "jain") : NAN;
        fprintf(out, "    %-14s", l->name);
        cell(out, 9, 1, ns);
        cell(out, 7, 2, base_ns / ns);
        cell(out, 12, 0, rate);
        cell(out, 7, 2, rate / base_rate);
        cell(out, 9, 2, ratio);
        cell(out, 7, 3, jain2);
        if (n > 2)
            cell(out, 7, 3, jainn);
        else
            fprintf(out, " %7s", "");
        fprintf(out, "  %s%s\n", pb_strategy_flags_text(l->flags, flags, sizeof flags),
                (l->flags & PB_BROKEN) ? "  [broken on purpose: no exclusion]" : "");
    }
}

/* The run has just written path, so a file that does not read as its
 * results was changed under it or cut short: said as such, with why. */
static void unreadable(const char *who, const char *path, const char *why, int line)
{
    char where[32] = "";
    if (line > 0)
        snprintf(where, sizeof where, " (line %d)", line);
    fprintf(stderr, "pendbench-micro: %s: cannot read the results back from %s: %s%s; "
                    "was it changed during the run, or the disk full?\n", who, path, why, where);
}

/* The run's JSON results, whole: *root, and 0; -1 (said: damaged, cut
 * short) or 1 (out of memory, said). who names the reader in messages. */
static int open_results(const char *who, const char *path, json_t **root)
{
    json_error_t err;
    bool oom;
    *root = load_results(path, &err, &oom);
    if (oom) {
        fprintf(stderr, "pendbench-micro: %s: out of memory reading %s\n", who, path);
        return 1;
    }
    if (!*root) {
        unreadable(who, path, err.text, err.line);
        return -1;
    }
    if (!json_is_array(json_object_get(*root, "benchmarks"))) {
        unreadable(who, path, "no \"benchmarks\" array", 0);
        json_decref(*root);
        *root = NULL;
        return -1;
    }
    return 0;
}

int micro_results_check(const char *path, const char *format)
{
    /* A device or a FIFO (/dev/null: results thrown away on purpose) is
     * not read back. */
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return 0;
    if (!format || !format[0] || strcmp(format, "json") == 0) {
        json_t *root;
        int rc = open_results("--benchmark_out", path, &root);
        json_decref(root);
        return rc;
    }
    /* console, csv: lines, each ended by the library; a file that does
     * not end in one was cut short. */
    FILE *f = fopen(path, "rb");
    int last = EOF;
    if (f && fseek(f, -1, SEEK_END) == 0)
        last = fgetc(f);
    const char *why = !f ? strerror(errno) : last == EOF ? "it is empty" : "its last line is cut";
    if (f)
        fclose(f);
    if (last == '\n')
        return 0;
    unreadable("--benchmark_out", path, why, 0);
    return -1;
}

int micro_summary(const char *path, FILE *out)
{
    json_t *root;
    int rc = open_results("--summary", path, &root);
    if (rc != 0)
        return rc > 0 ? 1 : -1;
    benchmarks = json_object_get(root, "benchmarks");
    char a[160], b[160], what[160];

    fprintf(out, "\npendbench-micro summary (this run; ratios > 1 favour the first named)\n");
    double bench_c2c = value("floor/c2c_round_trip/threads:2", "round_trip_ns");
    struct pb_floor fl;
    unsigned ca = 0, cb = 0;
    double c2c = measured_c2c(&fl, &ca, &cb);
    if (c2c > 0)
        fprintf(out, "  c2c round trip: %.1f ns median (p10-p90 %.1f-%.1f ns, %u samples, CPUs %u,%u; "
                     "the floor ratios divide by)\n", c2c, fl.p10_ns, fl.p90_ns, fl.samples, ca, cb);
    else
        c2c = NAN;
    if (isnan(bench_c2c))
        fprintf(out, "  floor/c2c_round_trip/threads:2: n/a (not run)\n");
    else
        fprintf(out, "  floor/c2c_round_trip/threads:2: %.1f ns (mean over its iterations)\n",
                bench_c2c);
    if (isnan(c2c))
        c2c = bench_c2c;
    fprintf(out, "  %-52s %9s  %-8s %-8s %s\n", "ratio", "measured", "target", "verdict",
            "values");

    /* The model end to end, against the floor measured above. */
    const char *model = micro_model_default_name();
    double p50 = value(model, "p50_ns"), p99 = value(model, "p99_ns");
    double rt = value(model, "round_trip_ns");
    /* Its own floor, measured around it: the one above may come from
     * another placement of the vCPUs. */
    double own = value(model, "c2c_ns");
    if (isnan(own) || own <= 0)
        own = c2c;
    else
        fprintf(out, "  %s: c2c %.1f ns around it%s\n", model, own,
                value(model, "c2c_moved") > 0 ? " (MOVED during the run: ratios unreliable)" : "");
    floor_row(out, "model pend->complete p50 (one way) vs c2c round trip", p50, own, AT_MOST, 1.5,
              model);
    floor_row(out, "model pend->complete p99 vs its p50", p99, p50, AT_MOST, 2.0, model);
    floor_row(out, "model round trip (issue to completion seen) vs c2c", rt, own, INFO, 0, model);

    /* Pools: time per get+put, faster = larger ratio. */
    row(out, "magazine get+put vs jemalloc mallocx+sdallocx", "baseline/jemalloc/mallocx_sdallocx",
        "pool/magazine/get_put", "ns_per_op", AT_LEAST, 1.5, "ns");
    row(out, "magazine get+put vs pool jemalloc get+put", "pool/jemalloc/get_put",
        "pool/magazine/get_put", "ns_per_op", AT_LEAST, 1.5, "ns");
    row(out, "magazine vs jemalloc, remote free (2 threads)",
        "pool/jemalloc/get_put_remote/threads:2", "pool/magazine/get_put_remote/threads:2",
        "ns_per_op", INFO, 0, "ns");

    /* Queues: items per second with two producers into one queue index
     * and one consumer (mpsc/threads:3), larger = better. Every per-worker
     * queue (not PB_SHARED) that is neither a baseline nor a reference is
     * held to the baseline (1.5x) and to each outside reference (1x), in
     * items/s and in the p99 of an item's time in the queue. */
    for (size_t i = 0; pb_queues[i]; i++) {
        const struct pb_queue_ops *q = pb_queues[i];
        if (q->flags & (PB_SHARED | PB_BASELINE | PB_REFERENCE))
            continue;
        for (size_t k = 0; pb_queues[k]; k++) {
            const struct pb_queue_ops *y = pb_queues[k];
            if (!(y->flags & (PB_BASELINE | PB_REFERENCE)))
                continue;
            snprintf(a, sizeof a, "queue/%s/mpsc/threads:3", q->name);
            snprintf(b, sizeof b, "queue/%s/mpsc/threads:3", y->name);
            snprintf(what, sizeof what, "%s vs %s, mpsc items/s", q->name, y->name);
            row(out, what, a, b, "ops_per_s", AT_LEAST, (y->flags & PB_BASELINE) ? 1.5 : 1.0, "/s");
            /* p99 time in the queue: lower is better, so theirs over ours. */
            snprintf(what, sizeof what, "%s vs %s, mpsc p99 in queue", q->name, y->name);
            lower_row(out, what, a, b, "p99_ns", (y->flags & PB_BASELINE) ? 1.5 : 1.0, "ns");
        }
    }
    /* Three threads on fewer CPUs: which two the scheduler runs, and
     * whether it preempts a producer between its claim and its link, set
     * these rows more than the queue does (on a 2-vCPU VM, percpu-mpsc and
     * a copy of it under another name measured 0.59x and 1.05x of
     * urcu-wfcq in one run). Said next to them, so a verdict here is read
     * for what it is. */
    if (micro_cpus_allowed() < 3)
        fprintf(out, "  (the mpsc rows ran 3 threads on %u CPUs: scheduler-bound, the same "
                     "code measures up to 1.8x apart in one run; judge them on 3 or more CPUs)\n",
                micro_cpus_allowed());

    /* Handoffs. */
    row(out, "xchg arm+disarm vs one atomic exchange", "handoff/xchg/arm_disarm",
        "floor/atomic_xchg", "ns_per_op", AT_MOST, 2.0, "ns");
    row(out, "xchg arm+disarm (direct) vs one atomic exchange", "handoff/xchg/arm_disarm/direct",
        "floor/atomic_xchg", "ns_per_op", AT_MOST, 2.0, "ns");
    row(out, "global-lock vs xchg, arm+disarm on 2 CPUs (slower)",
        "handoff/global-lock/arm_disarm/threads:2", "handoff/xchg/arm_disarm/threads:2",
        "ns_per_op", AT_LEAST, 10.0, "ns");
    row(out, "global-lock vs xchg, cancel_vs_clear round (slower)",
        "handoff/global-lock/cancel_vs_clear/threads:2", "handoff/xchg/cancel_vs_clear/threads:2",
        "ns_per_op", INFO, 0, "ns");

    /* The cost of the ops table. */
    row(out, "ops table vs direct: pool magazine get+put", "pool/magazine/get_put/ops",
        "pool/magazine/get_put/direct", "ns_per_op", INFO, 0, "ns");
    row(out, "ops table vs direct: queue percpu-mpsc enq+deq", "queue/percpu-mpsc/enq_deq/ops",
        "queue/percpu-mpsc/enq_deq/direct", "ns_per_op", INFO, 0, "ns");
    row(out, "ops table vs direct: handoff xchg arm+disarm", "handoff/xchg/arm_disarm/ops",
        "handoff/xchg/arm_disarm/direct", "ns_per_op", INFO, 0, "ns");

    /* Exactly one owner per cancel-vs-clear round (CAN7). */
    fprintf(out, "  cancel_vs_clear ownership (double_owner and no_owner must be 0):\n");
    for (size_t i = 0; pb_handoffs[i]; i++) {
        const struct pb_handoff_ops *h = pb_handoffs[i];
        snprintf(a, sizeof a, "handoff/%s/cancel_vs_clear/threads:2", h->name);
        double d = value(a, "double_owner"), none = value(a, "no_owner");
        if (isnan(d)) {
            fprintf(out, "    %-12s n/a (%s)\n", h->name, failed(a) ? "failed" : "not run");
            continue;
        }
        double round = value(a, "ns_per_op");
        fprintf(out,
                "    %-12s double_owner %.0f  no_owner %.0f  arm_won %.3f  cancel_won %.3f  "
                "%.1f ns/round (%.2f c2c)%s\n",
                h->name, d, none, value(a, "arm_won"), value(a, "cancel_won"), round,
                isnan(c2c) || c2c == 0 ? NAN : round / c2c,
                (h->flags & PB_BROKEN) ? "  [broken on purpose: double owners expected]"
                : (d != 0 || none != 0) ? "  <-- VIOLATION"
                                        : "");
    }

    lock_table(out);
    json_decref(root);
    benchmarks = NULL;
    return 0;
}
