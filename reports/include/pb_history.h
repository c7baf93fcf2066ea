/* Run history in SQLite (results/history.db by default): every recorded
 * invocation keeps its whole result document (so any past run can be
 * compared against, histograms included) and one row of figures per run
 * (for trends across runs and commits). A damaged or locked database is a
 * clear error and never loses the result file (written before). */
#ifndef PB_HISTORY_H
#define PB_HISTORY_H

#include <stddef.h>

#include "pb_result.h"

#define PB_HISTORY_DEFAULT "results/history.db"

/* Records one invocation: the context, the runs, and the path of the
 * result file written for it (may be NULL). Creates the database and its
 * tables when missing. 0, or -1 with a message ("results/history.db: the
 * database is locked (another pendbench running?)", "...: file is not a
 * database"). */
int pb_history_record(const char *db_path, const struct pb_context *ctx,
                      const struct pb_run_result *runs, unsigned nruns,
                      const char *result_path, char *err, size_t errlen);

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
