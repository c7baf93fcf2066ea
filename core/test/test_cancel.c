/* SPEC CAN1-CAN10, with the CAN7 interleaving table driven step by step
 * from one thread: S = flt_set_cancel_completion, C = io_cancel_irp on the
 * handle from flt_issue, X = flt_clear_cancel_completion, and the worker's
 * flt_complete_pended_preop. */
#include <string.h>

#include "test_support.h"

TestSuite(cancel, .fini = tenv_fini, .timeout = 30);

static struct tf *P;

static void setup_pend(const char *handoff)
{
    struct tenv_opts o = { .handoff = handoff };
    tenv_setup(&o);
    P = tf_add("P", "100000", false);
    P->pre_hook = tf_pre_pend;
}

static struct flt_callback_data *issue_pended(struct treq *r, flt_op_handle *h)
{
    NTSTATUS s = tissue_read(r, h);
    cr_assert_eq(s, STATUS_PENDING, "got 0x%08X", (unsigned)s);
    struct flt_callback_data *d = atomic_load(&P->last_pre_data);
    cr_assert_not_null(d);
    if (h) {
        cr_assert_eq(h->data, d);
        cr_assert(h->pinned);
    }
    return d;
}

/* ---- CAN1 ----------------------------------------------------------------- */

Test(cancel, CAN1_set_on_pended_irp_succeeds)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    struct flt_callback_data *d = issue_pended(&r, NULL);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_SUCCESS);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

Test(cancel, CAN1_null_arguments_invalid_parameter)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    struct flt_callback_data *d = issue_pended(&r, NULL);
    cr_assert_eq(flt_set_cancel_completion(d, NULL), STATUS_INVALID_PARAMETER);
    cr_assert_eq(flt_set_cancel_completion(NULL, tcancel_cb), STATUS_INVALID_PARAMETER);
    /* Nothing was set: the op completes normally. */
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED, "no routine set");
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

static NTSTATUS set_in_pre = -1;
static FLT_PREOP_CALLBACK_STATUS pre_try_set(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    set_in_pre = flt_set_cancel_completion(d, tcancel_cb);
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void can1_invalid(uint32_t type, uint32_t irp_flags)
{
    setup_pend(NULL);
    P->pre_hook = pre_try_set;
    struct treq r = { 0 };
    NTSTATUS s = tissue(type, IRP_MJ_READ, irp_flags, &r, NULL);
    cr_assert_eq(set_in_pre, STATUS_INVALID_PARAMETER, "got 0x%08X", (unsigned)set_in_pre);
    cr_assert_eq(s, STATUS_SUCCESS, "the op itself passes down");
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(tcounters().routine_left_set, 0);
    tassert_quiet(true);
}

Test(cancel, CAN1_fast_io_invalid_parameter)
{
    can1_invalid(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, 0);
}

Test(cancel, CAN1_paging_io_invalid_parameter)
{
    can1_invalid(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_PAGING_IO);
}

/* CAN1: never for operations held in a cancel-safe queue. */
struct mini_q {
    struct flt_cbdq q;
    pthread_mutex_t lock;
    struct flt_callback_data *items[8];
    int n;
};
static struct mini_q MQ;
static NTSTATUS mq_insert(struct flt_cbdq *q, struct flt_callback_data *d, void *ictx)
{
    MQ.items[MQ.n++] = d;
    return STATUS_SUCCESS;
}
static void mq_remove(struct flt_cbdq *q, struct flt_callback_data *d)
{
    for (int i = 0; i < MQ.n; i++)
        if (MQ.items[i] == d) {
            MQ.items[i] = MQ.items[--MQ.n];
            return;
        }
}
static struct flt_callback_data *mq_peek(struct flt_cbdq *q, struct flt_callback_data *d, void *pctx)
{
    if (!d)
        return MQ.n ? MQ.items[0] : NULL;
    for (int i = 0; i + 1 < MQ.n; i++)
        if (MQ.items[i] == d)
            return MQ.items[i + 1];
    return NULL;
}
static void mq_acquire(struct flt_cbdq *q, KIRQL *irql)
{
    pthread_mutex_lock(&MQ.lock);
    *irql = PASSIVE_LEVEL;
}
static void mq_release(struct flt_cbdq *q, KIRQL irql) { pthread_mutex_unlock(&MQ.lock); }
static _Atomic int mq_canceled;
static void mq_complete_canceled(struct flt_cbdq *q, struct flt_callback_data *d)
{
    tcomplete(d, STATUS_CANCELLED, 0);
    atomic_fetch_add(&mq_canceled, 1);
}

Test(cancel, CAN1_set_on_op_in_cancel_safe_queue_is_verifier_error)
{
    setup_pend(NULL);
    pthread_mutex_init(&MQ.lock, NULL);
    cr_assert_eq(flt_cbdq_initialize(P->instance, &MQ.q, mq_insert, mq_remove, mq_peek, mq_acquire,
                                     mq_release, mq_complete_canceled),
                 STATUS_SUCCESS);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    struct flt_cbdq_io_context ioctx;
    memset(&ioctx, 0, sizeof ioctx);
    cr_assert_eq(flt_cbdq_insert_io(&MQ.q, d, &ioctx, NULL), STATUS_SUCCESS);
    NTSTATUS s = flt_set_cancel_completion(d, tcancel_cb);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "CAN1"), 1);
    /* The queue still owns cancellation: a cancel goes to the queue. */
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(atomic_load(&TC.calls), 0, "the refused routine is never called");
    cr_assert_eq(atomic_load(&mq_canceled), 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_null(flt_cbdq_remove_io(&MQ.q, &ioctx));
    flt_release_handle(h);
    tassert_quiet(true);
}

