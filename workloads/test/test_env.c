/* The environment (pb_env.h): what this machine reports is sane, steal
 * arithmetic on crafted /proc/stat samples, every warning turned on and
 * off from crafted facts (and their order), and the preemption counter. */
#include <criterion/criterion.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pb_env.h"

/* ---- this machine ------------------------------------------------------------- */

Test(env, machine_values_are_sane, .timeout = 30)
{
    struct pb_environment e;
    memset(&e, 0x5a, sizeof e);
    pb_env_begin(&e);
    cr_expect_geq(e.ncpus_usable, 1);
    cr_expect_eq(e.ncpus_usable, pb_env_usable_cpus());
    cr_expect_geq(e.ncpus_online, e.ncpus_usable);
    for (int i = 0; i < 3; i++)
        cr_expect(e.loadavg_start[i] >= 0, "load %d: %g (Linux has /proc/loadavg)", i,
                  e.loadavg_start[i]);
    cr_expect(e.start_times.valid, "/proc/stat read");
    cr_expect_gt(e.start_times.total, 0);
    cr_expect(e.turbo >= -1 && e.turbo <= 1, "turbo %d", e.turbo);
    cr_expect(e.smt_active >= -1 && e.smt_active <= 1, "smt %d", e.smt_active);
    cr_expect(e.tsc_ticks_per_ns_start > 0.01 && e.tsc_ticks_per_ns_start < 100, "%g",
              e.tsc_ticks_per_ns_start);
    cr_expect(e.freq_max_mhz == 0 || (e.freq_min_mhz >= 0 && e.freq_max_mhz >= e.freq_min_mhz));
    cr_expect(e.mhz_per_cpu >= 0 && e.mhz_per_cpu < 100000, "%g", e.mhz_per_cpu);
    cr_expect_leq(e.ncaches, PB_ENV_MAX_CACHES);
    for (unsigned i = 0; i < e.ncaches; i++) {
        cr_expect(e.caches[i].level >= 1 && e.caches[i].level <= 4, "cache %u level %u", i,
                  e.caches[i].level);
        cr_expect(e.caches[i].size_bytes >= 1024, "cache %u: %llu bytes", i,
                  (unsigned long long)e.caches[i].size_bytes);
        cr_expect_geq(e.caches[i].num_sharing, 1, "cache %u", i);
        cr_expect(e.caches[i].type[0], "cache %u type", i);
    }
    /* Strings are terminated within their fields. */
    cr_expect_lt(strnlen(e.governor, sizeof e.governor), sizeof e.governor);
    cr_expect_lt(strnlen(e.hypervisor, sizeof e.hypervisor), sizeof e.hypervisor);
    cr_expect_lt(strnlen(e.clocksource, sizeof e.clocksource), sizeof e.clocksource);
    cr_expect_eq(e.nwarnings, 0, "begin writes no warnings");

    e.max_threads = 1;
    pb_env_end(&e);
    cr_expect(e.steal_pct == -1 || (e.steal_pct >= 0 && e.steal_pct <= 100), "steal %g",
              e.steal_pct);
    for (int i = 0; i < 3; i++)
        cr_expect(e.loadavg_end[i] >= 0, "end load %d", i);
    cr_expect(isfinite(e.tsc_drift_ppm));
    /* The counter is constant on every machine pendbench targets: a short
     * recalibration agrees with the start within a percent. */
    cr_expect_lt(fabs(e.tsc_drift_ppm), 10000, "drift %g ppm", e.tsc_drift_ppm);
    cr_expect_leq(e.nwarnings, PB_ENV_MAX_WARNINGS);
    for (unsigned i = 0; i < e.nwarnings; i++)
        cr_expect(e.warnings[i][0], "warning %u is empty", i);
}

Test(env, cpu_times_sample)
{
    struct pb_cpu_times a, b;
    pb_env_cpu_times(&a);
    cr_assert(a.valid);
    cr_expect_leq(a.steal, a.total);
    /* Burn a little CPU so the counters move (USER_HZ ticks). */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t1);
    while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 30000000L);
    pb_env_cpu_times(&b);
    cr_assert(b.valid);
    cr_expect_gt(b.total, a.total, "30 ms of CPU time moved /proc/stat");
    cr_expect_geq(b.steal, a.steal);
    double pct = pb_env_steal_pct(&a, &b);
    cr_expect(pct >= 0 && pct <= 100, "%g", pct);
}

