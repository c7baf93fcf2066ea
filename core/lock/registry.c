/* The locks, by name (pb_lock_find is in lock.c). Adding one: its file,
 * plus one line here. */
#include <stddef.h>

#include "pb_lock.h"

extern const struct pb_lock_ops pb_lock_pthread_mutex;
extern const struct pb_lock_ops pb_lock_ttas_backoff;

/* The baseline first: the suite's locks group is measured against it. */
const struct pb_lock_ops *const pb_locks[] = {
    &pb_lock_pthread_mutex,
    &pb_lock_ttas_backoff,
    NULL,
};
