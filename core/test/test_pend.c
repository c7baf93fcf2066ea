/* SPEC PEND1-PEND6: pending and resuming. */
#include <string.h>

#include "test_support.h"

TestSuite(pend, .fini = tenv_fini, .timeout = 30);

static int ctx_p;

/* A (top, post-op) above P (pends, post-op) above C (bottom, post-op). */
static struct tf *A, *P, *C;
static struct flt_callback_data *pended(struct treq *r, flt_op_handle *h)
{
    NTSTATUS s = tissue_read(r, h);
    cr_assert_eq(s, STATUS_PENDING, "got 0x%08X", (unsigned)s);
    struct flt_callback_data *d = atomic_load(&P->last_pre_data);
    cr_assert_not_null(d);
    return d;
}

static void setup3(unsigned nworkers)
{
    tenv_setup_simple(nworkers);
    A = tf_add("A", "300000", true);
    P = tf_add("P", "200000", true);
    C = tf_add("C", "100000", true);
    P->pre_hook = tf_pre_pend;
}

/* ---- PEND1 ---------------------------------------------------------------- */

Test(pend, PEND1_resume_complete)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    cr_assert_eq(tcomplete(d, STATUS_ACCESS_DENIED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_ACCESS_DENIED);
    cr_assert_eq(atomic_load(&C->pre_calls), 0);
    cr_assert_eq(atomic_load(&P->post_calls), 0);
    cr_assert_eq(atomic_load(&A->post_calls), 1);
    tassert_quiet(false);
}

Test(pend, PEND1_resume_no_callback)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    cr_assert_eq(flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
    cr_assert_eq(r.info, 4096);
    cr_assert_eq(atomic_load(&C->pre_calls), 1);
    cr_assert_eq(atomic_load(&P->post_calls), 0);
    cr_assert_str_eq(tlog_str(), "pre:A pre:P pre:C post:C post:A");
    tassert_quiet(false);
}

Test(pend, PEND1_resume_with_callback_passes_context)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    cr_assert_eq(flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_WITH_CALLBACK, &ctx_p),
                 STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(atomic_load(&P->post_calls), 1);
    cr_assert_eq(P->post_ctx_seen, &ctx_p);
    cr_assert_str_eq(tlog_str(), "pre:A pre:P pre:C post:C post:P post:A");
    tassert_quiet(false);
}

static void pend1_refused(FLT_PREOP_CALLBACK_STATUS st, void *ctx)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    NTSTATUS s = flt_complete_pended_preop(d, st, ctx);
    cr_assert(NT_ERROR(s), "refused with an error status, got 0x%08X", (unsigned)s);
    tassert_named(s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND1"), 1, "PEND1 count %llu",
                 (unsigned long long)flt_verifier_count(T.model, "PEND1"));
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "PEND1");
    cr_assert_str_eq(v.routine, "flt_complete_pended_preop");
    cr_assert_eq(v.op_id, d->op_id);
    cr_assert_eq(atomic_load(&r.calls), 0, "nothing was done");
    cr_assert_eq(atomic_load(&C->pre_calls), 0);
    /* Still pended: a correct resume completes it exactly once. */
    cr_assert_eq(flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
    tassert_quiet(true);
}

/* An operation issued untimed (the harness's latency-every) reads no clock:
 * its times stay 0 through the pend and the completion; a timed one has
 * both stamps, in order. */
Test(pend, untimed_operation_keeps_its_times_zero)
{
    setup3(0);
    for (int untimed = 0; untimed <= 1; untimed++) {
        struct treq r = { 0 };
        struct flt_op_desc d = tdesc(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_READ, 0, &r);
        d.untimed = untimed;
        cr_assert_eq(flt_issue(T.vol, &d, NULL), STATUS_PENDING);
        struct flt_callback_data *data = atomic_load(&P->last_pre_data);
        cr_assert_eq(tcomplete(data, STATUS_SUCCESS, 0), STATUS_SUCCESS);
        cr_assert_eq(atomic_load(&r.calls), 1);
        if (untimed) {
            cr_expect_eq(r.times.t_issue, 0);
            cr_expect_eq(r.times.t_complete, 0);
        } else {
            cr_expect_gt(r.times.t_issue, 0);
            cr_expect_geq(r.times.t_complete, r.times.t_issue);
        }
        cr_expect_eq(r.times.t_dequeue, 0, "no worker ran it");
    }
    tassert_quiet(false);
}

Test(pend, PEND1_resume_with_pending_is_verifier_error)
{
    pend1_refused(FLT_PREOP_PENDING, NULL);
}

