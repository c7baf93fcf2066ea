/* The model's environment: strategies, worker threads, the threads that
 * call in, their counters, the IRQL and the end-of-run invariants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

_Thread_local KIRQL pb_irql = PASSIVE_LEVEL;

/* Model structures are recycled, never freed: a thread's TLS may still name
 * a destroyed model, and reading its serial must stay safe. A serial is
 * never reused, so a stale TLS entry is recognised. */
static pthread_mutex_t models_lock = PTHREAD_MUTEX_INITIALIZER;
static struct flt_model *free_models;          /* linked through `threads` */
static uint64_t next_serial = 1;               /* under models_lock */
static struct flt_model *_Atomic last_model;   /* for calls that carry no model */

static _Thread_local struct flt_model *tls_model;
static _Thread_local uint64_t tls_serial;
static _Thread_local struct flt_thread *tls_thread;

static _Atomic uint64_t *model_serial(struct flt_model *m)
{
    return &m->serial;
}

struct flt_model *flt_current_model(void)
{
    if (tls_model &&
        atomic_load_explicit(model_serial(tls_model), memory_order_acquire) == tls_serial)
        return tls_model;
    struct flt_model *m = atomic_load_explicit(&last_model, memory_order_acquire);
    return m;
}

static struct flt_thread *thread_attach(struct flt_model *model, unsigned cpu)
{
    struct flt_thread *t = aligned_alloc(PB_CACHE_LINE, sizeof *t);
    if (!t) {
        fprintf(stderr, "pendbench: out of memory attaching a thread\n");
        abort();
    }
    memset(t, 0, sizeof *t);
    t->model = model;
    t->cpu = model->ncpus ? cpu % model->ncpus : 0;
    t->route = t->cpu;
    t->split_countdown = 1;                   /* the first item is stamped */
    pthread_mutex_lock(&model->lock);
    t->index = ++model->nthreads;
    t->next = model->threads;
    model->threads = t;
    pthread_mutex_unlock(&model->lock);
    tls_model = model;
    tls_serial = atomic_load_explicit(&model->serial, memory_order_relaxed);
    tls_thread = t;
    return t;
}

struct flt_thread *flt_thread_ctx(struct flt_model *model)
{
    /* relaxed: only this thread wrote tls_serial; the model's serial is
     * stable while the model is in use. */
    if (PB_LIKELY(tls_model == model &&
                  tls_serial == atomic_load_explicit(&model->serial, memory_order_relaxed)))
        return tls_thread;
    return thread_attach(model, 0);
}

void flt_thread_attach(struct flt_model *model, unsigned cpu)
{
    if (!model)
        return;
    if (tls_model == model &&
        tls_serial == atomic_load_explicit(&model->serial, memory_order_relaxed)) {
        tls_thread->cpu = model->ncpus ? cpu % model->ncpus : 0;
        tls_thread->route = tls_thread->cpu;
        return;
    }
    thread_attach(model, cpu);
}

unsigned flt_thread_cpu(void)
{
    struct flt_model *m = flt_current_model();
    return m ? flt_thread_ctx(m)->cpu : 0;
}

void flt_thread_route_to(unsigned queue_index)
{
    struct flt_model *m = flt_current_model();
    if (m)
        flt_thread_ctx(m)->route = queue_index;
}

/* ---- IRQL ------------------------------------------------------------------ */

KIRQL ke_get_current_irql(void) { return pb_irql; }

KIRQL ke_raise_irql(KIRQL new_irql)
{
    KIRQL old = pb_irql;
    if (new_irql < old || new_irql > HIGH_LEVEL) {
        flt_verifier_report("IRQL1", "ke_raise_irql", NULL,
                            "raise from %u to %u refused", old, new_irql);
        return old;
    }
    pb_irql = new_irql;
    return old;
}

void ke_lower_irql(KIRQL old_irql)
{
    if (old_irql > pb_irql) {
        flt_verifier_report("IRQL1", "ke_lower_irql", NULL,
                            "lower from %u to %u refused", pb_irql, old_irql);
        return;
    }
    pb_irql = old_irql;
}

bool flt_irql_at_most(struct flt_model *model, KIRQL max, const char *routine,
                      const struct flt_callback_data *data)
{
    if (PB_LIKELY(pb_irql <= max) || !model->checks)
        return true;
    flt_verifier_report_model(model, "IRQL1", routine, data,
                              "called at IRQL %u, at most %u allowed", pb_irql, max);
    return false;
}

/* ---- workers --------------------------------------------------------------- */

struct worker_arg {
    struct flt_model *model;
    unsigned index;
};

