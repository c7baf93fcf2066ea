/* Inputs and outputs by name (pb_file.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pb_err.h"
#include "pb_file.h"

static const char *type_name(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a plain file";
}

/* ---- inputs ------------------------------------------------------------------------ */

int pb_file_open_input(const char *path, const char *kind, FILE **f, char *err, size_t errlen)
{
    *f = NULL;
    if (strcmp(path, "-") == 0) {
        *f = stdin;
        return 0;
    }
    /* O_NONBLOCK: opening a FIFO without a writer returns at once (and is
     * refused below) instead of blocking; a regular file ignores it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return pb_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return pb_fail(err, errlen, "%s: cannot open: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pb_fail(err, errlen, "%s: not a regular file but %s (%s, or - for standard input)",
                    path, type_name(st.st_mode), kind);
    }
    FILE *stream = fdopen(fd, "r");
    if (!stream) {
        int e = errno;
        close(fd);
        return pb_fail(err, errlen, "%s: cannot open: %s", path, strerror(e));
    }
    *f = stream;
    return 0;
}

void pb_file_close_input(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

char *pb_file_read_text(const char *path, const char *kind, size_t max, size_t *len, char *err,
                        size_t errlen)
{
    *len = 0;
    if (max == 0)
        max = PB_FILE_MAX_TEXT;
    FILE *f;
    if (pb_file_open_input(path, kind, &f, err, errlen) != 0)
        return NULL;
    /* Read in chunks, never trusting st_size: /proc files say 0, and
     * standard input has none. */
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        pb_file_close_input(f);
        pb_fail(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    for (;;) {
        if (cap - n < 2) {
            if (cap > max) {
                pb_file_close_input(f);
                free(buf);
                pb_fail(err, errlen, "%s: larger than %zu MiB (%s)", path, max >> 20, kind);
                return NULL;
            }
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                pb_file_close_input(f);
                free(buf);
                pb_fail(err, errlen, "%s: out of memory", path);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        /* A NUL byte stops the read at once: /dev/zero on standard input
         * must not fill the memory first. */
        char *nul = memchr(buf + n, '\0', got);
        n += got;
        if (nul) {
            unsigned line = 1;
            for (const char *p = buf; p < nul; p++)
                line += *p == '\n';
            pb_file_close_input(f);
            free(buf);
            pb_fail(err, errlen, "%s:%u: a NUL byte (%s)", path, line, kind);
            return NULL;
        }
        if (n > max) {
            pb_file_close_input(f);
            free(buf);
            pb_fail(err, errlen, "%s: larger than %zu MiB (%s)", path, max >> 20, kind);
            return NULL;
        }
        if (got == 0 || feof(f) || ferror(f))
            break;
    }
    bool bad = ferror(f);
    int e = errno;
    pb_file_close_input(f);
    if (bad) {
        free(buf);
        pb_fail(err, errlen, "%s: cannot read: %s", path, strerror(e ? e : EIO));
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- outputs ----------------------------------------------------------------------- */

/* Runs the writer on f and flushes; the message names `shown`. */
static int write_stream(FILE *f, const char *shown, pb_file_writer write, void *arg, char *err,
                        size_t errlen)
{
    char why[512] = "";
    errno = 0;
    int rc = write(f, arg, why, sizeof why);
    int e = errno;
    if (fflush(f) != 0 || ferror(f)) {
        e = errno ? errno : e;
        rc = -1;
        why[0] = '\0';
    }
    if (rc == 0)
        return 0;
    if (why[0])
        return pb_fail(err, errlen, "%s: %s", shown, why);
    return pb_fail(err, errlen, "%s: cannot write: %s", shown, strerror(e ? e : EIO));
}

/* Writes through an existing node: no O_CREAT or O_TRUNC (a device stays
 * what it is); O_APPEND so that /dev/stdout onto a file opened with >>
 * appends. */
static int append_to(const char *path, pb_file_writer write, void *arg, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return pb_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        return pb_fail(err, errlen, "%s: cannot open: %s", path, strerror(e));
    }
    int rc = write_stream(f, path, write, arg, err, errlen);
    if (fclose(f) != 0 && rc == 0)
        rc = pb_fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return rc;
}

/* A target that is not a regular file: a character device or a FIFO is
 * written where it is (a FIFO without a reader blocks the open until one
 * comes, as with any Unix tool writing to it); anything else is refused. */
static int write_through(const char *path, const struct stat *st, pb_file_writer write,
                         void *arg, char *err, size_t errlen)
{
    if (S_ISDIR(st->st_mode))
        return pb_fail(err, errlen, "%s: is a directory (name a file to write)", path);
    if (!S_ISCHR(st->st_mode) && !S_ISFIFO(st->st_mode))
        return pb_fail(err, errlen, "%s: is %s; refusing to write over it", path,
                    type_name(st->st_mode));
    return append_to(path, write, arg, err, errlen);
}

/* Removes NAME.tmp.<pid> in dir for pids that are gone: what a killed
 * writer of the same target left. A live pid (ours included: the caller
 * replaces its own) keeps its file, and only regular files go. A process
 * of another pid namespace writing the same target beside us is not
 * seen as alive; sharing an output across containers is not supported. */
static void remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t blen = strlen(base);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (strncmp(name, base, blen) != 0 || strncmp(name + blen, ".tmp.", 5) != 0)
            continue;
        const char *digits = name + blen + 5;
        size_t nd = strspn(digits, "0123456789");
        if (nd == 0 || nd > 9 || digits[nd] != '\0')
            continue;
        long pid = strtol(digits, NULL, 10);
        if (pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            (void)unlinkat(dirfd(d), name, 0);
    }
    closedir(d);
}

/* Makes the rename durable: fsync of the directory. Best effort (some
 * file systems refuse to fsync a directory). */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* target: the file to replace (a link already resolved); shown: the name
 * the user gave, for messages. old: the target's mode when it exists. */
static int write_atomic(const char *target, const char *shown, const struct stat *old,
                        pb_file_writer write, void *arg, char *err, size_t errlen)
{
    size_t tlen = strlen(target);
    char *dir = malloc(tlen + 3), *tmp = malloc(tlen + 32);
    if (!dir || !tmp) {
        free(dir);
        free(tmp);
        return pb_fail(err, errlen, "%s: out of memory", shown);
    }
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    if (!slash)
        snprintf(dir, tlen + 3, ".");
    else if (slash == target)
        snprintf(dir, tlen + 3, "/");
    else
        snprintf(dir, tlen + 3, "%.*s", (int)(slash - target), target);
    snprintf(tmp, tlen + 32, "%s.tmp.%ld", target, (long)getpid());
    remove_stale(dir, base);

    int rc = -1;
    /* A leftover of a crashed process that had our pid: ours to replace.
     * O_EXCL | O_NOFOLLOW: never write through a link planted there. */
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        pb_fail(err, errlen, "%s: cannot create the temporary file %s beside it (a file is "
                "replaced by renaming a new one over it): %s", shown, tmp, strerror(errno));
        goto out;
    }
    /* The new file keeps the permissions of the one it replaces. */
    if (old)
        (void)fchmod(fd, old->st_mode & 07777);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        pb_fail(err, errlen, "%s: cannot create %s: %s", shown, tmp, strerror(errno));
        close(fd);
        (void)unlink(tmp);
        goto out;
    }
    if (write_stream(f, shown, write, arg, err, errlen) != 0) {
        fclose(f);
        (void)unlink(tmp);
        goto out;
    }
    if (fsync(fd) != 0) {
        pb_fail(err, errlen, "%s: cannot sync %s: %s", shown, tmp, strerror(errno));
        fclose(f);
        (void)unlink(tmp);
        goto out;
    }
    if (fclose(f) != 0) {
        pb_fail(err, errlen, "%s: cannot write %s: %s", shown, tmp, strerror(errno));
        (void)unlink(tmp);
        goto out;
    }
    if (rename(tmp, target) != 0) {
        pb_fail(err, errlen, "%s: cannot rename %s to it: %s", shown, tmp, strerror(errno));
        (void)unlink(tmp);
        goto out;
    }
    sync_dir(dir);
    rc = 0;
out:
    free(dir);
    free(tmp);
    return rc;
}

