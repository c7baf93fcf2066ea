/* The run history in SQLite (pb_history.h), and its trend (pb_export.h).
 *
 * Layout (PRAGMA user_version 2; PRAGMA application_id marks the file as
 * ours, so another program's database is refused rather than written to):
 *   invocations  one row per recorded command: its context, its run_id
 *                (the identity of the invocation, so a result is never
 *                its own baseline), the result file's path (NULL when none
 *                was written) and the whole result document as text
 *                (result_json), so any past invocation can be read back
 *                exactly, histograms included.
 *   runs         one row per run (repetition) of an invocation: the key
 *                (scenario, strategies, thread counts) and the figures a
 *                trend follows.
 * A record is one transaction (BEGIN IMMEDIATE: the write lock is taken
 * first, so a second writer waits for the busy timeout rather than failing
 * half-way). Nothing here touches the result file: a damaged or locked
 * database costs the record, never the results.
 *
 * Version 1 (no run_id) is read as it is and upgraded in place by the
 * first record written into it (one ALTER TABLE in the record's
 * transaction). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "pb_export.h"
#include "pb_history.h"

#define HISTORY_VERSION 2
#define HISTORY_APP_ID 0x50424853              /* "PBHS" */
#define BUSY_TIMEOUT_MS 2000

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS invocations ("
    " id INTEGER PRIMARY KEY,"
    " date TEXT NOT NULL,"
    " git_commit TEXT, host TEXT, cpu_model TEXT, kernel TEXT, compiler TEXT, cflags TEXT,"
    " topology TEXT, command TEXT,"
    " result_path TEXT, run_id TEXT,"
    " result_json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY,"
    " invocation_id INTEGER NOT NULL REFERENCES invocations(id) ON DELETE CASCADE,"
    " scenario TEXT NOT NULL, pool TEXT NOT NULL, queue TEXT NOT NULL, handoff TEXT NOT NULL,"
    " repetition INTEGER NOT NULL, requesters INTEGER, workers INTEGER,"
    " throughput_ops_s REAL, p50_ns INTEGER, p90_ns INTEGER, p99_ns INTEGER, p999_ns INTEGER,"
    " queue_wait_p50_ns INTEGER, service_p50_ns INTEGER, cancel_success_rate REAL,"
    " c2c_round_trip_ns REAL, invariants_ok INTEGER, partial INTEGER);"
    "CREATE INDEX IF NOT EXISTS runs_by_strategies ON runs (scenario, pool, queue, handoff);"
    "CREATE INDEX IF NOT EXISTS runs_by_invocation ON runs (invocation_id);"
    "CREATE INDEX IF NOT EXISTS invocations_by_commit ON invocations (git_commit);"
    "CREATE INDEX IF NOT EXISTS invocations_by_run_id ON invocations (run_id);"
    "PRAGMA application_id = 1346521171;"      /* HISTORY_APP_ID */
    "PRAGMA user_version = 2;";

/* Version 1 -> 2: the invocation's identity. */
static const char upgrade_1_sql[] =
    "ALTER TABLE invocations ADD COLUMN run_id TEXT;"
    "CREATE INDEX IF NOT EXISTS invocations_by_run_id ON invocations (run_id);"
    "PRAGMA user_version = 2;";

_Static_assert(HISTORY_APP_ID == 1346521171, "schema_sql spells the application id out");

/* One message per kind of failure, naming the database. */
static int db_fail(sqlite3 *db, int rc, const char *path, char *err, size_t errlen)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        snprintf(err, errlen, "%s: the database is locked (another pendbench running?)", path);
        break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        snprintf(err, errlen,
                 "%s: not a pendbench history database or damaged (move it away to start a new one)",
                 path);
        break;
    case SQLITE_CANTOPEN: {
        int e = db ? sqlite3_system_errno(db) : 0;
        snprintf(err, errlen, "%s: cannot open: %s", path,
                 e ? strerror(e) : (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
        break;
    }
    case SQLITE_READONLY:
        snprintf(err, errlen, "%s: cannot write: the database is read-only", path);
        break;
    case SQLITE_FULL:
        snprintf(err, errlen, "%s: the disk is full", path);
        break;
    case SQLITE_NOMEM:
        snprintf(err, errlen, "%s: out of memory", path);
        break;
    default:
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        break;
    }
    return -1;
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A one-integer query (a PRAGMA). SQLITE_OK with *value, or the error. */
static int query_int(sqlite3 *db, const char *sql, int64_t *value)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        *value = 0;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int open_db(const char *path, bool create, sqlite3 **out, char *err, size_t errlen)
{
    *out = NULL;
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        db_fail(db, rc, path, err, errlen);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    *out = db;
    return 0;
}

enum schema_state { SCHEMA_OK, SCHEMA_OK_V1, SCHEMA_EMPTY };

/* Checks that the database is ours and of a layout this build reads.
 * create: make the tables of an empty database (inside the caller's
 * transaction). */
static int check_schema(sqlite3 *db, const char *path, bool create, enum schema_state *state,
                        char *err, size_t errlen)
{
    int64_t app_id, version, ntables;
    int rc = query_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = query_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = query_int(db, "SELECT count(*) FROM sqlite_master", &ntables);
    if (rc != SQLITE_OK)
        return db_fail(db, rc, path, err, errlen);
    if ((app_id != 0 && app_id != HISTORY_APP_ID) || (app_id == 0 && ntables > 0)) {
        snprintf(err, errlen,
                 "%s: not a pendbench history database or damaged (move it away to start a new one)",
                 path);
        return -1;
    }
    if (version > HISTORY_VERSION) {
        snprintf(err, errlen,
                 "%s: history layout version %lld is newer than this pendbench reads (%d); "
                 "use a newer pendbench, or --history-db another file",
                 path, (long long)version, HISTORY_VERSION);
        return -1;
    }
    if (ntables > 0 && version == HISTORY_VERSION) {
        *state = SCHEMA_OK;
        return 0;
    }
    if (ntables > 0 && version == 1) {
        if (!create) {                 /* read as it is: no run_id column */
            *state = SCHEMA_OK_V1;
            return 0;
        }
        rc = exec(db, upgrade_1_sql);
        if (rc != SQLITE_OK)
            return db_fail(db, rc, path, err, errlen);
        *state = SCHEMA_OK;
        return 0;
    }
    if (ntables > 0) {
        snprintf(err, errlen, "%s: history layout version %lld is not one this pendbench reads",
                 path, (long long)version);
        return -1;
    }
    if (!create) {
        *state = SCHEMA_EMPTY;
        return 0;
    }
    rc = exec(db, schema_sql);
    if (rc != SQLITE_OK)
        return db_fail(db, rc, path, err, errlen);
    *state = SCHEMA_OK;
    return 0;
}

/* ---- record ------------------------------------------------------------------------ */

/* The document as the result file has it, in memory. */
static char *document_text(const struct pb_context *ctx, const struct pb_run_result *runs,
                           unsigned nruns, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char e[256] = "";
    int rc = pb_result_write_stream(f, ctx, runs, nruns, e, sizeof e);
    if (fclose(f) != 0 || rc != 0) {
        snprintf(err, errlen, "cannot build the result document: %s", e[0] ? e : "out of memory");
        free(buf);
        return NULL;
    }
    return buf;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t size)
{
    if (s)
        sqlite3_bind_text(st, i, s, (int)strnlen(s, size), SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int64_t clamp_i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static int insert_rows(sqlite3 *db, const struct pb_context *ctx,
                       const struct pb_run_result *runs, unsigned nruns, const char *result_path,
                       const char *json)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "INSERT INTO invocations (date, git_commit, host, cpu_model, kernel,"
                                " compiler, cflags, topology, command, result_path, result_json,"
                                " run_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    char date[32];
    if (ctx->date[0]) {
        snprintf(date, sizeof date, "%s", ctx->date);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    bind_text(st, 1, date, sizeof date);
    bind_text(st, 2, ctx->git_commit, sizeof ctx->git_commit);
    bind_text(st, 3, ctx->host, sizeof ctx->host);
    bind_text(st, 4, ctx->cpu_model, sizeof ctx->cpu_model);
    bind_text(st, 5, ctx->kernel, sizeof ctx->kernel);
    bind_text(st, 6, ctx->compiler, sizeof ctx->compiler);
    bind_text(st, 7, ctx->cflags, sizeof ctx->cflags);
    bind_text(st, 8, ctx->topology, sizeof ctx->topology);
    bind_text(st, 9, ctx->command, sizeof ctx->command);
    bind_text(st, 10, result_path, 4096);
    sqlite3_bind_text(st, 11, json, -1, SQLITE_STATIC);
    bind_text(st, 12, ctx->run_id[0] ? ctx->run_id : NULL, sizeof ctx->run_id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    sqlite3_int64 inv = sqlite3_last_insert_rowid(db);
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO runs (invocation_id, scenario, pool, queue, handoff,"
                            " repetition, requesters, workers, throughput_ops_s, p50_ns, p90_ns,"
                            " p99_ns, p999_ns, queue_wait_p50_ns, service_p50_ns,"
                            " cancel_success_rate, c2c_round_trip_ns, invariants_ok, partial)"
                            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    for (unsigned i = 0; i < nruns && rc == SQLITE_OK; i++) {
        const struct pb_run_result *r = &runs[i];
        const struct pb_scenario *s = &r->scenario;
        sqlite3_bind_int64(st, 1, inv);
        bind_text(st, 2, s->name, sizeof s->name);
        bind_text(st, 3, s->pool, sizeof s->pool);
        bind_text(st, 4, s->queue, sizeof s->queue);
        bind_text(st, 5, s->handoff, sizeof s->handoff);
        sqlite3_bind_int64(st, 6, r->repetition);
        sqlite3_bind_int64(st, 7, s->requesters);
        sqlite3_bind_int64(st, 8, s->workers);
        /* Not finite (never expected): NULL rather than a value SQLite mangles. */
        if (isfinite(r->throughput_ops_s))
            sqlite3_bind_double(st, 9, r->throughput_ops_s);
        else
            sqlite3_bind_null(st, 9);
        sqlite3_bind_int64(st, 10, clamp_i64(pb_hist_percentile(&r->total, 50)));
        sqlite3_bind_int64(st, 11, clamp_i64(pb_hist_percentile(&r->total, 90)));
        sqlite3_bind_int64(st, 12, clamp_i64(pb_hist_percentile(&r->total, 99)));
        sqlite3_bind_int64(st, 13, clamp_i64(pb_hist_percentile(&r->total, 99.9)));
        sqlite3_bind_int64(st, 14, clamp_i64(pb_hist_percentile(&r->queue_wait, 50)));
        sqlite3_bind_int64(st, 15, clamp_i64(pb_hist_percentile(&r->service, 50)));
        if (isfinite(r->cancel.success_rate))
            sqlite3_bind_double(st, 16, r->cancel.success_rate);
        else
            sqlite3_bind_null(st, 16);
        sqlite3_bind_double(st, 17, isfinite(r->c2c_round_trip_ns) ? r->c2c_round_trip_ns : 0);
        sqlite3_bind_int(st, 18, r->invariants.ok ? 1 : 0);
        sqlite3_bind_int(st, 19, r->partial ? 1 : 0);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    return rc;
}

int pb_history_record(const char *db_path, const struct pb_context *ctx,
                      const struct pb_run_result *runs, unsigned nruns,
                      const char *result_path, char *err, size_t errlen)
{
    static const struct pb_context empty;
    if (!ctx)
        ctx = &empty;
    if (!runs)
        nruns = 0;
    /* Built before the database is opened: the lock is held for the
     * inserts only. */
    char *json = document_text(ctx, runs, nruns, err, errlen);
    if (!json)
        return -1;
    sqlite3 *db;
    if (open_db(db_path, true, &db, err, errlen) != 0) {
        free(json);
        return -1;
    }
    int ret = -1;
    int rc = exec(db, "BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) {
        db_fail(db, rc, db_path, err, errlen);
        goto out;
    }
    enum schema_state state;
    if (check_schema(db, db_path, true, &state, err, errlen) != 0)
        goto rollback;
    rc = insert_rows(db, ctx, runs, nruns, result_path, json);
    if (rc == SQLITE_OK)
        rc = exec(db, "COMMIT");
    if (rc != SQLITE_OK) {
        db_fail(db, rc, db_path, err, errlen);
        goto rollback;
    }
    ret = 0;
    goto out;
rollback:
    exec(db, "ROLLBACK");
out:
    sqlite3_close(db);
    free(json);
    return ret;
}

/* ---- find -------------------------------------------------------------------------- */

/* Opens an existing history for reading. -2: there is none at path. */
static int open_existing(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(path, &sb) != 0 && errno == ENOENT) {
        snprintf(err, errlen, "no history yet at %s (runs record there unless --no-history)", path);
        return -2;
    }
    return open_db(path, false, db, err, errlen);
}

static bool is_hex(const char *s, size_t *len)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
              (s[n] >= 'A' && s[n] <= 'F')))
            return false;
    *len = n;
    return n > 0;
}

/* Two abbreviations of one commit: one is a prefix of the other. */
static bool same_commit(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return strncasecmp(a, b, la < lb ? la : lb) == 0;
}

/* What a baseline must come before (pb_history_find_before): NULL for
 * pb_history_find. */
static int find(const char *db_path, const char *spec, const struct pb_context *before,
                struct pb_result_doc *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    bool last = spec && strcmp(spec, "last") == 0;
    size_t speclen = 0;
    if (!last && (!spec || !is_hex(spec, &speclen) || speclen < 4)) {
        snprintf(err, errlen, "'%s' is neither 'last' nor a git commit (4 or more hex digits)",
                 spec ? spec : "");
        return -1;
    }
    sqlite3 *db;
    int o = open_existing(db_path, &db, err, errlen);
    if (o != 0)
        return -1;
    int ret = -1;
    sqlite3_stmt *st = NULL;
    int rc = exec(db, "BEGIN");
    if (rc != SQLITE_OK) {
        db_fail(db, rc, db_path, err, errlen);
        goto out;
    }
    enum schema_state state;
    if (check_schema(db, db_path, false, &state, err, errlen) != 0)
        goto out;
    int64_t count = 0;
    if (state != SCHEMA_EMPTY && (rc = query_int(db, "SELECT count(*) FROM invocations", &count)) != SQLITE_OK) {
        db_fail(db, rc, db_path, err, errlen);
        goto out;
    }
    if (count == 0) {
        snprintf(err, errlen, "%s: the history is empty (no run recorded yet)", db_path);
        goto out;
    }
    /* Before NEW: records older than NEW's own record when it is here;
     * otherwise started no later than NEW and not NEW itself. */
    char where[160] = "1";
    if (before) {
        sqlite3_int64 own = -1;
        if (state == SCHEMA_OK && before->run_id[0]) {
            rc = sqlite3_prepare_v2(db, "SELECT min(id) FROM invocations WHERE run_id = ?", -1,
                                    &st, NULL);
            if (rc == SQLITE_OK) {
                sqlite3_bind_text(st, 1, before->run_id, -1, SQLITE_TRANSIENT);
                if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                    if (sqlite3_column_type(st, 0) != SQLITE_NULL)
                        own = sqlite3_column_int64(st, 0);
                    rc = SQLITE_OK;
                }
            }
            sqlite3_finalize(st);
            st = NULL;
            if (rc != SQLITE_OK) {
                db_fail(db, rc, db_path, err, errlen);
                goto out;
            }
        }
        if (own >= 0)
            snprintf(where, sizeof where, "id < %lld", (long long)own);
        else if (state == SCHEMA_OK && before->run_id[0])
            snprintf(where, sizeof where, "date <= ?9 AND coalesce(run_id, '') <> ?8");
        else
            snprintf(where, sizeof where, "date < ?9");
    }
    sqlite3_int64 id = -1;
    char commit[64] = "";
    char sql[512];
    if (last) {
        snprintf(sql, sizeof sql,
                 "SELECT id, git_commit FROM invocations WHERE %s ORDER BY id DESC LIMIT 1", where);
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK && before) {
            sqlite3_bind_text(st, 8, before->run_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 9, before->date, -1, SQLITE_TRANSIENT);
        }
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            id = sqlite3_column_int64(st, 0);
            const unsigned char *c = sqlite3_column_text(st, 1);
            snprintf(commit, sizeof commit, "%s", c ? (const char *)c : "");
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            if (before)
                snprintf(err, errlen, "%s: no run recorded before %s (the history holds only it, "
                         "or later runs)", db_path, before->date[0] ? before->date : "NEW");
            else
                snprintf(err, errlen, "%s: the history is empty (no run recorded yet)", db_path);
            goto out;
        }
    } else {
        /* Either may be the shorter: a prefix given for a recorded commit, or
         * a full hash given for a recorded abbreviation. */
        /* A build with uncommitted changes ("abc1234-dirty") is not at
         * that commit: only clean records match. */
        snprintf(sql, sizeof sql,
                 "SELECT id, git_commit FROM invocations"
                 " WHERE ((length(git_commit) >= ?2 AND lower(substr(git_commit, 1, ?2)) = ?1)"
                 "    OR (length(git_commit) >= 4 AND length(git_commit) < ?2"
                 "        AND substr(?1, 1, length(git_commit)) = lower(git_commit)))"
                 "   AND git_commit NOT LIKE '%%-dirty' AND %s"
                 " ORDER BY id DESC", where);
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK && before) {
            sqlite3_bind_text(st, 8, before->run_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 9, before->date, -1, SQLITE_TRANSIENT);
        }
        char lower[128];
        snprintf(lower, sizeof lower, "%s", spec);
        for (char *p = lower; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p - 'A' + 'a');
        char others[256] = "";
        unsigned nothers = 0;
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, lower, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, (sqlite3_int64)strlen(lower));
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *c = (const char *)sqlite3_column_text(st, 1);
                if (!c)
                    continue;
                if (id < 0) {
                    id = sqlite3_column_int64(st, 0);
                    snprintf(commit, sizeof commit, "%s", c);
                } else if (!same_commit(commit, c) && !strstr(others, c)) {
                    size_t used = strlen(others);
                    snprintf(others + used, sizeof others - used, ", %s", c);
                    nothers++;
                }
            }
            if (rc == SQLITE_DONE)
                rc = SQLITE_OK;
        }
        if (rc == SQLITE_OK && id < 0) {
            snprintf(err, errlen, "%s: no run recorded at commit %s%s (`pendbench history` lists "
                     "them)", db_path, spec, before ? " before NEW with a clean tree" : "");
            goto out;
        }
        if (rc == SQLITE_OK && nothers) {
            snprintf(err, errlen, "%s: commit %s is ambiguous: %s%s (give more digits)", db_path,
                     spec, commit, others);
            goto out;
        }
    }
    if (rc != SQLITE_OK) {
        db_fail(db, rc, db_path, err, errlen);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    rc = sqlite3_prepare_v2(db, "SELECT result_json FROM invocations WHERE id = ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, id);
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_ROW) {
        db_fail(db, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, db_path, err, errlen);
        goto out;
    }
    const char *json = (const char *)sqlite3_column_text(st, 0);
    char name[4200];
    snprintf(name, sizeof name, "%s (invocation %lld at %s)", db_path, (long long)id,
             commit[0] ? commit : "an unknown commit");
    if (!json) {
        snprintf(err, errlen, "%s: no result document", name);
        goto out;
    }
    ret = pb_result_read_string(json, name, out, err, errlen);
out:
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    sqlite3_close(db);
    return ret;
}

