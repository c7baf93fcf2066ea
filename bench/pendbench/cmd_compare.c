/* pendbench compare: two result files (or a recorded run against a file),
 * run by run, with significance and verdicts. The statistics are the
 * reports library's (pb_compare_docs); the command line is here, on the
 * one option convention of every verb, and its statistics options are a
 * group that `ab` takes too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pb_compare.h"
#include "pb_history.h"
#include "pb_result.h"

/* ---- the statistics options, shared with ab ------------------------------------------ */

const struct pb_opt pb_compare_stat_opts[] = {
    { "threshold", 0, "PCT", "a change must exceed PCT percent (cancel: points) (default 5)", 0 },
    { "alpha", 0, "A", "family-wise significance level, 0 < A < 1 (default 0.05)", 0 },
    { "correction", 0, "holm|bh|none", "holm (default: family-wise error), bh (false discovery "
      "rate), none", 0 },
    { "noise-k", 0, "K", "a change must exceed K x the base's robust CV (default 3; 0: off)", 0 },
    { "max-cv", 0, "PCT", "a side spread wider than PCT percent (cancel: points) is too noisy to "
      "judge: inconclusive (default 15)", 0 },
    { "floor-factor", 0, "F", "leave out repetitions whose c2c floor exceeds F x the "
      "comparison's median floor (default 1.5; 0: keep all)", 0 },
    { "metric", 0, "M...", "throughput, p50, p99, p999, cancel, or the presets gate "
      "(throughput,p50,p99: stable enough for a CI gate), latency (p50,p99,p999), all "
      "(default); repeat or comma-separate", 0 },
    { "strict", 0, NULL, "exit 3 when nothing regressed but something could not be judged (a "
      "metric inconclusive or untested beyond the threshold, a run the screen left with no "
      "repetition on a side): for a CI gate "
      "that must tell 'no regression' from 'could not measure'", 0 },
    { NULL, 0, NULL, NULL, 0 },
};

int pb_compare_stat_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                        size_t errlen)
{
    char msg[512];
    int h = pb_compare_option(o->name, value, ctx, msg, sizeof msg);
    if (h > 0)
        return 0;
    if (h == 0) {
        /* The table above and the library's parser drifted apart: a test
         * gives every listed option a value and looks for this. */
        snprintf(err, errlen, "unknown option '--%s' to pb_compare_option (listed in "
                 "bench/pendbench/cmd_compare.c, not in reports/compare.c)", o->name);
        return -1;
    }
    /* The library says "--NAME: ...": the parser already said which option. */
    char lead[80];
    snprintf(lead, sizeof lead, "--%s: ", o->name);
    snprintf(err, errlen, "%s", strncmp(msg, lead, strlen(lead)) == 0 ? msg + strlen(lead) : msg);
    return -1;
}

/* ---- the verb ----------------------------------------------------------------------- */

