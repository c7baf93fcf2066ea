/*
 * Tests of the C API over Google Benchmark (bench/gbench/include/gbench.h).
 *
 * Each test registers C benchmarks, runs them in-process through gb_main()
 * with Google Benchmark's own flags (--benchmark_filter, --benchmark_out=FILE,
 * --benchmark_out_format=json, --benchmark_min_time=0.01), then reads the
 * JSON file with jansson and checks what was reported: exact iteration
 * counts, counter values and flags, label, errors, items/bytes rates,
 * threads, argument instances, options. Criterion runs each Test in its own
 * process, so each one registers and runs afresh.
 */
#include "gbench.h"

#include <criterion/criterion.h>
#include <jansson.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

/* Runs the registered benchmarks matching filter; returns the parsed
 * --benchmark_out JSON (never NULL). */
static json_t *run_gb(const char *filter, const char *format)
{
    char path[] = "/tmp/gbench-test-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0, "mkstemp failed");
    close(fd);

    char a0[] = "gbench-test";
    char a1[256], a2[64], a3[300];
    char a4[] = "--benchmark_out_format=json";
    char a5[] = "--benchmark_min_time=0.01";
    snprintf(a1, sizeof a1, "--benchmark_filter=%s", filter);
    snprintf(a2, sizeof a2, "--benchmark_format=%s", format);
    snprintf(a3, sizeof a3, "--benchmark_out=%s", path);
    char *argv[] = {a0, a1, a2, a3, a4, a5, NULL};
    int rc = gb_main(6, argv);
    cr_assert_eq(rc, 0, "gb_main returned %d", rc);

    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    unlink(path);
    cr_assert_not_null(root, "bad JSON output: %s (line %d)", err.text,
                       err.line);
    cr_assert(json_is_array(json_object_get(root, "benchmarks")));
    return root;
}

/* The entry whose name is prefix, or prefix followed by "/..." (the options
 * Google Benchmark appends: /iterations:N, /threads:N, /real_time, ...). */
static json_t *find_bench(json_t *root, const char *prefix)
{
    json_t *arr = json_object_get(root, "benchmarks");
    size_t len = strlen(prefix), i;
    json_t *b;
    json_array_foreach(arr, i, b) {
        const char *name = json_string_value(json_object_get(b, "name"));
        if (name && strncmp(name, prefix, len) == 0 &&
            (name[len] == '\0' || name[len] == '/'))
            return b;
    }
    cr_assert_fail("no benchmark named %s... in the output", prefix);
    return NULL;
}

static double num(json_t *b, const char *key)
{
    json_t *v = json_object_get(b, key);
    cr_assert(json_is_number(v), "%s: no number \"%s\"",
              json_string_value(json_object_get(b, "name")), key);
    return json_number_value(v);
}

static const char *str(json_t *b, const char *key)
{
    json_t *v = json_object_get(b, key);
    cr_assert(json_is_string(v), "%s: no string \"%s\"",
              json_string_value(json_object_get(b, "name")), key);
    return json_string_value(v);
}

static size_t count_names(json_t *root, const char *prefix)
{
    json_t *arr = json_object_get(root, "benchmarks");
    size_t len = strlen(prefix), i, n = 0;
    json_t *b;
    json_array_foreach(arr, i, b) {
        const char *name = json_string_value(json_object_get(b, "name"));
        if (name && strncmp(name, prefix, len) == 0)
            n++;
    }
    return n;
}

static void assert_no_error(json_t *b)
{
    json_t *e = json_object_get(b, "error_occurred");
    cr_assert(e == NULL || json_is_false(e), "%s failed: %s",
              json_string_value(json_object_get(b, "name")),
              json_string_value(json_object_get(b, "error_message")));
}

/* ---- iteration counts ----------------------------------------------------- */

/* Counts what the body really ran, and the batches it was given. */
static void bm_count_batches(gb_state *st)
{
    uint64_t n, body = 0, batches = 0, max_n = 0, min_n = UINT64_MAX;
    uint64_t limit = gb_max_batch(st);
    int over = 0;
    while (gb_keep_running_batch(st, &n)) {
        batches++;
        if (n > max_n)
            max_n = n;
        if (n < min_n)
            min_n = n;
        if (n > limit || n == 0)
            over = 1;
        for (uint64_t i = 0; i < n; i++) {
            body++;
            gb_do_not_optimize(&body);
        }
    }
    gb_counter_set(st, "body", (double)body, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "batches", (double)batches, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "max_n", (double)max_n, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "min_n", (double)min_n, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "over", over, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "iters_seen", (double)gb_iterations(st),
                   GB_COUNTER_DEFAULT);
    /* Called again after false: ignored, still false. */
    cr_expect(!gb_keep_running_batch(st, &n));
    cr_expect_eq(n, 0);
}

