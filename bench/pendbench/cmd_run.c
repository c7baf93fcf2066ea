/* The verbs that run scenarios: the default suite, run, sweep. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "pb_history.h"
#include "pb_html.h"
#include "pb_result.h"
#include "pb_tsc.h"

/* ---- history: every invocation is also recorded (pb_history.h) ---------------- */

static struct {
    bool off;                  /* --no-history */
    const char *db;            /* --history-db; NULL: PB_HISTORY_DEFAULT */
    char command[512];         /* the command line, for the record */
} history;

/* --no-history / --history-db PATH, for the suite, run and sweep. Returns 1
 * handled (advancing *i), 0 not mine, -1 error (printed). */
static int history_option(const char *verb, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "--no-history") == 0) {
        history.off = true;
        (*i)++;
        return 1;
    }
    if (strncmp(a, "--history-db", 12) != 0 || (a[12] != 0 && a[12] != '='))
        return 0;
    const char *value = a[12] == '=' ? a + 13 : (*i + 1 < argc ? argv[*i + 1] : NULL);
    if (!value || !*value) {
        fprintf(stderr, "pendbench %s: --history-db needs a file name\n", verb);
        return -1;
    }
    history.db = value;
    *i += a[12] == '=' ? 1 : 2;
    return 1;
}

static void note_command(int argc, char **argv)
{
    size_t used = (size_t)snprintf(history.command, sizeof history.command, "pendbench");
    for (int k = 0; k < argc && used < sizeof history.command; k++) {
        bool quote = strpbrk(argv[k], " \t\"'$\\") != NULL || !argv[k][0];
        used += (size_t)snprintf(history.command + used, sizeof history.command - used,
                                 quote ? " '%s'" : " %s", argv[k]);
    }
}

/* The context pb_save_results writes, for a record with no result file. */
static void history_context(struct pb_context *ctx, const struct pb_run_result *runs, unsigned n,
                            const struct pb_topo *topo)
{
    pb_context_collect(ctx, topo ? pb_topo_description(topo) : "machine");
    for (unsigned i = 0; i < n; i++) {
        if (runs[i].c2c_round_trip_ns > 0 && ctx->c2c_round_trip_ns == 0)
            ctx->c2c_round_trip_ns = runs[i].c2c_round_trip_ns;
        if (runs[i].timestamp_overhead_ns > 0 && ctx->timestamp_overhead_ns == 0)
            ctx->timestamp_overhead_ns = runs[i].timestamp_overhead_ns;
        if (runs[i].futex_wake_ns > 0 && ctx->futex_wake_ns == 0)
            ctx->futex_wake_ns = runs[i].futex_wake_ns;
        if (runs[i].partial)
            ctx->partial = true;
    }
    ctx->tsc_ticks_per_ns = pb_tsc_ticks_per_ns();
}

/* Called after the result file is written (or failed): a history that
 * cannot be written costs a warning, never the results or the exit status. */
static void record_history(const char *verb, const struct pb_run_result *runs, unsigned n,
                           const struct pb_topo *topo, const char *result_path)
{
    if (history.off || n == 0)
        return;
    const char *db = history.db ? history.db : PB_HISTORY_DEFAULT;
    if (!history.db && mkdir("results", 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "pendbench %s: history not recorded: cannot create results/: %s\n", verb,
                strerror(errno));
        return;
    }
    struct pb_context ctx;
    struct pb_result_doc doc;
    char err[512];
    /* The file's own context (its date, its calibration), when there is one. */
    if (result_path && pb_result_read(result_path, &doc, err, sizeof err) == 0)
        ctx = doc.ctx;
    else
        history_context(&ctx, runs, n, topo);
    if (result_path)
        pb_result_doc_free(&doc);
    if (!ctx.command[0])
        snprintf(ctx.command, sizeof ctx.command, "%s", history.command);
    /* Absolute, so the record still finds the file from another directory. */
    char *abs = result_path ? realpath(result_path, NULL) : NULL;
    if (pb_history_record(db, &ctx, runs, n, abs ? abs : result_path, err, sizeof err) != 0)
        fprintf(stderr, "pendbench %s: history not recorded: %s\n", verb, err);
    free(abs);
}

/* The default suite's report.html beside its result.json, drawn from the
 * file just written: a report that cannot be written costs a warning, never
 * the results or the exit status. */
