/* pendbench-micro: every lock of pb_locks[], through its ops table (the
 * lock's own cost: pb_lock_acquire's trylock-first and per-thread
 * statistics are the strategies' layer, not measured here):
 *
 *   lock/S/uncontended           one thread: lock + unlock (one op), the
 *                                state on its own line; ns_per_op is the
 *                                pair's CPU time.
 *   lock/S/handover/iterations:1/threads:T
 *                                T = 1, 2 and N (N: the CPUs this process
 *                                may use, when more than 2), one thread per
 *                                CPU (pinned): every thread locks, runs a
 *                                short section, unlocks, again, with no
 *                                pause outside: the lock is always wanted.
 *                                ("iterations:1": Google Benchmark names
 *                                the fixed count, see below.)
 *
 * Handover runs are windows, not iteration counts: Google Benchmark gives
 * every thread the same number of iterations, which would hide the one
 * thing fairness is about (who got the lock how often). So each run is one
 * iteration per thread that lasts HANDOVER_WINDOW_S: the threads pass the
 * start barrier, the first to start sets the deadline, every thread
 * looks at the clock every CLOCK_EVERY acquisitions and the first past the
 * deadline raises the stop flag; each thread finishes its acquisition
 * and stops. With --benchmark_repetitions each repetition is a window.
 *
 * The section moves one line, as a real one does: it reads and writes a
 * counter and the last holder's index on the lock's data line. A
 * "handover" is an acquisition whose previous holder was another thread;
 * an unfair lock lets its holder take it again and again (a handover
 * ratio well below 1 - 1/T).
 *
 * Counters of handover (besides ops_per_s = acquisitions per second, all
 * threads, and ns_per_op):
 *   acq_min, acq_max  the fewest / most acquisitions of one thread;
 *   jain              Jain's fairness index of the per-thread acquisitions,
 *                     (sum x)^2 / (T sum x^2): 1 = all equal, 1/T = one
 *                     thread got them all;
 *   handover_ratio    handovers / acquisitions.
 * The lock is configured with may_yield (a user-space strategy's lock),
 * cfg->nnodes 1. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"
#include "pb_lock.h"

#define HANDOVER_WINDOW_S 0.2
#define CLOCK_EVERY 16u
#define MAX_THREADS 256u

struct lock_ctx {
    const struct pb_lock_ops *ops;
    void *state;                   /* thread 0's, for the run */
    _Alignas(PB_CACHE_LINE) _Atomic bool abort;
    _Atomic bool stop;
    _Atomic int64_t deadline_ns;   /* 0 until the first thread starts */
    /* The section's line: relaxed atomics (not plain) so that the broken
     * lock's runs are not undefined behaviour; on x86 the same moves. */
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t counter;
    _Atomic unsigned last_holder;
    /* Each thread's acquisitions and handovers, written by it before the
     * stop barrier, read by thread 0 after it. */
    _Alignas(PB_CACHE_LINE) uint64_t acq[MAX_THREADS];
    uint64_t handovers[MAX_THREADS];
};

static const char *label_of(const struct pb_lock_ops *ops)
{
    return (ops->flags & PB_BROKEN) ? "BROKEN on purpose: no mutual exclusion" : NULL;
}

static bool lock_setup(gb_state *st, struct lock_ctx *c)
{
    if (gb_thread_index(st) != 0)
        return true;
    atomic_store_explicit(&c->abort, false, memory_order_relaxed);
    atomic_store_explicit(&c->stop, false, memory_order_relaxed);
    atomic_store_explicit(&c->deadline_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&c->counter, 0, memory_order_relaxed);
    atomic_store_explicit(&c->last_holder, UINT32_MAX, memory_order_relaxed);
    memset(c->acq, 0, sizeof c->acq);
    memset(c->handovers, 0, sizeof c->handovers);
    size_t size = (c->ops->size + PB_CACHE_LINE - 1) / PB_CACHE_LINE * PB_CACHE_LINE;
    c->state = aligned_alloc(PB_CACHE_LINE, size);
    if (!c->state) {
        micro_fail(st, &c->abort, "out of memory");
        return false;
    }
    memset(c->state, 0, size);
    struct pb_lock_config cfg = {
        .ncpus = micro_cpus_allowed(),
        .nnodes = 1,
        .may_yield = true,
    };
    int err = c->ops->init(c->state, &cfg);
    if (err) {
        char msg[160];
        snprintf(msg, sizeof msg, "lock %s: init failed: %s%s", c->ops->name, strerror(-err),
                 err == -ENOTSUP ? " (not available in this build)" : "");
        free(c->state);
        c->state = NULL;
        micro_fail(st, &c->abort, msg);
        return false;
    }
    return true;
}

static void lock_teardown(gb_state *st, struct lock_ctx *c)
{
    if (gb_thread_index(st) != 0 || !c->state)
        return;
    c->ops->fini(c->state);
    free(c->state);
    c->state = NULL;
}

