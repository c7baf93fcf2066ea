/* A synthetic topology description (--topology): pendbench's size cap,
 * then hwloc's parser, then every placement on what loads. The cap must
 * keep each input fast (libFuzzer's -timeout catches one that is not). */
#include "fuzz_common.h"
#include "fuzz_topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *desc = fuzz_string(data, size);
    struct pb_topo *t = NULL;
    char err[1024] = "";
    if (pb_topo_load(&t, PB_TOPO_SYNTHETIC, desc, err, sizeof err) == 0) {
        fuzz_plan_all(t);
        pb_topo_free(t);
    } else if (!err[0]) {
        abort();
    }
    free(desc);
    return 0;
}
