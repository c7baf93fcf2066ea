/* The floors a run is judged against (see pb_calibrate.h).
 *
 * Every measurement is bounded: a soft deadline (about `ms`) after which no
 * new sample starts, a hard deadline after which a sample in flight is
 * given up, and a cap on the number of samples. Waiting loops spin with
 * pb_cpu_relax, then yield the CPU (on a small shared machine the partner
 * may be descheduled, or on the same CPU), and look at the deadline while
 * yielding, so nothing can hang. Results are per-sample values in ns,
 * summarised by nearest-rank percentiles (p10, median, p90). */
#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pb_calibrate.h"
#include "pb_tsc.h"

#define MAX_SAMPLES     20000u
#define C2C_BATCH       100u      /* round trips per c2c sample */
#define TS_PAIRS        1000u     /* timestamp pairs per sample */
#define TS_SAMPLES      400u
#define TS_MAX_MS       40u
#define SPIN_LIMIT      4096u     /* relax iterations before yielding */
#define DEFAULT_MS      50u
#define C2C_MIN_SAMPLES 8u        /* batches a measurement waits for past its soft deadline */
#define C2C_WARMUP_MS   5u        /* round trips before the first sample: both
                                   * threads spinning, the line's home settled */

/* ---- summary ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the smallest sample with at least p% of them at or below. */
static double rank_of(const double *sorted, unsigned n, double p)
{
    double r = ceil(p * (double)n / 100.0);
    unsigned i = r < 1 ? 0 : (unsigned)r - 1u;
    if (i >= n)
        i = n - 1;
    return sorted[i];
}

static void summarise(double *v, unsigned n, struct pb_floor *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    qsort(v, n, sizeof v[0], cmp_double);
    out->p10_ns = rank_of(v, n, 10);
    out->median_ns = rank_of(v, n, 50);
    out->p90_ns = rank_of(v, n, 90);
    out->samples = n;
}

static uint64_t deadline_after_ms(uint64_t from, uint64_t ms)
{
    return from + pb_ns_to_tsc(ms * 1000000u);
}

/* ---- two pinned threads -------------------------------------------------- */

struct pair;
typedef void (*pair_fn)(struct pair *p);

struct pair {
    unsigned cpu[2];
    pair_fn fn[2];
    _Atomic int status[2];     /* 0 not yet, 1 pinned, -1 could not pin */
    _Atomic int go;            /* 0 wait, 1 run, -1 give up */
    unsigned spin_limit;       /* 0 on the same CPU: yield at once */
    uint64_t soft_end, hard_end;
    double *samples;
    unsigned nsamples, cap;
    void *ctx;
};

struct pair_arg { struct pair *p; int me; };

/* One step of waiting for the other thread: spin (pb_cpu_relax) up to
 * spin_limit polls, then yield; false once past hard_end (give up). Inline:
 * the poll it follows may be the round trip being timed. */
static inline bool pair_backoff(struct pair *p, unsigned *spins)
{
    if (*spins < p->spin_limit) {
        (*spins)++;
        pb_cpu_relax();
        return true;
    }
    if (pb_tsc_now() > p->hard_end)
        return false;
    sched_yield();
    return true;
}

static int pin_self(unsigned cpu)
{
    if (cpu >= 1u << 20)
        return -1;
    size_t size = CPU_ALLOC_SIZE(cpu + 1);
    cpu_set_t *set = CPU_ALLOC(cpu + 1);
    if (!set)
        return -1;
    CPU_ZERO_S(size, set);
    CPU_SET_S(cpu, size, set);
    int rc = pthread_setaffinity_np(pthread_self(), size, set);
    CPU_FREE(set);
    return rc == 0 ? 0 : -1;
}

static void nap(void)
{
    struct timespec ts = { 0, 20000 };
    nanosleep(&ts, NULL);
}