static void *worker_main(void *p)
{
    struct worker_arg a = *(struct worker_arg *)p;
    free(p);
    struct flt_model *m = a.model;
    if (m->cfg.on_worker_start)
        m->cfg.on_worker_start(m->cfg.hook_arg, a.index);
    unsigned qi = a.index % m->nqueues;
    flt_thread_attach(m, m->cfg.worker_cpu ? m->cfg.worker_cpu[a.index] : qi);
    pb_irql = PASSIVE_LEVEL;
    for (;;) {
        struct pb_work *w = m->queue_ops->dequeue(m->queue, qi, true);
        if (!w)
            break;
        flt_run_workitem(m, (struct flt_deferred_io_workitem *)w);
    }
    return NULL;
}

size_t flt_model_drain_work(struct flt_model *model)
{
    /* The worker threads are the queues' consumers, and some queues allow
     * only one (percpu-mpsc): draining beside them would corrupt them. */
    if (model->nworkers && !model->workers_joined) {
        flt_verifier_report_model(model, "DQ3", "flt_model_drain_work", NULL,
                                  "the model's worker threads are running and own the queues; refused");
        return 0;
    }
    size_t ran = 0;
    KIRQL saved = pb_irql;
    pb_irql = PASSIVE_LEVEL;        /* DQ3: routines run at PASSIVE_LEVEL */
    for (bool any = true; any;) {
        any = false;
        for (unsigned qi = 0; qi < model->nqueues; qi++) {
            struct pb_work *w = model->queue_ops->dequeue(model->queue, qi, false);
            if (w) {
                flt_run_workitem(model, (struct flt_deferred_io_workitem *)w);
                ran++;
                any = true;
            }
        }
    }
    pb_irql = saved;
    return ran;
}

/* ---- create / destroy ------------------------------------------------------ */

static struct flt_model *model_take(void)
{
    pthread_mutex_lock(&models_lock);
    struct flt_model *m = free_models;
    if (m)
        free_models = (struct flt_model *)m->threads;
    uint64_t serial = next_serial++;
    pthread_mutex_unlock(&models_lock);
    if (!m) {
        /* aligned_alloc wants a multiple of the alignment. */
        m = aligned_alloc(PB_CACHE_LINE, (sizeof *m + PB_CACHE_LINE - 1) / PB_CACHE_LINE * PB_CACHE_LINE);
        if (!m)
            return NULL;
        memset(m, 0, sizeof *m);
    } else {
        /* The serial is already 0 (retired); clear the rest. */
        memset((char *)m + sizeof m->serial, 0, sizeof *m - sizeof m->serial);
    }
    /* release: a thread that sees this serial sees the zeroed model. */
    atomic_store_explicit(model_serial(m), serial, memory_order_release);
    return m;
}

static void model_give_back(struct flt_model *m)
{
    /* Retire the serial first so stale TLS entries stop matching. */
    atomic_store_explicit(model_serial(m), 0, memory_order_release);
    pthread_mutex_lock(&models_lock);
    m->threads = (struct flt_thread *)free_models;
    free_models = m;
    pthread_mutex_unlock(&models_lock);
}

static void model_free_parts(struct flt_model *m)
{
    if (m->queue)
        m->queue_ops->fini(m->queue);
    if (m->item_pool)
        m->pool_ops->fini(m->item_pool);
    if (m->pool)
        m->pool_ops->fini(m->pool);
    if (m->ho)
        m->ho_ops->fini(m->ho);
    struct flt_thread *t = m->threads;
    while (t) {
        struct flt_thread *n = t->next;
        free(t);
        t = n;
    }
    m->threads = NULL;
    free(m->workers);
    /* The model's own copy: every failed create goes through here too. */
    free((void *)m->cfg.worker_cpu);
    m->cfg.worker_cpu = NULL;
    pthread_mutex_destroy(&m->lock);
}