int pb_history_find(const char *db_path, const char *spec, struct pb_result_doc *out, char *err,
                    size_t errlen)
{
    return find(db_path, spec, NULL, out, err, errlen);
}

int pb_history_find_before(const char *db_path, const char *spec, const struct pb_context *new_ctx,
                           struct pb_result_doc *out, char *err, size_t errlen)
{
    static const struct pb_context none;
    return find(db_path, spec, new_ctx ? new_ctx : &none, out, err, errlen);
}

/* ---- trend --------------------------------------------------------------------------- */

static const struct {
    const char *name, *column, *title;
    double percentile;                 /* latency: merge the repetitions' histograms */
} metrics[] = {
    [PB_TREND_THROUGHPUT] = { "throughput", "throughput_ops_s", "throughput (ops/s, median of repetitions)", 0 },
    [PB_TREND_P50] = { "p50", "p50_ns", "p50 latency (repetitions merged)", 50 },
    [PB_TREND_P90] = { "p90", "p90_ns", "p90 latency (repetitions merged)", 90 },
    [PB_TREND_P99] = { "p99", "p99_ns", "p99 latency (repetitions merged)", 99 },
    [PB_TREND_P999] = { "p999", "p999_ns", "p99.9 latency (repetitions merged)", 99.9 },
    [PB_TREND_CANCEL] = { "cancel", "cancel_success_rate", "cancel success rate (median of repetitions)", 0 },
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

int pb_trend_metric_parse(const char *name, enum pb_trend_metric *out)
{
    for (unsigned i = 0; name && i < NMETRICS; i++)
        if (strcmp(name, metrics[i].name) == 0) {
            *out = (enum pb_trend_metric)i;
            return 0;
        }
    return -1;
}

struct point {
    sqlite3_int64 invocation;
    char date[32], commit[48], host[64];
    double value;
    unsigned reps;
    bool partial, failed, approximate;
};

struct block {
    char scenario[PB_NAME_MAX], pool[PB_NAME_MAX], queue[PB_NAME_MAX], handoff[PB_NAME_MAX];
    unsigned requesters, workers;
    struct point *points;
    unsigned n, cap;
};

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The percentile of an invocation's merged repetitions, from its stored
 * document. -1 when the document cannot be read (a newer layout). */
static double merged_percentile(sqlite3 *db, sqlite3_int64 invocation, const struct block *b,
                                double percentile)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT result_json FROM invocations WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, invocation);
    double v = -1;
    struct pb_result_doc doc;
    char err[256];
    struct pb_hist *h = malloc(sizeof *h);
    if (h && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
        pb_result_read_string((const char *)sqlite3_column_text(st, 0), "history", &doc, err,
                              sizeof err) == 0) {
        pb_hist_init(h);
        for (unsigned i = 0; i < doc.nruns; i++) {
            const struct pb_run_result *r = &doc.runs[i].r;
            if (strcmp(r->scenario.name, b->scenario) == 0 && strcmp(r->scenario.pool, b->pool) == 0 &&
                strcmp(r->scenario.queue, b->queue) == 0 &&
                strcmp(r->scenario.handoff, b->handoff) == 0 &&
                r->scenario.requesters == b->requesters && r->scenario.workers == b->workers)
                pb_hist_merge(h, &r->total);
        }
        if (h->count)
            v = (double)pb_hist_percentile(h, percentile);
        pb_result_doc_free(&doc);
    }
    free(h);
    sqlite3_finalize(st);
    return v;
}

