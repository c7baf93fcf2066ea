/* The model's environment: strategies, worker threads, the threads that
 * call in, their counters, the IRQL and the end-of-run invariants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "pb_lock_use.h"

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
    t->worker_queue = -1;
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
    flt_thread_ctx(m)->worker_queue = (int)qi;
    pb_irql = PASSIVE_LEVEL;
    for (;;) {
        struct pb_work *w = m->queue_ops->dequeue(m->queue, qi, true);
        if (!w)
            break;
        flt_run_workitem(m, (struct flt_deferred_io_workitem *)w);
    }
    if (m->cfg.on_worker_stop)
        m->cfg.on_worker_stop(m->cfg.hook_arg, a.index);
    return NULL;
}

/* A worker that must wait inside a routine (a SYNCHRONIZE pre-op below a
 * pended operation it resumed, flt_issue_and_wait from a routine) waits
 * for work that may sit in its own queue, behind the item it is running:
 * with one worker per queue, waiting on the gate alone would wait for
 * itself. Windows has a pool of system worker threads for that; here the
 * waiting worker runs its queue's items until the gate opens (the queue's
 * one consumer is this thread, so the nested dequeue is its own; runs
 * nest, flt_run_workitem keeps the outer run's context). Between polls it
 * sleeps on the gate for a short while: an item queued meanwhile
 * notifies the queue's waiter, not the gate. */
#define SERVE_NAP_NS 50000L

