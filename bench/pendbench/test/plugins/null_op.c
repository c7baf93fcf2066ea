/* A test plugin whose queue leaves an operation NULL: refused at load. */
#include <stdlib.h>

#include "pendbench_plugin.h"

static int q_init(struct pb_queue **q, const struct pb_queue_config *cfg)
{
    (void)cfg;
    *q = NULL;
    return 0;
}

static void q_fini(struct pb_queue *q) { (void)q; }

static int q_enqueue(struct pb_queue *q, unsigned qi, struct pb_work *w)
{
    (void)q, (void)qi, (void)w;
    return 0;
}

static void q_shutdown(struct pb_queue *q) { (void)q; }

static const struct pb_queue_ops null_op_queue = {
    .name = "null-op-queue",
    .description = "test: no dequeue",
    .init = q_init,
    .fini = q_fini,
    .enqueue = q_enqueue,
    .dequeue = NULL,
    .shutdown = q_shutdown,
};

PB_PLUGIN_QUEUE(null_op_queue);
