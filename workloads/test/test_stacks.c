/* Every filter stack the scenario validator accepts (up to two filters,
 * and the three-filter stacks with async above cbdq) runs briefly with
 * cancels, its invariants intact. In the TSan variant this is the race
 * check of the model's cross-thread flags: `async,cbdq,pend` with cancels
 * once raced on in_cbdq (flt_cancel_io read it without the queue's lock). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pb_run.h"
#include "pb_scenario.h"

#define NKINDS 7        /* pend, pass, callback, synchronize, mix, cbdq, async */

static bool has_async_above_cbdq(const struct pb_scenario *s)
{
    for (unsigned i = 0; i < s->nfilters; i++)
        for (unsigned j = i + 1; j < s->nfilters; j++)
            if (s->filters[i] == PB_FILTER_ASYNC && s->filters[j] == PB_FILTER_CBDQ)
                return true;
    return false;
}

static void run_stack(struct pb_scenario *s, const char *what)
{
    struct pb_run_env env = { .skip_floors = true };
    struct pb_run_result r;
    cr_assert_eq(pb_run(s, &env, &r), 0, "%s: %s", what, r.error);
    cr_expect(r.invariants.ok, "%s: %s", what, r.invariants.why);
    cr_expect_gt(r.completed + r.completed_cancelled + r.failed, 0, "%s: nothing completed", what);
    cr_expect_eq(r.counters.pool_get, r.counters.pool_put, "%s: callback data leaked", what);
    cr_expect_eq(r.cancel.attempted, r.cancel.won + r.cancel.lost + r.cancel.early +
                                         r.cancel.late + r.cancel.not_cancelable,
                 "%s: cancel outcomes do not add up", what);
    pb_run_result_free(&r);
}

Test(stacks, every_accepted_stack_runs_with_cancels, .timeout = 300)
{
    unsigned ran = 0, with_async_cbdq = 0;
    for (unsigned n = 1; n <= 3; n++) {
        unsigned total = 1;
        for (unsigned i = 0; i < n; i++)
            total *= NKINDS;
        for (unsigned code = 0; code < total; code++) {
            struct pb_scenario s;
            char err[512], what[128] = "";
            pb_scenario_defaults(&s);
            s.nfilters = n;
            unsigned c = code;
            for (unsigned i = 0; i < n; i++, c /= NKINDS) {
                s.filters[i] = (pb_filter_kind)(c % NKINDS);
                size_t used = strlen(what);
                snprintf(what + used, sizeof what - used, "%s%s", i ? "," : "",
                         pb_filter_kind_name(s.filters[i]));
            }
            if (n == 3 && !has_async_above_cbdq(&s))
                continue;
            s.duration_s = 0;
            s.ops = 400;
            s.warmup_s = 0;
            s.requesters = 2;
            s.workers = 2;
            s.cancellers = 1;
            s.cancel_fraction = 0.5;
            if (pb_scenario_validate(&s, err, sizeof err) != 0) {
                /* The only refusal: async without a pend filter below. */
                cr_expect(strstr(err, "async") != NULL, "%s refused: %s", what, err);
                continue;
            }
            run_stack(&s, what);
            ran++;
            with_async_cbdq += has_async_above_cbdq(&s);
        }
    }
    /* 6 single filters, 36 pairs without async, async,pend; async,cbdq,pend and async,pend,cbdq. */
    cr_expect_eq(ran, 45, "%u stacks ran", ran);
    cr_expect_eq(with_async_cbdq, 2);
}
