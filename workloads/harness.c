/* The one workload harness (harness.h): the filters of a scenario's
 * stack, the traffic that drives them and the recorders, for the run
 * engine and the stress harness alike.
 *
 * Threads and what they own:
 * - requesters: bound to their planned CPU (when binding); issue operations
 *   into their own slots (closed loop: `inflight` slots; open loop: Poisson
 *   arrivals at the intended times, latency measured from the intended
 *   time so a stall cannot hide, with bursts when asked); decide each
 *   operation's plan from their seeded generator; hand cancel targets
 *   (pinned handles) to their canceller through a single-producer ring.
 * - workers: the model's, bound through on_worker_start; run work items.
 * - cancellers: fire each cancel at its time.
 * Every thread that can complete an operation records its latency into
 * its own recorder (histograms, counts): no shared counter on the hot
 * path. Recorders are merged at the end. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flt_kernel.h"
#include "harness.h"
#include "pb_run.h"
#include "cancel_ring.h"
#include "pb_prefetch.h"

#define OPEN_LOOP_SLOTS 1024u

/* The lines of docs/cache-line-budget.md that the harness owns. */
_Static_assert(sizeof(struct pb_op) % 64 == 0 && _Alignof(struct pb_op) == 64,
               "an op slot is whole lines: neighbours never share one");
_Static_assert(offsetof(struct hrequester, route_next) / 64 != offsetof(struct hrequester, h) / 64 &&
                   offsetof(struct hrequester, route_next) / 64 != offsetof(struct hrequester, tp) / 64,
               "what the requester writes per issue is off the line completers read");

static _Thread_local struct recorder *tls_rec;
static _Thread_local struct pb_rng tls_rng;
static _Thread_local bool tls_rng_ready;
static _Thread_local int tls_worker = -1;     /* the model's worker index, -1 elsewhere */

/* ---- recording --------------------------------------------------------------- */

static int recorder_init(struct recorder *r, unsigned nslots)
{
    memset(r, 0, sizeof *r);
    pb_hist_init(&r->total);
    pb_hist_init(&r->queue_wait);
    pb_hist_init(&r->service);
    r->pairs = calloc(nslots ? (size_t)nslots * nslots : 1, sizeof *r->pairs);
    if (!r->pairs)
        return -1;
    for (unsigned i = 0; i < nslots * nslots; i++)
        pb_hist_init(&r->pairs[i]);
    return 0;
}

static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static int node_of_worker(struct harness *h, unsigned w)
{
    const struct pb_thread_plan *tp = pb_plan_thread(&h->plan, PB_ROLE_WORKER, w);
    return tp ? tp->numa_node : -1;
}

/* The live p99 of the progress line is published this often (a
 * percentile scans the bins: ~1 us, so not on every completion). */
#define PUBLISH_EVERY 4096u

/* The measurement of one completed operation, in its completing thread:
 * the total (always), the queue-wait / service split when the worker
 * stamped t_dequeue (every split-every-th item), the node pair when the
 * run has several nodes (with one, the pair's histogram is the total's:
 * harness_merge takes it from there). The instrumentation cost the run
 * reports is this function's, measured (harness_record_cost_ns). */
static inline void recorder_add(struct harness *h, struct recorder *r, int pair,
                                uint64_t t_issue, uint64_t t_dequeue, uint64_t t_complete)
{
    uint64_t total = t_complete > t_issue ? pb_ticks_to_ns(&h->scale, t_complete - t_issue) : 0;
    pb_hist_record(&r->total, total);
    if (t_dequeue && t_dequeue >= t_issue && t_complete >= t_dequeue) {
        pb_hist_record(&r->queue_wait, pb_ticks_to_ns(&h->scale, t_dequeue - t_issue));
        pb_hist_record(&r->service, pb_ticks_to_ns(&h->scale, t_complete - t_dequeue));
    }
    if (pair >= 0 && r->pairs)
        pb_hist_record(&r->pairs[pair], total);
    if (++r->since_publish >= PUBLISH_EVERY) {
        r->since_publish = 0;
        atomic_store_explicit(&r->p99_ns, pb_hist_percentile(&r->total, 99.0),
                              memory_order_relaxed);
    }
}

/* The completing thread records the operation, then frees the op. */
static void record_completion(struct harness *h, struct pb_op *op, NTSTATUS status,
                              uint64_t t_issue, uint64_t t_dequeue, uint64_t t_complete)
{
    if (op->measured) {
        bool fallback = tls_rec == NULL;
        struct recorder *r = fallback ? &h->fallback_rec : tls_rec;
        if (fallback)
            pthread_mutex_lock(&h->fallback_lock);
        int pair = -1;
        if (h->pairs_per_op) {
            int rn = op->rq->tp->numa_node, wn = node_of_worker(h, op->worker);
            if (rn >= 0 && wn >= 0)
                pair = h->slot_of_node[rn] * (int)h->nslots + h->slot_of_node[wn];
        }
        if (t_issue)             /* 0: issued untimed (latency-every) */
            recorder_add(h, r, pair, t_issue, t_dequeue, t_complete);
        if (status == STATUS_CANCELLED) {
            bump(&r->cancelled);
        } else if (NT_ERROR(status)) {
            bump(&r->failed);
            atomic_store_explicit(&r->failed_status, (uint32_t)status, memory_order_relaxed);
        } else
            bump(&r->completed);
        if (fallback)
            pthread_mutex_unlock(&h->fallback_lock);
    }
    /* release: the requester that sees the op free may reuse it. */
    atomic_store_explicit(&op->busy, 0, memory_order_release);
}

static void on_complete(struct flt_callback_data *data, void *ctx)
{
    struct pb_op *op = ctx;
    struct harness *h = op->rq->h;
    if (h->o.hooks.complete && !h->o.hooks.complete(h->o.hooks.arg, op, data))
        return;
    record_completion(op->rq->h, op, data->io_status.status, data->times.t_issue,
                      data->times.t_dequeue, data->times.t_complete);
}

/* Each thread's generator (service times) comes from the scenario's seed
 * and the thread's role and index, so one seed draws the same times. */
#define STREAM_REQUESTER 0x100000u
#define STREAM_CANCELLER 0x200000u
#define STREAM_WORKER    0x300000u

static void seed_thread_rng(struct harness *h, uint64_t stream)
{
    pb_rng_seed(&tls_rng, h->sc->seed ^ 0xabcdefull, stream);
    tls_rng_ready = true;
}

static struct pb_rng *thread_rng(struct harness *h)
{
    if (!tls_rng_ready)
        seed_thread_rng(h, 0);      /* a thread of the model's own (a drain) */
    return &tls_rng;
}

static void service_spin(struct harness *h)
{
    const struct pb_dist *d = &h->sc->service;
    if (d->kind == PB_DIST_FIXED && d->a <= 0)
        return;
    pb_spin_ns((uint64_t)pb_dist_draw(d, thread_rng(h)));
}

static struct pb_op *op_of(const struct flt_callback_data *data)
{
    return (struct pb_op *)(uintptr_t)data->iopb->parameters.others[2];
}

/* ---- filters ------------------------------------------------------------------- */

static struct level *level_of(const struct flt_related_objects *objs)
{
    return flt_filter_context(objs->filter);
}

static void complete_cancelled(struct flt_callback_data *data)
{
    data->io_status.status = STATUS_CANCELLED;     /* CAN9 */
    data->io_status.information = 0;
    flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
}

static void pend_work(struct flt_deferred_io_workitem *item, struct flt_callback_data *data,
                      void *ctx)
{
    struct level *lv = ctx;
    struct harness *h = lv->h;
    flt_free_deferred_io_work_item(item);
    struct pb_op *op = op_of(data);
    /* Completion writes op->busy: its line (the requester's) starts moving
     * now, while the model works, not when on_complete needs it. */
    if (op)
        pb_prefetch_excl(op);
    if (h->o.hooks.work && op && tls_worker >= 0)
        h->o.hooks.work(h->o.hooks.arg, op, data, (unsigned)tls_worker);
    service_spin(h);
    uint8_t mj = data->iopb->major_function;
    if (mj == IRP_MJ_CLEANUP || mj == IRP_MJ_CLOSE) {      /* posted without a routine */
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
        return;
    }
    if (flt_clear_cancel_completion(data) != STATUS_SUCCESS)   /* CAN3: the cancel owns it */
        return;
    /* Only the stress harness varies the resume plan: the run engine's
     * worker does not read the op (the requester's line) before it
     * completes. */
    unsigned resume = h->o.vary_resume && op ? op->resume : RESUME_NO_CALLBACK;
    if (resume == RESUME_COMPLETE) {
        data->io_status.status = STATUS_SUCCESS;
        data->io_status.information = 7;
        flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
    } else if (resume == RESUME_WITH_CALLBACK) {
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_WITH_CALLBACK, data);
    } else {
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    }
}

