/* queue `percpu-lanes`: per queue index, one bounded single-producer lane
 * per producer thread. An item costs each side plain loads and stores, no
 * locked read-modify-write, and per item only the producer writes a line
 * the other side reads: the slot. Where percpu-mpsc's producers exchange
 * one tail and its worker exchanges the stub back into the same line (the
 * line moves twice per item, and each exchange waits for it), here the
 * slot's line moves once, to the worker that polls it.
 *
 * A slot says by itself whether it holds the worker's next item, as in
 * FastForward (Giacomoni, Moseley and Vachharajani, PPoPP 2008), so the
 * idle worker polls the slot, not an index the producer would have to
 * write as well. FastForward's worker stores NULL back into every slot it
 * takes, a write into the line the producer fills next; here the slot
 * holds the item's address tagged with its lap's parity (bit 0: items are
 * at least pointer-aligned), and a slot whose parity is not the worker's
 * lap is empty, so the worker writes nothing into the slots. The producer
 * learns that a slot is free from the worker's position, published on the
 * lane's worker line and read only when the producer's cached copy of it
 * says the lane is full (once per `capacity` items when the worker keeps
 * up), as in Lamport's queue with cached indexes.
 *
 * Producers: a thread's lane is its producer id, taken on its first
 * enqueue from a process-wide set of PB_LANES ids and given back when the
 * thread exits (a pthread key's destructor), so the lanes are reused by
 * the threads of later runs. A thread that finds every id taken uses the
 * queue's overflow, an intrusive MPSC list (the one body in pb_spin.h),
 * for its whole life: its items keep their order either way.
 *
 * Capacity: cfg->capacity (default 256, at most 65536) per lane, rounded
 * up to a power of two of at least 8. A full lane makes enqueue return -EAGAIN without
 * taking the item. A slot is a whole line: while items queue up, the
 * worker reads slots the producer has left, never the line it fills next
 * (with eight slots to a line, the two fought over it for every item).
 * A lane's slots are allocated on its first use, on qi's
 * CPU's node, so memory follows the producers a run has, not PB_LANES. The
 * overflow is unbounded.
 *
 * Concurrency: enqueue(qi) from any number of threads (wait-free on a
 * lane; a producer's first enqueue into qi allocates its lane and sets its
 * bit in `active`, one RMW per producer and queue). dequeue(qi) from ONE
 * thread at a time (qi's worker). FIFO per producer; between producers the
 * worker takes one item per active lane in turn (round robin).
 *
 * Idle/wake: pb_idle_wait_spin / pb_idle_notify on qi's waiter. The
 * publication is a plain release store, so the producer pays the fence of
 * pb_idle_notify, which a worker that never parks (PB_IDLE_SPIN) does not
 * need (idle.h). The poll before parking reads `active` and every active
 * lane's next slot after the consumer's fence.
 *
 * Layout: `active` and the lanes' addresses (read-mostly) on their own
 * lines; the overflow's tail and stub on the producers' line; the
 * worker's overflow head on its own line; the waiter on its own. A lane
 * is one allocation on qi's node: the producer's positions on the first
 * line, the worker's on the second, then the slots, which are the
 * handoff. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "idle.h"
#include "pb_spin.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

#define PB_LANES 63u                  /* lanes per queue; bit PB_LANES of active: the overflow */
#define LANE_OVERFLOW PB_LANES
#define LANE_DEFAULT_CAPACITY 256u
#define LANE_MIN_CAPACITY 8u          /* a floor, so a lane takes a small burst */
/* A slot is a line: 65536 of them are 4 MiB per producer and queue. */
#define LANE_MAX_CAPACITY ((size_t)1 << 16)

struct lane_slot {
    _Alignas(PB_CACHE_LINE) _Atomic uintptr_t v;
};

struct lane {
    /* The producer's: its next slot, and the worker's position as it last
     * read it. Written by the producer only. */
    _Alignas(PB_CACHE_LINE) size_t tail;
    size_t head_seen;
    /* The worker's next slot: written by the worker (its own line), read
     * by the producer only when head_seen says the lane is full. */
    _Alignas(PB_CACHE_LINE) _Atomic size_t head;
    /* The item of position p: its address | parity of p's lap; 0: none yet. */
    struct lane_slot slots[];
};

_Static_assert(offsetof(struct lane, head) == PB_CACHE_LINE &&
                   offsetof(struct lane, slots) == 2 * PB_CACHE_LINE,
               "the producer's positions, the worker's and the slots: a line each at least");

