/* The log-linear histogram: bin layout (round trips, bounded relative
 * width), percentiles on known distributions, exact merges, percentiles
 * from merged histograms rather than averaged, and the tick scale. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pb_hist.h"

static struct pb_hist *new_hist(void)
{
    struct pb_hist *h = malloc(sizeof *h);
    cr_assert_not_null(h);
    pb_hist_init(h);
    return h;
}

/* splitmix64: deterministic test data. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static const uint64_t TOP = UINT64_C(1) << PB_HIST_MAX_POW;

/* Everything a value's bin must satisfy. */
static void check_value(uint64_t v)
{
    unsigned b = pb_hist_bin(v);
    cr_assert_lt(b, PB_HIST_BINS, "v=%llu bin %u", (unsigned long long)v, b);
    uint64_t lo = pb_hist_bin_lo(b), hi = pb_hist_bin_hi(b);
    cr_assert(lo <= v && v <= hi, "v=%llu bin %u [%llu, %llu]", (unsigned long long)v, b,
              (unsigned long long)lo, (unsigned long long)hi);
    if (v < TOP) {
        if (b == PB_HIST_BINS - 1)
            hi = TOP - 1;               /* its nominal top; it also holds the overflow */
        /* Relative width of the bin (and so the error of any value it
         * stands for) at most 2^-SUB_BITS. */
        uint64_t width = hi - lo + 1;
        cr_assert(width == 1 || (double)width <= ldexp((double)lo, -PB_HIST_SUB_BITS),
                  "v=%llu width %llu lo %llu", (unsigned long long)v,
                  (unsigned long long)width, (unsigned long long)lo);
        cr_assert_leq((double)(hi - v), ldexp((double)v, -PB_HIST_SUB_BITS));
    } else {
        cr_assert_eq(b, PB_HIST_BINS - 1, "past the top: last bin");
    }
}

Test(hist, bin_round_trip)
{
    for (uint64_t v = 0; v < 5000; v++)
        check_value(v);
    for (unsigned k = 0; k < 64; k++) {
        uint64_t p = UINT64_C(1) << k;
        check_value(p);
        check_value(p - 1);
        check_value(p + 1);
    }
    check_value(UINT64_MAX);
    check_value(UINT64_MAX - 1);
    uint64_t s = 42;
    for (int i = 0; i < 200000; i++) {
        uint64_t r = rng_next(&s);
        check_value(r >> (r & 63));     /* every magnitude */
        check_value(r % (TOP + 1000));
    }
}

Test(hist, bins_tile_the_range)
{
    /* Every bin is non-empty, starts right after the previous one ends,
     * and its lo and hi map back to it: lo/hi are exact inverses. */
    cr_assert_eq(pb_hist_bin_lo(0), 0);
    for (unsigned b = 0; b < PB_HIST_BINS; b++) {
        uint64_t lo = pb_hist_bin_lo(b), hi = pb_hist_bin_hi(b);
        cr_assert_leq(lo, hi, "bin %u", b);
        cr_assert_eq(pb_hist_bin(lo), b, "bin %u lo %llu", b, (unsigned long long)lo);
        cr_assert_eq(pb_hist_bin(hi), b, "bin %u hi %llu", b, (unsigned long long)hi);
        if (b + 1 < PB_HIST_BINS)
            cr_assert_eq(pb_hist_bin_lo(b + 1), hi + 1, "bin %u", b);
    }
    /* All of 0 .. 2^MAX_POW-1 is covered without the last bin's overflow. */
    cr_assert_eq(pb_hist_bin(TOP - 1), PB_HIST_BINS - 1);
    cr_assert_eq(pb_hist_bin_lo(PB_HIST_BINS - 1) + (UINT64_C(1) << (PB_HIST_MAX_POW - 1 -
                                                                       PB_HIST_SUB_BITS)),
                 TOP);
    cr_assert_eq(pb_hist_bin_hi(PB_HIST_BINS - 1), UINT64_MAX);
    /* Values below 2^(SUB_BITS+1) are exact. */
    for (uint64_t v = 0; v < (2u << PB_HIST_SUB_BITS); v++)
        cr_assert_eq(pb_hist_bin(v), v);
}

Test(hist, init_and_empty)
{
    struct pb_hist *h = new_hist();
    cr_assert_eq(h->count, 0);
    cr_assert_eq(h->min, UINT64_MAX);
    cr_assert_eq(h->max, 0);
    cr_assert_eq(pb_hist_percentile(h, 50), 0);
    cr_assert_eq(pb_hist_percentile(h, 100), 0);
    cr_assert_eq(pb_hist_percentile(h, 0), 0);
    cr_assert_eq(pb_hist_mean(h), 0.0);
    struct pb_hist *g = new_hist();
    pb_hist_merge(g, h);
    cr_assert_eq(g->count, 0);
    cr_assert_eq(g->min, UINT64_MAX);
    cr_assert_eq(g->max, 0);
    free(h);
    free(g);
}

static bool within(uint64_t got, uint64_t want, double rel)
{
    return fabs((double)got - (double)want) <= rel * (double)want;
}

