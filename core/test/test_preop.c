/* SPEC PRE1-PRE8 (what a pre-op returns) and POST1, POST2. */
#include <string.h>

#include "test_support.h"

TestSuite(preop, .fini = tenv_fini, .timeout = 30);
TestSuite(postop, .fini = tenv_fini, .timeout = 30);

static int ctx_a, ctx_b, ctx_c;

/* Three filters A (top) > B > C (bottom), all with post-ops. */
static void three(struct tf **a, struct tf **b, struct tf **c)
{
    tenv_setup_simple(0);
    *b = tf_add("B", "200000", true);
    *a = tf_add("A", "300000", true);
    *c = tf_add("C", "100000", true);
    (*a)->pre_ctx = &ctx_a;
    (*b)->pre_ctx = &ctx_b;
    (*c)->pre_ctx = &ctx_c;
}

/* ---- PRE1 COMPLETE -------------------------------------------------------- */

Test(preop, PRE1_complete_stops_below_and_skips_own_post)
{
    struct tf *a, *b, *c;
    three(&a, &b, &c);
    b->pre_ret = FLT_PREOP_COMPLETE;
    b->pre_ctx = NULL;
    b->complete_status = STATUS_ACCESS_DENIED;
    b->complete_info = 5;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(s, STATUS_ACCESS_DENIED, "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_ACCESS_DENIED);
    cr_assert_eq(r.info, 5);
    cr_assert_eq(atomic_load(&c->pre_calls), 0, "filters below are not called");
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 0, "the FS is not called");
    cr_assert_eq(atomic_load(&b->post_calls), 0, "its own post-op is not called");
    cr_assert_eq(atomic_load(&a->post_calls), 1, "the post-ops above are called");
    cr_assert_eq(a->post_status_seen, STATUS_ACCESS_DENIED);
    cr_assert_eq(a->post_ctx_seen, &ctx_a);
    cr_assert_str_eq(tlog_str(), "pre:A pre:B post:A");
    tassert_quiet(false);
}

Test(preop, PRE1_complete_with_success_status)
{
    tenv_setup_simple(0);
    struct tf *a = tf_add("A", "100000", false);
    a->pre_ret = FLT_PREOP_COMPLETE;
    a->complete_status = STATUS_SUCCESS;
    a->complete_info = 77;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_eq(r.info, 77);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 0);
    tassert_quiet(false);
}

static void pre1_negative(uint8_t major, NTSTATUS st, void *ctx)
{
    tenv_setup_simple(0);
    struct tf *a = tf_add("A", "200000", true);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_ret = FLT_PREOP_COMPLETE;
    b->complete_status = st;
    b->pre_ctx = ctx;
    struct treq r = { 0 };
    NTSTATUS s = tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, major, 0, &r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE1"), 1, "PRE1 count %llu",
                 (unsigned long long)flt_verifier_count(T.model, "PRE1"));
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "PRE1");
    cr_assert_eq(v.major_function, major);
    cr_assert_neq(s, STATUS_PENDING, "the op is not left pending");
    if (st == STATUS_PENDING || st == STATUS_FLT_DISALLOW_FAST_IO)
        cr_assert_neq(s, st, "the forbidden status never reaches the requester");
    if (major == IRP_MJ_CLEANUP || major == IRP_MJ_CLOSE)
        cr_assert(s == STATUS_SUCCESS || s == st, "got 0x%08X", (unsigned)s);
    tassert_named(s);
    cr_assert_eq(atomic_load(&r.calls), 1, "completed exactly once");
    cr_assert_eq(r.status, s);
    cr_assert_neq(r.status, STATUS_PENDING, "PEND6: never completes with STATUS_PENDING");
    cr_assert_eq(atomic_load(&a->post_calls), 1);
    tassert_quiet(true);
}

Test(preop, PRE1_complete_with_status_pending_is_verifier_error)
{
    pre1_negative(IRP_MJ_READ, STATUS_PENDING, NULL);
}