/* /dev/stdout, /dev/fd/N and the like name an open file of this process:
 * written through even when it is a regular file, since replacing the
 * file behind the shell's redirection would lose what it holds (>>). */
static bool names_an_fd(const char *path)
{
    return strcmp(path, "/dev/stdout") == 0 || strcmp(path, "/dev/stderr") == 0 ||
           strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0;
}

int pb_file_write(const char *path, pb_file_writer write, void *arg, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0)
        return write_stream(stdout, "stdout", write, arg, err, errlen);
    if (!path[0])
        return pb_fail(err, errlen, "an empty file name");
    struct stat lst, st;
    if (lstat(path, &lst) != 0) {
        if (errno != ENOENT)
            return pb_fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return write_atomic(path, path, NULL, write, arg, err, errlen);
    }
    if (!S_ISLNK(lst.st_mode)) {
        if (S_ISREG(lst.st_mode))
            return write_atomic(path, path, &lst, write, arg, err, errlen);
        return write_through(path, &lst, write, arg, err, errlen);
    }
    /* A symbolic link: what it points to decides, and a regular file is
     * replaced where it lies (the link stays a link). */
    if (stat(path, &st) != 0)
        return pb_fail(err, errlen, "%s: a symbolic link to a missing file (%s)", path,
                    strerror(errno));
    if (!S_ISREG(st.st_mode))
        return write_through(path, &st, write, arg, err, errlen);
    if (names_an_fd(path))
        return append_to(path, write, arg, err, errlen);
    char *real = realpath(path, NULL);
    if (!real)
        return pb_fail(err, errlen, "%s: cannot resolve the link: %s", path, strerror(errno));
    int rc = write_atomic(real, path, &st, write, arg, err, errlen);
    free(real);
    return rc;
}

bool pb_same_file(const char *out, const char *in)
{
    struct stat so, si;
    return out && in && stat(out, &so) == 0 && S_ISREG(so.st_mode) && stat(in, &si) == 0 &&
           so.st_dev == si.st_dev && so.st_ino == si.st_ino;
}
