/* lock `broken-lock`: NO mutual exclusion, on purpose. It touches its word
 * the way tas does (an exchange to take, a store to let go), so it costs
 * about what a free tas costs, but it never waits and orders nothing: every
 * caller "gets" the lock at once. It exists so that the stress mode and
 * the conformance suite (core/test/test_locks.c) can show that they catch
 * a lock that does not exclude; never select it for a measurement.
 *
 * State: one 32-bit word, written (relaxed) and never read for a decision.
 * All-zero is as good as any state: IN_WORD (init and fini do nothing
 * useful). Trylock always succeeds: TRYLOCK.
 *
 * Flags: BROKEN, TRYLOCK, IN_WORD. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pb_lock.h"

static int broken_init(void *lock, const struct pb_lock_config *cfg)
{
    atomic_init((_Atomic uint32_t *)lock, 0);
    return 0;
}

static void broken_fini(void *lock) { (void)lock; }

static void broken_lock(void *lock, struct pb_lock_hold *h)
{
    /* relaxed, result ignored: the whole defect. */
    (void)atomic_exchange_explicit((_Atomic uint32_t *)lock, 1, memory_order_relaxed);
}

static bool broken_trylock(void *lock, struct pb_lock_hold *h)
{
    broken_lock(lock, h);
    return true;
}

static void broken_unlock(void *lock, struct pb_lock_hold *h)
{
    atomic_store_explicit((_Atomic uint32_t *)lock, 0, memory_order_relaxed);
}

const struct pb_lock_ops pb_lock_broken = {
    .name = "broken-lock",
    .description = "BROKEN on purpose: no mutual exclusion (proves that stress and the tests catch it)",
    .flags = PB_BROKEN | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(_Atomic uint32_t),
    .init = broken_init,
    .fini = broken_fini,
    .lock = broken_lock,
    .trylock = broken_trylock,
    .unlock = broken_unlock,
};
