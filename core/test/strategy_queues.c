/* Tests for every registered deferred-queue strategy (pb_queues[]) under
 * every idle policy: order, empty polls, bounded rings, shutdown and
 * wake-ups, and a multi-producer run that checks every item comes out
 * exactly once (and in order per producer where the strategy promises
 * it). New strategies are picked up from the registry. A lock-based queue
 * runs them under its default lock and again (queue_lock) under every
 * other registered lock that fits it; one that does not fit is refused. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_strategy.h"

#define SQ_NQUEUES 2
#define SQ_MAX_QUEUES 32

static const pb_idle_policy sq_policies[] = { PB_IDLE_SPIN, PB_IDLE_SPIN_PARK, PB_IDLE_PARK };
static const char *const sq_policy_names[] = { "spin", "spin-park", "park" };
#define SQ_NPOLICIES (sizeof sq_policies / sizeof sq_policies[0])

struct sq_item {
    struct pb_work work;            /* first: the queue hands back &work */
    unsigned producer;
    unsigned qi;
    uint64_t seq;
    _Atomic int taken;
};

static struct sq_item *sq_of(struct pb_work *w)
{
    return (struct sq_item *)(void *)w;
}

static double sq_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sq_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

#include "strategy_common.h"

static bool sq_is_bounded(const struct pb_queue_ops *ops)
{
    return (ops->flags & PB_BOUNDED) != 0;
}

/* Strategies whose worker of qi may get items enqueued on another qi. */
static bool sq_crosses_queues(const struct pb_queue_ops *ops)
{
    return (ops->flags & (PB_SHARED | PB_STEALS)) != 0;
}

/* The lock the queues under test take: NULL (their defaults) but in the
 * queue_lock tests, which set it first (each test runs in its own process). */
static const struct pb_lock_ops *sq_lock;
/* The idle consumers' yield_every: 0 but in the queue_mp runs that set it
 * (consumers sharing CPUs with their producers, as 5 threads on 2 do). */
static unsigned sq_yield_every;

static struct pb_queue *sq_make(const struct pb_queue_ops *ops, pb_idle_policy idle, size_t capacity)
{
    struct pb_queue_config cfg = {
        .nqueues = SQ_NQUEUES,
        .capacity = capacity,
        .idle = idle,
        .spin_iterations = 200,     /* park soon: exercise the futex path */
        .yield_every = sq_yield_every,
        .lock = sq_lock,
    };
    struct pb_queue *q = NULL;
    int rc = ops->init(&q, &cfg);
    skip_if_unavailable(ops->name, ops->flags, rc);
    cr_assert_eq(rc, 0, "%s: init failed: %d", ops->name, rc);
    cr_assert_not_null(q);
    return q;
}

/* ---- single thread --------------------------------------------------- */

/* Every registered queue is complete and findable by its name, and the
 * suite has exactly one baseline to measure the others against. */
Test(queue_basic, registry_complete)
{
    unsigned n = 0, baselines = 0;
    for (size_t i = 0; pb_queues[i]; i++, n++) {
        const struct pb_queue_ops *ops = pb_queues[i];
        cr_assert_not_null(ops->name);
        cr_assert_eq(pb_queue_find(ops->name), ops, "%s is not found by its name", ops->name);
        cr_assert_not_null(ops->init, "%s", ops->name);
        cr_assert_not_null(ops->fini, "%s", ops->name);
        cr_assert_not_null(ops->enqueue, "%s", ops->name);
        cr_assert_not_null(ops->dequeue, "%s", ops->name);
        cr_assert_not_null(ops->shutdown, "%s", ops->name);
        cr_expect(!(ops->flags & PB_SHARED) || !(ops->flags & PB_STEALS),
                  "%s: one shared queue has nothing to steal from", ops->name);
        baselines += (ops->flags & PB_BASELINE) && (ops->flags & PB_IN_SUITE);
    }
    cr_expect_geq(n, 2, "a registry of queues to compare");
    cr_expect_eq(baselines, 1, "one baseline of the suite's queue group");
    cr_assert_null(pb_queue_find("no-such-queue"));
}

