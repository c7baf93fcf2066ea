/* Default memory for per-CPU data when no NUMA hook is given. */
#include <stdlib.h>
#include <string.h>

#include "pb_strategy.h"

static size_t round_to_line(size_t size)
{
    return (size + PB_CACHE_LINE - 1) & ~(size_t)(PB_CACHE_LINE - 1);
}

void *pb_mem_alloc(const struct pb_mem_hooks *hooks, unsigned cpu, size_t size)
{
    size = round_to_line(size ? size : 1);
    if (hooks && hooks->alloc_on_cpu_node)
        return hooks->alloc_on_cpu_node(hooks->arg, cpu, size);
    void *p = aligned_alloc(PB_CACHE_LINE, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void pb_mem_free(const struct pb_mem_hooks *hooks, void *ptr, size_t size)
{
    if (!ptr)
        return;
    if (hooks && hooks->alloc_on_cpu_node && hooks->free)
        hooks->free(hooks->arg, ptr, round_to_line(size ? size : 1));
    else
        free(ptr);
}
