/* Exports (pb_export.h): CSV header, rows and RFC 4180 quoting; the Google
 * Benchmark JSON's structure (names, repetitions, aggregates, what
 * compare.py reads); and compare.py itself accepting two exports and
 * running its U test over the repetitions (skipped without
 * /usr/bin/python3, scipy or /usr/share/benchmark/compare.py). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pb_export.h"
#include "pb_result.h"

#define REPS 3
#define NRUNS (2 * REPS)             /* two strategy sets, three repetitions each */

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pb-export-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(export, .init = make_dir, .fini = remove_dir);

static void set(struct pb_scenario *s, const char *key, const char *value)
{
    char err[256];
    cr_assert_eq(pb_scenario_set(s, key, value, err, sizeof err), 0, "%s=%s: %s", key, value, err);
}

/* Runs with distinct, known figures: run k's latencies are (200 + 10k + i) * scale,
 * its throughput (1e6 + 1e4 k) / scale. */
static struct pb_run_result *make_runs(double scale)
{
    struct pb_run_result *runs = calloc(NRUNS, sizeof *runs);
    cr_assert_not_null(runs);
    for (unsigned k = 0; k < NRUNS; k++) {
        struct pb_run_result *r = &runs[k];
        pb_scenario_defaults(&r->scenario);
        set(&r->scenario, "name", "steady");
        set(&r->scenario, "queue", k < REPS ? "percpu-mpsc" : "percpu-ring");
        set(&r->scenario, "requesters", "2");
        set(&r->scenario, "workers", "3");
        r->repetition = k % REPS;
        r->seconds = 1.0;
        r->issued = r->completed = 1000 + k;
        r->throughput_ops_s = (1e6 + 1e4 * k) / scale;
        pb_hist_init(&r->total);
        pb_hist_init(&r->queue_wait);
        pb_hist_init(&r->service);
        for (unsigned i = 0; i < 1000; i++) {
            pb_hist_record(&r->total, (uint64_t)((200 + 10 * k + i) * scale));
            pb_hist_record(&r->queue_wait, 100 + i);
            pb_hist_record(&r->service, 50 + i / 2);
        }
        r->cancel = (struct pb_cancel_outcomes){ .attempted = 10, .won = 4, .lost = 3, .early = 1,
                                                 .late = 1, .not_cancelable = 1,
                                                 .success_rate = 0.4 };
        r->invariants.ok = k != 1;
        r->partial = k == 2;
        r->c2c_round_trip_ns = 80.5;
    }
    return runs;
}

static void free_runs(struct pb_run_result *runs)
{
    free(runs);
}

static void make_ctx(struct pb_context *c)
{
    memset(c, 0, sizeof *c);
    pb_env_init(&c->env);                  /* an environment nobody measured */
    snprintf(c->date, sizeof c->date, "2024-05-01T12:00:00Z");
    snprintf(c->host, sizeof c->host, "testhost");
    snprintf(c->git_commit, sizeof c->git_commit, "abc1234");
    snprintf(c->build_variant, sizeof c->build_variant, "release");
    snprintf(c->run_id, sizeof c->run_id, "00112233445566778899aabbccddeeff");
    c->ncpus_online = 8;
    c->tsc_ticks_per_ns = 2.5;
}

/* A measured environment. */
static void make_env(struct pb_environment *e)
{
    pb_env_init(e);
    e->loadavg_start[0] = 0.5, e->loadavg_start[1] = 1.25, e->loadavg_start[2] = 2.0;
    e->ncpus_online = e->ncpus_usable = 8;
    e->mhz_per_cpu = 3400.4;
    e->cpu_scaling_enabled = true;
    snprintf(e->governor, sizeof e->governor, "powersave");
    e->turbo = 1;
    e->ncaches = 2;
    e->caches[0] = (struct pb_cache_info){.level = 1, .type = "Data", .size_bytes = 32768,
                                          .num_sharing = 2};
    e->caches[1] = (struct pb_cache_info){.level = 3, .type = "Unified",
                                          .size_bytes = 33554432, .num_sharing = 8};
    pb_env_warnings(e);
}

/* One CSV record (RFC 4180; no line breaks inside fields here) into
 * fields; returns how many. */
static unsigned csv_fields(const char *line, char fields[][512], unsigned max)
{
    unsigned n = 0;
    const char *p = line;
    for (;;) {
        cr_assert_lt(n, max, "too many fields in: %s", line);
        size_t len = 0;
        char *f = fields[n++];
        if (*p == '"') {
            for (p++;; p++) {
                cr_assert(*p, "unterminated quote in: %s", line);
                if (*p == '"' && p[1] == '"')
                    p++;
                else if (*p == '"')
                    break;
                cr_assert_lt(len, 511);
                f[len++] = *p;
            }
            p++;
        } else {
            while (*p && *p != ',' && *p != '\r' && *p != '\n') {
                cr_assert_lt(len, 511);
                f[len++] = *p++;
            }
        }
        f[len] = '\0';
        if (*p != ',')
            return n;
        p++;
    }
}

/* The index of a header column; fails the test when absent. */
static unsigned column(const char *name)
{
    static char header[128][512];
    unsigned n = csv_fields(PB_EXPORT_CSV_HEADER, header, 128);
    for (unsigned i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0)
            return i;
    cr_assert_fail("no column %s", name);
    return 0;
}

