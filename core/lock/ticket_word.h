/* Private to core/lock: the ticket lock's word, shared by `ticket` and by
 * `cohort` (whose global lock and per-node local locks are ticket locks).
 *
 * One 8-byte word: the high half is the next ticket to hand out, the low
 * half the ticket now served (the owner). Both count in steps of 2, so
 * bit 0 of the low half is never part of a ticket: `ticket` keeps its
 * may_yield there (a lock in an operation's word has no other room), the
 * cohort leaves it 0. One word, not two, so that trylock can compare both
 * halves and take a ticket in one compare-and-swap.
 *
 *   take    fetch_add of one ticket on the high half (acquire: when the
 *           ticket is served at once, the section sees what the previous
 *           holder's release wrote); the high half wraps off the word.
 *   wait    acquire loads of the word until the low half serves our ticket
 *           (pairs with the unlock's release), with pb_backoff.
 *   unlock  fetch_add of one step on the low half (release: publishes the
 *           section). The holder is the only writer of the low half but
 *           takers add to the high half at the same time, so a plain store
 *           would lose their tickets; and when the owner wraps at 2^32 the
 *           carry would spill into the high half, so that one step
 *           subtracts the carry back in the same addition.
 *
 * 2^31 tickets can be outstanding at once before the halves alias. */
#ifndef PB_LOCK_TICKET_WORD_H
#define PB_LOCK_TICKET_WORD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pb_spin.h"

#define PB_TICKET_STEP 2u
#define PB_TICKET_ONE_NEXT ((uint64_t)PB_TICKET_STEP << 32)
#define PB_TICKET_SPARE 1u          /* bit 0 of the low half: never part of a ticket */

static inline uint32_t pb_ticket_next(uint64_t w) { return (uint32_t)(w >> 32); }
static inline uint32_t pb_ticket_owner(uint64_t w) { return (uint32_t)w & ~PB_TICKET_SPARE; }

/* Takes a ticket: the word as it was (its next half is the ticket). */
static inline uint64_t pb_ticket_take(_Atomic uint64_t *w)
{
    return atomic_fetch_add_explicit(w, PB_TICKET_ONE_NEXT, memory_order_acquire);
}

/* Waits until the ticket taken (old: what take returned) is served. */
static inline void pb_ticket_wait(_Atomic uint64_t *w, uint64_t old, bool may_yield)
{
    uint32_t mine = pb_ticket_next(old);
    unsigned spins = 0;
    while (pb_ticket_owner(old) != mine) {
        pb_backoff(&spins, may_yield);
        old = atomic_load_explicit(w, memory_order_acquire);
    }
}

/* A ticket only when it would be served at once: true and *mine set. */
static inline bool pb_ticket_try(_Atomic uint64_t *w, uint32_t *mine)
{
    /* relaxed: only a guess; the CAS decides, and orders with acquire. */
    uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
    if (pb_ticket_next(old) != pb_ticket_owner(old))
        return false;
    if (!atomic_compare_exchange_strong_explicit(w, &old, old + PB_TICKET_ONE_NEXT,
                                                 memory_order_acquire, memory_order_relaxed))
        return false;
    *mine = pb_ticket_next(old);
    return true;
}

/* Serves the ticket after mine (the holder's). */
static inline void pb_ticket_unlock(_Atomic uint64_t *w, uint32_t mine)
{
    uint64_t step = PB_TICKET_STEP;
    if (mine == UINT32_MAX - (PB_TICKET_STEP - 1))
        step -= (uint64_t)1 << 32;   /* the owner wraps: cancel the carry into the next half */
    atomic_fetch_add_explicit(w, step, memory_order_release);
}

/* Someone took a ticket after mine (the holder's). relaxed: a hint; one
 * who takes a ticket just after the look is served all the same. */
static inline bool pb_ticket_has_waiters(_Atomic uint64_t *w, uint32_t mine)
{
    return pb_ticket_next(atomic_load_explicit(w, memory_order_relaxed)) != mine + PB_TICKET_STEP;
}

#endif