struct lanes_queue {
    /* Read by both sides every poll, written once per producer: stays
     * shared in every cache. Bit k: lane k holds items or did. */
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t active;
    struct lane *_Atomic lanes[PB_LANES]; /* set before the lane's bit */
    /* The overflow's tail and stub: one line, as in percpu-mpsc. */
    _Alignas(PB_CACHE_LINE) struct pb_work *_Atomic of_tail;
    struct pb_work of_stub;
    /* The worker's: the overflow's head, and which lane it serves next. */
    _Alignas(PB_CACHE_LINE) struct pb_work *of_head;
    unsigned next_lane;
    unsigned spin_lane;             /* the lane the spinning poll reads next */
    struct pb_idle_waiter waiter;
};

_Static_assert(offsetof(struct lanes_queue, of_tail) / PB_CACHE_LINE !=
                   offsetof(struct lanes_queue, active) / PB_CACHE_LINE,
               "the overflow's producers do not write the read-mostly line");
_Static_assert(offsetof(struct lanes_queue, of_stub) / PB_CACHE_LINE ==
                   offsetof(struct lanes_queue, of_tail) / PB_CACHE_LINE,
               "the overflow's stub shares its tail's line");
_Static_assert(offsetof(struct lanes_queue, of_head) / PB_CACHE_LINE !=
                   offsetof(struct lanes_queue, of_tail) / PB_CACHE_LINE,
               "the worker's positions are off the producers' line");
_Static_assert(PB_LANES < 64, "active has a bit per lane and one for the overflow");

struct pb_queue {
    unsigned nqueues;
    size_t capacity;               /* slots per lane: a power of two */
    struct pb_mem_hooks mem;
    struct lanes_queue *qs[];      /* read-only after init */
};

/* ---- producer ids ------------------------------------------------------ */

/* Bit k: a live thread holds producer id k. */
static _Atomic uint64_t lane_ids_taken;
/* The calling thread's id + 1; 0: none yet. LANE_OVERFLOW + 1: none was
 * free, the thread uses the overflows for its whole life. */
static _Thread_local unsigned lane_id_plus1;
static pthread_key_t lane_id_key;
static pthread_once_t lane_id_once = PTHREAD_ONCE_INIT;
static bool lane_id_key_ok;

static void lane_id_give_back(void *v)
{
    unsigned id = (unsigned)(uintptr_t)v - 1;
    /* release: the next owner of the id (its acquire in lane_id_take)
     * sees this thread's last lane positions. */
    atomic_fetch_and_explicit(&lane_ids_taken, ~((uint64_t)1 << id), memory_order_release);
    /* Runs in the exiting thread: should a later destructor of it enqueue
     * again, it takes an id anew instead of writing a lane it gave back. */
    lane_id_plus1 = 0;
}

static void lane_id_key_create(void)
{
    lane_id_key_ok = pthread_key_create(&lane_id_key, lane_id_give_back) == 0;
}

static unsigned lane_id_take(void)
{
    pthread_once(&lane_id_once, lane_id_key_create);
    unsigned id = LANE_OVERFLOW;
    /* Without the key an id could not be given back at exit: the
     * overflow, which needs none. */
    if (lane_id_key_ok) {
        /* relaxed: a guess; the CAS checks it. */
        uint64_t taken = atomic_load_explicit(&lane_ids_taken, memory_order_relaxed);
        uint64_t all = ((uint64_t)1 << PB_LANES) - 1;
        while ((taken & all) != all) {
            unsigned k = (unsigned)__builtin_ctzll(~taken);
            /* acquire: pairs with the previous owner's give-back, so its
             * lane positions are ours to continue from. */
            if (atomic_compare_exchange_weak_explicit(&lane_ids_taken, &taken,
                                                      taken | ((uint64_t)1 << k),
                                                      memory_order_acquire,
                                                      memory_order_relaxed)) {
                if (pthread_setspecific(lane_id_key, (void *)(uintptr_t)(k + 1)) == 0) {
                    id = k;
                } else {
                    lane_id_give_back((void *)(uintptr_t)(k + 1));
                }
                break;
            }
        }
    }
    lane_id_plus1 = id + 1;
    return id;
}

static inline unsigned lane_id(void)
{
    unsigned p = lane_id_plus1;
    return p ? p - 1 : lane_id_take();
}

/* ---- the queue --------------------------------------------------------- */

static size_t lane_bytes(size_t capacity)
{
    return sizeof(struct lane) + capacity * sizeof(struct lane_slot);
}

static void lanes_fini(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++) {
        struct lanes_queue *lq = q->qs[i];
        if (!lq)
            continue;
        for (unsigned k = 0; k < PB_LANES; k++) {
            /* relaxed: fini runs after every producer and consumer joined. */
            struct lane *l = atomic_load_explicit(&lq->lanes[k], memory_order_relaxed);
            if (l)
                pb_mem_free(&q->mem, l, lane_bytes(q->capacity));
        }
        pb_mem_free(&q->mem, lq, sizeof *lq);
    }
    pb_mem_free(NULL, q, sizeof *q + q->nqueues * sizeof q->qs[0]);
}

