/* Shared by the strategy tests: how any strategy's unavailability is
 * handled, whatever its name. */
#ifndef STRATEGY_COMMON_H
#define STRATEGY_COMMON_H

#include <criterion/criterion.h>
#include <errno.h>

#include "pb_strategy.h"

/* init returned -ENOTSUP: the strategy is not in this build (jemalloc
 * under the sanitizers, a library missing). Skipped, never failed; but
 * only a strategy that says it may be unavailable may say so. */
static inline void skip_if_unavailable(const char *name, unsigned flags, int rc)
{
    if (rc != -ENOTSUP)
        return;
    cr_assert(flags & PB_MAY_BE_UNAVAILABLE,
              "%s: init returned -ENOTSUP but its flags do not say PB_MAY_BE_UNAVAILABLE", name);
    cr_skip_test("%s: not available in this build", name);
}

/* ---- strategies under other locks (pb_lock.h) ----------------------------
 * A lock-based strategy (its ops name a default `lock`) runs the same
 * tests under every other registered lock that fits it: one that is not
 * its default, not deliberately broken, and has every capability of its
 * `lock_needs`. Parameters are index pairs (Criterion copies them into its
 * workers, where static data may lie elsewhere). */

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "pb_lock.h"

struct lock_param {
    size_t strategy;               /* index in the kind's registry */
    size_t lock;                   /* index in pb_locks[] */
};

/* The strategy tests run up to 5 threads. A FIFO lock that never yields
 * (Concurrency Kit's), with more threads than CPUs, hands the lock to a
 * preempted waiter and every other thread spins out its time slice:
 * correct, but a drain of thousands of items then outlasts the test (CI
 * failure on 2 CPUs). Such locks are left out below 8 CPUs; the lock
 * conformance suite (test_locks.c) checks them on any machine. */
static inline bool lock_is_other(const char *dflt, unsigned needs, const struct pb_lock_ops *l)
{
    bool convoys = (l->flags & (PB_NEVER_YIELDS | PB_LOCK_FIFO)) ==
                   (PB_NEVER_YIELDS | PB_LOCK_FIFO) && sysconf(_SC_NPROCESSORS_ONLN) < 8;
    return dflt && !(l->flags & PB_BROKEN) && strcmp(l->name, dflt) != 0 &&
           (l->flags & needs) == needs && !convoys;
}

/* Fills params with every (strategy, other lock) pair; the count. */
#define LOCK_PAIRS(registry, params, max, n)                                            \
    do {                                                                                 \
        for (size_t s_ = 0; registry[s_]; s_++)                                          \
            for (size_t l_ = 0; pb_locks[l_] && (n) < (max); l_++)                      \
                if (lock_is_other(registry[s_]->lock, registry[s_]->lock_needs,          \
                                  pb_locks[l_]))                                         \
                    (params)[(n)++] = (struct lock_param){ s_, l_ };                      \
    } while (0)

/* A test lock with no capability at all: a pthread mutex without trylock,
 * not in-word, not a pthread lock as far as its flags say. What a strategy
 * that needs a capability must refuse. */
static int bare_init(void *l, const struct pb_lock_config *c) { (void)c; return -pthread_mutex_init(l, NULL); }
static void bare_fini(void *l) { pthread_mutex_destroy(l); }
static void bare_lock(void *l, struct pb_lock_hold *h) { (void)h; pthread_mutex_lock(l); }
static void bare_unlock(void *l, struct pb_lock_hold *h) { (void)h; pthread_mutex_unlock(l); }
static const struct pb_lock_ops test_bare_lock __attribute__((unused)) = {
    .name = "test-bare",
    .description = "test: a mutex with no capability flags and no trylock",
    .flags = 0,
    .size = sizeof(pthread_mutex_t),
    .init = bare_init,
    .fini = bare_fini,
    .lock = bare_lock,
    .trylock = NULL,
    .unlock = bare_unlock,
};

#endif
