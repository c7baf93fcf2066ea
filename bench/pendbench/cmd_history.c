/* pendbench history: the trend of one figure across the runs recorded in
 * the history database (pb_history.h; the suite, run and sweep record
 * there unless --no-history). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pb_export.h"
#include "pb_history.h"

static void history_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench history [--scenario S] [--strategies POOL/QUEUE/HANDOFF]\n"
            "                         [--metric throughput|p50|p90|p99|p999|cancel]\n"
            "                         [--history-db PATH] [--limit N] [--json]\n"
            "\n"
            "Shows how a figure moved across the recorded runs and commits: one block\n"
            "per scenario, strategy set and thread count (requesters x workers), oldest\n"
            "first, with the date, commit, host, the value, the change against the row\n"
            "before, and a sparkline. The suite, `run` and `sweep` record every\n"
            "invocation in the database unless given --no-history.\n"
            "\n"
            "  --scenario S       only this scenario\n"
            "  --strategies P/Q/H only this strategy set; a part may be '*' (any)\n"
            "  --metric M         throughput (ops/s, median of the repetitions; default),\n"
            "                     p50, p90, p99, p999 (pend-to-completion latency of the\n"
            "                     repetitions' merged histograms), cancel (success rate)\n"
            "  --history-db PATH  the database (default " PB_HISTORY_DEFAULT "; --db: the same)\n"
            "  --limit N          the last N invocations of each block (default 20; 0: all)\n"
            "  --json             a JSON document instead of the tables\n"
            "\n"
            "`pendbench compare --baseline last|COMMIT NEW.json` compares against a\n"
            "recorded invocation.\n");
}

int pb_cmd_history(int argc, char **argv)
{
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .limit = 20 };
    const char *db = PB_HISTORY_DEFAULT;
    char key[64];
    const char *value;
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            history_usage(stdout);
            return PB_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") == 0) {
            q.json = true;
            i++;
            continue;
        }
        if (pb_next_option(argc, argv, &i, "history", key, sizeof key, &value) != 0)
            goto usage_err;
        if (!value) {
            fprintf(stderr, "pendbench history: --%s needs a value\n", key);
            goto usage_err;
        }
        if (strcmp(key, "scenario") == 0) {
            q.scenario = value;
        } else if (strcmp(key, "strategies") == 0) {
            q.strategies = value;
        } else if (strcmp(key, "metric") == 0) {
            if (pb_trend_metric_parse(value, &q.metric) != 0) {
                fprintf(stderr,
                        "pendbench history: --metric: '%s' is not throughput, p50, p90, p99, "
                        "p999 or cancel\n",
                        value);
                goto usage_err;
            }
        } else if (strcmp(key, "db") == 0 || strcmp(key, "history-db") == 0) {
            /* --history-db as in every other verb; --db kept for old scripts. */
            db = value;
        } else if (strcmp(key, "limit") == 0) {
            char *end;
            unsigned long v = strtoul(value, &end, 10);
            if (!*value || *end || value[0] == '-' || v > 1000000) {
                fprintf(stderr, "pendbench history: --limit wants a count (0: all)\n");
                goto usage_err;
            }
            q.limit = (unsigned)v;
        } else {
            fprintf(stderr, "pendbench history: unknown option '--%s'\n", key);
            goto usage_err;
        }
    }
    char err[512];
    int n = pb_export_trend(stdout, db, &q, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "pendbench history: %s\n", err);
        return PB_EXIT_USAGE;
    }
    if (n == 0 && !q.json)
        fprintf(stderr, "pendbench history: no recorded run in %s matches%s%s%s%s\n", db,
                q.scenario ? " --scenario " : "", q.scenario ? q.scenario : "",
                q.strategies ? " --strategies " : "", q.strategies ? q.strategies : "");
    return PB_EXIT_OK;
usage_err:
    fprintf(stderr, "(see `pendbench history --help`)\n");
    return PB_EXIT_USAGE;
}
