/* The fourth strategy kind: locks. Every lock-based strategy (global-mutex,
 * percpu-mutex, global-spin, locked-list, magazine's depot, percpu-steal's
 * steal lock, op-lock, global-lock) takes its lock from this kind, so the
 * same workload can be measured under pthread-mutex, MCS, CLH, a cohort
 * lock, ... (`--lock NAME`).
 *
 * A lock is one file (core/lock/<name>.c) with one `static const struct
 * pb_lock_ops` and one line in core/lock/registry.c, as the other kinds.
 * Its state is `size` bytes placed by its owner (the strategy): a lock of
 * a shared structure on its own cache line(s) through pb_lock_create, a
 * lock inside an operation (op-lock) in the operation's own 8-byte word,
 * which only PB_LOCK_IN_WORD locks allow.
 *
 * The holder keeps a struct pb_lock_hold on its stack from lock to unlock
 * (an MCS queue node lives there); the same thread unlocks. */
#ifndef PB_LOCK_H
#define PB_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pb_strategy.h"

/* Lock capabilities: bits of `flags` beside the kind-neutral ones of
 * pb_strategy_flag (PB_BASELINE, PB_REFERENCE, PB_MAY_BE_UNAVAILABLE,
 * PB_IN_SUITE, PB_BROKEN). */
enum pb_lock_flag {
    PB_LOCK_FIFO    = 1u << 24,    /* hands over in arrival order (the conformance suite checks it) */
    PB_LOCK_NUMA    = 1u << 25,    /* prefers handing over within a NUMA node */
    PB_LOCK_SLEEPS  = 1u << 26,    /* a waiter may park in the kernel (else it spins) */
    PB_LOCK_TRYLOCK = 1u << 27,    /* trylock is not NULL */
    PB_LOCK_IN_WORD = 1u << 28,    /* size <= 8, all-zero state is a free lock, init/fini are no-ops:
                                      it can live in an operation's word (op-lock) */
    /* (IN_WORD, in detail: a user such as op-lock never calls init or
     * fini, so an all-zero state must work as a lock with no config; it
     * should then spin without yielding, as op-lock models a kernel
     * spinlock. init may still record the config in the state for users
     * that do call it: ttas-backoff keeps may_yield there.) */
    PB_LOCK_PTHREAD = 1u << 29,    /* its state is a pthread_mutex_t: usable with a condition variable */
};

struct pb_lock_config {
    unsigned ncpus;                /* planned cpus (as the other kinds) */
    unsigned nnodes;               /* NUMA nodes among them (>= 1) */
    /* A waiter may give its CPU away (sched_yield) after a while of
     * spinning; false for strategies that model a kernel spinlock
     * (PB_NEVER_YIELDS): then it spins only. Sleeping locks ignore it. */
    bool may_yield;
    struct pb_mem_hooks mem;       /* node_of_cpu maps a planned cpu to its node */
};

/* What a holder keeps from lock to unlock, on its stack. */
struct pb_lock_hold {
    _Alignas(PB_CACHE_LINE) unsigned char opaque[2 * PB_CACHE_LINE];
};

struct pb_lock_ops {
    const char *name;
    const char *description;
    unsigned flags;                /* pb_strategy_flag and pb_lock_flag bits */
    size_t size;                   /* bytes of state; placed PB_CACHE_LINE-aligned (IN_WORD: 8-aligned) */
    /* 0 or -errno; -ENOTSUP: not in this build (skipped, not failed). */
    int (*init)(void *lock, const struct pb_lock_config *cfg);
    void (*fini)(void *lock);
    void (*lock)(void *lock, struct pb_lock_hold *h);
    /* true: taken (then unlock as after lock). NULL unless PB_LOCK_TRYLOCK. */
    bool (*trylock)(void *lock, struct pb_lock_hold *h);
    void (*unlock)(void *lock, struct pb_lock_hold *h);
};

extern const struct pb_lock_ops *const pb_locks[];     /* NULL-terminated */
const struct pb_lock_ops *pb_lock_find(const char *name);

/* The NUMA node the calling thread runs on, for NUMA-aware locks: set by
 * whoever pins the thread (the workloads), 0 when never set. */
extern _Thread_local unsigned pb_thread_node;

/* ---- what a strategy uses ------------------------------------------------ */

/* A lock of a shared structure: its ops and its state on its own lines. */
struct pb_lock_ref {
    const struct pb_lock_ops *ops;
    void *state;
};

/* Allocates the state (cache-line aligned, zeroed, on cpu 0's node) and
 * inits it. 0 or -errno (-ENOTSUP passed on). */
int pb_lock_create(struct pb_lock_ref *r, const struct pb_lock_ops *ops,
                   const struct pb_lock_config *cfg);
void pb_lock_destroy(struct pb_lock_ref *r);

/* Per-thread lock statistics, counted by pb_lock_acquire: the run engine
 * reads each thread's at the end (fairness: acquisitions min/max and
 * Jain's index across threads; time spent waiting). */
struct pb_lock_stats {
    uint64_t acquisitions;
    uint64_t contended;            /* acquisitions that had to wait */
    uint64_t wait_ticks;           /* TSC ticks spent waiting in those */
};
extern _Thread_local struct pb_lock_stats pb_lock_stats;

/* Lock through here, never through ops->lock directly: a trylock first
 * (when the lock has one), and only a failed one is timed as a wait, so
 * the uncontended path pays no clock read. */
void pb_lock_acquire(const struct pb_lock_ops *ops, void *state, struct pb_lock_hold *h);
void pb_lock_release(const struct pb_lock_ops *ops, void *state, struct pb_lock_hold *h);

#endif
