/* queue `global-mutex`: one FIFO for all workers behind one mutex and a
 * condition variable: the baseline every queue design is judged against.
 *
 * Concurrency: enqueue from any thread; any worker dequeues (qi is
 * ignored: there is one queue). FIFO overall. Idle policy: spin polls the
 * list (taking the lock each time); spin-park polls, then waits on the
 * condition variable; park waits at once. Enqueue signals only when a
 * worker waits. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "pb_strategy.h"
#include "pb_tsc.h"

struct pb_queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct pb_work *head, *tail;
    unsigned waiters;
    bool stopping;
    pb_idle_policy idle;
    unsigned spin;
};

static int gm_init(struct pb_queue **q, const struct pb_queue_config *cfg)
{
    struct pb_queue *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->nonempty, NULL);
    g->idle = cfg->idle;
    g->spin = cfg->spin_iterations ? cfg->spin_iterations : 2000;
    *q = g;
    return 0;
}

static void gm_fini(struct pb_queue *q)
{
    pthread_cond_destroy(&q->nonempty);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static int gm_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    /* relaxed: the mutex orders the link with the dequeuer. */
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed);
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        atomic_store_explicit(&q->tail->next, w, memory_order_relaxed);
    else
        q->head = w;
    q->tail = w;
    bool wake = q->waiters > 0;
    pthread_mutex_unlock(&q->lock);
    if (wake)
        pthread_cond_signal(&q->nonempty);
    return 0;
}

/* Called with the lock held. */
static struct pb_work *gm_pop(struct pb_queue *q)
{
    struct pb_work *w = q->head;
    if (w) {
        q->head = atomic_load_explicit(&w->next, memory_order_relaxed);
        if (!q->head)
            q->tail = NULL;
    }
    return w;
}

static struct pb_work *gm_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    unsigned spins = 0;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        struct pb_work *w = gm_pop(q);
        if (w || !wait || q->stopping) {
            pthread_mutex_unlock(&q->lock);
            return w;
        }
        bool park = q->idle == PB_IDLE_PARK || (q->idle == PB_IDLE_SPIN_PARK && spins >= q->spin);
        if (park) {
            q->waiters++;
            while (!q->head && !q->stopping)
                pthread_cond_wait(&q->nonempty, &q->lock);
            q->waiters--;
            w = gm_pop(q);
            pthread_mutex_unlock(&q->lock);
            if (w || q->stopping)
                return w;
            continue;
        }
        pthread_mutex_unlock(&q->lock);
        spins++;
        pb_cpu_relax();
    }
}

static void gm_shutdown(struct pb_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_mutex_unlock(&q->lock);
    pthread_cond_broadcast(&q->nonempty);
}

const struct pb_queue_ops pb_queue_global_mutex = {
    .name = "global-mutex",
    .description = "one FIFO, mutex + condition variable (baseline)",
    .flags = PB_SHARED | PB_FIFO_PER_PRODUCER | PB_BASELINE | PB_IN_SUITE,
    .init = gm_init,
    .fini = gm_fini,
    .enqueue = gm_enqueue,
    .dequeue = gm_dequeue,
    .shutdown = gm_shutdown,
};
