/*
 * gbench.h: a small C API over Google Benchmark (1.7.x).
 *
 * The library is Google Benchmark itself; this header is the C face of a thin
 * C++ shim (bench/gbench/gbench.cc). A C program registers benchmarks as
 * plain C functions, then hands its command line to gb_main(), so every one
 * of Google Benchmark's own flags works unchanged: --benchmark_filter=REGEX,
 * --benchmark_format=json, --benchmark_out=FILE, --benchmark_out_format=json,
 * --benchmark_repetitions=N, --benchmark_min_time=SECONDS (a double in 1.7.x),
 * --benchmark_counters_tabular=true, --help, ... Output is Google Benchmark's,
 * so tools/compare.py (/usr/share/benchmark/compare.py) reads it.
 *
 * Usage
 * -----
 *
 *     #include "gbench.h"
 *
 *     static void bm_push_pop(gb_state *st)
 *     {
 *         struct my_queue *q = make_queue(gb_range(st, 0));  // not timed:
 *         uint64_t n;                                        // before loop
 *         while (gb_keep_running_batch(st, &n)) {   // one C->C++ call per batch
 *             for (uint64_t i = 0; i < n; i++) {
 *                 queue_push(q, i);
 *                 gb_do_not_optimize_u64(queue_pop(q));
 *             }
 *         }
 *         gb_set_items_processed(st, (int64_t)gb_iterations(st) * 2);
 *         gb_counter_set(st, "empty_polls", (double)q->empty_polls,
 *                        GB_COUNTER_AVG_ITERATIONS);
 *         free_queue(q);
 *     }
 *
 *     static void bm_slow(gb_state *st)
 *     {
 *         const struct strategy *s = gb_user_arg(st);   // one fn, many strategies
 *         while (gb_keep_running(st)) {                 // one call per iteration
 *             gb_pause_timing(st);
 *             reset(s);
 *             gb_resume_timing(st);
 *             run_once(s);
 *         }
 *     }
 *
 *     int main(int argc, char **argv)
 *     {
 *         gb_benchmark *b = gb_register("queue/push_pop", bm_push_pop);
 *         gb_add_range(b, 8, 4096);            // queue/push_pop/8 ... /4096
 *         gb_thread_range(b, 1, 4);            // ... /threads:1, 2, 4
 *         gb_set_batch(b, 256);                // n <= 256 per batch
 *         for (size_t i = 0; i < n_strategies; i++)
 *             gb_use_real_time(gb_register_with_arg(strategies[i].name, bm_slow,
 *                                                  (void *)&strategies[i]));
 *         gb_add_custom_context("pendbench_commit", GIT_COMMIT);
 *         return gb_main(argc, argv);
 *     }
 *
 * The benchmark function
 * ----------------------
 * fn(st) is called by Google Benchmark several times per benchmark instance
 * (each call is one "run" of max_iterations iterations, which the library
 * grows until the run lasts --benchmark_min_time), and, for a benchmark with
 * T threads, concurrently from T threads, each with its own gb_state.
 * Code before the loop and after it is not timed. The loop is one of:
 *
 *   while (gb_keep_running_batch(st, &n)) { for (i = 0; i < n; i++) body; }
 *   while (gb_keep_running(st)) body;
 *
 * Exactly one such loop per call, and it must run until the condition is
 * false. (If fn returns before that, the shim marks the run as failed with a
 * message rather than letting Google Benchmark abort.) After
 * gb_skip_with_error(), fn may simply return.
 *
 * Batches: the C-to-C++ crossing is paid once per batch. The batch size n is
 * at most the registration's gb_set_batch() value (default: adaptive, up to
 * GB_BATCH_ADAPTIVE_MAX) and at most the iterations left in the run: the last
 * batch of a run may be shorter, so the iteration count is exactly the one
 * Google Benchmark chose (or the one given to gb_set_iterations()). With
 * gb_set_batch_uniform() every batch is exactly n instead, and a run may
 * overshoot by up to n-1 iterations; the reported count is then the number
 * actually run. Inside a batch, every iteration is counted, so the body must
 * run all n of them (or call gb_skip_with_error()).
 *
 * Errors: functions given invalid input (NULL, a value Google Benchmark would
 * reject with an abort, a call at the wrong time) print a line starting with
 * "gbench:" on stderr and do nothing; setters then return their handle
 * unchanged (NULL stays NULL, so a chain after a failed gb_register() is
 * harmless).
 *
 * Threads: registration and gb_main() belong to one thread. The gb_state
 * accessors are for the thread that owns that gb_state; counters, items and
 * bytes are per thread and summed over the threads when reported (see
 * GB_COUNTER_AVG_THREADS).
 */
