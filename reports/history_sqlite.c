/* The history in a SQLite file (history_db.h).
 *
 * PRAGMA application_id marks the file as ours, so another program's
 * database is refused rather than written to; PRAGMA user_version is the
 * layout version. A writing transaction is BEGIN IMMEDIATE: the write lock
 * is taken first, so a second writer waits for the busy timeout rather
 * than failing half-way. Older layouts are read as they are and upgraded in
 * place by the first record written into them (ALTER TABLE in the
 * record's transaction). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "history_db.h"

#define HISTORY_APP_ID 0x50424853              /* "PBHS" */
#define BUSY_TIMEOUT_MS 2000

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS invocations ("
    " id INTEGER PRIMARY KEY,"
    " date TEXT NOT NULL,"
    " git_commit TEXT, host TEXT, cpu_model TEXT, kernel TEXT, compiler TEXT, cflags TEXT,"
    " topology TEXT, command TEXT,"
    " result_path TEXT, run_id TEXT,"
    " result_json TEXT NOT NULL,"
    " machine TEXT, topology_summary TEXT);"
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY,"
    " invocation_id INTEGER NOT NULL REFERENCES invocations(id) ON DELETE CASCADE,"
    " scenario TEXT NOT NULL, pool TEXT NOT NULL, queue TEXT NOT NULL, handoff TEXT NOT NULL,"
    " repetition INTEGER NOT NULL, requesters INTEGER, workers INTEGER,"
    " throughput_ops_s REAL, p50_ns INTEGER, p90_ns INTEGER, p99_ns INTEGER, p999_ns INTEGER,"
    " queue_wait_p50_ns INTEGER, service_p50_ns INTEGER, cancel_success_rate REAL,"
    " c2c_round_trip_ns REAL, invariants_ok INTEGER, partial INTEGER,"
    " workload TEXT, others_pct REAL);"
    "CREATE INDEX IF NOT EXISTS runs_by_strategies ON runs (scenario, pool, queue, handoff);"
    "CREATE INDEX IF NOT EXISTS runs_by_invocation ON runs (invocation_id);"
    "CREATE INDEX IF NOT EXISTS invocations_by_commit ON invocations (git_commit);"
    "CREATE INDEX IF NOT EXISTS invocations_by_run_id ON invocations (run_id);"
    "CREATE TABLE IF NOT EXISTS pendbench_compat (min_reader INTEGER NOT NULL,"
    " min_writer INTEGER NOT NULL);"
    "INSERT INTO pendbench_compat VALUES (4, 4);"
    "PRAGMA application_id = 1346521171;"      /* HISTORY_APP_ID */
    "PRAGMA user_version = 4;";

/* Version 1 -> 2: the invocation's identity. */
static const char upgrade_1_sql[] =
    "ALTER TABLE invocations ADD COLUMN run_id TEXT;"
    "CREATE INDEX IF NOT EXISTS invocations_by_run_id ON invocations (run_id);"
    "PRAGMA user_version = 2;";
/* Version 2 -> 3: the machine identity and the run's workload (NULL in
 * older rows: history.c falls back to the thread counts for those). */
static const char upgrade_2_sql[] =
    "ALTER TABLE invocations ADD COLUMN machine TEXT;"
    "ALTER TABLE invocations ADD COLUMN topology_summary TEXT;"
    "ALTER TABLE runs ADD COLUMN workload TEXT;"
    "PRAGMA user_version = 3;";
/* Version 3 -> 4: how busy the machine was in each run's window (history.c
 * fills it in for the old rows from their stored documents). */
static const char upgrade_3_sql[] =
    "ALTER TABLE runs ADD COLUMN others_pct REAL;"
    "CREATE TABLE pendbench_compat (min_reader INTEGER NOT NULL, min_writer INTEGER NOT NULL);"
    "INSERT INTO pendbench_compat VALUES (4, 4);"
    "PRAGMA user_version = 4;";

_Static_assert(HISTORY_APP_ID == 1346521171, "schema_sql spells the application id out");
_Static_assert(HDB_VERSION == 4 && HDB_MIN_READER == 4 && HDB_MIN_WRITER == 4,
               "schema_sql and the upgrades write version 4, compat (4, 4)");

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

static int fail(struct hdb *h, int rc, char *err, size_t errlen)
{
    return db_fail(h->conn, rc, h->name, err, errlen);
}

static int lite_open(struct hdb *h, const char *path, bool create, char *err, size_t errlen)
{
    snprintf(h->name, sizeof h->name, "%s", path);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!create && errno == ENOENT) {
            snprintf(err, errlen, "no history yet at %s (runs record there unless --no-history)",
                     path);
            return -2;
        }
    } else if (!S_ISREG(sb.st_mode)) {
        /* SQLite would open a device (and write its journal beside it, in
         * /dev as root) or fail late on a directory. */
        snprintf(err, errlen, "%s: not a regular file (a history is an SQLite file)", path);
        return -1;
    }
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        db_fail(db, rc, path, err, errlen);
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    h->conn = db;
    return 0;
}

static void lite_close(struct hdb *h)
{
    sqlite3_close(h->conn);
}

