/* Topology and placement (hwloc). A topology comes from the machine, an
 * hwloc synthetic description ("pack:2 numa:2 core:4 pu:2") or an hwloc
 * XML file. A plan puts requesters, workers and cancellers on processors
 * of that topology by a policy, and maps every planned processor onto a
 * real CPU of this machine (a simulated topology may have more processors
 * than the machine: they are folded onto the real ones, and the plan says
 * both). Nothing is ever placed on a processor that does not exist. */
#ifndef PB_TOPO_H
#define PB_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pb_topo;

typedef enum {
    PB_TOPO_MACHINE = 0,
    PB_TOPO_SYNTHETIC,      /* arg: hwloc synthetic description */
    PB_TOPO_XML,            /* arg: path of an hwloc XML file */
} pb_topo_source;

struct pb_pu_info {
    unsigned index;         /* logical processor index in the topology (0..npus-1) */
    unsigned os_index;      /* the topology's own OS index (may be fake when simulated) */
    int numa_node;          /* logical index of its NUMA node; -1 when none */
    unsigned core;          /* logical index of its core */
    unsigned package;       /* logical index of its package; 0 when none */
};

struct pb_node_info {
    unsigned index;         /* logical NUMA node index */
    unsigned os_index;
    unsigned npus;          /* processors local to it (0: memory-only node) */
    uint64_t memory_bytes;  /* local memory, 0 when unknown */
};

/* Loads a topology. 0, or -1 with a message in err naming the problem
 * ("hwloc rejected the synthetic description 'x': ...", "no processors"). */
int pb_topo_load(struct pb_topo **out, pb_topo_source src, const char *arg,
                 char *err, size_t errlen);
void pb_topo_free(struct pb_topo *t);

bool pb_topo_simulated(const struct pb_topo *t);       /* not this machine */
const char *pb_topo_description(const struct pb_topo *t); /* "machine", the synthetic string, the XML path */
const char *pb_topo_xml_file(const struct pb_topo *t);    /* the XML file it was read from; NULL: none */
unsigned pb_topo_npus(const struct pb_topo *t);
unsigned pb_topo_nnodes(const struct pb_topo *t);       /* NUMA nodes, memory-only ones included; >= 1 */
const struct pb_pu_info *pb_topo_pu(const struct pb_topo *t, unsigned i);
const struct pb_node_info *pb_topo_node(const struct pb_topo *t, unsigned i);
/* A one-paragraph human summary (packages, nodes with their processors and
 * memory, cores, processors). */
void pb_topo_print(const struct pb_topo *t, FILE *out);

/* ---- placement ------------------------------------------------------------ */

typedef enum {
    PB_PLACE_COMPACT = 0,   /* fill processors in order: threads share cores/nodes */
    PB_PLACE_SCATTER,       /* spread across packages, nodes, cores round robin */
    PB_PLACE_SAME_NODE,     /* each requester's worker on the requester's node */
    PB_PLACE_CROSS_NODE,    /* each requester's worker on another node */
} pb_placement;

/* "compact", "scatter", "same-node", "cross-node"; -1 when unknown. */
int pb_placement_parse(const char *s, pb_placement *out);
const char *pb_placement_name(pb_placement p);

typedef enum { PB_ROLE_REQUESTER = 0, PB_ROLE_WORKER, PB_ROLE_CANCELLER } pb_role;
const char *pb_role_name(pb_role r);

struct pb_thread_plan {
    pb_role role;
    unsigned index;         /* within its role */
    unsigned pu;            /* planned processor (logical index in the topology) */
    int numa_node;          /* its node (logical), -1 when none */
    unsigned os_cpu;        /* the real CPU of this machine it runs on */
};

struct pb_plan {
    pb_placement placement;
    unsigned nrequesters, nworkers, ncancellers;
    unsigned nthreads;
    struct pb_thread_plan *threads;      /* requesters, then workers, then cancellers */
    unsigned *worker_of_requester;       /* [nrequesters]: the worker its work goes to by default */
    unsigned nreal_cpus;                 /* CPUs of this machine the plan may use */
    bool folded;                         /* planned processors > real CPUs: several share one */
    /* Added with the implementation (pb_plan_make fills them): */
    unsigned npus;                       /* processors of the planned topology */
    unsigned *os_cpu_of_pu;              /* [npus]: the real CPU each processor maps onto */
    unsigned *real_cpus;                 /* [nreal_cpus]: this process's CPUs, ascending */
    /* Memory placement (pb_plan_set_memory_node); unset: each processor's
     * local node. */
    bool memory_node_set;
    unsigned memory_node_os;             /* OS index of the node memory goes to */
};

/* Whether two of the plan's threads sit on different hardware threads of
 * one core of t (they then share its execution units). */
bool pb_plan_uses_smt_siblings(const struct pb_plan *plan, const struct pb_topo *t);

/* Whether a worker shares its real CPU with a requester or another worker
 * (cancellers sleep between due cancels and do not count): a worker that
 * spins there holds the CPU that thread needs. */
bool pb_plan_worker_shares_cpu(const struct pb_plan *plan);

/* Plans the threads. 0, or -1 with a message: a policy that cannot be met
 * (cross-node on a one-node topology) says so and how to simulate it
 * ("use --topology 'numa:2 core:2 pu:1'"); zero threads of a role where
 * one is needed, etc. Every planned pu exists; every os_cpu is a CPU this
 * process may run on. */
int pb_plan_make(const struct pb_topo *t, pb_placement p, unsigned nrequesters,
                 unsigned nworkers, unsigned ncancellers, struct pb_plan *out,
                 char *err, size_t errlen);
void pb_plan_free(struct pb_plan *plan);
/* Puts all of the plan's NUMA memory on node `node` (logical index in t)
 * instead of each processor's local node: the way to use a memory-only
 * node (CXL, HBM without processors). t must be this machine's topology:
 * a simulated one binds nothing. 0, or -1 with a message. */
int pb_plan_set_memory_node(struct pb_plan *plan, const struct pb_topo *t, unsigned node,
                            char *err, size_t errlen);
const struct pb_thread_plan *pb_plan_thread(const struct pb_plan *plan, pb_role role, unsigned index);

/* Binds the calling thread to its os_cpu (hwloc, on the real machine). 0 or
 * -1 (then the thread runs unbound; callers report it, never fail on it). */
int pb_plan_bind_self(const struct pb_thread_plan *tp);

/* Memory on a NUMA node of the real machine (the node local to the planned
 * pu's real CPU, by topo.c's rule, or the plan's memory node when set),
 * cache-line aligned and zeroed; falls back to plain memory when the
 * machine cannot bind. Suitable as pb_mem_hooks (pb_strategy.h). */
void *pb_numa_alloc_for_pu(const struct pb_plan *plan, unsigned pu, size_t size);
void pb_numa_free(void *ptr, size_t size);

/* The plan as text (a table a person reads) and as JSON: an object with
 * "topology" {description, simulated, npus, nnodes, nodes[...]},
 * "placement", "folded", and "threads": [{role, index, pu, numa_node,
 * os_cpu}, ...]. */
void pb_plan_print(const struct pb_plan *plan, const struct pb_topo *t, FILE *out);
void pb_plan_print_json(const struct pb_plan *plan, const struct pb_topo *t, FILE *out);

#endif
