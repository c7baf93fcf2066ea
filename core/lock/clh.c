/* lock `clh`: Craig, Landin and Hagersten's queue lock. Each waiter
 * appends a node of its own with one exchange of the tail and spins on
 * its PREDECESSOR's node, which the predecessor clears at unlock. Like
 * MCS each waiter spins on its own line, and unlock is one store, with no
 * wait for a successor's link (MCS's unlock has that window); FIFO in the
 * order of the tail exchanges.
 *
 * Nodes: the node a holder brought is still read by its successor after
 * the holder's unlock, so it cannot live in the hold on the stack.
 * Instead CLH's nodes are fungible: once a waiter has the lock, its
 * predecessor's node is free and becomes the waiter's. Each thread keeps
 * a free list of nodes (node_cache.h): lock takes one from it and gives
 * back the predecessor's, so a thread owns as many nodes after as before.
 * A free lock owns one node, its tail: init allocates that one and fini
 * frees whichever node is the tail then.
 *
 * State: { tail, may_yield }, 16 bytes. may_yield is written by init and
 * only read afterwards. Node: locked, 1 from its owner's lock to its
 * unlock.
 *
 *   lock    node->locked = 1 (relaxed: published by the exchange);
 *           pred = exchange(tail, node) acq_rel: release publishes
 *           locked = 1 to the successor, which reads our node from the
 *           tail; acquire so that our read of pred->locked is not older
 *           than pred's owner's locked = 1. Spin on pred->locked with
 *           acquire loads (pairs with the unlock's release). Then pred
 *           goes to this thread's free list; the hold keeps node.
 *   unlock  node->locked = 0, release (publishes the section). The node
 *           now belongs to the successor, or to the lock while none.
 *
 * Fairness: strict FIFO; a preempted waiter holds up everyone behind it.
 *
 * Flags: FIFO. No trylock: appending is the only way in, and a thread
 * that has appended cannot leave the queue (a peek at the tail then a CAS
 * has the ABA problem of recycled nodes). Waits: pb_backoff, yielding per
 * may_yield. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "node_cache.h"
#include "pb_lock.h"
#include "pb_spin.h"

struct clh_node {
    _Atomic uint32_t locked;
};
_Static_assert(sizeof(struct clh_node) <= PB_LOCK_NODE_USABLE, "fits a cached node");

struct clh {
    struct clh_node *_Atomic tail;
    bool may_yield;
};

struct clh_hold {
    struct clh_node *mine;         /* unlock clears it */
};
_Static_assert(sizeof(struct clh_hold) <= sizeof(struct pb_lock_hold), "fits the hold");

static int clh_init(void *lock, const struct pb_lock_config *cfg)
{
    struct clh *l = lock;
    struct clh_node *own = pb_lock_node_new();
    if (!own)
        return -ENOMEM;
    atomic_init(&own->locked, 0);
    atomic_init(&l->tail, own);
    l->may_yield = cfg->may_yield;
    return 0;
}

static void clh_fini(void *lock)
{
    struct clh *l = lock;
    /* relaxed: fini runs after every user is done (and ordered by that). */
    pb_lock_node_free(atomic_load_explicit(&l->tail, memory_order_relaxed));
}

static void clh_lock(void *lock, struct pb_lock_hold *h)
{
    struct clh *l = lock;
    /* Read once, before the exchange: the lock's line moves at every
     * newcomer's exchange, and a read of it inside the wait would fetch
     * it back at each handover. */
    bool may_yield = l->may_yield;
    struct clh_node *me = pb_lock_node_get();
    atomic_store_explicit(&me->locked, 1, memory_order_relaxed);
    struct clh_node *pred = atomic_exchange_explicit(&l->tail, me, memory_order_acq_rel);
    unsigned spins = 0;
    while (atomic_load_explicit(&pred->locked, memory_order_acquire))
        pb_backoff(&spins, may_yield);
    pb_lock_node_put(pred);        /* its owner has let go of it, and no one else reads it */
    ((struct clh_hold *)h)->mine = me;
}

static void clh_unlock(void *lock, struct pb_lock_hold *h)
{
    struct clh_node *me = ((struct clh_hold *)h)->mine;
    atomic_store_explicit(&me->locked, 0, memory_order_release);   /* hands over */
}

const struct pb_lock_ops pb_lock_clh = {
    .name = "clh",
    .description = "CLH queue lock: each waiter spins on its predecessor's node (per-thread node lists), FIFO",
    .flags = PB_LOCK_FIFO,
    .size = sizeof(struct clh),
    .init = clh_init,
    .fini = clh_fini,
    .lock = clh_lock,
    .trylock = NULL,
    .unlock = clh_unlock,
};
