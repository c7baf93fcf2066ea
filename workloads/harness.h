/* Internal to workloads/: the one workload harness behind both the
 * measuring run engine (run.c) and the stress harness (stress.c).
 *
 * It owns the filters of the stack (pend, pass, callback, synchronize,
 * mix, cbdq, async), the traffic (requesters in closed or open loop, each
 * with its slots, one per-operation context each; cancellers; the drain)
 * and the recorders. What differs between its two users goes through
 * hooks: the stress harness checks exactly-once completion and FIFO order
 * per producer in them; the run engine measures and leaves them NULL.
 *
 * Building is a handful of steps, each owning what it allocates and saying
 * what went wrong in h->error; harness_free() takes whatever a failed step
 * left. Threads are started only by harness_start(), and every
 * pthread_create is checked. */
#ifndef PB_HARNESS_H
#define PB_HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flt_kernel.h"
#include "flt_model.h"
#include "pb_hist.h"
#include "pb_lock.h"
#include "pb_rng.h"
#include "pb_scenario.h"
#include "pb_topo.h"
#include "pb_tsc.h"

struct harness;
struct hrequester;

/* Per-thread latency and outcome tallies: only the owning thread writes. */
struct recorder {
    struct pb_hist total, queue_wait, service;
    struct pb_hist *pairs;                   /* [nnodes * nnodes], total latency */
    _Atomic uint64_t completed, cancelled, failed;   /* measured ops; single writer */
    /* The last failure status seen (single writer), for the run's report. */
    _Atomic uint32_t failed_status;
    _Atomic uint64_t p99_ns;                 /* published now and then for progress */
    unsigned since_publish;
} __attribute__((aligned(64)));

#define OP_NOPEND      0x1u                  /* the pend filter passes it through */
#define OP_CANCEL_SELF 0x2u                  /* the async filter cancels its own I/O */

/* How a pend filter's worker finishes an operation it did not lose to a
 * cancel. The run engine always resumes without a callback; the stress
 * harness varies it (harness_opts.vary_resume). */
enum { RESUME_NO_CALLBACK = 0, RESUME_WITH_CALLBACK, RESUME_COMPLETE };

/* One operation's context: the only thing a filter finds in the callback
 * data (parameters.others[2]), and what on_complete is handed. Aligned to
 * a line: the requester fills one slot while a worker completes the next,
 * and neighbours sharing a line would make each take it from the other. */
struct pb_op {
    _Alignas(64) _Atomic uint32_t busy;
    uint32_t flags;
    struct hrequester *rq;
    unsigned worker;                         /* routed worker */
    bool measured;
    uint8_t resume;                          /* RESUME_* */
    _Atomic uint64_t check;                  /* the hooks' own word (stress: its tag) */
    uint8_t mix[PB_MAX_FILTERS];             /* MIX filters' choice per level */
    /* cbdq filter */
    struct flt_cbdq_io_context cbdq_ctx;
    struct pb_op *cbdq_prev, *cbdq_next;
    struct flt_callback_data *cbdq_data;
    /* async filter */
    struct flt_callback_data *async_orig;
    _Atomic int async_refs;
};

struct pb_cancel_ring;

struct hrequester {
    /* Read by every thread that completes one of its operations (op->rq->h,
     * ->tp): written once, before the threads start. */
    struct harness *h;
    unsigned index;
    const struct pb_thread_plan *tp;
    struct pb_op *ops;
    unsigned nops;
    struct pb_cancel_ring *ring;             /* its cancel orders; NULL when none */
    unsigned *route_targets;                 /* workers this requester routes to */
    unsigned nroute;
    /* Written by the requester on every issue: a line of their own, so a
     * worker reading the fields above does not take it from the requester
     * each time (docs/cache-line-budget.md). */
    _Alignas(64) unsigned route_next;
    unsigned until_timed;                    /* operations to the next timed one (latency-every) */
    uint64_t seq;                            /* operations issued, whole run (its thread only) */
    uint64_t refused;                        /* of those, refused by the pool (CD3) */
    uint64_t issued_in_window;
    uint64_t refused_in_window;
    struct recorder rec;
    struct pb_lock_stats lock_stats;         /* its thread's, kept as it ends */
    pthread_t thread;
    bool started;
    bool stuck;                              /* not ended by harness_stop's bound: never joined */
};

struct hcanceller {
    struct harness *h;
    unsigned index;
    const struct pb_thread_plan *tp;
    struct recorder rec;
    struct pb_lock_stats lock_stats;         /* its thread's, kept as it ends */
    pthread_t thread;
    bool started;
};

struct level {
    struct harness *h;
    unsigned index;
    pb_filter_kind kind;
    struct flt_filter *filter;
    struct flt_instance *instance;
    struct flt_cbdq cbdq;                    /* for PB_FILTER_CBDQ */
    pthread_mutex_t cbdq_lock;
    bool lock_ready;
    struct pb_op *cbdq_head, *cbdq_tail;
};

/* What the stress harness adds. Every hook may be NULL. */
struct harness_hooks {
    void *arg;
    /* Just before the operation goes down the stack, in its requester's thread. */
    void (*issuing)(void *arg, struct pb_op *op);
    /* A worker runs the pend work item of data (op's), in the order its
     * queue gave it. data->op_id is the issuing thread's sequence. */
    void (*work)(void *arg, const struct pb_op *op, const struct flt_callback_data *data,
                 unsigned worker);
    /* data (op's) completed. false: this completion must not count (it is
     * not the first), and the op's slot stays as it is. */
    bool (*complete)(void *arg, struct pb_op *op, const struct flt_callback_data *data);
    /* A filter saw something wrong (a post-op with the wrong context). */
    void (*violation)(void *arg, const char *what);
};

