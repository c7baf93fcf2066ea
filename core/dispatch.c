/* Issuing an operation down the instance stack, the pre-op and post-op
 * dispatch with every callback status (PRE, POST), pending and resuming
 * (PEND), completion, and the callback data's lifetime (CD3, CD5).
 *
 * Concurrency: an operation is driven by one thread at a time. Ownership
 * passes between threads only through the state word (internal.h):
 * - PEND3: the pre-op's return of PENDING and flt_complete_pended_preop
 *   each set a bit; whichever sets the second one resumes the operation;
 * - post-op MORE_PROCESSING_REQUIRED and flt_complete_pended_postop the same;
 * - SYNCHRONIZE: completion that reaches the level in another thread opens
 *   that level's gate, and the waiting thread carries on from there.
 * So exactly one thread runs each step and completion happens once. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "pb_prefetch.h"

_Static_assert(offsetof(struct flt_cbd, state) >= PB_POOL_FREE_BYTES,
               "the state word must lie beyond what a free block's link uses");
_Static_assert(offsetof(struct flt_cbd, pub) == 0, "public part first");
/* The per-operation lines of docs/cache-line-budget.md: what each line
 * holds is what the table says it holds. */
#define PB_LINE_OF(field) (offsetof(struct flt_cbd, field) / PB_CACHE_LINE)
#define PB_END_LINE_OF(field) \
    ((offsetof(struct flt_cbd, field) + sizeof(((struct flt_cbd *)0)->field) - 1) / PB_CACHE_LINE)
_Static_assert(sizeof(struct flt_callback_data) <= PB_CACHE_LINE, "line 0: pub fits one line");
_Static_assert(PB_LINE_OF(state) == 1 && PB_LINE_OF(cell) == 1 && PB_END_LINE_OF(cell) == 1 &&
               PB_LINE_OF(cancel_not_taken) == 1 && PB_END_LINE_OF(resume_context) == 1 &&
               PB_LINE_OF(want_post) == 1 && PB_LINE_OF(in_cbdq) == 1,
               "line 1: the state word, the cancel cell and the driving thread's small fields");
_Static_assert(sizeof(struct flt_deferred_io_workitem) <= PB_CACHE_LINE &&
               PB_LINE_OF(item) == 2 && PB_END_LINE_OF(item) == 2,
               "line 2: the embedded work item, alone");
_Static_assert(PB_LINE_OF(volume) == 3 && PB_LINE_OF(on_complete) == 3 &&
               PB_LINE_OF(on_complete_ctx) == 3 && PB_END_LINE_OF(iopb) == 3,
               "line 3: what the completer reads");
_Static_assert(PB_LINE_OF(snap_status) == 4, "the rest is cold");
_Static_assert(CBD_HOT_BYTES == 4 * PB_CACHE_LINE, "the pool prefetches the four lines");
_Static_assert(FLT_MAX_INSTANCES <= 8, "want_post / synchronize are 8-bit masks");

/* ---- lifetime -------------------------------------------------------------- */

void cbd_pin(struct flt_cbd *cbd)
{
    /* relaxed: the caller already holds a reference, as any refcount
     * increment; the release that later drops it orders the accesses. */
    atomic_fetch_add_explicit(&cbd->state, 1, memory_order_relaxed);
}

bool cbd_try_pin(struct flt_cbd *cbd, uint32_t gen)
{
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    do {
        if (ST_GEN(s) != gen || !(s & ST_LIVE) || (s & ST_COMPLETED) ||
            (s & ST_REF_MASK) == 0 || (s & ST_REF_MASK) == ST_REF_MASK)
            return false;
        /* acquire on success: see the operation as its owners left it. */
    } while (!atomic_compare_exchange_weak_explicit(&cbd->state, &s, s + 1,
                                                    memory_order_acquire,
                                                    memory_order_acquire));
    return true;
}

static void cbd_release(struct flt_cbd *cbd)
{
    struct flt_model *m = cbd_model(cbd);
    struct flt_thread *t = flt_thread_ctx(m);
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_relaxed);
    /* Keep the generation, drop LIVE: stale handles now fail their pin.
     * release: the next owner of the block sees our last writes. */
    atomic_store_explicit(&cbd->state, (uint64_t)ST_GEN(s) << 32, memory_order_release);
    m->pool_ops->put(m->pool, t->cpu, cbd);
    PB_COUNT(t, pool_put);
}

void cbd_unpin(struct flt_cbd *cbd)
{
    cbd_unpin_n(cbd, 1);
}

void cbd_unpin_n(struct flt_cbd *cbd, unsigned n)
{
    /* acq_rel: the last one out must see every write made under the other
     * references before the block is recycled. */
    uint64_t s = atomic_fetch_sub_explicit(&cbd->state, n, memory_order_acq_rel);
    if ((s & ST_REF_MASK) == n)
        cbd_release(cbd);
}

