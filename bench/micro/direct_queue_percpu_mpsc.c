/* pendbench-micro: queue `percpu-mpsc` compiled into this file, so that its
 * enqueue / dequeue are called directly instead of through the ops table,
 * next to the same loop through the registry's ops table:
 *
 *   queue/percpu-mpsc/enq_deq/direct   enqueue + dequeue, one thread, static calls
 *   queue/percpu-mpsc/enq_deq/ops      the same loop through pb_queue_find("percpu-mpsc")
 *
 * The exported ops table is renamed on the way in (no clash with
 * libcore.a's); the static functions are this file's own copy. Its
 * "idle.h" is found next to the included file. */
#include "pb_strategy.h"

extern const struct pb_queue_ops pb_queue_percpu_mpsc_direct;

#define pb_queue_percpu_mpsc pb_queue_percpu_mpsc_direct
#include "../../core/queue/percpu_mpsc.c"
#undef pb_queue_percpu_mpsc

#include <string.h>

#include "micro.h"

static const struct pb_queue_config direct_cfg = {
    .nqueues = 1,
    .capacity = 0,
    .idle = PB_IDLE_SPIN,
};

struct direct_item {
    _Alignas(PB_CACHE_LINE) struct pb_work link;
};

static void bm_direct(gb_state *st)
{
    struct pb_queue *q = NULL;
    if (pb_queue_percpu_mpsc_direct.init(&q, &direct_cfg) != 0) {
        gb_skip_with_error(st, "queue percpu-mpsc: init failed");
        q = NULL;
    }
    struct direct_item it;
    memset(&it, 0, sizeof it);
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            mpsc_enqueue(q, 0, &it.link);
            if (mpsc_dequeue(q, 0, false) != &it.link) {
                gb_skip_with_error(st, "dequeue did not return the item just enqueued");
                break;
            }
        }
    }
    if (q) {
        while (mpsc_dequeue(q, 0, false))
            ;
        pb_queue_percpu_mpsc_direct.fini(q);
    }
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

static void bm_ops(gb_state *st)
{
    const struct pb_queue_ops *ops = gb_user_arg(st);
    struct pb_queue *q = NULL;
    if (ops->init(&q, &direct_cfg) != 0) {
        gb_skip_with_error(st, "queue percpu-mpsc: init failed");
        q = NULL;
    }
    struct direct_item it;
    memset(&it, 0, sizeof it);
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            ops->enqueue(q, 0, &it.link);
            if (ops->dequeue(q, 0, false) != &it.link) {
                gb_skip_with_error(st, "dequeue did not return the item just enqueued");
                break;
            }
        }
    }
    if (q) {
        while (ops->dequeue(q, 0, false))
            ;
        ops->fini(q);
    }
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

void micro_register_direct_queue(void)
{
    const struct pb_queue_ops *ops = pb_queue_find("percpu-mpsc");
    if (!ops)
        return;
    gb_register("queue/percpu-mpsc/enq_deq/direct", bm_direct);
    gb_register_with_arg("queue/percpu-mpsc/enq_deq/ops", bm_ops, (void *)ops);
}
