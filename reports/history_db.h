/* The history's storage, behind one interface (not a public header): a
 * SQLite file (history_sqlite.c) or a PostgreSQL server through libpq
 * (history_pg.c). Both hold the same layout (history.c describes it), and
 * history.c speaks to both in the SQL they share: parameters are $1..$N
 * and always text (NULL for SQL NULL), a comparison that needs a number or
 * a type says so with CAST, and "RETURNING id" gives an inserted row's id.
 * What differs (how a transaction takes the write lock, how the layout is
 * marked, created and upgraded, the messages) lives in the backends. */
#ifndef PB_HISTORY_DB_H
#define PB_HISTORY_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The layout this build writes. 1: no run_id; 2: run_id; 3: the machine
 * identity (machine, topology_summary) and the run's workload; 4: each
 * run's others_pct (the CPU time other processes took in its window). */
#define HDB_VERSION 4

/* Since layout 4 a history also says which builds may use it: table
 * pendbench_compat, one row (min_reader, min_writer), the oldest layout
 * whose builds may read it and write into it. A layout that only adds
 * columns keeps min_writer where it was, so an older build on a fleet's
 * shared history goes on recording (its rows leave the new columns NULL)
 * instead of being refused by the first machine that upgraded. Layouts
 * before 4 do not look; this build writes (4, 4). */
#define HDB_MIN_READER 4
#define HDB_MIN_WRITER 4

enum hdb_type { HDB_NULL, HDB_INT, HDB_REAL, HDB_TEXT };

struct hdb_cell {
    enum hdb_type type;
    int64_t i;
    double d;
    char *text;
};

/* A query's rows, all in memory (histories are small). */
struct hdb_res {
    unsigned nrows, ncols;
    struct hdb_cell *cells;
};

struct hdb;

struct hdb_ops {
    const char *kind;                  /* "SQLite", "PostgreSQL" */
    /* Connects. create: the database may be made (SQLite: the file).
     * 0; -2 when there is no history to read (SQLite: no file) and create
     * is false; -1 with a message. */
    int (*open)(struct hdb *db, const char *spec, bool create, char *err, size_t errlen);
    void (*close)(struct hdb *db);
    /* write: this transaction writes, and holds the one writer's lock from
     * its start (so a check-then-insert is never raced). */
    int (*begin)(struct hdb *db, bool write, char *err, size_t errlen);
    int (*commit)(struct hdb *db, char *err, size_t errlen);
    void (*rollback)(struct hdb *db);
    /* Checks that the database holds a pendbench history of a layout this
     * build reads and sets db->version (0: empty). create (inside a write
     * transaction): make the tables of an empty one, upgrade an older one
     * (db->upgraded_from: the layout it had, for history.c to fill the new
     * columns of the old rows in; 0 when nothing was upgraded). */
    int (*schema)(struct hdb *db, bool create, char *err, size_t errlen);
    /* One statement with parameters, or (nparams 0) several; res (may be
     * NULL) gets the rows of the last one. */
    int (*query)(struct hdb *db, const char *sql, const char *const *params, unsigned nparams,
                 struct hdb_res *res, char *err, size_t errlen);
};

struct hdb {
    const struct hdb_ops *ops;
    void *conn;
    char name[512];                    /* for messages: the path, or the URI without password */
    int version;                       /* set by ops->schema */
    int upgraded_from;                 /* set by ops->schema */
    int newer;                         /* the layout, when newer than this build's and
                                        * compatible with it (version is then HDB_VERSION:
                                        * every column this build knows is there); else 0 */
};

extern const struct hdb_ops hdb_sqlite_ops;
extern const struct hdb_ops hdb_pg_ops;

/* Whether spec names a PostgreSQL server: "postgresql://...",
 * "postgres://...", or "postgresql:" alone (libpq's environment: PGHOST,
 * PGDATABASE, ...). Anything else is a SQLite path. */
bool hdb_is_server(const char *spec);

/* The backends' judgement of a layout newer than this build's: version,
 * and the compat row (min_reader, min_writer; -1 when the database has
 * none). 0 with db->version and db->newer set when this build may use it
 * (create: write into it), else -1 with the message. */
int hdb_newer_layout(struct hdb *db, int64_t version, int64_t min_reader, int64_t min_writer,
                     bool create, const char *another, char *err, size_t errlen);

/* Picks the backend and opens (ops->open's returns). */
int hdb_open(struct hdb *db, const char *spec, bool create, char *err, size_t errlen);
void hdb_close(struct hdb *db);

static inline int hdb_query(struct hdb *db, const char *sql, const char *const *params,
                            unsigned nparams, struct hdb_res *res, char *err, size_t errlen)
{
    return db->ops->query(db, sql, params, nparams, res, err, errlen);
}

void hdb_res_free(struct hdb_res *res);
bool hdb_null(const struct hdb_res *res, unsigned row, unsigned col);
/* "" for NULL. */
const char *hdb_text(const struct hdb_res *res, unsigned row, unsigned col);
int64_t hdb_int(const struct hdb_res *res, unsigned row, unsigned col);
double hdb_real(const struct hdb_res *res, unsigned row, unsigned col);
/* The cell as a number, strictly: an integer or a real, or text that is
 * wholly a decimal number (PostgreSQL gives every value as text, its
 * "Infinity" and "NaN" included: the caller's range check refuses them).
 * False for NULL and for anything else, where hdb_real reads 0: SQLite
 * keeps the text a hand wrote into a REAL column as text. */
bool hdb_number(const struct hdb_res *res, unsigned row, unsigned col, double *out);

/* Stores a cell (the backends' helper): text is copied. -1 out of memory. */
int hdb_res_init(struct hdb_res *res, unsigned ncols);
struct hdb_cell *hdb_res_add_row(struct hdb_res *res);

#endif
