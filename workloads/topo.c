/* Topology loading and queries (hwloc).
 *
 * A pb_topo is a snapshot: at load time every processor (PU) and NUMA node
 * is copied into plain arrays and the hwloc topology is dropped, so a
 * pb_topo is immutable and may be read from any thread without locks.
 *
 * Which NUMA node a processor belongs to. In hwloc 2 NUMA nodes are memory
 * children of the object whose processors are local to them, and a node's
 * cpuset is its parent's: a memory-only node (CXL, HBM attached above the
 * packages) has the same cpuset as the Machine, so "the node whose cpuset
 * holds the PU" is ambiguous. We take the nearest one instead: walk up
 * from the PU to the first ancestor with NUMA memory children (through
 * memory-side caches) and pick, among those, a plain DRAM node (no subtype
 * or subtype "DRAM") first, then the lowest logical index. A node no PU
 * picks this way is memory-only (npus 0) and never receives a thread.
 *
 * The machine topology is restricted to this process's affinity
 * (sched_getaffinity), so a taskset or cpuset-limited run only ever sees
 * processors it may run on; memory-only nodes survive the restriction.
 * Synthetic and XML topologies describe other machines and are never
 * restricted: they are simulated (placement maps their processors onto
 * the real ones). */
#include <errno.h>
#include <hwloc.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb_topo.h"

/* Shared with placement.c (internal to workloads/, not a public API). */
hwloc_obj_t pb_topo__local_node(hwloc_topology_t topo, hwloc_obj_t pu);
int pb_topo__affinity(hwloc_bitmap_t set);

struct pb_topo {
    pb_topo_source src;
    char *description;
    unsigned npus, nnodes, npackages, ncores;
    struct pb_pu_info *pus;
    struct pb_node_info *nodes;
};

static bool is_plain_dram(hwloc_obj_t node)
{
    return node->subtype == NULL || strcmp(node->subtype, "DRAM") == 0;
}

static bool better_node(hwloc_obj_t cand, hwloc_obj_t best)
{
    if (best == NULL)
        return true;
    if (is_plain_dram(cand) != is_plain_dram(best))
        return is_plain_dram(cand);
    return cand->logical_index < best->logical_index;
}

/* The best NUMA node among obj's memory children, looking through
 * memory-side caches (whose memory children are the nodes they cache). */
static hwloc_obj_t best_memory_child(hwloc_obj_t obj)
{
    hwloc_obj_t best = NULL;
    for (hwloc_obj_t m = obj->memory_first_child; m; m = m->next_sibling) {
        hwloc_obj_t cand = m->type == HWLOC_OBJ_NUMANODE ? m : best_memory_child(m);
        if (cand && better_node(cand, best))
            best = cand;
    }
    return best;
}

hwloc_obj_t pb_topo__local_node(hwloc_topology_t topo, hwloc_obj_t pu)
{
    for (hwloc_obj_t obj = pu; obj; obj = obj->parent) {
        if (obj->memory_arity == 0)
            continue;
        hwloc_obj_t node = best_memory_child(obj);
        if (node)
            return node;
    }
    /* Unreachable in a valid hwloc 2 topology (the root always has memory
     * below it), but a topology with nodes elsewhere still gets one. */
    return hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, 0);
}