static void write_suite_report(const char *verb, const char *result_path)
{
    char html[600], err[512];
    const char *slash = strrchr(result_path, '/');
    int dirlen = slash ? (int)(slash - result_path) + 1 : 0;
    snprintf(html, sizeof html, "%.*sreport.html", dirlen, result_path);
    struct pb_html_stats st;
    if (pb_html_report_file(result_path, html, NULL, &st, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench %s: warning: no report.html: %s\n", verb, err);
        return;
    }
    printf("report: %s\n", html);
    if (st.gnuplot_missing)
        fprintf(stderr, "pendbench %s: warning: the report has no charts: charts need gnuplot "
                        "(gnuplot-nox): %s\n", verb, st.note);
    else if (st.charts_failed)
        fprintf(stderr, "pendbench %s: warning: %u chart%s of the report could not be drawn: %s\n",
                verb, st.charts_failed, st.charts_failed == 1 ? "" : "s", st.note);
}

/* Runs the list; prints the table; saves. Returns the exit status. */
static int run_all(const char *verb, struct pb_scenario *sc, unsigned n, const int *baseline_of,
                   const struct pb_topo *topo, const struct pb_topo *const *topo_of,
                   const char *json_path, bool suite_dir, bool quiet, unsigned repeat)
{
    unsigned total = n * repeat;
    struct pb_run_result *res = calloc(total ? total : 1, sizeof *res);
    int *base = calloc(total ? total : 1, sizeof *base);
    if (!res || !base) {
        fprintf(stderr, "pendbench %s: out of memory\n", verb);
        free(res);
        free(base);
        return PB_EXIT_USAGE;
    }
    pb_install_sigint();
    struct pb_progress prog = { .enabled = !quiet && isatty(2), .total = total };
    struct pb_run_env env = { .topo = topo, .stop = &pb_interrupted,
                              .progress = pb_progress_cb, .progress_arg = &prog };
    unsigned done = 0;
    int status = PB_EXIT_OK;
    for (unsigned i = 0; i < n && !pb_interrupted; i++) {
        for (unsigned r = 0; r < repeat && !pb_interrupted; r++) {
            char label[96];
            snprintf(label, sizeof label, "%s %s/%s/%s", sc[i].name, sc[i].pool, sc[i].queue,
                     sc[i].handoff);
            prog.label = label;
            prog.index = done + 1;
            struct pb_run_result *out = &res[done];
            env.topo = topo_of && topo_of[i] ? topo_of[i] : topo;
            int rc = pb_run(&sc[i], &env, out);
            pb_progress_clear(&prog);
            if (rc != 0) {
                fprintf(stderr, "pendbench %s: %s: %s\n", verb, sc[i].name, out->error);
                pb_run_result_free(out);
                status = PB_EXIT_USAGE;
                continue;
            }
            out->repetition = r;
            base[done] = baseline_of && baseline_of[i] >= 0 ? -2 - baseline_of[i] : -1;
            if (!out->invariants.ok) {
                fprintf(stderr, "pendbench %s: %s: invariants FAILED: %s\n", verb, sc[i].name,
                        out->invariants.why);
                status = PB_EXIT_FAILED;
            }
            done++;
        }
    }
    /* Baselines by scenario index -> by result index (first repetition). */
    for (unsigned k = 0; k < done; k++) {
        if (base[k] == -1)
            continue;
        unsigned want = (unsigned)(-2 - base[k]);
        base[k] = -1;
        for (unsigned j = 0; j < done; j++)
            if (strcmp(res[j].scenario.name, sc[want].name) == 0 &&
                strcmp(res[j].scenario.pool, sc[want].pool) == 0 &&
                strcmp(res[j].scenario.queue, sc[want].queue) == 0 &&
                strcmp(res[j].scenario.handoff, sc[want].handoff) == 0 &&
                res[j].repetition == res[k].repetition) {
                base[k] = (int)j;
                break;
            }
    }
    if (done) {
        printf("\n");
        pb_print_table(stdout, res, done, base);
        const struct pb_run_result *f = &res[0];
        char a[16], b[16], c[16];
        printf("\nfloors: c2c round trip %s (CPUs %d,%d), timestamp %s, futex wake-to-run %s; "
               "instrumentation %.1f ns/op\n",
               f->c2c_round_trip_ns > 0 ? pb_fmt_ns(f->c2c_round_trip_ns, a, sizeof a) : "n/a",
               f->c2c_os_cpu_a, f->c2c_os_cpu_b, pb_fmt_ns(f->timestamp_overhead_ns, b, sizeof b),
               f->futex_wake_ns > 0 ? pb_fmt_ns(f->futex_wake_ns, c, sizeof c) : "n/a",
               f->instrumentation_ns_per_op);
        printf("latency is pend-to-completion; 'vs base' is throughput against the group's "
               "baseline; p50/c2c is p50 over the measured round trip\n");
    }
    if (pb_interrupted)
        fprintf(stderr, "pendbench %s: interrupted: %u of %u runs measured, saved as partial\n",
                verb, done, total);
    char written[512] = "";
    if ((json_path || suite_dir) && done) {
        if (pb_save_results(json_path, suite_dir, res, done, topo, written, sizeof written) != 0 &&
            status == PB_EXIT_OK)
            status = PB_EXIT_FAILED;
        else if (written[0])
            printf("results: %s\n", written);
        if (suite_dir && written[0])
            write_suite_report(verb, written);
    }
    record_history(verb, res, done, topo, written[0] ? written : NULL);
    for (unsigned k = 0; k < done; k++)
        pb_run_result_free(&res[k]);
    free(res);
    free(base);
    if (pb_interrupted && status == PB_EXIT_OK)
        status = 130;
    return status;
}

/* Options common to run / sweep / the suite. Returns 1 handled, 0 not
 * mine, -1 error (printed). */
static int scenario_option(const char *verb, const char *key, const char *value,
                           struct pb_scenario *sc)
{
    for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++) {
        if (strcmp(o->name, key) != 0)
            continue;
        if (!value) {
            fprintf(stderr, "pendbench %s: --%s needs a value (%s)\n", verb, key, o->syntax);
            return -1;
        }
        char err[256];
        if (pb_scenario_set(sc, key, value, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench %s: --%s: %s\n", verb, key, err);
            return -1;
        }
        return 1;
    }
    return 0;
}

static void print_scenario_options(FILE *f)
{
    fprintf(f, "scenario options (also the keys of job files):\n");
    for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++)
        fprintf(f, "  --%-16s %-28s %s\n", o->name, o->syntax, o->help);
}

