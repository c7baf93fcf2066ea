/* `pendbench report`: result files to one self-contained HTML page. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "pb_html.h"
#include "pb_err.h"
#include "pb_result.h"

#define REPORT_MAX_FILES 8

#define STR_(x) #x
#define STR(x) STR_(x)

enum { REPORT_OUTPUT };

static const struct pb_opt report_opts[] = {
    { "output", 'o', "FILE", "where to write (default report.html; '-' for stdout); written "
      "atomically", REPORT_OUTPUT },
    { NULL, 0, NULL, NULL, 0 },
};

struct report_args {
    const char *out;
    const char *inputs[REPORT_MAX_FILES];
    unsigned n;
    struct pb_html_options opt;
};

static int report_set(void *ctx, const struct pb_opt *o, const char *v, char *err, size_t errlen)
{
    struct report_args *a = ctx;
    (void)o;                           /* REPORT_OUTPUT, its one option */
    a->out = v;
    return pb_opt_path(v, err, errlen);
}

static int report_input(void *ctx, const char *arg, char *err, size_t errlen)
{
    struct report_args *a = ctx;
    if (a->n == REPORT_MAX_FILES) {
        snprintf(err, errlen, "at most %d result files", REPORT_MAX_FILES);
        return -1;
    }
    if (pb_opt_input(arg, a->inputs, a->n, err, errlen) != 0)
        return -1;
    a->inputs[a->n++] = arg;
    return 0;
}

int pb_cmd_report(int argc, char **argv)
{
    struct report_args a = { .out = "report.html" };
    const struct pb_opt_group groups[] = {
        { "options", report_opts, report_set, &a },
        { "charts", pb_chart_opts, pb_chart_set, &a.opt },
    };
    const struct pb_cli cli = {
        .verb = "report",
        .usage = "pendbench report RESULT.json [MORE.json ...] [-o OUT.html] [--no-charts]\n"
                 "                        [--gnuplot PROGRAM]\n",
        .about = "Writes one self-contained HTML page (inline styles and SVG, no script, nothing\n"
                 "fetched): the summary table, the latency percentile spectrum per strategy,\n"
                 "throughput per strategy and thread count, cancel outcomes, queue wait against\n"
                 "service, node-pair heatmaps when runs spanned several nodes, and the context\n"
                 "(machine, topology, calibration). With two or more result files (up to "
                 STR(REPORT_MAX_FILES) "),\n"
                 "the runs are compared side by side against the first. '-' reads standard\n"
                 "input.\n",
        .epilog = "Charts are drawn by gnuplot (the gnuplot-nox package); without it the page\n"
                  "has the tables and says so. gnuplot gets 60 s for all the charts together\n"
                  "(PENDBENCH_GNUPLOT_TIMEOUT_MS in the environment: another limit, in\n"
                  "milliseconds); one that takes longer is killed, and the charts not drawn by\n"
                  "then are a note in the page and a warning. Exit status: 0 written, 2 bad\n"
                  "input or a page that could not be written.\n",
        .groups = groups,
        .ngroups = sizeof groups / sizeof groups[0],
        .positional = report_input,
        .ctx = &a,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO)
        return pb_cli_exit(pr);
    if (!a.n)
        return pb_cli_fail(&cli, "which result file?");
    char err[512];
    if (pb_chart_env(&a.opt, err, sizeof err) != 0)
        return pb_cli_fail(&cli, "%s", err);
    const char *out = a.out;
    const char **inputs = a.inputs;
    unsigned n = a.n;
    struct pb_input in_files[REPORT_MAX_FILES];
    for (unsigned i = 0; i < n; i++)
        in_files[i] = (struct pb_input){ "an input", inputs[i] };
    if (pb_output_is_input("report", "-o", out, "the page", in_files, n))
        return PB_EXIT_USAGE;
    struct pb_html_options opt = a.opt;
    /* Ctrl-C or SIGTERM kills gnuplot (in a group of its own, it would
     * run on) and leaves no page, old or half-written, replaced. */
    pb_install_interrupt();
    opt.stop = &pb_interrupted;
    struct pb_result_doc docs[REPORT_MAX_FILES];
    struct pb_html_input in[REPORT_MAX_FILES];
    unsigned loaded = 0;
    int status = PB_EXIT_OK;
    for (; loaded < n; loaded++) {
        if (pb_result_read(inputs[loaded], &docs[loaded], err, sizeof err) != 0) {
            fprintf(stderr, "pendbench report: %s\n", err);
            pb_result_doc_free(&docs[loaded]);
            status = PB_EXIT_USAGE;
            break;
        }
        in[loaded].name = inputs[loaded];
        in[loaded].doc = &docs[loaded];
    }
    if (status == PB_EXIT_OK) {
        struct pb_html_stats st;
        if (pb_html_write(out, in, n, &opt, &st, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench report: %s\n", err);
            status = pb_interrupted ? pb_interrupted_status() : PB_EXIT_USAGE;
        } else {
            pb_chart_warn("report", out, &st);
            if (strcmp(out, "-") != 0)
                printf("report: %s (%u chart%s)\n", out, st.charts, st.charts == 1 ? "" : "s");
        }
    }
    for (unsigned k = 0; k < loaded; k++)
        pb_result_doc_free(&docs[k]);
    return status;
}
