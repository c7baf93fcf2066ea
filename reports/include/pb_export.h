/* Figures out of pendbench in other forms: result documents in other
 * tools' formats, and the run history (pb_history.h) as a trend.
 *
 * gbench: Google Benchmark's JSON output, so that its compare tool
 *   (/usr/share/benchmark/compare.py, Debian libbenchmark-tools) compares
 *   pendbench runs, with its Mann-Whitney U test over the repetitions.
 *   Each run (a scenario and strategy set at one thread count) becomes
 *   four benchmarks, one per figure, so compare.py's time columns mean
 *   something:
 *     <scenario>/<pool>/<queue>/<handoff>[/lock:<lock>]/threads:<R>x<W>/<figure>
 *   lock: the lock chosen, when one was (a run under each strategy's own
 *   lock keeps the name it had before locks existed, so a dashboard's
 *   series goes on); R requesters, W workers; figure p50, p99 or p999 (pend-to-completion
 *   latency, ns) or ns_per_op (1e9 / throughput). real_time and cpu_time
 *   carry the same value (pendbench measures no CPU time per operation).
 *   Each repetition is one "iteration" entry with the same name, as
 *   --benchmark_repetitions gives; with two or more repetitions, aggregates
 *   follow: ns_per_op gets mean, median and stddev; the latency figures get
 *   "merged", the percentile of the repetitions' merged histograms
 *   (percentiles are never averaged). Every entry also carries the run's
 *   figures as counters (ops_per_s, cancel_success_rate, ...).
 *   A figure with no value is left out, not written as 0 ns (which
 *   compare.py would read as the fastest run, and which zeroes its
 *   geometric mean): ns_per_op of a run that completed no operation, the
 *   percentiles of one that timed none, an aggregate over no such
 *   repetition; the context's "pendbench_left_out" names each.
 *   "context" holds the session's real environment (load_avg at the start,
 *   cpu_scaling_enabled, num_cpus, mhz_per_cpu, caches), date, host, and
 *   pendbench's own keys (pendbench_git_commit, pendbench_run_id,
 *   pendbench_env_warnings, ...); unknown facts are left empty, not made up.
 *   aggregates_only (for dashboards): one entry per benchmark instead,
 *   under the same name a single repetition would have: the median of
 *   ns_per_op, the merged percentile for latency, or with one repetition
 *   that repetition; "summary" (repetition, median, merged) and
 *   "summarized_repetitions" say which. Its counters cover the group
 *   (sums, median throughput, merged percentiles).
 *
 * csv: one row per run (repetition) under a header row, for spreadsheets;
 *   RFC 4180: CRLF line ends, fields with a comma, quote or line break
 *   quoted, quotes doubled. The columns are PB_EXPORT_CSV_HEADER: first the
 *   session (date, git_commit, build_variant, host, run_id: empty without
 *   a context), so the CSVs of several sessions concatenate under one
 *   header; then the run's identity (lock: the lock chosen, or "default"
 *   for each strategy's own) and every workload parameter that
 *   tells runs apart, as pb_result_param_text writes it (a value with a
 *   comma, like filters "pass,pend" or mix "read=70,write=30", is quoted);
 *   then the figures: a percentile of a histogram that holds nothing, and
 *   the cancel success rate of a run that attempted no cancel, are empty
 *   fields (not 0). */
#ifndef PB_EXPORT_H
#define PB_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pb_result.h"

enum pb_export_format { PB_EXPORT_GBENCH, PB_EXPORT_CSV };

#define PB_EXPORT_CSV_HEADER                                                                   \
    "date,git_commit,build_variant,host,run_id,"                                               \
    "scenario,pool,queue,handoff,lock,repetition,partial,requesters,workers,cancellers,"       \
    "idle,placement,route,filters,mix,pend_fraction,cancel_fraction,cancel_when,cancel_delay," \
    "service,fs_service,inflight,rate,burst,pool_capacity,queue_capacity,memory_node,seconds,"           \
    "issued,completed,completed_cancelled,failed,throughput_ops_s,total_p50_ns,total_p90_ns,"  \
    "total_p99_ns,total_p999_ns,total_max_ns,queue_wait_p50_ns,queue_wait_p99_ns,"             \
    "service_p50_ns,service_p99_ns,cancel_attempted,won,lost,early,late,not_cancelable,"       \
    "cancel_success_rate,c2c_round_trip_ns,invariants_ok"

/* "gbench" or "csv". 0, or -1 for any other name. */
int pb_export_format_parse(const char *name, enum pb_export_format *out);

/* Writes runs[0..n) (in that order; ctx may be NULL) in the format to out,
 * and flushes. 0, or -1 with a message (a write error). */
int pb_export_runs(FILE *out, enum pb_export_format format, const struct pb_context *ctx,
                   const struct pb_run_result *const *runs, unsigned n, char *err, size_t errlen);

/* The same for a document read with pb_result_read (CSV takes the
 * params as the file has them). */
int pb_export_doc(FILE *out, enum pb_export_format format, const struct pb_result_doc *doc,
                  char *err, size_t errlen);

