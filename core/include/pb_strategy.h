/* The kinds of interchangeable strategy: callback-data pools, deferred
 * work queues and cancel/complete handoffs (and the locks that the
 * lock-based ones take: pb_lock.h). A strategy is one
 * file with one `static const struct pb_*_ops` filled with designated
 * initialisers, listed in its kind's registry table (core/<kind>/registry.c).
 * Workloads pick them by name at run time; what a strategy is (bounded,
 * shared, a baseline, in the default suite, ...) is data in its `flags`,
 * which every test, the suite and the micro summary read: nothing decides
 * a property from a name. Adding a strategy is one file plus one line.
 *
 * "cpu" everywhere is a processor index of the placement plan, 0 <=
 * cpu < ncpus, not an OS CPU number. */
#ifndef PB_STRATEGY_H
#define PB_STRATEGY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_CACHE_LINE 64

struct pb_lock_ops;                /* pb_lock.h */

/* Capabilities, fio-style: a strategy's `flags` (any kind unless noted). */
enum pb_strategy_flag {
    PB_BASELINE           = 1u << 0,   /* the baseline its kind's suite group is measured against */
    PB_REFERENCE          = 1u << 1,   /* an outside library's implementation, a yardstick */
    PB_IN_SUITE           = 1u << 2,   /* measured by the default suite (`pendbench` alone) */
    PB_MAY_BE_UNAVAILABLE = 1u << 3,   /* init may return -ENOTSUP in some builds */
    PB_NEVER_YIELDS       = 1u << 4,   /* models a kernel spinlock: waits spin, never sleep */
    PB_TYPE_STABLE        = 1u << 8,   /* pools: see pb_pool_ops */
    PB_BOUNDED            = 1u << 12,  /* queues: enqueue may refuse with -EAGAIN when full */
    PB_SHARED             = 1u << 13,  /* queues: one queue shared by every worker */
    PB_STEALS             = 1u << 14,  /* queues: a worker takes items from another's queue */
    PB_FIFO_PER_PRODUCER  = 1u << 15,  /* queues: one producer's items run in its order (stress checks it) */
    PB_BROKEN             = 1u << 20,  /* handoffs: deliberately wrong; only for proving the checker */
};

/* Where per-CPU memory goes: the workloads bind it to the CPU's NUMA node
 * (hwloc); the core only calls through this hook. NULL hooks mean plain
 * aligned_alloc / free. */
struct pb_mem_hooks {
    void *(*alloc_on_cpu_node)(void *arg, unsigned cpu, size_t size); /* cache-line aligned, zeroed */
    void (*free)(void *arg, void *ptr, size_t size);
    void *arg;
    /* NUMA node of each planned cpu (NULL: all on node 0). */
    const unsigned *node_of_cpu;
};

void *pb_mem_alloc(const struct pb_mem_hooks *hooks, unsigned cpu, size_t size);
void pb_mem_free(const struct pb_mem_hooks *hooks, void *ptr, size_t size);

/* ---- pools ------------------------------------------------------------- */

struct pb_pool_config {
    size_t object_size;            /* bytes per block; blocks are cache-line aligned */
    size_t capacity;               /* most blocks out at once; 0 = unlimited */
    unsigned ncpus;
    struct pb_mem_hooks mem;
    /* The lock a lock-based pool takes (pb_lock.h); NULL: the strategy's
     * default (its ops' `lock`). One that lacks a capability of its ops'
     * `lock_needs` makes init return -EINVAL. */
    const struct pb_lock_ops *lock;
    unsigned nnodes;               /* NUMA nodes among the cpus, for the lock; 0 = 1 */
    /* The bytes at the start of a block that its user writes as soon as it
     * gets one (0: none said). A pool that knows which block its next get
     * on a cpu hands out may ask for them early, in exclusive state, so
     * that they arrive from the CPU that freed the block before they are
     * needed (a prefetch: a hint, never a write). */
    size_t hot_bytes;
};

struct pb_pool;