Test(hist, uniform)
{
    struct pb_hist *h = new_hist();
    for (uint64_t v = 1; v <= 100000; v++)
        pb_hist_record(h, v);
    cr_assert_eq(h->count, 100000);
    cr_assert_eq(h->min, 1);
    cr_assert_eq(h->max, 100000);
    uint64_t p50 = pb_hist_percentile(h, 50), p99 = pb_hist_percentile(h, 99);
    cr_expect(within(p50, 50000, 0.01), "p50 %llu", (unsigned long long)p50);
    cr_expect(within(p99, 99000, 0.01), "p99 %llu", (unsigned long long)p99);
    /* Never below the exact answer, never more than one bin above. */
    cr_expect_geq(p50, 50000);
    cr_expect_geq(p99, 99000);
    cr_expect_eq(pb_hist_percentile(h, 100), 100000);
    cr_expect_eq(pb_hist_percentile(h, 0), 1);
    cr_expect_eq(pb_hist_percentile(h, -5), 1);
    cr_expect_eq(pb_hist_percentile(h, 1e-9), 1);
    cr_expect(fabs(pb_hist_mean(h) - 50000.5) < 1e-6);
    free(h);
}

Test(hist, constant)
{
    const uint64_t vals[] = { 0, 1, 127, 128, 255, 256, 1000, 123457, 999999937ull,
                              (UINT64_C(1) << 39) + 12345, TOP + 5 };
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        struct pb_hist *h = new_hist();
        for (int i = 0; i < 1000; i++)
            pb_hist_record(h, vals[k]);
        const double ps[] = { 0, 0.1, 1, 10, 50, 90, 99, 99.9, 99.99, 100 };
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++)
            cr_expect_eq(pb_hist_percentile(h, ps[j]), vals[k], "value %llu p%g -> %llu",
                         (unsigned long long)vals[k], ps[j],
                         (unsigned long long)pb_hist_percentile(h, ps[j]));
        free(h);
    }
}

Test(hist, two_point)
{
    struct pb_hist *h = new_hist();
    for (int i = 0; i < 900; i++)
        pb_hist_record(h, 1000);
    for (int i = 0; i < 100; i++)
        pb_hist_record(h, 5000000);
    uint64_t p50 = pb_hist_percentile(h, 50), p90 = pb_hist_percentile(h, 90);
    /* Rank 900 is the last 1000 (bin hi is within 1%); rank 901 onward the
     * high value, exactly (clamped to max). */
    cr_expect(p50 >= 1000 && within(p50, 1000, 0.01), "p50 %llu", (unsigned long long)p50);
    cr_expect(p90 >= 1000 && within(p90, 1000, 0.01), "p90 %llu", (unsigned long long)p90);
    cr_expect_eq(pb_hist_percentile(h, 90.1), 5000000);
    cr_expect_eq(pb_hist_percentile(h, 99), 5000000);
    cr_expect_eq(pb_hist_percentile(h, 100), 5000000);
    cr_expect_eq(pb_hist_percentile(h, 0), 1000);
    free(h);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

Test(hist, percentile_against_exact)
{
    /* Skewed random data: the answer is at or above the exact nearest-rank
     * value and within the bin's relative width of it. */
    enum { N = 50000 };
    uint64_t *v = malloc(sizeof(uint64_t) * N);
    cr_assert_not_null(v);
    struct pb_hist *h = new_hist();
    uint64_t s = 7;
    for (int i = 0; i < N; i++) {
        uint64_t r = rng_next(&s);
        v[i] = (r & 0xffff) << ((r >> 16) % 24);
        pb_hist_record(h, v[i]);
    }
    qsort(v, N, sizeof v[0], cmp_u64);
    const double ps[] = { 0.5, 1, 10, 25, 50, 75, 90, 99, 99.5, 99.9, 99.99 };
    for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) {
        size_t rank = (size_t)ceil(ps[j] * N / 100.0);
        uint64_t exact = v[rank - 1];
        uint64_t got = pb_hist_percentile(h, ps[j]);
        cr_expect_geq(got, exact, "p%g", ps[j]);
        cr_expect_leq((double)(got - exact), ldexp((double)exact, -PB_HIST_SUB_BITS),
                      "p%g exact %llu got %llu", ps[j], (unsigned long long)exact,
                      (unsigned long long)got);
    }
    cr_expect_eq(pb_hist_percentile(h, 100), v[N - 1]);
    cr_expect_eq(h->min, v[0]);
    free(v);
    free(h);
}

