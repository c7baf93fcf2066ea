/* The HTML report: a hand-made result document (histograms from a seeded
 * generator, a run over two node pairs, cancels) written with
 * pb_result_write, read back and rendered; the page has its sections, one
 * inline SVG per chart with data in it, every string from the file
 * escaped, nothing to fetch; without gnuplot it still renders, with a
 * note; two files are compared side by side, with compare's verdicts (the
 * same words for the same files, colour only for regressed and improved).
 * Then the page in headless Chromium: the browser's DOM holds the charts,
 * and a screenshot is drawn (skipped where chromium is not installed). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pb_compare.h"
#include "pb_html.h"
#include "pb_result.h"

/* ---- scratch directory ------------------------------------------------------ */

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pb-html-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(html, .init = make_dir, .fini = remove_dir, .timeout = 120);

static void path_in(char *out, size_t size, const char *name)
{
    cr_assert_lt((size_t)snprintf(out, size, "%s/%s", dir, name), size);
}

static bool have(const char *program)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", program);
    return system(cmd) == 0;
}

/* ---- a result document ------------------------------------------------------ */

static void set(struct pb_scenario *s, const char *key, const char *value)
{
    char err[256];
    cr_assert_eq(pb_scenario_set(s, key, value, err, sizeof err), 0, "%s=%s: %s", key, value, err);
}

/* Latencies with a body and a tail (a few far-off values), seeded. */
static void fill_hist(struct pb_hist *h, uint64_t seed, unsigned n, uint64_t base)
{
    pb_hist_init(h);
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (unsigned i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t v = base + x % (base * 2 + 1);
        if (x % 101 == 0)
            v *= 40;
        if (x % 5003 == 0)
            v *= 900;
        pb_hist_record(h, v);
    }
}

#define NRUNS 3
#define NCHARTS 6   /* spectra: steady (2 runs), the rest (1); throughput; cancels; queue/service; node pairs */

static const char *const evil = "<script>alert(\"x\")</script> & 'co'";

/* Writes a document of NRUNS runs to `name` in the scratch directory;
 * `speed` scales throughput and latency (a second file to compare). */
