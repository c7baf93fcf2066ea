/* The run engine (pb_run.h): the scenario on the shared harness
 * (harness.h), measured. pb_run is a handful of steps: validate, plan,
 * floors, build (model, stack, traffic), start, warm up, measure, stop and
 * drain, check, merge; every failure says which step and why, and one free
 * path (harness_free) takes whatever state the failed step left. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "harness.h"
#include "run_internal.h"
#include "pb_env.h"
#include "pb_run.h"
#include "pb_tsc.h"

double pb_jain_index(const uint64_t *x, unsigned n)
{
    double s = 0, s2 = 0;
    for (unsigned i = 0; i < n; i++) {
        s += (double)x[i];
        s2 += (double)x[i] * (double)x[i];
    }
    return (n && s2 > 0) ? s * s / (n * s2) : 1.0;
}

void pb_run_result_free(struct pb_run_result *r)
{
    free(r->pairs);
    r->pairs = NULL;
    r->npairs = 0;
}

/* How long each c2c measurement samples, and when a floor is too shaky to
 * divide by: its p10-p90 spread wider than FLOOR_MAX_SPREAD of its median,
 * or its median moved by more than FLOOR_MAX_MOVE between the measurement
 * before the window and the one after it. On this project's 2-core VM,
 * twelve back-to-back measurements gave medians of 65-81 ns with p10-p90
 * spreads of 12-25% of the median, also with a niced process spinning on
 * one of the CPUs (the median resists preemption); the limits leave room
 * for that and catch a floor that is not one (see README, "Floors"). */
#define FLOOR_C2C_MS 60u
#define FLOOR_MAX_SPREAD 0.5
#define FLOOR_MAX_MOVE 0.3

static void measure_floors(struct harness *hs, const struct pb_run_env *env,
                           struct pb_run_result *out)
{
    const struct pb_plan *plan = &hs->plan;
    struct pb_floor f;
    pb_measure_timestamp_cost(&f);
    out->timestamp_overhead_ns = f.median_ns;
    /* The instrumentation per op: the timestamps of the total latency, the
     * split's third on every split-every-th operation, and the completing
     * thread's recording, measured. The total takes two stamps in a closed
     * loop (t_issue, t_complete) and one in an open loop, whose t_issue is
     * the arrival's intended time, computed from the schedule (the pacing
     * reads the clock to wait for it whether or not anything is measured). */
    unsigned split = hs->sc->split_every ? hs->sc->split_every : 1;
    double stamps = hs->sc->rate > 0 ? 1.0 : 2.0;
    double timed = (stamps + 1.0 / split) * f.median_ns + harness_record_cost_ns(hs);
    /* With latency-every N all of it is paid on one operation in N; auto
     * picks N from this measurement, before any thread reads it. */
    if (hs->sc->latency_every == PB_LATENCY_EVERY_AUTO)
        hs->latency_every = pb_latency_every_auto(timed);
    out->latency_every = hs->latency_every;
    out->instrumentation_ns_per_op = timed / hs->latency_every;
    const struct pb_thread_plan *a = pb_plan_thread(plan, PB_ROLE_REQUESTER, 0);
    const struct pb_thread_plan *b = pb_plan_thread(plan, PB_ROLE_WORKER, 0);
    out->c2c_os_cpu_a = a ? (int)a->os_cpu : -1;
    out->c2c_os_cpu_b = b ? (int)b->os_cpu : -1;
    if (env->skip_floors || !a || !b)
        return;
    if (a->os_cpu != b->os_cpu &&
        pb_measure_c2c_round_trip(a->os_cpu, b->os_cpu, FLOOR_C2C_MS, &out->c2c_start) == 0)
        out->c2c_round_trip_ns = out->c2c_start.median_ns;
    if (pb_measure_futex_wake(a->os_cpu, b->os_cpu, 100, &f) >= 0)
        out->futex_wake_ns = f.median_ns;
}

/* The c2c floor again, once the run's threads are gone, and the verdict
 * on whether ratios against it mean anything. */
