/* A test plugin built for another plugin ABI version: refused at load. */
#include "pendbench_plugin.h"

static const struct pb_queue_ops unused_queue = { .name = "bad-abi-queue" };

__attribute__((visibility("default"))) const struct pb_plugin pendbench_plugin = {
    PB_PLUGIN_ABI_VERSION + 41, PB_PLUGIN_QUEUE, (uint32_t)sizeof(struct pb_queue_ops),
    &unused_queue,
};
