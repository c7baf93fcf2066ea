/* pendbench-micro: handoff `xchg` compiled into this file, so that its
 * arm / disarm are called directly (and inlined) instead of through the
 * ops table, next to the same loop through the registry's ops table:
 *
 *   handoff/xchg/arm_disarm/direct   reset + arm + disarm, static calls
 *   handoff/xchg/arm_disarm/ops      the same loop through pb_handoff_find("xchg")
 *
 * The difference is the indirect-call cost (DESIGN.md, "Strategies").
 * The strategy's exported ops table is renamed on the way in, so this copy
 * does not clash with the one in libcore.a; its static functions are this
 * file's own. */
#include "pb_strategy.h"

extern const struct pb_handoff_ops pb_handoff_xchg_direct;

#define pb_handoff_xchg pb_handoff_xchg_direct
#include "../../core/handoff/xchg.c"
#undef pb_handoff_xchg

#include <string.h>

#include "micro.h"

static void direct_routine(void *op) { (void)op; }

static void bm_direct(gb_state *st)
{
    struct pb_handoff *h = NULL;
    if (pb_handoff_xchg_direct.init(&h, &micro_handoff_cfg) != 0) {
        gb_skip_with_error(st, "handoff xchg: init failed");
        h = NULL;
    }
    struct {
        _Alignas(PB_CACHE_LINE) struct pb_cancel_cell cell;
    } own;
    memset(&own, 0, sizeof own);
    struct micro_clock clk = { .started = false };
    uint64_t n, unexpected = 0;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            xchg_reset(h, &own.cell);
            unexpected += xchg_arm(h, &own.cell, direct_routine) != PB_ARM_SET;
            unexpected += !xchg_disarm(h, &own.cell);
        }
    }
    if (h)
        pb_handoff_xchg_direct.fini(h);
    micro_report(st, (double)gb_iterations(st), &clk, true);
    gb_counter_set(st, "unexpected", (double)unexpected, GB_COUNTER_DEFAULT);
}

static void bm_ops(gb_state *st)
{
    const struct pb_handoff_ops *ops = gb_user_arg(st);
    struct pb_handoff *h = NULL;
    if (ops->init(&h, &micro_handoff_cfg) != 0) {
        gb_skip_with_error(st, "handoff xchg: init failed");
        h = NULL;
    }
    struct {
        _Alignas(PB_CACHE_LINE) struct pb_cancel_cell cell;
    } own;
    memset(&own, 0, sizeof own);
    struct micro_clock clk = { .started = false };
    uint64_t n, unexpected = 0;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            ops->reset(h, &own.cell);
            unexpected += ops->arm(h, &own.cell, direct_routine) != PB_ARM_SET;
            unexpected += !ops->disarm(h, &own.cell);
        }
    }
    if (h)
        ops->fini(h);
    micro_report(st, (double)gb_iterations(st), &clk, true);
    gb_counter_set(st, "unexpected", (double)unexpected, GB_COUNTER_DEFAULT);
}

void micro_register_direct_handoff(void)
{
    const struct pb_handoff_ops *ops = pb_handoff_find("xchg");
    if (!ops)
        return; /* no longer registered: nothing to compare with */
    gb_register("handoff/xchg/arm_disarm/direct", bm_direct);
    gb_register_with_arg("handoff/xchg/arm_disarm/ops", bm_ops, (void *)ops);
}
