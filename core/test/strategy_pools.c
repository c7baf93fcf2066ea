/* Every registered pool (pb_pools[]), through its ops table only: a
 * strategy added to the registry is covered here without a new line.
 *
 * Each test runs once per pool (a parameterized test). A pool may refuse
 * init with -ENOTSUP only where it says so: jemalloc in sanitizer builds;
 * that instance is skipped. A lock-based pool runs the threaded tests
 * again (pool_lock) under every other registered lock that fits it. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_strategy.h"

#define OBJ_SIZE 256
#define NCPUS 4

TestSuite(pools, .timeout = 30);

static size_t npools(void)
{
    size_t n = 0;
    while (pb_pools[n])
        n++;
    return n;
}

/* The parameter is an index into pb_pools[], not a pointer: Criterion copies
 * parameters into its worker processes, where (PIE + ASLR) static data may
 * lie at another address. */
static size_t param_index[64];

#define POOL_PARAMS(test)                                                          \
    ParameterizedTestParameters(pools, test)                                       \
    {                                                                                 \
        size_t n = npools();                                                           \
        for (size_t i = 0; i < n; i++)                                                \
            param_index[i] = i;                                                       \
        return cr_make_param_array(size_t, param_index, n);                           \
    }

#include "strategy_common.h"

/* The lock the pools under test take: NULL (their defaults) but in the
 * pool_lock tests, which set it first (each test runs in its own process). */
static const struct pb_lock_ops *pool_lock;

static struct pb_pool *open_pool(const struct pb_pool_ops *ops, size_t capacity, unsigned ncpus)
{
    struct pb_pool_config cfg = {
        .object_size = OBJ_SIZE,
        .capacity = capacity,
        .ncpus = ncpus,
        .lock = pool_lock,
        .nnodes = 1,
    };
    struct pb_pool *pool = NULL;
    int rc = ops->init(&pool, &cfg);
    skip_if_unavailable(ops->name, ops->flags, rc);
    cr_assert_eq(rc, 0, "%s: init returned %d", ops->name, rc);
    return pool;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void assert_distinct(const struct pb_pool_ops *ops, void **blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            cr_assert_neq(blocks[i], blocks[j], "%s: block %p handed out twice (%zu, %zu)",
                          ops->name, blocks[i], i, j);
}

static void check_block(const struct pb_pool_ops *ops, void *b)
{
    cr_assert_not_null(b, "%s: get returned NULL with no capacity set", ops->name);
    cr_assert_eq((uintptr_t)b % PB_CACHE_LINE, 0, "%s: block %p not cache-line aligned",
                 ops->name, b);
    /* The whole block is ours (ASan would see an overflow). */
    memset(b, 0xa5, OBJ_SIZE);
}

POOL_PARAMS(get_put)
ParameterizedTest(size_t *param, pools, get_put)
{
    const struct pb_pool_ops *ops = pb_pools[*param];
    struct pb_pool *pool = open_pool(ops, 0, NCPUS);
    enum { N = 300 };
    void *blocks[N];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            blocks[i] = ops->get(pool, (unsigned)(i % NCPUS));
            check_block(ops, blocks[i]);
        }
        assert_distinct(ops, blocks, N);
        for (size_t i = 0; i < N; i++)
            ops->put(pool, (unsigned)(i % NCPUS), blocks[i]);
    }
    ops->fini(pool);
}

/* The magazine hands out a fresh slab's blocks in no constant stride: in
 * address order, the CPU that frees them would see them at that stride,
 * and its stride prefetcher would take the next block from the CPU about
 * to write it (core/pool/magazine.c, shuffle_mag). */
