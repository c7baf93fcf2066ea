/* queue `percpu-steal`: per queue index an intrusive MPSC queue (Vyukov's,
 * as percpu-mpsc) whose consumer side is guarded by a small try-lock, so
 * that a worker with nothing to do can take work from another queue
 * before it parks.
 *
 * Steal policy: one item at a time, taken from the first non-empty victim
 * in the order qi+1, qi+2, ... (wrapping), and run by the thief directly.
 * Not half: a half-steal would move a batch into the thief's own queue,
 * delaying what its own producers send behind stolen work and making the
 * reordering worse; one-at-a-time costs a remote lock per stolen item,
 * which is paid only by an idle worker. A victim is probed with one
 * relaxed load of its tail (tail == stub: probably empty; a wrong guess
 * only skips a steal, the owner still pops it), so idle thieves do not
 * write lines of empty queues.
 *
 * Concurrency: enqueue(qi) from any thread (wait-free: one exchange, one
 * store). dequeue(qi) from any thread: it pops qi's own queue first, then
 * tries to steal (with wait = false too: a polling worker is idle when its
 * queue is empty). Each queue's pops are serialized by its consumer lock:
 * its owner takes it on every pop (uncontended unless a thief is in the
 * middle of one pop), thieves only try it. Every item is popped exactly
 * once: only the lock holder moves a queue's head, and an item is handed
 * out only after its successor's link is in place (see percpu-mpsc).
 *
 * Order: each queue pops in FIFO order, but a stolen item runs on another
 * worker, concurrently with or before its predecessors from the same
 * producer; one worker can also see a producer's items from two queues
 * interleaved. So it is not PB_FIFO_PER_PRODUCER (it PB_STEALS).
 *
 * Idle/wake: pb_idle_wait / pb_idle_notify_sc on qi's own waiter (the
 * tail exchange is seq_cst and an empty own-queue poll reads the tail
 * after the consumer's fence: idle.h). A producer wakes only the owner of
 * the queue it fills: parked workers are not woken to steal.
 *
 * Layout (pb_mem_alloc on qi's CPU): tail alone on the producers' line;
 * consumer lock, head and stub on the consumer's line (written by a thief
 * only while it steals); the waiter on its own line. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_spin.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

struct steal_queue {
    _Alignas(PB_CACHE_LINE) struct pb_work *_Atomic tail; /* producers exchange it */
    _Alignas(PB_CACHE_LINE) pb_spinlock pop_lock;         /* serializes pops: owner and thieves */
    struct pb_work *head;                                 /* under pop_lock */
    struct pb_work stub;
    struct pb_idle_waiter waiter;
};

struct pb_queue {
    unsigned nqueues;
    struct pb_mem_hooks mem;
    struct steal_queue *qs[];       /* read-only after init */
};

struct steal_ctx {
    struct pb_queue *q;
    unsigned qi;
};

/* Vyukov's pop (pb_spin.h). Caller holds pop_lock. */
static struct pb_work *sq_pop_locked(struct steal_queue *sq)
{
    return pb_mpsc_pop(&sq->tail, &sq->head, &sq->stub);
}

static void pop_lock(struct steal_queue *sq)
{
    /* The holder sees the previous holder's head (acquire). */
    pb_spin_lock(&sq->pop_lock, true);
}

static bool pop_trylock(struct steal_queue *sq)
{
    return pb_spin_trylock(&sq->pop_lock);
}

static void pop_unlock(struct steal_queue *sq)
{
    pb_spin_unlock(&sq->pop_lock);      /* publishes head */
}

/* No lock-free emptiness peek here: tail == stub is not "empty" (a thief
 * that put the stub back behind a node that a producer slipped in before
 * leaves head on that node), and head is only exact under the lock. The
 * owner's lock is its own line and uncontended, and the sleep re-check
 * (idle.h) needs the exact answer. */
static struct pb_work *pop_own(struct steal_queue *sq)
{
    pop_lock(sq);
    struct pb_work *w = sq_pop_locked(sq);
    pop_unlock(sq);
    return w;
}

static struct pb_work *steal_one(struct pb_queue *q, unsigned qi)
{
    for (unsigned k = 1; k < q->nqueues; k++) {
        struct steal_queue *victim = q->qs[(qi + k) % q->nqueues];
        /* relaxed probe, a hint only: tail == stub is usually empty, and
         * a queue skipped wrongly still has its owner. */
        if (atomic_load_explicit(&victim->tail, memory_order_relaxed) == &victim->stub)
            continue;
        if (!pop_trylock(victim))
            continue; /* its owner or another thief is popping: move on */
        struct pb_work *w = sq_pop_locked(victim);
        pop_unlock(victim);
        if (w)
            return w;
    }
    return NULL;
}

static struct pb_work *steal_poll(void *ctx)
{
    struct steal_ctx *c = ctx;
    struct pb_work *w = pop_own(c->q->qs[c->qi]);
    return w ? w : steal_one(c->q, c->qi);
}

static void steal_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_mem_free(&q->mem, q->qs[i], sizeof *q->qs[i]);
    pb_mem_free(NULL, q, sizeof *q + q->nqueues * sizeof q->qs[0]);
}

static int steal_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q + n * sizeof q->qs[0]);
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->mem = cfg->mem;
    for (unsigned i = 0; i < n; i++) {
        struct steal_queue *sq = pb_mem_alloc(&cfg->mem, i, sizeof *sq);
        if (!sq) {
            steal_fini(q);
            return -ENOMEM;
        }
        pb_mpsc_init(&sq->tail, &sq->head, &sq->stub);
        atomic_init(&sq->pop_lock, 0);
        pb_idle_init(&sq->waiter, cfg);
        q->qs[i] = sq;
    }
    *qp = q;
    return 0;
}

static int steal_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct steal_queue *sq = q->qs[qi];
    pb_mpsc_push(&sq->tail, w);
    pb_idle_notify_sc(&sq->waiter);
    return 0;
}

static struct pb_work *steal_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct steal_ctx c = { q, qi };
    return wait ? pb_idle_wait(&q->qs[qi]->waiter, steal_poll, &c) : steal_poll(&c);
}

static void steal_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i]->waiter);
}

const struct pb_queue_ops pb_queue_percpu_steal = {
    .name = "percpu-steal",
    .description = "MPSC queue per CPU, idle workers steal one item before parking",
    .flags = PB_STEALS | PB_IN_SUITE,
    .init = steal_init,
    .fini = steal_fini,
    .enqueue = steal_enqueue,
    .dequeue = steal_dequeue,
    .shutdown = steal_shutdown,
};