static void violation(struct harness *h, const char *what)
{
    if (h->o.hooks.violation)
        h->o.hooks.violation(h->o.hooks.arg, what);
}

/* A pended operation resumed WITH_CALLBACK comes back with its own data as
 * the completion context (only when the resume plans vary). */
static FLT_POSTOP_CALLBACK_STATUS pend_post(struct flt_callback_data *data,
                                            const struct flt_related_objects *objs, void *ctx,
                                            uint32_t flags)
{
    if (ctx != data && !(flags & FLTFL_POST_OPERATION_DRAINING))
        violation(level_of(objs)->h, "post-op got the wrong completion context");
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static bool pendable(const struct flt_callback_data *data)
{
    return FLT_IS_IRP_OPERATION(data) && !flt_is_paging_io(data);
}

static FLT_PREOP_CALLBACK_STATUS pend_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    struct level *lv = level_of(objs);
    struct pb_op *op = op_of(data);
    if (!pendable(data) || (op && (op->flags & OP_NOPEND) &&
                            !(data->flags & FLTFL_CALLBACK_DATA_GENERATED_IO)))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    if (!item)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    /* Cleanup and close must succeed (PRE1): they are posted without a
     * cancel routine, so a cancel cannot fail them. */
    uint8_t mj = data->iopb->major_function;
    bool cancellable = mj != IRP_MJ_CLEANUP && mj != IRP_MJ_CLOSE;
    if (!cancellable) {
        if (flt_queue_deferred_io_work_item(item, data, DelayedWorkQueue, pend_work, lv) !=
            STATUS_SUCCESS) {
            flt_free_deferred_io_work_item(item);
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        }
        return FLT_PREOP_PENDING;
    }
    if (flt_set_cancel_completion(data, complete_cancelled) == STATUS_CANCELLED) {
        flt_free_deferred_io_work_item(item);     /* CAN8: cancelled before set */
        data->io_status.status = STATUS_CANCELLED;
        data->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    }
    if (flt_queue_deferred_io_work_item(item, data, DelayedWorkQueue, pend_work, lv) !=
        STATUS_SUCCESS) {
        flt_free_deferred_io_work_item(item);
        if (flt_clear_cancel_completion(data) == STATUS_SUCCESS)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        /* a cancel took the routine: it completes (PEND3) */
    }
    return FLT_PREOP_PENDING;
}