static void bm_uncontended(gb_state *st)
{
    struct lock_ctx *c = gb_user_arg(st);
    const struct pb_lock_ops *ops = c->ops;
    lock_setup(st, c);
    struct micro_clock clk = { .started = false };
    struct pb_lock_hold h;
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        if (!c->state)
            continue;
        void *state = c->state;
        for (uint64_t i = 0; i < n; i++) {
            ops->lock(state, &h);
            gb_clobber_memory();   /* the section is not moved out of the lock */
            ops->unlock(state, &h);
        }
    }
    lock_teardown(st, c);
    micro_report(st, (double)gb_iterations(st), &clk, true);
    if (label_of(ops))
        gb_set_label(st, label_of(ops));
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One window of this thread: acquisitions until the stop flag. */
static void handover_window(struct lock_ctx *c, unsigned me, uint64_t *acq, uint64_t *handovers)
{
    const struct pb_lock_ops *ops = c->ops;
    void *state = c->state;
    int64_t expected = 0;
    /* relaxed: the deadline is only a time; the first thread sets it. */
    atomic_compare_exchange_strong_explicit(&c->deadline_ns, &expected,
                                            now_ns() + (int64_t)(HANDOVER_WINDOW_S * 1e9),
                                            memory_order_relaxed, memory_order_relaxed);
    struct pb_lock_hold h;
    for (uint64_t i = 1;; i++) {
        ops->lock(state, &h);
        uint64_t v = atomic_load_explicit(&c->counter, memory_order_relaxed);
        atomic_store_explicit(&c->counter, v + 1, memory_order_relaxed);
        if (atomic_load_explicit(&c->last_holder, memory_order_relaxed) != me) {
            atomic_store_explicit(&c->last_holder, me, memory_order_relaxed);
            ++*handovers;
        }
        ops->unlock(state, &h);
        ++*acq;
        /* relaxed: a stop flag; the results are read after the barrier. */
        if (atomic_load_explicit(&c->stop, memory_order_relaxed))
            return;
        if (i % CLOCK_EVERY == 0 &&
            now_ns() >= atomic_load_explicit(&c->deadline_ns, memory_order_relaxed)) {
            atomic_store_explicit(&c->stop, true, memory_order_relaxed);
            return;
        }
    }
}

static void bm_handover(gb_state *st)
{
    struct lock_ctx *c = gb_user_arg(st);
    int t = gb_thread_index(st), nt = gb_threads(st);
    struct micro_affinity aff = { .pinned = false };
    if (nt > 1)
        micro_pin((unsigned)t, &aff);
    lock_setup(st, c);
    struct micro_clock clk = { .started = false };
    uint64_t n, acq = 0, handovers = 0;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        if (!micro_peers_ok(st, &c->abort))
            continue;
        handover_window(c, (unsigned)t, &acq, &handovers);   /* n is 1: one window */
        c->acq[t] = acq;
        c->handovers[t] = handovers;
    }
    micro_unpin(&aff);
    /* Past the stop barrier: every thread's count is in. */
    if (t == 0 && !atomic_load_explicit(&c->abort, memory_order_relaxed)) {
        double sum = 0, sum2 = 0, lo = INFINITY, hi = 0, passed = 0;
        for (int k = 0; k < nt; k++) {
            double x = (double)c->acq[k];
            passed += (double)c->handovers[k];
            sum += x;
            sum2 += x * x;
            lo = x < lo ? x : lo;
            hi = x > hi ? x : hi;
        }
        gb_counter_set(st, "acq_min", lo, GB_COUNTER_DEFAULT);
        gb_counter_set(st, "acq_max", hi, GB_COUNTER_DEFAULT);
        gb_counter_set(st, "jain", sum2 > 0 ? sum * sum / (nt * sum2) : 0, GB_COUNTER_DEFAULT);
        gb_counter_set(st, "handover_ratio", sum > 0 ? passed / sum : 0, GB_COUNTER_DEFAULT);
    }
    lock_teardown(st, c);
    micro_report(st, (double)acq, &clk, true);
    if (label_of(c->ops))
        gb_set_label(st, label_of(c->ops));
}

static struct lock_ctx *new_ctx(const struct pb_lock_ops *ops)
{
    struct lock_ctx *c = micro_ctx_new(sizeof *c);
    c->ops = ops;
    atomic_init(&c->abort, false);
    return c;
}

unsigned micro_lock_threads_n(void)
{
    unsigned n = micro_cpus_allowed();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

void micro_register_lock(const struct pb_lock_ops *ops)
{
    gb_register_with_arg(micro_name("lock", ops->name, "uncontended"), bm_uncontended,
                         new_ctx(ops));
    /* One context for the instances: they run one after another. */
    gb_benchmark *b = gb_register_with_arg(micro_name("lock", ops->name, "handover"),
                                           bm_handover, new_ctx(ops));
    gb_set_threads(b, 1);
    gb_set_threads(b, 2);
    if (micro_lock_threads_n() > 2)
        gb_set_threads(b, (int)micro_lock_threads_n());
    gb_set_iterations(b, 1);
}

void micro_register_locks(void)
{
    for (size_t i = 0; pb_locks[i]; i++)
        micro_register_lock(pb_locks[i]);
}
