/* The model's environment: which strategies it runs on, its worker
 * threads, the threads that use it, its counters, the verifier and the
 * end-of-run invariants. Nothing here knows about placement or reports:
 * the workloads pass hooks (thread start, NUMA memory) in. */
#ifndef PB_FLT_MODEL_H
#define PB_FLT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flt_kernel.h"
#include "pb_counters.h"
#include "pb_strategy.h"

struct flt_model_config {
    const char *pool;              /* strategy names; NULL = the defaults */
    const char *queue;
    const char *handoff;
    /* The lock every lock-based strategy of the model takes (pb_lock.h),
     * by name or plugin path; NULL = each strategy's default (its ops'
     * `lock`). A lock that lacks what one of them needs (its ops'
     * `lock_needs`) is refused, the error naming both and what is missing. */
    const char *lock;
    unsigned ncpus;                /* planned processors; 0 = 1 */
    unsigned nworkers;             /* worker threads; 0 = none (tests drive work by hand) */
    size_t pool_capacity;          /* most callback data out at once; 0 = unlimited */
    size_t queue_capacity;         /* per queue for bounded queues; 0 = default */
    pb_idle_policy idle;
    /* A worker shares its CPU with a thread that feeds it (the plan put a
     * requester or another worker there): an idle worker that spins then
     * yields the CPU every PB_IDLE_SHARED_YIELD_EVERY polls instead of
     * holding it for the whole spin. */
    bool workers_share_cpus;
    struct pb_mem_hooks mem;
    /* Planned cpu of each worker (nworkers entries, each < ncpus); NULL:
     * worker i on cpu i % ncpus. Worker i serves queue i. */
    const unsigned *worker_cpu;
    /* Called first in each worker thread (e.g. to bind it), with its index. */
    void (*on_worker_start)(void *arg, unsigned worker);
    /* Called last in each worker thread, once its queue is shut down and
     * drained (e.g. to collect its per-thread pb_lock_stats); may be NULL. */
    void (*on_worker_stop)(void *arg, unsigned worker);
    void *hook_arg;
    /* Time source for t_dequeue / t_complete / the simulated file system;
     * NULL = pb_tsc_now. */
    uint64_t (*now)(void);
    /* The worker stamps t_dequeue (the queue-wait / service split of the
     * latency) on every split_every-th work item it runs, per thread; the
     * others carry t_dequeue = 0. 0 or 1: every item. A timestamp costs
     * about as much as a cache-line transfer between cores (~10 ns), and
     * the split is an average's worth; t_issue and t_complete are always
     * stamped. */
    unsigned split_every;
    /* VER2: hot-path checks (CD4 and PRE8 snapshots, IRQL) on or off. The
     * exactly-once and leak invariants are counted in every mode. */
    bool verifier_checks_off;
    /* Print each violation to stderr (the first 20, then a count). */
    bool verifier_log;
};

#define FLT_DEFAULT_POOL    "locked-list"
#define FLT_DEFAULT_QUEUE   "global-mutex"
#define FLT_DEFAULT_HANDOFF "xchg"

/* Builds the model and starts its workers. Returns STATUS_SUCCESS, or
 * STATUS_INVALID_PARAMETER with *error naming the problem (an unknown
 * strategy or lock, a lock unfit for a strategy, ...), or
 * STATUS_INSUFFICIENT_RESOURCES. *error stays valid until this thread's
 * next flt_model_create. */
NTSTATUS flt_model_create(const struct flt_model_config *cfg, struct flt_model **out,
                          const char **error);
/* Stops the workers after every queued work item has run (DQ4), then frees
 * everything. Operations still in flight are reported by the invariants
 * first; call flt_model_check() before this. */
void flt_model_destroy(struct flt_model *model);
/* Shuts the queues down and joins the workers once they have run every
 * queued work item (DQ4), keeping the model: its counters, invariants and
 * the workers' on_worker_stop results can be read before destroy. Work
 * queued later is run by flt_model_drain_work / destroy in the caller's
 * thread. Idempotent. */
void flt_model_stop_workers(struct flt_model *model);

