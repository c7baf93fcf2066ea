/* SPEC CBDQ1-CBDQ5: the cancel-safe queue. The filter's queue is a small
 * array behind a recursive mutex whose depth the callbacks check: Insert,
 * Remove and PeekNext must run with the lock held (the model takes it),
 * CompleteCanceled without it. */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

TestSuite(cbdq, .fini = tenv_fini, .timeout = 30);

#define QMAX 16

struct test_q {
    struct flt_cbdq q;              /* embedded, as FLT_CALLBACK_DATA_QUEUE */
    pthread_mutex_t lock;
    _Atomic int depth;              /* lock depth (recursive) */
    pthread_t owner;
    struct flt_callback_data *items[QMAX];
    int n;
    NTSTATUS insert_status;         /* what Insert returns */
    bool cancel_in_insert;          /* Insert cancels the op it inserts */
    flt_op_handle insert_handle;
    bool cancel_in_insert_ret;
    int inserts, removes, peeks, acquires, releases, canceled;
    int unlocked_calls;             /* Insert/Remove/Peek called without the lock */
    int locked_complete_canceled;   /* CompleteCanceled called with the lock */
    char order[256];
};
static struct test_q Q;

static bool lock_held_by_me(void)
{
    return atomic_load(&Q.depth) > 0 && pthread_equal(Q.owner, pthread_self());
}

static void note(const char *what)
{
    size_t len = strlen(Q.order);
    snprintf(Q.order + len, sizeof Q.order - len, "%s%s", len ? " " : "", what);
}

static NTSTATUS q_insert(struct flt_cbdq *q, struct flt_callback_data *d, void *ictx)
{
    cr_assert_eq(q, &Q.q);
    if (!lock_held_by_me())
        Q.unlocked_calls++;
    Q.inserts++;
    note("insert");
    if (Q.insert_status != STATUS_SUCCESS)
        return Q.insert_status;
    cr_assert_lt(Q.n, QMAX);
    Q.items[Q.n++] = d;
    if (Q.cancel_in_insert)
        Q.cancel_in_insert_ret = io_cancel_irp(Q.insert_handle);
    return STATUS_SUCCESS;
}

static void q_remove(struct flt_cbdq *q, struct flt_callback_data *d)
{
    if (!lock_held_by_me())
        Q.unlocked_calls++;
    Q.removes++;
    note("remove");
    for (int i = 0; i < Q.n; i++)
        if (Q.items[i] == d) {
            memmove(&Q.items[i], &Q.items[i + 1], (size_t)(Q.n - i - 1) * sizeof Q.items[0]);
            Q.n--;
            return;
        }
    cr_assert_fail("Remove of an op not in the queue");
}

/* FIFO; peek_context, when not NULL, is a major function to match. */
static struct flt_callback_data *q_peek(struct flt_cbdq *q, struct flt_callback_data *d, void *pctx)
{
    if (!lock_held_by_me())
        Q.unlocked_calls++;
    Q.peeks++;
    int start = 0;
    if (d) {
        start = -1;
        for (int i = 0; i < Q.n; i++)
            if (Q.items[i] == d)
                start = i + 1;
        if (start < 0)
            return NULL;
    }
    for (int i = start; i < Q.n; i++)
        if (!pctx || Q.items[i]->iopb->major_function == *(uint8_t *)pctx)
            return Q.items[i];
    return NULL;
}

static void q_acquire(struct flt_cbdq *q, KIRQL *irql)
{
    pthread_mutex_lock(&Q.lock);
    Q.owner = pthread_self();
    atomic_fetch_add(&Q.depth, 1);
    Q.acquires++;
    *irql = PASSIVE_LEVEL;
}

static void q_release(struct flt_cbdq *q, KIRQL irql)
{
    Q.releases++;
    atomic_fetch_sub(&Q.depth, 1);
    pthread_mutex_unlock(&Q.lock);
}

static void q_complete_canceled(struct flt_cbdq *q, struct flt_callback_data *d)
{
    if (lock_held_by_me())
        Q.locked_complete_canceled++;
    Q.canceled++;
    note("canceled");
    tcomplete(d, STATUS_CANCELLED, 0);
}

