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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench stress [--duration S] [--seed N] [--pool NAME|./x.so]\n"
            "                        [--queue NAME|./x.so] [--handoff NAME|./x.so]\n"
            "                        [--lock NAME|./x.so] [--requesters N] [--workers N]\n"
            "                        [--cancellers N] [--inflight N]\n"
            "\n"
            "Randomized pend / cancel / complete traffic (seeded decisions) over every\n"
            "pool, queue and handoff, each handoff against every queue, for --duration\n"
            "seconds in all (default 10). Checks: every operation completed exactly once,\n"
            "none lost, FIFO per producer where promised, no callback data leaked, no\n"
            "cancel routine left set, no verifier violation. Naming a strategy restricts\n"
            "the runs to it (--handoff broken must fail: it exists to prove the checks\n"
            "work). A path (./x.so) is a plugin (see README, \"Bring your own strategy\"):\n"
            "it gets the same checks. Each run takes at least 0.2 s: when --duration is\n"
            "too short for the runs, stress says how long it will take. On a violation:\n"
            "the seed and the command that reproduces it; exit 1.\n"
            "\n"
            "--lock puts that lock in every lock-based strategy of each run. Alone, it\n"
            "runs each lock-based handoff, queue and pool in turn, the other two kinds\n"
            "lock-free, so a violation names the strategy; with strategies named, the\n"
            "usual runs under it, skipping those it does not fit (trylock, in-word).\n"
            "Each run is then a child process: a crash or a hang is a violation too\n"
            "(--lock broken-lock must fail: it exists to prove the checks work).\n");
}

#define MIN_RUN_S 0.2

static int parse_u(const char *key, const char *v, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!v || !*v || v[0] == '-') {
        fprintf(stderr, "pendbench stress: --%s needs a number\n", key);
        return -1;
    }
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || x > max) {
        fprintf(stderr, "pendbench stress: --%s: '%s' is not a whole number up to %llu\n", key, v, max);
        return -1;
    }
    *out = x;
    return 0;
}

/* A thread or slot count: at least 1 (0 would silently mean the default). */
static int parse_count(const char *key, const char *v, unsigned long long max,
                       unsigned long long *out)
{
    if (parse_u(key, v, max, out) != 0)
        return -1;
    if (*out == 0) {
        fprintf(stderr, "pendbench stress: --%s: at least 1 (leave it out for the default)\n",
                key);
        return -1;
    }
    return 0;
}

int pb_cmd_stress(int argc, char **argv)
{
    double duration = 10;
    unsigned long long seed = 1, req = 0, work = 0, canc = 0, infl = 0;
    const char *pool = NULL, *queue = NULL, *handoff = NULL, *lock = NULL;
    char key[64];
    const char *v;
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return PB_EXIT_OK;
        }
        if (pb_next_option(argc, argv, &i, "stress", key, sizeof key, &v) != 0)
            return PB_EXIT_USAGE;
        if (strcmp(key, "duration") == 0) {
            /* The scenario's parser: the same units as every verb (2, 2s, 500ms, 1m). */
            struct pb_scenario tmp;
            char err[200];
            pb_scenario_defaults(&tmp);
            if (!v || pb_scenario_set(&tmp, "duration", v, err, sizeof err) != 0 ||
                !(tmp.duration_s > 0 && tmp.duration_s <= 86400)) {
                fprintf(stderr, "pendbench stress: --duration wants a time (2, 2s, 500ms; "
                        "0 < S <= 86400 s)\n");
                return PB_EXIT_USAGE;
            }
            duration = tmp.duration_s;
        } else if (strcmp(key, "seed") == 0) {
            if (parse_u(key, v, UINT64_MAX, &seed)) return PB_EXIT_USAGE;
        } else if (strcmp(key, "requesters") == 0) {
            if (parse_count(key, v, 256, &req)) return PB_EXIT_USAGE;
        } else if (strcmp(key, "workers") == 0) {
            if (parse_count(key, v, 256, &work)) return PB_EXIT_USAGE;
        } else if (strcmp(key, "cancellers") == 0) {
            if (parse_count(key, v, 256, &canc)) return PB_EXIT_USAGE;
        } else if (strcmp(key, "inflight") == 0) {
            if (parse_count(key, v, 4096, &infl)) return PB_EXIT_USAGE;
        } else if (strcmp(key, "pool") == 0 || strcmp(key, "queue") == 0 || strcmp(key, "handoff") == 0) {
            enum pb_plugin_kind kind = key[0] == 'p' ? PB_PLUGIN_POOL
                                     : key[0] == 'q' ? PB_PLUGIN_QUEUE : PB_PLUGIN_HANDOFF;
            char why[400];
            if (v && pb_plugin_is_path(v)) {
                if (!pb_plugin_load(v, kind, why, sizeof why)) {
                    fprintf(stderr, "pendbench stress: --%s: %s\n", key, why);
                    return PB_EXIT_USAGE;
                }
            } else if (!v || !(key[0] == 'p' ? pb_pool_find(v) != NULL
                               : key[0] == 'q' ? pb_queue_find(v) != NULL
                                               : pb_handoff_find(v) != NULL)) {
                fprintf(stderr, "pendbench stress: --%s: unknown %s '%s' (see `pendbench list`, "
                        "or give a plugin's path: ./x.so)\n", key, key, v ? v : "");
                return PB_EXIT_USAGE;
            }
            if (key[0] == 'p') pool = v; else if (key[0] == 'q') queue = v; else handoff = v;
        } else if (strcmp(key, "lock") == 0) {
            char why[400];
            if (v && pb_plugin_is_path(v)) {
                if (!pb_plugin_load(v, PB_PLUGIN_LOCK, why, sizeof why)) {
                    fprintf(stderr, "pendbench stress: --lock: %s\n", why);
                    return PB_EXIT_USAGE;
                }
            } else if (!v || !pb_lock_find(v)) {
                fprintf(stderr, "pendbench stress: --lock: unknown lock '%s' (see `pendbench "
                        "list`, or give a plugin's path: ./x.so)\n", v ? v : "");
                return PB_EXIT_USAGE;
            }
            lock = v;
        } else {
            fprintf(stderr, "pendbench stress: unknown option '--%s' (see `pendbench stress --help`)\n", key);
            return PB_EXIT_USAGE;
        }
    }
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
        fprintf(stderr, "pendbench stress: %u runs of at least %.1f s each: about %.0f s, more "
                "than the %.3g s asked (name a strategy to run fewer)\n", n, each, n * each,
                duration);
    }
    pb_install_sigint();
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
    printf("stress: %u runs, no violation%s\n", ran, pb_interrupted ? " (interrupted)" : "");
    return pb_interrupted ? 130 : PB_EXIT_OK;
}