Test(preop, PRE1_complete_with_disallow_fast_io_status_is_verifier_error)
{
    pre1_negative(IRP_MJ_READ, STATUS_FLT_DISALLOW_FAST_IO, NULL);
}

Test(preop, PRE1_cleanup_completed_with_error_is_verifier_error)
{
    pre1_negative(IRP_MJ_CLEANUP, STATUS_ACCESS_DENIED, NULL);
}

Test(preop, PRE1_close_completed_with_error_is_verifier_error)
{
    pre1_negative(IRP_MJ_CLOSE, STATUS_UNSUCCESSFUL, NULL);
}

Test(preop, PRE1_complete_with_completion_context_is_verifier_error)
{
    pre1_negative(IRP_MJ_READ, STATUS_SUCCESS, &ctx_a);
}

Test(preop, PRE1_cleanup_completed_with_success_is_fine)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_ret = FLT_PREOP_COMPLETE;
    b->complete_status = STATUS_SUCCESS;
    struct treq r = { 0 };
    cr_assert_eq(tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_CLEANUP, 0, &r, NULL),
                 STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

/* ---- PRE2 SUCCESS_NO_CALLBACK -------------------------------------------- */

Test(preop, PRE2_no_callback_passes_down_without_post)
{
    struct tf *a, *b, *c;
    three(&a, &b, &c);
    b->pre_ret = FLT_PREOP_SUCCESS_NO_CALLBACK;
    b->pre_ctx = NULL;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_eq(r.info, 4096, "FS completes a read with Information = length");
    cr_assert_eq(atomic_load(&c->pre_calls), 1);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 1);
    cr_assert_eq(atomic_load(&b->post_calls), 0, "no post-op for NO_CALLBACK");
    cr_assert_eq(atomic_load(&a->post_calls), 1);
    cr_assert_eq(atomic_load(&c->post_calls), 1);
    cr_assert_str_eq(tlog_str(), "pre:A pre:B pre:C post:C post:A");
    tassert_quiet(false);
}

Test(preop, PRE2_no_callback_with_context_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", true);
    b->pre_ret = FLT_PREOP_SUCCESS_NO_CALLBACK;
    b->pre_ctx = &ctx_b;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE2"), 1);
    cr_assert_neq(s, STATUS_PENDING);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, s);
    cr_assert_eq(atomic_load(&b->post_calls), 0);
    tassert_quiet(true);
}

/* ---- PRE3 SUCCESS_WITH_CALLBACK ------------------------------------------ */

Test(preop, PRE3_with_callback_post_gets_context)
{
    struct tf *a, *b, *c;
    three(&a, &b, &c);
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&b->post_calls), 1);
    cr_assert_eq(b->post_ctx_seen, &ctx_b);
    cr_assert_eq(a->post_ctx_seen, &ctx_a);
    cr_assert_eq(c->post_ctx_seen, &ctx_c);
    cr_assert_eq(b->post_status_seen, STATUS_SUCCESS);
    cr_assert_eq(b->post_flags_seen & FLTFL_POST_OPERATION_DRAINING, 0u);
    cr_assert_eq(b->fs_count_at_post, 1, "post-op after the FS");
    tassert_quiet(false);
}

Test(preop, PRE3_with_callback_without_post_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_ret = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE3"), 1);
    cr_assert_neq(s, STATUS_PENDING);
    cr_assert_eq(r.status, s);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

/* ---- PRE4 PENDING --------------------------------------------------------- */

Test(preop, PRE4_pending_holds_until_resumed)
{
    struct tf *a, *b, *c;
    three(&a, &b, &c);
    b->pre_hook = tf_pre_pend;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    cr_assert_eq(atomic_load(&r.calls), 0);
    cr_assert_eq(atomic_load(&c->pre_calls), 0);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 0);
    cr_assert_eq(atomic_load(&a->post_calls), 0);
    cr_assert_eq(tcounters().pended, 1);
    struct flt_callback_data *d = atomic_load(&b->last_pre_data);
    cr_assert_eq(flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL),
                 STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&c->pre_calls), 1);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 1);
    cr_assert_eq(atomic_load(&b->post_calls), 0);
    cr_assert_eq(atomic_load(&a->post_calls), 1);
    cr_assert_str_eq(tlog_str(), "pre:A pre:B pre:C post:C post:A");
    cr_assert_eq(tcounters().resumed, 1);
    tassert_quiet(false);
}

