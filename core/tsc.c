/* TSC calibration against CLOCK_MONOTONIC, once per process. */
#include <math.h>
#include <stdatomic.h>
#include <time.h>

#include "pb_tsc.h"

static _Atomic double ticks_per_ns;   /* 0 until calibrated */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double pb_tsc_calibrate(unsigned ms)
{
    double have = atomic_load_explicit(&ticks_per_ns, memory_order_acquire);
    if (have > 0)
        return have;
    if (ms == 0)
        ms = 50;
    /* Bracket each read of the monotonic clock with TSC reads and keep the
     * tightest bracket at both ends, so a preemption cannot skew it. */
    uint64_t t0 = 0, c0 = 0, t1 = 0, c1 = 0, best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t a = pb_tsc_now(), n = mono_ns(), b = pb_tsc_now();
        if (b - a < best) { best = b - a; t0 = n; c0 = a + (b - a) / 2; }
    }
    uint64_t end = mono_ns() + (uint64_t)ms * 1000000u;
    while (mono_ns() < end)
        ;
    best = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t a = pb_tsc_now(), n = mono_ns(), b = pb_tsc_now();
        if (b - a < best) { best = b - a; t1 = n; c1 = a + (b - a) / 2; }
    }
    double r = (t1 > t0 && c1 > c0) ? (double)(c1 - c0) / (double)(t1 - t0) : 1.0;
    double expected = 0;
    /* First calibration wins; concurrent callers agree on it. */
    if (!atomic_compare_exchange_strong(&ticks_per_ns, &expected, r))
        return expected;
    return r;
}

double pb_tsc_ticks_per_ns(void)
{
    double have = atomic_load_explicit(&ticks_per_ns, memory_order_acquire);
    return have > 0 ? have : pb_tsc_calibrate(0);
}

uint64_t pb_ns_to_tsc(uint64_t ns)
{
    return (uint64_t)llround((double)ns * pb_tsc_ticks_per_ns());
}

void pb_spin_ns(uint64_t ns)
{
    if (ns == 0)
        return;
    uint64_t end = pb_tsc_now() + pb_ns_to_tsc(ns);
    while (pb_tsc_now() < end)
        pb_cpu_relax();
}
