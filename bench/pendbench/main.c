/* pendbench: the suite's command. `pendbench` alone runs the default
 * suite; the verbs are run, sweep, stress, topo, list, demo. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "pb_asan.h"
#include "pb_err.h"
#include "pb_result.h"

#ifdef PB_ASAN
/* The AddressSanitizer build only. libhwloc 2.9 leaks the objects it had
 * built when it gives up on an XML topology part-way (a file cut short:
 * blocks from hwloc_alloc_setup_object and hwloc_bitmap_alloc; a bare
 * hwloc_topology_init, set_xml, load, destroy leaks the same), and some of
 * its synthetic error paths do too: LeakSanitizer reported them at exit and
 * turned the exit status 2 of a clear error into 1. pendbench destroys
 * every topology it makes (workloads/topo.c); its own allocations carry no
 * libhwloc frame and stay checked. The fuzz targets suppress the same
 * (fuzz/fuzz_topo.h); the test programs suppress nothing. Matching it
 * prints nothing (LeakSanitizer would list the suppressions it used after
 * the error message). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libhwloc.so\n";
}

const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench [VERB] [OPTIONS]\n"
            "\n"
            "A benchmark and stress suite for the pended-I/O path of a filter stack:\n"
            "a user-space model of the Windows Filter Manager's pend / cancel / complete\n"
            "machinery, driven by NUMA-aware workloads.\n"
            "\n"
            "  (no verb)  the default suite: every scenario across the strategies that\n"
            "             matter, 80-130 s on 2 cores; writes\n"
            "             results/<timestamp>/result.json and report.html, points\n"
            "             results/latest at it, records the runs in results/history.db\n"
            "  run        one scenario, a built-in (--scenario NAME) or a job file\n"
            "  sweep      strategies x thread counts for one scenario\n"
            "  stress     long randomized runs over every strategy with invariant checks\n"
            "  topo       the topology and the thread placement plan\n"
            "  list       strategies, scenarios and options\n"
            "  demo       the model driven directly through the flt_* API\n"
            "  report     result files to one self-contained HTML page, compared side by side\n"
            "  compare    two result files (or a recorded run): changes, significance, verdicts\n"
            "  ab         two builds measured alternately (ABBA) and compared: the CI gate\n"
            "  export     a result file as Google Benchmark JSON (for its compare.py) or CSV\n"
            "  history    the trend of a figure across recorded runs and commits\n"
            "\n"
            "  help VERB  the help of one verb (as `pendbench VERB --help`)\n"
            "\n"
            "Without a verb, pendbench runs the default suite, which takes these\n"
            "options (`pendbench --suite-help` says more):\n"
            "\n");
    pb_suite_print_options(f);
    fprintf(f,
            "\n"
            "`pendbench --version` prints the version, git commit and build variant.\n"
            "`pendbench VERB --help` describes each verb. Every verb reads its options\n"
            "the same way: --name VALUE or --name=VALUE, flags without a value, -h or\n"
            "--help, -- before arguments that start with a dash; an option once (one\n"
            "whose value reads M... may repeat); durations take a unit (500ms, 2s,\n"
            "1min), counts a suffix (1k, 2M), percentages an optional %%.\n"
            "Exit status: 0 ok, 1 a run's invariants failed, 2 bad input.\n");
}

static const struct { const char *name; int (*fn)(int, char **); } verbs[] = {
    { "run", pb_cmd_run }, { "sweep", pb_cmd_sweep }, { "stress", pb_cmd_stress },
    { "report", pb_cmd_report },
    { "topo", pb_cmd_topo }, { "list", pb_cmd_list }, { "demo", pb_cmd_demo },
    { "compare", pb_cmd_compare }, { "ab", pb_cmd_ab },
    { "export", pb_cmd_export },
    { "history", pb_cmd_history },
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

static int (*verb_fn(const char *name))(int, char **)
{
    for (size_t i = 0; i < NVERBS; i++)
        if (strcmp(name, verbs[i].name) == 0)
            return verbs[i].fn;
    return NULL;
}

static int unknown_verb(const char *name)
{
    const char *names[NVERBS + 1];
    for (size_t i = 0; i < NVERBS; i++)
        names[i] = verbs[i].name;
    names[NVERBS] = "help";
    const char *near = pb_closest(name, names, NVERBS + 1);
    if (near)
        fprintf(stderr, "pendbench: unknown verb '%s'; did you mean '%s'?\n\n", name, near);
    else
        fprintf(stderr, "pendbench: unknown verb '%s'\n\n", name);
    usage(stderr);
    return PB_EXIT_USAGE;
}

/* What this program is: a version, the commit it was built from, and the
 * build variant (a sanitizer build's figures are not release figures). */
static int version(int argc, char **argv)
{
    if (argc > 2) {
        char shown[128];
        fprintf(stderr, "pendbench: %s takes no arguments (got '%s')\n", argv[1],
                pb_text_escape(argv[2], shown, sizeof shown));
        return PB_EXIT_USAGE;
    }
    struct pb_context c;
    pb_context_collect(&c, NULL);
    printf("pendbench %s (commit %s, %s build, plugin ABI %u)\n", PENDBENCH_VERSION,
           c.git_commit, c.build_variant, PB_PLUGIN_ABI_VERSION);
    return PB_EXIT_OK;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return PB_EXIT_OK;
        }
        if (argc >= 2 && strcmp(argv[1], "--version") == 0)
            return version(argc, argv);
        if (argc >= 2 && strcmp(argv[1], "--suite-help") == 0) {
            char *help[] = { argv[0], "--help", NULL };
            return pb_cmd_suite(2, help);
        }
        return pb_cmd_suite(argc, argv);
    }
    int (*fn)(int, char **) = verb_fn(argv[1]);
    if (fn)
        return fn(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0)
        return version(argc, argv);
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return PB_EXIT_OK;
        }
        fn = verb_fn(argv[2]);
        if (!fn)
            return unknown_verb(argv[2]);
        char *help[] = { argv[2], "--help", NULL };
        return fn(2, help);
    }
    return unknown_verb(argv[1]);
}

int main(int argc, char **argv)
{
    /* A reader that closes our stdout early (`| head`) costs EPIPE on a
     * write, not a SIGPIPE that kills the verb between its output and the
     * rest of its work (the history record after `run --json -`, the rest
     * of a `history import`); pb_finish_stdout says what was cut short. */
    signal(SIGPIPE, SIG_IGN);
    int status = dispatch(argc, argv);
    const char *verb = argc >= 2 && argv[1][0] != '-' && verb_fn(argv[1]) ? argv[1] : "";
    return pb_finish_stdout(verb, status);
}
