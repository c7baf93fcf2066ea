/* Scenario options: every key sets its field, every bad value is refused
 * with a message naming the key, the checks on whole scenarios, the
 * built-ins, the distributions (parse, format, draws) and determinism. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pb_err.h"
#include "pb_rng.h"
#include "pb_scenario.h"

static bool same_dist(const struct pb_dist *a, const struct pb_dist *b)
{
    return a->kind == b->kind && a->a == b->a && a->b == b->b;
}

/* Field by field: struct copies need not copy padding, so no memcmp. */
static bool same_scenario(const struct pb_scenario *a, const struct pb_scenario *b)
{
    bool same = !strcmp(a->name, b->name) && !strcmp(a->description, b->description) &&
                !strcmp(a->pool, b->pool) && !strcmp(a->queue, b->queue) &&
                !strcmp(a->handoff, b->handoff) && a->requesters == b->requesters &&
                a->workers == b->workers && a->cancellers == b->cancellers &&
                a->idle == b->idle && a->placement == b->placement && a->route == b->route &&
                a->nfilters == b->nfilters && !memcmp(&a->mix, &b->mix, sizeof a->mix) &&
                a->pend_fraction == b->pend_fraction &&
                a->cancel_fraction == b->cancel_fraction && a->cancel_when == b->cancel_when &&
                same_dist(&a->cancel_delay, &b->cancel_delay) &&
                same_dist(&a->service, &b->service) &&
                same_dist(&a->fs_service, &b->fs_service) && a->inflight == b->inflight &&
                a->rate == b->rate && a->burst_on_ms == b->burst_on_ms &&
                a->burst_off_ms == b->burst_off_ms && a->duration_s == b->duration_s &&
                a->ops == b->ops && a->warmup_s == b->warmup_s && a->seed == b->seed &&
                a->pool_capacity == b->pool_capacity && a->queue_capacity == b->queue_capacity &&
                a->verifier_checks == b->verifier_checks && a->split_every == b->split_every &&
           a->latency_every == b->latency_every;
    for (unsigned i = 0; same && i < a->nfilters && i < PB_MAX_FILTERS; i++)
        same = a->filters[i] == b->filters[i];
    return same;
}

/* ---- every key sets its field ----------------------------------------------------- */

static const char *covered[64];
static size_t ncovered;

static void note_covered(const char *key)
{
    for (size_t i = 0; i < ncovered; i++)
        if (strcmp(covered[i], key) == 0)
            return;
    if (ncovered < sizeof covered / sizeof covered[0])
        covered[ncovered++] = key;
}

/* Starts from the defaults, sets key=value, asserts success and cond (on s). */
#define SET_OK(key, value, cond)                                                                 \
    do {                                                                                         \
        struct pb_scenario s;                                                                    \
        char err[512] = "";                                                                      \
        pb_scenario_defaults(&s);                                                                \
        cr_assert_eq(pb_scenario_set(&s, key, value, err, sizeof err), 0, "%s=%s: %s", key,      \
                     value, err);                                                                \
        cr_expect(cond, "%s=%s: expected %s", key, value, #cond);                                \
        note_covered(key);                                                                       \
    } while (0)

Test(scenario, defaults_are_the_documented_ones)
{
    struct pb_scenario s;
    memset(&s, 0xa5, sizeof s);
    pb_scenario_defaults(&s);
    cr_expect_str_eq(s.name, "custom");
    cr_expect_str_eq(s.pool, "magazine");
    cr_expect_str_eq(s.queue, "percpu-mpsc");
    cr_expect_str_eq(s.handoff, "xchg");
    cr_expect_eq(s.requesters, 1);
    cr_expect_eq(s.workers, 1);
    cr_expect_eq(s.cancellers, 1);
    cr_expect_eq(s.idle, PB_IDLE_SPIN_PARK);
    cr_expect_eq(s.placement, PB_PLACE_COMPACT);
    cr_expect_eq(s.route, PB_ROUTE_LOCAL);
    cr_expect_eq(s.nfilters, 1);
    cr_expect_eq(s.filters[0], PB_FILTER_PEND);
    cr_expect_eq(s.mix.read, 70);
    cr_expect_eq(s.mix.write, 30);
    cr_expect_eq(s.mix.create + s.mix.cleanup + s.mix.close + s.mix.query + s.mix.fastio +
                     s.mix.paging + s.mix.fsfilter,
                 0);
    cr_expect_eq(s.pend_fraction, 1.0);
    cr_expect_eq(s.cancel_fraction, 0.1);
    cr_expect_eq(s.cancel_when, PB_CANCEL_DELAY);
    cr_expect_eq(s.cancel_delay.kind, PB_DIST_EXP);
    cr_expect_eq(s.cancel_delay.a, 2000);
    cr_expect_eq(s.service.kind, PB_DIST_FIXED);
    cr_expect_eq(s.service.a, 0);
    cr_expect_eq(s.fs_service.kind, PB_DIST_FIXED);
    cr_expect_eq(s.fs_service.a, 0);
    cr_expect_eq(s.inflight, 1);
    cr_expect_eq(s.rate, 0);
    cr_expect_eq(s.burst_on_ms, 0);
    cr_expect_eq(s.burst_off_ms, 0);
    cr_expect_eq(s.duration_s, 2.0);
    cr_expect_eq(s.ops, 0);
    cr_expect_eq(s.warmup_s, 0.2);
    cr_expect_eq(s.seed, 1);
    cr_expect_eq(s.pool_capacity, 0);
    cr_expect_eq(s.queue_capacity, 0);
    cr_expect_not(s.verifier_checks);
    cr_expect_eq(s.split_every, 16);
    cr_expect_eq(s.latency_every, PB_LATENCY_EVERY_AUTO, "latency-every auto");
    char err[256];
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), 0, "%s", err);
}

/* latency-every auto's rule: the smallest N that brings a timed
 * operation's cost down to the target per operation. */