/* ---- steal arithmetic ------------------------------------------------------------- */

Test(env, steal_pct_arithmetic)
{
    struct pb_cpu_times a = {.total = 1000, .steal = 10, .valid = true};
    struct pb_cpu_times b = {.total = 1400, .steal = 30, .valid = true};
    cr_expect_float_eq(pb_env_steal_pct(&a, &b), 5.0, 1e-12);       /* 20 of 400 */
    b.steal = 10;
    cr_expect_eq(pb_env_steal_pct(&a, &b), 0.0);
    b.steal = 410;
    cr_expect_eq(pb_env_steal_pct(&a, &b), 100.0);
    /* No time passed, or time went backwards: unknown. */
    b = a;
    cr_expect_eq(pb_env_steal_pct(&a, &b), -1);
    b.total = 900;
    cr_expect_eq(pb_env_steal_pct(&a, &b), -1);
    /* Steal going backwards is a counter reset, not negative steal. */
    b = (struct pb_cpu_times){.total = 2000, .steal = 5, .valid = true};
    cr_expect_eq(pb_env_steal_pct(&a, &b), -1);
    /* Either sample invalid. */
    b = (struct pb_cpu_times){.total = 2000, .steal = 20, .valid = true};
    a.valid = false;
    cr_expect_eq(pb_env_steal_pct(&a, &b), -1);
    a.valid = true;
    b.valid = false;
    cr_expect_eq(pb_env_steal_pct(&a, &b), -1);
    cr_expect_eq(pb_env_steal_pct(NULL, &a), -1);
}

Test(env, others_share_arithmetic)
{
    double hz = (double)sysconf(_SC_CLK_TCK);
    cr_assert_gt(hz, 0);
    /* 400 ticks of machine time, 100 idle: 300 busy, of which this
     * process ran 100 ticks' worth: others took 200 of 400. */
    struct pb_cpu_times a = {.total = 1000, .idle = 500, .valid = true};
    struct pb_cpu_times b = {.total = 1400, .idle = 600, .valid = true};
    cr_expect_float_eq(pb_env_others_share(&a, &b, 100 / hz), 0.5, 1e-9);
    /* The process ran more than the counters saw busy (tick rounding): 0. */
    cr_expect_eq(pb_env_others_share(&a, &b, 400 / hz), 0.0);
    /* All of it busy elsewhere. */
    b.idle = 500;
    cr_expect_float_eq(pb_env_others_share(&a, &b, 0), 1.0, 1e-9);
    /* Unknown: no time passed, idle going backwards, a sample invalid. */
    b = a;
    cr_expect_eq(pb_env_others_share(&a, &b, 0), -1);
    b = (struct pb_cpu_times){.total = 1400, .idle = 400, .valid = true};
    cr_expect_eq(pb_env_others_share(&a, &b, 0), -1);
    b.idle = 600;
    b.valid = false;
    cr_expect_eq(pb_env_others_share(&a, &b, 0), -1);
    cr_expect_eq(pb_env_others_share(NULL, &a, 0), -1);
}

/* ---- warnings from crafted facts ---------------------------------------------------- */

/* Bare metal at its quietest: no warning. */
static void quiet(struct pb_environment *e)
{
    pb_env_init(e);
    for (int i = 0; i < 3; i++)
        e->loadavg_start[i] = e->loadavg_end[i] = 0.1;
    e->ncpus_online = e->ncpus_usable = 8;
    snprintf(e->governor, sizeof e->governor, "performance");
    e->freq_min_mhz = e->freq_max_mhz = 3000;
    e->cpu_scaling_enabled = false;
    e->turbo = 0;
    e->smt_active = 1;
    e->steal_pct = 0;
    e->tsc_constant = e->tsc_nonstop = true;
    snprintf(e->clocksource, sizeof e->clocksource, "tsc");
    e->tsc_drift_ppm = 3;
    e->max_threads = 8;
}