static struct tf *P;

static void setup_q(void)
{
    tenv_setup_simple(0);
    P = tf_add("P", "100000", false);
    P->pre_hook = tf_pre_pend;
    memset(&Q, 0, sizeof Q);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&Q.lock, &a);
    pthread_mutexattr_destroy(&a);
    NTSTATUS s = flt_cbdq_initialize(P->instance, &Q.q, q_insert, q_remove, q_peek, q_acquire,
                                     q_release, q_complete_canceled);
    cr_assert_eq(s, STATUS_SUCCESS, "got 0x%08X", (unsigned)s);
}

static struct flt_callback_data *pend_one(struct treq *r, flt_op_handle *h)
{
    cr_assert_eq(tissue_read(r, h), STATUS_PENDING);
    return atomic_load(&P->last_pre_data);
}

static void check_locking(void)
{
    cr_assert_eq(Q.unlocked_calls, 0, "Insert/Remove/PeekNext called without the lock");
    cr_assert_eq(Q.locked_complete_canceled, 0, "CompleteCanceled called with the lock held");
    cr_assert_eq(Q.acquires, Q.releases);
    cr_assert_eq(atomic_load(&Q.depth), 0);
}

/* ---- CBDQ1 ---------------------------------------------------------------- */

Test(cbdq, CBDQ1_initialize_starts_enabled_model_locks_around_callbacks)
{
    setup_q();
    cr_assert(Q.q.enabled, "the queue starts enabled");
    cr_assert_eq(Q.q.insert, q_insert);
    cr_assert_eq(Q.q.complete_canceled, q_complete_canceled);
    struct treq r = { 0 };
    struct flt_callback_data *d = pend_one(&r, NULL);
    struct flt_cbdq_io_context c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d, &c, NULL), STATUS_SUCCESS);
    cr_assert_eq(Q.inserts, 1);
    cr_assert_geq(Q.acquires, 1);
    cr_assert_eq(flt_cbdq_remove_next_io(&Q.q, NULL), d);
    cr_assert_eq(Q.removes, 1);
    cr_assert_geq(Q.peeks, 1);
    check_locking();
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(false);
}

Test(cbdq, CBDQ1_initialize_with_missing_callback_is_invalid)
{
    setup_q();
    struct flt_cbdq q2;
    memset(&q2, 0, sizeof q2);
    NTSTATUS s = flt_cbdq_initialize(P->instance, &q2, NULL, q_remove, q_peek, q_acquire,
                                     q_release, q_complete_canceled);
    cr_assert_eq(s, STATUS_INVALID_PARAMETER, "got 0x%08X", (unsigned)s);
}

/* ---- CBDQ2 ---------------------------------------------------------------- */

Test(cbdq, CBDQ2_insert_into_disabled_queue_refused)
{
    setup_q();
    struct treq r = { 0 };
    struct flt_callback_data *d = pend_one(&r, NULL);
    struct flt_cbdq_io_context c;
    memset(&c, 0, sizeof c);
    flt_cbdq_disable(&Q.q);
    cr_assert_not(Q.q.enabled);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d, &c, NULL), STATUS_FLT_CBDQ_DISABLED);
    cr_assert_eq(Q.inserts, 0, "Insert not called");
    cr_assert_eq(Q.n, 0);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    check_locking();
    tassert_quiet(false);
}

