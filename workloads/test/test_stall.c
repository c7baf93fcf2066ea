/* The stall guard of the run engine (run.c): a window that completed
 * nothing, or under a tenth of what the run's own warm-up did, fails the
 * run; a warm-up or a window too short to say anything is not judged.
 * Judged here on made-up counts, so every case is exact: the runs of
 * test_run.c reach the guard only when something really stalls. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pb_scenario.h"
#include "../run_internal.h"

static struct pb_scenario sc;
static struct pb_run_result *out;

/* A new case: the default scenario, a result with nothing judged yet. */
static void fresh(void)
{
    pb_scenario_defaults(&sc);
    memset(out, 0, sizeof *out);
    out->invariants.ok = true;
}

static void setup(void)
{
    out = malloc(sizeof *out);
    cr_assert(out);
    fresh();
}

static void teardown(void)
{
    free(out);
}

/* A window of `seconds` that completed `done` operations. */
static void window(double seconds, uint64_t done)
{
    out->seconds = seconds;
    out->completed = done;
}

TestSuite(stall, .init = setup, .fini = teardown);

Test(stall, empty_window_fails_the_run)
{
    window(0.5, 0);
    pb_run__judge_stall(&sc, 0, 0, out);     /* no warm-up at all: still judged */
    cr_expect(out->stalled);
    cr_expect_not(out->invariants.ok);
    cr_expect(strstr(out->invariants.why, "no operation completed"), "why: %s",
              out->invariants.why);
}

Test(stall, tenth_of_the_warm_up_is_the_line)
{
    /* Warm-up 1 M ops/s; windows at 99 k/s and 101 k/s either side of it. */
    window(1.0, 99000);
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect(out->stalled);
    cr_expect(strstr(out->invariants.why, "under a tenth"), "why: %s", out->invariants.why);
    cr_expect_float_eq(out->warmup_throughput_ops_s, 1e6, 1e-6);

    fresh();
    window(1.0, 101000);
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect_not(out->stalled);
    cr_expect(out->invariants.ok, "%s", out->invariants.why);
}

Test(stall, every_outcome_counts_as_done)
{
    /* A window of failures and cancels is flagged elsewhere, not a stall. */
    window(1.0, 0);
    out->failed = 60000;
    out->completed_cancelled = 60000;
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect_not(out->stalled);
}

Test(stall, short_warm_up_sets_no_expectation)
{
    /* --warmup 0: 50 completions in 5 us read as 10 M ops/s; a sound
     * window at 500 k/s must not be called a stall (seen under TSan). */
    window(0.5, 250000);
    pb_run__judge_stall(&sc, 50, 5e-6, out);
    cr_expect_not(out->stalled, "%s", out->invariants.why);
    /* Too few operations in a long warm-up say nothing either. */
    fresh();
    window(0.5, 10);
    pb_run__judge_stall(&sc, 49, 1.0, out);
    cr_expect_not(out->stalled, "%s", out->invariants.why);
}

Test(stall, short_window_judged_only_when_empty)
{
    /* 5 ms: one preemption of the requester can empty most of it. */
    window(0.005, 1);
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect_not(out->stalled, "%s", out->invariants.why);
    /* 3000 operations in 0.14 s after a 408 k ops/s warm-up: 0.13 s lost,
     * one preemption on a loaded machine (seen under ninja check). */
    fresh();
    window(0.14, 3000);
    pb_run__judge_stall(&sc, 40800, 0.1, out);
    cr_expect_not(out->stalled, "%s", out->invariants.why);
    /* The same rate over 2 s lost 1.95 s of it: a stall. */
    fresh();
    window(2.0, 21000);
    pb_run__judge_stall(&sc, 40800, 0.1, out);
    cr_expect(out->stalled);
}

Test(stall, bursts_are_held_to_their_on_share)
{
    /* On 10 ms of every 100: a window at 50 k/s after a warm-up at 1 M/s
     * (spent in an on period) is half the expected 100 k/s, not a stall... */
    sc.rate = 1e6;
    sc.burst_on_ms = 10;
    sc.burst_off_ms = 90;
    window(1.0, 50000);
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect_not(out->stalled, "%s", out->invariants.why);
    /* ...and under a tenth of that share is one. */
    fresh();
    sc.rate = 1e6;
    sc.burst_on_ms = 10;
    sc.burst_off_ms = 90;
    window(1.0, 9000);
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect(out->stalled);
    /* Without bursts the same 50 k/s window is a stall. */
    fresh();
    window(1.0, 50000);
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect(out->stalled);
}

