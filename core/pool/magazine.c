/* pool `magazine`: per-CPU magazines over a shared depot, as Bonwick and
 * Adams' magazine allocator (USENIX 2001), with NUMA-local slabs and
 * batched remote frees.
 *
 * Per cpu: two magazines of MAG_ROUNDS blocks, `loaded` and `prev`. get pops
 * from loaded, else swaps in prev when it holds blocks; put pushes on
 * loaded, else swaps in prev when it is empty. Only when both are empty
 * (get) or both full (put) does the cpu go to the depot, which exchanges
 * a whole magazine: at most one depot visit per MAG_ROUNDS calls.
 *
 * Home: every slab is SLAB_BYTES-aligned and owned by the cpu that carved
 * it (its home); a block's home is read from its slab header through an
 * address mask. A put on another cpu (a remote free) goes into that cpu's
 * batch for the home, and a full batch is pushed whole onto the home's
 * inbox (one CAS on a remote line per MAG_ROUNDS frees). The home takes its
 * inbox when its magazines run dry, before the depot: blocks return to the
 * node they were allocated on.
 *
 * Concurrency contract:
 *   - get and put from any thread with any cpu index (cpu >= ncpus is
 *     folded to cpu % ncpus).
 *   - Per-cpu state (loaded, prev, remote batches, slab cursor) is guarded
 *     by the cpu's lock. The placement plan gives each cpu index one
 *     thread at a time, so the lock is uncontended and its line, like
 *     everything else on the fast path, is written only by that cpu: the
 *     fast path writes no line another cpu writes. The lock is there so
 *     that two threads sharing a cpu index (e.g. a requester and a worker
 *     planned on the same cpu) stay correct; they then contend on it.
 *   - The inbox, the only per-cpu word other cpus write, has its own line:
 *     a lock-free stack that anyone pushes and anyone takes whole with an
 *     exchange (no pop of single entries, so no ABA).
 *   - The depot (full magazines per home, empty magazines, the list of
 *     memory extents) is guarded by one lock, taken only on slow paths.
 *   - The locks: both kinds are of the lock kind (pb_lock.h), by default
 *     `ttas-backoff` (any lock fits: the pool needs no capability), taken
 *     through pb_lock_acquire. A cpu's lock state sits at the start of its
 *     line with the cpu's magazines right after it (pb_lock_block); the
 *     depot's on a line of its own (pb_lock_create).
 *   - Lock order: a cpu lock, then the depot lock. A thread never holds
 *     two cpu locks.
 *   - init and fini with no call in flight.
 *
 * Depot policy: a cpu takes back only the magazines it deposited, and
 * otherwise creates blocks on its own node, until the capacity stops it;
 * only then does it take other cpus' magazines. With no capacity set,
 * blocks cached by a cpu that stopped getting are not reused elsewhere:
 * memory traded for locality.
 *
 * Capacity: at most cfg->capacity blocks are ever created (0 =
 * unlimited). When a get finds nothing in its magazines, its inbox or the
 * depot, and no block may be created, it sweeps every cpu (taking each
 * cpu's lock in turn, its own released first) for blocks cached in
 * magazines, remote batches and inboxes, and tries the depot again; only
 * then does it return NULL. So a NULL means every block was out (or the
 * rest were in flight in another call), and no put block is ever lost.
 * The sweep is slow and meant for exhaustion only. If a magazine cannot be
 * allocated to hold a put block, the block goes on a loose list in the
 * depot (linked through its first 8 bytes, within PB_POOL_FREE_BYTES).
 *
 * Type-stable: slabs and magazines are freed only at fini. Memory comes
 * from pb_mem_alloc(&cfg->mem, cpu, ...), so a cpu's slabs are on its node;
 * each region of slabs is over-allocated by one slab to align them, and
 * the slack is cut into magazines. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "pb_lock_use.h"
#include "pb_prefetch.h"
#include "pb_strategy.h"

#define MAG_ROUNDS 30              /* blocks per magazine: 256-byte magazines */
#define SLAB_MIN_BYTES (16 * 1024) /* at least this, and >= 16 blocks per slab */
#define SLAB_MIN_BLOCKS 16
#define REGION_MAX_SLABS 16        /* regions double from 1 slab up to this */
#define MAG_CHUNK 16               /* magazines per allocation when the depot has none */

struct mag {
    _Alignas(PB_CACHE_LINE) struct mag *next;  /* in a depot or inbox list */
    unsigned n;
    void *b[MAG_ROUNDS];
};

