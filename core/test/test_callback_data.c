/* SPEC CD1-CD5: callback data. */
#include <string.h>

#include "test_support.h"

TestSuite(callback_data, .fini = tenv_fini, .timeout = 30);

Test(callback_data, CD1_constant_values)
{
    cr_assert_eq(FLTFL_CALLBACK_DATA_IRP_OPERATION, 0x1u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, 0x2u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION, 0x4u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_SYSTEM_BUFFER, 0x8u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_GENERATED_IO, 0x10000u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_REISSUED_IO, 0x20000u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_DRAINING_IO, 0x40000u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_POST_OPERATION, 0x80000u);
    cr_assert_eq(FLTFL_CALLBACK_DATA_DIRTY, 0x80000000u);
    cr_assert_eq(IRP_NOCACHE, 0x1u);
    cr_assert_eq(IRP_PAGING_IO, 0x2u);
    cr_assert_eq(IRP_SYNCHRONOUS_API, 0x4u);
    cr_assert_eq(IRP_SYNCHRONOUS_PAGING_IO, 0x40u);
    cr_assert_eq(IRP_MJ_CREATE, 0x00u);
    cr_assert_eq(IRP_MJ_CLOSE, 0x02u);
    cr_assert_eq(IRP_MJ_READ, 0x03u);
    cr_assert_eq(IRP_MJ_WRITE, 0x04u);
    cr_assert_eq(IRP_MJ_QUERY_INFORMATION, 0x05u);
    cr_assert_eq(IRP_MJ_SET_INFORMATION, 0x06u);
    cr_assert_eq(IRP_MJ_FLUSH_BUFFERS, 0x09u);
    cr_assert_eq(IRP_MJ_DIRECTORY_CONTROL, 0x0cu);
    cr_assert_eq(IRP_MJ_FILE_SYSTEM_CONTROL, 0x0du);
    cr_assert_eq(IRP_MJ_DEVICE_CONTROL, 0x0eu);
    cr_assert_eq(IRP_MJ_SHUTDOWN, 0x10u);
    cr_assert_eq(IRP_MJ_LOCK_CONTROL, 0x11u);
    cr_assert_eq(IRP_MJ_CLEANUP, 0x12u);
    cr_assert_eq(IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, 0xFFu);
    cr_assert_eq(IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION, 0xFEu);
    cr_assert_eq(IRP_MJ_ACQUIRE_FOR_MOD_WRITE, 0xFDu);
    cr_assert_eq(IRP_MJ_RELEASE_FOR_MOD_WRITE, 0xFCu);
    cr_assert_eq(IRP_MJ_ACQUIRE_FOR_CC_FLUSH, 0xFBu);
    cr_assert_eq(IRP_MJ_RELEASE_FOR_CC_FLUSH, 0xFAu);
    cr_assert_eq(IRP_MJ_QUERY_OPEN, 0xF9u);
    cr_assert_eq(IRP_MJ_VOLUME_MOUNT, 0xEDu);
    cr_assert_eq(IRP_MJ_VOLUME_DISMOUNT, 0xECu);
    cr_assert_eq(FLT_PREOP_SUCCESS_WITH_CALLBACK, 0);
    cr_assert_eq(FLT_PREOP_SUCCESS_NO_CALLBACK, 1);
    cr_assert_eq(FLT_PREOP_PENDING, 2);
    cr_assert_eq(FLT_PREOP_DISALLOW_FASTIO, 3);
    cr_assert_eq(FLT_PREOP_COMPLETE, 4);
    cr_assert_eq(FLT_PREOP_SYNCHRONIZE, 5);
    cr_assert_eq(FLT_PREOP_DISALLOW_FSFILTER_IO, 6);
    cr_assert_eq(FLT_POSTOP_FINISHED_PROCESSING, 0);
    cr_assert_eq(FLT_POSTOP_MORE_PROCESSING_REQUIRED, 1);
    cr_assert_eq(FLT_POSTOP_DISALLOW_FSFILTER_IO, 2);
    cr_assert_eq(SyncTypeOther, 0);
    cr_assert_eq(SyncTypeCreateSection, 1);
    cr_assert_eq(PASSIVE_LEVEL, 0);
    cr_assert_eq(APC_LEVEL, 1);
    cr_assert_eq(DISPATCH_LEVEL, 2);
}

static uint32_t type_flags(uint32_t f) { return f & FLTFL_CALLBACK_DATA_OPERATION_TYPE_MASK; }