struct pb_export_options {
    bool aggregates_only;      /* gbench: one summary entry per benchmark (csv: refused) */
    unsigned *left_out;        /* gbench, out (NULL: not wanted): how many entries were left
                                * out for having no value (see above) */
};
/* The two above with options (NULL: the defaults, as above). */
int pb_export_runs_opts(FILE *out, enum pb_export_format format, const struct pb_context *ctx,
                        const struct pb_run_result *const *runs, unsigned n,
                        const struct pb_export_options *opts, char *err, size_t errlen);
int pb_export_doc_opts(FILE *out, enum pb_export_format format, const struct pb_result_doc *doc,
                       const struct pb_export_options *opts, char *err, size_t errlen);

/* One CSV field, quoted when RFC 4180 asks for it (comma, quote, CR, LF). */
void pb_export_csv_field(FILE *out, const char *text);

/* ---- the history's trend (its SQL lives with the rest in history.c) ------- */

/* The figure a trend follows, per invocation: throughput (ops/s, the
 * median over the invocation's repetitions), a pend-to-completion latency
 * percentile (ns, of the repetitions' merged histograms: percentiles are
 * never averaged), or the cancel success rate (median over repetitions). */
enum pb_trend_metric {
    PB_TREND_THROUGHPUT, PB_TREND_P50, PB_TREND_P90, PB_TREND_P99, PB_TREND_P999, PB_TREND_CANCEL
};

struct pb_trend_query {
    const char *scenario;            /* NULL: every scenario */
    const char *strategies;          /* "POOL/QUEUE/HANDOFF"; a part that is empty or '*'
                                      * matches any; NULL: every strategy set */
    enum pb_trend_metric metric;
    unsigned limit;                  /* the most recent N invocations of each block; 0: all */
    bool json;                       /* a JSON document instead of the text tables */
    const char *machine;             /* only this machine: its host name, or its whole
                                      * identity as the trend shows it; NULL: every machine */
    bool csv;                        /* CSV rows, one per point (not with json) */
    bool skip_busy;                  /* leave out the invocations with a repetition that ran
                                      * beside busy processes (others_pct >= PB_OTHERS_BUSY_PCT;
                                      * known for the runs recorded since layout 4, and the
                                      * older ones whose stored files have it) */
};

/* "throughput", "p50", "p90", "p99", "p999" or "cancel". 0, or -1. */
int pb_trend_metric_parse(const char *name, enum pb_trend_metric *out);

/* Writes the trend of the metric across the recorded invocations of the
 * history at db_path (pb_history.h: a SQLite file or a PostgreSQL URI):
 * one block per machine and run key (pb_runkey.h: scenario, strategies and
 * workload, so a sweep's siblings never merge; rows recorded before the
 * workload was keep to their thread counts), oldest first (by date), each
 * row with the date, commit, host, the value and its change against the
 * previous row, and a sparkline per block. json: a document with the same;
 * csv: one row per point under a header (TREND_CSV_HEADER in history.c:
 * machine, host, the key, metric, unit, invocation, date, git_commit,
 * kernel, value, repetitions, partial, invariants_ok), CRLF line ends.
 * Opens the database without changing it. Returns the number of blocks
 * (0: nothing matched), -2 when there is no SQLite file at db_path ("no
 * history yet at ..."), or -1 with a message (damaged, locked,
 * unreachable, newer layout, malformed --strategies). */
int pb_export_trend(FILE *out, const char *db_path, const struct pb_trend_query *q, char *err,
                    size_t errlen);

/* Change points of the trend's series (pb_changes.h: E-divisive means with
 * a seeded permutation test). 0 in a field: its default. */
struct pb_trend_changes {
    double alpha;                    /* significance of each change (0.05) */
    unsigned permutations;           /* of the test (199) */
    uint64_t seed;                   /* of the permutations (0 is a seed like any other) */
    unsigned min_size;               /* invocations on each side of a change (3) */
    double threshold_pct;            /* a regression beyond this counts in *regressions */
};

/* For each block of the query (as pb_export_trend), the changes of its
 * series, each with the first commit after it, the medians before and
 * after, the shift in percent, its p-value and whether it is a regression
 * (lower throughput or cancel rate, higher latency); json: a document.
 * *regressions: the blocks whose newest change is a regression beyond
 * threshold_pct (what `history --changes --gate` fails on). Returns the
 * number of blocks, -2 (no database) or -1 with a message. */
int pb_export_trend_changes(FILE *out, const char *db_path, const struct pb_trend_query *q,
                            const struct pb_trend_changes *c, unsigned *regressions, char *err,
                            size_t errlen);

struct pb_html_options;
struct pb_html_stats;
/* The trend as an HTML page written to html_path (pb_html.h: a chart and a
 * table per block, busy points marked, change points drawn; q->limit: the
 * last N points of each block, its changes found over the whole series).
 * Returns the number of blocks; -2 no history at db_path, -1 + message. */
int pb_export_trend_html(const char *html_path, const char *db_path,
                         const struct pb_trend_query *q, const struct pb_trend_changes *c,
                         const struct pb_html_options *opt, struct pb_html_stats *stats,
                         char *err, size_t errlen);

#endif