Test(preop, PRE4_pending_on_fast_io_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_hook = tf_pre_pend;
    struct treq r = { 0 };
    NTSTATUS s = tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, &r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE4"), 1);
    cr_assert_neq(s, STATUS_PENDING, "fast I/O cannot be left pending");
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

static FLT_PREOP_CALLBACK_STATUS pre_pend_with_ctx(struct tf *f, struct flt_callback_data *d,
                                                   void **ctx)
{
    *ctx = &ctx_b;
    return FLT_PREOP_PENDING;
}

Test(preop, PRE4_pending_with_context_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", true);
    b->pre_hook = pre_pend_with_ctx;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE4"), 1);
    if (s == STATUS_PENDING) {
        /* The model accepted the pend, ignoring the context: resume it. */
        cr_assert_eq(atomic_load(&r.calls), 0);
        tcomplete(atomic_load(&b->last_pre_data), STATUS_SUCCESS, 0);
    } else {
        cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    }
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

/* ---- PRE5 SYNCHRONIZE ----------------------------------------------------- */

Test(preop, PRE5_synchronize_post_in_issuing_thread_after_lower)
{
    struct tf *a, *b, *c;
    three(&a, &b, &c);
    b->pre_ret = FLT_PREOP_SYNCHRONIZE;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&b->post_calls), 1);
    cr_assert(pthread_equal(b->post_thread, pthread_self()));
    cr_assert_eq(b->fs_count_at_post, 1);
    cr_assert_eq(b->post_ctx_seen, &ctx_b);
    cr_assert_str_eq(tlog_str(), "pre:A pre:B pre:C post:C post:B post:A");
    tassert_quiet(false);
}

/* Lower filter C pends and a worker resumes it; B's SYNCHRONIZE post-op
 * must still run in the thread that issued the operation. */
static void resume_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                           void *ctx)
{
    tsleep_ms(20);
    flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    flt_free_deferred_io_work_item(item);
}

static FLT_PREOP_CALLBACK_STATUS pre_pend_and_queue(struct tf *f, struct flt_callback_data *d,
                                                    void **ctx)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    NTSTATUS s = flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, resume_routine, NULL);
    cr_assert_eq(s, STATUS_SUCCESS);
    *ctx = NULL;
    return FLT_PREOP_PENDING;
}

Test(preop, PRE5_synchronize_post_in_issuing_thread_when_lower_pends)
{
    tenv_setup_simple(1);
    struct tf *b = tf_add("B", "200000", true);
    struct tf *c = tf_add("C", "100000", false);
    b->pre_ret = FLT_PREOP_SYNCHRONIZE;
    b->pre_ctx = &ctx_b;
    c->pre_hook = pre_pend_and_queue;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert(twait_atomic(&b->post_calls, 1, 5000));
    cr_assert(pthread_equal(b->post_thread, T.main_thread),
              "SYNCHRONIZE post-op ran in another thread");
    cr_assert_eq(b->post_ctx_seen, &ctx_b);
    cr_assert_eq(b->fs_count_at_post, 1);
    cr_assert(twait_atomic(&r.calls, 1, 5000));
    cr_assert_eq(atomic_load(&r.calls), 1);
    if (s != STATUS_PENDING)
        cr_assert_eq(s, r.status);
    tassert_quiet(false);
}

