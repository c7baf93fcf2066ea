/* Result files: a synthetic run written and read back field by field
 * (histogram bins, percentiles, counters, the scenario through its
 * options), the atomic write (failures leave no temporary file and no
 * half-written result; an old file is replaced whole), the reader's
 * messages for each kind of bad input, and the document against
 * reports/schema/result.schema.json (a small validator for the keywords
 * the schema uses: $ref, type, const, enum, required, properties, items,
 * prefixItems, minItems, maxItems). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_result.h"

#define NRUNS 3

/* ---- scratch directory ------------------------------------------------------ */

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    chmod(path, 0700);
    return remove(path);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pb-result-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void)
{
    if (dir[0]) {
        chmod(dir, 0700);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

TestSuite(result, .init = make_dir, .fini = remove_dir);

static void path_in(char *out, size_t size, const char *name)
{
    cr_assert_lt((size_t)snprintf(out, size, "%s/%s", dir, name), size);
}

/* Entries of a directory whose name contains `part`. */
static unsigned count_entries(const char *d, const char *part)
{
    DIR *dp = opendir(d);
    if (!dp)
        return 0;
    unsigned n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strstr(e->d_name, part))
            n++;
    closedir(dp);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* ---- the synthetic results ---------------------------------------------------- */

static void set(struct pb_scenario *s, const char *key, const char *value)
{
    char err[256];
    cr_assert_eq(pb_scenario_set(s, key, value, err, sizeof err), 0, "%s=%s: %s", key, value, err);
}

static void fill_hist(struct pb_hist *h, uint64_t seed, unsigned n, uint64_t base)
{
    pb_hist_init(h);
    uint64_t x = seed;
    for (unsigned i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        /* Spread over several powers of two, with a long tail. */
        uint64_t v = base + (x >> 40) % 5000;
        if (i % 97 == 0)
            v *= 300;
        pb_hist_record(h, v);
    }
}

static void make_context(struct pb_context *c)
{
    pb_context_collect(c, "pack:2 numa:2 core:4 pu:2");
    snprintf(c->placement, sizeof c->placement, "scatter");
    snprintf(c->command, sizeof c->command, "pendbench run --queue \"percpu-ring\" -o r.json");
    c->c2c_round_trip_ns = 87.25;
    c->timestamp_overhead_ns = 6.5;
    c->futex_wake_ns = 2345.125;
    c->tsc_ticks_per_ns = 2.899999;
    c->partial = true;
    snprintf(c->git_commit, sizeof c->git_commit, "5c74414-dirty");
    snprintf(c->git_diff_hash, sizeof c->git_diff_hash, "0123456789ab");
    c->interleaved = true;
    c->interleave_seed = UINT64_C(18446744073709551557);   /* above 2^63: a string */
    c->repetitions = 5;
    struct pb_environment *e = &c->env;
    e->loadavg_start[0] = 0.25, e->loadavg_start[1] = 1.5, e->loadavg_start[2] = 3.75;
    e->loadavg_end[0] = 2.125, e->loadavg_end[1] = 1.0, e->loadavg_end[2] = -1;
    e->ncpus_online = 16;
    e->ncpus_usable = 12;
    snprintf(e->governor, sizeof e->governor, "powersave");
    e->freq_min_mhz = 800;
    e->freq_max_mhz = 4700.5;
    e->mhz_per_cpu = 2999.876;
    e->cpu_scaling_enabled = true;
    e->turbo = 1;
    e->smt_active = 0;
    e->smt_siblings_used = true;
    snprintf(e->hypervisor, sizeof e->hypervisor, "KVM");
    e->steal_pct = 1.234;
    e->tsc_constant = true;
    e->tsc_nonstop = false;
    snprintf(e->clocksource, sizeof e->clocksource, "kvm-clock");
    e->tsc_drift_ppm = -12.5;
    e->max_threads = 14;
    e->migrations = 7;
    e->ncaches = 3;
    e->caches[0] = (struct pb_cache_info){.level = 1, .type = "Data", .size_bytes = 48 << 10,
                                          .num_sharing = 2};
    e->caches[1] = (struct pb_cache_info){.level = 2, .type = "Unified", .size_bytes = 2 << 20,
                                          .num_sharing = 2};
    e->caches[2] = (struct pb_cache_info){.level = 3, .type = "Unified",
                                          .size_bytes = UINT64_C(36) << 20, .num_sharing = 16};
    pb_env_warnings(e);
    cr_assert_geq(e->nwarnings, 5, "the crafted environment warns");
}

static struct pb_run_result *make_runs(void)
{
    struct pb_run_result *runs = calloc(NRUNS, sizeof *runs);
    cr_assert_not_null(runs);
    for (unsigned k = 0; k < NRUNS; k++) {
        struct pb_run_result *r = &runs[k];
        struct pb_scenario *s = &r->scenario;
        pb_scenario_defaults(s);
        set(s, "name", k == 2 ? "cancel-storm" : "steady");
        set(s, "description", "a \"quoted\" [1,  2] description, with UTF-8: µs");
        set(s, "queue", k == 1 ? "percpu-ring" : "percpu-mpsc");
        set(s, "requesters", "3");
        set(s, "workers", "2");
        set(s, "cancellers", "1");
        set(s, "idle", "spin");
        set(s, "placement", "scatter");
        set(s, "route", "round-robin");
        set(s, "filters", "pass,pend");
        set(s, "mix", "read=60,write=25,query=10,fastio=5");
        set(s, "pend-fraction", "0.75");
        set(s, "cancel-fraction", "0.3");
        set(s, "cancel-when", "race");
        set(s, "cancel-delay", "uniform:100:900");
        set(s, "service", "lognormal:1000:0.5");
        set(s, "fs-service", "exp:250");
        set(s, "rate", "150000");
        set(s, "inflight", "8");
        set(s, "burst", "20:80.5");
        set(s, "duration", "1.5");
        set(s, "warmup", "0.25");
        set(s, "seed", "18446744073709551557");    /* above 2^63: written as a string */
        set(s, "pool-capacity", "4096");
        set(s, "queue-capacity", "512");
        set(s, "verifier-checks", "on");
        /* Run 0 chose a lock and a memory node (params has every option);
         * run 1 took its strategies' own locks; run 2 took none. */
        if (k == 0) {
            set(s, "lock", "mcs");
            set(s, "memory-node", "1");
            snprintf(r->locks, sizeof r->locks, "mcs");
        } else if (k == 1) {
            snprintf(r->locks, sizeof r->locks, "ttas-backoff+pthread-mutex");
        }
        if (r->locks[0]) {
            r->lock_acquisitions = UINT64_C(5000000123) + k;
            r->lock_contended = 123456 + k;
            r->lock_wait_ns = 98765432.25 + k;
            r->lock_acq_min = 1200000 + k;
            r->lock_acq_max = 1300000 + k;
            r->lock_fairness_jain = 0.9987654321;
            r->lock_worker_acq_min = 900000 + k;
            r->lock_worker_acq_max = 1100000 + k;
            r->lock_worker_fairness_jain = 0.9876543211;
        }
        set(s, "split-every", "64");
        /* Run 1 left N to the run (auto), which chose 3. */
        set(s, "latency-every", k == 1 ? "auto" : "8");
        r->latency_every = k == 1 ? 3 : 8;

        r->repetition = k;
        r->partial = k == 2;
        r->seconds = 1.5000123;
        r->issued = 225000 + k;
        r->completed = 150000;
        r->completed_cancelled = 70000;
        r->failed = 5000 + k;
        r->throughput_ops_s = 150000.0 / 1.5000123 * 1.5;
        fill_hist(&r->total, 1 + k, 20000, 300);
        fill_hist(&r->queue_wait, 11 + k, 7000, 40);
        pb_hist_init(&r->service);                 /* empty: min must be written as 0 */
        if (k == 0) {
            r->npairs = 2;
            r->pairs = calloc(2, sizeof *r->pairs);
            cr_assert_not_null(r->pairs);
            r->pairs[0].requester_node = 0;
            r->pairs[0].worker_node = 1;
            fill_hist(&r->pairs[0].total, 21, 3000, 500);
            r->pairs[1].requester_node = 1;
            r->pairs[1].worker_node = 0;
            fill_hist(&r->pairs[1].total, 22, 10, 70);
            /* The open-ended last bin: its hi is written as the max. */
            pb_hist_record(&r->pairs[1].total, (UINT64_C(1) << PB_HIST_MAX_POW) + 12345);
        }
        r->cancel = (struct pb_cancel_outcomes){.attempted = 67500, .won = 40000, .lost = 20000,
                                                .early = 5000, .late = 2000, .not_cancelable = 500,
                                                .success_rate = 40000.0 / 67500.0};
        uint64_t v = 1000 * (k + 1);
#define COUNTER_(name, unit, doc) r->counters.name = v++;
        PB_COUNTERS(COUNTER_)
#undef COUNTER_
        r->invariants = (struct flt_invariants){
            .ok = k != 2, .issued = 225000, .completed = 150000, .completed_cancelled = 70000,
            .failed = 4999, .in_flight = k == 2 ? 1 : 0, .outstanding_data = k == 2 ? -3 : 0,
            .double_complete_refused = 4, .routine_left_set = 5, .verifier_violations = 6};
        if (k == 2)
            snprintf(r->invariants.why, sizeof r->invariants.why,
                     "issued 225000 != completed + cancelled + failed (224999)");
        r->per_requester_min = 49000;
        r->per_requester_max = 51000;
        r->jain_index = 0.99987654321;
        r->c2c_round_trip_ns = k == 1 ? 0 : 91.5;   /* 0: not measured, no ratios */
        r->timestamp_overhead_ns = 7.25;
        r->futex_wake_ns = 3100.5;
        r->instrumentation_ns_per_op = 27.375;
        r->c2c_os_cpu_a = 0;
        r->c2c_os_cpu_b = k == 1 ? 0 : 3;
        r->c2c_start = (struct pb_floor){.median_ns = r->c2c_round_trip_ns, .p10_ns = 88.25,
                                         .p90_ns = 97.125, .samples = 2000 + k};
        r->c2c_end = (struct pb_floor){.median_ns = k == 2 ? 140.5 : 92.0, .p10_ns = 89.5,
                                       .p90_ns = 160.75, .samples = 1900 + k};
        /* Run 2's floor moved: its ratios are withheld. */
        r->floor_unstable = k == 2;
        if (k == 2)
            snprintf(r->floor_note, sizeof r->floor_note, "c2c moved 91.5 -> 140.5 ns (+54%%)");
        r->order = 10 - k;
        r->nthreads = 6 + k;
        r->oversubscribed = k == 1;
        r->steal_pct = k == 0 ? -1 : 0.5 * k;
        r->others_pct = k == 0 ? -1 : 30.25 * k;
        r->involuntary_switches = 12345 + k;
        r->migrations = k;
        r->warmup_throughput_ops_s = 98765.4321 + k;
        r->stalled = k == 2;
        r->failed_fraction = k == 1 ? 0.9995 : 0;
        r->failure_status = k == 1 ? STATUS_INSUFFICIENT_RESOURCES : 0;
        r->mostly_failed = k == 1;
    }
    return runs;
}

static void free_runs(struct pb_run_result *runs)
{
    for (unsigned k = 0; k < NRUNS; k++)
        free(runs[k].pairs);
    free(runs);
}

/* ---- comparisons -------------------------------------------------------------- */

/* Reals go through 10 significant digits. */
static void expect_close(double got, double want, const char *what)
{
    double tol = fabs(want) * 1e-9 + 1e-12;
    cr_expect(fabs(got - want) <= tol, "%s: got %.17g, want %.17g", what, got, want);
}

static void expect_hist(const struct pb_hist *got, const struct pb_hist *want, const char *what)
{
    cr_expect_eq(got->count, want->count, "%s.count", what);
    if (want->count) {
        cr_expect_eq(got->min, want->min, "%s.min", what);
        cr_expect_eq(got->max, want->max, "%s.max", what);
        expect_close(got->sum, want->sum, what);
    }
    cr_expect(memcmp(got->bins, want->bins, sizeof got->bins) == 0, "%s.bins differ", what);
    static const double ps[] = {0.1, 1, 10, 50, 90, 99, 99.9, 99.99, 100};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        cr_expect_eq(pb_hist_percentile(got, ps[i]), pb_hist_percentile(want, ps[i]), "%s p%g",
                     what, ps[i]);
    expect_close(pb_hist_mean(got), pb_hist_mean(want), what);
}

static void expect_scenario(const struct pb_scenario *g, const struct pb_scenario *w)
{
    cr_expect_str_eq(g->name, w->name);
    cr_expect_str_eq(g->description, w->description);
    cr_expect_str_eq(g->pool, w->pool);
    cr_expect_str_eq(g->queue, w->queue);
    cr_expect_str_eq(g->handoff, w->handoff);
    cr_expect_str_eq(g->lock, w->lock);
    cr_expect_eq(g->memory_node, w->memory_node);
    cr_expect_eq(g->requesters, w->requesters);
    cr_expect_eq(g->workers, w->workers);
    cr_expect_eq(g->cancellers, w->cancellers);
    cr_expect_eq(g->idle, w->idle);
    cr_expect_eq(g->placement, w->placement);
    cr_expect_eq(g->route, w->route);
    cr_expect_eq(g->nfilters, w->nfilters);
    for (unsigned i = 0; i < w->nfilters && i < PB_MAX_FILTERS; i++)
        cr_expect_eq(g->filters[i], w->filters[i], "filter %u", i);
    cr_expect(memcmp(&g->mix, &w->mix, sizeof g->mix) == 0, "mix differs");
    expect_close(g->pend_fraction, w->pend_fraction, "pend_fraction");
    expect_close(g->cancel_fraction, w->cancel_fraction, "cancel_fraction");
    cr_expect_eq(g->cancel_when, w->cancel_when);
    const struct pb_dist *gd[] = {&g->cancel_delay, &g->service, &g->fs_service};
    const struct pb_dist *wd[] = {&w->cancel_delay, &w->service, &w->fs_service};
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(gd[i]->kind, wd[i]->kind, "dist %d kind", i);
        cr_expect_eq(gd[i]->a, wd[i]->a, "dist %d a", i);
        cr_expect_eq(gd[i]->b, wd[i]->b, "dist %d b", i);
    }
    cr_expect_eq(g->inflight, w->inflight);
    expect_close(g->rate, w->rate, "rate");
    expect_close(g->burst_on_ms, w->burst_on_ms, "burst_on_ms");
    expect_close(g->burst_off_ms, w->burst_off_ms, "burst_off_ms");
    expect_close(g->duration_s, w->duration_s, "duration_s");
    cr_expect_eq(g->ops, w->ops);
    expect_close(g->warmup_s, w->warmup_s, "warmup_s");
    cr_expect_eq(g->seed, w->seed);
    cr_expect_eq(g->pool_capacity, w->pool_capacity);
    cr_expect_eq(g->queue_capacity, w->queue_capacity);
    cr_expect_eq(g->verifier_checks, w->verifier_checks);
    cr_expect_eq(g->split_every, w->split_every);
    cr_expect_eq(g->latency_every, w->latency_every);
}

static void expect_run(const struct pb_run_result *g, const struct pb_run_result *w)
{
    expect_scenario(&g->scenario, &w->scenario);
    cr_expect_eq(g->repetition, w->repetition);
    cr_expect_eq(g->partial, w->partial);
    expect_close(g->seconds, w->seconds, "seconds");
    cr_expect_eq(g->issued, w->issued);
    cr_expect_eq(g->completed, w->completed);
    cr_expect_eq(g->completed_cancelled, w->completed_cancelled);
    cr_expect_eq(g->failed, w->failed);
    expect_close(g->throughput_ops_s, w->throughput_ops_s, "throughput");
    expect_hist(&g->total, &w->total, "total");
    expect_hist(&g->queue_wait, &w->queue_wait, "queue_wait");
    expect_hist(&g->service, &w->service, "service");
    cr_expect_eq(g->npairs, w->npairs);
    for (unsigned i = 0; i < w->npairs && i < g->npairs; i++) {
        cr_expect_eq(g->pairs[i].requester_node, w->pairs[i].requester_node);
        cr_expect_eq(g->pairs[i].worker_node, w->pairs[i].worker_node);
        expect_hist(&g->pairs[i].total, &w->pairs[i].total, "pair");
    }
    cr_expect_eq(g->cancel.attempted, w->cancel.attempted);
    cr_expect_eq(g->cancel.won, w->cancel.won);
    cr_expect_eq(g->cancel.lost, w->cancel.lost);
    cr_expect_eq(g->cancel.early, w->cancel.early);
    cr_expect_eq(g->cancel.late, w->cancel.late);
    cr_expect_eq(g->cancel.not_cancelable, w->cancel.not_cancelable);
    expect_close(g->cancel.success_rate, w->cancel.success_rate, "success_rate");
#define COUNTER_(name, unit, doc) cr_expect_eq(g->counters.name, w->counters.name, #name);
    PB_COUNTERS(COUNTER_)
#undef COUNTER_
    const struct flt_invariants *gi = &g->invariants, *wi = &w->invariants;
    cr_expect_eq(gi->ok, wi->ok);
    cr_expect_eq(gi->issued, wi->issued);
    cr_expect_eq(gi->completed, wi->completed);
    cr_expect_eq(gi->completed_cancelled, wi->completed_cancelled);
    cr_expect_eq(gi->failed, wi->failed);
    cr_expect_eq(gi->in_flight, wi->in_flight);
    cr_expect_eq(gi->outstanding_data, wi->outstanding_data);
    cr_expect_eq(gi->double_complete_refused, wi->double_complete_refused);
    cr_expect_eq(gi->routine_left_set, wi->routine_left_set);
    cr_expect_eq(gi->verifier_violations, wi->verifier_violations);
    cr_expect_str_eq(gi->why, wi->why);
    cr_expect_eq(g->per_requester_min, w->per_requester_min);
    cr_expect_eq(g->per_requester_max, w->per_requester_max);
    expect_close(g->jain_index, w->jain_index, "jain_index");
    expect_close(g->c2c_round_trip_ns, w->c2c_round_trip_ns, "c2c");
    expect_close(g->timestamp_overhead_ns, w->timestamp_overhead_ns, "timestamp");
    expect_close(g->futex_wake_ns, w->futex_wake_ns, "futex");
    expect_close(g->instrumentation_ns_per_op, w->instrumentation_ns_per_op, "instrumentation");
    cr_expect_eq(g->latency_every, w->latency_every);
    cr_expect_eq(g->c2c_os_cpu_a, w->c2c_os_cpu_a);
    cr_expect_eq(g->c2c_os_cpu_b, w->c2c_os_cpu_b);
    const struct pb_floor *gf[] = {&g->c2c_start, &g->c2c_end};
    const struct pb_floor *wf[] = {&w->c2c_start, &w->c2c_end};
    for (int i = 0; i < 2; i++) {
        expect_close(gf[i]->median_ns, wf[i]->median_ns, "floor median");
        expect_close(gf[i]->p10_ns, wf[i]->p10_ns, "floor p10");
        expect_close(gf[i]->p90_ns, wf[i]->p90_ns, "floor p90");
        cr_expect_eq(gf[i]->samples, wf[i]->samples, "floor %d samples", i);
    }
    cr_expect_eq(g->floor_unstable, w->floor_unstable);
    cr_expect_str_eq(g->floor_note, w->floor_note);
    cr_expect_eq(g->order, w->order);
    cr_expect_eq(g->nthreads, w->nthreads);
    cr_expect_eq(g->oversubscribed, w->oversubscribed);
    expect_close(g->steal_pct, w->steal_pct, "steal_pct");
    expect_close(g->others_pct, w->others_pct, "others_pct");
    cr_expect_eq(g->involuntary_switches, w->involuntary_switches);
    cr_expect_eq(g->migrations, w->migrations);
    expect_close(g->warmup_throughput_ops_s, w->warmup_throughput_ops_s, "warmup throughput");
    cr_expect_eq(g->stalled, w->stalled);
    expect_close(g->failed_fraction, w->failed_fraction, "failed_fraction");
    cr_expect_eq(g->failure_status, w->failure_status);
    cr_expect_eq(g->mostly_failed, w->mostly_failed);
    cr_expect_str_eq(g->locks, w->locks);
    cr_expect_eq(g->lock_acquisitions, w->lock_acquisitions);
    cr_expect_eq(g->lock_contended, w->lock_contended);
    expect_close(g->lock_wait_ns, w->lock_wait_ns, "lock_wait_ns");
    cr_expect_eq(g->lock_acq_min, w->lock_acq_min);
    cr_expect_eq(g->lock_acq_max, w->lock_acq_max);
    expect_close(g->lock_fairness_jain, w->lock_fairness_jain, "lock_fairness_jain");
    cr_expect_eq(g->lock_worker_acq_min, w->lock_worker_acq_min);
    cr_expect_eq(g->lock_worker_acq_max, w->lock_worker_acq_max);
    expect_close(g->lock_worker_fairness_jain, w->lock_worker_fairness_jain,
                 "lock_worker_fairness_jain");
    cr_expect_str_eq(g->error, "");
}

static void expect_env(const struct pb_environment *g, const struct pb_environment *w)
{
    for (int i = 0; i < 3; i++) {
        expect_close(g->loadavg_start[i], w->loadavg_start[i], "loadavg_start");
        expect_close(g->loadavg_end[i], w->loadavg_end[i], "loadavg_end");
    }
    cr_expect_eq(g->ncpus_online, w->ncpus_online);
    cr_expect_eq(g->ncpus_usable, w->ncpus_usable);
    cr_expect_str_eq(g->governor, w->governor);
    expect_close(g->freq_min_mhz, w->freq_min_mhz, "freq_min");
    expect_close(g->freq_max_mhz, w->freq_max_mhz, "freq_max");
    expect_close(g->mhz_per_cpu, w->mhz_per_cpu, "mhz_per_cpu");
    cr_expect_eq(g->cpu_scaling_enabled, w->cpu_scaling_enabled);
    cr_expect_eq(g->turbo, w->turbo);
    cr_expect_eq(g->smt_active, w->smt_active);
    cr_expect_eq(g->smt_siblings_used, w->smt_siblings_used);
    cr_expect_str_eq(g->hypervisor, w->hypervisor);
    expect_close(g->steal_pct, w->steal_pct, "env steal");
    cr_expect_eq(g->tsc_constant, w->tsc_constant);
    cr_expect_eq(g->tsc_nonstop, w->tsc_nonstop);
    cr_expect_str_eq(g->clocksource, w->clocksource);
    expect_close(g->tsc_drift_ppm, w->tsc_drift_ppm, "drift");
    cr_expect_eq(g->max_threads, w->max_threads);
    cr_expect_eq(g->migrations, w->migrations);
    cr_expect_eq(g->ncaches, w->ncaches);
    for (unsigned i = 0; i < w->ncaches && i < g->ncaches; i++) {
        cr_expect_eq(g->caches[i].level, w->caches[i].level, "cache %u", i);
        cr_expect_str_eq(g->caches[i].type, w->caches[i].type, "cache %u", i);
        cr_expect_eq(g->caches[i].size_bytes, w->caches[i].size_bytes, "cache %u", i);
        cr_expect_eq(g->caches[i].num_sharing, w->caches[i].num_sharing, "cache %u", i);
    }
    cr_expect_eq(g->nwarnings, w->nwarnings);
    for (unsigned i = 0; i < w->nwarnings && i < g->nwarnings; i++)
        cr_expect_str_eq(g->warnings[i], w->warnings[i], "warning %u", i);
}

static void expect_context(const struct pb_context *g, const struct pb_context *w)
{
    cr_expect_str_eq(g->date, w->date);
    cr_expect_str_eq(g->host, w->host);
    cr_expect_str_eq(g->cpu_model, w->cpu_model);
    cr_expect_str_eq(g->kernel, w->kernel);
    cr_expect_str_eq(g->compiler, w->compiler);
    cr_expect_str_eq(g->cflags, w->cflags);
    cr_expect_str_eq(g->git_commit, w->git_commit);
    cr_expect_str_eq(g->topology, w->topology);
    cr_expect_str_eq(g->placement, w->placement);
    cr_expect_str_eq(g->command, w->command);
    cr_expect_eq(g->ncpus_online, w->ncpus_online);
    cr_expect_eq(g->partial, w->partial);
    expect_close(g->c2c_round_trip_ns, w->c2c_round_trip_ns, "ctx c2c");
    expect_close(g->timestamp_overhead_ns, w->timestamp_overhead_ns, "ctx timestamp");
    expect_close(g->futex_wake_ns, w->futex_wake_ns, "ctx futex");
    expect_close(g->tsc_ticks_per_ns, w->tsc_ticks_per_ns, "ctx tsc");
    cr_expect_str_eq(g->build_variant, w->build_variant);
    cr_expect_str_eq(g->git_diff_hash, w->git_diff_hash);
    cr_expect_str_eq(g->run_id, w->run_id);
    cr_expect_eq(g->interleaved, w->interleaved);
    cr_expect_eq(g->interleave_seed, w->interleave_seed);
    cr_expect_eq(g->repetitions, w->repetitions);
    expect_env(&g->env, &w->env);
}

/* Writes the synthetic document to dir/name. */
static void write_good(const char *name, char *path, size_t size)
{
    struct pb_context ctx;
    make_context(&ctx);
    struct pb_run_result *runs = make_runs();
    path_in(path, size, name);
    char err[512] = "";
    cr_assert_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    free_runs(runs);
}

/* ---- write, read back ------------------------------------------------------------ */

Test(result, round_trip_every_field)
{
    struct pb_context ctx;
    make_context(&ctx);
    struct pb_run_result *runs = make_runs();
    char path[256], err[512] = "";
    path_in(path, sizeof path, "results.json");
    cr_assert_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    cr_expect_eq(count_entries(dir, ".tmp."), 0, "a temporary file was left");

    struct pb_result_doc doc;
    cr_assert_eq(pb_result_read(path, &doc, err, sizeof err), 0, "%s", err);
    cr_expect_eq(doc.schema_version, PB_RESULT_SCHEMA_VERSION);
    expect_context(&doc.ctx, &ctx);
    cr_assert_eq(doc.nruns, NRUNS);
    for (unsigned k = 0; k < NRUNS; k++) {
        expect_run(&doc.runs[k].r, &runs[k]);
        cr_expect(doc.runs[k].scenario_complete, "run %u: params not all accepted", k);
        cr_expect(json_is_object(doc.runs[k].params));
    }

    const struct pb_result_run *f = pb_result_find(&doc, "steady", "magazine", "percpu-ring", "xchg", 1);
    cr_expect_eq(f, &doc.runs[1]);
    cr_expect_eq(pb_result_find(&doc, "cancel-storm", NULL, NULL, NULL, -1), &doc.runs[2]);
    cr_expect_eq(pb_result_find(&doc, "steady", NULL, "percpu-ring", NULL, 0), NULL);
    cr_expect_eq(pb_result_find(&doc, NULL, NULL, NULL, NULL, -1), &doc.runs[0]);

    /* Runs can be merged after reading: the bins are exact. */
    struct pb_hist *merged = malloc(sizeof *merged), *want = malloc(sizeof *want);
    cr_assert(merged && want);
    pb_hist_init(merged);
    pb_hist_init(want);
    for (unsigned k = 0; k < NRUNS; k++) {
        pb_hist_merge(merged, &doc.runs[k].r.total);
        pb_hist_merge(want, &runs[k].total);
    }
    expect_hist(merged, want, "merged");
    free(merged);
    free(want);

    pb_result_doc_free(&doc);
    cr_expect_eq(doc.runs, NULL);
    cr_expect_eq(doc.nruns, 0);
    free_runs(runs);
}

/* The JSON itself: what compare/HTML tools and people read. */
Test(result, document_values)
{
    char path[256];
    write_good("results.json", path, sizeof path);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    cr_expect_eq(json_integer_value(json_object_get(root, "schema_version")), 1);
    cr_expect_str_eq(json_string_value(json_object_get(root, "generator")), "pendbench");

    struct pb_run_result *runs = make_runs();
    json_t *run0 = json_array_get(json_object_get(root, "runs"), 0);
    json_t *lat = json_object_get(run0, "latency_ns");

    json_t *service = json_object_get(lat, "service");
    cr_expect(json_is_integer(json_object_get(service, "min")));
    cr_expect_eq(json_integer_value(json_object_get(service, "min")), 0, "empty: min is 0");
    cr_expect_eq(json_integer_value(json_object_get(service, "max")), 0);
    cr_expect_eq(json_array_size(json_object_get(service, "bins")), 0);

    json_t *total = json_object_get(lat, "total");
    const struct pb_hist *h = &runs[0].total;
    static const struct { const char *key; double p; } pk[] = {
        {"p50", 50}, {"p90", 90}, {"p99", 99}, {"p999", 99.9}};
    for (size_t i = 0; i < 4; i++) {
        json_t *v = json_object_get(total, pk[i].key);
        cr_expect(json_is_integer(v), "%s is an integer", pk[i].key);
        cr_expect_eq((uint64_t)json_integer_value(v), pb_hist_percentile(h, pk[i].p), "%s",
                     pk[i].key);
    }
    cr_expect_eq((uint64_t)json_integer_value(json_object_get(total, "count")), h->count);
    cr_expect_eq((uint64_t)json_integer_value(json_object_get(total, "min")), h->min);
    /* Bins: only the non-empty ones, in order, each [lo, hi, count]. */
    json_t *bins = json_object_get(total, "bins");
    size_t nonempty = 0;
    for (unsigned b = 0; b < PB_HIST_BINS; b++)
        nonempty += h->bins[b] != 0;
    cr_expect_eq(json_array_size(bins), nonempty);
    size_t i;
    json_t *t;
    uint64_t prev = 0;
    json_array_foreach(bins, i, t) {
        uint64_t lo = (uint64_t)json_integer_value(json_array_get(t, 0));
        uint64_t hi = (uint64_t)json_integer_value(json_array_get(t, 1));
        uint64_t n = (uint64_t)json_integer_value(json_array_get(t, 2));
        unsigned b = pb_hist_bin(lo);
        cr_expect_eq(pb_hist_bin_lo(b), lo);
        cr_expect_eq(pb_hist_bin_hi(b), hi);
        cr_expect_eq(h->bins[b], n);
        cr_expect(n > 0);
        cr_expect(i == 0 || lo > prev, "bins in order");
        prev = lo;
    }
    /* The open-ended last bin's hi is the exact max (2^64-1 is no JSON integer). */
    json_t *pair1 = json_array_get(json_object_get(run0, "node_pairs"), 1);
    json_t *pbins = json_object_get(json_object_get(pair1, "latency_ns"), "bins");
    json_t *last = json_array_get(pbins, json_array_size(pbins) - 1);
    cr_expect_eq((uint64_t)json_integer_value(json_array_get(last, 1)),
                 (UINT64_C(1) << PB_HIST_MAX_POW) + 12345);

    /* Ratios: total p50 and p99 over the round trip, only when measured. */
    json_t *ratios = json_object_get(run0, "ratios");
    expect_close(json_real_value(json_object_get(ratios, "p50_over_c2c")),
                 (double)pb_hist_percentile(h, 50) / 91.5, "p50_over_c2c");
    expect_close(json_real_value(json_object_get(ratios, "p99_over_c2c")),
                 (double)pb_hist_percentile(h, 99) / 91.5, "p99_over_c2c");
    json_t *run1 = json_array_get(json_object_get(root, "runs"), 1);
    cr_expect_eq(json_object_size(json_object_get(run1, "ratios")), 0);
    /* Run 2 measured its floor, but it moved: no ratios, the note says why. */
    json_t *run2 = json_array_get(json_object_get(root, "runs"), 2);
    cr_expect_eq(json_object_size(json_object_get(run2, "ratios")), 0, "unstable floor");
    json_t *fl2 = json_object_get(run2, "floors");
    cr_expect(json_is_true(json_object_get(fl2, "floor_unstable")));
    cr_expect_str_eq(json_string_value(json_object_get(fl2, "floor_note")),
                     "c2c moved 91.5 -> 140.5 ns (+54%)");
    json_t *end2 = json_object_get(fl2, "c2c_end");
    cr_expect_eq(json_real_value(json_object_get(end2, "median_ns")), 140.5);
    cr_expect_eq(json_integer_value(json_object_get(end2, "samples")), 1902);
    cr_expect(json_is_true(json_object_get(run2, "stalled")));
    cr_expect_eq(json_integer_value(json_object_get(run2, "order")), 8);
    cr_expect(json_is_null(json_object_get(run0, "steal_pct")) == false);
    cr_expect_eq(json_number_value(json_object_get(run0, "steal_pct")), -1);

    /* The context's identity and environment. */
    json_t *ctx = json_object_get(root, "context");
    cr_expect_str_eq(json_string_value(json_object_get(ctx, "interleave_seed")),
                     "18446744073709551557");
    cr_expect(json_is_true(json_object_get(ctx, "interleaved")));
    cr_expect_eq(json_integer_value(json_object_get(ctx, "repetitions")), 5);
    cr_expect_str_eq(json_string_value(json_object_get(ctx, "git_diff_hash")), "0123456789ab");
    json_t *env = json_object_get(ctx, "env");
    cr_expect_eq(json_number_value(json_array_get(json_object_get(env, "loadavg_start"), 2)), 3.75);
    cr_expect_eq(json_integer_value(json_object_get(env, "turbo")), 1);
    cr_expect_str_eq(json_string_value(json_object_get(env, "hypervisor")), "KVM");
    json_t *l3 = json_array_get(json_object_get(env, "caches"), 2);
    cr_expect_eq(json_integer_value(json_object_get(l3, "size_bytes")), 36 << 20);
    cr_expect_str_eq(json_string_value(json_object_get(l3, "type")), "Unified");
    cr_expect_gt(json_array_size(json_object_get(env, "warnings")), 4);

    /* Every counter of the X-macro, by its name. */
    json_t *counters = json_object_get(run0, "counters");
    size_t ncounters = 0;
#define COUNTER_(name, unit, doc)                                                            \
    cr_expect_eq((uint64_t)json_integer_value(json_object_get(counters, #name)),          \
                 runs[0].counters.name, #name);                                            \
    ncounters++;
    PB_COUNTERS(COUNTER_)
#undef COUNTER_
    cr_expect_eq(json_object_size(counters), ncounters);

    /* Params: keys are option names; values typed; the big seed a string. */
    json_t *params = json_object_get(run0, "params");
    cr_expect_str_eq(json_string_value(json_object_get(params, "seed")), "18446744073709551557");
    cr_expect_str_eq(json_string_value(json_object_get(params, "burst")), "20:80.5");
    cr_expect_eq(json_integer_value(json_object_get(params, "workers")), 2);
    cr_expect(json_is_true(json_object_get(params, "verifier-checks")));
    cr_expect_eq(json_integer_value(json_object_get(params, "split-every")), 64);
    cr_expect_eq(json_integer_value(json_object_get(params, "latency-every")), 8);
    /* auto is written as such, and the N it chose beside the floors. */
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(run1, "params"),
                                                       "latency-every")), "auto");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(run1, "floors"),
                                                    "latency_every")), 3);
    json_t *filters = json_object_get(params, "filters");
    cr_expect_str_eq(json_string_value(json_array_get(filters, 0)), "pass");
    cr_expect_str_eq(json_string_value(json_array_get(filters, 1)), "pend");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(params, "mix"), "fastio")), 5);
    cr_expect_str_eq(json_string_value(json_object_get(params, "cancel-delay")),
                     "uniform:100:900");
    json_t *cpus = json_object_get(json_object_get(run0, "floors"), "c2c_os_cpus");
    cr_expect_eq(json_array_size(cpus), 2);
    cr_expect_eq(json_integer_value(json_array_get(cpus, 1)), 3);

    /* The lock: chosen (run 0), each strategy's own (1), none taken (2). */
    json_t *runs_j = json_object_get(root, "runs");
    static const char *const lock[NRUNS] = { "mcs", "default", "default" };
    static const char *const taken[NRUNS] = { "mcs", "ttas-backoff+pthread-mutex", "" };
    for (unsigned k = 0; k < NRUNS; k++) {
        json_t *rk = json_array_get(runs_j, k);
        json_t *st = json_object_get(rk, "strategies");
        cr_expect_str_eq(json_string_value(json_object_get(st, "lock")), lock[k], "run %u", k);
        cr_expect_str_eq(json_string_value(json_object_get(st, "locks_taken")), taken[k],
                         "run %u", k);
        /* params names a lock only when one was chosen: a default run keeps
         * the key of the files written before locks. */
        json_t *pl = json_object_get(json_object_get(rk, "params"), "lock");
        if (k == 0)
            cr_expect_str_eq(json_string_value(pl), "mcs");
        else
            cr_expect_null(pl, "run %u: params.lock for a default run", k);
        json_t *lk = json_object_get(rk, "locks");
        if (k == 2) {
            cr_expect_null(lk, "a run that took no lock has no lock figures");
            continue;
        }
        cr_assert_not_null(lk, "run %u: no locks object", k);
        cr_expect_eq(json_object_size(lk), 9);
        cr_expect_eq((uint64_t)json_integer_value(json_object_get(lk, "acquisitions")),
                     UINT64_C(5000000123) + k);
        cr_expect_eq(json_integer_value(json_object_get(lk, "contended")), 123456 + k);
        expect_close(json_number_value(json_object_get(lk, "wait_ns")), 98765432.25 + k,
                     "wait_ns");
        cr_expect_eq(json_integer_value(json_object_get(lk, "acq_min")), 1200000 + k);
        cr_expect_eq(json_integer_value(json_object_get(lk, "acq_max")), 1300000 + k);
        expect_close(json_number_value(json_object_get(lk, "fairness_jain")), 0.9987654321,
                     "fairness_jain");
        cr_expect_eq(json_integer_value(json_object_get(lk, "worker_acq_min")), 900000 + k);
        cr_expect_eq(json_integer_value(json_object_get(lk, "worker_acq_max")), 1100000 + k);
        expect_close(json_number_value(json_object_get(lk, "worker_fairness_jain")),
                     0.9876543211, "worker_fairness_jain");
    }
    free_runs(runs);
    json_decref(root);
}