static void fmt_value(enum pb_trend_metric m, double v, char *buf, size_t size)
{
    if (m == PB_TREND_THROUGHPUT)
        snprintf(buf, size, "%.0f ops/s", v);
    else if (m == PB_TREND_CANCEL)
        snprintf(buf, size, "%.1f%%", 100 * v);
    else if (v < 1000)
        snprintf(buf, size, "%.0f ns", v);
    else if (v < 1e6)
        snprintf(buf, size, "%.2f us", v / 1e3);
    else if (v < 1e9)
        snprintf(buf, size, "%.2f ms", v / 1e6);
    else
        snprintf(buf, size, "%.2f s", v / 1e9);
}

static void print_block_text(FILE *out, const struct block *b, unsigned first,
                             enum pb_trend_metric m)
{
    fprintf(out, "%s  %s/%s/%s  threads %ux%u  %s\n", b->scenario, b->pool, b->queue, b->handoff,
            b->requesters, b->workers, metrics[m].title);
    fprintf(out, "  %-20s  %-12s  %-16s  %14s  %8s\n", "date", "commit", "host", metrics[m].name,
            "change");
    double lo = INFINITY, hi = -INFINITY;
    for (unsigned i = first; i < b->n; i++) {
        const struct point *p = &b->points[i];
        char value[32], change[16] = "";
        fmt_value(m, p->value, value, sizeof value);
        if (i > first && b->points[i - 1].value != 0)
            snprintf(change, sizeof change, "%+.1f%%",
                     100 * (p->value - b->points[i - 1].value) / fabs(b->points[i - 1].value));
        fprintf(out, "  %-20.20s  %-12.12s  %-16.16s  %14s  %8s%s%s%s\n", p->date, p->commit,
                p->host, value, change, p->approximate ? "  (median of repetitions)" : "",
                p->partial ? "  (partial)" : "", p->failed ? "  invariants FAILED" : "");
        if (p->value < lo)
            lo = p->value;
        if (p->value > hi)
            hi = p->value;
    }
    static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    fprintf(out, "  trend ");
    for (unsigned i = first; i < b->n; i++) {
        int level = hi > lo ? (int)lrint(7 * (b->points[i].value - lo) / (hi - lo)) : 3;
        fputs(bars[level < 0 ? 0 : level > 7 ? 7 : level], out);
    }
    char a[32], c[32];
    fmt_value(m, lo, a, sizeof a);
    fmt_value(m, hi, c, sizeof c);
    fprintf(out, "  %u invocation%s, %s to %s\n\n", b->n - first, b->n - first == 1 ? "" : "s", a,
            c);
}

