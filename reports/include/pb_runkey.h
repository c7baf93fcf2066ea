/* The one definition of "the same run configuration", shared by compare,
 * the HTML report, export and history: the scenario's name,
 * its three strategies as the file names them (so a strategy this build
 * lacks still matches), the lock they were told to take, and its
 * workload: every params value except those that only say how long a run
 * lasts or which random numbers it draws (duration, ops, warmup, seed).
 * Workloads are compared on the params both sides have: a newer pendbench
 * may add some.
 *
 * The lock. A chosen lock is a params value ("lock": written only when one
 * was chosen), so it is an item of the workload text ("lock=mcs") and the
 * history's stored workload carries it with no column of its own; a run
 * under each strategy's default lock has no such item, which keeps the key
 * of the runs recorded before locks existed. Being the fourth strategy
 * kind, it is compared with the name, not as a workload param: its
 * absence means the default (not "unknown"), so runs under different
 * locks are never the same configuration, nor matched anyway as siblings
 * of one (pb_runkey_same_name), and it is shown with the strategies
 * ("magazine / global-mutex / xchg [lock mcs]"), never as a distinguishing
 * param.
 *
 * A workload is carried as canonical text, "k=v, k=v" with the keys in
 * byte order and each value as its option takes it (pb_result_param_text),
 * so a key can also be built from a label string kept elsewhere. */
#ifndef PB_RUNKEY_H
#define PB_RUNKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "pb_result.h"

#define PB_RUNKEY_WORKLOAD_MAX 2048

struct pb_runkey {
    char scenario[PB_NAME_MAX], pool[PB_NAME_MAX], queue[PB_NAME_MAX], handoff[PB_NAME_MAX];
    char workload[PB_RUNKEY_WORKLOAD_MAX];   /* canonical "k=v, k=v"; "" when unknown */
    char lock[PB_NAME_MAX];    /* the workload's lock= value: the chosen lock; "" = each
                                * strategy's default (no such item) */
};

/* Whether a params name belongs to the workload (not a strategy, and not
 * duration, ops, warmup or seed). */
bool pb_runkey_is_workload_param(const char *name);

/* The key of a run read from a file: strategies from its params (the
 * rebuilt scenario where params lacks one), the workload from params. A
 * run without params has an empty workload, which matches any. 0, or -1
 * when the workload text would not fit (it is then cut at a whole item,
 * and still compares on what it holds). */
int pb_runkey_of_run(const struct pb_result_run *run, struct pb_runkey *key);

/* The key of a run in memory (as pb_run left it): the same key it has
 * once written to a file and read back. 0, or -1 (out of memory, cut). */
int pb_runkey_of_result(const struct pb_run_result *r, struct pb_runkey *key);

/* A key from its parts; workload: "k=v, k=v" in any key order (NULL or
 * ""; empty). It is made canonical. 0, or -1 when a part does not fit or
 * an item has no '='. */
int pb_runkey_set(struct pb_runkey *key, const char *scenario, const char *pool,
                  const char *queue, const char *handoff, const char *workload);

/* Same scenario name, strategies and lock. */
bool pb_runkey_same_name(const struct pb_runkey *a, const struct pb_runkey *b);
/* The same configuration but for the lock: the same name and strategies,
 * and every workload param both have but lock equal (the runs a locks
 * chart puts side by side). */
bool pb_runkey_same_but_lock(const struct pb_runkey *a, const struct pb_runkey *b);
/* Same configuration: the same name and strategies, and every workload
 * param both have equal. */
bool pb_runkey_same(const struct pb_runkey *a, const struct pb_runkey *b);

/* Whether two workload texts agree on every param both have. diff (may be
 * NULL): each param that does not, comma-separated, as "key a -> b". */
bool pb_runkey_workload_same(const char *a, const char *b, char *diff, size_t difflen);

/* The params of `key` whose value differs in one of `others` with the
 * same name and strategies: what tells it from its siblings in a sweep
 * ("requesters=4, workers=4"), each once, in key order. Others with
 * another name, and `key` itself, are skipped. */
void pb_runkey_distinguishing(const struct pb_runkey *key, const struct pb_runkey *const *others,
                              unsigned nothers, char *out, size_t size);

/* "steady magazine / percpu-mpsc / xchg", then " [lock mcs]" when a lock
 * was chosen, then " [label]" when label is not empty. */
void pb_runkey_format(const struct pb_runkey *key, const char *label, char *out, size_t size);

/* The strategies as people read them: "magazine / global-mutex / xchg",
 * then " [lock mcs]" when lock is neither NULL nor "" (nor "default"). */
void pb_runkey_strategies_text(const char *pool, const char *queue, const char *handoff,
                               const char *lock, char *out, size_t size);

#endif
