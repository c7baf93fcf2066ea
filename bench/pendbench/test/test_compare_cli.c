/* `pendbench compare` as a user meets it: the real program, on result
 * files (and history records) with known differences built by the reports
 * fixtures (reports/test/fixture_runs.h): the metrics chosen and the JSON
 * output, the exit status (0 nothing regressed, 1 something did, 2 bad
 * input or usage), every statistics option reaching the comparison, bad
 * files and bad usage each a clear message, the baseline taken from the
 * history. What the comparison computes and prints is tested beside it,
 * in reports/test/test_compare.c. Runs the `pendbench` program built
 * beside this test. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "program.h"

#include <jansson.h>

#include "pb_result.h"
/* The fixtures are the reports tests' (configure.py builds them into this
 * program too): bench may use reports, never the other way round. */
#include "../../../reports/test/fixture_runs.h"

/* ---- the program and a scratch directory ----------------------------------------- */

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    pb_test_program();      /* asserts it was built */
    snprintf(dir, sizeof dir, "/tmp/pb-compare-cli.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(compare_cli, .init = setup, .fini = teardown, .timeout = 120);

static const char *path_in(const char *name)
{
    static char bufs[16][128];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* The exit status and what the program wrote, stdout and stderr apart
 * (--json output must be JSON alone). */
struct cli_result {
    int status;
    char *out, *err;
};

/* Runs pendbench with args (NULL-terminated; args[0] the verb) in the
 * scratch directory, standard input /dev/null and the history there: the
 * tests never write into the checkout's results/. */
static struct cli_result cli(const char *const *args)
{
    char history[PATH_MAX];
    snprintf(history, sizeof history, "%s/history.db", dir);
    int fd_out = pb_test_output_fd(), fd_err = pb_test_output_fd();
    struct cli_result r = { .status = pb_test_exec(dir, NULL, history, args, fd_out, fd_err, 60) };
    r.out = malloc(1 << 20);
    r.err = malloc(1 << 16);
    cr_assert(r.out && r.err);
    pb_test_read_output(fd_out, r.out, 1 << 20);
    pb_test_read_output(fd_err, r.err, 1 << 16);
    return r;
}

static void cli_free(struct cli_result *r)
{
    free(r->out);
    free(r->err);
}

#define CLI(...) cli((const char *const[]){ __VA_ARGS__, NULL })

Test(compare_cli, metric_selection_and_json)
{
    struct spec b = base_spec(50), n = base_spec(51);
    n.lat_mean = 1200;
    write_doc(path_in("b.json"), &b, 1);
    write_doc(path_in("n.json"), &n, 1);
    struct cli_result r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric",
                              "throughput", "--metric=p99.9,cancel", "--json");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    json_error_t je;
    json_t *root = json_loads(r.out, 0, &je);
    cr_assert_not_null(root, "%s: %s", je.text, r.out);
    json_t *runs = json_object_get(root, "runs");
    cr_assert_eq(json_array_size(runs), 1);
    json_t *ms = json_object_get(json_array_get(runs, 0), "metrics");
    cr_assert_eq(json_array_size(ms), 3);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 1), "metric")), "p999");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, 1), "verdict")),
                     "regressed");
    json_t *u = json_object_get(json_array_get(ms, 1), "mann_whitney");
    cr_assert(json_is_object(u));
    cr_assert_lt(json_real_value(json_object_get(u, "p_value")), 0.05);
    /* Every number of the verdict. */
    json_t *p999 = json_array_get(ms, 1), *t = json_object_get(p999, "test");
    cr_assert_str_eq(json_string_value(json_object_get(t, "name")), "welch-log");
    double raw = json_real_value(json_object_get(t, "p_value"));
    double adj = json_real_value(json_object_get(t, "p_adjusted"));
    cr_assert(raw > 0 && raw < 0.001 && adj >= raw && adj <= 2 * raw + 1e-15, "%g %g", raw, adj);
    cr_assert(json_is_real(json_object_get(p999, "robust_cv_base")));
    cr_assert(json_is_real(json_object_get(p999, "noise_floor")));
    cr_assert_str_eq(json_string_value(json_object_get(p999, "spread_unit")), "percent");
    cr_assert_str_eq(json_string_value(json_object_get(p999, "reason")), "changed");
    cr_assert_str_eq(json_string_value(json_object_get(p999, "verdict_words")), "regressed");
    cr_assert(json_is_object(json_object_get(p999, "histogram_ci")));
    cr_assert_str_eq(json_string_value(json_object_get(root, "correction")), "holm");
    /* throughput and p999 tested; cancel n/a. */
    cr_assert_eq(json_integer_value(json_object_get(root, "family_size")), 2);
    cr_assert_eq(json_array_size(json_object_get(json_array_get(ms, 1), "base_repetitions")), 5);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(root, "summary"),
                                                    "regressed")), 1);
    cr_assert_eq(json_integer_value(json_object_get(root, "exit_status")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 0), "verdict")),
                     "regressed");
    json_decref(root);
    cli_free(&r);
}