static const char compare_about[] =
    "Matches the runs of two result files by scenario, strategies and workload, and\n"
    "for each shows the change in throughput (median of the repetitions), p50, p99\n"
    "and p99.9 total latency (from the merged histograms: never averaged) and the\n"
    "cancel success rate (won / attempted, in percentage points), with a verdict.\n"
    "A file may be '-' (standard input).\n"
    "\n"
    "How a verdict is reached, for each metric of each run:\n"
    "  screen     repetitions measured in another machine state are left out: their\n"
    "             c2c floor moved during the run, or lay beyond --floor-factor times\n"
    "             the median floor of the comparison's runs measured between the\n"
    "             same two CPUs, either way (paired: with their partner); and,\n"
    "             with 4+ repetitions, one whose throughput\n"
    "             lies beyond --floor-factor of its side's median (paired: a pair\n"
    "             whose ratio lies beyond it of the median ratio): a state that came\n"
    "             and went inside the window shows only there.\n"
    "             On a VM the same two CPUs can bounce a line 5x slower in one\n"
    "             process than in the next; no test can tell that from a change.\n"
    "  test       Welch's t test on the logs of the per-repetition figures (each\n"
    "             repetition's ops/s, its own percentile, its own cancel rate with\n"
    "             the test of the summed counts); needs 3+ repetitions a side.\n"
    "             With --paired (files from `pendbench ab`) the t test on the log\n"
    "             ratios of the pairs, the Wilcoxon signed-rank p beside it.\n"
    "  family     the p-values of every metric of every run are adjusted together\n"
    "             (--correction): the column 'p adj' is what is compared with alpha.\n"
    "  threshold  the change must exceed --threshold.\n"
    "  noise      and exceed --noise-k times the base's robust CV (1.4826 x MAD /\n"
    "             median of its repetitions): the base's own spread was measured in\n"
    "             the same minutes, with interleaved repetitions and no extra runs,\n"
    "             and a change inside k robust sigmas of it cannot be told from its\n"
    "             own scatter. Paired, the pairs' ratios' robust CV instead: drift\n"
    "             both builds saw is what pairing removes.\n"
    "Verdicts: regressed / improved (all of the above); no significant change;\n"
    "below threshold; within noise; inconclusive (too noisy): the change would\n"
    "count but a side's robust CV exceeds --max-cv, so the machine was too noisy to\n"
    "tell (rerun on a quiet machine, or use `pendbench ab`); n/a (no data). With\n"
    "fewer than 3 repetitions a side a metric is untested and gets no verdict: a\n"
    "change beyond the threshold is inconclusive (untested), never regressed or\n"
    "improved (one run a side has no noise to judge it against; runs of one build\n"
    "on a shared machine differ by 5-20%), and --strict makes it exit 3; the\n"
    "summary says so once.\n"
    "\n"
    "False alarms: with Holm at alpha 0.05, at most 5% of comparisons of a build\n"
    "against itself (A/A) raise any alarm at all, whatever the number of runs and\n"
    "metrics; the threshold and the noise floor make it fewer. Untested metrics never\n"
    "raise one.\n"
    "\n"
    "Recommended CI gate: `pendbench ab OLD NEW JOB --repeat 6` (the two builds\n"
    "alternate, ABBA, so drift cancels), or `pendbench compare --metric gate` on two\n"
    "files each made with `--repeat 5`. p99.9 needs far more operations per run to\n"
    "be stable: it is not in the gate.\n";

enum { CMP_JSON, CMP_PAIRED, CMP_BASELINE, CMP_HISTORY_DB };

static const struct pb_opt compare_opts[] = {
    { "json", 0, NULL, "the comparison as JSON on stdout instead of the table", CMP_JSON },
    { "paired", 0, NULL, "repetition i of BASE with repetition i of NEW (run back to back, as "
      "`pendbench ab` does)", CMP_PAIRED },
    { "baseline", 0, "SPEC", "compare against a recorded run: 'last' (the last one recorded "
      "before NEW), or a git commit (4+ hex digits)", CMP_BASELINE },
    { "history-db", 0, "PATH", "the history database (default $PENDBENCH_HISTORY_DB, else "
      PB_HISTORY_DEFAULT ")", CMP_HISTORY_DB },
    { NULL, 0, NULL, NULL, 0 },
};

struct compare_args {
    struct pb_compare_opts *opts;
    bool json;
    const char *baseline, *db;
    const char *files[2];
    int nfiles;
};

static int compare_set(void *ctx, const struct pb_opt *o, const char *v, char *err,
                       size_t errlen)
{
    struct compare_args *a = ctx;
    switch (o->id) {
    case CMP_JSON:
        a->json = true;
        return 0;
    case CMP_PAIRED:
        a->opts->paired = true;
        return 0;
    case CMP_BASELINE:
        if (!*v) {
            snprintf(err, errlen, "wants 'last' or a git commit");
            return -1;
        }
        a->baseline = v;
        return 0;
    case CMP_HISTORY_DB:
        a->db = v;
        return pb_opt_path(v, err, errlen);
    }
    return -1;
}

static int compare_file(void *ctx, const char *arg, char *err, size_t errlen)
{
    struct compare_args *a = ctx;
    if (a->nfiles == 2) {
        snprintf(err, errlen, "too many files ('%s'): expected BASE.json NEW.json", arg);
        return -1;
    }
    if (pb_opt_input(arg, a->files, a->nfiles, err, errlen) != 0)
        return -1;
    a->files[a->nfiles++] = arg;
    return 0;
}