Test(pend, PEND1_resume_with_synchronize_is_verifier_error)
{
    pend1_refused(FLT_PREOP_SYNCHRONIZE, NULL);
}

Test(pend, PEND1_resume_with_disallow_fastio_is_verifier_error)
{
    pend1_refused(FLT_PREOP_DISALLOW_FASTIO, NULL);
}

Test(pend, PEND1_resume_no_callback_with_context_is_verifier_error)
{
    pend1_refused(FLT_PREOP_SUCCESS_NO_CALLBACK, &ctx_p);
}

Test(pend, PEND1_resume_complete_with_context_is_verifier_error)
{
    pend1_refused(FLT_PREOP_COMPLETE, &ctx_p);
}

/* ---- PEND2 ---------------------------------------------------------------- */

Test(pend, PEND2_complete_at_dispatch_is_allowed)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    cr_assert_eq(old, PASSIVE_LEVEL);
    NTSTATUS s = tcomplete(d, STATUS_SUCCESS, 0);
    ke_lower_irql(old);
    cr_assert_eq(s, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.irql, DISPATCH_LEVEL, "completion ran in the caller, at its IRQL");
    cr_assert_eq(ke_get_current_irql(), PASSIVE_LEVEL);
    tassert_quiet(false);
}

Test(pend, PEND2_no_callback_at_apc_is_allowed)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    KIRQL old = ke_raise_irql(APC_LEVEL);
    NTSTATUS s = flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    ke_lower_irql(old);
    cr_assert_eq(s, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

static void pend2_refused(FLT_PREOP_CALLBACK_STATUS st, void *ctx)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    NTSTATUS s = flt_complete_pended_preop(d, st, ctx);
    ke_lower_irql(old);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND2"), 1, "PEND2 count %llu",
                 (unsigned long long)flt_verifier_count(T.model, "PEND2"));
    cr_assert_eq(atomic_load(&r.calls), 0, "nothing was done");
    cr_assert_eq(flt_complete_pended_preop(d, st, ctx), STATUS_SUCCESS, "fine at PASSIVE");
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

Test(pend, PEND2_no_callback_at_dispatch_is_verifier_error)
{
    pend2_refused(FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

Test(pend, PEND2_with_callback_at_dispatch_is_verifier_error)
{
    pend2_refused(FLT_PREOP_SUCCESS_WITH_CALLBACK, &ctx_p);
}

/* ---- PEND3 ---------------------------------------------------------------- */

/* Completed from inside the pre-op, before it returns PENDING. */
static _Atomic int pre_returned;
static int calls_seen_in_pre = -1;
static NTSTATUS early_complete_ret = -1;
static struct treq *pend3_req;

static FLT_PREOP_CALLBACK_STATUS pre_complete_then_pend(struct tf *f, struct flt_callback_data *d,
                                                        void **ctx)
{
    early_complete_ret = tcomplete(d, STATUS_SUCCESS, 21);
    calls_seen_in_pre = atomic_load(&pend3_req->calls);
    *ctx = NULL;
    atomic_store(&pre_returned, 1);
    return FLT_PREOP_PENDING;
}

Test(pend, PEND3_complete_before_pre_op_returns_pending_same_thread)
{
    setup3(0);
    P->pre_hook = pre_complete_then_pend;
    struct treq r = { 0 };
    pend3_req = &r;
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(early_complete_ret, STATUS_SUCCESS);
    cr_assert_eq(calls_seen_in_pre, 0, "not resumed before the pre-op returned");
    cr_assert_eq(atomic_load(&r.calls), 1, "resumed exactly once after both");
    cr_assert_eq(r.status, STATUS_SUCCESS);
    cr_assert_eq(r.info, 21);
    cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&A->post_calls), 1);
    cr_assert_eq(tcounters().resumed, 1);
    tassert_quiet(false);
}

/* The worker was faster: it completes while the pre-op is still running. */
static _Atomic int worker_completed;
static _Atomic int calls_at_worker = -1;
static NTSTATUS worker_complete_ret = -1;

static void fast_worker(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                        void *ctx)
{
    struct treq *r = ctx;
    worker_complete_ret = tcomplete(d, STATUS_SUCCESS, 33);
    atomic_store(&calls_at_worker, atomic_load(&r->calls));
    flt_free_deferred_io_work_item(item);
    atomic_store_explicit(&worker_completed, 1, memory_order_release);
}

