/* The modelled Filter Manager API: callback data, minifilter registration
 * and the instance stack, pending and resuming, deferred work items, the
 * cancel routines, the cancel-safe queue, filter-initiated I/O, the FS
 * filter notification callbacks and the per-thread IRQL. Names are the WDK
 * names in snake_case; rule IDs refer to ../shared/SPEC.md.
 *
 * Every routine checks its "musts" through the verifier (flt_model.h): a
 * violation is reported with its rule ID and becomes an error return; it
 * never causes undefined behaviour, a double completion or a lost
 * operation. */
#ifndef PB_FLT_KERNEL_H
#define PB_FLT_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nt_status.h"

/* ---- constants (values as in fltkernel.h / wdm.h) ---------------------- */

typedef enum {
    FLT_PREOP_SUCCESS_WITH_CALLBACK = 0,
    FLT_PREOP_SUCCESS_NO_CALLBACK = 1,
    FLT_PREOP_PENDING = 2,
    FLT_PREOP_DISALLOW_FASTIO = 3,
    FLT_PREOP_COMPLETE = 4,
    FLT_PREOP_SYNCHRONIZE = 5,
    FLT_PREOP_DISALLOW_FSFILTER_IO = 6,
} FLT_PREOP_CALLBACK_STATUS;

typedef enum {
    FLT_POSTOP_FINISHED_PROCESSING = 0,
    FLT_POSTOP_MORE_PROCESSING_REQUIRED = 1,
    FLT_POSTOP_DISALLOW_FSFILTER_IO = 2,
} FLT_POSTOP_CALLBACK_STATUS;

/* Callback data flags (FLT_CALLBACK_DATA.Flags). */
#define FLTFL_CALLBACK_DATA_IRP_OPERATION        0x00000001u
#define FLTFL_CALLBACK_DATA_FAST_IO_OPERATION    0x00000002u
#define FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION  0x00000004u
#define FLTFL_CALLBACK_DATA_SYSTEM_BUFFER        0x00000008u
#define FLTFL_CALLBACK_DATA_GENERATED_IO         0x00010000u
#define FLTFL_CALLBACK_DATA_REISSUED_IO          0x00020000u
#define FLTFL_CALLBACK_DATA_DRAINING_IO          0x00040000u
#define FLTFL_CALLBACK_DATA_POST_OPERATION       0x00080000u
#define FLTFL_CALLBACK_DATA_DIRTY                0x80000000u
#define FLTFL_CALLBACK_DATA_OPERATION_TYPE_MASK  0x00000007u

/* Flags passed to a post-operation callback. */
#define FLTFL_POST_OPERATION_DRAINING            0x00000001u

/* IRP flags (Iopb->IrpFlags). */
#define IRP_NOCACHE               0x00000001u
#define IRP_PAGING_IO             0x00000002u
#define IRP_SYNCHRONOUS_API       0x00000004u
#define IRP_SYNCHRONOUS_PAGING_IO 0x00000040u

/* Major function codes. */
#define IRP_MJ_CREATE              0x00u
#define IRP_MJ_CLOSE               0x02u
#define IRP_MJ_READ                0x03u
#define IRP_MJ_WRITE               0x04u
#define IRP_MJ_QUERY_INFORMATION   0x05u
#define IRP_MJ_SET_INFORMATION     0x06u
#define IRP_MJ_FLUSH_BUFFERS       0x09u
#define IRP_MJ_DIRECTORY_CONTROL   0x0cu
#define IRP_MJ_FILE_SYSTEM_CONTROL 0x0du
#define IRP_MJ_DEVICE_CONTROL      0x0eu
#define IRP_MJ_SHUTDOWN            0x10u
#define IRP_MJ_LOCK_CONTROL        0x11u
#define IRP_MJ_CLEANUP             0x12u
#define IRP_MJ_MAXIMUM_FUNCTION    0x1bu
/* FltMgr's own operation codes, (UCHAR)-n. */
#define IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION ((uint8_t)-1)
#define IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION ((uint8_t)-2)
#define IRP_MJ_ACQUIRE_FOR_MOD_WRITE               ((uint8_t)-3)
#define IRP_MJ_RELEASE_FOR_MOD_WRITE               ((uint8_t)-4)
#define IRP_MJ_ACQUIRE_FOR_CC_FLUSH                ((uint8_t)-5)
#define IRP_MJ_RELEASE_FOR_CC_FLUSH                ((uint8_t)-6)
#define IRP_MJ_QUERY_OPEN                          ((uint8_t)-7)
#define IRP_MJ_VOLUME_MOUNT                        ((uint8_t)-19)
#define IRP_MJ_VOLUME_DISMOUNT                     ((uint8_t)-20)
#define IRP_MJ_OPERATION_END                       0x80u