/* ---- CAN2 ----------------------------------------------------------------- */

Test(cancel, CAN2_canceled_callback_runs_without_model_locks)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(atomic_load(&TC.calls), 1);
    cr_assert_eq(TC.locks_held, 0, "a model lock was held in the canceled callback");
    cr_assert_eq(TC.complete_ret, STATUS_SUCCESS, "the callback could call into the model");
    cr_assert(pthread_equal(TC.thread, pthread_self()), "called by the canceller");
    cr_assert_eq(pb_locks_held, 0);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* Same with every handoff strategy the model offers (op-lock,
 * global-lock hold locks; they must drop them before the callback). */
Test(cancel, CAN2_no_locks_in_callback_for_every_handoff)
{
    int tested = 0;
    for (int i = 0; pb_handoffs[i]; i++) {
        if ((pb_handoffs[i]->flags & PB_BROKEN))
            continue;
        setup_pend(pb_handoffs[i]->name);
        struct treq r = { 0 };
        flt_op_handle h;
        struct flt_callback_data *d = issue_pended(&r, &h);
        cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
        cr_assert(io_cancel_irp(h), "%s", pb_handoffs[i]->name);
        cr_assert_eq(atomic_load(&TC.calls), 1);
        cr_assert_eq(TC.locks_held, 0, "handoff %s held %u locks", pb_handoffs[i]->name,
                     TC.locks_held);
        flt_release_handle(h);
        tassert_quiet(false);
        tenv_teardown();
        tested++;
    }
    cr_assert_geq(tested, 1);
}

/* ---- CAN3 ----------------------------------------------------------------- */

Test(cancel, CAN3_clear_without_routine_returns_cancelled)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    struct flt_callback_data *d = issue_pended(&r, NULL);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED);
    /* The caller must not complete per CAN3... but no routine was ever
     * set, so the op is the pender's: it completes it itself. */
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

Test(cancel, CAN3_clear_removes_routine_caller_owns_completion)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_SUCCESS);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED, "already removed");
    cr_assert_not(io_cancel_irp(h), "the routine is gone");
    cr_assert_eq(atomic_load(&TC.calls), 0);
    cr_assert_eq(atomic_load(&r.calls), 0, "still the caller's to complete");
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 8), STATUS_SUCCESS);
    cr_assert_eq(r.info, 8);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* Cancellation in progress: the callback has the routine and has not
 * completed yet; clear returns STATUS_CANCELLED then. */
static NTSTATUS clear_inside_cb = -1;
static void cb_clear_then_complete(struct flt_callback_data *d)
{
    clear_inside_cb = flt_clear_cancel_completion(d);
    tcancel_cb(d);
}

Test(cancel, CAN3_clear_during_cancellation_returns_cancelled)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, cb_clear_then_complete), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(clear_inside_cb, STATUS_CANCELLED);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* ---- CAN4 ----------------------------------------------------------------- */

