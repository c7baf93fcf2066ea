/* Deferred I/O work items (SPEC DQ1-DQ4) on the queue strategy, and the
 * worker's side: run each item once, at PASSIVE_LEVEL.
 *
 * An instance counts its queued-but-not-run items in per-cpu shards, so a
 * teardown can wait for them (DQ4) without a shared counter on the hot
 * path. A queued item holds a reference on its callback data, so the data
 * cannot be recycled under the routine even if a cancel completed it.
 *
 * Items come from the callback data whose pre-op allocates them when it
 * can (embedded, internal.h), else from the model's item pool. An
 * embedded item's own reference on its host doubles as the reference of
 * its run when it is queued for its host, the usual case: one pin (at
 * allocation) and one unpin (when the routine that freed it returns) per
 * operation, with no pool call on either side. */
#include <errno.h>

#include "internal.h"
#include "pb_prefetch.h"

_Thread_local struct flt_cbd *pb_running_cbd;
_Thread_local uint64_t pb_running_t_dequeue;
_Thread_local unsigned pb_deferred_unpins;
_Thread_local struct flt_cbd *pb_preop_cbd;

static struct flt_cbd *host_of(struct flt_deferred_io_workitem *item)
{
    return (struct flt_cbd *)((char *)item - offsetof(struct flt_cbd, item));
}

int64_t flt_shard_sum(const struct pb_shard *s, unsigned n)
{
    int64_t sum = 0;
    for (unsigned i = 0; i < n; i++)
        sum += atomic_load_explicit(&s[i].v, memory_order_acquire);
    return sum;
}

struct flt_deferred_io_workitem *flt_allocate_deferred_io_work_item(void)
{
    struct flt_model *m = flt_current_model();
    if (!m)
        return NULL;
    struct flt_deferred_io_workitem *item;
    struct flt_cbd *host = pb_preop_cbd;
    /* acquire: whoever freed it last is done with it (pairs with the
     * release in flt_free_deferred_io_work_item). Only this thread (the
     * one running the host's pre-op) allocates it, so no RMW: nobody else
     * can set it between our load and our store. */
    if (host && cbd_model(host) == m &&
        !atomic_load_explicit(&host->item.in_use, memory_order_acquire)) {
        item = &host->item;
        atomic_store_explicit(&item->in_use, true, memory_order_relaxed);
        /* The item's reference: the host outlives it. The one counted in
         * at allocation when still spare (the usual case: no locked RMW
         * on the pre-op's path), else a new one. */
        if (host->item_ref_spare)
            host->item_ref_spare = false;
        else
            cbd_pin(host);
    } else {
        struct flt_thread *t = flt_thread_ctx(m);
        item = m->pool_ops->get(m->item_pool, t->cpu);
        if (!item)
            return NULL;     /* DQ1: allocation may fail */
        item->embedded = false;
    }
    item->model = m;
    item->model_serial = atomic_load_explicit(&m->serial, memory_order_acquire);
    item->cbd = NULL;
    item->instance = NULL;
    item->routine = NULL;
    item->context = NULL;
    atomic_store_explicit(&item->queued, 0, memory_order_relaxed);
    return item;
}

void flt_free_deferred_io_work_item(struct flt_deferred_io_workitem *item)
{
    if (!item)
        return;
    struct flt_model *m = item->model;
    if (atomic_load_explicit(&item->queued, memory_order_acquire)) {
        flt_verifier_report_model(m, "DQ1", "flt_free_deferred_io_work_item", NULL,
                                  "the work item is still queued; not freed");
        return;
    }
    if (item->embedded) {
        struct flt_cbd *host = host_of(item);
        if (!atomic_load_explicit(&item->in_use, memory_order_relaxed)) {
            flt_verifier_report_model(m, "DQ1", "flt_free_deferred_io_work_item", NULL,
                                      "the work item was already freed; ignored");
            return;
        }
        /* release: our use of the item happens before its next allocation. */
        atomic_store_explicit(&item->in_use, false, memory_order_release);
        cbd_unpin_deferred(host);   /* in its own run: when the routine returns */
        return;
    }
    m->pool_ops->put(m->item_pool, flt_thread_ctx(m)->cpu, item);
}

