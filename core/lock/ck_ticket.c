/* lock `ck-ticket`: Concurrency Kit's ticket lock (ck_spinlock_ticket,
 * ck 0.7), the library peer of `ticket`, used as it is.
 *
 * State: struct ck_spinlock_ticket: on x86-64 one 32-bit word of two
 * 16-bit halves (next ticket, ticket served; unlock increments the served
 * half alone with a 16-bit atomic). All-zero is free (ck's initializer).
 *
 * Waiting: ck spins with ck_pr_stall (pause) and never yields, whatever
 * cfg->may_yield says: PB_NEVER_YIELDS. With more threads than CPUs a FIFO
 * lock that never yields hands the lock to a preempted waiter and the
 * others spin out their time slices: use it with a thread per CPU.
 *
 * Memory orders: ck's (ck_pr_fence_lock after taking, ck_pr_fence_unlock
 * before the release; on x86 TSO these are compiler barriers around the
 * locked instructions). ThreadSanitizer: pb_opaque.h.
 *
 * Fairness: strict FIFO (65536 waiters at most before tickets alias).
 *
 * Flags: REFERENCE, FIFO, TRYLOCK (ck_spinlock_ticket_trylock), IN_WORD
 * (4 bytes, zero is free, init is ck's store of zero, fini nothing),
 * NEVER_YIELDS. */
#include <stdbool.h>

#include <ck_spinlock.h>

#include "pb_opaque.h"
#include "pb_lock.h"

_Static_assert(sizeof(struct ck_spinlock_ticket) <= 8, "IN_WORD: fits an operation's word");

static int ckt_init(void *lock, const struct pb_lock_config *cfg)
{
    ck_spinlock_ticket_init(lock);
    return 0;
}

static void ckt_fini(void *lock) { (void)lock; }

static void ckt_lock(void *lock, struct pb_lock_hold *h)
{
    PB_OPAQUE_BEGIN();
    ck_spinlock_ticket_lock(lock);
    PB_OPAQUE_END();
    PB_TSAN_ACQUIRE(lock);
}

static bool ckt_trylock(void *lock, struct pb_lock_hold *h)
{
    PB_OPAQUE_BEGIN();
    bool took = ck_spinlock_ticket_trylock(lock);
    PB_OPAQUE_END();
    if (took)
        PB_TSAN_ACQUIRE(lock);
    return took;
}

static void ckt_unlock(void *lock, struct pb_lock_hold *h)
{
    PB_TSAN_RELEASE(lock);
    PB_OPAQUE_BEGIN();
    ck_spinlock_ticket_unlock(lock);
    PB_OPAQUE_END();
}

const struct pb_lock_ops pb_lock_ck_ticket = {
    .name = "ck-ticket",
    .description = "Concurrency Kit's ticket lock (ck_spinlock_ticket), never yields",
    .flags = PB_REFERENCE | PB_NEVER_YIELDS | PB_LOCK_FIFO | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(struct ck_spinlock_ticket),
    .init = ckt_init,
    .fini = ckt_fini,
    .lock = ckt_lock,
    .trylock = ckt_trylock,
    .unlock = ckt_unlock,
};
