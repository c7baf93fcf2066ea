/* CLH queue nodes: each thread's free list (node_cache.h says why). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "node_cache.h"

struct spare {
    unsigned char lock_part[PB_LOCK_NODE_USABLE];
    struct spare *next;            /* the last word: the lock never writes it */
};
_Static_assert(sizeof(struct spare) == PB_LOCK_NODE_SIZE, "a node is one line");

static _Thread_local struct spare *spares;   /* this thread's free list */
static _Thread_local int registered;         /* the key holds &spares */
static pthread_key_t spares_key;
static pthread_once_t spares_once = PTHREAD_ONCE_INIT;
static int key_error;

/* At thread exit: arg is the exiting thread's &spares. */
static void free_spares(void *arg)
{
    struct spare **head = arg;
    while (*head) {
        struct spare *s = *head;
        *head = s->next;
        free(s);
    }
    registered = 0;                /* a later get in this thread registers again */
}

static void make_key(void)
{
    key_error = pthread_key_create(&spares_key, free_spares);
}

/* Arms the exit destructor for this thread's list. Without a key (none
 * left) the spares of exiting threads are leaked, not lost track of
 * silently: say so once. */
static void register_thread(void)
{
    pthread_once(&spares_once, make_key);
    if (key_error || pthread_setspecific(spares_key, &spares) != 0) {
        static _Atomic int said;
        if (!atomic_exchange_explicit(&said, 1, memory_order_relaxed))
            fprintf(stderr, "pendbench: lock nodes: no pthread key for the per-thread "
                            "node lists; exiting threads keep theirs\n");
        return;
    }
    registered = 1;
}

void *pb_lock_node_new(void)
{
    return aligned_alloc(PB_CACHE_LINE, PB_LOCK_NODE_SIZE);
}

void pb_lock_node_free(void *node)
{
    free(node);
}

void *pb_lock_node_get(void)
{
    struct spare *s = spares;
    if (s) {
        spares = s->next;
        return s;
    }
    void *n = pb_lock_node_new();
    if (!n) {
        fprintf(stderr, "pendbench: lock: out of memory for a CLH queue node\n");
        abort();
    }
    return n;
}

void pb_lock_node_put(void *node)
{
    if (!registered)
        register_thread();
    struct spare *s = node;
    s->next = spares;
    spares = s;
}
