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
#include "pb_export.h"
#include "pb_history.h"

static void history_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench history [FILTERS] [--limit N] [--json] [--db DB]\n"
            "       pendbench history --changes [FILTERS] [--gate] [--threshold PCT]\n"
            "                         [--alpha A] [--seed N] [--json] [--db DB]\n"
            "       pendbench history export [FILTERS] [--format csv|json] [--db DB]\n"
            "       pendbench history import [--db DB] RESULT.json...\n"
            "FILTERS: [--scenario S] [--strategies POOL/QUEUE/HANDOFF] [--machine M]\n"
            "         [--metric throughput|p50|p90|p99|p999|cancel]\n"
            "\n"
            "Shows how a figure moved across the recorded runs and commits: one block\n"
            "per machine and run configuration (scenario, strategies, workload), oldest\n"
            "first, with the date, commit, host, the value, the change against the row\n"
            "before, and a sparkline. The suite, `run` and `sweep` record every\n"
            "invocation in the history unless given --no-history.\n"
            "\n"
            "  --scenario S       only this scenario\n"
            "  --strategies P/Q/H only this strategy set; a part may be '*' (any)\n"
            "  --machine M        only this machine (its host name, or its identity as\n"
            "                     the blocks show it)\n"
            "  --metric M         throughput (ops/s, median of the repetitions; default),\n"
            "                     p50, p90, p99, p999 (pend-to-completion latency of the\n"
            "                     repetitions' merged histograms), cancel (success rate)\n"
            "  --db DB            the history: a SQLite file (default $PENDBENCH_HISTORY_DB,\n"
            "                     else " PB_HISTORY_DEFAULT "), or a PostgreSQL server:\n"
            "                     postgresql://USER@HOST/DB (a libpq URI), or postgresql:\n"
            "                     alone for libpq's PG* environment; --history-db is the same\n"
            "  --limit N          the last N invocations of each block (default 20; 0: all)\n"
            "  --json             a JSON document instead of the tables\n"
            "\n"
            "--changes finds where each block's series shifts (E-divisive means, a\n"
            "seeded permutation test for significance) and lists each change with the\n"
            "first commit after it, the medians before and after, the shift and its\n"
            "p-value; a change needs 3 invocations on each side.\n"
            "  --alpha A          significance of each change (default 0.05)\n"
            "  --seed N           of the permutations (default 1): same input, same answer\n"
            "  --gate             exit 1 when a block's newest change is a regression\n"
            "                     (lower throughput or cancel rate, higher latency) beyond\n"
            "  --threshold PCT    percent (default 5)\n"
            "\n"
            "export writes every invocation of the series (no --limit) as CSV (default)\n"
            "or JSON, for dashboards. import records result files (CI artifacts) as\n"
            "their own invocations, once each: a result already there (the same run_id,\n"
            "or the same file) is skipped.\n"
            "\n"
            "`pendbench compare --baseline last|COMMIT NEW.json` compares against a\n"
            "recorded invocation.\n");
}

