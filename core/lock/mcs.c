/* lock `mcs`: Mellor-Crummey and Scott's queue lock. Each waiter brings a
 * queue node (here: in its struct pb_lock_hold, on its stack), appends it
 * with one exchange of the tail, links itself behind its predecessor and
 * spins on its OWN node's flag, which the predecessor clears at unlock: a
 * handover moves one line to one waiter instead of invalidating all of
 * them (ticket). FIFO in the order of the tail exchanges.
 *
 * State: the tail, one 8-byte word: the last node queued, or none (free).
 * Bit 0 is may_yield (nodes are cache-line aligned, so a node address
 * never has it): init writes it, and every value stored in the tail keeps
 * it (a locker reads it before its exchange; only init changes it, before
 * the lock is shared).
 *
 * IN_WORD: all-zero is a free lock that never yields, so an operation's
 * word (op-lock, a kernel spinlock's model) needs no init; init records
 * cfg->may_yield; fini does nothing (a free lock owns no node).
 *
 * Node (in the hold): next (the successor, linked by it), locked (1 until
 * the predecessor hands over).
 *
 *   lock    node = {next NULL, locked 1} (relaxed: published by the
 *           exchange); pred = exchange(tail, node) acq_rel: release
 *           publishes the node before a successor links to it; acquire,
 *           when pred is none, pairs with the release CAS of the last
 *           unlock (the section sees its writes). With a pred:
 *           pred->next = node, release (the predecessor's acquire read of
 *           next then orders our locked = 1 before its locked = 0), and
 *           spin on node->locked with acquire loads (pairs with the
 *           handover's release store).
 *   unlock  next = node->next (acquire: the successor's node is
 *           initialised). None: CAS(tail, node -> free) release publishes
 *           the section to the next locker; if that fails a successor has
 *           exchanged the tail but not linked yet: wait for the link. Then
 *           next->locked = 0, release (publishes the section).
 *   trylock CAS(tail, free -> node) acq_rel: acquire as lock; release
 *           publishes node->next = NULL before a successor links.
 *
 * Fairness: strict FIFO. A preempted waiter holds up everyone behind it;
 * so does a holder preempted between a successor's exchange and link
 * (unlock then waits for the link).
 *
 * Flags: FIFO, TRYLOCK, IN_WORD. Waits: pb_backoff, yielding per
 * may_yield. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pb_lock.h"
#include "pb_spin.h"

#define MAY_YIELD ((uintptr_t)1)   /* bit 0 of the tail */

struct mcs_node {
    struct mcs_node *_Atomic next;
    _Atomic uint32_t locked;
};

struct mcs_hold {
    struct mcs_node node;          /* first: the hold's cache-line alignment is the node's */
    uintptr_t yield_bit;           /* the tail's bit 0, as lock read it */
};
_Static_assert(sizeof(struct mcs_hold) <= sizeof(struct pb_lock_hold), "fits the hold");

static int mcs_init(void *lock, const struct pb_lock_config *cfg)
{
    atomic_init((_Atomic uintptr_t *)lock, cfg->may_yield ? MAY_YIELD : 0);
    return 0;
}

static void mcs_fini(void *lock) { (void)lock; }

static void mcs_lock(void *lock, struct pb_lock_hold *h)
{
    _Atomic uintptr_t *tail = lock;
    struct mcs_hold *mh = (struct mcs_hold *)h;
    struct mcs_node *me = &mh->node;
    atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
    atomic_store_explicit(&me->locked, 1, memory_order_relaxed);
    /* relaxed: only bit 0, fixed since before the lock was shared. */
    uintptr_t y = atomic_load_explicit(tail, memory_order_relaxed) & MAY_YIELD;
    mh->yield_bit = y;
    uintptr_t prev = atomic_exchange_explicit(tail, (uintptr_t)me | y, memory_order_acq_rel);
    struct mcs_node *pred = (struct mcs_node *)(prev & ~MAY_YIELD);
    if (!pred)
        return;
    atomic_store_explicit(&pred->next, me, memory_order_release);
    unsigned spins = 0;
    while (atomic_load_explicit(&me->locked, memory_order_acquire))
        pb_backoff(&spins, y);
}

static bool mcs_trylock(void *lock, struct pb_lock_hold *h)
{
    _Atomic uintptr_t *tail = lock;
    struct mcs_hold *mh = (struct mcs_hold *)h;
    struct mcs_node *me = &mh->node;
    /* relaxed: a guess; the CAS decides. */
    uintptr_t free_word = atomic_load_explicit(tail, memory_order_relaxed);
    if (free_word & ~MAY_YIELD)
        return false;                        /* held */
    atomic_store_explicit(&me->next, NULL, memory_order_relaxed);
    atomic_store_explicit(&me->locked, 1, memory_order_relaxed);
    mh->yield_bit = free_word;
    return atomic_compare_exchange_strong_explicit(tail, &free_word, (uintptr_t)me | free_word,
                                                   memory_order_acq_rel, memory_order_relaxed);
}

static void mcs_unlock(void *lock, struct pb_lock_hold *h)
{
    _Atomic uintptr_t *tail = lock;
    struct mcs_hold *mh = (struct mcs_hold *)h;
    struct mcs_node *me = &mh->node;
    struct mcs_node *next = atomic_load_explicit(&me->next, memory_order_acquire);
    if (!next) {
        uintptr_t mine = (uintptr_t)me | mh->yield_bit;
        if (atomic_compare_exchange_strong_explicit(tail, &mine, mh->yield_bit,
                                                    memory_order_release, memory_order_relaxed))
            return;
        /* A successor has exchanged the tail and is about to link. */
        unsigned spins = 0;
        while (!(next = atomic_load_explicit(&me->next, memory_order_acquire)))
            pb_backoff(&spins, mh->yield_bit);
    }
    atomic_store_explicit(&next->locked, 0, memory_order_release);   /* hands over */
}

const struct pb_lock_ops pb_lock_mcs = {
    .name = "mcs",
    .description = "MCS queue lock: each waiter spins on its own node (in its hold), FIFO",
    .flags = PB_IN_SUITE | PB_LOCK_FIFO | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(_Atomic uintptr_t),
    .init = mcs_init,
    .fini = mcs_fini,
    .lock = mcs_lock,
    .trylock = mcs_trylock,
    .unlock = mcs_unlock,
};
