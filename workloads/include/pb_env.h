/* The environment a session measures in, and what in it threatens the
 * figures: load, frequency scaling, turbo, SMT, a hypervisor and its steal
 * time, oversubscription, CPU migrations, TSC stability. Recorded in every
 * result's context (reports/SCHEMA.md) and turned into warning lines.
 *
 * Everything is read from /proc and /sys, best effort: a fact that cannot
 * be found is "unknown" (-1, 0 or ""), never an error. Nothing here is on
 * a hot path; a sample is a few file reads. */
#ifndef PB_ENV_H
#define PB_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Machine-wide CPU time from the first line of /proc/stat, in USER_HZ
 * ticks: for steal time over an interval. */
struct pb_cpu_times {
    uint64_t total;            /* user+nice+system+idle+iowait+irq+softirq+steal */
    uint64_t steal;
    uint64_t idle;             /* idle+iowait */
    bool valid;
};
void pb_env_cpu_times(struct pb_cpu_times *out);
/* Steal time between two samples, in percent of all CPU time; -1 when
 * either sample is invalid or no time passed. */
double pb_env_steal_pct(const struct pb_cpu_times *a, const struct pb_cpu_times *b);
/* The share (0-1) of the machine's CPU time between two samples that
 * neither idled nor ran this process (own_cpu_s: its user+system seconds
 * in between): other processes, and steal. -1 when unknown. */
double pb_env_others_share(const struct pb_cpu_times *a, const struct pb_cpu_times *b,
                           double own_cpu_s);
/* A run's window in which other processes (and steal) took this share of
 * the machine's CPU time, in %, was theirs as much as the run's: its
 * figures carry their interference (a warning says so), and a slow window
 * there is not judged a stall. */
#define PB_OTHERS_BUSY_PCT 25.0

/* The CPUs this process may run on (sched_getaffinity); 0 unknown. */
unsigned pb_env_usable_cpus(void);

/* Involuntary context switches of the calling thread so far
 * (getrusage RUSAGE_THREAD). */
uint64_t pb_env_thread_preemptions(void);

struct pb_cache_info {
    unsigned level;            /* 1, 2, 3 */
    char type[16];             /* "Data", "Instruction", "Unified" */
    uint64_t size_bytes;
    unsigned num_sharing;      /* CPUs sharing one instance */
};

#define PB_ENV_MAX_CACHES 8
#define PB_ENV_MAX_WARNINGS 10

struct pb_environment {
    /* At the start of the session, and at its end. */
    double loadavg_start[3], loadavg_end[3];     /* 1, 5, 15 min; -1 unknown */
    unsigned ncpus_online, ncpus_usable;
    /* Frequency scaling (cpufreq of the usable CPUs). */
    char governor[32];         /* "performance", "powersave", "mixed", "" unknown */
    double freq_min_mhz, freq_max_mhz;           /* cpuinfo_min/max_freq; 0 unknown */
    double mhz_per_cpu;        /* the current (or nominal) MHz of CPU 0; 0 unknown */
    bool cpu_scaling_enabled;  /* a governor other than performance (as Google Benchmark) */
    int turbo;                 /* 1 on, 0 off, -1 unknown (intel_pstate/no_turbo, cpufreq/boost) */
    int smt_active;            /* /sys/devices/system/cpu/smt/active: 1, 0, -1 unknown */
    bool smt_siblings_used;    /* a run had two of its threads on sibling hardware threads */
    char hypervisor[32];       /* "" none detected; "KVM", "Xen", "VMware", "hypervisor" */
    double steal_pct;          /* over the session, % of CPU time; -1 unknown */
    /* TSC: what makes pb_tsc_now() a valid clock. */
    bool tsc_constant, tsc_nonstop;              /* /proc/cpuinfo flags */
    char clocksource[32];      /* the kernel's current clocksource */
    double tsc_drift_ppm;      /* ticks/ns recalibrated at the end vs the start; 0 not measured */
    /* The runs, summed by the caller. */
    unsigned max_threads;      /* the most threads one run started */
    uint64_t migrations;
    unsigned others_busy_runs; /* runs whose window others took >= PB_OTHERS_BUSY_PCT of */
    double others_pct_max;     /* the most they took of one run's window, % */
    unsigned ncaches;
    struct pb_cache_info caches[PB_ENV_MAX_CACHES];
    /* Lines for a person: what threatens the figures. */
    unsigned nwarnings;
    char warnings[PB_ENV_MAX_WARNINGS][200];
    struct pb_cpu_times start_times;             /* pb_env_begin's sample (not written) */
    double tsc_ticks_per_ns_start;               /* likewise */
};

/* Every fact "unknown" (-1 where the field says so, else 0 or ""), no
 * warnings: the environment of a context nobody measured (an older result
 * file, a context before pb_env_begin). */
void pb_env_init(struct pb_environment *e);
/* Fills the static facts and the start sample (load, /proc/stat). */
void pb_env_begin(struct pb_environment *e);
/* Takes the end sample, recalibrates the TSC to measure its drift, and
 * writes the warnings from everything known (the caller sets max_threads,
 * migrations, smt_siblings_used and the others_ fields first). */
void pb_env_end(struct pb_environment *e);
/* The warnings again, from the recorded facts alone (for a document read
 * back from a file); leaves the facts untouched. */
void pb_env_warnings(struct pb_environment *e);

#endif
