/* Private to core/: the model's objects and the helpers its files share.
 * Not included from outside core/. */
#ifndef PB_CORE_INTERNAL_H
#define PB_CORE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flt_kernel.h"
#include "flt_model.h"
#include "pb_strategy.h"
#include "pb_tsc.h"

#define PB_ALIGNED __attribute__((aligned(PB_CACHE_LINE)))
#define PB_LIKELY(x) __builtin_expect(!!(x), 1)
#define PB_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- the callback data's state word -------------------------------------
 *
 * One 64-bit word per callback data holds everything that decides
 * ownership and lifetime, so one atomic read-modify-write settles each race:
 *
 *   bits  0-15  references: the operation's own (from issue to completion,
 *               or from flt_allocate_callback_data to free), plus one per
 *               pinned handle, queued work item, running cancel or drain.
 *               The block goes back to the pool when they reach zero.
 *   bit  16     PREOP_ACTIVE  a pre-op callback is running for the op
 *   bit  17     PENDED        that pre-op returned FLT_PREOP_PENDING
 *   bit  18     RESUME_REQ    flt_complete_pended_preop was called (PEND3:
 *               whichever of PENDED / RESUME_REQ comes second resumes)
 *   bit  19     COMPLETED     final completion has begun: cancels are late
 *   bit  20     LIVE          allocated from the pool
 *   bit  21     POST_PENDED   a post-op returned MORE_PROCESSING_REQUIRED
 *   bit  22     STARTED       (filter-allocated data) flt_perform_asynchronous_io running
 *   bit  23     POSTOP_ACTIVE a post-op callback is running
 *   bit  24     POST_RESUME   flt_complete_pended_postop was called (the
 *               post-side twin of RESUME_REQ)
 *   bit  25     RESUME_CLAIM  one completer won the right to resume; it
 *               stores the status, then sets RESUME_REQ
 *   bits 32-63  generation, bumped at each allocation / reuse (CD5) */
#define ST_REF_MASK      0xffffull
#define ST_PREOP_ACTIVE  (1ull << 16)
#define ST_PENDED        (1ull << 17)
#define ST_RESUME_REQ    (1ull << 18)
#define ST_COMPLETED     (1ull << 19)
#define ST_LIVE          (1ull << 20)
#define ST_POST_PENDED   (1ull << 21)
#define ST_STARTED       (1ull << 22)
#define ST_POSTOP_ACTIVE (1ull << 23)      /* a post-op callback is running */
#define ST_POST_RESUME   (1ull << 24)      /* flt_complete_pended_postop called */
#define ST_RESUME_CLAIM  (1ull << 25)      /* a completer claimed the resume; status being stored */
#define ST_GEN(s)        ((uint32_t)((s) >> 32))

/* cancel_not_taken is closed (this bit set) when the op completes: later
 * attempts classify themselves. */
#define NOT_TAKEN_CLOSED 0x80000000u

struct flt_frame {
    void *completion_context;
    _Atomic uint8_t post_claimed;  /* post-op called (by completion or drain) */
    _Atomic uint32_t sync_gate;    /* completion reached this level in another thread */
    struct flt_thread *sync_thread;             /* the thread that waits at this level */
    struct flt_cbd *drain_prev, *drain_next;   /* instance's outstanding list */
};

/* A deferred work item. Either its own block of the model's item pool, or
 * the one embedded in each callback data (`embedded`), handed out by
 * flt_allocate_deferred_io_work_item during a pre-op of that data: then
 * queueing it for its own operation costs no pool and no separate line,
 * and the worker finds the operation beside it (docs/cache-line-budget.md).
 *
 * An embedded item holds a reference on its host callback data from
 * allocation to free, so the host outlives it whatever the filter does
 * with it; queued for its host, that reference is also the one that keeps
 * the data alive for the routine (no second pin). */
struct flt_deferred_io_workitem {
    struct pb_work link;                      /* first: the queue's link */
    struct flt_model *model;
    uint64_t model_serial;                    /* model's serial at allocation: models are reused */
    struct flt_cbd *cbd;                      /* the operation it is queued for */
    struct flt_instance *instance;
    flt_deferred_io_workitem_routine routine;
    void *context;
    _Atomic uint32_t queued;
    bool embedded;                            /* inside a flt_cbd (set once, at the block's allocation) */
    /* Embedded items: allocated. Set by the host's pre-op thread (the one
     * allocator, which finds it clear), cleared with release by whoever
     * frees it, read with acquire by the allocator. */
    _Atomic bool in_use;
};