Test(compare_cli, exit_status_1_on_a_regression_0_without_2_on_bad_input)
{
    struct spec b = base_spec(52), n = base_spec(53);
    write_doc(path_in("b.json"), &b, 1);
    n.tput = 0.5e6;
    write_doc(path_in("n.json"), &n, 1);
    struct cli_result r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric",
                              "throughput");
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "1 regressed, 0 improved, 0 unchanged"), "%s", r.out);
    cr_assert_str_eq(r.err, "");
    cli_free(&r);
    r = CLI("compare", path_in("b.json"), path_in("b.json"));
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "0 regressed, 0 improved"), "%s", r.out);
    cli_free(&r);
    r = CLI("compare", path_in("missing.json"), path_in("b.json"));
    cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
    cr_assert_str_eq(r.out, "");
    cli_free(&r);
}

/* --strict: a comparison that could not judge (NEW too noisy) exits 3,
 * and its JSON says so; without it, 0. */
Test(compare_cli, strict_exits_3_when_nothing_could_be_judged)
{
    struct spec b, n;
    too_noisy_pair(&b, &n, 54);
    write_doc(path_in("b.json"), &b, 1);
    write_doc(path_in("n.json"), &n, 1);
    struct cli_result r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric",
                              "throughput");
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "1 inconclusive"), "%s", r.out);
    cli_free(&r);
    r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric", "throughput",
            "--strict");
    cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "--strict: nothing regressed, but not everything could be judged"),
              "%s", r.out);
    cli_free(&r);
    r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric", "throughput",
            "--strict", "--json");
    cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
    json_t *root = json_loads(r.out, 0, NULL);
    cr_assert_not_null(root, "%s", r.out);
    cr_expect(json_is_true(json_object_get(root, "strict")));
    cr_expect_eq(json_integer_value(json_object_get(root, "exit_status")), 3);
    json_decref(root);
    cli_free(&r);
    r = CLI("compare", path_in("b.json"), path_in("n.json"), "--strict=1");
    cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
    cli_free(&r);
}

/* One run a side: a throughput halved is no verdict (no test, no noise
 * to judge it by), so exit 0, and 3 with --strict; the table says
 * "inconclusive (untested)" and the summary what to do. */
Test(compare_cli, one_run_a_side_is_never_a_regression)
{
    struct spec b = base_spec(56), n = base_spec(57);
    b.reps = n.reps = 1;
    n.tput = 0.5e6;
    write_doc(path_in("b.json"), &b, 1);
    write_doc(path_in("n.json"), &n, 1);
    struct cli_result r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric",
                              "throughput");
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "-49.4%  untested 1/1"), "%s", r.out);   /* the seed's noise */
    cr_assert(strstr(r.out, "inconclusive (untested)"), "%s", r.out);
    cr_assert(strstr(r.out, "0 regressed, 0 improved, 0 unchanged, 1 inconclusive"), "%s", r.out);
    cr_assert(strstr(r.out, "1 metric untested (fewer than 3 repetitions a side): no verdict "
                            "without a test, so the 1 beyond the threshold is inconclusive; run "
                            "each side with --repeat 5"), "%s", r.out);
    cr_assert(!strstr(r.out, "too noisy"), "%s", r.out);
    cli_free(&r);
    r = CLI("compare", path_in("b.json"), path_in("n.json"), "--metric", "throughput",
            "--strict");
    cr_assert_eq(r.status, 3, "%s%s", r.out, r.err);
    cli_free(&r);
}

/* Every statistics option (the group `ab` shares) and --paired reach the
 * comparison: the JSON output says what it was made with. */