static void *pair_thread(void *arg)
{
    struct pair_arg *a = arg;
    struct pair *p = a->p;
    int ok = pin_self(p->cpu[a->me]) == 0;
    atomic_store(&p->status[a->me], ok ? 1 : -1);
    int g;
    while ((g = atomic_load(&p->go)) == 0)
        nap();                  /* the caller answers as soon as both report */
    if (g > 0 && ok)
        p->fn[a->me](p);
    return NULL;
}

/* Runs fn_a on cpu_a and fn_b on cpu_b, together. 0 ran, -1 could not
 * start (thread or affinity failure); the threads are always joined. */
static int run_pair(struct pair *p)
{
    pthread_t t[2];
    struct pair_arg args[2] = { { p, 0 }, { p, 1 } };
    bool started[2] = { false, false };
    atomic_store(&p->status[0], 0);
    atomic_store(&p->status[1], 0);
    atomic_store(&p->go, 0);
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        if (pthread_create(&t[i], NULL, pair_thread, &args[i]) != 0) {
            rc = -1;
            break;
        }
        started[i] = true;
    }
    if (rc == 0) {
        /* Each started thread reports right after its affinity call. */
        while (atomic_load(&p->status[0]) == 0 || atomic_load(&p->status[1]) == 0)
            nap();
        if (atomic_load(&p->status[0]) < 0 || atomic_load(&p->status[1]) < 0)
            rc = -1;
    }
    atomic_store(&p->go, rc == 0 ? 1 : -1);
    for (int i = 0; i < 2; i++)
        if (started[i])
            pthread_join(t[i], NULL);
    return rc;
}

static int pair_setup(struct pair *p, unsigned cpu_a, unsigned cpu_b, unsigned ms,
                      struct pb_floor *out)
{
    memset(out, 0, sizeof *out);
    (void)pb_tsc_ticks_per_ns();            /* calibrate before the clock starts */
    if (ms == 0)
        ms = DEFAULT_MS;
    p->cpu[0] = cpu_a;
    p->cpu[1] = cpu_b;
    p->spin_limit = cpu_a == cpu_b ? 0 : SPIN_LIMIT;
    p->cap = MAX_SAMPLES;
    p->nsamples = 0;
    p->samples = malloc(sizeof(double) * p->cap);
    if (!p->samples)
        return -1;
    uint64_t now = pb_tsc_now();
    p->soft_end = deadline_after_ms(now, ms);
    p->hard_end = deadline_after_ms(now, 2ull * ms + 200u);
    return 0;
}

static int pair_finish(struct pair *p, int rc, unsigned cpu_a, unsigned cpu_b,
                       struct pb_floor *out)
{
    if (rc == 0)
        summarise(p->samples, p->nsamples, out);
    else
        memset(out, 0, sizeof *out);
    free(p->samples);
    p->samples = NULL;
    if (rc != 0)
        return -1;
    return cpu_a == cpu_b ? 1 : 0;
}

/* ---- core-to-core round trip ------------------------------------------- */

#define C2C_STOP UINT64_MAX

struct c2c {
    _Alignas(64) _Atomic uint64_t word;     /* the line that travels */
    _Alignas(64) _Atomic int stop;          /* its own line */
};

