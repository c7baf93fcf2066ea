/* The verbs that run scenarios: the default suite, run, sweep. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "pb_history.h"

/* The session's flags (no value): 1 handled (advancing *i), 0 not one. */
static int session_flag(struct pb_session *ss, char **argv, int *i)
{
    const char *a = argv[*i];
    if (strcmp(a, "--quiet") == 0)
        ss->quiet = true;
    else if (strcmp(a, "--no-history") == 0 || strcmp(a, "--no-interleave") == 0)
        pb_session_option(ss, a + 2, NULL);
    else
        return 0;
    (*i)++;
    return 1;
}

/* Options common to run / sweep / the suite. Returns 1 handled, 0 not
 * mine, -1 error (printed). */
static int scenario_option(const char *verb, const char *key, const char *value,
                           struct pb_scenario *sc)
{
    for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++) {
        if (strcmp(o->name, key) != 0)
            continue;
        if (!value) {
            fprintf(stderr, "pendbench %s: --%s needs a value (%s)\n", verb, key, o->syntax);
            return -1;
        }
        char err[256];
        if (pb_scenario_set(sc, key, value, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench %s: --%s: %s\n", verb, key, err);
            return -1;
        }
        return 1;
    }
    return 0;
}

static void print_scenario_options(FILE *f)
{
    fprintf(f, "scenario options (also the keys of job files):\n");
    for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++)
        fprintf(f, "  --%-16s %-28s %s\n", o->name, o->syntax, o->help);
}

/* An unknown option of run / sweep / the suite, with the closest known one. */
static void unknown_option(const char *verb, const char *key)
{
    const char *names[128];
    size_t n = 0;
    for (const struct pb_option_doc *o = pb_scenario_options; o->name && n < 100; o++)
        names[n++] = o->name;
    static const char *const own[] = { "repeat", "json", "history-db", "no-history",
                                       "no-interleave", "interleave-seed", "max-cv", "quiet",
                                       "topology", "topology-xml", "help", "quick", "pools",
                                       "queues", "handoffs", "threads" };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        names[n++] = own[i];
    const char *near = pb_closest(key, names, n);
    if (near)
        fprintf(stderr, "pendbench %s: unknown option '--%s'; did you mean --%s?\n", verb, key,
                near);
    else
        fprintf(stderr, "pendbench %s: unknown option '--%s'\n", verb, key);
}

/* ---- run ---------------------------------------------------------------------- */

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench run [--scenario NAME | JOBFILE] [OPTIONS] [--repeat N]\n"
            "                     [--json FILE] [--topology DESC | --topology-xml FILE] [--quiet]\n"
            "                     [--no-history | --history-db PATH]\n"
            "\n"
            "Runs one scenario: a built-in (see `pendbench list`), the jobs of an INI job\n"
            "file ([global] plus one section per job; keys are the option names below),\n"
            "or the defaults changed by options. Options on the command line, before or\n"
            "after JOBFILE, are explicit: they win over the job file's keys ([global] and\n"
            "its sections), and a note names each override. --repeat runs each job N times\n"
            "(compare uses the repetitions for significance), interleaved: every round\n"
            "measures each job once, in a seeded random order, so drift hits all jobs\n"
            "alike. --json writes the result file (atomically; '-' for stdout). Every\n"
            "invocation is also recorded in the history database (--history-db PATH or\n"
            "$PENDBENCH_HISTORY_DB: another; --no-history: not at all), for\n"
            "`pendbench history` and `compare --baseline`.\n\n");
    fputs(pb_session_options_help, f);
    fputs("\n", f);
    print_scenario_options(f);
}