/* Head of each block of memory from pb_mem_alloc (a region of slabs or a
 * chunk of magazines), for fini. */
struct extent {
    struct extent *next;
    size_t bytes;
};

struct slab_header {
    unsigned home;
};

/* Written by the threads using this cpu index (and a sweep), under the
 * cpu's lock: right after the lock's state, on its line. */
struct pcpu {
    struct mag *loaded;
    struct mag *prev;
    struct mag **remote;           /* [ncpus] batch per home cpu, NULL = none */
    char *next_slab;               /* carving cursor in the current region */
    unsigned slabs_left;
    unsigned region_slabs;         /* slabs in the next region */
};

/* Written by other cpus: its own line. */
struct inbox {
    _Alignas(PB_CACHE_LINE) struct mag *_Atomic head;
};

/* One cpu's parts, read-only after init. */
struct cpu_slot {
    struct pb_lock_block lock;     /* the cpu's lock, with its struct pcpu */
    struct pcpu *pc;               /* = lock.data */
    struct inbox *inbox;
};

struct free_block { struct free_block *next; };

struct pb_pool {
    size_t bsize;                  /* block size, whole lines */
    size_t slab_bytes;             /* power of two; slabs are aligned to it */
    size_t blocks_per_slab;
    size_t capacity;
    size_t hot_bytes;              /* prefetched of the next block (cfg), at most bsize */
    unsigned ncpus;
    struct pb_mem_hooks mem;
    struct cpu_slot *cpu;          /* [ncpus] */
    struct pb_lock_config lock_cfg;
    _Alignas(PB_CACHE_LINE) _Atomic size_t created;
    _Alignas(PB_CACHE_LINE) struct pb_lock_ref depot_lock;   /* its state on its own line */
    struct mag **full;             /* [ncpus] non-empty magazines by depositor */
    struct mag *empty;
    struct free_block *loose;
    struct extent *extents;
};

extern const struct pb_pool_ops pb_pool_magazine;

static void pc_lock(const struct cpu_slot *cs, struct pb_lock_hold *h)
{
    /* The cpu's magazines as the last holder left them (the lock's
     * acquire). A spinning lock may yield now and then (the pool is not
     * PB_NEVER_YIELDS): the holder may be preempted (two threads on one
     * cpu index). */
    pb_lock_block_acquire(&cs->lock, h);
}

static void pc_unlock(const struct cpu_slot *cs, struct pb_lock_hold *h)
{
    pb_lock_block_release(&cs->lock, h);
}

static void depot_lock(struct pb_pool *p, struct pb_lock_hold *h)
{
    pb_lock_acquire_inline(p->depot_lock.ops, p->depot_lock.state, h);
}

static void depot_unlock(struct pb_pool *p, struct pb_lock_hold *h)
{
    pb_lock_release_inline(p->depot_lock.ops, p->depot_lock.state, h);
}

static unsigned home_of(const struct pb_pool *p, const void *block)
{
    const struct slab_header *s =
        (const struct slab_header *)((uintptr_t)block & ~(uintptr_t)(p->slab_bytes - 1));
    return s->home;
}

/* ---- depot (callers hold depot_lock) ------------------------------------ */

static void depot_add_mags(struct pb_pool *p, char *lo, char *hi)
{
    uintptr_t a = ((uintptr_t)lo + PB_CACHE_LINE - 1) & ~(uintptr_t)(PB_CACHE_LINE - 1);
    for (; a + sizeof(struct mag) <= (uintptr_t)hi; a += sizeof(struct mag)) {
        struct mag *m = (struct mag *)a;
        m->n = 0;
        m->next = p->empty;
        p->empty = m;
    }
}

static void depot_put_full(struct pb_pool *p, unsigned cpu, struct mag *m)
{
    m->next = p->full[cpu];
    p->full[cpu] = m;
}

static void depot_put_empty(struct pb_pool *p, struct mag *m)
{
    m->next = p->empty;
    p->empty = m;
}

static void depot_put_loose(struct pb_pool *p, void *block)
{
    struct free_block *f = block;
    f->next = p->loose;
    p->loose = f;
}

/* A non-empty magazine from `from`'s list, or with `any` from any list. */
static struct mag *depot_take_full(struct pb_pool *p, unsigned from, bool any)
{
    for (unsigned i = 0; i < p->ncpus; i++) {
        unsigned d = (from + i) % p->ncpus;
        struct mag *m = p->full[d];
        if (m) {
            p->full[d] = m->next;
            return m;
        }
        if (!any)
            break;
    }
    return NULL;
}

