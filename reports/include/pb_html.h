/* The HTML report: one self-contained page (inline CSS and inline SVG, no
 * script, no network) from one or more result documents (pb_result.h).
 * Charts are drawn by gnuplot (gnuplot-nox, svg terminal), run once per
 * chart with the data inline in its script; without gnuplot the page
 * still renders, with every table and a note that charts need gnuplot. */
#ifndef PB_HTML_H
#define PB_HTML_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pb_result.h"

/* One result document and the name it is shown under (usually its path). */
struct pb_html_input {
    const char *name;
    const struct pb_result_doc *doc;
};

struct pb_html_options {
    const char *gnuplot;       /* program run for the charts (PATH search); NULL: "gnuplot" */
    bool no_charts;            /* tables only (the page says so) */
    double chart_timeout_s;    /* per chart; 0: 30 s */
    double total_timeout_s;    /* all the charts of a page together; 0: 60 s. Once
                                * gnuplot runs out of time (killed), no further chart
                                * is tried */
    /* Non-zero (a signal came: the verb's pb_interrupted): gnuplot's group
     * is killed, and the page is not written (an error). NULL: never. */
    const volatile sig_atomic_t *stop;
};

/* What a rendering did, for the caller's warnings. */
struct pb_html_stats {
    unsigned charts;           /* charts embedded */
    unsigned charts_failed;    /* charts gnuplot could not draw (note in the page) */
    bool gnuplot_missing;      /* gnuplot could not be started: no chart at all */
    bool gnuplot_timed_out;    /* gnuplot ran out of time (note says so): the charts
                                * from there on are not drawn (in charts_failed) */
    char note[256];            /* the first chart problem, in words; empty when none */
};

/* Writes the page to a stream. opt, stats: may be NULL. 0, or -1 when the
 * stream failed (err says so). A chart that fails is a note in the page
 * (and in stats), never an error. */
int pb_html_render(FILE *out, const struct pb_html_input *in, unsigned n,
                   const struct pb_html_options *opt, struct pb_html_stats *stats,
                   char *err, size_t errlen);

/* The same page written to `path` by pb_file_write (pb_file.h): a regular
 * file atomically (path.tmp.<pid>, fsync, rename; on failure the
 * temporary file is removed and `path` untouched), a character device or
 * FIFO written through, a directory refused; "-" writes to stdout. 0, or
 * -1 with a message naming the file. */
int pb_html_write(const char *path, const struct pb_html_input *in, unsigned n,
                  const struct pb_html_options *opt, struct pb_html_stats *stats,
                  char *err, size_t errlen);

/* Reads the result file json_path and writes its report to html_path (the
 * default suite's report.html). 0, or -1 with pb_result_read's or the
 * writer's message in err. */
int pb_html_report_file(const char *json_path, const char *html_path,
                        const struct pb_html_options *opt, struct pb_html_stats *stats,
                        char *err, size_t errlen);

/* ---- the history's trend page (`pendbench history --html`) ----------------------- */

/* One invocation of a series: the value the trend shows, and the texts of
 * its table row (formatted by the caller, in the metric's unit). */
struct pb_html_trend_point {
    const char *date, *commit, *host;
    double value;
    const char *value_text;
    unsigned reps, busy_reps;  /* repetitions, and those beside busy processes */
    double others_max;         /* %; -1 not known */
    bool partial, failed;
};

/* A change point of the series (pb_changes.h), between points index-1 and
 * index. */
struct pb_html_trend_change {
    unsigned index;
    double median_before, median_after, shift, p_value;
    const char *before_text, *after_text;
    bool regression;
};

struct pb_html_trend_series {
    const char *title;         /* the block's head line (scenario, strategies, machine) */
    const struct pb_html_trend_point *points;
    unsigned npoints;
    const struct pb_html_trend_change *changes;
    unsigned nchanges;
    unsigned busy_left_out;    /* points --skip-busy left out */
};

struct pb_html_trend {
    const char *database;      /* its name, for the header */
    const char *metric_title;  /* "throughput (ops/s, median of repetitions)" */
    const char *unit;          /* the chart's axis: "ops/s", "ns", "fraction" */
    bool higher_is_better;
    const struct pb_html_trend_series *series;
    unsigned nseries;
    unsigned busy_series_left_out;
};

/* Writes the trend page to `path` (as pb_html_write: atomically, "-" for
 * stdout): per series a chart of its values, oldest first (busy points
 * marked, change points and the medians between them drawn), and its table.
 * 0, or -1 with a message. */
int pb_html_trend_write(const char *path, const struct pb_html_trend *t,
                        const struct pb_html_options *opt, struct pb_html_stats *stats,
                        char *err, size_t errlen);

/* Runs gnuplot (`program`, NULL: "gnuplot") on `script` with stdout
 * captured: the script must draw with the svg terminal to stdout. On
 * success *svg is a malloc'd, NUL-terminated <svg> element: the XML prolog
 * dropped, every id (and reference to one) prefixed with id_prefix so that
 * several charts can share a page, <title> replaced by `title` (escaped).
 * The program runs in a process group of its own; after timeout_s (0:
 * 30 s), or once it has written more than 64 MiB, the group is killed
 * (SIGKILL) and the program reaped.
 * When *stop (stop may be NULL) turns non-zero the group is killed at once.
 * Returns 0; -1 with err (gnuplot's first error line, too much output,
 * ...); -2 when the program could not be started at all (not installed);
 * -3 when it ran out of time; -4 when stopped. */
int pb_gnuplot_svg(const char *program, const char *script, size_t script_len,
                   double timeout_s, const volatile sig_atomic_t *stop, const char *id_prefix,
                   const char *title, char **svg, char *err, size_t errlen);

/* HTML-escapes s (& < > " ') to the stream. */
void pb_html_escape(FILE *out, const char *s);

#endif
