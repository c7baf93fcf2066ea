/* Result files: the context a run was measured in and every run's numbers,
 * as JSON (reports/SCHEMA.md documents each field; reports/schema/
 * result.schema.json describes the document). Written atomically; read
 * back into C structures, histogram bins included, so runs can be merged
 * and compared later. */
#ifndef PB_RESULT_H
#define PB_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pb_env.h"
#include "pb_run.h"

/* The document's layout version. Bumped only on a change an older reader
 * would misread (a field removed, renamed, or changed in meaning or unit);
 * new fields keep it. A reader accepts every version up to its own. */
#define PB_RESULT_SCHEMA_VERSION 1
#define PB_RESULT_GENERATOR "pendbench"

/* Where and how the runs were measured. */
struct pb_context {
    char date[32];             /* ISO 8601 UTC, "2024-05-01T12:00:00Z" */
    char host[128];
    char cpu_model[128];       /* /proc/cpuinfo "model name" */
    char kernel[128];          /* uname: sysname release version machine */
    char compiler[128];        /* __VERSION__ */
    char cflags[256];          /* PB_BUILD_CFLAGS, or "unknown" */
    char build_variant[16];    /* PB_BUILD_VARIANT: "release", "asan", "tsan", "clang"; or "unknown" */
    char git_commit[48];       /* of the checkout the program was built in: "5c74414", or
                                * "5c74414-dirty" with uncommitted changes; "unknown" */
    char git_diff_hash[48];    /* dirty: `git diff HEAD | git hash-object --stdin`, so two
                                * dirty builds of one commit tell apart; "" when clean */
    char run_id[40];           /* unique per invocation (random): history's identity of a
                                * record, so a run is never its own baseline */
    char topology[256];        /* "machine", a synthetic description, an XML path */
    char placement[32];
    unsigned ncpus_online;
    /* Calibration: filled by the caller (pb_calibrate.h). */
    double c2c_round_trip_ns;
    double timestamp_overhead_ns;
    double futex_wake_ns;
    double tsc_ticks_per_ns;
    bool partial;              /* the session was interrupted: some runs missing or cut short */
    char command[512];         /* the command line, for a person */
    /* How the session ordered its repetitions (the measurement design). */
    bool interleaved;          /* repetitions in a seeded random order across configurations */
    uint64_t interleave_seed;
    unsigned repetitions;      /* asked per configuration (--repeat) */
    struct pb_environment env; /* what the session measured in (pb_env.h) */
};

/* Fills date, host, cpu_model, kernel, compiler, cflags, build_variant,
 * git_commit (+ dirty, diff hash), run_id, ncpus_online and topology
 * (NULL: "machine"); zeroes the rest (calibration, placement, partial,
 * command, the interleaving are the caller's) and marks env unknown
 * (pb_env_init; pb_env_begin/end fill it). Never fails: what cannot be
 * found reads "unknown". */
void pb_context_collect(struct pb_context *c, const char *topology_description);

/* Writes the document to `path` as pb_file_write does (pb_file.h): a
 * regular file atomically (path.tmp.<pid> in the same directory, fsync,
 * rename over path, fsync of the directory; on failure the temporary file
 * is removed and `path` is untouched), a character device or FIFO written
 * through (never replaced), a directory refused, "-" to stdout. Creates
 * no directories. ctx NULL: an empty context. 0, or -1 with a message in
 * err naming the file and the reason. */
int pb_result_write(const char *path, const struct pb_context *ctx,
                    const struct pb_run_result *runs, unsigned nruns,
                    char *err, size_t errlen);
/* The same document to a stream (stdout); flushed. 0 or -1 + message. */
int pb_result_write_stream(FILE *out, const struct pb_context *ctx,
                           const struct pb_run_result *runs, unsigned nruns,
                           char *err, size_t errlen);

/* ---- reading ------------------------------------------------------------ */

struct json_t;

/* One run as read back. `r` is filled as pb_run left it, with these
 * differences: r.scenario is rebuilt from "params" as a job file would be
 * (pb_scenario_defaults, then pb_scenario_set of each option params names;
 * name and description from the run); the histograms are rebuilt from
 * their bins, so percentiles and merges are exact, while sum (mean * count)
 * carries the file's 10 significant digits; r.error is empty. */
struct pb_result_run {
    struct pb_run_result r;    /* r.pairs: owned by the document */
    struct json_t *params;     /* the "params" object as read (a reference the document owns) */
    bool scenario_complete;    /* every params value was accepted into r.scenario (false: a
                                * value this build refuses, e.g. a strategy it lacks or a name
                                * from a newer pendbench; that field keeps its default) */
};

struct pb_result_doc {
    unsigned schema_version;   /* of the file */
    struct pb_context ctx;
    unsigned nruns;
    struct pb_result_run *runs;
};

/* Loads and checks a result file: a regular file, or "-" for standard
 * input (pb_file_read_text: a FIFO or device is refused, a NUL byte is an
 * error naming its line). 0, or -1 with one message in err (-2 for a
 * schema_version newer than this build reads: a newer pendbench wrote it,
 * where -1 is a damaged file or no result at all):
 *   "results.json: cannot open: No such file or directory"
 *   "fifo: not a regular file but a FIFO (a result file is a JSON text file, ...)"
 *   "x.json:3: a NUL byte (a result file is a JSON text file)"
 *   "x.json:3:5: not JSON: <jansson's message>"
 *   "x.json: not a pendbench result (no schema_version/generator)"
 *   "x.json: schema_version 7 is newer than this pendbench reads (1)"
 *   "x.json: runs[2].latency_ns.total.bins: expected [lo, hi, count] triples"
 * On failure *out is empty (safe to pb_result_doc_free). */
int pb_result_read(const char *path, struct pb_result_doc *out, char *err, size_t errlen);
/* The same from a string; `name` stands for the file in messages. */
int pb_result_read_string(const char *text, const char *name, struct pb_result_doc *out,
                          char *err, size_t errlen);
void pb_result_doc_free(struct pb_result_doc *doc);

/* A params value as the text its option takes (job files, pb_scenario_set):
 * strings as they are, numbers exactly, true/false as on/off, arrays as
 * "a,b", objects as "k=v,k=v" (mix). 0, or -1 (null, nesting, too long). */
int pb_result_param_text(const struct json_t *value, char *buf, size_t size);

/* The first run matching every non-NULL argument (repetition < 0: any).
 * NULL when none. */
const struct pb_result_run *pb_result_find(const struct pb_result_doc *doc, const char *scenario,
                                           const char *pool, const char *queue,
                                           const char *handoff, int repetition);

#endif