int pb_cmd_run(int argc, char **argv)
{
    struct pb_session ss;
    pb_session_init(&ss, "run");
    pb_session_note_command(&ss, argc, argv);
    struct pb_scenario base;
    pb_scenario_defaults(&base);
    struct pb_topo *topo = NULL;
    const char *jobfile = NULL;
    char key[64];
    const char *value;
    /* The scenario options given, in order: applied again over each job. */
    enum { MAX_CLI = 64 };
    struct { char key[64]; const char *value; } cli[MAX_CLI];
    unsigned ncli = 0;
    for (int i = 1; i < argc;) {
        if (argv[i][0] != '-') {
            if (jobfile) {
                fprintf(stderr, "pendbench run: one job file at a time ('%s', '%s')\n", jobfile, argv[i]);
                goto usage_err;
            }
            jobfile = argv[i++];
            continue;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            run_usage(stdout);
            pb_topo_free(topo);
            return PB_EXIT_OK;
        }
        if (session_flag(&ss, argv, &i))
            continue;
        if (pb_next_option(argc, argv, &i, "run", key, sizeof key, &value) != 0)
            goto usage_err;
        int t = pb_topology_option(key, value, &topo);
        if (t < 0)
            goto usage_err;
        if (t > 0)
            continue;
        int o = pb_session_option(&ss, key, value);
        if (o < 0)
            goto usage_err;
        if (o > 0)
            continue;
        int sc = scenario_option("run", key, value, &base);
        if (sc < 0)
            goto usage_err;
        if (sc == 0) {
            unknown_option("run", key);
            goto usage_err;
        }
        if (ncli == MAX_CLI) {
            fprintf(stderr, "pendbench run: more than %d scenario options\n", MAX_CLI);
            goto usage_err;
        }
        snprintf(cli[ncli].key, sizeof cli[ncli].key, "%s", key);
        cli[ncli++].value = value;
    }
    struct pb_scenario *jobs = NULL;
    int njobs = 1;
    char err[512];
    if (jobfile) {
        njobs = pb_jobfile_load(jobfile, &base, &jobs, err, sizeof err);
        if (njobs < 0) {
            fprintf(stderr, "pendbench run: %s\n", err);
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        /* The command line wins over the file, in any position. */
        for (int j = 0; j < njobs; j++) {
            for (unsigned k = 0; k < ncli; k++) {
                /* --scenario is where jobs start (a section's scenario= picks its own). */
                if (strcmp(cli[k].key, "scenario") == 0)
                    continue;
                struct pb_scenario before = jobs[j];
                if (pb_scenario_set(&jobs[j], cli[k].key, cli[k].value, err, sizeof err) != 0) {
                    fprintf(stderr, "pendbench run: --%s: %s\n", cli[k].key, err);
                    free(jobs);
                    pb_topo_free(topo);
                    return PB_EXIT_USAGE;
                }
                if (!pb_scenario_equal(&before, &jobs[j]))
                    fprintf(stderr, "note: job '%s': --%s %s on the command line overrides %s\n",
                            jobs[j].name, cli[k].key, cli[k].value, jobfile);
            }
            if (pb_scenario_validate(&jobs[j], err, sizeof err) != 0) {
                fprintf(stderr, "pendbench run: job '%s': %s\n", jobs[j].name, err);
                free(jobs);
                pb_topo_free(topo);
                return PB_EXIT_USAGE;
            }
        }
    } else {
        if (pb_scenario_validate(&base, err, sizeof err) != 0) {
            fprintf(stderr, "pendbench run: %s\n", err);
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        jobs = malloc(sizeof *jobs);
        if (!jobs) {
            pb_topo_free(topo);
            return PB_EXIT_USAGE;
        }
        jobs[0] = base;
    }
    /* Several jobs: the first is the baseline of the 'vs base' column. */
    int *first = njobs > 1 ? calloc((size_t)njobs, sizeof *first) : NULL;
    ss.sc = jobs;
    ss.n = (unsigned)njobs;
    ss.baseline_of = first;
    ss.topo = topo;
    int st = pb_session_run(&ss);
    free(first);
    free(jobs);
    pb_topo_free(topo);
    return st;
usage_err:
    pb_topo_free(topo);
    fprintf(stderr, "(see `pendbench run --help`)\n");
    return PB_EXIT_USAGE;
}

/* ---- sweep ------------------------------------------------------------------- */

static void sweep_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench sweep [--pools a,b] [--queues a,b] [--handoffs a,b]\n"
            "                       [--threads 1,2,4] [--scenario NAME] [OPTIONS] [--json FILE]\n"
            "\n"
            "Runs one scenario (default: steady) for every combination of the listed\n"
            "strategies and thread counts (--threads sets requesters = workers = N).\n"
            "A list may be 'all'. Unlisted kinds keep the scenario's strategy. The\n"
            "first combination is the baseline of the 'vs base' column. With --repeat,\n"
            "the repetitions are interleaved across the combinations. The runs are\n"
            "recorded in " PB_HISTORY_DEFAULT " (--history-db PATH: another;\n"
            "--no-history: not at all).\n\n");
    fputs(pb_session_options_help, f);
    fputs("\n", f);
}

/* A list item: a strategy's name, or a plugin's path (longer). */
#define LIST_ITEM_MAX 1024

