/* pool `lifo`: a lock-free Treiber stack with an ABA tag, as a Windows
 * SLIST lookaside list; grown a slab at a time under a mutex.
 *
 * Concurrency: get and put from any thread and any cpu index, lock-free
 * (one CAS on the shared head per call; every cpu contends on that line,
 * which is what this strategy shows). Only growing (the stack empty) takes
 * the grow mutex. fini with no call in flight.
 *
 * Head: one 64-bit word {tag:32 | index+1:32}, 0 in the low half = empty.
 * A 128-bit {pointer, tag} CAS would need cmpxchg16b through libatomic
 * (gcc routes 16-byte atomics there), so blocks are named by a 32-bit index
 * instead and the whole head fits a plain 64-bit CAS. The tag goes up on
 * every successful push and pop, so a popper that read head = (A, t) and
 * A's link, then stalled while A was popped, reused and pushed back, fails
 * its CAS: the head is (A, t' != t). It wraps only after 2^32 changes of
 * the head during one stalled pop.
 *
 * Links: the free-list link of block i is links[i], a 32-bit atomic in a
 * side array at the end of its slab, not in the block. The stale popper's
 * read of the link of a block already handed out therefore reads pool
 * memory only, never bytes the block's new owner is writing: that read is
 * a relaxed atomic load that may return a stale value (the tag then
 * rejects the CAS), and it is no C data race, so TSan stays quiet whatever
 * the owner writes. The pool writes no byte of a free block (well within
 * PB_POOL_FREE_BYTES). The price: a get touches the link's line besides
 * the block's.
 *
 * Slabs: slab k holds 64 << k blocks (the last one clipped to the
 * capacity), so 26 slabs cover every 32-bit index and index -> slab is a
 * count of leading zeros. Block -> index (put) scans the slabs from the
 * newest, which holds half of all blocks.
 *
 * Type-stable: slabs are freed only at fini. Capacity: at most
 * cfg->capacity blocks are ever created, so when the stack is empty and
 * all are created, get returns NULL; every put block goes back on the
 * stack, none is lost. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pb_strategy.h"

#define SLAB0_SHIFT 6                  /* slab 0: 64 blocks */
#define MAX_SLABS 26                   /* 64 * (2^26 - 1) < 2^32 - 1 indices */
#define IDX_MASK 0xffffffffull

struct slab_ref {
    char *blocks;                      /* NULL until created */
    _Atomic uint32_t *links;           /* encoded next: index + 1, 0 = end */
    size_t nblocks;
    size_t bytes;
};

struct pb_pool {
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t head;   /* {tag, index + 1} */
    _Alignas(PB_CACHE_LINE) size_t size;             /* block size, whole lines */
    size_t capacity;
    /* Written under grow_lock before the slab's indices reach the head;
     * read after an acq_rel CAS or acquire load of the head that saw them,
     * or for a block the caller got from the pool (ordered by its own
     * hand-over), so plain fields suffice. */
    struct slab_ref slabs[MAX_SLABS];
    _Atomic unsigned nslabs;
    size_t created;                    /* under grow_lock */
    pthread_mutex_t grow_lock;
    struct pb_mem_hooks mem;
};

static size_t slab_first(unsigned k) { return ((size_t)1 << k << SLAB0_SHIFT) - ((size_t)1 << SLAB0_SHIFT); }

static unsigned slab_of_index(uint32_t i)
{
    /* Slab k covers [64 (2^k - 1), 64 (2^(k+1) - 1)): k = log2(i / 64 + 1). */
    return 31u - (unsigned)__builtin_clz((i >> SLAB0_SHIFT) + 1u);
}

static int lifo_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    struct pb_pool *p = aligned_alloc(PB_CACHE_LINE, sizeof *p);
    if (!p)
        return -ENOMEM;
    memset(p, 0, sizeof *p);
    size_t size = cfg->object_size ? cfg->object_size : 1;
    p->size = (size + PB_CACHE_LINE - 1) & ~(size_t)(PB_CACHE_LINE - 1);
    p->capacity = cfg->capacity;
    p->mem = cfg->mem;
    atomic_init(&p->head, 0);
    atomic_init(&p->nslabs, 0);
    pthread_mutex_init(&p->grow_lock, NULL);
    *pool = p;
    return 0;
}

static void lifo_fini(struct pb_pool *pool)
{
    unsigned n = atomic_load_explicit(&pool->nslabs, memory_order_relaxed);
    for (unsigned k = 0; k < n; k++)
        pb_mem_free(&pool->mem, pool->slabs[k].blocks, pool->slabs[k].bytes);
    pthread_mutex_destroy(&pool->grow_lock);
    free(pool);
}

static _Atomic uint32_t *link_of(struct pb_pool *p, uint32_t i, char **block)
{
    const struct slab_ref *s = &p->slabs[slab_of_index(i)];
    size_t off = i - slab_first(slab_of_index(i));
    *block = s->blocks + off * p->size;
    return &s->links[off];
}

