/* pendbench-micro: CPU placement and names. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "micro.h"

static cpu_set_t allowed;
static unsigned allowed_list[CPU_SETSIZE];
static unsigned n_allowed;

void micro_affinity_init(void)
{
    CPU_ZERO(&allowed);
    n_allowed = 0;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return; /* unknown: never pin */
    for (unsigned c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &allowed))
            allowed_list[n_allowed++] = c;
}

unsigned micro_cpus_allowed(void)
{
    return n_allowed ? n_allowed : 1;
}

unsigned micro_cpu_of(unsigned index)
{
    return n_allowed ? allowed_list[index % n_allowed] : 0;
}

bool micro_pin(unsigned index, struct micro_affinity *saved)
{
    saved->pinned = false;
    if (n_allowed < 2)
        return false;
    if (pthread_getaffinity_np(pthread_self(), sizeof saved->mask, &saved->mask) != 0)
        return false;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(allowed_list[index % n_allowed], &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
        return false;
    saved->pinned = true;
    return true;
}

void micro_unpin(struct micro_affinity *saved)
{
    if (!saved->pinned)
        return;
    saved->pinned = false;
    /* Best effort: a failure leaves the thread pinned, which only narrows
     * where the next benchmark's thread 0 runs. */
    (void)pthread_setaffinity_np(pthread_self(), sizeof saved->mask, &saved->mask);
}

const char *micro_name(const char *kind, const char *strategy, const char *op)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s/%s", kind, strategy, op);
    return buf;
}

/* Every context, for micro_ctx_free_all. */
struct ctx_header {
    struct ctx_header *next;
};
static struct ctx_header *contexts;

void *micro_ctx_new(size_t size)
{
    /* The header takes a whole line so the context stays aligned. */
    char *p = aligned_alloc(PB_CACHE_LINE, PB_CACHE_LINE + (size + PB_CACHE_LINE - 1) / PB_CACHE_LINE * PB_CACHE_LINE);
    if (!p) {
        fprintf(stderr, "pendbench-micro: out of memory\n");
        exit(1);
    }
    memset(p, 0, PB_CACHE_LINE + size);
    struct ctx_header *h = (struct ctx_header *)p;
    h->next = contexts;
    contexts = h;
    return p + PB_CACHE_LINE;
}

void micro_ctx_free_all(void)
{
    while (contexts) {
        struct ctx_header *next = contexts->next;
        free(contexts);
        contexts = next;
    }
}