/* Exports into a string (free it). */
static char *export_text_opts(enum pb_export_format f, const struct pb_context *ctx,
                              const struct pb_run_result *runs, unsigned n, bool aggregates_only)
{
    const struct pb_run_result *ptr[NRUNS];
    for (unsigned i = 0; i < n; i++)
        ptr[i] = &runs[i];
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    cr_assert_not_null(m);
    char err[256] = "";
    struct pb_export_options o = {.aggregates_only = aggregates_only};
    cr_assert_eq(pb_export_runs_opts(m, f, ctx, ptr, n, &o, err, sizeof err), 0, "%s", err);
    cr_assert_eq(fclose(m), 0);
    return buf;
}

static char *export_text(enum pb_export_format f, const struct pb_context *ctx,
                         const struct pb_run_result *runs, unsigned n)
{
    return export_text_opts(f, ctx, runs, n, false);
}

/* ---- CSV ---------------------------------------------------------------------- */

Test(export, format_names)
{
    enum pb_export_format f;
    cr_expect_eq(pb_export_format_parse("gbench", &f), 0);
    cr_expect_eq(f, PB_EXPORT_GBENCH);
    cr_expect_eq(pb_export_format_parse("csv", &f), 0);
    cr_expect_eq(f, PB_EXPORT_CSV);
    cr_expect_eq(pb_export_format_parse("xml", &f), -1);
    cr_expect_eq(pb_export_format_parse(NULL, &f), -1);
}

Test(export, csv_header_and_rows)
{
    struct pb_run_result *runs = make_runs(1);
    char *text = export_text(PB_EXPORT_CSV, NULL, runs, NRUNS);
    /* Header, then one CRLF-terminated row per run. */
    cr_assert(strncmp(text, PB_EXPORT_CSV_HEADER "\r\n", strlen(PB_EXPORT_CSV_HEADER) + 2) == 0,
              "header: %.200s", text);
    static char fields[128][512];
    unsigned lines = 0, header_fields = csv_fields(PB_EXPORT_CSV_HEADER, fields, 128);
    cr_expect_eq(header_fields, 56);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t len = strlen(line);
        cr_assert(len > 0 && line[len - 1] == '\r', "line %u does not end in CRLF", lines);
        unsigned nf = csv_fields(line, fields, 128);
        cr_expect_eq(nf, header_fields, "line %u: %u fields", lines, nf);
        if (lines == 1) {
            /* No context: the session's columns are empty. */
            cr_expect_str_eq(fields[column("date")], "");
            cr_expect_str_eq(fields[column("run_id")], "");
            /* The first run: totals 200..1199, so p50 is the bin of 699. */
            char want[256];
            snprintf(want, sizeof want,
                     ",,,,,steady,magazine,percpu-mpsc,xchg,default,0,false,2,3,%u,",
                     runs[0].scenario.cancellers);
            cr_expect(strncmp(line, want, strlen(want)) == 0, "row 1: %s\nwant: %s", line, want);
            snprintf(want, sizeof want, ",1,1000,1000,0,0,1000000,%llu,",
                     (unsigned long long)pb_hist_percentile(&runs[0].total, 50));
            cr_expect(strstr(line, want) != NULL, "row 1: %s\nwant: %s", line, want);
            cr_expect(strstr(line, ",10,4,3,1,1,1,0.4,80.5,true\r") != NULL, "row 1 tail: %s", line);
        }
        if (lines == 2)
            cr_expect(strstr(line, ",false\r") != NULL, "row 2: invariants failed: %s", line);
        if (lines == 3)
            cr_expect(strstr(line, "xchg,default,2,true,") != NULL, "row 3: partial: %s", line);
        lines++;
    }
    cr_expect_eq(lines, 1 + NRUNS);
    free(text);
    free_runs(runs);
}

