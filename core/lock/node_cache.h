/* Private to core/lock: CLH queue nodes, for `clh` and `ck-clh`.
 *
 * A CLH waiter spins on its predecessor's node, and the node it brought
 * must outlive its unlock (its successor still reads it), so it cannot
 * live in the holder's stack frame (struct pb_lock_hold). CLH nodes are
 * fungible, though: after an acquisition the predecessor's node belongs
 * to the new holder. So each thread keeps a free list of nodes; a lock
 * takes one from it and gives the predecessor's back, and the number of
 * nodes a thread owns stays what it had (one per CLH lock it holds at
 * once, plus its spares).
 *
 * A node is one cache line (cache-line aligned), the same size for both
 * locks, so one list serves both. The lock's fields come first; the last
 * pointer-sized word is the list's link, written only while the node
 * sits in a free list.
 *
 * Lifetime: a thread's spares are freed when it exits (a pthread key
 * destructor); a lock's own node (the tail while it is free) by its fini.
 * The main thread runs no key destructors: its spares stay reachable from
 * its thread-local list head until the process ends. Nothing here is
 * shared between threads: ownership of a node passes between threads only
 * through the locks' own release/acquire. */
#ifndef PB_LOCK_NODE_CACHE_H
#define PB_LOCK_NODE_CACHE_H

#include <stddef.h>

#include "pb_strategy.h"

#define PB_LOCK_NODE_SIZE PB_CACHE_LINE
/* Bytes of a node the lock may use: the rest is the free list's link. */
#define PB_LOCK_NODE_USABLE (PB_LOCK_NODE_SIZE - sizeof(void *))

/* A node for lock(): this thread's spare or a new one. A lock cannot fail,
 * so a refused allocation ends the process with a message. */
void *pb_lock_node_get(void);
/* A node that now belongs to this thread becomes its spare. */
void pb_lock_node_put(void *node);
/* A node for a lock's own use (init): NULL when memory is refused. */
void *pb_lock_node_new(void);
/* Frees a node no one else can reach (fini: the free lock's tail). */
void pb_lock_node_free(void *node);

#endif
