/* The context a result was measured in (pb_result.h). Everything here is
 * best effort: a result file is still worth writing when a field cannot be
 * found, so failures read "unknown" instead of failing the run.
 *
 * The build passes its identity as string literals (configure.py does for
 * each variant):
 *   -DPB_BUILD_VARIANT='"release"'  -DPB_BUILD_CFLAGS='"-O2 -g"'
 * and may pin the commit with -DPB_GIT_COMMIT='"abc1234"'. Without that,
 * the commit is asked of git in the directory of the program itself, so a
 * binary run from elsewhere still names the checkout it was built in. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pb_result.h"

#define UNKNOWN "unknown"

/* snprintf that cuts to fit, on purpose (these are labels). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fit(char *dst, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}

static void copy(char *dst, size_t size, const char *src)
{
    fit(dst, size, "%s", src && *src ? src : UNKNOWN);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    if (lead)
        memmove(s, s + lead, n - lead + 1);
}

static void cpu_model(char *out, size_t size)
{
    copy(out, size, NULL);
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        /* x86: "model name"; some other architectures only have "Processor"
         * or "cpu model": take the first that names something. */
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "cpu model", 9) == 0 ||
            strncmp(line, "Processor", 9) == 0) {
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            char *v = colon + 1;
            trim(v);
            if (*v) {
                copy(out, size, v);
                break;
            }
        }
    }
    fclose(f);
}

/* Runs `/bin/sh -c script sh arg` with stderr silenced and returns the
 * first line of its output (trimmed) in out. The argument travels as $1,
 * never inside the script text, so a directory with quotes or spaces in
 * its name needs no quoting. 0, or -1 (no shell, non-zero exit, no line). */
static int sh_line(const char *script, const char *arg, char *out, size_t size)
{
    out[0] = '\0';
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDERR_FILENO);
        }
        dup2(fds[1], STDOUT_FILENO);
        signal(SIGPIPE, SIG_DFL);      /* pendbench ignores it; an ignored signal outlives exec */
        execl("/bin/sh", "sh", "-c", script, "sh", arg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    /* Read everything (a child blocked on a full pipe would never exit),
     * keep the first line. */
    char buf[256];
    size_t used = 0;
    bool line_done = false;
    for (;;) {
        char chunk[512];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && !line_done; i++) {
            if (chunk[i] == '\n')
                line_done = true;
            else if (used < sizeof buf - 1)
                buf[used++] = chunk[i];
        }
    }
    close(fds[0]);
    buf[used] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    trim(buf);
    if (!buf[0])
        return -1;
    fit(out, size, "%s", buf);
    return 0;
}

/* The directory holding the running program; false when unknown. */
static bool program_dir(char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    fit(out, size, "%s", dirname(exe));
    return out[0] != '\0';
}

static void git_commit(char *out, size_t size, char *diff_hash, size_t diff_size)
{
    diff_hash[0] = '\0';
#ifdef PB_GIT_COMMIT
    copy(out, size, PB_GIT_COMMIT);
    (void)sh_line;
    (void)program_dir;
    (void)diff_size;
#else
    copy(out, size, NULL);
    char dir[PATH_MAX], hash[64], status[256];
    if (!program_dir(dir, sizeof dir))
        return;
    /* Quietly: outside a checkout, or without git, this is "unknown". */
    if (sh_line("exec git -C \"$1\" rev-parse --short HEAD", dir, hash, sizeof hash) != 0 ||
        strspn(hash, "0123456789abcdef") != strlen(hash))
        return;
    /* Changes to tracked files make the build something no commit holds:
     * the hash of the diff tells two such builds apart. Untracked files
     * are left out (build outputs, scratch files). */
    if (sh_line("exec git -C \"$1\" status --porcelain --untracked-files=no", dir, status,
                sizeof status) == 0) {
        char diff[64];
        fit(out, size, "%s-dirty", hash);
        if (sh_line("git -C \"$1\" diff HEAD | git hash-object --stdin", dir, diff,
                    sizeof diff) == 0 &&
            strspn(diff, "0123456789abcdef") == strlen(diff))
            fit(diff_hash, diff_size, "%.12s", diff);
        return;
    }
    fit(out, size, "%s", hash);
#endif
}

/* 128 random bits as 32 hex digits: unique per invocation, so history
 * can tell a record from every other one. */
static void make_run_id(char *out, size_t size)
{
    unsigned char bits[16];
    size_t got = 0;
    while (got < sizeof bits) {
        ssize_t n = getrandom(bits + got, sizeof bits - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof bits) {
        /* No getrandom (an old kernel): time, pid and an address still
         * differ between invocations, mixed so every digit varies. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        uint64_t y = ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&ts;
        for (size_t i = 0; i < sizeof bits; i++) {
            x ^= y + 0x9e3779b97f4a7c15ull + (x << 6) + (x >> 2);
            y = y * 6364136223846793005ull + 1442695040888963407ull;
            bits[i] = (unsigned char)(x >> 56);
        }
    }
    char hex[33];
    for (size_t i = 0; i < sizeof bits; i++)
        snprintf(hex + 2 * i, 3, "%02x", bits[i]);
    fit(out, size, "%s", hex);
}

void pb_context_collect(struct pb_context *c, const char *topology_description)
{
    memset(c, 0, sizeof *c);

    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || strftime(c->date, sizeof c->date, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        copy(c->date, sizeof c->date, NULL);

    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        copy(c->host, sizeof c->host, host);
    } else {
        copy(c->host, sizeof c->host, NULL);
    }

    cpu_model(c->cpu_model, sizeof c->cpu_model);

    struct utsname u;
    if (uname(&u) == 0)
        fit(c->kernel, sizeof c->kernel, "%s %s %s %s", u.sysname, u.release, u.version,
                 u.machine);
    else
        copy(c->kernel, sizeof c->kernel, NULL);

#ifdef __VERSION__
#ifdef __clang__
    /* clang's __VERSION__ already starts with "Clang" or a vendor name. */
    copy(c->compiler, sizeof c->compiler, __VERSION__);
#else
    fit(c->compiler, sizeof c->compiler, "gcc %s", __VERSION__);
#endif
#else
    copy(c->compiler, sizeof c->compiler, NULL);
#endif

#ifdef PB_BUILD_CFLAGS
    copy(c->cflags, sizeof c->cflags, PB_BUILD_CFLAGS);
#else
    copy(c->cflags, sizeof c->cflags, NULL);
#endif

#ifdef PB_BUILD_VARIANT
    copy(c->build_variant, sizeof c->build_variant, PB_BUILD_VARIANT);
#else
    copy(c->build_variant, sizeof c->build_variant, NULL);
#endif

    git_commit(c->git_commit, sizeof c->git_commit, c->git_diff_hash, sizeof c->git_diff_hash);
    make_run_id(c->run_id, sizeof c->run_id);
    pb_env_init(&c->env);
    copy(c->topology, sizeof c->topology, topology_description ? topology_description : "machine");

    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->ncpus_online = n > 0 ? (unsigned)n : 0;
}
