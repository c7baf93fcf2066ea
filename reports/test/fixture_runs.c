/* Synthetic result files with known distributions: see fixture_runs.h.
 * Repetition rep of a group is drawn from its own stream (seed, rep), so
 * a file and a history record of the same spec hold the same figures. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture_runs.h"
#include "pb_history.h"
#include "pb_result.h"
#include "pb_rng.h"
#include "pb_scenario.h"

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

void fill_run(struct pb_run_result *r, const struct spec *sp, unsigned rep)
{
    memset(r, 0, sizeof *r);
    struct pb_scenario *s = &r->scenario;
    pb_scenario_defaults(s);
    set(s, "name", sp->scenario ? sp->scenario : "steady");
    set(s, "pool", sp->pool ? sp->pool : "magazine");
    if (sp->queue)
        set(s, "queue", sp->queue);
    if (sp->lock)
        set(s, "lock", sp->lock);
    char n[16];
    snprintf(n, sizeof n, "%u", sp->requesters ? sp->requesters : 1);
    set(s, "requesters", n);
    snprintf(n, sizeof n, "%u", rep + 1);
    set(s, "seed", n);          /* not part of the workload: repetitions may differ */
    struct pb_rng rng;
    pb_rng_seed(&rng, sp->seed, rep);
    r->repetition = rep;
    r->partial = sp->partial && rep == 0;
    r->others_pct = (sp->busy >> rep) & 1 ? 30.0 + rep : 1.0;
    r->seconds = 1;
    unsigned samples = sp->samples ? sp->samples : 20000;
    double drift = rep < 8 && sp->drift[rep] > 0 ? sp->drift[rep] : 1;
    r->throughput_ops_s = sp->tput * drift * (1 + sp->tput_noise * normal(&rng));
    double level = sp->lat_mean / drift;
    if (sp->lat_noise > 0)
        level *= 1 + sp->lat_noise * normal(&rng);
    r->issued = r->completed = samples;
    pb_hist_init(&r->total);
    pb_hist_init(&r->queue_wait);
    pb_hist_init(&r->service);
    for (unsigned i = 0; i < samples; i++) {
        double v = level + sp->lat_sd * normal(&rng);
        pb_hist_record(&r->total, v < 1 ? 1 : (uint64_t)llround(v));
    }
    if (sp->lock) {
        /* Two acquisitions an operation (a pool and a queue lock), a tenth
         * contended, each wait about a microsecond. */
        snprintf(r->locks, sizeof r->locks, "%s", sp->lock);
        r->lock_acquisitions = 2 * (uint64_t)samples;
        r->lock_contended = samples / 5;
        r->lock_wait_ns = 1000.0 * (double)r->lock_contended * (1 + 0.1 * normal(&rng));
        r->lock_fairness_jain = sp->lock_jain > 0 ? sp->lock_jain : 1;
        r->lock_acq_min = r->lock_acq_max = r->lock_acquisitions / 2;
        r->lock_worker_fairness_jain = 1;
        r->lock_worker_acq_min = r->lock_worker_acq_max = r->lock_acquisitions / 2;
    }
    r->cancel.attempted = sp->cancel_attempted;
    /* Binomial draws: the counts vary as real ones would. */
    for (uint64_t i = 0; i < sp->cancel_attempted; i++)
        r->cancel.won += pb_rng_unit(&rng) < sp->cancel_rate;
    r->cancel.lost = r->cancel.attempted - r->cancel.won;
    r->cancel.success_rate =
        r->cancel.attempted ? (double)r->cancel.won / (double)r->cancel.attempted : 0;
    r->invariants.ok = !sp->broken;
    r->invariants.issued = r->invariants.completed = samples;
    if (sp->broken)
        snprintf(r->invariants.why, sizeof r->invariants.why, "2 callback data outstanding");
    r->c2c_os_cpu_a = r->c2c_os_cpu_b = -1;
    if (rep < 8 && sp->floor[rep] > 0) {
        r->c2c_os_cpu_a = 0;
        r->c2c_os_cpu_b = sp->floor_cpu_b ? sp->floor_cpu_b : 1;
        r->c2c_round_trip_ns = sp->floor[rep];
        r->c2c_start = (struct pb_floor){ sp->floor[rep], sp->floor[rep] * 0.95,
                                          sp->floor[rep] * 1.05, 500 };
        r->c2c_end = r->c2c_start;
        if (sp->floor_moved & (1u << rep)) {
            r->c2c_end.median_ns *= 3;
            r->floor_unstable = true;
            snprintf(r->floor_note, sizeof r->floor_note, "c2c floor moved");
        }
    }
}

/* Writes the groups as one result file (dated 2024-05-01, no run id). */
void write_doc(const char *path, const struct spec *specs, unsigned nspecs)
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

/* A default group: 5 repetitions, latency N(1000, 50), 1 M ops/s +- 1 %. */
void too_noisy_pair(struct spec *b, struct spec *n, uint64_t seed)
{
    *b = base_spec(seed);
    *n = base_spec(seed + 1);
    b->reps = n->reps = 12;
    b->samples = n->samples = 2000;
    b->tput_noise = 0.02;
    n->tput_noise = 0.25;
    n->tput = 0.6e6;
}

struct spec base_spec(uint64_t seed)
{
    return (struct spec){ .reps = 5, .lat_mean = 1000, .lat_sd = 50, .tput = 1e6,
                          .tput_noise = 0.01, .seed = seed };
}

/* Records the spec as one invocation of `commit` at `date` with run id `run_id`. */
void record_spec(const char *db, const struct spec *sp, const char *commit, const char *date,
                 const char *run_id)
{
    struct pb_run_result *runs = calloc(sp->reps, sizeof *runs);
    cr_assert_not_null(runs);
    for (unsigned rep = 0; rep < sp->reps; rep++)
        fill_run(&runs[rep], sp, rep);
    struct pb_context ctx;
    memset(&ctx, 0, sizeof ctx);
    snprintf(ctx.host, sizeof ctx.host, "testhost");
    snprintf(ctx.git_commit, sizeof ctx.git_commit, "%s", commit);
    snprintf(ctx.date, sizeof ctx.date, "%s", date);
    snprintf(ctx.run_id, sizeof ctx.run_id, "%s", run_id);
    char err[512];
    cr_assert_eq(pb_history_record(db, &ctx, runs, sp->reps, NULL, err, sizeof err), 0, "%s", err);
    for (unsigned rep = 0; rep < sp->reps; rep++)
        pb_run_result_free(&runs[rep]);
    free(runs);
}
