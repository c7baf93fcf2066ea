/* How strategies take their locks (pb_lock.h, pb_lock_use.h): the one
 * acquire path and its per-thread statistics, placing a lock (alone or
 * with the data it guards), choosing and checking a lock, and the model's
 * refusal of a lock that does not fit one of its strategies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "flt_model.h"
#include "pb_lock.h"
#include "pb_lock_use.h"
#include "pb_tsc.h"

TestSuite(lock_use, .timeout = 30);

/* A lock without trylock: a mutex, timed on every acquisition. */
static int nt_init(void *l, const struct pb_lock_config *c) { (void)c; return -pthread_mutex_init(l, NULL); }
static void nt_fini(void *l) { pthread_mutex_destroy(l); }
static void nt_lock(void *l, struct pb_lock_hold *h) { (void)h; pthread_mutex_lock(l); }
static void nt_unlock(void *l, struct pb_lock_hold *h) { (void)h; pthread_mutex_unlock(l); }
static const struct pb_lock_ops no_try_lock = {
    .name = "test-no-try",
    .flags = PB_LOCK_SLEEPS,
    .size = sizeof(pthread_mutex_t),
    .init = nt_init, .fini = nt_fini, .lock = nt_lock, .unlock = nt_unlock,
};

Test(lock_use, registry_and_find)
{
    cr_assert_not_null(pb_locks[0]);
    for (size_t i = 0; pb_locks[i]; i++) {
        const struct pb_lock_ops *l = pb_locks[i];
        cr_assert_eq(pb_lock_find(l->name), l, "%s is not found by its name", l->name);
        cr_assert_eq(!l->trylock, !(l->flags & PB_LOCK_TRYLOCK), "%s: trylock and its flag", l->name);
        cr_assert(!(l->flags & PB_LOCK_IN_WORD) || l->size <= 8, "%s: in-word but %zu bytes",
                  l->name, l->size);
    }
    cr_assert_null(pb_lock_find("no-such-lock"));
    cr_assert_null(pb_lock_find(NULL));
    /* Every lock-based strategy's default is a registered lock. */
    for (size_t i = 0; pb_pools[i]; i++)
        cr_assert(!pb_pools[i]->lock || pb_lock_find(pb_pools[i]->lock), "%s", pb_pools[i]->name);
    for (size_t i = 0; pb_queues[i]; i++)
        cr_assert(!pb_queues[i]->lock || pb_lock_find(pb_queues[i]->lock), "%s", pb_queues[i]->name);
    for (size_t i = 0; pb_handoffs[i]; i++)
        cr_assert(!pb_handoffs[i]->lock || pb_lock_find(pb_handoffs[i]->lock), "%s",
                  pb_handoffs[i]->name);
}

/* Uncontended: every acquisition counted, none contended, no wait. */
Test(lock_use, uncontended_stats)
{
    for (size_t i = 0; pb_locks[i]; i++) {
        const struct pb_lock_ops *l = pb_locks[i];
        if (l->flags & PB_BROKEN)
            continue;
        struct pb_lock_config cfg = { .ncpus = 1, .nnodes = 1, .may_yield = true };
        struct pb_lock_ref r;
        cr_assert_eq(pb_lock_create(&r, l, &cfg), 0, "%s", l->name);
        cr_assert_eq((uintptr_t)r.state % PB_CACHE_LINE, 0, "%s: state not line-aligned", l->name);
        pb_lock_stats = (struct pb_lock_stats){ 0 };
        for (int k = 0; k < 1000; k++) {
            struct pb_lock_hold h;
            pb_lock_acquire(r.ops, r.state, &h);
            pb_lock_release(r.ops, r.state, &h);
        }
        cr_assert_eq(pb_lock_stats.acquisitions, 1000, "%s", l->name);
        if (l->trylock) {
            cr_assert_eq(pb_lock_stats.contended, 0, "%s", l->name);
            cr_assert_eq(pb_lock_stats.wait_ticks, 0, "%s", l->name);
        }
        pb_lock_destroy(&r);
        cr_assert_null(r.state);
        pb_lock_destroy(&r);           /* a destroyed ref is nothing */
    }
}

