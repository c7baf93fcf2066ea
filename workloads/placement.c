/* Placement: planning threads onto a topology, binding them, NUMA memory,
 * and printing the plan.
 *
 * Planning rules
 *
 *  Threads are numbered requesters, then workers, then cancellers, and
 *  take processors in that order. Only processors that exist in the
 *  topology are used; memory-only NUMA nodes have none, so they never
 *  receive a thread. When there are more threads than processors (or than
 *  the processors of a node) the order wraps round: threads share
 *  processors, round robin.
 *
 *  compact     processors in logical order (hwloc's depth-first order, so
 *              hyperthreads of a core, then cores of a node, then nodes of
 *              a package are consecutive): requester 0 gets processor 0,
 *              the next thread processor 1, and so on. Threads are simply
 *              in order, not interleaved: requesters fill the first
 *              processors and the workers the ones right after.
 *  scatter     processors ordered for the greatest distance between
 *              neighbours: round robin across packages, then across NUMA
 *              nodes within a package, then across cores within a node,
 *              then across a core's hyperthreads; threads take that order.
 *  same-node   worker j lives on node N[j % k], where N are the k nodes
 *              that have processors, in logical order. Requester i sends to
 *              worker i % nworkers (worker_of_requester) and is placed on
 *              that worker's node; when nworkers is a multiple of k this is
 *              node N[i % k]. Within a node threads take the node's
 *              processors spread across its cores first (the scatter order
 *              restricted to the node), so a requester and its worker get
 *              different processors whenever the node has enough.
 *  cross-node  as same-node, but requester i is placed on the node after
 *              its worker's, N[(w + 1) % k]. It needs k >= 2: on one node
 *              it is an error that names a synthetic topology to simulate
 *              it with.
 *
 *  worker_of_requester[i] = i % nworkers under every policy (the node
 *  policies place requesters to suit it rather than the other way round).
 *  Canceller c serves the requesters i with i % ncancellers == c; under
 *  compact and scatter it takes the next processor of the policy's order,
 *  under same-node and cross-node it goes on the node of requester
 *  c % nrequesters, the first it serves.
 *
 *  Real CPUs. The plan may use the CPUs of sched_getaffinity (ascending:
 *  real_cpus). On the machine's own topology each processor runs on itself
 *  (os_cpu = its OS index, which the affinity-restricted topology
 *  guarantees to be allowed). On a simulated topology, the planned
 *  processors (those some thread uses) are ranked in ascending order and
 *  the r-th runs on real_cpus[r % nreal]; processors no thread uses rank
 *  after them. So planned processors share a real CPU only when there are
 *  more of them than real CPUs, and that is what `folded` reports.
 *
 * Binding and memory use one topology of the real machine, loaded on first
 * use (pthread_once) and kept for the life of the process: a simulated
 * topology cannot bind anything. Memory for a processor is bound to the
 * NUMA node local to the real CPU it maps onto (topo.c's rule: the
 * smallest node cpuset holding the CPU, DRAM first, so a memory-only node
 * is never chosen by default), or to the node pb_plan_set_memory_node
 * names. The real topology keeps its caches for the same reason as
 * topo.c: NUMA nodes hang from them. */
#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_err.h"
#include "pb_topo.h"

/* From topo.c (internal to workloads/). */
hwloc_obj_t pb_topo__local_node(hwloc_topology_t topo, hwloc_obj_t pu);
int pb_topo__affinity(hwloc_bitmap_t set);

/* One role may not have more threads than this: a guard against a typo
 * (or an overflow) creating millions of threads. */
#define PB_PLAN_MAX_PER_ROLE 65536u
#define CACHE_LINE 64u

/* ---- names ----------------------------------------------------------------- */

static const char *const placement_names[] = {
    [PB_PLACE_COMPACT] = "compact",
    [PB_PLACE_SCATTER] = "scatter",
    [PB_PLACE_SAME_NODE] = "same-node",
    [PB_PLACE_CROSS_NODE] = "cross-node",
};
#define NPLACEMENTS (sizeof placement_names / sizeof placement_names[0])