/* B's SYNCHRONIZE, nothing below it pends (the file system completes in
 * the issuing thread), and A above posts its post-op to a worker
 * (MORE_PROCESSING_REQUIRED). The completion below used to run B's and
 * A's post-ops inline and return A's STATUS_PENDING to B's waiting frame,
 * which took it for "the levels below still pend" and waited for a gate
 * nobody would open: the issuing thread hung. */
static void post_resume_routine(struct flt_deferred_io_workitem *item,
                                struct flt_callback_data *d, void *ctx)
{
    flt_complete_pended_postop(d);
    flt_free_deferred_io_work_item(item);
}

static FLT_POSTOP_CALLBACK_STATUS post_to_worker(struct tf *f, struct flt_callback_data *d,
                                                 void *ctx, uint32_t flags)
{
    tlog("post:%s", f->name);
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    cr_assert_eq(flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, post_resume_routine,
                                                 NULL), STATUS_SUCCESS);
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

Test(preop, PRE5_synchronize_below_a_post_op_that_posts, .timeout = 20)
{
    tenv_setup_simple(1);
    struct tf *a = tf_add("A", "300000", true);
    struct tf *b = tf_add("B", "200000", true);
    a->post_hook = post_to_worker;
    b->pre_ret = FLT_PREOP_SYNCHRONIZE;
    b->pre_ctx = &ctx_b;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert(twait_atomic(&r.calls, 1, 5000), "the operation never completed");
    cr_assert_eq(atomic_load(&b->post_calls), 1);
    cr_assert(pthread_equal(b->post_thread, T.main_thread),
              "SYNCHRONIZE post-op ran in another thread");
    cr_assert_eq(r.status, STATUS_SUCCESS);
    if (s != STATUS_PENDING)
        cr_assert_eq(s, r.status);
    tassert_quiet(false);
}

/* A pends and its worker resumes the operation; below it B's SYNCHRONIZE
 * makes the worker wait there while C pends the operation again, queued
 * to the same worker's queue (one worker). The worker used to wait for
 * itself; it now runs its queue's items while it waits. */
Test(preop, PRE5_synchronize_in_a_worker_above_a_pend_on_its_own_queue, .timeout = 20)
{
    tenv_setup_simple(1);
    struct tf *a = tf_add("A", "300000", false);
    struct tf *b = tf_add("B", "200000", true);
    struct tf *c = tf_add("C", "100000", false);
    a->pre_hook = pre_pend_and_queue;
    b->pre_ret = FLT_PREOP_SYNCHRONIZE;
    b->pre_ctx = &ctx_b;
    c->pre_hook = pre_pend_and_queue;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    cr_assert(twait_atomic(&r.calls, 1, 5000), "the operation never completed");
    cr_assert_eq(r.status, STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&b->post_calls), 1);
    cr_assert_eq(b->post_ctx_seen, &ctx_b);
    cr_assert_eq(b->fs_count_at_post, 1);
    cr_assert_eq(atomic_load(&c->pre_calls), 1);
    tassert_quiet(false);
}

Test(preop, PRE5_synchronize_without_post_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_ret = FLT_PREOP_SYNCHRONIZE;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE5"), 1);
    cr_assert_neq(s, STATUS_PENDING);
    cr_assert_eq(r.status, s);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

Test(preop, PRE5_synchronize_on_fast_io_acts_as_with_callback)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", true);
    b->pre_ret = FLT_PREOP_SYNCHRONIZE;
    b->pre_ctx = &ctx_b;
    struct treq r = { 0 };
    cr_assert_eq(tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, &r, NULL),
                 STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&b->post_calls), 1);
    cr_assert_eq(b->post_ctx_seen, &ctx_b);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    tassert_quiet(false);
}

/* ---- PRE6 DISALLOW_FASTIO ------------------------------------------------- */

