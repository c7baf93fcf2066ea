/* The cancel routines and the cancel/complete handoff (SPEC CAN1-CAN10),
 * and the handles that outlive the calls that made them (CD5).
 *
 * The handoff strategy (core/handoff/) decides who owns completion; this
 * file adds what the Filter Manager adds around it: argument checks,
 * generation checks, the cancel-safe queue's own routine, calling the
 * winner's routine with no model lock held (CAN2), and classifying every
 * attempt (won, lost, early, late, not_cancelable). */
#include "internal.h"

_Thread_local struct flt_cbd *pb_in_canceled_callback;

/* The filter's routine is stored in the cell as an opaque value and cast
 * back to its own type before the call. */
static pb_cancel_routine as_cell_routine(flt_complete_canceled_callback cb)
{
    return (pb_cancel_routine)(void (*)(void))cb;
}

static void call_taken_routine(struct flt_cbd *cbd, pb_cancel_routine r)
{
    if (r == CBDQ_ROUTINE_MARK) {
        flt_cbdq_cancel_routine(cbd);
        return;
    }
    flt_complete_canceled_callback cb = (flt_complete_canceled_callback)(void (*)(void))r;
    /* CAN2: no lock of the model is held here. CAN9 is checked in
     * flt_complete_pended_preop while this is set. */
    struct flt_cbd *outer = pb_in_canceled_callback;
    pb_in_canceled_callback = cbd;
    cb(&cbd->pub);
    pb_in_canceled_callback = outer;
}

/* An operation a filter may act on: allocated, not completed. */
static bool op_is_live(const struct flt_cbd *cbd)
{
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    return (s & ST_LIVE) && !(s & ST_COMPLETED);
}

NTSTATUS flt_set_cancel_completion(struct flt_callback_data *data,
                                   flt_complete_canceled_callback canceled_callback)
{
    static const char routine[] = "flt_set_cancel_completion";
    /* CAN1: documented failures, not verifier violations. */
    if (!data || !canceled_callback)
        return STATUS_INVALID_PARAMETER;
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    if (!FLT_IS_IRP_OPERATION(data) || cbd_is_paging(cbd))
        return STATUS_INVALID_PARAMETER;
    if (!flt_irql_at_most(m, DISPATCH_LEVEL, routine, data))
        return STATUS_INVALID_PARAMETER;
    if (atomic_load_explicit(&cbd->in_cbdq, memory_order_relaxed)) {   /* the owner's own flag */
        flt_verifier_report_model(m, "CAN1", routine, data,
                                  "the operation is held in a cancel-safe queue; refused");
        return STATUS_INVALID_PARAMETER;
    }
    if (!op_is_live(cbd)) {
        flt_verifier_report_model(m, "CD5", routine, data, "the operation has completed; refused");
        return STATUS_INVALID_PARAMETER;
    }
    if (m->ho_ops->is_armed(m->ho, &cbd->cell)) {
        flt_verifier_report_model(m, "CAN1", routine, data,
                                  "a cancel routine is already set; refused");
        return STATUS_INVALID_PARAMETER;
    }
    switch (m->ho_ops->arm(m->ho, &cbd->cell, as_cell_routine(canceled_callback))) {
    case PB_ARM_CANCELLED:
        /* CAN8: the cancel came first; the caller completes with
         * STATUS_CANCELLED. Attempts that found nothing were "early". */
        cbd->caught_by_set = true;
        return STATUS_CANCELLED;
    case PB_ARM_CANCELLER_TOOK:
    case PB_ARM_SET:
    default:
        return STATUS_SUCCESS;
    }
}