static int lanes_init(struct pb_queue **qp, const struct pb_queue_config *cfg)
{
    unsigned n = cfg->nqueues ? cfg->nqueues : 1;
    if (cfg->capacity > LANE_MAX_CAPACITY)
        return -ERANGE;
    size_t cap = cfg->capacity ? cfg->capacity : LANE_DEFAULT_CAPACITY;
    size_t p = LANE_MIN_CAPACITY;
    while (p < cap)
        p <<= 1;
    /* Read by every CPU, written by none: its own lines, no NUMA binding. */
    struct pb_queue *q = pb_mem_alloc(NULL, 0, sizeof *q + n * sizeof q->qs[0]);
    if (!q)
        return -ENOMEM;
    q->nqueues = n;
    q->capacity = p;
    q->mem = cfg->mem;
    for (unsigned i = 0; i < n; i++) {
        struct lanes_queue *lq = pb_mem_alloc(&cfg->mem, i, sizeof *lq);
        if (!lq) {
            lanes_fini(q);
            return -ENOMEM;
        }
        q->qs[i] = lq;
        atomic_init(&lq->active, 0);
        for (unsigned k = 0; k < PB_LANES; k++)
            atomic_init(&lq->lanes[k], NULL);
        pb_mpsc_init(&lq->of_tail, &lq->of_head, &lq->of_stub);
        lq->next_lane = 0;
        lq->spin_lane = 0;
        pb_idle_init(&lq->waiter, cfg);
    }
    *qp = q;
    return 0;
}

/* The calling producer's lane of qi, allocated and announced on its first
 * enqueue there; NULL when it cannot be allocated. */
static struct lane *lane_of(struct pb_queue *q, unsigned qi, struct lanes_queue *lq, unsigned id)
{
    /* relaxed: only this id's owners write it, and a previous owner's
     * store is ordered before us by the id's give-back and take. */
    struct lane *l = atomic_load_explicit(&lq->lanes[id], memory_order_relaxed);
    if (l)
        return l;
    l = pb_mem_alloc(&q->mem, qi, lane_bytes(q->capacity));
    if (!l)
        return NULL;
    l->tail = 0;
    l->head_seen = 0;
    atomic_init(&l->head, 0);
    for (size_t s = 0; s < q->capacity; s++)
        atomic_init(&l->slots[s].v, 0);
    /* relaxed: the release of the bit below publishes it. */
    atomic_store_explicit(&lq->lanes[id], l, memory_order_relaxed);
    /* seq_cst: the worker's acquire of active sees the lane's address and
     * its empty slots; seq_cst, for the poll before parking (idle.h). */
    atomic_fetch_or_explicit(&lq->active, (uint64_t)1 << id, memory_order_seq_cst);
    return l;
}

/* The slot's value for item w at position p: its address with the parity
 * of p's lap (capacity is a power of two) in bit 0. */
static inline uintptr_t lane_tag(const struct pb_queue *q, struct pb_work *w, size_t p)
{
    return (uintptr_t)w | ((p & q->capacity) != 0);
}

static int lanes_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    struct lanes_queue *lq = q->qs[qi];
    _Static_assert(_Alignof(struct pb_work) >= 2, "bit 0 of an item's address is free");
    unsigned id = lane_id();
    if (id == LANE_OVERFLOW) {
        /* relaxed: only a check whether the bit is set yet. */
        if (!(atomic_load_explicit(&lq->active, memory_order_relaxed) & ((uint64_t)1 << id)))
            atomic_fetch_or_explicit(&lq->active, (uint64_t)1 << id, memory_order_seq_cst);
        pb_mpsc_push(&lq->of_tail, w);
        pb_idle_notify_sc(&lq->waiter);
        return 0;
    }
    struct lane *l = lane_of(q, qi, lq, id);
    if (!l)
        return -EAGAIN; /* no memory for the lane now: the item is not taken */
    size_t t = l->tail;
    if (t - l->head_seen >= q->capacity) {
        /* acquire: pairs with the worker's release of head, so its read of
         * the item we overwrite happened before our store. */
        l->head_seen = atomic_load_explicit(&l->head, memory_order_acquire);
        if (t - l->head_seen >= q->capacity)
            return -EAGAIN; /* full: the worker has not taken t - capacity yet */
    }
    /* release: the worker's acquire of the slot sees w's contents. */
    atomic_store_explicit(&l->slots[t & (q->capacity - 1)].v, lane_tag(q, w, t),
                          memory_order_release);
    l->tail = t + 1;
    pb_idle_notify(&lq->waiter);
    return 0;
}