Test(compare_cli, statistics_options_reach_the_comparison)
{
    struct spec b = base_spec(54), n = base_spec(55);
    write_doc(path_in("b.json"), &b, 1);
    write_doc(path_in("n.json"), &n, 1);
    struct cli_result r = CLI("compare", "--threshold=2.5", path_in("b.json"), "--alpha", "0.01",
                              "--correction", "bh", "--noise-k", "0", "--max-cv", "20",
                              "--floor-factor", "0", "--paired", "--metric", "gate",
                              path_in("n.json"), "--json");
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    json_error_t je;
    json_t *root = json_loads(r.out, 0, &je);
    cr_assert_not_null(root, "%s: %s", je.text, r.out);
    cr_assert_float_eq(json_real_value(json_object_get(root, "threshold_pct")), 2.5, 1e-12);
    cr_assert_float_eq(json_real_value(json_object_get(root, "alpha")), 0.01, 1e-12);
    cr_assert_str_eq(json_string_value(json_object_get(root, "correction")), "bh");
    cr_assert_float_eq(json_real_value(json_object_get(root, "noise_k")), 0, 0);
    cr_assert_float_eq(json_real_value(json_object_get(root, "max_cv_pct")), 20, 1e-12);
    cr_assert(json_is_true(json_object_get(root, "paired")));
    /* gate: throughput, p50, p99, in that order; paired, the paired test. */
    json_t *ms = json_object_get(json_array_get(json_object_get(root, "runs"), 0), "metrics");
    cr_assert_eq(json_array_size(ms), 3);
    static const char *const gate[] = { "throughput", "p50", "p99" };
    for (size_t k = 0; k < 3; k++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(ms, k), "metric")),
                         gate[k]);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(ms, 0),
                                                                       "test"), "name")),
                     "paired-t-log");
    json_decref(root);
    cli_free(&r);
}

/* Exit 2, the message on stderr, "pendbench compare: " first, nothing on stdout. */
static void expect_bad(struct cli_result r, const char *message)
{
    cr_assert_eq(r.status, 2, "status %d; out: %s; err: %s", r.status, r.out, r.err);
    cr_assert(strstr(r.err, message), "expected '%s' in: %s", message, r.err);
    cr_assert_eq(strncmp(r.err, "pendbench compare: ", 19), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "");
    cli_free(&r);
}

Test(compare_cli, bad_input_exit_2)
{
    struct spec b = base_spec(60);
    char ok[128];
    snprintf(ok, sizeof ok, "%s", path_in("ok.json"));
    write_doc(ok, &b, 1);
    expect_bad(CLI("compare", path_in("missing.json"), ok),
               "missing.json: cannot open: No such file");
    expect_bad(CLI("compare", ok, path_in("missing.json")),
               "missing.json: cannot open: No such file");
    write_text(path_in("text.json"), "this is not json\n");
    expect_bad(CLI("compare", path_in("text.json"), ok), "not JSON");
    write_text(path_in("other.json"), "{\"benchmarks\": []}\n");
    expect_bad(CLI("compare", ok, path_in("other.json")), "not a pendbench result");
    write_text(path_in("v99.json"),
               "{\"schema_version\": 99, \"generator\": \"pendbench\", \"context\": {}, "
               "\"runs\": []}\n");
    expect_bad(CLI("compare", path_in("v99.json"), ok),
               "schema_version 99 is newer than this pendbench reads");
    expect_bad(CLI("compare", ok, path_in(".")), "not a regular file but a directory");
    /* A FIFO without a writer: refused at once (it blocked forever). */
    cr_assert_eq(mkfifo(path_in("fifo"), 0600), 0);
    expect_bad(CLI("compare", path_in("fifo"), ok), "fifo: not a regular file but a FIFO");
    expect_bad(CLI("compare", ok, "/dev/zero"), "/dev/zero: not a regular file");
    /* No runs in common. */
    struct spec other = base_spec(61);
    other.pool = "malloc";
    write_doc(path_in("other-pool.json"), &other, 1);
    expect_bad(CLI("compare", ok, path_in("other-pool.json")),
               "no runs in common (BASE: steady magazine/percpu-mpsc/xchg; "
               "NEW: steady malloc/percpu-mpsc/xchg)");
    write_doc(path_in("empty.json"), NULL, 0);
    expect_bad(CLI("compare", ok, path_in("empty.json")), "NEW: no runs");
}

/* Text from a file reaches the terminal in the table's header and rows: a
 * scenario "x\u001b[2J\u001b]0;pwned\u0007y" cleared the screen and
 * retitled the window, a host "h\u001b[31m" turned it red. A control
 * character is a damaged file: exit 2, the message shows it escaped. */
