/* pool `jemalloc`: one jemalloc arena per NUMA node, blocks through
 * mallocx(MALLOCX_ARENA(node's arena) | MALLOCX_ALIGN(64)) and sdallocx,
 * with the calling thread's automatic tcache. The node of a cpu comes from
 * cfg->mem.node_of_cpu (NULL: every cpu on node 0).
 *
 * Concurrency: get and put from any thread, any cpu index (jemalloc's own
 * synchronisation; the tcache is per thread). With a capacity set, one
 * shared counter bounds the blocks out, as in `malloc`.
 *
 * Not type-stable: a put block goes back to jemalloc and may be reused for
 * anything, so only pinned handles are safe with it.
 *
 * Locality, as far as jemalloc gives it: a tcache miss fills from the arena
 * named in the call, so fresh blocks come from the cpu's node; but the
 * tcache caches by size class, not by arena, so a block put on a thread of
 * node 1 may be handed out again by that thread for a node-0 request. That
 * is jemalloc's behaviour with a tcache, and what this strategy measures.
 * (MALLOCX_TCACHE_NONE would keep blocks on their arena at the price of
 * the arena lock per call.)
 *
 * Arenas are created once per process per node and never destroyed:
 * "arena.<i>.destroy" requires every thread's tcache that touched the arena
 * to be flushed first, which one thread cannot do for the others. Later
 * pools reuse them, so init/fini cycles do not grow the arena count.
 *
 * Sanitizer builds (PB_SANITIZER): jemalloc would allocate behind the
 * sanitizer's back (ASan/TSan intercept malloc, not mallocx), hiding the
 * very errors those builds look for; init returns -ENOTSUP there and the
 * model reports the pool as "not available in this build". */
#include <errno.h>
#include <stdlib.h>

#include "pb_strategy.h"

#ifndef PB_SANITIZER

#include <jemalloc/jemalloc.h>
#include <pthread.h>

#define MAX_NODES 64

/* Process-wide: arena index + 1 per node (0 = not created yet). */
static pthread_mutex_t arenas_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned node_arena[MAX_NODES];

struct pb_pool {
    size_t size;
    size_t capacity;
    unsigned ncpus;
    unsigned nnodes;
    _Atomic size_t out;
    int *flags_of_cpu;     /* mallocx flags per cpu: its node's arena */
    int flags_default;     /* for a cpu index beyond ncpus: node 0 */
};

static int arena_of_node(unsigned node, unsigned *arena)
{
    int err = 0;
    pthread_mutex_lock(&arenas_lock);
    if (!node_arena[node]) {
        unsigned a;
        size_t sz = sizeof a;
        err = mallctl("arenas.create", &a, &sz, NULL, 0);
        if (!err)
            node_arena[node] = a + 1;
    }
    if (!err)
        *arena = node_arena[node] - 1;
    pthread_mutex_unlock(&arenas_lock);
    return err ? -err : 0;
}

static int je_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    struct pb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    size_t size = cfg->object_size ? cfg->object_size : 1;
    p->size = (size + PB_CACHE_LINE - 1) & ~(size_t)(PB_CACHE_LINE - 1);
    p->capacity = cfg->capacity;
    p->ncpus = cfg->ncpus;
    p->flags_of_cpu = calloc(cfg->ncpus ? cfg->ncpus : 1, sizeof *p->flags_of_cpu);
    if (!p->flags_of_cpu) {
        free(p);
        return -ENOMEM;
    }
    unsigned arena;
    int err = arena_of_node(0, &arena);
    if (err)
        goto fail;
    p->flags_default = MALLOCX_ARENA(arena) | MALLOCX_ALIGN(PB_CACHE_LINE);
    for (unsigned cpu = 0; cpu < cfg->ncpus; cpu++) {
        unsigned node = cfg->mem.node_of_cpu ? cfg->mem.node_of_cpu[cpu] : 0;
        if (node >= MAX_NODES) {
            err = -EINVAL;
            goto fail;
        }
        err = arena_of_node(node, &arena);
        if (err)
            goto fail;
        p->flags_of_cpu[cpu] = MALLOCX_ARENA(arena) | MALLOCX_ALIGN(PB_CACHE_LINE);
    }
    *pool = p;
    return 0;
fail:
    free(p->flags_of_cpu);
    free(p);
    return err;
}

static void je_fini(struct pb_pool *pool)
{
    free(pool->flags_of_cpu);
    free(pool);
}

static void *je_get(struct pb_pool *pool, unsigned cpu)
{
    if (pool->capacity) {
        /* relaxed: the counter only bounds how many blocks exist. */
        size_t n = atomic_fetch_add_explicit(&pool->out, 1, memory_order_relaxed);
        if (n >= pool->capacity) {
            atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
            return NULL;
        }
    }
    int flags = cpu < pool->ncpus ? pool->flags_of_cpu[cpu] : pool->flags_default;
    void *b = mallocx(pool->size, flags);
    if (!b && pool->capacity)
        atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
    return b;
}

static void je_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    /* Sized: spares jemalloc the size lookup. No arena flag: jemalloc finds
     * the block's arena itself; the tcache is the calling thread's. */
    sdallocx(block, pool->size, MALLOCX_ALIGN(PB_CACHE_LINE));
    if (pool->capacity)
        atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
}

#else /* PB_SANITIZER */

struct pb_pool { int unused; };

static int je_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    *pool = NULL;
    return -ENOTSUP;
}

static void je_fini(struct pb_pool *pool) { }

static void *je_get(struct pb_pool *pool, unsigned cpu) { return NULL; }

static void je_put(struct pb_pool *pool, unsigned cpu, void *block) { }

#endif

const struct pb_pool_ops pb_pool_jemalloc = {
    .name = "jemalloc",
    .description = "jemalloc arena per NUMA node, mallocx/dallocx with tcache",
    .flags = PB_REFERENCE | PB_MAY_BE_UNAVAILABLE | PB_IN_SUITE,
    .init = je_init,
    .fini = je_fini,
    .get = je_get,
    .put = je_put,
};
