/* xoshiro256** seeded by splitmix64: fast, reproducible per-thread
 * decisions (same seed, same sequence). */
#ifndef PB_RNG_H
#define PB_RNG_H

#include <stdint.h>

struct pb_rng { uint64_t s[4]; };

static inline uint64_t pb_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Stream `stream` of seed `seed`: threads use their index as the stream. */
static inline void pb_rng_seed(struct pb_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);
    for (int i = 0; i < 4; i++)
        r->s[i] = pb_splitmix64(&x);
}

static inline uint64_t pb_rng_next(struct pb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias < 2^-32 for n < 2^32). */
static inline uint64_t pb_rng_below(struct pb_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)pb_rng_next(r) * n) >> 64);
}

/* Uniform double in [0, 1). */
static inline double pb_rng_unit(struct pb_rng *r)
{
    return (double)(pb_rng_next(r) >> 11) * 0x1.0p-53;
}

#endif