Test(preop, PRE6_disallow_fastio_sets_status_and_completes)
{
    struct tf *a, *b, *c;
    three(&a, &b, &c);
    b->pre_ret = FLT_PREOP_DISALLOW_FASTIO;
    b->pre_ctx = NULL;
    struct treq r = { 0 };
    NTSTATUS s = tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, &r, NULL);
    cr_assert_eq(s, STATUS_FLT_DISALLOW_FAST_IO, "got 0x%08X", (unsigned)s);
    cr_assert_eq(r.status, STATUS_FLT_DISALLOW_FAST_IO);
    cr_assert_eq(atomic_load(&c->pre_calls), 0);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_READ), 0);
    cr_assert_eq(atomic_load(&b->post_calls), 0);
    cr_assert_eq(atomic_load(&a->post_calls), 1);
    cr_assert_eq(a->post_status_seen, STATUS_FLT_DISALLOW_FAST_IO);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    tassert_quiet(false);
}

static void pre6_negative(uint32_t type, uint8_t major)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_ret = FLT_PREOP_DISALLOW_FASTIO;
    struct treq r = { 0 };
    NTSTATUS s = tissue(type, major, 0, &r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE6"), 1, "PRE6 count %llu",
                 (unsigned long long)flt_verifier_count(T.model, "PRE6"));
    cr_assert_neq(s, STATUS_PENDING);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

Test(preop, PRE6_disallow_fastio_on_irp_is_verifier_error)
{
    pre6_negative(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_READ);
}

Test(preop, PRE6_disallow_fastio_on_shutdown_is_verifier_error)
{
    pre6_negative(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_SHUTDOWN);
}

Test(preop, PRE6_disallow_fastio_on_volume_mount_is_verifier_error)
{
    pre6_negative(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_VOLUME_MOUNT);
}

Test(preop, PRE6_disallow_fastio_on_volume_dismount_is_verifier_error)
{
    pre6_negative(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_VOLUME_DISMOUNT);
}

/* ---- PRE7 altitude order -------------------------------------------------- */

Test(preop, PRE7_altitude_order_numeric_not_lexicographic)
{
    tenv_setup_simple(0);
    /* Attached out of order; "45000" < "370030" < "385100" < "385100.5"
     * numerically, though "45000" sorts last as a string. */
    struct tf *w = tf_add("W", "385100", true);
    struct tf *x = tf_add("X", "45000", true);
    struct tf *y = tf_add("Y", "385100.5", true);
    struct tf *z = tf_add("Z", "370030", true);
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_str_eq(tlog_str(), "pre:Y pre:W pre:Z pre:X post:X post:Z post:W post:Y");
    (void)w, (void)x, (void)y, (void)z;
    tassert_quiet(false);
}

