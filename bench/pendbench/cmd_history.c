/* pendbench history: the trend of one figure across the runs recorded in
 * the history (pb_history.h; the suite, run and sweep record there unless
 * --no-history), its change points, and moving results in and out:
 * `history import` records result files made elsewhere, `history export`
 * writes the series for dashboards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "pb_err.h"
#include "pb_export.h"
#include "pb_history.h"
#include "pb_html.h"
#include "pb_scenario.h"

static const char history_usage[] =
    "pendbench history [FILTERS] [--limit N] [--json | --html FILE [--no-charts]\n"
    "                  [--gnuplot PROGRAM]] [--history-db DB]\n"
    "       pendbench history --changes [FILTERS] [--gate] [--threshold PCT]\n"
    "                         [--alpha A] [--seed N] [--json] [--history-db DB]\n"
    "       pendbench history export [FILTERS] [--format csv|json] [--history-db DB]\n"
    "       pendbench history import [--history-db DB] RESULT.json...\n"
    "FILTERS: [--scenario S] [--strategies POOL/QUEUE/HANDOFF] [--machine M]\n"
    "         [--metric throughput|p50|p90|p99|p999|cancel] [--skip-busy]\n";

static const char history_about[] =
    "Shows how a figure moved across the recorded runs and commits: one block\n"
    "per machine and run configuration (scenario, strategies, workload), oldest\n"
    "first, with the date, commit, host, the value, the change against the row\n"
    "before, and a sparkline. The suite, `run` and `sweep` record every\n"
    "invocation in the history unless given --no-history. A point with a\n"
    "repetition measured while other processes took 25% or more of the CPU\n"
    "time is marked \"busy machine\"; --skip-busy leaves such points out.\n"
    "\n"
    "--changes finds where each block's series shifts (E-divisive means, a\n"
    "seeded permutation test for significance) and lists each change with the\n"
    "first commit after it, the medians before and after, the shift and its\n"
    "p-value, and how many of the invocations on each side ran on a busy\n"
    "machine; a change needs 3 invocations on each side. --html writes the trend\n"
    "as a page: a chart per series with the busy points and the changes drawn\n"
    "(by gnuplot, as `report` draws them, within the same time limit).\n";

static const char history_epilog[] =
    "`history export` writes the series for dashboards and `history import`\n"
    "records result files made elsewhere: `pendbench history export --help`,\n"
    "`pendbench history import --help`. `pendbench compare --baseline\n"
    "last|COMMIT NEW.json` compares against a recorded invocation.\n";

enum { H_SCENARIO, H_STRATEGIES, H_MACHINE, H_METRIC, H_DB, H_LIMIT, H_JSON, H_CHANGES, H_ALPHA,
       H_SEED, H_GATE, H_THRESHOLD, H_FORMAT, H_SKIP_BUSY, H_HTML };

static const struct pb_opt filter_opts[] = {
    { "scenario", 0, "S", "only this scenario", H_SCENARIO },
    { "strategies", 0, "P/Q/H", "only this strategy set; a part may be '*' (any)",
      H_STRATEGIES },
    { "machine", 0, "M", "only this machine (its host name, or its identity as the blocks show "
      "it)", H_MACHINE },
    { "metric", 0, "M", "throughput (ops/s, median of the repetitions; default), p50, p90, p99, "
      "p999 (pend-to-completion latency of the repetitions' merged histograms), cancel "
      "(success rate)", H_METRIC },
    { "skip-busy", 0, NULL, "leave out the invocations measured on a busy machine: a repetition "
      "during which other processes took 25% or more of the CPU time (the trend marks them)",
      H_SKIP_BUSY },
    { NULL, 0, NULL, NULL, 0 },
};

static const struct pb_opt db_opts[] = {
    { "history-db", 0, "DB", "the history: a SQLite file (default $PENDBENCH_HISTORY_DB, else "
      PB_HISTORY_DEFAULT "), or a PostgreSQL server: postgresql://USER@HOST/DB (a libpq URI), or "
      "postgresql: alone for libpq's PG* environment", H_DB },
    { "db", 0, "DB", "the same as --history-db (its older name)", H_DB },
    { NULL, 0, NULL, NULL, 0 },
};

static const struct pb_opt trend_opts[] = {
    { "limit", 0, "N", "the last N invocations of each block (default 20; 0: all; not with "
      "--changes, which reads the whole series)", H_LIMIT },
    { "json", 0, NULL, "a JSON document instead of the tables", H_JSON },
    { "changes", 0, NULL, "the change points of each series instead of the trend", H_CHANGES },
    { "html", 0, "FILE", "also write the trend as an HTML page: a chart and a table per series, "
      "busy points marked, change points drawn (with --changes: its --alpha and --seed); '-' "
      "for stdout, instead of the tables; charts need gnuplot", H_HTML },
    { NULL, 0, NULL, NULL, 0 },
};

static const struct pb_opt changes_opts[] = {
    { "alpha", 0, "A", "significance of each change, 0 < A < 1 (default 0.05)", H_ALPHA },
    { "seed", 0, "N", "of the permutations (default 1): same input, same answer", H_SEED },
    { "gate", 0, NULL, "exit 1 when a block's newest change is a regression (lower throughput or "
      "cancel rate, higher latency) beyond --threshold", H_GATE },
    { "threshold", 0, "PCT", "the regression --gate counts, in percent (default 5)",
      H_THRESHOLD },
    { NULL, 0, NULL, NULL, 0 },
};

static const struct pb_opt export_opts[] = {
    { "format", 0, "csv|json", "CSV rows, one per invocation (default), or a JSON document",
      H_FORMAT },
    { NULL, 0, NULL, NULL, 0 },
};

struct history_args {
    struct pb_trend_query q;
    struct pb_trend_changes ch;
    const char *db;
    bool changes, gate;
    const char *changes_only;          /* the first option given that needs --changes */
    bool limit_given;
    const char *html;                  /* --html: the page's path */
    struct pb_html_options page;       /* --no-charts, --gnuplot: the page's charts */
    char **files;                      /* import: its result files, room for argc */
    int nfiles;
};

