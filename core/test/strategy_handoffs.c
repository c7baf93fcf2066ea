/* Every registered handoff (pb_handoffs[]), through its ops table only: a
 * strategy added to the registry is covered here without a new line.
 *
 * SPEC CAN7's table, in every sequential order, for every handoff not
 * marked broken; a two-thread race (disarm against cancel, and the whole
 * arm-then-disarm protocol against cancel) asserting exactly one owner per
 * round; and, for the `broken` handoff, that the same race finds a double
 * owner within a few seconds: proof that this checker can fail. A
 * lock-based handoff runs the table and the races again (handoff_lock)
 * under every other registered lock that fits it, and refuses one that
 * does not. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "pb_strategy.h"
#include "pb_tsc.h"

TestSuite(handoffs, .timeout = 30);

static void routine_a(void *op) { (void)op; }
static void routine_b(void *op) { (void)op; }

static size_t nhandoffs(void)
{
    size_t n = 0;
    while (pb_handoffs[n])
        n++;
    return n;
}

/* The parameter is an index into pb_handoffs[], not a pointer: Criterion copies
 * parameters into its worker processes, where (PIE + ASLR) static data may
 * lie at another address. */
static size_t param_index[64];

#define HANDOFF_PARAMS(test)                                                          \
    ParameterizedTestParameters(handoffs, test)                                       \
    {                                                                                 \
        size_t n = nhandoffs();                                                           \
        for (size_t i = 0; i < n; i++)                                                \
            param_index[i] = i;                                                       \
        return cr_make_param_array(size_t, param_index, n);                           \
    }

#include "strategy_common.h"

/* The lock the handoffs under test take: NULL (their defaults) but in
 * the handoff_lock tests, which set it first (each test runs in its own
 * process). */
static const struct pb_lock_ops *ho_lock;

static struct pb_handoff *open_handoff(const struct pb_handoff_ops *ops)
{
    struct pb_handoff *h = NULL;
    struct pb_handoff_config cfg = { .ncpus = 2, .nnodes = 1, .lock = ho_lock };
    int rc = ops->init(&h, &cfg);
    skip_if_unavailable(ops->name, ops->flags, rc);
    cr_assert_eq(rc, 0, "%s: init returned %d", ops->name, rc);
    return h;
}

static void skip_broken(const struct pb_handoff_ops *ops)
{
    if (ops->flags & PB_BROKEN)
        cr_skip_test("%s is deliberately broken", ops->name);
}

/* CAN2: no model lock held when a call returns (the canceller then calls
 * the routine it got). */
#define NO_LOCKS(ops, what) \
    cr_assert_eq(pb_locks_held, 0, "%s: %u locks held after %s", (ops)->name, pb_locks_held, what)

static pb_cancel_routine do_cancel(const struct pb_handoff_ops *ops, struct pb_handoff *h,
                                struct pb_cancel_cell *c, bool *was_set)
{
    pb_cancel_routine r = ops->cancel(h, c, was_set);
    NO_LOCKS(ops, "cancel");
    return r;
}

static void CAN7_fresh_cell_body(const struct pb_handoff_ops *ops)
{
    struct pb_handoff *h = open_handoff(ops);
    struct pb_cancel_cell c;
    memset(&c, 0xff, sizeof c);
    ops->reset(h, &c);
    cr_assert(!ops->is_armed(h, &c), "%s: armed after reset", ops->name);
    cr_assert(!ops->is_cancelled(h, &c), "%s: cancelled after reset", ops->name);
    cr_assert(!ops->disarm(h, &c), "%s: disarm of an unarmed cell returned true", ops->name);
    NO_LOCKS(ops, "disarm");
    ops->fini(h);
}

HANDOFF_PARAMS(CAN7_fresh_cell)
ParameterizedTest(size_t *param, handoffs, CAN7_fresh_cell)
{
    skip_broken(pb_handoffs[*param]);
    CAN7_fresh_cell_body(pb_handoffs[*param]);
}

/* C before S: cancel finds nothing; arm sees the bit and the setter takes
 * the routine back (CAN8). */
