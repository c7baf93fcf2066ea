/* The deferred-queue strategies, by name. Adding one: its file, plus one
 * line here. */
#include <string.h>

#include "pb_strategy.h"
#include "pendbench_plugin.h"

extern const struct pb_queue_ops pb_queue_global_mutex;
extern const struct pb_queue_ops pb_queue_global_spin;
extern const struct pb_queue_ops pb_queue_percpu_mutex;
extern const struct pb_queue_ops pb_queue_percpu_mpsc;
extern const struct pb_queue_ops pb_queue_percpu_ring;
extern const struct pb_queue_ops pb_queue_percpu_lanes;
extern const struct pb_queue_ops pb_queue_percpu_steal;
extern const struct pb_queue_ops pb_queue_ck_ring;
extern const struct pb_queue_ops pb_queue_urcu_wfcq;

const struct pb_queue_ops *const pb_queues[] = {
    &pb_queue_global_mutex,
    &pb_queue_global_spin,
    &pb_queue_percpu_mutex,
    &pb_queue_percpu_mpsc,
    &pb_queue_percpu_ring,
    &pb_queue_percpu_lanes,
    &pb_queue_percpu_steal,
    &pb_queue_ck_ring,
    &pb_queue_urcu_wfcq,
    NULL,
};

const struct pb_queue_ops *pb_queue_find(const char *name)
{
    if (pb_plugin_is_path(name))     /* a plugin, by its path: loaded on first use */
        return pb_plugin_load(name, PB_PLUGIN_QUEUE, NULL, 0);
    for (size_t i = 0; name && pb_queues[i]; i++)
        if (strcmp(pb_queues[i]->name, name) == 0)
            return pb_queues[i];
    return pb_plugin_find_name(name, PB_PLUGIN_QUEUE);   /* a loaded plugin, by its name */
}
