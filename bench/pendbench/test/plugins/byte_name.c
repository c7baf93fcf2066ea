/* A test plugin whose queue's name is bytes outside ASCII: refused at
 * load (the terminal got them raw, the result file "??"). Its operations
 * are never called. */
#include <stdbool.h>
#include <stddef.h>

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

static struct pb_work *q_dequeue(struct pb_queue *q, unsigned qi, bool wait)
{
    (void)q, (void)qi, (void)wait;
    return NULL;
}

static void q_shutdown(struct pb_queue *q) { (void)q; }

static const struct pb_queue_ops byte_name_queue = {
    .name = "\xff\xfe",
    .description = "test: bytes outside ASCII in the name",
    .init = q_init,
    .fini = q_fini,
    .enqueue = q_enqueue,
    .dequeue = q_dequeue,
    .shutdown = q_shutdown,
};

PB_PLUGIN_QUEUE(byte_name_queue);
