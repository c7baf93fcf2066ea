/* Fixtures for the SPEC conformance tests; see test_support.h. */
#include "test_support.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct tenv T;
struct tcancel TC;

static const uint8_t fltmgr_ops[] = {
    IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION, IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION,
    IRP_MJ_ACQUIRE_FOR_MOD_WRITE, IRP_MJ_RELEASE_FOR_MOD_WRITE,
    IRP_MJ_ACQUIRE_FOR_CC_FLUSH, IRP_MJ_RELEASE_FOR_CC_FLUSH,
    IRP_MJ_QUERY_OPEN, IRP_MJ_VOLUME_MOUNT, IRP_MJ_VOLUME_DISMOUNT,
};

void tsleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

bool twait_atomic(_Atomic int *v, int target, int ms)
{
    for (int i = 0; i <= ms; i++) {
        if (atomic_load_explicit(v, memory_order_acquire) >= target)
            return true;
        tsleep_ms(1);
    }
    return atomic_load_explicit(v, memory_order_acquire) >= target;
}

/* ---- event log ----------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[4096];

void tlog(const char *fmt, ...)
{
    char item[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    size_t len = strlen(log_buf);
    snprintf(log_buf + len, sizeof log_buf - len, "%s%s", len ? " " : "", item);
    pthread_mutex_unlock(&log_lock);
}

const char *tlog_str(void)
{
    static char copy[sizeof log_buf];
    pthread_mutex_lock(&log_lock);
    memcpy(copy, log_buf, sizeof copy);
    pthread_mutex_unlock(&log_lock);
    return copy;
}

void tlog_reset(void)
{
    pthread_mutex_lock(&log_lock);
    log_buf[0] = 0;
    pthread_mutex_unlock(&log_lock);
}

/* ---- model ---------------------------------------------------------------- */

void tenv_setup(const struct tenv_opts *o)
{
    memset(&T, 0, sizeof T);
    memset(&TC, 0, sizeof TC);
    tlog_reset();
    struct flt_model_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.pool = o->pool;
    cfg.queue = o->queue;
    cfg.handoff = o->handoff;
    cfg.ncpus = o->ncpus;
    cfg.nworkers = o->nworkers;
    cfg.pool_capacity = o->pool_capacity;
    cfg.idle = PB_IDLE_PARK;
    cfg.verifier_checks_off = o->checks_off;
    cfg.verifier_log = false;
    const char *err = NULL;
    NTSTATUS s = flt_model_create(&cfg, &T.model, &err);
    cr_assert_eq(s, STATUS_SUCCESS, "flt_model_create: 0x%08X (%s)", (unsigned)s,
                 err ? err : "-");
    cr_assert_not_null(T.model);
    flt_thread_attach(T.model, 0);
    T.main_thread = pthread_self();
    memset(&T.fs, 0, sizeof T.fs);
    T.fs.service_ns = 0;
    s = flt_volume_create(T.model, "C:", &T.fs, &T.vol);
    cr_assert_eq(s, STATUS_SUCCESS, "flt_volume_create: 0x%08X", (unsigned)s);
    cr_assert_not_null(T.vol);
}

void tenv_setup_simple(unsigned nworkers)
{
    struct tenv_opts o = { .nworkers = nworkers };
    tenv_setup(&o);
}

void tenv_teardown(void)
{
    if (!T.model)
        return;
    for (int i = 0; i < T.nfilters; i++)
        if (T.filters[i].filter)
            flt_unregister_filter(T.filters[i].filter);
    if (T.vol)
        flt_volume_destroy(T.vol);
    flt_model_destroy(T.model);
    T.model = NULL;
    T.vol = NULL;
    T.nfilters = 0;
}

void tenv_fini(void) { tenv_teardown(); }

/* ---- scripted filters ----------------------------------------------------- */

static struct tf *tf_of(const struct flt_related_objects *objs)
{
    cr_assert_not_null(objs);
    cr_assert_not_null(objs->filter);
    return flt_filter_context(objs->filter);
}

