/* queue `percpu-ring`: per queue index a bounded ring of pointers: Dmitry
 * Vyukov's bounded MPMC queue (1024cores.net, "Bounded MPMC queue"; a
 * sequence number per cell), used multi-producer single-consumer, so the
 * consumer's position is a plain variable.
 *
 * Capacity: cfg->capacity (default 4096) rounded up to a power of two
 * (at least 2); the ring holds exactly that many items. A full ring makes
 * enqueue return -EAGAIN without taking the item (the caller keeps it).
 *
 * Concurrency: enqueue(qi) from any number of threads (lock-free: one CAS
 * on the claim counter, retried only when another producer won the same
 * cell). dequeue(qi) from ONE thread at a time (qi's worker). FIFO in
 * claim order, hence per producer. Cell protocol, for position p and
 * capacity n: seq == p: free for the producer claiming p; seq == p + 1:
 * holds p's item; the consumer frees it with seq = p + n.
 *
 * Transient state: a producer has claimed p (enqueue_pos > p) but not yet
 * published the cell. The consumer waits for it (pause, then yield) rather
 * than answer "empty": NULL from dequeue means empty, and FIFO forbids
 * skipping to a later cell.
 *
 * Idle/wake: pb_idle_wait_spin / pb_idle_notify_sc on qi's waiter: the
 * claim CAS is seq_cst and the strict poll (before parking) reads
 * enqueue_pos after the consumer's fence (idle.h), so a claimed-but-
 * unpublished item is never slept on. While it spins, the worker reads the
 * next cell only (ring_spin_poll).
 *
 * Layout (pb_mem_alloc on qi's CPU): the read-only geometry on one line;
 * the claim counter alone on the producers' line; the consumer's position
 * on its own line; the waiter on its own; the cells (16 bytes, four to a
 * line) in a second allocation on the same CPU: they are the handoff. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

#define RING_DEFAULT_CAPACITY 4096u

struct ring_cell {
    _Atomic size_t seq;
    struct pb_work *item;           /* ordered by seq's release/acquire */
};

struct ring_queue {
    /* Geometry, read by both sides and written by neither: its own line,
     * so reading it never pulls a line the other side is writing. */
    _Alignas(PB_CACHE_LINE) size_t mask;
    struct ring_cell *cells;
    _Alignas(PB_CACHE_LINE) _Atomic size_t enqueue_pos; /* producers claim here */
    _Alignas(PB_CACHE_LINE) size_t dequeue_pos;         /* consumer only */
    struct pb_idle_waiter waiter;
};

struct pb_queue {
    unsigned nqueues;
    size_t capacity;
    struct pb_mem_hooks mem;
    struct ring_queue *qs[];        /* read-only after init */
};

/* Beyond it the cells' size would overflow (and no run needs it). */
#define RING_MAX_CAPACITY ((size_t)1 << 30)

static size_t round_up_pow2(size_t n)
{
    size_t p = 2;
    while (p < n)
        p <<= 1;
    return p;
}

static void ring_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++) {
        if (q->qs[i]) {
            pb_mem_free(&q->mem, q->qs[i]->cells, q->capacity * sizeof(struct ring_cell));
            pb_mem_free(&q->mem, q->qs[i], sizeof *q->qs[i]);
        }
    }
    pb_mem_free(NULL, q, sizeof *q + q->nqueues * sizeof q->qs[0]);
}

static int ring_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    if (cfg->capacity > RING_MAX_CAPACITY)
        return -ERANGE;
    size_t cap = round_up_pow2(cfg->capacity ? cfg->capacity : RING_DEFAULT_CAPACITY);
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q + n * sizeof q->qs[0]);
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->capacity = cap;
    q->mem = cfg->mem;
    for (unsigned i = 0; i < n; i++) {
        struct ring_queue *rq = pb_mem_alloc(&cfg->mem, i, sizeof *rq);
        if (!rq) {
            ring_fini(q);
            return -ENOMEM;
        }
        q->qs[i] = rq;
        rq->cells = pb_mem_alloc(&cfg->mem, i, cap * sizeof(struct ring_cell));
        if (!rq->cells) {
            ring_fini(q);
            return -ENOMEM;
        }
        for (size_t c = 0; c < cap; c++) {
            atomic_init(&rq->cells[c].seq, c);
            rq->cells[c].item = NULL;
        }
        atomic_init(&rq->enqueue_pos, 0);
        rq->dequeue_pos = 0;
        rq->mask = cap - 1;
        pb_idle_init(&rq->waiter, cfg);
    }
    *qp = q;
    return 0;
}