static void bm_count_single(gb_state *st)
{
    uint64_t body = 0;
    while (gb_keep_running(st)) {
        body++;
        gb_clobber_memory();
    }
    gb_counter_set(st, "body", (double)body, GB_COUNTER_DEFAULT);
}

Test(gbench, exact_iteration_counts)
{
    gb_set_batch(gb_set_iterations(gb_register("fixed/batched",
                                               bm_count_batches), 1000), 64);
    gb_set_batch_uniform(gb_set_iterations(gb_register("fixed/uniform",
                                                       bm_count_batches), 1000),
                         64);
    gb_set_iterations(gb_register("fixed/adaptive", bm_count_batches), 200000);
    gb_set_iterations(gb_register("fixed/single", bm_count_single), 37);
    gb_register("calibrated/batched", bm_count_batches);
    gb_set_batch(gb_register("calibrated/batch7", bm_count_batches), 7);

    json_t *root = run_gb("^(fixed|calibrated)/", "json");
    json_t *b;

    /* 1000 = 15 * 64 + 40: the last batch is shorter, the count exact. */
    b = find_bench(root, "fixed/batched");
    assert_no_error(b);
    cr_expect_eq(num(b, "iterations"), 1000);
    cr_expect_eq(num(b, "body"), 1000);
    cr_expect_eq(num(b, "batches"), 16);
    cr_expect_eq(num(b, "max_n"), 64);
    cr_expect_eq(num(b, "min_n"), 40);
    cr_expect_eq(num(b, "over"), 0);
    cr_expect_eq(num(b, "iters_seen"), 1000);

    /* Uniform batches: 16 * 64 = 1024 run, and 1024 reported. */
    b = find_bench(root, "fixed/uniform");
    assert_no_error(b);
    cr_expect_eq(num(b, "iterations"), 1024);
    cr_expect_eq(num(b, "body"), 1024);
    cr_expect_eq(num(b, "batches"), 16);
    cr_expect_eq(num(b, "min_n"), 64);

    /* Adaptive: batches of up to GB_BATCH_ADAPTIVE_MAX. */
    b = find_bench(root, "fixed/adaptive");
    assert_no_error(b);
    cr_expect_eq(num(b, "iterations"), 200000);
    cr_expect_eq(num(b, "body"), 200000);
    cr_expect_eq(num(b, "batches"), 4);
    cr_expect_eq(num(b, "max_n"), GB_BATCH_ADAPTIVE_MAX);

    b = find_bench(root, "fixed/single");
    assert_no_error(b);
    cr_expect_eq(num(b, "iterations"), 37);
    cr_expect_eq(num(b, "body"), 37);

    /* Calibrated by --benchmark_min_time: whatever Google Benchmark chose,
     * the body ran exactly the reported count. */
    b = find_bench(root, "calibrated/batched");
    assert_no_error(b);
    cr_expect_gt(num(b, "iterations"), 1000);
    cr_expect_eq(num(b, "body"), num(b, "iterations"));
    cr_expect_eq(num(b, "over"), 0);
    b = find_bench(root, "calibrated/batch7");
    assert_no_error(b);
    cr_expect_eq(num(b, "body"), num(b, "iterations"));
    cr_expect_eq(num(b, "max_n"), 7);
    json_decref(root);
}

/* ---- counters, items, bytes, label ---------------------------------------- */

static void bm_counters(gb_state *st)
{
    uint64_t n, x = 1;
    while (gb_keep_running_batch(st, &n)) {
        for (uint64_t i = 0; i < n; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            gb_do_not_optimize_u64(x);
        }
    }
    uint64_t it = gb_iterations(st);
    gb_counter_set(st, "plain", 42, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "per_iter", 3, GB_COUNTER_ITERATION_INVARIANT);
    gb_counter_set(st, "avg", (double)it * 5, GB_COUNTER_AVG_ITERATIONS);
    gb_counter_set(st, "rate", 1000, GB_COUNTER_RATE);
    gb_counter_set(st, "inv", 4, GB_COUNTER_INVERT);
    gb_counter_set(st, "k1024", 2048, GB_COUNTER_BASE_1024);
    gb_counter_add(st, "added", 2, GB_COUNTER_DEFAULT);
    gb_counter_add(st, "added", 2, GB_COUNTER_DEFAULT);
    gb_counter_add(st, "added", 2, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "bad_flags", 1, 1u << 12); /* rejected */
    gb_counter_set(st, NULL, 1, 0);               /* rejected */
    gb_set_items_processed(st, (int64_t)it * 2);
    gb_set_bytes_processed(st, (int64_t)it * 64);
    gb_set_label(st, "hello label");
}

