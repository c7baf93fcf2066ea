/* queue `global-mutex`: one FIFO for all workers behind one lock, by
 * default a pthread mutex with a condition variable: the baseline every
 * queue design is judged against.
 *
 * Concurrency: enqueue from any thread; any worker dequeues (qi is
 * ignored: there is one queue). FIFO overall. Every poll takes the lock
 * (no lock-free peek: that is global-spin's difference).
 *
 * The lock: any lock of the kind (it needs no capability), taken through
 * pb_lock_acquire. How an idle worker waits depends on it:
 *   - a PB_LOCK_PTHREAD lock (pthread-mutex, the default): as always, a
 *     condition variable on that mutex. Idle policy: spin polls the list
 *     (taking the lock each time); spin-park polls, then waits on the
 *     condition variable; park waits at once. Enqueue signals only when a
 *     worker waits.
 *   - any other lock (it cannot be given to pthread_cond_wait): the shared
 *     futex idle policy (idle.h), as the other queues: pb_idle_wait polls
 *     under the lock and parks on the waiter's futex; enqueue publishes
 *     under the lock, then pb_idle_notify. The lock orders the list: a
 *     poll that takes it after the enqueue's release sees the item, and
 *     one that took it before released it before the enqueue took it, so
 *     the enqueue's sleepers check comes after the sleeper's C2 (idle.h).
 *
 * Layout: the lock's state with the list right after it (pb_lock_block:
 * one line when the lock is small); the condition variable or the waiter
 * on lines of their own. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_lock_use.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

struct gm_list {
    struct pb_work *head, *tail;    /* under the lock */
    unsigned waiters;               /* condition variable path: workers in cond_wait */
    bool stopping;                  /* condition variable path */
};

struct pb_queue {
    struct pb_idle_waiter waiter;   /* futex path: its own line (aligned type) */
    _Alignas(PB_CACHE_LINE) pthread_cond_t nonempty;   /* condition variable path */
    /* Read-only after init. */
    _Alignas(PB_CACHE_LINE) struct pb_lock_block lock;  /* the lock and the list */
    struct gm_list *list;           /* = lock.data */
    bool cond;                      /* a PB_LOCK_PTHREAD lock: the condition variable path */
    pb_idle_policy idle;
    unsigned spin;
    unsigned yield_every;           /* cfg->yield_every, as the futex path's waiter */
};

extern const struct pb_queue_ops pb_queue_global_mutex;

static void gm_fini(struct pb_queue *q)
{
    if (q->cond)
        pthread_cond_destroy(&q->nonempty);
    pb_lock_block_destroy(&q->lock);
    pb_mem_free(NULL, q, sizeof *q);
}

static int gm_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    const struct pb_lock_ops *lock = pb_lock_choose(cfg->lock, pb_queue_global_mutex.lock);
    if (!pb_lock_fits(lock, pb_queue_global_mutex.lock_needs))
        return -EINVAL;
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q);
    if (!q)
        return -ENOMEM;
    struct pb_lock_config lc = pb_lock_config_of(cfg->ncpus ? cfg->ncpus : cfg->nqueues,
                                                 cfg->nnodes, pb_queue_global_mutex.flags, &cfg->mem);
    int rc = pb_lock_block_create(&q->lock, lock, &lc, 0, sizeof(struct gm_list));
    if (rc != 0) {
        gm_fini(q);
        return rc;
    }
    q->list = q->lock.data;
    q->idle = cfg->idle;
    q->spin = cfg->spin_iterations ? cfg->spin_iterations : 2000;
    q->yield_every = cfg->yield_every;
    if (lock->flags & PB_LOCK_PTHREAD) {
        rc = pthread_cond_init(&q->nonempty, NULL);
        if (rc != 0) {
            gm_fini(q);
            return -rc;
        }
        q->cond = true;
    }
    pb_idle_init(&q->waiter, cfg);
    *qp = q;
    return 0;
}

static int gm_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct gm_list *l = q->list;
    struct pb_lock_hold hold;
    /* relaxed: the lock orders the link with the dequeuer. */
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed);
    pb_lock_block_acquire(&q->lock, &hold);
    if (l->tail)
        atomic_store_explicit(&l->tail->next, w, memory_order_relaxed);
    else
        l->head = w;
    l->tail = w;
    bool wake = l->waiters > 0;
    pb_lock_block_release(&q->lock, &hold);
    if (!q->cond)
        pb_idle_notify(&q->waiter);
    else if (wake)
        pthread_cond_signal(&q->nonempty);
    return 0;
}

/* Called with the lock held. */
static struct pb_work *gm_pop(struct gm_list *l)
{
    struct pb_work *w = l->head;
    if (w) {
        l->head = atomic_load_explicit(&w->next, memory_order_relaxed);
        if (!l->head)
            l->tail = NULL;
    }
    return w;
}

/* One poll under the lock (the futex path's pb_idle_poll_fn). */
static struct pb_work *gm_poll(void *ctx)
{
    struct pb_queue *q = ctx;
    struct pb_lock_hold hold;
    pb_lock_block_acquire(&q->lock, &hold);
    struct pb_work *w = gm_pop(q->list);
    pb_lock_block_release(&q->lock, &hold);
    return w;
}

/* The condition variable path: the lock's state is a pthread_mutex_t
 * (PB_LOCK_PTHREAD), which pthread_cond_wait releases and takes again
 * itself while the hold stays ours. */
static struct pb_work *gm_dequeue_cond(struct pb_queue *q, bool wait)
{
    struct gm_list *l = q->list;
    pthread_mutex_t *mutex = q->lock.state;
    unsigned spins = 0;
    for (;;) {
        struct pb_lock_hold hold;
        pb_lock_block_acquire(&q->lock, &hold);
        struct pb_work *w = gm_pop(l);
        if (w || !wait || l->stopping) {
            pb_lock_block_release(&q->lock, &hold);
            return w;
        }
        bool park = q->idle == PB_IDLE_PARK || (q->idle == PB_IDLE_SPIN_PARK && spins >= q->spin);
        if (park) {
            l->waiters++;
            while (!l->head && !l->stopping)
                pthread_cond_wait(&q->nonempty, mutex);
            l->waiters--;
            w = gm_pop(l);
            bool stopping = l->stopping;
            pb_lock_block_release(&q->lock, &hold);
            if (w || stopping)
                return w;
            continue;
        }
        pb_lock_block_release(&q->lock, &hold);
        spins++;
        pb_idle_pause(spins, q->yield_every);
    }
}

static struct pb_work *gm_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    if (q->cond)
        return gm_dequeue_cond(q, wait);
    return wait ? pb_idle_wait(&q->waiter, gm_poll, q) : gm_poll(q);
}

static void gm_shutdown(struct pb_queue *q)
{
    if (!q->cond) {
        pb_idle_shutdown(&q->waiter);
        return;
    }
    struct pb_lock_hold hold;
    pb_lock_block_acquire(&q->lock, &hold);
    q->list->stopping = true;
    pb_lock_block_release(&q->lock, &hold);
    pthread_cond_broadcast(&q->nonempty);
}

const struct pb_queue_ops pb_queue_global_mutex = {
    .name = "global-mutex",
    .description = "one FIFO, mutex + condition variable (baseline)",
    .flags = PB_SHARED | PB_FIFO_PER_PRODUCER | PB_BASELINE | PB_IN_SUITE,
    .lock = "pthread-mutex",
    .init = gm_init,
    .fini = gm_fini,
    .enqueue = gm_enqueue,
    .dequeue = gm_dequeue,
    .shutdown = gm_shutdown,
};
