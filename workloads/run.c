/* The run engine (pb_run.h): builds the model on the scenario's
 * strategies and the plan's placement, stacks the scenario's filters, and
 * drives it with requester and canceller threads for the warm-up and the
 * measured window; then checks the invariants.
 *
 * Threads and what they own:
 * - requesters: bound to their planned CPU; issue operations into their own
 *   slots (closed loop: `inflight` slots; open loop: Poisson arrivals at
 *   the intended times, latency measured from the intended time so a stall
 *   cannot hide, with bursts when asked); decide each operation's plan from
 *   their seeded generator; hand cancel targets (pinned handles) to their
 *   canceller through a single-producer ring.
 * - workers: the model's, bound through on_worker_start; run work items.
 * - cancellers: fire each cancel at its time.
 * Every thread that can complete an operation records its latency into
 * its own recorder (histograms, counts): no shared counter on the hot
 * path. Recorders are merged at the end. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flt_kernel.h"
#include "pb_env.h"
#include "pb_rng.h"
#include "pb_run.h"
#include "pb_tsc.h"
#include "cancel_ring.h"

#define OPEN_LOOP_SLOTS 1024u

/* ---- recorders --------------------------------------------------------------- */

struct recorder {
    struct pb_hist total, queue_wait, service;
    struct pb_hist *pairs;                   /* [nnodes * nnodes], total latency */
    _Atomic uint64_t completed, cancelled, failed;   /* measured ops; single writer */
    _Atomic uint64_t p99_ns;                 /* published now and then for progress */
    unsigned since_publish;
} __attribute__((aligned(64)));

static _Thread_local struct recorder *tls_rec;
static _Thread_local struct pb_rng tls_rng;
static _Thread_local bool tls_rng_ready;

/* ---- per-operation state ------------------------------------------------------- */

#define SLOT_NOPEND      0x1u
#define SLOT_CANCEL_SELF 0x2u

struct run;
struct requester;

struct op_slot {
    _Atomic uint32_t busy;
    uint32_t flags;
    struct requester *rq;
    unsigned worker;                         /* routed worker */
    bool measured;
    uint8_t mix[PB_MAX_FILTERS];             /* MIX filters' choice per level */
    /* cbdq filter */
    struct flt_cbdq_io_context cbdq_ctx;
    struct op_slot *cbdq_prev, *cbdq_next;
    struct flt_callback_data *cbdq_data;
    /* async filter */
    struct flt_callback_data *async_orig;
    _Atomic int async_refs;
};

struct requester {
    struct run *run;
    unsigned index;
    const struct pb_thread_plan *tp;
    struct op_slot *slots;
    unsigned nslots;
    struct pb_cancel_ring *ring;             /* its cancel orders; NULL when none */
    unsigned *route_targets;                 /* workers this requester routes to */
    unsigned nroute, route_next;
    uint64_t issued_in_window;
    uint64_t refused_in_window;
    struct recorder rec;
    pthread_t thread;
};

struct canceller {
    struct run *run;
    unsigned index;
    const struct pb_thread_plan *tp;
    struct recorder rec;
    pthread_t thread;
};

struct level {
    struct run *run;
    unsigned index;
    pb_filter_kind kind;
    struct flt_filter *filter;
    struct flt_instance *instance;
    struct flt_cbdq cbdq;                    /* for PB_FILTER_CBDQ */
    pthread_mutex_t cbdq_lock;
    struct op_slot *cbdq_head, *cbdq_tail;
};

struct run {
    const struct pb_scenario *sc;
    const struct pb_run_env *env;
    struct pb_plan plan;
    const struct pb_topo *topo;
    unsigned nnodes;
    unsigned *node_of_pu;
    struct flt_model *model;
    struct flt_volume *vol;
    struct level levels[PB_MAX_FILTERS];
    struct requester *req;
    struct canceller *can;
    struct recorder *worker_rec;
    struct pb_tick_scale scale;
    uint64_t race_delay_ticks;               /* cancel-when race: expected completion */
    _Atomic bool measuring;
    _Atomic unsigned ready;                  /* threads bound and attached */
    _Atomic bool stop;
    _Atomic bool requesters_done;
    unsigned ncancellers;                    /* threads started (0 when nothing is cancelled) */
    _Atomic uint64_t migrations;             /* threads found off their planned CPU */
    bool has_async;                          /* an async filter cancels its own I/O */
    struct recorder fallback_rec;
    pthread_mutex_t fallback_lock;
    unsigned mix_total;
};

/* ---- recording --------------------------------------------------------------- */

static void recorder_init(struct recorder *r, unsigned nnodes)
{
    memset(r, 0, sizeof *r);
    pb_hist_init(&r->total);
    pb_hist_init(&r->queue_wait);
    pb_hist_init(&r->service);
    r->pairs = calloc((size_t)nnodes * nnodes, sizeof *r->pairs);
    for (unsigned i = 0; r->pairs && i < nnodes * nnodes; i++)
        pb_hist_init(&r->pairs[i]);
}

static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static int node_of_worker(struct run *run, unsigned w)
{
    const struct pb_thread_plan *tp = pb_plan_thread(&run->plan, PB_ROLE_WORKER, w);
    return tp ? tp->numa_node : -1;
}

/* The completing thread records the operation, then frees the slot. */
static void record_completion(struct run *run, struct op_slot *slot, NTSTATUS status,
                              uint64_t t_issue, uint64_t t_dequeue, uint64_t t_complete)
{
    if (slot->measured) {
        bool fallback = tls_rec == NULL;
        struct recorder *r = fallback ? &run->fallback_rec : tls_rec;
        if (fallback)
            pthread_mutex_lock(&run->fallback_lock);
        uint64_t total = t_complete > t_issue ? pb_ticks_to_ns(&run->scale, t_complete - t_issue) : 0;
        pb_hist_record(&r->total, total);
        if (t_dequeue && t_dequeue >= t_issue && t_complete >= t_dequeue) {
            pb_hist_record(&r->queue_wait, pb_ticks_to_ns(&run->scale, t_dequeue - t_issue));
            pb_hist_record(&r->service, pb_ticks_to_ns(&run->scale, t_complete - t_dequeue));
        }
        int rn = slot->rq->tp->numa_node, wn = node_of_worker(run, slot->worker);
        if (r->pairs && rn >= 0 && wn >= 0)
            pb_hist_record(&r->pairs[(unsigned)rn * run->nnodes + (unsigned)wn], total);
        if (status == STATUS_CANCELLED)
            bump(&r->cancelled);
        else if (NT_ERROR(status))
            bump(&r->failed);
        else
            bump(&r->completed);
        if (++r->since_publish >= 1024) {
            r->since_publish = 0;
            atomic_store_explicit(&r->p99_ns, pb_hist_percentile(&r->total, 99.0),
                                  memory_order_relaxed);
        }
        if (fallback)
            pthread_mutex_unlock(&run->fallback_lock);
    }
    /* release: the requester that sees the slot free may reuse it. */
    atomic_store_explicit(&slot->busy, 0, memory_order_release);
}

