/* A scenario: everything a run does, as data. Built-in scenarios, job
 * files (INI: [global] plus one section per job, keys are the long option
 * names) and command-line options all go through pb_scenario_set(), so a
 * key means the same thing everywhere. */
#ifndef PB_SCENARIO_H
#define PB_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pb_strategy.h"
#include "pb_topo.h"

/* A distribution of nanoseconds: "fixed:500", "uniform:100:900",
 * "exp:1000" (mean), "lognormal:1000:0.5" (median, sigma), or a bare
 * number (fixed). */
typedef enum { PB_DIST_FIXED = 0, PB_DIST_UNIFORM, PB_DIST_EXP, PB_DIST_LOGNORMAL } pb_dist_kind;
struct pb_dist {
    pb_dist_kind kind;
    double a, b;
};

/* Where a requester's work items go. */
typedef enum {
    PB_ROUTE_LOCAL = 0,        /* the worker the plan pairs with the requester */
    PB_ROUTE_SAME_NODE,        /* a worker on the requester's node, round robin */
    PB_ROUTE_REMOTE_NODE,      /* a worker on another node, round robin */
    PB_ROUTE_ROUND_ROBIN,      /* every worker in turn */
} pb_route;

/* When a cancel is sent, relative to the issue. */
typedef enum {
    PB_CANCEL_IMMEDIATE = 0,   /* right after issue */
    PB_CANCEL_DELAY,           /* after cancel-delay (a distribution) */
    PB_CANCEL_RACE,            /* aimed at the completion instant: issue + the
                                * measured median service time, jittered */
} pb_cancel_when;

/* What one filter of the stack does with an operation (top first). */
typedef enum {
    PB_FILTER_PEND = 0,        /* set the cancel routine, post a work item, PENDING */
    PB_FILTER_PASS,            /* SUCCESS_NO_CALLBACK */
    PB_FILTER_CALLBACK,        /* SUCCESS_WITH_CALLBACK, post-op FINISHED */
    PB_FILTER_SYNCHRONIZE,     /* SYNCHRONIZE, post-op in the issuing thread */
    PB_FILTER_MIX,             /* a seeded mix: pass / callback / synchronize / complete */
    PB_FILTER_CBDQ,            /* pend into a cancel-safe queue drained by the workers */
    PB_FILTER_ASYNC,           /* start its own I/O below (flt_perform_asynchronous_io),
                                * cancelled by itself (flt_cancel_io) at cancel-fraction */
} pb_filter_kind;

#define PB_MAX_FILTERS 6
#define PB_NAME_MAX 48

/* Operation mix, weights (any scale; 0 = never). */
struct pb_op_mix {
    unsigned read, write, create, cleanup, close, query;
    unsigned fastio;           /* fast I/O read (not pendable, not cancelable) */
    unsigned paging;           /* paging I/O read (not postable, not cancelable) */
    unsigned fsfilter;         /* FS filter notifications (acquire/release pairs) */
};