int pb_placement_parse(const char *s, pb_placement *out)
{
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < NPLACEMENTS; i++)
        if (strcmp(s, placement_names[i]) == 0) {
            if (out)
                *out = (pb_placement)i;
            return 0;
        }
    return -1;
}

const char *pb_placement_name(pb_placement p)
{
    return (unsigned)p < NPLACEMENTS ? placement_names[p] : "unknown";
}

const char *pb_role_name(pb_role r)
{
    switch (r) {
    case PB_ROLE_REQUESTER: return "requester";
    case PB_ROLE_WORKER: return "worker";
    case PB_ROLE_CANCELLER: return "canceller";
    }
    return "unknown";
}

/* ---- planning ---------------------------------------------------------------- */

/* Scatter keys: package, node, core; the processor itself last. */
static unsigned scatter_key(const struct pb_pu_info *p, int level)
{
    switch (level) {
    case 0: return p->package;
    case 1: return (unsigned)(p->numa_node + 1);   /* -1 (no node) sorts first */
    default: return p->core;
    }
}

static int cmp_hierarchy(const void *a, const void *b, void *topo)
{
    const struct pb_pu_info *x = pb_topo_pu(topo, *(const unsigned *)a);
    const struct pb_pu_info *y = pb_topo_pu(topo, *(const unsigned *)b);
    for (int level = 0; level < 3; level++) {
        unsigned kx = scatter_key(x, level), ky = scatter_key(y, level);
        if (kx != ky)
            return kx < ky ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* in[] is sorted by (package, node, core, index), so every group of a level
 * is contiguous. Scatter each group (into tmp, with out as the scratch one
 * level down), then deal the groups out round robin into out: the first of
 * each group, then the second of each, ... count: scratch of n + 1 (free
 * again once the groups are scattered). Linear per level: dealing round
 * by round over all groups was quadratic, seconds on a 4096-processor
 * synthetic topology (fuzz/fuzz_topo_synthetic.c). */
static void interleave(const struct pb_topo *t, const unsigned *in, unsigned n, int level,
                       unsigned *tmp, unsigned *out, unsigned *count)
{
    if (level == 3 || n <= 1) {
        memcpy(out, in, n * sizeof *in);
        return;
    }
    unsigned maxlen = 0;
    for (unsigned s = 0; s < n;) {
        unsigned key = scatter_key(pb_topo_pu(t, in[s]), level), e = s + 1;
        while (e < n && scatter_key(pb_topo_pu(t, in[e]), level) == key)
            e++;
        interleave(t, in + s, e - s, level + 1, out + s, tmp + s, count);
        if (e - s > maxlen)
            maxlen = e - s;
        s = e;
    }
    /* count[r + 1]: groups with more than r members (round r's size);
     * summed up, count[r]: where round r starts in out. */
    memset(count, 0, (maxlen + 1) * sizeof *count);
    for (unsigned s = 0; s < n;) {
        unsigned key = scatter_key(pb_topo_pu(t, in[s]), level), e = s + 1;
        while (e < n && scatter_key(pb_topo_pu(t, in[e]), level) == key)
            e++;
        for (unsigned r = 0; r < e - s; r++)
            count[r + 1]++;
        s = e;
    }
    for (unsigned r = 1; r <= maxlen; r++)
        count[r] += count[r - 1];
    for (unsigned s = 0; s < n;) {
        unsigned key = scatter_key(pb_topo_pu(t, in[s]), level), e = s + 1;
        while (e < n && scatter_key(pb_topo_pu(t, in[e]), level) == key)
            e++;
        for (unsigned r = 0; r < e - s; r++)
            out[count[r]++] = tmp[s + r];
        s = e;
    }
}

/* All processors in scatter order. */
static int scatter_order(const struct pb_topo *t, unsigned *order)
{
    unsigned n = pb_topo_npus(t);
    unsigned *sorted = malloc(n * sizeof *sorted);
    unsigned *tmp = malloc(n * sizeof *tmp);
    unsigned *count = malloc((n + 1) * sizeof *count);
    if (sorted == NULL || tmp == NULL || count == NULL) {
        free(sorted);
        free(tmp);
        free(count);
        return -1;
    }
    for (unsigned i = 0; i < n; i++)
        sorted[i] = i;
    qsort_r(sorted, n, sizeof *sorted, cmp_hierarchy, (void *)t);
    interleave(t, sorted, n, 0, tmp, order, count);
    free(sorted);
    free(tmp);
    free(count);
    return 0;
}

static void thread_slot(struct pb_plan *p, unsigned ti, pb_role *role, unsigned *index)
{
    if (ti < p->nrequesters) {
        *role = PB_ROLE_REQUESTER;
        *index = ti;
    } else if (ti < p->nrequesters + p->nworkers) {
        *role = PB_ROLE_WORKER;
        *index = ti - p->nrequesters;
    } else {
        *role = PB_ROLE_CANCELLER;
        *index = ti - p->nrequesters - p->nworkers;
    }
}

/* Node policies: the node (position in nodes_with_pus) of each thread. */
static void node_policy_nodes(const struct pb_plan *p, unsigned k, unsigned *node_of_thread)
{
    unsigned nr = p->nrequesters, nw = p->nworkers;
    for (unsigned j = 0; j < nw; j++)
        node_of_thread[nr + j] = j % k;
    for (unsigned i = 0; i < nr; i++) {
        unsigned wnode = (p->worker_of_requester[i]) % k;
        node_of_thread[i] = p->placement == PB_PLACE_CROSS_NODE ? (wnode + 1) % k : wnode;
    }
    for (unsigned c = 0; c < p->ncancellers; c++)
        node_of_thread[nr + nw + c] = node_of_thread[c % nr];
}

static int map_real_cpus(struct pb_plan *p, const struct pb_topo *t, const bool *planned,
                         hwloc_const_bitmap_t affinity)
{
    unsigned n = p->npus, rank = 0;
    /* Planned processors first, then the others, both ascending. */
    for (int pass = 0; pass < 2; pass++)
        for (unsigned u = 0; u < n; u++) {
            if (planned[u] != (pass == 0))
                continue;
            unsigned os = pb_topo_pu(t, u)->os_index;
            if (!pb_topo_simulated(t) && hwloc_bitmap_isset(affinity, os))
                p->os_cpu_of_pu[u] = os;
            else
                p->os_cpu_of_pu[u] = p->real_cpus[rank % p->nreal_cpus];
            rank++;
        }
    /* Folded: two planned processors run on one real CPU. */
    hwloc_bitmap_t used = hwloc_bitmap_alloc();
    if (used == NULL)
        return -1;
    p->folded = false;
    for (unsigned u = 0; u < n; u++) {
        if (!planned[u])
            continue;
        if (hwloc_bitmap_isset(used, p->os_cpu_of_pu[u]))
            p->folded = true;
        hwloc_bitmap_set(used, p->os_cpu_of_pu[u]);
    }
    hwloc_bitmap_free(used);
    return 0;
}

int pb_plan_make(const struct pb_topo *t, pb_placement pl, unsigned nrequesters,
                 unsigned nworkers, unsigned ncancellers, struct pb_plan *out,
                 char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (out == NULL)
        return pb_fail(err, errlen, "no plan to fill");
    memset(out, 0, sizeof *out);
    if (t == NULL)
        return pb_fail(err, errlen, "no topology to plan on");
    if ((unsigned)pl >= NPLACEMENTS)
        return pb_fail(err, errlen, "unknown placement %d (expected compact, scatter, same-node or cross-node)",
                    (int)pl);
    if (nrequesters == 0)
        return pb_fail(err, errlen, "placement needs at least one requester (got 0)");
    if (nworkers == 0)
        return pb_fail(err, errlen, "placement needs at least one worker (got 0): requesters pend their work to workers");
    if (nrequesters > PB_PLAN_MAX_PER_ROLE || nworkers > PB_PLAN_MAX_PER_ROLE ||
        ncancellers > PB_PLAN_MAX_PER_ROLE)
        return pb_fail(err, errlen, "too many threads: %u requesters, %u workers, %u cancellers (at most %u of each)",
                    nrequesters, nworkers, ncancellers, PB_PLAN_MAX_PER_ROLE);

    unsigned npus = pb_topo_npus(t), nnodes = pb_topo_nnodes(t);
    if (npus == 0)
        return pb_fail(err, errlen, "nothing placeable: the topology '%s' has no processors",
                    pb_topo_description(t));

    /* Nodes that have processors, in logical order. */
    unsigned *nodes_with_pus = calloc(nnodes ? nnodes : 1, sizeof *nodes_with_pus);
    unsigned k = 0;
    if (nodes_with_pus == NULL)
        return pb_fail(err, errlen, "out of memory");
    for (unsigned n = 0; n < nnodes; n++)
        if (pb_topo_node(t, n)->npus > 0)
            nodes_with_pus[k++] = n;
    bool node_policy = pl == PB_PLACE_SAME_NODE || pl == PB_PLACE_CROSS_NODE;
    if (node_policy && k == 0) {
        free(nodes_with_pus);
        return pb_fail(err, errlen, "%s needs NUMA nodes with processors; the topology '%s' has none",
                    placement_names[pl], pb_topo_description(t));
    }
    if (pl == PB_PLACE_CROSS_NODE && k < 2) {
        free(nodes_with_pus);
        return pb_fail(err, errlen,
                    "cross-node needs two NUMA nodes with processors; the topology '%s' has %s. "
                    "Simulate it: --topology 'pack:1 numa:2 core:2 pu:1'",
                    pb_topo_description(t), k == 0 ? "none" : "one");
    }

    hwloc_bitmap_t affinity = hwloc_bitmap_alloc();
    if (affinity == NULL || pb_topo__affinity(affinity) != 0) {
        hwloc_bitmap_free(affinity);
        free(nodes_with_pus);
        return pb_fail(err, errlen, "cannot read the CPUs this process may run on (sched_getaffinity): %s",
                    strerror(errno));
    }

    struct pb_plan *p = out;
    p->placement = pl;
    p->nrequesters = nrequesters;
    p->nworkers = nworkers;
    p->ncancellers = ncancellers;
    p->nthreads = nrequesters + nworkers + ncancellers;
    p->npus = npus;
    p->nreal_cpus = (unsigned)hwloc_bitmap_weight(affinity);
    p->threads = calloc(p->nthreads, sizeof *p->threads);
    p->worker_of_requester = calloc(nrequesters, sizeof *p->worker_of_requester);
    p->os_cpu_of_pu = calloc(npus, sizeof *p->os_cpu_of_pu);
    p->real_cpus = calloc(p->nreal_cpus, sizeof *p->real_cpus);
    unsigned *order = malloc(npus * sizeof *order);
    unsigned *node_of_thread = calloc(p->nthreads, sizeof *node_of_thread);
    unsigned *node_order = malloc(npus * sizeof *node_order);   /* per node, concatenated */
    unsigned *node_start = calloc(nnodes + 1, sizeof *node_start);
    unsigned *node_cursor = calloc(nnodes + 1, sizeof *node_cursor);
    bool *planned = calloc(npus, sizeof *planned);
    int rc = 0;
    if (!p->threads || !p->worker_of_requester || !p->os_cpu_of_pu || !p->real_cpus || !order ||
        !node_of_thread || !node_order || !node_start || !node_cursor || !planned) {
        rc = pb_fail(err, errlen, "out of memory");
        goto out;
    }
    {
        unsigned r = 0;
        int cpu;
        hwloc_bitmap_foreach_begin(cpu, affinity)
            p->real_cpus[r++] = (unsigned)cpu;
        hwloc_bitmap_foreach_end();
    }
    for (unsigned i = 0; i < nrequesters; i++)
        p->worker_of_requester[i] = i % nworkers;

    if (pl == PB_PLACE_COMPACT) {
        for (unsigned u = 0; u < npus; u++)
            order[u] = u;
    } else if (scatter_order(t, order) != 0) {
        rc = pb_fail(err, errlen, "out of memory");
        goto out;
    }

    if (!node_policy) {
        for (unsigned ti = 0; ti < p->nthreads; ti++)
            p->threads[ti].pu = order[ti % npus];
    } else {
        /* Each node's processors, in scatter order (across cores first). */
        unsigned pos = 0;
        for (unsigned ni = 0; ni < k; ni++) {
            node_start[ni] = pos;
            for (unsigned u = 0; u < npus; u++)
                if (pb_topo_pu(t, order[u])->numa_node == (int)nodes_with_pus[ni])
                    node_order[pos++] = order[u];
        }
        node_start[k] = pos;
        node_policy_nodes(p, k, node_of_thread);
        for (unsigned ti = 0; ti < p->nthreads; ti++) {
            unsigned ni = node_of_thread[ti];
            unsigned len = node_start[ni + 1] - node_start[ni];   /* > 0: node has processors */
            p->threads[ti].pu = node_order[node_start[ni] + node_cursor[ni]++ % len];
        }
    }

    for (unsigned ti = 0; ti < p->nthreads; ti++)
        planned[p->threads[ti].pu] = true;
    if (map_real_cpus(p, t, planned, affinity) != 0) {
        rc = pb_fail(err, errlen, "out of memory");
        goto out;
    }
    for (unsigned ti = 0; ti < p->nthreads; ti++) {
        struct pb_thread_plan *tp = &p->threads[ti];
        thread_slot(p, ti, &tp->role, &tp->index);
        tp->numa_node = pb_topo_pu(t, tp->pu)->numa_node;
        tp->os_cpu = p->os_cpu_of_pu[tp->pu];
    }

out:
    free(order);
    free(node_of_thread);
    free(node_order);
    free(node_start);
    free(node_cursor);
    free(planned);
    free(nodes_with_pus);
    hwloc_bitmap_free(affinity);
    if (rc != 0)
        pb_plan_free(p);
    return rc;
}

void pb_plan_free(struct pb_plan *plan)
{
    if (plan == NULL)
        return;
    free(plan->threads);
    free(plan->worker_of_requester);
    free(plan->os_cpu_of_pu);
    free(plan->real_cpus);
    memset(plan, 0, sizeof *plan);
}

bool pb_plan_uses_smt_siblings(const struct pb_plan *plan, const struct pb_topo *t)
{
    if (!plan || !plan->threads || !t)
        return false;
    for (unsigned i = 0; i < plan->nthreads; i++)
        for (unsigned j = i + 1; j < plan->nthreads; j++) {
            const struct pb_pu_info *a = pb_topo_pu(t, plan->threads[i].pu);
            const struct pb_pu_info *b = pb_topo_pu(t, plan->threads[j].pu);
            if (a && b && a->index != b->index && a->core == b->core)
                return true;
        }
    return false;
}

bool pb_plan_worker_shares_cpu(const struct pb_plan *plan)
{
    if (!plan || !plan->threads)
        return false;
    for (unsigned i = 0; i < plan->nthreads; i++) {
        const struct pb_thread_plan *w = &plan->threads[i];
        if (w->role != PB_ROLE_WORKER)
            continue;
        for (unsigned j = 0; j < plan->nthreads; j++) {
            const struct pb_thread_plan *o = &plan->threads[j];
            if (j != i && o->role != PB_ROLE_CANCELLER && o->os_cpu == w->os_cpu)
                return true;
        }
    }
    return false;
}

int pb_plan_set_memory_node(struct pb_plan *plan, const struct pb_topo *t, unsigned node,
                            char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (plan == NULL || t == NULL)
        return pb_fail(err, errlen, "no plan or topology for the memory node");
    const struct pb_node_info *nd = pb_topo_node(t, node);
    if (nd == NULL)
        return pb_fail(err, errlen, "no node %u for memory: the topology '%s' has nodes 0-%u",
                    node, pb_topo_description(t), pb_topo_nnodes(t) - 1);
    if (pb_topo_simulated(t))
        return pb_fail(err, errlen, "cannot place memory on node %u of the simulated topology '%s': "
                    "memory binds only on this machine's nodes", node, pb_topo_description(t));
    plan->memory_node_set = true;
    plan->memory_node_os = nd->os_index;
    return 0;
}

const struct pb_thread_plan *pb_plan_thread(const struct pb_plan *plan, pb_role role, unsigned index)
{
    if (plan == NULL || plan->threads == NULL)
        return NULL;
    switch (role) {
    case PB_ROLE_REQUESTER:
        return index < plan->nrequesters ? &plan->threads[index] : NULL;
    case PB_ROLE_WORKER:
        return index < plan->nworkers ? &plan->threads[plan->nrequesters + index] : NULL;
    case PB_ROLE_CANCELLER:
        return index < plan->ncancellers
                   ? &plan->threads[plan->nrequesters + plan->nworkers + index]
                   : NULL;
    }
    return NULL;
}

/* ---- the real machine: binding and memory -------------------------------------- */

static hwloc_topology_t real_topo;      /* NULL when hwloc could not load this machine */
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void real_load(void)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0)
        return;
    hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    if (hwloc_topology_load(topo) != 0) {
        hwloc_topology_destroy(topo);
        return;
    }
    real_topo = topo;       /* published by pthread_once */
}