static int split_list(const char *verb, const char *key, const char *value, char out[][LIST_ITEM_MAX],
                      unsigned max, const char *kind)
{
    if (!value || !*value) {
        fprintf(stderr, "pendbench %s: --%s needs a comma-separated list\n", verb, key);
        return -1;
    }
    unsigned n = 0;
    if (strcmp(value, "all") == 0 && kind) {
        for (size_t i = 0;; i++) {
            const char *name = strcmp(kind, "pool") == 0 ? (pb_pools[i] ? pb_pools[i]->name : NULL)
                             : strcmp(kind, "queue") == 0 ? (pb_queues[i] ? pb_queues[i]->name : NULL)
                             : (pb_handoffs[i] ? pb_handoffs[i]->name : NULL);
            if (!name || n >= max)
                break;
            if (strcmp(kind, "handoff") == 0 && (pb_handoffs[i]->flags & PB_BROKEN))
                continue;
            snprintf(out[n++], LIST_ITEM_MAX, "%s", name);
        }
        return (int)n;
    }
    const char *p = value;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == 0 || len >= LIST_ITEM_MAX || n >= max) {
            fprintf(stderr, "pendbench %s: --%s: bad list '%s'\n", verb, key, value);
            return -1;
        }
        memcpy(out[n], p, len);
        out[n][len] = 0;
        n++;
        p = c ? c + 1 : p + len;
    }
    return (int)n;
}

int pb_cmd_sweep(int argc, char **argv)
{
    struct pb_session ss;
    pb_session_init(&ss, "sweep");
    pb_session_note_command(&ss, argc, argv);
    struct pb_scenario base;
    char err[512];
    pb_scenario_builtin(&base, "steady", err, sizeof err);
    base.duration_s = 1.0;
    struct pb_topo *topo = NULL;
    static char pools[32][LIST_ITEM_MAX], queues[32][LIST_ITEM_MAX], handoffs[32][LIST_ITEM_MAX];
    int np = 0, nq = 0, nh = 0, nt = 0;
    unsigned threads[16];
    char key[64];
    const char *value;
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            sweep_usage(stdout);
            print_scenario_options(stdout);
            pb_topo_free(topo);
            return PB_EXIT_OK;
        }
        if (session_flag(&ss, argv, &i))
            continue;
        if (pb_next_option(argc, argv, &i, "sweep", key, sizeof key, &value) != 0)
            goto usage_err;
        int t = pb_topology_option(key, value, &topo);
        if (t < 0)
            goto usage_err;
        if (t > 0)
            continue;
        int o = pb_session_option(&ss, key, value);
        if (o < 0)
            goto usage_err;
        if (o > 0)
            continue;
        if (strcmp(key, "pools") == 0) {
            if ((np = split_list("sweep", key, value, pools, 32, "pool")) < 0)
                goto usage_err;
        } else if (strcmp(key, "queues") == 0) {
            if ((nq = split_list("sweep", key, value, queues, 32, "queue")) < 0)
                goto usage_err;
        } else if (strcmp(key, "handoffs") == 0) {
            if ((nh = split_list("sweep", key, value, handoffs, 32, "handoff")) < 0)
                goto usage_err;
        } else if (strcmp(key, "threads") == 0) {
            char tl[16][LIST_ITEM_MAX];
            int n = split_list("sweep", key, value, tl, 16, NULL);
            if (n < 0)
                goto usage_err;
            for (int k = 0; k < n; k++) {
                char *end;
                unsigned long v = strtoul(tl[k], &end, 10);
                if (*end || v < 1 || v > 256 || tl[k][0] == '-') {
                    fprintf(stderr, "pendbench sweep: --threads: '%s' is not a count from 1 to 256\n", tl[k]);
                    goto usage_err;
                }
                threads[k] = (unsigned)v;
            }
            nt = n;
        } else {
            int s = scenario_option("sweep", key, value, &base);
            if (s < 0)
                goto usage_err;
            if (s == 0) {
                unknown_option("sweep", key);
                goto usage_err;
            }
        }
    }
    if (!np) { snprintf(pools[0], LIST_ITEM_MAX, "%s", base.pool); np = 1; }
    if (!nq) { snprintf(queues[0], LIST_ITEM_MAX, "%s", base.queue); nq = 1; }
    if (!nh) { snprintf(handoffs[0], LIST_ITEM_MAX, "%s", base.handoff); nh = 1; }
    if (!nt) { threads[0] = base.requesters; nt = 1; }
    unsigned n = (unsigned)(np * nq * nh * nt);
    struct pb_scenario *sc = calloc(n, sizeof *sc);
    int *baseline = calloc(n, sizeof *baseline);
    unsigned k = 0;
    for (int t = 0; t < nt; t++)
        for (int a = 0; a < np; a++)
            for (int b = 0; b < nq; b++)
                for (int c = 0; c < nh; c++) {
                    struct pb_scenario s = base;
                    if (pb_scenario_set(&s, "pool", pools[a], err, sizeof err) ||
                        pb_scenario_set(&s, "queue", queues[b], err, sizeof err) ||
                        pb_scenario_set(&s, "handoff", handoffs[c], err, sizeof err)) {
                        fprintf(stderr, "pendbench sweep: %s\n", err);
                        free(sc);
                        free(baseline);
                        goto usage_err;
                    }
                    s.requesters = s.workers = threads[t];
                    baseline[k] = (int)(k - (k % (unsigned)(np * nq * nh)));
                    sc[k++] = s;
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
usage_err:
    pb_topo_free(topo);
    fprintf(stderr, "(see `pendbench sweep --help`)\n");
    return PB_EXIT_USAGE;
}

