/* The verbs that run scenarios: the default suite, run, sweep. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "pb_history.h"
#include "pb_lock.h"


#define SCENARIO_GROUP "scenario options (also the keys of job files)"

/* ---- run ---------------------------------------------------------------------- */

static const char run_about[] =
    "Runs one scenario: a built-in (see `pendbench list`), the jobs of an INI job\n"
    "file ([global] plus one section per job; keys are the scenario option names\n"
    "below), or the defaults changed by options. Options on the command line,\n"
    "before or after JOBFILE, are explicit: they win over the job file's keys\n"
    "([global] and its sections), and a note names each override. --repeat runs\n"
    "each job N times (compare uses the repetitions for significance),\n"
    "interleaved: every round measures each job once, in a seeded random order,\n"
    "so drift hits all jobs alike. --json writes the result file (atomically;\n"
    "'-' for stdout). Every invocation is also recorded in the history database\n"
    "(--history-db PATH or $PENDBENCH_HISTORY_DB: another; --no-history: not at\n"
    "all), for `pendbench history` and `compare --baseline`.\n";

/* What run's command line gives besides the session and the topology. */
struct run_args {
    struct pb_scenario base;
    const char *jobfile;
    /* The scenario options given, in order: applied again over each job. */
    struct { const char *key, *value; } cli[64];
    unsigned ncli;
};

static int run_scenario_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                            size_t errlen)
{
    struct run_args *r = ctx;
    if (pb_scenario_opt_apply(&r->base, o, value, err, errlen) != 0)
        return -1;
    if (r->ncli == sizeof r->cli / sizeof r->cli[0]) {
        snprintf(err, errlen, "more than %zu scenario options", sizeof r->cli / sizeof r->cli[0]);
        return -1;
    }
    r->cli[r->ncli].key = o->name;
    r->cli[r->ncli++].value = value;
    return 0;
}

static int run_jobfile(void *ctx, const char *arg, char *err, size_t errlen)
{
    struct run_args *r = ctx;
    if (r->jobfile) {
        snprintf(err, errlen, "one job file at a time ('%s', '%s')", r->jobfile, arg);
        return -1;
    }
    r->jobfile = arg;
    return 0;
}