struct contend {
    const struct pb_lock_ops *ops;
    void *state;
    uint64_t counter;              /* plain: only the lock protects it */
    unsigned loops;
    _Atomic bool go;
    struct pb_lock_stats stats[2];
};

struct contender {
    struct contend *c;
    unsigned id;
};

static void *contend_main(void *arg)
{
    struct contender *me = arg;
    struct contend *c = me->c;
    while (!atomic_load_explicit(&c->go, memory_order_acquire))
        sched_yield();
    pb_lock_stats = (struct pb_lock_stats){ 0 };
    for (unsigned k = 0; k < c->loops; k++) {
        struct pb_lock_hold h;
        pb_lock_acquire(c->ops, c->state, &h);
        uint64_t v = c->counter;
        if (k % 64 == 0)
            sched_yield();             /* held across a yield: the other must wait */
        c->counter = v + 1;
        pb_lock_release(c->ops, c->state, &h);
    }
    c->stats[me->id] = pb_lock_stats;
    return NULL;
}

static void run_contended(const struct pb_lock_ops *ops, void *state, struct contend *c)
{
    *c = (struct contend){ .ops = ops, .state = state, .loops = 20000 };
    struct contender who[2] = { { c, 0 }, { c, 1 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, contend_main, &who[i]), 0);
    atomic_store_explicit(&c->go, true, memory_order_release);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}

/* Two threads through pb_lock_acquire, a counter only the lock protects,
 * a holder that yields now and then: the counter is exact, and each
 * thread counted exactly its own acquisitions. Locks that never yield
 * (Concurrency Kit's) are left out: a holder yielding to a spinning
 * waiter that never gives the CPU back crawls on a loaded 2-CPU machine
 * (CI: the test timed out at 30 s); the counting is the same code for
 * every lock, with a trylock (most) and without (clh), both kept here,
 * and test_locks.c checks the ck locks' exclusion. */
Test(lock_use, exclusion_and_per_thread_counts)
{
    for (size_t i = 0; pb_locks[i]; i++) {
        const struct pb_lock_ops *l = pb_locks[i];
        if (l->flags & (PB_BROKEN | PB_NEVER_YIELDS))
            continue;
        struct pb_lock_config cfg = { .ncpus = 2, .nnodes = 1, .may_yield = true };
        struct pb_lock_ref r;
        cr_assert_eq(pb_lock_create(&r, l, &cfg), 0, "%s", l->name);
        struct contend c;
        run_contended(r.ops, r.state, &c);
        cr_assert_eq(c.counter, 2ull * c.loops, "%s: lost updates: %llu", l->name,
                     (unsigned long long)c.counter);
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(c.stats[k].acquisitions, c.loops, "%s: thread %d", l->name, k);
            cr_assert_leq(c.stats[k].contended, c.stats[k].acquisitions);
        }
        pb_lock_destroy(&r);
    }
}

/* One thread holds the lock for 20 ms while another acquires it: the
 * waiter's acquisition is counted as contended and its wait timed (at
 * least 1 ms: the waiter is in acquire well before the release unless
 * the machine keeps it off its CPU for 19 ms); the holder's is not. */
struct handover {
    const struct pb_lock_ops *ops;
    void *state;
    _Atomic int phase;             /* 1: held by main; 2: waiter about to acquire */
    struct pb_lock_stats stats;
};

static void *waiter_main(void *arg)
{
    struct handover *w = arg;
    while (atomic_load_explicit(&w->phase, memory_order_acquire) != 1)
        sched_yield();
    pb_lock_stats = (struct pb_lock_stats){ 0 };
    atomic_store_explicit(&w->phase, 2, memory_order_release);
    struct pb_lock_hold h;
    pb_lock_acquire(w->ops, w->state, &h);
    pb_lock_release(w->ops, w->state, &h);
    w->stats = pb_lock_stats;
    return NULL;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = { 0, (long)ms * 1000000L };
    nanosleep(&ts, NULL);
}

