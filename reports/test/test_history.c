/* The run history (pb_history.h) and its trend (pb_export.h): invocations
 * recorded at fake commits and found again ("last", prefixes, a full hash
 * for a recorded abbreviation; ambiguous, unknown and malformed specs);
 * the trend table, its JSON and CSV; imports; series per machine and per
 * run key; change points found in imported result files; and the failures
 * that must be clear and must never cost the result file: a locked
 * database, a damaged one, another program's database, a newer layout, a
 * server that is down, refuses the login or does not answer.
 *
 * The tests marked BOTH run twice: suite history on a SQLite file, suite
 * history_pg on a database of its own in the throwaway PostgreSQL cluster
 * of pg_cluster.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_export.h"
#include "pb_history.h"
#include "pb_html.h"
#include "pb_result.h"
#include "pg_cluster.h"

#define REPS 2

static char dir[64], db[256];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pb-history-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    snprintf(db, sizeof db, "%s/history.db", dir);
}

static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(history, .init = make_dir, .fini = remove_dir, .timeout = 60);

static void make_pg(void)
{
    make_dir();
    pg_test_database(db, sizeof db);
}

static void remove_pg(void)
{
    pg_test_drop_database();
    remove_dir();
}

TestSuite(history_pg, .init = make_pg, .fini = remove_pg, .timeout = 60);

/* A test on both backends. */
#define BOTH(name)                                                                            \
    static void name(void);                                                                   \
    Test(history, name) { name(); }                                                           \
    Test(history_pg, name) { name(); }                                                        \
    static void name(void)

/* REPS repetitions of steady on magazine/<queue>/xchg; latencies base + i. */
static struct pb_run_result *make_runs(const char *queue, uint64_t base, double throughput)
{
    struct pb_run_result *runs = calloc(REPS, sizeof *runs);
    cr_assert_not_null(runs);
    for (unsigned k = 0; k < REPS; k++) {
        struct pb_run_result *r = &runs[k];
        char err[256];
        pb_scenario_defaults(&r->scenario);
        cr_assert_eq(pb_scenario_set(&r->scenario, "name", "steady", err, sizeof err), 0);
        cr_assert_eq(pb_scenario_set(&r->scenario, "queue", queue, err, sizeof err), 0, "%s", err);
        r->repetition = k;
        r->seconds = 1;
        r->issued = r->completed = 1000;
        r->throughput_ops_s = throughput + k;
        pb_hist_init(&r->total);
        pb_hist_init(&r->queue_wait);
        pb_hist_init(&r->service);
        for (unsigned i = 0; i < 1000; i++)
            pb_hist_record(&r->total, base + 100 * k + i);
        r->cancel.attempted = 10;
        r->cancel.won = 5;
        r->cancel.success_rate = 0.5;
        r->invariants.ok = true;
    }
    return runs;
}

static void make_ctx(struct pb_context *c, const char *commit, const char *date)
{
    memset(c, 0, sizeof *c);
    snprintf(c->date, sizeof c->date, "%s", date);
    snprintf(c->host, sizeof c->host, "testhost");
    snprintf(c->git_commit, sizeof c->git_commit, "%s", commit);
    snprintf(c->compiler, sizeof c->compiler, "gcc test");
    snprintf(c->command, sizeof c->command, "pendbench run --scenario steady");
}

/* Records REPS repetitions; others[k]: how much of repetition k's window
 * other processes took (%; NULL: none). */
static void record_others(const char *queue, const char *commit, const char *date, uint64_t base,
                          double throughput, const double *others)
{
    struct pb_context ctx;
    make_ctx(&ctx, commit, date);
    struct pb_run_result *runs = make_runs(queue, base, throughput);
    for (unsigned k = 0; others && k < REPS; k++)
        runs[k].others_pct = others[k];
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, REPS, NULL, err, sizeof err), 0, "%s", err);
    free(runs);
}

static void record(const char *commit, const char *date, uint64_t base, double throughput)
{
    record_others("percpu-mpsc", commit, date, base, throughput, NULL);
}

static void pg_exec(const char *sql)
{
    PGconn *c = PQconnectdb(db);
    cr_assert(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* SQL on the test's database, either backend. */
static void db_exec(const char *sql)
{
    if (strncmp(db, "postgresql:", 11) == 0) {
        pg_exec(sql);
        return;
    }
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(h));
    sqlite3_close(h);
}

/* Records three invocations: two commits sharing the prefix "abcd". */
static void record_three(void)
{
    record("abcd1234", "2024-05-01T10:00:00Z", 1000, 1e6);
    record("abcd5678", "2024-05-02T10:00:00Z", 2000, 2e6);
    record("beef0001", "2024-05-03T10:00:00Z", 3000, 4e6);
}

static void expect_find(const char *spec, const char *commit, uint64_t min_latency)
{
    struct pb_result_doc doc;
    char err[512] = "";
    cr_assert_eq(pb_history_find(db, spec, &doc, err, sizeof err), 0, "%s: %s", spec, err);
    cr_expect_str_eq(doc.ctx.git_commit, commit, "spec %s", spec);
    cr_expect_str_eq(doc.ctx.host, "testhost");
    cr_expect_str_eq(doc.ctx.command, "pendbench run --scenario steady");
    cr_assert_eq(doc.nruns, REPS);
    /* The whole document, histograms included. */
    cr_expect_eq(doc.runs[0].r.total.count, 1000);
    cr_expect_eq(doc.runs[0].r.total.min, min_latency);
    cr_expect_eq(doc.runs[1].r.repetition, 1);
    cr_expect_str_eq(doc.runs[0].r.scenario.queue, "percpu-mpsc");
    pb_result_doc_free(&doc);
}

static void expect_find_error(const char *spec, const char *part)
{
    struct pb_result_doc doc;
    char err[512] = "";
    cr_expect_eq(pb_history_find(db, spec, &doc, err, sizeof err), -1, "spec %s", spec);
    cr_expect(strstr(err, part) != NULL, "spec %s: '%s' lacks '%s'", spec, err, part);
    cr_expect_eq(doc.nruns, 0);
    pb_result_doc_free(&doc);
}

BOTH(record_and_find)
{
    record_three();
    expect_find("last", "beef0001", 3000);
    expect_find("abcd1", "abcd1234", 1000);
    expect_find("ABCD5678", "abcd5678", 2000);
    expect_find("beef", "beef0001", 3000);
    /* A full hash for a recorded abbreviation. */
    expect_find("beef0001deadbeefdeadbeefdeadbeefdeadbeef", "beef0001", 3000);
    expect_find_error("abcd", "ambiguous");
    expect_find_error("abcd", "abcd1234");
    expect_find_error("abcd", "abcd5678");
    expect_find_error("dead", "no run recorded at commit dead");
    expect_find_error("abc", "4 or more hex digits");
    expect_find_error("HEAD~1", "neither 'last' nor a git commit");
}

/* The most recent of several invocations at one commit. */
BOTH(same_commit_twice)
{
    record("cafe1234", "2024-05-01T10:00:00Z", 1000, 1e6);
    record("cafe1234", "2024-05-02T10:00:00Z", 5000, 1e6);
    expect_find("cafe", "cafe1234", 5000);
}

Test(history, missing_and_empty)
{
    struct pb_result_doc doc;
    char err[512] = "";
    cr_expect_eq(pb_history_find(db, "last", &doc, err, sizeof err), -1);
    cr_expect(strstr(err, "no history yet at") != NULL, "%s", err);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    cr_expect_eq(pb_export_trend(stdout, db, &q, err, sizeof err), -2);
    cr_expect(strstr(err, "no history yet at") != NULL, "%s", err);
    /* The lookups create nothing. */
    cr_expect_neq(access(db, F_OK), 0);
    /* An empty file (as sqlite would leave it): an empty history. */
    fclose(fopen(db, "w"));
    expect_find_error("last", "empty");
    cr_expect_eq(pb_export_trend(stdout, db, &q, err, sizeof err), 0, "%s", err);
}

/* The stored rows: the context and one row of figures per run. */
Test(history, rows)
{
    struct pb_context ctx;
    make_ctx(&ctx, "abcd1234", "2024-05-01T10:00:00Z");
    struct pb_run_result *runs = make_runs("percpu-ring", 1000, 1e6);
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, REPS, "/some/result.json", err, sizeof err), 0,
                 "%s", err);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h,
                                    "SELECT i.git_commit, i.host, i.compiler, i.result_path, r.queue,"
                                    " r.repetition, r.p50_ns, r.throughput_ops_s, r.invariants_ok"
                                    " FROM runs r JOIN invocations i ON i.id = r.invocation_id"
                                    " ORDER BY r.repetition",
                                    -1, &st, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    for (unsigned k = 0; k < REPS; k++) {
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 0), "abcd1234");
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 1), "testhost");
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 2), "gcc test");
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 3), "/some/result.json");
        cr_expect_str_eq((const char *)sqlite3_column_text(st, 4), "percpu-ring");
        cr_expect_eq(sqlite3_column_int(st, 5), (int)k);
        cr_expect_eq((uint64_t)sqlite3_column_int64(st, 6), pb_hist_percentile(&runs[k].total, 50));
        cr_expect_eq(sqlite3_column_double(st, 7), 1e6 + k);
        cr_expect_eq(sqlite3_column_int(st, 8), 1);
    }
    cr_expect_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_stmt *v;
    cr_assert_eq(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &v, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(v), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(v, 0), 4);
    sqlite3_finalize(v);
    /* The run key's workload (canonical) and the machine identity. */
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT r.workload, i.machine FROM runs r JOIN invocations i"
                                       " ON i.id = r.invocation_id", -1, &v, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(v), SQLITE_ROW);
    const char *w = (const char *)sqlite3_column_text(v, 0);
    cr_expect(w && strstr(w, "requesters=1, ") && strstr(w, "workers=1") && !strstr(w, "seed="),
              "%s", w ? w : "(null)");
    cr_expect_str_eq((const char *)sqlite3_column_text(v, 1), "testhost");
    sqlite3_finalize(v);
    sqlite3_close(h);
    free(runs);
}

