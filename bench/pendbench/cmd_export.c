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

static void export_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench export --format gbench|csv [--aggregates-only] RESULT.json [-o FILE]\n"
            "\n"
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
            "          The context holds the session's measured environment (load average,\n"
            "          frequency scaling, CPUs, MHz, caches) and its warnings.\n"
            "  csv     one row per run and repetition under a header row (RFC 4180):\n"
            "          date, git_commit, build_variant, host, run_id, the run's identity,\n"
            "          every workload parameter (idle ... queue-capacity), then the\n"
            "          figures; CSVs of several sessions concatenate (same header).\n"
            "\n"
            "  --aggregates-only   gbench: one entry per benchmark, for dashboards: the\n"
            "                      median of ns_per_op, the merged-histogram percentile for\n"
            "                      latency (one repetition: that repetition), named as a\n"
            "                      single repetition would be\n"
            "  -o, --output FILE   write there instead of stdout: a file is replaced\n"
            "                      atomically, a device or FIFO written through, - is\n"
            "                      stdout\n");
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
    const char *input = NULL, *output = NULL, *format_name = NULL;
    struct pb_export_options opts = {.aggregates_only = false};
    char key[64];
    const char *value;
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            export_usage(stdout);
            return PB_EXIT_OK;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (input) {
                fprintf(stderr, "pendbench export: one result file at a time ('%s', '%s')\n",
                        input, a);
                goto usage_err;
            }
            input = argv[i++];
            continue;
        }
        /* A flag: pb_next_option would take the next argument as its value. */
        if (strcmp(a, "--aggregates-only") == 0) {
            opts.aggregates_only = true;
            i++;
            continue;
        }
        if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "pendbench export: -o needs a file name\n");
                goto usage_err;
            }
            output = argv[i + 1];
            i += 2;
            continue;
        }
        if (pb_next_option(argc, argv, &i, "export", key, sizeof key, &value) != 0)
            goto usage_err;
        if (strcmp(key, "format") == 0) {
            format_name = value;
        } else if (strcmp(key, "output") == 0) {
            if (!value) {
                fprintf(stderr, "pendbench export: --output needs a file name\n");
                goto usage_err;
            }
            output = value;
        } else {
            fprintf(stderr, "pendbench export: unknown option '--%s'\n", key);
            goto usage_err;
        }
    }
    enum pb_export_format format;
    if (!format_name) {
        fprintf(stderr, "pendbench export: --format gbench|csv is required\n");
        goto usage_err;
    }
    if (pb_export_format_parse(format_name, &format) != 0) {
        fprintf(stderr, "pendbench export: --format: '%s' is not gbench or csv\n", format_name);
        goto usage_err;
    }
    if (opts.aggregates_only && format != PB_EXPORT_GBENCH) {
        fprintf(stderr, "pendbench export: --aggregates-only is for --format gbench (csv has a "
                        "row per run)\n");
        goto usage_err;
    }
    if (!input) {
        fprintf(stderr, "pendbench export: which result file? (RESULT.json)\n");
        goto usage_err;
    }
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
    pb_result_doc_free(&doc);
    /* A file that cannot be written is bad input like a missing one. */
    return rc == 0 ? PB_EXIT_OK : PB_EXIT_USAGE;
usage_err:
    fprintf(stderr, "(see `pendbench export --help`)\n");
    return PB_EXIT_USAGE;
}
