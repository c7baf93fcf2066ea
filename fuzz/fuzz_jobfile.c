/* The job-file loader (workloads/jobfile.c through inih): any bytes give
 * jobs or one message, never a crash, a hang or a leak. */
#include <string.h>

#include "fuzz_common.h"
#include "pb_scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64], err[1024];
    /* A '/' may make a strategy value a plugin path that pendbench would
     * dlopen: the fuzzer must not load whatever shared object it names. */
    if (memchr(data, '/', size))
        return 0;
    fuzz_file(data, size, path, sizeof path);
    struct pb_scenario *jobs = NULL;
    int n = pb_jobfile_load(path, NULL, &jobs, err, sizeof err);
    if (n < 0 && !err[0])
        abort();                        /* an error must say what it is */
    for (int i = 0; i < n; i++) {
        char summary[512];
        pb_scenario_summary(&jobs[i], summary, sizeof summary);
    }
    free(jobs);
    return 0;
}