Test(pools, magazine_hands_out_no_constant_stride)
{
    const struct pb_pool_ops *ops = pb_pool_find("magazine");
    cr_assert_not_null(ops);
    struct pb_pool *pool = open_pool(ops, 0, 1);
    enum { N = 90 };
    char *b[N];
    for (size_t i = 0; i < N; i++) {
        b[i] = ops->get(pool, 0);
        check_block(ops, b[i]);
    }
    /* The commonest difference between consecutive blocks: in address
     * order nearly all of them are one block size. */
    size_t best = 0;
    for (size_t i = 0; i + 1 < N; i++) {
        size_t same = 0;
        for (size_t j = 0; j + 1 < N; j++)
            same += b[j + 1] - b[j] == b[i + 1] - b[i];
        if (same > best)
            best = same;
    }
    cr_assert_lt(best, (N - 1) / 4, "%s: %zu of %d consecutive gets are the same stride apart",
                 ops->name, best, N - 1);
    for (size_t i = 0; i < N; i++)
        ops->put(pool, 0, b[i]);
    ops->fini(pool);
}

/* Take everything, then everything put back must be there again. */
static size_t drain(const struct pb_pool_ops *ops, struct pb_pool *pool, unsigned cpu, void **out,
                    size_t max)
{
    size_t n = 0;
    while (n < max) {
        void *b = ops->get(pool, cpu);
        if (!b)
            break;
        out[n++] = b;
    }
    return n;
}

POOL_PARAMS(capacity_exhaustion)
ParameterizedTest(size_t *param, pools, capacity_exhaustion)
{
    const struct pb_pool_ops *ops = pb_pools[*param];
    enum { CAP = 100 };
    struct pb_pool *pool = open_pool(ops, CAP, 2);
    void *blocks[2 * CAP];
    size_t n = drain(ops, pool, 0, blocks, 2 * CAP);
    cr_assert_eq(n, CAP, "%s: %zu blocks out with capacity %d", ops->name, n, CAP);
    assert_distinct(ops, blocks, n);
    cr_assert_null(ops->get(pool, 1), "%s: get beyond capacity on another cpu", ops->name);

    /* Put some back, on both cpus (so some are remote frees): exactly those
     * can be had again, from either cpu. */
    enum { BACK = 37 };
    for (size_t i = 0; i < BACK; i++)
        ops->put(pool, (unsigned)(i % 2), blocks[CAP - 1 - i]);
    size_t again = drain(ops, pool, 0, blocks + CAP - BACK, BACK + 10);
    cr_assert_eq(again, BACK, "%s: %zu blocks back after %d puts", ops->name, again, BACK);
    assert_distinct(ops, blocks, CAP);

    /* All back, from cpu 1; then all of them can be had on cpu 1. */
    for (size_t i = 0; i < CAP; i++)
        ops->put(pool, 1, blocks[i]);
    n = drain(ops, pool, 1, blocks, 2 * CAP);
    cr_assert_eq(n, CAP, "%s: %zu blocks after all were put back", ops->name, n);
    for (size_t i = 0; i < n; i++)
        ops->put(pool, (unsigned)(i % 2), blocks[i]);
    ops->fini(pool);
}

/* Blocks got on one cpu and put on another, round after round, with a
 * capacity equal to what is out each round: a block lost in a remote
 * free would make a later round come up short. */
POOL_PARAMS(remote_puts)
ParameterizedTest(size_t *param, pools, remote_puts)
{
    const struct pb_pool_ops *ops = pb_pools[*param];
    enum { CAP = 200, ROUNDS = 20 };
    struct pb_pool *pool = open_pool(ops, CAP, NCPUS);
    void *blocks[CAP];
    for (unsigned r = 0; r < ROUNDS; r++) {
        unsigned getter = r % NCPUS;
        for (size_t i = 0; i < CAP; i++) {
            blocks[i] = ops->get(pool, getter);
            cr_assert_not_null(blocks[i], "%s: round %u: only %zu of %d blocks", ops->name, r, i,
                               CAP);
            memset(blocks[i], (int)r, OBJ_SIZE);
        }
        assert_distinct(ops, blocks, CAP);
        for (size_t i = 0; i < CAP; i++) {
            /* Mostly the next cpu, some to every other cpu. */
            unsigned putter = (i % 5 == 0) ? (unsigned)(getter + 1 + i) % NCPUS
                                           : (getter + 1) % NCPUS;
            ops->put(pool, putter, blocks[i]);
        }
    }
    ops->fini(pool);
}

