/* pendbench-micro: the model's pend -> complete path, end to end, next to
 * the bare core-to-core round trip it is judged against (issue #12).
 *
 *   model/pend_complete/POOL/QUEUE/HANDOFF   one op = one READ issued by
 *       this thread (pinned to the first allowed CPU) through one pend
 *       filter, the FltMgr pattern the workloads use (allocate a deferred
 *       work item, set the cancel routine, queue the item, return
 *       PENDING); the model's one worker (idle spin, pinned to the second
 *       allowed CPU) runs the item: frees it, clears the cancel routine,
 *       resumes the op, which completes in the worker; the completion
 *       callback records the op's latency and releases a flag that this
 *       thread waits for before issuing the next op. One op in flight.
 *
 * Registered for the default strategies (pb_scenario_defaults: what
 * `pendbench run` uses unless told otherwise) and for the global-mutex
 * baseline queue.
 *
 * Counters:
 *   ns_per_op      wall time per op (preemptions included)
 *   round_trip_ns  median of the op's round trip as the issuing thread
 *                  sees it: flt_issue to the completion flag (two
 *                  hand-overs), timed with the TSC around each op
 *   p50_ns, p99_ns pend -> complete as the run engine measures it: the
 *                  model's own stamps, t_complete - t_issue (one way)
 *   c2c_ns         the c2c round trip between the same two CPUs, measured
 *                  (pb_calibrate.h) just before and just after the run
 *                  (the mean of the two medians); c2c_moved is there (1)
 *                  when they differ by more than 30% (a VM's vCPUs moved)
 * --summary divides p50_ns and round_trip_ns by c2c_ns, and p99_ns by
 * p50_ns.
 *
 * Correctness is not assumed: after the loop the model's invariants must
 * hold (every op completed once, no callback data or item left out), or
 * the benchmark fails. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flt_kernel.h"
#include "flt_model.h"
#include "micro.h"
#include "pb_calibrate.h"
#include "pb_hist.h"
#include "pb_scenario.h"

struct model_ctx {
    char pool[64], queue[64], handoff[64];
    struct flt_model *model;
    struct flt_volume *vol;
    struct flt_filter *filter;
    struct flt_instance *inst;
    struct pb_tick_scale scale;
    struct pb_hist *hist;          /* one way; written by the completing thread only */
    struct pb_hist *rt;            /* round trips; written by the issuing thread */
    /* The completion flag on its own line: its hand-over back to the
     * issuer is the second half of the round trip. */
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t done;
};

static void on_worker_start(void *arg, unsigned worker)
{
    struct micro_affinity unused;
    micro_pin(1u + worker, &unused);    /* the worker thread ends with the model */
}

static void cancelled(struct flt_callback_data *data)
{
    data->io_status.status = STATUS_CANCELLED;
    data->io_status.information = 0;
    flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
}