/* Each params key is an option: a job file section can be written from it,
 * and it sets the same scenario. */
Test(result, params_are_options)
{
    char path[256];
    write_good("results.json", path, sizeof path);
    json_t *root = json_load_file(path, 0, NULL);
    cr_assert_not_null(root);
    json_t *params = json_object_get(json_array_get(json_object_get(root, "runs"), 0), "params");
    struct pb_run_result *runs = make_runs();

    size_t noptions = 0;
    for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++) {
        if (!strcmp(o->name, "scenario") || !strcmp(o->name, "name") ||
            !strcmp(o->name, "description"))
            continue;
        noptions++;
        cr_expect_not_null(json_object_get(params, o->name), "option %s not in params", o->name);
    }
    cr_expect_eq(json_object_size(params), noptions, "params has keys that are not options");

    struct pb_scenario s;
    pb_scenario_defaults(&s);
    set(&s, "name", runs[0].scenario.name);
    set(&s, "description", runs[0].scenario.description);
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v) {
        char text[512], err[256];
        cr_assert_eq(pb_result_param_text(v, text, sizeof text), 0, "%s", key);
        cr_expect_eq(pb_scenario_set(&s, key, text, err, sizeof err), 0, "%s=%s: %s", key, text,
                     err);
    }
    expect_scenario(&s, &runs[0].scenario);
    free_runs(runs);
    json_decref(root);
}

