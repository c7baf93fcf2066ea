/* Private to core/: the futex calls the model and the queues' idle policy
 * share. EAGAIN (the word moved on), EINTR and spurious returns from a
 * wait all just make the caller poll again; the kernel reads the word. */
#ifndef PB_CORE_FUTEX_H
#define PB_CORE_FUTEX_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void pb_futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

/* The same, giving up after ns nanoseconds. */
static inline void pb_futex_wait_ns(_Atomic uint32_t *word, uint32_t expected, long ns)
{
    struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, &ts, NULL, 0);
}

/* Wakes up to n waiters (INT_MAX: all). */
static inline void pb_futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

#endif