static FLT_PREOP_CALLBACK_STATUS tf_pre(struct flt_callback_data *data,
                                        const struct flt_related_objects *objs, void **ctx)
{
    struct tf *f = tf_of(objs);
    atomic_store_explicit(&f->pre_flags_seen, data->flags, memory_order_relaxed);
    atomic_fetch_add_explicit(&f->pre_major_calls[data->iopb->major_function], 1,
                              memory_order_relaxed);
    atomic_store(&f->last_pre_data, data);
    atomic_fetch_add(&f->pre_calls, 1);
    tlog("pre:%s", f->name);
    if (f->pre_hook)
        return f->pre_hook(f, data, ctx);
    if (f->pre_ret == FLT_PREOP_COMPLETE || f->pre_ret == FLT_PREOP_DISALLOW_FASTIO) {
        if (f->pre_ret == FLT_PREOP_COMPLETE) {
            data->io_status.status = f->complete_status;
            data->io_status.information = f->complete_info;
        }
    }
    *ctx = f->pre_ctx;
    return f->pre_ret;
}

static FLT_POSTOP_CALLBACK_STATUS tf_post(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void *ctx,
                                          uint32_t flags)
{
    struct tf *f = tf_of(objs);
    f->last_post_data = data;
    f->post_ctx_seen = ctx;
    f->post_flags_seen = flags;
    f->post_status_seen = data->io_status.status;
    f->post_thread = pthread_self();
    f->post_irql = ke_get_current_irql();
    f->fs_count_at_post = T.vol ? flt_volume_fs_count(T.vol, data->iopb->major_function) : 0;
    tlog("post:%s", f->name);
    FLT_POSTOP_CALLBACK_STATUS r = f->post_hook ? f->post_hook(f, data, ctx, flags) : f->post_ret;
    atomic_fetch_add_explicit(&f->post_calls, 1, memory_order_release);
    return r;
}

struct tf *tf_add(const char *name, const char *altitude, bool has_post)
{
    cr_assert_lt(T.nfilters, TF_MAX);
    struct tf *f = &T.filters[T.nfilters++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    f->has_post = has_post;
    f->pre_ret = has_post ? FLT_PREOP_SUCCESS_WITH_CALLBACK : FLT_PREOP_SUCCESS_NO_CALLBACK;
    f->post_ret = FLT_POSTOP_FINISHED_PROCESSING;
    int n = 0;
    for (unsigned mj = 0; mj <= IRP_MJ_MAXIMUM_FUNCTION; mj++)
        f->ops[n++] = (struct flt_operation_registration){
            (uint8_t)mj, 0, tf_pre, has_post ? tf_post : NULL };
    for (size_t i = 0; i < sizeof fltmgr_ops; i++)
        f->ops[n++] = (struct flt_operation_registration){
            fltmgr_ops[i], 0, tf_pre, has_post ? tf_post : NULL };
    f->ops[n++] = (struct flt_operation_registration){ IRP_MJ_OPERATION_END, 0, NULL, NULL };
    cr_assert_leq(n, (int)(sizeof f->ops / sizeof f->ops[0]));
    f->reg.name = f->name;
    f->reg.operation_registration = f->ops;
    f->reg.filter_context = f;
    NTSTATUS s = flt_register_filter(T.model, &f->reg, &f->filter);
    cr_assert_eq(s, STATUS_SUCCESS, "flt_register_filter(%s): 0x%08X", name, (unsigned)s);
    if (!altitude)
        return f;
    s = flt_attach_volume(f->filter, T.vol, altitude, &f->instance);
    cr_assert_eq(s, STATUS_SUCCESS, "flt_attach_volume(%s, %s): 0x%08X", name, altitude,
                 (unsigned)s);
    cr_assert_not_null(f->instance);
    return f;
}

FLT_PREOP_CALLBACK_STATUS tf_pre_pend(struct tf *f, struct flt_callback_data *data, void **ctx)
{
    *ctx = NULL;
    return FLT_PREOP_PENDING;
}

/* ---- requester ------------------------------------------------------------ */

void treq_done(struct flt_callback_data *data, void *context)
{
    struct treq *r = context;
    r->status = data->io_status.status;
    r->info = data->io_status.information;
    r->thread = pthread_self();
    r->data = data;
    r->op_id = data->op_id;
    r->irql = ke_get_current_irql();
    r->times = data->times;
    atomic_fetch_add_explicit(&r->calls, 1, memory_order_release);
}

struct flt_op_desc tdesc(uint32_t type, uint8_t major, uint32_t irp_flags, struct treq *r)
{
    struct flt_op_desc d;
    memset(&d, 0, sizeof d);
    d.operation_type = type;
    d.major_function = major;
    d.irp_flags = irp_flags;
    d.parameters.read.byte_offset = 0;
    d.parameters.read.length = 4096;
    d.on_complete = r ? treq_done : NULL;
    d.context = r;
    return d;
}

NTSTATUS tissue(uint32_t type, uint8_t major, uint32_t irp_flags, struct treq *r,
                flt_op_handle *handle)
{
    struct flt_op_desc d = tdesc(type, major, irp_flags, r);
    return flt_issue(T.vol, &d, handle);
}

NTSTATUS tissue_read(struct treq *r, flt_op_handle *handle)
{
    return tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, IRP_MJ_READ, 0, r, handle);
}

