/* SPEC CAN7 (with CAN3, CAN4, CAN8, PEND3): every order of the four steps
 * of a cancellable pended operation, for every real handoff strategy,
 * driven deterministically from one thread:
 *   S  the pre-op sets the cancel routine (flt_set_cancel_completion)
 *   R  the pre-op returns (PENDING; COMPLETE when S returned CANCELLED)
 *   X  the worker clears the routine and, if it won, completes the op
 *   C  the requester cancels (io_cancel_irp)
 * S precedes R and X (the pre-op sets before it posts). The steps before
 * R run inside the pre-op callback, the others after flt_issue returns.
 * Whatever the order: exactly one completion, by the side CAN7 names. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "flt_kernel.h"
#include "flt_model.h"

struct script {
    const char *order;
    int pos;
    struct flt_callback_data *data;
    NTSTATUS set_result;
    int set_done;
    NTSTATUS clear_result;
    int clear_done;
    int cancel_result;          /* io_cancel_irp: 1 TRUE, 0 FALSE, -1 not run */
    int callback_ran;
    int completions;
    NTSTATUS final_status;
    uint64_t final_info;
};

static struct script sc;

static void canceled(struct flt_callback_data *data)
{
    sc.callback_ran++;
    data->io_status.status = STATUS_CANCELLED;
    data->io_status.information = 0;
    flt_complete_pended_preop(data, FLT_PREOP_COMPLETE, NULL);
}

static void step(char s)
{
    switch (s) {
    case 'S':
        sc.set_result = flt_set_cancel_completion(sc.data, canceled);
        sc.set_done = 1;
        break;
    case 'X':
        if (sc.set_result == STATUS_CANCELLED)
            break;                          /* never posted: the setter completed */
        sc.clear_result = flt_clear_cancel_completion(sc.data);
        sc.clear_done = 1;
        if (sc.clear_result == STATUS_SUCCESS) {
            sc.data->io_status.status = STATUS_SUCCESS;
            sc.data->io_status.information = 42;
            flt_complete_pended_preop(sc.data, FLT_PREOP_COMPLETE, NULL);
        }
        break;
    case 'C':
        sc.cancel_result = io_cancel_irp(flt_weak_handle(sc.data)) ? 1 : 0;
        break;
    }
}

static FLT_PREOP_CALLBACK_STATUS scripted_pre(struct flt_callback_data *data,
                                              const struct flt_related_objects *objs, void **ctx)
{
    sc.data = data;
    while (sc.order[sc.pos] != 'R')
        step(sc.order[sc.pos++]);
    sc.pos++;                               /* R */
    if (sc.set_result == STATUS_CANCELLED) {
        data->io_status.status = STATUS_CANCELLED;   /* CAN8: the setter completes */
        data->io_status.information = 0;
        return FLT_PREOP_COMPLETE;
    }
    return FLT_PREOP_PENDING;
}

static void on_complete(struct flt_callback_data *data, void *ctx)
{
    sc.completions++;
    sc.final_status = data->io_status.status;
    sc.final_info = data->io_status.information;
}

struct case_param {
    char handoff[24];
    char order[8];
};

static struct case_param cases[64];

ParameterizedTestParameters(interleavings, CAN7_every_order_every_handoff)
{
    static const char *const orders[] = { "CSRX", "CSXR", "SCRX", "SCXR",
                                          "SRCX", "SRXC", "SXCR", "SXRC" };
    size_t n = 0;
    for (size_t h = 0; pb_handoffs[h]; h++) {
        if ((pb_handoffs[h]->flags & PB_BROKEN))
            continue;
        for (size_t o = 0; o < sizeof orders / sizeof orders[0] && n < 64; o++, n++) {
            snprintf(cases[n].handoff, sizeof cases[n].handoff, "%s", pb_handoffs[h]->name);
            snprintf(cases[n].order, sizeof cases[n].order, "%s", orders[o]);
        }
    }
    return cr_make_param_array(struct case_param, cases, n);
}