static void on_complete(struct flt_callback_data *data, void *ctx)
{
    struct op_slot *slot = ctx;
    record_completion(slot->rq->run, slot, data->io_status.status, data->times.t_issue,
                      data->times.t_dequeue, data->times.t_complete);
}

static struct pb_rng *thread_rng(struct run *run)
{
    if (!tls_rng_ready) {
        pb_rng_seed(&tls_rng, run->sc->seed ^ 0xabcdefull, (uint64_t)(uintptr_t)&tls_rng);
        tls_rng_ready = true;
    }
    return &tls_rng;
}

static void service_spin(struct run *run)
{
    const struct pb_dist *d = &run->sc->service;
    if (d->kind == PB_DIST_FIXED && d->a <= 0)
        return;
    pb_spin_ns((uint64_t)pb_dist_draw(d, thread_rng(run)));
}

static struct op_slot *slot_of(const struct flt_callback_data *data)
{
    return (struct op_slot *)(uintptr_t)data->iopb->parameters.others[2];
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
    flt_free_deferred_io_work_item(item);
    service_spin(lv->run);
    uint8_t mj = data->iopb->major_function;
    if (mj == IRP_MJ_CLEANUP || mj == IRP_MJ_CLOSE) {      /* posted without a routine */
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
        return;
    }
    if (flt_clear_cancel_completion(data) == STATUS_SUCCESS)   /* CAN3 */
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static bool pendable(const struct flt_callback_data *data)
{
    return FLT_IS_IRP_OPERATION(data) && !flt_is_paging_io(data);
}

static FLT_PREOP_CALLBACK_STATUS pend_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    struct level *lv = level_of(objs);
    struct op_slot *slot = slot_of(data);
    if (!pendable(data) || (slot && (slot->flags & SLOT_NOPEND) &&
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
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
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
    struct op_slot *slot = slot_of(data);
    unsigned choice = slot ? slot->mix[lv->index] : 0;
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

/* -- the cancel-safe queue filter: a locked list of slots -- */

static struct level *cbdq_level(struct flt_cbdq *q)
{
    return (struct level *)((char *)q - offsetof(struct level, cbdq));
}

static NTSTATUS cq_insert(struct flt_cbdq *q, struct flt_callback_data *data, void *ictx)
{
    struct level *lv = cbdq_level(q);
    struct op_slot *s = slot_of(data);
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
    struct op_slot *s = slot_of(data);
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
    struct op_slot *s = data ? slot_of(data)->cbdq_next : lv->cbdq_head;
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
    service_spin(lv->run);
    struct flt_callback_data *d = flt_cbdq_remove_next_io(&lv->cbdq, NULL);
    if (d)
        flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static FLT_PREOP_CALLBACK_STATUS cbdq_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    struct level *lv = level_of(objs);
    struct op_slot *slot = slot_of(data);
    if (!pendable(data) || !slot || (slot->flags & SLOT_NOPEND))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    if (!item)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (!NT_SUCCESS(flt_cbdq_insert_io(&lv->cbdq, data, &slot->cbdq_ctx, NULL))) {
        flt_free_deferred_io_work_item(item);
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    if (flt_queue_deferred_io_work_item(item, data, DelayedWorkQueue, cbdq_work, lv) !=
        STATUS_SUCCESS) {
        flt_free_deferred_io_work_item(item);
        if (flt_cbdq_remove_io(&lv->cbdq, &slot->cbdq_ctx))
            return FLT_PREOP_SUCCESS_NO_CALLBACK;   /* took it back out */
    }
    return FLT_PREOP_PENDING;
}

/* -- the async filter: its own I/O below it completes the original op -- */

static void async_release(struct op_slot *slot, struct flt_callback_data *g)
{
    if (atomic_fetch_sub_explicit(&slot->async_refs, 1, memory_order_acq_rel) == 1)
        flt_free_callback_data(g);
}

static void async_done(struct flt_callback_data *g, void *ctx)
{
    struct op_slot *slot = ctx;
    struct flt_callback_data *orig = slot->async_orig;
    struct flt_io_status_block iosb = g->io_status;
    /* Drop our reference before completing the original: once it is
     * complete, its slot may be reused by the next operation. */
    async_release(slot, g);
    orig->io_status = iosb;
    if (orig->io_status.status == STATUS_PENDING)
        orig->io_status.status = STATUS_UNSUCCESSFUL;
    flt_complete_pended_preop(orig, FLT_PREOP_COMPLETE, NULL);
}

static FLT_PREOP_CALLBACK_STATUS async_pre(struct flt_callback_data *data,
                                           const struct flt_related_objects *objs, void **ctx)
{
    struct op_slot *slot = slot_of(data);
    if (!pendable(data) || !slot || data->iopb->major_function != IRP_MJ_READ)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct flt_callback_data *g;
    if (flt_allocate_callback_data(objs->instance, IRP_MJ_READ, &g) != STATUS_SUCCESS)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    g->iopb->parameters.read.length = data->iopb->parameters.read.length;
    g->iopb->parameters.others[2] = (uint64_t)(uintptr_t)slot;
    slot->async_orig = data;
    atomic_store_explicit(&slot->async_refs, 2, memory_order_relaxed);
    NTSTATUS st = flt_perform_asynchronous_io(g, async_done, slot);
    if (st == STATUS_PENDING && (slot->flags & SLOT_CANCEL_SELF))
        flt_cancel_io(g);                          /* CAN5: the initiator cancels */
    async_release(slot, g);
    if (!NT_SUCCESS(st) && st != STATUS_FLT_IO_COMPLETE && st != STATUS_PENDING) {
        /* Refused (the callback never ran): drop its reference too. */
        async_release(slot, g);
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

static enum op_kind draw_op(struct run *run, struct pb_rng *rng)
{
    const struct pb_op_mix *m = &run->sc->mix;
    unsigned w[OP_KINDS] = { m->read, m->write, m->create, m->cleanup, m->close, m->query,
                             m->fastio, m->paging, m->fsfilter };
    uint64_t x = pb_rng_below(rng, run->mix_total);
    for (unsigned k = 0; k < OP_KINDS; k++) {
        if (x < w[k])
            return (enum op_kind)k;
        x -= w[k];
    }
    return OP_READ;
}

static unsigned route(struct requester *rq)
{
    unsigned w = rq->route_targets[rq->route_next % rq->nroute];
    rq->route_next++;
    return w;
}

static bool measuring(struct run *run)
{
    return atomic_load_explicit(&run->measuring, memory_order_acquire);
}

/* One FS filter acquire/release pair, synchronous, timed as one op. */
static void fsfilter_op(struct requester *rq, uint64_t t_intended)
{
    struct run *run = rq->run;
    bool m = measuring(run);
    if (!t_intended)
        t_intended = pb_tsc_now();      /* closed loop: from now */
    NTSTATUS st = fsrtl_notify(run->vol, FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther);
    NTSTATUS st2 = fsrtl_notify(run->vol, FS_FILTER_RELEASE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther);
    uint64_t t_done = pb_tsc_now();
    if (!m)
        return;
    rq->issued_in_window++;
    struct op_slot tmp = { .rq = rq, .measured = true, .worker = rq->route_targets[0] };
    atomic_store_explicit(&tmp.busy, 1, memory_order_relaxed);
    record_completion(run, &tmp, NT_SUCCESS(st) ? st2 : st, t_intended, 0, t_done);
}

static void issue(struct requester *rq, struct op_slot *slot, struct pb_rng *rng, uint64_t t_intended)
{
    struct run *run = rq->run;
    const struct pb_scenario *sc = run->sc;
    enum op_kind k = draw_op(run, rng);
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
    slot->flags = 0;
    if (pb_rng_unit(rng) >= sc->pend_fraction)
        slot->flags |= SLOT_NOPEND;
    for (unsigned l = 0; l < sc->nfilters; l++) {
        /* MIX: pass 40%, callback 30%, synchronize 10%, complete 20%. */
        uint64_t x = pb_rng_below(rng, 10);
        slot->mix[l] = x < 4 ? 0 : x < 7 ? 1 : x < 8 ? 2 : 3;
    }
    bool target = pb_rng_unit(rng) < sc->cancel_fraction;
    if (target && run->has_async) {
        slot->flags |= SLOT_CANCEL_SELF;           /* the async filter cancels its own I/O */
        target = false;
    }
    double delay_ns = 0;
    if (sc->cancel_when == PB_CANCEL_DELAY)
        delay_ns = pb_dist_draw(&sc->cancel_delay, rng);
    slot->worker = route(rq);
    slot->measured = measuring(run);
    struct flt_op_desc d = {
        .operation_type = k == OP_FASTIO ? FLTFL_CALLBACK_DATA_FAST_IO_OPERATION
                                         : FLTFL_CALLBACK_DATA_IRP_OPERATION,
        .major_function = majors[k],
        .irp_flags = k == OP_PAGING ? IRP_PAGING_IO | IRP_NOCACHE : 0,
        .t_issue = t_intended,
        .on_complete = on_complete,
        .context = slot,
    };
    d.parameters.read.byte_offset = 0;
    d.parameters.read.length = 4096;
    d.parameters.others[2] = (uint64_t)(uintptr_t)slot;
    atomic_store_explicit(&slot->busy, 1, memory_order_relaxed);
    flt_thread_route_to(slot->worker);
    if (slot->measured)
        rq->issued_in_window++;
    bool hand = target && rq->ring;
    flt_op_handle h = { 0 };
    NTSTATUS st = flt_issue(run->vol, &d, hand ? &h : NULL);
    if (st == STATUS_INSUFFICIENT_RESOURCES && atomic_load_explicit(&slot->busy, memory_order_acquire) &&
        (!hand || !h.data)) {
        /* Refused by the pool (CD3): never in the stack; the slot is free. */
        if (slot->measured) {
            rq->refused_in_window++;
            bump(&rq->rec.failed);
        }
        atomic_store_explicit(&slot->busy, 0, memory_order_relaxed);
        return;
    }
    if (hand && sc->cancel_when == PB_CANCEL_IMMEDIATE) {
        /* Right after issue: the issuer's own call (as CancelIoEx). */
        io_cancel_irp_ex(h);
        flt_release_handle(h);
    } else if (hand) {
        uint64_t fire = t_intended;
        if (sc->cancel_when == PB_CANCEL_DELAY)
            fire += pb_ns_to_tsc((uint64_t)delay_ns);
        else if (sc->cancel_when == PB_CANCEL_RACE)
            fire = pb_tsc_now() + run->race_delay_ticks / 2 +
                   pb_rng_below(rng, run->race_delay_ticks + 1);
        if (!pb_cancel_ring_push(rq->ring, (struct pb_cancel_order){ h, fire }))
            flt_release_handle(h);
    }
}

static bool stopping(struct run *run);

/* With no canceller threads, a requester fires its own due cancels (a
 * closed-loop requester waiting for its operations is idle anyway). */
static void fire_own_cancels(struct requester *rq)
{
    if (!rq->ring || rq->run->ncancellers)
        return;
    struct pb_cancel_order o;
    uint64_t now = pb_tsc_now();
    while (pb_cancel_ring_peek(rq->ring, &o) && (o.fire_at <= now || stopping(rq->run))) {
        pb_cancel_ring_drop(rq->ring);
        io_cancel_irp_ex(o.handle);
        flt_release_handle(o.handle);
    }
}

static struct op_slot *free_slot(struct requester *rq, unsigned *cursor)
{
    for (unsigned n = 0; n < rq->nslots; n++) {
        struct op_slot *s = &rq->slots[*cursor];
        *cursor = (*cursor + 1) % rq->nslots;
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

static bool stopping(struct run *run)
{
    return atomic_load_explicit(&run->stop, memory_order_acquire);
}

/* A pinned thread should end where it was bound; one that does not says
 * the binding did not hold (a cpuset changed, a CPU went offline) and its
 * figures mixed CPUs. Checked once at the end: never on the hot path. */
static void check_still_pinned(struct run *run, const struct pb_thread_plan *tp)
{
    if (sched_getcpu() != (int)tp->os_cpu)
        atomic_fetch_add_explicit(&run->migrations, 1, memory_order_relaxed);
}

static void *requester_main(void *p)
{
    struct requester *rq = p;
    struct run *run = rq->run;
    const struct pb_scenario *sc = run->sc;
    pb_plan_bind_self(rq->tp);
    flt_thread_attach(run->model, rq->tp->pu);
    tls_rec = &rq->rec;
    atomic_fetch_add_explicit(&run->ready, 1, memory_order_release);
    struct pb_rng rng;
    pb_rng_seed(&rng, sc->seed, rq->index + 1);     /* same seed, same decisions */
    unsigned cursor = 0;
    unsigned idle = 0;
    if (sc->rate <= 0) {
        while (!stopping(run)) {
            fire_own_cancels(rq);
            struct op_slot *s = free_slot(rq, &cursor);
            if (!s) {
                /* Yield only when no cancel of ours is pending soon. */
                if (++idle > 64 && !(rq->ring && !run->ncancellers && !pb_cancel_ring_empty(rq->ring)))
                    sched_yield();
                else
                    pb_cpu_relax();
                continue;
            }
            idle = 0;
            issue(rq, s, &rng, 0);
        }
        fire_own_cancels(rq);      /* stopping: fire (release) what is left */
        check_still_pinned(run, rq->tp);
        return NULL;
    }
    /* Open loop: Poisson arrivals at rate / requesters, in on/off bursts. */
    double per_ns = sc->rate / sc->requesters / 1e9;
    double tpn = pb_tsc_ticks_per_ns();
    uint64_t start = pb_tsc_now();
    uint64_t on = (uint64_t)(sc->burst_on_ms * 1e6 * tpn), off = (uint64_t)(sc->burst_off_ms * 1e6 * tpn);
    double next = (double)start;
    while (!stopping(run)) {
        next += -log(1.0 - pb_rng_unit(&rng)) / per_ns * tpn;
        if (on && off) {
            /* Arrivals that fall in an off period move to the next on period. */
            uint64_t rel = (uint64_t)next - start, period = on + off;
            if (rel % period >= on)
                next = (double)(start + (rel / period + 1) * period);
        }
        uint64_t t_intended = (uint64_t)next;
        while (pb_tsc_now() < t_intended && !stopping(run)) {
            fire_own_cancels(rq);
            pb_cpu_relax();
        }
        struct op_slot *s;
        while (!(s = free_slot(rq, &cursor)) && !stopping(run))
            sched_yield();     /* latency keeps counting from t_intended */
        if (s && !stopping(run))
            issue(rq, s, &rng, t_intended);
    }
    fire_own_cancels(rq);
    check_still_pinned(run, rq->tp);
    return NULL;
}

static void *canceller_main(void *p)
{
    struct canceller *c = p;
    struct run *run = c->run;
    pb_plan_bind_self(c->tp);
    flt_thread_attach(run->model, c->tp->pu);
    tls_rec = &c->rec;
    atomic_fetch_add_explicit(&run->ready, 1, memory_order_release);
    unsigned nreq = run->sc->requesters, ncan = run->ncancellers;
    const uint64_t soon = pb_ns_to_tsc(50000);
    for (;;) {
        bool done = atomic_load_explicit(&run->requesters_done, memory_order_acquire);
        bool any = false, pending = false;
        uint64_t now = pb_tsc_now(), next = UINT64_MAX;
        for (unsigned r = c->index; r < nreq; r += ncan) {
            struct pb_cancel_ring *ring = run->req[r].ring;
            struct pb_cancel_order o;
            if (!pb_cancel_ring_peek(ring, &o))
                continue;
            pending = true;
            if (!stopping(run) && now < o.fire_at) {
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
        else
            nap_us(pending && next != UINT64_MAX ? (unsigned)(pb_tsc_to_ns(next - now) / 1000) : 100);
    }
    check_still_pinned(run, c->tp);
    return NULL;
}

/* ---- the run -------------------------------------------------------------------- */

static void on_worker_start(void *arg, unsigned w)
{
    struct run *run = arg;
    pb_plan_bind_self(pb_plan_thread(&run->plan, PB_ROLE_WORKER, w));
    tls_rec = &run->worker_rec[w];
    atomic_fetch_add_explicit(&run->ready, 1, memory_order_release);
}

static void *mem_alloc(void *arg, unsigned cpu, size_t size)
{
    struct run *run = arg;
    return pb_numa_alloc_for_pu(&run->plan, cpu, size);
}

static void mem_free(void *arg, void *ptr, size_t size)
{
    pb_numa_free(ptr, size);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static uint64_t sum_measured(struct run *run)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < run->sc->requesters; i++)
        n += atomic_load_explicit(&run->req[i].rec.completed, memory_order_relaxed) +
             atomic_load_explicit(&run->req[i].rec.cancelled, memory_order_relaxed) +
             atomic_load_explicit(&run->req[i].rec.failed, memory_order_relaxed);
    for (unsigned i = 0; i < run->sc->workers; i++)
        n += atomic_load_explicit(&run->worker_rec[i].completed, memory_order_relaxed) +
             atomic_load_explicit(&run->worker_rec[i].cancelled, memory_order_relaxed) +
             atomic_load_explicit(&run->worker_rec[i].failed, memory_order_relaxed);
    for (unsigned i = 0; i < run->ncancellers; i++)
        n += atomic_load_explicit(&run->can[i].rec.completed, memory_order_relaxed) +
             atomic_load_explicit(&run->can[i].rec.cancelled, memory_order_relaxed) +
             atomic_load_explicit(&run->can[i].rec.failed, memory_order_relaxed);
    return n;
}

static uint64_t live_p99(struct run *run)
{
    uint64_t p = 0;
    for (unsigned i = 0; i < run->sc->workers; i++) {
        uint64_t v = atomic_load_explicit(&run->worker_rec[i].p99_ns, memory_order_relaxed);
        p = v > p ? v : p;
    }
    for (unsigned i = 0; i < run->sc->requesters; i++) {
        uint64_t v = atomic_load_explicit(&run->req[i].rec.p99_ns, memory_order_relaxed);
        p = v > p ? v : p;
    }
    return p;
}

static void merge_recorder(struct pb_run_result *out, struct run *run, struct recorder *r)
{
    pb_hist_merge(&out->total, &r->total);
    pb_hist_merge(&out->queue_wait, &r->queue_wait);
    pb_hist_merge(&out->service, &r->service);
    out->completed += atomic_load(&r->completed);
    out->completed_cancelled += atomic_load(&r->cancelled);
    out->failed += atomic_load(&r->failed);
    for (unsigned i = 0; r->pairs && i < run->nnodes * run->nnodes; i++) {
        if (!r->pairs[i].count)
            continue;
        int rn = (int)(i / run->nnodes), wn = (int)(i % run->nnodes);
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
        pb_hist_merge(&out->pairs[k].total, &r->pairs[i]);
    }
}

double pb_jain_index(const uint64_t *x, unsigned n)
{
    double s = 0, s2 = 0;
    for (unsigned i = 0; i < n; i++) {
        s += (double)x[i];
        s2 += (double)x[i] * (double)x[i];
    }
    return (n && s2 > 0) ? s * s / (n * s2) : 1.0;
}

void pb_run_result_free(struct pb_run_result *r)
{
    free(r->pairs);
    r->pairs = NULL;
    r->npairs = 0;
}

/* How long each c2c measurement samples, and when a floor is too shaky to
 * divide by: its p10-p90 spread wider than FLOOR_MAX_SPREAD of its median,
 * or its median moved by more than FLOOR_MAX_MOVE between the measurement
 * before the window and the one after it. On this project's 2-core VM,
 * twelve back-to-back measurements gave medians of 65-81 ns with p10-p90
 * spreads of 12-25% of the median, also with a niced process spinning on
 * one of the CPUs (the median resists preemption); the limits leave room
 * for that and catch a floor that is not one (see README, "Floors"). */
#define FLOOR_C2C_MS 60u
#define FLOOR_MAX_SPREAD 0.5
#define FLOOR_MAX_MOVE 0.3

static void measure_floors(struct run *run, struct pb_run_result *out)
{
    struct pb_floor f;
    pb_measure_timestamp_cost(&f);
    out->timestamp_overhead_ns = f.median_ns;
    /* The instrumentation per op: three timestamps and three records. */
    struct pb_hist *h = malloc(sizeof *h);
    double rec_ns = 0;
    if (h) {
        pb_hist_init(h);
        uint64_t t0 = pb_tsc_now();
        for (unsigned i = 0; i < 100000; i++)
            pb_hist_record(h, (i * 2654435761u) & 0xfffff);
        rec_ns = pb_tsc_to_ns(pb_tsc_now() - t0) / 100000.0;
        free(h);
    }
    out->instrumentation_ns_per_op = 3 * f.median_ns + 3 * rec_ns;
    const struct pb_thread_plan *a = pb_plan_thread(&run->plan, PB_ROLE_REQUESTER, 0);
    const struct pb_thread_plan *b = pb_plan_thread(&run->plan, PB_ROLE_WORKER, 0);
    out->c2c_os_cpu_a = a ? (int)a->os_cpu : -1;
    out->c2c_os_cpu_b = b ? (int)b->os_cpu : -1;
    if (run->env->skip_floors || !a || !b)
        return;
    if (a->os_cpu != b->os_cpu &&
        pb_measure_c2c_round_trip(a->os_cpu, b->os_cpu, FLOOR_C2C_MS, &out->c2c_start) == 0)
        out->c2c_round_trip_ns = out->c2c_start.median_ns;
    if (pb_measure_futex_wake(a->os_cpu, b->os_cpu, 100, &f) >= 0)
        out->futex_wake_ns = f.median_ns;
}

/* The c2c floor again, once the run's threads are gone, and the verdict
 * on whether ratios against it mean anything. */
static void recheck_floor(struct pb_run_result *out)
{
    if (out->c2c_round_trip_ns <= 0)
        return;
    const struct pb_floor *s = &out->c2c_start, *e = &out->c2c_end;
    if (pb_measure_c2c_round_trip((unsigned)out->c2c_os_cpu_a, (unsigned)out->c2c_os_cpu_b,
                                  FLOOR_C2C_MS, &out->c2c_end) != 0 || e->median_ns <= 0) {
        out->floor_unstable = true;
        snprintf(out->floor_note, sizeof out->floor_note,
                 "the c2c floor could not be measured again after the window");
        return;
    }
    double lo = s->median_ns < e->median_ns ? s->median_ns : e->median_ns;
    double move = fabs(e->median_ns - s->median_ns) / lo;
    double spread_s = (s->p90_ns - s->p10_ns) / s->median_ns;
    double spread_e = (e->p90_ns - e->p10_ns) / e->median_ns;
    if (move > FLOOR_MAX_MOVE) {
        out->floor_unstable = true;
        snprintf(out->floor_note, sizeof out->floor_note,
                 "c2c floor moved %.0f -> %.0f ns during the run (%.0f%%)", s->median_ns,
                 e->median_ns, move * 100);
    } else if (spread_s > FLOOR_MAX_SPREAD || spread_e > FLOOR_MAX_SPREAD) {
        const struct pb_floor *w = spread_s > spread_e ? s : e;
        out->floor_unstable = true;
        snprintf(out->floor_note, sizeof out->floor_note,
                 "c2c floor spread wide: p10-p90 %.0f-%.0f ns around %.0f ns (%s the window)",
                 w->p10_ns, w->p90_ns, w->median_ns, w == s ? "before" : "after");
    }
}

/* A window that completed nothing, or far less than the run did before it
 * (a lost wake-up, a livelock, a thread starved off its CPU), is a failure
 * of the run, not a figure. The reference is the run's own warm-up: what
 * this system completed per second minutes before, overloaded or not (an
 * open loop offered more than it can take completes at its capacity in
 * both). Bursts: the warm-up may fall in an on period, so the window is
 * held to the on share of it. */
#define STALL_FACTOR 10.0
#define STALL_MIN_WARMUP_OPS 50u

static void judge_stall(const struct pb_scenario *sc, uint64_t warmup_ops, double warmup_s,
                        struct pb_run_result *out)
{
    if (out->partial)
        return;
    uint64_t done = out->completed + out->completed_cancelled + out->failed;
    out->warmup_throughput_ops_s = warmup_s > 0 ? (double)warmup_ops / warmup_s : 0;
    double expected = 0;
    if (warmup_ops >= STALL_MIN_WARMUP_OPS) {
        double on = sc->burst_on_ms, off = sc->burst_off_ms;
        expected = out->warmup_throughput_ops_s *
                   (sc->rate > 0 && on > 0 && off > 0 ? on / (on + off) : 1.0);
    }
    char why[sizeof out->invariants.why];
    if (done == 0)
        snprintf(why, sizeof why, "stalled: no operation completed in the %.2f s window",
                 out->seconds);
    else if (expected > 0 && out->throughput_ops_s < expected / STALL_FACTOR)
        snprintf(why, sizeof why, "stalled: %.0f ops/s in the window, under a tenth of the "
                 "warm-up's %.0f ops/s", out->throughput_ops_s, expected);
    else
        return;
    out->stalled = true;
    if (out->invariants.ok) {
        out->invariants.ok = false;
        snprintf(out->invariants.why, sizeof out->invariants.why, "%s", why);
    }
}

static int fail_setup(struct pb_run_result *out, const char *fmt, const char *detail)
{
    snprintf(out->error, sizeof out->error, fmt, detail ? detail : "");
    return -1;
}

int pb_run(const struct pb_scenario *sc, const struct pb_run_env *env, struct pb_run_result *out)
{
    memset(out, 0, sizeof *out);
    out->scenario = *sc;
    pb_hist_init(&out->total);
    pb_hist_init(&out->queue_wait);
    pb_hist_init(&out->service);
    char err[240];
    if (pb_scenario_validate(sc, err, sizeof err) != 0)
        return fail_setup(out, "%s", err);
    static const struct pb_run_env no_env;
    if (!env)
        env = &no_env;

    struct run *run = calloc(1, sizeof *run);
    if (!run)
        return fail_setup(out, "out of memory%s", NULL);
    run->sc = sc;
    run->env = env;
    struct pb_topo *own_topo = NULL;
    run->topo = env->topo;
    if (!run->topo) {
        if (pb_topo_load(&own_topo, PB_TOPO_MACHINE, NULL, err, sizeof err) != 0) {
            free(run);
            return fail_setup(out, "%s", err);
        }
        run->topo = own_topo;
    }
    for (unsigned l = 0; l < sc->nfilters; l++)
        run->has_async |= sc->filters[l] == PB_FILTER_ASYNC;
    /* Nothing to cancel: no canceller threads (they would only take CPU). */
    unsigned ncancellers = sc->cancel_fraction > 0 ? sc->cancellers : 0;
    run->ncancellers = ncancellers;
    out->nthreads = sc->requesters + sc->workers + ncancellers;
    unsigned usable = pb_env_usable_cpus();
    out->oversubscribed = usable > 0 && out->nthreads > usable;
    out->steal_pct = -1;
    if (pb_plan_make(run->topo, sc->placement, sc->requesters, sc->workers, ncancellers,
                     &run->plan, err, sizeof err) != 0) {
        pb_topo_free(own_topo);
        free(run);
        return fail_setup(out, "%s", err);
    }
    pb_tsc_calibrate(0);
    pb_tick_scale_init(&run->scale, pb_tsc_ticks_per_ns());
    unsigned npus = pb_topo_npus(run->topo);
    run->nnodes = pb_topo_nnodes(run->topo);
    run->node_of_pu = calloc(npus, sizeof *run->node_of_pu);
    for (unsigned i = 0; i < npus; i++) {
        int n = pb_topo_pu(run->topo, i)->numa_node;
        run->node_of_pu[i] = n < 0 ? 0 : (unsigned)n;
    }
    const struct pb_op_mix *m = &sc->mix;
    run->mix_total = m->read + m->write + m->create + m->cleanup + m->close + m->query +
                     m->fastio + m->paging + m->fsfilter;
    double svc = pb_dist_mean(&sc->service) + pb_dist_mean(&sc->fs_service) + 500;
    run->race_delay_ticks = pb_ns_to_tsc((uint64_t)svc);
    pthread_mutex_init(&run->fallback_lock, NULL);
    recorder_init(&run->fallback_rec, run->nnodes);

    measure_floors(run, out);

    /* The model, on the plan. */
    unsigned *worker_cpu = calloc(sc->workers, sizeof *worker_cpu);
    for (unsigned w = 0; w < sc->workers; w++)
        worker_cpu[w] = pb_plan_thread(&run->plan, PB_ROLE_WORKER, w)->pu;
    run->worker_rec = calloc(sc->workers, sizeof *run->worker_rec);
    for (unsigned w = 0; w < sc->workers; w++)
        recorder_init(&run->worker_rec[w], run->nnodes);
    struct flt_model_config mc = {
        .pool = sc->pool, .queue = sc->queue, .handoff = sc->handoff,
        .ncpus = npus, .nworkers = sc->workers, .worker_cpu = worker_cpu,
        .pool_capacity = sc->pool_capacity, .queue_capacity = sc->queue_capacity,
        .idle = sc->idle,
        .mem = { .alloc_on_cpu_node = mem_alloc, .free = mem_free, .arg = run,
                 .node_of_cpu = run->node_of_pu },
        .on_worker_start = on_worker_start, .hook_arg = run,
        .verifier_checks_off = !sc->verifier_checks,
        .verifier_log = true,
    };
    const char *merr = NULL;
    NTSTATUS st = flt_model_create(&mc, &run->model, &merr);
    free(worker_cpu);
    int rc = -1;
    if (st != STATUS_SUCCESS) {
        snprintf(out->error, sizeof out->error, "cannot build the model: %s", merr);
        goto out_plan;
    }
    struct flt_fs_config fs = { .service_ns = (uint64_t)pb_dist_mean(&sc->fs_service) };
    flt_volume_create(run->model, "bench", &fs, &run->vol);

    /* The filter stack, top first: altitudes descend from 389000. */
    static const struct flt_operation_registration pend_ops[] = {
        { IRP_MJ_READ, 0, pend_pre, NULL }, { IRP_MJ_WRITE, 0, pend_pre, NULL },
        { IRP_MJ_CREATE, 0, pend_pre, NULL }, { IRP_MJ_CLEANUP, 0, pend_pre, NULL },
        { IRP_MJ_CLOSE, 0, pend_pre, NULL }, { IRP_MJ_QUERY_INFORMATION, 0, pend_pre, NULL },
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
    static const struct flt_operation_registration cb_ops[] = OPS_FOR(callback_pre, finished_post);
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
        struct level *lv = &run->levels[l];
        lv->run = run;
        lv->index = l;
        lv->kind = sc->filters[l];
        const struct flt_operation_registration *ops =
            lv->kind == PB_FILTER_PEND ? pend_ops : lv->kind == PB_FILTER_PASS ? pass_ops
            : lv->kind == PB_FILTER_CALLBACK ? cb_ops : lv->kind == PB_FILTER_SYNCHRONIZE ? sync_ops
            : lv->kind == PB_FILTER_MIX ? mix_ops : lv->kind == PB_FILTER_CBDQ ? cbdq_ops : async_ops;
        struct flt_registration reg = { .name = pb_filter_kind_name(lv->kind),
                                        .operation_registration = ops, .filter_context = lv };
        char alt[16];
        snprintf(alt, sizeof alt, "%u", 389000 - 1000 * l);
        pthread_mutex_init(&lv->cbdq_lock, NULL);
        if (flt_register_filter(run->model, &reg, &lv->filter) != STATUS_SUCCESS ||
            flt_attach_volume(lv->filter, run->vol, alt, &lv->instance) != STATUS_SUCCESS) {
            snprintf(out->error, sizeof out->error, "cannot build the filter stack");
            goto out_model;
        }
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
        fsrtl_register_file_system_filter_callbacks(run->vol, &cb);
    }

    /* Requesters and their routes; cancellers. */
    run->req = calloc(sc->requesters, sizeof *run->req);
    run->can = calloc(ncancellers ? ncancellers : 1, sizeof *run->can);
    for (unsigned i = 0; i < sc->requesters; i++) {
        struct requester *rq = &run->req[i];
        rq->run = run;
        rq->index = i;
        rq->tp = pb_plan_thread(&run->plan, PB_ROLE_REQUESTER, i);
        rq->nslots = sc->rate > 0 ? (sc->inflight > 1 ? sc->inflight : OPEN_LOOP_SLOTS) : sc->inflight;
        rq->slots = calloc(rq->nslots, sizeof *rq->slots);
        for (unsigned s = 0; s < rq->nslots; s++)
            rq->slots[s].rq = rq;
        if (sc->cancel_fraction > 0) {
            rq->ring = aligned_alloc(64, sizeof *rq->ring);
            memset(rq->ring, 0, sizeof *rq->ring);
        }
        recorder_init(&rq->rec, run->nnodes);
        rq->route_targets = calloc(sc->workers, sizeof *rq->route_targets);
        int my_node = rq->tp->numa_node;
        for (unsigned w = 0; w < sc->workers; w++) {
            int wn = node_of_worker(run, w);
            bool take = sc->route == PB_ROUTE_ROUND_ROBIN ||
                        (sc->route == PB_ROUTE_SAME_NODE && wn == my_node) ||
                        (sc->route == PB_ROUTE_REMOTE_NODE && wn != my_node);
            if (take)
                rq->route_targets[rq->nroute++] = w;
        }
        if (sc->route == PB_ROUTE_LOCAL || rq->nroute == 0) {
            if (sc->route == PB_ROUTE_REMOTE_NODE || sc->route == PB_ROUTE_SAME_NODE) {
                snprintf(out->error, sizeof out->error,
                         "route %s: requester %u (node %d) has no worker %s; place the workers "
                         "differently or simulate more nodes with --topology 'numa:2 core:2 pu:1'",
                         pb_route_name(sc->route), i, my_node,
                         sc->route == PB_ROUTE_REMOTE_NODE ? "on another node" : "on its node");
                goto out_threads_alloc;
            }
            rq->route_targets[0] = run->plan.worker_of_requester[i];
            rq->nroute = 1;
        }
        rq->route_next = i;
    }
    for (unsigned c = 0; c < ncancellers; c++) {
        run->can[c].run = run;
        run->can[c].index = c;
        run->can[c].tp = pb_plan_thread(&run->plan, PB_ROLE_CANCELLER, c);
        recorder_init(&run->can[c].rec, run->nnodes);
    }

    /* Go: warm-up, then the measured window. */
    struct pb_counters c0, c1;
    for (unsigned i = 0; i < sc->requesters; i++)
        pthread_create(&run->req[i].thread, NULL, requester_main, &run->req[i]);
    for (unsigned c = 0; c < ncancellers; c++)
        pthread_create(&run->can[c].thread, NULL, canceller_main, &run->can[c]);
    /* The warm-up starts when every thread is bound and attached: the
     * first binding loads the machine's topology, which can take longer
     * than a short warm-up on a loaded machine. */
    unsigned nthreads = sc->requesters + sc->workers + ncancellers;
    double t0 = mono_s();
    while (atomic_load_explicit(&run->ready, memory_order_acquire) < nthreads &&
           mono_s() - t0 < 30 && !(env->stop && *env->stop))
        nap_ms(1);
    struct pb_counters cw;
    flt_model_counters(run->model, &cw);
    t0 = mono_s();
    while (mono_s() - t0 < sc->warmup_s && !(env->stop && *env->stop))
        nap_ms(5);
    flt_model_counters(run->model, &c0);
    double warmup_s = mono_s() - t0;
    uint64_t warmup_ops = (c0.completed + c0.completed_cancelled + c0.failed) -
                          (cw.completed + cw.completed_cancelled + cw.failed);
    struct pb_cpu_times cpu0, cpu1;
    struct rusage ru0, ru1;
    pb_env_cpu_times(&cpu0);
    getrusage(RUSAGE_SELF, &ru0);
    atomic_store_explicit(&run->measuring, true, memory_order_release);
    double t_start = mono_s(), last_progress = t_start;
    uint64_t last_n = 0;
    for (;;) {
        nap_ms(5);
        double now = mono_s(), el = now - t_start;
        if (env->stop && *env->stop) {
            out->partial = true;
            break;
        }
        uint64_t n = sum_measured(run);
        if (sc->ops ? n >= sc->ops : el >= sc->duration_s)
            break;
        if (env->progress && now - last_progress >= 0.2) {
            env->progress(env->progress_arg, el, (double)(n - last_n) / (now - last_progress),
                          live_p99(run));
            last_progress = now;
            last_n = n;
        }
    }
    out->seconds = mono_s() - t_start;
    /* Preemptions and steal of the window: every thread of the process
     * (ours and the model's workers), and the machine's steal time. */
    getrusage(RUSAGE_SELF, &ru1);
    pb_env_cpu_times(&cpu1);
    out->involuntary_switches = ru1.ru_nivcsw > ru0.ru_nivcsw ? (uint64_t)(ru1.ru_nivcsw - ru0.ru_nivcsw) : 0;
    out->steal_pct = pb_env_steal_pct(&cpu0, &cpu1);
    atomic_store_explicit(&run->stop, true, memory_order_release);
    for (unsigned i = 0; i < sc->requesters; i++)
        pthread_join(run->req[i].thread, NULL);
    atomic_store_explicit(&run->requesters_done, true, memory_order_release);
    for (unsigned c = 0; c < ncancellers; c++)
        pthread_join(run->can[c].thread, NULL);
    /* Drain: every operation in flight completes (bounded). */
    double drain_end = mono_s() + 5.0;
    uint64_t busy;
    do {
        busy = 0;
        for (unsigned i = 0; i < sc->requesters; i++)
            for (unsigned s = 0; s < run->req[i].nslots; s++)
                busy += atomic_load_explicit(&run->req[i].slots[s].busy, memory_order_acquire);
        if (busy)
            nap_ms(1);
    } while (busy && mono_s() < drain_end);
    if (!busy)
        flt_model_quiesce(run->model, 5000);
    flt_model_counters(run->model, &c1);
    out->counters = c1;
    flt_model_check(run->model, false, &out->invariants);
    if (busy && out->invariants.ok) {
        out->invariants.ok = false;
        snprintf(out->invariants.why, sizeof out->invariants.why,
                 "%llu operations never completed", (unsigned long long)busy);
    }

    /* Merge what every thread recorded. */
    out->pairs = calloc((size_t)run->nnodes * run->nnodes + 1, sizeof *out->pairs);
    for (unsigned i = 0; i < sc->requesters; i++)
        merge_recorder(out, run, &run->req[i].rec);
    for (unsigned w = 0; w < sc->workers; w++)
        merge_recorder(out, run, &run->worker_rec[w]);
    for (unsigned c = 0; c < ncancellers; c++)
        merge_recorder(out, run, &run->can[c].rec);
    merge_recorder(out, run, &run->fallback_rec);
    uint64_t *per = calloc(sc->requesters, sizeof *per);
    out->per_requester_min = UINT64_MAX;
    for (unsigned i = 0; i < sc->requesters; i++) {
        per[i] = run->req[i].issued_in_window;
        out->issued += run->req[i].issued_in_window;
        out->per_requester_min = per[i] < out->per_requester_min ? per[i] : out->per_requester_min;
        out->per_requester_max = per[i] > out->per_requester_max ? per[i] : out->per_requester_max;
    }
    out->jain_index = pb_jain_index(per, sc->requesters);
    free(per);
    out->throughput_ops_s = out->seconds > 0
        ? (double)(out->completed + out->completed_cancelled + out->failed) / out->seconds : 0;
    /* Each attempt counts once, in the window where its outcome became
     * known (early and lost are known at completion, maybe after the
     * window opened for an attempt made in the warm-up): attempted is the
     * sum of the outcomes. The whole run's counts are checked exactly by
     * flt_model_check. */
    out->cancel.won = c1.cancel_won - c0.cancel_won;
    out->cancel.lost = c1.cancel_lost - c0.cancel_lost;
    out->cancel.early = c1.cancel_early - c0.cancel_early;
    out->cancel.late = c1.cancel_late - c0.cancel_late;
    out->cancel.not_cancelable = c1.cancel_not_cancelable - c0.cancel_not_cancelable;
    out->cancel.attempted = out->cancel.won + out->cancel.lost + out->cancel.early +
                            out->cancel.late + out->cancel.not_cancelable;
    out->cancel.success_rate = out->cancel.attempted
        ? (double)out->cancel.won / (double)out->cancel.attempted : 0;
    judge_stall(sc, warmup_ops, warmup_s, out);
    out->migrations = atomic_load_explicit(&run->migrations, memory_order_relaxed);
    rc = 0;

out_threads_alloc:
out_model:
    if (run->vol)
        flt_volume_destroy(run->vol);
    for (unsigned l = 0; l < sc->nfilters; l++) {
        if (run->levels[l].filter)
            flt_unregister_filter(run->levels[l].filter);
        pthread_mutex_destroy(&run->levels[l].cbdq_lock);
    }
    flt_model_destroy(run->model);
    for (unsigned i = 0; run->req && i < sc->requesters; i++) {
        free(run->req[i].slots);
        free(run->req[i].ring);
        free(run->req[i].route_targets);
        free(run->req[i].rec.pairs);
    }
    for (unsigned c = 0; run->can && c < run->ncancellers; c++)
        free(run->can[c].rec.pairs);
    for (unsigned w = 0; run->worker_rec && w < sc->workers; w++)
        free(run->worker_rec[w].pairs);
    free(run->req);
    free(run->can);
    free(run->worker_rec);
out_plan:
    free(run->fallback_rec.pairs);
    pthread_mutex_destroy(&run->fallback_lock);
    free(run->node_of_pu);
    pb_plan_free(&run->plan);
    pb_topo_free(own_topo);
    free(run);
    /* The floor again, now that no thread of the run competes for its CPUs. */
    if (rc == 0)
        recheck_floor(out);
    return rc;
}
