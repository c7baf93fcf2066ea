/* lock `ck-clh`: Concurrency Kit's CLH lock (ck_spinlock_clh, ck 0.7), the
 * library peer of `clh`, used as it is.
 *
 * Nodes: ck's unlock hands the caller its predecessor's node ("*thread =
 * previous"): CLH nodes are fungible. The node brought to lock cannot
 * live in the hold on the stack (the successor reads it after unlock), so
 * nodes come from the per-thread free lists of node_cache.h, as clh's:
 * lock takes one, unlock gives back the one ck returns. A free lock owns
 * one node, its tail: init allocates it (ck_spinlock_clh_init's
 * "unowned"), fini frees whichever node is the tail then.
 *
 * State: the queue tail, a struct ck_spinlock_clh pointer, 8 bytes.
 *
 * Waiting: ck spins with ck_pr_stall (pause) and never yields, whatever
 * cfg->may_yield says: PB_NEVER_YIELDS (with more threads than CPUs, a
 * FIFO lock that never yields hands over to preempted waiters: use it
 * with a thread per CPU).
 *
 * Memory orders: ck's. ThreadSanitizer: pb_opaque.h; the annotations'
 * acquire/release chain also orders a node's passage between threads for
 * the free lists.
 *
 * Fairness: strict FIFO.
 *
 * Flags: REFERENCE, FIFO, NEVER_YIELDS. No trylock (ck has none for CLH). */
#include <errno.h>
#include <stdbool.h>

#include <ck_spinlock.h>

#include "pb_opaque.h"
#include "node_cache.h"
#include "pb_lock.h"

_Static_assert(sizeof(struct ck_spinlock_clh) <= PB_LOCK_NODE_USABLE, "fits a cached node");

struct ckc_hold {
    struct ck_spinlock_clh *mine;  /* ck's unlock replaces it with the predecessor's */
};
_Static_assert(sizeof(struct ckc_hold) <= sizeof(struct pb_lock_hold), "fits the hold");

static int ckc_init(void *lock, const struct pb_lock_config *cfg)
{
    struct ck_spinlock_clh *own = pb_lock_node_new();
    if (!own)
        return -ENOMEM;
    ck_spinlock_clh_init(lock, own);
    return 0;
}

static void ckc_fini(void *lock)
{
    pb_lock_node_free(*(struct ck_spinlock_clh **)lock);
}

static void ckc_lock(void *lock, struct pb_lock_hold *h)
{
    struct ckc_hold *ch = (struct ckc_hold *)h;
    ch->mine = pb_lock_node_get();
    PB_OPAQUE_BEGIN();
    ck_spinlock_clh_lock(lock, ch->mine);
    PB_OPAQUE_END();
    PB_TSAN_ACQUIRE(lock);
}

static void ckc_unlock(void *lock, struct pb_lock_hold *h)
{
    struct ckc_hold *ch = (struct ckc_hold *)h;
    PB_TSAN_RELEASE(lock);
    PB_OPAQUE_BEGIN();
    ck_spinlock_clh_unlock(&ch->mine);
    PB_OPAQUE_END();
    pb_lock_node_put(ch->mine);    /* the predecessor's node: ours now */
}

const struct pb_lock_ops pb_lock_ck_clh = {
    .name = "ck-clh",
    .description = "Concurrency Kit's CLH lock (ck_spinlock_clh), per-thread node lists, never yields",
    .flags = PB_REFERENCE | PB_NEVER_YIELDS | PB_LOCK_FIFO,
    .size = sizeof(struct ck_spinlock_clh *),
    .init = ckc_init,
    .fini = ckc_fini,
    .lock = ckc_lock,
    .trylock = NULL,
    .unlock = ckc_unlock,
};
