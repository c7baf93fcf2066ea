/* pendbench-micro: shared pieces of the microbenchmarks (internal to
 * bench/micro/).
 *
 * Names: kind/strategy/operation[/direct|/ops], and Google Benchmark adds
 * "/threads:N" to the multi-threaded ones: pool/magazine/get_put,
 * queue/global-mutex/mpsc/threads:3, handoff/xchg/cancel_vs_clear/threads:2,
 * floor/c2c_round_trip/threads:2, ...
 *
 * Counters, the same in every benchmark (one "op" is named per benchmark:
 * a get+put pair, one item through a queue, one arm+disarm, one round):
 *   ops_per_s   operations per second, all threads together (wall time for
 *               multi-threaded benchmarks, the thread's CPU time otherwise);
 *   ns_per_op   nanoseconds per operation as one thread sees it: for N
 *               threads each doing its own operations, wall time divided by
 *               the operations of one thread (so threads:1 and threads:2
 *               compare as latencies); for a pipeline (producers into one
 *               consumer) or a two-thread round, wall time per item
 *               delivered or per round. Single-threaded: CPU time per op.
 *
 * Threaded benchmarks: Google Benchmark runs the function in T threads at
 * once, each for the same number of iterations, with a barrier before the
 * first and after the last iteration. Thread 0 builds the shared state
 * before its loop and tears it down after; the others touch it only inside
 * their loop (the barriers order it). A thread that fails sets ctx->abort,
 * and every waiting loop polls it, so no thread waits for a peer that has
 * given up; after gb_skip_with_error it still calls gb_keep_running_batch,
 * which then returns false through the stop barrier, so thread 0 never
 * tears down what a peer is still using. */
#ifndef PB_MICRO_H
#define PB_MICRO_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "gbench.h"
#include "pb_lock.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

/* Size of the blocks the pools hand out: sizeof(struct flt_cbd), the
 * model's callback data (core/internal.h, not included from here). */
#define MICRO_OBJECT_SIZE 640

/* The handoffs' config in the micro suite: two cpus on one node, each
 * handoff's default lock. */
static const struct pb_handoff_config micro_handoff_cfg __attribute__((unused)) = {
    .ncpus = 2,
    .nnodes = 1,
};

/* Pause instructions before a waiting thread yields its CPU: the peer it
 * waits for may share the CPU (one CPU, or more threads than CPUs). */
#define MICRO_SPINS_BEFORE_YIELD 128u

/* One spin of a wait loop. */
static inline void micro_spin(unsigned *spins)
{
    if (++*spins >= MICRO_SPINS_BEFORE_YIELD) {
        *spins = 0;
        sched_yield();
    } else {
        pb_cpu_relax();
    }
}

/* Same, in a wait on a peer that may have given up: false once *abort is
 * set (checked only when yielding, off the fast path). */
static inline bool micro_spin_or_abort(unsigned *spins, _Atomic bool *abort)
{
    if (++*spins >= MICRO_SPINS_BEFORE_YIELD) {
        *spins = 0;
        sched_yield();
        /* relaxed: only a stop flag; what failed is reported by its thread. */
        return !atomic_load_explicit(abort, memory_order_relaxed);
    }
    pb_cpu_relax();
    return true;
}

/* Marks the run failed in this thread and tells the peers. */
static inline void micro_fail(gb_state *st, _Atomic bool *abort, const char *msg)
{
    atomic_store_explicit(abort, true, memory_order_relaxed);
    gb_skip_with_error(st, msg);
}

/* At the top of each batch of a thread other than 0: false (and the run
 * marked failed) when a peer gave up, e.g. thread 0's setup failed. */
static inline bool micro_peers_ok(gb_state *st, _Atomic bool *abort)
{
    if (!atomic_load_explicit(abort, memory_order_relaxed))
        return true;
    gb_skip_with_error(st, "another thread of this benchmark failed");
    return false;
}

/* ---- counters ---------------------------------------------------------- */

/* The clocks of one thread's loop: started at its first batch (after the
 * start barrier), read after the loop (after the stop barrier). The rates
 * are computed here rather than by Google Benchmark (whose inverted rate
 * counters display as seconds, and whose UseRealTime() would add
 * "/real_time" to the names). */
struct micro_clock {
    struct timespec wall0, cpu0;
    bool started;
};

static inline void micro_clock_start(struct micro_clock *c)
{
    if (!c->started) {
        clock_gettime(CLOCK_MONOTONIC, &c->wall0);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c->cpu0);
        c->started = true;
    }
}