static void CAN7_cancel_before_set_body(const struct pb_handoff_ops *ops)
{
    struct pb_handoff *h = open_handoff(ops);
    struct pb_cancel_cell c;
    ops->reset(h, &c);
    bool was_set = true;
    cr_assert_null(do_cancel(ops, h, &c, &was_set), "%s: cancel took a routine never set", ops->name);
    cr_assert(!was_set, "%s: first cancel saw the bit already set", ops->name);
    cr_assert(ops->is_cancelled(h, &c), "%s: bit not set by cancel", ops->name);
    pb_arm_result res = ops->arm(h, &c, routine_a);
    NO_LOCKS(ops, "arm");
    cr_assert_eq(res, PB_ARM_CANCELLED, "%s: arm after cancel returned %d", ops->name, res);
    cr_assert(!ops->is_armed(h, &c), "%s: routine left set after CANCELLED", ops->name);
    cr_assert(!ops->disarm(h, &c), "%s: disarm after CANCELLED returned true", ops->name);
    cr_assert(ops->is_cancelled(h, &c), "%s: bit cleared", ops->name);
    ops->fini(h);
}

HANDOFF_PARAMS(CAN7_cancel_before_set)
ParameterizedTest(size_t *param, handoffs, CAN7_cancel_before_set)
{
    skip_broken(pb_handoffs[*param]);
    CAN7_cancel_before_set_body(pb_handoffs[*param]);
}

/* S, C, X: the canceller takes the routine; the worker's clear fails. */
static void CAN7_set_cancel_clear_body(const struct pb_handoff_ops *ops)
{
    struct pb_handoff *h = open_handoff(ops);
    struct pb_cancel_cell c;
    ops->reset(h, &c);
    pb_arm_result res = ops->arm(h, &c, routine_a);
    NO_LOCKS(ops, "arm");
    cr_assert_eq(res, PB_ARM_SET, "%s: arm returned %d", ops->name, res);
    cr_assert(ops->is_armed(h, &c), "%s: not armed after SET", ops->name);
    cr_assert(!ops->is_cancelled(h, &c), "%s: cancelled after arm", ops->name);
    bool was_set = true;
    pb_cancel_routine r = do_cancel(ops, h, &c, &was_set);
    cr_assert(r == routine_a, "%s: cancel did not return the armed routine", ops->name);
    cr_assert(!was_set, "%s: was_set on the first cancel", ops->name);
    cr_assert(ops->is_cancelled(h, &c), "%s: bit not set", ops->name);
    cr_assert(!ops->is_armed(h, &c), "%s: still armed after cancel took it", ops->name);
    cr_assert(!ops->disarm(h, &c), "%s: disarm after the canceller took it returned true",
              ops->name);
    NO_LOCKS(ops, "disarm");
    /* C again: nothing more to take. */
    cr_assert_null(do_cancel(ops, h, &c, &was_set), "%s: second cancel took a routine", ops->name);
    cr_assert(was_set, "%s: second cancel did not see the bit", ops->name);
    ops->fini(h);
}

HANDOFF_PARAMS(CAN7_set_cancel_clear)
ParameterizedTest(size_t *param, handoffs, CAN7_set_cancel_clear)
{
    skip_broken(pb_handoffs[*param]);
    CAN7_set_cancel_clear_body(pb_handoffs[*param]);
}

/* S, X, C: the worker clears the routine; the cancel finds nothing (late). */
static void CAN7_set_clear_cancel_body(const struct pb_handoff_ops *ops)
{
    struct pb_handoff *h = open_handoff(ops);
    struct pb_cancel_cell c;
    ops->reset(h, &c);
    cr_assert_eq(ops->arm(h, &c, routine_b), PB_ARM_SET, "%s: arm", ops->name);
    cr_assert(ops->disarm(h, &c), "%s: disarm of an armed cell returned false", ops->name);
    NO_LOCKS(ops, "disarm");
    cr_assert(!ops->is_armed(h, &c), "%s: armed after disarm", ops->name);
    cr_assert(!ops->disarm(h, &c), "%s: second disarm returned true", ops->name);
    bool was_set = true;
    cr_assert_null(do_cancel(ops, h, &c, &was_set), "%s: cancel after clear took a routine",
                   ops->name);
    cr_assert(!was_set, "%s: was_set on the first cancel", ops->name);
    cr_assert(ops->is_cancelled(h, &c), "%s: bit not set", ops->name);
    ops->fini(h);
}

HANDOFF_PARAMS(CAN7_set_clear_cancel)
ParameterizedTest(size_t *param, handoffs, CAN7_set_clear_cancel)
{
    skip_broken(pb_handoffs[*param]);
    CAN7_set_clear_cancel_body(pb_handoffs[*param]);
}