Test(hist, merge_is_exact)
{
    struct pb_hist *a = new_hist(), *b = new_hist(), *all = new_hist();
    uint64_t s = 99;
    for (int i = 0; i < 30000; i++) {
        uint64_t r = rng_next(&s);
        uint64_t x = (r & 0xfffff) >> ((r >> 20) % 20);
        pb_hist_record(a, x);
        pb_hist_record(all, x);
    }
    for (int i = 0; i < 20000; i++) {
        uint64_t r = rng_next(&s);
        uint64_t x = 500 + ((r & 0xffffff) << ((r >> 24) % 12));
        pb_hist_record(b, x);
        pb_hist_record(all, x);
    }
    pb_hist_record(b, TOP * 3);             /* past the top */
    pb_hist_record(all, TOP * 3);
    pb_hist_merge(a, b);
    cr_assert_eq(a->count, all->count);
    cr_assert_eq(a->min, all->min);
    cr_assert_eq(a->max, all->max);
    cr_assert_eq(a->max, TOP * 3);
    cr_assert(fabs(a->sum - all->sum) <= 1e-9 * all->sum);
    cr_assert_eq(memcmp(a->bins, all->bins, sizeof a->bins), 0, "bin by bin");
    const double ps[] = { 1, 50, 90, 99, 99.9, 100 };
    for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++)
        cr_expect_eq(pb_hist_percentile(a, ps[j]), pb_hist_percentile(all, ps[j]));
    /* Merging into an empty histogram copies it. */
    struct pb_hist *e = new_hist();
    pb_hist_merge(e, all);
    cr_assert_eq(memcmp(e, all, sizeof *e), 0);
    free(a);
    free(b);
    free(all);
    free(e);
}

Test(hist, merged_percentiles_are_not_averaged)
{
    /* A fast thread and a slow one: the p99 of the union is the slow
     * value; averaging the two p99s gives a latency nobody saw. */
    struct pb_hist *fast = new_hist(), *slow = new_hist();
    for (int i = 0; i < 1000; i++)
        pb_hist_record(fast, 100);
    for (int i = 0; i < 100; i++)
        pb_hist_record(slow, 1000000);
    uint64_t averaged = (pb_hist_percentile(fast, 99) + pb_hist_percentile(slow, 99)) / 2;
    pb_hist_merge(fast, slow);
    uint64_t merged = pb_hist_percentile(fast, 99);
    /* 1100 values, rank ceil(1089) = 1089 > 1000: one of the slow ones. */
    cr_expect_eq(merged, 1000000);
    cr_expect_neq(merged, averaged, "averaged %llu", (unsigned long long)averaged);
    /* And p50 of the union is the fast value. */
    cr_expect_eq(pb_hist_percentile(fast, 50), 100);
    free(fast);
    free(slow);
}

Test(hist, beyond_the_top)
{
    struct pb_hist *h = new_hist();
    pb_hist_record(h, 10);
    pb_hist_record(h, TOP);
    pb_hist_record(h, UINT64_MAX);
    cr_expect_eq(pb_hist_bin(TOP), PB_HIST_BINS - 1);
    cr_expect_eq(pb_hist_bin(UINT64_MAX), PB_HIST_BINS - 1);
    cr_expect_eq(h->bins[PB_HIST_BINS - 1], 2);
    cr_expect_eq(h->max, UINT64_MAX, "max stays exact");
    cr_expect_eq(pb_hist_percentile(h, 100), UINT64_MAX);
    cr_expect_eq(pb_hist_percentile(h, 50), UINT64_MAX,
                 "rank 2 falls in the last bin, whose hi clamps to max");
    cr_expect_eq(pb_hist_percentile(h, 10), 10);
    free(h);
}

Test(hist, tick_scale)
{
    const double tpns[] = { 0.001, 0.25, 0.5, 1.0, 1.0 / 3, 1.7, 2.0, 2.1, 2.399999, 2.5,
                            2.918, 3.0, 3.7, 4.2, 1000.0 };
    uint64_t s = 3;
    for (size_t k = 0; k < sizeof tpns / sizeof tpns[0]; k++) {
        struct pb_tick_scale sc;
        pb_tick_scale_init(&sc, tpns[k]);
        cr_assert_leq(sc.shift, 64);
        for (int i = 0; i < 20000; i++) {
            uint64_t t;
            if (i < 41)
                t = (UINT64_C(1) << i) - (i > 0);
            else
                t = rng_next(&s) >> (24 + (rng_next(&s) % 40));   /* up to 2^40 */
            double exact = (double)t / tpns[k];
            uint64_t got = pb_ticks_to_ns(&sc, t);
            double err = fabs((double)got - exact);
            /* Truncation to whole ns, plus < 0.01% of the value. */
            cr_assert(err <= 1.0 + 1e-4 * exact, "tpn %g ticks %llu: %llu vs %f", tpns[k],
                      (unsigned long long)t, (unsigned long long)got, exact);
            if (exact >= 1e6)
                cr_assert(err <= 1e-4 * exact);
        }
        /* 2^40 ticks exactly, the stated range. */
        double exact = ldexp(1.0, 40) / tpns[k];
        double got = (double)pb_ticks_to_ns(&sc, UINT64_C(1) << 40);
        cr_assert(fabs(got - exact) <= 1e-6 * exact, "tpn %g", tpns[k]);
    }
    /* Nonsense in: identity, no crash. */
    struct pb_tick_scale sc;
    pb_tick_scale_init(&sc, 0);
    cr_expect_eq(pb_ticks_to_ns(&sc, 12345), 12345);
    pb_tick_scale_init(&sc, NAN);
    cr_expect_eq(pb_ticks_to_ns(&sc, 12345), 12345);
}
