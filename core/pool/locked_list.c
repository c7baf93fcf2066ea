/* pool `locked-list`: one free list behind one mutex, grown a slab at a
 * time: the naive lookaside list.
 *
 * Concurrency: get and put from any thread; every call takes the one lock,
 * so all CPUs contend on it and on the list head's cache line.
 * Type-stable: slabs are freed only at fini; a free block's first 8 bytes
 * hold the list link (within PB_POOL_FREE_BYTES). */
#include <pthread.h>
#include <stdlib.h>

#include "pb_strategy.h"

#define SLAB_BLOCKS 64

struct free_block { struct free_block *next; };
struct slab { struct slab *next; size_t bytes; };

struct pb_pool {
    pthread_mutex_t lock;
    struct free_block *free;
    struct slab *slabs;
    size_t size;           /* block size, whole cache lines */
    size_t capacity;       /* 0 = unlimited */
    size_t created;
    struct pb_mem_hooks mem;
};

static int ll_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    struct pb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -12;
    pthread_mutex_init(&p->lock, NULL);
    p->size = (cfg->object_size + PB_CACHE_LINE - 1) & ~(size_t)(PB_CACHE_LINE - 1);
    p->capacity = cfg->capacity;
    p->mem = cfg->mem;
    *pool = p;
    return 0;
}

static void ll_fini(struct pb_pool *pool)
{
    struct slab *s = pool->slabs;
    while (s) {
        struct slab *next = s->next;
        pb_mem_free(&pool->mem, s, s->bytes);
        s = next;
    }
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

/* Called with the lock held: adds up to SLAB_BLOCKS blocks to the list. */
static void ll_grow(struct pb_pool *pool)
{
    size_t n = SLAB_BLOCKS;
    if (pool->capacity && pool->created + n > pool->capacity)
        n = pool->capacity - pool->created;
    if (n == 0)
        return;
    size_t bytes = PB_CACHE_LINE + n * pool->size;
    struct slab *s = pb_mem_alloc(&pool->mem, 0, bytes);
    if (!s)
        return;
    s->bytes = bytes;
    s->next = pool->slabs;
    pool->slabs = s;
    char *base = (char *)s + PB_CACHE_LINE;
    for (size_t i = n; i-- > 0;) {
        struct free_block *b = (struct free_block *)(base + i * pool->size);
        b->next = pool->free;
        pool->free = b;
    }
    pool->created += n;
}

static void *ll_get(struct pb_pool *pool, unsigned cpu)
{
    pthread_mutex_lock(&pool->lock);
    if (!pool->free)
        ll_grow(pool);
    struct free_block *b = pool->free;
    if (b)
        pool->free = b->next;
    pthread_mutex_unlock(&pool->lock);
    return b;
}

static void ll_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    struct free_block *b = block;
    pthread_mutex_lock(&pool->lock);
    b->next = pool->free;
    pool->free = b;
    pthread_mutex_unlock(&pool->lock);
}

const struct pb_pool_ops pb_pool_locked_list = {
    .name = "locked-list",
    .description = "one mutex-protected free list (naive lookaside list)",
    .flags = PB_TYPE_STABLE | PB_IN_SUITE,
    .init = ll_init,
    .fini = ll_fini,
    .get = ll_get,
    .put = ll_put,
};
