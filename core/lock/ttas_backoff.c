/* lock `ttas-backoff`: test-and-test-and-set with back-off, the one
 * spinlock every spinning strategy carried by hand before locks were a
 * kind (global-spin, percpu-steal's pop lock, magazine's locks, op-lock,
 * global-lock). Its code is pb_spin.h's pb_spin_lock / pb_spin_trylock /
 * pb_spin_unlock, which stays the single implementation; this file makes
 * it a lock of the kind.
 *
 * State (8 bytes, IN_WORD): the lock word (0 free, 1 held) and may_yield,
 * the config's, recorded by init. All zero is a free lock whose waiters
 * spin only: the state op-lock keeps in each operation's cell, where init
 * is never called, and op-lock never yields (PB_NEVER_YIELDS).
 *
 * Waiting: waiters only read the word while it is held, pause on every
 * spin and, when may_yield, give the CPU away every PB_SPIN_YIELD_AFTER
 * spins (the holder may be preempted). Not FIFO: whoever's exchange lands
 * first after the release takes it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pb_lock.h"
#include "pb_spin.h"

struct ttas {
    pb_spinlock word;
    uint32_t may_yield;            /* written by init only, before the lock is shared */
};
_Static_assert(sizeof(struct ttas) <= 8, "an in-word lock is at most 8 bytes");
_Static_assert(offsetof(struct ttas, word) == 0, "pb_lock_use.h inlines the word at offset 0");

static int ttas_init(void *lock, const struct pb_lock_config *cfg)
{
    struct ttas *t = lock;
    atomic_init(&t->word, 0);
    t->may_yield = cfg->may_yield;
    return 0;
}

static void ttas_fini(void *lock) { (void)lock; }

static void ttas_lock(void *lock, struct pb_lock_hold *h)
{
    struct ttas *t = lock;
    pb_spin_lock(&t->word, t->may_yield != 0);
}

static bool ttas_trylock(void *lock, struct pb_lock_hold *h)
{
    return pb_spin_trylock(&((struct ttas *)lock)->word);
}

static void ttas_unlock(void *lock, struct pb_lock_hold *h)
{
    pb_spin_unlock(&((struct ttas *)lock)->word);
}

const struct pb_lock_ops pb_lock_ttas_backoff = {
    .name = "ttas-backoff",
    .description = "test-and-test-and-set, pause and yield back-off (the strategies' spinlock)",
    .flags = PB_IN_SUITE | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(struct ttas),
    .init = ttas_init,
    .fini = ttas_fini,
    .lock = ttas_lock,
    .trylock = ttas_trylock,
    .unlock = ttas_unlock,
};
