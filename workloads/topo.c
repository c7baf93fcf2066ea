/* Topology loading and queries (hwloc).
 *
 * A pb_topo is a snapshot: at load time every processor (PU) and NUMA node
 * is copied into plain arrays and the hwloc topology is dropped, so a
 * pb_topo is immutable and may be read from any thread without locks.
 *
 * Which NUMA node a processor belongs to (its local node). hwloc's notion
 * of locality: the NUMA nodes whose cpuset contains the processor. A node
 * is a memory child of the object its memory is local to (a package, a
 * die, an L3 or memory-side cache, a group), and its cpuset is that
 * object's. Caches are therefore kept when loading: dropping them moves
 * their nodes up to the package, where two nodes of one package (AMD
 * Magny-Cours, KNL SNC4 clusters) can no longer be told apart. Among the
 * nodes containing the processor we take:
 *   1. the smallest cpuset (the closest memory: a package's node before
 *      a node attached to the whole machine, such as CXL memory);
 *   2. then plain DRAM before HBM/MCDRAM, NVM, CXL and other kinds: hwloc
 *      names those by the node's subtype ("MCDRAM", "HBM", "NVM",
 *      "CXL-DRAM", ...) or, for DAX-backed memory, a "DAXDevice" info;
 *      no subtype or "DRAM" is plain DRAM;
 *   3. then the lowest logical index.
 * A processor that lies in no node's cpuset (hwloc's own topologies always
 * have one; a topology without NUMA information gets one implicit node 0)
 * has node -1: compact and scatter may use it, same-node and cross-node
 * never do, and memory for it is not bound (the OS default policy). A node
 * no processor picks this way is memory-only (npus 0): it never receives a
 * thread by default, but memory may be placed on it on request
 * (pb_plan_set_memory_node).
 *
 * The machine topology is restricted to this process's affinity
 * (sched_getaffinity), so a taskset or cpuset-limited run only ever sees
 * processors it may run on; memory-only nodes survive the restriction.
 * Synthetic and XML topologies describe other machines and are never
 * restricted: they are simulated (placement maps their processors onto
 * the real ones).
 *
 * Untrusted input. A synthetic description is sized before hwloc sees it
 * (hwloc takes minutes over 'pu:10000' and never returns from larger
 * ones). An XML file must be a regular file; it is read once, checked
 * for its format version, for processor and NUMA node numbers that
 * hwloc would turn into gigabytes of bitmaps and for set values that are
 * no sets (check_xml_objects), and loaded first in a forked child:
 * libhwloc 2.9 crashes on some malformed files, and a crash of the child
 * is reported as a clear error instead of taking pendbench down. When
 * hwloc refuses the file there, the child's verdict and what hwloc wrote
 * on its stderr make the message, and pendbench never loads the file
 * itself (no hwloc lines on its stderr, no stale errno). */
#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pb_err.h"
#include "pb_topo.h"
#include "topo_internal.h"

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

/* 0 for plain DRAM, 1 for every other kind of memory. */
static int memory_kind_rank(hwloc_obj_t node)
{
    if (hwloc_obj_get_info_by_name(node, "DAXDevice") != NULL)
        return 1;
    return node->subtype == NULL || strcasecmp(node->subtype, "DRAM") == 0 ? 0 : 1;
}

/* The order of the rule above: is cand a better local node than best? */
static bool better_node(hwloc_obj_t cand, hwloc_obj_t best)
{
    if (best == NULL)
        return true;
    int wc = hwloc_bitmap_weight(cand->cpuset), wb = hwloc_bitmap_weight(best->cpuset);
    /* -1 is an infinite set: larger than any finite one. */
    if (wc != wb)
        return wb < 0 || (wc >= 0 && wc < wb);
    int rc = memory_kind_rank(cand), rb = memory_kind_rank(best);
    if (rc != rb)
        return rc < rb;
    return cand->logical_index < best->logical_index;
}

hwloc_obj_t pb_topo__local_node(hwloc_topology_t topo, hwloc_obj_t pu)
{
    if (pu == NULL || pu->cpuset == NULL || hwloc_bitmap_iszero(pu->cpuset))
        return NULL;
    hwloc_obj_t best = NULL;
    for (hwloc_obj_t n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, NULL); n;
         n = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, n))
        if (n->cpuset && hwloc_bitmap_isincluded(pu->cpuset, n->cpuset) && better_node(n, best))
            best = n;
    return best;
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

