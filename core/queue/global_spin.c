/* queue `global-spin`: one FIFO for all workers behind one test-and-test-
 * and-set spinlock; idle per the shared policy (idle.h). It isolates the
 * cost of the lock itself against `global-mutex` (same list, same single
 * shared queue), and shows what a spinlock does under contention.
 *
 * Concurrency: enqueue from any thread; any worker dequeues (qi is
 * ignored: there is one queue). FIFO overall, hence per producer. The
 * lock is taken only with a non-empty list in view: an empty poll is one
 * relaxed load of head, so idle workers spinning on an empty queue do not
 * hammer the lock line. Idle/wake: pb_idle_wait / pb_idle_notify with one
 * waiter for all workers (several may park; each notify wakes one).
 *
 * The lock is the strategies' one spinlock (pb_spin.h): it spins reading
 * (no write while it is held), with pause, and yields the CPU now and
 * then, because a spinner may be waiting for a holder that the scheduler
 * has preempted (oversubscribed machines, sanitizer builds). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_spin.h"
#include "pb_strategy.h"
#include "pb_tsc.h"


struct pb_queue {
    /* Lock and list on one line: whoever holds the lock writes both. */
    _Alignas(PB_CACHE_LINE) pb_spinlock lock;
    struct pb_work *_Atomic head;   /* written under the lock; peeked without it */
    struct pb_work *tail;           /* only under the lock */
    struct pb_idle_waiter waiter;   /* its own line (aligned type) */
};

static void spin_lock(pb_spinlock *lock)
{
    pb_spin_lock(lock, true);
}

static void spin_unlock(pb_spinlock *lock)
{
    pb_spin_unlock(lock);
}

static int gs_init(struct pb_queue **q, const struct pb_queue_config *cfg)
{
    /* One queue for all CPUs: no NUMA binding, but its own lines. */
    struct pb_queue *g = pb_mem_alloc(NULL, 0, sizeof *g);
    if (!g)
        return -ENOMEM;
    atomic_init(&g->lock, 0);
    atomic_init(&g->head, NULL);
    g->tail = NULL;
    pb_idle_init(&g->waiter, cfg);
    *q = g;
    return 0;
}

static void gs_fini(struct pb_queue *q)
{
    pb_mem_free(NULL, q, sizeof *q);
}

static int gs_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    (void)qi;
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed); /* the lock orders it */
    spin_lock(&q->lock);
    if (q->tail)
        atomic_store_explicit(&q->tail->next, w, memory_order_relaxed);
    else
        /* relaxed: the lock hands the list over; the peek only needs
         * "not NULL", and its Dekker ordering comes from the fences. */
        atomic_store_explicit(&q->head, w, memory_order_relaxed);
    q->tail = w;
    spin_unlock(&q->lock);
    pb_idle_notify(&q->waiter);
    return 0;
}

static struct pb_work *gs_poll(void *ctx)
{
    struct pb_queue *q = ctx;
    /* relaxed peek: an empty queue costs no lock; the lock below orders. */
    if (!atomic_load_explicit(&q->head, memory_order_relaxed))
        return NULL;
    spin_lock(&q->lock);
    struct pb_work *w = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (w) {
        struct pb_work *next = atomic_load_explicit(&w->next, memory_order_relaxed);
        atomic_store_explicit(&q->head, next, memory_order_relaxed);
        if (!next)
            q->tail = NULL;
    }
    spin_unlock(&q->lock);
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
    .init = gs_init,
    .fini = gs_fini,
    .enqueue = gs_enqueue,
    .dequeue = gs_dequeue,
    .shutdown = gs_shutdown,
};