/* Per-cpu memory goes through the NUMA hooks, and all of it comes back at
 * fini with the size it was allocated with. */
static _Atomic long hook_bytes;
static _Atomic long hook_allocs;
static _Atomic unsigned hook_bad_cpu;

static void *hook_alloc(void *arg, unsigned cpu, size_t size)
{
    if (cpu >= *(const unsigned *)arg)
        atomic_fetch_add(&hook_bad_cpu, 1);
    void *p = aligned_alloc(PB_CACHE_LINE, size);
    if (p) {
        memset(p, 0, size);
        atomic_fetch_add(&hook_bytes, (long)size);
        atomic_fetch_add(&hook_allocs, 1);
    }
    return p;
}

static void hook_free(void *arg, void *ptr, size_t size)
{
    atomic_fetch_sub(&hook_bytes, (long)size);
    atomic_fetch_sub(&hook_allocs, 1);
    free(ptr);
}

POOL_PARAMS(numa_hooks)
ParameterizedTest(size_t *param, pools, numa_hooks)
{
    const struct pb_pool_ops *ops = pb_pools[*param];
    static const unsigned node_of_cpu[NCPUS] = { 0, 1, 0, 1 };
    static const unsigned ncpus = NCPUS;
    struct pb_pool_config cfg = {
        .object_size = OBJ_SIZE,
        .ncpus = NCPUS,
        .mem = { .alloc_on_cpu_node = hook_alloc, .free = hook_free, .arg = (void *)&ncpus,
                 .node_of_cpu = node_of_cpu },
    };
    struct pb_pool *pool = NULL;
    int rc = ops->init(&pool, &cfg);
    skip_if_unavailable(ops->name, ops->flags, rc);
    cr_assert_eq(rc, 0, "%s: init returned %d", ops->name, rc);
    enum { N = 500 };
    void **blocks = calloc(N, sizeof *blocks);
    for (size_t i = 0; i < N; i++) {
        blocks[i] = ops->get(pool, (unsigned)(i % NCPUS));
        check_block(ops, blocks[i]);
    }
    assert_distinct(ops, blocks, N);
    for (size_t i = 0; i < N; i++)
        ops->put(pool, (unsigned)((i + 1) % NCPUS), blocks[i]);
    free(blocks);
    ops->fini(pool);
    cr_assert_eq(atomic_load(&hook_bad_cpu), 0, "%s: memory asked for a cpu >= ncpus", ops->name);
    cr_assert_eq(atomic_load(&hook_allocs), 0, "%s: %ld hook allocations not freed at fini",
                 ops->name, atomic_load(&hook_allocs));
    cr_assert_eq(atomic_load(&hook_bytes), 0, "%s: %ld bytes from hooks not freed (or freed "
                 "with another size)", ops->name, atomic_load(&hook_bytes));
}

/* ---- threads -------------------------------------------------------------- */

#define TAG_OFFSET 64 /* beyond PB_POOL_FREE_BYTES, where the model keeps its words */
#define MAX_HELD 8

struct mt_ctx {
    const struct pb_pool_ops *ops;
    struct pb_pool *pool;
    unsigned ncpus;
    bool shared_cpus;          /* two threads per cpu index */
    double until;
    _Atomic unsigned start;
};

