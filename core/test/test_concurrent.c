/* SPEC CAN7 ("S, C and X race"), CAN8, PEND3, DQ3, DQ4 with real threads:
 * requesters issue reads whose pre-op sets a cancel routine and queues a
 * work item; workers clear and complete; cancellers cancel through pinned
 * handles. Every operation must complete exactly once. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pb_tsc.h"
#include "test_support.h"

TestSuite(concurrent, .fini = tenv_fini, .timeout = 60);

#define NREQ 2
#define NCANCEL 2
#define MAX_OPS (1u << 19)
#define MAX_IN_FLIGHT 64
#define RUN_MS 2000
#define RING 256

struct op_slot {
    _Atomic int completions;
    _Atomic int status_kind;   /* 1 success, 2 cancelled, 3 other */
    unsigned requester;
};

static struct op_slot *slots;
static _Atomic unsigned next_slot;
static _Atomic int stop;
static _Atomic uint64_t issued_ok, completions_total, n_success, n_cancelled, n_other;
static _Atomic uint64_t issue_refused;
static _Atomic int64_t in_flight[NREQ];
static _Atomic uint64_t cancels_true, cancels_false, set_cancelled, queue_failed;
static _Atomic uint64_t routine_runs, routine_won, routine_lost;

/* Handles waiting for a canceller. */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static flt_op_handle ring[RING];
static unsigned ring_n;
/* Handles of ops still in their pre-op: cancellers take these first. */
#define HOT 8
static flt_op_handle hot[HOT];
static unsigned hot_n;

static _Atomic uint64_t cb_calls;

static void canceled_cb(struct flt_callback_data *d)
{
    atomic_fetch_add_explicit(&cb_calls, 1, memory_order_relaxed);
    d->io_status.status = STATUS_CANCELLED;
    d->io_status.information = 0;
    flt_complete_pended_preop(d, FLT_PREOP_COMPLETE, NULL);
}

static void work_routine(struct flt_deferred_io_workitem *item, struct flt_callback_data *d,
                         void *ctx)
{
    static _Thread_local unsigned seed = 777;
    if (rand_r(&seed) % 4 == 0)
        for (unsigned i = rand_r(&seed) % 512; i; i--)
            pb_cpu_relax();
    if (flt_clear_cancel_completion(d) == STATUS_SUCCESS) {
        atomic_fetch_add_explicit(&routine_won, 1, memory_order_relaxed);
        flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    } else {
        atomic_fetch_add_explicit(&routine_lost, 1, memory_order_relaxed);
    }
    flt_free_deferred_io_work_item(item);
    atomic_fetch_add_explicit(&routine_runs, 1, memory_order_release);
}

static void hot_put_or_release(flt_op_handle h);
static _Thread_local unsigned pre_seed = 12345;

static FLT_PREOP_CALLBACK_STATUS pre_race(struct tf *f, struct flt_callback_data *d, void **ctx)
{
    *ctx = NULL;
    unsigned dice = rand_r(&pre_seed) % 8;
    if (dice < 2) {
        /* Hand a canceller the op before the routine is set, and give it
         * a moment: cancels land before S (CAN8), during S, and while the
         * pre-op has not yet returned PENDING (PEND3). */
        flt_op_handle early = flt_reference_op(d);
        if (early.data)
            hot_put_or_release(early);
        if (dice == 0)
            sched_yield();
        else
            for (unsigned i = rand_r(&pre_seed) % 256; i; i--)
                pb_cpu_relax();
    }
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    if (!item) {
        d->io_status.status = STATUS_INSUFFICIENT_RESOURCES;
        d->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    }
    NTSTATUS s = flt_set_cancel_completion(d, canceled_cb);
    if (s == STATUS_CANCELLED) {
        /* CAN8: a cancel came before the routine; the setter completes. */
        atomic_fetch_add_explicit(&set_cancelled, 1, memory_order_relaxed);
        flt_free_deferred_io_work_item(item);
        d->io_status.status = STATUS_CANCELLED;
        d->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    }
    s = flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, work_routine, NULL);
    if (s != STATUS_SUCCESS) {
        atomic_fetch_add_explicit(&queue_failed, 1, memory_order_relaxed);
        flt_free_deferred_io_work_item(item);
        if (flt_clear_cancel_completion(d) == STATUS_SUCCESS) {
            d->io_status.status = s;
            d->io_status.information = 0;
            return FLT_PREOP_COMPLETE;
        }
        /* The canceller owns it (PEND3: it may complete before we return). */
    }
    if (dice == 1)
        sched_yield();   /* widen the window where a cancel completes before PENDING */
    return FLT_PREOP_PENDING;
}

