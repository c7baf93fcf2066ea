/* Shared by the fuzz targets (one .c file each, built by configure.py into
 * build-fuzz/<name> with clang -fsanitize=fuzzer,address,undefined). */
#ifndef PB_FUZZ_COMMON_H
#define PB_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The input as a NUL-terminated string (the parsers take C strings; a NUL
 * inside ends it early, as it would on the command line). Free it. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* The input as a regular file that the loaders open by name: a memfd
 * (regular, in memory, no disk traffic), rewritten for each input and
 * named through /proc/self/fd. Writes its name into path. */
static inline void fuzz_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    static int fd = -1;
    if (fd < 0) {
        fd = memfd_create("pb-fuzz-input", MFD_CLOEXEC);
        if (fd < 0)
            abort();
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
}

#endif
