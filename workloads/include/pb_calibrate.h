/* The floors a run is judged against, measured in the same process:
 * the core-to-core cache-line round trip between two CPUs, the cost of a
 * timestamp (the instrumentation's own cost), and the futex wake-to-run
 * time (what a parked worker costs). */
#ifndef PB_CALIBRATE_H
#define PB_CALIBRATE_H

#include <stdint.h>

struct pb_floor {
    double median_ns;
    double p10_ns, p90_ns;
    unsigned samples;
};

/* Ping-pong of one cache line between threads bound to os_cpu_a and
 * os_cpu_b (the same CPU is allowed: then it measures a handoff through
 * the scheduler and says so in the return value 1). 0 ok, 1 same CPU,
 * -1 failed (threads could not start). Bounded: about `ms` milliseconds. */
int pb_measure_c2c_round_trip(unsigned os_cpu_a, unsigned os_cpu_b, unsigned ms,
                              struct pb_floor *out);
/* Back-to-back pb_tsc_now() pairs: the cost of one timestamp. */
void pb_measure_timestamp_cost(struct pb_floor *out);
/* Wake-to-run through a futex: one thread sleeps, the other wakes it and
 * measures until the sleeper has run (round trip / 2 of the handoff). */
int pb_measure_futex_wake(unsigned os_cpu_a, unsigned os_cpu_b, unsigned ms, struct pb_floor *out);

#endif