static void on_complete(struct flt_callback_data *d, void *ctx)
{
    struct op_slot *s = ctx;
    atomic_fetch_add_explicit(&s->completions, 1, memory_order_relaxed);
    NTSTATUS st = d->io_status.status;
    int kind = st == STATUS_SUCCESS ? 1 : st == STATUS_CANCELLED ? 2 : 3;
    atomic_store_explicit(&s->status_kind, kind, memory_order_relaxed);
    if (kind == 1)
        atomic_fetch_add_explicit(&n_success, 1, memory_order_relaxed);
    else if (kind == 2)
        atomic_fetch_add_explicit(&n_cancelled, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&n_other, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&in_flight[s->requester], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&completions_total, 1, memory_order_release);
}

static void ring_put_or_release(flt_op_handle h)
{
    pthread_mutex_lock(&ring_lock);
    if (ring_n < RING) {
        ring[ring_n++] = h;
        h.data = NULL;
    }
    pthread_mutex_unlock(&ring_lock);
    if (h.data)
        flt_release_handle(h);
}

static void hot_put_or_release(flt_op_handle h)
{
    pthread_mutex_lock(&ring_lock);
    if (hot_n < HOT) {
        hot[hot_n++] = h;
        h.data = NULL;
    }
    pthread_mutex_unlock(&ring_lock);
    if (h.data)
        flt_release_handle(h);
}

static bool ring_take(flt_op_handle *h, unsigned *rnd)
{
    bool got = false;
    pthread_mutex_lock(&ring_lock);
    if (hot_n) {
        *h = hot[--hot_n];
        got = true;
    } else if (ring_n) {
        unsigned i = rand_r(rnd) % ring_n;
        *h = ring[i];
        ring[i] = ring[--ring_n];
        got = true;
    }
    pthread_mutex_unlock(&ring_lock);
    return got;
}

static void *requester(void *arg)
{
    unsigned id = (unsigned)(uintptr_t)arg;
    flt_thread_attach(T.model, id % 2);
    while (!atomic_load_explicit(&stop, memory_order_acquire)) {
        if (atomic_load_explicit(&in_flight[id], memory_order_relaxed) >= MAX_IN_FLIGHT) {
            sched_yield();
            continue;
        }
        unsigned n = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed);
        if (n >= MAX_OPS)
            break;
        struct op_slot *s = &slots[n];
        s->requester = id;
        struct flt_op_desc desc;
        memset(&desc, 0, sizeof desc);
        desc.operation_type = FLTFL_CALLBACK_DATA_IRP_OPERATION;
        desc.major_function = IRP_MJ_READ;
        desc.parameters.read.length = 512;
        desc.on_complete = on_complete;
        desc.context = s;
        atomic_fetch_add_explicit(&in_flight[id], 1, memory_order_relaxed);
        flt_op_handle h;
        memset(&h, 0, sizeof h);
        NTSTATUS st = flt_issue(T.vol, &desc, &h);
        if (st == STATUS_INSUFFICIENT_RESOURCES) {
            atomic_fetch_sub_explicit(&in_flight[id], 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&issue_refused, 1, memory_order_relaxed);
            atomic_store_explicit(&s->status_kind, -1, memory_order_relaxed);
            continue;
        }
        atomic_fetch_add_explicit(&issued_ok, 1, memory_order_relaxed);
        if (h.data)
            ring_put_or_release(h);
    }
    return NULL;
}