typedef enum { SyncTypeOther = 0, SyncTypeCreateSection = 1 } FS_FILTER_SECTION_SYNC_TYPE;

typedef uint8_t KIRQL;
#define PASSIVE_LEVEL  0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
#define HIGH_LEVEL     15

typedef enum {
    CriticalWorkQueue = 0,
    DelayedWorkQueue = 1,
    HyperCriticalWorkQueue = 2,
} WORK_QUEUE_TYPE;

/* Stack depth the model supports (instances on one volume). */
#define FLT_MAX_INSTANCES 8

/* ---- objects ----------------------------------------------------------- */

struct flt_model;          /* flt_model.h: strategies, workers, verifier */
struct flt_volume;         /* an instance stack over a simulated file system */
struct flt_filter;         /* a registered minifilter */
struct flt_instance;       /* a filter attached to a volume at an altitude */
struct flt_deferred_io_workitem;

struct flt_io_status_block {
    NTSTATUS status;
    uint64_t information;
};

union flt_parameters {
    struct { uint64_t byte_offset; uint32_t length; } read, write;
    struct { uint32_t desired_access; uint32_t options; } create;
    struct { uint32_t class; uint32_t length; } query_information, set_information;
    struct { uint32_t code; } device_control, file_system_control;
    struct { FS_FILTER_SECTION_SYNC_TYPE sync_type; uint32_t page_protection; } acquire_for_section_synchronization;
    uint64_t others[3];
};

struct flt_io_parameter_block {
    uint32_t irp_flags;
    uint8_t major_function;
    uint8_t minor_function;
    struct flt_instance *target_instance;
    union flt_parameters parameters;
};

/* Timestamps (TSC ticks; pb_tsc.h) kept with the operation. The requester
 * stamps t_issue; a worker stamps t_dequeue; completion stamps t_complete.
 * An operation issued untimed (flt_op_desc.untimed) keeps all three at 0:
 * t_issue == 0 tells the model not to read the clock for it. */
struct flt_op_times {
    uint64_t t_issue;
    uint64_t t_dequeue;
    uint64_t t_complete;
};

/* FLT_CALLBACK_DATA. Filters may change io_status, the parameters and the
 * DIRTY flag (CD4, PRE8); the rest is read-only. The model's private state
 * follows this structure in the same block. */
struct flt_callback_data {
    uint32_t flags;
    struct flt_io_parameter_block *iopb;
    struct flt_io_status_block io_status;
    uint64_t op_id;                /* identity in verifier reports */
    struct flt_op_times times;
};

#define FLT_IS_IRP_OPERATION(d)       (((d)->flags & FLTFL_CALLBACK_DATA_IRP_OPERATION) != 0)
#define FLT_IS_FASTIO_OPERATION(d)    (((d)->flags & FLTFL_CALLBACK_DATA_FAST_IO_OPERATION) != 0)
#define FLT_IS_FS_FILTER_OPERATION(d) (((d)->flags & FLTFL_CALLBACK_DATA_FS_FILTER_OPERATION) != 0)
#define FLT_IS_REISSUED_IO(d)         (((d)->flags & FLTFL_CALLBACK_DATA_REISSUED_IO) != 0)
#define FLT_IS_SYSTEM_BUFFER(d)       (((d)->flags & FLTFL_CALLBACK_DATA_SYSTEM_BUFFER) != 0)
/* CD2 */
bool flt_is_paging_io(const struct flt_callback_data *data);

/* FLT_RELATED_OBJECTS */
struct flt_related_objects {
    struct flt_filter *filter;
    struct flt_instance *instance;
    struct flt_volume *volume;
};

typedef FLT_PREOP_CALLBACK_STATUS (*flt_pre_operation_callback)(
    struct flt_callback_data *data, const struct flt_related_objects *objs,
    void **completion_context);
typedef FLT_POSTOP_CALLBACK_STATUS (*flt_post_operation_callback)(
    struct flt_callback_data *data, const struct flt_related_objects *objs,
    void *completion_context, uint32_t flags);

/* FLT_OPERATION_REGISTRATION; the array ends with IRP_MJ_OPERATION_END. */
struct flt_operation_registration {
    uint8_t major_function;
    uint32_t flags;
    flt_pre_operation_callback pre_operation;
    flt_post_operation_callback post_operation;
};

struct flt_registration {
    const char *name;
    const struct flt_operation_registration *operation_registration;
    void *filter_context;          /* handed back by flt_filter_context() */
};

