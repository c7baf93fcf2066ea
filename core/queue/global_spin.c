/* queue `global-spin`: one FIFO for all workers behind one lock, by
 * default the test-and-test-and-set spinlock (`ttas-backoff`); idle per
 * the shared policy (idle.h). It isolates the cost of the lock itself
 * against `global-mutex` (same list, same single shared queue), shows what
 * a spinlock does under contention, and with `--lock` what any other lock
 * of the kind does there.
 *
 * Concurrency: enqueue from any thread; any worker dequeues (qi is
 * ignored: there is one queue). FIFO overall, hence per producer. The
 * lock is taken only with a non-empty list in view: an empty poll is one
 * relaxed load of head, so idle workers spinning on an empty queue do not
 * hammer the lock line. Idle/wake: pb_idle_wait / pb_idle_notify with one
 * waiter for all workers (several may park; each notify wakes one).
 *
 * The lock: any lock of the kind (it needs no capability), taken through
 * pb_lock_acquire. ttas-backoff spins reading (no write while it is held),
 * with pause, and yields the CPU now and then, because a spinner may be
 * waiting for a holder that the scheduler has preempted (oversubscribed
 * machines, sanitizer builds).
 *
 * Layout: the lock's state at the start of a line with the list right
 * after it (pb_lock_block: whoever holds the lock writes both, one line
 * for a small lock); the waiter on its own line. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_lock_use.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

struct gs_list {
    struct pb_work *_Atomic head;   /* written under the lock; peeked without it */
    struct pb_work *tail;           /* only under the lock */
};

struct pb_queue {
    struct pb_idle_waiter waiter;   /* its own line (aligned type) */
    /* Read-only after init: its own line. */
    _Alignas(PB_CACHE_LINE) struct pb_lock_block lock;   /* the lock and the list */
    struct gs_list *list;           /* = lock.data */
};

extern const struct pb_queue_ops pb_queue_global_spin;

static void gs_fini(struct pb_queue *q)
{
    pb_lock_block_destroy(&q->lock);
    pb_mem_free(NULL, q, sizeof *q);
}

static int gs_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    const struct pb_lock_ops *lock = pb_lock_choose(cfg->lock, pb_queue_global_spin.lock);
    if (!pb_lock_fits(lock, pb_queue_global_spin.lock_needs))
        return -EINVAL;
    /* One queue for all CPUs: no NUMA binding, but its own lines. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q);
    if (!q)
        return -ENOMEM;
    struct pb_lock_config lc = pb_lock_config_of(cfg->ncpus ? cfg->ncpus : cfg->nqueues,
                                                 cfg->nnodes, pb_queue_global_spin.flags, &cfg->mem);
    int rc = pb_lock_block_create(&q->lock, lock, &lc, 0, sizeof(struct gs_list));
    if (rc != 0) {
        gs_fini(q);
        return rc;
    }
    q->list = q->lock.data;
    atomic_init(&q->list->head, NULL);
    q->list->tail = NULL;
    pb_idle_init(&q->waiter, cfg);
    *qp = q;
    return 0;
}

static int gs_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    (void)qi;
    struct gs_list *l = q->list;
    struct pb_lock_hold hold;
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed); /* the lock orders it */
    pb_lock_block_acquire(&q->lock, &hold);
    if (l->tail)
        atomic_store_explicit(&l->tail->next, w, memory_order_relaxed);
    else
        /* relaxed: the lock hands the list over; the peek only needs
         * "not NULL", and its Dekker ordering comes from the fences. */
        atomic_store_explicit(&l->head, w, memory_order_relaxed);
    l->tail = w;
    pb_lock_block_release(&q->lock, &hold);
    pb_idle_notify(&q->waiter);
    return 0;
}

static struct pb_work *gs_poll(void *ctx)
{
    struct pb_queue *q = ctx;
    struct gs_list *l = q->list;
    /* relaxed peek: an empty queue costs no lock; the lock below orders. */
    if (!atomic_load_explicit(&l->head, memory_order_relaxed))
        return NULL;
    struct pb_lock_hold hold;
    pb_lock_block_acquire(&q->lock, &hold);
    struct pb_work *w = atomic_load_explicit(&l->head, memory_order_relaxed);
    if (w) {
        struct pb_work *next = atomic_load_explicit(&w->next, memory_order_relaxed);
        atomic_store_explicit(&l->head, next, memory_order_relaxed);
        if (!next)
            l->tail = NULL;
    }
    pb_lock_block_release(&q->lock, &hold);
    return w;
}

static struct pb_work *gs_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    (void)qi;
    return wait ? pb_idle_wait(&q->waiter, gs_poll, q) : gs_poll(q);
}

static void gs_shutdown(struct pb_queue *q)
{
    pb_idle_shutdown(&q->waiter);
}

const struct pb_queue_ops pb_queue_global_spin = {
    .name = "global-spin",
    .description = "one FIFO, test-and-test-and-set spinlock, futex idle",
    .flags = PB_SHARED | PB_FIFO_PER_PRODUCER | PB_IN_SUITE,
    .lock = "ttas-backoff",
    .init = gs_init,
    .fini = gs_fini,
    .enqueue = gs_enqueue,
    .dequeue = gs_dequeue,
    .shutdown = gs_shutdown,
};