Test(cancel, CAN4_cancel_with_routine_calls_it_returns_true)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert_not(flt_is_io_canceled(d));
    cr_assert_eq(io_cancel_irp_ex(h), FLT_CANCEL_WON);
    cr_assert_eq(atomic_load(&TC.calls), 1);
    cr_assert_eq(TC.data, d);
    cr_assert(flt_is_io_canceled(d), "the cancel bit stays set");
    cr_assert_eq(atomic_load(&r.calls), 1);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_attempted, 1);
    cr_assert_eq(c.cancel_won, 1);
    flt_release_handle(h);
    tassert_quiet(false);
}

Test(cancel, CAN4_cancel_without_routine_returns_false_bit_stays)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(io_cancel_irp_ex(h), FLT_CANCEL_NOT_TAKEN);
    cr_assert(flt_is_io_canceled(d), "the cancel bit is set either way");
    cr_assert_eq(atomic_load(&r.calls), 0, "nothing completed it");
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_CANCELLED, "CAN8");
    cr_assert_eq(tcomplete(d, STATUS_CANCELLED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    flt_release_handle(h);
    tassert_quiet(false);
}

Test(cancel, CAN4_empty_handle_refused)
{
    setup_pend(NULL);
    flt_op_handle empty;
    memset(&empty, 0, sizeof empty);
    cr_assert_not(io_cancel_irp(empty));
    cr_assert_eq(io_cancel_irp_ex(empty), FLT_CANCEL_REFUSED);
}

/* ---- CAN5 (FltCancelIo) ---------------------------------------------------- */

/* I (initiator, top) sends async I/O down; L (below) pends it, with or
 * without a cancel routine. */
static struct tf *I, *L;
static bool l_sets_routine;
static FLT_PREOP_CALLBACK_STATUS pre_l(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    *ctx = NULL;
    if (l_sets_routine)
        cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    return FLT_PREOP_PENDING;
}

struct async_rec {
    _Atomic int calls;
    NTSTATUS status;
};
static struct async_rec AR;
static void async_done(struct flt_callback_data *d, void *ctx)
{
    AR.status = d->io_status.status;
    atomic_fetch_add(&AR.calls, 1);
}

static struct flt_callback_data *start_async(void)
{
    tenv_setup_simple(0);
    I = tf_add("I", "200000", false);
    L = tf_add("L", "100000", false);
    L->pre_hook = pre_l;
    struct flt_callback_data *d = NULL;
    cr_assert_eq(flt_allocate_callback_data(I->instance, IRP_MJ_READ, &d), STATUS_SUCCESS);
    d->iopb->parameters.read.length = 512;
    NTSTATUS s = flt_perform_asynchronous_io(d, async_done, NULL);
    cr_assert_eq(s, STATUS_PENDING, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&L->pre_calls), 1);
    cr_assert_eq(atomic_load(&AR.calls), 0);
    return d;
}

Test(cancel, CAN5_cancel_io_with_routine_returns_true)
{
    l_sets_routine = true;
    struct flt_callback_data *d = start_async();
    cr_assert(flt_cancel_io(d));
    cr_assert_eq(atomic_load(&TC.calls), 1);
    cr_assert_eq(atomic_load(&AR.calls), 1, "async callback once, on cancellation too");
    cr_assert_eq(AR.status, STATUS_CANCELLED);
    cr_assert(flt_is_io_canceled(d));
    flt_free_callback_data(d);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
}

Test(cancel, CAN5_cancel_io_without_routine_returns_false)
{
    l_sets_routine = false;
    struct flt_callback_data *d = start_async();
    cr_assert_not(flt_cancel_io(d));
    cr_assert(flt_is_io_canceled(d), "the cancel bit is set");
    cr_assert_eq(atomic_load(&AR.calls), 0);
    struct flt_callback_data *ld = atomic_load(&L->last_pre_data);
    cr_assert_eq(ld, d);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_CANCELLED, "CAN8 catches it");
    cr_assert_eq(tcomplete(d, STATUS_CANCELLED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&AR.calls), 1);
    cr_assert_eq(AR.status, STATUS_CANCELLED);
    flt_free_callback_data(d);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
}