/* The session and every workload parameter, parsed back from a row. */
Test(export, csv_session_and_params_columns)
{
    struct pb_run_result *runs = make_runs(1);
    struct pb_scenario *sc = &runs[0].scenario;
    set(sc, "idle", "spin");
    set(sc, "placement", "scatter");
    set(sc, "route", "round-robin");
    set(sc, "filters", "pass,pend");
    set(sc, "mix", "read=70,write=30");
    set(sc, "pend-fraction", "0.75");
    set(sc, "cancel-fraction", "0.3");
    set(sc, "cancel-when", "race");
    set(sc, "cancel-delay", "uniform:100:900");
    set(sc, "service", "exp:2000");
    set(sc, "fs-service", "exp:250");
    set(sc, "inflight", "8");
    set(sc, "rate", "150000");
    set(sc, "burst", "20:80.5");
    set(sc, "pool-capacity", "4096");
    set(sc, "queue-capacity", "512");
    set(sc, "memory-node", "1");
    struct pb_context ctx;
    make_ctx(&ctx);
    char *text = export_text(PB_EXPORT_CSV, &ctx, runs, 1);
    char *row = strstr(text, "\r\n");
    cr_assert_not_null(row);
    row += 2;
    static char f[128][512];
    cr_assert_eq(csv_fields(row, f, 128), 56, "%s", row);
    static const struct { const char *column, *value; } want[] = {
        {"date", "2024-05-01T12:00:00Z"},
        {"git_commit", "abc1234"},
        {"build_variant", "release"},
        {"host", "testhost"},
        {"run_id", "00112233445566778899aabbccddeeff"},
        {"scenario", "steady"},
        {"requesters", "2"},
        {"workers", "3"},
        {"idle", "spin"},
        {"placement", "scatter"},
        {"route", "round-robin"},
        {"filters", "pass,pend"},
        {"mix", "read=70,write=30,create=0,cleanup=0,close=0,query=0,fastio=0,paging=0,fsfilter=0"},
        {"pend_fraction", "0.75"},
        {"cancel_fraction", "0.3"},
        {"cancel_when", "race"},
        {"cancel_delay", "uniform:100:900"},
        {"service", "exp:2000"},
        {"fs_service", "exp:250"},
        {"inflight", "8"},
        {"rate", "150000"},
        {"burst", "20:80.5"},
        {"pool_capacity", "4096"},
        {"queue_capacity", "512"},
        {"memory_node", "1"},
        {"issued", "1000"},
        {"invariants_ok", "true"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect_str_eq(f[column(want[i].column)], want[i].value, "column %s", want[i].column);
    /* Every parameter column is a scenario option that accepts its value:
     * a row can be turned back into the workload. */
    struct pb_scenario back;
    pb_scenario_defaults(&back);
    static const char *const params[] = {
        "idle", "placement", "route", "filters", "mix", "pend-fraction", "cancel-fraction",
        "cancel-when", "cancel-delay", "service", "fs-service", "inflight", "rate", "burst",
        "pool-capacity", "queue-capacity", "memory-node"};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        char col[64];
        snprintf(col, sizeof col, "%s", params[i]);
        for (char *c = col; *c; c++)
            if (*c == '-')
                *c = '_';
        set(&back, params[i], f[column(col)]);
    }
    cr_expect_eq(back.rate, sc->rate);
    cr_expect_eq(back.nfilters, 2);
    cr_expect_eq(back.mix.read, 70);
    cr_expect_eq(back.queue_capacity, 512);
    cr_expect_eq(back.memory_node, 1);
    free(text);
    free_runs(runs);
}

/* The lock: a CSV column after handoff, and part of a gbench name when
 * chosen, so runs under each lock are benchmarks of their own (and never
 * mix their repetitions); a run under the strategies' own locks keeps the
 * name it had before locks existed. From the runs and from their file
 * alike. */
Test(export, the_lock_in_csv_and_gbench_names)
{
    struct pb_run_result *runs = make_runs(1);
    static const char *const lock[NRUNS] = { "", "mcs", "tas", "", "mcs", "tas" };
    for (unsigned k = 0; k < NRUNS; k++) {
        set(&runs[k].scenario, "queue", "global-mutex");
        set(&runs[k].scenario, "lock", lock[k][0] ? lock[k] : "default");
        runs[k].repetition = 0;
        snprintf(runs[k].locks, sizeof runs[k].locks, "%s", lock[k][0] ? lock[k] : "pthread-mutex");
    }
    runs[3].scenario.requesters = runs[4].scenario.requesters = runs[5].scenario.requesters = 4;
    struct pb_context ctx;
    make_ctx(&ctx);
    char path[128], err[512] = "";
    snprintf(path, sizeof path, "%s/locks.json", dir);
    cr_assert_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    struct pb_result_doc doc;
    cr_assert_eq(pb_result_read(path, &doc, err, sizeof err), 0, "%s", err);
    for (int from_doc = 0; from_doc < 2; from_doc++) {
        char *csv = NULL, *gb = NULL;
        if (from_doc) {
            size_t size = 0;
            FILE *m = open_memstream(&csv, &size);
            cr_assert_eq(pb_export_doc(m, PB_EXPORT_CSV, &doc, err, sizeof err), 0, "%s", err);
            fclose(m);
            m = open_memstream(&gb, &size);
            cr_assert_eq(pb_export_doc(m, PB_EXPORT_GBENCH, &doc, err, sizeof err), 0, "%s", err);
            fclose(m);
        } else {
            csv = export_text(PB_EXPORT_CSV, &ctx, runs, NRUNS);
            gb = export_text(PB_EXPORT_GBENCH, &ctx, runs, NRUNS);
        }
        static char f[128][512];
        unsigned col = column("lock");
        cr_expect_eq(col, column("handoff") + 1, "lock follows handoff");
        char *save = NULL;
        unsigned row = 0;
        for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            cr_assert_eq(csv_fields(line, f, 128), 56, "%s", line);
            if (row > 0)
                cr_expect_str_eq(f[col], lock[row - 1][0] ? lock[row - 1] : "default",
                                 "row %u (from the %s)", row, from_doc ? "file" : "runs");
            row++;
        }
        cr_expect_eq(row, 1 + NRUNS);
        json_t *d = json_loads(gb, 0, NULL);
        cr_assert_not_null(d);
        json_t *b = json_object_get(d, "benchmarks");
        cr_assert_eq(json_array_size(b), NRUNS * 4, "a benchmark per lock and thread count");
        static const char *const want[NRUNS] = {
            "steady/magazine/global-mutex/xchg/threads:2x3/requesters=2/p50",
            "steady/magazine/global-mutex/xchg/lock:mcs/threads:2x3/requesters=2/p50",
            "steady/magazine/global-mutex/xchg/lock:tas/threads:2x3/requesters=2/p50",
            "steady/magazine/global-mutex/xchg/threads:4x3/requesters=4/p50",
            "steady/magazine/global-mutex/xchg/lock:mcs/threads:4x3/requesters=4/p50",
            "steady/magazine/global-mutex/xchg/lock:tas/threads:4x3/requesters=4/p50",
        };
        /* The label names what tells siblings under one lock apart (the
         * requesters), never the lock: that is in the name. */
        for (unsigned k = 0; k < NRUNS; k++)
            cr_expect_str_eq(json_string_value(json_object_get(json_array_get(b, 4 * k), "name")),
                             want[k], "from the %s: %s", from_doc ? "file" : "runs",
                             json_string_value(json_object_get(json_array_get(b, 4 * k), "name")));
        json_decref(d);
        free(csv);
        free(gb);
    }
    pb_result_doc_free(&doc);
    free_runs(runs);
}