/* The model keeps a block's generation word (read by stale handles, CD5)
 * at offset 64 or beyond; a pool may write only the first 16 bytes of a
 * block while it holds it free (its link and tag). */
#define PB_POOL_FREE_BYTES 16

struct pb_pool_ops {
    const char *name;
    const char *description;
    /* pb_strategy_flag bits. PB_TYPE_STABLE: a block put back stays mapped
     * and is only ever handed out again as a block of this pool, until fini
     * (so a stale handle's generation can always be read). */
    unsigned flags;
    /* The lock kind's name it takes by default (pb_lock.h); NULL: takes no
     * lock (then the config's lock is ignored). */
    const char *lock;
    /* pb_lock_flag bits a lock must have for it (PB_LOCK_TRYLOCK, ...);
     * the model refuses a lock without them, naming what is missing. */
    unsigned lock_needs;
    /* 0 or -errno; -ENOTSUP: not available in this build (skipped, not
     * failed); -EINVAL: the config's lock does not fit (lock_needs). */
    int (*init)(struct pb_pool **pool, const struct pb_pool_config *cfg);
    void (*fini)(struct pb_pool *pool);
    /* NULL when exhausted (capacity reached or memory refused). */
    void *(*get)(struct pb_pool *pool, unsigned cpu);
    /* cpu is the caller's: it may differ from the cpu that got the block. */
    void (*put)(struct pb_pool *pool, unsigned cpu, void *block);
};

/* ---- deferred work queues ---------------------------------------------- */

/* Intrusive link: the queue owns `next` while the item is queued. */
struct pb_work {
    struct pb_work *_Atomic next;
};

typedef enum {
    PB_IDLE_SPIN = 0,              /* poll; never sleep */
    PB_IDLE_SPIN_PARK,             /* poll a while, then sleep (futex) */
    PB_IDLE_PARK,                  /* sleep at once when empty */
} pb_idle_policy;

struct pb_queue_config {
    unsigned nqueues;              /* per-CPU strategies: one per planned cpu */
    size_t capacity;               /* per queue, for bounded strategies; 0 = default */
    pb_idle_policy idle;
    unsigned spin_iterations;      /* for PB_IDLE_SPIN_PARK; 0 = default */
    /* While an idle consumer spins (PB_IDLE_SPIN, and SPIN_PARK before it
     * parks): give the CPU away (sched_yield) every yield_every polls; 0:
     * never. For consumers that share their CPU with a producer: spinning
     * there holds the CPU the producer needs to make the item. */
    unsigned yield_every;
#define PB_IDLE_SHARED_YIELD_EVERY 64u /* the model's choice when workers share CPUs */
    struct pb_mem_hooks mem;
    const struct pb_lock_ops *lock; /* NULL: the strategy's default (as pools') */
    unsigned ncpus;                /* planned cpus, for the lock; 0 = nqueues */
    unsigned nnodes;               /* NUMA nodes among them; 0 = 1 */
};

struct pb_queue;

struct pb_queue_ops {
    const char *name;
    const char *description;
    unsigned flags;                /* pb_strategy_flag bits */
    const char *lock;              /* as pools': its default lock; NULL: takes no lock */
    unsigned lock_needs;           /* as pools' */
    /* As pools'; -ERANGE: a bounded queue's capacity it cannot allocate. */
    int (*init)(struct pb_queue **q, const struct pb_queue_config *cfg);
    void (*fini)(struct pb_queue *q);
    /* 0, or -EAGAIN when a bounded queue is full (the item is not taken). */
    int (*enqueue)(struct pb_queue *q, unsigned qi, struct pb_work *w);
    /* The next item for the worker of queue qi. With wait, blocks per the
     * idle policy until an item comes or the queue is shut down (then NULL
     * once empty); without wait, NULL when empty. */
    struct pb_work *(*dequeue)(struct pb_queue *q, unsigned qi, bool wait);
    /* Wakes every waiter; later dequeues still return what is left. */
    void (*shutdown)(struct pb_queue *q);
};

