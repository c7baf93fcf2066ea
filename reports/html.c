/* The HTML report (pb_html.h): one page, inline CSS, inline SVG charts
 * drawn by gnuplot, no script and nothing fetched from the network.
 *
 * The page is built in memory (the charts decide whether the page needs a
 * "charts need gnuplot" note at its top), then written in one go: to a
 * stream, or atomically to a file. Every string that comes from a result
 * file is HTML-escaped on its way into the page, and reduced to a safe set
 * of characters on its way into a gnuplot script (it is also drawn
 * "noenhanced", so '_' and '^' stay themselves). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pb_compare.h"
#include "pb_file.h"
#include "pb_html.h"
#include "pb_lock.h"
#include "pb_runkey.h"

#define MAX_FILES 8                 /* columns of the comparison */
#define MAX_LINES_PER_SPECTRUM 14   /* beyond that a spectrum is unreadable: split */
#define MAX_HEATMAPS 12
#define MAX_COMPARE_CHARTS 24
#define CHART_W 1100                /* px: wide charts (the page is 1320 px) */
#define LABEL_MAX 320               /* a run label: scenario, strategies, threads, repetition */

static const char *const colors[] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#8c8c8c" };
#define NCOLORS (sizeof colors / sizeof colors[0])

/* ---- small formatting helpers -------------------------------------------------- */

void pb_html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

#define esc pb_html_escape

static const char *fmt_ns(double ns, char *buf, size_t size)
{
    if (!(ns == ns))
        snprintf(buf, size, "-");
    else if (ns < 1000)
        snprintf(buf, size, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, size, "%.2f \xc2\xb5s", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, size, "%.2f ms", ns / 1e6);
    else
        snprintf(buf, size, "%.2f s", ns / 1e9);
    return buf;
}

/* 2116661.3 -> "2,116,661" */
static const char *fmt_count(double v, char *buf, size_t size)
{
    char raw[48];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t n = strlen(raw), o = 0;
    size_t digits = n - (raw[0] == '-');
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        buf[o++] = raw[i];
        size_t left = n - 1 - i;
        if (raw[i] != '-' && left > 0 && left % 3 == 0 && digits > 3)
            buf[o++] = ',';
    }
    buf[o] = 0;
    return buf;
}

/* Jain's index, 1 = fair; "-" when not known (a null in the file). */
static const char *fmt_jain(double v, char *buf, size_t size)
{
    if (v == v)
        snprintf(buf, size, "%.3f", v);
    else
        snprintf(buf, size, "-");
    return buf;
}

/* A string for a gnuplot script, double-quoted: control characters,
 * quotes and backslashes replaced (the script has no way to need them). */
static void gp_quote(FILE *g, const char *s)
{
    fputc('"', g);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fputc(' ', g);
        else if (c == '"' || c == '\\')
            fputc('\'', g);
        else
            fputc(c, g);
    }
    fputc('"', g);
}

/* The same for a string gnuplot takes as a format (explicit tic labels). */
static void gp_quote_fmt(FILE *g, const char *s)
{
    char buf[LABEL_MAX * 2];
    size_t o = 0;
    for (; s && *s && o + 3 < sizeof buf; s++) {
        if (*s == '%')
            buf[o++] = '%';
        buf[o++] = *s;
    }
    buf[o] = 0;
    gp_quote(g, buf);
}

/* "magazine/global-mutex/xchg", then " [lock mcs]" when a lock was chosen. */
static const char *run_strategies(const struct pb_run_result *r, char *buf, size_t size)
{
    const char *lock = r->scenario.lock;
    snprintf(buf, size, "%s/%s/%s%s%s%s", r->scenario.pool, r->scenario.queue,
             r->scenario.handoff, lock[0] ? " [lock " : "", lock, lock[0] ? "]" : "");
    return buf;
}

static const char *threads_label(unsigned requesters, unsigned workers, char *buf, size_t size)
{
    if (requesters == workers)
        snprintf(buf, size, "%u thread%s", requesters, requesters == 1 ? "" : "s");
    else
        snprintf(buf, size, "%u req / %u wrk", requesters, workers);
    return buf;
}

/* What varies inside one document decides what a run's label needs. */
struct doc_shape {
    bool threads_vary, reps;
};

static struct doc_shape shape_of(const struct pb_result_doc *d)
{
    struct doc_shape s = { false, false };
    for (unsigned i = 0; i < d->nruns; i++) {
        const struct pb_run_result *r = &d->runs[i].r;
        if (r->repetition > 0)
            s.reps = true;
        if (r->scenario.requesters != d->runs[0].r.scenario.requesters ||
            r->scenario.workers != d->runs[0].r.scenario.workers)
            s.threads_vary = true;
    }
    return s;
}

/* "steady magazine/percpu-mpsc/xchg", with the lock when one was chosen,
 * the thread count and the repetition when the document has several. */
static const char *run_label(const struct pb_run_result *r, struct doc_shape sh, char *buf,
                             size_t size)
{
    char strat[4 * PB_NAME_MAX + 16], th[48] = "", rep[24] = "";
    if (sh.threads_vary) {
        th[0] = ' ';
        threads_label(r->scenario.requesters, r->scenario.workers, th + 1, sizeof th - 1);
    }
    if (sh.reps)
        snprintf(rep, sizeof rep, " #%u", r->repetition);
    snprintf(buf, size, "%s %s%s%s", r->scenario.name, run_strategies(r, strat, sizeof strat), th,
             rep);
    return buf;
}

static double pct(const struct pb_hist *h, double p)
{
    return h->count ? (double)pb_hist_percentile(h, p) : NAN;
}

/* ---- charts -------------------------------------------------------------------- */

struct render {
    FILE *out;                 /* the page body (in memory) */
    const struct pb_html_options *opt;
    struct pb_html_stats *st;
    unsigned next_chart;
    double deadline;           /* CLOCK_MONOTONIC seconds: the charts' time runs out */
};

/* A gnuplot script under construction. */
struct script {
    char *text;
    size_t len;
    FILE *f;
};

static int script_open(struct script *s, int width, int height)
{
    s->text = NULL;
    s->len = 0;
    s->f = open_memstream(&s->text, &s->len);
    if (!s->f)
        return -1;
    fprintf(s->f,
            "set terminal svg size %d,%d dynamic enhanced font 'sans,10' background '#ffffff'\n"
            "set encoding utf8\n"
            "set border lc rgb '#555555'\n"
            "set grid lc rgb '#dddddd' lw 1\n"
            "set key noenhanced\n"
            "set datafile missing '-'\n"
            "set tics nomirror\n"
            "set border 3\n",
            width, height);
    return 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *gnuplot_name(const struct pb_html_options *opt)
{
    return opt && opt->gnuplot && *opt->gnuplot ? opt->gnuplot : "gnuplot";
}

/* A signal came (opt->stop): no more charts, and no page. */
static bool stopped(const struct pb_html_options *opt)
{
    return opt && opt->stop && *opt->stop;
}

static double total_timeout(const struct pb_html_options *opt)
{
    return opt && opt->total_timeout_s > 0 ? opt->total_timeout_s : 60;
}

/* Runs the script and puts the chart (or a note that it is missing) in
 * the page. */
static void chart_emit(struct render *R, struct script *s, const char *title, int width,
                       const char *caption)
{
    FILE *o = R->out;
    if (s->f)
        fclose(s->f);
    s->f = NULL;
    char *svg = NULL;
    char err[256] = "";
    int rc = -2;
    if (R->opt && R->opt->no_charts) {
        snprintf(err, sizeof err, "charts were turned off");
    } else if (stopped(R->opt)) {
        snprintf(err, sizeof err, "interrupted");
        rc = -1;
    } else if (R->st->gnuplot_missing) {
        snprintf(err, sizeof err, "%s", R->st->note);
    } else if (R->st->gnuplot_timed_out || mono_s() >= R->deadline) {
        if (!R->st->gnuplot_timed_out)
            snprintf(R->st->note, sizeof R->st->note, "%s timed out: the charts' %.3g s ran out",
                     gnuplot_name(R->opt), total_timeout(R->opt));
        R->st->gnuplot_timed_out = true;
        snprintf(err, sizeof err, "%s", R->st->note);
        rc = -1;
    } else if (!s->text) {
        snprintf(err, sizeof err, "out of memory");
        rc = -1;
    } else {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "c%u-", R->next_chart);
        double left = R->deadline - mono_s();
        if (left < 0.001)
            left = 0.001;
        double per_chart = R->opt && R->opt->chart_timeout_s > 0 ? R->opt->chart_timeout_s : 30;
        rc = pb_gnuplot_svg(R->opt ? R->opt->gnuplot : NULL, s->text, s->len,
                            left < per_chart ? left : per_chart, R->opt ? R->opt->stop : NULL,
                            prefix, title, &svg, err, sizeof err);
        if (rc == -2) {
            R->st->gnuplot_missing = true;
            snprintf(R->st->note, sizeof R->st->note, "%s", err);
        } else if (rc == -3) {
            /* No later chart is tried: each would wait as long. */
            R->st->gnuplot_timed_out = true;
            snprintf(R->st->note, sizeof R->st->note, "%s", err);
        }
    }
    free(s->text);
    s->text = NULL;
    fprintf(o, "<figure class=\"chart\" style=\"max-width:%dpx\">\n", width);
    if (svg) {
        R->next_chart++;
        R->st->charts++;
        fputs(svg, o);
        free(svg);
    } else {
        if (!(R->opt && R->opt->no_charts) && !R->st->gnuplot_missing) {
            R->st->charts_failed++;
            if (!R->st->note[0])
                snprintf(R->st->note, sizeof R->st->note, "%s", err);
        }
        fprintf(o, "<div class=\"nochart\">Chart &ldquo;");
        esc(o, title);
        fprintf(o, "&rdquo; is not drawn: ");
        esc(o, err);
        fprintf(o, "%s</div>", rc == -2 ? " (charts need gnuplot: the gnuplot-nox package)" : "");
    }
    if (caption) {
        fprintf(o, "\n<figcaption>");
        esc(o, caption);
        fprintf(o, "</figcaption>");
    }
    fprintf(o, "\n</figure>\n");
}

/* Points of a percentile spectrum, HdrHistogram style: percentiles at
 * ten steps per halving of the remaining tail, x = 1/(1-p), up to the
 * last whole operation; then the maximum at x = count. y in seconds. */
static void spectrum_points(FILE *g, const struct pb_hist *h)
{
    fprintf(g, "1 %.6g\n", (double)h->min / 1e9);
    for (unsigned k = 1;; k++) {
        double tail = pow(0.5, k / 10.0);
        if (tail * (double)h->count < 1.0)
            break;
        double p = 100.0 * (1.0 - tail);
        fprintf(g, "%.6g %.6g\n", 1.0 / tail, (double)pb_hist_percentile(h, p) / 1e9);
    }
    fprintf(g, "%.6g %.6g\n", (double)h->count, (double)h->max / 1e9);
}

static void spectrum_axes(FILE *g, double xmax)
{
    double top = 10;
    while (top < xmax)
        top *= 10;
    fprintf(g,
            "set logscale x\nset logscale y\nset xrange [1:%g]\n"
            "set xtics (\"0%%%%\" 1, \"50%%%%\" 2, \"90%%%%\" 10, \"99%%%%\" 100, \"99.9%%%%\" 1e3, "
            "\"99.99%%%%\" 1e4, \"99.999%%%%\" 1e5, \"99.9999%%%%\" 1e6, \"99.99999%%%%\" 1e7, "
            "\"99.999999%%%%\" 1e8, \"99.9999999%%%%\" 1e9)\n"
            "unset mxtics\n"
            "set format y '%%.0s %%cs'\n"
            "set xlabel 'percentile (log scale of 1/(1-p): each step right is one more nine)'\n"
            "set ylabel 'latency, pend to completion'\n"
            "set key outside right top vertical Left reverse spacing 1.1 font ',9'\n",
            top);
}

/* One spectrum chart: a line per histogram. dashes[i]: a dash type per
 * line (NULL: solid, colours cycle, dashes after the palette runs out). */
