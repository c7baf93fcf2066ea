/* One run of a scenario: the threads, the model, the measurement. */
#ifndef PB_RUN_H
#define PB_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "flt_model.h"
#include "pb_calibrate.h"
#include "pb_counters.h"
#include "pb_hist.h"
#include "pb_scenario.h"
#include "pb_topo.h"

struct pb_node_pair {
    int requester_node, worker_node;
    struct pb_hist total;      /* pend-to-completion latency of ops on this pair */
};

struct pb_cancel_outcomes {
    uint64_t attempted, won, lost, early, late, not_cancelable;
    double success_rate;       /* won / attempted (0 when none) */
};

struct pb_run_result {
    struct pb_scenario scenario;
    unsigned repetition;
    bool partial;              /* stopped early (interrupted): what was measured */
    double seconds;            /* the measured window */
    uint64_t issued, completed, completed_cancelled, failed;   /* in the window */
    double throughput_ops_s;   /* completed + completed_cancelled per second (not failed) */
    /* Failed operations (refused by the pool, failed by the stack): their
     * share of the window's outcomes, the NTSTATUS they failed with (one
     * of them; 0 when none), and a flag when more than half failed. */
    double failed_fraction;
    uint32_t failure_status;
    bool mostly_failed;
    struct pb_hist total, queue_wait, service;   /* ns; queue_wait/service: ops a worker completed */
    unsigned npairs;
    struct pb_node_pair *pairs;                  /* malloc'd; pb_run_result_free */
    struct pb_cancel_outcomes cancel;            /* in the window */
    struct pb_counters counters;                 /* the model's, whole run (warm-up included) */
    struct flt_invariants invariants;
    /* Fairness over the requesters' completed operations in the window. */
    uint64_t per_requester_min, per_requester_max;
    double jain_index;
    /* The locks (pb_lock.h). The lock chosen is scenario.lock ("" = each
     * strategy's default); `locks` names those the run's strategies
     * actually took, '+'-joined in pool, queue, handoff order ("" when
     * none takes a lock). The rest is counted per thread by
     * pb_lock_acquire over the whole run (warm-up and drain included, as
     * `counters`), every lock of the run together. */
    char locks[3 * PB_NAME_MAX];
    uint64_t lock_acquisitions;          /* every thread's */
    uint64_t lock_contended;             /* of those, the ones that had to wait */
    double lock_wait_ns;                 /* time spent waiting for a lock, all threads */
    /* Fairness across the requesters (threads doing the same work): their
     * acquisitions' min and max, and Jain's index (1 = equal). */
    uint64_t lock_acq_min, lock_acq_max;
    double lock_fairness_jain;
    /* The same across the workers. */
    uint64_t lock_worker_acq_min, lock_worker_acq_max;
    double lock_worker_fairness_jain;
    /* The floors of this run, between the CPUs it used. */
    double c2c_round_trip_ns;  /* 0 when not measured (one CPU); = c2c_start.median_ns */
    double timestamp_overhead_ns;        /* one pb_tsc_now() */
    /* The measurement's own cost per op, subtractable: 2 timestamps (t_issue,
     * t_complete) + 1 per split-every operations (t_dequeue) + the
     * completing thread's recording, measured (harness_record_cost_ns),
     * divided by latency_every. */
    double instrumentation_ns_per_op;
    /* The latency-every the run used: the scenario's, or what auto chose
     * (pb_latency_every_auto of the instrumentation of a timed op). */
    unsigned latency_every;
    double futex_wake_ns;
    int c2c_os_cpu_a, c2c_os_cpu_b;
    /* The c2c floor in full, measured (pinned, after a warm-up) before the
     * window and again after it. floor_unstable: it moved between the two
     * or its spread is wide, so a ratio against it would mislead: ratios
     * are withheld and floor_note says why. */
    struct pb_floor c2c_start, c2c_end;
    bool floor_unstable;
    char floor_note[120];
    /* What threatened the figures in the window. */
    unsigned order;            /* its place in the session's measuring order (0: first) */
    unsigned nthreads;         /* threads the run started: requesters + workers + cancellers */
    bool oversubscribed;       /* nthreads > the CPUs this process may use */
    double steal_pct;          /* machine-wide steal time in the window, % of CPU time; -1 unknown */
    double others_pct;         /* the machine's CPU time in the window that other processes and
                                  steal took, %; -1 unknown */
    uint64_t involuntary_switches;   /* of the run's threads in the window (preemptions) */
    uint64_t migrations;       /* pinned threads found running on a CPU other than their own */
    bool smt_siblings_used;    /* two of its threads planned on hardware threads of one core
                                * (of this machine; never for a simulated topology) */
    double warmup_throughput_ops_s;  /* completions per second in the warm-up; 0 when none */
    bool stalled;              /* no completion in the window, or far below the warm-up:
                                * also an invariant failure (invariants.why says so) */
    char error[240];           /* why the run failed, when pb_run returns -1 */
    bool not_available;        /* ... because a strategy is not available in this build */
};

struct pb_run_env {
    const struct pb_topo *topo;          /* NULL: this machine */
    volatile sig_atomic_t *stop;         /* set (e.g. by SIGINT): stop, keep what was measured */
    /* Called about every 200 ms from the thread that called pb_run. */
    void (*progress)(void *arg, double elapsed_s, double ops_per_s, uint64_t p99_ns);
    void *progress_arg;
    bool skip_floors;                    /* do not measure c2c / futex (tests, sweeps) */
};

/* Runs the scenario. 0: ran (check invariants.ok; partial when stopped);
 * -1: could not run (out->error says why: a placement that cannot be met,
 * a strategy that is not available in this build, ...). */
int pb_run(const struct pb_scenario *s, const struct pb_run_env *env, struct pb_run_result *out);
void pb_run_result_free(struct pb_run_result *r);
/* The most operations the scenario's own settings let complete in a
 * window of w seconds, in the worst case: its workers' service times (one
 * operation at a time each) and an open loop's arrivals; INFINITY when
 * nothing bounds it. */
double pb_scenario_allows(const struct pb_scenario *sc, double w);

/* Jain's fairness index of n values: (sum x)^2 / (n * sum x^2); 1 = fair. */
double pb_jain_index(const uint64_t *x, unsigned n);

#endif