int pb_cmd_compare(int argc, char **argv)
{
    struct pb_compare_opts opts;
    pb_compare_opts_default(&opts);
    struct compare_args a = { .opts = &opts, .db = getenv("PENDBENCH_HISTORY_DB") };
    if (!a.db || !*a.db)
        a.db = PB_HISTORY_DEFAULT;
    const struct pb_opt_group groups[] = {
        { "options", compare_opts, compare_set, &a },
        { "statistics (also `pendbench ab`'s)", pb_compare_stat_opts, pb_compare_stat_set,
          &opts },
    };
    const struct pb_cli cli = {
        .verb = "compare",
        .usage = "pendbench compare BASE.json NEW.json [OPTIONS]\n"
                 "       pendbench compare --baseline last|COMMIT [--history-db PATH] NEW.json\n"
                 "                         [OPTIONS]\n",
        .about = compare_about,
        .epilog = "Exit status: 0 nothing regressed, 1 something did (inconclusive does not\n"
                  "count), 2 bad input (a missing file, not a pendbench result, a schema version\n"
                  "this build cannot read, no runs in common, bad options), 3 with --strict:\n"
                  "nothing regressed, but something could not be judged.\n",
        .groups = groups,
        .ngroups = sizeof groups / sizeof groups[0],
        .positional = compare_file,
        .ctx = &a,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO)
        return pb_cli_exit(pr);
    if (a.baseline && a.nfiles != 1)
        return pb_cli_fail(&cli, "with --baseline, give one file: NEW.json");
    if (!a.baseline && a.nfiles != 2)
        return pb_cli_fail(&cli, "expected two files, BASE.json NEW.json (or --baseline "
                           "last|COMMIT NEW.json)");

    struct pb_result_doc base, new_doc;
    memset(&base, 0, sizeof base);
    memset(&new_doc, 0, sizeof new_doc);
    /* BASE's name as the table and the JSON show it: the file's own, whole
     * (a copy into a fixed buffer cut a long one short). */
    const char *base_name = NULL;
    char *history_name = NULL, msg[1024];
    int status = PB_EXIT_USAGE;
    /* NEW first: a baseline from the history is chosen relative to it. */
    const char *new_name = a.files[a.nfiles - 1];
    if (pb_result_read(new_name, &new_doc, msg, sizeof msg) != 0) {
        fprintf(stderr, "pendbench compare: %s\n", msg);
        goto done;
    }
    if (a.baseline) {
        if (asprintf(&history_name, "history:%s (%s)", a.baseline, a.db) < 0) {
            history_name = NULL;
            fprintf(stderr, "pendbench compare: out of memory\n");
            goto done;
        }
        base_name = history_name;
        /* A missing, damaged or locked database is the history's message;
         * NEW's own record (every run records itself) is never its baseline. */
        if (pb_history_find_before(a.db, a.baseline, &new_doc.ctx, &base, msg, sizeof msg) != 0) {
            fprintf(stderr, "pendbench compare: --baseline %s: %s\n", a.baseline, msg);
            goto done;
        }
    } else {
        base_name = a.files[0];
        if (pb_result_read(a.files[0], &base, msg, sizeof msg) != 0) {
            fprintf(stderr, "pendbench compare: %s\n", msg);
            goto done;
        }
    }
    struct pb_comparison c;
    if (pb_compare_docs(&base, &new_doc, &opts, &c, msg, sizeof msg) != 0) {
        fprintf(stderr, "pendbench compare: %s vs %s: %s\n", base_name, new_name, msg);
        goto done;
    }
    if (a.json) {
        if (pb_compare_print_json(stdout, &c, base_name, &base.ctx, new_name, &new_doc.ctx) != 0) {
            fprintf(stderr, "pendbench compare: cannot write the JSON output\n");
            pb_comparison_free(&c);
            goto done;
        }
    } else {
        pb_compare_print(stdout, &c, base_name, &base.ctx, new_name, &new_doc.ctx);
        fflush(stdout);
    }
    status = pb_comparison_exit_status(&c);
    pb_comparison_free(&c);
done:
    free(history_name);
    pb_result_doc_free(&base);
    pb_result_doc_free(&new_doc);
    return status;
}
