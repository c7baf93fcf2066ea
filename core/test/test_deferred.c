/* SPEC DQ1-DQ4: deferred work items. */
#include <string.h>

#include "test_support.h"

TestSuite(deferred, .fini = tenv_fini, .timeout = 30);

Test(deferred, DQ1_allocate_and_free)
{
    tenv_setup_simple(0);
    enum { N = 64 };
    struct flt_deferred_io_workitem *items[N];
    for (int i = 0; i < N; i++) {
        items[i] = flt_allocate_deferred_io_work_item();
        cr_assert_not_null(items[i], "allocation %d failed", i);
        for (int j = 0; j < i; j++)
            cr_assert_neq(items[i], items[j], "the same item handed out twice");
    }
    for (int i = 0; i < N; i++)
        flt_free_deferred_io_work_item(items[i]);
    /* Freed items can be allocated again. */
    struct flt_deferred_io_workitem *again = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(again);
    flt_free_deferred_io_work_item(again);
    tassert_quiet(false);
}

/* ---- routines ---------------------------------------------------------------- */

struct run_record {
    _Atomic int runs;
    pthread_t thread;
    KIRQL irql;
    struct flt_deferred_io_workitem *item;
    struct flt_callback_data *data;
    void *ctx;
    unsigned locks_held;
};
static struct run_record RR;

static void complete_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                             void *ctx)
{
    RR.thread = pthread_self();
    RR.irql = ke_get_current_irql();
    RR.item = item;
    RR.data = d;
    RR.ctx = ctx;
    RR.locks_held = pb_locks_held;
    d->io_status.status = STATUS_SUCCESS;
    d->io_status.information = 123;
    flt_complete_pended_preop(d, FLT_PREOP_COMPLETE, NULL);
    flt_free_deferred_io_work_item(item);
    atomic_fetch_add_explicit(&RR.runs, 1, memory_order_release);
}

static int ctx_token;
static WORK_QUEUE_TYPE queue_type = DelayedWorkQueue;
static NTSTATUS queue_ret = -1;
static KIRQL queue_irql = PASSIVE_LEVEL;

static FLT_PREOP_CALLBACK_STATUS pre_queue(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    KIRQL old = ke_raise_irql(queue_irql);
    queue_ret = flt_queue_deferred_io_work_item(item, d, queue_type, complete_routine, &ctx_token);
    ke_lower_irql(old);
    *ctx = NULL;
    if (queue_ret != STATUS_SUCCESS) {
        flt_free_deferred_io_work_item(item);
        d->io_status.status = queue_ret;
        d->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_PENDING;
}

/* ---- DQ2 ------------------------------------------------------------------ */

Test(deferred, DQ2_queue_irp_op_succeeds_both_queue_types)
{
    tenv_setup_simple(1);
    struct tf *f = tf_add("Q", "100000", false);
    f->pre_hook = pre_queue;
    struct treq r1 = { 0 }, r2 = { 0 };
    /* The worker may complete before the pre-op returns (PEND3): then
     * flt_issue already has the final status. */
    queue_type = CriticalWorkQueue;
    NTSTATUS s = tissue_read(&r1, NULL);
    cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    cr_assert_eq(queue_ret, STATUS_SUCCESS);
    queue_type = DelayedWorkQueue;
    queue_ret = -1;
    s = tissue_read(&r2, NULL);
    cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    cr_assert_eq(queue_ret, STATUS_SUCCESS);
    cr_assert(twait_atomic(&r1.calls, 1, 5000));
    cr_assert(twait_atomic(&r2.calls, 1, 5000));
    cr_assert(twait_atomic(&RR.runs, 2, 5000));
    cr_assert_eq(r1.info, 123);
    cr_assert_eq(r2.info, 123);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.workitems_queued, 2);
    /* The worker counts a run after its routine returns: wait for it (a
     * fixed 5 ms sleep was too short under TSan on a loaded machine). */
    for (int ms = 0; ms < 5000 && tcounters().workitems_run < 2; ms++)
        tsleep_ms(1);
    cr_assert_eq(tcounters().workitems_run, 2);
    tassert_quiet(false);
}

