/* pendbench-micro: pool `magazine` compiled into this file, so that its
 * get / put are called directly instead of through the ops table, next to
 * the same loop through the registry's ops table:
 *
 *   pool/magazine/get_put/direct   get + put on cpu 0, static calls
 *   pool/magazine/get_put/ops      the same loop through pb_pool_find("magazine")
 *
 * The exported ops table is renamed on the way in (no clash with
 * libcore.a's); the static functions are this file's own copy. */
#include "pb_strategy.h"

extern const struct pb_pool_ops pb_pool_magazine_direct;

#define pb_pool_magazine pb_pool_magazine_direct
#include "../../core/pool/magazine.c"
#undef pb_pool_magazine

#include <stdio.h>
#include <string.h>

#include "micro.h"

static const struct pb_pool_config direct_cfg = {
    .object_size = MICRO_OBJECT_SIZE,
    .capacity = 0,
    .ncpus = 2,
};

static void bm_direct(gb_state *st)
{
    struct pb_pool *p = NULL;
    if (pb_pool_magazine_direct.init(&p, &direct_cfg) != 0) {
        gb_skip_with_error(st, "pool magazine: init failed");
        p = NULL;
    }
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            void *b = mag_get(p, 0);
            if (!b) {
                gb_skip_with_error(st, "get returned NULL");
                break;
            }
            gb_do_not_optimize(b);
            mag_put(p, 0, b);
        }
    }
    if (p)
        pb_pool_magazine_direct.fini(p);
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

static void bm_ops(gb_state *st)
{
    const struct pb_pool_ops *ops = gb_user_arg(st);
    struct pb_pool *p = NULL;
    if (ops->init(&p, &direct_cfg) != 0) {
        gb_skip_with_error(st, "pool magazine: init failed");
        p = NULL;
    }
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            void *b = ops->get(p, 0);
            if (!b) {
                gb_skip_with_error(st, "get returned NULL");
                break;
            }
            gb_do_not_optimize(b);
            ops->put(p, 0, b);
        }
    }
    if (p)
        ops->fini(p);
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

void micro_register_direct_pool(void)
{
    const struct pb_pool_ops *ops = pb_pool_find("magazine");
    if (!ops)
        return;
    gb_register("pool/magazine/get_put/direct", bm_direct);
    gb_register_with_arg("pool/magazine/get_put/ops", bm_ops, (void *)ops);
}
