/* SPEC ASYNC1, ASYNC2: I/O a filter starts itself. */
#include <string.h>

#include "test_support.h"

TestSuite(async, .fini = tenv_fini, .timeout = 30);

struct arec {
    _Atomic int calls;
    NTSTATUS status;
    uint64_t info;
    void *ctx;
    struct flt_callback_data *data;
};
static struct arec AR;
static int actx;

static void adone(struct flt_callback_data *d, void *ctx)
{
    AR.status = d->io_status.status;
    AR.info = d->io_status.information;
    AR.ctx = ctx;
    AR.data = d;
    atomic_fetch_add(&AR.calls, 1);
}

/* T (top) > I (initiator) > B (below) */
static struct tf *Tt, *I, *B;
static void setup(void)
{
    tenv_setup_simple(0);
    Tt = tf_add("T", "300000", true);
    I = tf_add("I", "200000", true);
    B = tf_add("B", "100000", true);
}

static struct flt_callback_data *alloc_read(uint8_t major)
{
    struct flt_callback_data *d = NULL;
    cr_assert_eq(flt_allocate_callback_data(I->instance, major, &d), STATUS_SUCCESS);
    cr_assert_not_null(d);
    cr_assert(FLT_IS_IRP_OPERATION(d));
    cr_assert_eq(d->iopb->major_function, major);
    d->iopb->parameters.read.byte_offset = 0;
    d->iopb->parameters.read.length = 512;
    return d;
}

Test(async, ASYNC1_success_callback_already_called)
{
    setup();
    struct flt_callback_data *d = alloc_read(IRP_MJ_READ);
    NTSTATUS s = flt_perform_asynchronous_io(d, adone, &actx);
    cr_assert_eq(s, STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&AR.calls), 1, "callback ran before STATUS_SUCCESS returned");
    cr_assert_eq(AR.status, STATUS_SUCCESS);
    cr_assert_eq(AR.info, 512);
    cr_assert_eq(AR.ctx, &actx);
    cr_assert_eq(AR.data, d);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 1);
    flt_free_callback_data(d);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
}

Test(async, ASYNC1_pending_then_callback_once)
{
    setup();
    B->pre_hook = tf_pre_pend;
    struct flt_callback_data *d = alloc_read(IRP_MJ_READ);
    NTSTATUS s = flt_perform_asynchronous_io(d, adone, &actx);
    cr_assert_eq(s, STATUS_PENDING, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&AR.calls), 0);
    cr_assert_eq(atomic_load(&B->last_pre_data), d);
    cr_assert_eq(tcomplete(d, STATUS_ACCESS_DENIED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&AR.calls), 1);
    cr_assert_eq(AR.status, STATUS_ACCESS_DENIED, "also called on failure");
    cr_assert_eq(AR.ctx, &actx);
    flt_free_callback_data(d);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
}

Test(async, ASYNC1_lower_completes_flt_io_complete)
{
    setup();
    B->pre_ret = FLT_PREOP_COMPLETE;
    B->complete_status = STATUS_NOT_SUPPORTED;
    struct flt_callback_data *d = alloc_read(IRP_MJ_READ);
    NTSTATUS s = flt_perform_asynchronous_io(d, adone, &actx);
    cr_assert_eq(s, STATUS_FLT_IO_COMPLETE, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&AR.calls), 1);
    cr_assert_eq(AR.status, STATUS_NOT_SUPPORTED);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 0);
    flt_free_callback_data(d);
}

Test(async, ASYNC1_create_is_invalid_asynchronous_request)
{
    setup();
    struct flt_callback_data *d = alloc_read(IRP_MJ_CREATE);
    NTSTATUS s = flt_perform_asynchronous_io(d, adone, &actx);
    cr_assert_eq(s, STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&AR.calls), 0, "refused: the callback is not called");
    cr_assert_eq(atomic_load(&B->pre_calls), 0);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_CREATE), 0);
    flt_free_callback_data(d);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
}

Test(async, ASYNC1_cancelled_callback_once)
{
    setup();
    B->pre_hook = tf_pre_pend;
    struct flt_callback_data *d = alloc_read(IRP_MJ_READ);
    cr_assert_eq(flt_perform_asynchronous_io(d, adone, &actx), STATUS_PENDING);
    cr_assert_eq(flt_set_cancel_completion(d, tcancel_cb), STATUS_SUCCESS);
    cr_assert(flt_cancel_io(d));
    cr_assert_eq(atomic_load(&AR.calls), 1);
    cr_assert_eq(AR.status, STATUS_CANCELLED);
    flt_free_callback_data(d);
}

Test(async, ASYNC1_data_reusable_after_callback)
{
    setup();
    struct flt_callback_data *d = alloc_read(IRP_MJ_READ);
    cr_assert_eq(flt_perform_asynchronous_io(d, adone, &actx), STATUS_SUCCESS);
    d->iopb->parameters.read.length = 100;
    cr_assert_eq(flt_perform_asynchronous_io(d, adone, &actx), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&AR.calls), 2);
    cr_assert_eq(AR.info, 100);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 2);
    flt_free_callback_data(d);
}

Test(async, ASYNC1_reuse_while_in_flight_is_refused)
{
    setup();
    B->pre_hook = tf_pre_pend;
    struct flt_callback_data *d = alloc_read(IRP_MJ_READ);
    cr_assert_eq(flt_perform_asynchronous_io(d, adone, &actx), STATUS_PENDING);
    NTSTATUS s = flt_perform_asynchronous_io(d, adone, &actx);
    cr_assert(NT_ERROR(s), "data reused before its callback, got 0x%08X", (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "ASYNC1"), 1);
    cr_assert_eq(atomic_load(&B->pre_calls), 1);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&AR.calls), 1);
    flt_free_callback_data(d);
}

Test(async, ASYNC2_goes_only_below_the_initiator)
{
    setup();
    struct flt_callback_data *d = alloc_read(IRP_MJ_READ);
    cr_assert_eq(flt_perform_asynchronous_io(d, adone, &actx), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&Tt->pre_calls), 0, "not the instances above");
    cr_assert_eq(atomic_load(&I->pre_calls), 0, "not the initiator itself");
    cr_assert_eq(atomic_load(&B->pre_calls), 1);
    cr_assert_eq(atomic_load(&B->post_calls), 1);
    cr_assert_eq(atomic_load(&I->post_calls), 0);
    cr_assert_eq(atomic_load(&Tt->post_calls), 0);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 1);
    cr_assert_str_eq(tlog_str(), "pre:B post:B");
    flt_free_callback_data(d);
}

Test(async, ASYNC2_bottom_initiator_goes_straight_to_fs)
{
    tenv_setup_simple(0);
    struct tf *top = tf_add("T", "300000", true);
    I = tf_add("I", "100000", true);
    struct flt_callback_data *d = alloc_read(IRP_MJ_WRITE);
    cr_assert_eq(flt_perform_asynchronous_io(d, adone, &actx), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&top->pre_calls), 0);
    cr_assert_eq(atomic_load(&I->pre_calls), 0);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_WRITE), 1);
    cr_assert_str_eq(tlog_str(), "");
    flt_free_callback_data(d);
}