Test(scenario, latency_every_auto_picks_the_smallest_n)
{
    double t = PB_INSTRUMENTATION_TARGET_NS;
    cr_expect_eq(pb_latency_every_auto(0), 1, "nothing measured: time every one");
    cr_expect_eq(pb_latency_every_auto(-5), 1);
    cr_expect_eq(pb_latency_every_auto(NAN), 1);
    cr_expect_eq(pb_latency_every_auto(INFINITY), 1);
    cr_expect_eq(pb_latency_every_auto(t / 2), 1);
    cr_expect_eq(pb_latency_every_auto(t), 1, "at the target: every one");
    cr_expect_eq(pb_latency_every_auto(t * 1.01), 2);
    cr_expect_eq(pb_latency_every_auto(t * 2), 2);
    cr_expect_eq(pb_latency_every_auto(t * 3.5), 4);
    cr_expect_eq(pb_latency_every_auto(t * 2e6), PB_LATENCY_EVERY_MAX, "capped");
}

Test(scenario, every_option_sets_its_field)
{
    SET_OK("pool", "lifo", strcmp(s.pool, "lifo") == 0);
    SET_OK("queue", "percpu-ring", strcmp(s.queue, "percpu-ring") == 0);
    SET_OK("handoff", "cas", strcmp(s.handoff, "cas") == 0);
    SET_OK("lock", "ttas-backoff", strcmp(s.lock, "ttas-backoff") == 0);
    SET_OK("lock", "default", s.lock[0] == '\0');
    SET_OK("requesters", "3", s.requesters == 3);
    SET_OK("workers", "5", s.workers == 5);
    SET_OK("cancellers", "0", s.cancellers == 0);
    SET_OK("cancellers", "2", s.cancellers == 2);
    SET_OK("idle", "spin", s.idle == PB_IDLE_SPIN);
    SET_OK("idle", "park", s.idle == PB_IDLE_PARK);
    SET_OK("idle", "spin-park", s.idle == PB_IDLE_SPIN_PARK);
    SET_OK("placement", "scatter", s.placement == PB_PLACE_SCATTER);
    SET_OK("placement", "same-node", s.placement == PB_PLACE_SAME_NODE);
    SET_OK("placement", "cross-node", s.placement == PB_PLACE_CROSS_NODE);
    SET_OK("placement", "compact", s.placement == PB_PLACE_COMPACT);
    SET_OK("route", "same-node", s.route == PB_ROUTE_SAME_NODE);
    SET_OK("route", "remote-node", s.route == PB_ROUTE_REMOTE_NODE);
    SET_OK("route", "round-robin", s.route == PB_ROUTE_ROUND_ROBIN);
    SET_OK("route", "local", s.route == PB_ROUTE_LOCAL);
    SET_OK("filters", "mix, callback,pend",
           s.nfilters == 3 && s.filters[0] == PB_FILTER_MIX &&
               s.filters[1] == PB_FILTER_CALLBACK && s.filters[2] == PB_FILTER_PEND);
    SET_OK("filters", "pass,synchronize,cbdq,async,pend,pend",
           s.nfilters == 6 && s.filters[0] == PB_FILTER_PASS &&
               s.filters[1] == PB_FILTER_SYNCHRONIZE && s.filters[2] == PB_FILTER_CBDQ &&
               s.filters[3] == PB_FILTER_ASYNC && s.filters[5] == PB_FILTER_PEND);
    SET_OK("mix", "read=70,write=30,fastio=5,paging=2,cleanup=1,close=1,create=1,query=1,fsfilter=1",
           s.mix.read == 70 && s.mix.write == 30 && s.mix.fastio == 5 && s.mix.paging == 2 &&
               s.mix.cleanup == 1 && s.mix.close == 1 && s.mix.create == 1 &&
               s.mix.query == 1 && s.mix.fsfilter == 1);
    SET_OK("mix", "fsfilter=50, read = 50",
           s.mix.fsfilter == 50 && s.mix.read == 50 && s.mix.write == 0);
    SET_OK("pend-fraction", "0.25", s.pend_fraction == 0.25);
    SET_OK("pend-fraction", "0", s.pend_fraction == 0);
    SET_OK("cancel-fraction", "1", s.cancel_fraction == 1);
    SET_OK("cancel-fraction", ".5", s.cancel_fraction == 0.5);
    SET_OK("cancel-when", "immediate", s.cancel_when == PB_CANCEL_IMMEDIATE);
    SET_OK("cancel-when", "race", s.cancel_when == PB_CANCEL_RACE);
    SET_OK("cancel-when", "delay", s.cancel_when == PB_CANCEL_DELAY);
    SET_OK("cancel-delay", "uniform:100:900",
           s.cancel_delay.kind == PB_DIST_UNIFORM && s.cancel_delay.a == 100 &&
               s.cancel_delay.b == 900);
    SET_OK("service", "exp:1000", s.service.kind == PB_DIST_EXP && s.service.a == 1000);
    SET_OK("service", "2us", s.service.kind == PB_DIST_FIXED && s.service.a == 2000);
    SET_OK("fs-service", "lognormal:1000:0.5",
           s.fs_service.kind == PB_DIST_LOGNORMAL && s.fs_service.a == 1000 &&
               s.fs_service.b == 0.5);
    SET_OK("inflight", "4096", s.inflight == 4096);
    SET_OK("rate", "200000", s.rate == 200000);
    SET_OK("rate", "50k", s.rate == 50000);
    SET_OK("rate", "1.5M", s.rate == 1500000);
    SET_OK("rate", "0", s.rate == 0);
    SET_OK("burst", "20:80", s.burst_on_ms == 20 && s.burst_off_ms == 80);
    SET_OK("burst", "off", s.burst_on_ms == 0 && s.burst_off_ms == 0);
    SET_OK("burst", "0", s.burst_on_ms == 0 && s.burst_off_ms == 0);
    SET_OK("duration", "2", s.duration_s == 2);
    SET_OK("duration", "2s", s.duration_s == 2);
    SET_OK("duration", "500ms", s.duration_s == 0.5);
    SET_OK("duration", "250us", fabs(s.duration_s - 250e-6) < 1e-15);
    SET_OK("duration", "1min", s.duration_s == 60);
    SET_OK("duration", "0", s.duration_s == 0);
    SET_OK("ops", "1000000", s.ops == 1000000);
    SET_OK("ops", "2M", s.ops == 2000000);
    SET_OK("ops", "18446744073709551615", s.ops == UINT64_MAX);
    SET_OK("warmup", "0", s.warmup_s == 0);
    SET_OK("warmup", "100ms", s.warmup_s == 0.1);
    SET_OK("seed", "42", s.seed == 42);
    SET_OK("seed", "0xdeadBEEF", s.seed == 0xdeadbeefull);
    SET_OK("seed", "18446744073709551615", s.seed == UINT64_MAX);
    SET_OK("pool-capacity", "4096", s.pool_capacity == 4096);
    SET_OK("pool-capacity", "1k", s.pool_capacity == 1000);
    SET_OK("queue-capacity", "256", s.queue_capacity == 256);
    SET_OK("verifier-checks", "on", s.verifier_checks);
    SET_OK("verifier-checks", "true", s.verifier_checks);
    SET_OK("verifier-checks", "1", s.verifier_checks);
    SET_OK("verifier-checks", "off", !s.verifier_checks);
    SET_OK("verifier-checks", "false", !s.verifier_checks);
    SET_OK("verifier-checks", "0", !s.verifier_checks);
    SET_OK("memory-node", "3", s.memory_node == 3);
    SET_OK("memory-node", "local", s.memory_node == -1);
    SET_OK("split-every", "1", s.split_every == 1);
    SET_OK("split-every", "64", s.split_every == 64);
    SET_OK("split-every", "1M", s.split_every == 1000000);
    SET_OK("latency-every", "1", s.latency_every == 1);
    SET_OK("latency-every", "4", s.latency_every == 4);
    SET_OK("latency-every", "1M", s.latency_every == 1000000);
    SET_OK("latency-every", "auto", s.latency_every == PB_LATENCY_EVERY_AUTO);
    SET_OK("name", "my-run", strcmp(s.name, "my-run") == 0);
    SET_OK("description", "free text, with spaces: and = signs",
           strcmp(s.description, "free text, with spaces: and = signs") == 0);
    SET_OK("description", "a", strcmp(s.description, "a") == 0);
    SET_OK("description", "", s.description[0] == '\0');
    SET_OK("scenario", "cancel-race",
           strcmp(s.name, "cancel-race") == 0 && s.cancel_when == PB_CANCEL_RACE &&
               s.service.a == 2000);

    /* Every documented option is covered above, and every option is documented. */
    size_t ndocs = 0;
    for (const struct pb_option_doc *d = pb_scenario_options; d->name; d++, ndocs++) {
        bool found = false;
        for (size_t i = 0; i < ncovered; i++)
            found |= strcmp(covered[i], d->name) == 0;
        cr_expect(found, "option '%s' is not tested", d->name);
    }
    cr_expect_eq(ndocs, ncovered, "%zu documented options, %zu tested", ndocs, ncovered);
}

