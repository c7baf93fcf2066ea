/* pendbench-micro's command line as a user meets it: a bad argument gets
 * one clear message and exit status 2 before anything runs, good input
 * works. Runs the pendbench-micro program built beside this test; the runs
 * that do measure are one tiny benchmark (floor/rdtsc, 0.01 s). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../pendbench/test/program.h"

static char out[65536];
static char err[16384];

/* Google Benchmark's variables from the test's own environment out, then
 * env's entries ("NAME=VALUE"; env may be NULL): into all, NULL-ended. */
static void child_env(const char **all, size_t size, const char *const *env)
{
    static const char *const ours[] = {
        "BENCHMARK_FILTER", "BENCHMARK_OUT", "BENCHMARK_OUT_FORMAT",
        "BENCHMARK_FORMAT", "BENCHMARK_LIST_TESTS", "BENCHMARK_MIN_TIME",
        "BENCHMARK_REPETITIONS", "BENCHMARK_TIME_UNIT", "BENCHMARK_MIN_WARMUP_TIME",
        "BENCHMARK_COLOR", "BENCHMARK_COUNTERS_TABULAR", "BENCHMARK_CONTEXT",
        "BENCHMARK_PERF_COUNTERS", "BENCHMARK_ENABLE_RANDOM_INTERLEAVING",
        "BENCHMARK_REPORT_AGGREGATES_ONLY", "BENCHMARK_DISPLAY_AGGREGATES_ONLY",
    };
    size_t n = 0;
    cr_assert_lt(sizeof ours / sizeof ours[0], size);
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        all[n++] = ours[i];
    for (size_t i = 0; env && env[i]; i++) {
        cr_assert_lt(n + 1, size);
        all[n++] = env[i];
    }
    all[n] = NULL;
}

/* Runs pendbench-micro with args (NULL-terminated) and env ("NAME=VALUE"
 * entries set for it; NULL: none), with none of Google Benchmark's
 * BENCHMARK_* variables from the test's own environment. stdout goes to
 * out, stderr to err. Returns the exit status, or 128 + the signal. */
static int run_env(const char *const *env, const char *const *args)
{
    const char *all[48];
    child_env(all, sizeof all / sizeof all[0], env);
    int fd_out = pb_test_output_fd(), fd_err = pb_test_output_fd();
    /* 120 s: a hang is a failure, not a stuck test run. */
    int st = pb_test_exec_program(pb_test_program_named("pendbench-micro"), NULL, NULL, all, args,
                                  fd_out, fd_err, 120);
    pb_test_read_output(fd_out, out, sizeof out);
    pb_test_read_output(fd_err, err, sizeof err);
    return st;
}

static int run(const char *const *args)
{
    return run_env(NULL, args);
}

/* Exit status 2, one line on stderr that holds want, nothing measured. */
static void expect_refused(int st, const char *want)
{
    cr_expect_eq(st, 2, "exit %d, stderr: %s", st, err);
    cr_expect(strstr(err, want) != NULL, "no \"%s\" in: %s", want, err);
    const char *nl = strchr(err, '\n');
    cr_expect(nl && nl[1] == '\0', "not one line: %s", err);
    cr_expect_str_eq(out, "", "something ran: %s", out);
}

Test(micro, a_filter_that_selects_nothing_is_refused)
{
    expect_refused(run((const char *[]){ "--benchmark_filter=nomatchxyz", NULL }),
                   "--benchmark_filter=nomatchxyz selects no benchmark");
    cr_expect(strstr(err, "--benchmark_list_tests") != NULL, "%s", err);
    expect_refused(run((const char *[]){ "--benchmark_filter=nomatchxyz", "--summary", NULL }),
                   "--benchmark_filter=nomatchxyz selects no benchmark");
    expect_refused(run_env((const char *[]){ "BENCHMARK_FILTER=nomatchxyz", NULL },
                           (const char *[]){ NULL }),
                   "BENCHMARK_FILTER=nomatchxyz");
    expect_refused(run((const char *[]){ "--benchmark_filter=nomatchxyz",
                                         "--benchmark_list_tests=true", NULL }),
                   "--benchmark_filter=nomatchxyz selects no benchmark");
}

/* With BENCHMARK_OUT set, the filter is still checked before anything runs
 * (it was left to the run, which emptied the file, wrote its complaint
 * there and said "no benchmark ran"): one line, the file as it was. */
