/* SPEC VER1, VER2: the verifier and the invariants. */
#include <string.h>

#include "test_support.h"

TestSuite(verifier, .fini = tenv_fini, .timeout = 30);

static struct tf *P;
static struct flt_callback_data *pend(struct treq *r, flt_op_handle *h)
{
    cr_assert_eq(tissue_read(r, h), STATUS_PENDING);
    return atomic_load(&P->last_pre_data);
}

static void setup(bool checks_off)
{
    struct tenv_opts o = { .checks_off = checks_off };
    tenv_setup(&o);
    P = tf_add("P", "100000", false);
    P->pre_hook = tf_pre_pend;
}

Test(verifier, VER1_report_names_rule_routine_and_operation)
{
    setup(false);
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    uint64_t id = d->op_id;
    cr_assert_neq(id, 0, "operations have an identity");
    struct flt_violation v;
    cr_assert_not(flt_verifier_last(T.model, &v), "no violation yet");
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);

    NTSTATUS s = flt_complete_pended_preop(d, FLT_PREOP_SYNCHRONIZE, NULL);
    cr_assert(NT_ERROR(s), "the violation becomes an error return, got 0x%08X", (unsigned)s);
    tassert_named(s);
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "PEND1");
    cr_assert_str_eq(v.routine, "flt_complete_pended_preop");
    cr_assert_eq(v.op_id, id);
    cr_assert_eq(v.major_function, IRP_MJ_READ);
    cr_assert_eq(flt_verifier_count(T.model, "PEND1"), 1);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 1);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4"), 0, "counted per rule");
    cr_assert_eq(tcounters().verifier_violations, 1);

    /* No undefined behaviour, no double completion, no loss. */
    cr_assert_eq(atomic_load(&r.calls), 0);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    cr_assert_eq(atomic_load(&r.calls), 1);

    struct flt_invariants inv;
    flt_model_check(T.model, false, &inv);
    cr_assert_not(inv.ok, "an unexpected violation breaks the invariants");
    cr_assert_eq(inv.verifier_violations, 1);
    cr_assert_neq(inv.why[0], 0, "says why");
    flt_model_check(T.model, true, &inv);
    cr_assert(inv.ok, "expected violations: %s", inv.why);
    cr_assert_eq(inv.in_flight, 0);

    flt_verifier_clear(T.model);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 0);
    cr_assert_eq(flt_verifier_count(T.model, "PEND1"), 0);
    cr_assert_not(flt_verifier_last(T.model, &v));
    tassert_quiet(false);
}

Test(verifier, VER1_counts_accumulate_per_rule)
{
    setup(false);
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    for (int i = 0; i < 3; i++)
        flt_complete_pended_preop(d, FLT_PREOP_PENDING, NULL);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    tcomplete(d, STATUS_SUCCESS, 0);
    cr_assert_eq(flt_verifier_count(T.model, "PEND1"), 3);
    cr_assert_eq(flt_verifier_count(T.model, "PEND4"), 1);
    cr_assert_eq(flt_verifier_count(T.model, NULL), 4);
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "PEND4", "last is the most recent");
    cr_assert_eq(atomic_load(&r.calls), 1);
    tassert_quiet(true);
}

Test(verifier, VER1_public_report_path_counts)
{
    setup(false);
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    flt_verifier_report("VER1", "test_routine", d, "provoked by a test (%d)", 42);
    cr_assert_eq(flt_verifier_count(T.model, "VER1"), 1);
    struct flt_violation v;
    cr_assert(flt_verifier_last(T.model, &v));
    cr_assert_str_eq(v.rule, "VER1");
    cr_assert_str_eq(v.routine, "test_routine");
    cr_assert_eq(v.op_id, d->op_id);
    cr_assert_not_null(strstr(v.detail, "42"), "detail: \"%s\"", v.detail);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    tassert_quiet(true);
}

Test(verifier, VER1_leftover_operation_breaks_invariants)
{
    setup(false);
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    struct flt_invariants inv;
    flt_model_check(T.model, false, &inv);
    cr_assert_not(inv.ok, "an op in flight is reported");
    cr_assert_eq(inv.in_flight, 1);
    cr_assert_eq(inv.outstanding_data, 1);
    cr_assert_eq(inv.issued, 1);
    cr_assert_neq(inv.why[0], 0);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    flt_model_check(T.model, false, &inv);
    cr_assert(inv.ok, "%s", inv.why);
    cr_assert_eq(inv.issued, 1);
    cr_assert_eq(inv.completed, 1);
    cr_assert_eq(inv.in_flight, 0);
}