Test(scenario, option_docs_are_complete)
{
    size_t n = 0;
    for (const struct pb_option_doc *d = pb_scenario_options; d->name; d++, n++) {
        cr_expect(d->syntax && *d->syntax, "%s: no syntax", d->name);
        cr_expect(d->help && *d->help, "%s: no help", d->name);
        cr_expect(strstr(d->help, "default") != NULL, "%s: help does not give the default",
                  d->name);
        for (const struct pb_option_doc *e = pb_scenario_options; e != d; e++)
            cr_expect_str_neq(e->name, d->name, "option '%s' twice", d->name);
    }
    cr_expect_geq(n, 30);
}

/* ---- bad values ----------------------------------------------------------------- */

struct bad {
    const char *key, *value;
    const char *also;          /* a further substring the message must hold, or NULL */
};

static const struct bad bad_values[] = {
    {"pool", "nope", "magazine"},           /* lists the known names */
    {"queue", "nope", "percpu-mpsc"},
    {"handoff", "nope", "xchg"},
    {"lock", "nope", "pthread-mutex"},      /* lists the known locks */
    {"lock", "pthread-mutx", "did you mean 'pthread-mutex'"},
    {"pool", "", NULL},
    {"requesters", "0", "1 to"},
    {"requesters", "-1", NULL},
    {"requesters", "+1", NULL},
    {"requesters", " 1", NULL},
    {"requesters", "1x", NULL},
    {"requesters", "1.5", NULL},
    {"requesters", "99999999999999999999999", NULL},
    {"requesters", "100000", NULL},
    {"workers", "0", NULL},
    {"cancellers", "-1", NULL},
    {"idle", "sleep", "spin-park"},
    {"placement", "far", "cross-node"},
    {"route", "nowhere", "round-robin"},
    {"filters", ",", NULL},
    {"filters", "pend,,pass", NULL},
    {"filters", "pend,", NULL},
    {"filters", "bogus", "synchronize"},
    {"filters", "pend,pend,pend,pend,pend,pend,pend", "more than 6"},
    {"mix", "read=70,bogus=3", "unknown operation 'bogus'"},
    {"mix", "read=0,write=0", "weight 0"},
    {"mix", "read", NULL},
    {"mix", "read=", NULL},
    {"mix", "read=-1", NULL},
    {"mix", "read=1.5", NULL},
    {"mix", "read=1,read=2", "twice"},
    {"mix", "read=1,", NULL},
    {"mix", "read=99999999", NULL},
    {"pend-fraction", "1.5", "fraction from 0 to 1"},
    {"pend-fraction", "-0.1", NULL},
    {"pend-fraction", "-0", NULL},
    {"pend-fraction", "nan", NULL},
    {"pend-fraction", "inf", NULL},
    {"pend-fraction", "0.5x", NULL},
    {"pend-fraction", "0x1p-1", NULL},
    {"cancel-fraction", "1.0001", NULL},
    {"cancel-when", "later", "immediate"},
    {"cancel-delay", "gauss:3", "unknown distribution"},
    {"cancel-delay", "uniform:900:100", "MIN <= MAX"},
    {"cancel-delay", "uniform:100", NULL},
    {"cancel-delay", "exp:-1", NULL},
    {"cancel-delay", "exp:1:2", NULL},
    {"service", "lognormal:100", NULL},
    {"service", "lognormal:100:-1", NULL},
    {"service", "fixed:", NULL},
    {"service", "fixed:5x", NULL},
    {"service", "fixed:1e400", NULL},
    {"fs-service", "abc", NULL},
    {"fs-service", "-5", NULL},
    {"inflight", "0", "1 to 4096"},
    {"inflight", "4097", NULL},
    {"rate", "-1", NULL},
    {"rate", "nan", NULL},
    {"rate", "1e300", NULL},
    {"rate", "5kk", NULL},
    {"burst", "20", "ON_MS:OFF_MS"},
    {"burst", "0:80", NULL},
    {"burst", "20:0", NULL},
    {"burst", "20:x", NULL},
    {"burst", "20:80:1", NULL},
    {"duration", "-1", NULL},
    {"duration", "2h", NULL},
    {"duration", "2 s", NULL},
    {"duration", "1e300", NULL},
    {"ops", "-1", NULL},
    {"ops", "1.5", NULL},
    {"ops", "18446744073709551616", NULL},
    {"ops", "20000000000G", NULL},
    {"warmup", "soon", NULL},
    {"seed", "-1", NULL},
    {"seed", "abc", NULL},
    {"seed", "18446744073709551616", NULL},
    {"seed", "0x", NULL},
    {"pool-capacity", "-5", NULL},
    {"queue-capacity", "lots", NULL},
    {"queue-capacity", "2M", "at most 1M"},
    {"queue-capacity", "4611686018427387904", "at most 1M"},
    {"verifier-checks", "maybe", "on, off"},
    {"memory-node", "-1", "local"},
    {"memory-node", "two", "pendbench topo"},
    {"memory-node", "9999", "0-4095"},
    {"memory-node", " 0", "0-4095"},        /* strtol took a blank, a sign */
    {"memory-node", "+0", "0-4095"},
    {"memory-node", "0x1", "0-4095"},
    {"split-every", "0", "1 to 1000000"},
    {"split-every", "2M", "1 to 1000000"},
    {"split-every", "often", NULL},
    {"latency-every", "0", "1 to 1000000"},
    {"latency-every", "2M", "1 to 1000000"},
    {"latency-every", "-3", NULL},
    {"latency-every", "half", NULL},
    {"name", "", NULL},
    {"name", "a-name-that-is-far-too-long-to-fit-in-forty-seven-chars", NULL},
    {"name", "tab\there", NULL},
    {"description", "x\x01y", NULL},
    /* Not UTF-8: came back as '?' in the result file, raw on the terminal. */
    {"name", "\xff\xfe", "\\xff\\xfe"},
    {"name", "caf\xc3", "UTF-8"},
    {"description", "over\xc0\xaflong", "\\xc0\\xaf"},
    {"description", "surrogate \xed\xa0\x80", "UTF-8"},
    {"scenario", "nope", "cancel-storm"},
    {"cancel-fraction", NULL, "needs a value"},
};

