/* `pendbench demo`: a demonstration of the Filter Manager model written
 * directly against the flt_* API, as a minifilter author would: a few
 * thousand operations pended by a minifilter, posted to deferred work
 * queues, completed by workers or cancelled by a canceller thread, through
 * a two-filter stack; then the counters and the invariants. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flt_kernel.h"
#include "flt_model.h"
#include "pb_err.h"
#include "pb_strategy.h"
#include "pb_tsc.h"
#include "commands.h"

struct demo {
    struct flt_volume *vol;
    unsigned ops;
    unsigned cancel_every;          /* cancel one op in this many; 0 = none */
    uint64_t service_ns;
    _Atomic unsigned done;
    /* Handles handed from the requester to the canceller. */
    flt_op_handle *slots;
    _Atomic unsigned published;
    _Atomic uint64_t post_calls;
};

static struct demo demo;

/* ---- the pending minifilter ------------------------------------------------ */

static void on_canceled(struct flt_callback_data *data)
{
    data->io_status.status = STATUS_CANCELLED;          /* CAN9 */
    data->io_status.information = 0;
    flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
}

static void work_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *data,
                         void *ctx)
{
    flt_free_deferred_io_work_item(item);
    pb_spin_ns(demo.service_ns);
    /* CAN3: only the side that takes the routine may complete. */
    if (flt_clear_cancel_completion(data) == STATUS_SUCCESS)
        flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static FLT_PREOP_CALLBACK_STATUS pend_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    if (!item)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    NTSTATUS st = flt_set_cancel_completion(data, on_canceled);
    if (st == STATUS_CANCELLED) {                        /* CAN8: cancelled first */
        flt_free_deferred_io_work_item(item);
        data->io_status.status = STATUS_CANCELLED;
        data->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    }
    st = flt_queue_deferred_io_work_item(item, data, DelayedWorkQueue, work_routine, NULL);
    if (st != STATUS_SUCCESS) {
        flt_free_deferred_io_work_item(item);
        if (flt_clear_cancel_completion(data) == STATUS_SUCCESS)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
        return FLT_PREOP_PENDING;                        /* the cancel completes it */
    }
    return FLT_PREOP_PENDING;
}

/* ---- a counting minifilter below it ----------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS count_pre(struct flt_callback_data *data,
                                           const struct flt_related_objects *objs, void **ctx)
{
    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

static FLT_POSTOP_CALLBACK_STATUS count_post(struct flt_callback_data *data,
                                             const struct flt_related_objects *objs, void *ctx,
                                             uint32_t flags)
{
    atomic_fetch_add_explicit(&demo.post_calls, 1, memory_order_relaxed);
    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* ---- requester and canceller ---------------------------------------------- */

static void on_complete(struct flt_callback_data *data, void *ctx)
{
    atomic_fetch_add_explicit(&demo.done, 1, memory_order_release);
}

static void *requester(void *arg)
{
    flt_thread_attach(flt_volume_model(demo.vol), 0);
    for (unsigned i = 0; i < demo.ops; i++) {
        struct flt_op_desc d = {
            .operation_type = FLTFL_CALLBACK_DATA_IRP_OPERATION,
            .major_function = (i & 1) ? IRP_MJ_WRITE : IRP_MJ_READ,
            .on_complete = on_complete,
        };
        d.parameters.read.length = 4096;
        bool to_cancel = demo.cancel_every && i % demo.cancel_every == 0;
        flt_op_handle h;
        NTSTATUS st = flt_issue(demo.vol, &d, to_cancel ? &h : NULL);
        if (to_cancel) {
            unsigned n = atomic_load_explicit(&demo.published, memory_order_relaxed);
            demo.slots[n] = h;        /* may be empty if issue failed */
            atomic_store_explicit(&demo.published, n + 1, memory_order_release);
        }
        (void)st;
        /* Closed loop with a window of 64 operations in flight. */
        while (i + 1 - atomic_load_explicit(&demo.done, memory_order_acquire) > 64)
            pb_cpu_relax();
    }
    return NULL;
}