static uint32_t index_of(struct pb_pool *p, const void *block)
{
    /* acquire: the scan starts at the newest slab, which may have been
     * published after the caller got its block (its fields are written
     * before grow's release store of nslabs). */
    unsigned k = atomic_load_explicit(&p->nslabs, memory_order_acquire);
    while (k-- > 0) {
        const struct slab_ref *s = &p->slabs[k];
        /* unsigned: an address below the slab wraps to a large offset. */
        uintptr_t off = (uintptr_t)block - (uintptr_t)s->blocks;
        if (off < s->nblocks * p->size)
            return (uint32_t)(slab_first(k) + off / p->size);
    }
    abort(); /* not a block of this pool */
}

/* Pops one block, or NULL when the stack is empty. */
static void *lifo_pop(struct pb_pool *p)
{
    /* acquire: the index read must come with its slab and its link. */
    uint64_t old = atomic_load_explicit(&p->head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)(old & IDX_MASK);
        if (!top)
            return NULL;
        char *block;
        _Atomic uint32_t *link = link_of(p, top - 1, &block);
        /* relaxed, and possibly stale: the block may already be popped and
         * reused by another thread; then the head's tag has moved and the
         * CAS below fails. Type-stability keeps the link readable. */
        uint32_t next = atomic_load_explicit(link, memory_order_relaxed);
        uint64_t new = ((old >> 32) + 1) << 32 | next;
        /* acq_rel: acquire the pusher's link and block contents; release so
         * every head value carries all earlier publications (slabs) on. */
        if (atomic_compare_exchange_weak_explicit(&p->head, &old, new, memory_order_acq_rel,
                                                  memory_order_acquire))
            return block;
    }
}

/* Pushes the chain first..last (already linked first -> ... -> last). */
static void lifo_push_chain(struct pb_pool *p, uint32_t first, uint32_t last)
{
    char *unused;
    _Atomic uint32_t *last_link = link_of(p, last, &unused);
    uint64_t old = atomic_load_explicit(&p->head, memory_order_relaxed);
    for (;;) {
        /* relaxed: published by the release half of the CAS below. */
        atomic_store_explicit(last_link, (uint32_t)(old & IDX_MASK), memory_order_relaxed);
        uint64_t new = ((old >> 32) + 1) << 32 | (uint64_t)(first + 1);
        /* acq_rel: release the link and the block (its last owner's
         * writes) to the next popper; acquire keeps the release chain. */
        if (atomic_compare_exchange_weak_explicit(&p->head, &old, new, memory_order_acq_rel,
                                                  memory_order_relaxed))
            return;
    }
}

/* The stack was empty: under the grow lock, pop again (another getter may
 * have grown it meanwhile) or add a slab, keep its first block and push the
 * rest. */
static void *lifo_grow(struct pb_pool *p, unsigned cpu)
{
    void *block = NULL;
    pthread_mutex_lock(&p->grow_lock);
    block = lifo_pop(p);
    unsigned k = atomic_load_explicit(&p->nslabs, memory_order_relaxed);
    if (block || k == MAX_SLABS)
        goto out;
    size_t n = (size_t)1 << k << SLAB0_SHIFT;
    if (p->capacity && p->created + n > p->capacity)
        n = p->capacity - p->created;
    if (n == 0)
        goto out;
    size_t block_bytes = n * p->size;
    size_t bytes = block_bytes + n * sizeof(uint32_t);
    char *mem = pb_mem_alloc(&p->mem, cpu, bytes);
    if (!mem)
        goto out;
    struct slab_ref *s = &p->slabs[k];
    s->blocks = mem;
    s->links = (_Atomic uint32_t *)(mem + block_bytes);
    s->nblocks = n;
    s->bytes = bytes;
    uint32_t first = (uint32_t)slab_first(k);
    for (size_t j = 1; j + 1 < n; j++)
        atomic_init(&s->links[j], first + (uint32_t)j + 2);   /* -> index j + 1 */
    p->created += n;
    /* release: index_of reads the slab fields after an acquire load of
     * nslabs; poppers get the slab through the head CAS below. */
    atomic_store_explicit(&p->nslabs, k + 1, memory_order_release);
    if (n > 1)
        lifo_push_chain(p, first + 1, first + (uint32_t)n - 1);
    block = s->blocks;
out:
    pthread_mutex_unlock(&p->grow_lock);
    return block;
}

static void *lifo_get(struct pb_pool *pool, unsigned cpu)
{
    void *block = lifo_pop(pool);
    return block ? block : lifo_grow(pool, cpu);
}

static void lifo_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    uint32_t i = index_of(pool, block);
    lifo_push_chain(pool, i, i);
}

const struct pb_pool_ops pb_pool_lifo = {
    .name = "lifo",
    .description = "lock-free Treiber stack with ABA tag (SLIST lookaside)",
    .flags = PB_TYPE_STABLE | PB_IN_SUITE,
    .init = lifo_init,
    .fini = lifo_fini,
    .get = lifo_get,
    .put = lifo_put,
};