static void write_doc(const char *name, double speed)
{
    struct pb_run_result *runs = calloc(NRUNS, sizeof *runs);
    cr_assert_not_null(runs);
    static const char *const queue[NRUNS] = { "global-mutex", "percpu-mpsc", "percpu-mpsc" };
    static const char *const scen[NRUNS] = { "steady", "steady", "cross-node" };
    for (unsigned k = 0; k < NRUNS; k++) {
        struct pb_run_result *r = &runs[k];
        pb_scenario_defaults(&r->scenario);
        set(&r->scenario, "name", scen[k]);
        set(&r->scenario, "description", evil);
        set(&r->scenario, "queue", queue[k]);
        set(&r->scenario, "requesters", k == 2 ? "2" : "1");
        set(&r->scenario, "workers", k == 2 ? "2" : "1");
        r->seconds = 1;
        r->issued = 100000;
        r->completed = 90000;
        r->completed_cancelled = 10000;
        r->throughput_ops_s = (k + 1) * 250000.0 * speed;
        uint64_t base = (uint64_t)((300 + 200 * k) / speed);
        fill_hist(&r->total, 1 + k, 20000, base);
        fill_hist(&r->queue_wait, 11 + k, 20000, base / 2);
        fill_hist(&r->service, 21 + k, 20000, base / 3);
        r->cancel = (struct pb_cancel_outcomes){ .attempted = 10000, .won = 6000, .lost = 2500,
                                                 .early = 800, .late = 600,
                                                 .not_cancelable = 100, .success_rate = 0.6 };
        r->invariants.ok = true;
        r->c2c_round_trip_ns = 80;
        r->timestamp_overhead_ns = 7;
        if (k == 2) {
            r->npairs = 2;
            r->pairs = calloc(2, sizeof *r->pairs);
            cr_assert_not_null(r->pairs);
            r->pairs[0].requester_node = 0;
            r->pairs[0].worker_node = 1;
            fill_hist(&r->pairs[0].total, 31, 5000, 900);
            r->pairs[1].requester_node = 1;
            r->pairs[1].worker_node = 0;
            fill_hist(&r->pairs[1].total, 32, 4000, 1100);
        }
    }
    struct pb_context ctx;
    pb_context_collect(&ctx, "pack:1 numa:2 core:2 pu:1");
    snprintf(ctx.command, sizeof ctx.command, "pendbench %s", evil);
    ctx.c2c_round_trip_ns = 80;
    ctx.timestamp_overhead_ns = 7;
    ctx.futex_wake_ns = 20000;
    ctx.tsc_ticks_per_ns = 2.5;
    char path[256], err[256];
    path_in(path, sizeof path, name);
    cr_assert_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    for (unsigned k = 0; k < NRUNS; k++)
        free(runs[k].pairs);
    free(runs);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static unsigned count(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

/* Renders the named result files to report.html; returns the page. */
static char *render(const char *const *names, unsigned n, const struct pb_html_options *opt,
                    struct pb_html_stats *st)
{
    struct pb_result_doc docs[4];
    struct pb_html_input in[4];
    char paths[4][256], err[512], out[256];
    cr_assert_leq(n, 4);
    for (unsigned f = 0; f < n; f++) {
        path_in(paths[f], sizeof paths[f], names[f]);
        cr_assert_eq(pb_result_read(paths[f], &docs[f], err, sizeof err), 0, "%s", err);
        in[f].name = paths[f];
        in[f].doc = &docs[f];
    }
    path_in(out, sizeof out, "report.html");
    int rc = pb_html_write(out, in, n, opt, st, err, sizeof err);
    for (unsigned f = 0; f < n; f++)
        pb_result_doc_free(&docs[f]);
    cr_assert_eq(rc, 0, "%s", err);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", out, (int)getpid());
    cr_assert_neq(access(tmp, F_OK), 0, "the temporary file is left behind");
    return slurp(out);
}

/* Every <svg ...> ... </svg> of the page has drawn data (a line with
 * many points, or filled bars) and a title. */
static unsigned charts_with_data(const char *page)
{
    unsigned n = 0;
    for (const char *p = page; (p = strstr(p, "<svg")); p += 4) {
        const char *end = strstr(p, "</svg>");
        cr_assert_not_null(end, "an <svg> is not closed");
        size_t len = (size_t)(end - p);
        char *one = strndup(p, len);
        cr_assert_not_null(one);
        cr_assert(strstr(one, "<title>"), "a chart without a title");
        bool data = false;
        /* A drawn series: a path with at least 8 segments. */
        for (const char *d = one; (d = strstr(d, " d='M")) && !data; d += 5) {
            const char *q = strchr(d + 5, '\'');
            unsigned segments = 0;
            for (const char *c = d + 5; q && c < q; c++)
                segments += *c == 'L' || *c == 'M' || *c == 'h' || *c == 'v' || *c == 'V';
            data = segments >= 8;
        }
        /* Or bars and cells: filled polygons. */
        data = data || count(one, "<polygon fill") >= 2;
        cr_assert(data, "a chart with no data drawn:\n%.400s", one);
        free(one);
        n++;
    }
    return n;
}

/* Nothing to fetch: the only URLs are the SVG namespaces. */
static void assert_self_contained(const char *page)
{
    for (const char *p = page; (p = strstr(p, "http")); p += 4)
        cr_assert(strncmp(p, "http://www.w3.org/", 18) == 0, "a URL in the page: %.60s", p);
    cr_assert_null(strstr(page, "<script"), "a script in the page");
    cr_assert_null(strstr(page, " src="), "an external source in the page");
    cr_assert_null(strstr(page, "<link"), "a link element in the page");
}

Test(html, sections_charts_and_escaping)
{
    if (!have("gnuplot"))
        cr_skip_test("gnuplot is not installed (scripts/setup installs gnuplot-nox)");
    write_doc("result.json", 1.0);
    struct pb_html_stats st;
    const char *names[] = { "result.json" };
    char *page = render(names, 1, NULL, &st);
    cr_assert_eq(st.charts_failed, 0, "%s", st.note);
    cr_assert(!st.gnuplot_missing);
    cr_assert_eq(st.charts, NCHARTS);
    cr_assert(strncmp(page, "<!DOCTYPE html>", 15) == 0);
    static const char *const sections[] = {
        "id=\"fa-summary\"", "id=\"fa-latency\"", "id=\"fa-throughput\"", "id=\"fa-cancel\"",
        "id=\"fa-queue\"", "id=\"fa-nodes\"", "id=\"context\"", "id=\"howto\"", "</html>",
    };
    for (size_t k = 0; k < sizeof sections / sizeof sections[0]; k++)
        cr_assert(strstr(page, sections[k]), "no %s", sections[k]);
    cr_assert_eq(charts_with_data(page), NCHARTS);
    cr_assert_eq(count(page, "<?xml"), 0);
    /* The summary: each run's strategies and numbers. */
    cr_assert(strstr(page, "magazine / global-mutex / xchg"));
    cr_assert(strstr(page, "250,000"), "the throughput of run 1");
    cr_assert(strstr(page, "60.0%"), "the cancel success rate");
    /* The spectrum's axis, HdrHistogram style. */
    cr_assert(strstr(page, ">99.9%<"));
    cr_assert(strstr(page, ">99.99%<"));
    /* The context: calibration and topology. */
    cr_assert(strstr(page, "pack:1 numa:2 core:2 pu:1"));
    cr_assert(strstr(page, "80 ns"));
    cr_assert(strstr(page, "20.00 \xc2\xb5s"));
    /* Strings from the file are escaped: the description and the command. */
    cr_assert_null(strstr(page, evil));
    cr_assert(strstr(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;"));
    assert_self_contained(page);
    /* Chart ids are unique to each chart. */
    cr_assert_eq(count(page, "id='c0-gpDot'"), 1);
    cr_assert_eq(count(page, "id='c5-gpDot'"), 1);
    free(page);
}

Test(html, without_gnuplot_tables_and_a_note)
{
    write_doc("result.json", 1.0);
    struct pb_html_options opt = { .gnuplot = "/nonexistent/pb-no-gnuplot" };
    struct pb_html_stats st;
    const char *names[] = { "result.json" };
    char *page = render(names, 1, &opt, &st);
    cr_assert(st.gnuplot_missing);
    cr_assert_eq(st.charts, 0);
    cr_assert(strstr(page, "Charts need gnuplot"));
    cr_assert_eq(count(page, "<svg"), 0);
    cr_assert(strstr(page, "magazine / percpu-mpsc / xchg"), "the tables are there");
    cr_assert(strstr(page, "id=\"context\""));
    free(page);
}

Test(html, a_failing_chart_is_a_note)
{
    /* A "gnuplot" that fails: each chart says why, the page renders. */
    char fake[256];
    path_in(fake, sizeof fake, "fake-gnuplot");
    FILE *f = fopen(fake, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\necho '         line 3: something went wrong' >&2\nexit 1\n");
    fclose(f);
    chmod(fake, 0755);
    write_doc("result.json", 1.0);
    struct pb_html_options opt = { .gnuplot = fake };
    struct pb_html_stats st;
    const char *names[] = { "result.json" };
    char *page = render(names, 1, &opt, &st);
    cr_assert(!st.gnuplot_missing);
    cr_assert_eq(st.charts_failed, NCHARTS);
    cr_assert(strstr(st.note, "line 3: something went wrong"), "%s", st.note);
    cr_assert(strstr(page, "could not be drawn"));
    cr_assert_eq(count(page, "<svg"), 0);
    free(page);
}

/* A "gnuplot" that never answers (its child neither): killed with its
 * process group when the page's time runs out, no later chart is tried,
 * and the page says so. It used to wait 30 s a chart. */
Test(html, a_gnuplot_that_never_answers_is_killed_in_time)
{
    char fake[256], pidfile[256];
    path_in(fake, sizeof fake, "hanging-gnuplot");
    path_in(pidfile, sizeof pidfile, "child.pid");
    FILE *f = fopen(fake, "w");
    cr_assert_not_null(f);
    fprintf(f, "#!/bin/sh\nsleep 1000 &\necho $! > '%s'\nwait\n", pidfile);
    fclose(f);
    chmod(fake, 0755);
    write_doc("result.json", 1.0);
    struct pb_html_options opt = { .gnuplot = fake, .total_timeout_s = 0.3 };
    struct pb_html_stats st;
    const char *names[] = { "result.json" };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *page = render(names, 1, &opt, &st);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_expect_lt(took, 10.0, "took %.1f s", took);
    cr_assert(st.gnuplot_timed_out);
    cr_assert(!st.gnuplot_missing);
    cr_assert_eq(st.charts, 0);
    cr_assert_eq(st.charts_failed, NCHARTS);
    cr_assert(strstr(st.note, "timed out"), "%s", st.note);
    cr_assert(strstr(page, "gnuplot timed out"));
    cr_assert(strstr(page, "magazine / percpu-mpsc / xchg"), "the tables are there");
    /* The script's own child went with it. */
    char *pid = slurp(pidfile);
    char stat_path[64];
    snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", atoi(pid));
    char pstat[256] = "";
    FILE *p = fopen(stat_path, "r");
    if (p) {
        if (!fgets(pstat, sizeof pstat, p))
            pstat[0] = 0;
        fclose(p);
    }
    /* Gone, or a zombie that waits for init. */
    cr_expect(!p || strstr(pstat, ") Z "), "the sleep is still running: %s", pstat);
    free(pid);
    free(page);
}

/* A "gnuplot" that writes without end is stopped at 64 MiB, not left to
 * fill the disk. */
Test(html, a_gnuplot_that_writes_without_end_is_stopped)
{
    if (!have("yes"))
        cr_skip_test("no yes(1)");
    write_doc("result.json", 1.0);
    struct pb_html_options opt = { .gnuplot = "yes" };
    struct pb_html_stats st;
    const char *names[] = { "result.json" };
    char *page = render(names, 1, &opt, &st);
    cr_assert(!st.gnuplot_timed_out, "%s", st.note);
    cr_assert_eq(st.charts_failed, NCHARTS);
    cr_assert(strstr(st.note, "more than 64 MiB"), "%s", st.note);
    free(page);
}

Test(html, two_files_side_by_side)
{
    if (!have("gnuplot"))
        cr_skip_test("gnuplot is not installed (scripts/setup installs gnuplot-nox)");
    write_doc("a.json", 1.0);
    write_doc("b.json", 1.25);
    struct pb_html_stats st;
    const char *names[] = { "a.json", "b.json" };
    char *page = render(names, 2, NULL, &st);
    cr_assert_eq(st.charts_failed, 0, "%s", st.note);
    cr_assert(strstr(page, "id=\"comparison\""));
    cr_assert(strstr(page, "id=\"fa\"") && strstr(page, "id=\"fb\""));
    /* compare's verdicts: one repetition a side, so untested: throughput
     * +25 % and latency -20 % for every run are inconclusive, never
     * improved, except p99, which sits on the tail's step where the merged
     * histograms' intervals overlap (the pooled test sees nothing); the
     * cancel rate did not move. None is coloured. */
    cr_assert_eq(count(page, "change\">+25.0%"), NRUNS, "%u", count(page, "change\">+25.0%"));
    cr_assert_eq(count(page, "<td class=\"verdict\">inconclusive (untested)</td>"), 3 * NRUNS,
                 "%u", count(page, "<td class=\"verdict\">inconclusive (untested)</td>"));
    cr_assert_eq(count(page, "<td class=\"verdict\">no significant change (untested)</td>"), NRUNS);
    cr_assert_eq(count(page, "<td class=\"verdict\">below threshold (untested)</td>"), NRUNS);
    cr_assert_eq(count(page, " worse\""), 0, "nothing regressed, nothing in red");
    cr_assert_eq(count(page, " better\""), 0, "nothing judged, nothing in green");
    /* The summary says once what to do about the missing repetitions. */
    cr_assert_eq(count(page, "--repeat 5"), 1);
    cr_assert(strstr(page, "3 runs compared; 0 tests in the family, holm correction"));
    /* An overlaid spectrum per matched run, plus each file's own charts. */
    cr_assert_eq(st.charts, NRUNS + 2 * NCHARTS);
    cr_assert_eq(charts_with_data(page), NRUNS + 2 * NCHARTS);
    assert_self_contained(page);
    free(page);
}

/* NCONF configurations x `reps` repetitions with 3 % run-to-run noise on
 * throughput and latency (seeded); configuration `slow` runs `factor`
 * slower (throughput x factor, latency / factor). */
#define NCONF 4

static double unit_noise(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return (double)(*x % 2000001) / 1000000.0 - 1;   /* [-1, 1] */
}

static void write_reps_doc(const char *name, uint64_t seed, unsigned reps, unsigned slow,
                           double factor)
{
    unsigned n = NCONF * reps;
    struct pb_run_result *runs = calloc(n, sizeof *runs);
    cr_assert_not_null(runs);
    static const char *const queue[NCONF] = { "global-mutex", "percpu-mpsc", "percpu-mpsc",
                                              "percpu-ring" };
    static const char *const scen[NCONF] = { "steady", "steady", "cross-node", "steady" };
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 7;
    for (unsigned k = 0; k < NCONF; k++)
        for (unsigned rep = 0; rep < reps; rep++) {
            struct pb_run_result *r = &runs[k * reps + rep];
            pb_scenario_defaults(&r->scenario);
            set(&r->scenario, "name", scen[k]);
            set(&r->scenario, "queue", queue[k]);
            set(&r->scenario, "requesters", k == 2 ? "2" : "1");
            set(&r->scenario, "workers", k == 2 ? "2" : "1");
            r->repetition = rep;
            r->seconds = 1;
            r->issued = r->completed = 4000;
            double f = k == slow ? factor : 1;
            r->throughput_ops_s = (k + 1) * 250000.0 * f * (1 + 0.03 * unit_noise(&x));
            uint64_t level = (uint64_t)((300 + 200 * k) / f * (1 + 0.03 * unit_noise(&x)));
            fill_hist(&r->total, seed * 1000 + k * 10 + rep, 4000, level);
            pb_hist_init(&r->queue_wait);
            pb_hist_init(&r->service);
            r->invariants.ok = true;
        }
    struct pb_context ctx;
    pb_context_collect(&ctx, NULL);
    char path[256], err[256];
    path_in(path, sizeof path, name);
    cr_assert_eq(pb_result_write(path, &ctx, runs, n, err, sizeof err), 0, "%s", err);
    free(runs);
}

/* The text of the element after `from` that starts with `open`, up to '<'. */
static const char *cell_text(const char *from, const char *open, char *buf, size_t size)
{
    const char *p = strstr(from, open);
    cr_assert_not_null(p, "no %s after %.80s", open, from);
    p = strchr(p, '>') + 1;
    const char *end = strchr(p, '<');
    snprintf(buf, size, "%.*s", (int)(end - p), p);
    return buf;
}

Test(html, report_and_compare_give_the_same_verdicts)
{
    /* B: configuration 1 is 20 % slower, the rest is noise. */
    write_reps_doc("a.json", 1, 5, NCONF, 1);
    write_reps_doc("b.json", 2, 5, 1, 0.8);
    struct pb_html_options opt = { .no_charts = true };
    struct pb_html_stats st;
    const char *names[] = { "a.json", "b.json" };
    char *page = render(names, 2, &opt, &st);
    struct pb_result_doc da, db;
    char pa[256], pbp[256], err[512];
    path_in(pa, sizeof pa, "a.json");
    path_in(pbp, sizeof pbp, "b.json");
    cr_assert_eq(pb_result_read(pa, &da, err, sizeof err), 0, "%s", err);
    cr_assert_eq(pb_result_read(pbp, &db, err, sizeof err), 0, "%s", err);
    struct pb_compare_opts o;
    pb_compare_opts_default(&o);
    struct pb_comparison c;
    cr_assert_eq(pb_compare_docs(&da, &db, &o, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.nrows, NCONF);
    cr_assert_geq(c.regressed, 2, "the slow configuration regressed");
    unsigned checked = 0;
    for (unsigned i = 0; i < c.nrows; i++) {
        const struct pb_compare_row *r = &c.rows[i];
        for (unsigned k = 0; k < r->nmetrics; k++) {
            const struct pb_compare_metric *m = &r->metrics[k];
            char id[64], words[64], cell[128];
            snprintf(id, sizeof id, "id=\"cmp-b-%u-%s\"", i, pb_metric_name(m->metric));
            const char *row = strstr(page, id);
            if (!m->available) {
                cr_assert_null(row, "%s: an n/a metric is not shown", id);
                continue;
            }
            cr_assert_not_null(row, "%s not in the page", id);
            if (k == 0) {
                char attr[160];
                snprintf(attr, sizeof attr, "%s data-verdict=\"%s\"", id, pb_verdict_name(r->verdict));
                cr_assert(strstr(page, attr), "%s", attr);
            }
            pb_compare_verdict_words(m, words, sizeof words);
            cr_assert_str_eq(cell_text(row, "<td class=\"verdict", cell, sizeof cell), words,
                             "%s", id);
            /* Colour only for regressed and improved. */
            const char *verdict_td = strstr(row, "<td class=\"verdict");
            bool coloured = strncmp(verdict_td, "<td class=\"verdict worse\"", 25) == 0 ||
                            strncmp(verdict_td, "<td class=\"verdict better\"", 26) == 0;
            cr_assert_eq(coloured, m->verdict == PB_VERDICT_REGRESSED ||
                                       m->verdict == PB_VERDICT_IMPROVED, "%s: %s", id, words);
            checked++;
        }
    }
    cr_assert_geq(checked, NCONF * 4);
    /* The summary is compare's. */
    char summary[2048];
    pb_comparison_summary(&c, summary, sizeof summary);
    *strchr(summary, '(') = 0;             /* the counts; the rest has an apostrophe, escaped */
    cr_assert(strstr(page, summary), "%s", summary);
    cr_assert(strstr(page, "16 tests in the family, holm correction, alpha 0.05"));
    pb_comparison_free(&c);
    pb_result_doc_free(&da);
    pb_result_doc_free(&db);
    free(page);
}

Test(html, bad_input)
{
    struct pb_html_stats st;
    char err[256];
    cr_assert_eq(pb_html_render(stdout, NULL, 0, NULL, &st, err, sizeof err), -1);
    char path[256];
    path_in(path, sizeof path, "missing.json");
    cr_assert_eq(pb_html_report_file(path, "/dev/null", NULL, &st, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot open"), "%s", err);
    /* An output in a missing directory: an error, no file. */
    write_doc("result.json", 1.0);
    char in[256], out[300];
    path_in(in, sizeof in, "result.json");
    snprintf(out, sizeof out, "%s/no/such/dir/report.html", dir);
    struct pb_html_options opt = { .no_charts = true };
    cr_assert_eq(pb_html_report_file(in, out, &opt, &st, err, sizeof err), -1);
    cr_assert(strstr(err, "report.html"), "%s", err);
    /* A device is written through, never replaced: /dev/full fails with
     * ENOSPC and stays a character device. */
    struct stat before, after;
    cr_assert_eq(stat("/dev/full", &before), 0);
    cr_assert_eq(pb_html_report_file(in, "/dev/full", &opt, &st, err, sizeof err), -1);
    cr_expect(strstr(err, "/dev/full: ") == err, "%s", err);
    cr_expect(strstr(err, "No space left on device"), "%s", err);
    cr_assert_eq(stat("/dev/full", &after), 0);
    cr_expect(S_ISCHR(after.st_mode) && after.st_ino == before.st_ino, "/dev/full was replaced");
    /* A directory is refused and stays. */
    snprintf(out, sizeof out, "%s/adir", dir);
    cr_assert_eq(mkdir(out, 0755), 0);
    cr_assert_eq(pb_html_report_file(in, out, &opt, &st, err, sizeof err), -1);
    cr_expect(strstr(err, "is a directory"), "%s", err);
    cr_expect(stat(out, &after) == 0 && S_ISDIR(after.st_mode));
}

/* ---- locks ------------------------------------------------------------------- */

#define LOCK_REPS 2
#define NLOCKS 3

/* steady on magazine/global-mutex/xchg under pthread-mutex (the baseline),
 * mcs and tas, LOCK_REPS repetitions each, and one cross-node run under
 * its strategies' own locks: lock run l does (l + 1) x 100000 ops/s at
 * p99 about 3 * (500 + 100 l) ns. `with_locks` false: the same runs, none
 * with a lock chosen or taken (a file from before locks). */
static void write_lock_doc_floors(const char *name, bool with_locks, bool floors);

static void write_lock_doc(const char *name, bool with_locks)
{
    write_lock_doc_floors(name, with_locks, false);
}

/* `floors`: every run measured a c2c floor of 50 ns, but tas's second
 * repetition ran at 450 ns (the VM's other placement) and did 9 M ops/s. */
static void write_lock_doc_floors(const char *name, bool with_locks, bool floors)
{
    static const char *const lock[NLOCKS] = { "mcs", "pthread-mutex", "tas" };
    unsigned n = NLOCKS * LOCK_REPS + 1;
    struct pb_run_result *runs = calloc(n, sizeof *runs);
    cr_assert_not_null(runs);
    for (unsigned i = 0; i < n; i++) {
        struct pb_run_result *r = &runs[i];
        unsigned l = i / LOCK_REPS;
        bool other = i == n - 1;
        pb_scenario_defaults(&r->scenario);
        set(&r->scenario, "name", other ? "cross-node" : "steady");
        set(&r->scenario, "queue", "global-mutex");
        if (with_locks && !other)
            set(&r->scenario, "lock", lock[l]);
        if (with_locks)
            snprintf(r->locks, sizeof r->locks, "%s",
                     other ? "ttas-backoff+pthread-mutex" : lock[l]);
        r->repetition = i % LOCK_REPS;
        r->seconds = 1;
        r->issued = r->completed = 20000;
        r->throughput_ops_s = other ? 50000 : (l + 1) * 100000.0 + 1000 * r->repetition;
        fill_hist(&r->total, 100 + i, 20000, other ? 900 : 500 + 100 * l);
        pb_hist_init(&r->queue_wait);
        pb_hist_init(&r->service);
        r->invariants.ok = true;
        if (floors) {
            bool away = l == 2 && r->repetition == 1 && !other;
            double c2c = away ? 450 : 50;
            r->c2c_round_trip_ns = c2c;
            r->c2c_start.median_ns = r->c2c_end.median_ns = c2c;
            if (away)
                r->throughput_ops_s = 9e6;
        }
        if (r->locks[0]) {
            r->lock_acquisitions = 40000;
            r->lock_contended = 4000 * (l + 1);
            r->lock_wait_ns = 4e6 * (l + 1);
            r->lock_acq_min = 19000;
            r->lock_acq_max = 21000;
            r->lock_fairness_jain = 0.9 + 0.01 * l;
            r->lock_worker_acq_min = r->lock_worker_acq_max = 20000;
            r->lock_worker_fairness_jain = 1;
        }
    }
    struct pb_context ctx;
    pb_context_collect(&ctx, NULL);
    char path[256], err[256];
    path_in(path, sizeof path, name);
    cr_assert_eq(pb_result_write(path, &ctx, runs, n, err, sizeof err), 0, "%s", err);
    free(runs);
}

/* The <svg> whose <title> starts with `title` ("" when none); malloc'd. */
static char *svg_titled(const char *page, const char *title)
{
    char want[256];
    snprintf(want, sizeof want, "<title>%s", title);
    for (const char *p = page; (p = strstr(p, "<svg")); p += 4) {
        const char *end = strstr(p, "</svg>");
        cr_assert_not_null(end);
        char *one = strndup(p, (size_t)(end - p));
        cr_assert_not_null(one);
        if (strstr(one, want))
            return one;
        free(one);
    }
    return strdup("");
}

/* A tic label of a gnuplot SVG: the text between '>' and '<'. */
static bool svg_has_text(const char *svg, const char *text)
{
    char want[128];
    snprintf(want, sizeof want, ">%s<", text);
    return strstr(svg, want) != NULL;
}

Test(html, a_locks_chart_names_each_lock)
{
    if (!have("gnuplot"))
        cr_skip_test("gnuplot is not installed (scripts/setup installs gnuplot-nox)");
    write_lock_doc("locks.json", true);
    struct pb_html_stats st;
    const char *names[] = { "locks.json" };
    char *page = render(names, 1, NULL, &st);
    cr_assert_eq(st.charts_failed, 0, "%s", st.note);
    cr_assert(strstr(page, "<a href=\"#fa-locks\">Locks</a>"), "the page links the section");
    cr_assert(strstr(page, "id=\"fa-locks\""));
    /* One locks chart (steady under three locks; cross-node ran under one):
     * spectra (2), throughput, locks, queue/service is empty: 4. */
    cr_assert_eq(count(page, "<title>Locks: "), 1);
    cr_assert_eq(st.charts, 4, "%u charts", st.charts);
    cr_assert_eq(charts_with_data(page), 4);
    char *svg = svg_titled(page, "Locks: steady magazine/global-mutex/xchg, 1 thread");
    cr_assert(svg[0], "no locks chart");
    /* Each lock by name, and the panels. */
    static const char *const lock[NLOCKS] = { "mcs", "pthread-mutex", "tas" };
    for (unsigned l = 0; l < NLOCKS; l++)
        cr_expect(svg_has_text(svg, lock[l]), "%s is not named in the chart", lock[l]);
    cr_expect(svg_has_text(svg, "throughput") && svg_has_text(svg, "p99"));
    /* Ratios against pthread-mutex (200 k ops/s): tas 1.5x, mcs 0.5x. */
    cr_expect(strstr(svg, "1.50\xc3\x97") && strstr(svg, "0.50\xc3\x97"), "ratios:\n%.2000s", svg);
    free(svg);
    cr_assert(strstr(page, "Ratios against pthread-mutex, the baseline lock"));
    /* The table below it: the reference first, marked. */
    const char *table = strstr(page, "<table class=\"locks\">");
    cr_assert_not_null(table);
    const char *ref = strstr(table, "pthread-mutex <small class=\"dim\">(baseline)</small>");
    cr_assert_not_null(ref);
    const char *mcs = strstr(table, "<td class=\"nw\">mcs</td>");
    const char *tas = strstr(table, "<td class=\"nw\">tas</td>");
    cr_assert(mcs && tas && ref < mcs && mcs < tas, "reference first, then in running order");
    cr_expect(strstr(table, "<td class=\"num\">1.50\xc3\x97</td>"), "tas against the baseline");
    cr_expect(strstr(table, "<td class=\"num\">0.920 / 1.000</td>"), "tas's fairness");
    /* The run table: the lock with the strategies, its fairness and wait. */
    cr_assert(strstr(page, "magazine / global-mutex / xchg [lock mcs]"));
    cr_assert(strstr(page, "lock fairness<br><small>Jain, req / wrk</small>"));
    cr_assert(strstr(page, "<td class=\"num\">0.910 / 1.000</td>"), "pthread-mutex's Jain");
    cr_assert(strstr(page, "4.00 ms<br><small>100 ns / acquisition</small>"), "mcs's wait");
    free(page);
}

Test(html, a_locks_row_leaves_out_a_run_in_another_machine_state)
{
    write_lock_doc_floors("locks-floors.json", true, true);
    struct pb_html_options opt = { .no_charts = true };
    struct pb_html_stats st;
    const char *names[] = { "locks-floors.json" };
    char *page = render(names, 1, &opt, &st);
    const char *table = strstr(page, "<table class=\"locks\">");
    cr_assert_not_null(table, "%.3000s", page);
    const char *tas = strstr(table, "<td class=\"nw\">tas</td>");
    cr_assert_not_null(tas);
    const char *end = strstr(tas, "</tr>");
    cr_assert_not_null(end);
    char *row = strndup(tas, (size_t)(end - tas));
    /* One repetition summarised, one left out; 300 k ops/s against the
     * baseline's 200.5 k: 1.50x, not the 23x the 9 M run would make. */
    cr_expect(strstr(row, "<td class=\"num\">1 <small"), "%s", row);
    cr_expect(strstr(row, "+1 left out"), "%s", row);
    cr_expect(strstr(row, "<td class=\"num\">1.50\xc3\x97</td>"), "%s", row);
    free(row);
    /* The other rows keep both repetitions. */
    const char *mcs = strstr(table, "<td class=\"nw\">mcs</td>");
    cr_assert_not_null(mcs);
    cr_expect(strncmp(strstr(mcs, "<td class=\"num\">"), "<td class=\"num\">2</td>", 22) == 0,
              "%.200s", mcs);
    /* The run table marks that run, and only it. */
    cr_expect_eq(count(page, ">other state</small>"), 1);
    free(page);
}

Test(html, no_locks_no_locks_chart)
{
    write_lock_doc("nolocks.json", false);
    struct pb_html_options opt = { .no_charts = true };
    struct pb_html_stats st;
    const char *names[] = { "nolocks.json" };
    char *page = render(names, 1, &opt, &st);
    cr_expect_null(strstr(page, "fa-locks"));
    cr_expect_null(strstr(page, "Locks: "));
    cr_expect_null(strstr(page, "table class=\"locks\""));
    cr_expect_null(strstr(page, "lock fairness"), "no lock columns without a lock taken");
    cr_expect_null(strstr(page, "[lock "));
    free(page);
    /* The charts' file of the other tests, too. */
    if (!have("gnuplot"))
        return;
    write_doc("result.json", 1.0);
    const char *one[] = { "result.json" };
    page = render(one, 1, NULL, &st);
    cr_expect_eq(st.charts, NCHARTS);
    cr_expect_null(strstr(page, "Locks: "));
    cr_expect_null(strstr(page, "fa-locks"));
    free(page);
}

/* ---- in a browser ------------------------------------------------------------ */

Test(html, headless_chromium_draws_the_charts)
{
    if (!have("chromium"))
        cr_skip_test("chromium is not installed (scripts/setup installs it)");
    if (!have("gnuplot"))
        cr_skip_test("gnuplot is not installed (scripts/setup installs gnuplot-nox)");
    write_doc("result.json", 1.0);
    struct pb_html_stats st;
    const char *names[] = { "result.json" };
    free(render(names, 1, NULL, &st));
    cr_assert_eq(st.charts, NCHARTS);
    char cmd[2048];
    const char *flags = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
                        "--no-first-run --no-default-browser-check --hide-scrollbars";
    /* The DOM as the browser parsed it. */
    snprintf(cmd, sizeof cmd,
             "timeout 60 chromium %s --user-data-dir=%s/chromium-profile --dump-dom "
             "file://%s/report.html > %s/dom.html 2>/dev/null",
             flags, dir, dir, dir);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "chromium --dump-dom failed (%d): %s", rc, cmd);
    char path[256];
    path_in(path, sizeof path, "dom.html");
    char *dom = slurp(path);
    cr_assert(strstr(dom, "pendbench report"), "the page did not load:\n%.300s", dom);
    cr_assert_eq(count(dom, "<svg"), NCHARTS, "%u charts in the DOM", count(dom, "<svg"));
    cr_assert_geq(count(dom, "<path"), NCHARTS * 5);
    cr_assert(strstr(dom, "Latency spectrum"));
    free(dom);
    /* A screenshot: drawn, and not blank. */
    snprintf(cmd, sizeof cmd,
             "timeout 60 chromium %s --user-data-dir=%s/chromium-profile --window-size=1200,3000 "
             "--screenshot=%s/shot.png file://%s/report.html >/dev/null 2>&1",
             flags, dir, dir, dir);
    rc = system(cmd);
    cr_assert_eq(rc, 0, "chromium --screenshot failed (%d)", rc);
    path_in(path, sizeof path, "shot.png");
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0, "no screenshot: %s", strerror(errno));
    cr_assert_gt(sb.st_size, 40000, "a screenshot of %lld bytes is too plain to hold charts",
                 (long long)sb.st_size);
}
