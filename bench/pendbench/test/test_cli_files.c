/* The verbs' inputs and outputs as files (pb_file.h): a device or FIFO
 * given as the output is written through and stays what it was, a write
 * error is a clear message and exit status 2, '-' is stdout or stdin, and
 * an input that is not a regular file is refused at once. Runs the
 * `pendbench` program built beside this test. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "program.h"

static char dir[64];
static char result[PATH_MAX];      /* a small result file made once per test */
static char out[65536];            /* stdout and stderr of the last command */
static char root[PATH_MAX];        /* the checkout (the tests start there) */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Runs pendbench with args (NULL-terminated) in the scratch directory,
 * standard input from stdin_path (NULL: /dev/null); stdout and stderr
 * together in `out`. The exit status, or 128 + the signal. */
static int run_with(const char *stdin_path, const char *const *args)
{
    char history[PATH_MAX];
    snprintf(history, sizeof history, "%s/history.db", dir);
    int fd = pb_test_output_fd();
    int st = pb_test_exec(dir, stdin_path, history, args, fd, fd, 60);
    pb_test_read_output(fd, out, sizeof out);
    return st;
}

#define RUN(...) run_with(NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN_STDIN(path, ...) run_with(path, (const char *const[]){ __VA_ARGS__, NULL })

static void setup(void)
{
    pb_test_program();      /* asserts it was built */
    cr_assert_not_null(getcwd(root, sizeof root));
    snprintf(dir, sizeof dir, "/tmp/pb-cli-files-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(result, sizeof result, "%s/r.json", dir);
    int rc = RUN("run", "--scenario", "steady", "--ops", "2000", "--warmup", "0", "--quiet",
                 "--no-history", "--json", result);
    cr_assert_eq(rc, 0, "%s", out);
}

static void teardown(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(cli_files, .init = setup, .fini = teardown, .timeout = 120);

static void expect_device_intact(const char *path, const struct stat *before)
{
    struct stat after;
    cr_assert_eq(stat(path, &after), 0);
    cr_expect(S_ISCHR(after.st_mode), "%s is no longer a character device", path);
    cr_expect_eq(after.st_ino, before->st_ino, "%s was replaced", path);
    cr_expect_eq(after.st_rdev, before->st_rdev);
}

Test(cli_files, export_and_report_onto_dev_full_fail_with_status_2)
{
    struct stat full;
    cr_assert_eq(stat("/dev/full", &full), 0);
    cr_expect_eq(RUN("export", "--format", "csv", result, "-o", "/dev/full"), 2, "%s", out);
    cr_expect(strstr(out, "pendbench export: /dev/full: cannot write: No space left on device"),
              "%s", out);
    expect_device_intact("/dev/full", &full);
    cr_expect_eq(RUN("export", "--format", "gbench", result, "--output", "/dev/full"), 2, "%s",
                 out);
    expect_device_intact("/dev/full", &full);
    cr_expect_eq(RUN("report", result, "--no-charts", "-o", "/dev/full"), 2, "%s", out);
    cr_expect(strstr(out, "pendbench report: /dev/full: cannot write: No space left on device"),
              "%s", out);
    expect_device_intact("/dev/full", &full);
    /* /dev/null takes anything and stays /dev/null. */
    struct stat null;
    cr_assert_eq(stat("/dev/null", &null), 0);
    cr_expect_eq(RUN("export", "--format", "csv", result, "-o", "/dev/null"), 0, "%s", out);
    cr_expect_eq(RUN("report", result, "--no-charts", "-o", "/dev/null"), 0, "%s", out);
    expect_device_intact("/dev/null", &null);
}

/* run --json: pb_result_write's target. A target that fails once written to
 * is bad input as one refused before the run: exit 2; the document went to
 * stdout instead. */
Test(cli_files, run_json_onto_dev_full_leaves_the_device)
{
    struct stat full;
    cr_assert_eq(stat("/dev/full", &full), 0);
    int rc = RUN("run", "--scenario", "steady", "--ops", "500", "--warmup", "0", "--quiet",
                 "--no-history", "--json", "/dev/full");
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "/dev/full") && strstr(out, "No space left on device"), "%s", out);
    expect_device_intact("/dev/full", &full);
}

