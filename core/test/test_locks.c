/* The lock kind's conformance suite: every registered lock (pb_locks[]),
 * through its ops table only, so a lock added to the registry is covered
 * without a new line here. What a lock promises is read from its flags:
 *
 *   all        mutual exclusion under contention: 4 threads (fewer for a
 *              lock that never yields: see threads_for) increment a plain
 *              counter pair inside the section in a way a missing
 *              exclusion corrupts; the state placed on its own lines
 *              (aligned_alloc of `size`, garbage before init, guard bytes
 *              after `size` that must stay untouched: `size` is exact).
 *              The threads sit on pb_thread_node 0..3 with cfg->nnodes 2:
 *              a NUMA lock sees two nodes and two nodes beyond its plan.
 *              Again with cfg->may_yield false (at most a thread per CPU).
 *   IN_WORD    the same inside an 8-byte word at offset 8 of a larger
 *              struct, with init, and all-zero without init (as op-lock
 *              uses it); size <= 8; the neighbours stay untouched.
 *   TRYLOCK    trylock != NULL; fails while another thread holds the lock
 *              (from either node), succeeds when free, unlock after it.
 *   FIFO       waiters queued one after another while the lock is held
 *              get it in that order. A waiter counts as queued once the
 *              lock's state has changed after it started (a FIFO lock's
 *              queue is in its state: the ticket taken, the tail moved).
 *   PTHREAD    the state is a pthread_mutex_t a condition variable can use.
 *   BROKEN     the same checks must FAIL: exclusion is shown violated
 *              (rounds until it is, bounded), and trylock succeeds while
 *              held. Proof that the checks can fail.
 *   registry   names unique and found, operations set, flags consistent
 *              with the table (TRYLOCK and trylock, IN_WORD and size), one
 *              baseline, at least one broken lock.
 * Besides: the ticket word (ticket, cohort) across its 32-bit wrap, and,
 * under AddressSanitizer, a leak check after each lock's exclusion run
 * (CLH nodes travel between threads' free lists).
 *
 * A lock whose init returns -ENOTSUP is skipped (strategy_common.h). The
 * section's pair is plain memory, so under ThreadSanitizer every lock's
 * acquire/release is checked too; only for the broken lock is it accessed
 * with relaxed atomics (a real race would be undefined, and TSan would
 * stop the run), which lose updates all the same. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_lock.h"
#include "pb_tsc.h"
#include "../lock/ticket_word.h"

#if defined(PB_SANITIZER) && !defined(PB_TSAN)
#include <sanitizer/lsan_interface.h>
/* Under AddressSanitizer: nothing leaked so far (the CLH locks' nodes
 * move between threads and are freed at thread exit and by fini). */
#define CHECK_NO_LEAK(name)                                                           \
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "%s: memory leaked", (name))
#else
#define CHECK_NO_LEAK(name) ((void)(name))
#endif

TestSuite(locks, .timeout = 90);

#include "strategy_common.h"

static size_t nlocks(void)
{
    size_t n = 0;
    while (pb_locks[n])
        n++;
    return n;
}

/* The parameter is an index into pb_locks[], not a pointer: Criterion
 * copies parameters into its worker processes, where (PIE + ASLR) static
 * data may lie at another address. */
static size_t param_index[64];

#define LOCK_PARAMS(test)                                                             \
    ParameterizedTestParameters(locks, test)                                          \
    {                                                                                 \
        size_t n = nlocks();                                                          \
        cr_assert_leq(n, sizeof param_index / sizeof param_index[0]);                 \
        for (size_t i = 0; i < n; i++)                                                \
            param_index[i] = i;                                                       \
        return cr_make_param_array(size_t, param_index, n);                           \
    }

#define THREADS 4u
#define ITERS 2000u
#define NO_INIT_ITERS 1000u
#define BROKEN_ROUNDS 50u          /* rounds before giving up on seeing the broken lock fail */
#define SECTION_SPIN 8u            /* pauses between the section's read and write */
#define YIELD_EVERY 512u           /* a yield inside the section now and then */
#define WAIT_SECONDS 20            /* for a waiter to show in the lock's state */

static const unsigned node_of_cpu[THREADS] = { 0, 1, 0, 1 };

