/* pendbench stress: long randomized runs over every strategy (or the ones
 * named) through the stress harness, with its invariant checks. Stops at
 * the first violation and prints the seed and the exact command that
 * reproduces it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "pb_stress.h"
#include "pendbench_plugin.h"

static const char stress_about[] =
    "Randomized pend / cancel / complete traffic (seeded decisions) over every\n"
    "pool, queue and handoff, each handoff against every queue, for --duration\n"
    "in all. Checks: every operation completed exactly once, none lost, FIFO per\n"
    "producer where promised, no callback data leaked, no cancel routine left\n"
    "set, no verifier violation. Naming a strategy restricts the runs to it\n"
    "(--handoff broken must fail: it exists to prove the checks work). A path\n"
    "(./x.so) is a plugin (see README, \"Bring your own strategy\"): it gets the\n"
    "same checks. Each run takes at least 0.2 s: when --duration is too short for\n"
    "the runs, stress says how long it will take. On a violation: the seed and\n"
    "the command that reproduces it; exit 1.\n"
    "\n"
    "--lock puts that lock in every lock-based strategy of each run. Alone, it\n"
    "runs each lock-based handoff, queue and pool in turn, the other two kinds\n"
    "lock-free, so a violation names the strategy; with strategies named, the\n"
    "usual runs under it, skipping those it does not fit (trylock, in-word).\n"
    "Each run is then a child process: a crash or a hang is a violation too\n"
    "(--lock broken-lock must fail: it exists to prove the checks work).\n";

#define MIN_RUN_S 0.2

enum { ST_DURATION, ST_SEED, ST_POOL, ST_QUEUE, ST_HANDOFF, ST_LOCK, ST_REQUESTERS, ST_WORKERS,
       ST_CANCELLERS, ST_INFLIGHT };

static const struct pb_opt stress_opts[] = {
    { "duration", 0, "TIME", "the whole stress, shared by its runs: 2, 2s, 500ms, 1min (default "
      "10 s; up to 86400 s, a day: 1440min)", ST_DURATION },
    { "seed", 0, "N", "the first run's seed; run k has N + k (default 1)", ST_SEED },
    { "pool", 0, "NAME|./x.so", "only this pool (with the default queue and handoff)", ST_POOL },
    { "queue", 0, "NAME|./x.so", "only this queue", ST_QUEUE },
    { "handoff", 0, "NAME|./x.so", "only this handoff, against every queue (or the one named)",
      ST_HANDOFF },
    { "lock", 0, "NAME|./x.so", "that lock in every lock-based strategy (alone: each lock-based "
      "strategy in turn, in a child process)", ST_LOCK },
    { "requesters", 0, "N", "requester threads per run, 1 to 256 (default 2)",
      ST_REQUESTERS },
    { "workers", 0, "N", "worker threads per run, 1 to 256 (default 2)", ST_WORKERS },
    { "cancellers", 0, "N", "canceller threads per run, 1 to 256 (default 1)",
      ST_CANCELLERS },
    { "inflight", 0, "N", "operations in flight per requester, 1 to 4096 (default 16)",
      ST_INFLIGHT },
    { NULL, 0, NULL, NULL, 0 },
};

struct stress_args {
    double duration;
    uint64_t seed, req, work, canc, infl;
    const char *pool, *queue, *handoff, *lock;
};

/* A strategy by name, or a plugin by path (loaded now: a bad one is bad input). */
static int stress_strategy(const char *key, enum pb_plugin_kind kind, bool known, const char *v,
                           char *err, size_t errlen)
{
    if (pb_plugin_is_path(v)) {
        char why[400];
        if (!pb_plugin_load(v, kind, why, sizeof why)) {
            snprintf(err, errlen, "%s", why);
            return -1;
        }
        return 0;
    }
    if (!known) {
        snprintf(err, errlen, "unknown %s '%s' (see `pendbench list`, or give a plugin's path: "
                 "./x.so)", key, v);
        return -1;
    }
    return 0;
}

