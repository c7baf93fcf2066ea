/* lock `cohort`: a NUMA-aware lock by lock cohorting (Dice, Marathe and
 * Shavit, "Lock Cohorting: A General Technique for Designing NUMA Locks",
 * PPoPP 2012): C-TKT-TKT, a global ticket lock plus one local ticket lock
 * per NUMA node.
 *
 * A thread takes its node's local lock first, then the global lock -
 * unless the local lock came with the global one: a holder that sees
 * another thread of its node waiting (a later local ticket) releases only
 * the local lock and leaves the global lock to that thread ("passes it
 * within the cohort"). So the lock, and the lines its sections write, stay
 * on one node for a batch of sections, and only one thread per node at a
 * time waits on the global lock. A batch ends after PASS_LIMIT passes, or
 * when no one of the node waits: then the holder releases the global lock
 * and its local one, and the global lock goes to the next node in its
 * FIFO order. Ticket locks fit both roles: the global one may be released
 * by another thread than the one that took it (the paper's "thread
 * oblivious"), and the local one tells whether anyone waits (a ticket was
 * taken after the holder's).
 *
 * The caller's node is pb_thread_node (set by whoever pins the thread); a
 * node >= cfg->nnodes (a plan with fewer nodes than the machine, a thread
 * never pinned elsewhere) maps onto node % nnodes: still exclusive, only
 * less local.
 *
 * State: `size` bytes: the global ticket word on its own line (written at
 * every global handover), then a line of read-only fields: nnodes,
 * may_yield, the array of per-node pointers and the memory hooks. The
 * per-node locals are allocated by init, one line each on a cpu of that
 * node (cfg->mem: pb_mem_alloc), and freed by fini: { local ticket word, global_held,
 * passes, global_ticket }. global_held, passes and global_ticket are plain:
 * only the local lock's holder touches them, and the local lock's
 * release/acquire orders them from one holder to the next.
 *
 * Memory orders: those of the two ticket locks (ticket_word.h: take and
 * wait acquire, unlock release). Sections on one node are ordered by the
 * local lock's handover, sections across nodes by the global lock's (the
 * last holder of a batch releases the global lock after its section).
 *
 * Fairness: FIFO among the threads of a node and among nodes, but not
 * overall (a node keeps the lock for up to PASS_LIMIT sections while
 * another waits): bounded unfairness, traded for locality.
 *
 * Trylock: the local lock by trylock, then, unless it came with the
 * global one, the global lock by trylock; failing that, the local lock is
 * released again (its next waiter will take the global lock itself).
 *
 * Flags: NUMA, TRYLOCK. Waits: pb_backoff, yielding per may_yield. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "pb_lock.h"
#include "ticket_word.h"

/* Sections in a row within one node before the global lock is let go. */
#define PASS_LIMIT 64u
/* More nodes than this is a configuration error (EINVAL), not a machine. */
#define MAX_NODES 1024u

struct cohort_node {
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t local;
    bool global_held;              /* the local lock's holder has the global lock too */
    unsigned passes;               /* local handovers that kept the global lock */
    uint32_t global_ticket;        /* to release the global lock (by whoever holds the local one) */
};

struct cohort {
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t global;
    _Alignas(PB_CACHE_LINE) struct cohort_node **nodes;  /* [nnodes], read-only after init */
    unsigned nnodes;
    bool may_yield;
    struct pb_mem_hooks mem;
};

struct cohort_hold {
    struct cohort_node *node;      /* the node whose local lock is held */
    uint32_t local_ticket;
};
_Static_assert(sizeof(struct cohort_hold) <= sizeof(struct pb_lock_hold), "fits the hold");

/* A planned cpu of node n, to allocate its local lock there; cpu 0 when
 * the plan has none on it. */
static unsigned cpu_of_node(const struct pb_lock_config *cfg, unsigned n)
{
    if (!cfg->mem.node_of_cpu)
        return 0;
    for (unsigned c = 0; c < cfg->ncpus; c++)
        if (cfg->mem.node_of_cpu[c] == n)
            return c;
    return 0;
}

