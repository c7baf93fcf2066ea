/* pool `locked-list`: one free list behind one lock (by default a pthread
 * mutex; any lock of the kind), grown a slab at a time: the naive
 * lookaside list.
 *
 * Concurrency: get and put from any thread; every call takes the one lock
 * (through pb_lock_acquire), so all CPUs contend on it and on the list
 * head's cache line. Type-stable: slabs are freed only at fini; a free
 * block's first 8 bytes hold the list link (within PB_POOL_FREE_BYTES).
 *
 * Layout: the lock's state with the list right after it (pb_lock_block:
 * one line for a small lock, as the mutex and list shared one before). */
#include <errno.h>
#include <stdlib.h>

#include "pb_lock_use.h"
#include "pb_strategy.h"

#define SLAB_BLOCKS 64

struct free_block { struct free_block *next; };
struct slab { struct slab *next; size_t bytes; };

/* Under the lock. */
struct ll_list {
    struct free_block *free;
    struct slab *slabs;
    size_t created;
};

struct pb_pool {
    /* Read-only after init. */
    struct pb_lock_block lock;     /* the lock and the list */
    struct ll_list *list;          /* = lock.data */
    size_t size;                   /* block size, whole cache lines */
    size_t capacity;               /* 0 = unlimited */
    struct pb_mem_hooks mem;
};

extern const struct pb_pool_ops pb_pool_locked_list;

static void ll_fini(struct pb_pool *pool)
{
    struct slab *s = pool->list ? pool->list->slabs : NULL;
    while (s) {
        struct slab *next = s->next;
        pb_mem_free(&pool->mem, s, s->bytes);
        s = next;
    }
    pb_lock_block_destroy(&pool->lock);
    free(pool);
}

static int ll_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    const struct pb_lock_ops *lock = pb_lock_choose(cfg->lock, pb_pool_locked_list.lock);
    if (!pb_lock_fits(lock, pb_pool_locked_list.lock_needs))
        return -EINVAL;
    struct pb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    struct pb_lock_config lc = pb_lock_config_of(cfg->ncpus, cfg->nnodes,
                                                 pb_pool_locked_list.flags, &cfg->mem);
    int rc = pb_lock_block_create(&p->lock, lock, &lc, 0, sizeof(struct ll_list));
    if (rc != 0) {
        ll_fini(p);
        return rc;
    }
    p->list = p->lock.data;
    p->size = (cfg->object_size + PB_CACHE_LINE - 1) & ~(size_t)(PB_CACHE_LINE - 1);
    p->capacity = cfg->capacity;
    p->mem = cfg->mem;
    *pool = p;
    return 0;
}

/* Called with the lock held: adds up to SLAB_BLOCKS blocks to the list. */
static void ll_grow(struct pb_pool *pool)
{
    struct ll_list *l = pool->list;
    size_t n = SLAB_BLOCKS;
    if (pool->capacity && l->created + n > pool->capacity)
        n = pool->capacity - l->created;
    if (n == 0)
        return;
    size_t bytes = PB_CACHE_LINE + n * pool->size;
    struct slab *s = pb_mem_alloc(&pool->mem, 0, bytes);
    if (!s)
        return;
    s->bytes = bytes;
    s->next = l->slabs;
    l->slabs = s;
    char *base = (char *)s + PB_CACHE_LINE;
    for (size_t i = n; i-- > 0;) {
        struct free_block *b = (struct free_block *)(base + i * pool->size);
        b->next = l->free;
        l->free = b;
    }
    l->created += n;
}

static void *ll_get(struct pb_pool *pool, unsigned cpu)
{
    struct ll_list *l = pool->list;
    struct pb_lock_hold hold;
    pb_lock_block_acquire(&pool->lock, &hold);
    if (!l->free)
        ll_grow(pool);
    struct free_block *b = l->free;
    if (b)
        l->free = b->next;
    pb_lock_block_release(&pool->lock, &hold);
    return b;
}

static void ll_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    struct ll_list *l = pool->list;
    struct free_block *b = block;
    struct pb_lock_hold hold;
    pb_lock_block_acquire(&pool->lock, &hold);
    b->next = l->free;
    l->free = b;
    pb_lock_block_release(&pool->lock, &hold);
}

const struct pb_pool_ops pb_pool_locked_list = {
    .name = "locked-list",
    .description = "one mutex-protected free list (naive lookaside list)",
    .flags = PB_TYPE_STABLE | PB_IN_SUITE,
    .lock = "pthread-mutex",
    .init = ll_init,
    .fini = ll_fini,
    .get = ll_get,
    .put = ll_put,
};
