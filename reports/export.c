/* Result documents as Google Benchmark JSON and as CSV (pb_export.h says
 * what each holds and why). The gbench layout follows what
 * /usr/share/benchmark/gbench/report.py reads: benchmarks are grouped by
 * "name" (repetitions share it: that is what the U test runs over), need
 * "time_unit", "real_time" and "cpu_time", and are ordered by
 * family_index, per_family_instance_index, aggregates last, then
 * repetition_index (util.sort_benchmark_results). */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb_export.h"
#include "pb_runkey.h"
#include "result_internal.h"

int pb_export_format_parse(const char *name, enum pb_export_format *out)
{
    if (name && strcmp(name, "gbench") == 0) {
        *out = PB_EXPORT_GBENCH;
        return 0;
    }
    if (name && strcmp(name, "csv") == 0) {
        *out = PB_EXPORT_CSV;
        return 0;
    }
    return -1;
}

static int write_error(FILE *out, char *err, size_t errlen)
{
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "write error");
        return -1;
    }
    return 0;
}

/* ---- gbench -------------------------------------------------------------------- */

/* A JSON builder that remembers running out of memory instead of checking
 * every call: the document is checked once at the end. */
struct jb {
    bool oom;
    json_t *left_out;     /* names of the figures that have no value, left out */
};

/* A figure with no value (a run that completed nothing has no time per
 * operation, one that timed nothing no percentile) is left out rather than
 * written as 0 ns, which compare.py would take for the fastest run of all
 * (and which makes its geometric mean 0). Its name goes into the context's
 * pendbench_left_out, and the caller is told how many. */
static void leave_out(struct jb *b, const char *name, const char *why)
{
    char text[1024];
    snprintf(text, sizeof text, "%s: %s", name, why);
    json_t *v = json_string(text);
    if (!v || json_array_append_new(b->left_out, v) != 0)
        b->oom = true;
}

static void put(struct jb *b, json_t *obj, const char *key, json_t *value)
{
    if (!obj)
        json_decref(value);        /* set_new takes it, even when it fails */
    if (!value || !obj || json_object_set_new(obj, key, value) != 0)
        b->oom = true;
}

static json_t *jreal(double v)
{
    return json_real(isfinite(v) ? v : 0.0);
}

static json_t *ju64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

/* jansson refuses strings that are not UTF-8: such bytes become '?'. */
static json_t *jstr(const char *s)
{
    json_t *v = json_string(s ? s : "");
    if (v || !s)
        return v;
    size_t n = strlen(s);
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    v = json_string(copy);
    free(copy);
    return v;
}

enum { FIG_P50, FIG_P99, FIG_P999, FIG_NS_PER_OP, NFIGURES };
static const struct {
    const char *name;
    double percentile;                /* 0: not a latency figure */
} figures[NFIGURES] = {
    [FIG_P50] = { "p50", 50 },
    [FIG_P99] = { "p99", 99 },
    [FIG_P999] = { "p999", 99.9 },
    [FIG_NS_PER_OP] = { "ns_per_op", 0 },
};

/* Whether the run has a value for the figure; why not, when it has none. */
static const char *figure_missing(const struct pb_run_result *r, int fig)
{
    if (figures[fig].percentile > 0)
        return r->total.count > 0 ? NULL : "no operation was timed";
    return r->throughput_ops_s > 0 && isfinite(r->throughput_ops_s)
               ? NULL
               : "no operation completed (no time per operation)";
}

static double figure_value(const struct pb_run_result *r, int fig)
{
    if (figures[fig].percentile > 0)
        return (double)pb_hist_percentile(&r->total, figures[fig].percentile);
    return r->throughput_ops_s > 0 ? 1e9 / r->throughput_ops_s : 0;
}

/* A benchmark's name: the run key's name and strategies, the lock when
 * one was chosen (part of the name, as in the run key: runs under two
 * locks are never siblings that a label tells apart), the thread counts,
 * and, when the document holds siblings with the same name and
 * strategies but another workload (pb_runkey_distinguishing), what tells
 * this one apart ("inflight=8,service=fixed:500"), so that no two
 * configurations share a name and their repetitions never mix. */
#define LABEL_MAX 160