/* ---- run ---------------------------------------------------------------------- */

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench run [--scenario NAME | JOBFILE] [OPTIONS] [--repeat N]\n"
            "                     [--json FILE] [--topology DESC | --topology-xml FILE] [--quiet]\n"
            "                     [--no-history | --history-db PATH]\n"
            "\n"
            "Runs one scenario: a built-in (see `pendbench list`), the jobs of an INI job\n"
            "file ([global] plus one section per job; keys are the option names below),\n"
            "or the defaults changed by options. Options given before JOBFILE apply to\n"
            "every job; a job's own keys override them. --repeat runs each job N times\n"
            "(compare uses the repetitions for significance). --json writes the result\n"
            "file (atomically; '-' for stdout). Every invocation is also recorded in\n"
            "the history database, " PB_HISTORY_DEFAULT " (--history-db PATH: another;\n"
            "--no-history: not at all), for `pendbench history` and `compare --baseline`.\n\n");
    print_scenario_options(f);
}

int pb_cmd_run(int argc, char **argv)
{
    note_command(argc, argv);
    struct pb_scenario base;
    pb_scenario_defaults(&base);
    struct pb_topo *topo = NULL;
    const char *json = NULL, *jobfile = NULL;
    unsigned repeat = 1;
    bool quiet = false;
    char key[64];
    const char *value;
    for (int i = 1; i < argc;) {
        if (argv[i][0] != '-') {
            if (jobfile) {
                fprintf(stderr, "pendbench run: one job file at a time ('%s', '%s')\n", jobfile, argv[i]);
                goto usage_err;
            }
            jobfile = argv[i++];
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            run_usage(stdout);
            pb_topo_free(topo);
            return PB_EXIT_OK;
        }
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
            i++;
            continue;
        }
        int h = history_option("run", argc, argv, &i);
        if (h < 0)
            goto usage_err;
        if (h > 0)
            continue;
        if (pb_next_option(argc, argv, &i, "run", key, sizeof key, &value) != 0)
            goto usage_err;
        int t = pb_topology_option(key, value, &topo);
        if (t < 0)
            goto usage_err;
        if (t > 0)
            continue;
        if (strcmp(key, "json") == 0) {
            if (!value) {
                fprintf(stderr, "pendbench run: --json needs a file name (or '-')\n");
                goto usage_err;
            }
            json = value;
        } else if (strcmp(key, "repeat") == 0) {
            char *end;
            unsigned long v = value ? strtoul(value, &end, 10) : 0;
            if (!value || *end || v < 1 || v > 1000 || value[0] == '-') {
                fprintf(stderr, "pendbench run: --repeat wants a count from 1 to 1000\n");
                goto usage_err;
            }
            repeat = (unsigned)v;
        } else {
            int s = scenario_option("run", key, value, &base);
            if (s < 0)
                goto usage_err;
            if (s == 0) {
                fprintf(stderr, "pendbench run: unknown option '--%s' (see `pendbench run --help`)\n", key);
                goto usage_err;
            }
        }
    }
    struct pb_scenario *jobs = NULL;
    int njobs = 1;
    char err[512];
    if (jobfile) {
        njobs = pb_jobfile_load(jobfile, &base, &jobs, err, sizeof err);
        if (njobs < 0) {
            fprintf(stderr, "pendbench run: %s\n", err);
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
    } else {
        if (pb_scenario_validate(&base, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench run: %s\n", err);
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        jobs = malloc(sizeof *jobs);
        if (!jobs) {
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        jobs[0] = base;
    }
    /* Several jobs: the first is the baseline of the 'vs base' column. */
    int *first = njobs > 1 ? calloc((size_t)njobs, sizeof *first) : NULL;
    int st = run_all("run", jobs, (unsigned)njobs, first, topo, NULL, json, false, quiet, repeat);
    free(first);
    free(jobs);
    pb_topo_free(topo);
    return st;
usage_err:
    pb_topo_free(topo);
    fprintf(stderr, "(see `pendbench run --help`)\n");
    return PB_EXIT_USAGE;
}

/* ---- sweep ------------------------------------------------------------------- */

static void sweep_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench sweep [--pools a,b] [--queues a,b] [--handoffs a,b]\n"
            "                       [--threads 1,2,4] [--scenario NAME] [OPTIONS] [--json FILE]\n"
            "\n"
            "Runs one scenario (default: steady) for every combination of the listed\n"
            "strategies and thread counts (--threads sets requesters = workers = N).\n"
            "A list may be 'all'. Unlisted kinds keep the scenario's strategy. The\n"
            "first combination is the baseline of the 'vs base' column. The runs are\n"
            "recorded in " PB_HISTORY_DEFAULT " (--history-db PATH: another;\n"
            "--no-history: not at all).\n");
}

static int split_list(const char *verb, const char *key, const char *value, char out[][PB_NAME_MAX],
                      unsigned max, const char *kind)
{
    if (!value || !*value) {
        fprintf(stderr, "pendbench %s: --%s needs a comma-separated list\n", verb, key);
        return -1;
    }
    unsigned n = 0;
    if (strcmp(value, "all") == 0 && kind) {
        for (size_t i = 0;; i++) {
            const char *name = strcmp(kind, "pool") == 0 ? (pb_pools[i] ? pb_pools[i]->name : NULL)
                             : strcmp(kind, "queue") == 0 ? (pb_queues[i] ? pb_queues[i]->name : NULL)
                             : (pb_handoffs[i] ? pb_handoffs[i]->name : NULL);
            if (!name || n >= max)
                break;
            if (strcmp(kind, "handoff") == 0 && pb_handoffs[i]->broken)
                continue;
            snprintf(out[n++], PB_NAME_MAX, "%s", name);
        }
        return (int)n;
    }
    const char *p = value;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= PB_NAME_MAX || n >= max) {
            fprintf(stderr, "pendbench %s: --%s: bad list '%s'\n", verb, key, value);
            return -1;
        }
        memcpy(out[n], p, len);
        out[n][len] = 0;
        n++;
        p = c ? c + 1 : p + len;
    }
    return (int)n;
}

