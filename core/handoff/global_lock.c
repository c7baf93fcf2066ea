/* handoff `global-lock`: one cancel spinlock for every operation, held
 * around every arm, disarm and cancel, as the legacy
 * IoAcquireCancelSpinLock / IoReleaseCancelSpinLock pair. Every cancel
 * and completion in the process serialises on one lock: that is what this
 * strategy shows, and with `--lock` how another lock of the kind would
 * carry it (the suite's locks group).
 *
 * Handoff: lock = one lock of the kind, by default `ttas-backoff` (any
 * lock fits), its state on its own line (pb_lock_create), taken through
 * pb_lock_acquire; a spinning lock never yields here (PB_NEVER_YIELDS: a
 * kernel spinlock's holder is not preempted).
 * Cell: word = the routine (0 = none); aux bit 0 = the cancel bit, as
 * Irp->Cancel. Both are written only with the lock held; they are atomics
 * so that is_cancelled and is_armed may read them without the lock.
 *
 * State transitions (S = arm, X = disarm, C = cancel), each one critical
 * section:
 *
 *   word  cancel | S                   | X              | C
 *   ------------------------------------------------------------------------
 *   0     0      | ->(r,0): SET        | false          | ->(0,1): NULL
 *   r     0      | (not allowed)       | ->(0,0): true  | ->(0,1): r
 *   0     1      | stays: CANCELLED    | false          | stays: NULL, was_set
 *   r     1      | unreachable (C takes r as it sets the bit; S does not
 *                | set r once the bit is set)
 *
 * S's set-and-test is one critical section, so arm never returns
 * PB_ARM_CANCELLER_TOOK.
 *
 * Concurrency: arm, disarm, cancel and the queries may run concurrently
 * from any threads on any cells; reset only while no other call is on the
 * cell. The lock is released before cancel returns, so the canceller
 * calls the routine with no model lock held (CAN2); pb_locks_held counts
 * it while held. init/fini with no call in flight. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pb_lock_use.h"
#include "pb_strategy.h"

#define CANCEL_BIT 1u

struct pb_handoff {
    struct pb_lock_ref lock;       /* read-only after init; the state on its own line */
};

extern const struct pb_handoff_ops pb_handoff_global_lock;

static void cancel_lock(struct pb_handoff *h, struct pb_lock_hold *hold)
{
    /* The lock's acquire: every cell as the last holder left it. */
    pb_lock_acquire_inline(h->lock.ops, h->lock.state, hold);
    pb_locks_held++;
}

static void cancel_unlock(struct pb_handoff *h, struct pb_lock_hold *hold)
{
    pb_locks_held--;
    pb_lock_release_inline(h->lock.ops, h->lock.state, hold);
}

static void gl_fini(struct pb_handoff *h)
{
    pb_lock_destroy(&h->lock);
    free(h);
}

static int gl_init(struct pb_handoff **hp, const struct pb_handoff_config *cfg)
{
    static const struct pb_handoff_config none;
    if (!cfg)
        cfg = &none;
    const struct pb_lock_ops *lock = pb_lock_choose(cfg->lock, pb_handoff_global_lock.lock);
    if (!pb_lock_fits(lock, pb_handoff_global_lock.lock_needs))
        return -EINVAL;
    struct pb_handoff *h = calloc(1, sizeof *h);
    if (!h)
        return -ENOMEM;
    struct pb_lock_config lc = pb_lock_config_of(cfg->ncpus, cfg->nnodes,
                                                 pb_handoff_global_lock.flags, &cfg->mem);
    int rc = pb_lock_create(&h->lock, lock, &lc);
    if (rc != 0) {
        free(h);
        return rc;
    }
    *hp = h;
    return 0;
}

static void gl_reset(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    /* relaxed: a fresh operation is published to other threads later, by
     * the release that hands its handle or work item over. */
    atomic_store_explicit(&c->word, 0, memory_order_relaxed);
    atomic_store_explicit(&c->aux, 0, memory_order_relaxed);
}

/* Inside the lock, loads are relaxed (the lock orders them) and stores
 * release (for the lock-free queries). */

static pb_arm_result gl_arm(struct pb_handoff *h, struct pb_cancel_cell *c, pb_cancel_routine r)
{
    pb_arm_result res = PB_ARM_SET;
    struct pb_lock_hold hold;
    cancel_lock(h, &hold);
    if (atomic_load_explicit(&c->aux, memory_order_relaxed) & CANCEL_BIT)
        res = PB_ARM_CANCELLED;        /* set, saw the bit, took it back */
    else
        atomic_store_explicit(&c->word, (uintptr_t)r, memory_order_release);
    cancel_unlock(h, &hold);
    return res;
}

static bool gl_disarm(struct pb_handoff *h, struct pb_cancel_cell *c)
{
    struct pb_lock_hold hold;
    cancel_lock(h, &hold);
    bool took = atomic_load_explicit(&c->word, memory_order_relaxed) != 0;
    if (took)
        atomic_store_explicit(&c->word, 0, memory_order_release);
    cancel_unlock(h, &hold);
    return took;
}

static pb_cancel_routine gl_cancel(struct pb_handoff *h, struct pb_cancel_cell *c, bool *was_set)
{
    struct pb_lock_hold hold;
    cancel_lock(h, &hold);
    uint32_t bits = atomic_load_explicit(&c->aux, memory_order_relaxed);
    atomic_store_explicit(&c->aux, bits | CANCEL_BIT, memory_order_release);
    uintptr_t r = atomic_load_explicit(&c->word, memory_order_relaxed);
    atomic_store_explicit(&c->word, 0, memory_order_release);
    cancel_unlock(h, &hold);   /* before the caller calls r (CAN2) */
    *was_set = (bits & CANCEL_BIT) != 0;
    return (pb_cancel_routine)r;
}

static bool gl_is_cancelled(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return (atomic_load_explicit(&c->aux, memory_order_acquire) & CANCEL_BIT) != 0;
}

static bool gl_is_armed(struct pb_handoff *h, const struct pb_cancel_cell *c)
{
    return atomic_load_explicit(&c->word, memory_order_acquire) != 0;
}

const struct pb_handoff_ops pb_handoff_global_lock = {
    .name = "global-lock",
    .description = "one cancel spinlock for everything (IoAcquireCancelSpinLock)",
    .flags = PB_BASELINE | PB_NEVER_YIELDS | PB_IN_SUITE,
    .lock = "ttas-backoff",
    .init = gl_init,
    .fini = gl_fini,
    .reset = gl_reset,
    .arm = gl_arm,
    .disarm = gl_disarm,
    .cancel = gl_cancel,
    .is_cancelled = gl_is_cancelled,
    .is_armed = gl_is_armed,
};
