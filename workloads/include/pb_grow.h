/* Grow-by-doubling arrays: one helper for the places that append to a
 * malloc'ed array of unknown final length (history series, ab's runs). */
#ifndef PB_GROW_H
#define PB_GROW_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The array `arr` (n elements of elem bytes used, *cap allocated) with room
 * for one more: arr itself while n < *cap, else reallocated to twice *cap
 * (first when *cap is 0) and *cap updated. NULL when memory is refused or
 * the size would overflow: arr is then untouched and still the caller's. */
static inline void *pb_grow_for_one(void *arr, unsigned n, unsigned *cap, size_t elem,
                                    unsigned first)
{
    if (n < *cap)
        return arr;
    if (*cap > UINT_MAX / 2 || (size_t)*cap * 2 > SIZE_MAX / (elem ? elem : 1))
        return NULL;
    unsigned c = *cap ? 2 * *cap : first;
    void *p = realloc(arr, (size_t)c * elem);
    if (p)
        *cap = c;
    return p;
}

#endif