Test(lock_use, contended_stats)
{
    const struct pb_lock_ops *locks[] = { pb_lock_find("ttas-backoff"),
                                          pb_lock_find("pthread-mutex"), &no_try_lock };
    for (size_t i = 0; i < sizeof locks / sizeof locks[0]; i++) {
        const struct pb_lock_ops *l = locks[i];
        cr_assert_not_null(l);
        struct pb_lock_config cfg = { .ncpus = 2, .nnodes = 1, .may_yield = true };
        struct pb_lock_ref r;
        cr_assert_eq(pb_lock_create(&r, l, &cfg), 0, "%s", l->name);
        struct handover w = { .ops = r.ops, .state = r.state };
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, waiter_main, &w), 0);
        pb_lock_stats = (struct pb_lock_stats){ 0 };
        struct pb_lock_hold h;
        uint64_t t0 = pb_tsc_now();
        pb_lock_acquire(r.ops, r.state, &h);
        uint64_t took = pb_tsc_now() - t0;
        atomic_store_explicit(&w.phase, 1, memory_order_release);
        while (atomic_load_explicit(&w.phase, memory_order_acquire) != 2)
            sched_yield();
        nap_ms(20);
        pb_lock_release(r.ops, r.state, &h);
        pthread_join(t, NULL);
        cr_assert_eq(pb_lock_stats.acquisitions, 1, "%s", l->name);
        /* A lock without trylock: an acquisition slower than the threshold
         * counts as a wait, so the holder's uncontended one may count as
         * one when it was that slow (a sanitizer's first call, a
         * preemption on a busy machine): its count says something only
         * when our own clock around it saw it faster than the threshold. */
        if (l->trylock || took <= PB_LOCK_NO_TRY_WAIT_TICKS)
            cr_assert_eq(pb_lock_stats.contended, 0, "%s: the holder did not wait (took %llu "
                         "ticks)", l->name, (unsigned long long)took);
        cr_assert_eq(w.stats.acquisitions, 1, "%s", l->name);
        cr_assert_eq(w.stats.contended, 1, "%s: the waiter's acquisition not counted as "
                     "contended", l->name);
        cr_assert_geq(w.stats.wait_ticks, pb_ns_to_tsc(1000000), "%s: waited %llu ticks for "
                      "a lock held 20 ms", l->name, (unsigned long long)w.stats.wait_ticks);
        pb_lock_destroy(&r);
    }
}

/* A lock placed with its data: the state at a line's start, the data right
 * after it (8-aligned), zeroed, and the hooks' memory all given back. */
static _Atomic long blk_bytes, blk_allocs;

static void *blk_alloc(void *arg, unsigned cpu, size_t size)
{
    (void)arg, (void)cpu;
    void *p = aligned_alloc(PB_CACHE_LINE, size);
    if (p) {
        memset(p, 0, size);
        atomic_fetch_add(&blk_bytes, (long)size);
        atomic_fetch_add(&blk_allocs, 1);
    }
    return p;
}

static void blk_free(void *arg, void *p, size_t size)
{
    (void)arg;
    atomic_fetch_sub(&blk_bytes, (long)size);
    atomic_fetch_sub(&blk_allocs, 1);
    free(p);
}

Test(lock_use, block_layout)
{
    struct pb_lock_config cfg = {
        .ncpus = 2, .nnodes = 1, .may_yield = true,
        .mem = { .alloc_on_cpu_node = blk_alloc, .free = blk_free },
    };
    for (size_t i = 0; pb_locks[i]; i++) {
        const struct pb_lock_ops *l = pb_locks[i];
        struct pb_lock_block b;
        cr_assert_eq(pb_lock_block_create(&b, l, &cfg, 1, 24), 0, "%s", l->name);
        cr_assert_eq((uintptr_t)b.state % PB_CACHE_LINE, 0, "%s", l->name);
        size_t off = (size_t)((char *)b.data - (char *)b.state);
        cr_assert_geq(off, l->size, "%s: data over the lock's state", l->name);
        cr_assert_lt(off, l->size + 8, "%s: data not right after the state", l->name);
        cr_assert_eq(off % 8, 0, "%s", l->name);
        cr_assert_eq(b.bytes % PB_CACHE_LINE, 0);
        cr_assert_geq(b.bytes, off + 24);
        static const unsigned char zero[24];
        cr_assert_eq(memcmp(b.data, zero, 24), 0, "%s: data not zeroed", l->name);
        if (l->size + 24 <= PB_CACHE_LINE)
            cr_assert_eq(b.bytes, PB_CACHE_LINE, "%s: a small lock and its data share a line",
                         l->name);
        struct pb_lock_hold h;
        pb_lock_block_acquire(&b, &h);
        pb_lock_block_release(&b, &h);
        pb_lock_block_destroy(&b);
        pb_lock_block_destroy(&b);
    }
    struct pb_lock_ref r;
    cr_assert_eq(pb_lock_create(&r, pb_locks[0], &cfg), 0);
    pb_lock_destroy(&r);
    cr_assert_eq(atomic_load(&blk_allocs), 0);
    cr_assert_eq(atomic_load(&blk_bytes), 0);
}