/* C twice: the second sees the bit and takes nothing; reset clears it all. */
static void CAN7_cancel_twice_body(const struct pb_handoff_ops *ops)
{
    struct pb_handoff *h = open_handoff(ops);
    struct pb_cancel_cell c;
    ops->reset(h, &c);
    bool was_set = true;
    cr_assert_null(do_cancel(ops, h, &c, &was_set), "%s", ops->name);
    cr_assert(!was_set, "%s: first cancel saw the bit", ops->name);
    cr_assert_null(do_cancel(ops, h, &c, &was_set), "%s: second cancel took a routine", ops->name);
    cr_assert(was_set, "%s: second cancel did not see the bit", ops->name);
    cr_assert(ops->is_cancelled(h, &c), "%s", ops->name);
    ops->reset(h, &c);
    cr_assert(!ops->is_cancelled(h, &c), "%s: cancelled after reset", ops->name);
    cr_assert(!ops->is_armed(h, &c), "%s: armed after reset", ops->name);
    /* A reset cell behaves as new. */
    cr_assert_eq(ops->arm(h, &c, routine_a), PB_ARM_SET, "%s: arm after reset", ops->name);
    cr_assert(ops->disarm(h, &c), "%s: disarm after reset and arm", ops->name);
    ops->fini(h);
}

HANDOFF_PARAMS(CAN7_cancel_twice)
ParameterizedTest(size_t *param, handoffs, CAN7_cancel_twice)
{
    skip_broken(pb_handoffs[*param]);
    CAN7_cancel_twice_body(pb_handoffs[*param]);
}

/* ---- races ---------------------------------------------------------------- */

enum race_kind {
    RACE_DISARM,               /* armed first; worker disarms while the canceller cancels */
    RACE_PROTOCOL,             /* worker arms then disarms while the canceller cancels */
};

struct race {
    const struct pb_handoff_ops *ops;
    struct pb_handoff *h;
    struct pb_cancel_cell cell;
    enum race_kind kind;
    _Atomic unsigned long go;       /* round the worker may start */
    _Atomic unsigned long done;     /* round the worker finished */
    _Atomic bool stop;
    _Atomic int arm_result;         /* RACE_PROTOCOL */
    _Atomic bool worker_owns;
    _Atomic unsigned worker_locks;  /* pb_locks_held seen by the worker after a call */
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void pause_n(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        pb_cpu_relax();
}

/* Spins on a word the other thread will change; yields now and then, as
 * the machine may have fewer cores than runnable threads. */
static bool wait_for(_Atomic unsigned long *w, unsigned long v, _Atomic bool *stop)
{
    for (unsigned spins = 0; atomic_load_explicit(w, memory_order_acquire) != v; spins++) {
        if (stop && atomic_load_explicit(stop, memory_order_relaxed))
            return false;
        if (spins % 1024 == 1023)
            sched_yield();
        else
            pb_cpu_relax();
    }
    return true;
}

static void *race_worker(void *arg)
{
    struct race *rc = arg;
    uint64_t seed = 0x2545f4914f6cdd1dull;
    for (unsigned long round = 1;; round++) {
        if (!wait_for(&rc->go, round, &rc->stop))
            return NULL;
        /* Sometimes give the core away first: on a machine with fewer free
         * cores than threads, that is how the two sides interleave. */
        if (rnd(&seed) % 16 == 0)
            sched_yield();
        else
            pause_n((unsigned)(rnd(&seed) % 96));
        bool owns = false;
        int res = -1;
        if (rc->kind == RACE_PROTOCOL) {
            res = rc->ops->arm(rc->h, &rc->cell, routine_a);
            if (res == PB_ARM_CANCELLED)
                owns = true;
            else if (res == PB_ARM_SET) {
                /* The work, during which C may come. */
                if (rnd(&seed) % 16 == 0)
                    sched_yield();
                else
                    pause_n((unsigned)(rnd(&seed) % 96));
                owns = rc->ops->disarm(rc->h, &rc->cell);
            }
        } else {
            owns = rc->ops->disarm(rc->h, &rc->cell);
        }
        if (pb_locks_held)
            atomic_store_explicit(&rc->worker_locks, pb_locks_held, memory_order_relaxed);
        atomic_store_explicit(&rc->arm_result, res, memory_order_relaxed);
        atomic_store_explicit(&rc->worker_owns, owns, memory_order_relaxed);
        /* release: the results above to the canceller's acquire. */
        atomic_store_explicit(&rc->done, round, memory_order_release);
    }
}

struct race_outcome {
    unsigned long rounds;
    unsigned long both;        /* double ownership: both sides complete */
    unsigned long neither;     /* nobody owns: the operation would hang */
    unsigned long inconsistent; /* CANCELLER_TOOK but the canceller got nothing, ... */
    unsigned long canceller_won;
    unsigned long worker_won;
};

/* Runs rounds for up to `seconds`, or until `stop_at_both` double owners. */
static struct race_outcome run_race(const struct pb_handoff_ops *ops, enum race_kind kind,
                                    double seconds, unsigned long max_rounds,
                                    unsigned long stop_at_both)
{
    struct race rc = { .ops = ops, .h = open_handoff(ops), .kind = kind };
    struct race_outcome out = { 0 };
    pthread_t tid;
    cr_assert_eq(pthread_create(&tid, NULL, race_worker, &rc), 0);
    uint64_t seed = 0x853c49e6748fea9bull;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long round = 1; round <= max_rounds; round++) {
        ops->reset(rc.h, &rc.cell);
        if (kind == RACE_DISARM)
            cr_assert_eq(ops->arm(rc.h, &rc.cell, routine_a), PB_ARM_SET);
        /* release: the reset (and arm) before the worker touches the cell. */
        atomic_store_explicit(&rc.go, round, memory_order_release);
        if (rnd(&seed) % 16 == 0)
            sched_yield();
        else
            pause_n((unsigned)(rnd(&seed) % 96));
        bool was_set;
        pb_cancel_routine r = ops->cancel(rc.h, &rc.cell, &was_set);
        cr_assert_eq(pb_locks_held, 0, "%s: lock held after cancel (CAN2)", ops->name);
        wait_for(&rc.done, round, NULL);
        bool worker = atomic_load_explicit(&rc.worker_owns, memory_order_relaxed);
        int res = atomic_load_explicit(&rc.arm_result, memory_order_relaxed);
        bool canceller = r != NULL;
        if (canceller && r != routine_a)
            out.inconsistent++;
        if (res == PB_ARM_CANCELLER_TOOK && !canceller)
            out.inconsistent++;
        if (was_set)
            out.inconsistent++;
        out.both += worker && canceller;
        out.neither += !worker && !canceller;
        out.canceller_won += canceller && !worker;
        out.worker_won += worker && !canceller;
        out.rounds = round;
        if (out.both >= stop_at_both)
            break;
        if (round % 256 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9 > seconds)
                break;
        }
    }
    atomic_store_explicit(&rc.stop, true, memory_order_relaxed);
    pthread_join(tid, NULL);
    cr_assert_eq(atomic_load_explicit(&rc.worker_locks, memory_order_relaxed), 0,
                 "%s: worker held a lock after a call", ops->name);
    ops->fini(rc.h);
    return out;
}