static bool has_warning(const struct pb_environment *e, const char *part)
{
    for (unsigned i = 0; i < e->nwarnings; i++)
        if (strstr(e->warnings[i], part))
            return true;
    return false;
}

/* Exactly one warning, containing each of the parts. */
static void expect_one(struct pb_environment *e, const char *what, const char *p1, const char *p2)
{
    pb_env_warnings(e);
    cr_expect_eq(e->nwarnings, 1, "%s: %u warnings (first: %s)", what, e->nwarnings,
                 e->warnings[0]);
    cr_expect(has_warning(e, p1), "%s: no '%s' in: %s", what, p1, e->warnings[0]);
    if (p2)
        cr_expect(has_warning(e, p2), "%s: no '%s' in: %s", what, p2, e->warnings[0]);
}

static void expect_none(struct pb_environment *e, const char *what)
{
    pb_env_warnings(e);
    cr_expect_eq(e->nwarnings, 0, "%s: %u warnings (first: %s)", what, e->nwarnings,
                 e->warnings[0]);
}

Test(env, warnings_quiet_machine)
{
    struct pb_environment e;
    quiet(&e);
    expect_none(&e, "quiet");
    /* Unknown facts are no evidence of a threat. */
    pb_env_init(&e);
    e.tsc_constant = e.tsc_nonstop = true;
    expect_none(&e, "unknown");
}

Test(env, warning_load)
{
    struct pb_environment e;
    quiet(&e);
    e.loadavg_start[0] = 4.5;                   /* > 0.5 x 8 */
    expect_one(&e, "load", "load average 4.50", "8 usable CPUs");
    e.loadavg_start[0] = 4.0;                   /* = half: not above */
    expect_none(&e, "load at half");
    e.loadavg_end[0] = 20;                      /* only the start counts */
    expect_none(&e, "load at the end");
}

Test(env, warning_frequency_scaling)
{
    struct pb_environment e;
    quiet(&e);
    e.cpu_scaling_enabled = true;
    snprintf(e.governor, sizeof e.governor, "powersave");
    e.freq_min_mhz = 800;
    expect_one(&e, "scaling", "governor 'powersave'", "800-3000 MHz");
    e.cpu_scaling_enabled = false;
    expect_none(&e, "scaling off");
}

Test(env, warning_turbo)
{
    struct pb_environment e;
    quiet(&e);
    e.turbo = 1;
    expect_one(&e, "turbo", "turbo on", "temperature");
    e.turbo = -1;
    expect_none(&e, "turbo unknown");
}

Test(env, warning_hypervisor)
{
    struct pb_environment e;
    quiet(&e);
    snprintf(e.hypervisor, sizeof e.hypervisor, "KVM");
    expect_one(&e, "hypervisor", "hypervisor KVM", "co-tenants");
    e.hypervisor[0] = '\0';
    expect_none(&e, "bare metal");
}

Test(env, warning_steal)
{
    struct pb_environment e;
    quiet(&e);
    e.steal_pct = 2.5;
    expect_one(&e, "steal", "steal time 2.5%", NULL);
    e.steal_pct = 1.0;
    expect_none(&e, "steal at 1%");
    e.steal_pct = -1;
    expect_none(&e, "steal unknown");
}

Test(env, warning_oversubscribed)
{
    struct pb_environment e;
    quiet(&e);
    e.max_threads = 9;
    expect_one(&e, "oversubscribed", "oversubscribed", "9 threads on 8 usable CPUs");
    e.max_threads = 8;
    expect_none(&e, "one thread per CPU");
}

Test(env, warning_migrations)
{
    struct pb_environment e;
    quiet(&e);
    e.migrations = 3;
    expect_one(&e, "migrations", "3 CPU migrations", NULL);
    e.migrations = 0;
    expect_none(&e, "no migrations");
}

Test(env, warning_other_processes)
{
    struct pb_environment e;
    quiet(&e);
    e.others_busy_runs = 2;
    e.others_pct_max = 61.4;
    expect_one(&e, "others", "other processes took 25% or more of the CPU time in the window of "
               "2 runs (at most 61%)", NULL);
    e.others_busy_runs = 0;
    e.others_pct_max = 20;
    expect_none(&e, "others took less than a quarter");
}