/* ---- trend ---------------------------------------------------------------------- */

static char *trend(const struct pb_trend_query *q, int want_blocks)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    char err[512] = "";
    int n = pb_export_trend(m, db, q, err, sizeof err);
    fclose(m);
    cr_assert_eq(n, want_blocks, "%d blocks (%s):\n%s", n, err, buf);
    return buf;
}

/* A session measures a run in another machine state again and records
 * both: the trend's point is the one the session's table showed, from
 * the run in the invocation's state (the others' c2c floor), not the
 * median of the two states. */
BOTH(trend_leaves_out_a_run_in_another_machine_state)
{
    struct pb_context ctx;
    make_ctx(&ctx, "cafe0001", "2024-05-01T10:00:00Z");
    struct pb_run_result *mpsc = make_runs("percpu-mpsc", 1000, 1e6);
    struct pb_run_result *ring = make_runs("percpu-ring", 1000, 1e6);
    struct pb_run_result runs[2 * REPS];
    for (unsigned k = 0; k < REPS; k++) {
        runs[k] = mpsc[k];
        runs[REPS + k] = ring[k];
    }
    for (unsigned k = 0; k < 2 * REPS; k++) {
        struct pb_run_result *r = &runs[k];
        r->c2c_os_cpu_a = 0;
        r->c2c_os_cpu_b = 1;
        r->c2c_round_trip_ns = r->c2c_start.median_ns = r->c2c_end.median_ns = 50;
    }
    /* percpu-mpsc's first repetition: the other placement, 9x the throughput. */
    runs[0].c2c_round_trip_ns = runs[0].c2c_start.median_ns = runs[0].c2c_end.median_ns = 450;
    runs[0].throughput_ops_s = 9e6;
    pb_hist_init(&runs[0].total);
    for (unsigned i = 0; i < 1000; i++)
        pb_hist_record(&runs[0].total, 100 + i);
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, 2 * REPS, NULL, err, sizeof err), 0, "%s", err);
    free(mpsc);
    free(ring);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .strategies = "magazine/percpu-mpsc/xchg" };
    char *t = trend(&q, 1);
    cr_expect(strstr(t, "1000001 ops/s") != NULL, "the clean repetition alone:\n%s", t);
    free(t);
    /* Latency: the clean repetition's histogram alone (1100..2099). */
    q.metric = PB_TREND_P50;
    t = trend(&q, 1);
    cr_expect(strstr(t, "1.60 us") != NULL, "%s", t);
    free(t);
}

BOTH(trend_text)
{
    record_three();
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    char *t = trend(&q, 1);
    static const char *const want[] = {
        "steady  magazine/percpu-mpsc/xchg  threads 1x1",
        "abcd1234", "abcd5678", "beef0001", "testhost",
        "2024-05-01T10:00:00Z", "2024-05-03T10:00:00Z",
        "1000000 ops/s",        /* median of 1e6 and 1e6 + 1 */
        "+100.0%",              /* 1e6 -> 2e6, 2e6 -> 4e6 */
        "▁▃█",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(t, want[i]) != NULL, "missing '%s' in:\n%s", want[i], t);
    free(t);

    /* Latency: the repetitions' merged histograms (1000..1999 and 1100..2099). */
    q.metric = PB_TREND_P50;
    q.limit = 2;
    t = trend(&q, 1);
    cr_expect(strstr(t, "abcd1234") == NULL, "--limit 2 keeps the last two:\n%s", t);
    cr_expect(strstr(t, "abcd5678") != NULL && strstr(t, "beef0001") != NULL, "%s", t);
    struct pb_run_result *runs = make_runs("percpu-mpsc", 3000, 1);
    struct pb_hist *m = malloc(sizeof *m);
    pb_hist_init(m);
    for (unsigned k = 0; k < REPS; k++)
        pb_hist_merge(m, &runs[k].total);
    char want_p50[32];
    snprintf(want_p50, sizeof want_p50, "%.2f us", (double)pb_hist_percentile(m, 50) / 1e3);
    cr_expect(strstr(t, want_p50) != NULL, "missing merged p50 '%s' in:\n%s", want_p50, t);
    free(m);
    free(runs);
    free(t);

    /* Filters. */
    q = (struct pb_trend_query){ .metric = PB_TREND_P99, .scenario = "other" };
    free(trend(&q, 0));
    q = (struct pb_trend_query){ .metric = PB_TREND_P99, .strategies = "magazine/*/xchg" };
    free(trend(&q, 1));
    q = (struct pb_trend_query){ .metric = PB_TREND_P99, .strategies = "*/percpu-ring/" };
    free(trend(&q, 0));
    q = (struct pb_trend_query){ .metric = PB_TREND_P99, .strategies = "magazine" };
    char err[512] = "";
    cr_expect_eq(pb_export_trend(stdout, db, &q, err, sizeof err), -1);
    cr_expect(strstr(err, "POOL/QUEUE/HANDOFF") != NULL, "%s", err);
}

BOTH(trend_blocks_and_json)
{
    record_three();
    struct pb_context ctx;
    make_ctx(&ctx, "f00d0001", "2024-05-04T10:00:00Z");
    struct pb_run_result *runs = make_runs("percpu-ring", 500, 3e6);
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, REPS, NULL, err, sizeof err), 0, "%s", err);
    free(runs);
    struct pb_trend_query q = { .metric = PB_TREND_CANCEL, .json = true };
    char *t = trend(&q, 2);
    json_error_t e;
    json_t *doc = json_loads(t, 0, &e);
    cr_assert_not_null(doc, "%s:\n%s", e.text, t);
    cr_expect_str_eq(json_string_value(json_object_get(doc, "metric")), "cancel");
    json_t *blocks = json_object_get(doc, "blocks");
    cr_assert_eq(json_array_size(blocks), 2);
    json_t *b0 = json_array_get(blocks, 0), *b1 = json_array_get(blocks, 1);
    cr_expect_str_eq(json_string_value(json_object_get(b0, "queue")), "percpu-mpsc");
    cr_expect_str_eq(json_string_value(json_object_get(b1, "queue")), "percpu-ring");
    json_t *pts = json_object_get(b0, "points");
    cr_assert_eq(json_array_size(pts), 3);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(pts, 0), "commit")), "abcd1234");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(pts, 2), "commit")), "beef0001");
    cr_expect(json_is_null(json_object_get(json_array_get(pts, 0), "change")));
    cr_expect_eq(json_real_value(json_object_get(json_array_get(pts, 1), "value")), 0.5);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(pts, 1), "repetitions")), REPS);
    json_decref(doc);
    free(t);
}

/* A run without cancels has no cancel success rate: the trend leaves it
 * out (it showed 0.0%, while compare says "no cancels"). */
BOTH(cancel_trend_leaves_out_runs_without_cancels)
{
    record_three();
    struct pb_context ctx;
    make_ctx(&ctx, "f00d0002", "2024-05-04T10:00:00Z");
    struct pb_run_result *runs = make_runs("percpu-ring", 500, 3e6);
    for (unsigned i = 0; i < REPS; i++)
        runs[i].cancel = (struct pb_cancel_outcomes){ 0 };
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, REPS, NULL, err, sizeof err), 0, "%s", err);
    free(runs);
    struct pb_trend_query q = { .metric = PB_TREND_CANCEL, .json = true };
    char *t = trend(&q, 1);
    json_error_t e;
    json_t *doc = json_loads(t, 0, &e);
    cr_assert_not_null(doc, "%s:\n%s", e.text, t);
    json_t *blocks = json_object_get(doc, "blocks");
    cr_expect_eq(json_array_size(blocks), 1, "%s", t);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(blocks, 0), "queue")),
                     "percpu-mpsc");
    json_decref(doc);
    free(t);
    /* Throughput still has both. */
    q.metric = PB_TREND_THROUGHPUT;
    t = trend(&q, 2);
    free(t);
}

/* The changes of a trend, as text or JSON. */
static char *changes(const struct pb_trend_query *q, int want_blocks, unsigned *regressions)
{
    struct pb_trend_changes c = { .alpha = 0.05, .seed = 1, .threshold_pct = 5 };
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    char err[512] = "";
    int n = pb_export_trend_changes(m, db, q, &c, regressions, err, sizeof err);
    fclose(m);
    cr_assert_eq(n, want_blocks, "%d blocks (%s):\n%s", n, err, buf);
    return buf;
}

static json_t *point(json_t *doc, unsigned block, unsigned i)
{
    json_t *b = json_array_get(json_object_get(doc, "blocks"), block);
    return json_array_get(json_object_get(b, "points"), i);
}

/* A point with a repetition measured beside busy processes is marked, and
 * --skip-busy leaves it out; a point whose others are not known stays. */