Test(compare_cli, control_characters_in_a_file_are_refused)
{
    struct spec b = base_spec(63);
    char ok[128];
    snprintf(ok, sizeof ok, "%s", path_in("ok.json"));
    write_doc(ok, &b, 1);
    json_t *root = json_load_file(ok, 0, NULL);
    cr_assert_not_null(root);
    json_t *run = json_array_get(json_object_get(root, "runs"), 0);
    cr_assert_eq(json_object_set_new(run, "scenario", json_string("x\x1b[2J\x1b]0;pwned\x07y")), 0);
    cr_assert_eq(json_dump_file(root, path_in("scenario.json"), 0), 0);
    json_object_set_new(run, "scenario", json_string("steady"));
    cr_assert_eq(json_object_set_new(json_object_get(root, "context"), "host",
                                     json_string("h\x1b[31m")), 0);
    cr_assert_eq(json_dump_file(root, path_in("host.json"), 0), 0);
    json_decref(root);
    struct cli_result r = CLI("compare", path_in("scenario.json"), path_in("scenario.json"));
    cr_expect(!strchr(r.err, '\x1b') && !strchr(r.out, '\x1b'), "raw: %s", r.err);
    expect_bad(r, "scenario.json: runs[0].scenario: \"x\\x1b[2J\\x1b]0;pwned\\x07y\" holds a "
               "control character (a damaged or edited file)");
    expect_bad(CLI("compare", ok, path_in("host.json")),
               "host.json: context.host: \"h\\x1b[31m\" holds a control character");
}

/* A strategy in params given as a plugin's path: reading the file loaded
 * that library and ran its code (compare, report, export, the history).
 * A file names strategies; it never loads one. The test library marks
 * its loading; run --queue PATH, which loads it on purpose, shows that
 * the mark works. */
Test(compare_cli, a_file_never_loads_a_plugin)
{
    const char *prog = pb_test_program();
    char lib[PATH_MAX], marker[128], evil[128];
    snprintf(lib, sizeof lib, "%.*s/test/plugins/load_marker.so",
             (int)(strrchr(prog, '/') - prog), prog);
    cr_assert_eq(access(lib, R_OK), 0, "no library at %s (built by ninja)", lib);
    snprintf(marker, sizeof marker, "%s", path_in("loaded"));
    setenv("PB_TEST_LOAD_MARKER", marker, 1);
    struct spec b = base_spec(64);
    write_doc(path_in("ok.json"), &b, 1);
    snprintf(evil, sizeof evil, "%s", path_in("evil.json"));
    static const char *const keys[] = { "queue", "pool", "handoff", "lock" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *root = json_load_file(path_in("ok.json"), 0, NULL);
        cr_assert_not_null(root);
        json_t *params = json_object_get(json_array_get(json_object_get(root, "runs"), 0), "params");
        cr_assert_eq(json_object_set_new(params, keys[i], json_string(lib)), 0);
        cr_assert_eq(json_dump_file(root, evil, 0), 0);
        json_decref(root);
        struct cli_result r = CLI("compare", evil, evil);
        cr_expect_eq(r.status, 0, "%s: %s", keys[i], r.err);
        cli_free(&r);
        cr_expect_neq(access(marker, F_OK), 0, "params.%s: reading the file loaded %s", keys[i],
                      lib);
    }
    struct cli_result r = CLI("run", "--queue", lib, "--repeat", "0");
    cli_free(&r);
    cr_expect_eq(access(marker, F_OK), 0, "the library marks no load");
    unsetenv("PB_TEST_LOAD_MARKER");
}