Test(micro, a_bad_filter_is_refused_first_with_benchmark_out_set)
{
    char dir[] = "/tmp/pb-micro-envout-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[PATH_MAX], var[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/kept.json", dir);
    snprintf(var, sizeof var, "BENCHMARK_OUT=%s", path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("an earlier run's results\n", f);
    fclose(f);

    expect_refused(run_env((const char *[]){ var, NULL },
                           (const char *[]){ "--benchmark_filter=nomatchxyz", NULL }),
                   "--benchmark_filter=nomatchxyz selects no benchmark");
    expect_refused(run_env((const char *[]){ var, "BENCHMARK_FILTER=(", NULL },
                           (const char *[]){ "--summary", NULL }),
                   "BENCHMARK_FILTER=( (environment): not a regular expression");
    char got[256] = "";
    f = fopen(path, "r");
    cr_assert_not_null(f);
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = 0;
    fclose(f);
    cr_expect_str_eq(got, "an earlier run's results\n", "%s was changed", path);

    /* A filter that selects: the run writes BENCHMARK_OUT's file, and the
     * summary reads it back. */
    cr_expect_eq(run_env((const char *[]){ var, NULL },
                         (const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                           "--benchmark_min_time=0.01", "--summary", NULL }),
                 0, "%s", err);
    cr_expect(strstr(out, "pendbench-micro summary") != NULL, "%s", out);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    n = fread(got, 1, sizeof got - 1, f);
    got[n] = 0;
    fclose(f);
    cr_expect(got[0] == '{', "not the run's JSON: %s", got);
    unlink(path);
    rmdir(dir);
}

Test(micro, a_filter_that_is_no_regular_expression_is_refused)
{
    expect_refused(run((const char *[]){ "--benchmark_filter=(", NULL }),
                   "--benchmark_filter=(: not a regular expression");
    expect_refused(run((const char *[]){ "--benchmark_filter=[", "--summary", NULL }),
                   "--benchmark_filter=[: not a regular expression");
}

Test(micro, a_filter_that_selects_lists_and_runs)
{
    cr_expect_eq(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                       "--benchmark_list_tests=true", NULL }), 0, "%s", err);
    cr_expect_str_eq(out, "floor/rdtsc\n");
    cr_expect_eq(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                       "--benchmark_min_time=0.01", NULL }), 0, "%s", err);
    cr_expect(strstr(out, "floor/rdtsc") != NULL, "%s", out);
}

Test(micro, repetitions_below_1_are_refused)
{
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_min_time=0.01",
                                         "--benchmark_repetitions=-1", NULL }),
                   "--benchmark_repetitions=-1: --benchmark_repetitions must be a whole number, 1 or more");
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_min_time=0.01",
                                         "--benchmark_repetitions=0", "--summary", NULL }),
                   "--benchmark_repetitions=0: --benchmark_repetitions must be");
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_repetitions=abc",
                                         NULL }),
                   "--benchmark_repetitions=abc: --benchmark_repetitions must be");
    expect_refused(run_env((const char *[]){ "BENCHMARK_REPETITIONS=0", NULL },
                           (const char *[]){ "--benchmark_filter=floor/rdtsc",
                                             "--benchmark_min_time=0.01", NULL }),
                   "BENCHMARK_REPETITIONS=0 (environment): --benchmark_repetitions must be");
}

Test(micro, min_time_must_be_a_plain_number_of_seconds_above_0)
{
    static const char *const bad[] = {
        "--benchmark_min_time=nan", "--benchmark_min_time=-1", "--benchmark_min_time=0",
        "--benchmark_min_time=0.01s", "--benchmark_min_time=abc", "--benchmark_min_time=1x",
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", bad[i], NULL }),
                       bad[i]);
        cr_expect(strstr(err, "must be a number of seconds greater than 0") != NULL, "%s", err);
        cr_expect(strstr(err, "unrecognized") == NULL, "%s", err);
    }
}

Test(micro, an_output_file_that_cannot_be_written_is_refused_first)
{
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_min_time=0.01",
                                         "--benchmark_out=/nonexistent-pendbench-dir/x.json", NULL }),
                   "--benchmark_out=/nonexistent-pendbench-dir/x.json: cannot write the results there: "
                   "No such file or directory");
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_min_time=0.01",
                                         "--benchmark_out=/nonexistent-pendbench-dir/x.json",
                                         "--summary", NULL }),
                   "--benchmark_out=/nonexistent-pendbench-dir/x.json: cannot write");
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_out=/tmp", NULL }),
                   "--benchmark_out=/tmp: cannot write the results there: Is a directory");
}