/* A: writes odd k, waits for k + 1; times batches of round trips. */
static void c2c_ping(struct pair *p)
{
    struct c2c *c = p->ctx;
    double tpn = pb_tsc_ticks_per_ns();
    uint64_t k = 0;
    bool abandoned = false;
    /* At most a quarter of the time asked for, so a short measurement
     * still has samples. */
    uint64_t now = pb_tsc_now(), span = p->soft_end > now ? p->soft_end - now : 0;
    uint64_t warm = deadline_after_ms(0, C2C_WARMUP_MS);
    uint64_t warm_end = now + (warm < span / 4 ? warm : span / 4);
    /* Past the soft deadline only until a few samples exist (a loaded
     * machine may start the pair late), never past the hard one. */
    for (;;) {
        uint64_t now_ = pb_tsc_now();
        if (abandoned || p->nsamples >= p->cap || now_ >= p->hard_end ||
            (now_ >= p->soft_end && p->nsamples >= C2C_MIN_SAMPLES))
            break;
        uint64_t t0 = pb_tsc_now();
        for (unsigned i = 0; i < C2C_BATCH; i++) {
            k += 2;
            atomic_store_explicit(&c->word, k - 1, memory_order_release);
            unsigned spins = 0;
            while (atomic_load_explicit(&c->word, memory_order_acquire) != k) {
                if (!pair_backoff(p, &spins)) {
                    abandoned = true;
                    break;
                }
            }
            if (abandoned)
                break;
        }
        uint64_t t1 = pb_tsc_now();
        if (!abandoned && t0 >= warm_end)
            p->samples[p->nsamples++] = (double)(t1 - t0) / C2C_BATCH / tpn;
    }
    atomic_store(&c->stop, 1);
    atomic_store(&c->word, C2C_STOP);
}

/* B: answers every odd value with the next one until told to stop. */
static void c2c_pong(struct pair *p)
{
    struct c2c *c = p->ctx;
    uint64_t mine = 0;
    for (;;) {
        uint64_t v;
        unsigned spins = 0;
        while ((v = atomic_load_explicit(&c->word, memory_order_acquire)) == mine) {
            if (spins < p->spin_limit) {
                spins++;
                pb_cpu_relax();
            } else {
                /* A gave up (and maybe our answer overwrote its stop). */
                if (atomic_load(&c->stop))
                    return;
                sched_yield();
            }
        }
        if (v == C2C_STOP)
            return;
        mine = v + 1;
        atomic_store_explicit(&c->word, mine, memory_order_release);
    }
}

int pb_measure_c2c_round_trip(unsigned os_cpu_a, unsigned os_cpu_b, unsigned ms,
                              struct pb_floor *out)
{
    struct pair p = { 0 };
    if (pair_setup(&p, os_cpu_a, os_cpu_b, ms, out) != 0)
        return -1;
    struct c2c *c = aligned_alloc(64, sizeof *c);
    if (!c)
        return pair_finish(&p, -1, os_cpu_a, os_cpu_b, out);
    memset(c, 0, sizeof *c);
    atomic_store(&c->word, 0);
    atomic_store(&c->stop, 0);
    p.ctx = c;
    p.fn[0] = c2c_ping;
    p.fn[1] = c2c_pong;
    int rc = run_pair(&p);
    free(c);
    return pair_finish(&p, rc, os_cpu_a, os_cpu_b, out);
}

/* ---- timestamp cost ---------------------------------------------------- */

void pb_measure_timestamp_cost(struct pb_floor *out)
{
    double local[TS_SAMPLES];
    double tpn = pb_tsc_ticks_per_ns();
    uint64_t end = deadline_after_ms(pb_tsc_now(), TS_MAX_MS);
    unsigned n = 0;
    while (n < TS_SAMPLES && (n < 8 || pb_tsc_now() < end)) {
        uint64_t sum = 0;
        for (unsigned i = 0; i < TS_PAIRS; i++) {
            uint64_t a = pb_tsc_now();
            uint64_t b = pb_tsc_now();
            sum += b - a;
        }
        local[n++] = (double)sum / TS_PAIRS / tpn;
    }
    summarise(local, n, out);
}

/* ---- futex wake-to-run --------------------------------------------------- */

#define FW_SLEEP 0u
#define FW_WAKE  1u
#define FW_STOP  2u

struct fw {
    _Alignas(64) _Atomic uint32_t word;     /* the futex */
    _Alignas(64) _Atomic uint32_t armed;    /* round B is about to sleep for */
    _Atomic uint32_t done;                  /* round B has run for */
    _Atomic uint64_t t1;                    /* when B ran (TSC) */
    _Atomic int slept;                      /* B was woken from FUTEX_WAIT */
    _Atomic int stop;
};

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, 0);
}