BOTH(busy_points_marked_and_skipped)
{
    static const double quiet[REPS] = { 3, 1 }, busy[REPS] = { 2, 40.75 };
    record_others("percpu-mpsc", "abcd1234", "2024-05-01T10:00:00Z", 1000, 1e6, quiet);
    record_others("percpu-mpsc", "abcd5678", "2024-05-02T10:00:00Z", 1000, 5e5, busy);
    static const double unknown[REPS] = { -1, -1 };
    record_others("percpu-mpsc", "beef0001", "2024-05-03T10:00:00Z", 1000, 1e6, unknown);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    char *t = trend(&q, 1);
    const char *mark = strstr(t, "(busy machine: 1 of 2 repetitions, others up to 41%)");
    cr_expect(mark && strstr(t, "abcd5678") < mark && !strstr(mark, "abcd5678") &&
              strstr(mark, "beef0001"), "the second point alone is busy:\n%s", t);
    cr_expect(strstr(mark ? mark + 5 : t, "busy machine") == NULL, "%s", t);
    free(t);
    q.json = true;
    t = trend(&q, 1);
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert_not_null(doc, "%s", t);
    cr_expect_eq(json_real_value(json_object_get(point(doc, 0, 0), "others_pct_max")), 3);
    cr_expect_eq(json_integer_value(json_object_get(point(doc, 0, 0), "busy_repetitions")), 0);
    cr_expect_eq(json_real_value(json_object_get(point(doc, 0, 1), "others_pct_max")), 40.75);
    cr_expect_eq(json_integer_value(json_object_get(point(doc, 0, 1), "busy_repetitions")), 1);
    cr_expect(json_is_null(json_object_get(point(doc, 0, 2), "others_pct_max")), "%s", t);
    json_decref(doc);
    free(t);
    /* --skip-busy: the busy point is gone, the unknown one stays. */
    q.skip_busy = true;
    t = trend(&q, 1);
    doc = json_loads(t, 0, NULL);
    json_t *pts = json_object_get(json_array_get(json_object_get(doc, "blocks"), 0), "points");
    cr_assert_eq(json_array_size(pts), 2, "%s", t);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(pts, 1), "commit")),
                     "beef0001");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(json_object_get(doc, "blocks"),
                                                                   0), "busy_left_out")), 1);
    json_decref(doc);
    free(t);
    /* A block of busy points only is left out whole, and the text says so. */
    record_others("percpu-ring", "f00d0001", "2024-05-04T10:00:00Z", 1000, 1e6, busy);
    q.json = false;
    t = trend(&q, 1);
    cr_expect(strstr(t, "2 invocations, 1000000 ops/s to 1000000 ops/s; 1 on a busy machine left "
                        "out") != NULL, "%s", t);
    cr_expect(strstr(t, "1 series left out whole (--skip-busy): every invocation ran on a busy "
                        "machine") != NULL, "%s", t);
    free(t);
    q.skip_busy = false;
    t = trend(&q, 2);
    cr_expect(strstr(t, "left out") == NULL, "%s", t);
    free(t);
    q.strategies = "magazine/percpu-mpsc/xchg";
    q.csv = true;
    t = trend(&q, 1);
    cr_expect(strstr(t, ",2024-05-02T10:00:00Z,abcd5678,,500000.5,2,0,1,40.75,1\r\n") != NULL,
              "%s", t);
    cr_expect(strstr(t, ",2024-05-03T10:00:00Z,beef0001,,1000000.5,2,0,1,,0\r\n") != NULL,
              "not known: empty:\n%s", t);
    free(t);
}

/* A throughput drop made by busy invocations: --changes finds it and says
 * the points after it ran on a busy machine; --skip-busy leaves them out,
 * and with them the change the gate would have failed on. */
BOTH(changes_on_busy_points)
{
    static const double wobble[12] = { 1.3, -0.8, 0.4, -1.6, 0.9, -0.2, 1.1, -1.2, 0.6, -0.4,
                                       1.5, -0.9 };
    static const double quiet[REPS] = { 1, 2 }, busy[REPS] = { 60, 70 };
    for (unsigned i = 0; i < 12; i++) {
        char commit[16], date[32];
        snprintf(commit, sizeof commit, "c%02u0beef", i);
        snprintf(date, sizeof date, "2024-05-%02uT10:00:00Z", i + 1);
        bool slow = i == 3 || i >= 7;
        record_others("percpu-mpsc", commit, date, 1000, (slow ? 0.7e6 : 1e6) * (1 + wobble[i] / 100),
                      slow ? busy : quiet);
    }
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .json = true };
    unsigned regressions = 99;
    char *t = changes(&q, 1, &regressions);
    cr_expect_eq(regressions, 1);
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert_not_null(doc, "%s", t);
    json_t *chs = json_object_get(json_array_get(json_object_get(doc, "blocks"), 0), "changes");
    cr_assert_eq(json_array_size(chs), 1, "%s", t);
    json_t *ch = json_array_get(chs, 0);
    cr_expect_str_eq(json_string_value(json_object_get(ch, "commit")), "c070beef");
    cr_expect_eq(json_integer_value(json_object_get(ch, "invocations_before")), 7);
    cr_expect_eq(json_integer_value(json_object_get(ch, "busy_before")), 1);
    cr_expect_eq(json_integer_value(json_object_get(ch, "invocations_after")), 5);
    cr_expect_eq(json_integer_value(json_object_get(ch, "busy_after")), 5);
    json_decref(doc);
    free(t);
    q.json = false;
    t = changes(&q, 1, &regressions);
    cr_expect(strstr(t, "change at c070beef") && strstr(t, "on a busy machine (others took 25% or "
                                                           "more of a repetition's CPU time): 1 "
                                                           "of 7 invocations before it, 5 of 5 "
                                                           "after"), "%s", t);
    free(t);
    q.skip_busy = true;
    t = changes(&q, 1, &regressions);
    cr_expect_eq(regressions, 0, "%s", t);
    cr_expect(strstr(t, "no change in 6 invocations; 6 on a busy machine left out") != NULL, "%s",
              t);
    free(t);
}

static char *slurp(const char *path, size_t *len);

/* The trend as a page: a chart and a table per series, the busy points
 * and the change marked; --skip-busy and charts turned off say so. */
BOTH(trend_page)
{
    static const double quiet[REPS] = { 1, 2 }, busy[REPS] = { 60, 70 };
    for (unsigned i = 0; i < 12; i++) {
        char commit[16], date[32];
        snprintf(commit, sizeof commit, "c%02u0beef", i);
        snprintf(date, sizeof date, "2024-05-%02uT10:00:00Z", i + 1);
        record_others("percpu-mpsc", commit, date, 1000, (i >= 7 ? 0.7e6 : 1e6) * (1 + i % 3 / 100.0),
                      i == 3 ? busy : quiet);
    }
    char path[300], err[512] = "";
    snprintf(path, sizeof path, "%s/trend.html", dir);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    struct pb_trend_changes c = { .alpha = 0.05, .seed = 1 };
    struct pb_html_stats st;
    cr_assert_eq(pb_export_trend_html(path, db, &q, &c, NULL, &st, err, sizeof err), 1, "%s", err);
    size_t len;
    char *page = slurp(path, &len);
    static const char *const want[] = {
        "<title>pendbench history: throughput (ops/s, median of repetitions)</title>",
        "steady  magazine/percpu-mpsc/xchg", "12 invocations; 1 change point",
        "<b>busy machine</b>: 2 of 2 repetitions, others up to 70%",
        "<b>change</b>: ", "a regression)</td>", "<code>c070beef</code>", "</html>\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(page, want[i]) != NULL, "missing '%s'", want[i]);
    /* The change sits on the first point after it (#8, c070beef). */
    const char *row8 = strstr(page, "<td class=\"num\">8</td>");
    cr_expect(row8 && strstr(row8, "<b>change</b>") < strstr(row8, "</tr>"), "%s", page);
    /* gnuplot is installed by scripts/setup: one chart. */
    cr_expect_eq(st.charts, 1, "%s", st.note);
    cr_expect(strstr(page, "<svg") != NULL);
    free(page);
    /* Charts off, busy points left out, the last 6 shown. */
    struct pb_html_options o = { .no_charts = true };
    q.skip_busy = true;
    q.limit = 6;
    cr_assert_eq(pb_export_trend_html(path, db, &q, &c, &o, &st, err, sizeof err), 1, "%s", err);
    page = slurp(path, &len);
    cr_expect(strstr(page, "<svg") == NULL);
    cr_expect(strstr(page, "Charts were turned off") != NULL);
    cr_expect(strstr(page, "6 invocations; 1 on a busy machine left out (--skip-busy); 1 change "
                           "point") != NULL, "%s", page);
    cr_expect(strstr(page, "c030beef") == NULL, "the busy one and the older ones: %s", page);
    free(page);
    /* Nothing matches: a page that says so. */
    q.scenario = "nothing";
    cr_assert_eq(pb_export_trend_html(path, db, &q, &c, &o, &st, err, sizeof err), 0, "%s", err);
    page = slurp(path, &len);
    cr_expect(strstr(page, "No invocation recorded matches.") != NULL);
    free(page);
}

/* Layout 3 (no others_pct): read as it is, nothing marked; the next
 * record upgrades it and fills the old rows in from their documents. */
BOTH(layout_3_is_read_and_upgraded_with_others)
{
    static const double busy[REPS] = { 30, 10 };
    record_others("percpu-mpsc", "abcd1234", "2024-05-01T10:00:00Z", 1000, 1e6, busy);
    db_exec(strncmp(db, "postgresql:", 11) == 0
                ? "ALTER TABLE runs DROP COLUMN others_pct; DROP TABLE pendbench_compat;"
                  " UPDATE pendbench_schema SET version = 3"
                : "ALTER TABLE runs DROP COLUMN others_pct; DROP TABLE pendbench_compat;"
                  " PRAGMA user_version = 3");
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .json = true };
    char *t = trend(&q, 1);
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert_not_null(doc, "%s", t);
    cr_expect(json_is_null(json_object_get(point(doc, 0, 0), "others_pct_max")), "%s", t);
    json_decref(doc);
    free(t);
    static const double quiet[REPS] = { 0, 5 };
    record_others("percpu-mpsc", "abcd5678", "2024-05-02T10:00:00Z", 1000, 1e6, quiet);
    t = trend(&q, 1);
    doc = json_loads(t, 0, NULL);
    cr_assert_not_null(doc, "%s", t);
    cr_expect_eq(json_real_value(json_object_get(point(doc, 0, 0), "others_pct_max")), 30, "%s", t);
    cr_expect_eq(json_integer_value(json_object_get(point(doc, 0, 0), "busy_repetitions")), 1);
    cr_expect_eq(json_real_value(json_object_get(point(doc, 0, 1), "others_pct_max")), 5);
    json_decref(doc);
    free(t);
    expect_find("last", "abcd5678", 1000);
}

