/* The context a result was measured in (pb_result.h). Everything here is
 * best effort: a result file is still worth writing when a field cannot be
 * found, so failures read "unknown" instead of failing the run.
 *
 * The build may pass the compiler flags and the commit as string literals:
 *   -DPB_BUILD_CFLAGS='"-O2 -g ..."'  -DPB_GIT_COMMIT='"abc1234"'
 * Without PB_GIT_COMMIT the commit is asked of git, from the current
 * directory (a binary run outside its checkout says "unknown"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
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

static void git_commit(char *out, size_t size)
{
#ifdef PB_GIT_COMMIT
    copy(out, size, PB_GIT_COMMIT);
#else
    copy(out, size, NULL);
    /* Quietly: outside a checkout, or without git, this is "unknown". */
    FILE *p = popen("git rev-parse --short HEAD 2>/dev/null", "r");
    if (!p)
        return;
    char line[128] = "";
    char *got = fgets(line, sizeof line, p);
    int status = pclose(p);
    if (got && status == 0) {
        trim(line);
        if (*line)
            copy(out, size, line);
    }
#endif
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

    git_commit(c->git_commit, sizeof c->git_commit);
    copy(c->topology, sizeof c->topology, topology_description ? topology_description : "machine");

    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->ncpus_online = n > 0 ? (unsigned)n : 0;
}