static void *canceller(void *arg)
{
    unsigned total = demo.cancel_every ? (demo.ops + demo.cancel_every - 1) / demo.cancel_every : 0;
    flt_thread_attach(flt_volume_model(demo.vol), 1);
    for (unsigned next = 0; next < total;) {
        if (next >= atomic_load_explicit(&demo.published, memory_order_acquire)) {
            pb_cpu_relax();
            continue;
        }
        flt_op_handle h = demo.slots[next++];
        if (h.data) {
            io_cancel_irp(h);
            flt_release_handle(h);
        }
    }
    return NULL;
}

enum { DEMO_OPS, DEMO_CANCEL_EVERY, DEMO_SERVICE_NS, DEMO_POOL, DEMO_QUEUE, DEMO_HANDOFF };

static const struct pb_opt demo_opts[] = {
    { "ops", 0, "N", "operations, 1 to 100M, k/M allowed (default 20000)", DEMO_OPS },
    { "cancel-every", 0, "K", "cancel one operation in K, up to 1M (default 4; 0: no cancels)",
      DEMO_CANCEL_EVERY },
    { "service-ns", 0, "NS", "the workers' service time per operation in ns, up to 1G "
      "(1000000000; default 200)", DEMO_SERVICE_NS },
    { "pool", 0, "NAME", "callback-data pool strategy (default: the model's)", DEMO_POOL },
    { "queue", 0, "NAME", "deferred work queue strategy (default: the model's)", DEMO_QUEUE },
    { "handoff", 0, "NAME", "cancel/complete handoff strategy (default: the model's)",
      DEMO_HANDOFF },
    { NULL, 0, NULL, NULL, 0 },
};

struct demo_args {
    uint64_t ops, cancel_every, service_ns;
    struct flt_model_config *cfg;
};

/* The demo builds its model from built-in strategies only: a plugin path
 * is not a name it knows, and the message says where plugins go. */
static int demo_strategy(const char *kind, bool found, const char *v, char *err, size_t errlen)
{
    if (found)
        return 0;
    char shown[96];
    pb_text_escape(v, shown, sizeof shown);
    if (strchr(v, '/'))
        return pb_fail(err, errlen, "'%s': demo takes built-in %s strategies only (`pendbench "
                       "list`); a plugin runs with `pendbench run --%s %s`", shown, kind, kind,
                       shown);
    return pb_fail(err, errlen, "unknown %s strategy '%s' (see `pendbench list`)", kind, shown);
}

static int demo_set(void *ctx, const struct pb_opt *o, const char *v, char *err, size_t errlen)
{
    struct demo_args *a = ctx;
    switch (o->id) {
    case DEMO_OPS:
        return pb_opt_count(v, 1, 100000000, &a->ops, err, errlen);
    case DEMO_CANCEL_EVERY:
        return pb_opt_count(v, 0, 1000000, &a->cancel_every, err, errlen);
    case DEMO_SERVICE_NS:
        return pb_opt_count(v, 0, 1000000000, &a->service_ns, err, errlen);
    case DEMO_POOL:
        a->cfg->pool = v;
        return demo_strategy("pool", pb_pool_find(v) != NULL, v, err, errlen);
    case DEMO_QUEUE:
        a->cfg->queue = v;
        return demo_strategy("queue", pb_queue_find(v) != NULL, v, err, errlen);
    case DEMO_HANDOFF:
        a->cfg->handoff = v;
        return demo_strategy("handoff", pb_handoff_find(v) != NULL, v, err, errlen);
    }
    return -1;
}