struct flt_cbd *cbd_alloc(struct flt_volume *vol, struct flt_thread *t, unsigned refs)
{
    struct flt_model *m = vol->model;
    struct flt_cbd *cbd = m->pool_ops->get(m->pool, t->cpu);
    if (!cbd) {
        PB_COUNT(t, pool_exhausted);
        return NULL;
    }
    PB_COUNT(t, pool_get);
    uint32_t gen;
    if ((m->pool_ops->flags & PB_TYPE_STABLE)) {
        /* The block's last generation is still there: the next one differs
         * from every handle that named it (CD5). relaxed: only stale
         * readers race with us, and they only compare. */
        gen = ST_GEN(atomic_load_explicit(&cbd->state, memory_order_relaxed)) + 1;
    } else {
        gen = (uint32_t)(t->op_seq * 2654435761u) + t->index;
    }
    if (gen == 0)
        gen = 1;
    /* relaxed: the block is published by the caller's later release (the
     * state store in flt_issue / flt_allocate_callback_data). */
    atomic_store_explicit(&cbd->state, ((uint64_t)gen << 32) | ST_LIVE | (refs + 1u),
                          memory_order_relaxed);
    /* The +1: the embedded item's reference, counted in by this plain
     * store so that a pre-op allocating the item needs no locked RMW on
     * the requester's path; returned by the final drop if unused. */
    cbd->item_ref_spare = true;
    /* A block comes back only when every reference is gone, its embedded
     * item's included: the item is free. Written here, not per operation
     * (flt_perform_asynchronous_io reinitialises a block whose item a
     * filter may hold). Writing the item's line now also starts its
     * transfer from the CPU that last ran it, long before the pre-op
     * queues it. relaxed: published with the block, as above. */
    cbd->item.embedded = true;
    atomic_store_explicit(&cbd->item.in_use, false, memory_order_relaxed);
    return cbd;
}

void cbd_init_op(struct flt_cbd *cbd, struct flt_volume *vol, uint32_t type, uint8_t major)
{
    struct flt_model *m = vol->model;
    /* The four lines of an operation (line 0 last: the pool may have
     * written its link there) are all written below or by the issuer; ask
     * for them in exclusive state at once so their transfers overlap
     * instead of stalling one after the other. */
    pb_prefetch_excl((char *)cbd + 3 * PB_CACHE_LINE);
    pb_prefetch_excl((char *)cbd + 2 * PB_CACHE_LINE);
    m->ho_ops->reset(m->ho, &cbd->cell);
    atomic_store_explicit(&cbd->cancel_not_taken, 0, memory_order_relaxed);
    cbd->caught_by_set = false;
    cbd->reached_fs = false;
    atomic_store_explicit(&cbd->in_cbdq, false, memory_order_relaxed);
    cbd->postop_active = false;
    cbd->level = -1;
    cbd->pend_level = -1;
    cbd->post_level = -1;
    cbd->want_post = 0;
    cbd->synchronize = 0;
    cbd->snap_major = major;
    cbd->snap_type = type;
    cbd->post_queued = 0;
    /* Not reset: the cold fields, each written before it is read (cbdq
     * and cbdq_ctx when inserted, in_cbdq guarding them; initiator and the
     * async callback by flt_allocate_callback_data and
     * flt_perform_asynchronous_io, allocated_by_filter guarding them;
     * snap_status before each pre-op when checks are on; a frame when its
     * level's want_post bit is set). */
    cbd->volume = vol;
    cbd->on_complete = NULL;
    cbd->on_complete_ctx = NULL;
    cbd->pub.flags = type;
    cbd->pub.iopb = &cbd->iopb;
    cbd->pub.io_status.status = STATUS_SUCCESS;
    cbd->pub.io_status.information = 0;
    cbd->pub.times.t_dequeue = 0;
    cbd->pub.times.t_complete = 0;
}

/* ---- verifier checks around callbacks -------------------------------------- */

/* CD4: MajorFunction and the operation-type flags are read-only. */
static void check_read_only(struct flt_cbd *cbd, const char *routine)
{
    uint32_t type = cbd->pub.flags & FLTFL_CALLBACK_DATA_OPERATION_TYPE_MASK;
    if (PB_UNLIKELY(cbd->iopb.major_function != cbd->snap_major || type != cbd->snap_type)) {
        flt_verifier_report_model(cbd_model(cbd), "CD4", routine, &cbd->pub,
                                  "MajorFunction or the operation type was changed; restored");
        cbd->iopb.major_function = cbd->snap_major;
        cbd->pub.flags = (cbd->pub.flags & ~FLTFL_CALLBACK_DATA_OPERATION_TYPE_MASK) | cbd->snap_type;
    }
}

/* PRE8: IoStatus changes only with COMPLETE. */
static void check_status_kept(struct flt_cbd *cbd, const char *routine)
{
    if (PB_UNLIKELY(cbd->pub.io_status.status != cbd->snap_status.status ||
                    cbd->pub.io_status.information != cbd->snap_status.information)) {
        flt_verifier_report_model(cbd_model(cbd), "PRE8", routine, &cbd->pub,
                                  "IoStatus changed without completing; restored");
        cbd->pub.io_status = cbd->snap_status;
    }
}

/* PRE1: the status a completing pre-op may set. */
static void check_completion_status(struct flt_cbd *cbd, const char *rule, const char *routine)
{
    NTSTATUS s = cbd->pub.io_status.status;
    uint8_t major = cbd->snap_major;
    if ((major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE) && FLT_IS_IRP_OPERATION(&cbd->pub) &&
        s != STATUS_SUCCESS) {
        flt_verifier_report_model(cbd_model(cbd), rule, routine, &cbd->pub,
                                  "cleanup and close must complete with STATUS_SUCCESS (got %#x)",
                                  (unsigned)s);
        cbd->pub.io_status.status = STATUS_SUCCESS;
    } else if (s == STATUS_PENDING || s == STATUS_FLT_DISALLOW_FAST_IO) {
        flt_verifier_report_model(cbd_model(cbd), rule, routine, &cbd->pub,
                                  "completed with status %#x, which a pre-op may not set",
                                  (unsigned)s);
        cbd->pub.io_status.status = STATUS_INVALID_PARAMETER;
        cbd->pub.io_status.information = 0;
    }
}

