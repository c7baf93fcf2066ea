/* The idle policy shared by the queue strategies: spin, spin-then-park,
 * park. The wake protocol and why it cannot lose a wake-up are in idle.h.
 *
 * Concurrency: any number of consumers may wait on one waiter and any
 * number of producers notify it; shutdown may race with both. Parking is a
 * futex on futex_seq (private: the waiter never crosses a process). */
#include "idle.h"

#include <limits.h>

#include "../futex.h"
#include "pb_tsc.h"

void pb_idle_init(struct pb_idle_waiter *w, const struct pb_queue_config *cfg)
{
    atomic_init(&w->sleepers, 0);
    atomic_init(&w->futex_seq, 0);
    atomic_init(&w->stopping, false);
    w->policy = cfg->idle;
    w->spin = cfg->spin_iterations ? cfg->spin_iterations : PB_IDLE_DEFAULT_SPIN;
    w->yield_every = cfg->yield_every;
}

void pb_idle_wake(struct pb_idle_waiter *w)
{
    /* relaxed: the futex syscall orders it with the sleeper's FUTEX_WAIT
     * check (the kernel compares under its bucket lock). */
    atomic_fetch_add_explicit(&w->futex_seq, 1, memory_order_relaxed);
    pb_futex_wake(&w->futex_seq, 1);
}

void pb_idle_shutdown(struct pb_idle_waiter *w)
{
    /* seq_cst store + fence: Dekker against a consumer's C2/C3 (idle.h). */
    atomic_store_explicit(&w->stopping, true, memory_order_seq_cst);
    pb_idle_fence();
    atomic_fetch_add_explicit(&w->futex_seq, 1, memory_order_relaxed);
    pb_futex_wake(&w->futex_seq, INT_MAX);
}

/* Parks once (C1..C5). Returns an item found by the re-check, or NULL
 * after a wake-up (or when stopping: the caller sees it and drains). */
static struct pb_work *park(struct pb_idle_waiter *w, pb_idle_poll_fn poll, void *ctx)
{
    /* C1. acquire + the fence below: if this reads a producer's bump, its
     * item is visible to the re-check, so a wake already spent on us is
     * not needed. */
    uint32_t seq = atomic_load_explicit(&w->futex_seq, memory_order_acquire);
    /* C2, seq_cst: it is one side of the Dekker pair (idle.h). */
    atomic_fetch_add_explicit(&w->sleepers, 1, memory_order_seq_cst);
    pb_idle_fence();                           /* C3 */
    struct pb_work *item = poll(ctx);          /* C4 */
    if (!item && !atomic_load_explicit(&w->stopping, memory_order_relaxed)) /* relaxed: after C3 */
        pb_futex_wait(&w->futex_seq, seq);        /* C5 */
    /* relaxed: a producer that still sees us only wakes in vain. */
    atomic_fetch_sub_explicit(&w->sleepers, 1, memory_order_relaxed);
    return item;
}

struct pb_work *pb_idle_wait(struct pb_idle_waiter *w, pb_idle_poll_fn poll, void *ctx)
{
    return pb_idle_wait_spin(w, poll, poll, ctx);
}

struct pb_work *pb_idle_wait_spin(struct pb_idle_waiter *w, pb_idle_poll_fn spin_poll,
                                  pb_idle_poll_fn poll, void *ctx)
{
    unsigned spins = 0;
    for (;;) {
        struct pb_work *item = spin_poll(ctx);
        if (item)
            return item;
        if (pb_idle_stopping(w))
            return poll(ctx); /* items enqueued before shutdown, then NULL */
        bool spin = w->policy == PB_IDLE_SPIN ||
                    (w->policy == PB_IDLE_SPIN_PARK && spins < w->spin);
        if (spin) {
            spins++;
            pb_idle_pause(spins, w->yield_every);
            continue;
        }
        item = park(w, poll, ctx);
        if (item)
            return item;
        spins = 0; /* woken: work tends to come in bursts, spin again first */
    }
}