/* Two sessions' CSVs share the header: they concatenate. */
Test(export, csv_sessions_concatenate)
{
    struct pb_run_result *runs = make_runs(1);
    struct pb_context a, b;
    make_ctx(&a);
    make_ctx(&b);
    snprintf(b.host, sizeof b.host, "otherhost");
    snprintf(b.run_id, sizeof b.run_id, "ffeeddccbbaa99887766554433221100");
    char *ta = export_text(PB_EXPORT_CSV, &a, runs, 2);
    char *tb = export_text(PB_EXPORT_CSV, &b, runs, 2);
    size_t hl = strlen(PB_EXPORT_CSV_HEADER "\r\n");
    cr_expect(strncmp(ta, tb, hl) == 0, "the headers differ");
    cr_expect(strcmp(ta + hl, tb + hl) != 0, "the sessions' rows tell apart");
    cr_expect(strstr(tb + hl, ",otherhost,ffeeddccbbaa99887766554433221100,steady,") != NULL,
              "%s", tb);
    free(ta);
    free(tb);
    free_runs(runs);
}

Test(export, csv_quoting)
{
    static const struct { const char *in, *out; } cases[] = {
        { "plain", "plain" },
        { "", "" },
        { "a,b", "\"a,b\"" },
        { "say \"hi\"", "\"say \"\"hi\"\"\"" },
        { "two\nlines", "\"two\nlines\"" },
        { "cr\r", "\"cr\r\"" },
        { "µs ok", "µs ok" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        pb_export_csv_field(m, cases[i].in);
        fclose(m);
        cr_expect_str_eq(buf, cases[i].out, "field %zu", i);
        free(buf);
    }
    /* A scenario name that needs quoting, in a row. */
    struct pb_run_result *runs = make_runs(1);
    snprintf(runs[0].scenario.name, sizeof runs[0].scenario.name, "odd, \"name\"");
    char *text = export_text(PB_EXPORT_CSV, NULL, runs, 1);
    cr_expect(strstr(text, "\r\n,,,,,\"odd, \"\"name\"\"\",magazine,") != NULL, "%s", text);
    free(text);
    free_runs(runs);
}

/* ---- Google Benchmark JSON ------------------------------------------------------- */

static json_t *gbench_doc(double scale)
{
    struct pb_context ctx;
    make_ctx(&ctx);
    struct pb_run_result *runs = make_runs(scale);
    char *text = export_text(PB_EXPORT_GBENCH, &ctx, runs, NRUNS);
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    cr_assert_not_null(doc, "not JSON: %s (line %d)", e.text, e.line);
    free(text);
    free_runs(runs);
    return doc;
}

Test(export, gbench_structure)
{
    json_t *doc = gbench_doc(1);
    json_t *c = json_object_get(doc, "context");
    cr_assert(json_is_object(c));
    cr_expect_str_eq(json_string_value(json_object_get(c, "date")), "2024-05-01T12:00:00Z");
    cr_expect_str_eq(json_string_value(json_object_get(c, "host_name")), "testhost");
    cr_expect_str_eq(json_string_value(json_object_get(c, "executable")), "pendbench");
    cr_expect_eq(json_integer_value(json_object_get(c, "num_cpus")), 8);
    cr_expect_eq(json_integer_value(json_object_get(c, "mhz_per_cpu")), 2500);
    cr_expect(json_is_false(json_object_get(c, "cpu_scaling_enabled")));
    cr_expect(json_is_array(json_object_get(c, "caches")));
    cr_expect(json_is_array(json_object_get(c, "load_avg")));
    cr_expect_str_eq(json_string_value(json_object_get(c, "library_build_type")), "release");

    json_t *b = json_object_get(doc, "benchmarks");
    cr_assert(json_is_array(b));
    /* Per strategy set: 4 figures x 3 repetitions, then the aggregates:
     * 'merged' for each latency figure, mean/median/stddev for ns_per_op. */
    cr_assert_eq(json_array_size(b), 2 * (4 * REPS + 3 + 3));
    const char *first = "steady/magazine/percpu-mpsc/xchg/threads:2x3/";
    size_t i;
    json_t *e;
    unsigned iterations = 0, aggregates = 0;
    json_array_foreach(b, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *type = json_string_value(json_object_get(e, "run_type"));
        cr_assert_not_null(name);
        cr_assert_not_null(type);
        /* What compare.py needs of every entry. */
        cr_expect_str_eq(json_string_value(json_object_get(e, "time_unit")), "ns", "%s", name);
        cr_expect(json_is_number(json_object_get(e, "real_time")), "%s", name);
        cr_expect(json_is_number(json_object_get(e, "cpu_time")), "%s", name);
        cr_expect_eq(json_number_value(json_object_get(e, "real_time")),
                     json_number_value(json_object_get(e, "cpu_time")));
        cr_expect(json_is_integer(json_object_get(e, "iterations")), "%s", name);
        cr_expect_eq(json_integer_value(json_object_get(e, "repetitions")), REPS);
        cr_expect_eq(json_integer_value(json_object_get(e, "threads")), 2);
        cr_expect_eq(json_integer_value(json_object_get(e, "family_index")), i < 18 ? 0 : 1);
        if (strcmp(type, "iteration") == 0) {
            iterations++;
            cr_expect(json_is_integer(json_object_get(e, "repetition_index")));
            cr_expect_str_eq(json_string_value(json_object_get(e, "run_name")), name);
            cr_expect(json_is_number(json_object_get(e, "ops_per_s")), "counter");
            cr_expect(json_is_number(json_object_get(e, "cancel_success_rate")), "counter");
        } else {
            cr_expect_str_eq(type, "aggregate");
            aggregates++;
            cr_expect(json_is_string(json_object_get(e, "aggregate_name")), "%s", name);
            cr_expect_null(json_object_get(e, "repetition_index"));
        }
    }
    cr_expect_eq(iterations, 2 * 4 * REPS);
    cr_expect_eq(aggregates, 2 * 6);

    /* The order compare.py sorts into: a figure's repetitions, then its aggregates. */
    char want[128];
    snprintf(want, sizeof want, "%sp50", first);
    for (i = 0; i < REPS; i++) {
        e = json_array_get(b, i);
        cr_expect_str_eq(json_string_value(json_object_get(e, "name")), want);
        cr_expect_eq(json_integer_value(json_object_get(e, "repetition_index")), (json_int_t)i);
    }
    e = json_array_get(b, REPS);
    snprintf(want, sizeof want, "%sp50_merged", first);
    cr_expect_str_eq(json_string_value(json_object_get(e, "name")), want);
    cr_expect_str_eq(json_string_value(json_object_get(e, "aggregate_name")), "merged");

    /* Values: p50 of the run; merged p50 of the three runs' merged
     * histograms; ns_per_op = 1e9 / throughput, with its mean. */
    struct pb_run_result *runs = make_runs(1);
    cr_expect_eq(json_number_value(json_object_get(json_array_get(b, 0), "real_time")),
                 (double)pb_hist_percentile(&runs[0].total, 50));
    struct pb_hist *m = malloc(sizeof *m);
    pb_hist_init(m);
    for (unsigned k = 0; k < REPS; k++)
        pb_hist_merge(m, &runs[k].total);
    cr_expect_eq(json_number_value(json_object_get(e, "real_time")),
                 (double)pb_hist_percentile(m, 50));
    cr_expect_eq(json_integer_value(json_object_get(e, "iterations")), (json_int_t)m->count);
    free(m);
    json_t *npo = json_array_get(b, 3 * (REPS + 1));
    snprintf(want, sizeof want, "%sns_per_op", first);
    cr_expect_str_eq(json_string_value(json_object_get(npo, "name")), want);
    cr_expect(fabs(json_number_value(json_object_get(npo, "real_time")) - 1000.0) < 1e-6);
    json_t *mean = json_array_get(b, 3 * (REPS + 1) + REPS);
    snprintf(want, sizeof want, "%sns_per_op_mean", first);
    cr_expect_str_eq(json_string_value(json_object_get(mean, "name")), want);
    double expect_mean = (1e9 / 1e6 + 1e9 / 1.01e6 + 1e9 / 1.02e6) / 3;
    cr_expect(fabs(json_number_value(json_object_get(mean, "real_time")) - expect_mean) < 1e-6);

    /* Partial and failed runs say so in the label. */
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(b, 1), "label")),
                     "invariants FAILED");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(b, 2), "label")), "partial");
    cr_expect_null(json_object_get(json_array_get(b, 0), "label"));
    free_runs(runs);
    json_decref(doc);
}

