/* lock `pthread-mutex`: the C library's default mutex (glibc: a futex
 * word, a compare-and-swap when free, the waiter parks in the kernel when
 * held), the baseline every lock is measured against and the lock
 * global-mutex, percpu-mutex and locked-list took before locks were a
 * kind, so their figures under it are today's.
 *
 * State: a pthread_mutex_t, initialized with default attributes
 * (PB_LOCK_PTHREAD: a strategy may wait on a condition variable with it,
 * as global-mutex does). The hold is unused. Not FIFO: glibc wakes one
 * waiter on unlock, and a running thread may take the lock first. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "pb_lock.h"

static int pm_init(void *lock, const struct pb_lock_config *cfg)
{
    int rc = pthread_mutex_init(lock, NULL);
    return rc ? -rc : 0;
}

static void pm_fini(void *lock)
{
    pthread_mutex_destroy(lock);
}

static void pm_lock(void *lock, struct pb_lock_hold *h)
{
    pthread_mutex_lock(lock);
}

static bool pm_trylock(void *lock, struct pb_lock_hold *h)
{
    return pthread_mutex_trylock(lock) == 0;
}

static void pm_unlock(void *lock, struct pb_lock_hold *h)
{
    pthread_mutex_unlock(lock);
}

const struct pb_lock_ops pb_lock_pthread_mutex = {
    .name = "pthread-mutex",
    .description = "the C library's default mutex: a futex, waiters park (baseline)",
    .flags = PB_BASELINE | PB_IN_SUITE | PB_LOCK_SLEEPS | PB_LOCK_TRYLOCK | PB_LOCK_PTHREAD,
    .size = sizeof(pthread_mutex_t),
    .init = pm_init,
    .fini = pm_fini,
    .lock = pm_lock,
    .trylock = pm_trylock,
    .unlock = pm_unlock,
};
