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
 * AddressSanitizer: Criterion's runner keeps one small allocation to exit
 * (not ours); LeakSanitizer's report stays about the code under test. */
#if defined(PB_TSAN)
int rand_r(unsigned *seed);

int rand_r(unsigned *seed)
{
    return (int)(0x360000u + ((*seed)++ & 0xffu));
}
#elif defined(PB_SANITIZER)
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}
#else
typedef int pb_criterion_sanitizers_unused;
#endif
