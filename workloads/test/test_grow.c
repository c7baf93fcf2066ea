/* pb_grow_for_one: room for one more element, doubling; a refusal leaves
 * the caller's array as it was. */
#include <criterion/criterion.h>
#include <limits.h>

#include "pb_grow.h"

Test(grow, starts_at_first_then_doubles_and_keeps_the_elements)
{
    int *a = NULL;
    unsigned n = 0, cap = 0;
    for (int i = 0; i < 100; i++) {
        int *g = pb_grow_for_one(a, n, &cap, sizeof *g, 4);
        cr_assert_not_null(g);
        a = g;
        a[n++] = i;
        cr_assert_geq(cap, n);
    }
    cr_expect_eq(cap, 128, "4, 8, ..., 128: got %u", cap);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(a[i], i);
    int *same = pb_grow_for_one(a, 50, &cap, sizeof *a, 4);
    cr_expect_eq(same, a, "room left: the array itself");
    cr_expect_eq(cap, 128);
    free(a);
}

Test(grow, refuses_a_size_that_overflows_and_keeps_the_array)
{
    char *a = malloc(8);
    cr_assert_not_null(a);
    unsigned cap = UINT_MAX / 2 + 1;
    cr_expect_null(pb_grow_for_one(a, cap, &cap, 1, 4));
    cr_expect_eq(cap, UINT_MAX / 2 + 1, "cap untouched");
    unsigned cap2 = 1u << 20;
    cr_expect_null(pb_grow_for_one(a, cap2, &cap2, SIZE_MAX / (1u << 20), 4),
                   "2 * cap * elem beyond SIZE_MAX");
    cr_expect_eq(cap2, 1u << 20);
    a[7] = 'x';                      /* still ours (ASan would flag a freed one) */
    free(a);
}