Test(scenario, every_bad_value_is_refused_naming_the_key)
{
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        const struct bad *b = &bad_values[i];
        struct pb_scenario s, before;
        char err[512] = "";
        pb_scenario_defaults(&s);
        before = s;
        int rc = pb_scenario_set(&s, b->key, b->value, err, sizeof err);
        cr_expect_eq(rc, -1, "%s=%s was accepted", b->key, b->value ? b->value : "(null)");
        char key[64];
        snprintf(key, sizeof key, "key '%s'", b->key);
        cr_expect(strstr(err, key) != NULL, "%s=%s: message '%s' does not name the key", b->key,
                  b->value ? b->value : "(null)", err);
        char shown[200];      /* a value that is not text is quoted escaped (\\xNN) */
        if (b->value && *b->value && strlen(b->value) < 40)
            cr_expect(strstr(err, pb_text_escape(b->value, shown, sizeof shown)) != NULL,
                      "%s=%s: message '%s' does not quote it", b->key, b->value, err);
        if (b->also)
            cr_expect(strstr(err, b->also) != NULL, "%s=%s: message '%s' lacks '%s'", b->key,
                      b->value ? b->value : "(null)", err, b->also);
        cr_expect(same_scenario(&s, &before), "%s=%s changed the scenario", b->key,
                  b->value ? b->value : "(null)");
    }
}

Test(scenario, long_description_is_refused)
{
    char text[200];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    struct pb_scenario s;
    char err[512];
    pb_scenario_defaults(&s);
    cr_expect_eq(pb_scenario_set(&s, "description", text, err, sizeof err), -1);
    cr_expect(strstr(err, "key 'description'") != NULL, "%s", err);
}

Test(scenario, message_says_what_is_accepted)
{
    struct pb_scenario s;
    char err[512];
    pb_scenario_defaults(&s);
    cr_assert_eq(pb_scenario_set(&s, "cancel-fraction", "1.5", err, sizeof err), -1);
    cr_expect_str_eq(err, "key 'cancel-fraction': '1.5' is not a fraction from 0 to 1");
}

Test(scenario, unknown_key_is_refused_with_a_suggestion)
{
    struct pb_scenario s;
    char err[512];
    pb_scenario_defaults(&s);
    cr_expect_eq(pb_scenario_set(&s, "queu", "percpu-mpsc", err, sizeof err), -1);
    cr_expect(strstr(err, "key 'queu'") && strstr(err, "unknown option") &&
                  strstr(err, "did you mean 'queue'"),
              "%s", err);
    cr_expect_eq(pb_scenario_set(&s, "zzzzzzzz", "1", err, sizeof err), -1);
    cr_expect(strstr(err, "key 'zzzzzzzz'") && strstr(err, "unknown option"), "%s", err);
    cr_expect_eq(pb_scenario_set(&s, "", "1", err, sizeof err), -1);
    cr_expect_eq(pb_scenario_set(&s, NULL, "1", err, sizeof err), -1);
}