Test(gbench, counters_items_bytes_label)
{
    gb_set_iterations(gb_register("counters/values", bm_counters), 500);
    json_t *root = run_gb("^counters/", "console");
    json_t *b = find_bench(root, "counters/values");
    assert_no_error(b);
    cr_expect_eq(num(b, "iterations"), 500);
    cr_expect_eq(num(b, "plain"), 42);
    cr_expect_eq(num(b, "per_iter"), 1500);
    cr_expect_eq(num(b, "avg"), 5);
    cr_expect_gt(num(b, "rate"), 0);
    cr_expect_eq(num(b, "inv"), 0.25);
    cr_expect_eq(num(b, "k1024"), 2048);
    cr_expect_eq(num(b, "added"), 6);
    cr_expect_null(json_object_get(b, "bad_flags"));
    cr_expect_gt(num(b, "items_per_second"), 0);
    cr_expect_gt(num(b, "bytes_per_second"), 0);
    /* items/s and bytes/s come from the same time: 64 B vs 2 items. */
    double ratio = num(b, "bytes_per_second") / num(b, "items_per_second");
    cr_expect(ratio > 31.99 && ratio < 32.01, "ratio %f", ratio);
    cr_expect_str_eq(str(b, "label"), "hello label");
    json_decref(root);
}

/* ---- threads -------------------------------------------------------------- */

static void bm_threads(gb_state *st)
{
    uint64_t n, body = 0;
    while (gb_keep_running_batch(st, &n)) {
        for (uint64_t i = 0; i < n; i++) {
            body++;
            gb_do_not_optimize(&body);
        }
    }
    gb_counter_set(st, "tid_sum", gb_thread_index(st) + 1, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "nthreads", gb_threads(st), GB_COUNTER_AVG_THREADS);
    gb_counter_set(st, "body", (double)body, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "per_thread", 10, GB_COUNTER_AVG_THREADS);
    gb_set_items_processed(st, (int64_t)body);
}

/* Thread 1 fails before its loop; thread 0 runs normally: no deadlock, no
 * abort, the run is reported as failed. */
static void bm_threads_skip(gb_state *st)
{
    uint64_t n;
    if (gb_thread_index(st) == 1) {
        gb_skip_with_error(st, "thread 1 has no resource");
        return;
    }
    while (gb_keep_running_batch(st, &n))
        for (uint64_t i = 0; i < n; i++)
            gb_do_not_optimize_u64(i);
}

Test(gbench, threads)
{
    /* Also run under ThreadSanitizer (build-tsan): although libbenchmark
     * itself is not instrumented, its threads and locks go through the
     * intercepted pthread calls, and no report comes from it or the shim. */
    gb_use_real_time(gb_set_threads(gb_set_iterations(
        gb_register("threads/two", bm_threads), 100), 2));
    gb_thread_range(gb_register("threads/range", bm_threads), 1, 2);
    gb_set_threads(gb_register("threads/skip", bm_threads_skip), 2);
    json_t *root = run_gb("^threads/", "json");

    json_t *b = find_bench(root, "threads/two");
    assert_no_error(b);
    cr_expect_eq(num(b, "threads"), 2);
    /* Each thread runs the fixed 100; the report sums the threads. */
    cr_expect_eq(num(b, "iterations"), 200);
    cr_expect_eq(num(b, "body"), 200);
    cr_expect_eq(num(b, "tid_sum"), 3);
    cr_expect_eq(num(b, "nthreads"), 2);
    cr_expect_eq(num(b, "per_thread"), 10);
    cr_expect_gt(num(b, "items_per_second"), 0);
    cr_expect(strstr(str(b, "name"), "/threads:2") != NULL);
    cr_expect(strstr(str(b, "name"), "/real_time") != NULL);

    b = find_bench(root, "threads/range/threads:1");
    assert_no_error(b);
    cr_expect_eq(num(b, "threads"), 1);
    cr_expect_eq(num(b, "body"), num(b, "iterations"));
    b = find_bench(root, "threads/range/threads:2");
    assert_no_error(b);
    cr_expect_eq(num(b, "threads"), 2);
    cr_expect_eq(num(b, "body"), num(b, "iterations"));

    b = find_bench(root, "threads/skip");
    cr_expect(json_is_true(json_object_get(b, "error_occurred")));
    cr_expect_str_eq(str(b, "error_message"), "thread 1 has no resource");
    json_decref(root);
}

