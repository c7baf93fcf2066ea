/* SPEC FSF1-FSF5: FS filter notification callbacks. Two registrations, X
 * (first, lower) and Y (last, on top), each with its own functions. */
#include <string.h>

#include "test_support.h"

TestSuite(fsfilter, .fini = tenv_fini, .timeout = 30);

struct fsf_rec {
    int pre_calls, post_calls;
    NTSTATUS pre_ret;              /* what its pre callbacks return */
    NTSTATUS post_status;          /* operation_status seen by post */
    void *post_ctx;
    uint8_t pre_op, post_op;
    FS_FILTER_SECTION_SYNC_TYPE sync_type;
    struct flt_volume *volume;
    uint32_t size;
};
static struct fsf_rec RX, RY;
static int ctx_x, ctx_y;

#define FSF_PAIR(N, R, CTX)                                                                   \
    static NTSTATUS pre_##N(struct fs_filter_callback_data *d, void **ctx)                    \
    {                                                                                         \
        R.pre_calls++;                                                                        \
        R.pre_op = d->operation;                                                              \
        R.volume = d->volume;                                                                 \
        R.size = d->size_of_fs_filter_callback_data;                                          \
        R.sync_type = d->parameters.acquire_for_section_synchronization.sync_type;           \
        tlog("pre:" #N);                                                                      \
        *ctx = &CTX;                                                                          \
        return R.pre_ret;                                                                     \
    }                                                                                         \
    static void post_##N(struct fs_filter_callback_data *d, NTSTATUS st, void *ctx)           \
    {                                                                                         \
        R.post_calls++;                                                                       \
        R.post_op = d->operation;                                                             \
        R.post_status = st;                                                                   \
        R.post_ctx = ctx;                                                                     \
        tlog("post:" #N);                                                                     \
    }

FSF_PAIR(X, RX, ctx_x)
FSF_PAIR(Y, RY, ctx_y)

static void fill(struct fs_filter_callbacks *cb, fs_filter_pre_callback pre,
                 fs_filter_post_callback post)
{
    memset(cb, 0, sizeof *cb);
    cb->size_of_fs_filter_callbacks = sizeof *cb;
    cb->pre_acquire_for_section_synchronization = pre;
    cb->post_acquire_for_section_synchronization = post;
    cb->pre_release_for_section_synchronization = pre;
    cb->post_release_for_section_synchronization = post;
    cb->pre_acquire_for_cc_flush = pre;
    cb->post_acquire_for_cc_flush = post;
    cb->pre_release_for_cc_flush = pre;
    cb->post_release_for_cc_flush = post;
    cb->pre_acquire_for_mod_write = pre;
    cb->post_acquire_for_mod_write = post;
    cb->pre_release_for_mod_write = pre;
    cb->post_release_for_mod_write = post;
    cb->pre_query_open = pre;
    cb->post_query_open = post;
}

static void setup_xy(void)
{
    tenv_setup_simple(0);
    memset(&RX, 0, sizeof RX);
    memset(&RY, 0, sizeof RY);
    struct fs_filter_callbacks cx, cy;
    fill(&cx, pre_X, post_X);
    fill(&cy, pre_Y, post_Y);
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cx), STATUS_SUCCESS);
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cy), STATUS_SUCCESS);
}

/* ---- FSF1 ----------------------------------------------------------------- */

Test(fsfilter, FSF1_size_must_match)
{
    tenv_setup_simple(0);
    struct fs_filter_callbacks cb;
    fill(&cb, pre_X, post_X);
    cb.size_of_fs_filter_callbacks = 0;
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cb), STATUS_INVALID_PARAMETER);
    cb.size_of_fs_filter_callbacks = sizeof cb + 8;
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cb), STATUS_INVALID_PARAMETER);
    cb.size_of_fs_filter_callbacks = sizeof cb - 8;
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cb), STATUS_INVALID_PARAMETER);
    /* None of them was registered. */
    cr_assert_eq(fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_CC_FLUSH, SyncTypeOther), STATUS_SUCCESS);
    cr_assert_eq(RX.pre_calls, 0);
    cb.size_of_fs_filter_callbacks = sizeof cb;
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cb), STATUS_SUCCESS);
    cr_assert_eq(fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_CC_FLUSH, SyncTypeOther), STATUS_SUCCESS);
    cr_assert_eq(RX.pre_calls, 1);
}

