/* Shared by the topology fuzz targets. */
#ifndef PB_FUZZ_TOPO_H
#define PB_FUZZ_TOPO_H

#include <stdio.h>
#include <stdlib.h>

#include "pb_topo.h"

const char *__lsan_default_suppressions(void);

/* hwloc 2.9 leaks objects on some of its own XML and synthetic error
 * paths (pendbench destroys every topology it made, and its own
 * allocations stay checked: their stacks hold no hwloc frame). */
const char *__lsan_default_suppressions(void)
{
    return "leak:libhwloc.so\n";
}

/* Plans every placement with a few thread counts on a loaded topology,
 * prints it, frees it; a refusal must say why. */
static inline void fuzz_plan_all(const struct pb_topo *t)
{
    static const unsigned counts[][3] = { { 1, 1, 1 }, { 2, 2, 0 }, { 3, 1, 2 }, { 8, 8, 1 } };
    for (int p = PB_PLACE_COMPACT; p <= PB_PLACE_CROSS_NODE; p++)
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            struct pb_plan plan;
            char err[1024] = "";
            if (pb_plan_make(t, (pb_placement)p, counts[c][0], counts[c][1], counts[c][2], &plan,
                             err, sizeof err) == 0) {
                for (unsigned i = 0; i < plan.nthreads; i++)
                    if (plan.threads[i].pu >= pb_topo_npus(t))
                        abort();        /* a thread on a processor that does not exist */
                pb_plan_free(&plan);
            } else if (!err[0]) {
                abort();
            }
        }
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        pb_topo_print(t, null);
        fclose(null);
    }
}

#endif