static FLT_PREOP_CALLBACK_STATUS pass_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_PREOP_CALLBACK_STATUS callback_pre(struct flt_callback_data *data,
                                              const struct flt_related_objects *objs, void **ctx)
{
    *ctx = flt_filter_context(objs->filter);    /* checked in its post-op */
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS callback_post(struct flt_callback_data *data,
                                                const struct flt_related_objects *objs,
                                                void *ctx, uint32_t flags)
{
    struct level *lv = level_of(objs);
    if (ctx != lv)
        violation(lv->h, "a callback filter's post-op got the wrong completion context");
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_PREOP_CALLBACK_STATUS sync_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    return FLT_PREOP_SYNCHRONIZE;
}

static FLT_POSTOP_CALLBACK_STATUS finished_post(struct flt_callback_data *data,
                                                const struct flt_related_objects *objs,
                                                void *ctx, uint32_t flags)
{
    return FLT_POSTOP_FINISHED_PROCESSING;
}

static FLT_PREOP_CALLBACK_STATUS mix_pre(struct flt_callback_data *data,
                                         const struct flt_related_objects *objs, void **ctx)
{
    struct level *lv = level_of(objs);
    struct pb_op *op = op_of(data);
    unsigned choice = op ? op->mix[lv->index] : 0;
    switch (choice) {
    case 1: return FLT_PREOP_SUCCESS_WITH_CALLBACK;
    case 2: return FLT_PREOP_SYNCHRONIZE;
    case 3:
        data->io_status.status = STATUS_SUCCESS;
        data->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    default: return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
}

/* -- the cancel-safe queue filter: a locked list of ops -- */

static struct level *cbdq_level(struct flt_cbdq *q)
{
    return (struct level *)((char *)q - offsetof(struct level, cbdq));
}

static NTSTATUS cq_insert(struct flt_cbdq *q, struct flt_callback_data *data, void *ictx)
{
    struct level *lv = cbdq_level(q);
    struct pb_op *s = op_of(data);
    s->cbdq_data = data;
    s->cbdq_next = NULL;
    s->cbdq_prev = lv->cbdq_tail;
    if (lv->cbdq_tail)
        lv->cbdq_tail->cbdq_next = s;
    else
        lv->cbdq_head = s;
    lv->cbdq_tail = s;
    return STATUS_SUCCESS;
}

static void cq_remove(struct flt_cbdq *q, struct flt_callback_data *data)
{
    struct level *lv = cbdq_level(q);
    struct pb_op *s = op_of(data);
    if (s->cbdq_prev)
        s->cbdq_prev->cbdq_next = s->cbdq_next;
    else
        lv->cbdq_head = s->cbdq_next;
    if (s->cbdq_next)
        s->cbdq_next->cbdq_prev = s->cbdq_prev;
    else
        lv->cbdq_tail = s->cbdq_prev;
    s->cbdq_prev = s->cbdq_next = NULL;
}

static struct flt_callback_data *cq_peek(struct flt_cbdq *q, struct flt_callback_data *data,
                                         void *pctx)
{
    struct level *lv = cbdq_level(q);
    struct pb_op *s = data ? op_of(data)->cbdq_next : lv->cbdq_head;
    return s ? s->cbdq_data : NULL;
}

static void cq_acquire(struct flt_cbdq *q, KIRQL *irql)
{
    pthread_mutex_lock(&cbdq_level(q)->cbdq_lock);
    *irql = ke_get_current_irql();
}

static void cq_release(struct flt_cbdq *q, KIRQL irql)
{
    pthread_mutex_unlock(&cbdq_level(q)->cbdq_lock);
}

static void cq_complete_canceled(struct flt_cbdq *q, struct flt_callback_data *data)
{
    data->io_status.status = STATUS_CANCELLED;
    data->io_status.information = 0;
    flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
}

static void cbdq_work(struct flt_deferred_io_workitem *item, struct flt_callback_data *data,
                      void *ctx)
{
    struct level *lv = ctx;
    flt_free_deferred_io_work_item(item);
    service_spin(lv->h);
    struct flt_callback_data *d = flt_cbdq_remove_next_io(&lv->cbdq, NULL);
    if (d)
        flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static FLT_PREOP_CALLBACK_STATUS cbdq_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    struct level *lv = level_of(objs);
    struct pb_op *op = op_of(data);
    if (!pendable(data) || !op || (op->flags & OP_NOPEND))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    if (!item)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (!NT_SUCCESS(flt_cbdq_insert_io(&lv->cbdq, data, &op->cbdq_ctx, NULL))) {
        flt_free_deferred_io_work_item(item);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (flt_queue_deferred_io_work_item(item, data, DelayedWorkQueue, cbdq_work, lv) !=
        STATUS_SUCCESS) {
        /* The queue is full (a bounded one): no work item for this entry.
         * A work item takes the list's next entry, not its own op's
         * (cbdq_work), so each entry needs one work item, whichever. Taking
         * ours back out was not enough: between our insert and the take,
         * the work item of an op inserted after ours may have taken ours,
         * leaving that op in the list with no work item left to take it,
         * pended for ever (with a SYNCHRONIZE above, its requester waited
         * for ever). Do here what the missing work item would have done:
         * take the next entry (ours or an earlier one) and resume it. An
         * empty list means a cancel took ours (and completes it). Ours,
         * resumed before this returns PENDING, is resumed once after it
         * (PEND3). */
        flt_free_deferred_io_work_item(item);
        struct flt_callback_data *d = flt_cbdq_remove_next_io(&lv->cbdq, NULL);
        if (d)
            flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    }
    return FLT_PREOP_PENDING;
}

/* -- the async filter: its own I/O below it completes the original op -- */

static void async_release(struct pb_op *op, struct flt_callback_data *g)
{
    if (atomic_fetch_sub_explicit(&op->async_refs, 1, memory_order_acq_rel) == 1)
        flt_free_callback_data(g);
}

static void async_done(struct flt_callback_data *g, void *ctx)
{
    struct pb_op *op = ctx;
    struct flt_callback_data *orig = op->async_orig;
    struct flt_io_status_block iosb = g->io_status;
    /* Drop our reference before completing the original: once it is
     * complete, its op may be reused by the next operation. */
    async_release(op, g);
    orig->io_status = iosb;
    if (orig->io_status.status == STATUS_PENDING)
        orig->io_status.status = STATUS_UNSUCCESSFUL;
    flt_complete_pended_preop(orig, FLT_PREOP_COMPLETE, NULL);
}

static FLT_PREOP_CALLBACK_STATUS async_pre(struct flt_callback_data *data,
                                           const struct flt_related_objects *objs, void **ctx)
{
    struct pb_op *op = op_of(data);
    if (!pendable(data) || !op || data->iopb->major_function != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct flt_callback_data *g;
    if (flt_allocate_callback_data(objs->instance, IRP_MJ_READ, &g) != STATUS_SUCCESS)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    g->iopb->parameters.read.length = data->iopb->parameters.read.length;
    g->iopb->parameters.others[2] = (uint64_t)(uintptr_t)op;
    op->async_orig = data;
    atomic_store_explicit(&op->async_refs, 2, memory_order_relaxed);
    NTSTATUS st = flt_perform_asynchronous_io(g, async_done, op);
    if (st == STATUS_PENDING && (op->flags & OP_CANCEL_SELF))
        flt_cancel_io(g);                          /* CAN5: the initiator cancels */
    async_release(op, g);
    if (!NT_SUCCESS(st) && st != STATUS_FLT_IO_COMPLETE && st != STATUS_PENDING) {
        /* Refused (the callback never ran): drop its reference too. */
        async_release(op, g);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    return FLT_PREOP_PENDING;                      /* async_done completes it */
}

/* -- FS filter notification callbacks (counting) -- */

static NTSTATUS fsf_pre(struct fs_filter_callback_data *d, void **ctx)
{
    *ctx = d;
    return STATUS_SUCCESS;
}

static void fsf_post(struct fs_filter_callback_data *d, NTSTATUS st, void *ctx)
{
}

/* ---- requesters ------------------------------------------------------------------ */

enum op_kind { OP_READ, OP_WRITE, OP_CREATE, OP_CLEANUP, OP_CLOSE, OP_QUERY, OP_FASTIO,
               OP_PAGING, OP_FSFILTER, OP_KINDS };

static enum op_kind draw_op(struct harness *h, struct pb_rng *rng)
{
    const struct pb_op_mix *m = &h->sc->mix;
    unsigned w[OP_KINDS] = { m->read, m->write, m->create, m->cleanup, m->close, m->query,
                             m->fastio, m->paging, m->fsfilter };
    uint64_t x = pb_rng_below(rng, h->mix_total);
    for (unsigned k = 0; k < OP_KINDS; k++) {
        if (x < w[k])
            return (enum op_kind)k;
        x -= w[k];
    }
    return OP_READ;
}

static unsigned route(struct hrequester *rq)
{
    unsigned w = rq->route_targets[rq->route_next % rq->nroute];
    rq->route_next++;
    return w;
}

static bool measuring(struct harness *h)
{
    return atomic_load_explicit(&h->measuring, memory_order_acquire);
}

/* One FS filter acquire/release pair, synchronous, timed as one op. */
static void fsfilter_op(struct hrequester *rq, uint64_t t_intended)
{
    struct harness *h = rq->h;
    bool m = measuring(h);
    if (!t_intended)
        t_intended = pb_tsc_now();      /* closed loop: from now */
    NTSTATUS st = fsrtl_notify(h->vol, FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther);
    NTSTATUS st2 = fsrtl_notify(h->vol, FS_FILTER_RELEASE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther);
    uint64_t t_done = pb_tsc_now();
    if (!m)
        return;
    rq->issued_in_window++;
    struct pb_op tmp = { .rq = rq, .measured = true, .worker = rq->route_targets[0] };
    atomic_store_explicit(&tmp.busy, 1, memory_order_relaxed);
    record_completion(h, &tmp, NT_SUCCESS(st) ? st2 : st, t_intended, 0, t_done);
}

/* Whether the next operation's latency is measured (latency-every N): a
 * countdown to the next timed one, refilled with a random gap of mean N
 * (1 + a draw below 2N - 1). The draw hashes the issue count instead of
 * taking from the requester's generator, so the workload's own decisions
 * are the same whatever N is; random gaps cannot fall in step with a
 * period of the system (a magazine's batch, the split's countdown). */
static bool timed_next(struct hrequester *rq)
{
    unsigned every = rq->h->latency_every;
    if (every <= 1)
        return true;
    if (rq->until_timed > 1) {
        rq->until_timed--;
        return false;
    }
    uint64_t x = rq->h->sc->seed ^ (rq->seq * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)rq->index << 48);
    rq->until_timed = 1u + (unsigned)(pb_splitmix64(&x) % (2ull * every - 1));
    return true;
}

static void issue(struct hrequester *rq, struct pb_op *op, struct pb_rng *rng, uint64_t t_intended)
{
    struct harness *h = rq->h;
    const struct pb_scenario *sc = h->sc;
    enum op_kind k = draw_op(h, rng);
    if (k == OP_FSFILTER) {
        fsfilter_op(rq, t_intended);
        return;
    }
    static const uint8_t majors[OP_KINDS] = {
        [OP_READ] = IRP_MJ_READ, [OP_WRITE] = IRP_MJ_WRITE, [OP_CREATE] = IRP_MJ_CREATE,
        [OP_CLEANUP] = IRP_MJ_CLEANUP, [OP_CLOSE] = IRP_MJ_CLOSE,
        [OP_QUERY] = IRP_MJ_QUERY_INFORMATION, [OP_FASTIO] = IRP_MJ_READ,
        [OP_PAGING] = IRP_MJ_READ,
    };
    op->flags = 0;
    if (pb_rng_unit(rng) >= sc->pend_fraction)
        op->flags |= OP_NOPEND;
    for (unsigned l = 0; l < sc->nfilters; l++) {
        /* MIX: pass 40%, callback 30%, synchronize 10%, complete 20%. */
        uint64_t x = pb_rng_below(rng, 10);
        op->mix[l] = x < 4 ? 0 : x < 7 ? 1 : x < 8 ? 2 : 3;
    }
    bool target = pb_rng_unit(rng) < sc->cancel_fraction;
    if (target && h->has_async) {
        op->flags |= OP_CANCEL_SELF;           /* the async filter cancels its own I/O */
        target = false;
    }
    /* Drawn only for an operation that will be cancelled: an exponential
     * draw is a log(), ~8 ns the requester spent on every operation. */
    double delay_ns = 0;
    if (target && sc->cancel_when == PB_CANCEL_DELAY)
        delay_ns = pb_dist_draw(&sc->cancel_delay, rng);
    if (h->o.vary_resume)
        op->resume = (uint8_t)pb_rng_below(rng, 3);
    op->worker = route(rq);
    op->measured = measuring(h);
    bool timed = timed_next(rq);
    rq->seq++;
    struct flt_op_desc d = {
        .operation_type = k == OP_FASTIO ? FLTFL_CALLBACK_DATA_FAST_IO_OPERATION
                                         : FLTFL_CALLBACK_DATA_IRP_OPERATION,
        .major_function = majors[k],
        .irp_flags = k == OP_PAGING ? IRP_PAGING_IO | IRP_NOCACHE : 0,
        .t_issue = t_intended,
        .on_complete = on_complete,
        .context = op,
        .untimed = !timed,
    };
    d.parameters.read.byte_offset = 0;
    d.parameters.read.length = 4096;
    d.parameters.others[2] = (uint64_t)(uintptr_t)op;
    atomic_store_explicit(&op->busy, 1, memory_order_relaxed);
    flt_thread_route_to(op->worker);
    if (op->measured)
        rq->issued_in_window++;
    if (h->o.hooks.issuing)
        h->o.hooks.issuing(h->o.hooks.arg, op);
    bool hand = target && rq->ring;
    flt_op_handle hd = { 0 };
    NTSTATUS st = flt_issue(h->vol, &d, hand ? &hd : NULL);
    if (st == STATUS_INSUFFICIENT_RESOURCES && atomic_load_explicit(&op->busy, memory_order_acquire) &&
        (!hand || !hd.data)) {
        /* Refused by the pool (CD3): never in the stack; the op is free. */
        rq->refused++;
        if (op->measured) {
            rq->refused_in_window++;
            bump(&rq->rec.failed);
            atomic_store_explicit(&rq->rec.failed_status, (uint32_t)st, memory_order_relaxed);
        }
        atomic_store_explicit(&op->busy, 0, memory_order_relaxed);
        return;
    }
    if (hand && sc->cancel_when == PB_CANCEL_IMMEDIATE) {
        /* Right after issue: the issuer's own call (as CancelIoEx). */
        io_cancel_irp_ex(hd);
        flt_release_handle(hd);
    } else if (hand) {
        /* A delay counts from the intended issue time in the open loop (as
         * the latency does) and from the issue in the closed loop, which
         * has no intended time (counting from 0 fired every cancel at once). */
        uint64_t fire = t_intended ? t_intended : pb_tsc_now();
        if (sc->cancel_when == PB_CANCEL_DELAY)
            fire += pb_ns_to_tsc((uint64_t)delay_ns);
        else if (sc->cancel_when == PB_CANCEL_RACE)
            fire = pb_tsc_now() + h->race_delay_ticks / 2 +
                   pb_rng_below(rng, h->race_delay_ticks + 1);
        if (!pb_cancel_ring_push(rq->ring, (struct pb_cancel_order){ hd, fire }))
            flt_release_handle(hd);
    }
}

static bool stopping(struct harness *h);

/* With no canceller threads, a requester fires its own due cancels (a
 * closed-loop requester waiting for its operations is idle anyway). */
static void fire_own_cancels(struct hrequester *rq)
{
    if (!rq->ring || rq->h->ncancellers)
        return;
    struct pb_cancel_order o;
    uint64_t now = pb_tsc_now();
    while (pb_cancel_ring_peek(rq->ring, &o) && (o.fire_at <= now || stopping(rq->h))) {
        pb_cancel_ring_drop(rq->ring);
        io_cancel_irp_ex(o.handle);
        flt_release_handle(o.handle);
    }
}

static struct pb_op *free_slot(struct hrequester *rq, unsigned *cursor)
{
    for (unsigned n = 0; n < rq->nops; n++) {
        struct pb_op *s = &rq->ops[*cursor];
        *cursor = (*cursor + 1) % rq->nops;
        if (!atomic_load_explicit(&s->busy, memory_order_acquire))
            return s;
    }
    return NULL;
}

static void nap_us(unsigned us)
{
    if (us > 1000)
        us = 1000;
    struct timespec ts = { 0, (long)us * 1000L };
    nanosleep(&ts, NULL);
}

static bool stopping(struct harness *h)
{
    return atomic_load_explicit(&h->stop, memory_order_acquire);
}

/* A pinned thread should end where it was bound; one that does not says
 * the binding did not hold (a cpuset changed, a CPU went offline) and its
 * figures mixed CPUs. Checked once at the end: never on the hot path. */
static void bind_self(struct harness *h, const struct pb_thread_plan *tp)
{
    if (h->o.bind)
        pb_plan_bind_self(tp);
    /* NUMA-aware locks hand over within the node the thread runs on: its
     * planned CPU's (where it is pinned; the plan's node when unbound). */
    pb_thread_node = tp && tp->numa_node > 0 ? (unsigned)tp->numa_node : 0;
}

static void check_still_pinned(struct harness *h, const struct pb_thread_plan *tp)
{
    if (h->o.bind && sched_getcpu() != (int)tp->os_cpu)
        atomic_fetch_add_explicit(&h->migrations, 1, memory_order_relaxed);
}

/* The run's threads wait here, bound and counted ready, until every one
 * of them exists: a thread that starts working while the others are being
 * created takes the CPU from their creation (1500 threads on 2 CPUs took
 * seconds to start, where they take milliseconds when they wait), and
 * none gets a head start on the others. */
static void pass_start_gate(struct harness *h)
{
    pthread_mutex_lock(&h->start_gate);
    pthread_mutex_unlock(&h->start_gate);
}

/* A canceller with nothing left to fire once the window is over sleeps
 * until the last requester has stopped (and can issue no more cancels):
 * napping instead, a thousand cancellers on 2 CPUs woke a million times a
 * second and kept the requesters from ever running to their end. */
static void wait_requesters_done(struct harness *h)
{
    pthread_mutex_lock(&h->done_lock);
    while (!atomic_load_explicit(&h->requesters_done, memory_order_acquire))
        pthread_cond_wait(&h->done_cond, &h->done_lock);
    pthread_mutex_unlock(&h->done_lock);
}

static void *requester_main(void *p)
{
    struct hrequester *rq = p;
    struct harness *h = rq->h;
    const struct pb_scenario *sc = h->sc;
    bind_self(h, rq->tp);
    flt_thread_attach(h->model, rq->tp->pu);
    tls_rec = &rq->rec;
    seed_thread_rng(h, STREAM_REQUESTER + rq->index);
    atomic_fetch_add_explicit(&h->ready, 1, memory_order_release);
    pass_start_gate(h);
    struct pb_rng rng;
    pb_rng_seed(&rng, sc->seed, rq->index + 1);     /* same seed, same decisions */
    unsigned cursor = 0;
    unsigned idle = 0;
    if (sc->rate <= 0) {
        while (!stopping(h)) {
            fire_own_cancels(rq);
            struct pb_op *s = free_slot(rq, &cursor);
            if (!s) {
                /* Yield only when no cancel of ours is pending soon. */
                if (++idle > 64 && !(rq->ring && !h->ncancellers && !pb_cancel_ring_empty(rq->ring)))
                    sched_yield();
                else
                    pb_cpu_relax();
                continue;
            }
            idle = 0;
            issue(rq, s, &rng, 0);
        }
        fire_own_cancels(rq);      /* stopping: fire (release) what is left */
        check_still_pinned(h, rq->tp);
        rq->lock_stats = pb_lock_stats;   /* read after the join */
        return NULL;
    }
    /* Open loop: Poisson arrivals at rate / requesters, in on/off bursts. */
    double per_ns = sc->rate / sc->requesters / 1e9;
    double tpn = pb_tsc_ticks_per_ns();
    uint64_t start = pb_tsc_now();
    uint64_t on = (uint64_t)(sc->burst_on_ms * 1e6 * tpn), off = (uint64_t)(sc->burst_off_ms * 1e6 * tpn);
    double next = (double)start;
    while (!stopping(h)) {
        next += -log(1.0 - pb_rng_unit(&rng)) / per_ns * tpn;
        if (on && off) {
            /* Arrivals that fall in an off period move to the next on period. */
            uint64_t rel = (uint64_t)next - start, period = on + off;
            if (rel % period >= on)
                next = (double)(start + (rel / period + 1) * period);
        }
        uint64_t t_intended = (uint64_t)next;
        while (pb_tsc_now() < t_intended && !stopping(h)) {
            fire_own_cancels(rq);
            pb_cpu_relax();
        }
        struct pb_op *s;
        while (!(s = free_slot(rq, &cursor)) && !stopping(h))
            sched_yield();     /* latency keeps counting from t_intended */
        if (s && !stopping(h))
            issue(rq, s, &rng, t_intended);
    }
    fire_own_cancels(rq);
    check_still_pinned(h, rq->tp);
    rq->lock_stats = pb_lock_stats;       /* read after the join */
    return NULL;
}

static void *canceller_main(void *p)
{
    struct hcanceller *c = p;
    struct harness *h = c->h;
    bind_self(h, c->tp);
    flt_thread_attach(h->model, c->tp->pu);
    tls_rec = &c->rec;
    seed_thread_rng(h, STREAM_CANCELLER + c->index);
    atomic_fetch_add_explicit(&h->ready, 1, memory_order_release);
    pass_start_gate(h);
    unsigned nreq = h->sc->requesters, ncan = h->ncancellers;
    const uint64_t soon = pb_ns_to_tsc(50000);
    for (;;) {
        bool done = atomic_load_explicit(&h->requesters_done, memory_order_acquire);
        bool any = false, pending = false;
        uint64_t now = pb_tsc_now(), next = UINT64_MAX;
        for (unsigned r = c->index; r < nreq; r += ncan) {
            struct pb_cancel_ring *ring = h->req[r].ring;
            struct pb_cancel_order o;
            if (!pb_cancel_ring_peek(ring, &o))
                continue;
            pending = true;
            if (!stopping(h) && now < o.fire_at) {
                next = o.fire_at < next ? o.fire_at : next;
                continue;
            }
            pb_cancel_ring_drop(ring);
            io_cancel_irp_ex(o.handle);
            flt_release_handle(o.handle);
            any = true;
        }
        if (done && !pending)
            break;
        if (any)
            continue;
        /* A cancel due within 50 us: spin for it. Otherwise sleep, so a
         * canceller sharing a CPU with a requester does not keep it from
         * running (an always-runnable thread delays its issues). */
        if (pending && next - now < soon)
            pb_cpu_relax();
        else if (!pending && stopping(h))
            wait_requesters_done(h);
        else
            nap_us(pending && next != UINT64_MAX ? (unsigned)(pb_tsc_to_ns(next - now) / 1000) : 100);
    }
    check_still_pinned(h, c->tp);
    c->lock_stats = pb_lock_stats;        /* read after the join */
    return NULL;
}

/* ---- the model's hooks -------------------------------------------------------------------- */

static void on_worker_start(void *arg, unsigned w)
{
    struct harness *h = arg;
    bind_self(h, pb_plan_thread(&h->plan, PB_ROLE_WORKER, w));
    tls_rec = &h->worker_rec[w];
    tls_worker = (int)w;
    seed_thread_rng(h, STREAM_WORKER + w);
    atomic_fetch_add_explicit(&h->ready, 1, memory_order_release);
}

static void on_worker_stop(void *arg, unsigned w)
{
    struct harness *h = arg;
    h->worker_lock[w] = pb_lock_stats;    /* read after flt_model_stop_workers joined it */
}

static void *mem_alloc(void *arg, unsigned cpu, size_t size)
{
    struct harness *h = arg;
    return pb_numa_alloc_for_pu(&h->plan, cpu, size);
}

static void mem_free(void *arg, void *ptr, size_t size)
{
    pb_numa_free(ptr, size);
}

double harness_record_cost_ns(struct harness *h)
{
    struct recorder *r = aligned_alloc(64, sizeof *r);
    if (!r || recorder_init(r, h->nslots) != 0) {
        free(r);
        return 0;
    }
    /* Latencies spread as a run's are, from 250 ns to ~16 us (log-uniform
     * over six octaves, drawn before the clock starts), the split on every
     * split-every-th one; the pair's record when the run has one per
     * operation. Back to back, so a little pessimistic: in a run the
     * records are far apart and their memory chains never wait. The median
     * of BATCHES timed batches, so that a preemption in one does not count
     * (as the timestamp's own cost, pb_measure_timestamp_cost). */
    enum { NVALUES = 4096, BATCHES = 15, PER_BATCH = 10000 };
    uint64_t *ticks = malloc(NVALUES * sizeof *ticks);
    if (!ticks) {
        free(r->pairs);
        free(r);
        return 0;
    }
    double tpn = pb_tsc_ticks_per_ns();
    uint64_t x = 0x9e3779b97f4a7c15ull, base = 1ull << 40;
    for (unsigned i = 0; i < NVALUES; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        ticks[i] = (uint64_t)((double)((250ull << ((x >> 60) % 6)) + ((x >> 32) & 255)) * tpn);
    }
    unsigned split = h->sc->split_every ? h->sc->split_every : 1, countdown = 1;
    int pair = h->pairs_per_op ? 0 : -1;
    double batch_ns[BATCHES];
    unsigned i = 0;
    for (unsigned b = 0; b < BATCHES; b++) {
        uint64_t t0 = pb_tsc_now();
        for (unsigned k = 0; k < PER_BATCH; k++, i++) {
            uint64_t t = ticks[i % NVALUES], t_dequeue = 0;
            if (--countdown == 0) {
                countdown = split;
                t_dequeue = base + t / 2;
            }
            recorder_add(h, r, pair, base, t_dequeue, base + t);
            bump(&r->completed);
        }
        batch_ns[b] = pb_tsc_to_ns(pb_tsc_now() - t0) / PER_BATCH;
    }
    /* Insertion sort of 15: the median. */
    for (unsigned a = 1; a < BATCHES; a++)
        for (unsigned c = a; c > 0 && batch_ns[c - 1] > batch_ns[c]; c--) {
            double tmp = batch_ns[c];
            batch_ns[c] = batch_ns[c - 1];
            batch_ns[c - 1] = tmp;
        }
    double cost = batch_ns[BATCHES / 2];
    free(ticks);
    free(r->pairs);
    free(r);
    return cost;
}

double harness_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void harness_nap_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

uint64_t harness_sum_measured(struct harness *h)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < h->nreq; i++)
        n += atomic_load_explicit(&h->req[i].rec.completed, memory_order_relaxed) +
             atomic_load_explicit(&h->req[i].rec.cancelled, memory_order_relaxed) +
             atomic_load_explicit(&h->req[i].rec.failed, memory_order_relaxed);
    for (unsigned i = 0; i < h->nworker_rec; i++)
        n += atomic_load_explicit(&h->worker_rec[i].completed, memory_order_relaxed) +
             atomic_load_explicit(&h->worker_rec[i].cancelled, memory_order_relaxed) +
             atomic_load_explicit(&h->worker_rec[i].failed, memory_order_relaxed);
    for (unsigned i = 0; i < h->ncancellers; i++)
        n += atomic_load_explicit(&h->can[i].rec.completed, memory_order_relaxed) +
             atomic_load_explicit(&h->can[i].rec.cancelled, memory_order_relaxed) +
             atomic_load_explicit(&h->can[i].rec.failed, memory_order_relaxed);
    return n;
}

uint64_t harness_live_p99(struct harness *h)
{
    uint64_t p = 0;
    for (unsigned i = 0; i < h->nworker_rec; i++) {
        uint64_t v = atomic_load_explicit(&h->worker_rec[i].p99_ns, memory_order_relaxed);
        p = v > p ? v : p;
    }
    for (unsigned i = 0; i < h->nreq; i++) {
        uint64_t v = atomic_load_explicit(&h->req[i].rec.p99_ns, memory_order_relaxed);
        p = v > p ? v : p;
    }
    return p;
}

static void merge_recorder(struct pb_run_result *out, struct harness *h, struct recorder *r)
{
    pb_hist_merge(&out->total, &r->total);
    pb_hist_merge(&out->queue_wait, &r->queue_wait);
    pb_hist_merge(&out->service, &r->service);
    out->completed += atomic_load(&r->completed);
    out->completed_cancelled += atomic_load(&r->cancelled);
    out->failed += atomic_load(&r->failed);
    for (unsigned i = 0; r->pairs && i < h->nslots * h->nslots; i++) {
        /* One node (every thread on it): the pair is the total. */
        const struct pb_hist *pair = h->pairs_per_op ? &r->pairs[i] : &r->total;
        if (!pair->count)
            continue;
        int rn = h->node_of_slot[i / h->nslots], wn = h->node_of_slot[i % h->nslots];
        unsigned k;
        for (k = 0; k < out->npairs; k++)
            if (out->pairs[k].requester_node == rn && out->pairs[k].worker_node == wn)
                break;
        if (k == out->npairs) {
            out->pairs[k].requester_node = rn;
            out->pairs[k].worker_node = wn;
            pb_hist_init(&out->pairs[k].total);
            out->npairs++;
        }
        pb_hist_merge(&out->pairs[k].total, pair);
    }
}
/* ---- building, step by step ------------------------------------------------ */

static int fail(struct harness *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct harness *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->error, sizeof h->error, fmt, ap);
    va_end(ap);
    return -1;
}

struct harness *harness_new(const struct pb_scenario *sc, const struct harness_opts *o,
                            size_t user_size)
{
    struct harness *h = aligned_alloc(64, (sizeof *h + 63) / 64 * 64);
    if (!h)
        return NULL;
    memset(h, 0, sizeof *h);
    h->scenario = *sc;
    h->sc = &h->scenario;
    h->latency_every = sc->latency_every ? sc->latency_every : 1;
    h->o = *o;
    if (user_size && !(h->user = calloc(1, user_size))) {
        free(h);
        return NULL;
    }
    if (!h->o.hooks.arg)
        h->o.hooks.arg = h->user;
    if (pthread_mutex_init(&h->fallback_lock, NULL) != 0) {
        free(h->user);
        free(h);
        return NULL;
    }
    h->fallback_ready = true;
    bool gate = pthread_mutex_init(&h->start_gate, NULL) == 0;
    bool lock = pthread_mutex_init(&h->done_lock, NULL) == 0;
    bool cond = pthread_cond_init(&h->done_cond, NULL) == 0;
    if (!gate || !lock || !cond) {
        if (gate)
            pthread_mutex_destroy(&h->start_gate);
        if (lock)
            pthread_mutex_destroy(&h->done_lock);
        if (cond)
            pthread_cond_destroy(&h->done_cond);
        pthread_mutex_destroy(&h->fallback_lock);
        free(h->user);
        free(h);
        return NULL;
    }
    h->sync_ready = true;
    for (unsigned l = 0; l < sc->nfilters; l++)
        h->has_async |= sc->filters[l] == PB_FILTER_ASYNC;
    /* Nothing to cancel: no canceller threads (they would only take CPU). */
    h->ncancellers = sc->cancel_fraction > 0 ? sc->cancellers : 0;
    const struct pb_op_mix *m = &sc->mix;
    h->mix_total = m->read + m->write + m->create + m->cleanup + m->close + m->query +
                   m->fastio + m->paging + m->fsfilter;
    return h;
}

/* Every thread's stack is address space. Past the process's limit
 * (RLIMIT_AS, `ulimit -v`, set on some clusters) the run's threads cannot
 * all start, and jemalloc crashes (it does not fail) when a new thread's
 * first allocation finds no room: seen as a SIGSEGV for 96 threads under
 * 200 MB. When the stacks alone do not fit, refused before any starts. */
static int check_address_space(struct harness *h)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    size_t stack = 0;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return 0;
    int rc = pthread_attr_getstacksize(&attr, &stack);
    pthread_attr_destroy(&attr);
    unsigned n = harness_nthreads(h);
    if (rc != 0 || (uint64_t)n * stack < (uint64_t)rl.rlim_cur)
        return 0;
    return fail(h, "%u threads need %llu MiB of address space for their stacks alone (%zu KiB "
                "each), more than the process may have (ulimit -v: %llu MiB): raise the limit, "
                "or run fewer threads", n, (unsigned long long)((uint64_t)n * stack >> 20),
                stack >> 10, (unsigned long long)(rl.rlim_cur >> 20));
}