Test(scenario, scenario_key_resets_to_the_builtin)
{
    struct pb_scenario s;
    char err[512];
    pb_scenario_defaults(&s);
    cr_assert_eq(pb_scenario_set(&s, "queue", "percpu-ring", err, sizeof err), 0);
    cr_assert_eq(pb_scenario_set(&s, "inflight", "17", err, sizeof err), 0);
    cr_assert_eq(pb_scenario_set(&s, "scenario", "steady", err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(s.queue, "percpu-mpsc");
    cr_expect_eq(s.inflight, 4);
    cr_expect_eq(s.cancel_fraction, 0);
    cr_expect_str_eq(s.name, "steady");
    cr_assert_eq(pb_scenario_set(&s, "inflight", "9", err, sizeof err), 0);
    cr_expect_eq(s.inflight, 9);
}

Test(scenario, apply_options_is_all_or_nothing)
{
    struct pb_scenario s, before;
    char err[512];
    pb_scenario_defaults(&s);
    before = s;
    cr_expect_eq(pb_scenario_apply_options(&s, "inflight=3\n  \n# comment\nqueue=bad\n", err,
                                           sizeof err),
                 -1);
    cr_expect(strstr(err, "key 'queue'") != NULL, "%s", err);
    cr_expect(same_scenario(&s, &before));
    cr_expect_eq(pb_scenario_apply_options(&s, "inflight = 3\nmix=read=1,write=2", err,
                                           sizeof err),
                 0, "%s", err);
    cr_expect_eq(s.inflight, 3);
    cr_expect_eq(s.mix.write, 2);
    cr_expect_eq(pb_scenario_apply_options(&s, "inflight", err, sizeof err), -1);
}

/* ---- whole-scenario checks -------------------------------------------------------- */

static void expect_invalid(const char *options, const char *why)
{
    struct pb_scenario s;
    char err[512] = "";
    pb_scenario_defaults(&s);
    cr_assert_eq(pb_scenario_apply_options(&s, options, err, sizeof err), 0, "%s: %s", options,
                 err);
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1, "%s: accepted", options);
    cr_expect(strstr(err, why) != NULL, "%s: message '%s' lacks '%s'", options, err, why);
}

static void expect_valid(const char *options)
{
    struct pb_scenario s;
    char err[512] = "";
    pb_scenario_defaults(&s);
    cr_assert_eq(pb_scenario_apply_options(&s, options, err, sizeof err), 0, "%s: %s", options,
                 err);
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), 0, "%s: %s", options, err);
}

Test(scenario, impossible_combinations_are_refused)
{
    /* cancellers = 0 with cancels: requesters fire their own (a decision of the run engine). */
    expect_invalid("filters=async", "filter 'async' needs a 'pend' filter below it");
    expect_invalid("filters=pend,async", "filter 'async' needs a 'pend' filter below it");
    expect_invalid("filters=async,cbdq", "filter 'async' needs a 'pend' filter below it");
    /* Two of them took one operation's slot for both (verifier errors). */
    expect_invalid("filters=async,async,pend",
                   "at most one 'async' filter in a stack (filters 1 and 2 are)");
    expect_invalid("filters=async,pend,async,pend",
                   "at most one 'async' filter in a stack (filters 1 and 3 are)");
    expect_invalid("burst=20:80", "rate");
    expect_invalid("duration=0\nops=0", "duration and ops");
    /* A lock must fit every lock-based strategy of the scenario. */
    expect_invalid("handoff=op-lock\nlock=pthread-mutex",
                   "lock 'pthread-mutex' does not fit the handoff strategy 'op-lock': it is not "
                   "an in-word lock");

    expect_valid("cancellers=0\ncancel-fraction=0");
    expect_valid("cancellers=0\ncancel-fraction=0.5\ncancel-when=race");
    expect_valid("filters=async,pend\ncancellers=0\ncancel-fraction=0.5");
    expect_valid("filters=async,callback,pend");
    expect_valid("rate=1000\nburst=20:80\ninflight=64");     /* inflight caps an open loop */
    expect_valid("rate=1000");
    expect_valid("duration=0\nops=1000");
    expect_valid("filters=pass");
    expect_valid("placement=cross-node\nroute=remote-node");  /* the planner's business */
    expect_valid("handoff=op-lock\nlock=ttas-backoff");
    expect_valid("queue=global-mutex\nlock=ttas-backoff");
    /* No strategy takes it: the table would name a lock no run used. */
    expect_invalid("pool=malloc\nqueue=percpu-mpsc\nlock=pthread-mutex",
                   "none of the strategies takes a lock");
}

Test(scenario, validate_checks_fields_set_directly)
{
    struct pb_scenario s;
    char err[512];
    pb_scenario_defaults(&s);
    s.workers = 0;
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);
    cr_expect(strstr(err, "workers") != NULL, "%s", err);

    pb_scenario_defaults(&s);
    s.requesters = 0;
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);
    cr_expect(strstr(err, "requesters") != NULL, "%s", err);

    pb_scenario_defaults(&s);
    snprintf(s.queue, sizeof s.queue, "nope");
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);
    cr_expect(strstr(err, "nope") != NULL, "%s", err);

    pb_scenario_defaults(&s);
    s.nfilters = 0;
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);

    pb_scenario_defaults(&s);
    s.nfilters = PB_MAX_FILTERS + 1;
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);

    pb_scenario_defaults(&s);
    memset(&s.mix, 0, sizeof s.mix);
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);

    pb_scenario_defaults(&s);
    s.cancel_fraction = NAN;
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);

    pb_scenario_defaults(&s);
    s.service = (struct pb_dist){PB_DIST_UNIFORM, 10, 5};
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);
    cr_expect(strstr(err, "service") != NULL, "%s", err);

    pb_scenario_defaults(&s);
    s.inflight = 0;
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);

    pb_scenario_defaults(&s);
    s.rate = -1;
    cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), -1);
}