static int lite_begin(struct hdb *h, bool write, char *err, size_t errlen)
{
    int rc = sqlite3_exec(h->conn, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail(h, rc, err, errlen);
}

static int lite_commit(struct hdb *h, char *err, size_t errlen)
{
    int rc = sqlite3_exec(h->conn, "COMMIT", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : fail(h, rc, err, errlen);
}

static void lite_rollback(struct hdb *h)
{
    sqlite3_exec(h->conn, "ROLLBACK", NULL, NULL, NULL);
}

/* Steps one prepared statement, keeping its rows in res (may be NULL). */
static int step_all(sqlite3_stmt *st, struct hdb_res *res)
{
    int rc;
    unsigned ncols = (unsigned)sqlite3_column_count(st);
    if (res) {
        hdb_res_free(res);
        hdb_res_init(res, ncols);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!res)
            continue;
        struct hdb_cell *row = hdb_res_add_row(res);
        if (!row)
            return SQLITE_NOMEM;
        for (unsigned c = 0; c < ncols; c++) {
            switch (sqlite3_column_type(st, (int)c)) {
            case SQLITE_INTEGER:
                row[c].type = HDB_INT;
                row[c].i = sqlite3_column_int64(st, (int)c);
                break;
            case SQLITE_FLOAT:
                row[c].type = HDB_REAL;
                row[c].d = sqlite3_column_double(st, (int)c);
                break;
            case SQLITE_NULL:
                row[c].type = HDB_NULL;
                break;
            default: {
                const unsigned char *t = sqlite3_column_text(st, (int)c);
                row[c].type = HDB_TEXT;
                row[c].text = strdup(t ? (const char *)t : "");
                if (!row[c].text)
                    return SQLITE_NOMEM;
            }
            }
        }
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int lite_query(struct hdb *h, const char *sql, const char *const *params, unsigned nparams,
                      struct hdb_res *res, char *err, size_t errlen)
{
    const char *tail = sql;
    int rc = SQLITE_OK;
    while (rc == SQLITE_OK && tail && *tail) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(h->conn, tail, -1, &st, &tail);
        if (rc != SQLITE_OK || !st)
            break;                     /* an error, or only whitespace left */
        for (unsigned k = 0; k < nparams; k++) {
            char name[16];
            snprintf(name, sizeof name, "$%u", k + 1);
            int idx = sqlite3_bind_parameter_index(st, name);
            if (idx > 0 && params[k])
                sqlite3_bind_text(st, idx, params[k], -1, SQLITE_TRANSIENT);
        }
        bool has_rows = sqlite3_column_count(st) > 0;
        rc = step_all(st, has_rows ? res : NULL);
        sqlite3_finalize(st);
    }
    return rc == SQLITE_OK ? 0 : fail(h, rc, err, errlen);
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

static int lite_schema(struct hdb *h, bool create, char *err, size_t errlen)
{
    sqlite3 *db = h->conn;
    h->upgraded_from = 0;
    int64_t app_id, version, ntables;
    int rc = query_int(db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = query_int(db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = query_int(db, "SELECT count(*) FROM sqlite_master", &ntables);
    if (rc != SQLITE_OK)
        return fail(h, rc, err, errlen);
    if ((app_id != 0 && app_id != HISTORY_APP_ID) || (app_id == 0 && ntables > 0)) {
        snprintf(err, errlen,
                 "%s: not a pendbench history database or damaged (move it away to start a new one)",
                 h->name);
        return -1;
    }
    if (version > HDB_VERSION) {
        int64_t has_compat, min_reader = -1, min_writer = -1;
        rc = query_int(db, "SELECT count(*) FROM sqlite_master WHERE name = 'pendbench_compat'",
                       &has_compat);
        if (rc == SQLITE_OK && has_compat) {
            rc = query_int(db, "SELECT min_reader FROM pendbench_compat", &min_reader);
            if (rc == SQLITE_OK)
                rc = query_int(db, "SELECT min_writer FROM pendbench_compat", &min_writer);
        }
        if (rc != SQLITE_OK)
            return fail(h, rc, err, errlen);
        return hdb_newer_layout(h, version, min_reader, min_writer, create, "another file", err,
                                errlen);
    }
    if (ntables > 0 && (version < 1 || version > HDB_VERSION)) {
        snprintf(err, errlen, "%s: history layout version %lld is not one this pendbench reads",
                 h->name, (long long)version);
        return -1;
    }
    if (ntables == 0) {
        h->version = 0;
        if (!create)
            return 0;
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            return fail(h, rc, err, errlen);
        h->version = HDB_VERSION;
        return 0;
    }
    h->version = (int)version;
    if (!create || h->version == HDB_VERSION)
        return 0;                      /* read as it is */
    if (h->version == 1 && (rc = sqlite3_exec(db, upgrade_1_sql, NULL, NULL, NULL)) != SQLITE_OK)
        return fail(h, rc, err, errlen);
    if (h->version <= 2 && (rc = sqlite3_exec(db, upgrade_2_sql, NULL, NULL, NULL)) != SQLITE_OK)
        return fail(h, rc, err, errlen);
    if (h->version <= 3 && (rc = sqlite3_exec(db, upgrade_3_sql, NULL, NULL, NULL)) != SQLITE_OK)
        return fail(h, rc, err, errlen);
    h->upgraded_from = h->version;
    h->version = HDB_VERSION;
    return 0;
}

const struct hdb_ops hdb_sqlite_ops = {
    .kind = "SQLite",
    .open = lite_open,
    .close = lite_close,
    .begin = lite_begin,
    .commit = lite_commit,
    .rollback = lite_rollback,
    .schema = lite_schema,
    .query = lite_query,
};