int harness_plan(struct harness *h)
{
    const struct pb_scenario *sc = h->sc;
    char err[200];
    if (check_address_space(h) != 0)
        return -1;
    h->topo = h->o.topo;
    if (!h->topo) {
        if (pb_topo_load(&h->own_topo, PB_TOPO_MACHINE, NULL, err, sizeof err) != 0)
            return fail(h, "%s", err);
        h->topo = h->own_topo;
    }
    if (pb_plan_make(h->topo, sc->placement, sc->requesters, sc->workers, h->ncancellers,
                     &h->plan, err, sizeof err) != 0)
        return fail(h, "%s", err);
    h->have_plan = true;
    if (sc->memory_node >= 0 &&
        pb_plan_set_memory_node(&h->plan, h->topo, (unsigned)sc->memory_node, err, sizeof err) != 0)
        return fail(h, "memory-node: %s", err);
    unsigned npus = pb_topo_npus(h->topo);
    h->nnodes = pb_topo_nnodes(h->topo);
    h->node_of_pu = calloc(npus, sizeof *h->node_of_pu);
    if (!h->node_of_pu)
        return fail(h, "out of memory for the plan (%u processors)", npus);
    for (unsigned i = 0; i < npus; i++) {
        int n = pb_topo_pu(h->topo, i)->numa_node;
        h->node_of_pu[i] = n < 0 ? 0 : (unsigned)n;
    }
    h->slot_of_node = malloc((h->nnodes ? h->nnodes : 1) * sizeof *h->slot_of_node);
    h->node_of_slot = malloc((h->nnodes ? h->nnodes : 1) * sizeof *h->node_of_slot);
    if (!h->slot_of_node || !h->node_of_slot)
        return fail(h, "out of memory for the plan (%u nodes)", h->nnodes);
    for (unsigned n = 0; n < h->nnodes; n++)
        h->slot_of_node[n] = -1;
    h->nslots = 0;
    for (unsigned i = 0; i < h->plan.nthreads; i++) {
        int n = h->plan.threads[i].numa_node;
        if (n >= 0 && (unsigned)n < h->nnodes && h->slot_of_node[n] < 0) {
            h->slot_of_node[n] = (int)h->nslots;
            h->node_of_slot[h->nslots++] = n;
        }
    }
    /* With one node the node-pair histogram is the total's, taken at the
     * merge: no per-operation record (unless a thread sits on a processor
     * without a node, whose operations have no pair). */
    h->pairs_per_op = h->nnodes > 1;
    for (unsigned i = 0; i < h->plan.nthreads && !h->pairs_per_op; i++)
        h->pairs_per_op = h->plan.threads[i].numa_node < 0;
    pb_tsc_calibrate(0);
    pb_tick_scale_init(&h->scale, pb_tsc_ticks_per_ns());
    double svc = pb_dist_mean(&sc->service) + pb_dist_mean(&sc->fs_service) + 500;
    h->race_delay_ticks = pb_ns_to_tsc((uint64_t)svc);
    return 0;
}