static hwloc_topology_t real_machine(void)
{
    pthread_once(&real_once, real_load);
    return real_topo;
}

int pb_plan_bind_self(const struct pb_thread_plan *tp)
{
    hwloc_topology_t topo = real_machine();
    if (tp == NULL || topo == NULL)
        return -1;
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    if (set == NULL)
        return -1;
    hwloc_bitmap_only(set, tp->os_cpu);
    int rc = hwloc_set_cpubind(topo, set, HWLOC_CPUBIND_THREAD);
    hwloc_bitmap_free(set);
    return rc == 0 ? 0 : -1;
}

/* Both sides round the same way, so pb_numa_free unmaps what was mapped. */
static size_t alloc_size(size_t size)
{
    size_t s = size ? size : 1;
    return (s + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
}

void *pb_numa_alloc_for_pu(const struct pb_plan *plan, unsigned pu, size_t size)
{
    size_t sz = alloc_size(size);
    if (sz < size)
        return NULL;                        /* overflow */
    hwloc_topology_t topo = real_machine();
    void *p;
    if (topo == NULL) {
        p = aligned_alloc(CACHE_LINE, sz);
    } else {
        hwloc_obj_t node = NULL;
        if (plan && plan->memory_node_set) {
            node = hwloc_get_numanode_obj_by_os_index(topo, plan->memory_node_os);
        } else if (plan && plan->os_cpu_of_pu && pu < plan->npus) {
            hwloc_obj_t cpu = hwloc_get_pu_obj_by_os_index(topo, plan->os_cpu_of_pu[pu]);
            if (cpu)
                node = pb_topo__local_node(topo, cpu);
        }
        /* Not strict: when the machine cannot bind, hwloc hands back plain
         * (page-aligned) memory instead. */
        p = node ? hwloc_alloc_membind(topo, sz, node->nodeset, HWLOC_MEMBIND_BIND,
                                       HWLOC_MEMBIND_BYNODESET)
                 : hwloc_alloc(topo, sz);
    }
    if (p)
        memset(p, 0, sz);
    return p;
}

void pb_numa_free(void *ptr, size_t size)
{
    if (ptr == NULL)
        return;
    hwloc_topology_t topo = real_machine();
    if (topo == NULL)
        free(ptr);
    else
        hwloc_free(topo, ptr, alloc_size(size));
}

/* ---- printing ----------------------------------------------------------------- */

static void print_cpu_list(const unsigned *cpus, unsigned n, FILE *out)
{
    for (unsigned i = 0; i < n;) {
        unsigned j = i;
        while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
            j++;
        fprintf(out, i ? ",%u" : "%u", cpus[i]);
        if (j > i)
            fprintf(out, "-%u", cpus[j]);
        i = j + 1;
    }
}

static unsigned distinct_planned(const struct pb_plan *plan)
{
    if (plan->npus == 0)
        return 0;
    bool *seen = calloc(plan->npus, sizeof *seen);
    unsigned n = 0;
    if (seen == NULL)
        return 0;
    for (unsigned ti = 0; ti < plan->nthreads; ti++)
        if (plan->threads[ti].pu < plan->npus && !seen[plan->threads[ti].pu]) {
            seen[plan->threads[ti].pu] = true;
            n++;
        }
    free(seen);
    return n;
}

void pb_plan_print(const struct pb_plan *plan, const struct pb_topo *t, FILE *out)
{
    unsigned used = distinct_planned(plan);
    fprintf(out, "Plan: %s placement of %u requester%s, %u worker%s, %u canceller%s on %s (%s, %u processor%s)",
            pb_placement_name(plan->placement), plan->nrequesters, plan->nrequesters == 1 ? "" : "s",
            plan->nworkers, plan->nworkers == 1 ? "" : "s", plan->ncancellers,
            plan->ncancellers == 1 ? "" : "s", t ? pb_topo_description(t) : "?",
            t && pb_topo_simulated(t) ? "simulated" : "this machine", plan->npus,
            plan->npus == 1 ? "" : "s");
    fputs("; real CPUs ", out);
    print_cpu_list(plan->real_cpus, plan->nreal_cpus, out);
    fprintf(out, " (%u).\n", plan->nreal_cpus);
    fprintf(out, "%-10s %6s %6s %6s %7s\n", "role", "index", "pu", "node", "os_cpu");
    for (unsigned ti = 0; ti < plan->nthreads; ti++) {
        const struct pb_thread_plan *tp = &plan->threads[ti];
        char node[16];
        if (tp->numa_node >= 0)
            snprintf(node, sizeof node, "%d", tp->numa_node);
        else
            snprintf(node, sizeof node, "-");
        fprintf(out, "%-10s %6u %6u %6s %7u", pb_role_name(tp->role), tp->index, tp->pu, node,
                tp->os_cpu);
        if (tp->role == PB_ROLE_REQUESTER)
            fprintf(out, "  -> worker %u", plan->worker_of_requester[tp->index]);
        else if (tp->role == PB_ROLE_CANCELLER)
            fprintf(out, "  serves requesters i %% %u == %u", plan->ncancellers, tp->index);
        fputc('\n', out);
    }
    if (plan->folded)
        fprintf(out, "Folded: %u planned processors run on %u real CPUs, several to a CPU; "
                "the plan's shape is simulated, its timings are not those of the simulated machine.\n",
                used, plan->nreal_cpus);
    else
        fprintf(out, "Not folded: each planned processor (%u) runs on a real CPU of its own.\n",
                used);
    if (plan->nthreads > used)
        fprintf(out, "Shared: %u threads on %u processor%s; some threads share a processor.\n",
                plan->nthreads, used, used == 1 ? "" : "s");
}

static void json_string(const char *s, FILE *out)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
        switch (*c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*c < 0x20)
                fprintf(out, "\\u%04x", *c);
            else
                fputc(*c, out);
        }
    }
    fputc('"', out);
}