static void run_name(char *buf, size_t size, const struct pb_run_result *r, const char *label,
                     int fig)
{
    const char *lock = r->scenario.lock;
    snprintf(buf, size, "%s/%s/%s/%s%s%s/threads:%ux%u%s%s/%s", r->scenario.name,
             r->scenario.pool, r->scenario.queue, r->scenario.handoff, lock[0] ? "/lock:" : "",
             lock, r->scenario.requesters, r->scenario.workers, label[0] ? "/" : "", label,
             figures[fig].name);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (sorts v); 0 when n is 0. */
static double median_of(double *v, unsigned n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The run's figures as Google Benchmark user counters (extra numbers). */
static void put_counters(struct jb *b, json_t *o, const struct pb_run_result *r)
{
    put(b, o, "ops_per_s", jreal(r->throughput_ops_s));
    put(b, o, "seconds", jreal(r->seconds));
    put(b, o, "issued", ju64(r->issued));
    put(b, o, "completed", ju64(r->completed));
    put(b, o, "completed_cancelled", ju64(r->completed_cancelled));
    put(b, o, "failed", ju64(r->failed));
    put(b, o, "total_p50_ns", ju64(pb_hist_percentile(&r->total, 50)));
    put(b, o, "total_p99_ns", ju64(pb_hist_percentile(&r->total, 99)));
    put(b, o, "total_p999_ns", ju64(pb_hist_percentile(&r->total, 99.9)));
    put(b, o, "queue_wait_p50_ns", ju64(pb_hist_percentile(&r->queue_wait, 50)));
    put(b, o, "service_p50_ns", ju64(pb_hist_percentile(&r->service, 50)));
    put(b, o, "cancel_attempted", ju64(r->cancel.attempted));
    put(b, o, "cancel_success_rate", jreal(r->cancel.success_rate));
    put(b, o, "c2c_round_trip_ns", jreal(r->c2c_round_trip_ns));
    put(b, o, "invariants_ok", json_integer(r->invariants.ok ? 1 : 0));
    put(b, o, "partial", json_integer(r->partial ? 1 : 0));
}

/* The counters of a summary entry (--aggregates-only) over a group's
 * repetitions: sums of counts, the median throughput and round trip,
 * percentiles of the merged histograms, all invariants held, any partial. */
static void put_summary_counters(struct jb *b, json_t *o, const struct pb_run_result *const *runs,
                                 const unsigned *members, unsigned nm,
                                 const struct pb_hist *merged_total)
{
    double *tp = malloc(nm * sizeof *tp), *c2c = malloc(nm * sizeof *c2c);
    struct pb_hist *qw = malloc(sizeof *qw), *sv = malloc(sizeof *sv);
    if (!tp || !c2c || !qw || !sv) {
        b->oom = true;
        goto out;
    }
    pb_hist_init(qw);
    pb_hist_init(sv);
    double seconds = 0;
    uint64_t issued = 0, completed = 0, cancelled = 0, failed = 0, attempted = 0, won = 0;
    bool ok = true, partial = false;
    for (unsigned k = 0; k < nm; k++) {
        const struct pb_run_result *r = runs[members[k]];
        tp[k] = r->throughput_ops_s;
        c2c[k] = r->c2c_round_trip_ns;
        seconds += r->seconds;
        issued += r->issued;
        completed += r->completed;
        cancelled += r->completed_cancelled;
        failed += r->failed;
        attempted += r->cancel.attempted;
        won += r->cancel.won;
        ok = ok && r->invariants.ok;
        partial = partial || r->partial;
        pb_hist_merge(qw, &r->queue_wait);
        pb_hist_merge(sv, &r->service);
    }
    put(b, o, "ops_per_s", jreal(median_of(tp, nm)));
    put(b, o, "seconds", jreal(seconds));
    put(b, o, "issued", ju64(issued));
    put(b, o, "completed", ju64(completed));
    put(b, o, "completed_cancelled", ju64(cancelled));
    put(b, o, "failed", ju64(failed));
    put(b, o, "total_p50_ns", ju64(pb_hist_percentile(merged_total, 50)));
    put(b, o, "total_p99_ns", ju64(pb_hist_percentile(merged_total, 99)));
    put(b, o, "total_p999_ns", ju64(pb_hist_percentile(merged_total, 99.9)));
    put(b, o, "queue_wait_p50_ns", ju64(pb_hist_percentile(qw, 50)));
    put(b, o, "service_p50_ns", ju64(pb_hist_percentile(sv, 50)));
    put(b, o, "cancel_attempted", ju64(attempted));
    put(b, o, "cancel_success_rate", jreal(attempted ? (double)won / (double)attempted : 0));
    put(b, o, "c2c_round_trip_ns", jreal(median_of(c2c, nm)));
    put(b, o, "invariants_ok", json_integer(ok ? 1 : 0));
    put(b, o, "partial", json_integer(partial ? 1 : 0));
    if (partial || !ok)
        put(b, o, "label", json_string(partial && !ok ? "partial, invariants FAILED"
                                       : partial     ? "partial"
                                                     : "invariants FAILED"));
out:
    free(tp);
    free(c2c);
    free(qw);
    free(sv);
}

/* repetition: the run's index among its group's (a suite may run one
 * configuration in two groups, both as its repetition 0); -1: aggregate. */
static json_t *entry_head(struct jb *b, const char *name, const char *base, unsigned family,
                          unsigned instance, int repetition, unsigned reps,
                          const struct pb_run_result *r)
{
    bool aggregate = repetition < 0;
    json_t *o = json_object();
    put(b, o, "name", jstr(name));
    put(b, o, "family_index", json_integer(family));
    put(b, o, "per_family_instance_index", json_integer(instance));
    put(b, o, "run_name", jstr(base));
    put(b, o, "run_type", json_string(aggregate ? "aggregate" : "iteration"));
    put(b, o, "repetitions", json_integer(reps));
    if (!aggregate)
        put(b, o, "repetition_index", json_integer(repetition));
    put(b, o, "threads", json_integer(r->scenario.requesters));
    return o;
}

static void put_times(struct jb *b, json_t *o, uint64_t iterations, double ns)
{
    put(b, o, "iterations", ju64(iterations));
    put(b, o, "real_time", jreal(ns));
    put(b, o, "cpu_time", jreal(ns));
    put(b, o, "time_unit", json_string("ns"));
}


/* Appends the aggregates of one figure over a group's repetitions. */
static void add_aggregates(struct jb *b, json_t *list, const struct pb_run_result *const *runs,
                           const unsigned *members, unsigned nm, int fig, unsigned family,
                           const char *label)
{
    char base[PB_NAME_MAX * 5 + 104 + LABEL_MAX], name[sizeof base + 16];
    const struct pb_run_result *first = runs[members[0]];
    run_name(base, sizeof base, first, label, fig);
    if (figures[fig].percentile > 0) {
        struct pb_hist *merged = malloc(sizeof *merged);
        if (!merged) {
            b->oom = true;
            return;
        }
        pb_hist_init(merged);
        for (unsigned k = 0; k < nm; k++)
            pb_hist_merge(merged, &runs[members[k]]->total);
        snprintf(name, sizeof name, "%s_merged", base);
        if (merged->count == 0) {
            leave_out(b, name, "no operation was timed");
            free(merged);
            return;
        }
        json_t *o = entry_head(b, name, base, family, (unsigned)fig, -1, nm, first);
        put(b, o, "aggregate_name", json_string("merged"));
        put(b, o, "aggregate_unit", json_string("time"));
        put_times(b, o, merged->count, (double)pb_hist_percentile(merged, figures[fig].percentile));
        if (json_array_append_new(list, o) != 0)
            b->oom = true;
        free(merged);
        return;
    }
    double *v = malloc(nm * sizeof *v);
    if (!v) {
        b->oom = true;
        return;
    }
    /* Over the repetitions that have a value (the others are left out). */
    double sum = 0;
    unsigned nv = 0;
    for (unsigned k = 0; k < nm; k++)
        if (!figure_missing(runs[members[k]], fig))
            sum += v[nv++] = figure_value(runs[members[k]], fig);
    double mean = nv ? sum / nv : 0, ss = 0;
    for (unsigned k = 0; k < nv; k++)
        ss += (v[k] - mean) * (v[k] - mean);
    double median = median_of(v, nv);
    /* Sample standard deviation, as Google Benchmark computes it. */
    double stddev = nv > 1 ? sqrt(ss / (nv - 1)) : 0;
    free(v);
    static const char *const names[] = { "mean", "median", "stddev" };
    double values[] = { mean, median, stddev };
    for (int a = 0; a < 3; a++) {
        snprintf(name, sizeof name, "%s_%s", base, names[a]);
        if (nv == 0) {
            leave_out(b, name, "no repetition completed an operation");
            continue;
        }
        json_t *o = entry_head(b, name, base, family, (unsigned)fig, -1, nm, first);
        put(b, o, "aggregate_name", json_string(names[a]));
        put(b, o, "aggregate_unit", json_string("time"));
        put_times(b, o, nv, values[a]);
        if (json_array_append_new(list, o) != 0)
            b->oom = true;
    }
}

/* --aggregates-only: one entry for a figure of a group, named like a
 * single repetition's so a dashboard's series keeps its key whatever
 * --repeat was: the median of ns_per_op, the merged histograms'
 * percentile for latency, or with one repetition that repetition. It is
 * an "iteration" entry, so compare.py compares it and counts it in its
 * geometric mean (it skips aggregates there); "summary" says what it is. */
static void add_summary(struct jb *b, json_t *list, const struct pb_run_result *const *runs,
                        const unsigned *members, unsigned nm, int fig, unsigned family,
                        const char *label)
{
    char name[PB_NAME_MAX * 5 + 104 + LABEL_MAX];
    const struct pb_run_result *first = runs[members[0]];
    run_name(name, sizeof name, first, label, fig);
    struct pb_hist *merged = malloc(sizeof *merged);
    double *v = malloc(nm * sizeof *v);
    if (!merged || !v) {
        b->oom = true;
        free(merged);
        free(v);
        return;
    }
    pb_hist_init(merged);
    uint64_t ops = 0;
    unsigned nv = 0;           /* the repetitions that have a time per operation */
    for (unsigned k = 0; k < nm; k++) {
        const struct pb_run_result *r = runs[members[k]];
        pb_hist_merge(merged, &r->total);
        if (!figure_missing(r, FIG_NS_PER_OP))
            v[nv++] = figure_value(r, FIG_NS_PER_OP);
        ops += r->completed + r->completed_cancelled + r->failed;
    }
    bool latency = figures[fig].percentile > 0;
    if (latency ? merged->count == 0 : nv == 0) {
        leave_out(b, name, latency ? "no operation was timed" : "no operation completed");
        free(merged);
        free(v);
        return;
    }
    double value = latency ? (double)pb_hist_percentile(merged, figures[fig].percentile)
                           : median_of(v, nv);
    json_t *o = entry_head(b, name, name, family, (unsigned)fig, 0, 1, first);
    put_times(b, o, latency ? merged->count : ops, value);
    put(b, o, "summary", json_string(nm == 1 ? "repetition" : latency ? "merged" : "median"));
    put(b, o, "summarized_repetitions", json_integer(nm));
    put_summary_counters(b, o, runs, members, nm, merged);
    if (json_array_append_new(list, o) != 0)
        b->oom = true;
    free(merged);
    free(v);
}

static json_t *gbench_context(struct jb *b, const struct pb_context *ctx)
{
    json_t *c = json_object();
    put(b, c, "date", jstr(ctx ? ctx->date : ""));
    put(b, c, "host_name", jstr(ctx ? ctx->host : ""));
    put(b, c, "executable", json_string("pendbench"));
    const struct pb_environment *env = ctx ? &ctx->env : NULL;
    unsigned ncpus = ctx ? ctx->ncpus_online : 0;
    if (ncpus == 0 && env)
        ncpus = env->ncpus_online;
    put(b, c, "num_cpus", json_integer(ncpus));
    /* The measured MHz of CPU 0; without one (an older file), the TSC's
     * rate, which on current x86 is the nominal frequency. */
    double mhz = env && env->mhz_per_cpu > 0 ? env->mhz_per_cpu
                 : ctx && ctx->tsc_ticks_per_ns > 0 ? ctx->tsc_ticks_per_ns * 1000
                                                    : 0;
    put(b, c, "mhz_per_cpu", json_integer(isfinite(mhz) ? (json_int_t)llround(mhz) : 0));
    put(b, c, "cpu_scaling_enabled", json_boolean(env && env->cpu_scaling_enabled));
    json_t *caches = json_array();
    unsigned nc = env ? (env->ncaches < PB_ENV_MAX_CACHES ? env->ncaches : PB_ENV_MAX_CACHES) : 0;
    for (unsigned i = 0; caches && i < nc; i++) {
        const struct pb_cache_info *ci = &env->caches[i];
        json_t *e = json_object();
        put(b, e, "type", jstr(ci->type));
        put(b, e, "level", json_integer(ci->level));
        put(b, e, "size", ju64(ci->size_bytes));
        put(b, e, "num_sharing", json_integer(ci->num_sharing));
        if (json_array_append_new(caches, e) != 0)
            b->oom = true;
    }
    put(b, c, "caches", caches);
    /* The load when the session started (what competed with it); empty
     * when unknown, rather than a made-up zero load. */
    json_t *load = json_array();
    for (int i = 0; load && env && env->loadavg_start[0] >= 0 && i < 3; i++)
        if (json_array_append_new(load, jreal(env->loadavg_start[i])) != 0)
            b->oom = true;
    put(b, c, "load_avg", load);
    /* Google Benchmark's "debug" is a library built without optimizing for
     * speed: a sanitizer build of pendbench is the same warning. */
    bool sanitized = ctx && (strcmp(ctx->build_variant, "asan") == 0 ||
                             strcmp(ctx->build_variant, "tsan") == 0);
    put(b, c, "library_build_type", json_string(sanitized ? "debug" : "release"));
    /* pendbench's own context; Google Benchmark's tools ignore unknown keys. */
    if (ctx) {
        put(b, c, "pendbench_git_commit", jstr(ctx->git_commit));
        put(b, c, "pendbench_git_diff_hash", jstr(ctx->git_diff_hash));
        put(b, c, "pendbench_build_variant", jstr(ctx->build_variant));
        put(b, c, "pendbench_run_id", jstr(ctx->run_id));
        put(b, c, "pendbench_cpu_model", jstr(ctx->cpu_model));
        put(b, c, "pendbench_kernel", jstr(ctx->kernel));
        put(b, c, "pendbench_compiler", jstr(ctx->compiler));
        put(b, c, "pendbench_topology", jstr(ctx->topology));
        put(b, c, "pendbench_c2c_round_trip_ns", jreal(ctx->c2c_round_trip_ns));
        put(b, c, "pendbench_partial", json_boolean(ctx->partial));
        put(b, c, "pendbench_steal_pct", jreal(ctx->env.steal_pct));
        json_t *warnings = json_array();
        unsigned nw = ctx->env.nwarnings < PB_ENV_MAX_WARNINGS ? ctx->env.nwarnings
                                                                : PB_ENV_MAX_WARNINGS;
        for (unsigned i = 0; warnings && i < nw; i++)
            if (json_array_append_new(warnings, jstr(ctx->env.warnings[i])) != 0)
                b->oom = true;
        put(b, c, "pendbench_env_warnings", warnings);
    }
    return c;
}

static int export_gbench(FILE *out, const struct pb_context *ctx,
                         const struct pb_run_result *const *runs, unsigned n,
                         bool aggregates_only, unsigned *left_out, char *err, size_t errlen)
{
    struct jb b = { false, json_array() };
    if (!b.left_out)
        b.oom = true;
    json_t *doc = json_object();
    json_t *context = gbench_context(&b, ctx);
    put(&b, doc, "context", context);
    json_t *list = json_array();
    put(&b, doc, "benchmarks", list);
    /* Groups of repetitions (the same run key), in the order their first
     * run ran. */
    bool *taken = calloc(n ? n : 1, sizeof *taken);
    unsigned *members = calloc(n ? n : 1, sizeof *members);
    struct pb_runkey *keys = calloc(n ? n : 1, sizeof *keys);
    const struct pb_runkey **kp = calloc(n ? n : 1, sizeof *kp);
    if (!taken || !members || !keys || !kp)
        b.oom = true;
    for (unsigned i = 0; i < n && !b.oom; i++) {
        /* A workload too long to hold whole still compares on what it holds. */
        (void)pb_runkey_of_result(runs[i], &keys[i]);
        kp[i] = &keys[i];
    }
    unsigned family = 0;
    for (unsigned i = 0; i < n && !b.oom; i++) {
        if (taken[i])
            continue;
        unsigned nm = 0;
        for (unsigned j = i; j < n; j++)
            if (!taken[j] && pb_runkey_same(&keys[i], &keys[j])) {
                taken[j] = true;
                members[nm++] = j;
            }
        char label[LABEL_MAX];
        pb_runkey_distinguishing(&keys[i], kp, n, label, sizeof label);
        /* A name part: no spaces ("inflight=8,service=fixed:500"). */
        char *w = label;
        for (const char *c = label; *c; c++)
            if (*c != ' ')
                *w++ = *c;
        *w = 0;
        for (int fig = 0; fig < NFIGURES && aggregates_only; fig++)
            add_summary(&b, list, runs, members, nm, fig, family, label);
        for (int fig = 0; fig < NFIGURES && !aggregates_only; fig++) {
            char name[PB_NAME_MAX * 5 + 104 + LABEL_MAX];
            run_name(name, sizeof name, runs[i], label, fig);
            for (unsigned k = 0; k < nm; k++) {
                const struct pb_run_result *r = runs[members[k]];
                const char *missing = figure_missing(r, fig);
                if (missing) {
                    char which[sizeof name + 32];
                    snprintf(which, sizeof which, "%s (repetition %u)", name, k);
                    leave_out(&b, which, missing);
                    continue;
                }
                json_t *o = entry_head(&b, name, name, family, (unsigned)fig, (int)k, nm, r);
                uint64_t iterations = figures[fig].percentile > 0
                                          ? r->total.count
                                          : r->completed + r->completed_cancelled + r->failed;
                put_times(&b, o, iterations, figure_value(r, fig));
                if (r->partial || !r->invariants.ok)
                    put(&b, o, "label",
                        json_string(r->partial && !r->invariants.ok ? "partial, invariants FAILED"
                                    : r->partial                    ? "partial"
                                                                    : "invariants FAILED"));
                put_counters(&b, o, r);
                if (json_array_append_new(list, o) != 0)
                    b.oom = true;
            }
            if (nm >= 2)
                add_aggregates(&b, list, runs, members, nm, fig, family, label);
        }
        family++;
    }
    free(taken);
    free(members);
    free(keys);
    free(kp);
    if (left_out)
        *left_out = b.left_out ? (unsigned)json_array_size(b.left_out) : 0;
    put(&b, context, "pendbench_left_out", b.left_out);
    int rc = 0;
    if (b.oom || !doc) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else if (json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 ||
               fputc('\n', out) == EOF) {
        snprintf(err, errlen, "write error");
        rc = -1;
    }
    json_decref(doc);
    return rc ? rc : write_error(out, err, errlen);
}

/* ---- CSV ------------------------------------------------------------------------ */

void pb_export_csv_field(FILE *out, const char *text)
{
    if (!text)
        text = "";
    if (!strpbrk(text, ",\"\r\n")) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void csv_u64(FILE *out, uint64_t v)
{
    fprintf(out, ",%" PRIu64, v);
}

/* A percentile of a histogram; empty when it holds nothing (not 0 ns). */
static void csv_pct(FILE *out, const struct pb_hist *h, double pct)
{
    if (h->count)
        csv_u64(out, pb_hist_percentile(h, pct));
    else
        fputc(',', out);
}

/* Reals with 10 significant digits, as the result file; not finite: empty. */
static void csv_real(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, ",%.10g", v);
    else
        fputc(',', out);
}

/* The params columns of PB_EXPORT_CSV_HEADER, by option name, in order. */
static const char *const csv_params[] = {
    "idle", "placement", "route", "filters", "mix", "pend-fraction", "cancel-fraction",
    "cancel-when", "cancel-delay", "service", "fs-service", "inflight", "rate", "burst",
    "pool-capacity", "queue-capacity", "memory-node",   /* absent (local memory): empty */
};

/* params[i]: run i's "params" object (NULL: rebuilt from its scenario). */
static int export_csv(FILE *out, const struct pb_context *ctx,
                      const struct pb_run_result *const *runs, json_t *const *params, unsigned n,
                      char *err, size_t errlen)
{
    fputs(PB_EXPORT_CSV_HEADER "\r\n", out);
    for (unsigned i = 0; i < n; i++) {
        const struct pb_run_result *r = runs[i];
        const struct pb_scenario *s = &r->scenario;
        /* Who and when first, so rows of several sessions concatenate. */
        const char *text[] = { ctx ? ctx->date : "", ctx ? ctx->git_commit : "",
                               ctx ? ctx->build_variant : "", ctx ? ctx->host : "",
                               ctx ? ctx->run_id : "", s->name, s->pool, s->queue, s->handoff,
                               s->lock[0] ? s->lock : "default" };
        for (size_t k = 0; k < sizeof text / sizeof text[0]; k++) {
            if (k)
                fputc(',', out);
            pb_export_csv_field(out, text[k]);
        }
        fprintf(out, ",%u,%s,%u,%u,%u", r->repetition, r->partial ? "true" : "false",
                s->requesters, s->workers, s->cancellers);
        json_t *p = params ? params[i] : NULL;
        json_t *own = p ? NULL : pb_result_params_json(s);
        if (!p && !own) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t k = 0; k < sizeof csv_params / sizeof csv_params[0]; k++) {
            char value[512];
            /* A key an older file lacks (or a null) is an empty field. */
            if (pb_result_param_text(json_object_get(p ? p : own, csv_params[k]), value,
                                     sizeof value) != 0)
                value[0] = '\0';
            fputc(',', out);
            pb_export_csv_field(out, value);
        }
        json_decref(own);
        csv_real(out, r->seconds);
        csv_u64(out, r->issued);
        csv_u64(out, r->completed);
        csv_u64(out, r->completed_cancelled);
        csv_u64(out, r->failed);
        csv_real(out, r->throughput_ops_s);
        csv_pct(out, &r->total, 50);
        csv_pct(out, &r->total, 90);
        csv_pct(out, &r->total, 99);
        csv_pct(out, &r->total, 99.9);
        if (r->total.count)
            csv_u64(out, r->total.max);
        else
            fputc(',', out);
        csv_pct(out, &r->queue_wait, 50);
        csv_pct(out, &r->queue_wait, 99);
        csv_pct(out, &r->service, 50);
        csv_pct(out, &r->service, 99);
        csv_u64(out, r->cancel.attempted);
        csv_u64(out, r->cancel.won);
        csv_u64(out, r->cancel.lost);
        csv_u64(out, r->cancel.early);
        csv_u64(out, r->cancel.late);
        csv_u64(out, r->cancel.not_cancelable);
        /* No attempt, no rate (as the history stores it: NULL, not 0%). */
        csv_real(out, r->cancel.attempted ? r->cancel.success_rate : NAN);
        csv_real(out, r->c2c_round_trip_ns);
        fprintf(out, ",%s\r\n", r->invariants.ok ? "true" : "false");
    }
    return write_error(out, err, errlen);
}

/* ---- entry points ---------------------------------------------------------------- */

static int export_any(FILE *out, enum pb_export_format format, const struct pb_context *ctx,
                      const struct pb_run_result *const *runs, json_t *const *params, unsigned n,
                      const struct pb_export_options *opts, char *err, size_t errlen)
{
    bool aggregates_only = opts && opts->aggregates_only;
    if (format == PB_EXPORT_GBENCH)
        return export_gbench(out, ctx, runs, n, aggregates_only, opts ? opts->left_out : NULL,
                             err, errlen);
    if (format == PB_EXPORT_CSV) {
        if (aggregates_only) {
            snprintf(err, errlen, "aggregates only is a gbench option (csv has a row per run)");
            return -1;
        }
        return export_csv(out, ctx, runs, params, n, err, errlen);
    }
    snprintf(err, errlen, "unknown export format %d", (int)format);
    return -1;
}

int pb_export_runs_opts(FILE *out, enum pb_export_format format, const struct pb_context *ctx,
                        const struct pb_run_result *const *runs, unsigned n,
                        const struct pb_export_options *opts, char *err, size_t errlen)
{
    return export_any(out, format, ctx, runs, NULL, n, opts, err, errlen);
}

int pb_export_runs(FILE *out, enum pb_export_format format, const struct pb_context *ctx,
                   const struct pb_run_result *const *runs, unsigned n, char *err, size_t errlen)
{
    return export_any(out, format, ctx, runs, NULL, n, NULL, err, errlen);
}

int pb_export_doc_opts(FILE *out, enum pb_export_format format, const struct pb_result_doc *doc,
                       const struct pb_export_options *opts, char *err, size_t errlen)
{
    unsigned n = doc->nruns;
    const struct pb_run_result **runs = calloc(n ? n : 1, sizeof *runs);
    json_t **params = calloc(n ? n : 1, sizeof *params);
    if (!runs || !params) {
        free(runs);
        free(params);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    /* The file's params as read: they keep values this build refuses,
     * which the rebuilt scenario would lose. */
    for (unsigned i = 0; i < n; i++) {
        runs[i] = &doc->runs[i].r;
        params[i] = doc->runs[i].params;
    }
    int rc = export_any(out, format, &doc->ctx, runs, params, n, opts, err, errlen);
    free(runs);
    free(params);
    return rc;
}

int pb_export_doc(FILE *out, enum pb_export_format format, const struct pb_result_doc *doc,
                  char *err, size_t errlen)
{
    return pb_export_doc_opts(out, format, doc, NULL, err, errlen);
}
