/* Internal to the core (strategies and the model) and the workloads: how a
 * lock-based strategy takes its lock from the lock kind (pb_lock.h), so
 * that every one of them chooses, checks and places its lock the same way.
 *
 * Choosing: the config's lock, or the strategy's default (its ops' `lock`
 * name). Checking: the lock must have every capability of the strategy's
 * `lock_needs`; init returns -EINVAL otherwise, and the model (which
 * checks first) says why in words (pb_lock_unfit_why).
 *
 * Placing: a lock guarding a small structure goes at the start of a cache
 * line with the structure's data right after it (pb_lock_block), so that a
 * small lock and its data share the one line the holder writes, as a lock
 * placed by hand inside the structure did before locks were a kind; a
 * lock whose state is larger simply pushes the data to the next line. */
#ifndef PB_LOCK_USE_H
#define PB_LOCK_USE_H

#include <stdbool.h>
#include <stddef.h>

#include "pb_lock.h"
#include "pb_spin.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

/* The default lock of every spinning strategy. Its fast paths are inlined
 * below (pointer identity, not a property: no other lock is treated
 * apart), so the strategies' default figures stay those of the hand-placed
 * spinlock they had: through the ops table, two indirect calls cost 3-5 ns
 * per uncontended acquire/release in the micro suite. Its state starts
 * with its pb_spinlock word (ttas_backoff.c asserts it). */
extern const struct pb_lock_ops pb_lock_ttas_backoff;

/* ---- acquiring ------------------------------------------------------------
 * pb_lock_acquire's body, inline: strategies call it on their fast paths
 * (a call less per acquisition and release: about a third of what taking
 * an uncontended lock through the kind costs over a hand-inlined one);
 * lock.c's pb_lock_acquire is this, so the counting exists once.
 *
 * A lock with a trylock is tried first; only when the try fails is the
 * wait timed (two pb_tsc_now), so the uncontended path pays no clock
 * read. A lock without a trylock cannot tell an uncontended acquisition
 * from a short wait: every acquisition is timed, and one that took more
 * than PB_LOCK_NO_TRY_WAIT_TICKS counts as contended (its whole time as
 * waiting); below that it is what an uncontended lock call costs, cache
 * misses on the lock's line included. About 300-500 ns at common TSC
 * rates: several cache-line transfers. */
#define PB_LOCK_NO_TRY_WAIT_TICKS 1000u

/* A try failed: wait in the lock itself, timed. */
static inline void pb_lock__wait_timed(const struct pb_lock_ops *ops, void *state,
                                       struct pb_lock_hold *h)
{
    uint64_t t0 = pb_tsc_now();
    ops->lock(state, h);
    pb_lock_stats.contended++;
    pb_lock_stats.wait_ticks += pb_tsc_now() - t0;
}

static inline void pb_lock_acquire_inline(const struct pb_lock_ops *ops, void *state,
                                          struct pb_lock_hold *h)
{
    pb_lock_stats.acquisitions++;
    if (ops == &pb_lock_ttas_backoff) {
        if (__builtin_expect(!pb_spin_trylock((pb_spinlock *)state), 0))
            pb_lock__wait_timed(ops, state, h);
        return;
    }
    if (ops->trylock) {
        if (__builtin_expect(!ops->trylock(state, h), 0))
            pb_lock__wait_timed(ops, state, h);
        return;
    }
    uint64_t t0 = pb_tsc_now();
    ops->lock(state, h);
    uint64_t took = pb_tsc_now() - t0;
    if (took > PB_LOCK_NO_TRY_WAIT_TICKS) {
        pb_lock_stats.contended++;
        pb_lock_stats.wait_ticks += took;
    }
}

static inline void pb_lock_release_inline(const struct pb_lock_ops *ops, void *state,
                                          struct pb_lock_hold *h)
{
    if (ops == &pb_lock_ttas_backoff)
        pb_spin_unlock((pb_spinlock *)state);
    else
        ops->unlock(state, h);
}

/* The lock a strategy takes: `chosen`, or the one named `dflt` (its ops'
 * `lock`). NULL only when dflt names no registered lock. */
const struct pb_lock_ops *pb_lock_choose(const struct pb_lock_ops *chosen, const char *dflt);

/* Every capability of `needs` (pb_lock_flag bits) is among lock's flags. */
static inline bool pb_lock_fits(const struct pb_lock_ops *lock, unsigned needs)
{
    return lock && (lock->flags & needs) == needs;
}

/* Why lock does not fit a strategy that needs `needs`, in words naming the
 * missing capabilities ("it has no trylock", ...); "" when it fits. */
const char *pb_lock_unfit_why(const struct pb_lock_ops *lock, unsigned needs, char *buf,
                              size_t size);

/* The lock config a strategy passes: may_yield is false for a strategy
 * that models a kernel spinlock (its flags have PB_NEVER_YIELDS). */
static inline struct pb_lock_config pb_lock_config_of(unsigned ncpus, unsigned nnodes,
                                                      unsigned strategy_flags,
                                                      const struct pb_mem_hooks *mem)
{
    struct pb_lock_config c = {
        .ncpus = ncpus ? ncpus : 1,
        .nnodes = nnodes ? nnodes : 1,
        .may_yield = !(strategy_flags & PB_NEVER_YIELDS),
    };
    if (mem)
        c.mem = *mem;
    return c;
}

/* A lock and the data it guards, in one allocation on `cpu`'s node: the
 * lock's state at the start (cache-line aligned), `data_size` bytes of
 * the owner's data right after it (8-aligned, zeroed), whole lines in
 * all. Read-only after create. */
struct pb_lock_block {
    const struct pb_lock_ops *ops;
    void *state;                   /* = the block's start */
    void *data;                    /* state + the lock's size rounded up to 8 */
    size_t bytes;
    struct pb_mem_hooks mem;
};

/* 0, or -errno from the allocation or the lock's init (-ENOTSUP passed on). */
int pb_lock_block_create(struct pb_lock_block *b, const struct pb_lock_ops *ops,
                         const struct pb_lock_config *cfg, unsigned cpu, size_t data_size);
/* Finishes the lock and frees the block; a zeroed block is nothing. */
void pb_lock_block_destroy(struct pb_lock_block *b);

static inline void pb_lock_block_acquire(const struct pb_lock_block *b, struct pb_lock_hold *h)
{
    pb_lock_acquire_inline(b->ops, b->state, h);
}

static inline void pb_lock_block_release(const struct pb_lock_block *b, struct pb_lock_hold *h)
{
    pb_lock_release_inline(b->ops, b->state, h);
}

/* A trylock through the kind (the lock must have PB_LOCK_TRYLOCK): true
 * when taken, counted in pb_lock_stats as an acquisition that did not
 * wait. A failed try is not a wait (nobody waited): it is not counted. */
static inline bool pb_lock_try(const struct pb_lock_ops *ops, void *state, struct pb_lock_hold *h)
{
    if (!ops->trylock(state, h))
        return false;
    pb_lock_stats.acquisitions++;
    return true;
}

#endif