static void spectrum_chart(struct render *R, const char *title, const struct pb_hist *const *h,
                           const char *const *labels, const unsigned *color_of,
                           const unsigned *dash_of, unsigned n, int width, int height,
                           const char *caption)
{
    struct script s;
    if (script_open(&s, width, height) != 0)
        return;
    FILE *g = s.f;
    double xmax = 10;
    for (unsigned i = 0; i < n; i++) {
        fprintf(g, "$d%u << EOD\n", i);
        if (h[i]->count)
            spectrum_points(g, h[i]);
        else
            fprintf(g, "1 -\n");
        fprintf(g, "EOD\n");
        if ((double)h[i]->count > xmax)
            xmax = (double)h[i]->count;
    }
    spectrum_axes(g, xmax);
    if (width < 800)
        fprintf(g, "set key inside top left vertical Left reverse opaque box lc rgb '#cccccc'\n");
    fprintf(g, "set title ");
    gp_quote(g, title);
    fprintf(g, " noenhanced\nplot ");
    for (unsigned i = 0; i < n; i++) {
        unsigned c = color_of ? color_of[i] : i;
        unsigned dt = dash_of ? dash_of[i] + 1 : c / NCOLORS + 1;
        fprintf(g, "%s$d%u using 1:2 with lines lw 1.6 lc rgb '%s' dt %u title ", i ? ", \\\n  " : "",
                i, colors[c % NCOLORS], dt);
        gp_quote(g, labels[i]);
    }
    if (!n)
        fprintf(g, "1/0 notitle");
    fprintf(g, "\n");
    chart_emit(R, &s, title, width, caption);
}

/* The spectra of one document: a chart per scenario that has several
 * runs (strategies compared on equal terms), then one for the scenarios
 * that have a single run; charts with too many lines are split. */
static void spectra_in_parts(struct render *R, const struct pb_result_doc *d, const unsigned *idx,
                             unsigned m, const char *what, bool one_scenario)
{
    /* Labels say only what differs between the lines of a chart. */
    struct doc_shape sh = { false, false };
    for (unsigned j = 0; j < m; j++) {
        const struct pb_run_result *r = &d->runs[idx[j]].r;
        sh.reps |= r->repetition > 0;
        sh.threads_vary |= r->scenario.requesters != d->runs[idx[0]].r.scenario.requesters ||
                           r->scenario.workers != d->runs[idx[0]].r.scenario.workers;
    }
    const struct pb_hist *h[MAX_LINES_PER_SPECTRUM];
    char lab[MAX_LINES_PER_SPECTRUM][LABEL_MAX];
    const char *labp[MAX_LINES_PER_SPECTRUM];
    unsigned parts = (m + MAX_LINES_PER_SPECTRUM - 1) / MAX_LINES_PER_SPECTRUM;
    for (unsigned part = 0; part < parts; part++) {
        unsigned k = 0;
        for (unsigned j = part * MAX_LINES_PER_SPECTRUM; j < m && k < MAX_LINES_PER_SPECTRUM; j++) {
            const struct pb_run_result *r = &d->runs[idx[j]].r;
            h[k] = &r->total;
            labp[k] = run_label(r, sh, lab[k], sizeof lab[k]);
            if (one_scenario && strlen(labp[k]) > strlen(r->scenario.name))
                labp[k] += strlen(r->scenario.name) + 1;
            k++;
        }
        char title[256];
        if (parts > 1)
            snprintf(title, sizeof title, "Latency spectrum: %s (part %u of %u)", what, part + 1,
                     parts);
        else
            snprintf(title, sizeof title, "Latency spectrum: %s", what);
        spectrum_chart(R, title, h, labp, NULL, NULL, k, 1100, 460, NULL);
    }
}

static void doc_spectra(struct render *R, const struct pb_result_doc *d)
{
    unsigned n = d->nruns;
    bool *done = calloc(n ? n : 1, sizeof *done);
    unsigned *idx = calloc(n ? n : 1, sizeof *idx);
    if (!done || !idx)
        goto out;
    bool any_group = false;
    for (unsigned i = 0; i < n; i++) {
        if (done[i])
            continue;
        const char *name = d->runs[i].r.scenario.name;
        unsigned m = 0;
        for (unsigned j = i; j < n; j++)
            if (!done[j] && strcmp(d->runs[j].r.scenario.name, name) == 0)
                idx[m++] = j;
        if (m < 2)
            continue;
        for (unsigned k = 0; k < m; k++)
            done[idx[k]] = true;
        any_group = true;
        spectra_in_parts(R, d, idx, m, name, true);
    }
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        if (!done[i])
            idx[m++] = i;
    if (m)
        spectra_in_parts(R, d, idx, m, any_group ? "scenarios with one run each" : "all runs",
                         false);
out:
    free(done);
    free(idx);
}

/* Horizontal bars, one row per listed run, top down, labelled on the
 * left (long labels stay readable): the axes of such a chart. */
static void bar_rows_axes(FILE *g, const struct pb_result_doc *d, const unsigned *runs,
                          unsigned m, struct doc_shape sh)
{
    fprintf(g, "set yrange [%u.5:-0.5]\nset ytics nomirror scale 0 font ',9' (", m ? m - 1 : 0);
    for (unsigned k = 0; k < m; k++) {
        char lab[LABEL_MAX];
        if (k)
            fputc(',', g);
        gp_quote_fmt(g, run_label(&d->runs[runs[k]].r, sh, lab, sizeof lab));
        fprintf(g, " %u", k);
    }
    fprintf(g, ")\nset grid xtics noytics\nset style fill solid 0.85 border rgb '#444444'\n"
               "set border 3\n");
}

/* Throughput: a bar per run key (scenario and strategies), grouped by
 * thread count when the document has several. */
static void doc_throughput(struct render *R, const struct pb_result_doc *d, const char *title)
{
    unsigned n = d->nruns;
    if (!n)
        return;
    /* Thread settings, sorted. */
    unsigned (*th)[2] = calloc(n, sizeof *th);
    int *key_of = calloc(n, sizeof *key_of);
    unsigned *keys = calloc(n, sizeof *keys);
    if (!th || !key_of || !keys)
        goto out;
    unsigned nth = 0, nkeys = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct pb_scenario *s = &d->runs[i].r.scenario;
        unsigned k;
        for (k = 0; k < nth; k++)
            if (th[k][0] == s->requesters && th[k][1] == s->workers)
                break;
        if (k == nth) {
            unsigned at = nth++;
            while (at > 0 && (th[at - 1][0] > s->requesters ||
                              (th[at - 1][0] == s->requesters && th[at - 1][1] > s->workers))) {
                th[at][0] = th[at - 1][0];
                th[at][1] = th[at - 1][1];
                at--;
            }
            th[at][0] = s->requesters;
            th[at][1] = s->workers;
        }
        /* Key: scenario + strategies + lock + repetition, thread count aside. */
        const struct pb_run_result *r = &d->runs[i].r;
        key_of[i] = -1;
        for (k = 0; k < nkeys; k++) {
            const struct pb_run_result *o = &d->runs[keys[k]].r;
            if (strcmp(o->scenario.name, r->scenario.name) == 0 &&
                strcmp(o->scenario.pool, r->scenario.pool) == 0 &&
                strcmp(o->scenario.queue, r->scenario.queue) == 0 &&
                strcmp(o->scenario.handoff, r->scenario.handoff) == 0 &&
                strcmp(o->scenario.lock, r->scenario.lock) == 0 &&
                o->repetition == r->repetition) {
                key_of[i] = (int)k;
                break;
            }
        }
        if (key_of[i] < 0) {
            keys[nkeys] = i;
            key_of[i] = (int)nkeys++;
        }
    }
    /* Grouped by thread count only when some strategy set ran with
     * several; otherwise a bar per run, its thread count in its label. */
    bool grouped = nkeys < n;
    struct doc_shape sh = shape_of(d);
    if (grouped) {
        sh.threads_vary = false;         /* the groups say it */
    } else {
        nth = 1;
        for (unsigned i = 0; i < n; i++)
            keys[i] = i;
    }
    double vmax = 0;
    for (unsigned i = 0; i < n; i++)
        if (d->runs[i].r.throughput_ops_s > vmax)
            vmax = d->runs[i].r.throughput_ops_s;
    double scale = vmax >= 1e6 ? 1e6 : vmax >= 1e3 ? 1e3 : 1;
    const char *unit = scale == 1e6 ? "million ops/s" : scale == 1e3 ? "thousand ops/s" : "ops/s";
    int row_h = nth > 1 ? 12 * (int)nth + 10 : 24;
    int height = 150 + (int)nkeys * row_h;
    height = height > 4000 ? 4000 : height;
    struct script s;
    if (script_open(&s, CHART_W, height) != 0)
        goto out;
    FILE *g = s.f;
    /* Row k, thread column t: a bar from 0 to the value, rows top down. */
    fprintf(g, "$d << EOD\n");
    for (unsigned k = 0; k < nkeys; k++) {
        fprintf(g, "%u", k);
        for (unsigned t = 0; t < nth; t++) {
            double v = grouped ? NAN : d->runs[keys[k]].r.throughput_ops_s / scale;
            for (unsigned i = 0; grouped && i < n; i++) {
                const struct pb_scenario *sc = &d->runs[i].r.scenario;
                if (key_of[i] == (int)k && sc->requesters == th[t][0] && sc->workers == th[t][1]) {
                    v = d->runs[i].r.throughput_ops_s / scale;
                    break;
                }
            }
            if (v == v)
                fprintf(g, " %.6g", v);
            else
                fprintf(g, " -");
        }
        fprintf(g, "\n");
    }
    fprintf(g, "EOD\n");
    bar_rows_axes(g, d, keys, nkeys, sh);
    fprintf(g, "set xrange [0:*]\nset offsets 0, graph 0.08, 0, 0\n"
               "set xlabel '%s (higher is better)'\n", unit);
    if (nth > 1)
        fprintf(g, "set key outside top center horizontal\n");
    else
        fprintf(g, "set key off\n");
    fprintf(g, "set title ");
    gp_quote(g, title);
    fprintf(g, " noenhanced\nplot ");
    double bw = 0.8 / nth;
    for (unsigned t = 0; t < nth; t++) {
        char lab[48];
        double off = ((double)t - (nth - 1) / 2.0) * bw;
        fprintf(g, "%s$d using ($%u/2):($1%+.4f):(0):%u:($1%+.4f):($1%+.4f) with boxxyerror "
                   "lc rgb '%s' title ", t ? ", " : "", t + 2, off, t + 2, off - bw / 2 * 0.9,
                off + bw / 2 * 0.9, colors[t % NCOLORS]);
        gp_quote(g, threads_label(th[t][0], th[t][1], lab, sizeof lab));
        fprintf(g, ", $d using %u:($1%+.4f):(sprintf(' %%.3g', $%u)) with labels left "
                   "font ',8' notitle", t + 2, off, t + 2);
    }
    fprintf(g, "\n");
    chart_emit(R, &s, title, CHART_W, NULL);
out:
    free(th);
    free(key_of);
    free(keys);
}

/* Cancel outcomes, stacked, as shares of the attempts, for runs that
 * cancelled. */
static void doc_cancels(struct render *R, const struct pb_result_doc *d)
{
    unsigned *rows = calloc(d->nruns ? d->nruns : 1, sizeof *rows);
    if (!rows)
        return;
    unsigned m = 0;
    for (unsigned i = 0; i < d->nruns; i++)
        if (d->runs[i].r.cancel.attempted)
            rows[m++] = i;
    struct script s;
    if (!m || script_open(&s, CHART_W, 170 + (int)m * 26) != 0) {
        free(rows);
        return;
    }
    FILE *g = s.f;
    /* Cumulative shares: column 2 + c is where category c ends. */
    fprintf(g, "$d << EOD\n");
    for (unsigned k = 0; k < m; k++) {
        const struct pb_cancel_outcomes *c = &d->runs[rows[k]].r.cancel;
        double sum = (double)(c->won + c->lost + c->early + c->late + c->not_cancelable);
        if (sum <= 0)
            sum = 1;
        double v[5] = { (double)c->won, (double)c->lost, (double)c->early, (double)c->late,
                        (double)c->not_cancelable };
        double cum = 0;
        fprintf(g, "%u 0", k);
        for (int j = 0; j < 5; j++) {
            cum += 100.0 * v[j] / sum;
            fprintf(g, " %.4f", cum);
        }
        fprintf(g, "\n");
    }
    fprintf(g, "EOD\n");
    bar_rows_axes(g, d, rows, m, shape_of(d));
    fprintf(g, "set xrange [0:100]\nset xlabel 'share of cancel attempts (%%)'\n"
               "set key outside top center horizontal maxrows 1\nset title 'Cancel outcomes'\n"
               "plot ");
    static const char *const cat[5][2] = {
        { "#59a14f", "won" }, { "#f28e2b", "lost" }, { "#4e79a7", "early" },
        { "#b07aa1", "late" },
        { "#bab0ac", "not cancelable" },
    };
    for (int j = 0; j < 5; j++)
        fprintf(g, "%s$d using (($%d+$%d)/2):1:%d:%d:($1-0.35):($1+0.35) with boxxyerror "
                   "lc rgb '%s' title '%s'", j ? ", " : "", j + 2, j + 3, j + 2, j + 3, cat[j][0],
                cat[j][1]);
    fprintf(g, "\n");
    free(rows);
    chart_emit(R, &s, "Cancel outcomes", CHART_W,
               "Every attempt lands in one category: won (the cancel completed the operation), "
               "lost (the worker got there first), early (before the cancel routine was set), "
               "late (after completion), not cancelable. The cancel success rate is the green "
               "share.");
}

