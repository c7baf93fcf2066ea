/* lock `pthread-spin`: POSIX's pthread_spinlock_t (glibc), the spinlock a
 * C programmer would reach for first.
 *
 * State: { the pthread_spinlock_t, may_yield }, 8 bytes; init is
 * pthread_spin_init (PTHREAD_PROCESS_PRIVATE), fini pthread_spin_destroy.
 *
 * Waiting: glibc's pthread_spin_lock spins with pause and never gives the
 * CPU away. That is what a lock configured with may_yield false asks for,
 * so then lock is pthread_spin_lock itself. With may_yield, a waiter
 * whose holder is preempted (more threads than CPUs) would spin through
 * its whole time slice, so lock is then pthread_spin_trylock retried
 * with pb_backoff (each retry an atomic on the word, glibc's trylock,
 * where glibc's own loop only reads between attempts).
 *
 * Memory orders: glibc's (acquire on taking, release on unlock).
 *
 * Fairness: none (a test-and-set lock).
 *
 * Flags: TRYLOCK. Not IN_WORD: all-zero happens to be glibc's free lock,
 * but POSIX asks for pthread_spin_init. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "pb_lock.h"
#include "pb_spin.h"

struct pspin {
    pthread_spinlock_t s;
    bool may_yield;
};

static int pspin_init(void *lock, const struct pb_lock_config *cfg)
{
    struct pspin *l = lock;
    l->may_yield = cfg->may_yield;
    return -pthread_spin_init(&l->s, PTHREAD_PROCESS_PRIVATE);
}

static void pspin_fini(void *lock)
{
    pthread_spin_destroy(&((struct pspin *)lock)->s);
}

static void pspin_lock(void *lock, struct pb_lock_hold *h)
{
    struct pspin *l = lock;
    if (!l->may_yield) {
        pthread_spin_lock(&l->s);
        return;
    }
    unsigned spins = 0;
    while (pthread_spin_trylock(&l->s) != 0)
        pb_backoff(&spins, true);
}

static bool pspin_trylock(void *lock, struct pb_lock_hold *h)
{
    return pthread_spin_trylock(&((struct pspin *)lock)->s) == 0;
}

static void pspin_unlock(void *lock, struct pb_lock_hold *h)
{
    pthread_spin_unlock(&((struct pspin *)lock)->s);
}

const struct pb_lock_ops pb_lock_pthread_spin = {
    .name = "pthread-spin",
    .description = "pthread_spinlock_t (glibc); with may_yield, trylock retried with the one back-off",
    .flags = PB_LOCK_TRYLOCK,
    .size = sizeof(struct pspin),
    .init = pspin_init,
    .fini = pspin_fini,
    .lock = pspin_lock,
    .trylock = pspin_trylock,
    .unlock = pspin_unlock,
};
