/* The cancel-safe queue (SPEC CBDQ1-CBDQ5), as FltCbdq* / IoCsq*: the
 * filter supplies the queue and its lock; the model arms each queued
 * operation with its own cancel routine through the handoff strategy, so a
 * cancel and a removal race exactly as a cancel and a worker's clear do
 * (CAN7), and the filter's Insert/Remove/PeekNext run under the filter's
 * lock while CompleteCanceled runs outside it. */
#include "internal.h"

NTSTATUS flt_cbdq_initialize(struct flt_instance *instance, struct flt_cbdq *q,
                             flt_cbdq_insert_io_fn insert, flt_cbdq_remove_io_fn remove,
                             flt_cbdq_peek_next_io_fn peek_next, flt_cbdq_acquire_fn acquire,
                             flt_cbdq_release_fn release,
                             flt_cbdq_complete_canceled_io_fn complete_canceled)
{
    if (!instance || !q || !insert || !remove || !peek_next || !acquire || !release ||
        !complete_canceled)
        return STATUS_INVALID_PARAMETER;
    q->instance = instance;
    q->insert = insert;
    q->remove = remove;
    q->peek_next = peek_next;
    q->acquire = acquire;
    q->release = release;
    q->complete_canceled = complete_canceled;
    q->enabled = true;                     /* CBDQ1: starts enabled */
    return STATUS_SUCCESS;
}

static struct flt_model *q_model(struct flt_cbdq *q)
{
    return q->instance->volume->model;
}

/* Takes `cbd` out of the queue (lock held) and forgets its context. */
static void unlink_locked(struct flt_cbdq *q, struct flt_cbd *cbd)
{
    q->remove(q, &cbd->pub);
    if (cbd->cbdq_ctx)
        atomic_store_explicit(&cbd->cbdq_ctx->data, NULL, memory_order_release);
    cbd->cbdq_ctx = NULL;
    atomic_store_explicit(&cbd->in_cbdq, false, memory_order_relaxed);
}

NTSTATUS flt_cbdq_insert_io(struct flt_cbdq *q, struct flt_callback_data *data,
                            struct flt_cbdq_io_context *ctx, void *insert_context)
{
    static const char routine[] = "flt_cbdq_insert_io";
    if (!q || !q->insert || !data) {
        flt_verifier_report("CBDQ1", routine, data, "queue not initialised, or data NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = q_model(q);
    if (!FLT_IS_IRP_OPERATION(data)) {
        flt_verifier_report_model(m, "CBDQ2", routine, data, "only IRP operations can be queued");
        return STATUS_INVALID_PARAMETER;
    }
    /* Relaxed: only the owner of the operation sets it. */
    if (atomic_load_explicit(&cbd->in_cbdq, memory_order_relaxed) || m->ho_ops->is_armed(m->ho, &cbd->cell)) {
        flt_verifier_report_model(m, "CBDQ2", routine, data,
                                  "already queued, or a cancel routine is set; refused");
        return STATUS_INVALID_PARAMETER;
    }
    KIRQL irql;
    q->acquire(q, &irql);
    if (!q->enabled) {
        q->release(q, irql);
        return STATUS_FLT_CBDQ_DISABLED;
    }
    NTSTATUS st = q->insert(q, data, insert_context);
    if (!NT_SUCCESS(st)) {
        q->release(q, irql);
        return st;
    }
    atomic_store_explicit(&cbd->cbdq, q, memory_order_relaxed);
    cbd->cbdq_ctx = ctx;
    /* release: a canceller that sees in_cbdq sees cbdq (flt_cancel_io). */
    atomic_store_explicit(&cbd->in_cbdq, true, memory_order_release);
    if (ctx)
        atomic_store_explicit(&ctx->data, data, memory_order_release);
    pb_arm_result a = m->ho_ops->arm(m->ho, &cbd->cell, CBDQ_ROUTINE_MARK);
    if (a == PB_ARM_CANCELLED) {
        /* CBDQ2: cancelled before or during insertion: removed, completed
         * as cancelled, and the insertion still succeeded. */
        cbd->caught_by_set = true;
        unlink_locked(q, cbd);
        q->release(q, irql);
        q->complete_canceled(q, data);
        return STATUS_SUCCESS;
    }
    /* PB_ARM_CANCELLER_TOOK: its routine will take the lock and remove it. */
    q->release(q, irql);
    return st;
}

/* The routine io_cancel_irp calls for a queued operation (CBDQ3). */
void flt_cbdq_cancel_routine(struct flt_cbd *cbd)
{
    struct flt_cbdq *q = atomic_load_explicit(&cbd->cbdq, memory_order_relaxed);
    KIRQL irql;
    q->acquire(q, &irql);
    unlink_locked(q, cbd);
    q->release(q, irql);
    q->complete_canceled(q, &cbd->pub);    /* outside the queue lock */
}

struct flt_callback_data *flt_cbdq_remove_io(struct flt_cbdq *q, struct flt_cbdq_io_context *ctx)
{
    if (!q || !ctx)
        return NULL;
    struct flt_model *m = q_model(q);
    KIRQL irql;
    q->acquire(q, &irql);
    struct flt_callback_data *data = atomic_load_explicit(&ctx->data, memory_order_acquire);
    if (data) {
        struct flt_cbd *cbd = cbd_of(data);
        if (m->ho_ops->disarm(m->ho, &cbd->cell))
            unlink_locked(q, cbd);
        else
            data = NULL;        /* a cancel owns it; its routine removes it */
    }
    q->release(q, irql);
    return data;                /* CBDQ4: NULL when gone or cancelled */
}

struct flt_callback_data *flt_cbdq_remove_next_io(struct flt_cbdq *q, void *peek_context)
{
    if (!q)
        return NULL;
    struct flt_model *m = q_model(q);
    KIRQL irql;
    q->acquire(q, &irql);
    struct flt_callback_data *d = q->peek_next(q, NULL, peek_context);
    while (d) {
        struct flt_cbd *cbd = cbd_of(d);
        if (m->ho_ops->disarm(m->ho, &cbd->cell)) {
            unlink_locked(q, cbd);
            break;
        }
        d = q->peek_next(q, d, peek_context);   /* being cancelled: skip it */
    }
    q->release(q, irql);
    return d;
}

void flt_cbdq_disable(struct flt_cbdq *q)
{
    if (!q || !q->acquire)
        return;
    KIRQL irql;
    q->acquire(q, &irql);
    q->enabled = false;
    q->release(q, irql);
}

void flt_cbdq_enable(struct flt_cbdq *q)
{
    if (!q || !q->acquire)
        return;
    KIRQL irql;
    q->acquire(q, &irql);
    q->enabled = true;
    q->release(q, irql);
}