Test(cli_files, a_directory_output_is_refused)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s/adir", dir);
    cr_assert_eq(mkdir(d, 0755), 0);
    cr_expect_eq(RUN("export", "--format", "csv", result, "-o", d), 2, "%s", out);
    cr_expect(strstr(out, "adir: is a directory"), "%s", out);
    cr_expect_eq(RUN("report", result, "--no-charts", "-o", d), 2, "%s", out);
    cr_expect(strstr(out, "adir: is a directory"), "%s", out);
    struct stat st;
    cr_expect(stat(d, &st) == 0 && S_ISDIR(st.st_mode));
}

/* As root a FIFO can stand where the output goes: it is written through
 * to its reader and stays a FIFO. */
Test(cli_files, a_fifo_output_is_written_through)
{
    char fifo[PATH_MAX];
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t reader = fork();
    cr_assert_geq(reader, 0);
    if (reader == 0) {
        /* Counts the bytes it reads, reports the count through the pipe. */
        close(fds[0]);
        alarm(60);
        FILE *f = fopen(fifo, "r");
        long n = 0;
        while (f && fgetc(f) != EOF)
            n++;
        (void)!write(fds[1], &n, sizeof n);
        _exit(0);
    }
    close(fds[1]);
    cr_expect_eq(RUN("export", "--format", "csv", result, "-o", fifo), 0, "%s", out);
    long got = 0;
    cr_expect_eq(read(fds[0], &got, sizeof got), (ssize_t)sizeof got);
    close(fds[0]);
    waitpid(reader, NULL, 0);
    cr_expect_gt(got, 100, "the reader got %ld bytes", got);
    struct stat st;
    cr_expect(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
}

/* '-' is stdout for every output, stdin for every result input. */
Test(cli_files, dash_is_stdout_and_stdin)
{
    cr_expect_eq(RUN_STDIN(result, "export", "--format", "csv", "-", "-o", "-"), 0, "%s", out);
    cr_expect(strncmp(out, "date,git_commit,", 16) == 0, "%s", out);
    cr_expect_eq(RUN_STDIN(result, "report", "-", "--no-charts", "-o", "-"), 0, "%s", out);
    cr_expect(strstr(out, "<html") != NULL, "not a page: %.200s", out);
    cr_expect_eq(RUN_STDIN(result, "compare", "-", result), 0, "%s", out);
    cr_expect_eq(RUN_STDIN(result, "history", "import", "-"), 0, "%s", out);
    cr_expect(strstr(out, "1 recorded"), "%s", out);
}

/* Inputs that are not regular files are refused at once: a FIFO without a
 * writer used to block compare forever, /dev/zero never ended. */
Test(cli_files, inputs_that_are_not_regular_files_are_refused)
{
    char fifo[PATH_MAX];
    snprintf(fifo, sizeof fifo, "%s/pipe", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
    const char *verbs[][4] = {
        { "compare", fifo, result, NULL },
        { "compare", result, "/dev/zero", NULL },
        { "report", fifo, "--no-charts", NULL },
        { "export", "--format", "csv", fifo },
        { "history", "import", fifo, NULL },
        { "history", "import", "/dev/zero", NULL },
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        const char *const args[] = { verbs[i][0], verbs[i][1], verbs[i][2], verbs[i][3], NULL };
        cr_expect_eq(run_with(NULL, args), 2, "%s %s: %s", verbs[i][0], verbs[i][1], out);
        cr_expect(strstr(out, "not a regular file"), "%s %s: %s", verbs[i][0], verbs[i][1], out);
    }
    /* A NUL byte on standard input stops at once and names the line. */
    cr_expect_eq(RUN_STDIN("/dev/zero", "export", "--format", "csv", "-"), 2, "%s", out);
    cr_expect(strstr(out, "-:1: a NUL byte"), "%s", out);
}

/* A result whose figures are no figures (null, negative, 1e308) or whose
 * params are empty is bad input to every verb that reads results: exit 2,
 * naming the file, the run and the field. They used to be taken as they
 * were (compare said "regressed", the history stored null as 0). */
Test(cli_files, a_result_with_a_bad_number_is_exit_2)
{
    static const struct {
        const char *key, *json, *message;
    } cases[] = {
        { "throughput_ops_s", "-1",
          "runs[0].throughput_ops_s: -1 is not a valid throughput (0 to 1e12 ops/s)" },
        { "throughput_ops_s", "1e308", "runs[0].throughput_ops_s: 1e+308 is not a valid" },
        { "seconds", "null", "runs[0].seconds: null is not a valid duration" },
        { "steal_pct", "null", "runs[0].steal_pct: null is not a valid percentage" },
        { "failed_fraction", "-1", "runs[0].failed_fraction: -1 is not a valid fraction" },
        { "params", "{}", "runs[0].params.pool: missing" },
    };
    char bad[PATH_MAX];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *doc = json_load_file(result, 0, NULL);
        cr_assert_not_null(doc);
        json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        cr_assert_not_null(v);
        cr_assert_eq(json_object_set_new(json_array_get(json_object_get(doc, "runs"), 0),
                                         cases[i].key, v), 0);
        cr_assert_eq(json_dump_file(doc, bad, JSON_INDENT(1)), 0);
        json_decref(doc);
        const char *verbs[][5] = {
            { "report", bad, "--no-charts", "-o", "/dev/null" },
            { "compare", result, bad, NULL, NULL },
            { "compare", bad, result, NULL, NULL },
            { "export", "--format", "csv", bad, NULL },
            { "history", "import", bad, NULL, NULL },
        };
        for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++) {
            const char *const args[] = { verbs[k][0], verbs[k][1], verbs[k][2], verbs[k][3],
                                         verbs[k][4], NULL };
            cr_expect_eq(run_with(NULL, args), 2, "%s=%s, %s: %s", cases[i].key, cases[i].json,
                         verbs[k][0], out);
            char want[PATH_MAX + 200];
            snprintf(want, sizeof want, "%s: %s", bad, cases[i].message);
            cr_expect(strstr(out, want), "%s=%s, %s: no '%s' in: %s", cases[i].key,
                      cases[i].json, verbs[k][0], want, out);
        }
    }
}