/* An empty magazine; allocates a chunk of them (on cpu's node, outside the
 * depot lock) when the depot has none. NULL when memory is refused. */
static struct mag *take_empty(struct pb_pool *p, unsigned cpu)
{
    struct pb_lock_hold dh;
    depot_lock(p, &dh);
    struct mag *m = p->empty;
    if (m)
        p->empty = m->next;
    depot_unlock(p, &dh);
    if (m)
        return m;
    size_t bytes = PB_CACHE_LINE + MAG_CHUNK * sizeof(struct mag);
    struct extent *e = pb_mem_alloc(&p->mem, cpu, bytes);
    if (!e)
        return NULL;
    e->bytes = bytes;
    depot_lock(p, &dh);
    e->next = p->extents;
    p->extents = e;
    depot_add_mags(p, (char *)e + PB_CACHE_LINE, (char *)e + bytes);
    m = p->empty;
    p->empty = m->next;
    depot_unlock(p, &dh);
    return m;
}

/* Installs a non-empty magazine as loaded (called with the cpu lock and the
 * depot lock held, loaded and prev both empty or NULL), Bonwick's way: the
 * empty prev goes to the depot, the empty loaded becomes prev. */
static void install_loaded(struct pb_pool *p, struct pcpu *pc, struct mag *m)
{
    if (pc->prev)
        depot_put_empty(p, pc->prev);
    pc->prev = pc->loaded;
    pc->loaded = m;
}

/* ---- growing ------------------------------------------------------------- */

/* A fresh slab of cpu's, NULL when memory is refused. Cpu lock held. */
static char *carve_slab(struct pb_pool *p, unsigned cpu, struct pcpu *pc)
{
    if (!pc->slabs_left) {
        struct pb_lock_hold dh;
        unsigned k = pc->region_slabs;
        /* One slab extra: the extent header plus alignment slack before the
         * first aligned slab and the rest after the last are < 1 slab. */
        size_t bytes = (k + 1) * p->slab_bytes;
        char *base = pb_mem_alloc(&p->mem, cpu, bytes);
        if (!base)
            return NULL;
        uintptr_t first = ((uintptr_t)base + PB_CACHE_LINE + p->slab_bytes - 1) &
                          ~(uintptr_t)(p->slab_bytes - 1);
        struct extent *e = (struct extent *)base;
        e->bytes = bytes;
        depot_lock(p, &dh);
        e->next = p->extents;
        p->extents = e;
        depot_add_mags(p, base + PB_CACHE_LINE, (char *)first);
        depot_add_mags(p, (char *)first + k * p->slab_bytes, base + bytes);
        depot_unlock(p, &dh);
        pc->next_slab = (char *)first;
        pc->slabs_left = k;
        if (pc->region_slabs < REGION_MAX_SLABS)
            pc->region_slabs *= 2;
    }
    char *slab = pc->next_slab;
    pc->next_slab += p->slab_bytes;
    pc->slabs_left--;
    ((struct slab_header *)slab)->home = cpu;
    return slab;
}

/* A fresh magazine's blocks in a random order. In address order they would
 * be handed out at a constant stride (the block size), and with one CPU
 * getting them and another freeing them, the order survives every round
 * trip through the magazines: the freeing CPU's stride prefetcher, having
 * seen blocks k+1 and k, fetches block k-1 too, the very block the getting
 * CPU has just prefetched for writing, and its first stores then wait for
 * that copy to be invalidated (measured on the hot worker: 70-100 ns
 * stalled at the first locked RMW after t_issue). The shuffle alone took
 * p50 down 18% with that stall still there; with prefetch_hot's exclusive
 * prefetch too it is gone (p50 -28%); the exclusive prefetch alone made
 * it worse (the stride prefetcher then took the lines back each time).
 * Once shuffled, the order stays irregular: nothing sorts blocks. */
static void shuffle_mag(struct mag *m, uint64_t *x)
{
    for (unsigned i = m->n; i > 1; i--) {
        *x ^= *x << 13;        /* xorshift64: any irregular order will do */
        *x ^= *x >> 7;
        *x ^= *x << 17;
        unsigned j = (unsigned)(*x % i);
        void *t = m->b[i - 1];
        m->b[i - 1] = m->b[j];
        m->b[j] = t;
    }
}