Test(queue_basic, empty_poll_returns_null)
{
    for (size_t s = 0; pb_queues[s]; s++) {
        const struct pb_queue_ops *ops = pb_queues[s];
        for (size_t p = 0; p < SQ_NPOLICIES; p++) {
            struct pb_queue *q = sq_make(ops, sq_policies[p], 0);
            for (unsigned qi = 0; qi < SQ_NQUEUES; qi++)
                cr_assert_null(ops->dequeue(q, qi, false), "%s/%s: qi %u not empty",
                               ops->name, sq_policy_names[p], qi);
            ops->fini(q);
        }
    }
}

static void single_thread_fifo(const struct pb_queue_ops *ops)
{
    enum { PER_QUEUE = 100 };
    static struct sq_item items[SQ_NQUEUES * PER_QUEUE];
    {
        for (size_t p = 0; p < SQ_NPOLICIES; p++) {
            struct pb_queue *q = sq_make(ops, sq_policies[p], 0);
            memset(items, 0, sizeof items);
            /* All of queue 0's items, then all of queue 1's: even a single
             * shared FIFO then hands queue 0's out first. */
            for (unsigned qi = 0; qi < SQ_NQUEUES; qi++) {
                for (unsigned i = 0; i < PER_QUEUE; i++) {
                    struct sq_item *it = &items[qi * PER_QUEUE + i];
                    it->qi = qi;
                    it->seq = i;
                    cr_assert_eq(ops->enqueue(q, qi, &it->work), 0, "%s: enqueue", ops->name);
                }
            }
            for (unsigned qi = 0; qi < SQ_NQUEUES; qi++) {
                for (unsigned i = 0; i < PER_QUEUE; i++) {
                    /* Alternate wait modes: wait = true with an item there
                     * must not idle. */
                    struct pb_work *w = ops->dequeue(q, qi, i % 2 == 0);
                    cr_assert_not_null(w, "%s/%s: qi %u item %u missing", ops->name,
                                       sq_policy_names[p], qi, i);
                    cr_assert_eq(sq_of(w), &items[qi * PER_QUEUE + i],
                                 "%s/%s: qi %u: got qi %u seq %llu, want seq %u", ops->name,
                                 sq_policy_names[p], qi, sq_of(w)->qi,
                                 (unsigned long long)sq_of(w)->seq, i);
                }
            }
            for (unsigned qi = 0; qi < SQ_NQUEUES; qi++)
                cr_assert_null(ops->dequeue(q, qi, false), "%s: not empty after drain", ops->name);
            /* Reuse after drain (stub/ring wrap paths). */
            for (int round = 0; round < 3; round++) {
                cr_assert_eq(ops->enqueue(q, 1, &items[0].work), 0);
                cr_assert_eq(ops->dequeue(q, 1, false), &items[0].work, "%s: reuse", ops->name);
                cr_assert_null(ops->dequeue(q, 1, false));
            }
            ops->fini(q);
        }
    }
}

Test(queue_basic, single_thread_fifo)
{
    for (size_t s = 0; pb_queues[s]; s++)
        single_thread_fifo(pb_queues[s]);
}

/* A bounded queue allocates its capacity up front: one whose size would
 * overflow (2^62 slots wrapped percpu-ring's allocation to a few bytes
 * and crashed; above 2^63 its rounding never ended) is refused. */
Test(queue_basic, bounded_refuses_a_capacity_it_cannot_hold, .timeout = 20)
{
    const size_t huge[] = { (size_t)1 << 31, (size_t)1 << 62, ((size_t)1 << 63) + 1, SIZE_MAX };
    for (size_t s = 0; pb_queues[s]; s++) {
        const struct pb_queue_ops *ops = pb_queues[s];
        if (!sq_is_bounded(ops))
            continue;
        for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
            struct pb_queue_config cfg = { .nqueues = SQ_NQUEUES, .capacity = huge[k],
                                           .idle = PB_IDLE_PARK };
            struct pb_queue *q = NULL;
            int rc = ops->init(&q, &cfg);
            skip_if_unavailable(ops->name, ops->flags, rc);
            cr_expect_eq(rc, -ERANGE, "%s: capacity %zu: %d", ops->name, huge[k], rc);
            if (rc == 0)
                ops->fini(q);
        }
    }
}