static int history_set(void *ctx, const struct pb_opt *o, const char *v, char *err,
                       size_t errlen)
{
    struct history_args *a = ctx;
    uint64_t n;
    switch (o->id) {
    case H_SCENARIO:
        a->q.scenario = v;
        return 0;
    case H_STRATEGIES:
        a->q.strategies = v;
        return 0;
    case H_MACHINE:
        a->q.machine = v;
        return 0;
    case H_METRIC:
        if (pb_trend_metric_parse(v, &a->q.metric) == 0)
            return 0;
        snprintf(err, errlen, "'%s' is not throughput, p50, p90, p99, p999 or cancel", v);
        return -1;
    case H_DB:
        a->db = v;
        return pb_opt_path(v, err, errlen);
    case H_LIMIT:
        if (pb_opt_count(v, 0, 1000000, &n, err, errlen) != 0)
            return -1;
        a->q.limit = (unsigned)n;
        a->limit_given = true;
        return 0;
    case H_JSON:
        a->q.json = true;
        return 0;
    case H_CHANGES:
        a->changes = true;
        return 0;
    case H_SKIP_BUSY:
        a->q.skip_busy = true;
        return 0;
    case H_HTML:
        a->html = v;
        return pb_opt_path(v, err, errlen);
    case H_FORMAT:
        if (strcmp(v, "csv") == 0 || strcmp(v, "json") == 0) {
            a->q.csv = v[0] == 'c';
            a->q.json = v[0] == 'j';
            return 0;
        }
        snprintf(err, errlen, "'%s' is not csv or json", v);
        return -1;
    }
    /* The options of --changes, which may come before or after it. */
    if (!a->changes_only)
        a->changes_only = o->name;
    switch (o->id) {
    case H_ALPHA: {
        /* The options' one strict number: strtod took " 0.1" and "0x0.1". */
        const char *end = v;
        double x = 0;
        if (pb_number_prefix(v, &x, &end) != 0 || *end || !(x > 0 && x < 1)) {
            snprintf(err, errlen, "'%s' is not a significance between 0 and 1 (e.g. 0.05)", v);
            return -1;
        }
        a->ch.alpha = x;
        return 0;
    }
    case H_SEED:
        return pb_opt_seed(v, &a->ch.seed, err, errlen);
    case H_GATE:
        a->gate = true;
        return 0;
    case H_THRESHOLD:
        return pb_opt_percent(v, 0, 0, 1e6, &a->ch.threshold_pct, err, errlen);
    }
    return -1;
}