/* The callback data, laid out by who touches what per operation
 * (docs/cache-line-budget.md; offsets asserted in dispatch.c):
 *
 *   line 0  pub     the filter's view: written by the issuer at init, by
 *                   the completer (status, t_dequeue, t_complete)
 *   line 1  state   every read-modify-write of the operation (state word,
 *                   cancel cell, not-taken count) and the small fields the
 *                   driving thread keeps beside them
 *   line 2  item    the embedded work item: written by the issuer (queue),
 *                   read by the worker
 *   line 3  op      what the completer reads: volume, requester callback,
 *                   the I/O parameter block
 *   cold            verifier snapshots, cbdq, async I/O, the per-level
 *                   frames (touched only when a post-op is armed)
 *
 * So the hand-over of an operation to a worker moves four lines, which
 * the issuer fetches (prefetchw) while it fills them in and the worker
 * fetches together as soon as it has the item. */
/* The bytes of a callback data written per operation (lines 0-3 of
 * docs/cache-line-budget.md): what the pool may prefetch of the block its
 * next get hands out (pb_pool_config.hot_bytes). */
#define CBD_HOT_BYTES (4 * PB_CACHE_LINE)

struct flt_cbd {
    struct flt_callback_data pub;             /* offset 0: the filter's view */
    /* offset 64: nothing above is touched by stale readers. */
    _Atomic uint64_t state PB_ALIGNED;
    struct pb_cancel_cell cell;
    _Atomic uint32_t cancel_not_taken;        /* attempts that found no routine */
    /* In a cancel-safe queue. Written under the queue's lock (and at op
     * init) but read without it by flt_cancel_io on another thread, so
     * atomic: set with release after cbdq (an acquire reader that sees true
     * sees the queue), cleared relaxed (a reader that sees false refuses
     * nothing and synchronises through the op's state instead). */
    _Atomic bool in_cbdq;
    bool caught_by_set;                       /* set returned STATUS_CANCELLED (CAN8) */
    bool reached_fs;
    bool allocated_by_filter;                 /* flt_allocate_callback_data */
    bool postop_active;
    /* The embedded item's reference, counted in at allocation and not yet
     * taken (flt_allocate_deferred_io_work_item takes it instead of a
     * locked increment; the block's final drop returns it if no item
     * did). Only the thread running the operation touches it: the
     * allocating thread, a pre-op (during which the operation cannot
     * complete, PEND3), then the final drop, after the state word's
     * acq_rel RMWs that end the pre-op. */
    bool item_ref_spare;
    int8_t level;                             /* instance slot of the current callback */
    int8_t pend_level;                        /* slot whose pre-op pended */
    int8_t post_level;                        /* slot whose post-op pended */
    uint8_t snap_major;                       /* CD4 */
    /* Per level (bit = instance slot): the pre-op asked for its post-op;
     * it did so with SYNCHRONIZE. Kept here rather than in the frames so
     * that an operation without post-ops never touches a frame's line. */
    uint8_t want_post;
    uint8_t synchronize;
    uint32_t snap_type;
    uint32_t post_queued;                     /* work items queued during the running post-op */
    FLT_PREOP_CALLBACK_STATUS resume_status;
    void *resume_context;
    struct flt_deferred_io_workitem item PB_ALIGNED;
    struct flt_volume *volume PB_ALIGNED;
    flt_requester_completion on_complete;
    void *on_complete_ctx;
    struct flt_io_parameter_block iopb;
    /* Cold. */
    struct flt_io_status_block snap_status PB_ALIGNED;   /* PRE8; verifier checks only */
    struct flt_cbdq *_Atomic cbdq;           /* its queue while in_cbdq (see in_cbdq) */
    struct flt_cbdq_io_context *cbdq_ctx;    /* valid while in_cbdq */
    struct flt_instance *initiator;           /* filter-allocated data: runs below this */
    flt_completed_async_io_callback async_cb; /* filter-allocated data */
    void *async_ctx;
    struct flt_frame frames[FLT_MAX_INSTANCES];   /* levels with want_post set */
};

static inline struct flt_cbd *cbd_of(const struct flt_callback_data *d)
{
    return (struct flt_cbd *)d;
}

/* ---- threads -------------------------------------------------------------- */

/* A thread's live counters: written only by their thread (single writer,
 * so a relaxed load + store, no locked RMW), read by anyone at any time
 * (progress lines, end of run) without a data race. */
struct pb_live_counters {
#define PB_LIVE_FIELD_(name, unit, doc) _Atomic uint64_t name;
    PB_COUNTERS(PB_LIVE_FIELD_)
#undef PB_LIVE_FIELD_
};