/* The context: the environment's real values, none made up. */
Test(export, gbench_context_from_env)
{
    struct pb_context ctx;
    make_ctx(&ctx);
    make_env(&ctx.env);
    snprintf(ctx.build_variant, sizeof ctx.build_variant, "asan");
    struct pb_run_result *runs = make_runs(1);
    char *text = export_text(PB_EXPORT_GBENCH, &ctx, runs, 1);
    json_t *doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc);
    json_t *c = json_object_get(doc, "context");
    json_t *load = json_object_get(c, "load_avg");
    cr_assert_eq(json_array_size(load), 3);
    cr_expect_eq(json_real_value(json_array_get(load, 0)), 0.5);
    cr_expect_eq(json_real_value(json_array_get(load, 1)), 1.25);
    cr_expect_eq(json_real_value(json_array_get(load, 2)), 2.0);
    cr_expect(json_is_true(json_object_get(c, "cpu_scaling_enabled")));
    cr_expect_eq(json_integer_value(json_object_get(c, "mhz_per_cpu")), 3400);
    cr_expect_eq(json_integer_value(json_object_get(c, "num_cpus")), 8);
    json_t *caches = json_object_get(c, "caches");
    cr_assert_eq(json_array_size(caches), 2);
    json_t *l3 = json_array_get(caches, 1);
    cr_expect_str_eq(json_string_value(json_object_get(l3, "type")), "Unified");
    cr_expect_eq(json_integer_value(json_object_get(l3, "level")), 3);
    cr_expect_eq(json_integer_value(json_object_get(l3, "size")), 33554432);
    cr_expect_eq(json_integer_value(json_object_get(l3, "num_sharing")), 8);
    cr_expect_str_eq(json_string_value(json_object_get(c, "library_build_type")), "debug",
                     "a sanitizer build");
    cr_expect_str_eq(json_string_value(json_object_get(c, "pendbench_run_id")), ctx.run_id);
    cr_expect_str_eq(json_string_value(json_object_get(c, "pendbench_build_variant")), "asan");
    json_t *w = json_object_get(c, "pendbench_env_warnings");
    cr_expect_eq(json_array_size(w), ctx.env.nwarnings);
    cr_expect_gt(ctx.env.nwarnings, 0);
    cr_expect_str_eq(json_string_value(json_array_get(w, 0)), ctx.env.warnings[0]);
    json_decref(doc);
    free(text);

    /* Unknown: no load average rather than a zero load. */
    make_ctx(&ctx);
    text = export_text(PB_EXPORT_GBENCH, &ctx, runs, 1);
    doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc);
    c = json_object_get(doc, "context");
    cr_expect_eq(json_array_size(json_object_get(c, "load_avg")), 0);
    cr_expect_eq(json_array_size(json_object_get(c, "caches")), 0);
    cr_expect(json_is_false(json_object_get(c, "cpu_scaling_enabled")));
    json_decref(doc);
    free(text);
    free_runs(runs);
}

