/* pool `malloc`: libc malloc and free for every block, the baseline that
 * every other pool is measured against.
 *
 * Concurrency: get and put from any thread (libc's own locking).
 * Not type-stable: a freed block goes back to libc, so only pinned handles
 * are safe with it (flt_kernel.h). A capacity, when set, is enforced with
 * one shared counter: that costs a contended atomic per operation, which is
 * part of what this baseline shows. */
#include <stdatomic.h>
#include <stdlib.h>

#include "pb_strategy.h"

struct pb_pool {
    size_t size;
    size_t capacity;
    _Atomic size_t out;
};

static int malloc_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    struct pb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -12;
    p->size = (cfg->object_size + PB_CACHE_LINE - 1) & ~(size_t)(PB_CACHE_LINE - 1);
    p->capacity = cfg->capacity;
    *pool = p;
    return 0;
}

static void malloc_fini(struct pb_pool *pool) { free(pool); }

static void *malloc_get(struct pb_pool *pool, unsigned cpu)
{
    if (pool->capacity) {
        /* relaxed: the counter only bounds how many blocks exist. */
        size_t n = atomic_fetch_add_explicit(&pool->out, 1, memory_order_relaxed);
        if (n >= pool->capacity) {
            atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
            return NULL;
        }
    }
    void *b = aligned_alloc(PB_CACHE_LINE, pool->size);
    if (!b && pool->capacity)
        atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
    return b;
}

static void malloc_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    free(block);
    if (pool->capacity)
        atomic_fetch_sub_explicit(&pool->out, 1, memory_order_relaxed);
}

const struct pb_pool_ops pb_pool_malloc = {
    .name = "malloc",
    .description = "libc malloc/free per block (baseline)",
    .flags = PB_BASELINE | PB_IN_SUITE,
    .init = malloc_init,
    .fini = malloc_fini,
    .get = malloc_get,
    .put = malloc_put,
};