static FLT_PREOP_CALLBACK_STATUS pre_queue_wait_then_pend(struct tf *f, struct flt_callback_data *d,
                                                          void **ctx)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    cr_assert_eq(flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, fast_worker, pend3_req),
                 STATUS_SUCCESS);
    twait_atomic(&worker_completed, 1, 5000);
    calls_seen_in_pre = atomic_load(&pend3_req->calls);
    *ctx = NULL;
    atomic_store(&pre_returned, 1);
    return FLT_PREOP_PENDING;
}

Test(pend, PEND3_worker_completes_before_pre_op_returns)
{
    setup3(1);
    P->pre_hook = pre_queue_wait_then_pend;
    struct treq r = { 0 };
    pend3_req = &r;
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(atomic_load(&worker_completed), 1);
    cr_assert_eq(worker_complete_ret, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&calls_at_worker), 0, "not resumed inside the worker's call");
    cr_assert_eq(calls_seen_in_pre, 0);
    cr_assert(twait_atomic(&r.calls, 1, 5000));
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.info, 33);
    cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    tsleep_ms(5);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

/* The canceller was faster: the routine is set, a cancel takes it and its
 * callback completes with STATUS_CANCELLED, all before the pre-op returns
 * PENDING. The requester must see the callback's status. */
static flt_op_handle pend3_self;
static bool pend3_cancel_took;
static FLT_PREOP_CALLBACK_STATUS pre_set_cancel_then_pend(struct tf *f, struct flt_callback_data *d,
                                                          void **ctx)
{
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    pend3_self = flt_weak_handle(d);
    pend3_cancel_took = io_cancel_irp(pend3_self);
    calls_seen_in_pre = atomic_load(&pend3_req->calls);
    *ctx = NULL;
    return FLT_PREOP_PENDING;
}

Test(pend, PEND3_cancel_callback_completes_before_pre_op_returns)
{
    setup3(0);
    P->pre_hook = pre_set_cancel_then_pend;
    struct treq r = { 0 };
    pend3_req = &r;
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert(pend3_cancel_took);
    cr_assert_eq(atomic_load(&TC.calls), 1);
    cr_assert_eq(TC.complete_ret, STATUS_SUCCESS);
    cr_assert_eq(calls_seen_in_pre, 0, "not resumed before the pre-op returned");
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED, "the callback's status, got 0x%08X",
                 (unsigned)r.status);
    cr_assert_eq(r.info, 0);
    cr_assert(s == STATUS_PENDING || s == STATUS_CANCELLED, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&C->pre_calls), 0, "a cancelled op does not go down");
    tassert_quiet(false);
}

/* ---- PEND4 ---------------------------------------------------------------- */

Test(pend, PEND4_complete_twice_is_refused)
{
    setup3(0);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pended(&r, &h);
    uint64_t id = d->op_id;
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 1), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    NTSTATUS s = tcomplete(d, STATUS_ACCESS_DENIED, 2);
    cr_assert(NT_ERROR(s), "second completion refused, got 0x%08X", (unsigned)s);
    tassert_named(s);
    cr_assert_eq(atomic_load(&r.calls), 1, "never reaches the requester twice");
    cr_assert_eq(r.status, STATUS_SUCCESS);
    cr_assert_eq(r.info, 1);
    cr_assert_eq(atomic_load(&A->post_calls), 1);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4"), 1);
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "PEND4");
    cr_assert_eq(v.op_id, id);
    cr_assert_eq(tcounters().double_complete_refused, 1);
    flt_release_handle(h);
    struct flt_invariants inv;
    flt_model_check(T.model, true, &inv);
    cr_assert_eq(inv.double_complete_refused, 1);
    cr_assert_eq(inv.in_flight, 0);
    cr_assert_eq(inv.completed, 1);
    tassert_quiet(true);
}