Test(queue_basic, bounded_full_returns_eagain)
{
    enum { CAP = 64, MAX = 4096 };
    static struct sq_item items[MAX];
    for (size_t s = 0; pb_queues[s]; s++) {
        const struct pb_queue_ops *ops = pb_queues[s];
        struct pb_queue *q = sq_make(ops, PB_IDLE_PARK, CAP);
        memset(items, 0, sizeof items);
        unsigned n = 0;
        int rc = 0;
        for (; n < MAX; n++) {
            items[n].seq = n;
            rc = ops->enqueue(q, 0, &items[n].work);
            if (rc != 0)
                break;
        }
        if (!sq_is_bounded(ops)) {
            cr_assert_eq(n, MAX, "%s: unbounded queue refused item %u (%d)", ops->name, n, rc);
            ops->fini(q);
            continue;
        }
        cr_assert_eq(rc, -EAGAIN, "%s: full ring must say -EAGAIN, said %d", ops->name, rc);
        cr_assert(n >= CAP - 1 && n <= CAP, "%s: held %u items at capacity %d", ops->name, n,
                  CAP);
        /* Still full, other queue unaffected. */
        cr_assert_eq(ops->enqueue(q, 0, &items[n].work), -EAGAIN);
        cr_assert_eq(ops->enqueue(q, 1, &items[n + 1].work), 0, "%s: queue 1 is separate",
                     ops->name);
        cr_assert_eq(ops->dequeue(q, 1, false), &items[n + 1].work);
        /* The refused item was not taken: exactly the n accepted come out. */
        for (unsigned i = 0; i < n; i++)
            cr_assert_eq(ops->dequeue(q, 0, false), &items[i].work, "%s: item %u", ops->name, i);
        cr_assert_null(ops->dequeue(q, 0, false), "%s: refused item was queued", ops->name);
        /* Room again: the refused item goes in now, and the ring wraps. */
        for (unsigned i = n; i < n + CAP / 2; i++)
            cr_assert_eq(ops->enqueue(q, 0, &items[i].work), 0);
        for (unsigned i = n; i < n + CAP / 2; i++)
            cr_assert_eq(ops->dequeue(q, 0, false), &items[i].work);
        cr_assert_null(ops->dequeue(q, 0, false));
        ops->fini(q);
    }
}

/* ---- one waiting consumer --------------------------------------------- */

struct sq_waiter {
    const struct pb_queue_ops *ops;
    struct pb_queue *q;
    unsigned qi;
    struct pb_work *got[4];
    unsigned ngot;
    _Atomic int started;
};

/* Dequeues with wait until NULL (shutdown), keeping what it got. */
static void *sq_wait_thread(void *arg)
{
    struct sq_waiter *s = arg;
    atomic_store_explicit(&s->started, 1, memory_order_release);
    for (;;) {
        struct pb_work *w = s->ops->dequeue(s->q, s->qi, true);
        if (!w)
            break;
        if (s->ngot < 4)
            s->got[s->ngot] = w;
        s->ngot++;
    }
    return NULL;
}

static bool sq_join_within(pthread_t t, double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long ns = ts.tv_nsec + (long)(seconds * 1e9);
    ts.tv_sec += ns / 1000000000L;
    ts.tv_nsec = ns % 1000000000L;
    return pthread_timedjoin_np(t, NULL, &ts) == 0;
}

static void wake_then_shutdown(const struct pb_queue_ops *ops)
{
    static struct sq_item item;
    {
        for (size_t p = 0; p < SQ_NPOLICIES; p++) {
            struct sq_waiter st = { .ops = ops, .q = sq_make(ops, sq_policies[p], 0), .qi = 1 };
            memset(&item, 0, sizeof item);
            pthread_t t;
            cr_assert_eq(pthread_create(&t, NULL, sq_wait_thread, &st), 0);
            while (!atomic_load_explicit(&st.started, memory_order_acquire))
                sched_yield();
            sq_sleep_ms(5); /* let it reach its idle loop (and park) */
            cr_assert_eq(ops->enqueue(st.q, 1, &item.work), 0);
            sq_sleep_ms(5); /* it takes the item and idles again */
            ops->shutdown(st.q);
            bool joined = sq_join_within(t, 2.0);
            cr_assert(joined, "%s/%s: shutdown did not wake the consumer", ops->name,
                      sq_policy_names[p]);
            cr_assert_eq(st.ngot, 1, "%s/%s: consumer got %u items", ops->name,
                         sq_policy_names[p], st.ngot);
            cr_assert_eq(st.got[0], &item.work);
            ops->fini(st.q);
        }
    }
}

Test(queue_wait, wake_then_shutdown)
{
    for (size_t s = 0; pb_queues[s]; s++)
        wake_then_shutdown(pb_queues[s]);
}