static void *canceller(void *arg)
{
    unsigned rnd = (unsigned)(uintptr_t)arg * 7919u + 1;
    flt_thread_attach(T.model, (unsigned)(uintptr_t)arg % 2);
    for (;;) {
        flt_op_handle h;
        if (!ring_take(&h, &rnd)) {
            if (atomic_load_explicit(&stop, memory_order_acquire))
                break;
            sched_yield();
            continue;
        }
        unsigned dice = rand_r(&rnd) % 8;
        if (dice < 5) {
            bool took = io_cancel_irp(h);
            atomic_fetch_add_explicit(took ? &cancels_true : &cancels_false, 1,
                                      memory_order_relaxed);
            if (dice == 0) {
                /* C twice: the second never takes a routine. */
                bool again = io_cancel_irp(h);
                atomic_fetch_add_explicit(again ? &cancels_true : &cancels_false, 1,
                                          memory_order_relaxed);
            }
        }
        flt_release_handle(h);
    }
    return NULL;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

Test(concurrent, CAN7_race_set_cancel_clear_exactly_once)
{
    struct tenv_opts o = { .nworkers = 2, .ncpus = 2, .queue = "global-mutex",
                           .pool = "locked-list", .handoff = "xchg" };
    tenv_setup(&o);
    struct tf *f = tf_add("R", "100000", false);
    f->pre_hook = pre_race;
    slots = calloc(MAX_OPS, sizeof *slots);
    cr_assert_not_null(slots);

    pthread_t req[NREQ], can[NCANCEL];
    for (unsigned i = 0; i < NREQ; i++)
        cr_assert_eq(pthread_create(&req[i], NULL, requester, (void *)(uintptr_t)i), 0);
    for (unsigned i = 0; i < NCANCEL; i++)
        cr_assert_eq(pthread_create(&can[i], NULL, canceller, (void *)(uintptr_t)(i + 1)), 0);

    uint64_t t0 = now_ms();
    while (now_ms() - t0 < RUN_MS && atomic_load(&next_slot) < MAX_OPS)
        tsleep_ms(20);
    atomic_store_explicit(&stop, 1, memory_order_release);
    for (unsigned i = 0; i < NREQ; i++)
        pthread_join(req[i], NULL);
    for (unsigned i = 0; i < NCANCEL; i++)
        pthread_join(can[i], NULL);
    /* Anything left in the ring: release. */
    while (ring_n)
        flt_release_handle(ring[--ring_n]);
    while (hot_n)
        flt_release_handle(hot[--hot_n]);

    uint64_t issued = atomic_load(&issued_ok);
    /* Wait (bounded) until every issued op completed and every item ran. */
    uint64_t t1 = now_ms();
    while (now_ms() - t1 < 10000 &&
           (atomic_load_explicit(&completions_total, memory_order_acquire) < issued ||
            flt_model_outstanding(T.model) != 0))
        tsleep_ms(5);

    unsigned used = atomic_load(&next_slot);
    if (used > MAX_OPS)
        used = MAX_OPS;
    cr_assert_gt(issued, 100, "the run issued too few ops (%llu)", (unsigned long long)issued);
    cr_assert_eq(atomic_load(&completions_total), issued, "completions %llu != issued %llu",
                 (unsigned long long)atomic_load(&completions_total),
                 (unsigned long long)issued);
    uint64_t once = 0;
    for (unsigned i = 0; i < used; i++) {
        int c = atomic_load(&slots[i].completions);
        if (atomic_load(&slots[i].status_kind) == -1) {
            cr_assert_eq(c, 0, "refused op %u completed", i);
            continue;
        }
        cr_assert_eq(c, 1, "op %u completed %d times", i, c);
        once++;
    }
    cr_assert_eq(once, issued);
    cr_assert_eq(atomic_load(&n_other), 0, "unexpected statuses");
    cr_assert_eq(atomic_load(&n_success) + atomic_load(&n_cancelled), issued);
    cr_assert_eq(atomic_load(&queue_failed), 0);
    /* CAN9: every op the callback or the setter completed reached the
     * requester as STATUS_CANCELLED; the worker's as STATUS_SUCCESS. */
    cr_assert_eq(atomic_load(&n_cancelled), atomic_load(&cb_calls) + atomic_load(&set_cancelled),
                 "cancelled %llu != callback %llu + setter %llu",
                 (unsigned long long)atomic_load(&n_cancelled),
                 (unsigned long long)atomic_load(&cb_calls),
                 (unsigned long long)atomic_load(&set_cancelled));
    cr_assert_eq(atomic_load(&n_success), atomic_load(&routine_won));

    struct pb_counters c = tcounters();
    cr_assert_eq(c.issued, issued);
    cr_assert_eq(c.double_complete_refused, 0);
    cr_assert_eq(c.routine_left_set, 0);
    cr_assert_eq(c.cancel_won, atomic_load(&cancels_true),
                 "won %llu != io_cancel_irp TRUE %llu", (unsigned long long)c.cancel_won,
                 (unsigned long long)atomic_load(&cancels_true));
    cr_assert_eq(c.cancel_attempted, atomic_load(&cancels_true) + atomic_load(&cancels_false));
    cr_assert_eq(c.cancel_won + c.cancel_lost + c.cancel_early + c.cancel_late +
                     c.cancel_not_cancelable,
                 c.cancel_attempted, "every cancel attempt lands in exactly one category");
    cr_assert_eq(c.completed_cancelled, atomic_load(&n_cancelled));
    cr_assert_eq(c.completed, atomic_load(&n_success));
    cr_assert_eq(c.workitems_queued, c.workitems_run);
    cr_assert_eq(c.workitems_run, atomic_load(&routine_runs));
    /* Each op is completed by exactly one of: worker, callback, setter. */
    cr_assert_eq(atomic_load(&routine_won) + c.cancel_won + atomic_load(&set_cancelled), issued);
    cr_assert_gt(c.cancel_won, 0, "the race never produced a won cancel");
    cr_assert_gt(atomic_load(&routine_won), 0);
    cr_assert_gt(c.cancel_early, 0, "no cancel landed before the routine was set");
    cr_assert_eq(c.cancel_early > 0, atomic_load(&set_cancelled) > 0);

    cr_log_info("concurrent: issued %llu, success %llu, cancelled %llu (won %llu, early %llu, "
                "lost %llu, late %llu), refused %llu",
                (unsigned long long)issued, (unsigned long long)atomic_load(&n_success),
                (unsigned long long)atomic_load(&n_cancelled), (unsigned long long)c.cancel_won,
                (unsigned long long)c.cancel_early, (unsigned long long)c.cancel_lost,
                (unsigned long long)c.cancel_late, (unsigned long long)atomic_load(&issue_refused));
    tassert_quiet(false);
    free(slots);
}