static struct pb_lock_config config(bool may_yield)
{
    return (struct pb_lock_config){
        .ncpus = THREADS,
        .nnodes = 2,
        .may_yield = may_yield,
        .mem = { .node_of_cpu = node_of_cpu },
    };
}

static unsigned cpus_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? (unsigned)n : 1;
}

static bool spins_only(const struct pb_lock_ops *ops, bool yields)
{
    return !yields || (ops->flags & PB_NEVER_YIELDS);
}

/* A lock whose waiters never give their CPU away, with more threads than
 * CPUs, hands over to preempted threads and its spinners burn whole time
 * slices (a FIFO one at every handover): correct, but seconds slow. So
 * those run with at most a thread per CPU (and at least two). */
static unsigned threads_for(const struct pb_lock_ops *ops, bool yields)
{
    if (!spins_only(ops, yields))
        return THREADS;
    unsigned c = cpus_allowed();
    return c < 2 ? 2 : c < THREADS ? c : THREADS;
}

/* Two never-yielding threads on one CPU: each handover a time slice. */
static unsigned iters_for(const struct pb_lock_ops *ops, bool yields, unsigned threads,
                          unsigned iters)
{
    return spins_only(ops, yields) && threads > cpus_allowed() ? iters / 20 : iters;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- placement -------------------------------------------------------- */

#define GUARD 0xA5

/* On its own lines, as pb_lock_create places it: `size` bytes of garbage
 * (init must set every byte it reads), then guard bytes to the end of the
 * line plus one more line. */
struct placed {
    const struct pb_lock_ops *ops;
    unsigned char *mem;
    size_t total;
    void *state;
    bool inited;
};

static size_t round_line(size_t n)
{
    return (n + PB_CACHE_LINE - 1) / PB_CACHE_LINE * PB_CACHE_LINE;
}

static void place_on_lines(struct placed *p, const struct pb_lock_ops *ops, bool may_yield)
{
    p->ops = ops;
    p->total = round_line(ops->size) + PB_CACHE_LINE;
    p->mem = aligned_alloc(PB_CACHE_LINE, p->total);
    cr_assert_not_null(p->mem);
    memset(p->mem, GUARD, p->total);
    p->state = p->mem;
    struct pb_lock_config cfg = config(may_yield);
    int rc = ops->init(p->state, &cfg);
    if (rc == -ENOTSUP)
        free(p->mem);
    skip_if_unavailable(ops->name, ops->flags, rc);
    cr_assert_eq(rc, 0, "%s: init returned %d", ops->name, rc);
    p->inited = true;
}

static void check_guards(const struct placed *p)
{
    for (size_t i = p->ops->size; i < p->total; i++)
        cr_assert_eq(p->mem[i], GUARD, "%s: byte %zu written, beyond its size %zu", p->ops->name,
                     i, p->ops->size);
}

static void unplace(struct placed *p)
{
    check_guards(p);
    p->ops->fini(p->state);
    free(p->mem);
    p->mem = NULL;
}

/* Inside an operation's 8-byte word, between two neighbours: at offset 8
 * of a cache-line-aligned block, so 8- but not 16-aligned. */
struct word_host {
    uint64_t before;
    uint64_t word;
    uint64_t after;
};
#define NEIGHBOUR 0x5A5A5A5A5A5A5A5Aull

static struct word_host *place_in_word(const struct pb_lock_ops *ops, bool init, bool may_yield)
{
    cr_assert_leq(ops->size, 8, "%s: IN_WORD with size %zu", ops->name, ops->size);
    struct word_host *w = aligned_alloc(PB_CACHE_LINE, PB_CACHE_LINE);
    cr_assert_not_null(w);
    w->before = NEIGHBOUR;
    w->word = 0;
    w->after = NEIGHBOUR;
    cr_assert_eq((uintptr_t)&w->word % 16, 8);
    if (init) {
        struct pb_lock_config cfg = config(may_yield);
        int rc = ops->init(&w->word, &cfg);
        if (rc == -ENOTSUP)
            free(w);
        skip_if_unavailable(ops->name, ops->flags, rc);
        cr_assert_eq(rc, 0, "%s: init returned %d", ops->name, rc);
    }
    return w;
}

static void check_word_neighbours(const struct pb_lock_ops *ops, const struct word_host *w)
{
    cr_assert_eq(w->before, NEIGHBOUR, "%s: wrote before its word", ops->name);
    cr_assert_eq(w->after, NEIGHBOUR, "%s: wrote after its word", ops->name);
    /* The word's bytes beyond size belong to the operation. */
    const unsigned char *b = (const unsigned char *)&w->word;
    for (size_t i = ops->size; i < 8; i++)
        cr_assert_eq(b[i], 0, "%s: byte %zu of the word written, beyond its size %zu",
                     ops->name, i, ops->size);
}

/* ---- mutual exclusion ------------------------------------------------- */

struct excl {
    const struct pb_lock_ops *ops;
    void *state;
    unsigned iters;
    bool relaxed_pair;             /* the broken lock: atomics, not plain */
    _Atomic unsigned started;
    _Atomic bool go;
    /* The pair: written only inside the section. */
    _Alignas(PB_CACHE_LINE) uint64_t a;
    uint64_t b;
    /* Overlap detector: relaxed, so it orders nothing for TSan. */
    _Alignas(PB_CACHE_LINE) _Atomic unsigned inside;
    _Atomic uint64_t overlaps;
};

struct worker {
    struct excl *x;
    unsigned index;
    pthread_t tid;
};

static void spin_a_little(void)
{
    for (unsigned k = 0; k < SECTION_SPIN; k++)
        pb_cpu_relax();
}

/* read both, spin, write both + 1: two sections that overlap lose an
 * increment, and one that reads a before another's write and b after it
 * leaves the pair unequal. */
static void section_plain(struct excl *x, unsigned i)
{
    uint64_t a = x->a;
    spin_a_little();
    uint64_t b = x->b;
    if (i % YIELD_EVERY == YIELD_EVERY - 1)
        sched_yield();
    x->a = a + 1;
    spin_a_little();
    x->b = b + 1;
}

static void section_relaxed(struct excl *x, unsigned i)
{
    uint64_t a = __atomic_load_n(&x->a, __ATOMIC_RELAXED);
    spin_a_little();
    uint64_t b = __atomic_load_n(&x->b, __ATOMIC_RELAXED);
    if (i % YIELD_EVERY == YIELD_EVERY - 1)
        sched_yield();
    __atomic_store_n(&x->a, a + 1, __ATOMIC_RELAXED);
    spin_a_little();
    __atomic_store_n(&x->b, b + 1, __ATOMIC_RELAXED);
}

static void *excl_worker(void *arg)
{
    struct worker *w = arg;
    struct excl *x = w->x;
    pb_thread_node = w->index;     /* 0..3 with nnodes 2: two nodes, and two beyond */
    atomic_fetch_add_explicit(&x->started, 1, memory_order_relaxed);
    while (!atomic_load_explicit(&x->go, memory_order_acquire))
        sched_yield();
    struct pb_lock_hold h;
    for (unsigned i = 0; i < x->iters; i++) {
        x->ops->lock(x->state, &h);
        if (atomic_fetch_add_explicit(&x->inside, 1, memory_order_relaxed) != 0)
            atomic_fetch_add_explicit(&x->overlaps, 1, memory_order_relaxed);
        if (x->relaxed_pair)
            section_relaxed(x, i);
        else
            section_plain(x, i);
        atomic_fetch_sub_explicit(&x->inside, 1, memory_order_relaxed);
        x->ops->unlock(x->state, &h);
    }
    return NULL;
}

struct excl_result {
    uint64_t a, b, expected, overlaps;
};

static struct excl_result run_exclusion(const struct pb_lock_ops *ops, void *state,
                                        unsigned threads, unsigned iters)
{
    struct excl *x = aligned_alloc(PB_CACHE_LINE, round_line(sizeof *x));
    cr_assert_not_null(x);
    memset(x, 0, sizeof *x);
    x->ops = ops;
    x->state = state;
    x->iters = iters;
    x->relaxed_pair = ops->flags & PB_BROKEN;
    struct worker w[THREADS];
    for (unsigned t = 0; t < threads; t++) {
        w[t] = (struct worker){ .x = x, .index = t };
        cr_assert_eq(pthread_create(&w[t].tid, NULL, excl_worker, &w[t]), 0);
    }
    while (atomic_load_explicit(&x->started, memory_order_relaxed) < threads)
        sched_yield();
    atomic_store_explicit(&x->go, true, memory_order_release);
    for (unsigned t = 0; t < threads; t++)
        pthread_join(w[t].tid, NULL);
    struct excl_result r = {
        .a = x->a,
        .b = x->b,
        .expected = (uint64_t)threads * iters,
        .overlaps = atomic_load_explicit(&x->overlaps, memory_order_relaxed),
    };
    free(x);
    return r;
}

static bool excluded(const struct excl_result *r)
{
    return r->a == r->expected && r->b == r->expected && r->overlaps == 0;
}

/* The checks of one placement: a working lock must pass them; the broken
 * one must fail them within BROKEN_ROUNDS rounds. */
static void expect_exclusion(const struct pb_lock_ops *ops, void *state, unsigned threads,
                             unsigned iters, const char *where)
{
    if (!(ops->flags & PB_BROKEN)) {
        double t0 = now_s();
        struct excl_result r = run_exclusion(ops, state, threads, iters);
        cr_log_info("%s (%s): %u threads x %u: %.3f s", ops->name, where, threads, iters, now_s() - t0);
        cr_assert_eq(r.overlaps, 0, "%s (%s): %llu sections overlapped", ops->name, where,
                     (unsigned long long)r.overlaps);
        cr_assert_eq(r.a, r.expected, "%s (%s): counter a %llu, expected %llu", ops->name, where,
                     (unsigned long long)r.a, (unsigned long long)r.expected);
        cr_assert_eq(r.b, r.a, "%s (%s): pair %llu/%llu unequal", ops->name, where,
                     (unsigned long long)r.a, (unsigned long long)r.b);
        return;
    }
    for (unsigned round = 0; round < BROKEN_ROUNDS; round++) {
        struct excl_result r = run_exclusion(ops, state, threads, iters);
        if (!excluded(&r)) {
            cr_log_info("%s (%s): violation caught in round %u: a %llu b %llu of %llu, "
                        "%llu overlaps", ops->name, where, round, (unsigned long long)r.a,
                        (unsigned long long)r.b, (unsigned long long)r.expected,
                        (unsigned long long)r.overlaps);
            return;
        }
    }
    cr_assert_fail("%s (%s): a lock marked BROKEN excluded for %u rounds: the exclusion "
                   "check cannot tell it from a lock", ops->name, where, BROKEN_ROUNDS);
}

LOCK_PARAMS(exclusion_on_lines);
ParameterizedTest(size_t *i, locks, exclusion_on_lines)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    struct placed p;
    place_on_lines(&p, ops, true);
    unsigned threads = threads_for(ops, true);
    expect_exclusion(ops, p.state, threads, iters_for(ops, true, threads, ITERS), "on its lines");
    unplace(&p);
    CHECK_NO_LEAK(ops->name);
}

