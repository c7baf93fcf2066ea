/* lock `ck-mcs`: Concurrency Kit's MCS lock (ck_spinlock_mcs, ck 0.7), the
 * library peer of `mcs`, used as it is. The queue node (ck's "context")
 * lives in the holder's struct pb_lock_hold, on its stack, as mcs's.
 *
 * State: the queue tail, a struct ck_spinlock_mcs pointer: NULL is free
 * (ck's initializer). 8 bytes.
 *
 * Waiting: ck spins with ck_pr_stall (pause) and never yields, whatever
 * cfg->may_yield says: PB_NEVER_YIELDS (with more threads than CPUs, a
 * FIFO lock that never yields hands over to preempted waiters: use it
 * with a thread per CPU).
 *
 * Memory orders: ck's (its fences around the tail exchange, the link and
 * the handover store). ThreadSanitizer: pb_opaque.h.
 *
 * Fairness: strict FIFO.
 *
 * Flags: REFERENCE, FIFO, TRYLOCK (ck_spinlock_mcs_trylock: a CAS of a
 * free tail), IN_WORD (8 bytes, zero is free, init ck's store of NULL,
 * fini nothing), NEVER_YIELDS. */
#include <stdbool.h>

#include <ck_spinlock.h>

#include "pb_opaque.h"
#include "pb_lock.h"

_Static_assert(sizeof(struct ck_spinlock_mcs) <= sizeof(struct pb_lock_hold), "fits the hold");

static int ckm_init(void *lock, const struct pb_lock_config *cfg)
{
    ck_spinlock_mcs_init(lock);
    return 0;
}

static void ckm_fini(void *lock) { (void)lock; }

static void ckm_lock(void *lock, struct pb_lock_hold *h)
{
    PB_OPAQUE_BEGIN();
    ck_spinlock_mcs_lock(lock, (struct ck_spinlock_mcs *)h);
    PB_OPAQUE_END();
    PB_TSAN_ACQUIRE(lock);
}

static bool ckm_trylock(void *lock, struct pb_lock_hold *h)
{
    PB_OPAQUE_BEGIN();
    bool took = ck_spinlock_mcs_trylock(lock, (struct ck_spinlock_mcs *)h);
    PB_OPAQUE_END();
    if (took)
        PB_TSAN_ACQUIRE(lock);
    return took;
}

static void ckm_unlock(void *lock, struct pb_lock_hold *h)
{
    PB_TSAN_RELEASE(lock);
    PB_OPAQUE_BEGIN();
    ck_spinlock_mcs_unlock(lock, (struct ck_spinlock_mcs *)h);
    PB_OPAQUE_END();
}

const struct pb_lock_ops pb_lock_ck_mcs = {
    .name = "ck-mcs",
    .description = "Concurrency Kit's MCS lock (ck_spinlock_mcs), node in the hold, never yields",
    .flags = PB_REFERENCE | PB_NEVER_YIELDS | PB_LOCK_FIFO | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(struct ck_spinlock_mcs *),
    .init = ckm_init,
    .fini = ckm_fini,
    .lock = ckm_lock,
    .trylock = ckm_trylock,
    .unlock = ckm_unlock,
};