Test(verifier, VER1_invariant_issued_equals_sum_of_outcomes)
{
    setup(false);
    struct treq r[4];
    memset(r, 0, sizeof r);
    struct flt_callback_data *d[3];
    for (int i = 0; i < 3; i++)
        d[i] = pend(&r[i], NULL);
    tcomplete(d[0], STATUS_SUCCESS, 0);
    tcomplete(d[1], STATUS_CANCELLED, 0);
    tcomplete(d[2], STATUS_ACCESS_DENIED, 0);
    P->pre_hook = NULL;
    tissue_read(&r[3], NULL);
    struct flt_invariants inv;
    flt_model_check(T.model, false, &inv);
    cr_assert(inv.ok, "%s", inv.why);
    cr_assert_eq(inv.issued, 4);
    cr_assert_eq(inv.completed, 2);
    cr_assert_eq(inv.completed_cancelled, 1);
    cr_assert_eq(inv.failed, 1);
    cr_assert_eq(inv.in_flight, 0);
    struct pb_counters c = tcounters();
    cr_assert_eq(c.issued, 4);
    cr_assert_eq(c.pended, 3);
    cr_assert_eq(c.resumed, 3);
    cr_assert_eq(c.pool_get, c.pool_put);
}

/* ---- VER2 ----------------------------------------------------------------- */

static FLT_PREOP_CALLBACK_STATUS pre_change_major(struct tf *f, struct flt_callback_data *d,
                                                  void **ctx)
{
    d->iopb->major_function = IRP_MJ_WRITE;
    *ctx = NULL;
    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

Test(verifier, VER2_hot_path_checks_on_by_default)
{
    setup(false);
    P->pre_hook = pre_change_major;
    struct treq r = { 0 };
    tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "CD4"), 1);
}

Test(verifier, VER2_hot_path_checks_off)
{
    setup(true);
    P->pre_hook = pre_change_major;
    struct treq r = { 0 };
    tissue_read(&r, NULL);
    cr_assert_eq(flt_verifier_count(T.model, "CD4"), 0, "CD4 snapshot is a hot-path check");
    cr_assert_eq(atomic_load(&r.calls), 1);
}

Test(verifier, VER2_exactly_once_still_enforced_with_checks_off)
{
    setup(true);
    struct treq r = { 0 };
    flt_op_handle h;
    struct flt_callback_data *d = pend(&r, &h);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    NTSTATUS s = tcomplete(d, STATUS_SUCCESS, 0);
    cr_assert(NT_ERROR(s), "double completion still refused, got 0x%08X", (unsigned)s);
    cr_assert_eq(atomic_load(&r.calls), 1);
    cr_assert_eq(tcounters().double_complete_refused, 1);
    flt_release_handle(h);
    struct flt_invariants inv;
    flt_model_check(T.model, false, &inv);
    cr_assert_eq(inv.double_complete_refused, 1, "reported in every mode");
    cr_assert_not(inv.ok, "an unexpected double completion is a broken run");
    cr_assert_eq(inv.in_flight, 0);
}

Test(verifier, VER2_leak_still_reported_with_checks_off)
{
    setup(true);
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    struct flt_invariants inv;
    flt_model_check(T.model, false, &inv);
    cr_assert_not(inv.ok);
    cr_assert_eq(inv.in_flight, 1);
    cr_assert_eq(inv.outstanding_data, 1);
    cr_assert_eq(tcomplete(d, STATUS_SUCCESS, 0), STATUS_SUCCESS);
    flt_model_check(T.model, false, &inv);
    cr_assert(inv.ok, "%s", inv.why);
}

Test(verifier, VER2_irql_check_off)
{
    setup(true);
    struct treq r = { 0 };
    struct flt_callback_data *d = pend(&r, NULL);
    KIRQL old = ke_raise_irql(DISPATCH_LEVEL);
    NTSTATUS s = flt_complete_pended_preop(d, FLT_PREOP_SUCCESS_NO_CALLBACK, NULL);
    ke_lower_irql(old);
    cr_assert_eq(s, STATUS_SUCCESS, "IRQL checks are hot-path checks, off: got 0x%08X",
                 (unsigned)s);
    cr_assert_eq(flt_verifier_count(T.model, "PEND2"), 0);
    cr_assert_eq(atomic_load(&r.calls), 1);
}