/* ---- errors --------------------------------------------------------------- */

static void bm_skip_before(gb_state *st)
{
    uint64_t n;
    gb_skip_with_error(st, "no device here");
    cr_expect(gb_error_occurred(st));
    gb_skip_with_error(st, "second message is ignored");
    /* Looping after the error is fine too: it ends at once. */
    while (gb_keep_running_batch(st, &n))
        cr_expect_fail("loop body ran after gb_skip_with_error");
}

static void bm_skip_inside(gb_state *st)
{
    uint64_t n, seen = 0;
    while (gb_keep_running_batch(st, &n)) {
        for (uint64_t i = 0; i < n; i++) {
            if (++seen == 10) {
                gb_skip_with_error(st, "failed at iteration 10");
                return; /* allowed right after the error */
            }
        }
    }
}

static void bm_skip_after(gb_state *st)
{
    while (gb_keep_running(st))
        gb_clobber_memory();
    gb_skip_with_error(st, "verification failed");
}

static void bm_early_return(gb_state *st)
{
    (void)st; /* forgets the loop: reported, no abort */
}

static void bm_pause_misuse(gb_state *st)
{
    uint64_t n;
    gb_pause_timing(st); /* before the loop: ignored */
    while (gb_keep_running_batch(st, &n)) {
        gb_pause_timing(st);
        gb_pause_timing(st); /* twice: ignored */
        for (uint64_t i = 0; i < n; i++)
            gb_do_not_optimize_u64(i);
        /* left paused: the next gb_keep_running_batch resumes */
    }
    gb_resume_timing(st); /* after the loop: ignored */
    gb_counter_set(st, "out_of_range", (double)gb_range(st, 3), 0);
}

Test(gbench, skip_and_misuse)
{
    gb_register("err/skip_before", bm_skip_before);
    gb_register("err/skip_inside", bm_skip_inside);
    gb_set_iterations(gb_register("err/skip_after", bm_skip_after), 5);
    gb_register("err/early_return", bm_early_return);
    gb_set_iterations(gb_register("err/pause_misuse", bm_pause_misuse), 300);
    json_t *root = run_gb("^err/", "console");
    json_t *b;

    b = find_bench(root, "err/skip_before");
    cr_expect(json_is_true(json_object_get(b, "error_occurred")));
    cr_expect_str_eq(str(b, "error_message"), "no device here");

    b = find_bench(root, "err/skip_inside");
    cr_expect(json_is_true(json_object_get(b, "error_occurred")));
    cr_expect_str_eq(str(b, "error_message"), "failed at iteration 10");

    b = find_bench(root, "err/skip_after");
    cr_expect(json_is_true(json_object_get(b, "error_occurred")));
    cr_expect_str_eq(str(b, "error_message"), "verification failed");

    b = find_bench(root, "err/early_return");
    cr_expect(json_is_true(json_object_get(b, "error_occurred")));
    cr_expect(strstr(str(b, "error_message"), "returned before") != NULL);

    b = find_bench(root, "err/pause_misuse");
    assert_no_error(b);
    cr_expect_eq(num(b, "iterations"), 300);
    cr_expect_eq(num(b, "out_of_range"), 0);
    json_decref(root);
}

static void bm_noop(gb_state *st)
{
    while (gb_keep_running(st))
        ;
}

