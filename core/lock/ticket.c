/* lock `ticket`: the ticket lock. A thread takes the next ticket with one
 * fetch-and-add and waits until the lock serves that ticket; unlock serves
 * the next one. FIFO: the lock goes in ticket order, i.e. in the order of
 * the fetch-and-adds.
 *
 * State: one 8-byte word, two 32-bit halves: next ticket (high), ticket
 * served (low); ticket_word.h has the layout, the steps of 2 and the
 * memory orders (take: acquire; wait: acquire loads; unlock: a release
 * fetch-and-add that keeps the owner's wrap out of the next half).
 * Bit 0 of the low half is may_yield: written by init, carried by every
 * addition, read back from the word each lock takes.
 *
 * IN_WORD: all-zero is a free lock (next == served == 0) that never
 * yields, so an operation's word (op-lock, a kernel spinlock's model)
 * needs no init; init records cfg->may_yield in bit 0; fini does nothing.
 * 8-byte alignment is all it needs (one 8-byte atomic).
 *
 * Fairness: strict FIFO, no starvation. The price: the lock goes to the
 * next ticket even when that thread is preempted, and every waiter spins
 * on the one word, so each handover invalidates every waiter's copy (MCS
 * and CLH spin on their own lines).
 *
 * Flags: FIFO, TRYLOCK (a CAS that takes a ticket only when it would be
 * served at once), IN_WORD. Waits: pb_backoff, yielding per may_yield. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pb_lock.h"
#include "ticket_word.h"

struct ticket_hold {
    uint32_t mine;                 /* the ticket served: unlock serves the next */
};
_Static_assert(sizeof(struct ticket_hold) <= sizeof(struct pb_lock_hold), "fits the hold");

static int ticket_init(void *lock, const struct pb_lock_config *cfg)
{
    atomic_init((_Atomic uint64_t *)lock, cfg->may_yield ? PB_TICKET_SPARE : 0);
    return 0;
}

static void ticket_fini(void *lock) { (void)lock; }

static void ticket_lock(void *lock, struct pb_lock_hold *h)
{
    _Atomic uint64_t *w = lock;
    uint64_t old = pb_ticket_take(w);
    pb_ticket_wait(w, old, (uint32_t)old & PB_TICKET_SPARE);
    ((struct ticket_hold *)h)->mine = pb_ticket_next(old);
}

static bool ticket_trylock(void *lock, struct pb_lock_hold *h)
{
    return pb_ticket_try(lock, &((struct ticket_hold *)h)->mine);
}

static void ticket_unlock(void *lock, struct pb_lock_hold *h)
{
    pb_ticket_unlock(lock, ((struct ticket_hold *)h)->mine);
}

const struct pb_lock_ops pb_lock_ticket = {
    .name = "ticket",
    .description = "ticket lock: fetch-and-add a ticket, wait to be served (FIFO); one 8-byte word",
    .flags = PB_IN_SUITE | PB_LOCK_FIFO | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(_Atomic uint64_t),
    .init = ticket_init,
    .fini = ticket_fini,
    .lock = ticket_lock,
    .trylock = ticket_trylock,
    .unlock = ticket_unlock,
};