/* ---- completion ------------------------------------------------------------- */

static NTSTATUS finalize(struct flt_cbd *cbd)
{
    struct flt_model *m = cbd_model(cbd);
    struct flt_thread *t = flt_thread_ctx(m);
    if (PB_UNLIKELY(m->ho_ops->is_armed(m->ho, &cbd->cell))) {
        /* PEND6: a routine left set could be called after completion. */
        flt_verifier_report_model(m, "PEND6", "completion", &cbd->pub,
                                  "a cancel routine is still set at completion; cleared");
        PB_COUNT(t, routine_left_set);
        m->ho_ops->disarm(m->ho, &cbd->cell);
    }
    NTSTATUS status = cbd->pub.io_status.status;
    if (PB_UNLIKELY(status == STATUS_PENDING)) {
        flt_verifier_report_model(m, "PEND6", "completion", &cbd->pub,
                                  "completed with STATUS_PENDING; failed with STATUS_FLT_INTERNAL_ERROR");
        status = cbd->pub.io_status.status = STATUS_FLT_INTERNAL_ERROR;
    }
    if (cbd->pub.times.t_issue)     /* 0: issued untimed, no clock read */
        cbd->pub.times.t_complete = m->now();
    /* acq_rel: cancellers that see COMPLETED stop; we see what they did. */
    uint64_t old = atomic_fetch_or_explicit(&cbd->state, ST_COMPLETED, memory_order_acq_rel);
    if (PB_UNLIKELY(old & ST_COMPLETED)) {
        /* Cannot happen by construction; refuse rather than complete twice. */
        flt_verifier_report_model(m, "PEND4", "completion", &cbd->pub, "completed twice; refused");
        PB_COUNT(t, double_complete_refused);
        return status;
    }
    /* Attempts that found no routine: the setter caught them (early) or
     * the worker cleared first (lost). Closing the count makes any later
     * attempt classify itself. */
    uint32_t n = atomic_exchange_explicit(&cbd->cancel_not_taken, NOT_TAKEN_CLOSED,
                                          memory_order_acq_rel);
    if (n) {
        if (cbd->caught_by_set)
            PB_COUNT_ADD(t, cancel_early, n);
        else
            PB_COUNT_ADD(t, cancel_lost, n);
    }
    if (cbd->allocated_by_filter) {
        /* Filter-initiated I/O: the filter keeps its reference and frees. */
        flt_completed_async_io_callback cb = cbd->async_cb;
        void *ctx = cbd->async_ctx;
        if (cb)
            cb(&cbd->pub, ctx);
        return status;
    }
    if (status == STATUS_CANCELLED)
        PB_COUNT(t, completed_cancelled);
    else if (NT_ERROR(status))
        PB_COUNT(t, failed);
    else
        PB_COUNT(t, completed);
    if (cbd->on_complete)
        cbd->on_complete(&cbd->pub, cbd->on_complete_ctx);
    /* The operation's own reference (and the item's spare one if unused). */
    cbd_unpin_deferred_n(cbd, cbd_final_refs(cbd));
    return status;
}

static void drain_list_remove(struct flt_instance *inst, struct flt_cbd *cbd, struct flt_frame *f)
{
    if (f->drain_prev)
        f->drain_prev->frames[inst->slot].drain_next = f->drain_next;
    else
        inst->drain_head = f->drain_next;
    if (f->drain_next)
        f->drain_next->frames[inst->slot].drain_prev = f->drain_prev;
    f->drain_prev = f->drain_next = NULL;
}

/* Claims the post-op of `level` for the completion path: false when a
 * teardown already drained it (POST2). */
static bool claim_post(struct flt_cbd *cbd, struct flt_instance *inst, struct flt_frame *f)
{
    pthread_mutex_lock(&inst->drain_lock);
    bool mine = !atomic_load_explicit(&f->post_claimed, memory_order_relaxed);
    if (mine) {
        atomic_store_explicit(&f->post_claimed, 1, memory_order_relaxed);
        drain_list_remove(inst, cbd, f);
    }
    pthread_mutex_unlock(&inst->drain_lock);
    return mine;
}