static void assert_one_owner(const struct pb_handoff_ops *ops, enum race_kind kind,
                             double seconds)
{
    struct race_outcome o = run_race(ops, kind, seconds, 200000, 1);
    cr_log_info("%s (%s): %lu rounds: canceller %lu, worker %lu", ops->name,
                kind == RACE_DISARM ? "disarm" : "arm+disarm", o.rounds,
                o.canceller_won, o.worker_won);
    cr_assert_eq(o.both, 0, "%s: both sides own completion in %lu of %lu rounds", ops->name,
                 o.both, o.rounds);
    cr_assert_eq(o.neither, 0, "%s: nobody owns completion in %lu of %lu rounds", ops->name,
                 o.neither, o.rounds);
    cr_assert_eq(o.inconsistent, 0, "%s: %lu inconsistent rounds", ops->name, o.inconsistent);
    cr_assert_gt(o.rounds, 100, "%s: only %lu rounds", ops->name, o.rounds);
}

HANDOFF_PARAMS(CAN7_race_disarm_cancel)
ParameterizedTest(size_t *param, handoffs, CAN7_race_disarm_cancel)
{
    skip_broken(pb_handoffs[*param]);
    assert_one_owner(pb_handoffs[*param], RACE_DISARM, 0.4);
}

HANDOFF_PARAMS(CAN7_race_arm_disarm_cancel)
ParameterizedTest(size_t *param, handoffs, CAN7_race_arm_disarm_cancel)
{
    skip_broken(pb_handoffs[*param]);
    assert_one_owner(pb_handoffs[*param], RACE_PROTOCOL, 0.4);
}

/* The checker can fail: the deliberately broken handoff must be caught
 * giving completion to both sides within a few seconds. */