/* A --gnuplot that never answers used to hang report (30 s a chart, the
 * report waiting on each in turn; /usr/bin/yes filled the disk meanwhile):
 * the charts get a bounded time together (PENDBENCH_GNUPLOT_TIMEOUT_MS
 * lowers it), the program is killed with what it started, and the page
 * has its tables, a note and a warning. */
Test(cli_files, report_kills_a_gnuplot_that_never_answers)
{
    char fake[PATH_MAX + 16], pidfile[PATH_MAX + 16], page[PATH_MAX + 16];
    snprintf(fake, sizeof fake, "%s/hanging-gnuplot", dir);
    snprintf(pidfile, sizeof pidfile, "%s/child.pid", dir);
    snprintf(page, sizeof page, "%s/o.html", dir);
    FILE *f = fopen(fake, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\nsleep 1000 &\necho $! > '%s'\nwait\n", pidfile);
    fclose(f);
    cr_assert_eq(chmod(fake, 0755), 0);
    cr_assert_eq(setenv("PENDBENCH_GNUPLOT_TIMEOUT_MS", "300", 1), 0);
    cr_expect_eq(RUN("report", result, "--gnuplot", fake, "-o", page), 0, "%s", out);
    cr_expect(strstr(out, "pendbench report: warning: ") && strstr(out, "timed out") &&
              strstr(out, "not drawn"), "%s", out);
    struct stat st;
    cr_expect(stat(page, &st) == 0 && st.st_size > 1000, "no page");
    /* The script's own child went with it: gone, or a zombie for init. */
    FILE *p = fopen(pidfile, "r");
    int pid = 0;
    cr_assert(p && fscanf(p, "%d", &pid) == 1 && pid > 0);
    fclose(p);
    char path[64], line[256] = "";
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    p = fopen(path, "r");
    if (p) {
        if (!fgets(line, sizeof line, p))
            line[0] = 0;
        fclose(p);
    }
    cr_expect(!p || strstr(line, ") Z "), "the sleep is still running: %s", line);
    /* A limit that is no number of milliseconds is bad input. */
    cr_assert_eq(setenv("PENDBENCH_GNUPLOT_TIMEOUT_MS", "soon", 1), 0);
    cr_expect_eq(RUN("report", result, "--gnuplot", fake, "-o", page), 2, "%s", out);
    cr_expect(strstr(out, "PENDBENCH_GNUPLOT_TIMEOUT_MS=soon: not a number of milliseconds"),
              "%s", out);
    unsetenv("PENDBENCH_GNUPLOT_TIMEOUT_MS");
    /* Endless output is stopped, not left to fill the disk. */
    if (access("/usr/bin/yes", X_OK) == 0) {
        cr_expect_eq(RUN("report", result, "--gnuplot", "/usr/bin/yes", "-o", page), 0, "%s",
                     out);
        cr_expect(strstr(out, "more than 64 MiB"), "%s", out);
    }
}

/* A --gnuplot that names no program used to cost a warning and exit 0:
 * asked for by name, it is bad input, refused before any work (no page). */
Test(cli_files, report_refuses_a_gnuplot_that_is_no_program)
{
    char noexec[PATH_MAX + 16], page[PATH_MAX + 16];
    snprintf(noexec, sizeof noexec, "%s/noexec", dir);
    snprintf(page, sizeof page, "%s/o.html", dir);
    FILE *f = fopen(noexec, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\nexit 0\n");
    fclose(f);
    cr_assert_eq(chmod(noexec, 0644), 0);
    const char *const cases[][2] = {
        { "/nonexistent/pb-gp", "--gnuplot: /nonexistent/pb-gp: No such file or directory" },
        { noexec, "noexec: not executable" },
        { dir, ": is a directory, not a program" },
        { "pb-no-such-gnuplot", "--gnuplot: pb-no-such-gnuplot: not found on PATH" },
        { "/dev/null", "/dev/null: not a regular file" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_expect_eq(RUN("report", result, "--gnuplot", cases[i][0], "-o", page), 2, "%s: %s",
                     cases[i][0], out);
        cr_expect(strstr(out, cases[i][1]), "%s: %s", cases[i][0], out);
        cr_expect(strncmp(out, "pendbench report: ", 18) == 0 && !strstr(out, "warning"), "%s",
                  out);
        cr_expect_neq(access(page, F_OK), 0, "%s: a page was written", cases[i][0]);
    }
    /* gnuplot merely absent from PATH, not asked for: the tables and a warning. */
    cr_assert_eq(setenv("PATH", "/nonexistent", 1), 0);
    cr_expect_eq(RUN("report", result, "-o", page), 0, "%s", out);
    cr_expect(strstr(out, "pendbench report: warning: ") && strstr(out, ": charts need gnuplot"),
              "%s", out);
}

/* An XML topology on which hwloc 2.9 itself segfaults (`lstopo -i` does):
 * the verbs say so and exit 2, they never crash. */
Test(cli_files, a_topology_xml_that_crashes_hwloc_is_exit_2)
{
    char xml[PATH_MAX + 64];
    snprintf(xml, sizeof xml, "%s/workloads/test/data/crash-no-complete-cpuset.xml", root);
    cr_assert_eq(access(xml, R_OK), 0, "%s (run the tests from the checkout)", xml);
    cr_expect_eq(RUN("topo", "--topology-xml", xml), 2, "%s", out);
    cr_expect(strstr(out, "crash-no-complete-cpuset.xml") && strstr(out, "malformed"), "%s", out);
    cr_expect_eq(RUN("run", "--topology-xml", xml, "--ops", "100", "--no-history"), 2, "%s", out);
    cr_expect(strstr(out, "malformed"), "%s", out);
}

/* An XML topology whose sets are no sets, or whose sets leave no PU:
 * pendbench's message alone (hwloc printed "hwloc: Topology does not
 * contain any PU, aborting!" first, and pendbench a stale errno). */
Test(cli_files, a_topology_xml_without_usable_pus_is_one_clear_error)
{
    char xml[PATH_MAX + 64], bad[PATH_MAX + 16];
    snprintf(xml, sizeof xml, "%s/workloads/test/data/asymmetric.xml", root);
    snprintf(bad, sizeof bad, "%s/bad.xml", dir);
    FILE *in = fopen(xml, "r");
    cr_assert_not_null(in, "%s (run the tests from the checkout)", xml);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[len] = '\0';
    const char *old = "allowed_cpuset=\"0x000000ff\"";
    char *at = strstr(text, old);
    cr_assert_not_null(at);
    const char *const sets[][2] = {
        { "allowed_cpuset=\"zzzz\"", "line 4 has allowed_cpuset=\"zzzz\", which is not a set" },
        { "allowed_cpuset=\"0x00000000\"", "bad.xml': it has no PU (processing unit)" },
    };
    for (size_t i = 0; i < 2; i++) {
        FILE *o = fopen(bad, "w");
        cr_assert_not_null(o);
        fprintf(o, "%.*s%s%s", (int)(at - text), text, sets[i][0], at + strlen(old));
        fclose(o);
        cr_expect_eq(RUN("topo", "--topology-xml", bad), 2, "%s", out);
        cr_expect(strncmp(out, "pendbench topo: --topology-xml: ", 32) == 0, "%s", out);
        cr_expect(strstr(out, sets[i][1]) && strstr(out, "(see `pendbench topo --help`)"), "%s",
                  out);
        cr_expect(!strstr(out, "hwloc:") && !strstr(out, "aborting") &&
                  !strstr(out, "No such file"), "%s", out);
    }
}

/* An XML topology cut short: a clear error and exit 2. In the
 * AddressSanitizer build, LeakSanitizer reported the objects libhwloc
 * leaks when it gives up on such a file, and the exit status became 1. */
Test(cli_files, a_truncated_topology_xml_is_exit_2_without_a_leak_report)
{
    char xml[PATH_MAX + 64], cut[PATH_MAX + 16];
    snprintf(xml, sizeof xml, "%s/workloads/test/data/magny-cours-2x2.xml", root);
    snprintf(cut, sizeof cut, "%s/cut.xml", dir);
    FILE *in = fopen(xml, "r");
    cr_assert_not_null(in, "%s (run the tests from the checkout)", xml);
    static char buf[8192];
    size_t len = fread(buf, 1, sizeof buf, in);
    fclose(in);
    cr_assert_gt(len, 4000);
    /* Where hwloc gives up decides whether it leaks (1500 and 2500 bytes
     * of this file did): cuts all along it. */
    for (size_t n = 250; n < len - 50; n += 250) {
        FILE *o = fopen(cut, "w");
        cr_assert_not_null(o);
        cr_assert_eq(fwrite(buf, 1, n, o), n);
        fclose(o);
        cr_expect_eq(RUN("topo", "--topology-xml", cut), 2, "cut at %zu: %s", n, out);
        cr_expect(strstr(out, "cut.xml") && !strstr(out, "LeakSanitizer") &&
                  !strstr(out, "Suppressions used"), "cut at %zu: %s", n, out);
    }
}

/* A PU without os_index made hwloc build 512 MB bitmaps and the verbs went
 * on as if nothing was wrong (exit 0, 0.5 to 1.5 GB resident): now they
 * name the object and exit 2. */
Test(cli_files, a_topology_xml_pu_without_os_index_is_exit_2)
{
    char xml[PATH_MAX + 64];
    snprintf(xml, sizeof xml, "%s/workloads/test/data/pu-without-os-index.xml", root);
    cr_assert_eq(access(xml, R_OK), 0, "%s (run the tests from the checkout)", xml);
    cr_expect_eq(RUN("topo", "--topology-xml", xml), 2, "%s", out);
    cr_expect(strstr(out, "pu-without-os-index.xml") &&
              strstr(out, "the PU L#3 on line 17 has no os_index") &&
              strstr(out, "lstopo --of xml FILE.xml"), "%s", out);
    cr_expect_eq(RUN("run", "--topology-xml", xml, "--ops", "100", "--no-history"), 2, "%s", out);
    cr_expect(strstr(out, "has no os_index"), "%s", out);
}