Test(env, warning_smt_siblings)
{
    struct pb_environment e;
    quiet(&e);
    e.smt_siblings_used = true;
    expect_one(&e, "smt", "SMT siblings", NULL);
    e.smt_siblings_used = false;
    expect_none(&e, "no siblings");
}

Test(env, warning_tsc)
{
    struct pb_environment e;
    quiet(&e);
    e.tsc_constant = false;
    expect_one(&e, "constant", "lacks constant_tsc:", NULL);
    e.tsc_nonstop = false;
    expect_one(&e, "both", "constant_tsc and nonstop_tsc", NULL);
    e.tsc_constant = true;
    expect_one(&e, "nonstop", "lacks nonstop_tsc", NULL);
    quiet(&e);
    snprintf(e.clocksource, sizeof e.clocksource, "hpet");
    expect_one(&e, "clocksource", "clocksource 'hpet'", NULL);
    snprintf(e.clocksource, sizeof e.clocksource, "arch_sys_counter");
    expect_none(&e, "arm64's counter");
    quiet(&e);
    e.tsc_drift_ppm = -250;
    expect_one(&e, "drift", "TSC drift -250 ppm", NULL);
    e.tsc_drift_ppm = 99;
    expect_none(&e, "drift within the limit");
}

Test(env, warnings_in_severity_order_and_bounded)
{
    struct pb_environment e;
    quiet(&e);
    e.loadavg_start[0] = 7;
    e.cpu_scaling_enabled = true;
    e.turbo = 1;
    snprintf(e.hypervisor, sizeof e.hypervisor, "Xen");
    e.steal_pct = 9;
    e.max_threads = 16;
    e.migrations = 1;
    e.smt_siblings_used = true;
    e.tsc_constant = false;
    snprintf(e.clocksource, sizeof e.clocksource, "xen");
    e.tsc_drift_ppm = 500;
    pb_env_warnings(&e);
    /* Eleven conditions, ten lines: the least severe one is dropped. */
    cr_assert_eq(e.nwarnings, PB_ENV_MAX_WARNINGS);
    static const char *const order[] = {"TSC:", "TSC drift", "oversubscribed", "load average",
                                        "steal time", "CPU migrations", "clocksource",
                                        "hypervisor", "frequency scaling", "turbo on"};
    for (unsigned i = 0; i < PB_ENV_MAX_WARNINGS; i++)
        cr_expect(strstr(e.warnings[i], order[i]) != NULL, "warning %u: '%s', want '%s'", i,
                  e.warnings[i], order[i]);
    cr_expect_not(has_warning(&e, "SMT"), "the least severe is dropped");
    /* Warnings again: the same lines, the facts untouched. */
    char first[200];
    memcpy(first, e.warnings[0], sizeof first);
    pb_env_warnings(&e);
    cr_expect_eq(e.nwarnings, PB_ENV_MAX_WARNINGS);
    cr_expect_str_eq(e.warnings[0], first);
    cr_expect_eq(e.max_threads, 16);
    for (unsigned i = 0; i < e.nwarnings; i++)
        cr_expect_lt(strlen(e.warnings[i]), sizeof e.warnings[i] - 1, "warning %u was cut: %s",
                     i, e.warnings[i]);
}

Test(env, init_is_unknown)
{
    struct pb_environment e;
    memset(&e, 0x7f, sizeof e);
    pb_env_init(&e);
    cr_expect_eq(e.loadavg_start[0], -1);
    cr_expect_eq(e.loadavg_end[2], -1);
    cr_expect_eq(e.steal_pct, -1);
    cr_expect_eq(e.turbo, -1);
    cr_expect_eq(e.smt_active, -1);
    cr_expect_eq(e.nwarnings, 0);
    cr_expect_eq(e.ncaches, 0);
    cr_expect_str_eq(e.governor, "");
}

/* ---- preemptions ------------------------------------------------------------------- */

Test(env, preemptions_monotone)
{
    uint64_t prev = pb_env_thread_preemptions();
    for (int i = 0; i < 50; i++) {
        sched_yield();
        uint64_t now = pb_env_thread_preemptions();
        cr_expect_geq(now, prev, "step %d: %llu after %llu", i, (unsigned long long)now,
                      (unsigned long long)prev);
        prev = now;
    }
}