Test(result, param_text)
{
    char buf[64];
    json_t *v = json_pack("[s, i, f, f, b, b, [s, s], {s:i, s:i}, n]", "exp:2000", 42, 0.1, 2.0, 1,
                          0, "pend", "pass", "read", 70, "write", 30);
    cr_assert_not_null(v);
    static const char *want[] = {"exp:2000", "42", "0.1", "2", "on", "off", "pend,pass",
                                 "read=70,write=30"};
    for (size_t i = 0; i < 8; i++) {
        cr_expect_eq(pb_result_param_text(json_array_get(v, i), buf, sizeof buf), 0, "%zu", i);
        cr_expect_str_eq(buf, want[i]);
    }
    cr_expect_eq(pb_result_param_text(json_array_get(v, 8), buf, sizeof buf), -1, "null");
    cr_expect_eq(pb_result_param_text(json_array_get(v, 6), buf, 5), -1, "too long");
    json_decref(v);
}

Test(result, stream_matches_file)
{
    struct pb_context ctx;
    make_context(&ctx);
    struct pb_run_result *runs = make_runs();
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    cr_assert_not_null(m);
    char err[512] = "";
    cr_assert_eq(pb_result_write_stream(m, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    fclose(m);
    cr_expect(len > 0 && text[len - 1] == '\n', "ends with a newline");

    char path[256];
    path_in(path, sizeof path, "r.json");
    cr_assert_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char *file = calloc(1, len + 2);
    cr_assert_not_null(file);
    size_t got = fread(file, 1, len + 1, f);
    fclose(f);
    cr_expect_eq(got, len);
    cr_expect(memcmp(file, text, len) == 0, "the file and the stream differ");

    struct pb_result_doc doc;
    cr_assert_eq(pb_result_read_string(text, "stdin", &doc, err, sizeof err), 0, "%s", err);
    cr_assert_eq(doc.nruns, NRUNS);
    expect_run(&doc.runs[2].r, &runs[2]);
    pb_result_doc_free(&doc);
    free(file);
    free(text);
    free_runs(runs);
}

Test(result, no_runs)
{
    struct pb_context ctx;
    make_context(&ctx);
    char path[256], err[512] = "";
    path_in(path, sizeof path, "empty.json");
    cr_assert_eq(pb_result_write(path, &ctx, NULL, 0, err, sizeof err), 0, "%s", err);
    struct pb_result_doc doc;
    cr_assert_eq(pb_result_read(path, &doc, err, sizeof err), 0, "%s", err);
    cr_expect_eq(doc.nruns, 0);
    cr_expect(doc.ctx.partial);
    pb_result_doc_free(&doc);
}

/* ---- the atomic write -------------------------------------------------------------- */

Test(result, missing_directory_fails_cleanly)
{
    struct pb_context ctx;
    make_context(&ctx);
    struct pb_run_result *runs = make_runs();
    char path[256], err[512] = "";
    path_in(path, sizeof path, "no/such/dir/results.json");
    cr_expect_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), -1);
    cr_expect(strstr(err, path) == err, "names the file: %s", err);
    cr_expect(strstr(err, "No such file or directory") != NULL, "says why: %s", err);
    cr_expect_eq(count_entries(dir, ""), 2, "only . and .. in the scratch directory");
    free_runs(runs);
}

