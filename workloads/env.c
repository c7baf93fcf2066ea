/* The environment a session measures in (pb_env.h). Best effort by
 * design: every reader below returns "unknown" (-1, 0, "") when its file
 * is missing or says something unexpected, because a container, a VM or
 * another architecture lacks many of these files and a run is still
 * worth recording there. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "pb_env.h"
#include "pb_tsc.h"

/* ---- small readers ------------------------------------------------------------ */

/* The first line of a file, without its line end; false when unreadable. */
static bool read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)size, f) != NULL;
    fclose(f);
    if (!ok)
        return false;
    buf[strcspn(buf, "\r\n")] = '\0';
    return true;
}

static bool read_long(const char *path, long *out)
{
    char buf[64];
    if (!read_line(path, buf, sizeof buf))
        return false;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno || end == buf)
        return false;
    *out = v;
    return true;
}

/* Copies a label, cut to fit. */
static void set_label(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The sysfs file of one CPU: /sys/devices/system/cpu/cpuN/<rest>. */
static void cpu_path(char *buf, size_t size, unsigned cpu, const char *rest)
{
    snprintf(buf, size, "/sys/devices/system/cpu/cpu%u/%s", cpu, rest);
}

/* A CPU list as sysfs writes it ("0-3,8,10-11"): how many CPUs; 0 when
 * it does not parse. */
static unsigned count_cpu_list(const char *s)
{
    unsigned n = 0;
    while (*s) {
        char *end;
        unsigned long a = strtoul(s, &end, 10);
        if (end == s)
            return 0;
        unsigned long b = a;
        s = end;
        if (*s == '-') {
            b = strtoul(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                return 0;
            s = end;
        }
        n += (unsigned)(b - a + 1);
        if (*s == ',')
            s++;
        else if (*s && !isspace((unsigned char)*s))
            return 0;
        else
            break;
    }
    return n;
}

/* "32K", "1024K", "8M", "1G" (sysfs cache sizes) in bytes; 0 unknown. */
static uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': return (uint64_t)v << 10;
    case 'M': return (uint64_t)v << 20;
    case 'G': return (uint64_t)v << 30;
    default: return (uint64_t)v;
    }
}

/* ---- samples ------------------------------------------------------------------- */

void pb_env_cpu_times(struct pb_cpu_times *out)
{
    memset(out, 0, sizeof *out);
    char line[512];
    if (!read_line("/proc/stat", line, sizeof line) || strncmp(line, "cpu ", 4) != 0)
        return;
    /* user nice system idle iowait irq softirq steal (guest time is
     * already inside user and nice, so it is not added again). */
    unsigned long long v[8] = {0};
    int n = sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    if (n < 4)
        return;
    for (int i = 0; i < 8; i++)
        out->total += v[i];
    out->steal = n >= 8 ? v[7] : 0;
    out->idle = v[3] + v[4];
    out->valid = true;
}

double pb_env_steal_pct(const struct pb_cpu_times *a, const struct pb_cpu_times *b)
{
    if (!a || !b || !a->valid || !b->valid || b->total <= a->total || b->steal < a->steal)
        return -1;
    double pct = 100.0 * (double)(b->steal - a->steal) / (double)(b->total - a->total);
    return pct > 100 ? 100 : pct;
}

double pb_env_others_share(const struct pb_cpu_times *a, const struct pb_cpu_times *b,
                           double own_cpu_s)
{
    if (!a || !b || !a->valid || !b->valid || b->total <= a->total || b->idle < a->idle)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0)
        return -1;
    double all_s = (double)(b->total - a->total) / (double)hz;
    double others_s = all_s - (double)(b->idle - a->idle) / (double)hz - own_cpu_s;
    /* The counters tick at 1/hz: a share a tick off either way is noise. */
    return others_s <= 0 ? 0 : others_s >= all_s ? 1 : others_s / all_s;
}