int pb_cmd_run(int argc, char **argv)
{
    struct pb_session ss;
    pb_session_init(&ss, "run");
    pb_session_note_command(&ss, argc, argv);
    static struct run_args args;
    memset(&args, 0, sizeof args);
    pb_scenario_defaults(&args.base);
    struct pb_topo *topo = NULL;
    const struct pb_opt_group groups[] = {
        { "session options", pb_session_opts, pb_session_set, &ss },
        { "topology options", pb_topology_opts, pb_topology_set, &topo },
        { SCENARIO_GROUP, pb_scenario_opts(), run_scenario_set, &args },
    };
    const struct pb_cli cli = {
        .verb = "run",
        .usage = "pendbench run [--scenario NAME | JOBFILE] [OPTIONS]\n",
        .about = run_about,
        .groups = groups,
        .ngroups = sizeof groups / sizeof groups[0],
        .positional = run_jobfile,
        .ctx = &args,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO) {
        pb_topo_free(topo);
        return pb_cli_exit(pr);
    }
    struct pb_scenario *jobs = NULL;
    int njobs = 1;
    char err[512];
    if (args.jobfile) {
        njobs = pb_jobfile_load(args.jobfile, &args.base, &jobs, err, sizeof err);
        if (njobs < 0) {
            fprintf(stderr, "pendbench run: %s\n", err);
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        /* The command line wins over the file, in any position. */
        for (int j = 0; j < njobs; j++) {
            for (unsigned k = 0; k < args.ncli; k++) {
                /* --scenario is where jobs start (a section's scenario= picks its own). */
                if (strcmp(args.cli[k].key, "scenario") == 0)
                    continue;
                struct pb_scenario before = jobs[j];
                if (pb_scenario_set(&jobs[j], args.cli[k].key, args.cli[k].value, err,
                                    sizeof err) != 0) {
                    fprintf(stderr, "pendbench run: --%s: %s\n", args.cli[k].key, err);
                    free(jobs);
                    pb_topo_free(topo);
                    return PB_EXIT_USAGE;
                }
                if (!pb_scenario_equal(&before, &jobs[j]))
                    fprintf(stderr, "note: job '%s': --%s %s on the command line overrides %s\n",
                            jobs[j].name, args.cli[k].key, args.cli[k].value, args.jobfile);
            }
            if (pb_scenario_validate(&jobs[j], err, sizeof err) != 0) {
                fprintf(stderr, "pendbench run: job '%s': %s\n", jobs[j].name, err);
                free(jobs);
                pb_topo_free(topo);
                return PB_EXIT_USAGE;
            }
        }
    } else {
        if (pb_scenario_validate(&args.base, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench run: %s\n", err);
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        jobs = malloc(sizeof *jobs);
        if (!jobs) {
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        jobs[0] = args.base;
    }
    /* Several jobs: the first is the baseline of the 'vs base' column. */
    int *first = njobs > 1 ? calloc((size_t)njobs, sizeof *first) : NULL;
    ss.sc = jobs;
    ss.n = (unsigned)njobs;
    ss.baseline_of = first;
    ss.topo = topo;
    ss.jobfile = args.jobfile;
    int st = pb_session_run(&ss);
    free(first);
    free(jobs);
    pb_topo_free(topo);
    return st;
}

/* ---- sweep ------------------------------------------------------------------- */

static const char sweep_about[] =
    "Runs one scenario (default: steady, 1 s) for every combination of the listed\n"
    "strategies and thread counts (--threads sets requesters = workers = N). A\n"
    "list may be 'all'. Unlisted kinds keep the scenario's strategy. The first\n"
    "combination is the baseline of the 'vs base' column. With --repeat, the\n"
    "repetitions are interleaved across the combinations. The runs are recorded\n"
    "in the history database (--history-db PATH: another; --no-history: not at\n"
    "all).\n";

/* A list item: a strategy's name, or a plugin's path (longer). */
#define LIST_ITEM_MAX 1024
#define LIST_MAX 32
#define THREADS_MAX 16

static const char *pool_at(size_t i, bool *in_all)
{
    *in_all = true;
    return pb_pools[i] ? pb_pools[i]->name : NULL;
}

static const char *queue_at(size_t i, bool *in_all)
{
    *in_all = true;
    return pb_queues[i] ? pb_queues[i]->name : NULL;
}

static const char *handoff_at(size_t i, bool *in_all)
{
    if (!pb_handoffs[i])
        return NULL;
    /* 'all' never includes a deliberately broken handoff: it exists for stress. */
    *in_all = !(pb_handoffs[i]->flags & PB_BROKEN);
    return pb_handoffs[i]->name;
}

static const char *lock_at(size_t i, bool *in_all)
{
    if (!pb_locks[i])
        return NULL;
    /* 'all' never includes broken-lock: it exists for stress. */
    *in_all = !(pb_locks[i]->flags & PB_BROKEN);
    return pb_locks[i]->name;
}

/* The strategy kinds a sweep crosses, in nesting order (the last varies
 * fastest): the scenario option each list item sets, and the registry
 * that 'all' stands for. A kind is one line here and one in sweep_opts
 * (its id is the index here). */
static const struct sweep_kind {
    const char *key;
    const char *(*name_at)(size_t i, bool *in_all);
} sweep_kinds[] = {
    { "pool", pool_at },
    { "queue", queue_at },
    { "handoff", handoff_at },
    { "lock", lock_at },
};
#define NKINDS (sizeof sweep_kinds / sizeof sweep_kinds[0])

enum { SWEEP_THREADS = 1000 };

static const struct pb_opt sweep_opts[] = {
    { "pools", 0, "LIST", "pool strategies, comma-separated names or plugins (./x.so), or "
      "'all'", 0 },
    { "queues", 0, "LIST", "queue strategies, likewise", 1 },
    { "handoffs", 0, "LIST", "handoff strategies, likewise ('all': every one but broken)", 2 },
    { "locks", 0, "LIST", "locks for every lock-based strategy of the scenario (pb_lock.h), "
      "likewise ('all': every one but broken-lock; a lock a strategy cannot take is an error)", 3 },
    { "threads", 0, "N,...", "thread counts, 1 to 256: requesters = workers = N for each",
      SWEEP_THREADS },
    { NULL, 0, NULL, NULL, 0 },
};

struct sweep_args {
    struct pb_scenario base;
    char items[NKINDS][LIST_MAX][LIST_ITEM_MAX];
    unsigned n[NKINDS];                 /* 0: the scenario's own */
    unsigned threads[THREADS_MAX], nthreads;
};

/* Two plugin paths (a name with a '/') that are one file. */
static bool same_plugin_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return strchr(a, '/') && strchr(b, '/') && stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int split_list(const char *value, char out[][LIST_ITEM_MAX], unsigned max,
                      const struct sweep_kind *kind, char *err, size_t errlen)
{
    unsigned n = 0;
    if (kind && strcmp(value, "all") == 0) {
        bool in_all;
        const char *name;
        for (size_t i = 0; (name = kind->name_at(i, &in_all)) != NULL && n < max; i++)
            if (in_all)
                snprintf(out[n++], LIST_ITEM_MAX, "%s", name);
        return (int)n;
    }
    const char *p = value;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= LIST_ITEM_MAX || n >= max) {
            snprintf(err, errlen, "bad list '%s' (comma-separated, at most %u items)", value, max);
            return -1;
        }
        memcpy(out[n], p, len);
        out[n][len] = 0;
        /* The same item twice ran once but showed as two rows; so did one
         * plugin named by two paths (./x.so, .//x.so, $PWD/x.so). */
        for (unsigned k = 0; k < n; k++) {
            if (strcmp(out[k], out[n]) == 0) {
                snprintf(err, errlen, "'%s' twice in the list '%s'", out[n], value);
                return -1;
            }
            if (same_plugin_file(out[k], out[n])) {
                snprintf(err, errlen, "'%s' and '%s' are one plugin file (in the list '%s')",
                         out[k], out[n], value);
                return -1;
            }
        }
        n++;
        /* A trailing comma is an item left out ('a,' was taken as 'a'
         * while ',a' and 'a,,b' were refused). */
        if (c && !c[1]) {
            snprintf(err, errlen, "bad list '%s' (comma-separated, at most %u items)", value, max);
            return -1;
        }
        p = c ? c + 1 : p + len;
    }
    if (!n)
        snprintf(err, errlen, "an empty list");
    return n ? (int)n : -1;
}

static int sweep_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                     size_t errlen)
{
    struct sweep_args *w = ctx;
    if (o->id != SWEEP_THREADS) {
        int n = split_list(value, w->items[o->id], LIST_MAX, &sweep_kinds[o->id], err, errlen);
        if (n < 0)
            return -1;
        w->n[o->id] = (unsigned)n;
        return 0;
    }
    char tl[THREADS_MAX][LIST_ITEM_MAX];
    int n = split_list(value, tl, THREADS_MAX, NULL, err, errlen);
    if (n < 0)
        return -1;
    for (int k = 0; k < n; k++) {
        uint64_t v;
        if (pb_opt_count(tl[k], 1, 256, &v, err, errlen) != 0)
            return -1;
        w->threads[k] = (unsigned)v;
    }
    w->nthreads = (unsigned)n;
    return 0;
}

static int sweep_scenario_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                              size_t errlen)
{
    return pb_scenario_opt_apply(&((struct sweep_args *)ctx)->base, o, value, err, errlen);
}