static void recheck_floor(struct pb_run_result *out)
{
    if (out->c2c_round_trip_ns <= 0)
        return;
    const struct pb_floor *s = &out->c2c_start, *e = &out->c2c_end;
    if (pb_measure_c2c_round_trip((unsigned)out->c2c_os_cpu_a, (unsigned)out->c2c_os_cpu_b,
                                  FLOOR_C2C_MS, &out->c2c_end) != 0 || e->median_ns <= 0) {
        out->floor_unstable = true;
        snprintf(out->floor_note, sizeof out->floor_note,
                 "the c2c floor could not be measured again after the window");
        return;
    }
    double lo = s->median_ns < e->median_ns ? s->median_ns : e->median_ns;
    double move = fabs(e->median_ns - s->median_ns) / lo;
    double spread_s = (s->p90_ns - s->p10_ns) / s->median_ns;
    double spread_e = (e->p90_ns - e->p10_ns) / e->median_ns;
    if (move > FLOOR_MAX_MOVE) {
        out->floor_unstable = true;
        snprintf(out->floor_note, sizeof out->floor_note,
                 "c2c floor moved %.0f -> %.0f ns during the run (%.0f%%)", s->median_ns,
                 e->median_ns, move * 100);
    } else if (spread_s > FLOOR_MAX_SPREAD || spread_e > FLOOR_MAX_SPREAD) {
        const struct pb_floor *w = spread_s > spread_e ? s : e;
        out->floor_unstable = true;
        snprintf(out->floor_note, sizeof out->floor_note,
                 "c2c floor spread wide: p10-p90 %.0f-%.0f ns around %.0f ns (%s the window)",
                 w->p10_ns, w->p90_ns, w->median_ns, w == s ? "before" : "after");
    }
}

/* A window that completed nothing, or far less than the run did before it
 * (a lost wake-up, a livelock, a thread starved off its CPU), is a failure
 * of the run, not a figure. The reference is the run's own warm-up: what
 * this system completed per second minutes before, overloaded or not (an
 * open loop offered more than it can take completes at its capacity in
 * both). Bursts: the warm-up may fall in an on period, so the window is
 * held to the on share of it. */
#define STALL_FACTOR 10.0
#define STALL_MIN_WARMUP_OPS 50u
/* A warm-up shorter than this is about one scheduler time slice: it says
 * nothing of the rate. */
#define STALL_MIN_WINDOW_S 0.01
/* A slow window is judged by the time it lost against the warm-up's rate:
 * one preemption of a requester on a loaded machine costs up to ~0.15 s
 * (seen: a 3000-operation window at 21 k ops/s after a 408 k ops/s
 * warm-up, under `ninja check`'s parallel builds), a stall costs the
 * window. Below this, only an empty window is judged. */
#define STALL_MIN_LOST_S 0.25
/* A slow window in which other processes (or the hypervisor's steal) took
 * PB_OTHERS_BUSY_PCT of the machine's CPU time was slowed by them, not
 * stalled: a compiler beside a run with spinning threads on 2 CPUs took a
 * window down to 9 k ops/s after a 398 k ops/s warm-up (`ninja` during the
 * tests). An empty window is judged whatever the load. */

/* Fewer completions than this are what the scenario itself allows in the
 * window: not judged. */
#define STALL_MIN_EXPECTED_OPS 5.0

/* The most operations the scenario can complete in a window of w seconds
 * by its own settings, in the worst case: the workers' service time
 * (each does one operation at a time) and an open loop's arrivals (a
 * window that starts as a burst pauses gets the fewest). */
double pb_scenario_allows(const struct pb_scenario *sc, double w)
{
    double most = INFINITY;
    double svc_s = (pb_dist_mean(&sc->service) + pb_dist_mean(&sc->fs_service)) / 1e9;
    if (svc_s > 0)
        most = w * (sc->workers ? sc->workers : 1) / svc_s;
    if (sc->rate > 0) {
        double on = sc->burst_on_ms / 1e3, off = sc->burst_off_ms / 1e3, on_s = w;
        if (on > 0 && off > 0) {
            double period = on + off, whole = floor(w / period), rest = w - whole * period;
            on_s = whole * on + (rest > off ? rest - off : 0);
        }
        double arrivals = sc->rate * on_s;
        most = arrivals < most ? arrivals : most;
    }
    return most;
}

