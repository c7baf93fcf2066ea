/* Running gnuplot for the HTML report's charts: the script goes in on
 * stdin, the SVG comes back on stdout, both through unlinked temporary
 * files (no pipe to deadlock on, nothing left behind if we die), and the
 * SVG is trimmed to an element that can sit inline in a page beside
 * others. The child runs in a process group of its own, so that one that
 * does not answer in time (or writes without end) is killed with whatever
 * it started, and reaped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pb_html.h"

extern char **environ;

/* More output than any chart needs: a child that writes this much (stdout
 * or stderr) is not gnuplot drawing a chart, and is stopped before it
 * fills the disk. */
#define GNUPLOT_MAX_OUTPUT ((off_t)64 << 20)

static off_t fd_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : 0;
}

/* SIGKILL to the child's process group (the child and what it started),
 * then the child reaped. */
static void kill_and_reap(pid_t pid, int *status)
{
    if (kill(-pid, SIGKILL) != 0)
        kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
}

/* An anonymous temporary file: created, then unlinked at once. */
static int anon_tmp(void)
{
    const char *d = getenv("TMPDIR");
    char path[PATH_MAX];
    int fd = -1;
    /* A $TMPDIR too long for the buffer is passed over, never cut (a cut
     * template names another place). */
    if (d && *d && (size_t)snprintf(path, sizeof path, "%s/pb-gnuplot.XXXXXX", d) < sizeof path)
        fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        snprintf(path, sizeof path, "/tmp/pb-gnuplot.XXXXXX");
        fd = mkostemp(path, O_CLOEXEC);
    }
    if (fd >= 0)
        unlink(path);
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The whole content of fd, NUL-terminated; NULL on failure. */
static char *read_back(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0)
        return NULL;
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    *len = got;
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* gnuplot's first line that says what went wrong ("line 3: undefined
 * function: foo"), trimmed, into err. */
static void first_error(const char *text, const char *program, int status, char *err,
                        size_t errlen)
{
    const char *best = NULL;
    size_t bestlen = 0;
    for (const char *l = text; l && *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        while (n && (*l == ' ' || *l == '\t'))
            l++, n--;
        bool has_line = n && memmem(l, n, "line ", 5) != NULL;
        if (n && *l != '^' && (!best || (has_line && !memmem(best, bestlen, "line ", 5)))) {
            best = l;
            bestlen = n;
        }
        l = e ? e + 1 : NULL;
    }
    if (best)
        snprintf(err, errlen, "%s: %.*s", program, (int)(bestlen > 160 ? 160 : bestlen), best);
    else if (WIFSIGNALED(status))
        snprintf(err, errlen, "%s: killed by signal %d", program, WTERMSIG(status));
    else
        snprintf(err, errlen, "%s: exit status %d and no SVG", program,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Appends n bytes to a growing buffer. */
struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_escaped(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_str(b, "&amp;"); break;
        case '<': sb_str(b, "&lt;"); break;
        case '>': sb_str(b, "&gt;"); break;
        case '"': sb_str(b, "&quot;"); break;
        case '\'': sb_str(b, "&#39;"); break;
        default: sb_add(b, s, 1);
        }
    }
}

/* The <svg> element of gnuplot's document, ready to sit inline: ids
 * prefixed (every chart defines the same gpPt0... markers), gnuplot's
 * <title> replaced by ours. NULL on failure. */