void flt_wait_serving(struct flt_model *m, _Atomic uint32_t *gate)
{
    struct flt_thread *t = flt_thread_ctx(m);
    if (t->worker_queue < 0) {
        pb_gate_wait(gate);
        return;
    }
    unsigned polls = 0;
    while (atomic_load_explicit(gate, memory_order_acquire) == 0) {
        struct pb_work *w = m->queue_ops->dequeue(m->queue, (unsigned)t->worker_queue, false);
        if (w) {
            flt_run_workitem(m, (struct flt_deferred_io_workitem *)w);
            polls = 0;
        } else if (++polls < 64) {
            pb_cpu_relax();
        } else {
            pb_futex_wait_ns(gate, 0, SERVE_NAP_NS);
        }
    }
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

/* ---- locks ------------------------------------------------------------------- */

/* The refusal of a lock that does not fit a strategy, or of a queue's
 * capacity: kept per thread, so *error can point at it. */
static _Thread_local char model_error[320];

/* The lock a strategy of `kind` takes (NULL: it takes none), checked
 * against what it needs. false with *error set when it does not fit. */
static bool lock_fits(const char *kind, const char *sname, const char *dflt, unsigned needs,
                      const struct pb_lock_ops *chosen, const char **error)
{
    if (!dflt)
        return true;
    const struct pb_lock_ops *lock = pb_lock_choose(chosen, dflt);
    if (!lock) {
        snprintf(model_error, sizeof model_error,
                 "the %s strategy '%s' takes the lock '%s' by default, which is not in this build",
                 kind, sname, dflt);
        *error = model_error;
        return false;
    }
    if (pb_lock_fits(lock, needs))
        return true;
    char why[200];
    snprintf(model_error, sizeof model_error, "lock '%s' does not fit the %s strategy '%s': %s",
             lock->name, kind, sname, pb_lock_unfit_why(lock, needs, why, sizeof why));
    *error = model_error;
    return false;
}

static unsigned count_nodes(const struct pb_mem_hooks *mem, unsigned ncpus)
{
    unsigned n = 1;
    for (unsigned c = 0; mem->node_of_cpu && c < ncpus; c++)
        if (mem->node_of_cpu[c] + 1 > n)
            n = mem->node_of_cpu[c] + 1;
    return n;
}

/* A strategy's init failed: the message and the status. -ERANGE: the
 * capacity it was given is more than it can hold (each bounded strategy
 * has its own most: its file says). */
static NTSTATUS init_failed(int rc, const char *kind, const char *name, size_t capacity,
                            const char **error)
{
    static const char *const unavailable[] = {
        "the pool strategy is not available in this build",
        "the queue strategy is not available in this build",
        "the handoff strategy is not available in this build",
    };
    static const char *const refused[] = {
        "the pool strategy refused its lock (it lacks a capability the strategy needs)",
        "the queue strategy refused its lock (it lacks a capability the strategy needs)",
        "the handoff strategy refused its lock (it lacks a capability the strategy needs)",
    };
    static const char *const failed[] = {
        "the pool strategy failed to start",
        "the queue strategy failed to start",
        "the handoff strategy failed to start",
    };
    int k = kind[0] == 'p' ? 0 : kind[0] == 'q' ? 1 : 2;
    if (rc == -ENOTSUP) {
        *error = unavailable[k];
        return STATUS_NOT_SUPPORTED;
    }
    if (rc == -EINVAL) {
        *error = refused[k];
        return STATUS_INVALID_PARAMETER;
    }
    if (rc == -ERANGE) {
        snprintf(model_error, sizeof model_error,
                 "the %s strategy '%s' refused capacity %zu (too large for it)", kind, name,
                 capacity);
        *error = model_error;
        return STATUS_INVALID_PARAMETER;
    }
    *error = failed[k];
    return STATUS_INSUFFICIENT_RESOURCES;
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
    const struct pb_lock_ops *lock_ops = NULL;
    if (cfg->lock && !(lock_ops = pb_lock_find(cfg->lock))) {
        *error = "unknown lock (see `pendbench list`)";
        return STATUS_INVALID_PARAMETER;
    }
    if (!lock_fits("pool", pool_ops->name, pool_ops->lock, pool_ops->lock_needs, lock_ops, error) ||
        !lock_fits("queue", queue_ops->name, queue_ops->lock, queue_ops->lock_needs, lock_ops,
                   error) ||
        !lock_fits("handoff", ho_ops->name, ho_ops->lock, ho_ops->lock_needs, lock_ops, error))
        return STATUS_INVALID_PARAMETER;
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
    m->cfg.lock = lock_ops ? lock_ops->name : NULL;
    m->cfg.worker_cpu = NULL;       /* copied below: the caller's array may go away */
    m->pool_ops = pool_ops;
    m->queue_ops = queue_ops;
    m->ho_ops = ho_ops;
    m->lock_ops = lock_ops;
    m->ncpus = cfg->ncpus ? cfg->ncpus : 1;
    m->nnodes = count_nodes(&cfg->mem, m->ncpus);
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
        .lock = lock_ops,
        .nnodes = m->nnodes,
        .hot_bytes = CBD_HOT_BYTES,
    };
    int rc = pool_ops->init(&m->pool, &pc);
    if (rc == 0) {
        pc.object_size = sizeof(struct flt_deferred_io_workitem);
        rc = pool_ops->init(&m->item_pool, &pc);
    }
    if (rc != 0) {
        m->pool = m->pool ? (pool_ops->fini(m->pool), NULL) : NULL;
        m->item_pool = NULL;
        NTSTATUS st = init_failed(rc, "pool", pool_ops->name, cfg->pool_capacity, error);
        model_free_parts(m);
        model_give_back(m);
        return st;
    }
    struct pb_queue_config qc = {
        .nqueues = m->nqueues,
        .capacity = cfg->queue_capacity,
        .idle = cfg->idle,
        .yield_every = cfg->workers_share_cpus ? PB_IDLE_SHARED_YIELD_EVERY : 0,
        .mem = cfg->mem,
        .lock = lock_ops,
        .ncpus = m->ncpus,
        .nnodes = m->nnodes,
    };
    rc = queue_ops->init(&m->queue, &qc);
    if (rc != 0) {
        m->queue = NULL;
        NTSTATUS st = init_failed(rc, "queue", queue_ops->name, cfg->queue_capacity, error);
        model_free_parts(m);
        model_give_back(m);
        return st;
    }
    struct pb_handoff_config hc = {
        .ncpus = m->ncpus,
        .nnodes = m->nnodes,
        .mem = cfg->mem,
        .lock = lock_ops,
    };
    rc = ho_ops->init(&m->ho, &hc);
    if (rc != 0) {
        m->ho = NULL;
        NTSTATUS st = init_failed(rc, "handoff", ho_ops->name, 0, error);
        model_free_parts(m);
        model_give_back(m);
        return st;
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

void flt_model_stop_workers(struct flt_model *m)
{
    /* DQ4: the queues drain before the workers stop. */
    if (!m || !m->nworkers || m->workers_joined)
        return;
    m->queue_ops->shutdown(m->queue);
    for (unsigned i = 0; i < m->nworkers; i++)
        pthread_join(m->workers[i], NULL);
    m->workers_joined = true;
}

void flt_model_destroy(struct flt_model *m)
{
    if (!m)
        return;
    /* Without workers (or once they stopped), the caller's thread runs
     * what is left. */
    flt_model_stop_workers(m);
    flt_model_drain_work(m);
    struct flt_model *expected = m;
    atomic_compare_exchange_strong(&last_model, &expected, NULL);
    model_free_parts(m);
    model_give_back(m);
}

const char *flt_model_pool_name(const struct flt_model *m) { return m->pool_ops->name; }
const char *flt_model_queue_name(const struct flt_model *m) { return m->queue_ops->name; }
const char *flt_model_handoff_name(const struct flt_model *m) { return m->ho_ops->name; }
const char *flt_model_lock_name(const struct flt_model *m) { return m->lock_ops ? m->lock_ops->name : NULL; }

const char *flt_model_locks_taken(const struct flt_model *m, char *buf, size_t size)
{
    const char *dflt[3] = { m->pool_ops->lock, m->queue_ops->lock, m->ho_ops->lock };
    const char *names[3];
    unsigned n = 0;
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    for (unsigned k = 0; k < 3; k++) {
        if (!dflt[k])
            continue;
        const char *name = m->lock_ops ? m->lock_ops->name : dflt[k];
        bool seen = false;
        for (unsigned j = 0; j < n; j++)
            seen |= strcmp(names[j], name) == 0;
        if (seen)
            continue;
        names[n++] = name;
        int w = snprintf(buf + used, used < size ? size - used : 0, "%s%s", used ? "+" : "", name);
        if (w > 0)
            used += (size_t)w;
    }
    return buf;
}
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
