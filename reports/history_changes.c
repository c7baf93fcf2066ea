/* E-divisive means with a permutation test (pb_changes.h).
 *
 * For a stretch Z of length L split at t into X = Z[0..t) (m points) and
 * Y = Z[t..L) (k points), with d the absolute difference:
 *   E = 2/(m k) sum d(X_i, Y_j) - 1/C(m,2) sum_{i<j} d(X_i, X_j)
 *                               - 1/C(k,2) sum_{i<j} d(Y_i, Y_j)
 *   Q = m k / (m + k) * E
 * Q is computed for every t of a stretch in O(L^2): with B[i] the sum of
 * d(Z_i, Z_j) over j < i and A[i] over j > i, the within-X sum is the sum
 * of B over X, the within-Y sum the sum of A over Y, and the cross sum what
 * is left of the total. The split's end is the stretch's end (as Otava
 * does), rather than also searching over it as the paper's estimator does:
 * the recursion finds the other end as the next change. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pb_changes.h"

/* splitmix64 (Steele, Lea, Flood 2014): a small, well-mixed generator. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, bound), without modulo bias (rejection). */
static unsigned random_below(uint64_t *state, unsigned bound)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do
        r = next_random(state);
    while (r >= limit);
    return (unsigned)(r % bound);
}

/* The best split of z[0..len): its Q, and t (the first index of Y); -1
 * when the stretch is too short to split. scratch: 2 * len doubles. */
static double best_split(const double *z, unsigned len, unsigned min_size, double *scratch,
                         unsigned *t_out)
{
    if (len < 2 * min_size)
        return -1;
    double *before = scratch, *after = scratch + len;
    for (unsigned i = 0; i < len; i++)
        before[i] = after[i] = 0;
    for (unsigned i = 0; i < len; i++)
        for (unsigned j = i + 1; j < len; j++) {
            double d = fabs(z[i] - z[j]);
            after[i] += d;
            before[j] += d;
        }
    double total = 0;
    for (unsigned i = 0; i < len; i++)
        total += before[i];
    /* within_x over [0, t), within_y over [t, len), moved one point at a time. */
    double within_x = 0, within_y = total;
    double best = -1;
    unsigned best_t = 0;
    for (unsigned t = 1; t < len; t++) {
        within_x += before[t - 1];
        within_y -= after[t - 1];
        if (t < min_size || len - t < min_size)
            continue;
        double m = t, k = len - t;
        double cross = total - within_x - within_y;
        double e = 2 * cross / (m * k) - within_x / (m * (m - 1) / 2) - within_y / (k * (k - 1) / 2);
        double q = m * k / (m + k) * e;
        if (q > best) {
            best = q;
            best_t = t;
        }
    }
    *t_out = best_t;
    return best;
}

/* The candidate over every stretch between the cuts: the largest Q, its
 * absolute index; -1 when no stretch can be split. */
static double candidate(const double *x, const unsigned *cuts, unsigned ncuts, unsigned min_size,
                        double *scratch, unsigned *at)
{
    double best = -1;
    for (unsigned s = 0; s + 1 < ncuts; s++) {
        unsigned t = 0;
        double q = best_split(x + cuts[s], cuts[s + 1] - cuts[s], min_size, scratch, &t);
        if (q > best) {
            best = q;
            *at = cuts[s] + t;
        }
    }
    return best;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(const double *x, unsigned n, double *scratch)
{
    memcpy(scratch, x, n * sizeof *x);
    qsort(scratch, n, sizeof *scratch, cmp_double);
    return n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
}

int pb_changes_find(const double *x, unsigned n, const struct pb_change_options *opts,
                    struct pb_change *out, unsigned max)
{
    struct pb_change_options o = opts ? *opts : (struct pb_change_options){ 0 };
    if (o.alpha == 0)
        o.alpha = 0.05;
    if (!o.permutations)
        o.permutations = 199;
    if (!o.min_size)
        o.min_size = 3;
    if (!(o.alpha > 0 && o.alpha < 1) || o.min_size < 2)
        return -1;
    if (n < 2 * o.min_size)
        return 0;
    for (unsigned i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return -1;
    /* cuts: 0, the changes so far in order, n. */
    unsigned *cuts = malloc((n + 2) * sizeof *cuts);
    double *p_values = malloc((n + 2) * sizeof *p_values);
    double *scratch = malloc(2 * (size_t)n * sizeof *scratch);
    double *shuffled = malloc((size_t)n * sizeof *shuffled);
    if (!cuts || !p_values || !scratch || !shuffled) {
        free(cuts), free(p_values), free(scratch), free(shuffled);
        return -1;
    }
    unsigned ncuts = 2;
    cuts[0] = 0;
    cuts[1] = n;
    uint64_t rng = o.seed;
    for (;;) {
        unsigned at = 0;
        double q = candidate(x, cuts, ncuts, o.min_size, scratch, &at);
        if (q <= 0)
            break;                     /* nothing to split, or no difference at all */
        unsigned reached = 0;
        for (unsigned r = 0; r < o.permutations; r++) {
            memcpy(shuffled, x, n * sizeof *x);
            for (unsigned s = 0; s + 1 < ncuts; s++) {
                double *z = shuffled + cuts[s];
                for (unsigned i = cuts[s + 1] - cuts[s]; i > 1; i--) {
                    unsigned j = random_below(&rng, i);
                    double tmp = z[i - 1];
                    z[i - 1] = z[j];
                    z[j] = tmp;
                }
            }
            unsigned ignored;
            if (candidate(shuffled, cuts, ncuts, o.min_size, scratch, &ignored) >= q)
                reached++;
        }
        double p = (reached + 1.0) / (o.permutations + 1.0);
        if (p > o.alpha)
            break;
        unsigned pos = 1;
        while (cuts[pos] < at)
            pos++;
        memmove(cuts + pos + 1, cuts + pos, (ncuts - pos) * sizeof *cuts);
        memmove(p_values + pos + 1, p_values + pos, (ncuts - pos) * sizeof *p_values);
        cuts[pos] = at;
        p_values[pos] = p;
        ncuts++;
    }
    unsigned found = ncuts - 2;
    for (unsigned c = 1; c + 1 < ncuts && c - 1 < max; c++) {
        struct pb_change *ch = &out[c - 1];
        ch->index = cuts[c];
        ch->p_value = p_values[c];
        ch->median_before = median_of(x + cuts[c - 1], cuts[c] - cuts[c - 1], scratch);
        ch->median_after = median_of(x + cuts[c], cuts[c + 1] - cuts[c], scratch);
        ch->shift = ch->median_before != 0
                        ? (ch->median_after - ch->median_before) / fabs(ch->median_before)
                        : 0;
    }
    free(cuts), free(p_values), free(scratch), free(shuffled);
    return (int)found;
}