int pb_cmd_sweep(int argc, char **argv)
{
    note_command(argc, argv);
    struct pb_scenario base;
    char err[512];
    pb_scenario_builtin(&base, "steady", err, sizeof err);
    base.duration_s = 1.0;
    struct pb_topo *topo = NULL;
    const char *json = NULL;
    bool quiet = false;
    char pools[32][PB_NAME_MAX], queues[32][PB_NAME_MAX], handoffs[32][PB_NAME_MAX];
    int np = 0, nq = 0, nh = 0, nt = 0;
    unsigned threads[16];
    char key[64];
    const char *value;
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            sweep_usage(stdout);
            print_scenario_options(stdout);
            pb_topo_free(topo);
            return PB_EXIT_OK;
        }
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
            i++;
            continue;
        }
        int h = history_option("sweep", argc, argv, &i);
        if (h < 0)
            goto usage_err;
        if (h > 0)
            continue;
        if (pb_next_option(argc, argv, &i, "sweep", key, sizeof key, &value) != 0)
            goto usage_err;
        int t = pb_topology_option(key, value, &topo);
        if (t < 0)
            goto usage_err;
        if (t > 0)
            continue;
        if (strcmp(key, "pools") == 0) {
            if ((np = split_list("sweep", key, value, pools, 32, "pool")) < 0)
                goto usage_err;
        } else if (strcmp(key, "queues") == 0) {
            if ((nq = split_list("sweep", key, value, queues, 32, "queue")) < 0)
                goto usage_err;
        } else if (strcmp(key, "handoffs") == 0) {
            if ((nh = split_list("sweep", key, value, handoffs, 32, "handoff")) < 0)
                goto usage_err;
        } else if (strcmp(key, "threads") == 0) {
            char tl[16][PB_NAME_MAX];
            int n = split_list("sweep", key, value, tl, 16, NULL);
            if (n < 0)
                goto usage_err;
            for (int k = 0; k < n; k++) {
                char *end;
                unsigned long v = strtoul(tl[k], &end, 10);
                if (*end || v < 1 || v > 256 || tl[k][0] == '-') {
                    fprintf(stderr, "pendbench sweep: --threads: '%s' is not a count from 1 to 256\n", tl[k]);
                    goto usage_err;
                }
                threads[k] = (unsigned)v;
            }
            nt = n;
        } else if (strcmp(key, "json") == 0) {
            if (!value)
                goto usage_err;
            json = value;
        } else {
            int s = scenario_option("sweep", key, value, &base);
            if (s < 0)
                goto usage_err;
            if (s == 0) {
                fprintf(stderr, "pendbench sweep: unknown option '--%s'\n", key);
                goto usage_err;
            }
        }
    }
    if (!np) { snprintf(pools[0], PB_NAME_MAX, "%s", base.pool); np = 1; }
    if (!nq) { snprintf(queues[0], PB_NAME_MAX, "%s", base.queue); nq = 1; }
    if (!nh) { snprintf(handoffs[0], PB_NAME_MAX, "%s", base.handoff); nh = 1; }
    if (!nt) { threads[0] = base.requesters; nt = 1; }
    unsigned n = (unsigned)(np * nq * nh * nt);
    struct pb_scenario *sc = calloc(n, sizeof *sc);
    int *baseline = calloc(n, sizeof *baseline);
    unsigned k = 0;
    for (int t = 0; t < nt; t++)
        for (int a = 0; a < np; a++)
            for (int b = 0; b < nq; b++)
                for (int c = 0; c < nh; c++) {
                    struct pb_scenario s = base;
                    if (pb_scenario_set(&s, "pool", pools[a], err, sizeof err) ||
                        pb_scenario_set(&s, "queue", queues[b], err, sizeof err) ||
                        pb_scenario_set(&s, "handoff", handoffs[c], err, sizeof err)) {
                        fprintf(stderr, "pendbench sweep: %s\n", err);
                        free(sc);
                        free(baseline);
                        goto usage_err;
                    }
                    s.requesters = s.workers = threads[t];
                    baseline[k] = (int)(k - (k % (unsigned)(np * nq * nh)));
                    sc[k++] = s;
                }
    int st = run_all("sweep", sc, n, baseline, topo, NULL, json, false, quiet, 1);
    free(sc);
    free(baseline);
    pb_topo_free(topo);
    return st;
