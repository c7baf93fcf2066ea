/* Fixtures for the SPEC conformance tests (core/test/test_*.c).
 *
 * Criterion runs every test in its own process, so the fixture lives in
 * globals: one model (T.model), one volume (T.vol) and up to
 * TF_MAX scripted test filters. A test filter's pre-op and post-op do what
 * its fields say (return value, status to set, completion context) or call
 * a hook, and record what they saw (calls, data, context, flags, thread,
 * IRQL). Every test tears the fixture down with tenv_teardown() (also run
 * as the Criterion .fini of the suites that use tenv_fini). */
#ifndef PB_TEST_SUPPORT_H
#define PB_TEST_SUPPORT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "flt_kernel.h"
#include "flt_model.h"

#define TF_MAX 6

struct tf;
typedef FLT_PREOP_CALLBACK_STATUS (*tf_pre_fn)(struct tf *f, struct flt_callback_data *data,
                                               void **completion_context);
typedef FLT_POSTOP_CALLBACK_STATUS (*tf_post_fn)(struct tf *f, struct flt_callback_data *data,
                                                 void *completion_context, uint32_t flags);

/* A scripted minifilter. */
struct tf {
    char name[16];
    bool has_post;                         /* registers a post-op */
    /* Script for the pre-op when pre_hook is NULL. */
    FLT_PREOP_CALLBACK_STATUS pre_ret;
    NTSTATUS complete_status;              /* io_status set when pre_ret is COMPLETE */
    uint64_t complete_info;
    void *pre_ctx;                         /* completion context returned */
    /* Script for the post-op when post_hook is NULL. */
    FLT_POSTOP_CALLBACK_STATUS post_ret;
    tf_pre_fn pre_hook;
    tf_post_fn post_hook;
    void *user;

    /* What it saw. */
    _Atomic int pre_calls;
    _Atomic int post_calls;
    struct flt_callback_data *_Atomic last_pre_data;
    struct flt_callback_data *last_post_data;
    void *post_ctx_seen;
    uint32_t post_flags_seen;
    NTSTATUS post_status_seen;
    _Atomic uint32_t pre_flags_seen;       /* data->flags in the pre-op */
    pthread_t post_thread;
    KIRQL post_irql;
    uint64_t fs_count_at_post;             /* fs count of the op's major when post ran */
    _Atomic int pre_major_calls[256];

    struct flt_filter *filter;
    struct flt_instance *instance;
    struct flt_operation_registration ops[48];
    struct flt_registration reg;
};

struct tenv_opts {
    const char *pool, *queue, *handoff;    /* NULL: defaults */
    unsigned nworkers;
    unsigned ncpus;
    size_t pool_capacity;
    bool checks_off;
};

struct tenv {
    struct flt_model *model;
    struct flt_volume *vol;
    struct flt_fs_config fs;
    struct tf filters[TF_MAX];
    int nfilters;
    pthread_t main_thread;
};

extern struct tenv T;

/* Creates the model (verifier_log off, service_ns 0), a volume, and
 * attaches the calling thread on cpu 0. nworkers 0: deterministic. */
void tenv_setup(const struct tenv_opts *o);
void tenv_setup_simple(unsigned nworkers);
void tenv_teardown(void);
/* Criterion .fini for suites: tears down whatever is left. */
void tenv_fini(void);

/* Registers a scripted filter (all majors) and attaches it at altitude.
 * Default script: pre SUCCESS_WITH_CALLBACK when has_post, else
 * SUCCESS_NO_CALLBACK; post FINISHED_PROCESSING. altitude NULL: registered,
 * not attached. */
struct tf *tf_add(const char *name, const char *altitude, bool has_post);

/* A requester: on_complete records here. */
struct treq {
    _Atomic int calls;
    NTSTATUS status;
    uint64_t info;
    pthread_t thread;
    struct flt_callback_data *data;
    uint64_t op_id;
    KIRQL irql;
    struct flt_op_times times;     /* data->times as completion left them */
};

void treq_done(struct flt_callback_data *data, void *context);

/* The description tissue issues: 4096 bytes at offset 0, completing into r
 * (NULL: no completion routine). */
struct flt_op_desc tdesc(uint32_t type, uint8_t major, uint32_t irp_flags, struct treq *r);
/* Issues one operation on T.vol. type: FLTFL_CALLBACK_DATA_*_OPERATION. */
NTSTATUS tissue(uint32_t type, uint8_t major, uint32_t irp_flags, struct treq *r,
                flt_op_handle *handle);
/* IRP_MJ_READ of 4096 bytes at 0, IRP operation. */
NTSTATUS tissue_read(struct treq *r, flt_op_handle *handle);

/* Pre hook: stashes data in f->last_pre_data, returns PENDING. */
FLT_PREOP_CALLBACK_STATUS tf_pre_pend(struct tf *f, struct flt_callback_data *data, void **ctx);

/* Canceled callback used by the tests: records, then completes with
 * STATUS_CANCELLED / 0 (CAN9). */
struct tcancel {
    _Atomic int calls;
    KIRQL irql;
    unsigned locks_held;
    pthread_t thread;
    NTSTATUS complete_ret;
    struct flt_callback_data *data;
};
extern struct tcancel TC;
void tcancel_cb(struct flt_callback_data *data);

/* Completes a pended op with FLT_PREOP_COMPLETE and the given status. */
NTSTATUS tcomplete(struct flt_callback_data *data, NTSTATUS status, uint64_t info);

/* Waits (polling, 1 ms) until *v >= target or ms elapse; true if reached. */
bool twait_atomic(_Atomic int *v, int target, int ms);
void tsleep_ms(int ms);

/* Event log for ordering checks ("pre:A post:B ..."). */
void tlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *tlog_str(void);
void tlog_reset(void);

struct pb_counters tcounters(void);
/* Asserts flt_model_check() is ok and nothing is in flight / outstanding. */
void tassert_quiet(bool expect_violations);
/* "PRE8=3 PEND4=1; last ...": the model's violations, by rule. */
const char *tviolations(void);
/* Asserts the status has a name (NT2). */
void tassert_named(NTSTATUS s);

#endif