static void json_topology(const struct pb_topo *t, FILE *out)
{
    unsigned npus = pb_topo_npus(t), nnodes = pb_topo_nnodes(t);
    unsigned npackages = 0;
    for (unsigned u = 0; u < npus; u++)
        if (pb_topo_pu(t, u)->package + 1 > npackages)
            npackages = pb_topo_pu(t, u)->package + 1;
    fputs("{\"description\": ", out);
    json_string(pb_topo_description(t), out);
    fprintf(out, ", \"simulated\": %s, \"npus\": %u, \"nnodes\": %u, \"npackages\": %u,\n",
            pb_topo_simulated(t) ? "true" : "false", npus, nnodes, npackages);
    fputs("    \"nodes\": [", out);
    for (unsigned n = 0; n < nnodes; n++) {
        const struct pb_node_info *nd = pb_topo_node(t, n);
        fprintf(out, "%s\n      {\"index\": %u, \"os_index\": %u, \"npus\": %u, "
                "\"memory_bytes\": %llu, \"memory_only\": %s, \"pus\": [",
                n ? "," : "", nd->index, nd->os_index, nd->npus,
                (unsigned long long)nd->memory_bytes, nd->npus == 0 ? "true" : "false");
        bool first = true;
        for (unsigned u = 0; u < npus; u++)
            if (pb_topo_pu(t, u)->numa_node == (int)n) {
                fprintf(out, first ? "%u" : ", %u", u);
                first = false;
            }
        fputs("]}", out);
    }
    fputs("],\n    \"pus\": [", out);
    for (unsigned u = 0; u < npus; u++) {
        const struct pb_pu_info *p = pb_topo_pu(t, u);
        fprintf(out, "%s\n      {\"index\": %u, \"os_index\": %u, \"numa_node\": %d, "
                "\"core\": %u, \"package\": %u}",
                u ? "," : "", p->index, p->os_index, p->numa_node, p->core, p->package);
    }
    fputs("]}", out);
}