#ifndef PENDBENCH_GBENCH_H
#define PENDBENCH_GBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One running benchmark thread's state (wraps benchmark::State). */
typedef struct gb_state gb_state;
/* A registered benchmark (wraps benchmark::internal::Benchmark). */
typedef struct gb_benchmark gb_benchmark;

typedef void (*gb_fn)(gb_state *st);

/* Upper bound of an adaptive batch (no gb_set_batch()). */
#define GB_BATCH_ADAPTIVE_MAX 65536u

/* ---------------------------------------------------------------------------
 * Inside the benchmark function
 * ------------------------------------------------------------------------- */

/* Starts the next batch: returns true and stores its size (>= 1) in *n, or
 * returns false (storing 0) when the run is over. The first call starts the
 * timer; the call that returns false stops it. If timing is paused when it is
 * called, it is resumed first. */
bool gb_keep_running_batch(gb_state *st, uint64_t *n);
/* Per-iteration form, for bodies slow enough that one call per iteration
 * does not matter. Same as a batch of 1. */
bool gb_keep_running(gb_state *st);

/* Largest n that gb_keep_running_batch() can give in this run. */
uint64_t gb_max_batch(const gb_state *st);
/* Iterations this thread must run in this run (benchmark::State's
 * max_iterations). */
uint64_t gb_max_iterations(const gb_state *st);
/* Iterations this thread has started so far, the current batch included;
 * after the loop, its total for the run. 0 before the loop. */
uint64_t gb_iterations(const gb_state *st);

/* i-th argument of this instance (gb_arg, gb_args, gb_add_range, ...).
 * Out of range: prints an error and returns 0. */
int64_t gb_range(const gb_state *st, size_t i);
/* Number of arguments this instance has. */
size_t gb_range_count(const gb_state *st);
/* 0 .. gb_threads(st)-1. */
int gb_thread_index(const gb_state *st);
int gb_threads(const gb_state *st);
/* The pointer given to gb_register_with_arg() (NULL for gb_register()). */
void *gb_user_arg(const gb_state *st);

/* Stop / restart the timer for this thread, inside the loop only. They are
 * costly (two clock reads each); prefer doing setup before the loop or once
 * per batch. Pausing twice, resuming while running, or calling either outside
 * the loop prints an error and is ignored. */
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);

/* Reports items_per_second / bytes_per_second (bytes use 1024 multiples in
 * the console display). Usually called after the loop with totals for this
 * thread. */
void gb_set_items_processed(gb_state *st, int64_t items);
void gb_set_bytes_processed(gb_state *st, int64_t bytes);
/* Text shown after the result ("label" in JSON). Copied. NULL clears it. For
 * a threaded benchmark, the last thread to set it wins. */
void gb_set_label(gb_state *st, const char *label);

/* Marks this run as failed with msg (copied; "error_occurred": true and
 * "error_message" in JSON) and stops its timer; later gb_keep_running*()
 * calls return false. fn may return right after it. A second call in the
 * same thread is ignored. */
void gb_skip_with_error(gb_state *st, const char *msg);
bool gb_error_occurred(const gb_state *st);

/* Counter flags (bits; combine with |). They map onto benchmark::Counter. */
#define GB_COUNTER_DEFAULT 0u
/* Divided by the run's duration: a per-second rate. */
#define GB_COUNTER_RATE (1u << 0)
/* Divided by the number of threads (the per-thread values are summed). */
#define GB_COUNTER_AVG_THREADS (1u << 1)
/* Multiplied by the iteration count: the value is per iteration. */
#define GB_COUNTER_ITERATION_INVARIANT (1u << 2)
/* Divided by the iteration count: a per-iteration average. */
#define GB_COUNTER_AVG_ITERATIONS (1u << 3)
/* 1/x, applied last (e.g. seconds per item from a rate). */
#define GB_COUNTER_INVERT (1u << 4)
/* Display with 1024 multiples (k = 1024) instead of 1000. */
#define GB_COUNTER_BASE_1024 (1u << 5)
#define GB_COUNTER_AVG_THREADS_RATE (GB_COUNTER_RATE | GB_COUNTER_AVG_THREADS)
#define GB_COUNTER_ITERATION_INVARIANT_RATE \
    (GB_COUNTER_RATE | GB_COUNTER_ITERATION_INVARIANT)
#define GB_COUNTER_AVG_ITERATIONS_RATE \
    (GB_COUNTER_RATE | GB_COUNTER_AVG_ITERATIONS)

/* Sets this thread's counter name (copied) to value with flags (GB_COUNTER_*;
 * unknown bits: error, counter left alone). Per-thread values are summed over
 * the threads, then the flags apply. Appears as a JSON field named name. */
void gb_counter_set(gb_state *st, const char *name, double value,
                    unsigned flags);
/* Adds delta to this thread's counter name (0 if not set yet) and sets its
 * flags. */
void gb_counter_add(gb_state *st, const char *name, double delta,
                    unsigned flags);