#define PB_COUNT_ADD(t, name, n)                                                       \
    do {                                                                               \
        struct flt_thread *pb_t_ = (t);   /* evaluated once */                         \
        atomic_store_explicit(&pb_t_->c.name,                                          \
                              atomic_load_explicit(&pb_t_->c.name, memory_order_relaxed) + (n), \
                              memory_order_relaxed);                                   \
    } while (0)
#define PB_COUNT(t, name) PB_COUNT_ADD(t, name, 1)

struct flt_thread {
    struct pb_live_counters c;                /* written only by this thread */
    struct flt_model *model;
    struct flt_thread *next;                  /* in model->threads */
    unsigned cpu;
    unsigned route;
    uint32_t index;
    unsigned split_countdown;                 /* work items until the next t_dequeue stamp */
    int worker_queue;                         /* the queue it consumes as a model worker; -1: none */
    uint64_t op_seq;
} PB_ALIGNED;

/* The calling thread's context in this model (attaching it on first use). */
struct flt_thread *flt_thread_ctx(struct flt_model *model);
/* The calling thread's current model, or the most recently created one. */
struct flt_model *flt_current_model(void);

extern _Thread_local KIRQL pb_irql;
/* The callback data whose work item this thread is running, and when it
 * was dequeued. */
extern _Thread_local struct flt_cbd *pb_running_cbd;
extern _Thread_local uint64_t pb_running_t_dequeue;   /* 0: not sampled (split_every) */
/* References on pb_running_cbd dropped while its routine runs, taken off
 * in one step when the routine returns (the run holds one of its own until
 * then, so the block cannot be recycled early): saves a locked RMW per
 * drop on the worker's path. See cbd_unpin_deferred. */
extern _Thread_local unsigned pb_deferred_unpins;
/* The operation whose pre-op callback this thread is running: the host
 * flt_allocate_deferred_io_work_item embeds its item in. */
extern _Thread_local struct flt_cbd *pb_preop_cbd;
/* The callback data whose canceled callback this thread is running (CAN9). */
extern _Thread_local struct flt_cbd *pb_in_canceled_callback;

/* ---- per-cpu sharded counters (no shared line on the hot path) ------------ */

struct pb_shard { _Atomic int64_t v; char pad[PB_CACHE_LINE - sizeof(int64_t)]; };

/* ---- model, volume, filters, instances ------------------------------------ */

#define FLT_RULE_MAX 64

struct flt_model {
    _Atomic uint64_t serial;       /* 0 while not in use; never reused */
    struct flt_model_config cfg;
    const struct pb_pool_ops *pool_ops;
    struct pb_pool *pool;
    struct pb_pool *item_pool;
    const struct pb_queue_ops *queue_ops;
    struct pb_queue *queue;
    const struct pb_handoff_ops *ho_ops;
    struct pb_handoff *ho;
    const struct pb_lock_ops *lock_ops;       /* the chosen lock; NULL: each strategy's default */
    unsigned ncpus;
    unsigned nnodes;
    unsigned nqueues;
    unsigned nworkers;
    unsigned split_every;                     /* cfg.split_every, at least 1 */
    pthread_t *workers;
    uint64_t (*now)(void);
    bool checks;
    bool workers_joined;                      /* destroy joined them: the queues are free */

    pthread_mutex_t lock;                     /* threads list, verifier log */
    struct flt_thread *threads;
    uint32_t nthreads;
    _Atomic uint64_t violations[FLT_RULE_MAX];
    struct flt_violation last;
    bool has_last;
    unsigned logged;
};

struct flt_filter {
    struct flt_model *model;
    struct flt_registration reg;
    flt_pre_operation_callback pre[256];
    flt_post_operation_callback post[256];
};

struct flt_instance {
    struct flt_filter *filter;
    struct flt_volume *volume;
    struct flt_related_objects objs;
    uint64_t altitude_milli;                  /* altitude * 1000 */
    int slot;                                 /* index in volume->inst */
    _Atomic bool deleting;
    _Atomic bool detached;
    bool orphaned;                            /* its filter was unregistered */
    struct pb_shard *workitems;               /* per cpu: queued, not yet run */
    pthread_mutex_t drain_lock;               /* the outstanding-post list */
    struct flt_cbd *drain_head;
};

#define FLT_MAX_FSF 8

