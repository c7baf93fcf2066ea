/* The cancel/complete handoff strategies, by name. Adding one: its file,
 * plus one line here. */
#include <string.h>

#include "pb_strategy.h"

extern const struct pb_handoff_ops pb_handoff_xchg;

const struct pb_handoff_ops *const pb_handoffs[] = {
    &pb_handoff_xchg,
    NULL,
};

const struct pb_handoff_ops *pb_handoff_find(const char *name)
{
    for (size_t i = 0; name && pb_handoffs[i]; i++)
        if (strcmp(pb_handoffs[i]->name, name) == 0)
            return pb_handoffs[i];
    return NULL;
}

_Thread_local unsigned pb_locks_held;