static void dq2_refused(uint32_t type, uint8_t major, uint32_t irp_flags, WORK_QUEUE_TYPE qt,
                        NTSTATUS expected)
{
    tenv_setup_simple(1);
    struct tf *f = tf_add("Q", "100000", false);
    f->pre_hook = pre_queue;
    queue_type = qt;
    struct treq r = { 0 };
    NTSTATUS s = tissue(type, major, irp_flags, &r, NULL);
    cr_assert_eq(queue_ret, expected, "queue returned 0x%08X", (unsigned)queue_ret);
    cr_assert_eq(s, expected, "the filter completed with the refusal");
    cr_assert_eq(atomic_load(&r.calls), 1);
    tsleep_ms(20);
    cr_assert_eq(atomic_load(&RR.runs), 0, "a refused item never runs");
    cr_assert_eq(tcounters().workitems_queued, 0);
    tassert_quiet(true);
}

Test(deferred, DQ2_paging_io_not_safe_to_post)
{
    dq2_refused(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_WRITE, IRP_PAGING_IO, DelayedWorkQueue,
                STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
}

Test(deferred, DQ2_fast_io_not_safe_to_post)
{
    dq2_refused(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, DelayedWorkQueue,
                STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
}

Test(deferred, DQ2_fs_filter_op_not_safe_to_post)
{
    dq2_refused(FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION, IRP_MJ_ACQUIRE_FOR_CC_FLUSH, 0,
                DelayedWorkQueue, STATUS_FLT_NOT_SAFE_TO_POST_OPERATION);
}

Test(deferred, DQ2_hypercritical_queue_is_invalid_parameter)
{
    dq2_refused(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_READ, 0, HyperCriticalWorkQueue,
                STATUS_INVALID_PARAMETER);
}

/* While the instance is being torn down (a work item of it is still
 * running inside flt_detach_instance), new items for it are refused. */
static _Atomic int detach_started;
static NTSTATUS dq2_second_ret = -1;
static struct flt_callback_data *dq2_other;
static _Atomic int dq2_done;
static _Atomic int noop_runs;

static void noop_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                         void *ctx)
{
    flt_free_deferred_io_work_item(item);
    atomic_fetch_add(&noop_runs, 1);
}

static void teardown_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                             void *ctx)
{
    twait_atomic(&detach_started, 1, 5000);
    tsleep_ms(100);   /* flt_detach_instance is now waiting for this item */
    struct flt_deferred_io_workitem *it2 = flt_allocate_deferred_io_work_item();
    dq2_second_ret = flt_queue_deferred_io_work_item(it2, dq2_other, DelayedWorkQueue,
                                                     noop_routine, NULL);
    if (dq2_second_ret != STATUS_SUCCESS)
        flt_free_deferred_io_work_item(it2);
    tcomplete(dq2_other, STATUS_SUCCESS, 0);
    tcomplete(d, STATUS_SUCCESS, 0);
    flt_free_deferred_io_work_item(item);
    atomic_store(&dq2_done, 1);
}

static FLT_PREOP_CALLBACK_STATUS pre_teardown(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    *ctx = NULL;
    if (!dq2_other) {
        dq2_other = d;      /* first op: just pended */
        return FLT_PREOP_PENDING;
    }
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_eq(flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, teardown_routine, NULL),
                 STATUS_SUCCESS);
    return FLT_PREOP_PENDING;
}

Test(deferred, DQ2_instance_being_torn_down_deleting_object)
{
    tenv_setup_simple(1);
    struct tf *f = tf_add("Q", "100000", false);
    f->pre_hook = pre_teardown;
    struct treq r1 = { 0 }, r2 = { 0 };
    cr_assert_eq(tissue_read(&r1, NULL), STATUS_PENDING);
    cr_assert_eq(tissue_read(&r2, NULL), STATUS_PENDING);
    atomic_store(&detach_started, 1);
    cr_assert_eq(flt_detach_instance(f->instance), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&dq2_done), 1, "detach returned before its queued item ran (DQ4)");
    cr_assert_eq(dq2_second_ret, STATUS_FLT_DELETING_OBJECT, "got 0x%08X",
                 (unsigned)dq2_second_ret);
    cr_assert(twait_atomic(&r1.calls, 1, 5000));
    cr_assert(twait_atomic(&r2.calls, 1, 5000));
    cr_assert_eq(atomic_load(&r1.calls), 1);
    cr_assert_eq(atomic_load(&r2.calls), 1);
    tsleep_ms(10);
    cr_assert_eq(atomic_load(&noop_runs), 0);
    tassert_quiet(false);
}

