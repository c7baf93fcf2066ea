/* A test plugin lock with no mutual exclusion at all (lock and unlock do
 * nothing): what `pendbench stress --lock` must catch, through the lock
 * plugin path, whatever the lock kind's own broken-lock does. */
#include <stdbool.h>

#include "pendbench_plugin.h"

static int nl_init(void *l, const struct pb_lock_config *c)
{
    (void)l, (void)c;
    return 0;
}

static void nl_fini(void *l) { (void)l; }
static void nl_lock(void *l, struct pb_lock_hold *h) { (void)l, (void)h; }
static bool nl_trylock(void *l, struct pb_lock_hold *h) { (void)l, (void)h; return true; }
static void nl_unlock(void *l, struct pb_lock_hold *h) { (void)l, (void)h; }

static const struct pb_lock_ops no_lock = {
    .name = "test-no-exclusion",
    .description = "test: takes nothing, excludes nobody",
    .flags = PB_BROKEN | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = 8,
    .init = nl_init,
    .fini = nl_fini,
    .lock = nl_lock,
    .trylock = nl_trylock,
    .unlock = nl_unlock,
};

PB_PLUGIN_LOCK(no_lock);
