/* Internal to the strategies and locks (core/): the one spinlock and its
 * one back-off, and the one body of Vyukov's intrusive MPSC queue. Every
 * strategy that spins uses these, so a fix or a tuning lands everywhere.
 * The spinlock is the lock kind's `ttas-backoff` (core/lock/ttas_backoff.c
 * wraps it): strategies take it, like every lock, through pb_lock.h.
 *
 * Back-off: pause (pb_cpu_relax) on every spin, and give the CPU away
 * (sched_yield) every PB_SPIN_YIELD_AFTER spins: the thread being waited
 * for may be preempted, on a machine with fewer CPUs than threads. A
 * strategy that models a kernel spinlock (which never sleeps: the holder
 * runs at DISPATCH_LEVEL and cannot be preempted) passes may_yield false
 * and carries the PB_NEVER_YIELDS flag. */
#ifndef PB_SPIN_H
#define PB_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pb_strategy.h"
#include "pb_tsc.h"

#define PB_SPIN_YIELD_AFTER 256u

typedef _Atomic uint32_t pb_spinlock;      /* 0 free, 1 held */

/* One spin of a wait: *spins counts them (start it at 0). */
static inline void pb_backoff(unsigned *spins, bool may_yield)
{
    pb_cpu_relax();
    if (may_yield && ++*spins % PB_SPIN_YIELD_AFTER == 0)
        sched_yield();
}

/* Test-and-test-and-set: waiters only read the word while it is held. */
static inline void pb_spin_lock(pb_spinlock *l, bool may_yield)
{
    unsigned spins = 0;
    /* acquire: the critical section sees the previous holder's writes. */
    while (atomic_exchange_explicit(l, 1, memory_order_acquire))
        /* relaxed: only waiting for it to look free; the exchange orders. */
        while (atomic_load_explicit(l, memory_order_relaxed))
            pb_backoff(&spins, may_yield);
}

static inline bool pb_spin_trylock(pb_spinlock *l)
{
    /* relaxed peek: do not write the line of a lock already held. */
    if (atomic_load_explicit(l, memory_order_relaxed))
        return false;
    return !atomic_exchange_explicit(l, 1, memory_order_acquire);
}

static inline void pb_spin_unlock(pb_spinlock *l)
{
    atomic_store_explicit(l, 0, memory_order_release);   /* publishes the section */
}

/* ---- Vyukov's intrusive MPSC queue with a stub node --------------------------
 * (1024cores.net, "Intrusive MPSC node-based queue"). The caller keeps the
 * three parts where its layout wants them (head alone on the consumer's
 * line; the stub beside the tail on the producers' line, or beside the
 * head) and hands them in.
 *
 * push: from any number of threads at once; one exchange of the tail plus
 * one store, wait-free. pop: one consumer at a time. FIFO in exchange
 * order, hence per producer.
 *
 * The transient state: a producer has exchanged the tail but not yet
 * linked its predecessor to it (tail != head, head->next == NULL).
 * Vyukov's pop returns "empty, retry"; this one waits on that link (with
 * the back-off above: the producer may be preempted between its two
 * instructions), because (a) NULL from pop must mean empty, and (b) an
 * item may only be handed out once the producer that links after it has
 * finished writing its `next`.
 *
 * The tail exchange is seq_cst and an empty pop reads the tail after the
 * parking consumer's fence, which the futex idle of queue/idle.h relies
 * on (no extra fence on the enqueue path). */

static inline void pb_mpsc_init(struct pb_work *_Atomic *tail, struct pb_work **head,
                                struct pb_work *stub)
{
    atomic_init(&stub->next, NULL);
    atomic_init(tail, stub);
    *head = stub;
}

/* The first half of a push: w becomes the tail; returns its predecessor,
 * whose link the caller then sets to w. */
static inline struct pb_work *pb_mpsc_swap_tail(struct pb_work *_Atomic *tail, struct pb_work *w)
{
    /* relaxed: published by the exchange's release half. */
    atomic_store_explicit(&w->next, NULL, memory_order_relaxed);
    /* seq_cst: acq_rel orders the queue (release publishes w->next = NULL
     * before anyone links after w; acquire orders our link after the
     * predecessor's NULL); seq_cst also makes it the publication that
     * pb_idle_notify_sc relies on. */
    return atomic_exchange_explicit(tail, w, memory_order_seq_cst);
}

