/* FS filter notification callbacks (SPEC FSF1-FSF5), as
 * FsRtlRegisterFileSystemFilterCallbacks: legacy callbacks registered on a
 * volume run around the operation, which then goes through the minifilter
 * stack (as an FS_FILTER operation) to the file system.
 *
 * Order: pre callbacks from the last registered (top) down; the operation;
 * post callbacks bottom-up, for every filter whose pre callback succeeded
 * (or was ignored), with the operation's status and its own completion
 * context. Registration is configuration: do it before notifying. */
#include <string.h>

#include "internal.h"

NTSTATUS fsrtl_register_file_system_filter_callbacks(struct flt_volume *vol,
                                                     const struct fs_filter_callbacks *cb)
{
    if (!vol || !cb || cb->size_of_fs_filter_callbacks != sizeof(struct fs_filter_callbacks))
        return STATUS_INVALID_PARAMETER;      /* FSF1 */
    if (vol->nfsf >= FLT_MAX_FSF)
        return STATUS_INSUFFICIENT_RESOURCES;
    vol->fsf[vol->nfsf++] = *cb;
    return STATUS_SUCCESS;
}

static void pick(const struct fs_filter_callbacks *cb, uint8_t op, fs_filter_pre_callback *pre,
                 fs_filter_post_callback *post)
{
    switch (op) {
    case FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION:
        *pre = cb->pre_acquire_for_section_synchronization;
        *post = cb->post_acquire_for_section_synchronization; break;
    case FS_FILTER_RELEASE_FOR_SECTION_SYNCHRONIZATION:
        *pre = cb->pre_release_for_section_synchronization;
        *post = cb->post_release_for_section_synchronization; break;
    case FS_FILTER_ACQUIRE_FOR_CC_FLUSH:
        *pre = cb->pre_acquire_for_cc_flush; *post = cb->post_acquire_for_cc_flush; break;
    case FS_FILTER_RELEASE_FOR_CC_FLUSH:
        *pre = cb->pre_release_for_cc_flush; *post = cb->post_release_for_cc_flush; break;
    case FS_FILTER_ACQUIRE_FOR_MOD_WRITE:
        *pre = cb->pre_acquire_for_mod_write; *post = cb->post_acquire_for_mod_write; break;
    case FS_FILTER_RELEASE_FOR_MOD_WRITE:
        *pre = cb->pre_release_for_mod_write; *post = cb->post_release_for_mod_write; break;
    case FS_FILTER_QUERY_OPEN:
        *pre = cb->pre_query_open; *post = cb->post_query_open; break;
    default:
        *pre = NULL; *post = NULL; break;
    }
}

static bool is_release(uint8_t op)
{
    return op == FS_FILTER_RELEASE_FOR_SECTION_SYNCHRONIZATION ||
           op == FS_FILTER_RELEASE_FOR_CC_FLUSH || op == FS_FILTER_RELEASE_FOR_MOD_WRITE;
}

static bool known_op(uint8_t op)
{
    return op == FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION || is_release(op) ||
           op == FS_FILTER_ACQUIRE_FOR_CC_FLUSH || op == FS_FILTER_ACQUIRE_FOR_MOD_WRITE ||
           op == FS_FILTER_QUERY_OPEN;
}

NTSTATUS fsrtl_notify(struct flt_volume *vol, uint8_t operation, FS_FILTER_SECTION_SYNC_TYPE sync_type)
{
    static const char routine[] = "fsrtl_notify";
    if (!vol || !known_op(operation))
        return STATUS_INVALID_PARAMETER;
    struct flt_model *m = vol->model;
    struct fs_filter_callback_data d = {
        .size_of_fs_filter_callback_data = sizeof d,
        .operation = operation,
        .volume = vol,
    };
    d.parameters.acquire_for_section_synchronization.sync_type = sync_type;
    void *ctx[FLT_MAX_FSF] = { 0 };
    bool called[FLT_MAX_FSF] = { 0 };
    NTSTATUS status = STATUS_SUCCESS;
    int i;
    for (i = vol->nfsf - 1; i >= 0; i--) {
        fs_filter_pre_callback pre;
        fs_filter_post_callback post;
        pick(&vol->fsf[i], operation, &pre, &post);
        called[i] = true;
        if (!pre)
            continue;
        NTSTATUS st = pre(&d, &ctx[i]);
        if (st == STATUS_SUCCESS || is_release(operation))
            continue;                               /* FSF3: a release always proceeds */
        if (operation == FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION) {
            if (sync_type == SyncTypeOther) {
                flt_verifier_report_model(m, "FSF4", routine, NULL,
                                          "AcquireForSectionSynchronization with SyncTypeOther "
                                          "must succeed (got %#x)", (unsigned)st);
            } else if (st != STATUS_INSUFFICIENT_RESOURCES) {
                flt_verifier_report_model(m, "FSF4", routine, NULL,
                                          "SyncTypeCreateSection may fail only with "
                                          "STATUS_INSUFFICIENT_RESOURCES (got %#x)", (unsigned)st);
            }
        }
        called[i] = false;           /* its pre failed: no post for it */
        status = st;                 /* FSF3: the operation fails with it */
        break;
    }
    if (NT_SUCCESS(status)) {
        /* The operation itself: through the minifilter stack to the FS. */
        struct flt_op_desc desc = {
            .operation_type = FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION,
            .major_function = operation,
        };
        desc.parameters.acquire_for_section_synchronization.sync_type = sync_type;
        status = flt_issue_and_wait(vol, &desc);
    }
    /* FSF2: post callbacks bottom-up with the status and their context. */
    for (int j = 0; j < vol->nfsf; j++) {
        if (!called[j])
            continue;
        fs_filter_pre_callback pre;
        fs_filter_post_callback post;
        pick(&vol->fsf[j], operation, &pre, &post);
        if (post)
            post(&d, status, ctx[j]);
    }
    return status;
}

NTSTATUS fsrtl_query_open(struct flt_volume *vol, bool *used_slow_path)
{
    if (used_slow_path)
        *used_slow_path = false;
    if (!vol)
        return STATUS_INVALID_PARAMETER;
    NTSTATUS st = fsrtl_notify(vol, FS_FILTER_QUERY_OPEN, SyncTypeOther);
    if (st != STATUS_FLT_DISALLOW_FSFILTER_IO)
        return st;
    /* FSF5: the slow path, open, query, close as IRPs. */
    if (used_slow_path)
        *used_slow_path = true;
    static const uint8_t steps[] = { IRP_MJ_CREATE, IRP_MJ_QUERY_INFORMATION, IRP_MJ_CLOSE };
    NTSTATUS result = STATUS_SUCCESS;
    for (size_t k = 0; k < sizeof steps; k++) {
        struct flt_op_desc desc = {
            .operation_type = FLTFL_CALLBACK_DATA_IRP_OPERATION,
            .major_function = steps[k],
        };
        st = flt_issue_and_wait(vol, &desc);
        if (steps[k] == IRP_MJ_CREATE && !NT_SUCCESS(st))
            return st;               /* nothing opened: nothing to close */
        if (!NT_SUCCESS(st) && NT_SUCCESS(result))
            result = st;
    }
    return result;
}
