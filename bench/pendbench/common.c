/* What the verbs share: the progress line, formatting, saving results
 * (their options: options.c). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "pb_calibrate.h"
#include "pb_compare.h"
#include "pb_result.h"
#include "pb_tsc.h"

volatile sig_atomic_t pb_interrupted;

/* When the first SIGINT or SIGTERM came (CLOCK_MONOTONIC, ns; 0 none):
 * written only by the handler, which signals do not interrupt (both are
 * blocked while it runs). */
static volatile long long first_sigint_ns;

/* A second SIGINT this soon after the first is the same interruption sent
 * twice, not a second Ctrl-C: GNU timeout signals the process and then its
 * process group, and taking that pair for two Ctrl-Cs killed `run` before
 * it saved its partial result (5 of 11 tries). */
#define SIGINT_SAME_NS 500000000LL

static void on_interrupt(int sig)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);           /* async-signal-safe */
    long long now = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    if (pb_interrupted) {
        if (now - first_sigint_ns < SIGINT_SAME_NS)
            return;
        /* A second one: the default action (of the signal that came). */
        signal(sig, SIG_DFL);
        raise(sig);
    }
    first_sigint_ns = now;
    pb_interrupted = sig;
}

/* SIGTERM is an interruption like SIGINT: it lost every run measured
 * (timeout, CI cancellation and systemd send it), where Ctrl-C kept them. */
