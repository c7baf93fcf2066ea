/* queue `percpu-steal`: per queue index an intrusive MPSC queue (Vyukov's,
 * as percpu-mpsc) whose consumer side is guarded by a small lock with a
 * trylock (by default `ttas-backoff`; any lock of the kind with
 * PB_LOCK_TRYLOCK: thieves only try it), so that a worker with nothing to
 * do can take work from another queue before it parks.
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
 * the waiter on its own line; the consumer lock's state with head and stub
 * right after it (pb_lock_block: the consumer's line for a small lock,
 * written by a thief only while it steals). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_lock_use.h"
#include "pb_spin.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

/* The consumer's side, under the pop lock (right after its state). */
struct steal_cons {
    struct pb_work *head;
    struct pb_work stub;
};

struct steal_prod {
    _Alignas(PB_CACHE_LINE) struct pb_work *_Atomic tail; /* producers exchange it */
    struct pb_idle_waiter waiter;                         /* its own line */
};

/* One queue, read-only after init. */
struct steal_queue {
    struct steal_prod *p;
    struct pb_lock_block pop_lock;  /* serializes pops: owner and thieves; state + cons */
    struct steal_cons *c;           /* = pop_lock.data */
};

struct pb_queue {
    unsigned nqueues;
    struct pb_mem_hooks mem;
    struct steal_queue qs[];        /* read-only after init */
};

extern const struct pb_queue_ops pb_queue_percpu_steal;

struct steal_ctx {
    struct pb_queue *q;
    unsigned qi;
};

/* Vyukov's pop (pb_spin.h). Caller holds pop_lock. */
static struct pb_work *sq_pop_locked(struct steal_queue *sq)
{
    return pb_mpsc_pop(&sq->p->tail, &sq->c->head, &sq->c->stub);
}

/* The holder sees the previous holder's head (the lock's acquire), and
 * its release publishes head to the next. */
static void pop_lock(struct steal_queue *sq, struct pb_lock_hold *h)
{
    pb_lock_block_acquire(&sq->pop_lock, h);
}

static bool pop_trylock(struct steal_queue *sq, struct pb_lock_hold *h)
{
    return pb_lock_try(sq->pop_lock.ops, sq->pop_lock.state, h);
}

static void pop_unlock(struct steal_queue *sq, struct pb_lock_hold *h)
{
    pb_lock_block_release(&sq->pop_lock, h);
}

/* No lock-free emptiness peek here: tail == stub is not "empty" (a thief
 * that put the stub back behind a node that a producer slipped in before
 * leaves head on that node), and head is only exact under the lock. The
 * owner's lock is its own line and uncontended, and the sleep re-check
 * (idle.h) needs the exact answer. */
static struct pb_work *pop_own(struct steal_queue *sq)
{
    struct pb_lock_hold hold;
    pop_lock(sq, &hold);
    struct pb_work *w = sq_pop_locked(sq);
    pop_unlock(sq, &hold);
    return w;
}

static struct pb_work *steal_one(struct pb_queue *q, unsigned qi)
{
    for (unsigned k = 1; k < q->nqueues; k++) {
        struct steal_queue *victim = &q->qs[(qi + k) % q->nqueues];
        /* relaxed probe, a hint only: tail == stub is usually empty, and
         * a queue skipped wrongly still has its owner. */
        if (atomic_load_explicit(&victim->p->tail, memory_order_relaxed) == &victim->c->stub)
            continue;
        struct pb_lock_hold hold;
        if (!pop_trylock(victim, &hold))
            continue; /* its owner or another thief is popping: move on */
        struct pb_work *w = sq_pop_locked(victim);
        pop_unlock(victim, &hold);
        if (w)
            return w;
    }
    return NULL;
}

static struct pb_work *steal_poll(void *ctx)
{
    struct steal_ctx *c = ctx;
    struct pb_work *w = pop_own(&c->q->qs[c->qi]);
    return w ? w : steal_one(c->q, c->qi);
}

static size_t steal_bytes(unsigned n)
{
    return sizeof(struct pb_queue) + n * sizeof(struct steal_queue);
}

static void steal_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++) {
        pb_lock_block_destroy(&q->qs[i].pop_lock);
        if (q->qs[i].p)
            pb_mem_free(&q->mem, q->qs[i].p, sizeof *q->qs[i].p);
    }
    pb_mem_free(NULL, q, steal_bytes(q->nqueues));
}

static int steal_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    /* Thieves try a victim's lock and move on: it needs a trylock. */
    const struct pb_lock_ops *lock = pb_lock_choose(cfg->lock, pb_queue_percpu_steal.lock);
    if (!pb_lock_fits(lock, pb_queue_percpu_steal.lock_needs))
        return -EINVAL;
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, steal_bytes(n));
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->mem = cfg->mem;
    struct pb_lock_config lc = pb_lock_config_of(cfg->ncpus ? cfg->ncpus : n, cfg->nnodes,
                                                 pb_queue_percpu_steal.flags, &cfg->mem);
    for (unsigned i = 0; i < n; i++) {
        struct steal_queue *sq = &q->qs[i];
        sq->p = pb_mem_alloc(&cfg->mem, i, sizeof *sq->p);
        int rc = sq->p ? pb_lock_block_create(&sq->pop_lock, lock, &lc, i,
                                              sizeof(struct steal_cons))
                       : -ENOMEM;
        if (rc != 0) {
            steal_fini(q);
            return rc;
        }
        sq->c = sq->pop_lock.data;
        pb_mpsc_init(&sq->p->tail, &sq->c->head, &sq->c->stub);
        pb_idle_init(&sq->p->waiter, cfg);
    }
    *qp = q;
    return 0;
}

static int steal_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct steal_prod *p = q->qs[qi].p;
    pb_mpsc_push(&p->tail, w);
    pb_idle_notify_sc(&p->waiter);
    return 0;
}

static struct pb_work *steal_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct steal_ctx c = { q, qi };
    return wait ? pb_idle_wait(&q->qs[qi].p->waiter, steal_poll, &c) : steal_poll(&c);
}

static void steal_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i].p->waiter);
}

const struct pb_queue_ops pb_queue_percpu_steal = {
    .name = "percpu-steal",
    .description = "MPSC queue per CPU, idle workers steal one item before parking",
    .flags = PB_STEALS | PB_IN_SUITE,
    .lock = "ttas-backoff",
    .lock_needs = PB_LOCK_TRYLOCK,
    .init = steal_init,
    .fini = steal_fini,
    .enqueue = steal_enqueue,
    .dequeue = steal_dequeue,
    .shutdown = steal_shutdown,
};