/* ---- built-ins -------------------------------------------------------------------- */


Test(scenario_builtin, every_builtin_loads_and_validates)
{
    const char *expected[] = {"steady", "cancel-storm", "cancel-race", "cross-node", "burst",
                              "filter-stack", "cbdq", "async-io", "fsfilter"};
    size_t n = 0;
    for (const struct pb_builtin *b = pb_builtins; b->name; b++, n++) {
        struct pb_scenario s;
        char err[512] = "";
        cr_assert_eq(pb_scenario_builtin(&s, b->name, err, sizeof err), 0, "%s: %s", b->name,
                     err);
        cr_expect_eq(pb_scenario_validate(&s, err, sizeof err), 0, "%s: %s", b->name, err);
        cr_expect_str_eq(s.name, b->name);
        cr_expect(strlen(b->description) < sizeof s.description, "%s: description too long",
                  b->name);
        cr_expect_str_eq(s.description, b->description);
        cr_expect_eq(pb_builtin_find(b->name), b);
        /* "A few lines of data." */
        size_t lines = 0;
        for (const char *p = b->options; *p; p++)
            lines += *p == '\n';
        cr_expect(lines >= 1 && lines <= 6, "%s: %zu lines", b->name, lines);
        /* A job file section could hold it: the same keys, the same meaning. */
        struct pb_scenario t;
        pb_scenario_defaults(&t);
        cr_expect_eq(pb_scenario_set(&t, "scenario", b->name, err, sizeof err), 0, "%s", err);
        cr_expect(same_scenario(&s, &t), "%s: scenario= differs from the built-in",
                  b->name);
    }
    cr_expect_eq(n, sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_expect_not_null(pb_builtin_find(expected[i]), "built-in '%s' missing", expected[i]);
}

static struct pb_scenario builtin(const char *name)
{
    struct pb_scenario s;
    char err[512];
    cr_assert_eq(pb_scenario_builtin(&s, name, err, sizeof err), 0, "%s: %s", name, err);
    return s;
}

Test(scenario_builtin, builtins_say_what_the_issue_asks)
{
    struct pb_scenario s = builtin("steady");
    cr_expect_eq(s.cancel_fraction, 0);
    cr_expect_eq(s.inflight, 4);

    s = builtin("cancel-storm");
    cr_expect_eq(s.cancel_fraction, 0.9);
    cr_expect_eq(s.cancel_when, PB_CANCEL_IMMEDIATE);
    cr_expect_eq(s.cancellers, 1);
    cr_expect_eq(s.inflight, 8);

    s = builtin("cancel-race");
    cr_expect_eq(s.cancel_fraction, 0.5);
    cr_expect_eq(s.cancel_when, PB_CANCEL_RACE);
    cr_expect_eq(s.service.kind, PB_DIST_FIXED);
    cr_expect_eq(s.service.a, 2000);

    s = builtin("cross-node");
    cr_expect_eq(s.placement, PB_PLACE_CROSS_NODE);
    cr_expect_eq(s.route, PB_ROUTE_LOCAL);
    cr_expect_eq(s.requesters, 2);
    cr_expect_eq(s.workers, 2);
    cr_expect(strstr(s.description, "--topology 'numa:2 core:2 pu:1'") != NULL, "%s",
              s.description);

    s = builtin("burst");
    cr_expect_eq(s.rate, 200000);
    cr_expect_eq(s.burst_on_ms, 20);
    cr_expect_eq(s.burst_off_ms, 80);
    cr_expect_eq(s.inflight, 256);

    s = builtin("filter-stack");
    cr_expect_eq(s.nfilters, 3);
    cr_expect_eq(s.filters[0], PB_FILTER_MIX);
    cr_expect_eq(s.filters[1], PB_FILTER_CALLBACK);
    cr_expect_eq(s.filters[2], PB_FILTER_PEND);
    cr_expect(s.mix.read == 50 && s.mix.write == 30 && s.mix.cleanup == 10 && s.mix.close == 10);

    s = builtin("cbdq");
    cr_expect(s.nfilters == 1 && s.filters[0] == PB_FILTER_CBDQ);
    cr_expect_eq(s.cancel_fraction, 0.3);

    s = builtin("async-io");
    cr_expect(s.nfilters == 2 && s.filters[0] == PB_FILTER_ASYNC && s.filters[1] == PB_FILTER_PEND);
    cr_expect_eq(s.cancel_fraction, 0.3);
    cr_expect_eq(s.cancellers, 0);

    s = builtin("fsfilter");
    cr_expect(s.mix.fsfilter == 50 && s.mix.read == 50 && s.mix.write == 0);
    cr_expect_eq(s.cancel_fraction, 0.05);
}

Test(scenario_builtin, unknown_builtin_is_refused)
{
    struct pb_scenario s;
    char err[512];
    cr_expect_eq(pb_scenario_builtin(&s, "nope", err, sizeof err), -1);
    cr_expect(strstr(err, "'nope'") && strstr(err, "cancel-race"), "%s", err);
    cr_expect_null(pb_builtin_find("nope"));
    cr_expect_null(pb_builtin_find(NULL));
}

/* ---- summary and names ---------------------------------------------------------- */

Test(scenario, summary_mentions_the_strategies)
{
    struct pb_scenario s = builtin("burst");
    char err[512];
    cr_assert_eq(pb_scenario_apply_options(&s, "pool=lifo\nqueue=ck-ring\nhandoff=op-lock", err,
                                           sizeof err),
                 0, "%s", err);
    char line[1024];
    pb_scenario_summary(&s, line, sizeof line);
    cr_expect(strstr(line, "burst"), "%s", line);
    cr_expect(strstr(line, "lifo"), "%s", line);
    cr_expect(strstr(line, "ck-ring"), "%s", line);
    cr_expect(strstr(line, "op-lock"), "%s", line);
    cr_expect(strstr(line, "open loop"), "%s", line);
    cr_expect(strchr(line, '\n') == NULL, "one line: %s", line);

    pb_scenario_defaults(&s);
    pb_scenario_summary(&s, line, sizeof line);
    cr_expect(strstr(line, "magazine") && strstr(line, "percpu-mpsc") && strstr(line, "xchg"),
              "%s", line);
    cr_expect(strstr(line, "closed loop"), "%s", line);

    char tiny[16];
    pb_scenario_summary(&s, tiny, sizeof tiny);      /* truncates, terminates */
    cr_expect_eq(strlen(tiny), sizeof tiny - 1);
}

Test(scenario, enum_names)
{
    cr_expect_str_eq(pb_filter_kind_name(PB_FILTER_PEND), "pend");
    cr_expect_str_eq(pb_filter_kind_name(PB_FILTER_ASYNC), "async");
    cr_expect_str_eq(pb_filter_kind_name(PB_FILTER_SYNCHRONIZE), "synchronize");
    cr_expect_str_eq(pb_route_name(PB_ROUTE_ROUND_ROBIN), "round-robin");
    cr_expect_str_eq(pb_route_name(PB_ROUTE_REMOTE_NODE), "remote-node");
    cr_expect_str_eq(pb_cancel_when_name(PB_CANCEL_RACE), "race");
    cr_expect_str_eq(pb_idle_name(PB_IDLE_SPIN_PARK), "spin-park");
    cr_expect_str_eq(pb_idle_name((pb_idle_policy)99), "?");
    cr_expect_str_eq(pb_route_name((pb_route)99), "?");
}

/* ---- distributions -------------------------------------------------------------- */

Test(scenario_dist, parse_each_kind)
{
    struct pb_dist d;
    char err[256];
    cr_assert_eq(pb_dist_parse("fixed:500", &d, err, sizeof err), 0, "%s", err);
    cr_expect(d.kind == PB_DIST_FIXED && d.a == 500);
    cr_assert_eq(pb_dist_parse("750", &d, err, sizeof err), 0, "%s", err);
    cr_expect(d.kind == PB_DIST_FIXED && d.a == 750);
    cr_assert_eq(pb_dist_parse("uniform:100:900", &d, err, sizeof err), 0, "%s", err);
    cr_expect(d.kind == PB_DIST_UNIFORM && d.a == 100 && d.b == 900);
    cr_assert_eq(pb_dist_parse("uniform:5:5", &d, err, sizeof err), 0, "%s", err);
    cr_assert_eq(pb_dist_parse("exp:1000", &d, err, sizeof err), 0, "%s", err);
    cr_expect(d.kind == PB_DIST_EXP && d.a == 1000);
    cr_assert_eq(pb_dist_parse("lognormal:1000:0.5", &d, err, sizeof err), 0, "%s", err);
    cr_expect(d.kind == PB_DIST_LOGNORMAL && d.a == 1000 && d.b == 0.5);
    cr_assert_eq(pb_dist_parse("exp:1.5us", &d, err, sizeof err), 0, "%s", err);
    cr_expect(d.kind == PB_DIST_EXP && d.a == 1500);
    cr_assert_eq(pb_dist_parse("fixed:1ms", &d, err, sizeof err), 0, "%s", err);
    cr_expect(d.a == 1e6);

    const char *bad[] = {"", "fixed", "fixed:", "fixed:1:2", "uniform:2:1", "exp", "exp:x",
                         "lognormal:1", "lognormal:1:11", "weibull:1:2", "1:2", "-3", "nan",
                         "fixed:inf", "fixed:1h", "uniform::1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_expect_eq(pb_dist_parse(bad[i], &d, err, sizeof err), -1, "'%s' accepted", bad[i]);
        cr_expect(*err, "'%s': no message", bad[i]);
    }
}

Test(scenario_dist, format_round_trips)
{
    const char *texts[] = {"fixed:0",  "fixed:500",         "uniform:100:900",  "exp:1000",
                           "exp:0.1",  "lognormal:1000:0.5", "uniform:0.3:1e+11",
                           "fixed:12345.678"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct pb_dist d, e;
        char err[256], buf[128];
        cr_assert_eq(pb_dist_parse(texts[i], &d, err, sizeof err), 0, "%s: %s", texts[i], err);
        pb_dist_format(&d, buf, sizeof buf);
        cr_assert_eq(pb_dist_parse(buf, &e, err, sizeof err), 0, "%s -> %s: %s", texts[i], buf,
                     err);
        cr_expect(d.kind == e.kind && d.a == e.a && (d.kind == PB_DIST_FIXED ||
                                                     d.kind == PB_DIST_EXP || d.b == e.b),
                  "%s -> %s", texts[i], buf);
    }
    struct pb_dist d = {PB_DIST_FIXED, 500, 0};
    char buf[64];
    pb_dist_format(&d, buf, sizeof buf);
    cr_expect_str_eq(buf, "fixed:500");
    d = (struct pb_dist){PB_DIST_LOGNORMAL, 1000, 0.5};
    pb_dist_format(&d, buf, sizeof buf);
    cr_expect_str_eq(buf, "lognormal:1000:0.5");
    /* Awkward doubles still come back exactly. */
    d = (struct pb_dist){PB_DIST_UNIFORM, 1.0 / 3, 2.0 / 3 * 1000};
    pb_dist_format(&d, buf, sizeof buf);
    struct pb_dist e;
    char err[256];
    cr_assert_eq(pb_dist_parse(buf, &e, err, sizeof err), 0, "%s: %s", buf, err);
    cr_expect(e.a == d.a && e.b == d.b, "%s", buf);
}

static void check_draws(const char *text, double lo, double hi, double tolerance)
{
    struct pb_dist d;
    char err[256];
    cr_assert_eq(pb_dist_parse(text, &d, err, sizeof err), 0, "%s", err);
    struct pb_rng r;
    pb_rng_seed(&r, 12345, 0);
    const int n = 200000;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        double x = pb_dist_draw(&d, &r);
        if (!(x >= lo && x <= hi)) {
            cr_expect_fail("%s: draw %g outside [%g, %g]", text, x, lo, hi);
            return;
        }
        sum += x;
    }
    double mean = pb_dist_mean(&d);
    cr_expect(fabs(sum / n - mean) <= tolerance * mean + 1e-12, "%s: sample mean %g, mean %g",
              text, sum / n, mean);
}