Test(queue_wait, shutdown_drains_then_null)
{
    static struct sq_item items[3];
    for (size_t s = 0; pb_queues[s]; s++) {
        const struct pb_queue_ops *ops = pb_queues[s];
        for (size_t p = 0; p < SQ_NPOLICIES; p++) {
            struct pb_queue *q = sq_make(ops, sq_policies[p], 0);
            memset(items, 0, sizeof items);
            for (int i = 0; i < 3; i++)
                cr_assert_eq(ops->enqueue(q, 0, &items[i].work), 0);
            ops->shutdown(q);
            ops->shutdown(q); /* idempotent */
            /* After shutdown wait = true must not block: items, then NULL. */
            for (int i = 0; i < 3; i++)
                cr_assert_eq(ops->dequeue(q, 0, true), &items[i].work, "%s/%s: item %d",
                             ops->name, sq_policy_names[p], i);
            cr_assert_null(ops->dequeue(q, 0, true));
            cr_assert_null(ops->dequeue(q, 1, true));
            ops->fini(q);
        }
    }
}

/* Shutdown while the consumer is parked (or spinning) on an empty queue. */
Test(queue_wait, shutdown_wakes_idle_consumer)
{
    for (size_t s = 0; pb_queues[s]; s++) {
        const struct pb_queue_ops *ops = pb_queues[s];
        for (size_t p = 0; p < SQ_NPOLICIES; p++) {
            struct sq_waiter st[SQ_NQUEUES];
            pthread_t t[SQ_NQUEUES];
            struct pb_queue *q = sq_make(ops, sq_policies[p], 0);
            for (unsigned qi = 0; qi < SQ_NQUEUES; qi++) {
                st[qi] = (struct sq_waiter){ .ops = ops, .q = q, .qi = qi };
                cr_assert_eq(pthread_create(&t[qi], NULL, sq_wait_thread, &st[qi]), 0);
            }
            sq_sleep_ms(10);
            double t0 = sq_now();
            ops->shutdown(q);
            for (unsigned qi = 0; qi < SQ_NQUEUES; qi++) {
                cr_assert(sq_join_within(t[qi], 2.0), "%s/%s: worker %u still idle", ops->name,
                          sq_policy_names[p], qi);
                cr_assert_eq(st[qi].ngot, 0);
            }
            cr_assert_lt(sq_now() - t0, 1.0);
            ops->fini(q);
        }
    }
}

/* Ping-pong: one item in flight, the producer enqueues the next as soon as
 * the consumer has taken the last, i.e. while the consumer is on its way
 * to sleep. A lost wake-up leaves an item queued under a sleeping
 * consumer and nothing else ever comes to wake it: the round times out. */
struct sq_pong {
    const struct pb_queue_ops *ops;
    struct pb_queue *q;
    _Atomic uint64_t acked;         /* seq + 1 of the last item taken */
};

static void *sq_pong_thread(void *arg)
{
    struct sq_pong *s = arg;
    struct pb_work *w;
    while ((w = s->ops->dequeue(s->q, 0, true)) != NULL)
        atomic_store_explicit(&s->acked, sq_of(w)->seq + 1, memory_order_release);
    return NULL;
}

static void ping_pong(const struct pb_queue_ops *ops)
{
    static struct sq_item items[2];
    static const pb_idle_policy idles[] = { PB_IDLE_SPIN_PARK, PB_IDLE_PARK };
    {
        for (size_t p = 0; p < 2; p++) {
            struct sq_pong st = { .ops = ops, .q = sq_make(ops, idles[p], 0) };
            pthread_t t;
            cr_assert_eq(pthread_create(&t, NULL, sq_pong_thread, &st), 0);
            double end = sq_now() + 0.06;
            uint64_t r = 0;
            for (; r < 20000 && sq_now() < end; r++) {
                struct sq_item *it = &items[r % 2];
                it->seq = r;
                cr_assert_eq(ops->enqueue(st.q, 0, &it->work), 0);
                double give_up = sq_now() + 1.0;
                unsigned spins = 0;
                while (atomic_load_explicit(&st.acked, memory_order_acquire) != r + 1) {
                    if (++spins % 64 == 0) {
                        cr_assert_lt(sq_now(), give_up, "%s/%s: round %llu: lost wake-up",
                                     ops->name, idles[p] == PB_IDLE_PARK ? "park" : "spin-park",
                                     (unsigned long long)r);
                        sched_yield();
                    }
                }
            }
            ops->shutdown(st.q);
            cr_assert(sq_join_within(t, 2.0), "%s: consumer did not stop", ops->name);
            cr_log_info("%s/%s: %llu round trips", ops->name,
                        idles[p] == PB_IDLE_PARK ? "park" : "spin-park", (unsigned long long)r);
            ops->fini(st.q);
        }
    }
}