struct pb_scenario {
    char name[PB_NAME_MAX];
    char description[160];
    /* strategies */
    char pool[PB_NAME_MAX], queue[PB_NAME_MAX], handoff[PB_NAME_MAX];
    /* The lock every lock-based strategy takes (pb_lock.h), by name; ""
     * (option value "default"): each strategy's own default. */
    char lock[PB_NAME_MAX];
    /* threads and placement */
    unsigned requesters, workers, cancellers;
    pb_idle_policy idle;
    pb_placement placement;
    pb_route route;
    /* the filter stack, top first */
    unsigned nfilters;
    pb_filter_kind filters[PB_MAX_FILTERS];
    struct pb_op_mix mix;
    double pend_fraction;      /* of pendable ops, the share the pend filter pends */
    double cancel_fraction;    /* of issued ops, the share a canceller aims at */
    pb_cancel_when cancel_when;
    struct pb_dist cancel_delay;
    struct pb_dist service;    /* the worker's service time per work item */
    struct pb_dist fs_service; /* the simulated file system's time per op */
    /* load */
    unsigned inflight;         /* closed loop: per requester */
    double rate;               /* open loop: total target ops/s (0 = closed loop) */
    double burst_on_ms, burst_off_ms;  /* open loop bursts (0 = steady Poisson) */
    double duration_s;         /* measured time (0 = use ops) */
    uint64_t ops;              /* measured operations (0 = use duration) */
    double warmup_s;
    uint64_t seed;
    size_t pool_capacity;      /* 0 = unlimited */
    size_t queue_capacity;     /* 0 = the strategy's default */
    bool verifier_checks;      /* VER2: hot-path checks on (default false when benchmarking) */
    /* The NUMA node (a topology node index) all memory goes to, memory-only
     * nodes (CXL, HBM) included; -1: each processor's local node. */
    int memory_node;
    /* Measurement, not workload (not part of the run key): the queue-wait /
     * service split is stamped on every split_every-th work item of each
     * worker (PB_SPLIT_EVERY_DEFAULT; 1 = every item). */
    unsigned split_every;
    /* Measurement too: the latency (its timestamps and its record) is
     * taken on about one operation in latency_every per requester, at
     * random gaps (1: every one); throughput and outcomes count every
     * operation. PB_LATENCY_EVERY_AUTO (the default): the run picks N
     * from the instrumentation it measures (pb_latency_every_auto). */
    unsigned latency_every;
};

/* Every 16th item: the split's third timestamp and two records then cost
 * about 1.3 ns per operation on a CPU whose timestamp is ~11 ns, against
 * ~21 ns on every item, and a 2-second run still splits tens of thousands
 * of operations. */
#define PB_SPLIT_EVERY_DEFAULT 16u
#define PB_SPLIT_EVERY_MAX 1000000u
#define PB_LATENCY_EVERY_MAX 1000000u
#define PB_LATENCY_EVERY_AUTO 0u

/* latency-every auto: the instrumentation per operation a run aims at.
 * Issue #12 asks for at most 25 ns; the target leaves a fifth for the
 * recording's cost in the run, which is measured on a scratch recorder
 * before it and ran up to ~1.5x that in the run on this project's VM. */
#define PB_INSTRUMENTATION_TARGET_NS 20.0

/* The N of latency-every auto: the smallest one (1 to
 * PB_LATENCY_EVERY_MAX) that brings timed_cost_ns, the instrumentation of
 * one timed operation (its timestamps and its record), down to
 * PB_INSTRUMENTATION_TARGET_NS per operation. 1 when the cost is not a
 * positive finite number (nothing measured: time every operation). */
unsigned pb_latency_every_auto(double timed_cost_ns);

/* The defaults every scenario starts from (documented in `pendbench run
 * --help`): pool magazine, queue percpu-mpsc, handoff xchg, lock default
 * (each strategy's own), 1 requester,
 * 1 worker, 1 canceller, idle spin-park, placement compact, route local,
 * filters "pend", mix read=70 write=30, pend-fraction 1, cancel-fraction
 * 0.1, cancel-when delay, cancel-delay exp:2000, service fixed:0,
 * fs-service fixed:0, inflight 1, closed loop, duration 2 s, warmup 0.2 s,
 * seed 1, split-every 16, latency-every auto. */
void pb_scenario_defaults(struct pb_scenario *s);

/* Sets one option by its long name ("queue", "cancel-fraction", "mix",
 * "filters", ...). 0, or -1 with a message in err that names the key and
 * says what values it takes. */
int pb_scenario_set(struct pb_scenario *s, const char *key, const char *value,
                    char *err, size_t errlen);

/* Checks the whole scenario for impossible combinations (unknown strategy,
 * zero workers with a pend filter, rate with inflight, ...). 0 or -1 +
 * message. */
int pb_scenario_validate(const struct pb_scenario *s, char *err, size_t errlen);

/* Every option: name, value syntax, default, meaning (for --help and list). */
struct pb_option_doc {
    const char *name;
    const char *syntax;
    const char *help;
};
extern const struct pb_option_doc pb_scenario_options[];   /* NULL-terminated by name */

