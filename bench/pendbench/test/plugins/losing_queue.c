/* A test plugin queue that loses work: a mutex-protected FIFO per queue
 * index that drops one item in 50 without a word (enqueue says it took
 * it). The operations those items belonged to never complete: `pendbench
 * run` must end anyway and say so (invariants failed), not wait at its
 * teardown for work that will never run. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pendbench_plugin.h"

struct one_queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct pb_work *head, *tail;   /* under lock; links in pb_work.next */
    unsigned enqueued;             /* under lock */
    bool shut;
};

struct pb_queue {
    unsigned n;
    struct one_queue *qs;
};

static void lq_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->n; i++) {
        pthread_mutex_destroy(&q->qs[i].lock);
        pthread_cond_destroy(&q->qs[i].nonempty);
    }
    free(q->qs);
    free(q);
}

static int lq_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    struct pb_queue *q = calloc(1, sizeof *q);
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    if (!q || !(q->qs = calloc(n, sizeof *q->qs))) {
        free(q);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < n; i++, q->n++)
        if (pthread_mutex_init(&q->qs[i].lock, NULL) != 0 ||
            pthread_cond_init(&q->qs[i].nonempty, NULL) != 0) {
            lq_fini(q);
            return -ENOMEM;
        }
    *qp = q;
    return 0;
}

static int lq_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct one_queue *o = &q->qs[qi];
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed);   /* the lock publishes it */
    pthread_mutex_lock(&o->lock);
    if (++o->enqueued % 50 != 0) {       /* the 50th is lost */
        if (o->tail)
            atomic_store_explicit(&o->tail->next, w, memory_order_relaxed);
        else
            o->head = w;
        o->tail = w;
        pthread_cond_signal(&o->nonempty);
    }
    pthread_mutex_unlock(&o->lock);
    return 0;
}

static struct pb_work *lq_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct one_queue *o = &q->qs[qi];
    pthread_mutex_lock(&o->lock);
    while (wait && !o->head && !o->shut)
        pthread_cond_wait(&o->nonempty, &o->lock);
    struct pb_work *w = o->head;
    if (w) {
        o->head = atomic_load_explicit(&w->next, memory_order_relaxed);
        if (!o->head)
            o->tail = NULL;
    }
    pthread_mutex_unlock(&o->lock);
    return w;
}

static void lq_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->n; i++) {
        pthread_mutex_lock(&q->qs[i].lock);
        q->qs[i].shut = true;
        pthread_cond_broadcast(&q->qs[i].nonempty);
        pthread_mutex_unlock(&q->qs[i].lock);
    }
}

static const struct pb_queue_ops losing_queue = {
    .name = "test-losing-queue",
    .description = "test: a FIFO that drops one item in 50",
    .flags = 0,
    .init = lq_init,
    .fini = lq_fini,
    .enqueue = lq_enqueue,
    .dequeue = lq_dequeue,
    .shutdown = lq_shutdown,
};

PB_PLUGIN_QUEUE(losing_queue);
