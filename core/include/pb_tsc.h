/* Timestamps from the TSC, calibrated once against CLOCK_MONOTONIC; no
 * system call on the hot path. */
#ifndef PB_TSC_H
#define PB_TSC_H

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t pb_tsc_now(void) { return __rdtsc(); }
#else
#include <time.h>
static inline uint64_t pb_tsc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

/* Measures ticks per nanosecond over about `ms` milliseconds (first call
 * with ms = 0 uses 50). Later calls return the first result. */
double pb_tsc_calibrate(unsigned ms);
double pb_tsc_ticks_per_ns(void);   /* calibrating on first use */
static inline double pb_tsc_to_ns(uint64_t ticks) { return (double)ticks / pb_tsc_ticks_per_ns(); }
uint64_t pb_ns_to_tsc(uint64_t ns);

/* Busy-waits for about ns nanoseconds (a simulated service time). */
void pb_spin_ns(uint64_t ns);

static inline void pb_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
