/* The model's counters, declared once: name, unit, meaning. Each thread
 * keeps its own copy (no shared counter on the hot path); they are summed
 * when read. Everything that prints or stores counters walks this list. */
#ifndef PB_COUNTERS_H
#define PB_COUNTERS_H

#include <stdint.h>

#define PB_COUNTERS(X)                                                              \
    X(issued,                 "ops",   "operations issued by requesters")           \
    X(completed,              "ops",   "completed with a success, informational or warning status") \
    X(completed_cancelled,    "ops",   "completed with STATUS_CANCELLED")           \
    X(failed,                 "ops",   "completed or refused with another error status") \
    X(pended,                 "ops",   "pre-ops that returned FLT_PREOP_PENDING")   \
    X(resumed,                "ops",   "pended pre-ops resumed exactly once")       \
    X(double_complete_refused,"ops",   "second completions refused (PEND4)")        \
    X(workitems_queued,       "items", "deferred work items queued")                \
    X(workitems_run,          "items", "deferred work items run")                   \
    X(cancel_attempted,       "ops",   "cancel attempts")                           \
    X(cancel_won,             "ops",   "cancels that took the routine and completed")\
    X(cancel_lost,            "ops",   "cancels after the worker cleared the routine") \
    X(cancel_early,           "ops",   "cancels before the routine was set (CAN8)")  \
    X(cancel_late,            "ops",   "cancels after completion or on a stale handle") \
    X(cancel_not_cancelable,  "ops",   "cancels of fast, FS filter or paging I/O")  \
    X(routine_left_set,       "ops",   "completions that found a cancel routine set (PEND6)") \
    X(pool_get,               "blocks","callback data taken from the pool")         \
    X(pool_put,               "blocks","callback data returned to the pool")        \
    X(pool_exhausted,         "events","allocations the pool refused (CD3)")        \
    X(verifier_violations,    "events","rule violations the verifier reported")

struct pb_counters {
#define PB_COUNTER_FIELD_(name, unit, doc) uint64_t name;
    PB_COUNTERS(PB_COUNTER_FIELD_)
#undef PB_COUNTER_FIELD_
};

#endif