struct mt_thread {
    struct mt_ctx *ctx;
    unsigned id;
    unsigned cpu;
    unsigned long ops_done;
    unsigned long nulls;
    unsigned long clobbered;   /* a block we hold was written by someone else */
    void *bad_block;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void write_tag(void *b, uint64_t tag)
{
    uint64_t *w = (uint64_t *)((char *)b + TAG_OFFSET);
    for (size_t i = 0; i < (OBJ_SIZE - TAG_OFFSET) / sizeof *w; i++)
        w[i] = tag ^ i;
}

static bool tag_intact(const void *b, uint64_t tag)
{
    const uint64_t *w = (const uint64_t *)((const char *)b + TAG_OFFSET);
    for (size_t i = 0; i < (OBJ_SIZE - TAG_OFFSET) / sizeof *w; i++)
        if (w[i] != (tag ^ i))
            return false;
    return true;
}

static void *mt_main(void *arg)
{
    struct mt_thread *t = arg;
    struct mt_ctx *ctx = t->ctx;
    uint64_t seed = 0x9e3779b97f4a7c15ull * (t->id + 1);
    void *held[MAX_HELD];
    uint64_t tags[MAX_HELD];
    while (!atomic_load_explicit(&ctx->start, memory_order_acquire))
        sched_yield();
    uint64_t seq = 0;
    /* At least one round each: a thread scheduled late (TSan on a loaded
     * machine) still exercises the pool instead of finding time up. */
    do {
        for (int rep = 0; rep < 64; rep++) {
            unsigned k = 1 + (unsigned)(rnd(&seed) % MAX_HELD);
            unsigned n = 0;
            for (unsigned i = 0; i < k; i++) {
                void *b = ctx->ops->get(ctx->pool, t->cpu);
                if (!b) {
                    t->nulls++;
                    continue;
                }
                tags[n] = ((uint64_t)t->id << 48) | ++seq;
                write_tag(b, tags[n]);
                held[n++] = b;
            }
            for (volatile int spin = 0; spin < 50; spin++)
                ;
            for (unsigned i = 0; i < n; i++) {
                if (!tag_intact(held[i], tags[i])) {
                    t->clobbered++;
                    t->bad_block = held[i];
                }
                /* Puts on a random cpu: local and remote frees. */
                unsigned cpu = rnd(&seed) % 4 == 0 ? (unsigned)(rnd(&seed) % ctx->ncpus) : t->cpu;
                ctx->ops->put(ctx->pool, cpu, held[i]);
                t->ops_done++;
            }
        }
    } while (now_s() < ctx->until);
    return NULL;
}

static void run_threads(const struct pb_pool_ops *ops, size_t capacity, unsigned nthreads,
                        bool shared_cpus, double seconds)
{
    unsigned ncpus = shared_cpus ? nthreads / 2 : nthreads;
    struct mt_ctx ctx = {
        .ops = ops,
        .pool = open_pool(ops, capacity, ncpus),
        .ncpus = ncpus,
        .shared_cpus = shared_cpus,
    };
    struct mt_thread th[8];
    pthread_t tid[8];
    for (unsigned i = 0; i < nthreads; i++) {
        th[i] = (struct mt_thread){ .ctx = &ctx, .id = i, .cpu = i % ncpus };
        cr_assert_eq(pthread_create(&tid[i], NULL, mt_main, &th[i]), 0);
    }
    /* The window starts when the threads are released, not before their
     * creation (slow under TSan). */
    ctx.until = now_s() + seconds;
    atomic_store_explicit(&ctx.start, 1, memory_order_release);
    unsigned long total = 0, nulls = 0;
    for (unsigned i = 0; i < nthreads; i++) {
        pthread_join(tid[i], NULL);
        cr_assert_eq(th[i].clobbered, 0,
                     "%s: thread %u: %lu held blocks written by another (e.g. %p): handed out "
                     "twice at once",
                     ops->name, i, th[i].clobbered, th[i].bad_block);
        total += th[i].ops_done;
        nulls += th[i].nulls;
    }
    cr_assert_gt(total, 0, "%s: no progress", ops->name);
    if (!capacity)
        cr_assert_eq(nulls, 0, "%s: %lu NULL gets with no capacity set", ops->name, nulls);
    if (capacity) {
        /* Nothing lost: with every thread done, the whole capacity is there. */
        void **blocks = calloc(capacity + 1, sizeof *blocks);
        size_t n = drain(ops, ctx.pool, 0, blocks, capacity + 1);
        cr_assert_eq(n, capacity, "%s: %zu of %zu blocks left after the threads", ops->name, n,
                     capacity);
        assert_distinct(ops, blocks, n);
        for (size_t i = 0; i < n; i++)
            ops->put(ctx.pool, 0, blocks[i]);
        free(blocks);
    }
    ops->fini(ctx.pool);
}

POOL_PARAMS(threads_own_cpus)
ParameterizedTest(size_t *param, pools, threads_own_cpus)
{
    run_threads(pb_pools[*param], 0, 4, false, 0.3);
}

/* Two threads per cpu index: the per-cpu paths must still be correct. */
POOL_PARAMS(threads_shared_cpus)
ParameterizedTest(size_t *param, pools, threads_shared_cpus)
{
    run_threads(pb_pools[*param], 0, 4, true, 0.3);
}

/* A tight capacity: gets fail now and then; nothing may be lost. */
POOL_PARAMS(threads_at_capacity)
ParameterizedTest(size_t *param, pools, threads_at_capacity)
{
    run_threads(pb_pools[*param], 3 * MAX_HELD, 4, false, 0.3);
}

/* The suite's pool group has one baseline; every pool is found by name. */
Test(pools, flags_are_consistent)
{
    unsigned baselines = 0;
    for (size_t i = 0; pb_pools[i]; i++) {
        const struct pb_pool_ops *ops = pb_pools[i];
        cr_assert_eq(pb_pool_find(ops->name), ops, "%s", ops->name);
        cr_expect(!(ops->flags & ~(PB_BASELINE | PB_REFERENCE | PB_IN_SUITE |
                                   PB_MAY_BE_UNAVAILABLE | PB_NEVER_YIELDS | PB_TYPE_STABLE)),
                  "%s: a queue's or a handoff's flag on a pool", ops->name);
        baselines += (ops->flags & PB_BASELINE) && (ops->flags & PB_IN_SUITE);
    }
    cr_expect_eq(baselines, 1);
}

/* ---- under other locks ------------------------------------------------------ */

static struct lock_param pool_lock_params[64];

static size_t pool_lock_pairs(void)
{
    size_t n = 0;
    LOCK_PAIRS(pb_pools, pool_lock_params, sizeof pool_lock_params / sizeof pool_lock_params[0], n);
    return n;
}

ParameterizedTestParameters(pool_lock, threads)
{
    return cr_make_param_array(struct lock_param, pool_lock_params, pool_lock_pairs());
}

/* A lock-based pool under another lock that fits it: the threaded runs,
 * with two threads per cpu index (its per-cpu locks contended) and at a
 * tight capacity (nothing lost). */
ParameterizedTest(struct lock_param *param, pool_lock, threads)
{
    pool_lock = pb_locks[param->lock];
    cr_log_info("%s under %s", pb_pools[param->strategy]->name, pool_lock->name);
    run_threads(pb_pools[param->strategy], 0, 4, true, 0.15);
    run_threads(pb_pools[param->strategy], 3 * MAX_HELD, 4, false, 0.15);
}

/* Every lock-based pool has another lock to run under (none needs a
 * capability that only its default has). */
Test(pool_lock, pairs_exist)
{
    size_t n = pool_lock_pairs();
    for (size_t s = 0; pb_pools[s]; s++) {
        if (!pb_pools[s]->lock)
            continue;
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= pool_lock_params[i].strategy == s;
        cr_expect(found, "%s runs under no other lock", pb_pools[s]->name);
    }
}