static int stress_set(void *ctx, const struct pb_opt *o, const char *v, char *err, size_t errlen)
{
    struct stress_args *a = ctx;
    switch (o->id) {
    case ST_DURATION:
        return pb_opt_seconds(v, 86400, &a->duration, err, errlen);
    case ST_SEED:
        return pb_opt_seed(v, &a->seed, err, errlen);
    case ST_REQUESTERS:
        return pb_opt_count(v, 1, 256, &a->req, err, errlen);
    case ST_WORKERS:
        return pb_opt_count(v, 1, 256, &a->work, err, errlen);
    case ST_CANCELLERS:
        return pb_opt_count(v, 1, 256, &a->canc, err, errlen);
    case ST_INFLIGHT:
        return pb_opt_count(v, 1, 4096, &a->infl, err, errlen);
    case ST_POOL:
        a->pool = v;
        return stress_strategy("pool", PB_PLUGIN_POOL, pb_pool_find(v) != NULL, v, err, errlen);
    case ST_QUEUE:
        a->queue = v;
        return stress_strategy("queue", PB_PLUGIN_QUEUE, pb_queue_find(v) != NULL, v, err, errlen);
    case ST_HANDOFF:
        a->handoff = v;
        return stress_strategy("handoff", PB_PLUGIN_HANDOFF, pb_handoff_find(v) != NULL, v, err,
                               errlen);
    case ST_LOCK:
        a->lock = v;
        return stress_strategy("lock", PB_PLUGIN_LOCK, pb_lock_find(v) != NULL, v, err, errlen);
    }
    return -1;
}