Test(pend, PEND4_complete_of_not_pended_op_is_refused)
{
    setup3(0);
    P->pre_hook = NULL;          /* passes through: completes synchronously */
    struct treq r = { 0 };
    flt_op_handle h;
    cr_assert_eq(tissue_read(&r, &h), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    struct flt_callback_data *d = h.data;
    cr_assert_not_null(d);
    NTSTATUS s = flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4"), 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 1, "not sent down again");
    flt_release_handle(h);
    tassert_quiet(true);
}

Test(pend, PEND4_complete_of_never_issued_data_is_refused)
{
    /* Callback data that was allocated but never issued is not pended. */
    setup3(0);
    P->pre_hook = NULL;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    struct flt_callback_data *fresh = NULL;
    cr_assert_eq(flt_allocate_callback_data(A->instance, IRP_MJ_READ, &fresh), STATUS_SUCCESS);
    NTSTATUS s = flt_complete_pended_preop(fresh, FLT_PREOP_COMPLETE, NULL);
    cr_assert(NT_ERROR(s), "never-issued data is not pended, got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4"), 1);
    flt_free_callback_data(fresh);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

/* ---- PEND5 ---------------------------------------------------------------- */

static _Atomic int pend5_runs;
static NTSTATUS pend5_ret = -1, pend5_ret2 = -1;
static void pend5_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                          void *ctx)
{
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    pend5_ret = flt_complete_pended_postop(d);
    ke_lower_irql(old);
    flt_free_deferred_io_work_item(item);
    atomic_fetch_add_explicit(&pend5_runs, 1, memory_order_release);
}

static FLT_POSTOP_CALLBACK_STATUS pend5_post(struct tf *f, struct flt_callback_data *d, void *ctx,
                                             uint32_t flags)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    cr_assert_eq(flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, pend5_routine, NULL),
                 STATUS_SUCCESS);
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

Test(pend, PEND5_complete_pended_postop_at_dispatch)
{
    tenv_setup_simple(1);
    A = tf_add("A", "300000", true);
    P = tf_add("P", "200000", true);
    P->post_hook = pend5_post;
    struct treq r = { 0 };
    flt_op_handle h;
    tissue_read(&r, &h);
    cr_assert(twait_atomic(&pend5_runs, 1, 5000));
    cr_assert(twait_atomic(&r.calls, 1, 5000));
    cr_assert_eq(pend5_ret, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&A->post_calls), 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
    /* A second resume of the post-op is refused. */
    pend5_ret2 = flt_complete_pended_postop(h.data);
    cr_assert(NT_ERROR(pend5_ret2), "got 0x%08X", (unsigned)pend5_ret2);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4") + flt_verifier_count(T.model, "PEND5"), 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(atomic_load(&A->post_calls), 1);
    flt_release_handle(h);
    tassert_quiet(true);
}

Test(pend, PEND5_complete_pended_postop_of_pended_preop_is_refused)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    NTSTATUS s = flt_complete_pended_postop(d);
    cr_assert(NT_ERROR(s), "not waiting in a post-op, got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4") + flt_verifier_count(T.model, "PEND5"), 1);
    cr_assert_eq(atomic_load(&r.calls), 0);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

/* ---- PEND6 ---------------------------------------------------------------- */

Test(pend, PEND6_completion_is_final_no_routine_not_pending)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_SUCCESS);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_neq(r.status, STATUS_PENDING);
    cr_assert_eq(tcounters().routine_left_set, 0);
    tassert_quiet(false);
}

Test(pend, PEND6_complete_with_routine_set_is_verifier_error)
{
    setup3(0);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pended(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    NTSTATUS s = tcomplete(d, STATUS_SUCCESS, 0);
    cr_assert(NT_ERROR(s), "refused, got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND6"), 1);
    cr_assert_eq(atomic_load(&r.calls), 0, "nothing was done");
    cr_assert_geq(tcounters().routine_left_set, 1);
    /* Nothing lost: the op is still cancelable through its routine. */
    cr_assert(io_cancel_irp(h));
    cr_assert_eq(atomic_load(&TC.calls), 1);
    cr_assert_eq(TC.complete_ret, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    flt_release_handle(h);
    struct flt_invariants inv;
    flt_model_check(T.model, true, &inv);
    cr_assert_eq(inv.in_flight, 0);
    cr_assert_eq(inv.outstanding_data, 0);
}

Test(pend, PEND6_resume_complete_with_status_pending_is_verifier_error)
{
    setup3(0);
    struct treq r = { 0 };
    struct flt_callback_data *d = pended(&r, NULL);
    NTSTATUS s = tcomplete(d, STATUS_PENDING, 0);
    cr_assert_eq(flt_verifier_count(T.model, "PEND6") + flt_verifier_count(T.model, "PRE1"), 1);
    if (NT_ERROR(s)) {
        /* Refused: nothing done, still pended. */
        cr_assert_eq(atomic_load(&r.calls), 0);
        cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
        cr_assert_eq(r.status, STATUS_SUCCESS);
    } else {
        /* Repaired: completed once, never with STATUS_PENDING. */
        cr_assert_eq(atomic_load(&r.calls), 1);
        cr_assert(NT_ERROR(r.status), "got 0x%08X", (unsigned)r.status);
        tassert_named(r.status);
    }
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}