static int restrict_to_affinity(hwloc_topology_t topo, char *err, size_t errlen)
{
    hwloc_bitmap_t aff = hwloc_bitmap_alloc();
    if (aff == NULL)
        return pb_fail(err, errlen, "out of memory");
    int rc = 0;
    if (pb_topo__affinity(aff) == 0) {
        hwloc_const_cpuset_t all = hwloc_topology_get_topology_cpuset(topo);
        if (!hwloc_bitmap_intersects(aff, all))
            rc = pb_fail(err, errlen,
                      "none of the CPUs this process may run on is in the machine's topology");
        else if (!hwloc_bitmap_isincluded(all, aff) &&
                 hwloc_topology_restrict(topo, aff, 0) != 0)
            rc = pb_fail(err, errlen, "could not restrict the topology to this process's CPUs: %s",
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
        return pb_fail(err, errlen, "the topology '%s' has no processors", t->description);
    t->npus = (unsigned)npus;
    t->nnodes = nnodes > 0 ? (unsigned)nnodes : 1;
    t->npackages = npk > 0 ? (unsigned)npk : 1;
    t->ncores = ncores > 0 ? (unsigned)ncores : t->npus;
    t->pus = calloc(t->npus, sizeof *t->pus);
    t->nodes = calloc(t->nnodes, sizeof *t->nodes);
    if (t->pus == NULL || t->nodes == NULL)
        return pb_fail(err, errlen, "out of memory");

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

/* Largest synthetic topology accepted: more processors than any machine
 * pendbench is meant for, and hwloc builds it in well under a second. */
#define PB_TOPO_MAX_SYNTHETIC_PUS 4096u
#define PB_TOPO_MAX_SYNTHETIC_OBJS 16384u
/* An XML topology larger than this is not a machine description. */
#define PB_TOPO_MAX_XML_BYTES (64u << 20)
/* hwloc loads the largest real XML files in well under a second. */
#define PB_TOPO_XML_CHILD_SECONDS 30u
/* Processor and NUMA node numbers (os_index) of an XML or synthetic
 * topology must be below this. hwloc keeps them as bit positions in its
 * cpusets and nodesets, so one processor numbered 4000000000 (or one
 * without a number, which hwloc takes as 2^32 - 1) costs 512 MB bitmaps
 * while loading: 0.5 to 5 GB for an otherwise tiny file. Real machines
 * number far lower: Linux numbers CPUs below NR_CPUS (8192 on the largest
 * x86-64 kernels) and NUMA nodes below 1024. 2^20 leaves ample room, keeps
 * a set under 128 KiB, and is the largest affinity mask pb_topo__affinity
 * asks the kernel for. */
#define PB_TOPO_OS_INDEX_LIMIT (1u << 20)

/* Sizes a synthetic description the way hwloc reads it: whitespace
 * separated levels "type:count" (attributes in parentheses after the
 * count, memory attachments "[numa]" between levels), each count
 * multiplying the objects of the level above. 0, or -1 with a message
 * when the description asks for more than the caps, gives a level a
 * count that is not positive (0, or '-1', which strtoull makes huge), or
 * numbers an object past PB_TOPO_OS_INDEX_LIMIT; a description hwloc
 * will not parse anyway is left for hwloc to reject. */
static int check_synthetic_size(const char *desc, char *err, size_t errlen)
{
    /* An explicit "indexes=" list numbers the objects of a level (or the
     * attached NUMA nodes) as hwloc reads it: digits and commas up to a
     * space or ')', each number by strtoul. Like an XML os_index, a number
     * past PB_TOPO_OS_INDEX_LIMIT costs gigabytes ('pu:2(indexes=0,
     * 4000000000)' took 4.4 GB). An interleaving ("2*4:1*2", "Core:PU")
     * only reorders numbers below the level's width. */
    for (const char *ix = strstr(desc, "indexes="); ix; ix = strstr(ix + 1, "indexes=")) {
        const char *v = ix + strlen("indexes=");
        size_t len = strcspn(v, " )");
        if (strspn(v, "0123456789,") < len)
            continue;
        for (size_t i = 0; i < len; i++) {
            size_t start = i;
            uint64_t n = 0;
            for (; i < len && v[i] != ','; i++)
                if (n < PB_TOPO_OS_INDEX_LIMIT)
                    n = n * 10 + (uint64_t)(v[i] - '0');
            if (n >= PB_TOPO_OS_INDEX_LIMIT)
                return pb_fail(err, errlen,
                            "the synthetic topology '%s' numbers an object %.*s (indexes=), beyond "
                            "%u, the largest pendbench accepts (no machine numbers its processors "
                            "or NUMA nodes that high)",
                            desc, (int)(i - start), v + start, PB_TOPO_OS_INDEX_LIMIT - 1);
        }
    }
    uint64_t width = 1, total = 0;
    const char *s = desc;
    while (*s) {
        s += strspn(s, " \t\n");
        if (*s == '\0')
            break;
        if (*s == '[') {            /* a memory attachment: one per parent */
            int depth = 0;
            do {
                depth += *s == '[';
                depth -= *s == ']';
                s++;
            } while (*s && depth > 0);
            continue;
        }
        /* "type:count", or a bare count (hwloc guesses the type). hwloc
         * needs no space after a level's count (and its attributes):
         * '481[numa]pu:3481' is two levels, so the next one starts there. */
        const char *count = s;
        if (!strchr("0123456789+-", *s)) {
            s += strcspn(s, ": \t\n[");
            if (*s != ':')
                continue;           /* not a level hwloc accepts: it says so */
            count = ++s;
        }
        /* Read as hwloc reads it: strtoull base 0 ("0x100" is 256, "+8"
         * and " 8" are 8; "-1" is huge, so refused). */
        errno = 0;
        char *after;
        unsigned long long n = strtoull(count, &after, 0);
        if (after == count) {
            s += strcspn(s, " \t\n[");
            continue;
        }
        /* A level of no objects, or a negative count (which strtoull
         * wraps to a huge one: it is not "too large"). */
        const char *digits = count + strspn(count, " \t\n\v\f\r");
        if (n == 0 || *digits == '-')
            return pb_fail(err, errlen,
                        "the synthetic topology '%s' has the count '%.*s': each level's count "
                        "must be a positive number (as in 'pack:2 numa:2 core:4 pu:2')",
                        desc, (int)(after - digits), digits);
        s = after;
        if (*s == '(') {            /* attributes */
            int depth = 0;
            do {
                depth += *s == '(';
                depth -= *s == ')';
                s++;
            } while (*s && depth > 0);
        }
        if (errno == ERANGE || n > PB_TOPO_MAX_SYNTHETIC_OBJS)
            n = PB_TOPO_MAX_SYNTHETIC_OBJS + 1ull;
        width = width * n;
        if (width > PB_TOPO_MAX_SYNTHETIC_OBJS)
            width = PB_TOPO_MAX_SYNTHETIC_OBJS + 1ull;  /* saturate: no overflow */
        total += width;
        if (total > PB_TOPO_MAX_SYNTHETIC_OBJS || width > PB_TOPO_MAX_SYNTHETIC_PUS)
            return pb_fail(err, errlen,
                        "the synthetic topology '%s' is too large: pendbench simulates at most "
                        "%u processors and %u objects in all (the levels multiply: "
                        "'pack:2 core:8 pu:2' is 32 processors)",
                        desc, PB_TOPO_MAX_SYNTHETIC_PUS, PB_TOPO_MAX_SYNTHETIC_OBJS);
    }
    return 0;
}

/* Reads an XML topology file: a regular file (a FIFO or device would hang
 * or never end), of sane size, without NUL bytes, in a format this hwloc
 * reads. *buf is NUL-terminated; 0, or -1 with a message. */
static int read_xml_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    /* O_NONBLOCK: opening a FIFO without a writer must not block; a
     * regular file ignores it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return pb_fail(err, errlen, "cannot read the XML topology file '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pb_fail(err, errlen, "the XML topology '%s' is not a regular file "
                    "(expected an hwloc XML file, e.g. from 'lstopo --of xml')", path);
    }
    if (st.st_size > (off_t)PB_TOPO_MAX_XML_BYTES) {
        close(fd);
        return pb_fail(err, errlen, "the XML topology '%s' is too large (%lld bytes; at most %u)",
                    path, (long long)st.st_size, PB_TOPO_MAX_XML_BYTES);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *b = malloc(cap);
    if (b == NULL) {
        close(fd);
        return pb_fail(err, errlen, "out of memory");
    }
    while (n + 1 < cap) {
        ssize_t r = read(fd, b + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            return pb_fail(err, errlen, "cannot read the XML topology file '%s': %s", path, strerror(e));
        }
        if (r == 0)
            break;                  /* the file shrank: take what is there */
        n += (size_t)r;
    }
    close(fd);
    b[n] = '\0';
    if (n == 0) {
        free(b);
        return pb_fail(err, errlen, "the XML topology '%s' is empty "
                    "(expected an hwloc XML file, e.g. from 'lstopo --of xml')", path);
    }
    const char *nul = memchr(b, '\0', n);
    if (nul != NULL) {
        unsigned line = 1;
        for (const char *c = b; c < nul; c++)
            line += *c == '\n';
        free(b);
        return pb_fail(err, errlen, "the XML topology '%s' contains a NUL byte on line %u: "
                    "not a text XML file", path, line);
    }
    /* hwloc 2.x reads versions 1 and 2 only, and says no more than
     * "Invalid argument" about a newer one. */
    const char *top = strstr(b, "<topology");
    const char *ver = top ? strstr(top, "version=\"") : NULL;
    const char *close_tag = top ? strchr(top, '>') : NULL;
    if (ver && close_tag && ver < close_tag) {
        unsigned major = (unsigned)strtoul(ver + 9, NULL, 10);
        if (major > 2) {
            free(b);
            return pb_fail(err, errlen,
                        "the XML topology '%s' is in hwloc %u format; this pendbench uses hwloc %u.%u, "
                        "which reads hwloc 1 and 2 XML only. Export it again on the machine it "
                        "describes with 'lstopo --of xml --export-xml-flags v2 FILE.xml' (hwloc 3)",
                        path, major, HWLOC_API_VERSION >> 16, (HWLOC_API_VERSION >> 8) & 0xff);
        }
    }
    *buf = b;
    *len = n;
    return 0;
}

/* The escapes hwloc's built-in XML reader knows in an attribute value
 * (those it writes); at any other '&' it stops reading the tag. */
static const struct {
    const char *text;
    char c;
} xml_escapes[] = {
    { "&#10;", '\n' }, { "&#13;", '\r' }, { "&#9;", '\t' }, { "&quot;", '"' },
    { "&lt;", '<' },   { "&gt;", '>' },   { "&amp;", '&' },
};

/* The escape at p (before end): its index in xml_escapes, or -1. */
static int xml_escape_at(const char *p, const char *end)
{
    for (size_t i = 0; i < sizeof xml_escapes / sizeof xml_escapes[0]; i++) {
        size_t n = strlen(xml_escapes[i].text);
        if ((size_t)(end - p) >= n && memcmp(p, xml_escapes[i].text, n) == 0)
            return (int)i;
    }
    return -1;
}

struct xml_attr {
    const char *name, *value;   /* value: the raw text between the quotes */
    size_t name_len, value_len;
};

static bool xml_attr_is(const struct xml_attr *a, const char *name)
{
    return a->name_len == strlen(name) && memcmp(a->name, name, a->name_len) == 0;
}

/* Reads the next attribute of a tag whose attributes end at end, the way
 * the XML reader of this libhwloc does (hwloc 2.9's own; it is built
 * without libxml2): spaces, tabs or newlines; a name of [a-z_]; '="'; a
 * value up to the next '"', where '&' starts one of xml_escapes. 1 with
 * *a set, 0 at the end of the tag, -1 where that reader stops: it then
 * ignores the rest of the tag's attributes. */
static int next_xml_attr(const char **pp, const char *end, struct xml_attr *a)
{
    const char *p = *pp;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n'))
        p++;
    if (p == end)
        return 0;
    a->name = p;
    while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
        p++;
    a->name_len = (size_t)(p - a->name);
    if (end - p < 2 || p[0] != '=' || p[1] != '"')
        return -1;
    const char *q = a->value = p + 2;
    while (q < end && *q != '"') {
        if (*q != '&') {
            q++;
            continue;
        }
        int e = xml_escape_at(q, end);
        if (e < 0)
            return -1;
        q += strlen(xml_escapes[e].text);
    }
    if (q == end)
        return -1;
    a->value_len = (size_t)(q - a->value);
    *pp = q + 1;
    return 1;
}

/* The object type an XML "type" value names, as hwloc reads it (its own
 * hwloc_type_sscanf, on the unescaped value); HWLOC_OBJ_TYPE_MAX for none.
 * -1 when out of memory. */
static int xml_object_type(const struct xml_attr *a, hwloc_obj_type_t *type)
{
    char *v = malloc(a->value_len + 1), *o = v;
    if (v == NULL)
        return -1;
    for (const char *p = a->value, *end = p + a->value_len; p < end;) {
        int e = *p == '&' ? xml_escape_at(p, end) : -1;
        *o++ = e < 0 ? *p : xml_escapes[e].c;
        p += e < 0 ? 1 : strlen(xml_escapes[e].text);
    }
    *o = '\0';
    if (hwloc_type_sscanf(v, type, NULL, 0) != 0)
        *type = HWLOC_OBJ_TYPE_MAX;
    free(v);
    return 0;
}

/* What is wrong with an os_index value (NULL: nothing), into buf. Only
 * plain decimal digits are taken: hwloc reads the value with strtoul, to
 * which "-1" is 2^32 - 1 and " 7x" is 7. */
static const char *bad_os_index(const struct xml_attr *a, char *buf, size_t len)
{
    int shown = a->value_len > 24 ? 24 : (int)a->value_len;
    const char *more = a->value_len > 24 ? "..." : "";
    if (a->value_len == 0 || strspn(a->value, "0123456789") < a->value_len) {
        snprintf(buf, len, "has os_index \"%.*s%s\", which is not a number", shown, a->value, more);
        return buf;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < a->value_len && n < PB_TOPO_OS_INDEX_LIMIT; i++)
        n = n * 10 + (uint64_t)(a->value[i] - '0');
    if (n < PB_TOPO_OS_INDEX_LIMIT)
        return NULL;
    snprintf(buf, len, "has os_index %.*s%s, beyond %u, the largest pendbench accepts (no machine "
             "numbers its processors or NUMA nodes that high)", shown, a->value, more,
             PB_TOPO_OS_INDEX_LIMIT - 1);
    return buf;
}

/* Whether a set attribute (cpuset, nodeset, ...) of an object is one hwloc
 * reads as a set: comma-separated words of 1 to 16 hex digits, each with
 * an optional "0x", inner words possibly empty (zero; large sets are
 * written so), the first possibly "0xf...f" (an infinite head), as in
 * "0x0000000f" or "0xf...f,0x00000001,,,0x00000000". hwloc takes another
 * value for an empty set without a word (or asserts on some, as on
 * ",x00000001"), and a topology of empty sets loses every PU. Also
 * fuzz/fuzz_topo_xml.c's set_value_ok. */
static bool xml_bitmap_ok(const struct xml_attr *a)
{
    const char *p = a->value, *end = p + a->value_len;
    for (unsigned word = 0;; word++) {
        const char *w = p;
        while (p < end && *p != ',')
            p++;
        size_t n = (size_t)(p - w);
        bool ok;
        if (n == 0)
            ok = word > 0 && p < end;           /* an empty inner word */
        else if (word == 0 && n == 7 && memcmp(w, "0xf...f", 7) == 0)
            ok = true;
        else {
            if (n >= 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X'))
                w += 2, n -= 2;
            size_t hex = 0;
            while (hex < n && strchr("0123456789abcdefABCDEF", w[hex]) && w[hex])
                hex++;
            ok = n >= 1 && n <= 16 && hex == n;
        }
        if (!ok)
            return false;
        if (p == end)
            return true;
        p++;                                     /* the comma */
    }
}

static bool xml_is_set_attr(const struct xml_attr *a)
{
    static const char *const sets[] = { "cpuset", "complete_cpuset", "allowed_cpuset",
                                        "online_cpuset", "nodeset", "complete_nodeset",
                                        "allowed_nodeset" };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (xml_attr_is(a, sets[i]))
            return true;
    return false;
}

/* Refuses, before hwloc reads it, an XML topology with a PU or NUMANode
 * object whose os_index hwloc would take as a huge bit position (see
 * PB_TOPO_OS_INDEX_LIMIT): none, too large, or not a number. Every
 * "<object" in the text is looked at, wherever it stands, so that no
 * object hwloc reads is missed; an object tag whose attributes hwloc's
 * reader would stop reading part-way is refused as well, since its type
 * or os_index may be among those it would not read. 0, or -1 with a
 * message. */
static int check_xml_objects(const char *path, const char *buf, char *err, size_t errlen)
{
    unsigned line = 1, npus = 0, nnodes = 0;
    const char *counted = buf;  /* newlines are counted up to here */
    for (const char *tag = strstr(buf, "<object"); tag; tag = strstr(tag + 1, "<object")) {
        const char *p = tag + strlen("<object");
        if (*p != '\0' && !strchr(" \t\r\n/>", *p))
            continue;           /* another tag ("<objects") */
        /* hwloc's reader ends the tag at the first '>', even in a value. */
        const char *end = strchr(p, '>');
        if (end == NULL)
            break;              /* it fails there, before reading this object */
        if (end > p && end[-1] == '/')
            end--;
        for (; counted < tag; counted++)
            line += *counted == '\n';

        bool pu = false, node = false, has_os_index = false;
        const char *problem = NULL;
        char why[160];
        struct xml_attr a, type_attr = { 0 }, bad_set = { 0 };
        int r;
        while ((r = next_xml_attr(&p, end, &a)) > 0) {
            if (xml_is_set_attr(&a) && !bad_set.name && !xml_bitmap_ok(&a))
                bad_set = a;
            if (xml_attr_is(&a, "type")) {
                type_attr = a;
                hwloc_obj_type_t type;
                if (xml_object_type(&a, &type) != 0)
                    return pb_fail(err, errlen, "out of memory");
                pu |= type == HWLOC_OBJ_PU;
                node |= type == HWLOC_OBJ_NUMANODE;
            } else if (xml_attr_is(&a, "os_index")) {
                has_os_index = true;
                if (problem == NULL)
                    problem = bad_os_index(&a, why, sizeof why);
            }
        }
        if (r < 0)
            return pb_fail(err, errlen,
                        "the XML topology '%s' is malformed: hwloc cannot read all the attributes "
                        "of the object on line %u (it reads name=\"value\" with lowercase names "
                        "and only the escapes &quot; &lt; &gt; &amp; &#9; &#10; &#13;); export it "
                        "again with 'lstopo --of xml FILE.xml'", path, line);
        if (bad_set.name) {
            int tshown = type_attr.value_len > 24 ? 24 : (int)type_attr.value_len;
            int vshown = bad_set.value_len > 40 ? 40 : (int)bad_set.value_len;
            return pb_fail(err, errlen,
                        "the XML topology '%s' cannot be used: the %.*s%sobject on line %u has "
                        "%.*s=\"%.*s%s\", which is not a set as hwloc writes one (like "
                        "0x0000000f); "
                        "export it again on the machine it describes with 'lstopo --of xml "
                        "FILE.xml'", path, tshown, type_attr.value, tshown ? " " : "", line,
                        (int)bad_set.name_len, bad_set.name, vshown, bad_set.value,
                        bad_set.value_len > 40 ? "..." : "");
        }
        if (!pu && !node)
            continue;
        /* An export lists PUs and NUMA nodes in their logical order. */
        unsigned logical = pu ? npus++ : nnodes++;
        if (!has_os_index)
            problem = "has no os_index (its number on the machine: every PU and NUMANode of an "
                      "lstopo export has one)";
        if (problem)
            return pb_fail(err, errlen,
                        "the XML topology '%s' cannot be used: the %s L#%u on line %u %s; export it "
                        "again on the machine it describes with 'lstopo --of xml FILE.xml'",
                        path, pu ? "PU" : "NUMANode", logical, line, problem);
    }
    return 0;
}

static hwloc_topology_t new_topology(void)
{
    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0)
        return NULL;
    /* Processors, memory and the caches that NUMA nodes hang from are all
     * placement needs (see the top of the file); skipping I/O keeps
     * loading the machine quick. */
    hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_type_filter(topo, HWLOC_OBJ_MISC, HWLOC_TYPE_FILTER_KEEP_NONE);
    return topo;
}

/* Loads an XML buffer into a fresh topology. 0 or -1 (errno set). */
static int load_xml_buffer(hwloc_topology_t topo, const char *buf, size_t len)
{
    if (len + 1 > (size_t)INT32_MAX) {
        errno = EFBIG;
        return -1;
    }
    if (hwloc_topology_set_xmlbuffer(topo, buf, (int)(len + 1)) != 0)
        return -1;
    return hwloc_topology_load(topo);
}

bool pb_topo__xml_in_process = false;

/* The checking child's exit statuses besides 0 (hwloc loaded the file). */
#define XML_CHILD_REFUSED 42    /* hwloc refused the file */
#define XML_CHILD_NOMEM 43      /* hwloc ran out of memory */

/* Why hwloc refused an XML file, for "hwloc could not load ...: <why>":
 * from what hwloc wrote on stderr while it loaded (its critical errors
 * are a line each), never from errno, which hwloc leaves stale on these
 * paths ("No such file or directory" for a file that was read). */
static const char *xml_refusal(const char *said, bool nomem)
{
    if (nomem)
        return "out of memory";
    if (said && strstr(said, "does not contain any PU"))
        return "it has no PU (processing unit) hwloc can use (see the cpuset and "
               "allowed_cpuset values)";
    if (said && strstr(said, "does not contain any NUMA node"))
        return "it has no NUMA node";
    if (said && strstr(said, "became empty"))
        return "no object is left in it once hwloc has checked them";
    return "it is malformed or cut short";
}

/* Loads the XML in a child process first. 0 when hwloc loaded it there;
 * -1 with a message when the child died, or when hwloc refused the file
 * (the parent then never loads it: hwloc would print its complaint again
 * on pendbench's stderr, and leak what it had built). */
static int try_xml_in_child(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
    /* What hwloc says on stderr, kept for the message, not shown. */
    FILE *said = tmpfile();
    fflush(NULL);               /* the child must not write the parent's buffers twice */
    pid_t pid = fork();
    if (pid < 0) {
        if (said)
            fclose(said);
        return pb_fail(err, errlen, "cannot check the XML topology '%s' in a child process: %s",
                    path, strerror(errno));
    }
    if (pid == 0) {
        /* A crash must end the child by its signal, whatever handlers the
         * process has (a sanitizer's or a fuzzer's would report it as
         * theirs and write files of their own). */
        const int deadly[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
        for (size_t i = 0; i < sizeof deadly / sizeof deadly[0]; i++)
            signal(deadly[i], SIG_DFL);
        alarm(PB_TOPO_XML_CHILD_SECONDS);
        int to = said ? fileno(said) : open("/dev/null", O_WRONLY);
        if (to >= 0)
            dup2(to, STDERR_FILENO);
        hwloc_topology_t topo = new_topology();
        if (topo == NULL)
            _exit(XML_CHILD_NOMEM);
        errno = 0;
        int rc = load_xml_buffer(topo, buf, len);
        int e = errno;
        hwloc_topology_destroy(topo);
        /* _exit: no leak check of a sanitizer, no atexit of the parent's. */
        _exit(rc == 0 ? 0 : e == ENOMEM ? XML_CHILD_NOMEM : XML_CHILD_REFUSED);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            if (said)
                fclose(said);
            return pb_fail(err, errlen, "cannot check the XML topology '%s': waitpid: %s",
                        path, strerror(errno));
        }
    }
    char text[1024] = "";
    if (said) {
        rewind(said);
        size_t n = fread(text, 1, sizeof text - 1, said);
        text[n] = '\0';
        fclose(said);
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        if (sig == SIGALRM)
            return pb_fail(err, errlen, "hwloc did not finish reading the XML topology '%s' in %u s: "
                        "the file is malformed or far too large", path, PB_TOPO_XML_CHILD_SECONDS);
        return pb_fail(err, errlen, "hwloc crashed (%s) reading the XML topology '%s': the file is "
                    "malformed; export it again with 'lstopo --of xml FILE.xml'", strsignal(sig), path);
    }
    if (WIFEXITED(status) &&
        (WEXITSTATUS(status) == XML_CHILD_REFUSED || WEXITSTATUS(status) == XML_CHILD_NOMEM))
        return pb_fail(err, errlen, "hwloc could not load the XML topology '%s': %s (expected an "
                    "hwloc 1 or 2 XML file, e.g. from 'lstopo --of xml')", path,
                    xml_refusal(text, WEXITSTATUS(status) == XML_CHILD_NOMEM));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return pb_fail(err, errlen, "hwloc failed (exit %d) reading the XML topology '%s': the file is "
                    "malformed; export it again with 'lstopo --of xml FILE.xml'",
                    WEXITSTATUS(status), path);
    return 0;
}

int pb_topo_load(struct pb_topo **out, pb_topo_source src, const char *arg,
                 char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    *out = NULL;
    if ((src == PB_TOPO_SYNTHETIC || src == PB_TOPO_XML) && (arg == NULL || arg[0] == '\0'))
        return pb_fail(err, errlen, "%s",
                    src == PB_TOPO_XML ? "no XML topology file given"
                                       : "empty synthetic topology description "
                                         "(expected e.g. 'pack:2 numa:2 core:4 pu:2')");
    if (src != PB_TOPO_MACHINE && src != PB_TOPO_SYNTHETIC && src != PB_TOPO_XML)
        return pb_fail(err, errlen, "unknown topology source");
    if (src == PB_TOPO_SYNTHETIC && check_synthetic_size(arg, err, errlen) != 0)
        return -1;
    char *xml = NULL;
    size_t xml_len = 0;
    if (src == PB_TOPO_XML && (read_xml_file(arg, &xml, &xml_len, err, errlen) != 0 ||
                               check_xml_objects(arg, xml, err, errlen) != 0 ||
                               (!pb_topo__xml_in_process &&
                                try_xml_in_child(arg, xml, xml_len, err, errlen) != 0))) {
        free(xml);
        return -1;
    }

    struct pb_topo *t = calloc(1, sizeof *t);
    if (t == NULL) {
        free(xml);
        return pb_fail(err, errlen, "out of memory");
    }
    t->src = src;
    t->description = strdup(src == PB_TOPO_MACHINE ? "machine" : arg);
    if (t->description == NULL) {
        free(xml);
        free(t);
        return pb_fail(err, errlen, "out of memory");
    }

    hwloc_topology_t topo = new_topology();
    if (topo == NULL) {
        free(xml);
        pb_topo_free(t);
        return pb_fail(err, errlen, "hwloc could not start: %s", strerror(errno));
    }
    int rc = 0;
    if (src == PB_TOPO_SYNTHETIC) {
        if (hwloc_topology_set_synthetic(topo, arg) != 0 || hwloc_topology_load(topo) != 0)
            rc = pb_fail(err, errlen,
                      "hwloc rejected the synthetic description '%s': %s "
                      "(expected levels like 'pack:2 numa:2 core:4 pu:2')",
                      arg, strerror(errno));
    } else if (src == PB_TOPO_XML) {
        /* Reached when the checking child loaded the file (or, in a
         * fuzzer, with no child): errno says nothing reliable here. */
        errno = 0;
        if (load_xml_buffer(topo, xml, xml_len) != 0)
            rc = pb_fail(err, errlen, "hwloc could not load the XML topology '%s': %s "
                      "(expected an hwloc 1 or 2 XML file, e.g. from 'lstopo --of xml')",
                      arg, xml_refusal(NULL, errno == ENOMEM));
    } else if (hwloc_topology_load(topo) != 0) {
        rc = pb_fail(err, errlen, "hwloc could not read this machine's topology: %s", strerror(errno));
    }
    free(xml);
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
const char *pb_topo_xml_file(const struct pb_topo *t)
{
    return t->src == PB_TOPO_XML ? t->description : NULL;
}
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
