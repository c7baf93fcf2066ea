/* The lock kind's common part (pb_lock.h, pb_lock_use.h): finding a lock
 * by name, placing its state, and the one acquire path that counts each
 * thread's acquisitions and waiting time (its body is inline in
 * pb_lock_use.h, for the strategies' fast paths; how it counts is said
 * there). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_lock.h"
#include "pb_lock_use.h"
#include "pb_tsc.h"
#include "pendbench_plugin.h"

_Thread_local unsigned pb_thread_node;
_Thread_local struct pb_lock_stats pb_lock_stats;

const struct pb_lock_ops *pb_lock_find(const char *name)
{
    if (pb_plugin_is_path(name))     /* a plugin, by its path: loaded on first use */
        return pb_plugin_load(name, PB_PLUGIN_LOCK, NULL, 0);
    for (size_t i = 0; name && pb_locks[i]; i++)
        if (strcmp(pb_locks[i]->name, name) == 0)
            return pb_locks[i];
    return pb_plugin_find_name(name, PB_PLUGIN_LOCK);   /* a loaded plugin, by its name */
}

void pb_lock_acquire(const struct pb_lock_ops *ops, void *state, struct pb_lock_hold *h)
{
    pb_lock_acquire_inline(ops, state, h);
}

void pb_lock_release(const struct pb_lock_ops *ops, void *state, struct pb_lock_hold *h)
{
    pb_lock_release_inline(ops, state, h);
}

/* ---- placing a lock ---------------------------------------------------------- */

/* pb_lock_create's allocation: this header on its own line, the state on
 * the lines after it, so that destroy finds how to free it from the state
 * alone (pb_lock_ref holds only ops and state). */
struct created {
    _Alignas(PB_CACHE_LINE) struct pb_mem_hooks mem;
    size_t bytes;
};

static size_t lines(size_t bytes)
{
    return (bytes + PB_CACHE_LINE - 1) / PB_CACHE_LINE * PB_CACHE_LINE;
}

int pb_lock_create(struct pb_lock_ref *r, const struct pb_lock_ops *ops,
                   const struct pb_lock_config *cfg)
{
    r->ops = NULL;
    r->state = NULL;
    size_t bytes = sizeof(struct created) + lines(ops->size ? ops->size : 1);
    struct created *c = pb_mem_alloc(&cfg->mem, 0, bytes);   /* zeroed, cpu 0's node */
    if (!c)
        return -ENOMEM;
    c->mem = cfg->mem;
    c->bytes = bytes;
    void *state = c + 1;
    int rc = ops->init ? ops->init(state, cfg) : 0;
    if (rc != 0) {
        pb_mem_free(&c->mem, c, bytes);
        return rc;
    }
    r->ops = ops;
    r->state = state;
    return 0;
}

void pb_lock_destroy(struct pb_lock_ref *r)
{
    if (!r->state)
        return;
    if (r->ops->fini)
        r->ops->fini(r->state);
    struct created *c = (struct created *)r->state - 1;
    struct pb_mem_hooks mem = c->mem;
    pb_mem_free(&mem, c, c->bytes);
    r->ops = NULL;
    r->state = NULL;
}

int pb_lock_block_create(struct pb_lock_block *b, const struct pb_lock_ops *ops,
                         const struct pb_lock_config *cfg, unsigned cpu, size_t data_size)
{
    memset(b, 0, sizeof *b);
    size_t off = (ops->size + 7) & ~(size_t)7;
    size_t bytes = lines(off + data_size);
    void *base = pb_mem_alloc(&cfg->mem, cpu, bytes);     /* zeroed, cache-line aligned */
    if (!base)
        return -ENOMEM;
    int rc = ops->init ? ops->init(base, cfg) : 0;
    if (rc != 0) {
        pb_mem_free(&cfg->mem, base, bytes);
        return rc;
    }
    b->ops = ops;
    b->state = base;
    b->data = (char *)base + off;
    b->bytes = bytes;
    b->mem = cfg->mem;
    return 0;
}

void pb_lock_block_destroy(struct pb_lock_block *b)
{
    if (!b->state)
        return;
    if (b->ops->fini)
        b->ops->fini(b->state);
    pb_mem_free(&b->mem, b->state, b->bytes);
    memset(b, 0, sizeof *b);
}

/* ---- choosing and checking ----------------------------------------------------- */

const struct pb_lock_ops *pb_lock_choose(const struct pb_lock_ops *chosen, const char *dflt)
{
    return chosen ? chosen : pb_lock_find(dflt);
}

/* Each capability a strategy may need, as the words of the refusal. */
static const struct {
    unsigned flag;
    const char *missing;
} needs_words[] = {
    { PB_LOCK_TRYLOCK, "it has no trylock" },
    { PB_LOCK_IN_WORD, "it is not an in-word lock (at most 8 bytes of state, free when all "
                       "zero, no init or fini)" },
    { PB_LOCK_PTHREAD, "its state is not a pthread mutex" },
    { PB_LOCK_FIFO, "it does not hand over in arrival order" },
    { PB_LOCK_NUMA, "it is not NUMA-aware" },
    { PB_LOCK_SLEEPS, "its waiters do not sleep" },
};

const char *pb_lock_unfit_why(const struct pb_lock_ops *lock, unsigned needs, char *buf,
                              size_t size)
{
    if (!size)
        return buf;
    buf[0] = '\0';
    if (!lock) {
        snprintf(buf, size, "no such lock");
        return buf;
    }
    size_t used = 0;
    unsigned missing = needs & ~lock->flags;
    for (size_t i = 0; i < sizeof needs_words / sizeof needs_words[0]; i++) {
        if (!(missing & needs_words[i].flag))
            continue;
        int n = snprintf(buf + used, used < size ? size - used : 0, "%s%s", used ? "; " : "",
                         needs_words[i].missing);
        if (n < 0 || used + (size_t)n >= size)
            break;
        used += (size_t)n;
        missing &= ~needs_words[i].flag;
    }
    if (missing && used < size)
        snprintf(buf + used, size - used, "%sit lacks capability bits %#x", used ? "; " : "",
                 missing);
    return buf;
}