Test(deferred, DQ2_queue_with_null_routine_is_refused)
{
    tenv_setup_simple(1);
    struct tf *f = tf_add("P", "100000", false);
    f->pre_hook = tf_pre_pend;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    struct flt_callback_data *d = atomic_load(&f->last_pre_data);
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    NTSTATUS s = flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, NULL, NULL);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    s = flt_queue_deferred_io_work_item(NULL, d, DelayedWorkQueue, noop_routine, NULL);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    flt_free_deferred_io_work_item(item);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

/* ---- DQ3 ------------------------------------------------------------------ */

Test(deferred, DQ3_routine_runs_once_in_worker_at_passive)
{
    tenv_setup_simple(1);
    struct tf *f = tf_add("Q", "100000", false);
    f->pre_hook = pre_queue;
    queue_irql = DISPATCH_LEVEL;   /* queued at DISPATCH: allowed (IRQL1) */
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    cr_assert_eq(queue_ret, STATUS_SUCCESS);
    cr_assert(twait_atomic(&RR.runs, 1, 5000));
    cr_assert(twait_atomic(&r.calls, 1, 5000));
    cr_assert_eq(RR.irql, PASSIVE_LEVEL);
    cr_assert_not(pthread_equal(RR.thread, T.main_thread), "runs in a worker thread");
    cr_assert_eq(RR.ctx, &ctx_token);
    cr_assert_eq(RR.data, r.data);
    cr_assert_not_null(RR.item);
    cr_assert_eq(RR.locks_held, 0);
    if (s == STATUS_PENDING)   /* else the pre-op returned last and resumed it (PEND3) */
        cr_assert(pthread_equal(r.thread, RR.thread), "completed in the worker");
    tsleep_ms(20);
    cr_assert_eq(atomic_load(&RR.runs), 1, "once");
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

/* ---- DQ4 ------------------------------------------------------------------ */

static _Atomic int dq4_runs;
static void dq4_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                        void *ctx)
{
    tsleep_ms(2);
    tcomplete(d, STATUS_SUCCESS, 0);
    flt_free_deferred_io_work_item(item);
    atomic_fetch_add_explicit(&dq4_runs, 1, memory_order_release);
}

static FLT_PREOP_CALLBACK_STATUS pre_dq4(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_eq(flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, dq4_routine, NULL),
                 STATUS_SUCCESS);
    *ctx = NULL;
    return FLT_PREOP_PENDING;
}

enum { DQ4_N = 20 };

Test(deferred, DQ4_detach_drains_queued_items)
{
    tenv_setup_simple(1);
    struct tf *f = tf_add("Q", "100000", false);
    f->pre_hook = pre_dq4;
    struct treq r[DQ4_N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < DQ4_N; i++) {
        NTSTATUS s = tissue_read(&r[i], NULL);
        cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    }
    cr_assert_eq(flt_detach_instance(f->instance), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&dq4_runs), DQ4_N, "every queued item ran before detach returned");
    for (int i = 0; i < DQ4_N; i++)
        cr_assert_eq(atomic_load(&r[i].calls), 1);
    tsleep_ms(5);
    cr_assert_eq(atomic_load(&dq4_runs), DQ4_N, "and only once");
    /* Detach returns on the instance's count; the run is counted just
     * after it (deferred.c): wait for that, not a fixed time. */
    for (int ms = 0; ms < 5000 && tcounters().workitems_run < DQ4_N; ms++)
        tsleep_ms(1);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.workitems_queued, DQ4_N);
    cr_assert_eq(c.workitems_run, DQ4_N);
    tassert_quiet(false);
}

Test(deferred, DQ4_model_destroy_runs_queued_items)
{
    tenv_setup_simple(1);
    struct tf *f = tf_add("Q", "100000", false);
    f->pre_hook = pre_dq4;
    struct treq r[DQ4_N];
    memset(r, 0, sizeof r);
    for (int i = 0; i < DQ4_N; i++) {
        NTSTATUS s = tissue_read(&r[i], NULL);
        cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    }
    /* Destroy without detaching first: the model itself drains. */
    flt_model_destroy(T.model);
    T.model = NULL;
    cr_assert_eq(atomic_load(&dq4_runs), DQ4_N);
    for (int i = 0; i < DQ4_N; i++)
        cr_assert_eq(atomic_load(&r[i].calls), 1);
}
