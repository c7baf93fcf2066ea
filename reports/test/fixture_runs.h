/* Synthetic result files with known distributions (fixture_runs.c), for
 * the tests of compare: the reports tests (reports/test/test_compare.c)
 * compare them through the library, the command-line tests
 * (bench/pendbench/test/test_compare_cli.c) through `pendbench compare`.
 * One copy, compiled into both test programs (configure.py). Failures
 * fail the calling Criterion test. */
#ifndef PB_TEST_FIXTURE_RUNS_H
#define PB_TEST_FIXTURE_RUNS_H

#include <stdbool.h>
#include <stdint.h>

#include "pb_run.h"

/* One group of repetitions: scenario, strategies, workload, and the
 * distributions its figures are drawn from. */
struct spec {
    const char *scenario, *pool;
    unsigned requesters;       /* 0: 1 */
    unsigned reps;
    double lat_mean, lat_sd;   /* total latency ~ N(mean, sd), ns */
    unsigned samples;          /* per repetition; 0: 20000 */
    double tput, tput_noise;   /* ops/s, relative sd per repetition */
    double lat_noise;          /* relative sd of a repetition's latency level (run-to-run noise) */
    double drift[8];           /* per repetition: throughput x drift, latency / drift (0: 1) */
    uint64_t cancel_attempted; /* per repetition */
    double cancel_rate;
    uint64_t seed;
    bool partial, broken;
    unsigned busy;             /* bit per repetition: other processes took 30% + rep of the CPU
                                * time in its window (else 1%) */
    double floor[8];           /* per repetition: the c2c floor before and after, ns (0: none) */
    unsigned floor_moved;      /* bit per repetition: the floor moved during it (unstable) */
    int floor_cpu_b;           /* the floor is measured between CPU 0 and this one (0: 1) */
    const char *queue;         /* NULL: the default (percpu-mpsc) */
    /* The lock chosen (NULL: each strategy's default, and the run took
     * none); a chosen lock is also the one taken, with lock figures drawn
     * from the group's stream: requester fairness lock_jain (0: 1). */
    const char *lock;
    double lock_jain;
};

/* A default group: 5 repetitions, latency N(1000, 50), 1 M ops/s +- 1 %. */
struct spec base_spec(uint64_t seed);
/* A BASE and a NEW of 12 repetitions (2000 samples each) where NEW is 40 %
 * slower in throughput but its repetitions spread 25 % (BASE's 2 %): a
 * significant drop on a machine too noisy to judge it (inconclusive). */
void too_noisy_pair(struct spec *base, struct spec *new_spec, uint64_t seed);
/* Repetition rep of the group, drawn from sp's distributions (seeded by
 * sp->seed and rep). Free with pb_run_result_free. */
void fill_run(struct pb_run_result *r, const struct spec *sp, unsigned rep);
/* Writes the groups as one result file (dated 2024-05-01, no run id). */
void write_doc(const char *path, const struct spec *specs, unsigned nspecs);
/* Records the group in the history database db as one invocation at
 * `date`, of `commit`, with run id `run_id`. */
void record_spec(const char *db, const struct spec *sp, const char *commit, const char *date,
                 const char *run_id);

#endif