static void cohort_fini(void *lock)
{
    struct cohort *l = lock;
    for (unsigned i = 0; l->nodes && i < l->nnodes; i++)
        if (l->nodes[i])
            pb_mem_free(&l->mem, l->nodes[i], sizeof *l->nodes[i]);
    free(l->nodes);
    l->nodes = NULL;
}

static int cohort_init(void *lock, const struct pb_lock_config *cfg)
{
    struct cohort *l = lock;
    if (cfg->nnodes < 1 || cfg->nnodes > MAX_NODES)
        return -EINVAL;
    l->nnodes = cfg->nnodes;
    l->may_yield = cfg->may_yield;
    l->mem = cfg->mem;
    atomic_init(&l->global, 0);
    /* The pointers are read by every node (read-only, shared); each local
     * lock lives on its own node. */
    l->nodes = calloc(cfg->nnodes, sizeof *l->nodes);
    if (!l->nodes)
        return -ENOMEM;
    for (unsigned i = 0; i < cfg->nnodes; i++) {
        struct cohort_node *n = pb_mem_alloc(&l->mem, cpu_of_node(cfg, i), sizeof *n);
        if (!n) {
            cohort_fini(l);
            return -ENOMEM;
        }
        atomic_init(&n->local, 0);
        n->global_held = false;
        n->passes = 0;
        n->global_ticket = 0;
        l->nodes[i] = n;
    }
    return 0;
}

static struct cohort_node *my_node(struct cohort *l)
{
    unsigned n = pb_thread_node;
    return l->nodes[n < l->nnodes ? n : n % l->nnodes];
}

static void cohort_lock(void *lock, struct pb_lock_hold *h)
{
    struct cohort *l = lock;
    struct cohort_hold *ch = (struct cohort_hold *)h;
    struct cohort_node *n = my_node(l);
    uint64_t old = pb_ticket_take(&n->local);
    pb_ticket_wait(&n->local, old, l->may_yield);
    ch->node = n;
    ch->local_ticket = pb_ticket_next(old);
    if (n->global_held)
        return;                    /* passed to us within the node */
    old = pb_ticket_take(&l->global);
    pb_ticket_wait(&l->global, old, l->may_yield);
    n->global_ticket = pb_ticket_next(old);
}

static bool cohort_trylock(void *lock, struct pb_lock_hold *h)
{
    struct cohort *l = lock;
    struct cohort_hold *ch = (struct cohort_hold *)h;
    struct cohort_node *n = my_node(l);
    if (!pb_ticket_try(&n->local, &ch->local_ticket))
        return false;
    ch->node = n;
    if (n->global_held || pb_ticket_try(&l->global, &n->global_ticket))
        return true;
    pb_ticket_unlock(&n->local, ch->local_ticket);   /* global_held stays false */
    return false;
}

static void cohort_unlock(void *lock, struct pb_lock_hold *h)
{
    struct cohort *l = lock;
    struct cohort_hold *ch = (struct cohort_hold *)h;
    struct cohort_node *n = ch->node;
    if (n->passes < PASS_LIMIT && pb_ticket_has_waiters(&n->local, ch->local_ticket)) {
        n->passes++;
        n->global_held = true;     /* published to the next local holder by the local release */
        pb_ticket_unlock(&n->local, ch->local_ticket);
        return;
    }
    n->passes = 0;
    n->global_held = false;
    pb_ticket_unlock(&l->global, n->global_ticket);
    pb_ticket_unlock(&n->local, ch->local_ticket);
}

const struct pb_lock_ops pb_lock_cohort = {
    .name = "cohort",
    .description = "NUMA cohort lock (C-TKT-TKT): a global ticket lock passed within a node "
                   "for up to 64 sections",
    .flags = PB_IN_SUITE | PB_LOCK_NUMA | PB_LOCK_TRYLOCK,
    .size = sizeof(struct cohort),
    .init = cohort_init,
    .fini = cohort_fini,
    .lock = cohort_lock,
    .trylock = cohort_trylock,
    .unlock = cohort_unlock,
};