struct flt_volume {
    struct flt_model *model;
    char name[32];
    struct flt_fs_config fs;
    uint64_t service_ticks;
    struct flt_instance *inst[FLT_MAX_INSTANCES];   /* highest altitude first */
    _Atomic int depth;
    struct fs_filter_callbacks fsf[FLT_MAX_FSF];
    int nfsf;
    _Atomic int64_t (*fs_counts)[256];        /* [ncpus][major], relaxed */
};


/* ---- shared helpers ------------------------------------------------------- */

#include "futex.h"

/* Sets *gate to 1 and wakes its waiters; pb_gate_wait returns once it is 1. */
static inline void pb_gate_open(_Atomic uint32_t *gate)
{
    /* release: the waiter sees everything done before opening. */
    atomic_store_explicit(gate, 1, memory_order_release);
    pb_futex_wake(gate, INT_MAX);
}

static inline void pb_gate_wait(_Atomic uint32_t *gate)
{
    while (atomic_load_explicit(gate, memory_order_acquire) == 0)
        pb_futex_wait(gate, 0);
}

/* Waits for *gate to open (pb_gate_wait) in a thread that may be a model
 * worker (model.c): a worker runs its own queue's items meanwhile, since
 * what it waits for may be queued there. */
void flt_wait_serving(struct flt_model *model, _Atomic uint32_t *gate);

/* Verifier: reports rule violations (verifier.c). */
void flt_verifier_report_model(struct flt_model *model, const char *rule, const char *routine,
                               const struct flt_callback_data *data, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Lifetime (dispatch.c). */
void cbd_pin(struct flt_cbd *cbd);                 /* op known live */
bool cbd_try_pin(struct flt_cbd *cbd, uint32_t gen);/* false: completed, freed or reused */
void cbd_unpin(struct flt_cbd *cbd);
void cbd_unpin_n(struct flt_cbd *cbd, unsigned n);
/* An unpin that may wait for the end of the running work item when cbd is
 * the one it runs for (pb_deferred_unpins). */
static inline void cbd_unpin_deferred_n(struct flt_cbd *cbd, unsigned n)
{
    if (cbd == pb_running_cbd)
        pb_deferred_unpins += n;
    else
        cbd_unpin_n(cbd, n);
}
static inline void cbd_unpin_deferred(struct flt_cbd *cbd)
{
    cbd_unpin_deferred_n(cbd, 1);
}
/* The owner's last reference plus the embedded item's spare one if no
 * item took it: how many references the block's final drop releases. */
static inline unsigned cbd_final_refs(struct flt_cbd *cbd)
{
    unsigned n = 1u + (cbd->item_ref_spare ? 1u : 0u);
    cbd->item_ref_spare = false;
    return n;
}
/* Takes a block from the pool and gives it a new generation, LIVE and
 * `refs` references, plus the embedded item's spare one
 * (item_ref_spare); the caller fills in the rest. NULL when exhausted. */
struct flt_cbd *cbd_alloc(struct flt_volume *vol, struct flt_thread *t, unsigned refs);
/* Fills the private part for a fresh operation (not the state word). */
void cbd_init_op(struct flt_cbd *cbd, struct flt_volume *vol, uint32_t type, uint8_t major);

/* Dispatch (dispatch.c). */
NTSTATUS flt_dispatch_pre(struct flt_cbd *cbd, int level);
NTSTATUS flt_complete_up(struct flt_cbd *cbd, int level);
/* Issues an operation and waits for it to complete; returns its status. */
NTSTATUS flt_issue_and_wait(struct flt_volume *vol, const struct flt_op_desc *desc);

/* Cancel (cancel.c): the cbdq's own cancel routine marker. */
void flt_cbdq_cancel_routine(struct flt_cbd *cbd);
#define CBDQ_ROUTINE_MARK ((pb_cancel_routine)(void (*)(void))flt_cbdq_cancel_routine)

/* Deferred work (deferred.c). */
void flt_run_workitem(struct flt_model *model, struct flt_deferred_io_workitem *item);
int64_t flt_shard_sum(const struct pb_shard *s, unsigned n);

/* IRQL check: true when the calling thread is at or below max, else reports. */
bool flt_irql_at_most(struct flt_model *model, KIRQL max, const char *routine,
                      const struct flt_callback_data *data);

static inline bool cbd_is_paging(const struct flt_cbd *cbd)
{
    return (cbd->pub.flags & FLTFL_CALLBACK_DATA_IRP_OPERATION) &&
           (cbd->iopb.irp_flags & IRP_PAGING_IO);
}

static inline struct flt_model *cbd_model(const struct flt_cbd *cbd)
{
    return cbd->volume->model;
}

#endif