/* ---------------------------------------------------------------------------
 * Registration (before gb_main / gb_run_benchmarks)
 * ------------------------------------------------------------------------- */

/* Registers fn under name (copied; must be non-empty). Returns NULL (and says
 * why on stderr) for a NULL or empty name or a NULL fn. Handles stay valid
 * until the process exits. */
gb_benchmark *gb_register(const char *name, gb_fn fn);
/* Same, and gb_user_arg(st) returns arg in fn. */
gb_benchmark *gb_register_with_arg(const char *name, gb_fn fn, void *arg);

/* Arguments: each call adds instances; every instance of a benchmark must
 * have the same number of arguments (mixing counts is an error). The
 * instance name gets "/value" per argument ("/name:value" with arg names). */
gb_benchmark *gb_arg(gb_benchmark *b, int64_t v);
/* One instance with n arguments v[0..n-1] (n >= 1). */
gb_benchmark *gb_args(gb_benchmark *b, const int64_t *v, size_t n);
/* Instances lo, then powers of the range multiplier (default 8) strictly
 * between lo and hi, then hi. Requires 0 <= lo <= hi. */
gb_benchmark *gb_add_range(gb_benchmark *b, int64_t lo, int64_t hi);
/* Instances lo, lo+step, ... <= hi. Requires 0 <= lo <= hi, step >= 1. */
gb_benchmark *gb_dense_range(gb_benchmark *b, int64_t lo, int64_t hi,
                             int step);
/* Cartesian product of n ranges [lo[i], hi[i]] (each as gb_add_range). */
gb_benchmark *gb_ranges(gb_benchmark *b, const int64_t *lo, const int64_t *hi,
                        size_t n);
/* Multiplier for gb_add_range / gb_ranges added after it (>= 2). */
gb_benchmark *gb_range_multiplier(gb_benchmark *b, int mult);
/* Names for the n arguments (copied), shown as "/name:value". */
gb_benchmark *gb_set_arg_names(gb_benchmark *b, const char *const *names,
                               size_t n);

/* Thread counts: each call adds instances (default: one thread). */
gb_benchmark *gb_set_threads(gb_benchmark *b, int n);
/* lo, powers of 2 in between, hi (1 <= lo <= hi). */
gb_benchmark *gb_thread_range(gb_benchmark *b, int lo, int hi);
/* lo, lo+stride, ..., and hi (1 <= lo <= hi, stride >= 1). */
gb_benchmark *gb_dense_thread_range(gb_benchmark *b, int lo, int hi,
                                    int stride);
/* As many threads as CPUs. */
gb_benchmark *gb_thread_per_cpu(gb_benchmark *b);

/* Minimum run time in seconds (> 0); overrides --benchmark_min_time. Not
 * with gb_set_iterations(). */
gb_benchmark *gb_min_time(gb_benchmark *b, double seconds);
/* Untimed warm-up before measuring, in seconds (>= 0). Not with
 * gb_set_iterations(). */
gb_benchmark *gb_min_warmup_time(gb_benchmark *b, double seconds);
/* Exactly n iterations per run and thread (n >= 1), no calibration. Not with
 * gb_min_time() / gb_min_warmup_time(). */
gb_benchmark *gb_set_iterations(gb_benchmark *b, uint64_t n);
/* Repeats each instance n times (n >= 1) and adds mean, median and stddev
 * aggregates; overrides --benchmark_repetitions. */
gb_benchmark *gb_repetitions(gb_benchmark *b, int n);
/* With repetitions: report only the aggregates. */
gb_benchmark *gb_report_aggregates_only(gb_benchmark *b, bool only);
/* Wall-clock time decides the iteration count and rates (default: the CPU
 * time of the thread). Use it for anything that waits or is multi-threaded. */
gb_benchmark *gb_use_real_time(gb_benchmark *b);
/* CPU time of the whole process instead of the benchmark thread. */
gb_benchmark *gb_measure_process_cpu_time(gb_benchmark *b);

typedef enum gb_unit {
    GB_NS = 0,
    GB_US = 1,
    GB_MS = 2,
    GB_S = 3,
} gb_unit;
/* Unit of the reported times (default nanoseconds). */
gb_benchmark *gb_time_unit(gb_benchmark *b, gb_unit unit);

/* Batch size for gb_keep_running_batch(): at most n per batch (n >= 1); the
 * last batch of a run may be shorter, so iteration counts stay exact. 0:
 * adaptive (the default): up to GB_BATCH_ADAPTIVE_MAX. */
gb_benchmark *gb_set_batch(gb_benchmark *b, uint64_t n);
/* Every batch exactly n (n >= 1): a run may overshoot its iteration count by
 * up to n-1; what is reported is the count actually run. */