/* --aggregates-only: one entry per benchmark, named as one repetition. */
Test(export, gbench_aggregates_only)
{
    struct pb_context ctx;
    make_ctx(&ctx);
    struct pb_run_result *runs = make_runs(1);
    char *text = export_text_opts(PB_EXPORT_GBENCH, &ctx, runs, NRUNS, true);
    json_t *doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc);
    json_t *b = json_object_get(doc, "benchmarks");
    cr_assert_eq(json_array_size(b), 2 * 4, "two strategy sets, four figures");
    static const char *const figs[] = {"p50", "p99", "p999", "ns_per_op"};
    static const double ps[] = {50, 99, 99.9, 0};
    struct pb_hist *m = malloc(sizeof *m);
    cr_assert_not_null(m);
    for (unsigned set_ = 0; set_ < 2; set_++) {
        pb_hist_init(m);
        for (unsigned k = 0; k < REPS; k++)
            pb_hist_merge(m, &runs[set_ * REPS + k].total);
        for (unsigned f = 0; f < 4; f++) {
            json_t *e = json_array_get(b, set_ * 4 + f);
            char want[128];
            snprintf(want, sizeof want, "steady/magazine/%s/xchg/threads:2x3/%s",
                     set_ ? "percpu-ring" : "percpu-mpsc", figs[f]);
            cr_expect_str_eq(json_string_value(json_object_get(e, "name")), want);
            cr_expect_str_eq(json_string_value(json_object_get(e, "run_type")), "iteration");
            cr_expect_str_eq(json_string_value(json_object_get(e, "time_unit")), "ns");
            cr_expect_eq(json_integer_value(json_object_get(e, "summarized_repetitions")), REPS);
            double v = json_number_value(json_object_get(e, "real_time"));
            cr_expect_eq(v, json_number_value(json_object_get(e, "cpu_time")));
            if (ps[f] > 0) {
                cr_expect_str_eq(json_string_value(json_object_get(e, "summary")), "merged");
                cr_expect_eq(v, (double)pb_hist_percentile(m, ps[f]), "%s", want);
                cr_expect_eq(json_integer_value(json_object_get(e, "iterations")),
                             (json_int_t)m->count);
            } else {
                /* The median of 1e9 / throughput over the three repetitions:
                 * the middle one. */
                double tp = (1e6 + 1e4 * (set_ * REPS + 1));
                cr_expect_str_eq(json_string_value(json_object_get(e, "summary")), "median");
                cr_expect(fabs(v - 1e9 / tp) < 1e-6, "%s: %.9g", want, v);
                cr_expect(fabs(json_number_value(json_object_get(e, "ops_per_s")) - tp) < 1e-6);
            }
            /* Repetition 1 failed its invariants, 2 was partial: the group says both. */
            if (set_ == 0)
                cr_expect_str_eq(json_string_value(json_object_get(e, "label")),
                                 "partial, invariants FAILED");
            else
                cr_expect_null(json_object_get(e, "label"));
        }
    }
    free(m);
    json_decref(doc);
    free(text);

    /* One repetition: that repetition, under the same name. */
    text = export_text_opts(PB_EXPORT_GBENCH, &ctx, runs, 1, true);
    doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc);
    b = json_object_get(doc, "benchmarks");
    cr_assert_eq(json_array_size(b), 4);
    json_t *e = json_array_get(b, 0);
    cr_expect_str_eq(json_string_value(json_object_get(e, "name")),
                     "steady/magazine/percpu-mpsc/xchg/threads:2x3/p50");
    cr_expect_str_eq(json_string_value(json_object_get(e, "summary")), "repetition");
    cr_expect_eq(json_number_value(json_object_get(e, "real_time")),
                 (double)pb_hist_percentile(&runs[0].total, 50));
    e = json_array_get(b, 3);
    cr_expect(fabs(json_number_value(json_object_get(e, "real_time")) - 1000.0) < 1e-9);
    json_decref(doc);
    free(text);

    /* CSV has a row per run: the option is refused, with a reason. */
    const struct pb_run_result *ptr[1] = {&runs[0]};
    char *buf = NULL;
    size_t size = 0;
    FILE *mf = open_memstream(&buf, &size);
    char err[256] = "";
    struct pb_export_options o = {.aggregates_only = true};
    cr_expect_eq(pb_export_runs_opts(mf, PB_EXPORT_CSV, &ctx, ptr, 1, &o, err, sizeof err), -1);
    cr_expect(strstr(err, "gbench") != NULL, "%s", err);
    fclose(mf);
    free(buf);
    free_runs(runs);
}

/* A single repetition: no aggregates (as Google Benchmark). */
Test(export, gbench_one_repetition)
{
    struct pb_run_result *runs = make_runs(1);
    char *text = export_text(PB_EXPORT_GBENCH, NULL, runs, 1);
    json_t *doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc);
    cr_expect_eq(json_array_size(json_object_get(doc, "benchmarks")), 4);
    cr_expect(json_is_object(json_object_get(doc, "context")));
    json_decref(doc);
    free(text);
    free_runs(runs);
}