unsigned pb_env_usable_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    int n = CPU_COUNT(&set);
    return n > 0 ? (unsigned)n : 0;
}

uint64_t pb_env_thread_preemptions(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0 || ru.ru_nivcsw < 0)
        return 0;
    return (uint64_t)ru.ru_nivcsw;
}

static void read_loadavg(double out[3])
{
    out[0] = out[1] = out[2] = -1;
    char line[128];
    double a, b, c;
    if (read_line("/proc/loadavg", line, sizeof line) &&
        sscanf(line, "%lf %lf %lf", &a, &b, &c) == 3) {
        out[0] = a;
        out[1] = b;
        out[2] = c;
    }
}

/* ---- static facts ---------------------------------------------------------------- */

/* Governor and frequency range over the usable CPUs. */
static void read_cpufreq(struct pb_environment *e)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    char path[128], gov[32];
    bool any_gov = false, mixed = false;
    for (unsigned cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set))
            continue;
        cpu_path(path, sizeof path, cpu, "cpufreq/scaling_governor");
        if (read_line(path, gov, sizeof gov) && gov[0]) {
            if (!any_gov)
                set_label(e->governor, sizeof e->governor, gov);
            else if (strcmp(gov, e->governor) != 0)
                mixed = true;
            any_gov = true;
        }
        long khz;
        cpu_path(path, sizeof path, cpu, "cpufreq/cpuinfo_min_freq");
        if (read_long(path, &khz) && khz > 0 &&
            (e->freq_min_mhz == 0 || khz / 1000.0 < e->freq_min_mhz))
            e->freq_min_mhz = khz / 1000.0;
        cpu_path(path, sizeof path, cpu, "cpufreq/cpuinfo_max_freq");
        if (read_long(path, &khz) && khz > 0 && khz / 1000.0 > e->freq_max_mhz)
            e->freq_max_mhz = khz / 1000.0;
    }
    if (mixed)
        snprintf(e->governor, sizeof e->governor, "mixed");
    /* Google Benchmark's rule: a governor other than performance (mixed
     * included). The hardware range (min < max) holds on nearly every
     * machine, also under the performance governor, so it says nothing. */
    e->cpu_scaling_enabled = e->governor[0] && strcmp(e->governor, "performance") != 0;

    long khz;
    if (read_long("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", &khz) && khz > 0)
        e->mhz_per_cpu = khz / 1000.0;
}

/* /proc/cpuinfo: the first "cpu MHz" (when cpufreq has none), the TSC
 * flags and the hypervisor flag (when cpuid cannot be asked). */
static void read_cpuinfo(struct pb_environment *e, bool *hypervisor_flag)
{
    *hypervisor_flag = false;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    /* The flags line is long: read it in pieces, tokens may straddle. */
    char line[1024];
    bool have_mhz = e->mhz_per_cpu > 0, have_flags = false;
    while (fgets(line, sizeof line, f)) {
        if (!have_mhz && strncmp(line, "cpu MHz", 7) == 0) {
            char *colon = strchr(line, ':');
            double mhz;
            if (colon && sscanf(colon + 1, "%lf", &mhz) == 1 && mhz > 0) {
                e->mhz_per_cpu = mhz;
                have_mhz = true;
            }
        } else if (!have_flags && strncmp(line, "flags", 5) == 0 && strchr(line, ':')) {
            /* Walk the tokens of the whole (possibly long) line. */
            char token[64];
            size_t tl = 0;
            const char *p = strchr(line, ':') + 1;
            for (;;) {
                for (; *p; p++) {
                    if (isspace((unsigned char)*p)) {
                        if (tl) {
                            token[tl] = '\0';
                            if (!strcmp(token, "constant_tsc"))
                                e->tsc_constant = true;
                            else if (!strcmp(token, "nonstop_tsc"))
                                e->tsc_nonstop = true;
                            else if (!strcmp(token, "hypervisor"))
                                *hypervisor_flag = true;
                            tl = 0;
                        }
                    } else if (tl < sizeof token - 1) {
                        token[tl++] = *p;
                    }
                }
                if (strchr(line, '\n') || !fgets(line, sizeof line, f))
                    break;
                p = line;
            }
            have_flags = true;
        }
        if (have_mhz && have_flags)
            break;
    }
    fclose(f);
}

