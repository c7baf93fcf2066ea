/* The run history (pb_history.h) and its trend (pb_export.h): invocations
 * recorded at fake commits and found again ("last", prefixes, a full hash
 * for a recorded abbreviation; ambiguous, unknown and malformed specs);
 * the trend table and its JSON; and the failures that must be clear and
 * must never cost the result file: a locked database, a damaged one,
 * another program's database, a newer layout. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_export.h"
#include "pb_history.h"
#include "pb_result.h"

#define REPS 2

static char dir[64], db[128];

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

static void record(const char *commit, const char *date, uint64_t base, double throughput)
{
    struct pb_context ctx;
    make_ctx(&ctx, commit, date);
    struct pb_run_result *runs = make_runs("percpu-mpsc", base, throughput);
    char err[512] = "";
    cr_assert_eq(pb_history_record(db, &ctx, runs, REPS, NULL, err, sizeof err), 0, "%s", err);
    free(runs);
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

Test(history, record_and_find)
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
Test(history, same_commit_twice)
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
    cr_expect_eq(sqlite3_column_int(v, 0), 2);
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

Test(history, trend_text)
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

Test(history, trend_blocks_and_json)
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

Test(history, newer_layout_refused)
{
    record_three();
    sqlite3 *h;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    cr_assert_eq(sqlite3_exec(h, "PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    record_fails_keeping_result("history layout version 3 is newer than this pendbench reads (2)");
    expect_find_error("last", "newer than this pendbench reads");
}

Test(history, missing_directory)
{
    snprintf(db, sizeof db, "%s/no/such/dir/history.db", dir);
    record_fails_keeping_result("cannot open");
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

Test(history, baseline_is_never_the_run_itself)
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

Test(history, dirty_builds_are_not_at_their_commit)
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