/* cfg->may_yield false (a kernel spinlock's model): the locks that spin
 * take their other path (pthread-spin: glibc's own loop). */
LOCK_PARAMS(exclusion_without_yield);
ParameterizedTest(size_t *i, locks, exclusion_without_yield)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    struct placed p;
    place_on_lines(&p, ops, false);
    unsigned threads = threads_for(ops, false);
    expect_exclusion(ops, p.state, threads, iters_for(ops, false, threads, NO_INIT_ITERS),
                     "on its lines, may_yield false");
    unplace(&p);
}

LOCK_PARAMS(exclusion_in_word);
ParameterizedTest(size_t *i, locks, exclusion_in_word)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    if (!(ops->flags & PB_LOCK_IN_WORD))
        cr_skip_test("%s: not IN_WORD", ops->name);
    struct word_host *w = place_in_word(ops, true, true);
    unsigned threads = threads_for(ops, true);
    expect_exclusion(ops, &w->word, threads, iters_for(ops, true, threads, ITERS), "in a word, init");
    check_word_neighbours(ops, w);
    ops->fini(&w->word);
    free(w);
}

/* As op-lock uses it: a zeroed word, no init, no fini. Such a lock may
 * not yield (it has not been told it may): fewer threads. */
LOCK_PARAMS(exclusion_in_zero_word);
ParameterizedTest(size_t *i, locks, exclusion_in_zero_word)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    if (!(ops->flags & PB_LOCK_IN_WORD))
        cr_skip_test("%s: not IN_WORD", ops->name);
    struct word_host *w = place_in_word(ops, false, false);
    unsigned threads = threads_for(ops, false);
    expect_exclusion(ops, &w->word, threads, iters_for(ops, false, threads, NO_INIT_ITERS),
                     "in a zeroed word, no init");
    check_word_neighbours(ops, w);
    free(w);
}