int pb_cmd_sweep(int argc, char **argv)
{
    struct pb_session ss;
    pb_session_init(&ss, "sweep");
    pb_session_note_command(&ss, argc, argv);
    static struct sweep_args w;
    memset(&w, 0, sizeof w);
    char err[512];
    pb_scenario_builtin(&w.base, "steady", err, sizeof err);
    w.base.duration_s = 1.0;
    struct pb_topo *topo = NULL;
    const struct pb_opt_group groups[] = {
        { "sweep options", sweep_opts, sweep_set, &w },
        { "session options", pb_session_opts, pb_session_set, &ss },
        { "topology options", pb_topology_opts, pb_topology_set, &topo },
        { SCENARIO_GROUP, pb_scenario_opts(), sweep_scenario_set, &w },
    };
    const struct pb_cli cli = {
        .verb = "sweep",
        .usage = "pendbench sweep [--pools a,b] [--queues a,b] [--handoffs a,b]\n"
                 "                       [--threads 1,2,4] [--scenario NAME] [OPTIONS]\n",
        .about = sweep_about,
        .groups = groups,
        .ngroups = sizeof groups / sizeof groups[0],
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO) {
        pb_topo_free(topo);
        return pb_cli_exit(pr);
    }
    /* The combinations: thread counts outermost, then the kinds in order. */
    unsigned block = 1, count[NKINDS];
    for (size_t k = 0; k < NKINDS; k++) {
        count[k] = w.n[k] ? w.n[k] : 1;
        block *= count[k];
    }
    unsigned nt = w.nthreads ? w.nthreads : 1;
    unsigned n = block * nt;
    struct pb_scenario *sc = calloc(n, sizeof *sc);
    int *baseline = calloc(n, sizeof *baseline);
    if (!sc || !baseline) {
        free(sc);
        free(baseline);
        pb_topo_free(topo);
        fprintf(stderr, "pendbench sweep: out of memory\n");
        return PB_EXIT_USAGE;
    }
    for (unsigned k = 0; k < n; k++) {
        struct pb_scenario s = w.base;
        unsigned rest = k % block;
        for (size_t d = NKINDS; d-- > 0;) {
            unsigned item = rest % count[d];
            rest /= count[d];
            if (w.n[d] && pb_scenario_set(&s, sweep_kinds[d].key, w.items[d][item], err,
                                          sizeof err) != 0) {
                free(sc);
                free(baseline);
                pb_topo_free(topo);
                return pb_cli_fail(&cli, "%s", err);
            }
        }
        if (w.nthreads)
            s.requesters = s.workers = w.threads[k / block];
        baseline[k] = (int)(k - k % block);
        sc[k] = s;
    }
    ss.sc = sc;
    ss.n = n;
    ss.baseline_of = baseline;
    ss.topo = topo;
    int st = pb_session_run(&ss);
    free(sc);
    free(baseline);
    pb_topo_free(topo);
    return st;
}