Test(history, metric_names)
{
    enum pb_trend_metric m;
    cr_expect_eq(pb_trend_metric_parse("p999", &m), 0);
    cr_expect_eq(m, PB_TREND_P999);
    cr_expect_eq(pb_trend_metric_parse("cancel", &m), 0);
    cr_expect_eq(m, PB_TREND_CANCEL);
    cr_expect_eq(pb_trend_metric_parse("latency", &m), -1);
}

/* ---- failures: clear, and the result file stays whole ------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(f);
    fclose(m);
    *len = size;
    return buf;
}

/* Writes the result file as the commands do (before recording), then
 * records it; the record must fail with `part`, and the result file must
 * read back as written. */
static void record_fails_keeping_result(const char *part)
{
    struct pb_context ctx;
    make_ctx(&ctx, "abcd9999", "2024-06-01T10:00:00Z");
    struct pb_run_result *runs = make_runs("percpu-mpsc", 7000, 1e6);
    char result[128], err[512] = "";
    snprintf(result, sizeof result, "%s/result.json", dir);
    cr_assert_eq(pb_result_write(result, &ctx, runs, REPS, err, sizeof err), 0, "%s", err);
    size_t len_before, len_after;
    char *before = slurp(result, &len_before);
    cr_expect_eq(pb_history_record(db, &ctx, runs, REPS, result, err, sizeof err), -1);
    cr_expect(strstr(err, db) != NULL, "the message names the database: %s", err);
    cr_expect(strstr(err, part) != NULL, "'%s' lacks '%s'", err, part);
    char *after = slurp(result, &len_after);
    cr_expect(len_before == len_after && memcmp(before, after, len_before) == 0,
              "the result file changed");
    struct pb_result_doc doc;
    cr_expect_eq(pb_result_read(result, &doc, err, sizeof err), 0, "%s", err);
    cr_expect_eq(doc.nruns, REPS);
    cr_expect_eq(doc.runs[0].r.total.min, 7000);
    pb_result_doc_free(&doc);
    free(before);
    free(after);
    free(runs);
}

Test(history, locked_database)
{
    record_three();
    sqlite3 *other;
    cr_assert_eq(sqlite3_open(db, &other), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK,
                 "%s", sqlite3_errmsg(other));
    record_fails_keeping_result("the database is locked (another pendbench running?)");
    /* Readers get the same message. */
    expect_find_error("last", "the database is locked");
    cr_assert_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    /* Once free, recording works, and nothing of the failed record is there. */
    expect_find("last", "beef0001", 3000);
    record("abcd9999", "2024-06-01T10:00:00Z", 7000, 1e6);
    expect_find("last", "abcd9999", 7000);
}

Test(history, damaged_database)
{
    FILE *f = fopen(db, "wb");
    cr_assert_not_null(f);
    for (int i = 0; i < 8192; i++)
        fputc((i * 7919) & 0xff, f);
    cr_assert_eq(fclose(f), 0);
    size_t len_before, len_after;
    char *before = slurp(db, &len_before);
    record_fails_keeping_result(
        "not a pendbench history database or damaged (move it away to start a new one)");
    expect_find_error("last", "not a pendbench history database or damaged");
    struct pb_trend_query q = { .metric = PB_TREND_P99 };
    char err[512] = "";
    cr_expect_eq(pb_export_trend(stdout, db, &q, err, sizeof err), -1);
    cr_expect(strstr(err, "damaged") != NULL, "%s", err);
    /* The damaged file is left as it was, for a person to look at. */
    char *after = slurp(db, &len_after);
    cr_expect(len_before == len_after && memcmp(before, after, len_before) == 0);
    free(before);
    free(after);
}

/* The trend, its JSON, its changes and its export all fail with one
 * message holding part. */
static void expect_trend_error(enum pb_trend_metric metric, const char *part)
{
    struct pb_trend_query q = { .metric = metric };
    char err[512] = "";
    cr_expect_eq(pb_export_trend(stdout, db, &q, err, sizeof err), -1, "metric %d", (int)metric);
    cr_expect(strstr(err, part) != NULL, "'%s' lacks '%s'", err, part);
    q.json = true;
    err[0] = 0;
    cr_expect_eq(pb_export_trend(stdout, db, &q, err, sizeof err), -1);
    cr_expect(strstr(err, part) != NULL, "--json: '%s' lacks '%s'", err, part);
    q.json = false;
    q.csv = true;
    err[0] = 0;
    cr_expect_eq(pb_export_trend(stdout, db, &q, err, sizeof err), -1);
    cr_expect(strstr(err, part) != NULL, "export: '%s' lacks '%s'", err, part);
    q.csv = false;
    struct pb_trend_changes c = { .alpha = 0.05, .seed = 1, .threshold_pct = 5 };
    unsigned regressions = 0;
    err[0] = 0;
    cr_expect_eq(pb_export_trend_changes(stdout, db, &q, &c, &regressions, err, sizeof err), -1);
    cr_expect(strstr(err, part) != NULL, "--changes: '%s' lacks '%s'", err, part);
}

/* A row whose figure is past the result reader's ranges is a damaged
 * history, named with its invocation and row: an inf throughput was drawn
 * as "inf ops/s +inf%", a -5 as "-5 ops/s -nan%", and --json left both
 * out, taking the next point's change against the -5. */
BOTH(trend_refuses_a_damaged_row)
{
    record_three();
    bool pg = strncmp(db, "postgresql:", 11) == 0;
    char want[512];
    /* Invocation 2's rows are 3 and 4 (REPS 2), in repetition order. */
    db_exec("UPDATE runs SET throughput_ops_s = -5 WHERE invocation_id = 2");
    snprintf(want, sizeof want, "%s: a damaged history: invocation 2, runs row 3: "
             "throughput_ops_s: -5 is not a valid throughput (0 to 1e12 ops/s)", db);
    expect_trend_error(PB_TREND_THROUGHPUT, want);
    db_exec(pg ? "UPDATE runs SET throughput_ops_s = 'Infinity' WHERE invocation_id = 2"
               : "UPDATE runs SET throughput_ops_s = 9e999 WHERE invocation_id = 2");
    expect_trend_error(PB_TREND_THROUGHPUT, "runs row 3: throughput_ops_s: inf is not a valid "
                       "throughput (0 to 1e12 ops/s)");
    db_exec("UPDATE runs SET throughput_ops_s = 2e6 WHERE invocation_id = 2");
    free(trend(&(struct pb_trend_query){ .metric = PB_TREND_THROUGHPUT }, 1));

    db_exec("UPDATE runs SET p99_ns = -1 WHERE id = 6");
    expect_trend_error(PB_TREND_P99, "invocation 3, runs row 6: p99_ns: -1 is not a valid time "
                       "(0 to 2^64 ns)");
    db_exec("UPDATE runs SET p99_ns = 1000 WHERE id = 6");
    db_exec("UPDATE runs SET cancel_success_rate = 1.5 WHERE id = 1");
    expect_trend_error(PB_TREND_CANCEL, "invocation 1, runs row 1: cancel_success_rate: 1.5 is "
                       "not a valid fraction (0 to 1)");
    db_exec("UPDATE runs SET cancel_success_rate = 0.5 WHERE id = 1");
    db_exec("UPDATE runs SET others_pct = 250 WHERE id = 2");
    expect_trend_error(PB_TREND_THROUGHPUT, "invocation 1, runs row 2: others_pct: 250 is not a "
                       "valid percentage (0 to 100, or -1: unknown)");
    db_exec("UPDATE runs SET others_pct = NULL WHERE id = 2");
    db_exec("UPDATE runs SET requesters = -3 WHERE id = 2");
    expect_trend_error(PB_TREND_THROUGHPUT, "invocation 1, runs row 2: requesters: -3 is not a "
                       "valid thread count");
    db_exec("UPDATE runs SET requesters = 1 WHERE id = 2");
    db_exec("UPDATE runs SET partial = 2 WHERE id = 2");
    expect_trend_error(PB_TREND_THROUGHPUT, "runs row 2: partial: 2 is not a valid flag (0 or 1)");
    db_exec("UPDATE runs SET partial = 0 WHERE id = 2");
    if (!pg) {
        /* SQLite keeps text in a REAL column as text: it read as 0. */
        db_exec("UPDATE runs SET throughput_ops_s = 'fast' WHERE id = 5");
        expect_trend_error(PB_TREND_THROUGHPUT, "invocation 3, runs row 5: throughput_ops_s: "
                           "'fast' is not a number");
        db_exec("UPDATE runs SET throughput_ops_s = 4e6 WHERE id = 5");
    }
    free(trend(&(struct pb_trend_query){ .metric = PB_TREND_THROUGHPUT }, 1));
}