/* ---- trylock ---------------------------------------------------------- */

struct try_arg {
    const struct pb_lock_ops *ops;
    void *state;
    unsigned node;
    bool got;
};

static void *try_from_thread(void *arg)
{
    struct try_arg *t = arg;
    pb_thread_node = t->node;
    struct pb_lock_hold h;
    t->got = t->ops->trylock(t->state, &h);
    if (t->got)
        t->ops->unlock(t->state, &h);
    return NULL;
}

static bool try_elsewhere(const struct pb_lock_ops *ops, void *state, unsigned node)
{
    struct try_arg t = { .ops = ops, .state = state, .node = node };
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, try_from_thread, &t), 0);
    pthread_join(tid, NULL);
    return t.got;
}

LOCK_PARAMS(trylock);
ParameterizedTest(size_t *i, locks, trylock)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    if (!(ops->flags & PB_LOCK_TRYLOCK)) {
        cr_assert_null(ops->trylock, "%s: a trylock without PB_LOCK_TRYLOCK", ops->name);
        cr_skip_test("%s: no trylock", ops->name);
    }
    cr_assert_not_null(ops->trylock, "%s: PB_LOCK_TRYLOCK without a trylock", ops->name);
    struct placed p;
    place_on_lines(&p, ops, true);
    struct pb_lock_hold h;
    pb_thread_node = 0;

    cr_assert(ops->trylock(p.state, &h), "%s: trylock of a free lock failed", ops->name);
    /* Held: another thread's trylock must fail, from this node or another
     * (a cohort lock: the local lock held, or only the global one). */
    bool same = try_elsewhere(ops, p.state, 0), other = try_elsewhere(ops, p.state, 1);
    if (ops->flags & PB_BROKEN) {
        cr_assert(same && other, "%s: BROKEN, yet its trylock failed while held: the check "
                                 "cannot tell it from a lock", ops->name);
    } else {
        cr_assert_not(same, "%s: trylock from another thread (node 0) succeeded while held",
                      ops->name);
        cr_assert_not(other, "%s: trylock from another thread (node 1) succeeded while held",
                      ops->name);
    }
    ops->unlock(p.state, &h);

    /* Free again: the other threads' trylocks succeed (and unlock). */
    cr_assert(try_elsewhere(ops, p.state, 0), "%s: trylock of the freed lock failed", ops->name);
    cr_assert(try_elsewhere(ops, p.state, 1), "%s: trylock of the freed lock failed (node 1)",
              ops->name);
    /* Lock still works after the trylock paths, and again and again. */
    for (unsigned k = 0; k < 1000; k++) {
        if (k % 2) {
            cr_assert(ops->trylock(p.state, &h), "%s: trylock %u of a free lock failed",
                      ops->name, k);
        } else {
            ops->lock(p.state, &h);
        }
        ops->unlock(p.state, &h);
    }
    unplace(&p);
}

