/* Linked into every test program: what Criterion needs to run under the
 * sanitizers. Empty in the release build.
 *
 * ThreadSanitizer: Criterion's sandbox (BoxFort) maps an inheritable arena
 * at 0x200000000000 + (rand_r(&seed) & 0x3fffff) << 24 with MAP_FIXED.
 * Under TSan nearly all of that range is shadow or meta memory, so the
 * runner dies at start with "Could not initialize inheritable arena"
 * (Criterion issue #274, open). Interposing rand_r here (the executable
 * comes first in symbol lookup) steers the arena into TSan's application
 * range at 0x5600'0000'0000, a fresh 16 MiB slot on each retry. Nothing in
 * pendbench calls rand_r.
 *
 * AddressSanitizer: a test that leaks memory fails. Left alone,
 * LeakSanitizer would only report at the worker's exit, after the test's
 * result is already decided: Criterion 2.4 counts a worker's exit status,
 * a crash, or an assertion after the test body's end (a .fini's) as a
 * warning at most, never a failure, and its ReportHooks run in the runner
 * process, not in the worker where the leak is. So the check runs inside
 * the test's own body: criterion_internal_test_main (exported by
 * libcriterion, called by the trampoline every Test() expands to) is
 * interposed here, and runs the real one with a body that calls the test's
 * and then LeakSanitizer's recoverable check, in the worker, before the
 * test's result is sent. A leak prints LeakSanitizer's report (where the
 * block was allocated) and fails the test with an assertion saying
 * "leaked". Memory a test keeps on purpose (fixtures a .fini frees, blocks
 * a global still points to) is reachable, so it is no leak; a leak in a
 * .init is found (it happened before the check), one in a .fini is not.
 *
 * The check at exit is off (leak_check_at_exit=0), and nothing is
 * suppressed. Criterion's runner, the parent process, runs no test code but
 * leaks a few 48-byte blocks of its own when it runs tests in parallel
 * (calloc inside libcriterion, no symbol; seen with --jobs=2, never with
 * --jobs=1), which its exit check would report. The suppression this file
 * had for them, "leak:libcriterion.so", matched any stack with a
 * libcriterion frame in it, and every test body runs under one
 * (criterion_internal_test_main): it hid every leak a test made on its own
 * thread. A worker's exit check adds nothing now: it comes after the
 * per-test check and could only print. */
#include "pb_asan.h"

#if defined(PB_TSAN)
int rand_r(unsigned *seed);

int rand_r(unsigned *seed)
{
    return (int)(0x360000u + ((*seed)++ & 0xffu));
}
#elif defined(PB_ASAN)
#include <dlfcn.h>                  /* RTLD_NEXT: the build defines _GNU_SOURCE */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <sanitizer/lsan_interface.h>

void criterion_internal_test_main(void (*fn)(void));
const char *__lsan_default_options(void);

/* See the top of the file: the per-test check replaces the one at exit. */
const char *__lsan_default_options(void)
{
    return "leak_check_at_exit=0";
}

/* The test's own body. A worker process runs one test, so one slot. */
static void (*pb_test_body)(void);

/* A pointer the test left in a dead stack frame (below the current one)
 * would make its block look reachable when the check scans this thread's
 * stack from where it stops (less than 1 KiB below here; 32 KiB is a wide
 * margin): zero that area first. Not instrumented: ASan would put redzones
 * around the array that the loop never writes, and a dropped pointer was
 * found in one. volatile: the stores must happen. */
__attribute__((noinline, no_sanitize_address)) static void pb_scrub_stack(void)
{
    volatile unsigned char area[32 * 1024];

    for (size_t i = 0; i < sizeof area; i++)
        area[i] = 0;
}

static void pb_leak_check(void)
{
    pb_scrub_stack();
    if (__lsan_do_recoverable_leak_check() != 0)
        cr_expect_fail("LeakSanitizer: this test leaked memory "
                       "(its report, with where each block was allocated, is above)");
}

static void pb_plain_body(void)
{
    pb_test_body();
    pb_leak_check();
}

/* A ParameterizedTest's body takes its parameter; the real
 * criterion_internal_test_main casts back to this type for those. */
static void pb_param_body(void *param)
{
    ((void (*)(void *))pb_test_body)(param);
    pb_leak_check();
}

/* Whether the running test is a ParameterizedTest. In the worker,
 * criterion_current_test points to a copy of the test's description whose
 * fields are not aligned (UBSan reports the plain member access), hence
 * the byte copies. */
static int pb_test_is_parameterized(void)
{
    const struct criterion_test_extra_data *data;
    struct criterion_test_params (*param)(void);

    memcpy(&data, (const char *)criterion_current_test
                  + offsetof(struct criterion_test, data), sizeof data);
    memcpy(&param, (const char *)data
                   + offsetof(struct criterion_test_extra_data, param_), sizeof param);
    return param != NULL;
}

void criterion_internal_test_main(void (*fn)(void))
{
    void (*real)(void (*)(void));

    *(void **)&real = dlsym(RTLD_NEXT, "criterion_internal_test_main");
    if (real == NULL) {
        fprintf(stderr, "criterion_sanitizers: no criterion_internal_test_main "
                        "in libcriterion: %s\n", dlerror());
        abort();
    }
    pb_test_body = fn;
    real(pb_test_is_parameterized() ? (void (*)(void))pb_param_body : pb_plain_body);
}
#else
typedef int pb_criterion_sanitizers_unused;
#endif
