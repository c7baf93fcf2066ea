/* pendbench-micro: every pool strategy of pb_pools[] (one op = one get plus
 * one put of a MICRO_OBJECT_SIZE block):
 *
 *   pool/S/get_put              get and put on cpu 0, one thread
 *   pool/S/get_put/threads:2    each thread its own cpu index (contended
 *                               only where the strategy shares state)
 *   pool/S/get_put_cross        one thread: get on cpu 0, put on cpu 1 (the
 *                               remote-free path without a second thread)
 *   pool/S/get_put_remote/threads:2
 *                               thread 0 gets on cpu 0 and hands each block
 *                               through a small SPSC ring to thread 1, which
 *                               puts it on cpu 1: a real remote free, the
 *                               block's lines moving between CPUs */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"

#define POOL_CPUS 2u
#define RING_SLOTS 256u /* power of two */

/* Thread 0 to thread 1 only; each index alone on its line, each side
 * caching the other's index so a line moves only when the cache runs out. */
struct spsc_ring {
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t tail; /* written by the producer */
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t head; /* written by the consumer */
    _Alignas(PB_CACHE_LINE) void *slot[RING_SLOTS];
};

struct pool_ctx {
    const struct pb_pool_ops *ops;
    struct pb_pool *pool;          /* thread 0's, for the run */
    _Alignas(PB_CACHE_LINE) _Atomic bool abort;
    _Alignas(PB_CACHE_LINE) struct spsc_ring ring;
};

/* Thread 0, before its loop (and the start barrier). */
static bool pool_setup(gb_state *st, struct pool_ctx *c)
{
    if (gb_thread_index(st) != 0)
        return true;
    atomic_store_explicit(&c->abort, false, memory_order_relaxed);
    atomic_store_explicit(&c->ring.tail, 0, memory_order_relaxed);
    atomic_store_explicit(&c->ring.head, 0, memory_order_relaxed);
    struct pb_pool_config cfg = {
        .object_size = MICRO_OBJECT_SIZE,
        .capacity = 0,
        .ncpus = POOL_CPUS,
    };
    c->pool = NULL;
    int err = c->ops->init(&c->pool, &cfg);
    if (err) {
        char msg[160];
        snprintf(msg, sizeof msg, "pool %s: init failed: %s%s", c->ops->name, strerror(-err),
                 err == -ENOTSUP ? " (not available in this build)" : "");
        c->pool = NULL;
        micro_fail(st, &c->abort, msg);
        return false;
    }
    return true;
}

/* Thread 0, after its loop (every thread is past the stop barrier). */
static void pool_teardown(gb_state *st, struct pool_ctx *c)
{
    if (gb_thread_index(st) == 0 && c->pool) {
        c->ops->fini(c->pool);
        c->pool = NULL;
    }
}

static void bm_get_put(gb_state *st)
{
    struct pool_ctx *c = gb_user_arg(st);
    const struct pb_pool_ops *ops = c->ops;
    unsigned cpu = (unsigned)gb_thread_index(st) % POOL_CPUS;
    struct micro_clock clk = { .started = false };
    pool_setup(st, c);
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        if (!micro_peers_ok(st, &c->abort))
            continue;
        struct pb_pool *pool = c->pool;
        for (uint64_t i = 0; i < n; i++) {
            void *b = ops->get(pool, cpu);
            if (!b) {
                micro_fail(st, &c->abort, "get returned NULL");
                break;
            }
            gb_do_not_optimize(b);
            ops->put(pool, cpu, b);
        }
    }
    pool_teardown(st, c);
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

static void bm_get_put_cross(gb_state *st)
{
    struct pool_ctx *c = gb_user_arg(st);
    const struct pb_pool_ops *ops = c->ops;
    pool_setup(st, c);
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        struct pb_pool *pool = c->pool;
        for (uint64_t i = 0; i < n; i++) {
            void *b = ops->get(pool, 0);
            if (!b) {
                micro_fail(st, &c->abort, "get returned NULL");
                break;
            }
            gb_do_not_optimize(b);
            ops->put(pool, 1, b);
        }
    }
    pool_teardown(st, c);
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

