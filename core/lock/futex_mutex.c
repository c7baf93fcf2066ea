/* lock `futex-mutex`: a mutex that parks its waiters in the kernel, on a
 * futex word: Drepper's third mutex of "Futexes Are Tricky" (2011), the
 * one glibc's normal mutex is built like. The uncontended lock and unlock
 * are one atomic each and no system call.
 *
 * State: one 32-bit word: 0 free, 1 taken and no one parked, 2 taken and
 * perhaps someone parked (a waiter sets 2 before it sleeps, so an unlock
 * that sees 1 knows no one needs waking).
 *
 *   lock    CAS 0 -> 1 (acquire: the section sees the previous holder's
 *           writes). Else: exchange the word to 2 (acquire, for when it
 *           was 0: then it is ours, marked contended); while it was not
 *           0, futex_wait(word, 2) and exchange again. A waiter taking the
 *           lock sets 2, not 1: it cannot know whether others still sleep,
 *           so the next unlock wakes one to be sure.
 *   unlock  fetch_sub 1 (release: publishes the section). It was 1: no
 *           one to wake. It was 2: store 0 (release: the next locker may
 *           read the 0 from this store rather than from the fetch_sub) and
 *           futex_wake one.
 *   trylock CAS 0 -> 1, acquire.
 *
 * No lost wake-up: futex_wait sleeps only if the word still holds 2 when
 * the kernel checks it, under the futex's bucket lock; an unlock's store
 * of 0 before that makes the wait return at once, one after it is
 * followed by its wake.
 *
 * IN_WORD: all-zero is free; init and fini do nothing; 4 bytes at any
 * 4-byte alignment (FUTEX_PRIVATE: the word is this process's).
 *
 * Fairness: none: a woken waiter competes with newcomers (who may take
 * the lock by CAS before it runs: barging), which keeps the lock busy
 * while the waiter is being scheduled.
 *
 * Flags: SLEEPS (waiters park at once; no spinning first, so may_yield has
 * nothing to say), TRYLOCK, IN_WORD. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../futex.h"
#include "pb_lock.h"

enum { FREE = 0, TAKEN = 1, CONTENDED = 2 };

static int fm_init(void *lock, const struct pb_lock_config *cfg)
{
    atomic_init((_Atomic uint32_t *)lock, FREE);
    return 0;
}

static void fm_fini(void *lock) { (void)lock; }

static void fm_lock(void *lock, struct pb_lock_hold *h)
{
    _Atomic uint32_t *w = lock;
    uint32_t c = FREE;
    if (atomic_compare_exchange_strong_explicit(w, &c, TAKEN, memory_order_acquire,
                                                memory_order_relaxed))
        return;
    if (c != CONTENDED)
        c = atomic_exchange_explicit(w, CONTENDED, memory_order_acquire);
    while (c != FREE) {
        pb_futex_wait(w, CONTENDED);
        c = atomic_exchange_explicit(w, CONTENDED, memory_order_acquire);
    }
}

static bool fm_trylock(void *lock, struct pb_lock_hold *h)
{
    uint32_t c = FREE;
    return atomic_compare_exchange_strong_explicit((_Atomic uint32_t *)lock, &c, TAKEN,
                                                   memory_order_acquire, memory_order_relaxed);
}

static void fm_unlock(void *lock, struct pb_lock_hold *h)
{
    _Atomic uint32_t *w = lock;
    if (atomic_fetch_sub_explicit(w, 1, memory_order_release) != TAKEN) {
        atomic_store_explicit(w, FREE, memory_order_release);
        pb_futex_wake(w, 1);
    }
}

const struct pb_lock_ops pb_lock_futex_mutex = {
    .name = "futex-mutex",
    .description = "futex mutex (Drepper's 3-state: free, taken, contended): waiters park in the kernel",
    .flags = PB_IN_SUITE | PB_LOCK_SLEEPS | PB_LOCK_TRYLOCK | PB_LOCK_IN_WORD,
    .size = sizeof(_Atomic uint32_t),
    .init = fm_init,
    .fini = fm_fini,
    .lock = fm_lock,
    .trylock = fm_trylock,
    .unlock = fm_unlock,
};