static void work(struct flt_deferred_io_workitem *item, struct flt_callback_data *data, void *ctx)
{
    flt_free_deferred_io_work_item(item);
    if (flt_clear_cancel_completion(data) != STATUS_SUCCESS)
        return;                                  /* a cancel owns it (none here) */
    flt_complete_pended_preop(data, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
}

static FLT_PREOP_CALLBACK_STATUS pend_pre(struct flt_callback_data *data,
                                          const struct flt_related_objects *objs, void **ctx)
{
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    if (!item)
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    if (flt_set_cancel_completion(data, cancelled) == STATUS_CANCELLED) {
        flt_free_deferred_io_work_item(item);
        data->io_status.status = STATUS_CANCELLED;
        return FLT_PREOP_COMPLETE;
    }
    if (flt_queue_deferred_io_work_item(item, data, DelayedWorkQueue, work, NULL) !=
        STATUS_SUCCESS) {
        flt_free_deferred_io_work_item(item);
        if (flt_clear_cancel_completion(data) == STATUS_SUCCESS)
            return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }
    return FLT_PREOP_PENDING;
}

/* In the completing thread (the worker): record, then release the issuer. */
static void on_complete(struct flt_callback_data *data, void *arg)
{
    struct model_ctx *c = arg;
    uint64_t a = data->times.t_issue, b = data->times.t_complete;
    pb_hist_record(c->hist, b > a ? pb_ticks_to_ns(&c->scale, b - a) : 0);
    uint64_t d = atomic_load_explicit(&c->done, memory_order_relaxed);
    /* release: the issuer that sees the count sees the record. */
    atomic_store_explicit(&c->done, d + 1, memory_order_release);
}

static void model_teardown(struct model_ctx *c)
{
    if (c->vol)
        flt_volume_destroy(c->vol);
    if (c->filter)
        flt_unregister_filter(c->filter);
    flt_model_destroy(c->model);
    c->vol = NULL;
    c->filter = NULL;
    c->inst = NULL;
    c->model = NULL;
}

static const char *model_setup(struct model_ctx *c)
{
    static const struct flt_operation_registration ops[] = {
        { IRP_MJ_READ, 0, pend_pre, NULL },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    if (micro_cpus_allowed() < 2)
        return "needs two CPUs (the issuer and the worker on different CPUs)";
    static const unsigned worker_cpu[1] = { 1 };
    struct pb_scenario defaults;
    pb_scenario_defaults(&defaults);
    struct flt_model_config mc = {
        .pool = c->pool, .queue = c->queue, .handoff = c->handoff,
        .ncpus = 2, .nworkers = 1, .worker_cpu = worker_cpu,
        .idle = PB_IDLE_SPIN,
        .on_worker_start = on_worker_start, .hook_arg = c,
        .verifier_checks_off = true,
        .split_every = defaults.split_every,   /* t_dequeue sampled as a run samples it */
    };
    const char *err = NULL;
    if (flt_model_create(&mc, &c->model, &err) != STATUS_SUCCESS) {
        c->model = NULL;
        return err ? err : "the model could not be built";
    }
    struct flt_fs_config fs = { .service_ns = 0 };
    struct flt_registration reg = { .name = "pend", .operation_registration = ops };
    if (flt_volume_create(c->model, "micro", &fs, &c->vol) != STATUS_SUCCESS) {
        c->vol = NULL;
        return "cannot create the volume";
    }
    if (flt_register_filter(c->model, &reg, &c->filter) != STATUS_SUCCESS) {
        c->filter = NULL;
        return "cannot register the pend filter";
    }
    if (flt_attach_volume(c->filter, c->vol, "370000", &c->inst) != STATUS_SUCCESS)
        return "cannot attach the pend filter";
    flt_thread_attach(c->model, 0);
    flt_thread_route_to(0);
    return NULL;
}

/* Spins (pause) for the completion; yields only now and then, in case the
 * worker was preempted: a yield on every short wait would put a system
 * call into most round trips. */
static bool wait_done(struct model_ctx *c, uint64_t want)
{
    uint64_t spins = 0;
    /* acquire: the completion (and its record) happened before. */
    while (atomic_load_explicit(&c->done, memory_order_acquire) < want) {
        pb_cpu_relax();
        if (++spins % 4096 == 0)
            sched_yield();
        if (spins > (1ull << 32))
            return false;       /* minutes: a lost operation, not a slow one */
    }
    return true;
}

/* The c2c floor between the issuer's and the worker's CPUs, measured as
 * the run engine does (pb_calibrate.h); 0 when it cannot be. */
static double c2c_floor(void)
{
    struct pb_floor f;
    if (micro_cpus_allowed() < 2 ||
        pb_measure_c2c_round_trip(micro_cpu_of(0), micro_cpu_of(1), 30, &f) != 0)
        return 0;
    return f.median_ns;
}

static void bm_pend_complete(gb_state *st)
{
    struct model_ctx *c = gb_user_arg(st);
    /* The floor just before and just after, with no thread of the model
     * running: the host may move the two vCPUs of a VM between runs. */
    double c2c_before = c2c_floor();
    struct micro_affinity aff;
    micro_pin(0, &aff);
    pb_tick_scale_init(&c->scale, pb_tsc_ticks_per_ns());
    c->hist = malloc(sizeof *c->hist);
    c->rt = malloc(sizeof *c->rt);
    atomic_store_explicit(&c->done, 0, memory_order_relaxed);
    const char *err = c->hist && c->rt ? model_setup(c) : "out of memory";
    if (err) {
        gb_skip_with_error(st, err);
    } else {
        pb_hist_init(c->hist);
        pb_hist_init(c->rt);
    }
    struct flt_op_desc d = {
        .operation_type = FLTFL_CALLBACK_DATA_IRP_OPERATION,
        .major_function = IRP_MJ_READ,
        .on_complete = on_complete,
        .context = c,
    };
    d.parameters.read.length = 4096;
    struct micro_clock clk = { .started = false };
    uint64_t n, issued = 0;
    bool ok = !err;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; ok && i < n; i++) {
            uint64_t t0 = pb_tsc_now();
            NTSTATUS s = flt_issue(c->vol, &d, NULL);
            issued++;
            if (s != STATUS_PENDING && s != STATUS_SUCCESS) {
                gb_skip_with_error(st, "flt_issue failed");
                ok = false;
            } else if (!wait_done(c, issued)) {
                gb_skip_with_error(st, "an operation never completed");
                ok = false;
            } else {
                pb_hist_record(c->rt, pb_ticks_to_ns(&c->scale, pb_tsc_now() - t0));
            }
        }
    }
    double secs = micro_clock_seconds(&clk, false);
    if (ok) {
        struct flt_invariants inv;
        flt_model_quiesce(c->model, 5000);
        flt_model_check(c->model, false, &inv);
        if (!inv.ok) {
            char msg[260];
            snprintf(msg, sizeof msg, "invariants broken: %s", inv.why);
            gb_skip_with_error(st, msg);
            ok = false;
        }
    }
    if (c->model)
        model_teardown(c);
    micro_unpin(&aff);
    double c2c_after = c2c_floor();
    if (ok && issued && secs > 0) {
        gb_counter_set(st, "ops_per_s", (double)issued / secs, GB_COUNTER_DEFAULT);
        gb_counter_set(st, "ns_per_op", secs * 1e9 / (double)issued, GB_COUNTER_DEFAULT);
        gb_counter_set(st, "round_trip_ns", (double)pb_hist_percentile(c->rt, 50),
                       GB_COUNTER_DEFAULT);
        gb_counter_set(st, "p50_ns", (double)pb_hist_percentile(c->hist, 50), GB_COUNTER_DEFAULT);
        gb_counter_set(st, "p99_ns", (double)pb_hist_percentile(c->hist, 99), GB_COUNTER_DEFAULT);
        if (c2c_before > 0 && c2c_after > 0) {
            double lo = c2c_before < c2c_after ? c2c_before : c2c_after;
            double hi = c2c_before < c2c_after ? c2c_after : c2c_before;
            gb_counter_set(st, "c2c_ns", (c2c_before + c2c_after) / 2, GB_COUNTER_DEFAULT);
            /* As the run engine's floor_unstable: moved by more than 30%. */
            if (hi > 1.3 * lo) {
                gb_counter_set(st, "c2c_moved", 1, GB_COUNTER_DEFAULT);
                gb_set_label(st, "c2c floor moved during the run: ratios unreliable");
            }
        }
    }
    free(c->hist);
    free(c->rt);
    c->hist = c->rt = NULL;
}

