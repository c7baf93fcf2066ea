/* The stress harness (pb_stress.h): one harness for every strategy; the
 * strategies plug in by name through the model.
 *
 * Traffic: requesters keep `inflight` operations each in flight. Each
 * operation carries a plan drawn from the requester's seeded generator:
 * pended by the top filter or passed through, resumed with or without a
 * post-op callback or completed by the worker directly, fast I/O now and
 * then, and for a fraction of them a cancel after a random delay (none,
 * a few hundred ns, a few µs) so cancels land before the routine is set,
 * while it is set, as the worker clears it, and after completion.
 *
 * Threads: requesters, the model's workers, cancellers. A requester hands
 * each cancel target (a pinned handle) to its canceller through a
 * single-producer single-consumer ring. */
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flt_kernel.h"
#include "pb_rng.h"
#include "pb_stress.h"
#include "pb_tsc.h"
#include "cancel_ring.h"

#define PLAN_PEND            0x1u     /* top filter pends it */
#define PLAN_WITH_CALLBACK   0x2u     /* worker resumes SUCCESS_WITH_CALLBACK */
#define PLAN_WORKER_COMPLETE 0x4u     /* worker completes it itself (COMPLETE) */
#define PLAN_SERVICE_SHIFT   8        /* service time, ns, in bits 8-15 (x4) */

#define TAG_REQ_SHIFT 40
#define TAG_SEQ_MASK  ((1ull << TAG_REQ_SHIFT) - 1)
#define SLOT_DONE     (1ull << 63)


struct op_slot {
    _Atomic uint64_t tag;             /* requester<<40 | seq, SLOT_DONE when completed */
    _Atomic uint32_t busy;
    uint32_t index;
};

struct requester {
    struct stress *s;
    unsigned index;
    struct op_slot *slots;
    struct pb_cancel_ring *ring;
    pthread_t thread;
    uint64_t issued;
    uint64_t refused;                 /* flt_issue failed before issuing (pool) */
};

struct canceller {
    struct stress *s;
    unsigned index;
    pthread_t thread;
};

struct stress {
    struct pb_stress_config cfg;
    struct flt_model *model;
    struct flt_volume *vol;
    bool check_fifo;
    unsigned nworkers;
    struct requester *req;
    struct canceller *can;
    uint64_t *last_seq;               /* [worker][requester], each row written by its worker */
    _Atomic bool stop;
    _Atomic bool req_done;            /* requesters joined: rings get no more */
    _Atomic uint64_t completed_once;
    _Atomic uint64_t completed_twice;
    _Atomic uint64_t fifo_violations;
    _Atomic uint64_t fifo_checked;
    pthread_mutex_t why_lock;
    char why[256];
};

static _Thread_local int worker_index = -1;

static void fail(struct stress *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct stress *s, const char *fmt, ...)
{
    pthread_mutex_lock(&s->why_lock);
    if (!s->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->why, sizeof s->why, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&s->why_lock);
    atomic_store_explicit(&s->stop, true, memory_order_release);
}

static struct stress *stress_of(const struct flt_related_objects *objs)
{
    return flt_filter_context(objs->filter);
}

/* ---- the top filter: pends, posts, completes --------------------------------- */

static void on_canceled(struct flt_callback_data *data)
{
    data->io_status.status = STATUS_CANCELLED;
    data->io_status.information = 0;
    flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
}

static void work(struct flt_deferred_io_workitem *item, struct flt_callback_data *data, void *ctx)
{
    struct stress *s = ctx;
    flt_free_deferred_io_work_item(item);
    uint64_t tag = data->iopb->parameters.others[0];
    uint64_t plan = data->iopb->parameters.others[2];
    if (s->check_fifo && worker_index >= 0) {
        unsigned r = (unsigned)(tag >> TAG_REQ_SHIFT);
        uint64_t seq = tag & TAG_SEQ_MASK;
        uint64_t *last = &s->last_seq[(size_t)worker_index * s->cfg.requesters + r];
        if (seq <= *last) {
            atomic_fetch_add_explicit(&s->fifo_violations, 1, memory_order_relaxed);
            fail(s, "FIFO order broken: worker %d saw requester %u's op %llu after %llu",
                 worker_index, r, (unsigned long long)seq, (unsigned long long)*last);
        }
        *last = seq;
        atomic_fetch_add_explicit(&s->fifo_checked, 1, memory_order_relaxed);
    }
    pb_spin_ns(((plan >> PLAN_SERVICE_SHIFT) & 0xff) * 4);
    if (flt_clear_cancel_completion(data) != STATUS_SUCCESS)
        return;                       /* the cancel owns it (CAN3) */
    if (plan & PLAN_WORKER_COMPLETE) {
        data->io_status.status = STATUS_SUCCESS;
        data->io_status.information = 7;
        flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
    } else if (plan & PLAN_WITH_CALLBACK) {
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_WITH_CALLBACK, (void *)data);
    } else {
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    }
}