/* Built-in scenarios: steady, cancel-storm, cancel-race, cross-node, burst,
 * filter-stack, cbdq, async-io, fsfilter. Each is a few lines of options. */
struct pb_builtin {
    const char *name;
    const char *description;
    const char *options;       /* "key=value" lines, as in a job file section */
};
extern const struct pb_builtin pb_builtins[];              /* NULL-terminated by name */
/* Starts from the defaults and applies a built-in. 0 or -1 (unknown name). */
int pb_scenario_builtin(struct pb_scenario *s, const char *name, char *err, size_t errlen);
/* The built-in of that name, or NULL. */
const struct pb_builtin *pb_builtin_find(const char *name);
/* Applies "key=value" lines (a built-in's options; blank lines and lines
 * starting with # or ; are skipped) in order through pb_scenario_set. On
 * an error s is left as it was: 0 or -1 + message. */
int pb_scenario_apply_options(struct pb_scenario *s, const char *options, char *err,
                              size_t errlen);

/* A job file: each [section] except [global] is a job; [global] keys apply
 * to every job first; a job's own keys override them. Jobs start from
 * `base` (defaults plus command-line options given before the file).
 * "scenario=NAME" in a section starts it from that built-in. Errors name
 * the file, the line and the key: "jobs.ini:12: key 'queue': unknown queue
 * strategy 'foo' (see `pendbench list`)". Returns the number of jobs, or -1. */
int pb_jobfile_load(const char *path, const struct pb_scenario *base, struct pb_scenario **jobs,
                    char *err, size_t errlen);

/* A section header of a job file, as the loader read it. */
struct pb_job_section {
    unsigned line;             /* its header's line, from 1 */
    bool global;               /* [global] (exactly that name); else a job, in jobs' order */
};

/* pb_jobfile_load, also giving every section header in file order (a
 * malloc'd array, *sections, for the caller to free): what a tool needs to
 * split the file into one file per job that means the same (pendbench ab:
 * the text before the first section, the [global] sections before the
 * job, the job). */
int pb_jobfile_load_sections(const char *path, const struct pb_scenario *base,
                             struct pb_scenario **jobs, struct pb_job_section **sections,
                             size_t *nsections, char *err, size_t errlen);

/* The same configuration: every field equal (name, strategies, threads,
 * stack, mix, distributions, load, length, seed, capacities), the
 * description aside. A session measures such a pair once and shows it
 * wherever it was asked for. */
bool pb_scenario_equal(const struct pb_scenario *a, const struct pb_scenario *b);

/* "Did you mean": the name among names[n] closest to word (at most two
 * edits away), or NULL. Used for scenario keys, verbs and options alike. */
const char *pb_closest(const char *word, const char *const *names, size_t n);

/* One line naming the strategies and the main parameters. */
void pb_scenario_summary(const struct pb_scenario *s, char *buf, size_t size);

/* The strict number of the options, job files and result params: a
 * non-negative finite decimal number at the start of text ("2", "0.5",
 * ".5", "1e-3"). A sign, a leading blank, "nan", "inf", hexadecimal and
 * overflow are refused; an underflow reads as the number near 0 it is.
 * 0 with *out, and *end past the number; -1. */
int pb_number_prefix(const char *text, double *out, const char **end);

/* Distribution helpers. */
int pb_dist_parse(const char *text, struct pb_dist *out, char *err, size_t errlen);
void pb_dist_format(const struct pb_dist *d, char *buf, size_t size);
struct pb_rng;
/* A draw in ns, from 0 to 1e12 (1000 s, the most a time may be: the tails
 * of exp and lognormal are cut there). A distribution whose mean is beyond
 * it is refused by pb_dist_parse. */
double pb_dist_draw(const struct pb_dist *d, struct pb_rng *r);
double pb_dist_mean(const struct pb_dist *d);

const char *pb_filter_kind_name(pb_filter_kind k);
const char *pb_route_name(pb_route r);
const char *pb_cancel_when_name(pb_cancel_when w);
const char *pb_idle_name(pb_idle_policy p);

#endif