NTSTATUS flt_model_create(const struct flt_model_config *cfg, struct flt_model **out,
                          const char **error)
{
    static const struct flt_model_config defaults = { 0 };
    const char *dummy;
    if (!error)
        error = &dummy;
    *error = NULL;
    if (!out) {
        *error = "no place for the model (out is NULL)";
        return STATUS_INVALID_PARAMETER;
    }
    *out = NULL;
    if (!cfg)
        cfg = &defaults;

    const char *pname = cfg->pool ? cfg->pool : FLT_DEFAULT_POOL;
    const char *qname = cfg->queue ? cfg->queue : FLT_DEFAULT_QUEUE;
    const char *hname = cfg->handoff ? cfg->handoff : FLT_DEFAULT_HANDOFF;
    const struct pb_pool_ops *pool_ops = pb_pool_find(pname);
    const struct pb_queue_ops *queue_ops = pb_queue_find(qname);
    const struct pb_handoff_ops *ho_ops = pb_handoff_find(hname);
    if (!pool_ops) { *error = "unknown pool strategy (see `pendbench list`)"; return STATUS_INVALID_PARAMETER; }
    if (!queue_ops) { *error = "unknown queue strategy (see `pendbench list`)"; return STATUS_INVALID_PARAMETER; }
    if (!ho_ops) { *error = "unknown handoff strategy (see `pendbench list`)"; return STATUS_INVALID_PARAMETER; }
    if (cfg->ncpus > 4096 || cfg->nworkers > 4096) {
        *error = "too many cpus or workers (at most 4096)";
        return STATUS_INVALID_PARAMETER;
    }
    if (cfg->idle > PB_IDLE_PARK) {
        *error = "unknown idle policy";
        return STATUS_INVALID_PARAMETER;
    }

    struct flt_model *m = model_take();
    if (!m) {
        *error = "out of memory";
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    m->cfg = *cfg;
    m->cfg.pool = pool_ops->name;
    m->cfg.queue = queue_ops->name;
    m->cfg.handoff = ho_ops->name;
    m->cfg.worker_cpu = NULL;       /* copied below: the caller's array may go away */
    m->pool_ops = pool_ops;
    m->queue_ops = queue_ops;
    m->ho_ops = ho_ops;
    m->ncpus = cfg->ncpus ? cfg->ncpus : 1;
    m->nworkers = cfg->nworkers;
    m->nqueues = m->nworkers ? m->nworkers : m->ncpus;
    m->now = cfg->now ? cfg->now : pb_tsc_now;
    m->checks = !cfg->verifier_checks_off;
    m->split_every = cfg->split_every ? cfg->split_every : 1;
    pthread_mutex_init(&m->lock, NULL);

    if (cfg->worker_cpu && m->nworkers) {
        unsigned *wc = malloc(m->nworkers * sizeof *wc);
        if (!wc)
            goto nomem;
        for (unsigned i = 0; i < m->nworkers; i++) {
            if (cfg->worker_cpu[i] >= m->ncpus) {
                free(wc);
                *error = "a worker's cpu is outside the planned cpus";
                model_free_parts(m);
                model_give_back(m);
                return STATUS_INVALID_PARAMETER;
            }
            wc[i] = cfg->worker_cpu[i];
        }
        m->cfg.worker_cpu = wc;
    }

    struct pb_pool_config pc = {
        .object_size = sizeof(struct flt_cbd),
        .capacity = cfg->pool_capacity,
        .ncpus = m->ncpus,
        .mem = cfg->mem,
    };
    int rc = pool_ops->init(&m->pool, &pc);
    if (rc == 0) {
        pc.object_size = sizeof(struct flt_deferred_io_workitem);
        rc = pool_ops->init(&m->item_pool, &pc);
    }
    if (rc != 0) {
        m->pool = m->pool ? (pool_ops->fini(m->pool), NULL) : NULL;
        *error = rc == -ENOTSUP ? "the pool strategy is not available in this build"
                                : "the pool strategy failed to start";
        model_free_parts(m);
        model_give_back(m);
        return rc == -ENOTSUP ? STATUS_NOT_SUPPORTED : STATUS_INSUFFICIENT_RESOURCES;
    }
    struct pb_queue_config qc = {
        .nqueues = m->nqueues,
        .capacity = cfg->queue_capacity,
        .idle = cfg->idle,
        .mem = cfg->mem,
    };
    rc = queue_ops->init(&m->queue, &qc);
    if (rc != 0) {
        m->queue = NULL;
        *error = rc == -ENOTSUP ? "the queue strategy is not available in this build"
                                : "the queue strategy failed to start";
        model_free_parts(m);
        model_give_back(m);
        return rc == -ENOTSUP ? STATUS_NOT_SUPPORTED : STATUS_INSUFFICIENT_RESOURCES;
    }
    rc = ho_ops->init(&m->ho);
    if (rc != 0) {
        m->ho = NULL;
        *error = rc == -ENOTSUP ? "the handoff strategy is not available in this build"
                                : "the handoff strategy failed to start";
        model_free_parts(m);
        model_give_back(m);
        return rc == -ENOTSUP ? STATUS_NOT_SUPPORTED : STATUS_INSUFFICIENT_RESOURCES;
    }
    atomic_store_explicit(&last_model, m, memory_order_release);

    if (m->nworkers) {
        m->workers = calloc(m->nworkers, sizeof *m->workers);
        if (!m->workers)
            goto nomem;
        for (unsigned i = 0; i < m->nworkers; i++) {
            struct worker_arg *a = malloc(sizeof *a);
            if (a) {
                a->model = m;
                a->index = i;
            }
            if (!a || pthread_create(&m->workers[i], NULL, worker_main, a) != 0) {
                /* Stop the ones already running, then fail cleanly. */
                free(a);
                m->nworkers = i;
                flt_model_destroy(m);
                *error = "could not start the worker threads";
                return STATUS_INSUFFICIENT_RESOURCES;
            }
        }
    }
    *out = m;
    return STATUS_SUCCESS;

nomem:
    *error = "out of memory";
    model_free_parts(m);
    model_give_back(m);
    return STATUS_INSUFFICIENT_RESOURCES;
}

void flt_model_destroy(struct flt_model *m)
{
    if (!m)
        return;
    /* DQ4: the queues drain before the workers stop. Without workers, the
     * caller's thread runs what is left. */
    if (m->nworkers) {
        m->queue_ops->shutdown(m->queue);
        for (unsigned i = 0; i < m->nworkers; i++)
            pthread_join(m->workers[i], NULL);
        m->workers_joined = true;
    }
    flt_model_drain_work(m);
    struct flt_model *expected = m;
    atomic_compare_exchange_strong(&last_model, &expected, NULL);
    model_free_parts(m);
    model_give_back(m);
}

const char *flt_model_pool_name(const struct flt_model *m) { return m->pool_ops->name; }
const char *flt_model_queue_name(const struct flt_model *m) { return m->queue_ops->name; }
const char *flt_model_handoff_name(const struct flt_model *m) { return m->ho_ops->name; }
bool flt_model_pool_type_stable(const struct flt_model *m) { return (m->pool_ops->flags & PB_TYPE_STABLE) != 0; }

/* ---- counters and invariants ----------------------------------------------- */

void flt_model_counters(struct flt_model *m, struct pb_counters *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&m->lock);
    for (struct flt_thread *t = m->threads; t; t = t->next) {
    /* acquire: pairs with the release of workitems_run (quiesce). */
#define PB_SUM_(name, unit, doc) out->name += atomic_load_explicit(&t->c.name, memory_order_acquire);
        PB_COUNTERS(PB_SUM_)
#undef PB_SUM_
    }
    pthread_mutex_unlock(&m->lock);
}