/* Creates up to a slab of blocks within the capacity: the first magazine
 * becomes loaded, the others go to the depot. False when no block may or
 * can be created. Cpu lock held; loaded and prev empty or NULL. */
static bool grow(struct pb_pool *p, unsigned cpu, struct pcpu *pc)
{
    size_t n = p->blocks_per_slab;
    /* relaxed: the count only bounds how many blocks exist; slow path. */
    size_t created = atomic_load_explicit(&p->created, memory_order_relaxed);
    do {
        n = p->blocks_per_slab;
        if (p->capacity) {
            if (created >= p->capacity)
                return false;
            if (n > p->capacity - created)
                n = p->capacity - created;
        }
    } while (!atomic_compare_exchange_weak_explicit(&p->created, &created, created + n,
                                                    memory_order_relaxed, memory_order_relaxed));
    char *slab = carve_slab(p, cpu, pc);
    if (!slab) {
        atomic_fetch_sub_explicit(&p->created, n, memory_order_relaxed);
        return false;
    }
    char *blocks = slab + PB_CACHE_LINE;
    uint64_t rng = (uint64_t)(uintptr_t)slab * 0x9e3779b97f4a7c15ull | 1u;
    size_t i = 0;
    bool installed = false;
    struct pb_lock_hold dh;
    while (i < n) {
        struct mag *m = take_empty(p, cpu);
        depot_lock(p, &dh);
        if (!m) {
            for (; i < n; i++)
                depot_put_loose(p, blocks + i * p->bsize);
        } else {
            for (; i < n && m->n < MAG_ROUNDS; i++)
                m->b[m->n++] = blocks + i * p->bsize;
            shuffle_mag(m, &rng);
            if (!installed)
                install_loaded(p, pc, m);
            else
                depot_put_full(p, cpu, m);
            installed = true;
        }
        depot_unlock(p, &dh);
    }
    return true;
}

/* ---- sweep (exhaustion only) --------------------------------------------- */

static void sweep_mag(struct pb_pool *p, unsigned owner, struct mag **slot)
{
    struct mag *m = *slot;
    if (m && m->n) {
        depot_put_full(p, owner, m);
        *slot = NULL;
    }
}

/* Moves every cached block of every cpu to the depot. Called with no cpu
 * lock held. */
static void sweep(struct pb_pool *p)
{
    for (unsigned d = 0; d < p->ncpus; d++) {
        const struct cpu_slot *cs = &p->cpu[d];
        struct pcpu *pc = cs->pc;
        struct pb_lock_hold ch, dh;
        pc_lock(cs, &ch);
        /* acquire: the magazines the remote cpus filled before pushing. */
        struct mag *in = atomic_exchange_explicit(&cs->inbox->head, NULL, memory_order_acquire);
        depot_lock(p, &dh);
        while (in) {
            struct mag *next = in->next;
            depot_put_full(p, d, in);
            in = next;
        }
        sweep_mag(p, d, &pc->loaded);
        sweep_mag(p, d, &pc->prev);
        for (unsigned h = 0; h < p->ncpus; h++)
            sweep_mag(p, h, &pc->remote[h]);
        depot_unlock(p, &dh);
        pc_unlock(cs, &ch);
    }
}

/* ---- get ------------------------------------------------------------------ */

/* loaded and prev are both empty (or NULL): refill loaded, or return a
 * block directly, or NULL when exhausted. Cpu lock held with hold ch
 * (dropped and taken again around a sweep). */
static void *get_slow(struct pb_pool *p, unsigned cpu, const struct cpu_slot *cs,
                      struct pb_lock_hold *ch)
{
    struct pcpu *pc = cs->pc;
    struct pb_lock_hold dh;
    bool swept = false;
    for (;;) {
        if (pc->loaded && pc->loaded->n)
            return pc->loaded->b[--pc->loaded->n];
        if (pc->prev && pc->prev->n) {
            struct mag *t = pc->loaded;
            pc->loaded = pc->prev;
            pc->prev = t;
            continue;
        }
        /* 1. Our own blocks, sent home in batches. acquire: the batches'
         * contents as their senders filled them. */
        struct mag *in = atomic_exchange_explicit(&cs->inbox->head, NULL, memory_order_acquire);
        /* 2. The depot: our deposits first; after a sweep, anything. */
        depot_lock(p, &dh);
        if (in) {
            for (struct mag *m = in->next, *next; m; m = next) {
                next = m->next;
                depot_put_full(p, cpu, m);
            }
            install_loaded(p, pc, in);
            depot_unlock(p, &dh);
            continue;
        }
        struct mag *m = depot_take_full(p, cpu, swept);
        if (m) {
            install_loaded(p, pc, m);
            depot_unlock(p, &dh);
            continue;
        }
        struct free_block *f = p->loose;
        if (f) {
            p->loose = f->next;
            depot_unlock(p, &dh);
            return f;
        }
        depot_unlock(p, &dh);
        /* 3. New blocks, on our node. */
        if (grow(p, cpu, pc))
            continue;
        /* 4. Exhausted: gather what other cpus cache, once. */
        if (swept)
            return NULL;
        pc_unlock(cs, ch);
        sweep(p);
        pc_lock(cs, ch);
        swept = true;
    }
}

