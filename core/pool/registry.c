/* The pool strategies, by name. Adding one: its file, plus one line here. */
#include <string.h>

#include "pb_strategy.h"
#include "pendbench_plugin.h"

extern const struct pb_pool_ops pb_pool_malloc;
extern const struct pb_pool_ops pb_pool_locked_list;
extern const struct pb_pool_ops pb_pool_jemalloc;
extern const struct pb_pool_ops pb_pool_lifo;
extern const struct pb_pool_ops pb_pool_magazine;

const struct pb_pool_ops *const pb_pools[] = {
    &pb_pool_malloc,
    &pb_pool_locked_list,
    &pb_pool_jemalloc,
    &pb_pool_lifo,
    &pb_pool_magazine,
    NULL,
};

const struct pb_pool_ops *pb_pool_find(const char *name)
{
    if (pb_plugin_is_path(name))     /* a plugin, by its path: loaded on first use */
        return pb_plugin_load(name, PB_PLUGIN_POOL, NULL, 0);
    for (size_t i = 0; name && pb_pools[i]; i++)
        if (strcmp(pb_pools[i]->name, name) == 0)
            return pb_pools[i];
    return pb_plugin_find_name(name, PB_PLUGIN_POOL);   /* a loaded plugin, by its name */
}
