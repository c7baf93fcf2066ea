/* `pendbench report`: result files to one self-contained HTML page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pb_html.h"
#include "pb_result.h"

#define REPORT_MAX_FILES 8

static void report_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench report RESULT.json [MORE.json ...] [-o OUT.html] [--no-charts]\n"
            "                        [--gnuplot PROGRAM]\n"
            "\n"
            "Writes one self-contained HTML page (inline styles and SVG, no script, nothing\n"
            "fetched): the summary table, the latency percentile spectrum per strategy,\n"
            "throughput per strategy and thread count, cancel outcomes, queue wait against\n"
            "service, node-pair heatmaps when runs spanned several nodes, and the context\n"
            "(machine, topology, calibration). With two or more result files (up to %d),\n"
            "the runs are compared side by side against the first.\n"
            "\n"
            "  -o, --output FILE  where to write (default report.html; '-' for stdout);\n"
            "                     written atomically\n"
            "  --no-charts        tables only\n"
            "  --gnuplot PROGRAM  the gnuplot to run (default: gnuplot on PATH)\n"
            "\n"
            "Charts are drawn by gnuplot (the gnuplot-nox package); without it the page\n"
            "has the tables and says so. Exit status: 0 written, 2 bad input or a page\n"
            "that could not be written.\n",
            REPORT_MAX_FILES);
}

int pb_cmd_report(int argc, char **argv)
{
    const char *out = "report.html";
    const char *inputs[REPORT_MAX_FILES];
    unsigned n = 0;
    struct pb_html_options opt = { 0 };
    for (int i = 1; i < argc;) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            report_usage(stdout);
            return PB_EXIT_OK;
        }
        if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "pendbench report: -o needs a file name\n");
                return PB_EXIT_USAGE;
            }
            out = argv[i + 1];
            i += 2;
            continue;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (n == REPORT_MAX_FILES) {
                fprintf(stderr, "pendbench report: at most %d result files\n", REPORT_MAX_FILES);
                return PB_EXIT_USAGE;
            }
            inputs[n++] = a;
            i++;
            continue;
        }
        if (strcmp(a, "--no-charts") == 0) {
            opt.no_charts = true;
            i++;
            continue;
        }
        char key[32];
        const char *value;
        if (pb_next_option(argc, argv, &i, "report", key, sizeof key, &value) != 0)
            return PB_EXIT_USAGE;
        if (strcmp(key, "output") == 0 || strcmp(key, "gnuplot") == 0) {
            if (!value || !*value) {
                fprintf(stderr, "pendbench report: --%s needs a value\n", key);
                return PB_EXIT_USAGE;
            }
            if (key[0] == 'o')
                out = value;
            else
                opt.gnuplot = value;
        } else {
            fprintf(stderr, "pendbench report: unknown option '--%s' (see `pendbench report "
                            "--help`)\n", key);
            return PB_EXIT_USAGE;
        }
    }
    if (!n) {
        fprintf(stderr, "pendbench report: which result file? (see `pendbench report --help`)\n");
        return PB_EXIT_USAGE;
    }
    struct pb_result_doc docs[REPORT_MAX_FILES];
    struct pb_html_input in[REPORT_MAX_FILES];
    unsigned loaded = 0;
    int status = PB_EXIT_OK;
    char err[512];
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
            status = PB_EXIT_USAGE;
        } else {
            if (st.gnuplot_missing)
                fprintf(stderr, "pendbench report: warning: charts need gnuplot (the gnuplot-nox "
                                "package): %s; the page has the tables only\n", st.note);
            else if (st.charts_failed)
                fprintf(stderr, "pendbench report: warning: %u chart%s could not be drawn: %s\n",
                        st.charts_failed, st.charts_failed == 1 ? "" : "s", st.note);
            if (strcmp(out, "-") != 0)
                printf("report: %s (%u chart%s)\n", out, st.charts, st.charts == 1 ? "" : "s");
        }
    }
    for (unsigned k = 0; k < loaded; k++)
        pb_result_doc_free(&docs[k]);
    return status;
}
