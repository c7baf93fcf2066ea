/* pendbench-micro: the floors every strategy is judged against, measured in
 * the same process (DESIGN.md, "Measurement"):
 *
 *   floor/c2c_round_trip/threads:2  a cache line bounced between two
 *                                   threads pinned to two CPUs and back
 *   floor/atomic_xchg               one uncontended atomic exchange
 *   floor/rdtsc                     one timestamp (pb_tsc_now)
 *   floor/tls_freelist              get+put on a thread-local free list
 *   baseline/jemalloc/mallocx_sdallocx
 *                                   jemalloc's own fast path for a block of
 *                                   the pools' size (what `magazine` must
 *                                   beat; the `jemalloc` pool adds its arena
 *                                   choice on top) */
#include <stdlib.h>
#include <string.h>

#ifndef PB_SANITIZER
#include <jemalloc/jemalloc.h>
#endif

#include "micro.h"

/* ---- core-to-core round trip ------------------------------------------- */

/* The ball: thread 0 writes odd values, thread 1 answers with the next even
 * one. Alone on its line, so each hand-over is one line transfer. */
static struct {
    _Alignas(PB_CACHE_LINE) _Atomic uint64_t ball;
    char pad[PB_CACHE_LINE - sizeof(uint64_t)];
} c2c;

static void wait_ball(uint64_t want)
{
    unsigned spins = 0;
    /* acquire: not needed for the ball itself, but it is what a real
     * hand-over pays. */
    while (atomic_load_explicit(&c2c.ball, memory_order_acquire) != want)
        micro_spin(&spins);
}

static void bm_c2c_round_trip(gb_state *st)
{
    int t = gb_thread_index(st);
    struct micro_affinity aff;
    bool pinned = micro_pin((unsigned)t, &aff);
    if (t == 0)
        atomic_store_explicit(&c2c.ball, 0, memory_order_relaxed); /* before the start barrier */
    struct micro_clock clk = { .started = false };
    uint64_t n, round = 0;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++, round++) {
            if (t == 0) {
                /* release: pairs with the answerer's acquire. */
                atomic_store_explicit(&c2c.ball, 2 * round + 1, memory_order_release);
                wait_ball(2 * round + 2);
            } else {
                wait_ball(2 * round + 1);
                atomic_store_explicit(&c2c.ball, 2 * round + 2, memory_order_release);
            }
        }
    }
    micro_unpin(&aff);
    if (t == 0) {
        micro_report(st, (double)round, &clk, false);
        double s = micro_clock_seconds(&clk, false);
        if (round)
            gb_counter_set(st, "round_trip_ns", s * 1e9 / (double)round, GB_COUNTER_DEFAULT);
        gb_set_label(st, pinned ? "pinned to two CPUs"
                                : "NOT pinned: fewer than 2 CPUs allowed");
    }
}

/* ---- one atomic exchange ------------------------------------------------ */

static void bm_atomic_xchg(gb_state *st)
{
    struct {
        _Alignas(PB_CACHE_LINE) _Atomic uint64_t word;
    } line;
    atomic_init(&line.word, 0);
    struct micro_clock clk = { .started = false };
    uint64_t n, v = 0;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++)
            gb_do_not_optimize_u64(atomic_exchange_explicit(&line.word, ++v, memory_order_seq_cst));
    }
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

/* ---- rdtsc ---------------------------------------------------------------- */

static void bm_rdtsc(gb_state *st)
{
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++)
            gb_do_not_optimize_u64(pb_tsc_now());
    }
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

/* ---- thread-local free list ---------------------------------------------- */

struct tls_block { struct tls_block *next; };
static _Thread_local struct tls_block *tls_free;

#define TLS_BLOCKS 64

static void bm_tls_freelist(gb_state *st)
{
    void *blocks[TLS_BLOCKS];
    for (unsigned i = 0; i < TLS_BLOCKS; i++) {
        blocks[i] = aligned_alloc(PB_CACHE_LINE, MICRO_OBJECT_SIZE);
        if (!blocks[i]) {
            for (unsigned j = 0; j < i; j++)
                free(blocks[j]);
            tls_free = NULL;
            gb_skip_with_error(st, "out of memory");
            return;
        }
        struct tls_block *b = blocks[i];
        b->next = tls_free;
        tls_free = b;
    }
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            struct tls_block *b = tls_free;
            tls_free = b->next;
            gb_do_not_optimize(b); /* the get is done: the put cannot cancel it */
            b->next = tls_free;
            tls_free = b;
        }
    }
    tls_free = NULL;
    for (unsigned i = 0; i < TLS_BLOCKS; i++)
        free(blocks[i]);
    micro_report(st, (double)gb_iterations(st), &clk, true);
}

/* ---- raw jemalloc -------------------------------------------------------- */

static void bm_jemalloc_raw(gb_state *st)
{
#ifdef PB_SANITIZER
    gb_skip_with_error(st, "jemalloc: not available in sanitizer builds");
#else
    const size_t size = MICRO_OBJECT_SIZE;
    const int flags = MALLOCX_ALIGN(PB_CACHE_LINE); /* as the pools' blocks */
    struct micro_clock clk = { .started = false };
    uint64_t n;
    while (gb_keep_running_batch(st, &n)) {
        micro_clock_start(&clk);
        for (uint64_t i = 0; i < n; i++) {
            void *p = mallocx(size, flags);
            if (!p) {
                gb_skip_with_error(st, "mallocx: out of memory");
                return;
            }
            gb_do_not_optimize(p);
            sdallocx(p, size, flags);
        }
    }
    micro_report(st, (double)gb_iterations(st), &clk, true);
#endif
}

void micro_register_floors(void)
{
    gb_set_threads(gb_register("floor/c2c_round_trip", bm_c2c_round_trip), 2);
    gb_register("floor/atomic_xchg", bm_atomic_xchg);
    gb_register("floor/rdtsc", bm_rdtsc);
    gb_register("floor/tls_freelist", bm_tls_freelist);
    gb_register("baseline/jemalloc/mallocx_sdallocx", bm_jemalloc_raw);
}