NTSTATUS flt_clear_cancel_completion(struct flt_callback_data *data)
{
    if (!data) {
        flt_verifier_report("VER1", "flt_clear_cancel_completion", NULL, "data is NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    if (atomic_load_explicit(&cbd->in_cbdq, memory_order_relaxed)) {   /* the owner's own flag */
        flt_verifier_report_model(m, "CAN1", "flt_clear_cancel_completion", data,
                                  "the operation is held in a cancel-safe queue; use flt_cbdq_remove_io");
        return STATUS_INVALID_PARAMETER;
    }
    /* CAN3: took the routine: the caller owns completion. */
    return m->ho_ops->disarm(m->ho, &cbd->cell) ? STATUS_SUCCESS : STATUS_CANCELLED;
}

bool flt_is_io_canceled(const struct flt_callback_data *data)
{
    if (!data || !FLT_IS_IRP_OPERATION(data))
        return false;
    const struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    return m->ho_ops->is_cancelled(m->ho, &cbd->cell);
}

/* ---- handles ---------------------------------------------------------------- */

flt_op_handle flt_reference_op(struct flt_callback_data *data)
{
    if (!data)
        return (flt_op_handle){ 0 };
    struct flt_cbd *cbd = cbd_of(data);
    uint32_t gen = ST_GEN(atomic_load_explicit(&cbd->state, memory_order_acquire));
    if (!cbd_try_pin(cbd, gen))
        return (flt_op_handle){ 0 };
    return (flt_op_handle){ data, gen, true };
}

flt_op_handle flt_weak_handle(struct flt_callback_data *data)
{
    if (!data)
        return (flt_op_handle){ 0 };
    struct flt_cbd *cbd = cbd_of(data);
    return (flt_op_handle){ data,
                            ST_GEN(atomic_load_explicit(&cbd->state, memory_order_acquire)),
                            false };
}

void flt_release_handle(flt_op_handle h)
{
    if (h.data && h.pinned)
        cbd_unpin(cbd_of(h.data));
}

/* ---- cancelling ------------------------------------------------------------- */

/* IoCancelIrp on a handle we have pinned: set the bit, take the routine. */
static flt_cancel_result cancel_pinned(struct flt_cbd *cbd, struct flt_thread *t)
{
    struct flt_model *m = cbd_model(cbd);
    bool was_set;
    pb_cancel_routine r = m->ho_ops->cancel(m->ho, &cbd->cell, &was_set);
    if (r) {
        PB_COUNT(t, cancel_won);
        call_taken_routine(cbd, r);
        return FLT_CANCEL_WON;
    }
    /* No routine: early or lost, known when the operation completes. If it
     * has already completed (the count is closed), it was lost to the
     * worker. */
    uint32_t n = atomic_fetch_add_explicit(&cbd->cancel_not_taken, 1, memory_order_acq_rel);
    if (n & NOT_TAKEN_CLOSED)
        PB_COUNT(t, cancel_lost);
    return FLT_CANCEL_NOT_TAKEN;
}

flt_cancel_result io_cancel_irp_ex(flt_op_handle h)
{
    if (!h.data) {
        flt_verifier_report("VER1", "io_cancel_irp", NULL, "empty handle");
        return FLT_CANCEL_REFUSED;
    }
    struct flt_cbd *cbd = cbd_of(h.data);
    struct flt_model *m = cbd_model(cbd);
    struct flt_thread *t = flt_thread_ctx(m);
    PB_COUNT(t, cancel_attempted);
    /* CAN10 / CD5: a stale or completed handle changes nothing. The pin
     * keeps the data from being recycled while we act on it. */
    if (!cbd_try_pin(cbd, h.generation)) {
        PB_COUNT(t, cancel_late);
        return FLT_CANCEL_LATE;
    }
    flt_cancel_result res;
    if (!FLT_IS_IRP_OPERATION(h.data) || cbd_is_paging(cbd)) {
        PB_COUNT(t, cancel_not_cancelable);
        res = FLT_CANCEL_NOT_CANCELABLE;
    } else {
        res = cancel_pinned(cbd, t);
    }
    cbd_unpin(cbd);
    return res;
}

bool io_cancel_irp(flt_op_handle h)
{
    return io_cancel_irp_ex(h) == FLT_CANCEL_WON;
}

bool flt_cancel_io(struct flt_callback_data *data)
{
    static const char routine[] = "flt_cancel_io";
    if (!data) {
        flt_verifier_report("VER1", routine, NULL, "data is NULL");
        return false;
    }
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    if (!flt_irql_at_most(m, DISPATCH_LEVEL, routine, data))
        return false;
    if (!FLT_IS_IRP_OPERATION(data))
        return false;
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    if (!cbd->allocated_by_filter || !(s & ST_STARTED)) {
        flt_verifier_report_model(m, "CAN5", routine, data,
                                  "not I/O that the filter started with "
                                  "flt_perform_asynchronous_io; refused");
        return false;
    }
    struct flt_thread *t = flt_thread_ctx(m);
    if (s & ST_COMPLETED) {
        /* Completed meanwhile: the initiator cannot avoid that race, so it
         * is a late cancel (CAN10), not a violation. */
        PB_COUNT(t, cancel_attempted);
        PB_COUNT(t, cancel_late);
        return false;
    }
    /* Another thread's operation, read without the queue's lock: acquire
     * pairs with the release in flt_cbdq_insert_io so cbdq is the queue. A
     * stale answer is harmless: the pin below checks the generation. */
    struct flt_cbdq *q = atomic_load_explicit(&cbd->in_cbdq, memory_order_acquire)
                             ? atomic_load_explicit(&cbd->cbdq, memory_order_relaxed)
                             : NULL;
    if (q && q->instance == cbd->initiator) {
        flt_verifier_report_model(m, "CAN5", routine, data,
                                  "the operation is in the filter's own queue; refused");
        return false;
    }
    PB_COUNT(t, cancel_attempted);
    if (!cbd_try_pin(cbd, ST_GEN(s))) {
        PB_COUNT(t, cancel_late);
        return false;
    }
    bool won = cancel_pinned(cbd, t) == FLT_CANCEL_WON;
    cbd_unpin(cbd);
    return won;
}
