/* pendbench-micro: every handoff strategy of pb_handoffs[]:
 *
 *   handoff/S/arm_disarm            one op = reset + arm + disarm of a cell,
 *                                   one thread (FltSetCancelCompletion then
 *                                   FltClearCancelCompletion, no cancel)
 *   handoff/S/arm_disarm/threads:2  the same in two threads, each on its own
 *                                   cell: the strategies that share state
 *                                   between operations (global-lock) contend
 *   handoff/S/cancel_vs_clear/threads:2
 *                                   one op = one round on one cell: thread 0
 *                                   resets it, publishes the round, arms and
 *                                   disarms; thread 1 cancels as soon as it
 *                                   sees the round. Thread 0 starts the next
 *                                   round only after thread 1 has finished.
 *
 * cancel_vs_clear checks every round that exactly one side owns completion
 * (SPEC CAN7): thread 0 owns it when arm returned PB_ARM_CANCELLED or its
 * disarm removed the routine; thread 1 when cancel returned the routine.
 * Counters: arm_won and cancel_won (fractions of the rounds), double_owner
 * and no_owner (counts: both must be 0 except for `broken`, which is
 * labelled and expected to show double owners). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"

struct handoff_ctx {
    const struct pb_handoff_ops *ops;
    struct pb_handoff *h;          /* thread 0's, for the run */
    _Alignas(PB_CACHE_LINE) _Atomic bool abort;
    /* The raced cell and the round number that publishes it share a line:
     * the hand-over of a fresh operation is one line transfer, as a real
     * one is. */
    _Alignas(PB_CACHE_LINE) struct pb_cancel_cell cell;
    _Atomic uint64_t go;           /* round whose cell is armed next (thread 0 writes) */
    /* Thread 1's answer: round << 1 | 1 if its cancel took the routine. */
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t done;
};

static void micro_routine(void *op) { (void)op; }

static const char *label_of(const struct pb_handoff_ops *ops)
{
    return (ops->flags & PB_BROKEN) ? "BROKEN on purpose: double owners expected" : NULL;
}

static bool handoff_setup(gb_state *st, struct handoff_ctx *c)
{
    if (gb_thread_index(st) != 0)
        return true;
    atomic_store_explicit(&c->abort, false, memory_order_relaxed);
    atomic_store_explicit(&c->go, 0, memory_order_relaxed);
    atomic_store_explicit(&c->done, 0, memory_order_relaxed);
    c->h = NULL;
    int err = c->ops->init(&c->h, &micro_handoff_cfg);
    if (err) {
        char msg[160];
        snprintf(msg, sizeof msg, "handoff %s: init failed: %s", c->ops->name, strerror(-err));
        c->h = NULL;
        micro_fail(st, &c->abort, msg);
        return false;
    }
    c->ops->reset(c->h, &c->cell);
    return true;
}

static void handoff_teardown(gb_state *st, struct handoff_ctx *c)
{
    if (gb_thread_index(st) == 0 && c->h) {
        c->ops->fini(c->h);
        c->h = NULL;
    }
}

static void bm_arm_disarm(gb_state *st)
{
    struct handoff_ctx *c = gb_user_arg(st);
    const struct pb_handoff_ops *ops = c->ops;
    struct {
        _Alignas(PB_CACHE_LINE) struct pb_cancel_cell cell; /* this thread's own line */
    } own;
    memset(&own, 0, sizeof own);
    struct micro_clock clk = { .started = false };
    handoff_setup(st, c);
    uint64_t n, unexpected = 0;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        if (!micro_peers_ok(st, &c->abort))
            continue;
        struct pb_handoff *h = c->h;
        for (uint64_t i = 0; i < n; i++) {
            ops->reset(h, &own.cell);
            unexpected += ops->arm(h, &own.cell, micro_routine) != PB_ARM_SET;
            unexpected += !ops->disarm(h, &own.cell);
        }
    }
    handoff_teardown(st, c);
    micro_report(st, (double)gb_iterations(st), &clk, true);
    /* Without a canceller, arm must answer SET and disarm must win. */
    gb_counter_set(st, "unexpected", (double)unexpected, GB_COUNTER_DEFAULT);
    if (label_of(ops))
        gb_set_label(st, label_of(ops));
}

struct race_tally {
    uint64_t rounds, arm_won, cancel_won, double_owner, no_owner;
};

static void tally(struct race_tally *t, bool arm_owns, bool cancel_owns)
{
    t->rounds++;
    if (arm_owns && cancel_owns)
        t->double_owner++;
    else if (arm_owns)
        t->arm_won++;
    else if (cancel_owns)
        t->cancel_won++;
    else
        t->no_owner++;
}

/* Thread 0: n rounds. *round: the last round started; *arm_owned: whether
 * this side owned it (judged when thread 1's answer comes). */