Test(gbench, registration_errors)
{
    cr_expect_null(gb_register(NULL, bm_noop));
    cr_expect_null(gb_register("", bm_noop));
    cr_expect_null(gb_register("reg/null_fn", NULL));
    /* Setters on NULL (a chain after a failed register) return NULL. */
    cr_expect_null(gb_arg(NULL, 1));
    cr_expect_null(gb_set_threads(gb_min_time(gb_register(NULL, NULL), 1), 2));

    gb_benchmark *b = gb_register("reg/conflicts", bm_noop);
    cr_assert_not_null(b);
    /* Each would be a BM_CHECK abort in Google Benchmark: rejected here. */
    cr_expect_eq(gb_min_time(b, -1), b);
    cr_expect_eq(gb_min_time(b, 0.001), b);
    cr_expect_eq(gb_set_iterations(b, 10), b); /* conflicts with min_time */
    cr_expect_eq(gb_set_iterations(b, 0), b);
    cr_expect_eq(gb_arg(b, 1), b);
    int64_t two[] = {1, 2};
    cr_expect_eq(gb_args(b, two, 2), b);      /* arity 1 already */
    cr_expect_eq(gb_args(b, NULL, 2), b);
    cr_expect_eq(gb_add_range(b, 5, 1), b);   /* hi < lo */
    cr_expect_eq(gb_add_range(b, -1, 4), b);  /* negative */
    cr_expect_eq(gb_dense_range(b, 1, 4, 0), b);
    cr_expect_eq(gb_range_multiplier(b, 1), b);
    const char *names2[] = {"a", "b"};
    cr_expect_eq(gb_set_arg_names(b, names2, 2), b); /* arity 1 */
    cr_expect_eq(gb_set_threads(b, 0), b);
    cr_expect_eq(gb_thread_range(b, 4, 2), b);
    cr_expect_eq(gb_dense_thread_range(b, 1, 2, 0), b);
    cr_expect_eq(gb_repetitions(b, 0), b);
    cr_expect_eq(gb_time_unit(b, (gb_unit)42), b);
    cr_expect_eq(gb_set_batch_uniform(b, 0), b);
    gb_add_custom_context(NULL, "x");
    gb_add_custom_context("k", NULL);

    gb_benchmark *c = gb_register("reg/iters_first", bm_noop);
    gb_set_iterations(c, 3);
    gb_min_time(c, 0.5);        /* conflicts with iterations */
    gb_min_warmup_time(c, 0.5); /* same */

    json_t *root = run_gb("^reg/", "console");
    json_t *r = find_bench(root, "reg/conflicts/1");
    assert_no_error(r);
    cr_expect(strstr(str(r, "name"), "min_time:0.001") != NULL);
    cr_expect_eq(count_names(root, "reg/conflicts/"), 1);
    r = find_bench(root, "reg/iters_first");
    assert_no_error(r);
    cr_expect_eq(num(r, "iterations"), 3);
    json_decref(root);
}

/* ---- arguments ------------------------------------------------------------ */

static void bm_args(gb_state *st)
{
    double prod = 1;
    for (size_t i = 0; i < gb_range_count(st); i++)
        prod *= (double)gb_range(st, i);
    while (gb_keep_running(st))
        ;
    gb_counter_set(st, "nargs", (double)gb_range_count(st), 0);
    gb_counter_set(st, "arg0", (double)gb_range(st, 0), 0);
    gb_counter_set(st, "prod", prod, 0);
}

Test(gbench, arguments)
{
    gb_benchmark *b = gb_register("args/range", bm_args);
    gb_add_range(gb_range_multiplier(b, 4), 1, 16); /* 1, 4, 16 */
    gb_set_iterations(b, 2);

    gb_set_iterations(gb_dense_range(gb_register("args/dense", bm_args), 1, 5,
                                     2), 2); /* 1, 3, 5 */

    int64_t v[] = {2, 5};
    const char *names[] = {"a", "b"};
    b = gb_register("args/two", bm_args);
    gb_set_arg_names(gb_args(b, v, 2), names, 2);
    gb_arg(b, 7); /* wrong arity: rejected */
    gb_set_iterations(b, 2);

    int64_t lo[] = {1, 10}, hi[] = {2, 20};
    gb_set_iterations(gb_ranges(gb_register("args/ranges", bm_args), lo, hi, 2),
                      2); /* (1,10) (2,10) (1,20) (2,20) */

    json_t *root = run_gb("^args/", "console");
    cr_expect_eq(count_names(root, "args/range/"), 3);
    cr_expect_eq(num(find_bench(root, "args/range/1"), "arg0"), 1);
    cr_expect_eq(num(find_bench(root, "args/range/4"), "arg0"), 4);
    cr_expect_eq(num(find_bench(root, "args/range/16"), "arg0"), 16);

    cr_expect_eq(count_names(root, "args/dense/"), 3);
    cr_expect_eq(num(find_bench(root, "args/dense/5"), "arg0"), 5);

    cr_expect_eq(count_names(root, "args/two/"), 1);
    json_t *t = find_bench(root, "args/two/a:2/b:5");
    cr_expect_eq(num(t, "nargs"), 2);
    cr_expect_eq(num(t, "prod"), 10);

    cr_expect_eq(count_names(root, "args/ranges/"), 4);
    cr_expect_eq(num(find_bench(root, "args/ranges/2/20"), "prod"), 40);
    json_decref(root);
}

/* ---- options ---------------------------------------------------------------- */

static void bm_user(gb_state *st)
{
    const int *value = gb_user_arg(st);
    uint64_t n;
    while (gb_keep_running_batch(st, &n))
        for (uint64_t i = 0; i < n; i++)
            gb_do_not_optimize_u64(i);
    gb_counter_set(st, "user", value ? *value : -1, 0);
}

