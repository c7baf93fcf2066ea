/* The backend-independent part of the history's storage (history_db.h):
 * choosing a backend, and the rows of a query. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history_db.h"

bool hdb_is_server(const char *spec)
{
    return spec && (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0 ||
                    strcmp(spec, "postgresql:") == 0);
}

/* A URI of another kind ("mysql://...", "sqlite:h.db") would have been
 * taken as a file name and created as such. */
static bool foreign_uri(const char *spec)
{
    if (strncmp(spec, "sqlite:", 7) == 0 || strncmp(spec, "sqlite3:", 8) == 0 ||
        strncmp(spec, "file:", 5) == 0)
        return true;
    size_t n = strspn(spec, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
    return n > 0 && strncmp(spec + n, "://", 3) == 0;
}

int hdb_open(struct hdb *db, const char *spec, bool create, char *err, size_t errlen)
{
    memset(db, 0, sizeof *db);
    if (!spec || !spec[strspn(spec, " \t")]) {
        snprintf(err, errlen, "'%s': a history database needs a name (a file path, or "
                 "postgresql://...)", spec ? spec : "");
        return -1;
    }
    if (!hdb_is_server(spec) && foreign_uri(spec)) {
        snprintf(err, errlen, "'%s': a history database is a file path (SQLite) or a "
                 "postgresql:// URI", spec);
        return -1;
    }
    db->ops = hdb_is_server(spec) ? &hdb_pg_ops : &hdb_sqlite_ops;
    return db->ops->open(db, spec, create, err, errlen);
}

int hdb_newer_layout(struct hdb *db, int64_t version, int64_t min_reader, int64_t min_writer,
                     bool create, const char *another, char *err, size_t errlen)
{
    int64_t need = create ? min_writer : min_reader;
    if (need >= 1 && need <= HDB_VERSION) {
        db->version = HDB_VERSION;
        db->newer = (int)version;
        return 0;
    }
    snprintf(err, errlen,
             "%s: history layout version %lld is newer than this pendbench %s (%d); "
             "use a newer pendbench, or --history-db %s",
             db->name, (long long)version, create ? "writes" : "reads", HDB_VERSION, another);
    return -1;
}

void hdb_close(struct hdb *db)
{
    if (db->ops && db->conn)
        db->ops->close(db);
    db->conn = NULL;
}

int hdb_res_init(struct hdb_res *res, unsigned ncols)
{
    memset(res, 0, sizeof *res);
    res->ncols = ncols;
    return 0;
}

struct hdb_cell *hdb_res_add_row(struct hdb_res *res)
{
    /* Grows by doubling: nrows is a power of two whenever it fills up. */
    unsigned n = res->nrows;
    if (res->ncols && (n & (n - 1)) == 0) {
        unsigned cap = n ? 2 * n : 1;
        struct hdb_cell *c = realloc(res->cells, (size_t)cap * res->ncols * sizeof *c);
        if (!c)
            return NULL;
        res->cells = c;
    }
    struct hdb_cell *row = res->cells + (size_t)n * res->ncols;
    memset(row, 0, res->ncols * sizeof *row);
    res->nrows++;
    return row;
}

void hdb_res_free(struct hdb_res *res)
{
    if (!res)
        return;
    for (size_t i = 0; i < (size_t)res->nrows * res->ncols; i++)
        free(res->cells[i].text);
    free(res->cells);
    memset(res, 0, sizeof *res);
}

static const struct hdb_cell *cell(const struct hdb_res *res, unsigned row, unsigned col)
{
    static const struct hdb_cell null_cell;
    if (row >= res->nrows || col >= res->ncols)
        return &null_cell;
    return &res->cells[(size_t)row * res->ncols + col];
}

bool hdb_null(const struct hdb_res *res, unsigned row, unsigned col)
{
    return cell(res, row, col)->type == HDB_NULL;
}

const char *hdb_text(const struct hdb_res *res, unsigned row, unsigned col)
{
    const struct hdb_cell *c = cell(res, row, col);
    return c->type == HDB_TEXT && c->text ? c->text : "";
}

int64_t hdb_int(const struct hdb_res *res, unsigned row, unsigned col)
{
    const struct hdb_cell *c = cell(res, row, col);
    switch (c->type) {
    case HDB_INT:
        return c->i;
    case HDB_REAL:
        /* A real out of int64_t's range (an edited row's inf) does not
         * convert: undefined behaviour, not a number to check. */
        if (!(c->d > -9223372036854775808.0 && c->d < 9223372036854775808.0))
            return c->d > 0 ? INT64_MAX : c->d < 0 ? INT64_MIN : 0;
        return (int64_t)c->d;
    case HDB_TEXT:
        return c->text ? strtoll(c->text, NULL, 10) : 0;
    default:
        return 0;
    }
}

double hdb_real(const struct hdb_res *res, unsigned row, unsigned col)
{
    const struct hdb_cell *c = cell(res, row, col);
    switch (c->type) {
    case HDB_INT:
        return (double)c->i;
    case HDB_REAL:
        return c->d;
    case HDB_TEXT:
        return c->text ? strtod(c->text, NULL) : 0;
    default:
        return 0;
    }
}

bool hdb_number(const struct hdb_res *res, unsigned row, unsigned col, double *out)
{
    const struct hdb_cell *c = cell(res, row, col);
    switch (c->type) {
    case HDB_INT:
        *out = (double)c->i;
        return true;
    case HDB_REAL:
        *out = c->d;
        return true;
    case HDB_TEXT: {
        /* strtod would skip leading blanks; "1e999" reads as inf, which
         * the range check names. */
        if (!c->text || !c->text[0] || c->text[0] == ' ' || c->text[0] == '\t')
            return false;
        char *end;
        double x = strtod(c->text, &end);
        if (*end)
            return false;
        *out = x;
        return true;
    }
    default:
        return false;
    }
}