ParameterizedTest(struct case_param *p, interleavings, CAN7_every_order_every_handoff)
{
    struct flt_model_config cfg = { .handoff = p->handoff, .verifier_log = true };
    struct flt_model *m;
    const char *err;
    cr_assert_eq(flt_model_create(&cfg, &m, &err), STATUS_SUCCESS, "%s", err);
    struct flt_volume *vol;
    cr_assert_eq(flt_volume_create(m, "v", NULL, &vol), STATUS_SUCCESS);
    static const struct flt_operation_registration ops[] = {
        { IRP_MJ_READ, 0, scripted_pre, NULL },
        { IRP_MJ_OPERATION_END, 0, NULL, NULL },
    };
    struct flt_registration reg = { .name = "scripted", .operation_registration = ops };
    struct flt_filter *f;
    struct flt_instance *inst;
    cr_assert_eq(flt_register_filter(m, &reg, &f), STATUS_SUCCESS);
    cr_assert_eq(flt_attach_volume(f, vol, "370000", &inst), STATUS_SUCCESS);

    memset(&sc, 0, sizeof sc);
    sc.order = p->order;
    sc.cancel_result = -1;
    struct flt_op_desc d = { .operation_type = FLTFL_CALLBACK_DATA_IRP_OPERATION,
                             .major_function = IRP_MJ_READ, .on_complete = on_complete };
    flt_op_handle h;
    NTSTATUS st = flt_issue(vol, &d, &h);
    while (sc.order[sc.pos])
        step(sc.order[sc.pos++]);

    const char *o = p->order;
    int c = (int)(strchr(o, 'C') - o), s = (int)(strchr(o, 'S') - o), x = (int)(strchr(o, 'X') - o);
    cr_assert_eq(sc.completions, 1, "[%s %s] completed %d times", p->handoff, o, sc.completions);
    if (c < s) {
        /* C before S: set catches the cancel and the setter completes. */
        cr_expect_eq(sc.cancel_result, 0, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.set_result, STATUS_CANCELLED, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.callback_ran, 0, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.final_status, STATUS_CANCELLED, "[%s %s]", p->handoff, o);
        cr_expect_eq(st, STATUS_CANCELLED, "[%s %s] issue returns the final status", p->handoff, o);
    } else if (c < x) {
        /* S, C, X: the callback completes; the worker touches nothing. */
        cr_expect_eq(sc.set_result, STATUS_SUCCESS, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.cancel_result, 1, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.callback_ran, 1, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.clear_result, STATUS_CANCELLED, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.final_status, STATUS_CANCELLED, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.final_info, 0, "[%s %s] CAN9: Information = 0", p->handoff, o);
    } else {
        /* S, X, C: the worker completes with its own status; C is late. */
        cr_expect_eq(sc.set_result, STATUS_SUCCESS, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.clear_result, STATUS_SUCCESS, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.cancel_result, 0, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.callback_ran, 0, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.final_status, STATUS_SUCCESS, "[%s %s]", p->handoff, o);
        cr_expect_eq(sc.final_info, 42, "[%s %s]", p->handoff, o);
    }
    /* PEND3: nothing completes before the pre-op returns, so completion
     * happens at max(the winner's step, R). The issuer sees STATUS_PENDING
     * exactly when the winner came after R. */
    int r = (int)(strchr(o, 'R') - o);
    int winner = c < s ? s : (c < x ? c : x);
    int complete_at = winner > r ? winner : r;
    cr_expect_eq(st == STATUS_PENDING, winner > r, "[%s %s] issue returned %#x", p->handoff, o,
                 (unsigned)st);

    /* A second cancel, on the completed op through the pinned handle: late. */
    cr_expect_eq(io_cancel_irp_ex(h), FLT_CANCEL_LATE, "[%s %s] CAN10", p->handoff, o);
    flt_release_handle(h);

    /* Each attempt in exactly one category (DESIGN "Cancel outcomes"). */
    int won = s < c && c < x, early = c < s;
    int late = !won && !early && c > complete_at;
    int lost = !won && !early && !late;
    struct pb_counters cs;
    flt_model_counters(m, &cs);
    cr_expect_eq(cs.cancel_attempted, 2u, "[%s %s]", p->handoff, o);
    cr_expect_eq(cs.cancel_won, (uint64_t)won, "[%s %s] won", p->handoff, o);
    cr_expect_eq(cs.cancel_early, (uint64_t)early, "[%s %s] early", p->handoff, o);
    cr_expect_eq(cs.cancel_lost, (uint64_t)lost, "[%s %s] lost", p->handoff, o);
    cr_expect_eq(cs.cancel_late, (uint64_t)(1 + late), "[%s %s] late", p->handoff, o);
    struct flt_invariants inv;
    flt_model_check(m, false, &inv);
    cr_expect(inv.ok, "[%s %s] %s", p->handoff, o, inv.why);
    flt_volume_destroy(vol);
    flt_unregister_filter(f);
    flt_model_destroy(m);
}