/* ---- the default suite ------------------------------------------------------------ */

static void suite_usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench [--quick] [--quiet] [--repeat N] [--json FILE]\n"
            "                 [--no-history | --history-db PATH]\n"
            "\n"
            "The default suite: every built-in scenario, and the strategies that matter\n"
            "side by side (queues against the global-mutex baseline, pools against\n"
            "malloc, handoffs against the global cancel lock), with the floors measured in\n"
            "the same run. A configuration that stands in two groups is measured once.\n"
            "About a minute on 2 cores (--quick: about 15 s; --repeat N: N times that,\n"
            "the repetitions interleaved in random rounds). Writes\n"
            "results/<timestamp>/result.json and report.html beside it, and points\n"
            "results/latest at that folder (--json FILE writes the result there\n"
            "instead). The cross-node scenario runs on a simulated\n"
            "two-node topology when the machine has one node. Every invocation is also\n"
            "recorded in the history database, " PB_HISTORY_DEFAULT " (--history-db\n"
            "PATH: another; --no-history: not at all), for `pendbench history` and\n"
            "`pendbench compare --baseline last|COMMIT`.\n\n");
    fputs(pb_session_options_help, f);
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
    pb_session_note_command(&ss, argc, argv);
    bool quick = false;
    char key[64];
    const char *value;
    for (int i = 0; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            suite_usage(stdout);
            return PB_EXIT_OK;
        }
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
            i++;
            continue;
        }
        if (session_flag(&ss, argv, &i))
            continue;
        if (pb_next_option(argc, argv, &i, "suite", key, sizeof key, &value) != 0)
            goto usage_err;
        int o = pb_session_option(&ss, key, value);
        if (o < 0)
            goto usage_err;
        if (o == 0) {
            unknown_option("suite", key);
            goto usage_err;
        }
    }
    double dur = quick ? 0.4 : 1.6;
    struct pb_scenario sc[SUITE_MAX];
    int baseline[SUITE_MAX];
    unsigned n = 0;
    char err[512];
    /* Groups: (scenario, kind); their strategies are the registry's ones
     * flagged PB_IN_SUITE, the PB_BASELINE one first (the one the others
     * are measured against), then the rest in registry order. */
    struct { const char *scenario, *kind; const char *names[32]; unsigned count; } groups[] = {
        { "steady", "queue", { 0 }, 0 },
        { "steady", "pool", { 0 }, 0 },
        { "cancel-race", "handoff", { 0 }, 0 },
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
    }
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        unsigned first = n;
        for (unsigned k = 0; k < groups[g].count; k++) {
            if (quick && k > 0 && k + 1 < groups[g].count)
                continue;            /* --quick: the baseline and the default only */
            if (n >= SUITE_MAX) {
                fprintf(stderr, "pendbench: suite: more than %d configurations\n", SUITE_MAX);
                return PB_EXIT_USAGE;
            }
            struct pb_scenario s;
            if (pb_scenario_builtin(&s, groups[g].scenario, err, sizeof err) != 0 ||
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
usage_err:
    fprintf(stderr, "(see `pendbench --help`)\n");
    return PB_EXIT_USAGE;
}
