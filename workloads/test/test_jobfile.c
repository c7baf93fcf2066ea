/* Job files: [global] plus jobs, overrides, scenario= inheritance, and
 * errors that name the file, the line and the key. The example job files
 * under examples/ must load. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_scenario.h"

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pb-jobfile-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

TestSuite(jobfile, .init = make_dir, .fini = remove_dir);

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

static int load(const char *text, struct pb_scenario **jobs, char *err, size_t errlen)
{
    const char *path = write_file("jobs.ini", text);
    return pb_jobfile_load(path, NULL, jobs, err, errlen);
}

/* Loads text, expects failure with a message holding every needle. */
static void expect_error(const char *text, const char *n1, const char *n2, const char *n3)
{
    struct pb_scenario *jobs = (void *)1;
    char err[1024] = "";
    int rc = load(text, &jobs, err, sizeof err);
    cr_expect_eq(rc, -1, "accepted:\n%s", text);
    cr_expect_null(jobs);
    const char *needles[] = {n1, n2, n3};
    for (int i = 0; i < 3; i++)
        if (needles[i])
            cr_expect(strstr(err, needles[i]) != NULL, "message '%s' lacks '%s'", err,
                      needles[i]);
    if (rc >= 0)
        free(jobs);
}

Test(jobfile, global_and_two_jobs)
{
    struct pb_scenario *jobs = NULL;
    char err[1024];
    int n = load("; a comment\n"
                 "# another\n"
                 "[global]\n"
                 "duration = 1s\n"
                 "queue = percpu-ring   ; inline comment\n"
                 "inflight: 6\n"
                 "\n"
                 "[first]\n"
                 "\n"
                 "[second]\n"
                 "queue = global-mutex\n"
                 "mix = read=50,write=50\n"
                 "description = the second job, with = and : inside\n",
                 &jobs, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_expect_str_eq(jobs[0].name, "first");
    cr_expect_str_eq(jobs[0].queue, "percpu-ring");
    cr_expect_eq(jobs[0].duration_s, 1.0);
    cr_expect_eq(jobs[0].inflight, 6);
    cr_expect_str_eq(jobs[1].name, "second");
    cr_expect_str_eq(jobs[1].queue, "global-mutex");
    cr_expect_eq(jobs[1].duration_s, 1.0);
    cr_expect_eq(jobs[1].inflight, 6);
    cr_expect_eq(jobs[1].mix.read, 50);
    cr_expect_eq(jobs[1].mix.write, 50);
    cr_expect_str_eq(jobs[1].description, "the second job, with = and : inside");
    /* Untouched keys keep the defaults. */
    cr_expect_str_eq(jobs[1].pool, "magazine");
    cr_expect_eq(jobs[1].seed, 1);
    free(jobs);
}

Test(jobfile, jobs_start_from_base_and_override)
{
    struct pb_scenario base;
    char err[1024];
    pb_scenario_defaults(&base);
    cr_assert_eq(pb_scenario_set(&base, "seed", "42", err, sizeof err), 0);
    cr_assert_eq(pb_scenario_set(&base, "workers", "3", err, sizeof err), 0);
    const char *path = write_file("base.ini", "[global]\n"
                                              "workers = 2\n"
                                              "[a]\n"
                                              "[b]\n"
                                              "seed = 7\n"
                                              "workers = 4\n"
                                              "name = bee\n");
    struct pb_scenario *jobs = NULL;
    int n = pb_jobfile_load(path, &base, &jobs, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_expect_eq(jobs[0].seed, 42);
    cr_expect_eq(jobs[0].workers, 2);
    cr_expect_eq(jobs[1].seed, 7);
    cr_expect_eq(jobs[1].workers, 4);
    cr_expect_str_eq(jobs[1].name, "bee");
    free(jobs);
}

/* scenario= starts a section from the built-in: keys above it in the same
 * section would be dropped without a word, so they are refused. */
Test(jobfile, scenario_after_other_keys_is_refused)
{
    struct pb_scenario *jobs = NULL;
    char err[1024];
    int n = load("[storm]\n"
                 "inflight = 99\n"
                 "scenario = cancel-storm\n",
                 &jobs, err, sizeof err);
    cr_expect_lt(n, 0);
    cr_expect(strstr(err, ":3: key 'scenario' must come first in [storm] (line 2 has a key)"),
              "%s", err);
    free(jobs);
    jobs = NULL;
    n = load("[global]\n"
             "inflight = 3\n"
             "scenario = burst\n"
             "[x]\n",
             &jobs, err, sizeof err);
    cr_expect_lt(n, 0);
    cr_expect(strstr(err, ":3: key 'scenario' must come before the other [global] keys (line 2)"),
              "%s", err);
    free(jobs);
}

Test(jobfile, scenario_inheritance)
{
    struct pb_scenario *jobs = NULL;
    char err[1024];
    int n = load("[global]\n"
                 "duration = 500ms\n"
                 "cancellers = 2\n"
                 "[race]\n"
                 "scenario = cancel-race\n"
                 "[storm]\n"
                 "scenario = cancel-storm\n"
                 "inflight = 2\n"
                 "[plain]\n",
                 &jobs, err, sizeof err);
    cr_assert_eq(n, 3, "%s", err);
    cr_expect_str_eq(jobs[0].name, "race");
    cr_expect_eq(jobs[0].cancel_when, PB_CANCEL_RACE);
    cr_expect_eq(jobs[0].service.a, 2000);
    cr_expect_eq(jobs[0].duration_s, 0.5);        /* [global] applies after the built-in */
    cr_expect_eq(jobs[0].cancellers, 2);
    cr_expect(strstr(jobs[0].description, "completion") != NULL, "%s", jobs[0].description);
    cr_expect_str_eq(jobs[1].name, "storm");
    cr_expect_eq(jobs[1].cancel_fraction, 0.9);
    cr_expect_eq(jobs[1].inflight, 2);
    cr_expect_eq(jobs[1].cancellers, 2);
    cr_expect_eq(jobs[1].duration_s, 0.5);
    cr_expect_str_eq(jobs[2].name, "plain");
    cr_expect_eq(jobs[2].cancel_when, PB_CANCEL_DELAY);
    free(jobs);

    /* scenario= in [global]: every job starts from it, unless it names its own. */
    n = load("[global]\n"
             "scenario = burst\n"
             "seed = 9\n"
             "[x]\n"
             "[y]\n"
             "scenario = steady\n",
             &jobs, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_expect_eq(jobs[0].rate, 200000);
    cr_expect_eq(jobs[0].inflight, 256);
    cr_expect_eq(jobs[0].seed, 9);
    cr_expect_str_eq(jobs[0].name, "x");
    cr_expect_eq(jobs[1].rate, 0);
    cr_expect_eq(jobs[1].inflight, 4);
    cr_expect_eq(jobs[1].seed, 9);
    cr_expect_str_eq(jobs[1].name, "y");
    free(jobs);
}

Test(jobfile, global_after_jobs_applies_to_later_jobs)
{
    struct pb_scenario *jobs = NULL;
    char err[1024];
    int n = load("[global]\n"
                 "inflight = 2\n"
                 "[early]\n"
                 "[global]\n"
                 "seed = 5\n"
                 "[late]\n",
                 &jobs, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_expect_eq(jobs[0].inflight, 2);
    cr_expect_eq(jobs[0].seed, 1);
    cr_expect_eq(jobs[1].inflight, 2);
    cr_expect_eq(jobs[1].seed, 5);
    free(jobs);
}

/* The section headers as the loader read them, for a tool that splits the
 * file (ab): lines from 1, a BOM and comments as inih reads them, only
 * [global] exactly is global. */
Test(jobfile, sections_are_listed_as_the_loader_reads_them)
{
    const char *path = write_file("jobs.ini", "\xef\xbb\xbf; [not] a section\n"
                                              "[global]\nseed = 1\n"
                                              "[a] ; a comment\n"
                                              "# [nor] this\n"
                                              "  [global]\n"
                                              "[GLOBAL]\n");
    struct pb_scenario *jobs;
    struct pb_job_section *sec;
    size_t n;
    char err[512];
    cr_assert_eq(pb_jobfile_load_sections(path, NULL, &jobs, &sec, &n, err, sizeof err), 2, "%s",
                 err);
    cr_assert_eq(n, 4);
    static const struct pb_job_section want[] = { { 2, true }, { 4, false }, { 6, true },
                                                  { 7, false } };
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(sec[i].line, want[i].line, "section %zu", i);
        cr_expect_eq(sec[i].global, want[i].global, "section %zu", i);
    }
    cr_expect_str_eq(jobs[1].name, "GLOBAL");
    free(jobs);
    free(sec);
}

Test(jobfile, unknown_key_names_file_line_and_key)
{
    expect_error("[global]\n"
                 "seed = 3\n"
                 "[job]\n"
                 "queu = percpu-mpsc\n",
                 "jobs.ini:4: ", "key 'queu'", "did you mean 'queue'");
    expect_error("[global]\n"
                 "colour = blue\n"
                 "[job]\n",
                 "jobs.ini:2: ", "key 'colour'", "unknown option");
}

Test(jobfile, bad_value_names_file_line_and_key)
{
    expect_error("[job]\n"
                 "\n"
                 "cancel-fraction = 1.5\n",
                 "jobs.ini:3: key 'cancel-fraction': '1.5' is not a fraction from 0 to 1", NULL,
                 NULL);
    expect_error("[job]\n"
                 "queue = foo\n",
                 "jobs.ini:2: key 'queue': unknown queue strategy 'foo'", "percpu-mpsc", NULL);
    expect_error("[job]\n"
                 "scenario = nope\n",
                 "jobs.ini:2: key 'scenario'", "nope", "cancel-race");
    expect_error("[job]\n"
                 "mix = read=1,bogus=2\n",
                 "jobs.ini:2: key 'mix'", "bogus", NULL);
    expect_error("[job]\n"
                 "seed =\n",
                 "jobs.ini:2: key 'seed'", "needs a value", NULL);
}

Test(jobfile, syntax_errors)
{
    expect_error("[global]\n"
                 "[job\n"
                 "seed = 1\n",
                 "jobs.ini:2: syntax error", NULL, NULL);
    expect_error("[job]\n"
                 "just some words\n",
                 "jobs.ini:2: syntax error", NULL, NULL);
    /* The first error wins, whichever kind. */
    expect_error("[job]\n"
                 "oops\n"
                 "queue = foo\n",
                 "jobs.ini:2: syntax error", NULL, NULL);
    expect_error("[job]\n"
                 "queue = foo\n"
                 "oops\n",
                 "jobs.ini:2: key 'queue'", NULL, NULL);
    expect_error("seed = 1\n"
                 "[job]\n",
                 "jobs.ini:1: key 'seed'", "outside any section", NULL);
    expect_error("[job]\n"
                 "seed = 1\n"
                 "  inflight = 2\n",
                 "jobs.ini:3: ", "continuation", NULL);
    char text[400];
    snprintf(text, sizeof text, "[job]\ndescription = %0250d\n", 0);
    expect_error(text, "jobs.ini:2: line too long", NULL, NULL);
    expect_error("[]\n", "jobs.ini:1: ", "section", NULL);
    /* inih drops what follows the ']'; "[a] junk" was job a. */
    expect_error("[a] junk\n"
                 "seed = 1\n",
                 "jobs.ini:1: text after the section header's ']': 'junk'", NULL, NULL);
}

Test(jobfile, a_comment_may_follow_a_section_header)
{
    struct pb_scenario *jobs = NULL;
    char err[1024];
    int n = load("[a] ; the first\n"
                 "[b]   # the second\n"
                 "seed = 3\n",
                 &jobs, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_expect_str_eq(jobs[0].name, "a");
    cr_expect_str_eq(jobs[1].name, "b");
    cr_expect_eq(jobs[1].seed, 3);
    free(jobs);
}

Test(jobfile, a_key_twice_in_one_section_is_refused)
{
    expect_error("[a]\n"
                 "seed = 1\n"
                 "queue = percpu-mpsc\n"
                 "seed = 2\n",
                 "jobs.ini:4: key 'seed': given twice in [a] (first at line 2)", NULL, NULL);
    expect_error("[global]\n"
                 "inflight = 2\n"
                 "inflight = 4\n"
                 "[a]\n",
                 "jobs.ini:3: key 'inflight': given twice in [global] (first at line 2)", NULL,
                 NULL);
    expect_error("[a]\n"
                 "scenario = steady\n"
                 "scenario = bursty\n",
                 "jobs.ini:3: key 'scenario': given twice in [a]", NULL, NULL);
    /* Each section counts its own: a job overrides [global], and a later
     * [global] section the earlier one. */
    struct pb_scenario *jobs = NULL;
    char err[1024];
    int n = load("[global]\n"
                 "seed = 1\n"
                 "[a]\n"
                 "seed = 2\n"
                 "[global]\n"
                 "seed = 3\n"
                 "[b]\n",
                 &jobs, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_expect_eq(jobs[0].seed, 2);
    cr_expect_eq(jobs[1].seed, 3);
    free(jobs);
}

Test(jobfile, missing_file)
{
    struct pb_scenario *jobs = (void *)1;
    char err[1024];
    char path[512];
    snprintf(path, sizeof path, "%s/absent.ini", dir);
    cr_expect_eq(pb_jobfile_load(path, NULL, &jobs, err, sizeof err), -1);
    cr_expect_null(jobs);
    cr_expect(strstr(err, path) && strstr(err, "cannot open") &&
                  strstr(err, "No such file or directory"),
              "%s", err);
}

/* Regression: a NUL byte ended the line early for fgets/strlen, so /dev/zero
 * made read_line spin forever; a FIFO without a writer blocked the open. */
Test(jobfile, nul_bytes_name_the_line, .timeout = 10)
{
    char path[512];
    snprintf(path, sizeof path, "%s/nul.ini", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("[a]\nseed = 1\n", f);
    fputc('\0', f);
    fputs("seed = 2\n", f);
    fclose(f);
    struct pb_scenario *jobs = (void *)1;
    char err[1024] = "";
    cr_expect_eq(pb_jobfile_load(path, NULL, &jobs, err, sizeof err), -1);
    cr_expect_null(jobs);
    cr_expect(strstr(err, "nul.ini:3:") && strstr(err, "NUL byte"), "%s", err);
}

Test(jobfile, devices_and_fifos_are_refused_without_hanging, .timeout = 10)
{
    struct pb_scenario *jobs = (void *)1;
    char err[1024] = "";
    cr_expect_eq(pb_jobfile_load("/dev/zero", NULL, &jobs, err, sizeof err), -1);
    cr_expect_null(jobs);
    cr_expect(strstr(err, "/dev/zero: not a regular file"), "%s", err);

    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo.ini", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_expect_eq(pb_jobfile_load(fifo, NULL, &jobs, err, sizeof err), -1);
    cr_expect(strstr(err, "fifo.ini: not a regular file"), "%s", err);

    cr_expect_eq(pb_jobfile_load(dir, NULL, &jobs, err, sizeof err), -1);
    cr_expect(strstr(err, "not a regular file"), "%s", err);
}

Test(jobfile, no_jobs)
{
    expect_error("", "jobs.ini: no jobs", NULL, NULL);
    expect_error("; only a comment\n", "jobs.ini: no jobs", NULL, NULL);
    expect_error("[global]\nseed = 2\n", "jobs.ini: no jobs (only [global])", NULL, NULL);
}

Test(jobfile, duplicate_sections_and_names)
{
    expect_error("[a]\n"
                 "seed = 1\n"
                 "[b]\n"
                 "[a]\n",
                 "jobs.ini:4: duplicate job section [a] (first at line 1)", NULL, NULL);
    expect_error("[a]\n"
                 "[b]\n"
                 "name = a\n",
                 "jobs.ini: jobs [a] (line 1) and [b] (line 2) are both named 'a'", NULL, NULL);
    expect_error("[global]\n"
                 "name = all\n"
                 "[a]\n",
                 "jobs.ini:2: key 'name'", NULL, NULL);
}

Test(jobfile, each_job_is_validated)
{
    expect_error("[ok]\n"
                 "[broken]\n"
                 "filters = async\n",
                 "jobs.ini: job 'broken': filter 'async' needs a 'pend' filter below it", NULL,
                 NULL);
    expect_error("[loop]\n"
                 "burst = 20:80\n",
                 "jobs.ini: job 'loop': ", "rate", NULL);
}

Test(jobfile, the_examples_load)
{
    const char *examples = getenv("PB_EXAMPLES_DIR");
    if (!examples || !*examples)
        examples = "examples";
    DIR *d = opendir(examples);
    cr_assert_not_null(d, "no %s/ (run the tests from the repository root or set "
                          "PB_EXAMPLES_DIR)",
                       examples);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".ini") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", examples, e->d_name);
        struct pb_scenario *jobs = NULL;
        char err[1024] = "";
        int n = pb_jobfile_load(path, NULL, &jobs, err, sizeof err);
        cr_expect_gt(n, 0, "%s: %s", path, err);
        for (int i = 0; i < n; i++) {
            char line[1024];
            pb_scenario_summary(&jobs[i], line, sizeof line);
            cr_log_info("%s", line);
        }
        free(jobs);
        files++;
    }
    closedir(d);
    cr_expect_geq(files, 2, "expected the example job files in %s/", examples);
}

Test(jobfile, example_contents)
{
    const char *examples = getenv("PB_EXAMPLES_DIR");
    if (!examples || !*examples)
        examples = "examples";
    char path[1024], err[1024];
    struct pb_scenario *jobs = NULL;
    snprintf(path, sizeof path, "%s/compare-queues.ini", examples);
    int n = pb_jobfile_load(path, NULL, &jobs, err, sizeof err);
    cr_assert_gt(n, 0, "%s", err);
    for (int i = 0; i < n; i++) {
        cr_expect_str_eq(jobs[i].queue, jobs[i].name);   /* one job per queue, named for it */
        cr_expect_eq(jobs[i].seed, 42);
    }
    free(jobs);
    snprintf(path, sizeof path, "%s/cancel-race.ini", examples);
    n = pb_jobfile_load(path, NULL, &jobs, err, sizeof err);
    cr_assert_gt(n, 0, "%s", err);
    for (int i = 0; i < n; i++) {
        cr_expect_str_eq(jobs[i].handoff, jobs[i].name);
        cr_expect_eq(jobs[i].cancel_when, PB_CANCEL_RACE);
    }
    free(jobs);
}

/* `lock = NAME` in a job file: the chosen lock for that job ([global]:
 * every job; "default": each strategy's own), a typo named with its line
 * and a guess, a lock unfit for the job's strategies named with the job. */
Test(jobfile, lock_key)
{
    struct pb_scenario *jobs = NULL;
    char err[1024] = "";
    int n = load("[global]\n"
                 "lock = ttas-backoff\n"
                 "[spin]\n"
                 "queue = global-spin\n"
                 "[own]\n"
                 "queue = global-mutex\n"
                 "lock = default\n",
                 &jobs, err, sizeof err);
    cr_assert_eq(n, 2, "%s", err);
    cr_expect_str_eq(jobs[0].lock, "ttas-backoff");
    cr_expect_str_eq(jobs[1].lock, "");
    free(jobs);
    expect_error("[a]\n"
                 "lock = ttas-backof\n",
                 "jobs.ini:2", "key 'lock'", "did you mean 'ttas-backoff'");
    expect_error("[legacy]\n"
                 "handoff = op-lock\n"
                 "lock = pthread-mutex\n",
                 "jobs.ini: job 'legacy': ",
                 "lock 'pthread-mutex' does not fit the handoff strategy 'op-lock'", "in-word");
}
