/* A deliberately broken queue plugin, `broken-queue`, to show that
 * `pendbench stress` catches a plugin that breaks its promise: it flags
 * PB_FIFO_PER_PRODUCER but pops the newest item first (a stack). Stress
 * fails it with "FIFO order broken" and the seed to reproduce it. Build
 * (from the top folder):
 *
 *   cc -std=c11 -O2 -fPIC -shared -pthread -Icore/include -o broken_queue.so \
 *      examples/plugins/broken_queue.c
 *
 * and see it caught: pendbench stress --queue ./broken_queue.so */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "pendbench_plugin.h"

struct one_stack {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct pb_work *top;           /* under lock */
    bool shut;
};

struct pb_queue {
    unsigned n;
    struct one_stack *qs;
};

static void bq_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->n; i++) {
        pthread_mutex_destroy(&q->qs[i].lock);
        pthread_cond_destroy(&q->qs[i].nonempty);
    }
    free(q->qs);
    free(q);
}

static int bq_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
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
            bq_fini(q);
            return -ENOMEM;
        }
    *qp = q;
    return 0;
}

static int bq_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct one_stack *s = &q->qs[qi];
    pthread_mutex_lock(&s->lock);
    atomic_store_explicit(&w->next, s->top, memory_order_relaxed);
    s->top = w;                    /* THE BUG: newest on top, yet it promises FIFO */
    pthread_cond_signal(&s->nonempty);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static struct pb_work *bq_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct one_stack *s = &q->qs[qi];
    pthread_mutex_lock(&s->lock);
    while (wait && !s->top && !s->shut)
        pthread_cond_wait(&s->nonempty, &s->lock);
    struct pb_work *w = s->top;
    if (w)
        s->top = atomic_load_explicit(&w->next, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    return w;
}

static void bq_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->n; i++) {
        pthread_mutex_lock(&q->qs[i].lock);
        q->qs[i].shut = true;
        pthread_cond_broadcast(&q->qs[i].nonempty);
        pthread_mutex_unlock(&q->qs[i].lock);
    }
}

static const struct pb_queue_ops broken_queue = {
    .name = "broken-queue",
    .description = "plugin example, broken on purpose: a stack that promises FIFO",
    .flags = PB_FIFO_PER_PRODUCER | PB_BROKEN,
    .init = bq_init,
    .fini = bq_fini,
    .enqueue = bq_enqueue,
    .dequeue = bq_dequeue,
    .shutdown = bq_shutdown,
};

PB_PLUGIN_QUEUE(broken_queue);
