/* Minifilter registration, volumes and the instance stack ordered by
 * altitude (PRE7), and instance teardown: refuse new work, run what is
 * queued (DQ4), drain owed post-ops (POST2).
 *
 * Attaching changes the stack's layout: attach instances before issuing
 * operations to the volume (as configuration). Teardown may run while
 * operations are in flight; a torn-down instance keeps its slot. A filter
 * is unregistered when no operation is in flight on its instances. */
#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define FLT_MAX_FILTER_INSTANCES 16

struct filter_instances {
    struct flt_instance *list[FLT_MAX_FILTER_INSTANCES];
    int n;
};

/* The filter's instances live beside it (one allocation). */
struct filter_block {
    struct flt_filter filter;
    struct filter_instances inst;
};

NTSTATUS flt_register_filter(struct flt_model *model, const struct flt_registration *reg,
                             struct flt_filter **out)
{
    if (!model || !reg || !out)
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    struct filter_block *b = calloc(1, sizeof *b);
    if (!b)
        return STATUS_INSUFFICIENT_RESOURCES;
    b->filter.model = model;
    b->filter.reg = *reg;
    const struct flt_operation_registration *op = reg->operation_registration;
    for (int i = 0; op && op[i].major_function != IRP_MJ_OPERATION_END; i++) {
        uint8_t mj = op[i].major_function;
        if (i >= 256 || b->filter.pre[mj] || b->filter.post[mj] ||
            (!op[i].pre_operation && !op[i].post_operation)) {
            /* Unterminated, duplicate, or empty registration. */
            free(b);
            return STATUS_INVALID_PARAMETER;
        }
        b->filter.pre[mj] = op[i].pre_operation;
        b->filter.post[mj] = op[i].post_operation;
    }
    *out = &b->filter;
    return STATUS_SUCCESS;
}

void flt_unregister_filter(struct flt_filter *filter)
{
    if (!filter)
        return;
    struct filter_block *b = (struct filter_block *)filter;
    for (int i = 0; i < b->inst.n; i++) {
        flt_detach_instance(b->inst.list[i]);
        b->inst.list[i]->orphaned = true;   /* its volume frees it */
    }
    free(b);
}

void *flt_filter_context(const struct flt_filter *filter)
{
    return filter ? filter->reg.filter_context : NULL;
}

/* "385100" or "385100.25" -> thousandths; false when malformed. */
static bool parse_altitude(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    for (; *s && *s != '.'; s++, digits++) {
        if (!isdigit((unsigned char)*s) || digits >= 12)
            return false;
        whole = whole * 10 + (uint64_t)(*s - '0');
    }
    if (digits == 0)
        return false;
    if (*s == '.') {
        for (s++; *s; s++, fdigits++) {
            if (!isdigit((unsigned char)*s) || fdigits >= 3)
                return false;
            frac = frac * 10 + (uint64_t)(*s - '0');
        }
        if (fdigits == 0)
            return false;
    }
    while (fdigits++ < 3)
        frac *= 10;
    *out = whole * 1000 + frac;
    return true;
}