/* ---- cancel/complete handoffs ------------------------------------------ */

typedef void (*pb_cancel_routine)(void *op);

/* Per-operation cancel state, inside the callback data. Each handoff
 * strategy gives these words its own meaning (see its file's table).
 * The second 8 bytes are either aux (and padding) or, for a handoff that
 * keeps a lock per operation (op-lock), an in-word lock's state
 * (PB_LOCK_IN_WORD: at most 8 bytes, 8-aligned, free when all zero). */
struct pb_cancel_cell {
    _Atomic uintptr_t word;
    union {
        struct {
            _Atomic uint32_t aux;
            uint32_t pad;
        };
        _Alignas(8) unsigned char lock[8];
    };
};
_Static_assert(sizeof(struct pb_cancel_cell) == 16, "a cancel cell is 16 bytes");

typedef enum {
    PB_ARM_SET = 0,                /* routine set; no cancel seen */
    PB_ARM_CANCELLED,              /* cancel seen; setter took the routine back: setter completes */
    PB_ARM_CANCELLER_TOOK,         /* cancel seen; canceller took it: its callback completes */
} pb_arm_result;

struct pb_handoff;

struct pb_handoff_config {
    unsigned ncpus;                /* planned cpus; 0 = 1 */
    unsigned nnodes;               /* NUMA nodes among them; 0 = 1 */
    struct pb_mem_hooks mem;
    const struct pb_lock_ops *lock; /* NULL: the strategy's default (as pools') */
};

struct pb_handoff_ops {
    const char *name;
    const char *description;
    unsigned flags;                /* pb_strategy_flag bits */
    const char *lock;              /* as pools': its default lock; NULL: takes no lock */
    unsigned lock_needs;           /* as pools' */
    int (*init)(struct pb_handoff **h, const struct pb_handoff_config *cfg);   /* as pools' */
    void (*fini)(struct pb_handoff *h);
    /* A fresh operation: no routine, cancel bit clear. Not concurrent. */
    void (*reset)(struct pb_handoff *h, struct pb_cancel_cell *c);
    /* FltSetCancelCompletion's core (CAN8): set the routine, then test the
     * cancel bit. */
    pb_arm_result (*arm)(struct pb_handoff *h, struct pb_cancel_cell *c, pb_cancel_routine r);
    /* FltClearCancelCompletion's core (CAN3): true when this call removed
     * the routine (the caller owns completion). */
    bool (*disarm)(struct pb_handoff *h, struct pb_cancel_cell *c);
    /* IoCancelIrp's core (CAN4): set the cancel bit, take the routine.
     * Returns the routine taken, or NULL. *was_set: the bit was set before. */
    pb_cancel_routine (*cancel)(struct pb_handoff *h, struct pb_cancel_cell *c, bool *was_set);
    bool (*is_cancelled)(struct pb_handoff *h, const struct pb_cancel_cell *c);
    bool (*is_armed)(struct pb_handoff *h, const struct pb_cancel_cell *c);
};

/* ---- registries -------------------------------------------------------- */

extern const struct pb_pool_ops *const pb_pools[];        /* NULL-terminated */
extern const struct pb_queue_ops *const pb_queues[];
extern const struct pb_handoff_ops *const pb_handoffs[];

const struct pb_pool_ops *pb_pool_find(const char *name);
const struct pb_queue_ops *pb_queue_find(const char *name);
const struct pb_handoff_ops *pb_handoff_find(const char *name);

/* The word for one flag ("bounded", "fifo-per-producer", ...; NULL for
 * an unknown bit), and every set flag as words separated by spaces. */
const char *pb_strategy_flag_word(unsigned flag);
const char *pb_strategy_flags_text(unsigned flags, char *buf, size_t size);

/* Per-thread count of model locks held (handoff locks), for CAN2 checks and
 * the op-lock / global-lock strategies' `held` asserts. */
extern _Thread_local unsigned pb_locks_held;

#endif