Test(compare_cli, bad_usage_exit_2)
{
    struct spec b = base_spec(62);
    char ok[128];
    snprintf(ok, sizeof ok, "%s", path_in("ok.json"));
    write_doc(ok, &b, 1);
    expect_bad(CLI("compare"), "expected two files");
    struct cli_result r = CLI("compare", ok);
    cr_assert(strstr(r.err, "\n(see `pendbench compare --help`)\n"), "%s", r.err);
    expect_bad(r, "expected two files");
    expect_bad(CLI("compare", ok, ok, ok), "too many files");
    expect_bad(CLI("compare", ok, ok, "--threshold", "-1"), "--threshold: '-1'");
    expect_bad(CLI("compare", ok, ok, "--threshold", "lots"), "--threshold: 'lots'");
    expect_bad(CLI("compare", ok, ok, "--alpha", "1"), "--alpha: '1'");
    expect_bad(CLI("compare", ok, ok, "--alpha=0"), "--alpha: '0'");
    expect_bad(CLI("compare", ok, ok, "--alpha", "0x0.1"), "--alpha: '0x0.1'");  /* strtod's */
    expect_bad(CLI("compare", ok, ok, "--alpha"), "--alpha needs a value (A)");
    expect_bad(CLI("compare", ok, ok, "--metric", "p42"), "--metric: 'p42'");
    expect_bad(CLI("compare", ok, ok, "--frobnicate"), "unknown option '--frobnicate'");
    expect_bad(CLI("compare", "--baseline", "last", ok, ok), "with --baseline, give one file");
    expect_bad(CLI("compare", "--baseline=", ok), "--baseline: wants 'last' or a git commit");
    char none[160];
    snprintf(none, sizeof none, "--baseline last: no history yet at %s", path_in("none.db"));
    expect_bad(CLI("compare", "--baseline", "last", "--history-db", path_in("none.db"), ok), none);
    /* Good values are accepted: threshold 0 and "5%". */
    r = CLI("compare", ok, ok, "--threshold", "5%", "--alpha", "0.01");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cli_free(&r);
    r = CLI("compare", "--help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "usage: pendbench compare"));
    cli_free(&r);
}

/* ---- against the history ---------------------------------------------------------- */

Test(compare_cli, baseline_from_history)
{
    char db[128];
    snprintf(db, sizeof db, "%s", path_in("history.db"));
    struct spec old = base_spec(70), last = base_spec(71), n = base_spec(72);
    old.lat_mean = 800;          /* at commit beef1234: faster than now */
    record_spec(db, &old, "beef1234", "2024-04-01T12:00:00Z", "run-old");
    record_spec(db, &last, "cafe5678", "2024-04-02T12:00:00Z", "run-last");
    write_doc(path_in("n.json"), &n, 1);   /* 2024-05-01, no run id: an older file */
    /* Against the last recorded run: the same distribution. */
    struct cli_result r = CLI("compare", "--baseline", "last", "--history-db", db,
                              path_in("n.json"));
    cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "BASE history:last"), "%s", r.out);
    cr_assert(strstr(r.out, "commit cafe5678"), "%s", r.out);
    cli_free(&r);
    /* Against an older commit, by prefix: latency regressed since. */
    r = CLI("compare", "--baseline=beef", "--history-db", db, path_in("n.json"));
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "commit beef1234"), "%s", r.out);
    cli_free(&r);
    /* A commit the history does not have; a damaged database. */
    r = CLI("compare", "--baseline", "dead0000", "--history-db", db, path_in("n.json"));
    cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
    cr_assert(strstr(r.err, "--baseline dead0000: "), "%s", r.err);
    cli_free(&r);
    write_text(path_in("damaged.db"),
               "this is not an SQLite database, not even close............\n");
    r = CLI("compare", "--baseline", "last", "--history-db", path_in("damaged.db"),
            path_in("n.json"));
    cr_assert_eq(r.status, 2, "%s%s", r.out, r.err);
    cr_assert(strstr(r.err, "damaged.db"), "%s", r.err);
    cli_free(&r);
}

Test(compare_cli, baseline_last_is_never_new_itself)
{
    /* Every run records itself: "last" must be the run before NEW, not
     * NEW's own record (which would always say "no change"). */
    char db[128];
    snprintf(db, sizeof db, "%s", path_in("history.db"));
    struct spec old = base_spec(73), n = base_spec(74);
    old.lat_mean = 800;
    record_spec(db, &old, "beef1234", "2024-04-01T12:00:00Z", "run-old");
    record_spec(db, &n, "cafe5678", "2024-05-01T12:00:00Z", "run-new");
    /* NEW as its own file, with its run id. */
    struct pb_run_result runs[5];
    for (unsigned rep = 0; rep < n.reps; rep++)
        fill_run(&runs[rep], &n, rep);
    struct pb_context ctx;
    memset(&ctx, 0, sizeof ctx);
    snprintf(ctx.date, sizeof ctx.date, "2024-05-01T12:00:00Z");
    snprintf(ctx.git_commit, sizeof ctx.git_commit, "cafe5678");
    snprintf(ctx.run_id, sizeof ctx.run_id, "run-new");
    char err[512];
    cr_assert_eq(pb_result_write(path_in("n.json"), &ctx, runs, n.reps, err, sizeof err), 0,
                 "%s", err);
    for (unsigned rep = 0; rep < n.reps; rep++)
        pb_run_result_free(&runs[rep]);
    struct cli_result r = CLI("compare", "--baseline", "last", "--history-db", db,
                              path_in("n.json"));
    cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "commit beef1234"), "%s", r.out);
    cli_free(&r);
}