struct harness_opts {
    const struct pb_topo *topo;              /* NULL: this machine */
    bool bind;                               /* pin threads to their planned CPUs */
    bool vary_resume;                        /* draw RESUME_* per operation */
    bool verifier_log;
    struct harness_hooks hooks;
};

struct harness {
    struct pb_scenario scenario;             /* a copy: lost operations may outlive the caller's */
    const struct pb_scenario *sc;            /* = &scenario */
    void *user;                              /* the caller's state (harness_new's user_size) */
    struct harness_opts o;
    struct pb_plan plan;
    bool have_plan;
    const struct pb_topo *topo;
    struct pb_topo *own_topo;
    unsigned nnodes;
    unsigned *node_of_pu;
    /* The node-pair histograms are kept for the nodes the plan puts a
     * thread on, not every node of the topology (numa:4096 asked for 16 M
     * histograms per recorder): slot_of_node[n] is node n's place among
     * them (-1: no thread), node_of_slot the reverse. */
    int *slot_of_node;
    int *node_of_slot;
    unsigned nslots;
    struct flt_model *model;
    struct flt_volume *vol;
    struct level levels[PB_MAX_FILTERS];
    unsigned nlevels;                        /* levels set up (for the free path) */
    struct hrequester *req;
    unsigned nreq;                           /* requesters set up */
    struct hcanceller *can;
    unsigned ncancellers;                    /* cancellers the run has (0 when nothing is cancelled) */
    struct recorder *worker_rec;
    struct pb_lock_stats *worker_lock;       /* [workers], kept as each worker ends */
    unsigned nworker_rec;
    struct pb_tick_scale scale;
    uint64_t race_delay_ticks;               /* cancel-when race: expected completion */
    /* latency-every as the run uses it: the scenario's N, or auto's
     * resolved before the threads start (1 until then). */
    unsigned latency_every;
    _Atomic bool measuring;
    _Atomic unsigned ready;                  /* threads bound and attached */
    pthread_mutex_t start_gate;              /* held while harness_start creates the threads */
    pthread_mutex_t done_lock;               /* requesters_done's sleepers: with done_cond */
    pthread_cond_t done_cond;
    bool sync_ready;                         /* the three above initialised */
    _Atomic bool stop;
    _Atomic bool requesters_done;
    _Atomic uint64_t migrations;             /* threads found off their planned CPU */
    bool has_async;                          /* an async filter cancels its own I/O */
    bool pairs_per_op;                       /* several nodes: a node-pair record per op */
    struct recorder fallback_rec;
    bool fallback_ready;
    pthread_mutex_t fallback_lock;
    unsigned mix_total;
    bool not_available;                      /* the model refused a strategy as not in this build */
    bool lost;                               /* operations never completed: keep, do not free */
    unsigned nstuck;                         /* requesters harness_stop could not join */
    char error[240];
};

/* A harness for the scenario (copied), with user_size zeroed bytes of the
 * caller's own at h->user (the hooks' arg when o->hooks.arg is NULL).
 * NULL when out of memory. Then the steps, in order: each returns 0, or -1
 * with h->error set; after any of them (failed or not) harness_free()
 * releases what was made. */
struct harness *harness_new(const struct pb_scenario *sc, const struct harness_opts *o,
                            size_t user_size);
int harness_plan(struct harness *h);         /* topology, placement plan, nodes */
int harness_build_model(struct harness *h);  /* recorders, the model, the volume */
int harness_build_stack(struct harness *h);  /* the scenario's filters, top first */
int harness_build_traffic(struct harness *h);   /* requesters and their routes, cancellers */
/* Starts requesters and cancellers; on a failed pthread_create stops and
 * joins the ones already running. */
int harness_start(struct harness *h);
/* Stops the requesters, then the cancellers (they fire what is left). A
 * requester that has not ended within harness_drain's bound (waiting in
 * the model for an operation that never completes: a synchronous one
 * whose work a broken strategy lost) is left as it is, marked stuck and
 * counted in nstuck; its operation is then one harness_drain finds busy,
 * so the run is lost (h->lost) and never freed under it. */
void harness_stop(struct harness *h);
/* Waits until no operation is in flight: at most timeout_s plus three
 * times the service time the operations in flight still need (their mean,
 * shared by the workers). Not cut short by SIGINT: an interrupted run
 * drains too, so that what it measured is consistent (a second Ctrl-C
 * kills). Returns how many are still busy. */
uint64_t harness_drain(struct harness *h, double timeout_s);
/* Frees everything made so far, h included (NULL: nothing). When
 * operations were lost (h->lost) the model still names them: the harness
 * is kept reachable, not freed. */
void harness_free(struct harness *h);

/* Measured completions of every kind so far; the highest live p99. */
uint64_t harness_sum_measured(struct harness *h);
uint64_t harness_live_p99(struct harness *h);
/* Threads that are up (bound and attached). */
unsigned harness_ready(struct harness *h);
unsigned harness_nthreads(const struct harness *h);

struct pb_run_result;
/* Adds every recorder into out (histograms, outcome counts, node pairs). */
int harness_merge(struct harness *h, struct pb_run_result *out);
/* The locks the run's strategies took and every thread's pb_lock_stats
 * into out's lock figures (pb_run.h). The requesters' and cancellers'
 * are there once harness_stop returned, the workers' once the model's
 * workers stopped (flt_model_stop_workers); 0 or -1 (out of memory). */
int harness_lock_figures(struct harness *h, struct pb_run_result *out);

/* What recording one completed operation costs the completing thread, in
 * ns (the histograms, the split on every split-every-th, the outcome
 * count; measured on a scratch recorder). After harness_plan. */
double harness_record_cost_ns(struct harness *h);

double harness_mono_s(void);
void harness_nap_ms(unsigned ms);

#endif