/* Text the trend prints holding a control character is a damaged history
 * ("\x1b[31m" in a host turned the terminal red); a record writes such
 * text as the result file has it, '?' for the control character. */
BOTH(control_characters_in_the_history)
{
    bool pg = strncmp(db, "postgresql:", 11) == 0;
    struct pb_context ctx;
    make_ctx(&ctx, "cafe0001", "2024-05-01T10:00:00Z");
    snprintf(ctx.host, sizeof ctx.host, "h\x1b[31m");
    struct pb_run_result *runs = make_runs("percpu-mpsc", 1000, 1e6);
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, REPS, NULL, err, sizeof err), 0, "%s", err);
    free(runs);
    char *t = trend(&(struct pb_trend_query){ .metric = PB_TREND_THROUGHPUT }, 1);
    cr_expect(strstr(t, "h?[31m") != NULL && !strchr(t, '\x1b'), "%s", t);
    free(t);
    struct pb_result_doc doc;
    cr_assert_eq(pb_history_find(db, "last", &doc, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(doc.ctx.host, "h?[31m");
    pb_result_doc_free(&doc);

    record("cafe0002", "2024-05-02T10:00:00Z", 2000, 2e6);
    db_exec(pg ? "UPDATE invocations SET host = 'h' || chr(27) || '[31m' WHERE id = 2"
               : "UPDATE invocations SET host = 'h' || char(27) || '[31m' WHERE id = 2");
    expect_trend_error(PB_TREND_THROUGHPUT, "a damaged history: invocation 2, runs row 3: host: "
                       "\"h\\x1b[31m\" holds a control character");
    db_exec(pg ? "UPDATE invocations SET host = 'h', git_commit = 'cafe0002' || chr(27) || '[2J'"
                 " WHERE id = 2"
               : "UPDATE invocations SET host = 'h', git_commit = 'cafe0002' || char(27) || '[2J'"
                 " WHERE id = 2");
    expect_trend_error(PB_TREND_P50, "runs row 3: git_commit: \"cafe0002\\x1b[2J\" holds a "
                       "control character");
    expect_find_error("last", "a damaged history: invocation 2: git_commit: "
                      "\"cafe0002\\x1b[2J\" holds a control character");
    expect_find_error("cafe", "invocation 2: git_commit");
}

/* A point of several repetitions is read from its stored document: one
 * that is damaged is an error naming the invocation (the rows' median
 * stood in, silently); one of a newer schema_version, which a newer
 * pendbench on a shared history writes, is not damage: the median stands
 * in, marked. */
BOTH(trend_refuses_a_damaged_document)
{
    record_three();
    db_exec("UPDATE invocations SET result_json = '{}' WHERE id = 2");
    char want[512];
    snprintf(want, sizeof want, "%s (invocation 2 at abcd5678): not a pendbench result (no "
             "schema_version, no generator)", db);
    expect_trend_error(PB_TREND_P50, want);
    expect_trend_error(PB_TREND_THROUGHPUT, want);
    db_exec("UPDATE invocations SET result_json = '{\"schema_version\": 99, \"generator\": "
            "\"pendbench\", \"runs\": []}' WHERE id = 2");
    char *t = trend(&(struct pb_trend_query){ .metric = PB_TREND_P50 }, 1);
    cr_expect(strstr(t, "(median of repetitions)") != NULL, "%s", t);
    free(t);
}

/* Another program's SQLite database is not written to. */
Test(history, foreign_database)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "CREATE TABLE runs (x); INSERT INTO runs VALUES (1);", NULL, NULL,
                              NULL),
                 SQLITE_OK);
    sqlite3_close(h);
    record_fails_keeping_result("not a pendbench history database");
}

/* The layout a later build would leave: version, and the oldest layouts
 * whose builds may read and write it (NULL compat: a database without the
 * compat table). */
static void set_layout(int version, const int *compat)
{
    char sql[400];
    bool pg = strncmp(db, "postgresql:", 11) == 0;
    int n = pg ? snprintf(sql, sizeof sql, "UPDATE pendbench_schema SET version = %d;", version)
               : snprintf(sql, sizeof sql, "PRAGMA user_version = %d;", version);
    if (compat)
        snprintf(sql + n, sizeof sql - (size_t)n,
                 "UPDATE pendbench_compat SET min_reader = %d, min_writer = %d", compat[0],
                 compat[1]);
    else
        snprintf(sql + n, sizeof sql - (size_t)n, "DROP TABLE pendbench_compat");
    db_exec(sql);
}

/* One number from the test's database: sqlite_sql on SQLite, pg_sql on
 * PostgreSQL. */
static long db_number(const char *sqlite_sql, const char *pg_sql)
{
    long v = -1;
    if (strncmp(db, "postgresql:", 11) == 0) {
        PGconn *c = PQconnectdb(db);
        PGresult *r = PQexec(c, pg_sql);
        cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", pg_sql,
                  PQerrorMessage(c));
        v = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
        return v;
    }
    sqlite3 *h;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(h, sqlite_sql, -1, &st, NULL), SQLITE_OK, "%s: %s",
                 sqlite_sql, sqlite3_errmsg(h));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static int layout_version(void)
{
    return (int)db_number("PRAGMA user_version", "SELECT max(version) FROM pendbench_schema");
}

/* A record into a layout-3 history refused with part, and the history as
 * it was: layout 3, no others_pct column, its one invocation and its rows. */
static void expect_layout_3_as_it_was_with(long rows, const char *part)
{
    record_fails_keeping_result(part);
    cr_expect_eq(layout_version(), 3, "the upgrade was kept");
    cr_expect_eq(db_number("SELECT count(*) FROM pragma_table_info('runs')"
                           " WHERE name = 'others_pct'",
                           "SELECT count(*) FROM information_schema.columns"
                           " WHERE table_name = 'runs' AND column_name = 'others_pct'"),
                 0, "the others_pct column was kept");
    cr_expect_eq(db_number("SELECT count(*) FROM invocations", "SELECT count(*) FROM invocations"),
                 1);
    cr_expect_eq(db_number("SELECT count(*) FROM runs", "SELECT count(*) FROM runs"), rows);
}

static void expect_layout_3_as_it_was(const char *part)
{
    expect_layout_3_as_it_was_with(REPS, part);
}

/* The upgrade fills others_pct in from the stored documents: one that does
 * not read, or rows that are not its runs, are a damaged history, refused
 * as the trend refuses them, naming the database, the invocation and the
 * row or the document, and the upgrade is taken back (they were skipped,
 * leaving those rows NULL without a word). A newer pendbench's document is
 * not damage: its rows stay NULL and the upgrade goes on. */
BOTH(layout_3_upgrade_refuses_a_damaged_history)
{
    bool pg = strncmp(db, "postgresql:", 11) == 0;
    static const double busy[REPS] = { 30, 10 };
    record_others("percpu-mpsc", "abcd1234", "2024-05-01T10:00:00Z", 1000, 1e6, busy);
    db_exec(pg ? "ALTER TABLE runs DROP COLUMN others_pct; DROP TABLE pendbench_compat;"
                 " UPDATE pendbench_schema SET version = 3"
               : "ALTER TABLE runs DROP COLUMN others_pct; DROP TABLE pendbench_compat;"
                 " PRAGMA user_version = 3");
    char want[512];

    db_exec("UPDATE runs SET queue = 'global-mutex' WHERE id = 2");
    snprintf(want, sizeof want, "%s: a damaged history: invocation 1, runs row 2: queue: "
             "'global-mutex' where its stored result has 'percpu-mpsc'", db);
    expect_layout_3_as_it_was(want);
    db_exec("UPDATE runs SET queue = 'percpu-mpsc' WHERE id = 2");

    db_exec("UPDATE runs SET repetition = 7 WHERE id = 1");
    expect_layout_3_as_it_was("a damaged history: invocation 1, runs row 1: repetition: 7 where "
                              "its stored result has 0");
    if (!pg) {
        /* SQLite keeps text in an INTEGER column as text. */
        db_exec("UPDATE runs SET repetition = 'one' WHERE id = 1");
        expect_layout_3_as_it_was("invocation 1, runs row 1: repetition: 'one' where its stored "
                                  "result has 0");
    }
    db_exec("UPDATE runs SET repetition = 0 WHERE id = 1");

    db_exec("DELETE FROM runs WHERE id = 2");
    expect_layout_3_as_it_was_with(REPS - 1, "a damaged history: invocation 1: runs: 1 row, but "
                                   "its stored result has 2 runs");

    db_exec("UPDATE invocations SET result_json = '{}' WHERE id = 1");
    snprintf(want, sizeof want, "%s (invocation 1 at abcd1234): not a pendbench result (no "
             "schema_version, no generator)", db);
    expect_layout_3_as_it_was_with(REPS - 1, want);

    /* A newer pendbench's document: not damage; the upgrade goes on. */
    db_exec("UPDATE invocations SET result_json = '{\"schema_version\": 99, \"generator\": "
            "\"pendbench\", \"runs\": []}' WHERE id = 1");
    static const double quiet[REPS] = { 0, 5 };
    record_others("percpu-mpsc", "abcd5678", "2024-05-02T10:00:00Z", 1000, 1e6, quiet);
    cr_expect_eq(layout_version(), 4);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .json = true };
    char *t = trend(&q, 1);
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert_not_null(doc, "%s", t);
    cr_expect(json_is_null(json_object_get(point(doc, 0, 0), "others_pct_max")), "%s", t);
    cr_expect_eq(json_real_value(json_object_get(point(doc, 0, 1), "others_pct_max")), 5, "%s", t);
    json_decref(doc);
    free(t);
}

