/* Run history: every recorded invocation keeps its whole result document
 * (so any past run can be compared against, histograms included), the
 * machine it ran on, and one row of figures per run (for trends and change
 * points across runs and commits).
 *
 * db_path everywhere names the history: a SQLite file (the default,
 * results/history.db), or a PostgreSQL server for a fleet of machines
 * sharing one history: "postgresql://user@host/db?..." or "postgres://..."
 * (a libpq URI), or "postgresql:" alone for libpq's environment (PGHOST,
 * PGDATABASE, PGUSER, PGPASSWORD, ...). Both hold the same layout, created
 * and versioned by pendbench. A damaged, locked or unreachable database
 * (a server down, a refused login, no answer within connect_timeout, 10 s
 * by default) is a clear error and never loses the result file (written
 * before). */
#ifndef PB_HISTORY_H
#define PB_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "pb_result.h"

#define PB_HISTORY_DEFAULT "results/history.db"

/* Whether db_path names a PostgreSQL server rather than a SQLite file. */
bool pb_history_is_server(const char *db_path);

/* Records one invocation: the context, the runs, and the path of the
 * result file written for it (may be NULL). Creates the database and its
 * tables when missing. 0, or -1 with a message ("results/history.db: the
 * database is locked (another pendbench running?)", "...: file is not a
 * database"). */
int pb_history_record(const char *db_path, const struct pb_context *ctx,
                      const struct pb_run_result *runs, unsigned nruns,
                      const char *result_path, char *err, size_t errlen);

/* Whether a run's history could be recorded at db_path: opens it as the
 * record would (creating an SQLite file, connecting to a server) and
 * checks its tables, writing nothing. 0, or -1 with pb_history_record's
 * messages. The session calls it before measuring when --history-db names
 * the target, so a bad one is found before the runs, not after. */
int pb_history_check(const char *db_path, char *err, size_t errlen);

/* Records a result file made elsewhere (a CI artifact) as its own
 * invocation, idempotently: a result already in the history (the same
 * run_id, or for a file without one, the same bytes) is not recorded
 * again. 1 recorded, 0 already there, -1 with a message (the file cannot
 * be read or is not a result; the database as pb_history_record). */
int pb_history_import(const char *db_path, const char *result_path, char *err, size_t errlen);

/* Loads a recorded invocation as a result document. spec: "last" (the
 * most recent), or a git commit (full or a prefix of at least 4 hex
 * digits: the most recent invocation at that commit). 0, or -1 with a
 * message (no such commit, empty history, damaged database). */
int pb_history_find(const char *db_path, const char *spec, struct pb_result_doc *out,
                    char *err, size_t errlen);

/* The baseline of a document being compared (`compare --baseline SPEC
 * NEW.json`): as pb_history_find, but never NEW's own record (the same
 * run_id: every run records itself) nor one recorded after it; "last" is
 * the last invocation recorded before NEW. A NEW without a run_id (an
 * older file) excludes records of its date and later. 0 or -1 + message. */
int pb_history_find_before(const char *db_path, const char *spec, const struct pb_context *new_ctx,
                           struct pb_result_doc *out, char *err, size_t errlen);

#endif