static inline void pb_mpsc_push(struct pb_work *_Atomic *tail, struct pb_work *w)
{
    struct pb_work *prev = pb_mpsc_swap_tail(tail, w);
    /* release: the consumer's acquire load of prev->next sees w's contents. */
    atomic_store_explicit(&prev->next, w, memory_order_release);
}

/* Waits out the transient state: `node` is not the tail, so its successor
 * has exchanged the tail and is about to link it. */
static inline struct pb_work *pb_mpsc_wait_next(struct pb_work *node)
{
    unsigned spins = 0;
    for (;;) {
        struct pb_work *next = atomic_load_explicit(&node->next, memory_order_acquire);
        if (next)
            return next;
        pb_backoff(&spins, true);
    }
}

/* The oldest item, or NULL when empty. One consumer at a time. */
static inline struct pb_work *pb_mpsc_pop(struct pb_work *_Atomic *tail, struct pb_work **headp,
                                          struct pb_work *stub)
{
    struct pb_work *head = *headp;
    /* acquire: pairs with the producer's release link: item contents. */
    struct pb_work *next = atomic_load_explicit(&head->next, memory_order_acquire);
    if (head == stub) {
        if (!next) {
            /* relaxed: read after the parking consumer's fence (C3), it
             * sees any tail exchange that precedes the fence (idle.h); the
             * link itself is read with acquire. */
            if (atomic_load_explicit(tail, memory_order_relaxed) == stub)
                return NULL; /* empty */
            next = pb_mpsc_wait_next(head);
        }
        /* The first item after an empty spell, likely the last one too
         * (one in flight): its line is read now, and the tail's is
         * written below (the stub goes behind it). Ask for both at once,
         * so that they move together. Read prefetches (PREFETCHT0), here
         * and below: exclusive ones (pb_prefetch.h's PREFETCHW, core
         * only) measured no different, in the hot worker (-4% ops/s, not
         * significant over 6 pairs) or the mpsc micro (within its
         * noise), and producers may still be writing these lines (the
         * tail with every exchange, an item's link when the next item is
         * linked behind it); this header stays usable by plugins. */
        __builtin_prefetch(next, 0);
        __builtin_prefetch((const void *)tail, 0);
        *headp = next; /* skip the stub */
        head = next;
        /* The tail first, from the line this poll already holds: when it
         * is head, nobody has exchanged after head (the tail only moves
         * on, and head is not pushed again while queued), so head's link
         * is NULL without reading it, and the stub goes behind head at
         * once. Reading the link first would wait for head's line (a
         * transfer from the producer) before the caller could even ask for
         * the rest of the item's lines; this way the pop never touches
         * head's line (below), and the line's transfer overlaps the
         * caller's. relaxed: as below, a stale tail only sends us the
         * other way, whose acquire load of the link is exact. */
        if (atomic_load_explicit(tail, memory_order_relaxed) == head)
            goto last;
        next = atomic_load_explicit(&head->next, memory_order_acquire);
    }
    if (next) {
        /* Items queued up: the next one's line (its link, and the item
         * the caller reads and writes) starts moving now, while the caller
         * works on this one, instead of when the next pop chases it. */
        __builtin_prefetch(next, 0);
        *headp = next;
        return head;
    }
    /* head is the last linked node. */
    if (atomic_load_explicit(tail, memory_order_relaxed) != head) {
        /* relaxed above: a stale tail only makes us take the stub path,
         * whose exchange then tells the truth. */
        *headp = pb_mpsc_wait_next(head);
        return head;
    }
    /* Put the stub behind head so that head can be handed out while the
     * queue keeps a node. */
last: {
    struct pb_work *prev = pb_mpsc_swap_tail(tail, stub);
    if (prev == head) {
        /* Nobody came in between, the usual case: the stub follows head,
         * and head leaves the queue now, so its link is never read again.
         * Not writing it and not reading it back saves the stall on
         * head's line (measured: the read-back after the exchange held
         * over a third of the pop's samples in the hot worker). */
        *headp = stub;
        return head;
    }
    /* A producer slipped in before the stub: it links head->next to
     * itself, and the stub goes behind the newest item. */
    atomic_store_explicit(&prev->next, stub, memory_order_release);
    *headp = pb_mpsc_wait_next(head);
    return head;
}
}

#endif