/* An IN_WORD lock's all-zero state is free: trylock takes it. */
LOCK_PARAMS(zero_word_is_free);
ParameterizedTest(size_t *i, locks, zero_word_is_free)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    if (!(ops->flags & PB_LOCK_IN_WORD) || !(ops->flags & PB_LOCK_TRYLOCK))
        cr_skip_test("%s: not IN_WORD with trylock", ops->name);
    struct word_host *w = place_in_word(ops, false, false);
    struct pb_lock_hold h;
    cr_assert(ops->trylock(&w->word, &h), "%s: trylock of an all-zero word failed", ops->name);
    if (!(ops->flags & PB_BROKEN))
        cr_assert_not(try_elsewhere(ops, &w->word, 0), "%s: a second trylock succeeded",
                      ops->name);
    ops->unlock(&w->word, &h);
    check_word_neighbours(ops, w);
    free(w);
}

/* ---- FIFO ------------------------------------------------------------- */

#define FIFO_WAITERS 3u
#define FIFO_ROUNDS 3u

struct fifo {
    const struct pb_lock_ops *ops;
    void *state;
    unsigned order[FIFO_WAITERS]; /* written under the lock */
    unsigned got;                  /* same */
};

struct fifo_waiter {
    struct fifo *f;
    unsigned id;
    pthread_t tid;
};