Test(micro, an_output_file_is_checked_without_leaving_one_behind)
{
    char dir[] = "/tmp/pb-micro-out-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[PATH_MAX], flag[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/r.json", dir);
    snprintf(flag, sizeof flag, "--benchmark_out=%s", path);
    /* Refused for another reason: the file the check created is gone. */
    expect_refused(run((const char *[]){ "--benchmark_filter=nomatchxyz", flag, NULL }),
                   "selects no benchmark");
    cr_expect_neq(access(path, F_OK), 0, "%s was left behind", path);
    /* Accepted: the run writes it. */
    cr_expect_eq(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$", "--benchmark_min_time=0.01",
                                       flag, "--summary", NULL }), 0, "%s", err);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    static char head[65536];
    size_t n = fread(head, 1, sizeof head - 1, f);
    head[n] = 0;
    fclose(f);
    cr_expect(strstr(head, "\"floor/rdtsc\"") != NULL, "%s", head);
    cr_expect(strstr(out, "pendbench-micro summary") != NULL, "%s", out);
    unlink(path);
    rmdir(dir);
}

/* --summary's temporary file goes where TMPDIR says, whatever its length;
 * one it cannot be made in is named, never replaced by /tmp. */
Test(micro, summary_uses_tmpdir_or_says_why_not)
{
    char base[] = "/tmp/pb-micro-tmpdir-XXXXXX";
    cr_assert_not_null(mkdtemp(base));
    char dir[PATH_MAX], env[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/%s", base,
             "a-directory-name-long-enough-that-no-small-fixed-buffer-would-hold-it-"
             "with-the-file-name-after-it");
    cr_assert_eq(mkdir(dir, 0700), 0);

    snprintf(env, sizeof env, "TMPDIR=%s/missing", dir);
    expect_refused(run_env((const char *[]){ env, NULL },
                           (const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                             "--benchmark_min_time=0.01", "--summary", NULL }),
                   "$TMPDIR=");
    cr_expect(strstr(err, "/missing: No such file or directory") != NULL, "%s", err);

    snprintf(env, sizeof env, "TMPDIR=%s", dir);
    cr_expect_eq(run_env((const char *[]){ env, NULL },
                         (const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                           "--benchmark_min_time=0.01", "--summary", NULL }),
                 0, "%s", err);
    cr_expect(strstr(out, "pendbench-micro summary") != NULL, "%s", out);
    cr_expect_eq(rmdir(dir), 0, "the temporary file was left in %s", dir);
    rmdir(base);
}

/* Values Google Benchmark would take without a word and misuse: one clear
 * line each, exit 2, nothing run; from the environment too. */
Test(micro, values_google_benchmark_would_misuse_are_refused)
{
    static const struct {
        const char *arg, *want;
    } bad[] = {
        { "--benchmark_min_warmup_time=nan", "must be a number of seconds 0 or more" },
        { "--benchmark_min_warmup_time=-1", "must be a number of seconds 0 or more" },
        { "--benchmark_min_warmup_time=abc", "must be a number of seconds 0 or more" },
        { "--benchmark_color=", "--benchmark_color must be auto, true or false" },
        { "--benchmark_color=bogus", "--benchmark_color must be auto, true or false" },
        { "--benchmark_list_tests=maybe", "--benchmark_list_tests must be true or false" },
        { "--benchmark_counters_tabular=nope", "--benchmark_counters_tabular must be true or false" },
        { "--benchmark_context=a", "--benchmark_context must be comma-separated KEY=VALUE pairs" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_refused(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                             "--benchmark_min_time=0.01", bad[i].arg, NULL }),
                       bad[i].want);
        cr_expect(strstr(err, bad[i].arg) != NULL, "%s not named: %s", bad[i].arg, err);
    }
    expect_refused(run_env((const char *[]){ "BENCHMARK_MIN_WARMUP_TIME=nan", NULL },
                           (const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                             "--benchmark_min_time=0.01", "--summary", NULL }),
                   "BENCHMARK_MIN_WARMUP_TIME=nan (environment): --benchmark_min_warmup_time must be");
    expect_refused(run_env((const char *[]){ "BENCHMARK_COLOR=", NULL },
                           (const char *[]){ "--benchmark_filter=^floor/rdtsc$", NULL }),
                   "BENCHMARK_COLOR= (environment): --benchmark_color must be");
    cr_expect_eq(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$", "--benchmark_min_time=0.01",
                                       "--benchmark_min_warmup_time=0.001", "--benchmark_color=false",
                                       NULL }), 0, "%s", err);
}

