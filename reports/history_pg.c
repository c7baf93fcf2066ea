/* The history on a PostgreSQL server, through libpq (history_db.h).
 *
 * The layout is history.c's, with the types PostgreSQL needs (BIGSERIAL
 * ids, BIGINT nanoseconds, DOUBLE PRECISION figures: its REAL is 4 bytes)
 * and its version in a table of its own, pendbench_schema, which also
 * marks the database as ours: tables named invocations or runs without it
 * belong to someone else and are refused; layout 3, the first a server
 * held, is read as it is and upgraded by the next record (upgrade_3_sql).
 * A writing transaction first
 * takes a transaction-level advisory lock, so two clients creating the
 * tables, or importing the same result, never race.
 *
 * A server that is down, refuses the login or does not answer within
 * connect_timeout (10 s unless the URI or PGCONNECT_TIMEOUT says) is an
 * error naming the server; the caller turns it into a warning. Passwords
 * never appear in messages.
 *
 * libpq is loaded (dlopen) when a server history is first opened, not
 * linked: it brings some twenty libraries (TLS, Kerberos, LDAP) whose
 * loading was most of pendbench's start-up (about 20 ms of a 26 ms
 * `pendbench run --bad-option`), paid by every command. A machine
 * without libpq runs everything else and gets a clear error here. */
#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history_db.h"

#define LOCK_KEY "1346521171"                  /* "PBHS", as the SQLite application id */
#define DEFAULT_CONNECT_TIMEOUT "10"

#define LIBPQ "libpq.so.5"

/* The libpq functions used here, by their own names and types. */
#define PQ_FUNCTIONS(X) X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) \
    X(PQsetNoticeProcessor) X(PQresultErrorMessage) X(PQclear) X(PQexecParams) X(PQexec) \
    X(PQresultStatus) X(PQnfields) X(PQntuples) X(PQgetisnull) X(PQgetvalue)

static struct {
#define PQ_MEMBER(f) __typeof__(&f) f;
    PQ_FUNCTIONS(PQ_MEMBER)
#undef PQ_MEMBER
} pq;
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static char pq_missing[300];           /* why libpq could not be loaded; empty when it was */