static void *fifo_waiter(void *arg)
{
    struct fifo_waiter *w = arg;
    struct fifo *f = w->f;
    struct pb_lock_hold h;
    f->ops->lock(f->state, &h);
    f->order[f->got++] = w->id;
    f->ops->unlock(f->state, &h);
    return NULL;
}

/* The state's bytes, read with atomic loads (the lock writes them with
 * atomics while we look). */
static void read_state(const void *state, size_t size, uint64_t *out, size_t nout)
{
    memset(out, 0, nout * sizeof *out);
    if (size % 8 == 0) {
        for (size_t k = 0; k < size / 8 && k < nout; k++)
            out[k] = __atomic_load_n((const uint64_t *)state + k, __ATOMIC_RELAXED);
    } else if (size % 4 == 0) {
        for (size_t k = 0; k < size / 4 && k < nout; k++)
            out[k] = __atomic_load_n((const uint32_t *)state + k, __ATOMIC_RELAXED);
    } else {
        for (size_t k = 0; k < size && k < nout; k++)
            out[k] = __atomic_load_n((const uint8_t *)state + k, __ATOMIC_RELAXED);
    }
}

LOCK_PARAMS(fifo_order);
ParameterizedTest(size_t *i, locks, fifo_order)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    if (!(ops->flags & PB_LOCK_FIFO))
        cr_skip_test("%s: not FIFO", ops->name);
    enum { WORDS = 64 };
    cr_assert_leq(ops->size, WORDS, "%s: state larger than this test reads", ops->name);
    struct placed p;
    place_on_lines(&p, ops, true);
    for (unsigned round = 0; round < FIFO_ROUNDS; round++) {
        struct fifo f = { .ops = ops, .state = p.state };
        struct fifo_waiter w[FIFO_WAITERS];
        struct pb_lock_hold h;
        ops->lock(p.state, &h);
        for (unsigned k = 0; k < FIFO_WAITERS; k++) {
            uint64_t before[WORDS], after[WORDS];
            read_state(p.state, ops->size, before, WORDS);
            w[k] = (struct fifo_waiter){ .f = &f, .id = k };
            cr_assert_eq(pthread_create(&w[k].tid, NULL, fifo_waiter, &w[k]), 0);
            double deadline = now_s() + WAIT_SECONDS;
            for (;;) {
                read_state(p.state, ops->size, after, WORDS);
                if (memcmp(before, after, sizeof before) != 0)
                    break;
                cr_assert(now_s() < deadline, "%s: waiter %u never showed in the lock's state",
                          ops->name, k);
                sched_yield();
            }
        }
        ops->unlock(p.state, &h);
        for (unsigned k = 0; k < FIFO_WAITERS; k++)
            pthread_join(w[k].tid, NULL);
        cr_assert_eq(f.got, FIFO_WAITERS);
        for (unsigned k = 0; k < FIFO_WAITERS; k++)
            cr_assert_eq(f.order[k], k, "%s: round %u: waiter %u got the lock %u-th, queued %u-th",
                         ops->name, round, f.order[k], k, f.order[k]);
    }
    unplace(&p);
}

/* ---- PTHREAD ---------------------------------------------------------- */

struct cond_arg {
    const struct pb_lock_ops *ops;
    void *state;
    pthread_cond_t cond;
    bool ready;                    /* under the lock */
};

static void *cond_signaller(void *arg)
{
    struct cond_arg *c = arg;
    struct pb_lock_hold h;
    c->ops->lock(c->state, &h);
    c->ready = true;
    pthread_cond_signal(&c->cond);
    c->ops->unlock(c->state, &h);
    return NULL;
}

