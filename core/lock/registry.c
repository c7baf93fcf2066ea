/* The locks, by name (pb_lock_find is in lock.c). Adding one: its file,
 * plus one line here. The baseline (pthread-mutex) first: the suite's
 * locks group is measured against it. */
#include <stddef.h>

#include "pb_lock.h"

extern const struct pb_lock_ops pb_lock_pthread_mutex;
extern const struct pb_lock_ops pb_lock_pthread_spin;
extern const struct pb_lock_ops pb_lock_tas;
extern const struct pb_lock_ops pb_lock_ttas_backoff;
extern const struct pb_lock_ops pb_lock_ticket;
extern const struct pb_lock_ops pb_lock_mcs;
extern const struct pb_lock_ops pb_lock_clh;
extern const struct pb_lock_ops pb_lock_futex_mutex;
extern const struct pb_lock_ops pb_lock_cohort;
extern const struct pb_lock_ops pb_lock_ck_ticket;
extern const struct pb_lock_ops pb_lock_ck_mcs;
extern const struct pb_lock_ops pb_lock_ck_clh;
extern const struct pb_lock_ops pb_lock_broken;

const struct pb_lock_ops *const pb_locks[] = {
    &pb_lock_pthread_mutex,
    &pb_lock_pthread_spin,
    &pb_lock_tas,
    &pb_lock_ttas_backoff,
    &pb_lock_ticket,
    &pb_lock_mcs,
    &pb_lock_clh,
    &pb_lock_futex_mutex,
    &pb_lock_cohort,
    &pb_lock_ck_ticket,
    &pb_lock_ck_mcs,
    &pb_lock_ck_clh,
    &pb_lock_broken,
    NULL,
};
