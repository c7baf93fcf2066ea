/* Misuse of the model that must be refused through the verifier, not
 * corrupt it: draining the work queues beside running workers (their
 * single consumers), and queueing a work item of one model against an
 * operation of another (the item would run and be freed in a pool that
 * is not its own); and a capacity its bounded queue cannot hold. */
#include <string.h>

#include "test_support.h"

TestSuite(model_guards, .fini = tenv_fini, .timeout = 30);

Test(model_guards, drain_work_beside_running_workers_is_refused)
{
    tenv_setup_simple(2);
    cr_expect_eq(flt_model_drain_work(T.model), 0);
    cr_expect_eq(flt_verifier_count(T.model, "DQ3"), 1, "the refusal is a DQ3 violation");
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_expect(strstr(v.detail, "worker threads are running"), "%s", v.detail);
    tenv_teardown();

    /* Without workers the caller's thread is the consumer: allowed. */
    tenv_setup_simple(0);
    cr_expect_eq(flt_model_drain_work(T.model), 0);
    cr_expect_eq(flt_verifier_count(T.model, NULL), 0);
    tenv_teardown();
}

static void never_runs(struct flt_deferred_io_workitem *item, struct flt_callback_data *d, void *ctx)
{
    cr_assert_fail("a refused work item ran");
}

Test(model_guards, work_item_of_another_model_is_refused)
{
    tenv_setup_simple(0);
    struct tf *f = tf_add("P", "100000", false);
    f->pre_hook = tf_pre_pend;

    struct flt_model_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.idle = PB_IDLE_PARK;
    const char *err = NULL;
    struct flt_model *other = NULL;
    cr_assert_eq(flt_model_create(&cfg, &other, &err), STATUS_SUCCESS, "%s", err ? err : "-");
    flt_thread_attach(other, 0);
    struct flt_deferred_io_workitem *item = flt_allocate_deferred_io_work_item();
    cr_assert_not_null(item);
    flt_thread_attach(T.model, 0);

    struct treq r = { 0 };
    cr_assert_eq(tissue_read(&r, NULL), STATUS_PENDING);
    struct flt_callback_data *d = atomic_load(&f->last_pre_data);
    cr_assert_not_null(d);
    cr_expect_eq(flt_queue_deferred_io_work_item(item, d, DelayedWorkQueue, never_runs, NULL),
                 STATUS_INVALID_PARAMETER);
    cr_expect_eq(flt_verifier_count(T.model, "DQ2"), 1);
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_expect(strstr(v.detail, "another model"), "%s", v.detail);
    cr_expect_eq(flt_model_drain_work(T.model), 0, "nothing was queued");

    tcomplete(d, STATUS_SUCCESS, 0);
    cr_expect_eq(atomic_load(&r.calls), 1);
    flt_thread_attach(other, 0);
    flt_free_deferred_io_work_item(item);
    flt_thread_attach(T.model, 0);
    flt_model_destroy(other);
    tenv_teardown();
}

/* A capacity a bounded queue cannot hold is refused at creation, the
 * message naming the queue and what it refused (each has its own most). */
Test(model_guards, queue_capacity_too_large_names_the_queue)
{
    struct flt_model *m = NULL;
    const char *err = NULL;
    struct flt_model_config cfg = { .pool = "malloc", .queue = "percpu-lanes",
                                    .handoff = "xchg", .queue_capacity = (size_t)1 << 20 };
    cr_assert_eq(flt_model_create(&cfg, &m, &err), STATUS_INVALID_PARAMETER);
    cr_assert_null(m);
    cr_assert_not_null(err);
    cr_expect(strstr(err, "'percpu-lanes'") && strstr(err, "1048576"), "%s", err);
    cfg.queue_capacity = 1024;
    cr_assert_eq(flt_model_create(&cfg, &m, &err), STATUS_SUCCESS, "%s", err ? err : "-");
    flt_model_destroy(m);
}
