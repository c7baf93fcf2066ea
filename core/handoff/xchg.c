/* handoff `xchg`: the routine slot is exchanged atomically, as
 * IoSetCancelRoutine does; the cancel bit is a separate word, as
 * Irp->Cancel. One exchange of the slot decides who owns completion
 * (SPEC CAN7).
 *
 * Cell: word = the routine (0 = none); aux bit 0 = the cancel bit.
 *
 * State transitions (S = arm, X = disarm, C = cancel):
 *
 *   slot     cancel  | S                 | X              | C
 *   ---------------------------------------------------------------------------
 *   0        0       | slot=r, ->(r,0)   | false          | bit=1, takes 0: NULL
 *   r        0       | (not allowed)     | slot=0, true   | bit=1, takes r: r
 *   0        1       | slot=r, sees bit, | false          | bit stays, takes 0
 *                    |  takes r back:    |                |
 *                    |  CANCELLED        |                |
 *   r        1       | -                 | slot=0, true   | takes r (or X won)
 *
 * S and C race as Dekker's pair: S stores the slot then loads the bit, C
 * stores the bit then exchanges the slot. Both sides use seq_cst so at
 * least one sees the other; the second exchange of the slot then picks
 * exactly one owner. */
#include <stdlib.h>

#include "pb_strategy.h"

#define CANCEL_BIT 1u

struct pb_handoff { int unused; };

static int xchg_init(struct pb_handoff **h, const struct pb_handoff_config *cfg)
{
    *h = calloc(1, sizeof **h);
    return *h ? 0 : -12;
}

static void xchg_fini(struct pb_handoff *h) { free(h); }

static void xchg_reset(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    /* relaxed: a fresh operation is published to other threads later, by
     * the release that hands its handle or work item over. */
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    atomic_store_explicit(&c->aux, 0, memory_order_relaxed);
}

static pb_arm_result xchg_arm(struct pb_handoff *h, struct pb_cancel_cell *c, pb_cancel_routine r)
{
    /* seq_cst: the store of the slot must be ordered before the load of
     * the cancel bit (store-load), against C's bit-then-slot. */
    atomic_exchange_explicit(&c->word, (uintptr_t)r, memory_order_seq_cst);
    if (!(atomic_load_explicit(&c->aux, memory_order_seq_cst) & CANCEL_BIT))
        return PB_ARM_SET;
    /* A cancel came: whoever exchanges the routine out first owns it. */
    uintptr_t back = atomic_exchange_explicit(&c->word, 0, memory_order_acq_rel);
    return back ? PB_ARM_CANCELLED : PB_ARM_CANCELLER_TOOK;
}

static bool xchg_disarm(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    /* acq_rel: the winner of the slot sees what the arming side wrote
     * before arming, and publishes its own claim. */
    return atomic_exchange_explicit(&c->word, 0, memory_order_acq_rel) != 0;
}

static pb_cancel_routine xchg_cancel(struct pb_handoff *h, struct pb_cancel_cell *c, bool *was_set)
{
    /* seq_cst on both: the bit must be visible before the slot is read
     * (store-load against arm). */
    uint32_t old = atomic_fetch_or_explicit(&c->aux, CANCEL_BIT, memory_order_seq_cst);
    *was_set = (old & CANCEL_BIT) != 0;
    return (pb_cancel_routine)atomic_exchange_explicit(&c->word, 0, memory_order_seq_cst);
}

static bool xchg_is_cancelled(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return (atomic_load_explicit(&c->aux, memory_order_acquire) & CANCEL_BIT) != 0;
}

static bool xchg_is_armed(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return atomic_load_explicit(&c->word, memory_order_acquire) != 0;
}

const struct pb_handoff_ops pb_handoff_xchg = {
    .name = "xchg",
    .description = "atomic exchange of the routine slot (IoSetCancelRoutine)",
    .flags = PB_IN_SUITE,
    .init = xchg_init,
    .fini = xchg_fini,
    .reset = xchg_reset,
    .arm = xchg_arm,
    .disarm = xchg_disarm,
    .cancel = xchg_cancel,
    .is_cancelled = xchg_is_cancelled,
    .is_armed = xchg_is_armed,
};
