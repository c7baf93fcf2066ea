/* The stress harness (pb_stress.h): randomized traffic on the shared
 * workload harness (harness.h), with the checks that do not trust the
 * model's own counters added as hooks.
 *
 * Traffic: a scenario of the run engine's own kind. Requesters keep
 * `inflight` operations each in flight through a stack of two filters:
 * the pend filter on top (most operations pended; the worker resumes each
 * with or without a post-op callback, or completes it itself, drawn per
 * operation) and a callback filter below it (its post-op checks its
 * completion context). Fast I/O now and then; a fraction of operations is
 * aimed at by a cancel after an exponential delay (mean 2 us, counted from
 * the issue), so cancels land before the routine is set, while it is set,
 * as the worker clears it, and after completion.
 *
 * Checks (hooks): every issued operation completes exactly once (a word
 * per operation slot, compare-and-swapped at completion), none is lost
 * (bounded drain), FIFO order per producer where the queue promises it
 * (each worker keeps the last sequence it ran per requester), filters see
 * their own completion contexts; then the model's invariants and its
 * verifier. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pb_lock_use.h"
#include "pb_stress.h"

#define OP_ID_SEQ_MASK ((1ull << 40) - 1)     /* op_id: issuing thread << 40 | its sequence */
#define CHECK_DONE     (1ull << 63)

struct checks {
    bool check_fifo;
    unsigned nrequesters;
    _Atomic uint64_t completed_once;
    _Atomic uint64_t completed_twice;
    _Atomic uint64_t fifo_violations;
    _Atomic uint64_t fifo_checked;
    _Atomic bool failed;
    pthread_mutex_t why_lock;
    bool lock_ready;
    char why[256];
    uint64_t last_seq[];              /* [worker][requester], each row written by its worker */
};

