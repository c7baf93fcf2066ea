/* Shared by the strategy tests: how any strategy's unavailability is
 * handled, whatever its name. */
#ifndef STRATEGY_COMMON_H
#define STRATEGY_COMMON_H

#include <criterion/criterion.h>
#include <errno.h>

#include "pb_strategy.h"

/* init returned -ENOTSUP: the strategy is not in this build (jemalloc
 * under the sanitizers, a library missing). Skipped, never failed; but
 * only a strategy that says it may be unavailable may say so. */
static inline void skip_if_unavailable(const char *name, unsigned flags, int rc)
{
    if (rc != -ENOTSUP)
        return;
    cr_assert(flags & PB_MAY_BE_UNAVAILABLE,
              "%s: init returned -ENOTSUP but its flags do not say PB_MAY_BE_UNAVAILABLE", name);
    cr_skip_test("%s: not available in this build", name);
}

#endif