Test(queue_wait, ping_pong_no_lost_wakeup)
{
    for (size_t s = 0; pb_queues[s]; s++)
        ping_pong(pb_queues[s]);
}

/* ---- multi-producer ---------------------------------------------------- */

#define MP_PRODUCERS 3
#define MP_ITEMS 250000             /* per producer, at most */
#define MP_SECONDS 0.3

struct mp_param {
    int queue;                      /* index in pb_queues[] */
    pb_idle_policy idle;
    unsigned yield_every;           /* the consumers' (pb_queue_config) */
};

struct mp_run {
    const struct pb_queue_ops *ops;
    struct pb_queue *q;
    struct sq_item *items[MP_PRODUCERS];
    _Atomic unsigned produced[MP_PRODUCERS];
    _Atomic int go;
    double deadline;
};

struct mp_producer {
    struct mp_run *run;
    unsigned id;
};

struct mp_consumer {
    struct mp_run *run;
    unsigned qi;
    uint64_t count;
    uint64_t last_seq[MP_PRODUCERS];  /* seq + 1 of the last item seen; 0: none */
    char error[160];
};

static void *mp_produce(void *arg)
{
    struct mp_producer *p = arg;
    struct mp_run *run = p->run;
    while (!atomic_load_explicit(&run->go, memory_order_acquire))
        sched_yield();
    unsigned n = 0;
    for (; n < MP_ITEMS; n++) {
        if ((n & 255) == 0 && sq_now() > run->deadline)
            break;
        struct sq_item *it = &run->items[p->id][n];
        it->producer = p->id;
        it->seq = n;
        /* Spread over the queues, in runs so a queue sees bursts. */
        it->qi = (n / 7 + p->id) % SQ_NQUEUES;
        int rc;
        while ((rc = run->ops->enqueue(run->q, it->qi, &it->work)) == -EAGAIN)
            sched_yield(); /* bounded and full: the consumer will drain it */
        if (rc != 0)
            break;
        if ((n & 63) == 0)
            sched_yield(); /* 2 CPUs for 5 threads: let the consumers run */
    }
    atomic_store_explicit(&run->produced[p->id], n, memory_order_release);
    return NULL;
}

static void *mp_consume(void *arg)
{
    struct mp_consumer *c = arg;
    struct mp_run *run = c->run;
    bool fifo = (run->ops->flags & PB_FIFO_PER_PRODUCER) != 0;
    bool routed = !sq_crosses_queues(run->ops);
    struct pb_work *w;
    while ((w = run->ops->dequeue(run->q, c->qi, true)) != NULL) {
        struct sq_item *it = sq_of(w);
        atomic_fetch_add_explicit(&it->taken, 1, memory_order_relaxed);
        c->count++;
        if (c->error[0])
            continue;
        if (it->producer >= MP_PRODUCERS) {
            snprintf(c->error, sizeof c->error, "garbage item (producer %u)", it->producer);
            continue;
        }
        if (routed && it->qi != c->qi)
            snprintf(c->error, sizeof c->error, "worker %u got an item for queue %u", c->qi,
                     it->qi);
        if (fifo && c->last_seq[it->producer] > it->seq)
            snprintf(c->error, sizeof c->error,
                     "worker %u: producer %u seq %llu after seq %llu", c->qi, it->producer,
                     (unsigned long long)it->seq,
                     (unsigned long long)c->last_seq[it->producer] - 1);
        c->last_seq[it->producer] = it->seq + 1;
    }
    return NULL;
}

