/* Decisions of run.c, for the tests (not a public header: pendbench calls
 * them only through pb_run). */
#ifndef PB_RUN_INTERNAL_H
#define PB_RUN_INTERNAL_H

#include <stdint.h>

#include "pb_run.h"
#include "pb_scenario.h"

/* Marks out->stalled, and fails out->invariants with the reason when they
 * still hold, when the window (out->seconds, out's outcome counts)
 * completed nothing, or under a tenth of the warm-up's rate (warmup_ops
 * in warmup_s; held to the on share of a burst). A partial run is not
 * judged; neither is a warm-up or a window too short to say anything,
 * nor a slow (not empty) window in which out->others_pct (-1 unknown) of
 * the machine's CPU time, PB_OTHERS_BUSY_PCT or more, went to other
 * processes or steal. */
void pb_run__judge_stall(const struct pb_scenario *sc, uint64_t warmup_ops, double warmup_s,
                         struct pb_run_result *out);

#endif
