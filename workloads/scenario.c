/* Scenario options (pb_scenario.h): the defaults, one setter per long
 * option name, the whole-scenario checks, the option table behind --help,
 * the one-line summary and the distributions.
 *
 * Every option is one line of PB_OPTIONS below: its name, its value syntax,
 * its help (with the default) and its setter, so the documentation and the
 * parser cannot drift apart. A setter parses into locals and writes the
 * scenario only when the whole value is good: a failed pb_scenario_set
 * leaves the scenario as it was.
 *
 * Numbers are parsed strictly: the whole value must be consumed; signs,
 * NaN, infinities, hexadecimal floats and overflow are refused. Every
 * message starts with "key 'K': " and quotes the value it refuses, so job
 * files can prefix "FILE:LINE: ". */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_err.h"
#include "pb_lock_use.h"
#include "pb_rng.h"
#include "pb_scenario.h"
#include "pendbench_plugin.h"

#define MAX_THREADS_PER_ROLE 1024u
#define MAX_INFLIGHT 4096u
#define MAX_MIX_WEIGHT 1000000u
#define MAX_SECONDS 1e6             /* keeps every time well inside a u64 of ns */
#define MIN_WINDOW_S 1e-6           /* a shorter window times nothing: 1e-20 s ran empty */
#define MAX_RATE 1e9
#define MAX_DIST_NS 1e12            /* 1000 s: far beyond any service time */
#define MAX_SIGMA 10.0              /* exp(10 sigma) already overflows nothing but sense */

/* ---- names -------------------------------------------------------------------- */

static const char *const filter_names[] = {
    [PB_FILTER_PEND] = "pend",
    [PB_FILTER_PASS] = "pass",
    [PB_FILTER_CALLBACK] = "callback",
    [PB_FILTER_SYNCHRONIZE] = "synchronize",
    [PB_FILTER_MIX] = "mix",
    [PB_FILTER_CBDQ] = "cbdq",
    [PB_FILTER_ASYNC] = "async",
};
#define NFILTER_KINDS (sizeof filter_names / sizeof filter_names[0])

static const char *const route_names[] = {
    [PB_ROUTE_LOCAL] = "local",
    [PB_ROUTE_SAME_NODE] = "same-node",
    [PB_ROUTE_REMOTE_NODE] = "remote-node",
    [PB_ROUTE_ROUND_ROBIN] = "round-robin",
};
#define NROUTES (sizeof route_names / sizeof route_names[0])

static const char *const cancel_when_names[] = {
    [PB_CANCEL_IMMEDIATE] = "immediate",
    [PB_CANCEL_DELAY] = "delay",
    [PB_CANCEL_RACE] = "race",
};
#define NCANCEL_WHEN (sizeof cancel_when_names / sizeof cancel_when_names[0])

static const char *const idle_names[] = {
    [PB_IDLE_SPIN] = "spin",
    [PB_IDLE_SPIN_PARK] = "spin-park",
    [PB_IDLE_PARK] = "park",
};
#define NIDLE (sizeof idle_names / sizeof idle_names[0])

static const char *const placement_names[] = {"compact", "scatter", "same-node", "cross-node"};

const char *pb_filter_kind_name(pb_filter_kind k)
{
    return (unsigned)k < NFILTER_KINDS ? filter_names[k] : "?";
}

const char *pb_route_name(pb_route r)
{
    return (unsigned)r < NROUTES ? route_names[r] : "?";
}

const char *pb_cancel_when_name(pb_cancel_when w)
{
    return (unsigned)w < NCANCEL_WHEN ? cancel_when_names[w] : "?";
}

const char *pb_idle_name(pb_idle_policy p)
{
    return (unsigned)p < NIDLE ? idle_names[p] : "?";
}

static int lookup(const char *const *names, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], text) == 0)
            return (int)i;
    return -1;
}