/* Google Benchmark answers these with its help text and exit status 0. */
Test(micro, an_unknown_format_or_time_unit_is_refused)
{
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_format=JSON", NULL }),
                   "--benchmark_format=JSON: --benchmark_format must be console, json or csv");
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_out_format=xml",
                                         NULL }),
                   "--benchmark_out_format=xml: --benchmark_out_format must be");
    expect_refused(run((const char *[]){ "--benchmark_filter=floor/rdtsc", "--benchmark_time_unit=sec",
                                         NULL }),
                   "--benchmark_time_unit=sec: --benchmark_time_unit must be ns, us, ms or s");
}

/* --summary reads back what the run wrote: from a device or a FIFO it
 * would get nothing (/dev/null: the summary said "no results", exit 0) or
 * wait for ever (a FIFO): refused before anything runs. */
Test(micro, summary_needs_an_output_it_can_read_back)
{
    expect_refused(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$", "--benchmark_min_time=0.01",
                                         "--benchmark_out=/dev/null", "--summary", NULL }),
                   "--benchmark_out=/dev/null: --summary reads the results back from that file, "
                   "and it is not a regular file");
    char dir[] = "/tmp/pb-micro-fifo-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char fifo[PATH_MAX], flag[PATH_MAX + 32];
    snprintf(fifo, sizeof fifo, "%s/results.json", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    snprintf(flag, sizeof flag, "--benchmark_out=%s", fifo);
    expect_refused(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$", "--benchmark_min_time=0.01",
                                         flag, "--summary", NULL }),
                   "is not a regular file");
    unlink(fifo);
    rmdir(dir);
    /* Without --summary, a device is not read back: the run writes there. */
    cr_expect_eq(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$", "--benchmark_min_time=0.01",
                                       "--benchmark_out=/dev/null", NULL }), 0, "%s", err);
}

/* Runs pendbench-micro with args where it may write at most 512 * blocks
 * bytes into a file (as on a full disk; SIGXFSZ ignored, so a write past
 * it fails instead of killing the process). stdout is dropped, stderr goes
 * to err (through a pipe: the limit would cut a file short). Returns the
 * exit status, or 128 + the signal. */
static int run_file_limited(unsigned blocks, const char *const *args)
{
    char script[96];
    snprintf(script, sizeof script, "ulimit -f %u; trap '' XFSZ; exec \"$@\"", blocks);
    const char *argv[32] = { "-c", script, "sh", pb_test_program_named("pendbench-micro") };
    size_t n = 4;
    for (size_t i = 0; args[i]; i++) {
        cr_assert_lt(n + 1, sizeof argv / sizeof argv[0]);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    const char *env[32];
    child_env(env, sizeof env / sizeof env[0], NULL);
    int pipe_err[2];
    cr_assert_eq(pipe(pipe_err), 0);
    int null = open("/dev/null", O_WRONLY);
    cr_assert_geq(null, 0);
    int st = pb_test_exec_program("/bin/sh", NULL, NULL, env, argv, null, pipe_err[1], 120);
    close(null);
    close(pipe_err[1]);
    size_t used = 0;
    for (ssize_t got; used + 1 < sizeof err &&
                      (got = read(pipe_err[0], err + used, sizeof err - 1 - used)) > 0;)
        used += (size_t)got;
    err[used] = 0;
    close(pipe_err[0]);
    return st;
}

/* The results file the summary reads back was cut short under the run
 * (here by a file size limit, as by a full disk): bad input, named, exit 2
 * (it was exit 1, as for a failure; an empty file was "no results were
 * written (listing only?)" and exit 0). */
/* Results cut short by a full disk (here: a file-size limit of 512 or 0
 * bytes), which Google Benchmark does not notice: read back after the run,
 * with --summary or without it, as JSON or as CSV: one line, exit 2. */
Test(micro, results_cut_short_are_bad_input)
{
    char dir[] = "/tmp/pb-micro-cut-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[PATH_MAX], flag[PATH_MAX + 32];
    static const struct {
        const char *summary, *format, *file, *who;
        unsigned blocks;
        const char *why;
    } cases[] = {
        { "--summary", NULL, "r.json", "--summary", 1, "line " },
        { "--summary", NULL, "r.json", "--summary", 0, "it is empty" },
        { NULL, NULL, "r.json", "--benchmark_out", 1, "line " },
        { NULL, NULL, "r.json", "--benchmark_out", 0, "it is empty" },
        /* One benchmark's CSV fits in 512 bytes: only the empty file. */
        { NULL, "--benchmark_out_format=csv", "r.csv", "--benchmark_out", 0, "it is empty" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
        snprintf(flag, sizeof flag, "--benchmark_out=%s", path);
        const char *args[6] = { "--benchmark_filter=^floor/rdtsc$", "--benchmark_min_time=0.01",
                                flag };
        size_t n = 3;
        if (cases[i].summary)
            args[n++] = cases[i].summary;
        if (cases[i].format)
            args[n++] = cases[i].format;
        args[n] = NULL;
        int st = run_file_limited(cases[i].blocks, args);
        cr_expect_eq(st, 2, "case %zu: exit %d, stderr: %s", i, st, err);
        char want[PATH_MAX + 96];
        snprintf(want, sizeof want, "pendbench-micro: %s: cannot read the results back from %s: ",
                 cases[i].who, path);
        const char *line = strstr(err, want);
        cr_expect(line != NULL, "case %zu: no \"%s\" in: %s", i, want, err);
        if (line) {
            const char *nl = strchr(line, '\n');
            cr_expect(nl && nl[1] == '\0', "not the last line, or not one: %s", line);
            cr_expect(strstr(line, cases[i].why) != NULL, "no \"%s\" in: %s", cases[i].why, line);
            cr_expect(strstr(line, "was it changed during the run, or the disk full?") != NULL,
                      "%s", line);
        }
        unlink(path);
    }
    /* Written whole, as CSV and as the console's table: exit 0. */
    static const char *const whole[] = { "--benchmark_out_format=csv",
                                         "--benchmark_out_format=console" };
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        snprintf(path, sizeof path, "%s/r.out", dir);
        snprintf(flag, sizeof flag, "--benchmark_out=%s", path);
        cr_expect_eq(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$",
                                           "--benchmark_min_time=0.01", flag, whole[i], NULL }),
                     0, "%s: %s", whole[i], err);
        unlink(path);
    }
    rmdir(dir);
}

