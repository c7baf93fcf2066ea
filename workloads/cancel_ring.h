/* Internal to workloads/: a single-producer single-consumer ring of
 * cancel orders (a pinned handle and when to fire), from a requester to
 * whoever fires its cancels. The producer owns `tail`, the consumer
 * `head`, each on its own cache line. */
#ifndef PB_CANCEL_RING_H
#define PB_CANCEL_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flt_kernel.h"

#define PB_CANCEL_RING_SIZE 1024u

struct pb_cancel_order {
    flt_op_handle handle;
    uint64_t fire_at;               /* TSC */
};

struct pb_cancel_ring {
    _Atomic uint32_t head __attribute__((aligned(64)));
    _Atomic uint32_t tail __attribute__((aligned(64)));
    struct pb_cancel_order slot[PB_CANCEL_RING_SIZE];
};

/* Producer: false when full (the order is not taken). */
static inline bool pb_cancel_ring_push(struct pb_cancel_ring *r, struct pb_cancel_order o)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    /* acquire: the consumer is done with the slot it freed. */
    if (tail - atomic_load_explicit(&r->head, memory_order_acquire) >= PB_CANCEL_RING_SIZE)
        return false;
    r->slot[tail % PB_CANCEL_RING_SIZE] = o;
    /* release: the order is written before the consumer sees it. */
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return true;
}

/* Consumer: the oldest order without taking it; false when empty. */
static inline bool pb_cancel_ring_peek(struct pb_cancel_ring *r, struct pb_cancel_order *o)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head == atomic_load_explicit(&r->tail, memory_order_acquire))
        return false;
    *o = r->slot[head % PB_CANCEL_RING_SIZE];
    return true;
}

/* Consumer: drops the order peek returned. */
static inline void pb_cancel_ring_drop(struct pb_cancel_ring *r)
{
    /* release: the slot may be reused by the producer from now on. */
    atomic_store_explicit(&r->head, atomic_load_explicit(&r->head, memory_order_relaxed) + 1,
                          memory_order_release);
}

static inline bool pb_cancel_ring_empty(struct pb_cancel_ring *r)
{
    return atomic_load_explicit(&r->head, memory_order_relaxed) ==
           atomic_load_explicit(&r->tail, memory_order_relaxed);
}

#endif