/* Queue wait against service: p50 and p99 of each, per run. */
static void doc_queue_service(struct render *R, const struct pb_result_doc *d)
{
    unsigned *rows = calloc(d->nruns ? d->nruns : 1, sizeof *rows);
    if (!rows)
        return;
    unsigned m = 0;
    for (unsigned i = 0; i < d->nruns; i++)
        if (d->runs[i].r.queue_wait.count || d->runs[i].r.service.count)
            rows[m++] = i;
    struct script s;
    if (!m || script_open(&s, CHART_W, 170 + (int)m * 58) != 0) {
        free(rows);
        return;
    }
    FILE *g = s.f;
    fprintf(g, "$d << EOD\n");
    double lo = INFINITY;
    for (unsigned k = 0; k < m; k++) {
        const struct pb_run_result *r = &d->runs[rows[k]].r;
        double v[4] = { pct(&r->queue_wait, 50), pct(&r->queue_wait, 99), pct(&r->service, 50),
                        pct(&r->service, 99) };
        fprintf(g, "%u", k);
        for (int j = 0; j < 4; j++) {
            if (v[j] == v[j] && v[j] > 0) {
                fprintf(g, " %.6g", v[j] / 1e9);
                if (v[j] < lo)
                    lo = v[j];
            } else {
                fprintf(g, " -");
            }
        }
        fprintf(g, "\n");
    }
    fprintf(g, "EOD\n");
    /* Bars on a log scale need a base: the decade under the smallest value. */
    double base_ns = 1;
    if (lo < INFINITY)
        base_ns = pow(10, floor(log10(lo)));
    if (base_ns >= lo)
        base_ns /= 10;
    bar_rows_axes(g, d, rows, m, shape_of(d));
    fprintf(g, "set logscale x\nset xrange [%.3g:*]\nset format x '%%.0s %%cs'\n"
               "set xlabel 'latency (log scale)'\nset key outside top center horizontal\n"
               "set title 'Queue wait against service'\nplot ",
            base_ns / 1e9);
    static const char *const what[4][2] = {
        { "#a0cbe8", "queue wait p50" }, { "#4e79a7", "queue wait p99" },
        { "#ffbe7d", "service p50" }, { "#f28e2b", "service p99" },
    };
    for (int j = 0; j < 4; j++) {
        double off = (j - 1.5) * 0.2;
        fprintf(g, "%s$d using %d:($1%+.2f):(%.3g):%d:($1%+.3f):($1%+.3f) with boxxyerror "
                   "lc rgb '%s' title '%s'", j ? ", " : "", j + 2, off, base_ns / 1e9, j + 2,
                off - 0.09, off + 0.09, what[j][0], what[j][1]);
    }
    fprintf(g, "\n");
    free(rows);
    chart_emit(R, &s, "Queue wait against service", CHART_W,
               "Queue wait: issue to a worker taking the item. Service: taking it to completion. "
               "Operations a worker completed.");
}

/* Node-pair heatmaps for the runs that spanned several nodes. */
static unsigned doc_heatmaps(struct render *R, const struct pb_result_doc *d)
{
    unsigned drawn = 0;
    struct doc_shape sh = shape_of(d);
    for (unsigned i = 0; i < d->nruns && drawn < MAX_HEATMAPS; i++) {
        const struct pb_run_result *r = &d->runs[i].r;
        if (r->npairs < 2)
            continue;
        int nr = 0, nw = 0;
        for (unsigned k = 0; k < r->npairs; k++) {
            if (r->pairs[k].requester_node + 1 > nr)
                nr = r->pairs[k].requester_node + 1;
            if (r->pairs[k].worker_node + 1 > nw)
                nw = r->pairs[k].worker_node + 1;
        }
        if (nr <= 0 || nw <= 0 || nr > 64 || nw > 64)
            continue;
        int width = 200 + 110 * nw, height = 140 + 90 * nr;
        width = width < 480 ? 480 : width;
        height = height < 380 ? 380 : height;
        struct script s;
        if (script_open(&s, width, height) != 0)
            return drawn;
        FILE *g = s.f;
        fprintf(g, "$m << EOD\n");
        for (int rn = 0; rn < nr; rn++)
            for (int wn = 0; wn < nw; wn++) {
                double v = NAN;
                for (unsigned k = 0; k < r->npairs; k++)
                    if (r->pairs[k].requester_node == rn && r->pairs[k].worker_node == wn &&
                        r->pairs[k].total.count)
                        v = pct(&r->pairs[k].total, 50) / 1e3;
                if (v == v)
                    fprintf(g, "%d %d %.6g\n", wn, rn, v);
                else
                    fprintf(g, "%d %d NaN\n", wn, rn);
            }
        fprintf(g, "EOD\n$l << EOD\n");
        for (unsigned k = 0; k < r->npairs; k++) {
            const struct pb_node_pair *p = &r->pairs[k];
            if (p->requester_node < 0 || p->worker_node < 0)
                continue;
            char a[32], b[32], c[40];
            fmt_ns(pct(&p->total, 50), a, sizeof a);
            fmt_ns(pct(&p->total, 99), b, sizeof b);
            fprintf(g, "%d %d \"p50 %s\" \"p99 %s\" \"%s ops\"\n", p->worker_node,
                    p->requester_node, a, b, fmt_count((double)p->total.count, c, sizeof c));
        }
        fprintf(g, "EOD\n");
        char lab[LABEL_MAX], title[LABEL_MAX + 16];
        snprintf(title, sizeof title, "Node pairs: %s", run_label(r, sh, lab, sizeof lab));
        fprintf(g,
                "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\nset cbrange [0:*]\n"
                "set xtics 1 nomirror\nset ytics 1 nomirror\nset border 15\nunset grid\n"
                "set xlabel 'worker node'\nset ylabel 'requester node'\n"
                "set cblabel 'p50 (\xc2\xb5s)'\n"
                "set palette defined (0 '#fff5d6', 0.5 '#f7a35c', 1 '#c0392b')\n"
                "set style textbox opaque fillcolor rgb '#ffffff' noborder margins 1,1\n"
                "set title ",
                nw - 1, nr - 1);
        gp_quote(g, title);
        fprintf(g, " noenhanced\nplot $m using 1:2:($1-0.5):($1+0.5):($2-0.5):($2+0.5):3 "
                   "with boxxyerror fs solid 1.0 noborder fc palette notitle, "
                   "$l using 1:($2-0.18):3 with labels boxed font ',10' notitle, "
                   "$l using 1:2:4 with labels boxed font ',9' notitle, "
                   "$l using 1:($2+0.18):5 with labels boxed font ',9' notitle\n");
        chart_emit(R, &s, title, width, NULL);
        drawn++;
    }
    return drawn;
}

/* ---- locks ----------------------------------------------------------------------- */

/* The runs of one configuration (scenario, strategies, workload) under
 * several locks, side by side: a row per lock, against the baseline lock
 * (the one pb_locks[] flags PB_BASELINE: its flag is read, never a name). */

#define MAX_LOCK_CHARTS 12

struct lock_row {
    char lock[PB_NAME_MAX];    /* chosen (the run key's); "" = each strategy's own */
    const char *taken;         /* locks_taken of its first run */
    unsigned n;                /* repetitions summarised */
    unsigned screened;         /* and left out: measured in another machine state */
    unsigned *runs;            /* the summarised ones' indices in the document */
    bool reference;
    double tput;               /* median of the repetitions' ops/s */
    double p99;                /* of their merged histograms, ns */
    double jain, worker_jain;  /* median of the repetitions' */
    double wait_per_acq;       /* ns: summed wait / summed acquisitions */
    double contended;          /* share of acquisitions that waited */
};

struct lock_set {
    unsigned first;            /* the configuration's first run */
    unsigned nrows;
    struct lock_row *rows;
};

static const struct pb_lock_ops *baseline_lock(void)
{
    for (size_t i = 0; pb_locks[i]; i++)
        if (pb_locks[i]->flags & PB_BASELINE)
            return pb_locks[i];
    return NULL;
}

static bool lock_is_baseline(const char *name, size_t len)
{
    char buf[PB_NAME_MAX];
    if (!len || len >= sizeof buf)
        return false;
    memcpy(buf, name, len);
    buf[len] = 0;
    const struct pb_lock_ops *l = pb_lock_find(buf);
    return l && (l->flags & PB_BASELINE);
}

/* The reference row: the baseline lock chosen; or, without one, the
 * strategies' own locks when each of those taken is the baseline. */
static bool row_is_reference(const struct lock_row *row, bool chosen_only)
{
    if (row->lock[0])
        return lock_is_baseline(row->lock, strlen(row->lock));
    if (chosen_only || !row->taken[0])
        return false;
    for (const char *p = row->taken; *p;) {
        size_t len = strcspn(p, "+");
        if (!lock_is_baseline(p, len))
            return false;
        p += len + (p[len] == '+');
    }
    return true;
}

static const char *lock_row_label(const struct lock_row *row, char *buf, size_t size)
{
    if (row->lock[0])
        snprintf(buf, size, "%s", row->lock);
    else if (row->taken[0])
        snprintf(buf, size, "default (%s)", row->taken);
    else
        snprintf(buf, size, "default");
    return buf;
}

static double median_in_place(double *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++)
        for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Leaves out of the row the repetitions measured in another machine state
 * than the document's (pb_floor_screen), as the session's table did. */
static int lock_row_screen(const struct pb_result_doc *d, struct lock_row *row)
{
    const struct pb_run_result **runs = malloc((row->n ? row->n : 1) * sizeof *runs);
    bool *keep = malloc((row->n ? row->n : 1) * sizeof *keep);
    if (!runs || !keep) {
        free(runs);
        free(keep);
        return -1;
    }
    for (unsigned k = 0; k < row->n; k++)
        runs[k] = &d->runs[row->runs[k]].r;
    pb_floor_screen_in_doc(d, runs, row->n, keep);
    unsigned m = 0;
    for (unsigned k = 0; k < row->n; k++)
        if (keep[k])
            row->runs[m++] = row->runs[k];
    row->screened = row->n - m;
    row->n = m;
    free(runs);
    free(keep);
    return 0;
}

static void lock_row_figures(const struct pb_result_doc *d, struct lock_row *row, double *scratch,
                             struct pb_hist *h)
{
    pb_hist_init(h);
    double wait = 0, acq = 0, contended = 0;
    for (unsigned k = 0; k < row->n; k++) {
        const struct pb_run_result *r = &d->runs[row->runs[k]].r;
        scratch[k] = r->throughput_ops_s;
        pb_hist_merge(h, &r->total);
        wait += r->lock_wait_ns;
        acq += (double)r->lock_acquisitions;
        contended += (double)r->lock_contended;
    }
    row->tput = median_in_place(scratch, row->n);
    row->p99 = pct(h, 99);
    unsigned m = 0;
    for (unsigned k = 0; k < row->n; k++)
        if (d->runs[row->runs[k]].r.locks[0])
            scratch[m++] = d->runs[row->runs[k]].r.lock_fairness_jain;
    row->jain = median_in_place(scratch, m);
    m = 0;
    for (unsigned k = 0; k < row->n; k++)
        if (d->runs[row->runs[k]].r.locks[0])
            scratch[m++] = d->runs[row->runs[k]].r.lock_worker_fairness_jain;
    row->worker_jain = median_in_place(scratch, m);
    row->wait_per_acq = acq > 0 ? wait / acq : NAN;
    row->contended = acq > 0 ? contended / acq : NAN;
}

static void lock_sets_free(struct lock_set *sets, unsigned n)
{
    for (unsigned i = 0; sets && i < n; i++) {
        for (unsigned k = 0; k < sets[i].nrows; k++)
            free(sets[i].rows[k].runs);
        free(sets[i].rows);
    }
    free(sets);
}

/* The configurations of the document that ran under two locks or more,
 * each with its rows (the reference first, then in running order) and
 * their figures. -1: out of memory. */
