/* pendbench-micro: the microbenchmarks (Google Benchmark, through
 * bench/gbench). Every Google Benchmark flag works unchanged; one flag is
 * ours:
 *
 *   --summary   after the run, print the ratios the project tracks
 *               (magazine vs jemalloc, per-CPU queues vs the baselines, xchg
 *               vs an atomic exchange, global-lock vs xchg, the c2c round
 *               trip, the locks side by side against the baseline lock),
 *               computed from this run's results. They are read back
 *               from Google Benchmark's JSON output: the --benchmark_out file
 *               when one is given (it must then be JSON, the default), else
 *               a temporary file removed at exit.
 *   --plugin PATH  also time a plugin's strategy (pendbench_plugin.h): its
 *               fast paths under the same names as a built-in's
 *               (kind/its-name/operation...); may be given more than once.
 *
 * Every argument is checked before anything runs (check_args).
 *
 * Exit status:
 *   0  after a run. A benchmark that failed says so in the run's output
 *      and, with --summary, as "failed"; the summary's targets are
 *      reports, not assertions (summary.c).
 *   2  bad input: a command line refused before anything runs (an unknown
 *      flag, as gb_main; a flag's value Google Benchmark would misuse:
 *      gb_check_flags; a plugin that does not load; a --benchmark_out
 *      that is a plugin it loads; a $TMPDIR where --summary cannot make
 *      its file; --summary with a --benchmark_out that is not a regular
 *      file, which it could not read back), no
 *      benchmark ran, or the results file cannot be read back whole (--summary
 *      reads it; without it, a --benchmark_out file is read back too: JSON
 *      must parse, console and CSV end in a whole line). The run wrote that
 *      file itself, so a file that is missing, empty or not Google
 *      Benchmark's output afterwards was changed under the run, or cut
 *      short (a full disk: the library does not check its writes): the
 *      results are lost or damaged, and ratios from them would be wrong. No
 *      benchmark failed.
 *   1  out of memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "micro.h"
#include "pb_file.h"
#include "pendbench_plugin.h"

static char *tmp_path; /* --summary's file when no --benchmark_out is given */

static void remove_tmp(void)
{
    if (tmp_path) {
        unlink(tmp_path);
        free(tmp_path);
        tmp_path = NULL;
    }
}

/* Creates tmp_path, in $TMPDIR (/tmp when it is unset or empty), whatever
 * its length: a TMPDIR that cannot hold the file is the user's to fix, not
 * one to replace silently by /tmp. 0, or -1 after saying why. */
static int make_tmp_out(const char *prog)
{
    const char *dir = getenv("TMPDIR");
    bool from_env = dir && dir[0];
    if (!from_env)
        dir = "/tmp";
    size_t size = strlen(dir) + sizeof "/pendbench-micro-XXXXXX.json";
    tmp_path = malloc(size);
    if (!tmp_path) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    snprintf(tmp_path, size, "%s/pendbench-micro-XXXXXX.json", dir);
    int fd = mkstemps(tmp_path, 5);
    if (fd < 0) {
        int e = errno;
        fprintf(stderr, "%s: --summary: cannot create its temporary file in %s%s: %s "
                        "(set TMPDIR to a writable directory, or give --benchmark_out=FILE)\n",
                prog, from_env ? "$TMPDIR=" : "", dir, strerror(e));
        free(tmp_path);
        tmp_path = NULL;
        return -1;
    }
    close(fd);
    atexit(remove_tmp);
    return 0;
}

