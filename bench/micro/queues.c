/* pendbench-micro: every queue strategy of pb_queues[] (one op = one item
 * enqueued and dequeued), all producers into queue index 0, the consumer
 * polling it with wait = false under PB_IDLE_SPIN:
 *
 *   queue/S/enq_deq            one thread: enqueue then dequeue (the
 *                              uncontended floor of the strategy)
 *   queue/S/spsc/threads:2     thread 0 enqueues, thread 1 dequeues (pinned
 *                              to two CPUs)
 *   queue/S/mpsc/threads:3     threads 0 and 1 enqueue, thread 2 dequeues
 *
 * Items are allocated before the run (one cache line each, a fixed set per
 * producer) and recycled: a producer reuses an item once the consumer has
 * cleared its busy flag, which lives on the item's own line, a line the
 * queue moves between the two anyway.
 *
 * The pipelines also report the time an item spends in the queue (p50_ns,
 * p99_ns: enqueue to dequeue, TSC): every LATENCY_EVERY-th item of each
 * producer carries its enqueue time, the consumer records it (two
 * timestamps per LATENCY_EVERY items, the same cost for every queue). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"
#include "pb_hist.h"

#define ITEMS_PER_PRODUCER 1024u /* power of two; below every bounded default */
#define LATENCY_EVERY 16u

struct qitem {
    _Alignas(PB_CACHE_LINE) struct pb_work link;
    _Atomic uint32_t busy;         /* 1 from the producer's take to the consumer's dequeue */
    uint64_t t_enqueue;            /* TSC before the enqueue; 0: not timed (published by it) */
};

struct queue_ctx {
    const struct pb_queue_ops *ops;
    struct pb_queue *q;            /* thread 0's, for the run */
    struct qitem *items;           /* [producers * ITEMS_PER_PRODUCER] */
    size_t nitems;
    _Alignas(PB_CACHE_LINE) _Atomic bool abort;
};

static unsigned producers_of(gb_state *st)
{
    int t = gb_threads(st);
    return t > 1 ? (unsigned)t - 1 : 1;
}

static bool queue_setup(gb_state *st, struct queue_ctx *c)
{
    if (gb_thread_index(st) != 0)
        return true;
    atomic_store_explicit(&c->abort, false, memory_order_relaxed);
    c->q = NULL;
    c->nitems = (size_t)producers_of(st) * ITEMS_PER_PRODUCER;
    c->items = aligned_alloc(PB_CACHE_LINE, c->nitems * sizeof *c->items);
    if (!c->items) {
        micro_fail(st, &c->abort, "out of memory");
        return false;
    }
    for (size_t i = 0; i < c->nitems; i++) {
        atomic_init(&c->items[i].link.next, NULL);
        atomic_init(&c->items[i].busy, 0);
    }
    struct pb_queue_config cfg = {
        .nqueues = 1,
        .capacity = 0,
        .idle = PB_IDLE_SPIN,
    };
    int err = c->ops->init(&c->q, &cfg);
    if (err) {
        char msg[160];
        snprintf(msg, sizeof msg, "queue %s: init failed: %s", c->ops->name, strerror(-err));
        c->q = NULL;
        micro_fail(st, &c->abort, msg);
        return false;
    }
    return true;
}

static void queue_teardown(gb_state *st, struct queue_ctx *c)
{
    if (gb_thread_index(st) != 0)
        return;
    if (c->q) {
        /* A failed run may leave items queued: take them out first, so that
         * fini never sees a non-empty queue. */
        while (c->ops->dequeue(c->q, 0, false))
            ;
        c->ops->fini(c->q);
        c->q = NULL;
    }
    free(c->items);
    c->items = NULL;
}

static void bm_enq_deq(gb_state *st)
{
    struct queue_ctx *c = gb_user_arg(st);
    const struct pb_queue_ops *ops = c->ops;
    queue_setup(st, c);
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        struct pb_queue *q = c->q;
        struct pb_work *w = &c->items[0].link;
        for (uint64_t i = 0; i < n; i++) {
            if (ops->enqueue(q, 0, w) != 0) {
                micro_fail(st, &c->abort, "enqueue into an empty queue failed");
                break;
            }
            struct pb_work *got = ops->dequeue(q, 0, false);
            if (got != w) {
                micro_fail(st, &c->abort, "dequeue did not return the item just enqueued");
                break;
            }
        }
    }
    queue_teardown(st, c);
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