static bool cancel_io_in_pre = true;
static FLT_PREOP_CALLBACK_STATUS pre_cancel_io(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    cancel_io_in_pre = flt_cancel_io(d);
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

Test(cancel, CAN5_cancel_io_on_non_irp_returns_false)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("F", "100000", false);
    f->pre_hook = pre_cancel_io;
    struct treq r = { 0 };
    cr_assert_eq(tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, &r, NULL),
                 STATUS_SUCCESS);
    cr_assert_not(cancel_io_in_pre);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
}

Test(cancel, CAN5_cancel_io_on_completed_io_returns_false)
{
    l_sets_routine = true;
    struct flt_callback_data *d = start_async();
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_SUCCESS);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 1), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&AR.calls), 1);
    cr_assert_not(flt_cancel_io(d), "completed: not cancelable");
    cr_assert_eq(atomic_load(&TC.calls), 0);
    cr_assert_eq(atomic_load(&AR.calls), 1);
    flt_free_callback_data(d);
}

/* ---- CAN6 ----------------------------------------------------------------- */

Test(cancel, CAN6_is_io_canceled_tracks_cancel_bit)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_not(flt_is_io_canceled(d));
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert_not(flt_is_io_canceled(d), "setting a routine is not cancelling");
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_SUCCESS);
    cr_assert_not(flt_is_io_canceled(d));
    cr_assert_not(io_cancel_irp(h));
    cr_assert(flt_is_io_canceled(d));
    cr_assert_eq(tcomplete(d, STATUS_CANCELLED, 0), STATUS_SUCCESS);
    flt_release_handle(h);
    tassert_quiet(false);
}

static bool canceled_in_pre = true;
static flt_op_handle self_handle;
static FLT_PREOP_CALLBACK_STATUS pre_fast_cancel(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    self_handle = flt_weak_handle(d);
    cr_assert_eq(io_cancel_irp_ex(self_handle), FLT_CANCEL_NOT_CANCELABLE);
    canceled_in_pre = flt_is_io_canceled(d);
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

Test(cancel, CAN6_fast_io_is_never_canceled)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("F", "100000", false);
    f->pre_hook = pre_fast_cancel;
    struct treq r = { 0 };
    cr_assert_eq(tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, &r, NULL),
                 STATUS_SUCCESS);
    cr_assert_not(canceled_in_pre, "FLT_IS_IO_CANCELED is false for non-IRP operations");
    cr_assert_eq(tcounters().cancel_not_cancelable, 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

/* ---- CAN7: the interleaving table ------------------------------------------ */

struct can7_out {
    bool cancel_ret;
    NTSTATUS set_ret, clear_ret, complete_ret;
};

/* C before S: the setter completes with STATUS_CANCELLED (CAN8). */
static void row_c_before_s(void)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_not(io_cancel_irp(h), "C before S: io_cancel_irp is FALSE");
    cr_assert(flt_is_io_canceled(d));
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_CANCELLED,
                 "set sees the cancel and returns STATUS_CANCELLED");
    cr_assert_eq(atomic_load(&TC.calls), 0, "the callback is not called");
    cr_assert_eq(atomic_load(&r.calls), 0, "the setter completes, not the model");
    cr_assert_eq(tcomplete(d, STATUS_CANCELLED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_eq(r.info, 0);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_attempted, 1);
    cr_assert_eq(c.cancel_early, 1);
    cr_assert_eq(c.cancel_won, 0);
    cr_assert_eq(c.cancel_lost, 0);
    cr_assert_eq(c.completed_cancelled, 1);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* S, C, X: the callback completes; the worker's clear says CANCELLED and
 * it touches nothing. */
static void row_s_c_x(void)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h), "S, C: the canceller takes the routine");
    cr_assert_eq(atomic_load(&TC.calls), 1);
    cr_assert_eq(TC.complete_ret, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_eq(r.info, 0);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED, "X after C");
    /* The worker touches nothing: it does not complete. */
    cr_assert_eq(atomic_load(&r.calls), 1);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_won, 1);
    cr_assert_eq(c.cancel_lost, 0);
    cr_assert_eq(c.completed_cancelled, 1);
    cr_assert_eq(c.completed, 0);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* S, X, C: the worker completes with its own status. */