NTSTATUS flt_queue_deferred_io_work_item(struct flt_deferred_io_workitem *item,
                                         struct flt_callback_data *data,
                                         WORK_QUEUE_TYPE queue_type,
                                         flt_deferred_io_workitem_routine routine, void *context)
{
    static const char name[] = "flt_queue_deferred_io_work_item";
    if (!item || !data || !routine) {
        flt_verifier_report("DQ2", name, data, "work item, data and routine must not be NULL");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_cbd *cbd = cbd_of(data);
    struct flt_model *m = cbd_model(cbd);
    if (!flt_irql_at_most(m, DISPATCH_LEVEL, name, data))
        return STATUS_INVALID_PARAMETER;
    if (queue_type != CriticalWorkQueue && queue_type != DelayedWorkQueue)
        return STATUS_INVALID_PARAMETER;   /* HyperCriticalWorkQueue is reserved (DQ2) */
    if (!FLT_IS_IRP_OPERATION(data) || cbd_is_paging(cbd))
        return STATUS_FLT_NOT_SAFE_TO_POST_OPERATION;
    uint64_t s = atomic_load_explicit(&cbd->state, memory_order_acquire);
    if (!(s & ST_LIVE) || (s & ST_COMPLETED) || cbd->level < 0) {
        flt_verifier_report_model(m, "DQ2", name, data,
                                  "the operation is not being processed by a filter; refused");
        return STATUS_INVALID_PARAMETER;
    }
    if (item->model != m || atomic_load_explicit(&m->serial, memory_order_relaxed) != item->model_serial) {
        /* Its pool is another model's: running and freeing it here would
         * put it in the wrong pool. */
        flt_verifier_report_model(m, "DQ2", name, data,
                                  "the work item was allocated by another model; refused");
        return STATUS_INVALID_PARAMETER;
    }
    if (atomic_load_explicit(&item->queued, memory_order_acquire)) {
        flt_verifier_report_model(m, "DQ2", name, data, "the work item is already queued; refused");
        return STATUS_INVALID_PARAMETER;
    }
    struct flt_instance *inst = cbd->volume->inst[cbd->level];
    struct flt_thread *t = flt_thread_ctx(m);
    struct pb_shard *mine = &inst->workitems[t->cpu];
    /* seq_cst: count ourselves in, then look at `deleting`; the teardown
     * sets `deleting`, then sums the counts. One of us sees the other. */
    atomic_fetch_add_explicit(&mine->v, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&inst->deleting, memory_order_seq_cst)) {
        atomic_fetch_sub_explicit(&mine->v, 1, memory_order_release);
        return STATUS_FLT_DELETING_OBJECT;
    }
    /* The run's reference on the data. An embedded item queued for its
     * host already holds one, which the run uses (internal.h). */
    bool own = item->embedded && host_of(item) == cbd;
    if (!own)
        cbd_pin(cbd);
    item->model = m;
    item->cbd = cbd;
    item->instance = inst;
    item->routine = routine;
    item->context = context;
    atomic_store_explicit(&item->queued, 1, memory_order_relaxed);
    if (cbd->postop_active)
        cbd->post_queued++;
    /* The queue's enqueue is a release: the worker sees all of the above. */
    int rc = m->queue_ops->enqueue(m->queue, t->route % m->nqueues, &item->link);
    if (rc != 0) {
        /* A bounded queue is full: a clear status, nothing lost. */
        atomic_store_explicit(&item->queued, 0, memory_order_relaxed);
        if (cbd->postop_active)
            cbd->post_queued--;
        if (!own)
            cbd_unpin(cbd);
        atomic_fetch_sub_explicit(&mine->v, 1, memory_order_release);
        return rc == -EAGAIN ? STATUS_INSUFFICIENT_RESOURCES : STATUS_UNSUCCESSFUL;
    }
    PB_COUNT(t, workitems_queued);
    return STATUS_SUCCESS;
}

void flt_run_workitem(struct flt_model *m, struct flt_deferred_io_workitem *item)
{
    /* The operation's lines, before anything waits on them: an embedded
     * item sits inside its operation, so they can be asked for from the
     * item's address alone. The state line and the public line are
     * written here, so in exclusive state. For an item of the item pool
     * (the fallback when the embedded one is taken) these are its
     * neighbours' lines: never wrong, but taking them exclusive may move
     * a line another thread is using once more. */
    struct flt_cbd *guess = host_of(item);
    pb_prefetch_excl(&guess->state);
    pb_prefetch_excl(&guess->pub);
    __builtin_prefetch(&guess->volume, 0);
    /* Read everything first: the routine usually frees the item. */
    struct flt_cbd *cbd = item->cbd;
    struct flt_instance *inst = item->instance;
    flt_deferred_io_workitem_routine routine = item->routine;
    void *ctx = item->context;
    /* The run's reference is the item's own when it is embedded in the
     * data it runs for: dropped when the item is freed, not here. */
    bool own = item->embedded && guess == cbd;
    struct flt_thread *t = flt_thread_ctx(m);
    /* t_dequeue goes into the data only if this thread completes it (a
     * winning canceller may be completing it right now). It is stamped on
     * every split_every-th item only (a timestamp is ~10 ns; the split of
     * the latency is an average's worth, the total is always measured). */
    struct flt_cbd *outer_cbd = pb_running_cbd;
    uint64_t outer_t = pb_running_t_dequeue;
    unsigned outer_unpins = pb_deferred_unpins;
    pb_running_cbd = cbd;
    pb_deferred_unpins = 0;
    pb_running_t_dequeue = 0;
    if (cbd->pub.times.t_issue && --t->split_countdown == 0) {   /* timed ones only */
        t->split_countdown = m->split_every;
        pb_running_t_dequeue = m->now();
    }
    atomic_store_explicit(&item->queued, 0, memory_order_release);
    routine(item, &cbd->pub, ctx);       /* DQ3: once, at PASSIVE_LEVEL */
    /* Unpins deferred to here (the item's free, the completion's own
     * reference), plus the run's own reference unless it is the item's. */
    unsigned drop = pb_deferred_unpins + (own ? 0 : 1);
    pb_running_cbd = outer_cbd;
    pb_running_t_dequeue = outer_t;
    pb_deferred_unpins = outer_unpins;
    if (PB_UNLIKELY(pb_irql != PASSIVE_LEVEL)) {
        flt_verifier_report_model(m, "IRQL1", "work item routine", NULL,
                                  "returned at IRQL %u; lowered to PASSIVE_LEVEL", pb_irql);
        pb_irql = PASSIVE_LEVEL;
    }
    if (drop)
        cbd_unpin_n(cbd, drop);
    /* release: the teardown that sees this count drop sees the run done. */
    atomic_fetch_sub_explicit(&inst->workitems[t->cpu].v, 1, memory_order_release);
    /* Counted last, with release: flt_model_quiesce() that sees it also
     * sees the reference dropped (and the block back in the pool). */
    atomic_store_explicit(&t->c.workitems_run,
                          atomic_load_explicit(&t->c.workitems_run, memory_order_relaxed) + 1,
                          memory_order_release);
}