static void mp_run_one(const struct pb_queue_ops *ops, pb_idle_policy idle, double seconds)
{
    struct mp_run *run = calloc(1, sizeof *run);
    cr_assert_not_null(run);
    run->ops = ops;
    run->q = sq_make(ops, idle, 256); /* small rings: full and wrap under load */
    for (unsigned p = 0; p < MP_PRODUCERS; p++) {
        run->items[p] = calloc(MP_ITEMS, sizeof(struct sq_item));
        cr_assert_not_null(run->items[p]);
    }
    struct mp_consumer cons[SQ_NQUEUES];
    struct mp_producer prods[MP_PRODUCERS];
    pthread_t ct[SQ_NQUEUES], pt[MP_PRODUCERS];
    for (unsigned qi = 0; qi < SQ_NQUEUES; qi++) {
        cons[qi] = (struct mp_consumer){ .run = run, .qi = qi };
        cr_assert_eq(pthread_create(&ct[qi], NULL, mp_consume, &cons[qi]), 0);
    }
    for (unsigned p = 0; p < MP_PRODUCERS; p++) {
        prods[p] = (struct mp_producer){ .run = run, .id = p };
        cr_assert_eq(pthread_create(&pt[p], NULL, mp_produce, &prods[p]), 0);
    }
    sq_sleep_ms(5); /* consumers reach their idle loop first */
    run->deadline = sq_now() + seconds;
    atomic_store_explicit(&run->go, 1, memory_order_release);
    for (unsigned p = 0; p < MP_PRODUCERS; p++)
        pthread_join(pt[p], NULL);
    ops->shutdown(run->q);
    for (unsigned qi = 0; qi < SQ_NQUEUES; qi++)
        cr_assert(sq_join_within(ct[qi], 5.0), "%s: worker %u did not finish", ops->name, qi);

    uint64_t total = 0, consumed = 0;
    for (unsigned qi = 0; qi < SQ_NQUEUES; qi++) {
        cr_assert_eq(cons[qi].error[0], 0, "%s/%s: %s", ops->name,
                     idle == PB_IDLE_PARK ? "park" : "spin-park", cons[qi].error);
        consumed += cons[qi].count;
    }
    for (unsigned p = 0; p < MP_PRODUCERS; p++) {
        unsigned n = atomic_load_explicit(&run->produced[p], memory_order_acquire);
        cr_assert_gt(n, 0, "%s: producer %u made nothing", ops->name, p);
        total += n;
        for (unsigned i = 0; i < n; i++) {
            int taken = atomic_load_explicit(&run->items[p][i].taken, memory_order_relaxed);
            cr_assert_eq(taken, 1, "%s: producer %u item %u dequeued %d times", ops->name, p, i,
                         taken);
        }
        for (unsigned i = n; i < MP_ITEMS; i++)
            cr_assert_eq(atomic_load_explicit(&run->items[p][i].taken, memory_order_relaxed),
                         0);
    }
    cr_assert_eq(consumed, total, "%s: %llu consumed, %llu produced", ops->name,
                 (unsigned long long)consumed, (unsigned long long)total);
    for (unsigned qi = 0; qi < SQ_NQUEUES; qi++)
        cr_assert_null(ops->dequeue(run->q, qi, false));
    cr_log_info("%s/%s: %llu items, exactly once", ops->name,
                idle == PB_IDLE_PARK ? "park" : "spin-park", (unsigned long long)total);
    ops->fini(run->q);
    for (unsigned p = 0; p < MP_PRODUCERS; p++)
        free(run->items[p]);
    free(run);
}

ParameterizedTestParameters(queue_mp, exactly_once)
{
    static struct mp_param params[SQ_MAX_QUEUES * 3];
    size_t n = 0;
    for (size_t s = 0; pb_queues[s] && s < SQ_MAX_QUEUES; s++) {
        params[n++] = (struct mp_param){ (int)s, PB_IDLE_SPIN_PARK, 0 };
        params[n++] = (struct mp_param){ (int)s, PB_IDLE_PARK, 0 };
        /* Spinning consumers that give their CPU away every third poll. */
        params[n++] = (struct mp_param){ (int)s, PB_IDLE_SPIN_PARK, 3 };
    }
    return cr_make_param_array(struct mp_param, params, n);
}

ParameterizedTest(struct mp_param *param, queue_mp, exactly_once)
{
    sq_yield_every = param->yield_every;
    mp_run_one(pb_queues[param->queue], param->idle, MP_SECONDS);
}

/* More producer threads alive at once than a queue may keep state for per
 * producer (percpu-lanes has 63 lanes: the rest use its overflow), and as
 * many again once those exited (their lanes given back and taken over,
 * each new owner going on from where the old one stopped). Small bounded
 * queues, so producers also wait for room. Every item comes out once, in
 * order per producer where the strategy promises it. */