static void read_hypervisor(struct pb_environment *e, bool cpuinfo_flag)
{
    e->hypervisor[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
    (void)cpuinfo_flag;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 31)))
        return;
    /* Leaf 0x40000000 is outside the basic range __get_cpuid checks
     * against: with bit 31 set, the hypervisor answers it. */
    __cpuid(0x40000000, a, b, c, d);
    char sig[13];
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = '\0';
    static const struct { const char *sig, *name; } known[] = {
        {"KVMKVMKVM", "KVM"},       {"XenVMMXenVMM", "Xen"},  {"VMwareVMware", "VMware"},
        {"Microsoft Hv", "Hyper-V"}, {"TCGTCGTCGTCG", "QEMU"}, {"ACRNACRNACRN", "ACRN"},
        {" lrpepyh  vr", "Parallels"}, {"bhyve bhyve ", "bhyve"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(sig, known[i].sig) == 0) {
            snprintf(e->hypervisor, sizeof e->hypervisor, "%s", known[i].name);
            return;
        }
    snprintf(e->hypervisor, sizeof e->hypervisor, "hypervisor");
#else
    char type[32];
    if (read_line("/sys/hypervisor/type", type, sizeof type) && type[0])
        set_label(e->hypervisor, sizeof e->hypervisor, type);
    else if (cpuinfo_flag)
        snprintf(e->hypervisor, sizeof e->hypervisor, "hypervisor");
#endif
}

static void read_caches(struct pb_environment *e)
{
    e->ncaches = 0;
    char path[160], buf[256];
    for (unsigned i = 0; i < 16 && e->ncaches < PB_ENV_MAX_CACHES; i++) {
        struct pb_cache_info *c = &e->caches[e->ncaches];
        memset(c, 0, sizeof *c);
        long level;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%u/level", i);
        if (!read_long(path, &level))
            break;
        c->level = level > 0 ? (unsigned)level : 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%u/type", i);
        if (read_line(path, buf, sizeof buf))
            set_label(c->type, sizeof c->type, buf);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%u/size", i);
        if (read_line(path, buf, sizeof buf))
            c->size_bytes = parse_size(buf);
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%u/shared_cpu_list",
                 i);
        if (read_line(path, buf, sizeof buf))
            c->num_sharing = count_cpu_list(buf);
        e->ncaches++;
    }
}

/* 1 on, 0 off, -1 unknown. intel_pstate says "no turbo"; acpi-cpufreq
 * (and AMD's) say "boost". */
static int read_turbo(void)
{
    long v;
    if (read_long("/sys/devices/system/cpu/intel_pstate/no_turbo", &v))
        return v ? 0 : 1;
    if (read_long("/sys/devices/system/cpu/cpufreq/boost", &v))
        return v ? 1 : 0;
    return -1;
}

/* ---- TSC drift ------------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One clock reading paired with the TSC: the tightest TSC bracket of a
 * few tries, so a preemption between the reads does not count. */
static void paired_read(uint64_t *tsc, uint64_t *ns)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 7; i++) {
        uint64_t a = pb_tsc_now(), n = mono_ns(), b = pb_tsc_now();
        if (b >= a && b - a < best) {
            best = b - a;
            *tsc = a + (b - a) / 2;
            *ns = n;
        }
    }
}

/* Ticks per ns over about ms milliseconds, measured here and not through
 * pb_tsc_calibrate: that one keeps its first result for the whole process
 * (the run engine converts every timestamp with it, so the figures stay
 * consistent), and a second call would only return it again. This
 * measurement replaces nothing. 0 when it failed. */