int harness_build_model(struct harness *h)
{
    const struct pb_scenario *sc = h->sc;
    if (recorder_init(&h->fallback_rec, h->nslots) != 0)
        return fail(h, "out of memory for the recorders");
    h->worker_rec = aligned_alloc(64, sc->workers * sizeof *h->worker_rec);
    h->worker_lock = calloc(sc->workers ? sc->workers : 1, sizeof *h->worker_lock);
    if ((!h->worker_rec && sc->workers) || !h->worker_lock)
        return fail(h, "out of memory for %u workers' recorders", sc->workers);
    for (; h->nworker_rec < sc->workers; h->nworker_rec++)
        if (recorder_init(&h->worker_rec[h->nworker_rec], h->nslots) != 0) {
            free(h->worker_rec[h->nworker_rec].pairs);
            return fail(h, "out of memory for the workers' recorders");
        }
    unsigned *worker_cpu = calloc(sc->workers ? sc->workers : 1, sizeof *worker_cpu);
    if (!worker_cpu)
        return fail(h, "out of memory for the workers' placement");
    for (unsigned w = 0; w < sc->workers; w++)
        worker_cpu[w] = pb_plan_thread(&h->plan, PB_ROLE_WORKER, w)->pu;
    struct flt_model_config mc = {
        .pool = sc->pool, .queue = sc->queue, .handoff = sc->handoff,
        .lock = sc->lock[0] ? sc->lock : NULL,
        .ncpus = pb_topo_npus(h->topo), .nworkers = sc->workers, .worker_cpu = worker_cpu,
        .pool_capacity = sc->pool_capacity, .queue_capacity = sc->queue_capacity,
        .idle = sc->idle,
        .workers_share_cpus = pb_plan_worker_shares_cpu(&h->plan),
        .mem = { .alloc_on_cpu_node = mem_alloc, .free = mem_free, .arg = h,
                 .node_of_cpu = h->node_of_pu },
        .on_worker_start = on_worker_start, .on_worker_stop = on_worker_stop, .hook_arg = h,
        .verifier_checks_off = !sc->verifier_checks,
        .split_every = sc->split_every,
        .verifier_log = h->o.verifier_log,
    };
    const char *merr = NULL;
    NTSTATUS st = flt_model_create(&mc, &h->model, &merr);
    free(worker_cpu);
    if (st != STATUS_SUCCESS) {
        h->model = NULL;
        h->not_available = st == STATUS_NOT_SUPPORTED;
        return fail(h, "cannot build the model: %s", merr ? merr : "unknown error");
    }
    struct flt_fs_config fs = { .service_ns = (uint64_t)pb_dist_mean(&sc->fs_service) };
    if (flt_volume_create(h->model, "bench", &fs, &h->vol) != STATUS_SUCCESS) {
        h->vol = NULL;
        return fail(h, "cannot create the simulated volume");
    }
    return 0;
}