static inline double micro_seconds_since(clockid_t id, const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(id, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Wall time since the start, or with cpu, this thread's CPU time. */
static inline double micro_clock_seconds(const struct micro_clock *c, bool cpu)
{
    if (!c->started)
        return 0;
    return cpu ? micro_seconds_since(CLOCK_THREAD_CPUTIME_ID, &c->cpu0)
               : micro_seconds_since(CLOCK_MONOTONIC, &c->wall0);
}

/* Sets ops_per_s and ns_per_op. ops: operations this thread did.
 * per_thread: every thread reports, and ns_per_op is the average
 * per-thread latency (N threads each doing their own operations); else
 * the calling thread alone reports, and ns_per_op is wall time per
 * operation of the whole (a consumer delivering items, a round).
 *
 * One thread: over the thread's CPU time (robust on a shared machine: time
 * spent preempted does not count). Several: over wall time. */
static inline void micro_report(gb_state *st, double ops, const struct micro_clock *clk,
                                bool per_thread)
{
    double s = micro_clock_seconds(clk, gb_threads(st) == 1);
    if (ops <= 0 || s <= 0)
        return;
    gb_counter_set(st, "ops_per_s", ops / s, GB_COUNTER_DEFAULT); /* summed over threads */
    gb_counter_set(st, "ns_per_op", s * 1e9 / ops,
                   per_thread ? GB_COUNTER_AVG_THREADS : GB_COUNTER_DEFAULT);
}

/* ---- CPU placement ----------------------------------------------------- */

/* CPUs this process may run on (sched_getaffinity at start-up). */
unsigned micro_cpus_allowed(void);
void micro_affinity_init(void);

/* Pins the calling thread to the (index % n)-th allowed CPU when at least
 * two CPUs are allowed; remembers its previous mask in *saved for
 * micro_unpin (thread 0 is the main thread: it must get its mask back).
 * Returns true if pinned. */
struct micro_affinity {
    cpu_set_t mask;
    bool pinned;
};
bool micro_pin(unsigned index, struct micro_affinity *saved);
/* The OS CPU micro_pin(index) pins to. */
unsigned micro_cpu_of(unsigned index);
void micro_unpin(struct micro_affinity *saved);

/* ---- registration (one per file) ---------------------------------------- */

void micro_register_floors(void);
void micro_register_pools(void);
void micro_register_queues(void);
void micro_register_handoffs(void);
void micro_register_locks(void);
/* One strategy's benchmarks, under its name (plugins). */
void micro_register_pool(const struct pb_pool_ops *ops);
void micro_register_queue(const struct pb_queue_ops *ops);
void micro_register_handoff(const struct pb_handoff_ops *ops);
void micro_register_lock(const struct pb_lock_ops *ops);
/* N of lock/S/handover/threads:N: the CPUs allowed (handover runs 1, 2
 * and, when more than 2, N threads). */
unsigned micro_lock_threads_n(void);
void micro_register_direct_pool(void);
void micro_register_direct_queue(void);
void micro_register_direct_handoff(void);
/* model/pend_complete/...: the model end to end (model.c), and the name of
 * the default strategies' one. */
void micro_register_model(void);
const char *micro_model_default_name(void);

/* A benchmark's context (the pointer given to gb_register_with_arg):
 * cache-line aligned and zeroed; exits with a message when memory is
 * refused. Freed by micro_ctx_free_all() after the run. */
void *micro_ctx_new(size_t size);
void micro_ctx_free_all(void);

/* A strategy's benchmark name: "kind/strategy/op" (static buffer reused:
 * gb_register copies it). */
const char *micro_name(const char *kind, const char *strategy, const char *op);

/* ---- --summary ---------------------------------------------------------- */

/* Reads Google Benchmark's JSON output at path and prints the ratios the
 * project tracks to out. Returns 0; -1 after one line on stderr when the
 * file cannot be read as the run's results (missing, empty, not its JSON);
 * 1 after one when out of memory. */
int micro_summary(const char *path, FILE *out);
/* The --benchmark_out file after the run, read back as the summary reads
 * it (format: --benchmark_out_format, NULL or "" for JSON; console and
 * CSV must end with a whole line; a device such as /dev/null is not read
 * back): 0 whole; -1 cut short or changed, said
 * on stderr; 1 out of memory. The library does not check its writes, so a
 * full disk lost results with exit 0. */
int micro_results_check(const char *path, const char *format);

#endif
