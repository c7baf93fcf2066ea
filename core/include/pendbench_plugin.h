/* Bring your own strategy: a pool, queue, handoff or lock built as a
 * shared object and given to pendbench by path (`--queue ./my_queue.so`,
 * `--lock ./my_lock.so`, a job file's `queue = ./my_queue.so`, a sweep
 * list, `pendbench-micro --plugin`).
 *
 * A plugin is one C file that fills a `struct pb_pool_ops`,
 * `pb_queue_ops`, `pb_handoff_ops` (pb_strategy.h) or `pb_lock_ops`
 * (pb_lock.h: the contract of each operation is written there) and
 * exports it with one of the macros below. It may use the C library,
 * pthreads and the inline helpers of pb_strategy.h and pb_tsc.h
 * (pb_cpu_relax), nothing else of pendbench: so a plugin pool, queue or
 * handoff takes no lock of the kind (its ops' `lock` is NULL), while a
 * plugin lock is taken by every lock-based built-in strategy it fits.
 * Build it with the one command of the README ("Bring your own
 * strategy"), e.g.
 *
 *   cc -std=c11 -O2 -fPIC -shared -Icore/include -o my_queue.so my_queue.c
 *
 * At load pendbench checks the ABI version and the size of the ops table
 * (a plugin built against another pendbench is refused, never run), the
 * kind, the name (its own, of ASCII letters, digits, '-' and '_'), and
 * that no operation is NULL; each failure is a clear message and exit
 * status 2. A plugin then gets what a built-in gets: `pendbench stress`
 * runs its exactly-once, FIFO (when its flags promise it) and leak checks,
 * run and sweep measure it. */
#ifndef PENDBENCH_PLUGIN_H
#define PENDBENCH_PLUGIN_H

#include <stdint.h>

#include "pb_lock.h"
#include "pb_strategy.h"

/* Bumped whenever pb_strategy.h's or pb_lock.h's ops tables or their
 * contract change. 2: the ops tables name their lock (lock, lock_needs),
 * handoff init takes a config, locks are a kind. */
#define PB_PLUGIN_ABI_VERSION 2u

/* A plugin's name (its ops table's) is shorter than this, made of ASCII
 * letters, digits, '-' and '_' (as the built-ins' names are: it reaches
 * terminals, lists and result files), and is neither a built-in's nor
 * another loaded plugin's: runs, tables and result files name it so. */
#define PB_PLUGIN_NAME_MAX 48

/* The symbol pendbench looks up. */
#define PB_PLUGIN_SYMBOL "pendbench_plugin"

enum pb_plugin_kind {
    PB_PLUGIN_ANY = 0,
    PB_PLUGIN_POOL = 1,
    PB_PLUGIN_QUEUE = 2,
    PB_PLUGIN_HANDOFF = 3,
    PB_PLUGIN_LOCK = 4,
};

struct pb_plugin {
    uint32_t abi_version;          /* PB_PLUGIN_ABI_VERSION when it was built */
    uint32_t kind;                 /* enum pb_plugin_kind */
    uint32_t ops_size;             /* sizeof its ops table when it was built */
    const void *ops;               /* the struct pb_{pool,queue,handoff,lock}_ops */
};

#define PB_PLUGIN_EXPORT_(k, type, ops_var)                                               \
    __attribute__((visibility("default"))) const struct pb_plugin pendbench_plugin = {   \
        PB_PLUGIN_ABI_VERSION, k, (uint32_t)sizeof(type), &(ops_var)                     \
    }
#define PB_PLUGIN_POOL(ops_var) PB_PLUGIN_EXPORT_(PB_PLUGIN_POOL, struct pb_pool_ops, ops_var)
#define PB_PLUGIN_QUEUE(ops_var) PB_PLUGIN_EXPORT_(PB_PLUGIN_QUEUE, struct pb_queue_ops, ops_var)
#define PB_PLUGIN_HANDOFF(ops_var) \
    PB_PLUGIN_EXPORT_(PB_PLUGIN_HANDOFF, struct pb_handoff_ops, ops_var)
#define PB_PLUGIN_LOCK(ops_var) PB_PLUGIN_EXPORT_(PB_PLUGIN_LOCK, struct pb_lock_ops, ops_var)

/* ---- pendbench's side ---------------------------------------------------- */

/* A strategy value that names a plugin rather than a built-in: it
 * contains a '/' or ends in ".so". */
int pb_plugin_is_path(const char *value);

/* Loads the plugin at path as a strategy of that kind (PB_PLUGIN_ANY:
 * whichever it is) once (a second call returns the same ops) and checks
 * it. The ops, or NULL with err saying what is wrong (the file, the
 * symbol, the version, the kind, the name, the NULL operation). Loaded
 * plugins stay loaded. */
const void *pb_plugin_load(const char *path, enum pb_plugin_kind kind, char *err, size_t errlen);
/* The kind of a loaded plugin; PB_PLUGIN_ANY when none is loaded from path. */
enum pb_plugin_kind pb_plugin_kind_of(const char *path);
/* The name of the plugin loaded from path (NULL: none). */
const char *pb_plugin_name_of(const char *path);
/* The path, as given, of the i-th plugin loaded (from 0, in load order;
 * each spelling of one file counts), NULL past the last: the files a
 * command has read its strategies from, which no output may replace. */
const char *pb_plugin_path_at(unsigned i);
/* A loaded plugin of that kind, by its name (the registries' pb_*_find
 * use it after their built-ins). */
const void *pb_plugin_find_name(const char *name, enum pb_plugin_kind kind);

#endif