/* A newer layout is refused unless it says builds of this one may use it:
 * one that only added columns keeps a fleet's older builds recording. */
BOTH(newer_layouts)
{
    record_three();
    static const int no_one[2] = { 5, 5 }, readers[2] = { 4, 5 }, everyone[2] = { 4, 4 };
    set_layout(5, no_one);
    record_fails_keeping_result("history layout version 5 is newer than this pendbench writes (4)");
    expect_find_error("last", "history layout version 5 is newer than this pendbench reads (4)");
    /* Readable, not writable: the trend and the lookups work, the record
     * is refused. */
    set_layout(5, readers);
    record_fails_keeping_result("newer than this pendbench writes (4)");
    expect_find("last", "beef0001", 3000);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    free(trend(&q, 1));
    /* Both: recorded into as it is (not downgraded, not upgraded). */
    set_layout(5, everyone);
    record("f00d0001", "2024-05-04T10:00:00Z", 4000, 8e6);
    expect_find("last", "f00d0001", 4000);
    q.json = true;
    char *t = trend(&q, 1);
    cr_expect(strstr(t, "f00d0001") != NULL, "%s", t);
    free(t);
    cr_expect_eq(layout_version(), 5);
    /* No compat table (not a layout any build writes): refused. */
    set_layout(6, NULL);
    record_fails_keeping_result("history layout version 6 is newer than this pendbench writes");
}

Test(history, missing_directory)
{
    snprintf(db, sizeof db, "%s/no/such/dir/history.db", dir);
    record_fails_keeping_result("cannot open");
}

/* Another kind of URI, or a blank name, is no file to create. */
Test(history, foreign_uri_and_blank_name)
{
    snprintf(db, sizeof db, "sqlite:%s/h.db", dir);
    record_fails_keeping_result("a file path (SQLite) or a postgresql:// URI");
    snprintf(db, sizeof db, "mysql://localhost/pendbench");
    record_fails_keeping_result("a file path (SQLite) or a postgresql:// URI");
    snprintf(db, sizeof db, "  ");
    record_fails_keeping_result("needs a name");
}

/* ---- the baseline of a document being compared (compare --baseline) ---------------- */

static void record_as(const char *commit, const char *date, const char *run_id, uint64_t base)
{
    struct pb_context ctx;
    make_ctx(&ctx, commit, date);
    snprintf(ctx.run_id, sizeof ctx.run_id, "%s", run_id);
    struct pb_run_result *runs = make_runs("percpu-mpsc", base, 1e6);
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, REPS, NULL, err, sizeof err), 0, "%s", err);
    free(runs);
}

/* min_latency tells the records apart (base of make_runs); 0: expect an error. */
static void expect_before(const char *spec, const char *date, const char *run_id,
                          uint64_t min_latency, const char *error_part)
{
    struct pb_context new_ctx;
    make_ctx(&new_ctx, "ffff0000", date);
    snprintf(new_ctx.run_id, sizeof new_ctx.run_id, "%s", run_id);
    struct pb_result_doc doc;
    char err[512] = "";
    int rc = pb_history_find_before(db, spec, &new_ctx, &doc, err, sizeof err);
    if (min_latency) {
        cr_assert_eq(rc, 0, "%s before %s/%s: %s", spec, date, run_id, err);
        cr_expect_eq(doc.runs[0].r.total.min, min_latency, "%s before %s/%s", spec, date, run_id);
    } else {
        cr_expect_eq(rc, -1, "%s before %s/%s found something", spec, date, run_id);
        cr_expect(strstr(err, error_part) != NULL, "'%s' lacks '%s'", err, error_part);
    }
    pb_result_doc_free(&doc);
}

BOTH(baseline_is_never_the_run_itself)
{
    record_as("abcd1234", "2024-05-01T10:00:00Z", "run-a", 1000);
    record_as("abcd1234", "2024-05-02T10:00:00Z", "run-b", 2000);
    /* NEW is the second record (every run records itself): last is the first. */
    expect_before("last", "2024-05-02T10:00:00Z", "run-b", 1000, NULL);
    /* NEW is the first: nothing came before it, even though a later record exists. */
    expect_before("last", "2024-05-01T10:00:00Z", "run-a", 0, "no run recorded before");
    /* NEW not recorded here (--no-history): the last one started no later. */
    expect_before("last", "2024-05-03T10:00:00Z", "run-x", 2000, NULL);
    expect_before("last", "2024-05-01T12:00:00Z", "run-x", 1000, NULL);
    /* A commit: the latest record at it before NEW. */
    expect_before("abcd", "2024-05-02T10:00:00Z", "run-b", 1000, NULL);
    /* pb_history_find itself still means the latest record. */
    expect_find("last", "abcd1234", 2000);
}

BOTH(dirty_builds_are_not_at_their_commit)
{
    record_as("abcd1234", "2024-05-01T10:00:00Z", "run-a", 1000);
    record_as("abcd1234-dirty", "2024-05-02T10:00:00Z", "run-b", 2000);
    /* last is last, dirty or not; a commit means its clean tree. */
    expect_before("last", "2024-05-03T10:00:00Z", "run-x", 2000, NULL);
    expect_before("abcd1234", "2024-05-03T10:00:00Z", "run-x", 1000, NULL);
    expect_before("abcd1234", "2024-05-01T10:00:00Z", "run-a", 0, "before NEW with a clean tree");
}

Test(history, version_1_is_read_and_upgraded)
{
    record_as("abcd1234", "2024-05-01T10:00:00Z", "run-a", 1000);
    /* Make it a layout-1 database: no run_id column, user_version 1. */
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "DROP INDEX invocations_by_run_id;"
                                 "ALTER TABLE invocations DROP COLUMN run_id;"
                                 "ALTER TABLE invocations DROP COLUMN machine;"
                                 "ALTER TABLE invocations DROP COLUMN topology_summary;"
                                 "ALTER TABLE runs DROP COLUMN workload;"
                                 "ALTER TABLE runs DROP COLUMN others_pct;"
                                 "DROP TABLE pendbench_compat;"
                                 "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK,
                 "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
    /* Read as it is (no run_id: records started before NEW). */
    expect_before("last", "2024-05-02T10:00:00Z", "run-b", 1000, NULL);
    expect_before("last", "2024-05-01T10:00:00Z", "run-a", 0, "no run recorded before");
    expect_find("last", "abcd1234", 1000);
    /* The next record upgrades it in place. */
    record_as("abcd1234", "2024-05-02T10:00:00Z", "run-b", 2000);
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_stmt *v;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT count(run_id) FROM invocations", -1, &v, NULL),
                 SQLITE_OK, "%s", sqlite3_errmsg(h));
    cr_assert_eq(sqlite3_step(v), SQLITE_ROW);
    cr_expect_eq(sqlite3_column_int(v, 0), 1);     /* the old record has none */
    sqlite3_finalize(v);
    sqlite3_close(h);
    expect_before("last", "2024-05-02T10:00:00Z", "run-b", 1000, NULL);
}

/* Layout 2 (no workload, no machine): read as it is, its rows in blocks by
 * thread count; the next record upgrades it and keys its rows by workload. */
Test(history, version_2_falls_back_to_thread_counts)
{
    record_as("abcd1234", "2024-05-01T10:00:00Z", "run-a", 1000);
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "ALTER TABLE invocations DROP COLUMN machine;"
                                 "ALTER TABLE invocations DROP COLUMN topology_summary;"
                                 "ALTER TABLE runs DROP COLUMN workload;"
                                 "ALTER TABLE runs DROP COLUMN others_pct;"
                                 "DROP TABLE pendbench_compat;"
                                 "PRAGMA user_version = 2;", NULL, NULL, NULL), SQLITE_OK,
                 "%s", sqlite3_errmsg(h));
    sqlite3_close(h);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .json = true };
    char *t = trend(&q, 1);
    json_t *doc = json_loads(t, 0, NULL);
    json_t *b0 = json_array_get(json_object_get(doc, "blocks"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(b0, "workload")), "");
    cr_expect_str_eq(json_string_value(json_object_get(b0, "machine")), "testhost");
    json_decref(doc);
    free(t);
    record_as("abcd5678", "2024-05-02T10:00:00Z", "run-b", 2000);
    t = trend(&q, 2);
    doc = json_loads(t, 0, NULL);
    /* Keyed by workload first, then the older rows by thread counts. */
    json_t *blocks = json_object_get(doc, "blocks");
    cr_expect(strstr(json_string_value(json_object_get(json_array_get(blocks, 0), "workload")),
                     "requesters=1") != NULL, "%s", t);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(blocks, 1), "workload")), "");
    json_decref(doc);
    free(t);
}

