/* The idle policy shared by the queue strategies (internal to core/queue/):
 * how a worker whose queue is empty waits, and how a producer wakes it.
 *
 * One `struct pb_idle_waiter` per queue, on its own cache line. Consumers
 * write it only when they go to sleep or wake up; producers read one word
 * of it per enqueue and write it only to wake a sleeper.
 *
 * Protocol (the lost-wakeup race is the whole point):
 *
 *   producer (pb_idle_notify)             consumer (pb_idle_wait, parking)
 *   P1 publish the item in the queue      C1 seq = futex_seq
 *   P2 seq_cst fence                      C2 sleepers += 1        ("I sleep")
 *   P3 if sleepers != 0:                  C3 seq_cst fence
 *        futex_seq += 1; FUTEX_WAKE 1     C4 poll the queue again; stop if
 *                                            an item or shutdown is seen
 *                                         C5 FUTEX_WAIT(futex_seq, seq)
 *
 * This is Dekker's pattern (store buffering): each side writes its own flag
 * (P1: the queue, C2: sleepers), then reads the other's (P3, C4). Without
 * the two seq_cst fences both reads may return the old values (each store
 * still in its CPU's store buffer): the producer sees no sleeper and skips
 * the wake, the consumer sees an empty queue and sleeps, and the item waits
 * forever. With them, C11 puts the fences in one total order S: if P2
 * precedes C3 in S, C4 sees P1's item; if C3 precedes P2, P3 sees C2's
 * sleeper and wakes. Either way nobody sleeps on a queued item.
 *
 * The futex word is a wake generation, not the flag: the kernel compares
 * it with the value read at C1, so a wake that lands after C1 (typically
 * between C4 and C5) makes FUTEX_WAIT return at once. sleepers is
 * a count, so several workers may park on one queue (global-spin); each
 * wake wakes one of them, and an extra wake only costs a system call.
 *
 * Fast path: P2 plus one relaxed load of sleepers; no write, no syscall.
 * Under PB_IDLE_SPIN no consumer ever parks, so notify skips even P2.
 * pb_idle_notify_sc drops the fence for strategies whose publication is a
 * seq_cst read-modify-write (an exchange or CAS of the queue's tail/claim
 * word) that the consumer's poll reads after C3 (and P3 is then a
 * seq_cst load, C2 a seq_cst RMW): C11's rule for a
 * seq_cst fence before a load (the load sees the last seq_cst store
 * before the fence in S, or later) gives the same guarantee, and on x86
 * the RMW is already a full barrier, so no extra mfence is paid.
 *
 * Shutdown: stopping = true, fence, futex_seq += 1, FUTEX_WAKE all. The
 * same Dekker argument (stopping against sleepers) means a consumer either
 * sees stopping at C4 or is woken. */
#ifndef PB_QUEUE_IDLE_H
#define PB_QUEUE_IDLE_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pb_strategy.h"
#include "pb_tsc.h"

#define PB_IDLE_DEFAULT_SPIN 4000u

struct pb_idle_waiter {
    _Alignas(PB_CACHE_LINE) _Atomic uint32_t sleepers; /* consumers between C2 and their wake-up */
    _Atomic uint32_t futex_seq;                        /* FUTEX_WAIT/WAKE word: wake generation */
    _Atomic bool stopping;
    pb_idle_policy policy;
    unsigned spin;                                     /* polls before parking (SPIN_PARK) */
    unsigned yield_every;                              /* cfg->yield_every: 0 never */
};

/* One idle poll's pause: a pause instruction, or every yield_every-th poll
 * (when set) the CPU given away, for a consumer sharing its CPU with the
 * thread it waits for. */
static inline void pb_idle_pause(unsigned spins, unsigned yield_every)
{
    if (yield_every && spins % yield_every == 0)
        sched_yield();
    else
        pb_cpu_relax();
}

/* One try at taking an item; NULL when the queue is empty. Must read the
 * queue with at least relaxed atomics (it runs after C3's fence). */
typedef struct pb_work *(*pb_idle_poll_fn)(void *ctx);

void pb_idle_init(struct pb_idle_waiter *w, const struct pb_queue_config *cfg);

/* The dequeue loop with wait = true: polls, spins and parks per the policy
 * until poll returns an item or the waiter is shut down (then returns one
 * last poll: the items left, one per call, then NULL). */
struct pb_work *pb_idle_wait(struct pb_idle_waiter *w, pb_idle_poll_fn poll, void *ctx);

/* The same, polling with spin_poll while it spins: a poll that may answer
 * NULL for an item still being enqueued (it is polled again), in exchange
 * for reading fewer of the producers' lines. poll (NULL means empty) is
 * the one used after the fence before parking (C4) and at shutdown. */
struct pb_work *pb_idle_wait_spin(struct pb_idle_waiter *w, pb_idle_poll_fn spin_poll,
                                  pb_idle_poll_fn poll, void *ctx);

/* Slow half of notify: a consumer said it sleeps. */
void pb_idle_wake(struct pb_idle_waiter *w);

/* The seq_cst fence of P2/C3. GCC refuses atomic_thread_fence under
 * -fsanitize=thread (TSan does not model fences); there the same hardware
 * fence is issued directly. TSan loses nothing: the fence only decides
 * whether to sleep or wake, every data handoff is a release/acquire pair
 * that TSan does see. */
static inline void pb_idle_fence(void)
{
#if defined(PB_TSAN) && (defined(__x86_64__) || defined(__i386__))
    __asm__ __volatile__("mfence" ::: "memory");
#else
    atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* Call after publishing an item (P2, P3). */
static inline void pb_idle_notify(struct pb_idle_waiter *w)
{
    /* A waiter whose consumers never park has no sleeper to wake: the
     * fence only orders the publication against a consumer's C2. */
    if (w->policy == PB_IDLE_SPIN)
        return;
    pb_idle_fence();
    /* relaxed: ordered by the fence above (see the protocol). */
    if (atomic_load_explicit(&w->sleepers, memory_order_relaxed) != 0)
        pb_idle_wake(w);
}

/* Same, when the publication was a seq_cst RMW that the poll reads. */
static inline void pb_idle_notify_sc(struct pb_idle_waiter *w)
{
    /* seq_cst: pairs with the publishing seq_cst RMW and the consumer's C3. */
    if (atomic_load_explicit(&w->sleepers, memory_order_seq_cst) != 0)
        pb_idle_wake(w);
}

/* Sets stopping and wakes every sleeper. Idempotent. */
void pb_idle_shutdown(struct pb_idle_waiter *w);

static inline bool pb_idle_stopping(struct pb_idle_waiter *w)
{
    /* acquire: a caller that sees stopping also sees what preceded shutdown. */
    return atomic_load_explicit(&w->stopping, memory_order_acquire);
}

#endif
