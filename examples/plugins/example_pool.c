/* An example pool plugin, `example-pool`: every block from aligned_alloc,
 * with the capacity counted. Small on purpose: the whole contract of a
 * pool (pb_strategy.h) and nothing else. Build (from the top folder):
 *
 *   cc -std=c11 -O2 -fPIC -shared -Icore/include -o example_pool.so \
 *      examples/plugins/example_pool.c
 *
 * and try it: pendbench stress --pool ./example_pool.so */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pendbench_plugin.h"

struct pb_pool {
    size_t size;                   /* rounded up to whole cache lines */
    size_t capacity;               /* 0: unlimited */
    _Atomic size_t out;            /* blocks handed out and not put back */
};

static int ex_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    struct pb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->size = (cfg->object_size + PB_CACHE_LINE - 1) / PB_CACHE_LINE * PB_CACHE_LINE;
    p->capacity = cfg->capacity;
    *pool = p;
    return 0;
}

static void ex_fini(struct pb_pool *pool)
{
    free(pool);
}

static void *ex_get(struct pb_pool *pool, unsigned cpu)
{
    (void)cpu;                     /* one pool for every cpu */
    /* relaxed: the count only bounds how many blocks exist at once. */
    size_t n = atomic_fetch_add_explicit(&pool->out, 1, memory_order_relaxed);
    if (pool->capacity && n >= pool->capacity) {
        atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
        return NULL;               /* exhausted: the model refuses the operation (CD3) */
    }
    void *b = aligned_alloc(PB_CACHE_LINE, pool->size);
    if (!b)
        atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
    return b;
}

static void ex_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    (void)cpu;
    free(block);
    atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
}

static const struct pb_pool_ops example_pool = {
    .name = "example-pool",
    .description = "plugin example: aligned_alloc and free, capacity counted",
    .flags = 0,                    /* not type-stable: a freed block goes back to libc */
    .init = ex_init,
    .fini = ex_fini,
    .get = ex_get,
    .put = ex_put,
};

PB_PLUGIN_POOL(example_pool);