static void bm_pause(gb_state *st)
{
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        gb_pause_timing(st);
        gb_clobber_memory();
        gb_resume_timing(st);
        for (uint64_t i = 0; i < n; i++)
            gb_do_not_optimize_u64(i);
    }
}

Test(gbench, options_and_context)
{
    static const int seventy_seven = 77, eight = 8;
    gb_set_iterations(gb_register_with_arg("opt/user/77", bm_user,
                                           (void *)&seventy_seven), 5);
    gb_set_iterations(gb_register_with_arg("opt/user/8", bm_user,
                                           (void *)&eight), 5);
    gb_time_unit(gb_use_real_time(gb_register("opt/real_us", bm_user)), GB_US);
    gb_time_unit(gb_register("opt/ms", bm_user), GB_MS);
    gb_repetitions(gb_set_iterations(gb_register("opt/reps", bm_user), 10), 3);
    gb_report_aggregates_only(
        gb_repetitions(gb_set_iterations(gb_register("opt/aggr", bm_user), 10),
                       2), true);
    gb_min_time(gb_register("opt/min_time", bm_user), 0.02);
    gb_measure_process_cpu_time(gb_register("opt/process_cpu", bm_user));
    gb_set_batch(gb_register("opt/pause", bm_pause), 1000);
    gb_add_custom_context("pendbench_test_key", "value 1");

    json_t *root = run_gb("^opt/", "console");
    json_t *b;
    cr_expect_eq(num(find_bench(root, "opt/user/77"), "user"), 77);
    cr_expect_eq(num(find_bench(root, "opt/user/8"), "user"), 8);

    b = find_bench(root, "opt/real_us");
    cr_expect(strstr(str(b, "name"), "/real_time") != NULL);
    cr_expect_str_eq(str(b, "time_unit"), "us");
    cr_expect_str_eq(str(find_bench(root, "opt/ms"), "time_unit"), "ms");

    /* 3 repetitions, then the aggregates (mean, median, stddev, ...). */
    json_t *arr = json_object_get(root, "benchmarks"), *e;
    size_t i, reps = 0, aggr = 0, aggr_only_iters = 0;
    json_array_foreach(arr, i, e) {
        const char *rn = json_string_value(json_object_get(e, "run_name"));
        const char *ty = json_string_value(json_object_get(e, "run_type"));
        if (rn && strncmp(rn, "opt/reps/", 9) == 0) {
            if (strcmp(ty, "iteration") == 0) {
                reps++;
                cr_expect_eq(num(e, "iterations"), 10);
            } else if (strcmp(ty, "aggregate") == 0) {
                aggr++;
            }
        }
        if (rn && strncmp(rn, "opt/aggr/", 9) == 0 &&
            strcmp(ty, "iteration") == 0)
            aggr_only_iters++;
    }
    cr_expect_eq(reps, 3);
    cr_expect_geq(aggr, 3);
    cr_expect_eq(aggr_only_iters, 0);
    cr_expect_geq(count_names(root, "opt/aggr/"), 3);

    cr_expect(strstr(str(find_bench(root, "opt/min_time"), "name"),
                     "/min_time:0.020") != NULL);
    b = find_bench(root, "opt/process_cpu");
    cr_expect(strstr(str(b, "name"), "/process_time") != NULL);
    assert_no_error(find_bench(root, "opt/pause"));

    json_t *ctx = json_object_get(root, "context");
    cr_expect_str_eq(str(ctx, "pendbench_test_key"), "value 1");
    json_decref(root);
}

/* ---- gb_main's command line ---------------------------------------------- */

Test(gbench, unknown_flag_returns_2)
{
    gb_register("main/noop", bm_noop);
    char a0[] = "gbench-test", a1[] = "--benchmark_filter=^main/";
    char a2[] = "--benchmark_no_such_flag=1";
    char *argv[] = {a0, a1, a2, NULL};
    cr_expect_eq(gb_main(3, argv), 2);

    char b1[] = "stray-argument";
    char *argv2[] = {a0, b1, NULL};
    cr_expect_eq(gb_main(2, argv2), 2);
}

static int selected_runs;

static void bm_count_calls(gb_state *st)
{
    selected_runs++;
    while (gb_keep_running(st))
        ;
}

/* Google Benchmark runs nothing and its caller saw a finished run (0): a
 * filter that selects nothing, or is no regular expression, is refused. */