static const char *flag_value(const char *arg, const char *flag)
{
    size_t n = strlen(flag);
    return strncmp(arg, flag, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static void usage_extra(void)
{
    printf("pendbench-micro: microbenchmarks of pendbench's strategies and floors.\n"
           "Names: kind/strategy/operation[/direct|/ops][/threads:N]; list them with\n"
           "--benchmark_list_tests=true, pick with --benchmark_filter=REGEX.\n"
           "Own flags:\n"
           "  --summary   print the tracked ratios of this run after it (see README)\n"
           "  --plugin PATH  also time a plugin strategy's fast paths (./x.so)\n"
           "Exit status: 0 ran (the summary asserts nothing); 2 bad input: refused\n"
           "before running, no benchmark ran, or the results file (--summary's, or a\n"
           "--benchmark_out) could not be read back whole (changed during the run, or\n"
           "the disk full); 1 out of memory.\n"
           "Google Benchmark's flags (its version 1.7 takes --benchmark_min_time in\n"
           "plain seconds: 0.5, not 0.5s):\n");
    fflush(stdout);
}

/* "PROG: --benchmark_out=FILE: " or, from the environment,
 * "PROG: BENCHMARK_OUT=FILE (environment): ", as gb_check_flags names it. */
static void say_out(const char *prog, const char *out, bool out_from_env)
{
    fprintf(stderr, out_from_env ? "%s: BENCHMARK_OUT=%s (environment): " : "%s: --benchmark_out=%s: ",
            prog, out);
}

/* Every check of the command line that needs no benchmark to run, in one
 * place, after the registrations (the filter selects among them) and the
 * plugins' loading, before anything runs; for --summary without an output
 * file, it makes tmp_path, which checks $TMPDIR. 0, or -1 after one line
 * on stderr. */
static int check_args(int argc, char **argv, bool summary, const char *out, bool out_from_env,
                      const char *out_format)
{
    if (summary && out && out_format && out_format[0] && strcmp(out_format, "json") != 0) {
        fprintf(stderr, "%s: --summary reads the results as JSON: use --benchmark_out_format=json "
                        "with --benchmark_out (or no --benchmark_out)\n", argv[0]);
        return -1;
    }
    /* The summary reads the file back after the run: from a device or a
     * FIFO that gives nothing (/dev/null), something else (/dev/stdout) or
     * waits for a writer, never the results. */
    struct stat sb;
    if (summary && out && stat(out, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        say_out(argv[0], out, out_from_env);
        fprintf(stderr, "--summary reads the results back from that file, and it is not a "
                        "regular file: give a file (or no --benchmark_out)\n");
        return -1;
    }
    /* The library empties the file as the run starts: a plugin loaded
     * from it is then gone, and its mapped code a SIGBUS. */
    const char *plugin;
    for (unsigned i = 0; out && (plugin = pb_plugin_path_at(i)) != NULL; i++)
        if (pb_same_file(out, plugin)) {
            /* The plugin's own spelling, when it differs: which file it is. */
            bool spelled = strcmp(out, plugin) != 0;
            say_out(argv[0], out, out_from_env);
            fprintf(stderr, "that is a plugin it loads%s%s%s: the results would replace it\n",
                    spelled ? " (" : "", spelled ? plugin : "", spelled ? ")" : "");
            return -1;
        }
    if (!gb_check_flags(argc, argv))
        return -1;
    if (summary && !out && make_tmp_out(argv[0]) != 0)
        return -1;
    return 0;
}

/* Loads a plugin and registers its benchmarks; 0, or -1 after saying why. */
static int add_plugin(const char *prog, const char *path)
{
    char err[512];
    const void *ops = path && *path ? pb_plugin_load(path, PB_PLUGIN_ANY, err, sizeof err) : NULL;
    if (!ops) {
        fprintf(stderr, "%s: --plugin: %s\n", prog, path && *path ? err : "needs a path");
        return -1;
    }
    switch (pb_plugin_kind_of(path)) {
    case PB_PLUGIN_POOL: micro_register_pool(ops); break;
    case PB_PLUGIN_QUEUE: micro_register_queue(ops); break;
    case PB_PLUGIN_HANDOFF: micro_register_handoff(ops); break;
    default: return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bool summary = false, help = false;
    const char *out = getenv("BENCHMARK_OUT");          /* Google Benchmark's defaults */
    bool out_from_env = out != NULL;
    const char *out_format = getenv("BENCHMARK_OUT_FORMAT");
    const char *console_format = getenv("BENCHMARK_FORMAT");
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (strcmp(argv[i], "--summary") == 0)
            summary = true;
        else if (strcmp(argv[i], "--help") == 0)
            help = true;
        else if ((v = flag_value(argv[i], "--benchmark_out"))) {
            out = v;
            out_from_env = false;
        }
        else if ((v = flag_value(argv[i], "--benchmark_out_format")))
            out_format = v;
        else if ((v = flag_value(argv[i], "--benchmark_format")))
            console_format = v;
    }
    if (out && !out[0])
        out = NULL;
    if (help)
        usage_extra(); /* then Google Benchmark's, from gb_initialize, which exits */

    /* argv plus, for --summary without an output file, our own. */
    char **args = calloc((size_t)argc + 3, sizeof *args);
    if (!args) {
        fprintf(stderr, "%s: out of memory\n", argv[0]);
        return 1;
    }
    int nargs = argc;
    memcpy(args, argv, (size_t)argc * sizeof *args);
    int rc = 2;

    micro_affinity_init();
    micro_register_floors();
    micro_register_pools();
    micro_register_queues();
    micro_register_handoffs();
    micro_register_locks();
    micro_register_direct_pool();
    micro_register_direct_queue();
    micro_register_direct_handoff();
    micro_register_model();
    for (int i = 1; i < argc; i++) {
        const char *path = flag_value(argv[i], "--plugin");
        if (!path && strcmp(argv[i], "--plugin") == 0)
            path = i + 1 < argc ? argv[++i] : "";
        if (path && add_plugin(argv[0], path) != 0)
            goto done;
    }
    char buf[32];
    snprintf(buf, sizeof buf, "%u", micro_cpus_allowed());
    gb_add_custom_context("pendbench_cpus_allowed", buf);
    snprintf(buf, sizeof buf, "%u", (unsigned)MICRO_OBJECT_SIZE);
    gb_add_custom_context("pendbench_object_size", buf);

    if (!help && check_args(argc, argv, summary, out, out_from_env, out_format) != 0)
        goto done;

    static char out_format_flag[] = "--benchmark_out_format=json";
    char *out_flag = NULL;
    if (tmp_path) {
        size_t size = strlen(tmp_path) + sizeof "--benchmark_out=";
        out_flag = malloc(size);
        if (!out_flag) {
            fprintf(stderr, "%s: out of memory\n", argv[0]);
            rc = 1;
            goto done;
        }
        snprintf(out_flag, size, "--benchmark_out=%s", tmp_path);
        args[nargs++] = out_flag;
        args[nargs++] = out_format_flag;
        out = tmp_path;
    }
    args[nargs] = NULL;

    gb_initialize(&nargs, args);
    free(out_flag); /* the library keeps its own copy */
    /* What is left is ours, or unknown. */
    int kept = 1;
    for (int i = 1; i < nargs; i++) {
        if (strcmp(args[i], "--plugin") == 0) {
            i++;                   /* its path */
            continue;
        }
        if (strcmp(args[i], "--summary") != 0 && !flag_value(args[i], "--plugin"))
            args[kept++] = args[i];
    }
    nargs = kept;
    args[nargs] = NULL;
    if (gb_report_unrecognized(nargs, args)) {
        fprintf(stderr, "%s: Google Benchmark's flags look like --benchmark_filter=REGEX; "
                        "ours are --summary and --plugin PATH; see --help\n", argv[0]);
        goto done;
    }
    size_t ran = gb_run_benchmarks(NULL);
    bool listing = gb_listing_only();
    gb_shutdown();
    micro_ctx_free_all();
    free(args);
    if (ran == 0) {
        /* Google Benchmark or gb_run_benchmarks has said why. */
        fprintf(stderr, "%s: no benchmark ran\n", argv[0]);
        return 2;
    }
    rc = 0;
    if (!summary && out && !listing) {
        /* The library does not check its writes: a full disk left the
         * file cut short (or empty) and the run said nothing. */
        int check = micro_results_check(out, out_format);
        if (check != 0)
            return check > 0 ? 1 : 2;
    }
    if (summary) {
        /* Keep a machine-readable console output clean. */
        bool console = !console_format || !console_format[0] ||
                       strcmp(console_format, "console") == 0;
        FILE *to = console ? stdout : stderr;
        fflush(stdout);
        if (listing)
            fprintf(to, "%s: --summary: nothing was measured (--benchmark_list_tests)\n", argv[0]);
        else if ((rc = micro_summary(out, to)) < 0)
            rc = 2; /* the results file is damaged: micro_summary said how */
    }
    return rc;
done:
    gb_shutdown();
    micro_ctx_free_all();
    free(args);
    return rc;
}