/* ---- imports, machines, run keys, export ----------------------------------------- */

/* A result file as a session writes it: REPS runs of steady on
 * magazine/<queue>/xchg, throughput given, the context of host at commit. */
static void write_result(const char *path, const char *host, const char *commit, const char *date,
                         const char *run_id, const char *queue, double throughput)
{
    struct pb_context ctx;
    make_ctx(&ctx, commit, date);
    snprintf(ctx.host, sizeof ctx.host, "%s", host);
    snprintf(ctx.run_id, sizeof ctx.run_id, "%s", run_id ? run_id : "");
    snprintf(ctx.cpu_model, sizeof ctx.cpu_model, "Test CPU");
    ctx.ncpus_online = 4;
    pb_env_init(&ctx.env);
    struct pb_run_result *runs = make_runs(queue, 1000, throughput);
    char err[512] = "";
    cr_assert_eq(pb_result_write(path, &ctx, runs, REPS, err, sizeof err), 0, "%s", err);
    free(runs);
}

static int import(const char *path)
{
    char err[512] = "";
    int rc = pb_history_import(db, path, err, sizeof err);
    cr_assert_geq(rc, 0, "import %s: %s", path, err);
    return rc;
}

BOTH(import_is_idempotent)
{
    char a[160], b[160];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    write_result(a, "ci-1", "abcd1234", "2024-05-01T10:00:00Z", "run-a", "percpu-mpsc", 1e6);
    /* An older file without a run_id: known by its bytes. */
    write_result(b, "ci-1", "beef0001", "2024-05-02T10:00:00Z", NULL, "percpu-mpsc", 2e6);
    cr_expect_eq(import(a), 1);
    cr_expect_eq(import(a), 0);
    cr_expect_eq(import(b), 1);
    cr_expect_eq(import(b), 0);
    /* The same run recorded by its session first: the import adds nothing. */
    record_as("cafe0001", "2024-05-03T10:00:00Z", "run-c", 3000);
    char c[160];
    snprintf(c, sizeof c, "%s/c.json", dir);
    write_result(c, "testhost", "cafe0001", "2024-05-03T10:00:00Z", "run-c", "percpu-mpsc", 1e6);
    cr_expect_eq(import(c), 0);
    /* Two points in ci-1's series, one in testhost's. */
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .machine = "ci-1", .json = true };
    char *t = trend(&q, 1);
    json_t *doc = json_loads(t, 0, NULL);
    json_t *pts = json_object_get(json_array_get(json_object_get(doc, "blocks"), 0), "points");
    cr_expect_eq(json_array_size(pts), 2, "%s", t);
    json_decref(doc);
    free(t);
    /* The imported document is the file, found again by its commit. */
    struct pb_result_doc d;
    char err[512] = "";
    cr_assert_eq(pb_history_find(db, "beef", &d, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(d.ctx.host, "ci-1");
    cr_expect_eq(d.nruns, REPS);
    cr_expect_eq(d.runs[1].r.throughput_ops_s, 2e6 + 1);
    pb_result_doc_free(&d);
    /* Not a result. */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/bad.json", dir);
    FILE *f = fopen(bad, "w");
    fputs("{\"x\": 1}", f);
    fclose(f);
    cr_expect_eq(pb_history_import(db, bad, err, sizeof err), -1);
    cr_expect(strstr(err, "not a pendbench result") != NULL, "%s", err);
    cr_expect_eq(pb_history_import(db, "/no/such/file.json", err, sizeof err), -1);
    cr_expect(strstr(err, "cannot open") != NULL, "%s", err);
    /* Not a regular file: refused at once (a FIFO without a writer blocked
     * the import, /dev/zero never ended); a NUL byte names its line. */
    char fifo[160];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
    cr_expect_eq(pb_history_import(db, fifo, err, sizeof err), -1);
    cr_expect(strstr(err, "not a regular file but a FIFO") != NULL, "%s", err);
    cr_expect_eq(pb_history_import(db, "/dev/zero", err, sizeof err), -1);
    cr_expect(strstr(err, "/dev/zero: not a regular file but a character device") != NULL, "%s",
              err);
    f = fopen(bad, "wb");
    fwrite("{\"x\":\n 1\0}", 1, 11, f);
    fclose(f);
    cr_expect_eq(pb_history_import(db, bad, err, sizeof err), -1);
    cr_expect(strstr(err, "bad.json:2: a NUL byte") != NULL, "%s", err);
}

/* Two clients with different machine identities in one history: a series
 * each, told apart by --machine. */
BOTH(two_machines_two_series)
{
    char a[160], b[160];
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", dir);
    write_result(a, "numa-box", "abcd1234", "2024-05-01T10:00:00Z", "run-a", "percpu-mpsc", 1e6);
    write_result(b, "arm-server", "abcd1234", "2024-05-01T10:05:00Z", "run-b", "percpu-mpsc", 3e6);
    cr_expect_eq(import(a), 1);
    cr_expect_eq(import(b), 1);
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    char *t = trend(&q, 2);
    cr_expect(strstr(t, "on numa-box (Test CPU; 4 PUs)") != NULL, "%s", t);
    cr_expect(strstr(t, "on arm-server (Test CPU; 4 PUs)") != NULL, "%s", t);
    cr_expect(strstr(t, "1000000 ops/s") != NULL && strstr(t, "3000000 ops/s") != NULL, "%s", t);
    free(t);
    q.machine = "arm-server";
    t = trend(&q, 1);
    cr_expect(strstr(t, "numa-box") == NULL && strstr(t, "3000000 ops/s") != NULL, "%s", t);
    free(t);
    q.machine = "numa-box (Test CPU; 4 PUs)";
    free(trend(&q, 1));
    q.machine = "laptop";
    free(trend(&q, 0));
}

/* A sweep's siblings (same scenario and strategies, another service
 * time) are separate series, labelled by what tells them apart. */
BOTH(sweep_siblings_never_merge)
{
    struct pb_context ctx;
    make_ctx(&ctx, "abcd1234", "2024-05-01T10:00:00Z");
    struct pb_run_result *runs = make_runs("percpu-mpsc", 1000, 1e6);
    struct pb_run_result *slow = make_runs("percpu-mpsc", 5000, 2e5);
    char err[512] = "";
    for (unsigned k = 0; k < REPS; k++)
        cr_assert_eq(pb_scenario_set(&slow[k].scenario, "service", "fixed:2000", err, sizeof err),
                     0, "%s", err);
    struct pb_run_result all[2 * REPS];
    for (unsigned k = 0; k < REPS; k++) {
        all[k] = runs[k];
        all[REPS + k] = slow[k];
    }
    cr_assert_eq(pb_history_record(db, &ctx, all, 2 * REPS, NULL, err, sizeof err), 0, "%s", err);
    struct pb_trend_query q = { .metric = PB_TREND_P50 };
    char *t = trend(&q, 2);
    cr_expect(strstr(t, "[service=fixed:0]") != NULL, "%s", t);
    cr_expect(strstr(t, "[service=fixed:2000]") != NULL, "%s", t);
    free(t);
    free(runs);
    free(slow);
}

/* Runs under different locks are series of their own, named with their
 * lock; a run under each strategy's own lock keeps the key of one recorded
 * before locks existed (the workload column carries a chosen lock: no
 * column of its own). */
BOTH(locks_are_series_of_their_own)
{
    /* Before locks: a file without the lock fields, imported. */
    char old[160], err[512] = "";
    snprintf(old, sizeof old, "%s/old.json", dir);
    write_result(old, "testhost", "abcd1234", "2024-05-01T10:00:00Z", "run-old", "global-mutex",
                 1e6);
    json_t *root = json_load_file(old, 0, NULL);
    cr_assert_not_null(root);
    size_t i;
    json_t *run;
    json_array_foreach(json_object_get(root, "runs"), i, run) {
        cr_assert_eq(json_object_del(json_object_get(run, "strategies"), "lock"), 0);
        cr_assert_eq(json_object_del(json_object_get(run, "strategies"), "locks_taken"), 0);
    }
    cr_assert_eq(json_dump_file(root, old, 0), 0);
    json_decref(root);
    cr_expect_eq(import(old), 1);
    /* Then one invocation under the default lock, mcs and tas. */
    static const char *const locks[3] = { "default", "mcs", "tas" };
    struct pb_run_result all[3 * REPS];
    for (unsigned l = 0; l < 3; l++) {
        struct pb_run_result *runs = make_runs("global-mutex", 1000 + 500 * l, 1e6 / (l + 1));
        for (unsigned k = 0; k < REPS; k++) {
            cr_assert_eq(pb_scenario_set(&runs[k].scenario, "lock", locks[l], err, sizeof err),
                         0, "%s", err);
            snprintf(runs[k].locks, sizeof runs[k].locks, "%s", l ? locks[l] : "pthread-mutex");
            runs[k].lock_acquisitions = 2000;
            all[l * REPS + k] = runs[k];
        }
        free(runs);
    }
    struct pb_context ctx;
    make_ctx(&ctx, "beef0001", "2024-05-02T10:00:00Z");
    snprintf(ctx.cpu_model, sizeof ctx.cpu_model, "Test CPU");   /* the same machine */
    ctx.ncpus_online = 4;
    pb_env_init(&ctx.env);
    cr_assert_eq(pb_history_record(db, &ctx, all, 3 * REPS, NULL, err, sizeof err), 0, "%s", err);

    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    char *t = trend(&q, 3);
    cr_expect(strstr(t, "steady  magazine/global-mutex/xchg  threads 1x1  on") != NULL, "%s", t);
    cr_expect(strstr(t, "steady  magazine/global-mutex/xchg [lock mcs]  threads 1x1  on") != NULL,
              "%s", t);
    cr_expect(strstr(t, "steady  magazine/global-mutex/xchg [lock tas]  threads 1x1  on") != NULL,
              "%s", t);
    cr_expect_null(strstr(t, "[lock=") , "the lock is no distinguishing label:\n%s", t);
    free(t);
    q.json = true;
    t = trend(&q, 3);
    json_t *doc = json_loads(t, 0, NULL);
    cr_assert_not_null(doc, "%s", t);
    json_t *blocks = json_object_get(doc, "blocks");
    unsigned seen = 0;
    json_t *b;
    json_array_foreach(blocks, i, b) {
        const char *lock = json_string_value(json_object_get(b, "lock"));
        const char *wl = json_string_value(json_object_get(b, "workload"));
        size_t npoints = json_array_size(json_object_get(b, "points"));
        cr_assert_not_null(lock);
        if (strcmp(lock, "default") == 0) {
            seen |= 1;
            cr_expect_null(strstr(wl, "lock"), "%s", wl);
            cr_expect_eq(npoints, 2, "the default run continues the series recorded before locks");
        } else {
            seen |= strcmp(lock, "mcs") == 0 ? 2 : strcmp(lock, "tas") == 0 ? 4 : 8;
            char item[32];
            snprintf(item, sizeof item, "lock=%s, ", lock);
            cr_expect(strstr(wl, item) != NULL, "%s", wl);
            cr_expect_eq(npoints, 1);
        }
    }
    cr_expect_eq(seen, 7);
    json_decref(doc);
    free(t);

    /* The recorded document reads back with its locks. */
    struct pb_result_doc last;
    cr_assert_eq(pb_history_find(db, "last", &last, err, sizeof err), 0, "%s", err);
    cr_assert_eq(last.nruns, 3 * REPS);
    cr_expect_str_eq(last.runs[0].r.scenario.lock, "");
    cr_expect_str_eq(last.runs[0].r.locks, "pthread-mutex");
    cr_expect_str_eq(last.runs[REPS].r.scenario.lock, "mcs");
    cr_expect_eq(last.runs[REPS].r.lock_acquisitions, 2000);
    pb_result_doc_free(&last);
}

BOTH(export_csv)
{
    record_three();
    struct pb_trend_query q = { .metric = PB_TREND_P99, .csv = true };
    char *t = trend(&q, 1);
    static const char header[] =
        "machine,host,scenario,pool,queue,handoff,workload,requesters,workers,metric,unit,"
        "invocation,date,git_commit,kernel,value,repetitions,partial,invariants_ok,"
        "others_pct_max,busy_repetitions\r\n";
    cr_expect(strncmp(t, header, strlen(header)) == 0, "%s", t);
    unsigned lines = 0;
    for (const char *c = t; (c = strstr(c, "\r\n")); c += 2)
        lines++;
    cr_expect_eq(lines, 4, "%s", t);
    cr_expect(strstr(t, "testhost,testhost,steady,magazine,percpu-mpsc,xchg,\"") != NULL, "%s", t);
    cr_expect(strstr(t, ",p99,ns,") != NULL && strstr(t, ",beef0001,") != NULL, "%s", t);
    free(t);
}

/* ---- change points on a real series ------------------------------------------------ */

/* Twelve builds of one machine, imported from their result files: on the
 * percpu-mpsc series throughput drops 20% from the eighth commit on; the
 * percpu-ring series of the same builds only wobbles. */
BOTH(changes_find_the_planted_step)
{
    static const double wobble[12] = { 1.3, -0.8, 0.4, -1.6, 0.9, -0.2, 1.1, -1.2, 0.6, -0.4,
                                       1.5, -0.9 };
    for (unsigned i = 0; i < 12; i++) {
        char path[160], commit[16], date[32], id[16];
        snprintf(commit, sizeof commit, "c%02u0beef", i);
        snprintf(date, sizeof date, "2024-05-%02uT10:00:00Z", i + 1);
        double base = (i >= 7 ? 0.8e6 : 1e6) * (1 + wobble[i] / 100);
        snprintf(path, sizeof path, "%s/mpsc%u.json", dir, i);
        snprintf(id, sizeof id, "m%u", i);
        write_result(path, "ci-1", commit, date, id, "percpu-mpsc", base);
        cr_expect_eq(import(path), 1);
        snprintf(path, sizeof path, "%s/ring%u.json", dir, i);
        snprintf(id, sizeof id, "r%u", i);
        write_result(path, "ci-1", commit, date, id, "percpu-ring", 1e6 * (1 + wobble[11 - i] / 100));
        cr_expect_eq(import(path), 1);
    }
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT, .json = true };
    struct pb_trend_changes c = { .alpha = 0.05, .seed = 1, .threshold_pct = 5 };
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    unsigned regressions = 99;
    char err[512] = "";
    int n = pb_export_trend_changes(m, db, &q, &c, &regressions, err, sizeof err);
    fclose(m);
    cr_assert_eq(n, 2, "%s\n%s", err, buf);
    cr_expect_eq(regressions, 1);
    json_t *doc = json_loads(buf, 0, NULL);
    cr_assert_not_null(doc, "%s", buf);
    json_t *blocks = json_object_get(doc, "blocks");
    json_t *mpsc = json_array_get(blocks, 0), *ring = json_array_get(blocks, 1);
    cr_expect_str_eq(json_string_value(json_object_get(mpsc, "queue")), "percpu-mpsc");
    json_t *changes = json_object_get(mpsc, "changes");
    cr_assert_eq(json_array_size(changes), 1, "%s", buf);
    json_t *ch = json_array_get(changes, 0);
    cr_expect_str_eq(json_string_value(json_object_get(ch, "commit")), "c070beef");
    cr_expect_str_eq(json_string_value(json_object_get(ch, "previous_commit")), "c060beef");
    double shift = json_real_value(json_object_get(ch, "shift"));
    cr_expect(shift < -0.17 && shift > -0.23, "shift %f", shift);
    cr_expect(json_real_value(json_object_get(ch, "p_value")) <= 0.05);
    cr_expect_str_eq(json_string_value(json_object_get(ch, "direction")), "regression");
    cr_expect(json_is_true(json_object_get(ch, "gate")));
    cr_expect_eq(json_array_size(json_object_get(ring, "changes")), 0, "%s", buf);
    json_decref(doc);
    free(buf);
    /* The text form names the commit; a threshold above the drop passes the gate. */
    q.json = false;
    c.threshold_pct = 25;
    buf = NULL;
    m = open_memstream(&buf, &size);
    n = pb_export_trend_changes(m, db, &q, &c, &regressions, err, sizeof err);
    fclose(m);
    cr_expect_eq(n, 2);
    cr_expect_eq(regressions, 0);
    cr_expect(strstr(buf, "change at c070beef") != NULL && strstr(buf, "regression") != NULL,
              "%s", buf);
    cr_expect(strstr(buf, "no change in 12 invocations") != NULL, "%s", buf);
    free(buf);
}