Test(gbench, filter_that_selects_nothing_returns_2)
{
    gb_register("filter/counted", bm_count_calls);
    char a0[] = "gbench-test", a1[] = "--benchmark_filter=^filter/nothing$";
    char a2[] = "--benchmark_min_time=0.01";
    char *argv[] = {a0, a1, a2, NULL};
    cr_expect_eq(gb_main(3, argv), 2);
    char b1[] = "--benchmark_filter=(";
    char *argv2[] = {a0, b1, a2, NULL};
    cr_expect_eq(gb_main(3, argv2), 2);
    char c1[] = "--benchmark_filter=^filter/", c2[] = "--benchmark_list_tests=true";
    char *argv3[] = {a0, c1, c2, NULL};
    cr_expect(gb_check_flags(3, argv3));
    cr_expect_eq(selected_runs, 0);
}

/* An output file the library already holds (from BENCHMARK_OUT, or here an
 * earlier gb_initialize) is what its selection opens first: the check of a
 * filter leaves it alone (it was emptied, and got the complaint), and the
 * run then writes it. */
Test(gbench, filter_check_leaves_an_output_file_set_before_alone)
{
    gb_register("held/counted", bm_count_calls);
    char path[] = "/tmp/gbench-test-held-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "keep", 4), 4);
    close(fd);
    char a0[] = "gbench-test", a1[300];
    snprintf(a1, sizeof a1, "--benchmark_out=%s", path);
    char *init[] = {a0, a1, NULL};
    int n = 2;
    gb_initialize(&n, init);

    char b1[] = "--benchmark_filter=^held/nothing$", b2[] = "--benchmark_filter=(";
    char *nothing[] = {a0, b1, NULL}, *not_re[] = {a0, b2, NULL};
    cr_expect_not(gb_check_flags(2, nothing));
    cr_expect_not(gb_check_flags(2, not_re));
    char got[16] = "";
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t len = fread(got, 1, sizeof got - 1, f);
    got[len] = 0;
    fclose(f);
    cr_expect_str_eq(got, "keep", "the check wrote %s: %s", path, got);

    char c1[] = "--benchmark_filter=^held/", c2[] = "--benchmark_min_time=0.01";
    char *good[] = {a0, c1, c2, NULL};
    cr_expect(gb_check_flags(3, good));
    cr_expect_eq(gb_run_benchmarks("^held/"), 1);
    gb_shutdown();
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    unlink(path);
    cr_assert_not_null(root, "the run did not write its results: %s", err.text);
    find_bench(root, "held/counted");
    json_decref(root);
}

/* Values Google Benchmark takes, then measures nothing with (0
 * repetitions), throws on (-1) or runs a billion iterations for (nan). */
Test(gbench, bad_repetitions_and_min_time_return_2)
{
    gb_register("values/counted", bm_count_calls);
    static const char *const bad[] = {
        "--benchmark_repetitions=0", "--benchmark_repetitions=-1",
        "--benchmark_repetitions=2x", "--benchmark_repetitions=4294967297",
        "--benchmark_min_time=nan", "--benchmark_min_time=0",
        "--benchmark_min_time=-1", "--benchmark_min_time=inf",
        "--benchmark_min_time=0.01s", "--benchmark_min_time=",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char a0[] = "gbench-test", a1[] = "--benchmark_filter=^values/";
        char a2[] = "--benchmark_min_time=0.01", a3[64];
        snprintf(a3, sizeof a3, "%s", bad[i]);
        char *argv[] = {a0, a1, a2, a3, NULL};
        cr_expect_eq(gb_main(4, argv), 2, "%s", bad[i]);
    }
    cr_expect_eq(selected_runs, 0);
}

/* Values the library takes without a word and then misuses: a NaN,
 * infinite or negative warm-up, a yes/no flag that is neither (read as a
 * yes: "nope" lists instead of running), a colour that is not auto or a
 * yes/no (empty: the help and exit 0), a context that is not KEY=VALUE
 * pairs, performance counters this library cannot read. Refused by
 * gb_main before anything runs (gb_initialize would exit for the colour,
 * so gb_check_flags is asked for that one). */
