/* Change points (pb_changes.h) on synthetic series with known steps,
 * noise and outliers: the planted steps are found where they are, pure
 * noise shows no change more often than the significance allows, and the
 * answer depends only on the series and the seed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pb_changes.h"

/* A seeded normal generator for the tests (Box-Muller over xorshift64*). */
static uint64_t state;

static double uniform(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return ((state * 0x2545f4914f6cdd1dull) >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(double mean, double sd)
{
    double u = uniform(), v = uniform();
    if (u < 1e-300)
        u = 1e-300;
    return mean + sd * sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void seed(uint64_t s)
{
    state = s * 0x9e3779b97f4a7c15ull + 1;
}

TestSuite(changes, .timeout = 60);

Test(changes, one_step)
{
    double x[60];
    seed(1);
    for (unsigned i = 0; i < 60; i++)
        x[i] = normal(i < 30 ? 100 : 110, 2);
    struct pb_change c[8];
    struct pb_change_options o = { .seed = 7 };
    int n = pb_changes_find(x, 60, &o, c, 8);
    cr_assert_eq(n, 1);
    cr_expect_eq(c[0].index, 30);
    cr_expect(c[0].p_value <= 0.05, "p %f", c[0].p_value);
    cr_expect(fabs(c[0].median_before - 100) < 1.5, "%f", c[0].median_before);
    cr_expect(fabs(c[0].median_after - 110) < 1.5, "%f", c[0].median_after);
    cr_expect(c[0].shift > 0.08 && c[0].shift < 0.12, "%f", c[0].shift);
}

Test(changes, two_steps_up_and_down)
{
    double x[60];
    seed(2);
    for (unsigned i = 0; i < 60; i++)
        x[i] = normal(i < 20 ? 50 : i < 40 ? 40 : 55, 1.5);
    struct pb_change c[8];
    struct pb_change_options o = { .seed = 3 };
    int n = pb_changes_find(x, 60, &o, c, 8);
    cr_assert_eq(n, 2);
    cr_expect_eq(c[0].index, 20);
    cr_expect_eq(c[1].index, 40);
    cr_expect(c[0].shift < -0.15 && c[1].shift > 0.3, "%f %f", c[0].shift, c[1].shift);
    /* Medians of the segments between changes. */
    cr_expect(fabs(c[0].median_after - c[1].median_before) < 1e-12);
}

/* Outliers on both sides of the step (two at twice the level, one at 60%:
 * each ten steps away) neither hide the step nor become changes. Far
 * larger ones do dilute it: with alpha = 1 a distance grows with the
 * outlier, so three points at 3x would hide a 10% step in 50 points. */
Test(changes, outliers)
{
    double x[50];
    seed(3);
    for (unsigned i = 0; i < 50; i++)
        x[i] = normal(i < 25 ? 1000 : 900, 10);
    x[6] = 1800;
    x[33] = 2100;
    x[44] = 600;
    struct pb_change c[8];
    struct pb_change_options o = { .seed = 11 };
    int n = pb_changes_find(x, 50, &o, c, 8);
    cr_assert_eq(n, 1);
    cr_expect_eq(c[0].index, 25);
    cr_expect(c[0].shift < -0.08 && c[0].shift > -0.12, "%f", c[0].shift);
}

/* A step at the end, with only min_size points after it: what a CI gate
 * sees the commit after a regression lands and is measured three times. */
Test(changes, step_at_the_end)
{
    double x[23];
    seed(4);
    for (unsigned i = 0; i < 23; i++)
        x[i] = normal(i < 20 ? 200 : 260, 3);
    struct pb_change c[4];
    int n = pb_changes_find(x, 23, &(struct pb_change_options){ .seed = 5 }, c, 4);
    cr_assert_eq(n, 1);
    cr_expect_eq(c[0].index, 20);
}

/* Series with a change among 50 noise series at significance alpha. */
static unsigned noise_changes(double alpha)
{
    unsigned with_change = 0;
    for (unsigned s = 0; s < 50; s++) {
        double x[30];
        seed(100 + s);
        for (unsigned i = 0; i < 30; i++)
            x[i] = normal(100, 5);
        struct pb_change_options o = { .alpha = alpha, .seed = s };
        int n = pb_changes_find(x, 30, &o, NULL, 0);
        cr_assert_geq(n, 0);
        with_change += n > 0;
    }
    return with_change;
}

/* Pure noise: the share of series with any change stays near alpha (the
 * permutation test is calibrated: neither never nor too often). */
Test(changes, no_false_changes_in_noise)
{
    /* 0.05 of 50 is 2.5; binomial, 5 or fewer is well within its spread. */
    unsigned n = noise_changes(0.05);
    cr_expect_leq(n, 5, "%u of 50 noise series had a change at alpha 0.05", n);
    /* 0.2 of 50 is 10 (sd 2.8). */
    n = noise_changes(0.2);
    cr_expect(n >= 4 && n <= 16, "%u of 50 noise series had a change at alpha 0.2", n);
}

Test(changes, constant_and_short_series)
{
    double x[20];
    for (unsigned i = 0; i < 20; i++)
        x[i] = 42;
    cr_expect_eq(pb_changes_find(x, 20, NULL, NULL, 0), 0);
    /* Too short to split with 3 points a side. */
    double y[5] = { 1, 1, 1, 9, 9 };
    cr_expect_eq(pb_changes_find(y, 5, NULL, NULL, 0), 0);
    /* 2 a side allowed: a clear step is found. */
    double z[6] = { 1, 1.1, 0.9, 9, 9.1, 8.9 };
    struct pb_change c[2];
    cr_expect_eq(pb_changes_find(z, 6, &(struct pb_change_options){ .min_size = 3 }, c, 2), 0,
                 "6 points cannot reach p <= 0.05: only 20 orderings");
    cr_expect_eq(pb_changes_find(z, 6, &(struct pb_change_options){ .min_size = 2, .alpha = 0.2 },
                                 c, 2), 1);
    cr_expect_eq(c[0].index, 3);
}

Test(changes, deterministic_for_a_seed)
{
    double x[40];
    seed(9);
    for (unsigned i = 0; i < 40; i++)
        x[i] = normal(i < 15 ? 10 : 10.8, 1);
    struct pb_change a[8], b[8];
    struct pb_change_options o = { .seed = 42 };
    int na = pb_changes_find(x, 40, &o, a, 8), nb = pb_changes_find(x, 40, &o, b, 8);
    cr_assert_eq(na, nb);
    for (int i = 0; i < na && i < 8; i++) {
        cr_expect_eq(a[i].index, b[i].index);
        cr_expect_eq(a[i].p_value, b[i].p_value);
    }
}

Test(changes, bad_input)
{
    double x[10] = { 0 };
    cr_expect_eq(pb_changes_find(x, 10, &(struct pb_change_options){ .alpha = 1.5 }, NULL, 0), -1);
    cr_expect_eq(pb_changes_find(x, 10, &(struct pb_change_options){ .min_size = 1 }, NULL, 0), -1);
    x[3] = NAN;
    cr_expect_eq(pb_changes_find(x, 10, NULL, NULL, 0), -1);
}