NTSTATUS flt_complete_up(struct flt_cbd *cbd, int level)
{
    struct flt_volume *vol = cbd->volume;
    struct flt_model *m = vol->model;
    uint8_t major = cbd->snap_major;
    for (; level >= 0; level--) {
        if (!(cbd->want_post & (1u << level)))
            continue;
        struct flt_frame *f = &cbd->frames[level];
        struct flt_instance *inst = vol->inst[level];
        if (cbd->synchronize & (1u << level)) {
            /* PRE5: the post-op runs in the thread that is waiting there.
             * Also when that is this thread (the levels below completed
             * inside its dispatch): its dispatch_pre finds the gate open
             * and goes on from this level itself. Running the post-op here
             * instead, and on up, made a post-op above that returned
             * MORE_PROCESSING_REQUIRED (STATUS_PENDING) look to the
             * waiting frame like levels below still pending: it waited
             * for a gate nobody would open. */
            pb_gate_open(&f->sync_gate);
            return STATUS_PENDING;
        }
        if (!claim_post(cbd, inst, f))
            continue;
        flt_post_operation_callback post = inst->filter->post[major];
        cbd->level = (int8_t)level;
        cbd->post_queued = 0;
        /* acq_rel: a work item queued by this post-op may resume it at once
         * (flt_complete_pended_postop) and must see this bit. */
        atomic_fetch_or_explicit(&cbd->state, ST_POSTOP_ACTIVE, memory_order_acq_rel);
        cbd->postop_active = true;
        FLT_POSTOP_CALLBACK_STATUS r = post(&cbd->pub, &inst->objs, f->completion_context, 0);
        cbd->postop_active = false;
        if (m->checks)
            check_read_only(cbd, "post-operation callback");
        if (r == FLT_POSTOP_MORE_PROCESSING_REQUIRED) {
            const char *why = NULL;
            if (!FLT_IS_IRP_OPERATION(&cbd->pub))
                why = "MORE_PROCESSING_REQUIRED on a non-IRP operation";
            else if (cbd->post_queued == 0)
                why = "MORE_PROCESSING_REQUIRED without posting the operation to a work queue";
            if (why) {
                flt_verifier_report_model(m, "POST1", "post-operation callback", &cbd->pub,
                                          "%s; treated as FINISHED_PROCESSING", why);
                r = FLT_POSTOP_FINISHED_PROCESSING;
            } else {
                cbd->post_level = (int8_t)level;
                uint64_t s = atomic_load_explicit(&cbd->state, memory_order_relaxed);
                uint64_t n;
                do {
                    n = (s | ST_POST_PENDED) & ~ST_POSTOP_ACTIVE;
                } while (!atomic_compare_exchange_weak_explicit(&cbd->state, &s, n,
                                                                memory_order_acq_rel,
                                                                memory_order_relaxed));
                if (!(s & ST_POST_RESUME))
                    return STATUS_PENDING;    /* flt_complete_pended_postop continues */
                /* The work item was faster: carry on here. */
                atomic_fetch_and_explicit(&cbd->state, ~(ST_POST_PENDED | ST_POST_RESUME),
                                          memory_order_acq_rel);
                continue;
            }
        }
        uint64_t old = atomic_fetch_and_explicit(&cbd->state,
                                                 ~(ST_POSTOP_ACTIVE | ST_POST_RESUME),
                                                 memory_order_acq_rel);
        if (PB_UNLIKELY(old & ST_POST_RESUME))
            flt_verifier_report_model(m, "PEND5", "flt_complete_pended_postop", &cbd->pub,
                                      "resumed a post-op that did not return MORE_PROCESSING_REQUIRED; ignored");
        if (r == FLT_POSTOP_DISALLOW_FSFILTER_IO) {
            if (FLT_IS_FS_FILTER_OPERATION(&cbd->pub) && major == IRP_MJ_QUERY_OPEN)
                cbd->pub.io_status.status = STATUS_FLT_DISALLOW_FSFILTER_IO;
            else
                flt_verifier_report_model(m, "FSF5", "post-operation callback", &cbd->pub,
                                          "DISALLOW_FSFILTER_IO outside QueryOpen; ignored");
        } else if (r != FLT_POSTOP_FINISHED_PROCESSING && r != FLT_POSTOP_MORE_PROCESSING_REQUIRED) {
            flt_verifier_report_model(m, "VER1", "post-operation callback", &cbd->pub,
                                      "returned %d, not a FLT_POSTOP status", (int)r);
        }
    }
    return finalize(cbd);
}