Test(stall, partial_run_is_not_judged)
{
    window(0.2, 0);
    out->partial = true;
    pb_run__judge_stall(&sc, 100000, 0.1, out);
    cr_expect_not(out->stalled);
    cr_expect(out->invariants.ok);
}

Test(stall, first_broken_invariant_keeps_its_reason)
{
    out->invariants.ok = false;
    strcpy(out->invariants.why, "an earlier reason");
    window(0.5, 0);
    pb_run__judge_stall(&sc, 0, 0, out);
    cr_expect(out->stalled);
    cr_expect_str_eq(out->invariants.why, "an earlier reason");
}

/* What the scenario itself allows in the window is the floor of the
 * judgement: a 2 s service in a 0.1 s window, one arrival a second, or a
 * window inside a burst's pause completes nothing, and that is no stall. */
Test(stall, a_window_the_scenario_leaves_empty_is_not_judged)
{
    sc.service = (struct pb_dist){ PB_DIST_FIXED, 2e9, 0 };
    window(0.1, 0);
    pb_run__judge_stall(&sc, 0, 0, out);
    cr_expect_not(out->stalled, "2 s service, 0.1 s window");
    cr_expect(out->invariants.ok);

    fresh();
    sc.rate = 1;
    window(0.1, 0);
    pb_run__judge_stall(&sc, 0, 0, out);
    cr_expect_not(out->stalled, "one arrival a second, 0.1 s window");

    fresh();
    sc.rate = 1000;
    sc.burst_on_ms = 1;
    sc.burst_off_ms = 100000;
    window(0.1, 0);
    pb_run__judge_stall(&sc, 0, 0, out);
    cr_expect_not(out->stalled, "a 0.1 s window in a 100 s pause");
}

Test(stall, a_window_the_scenario_fills_is_still_judged)
{
    /* 100 k arrivals a second: 10 k expected in 0.1 s, none came. */
    sc.rate = 100000;
    window(0.1, 0);
    pb_run__judge_stall(&sc, 0, 0, out);
    cr_expect(out->stalled);
    /* A 2 ms service on 1 worker: 50 could complete in 0.1 s. */
    fresh();
    sc.service = (struct pb_dist){ PB_DIST_FIXED, 2e6, 0 };
    window(0.1, 0);
    pb_run__judge_stall(&sc, 0, 0, out);
    cr_expect(out->stalled);
    /* Bursts of 20 ms every 100 ms at 200 k/s over 1 s: judged. */
    fresh();
    sc.rate = 200000;
    sc.burst_on_ms = 20;
    sc.burst_off_ms = 80;
    window(1.0, 0);
    pb_run__judge_stall(&sc, 0, 0, out);
    cr_expect(out->stalled);
}

Test(stall, a_window_other_processes_took_is_not_a_stall)
{
    /* 21 k ops/s over 2 s after a 408 k ops/s warm-up: a stall on a quiet
     * machine (the case above)... */
    window(2.0, 42000);
    out->others_pct = 10;
    pb_run__judge_stall(&sc, 40800, 0.1, out);
    cr_expect(out->stalled);
    /* ...the machine's when others took half its CPU time (a compiler
     * beside spinning threads)... */
    fresh();
    window(2.0, 42000);
    out->others_pct = 50;
    pb_run__judge_stall(&sc, 40800, 0.1, out);
    cr_expect_not(out->stalled, "%s", out->invariants.why);
    /* ...judged when the share is unknown... */
    fresh();
    window(2.0, 42000);
    out->others_pct = -1;
    pb_run__judge_stall(&sc, 40800, 0.1, out);
    cr_expect(out->stalled);
    /* ...and an empty window is a stall whatever the load. */
    fresh();
    window(2.0, 0);
    out->others_pct = 90;
    pb_run__judge_stall(&sc, 40800, 0.1, out);
    cr_expect(out->stalled);
}
