/* handoff `op-lock`: a small spinlock per operation, held around plain
 * updates of the routine and the cancel bit, as a driver that guards its
 * request with its own lock instead of relying on IoSetCancelRoutine's
 * exchange.
 *
 * The lock: by default `ttas-backoff`; any lock of the kind that can live
 * in the operation's own word (PB_LOCK_IN_WORD: at most 8 bytes, free
 * when all zero, no init or fini); any other is refused (init returns
 * -EINVAL, the model says why): an operation has no room for a lock's
 * line nor a place to init and fini one. Taken through pb_lock_acquire,
 * never yielding (PB_NEVER_YIELDS: the cell's state is never inited, and
 * an all-zero in-word lock spins only).
 *
 * Cell: lock = the lock's state (the cell's second 8 bytes, zeroed by
 * reset); word = routine | CANCEL (the top bit, clear in user-space code
 * addresses; arm checks it). word is written only with the lock held; it
 * is an atomic so that is_cancelled and is_armed may read it without the
 * lock.
 *
 * State transitions (S = arm, X = disarm, C = cancel), each one critical
 * section:
 *
 *   word     | S                      | X               | C
 *   -----------------------------------------------------------------------
 *   0        | ->r: SET               | false           | ->CANCEL: NULL
 *   r        | (not allowed)          | ->0: true       | ->CANCEL: r
 *   CANCEL   | stays: CANCELLED       | false           | stays: NULL, was_set
 *   r|CANCEL | unreachable (C takes r as it sets the bit; S does not set r
 *            | over the bit)
 *
 * S's set-and-test is one critical section, so arm never returns
 * PB_ARM_CANCELLER_TOOK.
 *
 * Concurrency: arm, disarm, cancel and the queries may run concurrently on
 * one cell from any threads; reset only while no other call is on the
 * cell. The lock is never held on return, so the canceller calls the
 * routine it got with no model lock held (CAN2); pb_locks_held counts it
 * while held. The lock's acquire/release orders everything inside; the
 * lock-free queries use acquire loads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_lock_use.h"
#include "pb_strategy.h"

#define CANCEL ((uintptr_t)1 << (sizeof(uintptr_t) * 8 - 1))

struct pb_handoff {
    const struct pb_lock_ops *lock;   /* read-only after init */
};

extern const struct pb_handoff_ops pb_handoff_op_lock;

static void op_lock(struct pb_handoff *h, struct pb_cancel_cell *c, struct pb_lock_hold *hold)
{
    /* The lock's acquire: the cell as the last holder left it. */
    pb_lock_acquire_inline(h->lock, c->lock, hold);
    pb_locks_held++;
}

static void op_unlock(struct pb_handoff *h, struct pb_cancel_cell *c, struct pb_lock_hold *hold)
{
    pb_locks_held--;
    pb_lock_release_inline(h->lock, c->lock, hold);
}

static int opl_init(struct pb_handoff **hp, const struct pb_handoff_config *cfg)
{
    const struct pb_lock_ops *lock = pb_lock_choose(cfg ? cfg->lock : NULL, pb_handoff_op_lock.lock);
    if (!pb_lock_fits(lock, pb_handoff_op_lock.lock_needs))
        return -EINVAL;
    struct pb_handoff *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    h->lock = lock;
    *hp = h;
    return 0;
}

static void opl_fini(struct pb_handoff *h) { free(h); }

static void opl_reset(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    /* relaxed: a fresh operation is published to other threads later, by
     * the release that hands its handle or work item over. */
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    /* A free in-word lock is all zero; nobody else is on the cell. */
    memset(c->lock, 0, sizeof c->lock);
}

static pb_arm_result opl_arm(struct pb_handoff *h, struct pb_cancel_cell *c, pb_cancel_routine r)
{
    if ((uintptr_t)r & CANCEL) {
        fprintf(stderr, "handoff op-lock: routine %p has the cancel bit set\n", (void *)(uintptr_t)r);
        abort();
    }
    pb_arm_result res = PB_ARM_SET;
    struct pb_lock_hold hold;
    op_lock(h, c, &hold);
    /* Loads relaxed inside the lock: the lock orders them. Stores release:
     * for the lock-free queries, which do not take the lock. */
    uintptr_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (w & CANCEL)
        res = PB_ARM_CANCELLED;        /* set, saw the bit, took it back */
    else
        atomic_store_explicit(&c->word, (uintptr_t)r, memory_order_release);
    op_unlock(h, c, &hold);
    return res;
}

static bool opl_disarm(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    bool took = false;
    struct pb_lock_hold hold;
    op_lock(h, c, &hold);
    uintptr_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    if (w && !(w & CANCEL)) {
        atomic_store_explicit(&c->word, 0, memory_order_release);
        took = true;
    }
    op_unlock(h, c, &hold);
    return took;
}

static pb_cancel_routine opl_cancel(struct pb_handoff *h, struct pb_cancel_cell *c, bool *was_set)
{
    struct pb_lock_hold hold;
    op_lock(h, c, &hold);
    uintptr_t w = atomic_load_explicit(&c->word, memory_order_relaxed);
    atomic_store_explicit(&c->word, CANCEL, memory_order_release);
    op_unlock(h, c, &hold);
    *was_set = (w & CANCEL) != 0;
    return (pb_cancel_routine)(w & ~CANCEL);
}

static bool opl_is_cancelled(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return (atomic_load_explicit(&c->word, memory_order_acquire) & CANCEL) != 0;
}

static bool opl_is_armed(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return (atomic_load_explicit(&c->word, memory_order_acquire) & ~CANCEL) != 0;
}

const struct pb_handoff_ops pb_handoff_op_lock = {
    .name = "op-lock",
    .description = "a spinlock per operation around plain updates",
    .flags = PB_NEVER_YIELDS | PB_IN_SUITE,
    .lock = "ttas-backoff",
    .lock_needs = PB_LOCK_IN_WORD,
    .init = opl_init,
    .fini = opl_fini,
    .reset = opl_reset,
    .arm = opl_arm,
    .disarm = opl_disarm,
    .cancel = opl_cancel,
    .is_cancelled = opl_is_cancelled,
    .is_armed = opl_is_armed,
};
