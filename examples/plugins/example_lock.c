/* An example lock plugin (pendbench_plugin.h): a test-and-set spinlock
 * with pause, the simplest lock of the kind (pb_lock.h). Every lock-based
 * built-in strategy takes it with `--lock ./example_lock.so`; stress runs
 * its checks over each of them (`pendbench stress --lock ./example_lock.so`).
 *
 * State: one 32-bit word, 0 free, 1 held; all zero is a free lock and
 * init records nothing, so it is an in-word lock (op-lock can keep it in
 * each operation's cell). It never yields (may_yield is not kept: an
 * in-word lock may never see its config), so on a machine with fewer
 * CPUs than threads its waiters burn their time slice. Not FIFO. Build
 * (from the top folder):
 *
 *   cc -std=c11 -O2 -fPIC -shared -Icore/include -o example_lock.so \
 *      examples/plugins/example_lock.c
 *
 * and try it: pendbench stress --lock ./example_lock.so */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pendbench_plugin.h"
#include "pb_tsc.h"

static int tas_init(void *lock, const struct pb_lock_config *cfg)
{
    (void)cfg;
    atomic_init((_Atomic uint32_t *)lock, 0);
    return 0;
}

static void tas_fini(void *lock) { (void)lock; }

static bool tas_trylock(void *lock, struct pb_lock_hold *h)
{
    (void)h;
    /* acquire: the critical section sees the previous holder's writes. */
    return atomic_exchange_explicit((_Atomic uint32_t *)lock, 1, memory_order_acquire) == 0;
}

static void tas_lock(void *lock, struct pb_lock_hold *h)
{
    while (!tas_trylock(lock, h))
        pb_cpu_relax();
}

static void tas_unlock(void *lock, struct pb_lock_hold *h)
{
    (void)h;
    atomic_store_explicit((_Atomic uint32_t *)lock, 0, memory_order_release);
}

static const struct pb_lock_ops example_lock = {
    .name = "example-tas",
    .description = "example plugin: test-and-set with pause",
    .flags = PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(uint32_t),
    .init = tas_init,
    .fini = tas_fini,
    .lock = tas_lock,
    .trylock = tas_trylock,
    .unlock = tas_unlock,
};

PB_PLUGIN_LOCK(example_lock);