/* ---- the default suite ------------------------------------------------------------ */

static const char suite_about[] =
    "The default suite: every built-in scenario, and the strategies that matter\n"
    "side by side (queues against the global-mutex baseline, pools against\n"
    "malloc, handoffs against the global cancel lock; and the locks: the shared\n"
    "queue and the global cancel lock under each lock of the suite, against\n"
    "pthread-mutex), with the floors measured in the same run. A configuration\n"
    "that stands in two groups is measured once; one whose run saw another\n"
    "machine state than the session's majority (its c2c floor) is measured\n"
    "once more, after waiting for the floor to come back (at most a quarter of\n"
    "the time run so far, 30 s in all), and its 'vs base' marked '*' when it\n"
    "stays apart from its baseline's.\n"
    "About 80 s on 2 cores, more when runs are measured again (--quick: about\n"
    "20 s; --repeat N: N times that, the repetitions interleaved in random\n"
    "rounds). Writes\n"
    "results/<timestamp>/result.json and report.html beside it, and points\n"
    "results/latest at that folder (--json FILE writes the result there\n"
    "instead). The cross-node scenario runs on a simulated two-node topology\n"
    "when the machine has one node. Every invocation is also recorded in the\n"
    "history database, " PB_HISTORY_DEFAULT " (--history-db PATH: another;\n"
    "--no-history: not at all), for `pendbench history` and\n"
    "`pendbench compare --baseline last|COMMIT`.\n";

static const struct pb_opt suite_opts[] = {
    { "quick", 0, NULL, "the baselines and the defaults only, shorter runs (about 15 s)", 0 },
    { NULL, 0, NULL, NULL, 0 },
};

/* The suite's option groups, over a session and its --quick. */
static void suite_groups(struct pb_opt_group g[2], struct pb_session *ss, bool *quick)
{
    g[0] = (struct pb_opt_group){ "suite options", suite_opts, pb_opt_set_flag, quick };
    g[1] = (struct pb_opt_group){ "session options", pb_session_opts, pb_session_set, ss };
}

