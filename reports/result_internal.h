/* Shared by the result writer and reader (not a public header). */
#ifndef PB_RESULT_INTERNAL_H
#define PB_RESULT_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "pb_scenario.h"

struct json_t;

/* Completes pb_file.h's refusal of an input that is not a result file. */
#define PB_RESULT_FILE_KIND "a result file is a JSON text file"

/* The fields of struct pb_op_mix, as "mix" keys in params (the names the
 * mix option takes). */
#define PB_RESULT_MIX_FIELDS(X) \
    X(read) X(write) X(create) X(cleanup) X(close) X(query) X(fastio) X(paging) X(fsfilter)

/* The shortest text that reads back as exactly v (as the scenario parser
 * formats its own numbers). */
static inline void pb_result_format_double(double v, char *buf, size_t size)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* What a run's real may hold (SCHEMA.md "Reading"): [lo, hi], and -1 too
 * where -1 stands for "unknown". The result reader checks a file's
 * figures against these, the history the figures its rows hold: a value
 * past them is a damaged or edited file or database. */
struct pb_range {
    const char *what;          /* "... is not a valid <what>" */
    double lo, hi;
    bool unknown;              /* -1 is allowed too */
    const char *text;          /* the range in words, for the message */
};

extern const struct pb_range PB_RANGE_THROUGHPUT, PB_RANGE_DURATION, PB_RANGE_NANOSECONDS,
    PB_RANGE_FRACTION, PB_RANGE_PERCENTAGE;

/* 0 when x is finite and within *range; else -1 with why =
 * "inf is not a valid throughput (0 to 1e12 ops/s)". */
int pb_range_check(const struct pb_range *range, double x, char *why, size_t size);

/* A scenario as the "params" object of the result file (a new reference;
 * NULL when out of memory): for the export's columns of runs that were
 * not read from a file. */
struct json_t *pb_result_params_json(const struct pb_scenario *s);

#endif