Test(preop, PRE7_post_only_for_instances_that_asked)
{
    tenv_setup_simple(0);
    struct tf *a = tf_add("A", "400000", true);
    struct tf *b = tf_add("B", "300000", true);
    struct tf *c = tf_add("C", "200000", true);
    struct tf *d = tf_add("D", "100000", true);
    a->pre_ret = FLT_PREOP_SUCCESS_WITH_CALLBACK;
    b->pre_ret = FLT_PREOP_SUCCESS_NO_CALLBACK;
    c->pre_hook = tf_pre_pend;
    d->pre_ret = FLT_PREOP_SUCCESS_NO_CALLBACK;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    /* Resumed WITH_CALLBACK: C's post-op is owed, with the resume ctx. */
    cr_assert_eq(flt_complete_pended_preop(atomic_load(&c->last_pre_data),
                                           FLT_PREOP_SUCCESS_WITH_CALLBACK, &ctx_c),
                 STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_str_eq(tlog_str(), "pre:A pre:B pre:C pre:D post:C post:A");
    cr_assert_eq(c->post_ctx_seen, &ctx_c);
    cr_assert_eq(atomic_load(&b->post_calls), 0);
    cr_assert_eq(atomic_load(&d->post_calls), 0);
    tassert_quiet(false);
}

Test(preop, PRE7_duplicate_altitude_refused)
{
    tenv_setup_simple(0);
    tf_add("A", "300000", false);
    struct tf *b = tf_add("B", NULL, false);
    struct flt_instance *inst = NULL;
    NTSTATUS s = flt_attach_volume(b->filter, T.vol, "300000", &inst);
    cr_assert(NT_ERROR(s), "two instances at one altitude: got 0x%08X", (unsigned)s);
    tassert_named(s);
    cr_assert_eq(flt_attach_volume(b->filter, T.vol, "300001", &inst), STATUS_SUCCESS);
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_str_eq(tlog_str(), "pre:B pre:A");
}

/* ---- PRE8 who may change IoStatus ---------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS pre_set_status_pass(struct tf *f, struct flt_callback_data *d,
                                                     void **ctx)
{
    d->io_status.status = STATUS_ACCESS_DENIED;
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

Test(preop, PRE8_pre_op_changing_iostatus_without_complete_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_hook = pre_set_status_pass;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "PRE8"), 1);
    cr_assert_neq(s, STATUS_PENDING);
    cr_assert_eq(r.status, s);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

static FLT_POSTOP_CALLBACK_STATUS post_set_status(struct tf *f, struct flt_callback_data *d,
                                                  void *ctx, uint32_t flags)
{
    d->io_status.status = STATUS_BUFFER_OVERFLOW;
    d->io_status.information = 3;
    return FLT_POSTOP_FINISHED_PROCESSING;
}

Test(preop, PRE8_post_op_finished_may_change_iostatus)
{
    tenv_setup_simple(0);
    struct tf *a = tf_add("A", "200000", true);
    struct tf *b = tf_add("B", "100000", true);
    b->post_hook = post_set_status;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(s, STATUS_BUFFER_OVERFLOW, "got 0x%08X", (unsigned)s);
    cr_assert_eq(r.status, STATUS_BUFFER_OVERFLOW);
    cr_assert_eq(r.info, 3);
    cr_assert_eq(a->post_status_seen, STATUS_BUFFER_OVERFLOW, "the change goes up");
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    /* A warning counts as completed, not failed. */
    cr_assert_eq(tcounters().completed, 1);
    tassert_quiet(false);
}

Test(preop, PRE8_resume_with_complete_may_set_iostatus)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", false);
    b->pre_hook = tf_pre_pend;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    cr_assert_eq(tcomplete(atomic_load(&b->last_pre_data), STATUS_NOT_SUPPORTED, 0),
                 STATUS_SUCCESS);
    cr_assert_eq(r.status, STATUS_NOT_SUPPORTED);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    cr_assert_eq(tcounters().failed, 1);
    tassert_quiet(false);
}

/* ---- POST1 ---------------------------------------------------------------- */

Test(postop, POST1_finished_hands_back_up)
{
    struct tf *a, *b, *c;
    three(&a, &b, &c);
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_SUCCESS);
    cr_assert_str_eq(tlog_str(), "pre:A pre:B pre:C post:C post:B post:A");
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

static _Atomic int postop_routine_runs;
static KIRQL postop_complete_irql = 0xff;
static NTSTATUS postop_complete_ret = -1;

static void postop_resume_routine(struct flt_deferred_io_workitem *item,
                                  struct flt_callback_data *d, void *ctx)
{
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);   /* PEND5: <= DISPATCH is fine */
    postop_complete_irql = ke_get_current_irql();
    d->io_status.information = 9;
    postop_complete_ret = flt_complete_pended_postop(d);
    ke_lower_irql(old);
    flt_free_deferred_io_work_item(item);
    atomic_fetch_add_explicit(&postop_routine_runs, 1, memory_order_release);
}

static FLT_POSTOP_CALLBACK_STATUS post_more_processing(struct tf *f, struct flt_callback_data *d,
                                                       void *ctx, uint32_t flags)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    NTSTATUS s = flt_queue_deferred_io_work_item(item, d, CriticalWorkQueue,
                                                 postop_resume_routine, NULL);
    cr_assert_eq(s, STATUS_SUCCESS, "queue from post-op: 0x%08X", (unsigned)s);
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

