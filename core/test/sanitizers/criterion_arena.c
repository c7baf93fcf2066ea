/* Linked into every test program; does something only in the
 * ThreadSanitizer build.
 *
 * Criterion's sandbox (BoxFort) maps an inheritable arena at
 *     0x200000000000 + (rand_r(&seed) & 0x3fffff) << 24
 * with MAP_FIXED. Under ThreadSanitizer nearly all of that range is shadow
 * or meta memory, so the runner dies at start with "Could not initialize
 * inheritable arena" (Criterion issue #274, open). Interposing rand_r here
 * (the executable comes first in symbol lookup) steers the arena into
 * TSan's application range 0x5600'0000'0000.., probing a fresh 16 MiB
 * slot on each retry. Nothing in pendbench calls rand_r. */
#ifdef PB_TSAN
int rand_r(unsigned *seed);

int rand_r(unsigned *seed)
{
    return (int)(0x360000u + ((*seed)++ & 0xffu));
}
#else
typedef int pb_criterion_arena_unused;
#endif