/* The CPUs this process may run on. 0, or -1 when the kernel will not say. */
int pb_topo__affinity(hwloc_bitmap_t set)
{
    for (int ncpus = 1024; ncpus <= (1 << 20); ncpus *= 2) {
        cpu_set_t *cs = CPU_ALLOC((size_t)ncpus);
        if (cs == NULL)
            return -1;
        size_t sz = CPU_ALLOC_SIZE((size_t)ncpus);
        CPU_ZERO_S(sz, cs);
        if (sched_getaffinity(0, sz, cs) == 0) {
            hwloc_bitmap_zero(set);
            for (int c = 0; c < ncpus; c++)
                if (CPU_ISSET_S((size_t)c, sz, cs))
                    hwloc_bitmap_set(set, (unsigned)c);
            CPU_FREE(cs);
            return hwloc_bitmap_iszero(set) ? -1 : 0;
        }
        int e = errno;
        CPU_FREE(cs);
        if (e != EINVAL)     /* EINVAL: the mask is too small for this kernel */
            return -1;
    }
    return -1;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int restrict_to_affinity(hwloc_topology_t topo, char *err, size_t errlen)
{
    hwloc_bitmap_t aff = hwloc_bitmap_alloc();
    if (aff == NULL)
        return fail(err, errlen, "out of memory");
    int rc = 0;
    if (pb_topo__affinity(aff) == 0) {
        hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(topo);
        if (!hwloc_bitmap_intersects(aff, all))
            rc = fail(err, errlen,
                      "none of the CPUs this process may run on is in the machine's topology");
        else if (!hwloc_bitmap_isincluded(all, aff) &&
                 hwloc_topology_restrict(topo, aff, 0) != 0)
            rc = fail(err, errlen, "could not restrict the topology to this process's CPUs: %s",
                      strerror(errno));
    }
    /* No affinity information: keep the whole (allowed) machine. */
    hwloc_bitmap_free(aff);
    return rc;
}

static int snapshot(struct pb_topo *t, hwloc_topology_t topo, char *err, size_t errlen)
{
    int npus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
    int nnodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
    int npk = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PACKAGE);
    int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
    if (npus <= 0)
        return fail(err, errlen, "the topology '%s' has no processors", t->description);
    t->npus = (unsigned)npus;
    t->nnodes = nnodes > 0 ? (unsigned)nnodes : 1;
    t->npackages = npk > 0 ? (unsigned)npk : 1;
    t->ncores = ncores > 0 ? (unsigned)ncores : t->npus;
    t->pus = calloc(t->npus, sizeof *t->pus);
    t->nodes = calloc(t->nnodes, sizeof *t->nodes);
    if (t->pus == NULL || t->nodes == NULL)
        return fail(err, errlen, "out of memory");

    for (unsigned i = 0; i < t->nnodes; i++) {
        hwloc_obj_t n = nnodes > 0 ? hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, i) : NULL;
        t->nodes[i].index = i;
        t->nodes[i].os_index = n ? n->os_index : 0;
        t->nodes[i].memory_bytes = n ? n->attr->numanode.local_memory : 0;
    }
    for (unsigned i = 0; i < t->npus; i++) {
        hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, i);
        hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_CORE, pu);
        hwloc_obj_t pk = hwloc_get_ancestor_obj_by_type(topo, HWLOC_OBJ_PACKAGE, pu);
        hwloc_obj_t node = nnodes > 0 ? pb_topo__local_node(topo, pu) : NULL;
        struct pb_pu_info *p = &t->pus[i];
        p->index = i;
        p->os_index = pu->os_index;
        /* Without Core objects (synthetic "pack:2 pu:4"), each PU is its own core. */
        p->core = core ? core->logical_index : (ncores > 0 ? 0 : i);
        p->package = pk ? pk->logical_index : 0;
        if (node) {
            p->numa_node = (int)node->logical_index;
            t->nodes[node->logical_index].npus++;
        } else if (nnodes <= 0) {
            p->numa_node = 0;           /* no NUMA information: one implicit node */
            t->nodes[0].npus++;
        } else {
            p->numa_node = -1;
        }
    }
    return 0;
}