Test(lock_use, choose_fits_and_why)
{
    const struct pb_lock_ops *ttas = pb_lock_find("ttas-backoff");
    const struct pb_lock_ops *pm = pb_lock_find("pthread-mutex");
    cr_assert_not_null(ttas);
    cr_assert_not_null(pm);
    cr_assert_eq(pb_lock_choose(NULL, "pthread-mutex"), pm);
    cr_assert_eq(pb_lock_choose(ttas, "pthread-mutex"), ttas);
    cr_assert_null(pb_lock_choose(NULL, "no-such-lock"));
    cr_assert(pb_lock_fits(ttas, PB_LOCK_IN_WORD | PB_LOCK_TRYLOCK));
    cr_assert(!pb_lock_fits(pm, PB_LOCK_IN_WORD));
    cr_assert(!pb_lock_fits(NULL, 0));
    char why[200];
    cr_assert_str_eq(pb_lock_unfit_why(ttas, PB_LOCK_TRYLOCK, why, sizeof why), "");
    pb_lock_unfit_why(&no_try_lock, PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD, why, sizeof why);
    cr_assert(strstr(why, "it has no trylock") != NULL, "%s", why);
    cr_assert(strstr(why, "it is not an in-word lock") != NULL, "%s", why);
}

/* The model refuses a lock that does not fit one of its strategies, with
 * a message naming the lock, the strategy and what is missing; an unknown
 * lock is refused; a fitting one is taken and named. */
Test(lock_use, model_refuses_unfit_lock)
{
    struct flt_model *m = NULL;
    const char *err = NULL;
    struct flt_model_config cfg = { .pool = "locked-list", .queue = "global-mutex",
                                    .handoff = "op-lock", .lock = "pthread-mutex" };
    cr_assert_eq(flt_model_create(&cfg, &m, &err), STATUS_INVALID_PARAMETER);
    cr_assert_null(m);
    cr_assert_not_null(err);
    cr_assert(strstr(err, "lock 'pthread-mutex' does not fit the handoff strategy 'op-lock'") != NULL,
              "%s", err);
    cr_assert(strstr(err, "in-word") != NULL, "%s", err);

    cfg.lock = "no-such-lock";
    cr_assert_eq(flt_model_create(&cfg, &m, &err), STATUS_INVALID_PARAMETER);
    cr_assert(strstr(err, "unknown lock") != NULL, "%s", err);

    cfg.lock = "ttas-backoff";
    cr_assert_eq(flt_model_create(&cfg, &m, &err), STATUS_SUCCESS, "%s", err ? err : "");
    cr_assert_str_eq(flt_model_lock_name(m), "ttas-backoff");
    char taken[128];
    cr_assert_str_eq(flt_model_locks_taken(m, taken, sizeof taken), "ttas-backoff");
    flt_model_destroy(m);

    cfg.lock = NULL;
    cr_assert_eq(flt_model_create(&cfg, &m, &err), STATUS_SUCCESS, "%s", err ? err : "");
    cr_assert_null(flt_model_lock_name(m));
    cr_assert_str_eq(flt_model_locks_taken(m, taken, sizeof taken), "pthread-mutex+ttas-backoff");
    flt_model_destroy(m);

    struct flt_model_config lockless = { .pool = "malloc", .queue = "percpu-mpsc",
                                         .handoff = "xchg" };
    cr_assert_eq(flt_model_create(&lockless, &m, &err), STATUS_SUCCESS);
    cr_assert_str_eq(flt_model_locks_taken(m, taken, sizeof taken), "");
    flt_model_destroy(m);
}
