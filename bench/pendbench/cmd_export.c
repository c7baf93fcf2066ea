/* pendbench export: a result file in Google Benchmark's JSON (for its
 * compare.py) or as CSV (for spreadsheets). pb_export.h describes both. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pb_export.h"
#include "pb_file.h"
#include "pb_result.h"

static const char export_about[] =
    "Writes a result file in another tool's format (default: to stdout).\n"
    "\n"
    "  gbench  Google Benchmark's JSON, for its compare tool:\n"
    "            /usr/share/benchmark/compare.py benchmarks OLD.gbench.json NEW.gbench.json\n"
    "          Each run gives four benchmarks named\n"
    "            SCENARIO/POOL/QUEUE/HANDOFF/threads:RxW/FIGURE\n"
    "          (R requesters, W workers); FIGURE is p50, p99, p999 (latency, ns) or\n"
    "          ns_per_op (1e9 / throughput). real_time = cpu_time = that figure.\n"
    "          Repetitions (run --repeat N) are Google Benchmark repetitions, so\n"
    "          compare.py runs its U test over them; aggregates follow (ns_per_op:\n"
    "          mean, median, stddev; latency: 'merged', from the merged histograms).\n"
    "          Strategies within one file (a sweep) compare with its filters mode:\n"
    "            compare.py filters SWEEP.gbench.json global-mutex percpu-mpsc\n"
    "          A figure with no value (a run that completed or timed no operation)\n"
    "          is left out, not written as 0 ns; context.pendbench_left_out names it.\n"
"          The context holds the session's measured environment (load average,\n"
    "          frequency scaling, CPUs, MHz, caches) and its warnings.\n"
    "  csv     one row per run and repetition under a header row (RFC 4180):\n"
    "          date, git_commit, build_variant, host, run_id, the run's identity,\n"
    "          every workload parameter (idle ... queue-capacity), then the\n"
    "          figures (a percentile of a run that timed nothing, a cancel rate\n"
    "          without cancels: empty); CSVs of several sessions concatenate (same\n"
    "          header).\n"
    "\n"
    "RESULT.json may be '-' (standard input).\n";

enum { EXPORT_FORMAT, EXPORT_AGGREGATES_ONLY, EXPORT_OUTPUT };

static const struct pb_opt export_opts[] = {
    { "format", 0, "gbench|csv", "the format (required)", EXPORT_FORMAT },
    { "aggregates-only", 0, NULL, "gbench: one entry per benchmark, for dashboards: the median "
      "of ns_per_op, the merged-histogram percentile for latency (one repetition: that "
      "repetition), named as a single repetition would be", EXPORT_AGGREGATES_ONLY },
    { "output", 'o', "FILE", "write there instead of stdout: a file is replaced atomically, a "
      "device or FIFO written through, - is stdout", EXPORT_OUTPUT },
    { NULL, 0, NULL, NULL, 0 },
};

struct export_cli {
    const char *input, *output;
    bool format_given;
    enum pb_export_format format;
    struct pb_export_options opts;
};

static int export_set(void *ctx, const struct pb_opt *o, const char *v, char *err, size_t errlen)
{
    struct export_cli *a = ctx;
    switch (o->id) {
    case EXPORT_FORMAT:
        if (pb_export_format_parse(v, &a->format) != 0) {
            snprintf(err, errlen, "'%s' is not gbench or csv", v);
            return -1;
        }
        a->format_given = true;
        return 0;
    case EXPORT_AGGREGATES_ONLY:
        a->opts.aggregates_only = true;
        return 0;
    case EXPORT_OUTPUT:
        a->output = v;
        return pb_opt_path(v, err, errlen);
    }
    return -1;
}

static int export_input(void *ctx, const char *arg, char *err, size_t errlen)
{
    struct export_cli *a = ctx;
    if (a->input) {
        snprintf(err, errlen, "one result file at a time ('%s', '%s')", a->input, arg);
        return -1;
    }
    a->input = arg;
    return 0;
}

struct export_args {
    enum pb_export_format format;
    const struct pb_export_options *opts;
    const struct pb_result_doc *doc;
};

static int export_to(FILE *out, void *arg, char *err, size_t errlen)
{
    const struct export_args *a = arg;
    return pb_export_doc_opts(out, a->format, a->doc, a->opts, err, errlen);
}

int pb_cmd_export(int argc, char **argv)
{
    struct export_cli a = { .opts = { .aggregates_only = false } };
    const struct pb_opt_group groups[] = { { "options", export_opts, export_set, &a } };
    const struct pb_cli cli = {
        .verb = "export",
        .usage = "pendbench export --format gbench|csv [--aggregates-only] RESULT.json [-o FILE]\n",
        .about = export_about,
        .groups = groups,
        .ngroups = 1,
        .positional = export_input,
        .ctx = &a,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO)
        return pb_cli_exit(pr);
    if (!a.format_given)
        return pb_cli_fail(&cli, "--format gbench|csv is required");
    if (a.opts.aggregates_only && a.format != PB_EXPORT_GBENCH)
        return pb_cli_fail(&cli, "--aggregates-only is for --format gbench (csv has a row per "
                           "run)");
    if (!a.input)
        return pb_cli_fail(&cli, "which result file? (RESULT.json)");
    const char *input = a.input, *output = a.output;
    const struct pb_input in = { "the input", input };
    if (pb_output_is_input("export", "-o", output, "the export", &in, 1))
        return PB_EXIT_USAGE;
    enum pb_export_format format = a.format;
    struct pb_export_options opts = a.opts;
    unsigned left_out = 0;
    opts.left_out = &left_out;
    struct pb_result_doc doc;
    char err[512];
    if (pb_result_read(input, &doc, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench export: %s\n", err);
        pb_result_doc_free(&doc);
        return PB_EXIT_USAGE;
    }
    /* pb_file_write: a regular file is replaced atomically (synced, so a
     * crash leaves the old export or the new one), a device or FIFO is
     * written through, '-' (the default) is stdout. */
    struct export_args args = { format, &opts, &doc };
    char werr[4400];
    int rc = pb_file_write(output ? output : "-", export_to, &args, werr, sizeof werr);
    if (rc != 0)
        fprintf(stderr, "pendbench export: %s\n", werr);
    else if (left_out)
        fprintf(stderr, "pendbench export: note: %u %s left out for having no value (a run "
                "that completed or timed no operation; not 0 ns, which compare.py would read "
                "as the fastest); the context's pendbench_left_out names %s\n", left_out,
                left_out == 1 ? "entry was" : "entries were", left_out == 1 ? "it" : "them");
    pb_result_doc_free(&doc);
    /* A file that cannot be written is bad input like a missing one. */
    return rc == 0 ? PB_EXIT_OK : PB_EXIT_USAGE;
}