static int parse_double(const char *value, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (!*value || *end || errno || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
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
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .limit = 20 };
    struct pb_trend_changes ch = { .alpha = 0.05, .seed = 1, .threshold_pct = 5 };
    const char *db = getenv("PENDBENCH_HISTORY_DB");
    if (!db || !*db)
        db = PB_HISTORY_DEFAULT;
    enum { TREND, CHANGES, EXPORT, IMPORT } mode = TREND;
    bool gate = false;
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "export") == 0) {
        mode = EXPORT;
        q.csv = true;
        q.limit = 0;
        first = 2;
    } else if (argc > 1 && strcmp(argv[1], "import") == 0) {
        mode = IMPORT;
        first = 2;
    }
    char key[64];
    const char *value;
    int i = first;
    while (i < argc) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            history_usage(stdout);
            return PB_EXIT_OK;
        }
        if (mode == IMPORT && strncmp(argv[i], "--", 2) != 0)
            break;                     /* the files */
        if (strcmp(argv[i], "--json") == 0 && mode != IMPORT && mode != EXPORT) {
            q.json = true;
            i++;
            continue;
        }
        if (strcmp(argv[i], "--changes") == 0 && mode == TREND) {
            mode = CHANGES;
            i++;
            continue;
        }
        if (strcmp(argv[i], "--gate") == 0 && mode != IMPORT && mode != EXPORT) {
            gate = true;
            i++;
            continue;
        }
        if (pb_next_option(argc, argv, &i, "history", key, sizeof key, &value) != 0)
            goto usage_err;
        if (!value) {
            fprintf(stderr, "pendbench history: --%s needs a value\n", key);
            goto usage_err;
        }
        bool any = mode != IMPORT;
        if (strcmp(key, "db") == 0 || strcmp(key, "history-db") == 0) {
            db = value;
        } else if (any && strcmp(key, "scenario") == 0) {
            q.scenario = value;
        } else if (any && strcmp(key, "strategies") == 0) {
            q.strategies = value;
        } else if (any && strcmp(key, "machine") == 0) {
            q.machine = value;
        } else if (any && strcmp(key, "metric") == 0) {
            if (pb_trend_metric_parse(value, &q.metric) != 0) {
                fprintf(stderr,
                        "pendbench history: --metric: '%s' is not throughput, p50, p90, p99, "
                        "p999 or cancel\n",
                        value);
                goto usage_err;
            }
        } else if (mode == TREND && strcmp(key, "limit") == 0) {
            char *end;
            unsigned long v = strtoul(value, &end, 10);
            if (!*value || *end || value[0] == '-' || v > 1000000) {
                fprintf(stderr, "pendbench history: --limit wants a count (0: all)\n");
                goto usage_err;
            }
            q.limit = (unsigned)v;
        } else if (mode == EXPORT && strcmp(key, "format") == 0) {
            if (strcmp(value, "csv") == 0) {
                q.csv = true;
                q.json = false;
            } else if (strcmp(value, "json") == 0) {
                q.csv = false;
                q.json = true;
            } else {
                fprintf(stderr, "pendbench history export: --format: '%s' is not csv or json\n",
                        value);
                goto usage_err;
            }
        } else if (mode != IMPORT && mode != EXPORT && strcmp(key, "alpha") == 0) {
            if (parse_double(value, 1e-9, 0.999999, &ch.alpha) != 0) {
                fprintf(stderr, "pendbench history: --alpha wants a significance between 0 and "
                                "1 (e.g. 0.05)\n");
                goto usage_err;
            }
        } else if (mode != IMPORT && mode != EXPORT && strcmp(key, "threshold") == 0) {
            if (parse_double(value, 0, 1e6, &ch.threshold_pct) != 0) {
                fprintf(stderr, "pendbench history: --threshold wants a percentage (e.g. 5)\n");
                goto usage_err;
            }
        } else if (mode != IMPORT && mode != EXPORT && strcmp(key, "seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(value, &end, 10);
            if (!*value || *end || value[0] == '-' || errno) {
                fprintf(stderr, "pendbench history: --seed wants a non-negative integer\n");
                goto usage_err;
            }
            ch.seed = v;
        } else {
            fprintf(stderr, "pendbench history%s: unknown option '--%s'\n",
                    mode == IMPORT ? " import" : mode == EXPORT ? " export" : "", key);
            goto usage_err;
        }
    }
    if (mode == IMPORT)
        return import_files(db, argc - i, argv + i);
    if (i < argc) {
        fprintf(stderr, "pendbench history: unexpected argument '%s'\n", argv[i]);
        goto usage_err;
    }
    if (gate && mode != CHANGES) {
        fprintf(stderr, "pendbench history: --gate goes with --changes\n");
        goto usage_err;
    }
    char err[1024];
    unsigned regressions = 0;
    int n = mode == CHANGES ? pb_export_trend_changes(stdout, db, &q, &ch, &regressions, err,
                                                      sizeof err)
                            : pb_export_trend(stdout, db, &q, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "pendbench history: %s\n", err);
        return PB_EXIT_USAGE;
    }
    if (n == 0 && !q.json && !q.csv)
        fprintf(stderr, "pendbench history: no recorded run in %s matches%s%s%s%s%s%s\n", db,
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
usage_err:
    fprintf(stderr, "(see `pendbench history --help`)\n");
    return PB_EXIT_USAGE;
}