static int lock_sets(const struct pb_result_doc *d, struct lock_set **out, unsigned *nout)
{
    *out = NULL;
    *nout = 0;
    unsigned n = d->nruns;
    struct pb_runkey *keys = calloc(n ? n : 1, sizeof *keys);
    unsigned *config = calloc(n ? n : 1, sizeof *config);
    struct lock_set *sets = calloc(n ? n : 1, sizeof *sets);
    double *scratch = calloc(n ? n : 1, sizeof *scratch);
    struct pb_hist *h = malloc(sizeof *h);
    int rc = -1;
    unsigned nsets = 0;
    if (!keys || !config || !sets || !scratch || !h)
        goto out;
    for (unsigned i = 0; i < n; i++) {
        /* A workload too long to hold whole still compares on what it holds. */
        (void)pb_runkey_of_run(&d->runs[i], &keys[i]);
        config[i] = i;
        for (unsigned j = 0; j < i; j++)
            if (config[j] == j && pb_runkey_same_but_lock(&keys[j], &keys[i])) {
                config[i] = j;
                break;
            }
    }
    for (unsigned c = 0; c < n; c++) {
        if (config[c] != c)
            continue;
        struct lock_set *set = &sets[nsets];
        set->first = c;
        set->rows = calloc(n, sizeof *set->rows);
        if (!set->rows)
            goto out;
        nsets++;
        for (unsigned i = c; i < n; i++) {
            if (config[i] != c)
                continue;
            unsigned k = 0;
            while (k < set->nrows && strcmp(set->rows[k].lock, keys[i].lock) != 0)
                k++;
            struct lock_row *row = &set->rows[k];
            if (k == set->nrows) {
                set->nrows++;
                snprintf(row->lock, sizeof row->lock, "%s", keys[i].lock);
                row->taken = d->runs[i].r.locks;
                row->runs = calloc(n, sizeof *row->runs);
                if (!row->runs)
                    goto out;
            }
            row->runs[row->n++] = i;
        }
        if (set->nrows < 2) {
            nsets--;
            for (unsigned k = 0; k < set->nrows; k++)
                free(set->rows[k].runs);
            free(set->rows);
            memset(set, 0, sizeof *set);
            continue;
        }
        /* The reference: the baseline lock chosen, else the default rows
         * whose locks taken are all the baseline; it goes first. */
        int ref = -1;
        for (int pass = 0; pass < 2 && ref < 0; pass++)
            for (unsigned k = 0; k < set->nrows && ref < 0; k++)
                if (row_is_reference(&set->rows[k], pass == 0))
                    ref = (int)k;
        if (ref > 0) {
            struct lock_row t = set->rows[ref];
            memmove(&set->rows[1], &set->rows[0], (size_t)ref * sizeof t);
            set->rows[0] = t;
        }
        if (ref >= 0)
            set->rows[0].reference = true;
        for (unsigned k = 0; k < set->nrows; k++) {
            if (lock_row_screen(d, &set->rows[k]) != 0)
                goto out;
            lock_row_figures(d, &set->rows[k], scratch, h);
        }
    }
    rc = 0;
out:
    if (rc == 0 && nsets > 0) {
        *out = sets;
        *nout = nsets;
    } else {
        lock_sets_free(sets, nsets);    /* none to show, or out of memory */
    }
    free(keys);
    free(config);
    free(scratch);
    free(h);
    return rc;
}

static const char *lock_set_title(const struct pb_result_doc *d, const struct lock_set *set,
                                  char *buf, size_t size)
{
    const struct pb_scenario *s = &d->runs[set->first].r.scenario;
    char th[48];
    snprintf(buf, size, "Locks: %s %s/%s/%s, %s", s->name, s->pool, s->queue, s->handoff,
             threads_label(s->requesters, s->workers, th, sizeof th));
    return buf;
}

/* "0.85x" of the reference; "" without one. */
static const char *ratio_text(double v, double ref, char *buf, size_t size)
{
    if (ref > 0 && v == v && ref == ref)
        snprintf(buf, size, "%.2f\xc3\x97", v / ref);
    else
        snprintf(buf, size, "%s", "");
    return buf;
}

/* Throughput per lock (left) and p99 beside it (right): a row per lock,
 * the reference in grey. */
static void lock_chart(struct render *R, const struct pb_result_doc *d, const struct lock_set *set,
                       const char *baseline)
{
    unsigned m = set->nrows;
    double tmax = 0;
    for (unsigned k = 0; k < m; k++)
        if (set->rows[k].tput > tmax)
            tmax = set->rows[k].tput;
    double scale = tmax >= 1e6 ? 1e6 : tmax >= 1e3 ? 1e3 : 1;
    const char *unit = scale == 1e6 ? "million ops/s" : scale == 1e3 ? "thousand ops/s" : "ops/s";
    struct script s;
    if (script_open(&s, CHART_W, 150 + 30 * (int)m) != 0)
        return;
    FILE *g = s.f;
    const struct lock_row *ref = set->rows[0].reference ? &set->rows[0] : NULL;
    /* Row, throughput, p99 (us), colour, the two labels. */
    fprintf(g, "$d << EOD\n");
    for (unsigned k = 0; k < m; k++) {
        const struct lock_row *row = &set->rows[k];
        char b[32], ra[24], rb[24], la[80], lb[80];
        ratio_text(row->tput, ref ? ref->tput : 0, ra, sizeof ra);
        ratio_text(row->p99, ref ? ref->p99 : 0, rb, sizeof rb);
        snprintf(la, sizeof la, " %.3g%s%s%s", row->tput / scale, ra[0] ? "  (" : "", ra,
                 ra[0] ? ")" : "");
        snprintf(lb, sizeof lb, " %s%s%s%s", fmt_ns(row->p99, b, sizeof b), rb[0] ? "  (" : "",
                 rb, rb[0] ? ")" : "");
        /* The palette's last colour is the grey the reference gets. */
        long rgb = row->reference ? strtol(colors[NCOLORS - 1] + 1, NULL, 16)
                                  : strtol(colors[k % (NCOLORS - 1)] + 1, NULL, 16);
        fprintf(g, "%u %.6g %.6g %ld ", k, row->tput / scale,
                row->p99 == row->p99 ? row->p99 / 1e3 : 0, rgb);
        gp_quote(g, la);
        fputc(' ', g);
        gp_quote(g, lb);
        fputc('\n', g);
    }
    fprintf(g, "EOD\n");
    char title[LABEL_MAX];
    lock_set_title(d, set, title, sizeof title);
    fprintf(g, "set multiplot layout 1,2 title ");
    gp_quote(g, title);
    fprintf(g, " noenhanced\nset key off\nset yrange [%u.5:-0.5]\n"
               "set ytics nomirror scale 0 font ',9' (", m - 1);
    for (unsigned k = 0; k < m; k++) {
        char lab[3 * PB_NAME_MAX + 16];
        if (k)
            fputc(',', g);
        gp_quote_fmt(g, lock_row_label(&set->rows[k], lab, sizeof lab));
        fprintf(g, " %u", k);
    }
    fprintf(g, ")\nset grid xtics noytics\nset style fill solid 0.85 border rgb '#444444'\n"
               "set xrange [0:*]\nset offsets 0, graph 0.25, 0, 0\n"
               "set xlabel '%s (higher is better)'\nset title 'throughput'\n"
               "plot $d using ($2/2):1:($2/2):(0.35):4 with boxxyerror lc rgb variable notitle, "
               "$d using 2:1:5 with labels left font ',8' notitle\n", unit);
    fprintf(g, "set xlabel 'p99 latency, \xc2\xb5s (lower is better)'\nset title 'p99'\n"
               "set ytics nomirror scale 0 font ',9' (");
    for (unsigned k = 0; k < m; k++)
        fprintf(g, "%s'' %u", k ? "," : "", k);
    fprintf(g, ")\nplot $d using ($3/2):1:($3/2):(0.35):4 with boxxyerror lc rgb variable notitle, "
               "$d using 3:1:6 with labels left font ',8' notitle\nunset multiplot\n");
    char caption[400];
    if (ref)
        snprintf(caption, sizeof caption,
                 "The same scenario, strategies and workload under each lock. Throughput: median "
                 "of the repetitions; p99: of their merged histograms. Ratios against %s, the "
                 "baseline lock (grey).", baseline);
    else
        snprintf(caption, sizeof caption,
                 "The same scenario, strategies and workload under each lock. Throughput: median "
                 "of the repetitions; p99: of their merged histograms. No run under %s, the "
                 "baseline lock: no ratios.", baseline);
    chart_emit(R, &s, title, CHART_W, caption);
}

/* The same as numbers, with the locks' own figures. */
static void lock_table(FILE *o, const struct lock_set *set)
{
    const struct lock_row *ref = set->rows[0].reference ? &set->rows[0] : NULL;
    fprintf(o, "<div class=\"scroll\"><table class=\"locks\"><thead><tr><th>lock</th>"
               "<th class=\"num\">repetitions</th><th class=\"num\">ops/s</th>"
               "<th class=\"num\">vs baseline</th><th class=\"num\">p99</th>"
               "<th class=\"num\">vs baseline</th><th class=\"num\">contended</th>"
               "<th class=\"num\">wait / acquisition</th>"
               "<th class=\"num\">fairness (Jain)<br><small>req / wrk</small></th></tr></thead>"
               "<tbody>\n");
    for (unsigned k = 0; k < set->nrows; k++) {
        const struct lock_row *row = &set->rows[k];
        char lab[3 * PB_NAME_MAX + 16], t[40], a[32], b[32], ra[24], rb[24], j1[16], j2[16];
        fprintf(o, "<tr><td class=\"nw\">");
        esc(o, lock_row_label(row, lab, sizeof lab));
        if (row->reference)
            fprintf(o, " <small class=\"dim\">(baseline)</small>");
        fprintf(o, "</td><td class=\"num\">%u", row->n);
        if (row->screened)
            fprintf(o, " <small class=\"dim\" title=\"measured in another machine state (c2c "
                       "floor) than the document's runs: left out\">+%u left out</small>",
                    row->screened);
        fprintf(o, "</td><td class=\"num\">%s</td>"
                   "<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>",
                fmt_count(row->tput, t, sizeof t),
                ratio_text(row->tput, ref ? ref->tput : 0, ra, sizeof ra),
                fmt_ns(row->p99, a, sizeof a), ratio_text(row->p99, ref ? ref->p99 : 0, rb, sizeof rb));
        if (row->contended == row->contended)
            fprintf(o, "<td class=\"num\">%.1f%%</td>", 100 * row->contended);
        else
            fprintf(o, "<td class=\"num dim\">-</td>");
        fprintf(o, "<td class=\"num\">%s</td><td class=\"num\">%s / %s</td></tr>\n",
                fmt_ns(row->wait_per_acq, b, sizeof b), fmt_jain(row->jain, j1, sizeof j1),
                fmt_jain(row->worker_jain, j2, sizeof j2));
    }
    fprintf(o, "</tbody></table></div>\n");
}

/* The locks section: nothing when no configuration ran under two locks. */
static void doc_locks(struct render *R, const struct pb_result_doc *d, const char *id, int h)
{
    struct lock_set *sets;
    unsigned n;
    if (lock_sets(d, &sets, &n) != 0) {
        fprintf(R->out, "<p class=\"note\">Out of memory for the locks section.</p>\n");
        return;
    }
    if (!n)
        return;
    const struct pb_lock_ops *base = baseline_lock();
    const char *baseline = base ? base->name : "the baseline lock";
    fprintf(R->out, "<h%d id=\"%s-locks\">Locks</h%d>\n", h, id, h);
    for (unsigned i = 0; i < n; i++) {
        if (i < MAX_LOCK_CHARTS) {
            lock_chart(R, d, &sets[i], baseline);
        } else {
            char title[LABEL_MAX];
            fprintf(R->out, "<h%d>", h + 1);
            esc(R->out, lock_set_title(d, &sets[i], title, sizeof title));
            fprintf(R->out, "</h%d>\n", h + 1);
        }
        lock_table(R->out, &sets[i]);
    }
    lock_sets_free(sets, n);
}

/* Whether the document has a locks section (for the page's links). */
static bool doc_has_locks(const struct pb_result_doc *d)
{
    struct lock_set *sets;
    unsigned n;
    if (lock_sets(d, &sets, &n) != 0)
        return false;
    lock_sets_free(sets, n);
    return n > 0;
}

/* ---- tables -------------------------------------------------------------------- */

/* A run's lock figures, two cells: the time its threads waited for a lock
 * (whole run, every thread together; per acquisition below it, the
 * figure that compares across run lengths) and Jain's fairness index of
 * the acquisitions across the requesters and across the workers. */