static void prefetch_hot(const struct pb_pool *p, const void *block)
{
    /* Exclusive: its user writes these lines first (a read prefetch
     * leaves a line the freeing CPU wrote shared there, and the user's
     * first stores then wait for its invalidation). */
    for (size_t off = 0; off < p->hot_bytes; off += PB_CACHE_LINE)
        pb_prefetch_excl((const char *)block + off);
}

static void *mag_get(struct pb_pool *pool, unsigned cpu)
{
    if (cpu >= pool->ncpus)
        cpu %= pool->ncpus;
    const struct cpu_slot *cs = &pool->cpu[cpu];
    struct pcpu *pc = cs->pc;
    struct pb_lock_hold ch;
    void *b;
    pc_lock(cs, &ch);
    struct mag *m = pc->loaded;
    if (m && m->n) {
        b = m->b[--m->n];
        /* The next get's block is known now: its hot lines start moving
         * from the CPU that freed it (a remote free) long before it is
         * handed out, instead of stalling its user's first writes. */
        if (m->n)
            prefetch_hot(pool, m->b[m->n - 1]);
    } else if (pc->prev && pc->prev->n) {
        pc->loaded = pc->prev;
        pc->prev = m;
        b = pc->loaded->b[--pc->loaded->n];
    } else {
        b = get_slow(pool, cpu, cs, &ch);
    }
    pc_unlock(cs, &ch);
    return b;
}

/* ---- put ------------------------------------------------------------------ */

/* A local block with loaded full (or NULL). Cpu lock held. */
static void put_slow(struct pb_pool *p, unsigned cpu, struct pcpu *pc, void *block)
{
    if (pc->prev && pc->prev->n == 0) {
        struct mag *t = pc->loaded;
        pc->loaded = pc->prev;
        pc->prev = t;
        pc->loaded->b[pc->loaded->n++] = block;
        return;
    }
    /* Both hold blocks: the full loaded becomes prev, the old prev goes to
     * the depot, and an empty magazine is loaded. */
    struct pb_lock_hold dh;
    struct mag *empty = take_empty(p, cpu);
    depot_lock(p, &dh);
    if (pc->loaded) {
        if (pc->prev)
            depot_put_full(p, cpu, pc->prev);
        pc->prev = pc->loaded;
        pc->loaded = NULL;
    }
    if (empty) {
        pc->loaded = empty;
        empty->b[empty->n++] = block;
    } else {
        depot_put_loose(p, block);
    }
    depot_unlock(p, &dh);
}

/* A block of another home: into this cpu's batch for it; a full batch goes
 * to the home's inbox. Cpu lock held. */
static void put_remote(struct pb_pool *p, unsigned cpu, struct pcpu *pc, unsigned home, void *block)
{
    struct mag *m = pc->remote[home];
    if (!m) {
        m = take_empty(p, cpu);
        if (!m) {
            struct pb_lock_hold dh;
            depot_lock(p, &dh);
            depot_put_loose(p, block);
            depot_unlock(p, &dh);
            return;
        }
        pc->remote[home] = m;
    }
    m->b[m->n++] = block;
    if (m->n < MAG_ROUNDS)
        return;
    pc->remote[home] = NULL;
    struct inbox *hin = p->cpu[home].inbox;
    struct mag *old = atomic_load_explicit(&hin->head, memory_order_relaxed);
    do
        m->next = old;
    /* release: the batch's contents and link to the home's exchange. */
    while (!atomic_compare_exchange_weak_explicit(&hin->head, &old, m, memory_order_release,
                                                  memory_order_relaxed));
}