usage_err:
    pb_topo_free(topo);
    fprintf(stderr, "(see `pendbench sweep --help`)\n");
    return PB_EXIT_USAGE;
}

/* ---- the default suite ------------------------------------------------------------ */

static void suite_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench [--quick] [--quiet] [--json FILE] [--no-history | --history-db PATH]\n"
            "\n"
            "The default suite: every built-in scenario, and the strategies that matter\n"
            "side by side (queues against the global-mutex baseline, pools against\n"
            "malloc, handoffs against the global cancel lock), with the floors measured in\n"
            "the same run. About a minute on 2 cores (--quick: about 15 s). Writes\n"
            "results/<timestamp>/result.json and report.html beside it, and points\n"
            "results/latest at that folder (--json FILE writes the result there\n"
            "instead). The cross-node scenario runs on a simulated\n"
            "two-node topology when the machine has one node. Every invocation is also\n"
            "recorded in the history database, " PB_HISTORY_DEFAULT " (--history-db\n"
            "PATH: another; --no-history: not at all), for `pendbench history` and\n"
            "`pendbench compare --baseline last|COMMIT`.\n");
}

int pb_cmd_suite(int argc, char **argv)
{
    note_command(argc, argv);
    bool quick = false, quiet = false;
    const char *json = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            suite_usage(stdout);
            return PB_EXIT_OK;
        } else if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strncmp(argv[i], "--no-history", 12) == 0 ||
                   strncmp(argv[i], "--history-db", 12) == 0) {
            int h = history_option("suite", argc, argv, &i);
            if (h <= 0) {
                if (h == 0)
                    fprintf(stderr, "pendbench: unknown option '%s' (see `pendbench --help`)\n",
                            argv[i]);
                return PB_EXIT_USAGE;
            }
            i--;               /* the loop's i++ */
        } else {
            fprintf(stderr, "pendbench: unknown option '%s' (see `pendbench --help`)\n", argv[i]);
            return PB_EXIT_USAGE;
        }
    }
    double dur = quick ? 0.4 : 1.6;
    struct pb_scenario sc[40];
    int baseline[40];
    unsigned n = 0;
    char err[512];
    /* Groups: (scenario, kind, strategies...); the first of a group is its baseline. */
    static const char *const queues[] = { "global-mutex", "global-spin", "percpu-mutex",
                                          "percpu-mpsc", "percpu-ring", "percpu-steal", "ck-ring",
                                          "urcu-wfcq" };
    static const char *const pools[] = { "malloc", "locked-list", "jemalloc", "lifo", "magazine" };
    static const char *const handoffs[] = { "global-lock", "op-lock", "cas", "xchg" };
    struct { const char *scenario, *kind; const char *const *names; unsigned count; } groups[] = {
        { "steady", "queue", queues, sizeof queues / sizeof queues[0] },
        { "steady", "pool", pools, sizeof pools / sizeof pools[0] },
        { "cancel-race", "handoff", handoffs, sizeof handoffs / sizeof handoffs[0] },
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        unsigned first = n;
        for (unsigned k = 0; k < groups[g].count; k++) {
            if (quick && k > 0 && k + 1 < groups[g].count)
                continue;            /* --quick: the baseline and the default only */
            struct pb_scenario s;
            if (pb_scenario_builtin(&s, groups[g].scenario, err, sizeof err) != 0 ||
                pb_scenario_set(&s, groups[g].kind, groups[g].names[k], err, sizeof err) != 0) {
                fprintf(stderr, "pendbench: suite: %s\n", err);
                return PB_EXIT_USAGE;
            }
            s.duration_s = dur;
            baseline[n] = (int)first;
            sc[n++] = s;
        }
    }
    for (const struct pb_builtin *b = pb_builtins; b->name; b++) {
        if (strcmp(b->name, "steady") == 0 || strcmp(b->name, "cancel-race") == 0 ||
            strcmp(b->name, "cross-node") == 0)
            continue;
        if (pb_scenario_builtin(&sc[n], b->name, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench: suite: %s\n", err);
            return PB_EXIT_USAGE;
        }
        sc[n].duration_s = dur;
        baseline[n] = -1;
        n++;
    }
    /* cross-node needs two nodes: on a one-node machine, it runs on a
     * simulated two-node topology folded onto this machine's CPUs. */
    const struct pb_topo *topo_of[40] = { 0 };
    struct pb_topo *machine = NULL, *sim = NULL;
    if (pb_topo_load(&machine, PB_TOPO_MACHINE, NULL, err, sizeof err) == 0 &&
        pb_scenario_builtin(&sc[n], "cross-node", err, sizeof err) == 0) {
        if (pb_topo_nnodes(machine) < 2 &&
            pb_topo_load(&sim, PB_TOPO_SYNTHETIC, "pack:1 numa:2 core:2 pu:1", err, sizeof err) == 0)
            topo_of[n] = sim;
        sc[n].duration_s = dur;
        baseline[n] = -1;
        n++;
    }
    int st = run_all("suite", sc, n, baseline, NULL, topo_of, json, json == NULL, quiet, 1);
    if (sim)
        printf("cross-node ran on the simulated topology 'pack:1 numa:2 core:2 pu:1'\n");
    pb_topo_free(sim);
    pb_topo_free(machine);
    return st;
}
