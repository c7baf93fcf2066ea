/* queue `percpu-mutex`: one FIFO per queue index behind its own lock, by
 * default a pthread mutex; idle per the shared policy (idle.h). The
 * per-CPU baseline: it removes global-mutex's single point of contention
 * but keeps a lock on every operation.
 *
 * Concurrency: enqueue(qi) from any thread; dequeue(qi) from any thread
 * (the lock serializes), though the model calls it only from qi's
 * worker. FIFO per queue, hence per producer for each queue. An empty
 * poll is one relaxed load of head and takes no lock. Idle/wake:
 * pb_idle_wait / pb_idle_notify on qi's own waiter.
 *
 * The lock: any lock of the kind (it needs no capability), one per queue,
 * taken through pb_lock_acquire.
 *
 * Layout: per queue, on its CPU's node (pb_mem_alloc), the lock's state
 * with the list right after it (pb_lock_block: the lock holder writes
 * both, one line for a small lock), and the waiter on a line of its own. */
#include <errno.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_lock_use.h"
#include "pb_strategy.h"

struct pm_list {
    struct pb_work *_Atomic head;   /* written under the lock; peeked without it */
    struct pb_work *tail;           /* only under the lock */
};

struct pm_queue {
    struct pb_idle_waiter waiter;   /* its own line (aligned type) */
};

/* Read-only after init. */
struct pm_slot {
    struct pm_queue *pq;
    struct pb_lock_block lock;      /* the lock and the list */
    struct pm_list *list;           /* = lock.data */
};

struct pb_queue {
    unsigned nqueues;
    struct pb_mem_hooks mem;
    struct pm_slot qs[];
};

extern const struct pb_queue_ops pb_queue_percpu_mutex;

static size_t pm_bytes(unsigned n)
{
    return sizeof(struct pb_queue) + n * sizeof(struct pm_slot);
}

static void pm_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++) {
        pb_lock_block_destroy(&q->qs[i].lock);
        if (q->qs[i].pq)
            pb_mem_free(&q->mem, q->qs[i].pq, sizeof *q->qs[i].pq);
    }
    pb_mem_free(NULL, q, pm_bytes(q->nqueues));
}

static int pm_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    const struct pb_lock_ops *lock = pb_lock_choose(cfg->lock, pb_queue_percpu_mutex.lock);
    if (!pb_lock_fits(lock, pb_queue_percpu_mutex.lock_needs))
        return -EINVAL;
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, pm_bytes(n));
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->mem = cfg->mem;
    struct pb_lock_config lc = pb_lock_config_of(cfg->ncpus ? cfg->ncpus : n, cfg->nnodes,
                                                 pb_queue_percpu_mutex.flags, &cfg->mem);
    for (unsigned i = 0; i < n; i++) {
        struct pm_slot *s = &q->qs[i];
        s->pq = pb_mem_alloc(&cfg->mem, i, sizeof *s->pq);
        int rc = s->pq ? pb_lock_block_create(&s->lock, lock, &lc, i, sizeof(struct pm_list))
                       : -ENOMEM;
        if (rc != 0) {
            pm_fini(q);
            return rc;
        }
        s->list = s->lock.data;
        atomic_init(&s->list->head, NULL);
        s->list->tail = NULL;
        pb_idle_init(&s->pq->waiter, cfg);
    }
    *qp = q;
    return 0;
}

static int pm_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct pm_slot *s = &q->qs[qi];
    struct pm_list *l = s->list;
    struct pb_lock_hold hold;
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed); /* the lock orders it */
    pb_lock_block_acquire(&s->lock, &hold);
    if (l->tail)
        atomic_store_explicit(&l->tail->next, w, memory_order_relaxed);
    else
        /* relaxed: the lock hands the list over; the lock-free peek only
         * needs "not NULL", ordered for the sleep check by the fences. */
        atomic_store_explicit(&l->head, w, memory_order_relaxed);
    l->tail = w;
    pb_lock_block_release(&s->lock, &hold);
    pb_idle_notify(&s->pq->waiter);
    return 0;
}

static struct pb_work *pm_poll(void *ctx)
{
    struct pm_slot *s = ctx;
    struct pm_list *l = s->list;
    if (!atomic_load_explicit(&l->head, memory_order_relaxed)) /* peek; the lock orders */
        return NULL;
    struct pb_lock_hold hold;
    pb_lock_block_acquire(&s->lock, &hold);
    struct pb_work *w = atomic_load_explicit(&l->head, memory_order_relaxed);
    if (w) {
        struct pb_work *next = atomic_load_explicit(&w->next, memory_order_relaxed);
        atomic_store_explicit(&l->head, next, memory_order_relaxed);
        if (!next)
            l->tail = NULL;
    }
    pb_lock_block_release(&s->lock, &hold);
    return w;
}

static struct pb_work *pm_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct pm_slot *s = &q->qs[qi];
    return wait ? pb_idle_wait(&s->pq->waiter, pm_poll, s) : pm_poll(s);
}

static void pm_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i].pq->waiter);
}

const struct pb_queue_ops pb_queue_percpu_mutex = {
    .name = "percpu-mutex",
    .description = "FIFO per CPU behind its own mutex, futex idle",
    .flags = PB_FIFO_PER_PRODUCER | PB_IN_SUITE,
    .lock = "pthread-mutex",
    .init = pm_init,
    .fini = pm_fini,
    .enqueue = pm_enqueue,
    .dequeue = pm_dequeue,
    .shutdown = pm_shutdown,
};
