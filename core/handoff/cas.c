/* handoff `cas`: one state word holds both the routine and the cancel bit,
 * and every transition is a compare-and-swap of that word. Setting the
 * routine and testing the bit (CAN8) is then one atomic step, and so is
 * setting the bit and taking the routine (CAN4).
 *
 * Cell: word = routine | CANCEL (the top bit); aux unused. The top bit is
 * clear in every user-space code address of the 64-bit targets we build
 * for (x86-64, AArch64 without pointer tags on code); arm checks it and
 * aborts otherwise. (The low bit would not do: gcc aligns functions only
 * from -O2 up, so the -O1 sanitizer builds may place a routine at an odd
 * address.)
 *
 * State transitions (S = arm, X = disarm, C = cancel):
 *
 *   word     | S                      | X               | C
 *   -----------------------------------------------------------------------
 *   0        | ->r: SET               | false           | ->CANCEL: NULL
 *   r        | (not allowed)          | ->0: true       | ->CANCEL: r
 *   CANCEL   | stays: CANCELLED       | false           | stays: NULL, was_set
 *   r|CANCEL | unreachable: C takes r in the same CAS that sets the bit,
 *            | and S never installs r over the bit
 *
 * Because S's set-and-test is one step, a canceller can never take the
 * routine between them: arm never returns PB_ARM_CANCELLER_TOOK here.
 *
 * Concurrency: arm, disarm, cancel and the queries may run concurrently on
 * one cell from any threads (one arm per operation); reset only while no
 * other call is on the cell. The word is the only shared state, so there
 * is no store-load (Dekker) pattern: acq_rel on each successful CAS is
 * enough for the taker of the routine to see what the arming side wrote
 * before arming. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pb_strategy.h"

#define CANCEL ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))

struct pb_handoff { int unused; };

static int cas_init(struct pb_handoff **h, const struct pb_handoff_config *cfg)
{
    *h = calloc(1, sizeof **h);
    return *h ? 0 : -ENOMEM;
}

static void cas_fini(struct pb_handoff *h) { free(h); }

static void cas_reset(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    /* relaxed: a fresh operation is published to other threads later, by
     * the release that hands its handle or work item over. */
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    atomic_store_explicit(&c->aux, 0, memory_order_relaxed);
}

static pb_arm_result cas_arm(struct pb_handoff *h, struct pb_cancel_cell *c, pb_cancel_routine r)
{
    uintptr_t want = (uintptr_t)r;
    if (want & CANCEL) {
        fprintf(stderr, "handoff cas: routine %p has the cancel bit set\n", (void *)want);
        abort();
    }
    /* relaxed: only the CAS's value matters. */
    uintptr_t old = atomic_load_explicit(&c->word, memory_order_relaxed);
    for (;;) {
        if (old & CANCEL)
            return PB_ARM_CANCELLED;   /* set, saw the bit, took it back: one step */
        /* release: what the caller wrote before arming goes to whoever takes
         * the routine; acquire on failure: the canceller's state. */
        if (atomic_compare_exchange_weak_explicit(&c->word, &old, want, memory_order_acq_rel,
                                                  memory_order_acquire))
            return PB_ARM_SET;
    }
}

static bool cas_disarm(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    uintptr_t old = atomic_load_explicit(&c->word, memory_order_relaxed);
    for (;;) {
        if ((old & ~CANCEL) == 0 || (old & CANCEL))
            return false;              /* no routine, or cancellation owns it */
        /* acq_rel: the winner sees the arming side's writes and publishes
         * its claim. */
        if (atomic_compare_exchange_weak_explicit(&c->word, &old, 0, memory_order_acq_rel,
                                                  memory_order_relaxed))
            return true;
    }
}

static pb_cancel_routine cas_cancel(struct pb_handoff *h, struct pb_cancel_cell *c, bool *was_set)
{
    uintptr_t old = atomic_load_explicit(&c->word, memory_order_relaxed);
    /* acq_rel: acquire the arming side's writes with the routine taken;
     * release the bit to later arms. */
    while (!atomic_compare_exchange_weak_explicit(&c->word, &old, CANCEL, memory_order_acq_rel,
                                                  memory_order_relaxed))
        ;
    *was_set = (old & CANCEL) != 0;
    return (pb_cancel_routine)(old & ~CANCEL);
}

static bool cas_is_cancelled(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return (atomic_load_explicit(&c->word, memory_order_acquire) & CANCEL) != 0;
}

static bool cas_is_armed(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return (atomic_load_explicit(&c->word, memory_order_acquire) & ~CANCEL) != 0;
}

const struct pb_handoff_ops pb_handoff_cas = {
    .name = "cas",
    .description = "one state word (routine | cancel bit), compare-and-swap transitions",
    .flags = PB_IN_SUITE,
    .init = cas_init,
    .fini = cas_fini,
    .reset = cas_reset,
    .arm = cas_arm,
    .disarm = cas_disarm,
    .cancel = cas_cancel,
    .is_cancelled = cas_is_cancelled,
    .is_armed = cas_is_armed,
};