Test(callback_data, CD1_exactly_one_operation_type_bit)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("A", "100000", false);
    struct treq r = { 0 };

    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(s, STATUS_SUCCESS);
    cr_assert_eq(type_flags(f->pre_flags_seen), FLTFL_CALLBACK_DATA_IRP_OPERATION);

    s = tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, &r, NULL);
    cr_assert_eq(s, STATUS_SUCCESS);
    cr_assert_eq(type_flags(f->pre_flags_seen), FLTFL_CALLBACK_DATA_FAST_IO_OPERATION);

    s = tissue(FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION, IRP_MJ_ACQUIRE_FOR_CC_FLUSH, 0, &r, NULL);
    cr_assert_eq(s, STATUS_SUCCESS);
    cr_assert_eq(type_flags(f->pre_flags_seen), FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION);
    cr_assert_eq(atomic_load(&r.calls), 3);
    tassert_quiet(false);
}

static bool g_is_irp, g_is_fast, g_is_fsf;
static FLT_PREOP_CALLBACK_STATUS pre_record_macros(struct tf *f, struct flt_callback_data *d,
                                                   void **ctx)
{
    g_is_irp = FLT_IS_IRP_OPERATION(d);
    g_is_fast = FLT_IS_FASTIO_OPERATION(d);
    g_is_fsf = FLT_IS_FS_FILTER_OPERATION(d);
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

Test(callback_data, CD1_is_operation_macros)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("A", "100000", false);
    f->pre_hook = pre_record_macros;
    struct treq r = { 0 };
    tissue_read(&r, NULL);
    cr_assert(g_is_irp);
    cr_assert_not(g_is_fast);
    cr_assert_not(g_is_fsf);
    tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_WRITE, 0, &r, NULL);
    cr_assert_not(g_is_irp);
    cr_assert(g_is_fast);
    cr_assert_not(g_is_fsf);
    tissue(FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION, IRP_MJ_ACQUIRE_FOR_MOD_WRITE, 0, &r, NULL);
    cr_assert_not(g_is_irp);
    cr_assert_not(g_is_fast);
    cr_assert(g_is_fsf);
}

Test(callback_data, CD1_issue_with_no_or_two_type_bits_refused)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("A", "100000", false);
    struct treq r = { 0 };
    NTSTATUS s = tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION | FLTFL_CALLBACK_DATA_FAST_IO_OPERATION,
                        IRP_MJ_READ, 0, &r, NULL);
    cr_assert(NT_ERROR(s), "two type bits must be refused, got 0x%08X", (unsigned)s);
    tassert_named(s);
    s = tissue(0, IRP_MJ_READ, 0, &r, NULL);
    cr_assert(NT_ERROR(s), "no type bit must be refused, got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&f->pre_calls), 0, "a refused operation reaches no filter");
    cr_assert_leq(atomic_load(&r.calls), 2);
    tassert_quiet(true);
}

static bool g_paging;
static FLT_PREOP_CALLBACK_STATUS pre_record_paging(struct tf *f, struct flt_callback_data *d,
                                                   void **ctx)
{
    g_paging = flt_is_paging_io(d);
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

Test(callback_data, CD2_paging_io_is_irp_with_paging_flag)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("A", "100000", false);
    f->pre_hook = pre_record_paging;
    struct treq r = { 0 };

    tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_READ, IRP_PAGING_IO, &r, NULL);
    cr_assert(g_paging, "IRP with IRP_PAGING_IO is paging I/O");
    tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_WRITE,
           IRP_PAGING_IO | IRP_SYNCHRONOUS_PAGING_IO | IRP_NOCACHE, &r, NULL);
    cr_assert(g_paging);
    tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_READ, IRP_NOCACHE | IRP_SYNCHRONOUS_API,
           &r, NULL);
    cr_assert_not(g_paging, "IRP without IRP_PAGING_IO is not paging I/O");
    tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_READ, IRP_SYNCHRONOUS_PAGING_IO, &r, NULL);
    cr_assert_not(g_paging, "SYNCHRONOUS_PAGING_IO alone is not IRP_PAGING_IO");
    tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, IRP_PAGING_IO, &r, NULL);
    cr_assert_not(g_paging, "fast I/O is never paging I/O");
    cr_assert_eq(atomic_load(&f->pre_calls), 5);
}