int harness_build_stack(struct harness *h)
{
    const struct pb_scenario *sc = h->sc;
    /* The filter stack, top first: altitudes descend from 389000. */
    static const struct flt_operation_registration pend_ops[] = {
        { IRP_MJ_READ, 0, pend_pre, NULL }, { IRP_MJ_WRITE, 0, pend_pre, NULL },
        { IRP_MJ_CREATE, 0, pend_pre, NULL }, { IRP_MJ_CLEANUP, 0, pend_pre, NULL },
        { IRP_MJ_CLOSE, 0, pend_pre, NULL }, { IRP_MJ_QUERY_INFORMATION, 0, pend_pre, NULL },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    /* With varied resume plans, some come back WITH_CALLBACK. */
    static const struct flt_operation_registration pend_post_ops[] = {
        { IRP_MJ_READ, 0, pend_pre, pend_post }, { IRP_MJ_WRITE, 0, pend_pre, pend_post },
        { IRP_MJ_CREATE, 0, pend_pre, pend_post }, { IRP_MJ_CLEANUP, 0, pend_pre, pend_post },
        { IRP_MJ_CLOSE, 0, pend_pre, pend_post },
        { IRP_MJ_QUERY_INFORMATION, 0, pend_pre, pend_post },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
#define OPS_FOR(pre, post)                                                          \
    { { IRP_MJ_READ, 0, pre, post }, { IRP_MJ_WRITE, 0, pre, post },                \
      { IRP_MJ_CREATE, 0, pre, post }, { IRP_MJ_CLEANUP, 0, pre, post },            \
      { IRP_MJ_CLOSE, 0, pre, post }, { IRP_MJ_QUERY_INFORMATION, 0, pre, post },   \
      { IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, 0, pre, post },                 \
      { IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, 0, pre, post },                 \
      { IRP_MJ_OPERATION_END, 0, NULL, NULL } }
    static const struct flt_operation_registration pass_ops[] = OPS_FOR(pass_pre, NULL);
    static const struct flt_operation_registration cb_ops[] = OPS_FOR(callback_pre, callback_post);
    static const struct flt_operation_registration sync_ops[] = OPS_FOR(sync_pre, finished_post);
    static const struct flt_operation_registration mix_ops[] = OPS_FOR(mix_pre, finished_post);
    static const struct flt_operation_registration cbdq_ops[] = {
        { IRP_MJ_READ, 0, cbdq_pre, NULL }, { IRP_MJ_WRITE, 0, cbdq_pre, NULL },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    static const struct flt_operation_registration async_ops[] = {
        { IRP_MJ_READ, 0, async_pre, NULL }, { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
#undef OPS_FOR
    for (unsigned l = 0; l < sc->nfilters; l++) {
        struct level *lv = &h->levels[l];
        lv->h = h;
        lv->index = l;
        lv->kind = sc->filters[l];
        h->nlevels = l + 1;
        const struct flt_operation_registration *ops =
            lv->kind == PB_FILTER_PEND ? (h->o.vary_resume ? pend_post_ops : pend_ops)
            : lv->kind == PB_FILTER_PASS ? pass_ops
            : lv->kind == PB_FILTER_CALLBACK ? cb_ops : lv->kind == PB_FILTER_SYNCHRONIZE ? sync_ops
            : lv->kind == PB_FILTER_MIX ? mix_ops : lv->kind == PB_FILTER_CBDQ ? cbdq_ops : async_ops;
        struct flt_registration reg = { .name = pb_filter_kind_name(lv->kind),
                                        .operation_registration = ops, .filter_context = lv };
        char alt[16];
        snprintf(alt, sizeof alt, "%u", 389000 - 1000 * l);
        if (pthread_mutex_init(&lv->cbdq_lock, NULL) != 0)
            return fail(h, "cannot create the lock of filter %u", l);
        lv->lock_ready = true;
        if (flt_register_filter(h->model, &reg, &lv->filter) != STATUS_SUCCESS) {
            lv->filter = NULL;
            return fail(h, "cannot register filter %u (%s)", l, reg.name);
        }
        if (flt_attach_volume(lv->filter, h->vol, alt, &lv->instance) != STATUS_SUCCESS)
            return fail(h, "cannot attach filter %u (%s) at altitude %s", l, reg.name, alt);
        if (lv->kind == PB_FILTER_CBDQ)
            flt_cbdq_initialize(lv->instance, &lv->cbdq, cq_insert, cq_remove, cq_peek,
                                cq_acquire, cq_release, cq_complete_canceled);
    }
    if (sc->mix.fsfilter) {
        struct fs_filter_callbacks cb = {
            .size_of_fs_filter_callbacks = sizeof cb,
            .pre_acquire_for_section_synchronization = fsf_pre,
            .post_acquire_for_section_synchronization = fsf_post,
            .pre_release_for_section_synchronization = fsf_pre,
            .post_release_for_section_synchronization = fsf_post,
        };
        fsrtl_register_file_system_filter_callbacks(h->vol, &cb);
    }
    return 0;
}

static int build_requester(struct harness *h, unsigned i)
{
    const struct pb_scenario *sc = h->sc;
    struct hrequester *rq = &h->req[i];
    rq->h = h;
    rq->index = i;
    rq->tp = pb_plan_thread(&h->plan, PB_ROLE_REQUESTER, i);
    if (recorder_init(&rq->rec, h->nslots) != 0)
        return fail(h, "out of memory for requester %u", i);
    rq->nops = sc->rate > 0 ? (sc->inflight > 1 ? sc->inflight : OPEN_LOOP_SLOTS) : sc->inflight;
    rq->ops = aligned_alloc(64, rq->nops * sizeof *rq->ops);
    if (rq->ops)
        memset(rq->ops, 0, rq->nops * sizeof *rq->ops);
    rq->route_targets = calloc(sc->workers ? sc->workers : 1, sizeof *rq->route_targets);
    if (!rq->ops || !rq->route_targets)
        return fail(h, "out of memory for requester %u's %u operations", i, rq->nops);
    for (unsigned s = 0; s < rq->nops; s++)
        rq->ops[s].rq = rq;
    if (sc->cancel_fraction > 0) {
        rq->ring = aligned_alloc(64, sizeof *rq->ring);
        if (!rq->ring)
            return fail(h, "out of memory for requester %u's cancel ring", i);
        memset(rq->ring, 0, sizeof *rq->ring);
    }
    int my_node = rq->tp->numa_node;
    for (unsigned w = 0; w < sc->workers; w++) {
        int wn = node_of_worker(h, w);
        bool take = sc->route == PB_ROUTE_ROUND_ROBIN ||
                    (sc->route == PB_ROUTE_SAME_NODE && wn == my_node) ||
                    (sc->route == PB_ROUTE_REMOTE_NODE && wn != my_node);
        if (take)
            rq->route_targets[rq->nroute++] = w;
    }
    if (sc->route == PB_ROUTE_LOCAL || rq->nroute == 0) {
        if (sc->route == PB_ROUTE_REMOTE_NODE || sc->route == PB_ROUTE_SAME_NODE)
            return fail(h, "route %s: requester %u (node %d) has no worker %s; place the workers "
                        "differently or simulate more nodes with --topology 'numa:2 core:2 pu:1'",
                        pb_route_name(sc->route), i, my_node,
                        sc->route == PB_ROUTE_REMOTE_NODE ? "on another node" : "on its node");
        rq->route_targets[0] = h->plan.worker_of_requester[i];
        rq->nroute = 1;
    }
    rq->route_next = i;
    return 0;
}

int harness_build_traffic(struct harness *h)
{
    const struct pb_scenario *sc = h->sc;
    h->req = aligned_alloc(64, sc->requesters * sizeof *h->req);
    h->can = aligned_alloc(64, (h->ncancellers ? h->ncancellers : 1) * sizeof *h->can);
    if (!h->req || !h->can)
        return fail(h, "out of memory for %u requesters and %u cancellers", sc->requesters,
                    h->ncancellers);
    memset(h->req, 0, sc->requesters * sizeof *h->req);
    memset(h->can, 0, (h->ncancellers ? h->ncancellers : 1) * sizeof *h->can);
    for (unsigned i = 0; i < sc->requesters; i++) {
        h->nreq = i + 1;        /* the free path frees what this one got */
        if (build_requester(h, i) != 0)
            return -1;
    }
    for (unsigned c = 0; c < h->ncancellers; c++) {
        h->can[c].h = h;
        h->can[c].index = c;
        h->can[c].tp = pb_plan_thread(&h->plan, PB_ROLE_CANCELLER, c);
        if (recorder_init(&h->can[c].rec, h->nslots) != 0) {
            free(h->can[c].rec.pairs);
            h->can[c].rec.pairs = NULL;
            return fail(h, "out of memory for canceller %u", c);
        }
    }
    return 0;
}

int harness_start(struct harness *h)
{
    int rc = 0;
    pthread_mutex_lock(&h->start_gate);
    for (unsigned i = 0; i < h->nreq && rc == 0; i++) {
        rc = pthread_create(&h->req[i].thread, NULL, requester_main, &h->req[i]);
        h->req[i].started = rc == 0;
    }
    for (unsigned c = 0; c < h->ncancellers && rc == 0; c++) {
        rc = pthread_create(&h->can[c].thread, NULL, canceller_main, &h->can[c]);
        h->can[c].started = rc == 0;
    }
    pthread_mutex_unlock(&h->start_gate);
    if (rc != 0) {
        harness_stop(h);
        return fail(h, "could not start the run's threads: %s", strerror(rc));
    }
    return 0;
}

/* How long the operations still in flight may take to complete: timeout_s
 * plus three times the mean service time they need, shared by the
 * workers (a 2 s service with 4 in flight on one worker is 8 s of work,
 * which a fixed limit would call lost). */
static double work_deadline_s(struct harness *h, uint64_t busy, double timeout_s)
{
    double svc_s = (pb_dist_mean(&h->sc->service) + pb_dist_mean(&h->sc->fs_service)) / 1e9;
    unsigned workers = h->sc->workers ? h->sc->workers : 1;
    return harness_mono_s() + timeout_s + 3.0 * (double)busy * svc_s / workers;
}

static uint64_t ops_busy(struct harness *h)
{
    uint64_t busy = 0;
    for (unsigned i = 0; i < h->nreq; i++)
        for (unsigned s = 0; s < h->req[i].nops; s++)
            busy += atomic_load_explicit(&h->req[i].ops[s].busy, memory_order_acquire);
    return busy;
}

#define STOP_TIMEOUT_S 5.0

void harness_stop(struct harness *h)
{
    atomic_store_explicit(&h->stop, true, memory_order_release);
    /* A requester ends once its current issue returns; a synchronous one
     * waits inside the model for its operation, which may never complete
     * (a strategy that loses work): joined without a bound, the run hung
     * for ever, deaf to SIGINT and SIGTERM. Waited for as long as the
     * drain would wait for the operations in flight, then left. */
    double end = work_deadline_s(h, ops_busy(h), STOP_TIMEOUT_S);
    for (unsigned i = 0; i < h->nreq; i++) {
        if (!h->req[i].started)
            continue;
        double left = end - harness_mono_s();
        struct timespec abs;
        clock_gettime(CLOCK_REALTIME, &abs);       /* pthread_timedjoin_np's clock */
        double whole = left > 0 ? (double)(time_t)left : 0;
        abs.tv_sec += (time_t)whole;
        abs.tv_nsec += left > 0 ? (long)((left - whole) * 1e9) : 0;
        if (abs.tv_nsec >= 1000000000L) {
            abs.tv_sec++;
            abs.tv_nsec -= 1000000000L;
        }
        if (pthread_timedjoin_np(h->req[i].thread, NULL, &abs) == 0) {
            h->req[i].started = false;
        } else {
            h->req[i].stuck = true;
            h->nstuck++;
        }
    }
    pthread_mutex_lock(&h->done_lock);
    atomic_store_explicit(&h->requesters_done, true, memory_order_release);
    pthread_cond_broadcast(&h->done_cond);
    pthread_mutex_unlock(&h->done_lock);
    for (unsigned c = 0; c < h->ncancellers; c++)
        if (h->can && h->can[c].started) {
            pthread_join(h->can[c].thread, NULL);
            h->can[c].started = false;
        }
}

uint64_t harness_drain(struct harness *h, double timeout_s)
{
    uint64_t busy = ops_busy(h);
    double end = work_deadline_s(h, busy, timeout_s);
    while (busy && harness_mono_s() < end) {
        harness_nap_ms(1);
        busy = ops_busy(h);
    }
    return busy;
}

unsigned harness_ready(struct harness *h)
{
    return atomic_load_explicit(&h->ready, memory_order_acquire);
}

unsigned harness_nthreads(const struct harness *h)
{
    return h->sc->requesters + h->sc->workers + h->ncancellers;
}

int harness_merge(struct harness *h, struct pb_run_result *out)
{
    out->pairs = calloc((size_t)h->nslots * h->nslots + 1, sizeof *out->pairs);
    if (!out->pairs)
        return fail(h, "out of memory for the node pairs");
    for (unsigned i = 0; i < h->nreq; i++)
        if (!h->req[i].stuck)      /* never joined: what it wrote is not ordered before this */
            merge_recorder(out, h, &h->req[i].rec);
    for (unsigned w = 0; w < h->nworker_rec; w++)
        merge_recorder(out, h, &h->worker_rec[w]);
    for (unsigned c = 0; c < h->ncancellers; c++)
        merge_recorder(out, h, &h->can[c].rec);
    merge_recorder(out, h, &h->fallback_rec);
    return 0;
}

static void add_stats(struct pb_lock_stats *sum, const struct pb_lock_stats *s)
{
    sum->acquisitions += s->acquisitions;
    sum->contended += s->contended;
    sum->wait_ticks += s->wait_ticks;
}

/* min, max and Jain's index of n threads' acquisitions. */
static void lock_fairness(const uint64_t *per, unsigned n, uint64_t *min, uint64_t *max,
                          double *jain)
{
    *min = n ? UINT64_MAX : 0;
    *max = 0;
    for (unsigned i = 0; i < n; i++) {
        *min = per[i] < *min ? per[i] : *min;
        *max = per[i] > *max ? per[i] : *max;
    }
    *jain = pb_jain_index(per, n);
}

int harness_lock_figures(struct harness *h, struct pb_run_result *out)
{
    flt_model_locks_taken(h->model, out->locks, sizeof out->locks);
    unsigned most = h->nreq > h->nworker_rec ? h->nreq : h->nworker_rec;
    uint64_t *per = calloc(most ? most : 1, sizeof *per);
    if (!per)
        return fail(h, "out of memory for the lock figures");
    struct pb_lock_stats sum = { 0 };
    for (unsigned i = 0; i < h->nreq; i++) {
        add_stats(&sum, &h->req[i].lock_stats);
        per[i] = h->req[i].lock_stats.acquisitions;
    }
    lock_fairness(per, h->nreq, &out->lock_acq_min, &out->lock_acq_max,
                  &out->lock_fairness_jain);
    for (unsigned w = 0; w < h->nworker_rec; w++) {
        add_stats(&sum, &h->worker_lock[w]);
        per[w] = h->worker_lock[w].acquisitions;
    }
    lock_fairness(per, h->nworker_rec, &out->lock_worker_acq_min, &out->lock_worker_acq_max,
                  &out->lock_worker_fairness_jain);
    for (unsigned c = 0; c < h->ncancellers; c++)
        add_stats(&sum, &h->can[c].lock_stats);
    out->lock_acquisitions = sum.acquisitions;
    out->lock_contended = sum.contended;
    out->lock_wait_ns = pb_tsc_to_ns(sum.wait_ticks);
    free(per);
    return 0;
}

/* Runs with lost operations, kept reachable (see harness_free). */
static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;
static struct harness *stuck[64];
static unsigned nstuck;

void harness_free(struct harness *h)
{
    if (!h)
        return;
    if (h->lost) {
        /* Lost operations stay pended forever: their run (and the user
         * state its hooks use) stays reachable, so a leak checker does not
         * flag it, rather than freeing what they name. */
        pthread_mutex_lock(&stuck_lock);
        if (nstuck < 64)
            stuck[nstuck++] = h;
        pthread_mutex_unlock(&stuck_lock);
        return;
    }
    if (h->vol)
        flt_volume_destroy(h->vol);
    for (unsigned l = 0; l < h->nlevels; l++) {
        if (h->levels[l].filter)
            flt_unregister_filter(h->levels[l].filter);
        if (h->levels[l].lock_ready)
            pthread_mutex_destroy(&h->levels[l].cbdq_lock);
    }
    flt_model_destroy(h->model);
    for (unsigned i = 0; h->req && i < h->nreq; i++) {
        free(h->req[i].ops);
        free(h->req[i].ring);
        free(h->req[i].route_targets);
        free(h->req[i].rec.pairs);
    }
    for (unsigned c = 0; h->can && c < h->ncancellers; c++)
        free(h->can[c].rec.pairs);
    for (unsigned w = 0; w < h->nworker_rec; w++)
        free(h->worker_rec[w].pairs);
    free(h->req);
    free(h->can);
    free(h->worker_rec);
    free(h->worker_lock);
    free(h->fallback_rec.pairs);
    if (h->fallback_ready)
        pthread_mutex_destroy(&h->fallback_lock);
    if (h->sync_ready) {
        pthread_mutex_destroy(&h->start_gate);
        pthread_mutex_destroy(&h->done_lock);
        pthread_cond_destroy(&h->done_cond);
    }
    free(h->node_of_pu);
    free(h->slot_of_node);
    free(h->node_of_slot);
    if (h->have_plan)
        pb_plan_free(&h->plan);
    pb_topo_free(h->own_topo);
    free(h->user);
    free(h);
}