Test(result, unwritable_directory_fails_cleanly)
{
    struct pb_context ctx;
    make_context(&ctx);
    struct pb_run_result *runs = make_runs();
    char sub[256], path[300], err[512] = "";
    path_in(sub, sizeof sub, "ro");
    cr_assert_eq(mkdir(sub, 0555), 0);
    cr_assert_eq(chmod(sub, 0555), 0);                 /* whatever the umask */
    snprintf(path, sizeof path, "%s/results.json", sub);
    /* Root writes anywhere: write as nobody (this test's own process; the
     * real uid stays root, so it comes back for the cleanup). */
    bool dropped = false;
    if (geteuid() == 0) {
        cr_assert_eq(chmod(dir, 0711), 0);
        if (seteuid(65534) != 0)
            cr_skip_test("running as root and cannot become nobody: %s", strerror(errno));
        dropped = true;
    }
    int rc = pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err);
    if (dropped)
        cr_assert_eq(seteuid(0), 0);
    cr_expect_eq(rc, -1);
    cr_expect(strstr(err, path) == err, "names the file: %s", err);
    cr_expect(strstr(err, "Permission denied") != NULL, "says why: %s", err);
    cr_expect_eq(count_entries(sub, ""), 2, "nothing written in the directory");
    free_runs(runs);
}

/* A directory is never a result file: refused before anything is
 * written (rename would replace an empty one), nothing left beside it. */
Test(result, a_directory_target_is_refused)
{
    struct pb_context ctx;
    make_context(&ctx);
    struct pb_run_result *runs = make_runs();
    char path[256], inner[300], err[512] = "";
    path_in(path, sizeof path, "adir");
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(inner, sizeof inner, "%s/keep", path);
    write_text(inner, "x");
    cr_expect_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), -1);
    cr_expect(strstr(err, "is a directory") != NULL, "%s", err);
    cr_expect_eq(count_entries(dir, ".tmp."), 0, "a temporary file was left");
    struct stat st;
    cr_expect(stat(inner, &st) == 0, "the directory is untouched");
    /* An empty directory too (rename(2) would replace that one). */
    char empty[256];
    path_in(empty, sizeof empty, "empty");
    cr_assert_eq(mkdir(empty, 0755), 0);
    cr_expect_eq(pb_result_write(empty, &ctx, runs, NRUNS, err, sizeof err), -1);
    cr_expect(stat(empty, &st) == 0 && S_ISDIR(st.st_mode), "still a directory");
    free_runs(runs);
}

/* A device is written through, never replaced: /dev/full fails with its
 * ENOSPC and stays the character device it was (as root, a rename over
 * it would have destroyed it). */
Test(result, a_device_is_written_through_never_replaced)
{
    struct pb_context ctx;
    make_context(&ctx);
    struct pb_run_result *runs = make_runs();
    struct stat before, after;
    cr_assert_eq(stat("/dev/full", &before), 0);
    cr_assert(S_ISCHR(before.st_mode));
    char err[512] = "";
    cr_expect_eq(pb_result_write("/dev/full", &ctx, runs, NRUNS, err, sizeof err), -1);
    cr_expect(strncmp(err, "/dev/full: ", 11) == 0, "names the file: %s", err);
    cr_expect(strstr(err, "No space left on device") != NULL, "says why: %s", err);
    cr_assert_eq(stat("/dev/full", &after), 0);
    cr_expect(S_ISCHR(after.st_mode), "/dev/full is no longer a character device");
    cr_expect_eq(after.st_ino, before.st_ino);
    cr_expect_eq(after.st_rdev, before.st_rdev);
    cr_expect_eq(access("/dev/full.tmp.0", F_OK), -1);
    cr_expect_eq(pb_result_write("/dev/null", &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    cr_assert_eq(stat("/dev/null", &after), 0);
    cr_expect(S_ISCHR(after.st_mode), "/dev/null is no longer a character device");
    free_runs(runs);
}

Test(result, replaces_an_existing_file_whole)
{
    char path[256];
    path_in(path, sizeof path, "results.json");
    /* An old file much longer than the new document. */
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < 200000; i++)
        fputs("old old old old old old old old\n", f);
    fclose(f);
    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);
    char again[256];
    write_good("results.json", again, sizeof again);
    cr_assert_eq(stat(path, &after), 0);
    cr_expect_neq(before.st_ino, after.st_ino, "replaced by rename, not rewritten in place");
    cr_expect_lt(after.st_size, before.st_size);
    struct pb_result_doc doc;
    char err[512];
    cr_expect_eq(pb_result_read(path, &doc, err, sizeof err), 0, "%s", err);
    pb_result_doc_free(&doc);
    cr_expect_eq(count_entries(dir, ".tmp."), 0);
    cr_expect_eq(count_entries(dir, ""), 3);
}