Test(postop, POST1_more_processing_waits_for_complete_pended_postop)
{
    tenv_setup_simple(1);
    struct tf *a = tf_add("A", "200000", true);
    struct tf *b = tf_add("B", "100000", true);
    b->post_hook = post_more_processing;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert(s == STATUS_PENDING || s == STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
    cr_assert(twait_atomic(&postop_routine_runs, 1, 5000));
    cr_assert(twait_atomic(&r.calls, 1, 5000));
    cr_assert_eq(postop_complete_ret, STATUS_SUCCESS);
    cr_assert_eq(postop_complete_irql, DISPATCH_LEVEL);
    cr_assert_eq(atomic_load(&a->post_calls), 1, "the post-op above runs after the resume");
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_SUCCESS);
    cr_assert_str_eq(tlog_str(), "pre:A pre:B post:B post:A");
    tassert_quiet(false);
}

static FLT_POSTOP_CALLBACK_STATUS post_more_processing_plain(struct tf *f,
                                                             struct flt_callback_data *d,
                                                             void *ctx, uint32_t flags)
{
    return FLT_POSTOP_MORE_PROCESSING_REQUIRED;
}

Test(postop, POST1_more_processing_on_fast_io_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", true);
    b->post_hook = post_more_processing_plain;
    struct treq r = { 0 };
    NTSTATUS s = tissue(FLTFL_CALLBACK_DATA_FAST_IO_OPERATION, IRP_MJ_READ, 0, &r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "POST1"), 1);
    cr_assert_neq(s, STATUS_PENDING, "fast I/O is never left waiting");
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

Test(postop, POST1_more_processing_without_posting_is_verifier_error)
{
    tenv_setup_simple(0);
    struct tf *b = tf_add("B", "100000", true);
    b->post_hook = post_more_processing_plain;
    struct treq r = { 0 };
    NTSTATUS s = tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "POST1"), 1,
                 "MORE_PROCESSING_REQUIRED without a posted work item");
    cr_assert_neq(s, STATUS_PENDING, "not left waiting for a resume nobody will do");
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

/* ---- POST2 draining -------------------------------------------------------- */

Test(postop, POST2_teardown_drains_owed_post_ops)
{
    tenv_setup_simple(0);
    struct tf *a = tf_add("A", "200000", true);
    struct tf *b = tf_add("B", "100000", false);
    a->pre_ctx = &ctx_a;
    b->pre_hook = tf_pre_pend;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    cr_assert_eq(flt_detach_instance(a->instance), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&a->post_calls), 1, "the owed post-op is called during teardown");
    cr_assert_neq(a->post_flags_seen & FLTFL_POST_OPERATION_DRAINING, 0u);
    cr_assert_eq(a->post_ctx_seen, &ctx_a, "only to release the context");
    cr_assert_eq(atomic_load(&r.calls), 0, "draining does not complete the operation");

    cr_assert_eq(tcomplete(atomic_load(&b->last_pre_data), STATUS_SUCCESS, 4), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.info, 4);
    cr_assert_eq(atomic_load(&a->post_calls), 1, "not called again after draining");
    tassert_quiet(false);
}

Test(postop, POST2_draining_post_op_must_finish)
{
    tenv_setup_simple(0);
    struct tf *a = tf_add("A", "200000", true);
    struct tf *b = tf_add("B", "100000", false);
    a->post_ret = FLT_POSTOP_MORE_PROCESSING_REQUIRED;
    b->pre_hook = tf_pre_pend;
    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    flt_detach_instance(a->instance);
    cr_assert_eq(atomic_load(&a->post_calls), 1);
    cr_assert_eq(flt_verifier_count(T.model, "POST2"), 1);
    cr_assert_eq(tcomplete(atomic_load(&b->last_pre_data), STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(atomic_load(&a->post_calls), 1);
    tassert_quiet(true);
}