/* Thread 0: get on cpu 0, into the ring. */
static bool remote_produce(gb_state *st, struct pool_ctx *c, uint64_t n, uint64_t *tail,
                           uint64_t *head_seen)
{
    struct spsc_ring *r = &c->ring;
    for (uint64_t i = 0; i < n; i++) {
        void *b = c->ops->get(c->pool, 0);
        if (!b) {
            micro_fail(st, &c->abort, "get returned NULL");
            return false;
        }
        unsigned spins = 0;
        while (*tail - *head_seen == RING_SLOTS) {
            /* acquire: the consumer has read the slot it frees. */
            *head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
            if (*tail - *head_seen == RING_SLOTS && !micro_spin_or_abort(&spins, &c->abort)) {
                c->ops->put(c->pool, 0, b);
                gb_skip_with_error(st, "another thread of this benchmark failed");
                return false;
            }
        }
        r->slot[*tail % RING_SLOTS] = b;
        /* release: the slot's pointer (and the block) to the consumer. */
        atomic_store_explicit(&r->tail, ++*tail, memory_order_release);
    }
    return true;
}

/* Thread 1: out of the ring, put on cpu 1. */
static bool remote_consume(gb_state *st, struct pool_ctx *c, uint64_t n, uint64_t *head,
                           uint64_t *tail_seen)
{
    struct spsc_ring *r = &c->ring;
    for (uint64_t i = 0; i < n; i++) {
        unsigned spins = 0;
        while (*head == *tail_seen) {
            /* acquire: pairs with the producer's release of tail. */
            *tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
            if (*head == *tail_seen && !micro_spin_or_abort(&spins, &c->abort)) {
                gb_skip_with_error(st, "another thread of this benchmark failed");
                return false;
            }
        }
        void *b = r->slot[*head % RING_SLOTS];
        /* release: the slot may be reused once we have read it. */
        atomic_store_explicit(&r->head, ++*head, memory_order_release);
        c->ops->put(c->pool, 1, b);
    }
    return true;
}

static void bm_get_put_remote(gb_state *st)
{
    struct pool_ctx *c = gb_user_arg(st);
    int t = gb_thread_index(st);
    struct micro_affinity aff;
    micro_pin((unsigned)t, &aff);
    struct micro_clock clk = { .started = false };
    pool_setup(st, c);
    uint64_t n, mine = 0, theirs = 0; /* own index, cached peer index */
    bool ok = true;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        if (!ok || !micro_peers_ok(st, &c->abort)) {
            ok = false;
            continue;
        }
        ok = t == 0 ? remote_produce(st, c, n, &mine, &theirs)
                    : remote_consume(st, c, n, &mine, &theirs);
    }
    micro_unpin(&aff);
    if (t == 0 && c->pool) {
        /* A failed run may leave blocks in the ring (every thread is past
         * the stop barrier: nobody else touches it now). */
        struct spsc_ring *r = &c->ring;
        uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        for (uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed); h < tail; h++)
            c->ops->put(c->pool, 0, r->slot[h % RING_SLOTS]);
    }
    pool_teardown(st, c);
    if (t == 1)
        micro_report(st, (double)mine, &clk, false);
}

static struct pool_ctx *new_ctx(const struct pb_pool_ops *ops)
{
    struct pool_ctx *c = micro_ctx_new(sizeof *c);
    c->ops = ops;
    atomic_init(&c->abort, false);
    atomic_init(&c->ring.tail, 0);
    atomic_init(&c->ring.head, 0);
    return c;
}

/* The pool's benchmarks (a built-in's, or a plugin's: `--plugin ./x.so`). */
void micro_register_pool(const struct pb_pool_ops *ops)
{
    const char *s = ops->name;
    gb_register_with_arg(micro_name("pool", s, "get_put"), bm_get_put, new_ctx(ops));
    gb_benchmark *b;
    b = gb_register_with_arg(micro_name("pool", s, "get_put"), bm_get_put, new_ctx(ops));
    gb_set_threads(b, 2);
    gb_register_with_arg(micro_name("pool", s, "get_put_cross"), bm_get_put_cross,
                         new_ctx(ops));
    b = gb_register_with_arg(micro_name("pool", s, "get_put_remote"), bm_get_put_remote,
                             new_ctx(ops));
    gb_set_threads(b, 2);
}

void micro_register_pools(void)
{
    for (size_t i = 0; pb_pools[i]; i++)
        micro_register_pool(pb_pools[i]);
}