static json_t *block_json(const struct block *b, unsigned first, enum pb_trend_metric m)
{
    json_t *points = json_array();
    for (unsigned i = first; i < b->n; i++) {
        const struct point *p = &b->points[i];
        double prev = i > first ? b->points[i - 1].value : 0;
        /* How the repetitions became one value: a median, or (latency) the
         * percentile of their merged histograms. */
        bool median = p->reps > 1 && (metrics[m].percentile == 0 || p->approximate);
        json_array_append_new(
            points, json_pack("{s:I, s:s, s:s, s:s, s:f, s:o, s:i, s:b, s:b, s:b}", "invocation",
                              (json_int_t)p->invocation, "date", p->date, "commit", p->commit,
                              "host", p->host, "value", isfinite(p->value) ? p->value : 0.0,
                              "change", prev != 0 ? json_real((p->value - prev) / fabs(prev))
                                                  : json_null(),
                              "repetitions", (int)p->reps, "partial", p->partial,
                              "invariants_ok", !p->failed, "median_of_repetitions", median));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:o}", "scenario", b->scenario, "pool",
                     b->pool, "queue", b->queue, "handoff", b->handoff, "requesters",
                     (int)b->requesters, "workers", (int)b->workers, "points", points);
}

/* "POOL/QUEUE/HANDOFF" into three filters (NULL: any). */
static int split_strategies(const char *s, char parts[3][PB_NAME_MAX], const char *filter[3],
                            char *err, size_t errlen)
{
    filter[0] = filter[1] = filter[2] = NULL;
    if (!s)
        return 0;
    const char *p = s;
    for (int k = 0; k < 3; k++) {
        const char *slash = strchr(p, '/');
        if ((k < 2) != (slash != NULL)) {
            snprintf(err, errlen, "--strategies '%s': expected POOL/QUEUE/HANDOFF ('*' for any)", s);
            return -1;
        }
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len >= PB_NAME_MAX) {
            snprintf(err, errlen, "--strategies '%s': a name is too long", s);
            return -1;
        }
        memcpy(parts[k], p, len);
        parts[k][len] = 0;
        if (len && strcmp(parts[k], "*") != 0)
            filter[k] = parts[k];
        p = slash ? slash + 1 : p + len;
    }
    return 0;
}

