/* An example handoff plugin, `example-handoff`: the cancel routine in the
 * cell's word, the cancel bit in its aux, each side exchanging the word
 * so that exactly one of "the worker clears the routine" and "the
 * canceller takes it" wins (CAN7). Small on purpose: the whole contract
 * of a handoff (pb_strategy.h). Build (from the top folder):
 *
 *   cc -std=c11 -O2 -fPIC -shared -Icore/include -o example_handoff.so \
 *      examples/plugins/example_handoff.c
 *
 * and try it: pendbench stress --handoff ./example_handoff.so */
#include <errno.h>
#include <stdlib.h>

#include "pendbench_plugin.h"

struct pb_handoff { int unused; };

static int ex_init(struct pb_handoff **h, const struct pb_handoff_config *cfg)
{
    *h = calloc(1, sizeof **h);
    return *h ? 0 : -ENOMEM;
}

static void ex_fini(struct pb_handoff *h)
{
    free(h);
}

static void ex_reset(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    (void)h;                       /* no state beyond the cell */
    /* relaxed: published by the hand-over of the operation. */
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    atomic_store_explicit(&c->aux, 0, memory_order_relaxed);
}

static pb_arm_result ex_arm(struct pb_handoff *h, struct pb_cancel_cell *c, pb_cancel_routine r)
{
    (void)h;                       /* no state beyond the cell */
    /* seq_cst: set the routine before reading the bit, as the canceller
     * sets the bit before taking the routine: one of us sees the other. */
    atomic_exchange_explicit(&c->word, (uintptr_t)r, memory_order_seq_cst);
    if (!(atomic_load_explicit(&c->aux, memory_order_seq_cst) & 1u))
        return PB_ARM_SET;
    /* Cancelled: whoever exchanges the routine out first owns completion. */
    uintptr_t back = atomic_exchange_explicit(&c->word, 0, memory_order_acq_rel);
    return back ? PB_ARM_CANCELLED : PB_ARM_CANCELLER_TOOK;
}

static bool ex_disarm(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    (void)h;                       /* no state beyond the cell */
    return atomic_exchange_explicit(&c->word, 0, memory_order_acq_rel) != 0;
}

static pb_cancel_routine ex_cancel(struct pb_handoff *h, struct pb_cancel_cell *c, bool *was_set)
{
    (void)h;                       /* no state beyond the cell */
    uint32_t old = atomic_fetch_or_explicit(&c->aux, 1u, memory_order_seq_cst);
    if (was_set)
        *was_set = (old & 1u) != 0;
    return (pb_cancel_routine)atomic_exchange_explicit(&c->word, 0, memory_order_seq_cst);
}

static bool ex_is_cancelled(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    (void)h;                       /* no state beyond the cell */
    return (atomic_load_explicit(&c->aux, memory_order_acquire) & 1u) != 0;
}

static bool ex_is_armed(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    (void)h;                       /* no state beyond the cell */
    return atomic_load_explicit(&c->word, memory_order_acquire) != 0;
}

static const struct pb_handoff_ops example_handoff = {
    .name = "example-handoff",
    .description = "plugin example: exchange of the routine word, cancel bit beside it",
    .flags = 0,
    .init = ex_init,
    .fini = ex_fini,
    .reset = ex_reset,
    .arm = ex_arm,
    .disarm = ex_disarm,
    .cancel = ex_cancel,
    .is_cancelled = ex_is_cancelled,
    .is_armed = ex_is_armed,
};

PB_PLUGIN_HANDOFF(example_handoff);