static char *inline_svg(const char *doc, const char *prefix, const char *title)
{
    const char *start = strstr(doc, "<svg");
    const char *end = NULL;
    for (const char *p = start; p && (p = strstr(p, "</svg>")); p += 6)
        end = p + 6;
    if (!start || !end)
        return NULL;
    struct sbuf b = { 0 };
    const char *open_end = strchr(start, '>');
    if (!open_end || open_end > end)
        return NULL;
    sb_str(&b, "<svg class=\"chart\" role=\"img\"");
    sb_add(&b, start + 4, (size_t)(open_end + 1 - (start + 4)));
    sb_str(&b, "\n<title>");
    sb_escaped(&b, title ? title : "chart");
    sb_str(&b, "</title>");
    static const char *const refs[] = { "id='", "id=\"", "href='#", "href=\"#", "url(#" };
    bool title_dropped = false;
    for (const char *p = open_end + 1; p < end;) {
        if (!title_dropped && strncmp(p, "<title>", 7) == 0) {
            const char *t = strstr(p, "</title>");
            if (t && t < end) {
                p = t + 8;
                title_dropped = true;
                continue;
            }
        }
        size_t k;
        for (k = 0; k < sizeof refs / sizeof refs[0]; k++)
            if (strncmp(p, refs[k], strlen(refs[k])) == 0)
                break;
        if (k < sizeof refs / sizeof refs[0]) {
            sb_str(&b, refs[k]);
            sb_str(&b, prefix);
            p += strlen(refs[k]);
            continue;
        }
        /* Copy up to the next place that may need a change. */
        const char *q = p + 1;
        while (q < end && *q != 'i' && *q != 'h' && *q != 'u' && *q != '<')
            q++;
        sb_add(&b, p, (size_t)(q - p));
        p = q;
    }
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

int pb_gnuplot_svg(const char *program, const char *script, size_t script_len, double timeout_s,
                   const volatile sig_atomic_t *stop, const char *id_prefix, const char *title,
                   char **svg, char *err, size_t errlen)
{
    *svg = NULL;
    if (!program || !*program)
        program = "gnuplot";
    if (timeout_s <= 0)
        timeout_s = 30;
    int fd_in = anon_tmp(), fd_out = anon_tmp(), fd_err = anon_tmp();
    int rc = -1;
    char *out = NULL, *errtext = NULL;
    posix_spawn_file_actions_t fa;
    bool fa_ok = false;
    if (fd_in < 0 || fd_out < 0 || fd_err < 0) {
        snprintf(err, errlen, "cannot create a temporary file for %s: %s", program,
                 strerror(errno));
        goto done;
    }
    if (write_all(fd_in, script, script_len) != 0 || lseek(fd_in, 0, SEEK_SET) != 0) {
        snprintf(err, errlen, "cannot write %s's script: %s", program, strerror(errno));
        goto done;
    }
    if (posix_spawn_file_actions_init(&fa) != 0) {
        snprintf(err, errlen, "cannot start %s: out of memory", program);
        goto done;
    }
    fa_ok = true;
    posix_spawn_file_actions_adddup2(&fa, fd_in, 0);
    posix_spawn_file_actions_adddup2(&fa, fd_out, 1);
    posix_spawn_file_actions_adddup2(&fa, fd_err, 2);
    /* A process group of its own (pgid = its pid), to be killed whole. */
    posix_spawnattr_t attr;
    if (posix_spawnattr_init(&attr) != 0) {
        snprintf(err, errlen, "cannot start %s: out of memory", program);
        goto done;
    }
    /* SIGPIPE back to its default: pendbench ignores it, and an ignored
     * signal outlives exec. */
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    char *argv[] = { (char *)program, NULL };
    pid_t pid;
    int e = posix_spawnp(&pid, program, &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    if (e != 0) {
        snprintf(err, errlen, "cannot run %s: %s", program, strerror(e));
        rc = -2;
        goto done;
    }
    int status = 0;
    double deadline = now_s() + timeout_s;
    bool timed_out = false, too_much = false, stopped = false;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            /* SIGCHLD ignored by the caller: the child is reaped for us. */
            status = 0;
            break;
        }
        if (fd_size(fd_out) > GNUPLOT_MAX_OUTPUT || fd_size(fd_err) > GNUPLOT_MAX_OUTPUT) {
            kill_and_reap(pid, &status);
            too_much = true;
            break;
        }
        if (now_s() > deadline) {
            kill_and_reap(pid, &status);
            timed_out = true;
            break;
        }
        /* Interrupted: the group would outlive us (it is not in ours, so
         * neither Ctrl-C nor timeout's signal reaches it). */
        if (stop && *stop) {
            kill_and_reap(pid, &status);
            stopped = true;
            break;
        }
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
    if (stopped) {
        snprintf(err, errlen, "interrupted (%s killed)", program);
        rc = -4;
        goto done;
    }
    if (timed_out) {
        snprintf(err, errlen, "%s timed out: no chart after %.3g s (killed)", program, timeout_s);
        rc = -3;
        goto done;
    }
    if (too_much) {
        snprintf(err, errlen, "%s wrote more than %lld MiB, which is no chart (killed)", program,
                 (long long)(GNUPLOT_MAX_OUTPUT >> 20));
        goto done;
    }
    size_t outlen = 0, errtextlen = 0;
    out = read_back(fd_out, &outlen);
    errtext = read_back(fd_err, &errtextlen);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && (!out || !*out)) {
        /* An exec that failed in the child (older posix_spawn). */
        snprintf(err, errlen, "cannot run %s: not found", program);
        rc = -2;
        goto done;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out || !strstr(out, "</svg>")) {
        first_error(errtext ? errtext : "", program, status, err, errlen);
        goto done;
    }
    *svg = inline_svg(out, id_prefix ? id_prefix : "", title);
    if (!*svg) {
        snprintf(err, errlen, "%s: output is not an SVG document", program);
        goto done;
    }
    rc = 0;
done:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (fd_in >= 0)
        close(fd_in);
    if (fd_out >= 0)
        close(fd_out);
    if (fd_err >= 0)
        close(fd_err);
    free(out);
    free(errtext);
    return rc;
}