/* n items from producer p, recycling its own set. */
static bool produce(gb_state *st, struct queue_ctx *c, unsigned p, uint64_t n, uint64_t *seq)
{
    const struct pb_queue_ops *ops = c->ops;
    struct pb_queue *q = c->q;
    struct qitem *mine = &c->items[(size_t)p * ITEMS_PER_PRODUCER];
    for (uint64_t i = 0; i < n; i++) {
        struct qitem *it = &mine[(*seq)++ % ITEMS_PER_PRODUCER];
        unsigned spins = 0;
        /* acquire: the consumer is done with the item (pairs with its
         * release of busy). */
        while (atomic_load_explicit(&it->busy, memory_order_acquire)) {
            if (!micro_spin_or_abort(&spins, &c->abort))
                goto peer_failed;
        }
        atomic_store_explicit(&it->busy, 1, memory_order_relaxed); /* published by the enqueue */
        it->t_enqueue = *seq % LATENCY_EVERY == 0 ? pb_tsc_now() : 0;
        int rc;
        spins = 0;
        while ((rc = ops->enqueue(q, 0, &it->link)) == -EAGAIN) {
            if (!micro_spin_or_abort(&spins, &c->abort))
                goto peer_failed;
        }
        if (rc != 0) {
            micro_fail(st, &c->abort, "enqueue failed");
            return false;
        }
    }
    return true;
peer_failed:
    gb_skip_with_error(st, "another thread of this benchmark failed");
    return false;
}

/* n rounds of one item per producer. */
static bool consume(gb_state *st, struct queue_ctx *c, unsigned producers, uint64_t n,
                    uint64_t *items, struct pb_hist *lat, const struct pb_tick_scale *scale)
{
    const struct pb_queue_ops *ops = c->ops;
    struct pb_queue *q = c->q;
    for (uint64_t i = 0; i < n; i++) {
        for (unsigned k = 0; k < producers; k++) {
            struct pb_work *w;
            unsigned spins = 0;
            while (!(w = ops->dequeue(q, 0, false))) {
                if (!micro_spin_or_abort(&spins, &c->abort)) {
                    gb_skip_with_error(st, "another thread of this benchmark failed");
                    return false;
                }
            }
            struct qitem *it = (struct qitem *)((char *)w - offsetof(struct qitem, link));
            if (it->t_enqueue) {
                uint64_t now = pb_tsc_now();
                pb_hist_record(lat, now > it->t_enqueue
                                        ? pb_ticks_to_ns(scale, now - it->t_enqueue) : 0);
            }
            /* release: our reads of the item happen before its reuse. */
            atomic_store_explicit(&it->busy, 0, memory_order_release);
        }
        *items += producers;
    }
    return true;
}

static void bm_pipeline(gb_state *st)
{
    struct queue_ctx *c = gb_user_arg(st);
    int t = gb_thread_index(st);
    unsigned producers = producers_of(st);
    bool consumer = (unsigned)t == producers;
    struct micro_affinity aff = { .pinned = false };
    if (gb_threads(st) == 2)
        micro_pin((unsigned)t, &aff);
    struct micro_clock clk = { .started = false };
    queue_setup(st, c);
    uint64_t n, seq = 0, items = 0;
    bool ok = true;
    struct pb_hist *lat = consumer ? malloc(sizeof *lat) : NULL;
    struct pb_tick_scale scale;
    if (consumer) {
        pb_tick_scale_init(&scale, pb_tsc_ticks_per_ns());
        if (lat)
            pb_hist_init(lat);
        else
            micro_fail(st, &c->abort, "out of memory");
    }
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        if (!ok || !micro_peers_ok(st, &c->abort)) {
            ok = false;
            continue;
        }
        ok = consumer ? consume(st, c, producers, n, &items, lat, &scale)
                      : produce(st, c, (unsigned)t, n, &seq);
    }
    micro_unpin(&aff);
    queue_teardown(st, c);
    if (consumer) {
        micro_report(st, (double)items, &clk, false);
        if (lat && lat->count) {
            gb_counter_set(st, "p50_ns", (double)pb_hist_percentile(lat, 50), GB_COUNTER_DEFAULT);
            gb_counter_set(st, "p99_ns", (double)pb_hist_percentile(lat, 99), GB_COUNTER_DEFAULT);
        }
    }
    free(lat);
}

static struct queue_ctx *new_ctx(const struct pb_queue_ops *ops)
{
    struct queue_ctx *c = micro_ctx_new(sizeof *c);
    c->ops = ops;
    atomic_init(&c->abort, false);
    return c;
}

/* The queue's benchmarks (a built-in's, or a plugin's: `--plugin ./x.so`). */
void micro_register_queue(const struct pb_queue_ops *ops)
{
    const char *s = ops->name;
    gb_register_with_arg(micro_name("queue", s, "enq_deq"), bm_enq_deq, new_ctx(ops));
    gb_benchmark *b;
    b = gb_register_with_arg(micro_name("queue", s, "spsc"), bm_pipeline, new_ctx(ops));
    gb_set_threads(b, 2);
    b = gb_register_with_arg(micro_name("queue", s, "mpsc"), bm_pipeline, new_ctx(ops));
    gb_set_threads(b, 3);
}

void micro_register_queues(void)
{
    for (size_t i = 0; pb_queues[i]; i++)
        micro_register_queue(pb_queues[i]);
}
