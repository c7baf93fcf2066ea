/* A test plugin whose pool's name holds a terminal escape: refused at
 * load (it reached the run table raw and turned the terminal red). Its
 * operations are never called. */
#include <stddef.h>

#include "pendbench_plugin.h"

static int p_init(struct pb_pool **p, const struct pb_pool_config *cfg)
{
    (void)cfg;
    *p = NULL;
    return 0;
}

static void p_fini(struct pb_pool *p) { (void)p; }

static void *p_get(struct pb_pool *p, unsigned cpu)
{
    (void)p, (void)cpu;
    return NULL;
}

static void p_put(struct pb_pool *p, unsigned cpu, void *block) { (void)p, (void)cpu, (void)block; }

static const struct pb_pool_ops escape_name_pool = {
    .name = "a\x1b[31mred",
    .description = "test: an escape sequence in the name",
    .init = p_init,
    .fini = p_fini,
    .get = p_get,
    .put = p_put,
};

PB_PLUGIN_POOL(escape_name_pool);