void pb_run__judge_stall(const struct pb_scenario *sc, uint64_t warmup_ops, double warmup_s,
                         struct pb_run_result *out)
{
    if (out->partial)
        return;
    /* A 2 s service in a 0.1 s window, or one arrival a second: nothing
     * completed is what was asked for. */
    if (pb_scenario_allows(sc, out->seconds) < STALL_MIN_EXPECTED_OPS)
        return;
    /* Outcomes of every kind: a window of failures is not a stall (it is
     * flagged as mostly failed). */
    uint64_t done = out->completed + out->completed_cancelled + out->failed;
    double done_per_s = out->seconds > 0 ? (double)done / out->seconds : 0;
    out->warmup_throughput_ops_s = warmup_s > 0 ? (double)warmup_ops / warmup_s : 0;
    double expected = 0;
    /* A warm-up as short as a window that is not judged says nothing of
     * the rate either: with --warmup 0 it is the few microseconds between
     * two counter reads, where a burst of 50 completions reads as millions
     * per second and a sound window as a stall (seen under TSan). */
    if (warmup_ops >= STALL_MIN_WARMUP_OPS && warmup_s >= STALL_MIN_WINDOW_S) {
        double on = sc->burst_on_ms, off = sc->burst_off_ms;
        expected = out->warmup_throughput_ops_s *
                   (sc->rate > 0 && on > 0 && off > 0 ? on / (on + off) : 1.0);
    }
    char why[sizeof out->invariants.why];
    if (done == 0)
        snprintf(why, sizeof why, "stalled: no operation completed in the %.2f s window",
                 out->seconds);
    else if (expected > 0 && out->seconds - (double)done / expected >= STALL_MIN_LOST_S &&
             done_per_s < expected / STALL_FACTOR && out->others_pct < PB_OTHERS_BUSY_PCT)
        snprintf(why, sizeof why, "stalled: %.0f ops/s in the window, under a tenth of the "
                 "warm-up's %.0f ops/s", done_per_s, expected);
    else
        return;
    out->stalled = true;
    if (out->invariants.ok) {
        out->invariants.ok = false;
        snprintf(out->invariants.why, sizeof out->invariants.why, "%s", why);
    }
}


static int fail_setup(struct pb_run_result *out, const char *fmt, const char *detail)
{
    snprintf(out->error, sizeof out->error, fmt, detail ? detail : "");
    return -1;
}

/* Waits until every thread is bound and attached, then for the warm-up;
 * returns the operations completed in it. The warm-up starts when every
 * thread is up: the first binding loads the machine's topology, which can
 * take longer than a short warm-up on a loaded machine. */
static uint64_t warm_up(struct harness *h, const struct pb_run_env *env, double *warmup_s,
                        struct pb_counters *c0)
{
    double t0 = harness_mono_s();
    while (harness_ready(h) < harness_nthreads(h) && harness_mono_s() - t0 < 30 &&
           !(env->stop && *env->stop))
        harness_nap_ms(1);
    struct pb_counters cw;
    flt_model_counters(h->model, &cw);
    t0 = harness_mono_s();
    while (harness_mono_s() - t0 < h->sc->warmup_s && !(env->stop && *env->stop))
        harness_nap_ms(5);
    flt_model_counters(h->model, c0);
    *warmup_s = harness_mono_s() - t0;
    return (c0->completed + c0->completed_cancelled + c0->failed) -
           (cw.completed + cw.completed_cancelled + cw.failed);
}