static void pq_load(void)
{
    /* Kept loaded for the life of the program (never dlclose'd): the
     * connections' functions must stay. */
    void *lib = dlopen(LIBPQ, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(pq_missing, sizeof pq_missing, "%s", e ? e : LIBPQ ": cannot load");
        return;
    }
#define PQ_BIND(f)                                                                        \
    if (!(pq.f = (__typeof__(&f))dlsym(lib, #f))) {                                       \
        snprintf(pq_missing, sizeof pq_missing, LIBPQ " lacks %s (too old a libpq)", #f); \
        return;                                                                           \
    }
    PQ_FUNCTIONS(PQ_BIND)
#undef PQ_BIND
}

static const char schema_sql[] =
    "CREATE TABLE pendbench_schema (version INTEGER NOT NULL);"
    "INSERT INTO pendbench_schema VALUES (4);"
    "CREATE TABLE pendbench_compat (min_reader INTEGER NOT NULL, min_writer INTEGER NOT NULL);"
    "INSERT INTO pendbench_compat VALUES (4, 4);"
    "CREATE TABLE invocations ("
    " id BIGSERIAL PRIMARY KEY,"
    " date TEXT NOT NULL,"
    " git_commit TEXT, host TEXT, cpu_model TEXT, kernel TEXT, compiler TEXT, cflags TEXT,"
    " topology TEXT, command TEXT,"
    " result_path TEXT, run_id TEXT,"
    " result_json TEXT NOT NULL,"
    " machine TEXT, topology_summary TEXT);"
    "CREATE TABLE runs ("
    " id BIGSERIAL PRIMARY KEY,"
    " invocation_id BIGINT NOT NULL REFERENCES invocations(id) ON DELETE CASCADE,"
    " scenario TEXT NOT NULL, pool TEXT NOT NULL, queue TEXT NOT NULL, handoff TEXT NOT NULL,"
    " repetition INTEGER NOT NULL, requesters INTEGER, workers INTEGER,"
    " throughput_ops_s DOUBLE PRECISION, p50_ns BIGINT, p90_ns BIGINT, p99_ns BIGINT,"
    " p999_ns BIGINT, queue_wait_p50_ns BIGINT, service_p50_ns BIGINT,"
    " cancel_success_rate DOUBLE PRECISION, c2c_round_trip_ns DOUBLE PRECISION,"
    " invariants_ok INTEGER, partial INTEGER,"
    " workload TEXT, others_pct DOUBLE PRECISION);"
    "CREATE INDEX runs_by_strategies ON runs (scenario, pool, queue, handoff);"
    "CREATE INDEX runs_by_invocation ON runs (invocation_id);"
    "CREATE INDEX invocations_by_commit ON invocations (git_commit);"
    "CREATE INDEX invocations_by_run_id ON invocations (run_id);"
    "CREATE INDEX invocations_by_machine ON invocations (machine, date);";

/* Version 3 (the first a server held) -> 4: how busy the machine was in
 * each run's window (history.c fills it in for the old rows from their
 * stored documents). */
static const char upgrade_3_sql[] =
    "ALTER TABLE runs ADD COLUMN others_pct DOUBLE PRECISION;"
    "CREATE TABLE pendbench_compat (min_reader INTEGER NOT NULL, min_writer INTEGER NOT NULL);"
    "INSERT INTO pendbench_compat VALUES (4, 4);"
    "UPDATE pendbench_schema SET version = 4;";

_Static_assert(HDB_VERSION == 4 && HDB_MIN_READER == 4 && HDB_MIN_WRITER == 4,
               "schema_sql and the upgrade write version 4, compat (4, 4)");

/* libpq's message on one line ("connection to server ... failed: ..."). */
static void one_line(const char *msg, char *out, size_t size)
{
    size_t o = 0;
    bool space = false;
    for (const char *p = msg ? msg : ""; *p && o + 1 < size; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < size)
            out[o++] = ' ';
        space = false;
        out[o++] = *p;
    }
    out[o] = 0;
}

/* The URI without its password ("postgresql://me:***@host/db"), and
 * without a password= parameter's value. */
static void redact(const char *spec, char *out, size_t size)
{
    snprintf(out, size, "%s", spec);
    char *scheme = strstr(out, "://");
    if (scheme) {
        char *auth = scheme + 3;
        char *at = strchr(auth, '@');
        char *slash = strchr(auth, '/');
        char *colon = strchr(auth, ':');
        if (at && (!slash || at < slash) && colon && colon < at) {
            char rest[512];
            snprintf(rest, sizeof rest, "%s", at);
            snprintf(colon, size - (size_t)(colon - out), ":***%s", rest);
        }
    }
    char *pw = strstr(out, "password=");
    if (pw) {
        char *end = strchr(pw, '&');
        char rest[512];
        snprintf(rest, sizeof rest, "%s", end ? end : "");
        snprintf(pw, size - (size_t)(pw - out), "password=***%s", rest);
    }
}

static void ignore_notice(void *arg, const char *message)
{
    (void)arg, (void)message;          /* "relation already exists, skipping" and the like */
}

static int pg_open(struct hdb *h, const char *spec, bool create, char *err, size_t errlen)
{
    (void)create;                      /* a server's database is made by its owner */
    pthread_once(&pq_once, pq_load);
    if (pq_missing[0]) {
        snprintf(err, errlen, "a PostgreSQL history needs libpq (apt-get install libpq5): %s",
                 pq_missing);
        return -1;
    }
    if (strcmp(spec, "postgresql:") == 0)
        snprintf(h->name, sizeof h->name, "postgresql: (the PG* environment)");
    else
        redact(spec, h->name, sizeof h->name);
    /* The timeout first: the URI's own connect_timeout, expanded from
     * dbname after it, wins. */
    const char *keys[4], *values[4];
    unsigned n = 0;
    if (!getenv("PGCONNECT_TIMEOUT")) {
        keys[n] = "connect_timeout";
        values[n++] = DEFAULT_CONNECT_TIMEOUT;
    }
    keys[n] = "application_name";
    values[n++] = "pendbench";
    if (strcmp(spec, "postgresql:") != 0) {
        keys[n] = "dbname";
        values[n++] = spec;
    }
    keys[n] = NULL;
    values[n] = NULL;
    PGconn *c = pq.PQconnectdbParams(keys, values, 1);
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", h->name);
        return -1;
    }
    if (pq.PQstatus(c) != CONNECTION_OK) {
        char msg[400];
        one_line(pq.PQerrorMessage(c), msg, sizeof msg);
        snprintf(err, errlen, "%s: cannot connect: %s", h->name, msg);
        pq.PQfinish(c);
        return -1;
    }
    pq.PQsetNoticeProcessor(c, ignore_notice, NULL);
    h->conn = c;
    return 0;
}

static void pg_close(struct hdb *h)
{
    pq.PQfinish(h->conn);
}

static int fail_res(struct hdb *h, PGresult *r, char *err, size_t errlen)
{
    char msg[400];
    const char *m = r ? pq.PQresultErrorMessage(r) : NULL;
    one_line(m && *m ? m : pq.PQerrorMessage(h->conn), msg, sizeof msg);
    if (pq.PQstatus(h->conn) != CONNECTION_OK)
        snprintf(err, errlen, "%s: the connection to the server was lost: %s", h->name, msg);
    else
        snprintf(err, errlen, "%s: %s", h->name, msg);
    pq.PQclear(r);
    return -1;
}

static int pg_query(struct hdb *h, const char *sql, const char *const *params, unsigned nparams,
                    struct hdb_res *res, char *err, size_t errlen)
{
    PGresult *r = nparams ? pq.PQexecParams(h->conn, sql, (int)nparams, NULL, params, NULL, NULL, 0)
                          : pq.PQexec(h->conn, sql);
    ExecStatusType s = r ? pq.PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        return fail_res(h, r, err, errlen);
    if (res) {
        hdb_res_free(res);
        hdb_res_init(res, (unsigned)pq.PQnfields(r));
        int nrows = pq.PQntuples(r);
        for (int i = 0; i < nrows; i++) {
            struct hdb_cell *row = hdb_res_add_row(res);
            if (!row) {
                pq.PQclear(r);
                snprintf(err, errlen, "%s: out of memory", h->name);
                return -1;
            }
            for (unsigned c = 0; c < res->ncols; c++) {
                if (pq.PQgetisnull(r, i, (int)c))
                    continue;
                row[c].type = HDB_TEXT;
                row[c].text = strdup(pq.PQgetvalue(r, i, (int)c));
                if (!row[c].text) {
                    pq.PQclear(r);
                    snprintf(err, errlen, "%s: out of memory", h->name);
                    return -1;
                }
            }
        }
    }
    pq.PQclear(r);
    return 0;
}

static int pg_begin(struct hdb *h, bool write, char *err, size_t errlen)
{
    return pg_query(h, write ? "BEGIN; SELECT pg_advisory_xact_lock(" LOCK_KEY ")" : "BEGIN",
                    NULL, 0, NULL, err, errlen);
}

static int pg_commit(struct hdb *h, char *err, size_t errlen)
{
    return pg_query(h, "COMMIT", NULL, 0, NULL, err, errlen);
}

static void pg_rollback(struct hdb *h)
{
    pq.PQclear(pq.PQexec(h->conn, "ROLLBACK"));
}

static int pg_schema(struct hdb *h, bool create, char *err, size_t errlen)
{
    h->upgraded_from = 0;
    struct hdb_res res = { 0 };
    if (pg_query(h,
                 "SELECT CASE WHEN to_regclass('pendbench_schema') IS NULL THEN 0 ELSE 1 END,"
                 " CASE WHEN to_regclass('invocations') IS NULL AND to_regclass('runs') IS NULL"
                 " THEN 0 ELSE 1 END",
                 NULL, 0, &res, err, errlen) != 0)
        return -1;
    bool ours = hdb_int(&res, 0, 0) != 0, tables = hdb_int(&res, 0, 1) != 0;
    hdb_res_free(&res);
    if (!ours && tables) {
        snprintf(err, errlen,
                 "%s: holds tables named invocations or runs that are not a pendbench history "
                 "(no pendbench_schema table); use another database", h->name);
        return -1;
    }
    if (!ours) {
        h->version = 0;
        if (!create)
            return 0;
        if (pg_query(h, schema_sql, NULL, 0, NULL, err, errlen) != 0)
            return -1;
        h->version = HDB_VERSION;
        return 0;
    }
    if (pg_query(h, "SELECT max(version) FROM pendbench_schema", NULL, 0, &res, err, errlen) != 0)
        return -1;
    int64_t version = hdb_int(&res, 0, 0);
    hdb_res_free(&res);
    if (version > HDB_VERSION) {
        int64_t min_reader = -1, min_writer = -1;
        if (pg_query(h, "SELECT to_regclass('pendbench_compat') IS NOT NULL", NULL, 0, &res, err,
                     errlen) != 0)
            return -1;
        bool has_compat = res.nrows && hdb_text(&res, 0, 0)[0] == 't';
        hdb_res_free(&res);
        if (has_compat) {
            if (pg_query(h, "SELECT min_reader, min_writer FROM pendbench_compat", NULL, 0, &res,
                         err, errlen) != 0)
                return -1;
            if (res.nrows) {
                min_reader = hdb_int(&res, 0, 0);
                min_writer = hdb_int(&res, 0, 1);
            }
            hdb_res_free(&res);
        }
        return hdb_newer_layout(h, version, min_reader, min_writer, create, "another database",
                                err, errlen);
    }
    if (version < 3) {
        /* No older layout was ever written to a server. */
        snprintf(err, errlen, "%s: history layout version %lld is not one this pendbench reads",
                 h->name, (long long)version);
        return -1;
    }
    h->version = (int)version;
    if (!create || version == HDB_VERSION)
        return 0;                      /* read as it is */
    if (pg_query(h, upgrade_3_sql, NULL, 0, NULL, err, errlen) != 0)
        return -1;
    h->upgraded_from = h->version;
    h->version = HDB_VERSION;
    return 0;
}

const struct hdb_ops hdb_pg_ops = {
    .kind = "PostgreSQL",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .schema = pg_schema,
    .query = pg_query,
};