Test(scenario_dist, draws_are_in_bounds_with_the_right_mean)
{
    check_draws("fixed:500", 500, 500, 0);
    check_draws("uniform:100:900", 100, 900, 0.01);
    check_draws("exp:1000", 0, INFINITY, 0.02);
    check_draws("lognormal:1000:0.5", 0, INFINITY, 0.02);
    check_draws("lognormal:1000:0", 1000, 1000, 1e-12);
    check_draws("exp:0", 0, 0, 0);

    struct pb_dist d;
    cr_assert_eq(pb_dist_parse("exp:1000", &d, NULL, 0), 0);
    cr_expect_eq(pb_dist_mean(&d), 1000);
    cr_assert_eq(pb_dist_parse("uniform:100:900", &d, NULL, 0), 0);
    cr_expect_eq(pb_dist_mean(&d), 500);
    cr_assert_eq(pb_dist_parse("lognormal:1000:0.5", &d, NULL, 0), 0);
    cr_expect(fabs(pb_dist_mean(&d) - 1000 * exp(0.125)) < 1e-9);

    /* The lognormal's median is its first parameter. */
    struct pb_rng r;
    pb_rng_seed(&r, 99, 3);
    cr_assert_eq(pb_dist_parse("lognormal:1000:0.8", &d, NULL, 0), 0);
    int below = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++)
        below += pb_dist_draw(&d, &r) < 1000;
    cr_expect(fabs((double)below / n - 0.5) < 0.01, "%d of %d below the median", below, n);
}