Test(cbdq, CBDQ2_insert_returns_insert_callbacks_status)
{
    setup_q();
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend_one(&r, &h);
    struct flt_cbdq_io_context c;
    memset(&c, 0, sizeof c);
    Q.insert_status = STATUS_INSUFFICIENT_RESOURCES;
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d, &c, NULL), STATUS_INSUFFICIENT_RESOURCES);
    cr_assert_eq(Q.inserts, 1);
    /* Not queued: a cancel does not reach the queue. */
    cr_assert_not(io_cancel_irp(h));
    cr_assert_eq(Q.canceled, 0);
    cr_assert_eq(tcomplete(d, STATUS_CANCELLED, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    flt_release_handle(h);
    check_locking();
    tassert_quiet(false);
}

Test(cbdq, CBDQ2_cancelled_before_insertion_handed_to_complete_canceled)
{
    setup_q();
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend_one(&r, &h);
    cr_assert_not(io_cancel_irp(h), "no routine yet");
    struct flt_cbdq_io_context c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d, &c, NULL), STATUS_SUCCESS,
                 "insertion still reports success");
    cr_assert_eq(Q.canceled, 1);
    cr_assert_eq(Q.n, 0, "removed again");
    cr_assert_str_eq(Q.order, "insert remove canceled");
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_null(flt_cbdq_remove_io(&Q.q, &c));
    cr_assert_null(flt_cbdq_remove_next_io(&Q.q, NULL));
    flt_release_handle(h);
    check_locking();
    tassert_quiet(false);
}

Test(cbdq, CBDQ2_cancelled_during_insertion_handed_to_complete_canceled)
{
    setup_q();
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend_one(&r, &h);
    Q.cancel_in_insert = true;
    Q.insert_handle = h;
    struct flt_cbdq_io_context c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d, &c, NULL), STATUS_SUCCESS);
    cr_assert_eq(Q.canceled, 1, "the op cancelled during Insert reached CompleteCanceled");
    cr_assert_eq(Q.n, 0);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(r.status, STATUS_CANCELLED);
    cr_assert_null(flt_cbdq_remove_io(&Q.q, &c));
    flt_release_handle(h);
    check_locking();
    tassert_quiet(false);
}

/* ---- CBDQ3 ---------------------------------------------------------------- */

Test(cbdq, CBDQ3_cancel_of_queued_op_removes_then_completes_outside_lock)
{
    setup_q();
    struct treq r1 = { 0 }, r2 = { 0 };
    flt_op_handle h1;
    struct flt_callback_data *d1 = pend_one(&r1, &h1);
    struct flt_callback_data *d2 = pend_one(&r2, NULL);
    struct flt_cbdq_io_context c1, c2;
    memset(&c1, 0, sizeof c1);
    memset(&c2, 0, sizeof c2);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d1, &c1, NULL), STATUS_SUCCESS);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d2, &c2, NULL), STATUS_SUCCESS);
    cr_assert_eq(Q.n, 2);
    Q.order[0] = 0;
    cr_assert(io_cancel_irp(h1), "the queue's cancel routine was called");
    cr_assert_str_eq(Q.order, "remove canceled");
    cr_assert_eq(Q.canceled, 1);
    cr_assert_eq(Q.n, 1);
    cr_assert_eq(Q.items[0], d2, "only the cancelled op left the queue");
    cr_assert_eq(atomic_load(&r1.calls), 1);
    cr_assert_eq(r1.status, STATUS_CANCELLED);
    cr_assert_eq(atomic_load(&r2.calls), 0);
    check_locking();
    cr_assert_eq(flt_cbdq_remove_io(&Q.q, &c2), d2);
    cr_assert_eq(tcomplete(d2, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r2.calls), 1);
    flt_release_handle(h1);
    tassert_quiet(false);
}

/* ---- CBDQ4 ---------------------------------------------------------------- */

Test(cbdq, CBDQ4_remove_io_by_context_once)
{
    setup_q();
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend_one(&r, &h);
    struct flt_cbdq_io_context c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d, &c, NULL), STATUS_SUCCESS);
    cr_assert_eq(flt_cbdq_remove_io(&Q.q, &c), d);
    cr_assert_null(flt_cbdq_remove_io(&Q.q, &c), "second removal returns NULL");
    cr_assert_eq(Q.removes, 1);
    /* Removed: the queue's cancel routine is gone with it. */
    cr_assert_not(io_cancel_irp(h));
    cr_assert_eq(Q.canceled, 0);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);
    flt_release_handle(h);
    check_locking();
    tassert_quiet(false);
}

