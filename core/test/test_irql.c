/* SPEC IRQL1: the per-thread IRQL and each routine's documented maximum. */
#include <string.h>

#include "test_support.h"

TestSuite(irql, .fini = tenv_fini, .timeout = 30);

Test(irql, IRQL1_raise_lower_per_thread)
{
    tenv_setup_simple(0);
    cr_assert_eq(ke_get_current_irql(), PASSIVE_LEVEL, "PASSIVE by default");
    KIRQL old = ke_raise_irql(APC_LEVEL);
    cr_assert_eq(old, PASSIVE_LEVEL);
    cr_assert_eq(ke_get_current_irql(), APC_LEVEL);
    KIRQL old2 = ke_raise_irql(DISPATCH_LEVEL);
    cr_assert_eq(old2, APC_LEVEL);
    cr_assert_eq(ke_get_current_irql(), DISPATCH_LEVEL);
    ke_lower_irql(old2);
    cr_assert_eq(ke_get_current_irql(), APC_LEVEL);
    ke_lower_irql(old);
    cr_assert_eq(ke_get_current_irql(), PASSIVE_LEVEL);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
}

static KIRQL other_irql = 0xff;
static void *other_thread(void *arg)
{
    flt_thread_attach(T.model, 0);
    other_irql = ke_get_current_irql();
    return NULL;
}

Test(irql, IRQL1_irql_is_per_thread)
{
    tenv_setup_simple(0);
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    ke_lower_irql(old);
    cr_assert_eq(other_irql, PASSIVE_LEVEL, "another thread starts at PASSIVE");
}

Test(irql, IRQL1_raise_to_lower_level_is_verifier_error)
{
    tenv_setup_simple(0);
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    ke_raise_irql(APC_LEVEL);
    cr_assert_eq(flt_verifier_count(T.model, "IRQL1"), 1);
    cr_assert_eq(ke_get_current_irql(), DISPATCH_LEVEL, "the bad raise did nothing");
    ke_lower_irql(old);
    cr_assert_eq(ke_get_current_irql(), PASSIVE_LEVEL);
}

static struct tf *P;
static struct flt_callback_data *pend(struct treq *r, flt_op_handle *h)
{
    tenv_setup_simple(0);
    P = tf_add("P", "100000", false);
    P->pre_hook = tf_pre_pend;
    cr_assert_eq(tissue_read(r, h), STATUS_PENDING);
    return atomic_load(&P->last_pre_data);
}

Test(irql, IRQL1_set_cancel_completion_at_dispatch_ok_above_refused)
{
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    KIRQL old = ke_raise_irql(HIGH_LEVEL);
    NTSTATUS s = flt_set_cancel_completion(d, tcancel_cb);
    ke_lower_irql(old);
    cr_assert(NT_ERROR(s), "above DISPATCH: refused, got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "IRQL1"), 1);
    cr_assert_eq(flt_clear_cancel_completion(d), STATUS_CANCELLED, "nothing was set");
    old = ke_raise_irql(DISPATCH_LEVEL);
    s = flt_set_cancel_completion(d, tcancel_cb);
    NTSTATUS c = flt_clear_cancel_completion(d);
    ke_lower_irql(old);
    cr_assert_eq(s, STATUS_SUCCESS);
    cr_assert_eq(c, STATUS_SUCCESS);
    cr_assert_eq(flt_verifier_count(T.model, "IRQL1"), 1);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

Test(irql, IRQL1_canceled_callback_runs_at_cancellers_irql)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    bool took = io_cancel_irp(h);
    ke_lower_irql(old);
    cr_assert(took);
    cr_assert_eq(TC.irql, DISPATCH_LEVEL);
    cr_assert_eq(TC.complete_ret, STATUS_SUCCESS, "COMPLETE at DISPATCH is allowed (PEND2)");
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    flt_release_handle(h);
    tassert_quiet(false);
}

Test(irql, IRQL1_canceled_callback_at_apc)
{
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend(&r, &h);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    KIRQL old = ke_raise_irql(APC_LEVEL);
    cr_assert(io_cancel_irp(h));
    ke_lower_irql(old);
    cr_assert_eq(TC.irql, APC_LEVEL);
    flt_release_handle(h);
    tassert_quiet(false);
}

static void noop_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                         void *ctx)
{
}

Test(irql, IRQL1_queue_work_item_above_dispatch_refused)
{
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    KIRQL old = ke_raise_irql(HIGH_LEVEL);
    NTSTATUS s = flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, noop_routine, NULL);
    ke_lower_irql(old);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "IRQL1"), 1);
    cr_assert_eq(tcounters().workitems_queued, 0);
    flt_free_deferred_io_work_item(item);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    tassert_quiet(true);
}

Test(irql, IRQL1_allocate_callback_data_above_apc_refused)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("F", "100000", false);
    struct flt_callback_data *d = (void *)1;
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    NTSTATUS s = flt_allocate_callback_data(f->instance, IRP_MJ_READ, &d);
    ke_lower_irql(old);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_null(d);
    cr_assert_eq(flt_verifier_count(T.model, "IRQL1"), 1);
    old = ke_raise_irql(APC_LEVEL);
    s = flt_allocate_callback_data(f->instance, IRP_MJ_READ, &d);
    ke_lower_irql(old);
    cr_assert_eq(s, STATUS_SUCCESS, "APC_LEVEL is allowed");
    cr_assert_not_null(d);
    flt_free_callback_data(d);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
}

static _Atomic int async_calls;
static void async_cb(struct flt_callback_data *d, void *ctx) { atomic_fetch_add(&async_calls, 1); }

Test(irql, IRQL1_perform_async_io_only_at_passive)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("F", "100000", false);
    struct flt_callback_data *d = NULL;
    cr_assert_eq(flt_allocate_callback_data(f->instance, IRP_MJ_READ, &d), STATUS_SUCCESS);
    d->iopb->parameters.read.length = 16;
    KIRQL old = ke_raise_irql(APC_LEVEL);
    NTSTATUS s = flt_perform_asynchronous_io(d, async_cb, NULL);
    ke_lower_irql(old);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "IRQL1"), 1);
    cr_assert_eq(atomic_load(&async_calls), 0, "refused: no callback");
    cr_assert_eq(flt_perform_asynchronous_io(d, async_cb, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&async_calls), 1);
    flt_free_callback_data(d);
}

Test(irql, IRQL1_cancel_io_above_dispatch_refused)
{
    tenv_setup_simple(0);
    struct tf *i = tf_add("I", "200000", false);
    struct tf *l = tf_add("L", "100000", false);
    l->pre_hook = tf_pre_pend;
    struct flt_callback_data *d = NULL;
    cr_assert_eq(flt_allocate_callback_data(i->instance, IRP_MJ_READ, &d), STATUS_SUCCESS);
    cr_assert_eq(flt_perform_asynchronous_io(d, async_cb, NULL), STATUS_PENDING);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    KIRQL old = ke_raise_irql(HIGH_LEVEL);
    bool took = flt_cancel_io(d);
    ke_lower_irql(old);
    cr_assert_not(took, "refused above DISPATCH");
    cr_assert_eq(flt_verifier_count(T.model, "IRQL1"), 1);
    cr_assert_eq(atomic_load(&TC.calls), 0);
    old = ke_raise_irql(DISPATCH_LEVEL);
    took = flt_cancel_io(d);
    ke_lower_irql(old);
    cr_assert(took, "allowed at DISPATCH");
    cr_assert_eq(atomic_load(&TC.calls), 1);
    cr_assert_eq(atomic_load(&async_calls), 1);
    flt_free_callback_data(d);
}