/* Listing measures nothing and leaves the output file empty: not an error. */
Test(micro, summary_after_a_listing_says_nothing_was_measured)
{
    cr_expect_eq(run((const char *[]){ "--benchmark_filter=^floor/rdtsc$", "--benchmark_list_tests=true",
                                       "--summary", NULL }), 0, "%s", err);
    cr_expect(strncmp(out, "floor/rdtsc\n", 12) == 0, "%s", out);
    cr_expect(strstr(out, "pendbench-micro: --summary: nothing was measured "
                          "(--benchmark_list_tests)\n") != NULL, "%s", out);
}

/* A --benchmark_out over a plugin it loads: the library empties the file
 * as the run starts, under the plugin's mapped code (a SIGBUS, and the
 * plugin lost). Refused before anything runs, from the environment too. */
Test(micro, an_output_file_over_a_loaded_plugin_is_refused)
{
    const char *micro = pb_test_program_named("pendbench-micro");
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%.*s/plugins/example_pool.so",
             (int)(strrchr(micro, '/') - micro), micro);
    FILE *f = fopen(src, "rb");
    cr_assert_not_null(f, "no plugin at %s (built by ninja)", src);
    static char bytes[1 << 22];
    size_t len = fread(bytes, 1, sizeof bytes, f);
    cr_assert(len > 0 && len < sizeof bytes && feof(f), "%s: %zu bytes", src, len);
    fclose(f);
    char dir[] = "/tmp/pb-micro-plugin-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char plugin[PATH_MAX], flag[PATH_MAX + 32], var[PATH_MAX + 32];
    snprintf(plugin, sizeof plugin, "%s/pp.so", dir);
    f = fopen(plugin, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);

    snprintf(flag, sizeof flag, "--benchmark_out=%s", plugin);
    char want[PATH_MAX * 3];
    snprintf(want, sizeof want, "%s: that is a plugin it loads: the results would replace it",
             flag);
    expect_refused(run((const char *[]){ "--plugin", plugin, "--benchmark_filter=^floor/rdtsc$",
                                         "--benchmark_min_time=0.01", flag, NULL }),
                   want);
    snprintf(var, sizeof var, "BENCHMARK_OUT=%s", plugin);
    expect_refused(run_env((const char *[]){ var, NULL },
                           (const char *[]){ "--plugin", plugin, "--benchmark_filter=^floor/rdtsc$",
                                             "--benchmark_min_time=0.01", "--summary", NULL }),
                   "BENCHMARK_OUT=");
    cr_expect(strstr(err, "(environment): that is a plugin it loads") != NULL, "%s", err);

    static char now[1 << 22];
    f = fopen(plugin, "rb");
    cr_assert_not_null(f);
    size_t now_len = fread(now, 1, sizeof now, f);
    fclose(f);
    cr_expect(now_len == len && memcmp(now, bytes, len) == 0, "the plugin was replaced");
    unlink(plugin);
    rmdir(dir);
}