bool flt_model_quiesce(struct flt_model *m, unsigned timeout_ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pb_counters c;
        flt_model_counters(m, &c);
        if (c.workitems_run == c.workitems_queued)
            return true;
        if (m->nworkers == 0) {
            flt_model_drain_work(m);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
            (long)timeout_ms)
            return false;
        struct timespec pause = { 0, 200000 };
        nanosleep(&pause, NULL);
    }
}

int64_t flt_model_outstanding(struct flt_model *m)
{
    struct pb_counters c;
    flt_model_counters(m, &c);
    return (int64_t)c.pool_get - (int64_t)c.pool_put;
}

void flt_model_check(struct flt_model *m, bool expect_violations, struct flt_invariants *out)
{
    struct pb_counters c;
    flt_model_counters(m, &c);
    memset(out, 0, sizeof *out);
    out->issued = c.issued;
    out->completed = c.completed;
    out->completed_cancelled = c.completed_cancelled;
    out->failed = c.failed;
    out->in_flight = (int64_t)c.issued - (int64_t)(c.completed + c.completed_cancelled + c.failed);
    out->outstanding_data = (int64_t)c.pool_get - (int64_t)c.pool_put;
    out->double_complete_refused = c.double_complete_refused;
    out->routine_left_set = c.routine_left_set;
    out->verifier_violations = flt_verifier_count(m, NULL);
    out->ok = true;
    if (out->in_flight != 0) {
        out->ok = false;
        snprintf(out->why, sizeof out->why,
                 "issued %llu != completed %llu + cancelled %llu + failed %llu (%lld in flight)",
                 (unsigned long long)c.issued, (unsigned long long)c.completed,
                 (unsigned long long)c.completed_cancelled, (unsigned long long)c.failed,
                 (long long)out->in_flight);
    } else if (out->outstanding_data != 0) {
        out->ok = false;
        snprintf(out->why, sizeof out->why, "%lld callback data not returned to the pool",
                 (long long)out->outstanding_data);
    } else if (c.pended != c.resumed) {
        out->ok = false;
        snprintf(out->why, sizeof out->why, "%llu pended pre-ops but %llu resumed",
                 (unsigned long long)c.pended, (unsigned long long)c.resumed);
    } else if (c.routine_left_set && !expect_violations) {
        out->ok = false;
        snprintf(out->why, sizeof out->why, "%llu completions found a cancel routine set",
                 (unsigned long long)c.routine_left_set);
    } else if (out->verifier_violations && !expect_violations) {
        out->ok = false;
        snprintf(out->why, sizeof out->why, "%llu verifier violations",
                 (unsigned long long)out->verifier_violations);
    } else if (c.cancel_attempted != c.cancel_won + c.cancel_lost + c.cancel_early +
                                         c.cancel_late + c.cancel_not_cancelable) {
        out->ok = false;
        snprintf(out->why, sizeof out->why,
                 "cancel outcomes do not add up: %llu attempted", (unsigned long long)c.cancel_attempted);
    }
}
