/* pb_file.h: inputs are regular files or '-', outputs replace regular
 * files atomically and never replace anything else. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pb_file.h"

static char dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/pb-file-test.XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void)
{
    if (dir[0])
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(file, .init = make_dir, .fini = remove_dir);

static const char *in_dir(const char *name)
{
    static char paths[4][256];
    static unsigned next;
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

static char *get(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Writes arg (a string) and succeeds. */
static int write_text(FILE *out, void *arg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return fputs(arg, out) < 0 ? -1 : 0;
}

/* Writes half a document, then fails with its own message. */
static int write_then_fail(FILE *out, void *arg, char *err, size_t errlen)
{
    fputs(arg, out);
    fflush(out);
    snprintf(err, errlen, "the writer gave up");
    return -1;
}

static unsigned count_tmp(void)
{
    unsigned n = 0;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -a %s", dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[256];
    while (fgets(line, sizeof line, p))
        n += strstr(line, ".tmp.") != NULL;
    pclose(p);
    return n;
}

/* A pid that certainly names no process: a child that has exited and
 * been reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    cr_assert(kill(pid, 0) != 0 && errno == ESRCH);
    return pid;
}

/* ---- outputs --------------------------------------------------------------------- */

Test(file, a_regular_file_is_replaced_whole_keeping_its_mode)
{
    const char *path = in_dir("out.txt");
    put(path, "old old old old old old old old old\n");
    cr_assert_eq(chmod(path, 0640), 0);
    struct stat before, after;
    cr_assert_eq(stat(path, &before), 0);
    char err[512] = "";
    cr_assert_eq(pb_file_write(path, write_text, "new\n", err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(get(path), "new\n");
    cr_assert_eq(stat(path, &after), 0);
    cr_expect_neq(after.st_ino, before.st_ino, "replaced by rename, not rewritten in place");
    cr_expect_eq(after.st_mode & 07777, 0640);
    cr_expect_eq(count_tmp(), 0);
    /* A new file too. */
    cr_assert_eq(pb_file_write(in_dir("fresh.txt"), write_text, "x", err, sizeof err), 0, "%s",
                 err);
    cr_expect_str_eq(get(in_dir("fresh.txt")), "x");
}

Test(file, a_failed_write_leaves_the_old_file_and_no_temporary)
{
    const char *path = in_dir("out.txt");
    put(path, "the old document\n");
    char err[512] = "", want[400];
    cr_expect_eq(pb_file_write(path, write_then_fail, "half of the new", err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: the writer gave up", path);
    cr_expect_str_eq(err, want);
    cr_expect_str_eq(get(path), "the old document\n");
    cr_expect_eq(count_tmp(), 0);
    /* A missing directory: a message, nothing made. */
    cr_expect_eq(pb_file_write(in_dir("no/such/out.txt"), write_text, "x", err, sizeof err), -1);
    cr_expect(strstr(err, "No such file or directory") != NULL, "%s", err);
}

Test(file, temporaries_of_dead_writers_are_removed)
{
    pid_t gone = dead_pid();
    char stale[64], other[64], odd[64], mine[64];
    snprintf(stale, sizeof stale, "out.txt.tmp.%d", (int)gone);
    snprintf(other, sizeof other, "other.txt.tmp.%d", (int)gone);  /* another target's */
    snprintf(odd, sizeof odd, "out.txt.tmp.%dx", (int)gone);        /* not a pid */
    snprintf(mine, sizeof mine, "out.txt.tmp.%d", (int)getppid()); /* a live process */
    put(in_dir(stale), "left by a killed run");
    put(in_dir(other), "x");
    put(in_dir(odd), "x");
    put(in_dir(mine), "x");
    char err[512] = "";
    cr_assert_eq(pb_file_write(in_dir("out.txt"), write_text, "new", err, sizeof err), 0, "%s",
                 err);
    cr_expect_eq(access(in_dir(stale), F_OK), -1, "the dead writer's temporary is still there");
    cr_expect_eq(access(in_dir(other), F_OK), 0);
    cr_expect_eq(access(in_dir(odd), F_OK), 0);
    cr_expect_eq(access(in_dir(mine), F_OK), 0, "a live writer's temporary was removed");
    cr_expect_str_eq(get(in_dir("out.txt")), "new");
}

Test(file, dev_full_fails_cleanly_and_stays_a_device)
{
    struct stat before, after;
    cr_assert_eq(stat("/dev/full", &before), 0);
    cr_assert(S_ISCHR(before.st_mode));
    char err[512] = "";
    cr_expect_eq(pb_file_write("/dev/full", write_text, "data\n", err, sizeof err), -1);
    cr_expect_str_eq(err, "/dev/full: cannot write: No space left on device");
    cr_assert_eq(stat("/dev/full", &after), 0);
    cr_expect(S_ISCHR(after.st_mode), "/dev/full is no longer a character device");
    cr_expect_eq(after.st_ino, before.st_ino);
    cr_expect_eq(after.st_rdev, before.st_rdev);
    cr_expect_eq(pb_file_write("/dev/null", write_text, "data\n", err, sizeof err), 0, "%s", err);
    cr_assert_eq(stat("/dev/null", &after), 0);
    cr_expect(S_ISCHR(after.st_mode), "/dev/null is no longer a character device");
}

struct reader {
    const char *path;
    char got[256];
};

static void *read_fifo(void *arg)
{
    struct reader *r = arg;
    FILE *f = fopen(r->path, "r");
    if (f) {
        size_t n = fread(r->got, 1, sizeof r->got - 1, f);
        r->got[n] = 0;
        fclose(f);
    }
    return NULL;
}

Test(file, a_fifo_is_written_through, .timeout = 10)
{
    const char *path = in_dir("fifo");
    cr_assert_eq(mkfifo(path, 0600), 0, "%s", strerror(errno));
    struct reader r = { .path = path };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, read_fifo, &r), 0);
    char err[512] = "";
    cr_expect_eq(pb_file_write(path, write_text, "through the pipe\n", err, sizeof err), 0, "%s",
                 err);
    pthread_join(t, NULL);
    cr_expect_str_eq(r.got, "through the pipe\n");
    struct stat st;
    cr_assert_eq(lstat(path, &st), 0);
    cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
    cr_expect_eq(count_tmp(), 0);
}

Test(file, a_directory_or_block_device_is_refused)
{
    const char *d = in_dir("adir");
    cr_assert_eq(mkdir(d, 0755), 0);
    char err[512] = "", want[400];
    cr_expect_eq(pb_file_write(d, write_text, "x", err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: is a directory (name a file to write)", d);
    cr_expect_str_eq(err, want);
    struct stat st;
    cr_expect(stat(d, &st) == 0 && S_ISDIR(st.st_mode));
    cr_expect_eq(count_tmp(), 0);
    /* A block device would be a disk: never written. */
    const char *b = in_dir("blk");
    if (mknod(b, S_IFBLK | 0600, makedev(7, 200)) != 0)
        cr_skip_test("cannot make a block device node here (not root?): %s", strerror(errno));
    cr_expect_eq(pb_file_write(b, write_text, "x", err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: is a block device; refusing to write over it", b);
    cr_expect_str_eq(err, want);
    cr_expect(lstat(b, &st) == 0 && S_ISBLK(st.st_mode));
}

Test(file, a_link_stays_a_link)
{
    const char *target = in_dir("real.txt"), *link = in_dir("link.txt");
    put(target, "old");
    cr_assert_eq(symlink("real.txt", link), 0);
    char err[512] = "";
    cr_assert_eq(pb_file_write(link, write_text, "new", err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(lstat(link, &st), 0);
    cr_expect(S_ISLNK(st.st_mode), "the link was replaced by a file");
    cr_expect_str_eq(get(target), "new");
    cr_expect_eq(count_tmp(), 0);
    /* A link to nothing: refused, left as it is. */
    const char *dangling = in_dir("dangling");
    cr_assert_eq(symlink("nowhere/at/all", dangling), 0);
    cr_expect_eq(pb_file_write(dangling, write_text, "x", err, sizeof err), -1);
    cr_expect(strstr(err, "a symbolic link to a missing file") != NULL, "%s", err);
    cr_expect(lstat(dangling, &st) == 0 && S_ISLNK(st.st_mode));
    /* A link to a device is written through. */
    const char *full = in_dir("full");
    cr_assert_eq(symlink("/dev/full", full), 0);
    cr_expect_eq(pb_file_write(full, write_text, "x", err, sizeof err), -1);
    cr_expect(strstr(err, "No space left on device") != NULL, "%s", err);
    cr_expect(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
}

Test(file, dash_is_stdout_and_dev_stdout_appends)
{
    const char *path = in_dir("stdout.txt");
    put(path, "before\n");
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    fflush(stdout);
    cr_assert_eq(dup2(fd, 1), 1);
    close(fd);
    char err[512] = "";
    cr_assert_eq(pb_file_write("-", write_text, "dash\n", err, sizeof err), 0, "%s", err);
    /* As `pendbench ... -o /dev/stdout >> file`: appended, not replaced. */
    cr_assert_eq(pb_file_write("/dev/stdout", write_text, "dev\n", err, sizeof err), 0, "%s",
                 err);
    cr_expect_str_eq(get(path), "before\ndash\ndev\n");
    cr_expect_eq(count_tmp(), 0);
    /* stdout on /dev/full: the error names stdout. */
    fd = open("/dev/full", O_WRONLY);
    cr_assert_eq(dup2(fd, 1), 1);
    close(fd);
    cr_expect_eq(pb_file_write("-", write_text, "x\n", err, sizeof err), -1);
    cr_expect_str_eq(err, "stdout: cannot write: No space left on device");
    clearerr(stdout);
}

/* ---- inputs ---------------------------------------------------------------------- */

Test(file, inputs_are_regular_files_or_dash, .timeout = 10)
{
    FILE *f;
    char err[512] = "", want[400];
    const char *fifo = in_dir("fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    /* No writer: the open must not block. */
    cr_expect_eq(pb_file_open_input(fifo, "a test input is text", &f, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s: not a regular file but a FIFO (a test input is text, or - for standard input)",
             fifo);
    cr_expect_str_eq(err, want);
    cr_expect_null(f);
    cr_expect_eq(pb_file_open_input("/dev/zero", "text", &f, err, sizeof err), -1);
    cr_expect_str_eq(err, "/dev/zero: not a regular file but a character device (text, or - for "
                          "standard input)");
    cr_expect_eq(pb_file_open_input(dir, "text", &f, err, sizeof err), -1);
    cr_expect(strstr(err, "not a regular file but a directory") != NULL, "%s", err);
    cr_expect_eq(pb_file_open_input(in_dir("missing"), "text", &f, err, sizeof err), -1);
    cr_expect(strstr(err, "missing: cannot open: No such file or directory") != NULL, "%s", err);
    cr_assert_eq(pb_file_open_input("-", "text", &f, err, sizeof err), 0, "%s", err);
    cr_expect_eq(f, stdin);
    pb_file_close_input(f);
    cr_expect_neq(fcntl(0, F_GETFD), -1, "standard input was closed");
}

Test(file, read_text_names_the_line_of_a_nul_and_caps_the_size)
{
    const char *path = in_dir("t.txt");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite("one\ntwo\nth\0ree\n", 1, 15, f);
    fclose(f);
    size_t len = 99;
    char err[512] = "", want[400];
    cr_expect_null(pb_file_read_text(path, "text", 0, &len, err, sizeof err));
    snprintf(want, sizeof want, "%s:3: a NUL byte (text)", path);
    cr_expect_str_eq(err, want);
    cr_expect_eq(len, 0);
    put(path, "0123456789\n");
    cr_expect_null(pb_file_read_text(path, "text", 10, &len, err, sizeof err));
    cr_expect(strstr(err, "larger than") != NULL, "%s", err);
    char *text = pb_file_read_text(path, "text", 11, &len, err, sizeof err);
    cr_assert_not_null(text, "%s", err);
    cr_expect_str_eq(text, "0123456789\n");
    cr_expect_eq(len, 11);
    free(text);
    /* st_size is 0 for /proc files: read to the end all the same. */
    text = pb_file_read_text("/proc/self/status", "text", 0, &len, err, sizeof err);
    cr_assert_not_null(text, "%s", err);
    cr_expect(strstr(text, "Pid:") != NULL);
    cr_expect_eq(strlen(text), len);
    free(text);
}

/* /dev/zero on standard input stops at the first byte, not at the memory's
 * end. */
Test(file, nul_on_standard_input_stops_at_once, .timeout = 10)
{
    cr_assert_not_null(freopen("/dev/zero", "r", stdin));
    size_t len;
    char err[512] = "";
    cr_expect_null(pb_file_read_text("-", "text", 0, &len, err, sizeof err));
    cr_expect_str_eq(err, "-:1: a NUL byte (text)");
}