static void lock_cells(FILE *o, const struct pb_run_result *r)
{
    if (!r->locks[0]) {
        fprintf(o, "<td class=\"num dim\">-</td><td class=\"num dim\">-</td>");
        return;
    }
    char a[32], b[32], n[40], c[40];
    double per = r->lock_acquisitions ? r->lock_wait_ns / (double)r->lock_acquisitions : NAN;
    fprintf(o, "<td class=\"num\" title=\"");
    fprintf(o, "%s acquisitions, %s contended (locks taken: ",
            fmt_count((double)r->lock_acquisitions, n, sizeof n),
            fmt_count((double)r->lock_contended, c, sizeof c));
    esc(o, r->locks);
    fprintf(o, ")\">%s<br><small>%s / acquisition</small></td>",
            fmt_ns(r->lock_wait_ns, a, sizeof a), fmt_ns(per, b, sizeof b));
    char j1[16], j2[16];
    fprintf(o, "<td class=\"num\">%s / %s</td>", fmt_jain(r->lock_fairness_jain, j1, sizeof j1),
            fmt_jain(r->lock_worker_fairness_jain, j2, sizeof j2));
}

static bool any_lock_taken(const struct pb_result_doc *d)
{
    for (unsigned i = 0; i < d->nruns; i++)
        if (d->runs[i].r.locks[0])
            return true;
    return false;
}

static void summary_table(FILE *o, const struct pb_result_doc *d)
{
    /* The lock columns only where a run took a lock. */
    bool locks = any_lock_taken(d);
    /* Every run's floor, once: each run is judged against its CPU pair's. */
    struct pb_floor_state *floors = malloc((d->nruns ? d->nruns : 1) * sizeof *floors);
    for (unsigned i = 0; floors && i < d->nruns; i++)
        pb_floor_state_of(&d->runs[i].r, &floors[i]);
    fprintf(o, "<div class=\"scroll\"><table class=\"summary\">\n<thead><tr><th>#</th>"
               "<th>scenario</th><th>pool / queue / handoff</th><th>threads<br><small>req / wrk "
               "/ cancel</small></th><th class=\"num\">ops/s</th><th class=\"num\">p50</th>"
               "<th class=\"num\">p99</th><th class=\"num\">p99.9</th><th class=\"num\">max</th>"
               "<th class=\"num\">cancel success</th><th class=\"num\">p50 / c2c</th>%s"
               "<th>invariants</th><th>partial</th></tr></thead>\n<tbody>\n",
            locks ? "<th class=\"num\">lock wait<br><small>whole run, all threads</small></th>"
                    "<th class=\"num\">lock fairness<br><small>Jain, req / wrk</small></th>"
                  : "");
    for (unsigned i = 0; i < d->nruns; i++) {
        const struct pb_run_result *r = &d->runs[i].r;
        char a[32], b[32], c[32], e[32], t[40];
        double p50 = pct(&r->total, 50);
        fprintf(o, "<tr%s><td class=\"num\">%u</td><td title=\"", r->invariants.ok ? "" :
                " class=\"failed\"", i + 1);
        esc(o, r->scenario.description);
        fprintf(o, "\" class=\"nw\">");
        esc(o, r->scenario.name);
        if (r->repetition)
            fprintf(o, " <small>#%u</small>", r->repetition);
        char strat[5 * PB_NAME_MAX + 32];
        pb_runkey_strategies_text(r->scenario.pool, r->scenario.queue, r->scenario.handoff,
                                  r->scenario.lock, strat, sizeof strat);
        fprintf(o, "</td><td class=\"nw\">");
        esc(o, strat);
        fprintf(o, "</td><td>%u / %u / %u</td>", r->scenario.requesters, r->scenario.workers,
                r->scenario.cancellers);
        fprintf(o, "<td class=\"num\">%s</td>", fmt_count(r->throughput_ops_s, t, sizeof t));
        fprintf(o, "<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                   "<td class=\"num\">%s</td>",
                fmt_ns(p50, a, sizeof a), fmt_ns(pct(&r->total, 99), b, sizeof b),
                fmt_ns(pct(&r->total, 99.9), c, sizeof c),
                fmt_ns(r->total.count ? (double)r->total.max : NAN, e, sizeof e));
        if (r->cancel.attempted)
            fprintf(o, "<td class=\"num\">%.1f%%</td>", 100.0 * r->cancel.success_rate);
        else
            fprintf(o, "<td class=\"num\">-</td>");
        bool away = floors && pb_floor_off(&floors[i],
                                           pb_floor_reference_like(floors, d->nruns, &floors[i]),
                                           PB_FLOOR_FACTOR_DEFAULT);
        if (r->c2c_round_trip_ns > 0 && p50 == p50)
            fprintf(o, "<td class=\"num\">%.1f&times;%s</td>", p50 / r->c2c_round_trip_ns,
                    away ? " <small class=\"dim\" title=\"its c2c floor moved, or lay beyond "
                           "1.5x the document's median floor: another machine state, left out of "
                           "the lock tables\">other state</small>" : "");
        else
            fprintf(o, "<td class=\"num\">-</td>");
        if (locks)
            lock_cells(o, r);
        if (r->invariants.ok) {
            fprintf(o, "<td class=\"good\">ok</td>");
        } else {
            fprintf(o, "<td class=\"bad\">FAILED: ");
            esc(o, r->invariants.why);
            fprintf(o, "</td>");
        }
        fprintf(o, "<td>%s</td></tr>\n", r->partial ? "<span class=\"bad\">partial</span>" : "");
    }
    fprintf(o, "</tbody></table></div>\n");
    free(floors);
}

static void cancel_table(FILE *o, const struct pb_result_doc *d)
{
    struct doc_shape sh = shape_of(d);
    fprintf(o, "<details><summary>Cancel outcomes as counts</summary><div class=\"scroll\"><table>"
               "<thead><tr><th>run</th><th class=\"num\">attempted</th><th class=\"num\">won</th>"
               "<th class=\"num\">lost</th><th class=\"num\">early</th><th class=\"num\">late</th>"
               "<th class=\"num\">not cancelable</th><th class=\"num\">success</th></tr></thead>"
               "<tbody>\n");
    for (unsigned i = 0; i < d->nruns; i++) {
        const struct pb_run_result *r = &d->runs[i].r;
        const struct pb_cancel_outcomes *c = &r->cancel;
        if (!c->attempted)
            continue;
        char lab[LABEL_MAX], v[6][40];
        fprintf(o, "<tr><td>");
        esc(o, run_label(r, sh, lab, sizeof lab));
        fprintf(o, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s"
                   "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s"
                   "</td><td class=\"num\">%.1f%%</td></tr>\n",
                fmt_count((double)c->attempted, v[0], 40), fmt_count((double)c->won, v[1], 40),
                fmt_count((double)c->lost, v[2], 40), fmt_count((double)c->early, v[3], 40),
                fmt_count((double)c->late, v[4], 40), fmt_count((double)c->not_cancelable, v[5], 40),
                100.0 * c->success_rate);
    }
    fprintf(o, "</tbody></table></div></details>\n");
}

static void queue_service_table(FILE *o, const struct pb_result_doc *d)
{
    struct doc_shape sh = shape_of(d);
    fprintf(o, "<details><summary>Queue wait and service as numbers</summary><div class=\"scroll\">"
               "<table><thead><tr><th>run</th><th class=\"num\">queue wait p50</th>"
               "<th class=\"num\">queue wait p99</th><th class=\"num\">service p50</th>"
               "<th class=\"num\">service p99</th><th class=\"num\">total p50</th>"
               "<th class=\"num\">total p99</th></tr></thead><tbody>\n");
    for (unsigned i = 0; i < d->nruns; i++) {
        const struct pb_run_result *r = &d->runs[i].r;
        char lab[LABEL_MAX], v[6][32];
        fprintf(o, "<tr><td>");
        esc(o, run_label(r, sh, lab, sizeof lab));
        fprintf(o, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s"
                   "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s"
                   "</td></tr>\n",
                fmt_ns(pct(&r->queue_wait, 50), v[0], 32), fmt_ns(pct(&r->queue_wait, 99), v[1], 32),
                fmt_ns(pct(&r->service, 50), v[2], 32), fmt_ns(pct(&r->service, 99), v[3], 32),
                fmt_ns(pct(&r->total, 50), v[4], 32), fmt_ns(pct(&r->total, 99), v[5], 32));
    }
    fprintf(o, "</tbody></table></div></details>\n");
}

static void node_pair_table(FILE *o, const struct pb_result_doc *d)
{
    struct doc_shape sh = shape_of(d);
    fprintf(o, "<details><summary>Node pairs as numbers</summary><div class=\"scroll\"><table>"
               "<thead><tr><th>run</th><th class=\"num\">requester node</th>"
               "<th class=\"num\">worker node</th><th class=\"num\">ops</th>"
               "<th class=\"num\">p50</th><th class=\"num\">p99</th></tr></thead><tbody>\n");
    for (unsigned i = 0; i < d->nruns; i++) {
        const struct pb_run_result *r = &d->runs[i].r;
        if (r->npairs < 2)
            continue;
        for (unsigned k = 0; k < r->npairs; k++) {
            const struct pb_node_pair *p = &r->pairs[k];
            char lab[LABEL_MAX], a[32], b[32], c[40];
            fprintf(o, "<tr><td>");
            esc(o, run_label(r, sh, lab, sizeof lab));
            fprintf(o, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td>"
                       "<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
                       "</tr>\n",
                    p->requester_node, p->worker_node, fmt_count((double)p->total.count, c, 40),
                    fmt_ns(pct(&p->total, 50), a, 32), fmt_ns(pct(&p->total, 99), b, 32));
        }
    }
    fprintf(o, "</tbody></table></div></details>\n");
}

/* The context of every document, side by side. */
static void context_table(FILE *o, const struct pb_html_input *in, unsigned n)
{
    fprintf(o, "<div class=\"scroll\"><table class=\"context\">\n");
    if (n > 1) {
        fprintf(o, "<thead><tr><th></th>");
        for (unsigned f = 0; f < n; f++) {
            fprintf(o, "<th>%c: ", 'A' + f);
            esc(o, in[f].name);
            fprintf(o, "</th>");
        }
        fprintf(o, "</tr></thead>\n");
    }
    fprintf(o, "<tbody>\n");
    enum { S_DATE, S_HOST, S_CPU, S_NCPU, S_KERNEL, S_COMPILER, S_CFLAGS, S_GIT, S_TOPO,
           S_PLACEMENT, S_C2C, S_TS, S_FUTEX, S_TSC, S_COMMAND, S_PARTIAL, S_SCHEMA, S_RUNS,
           S_COUNT };
    static const char *const names[S_COUNT] = {
        "date", "host", "CPU", "CPUs online", "kernel", "compiler", "compiler flags",
        "git commit", "topology", "placement", "calibration: core-to-core round trip",
        "calibration: timestamp cost", "calibration: futex wake-to-run",
        "calibration: TSC ticks per ns", "command", "partial session", "schema version", "runs",
    };
    for (int k = 0; k < S_COUNT; k++) {
        fprintf(o, "<tr><th>%s</th>", names[k]);
        for (unsigned f = 0; f < n; f++) {
            const struct pb_context *c = &in[f].doc->ctx;
            char b[64];
            const char *v = b;
            b[0] = 0;
            switch (k) {
            case S_DATE: v = c->date; break;
            case S_HOST: v = c->host; break;
            case S_CPU: v = c->cpu_model; break;
            case S_NCPU: snprintf(b, sizeof b, "%u", c->ncpus_online); break;
            case S_KERNEL: v = c->kernel; break;
            case S_COMPILER: v = c->compiler; break;
            case S_CFLAGS: v = c->cflags; break;
            case S_GIT: v = c->git_commit; break;
            case S_TOPO: v = c->topology; break;
            case S_PLACEMENT: v = c->placement; break;
            case S_C2C:
                v = c->c2c_round_trip_ns > 0 ? fmt_ns(c->c2c_round_trip_ns, b, sizeof b)
                                             : "not measured";
                break;
            case S_TS:
                v = c->timestamp_overhead_ns > 0 ? fmt_ns(c->timestamp_overhead_ns, b, sizeof b)
                                                 : "not measured";
                break;
            case S_FUTEX:
                v = c->futex_wake_ns > 0 ? fmt_ns(c->futex_wake_ns, b, sizeof b) : "not measured";
                break;
            case S_TSC:
                if (c->tsc_ticks_per_ns > 0)
                    snprintf(b, sizeof b, "%.4f (%.3f GHz)", c->tsc_ticks_per_ns,
                             c->tsc_ticks_per_ns);
                else
                    v = "unknown";
                break;
            case S_COMMAND: v = c->command; break;
            case S_PARTIAL: v = c->partial ? "yes: interrupted, some runs missing or cut short"
                                           : "no"; break;
            case S_SCHEMA: snprintf(b, sizeof b, "%u", in[f].doc->schema_version); break;
            case S_RUNS: snprintf(b, sizeof b, "%u", in[f].doc->nruns); break;
            }
            fprintf(o, "<td%s>", k == S_PARTIAL && c->partial ? " class=\"bad\"" : "");
            if (v && *v)
                esc(o, v);
            else
                fprintf(o, "<span class=\"dim\">-</span>");
            fprintf(o, "</td>");
        }
        fprintf(o, "</tr>\n");
    }
    fprintf(o, "</tbody></table></div>\n");
}