static FLT_PREOP_CALLBACK_STATUS top_pre(struct flt_callback_data *data,
                                         const struct flt_related_objects *objs, void **ctx)
{
    struct stress *s = stress_of(objs);
    uint64_t plan = data->iopb->parameters.others[2];
    if (!FLT_IS_IRP_OPERATION(data) || !(plan & PLAN_PEND))
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    if (!item)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (flt_set_cancel_completion(data, on_canceled) == STATUS_CANCELLED) {
        flt_free_deferred_io_work_item(item);   /* CAN8: cancelled first */
        data->io_status.status = STATUS_CANCELLED;
        data->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    }
    if (flt_queue_deferred_io_work_item(item, data, DelayedWorkQueue, work, s) != STATUS_SUCCESS) {
        flt_free_deferred_io_work_item(item);
        if (flt_clear_cancel_completion(data) == STATUS_SUCCESS)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        /* A cancel owns it and completes it; PEND3 resumes after we pend. */
    }
    return FLT_PREOP_PENDING;
}

static FLT_POSTOP_CALLBACK_STATUS top_post(struct flt_callback_data *data,
                                           const struct flt_related_objects *objs, void *ctx,
                                           uint32_t flags)
{
    if (ctx != data && !(flags & FLTFL_POST_OPERATION_DRAINING))
        fail(stress_of(objs), "post-op got the wrong completion context");
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* ---- a lower filter that asks for post-ops -------------------------------- */

static FLT_PREOP_CALLBACK_STATUS low_pre(struct flt_callback_data *data,
                                         const struct flt_related_objects *objs, void **ctx)
{
    *ctx = (void *)(uintptr_t)0x5eed;
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS low_post(struct flt_callback_data *data,
                                           const struct flt_related_objects *objs, void *ctx,
                                           uint32_t flags)
{
    if (ctx != (void *)(uintptr_t)0x5eed)
        fail(stress_of(objs), "lower post-op got the wrong completion context");
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* ---- requesters ----------------------------------------------------------------- */

static void on_complete(struct flt_callback_data *data, void *ctx)
{
    struct op_slot *slot = ctx;
    uint64_t tag = data->iopb->parameters.others[0];
    uint64_t expect = tag;
    /* acq_rel: the requester that sees DONE may reuse the slot. */
    if (!atomic_compare_exchange_strong_explicit(&slot->tag, &expect, tag | SLOT_DONE,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        struct stress *s = (struct stress *)(uintptr_t)data->iopb->parameters.others[1];
        atomic_fetch_add_explicit(&s->completed_twice, 1, memory_order_relaxed);
        fail(s, "operation %#llx completed twice (or as another): slot holds %#llx",
             (unsigned long long)tag, (unsigned long long)expect);
        return;
    }
    struct stress *s = (struct stress *)(uintptr_t)data->iopb->parameters.others[1];
    atomic_fetch_add_explicit(&s->completed_once, 1, memory_order_relaxed);
    atomic_store_explicit(&slot->busy, 0, memory_order_release);
}

static void issue_one(struct requester *rq, struct op_slot *slot, struct pb_rng *rng)
{
    struct stress *s = rq->s;
    uint64_t seq = ++rq->issued;
    uint64_t tag = ((uint64_t)rq->index << TAG_REQ_SHIFT) | seq;
    uint64_t plan = 0;
    uint64_t dice = pb_rng_below(rng, 1000);
    bool fast = dice < 30;                           /* 3% fast I/O */
    if (!fast && dice < 900)
        plan |= PLAN_PEND;                           /* most are pended */
    uint64_t how = pb_rng_below(rng, 3);
    if (how == 1)
        plan |= PLAN_WITH_CALLBACK;
    else if (how == 2)
        plan |= PLAN_WORKER_COMPLETE;
    plan |= pb_rng_below(rng, 64) << PLAN_SERVICE_SHIFT;
    bool target = !s->cfg.no_cancel && pb_rng_below(rng, 1000) < s->cfg.cancel_permille;
    uint64_t delay_ns = 0;
    uint64_t d = pb_rng_below(rng, 10);
    if (d >= 4 && d < 8)
        delay_ns = pb_rng_below(rng, 2000);
    else if (d >= 8)
        delay_ns = pb_rng_below(rng, 20000);

    struct flt_op_desc desc = {
        .operation_type = fast ? FLTFL_CALLBACK_DATA_FAST_IO_OPERATION
                               : FLTFL_CALLBACK_DATA_IRP_OPERATION,
        .major_function = (seq & 1) ? IRP_MJ_READ : IRP_MJ_WRITE,
        .on_complete = on_complete,
        .context = slot,
    };
    desc.parameters.others[0] = tag;
    desc.parameters.others[1] = (uint64_t)(uintptr_t)s;
    desc.parameters.others[2] = plan;
    atomic_store_explicit(&slot->tag, tag, memory_order_relaxed);
    atomic_store_explicit(&slot->busy, 1, memory_order_relaxed);
    flt_op_handle h = { 0 };
    NTSTATUS st = flt_issue(s->vol, &desc, target ? &h : NULL);
    /* Refused by the pool: on_complete never ran, the tag is untouched. */
    if (st == STATUS_INSUFFICIENT_RESOURCES &&
        atomic_load_explicit(&slot->tag, memory_order_acquire) == tag) {
        /* The pool refused (CD3): not issued to the stack, slot free. */
        rq->refused++;
        atomic_store_explicit(&slot->tag, tag | SLOT_DONE, memory_order_relaxed);
        atomic_store_explicit(&slot->busy, 0, memory_order_relaxed);
        return;
    }
    if (target) {
        struct pb_cancel_order o = { h, pb_tsc_now() + pb_ns_to_tsc(delay_ns) };
        if (!pb_cancel_ring_push(rq->ring, o))
            flt_release_handle(h);
    }
}

static void *requester_main(void *p)
{
    struct requester *rq = p;
    struct stress *s = rq->s;
    struct flt_model *m = s->model;
    flt_thread_attach(m, rq->index);
    flt_thread_route_to(rq->index % s->nworkers);
    struct pb_rng rng;
    pb_rng_seed(&rng, s->cfg.seed, rq->index + 1);
    unsigned n = s->cfg.inflight;
    uint64_t since_check = 0;
    while (!atomic_load_explicit(&s->stop, memory_order_acquire)) {
        bool issued_any = false;
        for (unsigned i = 0; i < n; i++) {
            struct op_slot *slot = &rq->slots[i];
            if (atomic_load_explicit(&slot->busy, memory_order_acquire))
                continue;
            issue_one(rq, slot, &rng);
            issued_any = true;
        }
        if (++since_check >= 64) {
            since_check = 0;
            if (flt_verifier_count(m, NULL) != 0) {
                struct flt_violation v;
                if (flt_verifier_last(m, &v))
                    fail(s, "verifier: %s in %s (op %#llx): %s", v.rule, v.routine,
                         (unsigned long long)v.op_id, v.detail);
                else
                    fail(s, "verifier violations");
            }
        }
        if (!issued_any)
            sched_yield();     /* 2-core machines: let the workers run */
    }
    return NULL;
}

static void *canceller_main(void *p)
{
    struct canceller *c = p;
    struct stress *s = c->s;
    flt_thread_attach(s->model, c->index);
    unsigned nreq = s->cfg.requesters, ncan = s->cfg.cancellers;
    for (;;) {
        bool stopping = atomic_load_explicit(&s->stop, memory_order_acquire);
        bool any = false;
        for (unsigned r = c->index; r < nreq; r += ncan) {
            struct pb_cancel_ring *ring = s->req[r].ring;
            struct pb_cancel_order o;
            if (!pb_cancel_ring_peek(ring, &o))
                continue;
            if (!stopping && pb_tsc_now() < o.fire_at)
                continue;
            pb_cancel_ring_drop(ring);
            io_cancel_irp_ex(o.handle);
            flt_release_handle(o.handle);
            any = true;
        }
        if (!any) {
            if (stopping) {
                /* Requesters have stopped pushing once they are joined; the
                 * caller joins them before setting `drained`. */
                bool empty = true;
                for (unsigned r = c->index; r < nreq; r += ncan) {
                    struct pb_cancel_order o;
                    if (pb_cancel_ring_peek(s->req[r].ring, &o))
                        empty = false;
                }
                if (empty && atomic_load_explicit(&s->req_done, memory_order_acquire))
                    break;
            }
            sched_yield();
        }
    }
    return NULL;
}

/* ---- the run -------------------------------------------------------------------- */

static void on_worker_start(void *arg, unsigned worker)
{
    worker_index = (int)worker;
}

/* Runs with lost operations, kept reachable (see the end of pb_stress_run). */
static pthread_mutex_t stuck_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stress *stuck_runs[64];
static unsigned nstuck;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int pb_stress_run(const struct pb_stress_config *in, struct pb_stress_result *res)
{
    memset(res, 0, sizeof *res);
    struct stress *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(res->why, sizeof res->why, "out of memory");
        return -1;
    }
    s->cfg = *in;
    struct pb_stress_config *cfg = &s->cfg;
    if (!cfg->requesters) cfg->requesters = 2;
    if (!cfg->workers) cfg->workers = 2;
    if (!cfg->cancellers) cfg->cancellers = 1;
    if (!cfg->inflight) cfg->inflight = 16;
    if (cfg->duration_s <= 0) cfg->duration_s = 1.0;
    if (!cfg->cancel_permille) cfg->cancel_permille = 300;
    if (!cfg->min_ops) cfg->min_ops = 1000;
    if (cfg->requesters > 256 || cfg->workers > 256 || cfg->cancellers > 256 ||
        cfg->inflight > 4096 || cfg->cancel_permille > 1000 || cfg->duration_s > 86400) {
        snprintf(res->why, sizeof res->why,
                 "out of range: at most 256 requesters, workers and cancellers, 4096 in flight, "
                 "cancel per mille <= 1000, a day");
        free(s);
        return -1;
    }
    const struct pb_queue_ops *qo = pb_queue_find(cfg->queue ? cfg->queue : FLT_DEFAULT_QUEUE);
    s->check_fifo = qo && qo->fifo_per_producer;
    s->nworkers = cfg->workers;
    pthread_mutex_init(&s->why_lock, NULL);

    struct flt_model_config mc = {
        .pool = cfg->pool, .queue = cfg->queue, .handoff = cfg->handoff,
        .ncpus = cfg->workers, .nworkers = cfg->workers,
        .pool_capacity = cfg->pool_capacity,
        .idle = cfg->idle,
        .on_worker_start = on_worker_start,
        .verifier_log = false,
    };
    const char *err = NULL;
    if (flt_model_create(&mc, &s->model, &err) != STATUS_SUCCESS) {
        snprintf(res->why, sizeof res->why, "cannot build the model: %s", err);
        pthread_mutex_destroy(&s->why_lock);
        free(s);
        return -1;
    }
    struct flt_model *m = s->model;
    s->last_seq = calloc((size_t)cfg->workers * cfg->requesters, sizeof *s->last_seq);
    s->req = calloc(cfg->requesters, sizeof *s->req);
    s->can = calloc(cfg->cancellers, sizeof *s->can);
    struct flt_fs_config fs = { 0 };
    flt_volume_create(m, "stress", &fs, &s->vol);
    static const struct flt_operation_registration top_ops[] = {
        { IRP_MJ_READ, 0, top_pre, top_post },
        { IRP_MJ_WRITE, 0, top_pre, top_post },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    static const struct flt_operation_registration low_ops[] = {
        { IRP_MJ_READ, 0, low_pre, low_post },
        { IRP_MJ_WRITE, 0, low_pre, low_post },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    struct flt_registration rtop = { "stress-pend", top_ops, s };
    struct flt_registration rlow = { "stress-post", low_ops, s };
    struct flt_filter *ftop = NULL, *flow = NULL;
    struct flt_instance *itop, *ilow;
    if (!s->last_seq || !s->req || !s->can || !s->vol ||
        flt_register_filter(m, &rtop, &ftop) != STATUS_SUCCESS ||
        flt_register_filter(m, &rlow, &flow) != STATUS_SUCCESS ||
        flt_attach_volume(ftop, s->vol, "380000", &itop) != STATUS_SUCCESS ||
        flt_attach_volume(flow, s->vol, "320000", &ilow) != STATUS_SUCCESS) {
        snprintf(res->why, sizeof res->why, "cannot set up the filter stack");
        return -1;   /* setup of fixed sizes; only fails without memory */
    }

    pb_tsc_calibrate(0);
    double t0 = mono_s();
    for (unsigned r = 0; r < cfg->requesters; r++) {
        struct requester *rq = &s->req[r];
        rq->s = s;
        rq->index = r;
        rq->slots = calloc(cfg->inflight, sizeof *rq->slots);
        rq->ring = aligned_alloc(64, sizeof *rq->ring);
        memset(rq->ring, 0, sizeof *rq->ring);
        pthread_create(&rq->thread, NULL, requester_main, rq);
    }
    for (unsigned c = 0; c < cfg->cancellers; c++) {
        s->can[c].s = s;
        s->can[c].index = c;
        pthread_create(&s->can[c].thread, NULL, canceller_main, &s->can[c]);
    }
    double cap = cfg->duration_s * 10 > 20 ? cfg->duration_s * 10 : 20;
    for (;;) {
        if (atomic_load_explicit(&s->stop, memory_order_acquire))
            break;
        double el = mono_s() - t0;
        uint64_t done = atomic_load_explicit(&s->completed_once, memory_order_relaxed);
        if (el >= cfg->duration_s && done >= cfg->min_ops)
            break;
        if (el >= cap) {
            fail(s, "stalled: %llu operations completed in %.1f s (wanted %llu)",
                 (unsigned long long)done, el, (unsigned long long)cfg->min_ops);
            break;
        }
        sleep_ms(5);
    }
    atomic_store_explicit(&s->stop, true, memory_order_release);
    for (unsigned r = 0; r < cfg->requesters; r++)
        pthread_join(s->req[r].thread, NULL);
    atomic_store_explicit(&s->req_done, true, memory_order_release);
    for (unsigned c = 0; c < cfg->cancellers; c++)
        pthread_join(s->can[c].thread, NULL);

    /* Bounded drain: whatever is still busy after it is lost. */
    double drain_end = mono_s() + 3.0;
    uint64_t busy;
    do {
        busy = 0;
        for (unsigned r = 0; r < cfg->requesters; r++)
            for (unsigned i = 0; i < cfg->inflight; i++)
                busy += atomic_load_explicit(&s->req[r].slots[i].busy, memory_order_acquire);
        if (busy)
            sleep_ms(2);
    } while (busy && mono_s() < drain_end);
    res->seconds = mono_s() - t0;

    for (unsigned r = 0; r < cfg->requesters; r++)
        res->issued += s->req[r].issued - s->req[r].refused;
    res->completed_once = atomic_load(&s->completed_once);
    res->completed_twice = atomic_load(&s->completed_twice);
    res->lost = busy;
    res->fifo_violations = atomic_load(&s->fifo_violations);
    res->fifo_checked = atomic_load(&s->fifo_checked);
    if (busy)
        fail(s, "%llu operations never completed (lost)", (unsigned long long)busy);
    else if (!flt_model_quiesce(m, 3000))
        fail(s, "work items still queued 3 s after every operation completed");
    flt_model_counters(m, &res->counters);
    flt_model_check(m, false, &res->invariants);
    if (!busy && !res->invariants.ok)
        fail(s, "model invariants: %s", res->invariants.why);
    if (!busy && res->issued != res->completed_once)
        fail(s, "issued %llu but %llu completed", (unsigned long long)res->issued,
             (unsigned long long)res->completed_once);
    if (flt_verifier_count(m, NULL)) {
        struct flt_violation v;
        if (flt_verifier_last(m, &v))
            fail(s, "verifier: %s in %s (op %#llx): %s", v.rule, v.routine,
                 (unsigned long long)v.op_id, v.detail);
    }
    res->ok = s->why[0] == 0;
    snprintf(res->why, sizeof res->why, "%s", s->why);

    /* Lost operations stay pended forever: keep their run reachable (so a
     * leak checker does not flag it) rather than free what they name. */
    if (busy) {
        pthread_mutex_lock(&stuck_lock);
        if (nstuck < 64)
            stuck_runs[nstuck++] = s;
        pthread_mutex_unlock(&stuck_lock);
    } else {
        flt_volume_destroy(s->vol);
        flt_unregister_filter(ftop);
        flt_unregister_filter(flow);
        flt_model_destroy(m);
        for (unsigned r = 0; r < cfg->requesters; r++) {
            free(s->req[r].slots);
            free(s->req[r].ring);
        }
        free(s->req);
        free(s->can);
        free(s->last_seq);
        pthread_mutex_destroy(&s->why_lock);
        free(s);
    }
    return 0;
}