/* B: for round i, announce it, sleep until woken, stamp, publish. */
static void fw_sleeper(struct pair *p)
{
    struct fw *f = p->ctx;
    const struct timespec tmo = { 0, 50 * 1000 * 1000 };
    for (uint32_t i = 1;; i++) {
        atomic_store(&f->armed, i);
        int slept = 0;
        uint32_t w;
        while ((w = atomic_load(&f->word)) == FW_SLEEP) {
            if (atomic_load(&f->stop))
                return;
            long r = futex(&f->word, FUTEX_WAIT_PRIVATE, FW_SLEEP, &tmo);
            slept = r == 0;     /* really asleep, then woken */
        }
        uint64_t t1 = pb_tsc_now();
        if (w != FW_WAKE)
            return;
        uint32_t expect = FW_WAKE;
        if (!atomic_compare_exchange_strong(&f->word, &expect, FW_SLEEP))
            return;             /* FW_STOP came in between */
        atomic_store(&f->t1, t1);
        atomic_store(&f->slept, slept);
        atomic_store(&f->done, i);
    }
}

/* A: waits until B is (very likely) asleep, stamps t0, wakes it, and waits
 * for B's stamp. Rounds where B had not gone to sleep are not counted. */
static void fw_waker(struct pair *p)
{
    struct fw *f = p->ctx;
    double tpn = pb_tsc_ticks_per_ns();
    uint64_t settle = pb_ns_to_tsc(20000);
    for (uint32_t i = 1; p->nsamples < p->cap && pb_tsc_now() < p->soft_end; i++) {
        bool late = false;
        unsigned spins = 0;
        while (atomic_load(&f->armed) != i) {
            if (!pair_backoff(p, &spins)) {
                late = true;
                break;
            }
        }
        if (late)
            break;
        /* Give B time to enter the kernel: on its own CPU, a short spin;
         * on ours, the CPU itself. */
        if (p->spin_limit == 0) {
            sched_yield();
            sched_yield();
        } else {
            uint64_t until = pb_tsc_now() + settle;
            while (pb_tsc_now() < until)
                pb_cpu_relax();
        }
        uint64_t t0 = pb_tsc_now();
        atomic_store(&f->word, FW_WAKE);
        futex(&f->word, FUTEX_WAKE_PRIVATE, 1, NULL);
        spins = 0;
        while (atomic_load(&f->done) != i) {
            if (!pair_backoff(p, &spins)) {
                late = true;
                break;
            }
        }
        if (late)
            break;
        uint64_t t1 = atomic_load(&f->t1);
        /* t1 is B's clock, t0 A's: a wake-to-run takes microseconds, so
         * t1 <= t0 is the two TSCs' offset, not a sample (a 0 made p10 0
         * once, with few samples on a loaded machine). */
        if (atomic_load(&f->slept) && t1 > t0)
            p->samples[p->nsamples++] = (double)(t1 - t0) / tpn;
    }
    atomic_store(&f->stop, 1);
    atomic_store(&f->word, FW_STOP);
    futex(&f->word, FUTEX_WAKE_PRIVATE, 1, NULL);
}

int pb_measure_futex_wake(unsigned os_cpu_a, unsigned os_cpu_b, unsigned ms,
                          struct pb_floor *out)
{
    struct pair p = { 0 };
    if (pair_setup(&p, os_cpu_a, os_cpu_b, ms, out) != 0)
        return -1;
    struct fw *f = aligned_alloc(64, sizeof *f);
    if (!f)
        return pair_finish(&p, -1, os_cpu_a, os_cpu_b, out);
    memset(f, 0, sizeof *f);
    atomic_store(&f->word, FW_SLEEP);
    atomic_store(&f->armed, 0);
    atomic_store(&f->done, 0);
    atomic_store(&f->stop, 0);
    p.ctx = f;
    p.fn[0] = fw_waker;
    p.fn[1] = fw_sleeper;
    int rc = run_pair(&p);
    free(f);
    return pair_finish(&p, rc, os_cpu_a, os_cpu_b, out);
}