static int ring_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct ring_queue *rq = q->qs[qi];
    /* relaxed: only a guess at the next free position; the CAS checks it. */
    size_t pos = atomic_load_explicit(&rq->enqueue_pos, memory_order_relaxed);
    struct ring_cell *cell;
    for (;;) {
        cell = &rq->cells[pos & rq->mask];
        /* acquire: pairs with the consumer's release when it freed the
         * cell, so our write of item comes after its read. */
        size_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)seq - (intptr_t)pos;
        if (dif == 0) {
            /* seq_cst: the publication pb_idle_notify_sc relies on (a
             * consumer's empty poll reads enqueue_pos); on x86 a CAS costs
             * the same at any order. Failure: relaxed, we just retry. */
            if (atomic_compare_exchange_weak_explicit(&rq->enqueue_pos, &pos, pos + 1,
                                                      memory_order_seq_cst,
                                                      memory_order_relaxed))
                break;
        } else if (dif < 0) {
            return -EAGAIN; /* the cell still holds the item of pos - capacity: full */
        } else {
            /* Another producer took pos; catch up. */
            pos = atomic_load_explicit(&rq->enqueue_pos, memory_order_relaxed);
        }
    }
    cell->item = w;
    /* release: the consumer's acquire of seq sees item and w's contents. */
    atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
    pb_idle_notify_sc(&rq->waiter);
    return 0;
}

static struct pb_work *ring_poll(void *ctx)
{
    struct ring_queue *rq = ctx;
    size_t pos = rq->dequeue_pos;
    struct ring_cell *cell = &rq->cells[pos & rq->mask];
    unsigned spins = 0;
    /* acquire: pairs with the producer's release of seq: item is written. */
    while (atomic_load_explicit(&cell->seq, memory_order_acquire) != pos + 1) {
        /* relaxed: after the idle fence it sees any claim published
         * before (idle.h); otherwise just a hint that pos is coming. */
        if (atomic_load_explicit(&rq->enqueue_pos, memory_order_relaxed) == pos)
            return NULL; /* empty: nobody claimed pos yet */
        pb_cpu_relax(); /* claimed, not yet published: wait for it */
        if (++spins % 256 == 0)
            sched_yield();
    }
    struct pb_work *w = cell->item;
    rq->dequeue_pos = pos + 1;
    /* release: our read of item happens before the next producer's write. */
    atomic_store_explicit(&cell->seq, pos + rq->mask + 1, memory_order_release);
    return w;
}

/* While spinning: the next cell alone. NULL also when its item is claimed
 * but not yet published; the caller polls again, and parks only after the
 * strict ring_poll. Reading only the cell keeps the spinning consumer off
 * the producers' claim line, which each of their CASes would otherwise
 * have to take back from it: one transfer less per item when the worker
 * keeps up. */
static struct pb_work *ring_spin_poll(void *ctx)
{
    struct ring_queue *rq = ctx;
    size_t pos = rq->dequeue_pos;
    struct ring_cell *cell = &rq->cells[pos & rq->mask];
    /* acquire: pairs with the producer's release of seq: item is written. */
    if (atomic_load_explicit(&cell->seq, memory_order_acquire) != pos + 1)
        return NULL;
    struct pb_work *w = cell->item;
    rq->dequeue_pos = pos + 1;
    /* release: our read of item happens before the next producer's write. */
    atomic_store_explicit(&cell->seq, pos + rq->mask + 1, memory_order_release);
    return w;
}

static struct pb_work *ring_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct ring_queue *rq = q->qs[qi];
    return wait ? pb_idle_wait_spin(&rq->waiter, ring_spin_poll, ring_poll, rq) : ring_poll(rq);
}

static void ring_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i]->waiter);
}

const struct pb_queue_ops pb_queue_percpu_ring = {
    .name = "percpu-ring",
    .description = "bounded ring per CPU (Vyukov, sequence per cell), futex idle",
    .flags = PB_BOUNDED | PB_FIFO_PER_PRODUCER | PB_IN_SUITE,
    .init = ring_init,
    .fini = ring_fini,
    .enqueue = ring_enqueue,
    .dequeue = ring_dequeue,
    .shutdown = ring_shutdown,
};
