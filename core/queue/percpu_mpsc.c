/* queue `percpu-mpsc`: per queue index, Dmitry Vyukov's intrusive
 * lock-free MPSC queue with a stub node (the one body in pb_spin.h).
 * Unbounded: the link lives in the item (pb_work.next).
 *
 * Concurrency: enqueue(qi) from any number of threads at once: one
 * exchange of the tail plus one store, wait-free. dequeue(qi) from ONE
 * thread at a time (qi's worker; callers must not dequeue one qi from two
 * threads concurrently). FIFO in exchange order, hence per producer.
 *
 * Idle/wake: pb_idle_wait / pb_idle_notify_sc on qi's waiter. The tail
 * exchange is seq_cst, and an empty poll reads the tail after the
 * consumer's fence, so no extra fence is needed on the enqueue path
 * (idle.h).
 *
 * Layout (one pb_mem_alloc on qi's CPU): the tail and the stub on the
 * producers' line; head alone on the consumer's; the waiter on its own.
 * When the queue is empty (a worker keeping up: the case whose latency
 * matters) the stub is the tail, so an enqueue's exchange and its link
 * land in one line, the idle consumer polls that one line, and taking
 * the item and putting the stub back behind it moves it once more: one
 * line each way per operation instead of two (the stub beside the head
 * made the producer fetch the tail's line, then the stub's). While items
 * queue up the consumer does not touch it. The fast path writes nothing
 * else. docs/cache-line-budget.md has the count. */
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_spin.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

struct mpsc_queue {
    _Alignas(PB_CACHE_LINE) struct pb_work *_Atomic tail; /* producers exchange it */
    struct pb_work stub;                                  /* the empty queue's link */
    _Alignas(PB_CACHE_LINE) struct pb_work *head;         /* consumer only */
    struct pb_idle_waiter waiter;
};

_Static_assert(offsetof(struct mpsc_queue, stub) / PB_CACHE_LINE ==
                   offsetof(struct mpsc_queue, tail) / PB_CACHE_LINE,
               "the stub shares the tail's line");
_Static_assert(offsetof(struct mpsc_queue, head) / PB_CACHE_LINE !=
                   offsetof(struct mpsc_queue, tail) / PB_CACHE_LINE,
               "the consumer's head has its own line");

struct pb_queue {
    unsigned nqueues;
    struct pb_mem_hooks mem;
    struct mpsc_queue *qs[];        /* read-only after init */
};

static struct pb_work *mpsc_pop(void *ctx)
{
    struct mpsc_queue *mq = ctx;
    return pb_mpsc_pop(&mq->tail, &mq->head, &mq->stub);
}

static void mpsc_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_mem_free(&q->mem, q->qs[i], sizeof *q->qs[i]);
    pb_mem_free(NULL, q, sizeof *q + q->nqueues * sizeof q->qs[0]);
}

static int mpsc_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q + n * sizeof q->qs[0]);
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->mem = cfg->mem;
    for (unsigned i = 0; i < n; i++) {
        struct mpsc_queue *mq = pb_mem_alloc(&cfg->mem, i, sizeof *mq);
        if (!mq) {
            mpsc_fini(q);
            return -ENOMEM;
        }
        pb_mpsc_init(&mq->tail, &mq->head, &mq->stub);
        pb_idle_init(&mq->waiter, cfg);
        q->qs[i] = mq;
    }
    *qp = q;
    return 0;
}

static int mpsc_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct mpsc_queue *mq = q->qs[qi];
    pb_mpsc_push(&mq->tail, w);
    pb_idle_notify_sc(&mq->waiter);
    return 0;
}

static struct pb_work *mpsc_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct mpsc_queue *mq = q->qs[qi];
    return wait ? pb_idle_wait(&mq->waiter, mpsc_pop, mq) : mpsc_pop(mq);
}

static void mpsc_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i]->waiter);
}

const struct pb_queue_ops pb_queue_percpu_mpsc = {
    .name = "percpu-mpsc",
    .description = "intrusive lock-free MPSC queue per CPU (Vyukov), futex idle",
    .flags = PB_FIFO_PER_PRODUCER | PB_IN_SUITE,
    .init = mpsc_init,
    .fini = mpsc_fini,
    .enqueue = mpsc_enqueue,
    .dequeue = mpsc_dequeue,
    .shutdown = mpsc_shutdown,
};
