/* queue `urcu-wfcq`: per queue index a liburcu wait-free concurrent queue
 * (urcu/wfcqueue.h, 0.13): the library peer of percpu-mpsc. Linked
 * dynamically (liburcu-common), without _LGPL_SOURCE: the queue code stays
 * in the LGPL library, at the cost of a call per operation.
 *
 * Concurrency (liburcu's synchronization table, urcu/static/wfcqueue.h):
 * cds_wfcq_enqueue needs no mutual exclusion with anything: enqueue(qi)
 * from any number of threads, wait-free (an exchange of tail->p and a
 * store). __cds_wfcq_dequeue_* must be mutually excluded with other
 * dequeues of the same queue: here by contract, dequeue(qi) from ONE
 * thread at a time (qi's worker), so the lock-free __cds_wfcq_head (no
 * mutex) is used. FIFO in exchange order, hence per producer.
 *
 * Transient state (enqueuer between its exchange and its link): the
 * library's blocking dequeue busy-waits 10 times and then sleeps 10 ms in
 * poll(); that would put a 10 ms hole in a latency benchmark, so we use
 * the nonblocking dequeue and retry on CDS_WFCQ_WOULDBLOCK ourselves
 * (pause, then yield), which also keeps "NULL means empty".
 *
 * The link mapping: pb_work is our intrusive link and cds_wfcq_node is
 * liburcu's; both are exactly one pointer `next` at offset 0. A pb_work is
 * handed to liburcu as a cds_wfcq_node by a cast (asserted below). The
 * library writes that word with plain stores (CMM_STORE_SHARED) while
 * pb_work declares it _Atomic: sound because the library code is compiled
 * apart (no inlining, so no aliasing-based optimisation across the call)
 * and a pointer-sized aligned store is atomic on every supported target.
 *
 * Idle/wake: pb_idle_wait / pb_idle_notify_sc on qi's waiter. liburcu
 * documents uatomic_xchg as a full memory barrier before and after, and
 * the dequeue's empty check reads tail->p, so the enqueue's exchange is
 * the seq_cst publication pb_idle_notify_sc needs (idle.h): no extra
 * fence on the enqueue path.
 *
 * Layout (pb_mem_alloc on qi's CPU): tail (producers) and head (consumer)
 * on separate lines, as liburcu recommends for many CPUs; the waiter on
 * its own line.
 *
 * ThreadSanitizer: liburcu synchronizes with inline assembly and volatile
 * accesses inside an uninstrumented library, invisible to TSan; in
 * PB_TSAN builds the calls run with access and sync tracking off and the
 * queue is described to TSan per item (release before enqueue, acquire
 * after dequeue, on the item's address). */
#include <assert.h>
#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>

#include <urcu/wfcqueue.h>

#include "idle.h"
#include "pb_opaque.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

static_assert(sizeof(struct pb_work) == sizeof(struct cds_wfcq_node),
              "pb_work must map onto cds_wfcq_node");
static_assert(offsetof(struct pb_work, next) == offsetof(struct cds_wfcq_node, next),
              "the link word must be at the same offset");
static_assert(_Alignof(struct pb_work) == _Alignof(struct cds_wfcq_node),
              "same alignment");


struct wfq_queue {
    _Alignas(PB_CACHE_LINE) struct cds_wfcq_tail tail; /* producers */
    _Alignas(PB_CACHE_LINE) struct __cds_wfcq_head head; /* consumer */
    struct pb_idle_waiter waiter;
};

struct pb_queue {
    unsigned nqueues;
    struct pb_mem_hooks mem;
    struct wfq_queue *qs[];         /* read-only after init */
};

static struct cds_wfcq_node *as_node(struct pb_work *w)
{
    return (struct cds_wfcq_node *)(void *)w;
}

static struct pb_work *as_work(struct cds_wfcq_node *n)
{
    return (struct pb_work *)(void *)n;
}

static void wfq_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_mem_free(&q->mem, q->qs[i], sizeof *q->qs[i]);
    pb_mem_free(NULL, q, sizeof *q + q->nqueues * sizeof q->qs[0]);
}

static int wfq_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q + n * sizeof q->qs[0]);
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->mem = cfg->mem;
    for (unsigned i = 0; i < n; i++) {
        struct wfq_queue *wq = pb_mem_alloc(&cfg->mem, i, sizeof *wq);
        if (!wq) {
            wfq_fini(q);
            return -ENOMEM;
        }
        __cds_wfcq_init(&wq->head, &wq->tail);
        pb_idle_init(&wq->waiter, cfg);
        q->qs[i] = wq;
    }
    *qp = q;
    return 0;
}

static int wfq_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct wfq_queue *wq = q->qs[qi];
    /* relaxed: the library's exchange (a full barrier) publishes it. */
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed);
    PB_TSAN_RELEASE(w);
    PB_OPAQUE_BEGIN();
    cds_wfcq_enqueue(&wq->head, &wq->tail, as_node(w));
    PB_OPAQUE_END();
    pb_idle_notify_sc(&wq->waiter);
    return 0;
}

static struct pb_work *wfq_poll(void *ctx)
{
    struct wfq_queue *wq = ctx;
    unsigned spins = 0;
    for (;;) {
        PB_OPAQUE_BEGIN();
        struct cds_wfcq_node *n = __cds_wfcq_dequeue_nonblocking(&wq->head, &wq->tail);
        PB_OPAQUE_END();
        if (n != CDS_WFCQ_WOULDBLOCK) {
            if (n)
                PB_TSAN_ACQUIRE(n);
            return n ? as_work(n) : NULL;
        }
        pb_cpu_relax(); /* an enqueuer is between exchange and link */
        if (++spins % 256 == 0)
            sched_yield();
    }
}

static struct pb_work *wfq_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct wfq_queue *wq = q->qs[qi];
    return wait ? pb_idle_wait(&wq->waiter, wfq_poll, wq) : wfq_poll(wq);
}

static void wfq_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i]->waiter);
}

const struct pb_queue_ops pb_queue_urcu_wfcq = {
    .name = "urcu-wfcq",
    .description = "liburcu wfcqueue per CPU (wait-free enqueue), futex idle",
    .flags = PB_FIFO_PER_PRODUCER | PB_REFERENCE | PB_IN_SUITE,
    .init = wfq_init,
    .fini = wfq_fini,
    .enqueue = wfq_enqueue,
    .dequeue = wfq_dequeue,
    .shutdown = wfq_shutdown,
};