HANDOFF_PARAMS(broken_is_caught)
ParameterizedTest(size_t *param, handoffs, broken_is_caught)
{
    const struct pb_handoff_ops *ops = pb_handoffs[*param];
    if (!(ops->flags & PB_BROKEN))
        cr_skip_test("%s is not marked broken", ops->name);
    struct race_outcome o = run_race(ops, RACE_DISARM, 3.0, (unsigned long)-1, 1);
    cr_log_info("%s: double owner after %lu rounds", ops->name, o.rounds);
    cr_assert_gt(o.both, 0, "%s: no double ownership found in %lu rounds: the race checker "
                 "cannot tell a broken handoff", ops->name, o.rounds);
}

/* The broken handoff must be registered, or broken_is_caught proves nothing. */
Test(handoffs, broken_is_registered)
{
    bool found = false;
    for (size_t i = 0; pb_handoffs[i]; i++)
        found |= (pb_handoffs[i]->flags & PB_BROKEN) != 0;
    cr_assert(found, "no handoff marked broken in pb_handoffs[]");
}

/* The suite's handoff group has one baseline, and the broken handoff is
 * never in the suite. */
Test(handoffs, flags_are_consistent)
{
    unsigned baselines = 0;
    for (size_t i = 0; pb_handoffs[i]; i++) {
        const struct pb_handoff_ops *ops = pb_handoffs[i];
        cr_assert_eq(pb_handoff_find(ops->name), ops, "%s", ops->name);
        cr_expect(!((ops->flags & PB_BROKEN) && (ops->flags & PB_IN_SUITE)),
                  "%s: a broken handoff in the suite", ops->name);
        baselines += (ops->flags & PB_BASELINE) && (ops->flags & PB_IN_SUITE);
    }
    cr_expect_eq(baselines, 1);
}

/* ---- under other locks ------------------------------------------------------ */

static struct lock_param ho_lock_params[64];

static size_t ho_lock_pairs(void)
{
    size_t n = 0;
    LOCK_PAIRS(pb_handoffs, ho_lock_params, sizeof ho_lock_params / sizeof ho_lock_params[0], n);
    return n;
}

ParameterizedTestParameters(handoff_lock, CAN7)
{
    return cr_make_param_array(struct lock_param, ho_lock_params, ho_lock_pairs());
}

/* A lock-based handoff under another lock that fits it: CAN7's table in
 * every sequential order, and both races with exactly one owner. */
ParameterizedTest(struct lock_param *param, handoff_lock, CAN7, .timeout = 30)
{
    const struct pb_handoff_ops *ops = pb_handoffs[param->strategy];
    ho_lock = pb_locks[param->lock];
    cr_log_info("%s under %s", ops->name, ho_lock->name);
    CAN7_fresh_cell_body(ops);
    CAN7_cancel_before_set_body(ops);
    CAN7_set_cancel_clear_body(ops);
    CAN7_set_clear_cancel_body(ops);
    CAN7_cancel_twice_body(ops);
    assert_one_owner(ops, RACE_DISARM, 0.2);
    assert_one_owner(ops, RACE_PROTOCOL, 0.2);
}

/* The pairs above are not empty: a lock-based handoff that needs no
 * capability (global-lock) runs under another lock (pthread-mutex fits). */
Test(handoff_lock, pairs_exist)
{
    size_t n = ho_lock_pairs();
    bool any = false;
    for (size_t i = 0; i < n; i++)
        any |= pb_handoffs[ho_lock_params[i].strategy]->lock_needs == 0;
    cr_assert(any, "no lock-based handoff without needs runs under another lock");
}

/* A handoff that needs a lock capability (op-lock: an in-word lock)
 * refuses a lock without it (-EINVAL), and takes its own default. */
Test(handoff_lock, unfit_lock_refused)
{
    unsigned needy = 0;
    for (size_t i = 0; pb_handoffs[i]; i++) {
        const struct pb_handoff_ops *ops = pb_handoffs[i];
        if (!ops->lock || !ops->lock_needs)
            continue;
        needy++;
        struct pb_handoff_config cfg = { .lock = &test_bare_lock };
        struct pb_handoff *h = NULL;
        cr_assert_eq(ops->init(&h, &cfg), -EINVAL, "%s took a lock without %#x", ops->name,
                     ops->lock_needs);
        cr_assert_null(h);
        cfg.lock = NULL;
        cr_assert_eq(ops->init(&h, &cfg), 0, "%s: its default lock", ops->name);
        ops->fini(h);
    }
    cr_assert_gt(needy, 0, "no handoff needs a lock capability (op-lock needs an in-word lock)");
}