static void mag_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    if (cpu >= pool->ncpus)
        cpu %= pool->ncpus;
    const struct cpu_slot *cs = &pool->cpu[cpu];
    struct pcpu *pc = cs->pc;
    struct pb_lock_hold ch;
    unsigned home = home_of(pool, block);
    pc_lock(cs, &ch);
    struct mag *m = pc->loaded;
    if (home != cpu)
        put_remote(pool, cpu, pc, home, block);
    else if (m && m->n < MAG_ROUNDS)
        m->b[m->n++] = block;
    else
        put_slow(pool, cpu, pc, block);
    pc_unlock(cs, &ch);
}

/* ---- init / fini ---------------------------------------------------------- */

static void mag_fini(struct pb_pool *p)
{
    if (p->cpu) {
        for (unsigned c = 0; c < p->ncpus; c++) {
            struct cpu_slot *cs = &p->cpu[c];
            if (cs->pc)
                pb_mem_free(&p->mem, cs->pc->remote, p->ncpus * sizeof(struct mag *));
            pb_lock_block_destroy(&cs->lock);
            pb_mem_free(&p->mem, cs->inbox, sizeof *cs->inbox);
        }
    }
    for (struct extent *e = p->extents, *next; e; e = next) {
        next = e->next;
        pb_mem_free(&p->mem, e, e->bytes);
    }
    pb_lock_destroy(&p->depot_lock);
    free(p->full);
    free(p->cpu);
    free(p);
}

static int mag_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    const struct pb_lock_ops *lock = pb_lock_choose(cfg->lock, pb_pool_magazine.lock);
    if (!pb_lock_fits(lock, pb_pool_magazine.lock_needs))
        return -EINVAL;
    struct pb_pool *p = aligned_alloc(PB_CACHE_LINE, sizeof *p);
    if (!p)
        return -ENOMEM;
    memset(p, 0, sizeof *p);
    atomic_init(&p->created, 0);
    int rc = -ENOMEM;
    size_t size = cfg->object_size ? cfg->object_size : 1;
    p->bsize = (size + PB_CACHE_LINE - 1) & ~(size_t)(PB_CACHE_LINE - 1);
    p->slab_bytes = SLAB_MIN_BYTES;
    while (p->slab_bytes < PB_CACHE_LINE + SLAB_MIN_BLOCKS * p->bsize)
        p->slab_bytes *= 2;
    p->blocks_per_slab = (p->slab_bytes - PB_CACHE_LINE) / p->bsize;
    p->capacity = cfg->capacity;
    p->hot_bytes = cfg->hot_bytes < p->bsize ? cfg->hot_bytes : p->bsize;
    p->ncpus = cfg->ncpus ? cfg->ncpus : 1;
    p->mem = cfg->mem;
    p->lock_cfg = pb_lock_config_of(p->ncpus, cfg->nnodes, pb_pool_magazine.flags, &cfg->mem);
    p->cpu = calloc(p->ncpus, sizeof *p->cpu);
    p->full = calloc(p->ncpus, sizeof *p->full);
    if (!p->cpu || !p->full)
        goto fail;
    if ((rc = pb_lock_create(&p->depot_lock, lock, &p->lock_cfg)) != 0)
        goto fail;
    for (unsigned c = 0; c < p->ncpus; c++) {
        struct cpu_slot *cs = &p->cpu[c];
        if ((rc = pb_lock_block_create(&cs->lock, lock, &p->lock_cfg, c, sizeof(struct pcpu))) != 0)
            goto fail;
        rc = -ENOMEM;
        struct pcpu *pc = cs->pc = cs->lock.data;
        pc->remote = pb_mem_alloc(&p->mem, c, p->ncpus * sizeof(struct mag *));
        cs->inbox = pb_mem_alloc(&p->mem, c, sizeof *cs->inbox);
        if (!pc->remote || !cs->inbox)
            goto fail;
        atomic_init(&cs->inbox->head, NULL);
        pc->region_slabs = 1;
    }
    *pool = p;
    return 0;
fail:
    mag_fini(p);
    return rc;
}

const struct pb_pool_ops pb_pool_magazine = {
    .name = "magazine",
    .description = "per-CPU magazines with a depot, NUMA-local slabs, batched remote frees",
    .flags = PB_TYPE_STABLE | PB_IN_SUITE,
    .lock = "ttas-backoff",
    .init = mag_init,
    .fini = mag_fini,
    .get = mag_get,
    .put = mag_put,
};
