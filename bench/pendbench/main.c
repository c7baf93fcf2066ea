/* pendbench: the suite's command. `pendbench` alone runs the default
 * suite; the verbs are run, sweep, stress, topo, list, demo. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

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
            "             matter, about a minute on 2 cores; writes\n"
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
            "`pendbench VERB --help` describes each verb. Exit status: 0 ok, 1 a run's\n"
            "invariants failed, 2 bad input.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            usage(stdout);
            return PB_EXIT_OK;
        }
        return pb_cmd_suite(argc - 1, argv + 1);
    }
    static const struct { const char *name; int (*fn)(int, char **); } verbs[] = {
        { "run", pb_cmd_run }, { "sweep", pb_cmd_sweep }, { "stress", pb_cmd_stress },
        { "report", pb_cmd_report },
        { "topo", pb_cmd_topo }, { "list", pb_cmd_list }, { "demo", pb_cmd_demo },
        { "compare", pb_cmd_compare }, { "ab", pb_cmd_ab },
        { "export", pb_cmd_export },
        { "history", pb_cmd_history },
    };
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0)
            return verbs[i].fn(argc - 1, argv + 1);
    if (strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return PB_EXIT_OK;
    }
    fprintf(stderr, "pendbench: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return PB_EXIT_USAGE;
}