Test(gbench, values_the_library_would_misuse_are_refused)
{
    gb_register("misuse/counted", bm_count_calls);
    static const char *const bad[] = {
        "--benchmark_min_warmup_time=nan", "--benchmark_min_warmup_time=-1",
        "--benchmark_min_warmup_time=inf", "--benchmark_min_warmup_time=abc",
        "--benchmark_min_warmup_time=0.1s", "--benchmark_min_warmup_time=",
        "--benchmark_list_tests=nope", "--benchmark_list_tests=",
        "--benchmark_counters_tabular=ture",
        "--benchmark_enable_random_interleaving=x",
        "--benchmark_report_aggregates_only=2",
        "--benchmark_display_aggregates_only=maybe",
        "--benchmark_color=bogus", "--benchmark_color=AUTO",
        "--benchmark_context=a", "--benchmark_context=a=b,", "--benchmark_context=a=1,a=2",
        "--benchmark_context=a=b=c", "--benchmark_perf_counters=CYCLES",
    };
    /* The counters' case only where the library has none (Debian's: it is
     * built without libpfm, the library that reads them). */
    bool counters = dlsym(RTLD_DEFAULT, "pfm_initialize") != NULL;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (counters && strncmp(bad[i], "--benchmark_perf_counters=", 26) == 0)
            continue;
        char a0[] = "gbench-test", a1[] = "--benchmark_filter=^misuse/";
        char a2[] = "--benchmark_min_time=0.01", a3[64];
        snprintf(a3, sizeof a3, "%s", bad[i]);
        char *argv[] = {a0, a1, a2, a3, NULL};
        cr_expect_eq(gb_main(4, argv), 2, "%s", bad[i]);
    }
    char a0[] = "gbench-test", a1[] = "--benchmark_color=";
    char *argv[] = {a0, a1, NULL};
    cr_expect_not(gb_check_flags(2, argv), "--benchmark_color=");
    cr_expect_eq(selected_runs, 0);

    static const char *const good[] = {
        "--benchmark_min_warmup_time=0", "--benchmark_min_warmup_time=0.001",
        "--benchmark_list_tests=false", "--benchmark_counters_tabular=TRUE",
        "--benchmark_enable_random_interleaving=yes",
        "--benchmark_report_aggregates_only=off", "--benchmark_display_aggregates_only=0",
        "--benchmark_color=auto", "--benchmark_color=no", "--benchmark_context=",
        "--benchmark_context=a=1,b=", "--benchmark_perf_counters=",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char b0[] = "gbench-test", b1[] = "--benchmark_filter=^misuse/", b2[64];
        snprintf(b2, sizeof b2, "%s", good[i]);
        char *gargv[] = {b0, b1, b2, NULL};
        cr_expect(gb_check_flags(3, gargv), "%s", good[i]);
    }
}

/* The library would print its help and exit with 0 (from gb_initialize:
 * so gb_check_flags itself is asked, which comes before it). */
Test(gbench, unknown_format_or_time_unit_is_refused)
{
    gb_register("choice/counted", bm_count_calls);
    static const char *const bad[] = {
        "--benchmark_format=xml", "--benchmark_format=JSON",
        "--benchmark_format=", "--benchmark_out_format=yaml",
        "--benchmark_time_unit=sec",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char a0[] = "gbench-test", a1[] = "--benchmark_filter=^choice/";
        char a2[] = "--benchmark_min_time=0.01", a3[64];
        snprintf(a3, sizeof a3, "%s", bad[i]);
        char *argv[] = {a0, a1, a2, a3, NULL};
        cr_expect_not(gb_check_flags(4, argv), "%s", bad[i]);
    }
    char a0[] = "gbench-test", a1[] = "--benchmark_format=json";
    char a2[] = "--benchmark_out_format=csv", a3[] = "--benchmark_time_unit=us";
    char *good[] = {a0, a1, a2, a3, NULL};
    cr_expect(gb_check_flags(4, good));
}

/* The library would open it as the run starts, then exit with 1. */
Test(gbench, unwritable_output_file_returns_2)
{
    gb_register("out/counted", bm_count_calls);
    char a0[] = "gbench-test", a1[] = "--benchmark_filter=^out/";
    char a2[] = "--benchmark_min_time=0.01";
    char a3[] = "--benchmark_out=/nonexistent-pendbench-dir/x.json";
    char *argv[] = {a0, a1, a2, a3, NULL};
    cr_expect_eq(gb_main(4, argv), 2);
    char b3[] = "--benchmark_out=/";
    char *argv2[] = {a0, a1, a2, b3, NULL};
    cr_expect_eq(gb_main(4, argv2), 2);
    cr_expect_eq(selected_runs, 0);
}

Test(gbench, initialize_leaves_own_flags)
{
    char a0[] = "prog", a1[] = "--benchmark_min_time=0.01";
    char a2[] = "--my-flag", a3[] = "--benchmark_filter=^nothing$";
    char *argv[] = {a0, a1, a2, a3, NULL};
    int argc = 4;
    gb_initialize(&argc, argv);
    cr_expect_eq(argc, 2);
    cr_expect_str_eq(argv[0], "prog");
    cr_expect_str_eq(argv[1], "--my-flag");
    gb_register("init/noop", bm_noop);
    cr_expect_eq(gb_run_benchmarks("^init/"), 1);
    gb_shutdown();
}