gb_benchmark *gb_set_batch_uniform(gb_benchmark *b, uint64_t n);

/* ---------------------------------------------------------------------------
 * Running
 * ------------------------------------------------------------------------- */

/* Adds key/value (copied) to the "context" of the output. Before running. */
void gb_add_custom_context(const char *key, const char *value);

/* Whole main: 2 if gb_check_flags refuses the command line; then
 * gb_initialize, and 2 (with a message naming the flag and pointing at
 * --help) if any argument is left that Google Benchmark does not know; else
 * gb_run_benchmarks(NULL), gb_shutdown, and 0, or 2 if no benchmark ran (the
 * reason is on stderr). argv is modified (Google Benchmark removes the flags
 * it consumed). --help prints the flags and exits the process with 0. */
int gb_main(int argc, char **argv);

/* The pieces of gb_main, for a main with flags of its own. gb_check_flags,
 * after the registrations and before gb_initialize, checks what Google
 * Benchmark would take from argv (or its BENCHMARK_* environment variables)
 * and then misuse without saying so by its exit status: a
 * --benchmark_repetitions below 1, a --benchmark_min_time that is not a
 * finite number of seconds above 0 or a --benchmark_min_warmup_time that is
 * not one of 0 or more (1.7.x takes a plain number: no "s" or "x" suffix), a
 * --benchmark_format, --benchmark_out_format or --benchmark_time_unit it
 * does not know (the library would print its help and exit with 0), a
 * yes/no flag (--benchmark_list_tests, _enable_random_interleaving,
 * _report_aggregates_only, _display_aggregates_only, _counters_tabular)
 * that is not true/false, yes/no, on/off or 1/0 (the library reads any other
 * value as a yes), a --benchmark_color that is neither auto nor one of those
 * (empty: the help and exit 0), a --benchmark_context that is not
 * comma-separated KEY=VALUE pairs with distinct keys, a
 * --benchmark_perf_counters when the library has no performance counters
 * (it would measure without them), a --benchmark_out file that cannot be written (the library
 * would exit with 1 as the run starts), a --benchmark_filter that is not a
 * regular expression or that selects no registered benchmark. It runs
 * nothing and writes nothing (a missing output file is created, then
 * removed; the filter's check opens no file, not even one set in
 * BENCHMARK_OUT, which a selection by the library opens first). Returns
 * true, or false after one line on stderr that starts with argv[0] and
 * names the flag. With --help among the arguments it checks nothing (the
 * help wins). */
bool gb_check_flags(int argc, char **argv);
/* gb_initialize parses and removes Google Benchmark's flags from argc/argv
 * (argv[0] is kept); what is left is the caller's. */
void gb_initialize(int *argc, char **argv);
/* Reports every argv[1..argc-1] as unrecognized on stderr; returns true if
 * there was any. */
bool gb_report_unrecognized(int argc, char **argv);
/* Runs the registered benchmarks matching filter (a regex; NULL: the
 * --benchmark_filter flag, by default all) with the reporters the flags ask
 * for. Returns how many benchmark instances ran (or were listed, with
 * --benchmark_list_tests); 0, after a message on stderr, when none did. */
size_t gb_run_benchmarks(const char *filter);
void gb_shutdown(void);
/* After gb_initialize: true when --benchmark_list_tests (or its variable)
 * asks the run to list the benchmarks, which then measures nothing and
 * leaves an output file empty. */
bool gb_listing_only(void);

/* ---------------------------------------------------------------------------
 * Keeping the compiler honest (the C forms of benchmark::DoNotOptimize and
 * benchmark::ClobberMemory; GCC and clang)
 * ------------------------------------------------------------------------- */

#if defined(__GNUC__) || defined(__clang__)
#define GB_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define GB_ALWAYS_INLINE inline
#endif

/* The object at p (any type) is read and may be written by something the
 * compiler cannot see: its stores happen, and values computed into it are
 * computed. Pass the address of the value: gb_do_not_optimize(&x). For a
 * pointer that is itself the result (e.g. of a pop), this also works:
 * gb_do_not_optimize(p). */
static GB_ALWAYS_INLINE void gb_do_not_optimize(const void *p)
{
    __asm__ __volatile__("" : : "r,m"(p) : "memory");
}

/* The value v is used: the computation that produced it is not removed.
 * Cheaper than the pointer form (v may stay in a register). */
static GB_ALWAYS_INLINE void gb_do_not_optimize_u64(uint64_t v)
{
    __asm__ __volatile__("" : : "r,m"(v) : "memory");
}

/* All pending stores to memory are done here (compiler barrier, no fence
 * instruction). */
static GB_ALWAYS_INLINE void gb_clobber_memory(void)
{
    __asm__ __volatile__("" : : : "memory");
}

#ifdef __cplusplus
}
#endif

#endif /* PENDBENCH_GBENCH_H */