NTSTATUS flt_complete_pended_postop(struct flt_callback_data *data)
{
    if (!data) {
        flt_verifier_report("VER1", "flt_complete_pended_postop", NULL, "data is NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    if (!flt_irql_at_most(m, DISPATCH_LEVEL, "flt_complete_pended_postop", data))
        return STATUS_INVALID_PARAMETER;
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_relaxed);
    do {
        if (!(s & (ST_POST_PENDED | ST_POSTOP_ACTIVE)) || (s & ST_POST_RESUME) ||
            (s & ST_COMPLETED)) {
            flt_verifier_report_model(m, "PEND5", "flt_complete_pended_postop", data,
                                      "the operation's post-op did not return MORE_PROCESSING_REQUIRED");
            return STATUS_INVALID_PARAMETER;
        }
    } while (!atomic_compare_exchange_weak_explicit(&cbd->state, &s, s | ST_POST_RESUME,
                                                    memory_order_acq_rel, memory_order_relaxed));
    if (s & ST_POST_PENDED) {
        atomic_fetch_and_explicit(&cbd->state, ~(ST_POST_PENDED | ST_POST_RESUME),
                                  memory_order_acq_rel);
        flt_complete_up(cbd, cbd->post_level - 1);
    }
    return STATUS_SUCCESS;
}

/* ---- the simulated file system ----------------------------------------------- */

static NTSTATUS fs_dispatch(struct flt_cbd *cbd, int depth)
{
    struct flt_volume *vol = cbd->volume;
    struct flt_thread *t = flt_thread_ctx(vol->model);
    uint8_t major = cbd->snap_major;
    cbd->reached_fs = true;
    /* relaxed: a tally, on this cpu's own line. */
    atomic_fetch_add_explicit(&vol->fs_counts[t->cpu][major], 1, memory_order_relaxed);
    if (vol->service_ticks) {
        uint64_t end = pb_tsc_now() + vol->service_ticks;
        while (pb_tsc_now() < end)
            pb_cpu_relax();
    }
    NTSTATUS st = vol->fs.status_by_major[major];
    cbd->pub.io_status.status = st;
    cbd->pub.io_status.information = 0;
    if (st == STATUS_SUCCESS && FLT_IS_IRP_OPERATION(&cbd->pub)) {
        if (major == IRP_MJ_READ)
            cbd->pub.io_status.information = cbd->iopb.parameters.read.length;
        else if (major == IRP_MJ_WRITE)
            cbd->pub.io_status.information = cbd->iopb.parameters.write.length;
    }
    return flt_complete_up(cbd, depth - 1);
}

/* ---- pre-op dispatch ------------------------------------------------------- */

static NTSTATUS fail_at(struct flt_cbd *cbd, int level, NTSTATUS status)
{
    cbd->pub.io_status.status = status;
    cbd->pub.io_status.information = 0;
    return flt_complete_up(cbd, level - 1);
}

static void arm_post(struct flt_cbd *cbd, struct flt_instance *inst, int level, void *ctx,
                     bool synchronize)
{
    struct flt_frame *f = &cbd->frames[level];
    f->completion_context = ctx;
    cbd->want_post |= (uint8_t)(1u << level);
    if (synchronize) {
        cbd->synchronize |= (uint8_t)(1u << level);
        f->sync_thread = flt_thread_ctx(cbd_model(cbd));
        atomic_store_explicit(&f->sync_gate, 0, memory_order_relaxed);
    }
    pthread_mutex_lock(&inst->drain_lock);
    atomic_store_explicit(&f->post_claimed, 0, memory_order_relaxed);
    f->drain_prev = NULL;
    f->drain_next = inst->drain_head;
    if (inst->drain_head)
        inst->drain_head->frames[inst->slot].drain_prev = cbd;
    inst->drain_head = cbd;
    pthread_mutex_unlock(&inst->drain_lock);
}

static NTSTATUS resume(struct flt_cbd *cbd);

/* A pre-op returned something other than PENDING: a completion that was
 * requested meanwhile was not for a pended operation (PEND4). */
static void end_preop_not_pended(struct flt_cbd *cbd, const char *ret)
{
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    /* A claimer stores its status, then sets RESUME_REQ: wait for that so
     * no stale RESUME_REQ outlives this pre-op. */
    while ((s & ST_RESUME_CLAIM) && !(s & ST_RESUME_REQ)) {
        pb_cpu_relax();
        s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    }
    s = atomic_fetch_and_explicit(&cbd->state,
                                  ~(ST_PREOP_ACTIVE | ST_RESUME_REQ | ST_RESUME_CLAIM),
                                  memory_order_acq_rel);
    if (PB_UNLIKELY(s & ST_RESUME_CLAIM)) {
        struct flt_model *m = cbd_model(cbd);
        flt_verifier_report_model(m, "PEND4", "flt_complete_pended_preop", &cbd->pub,
                                  "completed, but its pre-op returned %s, not PENDING; ignored", ret);
        PB_COUNT(flt_thread_ctx(m), double_complete_refused);
    }
}

static const char *preop_name(FLT_PREOP_CALLBACK_STATUS r)
{
    switch (r) {
    case FLT_PREOP_SUCCESS_WITH_CALLBACK: return "SUCCESS_WITH_CALLBACK";
    case FLT_PREOP_SUCCESS_NO_CALLBACK: return "SUCCESS_NO_CALLBACK";
    case FLT_PREOP_PENDING: return "PENDING";
    case FLT_PREOP_DISALLOW_FASTIO: return "DISALLOW_FASTIO";
    case FLT_PREOP_COMPLETE: return "COMPLETE";
    case FLT_PREOP_SYNCHRONIZE: return "SYNCHRONIZE";
    case FLT_PREOP_DISALLOW_FSFILTER_IO: return "DISALLOW_FSFILTER_IO";
    default: return "an unknown status";
    }
}

/* fresh: the operation has not been shown to any other thread yet (the
 * first pre-op of flt_issue: no handle is out, no work item queued), so
 * its state word has no other writer until that pre-op publishes it. */
static NTSTATUS dispatch_pre(struct flt_cbd *cbd, int level, bool fresh)
{
    struct flt_volume *vol = cbd->volume;
    struct flt_model *m = vol->model;
    const uint8_t major = cbd->snap_major;
    const int depth = atomic_load_explicit(&vol->depth, memory_order_acquire);
    for (; level < depth; level++) {
        struct flt_instance *inst = vol->inst[level];
        const uint8_t bit = (uint8_t)(1u << level);
        cbd->want_post &= (uint8_t)~bit;
        cbd->synchronize &= (uint8_t)~bit;
        if (atomic_load_explicit(&inst->deleting, memory_order_acquire))
            continue;
        flt_pre_operation_callback pre = inst->filter->pre[major];
        flt_post_operation_callback post = inst->filter->post[major];
        if (!pre && !post)
            continue;
        FLT_PREOP_CALLBACK_STATUS r = FLT_PREOP_SUCCESS_WITH_CALLBACK;
        void *ctx = NULL;
        if (pre) {
            cbd->level = (int8_t)level;
            if (m->checks)
                cbd->snap_status = cbd->pub.io_status;
            if (fresh) {
                /* No other writer (see above): a plain store, no locked
                 * RMW. relaxed: the pre-op publishes the operation with a
                 * release (the queue's enqueue, a handle's hand-over), so
                 * whoever receives it sees this bit. */
                uint64_t s = atomic_load_explicit(&cbd->state, memory_order_relaxed);
                atomic_store_explicit(&cbd->state, s | ST_PREOP_ACTIVE, memory_order_relaxed);
                fresh = false;     /* the pre-op may hand the operation out */
            } else {
                /* acq_rel: a work item queued by this pre-op may complete
                 * it before we return (PEND3) and must see this bit. */
                atomic_fetch_or_explicit(&cbd->state, ST_PREOP_ACTIVE, memory_order_acq_rel);
            }
            struct flt_cbd *outer = pb_preop_cbd;
            pb_preop_cbd = cbd;      /* its work items embed in it */
            r = pre(&cbd->pub, &inst->objs, &ctx);
            pb_preop_cbd = outer;
            if (m->checks)
                check_read_only(cbd, "pre-operation callback");
            if (r != FLT_PREOP_PENDING)
                end_preop_not_pended(cbd, preop_name(r));
        }
        switch (r) {
        case FLT_PREOP_SUCCESS_NO_CALLBACK:
            if (ctx)
                flt_verifier_report_model(m, "PRE2", "pre-operation callback", &cbd->pub,
                                          "SUCCESS_NO_CALLBACK with a completion context; ignored");
            if (m->checks)
                check_status_kept(cbd, "pre-operation callback");
            continue;
        case FLT_PREOP_SUCCESS_WITH_CALLBACK:
        case FLT_PREOP_SYNCHRONIZE:
            if (m->checks)
                check_status_kept(cbd, "pre-operation callback");
            if (!post) {
                flt_verifier_report_model(m, r == FLT_PREOP_SYNCHRONIZE ? "PRE5" : "PRE3",
                                          "pre-operation callback", &cbd->pub,
                                          "%s without a post-operation callback; treated as SUCCESS_NO_CALLBACK",
                                          preop_name(r));
                continue;
            }
            if (r == FLT_PREOP_SUCCESS_WITH_CALLBACK || !FLT_IS_IRP_OPERATION(&cbd->pub)) {
                arm_post(cbd, inst, level, ctx, false);
                continue;
            }
            arm_post(cbd, inst, level, ctx, true);
            {
                NTSTATUS st = flt_dispatch_pre(cbd, level + 1);
                if (st != STATUS_PENDING)
                    return st;     /* completed below without reaching this level (none today) */
                /* Open already when the levels below completed in this
                 * thread; else another thread's completion opens it. */
                flt_wait_serving(m, &cbd->frames[level].sync_gate);
                cbd->synchronize &= (uint8_t)~bit;   /* we are the waiting thread: run it here */
                return flt_complete_up(cbd, level);
            }
        case FLT_PREOP_COMPLETE:
            if (ctx)
                flt_verifier_report_model(m, "PRE1", "pre-operation callback", &cbd->pub,
                                          "COMPLETE with a completion context; ignored");
            check_completion_status(cbd, "PRE1", "pre-operation callback");
            return flt_complete_up(cbd, level - 1);
        case FLT_PREOP_DISALLOW_FASTIO:
            if (!FLT_IS_FASTIO_OPERATION(&cbd->pub) || major == IRP_MJ_SHUTDOWN ||
                major == IRP_MJ_VOLUME_MOUNT || major == IRP_MJ_VOLUME_DISMOUNT) {
                flt_verifier_report_model(m, "PRE6", "pre-operation callback", &cbd->pub,
                                          "DISALLOW_FASTIO for an operation that is not fast I/O "
                                          "(or for shutdown / volume mount / dismount); failed");
                return fail_at(cbd, level, STATUS_INVALID_PARAMETER);
            }
            cbd->pub.io_status.status = STATUS_FLT_DISALLOW_FAST_IO;
            cbd->pub.io_status.information = 0;
            return flt_complete_up(cbd, level - 1);
        case FLT_PREOP_DISALLOW_FSFILTER_IO:
            if (!FLT_IS_FS_FILTER_OPERATION(&cbd->pub) || major != IRP_MJ_QUERY_OPEN) {
                flt_verifier_report_model(m, "FSF5", "pre-operation callback", &cbd->pub,
                                          "DISALLOW_FSFILTER_IO outside QueryOpen; failed");
                return fail_at(cbd, level, STATUS_INVALID_PARAMETER);
            }
            cbd->pub.io_status.status = STATUS_FLT_DISALLOW_FSFILTER_IO;
            cbd->pub.io_status.information = 0;
            return flt_complete_up(cbd, level - 1);
        case FLT_PREOP_PENDING:
            if (!FLT_IS_IRP_OPERATION(&cbd->pub)) {
                flt_verifier_report_model(m, "PRE4", "pre-operation callback", &cbd->pub,
                                          "PENDING for an operation that is not an IRP; failed");
                end_preop_not_pended(cbd, "PENDING on a non-IRP operation");
                return fail_at(cbd, level, STATUS_INVALID_PARAMETER);
            }
            if (ctx)
                flt_verifier_report_model(m, "PRE4", "pre-operation callback", &cbd->pub,
                                          "PENDING with a completion context; ignored");
            /* No PRE8 check here: a completer may already own the data
             * (PEND3). resume() checks it against the pre-op's snapshot. */
            {
                struct flt_thread *t = flt_thread_ctx(m);
                PB_COUNT(t, pended);
            }
            cbd->pend_level = (int8_t)level;
            {
                uint64_t s = atomic_load_explicit(&cbd->state, memory_order_relaxed);
                uint64_t n;
                do {
                    n = (s | ST_PENDED) & ~ST_PREOP_ACTIVE;
                    /* acq_rel: publish pend_level to the completer; see its status. */
                } while (!atomic_compare_exchange_weak_explicit(&cbd->state, &s, n,
                                                                memory_order_acq_rel,
                                                                memory_order_relaxed));
                if (s & ST_RESUME_REQ)
                    return resume(cbd);    /* PEND3: the worker was faster */
            }
            return STATUS_PENDING;
        default:
            flt_verifier_report_model(m, "VER1", "pre-operation callback", &cbd->pub,
                                      "returned %d, not a FLT_PREOP status; failed", (int)r);
            return fail_at(cbd, level, STATUS_INVALID_PARAMETER);
        }
    }
    return fs_dispatch(cbd, depth);
}

NTSTATUS flt_dispatch_pre(struct flt_cbd *cbd, int level)
{
    return dispatch_pre(cbd, level, false);
}

static NTSTATUS resume_cleared(struct flt_cbd *cbd);

/* Whichever of "pre-op returned PENDING" and "flt_complete_pended_preop"
 * came second calls this, in its own thread. */
static NTSTATUS resume(struct flt_cbd *cbd)
{
    atomic_fetch_and_explicit(&cbd->state, ~(ST_PENDED | ST_RESUME_REQ | ST_RESUME_CLAIM),
                              memory_order_acq_rel);
    return resume_cleared(cbd);
}

/* The same once the pend bits are cleared (by resume, or by the one CAS of
 * flt_complete_pended_preop's fast path). */
static NTSTATUS resume_cleared(struct flt_cbd *cbd)
{
    struct flt_model *m = cbd_model(cbd);
    struct flt_thread *t = flt_thread_ctx(m);
    PB_COUNT(t, resumed);
    int level = cbd->pend_level;
    struct flt_instance *inst = cbd->volume->inst[level];
    switch (cbd->resume_status) {
    case FLT_PREOP_COMPLETE:
        check_completion_status(cbd, "PRE1", "flt_complete_pended_preop");
        return flt_complete_up(cbd, level - 1);
    case FLT_PREOP_SUCCESS_WITH_CALLBACK:
        if (m->checks)
            check_status_kept(cbd, "flt_complete_pended_preop");
        if (inst->filter->post[cbd->snap_major])
            arm_post(cbd, inst, level, cbd->resume_context, false);
        else
            flt_verifier_report_model(m, "PRE3", "flt_complete_pended_preop", &cbd->pub,
                                      "SUCCESS_WITH_CALLBACK without a post-operation callback");
        return flt_dispatch_pre(cbd, level + 1);
    default:   /* SUCCESS_NO_CALLBACK; PEND1 let nothing else through */
        if (m->checks)
            check_status_kept(cbd, "flt_complete_pended_preop");
        return flt_dispatch_pre(cbd, level + 1);
    }
}

NTSTATUS flt_complete_pended_preop(struct flt_callback_data *data,
                                   FLT_PREOP_CALLBACK_STATUS status, void *context)
{
    static const char routine[] = "flt_complete_pended_preop";
    if (!data) {
        flt_verifier_report("VER1", routine, NULL, "data is NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    if (status != FLT_PREOP_COMPLETE && status != FLT_PREOP_SUCCESS_NO_CALLBACK &&
        status != FLT_PREOP_SUCCESS_WITH_CALLBACK) {
        flt_verifier_report_model(m, "PEND1", routine, data,
                                  "resumed with %s; only COMPLETE, SUCCESS_NO_CALLBACK and "
                                  "SUCCESS_WITH_CALLBACK are allowed", preop_name(status));
        return STATUS_INVALID_PARAMETER;
    }
    if (context && status != FLT_PREOP_SUCCESS_WITH_CALLBACK) {
        flt_verifier_report_model(m, "PEND1", routine, data,
                                  "a completion context with %s", preop_name(status));
        return STATUS_INVALID_PARAMETER;
    }
    KIRQL max = status == FLT_PREOP_COMPLETE ? DISPATCH_LEVEL : APC_LEVEL;
    if (m->checks && pb_irql > max) {
        flt_verifier_report_model(m, "PEND2", routine, data,
                                  "called at IRQL %u with %s; at most %u allowed", pb_irql,
                                  preop_name(status), max);
        return STATUS_INVALID_PARAMETER;
    }
    if (pb_in_canceled_callback == cbd) {
        /* CAN9: the canceled callback completes the operation as cancelled. */
        if (status != FLT_PREOP_COMPLETE) {
            flt_verifier_report_model(m, "CAN9", routine, data,
                                      "a canceled callback resumed the operation with %s; "
                                      "it must complete it (FLT_PREOP_COMPLETE)", preop_name(status));
            return STATUS_INVALID_PARAMETER;
        }
        if (data->io_status.status != STATUS_CANCELLED || data->io_status.information != 0) {
            flt_verifier_report_model(m, "CAN9", routine, data,
                                      "a canceled callback completed with status %#x, information %llu; "
                                      "completed as STATUS_CANCELLED, 0",
                                      (unsigned)data->io_status.status,
                                      (unsigned long long)data->io_status.information);
            data->io_status.status = STATUS_CANCELLED;
            data->io_status.information = 0;
        }
    }
    if (PB_UNLIKELY(m->ho_ops->is_armed(m->ho, &cbd->cell))) {
        /* PEND6: whoever completes must own the operation, i.e. have taken
         * the routine (clear, or the canceller). Refused: nothing changes,
         * and the operation stays cancellable. */
        flt_verifier_report_model(m, "PEND6", routine, data,
                                  "a cancel routine is still set; clear it first (refused)");
        PB_COUNT(flt_thread_ctx(m), routine_left_set);
        return STATUS_INVALID_PARAMETER;
    }
    /* Claim the right to resume: only one completer per pend (PEND4).
     * When the pre-op has already returned PENDING (PENDED set, which
     * clears PREOP_ACTIVE), nobody else reads the status we are about to
     * store, so one CAS both claims and takes the pend bits off, and we
     * resume at once: the claim, RESUME_REQ and resume's own clearing
     * would be three locked RMWs. While the pre-op still runs, the
     * two-step hand-over below (claim, store, RESUME_REQ) is needed. */
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    uint64_t n;
    do {
        if (!(s & ST_LIVE) || (s & ST_COMPLETED) || (s & ST_RESUME_CLAIM) ||
            !(s & (ST_PENDED | ST_PREOP_ACTIVE))) {
            flt_verifier_report_model(m, "PEND4", routine, data,
                                      (s & (ST_COMPLETED | ST_RESUME_CLAIM))
                                          ? "the operation was already completed; refused"
                                          : "the operation is not pended; refused");
            PB_COUNT(flt_thread_ctx(m), double_complete_refused);
            return STATUS_INVALID_PARAMETER;
        }
        n = (s & ST_PENDED) ? s & ~(ST_PENDED | ST_RESUME_REQ | ST_RESUME_CLAIM)
                            : s | ST_RESUME_CLAIM;
        /* acq_rel: we see what the pre-op's thread did before pending
         * (pend_level); a later completer that is refused sees our claim. */
    } while (!atomic_compare_exchange_weak_explicit(&cbd->state, &s, n,
                                                    memory_order_acq_rel, memory_order_acquire));
    cbd->resume_status = status;
    cbd->resume_context = context;
    if (pb_running_cbd == cbd && pb_running_t_dequeue)
        cbd->pub.times.t_dequeue = pb_running_t_dequeue;   /* we own it now */
    if (s & ST_PENDED) {
        resume_cleared(cbd);
        return STATUS_SUCCESS;
    }
    /* acq_rel: publish the status; see pend_level if the pre-op has pended. */
    s = atomic_fetch_or_explicit(&cbd->state, ST_RESUME_REQ, memory_order_acq_rel);
    if (s & ST_PENDED)
        resume(cbd);
    return STATUS_SUCCESS;
}

/* ---- issuing ------------------------------------------------------------------- */

static bool one_type_bit(uint32_t type)
{
    return type == FLTFL_CALLBACK_DATA_IRP_OPERATION ||
           type == FLTFL_CALLBACK_DATA_FAST_IO_OPERATION ||
           type == FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION;
}

bool flt_is_paging_io(const struct flt_callback_data *data)
{
    return data && FLT_IS_IRP_OPERATION(data) && (data->iopb->irp_flags & IRP_PAGING_IO);
}

NTSTATUS flt_issue(struct flt_volume *vol, const struct flt_op_desc *desc, flt_op_handle *handle)
{
    if (handle)
        *handle = (flt_op_handle){ 0 };
    if (!vol || !desc) {
        flt_verifier_report("VER1", "flt_issue", NULL, "volume or description is NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_model *m = vol->model;
    struct flt_thread *t = flt_thread_ctx(m);
    PB_COUNT(t, issued);
    if (!one_type_bit(desc->operation_type)) {
        flt_verifier_report_model(m, "CD1", "flt_issue", NULL,
                                  "operation type %#x: exactly one of IRP, FAST_IO, FS_FILTER",
                                  (unsigned)desc->operation_type);
        PB_COUNT(t, failed);
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_cbd *cbd = cbd_alloc(vol, t, handle ? 2 : 1);
    if (!cbd) {
        PB_COUNT(t, failed);
        return STATUS_INSUFFICIENT_RESOURCES;    /* CD3: nothing in flight touched */
    }
    cbd_init_op(cbd, vol, desc->operation_type, desc->major_function);
    cbd->allocated_by_filter = false;
    cbd->iopb.irp_flags = desc->irp_flags;
    cbd->iopb.major_function = desc->major_function;
    cbd->iopb.minor_function = desc->minor_function;
    cbd->iopb.target_instance = NULL;
    cbd->iopb.parameters = desc->parameters;
    cbd->on_complete = desc->on_complete;
    cbd->on_complete_ctx = desc->context;
    cbd->pub.op_id = ((uint64_t)t->index << 40) | ++t->op_seq;
    cbd->pub.times.t_issue = desc->untimed ? 0 : desc->t_issue ? desc->t_issue : m->now();
    if (handle)
        *handle = (flt_op_handle){ &cbd->pub, ST_GEN(atomic_load_explicit(&cbd->state, memory_order_relaxed)), true };
    /* A release fence orders the plain writes above before every later
     * atomic store of this thread, relaxed ones included: the state word's
     * updates in flt_dispatch_pre and the publication of the handle to a
     * canceller (the requester's cancel ring). Another thread that
     * acquires any of those sees the operation filled in. The fence alone
     * orders nothing for a reader: it takes a later store. */
    atomic_thread_fence(memory_order_release);
    return dispatch_pre(cbd, 0, true);
}

struct issue_wait {
    _Atomic uint32_t done;
    NTSTATUS status;
};

static void issue_wait_done(struct flt_callback_data *data, void *ctx)
{
    struct issue_wait *w = ctx;
    w->status = data->io_status.status;
    pb_gate_open(&w->done);
}

NTSTATUS flt_issue_and_wait(struct flt_volume *vol, const struct flt_op_desc *desc)
{
    struct issue_wait w = { 0 };
    struct flt_op_desc d = *desc;
    d.on_complete = issue_wait_done;
    d.context = &w;
    NTSTATUS st = flt_issue(vol, &d, NULL);
    if (st != STATUS_PENDING)
        return st;
    flt_wait_serving(vol->model, &w.done);
    return w.status;
}