/* A document read back exports as the runs it was written from. */
Test(export, doc_matches_runs)
{
    struct pb_context ctx;
    make_ctx(&ctx);
    struct pb_run_result *runs = make_runs(1);
    char path[128];
    snprintf(path, sizeof path, "%s/r.json", dir);
    char err[512] = "";
    cr_assert_eq(pb_result_write(path, &ctx, runs, NRUNS, err, sizeof err), 0, "%s", err);
    struct pb_result_doc doc;
    cr_assert_eq(pb_result_read(path, &doc, err, sizeof err), 0, "%s", err);
    for (int f = PB_EXPORT_GBENCH; f <= PB_EXPORT_CSV; f++) {
        char *want = export_text((enum pb_export_format)f, &ctx, runs, NRUNS);
        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        cr_assert_eq(pb_export_doc(m, (enum pb_export_format)f, &doc, err, sizeof err), 0, "%s", err);
        fclose(m);
        cr_expect_str_eq(buf, want, "format %d", f);
        free(buf);
        free(want);
    }
    pb_result_doc_free(&doc);
    free_runs(runs);
}

/* ---- compare.py ------------------------------------------------------------------- */

#define PYTHON "/usr/bin/python3"
#define COMPARE "/usr/share/benchmark/compare.py"

static void write_gbench_opts(const char *path, double scale, bool aggregates_only)
{
    struct pb_context ctx;
    make_ctx(&ctx);
    make_env(&ctx.env);
    struct pb_run_result *runs = make_runs(scale);
    char *text = export_text_opts(PB_EXPORT_GBENCH, &ctx, runs, NRUNS, aggregates_only);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    free(text);
    free_runs(runs);
}

static void write_gbench(const char *path, double scale)
{
    write_gbench_opts(path, scale, false);
}

/* compare.py's output for two files (the test fails when it fails). */
static void run_compare(const char *a, const char *b, char *out, size_t size)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, PYTHON " " COMPARE " --no-color benchmarks %s %s 2>&1", a, b);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "compare.py failed:\n%s", out);
}

/* Dashboards' files: one entry per benchmark compares one to one. */
Test(export, compare_py_accepts_aggregates_only, .timeout = 120)
{
    if (access(PYTHON, X_OK) != 0 || access(COMPARE, R_OK) != 0)
        cr_skip_test("no " PYTHON " or " COMPARE " (Debian libbenchmark-tools)");
    if (system(PYTHON " -c 'import scipy.stats, numpy' >/dev/null 2>&1") != 0)
        cr_skip_test(PYTHON " has no scipy/numpy (python3-scipy)");
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/old.agg.json", dir);
    snprintf(b, sizeof b, "%s/new.agg.json", dir);
    write_gbench_opts(a, 1.0, true);
    write_gbench_opts(b, 1.5, true);
    static char out[65536];
    run_compare(a, b, out, sizeof out);
    cr_expect(strstr(out, "steady/magazine/percpu-ring/xchg/threads:2x3/ns_per_op ") != NULL,
              "%s", out);
    cr_expect(strstr(out, "+0.5000") != NULL, "no +0.5000 change in:\n%s", out);
    cr_expect(strstr(out, "OVERALL_GEOMEAN") != NULL, "%s", out);
    cr_expect(strstr(out, "U Test") == NULL, "one entry a side: no U test\n%s", out);
}

Test(export, compare_py_accepts_exports, .timeout = 120)
{
    if (access(PYTHON, X_OK) != 0 || access(COMPARE, R_OK) != 0)
        cr_skip_test("no " PYTHON " or " COMPARE " (Debian libbenchmark-tools)");
    if (system(PYTHON " -c 'import scipy.stats, numpy' >/dev/null 2>&1") != 0)
        cr_skip_test(PYTHON " has no scipy/numpy (python3-scipy)");
    char a[128], b[128], cmd[512];
    snprintf(a, sizeof a, "%s/old.gbench.json", dir);
    snprintf(b, sizeof b, "%s/new.gbench.json", dir);
    write_gbench(a, 1.0);
    write_gbench(b, 1.5);          /* 50% slower, every figure */
    snprintf(cmd, sizeof cmd, PYTHON " " COMPARE " --no-color benchmarks %s %s 2>&1", a, b);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int status = pclose(p);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "compare.py failed:\n%s", out);
    cr_expect(strstr(out, "Comparing") != NULL, "%s", out);
    /* Both strategy sets, every figure, the U test over the repetitions and the aggregates. */
    static const char *const want[] = {
        "steady/magazine/percpu-mpsc/xchg/threads:2x3/p50 ",
        "steady/magazine/percpu-ring/xchg/threads:2x3/p99 ",
        "steady/magazine/percpu-mpsc/xchg/threads:2x3/p999_pvalue",
        "steady/magazine/percpu-ring/xchg/threads:2x3/ns_per_op_pvalue",
        "U Test, Repetitions: 3 vs 3",
        "steady/magazine/percpu-mpsc/xchg/threads:2x3/p99_merged",
        "steady/magazine/percpu-ring/xchg/threads:2x3/ns_per_op_median",
        "OVERALL_GEOMEAN",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(out, want[i]) != NULL, "missing '%s' in:\n%s", want[i], out);
    /* ns_per_op (1e9 / throughput) is exactly 1.5x: compare.py's change +0.5000. */
    cr_expect(strstr(out, "+0.5000") != NULL, "no +0.5000 change in:\n%s", out);
}

/* A run that completed nothing has no time per operation, and one that
 * timed nothing no percentile: such figures are left out (named in the
 * context), never written as 0 ns, which compare.py reads as the fastest
 * run (and which zeroes its geometric mean); aggregates take the
 * repetitions that have a value. compare.py still reads the file. */
static struct pb_run_result *make_runs_with_empty_ones(void)
{
    struct pb_run_result *runs = make_runs(1);
    /* percpu-mpsc's first repetition did nothing at all. */
    runs[0].throughput_ops_s = 0;
    runs[0].completed = 0;
    pb_hist_init(&runs[0].total);
    /* percpu-ring timed operations but completed none in any window. */
    for (unsigned k = REPS; k < NRUNS; k++)
        runs[k].throughput_ops_s = 0;
    return runs;
}