/* A distribution whose mean is beyond 1000 s is refused with the SIGMA it
 * could have; the tails of those accepted are cut at 1000 s, so a draw
 * always converts to a count of ns (e^(10 z) passes 2^64). */
Test(scenario_dist, means_beyond_a_time_are_refused_and_tails_are_cut)
{
    struct pb_dist d;
    char err[256];
    cr_expect_eq(pb_dist_parse("lognormal:1000:10", &d, err, sizeof err), -1);
    cr_expect(strstr(err, "mean of 5.18e+24 ns") && strstr(err, "at most 6.43"), "%s", err);
    cr_expect_eq(pb_dist_parse("lognormal:1000:6.43", &d, err, sizeof err), 0, "%s", err);
    cr_expect_eq(pb_dist_parse("lognormal:1000:6.44", &d, err, sizeof err), -1);
    cr_expect_eq(pb_dist_parse("lognormal:0:10", &d, err, sizeof err), 0, "%s", err);
    struct pb_scenario s;
    pb_scenario_defaults(&s);
    cr_expect_neq(pb_scenario_set(&s, "service", "lognormal:1s:7", err, sizeof err), 0);
    s.service = (struct pb_dist){ PB_DIST_LOGNORMAL, 1000, 10 };   /* set as a struct */
    cr_expect_neq(pb_scenario_validate(&s, err, sizeof err), 0);

    const char *heavy[] = { "lognormal:1s:3.5", "exp:1000s" };
    for (size_t k = 0; k < 2; k++) {
        cr_assert_eq(pb_dist_parse(heavy[k], &d, err, sizeof err), 0, "%s", err);
        struct pb_rng r;
        pb_rng_seed(&r, 7, 1);
        int cut = 0;
        for (int i = 0; i < 100000; i++) {
            double x = pb_dist_draw(&d, &r);
            cr_assert(x >= 0 && x <= 1e12, "%s: draw %g", heavy[k], x);
            cut += x == 1e12;
        }
        cr_expect_gt(cut, 0, "%s: no draw reached the cut", heavy[k]);
    }
}

Test(scenario_dist, same_seed_same_draws)
{
    const char *texts[] = {"uniform:0:1000", "exp:1000", "lognormal:1000:0.5"};
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        struct pb_dist d;
        cr_assert_eq(pb_dist_parse(texts[k], &d, NULL, 0), 0);
        struct pb_rng a, b, c;
        pb_rng_seed(&a, 42, 7);
        pb_rng_seed(&b, 42, 7);
        pb_rng_seed(&c, 43, 7);
        int same = 0, differ = 0;
        for (int i = 0; i < 1000; i++) {
            double x = pb_dist_draw(&d, &a), y = pb_dist_draw(&d, &b), z = pb_dist_draw(&d, &c);
            same += x == y;
            differ += x != z;
        }
        cr_expect_eq(same, 1000, "%s: same seed, different draws", texts[k]);
        cr_expect_gt(differ, 990, "%s: another seed, same draws", texts[k]);
    }
}

/* Text in any script is kept as given; only what does not read back is refused. */
Test(scenario, utf8_text_is_kept)
{
    struct pb_scenario s;
    char err[256];
    pb_scenario_defaults(&s);
    const char *d = "\xc3\xbc" "berfast \xe2\x80\x94 \xe2\x9c\x93 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80";
    cr_assert_eq(pb_scenario_set(&s, "description", d, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(s.description, d);
    cr_assert_eq(pb_scenario_set(&s, "name", "\xce\xbb-queue", err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(s.name, "\xce\xbb-queue");
    cr_expect(pb_text_ok(""));
    cr_expect_not(pb_text_ok("\xf4\x90\x80\x80"), "beyond U+10FFFF");
    cr_expect_not(pb_text_ok("\xc2\x85"), "a C1 control (NEL)");
    cr_expect_not(pb_text_ok("\xe2\x82"), "cut short");
    char shown[16];
    cr_expect_str_eq(pb_text_escape("a\tb\xff", shown, sizeof shown), "a\\x09b\\xff");
    cr_expect_str_eq(pb_text_escape("abcdefghijklmnopq", shown, 8), "abcdefg");
}