static bool race_arm_side(gb_state *st, struct handoff_ctx *c, uint64_t n, uint64_t *round,
                          bool *arm_owned, struct race_tally *t)
{
    const struct pb_handoff_ops *ops = c->ops;
    struct pb_handoff *h = c->h;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t prev = *round;
        uint64_t d;
        unsigned spins = 0;
        /* acquire: thread 1's cancel of round prev is over before the
         * reset below (pairs with its release of done). */
        while ((d = atomic_load_explicit(&c->done, memory_order_acquire)) >> 1 != prev) {
            if (!micro_spin_or_abort(&spins, &c->abort)) {
                gb_skip_with_error(st, "another thread of this benchmark failed");
                return false;
            }
        }
        if (prev)
            tally(t, *arm_owned, d & 1);
        ops->reset(h, &c->cell);
        *round = prev + 1;
        /* release: the reset cell to the canceller. */
        atomic_store_explicit(&c->go, *round, memory_order_release);
        pb_arm_result r = ops->arm(h, &c->cell, micro_routine);
        *arm_owned = r == PB_ARM_SET ? ops->disarm(h, &c->cell) : r == PB_ARM_CANCELLED;
    }
    return true;
}

/* Thread 1: n rounds, each started by thread 0. */
static bool race_cancel_side(gb_state *st, struct handoff_ctx *c, uint64_t n, uint64_t *round)
{
    const struct pb_handoff_ops *ops = c->ops;
    struct pb_handoff *h = c->h;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t want = *round + 1;
        unsigned spins = 0;
        /* acquire: the reset cell (pairs with thread 0's release of go). */
        while (atomic_load_explicit(&c->go, memory_order_acquire) != want) {
            if (!micro_spin_or_abort(&spins, &c->abort)) {
                gb_skip_with_error(st, "another thread of this benchmark failed");
                return false;
            }
        }
        bool was_set;
        bool took = ops->cancel(h, &c->cell, &was_set) != NULL;
        *round = want;
        /* release: our cancel is over before thread 0 resets the cell. */
        atomic_store_explicit(&c->done, want << 1 | (uint64_t)took, memory_order_release);
    }
    return true;
}

static void bm_cancel_vs_clear(gb_state *st)
{
    struct handoff_ctx *c = gb_user_arg(st);
    int t = gb_thread_index(st);
    struct micro_affinity aff;
    micro_pin((unsigned)t, &aff);
    struct micro_clock clk = { .started = false };
    handoff_setup(st, c);
    uint64_t n, round = 0;
    bool arm_owned = false, ok = true;
    struct race_tally tl = { 0 };
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        if (!ok || !micro_peers_ok(st, &c->abort)) {
            ok = false;
            continue;
        }
        ok = t == 0 ? race_arm_side(st, c, n, &round, &arm_owned, &tl)
                    : race_cancel_side(st, c, n, &round);
    }
    micro_unpin(&aff);
    if (t == 0 && ok && round) {
        /* The last round: thread 1 answered before the stop barrier. */
        uint64_t d = atomic_load_explicit(&c->done, memory_order_acquire);
        if (d >> 1 == round)
            tally(&tl, arm_owned, d & 1);
    }
    handoff_teardown(st, c);
    if (t != 0)
        return;
    double rounds = tl.rounds ? (double)tl.rounds : 1.0;
    micro_report(st, (double)tl.rounds, &clk, false);
    gb_counter_set(st, "arm_won", (double)tl.arm_won / rounds, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "cancel_won", (double)tl.cancel_won / rounds, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "double_owner", (double)tl.double_owner, GB_COUNTER_DEFAULT);
    gb_counter_set(st, "no_owner", (double)tl.no_owner, GB_COUNTER_DEFAULT);
    if (label_of(c->ops))
        gb_set_label(st, label_of(c->ops));
}

static struct handoff_ctx *new_ctx(const struct pb_handoff_ops *ops)
{
    struct handoff_ctx *c = micro_ctx_new(sizeof *c);
    c->ops = ops;
    atomic_init(&c->abort, false);
    atomic_init(&c->go, 0);
    atomic_init(&c->done, 0);
    return c;
}

/* The handoff's benchmarks (a built-in's, or a plugin's: `--plugin ./x.so`). */
void micro_register_handoff(const struct pb_handoff_ops *ops)
{
    const char *s = ops->name;
    gb_register_with_arg(micro_name("handoff", s, "arm_disarm"), bm_arm_disarm, new_ctx(ops));
    gb_benchmark *b;
    b = gb_register_with_arg(micro_name("handoff", s, "arm_disarm"), bm_arm_disarm,
                             new_ctx(ops));
    gb_set_threads(b, 2);
    b = gb_register_with_arg(micro_name("handoff", s, "cancel_vs_clear"), bm_cancel_vs_clear,
                             new_ctx(ops));
    gb_set_threads(b, 2);
}

void micro_register_handoffs(void)
{
    for (size_t i = 0; pb_handoffs[i]; i++)
        micro_register_handoff(pb_handoffs[i]);
}
