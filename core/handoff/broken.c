/* handoff `broken`: DELIBERATELY WRONG. It exists only so that the stress
 * harness can prove it catches a bad handoff (a checker that never fails
 * proves nothing). Never select it for a measurement.
 *
 * It is `xchg` (see xchg.c) except for disarm, which checks the slot with
 * a load and then clears it with a separate store (check-then-act) instead
 * of exchanging it. Between the two, a canceller can exchange the routine
 * out; then the canceller got the routine and disarm still returns true:
 * both sides believe they own completion (a double completion, CAN7
 * violated). The window is widened with WINDOW_PAUSES pause instructions
 * (a few hundred nanoseconds) and a sched_yield() in their middle, so that
 * a two-thread disarm-vs-cancel race hits it within a few thousand rounds
 * when the threads run on two cores, and also when they share one core
 * (an oversubscribed machine): the yield lets a canceller waiting for the
 * core run inside the window.
 *
 * Cell: word = the routine (0 = none); aux bit 0 = the cancel bit.
 *
 * State transitions (S = arm, X = disarm, C = cancel); only X differs
 * from xchg:
 *
 *   slot  cancel | S                    | X                    | C
 *   -------------------------------------------------------------------------
 *   0     0      | slot=r: SET          | false                | bit=1, NULL
 *   r     0      | (not allowed)        | load r; ...; slot=0; | bit=1, takes r
 *                |                      |  true  <- THE BUG: C | 
 *                |                      |  may take r in "..." |
 *   0     1      | slot=r, sees bit,    | false                | NULL, was_set
 *                |  takes r back:       |                      |
 *                |  CANCELLED           |                      |
 *   r     1      | -                    | as above (racy)      | takes r
 *
 * Concurrency: as xchg, except that disarm concurrent with cancel may give
 * the routine to both. The racy accesses are relaxed atomics, so this is a
 * logic race only: no C data race, and ThreadSanitizer has nothing to
 * report (the harness, not TSan, must catch it). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "pb_strategy.h"
#include "pb_tsc.h"

#define CANCEL_BIT 1u
#define WINDOW_PAUSES 64

struct pb_handoff { int unused; };

static int broken_init(struct pb_handoff **h, const struct pb_handoff_config *cfg)
{
    *h = calloc(1, sizeof **h);
    return *h ? 0 : -ENOMEM;
}

static void broken_fini(struct pb_handoff *h) { free(h); }

static void broken_reset(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    /* relaxed: published later by the hand-over of the operation. */
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    atomic_store_explicit(&c->aux, 0, memory_order_relaxed);
}

static pb_arm_result broken_arm(struct pb_handoff *h, struct pb_cancel_cell *c, pb_cancel_routine r)
{
    /* seq_cst: store the slot before loading the bit (Dekker, as xchg). */
    atomic_exchange_explicit(&c->word, (uintptr_t)r, memory_order_seq_cst);
    if (!(atomic_load_explicit(&c->aux, memory_order_seq_cst) & CANCEL_BIT))
        return PB_ARM_SET;
    uintptr_t back = atomic_exchange_explicit(&c->word, 0, memory_order_acq_rel);
    return back ? PB_ARM_CANCELLED : PB_ARM_CANCELLER_TOOK;
}

static bool broken_disarm(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    /* THE BUG: check ... */
    if (atomic_load_explicit(&c->word, memory_order_relaxed) == 0)
        return false;
    for (int i = 0; i < WINDOW_PAUSES / 2; i++)
        pb_cpu_relax();
    sched_yield();
    for (int i = 0; i < WINDOW_PAUSES / 2; i++)
        pb_cpu_relax();
    /* ... then act, without checking that the routine is still there. */
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    return true;
}

static pb_cancel_routine broken_cancel(struct pb_handoff *h, struct pb_cancel_cell *c, bool *was_set)
{
    uint32_t old = atomic_fetch_or_explicit(&c->aux, CANCEL_BIT, memory_order_seq_cst);
    *was_set = (old & CANCEL_BIT) != 0;
    return (pb_cancel_routine)atomic_exchange_explicit(&c->word, 0, memory_order_seq_cst);
}

static bool broken_is_cancelled(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return (atomic_load_explicit(&c->aux, memory_order_acquire) & CANCEL_BIT) != 0;
}

static bool broken_is_armed(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return atomic_load_explicit(&c->word, memory_order_acquire) != 0;
}

const struct pb_handoff_ops pb_handoff_broken = {
    .name = "broken",
    .description = "DELIBERATELY WRONG check-then-act disarm, to prove the stress checker fails",
    .flags = PB_BROKEN,
    .init = broken_init,
    .fini = broken_fini,
    .reset = broken_reset,
    .arm = broken_arm,
    .disarm = broken_disarm,
    .cancel = broken_cancel,
    .is_cancelled = broken_is_cancelled,
    .is_armed = broken_is_armed,
};