Test(cbdq, CBDQ4_remove_io_of_cancelled_op_returns_null)
{
    setup_q();
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend_one(&r, &h);
    struct flt_cbdq_io_context c;
    memset(&c, 0, sizeof c);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d, &c, NULL), STATUS_SUCCESS);
    cr_assert(io_cancel_irp(h));
    cr_assert_null(flt_cbdq_remove_io(&Q.q, &c));
    cr_assert_eq(Q.removes, 1);
    cr_assert_eq(atomic_load(&r.calls), 1);
    flt_release_handle(h);
    check_locking();
    tassert_quiet(false);
}

Test(cbdq, CBDQ4_remove_next_skips_cancelled_fifo_and_peek_context)
{
    setup_q();
    struct treq r[4];
    memset(r, 0, sizeof r);
    flt_op_handle h[4];
    struct flt_callback_data *d[4];
    struct flt_cbdq_io_context c[4];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 4; i++) {
        uint8_t mj = i == 3 ? IRP_MJ_WRITE : IRP_MJ_READ;
        cr_assert_eq(tissue(FLTFL_CALLBACK_DATA_IRP_OPERATION, mj, 0, &r[i], &h[i]), STATUS_PENDING);
        d[i] = atomic_load(&P->last_pre_data);
        cr_assert_eq(flt_cbdq_insert_io(&Q.q, d[i], &c[i], NULL), STATUS_SUCCESS);
    }
    cr_assert(io_cancel_irp(h[0]));
    uint8_t want_write = IRP_MJ_WRITE;
    cr_assert_eq(flt_cbdq_remove_next_io(&Q.q, &want_write), d[3], "peek context honoured");
    cr_assert_eq(flt_cbdq_remove_next_io(&Q.q, NULL), d[1], "cancelled d0 skipped");
    cr_assert_eq(flt_cbdq_remove_next_io(&Q.q, NULL), d[2]);
    cr_assert_null(flt_cbdq_remove_next_io(&Q.q, NULL), "empty");
    cr_assert_null(flt_cbdq_remove_io(&Q.q, &c[1]), "already removed by remove_next");
    for (int i = 1; i < 4; i++) {
        cr_assert_eq(tcomplete(d[i], STATUS_SUCCESS, 0), STATUS_SUCCESS);
        cr_assert_not(io_cancel_irp(h[i]));
    }
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(atomic_load(&r[i].calls), 1);
        flt_release_handle(h[i]);
    }
    cr_assert_eq(r[0].status, STATUS_CANCELLED);
    cr_assert_eq(Q.canceled, 1);
    check_locking();
    tassert_quiet(false);
}

/* ---- CBDQ5 ---------------------------------------------------------------- */

Test(cbdq, CBDQ5_disable_stops_insertions_only_enable_reenables)
{
    setup_q();
    struct treq r[3];
    memset(r, 0, sizeof r);
    struct flt_callback_data *d[3];
    struct flt_cbdq_io_context c[3];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 3; i++)
        d[i] = pend_one(&r[i], NULL);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d[0], &c[0], NULL), STATUS_SUCCESS);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d[1], &c[1], NULL), STATUS_SUCCESS);
    flt_cbdq_disable(&Q.q);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d[2], &c[2], NULL), STATUS_FLT_CBDQ_DISABLED);
    cr_assert_eq(Q.n, 2, "queued ops stay");
    /* Drain by removing. */
    cr_assert_eq(flt_cbdq_remove_next_io(&Q.q, NULL), d[0]);
    cr_assert_eq(flt_cbdq_remove_io(&Q.q, &c[1]), d[1]);
    cr_assert_eq(Q.n, 0);
    flt_cbdq_enable(&Q.q);
    cr_assert(Q.q.enabled);
    cr_assert_eq(flt_cbdq_insert_io(&Q.q, d[2], &c[2], NULL), STATUS_SUCCESS);
    cr_assert_eq(flt_cbdq_remove_io(&Q.q, &c[2]), d[2]);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(tcomplete(d[i], STATUS_SUCCESS, 0), STATUS_SUCCESS);
        cr_assert_eq(atomic_load(&r[i].calls), 1);
    }
    check_locking();
    tassert_quiet(false);
}