static void register_one(const char *pool, const char *queue, const char *handoff)
{
    struct model_ctx *c = micro_ctx_new(sizeof *c);
    snprintf(c->pool, sizeof c->pool, "%s", pool);
    snprintf(c->queue, sizeof c->queue, "%s", queue);
    snprintf(c->handoff, sizeof c->handoff, "%s", handoff);
    char name[256];
    snprintf(name, sizeof name, "model/pend_complete/%s/%s/%s", pool, queue, handoff);
    gb_register_with_arg(name, bm_pend_complete, c);
}

/* The name of the default strategies' benchmark (for --summary). */
const char *micro_model_default_name(void)
{
    static char name[256];
    struct pb_scenario s;
    pb_scenario_defaults(&s);
    snprintf(name, sizeof name, "model/pend_complete/%s/%s/%s", s.pool, s.queue, s.handoff);
    return name;
}

void micro_register_model(void)
{
    struct pb_scenario s;
    pb_scenario_defaults(&s);
    register_one(s.pool, s.queue, s.handoff);
    for (size_t i = 0; pb_queues[i]; i++)
        if ((pb_queues[i]->flags & PB_BASELINE) && strcmp(pb_queues[i]->name, s.queue) != 0)
            register_one(s.pool, pb_queues[i]->name, s.handoff);
}