void pb_plan_print_json(const struct pb_plan *plan, const struct pb_topo *t, FILE *out)
{
    fputs("{\n  \"topology\": ", out);
    if (t)
        json_topology(t, out);
    else
        fputs("null", out);
    fputs(",\n  \"placement\": ", out);
    json_string(pb_placement_name(plan->placement), out);
    fprintf(out, ",\n  \"requesters\": %u, \"workers\": %u, \"cancellers\": %u,\n",
            plan->nrequesters, plan->nworkers, plan->ncancellers);
    fprintf(out, "  \"folded\": %s,\n  \"nreal_cpus\": %u,\n  \"real_cpus\": [",
            plan->folded ? "true" : "false", plan->nreal_cpus);
    for (unsigned i = 0; i < plan->nreal_cpus; i++)
        fprintf(out, i ? ", %u" : "%u", plan->real_cpus[i]);
    fputs("],\n  \"worker_of_requester\": [", out);
    for (unsigned i = 0; i < plan->nrequesters; i++)
        fprintf(out, i ? ", %u" : "%u", plan->worker_of_requester[i]);
    fputs("],\n  \"threads\": [", out);
    for (unsigned ti = 0; ti < plan->nthreads; ti++) {
        const struct pb_thread_plan *tp = &plan->threads[ti];
        fprintf(out, "%s\n    {\"role\": ", ti ? "," : "");
        json_string(pb_role_name(tp->role), out);
        fprintf(out, ", \"index\": %u, \"pu\": %u, \"numa_node\": %d, \"os_cpu\": %u}", tp->index,
                tp->pu, tp->numa_node, tp->os_cpu);
    }
    fputs("\n  ]\n}\n", out);
}