static void copy_col(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* Finishes an invocation's point: its value from the repetitions' values. */
static void finish_point(sqlite3 *db, struct block *b, double *vals, enum pb_trend_metric m)
{
    struct point *p = &b->points[b->n - 1];
    if (metrics[m].percentile > 0 && p->reps > 1) {
        double v = merged_percentile(db, p->invocation, b, metrics[m].percentile);
        if (v >= 0) {
            p->value = v;
            return;
        }
        p->approximate = true;
    }
    p->value = median(vals, p->reps);
}

int pb_export_trend(FILE *out, const char *db_path, const struct pb_trend_query *q, char *err,
                    size_t errlen)
{
    if ((unsigned)q->metric >= NMETRICS) {
        snprintf(err, errlen, "unknown metric %d", (int)q->metric);
        return -1;
    }
    char parts[3][PB_NAME_MAX];
    const char *filter[3];
    if (split_strategies(q->strategies, parts, filter, err, errlen) != 0)
        return -1;
    sqlite3 *db;
    int o = open_existing(db_path, &db, err, errlen);
    if (o != 0)
        return o;
    int ret = -1;
    sqlite3_stmt *st = NULL;
    struct block *blocks = NULL;
    unsigned nblocks = 0, cap = 0;
    double *vals = NULL;
    unsigned valcap = 0;
    int rc = exec(db, "BEGIN");
    if (rc != SQLITE_OK) {
        db_fail(db, rc, db_path, err, errlen);
        goto out;
    }
    enum schema_state state;
    if (check_schema(db, db_path, false, &state, err, errlen) != 0)
        goto out;
    if (state != SCHEMA_EMPTY) {
        char sql[1024];
        /* The column comes from the table above, never from the user. */
        snprintf(sql, sizeof sql,
                 "SELECT r.invocation_id, i.date, i.git_commit, i.host, r.scenario, r.pool,"
                 " r.queue, r.handoff, r.requesters, r.workers, r.%s, r.partial, r.invariants_ok"
                 " FROM runs r JOIN invocations i ON i.id = r.invocation_id"
                 " WHERE (?1 IS NULL OR r.scenario = ?1) AND (?2 IS NULL OR r.pool = ?2)"
                 " AND (?3 IS NULL OR r.queue = ?3) AND (?4 IS NULL OR r.handoff = ?4)"
                 " ORDER BY r.scenario, r.pool, r.queue, r.handoff, r.requesters, r.workers,"
                 " r.invocation_id, r.repetition",
                 metrics[q->metric].column);
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK) {
            if (q->scenario)
                sqlite3_bind_text(st, 1, q->scenario, -1, SQLITE_TRANSIENT);
            for (int k = 0; k < 3; k++)
                if (filter[k])
                    sqlite3_bind_text(st, 2 + k, filter[k], -1, SQLITE_TRANSIENT);
        }
        struct block key;
        while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            rc = SQLITE_OK;
            memset(&key, 0, sizeof key);
            copy_col(key.scenario, sizeof key.scenario, st, 4);
            copy_col(key.pool, sizeof key.pool, st, 5);
            copy_col(key.queue, sizeof key.queue, st, 6);
            copy_col(key.handoff, sizeof key.handoff, st, 7);
            key.requesters = (unsigned)sqlite3_column_int(st, 8);
            key.workers = (unsigned)sqlite3_column_int(st, 9);
            struct block *b = nblocks ? &blocks[nblocks - 1] : NULL;
            if (!b || strcmp(b->scenario, key.scenario) || strcmp(b->pool, key.pool) ||
                strcmp(b->queue, key.queue) || strcmp(b->handoff, key.handoff) ||
                b->requesters != key.requesters || b->workers != key.workers) {
                if (b && b->n)
                    finish_point(db, b, vals, q->metric);
                if (nblocks == cap) {
                    cap = cap ? 2 * cap : 8;
                    struct block *nb = realloc(blocks, cap * sizeof *nb);
                    if (!nb) {
                        rc = SQLITE_NOMEM;
                        break;
                    }
                    blocks = nb;
                }
                blocks[nblocks++] = key;
                b = &blocks[nblocks - 1];
            }
            sqlite3_int64 inv = sqlite3_column_int64(st, 0);
            if (!b->n || b->points[b->n - 1].invocation != inv) {
                if (b->n)
                    finish_point(db, b, vals, q->metric);
                if (b->n == b->cap) {
                    b->cap = b->cap ? 2 * b->cap : 16;
                    struct point *np = realloc(b->points, b->cap * sizeof *np);
                    if (!np) {
                        rc = SQLITE_NOMEM;
                        break;
                    }
                    b->points = np;
                }
                struct point *p = &b->points[b->n++];
                memset(p, 0, sizeof *p);
                p->invocation = inv;
                copy_col(p->date, sizeof p->date, st, 1);
                copy_col(p->commit, sizeof p->commit, st, 2);
                copy_col(p->host, sizeof p->host, st, 3);
            }
            struct point *p = &b->points[b->n - 1];
            if (p->reps == valcap) {
                valcap = valcap ? 2 * valcap : 16;
                double *nv = realloc(vals, valcap * sizeof *nv);
                if (!nv) {
                    rc = SQLITE_NOMEM;
                    break;
                }
                vals = nv;
            }
            vals[p->reps++] = sqlite3_column_double(st, 10);
            p->partial |= sqlite3_column_int(st, 11) != 0;
            p->failed |= sqlite3_column_int(st, 12) == 0;
        }
        if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
            if (nblocks && blocks[nblocks - 1].n)
                finish_point(db, &blocks[nblocks - 1], vals, q->metric);
        }
        if (rc != SQLITE_OK) {
            db_fail(db, rc, db_path, err, errlen);
            goto out;
        }
    }
    json_t *doc = NULL, *list = NULL;
    if (q->json) {
        list = json_array();
        doc = json_pack("{s:s, s:s, s:s, s:o}", "database", db_path, "metric",
                        metrics[q->metric].name, "unit",
                        q->metric == PB_TREND_THROUGHPUT ? "ops/s"
                        : q->metric == PB_TREND_CANCEL   ? "fraction"
                                                         : "ns",
                        "blocks", list);
    }
    for (unsigned i = 0; i < nblocks; i++) {
        unsigned first = q->limit && blocks[i].n > q->limit ? blocks[i].n - q->limit : 0;
        if (q->json)
            json_array_append_new(list, block_json(&blocks[i], first, q->metric));
        else
            print_block_text(out, &blocks[i], first, q->metric);
    }
    if (q->json) {
        if (!doc || json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
            snprintf(err, errlen, "cannot write the trend (out of memory?)");
            json_decref(doc);
            goto out;
        }
        fputc('\n', out);
        json_decref(doc);
    }
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "write error");
        goto out;
    }
    ret = (int)nblocks;
out:
    sqlite3_finalize(st);
    exec(db, "COMMIT");
    sqlite3_close(db);
    for (unsigned i = 0; i < nblocks; i++)
        free(blocks[i].points);
    free(blocks);
    free(vals);
    return ret;
}