/* ---- cancel --------------------------------------------------------------- */

void tcancel_cb(struct flt_callback_data *data)
{
    TC.irql = ke_get_current_irql();
    TC.locks_held = pb_locks_held;
    TC.thread = pthread_self();
    TC.data = data;
    data->io_status.status = STATUS_CANCELLED;
    data->io_status.information = 0;
    TC.complete_ret = flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
    atomic_fetch_add_explicit(&TC.calls, 1, memory_order_release);
}

NTSTATUS tcomplete(struct flt_callback_data *data, NTSTATUS status, uint64_t info)
{
    data->io_status.status = status;
    data->io_status.information = info;
    return flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
}

/* ---- checks --------------------------------------------------------------- */

struct pb_counters tcounters(void)
{
    struct pb_counters c;
    memset(&c, 0, sizeof c);
    flt_model_counters(T.model, &c);
    return c;
}

static const char *const all_rules[] = {
    "NT1", "NT2", "CD1", "CD2", "CD3", "CD4", "CD5", "PRE1", "PRE2", "PRE3", "PRE4", "PRE5",
    "PRE6", "PRE7", "PRE8", "POST1", "POST2", "PEND1", "PEND2", "PEND3", "PEND4", "PEND5",
    "PEND6", "DQ1", "DQ2", "DQ3", "DQ4", "CAN1", "CAN2", "CAN3", "CAN4", "CAN5", "CAN6", "CAN7",
    "CAN8", "CAN9", "CAN10", "CBDQ1", "CBDQ2", "CBDQ3", "CBDQ4", "CBDQ5", "ASYNC1", "ASYNC2",
    "FSF1", "FSF2", "FSF3", "FSF4", "FSF5", "IRQL1", "VER1", "VER2",
};

const char *tviolations(void)
{
    static char buf[512];
    buf[0] = 0;
    size_t len = 0;
    for (size_t i = 0; i < sizeof all_rules / sizeof all_rules[0]; i++) {
        uint64_t n = flt_verifier_count(T.model, all_rules[i]);
        if (n && len < sizeof buf)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s=%llu", len ? " " : "",
                                    all_rules[i], (unsigned long long)n);
    }
    struct flt_violation v;
    if (flt_verifier_last(T.model, &v) && len < sizeof buf)
        snprintf(buf + len, sizeof buf - len, "; last %s in %s: %s", v.rule, v.routine, v.detail);
    return buf;
}

void tassert_quiet(bool expect_violations)
{
    /* An operation can complete inside a work routine before the worker
     * drops the work item's reference: wait for the workers first. */
    cr_assert(flt_model_quiesce(T.model, 5000), "work items still queued after 5 s");
    struct flt_invariants inv;
    memset(&inv, 0, sizeof inv);
    flt_model_check(T.model, expect_violations, &inv);
    cr_assert(inv.ok, "invariants broken: %s (in_flight %lld, outstanding %lld) [%s]", inv.why,
              (long long)inv.in_flight, (long long)inv.outstanding_data, tviolations());
    cr_assert_eq(inv.in_flight, 0);
    cr_assert_eq(inv.outstanding_data, 0);
    cr_assert_eq(inv.routine_left_set, 0);
    cr_assert_eq(flt_model_outstanding(T.model), 0);
    if (!expect_violations)
        cr_assert_eq(flt_verifier_count(T.model, NULL), 0, "unexpected violations: %llu [%s]",
                     (unsigned long long)flt_verifier_count(T.model, NULL), tviolations());
}

void tassert_named(NTSTATUS s)
{
    cr_assert_not_null(nt_status_name(s), "status 0x%08X has no name (NT2)", (unsigned)s);
}

/* Criterion under the sanitizers: see core/test/sanitizers/criterion_sanitizers.c,
 * linked into every test program. */