static void row_s_x_c(void)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_SUCCESS, "X first: the worker owns it");
    cr_assert_not(io_cancel_irp(h), "C after X: FALSE");
    cr_assert_eq(atomic_load(&TC.calls), 0);
    cr_assert_eq(atomic_load(&r.calls), 0);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 64), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS, "the worker's own status");
    cr_assert_eq(r.info, 64);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_attempted, 1);
    cr_assert_eq(c.cancel_lost, 1);
    cr_assert_eq(c.cancel_won, 0);
    cr_assert_eq(c.cancel_early, 0);
    cr_assert_eq(c.completed, 1);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* Completed, then C: FALSE, late, nobody completes again. */
static void row_completed_then_c(void)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_SUCCESS);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 1), STATUS_SUCCESS);
    cr_assert_not(io_cancel_irp(h), "completed, then C: FALSE");
    cr_assert_eq(io_cancel_irp_ex(h), FLT_CANCEL_LATE);
    cr_assert_eq(atomic_load(&TC.calls), 0);
    cr_assert_eq(atomic_load(&r.calls), 1, "nobody completes again");
    cr_assert_eq(r.status, STATUS_SUCCESS);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_late, 2);
    cr_assert_eq(c.cancel_won + c.cancel_lost + c.cancel_early, 0);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0, "late is not an error");
    flt_release_handle(h);
    tassert_quiet(false);
}

/* C twice: the second returns FALSE; nothing changes. */
static void row_c_twice(void)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_not(io_cancel_irp(h), "the second cancel returns FALSE");
    cr_assert_eq(atomic_load(&TC.calls), 1, "the callback ran once");
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_attempted, 2);
    cr_assert_eq(c.cancel_won, 1);
    cr_assert_eq(c.double_complete_refused, 0);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* C twice before S: both FALSE, set still catches it. */
static void row_c_twice_before_s(void)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_not(io_cancel_irp(h));
    cr_assert_not(io_cancel_irp(h));
    cr_assert(flt_is_io_canceled(d));
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_CANCELLED);
    cr_assert_eq(atomic_load(&TC.calls), 0);
    cr_assert_eq(tcomplete(d, STATUS_CANCELLED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* Breaking the rule: the loser completes anyway. Refused, once only. */
static void row_loser_completes_anyway(void)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED);
    NTSTATUS s = tcomplete(d, STATUS_SUCCESS, 0);   /* the worker ignores CAN3 */
    cr_assert(NT_ERROR(s), "a second completion is refused, got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4"), 1);
    cr_assert_eq(atomic_load(&r.calls), 1, "exactly one completion reached the requester");
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_eq(tcounters().double_complete_refused, 1);
    flt_release_handle(h);
    tassert_quiet(true);
}

Test(cancel, CAN7_cancel_before_set_setter_completes) { setup_pend(NULL); row_c_before_s(); }
Test(cancel, CAN7_set_cancel_clear_callback_completes) { setup_pend(NULL); row_s_c_x(); }
Test(cancel, CAN7_set_clear_cancel_worker_completes) { setup_pend(NULL); row_s_x_c(); }
Test(cancel, CAN7_completed_then_cancel_is_late) { setup_pend(NULL); row_completed_then_c(); }
Test(cancel, CAN7_cancel_twice_second_false) { setup_pend(NULL); row_c_twice(); }
Test(cancel, CAN7_cancel_twice_before_set) { setup_pend(NULL); row_c_twice_before_s(); }
Test(cancel, CAN7_loser_completing_is_refused_once) { setup_pend(NULL); row_loser_completes_anyway(); }

/* The whole table on every (non-broken) handoff strategy. */
Test(cancel, CAN7_table_for_every_handoff)
{
    void (*rows[])(void) = { row_c_before_s, row_s_c_x, row_s_x_c, row_completed_then_c,
                             row_c_twice, row_c_twice_before_s };
    int tested = 0;
    for (int i = 0; pb_handoffs[i]; i++) {
        if ((pb_handoffs[i]->flags & PB_BROKEN))
            continue;
        for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
            memset(&TC, 0, sizeof TC);
            setup_pend(pb_handoffs[i]->name);
            cr_assert_str_eq(flt_model_handoff_name(T.model), pb_handoffs[i]->name);
            rows[k]();
            tenv_teardown();
        }
        tested++;
    }
    cr_assert_geq(tested, 1);
}

/* "S, C and X race" is exercised with real threads in test_concurrent.c. */