NTSTATUS flt_attach_volume(struct flt_filter *filter, struct flt_volume *vol,
                           const char *altitude, struct flt_instance **out)
{
    if (out)
        *out = NULL;
    uint64_t alt;
    if (!filter || !vol || !out || !parse_altitude(altitude, &alt) || filter->model != vol->model)
        return STATUS_INVALID_PARAMETER;
    struct filter_block *b = (struct filter_block *)filter;
    int depth = atomic_load_explicit(&vol->depth, memory_order_acquire);
    if (depth >= FLT_MAX_INSTANCES || b->inst.n >= FLT_MAX_FILTER_INSTANCES)
        return STATUS_INSUFFICIENT_RESOURCES;
    for (int i = 0; i < depth; i++)
        if (vol->inst[i]->altitude_milli == alt &&
            !atomic_load_explicit(&vol->inst[i]->detached, memory_order_acquire))
            return STATUS_FLT_INSTANCE_ALTITUDE_COLLISION;
    struct flt_model *m = vol->model;
    struct flt_instance *inst = calloc(1, sizeof *inst);
    struct pb_shard *shards = aligned_alloc(PB_CACHE_LINE, m->ncpus * sizeof *shards);
    if (!inst || !shards) {
        free(inst);
        free(shards);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memset(shards, 0, m->ncpus * sizeof *shards);
    inst->filter = filter;
    inst->volume = vol;
    inst->altitude_milli = alt;
    inst->workitems = shards;
    inst->objs = (struct flt_related_objects){ filter, inst, vol };
    pthread_mutex_init(&inst->drain_lock, NULL);
    /* PRE7: highest altitude first. */
    int pos = 0;
    while (pos < depth && vol->inst[pos]->altitude_milli > alt)
        pos++;
    for (int i = depth; i > pos; i--) {
        vol->inst[i] = vol->inst[i - 1];
        vol->inst[i]->slot = i;
    }
    vol->inst[pos] = inst;
    inst->slot = pos;
    b->inst.list[b->inst.n++] = inst;
    /* release: dispatchers that read the new depth see the instance. */
    atomic_store_explicit(&vol->depth, depth + 1, memory_order_release);
    *out = inst;
    return STATUS_SUCCESS;
}

NTSTATUS flt_detach_instance(struct flt_instance *inst)
{
    if (!inst)
        return STATUS_INVALID_PARAMETER;
    if (atomic_exchange_explicit(&inst->deleting, true, memory_order_seq_cst))
        return STATUS_FLT_DELETING_OBJECT;   /* already torn down */
    struct flt_model *m = inst->volume->model;
    /* DQ4: every item queued for this instance runs before we return.
     * (seq_cst against the queuer's count-then-check.) */
    while (flt_shard_sum(inst->workitems, m->ncpus) != 0) {
        if (m->nworkers == 0)
            flt_model_drain_work(m);
        else
            sched_yield();
    }
    /* POST2: post-ops still owed are called with DRAINING, once. */
    for (;;) {
        pthread_mutex_lock(&inst->drain_lock);
        struct flt_cbd *cbd = inst->drain_head;
        if (!cbd) {
            pthread_mutex_unlock(&inst->drain_lock);
            break;
        }
        struct flt_frame *f = &cbd->frames[inst->slot];
        inst->drain_head = f->drain_next;
        if (inst->drain_head)
            inst->drain_head->frames[inst->slot].drain_prev = NULL;
        f->drain_prev = f->drain_next = NULL;
        atomic_store_explicit(&f->post_claimed, 1, memory_order_relaxed);
        cbd_pin(cbd);       /* listed, so live: keep it while we call */
        void *ctx = f->completion_context;
        pthread_mutex_unlock(&inst->drain_lock);
        flt_post_operation_callback post = inst->filter->post[cbd->snap_major];
        FLT_POSTOP_CALLBACK_STATUS r =
            post(&cbd->pub, &inst->objs, ctx, FLTFL_POST_OPERATION_DRAINING);
        if (r != FLT_POSTOP_FINISHED_PROCESSING)
            flt_verifier_report_model(m, "POST2", "post-operation callback (draining)", &cbd->pub,
                                      "a draining post-op must return FINISHED_PROCESSING");
        cbd_unpin(cbd);
    }
    atomic_store_explicit(&inst->detached, true, memory_order_release);
    return STATUS_SUCCESS;
}

/* ---- volumes ------------------------------------------------------------------ */

NTSTATUS flt_volume_create(struct flt_model *model, const char *name,
                           const struct flt_fs_config *fs, struct flt_volume **out)
{
    if (!model || !out)
        return STATUS_INVALID_PARAMETER;
    *out = NULL;
    struct flt_volume *v = calloc(1, sizeof *v);
    if (!v)
        return STATUS_INSUFFICIENT_RESOURCES;
    v->fs_counts = aligned_alloc(PB_CACHE_LINE, model->ncpus * sizeof *v->fs_counts);
    if (!v->fs_counts) {
        free(v);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    memset(v->fs_counts, 0, model->ncpus * sizeof *v->fs_counts);
    v->model = model;
    snprintf(v->name, sizeof v->name, "%s", name ? name : "volume");
    if (fs)
        v->fs = *fs;
    v->service_ticks = v->fs.service_ns ? pb_ns_to_tsc(v->fs.service_ns) : 0;
    *out = v;
    return STATUS_SUCCESS;
}

void flt_volume_destroy(struct flt_volume *v)
{
    if (!v)
        return;
    int depth = atomic_load_explicit(&v->depth, memory_order_acquire);
    for (int i = 0; i < depth; i++) {
        struct flt_instance *inst = v->inst[i];
        if (!inst->orphaned) {
            flt_detach_instance(inst);
            /* Forget it in its filter so unregistering does not touch it. */
            struct filter_block *b = (struct filter_block *)inst->filter;
            for (int j = 0; j < b->inst.n; j++)
                if (b->inst.list[j] == inst)
                    b->inst.list[j] = b->inst.list[--b->inst.n];
        }
        pthread_mutex_destroy(&inst->drain_lock);
        free(inst->workitems);
        free(inst);
    }
    free(v->fs_counts);
    free(v);
}

struct flt_model *flt_volume_model(const struct flt_volume *v)
{
    return v ? v->model : NULL;
}

uint64_t flt_volume_fs_count(const struct flt_volume *v, uint8_t major)
{
    if (!v)
        return 0;
    int64_t n = 0;
    for (unsigned c = 0; c < v->model->ncpus; c++)
        n += atomic_load_explicit(&v->fs_counts[c][major], memory_order_relaxed);
    return (uint64_t)n;
}
