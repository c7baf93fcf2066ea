/* queue `percpu-mpsc`: per queue index, Dmitry Vyukov's intrusive
 * lock-free MPSC queue with a stub node (1024cores.net, "Intrusive MPSC
 * node-based queue"). Unbounded: the link lives in the item (pb_work.next).
 *
 * Concurrency: enqueue(qi) from any number of threads at once: one
 * exchange of the tail plus one store, wait-free. dequeue(qi) from ONE
 * thread at a time (qi's worker; callers must not dequeue one qi from two
 * threads concurrently). FIFO in exchange order, hence per producer.
 *
 * The transient state: a producer has exchanged the tail but not yet
 * linked its predecessor to it (tail != head, head->next == NULL).
 * Vyukov's pop returns "empty, retry"; here the consumer spins on that
 * link (pause, then yield: the producer may be preempted between its two
 * instructions), because (a) NULL from dequeue must mean empty, and (b)
 * an item may only be handed out once the producer that links after it
 * has finished writing its `next`.
 *
 * Idle/wake: pb_idle_wait / pb_idle_notify_sc on qi's waiter. The tail
 * exchange is seq_cst, and an empty poll reads the tail after the
 * consumer's fence, so no extra fence is needed on the enqueue path
 * (idle.h).
 *
 * Layout (one pb_mem_alloc on qi's CPU): the tail alone on the producers'
 * line; head and stub on the consumer's line (a producer writes stub.next
 * only when it finds the queue empty: the handoff); the waiter on its own
 * line. The fast path writes nothing else. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

struct mpsc_queue {
    _Alignas(PB_CACHE_LINE) struct pb_work *_Atomic tail; /* producers exchange it */
    _Alignas(PB_CACHE_LINE) struct pb_work *head;         /* consumer only */
    struct pb_work stub;
    struct pb_idle_waiter waiter;
};

struct pb_queue {
    unsigned nqueues;
    struct pb_mem_hooks mem;
    struct mpsc_queue *qs[];        /* read-only after init */
};

static void mpsc_push(struct mpsc_queue *mq, struct pb_work *w)
{
    /* relaxed: published by the exchange's release half. */
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed);
    /* seq_cst: acq_rel orders the queue (release publishes w->next = NULL
     * before anyone links after w; acquire orders our link after the
     * predecessor's NULL); seq_cst also makes it the publication that
     * pb_idle_notify_sc relies on. */
    struct pb_work *prev = atomic_exchange_explicit(&mq->tail, w, memory_order_seq_cst);
    /* release: the consumer's acquire load of prev->next sees w's contents. */
    atomic_store_explicit(&prev->next, w, memory_order_release);
}

/* Waits out the transient state: `node` is not the tail, so its successor
 * has exchanged the tail and is about to link it. */
static struct pb_work *wait_next(struct pb_work *node)
{
    unsigned spins = 0;
    for (;;) {
        struct pb_work *next = atomic_load_explicit(&node->next, memory_order_acquire);
        if (next)
            return next;
        pb_cpu_relax();
        if (++spins % 256 == 0)
            sched_yield();
    }
}

static struct pb_work *mpsc_pop(void *ctx)
{
    struct mpsc_queue *mq = ctx;
    struct pb_work *head = mq->head;
    /* acquire: pairs with the producer's release link: item contents. */
    struct pb_work *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (head == &mq->stub) {
        if (!next) {
            /* relaxed: read after the parking consumer's fence (C3), it
             * sees any tail exchange that precedes the fence (idle.h); the
             * link itself is read with acquire. */
            if (atomic_load_explicit(&mq->tail, memory_order_relaxed) == &mq->stub)
                return NULL; /* empty */
            next = wait_next(head);
        }
        mq->head = next; /* skip the stub */
        head = next;
        next = atomic_load_explicit(&head->next, memory_order_acquire);
    }
    if (next) {
        mq->head = next;
        return head;
    }
    /* head is the last linked node. */
    if (atomic_load_explicit(&mq->tail, memory_order_relaxed) != head) {
        /* relaxed above: a stale tail only makes us take the stub path,
         * whose exchange then tells the truth. */
        mq->head = wait_next(head);
        return head;
    }
    /* Put the stub behind head so that head can be handed out while the
     * queue keeps a node. A producer may slip in before the stub: then it
     * links head->next to itself; either way head gets a successor. */
    mpsc_push(mq, &mq->stub);
    mq->head = wait_next(head);
    return head;
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
        atomic_init(&mq->stub.next, NULL);
        atomic_init(&mq->tail, &mq->stub);
        mq->head = &mq->stub;
        pb_idle_init(&mq->waiter, cfg);
        q->qs[i] = mq;
    }
    *qp = q;
    return 0;
}

static int mpsc_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct mpsc_queue *mq = q->qs[qi];
    mpsc_push(mq, w);
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
