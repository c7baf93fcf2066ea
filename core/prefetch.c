/* pb_cpu_has_prefetchw (pb_prefetch.h): read from CPUID before main. */
#include "pb_prefetch.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

bool pb_cpu_has_prefetchw;

__attribute__((constructor)) static void detect_prefetchw(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    /* Extended leaf 0x80000001, ECX bit 8: PREFETCHW (AMD's
     * 3DNowPrefetch, Intel's PRFCHW). */
    if (__get_cpuid(0x80000001u, &a, &b, &c, &d))
        pb_cpu_has_prefetchw = (c >> 8) & 1u;
#endif
}