/* "a, b, c" into buf. */
static void join_names(const char *const *names, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int k = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

/* ---- strict numbers ------------------------------------------------------------ */

/* pb_scenario.h. strtod alone takes a sign, leading blanks, "nan",
 * "inf" and hexadecimal ("0x0.1"): the options that parse their numbers
 * here refuse them all alike. ERANGE with a finite result is an underflow
 * (1e-320): a number all the same, as near 0 as a double gets; an
 * overflow is inf. */
int pb_number_prefix(const char *text, double *out, const char **end)
{
    if (!(isdigit((unsigned char)text[0]) || (text[0] == '.' && isdigit((unsigned char)text[1]))))
        return -1;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        return -1;
    errno = 0;
    char *e;
    double v = strtod(text, &e);
    if (e == text || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    *end = e;
    return 0;
}

static int parse_number(const char *text, double *out)
{
    const char *end;
    if (pb_number_prefix(text, out, &end) != 0 || *end != '\0')
        return -1;
    return 0;
}

/* A whole decimal number, optionally with k, M or G (powers of 1000). */
static int parse_count(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *e;
    unsigned long long v = strtoull(text, &e, 10);
    if (errno == ERANGE)
        return -1;
    uint64_t mult = 1;
    if (*e == 'k')
        mult = 1000, e++;
    else if (*e == 'M')
        mult = 1000000, e++;
    else if (*e == 'G')
        mult = 1000000000, e++;
    if (*e != '\0')
        return -1;
    if (v > UINT64_MAX / mult)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

/* Seconds: "2", "2s", "500ms", "250us", "1.5min". */
static int parse_seconds(const char *text, double *out)
{
    const char *end;
    double v;
    if (pb_number_prefix(text, &v, &end) != 0)
        return -1;
    if (*end == '\0' || strcmp(end, "s") == 0)
        ;
    else if (strcmp(end, "ms") == 0)
        v /= 1e3;
    else if (strcmp(end, "us") == 0)
        v /= 1e6;
    else if (strcmp(end, "min") == 0)
        v *= 60;
    else
        return -1;
    if (v > MAX_SECONDS)
        return -1;
    *out = v;
    return 0;
}

/* Nanoseconds: "500", "500ns", "2us", "1.5ms", "1s". */
static int parse_ns(const char *text, double *out)
{
    const char *end;
    double v;
    if (pb_number_prefix(text, &v, &end) != 0)
        return -1;
    if (*end == '\0' || strcmp(end, "ns") == 0)
        ;
    else if (strcmp(end, "us") == 0)
        v *= 1e3;
    else if (strcmp(end, "ms") == 0)
        v *= 1e6;
    else if (strcmp(end, "s") == 0)
        v *= 1e9;
    else
        return -1;
    if (v > MAX_DIST_NS)
        return -1;
    *out = v;
    return 0;
}

/* The shortest "%g" that reads back to the same double. */
static void format_double(double v, char *buf, size_t size)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* ---- distributions ----------------------------------------------------------- */

#define DIST_SYNTAX "fixed:NS, uniform:MIN:MAX, exp:MEAN, lognormal:MEDIAN:SIGMA or a bare NS " \
                    "(times in ns, or with ns/us/ms/s)"

/* Splits text at ':' into at most 4 fields (in place, in a copy). */
static size_t split_colons(char *copy, char **fields, size_t max)
{
    size_t n = 0;
    char *p = copy;
    for (;;) {
        if (n == max)
            return max + 1;
        fields[n++] = p;
        char *c = strchr(p, ':');
        if (!c)
            return n;
        *c = '\0';
        p = c + 1;
    }
}

int pb_dist_parse(const char *text, struct pb_dist *out, char *err, size_t errlen)
{
    char copy[128];
    if (!text || !*text)
        return pb_fail(err, errlen, "an empty distribution; expected " DIST_SYNTAX);
    if (strlen(text) >= sizeof copy)
        return pb_fail(err, errlen, "'%.40s...' is too long for a distribution", text);
    snprintf(copy, sizeof copy, "%s", text);
    char *f[4];
    size_t n = split_colons(copy, f, 3);
    struct pb_dist d = {PB_DIST_FIXED, 0, 0};
    if (n == 1) {
        if (parse_ns(f[0], &d.a) != 0)
            return pb_fail(err, errlen, "'%s' is not a distribution; expected " DIST_SYNTAX, text);
    } else if (strcmp(f[0], "fixed") == 0) {
        if (n != 2 || parse_ns(f[1], &d.a) != 0)
            return pb_fail(err, errlen, "'%s' is not a fixed time; expected fixed:NS with NS >= 0",
                        text);
    } else if (strcmp(f[0], "uniform") == 0) {
        d.kind = PB_DIST_UNIFORM;
        if (n != 3 || parse_ns(f[1], &d.a) != 0 || parse_ns(f[2], &d.b) != 0)
            return pb_fail(err, errlen,
                        "'%s' is not a uniform distribution; expected uniform:MIN:MAX with "
                        "0 <= MIN <= MAX",
                        text);
        if (d.a > d.b)
            return pb_fail(err, errlen, "'%s': uniform needs MIN <= MAX", text);
    } else if (strcmp(f[0], "exp") == 0) {
        d.kind = PB_DIST_EXP;
        if (n != 2 || parse_ns(f[1], &d.a) != 0)
            return pb_fail(err, errlen,
                        "'%s' is not an exponential distribution; expected exp:MEAN with "
                        "MEAN >= 0",
                        text);
    } else if (strcmp(f[0], "lognormal") == 0) {
        d.kind = PB_DIST_LOGNORMAL;
        if (n != 3 || parse_ns(f[1], &d.a) != 0 || parse_number(f[2], &d.b) != 0 ||
            d.b > MAX_SIGMA)
            return pb_fail(err, errlen,
                        "'%s' is not a lognormal distribution; expected "
                        "lognormal:MEDIAN:SIGMA with MEDIAN >= 0 and SIGMA from 0 to 10",
                        text);
    } else {
        return pb_fail(err, errlen, "'%s': unknown distribution '%s'; expected " DIST_SYNTAX, text,
                    f[0]);
    }
    /* A lognormal's mean is MEDIAN x e^(SIGMA^2 / 2): lognormal:1000:10
     * means 5e24 ns per draw, and a run that draws it never ends. */
    if (pb_dist_mean(&d) > MAX_DIST_NS) {
        double most = d.a > 0 ? sqrt(2.0 * log(MAX_DIST_NS / d.a)) : MAX_SIGMA;
        return pb_fail(err, errlen,
                    "'%s' has a mean of %.3g ns (MEDIAN x e^(SIGMA^2/2)), beyond the 1000 s a "
                    "time may be; with this median SIGMA may be at most %.2f",
                    text, pb_dist_mean(&d), floor(most * 100) / 100);
    }
    *out = d;
    return 0;
}

void pb_dist_format(const struct pb_dist *d, char *buf, size_t size)
{
    char a[40], b[40];
    format_double(d->a, a, sizeof a);
    format_double(d->b, b, sizeof b);
    switch (d->kind) {
    case PB_DIST_UNIFORM:
        snprintf(buf, size, "uniform:%s:%s", a, b);
        break;
    case PB_DIST_EXP:
        snprintf(buf, size, "exp:%s", a);
        break;
    case PB_DIST_LOGNORMAL:
        snprintf(buf, size, "lognormal:%s:%s", a, b);
        break;
    case PB_DIST_FIXED:
    default:
        snprintf(buf, size, "fixed:%s", a);
        break;
    }
}

double pb_dist_draw(const struct pb_dist *d, struct pb_rng *r)
{
    switch (d->kind) {
    case PB_DIST_UNIFORM:
        return d->a + (d->b - d->a) * pb_rng_unit(r);
    case PB_DIST_EXP:
        /* 1 - u is in (0, 1]: the log is finite. At most 1000 s, as every
         * time: callers convert a draw to an integer count of ns. */
        return fmin(-d->a * log(1.0 - pb_rng_unit(r)), MAX_DIST_NS);
    case PB_DIST_LOGNORMAL: {
        /* Box-Muller, one of the pair: both uniforms are drawn every time so
         * a draw always consumes the same amount of the stream. The tail is
         * cut at 1000 s, as above (e^(10 z) passes 2^64 ns). */
        double u1 = 1.0 - pb_rng_unit(r);
        double u2 = pb_rng_unit(r);
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        return fmin(d->a * exp(d->b * z), MAX_DIST_NS);
    }
    case PB_DIST_FIXED:
    default:
        return d->a;
    }
}

double pb_dist_mean(const struct pb_dist *d)
{
    switch (d->kind) {
    case PB_DIST_UNIFORM:
        return (d->a + d->b) / 2;
    case PB_DIST_EXP:
        return d->a;
    case PB_DIST_LOGNORMAL:
        return d->a * exp(d->b * d->b / 2);
    case PB_DIST_FIXED:
    default:
        return d->a;
    }
}

static int dist_check(const struct pb_dist *d)
{
    if (!isfinite(d->a) || !isfinite(d->b) || d->a < 0 || d->a > MAX_DIST_NS)
        return -1;
    switch (d->kind) {
    case PB_DIST_FIXED:
    case PB_DIST_EXP:
        return 0;
    case PB_DIST_UNIFORM:
        return d->b >= d->a && d->b <= MAX_DIST_NS ? 0 : -1;
    case PB_DIST_LOGNORMAL:
        return d->b >= 0 && d->b <= MAX_SIGMA && pb_dist_mean(d) <= MAX_DIST_NS ? 0 : -1;
    }
    return -1;
}

/* ---- defaults ------------------------------------------------------------------ */

void pb_scenario_defaults(struct pb_scenario *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "custom");
    snprintf(s->pool, sizeof s->pool, "magazine");
    snprintf(s->queue, sizeof s->queue, "percpu-mpsc");
    snprintf(s->handoff, sizeof s->handoff, "xchg");
    s->requesters = 1;
    s->workers = 1;
    s->cancellers = 1;
    s->idle = PB_IDLE_SPIN_PARK;
    s->placement = PB_PLACE_COMPACT;
    s->route = PB_ROUTE_LOCAL;
    s->nfilters = 1;
    s->filters[0] = PB_FILTER_PEND;
    s->mix.read = 70;
    s->mix.write = 30;
    s->pend_fraction = 1.0;
    s->cancel_fraction = 0.1;
    s->cancel_when = PB_CANCEL_DELAY;
    s->cancel_delay = (struct pb_dist){PB_DIST_EXP, 2000, 0};
    s->service = (struct pb_dist){PB_DIST_FIXED, 0, 0};
    s->fs_service = (struct pb_dist){PB_DIST_FIXED, 0, 0};
    s->inflight = 1;
    s->rate = 0;
    s->burst_on_ms = 0;
    s->burst_off_ms = 0;
    s->duration_s = 2.0;
    s->ops = 0;
    s->warmup_s = 0.2;
    s->seed = 1;
    s->pool_capacity = 0;
    s->queue_capacity = 0;
    s->verifier_checks = false;
    s->memory_node = -1;
    s->split_every = PB_SPLIT_EVERY_DEFAULT;
    s->latency_every = PB_LATENCY_EVERY_AUTO;
}

/* ---- setters ------------------------------------------------------------------- */

typedef int (*setter_fn)(struct pb_scenario *s, const char *key, const char *v, char *err,
                         size_t errlen);

/* A value with a '/' or ending in ".so" is a plugin (pendbench_plugin.h):
 * loaded and checked here, so a bad one is a clear error of this key. */
#define STRATEGY_SETTER(fn, field, kind, registry, find, plugin_kind)                            \
    static int fn(struct pb_scenario *s, const char *key, const char *v, char *err,              \
                  size_t errlen)                                                                 \
    {                                                                                            \
        if (pb_plugin_is_path(v)) {  /* the scenario names it by its plugin's name */         \
            char why[400];                                                                       \
            if (!pb_plugin_load(v, plugin_kind, why, sizeof why))                                \
                return pb_fail(err, errlen, "key '%s': %s", key, why);                           \
            snprintf(s->field, sizeof s->field, "%s", pb_plugin_name_of(v));                     \
            return 0;                                                                            \
        }                                                                                        \
        if (strlen(v) < sizeof s->field && find(v)) {                                            \
            snprintf(s->field, sizeof s->field, "%s", v);                                        \
            return 0;                                                                            \
        }                                                                                        \
        char known[512];                                                                         \
        size_t used = 0;                                                                         \
        known[0] = '\0';                                                                         \
        for (size_t i = 0; registry[i] && used < sizeof known; i++) {                            \
            int k = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",           \
                             registry[i]->name);                                                 \
            if (k < 0)                                                                           \
                break;                                                                           \
            used += (size_t)k;                                                                   \
        }                                                                                        \
        return pb_fail(err, errlen, "key '%s': unknown " kind " strategy '%s' (known: %s)", key, \
                       v, known);                                                                \
    }

_Static_assert(PB_PLUGIN_NAME_MAX <= PB_NAME_MAX, "a plugin's name fits a scenario's field");

STRATEGY_SETTER(set_pool, pool, "pool", pb_pools, pb_pool_find, PB_PLUGIN_POOL)
STRATEGY_SETTER(set_queue, queue, "queue", pb_queues, pb_queue_find, PB_PLUGIN_QUEUE)
STRATEGY_SETTER(set_handoff, handoff, "handoff", pb_handoffs, pb_handoff_find, PB_PLUGIN_HANDOFF)

/* As the strategies', and "default" (each strategy's own lock) clears it.
 * An unknown name gets a "did you mean" and the list of locks. */
static int set_lock(struct pb_scenario *s, const char *key, const char *v, char *err,
                    size_t errlen)
{
    if (strcmp(v, "default") == 0) {
        s->lock[0] = '\0';
        return 0;
    }
    if (pb_plugin_is_path(v)) {      /* the scenario names it by its plugin's name */
        char why[400];
        if (!pb_plugin_load(v, PB_PLUGIN_LOCK, why, sizeof why))
            return pb_fail(err, errlen, "key '%s': %s", key, why);
        snprintf(s->lock, sizeof s->lock, "%s", pb_plugin_name_of(v));
        return 0;
    }
    if (strlen(v) < sizeof s->lock && pb_lock_find(v)) {
        snprintf(s->lock, sizeof s->lock, "%s", v);
        return 0;
    }
    const char *names[64];
    size_t n = 0;
    char known[512];
    size_t used = 0;
    known[0] = '\0';
    for (size_t i = 0; pb_locks[i]; i++) {
        if (n < sizeof names / sizeof names[0])
            names[n++] = pb_locks[i]->name;
        int k = used < sizeof known
                    ? snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                               pb_locks[i]->name)
                    : 0;
        if (k > 0)
            used += (size_t)k;
    }
    const char *close = pb_closest(v, names, n);
    if (close)
        return pb_fail(err, errlen, "key '%s': unknown lock '%s' (did you mean '%s'? known: "
                    "default, %s)", key, v, close, known);
    return pb_fail(err, errlen, "key '%s': unknown lock '%s' (known: default, %s)", key, v, known);
}

static int set_threads(unsigned *field, unsigned min, const char *key, const char *v, char *err,
                       size_t errlen)
{
    uint64_t n;
    if (parse_count(v, &n) != 0 || n < min || n > MAX_THREADS_PER_ROLE)
        return pb_fail(err, errlen, "key '%s': '%s' is not a thread count from %u to %u", key, v,
                    min, MAX_THREADS_PER_ROLE);
    *field = (unsigned)n;
    return 0;
}

static int set_requesters(struct pb_scenario *s, const char *key, const char *v, char *err,
                          size_t errlen)
{
    return set_threads(&s->requesters, 1, key, v, err, errlen);
}

static int set_workers(struct pb_scenario *s, const char *key, const char *v, char *err,
                       size_t errlen)
{
    return set_threads(&s->workers, 1, key, v, err, errlen);
}

static int set_cancellers(struct pb_scenario *s, const char *key, const char *v, char *err,
                          size_t errlen)
{
    return set_threads(&s->cancellers, 0, key, v, err, errlen);
}

static int set_idle(struct pb_scenario *s, const char *key, const char *v, char *err,
                    size_t errlen)
{
    int i = lookup(idle_names, NIDLE, v);
    if (i < 0)
        return pb_fail(err, errlen, "key '%s': '%s' is not an idle policy (spin, spin-park, park)",
                    key, v);
    s->idle = (pb_idle_policy)i;
    return 0;
}

static int set_placement(struct pb_scenario *s, const char *key, const char *v, char *err,
                         size_t errlen)
{
    pb_placement p;
    if (pb_placement_parse(v, &p) != 0) {
        char known[128];
        join_names(placement_names, sizeof placement_names / sizeof placement_names[0], known,
                   sizeof known);
        return pb_fail(err, errlen, "key '%s': '%s' is not a placement (%s)", key, v, known);
    }
    s->placement = p;
    return 0;
}

static int set_route(struct pb_scenario *s, const char *key, const char *v, char *err,
                     size_t errlen)
{
    int i = lookup(route_names, NROUTES, v);
    if (i < 0)
        return pb_fail(err, errlen,
                    "key '%s': '%s' is not a route (local, same-node, remote-node, round-robin)",
                    key, v);
    s->route = (pb_route)i;
    return 0;
}

/* Copies the comma-separated item at *p (trimmed) into item; advances *p. */
static int next_item(const char **p, char *item, size_t size)
{
    const char *start = *p;
    const char *comma = strchr(start, ',');
    const char *end = comma ? comma : start + strlen(start);
    while (start < end && isspace((unsigned char)*start))
        start++;
    const char *stop = end;
    while (stop > start && isspace((unsigned char)stop[-1]))
        stop--;
    size_t n = (size_t)(stop - start);
    if (n >= size)
        return -1;
    memcpy(item, start, n);
    item[n] = '\0';
    *p = comma ? comma + 1 : end;
    return comma ? 1 : 0;
}

static int set_filters(struct pb_scenario *s, const char *key, const char *v, char *err,
                       size_t errlen)
{
    pb_filter_kind kinds[PB_MAX_FILTERS];
    unsigned n = 0;
    const char *p = v;
    char item[32];
    char known[128];
    join_names(filter_names, NFILTER_KINDS, known, sizeof known);
    for (;;) {
        int more = next_item(&p, item, sizeof item);
        if (more < 0 || !*item)
            return pb_fail(err, errlen,
                        "key '%s': '%s' is not a filter list (1 to %d of %s, comma-separated, "
                        "top first)",
                        key, v, PB_MAX_FILTERS, known);
        int k = lookup(filter_names, NFILTER_KINDS, item);
        if (k < 0)
            return pb_fail(err, errlen, "key '%s': unknown filter '%s' in '%s' (filters: %s)", key,
                        item, v, known);
        if (n == PB_MAX_FILTERS)
            return pb_fail(err, errlen, "key '%s': '%s' has more than %d filters", key, v,
                        PB_MAX_FILTERS);
        kinds[n++] = (pb_filter_kind)k;
        if (!more)
            break;
    }
    s->nfilters = n;
    memcpy(s->filters, kinds, n * sizeof kinds[0]);
    return 0;
}

static const char *const op_names[] = {"read",  "write",  "create", "cleanup", "close",
                                       "query", "fastio", "paging", "fsfilter"};
#define NOPS (sizeof op_names / sizeof op_names[0])

static unsigned *mix_field(struct pb_op_mix *m, size_t i)
{
    unsigned *const fields[NOPS] = {&m->read,  &m->write,  &m->create, &m->cleanup, &m->close,
                                    &m->query, &m->fastio, &m->paging, &m->fsfilter};
    return fields[i];
}

static uint64_t mix_total(const struct pb_op_mix *m)
{
    return (uint64_t)m->read + m->write + m->create + m->cleanup + m->close + m->query +
           m->fastio + m->paging + m->fsfilter;
}

static int set_mix(struct pb_scenario *s, const char *key, const char *v, char *err,
                   size_t errlen)
{
    struct pb_op_mix m = {0};
    bool seen[NOPS] = {false};
    const char *p = v;
    char item[64];
    char known[128];
    join_names(op_names, NOPS, known, sizeof known);
    for (;;) {
        int more = next_item(&p, item, sizeof item);
        char *eq = more < 0 ? NULL : strchr(item, '=');
        if (!eq)
            return pb_fail(err, errlen,
                        "key '%s': '%s' is not an operation mix (OP=WEIGHT,... with OP one of "
                        "%s)",
                        key, v, known);
        *eq = '\0';
        char *name = item, *weight = eq + 1;
        for (char *t = eq; t > name && isspace((unsigned char)t[-1]);)
            *--t = '\0';
        while (isspace((unsigned char)*weight))
            weight++;
        int k = lookup(op_names, NOPS, name);
        if (k < 0)
            return pb_fail(err, errlen, "key '%s': unknown operation '%s' in '%s' (operations: %s)",
                        key, name, v, known);
        if (seen[k])
            return pb_fail(err, errlen, "key '%s': operation '%s' given twice in '%s'", key, name, v);
        seen[k] = true;
        uint64_t w;
        if (parse_count(weight, &w) != 0 || w > MAX_MIX_WEIGHT)
            return pb_fail(err, errlen,
                        "key '%s': weight '%s' of '%s' in '%s' is not a whole number from 0 to "
                        "%u",
                        key, weight, name, v, MAX_MIX_WEIGHT);
        *mix_field(&m, (size_t)k) = (unsigned)w;
        if (!more)
            break;
    }
    if (mix_total(&m) == 0)
        return pb_fail(err, errlen, "key '%s': '%s' gives every operation weight 0", key, v);
    s->mix = m;
    return 0;
}

static int set_fraction(double *field, const char *key, const char *v, char *err, size_t errlen)
{
    double x;
    if (parse_number(v, &x) != 0 || x > 1)
        return pb_fail(err, errlen, "key '%s': '%s' is not a fraction from 0 to 1", key, v);
    *field = x;
    return 0;
}

static int set_pend_fraction(struct pb_scenario *s, const char *key, const char *v, char *err,
                             size_t errlen)
{
    return set_fraction(&s->pend_fraction, key, v, err, errlen);
}

static int set_cancel_fraction(struct pb_scenario *s, const char *key, const char *v, char *err,
                               size_t errlen)
{
    return set_fraction(&s->cancel_fraction, key, v, err, errlen);
}

static int set_cancel_when(struct pb_scenario *s, const char *key, const char *v, char *err,
                           size_t errlen)
{
    int i = lookup(cancel_when_names, NCANCEL_WHEN, v);
    if (i < 0)
        return pb_fail(err, errlen, "key '%s': '%s' is not a cancel time (immediate, delay, race)",
                    key, v);
    s->cancel_when = (pb_cancel_when)i;
    return 0;
}

static int set_dist(struct pb_dist *field, const char *key, const char *v, char *err,
                    size_t errlen)
{
    char why[256];
    struct pb_dist d;
    if (pb_dist_parse(v, &d, why, sizeof why) != 0)
        return pb_fail(err, errlen, "key '%s': %s", key, why);
    *field = d;
    return 0;
}

static int set_cancel_delay(struct pb_scenario *s, const char *key, const char *v, char *err,
                            size_t errlen)
{
    return set_dist(&s->cancel_delay, key, v, err, errlen);
}

static int set_service(struct pb_scenario *s, const char *key, const char *v, char *err,
                       size_t errlen)
{
    return set_dist(&s->service, key, v, err, errlen);
}

static int set_fs_service(struct pb_scenario *s, const char *key, const char *v, char *err,
                          size_t errlen)
{
    return set_dist(&s->fs_service, key, v, err, errlen);
}

/* A count from 1 to max (k/M/G suffixes as parse_count takes them). */
static int set_count_1_to(unsigned *dst, unsigned max, const char *key, const char *v, char *err,
                          size_t errlen)
{
    uint64_t n;
    if (parse_count(v, &n) != 0 || n < 1 || n > max)
        return pb_fail(err, errlen, "key '%s': '%s' is not a whole number from 1 to %u", key, v,
                    max);
    *dst = (unsigned)n;
    return 0;
}

static int set_inflight(struct pb_scenario *s, const char *key, const char *v, char *err,
                        size_t errlen)
{
    return set_count_1_to(&s->inflight, MAX_INFLIGHT, key, v, err, errlen);
}

static int set_rate(struct pb_scenario *s, const char *key, const char *v, char *err,
                    size_t errlen)
{
    const char *end;
    double r;
    if (pb_number_prefix(v, &r, &end) == 0) {
        if (strcmp(end, "k") == 0)
            r *= 1e3, end++;
        else if (strcmp(end, "M") == 0)
            r *= 1e6, end++;
        if (*end == '\0' && r <= MAX_RATE) {
            s->rate = r;
            return 0;
        }
    }
    return pb_fail(err, errlen,
                "key '%s': '%s' is not a rate from 0 to 1e9 operations per second (k and M "
                "suffixes allowed; 0 = closed loop)",
                key, v);
}

static int set_burst(struct pb_scenario *s, const char *key, const char *v, char *err,
                     size_t errlen)
{
    if (strcmp(v, "0") == 0 || strcmp(v, "off") == 0) {
        s->burst_on_ms = 0;
        s->burst_off_ms = 0;
        return 0;
    }
    const char *colon = strchr(v, ':');
    char on_text[48];
    double on, off;
    if (colon && (size_t)(colon - v) < sizeof on_text) {
        memcpy(on_text, v, (size_t)(colon - v));
        on_text[colon - v] = '\0';
        if (parse_number(on_text, &on) == 0 && parse_number(colon + 1, &off) == 0 && on > 0 &&
            off > 0 && on <= MAX_SECONDS * 1e3 && off <= MAX_SECONDS * 1e3) {
            s->burst_on_ms = on;
            s->burst_off_ms = off;
            return 0;
        }
    }
    return pb_fail(err, errlen,
                "key '%s': '%s' is not a burst pattern (ON_MS:OFF_MS with both above 0, e.g. "
                "20:80; or 0 / off)",
                key, v);
}

static int set_duration(struct pb_scenario *s, const char *key, const char *v, char *err,
                        size_t errlen)
{
    double t;
    if (parse_seconds(v, &t) != 0 || (t > 0 && t < MIN_WINDOW_S))
        return pb_fail(err, errlen,
                    "key '%s': '%s' is not 0 or a time from 1us to 1e6 s (e.g. 2, 2s, 500ms, "
                    "1min)", key, v);
    s->duration_s = t;
    return 0;
}

static int set_warmup(struct pb_scenario *s, const char *key, const char *v, char *err,
                      size_t errlen)
{
    double t;
    if (parse_seconds(v, &t) != 0)
        return pb_fail(err, errlen,
                    "key '%s': '%s' is not a time from 0 to 1e6 s (e.g. 0.2, 200ms, 1s)", key, v);
    s->warmup_s = t;
    return 0;
}

static int set_ops(struct pb_scenario *s, const char *key, const char *v, char *err,
                   size_t errlen)
{
    uint64_t n;
    if (parse_count(v, &n) != 0)
        return pb_fail(err, errlen,
                    "key '%s': '%s' is not an operation count (a whole number, k/M/G allowed; 0 = "
                    "use duration)",
                    key, v);
    s->ops = n;
    return 0;
}

static int set_seed(struct pb_scenario *s, const char *key, const char *v, char *err,
                    size_t errlen)
{
    const char *digits = v;
    int base = 10;
    if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
        digits = v + 2, base = 16;
    if (isxdigit((unsigned char)digits[0])) {
        errno = 0;
        char *end;
        unsigned long long n = strtoull(digits, &end, base);
        if (errno == 0 && *end == '\0') {
            s->seed = n;
            return 0;
        }
    }
    return pb_fail(err, errlen,
                "key '%s': '%s' is not a seed (a whole number from 0 to 2^64-1, decimal or 0x hex)",
                key, v);
}

static int set_capacity(size_t *field, const char *what, const char *key, const char *v,
                        char *err, size_t errlen)
{
    uint64_t n;
    if (parse_count(v, &n) != 0 || n > SIZE_MAX)
        return pb_fail(err, errlen,
                    "key '%s': '%s' is not a capacity (a whole number, k/M/G allowed; 0 = %s)",
                    key, v, what);
    *field = (size_t)n;
    return 0;
}

static int set_pool_capacity(struct pb_scenario *s, const char *key, const char *v, char *err,
                             size_t errlen)
{
    return set_capacity(&s->pool_capacity, "unlimited", key, v, err, errlen);
}

/* Bounded queues allocate their capacity per queue up front (16 bytes a
 * slot in percpu-ring): 1M slots is 16 MiB per CPU, far beyond any
 * occupancy a run reaches; more only overflowed the allocation's size. */
#define PB_QUEUE_CAPACITY_MAX (1u << 20)

static int set_queue_capacity(struct pb_scenario *s, const char *key, const char *v, char *err,
                              size_t errlen)
{
    size_t n = 0;
    if (set_capacity(&n, "the strategy's default", key, v, err, errlen) != 0)
        return -1;
    if (n > PB_QUEUE_CAPACITY_MAX)
        return pb_fail(err, errlen, "key '%s': %s slots per queue is too many (at most 1M)", key,
                       v);
    s->queue_capacity = n;
    return 0;
}

static int set_verifier_checks(struct pb_scenario *s, const char *key, const char *v, char *err,
                               size_t errlen)
{
    if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
        s->verifier_checks = true;
    else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
        s->verifier_checks = false;
    else
        return pb_fail(err, errlen, "key '%s': '%s' is not on or off (on, off, true, false, 1, 0)",
                    key, v);
    return 0;
}

static int set_memory_node(struct pb_scenario *s, const char *key, const char *v, char *err,
                           size_t errlen)
{
    if (!strcmp(v, "local")) {
        s->memory_node = -1;
        return 0;
    }
    /* parse_count, as every count here: strtol took " 0" and "+0". */
    uint64_t n;
    if (parse_count(v, &n) != 0 || n > 4095)
        return pb_fail(err, errlen,
                    "key '%s': '%s' is not a node (local, or a node index 0-4095 of the topology: "
                    "see `pendbench topo`)", key, v);
    s->memory_node = (int)n;
    return 0;
}

static int set_split_every(struct pb_scenario *s, const char *key, const char *v, char *err,
                           size_t errlen)
{
    return set_count_1_to(&s->split_every, PB_SPLIT_EVERY_MAX, key, v, err, errlen);
}

static int set_latency_every(struct pb_scenario *s, const char *key, const char *v, char *err,
                             size_t errlen)
{
    if (strcmp(v, "auto") == 0) {
        s->latency_every = PB_LATENCY_EVERY_AUTO;
        return 0;
    }
    if (set_count_1_to(&s->latency_every, PB_LATENCY_EVERY_MAX, key, v, NULL, 0) == 0)
        return 0;
    return pb_fail(err, errlen, "key '%s': '%s' is neither auto nor a whole number from 1 to %u",
                   key, v, PB_LATENCY_EVERY_MAX);
}

unsigned pb_latency_every_auto(double timed_cost_ns)
{
    if (!(timed_cost_ns > 0) || !isfinite(timed_cost_ns))
        return 1;
    double n = ceil(timed_cost_ns / PB_INSTRUMENTATION_TARGET_NS);
    return n >= PB_LATENCY_EVERY_MAX ? PB_LATENCY_EVERY_MAX : n < 1 ? 1 : (unsigned)n;
}

static int set_name(struct pb_scenario *s, const char *key, const char *v, char *err,
                    size_t errlen)
{
    char shown[200];
    if (!pb_text_ok(v))        /* escaped: raw, it would reach the terminal as it is */
        return pb_fail(err, errlen, "key '%s': '%s' is not a name (printable UTF-8 text)", key,
                       pb_text_escape(v, shown, sizeof shown));
    if (!*v || strlen(v) >= sizeof s->name || isspace((unsigned char)v[0]))
        return pb_fail(err, errlen,
                    "key '%s': '%s' is not a name (1 to %zu printable characters, not starting "
                    "with a space)",
                    key, v, sizeof s->name - 1);
    snprintf(s->name, sizeof s->name, "%s", v);
    return 0;
}

static int set_description(struct pb_scenario *s, const char *key, const char *v, char *err,
                           size_t errlen)
{
    char shown[200];
    if (!pb_text_ok(v))
        return pb_fail(err, errlen, "key '%s': '%.60s' is not a description (printable UTF-8 text)",
                       key, pb_text_escape(v, shown, sizeof shown));
    if (strlen(v) >= sizeof s->description)
        return pb_fail(err, errlen,
                    "key '%s': '%.40s...' is not a description (at most %zu printable "
                    "characters)",
                    key, v, sizeof s->description - 1);
    snprintf(s->description, sizeof s->description, "%s", v);
    return 0;
}

static int set_scenario(struct pb_scenario *s, const char *key, const char *v, char *err,
                        size_t errlen)
{
    struct pb_scenario t;
    char why[256];
    if (pb_scenario_builtin(&t, v, why, sizeof why) != 0)
        return pb_fail(err, errlen, "key '%s': %s", key, why);
    *s = t;
    return 0;
}

/* name, value syntax, help (with the default), setter. */
#define PB_OPTIONS(X)                                                                             \
    X("scenario", "NAME",                                                                        \
      "start from a built-in scenario (steady, cancel-storm, cancel-race, cross-node, burst, "   \
      "filter-stack, cbdq, async-io, fsfilter): resets every option to the defaults plus the "   \
      "built-in's; later options override",                                                     \
      set_scenario)                                                                             \
    X("name", "TEXT", "the scenario's name in results (default custom; a job: its section)",    \
      set_name)                                                                                 \
    X("description", "TEXT", "free text kept with the results (default empty)",                \
      set_description)                                                                          \
    X("pool", "NAME|./x.so", "callback-data pool strategy (default magazine; see `pendbench list`)",    \
      set_pool)                                                                                 \
    X("queue", "NAME|./x.so", "deferred work queue strategy (default percpu-mpsc)", set_queue)         \
    X("handoff", "NAME|./x.so", "cancel/complete handoff strategy (default xchg)", set_handoff)        \
    X("lock", "NAME|./x.so|default",                                                            \
      "the lock every lock-based pool, queue and handoff takes (default: each its own; see "    \
      "`pendbench list`)",                                                                      \
      set_lock)                                                                                 \
    X("requesters", "N", "requester threads, 1 to 1024 (default 1)", set_requesters)            \
    X("workers", "N", "worker threads, 1 to 1024 (default 1)", set_workers)                     \
    X("cancellers", "N",                                                                        \
      "canceller threads, 0 to 1024 (default 1; 0: each requester fires its own due cancels "   \
      "between its issues)",                                                                    \
      set_cancellers)                                                                           \
    X("idle", "spin|spin-park|park",                                                            \
      "what an idle worker does (default spin-park); a worker placed on the CPU of a requester " \
      "or another worker yields it every 64 polls while it spins", set_idle)                   \
    X("placement", "compact|scatter|same-node|cross-node",                                      \
      "where threads go on the topology (default compact)", set_placement)                      \
    X("route", "local|same-node|remote-node|round-robin",                                       \
      "which worker a requester's work items go to (default local: its paired worker)",         \
      set_route)                                                                                \
    X("filters", "KIND,...",                                                                    \
      "the filter stack, top first, 1 to 6 of pend, pass, callback, synchronize, mix, cbdq, "   \
      "async (default pend)",                                                                   \
      set_filters)                                                                              \
    X("mix", "OP=WEIGHT,...",                                                                   \
      "operation mix; OP is read, write, create, cleanup, close, query, fastio, paging or "     \
      "fsfilter; unnamed operations get 0 (default read=70,write=30)",                          \
      set_mix)                                                                                  \
    X("pend-fraction", "0..1", "share of pendable operations the pend filter pends (default 1)", \
      set_pend_fraction)                                                                        \
    X("cancel-fraction", "0..1", "share of issued operations a cancel is aimed at (default 0.1)", \
      set_cancel_fraction)                                                                      \
    X("cancel-when", "immediate|delay|race",                                                    \
      "when the cancel is sent: right after issue, after cancel-delay, or aimed at the "        \
      "completion instant (default delay)",                                                     \
      set_cancel_when)                                                                          \
    X("cancel-delay", "DIST", "delay before a cancel, in ns (default exp:2000)",                \
      set_cancel_delay)                                                                         \
    X("service", "DIST", "the worker's service time per work item, in ns (default fixed:0)",    \
      set_service)                                                                              \
    X("fs-service", "DIST", "the simulated file system's time per operation, in ns (default "   \
      "fixed:0)",                                                                               \
      set_fs_service)                                                                           \
    X("inflight", "N",                                                                          \
      "operations in flight per requester, 1 to 4096; with a rate, the most in flight "         \
      "(default 1)",                                                                            \
      set_inflight)                                                                             \
    X("rate", "OPS/S",                                                                          \
      "open loop: total target rate, Poisson arrivals, latency from the intended issue time; "  \
      "k/M allowed (default 0 = closed loop)",                                                  \
      set_rate)                                                                                 \
    X("burst", "ON_MS:OFF_MS|off",                                                              \
      "open loop only: send at the rate for ON ms, then nothing for OFF ms (default off)",      \
      set_burst)                                                                                \
    X("duration", "TIME", "measured time: 2, 2s, 500ms, 1min (default 2 s; 0 = use ops)",       \
      set_duration)                                                                             \
    X("ops", "N", "measured operations, k/M/G allowed; set, it replaces the duration; the "     \
      "window closes at the first check (every 5 ms) that finds N done, so it holds at least "   \
      "N (default 0 = use duration)", set_ops)                                                  \
    X("warmup", "TIME", "unmeasured time before measuring (default 0.2 s)", set_warmup)         \
    X("seed", "N", "seed of every random decision; same seed, same decisions (default 1)",      \
      set_seed)                                                                                 \
    X("pool-capacity", "N", "most callback data out at once (default 0 = unlimited)",           \
      set_pool_capacity)                                                                        \
    X("queue-capacity", "N",                                                                    \
      "capacity of bounded queues, per queue (percpu-lanes: per producer lane, at most "     \
      "64k), at most 1M (default 0 = the strategy's default)",                                \
      set_queue_capacity)                                                                       \
    X("verifier-checks", "on|off", "the verifier's hot-path checks (default off)",              \
      set_verifier_checks)                                                                      \
    X("memory-node", "local|N",                                                                 \
      "where memory goes: each processor's local node, or node N of the topology for all of "   \
      "it, memory-only (CXL/HBM) nodes included (default local)", set_memory_node)            \
    X("split-every", "N",                                                                       \
      "measure the queue-wait / service split on every Nth work item of each worker, 1 to "     \
      "1000000, of the operations whose latency is measured (default 16)",                      \
      set_split_every)                                                                          \
    X("latency-every", "auto|N",                                                                \
      "measure the latency of about one operation in N per requester, at random gaps, 1 to "    \
      "1000000: the clock is not read for the others (two reads of ~10 ns each on some "        \
      "CPUs); throughput and outcomes count every operation; auto: the smallest N that keeps "  \
      "the instrumentation measured before the run at or below 20 ns per operation "           \
      "(default auto; 1: time every operation)",                                               \
      set_latency_every)

#define OPTION_DOC(name, syntax, help, fn) {name, syntax, help},
#define OPTION_SETTER(name, syntax, help, fn) {name, fn},

const struct pb_option_doc pb_scenario_options[] = {PB_OPTIONS(OPTION_DOC){NULL, NULL, NULL}};

static const struct {
    const char *name;
    setter_fn fn;
} setters[] = {PB_OPTIONS(OPTION_SETTER)};
#define NSETTERS (sizeof setters / sizeof setters[0])

/* Levenshtein distance, capped: for "did you mean" only. */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    unsigned row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            if (up + 1 < best)
                best = up + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *pb_closest(const char *word, const char *const *names, size_t n)
{
    const char *close = NULL;
    unsigned best = 3;            /* more than two edits away is not a typo */
    for (size_t i = 0; word && i < n; i++) {
        unsigned d = edit_distance(word, names[i]);
        if (d < best)
            best = d, close = names[i];
    }
    return close;
}

int pb_scenario_set(struct pb_scenario *s, const char *key, const char *value, char *err,
                    size_t errlen)
{
    if (!key || !*key)
        return pb_fail(err, errlen, "an empty option name");
    for (size_t i = 0; i < NSETTERS; i++) {
        if (strcmp(setters[i].name, key) != 0)
            continue;
        /* Only a description may be emptied. */
        if (!value || (!*value && strcmp(key, "description") != 0))
            return pb_fail(err, errlen, "key '%s': needs a value (%s)", key,
                        pb_scenario_options[i].syntax);
        return setters[i].fn(s, key, value, err, errlen);
    }
    const char *names[NSETTERS];
    for (size_t i = 0; i < NSETTERS; i++)
        names[i] = setters[i].name;
    const char *close = pb_closest(key, names, NSETTERS);
    if (close)
        return pb_fail(err, errlen, "key '%s': unknown option (did you mean '%s'?)", key, close);
    return pb_fail(err, errlen, "key '%s': unknown option (see `pendbench run --help`)", key);
}

/* ---- the whole scenario ------------------------------------------------------------ */

int pb_scenario_validate(const struct pb_scenario *s, char *err, size_t errlen)
{
    if (!memchr(s->name, '\0', sizeof s->name) || !s->name[0])
        return pb_fail(err, errlen, "the scenario has no name");
    if (!pb_pool_find(s->pool))
        return pb_fail(err, errlen, "unknown pool strategy '%.*s'", PB_NAME_MAX, s->pool);
    if (!pb_queue_find(s->queue))
        return pb_fail(err, errlen, "unknown queue strategy '%.*s'", PB_NAME_MAX, s->queue);
    const struct pb_handoff_ops *ho = pb_handoff_find(s->handoff);
    if (!ho)
        return pb_fail(err, errlen, "unknown handoff strategy '%.*s'", PB_NAME_MAX, s->handoff);
    if (!memchr(s->lock, '\0', sizeof s->lock))
        return pb_fail(err, errlen, "the lock's name is not terminated");
    if (s->lock[0]) {
        const struct pb_lock_ops *lock = pb_lock_find(s->lock);
        if (!lock)
            return pb_fail(err, errlen, "unknown lock '%.*s'", PB_NAME_MAX, s->lock);
        /* Each lock-based strategy of the scenario must be able to take it
         * (the model checks the same; saying it here names the job). */
        const struct pb_pool_ops *po = pb_pool_find(s->pool);
        const struct pb_queue_ops *qo = pb_queue_find(s->queue);
        const char *kind[3] = { "pool", "queue", "handoff" };
        const char *sname[3] = { po->name, qo->name, ho->name };
        const char *dflt[3] = { po->lock, qo->lock, ho->lock };
        unsigned needs[3] = { po->lock_needs, qo->lock_needs, ho->lock_needs };
        for (int k = 0; k < 3; k++) {
            char why[200];
            if (dflt[k] && !pb_lock_fits(lock, needs[k]))
                return pb_fail(err, errlen, "lock '%s' does not fit the %s strategy '%s': %s",
                            lock->name, kind[k], sname[k],
                            pb_lock_unfit_why(lock, needs[k], why, sizeof why));
        }
        /* A lock nothing takes would be named in the table and the result
         * while every run measured the same code. */
        if (!dflt[0] && !dflt[1] && !dflt[2])
            return pb_fail(err, errlen, "lock '%s': none of the strategies takes a lock (pool "
                           "'%s', queue '%s', handoff '%s'; `pendbench list` shows which do)",
                           lock->name, sname[0], sname[1], sname[2]);
    }
    if (s->requesters < 1 || s->requesters > MAX_THREADS_PER_ROLE)
        return pb_fail(err, errlen, "requesters must be from 1 to %u (it is %u)",
                    MAX_THREADS_PER_ROLE, s->requesters);
    /* Always at least one worker: even a stack that never pends gets one,
     * so the code that routes work never has to special-case none. */
    if (s->workers < 1 || s->workers > MAX_THREADS_PER_ROLE)
        return pb_fail(err, errlen, "workers must be from 1 to %u (it is %u)", MAX_THREADS_PER_ROLE,
                    s->workers);
    if (s->cancellers > MAX_THREADS_PER_ROLE)
        return pb_fail(err, errlen, "cancellers must be from 0 to %u (it is %u)",
                    MAX_THREADS_PER_ROLE, s->cancellers);
    if ((unsigned)s->idle >= NIDLE)
        return pb_fail(err, errlen, "unknown idle policy %d", (int)s->idle);
    if ((unsigned)s->placement >= sizeof placement_names / sizeof placement_names[0])
        return pb_fail(err, errlen, "unknown placement %d", (int)s->placement);
    if ((unsigned)s->route >= NROUTES)
        return pb_fail(err, errlen, "unknown route %d", (int)s->route);
    if (s->nfilters < 1 || s->nfilters > PB_MAX_FILTERS)
        return pb_fail(err, errlen, "the filter stack needs 1 to %d filters (it has %u)",
                    PB_MAX_FILTERS, s->nfilters);
    for (unsigned i = 0; i < s->nfilters; i++) {
        if ((unsigned)s->filters[i] >= NFILTER_KINDS)
            return pb_fail(err, errlen, "filter %u: unknown kind %d", i, (int)s->filters[i]);
        if (s->filters[i] != PB_FILTER_ASYNC)
            continue;
        /* Its state for an operation (the original data, the references
         * on its own I/O) is one slot of the operation's: a second async
         * filter below would take the same slot for the first one's I/O. */
        for (unsigned j = i + 1; j < s->nfilters; j++)
            if (s->filters[j] == PB_FILTER_ASYNC)
                return pb_fail(err, errlen, "at most one 'async' filter in a stack (filters %u "
                               "and %u are)", i + 1, j + 1);
        /* Without a pend filter below, the async filter's I/O completes
         * synchronously and there is nothing left to cancel. */
        bool pend_below = false;
        for (unsigned j = i + 1; j < s->nfilters; j++)
            pend_below |= s->filters[j] == PB_FILTER_PEND;
        if (!pend_below)
            return pb_fail(err, errlen, "filter 'async' needs a 'pend' filter below it");
    }
    uint64_t total = mix_total(&s->mix);
    if (total == 0)
        return pb_fail(err, errlen, "the operation mix gives every operation weight 0");
    if (!(s->pend_fraction >= 0 && s->pend_fraction <= 1))
        return pb_fail(err, errlen, "pend-fraction must be from 0 to 1 (it is %g)", s->pend_fraction);
    if (!(s->cancel_fraction >= 0 && s->cancel_fraction <= 1))
        return pb_fail(err, errlen, "cancel-fraction must be from 0 to 1 (it is %g)",
                    s->cancel_fraction);
    /* cancellers = 0 with cancels: each requester fires its own (the run
     * engine does it while it waits for its operations). */
    if ((unsigned)s->cancel_when >= NCANCEL_WHEN)
        return pb_fail(err, errlen, "unknown cancel-when %d", (int)s->cancel_when);
    if (dist_check(&s->cancel_delay) != 0)
        return pb_fail(err, errlen, "cancel-delay is not a valid distribution");
    if (dist_check(&s->service) != 0)
        return pb_fail(err, errlen, "service is not a valid distribution");
    if (dist_check(&s->fs_service) != 0)
        return pb_fail(err, errlen, "fs-service is not a valid distribution");
    if (s->inflight < 1 || s->inflight > MAX_INFLIGHT)
        return pb_fail(err, errlen, "inflight must be from 1 to %u (it is %u)", MAX_INFLIGHT,
                    s->inflight);
    if (!(s->rate >= 0 && s->rate <= MAX_RATE))
        return pb_fail(err, errlen, "rate must be from 0 to 1e9 operations per second (it is %g)",
                    s->rate);
    if (!(s->burst_on_ms >= 0 && s->burst_off_ms >= 0 && isfinite(s->burst_on_ms) &&
          isfinite(s->burst_off_ms)) ||
        ((s->burst_on_ms > 0) != (s->burst_off_ms > 0)))
        return pb_fail(err, errlen, "burst needs both ON and OFF above 0, or neither");
    if (s->burst_on_ms > 0 && s->rate == 0)
        return pb_fail(err, errlen, "burst needs an open loop: set rate above 0 (or burst=off)");
    if (!(s->duration_s == 0 || (s->duration_s >= MIN_WINDOW_S && s->duration_s <= MAX_SECONDS)))
        return pb_fail(err, errlen, "duration must be 0 or from 1us to 1e6 s (it is %g)",
                       s->duration_s);
    if (!(s->warmup_s >= 0 && s->warmup_s <= MAX_SECONDS))
        return pb_fail(err, errlen, "warmup must be from 0 to 1e6 s (it is %g)", s->warmup_s);
    if (s->duration_s == 0 && s->ops == 0)
        return pb_fail(err, errlen, "duration and ops are both 0: set one of them");
    return 0;
}

/* ---- summary ----------------------------------------------------------------------- */

static void format_filters(const struct pb_scenario *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < s->nfilters && i < PB_MAX_FILTERS && used < size; i++) {
        int k = snprintf(buf + used, size - used, "%s%s", i ? "," : "",
                         pb_filter_kind_name(s->filters[i]));
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static void format_mix(const struct pb_op_mix *m_in, char *buf, size_t size)
{
    struct pb_op_mix m = *m_in;
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NOPS && used < size; i++) {
        unsigned w = *mix_field(&m, i);
        if (!w)
            continue;
        int k = snprintf(buf + used, size - used, "%s%s=%u", used ? "," : "", op_names[i], w);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static bool dist_equal(const struct pb_dist *a, const struct pb_dist *b)
{
    return a->kind == b->kind && a->a == b->a && a->b == b->b;
}

bool pb_scenario_equal(const struct pb_scenario *a, const struct pb_scenario *b)
{
    if (strcmp(a->name, b->name) != 0 || strcmp(a->pool, b->pool) != 0 ||
        strcmp(a->queue, b->queue) != 0 || strcmp(a->handoff, b->handoff) != 0 ||
        strcmp(a->lock, b->lock) != 0)
        return false;
    if (a->requesters != b->requesters || a->workers != b->workers ||
        a->cancellers != b->cancellers || a->idle != b->idle || a->placement != b->placement ||
        a->route != b->route || a->nfilters != b->nfilters)
        return false;
    for (unsigned i = 0; i < a->nfilters && i < PB_MAX_FILTERS; i++)
        if (a->filters[i] != b->filters[i])
            return false;
    const struct pb_op_mix *x = &a->mix, *y = &b->mix;
    if (x->read != y->read || x->write != y->write || x->create != y->create ||
        x->cleanup != y->cleanup || x->close != y->close || x->query != y->query ||
        x->fastio != y->fastio || x->paging != y->paging || x->fsfilter != y->fsfilter)
        return false;
    return a->pend_fraction == b->pend_fraction && a->cancel_fraction == b->cancel_fraction &&
           a->cancel_when == b->cancel_when && dist_equal(&a->cancel_delay, &b->cancel_delay) &&
           dist_equal(&a->service, &b->service) && dist_equal(&a->fs_service, &b->fs_service) &&
           a->inflight == b->inflight && a->rate == b->rate &&
           a->burst_on_ms == b->burst_on_ms && a->burst_off_ms == b->burst_off_ms &&
           a->duration_s == b->duration_s && a->ops == b->ops && a->warmup_s == b->warmup_s &&
           a->seed == b->seed && a->pool_capacity == b->pool_capacity &&
           a->queue_capacity == b->queue_capacity && a->verifier_checks == b->verifier_checks &&
           a->memory_node == b->memory_node && a->split_every == b->split_every &&
           a->latency_every == b->latency_every;
}

void pb_scenario_summary(const struct pb_scenario *s, char *buf, size_t size)
{
    if (!size)
        return;
    char filters[96], mix[160], cancel[96], service[48], load[128], length[64], memnode[48] = "";
    if (s->memory_node >= 0)
        snprintf(memnode, sizeof memnode, ", memory on node %d", s->memory_node);
    format_filters(s, filters, sizeof filters);
    format_mix(&s->mix, mix, sizeof mix);
    pb_dist_format(&s->service, service, sizeof service);
    if (s->cancel_fraction > 0) {
        char delay[48] = "";
        if (s->cancel_when == PB_CANCEL_DELAY)
            pb_dist_format(&s->cancel_delay, delay, sizeof delay);
        snprintf(cancel, sizeof cancel, "cancel %g %s%s%s", s->cancel_fraction,
                 pb_cancel_when_name(s->cancel_when), *delay ? " " : "", delay);
    } else {
        snprintf(cancel, sizeof cancel, "no cancels");
    }
    if (s->rate > 0 && s->burst_on_ms > 0)
        snprintf(load, sizeof load, "open loop %.15g ops/s in bursts %g:%g ms, at most %u in flight",
                 s->rate, s->burst_on_ms, s->burst_off_ms, s->inflight);
    else if (s->rate > 0)
        snprintf(load, sizeof load, "open loop %.15g ops/s, at most %u in flight", s->rate,
                 s->inflight);
    else
        snprintf(load, sizeof load, "closed loop, %u in flight per requester", s->inflight);
    if (s->ops)       /* a count replaces the duration (the run engine's rule) */
        snprintf(length, sizeof length, "%llu ops", (unsigned long long)s->ops);
    else
        snprintf(length, sizeof length, "%g s", s->duration_s);
    snprintf(buf, size,
             "%.*s: pool %.*s, queue %.*s, handoff %.*s%s%.*s; %u requester%s, %u worker%s, "
             "%u canceller%s, idle %s, %s, route %s; filters %s; mix %s; pend %g, %s; "
             "service %s; %s; %s after %g s warm-up, seed %llu%s%s",
             PB_NAME_MAX, s->name, PB_NAME_MAX, s->pool, PB_NAME_MAX, s->queue, PB_NAME_MAX,
             s->handoff, s->lock[0] ? ", lock " : "", PB_NAME_MAX, s->lock, s->requesters, s->requesters == 1 ? "" : "s", s->workers,
             s->workers == 1 ? "" : "s", s->cancellers, s->cancellers == 1 ? "" : "s",
             pb_idle_name(s->idle), pb_placement_name(s->placement),
             pb_route_name(s->route), filters, mix, s->pend_fraction, cancel, service, load,
             length, s->warmup_s, (unsigned long long)s->seed,
             s->verifier_checks ? ", verifier checks on" : "", memnode);
}