NTSTATUS flt_register_filter(struct flt_model *model, const struct flt_registration *reg,
                             struct flt_filter **out);
void flt_unregister_filter(struct flt_filter *filter);
void *flt_filter_context(const struct flt_filter *filter);

/* Attaches filter at altitude (a decimal string as in the registry,
 * "370030" or "385100.5"). Instances are ordered highest first (PRE7). */
NTSTATUS flt_attach_volume(struct flt_filter *filter, struct flt_volume *volume,
                           const char *altitude, struct flt_instance **out);
/* Tears the instance down: new work items for it are refused
 * (STATUS_FLT_DELETING_OBJECT), its queued work items run (DQ4), and the
 * post-ops still owed by outstanding operations are called with
 * FLTFL_POST_OPERATION_DRAINING (POST2). Returns after all of that. */
NTSTATUS flt_detach_instance(struct flt_instance *instance);

/* ---- issuing operations (the requester's side, as the I/O manager) ----- */

typedef void (*flt_requester_completion)(struct flt_callback_data *data, void *context);

struct flt_op_desc {
    uint32_t operation_type;       /* FLTFL_CALLBACK_DATA_{IRP,FAST_IO,FS_FILTER}_OPERATION */
    uint8_t major_function;
    uint8_t minor_function;
    uint32_t irp_flags;
    union flt_parameters parameters;
    uint64_t t_issue;              /* stamped into data->times; 0: now */
    flt_requester_completion on_complete;   /* called exactly once, may be NULL */
    void *context;
    /* No timestamps at all (data->times stay 0): the caller measures the
     * latency of a sample of its operations and not of this one, and
     * saves the clock reads (~11 ns each on some CPUs). */
    bool untimed;
};

/* A handle that outlives the call that produced it carries the generation
 * of the callback data it names (CD5): acting on it after that data was
 * completed (and perhaps reused) is detected and refused. */
typedef struct {
    struct flt_callback_data *data;
    uint32_t generation;
    bool pinned;                   /* holds a reference: release it */
} flt_op_handle;

/* Issues an operation down the volume's stack. Returns STATUS_PENDING when
 * some layer pended it (on_complete runs later, in whichever thread
 * completes it), or the final status after on_complete has already run.
 * STATUS_INSUFFICIENT_RESOURCES when no callback data could be allocated
 * (CD3; on_complete is not called). *handle (may be NULL) receives a
 * pinned handle: the callback data stays readable (not returned to the
 * pool) until flt_release_handle(), so it is safe to cancel through it at
 * any later time. */
NTSTATUS flt_issue(struct flt_volume *volume, const struct flt_op_desc *desc,
                   flt_op_handle *handle);
/* Takes another pinned handle on a live operation (e.g. for a canceller).
 * Returns a handle with data == NULL when data is NULL or already done. */
flt_op_handle flt_reference_op(struct flt_callback_data *data);
/* A handle without a pin: safe only while the data's memory stays readable,
 * that is with a type-stable pool (flt_model_pool_type_stable()); once the
 * data is completed and reused, the generation check refuses it (CD5). */
flt_op_handle flt_weak_handle(struct flt_callback_data *data);
/* Drops the pin of a pinned handle (the last one returns the data to the
 * pool); does nothing for a weak or empty handle. */
void flt_release_handle(flt_op_handle handle);

/* ---- pending and resuming (PEND) --------------------------------------- */

/* Resumes a pended operation as if the pre-op had returned `status`
 * (PEND1-PEND4). Returns STATUS_SUCCESS, or an error status when the
 * verifier refused the call (nothing was done). */
NTSTATUS flt_complete_pended_preop(struct flt_callback_data *data,
                                   FLT_PREOP_CALLBACK_STATUS status, void *context);
/* Resumes an operation whose post-op returned MORE_PROCESSING_REQUIRED. */
NTSTATUS flt_complete_pended_postop(struct flt_callback_data *data);

/* ---- deferred work items (DQ) ------------------------------------------ */

typedef void (*flt_deferred_io_workitem_routine)(struct flt_deferred_io_workitem *item,
                                                 struct flt_callback_data *data,
                                                 void *context);

struct flt_deferred_io_workitem *flt_allocate_deferred_io_work_item(void);
void flt_free_deferred_io_work_item(struct flt_deferred_io_workitem *item);
NTSTATUS flt_queue_deferred_io_work_item(struct flt_deferred_io_workitem *item,
                                         struct flt_callback_data *data,
                                         WORK_QUEUE_TYPE queue_type,
                                         flt_deferred_io_workitem_routine routine,
                                         void *context);