static void fail(struct checks *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct checks *k, const char *fmt, ...)
{
    pthread_mutex_lock(&k->why_lock);
    if (!k->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(k->why, sizeof k->why, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&k->why_lock);
    atomic_store_explicit(&k->failed, true, memory_order_release);
}

/* ---- the hooks ------------------------------------------------------------------ */

static void on_issuing(void *arg, struct pb_op *op)
{
    /* Armed: the first completion of whatever runs in this slot now takes it. */
    atomic_store_explicit(&op->check, 0, memory_order_relaxed);
}

static void on_work(void *arg, const struct pb_op *op, const struct flt_callback_data *data,
                    unsigned worker)
{
    struct checks *k = arg;
    if (!k->check_fifo)
        return;
    unsigned r = op->rq->index;     /* one thread per requester: op_id orders its issues */
    uint64_t seq = data->op_id & OP_ID_SEQ_MASK;
    uint64_t *last = &k->last_seq[(size_t)worker * k->nrequesters + r];
    if (seq <= *last) {
        atomic_fetch_add_explicit(&k->fifo_violations, 1, memory_order_relaxed);
        fail(k, "FIFO order broken: worker %u saw requester %u's op %llu after %llu", worker, r,
             (unsigned long long)seq, (unsigned long long)*last);
    }
    *last = seq;
    atomic_fetch_add_explicit(&k->fifo_checked, 1, memory_order_relaxed);
}

static bool on_complete(void *arg, struct pb_op *op, const struct flt_callback_data *data)
{
    struct checks *k = arg;
    uint64_t expect = 0;
    /* acq_rel: the requester that then sees the slot free may reuse it. */
    if (!atomic_compare_exchange_strong_explicit(&op->check, &expect, data->op_id | CHECK_DONE,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        atomic_fetch_add_explicit(&k->completed_twice, 1, memory_order_relaxed);
        fail(k, "operation %#llx completed twice (or as another): its slot holds %#llx",
             (unsigned long long)data->op_id, (unsigned long long)(expect & ~CHECK_DONE));
        return false;
    }
    atomic_fetch_add_explicit(&k->completed_once, 1, memory_order_relaxed);
    return true;
}

static void on_violation(void *arg, const char *what)
{
    fail(arg, "%s", what);
}

/* ---- the configuration ---------------------------------------------------------- */

static int to_scenario(const struct pb_stress_config *cfg, struct pb_scenario *s, char *why,
                       size_t n)
{
    pb_scenario_defaults(s);
    snprintf(s->name, sizeof s->name, "stress");
    char err[200];
    const char *names[4] = { cfg->pool, cfg->queue, cfg->handoff, cfg->lock };
    const char *keys[4] = { "pool", "queue", "handoff", "lock" };
    for (int i = 0; i < 4; i++)
        if (names[i] && pb_scenario_set(s, keys[i], names[i], err, sizeof err) != 0) {
            snprintf(why, n, "%s", err);
            return -1;
        }
    if (!cfg->pool)
        snprintf(s->pool, sizeof s->pool, "%s", FLT_DEFAULT_POOL);
    if (!cfg->queue)
        snprintf(s->queue, sizeof s->queue, "%s", FLT_DEFAULT_QUEUE);
    if (!cfg->handoff)
        snprintf(s->handoff, sizeof s->handoff, "%s", FLT_DEFAULT_HANDOFF);
    s->requesters = cfg->requesters;
    s->workers = cfg->workers;
    s->cancellers = cfg->cancellers;
    s->inflight = cfg->inflight;
    s->idle = cfg->idle;
    s->pool_capacity = cfg->pool_capacity;
    s->seed = cfg->seed;
    s->placement = PB_PLACE_COMPACT;
    s->route = PB_ROUTE_LOCAL;
    s->nfilters = 2;
    s->filters[0] = PB_FILTER_PEND;
    s->filters[1] = PB_FILTER_CALLBACK;
    s->mix = (struct pb_op_mix){ .read = 485, .write = 485, .fastio = 30 };
    s->pend_fraction = 0.9;
    s->cancel_fraction = cfg->no_cancel ? 0 : cfg->cancel_permille / 1000.0;
    s->cancel_when = PB_CANCEL_DELAY;
    s->cancel_delay = (struct pb_dist){ .kind = PB_DIST_EXP, .a = 2000 };
    s->service = (struct pb_dist){ .kind = PB_DIST_UNIFORM, .a = 0, .b = 252 };
    s->fs_service = (struct pb_dist){ .kind = PB_DIST_FIXED, .a = 0 };
    s->rate = 0;
    s->duration_s = cfg->duration_s;
    s->ops = 0;
    s->warmup_s = 0;
    s->verifier_checks = true;
    if (pb_scenario_validate(s, err, sizeof err) != 0) {
        snprintf(why, n, "%s", err);
        return -1;
    }
    return 0;
}

int pb_stress_config_check(struct pb_stress_config *cfg, char *why, size_t n)
{
    if (!cfg->requesters) cfg->requesters = 2;
    if (!cfg->workers) cfg->workers = 2;
    if (!cfg->cancellers) cfg->cancellers = 1;
    if (!cfg->inflight) cfg->inflight = 16;
    if (cfg->duration_s <= 0) cfg->duration_s = 1.0;
    if (!cfg->cancel_permille) cfg->cancel_permille = 300;
    if (!cfg->min_ops) cfg->min_ops = 1000;
    if (cfg->requesters > 256 || cfg->workers > 256 || cfg->cancellers > 256 ||
        cfg->inflight > 4096 || cfg->cancel_permille > 1000 || cfg->duration_s > 86400) {
        snprintf(why, n,
                 "out of range: at most 256 requesters, workers and cancellers, 4096 in flight, "
                 "cancel per mille <= 1000, a day");
        return -1;
    }
    return 0;
}

double pb_stress_cap_s(const struct pb_stress_config *cfg)
{
    double d = cfg->duration_s > 0 ? cfg->duration_s : 1.0;
    return d * 10 > 20 ? d * 10 : 20;
}

/* ---- the run -------------------------------------------------------------------- */

static void check_verifier(struct harness *h, struct checks *k)
{
    if (flt_verifier_count(h->model, NULL) == 0)
        return;
    struct flt_violation v;
    if (flt_verifier_last(h->model, &v))
        fail(k, "verifier: %s in %s (op %#llx): %s", v.rule, v.routine,
             (unsigned long long)v.op_id, v.detail);
    else
        fail(k, "verifier violations");
}

static void verdict(struct harness *h, struct checks *k, uint64_t busy,
                    struct pb_stress_result *res)
{
    for (unsigned r = 0; r < h->nreq; r++)
        if (!h->req[r].stuck)      /* never joined (harness_stop): its counts are not read */
            res->issued += h->req[r].seq - h->req[r].refused;
    res->completed_once = atomic_load(&k->completed_once);
    res->completed_twice = atomic_load(&k->completed_twice);
    res->lost = busy;
    res->fifo_violations = atomic_load(&k->fifo_violations);
    res->fifo_checked = atomic_load(&k->fifo_checked);
    if (busy)
        fail(k, "%llu operations never completed (lost)", (unsigned long long)busy);
    else if (!flt_model_quiesce(h->model, 3000))
        fail(k, "work items still queued 3 s after every operation completed");
    flt_model_counters(h->model, &res->counters);
    flt_model_check(h->model, false, &res->invariants);
    if (!busy && !res->invariants.ok)
        fail(k, "model invariants: %s", res->invariants.why);
    if (!busy && res->issued != res->completed_once)
        fail(k, "issued %llu but %llu completed", (unsigned long long)res->issued,
             (unsigned long long)res->completed_once);
    check_verifier(h, k);
    res->ok = k->why[0] == 0;
    snprintf(res->why, sizeof res->why, "%s", k->why);
}

#ifndef PB_TSAN
static int run_isolated(const struct pb_stress_config *cfg, struct pb_stress_result *res);
#endif

int pb_stress_run(const struct pb_stress_config *in, struct pb_stress_result *res)
{
    memset(res, 0, sizeof *res);
#ifndef PB_TSAN
    /* ThreadSanitizer does not support starting threads in a child forked
     * from a threaded process (a test runner is one): there the run stays
     * in this process, and a strategy's memory error is TSan's to report. */
    if (in->isolate)
        return run_isolated(in, res);
#endif
    struct pb_stress_config cfg = *in;
    struct pb_scenario sc;
    if (pb_stress_config_check(&cfg, res->why, sizeof res->why) != 0 ||
        to_scenario(&cfg, &sc, res->why, sizeof res->why) != 0)
        return -1;
    /* One planned processor per worker, threads unbound: the model sees
     * as many CPUs as workers whatever the machine. */
    char desc[32], err[200];
    snprintf(desc, sizeof desc, "pu:%u", cfg.workers);
    struct pb_topo *topo = NULL;
    if (pb_topo_load(&topo, PB_TOPO_SYNTHETIC, desc, err, sizeof err) != 0) {
        snprintf(res->why, sizeof res->why, "%s", err);
        return -1;
    }
    struct harness_opts o = {
        .topo = topo, .bind = false, .vary_resume = true,
        .hooks = { .issuing = on_issuing, .work = on_work, .complete = on_complete,
                   .violation = on_violation },
    };
    size_t rows = (size_t)cfg.workers * cfg.requesters;
    struct harness *h = harness_new(&sc, &o, sizeof(struct checks) + rows * sizeof(uint64_t));
    if (!h) {
        pb_topo_free(topo);
        snprintf(res->why, sizeof res->why, "out of memory");
        return -1;
    }
    struct checks *k = h->user;
    k->nrequesters = cfg.requesters;
    const struct pb_queue_ops *qo = pb_queue_find(sc.queue);
    k->check_fifo = qo && (qo->flags & PB_FIFO_PER_PRODUCER);
    k->lock_ready = pthread_mutex_init(&k->why_lock, NULL) == 0;

    int rc = -1;
    if (!k->lock_ready) {
        snprintf(h->error, sizeof h->error, "cannot create a lock");
        goto out;
    }
    if (harness_plan(h) != 0 || harness_build_model(h) != 0 || harness_build_stack(h) != 0 ||
        harness_build_traffic(h) != 0)
        goto out;
    double t0 = harness_mono_s();
    if (harness_start(h) != 0)
        goto out;
    double cap = pb_stress_cap_s(&cfg);
    for (;;) {
        if (atomic_load_explicit(&k->failed, memory_order_acquire))
            break;
        double el = harness_mono_s() - t0;
        uint64_t done = atomic_load_explicit(&k->completed_once, memory_order_relaxed);
        if (el >= cfg.duration_s && done >= cfg.min_ops)
            break;
        if (el >= cap) {
            fail(k, "stalled: %llu operations completed in %.1f s (wanted %llu)",
                 (unsigned long long)done, el, (unsigned long long)cfg.min_ops);
            break;
        }
        check_verifier(h, k);
        harness_nap_ms(5);
    }
    harness_stop(h);
    /* Bounded drain: whatever is still busy after it is lost. */
    uint64_t busy = harness_drain(h, 3.0);
    res->seconds = harness_mono_s() - t0;
    h->lost = busy > 0;
    verdict(h, k, busy, res);
    rc = 0;

out:
    if (rc != 0) {
        snprintf(res->why, sizeof res->why, "%s", h->error);
        res->not_available = h->not_available;
    }
    if (k->lock_ready && !h->lost)
        pthread_mutex_destroy(&k->why_lock);
    harness_free(h);
    pb_topo_free(topo);
    return rc;
}

/* ---- in a child process --------------------------------------------------------- */
#ifndef PB_TSAN

struct child_report {
    int rc;
    struct pb_stress_result res;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The run in a forked child that writes its report through a pipe and
 * leaves with _exit (whatever the strategies left behind dies with it).
 * The parent waits for the report at most the run's cap plus a margin. */
static int run_isolated(const struct pb_stress_config *in, struct pb_stress_result *res)
{
    struct pb_stress_config cfg = *in;
    cfg.isolate = false;
    if (pb_stress_config_check(&cfg, res->why, sizeof res->why) != 0)
        return -1;
    int fd[2];
    if (pipe(fd) != 0) {
        snprintf(res->why, sizeof res->why, "cannot isolate the run: pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);                       /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(res->why, sizeof res->why, "cannot isolate the run: fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        close(fd[0]);
        struct child_report rep;
        memset(&rep, 0, sizeof rep);
        rep.rc = pb_stress_run(&cfg, &rep.res);
        const char *p = (const char *)&rep;
        size_t left = sizeof rep;
        while (left) {
            ssize_t w = write(fd[1], p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                _exit(3);
            p += w;
            left -= (size_t)w;
        }
        _exit(0);
    }
    close(fd[1]);
    struct child_report rep;
    size_t got = 0;
    double limit = pb_stress_cap_s(&cfg) + 30, t0 = mono_s();
    bool hung = false;
    while (got < sizeof rep) {
        double left_s = limit - (mono_s() - t0);
        if (left_s <= 0) {
            hung = true;
            break;
        }
        struct pollfd p = { .fd = fd[0], .events = POLLIN };
        int pr = poll(&p, 1, (int)(left_s * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;               /* the time left is checked above */
        ssize_t r = read(fd[0], (char *)&rep + got, sizeof rep - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;                  /* the child is gone without a whole report */
        got += (size_t)r;
    }
    close(fd[0]);
    if (hung)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got == sizeof rep) {
        *res = rep.res;
        return rep.rc;
    }
    memset(res, 0, sizeof *res);
    res->ok = false;
    if (hung)
        snprintf(res->why, sizeof res->why,
                 "hung: no verdict within %.0f s (the run was killed)", limit);
    else if (WIFSIGNALED(status))
        snprintf(res->why, sizeof res->why, "crashed: signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(res->why, sizeof res->why, "the run's process ended (status %d) without a "
                 "verdict", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
#endif

/* ---- stressing a lock ----------------------------------------------------------- */

/* A strategy that takes no lock and is always there: what surrounds the
 * lock-based one under test. */
#define LOCK_FREE(ops) (!(ops)->lock && !((ops)->flags & (PB_MAY_BE_UNAVAILABLE | PB_BROKEN)))

size_t pb_stress_lock_combos(struct pb_stress_combo *out, size_t max)
{
    const char *pool = NULL, *queue = NULL, *handoff = NULL;
    for (size_t i = 0; pb_pools[i] && !pool; i++)
        if (LOCK_FREE(pb_pools[i]))
            pool = pb_pools[i]->name;
    for (size_t i = 0; pb_queues[i] && !queue; i++)
        if (LOCK_FREE(pb_queues[i]) && !(pb_queues[i]->flags & PB_BOUNDED))
            queue = pb_queues[i]->name;
    for (size_t i = 0; pb_handoffs[i] && !handoff; i++)
        if (LOCK_FREE(pb_handoffs[i]))
            handoff = pb_handoffs[i]->name;
    size_t n = 0;
    for (size_t i = 0; pb_queues[i] && n < max; i++)
        if (pb_queues[i]->lock && !(pb_queues[i]->flags & PB_BROKEN))
            out[n++] = (struct pb_stress_combo){ pool, pb_queues[i]->name, handoff };
    for (size_t i = 0; pb_pools[i] && n < max; i++)
        if (pb_pools[i]->lock && !(pb_pools[i]->flags & PB_BROKEN))
            out[n++] = (struct pb_stress_combo){ pb_pools[i]->name, queue, handoff };
    for (size_t i = 0; pb_handoffs[i] && n < max; i++)
        if (pb_handoffs[i]->lock && !(pb_handoffs[i]->flags & PB_BROKEN))
            out[n++] = (struct pb_stress_combo){ pool, queue, pb_handoffs[i]->name };
    return n;
}

const char *pb_stress_lock_unfit(const struct pb_stress_config *cfg, char *why, size_t n)
{
    if (!cfg->lock)
        return NULL;
    const struct pb_lock_ops *lock = pb_lock_find(cfg->lock);
    if (!lock) {
        snprintf(why, n, "unknown lock '%s'", cfg->lock);
        return why;
    }
    const struct pb_pool_ops *po = pb_pool_find(cfg->pool ? cfg->pool : FLT_DEFAULT_POOL);
    const struct pb_queue_ops *qo = pb_queue_find(cfg->queue ? cfg->queue : FLT_DEFAULT_QUEUE);
    const struct pb_handoff_ops *ho = pb_handoff_find(cfg->handoff ? cfg->handoff
                                                                   : FLT_DEFAULT_HANDOFF);
    const char *kind[3] = { "pool", "queue", "handoff" };
    const char *name[3] = { po ? po->name : NULL, qo ? qo->name : NULL, ho ? ho->name : NULL };
    const char *dflt[3] = { po ? po->lock : NULL, qo ? qo->lock : NULL, ho ? ho->lock : NULL };
    unsigned needs[3] = { po ? po->lock_needs : 0, qo ? qo->lock_needs : 0,
                          ho ? ho->lock_needs : 0 };
    for (int k = 0; k < 3; k++) {
        char missing[200];
        if (dflt[k] && !pb_lock_fits(lock, needs[k])) {
            snprintf(why, n, "lock '%s' does not fit the %s strategy '%s': %s", lock->name,
                     kind[k], name[k], pb_lock_unfit_why(lock, needs[k], missing, sizeof missing));
            return why;
        }
    }
    if (!dflt[0] && !dflt[1] && !dflt[2]) {
        snprintf(why, n, "none of its strategies takes a lock");
        return why;
    }
    return NULL;
}