Test(callback_data, CD3_pool_exhaustion_refuses_and_keeps_in_flight)
{
    struct tenv_opts o = { .pool_capacity = 2 };
    tenv_setup(&o);
    struct tf *f = tf_add("P", "100000", false);
    f->pre_hook = tf_pre_pend;

    struct treq r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
    cr_assert_eq(tissue_read(&r1, NULL), STATUS_PENDING);
    struct flt_callback_data *d1 = atomic_load(&f->last_pre_data);
    cr_assert_eq(tissue_read(&r2, NULL), STATUS_PENDING);
    struct flt_callback_data *d2 = atomic_load(&f->last_pre_data);
    cr_assert_neq(d1, d2);
    uint64_t id1 = d1->op_id, id2 = d2->op_id;

    NTSTATUS s = tissue_read(&r3, NULL);
    cr_assert_eq(s, STATUS_INSUFFICIENT_RESOURCES, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&r3.calls), 0, "on_complete not called for a refused issue");
    cr_assert_eq(atomic_load(&f->pre_calls), 2);
    cr_assert_geq(tcounters().pool_exhausted, 1);

    /* Nothing in flight was lost or corrupted. */
    cr_assert_eq(d1->op_id, id1);
    cr_assert_eq(d2->op_id, id2);
    cr_assert_eq(d1->iopb->major_function, IRP_MJ_READ);
    cr_assert_eq(tcomplete(d1, STATUS_SUCCESS, 11), STATUS_SUCCESS);
    cr_assert_eq(tcomplete(d2, STATUS_ACCESS_DENIED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r1.calls), 1);
    cr_assert_eq(r1.status, STATUS_SUCCESS);
    cr_assert_eq(r1.info, 11);
    cr_assert_eq(r1.op_id, id1);
    cr_assert_eq(atomic_load(&r2.calls), 1);
    cr_assert_eq(r2.status, STATUS_ACCESS_DENIED);

    /* Capacity is back: issuing works again. */
    f->pre_hook = NULL;
    cr_assert_eq(tissue_read(&r3, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r3.calls), 1);
    tassert_quiet(false);
}

Test(callback_data, CD3_allocate_callback_data_exhausted_returns_null)
{
    struct tenv_opts o = { .pool_capacity = 1 };
    tenv_setup(&o);
    struct tf *f = tf_add("A", "100000", false);
    struct flt_callback_data *a = NULL, *b = (void *)1;
    cr_assert_eq(flt_allocate_callback_data(f->instance, IRP_MJ_READ, &a), STATUS_SUCCESS);
    cr_assert_not_null(a);
    NTSTATUS s = flt_allocate_callback_data(f->instance, IRP_MJ_READ, &b);
    cr_assert_eq(s, STATUS_INSUFFICIENT_RESOURCES, "got 0x%08X", (unsigned)s);
    cr_assert_null(b, "*out is NULL on failure");
    cr_assert_eq(a->iopb->major_function, IRP_MJ_READ, "the first one is intact");
    flt_free_callback_data(a);
    cr_assert_eq(flt_allocate_callback_data(f->instance, IRP_MJ_WRITE, &b), STATUS_SUCCESS);
    cr_assert_not_null(b);
    flt_free_callback_data(b);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
}

/* CD4: a filter may change the parameters, IoStatus (when it may, PRE8)
 * and DIRTY; the FS sees the changed parameters. */
static FLT_PREOP_CALLBACK_STATUS pre_change_params(struct tf *f, struct flt_callback_data *d,
                                                   void **ctx)
{
    d->iopb->parameters.read.length = 100;
    d->flags |= FLTFL_CALLBACK_DATA_DIRTY;
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

Test(callback_data, CD4_parameters_and_dirty_are_the_filters)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("A", "100000", false);
    f->pre_hook = pre_change_params;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
    cr_assert_eq(r.info, 100, "the FS read the length the filter set (info %llu)",
                 (unsigned long long)r.info);
    cr_assert_eq(flt_verifier_count(T.model, "CD4"), 0);
    tassert_quiet(false);
}

static FLT_PREOP_CALLBACK_STATUS pre_change_major(struct tf *f, struct flt_callback_data *d,
                                                  void **ctx)
{
    d->iopb->major_function = IRP_MJ_WRITE;
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static FLT_PREOP_CALLBACK_STATUS pre_change_type(struct tf *f, struct flt_callback_data *d,
                                                 void **ctx)
{
    d->flags = (d->flags & ~FLTFL_CALLBACK_DATA_IRP_OPERATION) | FLTFL_CALLBACK_DATA_FAST_IO_OPERATION;
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

static void cd4_negative(tf_pre_fn hook)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("A", "200000", false);
    struct tf *g = tf_add("B", "100000", false);
    f->pre_hook = hook;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "CD4"), 1, "CD4 count %llu",
                 (unsigned long long)flt_verifier_count(T.model, "CD4"));
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "CD4");
    /* A pre-op's return is not a call the filter makes: the model may
     * repair the op (restore the fields) or fail it; either way once. */
    cr_assert_neq(s, STATUS_PENDING);
    tassert_named(s);
    cr_assert_eq(atomic_load(&r.calls), 1, "completed exactly once");
    cr_assert_eq(r.status, s);
    (void)g;
    tassert_quiet(true);
}

Test(callback_data, CD4_changing_major_function_is_a_verifier_error)
{
    cd4_negative(pre_change_major);
}

Test(callback_data, CD4_changing_operation_type_is_a_verifier_error)
{
    cd4_negative(pre_change_type);
}

