/* The verifier (SPEC VER1): every violation is counted per rule, kept as
 * "the last one" for tests and tools, and optionally printed. Violations
 * are rare by definition, so this path may take the model's mutex. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Every rule ID in SPEC.md, in order; counts are indexed by position. */
static const char *const rules[] = {
    "NT1", "NT2",
    "CD1", "CD2", "CD3", "CD4", "CD5",
    "PRE1", "PRE2", "PRE3", "PRE4", "PRE5", "PRE6", "PRE7", "PRE8",
    "POST1", "POST2",
    "PEND1", "PEND2", "PEND3", "PEND4", "PEND5", "PEND6",
    "DQ1", "DQ2", "DQ3", "DQ4",
    "CAN1", "CAN2", "CAN3", "CAN4", "CAN5", "CAN6", "CAN7", "CAN8", "CAN9", "CAN10",
    "CBDQ1", "CBDQ2", "CBDQ3", "CBDQ4", "CBDQ5",
    "ASYNC1", "ASYNC2",
    "FSF1", "FSF2", "FSF3", "FSF4", "FSF5",
    "IRQL1",
    "VER1", "VER2",
};
#define NRULES (sizeof rules / sizeof rules[0])
_Static_assert(NRULES <= FLT_RULE_MAX, "rule table too small");

static int rule_index(const char *rule)
{
    for (size_t i = 0; i < NRULES; i++)
        if (strcmp(rules[i], rule) == 0)
            return (int)i;
    return (int)NRULES - 2;   /* unknown IDs count as VER1 */
}

static const char *major_name(uint8_t m)
{
    static const char *const names[] = {
        [IRP_MJ_CREATE] = "IRP_MJ_CREATE", [IRP_MJ_CLOSE] = "IRP_MJ_CLOSE",
        [IRP_MJ_READ] = "IRP_MJ_READ", [IRP_MJ_WRITE] = "IRP_MJ_WRITE",
        [IRP_MJ_QUERY_INFORMATION] = "IRP_MJ_QUERY_INFORMATION",
        [IRP_MJ_SET_INFORMATION] = "IRP_MJ_SET_INFORMATION",
        [IRP_MJ_FLUSH_BUFFERS] = "IRP_MJ_FLUSH_BUFFERS",
        [IRP_MJ_DIRECTORY_CONTROL] = "IRP_MJ_DIRECTORY_CONTROL",
        [IRP_MJ_FILE_SYSTEM_CONTROL] = "IRP_MJ_FILE_SYSTEM_CONTROL",
        [IRP_MJ_DEVICE_CONTROL] = "IRP_MJ_DEVICE_CONTROL",
        [IRP_MJ_SHUTDOWN] = "IRP_MJ_SHUTDOWN", [IRP_MJ_LOCK_CONTROL] = "IRP_MJ_LOCK_CONTROL",
        [IRP_MJ_CLEANUP] = "IRP_MJ_CLEANUP",
    };
    if (m < sizeof names / sizeof names[0] && names[m])
        return names[m];
    switch (m) {
    case IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION: return "IRP_MJ_ACQUIRE_FOR_SECTION_SYNCHRONIZATION";
    case IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION: return "IRP_MJ_RELEASE_FOR_SECTION_SYNCHRONIZATION";
    case IRP_MJ_ACQUIRE_FOR_MOD_WRITE: return "IRP_MJ_ACQUIRE_FOR_MOD_WRITE";
    case IRP_MJ_RELEASE_FOR_MOD_WRITE: return "IRP_MJ_RELEASE_FOR_MOD_WRITE";
    case IRP_MJ_ACQUIRE_FOR_CC_FLUSH: return "IRP_MJ_ACQUIRE_FOR_CC_FLUSH";
    case IRP_MJ_RELEASE_FOR_CC_FLUSH: return "IRP_MJ_RELEASE_FOR_CC_FLUSH";
    case IRP_MJ_QUERY_OPEN: return "IRP_MJ_QUERY_OPEN";
    case IRP_MJ_VOLUME_MOUNT: return "IRP_MJ_VOLUME_MOUNT";
    case IRP_MJ_VOLUME_DISMOUNT: return "IRP_MJ_VOLUME_DISMOUNT";
    default: return "IRP_MJ_?";
    }
}

static void vreport(struct flt_model *model, const char *rule, const char *routine,
                    const struct flt_callback_data *data, const char *fmt, va_list ap)
{
    if (!model) {
        /* No model at all: nothing to count into; say it, never crash. */
        fprintf(stderr, "pendbench verifier: %s in %s (no model)\n", rule, routine);
        return;
    }
    int i = rule_index(rule);
    /* relaxed: a tally read after the threads are quiet. */
    atomic_fetch_add_explicit(&model->violations[i], 1, memory_order_relaxed);
    struct flt_thread *t = flt_thread_ctx(model);
    PB_COUNT(t, verifier_violations);

    struct flt_violation v = { .rule = rules[i], .routine = routine };
    if (data) {
        v.op_id = data->op_id;
        v.major_function = cbd_of(data)->snap_major;
    }
    vsnprintf(v.detail, sizeof v.detail, fmt, ap);
    pthread_mutex_lock(&model->lock);
    model->last = v;
    model->has_last = true;
    bool print = model->cfg.verifier_log && model->logged < 20;
    if (model->cfg.verifier_log)
        model->logged++;
    pthread_mutex_unlock(&model->lock);
    if (print) {
        if (data)
            fprintf(stderr, "pendbench verifier: %s violated in %s, op %#llx (%s): %s\n",
                    v.rule, routine, (unsigned long long)v.op_id, major_name(v.major_function),
                    v.detail);
        else
            fprintf(stderr, "pendbench verifier: %s violated in %s: %s\n", v.rule, routine,
                    v.detail);
    }
}

void flt_verifier_report_model(struct flt_model *model, const char *rule, const char *routine,
                               const struct flt_callback_data *data, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(model, rule, routine, data, fmt, ap);
    va_end(ap);
}

void flt_verifier_report(const char *rule, const char *routine,
                         const struct flt_callback_data *data, const char *fmt, ...)
{
    struct flt_model *model = data && cbd_of(data)->volume ? cbd_model(cbd_of(data))
                                                            : flt_current_model();
    va_list ap;
    va_start(ap, fmt);
    vreport(model, rule, routine, data, fmt, ap);
    va_end(ap);
}

uint64_t flt_verifier_count(struct flt_model *model, const char *rule)
{
    if (!model)
        return 0;
    if (rule) {
        for (size_t i = 0; i < NRULES; i++)
            if (strcmp(rules[i], rule) == 0)
                return atomic_load_explicit(&model->violations[i], memory_order_relaxed);
        return 0;
    }
    uint64_t n = 0;
    for (size_t i = 0; i < NRULES; i++)
        n += atomic_load_explicit(&model->violations[i], memory_order_relaxed);
    return n;
}

bool flt_verifier_last(struct flt_model *model, struct flt_violation *out)
{
    if (!model)
        return false;
    pthread_mutex_lock(&model->lock);
    bool has = model->has_last;
    if (has && out)
        *out = model->last;
    pthread_mutex_unlock(&model->lock);
    return has;
}

void flt_verifier_clear(struct flt_model *model)
{
    if (!model)
        return;
    for (size_t i = 0; i < NRULES; i++)
        atomic_store_explicit(&model->violations[i], 0, memory_order_relaxed);
    pthread_mutex_lock(&model->lock);
    model->has_last = false;
    pthread_mutex_unlock(&model->lock);
}