static json_t *find_entry(json_t *list, const char *suffix, int repetition)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        size_t n = strlen(name), m = strlen(suffix);
        json_t *rep = json_object_get(e, "repetition_index");
        if (n >= m && strcmp(name + n - m, suffix) == 0 &&
            (repetition < 0 ? !rep : rep && json_integer_value(rep) == repetition))
            return e;
    }
    return NULL;
}

Test(export, gbench_leaves_out_figures_with_no_value, .timeout = 120)
{
    struct pb_run_result *runs = make_runs_with_empty_ones();
    const struct pb_run_result *ptr[NRUNS];
    for (unsigned i = 0; i < NRUNS; i++)
        ptr[i] = &runs[i];
    for (int agg = 0; agg <= 1; agg++) {
        char *buf = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&buf, &size);
        cr_assert_not_null(m);
        char err[256] = "";
        unsigned left = 12345;
        struct pb_export_options o = {.aggregates_only = agg, .left_out = &left};
        cr_assert_eq(pb_export_runs_opts(m, PB_EXPORT_GBENCH, NULL, ptr, NRUNS, &o, err,
                                         sizeof err), 0, "%s", err);
        cr_assert_eq(fclose(m), 0);
        json_t *doc = json_loads(buf, 0, NULL);
        cr_assert_not_null(doc);
        json_t *list = json_object_get(doc, "benchmarks");
        json_t *named = json_object_get(json_object_get(doc, "context"), "pendbench_left_out");
        cr_assert(json_is_array(named));
        cr_expect_eq(json_array_size(named), left);
        size_t i;
        json_t *e;
        json_array_foreach(list, i, e)
            cr_expect_gt(json_real_value(json_object_get(e, "real_time")), 0, "%s: 0 ns",
                         json_string_value(json_object_get(e, "name")));
        const char *mpsc = "/percpu-mpsc/xchg/threads:2x3/", *ring = "/percpu-ring/xchg/threads:2x3/";
        char want[128];
        if (!agg) {
            /* mpsc: repetition 0's four figures; ring: three ns_per_op
             * repetitions and their mean, median and stddev. */
            cr_expect_eq(left, 10);
            snprintf(want, sizeof want, "%sns_per_op", mpsc);
            cr_expect_null(find_entry(list, want, 0));
            cr_expect_not_null(find_entry(list, want, 1));
            snprintf(want, sizeof want, "%sp50", mpsc);
            cr_expect_null(find_entry(list, want, 0));
            cr_expect_not_null(find_entry(list, want, 2));
            /* The median over repetitions 1 and 2 only. */
            snprintf(want, sizeof want, "%sns_per_op_median", mpsc);
            json_t *med = find_entry(list, want, -1);
            cr_assert_not_null(med);
            double v1 = 1e9 / runs[1].throughput_ops_s, v2 = 1e9 / runs[2].throughput_ops_s;
            cr_expect_float_eq(json_real_value(json_object_get(med, "real_time")),
                               (v1 + v2) / 2, 1e-6);
            snprintf(want, sizeof want, "%sns_per_op_mean", ring);
            cr_expect_null(find_entry(list, want, -1));
            snprintf(want, sizeof want, "%sp99_merged", ring);
            cr_expect_not_null(find_entry(list, want, -1));
            cr_expect(strstr(json_string_value(json_array_get(named, 0)), "(repetition 0)") != NULL,
                      "%s", json_string_value(json_array_get(named, 0)));
        } else {
            /* ring's ns_per_op summary has nothing to summarize. */
            cr_expect_eq(left, 1);
            snprintf(want, sizeof want, "%sns_per_op", ring);
            cr_expect_null(find_entry(list, want, 0));
            snprintf(want, sizeof want, "%sns_per_op", mpsc);
            cr_expect_not_null(find_entry(list, want, 0));
        }
        json_decref(doc);
        free(buf);
    }
    /* CSV: the empty run's latency columns are empty, not 0. */
    char *csv = export_text(PB_EXPORT_CSV, NULL, runs, NRUNS);
    char *row = strstr(csv, "\r\n");
    cr_assert_not_null(row);
    *strstr(row + 2, "\r\n") = '\0';
    static char fields[128][512];
    csv_fields(row + 2, fields, 128);
    cr_expect_str_eq(fields[column("total_p50_ns")], "");
    cr_expect_str_eq(fields[column("total_max_ns")], "");
    cr_expect_str_eq(fields[column("completed")], "0");
    free(csv);
    if (access(PYTHON, X_OK) == 0 && access(COMPARE, R_OK) == 0 &&
        system(PYTHON " -c 'import scipy.stats, numpy' >/dev/null 2>&1") == 0) {
        char a[128], b[128];
        snprintf(a, sizeof a, "%s/old.json", dir);
        snprintf(b, sizeof b, "%s/empty.json", dir);
        write_gbench(a, 1.0);
        char *text = export_text(PB_EXPORT_GBENCH, NULL, runs, NRUNS);
        FILE *f = fopen(b, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        cr_assert_eq(fclose(f), 0);
        free(text);
        static char out[65536];
        run_compare(a, b, out, sizeof out);
        cr_expect(strstr(out, "percpu-ring/xchg/threads:2x3/ns_per_op ") == NULL, "%s", out);
        cr_expect(strstr(out, "percpu-ring/xchg/threads:2x3/p50 ") != NULL, "%s", out);
    }
    free_runs(runs);
}