#define MANY_PRODUCERS 80
#define MANY_WAVES 2
#define MANY_ITEMS 40

struct many_run {
    const struct pb_queue_ops *ops;
    struct pb_queue *q;
    struct sq_item items[MANY_WAVES * MANY_PRODUCERS][MANY_ITEMS];
    _Atomic unsigned ready;
    _Atomic int go;
    int failed;                     /* an enqueue said neither 0 nor -EAGAIN */
};

struct many_producer {
    struct many_run *run;
    unsigned id;
};

static void *many_produce(void *arg)
{
    struct many_producer *p = arg;
    struct many_run *run = p->run;
    atomic_fetch_add_explicit(&run->ready, 1, memory_order_relaxed);
    while (!atomic_load_explicit(&run->go, memory_order_acquire))
        sched_yield();
    for (unsigned n = 0; n < MANY_ITEMS; n++) {
        struct sq_item *it = &run->items[p->id][n];
        it->producer = p->id;
        it->seq = n;
        int rc;
        while ((rc = run->ops->enqueue(run->q, 0, &it->work)) == -EAGAIN)
            sched_yield();
        if (rc != 0) {
            run->failed = rc;
            break;
        }
    }
    return NULL;
}

struct many_consumer {
    struct many_run *run;
    uint64_t count;
    uint64_t last_seq[MANY_WAVES * MANY_PRODUCERS];
    char error[160];
};

static void *many_consume(void *arg)
{
    struct many_consumer *c = arg;
    bool fifo = (c->run->ops->flags & PB_FIFO_PER_PRODUCER) != 0;
    struct pb_work *w;
    while ((w = c->run->ops->dequeue(c->run->q, 0, true)) != NULL) {
        struct sq_item *it = sq_of(w);
        atomic_fetch_add_explicit(&it->taken, 1, memory_order_relaxed);
        c->count++;
        if (c->error[0])
            continue;
        if (fifo && c->last_seq[it->producer] != it->seq)
            snprintf(c->error, sizeof c->error, "producer %u: seq %llu after seq %llu",
                     it->producer, (unsigned long long)it->seq,
                     (unsigned long long)c->last_seq[it->producer] - 1);
        c->last_seq[it->producer] = it->seq + 1;
    }
    return NULL;
}

Test(queue_mp, many_short_lived_producers, .timeout = 60)
{
    for (size_t s = 0; pb_queues[s]; s++) {
        const struct pb_queue_ops *ops = pb_queues[s];
        struct many_run *run = calloc(1, sizeof *run);
        cr_assert_not_null(run);
        run->ops = ops;
        run->q = sq_make(ops, PB_IDLE_SPIN_PARK, 16);
        struct many_consumer *cons = calloc(1, sizeof *cons);
        cr_assert_not_null(cons);
        cons->run = run;
        pthread_t ct;
        cr_assert_eq(pthread_create(&ct, NULL, many_consume, cons), 0);
        for (unsigned wave = 0; wave < MANY_WAVES; wave++) {
            struct many_producer prods[MANY_PRODUCERS];
            pthread_t pt[MANY_PRODUCERS];
            atomic_store_explicit(&run->ready, 0, memory_order_relaxed);
            atomic_store_explicit(&run->go, 0, memory_order_relaxed);
            for (unsigned p = 0; p < MANY_PRODUCERS; p++) {
                prods[p] = (struct many_producer){ run, wave * MANY_PRODUCERS + p };
                cr_assert_eq(pthread_create(&pt[p], NULL, many_produce, &prods[p]), 0);
            }
            /* Every producer of the wave alive before any enqueues. */
            while (atomic_load_explicit(&run->ready, memory_order_relaxed) < MANY_PRODUCERS)
                sched_yield();
            atomic_store_explicit(&run->go, 1, memory_order_release);
            for (unsigned p = 0; p < MANY_PRODUCERS; p++)
                pthread_join(pt[p], NULL);
        }
        ops->shutdown(run->q);
        cr_assert(sq_join_within(ct, 5.0), "%s: the worker did not finish", ops->name);
        cr_assert_eq(run->failed, 0, "%s: enqueue failed: %d", ops->name, run->failed);
        cr_assert_eq(cons->error[0], 0, "%s: %s", ops->name, cons->error);
        cr_assert_eq(cons->count, (uint64_t)MANY_WAVES * MANY_PRODUCERS * MANY_ITEMS,
                     "%s: %llu items came out", ops->name, (unsigned long long)cons->count);
        for (unsigned p = 0; p < MANY_WAVES * MANY_PRODUCERS; p++)
            for (unsigned i = 0; i < MANY_ITEMS; i++)
                cr_assert_eq(atomic_load_explicit(&run->items[p][i].taken, memory_order_relaxed),
                             1, "%s: producer %u item %u", ops->name, p, i);
        ops->fini(run->q);
        free(cons);
        free(run);
    }
}