int pb_cmd_stress(int argc, char **argv)
{
    struct stress_args args = { .duration = 10, .seed = 1 };
    const struct pb_opt_group groups[] = {
        { "options", stress_opts, stress_set, &args },
    };
    const struct pb_cli cli = {
        .verb = "stress",
        .usage = "pendbench stress [--duration TIME] [--seed N] [--pool NAME|./x.so]\n"
                 "                        [--queue NAME|./x.so] [--handoff NAME|./x.so]\n"
                 "                        [--lock NAME|./x.so] [--requesters N] [--workers N]\n"
                 "                        [--cancellers N]\n"
                 "                        [--inflight N]\n",
        .about = stress_about,
        .groups = groups,
        .ngroups = 1,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO)
        return pb_cli_exit(pr);
    double duration = args.duration;
    unsigned long long seed = args.seed, req = args.req, work = args.work, canc = args.canc,
                       infl = args.infl;
    const char *pool = args.pool, *queue = args.queue, *handoff = args.handoff, *lock = args.lock;
    /* The combinations: each named kind fixed; otherwise every pool, every
     * queue, and every handoff against every queue. */
    struct combo { const char *pool, *queue, *handoff; } combos[512];
    unsigned n = 0;
    if (lock && !pool && !queue && !handoff) {
        /* The lock alone: each lock-based strategy in turn (pb_stress.h). */
        struct pb_stress_combo lc[512];
        size_t m = pb_stress_lock_combos(lc, 512);
        for (size_t i = 0; i < m; i++)
            combos[n++] = (struct combo){ lc[i].pool, lc[i].queue, lc[i].handoff };
    } else if (queue || (pool && !handoff)) {
        /* a queue named (by name or path): that one; only a pool: the default queue */
        combos[n++] = (struct combo){ pool, queue, handoff };
    } else if (handoff) {
        for (size_t q = 0; pb_queues[q] && n < 512; q++)
            combos[n++] = (struct combo){ pool, pb_queues[q]->name, handoff };
    } else {
        for (size_t p = 0; pb_pools[p]; p++)
            combos[n++] = (struct combo){ pb_pools[p]->name, NULL, NULL };
        for (size_t h = 0; pb_handoffs[h]; h++)
            for (size_t q = 0; pb_queues[q] && !(pb_handoffs[h]->flags & PB_BROKEN); q++)
                combos[n++] = (struct combo){ NULL, pb_queues[q]->name, pb_handoffs[h]->name };
    }
    /* The shortest meaningful run is MIN_RUN_S: with many combinations a
     * short --duration cannot be honoured, so say what it will take. */
    double each = duration / n;
    if (each < MIN_RUN_S) {
        each = MIN_RUN_S;
        fprintf(stderr, "pendbench stress: %u run%s of at least %.1f s each: about %.1f s, more "
                "than the %.3g s asked%s\n", n, n == 1 ? "" : "s", each, n * each, duration,
                n > 1 ? " (name a strategy to run fewer)" : "");
    }
    pb_install_interrupt();
    unsigned ran = 0;
    for (unsigned k = 0; k < n && !pb_interrupted; k++) {
        struct pb_stress_config c = {
            .pool = combos[k].pool, .queue = combos[k].queue, .handoff = combos[k].handoff,
            .lock = lock, .isolate = lock != NULL,
            .requesters = (unsigned)req, .workers = (unsigned)work, .cancellers = (unsigned)canc,
            .inflight = (unsigned)infl, .duration_s = each, .seed = seed + k, .min_ops = 1,
        };
        char unfit[300];
        if (pb_stress_lock_unfit(&c, unfit, sizeof unfit)) {
            if (n == 1) {               /* the one run asked for cannot be: a usage error */
                fprintf(stderr, "pendbench stress: %s\n", unfit);
                return PB_EXIT_USAGE;
            }
            printf("stress %-12s %-14s %-12s skipped: %s\n", c.pool ? c.pool : "(default)",
                   c.queue ? c.queue : "(default)", c.handoff ? c.handoff : "(default)", unfit);
            continue;
        }
        struct pb_stress_result r;
        if (pb_stress_run(&c, &r) != 0) {
            if (r.not_available) {
                printf("stress %-12s %-14s %-12s skipped: %s\n", c.pool ? c.pool : "-",
                       c.queue ? c.queue : "-", c.handoff ? c.handoff : "-", r.why);
                continue;
            }
            fprintf(stderr, "pendbench stress: %s\n", r.why);
            return PB_EXIT_USAGE;
        }
        ran++;
        printf("stress %-12s %-14s %-12s %9llu ops  %s%s%s\n", c.pool ? c.pool : "(default)",
               c.queue ? c.queue : "(default)", c.handoff ? c.handoff : "(default)",
               (unsigned long long)r.completed_once, r.ok ? "ok" : "VIOLATION",
               lock ? "  lock " : "", lock ? lock : "");
        fflush(stdout);
        if (!r.ok) {
            fprintf(stderr, "\npendbench stress: violation with seed %llu: %s\n",
                    (unsigned long long)c.seed, r.why);
            fprintf(stderr, "reproduce with:\n  pendbench stress --seed %llu --duration %.2f",
                    (unsigned long long)c.seed, each);
            if (c.pool) fprintf(stderr, " --pool %s", c.pool);
            if (c.queue) fprintf(stderr, " --queue %s", c.queue);
            if (c.handoff) fprintf(stderr, " --handoff %s", c.handoff);
            if (c.lock) fprintf(stderr, " --lock %s", c.lock);
            if (req) fprintf(stderr, " --requesters %llu", req);
            if (work) fprintf(stderr, " --workers %llu", work);
            if (canc) fprintf(stderr, " --cancellers %llu", canc);
            if (infl) fprintf(stderr, " --inflight %llu", infl);
            fprintf(stderr, "\n(the seed fixes every decision; thread timing does not repeat, "
                            "so a race may need a few tries)\n");
            return PB_EXIT_FAILED;
        }
    }
    /* Every run skipped (its strategy not available in this build, or
     * the lock unfit for each strategy tried): nothing was checked, and
     * "0 runs, no violation" with exit 0 would read as a pass. */
    if (!ran && !pb_interrupted) {
        fprintf(stderr, "pendbench stress: nothing ran: every run was skipped (see above)\n");
        return PB_EXIT_USAGE;
    }
    printf("stress: %u run%s, no violation%s\n", ran, ran == 1 ? "" : "s",
           pb_interrupted ? " (interrupted)" : "");
    return pb_interrupted ? pb_interrupted_status() : PB_EXIT_OK;
}
