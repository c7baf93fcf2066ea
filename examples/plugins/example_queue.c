/* An example queue plugin, `example-queue`: per queue index a FIFO list
 * behind a mutex, with a condition variable to sleep on when empty. Small
 * on purpose: the whole contract of a queue (pb_strategy.h), FIFO per
 * producer (its flag promises it, and `pendbench stress` checks it).
 * Build (from the top folder):
 *
 *   cc -std=c11 -O2 -fPIC -shared -pthread -Icore/include -o example_queue.so \
 *      examples/plugins/example_queue.c
 *
 * and try it: pendbench stress --queue ./example_queue.so */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pendbench_plugin.h"

struct one_queue {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct pb_work *head, *tail;   /* under lock; links in pb_work.next */
    bool shut;
};

struct pb_queue {
    unsigned n;
    struct one_queue *qs;
};

static void ex_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->n; i++) {
        pthread_mutex_destroy(&q->qs[i].lock);
        pthread_cond_destroy(&q->qs[i].nonempty);
    }
    free(q->qs);
    free(q);
}

static int ex_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
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
            ex_fini(q);
            return -ENOMEM;
        }
    *qp = q;
    return 0;
}

static int ex_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct one_queue *o = &q->qs[qi];
    /* relaxed: the lock publishes the link. */
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed);
    pthread_mutex_lock(&o->lock);
    if (o->tail)
        atomic_store_explicit(&o->tail->next, w, memory_order_relaxed);
    else
        o->head = w;
    o->tail = w;
    pthread_cond_signal(&o->nonempty);
    pthread_mutex_unlock(&o->lock);
    return 0;
}

static struct pb_work *ex_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct one_queue *o = &q->qs[qi];
    pthread_mutex_lock(&o->lock);
    while (wait && !o->head && !o->shut)
        pthread_cond_wait(&o->nonempty, &o->lock);   /* the idle policy: sleep at once */
    struct pb_work *w = o->head;
    if (w) {
        o->head = atomic_load_explicit(&w->next, memory_order_relaxed);
        if (!o->head)
            o->tail = NULL;
    }
    pthread_mutex_unlock(&o->lock);
    return w;
}

static void ex_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->n; i++) {
        pthread_mutex_lock(&q->qs[i].lock);
        q->qs[i].shut = true;
        pthread_cond_broadcast(&q->qs[i].nonempty);
        pthread_mutex_unlock(&q->qs[i].lock);
    }
}

static const struct pb_queue_ops example_queue = {
    .name = "example-queue",
    .description = "plugin example: a mutex-protected FIFO per CPU, condition-variable idle",
    .flags = PB_FIFO_PER_PRODUCER,
    .init = ex_init,
    .fini = ex_fini,
    .enqueue = ex_enqueue,
    .dequeue = ex_dequeue,
    .shutdown = ex_shutdown,
};

PB_PLUGIN_QUEUE(example_queue);