/* ---- the comparison ------------------------------------------------------------ */

/* Each further file against A, as `pendbench compare A F` with its default
 * options judges it: the same matching (the run key), the same aggregated
 * figures, the same corrected tests and the same verdict words. Only
 * regressed and improved get a colour, so a page never shows noise in red
 * or green. */

static const char *verdict_class(enum pb_verdict v)
{
    return v == PB_VERDICT_REGRESSED ? " worse" : v == PB_VERDICT_IMPROVED ? " better" : "";
}

static void metric_value_cell(FILE *o, const struct pb_compare_metric *m, double v)
{
    char b[48];
    if (!(v == v))
        fprintf(o, "<td class=\"num dim\">-</td>");
    else if (m->metric == PB_METRIC_THROUGHPUT)
        fprintf(o, "<td class=\"num\">%s/s</td>", fmt_count(v, b, sizeof b));
    else if (m->metric == PB_METRIC_CANCEL)
        fprintf(o, "<td class=\"num\">%.2f%%</td>", v * 100);
    else
        fprintf(o, "<td class=\"num\">%s</td>", fmt_ns(v, b, sizeof b));
}

static void fmt_p_html(FILE *o, double p)
{
    if (!(p == p))
        fprintf(o, "<td class=\"num dim\">-</td>");
    else if (p < 0.001)
        fprintf(o, "<td class=\"num\">&lt;0.001</td>");
    else
        fprintf(o, "<td class=\"num\">%.3f</td>", p);
}

/* The table of one comparison (file f against A). */
static void comparison_table(FILE *o, const struct pb_comparison *c, unsigned f)
{
    fprintf(o, "<div class=\"scroll\"><table class=\"compare\">\n<thead><tr><th>configuration</th>"
               "<th>metric</th><th class=\"num\">A</th><th class=\"num\">%c</th>"
               "<th class=\"num\">change</th><th class=\"num\">p adj</th><th>test</th>"
               "<th>verdict</th></tr></thead>\n<tbody>\n", 'A' + f);
    for (unsigned i = 0; i < c->nrows; i++) {
        const struct pb_compare_row *r = &c->rows[i];
        unsigned shown = 0;
        for (unsigned k = 0; k < r->nmetrics; k++)
            shown += r->metrics[k].available;
        bool all_na = shown == 0;
        if (all_na)
            shown = 1;
        bool first = true;
        for (unsigned k = 0; k < r->nmetrics; k++) {
            const struct pb_compare_metric *m = &r->metrics[k];
            if (!m->available && !(all_na && k == 0))
                continue;
            fprintf(o, "<tr id=\"cmp-%c-%u-%s\"", 'a' + f, i, pb_metric_name(m->metric));
            if (first)
                fprintf(o, " data-verdict=\"%s\"", pb_verdict_name(r->verdict));
            fprintf(o, ">");
            if (first) {
                char strat[5 * PB_NAME_MAX + 32];
                pb_runkey_strategies_text(r->pool, r->queue, r->handoff, r->lock, strat,
                                          sizeof strat);
                fprintf(o, "<td rowspan=\"%u\">", shown);
                esc(o, r->scenario);
                fprintf(o, " ");
                esc(o, strat);
                if (r->workload[0]) {
                    fprintf(o, "<br><span class=\"dim\">");
                    esc(o, r->workload);
                    fprintf(o, "</span>");
                }
                fprintf(o, "<br><span class=\"dim\">%u / %u repetitions</span>", r->reps_base,
                        r->reps_new);
                for (unsigned w = 0; w < r->nwarnings; w++) {
                    fprintf(o, "<br><span class=\"bad\">");
                    esc(o, r->warnings[w]);
                    fprintf(o, "</span>");
                }
                fprintf(o, "</td>");
                first = false;
            }
            fprintf(o, "<td>%s</td>", pb_metric_name(m->metric));
            metric_value_cell(o, m, m->base);
            metric_value_cell(o, m, m->new_value);
            const char *cls = verdict_class(m->verdict);
            if (!m->available)
                fprintf(o, "<td class=\"num dim\">-</td>");
            else if (!(m->change == m->change) || m->change == INFINITY || m->change == -INFINITY)
                fprintf(o, "<td class=\"num change%s\">%sinf</td>", cls, m->change > 0 ? "+" : "-");
            else
                fprintf(o, "<td class=\"num change%s\">%+.*f%s</td>", cls,
                        m->metric == PB_METRIC_CANCEL ? 2 : 1, m->change,
                        m->metric == PB_METRIC_CANCEL ? " pp" : "%");
            fmt_p_html(o, m->p_adj);
            fprintf(o, "<td class=\"dim\">");
            esc(o, m->note);
            fprintf(o, "</td>");
            char words[64];
            fprintf(o, "<td class=\"verdict%s\">", cls);
            esc(o, pb_compare_verdict_words(m, words, sizeof words));
            fprintf(o, "</td></tr>\n");
        }
    }
    fprintf(o, "</tbody></table></div>\n");
}

/* A configuration of A in the comparisons: its runs in A and in each file. */
struct cmp_config {
    const struct pb_compare_row *row[MAX_FILES];   /* [f]: the row of A against f; NULL absent */
};

static void merge_runs(struct pb_hist *h, const struct pb_result_doc *d, const unsigned *idx,
                       unsigned n)
{
    pb_hist_init(h);
    for (unsigned i = 0; i < n; i++)
        if (idx[i] < d->nruns)
            pb_hist_merge(h, &d->runs[idx[i]].r.total);
}

static void comparison_spectra(struct render *R, const struct pb_html_input *in, unsigned n,
                               const struct pb_comparison *cmp, const bool *ok)
{
    FILE *o = R->out;
    unsigned total = 0;
    for (unsigned f = 1; f < n; f++)
        total += ok[f] ? cmp[f].nrows : 0;
    struct cmp_config *cfg = calloc(total ? total : 1, sizeof *cfg);
    struct pb_hist *h = malloc(MAX_FILES * sizeof *h);
    if (!cfg || !h) {
        fprintf(o, "<p class=\"note\">Out of memory for the spectra of the comparison.</p>\n");
        free(cfg);
        free(h);
        return;
    }
    /* A group of A is known by its first run's index. */
    unsigned ncfg = 0;
    for (unsigned f = 1; f < n; f++)
        for (unsigned i = 0; ok[f] && i < cmp[f].nrows; i++) {
            const struct pb_compare_row *r = &cmp[f].rows[i];
            unsigned k = 0;
            while (k < ncfg) {
                const struct pb_compare_row *any = NULL;
                for (unsigned g = 1; g < n && !any; g++)
                    any = cfg[k].row[g];
                if (any->base_runs[0] == r->base_runs[0])
                    break;
                k++;
            }
            if (k == ncfg)
                ncfg++;
            cfg[k].row[f] = r;
        }
    fprintf(o, "<h3>Latency spectra of matched configurations</h3>\n<div class=\"grid\">\n");
    unsigned drawn = 0, skipped = 0;
    for (unsigned k = 0; k < ncfg; k++) {
        if (drawn == MAX_COMPARE_CHARTS) {
            skipped++;
            continue;
        }
        const struct pb_hist *hp[MAX_FILES];
        const char *labels[MAX_FILES];
        char lab[MAX_FILES][96];
        unsigned color[MAX_FILES], dash[MAX_FILES], m = 0;
        const struct pb_compare_row *first = NULL;
        for (unsigned f = 0; f < n; f++) {
            const struct pb_compare_row *r = NULL;
            if (f == 0) {
                for (unsigned g = 1; g < n && !r; g++)
                    r = cfg[k].row[g];
                first = r;
                merge_runs(&h[m], in[0].doc, r->base_runs, r->reps_base);
            } else {
                r = cfg[k].row[f];
                if (!r)
                    continue;
                merge_runs(&h[m], in[f].doc, r->new_runs, r->reps_new);
            }
            char p50[32], p99[32];
            snprintf(lab[m], sizeof lab[m], "%c (p50 %s, p99 %s)", 'A' + f,
                     fmt_ns(pct(&h[m], 50), p50, sizeof p50), fmt_ns(pct(&h[m], 99), p99, sizeof p99));
            hp[m] = &h[m];
            labels[m] = lab[m];
            color[m] = f;
            dash[m] = 0;
            m++;
        }
        char title[5 * PB_NAME_MAX + 160 + 64];
        snprintf(title, sizeof title, "%s %s/%s/%s%s%s%s%s%s%s", first->scenario, first->pool,
                 first->queue, first->handoff, first->lock[0] ? " [lock " : "", first->lock,
                 first->lock[0] ? "]" : "", first->workload[0] ? " [" : "", first->workload,
                 first->workload[0] ? "]" : "");
        spectrum_chart(R, title, hp, labels, color, dash, m, 640, 360,
                       "repetitions merged, as the comparison's percentiles");
        drawn++;
    }
    fprintf(o, "</div>\n");
    if (!drawn)
        fprintf(o, "<p class=\"dim\">No configuration appears in two files.</p>\n");
    if (skipped)
        fprintf(o, "<p class=\"dim\">%u more matched configurations are in the tables only.</p>\n",
                skipped);
    free(cfg);
    free(h);
}

static void comparison(struct render *R, const struct pb_html_input *in, unsigned n)
{
    FILE *o = R->out;
    struct pb_compare_opts opts;
    pb_compare_opts_default(&opts);
    fprintf(o, "<p>Each file is compared with <b>A</b> as <code>pendbench compare A F</code> "
               "does: runs matched by scenario, strategies and workload; the repetitions of a "
               "configuration aggregated (throughput: their median; latency: their merged "
               "histogram; cancel: their summed counts); Welch's t test on the repetitions' "
               "figures, the p-values of every metric and configuration adjusted together "
               "(%s, alpha %g); a change counts beyond %g%% and beyond %g times A's robust "
               "spread. Only <span class=\"worse\">regressed</span> and "
               "<span class=\"better\">improved</span> are coloured.</p>\n",
            pb_correction_name(opts.correction), opts.alpha, opts.threshold_pct, opts.noise_k);
    fprintf(o, "<ul class=\"files\">");
    for (unsigned f = 0; f < n; f++) {
        fprintf(o, "<li><b>%c</b>: ", 'A' + f);
        esc(o, in[f].name);
        fprintf(o, " <span class=\"dim\">(");
        esc(o, in[f].doc->ctx.date);
        fprintf(o, ", ");
        esc(o, in[f].doc->ctx.host);
        fprintf(o, ", git ");
        esc(o, in[f].doc->ctx.git_commit);
        fprintf(o, ")</span></li>");
    }
    fprintf(o, "</ul>\n");
    struct pb_comparison cmp[MAX_FILES];
    bool ok[MAX_FILES] = { false };
    memset(cmp, 0, sizeof cmp);
    for (unsigned f = 1; f < n; f++) {
        char err[512], summary[2048];
        fprintf(o, "<h3 id=\"cmp-%c\">%c against A</h3>\n", 'a' + f, 'A' + f);
        ok[f] = pb_compare_docs(in[0].doc, in[f].doc, &opts, &cmp[f], err, sizeof err) == 0;
        if (!ok[f]) {
            fprintf(o, "<p class=\"note\">");
            esc(o, err);
            fprintf(o, "</p>\n");
            continue;
        }
        for (unsigned w = 0; w < cmp[f].nwarnings; w++) {
            fprintf(o, "<p class=\"note\">");
            esc(o, cmp[f].warnings[w]);
            fprintf(o, "</p>\n");
        }
        comparison_table(o, &cmp[f], f);
        pb_comparison_summary(&cmp[f], summary, sizeof summary);
        fprintf(o, "<p class=\"summary\">");
        for (const char *s = summary; *s;) {
            const char *nl = strchr(s, '\n');
            size_t len = nl ? (size_t)(nl - s) : strlen(s);
            char line[600];
            snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), s);
            esc(o, line);
            if (nl && nl[1])
                fprintf(o, "<br>");
            s += len + (nl ? 1 : 0);
        }
        fprintf(o, "</p>\n");
        for (unsigned i = 0; i < cmp[f].nonly_base; i++) {
            fprintf(o, "<p class=\"dim\">only in A: ");
            esc(o, cmp[f].only_base[i]);
            fprintf(o, "</p>\n");
        }
        for (unsigned i = 0; i < cmp[f].nonly_new; i++) {
            fprintf(o, "<p class=\"dim\">only in %c: ", 'A' + f);
            esc(o, cmp[f].only_new[i]);
            fprintf(o, "</p>\n");
        }
    }
    comparison_spectra(R, in, n, cmp, ok);
    for (unsigned f = 1; f < n; f++)
        pb_comparison_free(&cmp[f]);
}

