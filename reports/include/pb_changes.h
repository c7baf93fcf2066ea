/* Change points in a series of figures (one per invocation, oldest first):
 * E-divisive means (Matteson and James, "A Nonparametric Approach for
 * Multiple Change Point Analysis of Multivariate Data", JASA 2014), the
 * method MongoDB's performance CI and Apache Otava (formerly Hunter) use
 * to find the commits that shift a benchmark.
 *
 * The energy statistic with alpha = 1 (plain distances) measures how far
 * apart the distributions of two stretches of the series are; the split of
 * a stretch that maximises it is a candidate, and stretches are bisected
 * recursively. A candidate is a change only when it is significant: the
 * same maximum over the stretches, recomputed after shuffling the values
 * within each stretch (a seeded permutation test), reaches it in few of
 * the permutations (p-value <= alpha). No distribution is assumed; an
 * outlier weighs by its distance (alpha = 1), so a few points at twice
 * the level leave a 10% step visible, while many far larger ones can hide
 * it. */
#ifndef PB_CHANGES_H
#define PB_CHANGES_H

#include <stddef.h>
#include <stdint.h>

struct pb_change_options {
    double alpha;              /* significance of each change; 0: 0.05 */
    unsigned permutations;     /* 0: 199 */
    uint64_t seed;             /* of the permutations: the same series and seed, the same answer */
    unsigned min_size;         /* the fewest points on each side of a change; 0: 3 */
};

struct pb_change {
    unsigned index;            /* the first point after the change */
    double p_value;            /* of the permutation test when it was accepted */
    double median_before;      /* of the points since the previous change (or the start) */
    double median_after;       /* of the points up to the next change (or the end) */
    double shift;              /* (after - before) / |before|; 0 when before is 0 */
};

/* The changes in x[0..n), by index, at most max of them (out may be NULL
 * with max 0 to count). Returns how many were found (maybe more than max),
 * or -1 when out of memory or opts are out of range (alpha not in (0, 1)). */
int pb_changes_find(const double *x, unsigned n, const struct pb_change_options *opts,
                    struct pb_change *out, unsigned max);

#endif
