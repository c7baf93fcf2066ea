/* I/O a filter starts itself (SPEC ASYNC1, ASYNC2; CAN5 in cancel.c): the
 * filter allocates callback data, sends it to the instances below it and
 * the file system, and gets its callback exactly once. The filter owns the
 * data's reference until flt_free_callback_data. */
#include "internal.h"

NTSTATUS flt_allocate_callback_data(struct flt_instance *instance, uint8_t major_function,
                                    struct flt_callback_data **out)
{
    static const char routine[] = "flt_allocate_callback_data";
    if (!out)
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    if (!instance)
        return STATUS_INVALID_PARAMETER;
    struct flt_volume *vol = instance->volume;
    struct flt_model *m = vol->model;
    if (!flt_irql_at_most(m, APC_LEVEL, routine, NULL))
        return STATUS_INVALID_PARAMETER;
    struct flt_thread *t = flt_thread_ctx(m);
    struct flt_cbd *cbd = cbd_alloc(vol, t, 1);
    if (!cbd)
        return STATUS_INSUFFICIENT_RESOURCES;   /* CD3 */
    cbd_init_op(cbd, vol, FLTFL_CALLBACK_DATA_IRP_OPERATION, major_function);
    cbd->pub.flags |= FLTFL_CALLBACK_DATA_GENERATED_IO;
    cbd->allocated_by_filter = true;
    cbd->initiator = instance;
    cbd->async_cb = NULL;            /* set by flt_perform_asynchronous_io */
    cbd->async_ctx = NULL;
    cbd->iopb.irp_flags = 0;
    cbd->iopb.major_function = major_function;
    cbd->iopb.minor_function = 0;
    cbd->iopb.target_instance = instance;
    cbd->iopb.parameters = (union flt_parameters){ 0 };
    cbd->pub.op_id = ((uint64_t)t->index << 40) | ++t->op_seq;
    cbd->pub.times.t_issue = 0;
    *out = &cbd->pub;
    return STATUS_SUCCESS;
}

void flt_free_callback_data(struct flt_callback_data *data)
{
    if (!data)
        return;
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    if (!cbd->allocated_by_filter || !(s & ST_LIVE)) {
        flt_verifier_report_model(m, "ASYNC1", "flt_free_callback_data", data,
                                  "not callback data from flt_allocate_callback_data, or freed twice");
        return;
    }
    if ((s & ST_STARTED) && !(s & ST_COMPLETED)) {
        flt_verifier_report_model(m, "ASYNC1", "flt_free_callback_data", data,
                                  "the I/O is still in flight; not freed");
        return;
    }
    /* release: stale handles now fail their pin. */
    atomic_fetch_or_explicit(&cbd->state, ST_COMPLETED, memory_order_release);
    cbd_unpin_n(cbd, cbd_final_refs(cbd));    /* the filter's, and the item's spare */
}

NTSTATUS flt_perform_asynchronous_io(struct flt_callback_data *data,
                                     flt_completed_async_io_callback callback, void *context)
{
    static const char routine[] = "flt_perform_asynchronous_io";
    if (!data || !callback) {
        flt_verifier_report("ASYNC1", routine, data, "data and callback must not be NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    if (!flt_irql_at_most(m, PASSIVE_LEVEL, routine, data))
        return STATUS_INVALID_PARAMETER;
    if (!cbd->allocated_by_filter) {
        flt_verifier_report_model(m, "ASYNC1", routine, data,
                                  "only callback data from flt_allocate_callback_data");
        return STATUS_INVALID_PARAMETER;
    }
    if (cbd->iopb.major_function == IRP_MJ_CREATE)
        return STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST;
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    if (!(s & ST_LIVE) || ((s & ST_STARTED) && !(s & ST_COMPLETED))) {
        flt_verifier_report_model(m, "ASYNC1", routine, data,
                                  "the data is freed or its I/O is still in flight; refused");
        return STATUS_INVALID_PARAMETER;
    }
    /* A fresh operation on the same data: a new generation, so handles to
     * the previous use are stale (CD5). The filter's reference stays. */
    uint32_t gen = ST_GEN(s) + 1;
    if (gen == 0)
        gen = 1;
    uint8_t major = cbd->iopb.major_function;
    uint32_t flags = cbd->pub.flags;
    cbd_init_op(cbd, cbd->volume, FLTFL_CALLBACK_DATA_IRP_OPERATION, major);
    cbd->pub.flags = flags;
    cbd->allocated_by_filter = true;
    cbd->initiator = cbd->iopb.target_instance;
    cbd->async_cb = callback;
    cbd->async_ctx = context;
    cbd->pub.times.t_issue = m->now();
    /* New generation, STARTED, one more reference for this call (the
     * callback may free the data before we look at it again). CAS: a
     * stale handle may be pinning at the same time. release: the reset
     * operation before its new generation is seen. */
    uint64_t n;
    do {
        n = ((uint64_t)gen << 32) | ST_LIVE | ST_STARTED | ((s & ST_REF_MASK) + 1);
    } while (!atomic_compare_exchange_weak_explicit(&cbd->state, &s, n, memory_order_release,
                                                    memory_order_acquire));
    /* ASYNC2: only the instances below the initiator, then the FS. */
    NTSTATUS st = flt_dispatch_pre(cbd, cbd->initiator->slot + 1);
    if (st != STATUS_PENDING)
        st = cbd->reached_fs ? STATUS_SUCCESS : STATUS_FLT_IO_COMPLETE;
    cbd_unpin(cbd);
    return st;
}
