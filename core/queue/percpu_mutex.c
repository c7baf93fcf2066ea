/* queue `percpu-mutex`: one FIFO per queue index behind its own pthread
 * mutex; idle per the shared policy (idle.h). The per-CPU baseline: it
 * removes global-mutex's single point of contention but keeps a lock on
 * every operation.
 *
 * Concurrency: enqueue(qi) from any thread; dequeue(qi) from any thread
 * (the mutex serializes), though the model calls it only from qi's
 * worker. FIFO per queue, hence per producer for each queue. An empty
 * poll is one relaxed load of head and takes no lock. Idle/wake:
 * pb_idle_wait / pb_idle_notify on qi's own waiter.
 *
 * Layout: each queue is one allocation on its CPU's node (pb_mem_alloc):
 * the lock and list share a line (the lock holder writes both); the
 * waiter has its own. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_strategy.h"

struct pm_queue {
    _Alignas(PB_CACHE_LINE) pthread_mutex_t lock;
    struct pb_work *_Atomic head;   /* written under the lock; peeked without it */
    struct pb_work *tail;           /* only under the lock */
    struct pb_idle_waiter waiter;
};

struct pb_queue {
    unsigned nqueues;
    struct pb_mem_hooks mem;
    struct pm_queue *qs[];          /* read-only after init */
};

static void pm_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++) {
        if (q->qs[i]) {
            pthread_mutex_destroy(&q->qs[i]->lock);
            pb_mem_free(&q->mem, q->qs[i], sizeof *q->qs[i]);
        }
    }
    pb_mem_free(NULL, q, sizeof *q + q->nqueues * sizeof q->qs[0]);
}

static int pm_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q + n * sizeof q->qs[0]);
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->mem = cfg->mem;
    for (unsigned i = 0; i < n; i++) {
        struct pm_queue *pq = pb_mem_alloc(&cfg->mem, i, sizeof *pq);
        if (!pq) {
            pm_fini(q);
            return -ENOMEM;
        }
        pthread_mutex_init(&pq->lock, NULL);
        atomic_init(&pq->head, NULL);
        pq->tail = NULL;
        pb_idle_init(&pq->waiter, cfg);
        q->qs[i] = pq;
    }
    *qp = q;
    return 0;
}

static int pm_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct pm_queue *pq = q->qs[qi];
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed); /* the mutex orders it */
    pthread_mutex_lock(&pq->lock);
    if (pq->tail)
        atomic_store_explicit(&pq->tail->next, w, memory_order_relaxed);
    else
        /* relaxed: the mutex hands the list over; the lock-free peek only
         * needs "not NULL", ordered for the sleep check by the fences. */
        atomic_store_explicit(&pq->head, w, memory_order_relaxed);
    pq->tail = w;
    pthread_mutex_unlock(&pq->lock);
    pb_idle_notify(&pq->waiter);
    return 0;
}

static struct pb_work *pm_poll(void *ctx)
{
    struct pm_queue *pq = ctx;
    if (!atomic_load_explicit(&pq->head, memory_order_relaxed)) /* peek; the mutex orders */
        return NULL;
    pthread_mutex_lock(&pq->lock);
    struct pb_work *w = atomic_load_explicit(&pq->head, memory_order_relaxed);
    if (w) {
        struct pb_work *next = atomic_load_explicit(&w->next, memory_order_relaxed);
        atomic_store_explicit(&pq->head, next, memory_order_relaxed);
        if (!next)
            pq->tail = NULL;
    }
    pthread_mutex_unlock(&pq->lock);
    return w;
}

static struct pb_work *pm_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct pm_queue *pq = q->qs[qi];
    return wait ? pb_idle_wait(&pq->waiter, pm_poll, pq) : pm_poll(pq);
}

static void pm_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i]->waiter);
}

const struct pb_queue_ops pb_queue_percpu_mutex = {
    .name = "percpu-mutex",
    .description = "FIFO per CPU behind its own mutex, futex idle",
    .flags = PB_FIFO_PER_PRODUCER | PB_IN_SUITE,
    .init = pm_init,
    .fini = pm_fini,
    .enqueue = pm_enqueue,
    .dequeue = pm_dequeue,
    .shutdown = pm_shutdown,
};
