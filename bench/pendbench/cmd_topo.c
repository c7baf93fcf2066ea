/* pendbench topo: the topology and the placement plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

enum { TOPO_PLACEMENT = 3, TOPO_JSON };

static const struct pb_opt topo_opts[] = {
    { "placement", 0, "compact|scatter|same-node|cross-node", "where the threads go (default "
      "compact)", TOPO_PLACEMENT },
    { "requesters", 0, "N", "requester threads to place, 1 to 1024 (default 1)", 0 },
    { "workers", 0, "N", "worker threads to place, 1 to 1024 (default 1)", 1 },
    { "cancellers", 0, "N", "canceller threads to place, 0 to 1024 (default 1)", 2 },
    { "json", 0, NULL, "the plan as JSON on stdout: every thread's role, index, pu, numa_node, "
      "os_cpu", TOPO_JSON },
    { NULL, 0, NULL, NULL, 0 },
};

struct topo_args {
    pb_placement pl;
    unsigned counts[3];         /* requesters, workers, cancellers: the ids above */
    bool json;
};

static int topo_set(void *ctx, const struct pb_opt *o, const char *v, char *err, size_t errlen)
{
    struct topo_args *a = ctx;
    if (o->id == TOPO_JSON) {
        a->json = true;
        return 0;
    }
    if (o->id == TOPO_PLACEMENT) {
        if (pb_placement_parse(v, &a->pl) == 0)
            return 0;
        snprintf(err, errlen, "'%s' is not one of compact, scatter, same-node, cross-node", v);
        return -1;
    }
    uint64_t n;
    if (pb_opt_count(v, o->id == 2 ? 0 : 1, 1024, &n, err, errlen) != 0)
        return -1;
    a->counts[o->id] = (unsigned)n;
    return 0;
}

int pb_cmd_topo(int argc, char **argv)
{
    struct pb_topo *topo = NULL;
    struct topo_args args = { .pl = PB_PLACE_COMPACT, .counts = { 1, 1, 1 } };
    int status = PB_EXIT_USAGE;
    const struct pb_opt_group groups[] = {
        { "options", topo_opts, topo_set, &args },
        { "topology options", pb_topology_opts, pb_topology_set, &topo },
    };
    const struct pb_cli cli = {
        .verb = "topo",
        .usage = "pendbench topo [--topology DESC | --topology-xml FILE] [--placement P]\n"
                 "                      [--requesters N] [--workers N] [--cancellers N] [--json]\n",
        .about = "Prints the topology (this machine's, an hwloc synthetic description such as\n"
                 "'pack:2 numa:2 core:4 pu:2', or an hwloc XML file) and where each thread\n"
                 "would run: its planned processor, its NUMA node, and the real CPU of this\n"
                 "machine it maps onto.\n",
        .groups = groups,
        .ngroups = 2,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO) {
        pb_topo_free(topo);
        return pb_cli_exit(pr);
    }
    pb_placement pl = args.pl;
    unsigned *counts = args.counts;
    bool json = args.json;
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