/* ---- the reader's messages ---------------------------------------------------------- */

static void expect_read_error(const char *path, const char *want)
{
    struct pb_result_doc doc;
    char err[512] = "";
    cr_expect_eq(pb_result_read(path, &doc, err, sizeof err), -1, "%s was accepted", path);
    cr_expect_str_eq(err, want);
    cr_expect_eq(doc.nruns, 0);
    cr_expect_eq(doc.runs, NULL);
    pb_result_doc_free(&doc);
}

static void expect_read_error_prefix(const char *path, const char *prefix, const char *part)
{
    struct pb_result_doc doc;
    char err[512] = "";
    cr_expect_eq(pb_result_read(path, &doc, err, sizeof err), -1, "%s was accepted", path);
    cr_expect(strncmp(err, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'", err,
              prefix);
    cr_expect(strstr(err, part) != NULL, "'%s' does not say '%s'", err, part);
    pb_result_doc_free(&doc);
}

Test(result, error_missing_file)
{
    char path[256], want[400];
    path_in(path, sizeof path, "results.json");
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    expect_read_error(path, want);
    snprintf(want, sizeof want, "%s: not a regular file but a directory (a result file is a "
                                "JSON text file, or - for standard input)", dir);
    expect_read_error(dir, want);
}

/* A FIFO without a writer is refused at once (it used to block the open
 * forever), a device likewise (/dev/zero never ends), a NUL byte is an
 * error naming its line. */
Test(result, error_not_a_regular_file_or_nul, .timeout = 10)
{
    char path[256], want[400];
    path_in(path, sizeof path, "fifo");
    cr_assert_eq(mkfifo(path, 0600), 0, "%s", strerror(errno));
    snprintf(want, sizeof want, "%s: not a regular file but a FIFO (a result file is a JSON text "
                                "file, or - for standard input)", path);
    expect_read_error(path, want);
    expect_read_error("/dev/zero", "/dev/zero: not a regular file but a character device (a "
                                   "result file is a JSON text file, or - for standard input)");
    path_in(path, sizeof path, "nul.json");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite("{\n\"a\":\n\0\"b\"}\n", 1, 13, f);
    fclose(f);
    snprintf(want, sizeof want, "%s:3: a NUL byte (a result file is a JSON text file)", path);
    expect_read_error(path, want);
}

/* '-' is standard input. */
Test(result, reads_standard_input)
{
    char path[256];
    write_good("results.json", path, sizeof path);
    FILE *in = freopen(path, "r", stdin);
    cr_assert_not_null(in);
    struct pb_result_doc doc;
    char err[512] = "";
    cr_expect_eq(pb_result_read("-", &doc, err, sizeof err), 0, "%s", err);
    cr_expect_eq(doc.nruns, NRUNS);
    pb_result_doc_free(&doc);
}

Test(result, error_not_json)
{
    char path[256], prefix[300];
    path_in(path, sizeof path, "x.json");
    write_text(path, "{\n  \"schema_version\": 1,\n    oops\n}\n");
    snprintf(prefix, sizeof prefix, "%s:3:", path);
    expect_read_error_prefix(path, prefix, ": not JSON: ");
    write_text(path, "");
    snprintf(prefix, sizeof prefix, "%s:", path);
    expect_read_error_prefix(path, prefix, "not JSON");
    write_text(path, "{\"a\": 1, \"a\": 2}");
    expect_read_error_prefix(path, prefix, "duplicate");
}

Test(result, error_not_a_result)
{
    char path[256], want[400];
    path_in(path, sizeof path, "x.json");
    /* What is missing, or of the wrong type, is named. */
    const struct { const char *text, *why; } bad[] = {
        {"{\"benchmarks\": []}", "no schema_version, no generator"},
        {"[1, 2]", "no schema_version, no generator"},
        {"42", "no schema_version, no generator"},
        {"{\"schema_version\": 1}", "no generator"},
        {"{\"generator\": \"pendbench\"}", "no schema_version"},
        {"{\"schema_version\": \"1\", \"generator\": \"pendbench\"}",
         "schema_version is not an integer"},
        {"{\"schema_version\": 1, \"generator\": 7}", "generator is not a string"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(path, bad[i].text);
        snprintf(want, sizeof want, "%s: not a pendbench result (%s)", path, bad[i].why);
        expect_read_error(path, want);
    }
    write_text(path, "{\"schema_version\": 1, \"generator\": \"fio\"}");
    snprintf(want, sizeof want, "%s: not a pendbench result (generator 'fio')", path);
    expect_read_error(path, want);
}

Test(result, error_schema_version)
{
    char path[256], want[400];
    path_in(path, sizeof path, "x.json");
    write_text(path, "{\"schema_version\": 7, \"generator\": \"pendbench\", \"runs\": []}");
    snprintf(want, sizeof want, "%s: schema_version 7 is newer than this pendbench reads (1)",
             path);
    /* -2, not -1: a newer pendbench wrote it, it is not damaged (the
     * history reads its rows instead). */
    struct pb_result_doc doc;
    char err[512] = "";
    cr_expect_eq(pb_result_read(path, &doc, err, sizeof err), -2);
    cr_expect_str_eq(err, want);
    cr_expect_eq(doc.nruns, 0);
    pb_result_doc_free(&doc);
    write_text(path, "{\"schema_version\": 0, \"generator\": \"pendbench\", \"runs\": []}");
    snprintf(want, sizeof want, "%s: schema_version 0 is not one this pendbench reads (1 to 1)",
             path);
    expect_read_error(path, want);
}

/* A good document with one value replaced (json_pointer-like path). */
static void write_altered(const char *out, const char *src, unsigned run, const char *k1,
                          const char *k2, const char *k3, json_t *value)
{
    json_t *root = json_load_file(src, 0, NULL);
    cr_assert_not_null(root);
    json_t *o = json_array_get(json_object_get(root, "runs"), run);
    if (k2)
        o = json_object_get(o, k1);
    if (k3)
        o = json_object_get(o, k2);
    const char *key = k3 ? k3 : k2 ? k2 : k1;
    cr_assert_not_null(o);
    if (value)
        cr_assert_eq(json_object_set_new(o, key, value), 0);
    else
        cr_assert_eq(json_object_del(o, key), 0);
    cr_assert_eq(json_dump_file(root, out, JSON_INDENT(1)), 0);
    json_decref(root);
}

Test(result, error_bad_fields)
{
    char good[256], bad[256], want[512];
    write_good("good.json", good, sizeof good);
    path_in(bad, sizeof bad, "bad.json");

    write_altered(bad, good, 2, "latency_ns", "total", "bins", json_pack("[[i, i]]", 1, 1));
    snprintf(want, sizeof want, "%s: runs[2].latency_ns.total.bins: expected [lo, hi, count] triples", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "latency_ns", "queue_wait", "bins", json_pack("[[i, i, s]]", 1, 1, "3"));
    snprintf(want, sizeof want, "%s: runs[0].latency_ns.queue_wait.bins: expected [lo, hi, count] triples", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 1, "latency_ns", "total", "bins", json_pack("[[i, i, i]]", 1, 1, 3));
    snprintf(want, sizeof want,
             "%s: runs[1].latency_ns.total.bins: the bins hold 3 values but count is 20000", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "latency_ns", "service", "bins",
                  json_pack("[[i, i, i]]", 257, 258, 1));
    expect_read_error_prefix(bad, bad, "does not start a bin");

    write_altered(bad, good, 1, "ops", "issued", NULL, NULL);
    snprintf(want, sizeof want, "%s: runs[1].ops.issued: missing", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "ops", "failed", NULL, json_integer(-1));
    snprintf(want, sizeof want, "%s: runs[0].ops.failed: expected a non-negative integer", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 2, "invariants", "ok", NULL, json_string("yes"));
    snprintf(want, sizeof want, "%s: runs[2].invariants.ok: expected true or false", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "strategies", NULL, NULL, json_string("magazine"));
    snprintf(want, sizeof want, "%s: runs[0].strategies: expected an object", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "node_pairs", NULL, NULL, json_pack("[{s:i}]", "requester_node", 0));
    snprintf(want, sizeof want, "%s: runs[0].node_pairs[0].worker_node: missing", bad);
    expect_read_error(bad, want);

    /* Lenient where the policy says so: an unknown field, a counter a newer
     * build added, a params value this build refuses. */
    write_altered(bad, good, 0, "counters", "future_counter", NULL, json_integer(5));
    struct pb_result_doc doc;
    char err[512];
    cr_expect_eq(pb_result_read(bad, &doc, err, sizeof err), 0, "%s", err);
    pb_result_doc_free(&doc);
    write_altered(bad, good, 0, "params", "queue", NULL, json_string("from-the-future"));
    cr_assert_eq(pb_result_read(bad, &doc, err, sizeof err), 0, "%s", err);
    cr_expect_not(doc.runs[0].scenario_complete);
    cr_expect(doc.runs[1].scenario_complete);
    cr_expect_str_eq(doc.runs[0].r.scenario.queue, "percpu-mpsc", "strategies win");
    pb_result_doc_free(&doc);
}

/* Counts that wrap 64 bits, each a valid integer: bins of 2^63 - 1 and 7
 * and 2^63 - 1 with count 5 summed to 5, and every percentile came from
 * the first bin; two runs' histograms or ops of 2^63 - 1 wrapped the
 * merges and sums of compare, export, the page and the history. */
Test(result, error_counts_that_wrap)
{
    char good[256], bad[256], want[512];
    write_good("good.json", good, sizeof good);
    path_in(bad, sizeof bad, "bad.json");

    write_altered(bad, good, 1, "latency_ns", "total", "bins",
                  json_pack("[[i, i, I], [i, i, i], [i, i, I]]", 189, 189, (json_int_t)INT64_MAX,
                            199, 199, 7, 75776, 76287, (json_int_t)INT64_MAX));
    write_altered(bad, bad, 1, "latency_ns", "total", "count", json_integer(5));
    snprintf(want, sizeof want,
             "%s: runs[1].latency_ns.total.bins: the bins hold more than 2^64 - 1 values (a "
             "damaged or edited file)", bad);
    expect_read_error(bad, want);

    /* Each histogram right, together past 2^64 - 1. */
    write_altered(bad, good, 0, "latency_ns", "total", "bins",
                  json_pack("[[i, i, I]]", 189, 189, (json_int_t)INT64_MAX));
    write_altered(bad, bad, 0, "latency_ns", "total", "count", json_integer(INT64_MAX));
    write_altered(bad, bad, 1, "latency_ns", "total", "bins",
                  json_pack("[[i, i, I]]", 189, 189, (json_int_t)INT64_MAX));
    write_altered(bad, bad, 1, "latency_ns", "total", "count", json_integer(INT64_MAX));
    snprintf(want, sizeof want,
             "%s: runs[1].latency_ns.total.count: the document's histograms hold more than "
             "2^64 - 1 values together (a damaged or edited file: merged, they would wrap)", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "ops", "issued", NULL, json_integer(INT64_MAX));
    write_altered(bad, bad, 1, "ops", "issued", NULL, json_integer(INT64_MAX));
    snprintf(want, sizeof want,
             "%s: runs[1]: the document's ops and cancel counts add up past 2^64 - 1 here (a "
             "damaged or edited file: summed, they would wrap)", bad);
    expect_read_error(bad, want);

    /* One run of 2^63 - 1 issued is a count, not damage. */
    write_altered(bad, good, 0, "ops", "issued", NULL, json_integer(INT64_MAX));
    struct pb_result_doc doc;
    char err[512];
    cr_expect_eq(pb_result_read(bad, &doc, err, sizeof err), 0, "%s", err);
    pb_result_doc_free(&doc);
}

/* A string or key with a control character, anywhere in the document,
 * is a damaged file: printed, it reached the terminal as it was (compare's
 * table, the run keys, the history). The message shows it escaped. */
Test(result, error_control_characters)
{
    char good[256], bad[256], want[512];
    write_good("good.json", good, sizeof good);
    path_in(bad, sizeof bad, "bad.json");

    write_altered(bad, good, 1, "scenario", NULL, NULL, json_string("x\x1b[2J\x1b]0;pwned\x07y"));
    snprintf(want, sizeof want, "%s: runs[1].scenario: \"x\\x1b[2J\\x1b]0;pwned\\x07y\" holds "
             "a control character (a damaged or edited file)", bad);
    expect_read_error(bad, want);

    /* Strings the reader does not keep (params), keys, a C1 control. */
    write_altered(bad, good, 0, "params", "service", NULL, json_string("exp:1000\n"));
    snprintf(want, sizeof want, "%s: runs[0].params.service: \"exp:1000\\x0a\" holds a control "
             "character (a damaged or edited file)", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 2, "params", "mix", "read\x1b", json_integer(1));
    snprintf(want, sizeof want, "%s: runs[2].params.mix: the key \"read\\x1b\" holds a control "
             "character (a damaged or edited file)", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 0, "strategies", "queue", NULL, json_string("q\xc2\x9b"));
    snprintf(want, sizeof want, "%s: runs[0].strategies.queue: \"q\\xc2\\x9b\" holds a "
             "control character (a damaged or edited file)", bad);
    expect_read_error(bad, want);

    json_t *root = json_load_file(good, 0, NULL);
    cr_assert_not_null(root);
    json_t *ctx = json_object_get(root, "context");
    cr_assert_eq(json_object_set_new(ctx, "host", json_string("h\x1b[31m")), 0);
    cr_assert_eq(json_dump_file(root, bad, 0), 0);
    snprintf(want, sizeof want, "%s: context.host: \"h\\x1b[31m\" holds a control character (a "
             "damaged or edited file)", bad);
    expect_read_error(bad, want);
    json_object_set_new(ctx, "host", json_string("h"));
    json_t *warnings = json_array();
    json_array_append_new(warnings, json_string("fine"));
    json_array_append_new(warnings, json_string("\x07" "bell"));
    json_object_set_new(json_object_get(ctx, "env"), "warnings", warnings);
    cr_assert_eq(json_dump_file(root, bad, 0), 0);
    snprintf(want, sizeof want, "%s: context.env.warnings[1]: \"\\x07bell\" holds a control "
             "character (a damaged or edited file)", bad);
    expect_read_error(bad, want);
    json_decref(root);
}

/* The writer writes text a reader accepts: a control character from the
 * system or the command line (a host name, a path in the command) is
 * written as '?', as bytes that are not UTF-8 were; UTF-8 text stays. */
Test(result, writer_cleans_text)
{
    struct pb_context ctx;
    make_context(&ctx);
    snprintf(ctx.host, sizeof ctx.host, "h\x1b[31m");
    snprintf(ctx.command, sizeof ctx.command, "pendbench run --json 'a\tb.json'");
    snprintf(ctx.cpu_model, sizeof ctx.cpu_model, "\xff\xfe cpu");
    struct pb_run_result *runs = make_runs();
    char path[256], err[512] = "";
    path_in(path, sizeof path, "clean.json");
    cr_assert_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    struct pb_result_doc doc;
    cr_assert_eq(pb_result_read(path, &doc, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(doc.ctx.host, "h?[31m");
    cr_expect_str_eq(doc.ctx.command, "pendbench run --json 'a?b.json'");
    cr_expect_str_eq(doc.ctx.cpu_model, "?? cpu");
    cr_expect_str_eq(doc.runs[0].r.scenario.description,
                     "a \"quoted\" [1,  2] description, with UTF-8: µs");
    pb_result_doc_free(&doc);
    free_runs(runs);
}

/* A file from before the environment and floor fields: it reads, with
 * defaults that claim nothing (steal unknown, order as they ran, the
 * scenario's thread count, the round trip as the start floor). */
Test(result, older_file_defaults)
{
    char good[256], old[256];
    write_good("good.json", good, sizeof good);
    path_in(old, sizeof old, "old.json");
    json_t *root = json_load_file(good, 0, NULL);
    cr_assert_not_null(root);
    json_t *ctx = json_object_get(root, "context");
    const char *ctx_new[] = {"build_variant", "git_diff_hash", "run_id", "interleaved",
                             "interleave_seed", "repetitions", "env"};
    for (size_t i = 0; i < sizeof ctx_new / sizeof ctx_new[0]; i++)
        cr_assert_eq(json_object_del(ctx, ctx_new[i]), 0, "%s", ctx_new[i]);
    const char *run_new[] = {"order", "nthreads", "oversubscribed", "steal_pct", "others_pct",
                             "involuntary_switches", "migrations", "warmup_throughput_ops_s",
                             "stalled", "failed_fraction", "failure_status",
                             "failure_status_name", "mostly_failed"};
    const char *floor_new[] = {"c2c_start", "c2c_end", "floor_unstable", "floor_note",
                               "latency_every"};
    size_t i;
    json_t *run;
    json_array_foreach(json_object_get(root, "runs"), i, run) {
        for (size_t k = 0; k < sizeof run_new / sizeof run_new[0]; k++)
            cr_assert_eq(json_object_del(run, run_new[k]), 0, "%s", run_new[k]);
        /* Before locks: no lock in strategies or params, no figures. */
        json_object_del(run, "locks");
        json_object_del(json_object_get(run, "params"), "lock");
        cr_assert_eq(json_object_del(json_object_get(run, "strategies"), "lock"), 0);
        cr_assert_eq(json_object_del(json_object_get(run, "strategies"), "locks_taken"), 0);
        for (size_t k = 0; k < sizeof floor_new / sizeof floor_new[0]; k++)
            cr_assert_eq(json_object_del(json_object_get(run, "floors"), floor_new[k]), 0, "%s",
                         floor_new[k]);
        /* Run 2 from before latency-every: every operation was timed. */
        if (i == 2)
            cr_assert_eq(json_object_del(json_object_get(run, "params"), "latency-every"), 0);
    }
    cr_assert_eq(json_dump_file(root, old, JSON_INDENT(1)), 0);
    json_decref(root);

    struct pb_result_doc doc;
    char err[512];
    cr_assert_eq(pb_result_read(old, &doc, err, sizeof err), 0, "%s", err);
    const struct pb_context *c = &doc.ctx;
    cr_expect_str_eq(c->build_variant, "");
    cr_expect_str_eq(c->run_id, "");
    cr_expect_not(c->interleaved);
    cr_expect_eq(c->repetitions, 0);
    cr_expect_eq(c->env.loadavg_start[0], -1);
    cr_expect_eq(c->env.loadavg_end[2], -1);
    cr_expect_eq(c->env.steal_pct, -1);
    cr_expect_eq(c->env.turbo, -1);
    cr_expect_eq(c->env.smt_active, -1);
    cr_expect_eq(c->env.ncaches, 0);
    cr_expect_eq(c->env.nwarnings, 0);
    cr_expect_str_eq(c->git_commit, "5c74414-dirty", "the old fields still read");
    cr_assert_eq(doc.nruns, NRUNS);
    for (unsigned k = 0; k < NRUNS; k++) {
        const struct pb_run_result *r = &doc.runs[k].r;
        cr_expect_eq(r->order, k);
        cr_expect_eq(r->nthreads, 3 + 2 + 1, "requesters + workers + cancellers");
        cr_expect_not(r->oversubscribed);
        cr_expect_eq(r->steal_pct, -1);
        cr_expect_eq(r->others_pct, -1, "an older file: unknown, not 0");
        cr_expect_eq(r->involuntary_switches, 0);
        cr_expect_eq(r->migrations, 0);
        cr_expect_eq(r->warmup_throughput_ops_s, 0);
        cr_expect_not(r->stalled);
        cr_expect_not(r->floor_unstable);
        cr_expect_str_eq(r->floor_note, "");
        cr_expect_eq(r->c2c_start.median_ns, r->c2c_round_trip_ns);
        cr_expect_eq(r->c2c_start.samples, 0);
        cr_expect_eq(r->c2c_end.median_ns, 0);
        cr_expect_str_eq(r->scenario.lock, "", "each strategy's own lock");
        cr_expect_str_eq(r->locks, "");
        cr_expect_eq(r->lock_acquisitions, 0);
        cr_expect_eq(r->lock_fairness_jain, 0);
        cr_expect_eq(r->lock_worker_acq_max, 0);
        cr_expect(doc.runs[k].scenario_complete);
        /* The N used, from params when the floors lack it; none: all. */
        static const unsigned every[NRUNS] = { 8, 1, 1 };
        static const unsigned param[NRUNS] = { 8, PB_LATENCY_EVERY_AUTO, 1 };
        cr_expect_eq(r->latency_every, every[k], "run %u", k);
        cr_expect_eq(r->scenario.latency_every, param[k], "run %u", k);
    }
    pb_result_doc_free(&doc);
}

/* A lock this build lacks (a newer pendbench's, a plugin's): the run
 * keeps the lock as the file names it, as it keeps a strategy's name,
 * and says its scenario is not complete. */
Test(result, a_lock_this_build_lacks)
{
    char good[256], other[256], mid[256];
    write_good("good.json", good, sizeof good);
    path_in(mid, sizeof mid, "mid.json");
    path_in(other, sizeof other, "other.json");
    write_altered(mid, good, 0, "params", "lock", NULL, json_string("future-lock"));
    write_altered(other, mid, 0, "strategies", "lock", NULL, json_string("future-lock"));
    struct pb_result_doc doc;
    char err[512];
    cr_assert_eq(pb_result_read(other, &doc, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(doc.runs[0].r.scenario.lock, "future-lock");
    cr_expect_not(doc.runs[0].scenario_complete);
    cr_expect_str_eq(json_string_value(json_object_get(doc.runs[0].params, "lock")),
                     "future-lock");
    cr_expect_str_eq(doc.runs[1].r.scenario.lock, "", "\"default\" reads as each its own");
    cr_expect(doc.runs[1].scenario_complete);
    pb_result_doc_free(&doc);
}

/* The new fields are type-checked when present. */
Test(result, error_bad_new_fields)
{
    char good[256], bad[256], want[512];
    write_good("good.json", good, sizeof good);
    path_in(bad, sizeof bad, "bad.json");

    write_altered(bad, good, 1, "floors", "c2c_end", NULL, json_pack("{s:f}", "median_ns", 1.0));
    snprintf(want, sizeof want, "%s: runs[1].floors.c2c_end.p10_ns: missing", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "steal_pct", NULL, NULL, json_string("none"));
    snprintf(want, sizeof want, "%s: runs[0].steal_pct: expected a number", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 0, "floors", "latency_every", NULL, json_integer(0));
    snprintf(want, sizeof want, "%s: runs[0].floors.latency_every: 0 is not from 1 to 1000000", bad);
    expect_read_error(bad, want);

    write_altered(bad, good, 2, "order", NULL, NULL, json_integer(-2));
    snprintf(want, sizeof want, "%s: runs[2].order: expected a non-negative integer", bad);
    expect_read_error(bad, want);

    /* The locks: a figures object is complete when present. */
    write_altered(bad, good, 1, "locks", "worker_fairness_jain", NULL, NULL);
    snprintf(want, sizeof want, "%s: runs[1].locks.worker_fairness_jain: missing", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 0, "locks", "contended", NULL, json_integer(-1));
    snprintf(want, sizeof want, "%s: runs[0].locks.contended: expected a non-negative integer",
             bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 2, "locks", NULL, NULL, json_array());
    snprintf(want, sizeof want, "%s: runs[2].locks: expected an object", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 0, "strategies", "lock", NULL, json_integer(3));
    snprintf(want, sizeof want, "%s: runs[0].strategies.lock: expected a string", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 1, "strategies", "locks_taken", NULL, json_null());
    snprintf(want, sizeof want, "%s: runs[1].strategies.locks_taken: expected a string", bad);
    expect_read_error(bad, want);

    /* Context fields: altered through the whole document. */
    static const struct {
        const char *key, *json, *message;
    } cases[] = {
        {"interleave_seed", "\"12x\"",
         "context.interleave_seed: expected a non-negative integer or a decimal string"},
        {"env", "{\"loadavg_start\": [1, 2]}",
         "context.env.loadavg_start: expected [1 min, 5 min, 15 min] numbers"},
        {"env", "{\"turbo\": \"on\"}", "context.env.turbo: expected an integer"},
        {"env", "{\"caches\": [1]}", "context.env.caches[0]: expected an object"},
        {"env", "{\"warnings\": [\"ok\", 3]}", "context.env.warnings[1]: expected a string"},
        {"run_id", "7", "context.run_id: expected a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *root = json_load_file(good, 0, NULL);
        cr_assert_not_null(root);
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(v, "%s", cases[i].json);
        cr_assert_eq(json_object_set_new(json_object_get(root, "context"), cases[i].key, v), 0);
        cr_assert_eq(json_dump_file(root, bad, 0), 0);
        json_decref(root);
        snprintf(want, sizeof want, "%s: %s", bad, cases[i].message);
        expect_read_error(bad, want);
    }
}

/* ---- a run's reals: numbers within their ranges -------------------------------------- */

/* One value of a good document replaced (k1 [k2 [k3]] of runs[run]); the read
 * must fail with "<file>: runs[<run>].<k1>[.<k2>[.<k3>]]: <message>". */
struct bad_number {
    unsigned run;
    const char *k1, *k2, *k3;
    const char *json;          /* the value, as JSON text */
    const char *message;
};

static void expect_bad_numbers(const struct bad_number *cases, size_t n)
{
    char good[256], bad[256], want[512];
    write_good("good.json", good, sizeof good);
    path_in(bad, sizeof bad, "bad.json");
    for (size_t i = 0; i < n; i++) {
        const struct bad_number *c = &cases[i];
        json_t *v = json_loads(c->json, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(v, "%s", c->json);
        write_altered(bad, good, c->run, c->k1, c->k2, c->k3, v);
        snprintf(want, sizeof want, "%s: runs[%u].%s%s%s%s%s: %s", bad, c->run, c->k1,
                 c->k2 ? "." : "", c->k2 ? c->k2 : "", c->k3 ? "." : "", c->k3 ? c->k3 : "",
                 c->message);
        expect_read_error(bad, want);
    }
}

#define NCASES(a) (sizeof(a) / sizeof((a)[0]))

/* null is what the writer writes for a value that was not finite, and no
 * run figure can be one: a null figure used to read as NaN (nan in the
 * page, 0 in the history). */
Test(result, error_null_numbers)
{
    static const struct bad_number cases[] = {
        {0, "throughput_ops_s", NULL, NULL, "null",
         "null is not a valid throughput (0 to 1e12 ops/s)"},
        {1, "seconds", NULL, NULL, "null", "null is not a valid duration (0 to 1e7 s)"},
        {0, "steal_pct", NULL, NULL, "null",
         "null is not a valid percentage (0 to 100, or -1: unknown)"},
        {2, "failed_fraction", NULL, NULL, "null", "null is not a valid fraction (0 to 1)"},
        {0, "warmup_throughput_ops_s", NULL, NULL, "null",
         "null is not a valid throughput (0 to 1e12 ops/s)"},
        {1, "cancel", "success_rate", NULL, "null", "null is not a valid fraction (0 to 1)"},
        {0, "fairness", "jain_index", NULL, "null", "null is not a valid fraction (0 to 1)"},
        {0, "latency_ns", "total", "mean", "null", "null is not a valid time (0 to 2^64 ns)"},
        {2, "floors", "c2c_round_trip_ns", NULL, "null",
         "null is not a valid time (0 to 2^64 ns)"},
        {0, "floors", "c2c_end", "p90_ns", "null", "null is not a valid time (0 to 2^64 ns)"},
        {1, "locks", "fairness_jain", NULL, "null", "null is not a valid fraction (0 to 1)"},
    };
    expect_bad_numbers(cases, NCASES(cases));
}

/* Below the range: a negative throughput made compare say "regressed". */
Test(result, error_negative_numbers)
{
    static const struct bad_number cases[] = {
        {0, "throughput_ops_s", NULL, NULL, "-1",
         "-1 is not a valid throughput (0 to 1e12 ops/s)"},
        {0, "seconds", NULL, NULL, "-1", "-1 is not a valid duration (0 to 1e7 s)"},
        {1, "steal_pct", NULL, NULL, "-2",
         "-2 is not a valid percentage (0 to 100, or -1: unknown)"},
        {1, "steal_pct", NULL, NULL, "-0.5",
         "-0.5 is not a valid percentage (0 to 100, or -1: unknown)"},
        {0, "failed_fraction", NULL, NULL, "-1", "-1 is not a valid fraction (0 to 1)"},
        {2, "warmup_throughput_ops_s", NULL, NULL, "-3.5",
         "-3.5 is not a valid throughput (0 to 1e12 ops/s)"},
        {0, "cancel", "success_rate", NULL, "-0.25", "-0.25 is not a valid fraction (0 to 1)"},
        {1, "fairness", "jain_index", NULL, "-1", "-1 is not a valid fraction (0 to 1)"},
        {0, "latency_ns", "queue_wait", "mean", "-7", "-7 is not a valid time (0 to 2^64 ns)"},
        {0, "floors", "futex_wake_ns", NULL, "-1", "-1 is not a valid time (0 to 2^64 ns)"},
        {1, "floors", "c2c_start", "median_ns", "-1", "-1 is not a valid time (0 to 2^64 ns)"},
        {2, "floors", "instrumentation_ns_per_op", NULL, "-1",
         "-1 is not a valid time (0 to 2^64 ns)"},
        {0, "locks", "wait_ns", NULL, "-1", "-1 is not a valid time (0 to 2^64 ns)"},
    };
    expect_bad_numbers(cases, NCASES(cases));
}

/* Above the range: 1e308 broke the tables' columns. (JSON has no inf: a
 * literal past the largest double is not JSON, error_not_json's case.) */
Test(result, error_huge_numbers)
{
    static const struct bad_number cases[] = {
        {0, "throughput_ops_s", NULL, NULL, "1e308",
         "1e+308 is not a valid throughput (0 to 1e12 ops/s)"},
        {2, "throughput_ops_s", NULL, NULL, "1000000000001",
         "1000000000001 is not a valid throughput (0 to 1e12 ops/s)"},
        {1, "seconds", NULL, NULL, "1e308", "1e+308 is not a valid duration (0 to 1e7 s)"},
        {0, "steal_pct", NULL, NULL, "100.5",
         "100.5 is not a valid percentage (0 to 100, or -1: unknown)"},
        {1, "others_pct", NULL, NULL, "101",
         "101 is not a valid percentage (0 to 100, or -1: unknown)"},
        {1, "failed_fraction", NULL, NULL, "1e308", "1e+308 is not a valid fraction (0 to 1)"},
        {0, "failed_fraction", NULL, NULL, "1.0001", "1.0001 is not a valid fraction (0 to 1)"},
        {1, "warmup_throughput_ops_s", NULL, NULL, "1e308",
         "1e+308 is not a valid throughput (0 to 1e12 ops/s)"},
        {2, "cancel", "success_rate", NULL, "2", "2 is not a valid fraction (0 to 1)"},
        {2, "fairness", "jain_index", NULL, "1e308", "1e+308 is not a valid fraction (0 to 1)"},
        {1, "latency_ns", "total", "mean", "1e308", "1e+308 is not a valid time (0 to 2^64 ns)"},
        {0, "floors", "timestamp_overhead_ns", NULL, "1e308",
         "1e+308 is not a valid time (0 to 2^64 ns)"},
        {0, "locks", "worker_fairness_jain", NULL, "1.5", "1.5 is not a valid fraction (0 to 1)"},
    };
    expect_bad_numbers(cases, NCASES(cases));
}

/* params names the run's configuration: {} read as the defaults, with an
 * empty run key. The options every writer wrote are required; those added
 * since may be absent (older_file_defaults). */
Test(result, error_params_incomplete)
{
    char good[256], bad[256], want[512];
    write_good("good.json", good, sizeof good);
    path_in(bad, sizeof bad, "bad.json");
    write_altered(bad, good, 1, "params", NULL, NULL, json_object());
    snprintf(want, sizeof want, "%s: runs[1].params.pool: missing", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 0, "params", "requesters", NULL, NULL);
    snprintf(want, sizeof want, "%s: runs[0].params.requesters: missing", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 2, "params", "verifier-checks", NULL, NULL);
    snprintf(want, sizeof want, "%s: runs[2].params.verifier-checks: missing", bad);
    expect_read_error(bad, want);
    write_altered(bad, good, 0, "params", NULL, NULL, json_integer(1));
    snprintf(want, sizeof want, "%s: runs[0].params: expected an object", bad);
    expect_read_error(bad, want);
}

/* The ends of each range, and steal's -1 (unknown), still read. */
Test(result, numbers_at_the_ends_of_their_ranges_read)
{
    static const struct {
        const char *k1, *k2, *json;
        double want;
    } ok[] = {
        {"throughput_ops_s", NULL, "0", 0},         {"throughput_ops_s", NULL, "1e12", 1e12},
        {"seconds", NULL, "0", 0},                  {"seconds", NULL, "1e7", 1e7},
        {"steal_pct", NULL, "-1", -1},              {"steal_pct", NULL, "0", 0},
        {"steal_pct", NULL, "100", 100},            {"failed_fraction", NULL, "0", 0},
        {"failed_fraction", NULL, "1", 1},          {"fairness", "jain_index", "1", 1},
        {"cancel", "success_rate", "0", 0},         {"floors", "futex_wake_ns", "0", 0},
    };
    char good[256], alt[256];
    write_good("good.json", good, sizeof good);
    path_in(alt, sizeof alt, "alt.json");
    for (size_t i = 0; i < NCASES(ok); i++) {
        json_t *v = json_loads(ok[i].json, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(v);
        write_altered(alt, good, 0, ok[i].k1, ok[i].k2, NULL, v);
        struct pb_result_doc doc;
        char err[512] = "";
        cr_expect_eq(pb_result_read(alt, &doc, err, sizeof err), 0, "%s=%s: %s", ok[i].k1,
                     ok[i].json, err);
        if (doc.nruns) {
            const struct pb_run_result *r = &doc.runs[0].r;
            double got = !strcmp(ok[i].k1, "throughput_ops_s") ? r->throughput_ops_s
                         : !strcmp(ok[i].k1, "seconds")        ? r->seconds
                         : !strcmp(ok[i].k1, "steal_pct")      ? r->steal_pct
                         : !strcmp(ok[i].k1, "failed_fraction") ? r->failed_fraction
                         : !strcmp(ok[i].k1, "fairness")       ? r->jain_index
                         : !strcmp(ok[i].k1, "cancel")         ? r->cancel.success_rate
                                                               : r->futex_wake_ns;
            cr_expect_eq(got, ok[i].want, "%s=%s", ok[i].k1, ok[i].json);
        }
        pb_result_doc_free(&doc);
    }
}

/* ---- context ------------------------------------------------------------------------- */

/* "unknown", or a short hash, or "<hash>-dirty" with the diff's hash. */
static void expect_commit_shape(const struct pb_context *c)
{
    const char *hex = "0123456789abcdef";
    if (strcmp(c->git_commit, "unknown") == 0) {
        cr_expect_str_eq(c->git_diff_hash, "");
        return;
    }
    size_t n = strspn(c->git_commit, hex);
    cr_expect_geq(n, 7, "%s", c->git_commit);
    if (c->git_commit[n] == '\0') {
        cr_expect_str_eq(c->git_diff_hash, "", "clean: no diff hash");
    } else {
        cr_expect_str_eq(c->git_commit + n, "-dirty", "%s", c->git_commit);
        cr_expect_eq(strlen(c->git_diff_hash), 12, "'%s'", c->git_diff_hash);
        cr_expect_eq(strspn(c->git_diff_hash, hex), 12, "'%s'", c->git_diff_hash);
    }
}

/* The first line of a shell command's output ("" when none). */
static void shell_line(const char *cmd, char *out, size_t size)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    if (fgets(out, (int)size, p))
        out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

/* The commit is the program's checkout, whatever the current directory;
 * dirty exactly when git says so, with the hash of the diff. */
Test(result, context_commit_of_the_program)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    cr_assert_not_null(slash);
    *slash = '\0';
    char cmd[8400], head[64], status[256], diff[64];
    /* Each in braces whose stderr goes away: without git, the shell's own
     * "git: not found" would land in the test's output. */
    snprintf(cmd, sizeof cmd, "{ git -C '%s' rev-parse --short HEAD; } 2>/dev/null", exe);
    shell_line(cmd, head, sizeof head);
    snprintf(cmd, sizeof cmd,
             "{ git -C '%s' status --porcelain --untracked-files=no; } 2>/dev/null", exe);
    shell_line(cmd, status, sizeof status);
    snprintf(cmd, sizeof cmd, "{ git -C '%s' diff HEAD | git hash-object --stdin; } 2>/dev/null",
             exe);
    shell_line(cmd, diff, sizeof diff);

    /* From a directory that is no checkout. */
    char cwd[4096];
    cr_assert_not_null(getcwd(cwd, sizeof cwd));
    cr_assert_eq(chdir("/"), 0);
    struct pb_context c;
    pb_context_collect(&c, NULL);
    cr_assert_eq(chdir(cwd), 0);
    expect_commit_shape(&c);
    if (!head[0]) {
        cr_expect_str_eq(c.git_commit, "unknown", "the program is in no checkout");
        return;
    }
    char want[128];
    snprintf(want, sizeof want, "%s%s", head, status[0] ? "-dirty" : "");
    cr_expect_str_eq(c.git_commit, want);
    if (status[0]) {
        diff[12] = '\0';
        cr_expect_str_eq(c.git_diff_hash, diff);
    }
}

Test(result, context_run_ids_differ)
{
    static struct pb_context a, b;
    pb_context_collect(&a, NULL);
    pb_context_collect(&b, NULL);
    cr_expect_str_neq(a.run_id, b.run_id);
    cr_expect_eq(strlen(b.run_id), 32);
}

Test(result, context_collect)
{
    struct pb_context c;
    memset(&c, 0x5a, sizeof c);
    pb_context_collect(&c, NULL);
    cr_expect_eq(strlen(c.date), 20, "%s", c.date);
    cr_expect(c.date[4] == '-' && c.date[10] == 'T' && c.date[19] == 'Z', "%s", c.date);
    cr_expect(c.host[0]);
    cr_expect(c.cpu_model[0]);
    cr_expect(strncmp(c.kernel, "Linux ", 6) == 0, "%s", c.kernel);
    cr_expect(c.compiler[0] && strcmp(c.compiler, "unknown") != 0, "%s", c.compiler);
    cr_expect(c.cflags[0]);
    cr_expect(c.git_commit[0]);
    expect_commit_shape(&c);
#ifdef PB_BUILD_VARIANT
    cr_expect_str_eq(c.build_variant, PB_BUILD_VARIANT);
    cr_expect_str_eq(c.cflags, PB_BUILD_CFLAGS);
#else
    cr_expect_str_eq(c.build_variant, "unknown");
#endif
    cr_expect_eq(strlen(c.run_id), 32, "%s", c.run_id);
    cr_expect_eq(strspn(c.run_id, "0123456789abcdef"), 32, "%s", c.run_id);
    /* Nobody measured the environment: it says unknown, not zero load. */
    cr_expect_eq(c.env.loadavg_start[0], -1);
    cr_expect_eq(c.env.steal_pct, -1);
    cr_expect_eq(c.env.nwarnings, 0);
    cr_expect_not(c.interleaved);
    cr_expect_eq(c.repetitions, 0);
    cr_expect_str_eq(c.topology, "machine");
    cr_expect_geq(c.ncpus_online, 1);
    cr_expect_eq(c.c2c_round_trip_ns, 0);
    cr_expect_not(c.partial);
    cr_expect_str_eq(c.command, "");
}

/* ---- the schema ------------------------------------------------------------------------ */

static json_t *load_schema(void)
{
    json_error_t jerr;
    json_t *s = json_load_file("reports/schema/result.schema.json", JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(s, "reports/schema/result.schema.json:%d:%d: %s (run from the source root)",
                       jerr.line, jerr.column, jerr.text);
    return s;
}

static bool type_is(json_t *inst, const char *t)
{
    if (!strcmp(t, "object")) return json_is_object(inst);
    if (!strcmp(t, "array")) return json_is_array(inst);
    if (!strcmp(t, "string")) return json_is_string(inst);
    if (!strcmp(t, "integer")) return json_is_integer(inst);
    if (!strcmp(t, "number")) return json_is_number(inst);
    if (!strcmp(t, "boolean")) return json_is_boolean(inst);
    if (!strcmp(t, "null")) return json_is_null(inst);
    cr_assert_fail("unknown type '%s' in the schema", t);
    return false;
}

static unsigned validated;

static void validate(json_t *root, json_t *schema, json_t *inst, const char *path)
{
    if (!json_is_object(schema))
        return;                                  /* true/false subschemas: items: false */
    validated++;
    json_t *ref = json_object_get(schema, "$ref");
    if (ref) {
        const char *r = json_string_value(ref);
        cr_assert(r && strncmp(r, "#/$defs/", 8) == 0, "%s: unsupported $ref", path);
        json_t *target = json_object_get(json_object_get(root, "$defs"), r + 8);
        cr_assert_not_null(target, "%s: $ref %s not found", path, r);
        validate(root, target, inst, path);
    }
    json_t *type = json_object_get(schema, "type");
    if (json_is_string(type)) {
        cr_expect(type_is(inst, json_string_value(type)), "%s: not a %s", path,
                  json_string_value(type));
    } else if (json_is_array(type)) {
        bool any = false;
        size_t i;
        json_t *t;
        json_array_foreach(type, i, t) any = any || type_is(inst, json_string_value(t));
        cr_expect(any, "%s: none of the types", path);
    }
    json_t *c = json_object_get(schema, "const");
    if (c)
        cr_expect(json_equal(c, inst), "%s: not the const", path);
    json_t *en = json_object_get(schema, "enum");
    if (en) {
        bool any = false;
        size_t i;
        json_t *e;
        json_array_foreach(en, i, e) any = any || json_equal(e, inst);
        cr_expect(any, "%s: not one of the enum", path);
    }
    json_t *minimum = json_object_get(schema, "minimum");
    if (minimum && json_is_number(inst))
        cr_expect_geq(json_number_value(inst), json_number_value(minimum), "%s: below minimum", path);
    char sub[512];
    if (json_is_object(inst)) {
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(schema, "required"), i, k)
            cr_expect_not_null(json_object_get(inst, json_string_value(k)), "%s: required '%s' missing",
                               path, json_string_value(k));
        const char *key;
        json_t *sc;
        /* Every key written is documented: where the schema lists an
         * object's properties, the document has no others. */
        json_t *props = json_object_get(schema, "properties");
        if (props) {
            json_t *iv;
            json_object_foreach(inst, key, iv)
                cr_expect_not_null(json_object_get(props, key),
                                   "%s: '%s' is written but not in the schema", path, key);
        }
        json_object_foreach(json_object_get(schema, "properties"), key, sc) {
            json_t *v = json_object_get(inst, key);
            if (!v)
                continue;
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            validate(root, sc, v, sub);
        }
    }
    if (json_is_array(inst)) {
        json_t *mn = json_object_get(schema, "minItems"), *mx = json_object_get(schema, "maxItems");
        if (mn)
            cr_expect_geq(json_array_size(inst), (size_t)json_integer_value(mn), "%s: minItems", path);
        if (mx)
            cr_expect_leq(json_array_size(inst), (size_t)json_integer_value(mx), "%s: maxItems", path);
        json_t *prefix = json_object_get(schema, "prefixItems");
        json_t *items = json_object_get(schema, "items");
        size_t i;
        json_t *e;
        json_array_foreach(inst, i, e) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (prefix && i < json_array_size(prefix))
                validate(root, json_array_get(prefix, i), e, sub);
            else if (items)
                validate(root, items, e, sub);
        }
    }
}

static bool has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) if (json_is_string(e) && !strcmp(json_string_value(e), s)) return true;
    return false;
}

Test(result, schema_validates_a_written_document)
{
    json_t *schema = load_schema();
    cr_expect_str_eq(json_string_value(json_object_get(schema, "$schema")),
                     "https://json-schema.org/draft/2020-12/schema");
    char path[256];
    write_good("results.json", path, sizeof path);
    json_t *doc = json_load_file(path, 0, NULL);
    cr_assert_not_null(doc);
    validated = 0;
    validate(schema, schema, doc, "$");
    cr_expect_gt(validated, 1000, "the validator walked the document (%u)", validated);
    json_decref(doc);
    json_decref(schema);
}

Test(result, schema_lists_the_keys)
{
    json_t *schema = load_schema();
    json_t *req = json_object_get(schema, "required");
    const char *top[] = {"schema_version", "generator", "context", "runs"};
    for (size_t i = 0; i < 4; i++)
        cr_expect(has_string(req, top[i]), "top-level required lacks %s", top[i]);
    json_t *defs = json_object_get(schema, "$defs");
    json_t *run = json_object_get(defs, "run");
    const char *per_run[] = {"scenario", "strategies", "params", "ops", "throughput_ops_s",
                             "latency_ns", "cancel", "invariants", "counters", "floors"};
    for (size_t i = 0; i < sizeof per_run / sizeof per_run[0]; i++)
        cr_expect(has_string(json_object_get(run, "required"), per_run[i]),
                  "run required lacks %s", per_run[i]);
    const char *hist[] = {"count", "min", "max", "mean", "p50", "p90", "p99", "p999", "bins"};
    for (size_t i = 0; i < sizeof hist / sizeof hist[0]; i++)
        cr_expect(has_string(json_object_get(json_object_get(defs, "histogram"), "required"), hist[i]),
                  "histogram required lacks %s", hist[i]);
    const char *ctx[] = {"date", "host", "cpu_model", "kernel", "compiler", "cflags", "git_commit",
                         "topology", "calibration"};
    for (size_t i = 0; i < sizeof ctx / sizeof ctx[0]; i++)
        cr_expect(has_string(json_object_get(json_object_get(defs, "context"), "required"), ctx[i]),
                  "context required lacks %s", ctx[i]);

    /* Every counter is documented, and nothing else. */
    json_t *cprops = json_object_get(
        json_object_get(json_object_get(run, "properties"), "counters"), "properties");
    size_t n = 0;
#define COUNTER_(name, unit, doc)                                                  \
    cr_expect_not_null(json_object_get(cprops, #name), "schema lacks counter " #name); \
    n++;
    PB_COUNTERS(COUNTER_)
#undef COUNTER_
    cr_expect_eq(json_object_size(cprops), n);

    /* Every option is a documented param, and nothing else. */
    json_t *pprops = json_object_get(json_object_get(defs, "params"), "properties");
    n = 0;
    for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++) {
        if (!strcmp(o->name, "scenario") || !strcmp(o->name, "name") ||
            !strcmp(o->name, "description"))
            continue;
        n++;
        cr_expect_not_null(json_object_get(pprops, o->name), "schema lacks param %s", o->name);
    }
    cr_expect_eq(json_object_size(pprops), n);
    json_decref(schema);
}
