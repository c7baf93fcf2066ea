/* The stress harness: randomized pend / cancel / complete traffic through
 * the model on one choice of strategies (and lock), for a bounded time, with checks
 * that do not trust the model's own counters:
 *   - every issued operation completes exactly once (a per-operation count
 *     kept by the requester), and none is lost (bounded drain at the end);
 *   - FIFO order per producer, where the queue promises it;
 *   - the model's invariants: conservation of counts, no callback data
 *     leaked, pended = resumed, no cancel routine left set, no verifier
 *     violation.
 * It stops at the first violation and says which, with the seed. */
#ifndef PB_STRESS_H
#define PB_STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flt_model.h"
#include "pb_counters.h"

struct pb_stress_config {
    const char *pool, *queue, *handoff;       /* NULL: the model's defaults */
    const char *lock;                         /* every lock-based strategy's lock; NULL: their own */
    unsigned requesters;                      /* 0 = 2 */
    unsigned workers;                         /* 0 = 2 */
    unsigned cancellers;                      /* 0 = 1 */
    unsigned inflight;                        /* per requester; 0 = 16 */
    double duration_s;                        /* 0 = 1.0 */
    /* Run past duration_s until this many operations completed (so a slow
     * or loaded machine still gets a meaningful run); a run that cannot get
     * there within max(20 s, 10 x duration) fails as stalled. 0 = 1000. */
    uint64_t min_ops;
    uint64_t seed;
    pb_idle_policy idle;
    unsigned cancel_permille;                 /* ops aimed at by a cancel; 0 = 300 */
    bool no_cancel;                           /* overrides cancel_permille */
    size_t pool_capacity;                     /* 0 = unlimited */
    /* Run in a child process: a crash (a signal) or a hang (no verdict
     * within pb_stress_cap_s + 30 s, then killed) of the strategies under
     * test is a violation saying so, not the end of the caller. For
     * strategies that may corrupt memory when wrong (a lock without
     * mutual exclusion). Ignored in the ThreadSanitizer build (TSan does
     * not support threads in a child of a threaded process). */
    bool isolate;
};

struct pb_stress_result {
    bool ok;
    char why[256];                            /* the first violation, in words */
    bool not_available;                       /* -1: a strategy is not in this build (a skip) */
    double seconds;
    uint64_t issued;                          /* by the harness's own tally */
    uint64_t completed_once;
    uint64_t completed_twice;                 /* on_complete ran again for one op */
    uint64_t lost;                            /* never completed within the drain */
    uint64_t fifo_violations;
    uint64_t fifo_checked;                    /* dequeues whose order was checked */
    struct pb_counters counters;              /* the model's */
    struct flt_invariants invariants;
};

/* Fills the defaults in (the zeros above) and checks the ranges: 0, or -1
 * with why. pb_stress_run does this itself. */
int pb_stress_config_check(struct pb_stress_config *cfg, char *why, size_t n);
/* The longest a run of cfg may take before it fails as stalled (it runs
 * past duration_s until min_ops completed). */
double pb_stress_cap_s(const struct pb_stress_config *cfg);

/* Runs one stress run. Returns 0 when it ran (see res->ok for the verdict),
 * -1 when the configuration is impossible (res->why says why). */
int pb_stress_run(const struct pb_stress_config *cfg, struct pb_stress_result *res);

/* ---- stressing a lock (pb_lock.h) ------------------------------------------ */

struct pb_stress_combo {
    const char *pool, *queue, *handoff;       /* NULL: the model's defaults */
};

/* The runs that exercise one lock when no strategy is named: every
 * lock-based strategy (its ops name a default lock; never a broken one),
 * queues first (where a lock is hottest, so a broken one is caught
 * soonest), then pools, then handoffs, each with the other two kinds
 * lock-free (the first registered pool, unbounded queue and handoff that
 * take no lock, are always available and not broken), so that each run
 * puts the lock in exactly one strategy and a violation names it. Up to
 * max; how many. */
size_t pb_stress_lock_combos(struct pb_stress_combo *out, size_t max);

/* NULL when cfg->lock (NULL: nothing to check) fits every lock-based
 * strategy of cfg (NULL names: the model's defaults); else why not, in
 * words ("lock 'x' does not fit the queue strategy 'y': it has no
 * trylock"), in why. */
const char *pb_stress_lock_unfit(const struct pb_stress_config *cfg, char *why, size_t n);

#endif