/* ---- CAN8 ----------------------------------------------------------------- */

Test(cancel, CAN8_cancel_before_set_is_never_lost)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(io_cancel_irp_ex(h), FLT_CANCEL_NOT_TAKEN);
    NTSTATUS s = flt_set_cancel_completion(d, tcancel_cb);
    cr_assert_eq(s, STATUS_CANCELLED);
    /* Set took the routine back: the slot is empty again. */
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED);
    cr_assert_eq(tcomplete(d, STATUS_CANCELLED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_eq(tcounters().cancel_early, 1);
    cr_assert_eq(tcounters().routine_left_set, 0);
    flt_release_handle(h);
    tassert_quiet(false);
}

/* ---- CAN9 ----------------------------------------------------------------- */

Test(cancel, CAN9_callback_completes_cancelled_information_zero)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    d->io_status.information = 999;   /* stale value the callback must reset */
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_eq(r.info, 0);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.completed_cancelled, 1);
    cr_assert_eq(c.completed, 0);
    cr_assert_eq(c.failed, 0);
    flt_release_handle(h);
    tassert_quiet(false);
}

static NTSTATUS bad_cb_first = -1;
static _Atomic int bad_cb_calls;
static void cb_completes_with_success(struct flt_callback_data *d)
{
    d->io_status.status = STATUS_SUCCESS;
    d->io_status.information = 5;
    bad_cb_first = flt_complete_pended_preop(d, FLT_PREOP_COMPLETE, NULL);
    if (bad_cb_first != STATUS_SUCCESS) {
        /* Refused: do it right so nothing is lost. */
        d->io_status.status = STATUS_CANCELLED;
        d->io_status.information = 0;
        flt_complete_pended_preop(d, FLT_PREOP_COMPLETE, NULL);
    }
    atomic_fetch_add(&bad_cb_calls, 1);
}

Test(cancel, CAN9_callback_completing_with_other_status_is_verifier_error)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, cb_completes_with_success), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(atomic_load(&bad_cb_calls), 1);
    cr_assert_eq(flt_verifier_count(T.model, "CAN9"), 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    flt_release_handle(h);
    tassert_quiet(true);
}

static void cb_resumes_no_callback(struct flt_callback_data *d)
{
    d->io_status.status = STATUS_CANCELLED;
    d->io_status.information = 0;
    bad_cb_first = flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    if (bad_cb_first != STATUS_SUCCESS)
        flt_complete_pended_preop(d, FLT_PREOP_COMPLETE, NULL);
    atomic_fetch_add(&bad_cb_calls, 1);
}

Test(cancel, CAN9_callback_resuming_down_is_verifier_error)
{
    setup_pend(NULL);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = issue_pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, cb_resumes_no_callback), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(flt_verifier_count(T.model, "CAN9"), 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 0, "a cancelled op does not go down");
    flt_release_handle(h);
    tassert_quiet(true);
}

/* ---- CAN10 ---------------------------------------------------------------- */

Test(cancel, CAN10_cancel_after_completion_pinned_handle_is_late)
{
    setup_pend(NULL);
    P->pre_hook = NULL;   /* completes synchronously */
    struct treq r = { 0 };
    flt_op_handle h;
    cr_assert_eq(tissue_read(&r, &h), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(io_cancel_irp_ex(h), FLT_CANCEL_LATE);
    cr_assert_not(io_cancel_irp(h));
    cr_assert_not(flt_is_io_canceled(h.data), "changes nothing: the bit stays clear");
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_late, 2);
    cr_assert_eq(c.cancel_attempted, 2);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
    flt_release_handle(h);
    tassert_quiet(false);
}

Test(cancel, CAN10_cancel_through_weak_handle_after_completion_is_late)
{
    setup_pend(NULL);
    cr_assert(flt_model_pool_type_stable(T.model));
    struct treq r = { 0 };
    struct flt_callback_data *d = issue_pended(&r, NULL);
    flt_op_handle weak = flt_weak_handle(d);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(flt_model_outstanding(T.model), 0, "back in the pool");
    cr_assert_eq(io_cancel_irp_ex(weak), FLT_CANCEL_LATE);
    cr_assert_not(io_cancel_irp(weak));
    cr_assert_eq(tcounters().cancel_late, 2);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    tassert_quiet(false);
}