static double measure_ticks_per_ns(unsigned ms)
{
    uint64_t c0 = 0, t0 = 0, c1 = 0, t1 = 0;
    paired_read(&c0, &t0);
    uint64_t end = t0 + (uint64_t)ms * 1000000u;
    while (mono_ns() < end)
        pb_cpu_relax();
    paired_read(&c1, &t1);
    if (t1 <= t0 || c1 <= c0)
        return 0;
    return (double)(c1 - c0) / (double)(t1 - t0);
}

/* ---- the session ------------------------------------------------------------------ */

void pb_env_init(struct pb_environment *e)
{
    memset(e, 0, sizeof *e);
    for (int i = 0; i < 3; i++)
        e->loadavg_start[i] = e->loadavg_end[i] = -1;
    e->turbo = -1;
    e->smt_active = -1;
    e->steal_pct = -1;
}

void pb_env_begin(struct pb_environment *e)
{
    pb_env_init(e);
    read_loadavg(e->loadavg_start);
    pb_env_cpu_times(&e->start_times);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    e->ncpus_online = n > 0 ? (unsigned)n : 0;
    e->ncpus_usable = pb_env_usable_cpus();
    read_cpufreq(e);
    bool hv_flag;
    read_cpuinfo(e, &hv_flag);
#if !defined(__x86_64__) && !defined(__i386__)
    /* pb_tsc_now() is CLOCK_MONOTONIC here: constant and nonstop by
     * definition, whatever /proc/cpuinfo lists. */
    e->tsc_constant = e->tsc_nonstop = true;
#endif
    read_hypervisor(e, hv_flag);
    e->turbo = read_turbo();
    long smt;
    if (read_long("/sys/devices/system/cpu/smt/active", &smt))
        e->smt_active = smt ? 1 : 0;
    read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource", e->clocksource,
              sizeof e->clocksource);
    read_caches(e);
    e->tsc_ticks_per_ns_start = pb_tsc_ticks_per_ns();
}

void pb_env_end(struct pb_environment *e)
{
    read_loadavg(e->loadavg_end);
    struct pb_cpu_times now;
    pb_env_cpu_times(&now);
    e->steal_pct = pb_env_steal_pct(&e->start_times, &now);
    double again = measure_ticks_per_ns(20);
    if (again > 0 && e->tsc_ticks_per_ns_start > 0)
        e->tsc_drift_ppm = (again - e->tsc_ticks_per_ns_start) / e->tsc_ticks_per_ns_start * 1e6;
    pb_env_warnings(e);
}

/* ---- warnings ------------------------------------------------------------------- */

#define DRIFT_LIMIT_PPM 100.0
#define STEAL_LIMIT_PCT 1.0

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void warn(struct pb_environment *e, const char *fmt, ...)
{
    if (e->nwarnings >= PB_ENV_MAX_WARNINGS)
        return;                /* the most severe ones came first */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->warnings[e->nwarnings], sizeof e->warnings[0], fmt, ap);
    va_end(ap);
    e->nwarnings++;
}

/* A clocksource that is the counter pb_tsc_now() reads, or the one the
 * kernel trusts on that architecture (pb_tsc_now() is CLOCK_MONOTONIC
 * there). Anything else (kvm-clock, hpet, acpi_pm, ...) means the kernel
 * did not choose the TSC. */