static double rusage_cpu_s(const struct rusage *r)
{
    return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
           (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

/* The measured window: until the duration or the operation count is
 * reached, or the stop flag. */
static void measure(struct harness *h, const struct pb_run_env *env, struct pb_run_result *out)
{
    const struct pb_scenario *sc = h->sc;
    struct pb_cpu_times cpu0, cpu1;
    struct rusage ru0, ru1;
    pb_env_cpu_times(&cpu0);
    getrusage(RUSAGE_SELF, &ru0);
    atomic_store_explicit(&h->measuring, true, memory_order_release);
    double t_start = harness_mono_s(), last_progress = t_start;
    uint64_t last_n = 0;
    for (;;) {
        harness_nap_ms(5);
        double now = harness_mono_s(), el = now - t_start;
        if (env->stop && *env->stop) {
            out->partial = true;
            break;
        }
        uint64_t n = harness_sum_measured(h);
        if (sc->ops ? n >= sc->ops : el >= sc->duration_s)
            break;
        if (env->progress && now - last_progress >= 0.2) {
            env->progress(env->progress_arg, el, (double)(n - last_n) / (now - last_progress),
                          harness_live_p99(h));
            last_progress = now;
            last_n = n;
        }
    }
    out->seconds = harness_mono_s() - t_start;
    /* Preemptions and steal of the window: every thread of the process
     * (ours and the model's workers), and the machine's steal time. */
    getrusage(RUSAGE_SELF, &ru1);
    pb_env_cpu_times(&cpu1);
    out->involuntary_switches = ru1.ru_nivcsw > ru0.ru_nivcsw ? (uint64_t)(ru1.ru_nivcsw - ru0.ru_nivcsw) : 0;
    out->steal_pct = pb_env_steal_pct(&cpu0, &cpu1);
    double others = pb_env_others_share(&cpu0, &cpu1, rusage_cpu_s(&ru1) - rusage_cpu_s(&ru0));
    out->others_pct = others < 0 ? -1 : 100 * others;
}

/* Failed operations are not throughput: the share of the window's
 * outcomes that failed, the status they failed with, and a flag when most
 * did (a pool far too small, say), so a table never shows such a run as a
 * plain figure. */
#define MOSTLY_FAILED 0.5

static void judge_failures(struct harness *h, struct pb_run_result *out)
{
    uint64_t outcomes = out->completed + out->completed_cancelled + out->failed;
    out->failed_fraction = outcomes ? (double)out->failed / (double)outcomes : 0;
    out->failure_status = 0;
    for (unsigned i = 0; i < h->nreq && !out->failure_status; i++)
        out->failure_status = atomic_load(&h->req[i].rec.failed_status);
    for (unsigned w = 0; w < h->nworker_rec && !out->failure_status; w++)
        out->failure_status = atomic_load(&h->worker_rec[w].failed_status);
    for (unsigned c = 0; c < h->ncancellers && !out->failure_status; c++)
        out->failure_status = atomic_load(&h->can[c].rec.failed_status);
    if (!out->failure_status)
        out->failure_status = atomic_load(&h->fallback_rec.failed_status);
    out->mostly_failed = out->failed > 0 && out->failed_fraction > MOSTLY_FAILED;
}

static int fairness(struct harness *h, struct pb_run_result *out)
{
    uint64_t *per = calloc(h->nreq ? h->nreq : 1, sizeof *per);
    if (!per) {
        snprintf(h->error, sizeof h->error, "out of memory for the fairness figures");
        return -1;
    }
    out->per_requester_min = UINT64_MAX;
    for (unsigned i = 0; i < h->nreq; i++) {
        per[i] = h->req[i].stuck ? 0 : h->req[i].issued_in_window;   /* never joined: not read */
        out->issued += per[i];
        out->per_requester_min = per[i] < out->per_requester_min ? per[i] : out->per_requester_min;
        out->per_requester_max = per[i] > out->per_requester_max ? per[i] : out->per_requester_max;
    }
    out->jain_index = pb_jain_index(per, h->nreq);
    free(per);
    return 0;
}

static void cancel_outcomes(const struct pb_counters *c0, const struct pb_counters *c1,
                            struct pb_cancel_outcomes *o)
{
    /* Each attempt counts once, in the window where its outcome became
     * known (early and lost are known at completion, maybe after the
     * window opened for an attempt made in the warm-up, or after it closed
     * for one made at its end): attempted is the sum of the outcomes. c1
     * is read when the window closes, before the stop: the cancels still
     * pending then are fired at once to release their handles, long before
     * their planned time, and one that hit an operation still in flight
     * would count as won. The whole run's counts are checked exactly by
     * flt_model_check. */
    o->won = c1->cancel_won - c0->cancel_won;
    o->lost = c1->cancel_lost - c0->cancel_lost;
    o->early = c1->cancel_early - c0->cancel_early;
    o->late = c1->cancel_late - c0->cancel_late;
    o->not_cancelable = c1->cancel_not_cancelable - c0->cancel_not_cancelable;
    o->attempted = o->won + o->lost + o->early + o->late + o->not_cancelable;
    o->success_rate = o->attempted ? (double)o->won / (double)o->attempted : 0;
}

int pb_run(const struct pb_scenario *sc, const struct pb_run_env *env, struct pb_run_result *out)
{
    memset(out, 0, sizeof *out);
    out->scenario = *sc;
    pb_hist_init(&out->total);
    pb_hist_init(&out->queue_wait);
    pb_hist_init(&out->service);
    char err[240];
    if (pb_scenario_validate(sc, err, sizeof err) != 0)
        return fail_setup(out, "%s", err);
    static const struct pb_run_env no_env;
    if (!env)
        env = &no_env;
    struct harness_opts o = { .topo = env->topo, .bind = true, .verifier_log = true };
    struct harness *h = harness_new(sc, &o, 0);
    if (!h)
        return fail_setup(out, "out of memory%s", NULL);
    out->nthreads = harness_nthreads(h);
    unsigned usable = pb_env_usable_cpus();
    out->oversubscribed = usable > 0 && out->nthreads > usable;
    out->steal_pct = -1;
    out->others_pct = -1;

    int rc = -1;
    if (harness_plan(h) != 0)
        goto done;
    /* The floors before any thread of the run exists. */
    measure_floors(h, env, out);
    if (harness_build_model(h) != 0 || harness_build_stack(h) != 0 ||
        harness_build_traffic(h) != 0 || harness_start(h) != 0)
        goto done;

    struct pb_counters c0, c_window, c1;
    double warmup_s = 0;
    uint64_t warmup_ops = warm_up(h, env, &warmup_s, &c0);
    measure(h, env, out);
    flt_model_counters(h->model, &c_window);
    harness_stop(h);
    /* Drain: every operation in flight completes (bounded). */
    uint64_t busy = harness_drain(h, 5.0);
    /* Work that never ran (a broken lock lost it from its queue) would keep
     * the teardown waiting for it forever: the model is then kept as it is
     * (harness_free), as stress does, and the run reports the loss. */
    bool quiet = !busy && flt_model_quiesce(h->model, 5000);
    h->lost = !quiet;
    flt_model_counters(h->model, &c1);
    out->counters = c1;
    flt_model_check(h->model, false, &out->invariants);
    if (busy && out->invariants.ok) {
        out->invariants.ok = false;
        snprintf(out->invariants.why, sizeof out->invariants.why,
                 "%llu operations never completed%s", (unsigned long long)busy,
                 h->nstuck ? " (a requester still waits in the model for one it issued "
                             "synchronously)" : "");
    } else if (!quiet && out->invariants.ok) {
        out->invariants.ok = false;
        snprintf(out->invariants.why, sizeof out->invariants.why,
                 "work items queued but never run (5 s after the window)");
    }
    /* The workers' lock statistics are kept as each ends: stop them now
     * that every work item ran (not with operations lost: a worker may be
     * what is stuck, and the model is then kept as it is). */
    if (quiet)
        flt_model_stop_workers(h->model);
    if (harness_merge(h, out) != 0 || fairness(h, out) != 0 || harness_lock_figures(h, out) != 0)
        goto done;
    /* Throughput is what succeeded or was cancelled: a failed operation
     * did no work (issue #10: a pool too small looked fast). */
    out->throughput_ops_s = out->seconds > 0
        ? (double)(out->completed + out->completed_cancelled) / out->seconds : 0;
    judge_failures(h, out);
    cancel_outcomes(&c0, &c_window, &out->cancel);
    pb_run__judge_stall(sc, warmup_ops, warmup_s, out);
    out->migrations = atomic_load_explicit(&h->migrations, memory_order_relaxed);
    out->smt_siblings_used = !pb_topo_simulated(h->topo) && pb_plan_uses_smt_siblings(&h->plan, h->topo);
    rc = 0;

done:
    if (rc != 0) {
        snprintf(out->error, sizeof out->error, "%s", h->error);
        out->not_available = h->not_available;
    }
    harness_free(h);
    /* The floor again, now that no thread of the run competes for its CPUs. */
    if (rc == 0)
        recheck_floor(out);
    return rc;
}