/* ---- under other locks ------------------------------------------------------ */

static struct lock_param sq_lock_params[SQ_MAX_QUEUES * 16];

static size_t sq_lock_pairs(void)
{
    size_t n = 0;
    LOCK_PAIRS(pb_queues, sq_lock_params, sizeof sq_lock_params / sizeof sq_lock_params[0], n);
    return n;
}

/* At least the pairs the brief of the lock kind names: global-mutex under
 * a lock that is not a pthread mutex (its futex idle path), global-spin
 * under pthread-mutex. Found by data: a lock-based queue with a
 * condition-variable path is the shared one whose default is a
 * PB_LOCK_PTHREAD lock. */
Test(queue_lock, pairs_exist)
{
    size_t n = sq_lock_pairs();
    bool non_pthread_for_cond = false, pthread_for_spin = false;
    for (size_t i = 0; i < n; i++) {
        const struct pb_queue_ops *q = pb_queues[sq_lock_params[i].strategy];
        const struct pb_lock_ops *l = pb_locks[sq_lock_params[i].lock];
        const struct pb_lock_ops *d = pb_lock_find(q->lock);
        cr_assert_not_null(d, "%s: its default lock '%s' is not registered", q->name, q->lock);
        if ((q->flags & PB_SHARED) && (d->flags & PB_LOCK_PTHREAD) && !(l->flags & PB_LOCK_PTHREAD))
            non_pthread_for_cond = true;
        if ((q->flags & PB_SHARED) && !(d->flags & PB_LOCK_PTHREAD) && (l->flags & PB_LOCK_PTHREAD))
            pthread_for_spin = true;
    }
    cr_assert(non_pthread_for_cond, "no shared pthread-lock queue under a non-pthread lock");
    cr_assert(pthread_for_spin, "no shared spinning queue under a pthread lock");
}

ParameterizedTestParameters(queue_lock, basic)
{
    return cr_make_param_array(struct lock_param, sq_lock_params, sq_lock_pairs());
}

/* Order, wake-ups and shutdown, and no lost wake-up, under the other lock. */
ParameterizedTest(struct lock_param *param, queue_lock, basic)
{
    const struct pb_queue_ops *ops = pb_queues[param->strategy];
    sq_lock = pb_locks[param->lock];
    cr_log_info("%s under %s", ops->name, sq_lock->name);
    single_thread_fifo(ops);
    wake_then_shutdown(ops);
    ping_pong(ops);
}

ParameterizedTestParameters(queue_lock, exactly_once)
{
    return cr_make_param_array(struct lock_param, sq_lock_params, sq_lock_pairs());
}

ParameterizedTest(struct lock_param *param, queue_lock, exactly_once)
{
    sq_lock = pb_locks[param->lock];
    mp_run_one(pb_queues[param->strategy], PB_IDLE_SPIN_PARK, MP_SECONDS / 2);
}

/* A queue that needs a lock capability refuses a lock without it
 * (-EINVAL), and takes its own default. */
Test(queue_lock, unfit_lock_refused)
{
    unsigned needy = 0;
    for (size_t s = 0; pb_queues[s]; s++) {
        const struct pb_queue_ops *ops = pb_queues[s];
        if (!ops->lock || !ops->lock_needs)
            continue;
        needy++;
        struct pb_queue_config cfg = { .nqueues = SQ_NQUEUES, .lock = &test_bare_lock };
        struct pb_queue *q = NULL;
        cr_assert_eq(ops->init(&q, &cfg), -EINVAL, "%s took a lock without %#x", ops->name,
                     ops->lock_needs);
        cr_assert_null(q);
        cfg.lock = NULL;
        cr_assert_eq(ops->init(&q, &cfg), 0, "%s: its default lock", ops->name);
        ops->fini(q);
    }
    cr_assert_gt(needy, 0, "no queue needs a lock capability (percpu-steal needs a trylock)");
}
