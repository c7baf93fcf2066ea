/* pb_prefetch.h: the PREFETCHW detection agrees with what the kernel read
 * from CPUID (its "3dnowprefetch" flag is CPUID.80000001H:ECX[8], the bit
 * core/prefetch.c reads), and an exclusive prefetch is only a hint. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_prefetch.h"

TestSuite(prefetch, .timeout = 10);

/* True when /proc/cpuinfo's first "flags" line lists `flag`; -1 when it
 * cannot be read (not Linux, no procfs). */
static int cpuinfo_has(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    static char line[16384];
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        found = 0;
        for (char *tok = strtok(strchr(line, ':') + 1, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
            if (strcmp(tok, flag) == 0)
                found = 1;
        break;
    }
    fclose(f);
    return found;
}

Test(prefetch, detection_matches_the_kernels_cpuid_flag)
{
#if defined(__x86_64__) || defined(__i386__)
    int has = cpuinfo_has("3dnowprefetch");
    if (has < 0)
        cr_skip_test("no flags line in /proc/cpuinfo");
    cr_assert_eq(pb_cpu_has_prefetchw, has == 1,
                 "pb_cpu_has_prefetchw is %d, /proc/cpuinfo says 3dnowprefetch %s",
                 pb_cpu_has_prefetchw, has ? "present" : "absent");
#else
    cr_assert(!pb_cpu_has_prefetchw, "PREFETCHW is an x86 instruction");
#endif
}

Test(prefetch, is_a_hint_that_changes_nothing)
{
    /* A prefetch never faults and never writes: one past the end of an
     * object, and into a line that is being read. */
    char *buf = malloc(256);
    cr_assert_not_null(buf);
    memset(buf, 7, 256);
    for (int off = 0; off < 256; off += 64)
        pb_prefetch_excl(buf + off);
    pb_prefetch_excl(buf + 256);
    for (int i = 0; i < 256; i++)
        cr_assert_eq(buf[i], 7);
    free(buf);
}