Test(fsfilter, FSF1_every_callback_optional)
{
    tenv_setup_simple(0);
    struct fs_filter_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.size_of_fs_filter_callbacks = sizeof cb;
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cb), STATUS_SUCCESS);
    /* Only a post for one operation. */
    struct fs_filter_callbacks cb2;
    memset(&cb2, 0, sizeof cb2);
    cb2.size_of_fs_filter_callbacks = sizeof cb2;
    cb2.post_acquire_for_mod_write = post_X;
    cr_assert_eq(fsrtl_register_file_system_filter_callbacks(T.vol, &cb2), STATUS_SUCCESS);
    const uint8_t ops[] = { FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION,
                            FS_FILTER_RELEASE_FOR_SECTION_SYNCHRONIZATION,
                            FS_FILTER_ACQUIRE_FOR_MOD_WRITE, FS_FILTER_RELEASE_FOR_MOD_WRITE,
                            FS_FILTER_ACQUIRE_FOR_CC_FLUSH, FS_FILTER_RELEASE_FOR_CC_FLUSH };
    for (size_t i = 0; i < sizeof ops; i++)
        cr_assert_eq(fsrtl_notify(T.vol, ops[i], SyncTypeOther), STATUS_SUCCESS, "op %zu", i);
    cr_assert_eq(RX.post_calls, 1);
    cr_assert_eq(RX.post_op, FS_FILTER_ACQUIRE_FOR_MOD_WRITE);
    cr_assert_null(RX.post_ctx, "no pre callback: NULL context");
    bool slow = true;
    cr_assert_eq(fsrtl_query_open(T.vol, &slow), STATUS_SUCCESS);
    cr_assert_not(slow);
}

/* ---- FSF2 ----------------------------------------------------------------- */

Test(fsfilter, FSF2_pre_before_lower_post_after_with_status_and_context)
{
    setup_xy();
    NTSTATUS s = fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_CC_FLUSH, SyncTypeOther);
    cr_assert_eq(s, STATUS_SUCCESS);
    const char *log = tlog_str();
    cr_assert_eq(strncmp(log, "pre:Y pre:X ", 12), 0, "pre callbacks top-down, got \"%s\"", log);
    cr_assert(strstr(log, "post:X") && strstr(log, "post:Y"), "%s", log);
    cr_assert_eq(RX.pre_op, FS_FILTER_ACQUIRE_FOR_CC_FLUSH);
    cr_assert_eq(RX.post_op, FS_FILTER_ACQUIRE_FOR_CC_FLUSH);
    cr_assert_eq(RX.volume, T.vol);
    cr_assert_eq(RX.size, sizeof(struct fs_filter_callback_data));
    cr_assert_eq(RX.post_ctx, &ctx_x);
    cr_assert_eq(RY.post_ctx, &ctx_y);
    cr_assert_eq(RX.post_status, STATUS_SUCCESS);
    cr_assert_eq(RY.post_status, STATUS_SUCCESS);
}

Test(fsfilter, FSF2_post_order_bottom_up)
{
    setup_xy();
    cr_assert_eq(fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_MOD_WRITE, SyncTypeOther), STATUS_SUCCESS);
    cr_assert_str_eq(tlog_str(), "pre:Y pre:X post:X post:Y");
}

/* ---- FSF3 ----------------------------------------------------------------- */

static void fsf3_acquire_fails(uint8_t op)
{
    setup_xy();
    RY.pre_ret = STATUS_ACCESS_DENIED;
    NTSTATUS s = fsrtl_notify(T.vol, op, SyncTypeCreateSection);
    if (op == FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION) {
        /* FSF4: with CreateSection only INSUFFICIENT_RESOURCES may fail. */
        cr_assert_eq(flt_verifier_count(T.model, "FSF4"), 1);
        return;
    }
    cr_assert_eq(s, STATUS_ACCESS_DENIED, "got 0x%08X", (unsigned)s);
    cr_assert_eq(RX.pre_calls, 0, "the lower filter is not called");
    cr_assert_eq(RY.pre_calls, 1);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
}

Test(fsfilter, FSF3_acquire_for_cc_flush_pre_failure_fails_operation)
{
    fsf3_acquire_fails(FS_FILTER_ACQUIRE_FOR_CC_FLUSH);
}

Test(fsfilter, FSF3_acquire_for_mod_write_pre_failure_fails_operation)
{
    fsf3_acquire_fails(FS_FILTER_ACQUIRE_FOR_MOD_WRITE);
}