/* ---- cancellation (CAN) ------------------------------------------------ */

typedef void (*flt_complete_canceled_callback)(struct flt_callback_data *data);

NTSTATUS flt_set_cancel_completion(struct flt_callback_data *data,
                                   flt_complete_canceled_callback canceled_callback);
NTSTATUS flt_clear_cancel_completion(struct flt_callback_data *data);
bool flt_is_io_canceled(const struct flt_callback_data *data);

/* What one cancel attempt came to (DESIGN.md "Cancel outcomes"). `early`
 * and `lost` are told apart only when the operation completes, so the
 * immediate answer for "no routine taken" is FLT_CANCEL_NOT_TAKEN; the
 * model's counters hold the final category. */
typedef enum {
    FLT_CANCEL_WON = 0,            /* took the routine and called it */
    FLT_CANCEL_NOT_TAKEN,          /* no routine there: early or lost */
    FLT_CANCEL_LATE,               /* already completed, or a stale handle */
    FLT_CANCEL_NOT_CANCELABLE,     /* fast I/O, FS filter or paging I/O */
    FLT_CANCEL_REFUSED,            /* verifier refused (NULL handle, ...) */
} flt_cancel_result;

/* IoCancelIrp (CAN4, CAN10): TRUE when a cancel routine was called. */
bool io_cancel_irp(flt_op_handle handle);
flt_cancel_result io_cancel_irp_ex(flt_op_handle handle);
/* FltCancelIo (CAN5): for I/O started with flt_perform_asynchronous_io. */
bool flt_cancel_io(struct flt_callback_data *data);

/* ---- filter-initiated I/O (ASYNC) -------------------------------------- */

typedef void (*flt_completed_async_io_callback)(struct flt_callback_data *data, void *context);

/* Allocates callback data for an IRP operation the instance will send
 * below itself (FltAllocateCallbackData; at most APC_LEVEL). */
NTSTATUS flt_allocate_callback_data(struct flt_instance *instance, uint8_t major_function,
                                    struct flt_callback_data **out);
void flt_free_callback_data(struct flt_callback_data *data);
/* ASYNC1, ASYNC2. The callback runs exactly once for every request that is
 * not refused (STATUS_FLT_INVALID_ASYNCHRONOUS_REQUEST, or a verifier
 * error): synchronously before STATUS_SUCCESS / STATUS_FLT_IO_COMPLETE
 * return, later after STATUS_PENDING. */
NTSTATUS flt_perform_asynchronous_io(struct flt_callback_data *data,
                                     flt_completed_async_io_callback callback, void *context);

/* ---- the cancel-safe queue (CBDQ) -------------------------------------- */

struct flt_cbdq;

/* FLT_CALLBACK_DATA_QUEUE_IO_CONTEXT: the filter's per-operation token. */
struct flt_cbdq_io_context {
    struct flt_callback_data *_Atomic data;   /* model-owned; NULL once removed */
};

typedef NTSTATUS (*flt_cbdq_insert_io_fn)(struct flt_cbdq *q, struct flt_callback_data *data,
                                          void *insert_context);
typedef void (*flt_cbdq_remove_io_fn)(struct flt_cbdq *q, struct flt_callback_data *data);
typedef struct flt_callback_data *(*flt_cbdq_peek_next_io_fn)(struct flt_cbdq *q,
                                                              struct flt_callback_data *data,
                                                              void *peek_context);
typedef void (*flt_cbdq_acquire_fn)(struct flt_cbdq *q, KIRQL *irql);
typedef void (*flt_cbdq_release_fn)(struct flt_cbdq *q, KIRQL irql);
typedef void (*flt_cbdq_complete_canceled_io_fn)(struct flt_cbdq *q, struct flt_callback_data *data);

/* FLT_CALLBACK_DATA_QUEUE: embed it in the filter's own queue structure. */
struct flt_cbdq {
    struct flt_instance *instance;
    flt_cbdq_insert_io_fn insert;
    flt_cbdq_remove_io_fn remove;
    flt_cbdq_peek_next_io_fn peek_next;
    flt_cbdq_acquire_fn acquire;
    flt_cbdq_release_fn release;
    flt_cbdq_complete_canceled_io_fn complete_canceled;
    bool enabled;                  /* guarded by the filter's lock */
};

NTSTATUS flt_cbdq_initialize(struct flt_instance *instance, struct flt_cbdq *q,
                             flt_cbdq_insert_io_fn insert, flt_cbdq_remove_io_fn remove,
                             flt_cbdq_peek_next_io_fn peek_next, flt_cbdq_acquire_fn acquire,
                             flt_cbdq_release_fn release,
                             flt_cbdq_complete_canceled_io_fn complete_canceled);