/* ---- the page ------------------------------------------------------------------ */

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:0 auto;max-width:1320px;padding:12px 28px 40px;color:#1d2327;background:#fff}\n"
    "h1{font-size:26px;margin:12px 0 4px}h2{font-size:21px;margin:36px 0 8px;padding-bottom:4px;"
    "border-bottom:2px solid #d0d7de}h3{font-size:16px;margin:26px 0 6px}\n"
    ".sub{color:#57606a;margin:0 0 12px}nav{margin:8px 0 16px;font-size:13px}"
    "nav a{margin-right:14px;color:#0b5cad;text-decoration:none}\n"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "th,td{padding:4px 9px;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}\n"
    "thead th{background:#f2f4f7;border-bottom:1px solid #c9ced6}.num{text-align:right;"
    "font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "th.group{text-align:center;border-left:1px solid #d0d7de}"
    "table.context th{background:#f7f8fa;font-weight:600;white-space:nowrap}\n"
    "tr.failed td{background:#fdecea}.bad,.worse{color:#b3261e;font-weight:600}"
    ".nw{white-space:nowrap}.good{color:#1a7f37}.better{color:#1a7f37;font-weight:600}.dim{color:#8c959f}\n"
    ".note{background:#fff8e1;border-left:4px solid #e8a400;padding:8px 12px;margin:12px 0}\n"
    "figure.chart{margin:14px 0}figcaption{font-size:12px;color:#57606a;margin-top:2px}\n"
    "svg.chart{display:block;width:100%;height:auto}\n"
    ".nochart{border:1px dashed #c9ced6;color:#57606a;padding:18px;font-size:13px}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:8px 18px}\n"
    ".grid figure.chart{margin:4px 0}.scroll{overflow-x:auto}\n"
    "details{margin:6px 0 14px}summary{cursor:pointer;color:#0b5cad;font-size:13px}\n"
    ".howto p,.howto li{max-width:900px}footer{margin-top:40px;color:#8c959f;font-size:12px}\n";

static void howto(FILE *o)
{
    fprintf(o,
            "<section class=\"howto\" id=\"howto\"><h2>How to read this</h2>\n<ul>\n"
            "<li><b>Latency</b> is pend-to-completion: from the moment an operation is issued "
            "(in open-loop runs, the moment it <i>should</i> have been issued, so a stall cannot "
            "hide) to its completion. It splits into <b>queue wait</b> (issue to a worker taking "
            "the work item) and <b>service</b> (taking it to completion).</li>\n"
            "<li><b>Percentiles</b> come from merged log-linear histograms (HdrHistogram style, "
            "under 0.8%% error), never from averages. The <b>percentile spectrum</b> puts "
            "1/(1&minus;p) on a log scale, so every step to the right is one more nine: 90%%, "
            "99%%, 99.9%%&hellip; A lower, flatter line is better; each line ends at the run's "
            "maximum. Where lines cross, one strategy has the better median and the other the "
            "better tail.</li>\n"
            "<li><b>Throughput</b> counts completions of every kind per second of the measured "
            "window (after warm-up). Compare strategies within one scenario; scenarios do "
            "different work.</li>\n"
            "<li><b>Locks</b>: a run's lock is the one every lock-based strategy took "
            "(<code>--lock</code>; <i>default</i>: each its own). The locks chart puts one "
            "configuration under each lock side by side, against the baseline lock. <b>Lock "
            "wait</b> is the time threads spent waiting for a lock over the whole run; "
            "<b>fairness</b> is Jain's index of the acquisitions across the requesters and "
            "across the workers (1: every thread got the lock as often).</li>\n"
            "<li><b>Cancel outcomes</b>: every attempt is <i>won</i> (the cancel completed the "
            "operation), <i>lost</i> (the worker got there first), <i>early</i> (before the "
            "cancel routine was set), <i>late</i> (after completion) or <i>not cancelable</i>. "
            "Cancel success is won / attempted.</li>\n"
            "<li><b>p50 / c2c</b> is the median latency as a multiple of the core-to-core cache "
            "line round trip measured in the same run: the floor any handoff between two CPUs "
            "pays.</li>\n"
            "<li><b>Node pairs</b> split latency by the NUMA node of the requester and of the "
            "worker; the off-diagonal cells are the remote handoffs.</li>\n"
            "<li><b>Invariants</b> (every operation completed exactly once, nothing left "
            "outstanding) are checked in every run; a failed run is shown in red and its numbers "
            "should not be trusted. A <b>partial</b> run was interrupted.</li>\n"
            "<li>Differences of a few percent between two sessions are often noise: repeat runs "
            "(<code>pendbench run --repeat N</code>) before drawing conclusions.</li>\n"
            "</ul></section>\n");
}

/* The sections of one document. `h` is the heading level of its
 * sections; `id` prefixes their anchors. */
static void doc_sections(struct render *R, const struct pb_result_doc *d, const char *id, int h)
{
    FILE *o = R->out;
    fprintf(o, "<h%d id=\"%s-summary\">Summary</h%d>\n", h, id, h);
    if (!d->nruns) {
        fprintf(o, "<p class=\"dim\">This file holds no runs.</p>\n");
        return;
    }
    unsigned failed = 0, partial = 0;
    for (unsigned i = 0; i < d->nruns; i++) {
        failed += !d->runs[i].r.invariants.ok;
        partial += d->runs[i].r.partial;
    }
    if (failed)
        fprintf(o, "<p class=\"note\"><b>%u run%s failed %s invariants</b>: %s numbers are "
                   "not to be trusted.</p>\n", failed, failed == 1 ? "" : "s",
                failed == 1 ? "its" : "their", failed == 1 ? "its" : "their");
    if (partial || d->ctx.partial)
        fprintf(o, "<p class=\"note\">The session was interrupted: some runs are missing or cut "
                   "short (marked partial).</p>\n");
    summary_table(R->out, d);
    fprintf(o, "<h%d id=\"%s-latency\">Latency percentile spectrum</h%d>\n", h, id, h);
    doc_spectra(R, d);
    fprintf(o, "<h%d id=\"%s-throughput\">Throughput</h%d>\n", h, id, h);
    doc_throughput(R, d, "Throughput per strategy");
    doc_locks(R, d, id, h);
    fprintf(o, "<h%d id=\"%s-cancel\">Cancel outcomes</h%d>\n", h, id, h);
    bool any_cancel = false;
    for (unsigned i = 0; i < d->nruns; i++)
        any_cancel |= d->runs[i].r.cancel.attempted > 0;
    if (any_cancel) {
        doc_cancels(R, d);
        cancel_table(o, d);
    } else {
        fprintf(o, "<p class=\"dim\">No run attempted a cancel.</p>\n");
    }
    fprintf(o, "<h%d id=\"%s-queue\">Queue wait and service</h%d>\n", h, id, h);
    doc_queue_service(R, d);
    queue_service_table(o, d);
    bool any_pairs = false;
    for (unsigned i = 0; i < d->nruns; i++)
        any_pairs |= d->runs[i].r.npairs > 1;
    if (any_pairs) {
        fprintf(o, "<h%d id=\"%s-nodes\">Node pairs</h%d>\n<div class=\"grid\">\n", h, id, h);
        doc_heatmaps(R, d);
        fprintf(o, "</div>\n");
        node_pair_table(o, d);
    }
}

/* What became of the page's charts, above its body: turned off, gnuplot
 * missing or out of time, charts that failed. */
static void chart_notes(FILE *page, const struct pb_html_options *opt,
                        const struct pb_html_stats *st)
{
    if (opt && opt->no_charts) {
        fprintf(page, "<p class=\"note\">Charts were turned off for this page; the tables "
                      "hold every number.</p>\n");
    } else if (st->gnuplot_missing) {
        fprintf(page, "<p class=\"note\"><b>Charts need gnuplot</b> (Debian: the gnuplot-nox "
                      "package), and it could not be run: ");
        esc(page, st->note);
        fprintf(page, ". The tables below hold every number.</p>\n");
    } else if (st->gnuplot_timed_out) {
        fprintf(page, "<p class=\"note\"><b>gnuplot timed out</b>, so %u chart%s %s not drawn: ",
                st->charts_failed, st->charts_failed == 1 ? "" : "s",
                st->charts_failed == 1 ? "is" : "are");
        esc(page, st->note);
        fprintf(page, ". The tables below hold every number.</p>\n");
    } else if (st->charts_failed) {
        fprintf(page, "<p class=\"note\">%u chart%s could not be drawn: ", st->charts_failed,
                st->charts_failed == 1 ? "" : "s");
        esc(page, st->note);
        fprintf(page, ".</p>\n");
    }
}

/* A page's body is written in memory first (the notes on its charts go
 * above it); R renders into it, its charts' time starting now. */
static FILE *body_open(struct render *R, char **body, size_t *len,
                       const struct pb_html_options *opt, struct pb_html_stats *st, char *err,
                       size_t errlen)
{
    FILE *o = open_memstream(body, len);
    if (!o) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *R = (struct render){ .out = o, .opt = opt, .st = st, .next_chart = 0,
                          .deadline = mono_s() + total_timeout(opt) };
    return o;
}

static int render_page(FILE *page, const struct pb_html_input *in, unsigned n,
                       const struct pb_html_options *opt, struct pb_html_stats *st, char *err,
                       size_t errlen)
{
    char *body = NULL;
    size_t body_len = 0;
    struct render R;
    FILE *o = body_open(&R, &body, &body_len, opt, st, err, errlen);
    if (!o)
        return -1;
    if (n >= 2) {
        fprintf(o, "<section id=\"comparison\"><h2>Comparison</h2>\n");
        comparison(&R, in, n);
        fprintf(o, "<h3 id=\"context\">Context, side by side</h3>\n");
        context_table(o, in, n);
        fprintf(o, "</section>\n");
        for (unsigned f = 0; f < n; f++) {
            char id[8];
            snprintf(id, sizeof id, "f%c", 'a' + f);
            fprintf(o, "<section id=\"%s\"><h2>%c: ", id, 'A' + f);
            esc(o, in[f].name);
            fprintf(o, "</h2>\n");
            doc_sections(&R, in[f].doc, id, 3);
            fprintf(o, "</section>\n");
        }
    } else {
        fprintf(o, "<section id=\"results\">\n");
        doc_sections(&R, in[0].doc, "fa", 2);
        fprintf(o, "<h2 id=\"context\">Context</h2>\n");
        context_table(o, in, n);
        fprintf(o, "</section>\n");
    }
    howto(o);
    if (fclose(o) != 0 || !body) {
        free(body);
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    const struct pb_context *c0 = &in[0].doc->ctx;
    fprintf(page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta name=\"generator\" content=\"pendbench report\">\n<title>pendbench "
                  "report: ");
    if (n >= 2)
        fprintf(page, "%u result files compared", n);
    else {
        esc(page, c0->host);
        fprintf(page, ", ");
        esc(page, c0->date);
    }
    fprintf(page, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n"
                  "<h1>pendbench report</h1>\n<p class=\"sub\">", css);
    if (n >= 2) {
        fprintf(page, "%u result files compared: ", n);
        for (unsigned f = 0; f < n; f++) {
            fprintf(page, "%s<b>%c</b> ", f ? ", " : "", 'A' + f);
            esc(page, in[f].name);
        }
    } else {
        esc(page, in[0].name);
        fprintf(page, " &middot; %u run%s &middot; ", in[0].doc->nruns,
                in[0].doc->nruns == 1 ? "" : "s");
        esc(page, c0->host);
        fprintf(page, " &middot; ");
        esc(page, c0->date);
        fprintf(page, " &middot; git ");
        esc(page, c0->git_commit);
    }
    fprintf(page, "</p>\n<nav>");
    if (n >= 2) {
        fprintf(page, "<a href=\"#comparison\">Comparison</a><a href=\"#context\">Context</a>");
        for (unsigned f = 0; f < n; f++)
            fprintf(page, "<a href=\"#f%c\">%c</a>", 'a' + f, 'A' + f);
    } else {
        fprintf(page, "<a href=\"#fa-summary\">Summary</a><a href=\"#fa-latency\">Latency</a>"
                      "<a href=\"#fa-throughput\">Throughput</a>%s<a href=\"#fa-cancel\">Cancel "
                      "outcomes</a><a href=\"#fa-queue\">Queue wait and service</a>",
                doc_has_locks(in[0].doc) ? "<a href=\"#fa-locks\">Locks</a>" : "");
        bool pairs = false;
        for (unsigned i = 0; i < in[0].doc->nruns; i++)
            pairs |= in[0].doc->runs[i].r.npairs > 1;
        if (pairs)
            fprintf(page, "<a href=\"#fa-nodes\">Node pairs</a>");
        fprintf(page, "<a href=\"#context\">Context</a>");
    }
    fprintf(page, "<a href=\"#howto\">How to read this</a></nav>\n</header>\n");
    chart_notes(page, opt, st);
    fwrite(body, 1, body_len, page);
    free(body);
    fprintf(page, "<footer>Written by <code>pendbench report</code>. A self-contained page: "
                  "inline styles and SVG, no script, nothing fetched.</footer>\n"
                  "</body>\n</html>\n");
    return 0;
}

int pb_html_render(FILE *out, const struct pb_html_input *in, unsigned n,
                   const struct pb_html_options *opt, struct pb_html_stats *stats, char *err,
                   size_t errlen)
{
    struct pb_html_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (n == 0 || !in) {
        snprintf(err, errlen, "no result to report");
        return -1;
    }
    if (n > MAX_FILES) {
        snprintf(err, errlen, "at most %d result files side by side (%u given)", MAX_FILES, n);
        return -1;
    }
    for (unsigned f = 0; f < n; f++)
        if (!in[f].doc || !in[f].name) {
            snprintf(err, errlen, "result %u: no document", f + 1);
            return -1;
        }
    if (render_page(out, in, n, opt, stats, err, errlen) != 0)
        return -1;
    if (stopped(opt)) {
        snprintf(err, errlen, "interrupted: no page written");
        return -1;
    }
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "cannot write the page: %s", strerror(errno));
        return -1;
    }
    return 0;
}

