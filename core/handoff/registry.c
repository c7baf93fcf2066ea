/* The cancel/complete handoff strategies, by name. Adding one: its file,
 * plus one line here. */
#include <string.h>

#include "pb_strategy.h"
#include "pendbench_plugin.h"

extern const struct pb_handoff_ops pb_handoff_xchg;
extern const struct pb_handoff_ops pb_handoff_cas;
extern const struct pb_handoff_ops pb_handoff_op_lock;
extern const struct pb_handoff_ops pb_handoff_global_lock;
extern const struct pb_handoff_ops pb_handoff_broken;

/* The suite measures its group in this order (the baseline first, the
 * default last): keep it so. */
const struct pb_handoff_ops *const pb_handoffs[] = {
    &pb_handoff_global_lock,
    &pb_handoff_op_lock,
    &pb_handoff_cas,
    &pb_handoff_xchg,
    &pb_handoff_broken,
    NULL,
};

const struct pb_handoff_ops *pb_handoff_find(const char *name)
{
    if (pb_plugin_is_path(name))     /* a plugin, by its path: loaded on first use */
        return pb_plugin_load(name, PB_PLUGIN_HANDOFF, NULL, 0);
    for (size_t i = 0; name && pb_handoffs[i]; i++)
        if (strcmp(pb_handoffs[i]->name, name) == 0)
            return pb_handoffs[i];
    return pb_plugin_find_name(name, PB_PLUGIN_HANDOFF);   /* a loaded plugin, by its name */
}

_Thread_local unsigned pb_locks_held;