int pb_cmd_demo(int argc, char **argv)
{
    struct flt_model_config cfg = { .ncpus = 2, .nworkers = 2, .idle = PB_IDLE_SPIN_PARK,
                                     .verifier_log = true };
    struct demo_args args = { .ops = 20000, .cancel_every = 4, .service_ns = 200, .cfg = &cfg };
    const struct pb_opt_group groups[] = { { "options", demo_opts, demo_set, &args } };
    const struct pb_cli cli = {
        .verb = "demo",
        .usage = "pendbench demo [--ops N] [--cancel-every K] [--service-ns NS]\n"
                 "                      [--pool NAME] [--queue NAME] [--handoff NAME]\n",
        .about = "Demonstrates the Filter Manager model: N operations are pended by a\n"
                 "minifilter, posted to deferred work queues, and completed by two workers,\n"
                 "while a canceller cancels one in K. Prints the counters and checks the\n"
                 "invariants; exits 1 if one fails.\n",
        .groups = groups,
        .ngroups = 1,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO)
        return pb_cli_exit(pr);
    uint64_t ops = args.ops, cancel_every = args.cancel_every, service_ns = args.service_ns;

    pb_tsc_calibrate(20);
    struct flt_model *m;
    const char *err;
    NTSTATUS st = flt_model_create(&cfg, &m, &err);
    if (st != STATUS_SUCCESS) {
        fprintf(stderr, "pendbench demo: cannot build the model: %s\n", err);
        return 2;
    }
    struct flt_fs_config fs = { .service_ns = 0 };
    flt_volume_create(m, "demo", &fs, &demo.vol);
    static const struct flt_operation_registration pend_ops[] = {
        { IRP_MJ_READ, 0, pend_pre, NULL },
        { IRP_MJ_WRITE, 0, pend_pre, NULL },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    static const struct flt_operation_registration count_ops[] = {
        { IRP_MJ_READ, 0, count_pre, count_post },
        { IRP_MJ_WRITE, 0, count_pre, count_post },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    struct flt_registration r1 = { .name = "pender", .operation_registration = pend_ops };
    struct flt_registration r2 = { .name = "counter", .operation_registration = count_ops };
    struct flt_filter *f1, *f2;
    struct flt_instance *i1, *i2;
    flt_register_filter(m, &r1, &f1);
    flt_register_filter(m, &r2, &f2);
    flt_attach_volume(f1, demo.vol, "385100", &i1);
    flt_attach_volume(f2, demo.vol, "320000", &i2);

    demo.ops = (unsigned)ops;
    demo.cancel_every = (unsigned)cancel_every;
    demo.service_ns = service_ns;
    demo.slots = calloc(demo.ops, sizeof *demo.slots);
    if (!demo.slots) {
        fprintf(stderr, "pendbench demo: out of memory\n");
        return 2;
    }
    uint64_t t0 = pb_tsc_now();
    pthread_t rq, cn;
    pthread_create(&rq, NULL, requester, NULL);
    pthread_create(&cn, NULL, canceller, NULL);
    pthread_join(rq, NULL);
    pthread_join(cn, NULL);
    while (atomic_load_explicit(&demo.done, memory_order_acquire) < demo.ops)
        pb_cpu_relax();
    double secs = pb_tsc_to_ns(pb_tsc_now() - t0) / 1e9;

    flt_model_quiesce(m, 5000);
    struct pb_counters cs;
    flt_model_counters(m, &cs);
    struct flt_invariants inv;
    flt_model_check(m, false, &inv);
    printf("pendbench demo: %u operations through a 2-filter stack, pool %s, queue %s, handoff %s\n",
           demo.ops, flt_model_pool_name(m), flt_model_queue_name(m), flt_model_handoff_name(m));
    printf("  %.0f ops/s over %.3f s; post-ops called %" PRIu64 "; FS saw %" PRIu64 " reads, %" PRIu64 " writes\n",
           demo.ops / secs, secs, atomic_load(&demo.post_calls),
           flt_volume_fs_count(demo.vol, IRP_MJ_READ), flt_volume_fs_count(demo.vol, IRP_MJ_WRITE));
#define PRINT_COUNTER_(name, unit, doc) printf("  %-24s %12" PRIu64 " %-6s %s\n", #name, cs.name, unit, doc);
    PB_COUNTERS(PRINT_COUNTER_)
#undef PRINT_COUNTER_
    printf("  cancel success rate      %11.1f%%\n",
           cs.cancel_attempted ? 100.0 * (double)cs.cancel_won / (double)cs.cancel_attempted : 0.0);
    printf("invariants: %s%s%s\n", inv.ok ? "ok" : "FAILED", inv.ok ? "" : ": ", inv.why);

    flt_volume_destroy(demo.vol);
    flt_unregister_filter(f1);
    flt_unregister_filter(f2);
    flt_model_destroy(m);
    free(demo.slots);
    return inv.ok ? 0 : 1;
}