void pb_install_interrupt(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int pb_interrupted_status(void)
{
    return 128 + (pb_interrupted ? (int)pb_interrupted : SIGINT);
}

int pb_finish_stdout(const char *verb, int status)
{
    errno = 0;
    bool flushed = fflush(stdout) == 0;
    if (flushed && !ferror(stdout))
        return status;
    int e = errno;
    fprintf(stderr, "pendbench%s%s: standard output: %s: what was written there is cut short\n",
            verb && *verb ? " " : "", verb ? verb : "",
            !flushed && e ? strerror(e) : "a write failed (the reader closed it early?)");
    return status == PB_EXIT_OK ? PB_EXIT_USAGE : status;
}

const char *pb_fmt_ns(double ns, char *buf, size_t size)
{
    if (ns < 1000)
        snprintf(buf, size, "%.0f ns", ns);
    else if (ns < 1e6)
        snprintf(buf, size, "%.2f us", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, size, "%.2f ms", ns / 1e6);
    else
        snprintf(buf, size, "%.2f s", ns / 1e9);
    return buf;
}

void pb_progress_cb(void *arg, double elapsed_s, double ops_per_s, uint64_t p99_ns)
{
    struct pb_progress *p = arg;
    if (!p || !p->enabled)
        return;
    char b[32];
    fprintf(stderr, "\r\033[K[%u/%u] %-40.40s %5.1fs %10.0f ops/s  p99 %s", p->index, p->total,
            p->label ? p->label : "", elapsed_s, ops_per_s,
            p99_ns ? pb_fmt_ns((double)p99_ns, b, sizeof b) : "-");
    fflush(stderr);
}

void pb_progress_clear(struct pb_progress *p)
{
    if (p && p->enabled) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", path) >= sizeof tmp) {
        errno = ENAMETOOLONG;           /* a cut name would be another folder */
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return (mkdir(tmp, 0777) != 0 && errno != EEXIST) ? -1 : 0;
}

/* results/<timestamp>, made here and new: a suite that ends in the same
 * second as another one in this folder (two sessions side by side) takes
 * <timestamp>-2, -3, ..., never the other's folder, whose result and
 * report it would replace. */
static int new_results_dir(char *dir, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(dir, size, "results");
    if (mkdir_p(dir) != 0)
        return -1;
    for (unsigned k = 1; k <= 1000; k++) {
        if (k == 1)
            snprintf(dir, size, "results/%s", stamp);
        else
            snprintf(dir, size, "results/%s-%u", stamp, k);
        if (mkdir(dir, 0777) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;     /* errno EEXIST: a thousand suites in one second */
}

int pb_save_results(const char *json_path, bool suite_dir, const struct pb_context *ctx,
                    const struct pb_run_result *runs, unsigned n, char *written,
                    size_t written_size)
{
    /* The file is json_path itself, never a copy: a copy into a fixed
     * buffer cut a long name short and wrote the results elsewhere. */
    const char *path = json_path;
    char dir[256] = "", suite_path[PATH_MAX];
    if (suite_dir) {
        if (new_results_dir(dir, sizeof dir) != 0) {
            fprintf(stderr, "pendbench: cannot create %s: %s; the results follow on stdout\n", dir,
                    strerror(errno));
            char e[256];
            pb_result_write_stream(stdout, ctx, runs, n, e, sizeof e);
            return -1;
        }
        snprintf(suite_path, sizeof suite_path, "%s/result.json", dir);   /* 40 characters */
        path = suite_path;
    }
    char err[2 * PATH_MAX];
    if (strcmp(path, "-") == 0)
        return pb_result_write_stream(stdout, ctx, runs, n, err, sizeof err);
    /* The caller is told the name written (its message, the history's
     * record): one that does not fit is refused, not cut. The check before
     * the runs (pb_check_output_path) refuses such names already. */
    if (written && strlen(path) >= written_size) {
        fprintf(stderr, "pendbench: a result file name of %zu characters, more than %zu; the "
                "results follow on stdout\n", strlen(path), written_size - 1);
        pb_result_write_stream(stdout, ctx, runs, n, err, sizeof err);
        return -1;
    }
    if (pb_result_write(path, ctx, runs, n, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench: %s; the results follow on stdout\n", err);
        pb_result_write_stream(stdout, ctx, runs, n, err, sizeof err);
        return -1;
    }
    if (written)
        snprintf(written, written_size, "%s", path);
    if (suite_dir) {
        /* results/latest -> <timestamp>, replaced atomically. */
        const char *base = strrchr(dir, '/') + 1;
        char tmp[300];
        snprintf(tmp, sizeof tmp, "results/.latest.%d", (int)getpid());
        unlink(tmp);
        if (symlink(base, tmp) != 0 || rename(tmp, "results/latest") != 0) {
            fprintf(stderr, "pendbench: could not point results/latest at %s: %s\n", dir,
                    strerror(errno));
            unlink(tmp);
        }
    }
    return 0;
}

bool pb_output_is_input(const char *verb, const char *opt, const char *out, const char *noun,
                        const struct pb_input *in, size_t n)
{
    if (!out || strcmp(out, "-") == 0)
        return false;
    const char *what = NULL, *path = NULL;
    for (size_t i = 0; i < n && !what; i++)
        if (in[i].path && strcmp(in[i].path, "-") != 0 && pb_same_file(out, in[i].path)) {
            what = in[i].what;
            path = in[i].path;
        }
    /* The plugins: every verb's, however each was named. */
    const char *plugin;
    for (unsigned i = 0; !what && (plugin = pb_plugin_path_at(i)) != NULL; i++)
        if (pb_same_file(out, plugin)) {
            what = "a plugin it loads";
            path = plugin;
        }
    if (!what)
        return false;
    /* The input's own spelling, when it differs: which file it is. */
    bool spelled = strcmp(out, path) != 0;
    fprintf(stderr, "pendbench %s: %s %s is %s%s%s%s: %s would replace it\n", verb, opt, out, what,
            spelled ? " (" : "", spelled ? path : "", spelled ? ")" : "", noun);
    return true;
}

int pb_check_output_path(const char *path, char *why, size_t n)
{
    if (strcmp(path, "-") == 0)
        return 0;
    if (!*path) {
        snprintf(why, n, "an empty file name");
        return -1;
    }
    /* No file of this system has such a name: writing it would fail after
     * the work, and a buffer that cut it wrote another file. */
    if (strlen(path) >= PATH_MAX) {
        snprintf(why, n, "a file name of %zu characters: at most %d", strlen(path),
                 PATH_MAX - 1);
        return -1;
    }
    struct stat st;
    int missing = stat(path, &st) == 0 ? 0 : errno;
    if (missing && missing != ENOENT && missing != ENOTDIR) {
        /* A part of the name too long (NAME_MAX), a loop, no permission:
         * it cannot be created either. ENOTDIR is said below, better. */
        snprintf(why, n, "cannot write %s: %s", path, strerror(missing));
        return -1;
    }
    if (!missing) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(why, n, "%s is a directory: give a file name", path);
            return -1;
        }
        if (access(path, W_OK) != 0) {
            snprintf(why, n, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    /* A new file: its directory must exist and take files. */
    char dir[PATH_MAX];                 /* shorter than path, which fits */
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0) {
        snprintf(why, n, "cannot write %s: directory %s: %s", path, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(why, n, "cannot write %s: %s is not a directory", path, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(why, n, "cannot write %s: directory %s: %s", path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- waiting for the machine state ------------------------------------------------ */

#define WAIT_SHARE 0.25
#define WAIT_MAX_MS 30000.0
#define WAIT_POLL_MS 250u
#define WAIT_PROBE_MS 20u     /* a probe of the c2c floor (a run's own takes 60 ms) */

static double monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void pb_state_wait_begin(struct pb_state_wait *w)
{
    w->started_ms = monotonic_ms();
    w->waited_ms = 0;
}

struct cpu_pair {
    int a, b;
};

static double probe_c2c(void *ctx)
{
    const struct cpu_pair *p = ctx;
    struct pb_floor f;
    return pb_measure_c2c_round_trip((unsigned)p->a, (unsigned)p->b, WAIT_PROBE_MS, &f) == 0
               ? f.median_ns : 0;
}

void pb_wait_for_state(struct pb_state_wait *sw, int cpu_a, int cpu_b, double ref, double factor,
                       FILE *out)
{
    double allowed = WAIT_SHARE * (monotonic_ms() - sw->started_ms);
    if (allowed > WAIT_MAX_MS)
        allowed = WAIT_MAX_MS;
    allowed -= sw->waited_ms;
    if (cpu_a < 0 || cpu_b < 0 || cpu_a == cpu_b || !(ref > 0) || !(factor >= 1) ||
        allowed < WAIT_POLL_MS ||
        pb_interrupted)
        return;
    struct cpu_pair pair = { cpu_a, cpu_b };
    struct pb_floor_wait w = { .budget_ms = (unsigned)allowed, .poll_ms = WAIT_POLL_MS,
                               .factor = factor, .stop = &pb_interrupted,
                               .probe = probe_c2c, .ctx = &pair };
    double now_ns = 0, spent = 0;
    int rc = pb_floor_wait(&w, ref, &now_ns, &spent);
    sw->waited_ms += spent;
    if (!out || rc < 0 || (rc == 1 && spent < WAIT_POLL_MS))
        return;       /* back at once: nothing to tell */
    if (rc == 1)
        fprintf(out, "  waited %.1f s for the c2c floor between CPUs %d,%d to come back "
                     "(%.0f ns; the reference %.0f)\n", spent / 1e3, cpu_a, cpu_b, now_ns, ref);
    else
        fprintf(out, "  the c2c floor between CPUs %d,%d stayed at %.0f ns (the reference %.0f) "
                     "for %.1f s: measuring anyway\n", cpu_a, cpu_b, now_ns, ref, spent / 1e3);
}