NTSTATUS flt_cbdq_insert_io(struct flt_cbdq *q, struct flt_callback_data *data,
                            struct flt_cbdq_io_context *ctx, void *insert_context);
struct flt_callback_data *flt_cbdq_remove_io(struct flt_cbdq *q, struct flt_cbdq_io_context *ctx);
struct flt_callback_data *flt_cbdq_remove_next_io(struct flt_cbdq *q, void *peek_context);
void flt_cbdq_disable(struct flt_cbdq *q);
void flt_cbdq_enable(struct flt_cbdq *q);

/* ---- FS filter notification callbacks (FSF) ---------------------------- */

struct fs_filter_callback_data {
    uint32_t size_of_fs_filter_callback_data;
    uint8_t operation;             /* FS_FILTER_* below */
    struct flt_volume *volume;
    union {
        struct { FS_FILTER_SECTION_SYNC_TYPE sync_type; uint32_t page_protection; } acquire_for_section_synchronization;
        struct { uint64_t end_offset; } acquire_for_mod_write;
        uint64_t others[2];
    } parameters;
};

/* FsFilter operation codes (same values as the IRP_MJ_ codes above). */
#define FS_FILTER_ACQUIRE_FOR_SECTION_SYNCHRONIZATION ((uint8_t)-1)
#define FS_FILTER_RELEASE_FOR_SECTION_SYNCHRONIZATION ((uint8_t)-2)
#define FS_FILTER_ACQUIRE_FOR_MOD_WRITE               ((uint8_t)-3)
#define FS_FILTER_RELEASE_FOR_MOD_WRITE               ((uint8_t)-4)
#define FS_FILTER_ACQUIRE_FOR_CC_FLUSH                ((uint8_t)-5)
#define FS_FILTER_RELEASE_FOR_CC_FLUSH                ((uint8_t)-6)
#define FS_FILTER_QUERY_OPEN                          ((uint8_t)-7)

typedef NTSTATUS (*fs_filter_pre_callback)(struct fs_filter_callback_data *data,
                                           void **completion_context);
typedef void (*fs_filter_post_callback)(struct fs_filter_callback_data *data,
                                        NTSTATUS operation_status, void *completion_context);

/* FS_FILTER_CALLBACKS */
struct fs_filter_callbacks {
    uint32_t size_of_fs_filter_callbacks;   /* must be sizeof(struct fs_filter_callbacks) */
    uint32_t reserved;
    fs_filter_pre_callback pre_acquire_for_section_synchronization;
    fs_filter_post_callback post_acquire_for_section_synchronization;
    fs_filter_pre_callback pre_release_for_section_synchronization;
    fs_filter_post_callback post_release_for_section_synchronization;
    fs_filter_pre_callback pre_acquire_for_cc_flush;
    fs_filter_post_callback post_acquire_for_cc_flush;
    fs_filter_pre_callback pre_release_for_cc_flush;
    fs_filter_post_callback post_release_for_cc_flush;
    fs_filter_pre_callback pre_acquire_for_mod_write;
    fs_filter_post_callback post_acquire_for_mod_write;
    fs_filter_pre_callback pre_release_for_mod_write;
    fs_filter_post_callback post_release_for_mod_write;
    fs_filter_pre_callback pre_query_open;
    fs_filter_post_callback post_query_open;
};

/* FsRtlRegisterFileSystemFilterCallbacks, on one volume; the callbacks
 * registered last sit on top. The structure is copied. FSF1. */
NTSTATUS fsrtl_register_file_system_filter_callbacks(struct flt_volume *volume,
                                                     const struct fs_filter_callbacks *callbacks);
/* Runs one FS filter notification through the registered callbacks and
 * the file system (FSF2-FSF4). Returns the operation's status. */
NTSTATUS fsrtl_notify(struct flt_volume *volume, uint8_t operation,
                      FS_FILTER_SECTION_SYNC_TYPE sync_type);
/* QueryOpen (FSF5): the fast path, or the slow path (create, query
 * information, close through the instance stack) when a pre callback
 * returns STATUS_FLT_DISALLOW_FSFILTER_IO. *used_slow_path says which. */
NTSTATUS fsrtl_query_open(struct flt_volume *volume, bool *used_slow_path);

/* ---- IRQL (IRQL1) ------------------------------------------------------ */

KIRQL ke_get_current_irql(void);
/* Raises to new_irql (>= current, else a verifier error); returns the old. */
KIRQL ke_raise_irql(KIRQL new_irql);
void ke_lower_irql(KIRQL old_irql);

#endif