/* Runs, in the calling thread at PASSIVE_LEVEL, every work item queued so
 * far (for models without workers: deterministic tests). Returns how many.
 * A model whose worker threads run is refused (verifier DQ3, returns 0):
 * they own the queues. */
size_t flt_model_drain_work(struct flt_model *model);

const char *flt_model_pool_name(const struct flt_model *model);
const char *flt_model_queue_name(const struct flt_model *model);
const char *flt_model_handoff_name(const struct flt_model *model);
/* The chosen lock's name; NULL when each strategy takes its default. */
const char *flt_model_lock_name(const struct flt_model *model);
/* The locks the model's strategies take, by name, in pool, queue,
 * handoff order, joined by '+' without repeats ("pthread-mutex+
 * ttas-backoff"); "" when none takes a lock. Returns buf. */
const char *flt_model_locks_taken(const struct flt_model *model, char *buf, size_t size);
bool flt_model_pool_type_stable(const struct flt_model *model);

/* ---- volumes and the simulated file system ----------------------------- */

struct flt_fs_config {
    uint64_t service_ns;           /* busy time per operation that reaches it */
    /* Status the file system completes each major function with; 0 for
     * STATUS_SUCCESS (Information = the length for reads and writes). */
    NTSTATUS status_by_major[256];
};

NTSTATUS flt_volume_create(struct flt_model *model, const char *name,
                           const struct flt_fs_config *fs, struct flt_volume **out);
void flt_volume_destroy(struct flt_volume *volume);
struct flt_model *flt_volume_model(const struct flt_volume *volume);
/* Operations the file system saw, per major function. */
uint64_t flt_volume_fs_count(const struct flt_volume *volume, uint8_t major_function);

/* ---- threads ----------------------------------------------------------- */

/* Each thread that calls into the model may say which planned cpu it runs
 * on (pools and queues are per cpu). A thread that does not is attached
 * on its first call, on cpu 0. Worker threads are attached by the model. */
void flt_thread_attach(struct flt_model *model, unsigned cpu);
unsigned flt_thread_cpu(void);
/* The queue the calling thread's next work items go to; default its cpu.
 * (Workloads route work: local, same node, remote, round robin.) */
void flt_thread_route_to(unsigned queue_index);

/* ---- counters, verifier, invariants ------------------------------------ */

/* Sum of every thread's counters so far. Exact once the threads are quiet. */
void flt_model_counters(struct flt_model *model, struct pb_counters *out);
/* Waits until every work item queued so far has run and dropped its
 * reference (a cancelled operation completes while its work item may still
 * be queued). Call after the requesters stopped, before flt_model_check.
 * False when that did not happen within timeout_ms. */
bool flt_model_quiesce(struct flt_model *model, unsigned timeout_ms);
/* Callback data currently out of the pool (gets minus puts). */
int64_t flt_model_outstanding(struct flt_model *model);

struct flt_violation {
    const char *rule;              /* "PEND4" */
    const char *routine;           /* "flt_complete_pended_preop" */
    uint64_t op_id;                /* 0 when there is no operation */
    uint8_t major_function;
    char detail[120];
};

/* Reports a violation (used by the model; public so strategies and tests
 * can report through the same path). */
void flt_verifier_report(const char *rule, const char *routine,
                         const struct flt_callback_data *data, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
uint64_t flt_verifier_count(struct flt_model *model, const char *rule);   /* rule NULL: all */
/* The most recent violation; false when there was none. */
bool flt_verifier_last(struct flt_model *model, struct flt_violation *out);
void flt_verifier_clear(struct flt_model *model);

struct flt_invariants {
    bool ok;
    uint64_t issued, completed, completed_cancelled, failed;
    int64_t in_flight;             /* issued - completed - completed_cancelled - failed */
    int64_t outstanding_data;      /* callback data not back in the pool */
    uint64_t double_complete_refused;
    uint64_t routine_left_set;
    uint64_t verifier_violations;
    char why[200];                 /* the first broken invariant, in words */
};

/* DESIGN.md "Invariants": call when the model is quiet (no thread issuing).
 * expect_violations: the scenario provokes violations on purpose. */
void flt_model_check(struct flt_model *model, bool expect_violations, struct flt_invariants *out);

#endif
