/* lock `tas`: test-and-set. Every attempt, the first and each one while
 * waiting, is an atomic exchange of the word: the simplest spinlock, and
 * the worst under contention (each waiter's exchange takes the line away
 * from the holder and from the other waiters). ttas-backoff is the same
 * lock with waiters that only read until the word looks free.
 *
 * State: 8 bytes, { held, may_yield }. held 0 free, 1 taken. may_yield is
 * written by init and only read afterwards.
 *
 * IN_WORD: all-zero is a free lock that never yields, so an operation's
 * word (op-lock, which models a kernel spinlock) needs no init; init
 * records cfg->may_yield (0 or 1) and fini does nothing.
 *
 * Memory orders: the exchange that takes the lock is acquire (the section
 * sees the previous holder's writes); unlock is a release store (publishes
 * the section); a failed exchange needs nothing more.
 *
 * Fairness: none. Whoever's exchange lands first after the release wins,
 * often the releasing thread itself; a waiter can starve.
 *
 * Flags: TRYLOCK (one exchange), IN_WORD. Waits: pb_backoff, yielding
 * per may_yield. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pb_lock.h"
#include "pb_spin.h"

struct tas {
    _Atomic uint32_t held;
    uint32_t may_yield;
};
_Static_assert(sizeof(struct tas) == 8, "IN_WORD: fits an operation's word");

static int tas_init(void *lock, const struct pb_lock_config *cfg)
{
    struct tas *l = lock;
    atomic_init(&l->held, 0);
    l->may_yield = cfg->may_yield;
    return 0;
}

static void tas_fini(void *lock) { (void)lock; }

static void tas_lock(void *lock, struct pb_lock_hold *h)
{
    struct tas *l = lock;
    bool may_yield = l->may_yield;
    unsigned spins = 0;
    /* acquire: the section sees what the previous holder wrote. */
    while (atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
        pb_backoff(&spins, may_yield);
}

static bool tas_trylock(void *lock, struct pb_lock_hold *h)
{
    struct tas *l = lock;
    return !atomic_exchange_explicit(&l->held, 1, memory_order_acquire);
}

static void tas_unlock(void *lock, struct pb_lock_hold *h)
{
    struct tas *l = lock;
    atomic_store_explicit(&l->held, 0, memory_order_release);   /* publishes the section */
}

const struct pb_lock_ops pb_lock_tas = {
    .name = "tas",
    .description = "test-and-set: every attempt an atomic exchange (no read-only waiting)",
    .flags = PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(struct tas),
    .init = tas_init,
    .fini = tas_fini,
    .lock = tas_lock,
    .trylock = tas_trylock,
    .unlock = tas_unlock,
};