static bool clocksource_ok(const char *cs)
{
    static const char *const good[] = {"tsc", "arch_sys_counter", "timebase", "riscv_clocksource"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (strcmp(cs, good[i]) == 0)
            return true;
    return false;
}

void pb_env_warnings(struct pb_environment *e)
{
    e->nwarnings = 0;
    memset(e->warnings, 0, sizeof e->warnings);
    unsigned cpus = e->ncpus_usable;

    /* Most severe first: what makes the clock itself wrong, then what
     * makes threads wait for a CPU, then what varies the speed. */
    if (!e->tsc_constant || !e->tsc_nonstop)
        warn(e,
             "TSC: /proc/cpuinfo lacks %s%s%s: the timestamp counter may change rate with the "
             "frequency or stop in idle states, so latencies are not real time",
             e->tsc_constant ? "" : "constant_tsc", !e->tsc_constant && !e->tsc_nonstop ? " and " : "",
             e->tsc_nonstop ? "" : "nonstop_tsc");
    if (isfinite(e->tsc_drift_ppm) && fabs(e->tsc_drift_ppm) > DRIFT_LIMIT_PPM)
        warn(e,
             "TSC drift %+.0f ppm: ticks per ns recalibrated at the end differ from the start "
             "(limit %.0f ppm), so the TSC rate is not stable and durations are off by as much",
             e->tsc_drift_ppm, DRIFT_LIMIT_PPM);
    if (cpus > 0 && e->max_threads > cpus)
        warn(e,
             "oversubscribed: a run started %u threads on %u usable CPUs: threads share CPUs, so "
             "latencies include waiting for the scheduler",
             e->max_threads, cpus);
    if (cpus > 0 && e->loadavg_start[0] > 0.5 * cpus)
        warn(e,
             "load average %.2f at the start, above half the %u usable CPUs: other work competes "
             "for the CPUs and its noise enters the figures",
             e->loadavg_start[0], cpus);
    if (e->steal_pct > STEAL_LIMIT_PCT)
        warn(e,
             "steal time %.1f%% of CPU time over the session (above %.0f%%): the hypervisor ran "
             "other guests on these CPUs, stalling threads at random",
             e->steal_pct, STEAL_LIMIT_PCT);
    if (e->others_busy_runs > 0)
        warn(e,
             "other processes%s took %.0f%% or more of the CPU time in the window of %u run%s (at "
             "most %.0f%%): those figures carry their interference, and a slow window there is "
             "not judged a stall",
             e->steal_pct > STEAL_LIMIT_PCT ? " and steal" : "", PB_OTHERS_BUSY_PCT,
             e->others_busy_runs, e->others_busy_runs == 1 ? "" : "s", e->others_pct_max);
    if (e->migrations > 0)
        warn(e,
             "%llu CPU migrations: pinned threads were found on CPUs other than their own, so "
             "placement did not hold and caches were cold",
             (unsigned long long)e->migrations);
    if (e->clocksource[0] && !clocksource_ok(e->clocksource))
        warn(e,
             "clocksource '%s', not tsc: the kernel did not choose the TSC (it may judge it "
             "unstable), while pendbench's timestamps read it",
             e->clocksource);
    if (e->hypervisor[0])
        warn(e,
             "hypervisor %s: a virtual machine shares its host with co-tenants and steals time, "
             "so figures vary more than on bare metal",
             e->hypervisor);
    if (e->cpu_scaling_enabled) {
        if (e->freq_min_mhz > 0 && e->freq_max_mhz > 0)
            warn(e,
                 "frequency scaling: governor '%s', %.0f-%.0f MHz: the CPU speed follows the "
                 "load, so the same work takes different times (use the performance governor)",
                 e->governor[0] ? e->governor : "unknown", e->freq_min_mhz, e->freq_max_mhz);
        else
            warn(e,
                 "frequency scaling: governor '%s': the CPU speed follows the load, so the same "
                 "work takes different times (use the performance governor)",
                 e->governor[0] ? e->governor : "unknown");
    }
    if (e->turbo == 1)
        warn(e,
             "turbo on: the clock speed depends on load and temperature, so runs at different "
             "times or thread counts run at different speeds");
    if (e->smt_siblings_used)
        warn(e,
             "SMT siblings used: two of a run's threads shared one core's hardware threads, so "
             "each ran slower than on a core of its own");
}
