/* A test plugin pool that this build "does not have": init returns
 * -ENOTSUP, as the jemalloc pool does under the sanitizers. The model
 * reports it as not available, which a session skips with a note; the
 * CLI test uses it to check what happens when that was all that was
 * asked for, in every build variant (jemalloc is there in some). */
#include <errno.h>
#include <stddef.h>

#include "pendbench_plugin.h"

static int un_init(struct pb_pool **pool, const struct pb_pool_config *cfg)
{
    (void)pool;
    (void)cfg;
    return -ENOTSUP;
}

static void un_fini(struct pb_pool *pool) { (void)pool; }

static void *un_get(struct pb_pool *pool, unsigned cpu)
{
    (void)pool;
    (void)cpu;
    return NULL;
}

static void un_put(struct pb_pool *pool, unsigned cpu, void *block)
{
    (void)pool;
    (void)cpu;
    (void)block;
}

static const struct pb_pool_ops unavailable_pool = {
    .name = "unavailable-pool",
    .description = "test plugin: never available (init says -ENOTSUP)",
    .flags = 0,
    .init = un_init,
    .fini = un_fini,
    .get = un_get,
    .put = un_put,
};

PB_PLUGIN_POOL(unavailable_pool);