static int history_file(void *ctx, const char *arg, char *err, size_t errlen)
{
    struct history_args *a = ctx;
    if (pb_opt_input(arg, (const char *const *)a->files, a->nfiles, err, errlen) != 0)
        return -1;
    a->files[a->nfiles++] = (char *)arg;     /* room for every argument: see pb_cmd_history */
    return 0;
}

/* The trend takes no argument; a sub-verb after an option is the likely
 * slip (`history --history-db h.db export`). */
static int trend_argument(void *ctx, const char *arg, char *err, size_t errlen)
{
    (void)ctx;
    if (strcmp(arg, "export") == 0 || strcmp(arg, "import") == 0)
        return pb_fail(err, errlen, "'%s' is a sub-verb: it comes first (pendbench history %s "
                       "[OPTIONS])", arg, arg);
    return pb_fail(err, errlen, "unexpected argument '%s' (the trend takes options only)", arg);
}

static int import_files(const char *db, int nfiles, char **files)
{
    if (nfiles == 0) {
        fprintf(stderr, "pendbench history import: no result file given\n");
        return PB_EXIT_USAGE;
    }
    if (strcmp(db, PB_HISTORY_DEFAULT) == 0 && mkdir("results", 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "pendbench history import: cannot create results/: %s\n",
                strerror(errno));
        return PB_EXIT_USAGE;
    }
    /* The history is written: a result file named as the history too is
     * refused once, not reported as a damaged database file by file. */
    for (int i = 0; i < nfiles; i++) {
        const struct pb_input in = { "a result file it imports", files[i] };
        if (pb_output_is_input("history import", "--history-db", db, "the history", &in, 1))
            return PB_EXIT_USAGE;
    }
    unsigned added = 0, known = 0, failed = 0;
    for (int i = 0; i < nfiles; i++) {
        char err[1024];
        int rc = pb_history_import(db, files[i], err, sizeof err);
        if (rc < 0) {
            fprintf(stderr, "pendbench history import: %s\n", err);
            failed++;
        } else if (rc == 0) {
            printf("%s: already in the history\n", files[i]);
            known++;
        } else {
            printf("%s: recorded\n", files[i]);
            added++;
        }
    }
    printf("%u recorded, %u already there, %u failed\n", added, known, failed);
    return failed ? PB_EXIT_USAGE : PB_EXIT_OK;
}