/* CD5 / CAN10: a handle names data plus generation; after the data is
 * completed and reused, the handle is refused and the new operation is
 * untouched. pool_capacity 1 forces the reuse of the same block. */
Test(callback_data, CD5_stale_weak_handle_refused_after_reuse)
{
    struct tenv_opts o = { .pool_capacity = 1 };
    tenv_setup(&o);
    cr_assert(flt_model_pool_type_stable(T.model), "default pool is type-stable");
    struct tf *f = tf_add("P", "100000", false);
    f->pre_hook = tf_pre_pend;

    struct treq r1 = { 0 }, r2 = { 0 };
    cr_assert_eq(tissue_read(&r1, NULL), STATUS_PENDING);
    struct flt_callback_data *d1 = atomic_load(&f->last_pre_data);
    flt_op_handle weak = flt_weak_handle(d1);
    cr_assert_eq(weak.data, d1);
    cr_assert_not(weak.pinned);
    cr_assert_eq(flt_set_cancel_completion(d1, tcancel_cb), STATUS_SUCCESS);
    cr_assert_eq(flt_clear_cancel_completion(d1), STATUS_SUCCESS);
    cr_assert_eq(tcomplete(d1, STATUS_SUCCESS, 1), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r1.calls), 1);

    /* Reuse: capacity 1, so the next op gets the same block. */
    cr_assert_eq(tissue_read(&r2, NULL), STATUS_PENDING);
    struct flt_callback_data *d2 = atomic_load(&f->last_pre_data);
    cr_assert_eq(d2, d1, "capacity 1 reuses the block");
    cr_assert_eq(flt_set_cancel_completion(d2, tcancel_cb), STATUS_SUCCESS);

    flt_op_handle fresh = flt_weak_handle(d2);
    cr_assert_neq(fresh.generation, weak.generation, "reuse bumps the generation");

    cr_assert_eq(io_cancel_irp_ex(weak), FLT_CANCEL_LATE);
    cr_assert_not(io_cancel_irp(weak));
    cr_assert_not(flt_is_io_canceled(d2), "the stale cancel did not reach the new op");
    cr_assert_eq(atomic_load(&TC.calls), 0, "the new op's routine was not called");
    cr_assert_eq(atomic_load(&r2.calls), 0);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.cancel_late, 2);
    cr_assert_eq(c.cancel_won, 0);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0, "late is not an error (CAN10)");

    /* The new op still works normally. */
    cr_assert_eq(flt_clear_cancel_completion(d2), STATUS_SUCCESS);
    cr_assert_eq(tcomplete(d2, STATUS_SUCCESS, 2), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r2.calls), 1);
    cr_assert_eq(r2.info, 2);
    tassert_quiet(false);
}

Test(callback_data, CD5_reference_op_on_completed_data_is_empty)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("P", "100000", false);
    f->pre_hook = tf_pre_pend;
    struct treq r = { 0 };
    flt_op_handle h;
    cr_assert_eq(tissue_read(&r, &h), STATUS_PENDING);
    cr_assert(h.pinned);
    struct flt_callback_data *d = atomic_load(&f->last_pre_data);
    cr_assert_eq(h.data, d);

    flt_op_handle h2 = flt_reference_op(d);
    cr_assert_eq(h2.data, d, "a live op can be referenced");
    cr_assert(h2.pinned);
    cr_assert_eq(h2.generation, h.generation);

    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    flt_op_handle h3 = flt_reference_op(d);
    cr_assert_null(h3.data, "no new reference on completed data");
    flt_op_handle h4 = flt_reference_op(NULL);
    cr_assert_null(h4.data);

    /* Pinned handles keep the data out of the pool until released. */
    cr_assert_eq(flt_model_outstanding(T.model), 1);
    flt_release_handle(h2);
    cr_assert_eq(flt_model_outstanding(T.model), 1);
    flt_release_handle(h);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
    flt_release_handle(h3);   /* empty: no-op */
    tassert_quiet(false);
}

Test(callback_data, CD5_pinned_handle_blocks_reuse)
{
    struct tenv_opts o = { .pool_capacity = 1 };
    tenv_setup(&o);
    struct tf *f = tf_add("A", "100000", false);
    struct treq r1 = { 0 }, r2 = { 0 };
    flt_op_handle h;
    cr_assert_eq(tissue_read(&r1, &h), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r1.calls), 1);
    cr_assert_not_null(h.data);
    /* The pin holds the only block: the pool is exhausted. */
    cr_assert_eq(tissue_read(&r2, NULL), STATUS_INSUFFICIENT_RESOURCES);
    cr_assert_eq(io_cancel_irp_ex(h), FLT_CANCEL_LATE);
    flt_release_handle(h);
    cr_assert_eq(tissue_read(&r2, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r2.calls), 1);
    cr_assert_eq(atomic_load(&f->pre_calls), 2);
    tassert_quiet(false);
}