/* Takes lane k's next item, if it has one (the worker's side). */
static struct pb_work *lane_take(struct pb_queue *q, struct lanes_queue *lq, unsigned k)
{
    if (k == LANE_OVERFLOW)
        return pb_mpsc_pop(&lq->of_tail, &lq->of_head, &lq->of_stub);
    /* relaxed: the caller's acquire of active ordered the lane's setup. */
    struct lane *l = atomic_load_explicit(&lq->lanes[k], memory_order_relaxed);
    /* relaxed: the worker is its only writer. */
    size_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
    /* acquire: pairs with the producer's release: w's contents. The slot
     * holds h's item, or h - capacity's (the other parity), or nothing
     * yet (0): the producer writes every position in order and is never
     * more than capacity ahead. */
    uintptr_t v = atomic_load_explicit(&l->slots[h & (q->capacity - 1)].v, memory_order_acquire);
    if (v == 0 || (v & 1) != ((h & q->capacity) != 0))
        return NULL;
    /* release: our read of the slot happens before the producer's reuse of
     * it (its acquire of head). A plain store on the worker's own line. */
    atomic_store_explicit(&l->head, h + 1, memory_order_release);
    return (struct pb_work *)(v & ~(uintptr_t)1);
}

struct lanes_poll_ctx {
    struct pb_queue *q;
    struct lanes_queue *lq;
};

/* One item from the first active lane, starting at next_lane and going
 * round; NULL when every active lane is empty. Reads with acquire, so it
 * is also the poll after the idle fence (C4). */
static struct pb_work *lanes_poll(void *ctx)
{
    struct lanes_poll_ctx *c = ctx;
    struct lanes_queue *lq = c->lq;
    /* acquire: pairs with a producer's fetch_or: its lane is set up. */
    uint64_t act = atomic_load_explicit(&lq->active, memory_order_acquire);
    unsigned from = lq->next_lane;
    uint64_t later = act & (~(uint64_t)0 << from);   /* from < 64 */
    uint64_t sets[2] = { later, act & ~later };
    for (int s = 0; s < 2; s++) {
        for (uint64_t rest = sets[s]; rest; rest &= rest - 1) {
            unsigned k = (unsigned)__builtin_ctzll(rest);
            struct pb_work *w = lane_take(c->q, lq, k);
            if (w) {
                lq->next_lane = k + 1 > LANE_OVERFLOW ? 0 : k + 1;
                return w;
            }
        }
    }
    return NULL;
}

/* While spinning: one active lane per poll, in turn, so an idle worker
 * reads one slot's line per poll however many lanes are active. */
static struct pb_work *lanes_spin_poll(void *ctx)
{
    struct lanes_poll_ctx *c = ctx;
    struct lanes_queue *lq = c->lq;
    /* acquire: pairs with a producer's fetch_or: its lane is set up. */
    uint64_t act = atomic_load_explicit(&lq->active, memory_order_acquire);
    if (!act)
        return NULL;
    unsigned last = lq->spin_lane;
    uint64_t later = act & (~(uint64_t)0 << last);   /* last < 64 */
    unsigned k = (unsigned)__builtin_ctzll(later ? later : act);
    struct pb_work *w = lane_take(c->q, lq, k);
    /* The next active lane next time, item or not: a producer that keeps
     * its lane full cannot hold the others back. */
    lq->spin_lane = k + 1 > LANE_OVERFLOW ? 0 : k + 1;
    return w;
}

static struct pb_work *lanes_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    struct lanes_poll_ctx c = { q, q->qs[qi] };
    return wait ? pb_idle_wait_spin(&c.lq->waiter, lanes_spin_poll, lanes_poll, &c)
                : lanes_poll(&c);
}

static void lanes_shutdown(struct pb_queue *q)
{
    for (unsigned i = 0; i < q->nqueues; i++)
        pb_idle_shutdown(&q->qs[i]->waiter);
}

const struct pb_queue_ops pb_queue_percpu_lanes = {
    .name = "percpu-lanes",
    .description = "per CPU, a bounded single-producer lane per producer thread "
                   "(lap-tagged slots: no locked RMW per item), futex idle",
    .flags = PB_BOUNDED | PB_FIFO_PER_PRODUCER | PB_IN_SUITE,
    .init = lanes_init,
    .fini = lanes_fini,
    .enqueue = lanes_enqueue,
    .dequeue = lanes_dequeue,
    .shutdown = lanes_shutdown,
};