int pb_cmd_history(int argc, char **argv)
{
    struct history_args a = {
        .q = { .metric = PB_TREND_THROUGHPUT, .limit = 20 },
        .ch = { .alpha = 0.05, .seed = 1, .threshold_pct = 5 },
        .db = getenv("PENDBENCH_HISTORY_DB"),
    };
    if (!a.db || !*a.db)
        a.db = PB_HISTORY_DEFAULT;
    enum { TREND, EXPORT, IMPORT } mode = TREND;
    if (argc > 1 && strcmp(argv[1], "export") == 0)
        mode = EXPORT;
    else if (argc > 1 && strcmp(argv[1], "import") == 0)
        mode = IMPORT;
    const struct pb_opt_group filters = { "filters", filter_opts, history_set, &a };
    const struct pb_opt_group db = { "the history", db_opts, history_set, &a };
    const struct pb_opt_group trend[] = {
        filters,
        { "the trend", trend_opts, history_set, &a },
        { "with --changes", changes_opts, history_set, &a },
        { "the page's charts (with --html)", pb_chart_opts, pb_chart_set, &a.page },
        db,
    };
    const struct pb_opt_group exp[] = {
        filters,
        { "the export", export_opts, history_set, &a },
        db,
    };
    struct pb_cli cli = {
        .verb = "history",
        .usage = history_usage,
        .about = history_about,
        .epilog = history_epilog,
        .groups = trend,
        .ngroups = sizeof trend / sizeof trend[0],
        .positional = trend_argument,
    };
    if (mode == EXPORT) {
        a.q.csv = true;
        a.q.limit = 0;
        cli = (struct pb_cli){
            .verb = "history export",
            .usage = "pendbench history export [FILTERS] [--format csv|json] [--history-db DB]\n",
            .about = "Writes every invocation of the series (no --limit) as CSV (default) or\n"
                     "JSON, for dashboards (Grafana's CSV or JSON data sources).\n",
            .groups = exp,
            .ngroups = sizeof exp / sizeof exp[0],
        };
    } else if (mode == IMPORT) {
        cli = (struct pb_cli){
            .verb = "history import",
            .usage = "pendbench history import [--history-db DB] RESULT.json...\n",
            .about = "Records result files (CI artifacts) as their own invocations, once each: a\n"
                     "result already there (the same run_id, or the same file) is skipped. '-'\n"
                     "reads standard input.\n",
            .groups = &db,
            .ngroups = 1,
            .positional = history_file,
            .ctx = &a,
        };
    }
    if (mode == IMPORT) {
        a.files = calloc((size_t)argc, sizeof *a.files);
        if (!a.files) {
            fprintf(stderr, "pendbench history import: out of memory\n");
            return PB_EXIT_USAGE;
        }
    }
    /* The sub-mode is argv[1]: the parser reads what follows it. */
    int skip = mode == TREND ? 0 : 1;
    enum pb_cli_result pr = pb_cli_parse(&cli, argc - skip, argv + skip);
    if (pr != PB_CLI_GO || mode == IMPORT) {
        int st = pr != PB_CLI_GO ? pb_cli_exit(pr) : import_files(a.db, a.nfiles, a.files);
        free(a.files);
        return st;
    }
    if (a.changes_only && !a.changes)
        return pb_cli_fail(&cli, "--%s goes with --changes", a.changes_only);
    if (a.changes && a.limit_given)
        return pb_cli_fail(&cli, "--limit does not go with --changes (changes read the whole "
                           "series)");
    if (a.html && a.q.json)
        return pb_cli_fail(&cli, "--html and --json: one or the other");
    if (!a.html && (a.page.no_charts || a.page.gnuplot))
        return pb_cli_fail(&cli, "--%s goes with --html",
                           a.page.no_charts ? "no-charts" : "gnuplot");
    char err[1024];
    if (a.html && pb_chart_env(&a.page, err, sizeof err) != 0)
        return pb_cli_fail(&cli, "%s", err);
    /* The page is checked before the history is read: one that cannot be
     * written, or that would replace the database it shows (written
     * first, the page left the history an HTML file and the trend then
     * found it "damaged"). */
    if (a.html && pb_check_output_path(a.html, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench history: --html: %s\n", err);
        return PB_EXIT_USAGE;
    }
    const struct pb_input db_in = { "the history database", a.db };
    if (pb_output_is_input("history", "--html", a.html, "the page", &db_in, 1))
        return PB_EXIT_USAGE;
    const char *db_path = a.db;
    struct pb_trend_query q = a.q;
    struct pb_trend_changes ch = a.ch;
    bool gate = a.gate;
    unsigned regressions = 0;
    bool page_only = a.html && strcmp(a.html, "-") == 0;   /* stdout is the page's */
    int n = 0;
    if (a.html) {
        struct pb_trend_query hq = q;
        if (a.changes)
            hq.limit = 0;              /* the page shows what the changes read */
        struct pb_html_stats st;
        /* As report: an interruption kills gnuplot and writes no page. */
        pb_install_interrupt();
        a.page.stop = &pb_interrupted;
        n = pb_export_trend_html(a.html, db_path, &hq, &ch, &a.page, &st, err, sizeof err);
        if (n >= 0)
            pb_chart_warn("history", a.html, &st);
    }
    if (n >= 0 && !(page_only && !a.changes))
        n = a.changes ? pb_export_trend_changes(page_only ? stderr : stdout, db_path, &q, &ch,
                                                &regressions, err, sizeof err)
                      : pb_export_trend(stdout, db_path, &q, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "pendbench history: %s\n", err);
        return pb_interrupted ? pb_interrupted_status() : PB_EXIT_USAGE;
    }
    if (n == 0 && !q.json && !q.csv)
        fprintf(stderr, "pendbench history: no recorded run in %s matches%s%s%s%s%s%s\n", db_path,
                q.scenario ? " --scenario " : "", q.scenario ? q.scenario : "",
                q.strategies ? " --strategies " : "", q.strategies ? q.strategies : "",
                q.machine ? " --machine " : "", q.machine ? q.machine : "");
    if (gate && regressions) {
        fprintf(stderr,
                "pendbench history: %u series end in a regression beyond %.4g%% (--gate)\n",
                regressions, ch.threshold_pct);
        return PB_EXIT_FAILED;
    }
    return PB_EXIT_OK;
}
