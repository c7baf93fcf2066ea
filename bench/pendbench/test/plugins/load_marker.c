/* A test library that runs code when it is loaded, as any library may (a
 * constructor): it creates the file named by $PB_TEST_LOAD_MARKER. It is
 * no plugin (no pendbench_plugin symbol): loading it is what is tested.
 * Reading a result file whose params name it by its path ran this code. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "pendbench_plugin.h"

__attribute__((constructor)) static void mark_loaded(void)
{
    const char *path = getenv("PB_TEST_LOAD_MARKER");
    int fd = path ? open(path, O_WRONLY | O_CREAT, 0600) : -1;
    if (fd >= 0)
        close(fd);
}