static void fsf3_release_ignores(uint8_t op)
{
    setup_xy();
    RY.pre_ret = STATUS_ACCESS_DENIED;
    NTSTATUS s = fsrtl_notify(T.vol, op, SyncTypeOther);
    cr_assert_eq(s, STATUS_SUCCESS, "release always proceeds, got 0x%08X", (unsigned)s);
    cr_assert_eq(RX.pre_calls, 1, "the lower filter is still called");
    cr_assert_eq(RX.post_calls, 1);
    cr_assert_eq(RX.post_status, STATUS_SUCCESS);
}

Test(fsfilter, FSF3_release_for_section_sync_status_ignored)
{
    fsf3_release_ignores(FS_FILTER_RELEASE_FOR_SECTION_SYNCHRONIZATION);
}

Test(fsfilter, FSF3_release_for_cc_flush_status_ignored)
{
    fsf3_release_ignores(FS_FILTER_RELEASE_FOR_CC_FLUSH);
}

Test(fsfilter, FSF3_release_for_mod_write_status_ignored)
{
    fsf3_release_ignores(FS_FILTER_RELEASE_FOR_MOD_WRITE);
}

/* ---- FSF4 ----------------------------------------------------------------- */

Test(fsfilter, FSF4_create_section_may_fail_with_insufficient_resources)
{
    setup_xy();
    RX.pre_ret = STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION,
                              SyncTypeCreateSection);
    cr_assert_eq(s, STATUS_INSUFFICIENT_RESOURCES, "got 0x%08X", (unsigned)s);
    cr_assert_eq(RX.sync_type, SyncTypeCreateSection);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
}

Test(fsfilter, FSF4_create_section_other_failure_is_verifier_error)
{
    setup_xy();
    RX.pre_ret = STATUS_ACCESS_DENIED;
    NTSTATUS s = fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION,
                              SyncTypeCreateSection);
    cr_assert_eq(flt_verifier_count(T.model, "FSF4"), 1);
    cr_assert(NT_ERROR(s), "got 0x%08X", (unsigned)s);
    tassert_named(s);
}

Test(fsfilter, FSF4_sync_type_other_must_succeed)
{
    setup_xy();
    RY.pre_ret = STATUS_INSUFFICIENT_RESOURCES;
    NTSTATUS s = fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther);
    cr_assert_eq(flt_verifier_count(T.model, "FSF4"), 1);
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "FSF4");
    tassert_named(s);
    cr_assert_eq(RY.sync_type, SyncTypeOther);
}

Test(fsfilter, FSF4_sync_type_other_success_no_violation)
{
    setup_xy();
    cr_assert_eq(fsrtl_notify(T.vol, FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, SyncTypeOther),
                 STATUS_SUCCESS);
    cr_assert_eq(RX.pre_calls, 1);
    cr_assert_eq(RY.pre_calls, 1);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
}

/* ---- FSF5 ----------------------------------------------------------------- */

Test(fsfilter, FSF5_query_open_fast_path)
{
    setup_xy();
    struct tf *f = tf_add("F", "100000", false);
    bool slow = true;
    cr_assert_eq(fsrtl_query_open(T.vol, &slow), STATUS_SUCCESS);
    cr_assert_not(slow);
    cr_assert_eq(RY.pre_calls, 1);
    cr_assert_eq(RY.pre_op, FS_FILTER_QUERY_OPEN);
    cr_assert_eq(f->pre_major_calls[IRP_MJ_CREATE], 0);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_CREATE), 0);
}

Test(fsfilter, FSF5_disallow_fsfilter_io_falls_back_to_slow_path)
{
    setup_xy();
    struct tf *f = tf_add("F", "100000", false);
    RX.pre_ret = STATUS_FLT_DISALLOW_FSFILTER_IO;
    bool slow = false;
    NTSTATUS s = fsrtl_query_open(T.vol, &slow);
    cr_assert_eq(s, STATUS_SUCCESS, "the slow path succeeded, got 0x%08X", (unsigned)s);
    cr_assert(slow);
    cr_assert_eq(f->pre_major_calls[IRP_MJ_CREATE], 1);
    cr_assert_eq(f->pre_major_calls[IRP_MJ_QUERY_INFORMATION], 1);
    cr_assert_eq(f->pre_major_calls[IRP_MJ_CLOSE], 1);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_CREATE), 1);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_QUERY_INFORMATION), 1);
    cr_assert_eq(flt_volume_fs_count(T.vol, IRP_MJ_CLOSE), 1);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    tassert_quiet(false);
}
