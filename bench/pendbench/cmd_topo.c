/* pendbench topo: the topology and the placement plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench topo [--topology DESC | --topology-xml FILE] [--placement P]\n"
            "                      [--requesters N] [--workers N] [--cancellers N] [--json]\n"
            "\n"
            "Prints the topology (this machine's, an hwloc synthetic description such as\n"
            "'pack:2 numa:2 core:4 pu:2', or an hwloc XML file) and where each thread\n"
            "would run: its planned processor, its NUMA node, and the real CPU of this\n"
            "machine it maps onto. Placement: compact, scatter, same-node, cross-node\n"
            "(default compact; 1 requester, 1 worker, 1 canceller).\n");
}

int pb_cmd_topo(int argc, char **argv)
{
    struct pb_topo *topo = NULL;
    pb_placement pl = PB_PLACE_COMPACT;
    unsigned counts[3] = { 1, 1, 1 };
    bool json = false;
    char key[64];
    const char *v;
    int status = PB_EXIT_USAGE;
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            pb_topo_free(topo);
            return PB_EXIT_OK;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
            i++;
            continue;
        }
        if (pb_next_option(argc, argv, &i, "topo", key, sizeof key, &v) != 0)
            goto out;
        int t = pb_topology_option(key, v, &topo);
        if (t < 0)
            goto out;
        if (t > 0)
            continue;
        if (strcmp(key, "placement") == 0) {
            if (!v || pb_placement_parse(v, &pl) != 0) {
                fprintf(stderr, "pendbench topo: --placement: '%s' is not one of compact, scatter, "
                                "same-node, cross-node\n", v ? v : "");
                goto out;
            }
            continue;
        }
        int idx = strcmp(key, "requesters") == 0 ? 0 : strcmp(key, "workers") == 0 ? 1
                : strcmp(key, "cancellers") == 0 ? 2 : -1;
        if (idx < 0) {
            fprintf(stderr, "pendbench topo: unknown option '--%s' (see `pendbench topo --help`)\n", key);
            goto out;
        }
        char *end;
        unsigned long n = v ? strtoul(v, &end, 10) : 0;
        if (!v || *end || v[0] == '-' || n > 1024) {
            fprintf(stderr, "pendbench topo: --%s wants a count from 0 to 1024\n", key);
            goto out;
        }
        counts[idx] = (unsigned)n;
    }
    char err[512];
    if (!topo && pb_topo_load(&topo, PB_TOPO_MACHINE, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench topo: %s\n", err);
        goto out;
    }
    struct pb_plan plan;
    if (pb_plan_make(topo, pl, counts[0], counts[1], counts[2], &plan, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench topo: %s\n", err);
        goto out;
    }
    if (json) {
        pb_plan_print_json(&plan, topo, stdout);
    } else {
        pb_topo_print(topo, stdout);
        printf("\n");
        pb_plan_print(&plan, topo, stdout);
    }
    pb_plan_free(&plan);
    status = PB_EXIT_OK;
out:
    pb_topo_free(topo);
    return status;
}