void pb_suite_print_options(FILE *f)
{
    struct pb_opt_group g[2];
    struct pb_session ss;
    bool quick;
    suite_groups(g, &ss, &quick);
    pb_cli_print_groups(g, 2, f);
}

#define SUITE_MAX 64

/* Adds a strategy to a suite group when it is in the suite and is (or is
 * not) the group's baseline. */
static void suite_take(const char *names[32], unsigned *count, const char *name, unsigned flags,
                       bool baseline)
{
    if ((flags & PB_IN_SUITE) && ((flags & PB_BASELINE) != 0) == baseline && *count < 32)
        names[(*count)++] = name;
}

int pb_cmd_suite(int argc, char **argv)
{
    struct pb_session ss;
    pb_session_init(&ss, "suite");
    pb_session_note_command(&ss, argc - 1, argv + 1);   /* argv[0] is the program */
    bool quick = false;
    struct pb_opt_group og[2];
    suite_groups(og, &ss, &quick);
    const struct pb_cli cli = {
        .verb = "",
        .usage = "pendbench [--quick] [SESSION OPTIONS]\n",
        .about = suite_about,
        .groups = og,
        .ngroups = 2,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO)
        return pb_cli_exit(pr);
    double dur = quick ? 0.4 : 1.6;
    struct pb_scenario sc[SUITE_MAX];
    int baseline[SUITE_MAX];
    unsigned n = 0;
    char err[512];
    /* Groups: (scenario, kind); their strategies are the registry's ones
     * flagged PB_IN_SUITE, the PB_BASELINE one first (the one the others
     * are measured against), then the rest in registry order. */
    /* The locks groups: the baseline (shared) queue and the baseline
     * (legacy cancel-lock) handoff, each under every lock in the suite. */
    const char *lock_queue = NULL, *lock_handoff = NULL;
    for (size_t i = 0; pb_queues[i] && !lock_queue; i++)
        if ((pb_queues[i]->flags & (PB_BASELINE | PB_SHARED)) == (PB_BASELINE | PB_SHARED) &&
            pb_queues[i]->lock)
            lock_queue = pb_queues[i]->name;
    for (size_t i = 0; pb_handoffs[i] && !lock_handoff; i++)
        if ((pb_handoffs[i]->flags & PB_BASELINE) && pb_handoffs[i]->lock)
            lock_handoff = pb_handoffs[i]->name;
    struct {
        const char *scenario, *kind;
        const char *fixed_kind, *fixed;       /* a strategy the group holds fixed, or NULL */
        const char *names[32];
        unsigned count;
    } groups[] = {
        { "steady", "queue", NULL, NULL, { 0 }, 0 },
        { "steady", "pool", NULL, NULL, { 0 }, 0 },
        { "cancel-race", "handoff", NULL, NULL, { 0 }, 0 },
        { "steady", "lock", "queue", lock_queue, { 0 }, 0 },
        { "cancel-race", "lock", "handoff", lock_handoff, { 0 }, 0 },
    };
    for (int pass = 0; pass < 2; pass++) {
        bool want_baseline = pass == 0;
        for (size_t i = 0; pb_queues[i]; i++)
            suite_take(groups[0].names, &groups[0].count, pb_queues[i]->name,
                       pb_queues[i]->flags, want_baseline);
        for (size_t i = 0; pb_pools[i]; i++)
            suite_take(groups[1].names, &groups[1].count, pb_pools[i]->name,
                       pb_pools[i]->flags, want_baseline);
        for (size_t i = 0; pb_handoffs[i]; i++)
            suite_take(groups[2].names, &groups[2].count, pb_handoffs[i]->name,
                       pb_handoffs[i]->flags, want_baseline);
        for (size_t g = 3; g < 5; g++)
            for (size_t i = 0; pb_locks[i] && groups[g].fixed; i++)
                suite_take(groups[g].names, &groups[g].count, pb_locks[i]->name,
                           pb_locks[i]->flags, want_baseline);
    }
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        unsigned first = n;
        /* --quick: the baseline and the default only (the scenario's own
         * strategy of the kind; for locks the fixed strategy's own lock),
         * or the group's last when the default is the baseline. */
        const char *dflt = NULL;
        struct pb_scenario s0;
        if (pb_scenario_builtin(&s0, groups[g].scenario, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench: suite: %s\n", err);
            return PB_EXIT_USAGE;
        }
        if (strcmp(groups[g].kind, "pool") == 0)
            dflt = s0.pool;
        else if (strcmp(groups[g].kind, "queue") == 0)
            dflt = s0.queue;
        else if (strcmp(groups[g].kind, "handoff") == 0)
            dflt = s0.handoff;
        else if (groups[g].fixed && strcmp(groups[g].fixed_kind, "queue") == 0)
            dflt = pb_queue_find(groups[g].fixed) ? pb_queue_find(groups[g].fixed)->lock : NULL;
        else if (groups[g].fixed)
            dflt = pb_handoff_find(groups[g].fixed) ? pb_handoff_find(groups[g].fixed)->lock : NULL;
        bool default_is_base = !dflt || !groups[g].count ||
                               strcmp(dflt, groups[g].names[0]) == 0;
        for (unsigned k = 0; k < groups[g].count; k++) {
            bool keep = k == 0 || (default_is_base ? k + 1 == groups[g].count
                                                   : strcmp(groups[g].names[k], dflt) == 0);
            if (quick && !keep)
                continue;
            if (n >= SUITE_MAX) {
                fprintf(stderr, "pendbench: suite: more than %d configurations\n", SUITE_MAX);
                return PB_EXIT_USAGE;
            }
            struct pb_scenario s;
            if (pb_scenario_builtin(&s, groups[g].scenario, err, sizeof err) != 0 ||
                (groups[g].fixed &&
                 pb_scenario_set(&s, groups[g].fixed_kind, groups[g].fixed, err, sizeof err) != 0) ||
                pb_scenario_set(&s, groups[g].kind, groups[g].names[k], err, sizeof err) != 0) {
                fprintf(stderr, "pendbench: suite: %s\n", err);
                return PB_EXIT_USAGE;
            }
            s.duration_s = dur;
            baseline[n] = (int)first;
            sc[n++] = s;
        }
    }
    for (const struct pb_builtin *b = pb_builtins; b->name; b++) {
        if (strcmp(b->name, "steady") == 0 || strcmp(b->name, "cancel-race") == 0 ||
            strcmp(b->name, "cross-node") == 0)
            continue;
        if (n + 1 >= SUITE_MAX) {     /* one left for cross-node */
            fprintf(stderr, "pendbench: suite: more than %d configurations\n", SUITE_MAX);
            return PB_EXIT_USAGE;
        }
        if (pb_scenario_builtin(&sc[n], b->name, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench: suite: %s\n", err);
            return PB_EXIT_USAGE;
        }
        sc[n].duration_s = dur;
        baseline[n] = -1;
        n++;
    }
    /* cross-node needs two nodes: on a one-node machine, it runs on a
     * simulated two-node topology folded onto this machine's CPUs. */
    const struct pb_topo *topo_of[SUITE_MAX] = { 0 };
    struct pb_topo *machine = NULL, *sim = NULL;
    if (pb_topo_load(&machine, PB_TOPO_MACHINE, NULL, err, sizeof err) == 0 &&
        pb_scenario_builtin(&sc[n], "cross-node", err, sizeof err) == 0) {
        if (pb_topo_nnodes(machine) < 2 &&
            pb_topo_load(&sim, PB_TOPO_SYNTHETIC, "pack:1 numa:2 core:2 pu:1", err, sizeof err) == 0)
            topo_of[n] = sim;
        sc[n].duration_s = dur;
        baseline[n] = -1;
        n++;
    }
    ss.sc = sc;
    ss.n = n;
    ss.baseline_of = baseline;
    ss.topo_of = topo_of;
    ss.suite_dir = ss.json_path == NULL;
    int st = pb_session_run(&ss);
    if (sim)
        fprintf(ss.json_path && strcmp(ss.json_path, "-") == 0 ? stderr : stdout,
                "cross-node ran on the simulated topology 'pack:1 numa:2 core:2 pu:1'\n");
    pb_topo_free(sim);
    pb_topo_free(machine);
    return st;
}