struct render_args {
    const struct pb_html_input *in;
    unsigned n;
    const struct pb_html_options *opt;
    struct pb_html_stats *stats;
};

static int render_to(FILE *out, void *arg, char *err, size_t errlen)
{
    const struct render_args *a = arg;
    return pb_html_render(out, a->in, a->n, a->opt, a->stats, err, errlen);
}

int pb_html_write(const char *path, const struct pb_html_input *in, unsigned n,
                  const struct pb_html_options *opt, struct pb_html_stats *stats, char *err,
                  size_t errlen)
{
    struct render_args a = { in, n, opt, stats };
    return pb_file_write(path, render_to, &a, err, errlen);
}

int pb_html_report_file(const char *json_path, const char *html_path,
                        const struct pb_html_options *opt, struct pb_html_stats *stats, char *err,
                        size_t errlen)
{
    struct pb_result_doc doc;
    if (pb_result_read(json_path, &doc, err, errlen) != 0) {
        pb_result_doc_free(&doc);
        return -1;
    }
    struct pb_html_input in = { json_path, &doc };
    int rc = pb_html_write(html_path, &in, 1, opt, stats, err, errlen);
    pb_result_doc_free(&doc);
    return rc;
}

/* ---- the history's trend page ------------------------------------------------------ */

static void trend_chart(struct render *R, const struct pb_html_trend *t,
                        const struct pb_html_trend_series *se)
{
    struct script s;
    if (script_open(&s, CHART_W, 420) != 0)
        return;
    FILE *g = s.f;
    bool any_busy = false;
    fprintf(g, "$d << EOD\n");
    for (unsigned k = 0; k < se->npoints; k++) {
        const struct pb_html_trend_point *p = &se->points[k];
        any_busy |= p->busy_reps > 0;
        fprintf(g, "%u %.10g %d\n", k + 1, isfinite(p->value) ? p->value : 0,
                p->busy_reps > 0);
    }
    fprintf(g, "EOD\n");
    /* The medians between changes, one segment each (blank line between). */
    if (se->nchanges) {
        fprintf(g, "$m << EOD\n");
        unsigned from = 0;
        for (unsigned c = 0; c <= se->nchanges; c++) {
            unsigned to = c < se->nchanges ? se->changes[c].index : se->npoints;
            double m = c < se->nchanges ? se->changes[c].median_before
                                        : se->changes[c - 1].median_after;
            fprintf(g, "%.3f %.10g\n%.3f %.10g\n\n", from + 0.6, m, to + 0.4, m);
            from = to;
        }
        fprintf(g, "EOD\n");
        for (unsigned c = 0; c < se->nchanges; c++)
            fprintf(g, "set arrow from %.1f, graph 0 to %.1f, graph 1 nohead dt 2 lw 1.5 "
                       "lc rgb '%s'\n", se->changes[c].index + 0.5, se->changes[c].index + 0.5,
                    se->changes[c].regression ? "#d62728" : "#2ca02c");
    }
    fprintf(g, "set xrange [0.5:%u.5]\n", se->npoints);
    if (se->npoints <= 40) {
        /* Each invocation's commit under it (7 characters: git's short hash). */
        fprintf(g, "set xtics rotate by -45 font ',8' (");
        for (unsigned k = 0; k < se->npoints; k++) {
            char c[8];
            snprintf(c, sizeof c, "%.7s", se->points[k].commit[0] ? se->points[k].commit : "?");
            fprintf(g, "%s", k ? ", " : "");
            gp_quote(g, c);
            fprintf(g, " %u", k + 1);
        }
        fprintf(g, ")\nset xlabel 'commit, oldest first'\n");
    } else {
        fprintf(g, "set xlabel 'invocation, oldest first'\n");
    }
    fprintf(g, "set ylabel ");
    char yl[96];
    snprintf(yl, sizeof yl, "%s (%s is better)", t->unit, t->higher_is_better ? "higher" : "lower");
    gp_quote(g, yl);
    /* SI prefixes (6M ops/s, 150 ns); a fraction keeps its decimals. */
    fprintf(g, "\nset yrange [0:*]\nset key outside top center horizontal\n%s"
               "plot $d using 1:2 with linespoints pt 7 ps 0.6 lw 1.5 lc rgb '#1f77b4' title ",
            strcmp(t->unit, "fraction") == 0 ? "" : "set format y '%.3s%c'\n");
    gp_quote(g, t->metric_title);
    if (any_busy)
        fprintf(g, ", $d using 1:($3 > 0 ? $2 : 1/0) with points pt 6 ps 1.8 lw 1.5 "
                   "lc rgb '#e6550d' title 'busy machine'");
    if (se->nchanges)
        fprintf(g, ", $m using 1:2 with lines dt 2 lw 2 lc rgb '#555555' "
                   "title 'median between changes'");
    fprintf(g, "\n");
    chart_emit(R, &s, se->title, CHART_W,
               se->nchanges ? "Dashed verticals: change points (red a regression, green an "
                              "improvement); dashed horizontals: the medians between them."
                            : NULL);
}

static void trend_table(FILE *o, const struct pb_html_trend_series *se)
{
    fprintf(o, "<table>\n<tr><th>#</th><th>date</th><th>commit</th><th>host</th>"
               "<th class=\"num\">value</th><th class=\"num\">change</th>"
               "<th class=\"num\">repetitions</th><th>notes</th></tr>\n");
    for (unsigned k = 0; k < se->npoints; k++) {
        const struct pb_html_trend_point *p = &se->points[k];
        fprintf(o, "<tr><td class=\"num\">%u</td><td>", k + 1);
        esc(o, p->date);
        fprintf(o, "</td><td><code>");
        esc(o, p->commit);
        fprintf(o, "</code></td><td>");
        esc(o, p->host);
        fprintf(o, "</td><td class=\"num\">");
        esc(o, p->value_text);
        fprintf(o, "</td><td class=\"num\">");
        double prev = k ? se->points[k - 1].value : 0;
        if (k && prev != 0 && isfinite(p->value))
            fprintf(o, "%+.1f%%", 100 * (p->value - prev) / fabs(prev));
        fprintf(o, "</td><td class=\"num\">%u</td><td>", p->reps);
        const char *sep = "";
        if (p->busy_reps) {
            fprintf(o, "<b>busy machine</b>: %u of %u repetition%s, others up to %.0f%%",
                    p->busy_reps, p->reps, p->reps == 1 ? "" : "s", p->others_max);
            sep = "; ";
        }
        if (p->partial) {
            fprintf(o, "%spartial", sep);
            sep = "; ";
        }
        if (p->failed)
            fprintf(o, "%s<b>invariants failed</b>", sep);
        for (unsigned c = 0; c < se->nchanges; c++) {
            const struct pb_html_trend_change *ch = &se->changes[c];
            if (ch->index != k)
                continue;
            fprintf(o, "%s<b>change</b>: ", p->busy_reps || p->partial || p->failed ? "; " : "");
            esc(o, ch->before_text);
            fprintf(o, " &rarr; ");
            esc(o, ch->after_text);
            fprintf(o, " (%+.1f%%, p=%.3f, %s)", 100 * ch->shift, ch->p_value,
                    ch->regression ? "a regression" : "an improvement");
        }
        fprintf(o, "</td></tr>\n");
    }
    fprintf(o, "</table>\n");
}

static int render_trend(FILE *page, const struct pb_html_trend *t,
                        const struct pb_html_options *opt, struct pb_html_stats *st, char *err,
                        size_t errlen)
{
    char *body = NULL;
    size_t body_len = 0;
    struct render R;
    FILE *o = body_open(&R, &body, &body_len, opt, st, err, errlen);
    if (!o)
        return -1;
    if (!t->nseries)
        fprintf(o, "<p class=\"dim\">No invocation recorded matches.</p>\n");
    for (unsigned i = 0; i < t->nseries; i++) {
        const struct pb_html_trend_series *se = &t->series[i];
        fprintf(o, "<section id=\"s%u\"><h2>", i + 1);
        esc(o, se->title);
        fprintf(o, "</h2>\n<p class=\"sub\">%u invocation%s", se->npoints,
                se->npoints == 1 ? "" : "s");
        if (se->busy_left_out)
            fprintf(o, "; %u on a busy machine left out (--skip-busy)", se->busy_left_out);
        fprintf(o, "; %u change point%s</p>\n", se->nchanges, se->nchanges == 1 ? "" : "s");
        trend_chart(&R, t, se);
        trend_table(o, se);
        fprintf(o, "</section>\n");
    }
    if (t->busy_series_left_out)
        fprintf(o, "<p class=\"note\">%u series left out whole (--skip-busy): every invocation "
                   "ran on a busy machine.</p>\n", t->busy_series_left_out);
    if (fclose(o) != 0 || !body) {
        free(body);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (stopped(opt)) {
        free(body);
        snprintf(err, errlen, "interrupted: no page written");
        return -1;
    }
    fprintf(page, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<meta name=\"generator\" content=\"pendbench history\">\n<title>pendbench "
                  "history: ");
    esc(page, t->metric_title);
    fprintf(page, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n"
                  "<h1>pendbench history</h1>\n<p class=\"sub\">", css);
    esc(page, t->metric_title);
    fprintf(page, " &middot; ");
    esc(page, t->database);
    fprintf(page, " &middot; %u series</p>\n<nav>", t->nseries);
    for (unsigned i = 0; i < t->nseries && i < 40; i++)
        fprintf(page, "<a href=\"#s%u\">%u</a>", i + 1, i + 1);
    fprintf(page, "</nav>\n</header>\n");
    chart_notes(page, opt, st);
    fwrite(body, 1, body_len, page);
    free(body);
    fprintf(page, "<p class=\"dim\">A point is one recorded invocation: its repetitions' "
                  "median (latency: the percentile of their merged histograms), the runs in "
                  "another machine state left out. <b>Busy machine</b>: a repetition ran while "
                  "other processes took 25%% or more of the CPU time. Change points: E-divisive "
                  "means with a permutation test, 3 invocations on each side at least.</p>\n"
                  "<footer>Written by <code>pendbench history --html</code>. A self-contained "
                  "page: inline styles and SVG, no script, nothing fetched.</footer>\n"
                  "</body>\n</html>\n");
    if (fflush(page) != 0 || ferror(page)) {
        snprintf(err, errlen, "cannot write the page: %s", strerror(errno));
        return -1;
    }
    return 0;
}

struct trend_args {
    const struct pb_html_trend *t;
    const struct pb_html_options *opt;
    struct pb_html_stats *stats;
};

static int trend_to(FILE *out, void *arg, char *err, size_t errlen)
{
    const struct trend_args *a = arg;
    struct pb_html_stats local;
    struct pb_html_stats *st = a->stats ? a->stats : &local;
    memset(st, 0, sizeof *st);
    return render_trend(out, a->t, a->opt, st, err, errlen);
}

int pb_html_trend_write(const char *path, const struct pb_html_trend *t,
                        const struct pb_html_options *opt, struct pb_html_stats *stats,
                        char *err, size_t errlen)
{
    struct trend_args a = { t, opt, stats };
    return pb_file_write(path, trend_to, &a, err, errlen);
}