LOCK_PARAMS(pthread_condvar);
ParameterizedTest(size_t *i, locks, pthread_condvar)
{
    const struct pb_lock_ops *ops = pb_locks[*i];
    if (!(ops->flags & PB_LOCK_PTHREAD))
        cr_skip_test("%s: not a pthread mutex", ops->name);
    cr_assert_eq(ops->size, sizeof(pthread_mutex_t), "%s: PTHREAD state of %zu bytes", ops->name,
                 ops->size);
    struct placed p;
    place_on_lines(&p, ops, true);
    struct cond_arg c = { .ops = ops, .state = p.state };
    pthread_cond_init(&c.cond, NULL);
    struct pb_lock_hold h;
    ops->lock(p.state, &h);
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, cond_signaller, &c), 0);
    while (!c.ready)
        cr_assert_eq(pthread_cond_wait(&c.cond, (pthread_mutex_t *)p.state), 0);
    ops->unlock(p.state, &h);
    pthread_join(tid, NULL);
    pthread_cond_destroy(&c.cond);
    unplace(&p);
}

/* ---- the registry ----------------------------------------------------- */

Test(locks, registry)
{
    size_t n = nlocks(), baselines = 0, broken = 0;
    cr_assert_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        const struct pb_lock_ops *ops = pb_locks[i];
        cr_assert(ops->name && ops->name[0], "lock %zu has no name", i);
        cr_assert(ops->description && ops->description[0], "%s: no description", ops->name);
        cr_assert(ops->init && ops->fini && ops->lock && ops->unlock, "%s: an operation is NULL",
                  ops->name);
        cr_assert_gt(ops->size, 0, "%s: size 0", ops->name);
        cr_assert_eq(!!(ops->flags & PB_LOCK_TRYLOCK), ops->trylock != NULL,
                     "%s: PB_LOCK_TRYLOCK and trylock disagree", ops->name);
        if (ops->flags & PB_LOCK_IN_WORD)
            cr_assert_leq(ops->size, 8, "%s: IN_WORD with size %zu", ops->name, ops->size);
        cr_assert_eq(pb_lock_find(ops->name), ops, "%s: pb_lock_find", ops->name);
        for (size_t k = 0; k < i; k++)
            cr_assert_str_neq(pb_locks[k]->name, ops->name, "two locks named %s", ops->name);
        baselines += !!(ops->flags & PB_BASELINE);
        broken += !!(ops->flags & PB_BROKEN);
    }
    cr_assert_eq(baselines, 1, "%zu locks say PB_BASELINE", baselines);
    cr_assert_geq(broken, 1, "no broken lock: nothing proves the checks can fail");
    cr_assert_null(pb_lock_find("no-such-lock"));
    cr_assert_null(pb_lock_find(NULL));
}

/* ---- the ticket word (ticket, cohort) across the 32-bit wrap ---------- */

Test(locks, ticket_word_wraps)
{
    /* served == next == the last ticket before the wrap; spare bit set. */
    uint64_t start = ((uint64_t)(UINT32_MAX - 3) << 32) | (UINT32_MAX - 3) | PB_TICKET_SPARE;
    _Atomic uint64_t w = start;
    uint32_t t1, t2, t3;
    cr_assert(pb_ticket_try(&w, &t1));
    cr_assert_eq(t1, UINT32_MAX - 3);
    pb_ticket_unlock(&w, t1);
    uint64_t old = pb_ticket_take(&w);
    t2 = pb_ticket_next(old);
    cr_assert_eq(t2, UINT32_MAX - 1);
    pb_ticket_wait(&w, old, true);             /* served at once */
    uint64_t queued = pb_ticket_take(&w);      /* the next ticket wraps to 0 */
    t3 = pb_ticket_next(queued);
    cr_assert_eq(t3, 0);
    cr_assert(pb_ticket_has_waiters(&w, t2));
    pb_ticket_unlock(&w, t2);                  /* the owner wraps: no carry into next */
    uint64_t now = atomic_load(&w);
    cr_assert_eq(now, ((uint64_t)2 << 32) | 0 | PB_TICKET_SPARE, "word %#llx",
                 (unsigned long long)now);
    pb_ticket_wait(&w, queued, true);          /* ticket 0 is served */
    cr_assert_not(pb_ticket_has_waiters(&w, t3));
    uint32_t no;
    cr_assert_not(pb_ticket_try(&w, &no));
    pb_ticket_unlock(&w, t3);
    cr_assert_eq(atomic_load(&w), ((uint64_t)2 << 32) | 2 | PB_TICKET_SPARE);
    cr_assert(pb_ticket_try(&w, &no));
    cr_assert_eq(no, 2);
}
