/* queue `ck-ring`: per queue index a Concurrency Kit ring of pointers
 * (ck_ring.h, 0.7), used through its MPSC interface: ck_ring_enqueue_mpsc
 * / ck_ring_dequeue_mpsc. The library peer of percpu-ring.
 *
 * Capacity: ck_ring sizes are powers of two and one slot tells full from
 * empty, so a ring of size n holds n - 1 items. The ring size is
 * cfg->capacity (default 4096) rounded up to a power of two (at least 4):
 * it holds one item fewer than percpu-ring at the same setting. Full:
 * enqueue returns -EAGAIN without taking the item.
 *
 * Concurrency (ck's contract for the mpsc namespace): enqueue(qi) from any
 * number of threads: a CAS on p_head claims a slot, the slot is written,
 * then each producer waits for its predecessors and publishes p_tail in
 * claim order (so a preempted producer holds up the ones behind it: the
 * ring is lock-free for claims, blocking for publication). dequeue(qi)
 * from ONE thread at a time (qi's worker). FIFO in claim order, hence per
 * producer. An item claimed but not yet published reads as empty.
 *
 * Idle/wake: pb_idle_wait / pb_idle_notify on qi's waiter. ck publishes
 * with a plain store of p_tail (after ck_pr_fence_store), which is not a
 * seq_cst RMW, so the producer pays the full fence of pb_idle_notify
 * (idle.h) where percpu-ring gets away with its seq_cst claim.
 *
 * Layout (pb_mem_alloc on qi's CPU): struct ck_ring already keeps the
 * consumer's c_head and the producers' p_head/p_tail on separate lines;
 * the waiter has its own line; the slot buffer is a second allocation on
 * the same CPU.
 *
 * ThreadSanitizer: ck synchronizes with inline assembly and volatile
 * accesses, which TSan cannot see (it would report races on every slot).
 * In PB_TSAN builds the ck calls run with TSan's access and sync tracking
 * off, and the ring is described to TSan as what it is for the items: a
 * release by the producer before enqueue, an acquire by the consumer
 * after dequeue, on the item's address. */
#include <errno.h>
#include <stdlib.h>

#include <ck_ring.h>

#include "idle.h"
#include "pb_opaque.h"
#include "pb_strategy.h"


#define CKQ_DEFAULT_CAPACITY 4096u

struct ckq_queue {
    struct ck_ring ring;            /* its own lines (ck pads it) */
    struct ck_ring_buffer *slots;
    struct pb_idle_waiter waiter;
};

struct pb_queue {
    unsigned nqueues;
    unsigned size;                  /* ring size: holds size - 1 */
    struct pb_mem_hooks mem;
    struct ckq_queue *qs[];         /* read-only after init */
};

static unsigned round_up_pow2(size_t n)
{
    unsigned p = 4;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

static void ckq_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++) {
        if (q->qs[i]) {
            pb_mem_free(&q->mem, q->qs[i]->slots, q->size * sizeof(struct ck_ring_buffer));
            pb_mem_free(&q->mem, q->qs[i], sizeof *q->qs[i]);
        }
    }
    pb_mem_free(NULL, q, sizeof *q + q->nqueues * sizeof q->qs[0]);
}

static int ckq_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    if (cfg->capacity > (1u << 30))
        return -ERANGE;      /* round_up_pow2 stops there: refused, not shrunk */
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q + n * sizeof q->qs[0]);
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->size = round_up_pow2(cfg->capacity ? cfg->capacity : CKQ_DEFAULT_CAPACITY);
    q->mem = cfg->mem;
    for (unsigned i = 0; i < n; i++) {
        struct ckq_queue *cq = pb_mem_alloc(&cfg->mem, i, sizeof *cq);
        if (!cq) {
            ckq_fini(q);
            return -ENOMEM;
        }
        q->qs[i] = cq;
        cq->slots = pb_mem_alloc(&cfg->mem, i, q->size * sizeof(struct ck_ring_buffer));
        if (!cq->slots) {
            ckq_fini(q);
            return -ENOMEM;
        }
        ck_ring_init(&cq->ring, q->size);
        pb_idle_init(&cq->waiter, cfg);
    }
    *qp = q;
    return 0;
}

static int ckq_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct ckq_queue *cq = q->qs[qi];
    PB_TSAN_RELEASE(w);
    PB_OPAQUE_BEGIN();
    bool ok = ck_ring_enqueue_mpsc(&cq->ring, cq->slots, w);
    PB_OPAQUE_END();
    if (!ok)
        return -EAGAIN;
    pb_idle_notify(&cq->waiter);
    return 0;
}

static struct pb_work *ckq_poll(void *ctx)
{
    struct ckq_queue *cq = ctx;
    struct pb_work *w = NULL;
    PB_OPAQUE_BEGIN();
    bool ok = ck_ring_dequeue_mpsc(&cq->ring, cq->slots, &w);
    PB_OPAQUE_END();
    if (!ok)
        return NULL;
    PB_TSAN_ACQUIRE(w);
    return w;
}

static struct pb_work *ckq_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct ckq_queue *cq = q->qs[qi];
    return wait ? pb_idle_wait(&cq->waiter, ckq_poll, cq) : ckq_poll(cq);
}

static void ckq_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i]->waiter);
}

const struct pb_queue_ops pb_queue_ck_ring = {
    .name = "ck-ring",
    .description = "Concurrency Kit ck_ring per CPU (mpsc), bounded, futex idle",
    .flags = PB_BOUNDED | PB_FIFO_PER_PRODUCER | PB_REFERENCE | PB_IN_SUITE,
    .init = ckq_init,
    .fini = ckq_fini,
    .enqueue = ckq_enqueue,
    .dequeue = ckq_dequeue,
    .shutdown = ckq_shutdown,
};
