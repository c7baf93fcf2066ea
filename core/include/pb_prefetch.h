/* An exclusive prefetch: ask for a line in the state a store needs, so
 * that the store later finds it owned instead of upgrading it then.
 *
 * Why not __builtin_prefetch(p, 1): on x86-64 GCC and clang emit PREFETCHW
 * for it only when built for a CPU that has it (-mprfchw, or an -march
 * that implies it); a generic build gets PREFETCHT0, a read prefetch. A
 * line another CPU wrote then arrives shared, and the first store to it
 * waits for the other copies to be invalidated: a transfer's time, paid
 * where the store drains (at the next locked RMW, inside the measured
 * path), not during the prefetch. PREFETCHW is CPUID.80000001H:ECX[8];
 * pb_prefetch_excl uses it where the CPU reports it, else the builtin. */
#ifndef PB_PREFETCH_H
#define PB_PREFETCH_H

#include <stdbool.h>

/* Set once at start-up (core/prefetch.c, in libcore), read-only
 * afterwards. For the core and the run engine: a plugin does not see the
 * host's symbols, so it cannot use this header.
 *
 * Exclusive only where the line will be written by this CPU and nobody
 * else is still writing it: a line taken early from a CPU that goes on
 * writing it moves one extra time. */
extern bool pb_cpu_has_prefetchw;

static inline void pb_prefetch_excl(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    if (pb_cpu_has_prefetchw) {
        /* The address as a register, not a memory operand: nothing is
         * read, and p may be any address (a prefetch never faults). */
        __asm__ volatile("prefetchw (%0)" : : "r"(p));
        return;
    }
#endif
    __builtin_prefetch(p, 1);
}

#endif