int pb_topo_load(struct pb_topo **out, pb_topo_source src, const char *arg,
                 char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    *out = NULL;
    if ((src == PB_TOPO_SYNTHETIC || src == PB_TOPO_XML) && (arg == NULL || arg[0] == '\0'))
        return fail(err, errlen, "%s",
                    src == PB_TOPO_XML ? "no XML topology file given"
                                       : "empty synthetic topology description "
                                         "(expected e.g. 'pack:2 numa:2 core:4 pu:2')");
    if (src != PB_TOPO_MACHINE && src != PB_TOPO_SYNTHETIC && src != PB_TOPO_XML)
        return fail(err, errlen, "unknown topology source");
    if (src == PB_TOPO_XML && access(arg, R_OK) != 0)
        return fail(err, errlen, "cannot read the XML topology file '%s': %s", arg, strerror(errno));

    struct pb_topo *t = calloc(1, sizeof *t);
    if (t == NULL)
        return fail(err, errlen, "out of memory");
    t->src = src;
    t->description = strdup(src == PB_TOPO_MACHINE ? "machine" : arg);
    if (t->description == NULL) {
        free(t);
        return fail(err, errlen, "out of memory");
    }

    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0) {
        pb_topo_free(t);
        return fail(err, errlen, "hwloc could not start: %s", strerror(errno));
    }
    /* Processors and memory are all placement needs; skipping caches and
     * I/O keeps loading the machine quick. */
    hwloc_topology_set_cache_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_type_filter(topo, HWLOC_OBJ_MISC, HWLOC_TYPE_FILTER_KEEP_NONE);

    int rc = 0;
    if (src == PB_TOPO_SYNTHETIC) {
        if (hwloc_topology_set_synthetic(topo, arg) != 0)
            rc = fail(err, errlen,
                      "hwloc rejected the synthetic description '%s': %s "
                      "(expected levels like 'pack:2 numa:2 core:4 pu:2')",
                      arg, strerror(errno));
    } else if (src == PB_TOPO_XML) {
        if (hwloc_topology_set_xml(topo, arg) != 0)
            rc = fail(err, errlen, "hwloc rejected the XML topology '%s': %s", arg, strerror(errno));
    }
    if (rc == 0 && hwloc_topology_load(topo) != 0) {
        if (src == PB_TOPO_XML)
            rc = fail(err, errlen, "hwloc could not load the XML topology '%s': %s "
                      "(expected an hwloc 2 XML file, e.g. from 'lstopo --of xml')",
                      arg, strerror(errno));
        else if (src == PB_TOPO_SYNTHETIC)
            rc = fail(err, errlen, "hwloc rejected the synthetic description '%s': %s",
                      arg, strerror(errno));
        else
            rc = fail(err, errlen, "hwloc could not read this machine's topology: %s",
                      strerror(errno));
    }
    if (rc == 0 && src == PB_TOPO_MACHINE)
        rc = restrict_to_affinity(topo, err, errlen);
    if (rc == 0)
        rc = snapshot(t, topo, err, errlen);
    hwloc_topology_destroy(topo);
    if (rc != 0) {
        pb_topo_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void pb_topo_free(struct pb_topo *t)
{
    if (t == NULL)
        return;
    free(t->description);
    free(t->pus);
    free(t->nodes);
    free(t);
}

bool pb_topo_simulated(const struct pb_topo *t) { return t->src != PB_TOPO_MACHINE; }
const char *pb_topo_description(const struct pb_topo *t) { return t->description; }
unsigned pb_topo_npus(const struct pb_topo *t) { return t->npus; }
unsigned pb_topo_nnodes(const struct pb_topo *t) { return t->nnodes; }

const struct pb_pu_info *pb_topo_pu(const struct pb_topo *t, unsigned i)
{
    return i < t->npus ? &t->pus[i] : NULL;
}

const struct pb_node_info *pb_topo_node(const struct pb_topo *t, unsigned i)
{
    return i < t->nnodes ? &t->nodes[i] : NULL;
}

/* "0-3,8,10-11": the logical PUs of a node, as ranges. */
static void print_pu_ranges(const struct pb_topo *t, int node, FILE *out)
{
    bool first = true;
    unsigned i = 0;
    while (i < t->npus) {
        if (t->pus[i].numa_node != node) {
            i++;
            continue;
        }
        unsigned j = i;
        while (j + 1 < t->npus && t->pus[j + 1].numa_node == node)
            j++;
        fprintf(out, first ? "%u" : ",%u", i);
        if (j > i)
            fprintf(out, "-%u", j);
        first = false;
        i = j + 1;
    }
}

static void print_bytes(uint64_t b, FILE *out)
{
    if (b == 0)
        fputs("memory unknown", out);
    else if (b >= (1ull << 30) && b % (1ull << 30) == 0)
        fprintf(out, "%" PRIu64 " GiB", b >> 30);
    else
        fprintf(out, "%" PRIu64 " MiB", b >> 20);
}

void pb_topo_print(const struct pb_topo *t, FILE *out)
{
    unsigned memonly = 0;
    for (unsigned n = 0; n < t->nnodes; n++)
        memonly += t->nodes[n].npus == 0;
    fprintf(out, "%s%s: %u package%s, %u NUMA node%s", t->description,
            pb_topo_simulated(t) ? " (simulated)" : "", t->npackages,
            t->npackages == 1 ? "" : "s", t->nnodes, t->nnodes == 1 ? "" : "s");
    if (memonly)
        fprintf(out, " (%u memory-only)", memonly);
    fprintf(out, ", %u core%s, %u processor%s.", t->ncores, t->ncores == 1 ? "" : "s",
            t->npus, t->npus == 1 ? "" : "s");
    for (unsigned n = 0; n < t->nnodes; n++) {
        const struct pb_node_info *nd = &t->nodes[n];
        fprintf(out, " Node %u (P#%u): ", nd->index, nd->os_index);
        if (nd->npus == 0) {
            fputs("memory-only, ", out);
        } else {
            fprintf(out, "%u processor%s (", nd->npus, nd->npus == 1 ? "" : "s");
            print_pu_ranges(t, (int)n, out);
            fputs("), ", out);
        }
        print_bytes(nd->memory_bytes, out);
        fputc('.', out);
    }
    fputc('\n', out);
}