/* ---- PostgreSQL: a server that cannot be reached costs the record only ------------------ */

Test(history_pg, server_down)
{
    /* A socket directory with no server in it: as a stopped server. */
    snprintf(db, sizeof db, "postgresql:///pendbench?host=%s&user=postgres", dir);
    record_fails_keeping_result("cannot connect");
    expect_find_error("last", "cannot connect");
}

Test(history_pg, server_does_not_answer)
{
    /* Listens, never answers: libpq gives up after connect_timeout. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(s, 4), 0);
    socklen_t len = sizeof a;
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    snprintf(db, sizeof db, "postgresql://127.0.0.1:%u/pendbench?connect_timeout=2",
             ntohs(a.sin_port));
    record_fails_keeping_result("timeout");
    close(s);
}

Test(history_pg, login_refused_and_password_hidden)
{
    char uri[200];
    snprintf(uri, sizeof uri, "%.199s", db);
    *strstr(uri, "user=postgres") = 0;
    snprintf(db, sizeof db, "%suser=nobody_here", uri);
    record_fails_keeping_result("nobody_here");
    struct pb_context ctx;
    make_ctx(&ctx, "abcd1234", "2024-05-01T10:00:00Z");
    char err[512] = "";
    cr_expect_eq(pb_history_record("postgresql://me:s3cret@127.0.0.1:1/x", &ctx, NULL, 0, NULL,
                                   err, sizeof err), -1);
    cr_expect(strstr(err, "cannot connect") != NULL && strstr(err, "s3cret") == NULL, "%s", err);
    cr_expect(strstr(err, "postgresql://me:***@127.0.0.1:1/x") != NULL, "%s", err);
}

Test(history_pg, foreign_tables_refused)
{
    pg_exec("CREATE TABLE runs (x INTEGER)");
    record_fails_keeping_result("not a pendbench history");
}

Test(history_pg, empty_database)
{
    expect_find_error("last", "the history is empty");
    struct pb_trend_query q = { .metric = PB_TREND_THROUGHPUT };
    free(trend(&q, 0));
}
