/* The result document, read back and checked (pb_result.h, SCHEMA.md).
 *
 * What the measurement rests on is required and type-checked, with the
 * path of the offending value in the message ("x.json: runs[0].ops.issued:
 * expected a non-negative integer"); a run's reals are numbers within their
 * range, never null (get_ranged). What can be derived again is not read:
 * percentiles, means' ratios and "ratios" come back from the bins and the
 * floors. Fields a later version may add are ignored; counters and params a
 * file lacks keep zero (a new counter keeps schema_version: SCHEMA.md).
 * Fields added within version 1 (the context's identity and environment,
 * a run's threat figures and full floors, the lock and its figures) are
 * optional, with defaults that claim nothing: unknown environment, steal
 * -1, a stable floor, each strategy's default lock, no lock taken. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pb_err.h"
#include "pb_file.h"
#include "pb_result.h"
#include "pendbench_plugin.h"
#include "result_internal.h"

struct rd {
    const char *name;          /* the file, for messages */
    char *err;
    size_t errlen;
    bool failed;
    /* What the reports sum over a document's runs (see add_count). */
    uint64_t hist_values;      /* every histogram's count */
    uint64_t counts;           /* every run's operation and cancel counts */
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fail_at(struct rd *rd, const char *path, const char *fmt, ...)
{
    if (rd->failed)
        return;                /* the first problem is the one to report */
    rd->failed = true;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (path && *path)
        snprintf(rd->err, rd->errlen, "%s: %s: %s", rd->name, path, what);
    else
        snprintf(rd->err, rd->errlen, "%s: %s", rd->name, what);
}

/* path + "." + key (or key alone at the top). */
static void join(char *out, size_t size, const char *path, const char *key)
{
    int n = path && *path ? snprintf(out, size, "%s.%s", path, key)
                          : snprintf(out, size, "%s", key);
    if (n < 0 || (size_t)n >= size)
        out[size - 1] = '\0';     /* cut: still names where it is */
}

#define PATH_MAX_ 192

/* obj[key]; NULL (and a "missing" failure when required) when absent. */
static json_t *member(struct rd *rd, json_t *obj, const char *path, const char *key,
                      bool required)
{
    json_t *v = json_object_get(obj, key);
    if (!v && required) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "missing");
    }
    return v;
}

static json_t *get_object(struct rd *rd, json_t *obj, const char *path, const char *key,
                          bool required)
{
    json_t *v = member(rd, obj, path, key, required);
    if (v && !json_is_object(v)) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected an object");
        return NULL;
    }
    return v;
}

static json_t *get_array(struct rd *rd, json_t *obj, const char *path, const char *key,
                         bool required)
{
    json_t *v = member(rd, obj, path, key, required);
    if (v && !json_is_array(v)) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected an array");
        return NULL;
    }
    return v;
}

static bool get_u64(struct rd *rd, json_t *obj, const char *path, const char *key, bool required,
                    uint64_t *out)
{
    json_t *v = member(rd, obj, path, key, required);
    if (!v)
        return false;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected a non-negative integer");
        return false;
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool get_i64(struct rd *rd, json_t *obj, const char *path, const char *key, bool required,
                    int64_t *out)
{
    json_t *v = member(rd, obj, path, key, required);
    if (!v)
        return false;
    if (!json_is_integer(v)) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected an integer");
        return false;
    }
    *out = (int64_t)json_integer_value(v);
    return true;
}

static bool get_uint(struct rd *rd, json_t *obj, const char *path, const char *key, bool required,
                     unsigned *out)
{
    uint64_t v = 0;
    if (!get_u64(rd, obj, path, key, required, &v))
        return false;
    if (v > UINT_MAX) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "%" PRIu64 " is too large", v);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/* A number (integer or real); null stands for a value that was not finite. */
static bool get_real(struct rd *rd, json_t *obj, const char *path, const char *key, bool required,
                     double *out)
{
    json_t *v = member(rd, obj, path, key, required);
    if (!v)
        return false;
    if (json_is_null(v)) {
        *out = NAN;
        return true;
    }
    if (!json_is_number(v)) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected a number");
        return false;
    }
    *out = json_number_value(v);
    return true;
}

/* The ranges (result_internal.h). The writer writes null only for a value
 * that was not finite, and none of these can be: null, a negative count or
 * a throughput of 1e308 is a damaged or edited file, and a compare, a table
 * or the history would take it as a figure. */

/* 2^64 ns (585 years): the range of the nanosecond counts the histograms
 * hold; nothing a run measured in ns comes near it. */
#define NS_MAX_ 18446744073709551616.0

const struct pb_range PB_RANGE_THROUGHPUT = {"throughput", 0, 1e12, false, "0 to 1e12 ops/s"};
const struct pb_range PB_RANGE_DURATION = {"duration", 0, 1e7, false, "0 to 1e7 s"};
const struct pb_range PB_RANGE_NANOSECONDS = {"time", 0, NS_MAX_, false, "0 to 2^64 ns"};
const struct pb_range PB_RANGE_FRACTION = {"fraction", 0, 1, false, "0 to 1"};
const struct pb_range PB_RANGE_PERCENTAGE = {"percentage", 0, 100, true,
                                             "0 to 100, or -1: unknown"};

int pb_range_check(const struct pb_range *range, double x, char *why, size_t size)
{
    if (isfinite(x) && ((x >= range->lo && x <= range->hi) || (range->unknown && x == -1)))
        return 0;
    char text[40];
    pb_result_format_double(x, text, sizeof text);
    snprintf(why, size, "%s is not a valid %s (%s)", text, range->what, range->text);
    return -1;
}

/* A real of a run: a JSON number (not null), finite, within *range. */
static bool get_ranged(struct rd *rd, json_t *obj, const char *path, const char *key,
                       bool required, const struct pb_range *range, double *out)
{
    json_t *v = member(rd, obj, path, key, required);
    if (!v)
        return false;
    char p[PATH_MAX_];
    join(p, sizeof p, path, key);
    if (json_is_null(v)) {
        fail_at(rd, p, "null is not a valid %s (%s)", range->what, range->text);
        return false;
    }
    if (!json_is_number(v)) {
        fail_at(rd, p, "expected a number");
        return false;
    }
    double x = json_number_value(v);
    char why[128];
    if (pb_range_check(range, x, why, sizeof why) != 0) {
        fail_at(rd, p, "%s", why);
        return false;
    }
    *out = x;
    return true;
}

static bool get_bool(struct rd *rd, json_t *obj, const char *path, const char *key, bool required,
                     bool *out)
{
    json_t *v = member(rd, obj, path, key, required);
    if (!v)
        return false;
    if (!json_is_boolean(v)) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected true or false");
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* A string into a fixed buffer (cut to fit: these are labels). */
static const char *get_str(struct rd *rd, json_t *obj, const char *path, const char *key,
                           bool required, char *dst, size_t size)
{
    json_t *v = member(rd, obj, path, key, required);
    if (!v)
        return NULL;
    if (!json_is_string(v)) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected a string");
        return NULL;
    }
    if (dst)
        snprintf(dst, size, "%s", json_string_value(v));
    return json_string_value(v);
}

/* A seed: an integer, or a decimal string above 2^63 - 1 (the writer's
 * rule for values jansson cannot hold). */
static bool get_seed(struct rd *rd, json_t *obj, const char *path, const char *key, bool required,
                     uint64_t *out)
{
    json_t *v = member(rd, obj, path, key, required);
    if (!v)
        return false;
    if (json_is_string(v)) {
        const char *t = json_string_value(v);
        char *end;
        errno = 0;
        unsigned long long x = strtoull(t, &end, 10);
        if (*t >= '0' && *t <= '9' && !*end && errno == 0) {
            *out = (uint64_t)x;
            return true;
        }
    } else if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return true;
    }
    char p[PATH_MAX_];
    join(p, sizeof p, path, key);
    fail_at(rd, p, "expected a non-negative integer or a decimal string");
    return false;
}

static bool get_int(struct rd *rd, json_t *obj, const char *path, const char *key, bool required,
                    int *out)
{
    int64_t v = 0;
    if (!get_i64(rd, obj, path, key, required, &v))
        return false;
    if (v < INT_MIN || v > INT_MAX) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "%" PRId64 " is out of range", v);
        return false;
    }
    *out = (int)v;
    return true;
}

/* [a, b, c] of numbers (null: not finite). */
static void get_triple(struct rd *rd, json_t *obj, const char *path, const char *key, double out[3])
{
    json_t *a = get_array(rd, obj, path, key, false);
    if (!a)
        return;
    bool good = json_array_size(a) == 3;
    for (size_t i = 0; good && i < 3; i++) {
        json_t *e = json_array_get(a, i);
        if (json_is_number(e))
            out[i] = json_number_value(e);
        else if (json_is_null(e))
            out[i] = NAN;
        else
            good = false;
    }
    if (!good) {
        char p[PATH_MAX_];
        join(p, sizeof p, path, key);
        fail_at(rd, p, "expected [1 min, 5 min, 15 min] numbers");
    }
}

/* *sum += v, or false (and *sum unchanged) when that passes 2^64 - 1.
 * The reports sum a document's counts in uint64_t: compare, export, the
 * page and the history merge the repetitions' histograms, export and the
 * page add up their operations and cancels. A total that wrapped read as
 * a few values (three runs of 2^63 - 1 merged), and the percentiles came
 * from those. So the reader checks each histogram's bins and each
 * document's totals: what fits in them fits in any sum of some of them.
 * No run comes near (2^64 ns is 585 years): past it, the file is damaged
 * or edited. */
static bool add_count(uint64_t *sum, uint64_t v)
{
    if (v > UINT64_MAX - *sum)
        return false;
    *sum += v;
    return true;
}

/* ---- text ------------------------------------------------------------------ */

/* Every string of the document, and every key, is text as the writer
 * writes it (pb_text_clean: printable UTF-8; jansson has already refused
 * bytes that are not UTF-8). A control character is a damaged or edited
 * file: a scenario "x\u001b[2J" or a host "h\u001b[31m" reached the
 * terminal through compare's table, the run keys, the history and the
 * export as it was, and cleared the screen or retitled the window. One
 * pass over the whole document, before anything is read from it, so no
 * table, page or export has to escape what it prints. */
static void check_text(struct rd *rd, json_t *v, const char *path)
{
    char p[PATH_MAX_], shown[96];
    if (json_is_string(v)) {
        if (!pb_text_ok(json_string_value(v)))
            fail_at(rd, path, "\"%s\" holds a control character (a damaged or edited file)",
                    pb_text_escape(json_string_value(v), shown, sizeof shown));
        return;
    }
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (rd->failed)
                return;
            if (!json_is_string(e) && !json_is_array(e) && !json_is_object(e))
                continue;      /* a number: nothing to print, no path to build */
            snprintf(p, sizeof p, "%s[%zu]", path, i);
            check_text(rd, e, p);
        }
        return;
    }
    const char *key;
    json_t *e;
    json_object_foreach(v, key, e) {
        if (rd->failed)
            return;
        if (!pb_text_ok(key)) {
            fail_at(rd, path, "the key \"%s\" holds a control character (a damaged or edited "
                    "file)", pb_text_escape(key, shown, sizeof shown));
            return;
        }
        join(p, sizeof p, path, key);
        check_text(rd, e, p);
    }
}

/* ---- histograms ------------------------------------------------------------ */

static void read_hist(struct rd *rd, json_t *parent, const char *path, const char *key,
                      struct pb_hist *h)
{
    pb_hist_init(h);
    char p[PATH_MAX_];
    join(p, sizeof p, path, key);
    json_t *o = get_object(rd, parent, path, key, true);
    if (!o)
        return;
    uint64_t count = 0, min = 0, max = 0;
    double mean = 0;
    get_u64(rd, o, p, "count", true, &count);
    get_u64(rd, o, p, "min", true, &min);
    get_u64(rd, o, p, "max", true, &max);
    get_ranged(rd, o, p, "mean", true, &PB_RANGE_NANOSECONDS, &mean);
    json_t *bins = get_array(rd, o, p, "bins", true);
    if (rd->failed)
        return;

    char pb[PATH_MAX_];
    join(pb, sizeof pb, p, "bins");
    uint64_t held = 0;
    size_t i;
    json_t *t;
    json_array_foreach(bins, i, t) {
        json_t *lo = json_array_get(t, 0), *hi = json_array_get(t, 1), *n = json_array_get(t, 2);
        if (!json_is_array(t) || json_array_size(t) != 3 || !json_is_integer(lo) ||
            !json_is_integer(hi) || !json_is_integer(n) || json_integer_value(lo) < 0 ||
            json_integer_value(hi) < json_integer_value(lo) || json_integer_value(n) < 0) {
            fail_at(rd, pb, "expected [lo, hi, count] triples");
            return;
        }
        uint64_t vlo = (uint64_t)json_integer_value(lo);
        unsigned bin = pb_hist_bin(vlo);
        if (pb_hist_bin_lo(bin) != vlo) {
            fail_at(rd, pb,
                    "[%" PRIu64 ", ...] does not start a bin of this pendbench's histograms "
                    "(written with another bin layout?)",
                    vlo);
            return;
        }
        /* A bin holds at most what all of them hold: held not wrapping
         * keeps the bin from wrapping too. */
        if (!add_count(&held, (uint64_t)json_integer_value(n))) {
            fail_at(rd, pb, "the bins hold more than 2^64 - 1 values (a damaged or edited file)");
            return;
        }
        h->bins[bin] += (uint64_t)json_integer_value(n);
    }
    if (held != count) {
        fail_at(rd, pb, "the bins hold %" PRIu64 " values but count is %" PRIu64, held, count);
        return;
    }
    if (!add_count(&rd->hist_values, count)) {
        char pc[PATH_MAX_];
        join(pc, sizeof pc, p, "count");
        fail_at(rd, pc,
                "the document's histograms hold more than 2^64 - 1 values together (a damaged "
                "or edited file: merged, they would wrap)");
        return;
    }
    if (count && min > max) {
        fail_at(rd, p, "min %" PRIu64 " is above max %" PRIu64, min, max);
        return;
    }
    h->count = count;
    if (count) {
        h->min = min;
        h->max = max;
        h->sum = isfinite(mean) ? mean * (double)count : 0.0;
    }
}

/* ---- params -> struct pb_scenario ------------------------------------------ */

int pb_result_param_text(const struct json_t *value, char *buf, size_t size)
{
    if (!buf || size == 0)
        return -1;
    buf[0] = '\0';
    /* json_t's accessors take non-const pointers; nothing here writes. */
    json_t *v = (json_t *)value;
    int n;
    if (json_is_string(v)) {
        n = snprintf(buf, size, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        n = snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        if (json_real_value(v) < 0)
            return -1;
        pb_result_format_double(json_real_value(v), buf, size);
        n = (int)strlen(buf);
    } else if (json_is_boolean(v)) {
        n = snprintf(buf, size, "%s", json_is_true(v) ? "on" : "off");
    } else if (json_is_array(v) || json_is_object(v)) {
        /* "a,b,c" or "k=v,k=v": the list syntax of the options. */
        size_t used = 0;
        bool first = true;
        char item[128];
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e) {
                if (json_is_array(e) || json_is_object(e) ||
                    pb_result_param_text(e, item, sizeof item) != 0)
                    return -1;
                n = snprintf(buf + used, size - used, "%s%s", first ? "" : ",", item);
                if (n < 0 || (size_t)n >= size - used)
                    return -1;
                used += (size_t)n;
                first = false;
            }
        } else {
            const char *k;
            json_t *e;
            json_object_foreach(v, k, e) {
                if (json_is_array(e) || json_is_object(e) ||
                    pb_result_param_text(e, item, sizeof item) != 0)
                    return -1;
                n = snprintf(buf + used, size - used, "%s%s=%s", first ? "" : ",", k, item);
                if (n < 0 || (size_t)n >= size - used)
                    return -1;
                used += (size_t)n;
                first = false;
            }
        }
        return 0;
    } else {
        return -1;             /* null: a value that was not finite */
    }
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

/* Rebuilds the scenario the way a job file would: the defaults, then every
 * option params names, through pb_scenario_set (so the reader and the
 * option parser cannot drift apart). *complete stays true only if every
 * option was accepted: a value this build refuses (a strategy it lacks, a
 * name from a newer pendbench) keeps the default, and params keeps the
 * file's value. Only a params that is not an object fails the read. */
static void read_params(json_t *p, struct pb_scenario *s, bool *complete)
{
    char text[512], why[256];
    pb_scenario_defaults(s);
    /* Written before split-every existed: every work item was split;
     * before latency-every, every operation was timed. */
    if (!json_object_get(p, "split-every"))
        s->split_every = 1;
    if (!json_object_get(p, "latency-every"))
        s->latency_every = 1;
    for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++) {
        /* Not scenario options of a run: "scenario" resets everything,
         * name and description are the run's own fields. */
        if (!strcmp(o->name, "scenario") || !strcmp(o->name, "name") ||
            !strcmp(o->name, "description"))
            continue;
        json_t *v = json_object_get(p, o->name);
        if (!v)
            continue;
        if (pb_result_param_text(v, text, sizeof text) != 0) {
            *complete = false;
            continue;
        }
        /* A strategy given as a plugin's path is loaded by the setter: a
         * file naming "./x.so" made compare or the history run that
         * library's code. The writer writes a plugin's name, never its
         * path; a path is kept in params, and not loaded. */
        bool strategy = !strcmp(o->name, "pool") || !strcmp(o->name, "queue") ||
                        !strcmp(o->name, "handoff") || !strcmp(o->name, "lock");
        if ((strategy && pb_plugin_is_path(text)) ||
            pb_scenario_set(s, o->name, text, why, sizeof why) != 0)
            *complete = false;
    }
}

/* {median_ns, p10_ns, p90_ns, samples}: optional as a whole, complete
 * when present. */
static void read_floor(struct rd *rd, json_t *parent, const char *path, const char *key,
                       struct pb_floor *f)
{
    json_t *o = get_object(rd, parent, path, key, false);
    if (!o)
        return;
    char p[PATH_MAX_];
    join(p, sizeof p, path, key);
    get_ranged(rd, o, p, "median_ns", true, &PB_RANGE_NANOSECONDS, &f->median_ns);
    get_ranged(rd, o, p, "p10_ns", true, &PB_RANGE_NANOSECONDS, &f->p10_ns);
    get_ranged(rd, o, p, "p90_ns", true, &PB_RANGE_NANOSECONDS, &f->p90_ns);
    get_uint(rd, o, p, "samples", true, &f->samples);
}

/* ---- one run --------------------------------------------------------------- */

/* The options every writer of schema_version 1 has put in params (the JSON
 * Schema's params.required). Without them a run is no known configuration:
 * its scenario is rebuilt from defaults and its run key is empty, so a
 * compare or the history would take it for another workload. Options added
 * since (lock, memory-node, split-every, latency-every) may be absent. */
static const char *const required_params[] = {
    "pool", "queue", "handoff", "requesters", "workers", "cancellers", "idle", "placement",
    "route", "filters", "mix", "pend-fraction", "cancel-fraction", "cancel-when",
    "cancel-delay", "service", "fs-service", "inflight", "rate", "burst", "duration", "ops",
    "warmup", "seed", "pool-capacity", "queue-capacity", "verifier-checks",
};

static void read_run(struct rd *rd, json_t *o, unsigned index, struct pb_result_run *run)
{
    struct pb_run_result *r = &run->r;
    char path[PATH_MAX_], p[PATH_MAX_];
    snprintf(path, sizeof path, "runs[%u]", index);
    if (!json_is_object(o)) {
        fail_at(rd, path, "expected an object");
        return;
    }
    struct pb_scenario *s = &r->scenario;

    json_t *params = get_object(rd, o, path, "params", true);
    if (params) {
        join(p, sizeof p, path, "params");
        for (size_t i = 0; i < sizeof required_params / sizeof required_params[0]; i++)
            member(rd, params, p, required_params[i], true);
        json_incref(params);
        run->params = params;
        run->scenario_complete = true;
        read_params(params, s, &run->scenario_complete);
    }
    get_str(rd, o, path, "scenario", true, s->name, sizeof s->name);
    get_str(rd, o, path, "description", false, s->description, sizeof s->description);
    get_uint(rd, o, path, "repetition", true, &r->repetition);
    get_bool(rd, o, path, "partial", true, &r->partial);
    json_t *st = get_object(rd, o, path, "strategies", true);
    if (st) {
        join(p, sizeof p, path, "strategies");
        get_str(rd, st, p, "pool", true, s->pool, sizeof s->pool);
        get_str(rd, st, p, "queue", true, s->queue, sizeof s->queue);
        get_str(rd, st, p, "handoff", true, s->handoff, sizeof s->handoff);
        /* Added with the locks (optional: older files lack them). The lock
         * as the file names it, as the strategies are: params' lock is
         * refused by a build that lacks it, this is not. */
        char lock[PB_NAME_MAX] = "";
        if (get_str(rd, st, p, "lock", false, lock, sizeof lock))
            snprintf(s->lock, sizeof s->lock, "%s", strcmp(lock, "default") ? lock : "");
        get_str(rd, st, p, "locks_taken", false, r->locks, sizeof r->locks);
    }
    get_ranged(rd, o, path, "seconds", true, &PB_RANGE_DURATION, &r->seconds);
    json_t *ops = get_object(rd, o, path, "ops", true);
    if (ops) {
        join(p, sizeof p, path, "ops");
        get_u64(rd, ops, p, "issued", true, &r->issued);
        get_u64(rd, ops, p, "completed", true, &r->completed);
        get_u64(rd, ops, p, "completed_cancelled", true, &r->completed_cancelled);
        get_u64(rd, ops, p, "failed", true, &r->failed);
    }
    get_ranged(rd, o, path, "throughput_ops_s", true, &PB_RANGE_THROUGHPUT, &r->throughput_ops_s);
    /* What threatened the figures: optional (older files lack it). The
     * defaults say "not known to be threatened": the order they ran in
     * (runs[] is in running order), the scenario's thread count, no steal
     * figure (-1). */
    r->order = index;
    r->nthreads = s->requesters + s->workers + s->cancellers;
    r->steal_pct = -1;
    r->others_pct = -1;
    get_ranged(rd, o, path, "warmup_throughput_ops_s", false, &PB_RANGE_THROUGHPUT,
               &r->warmup_throughput_ops_s);
    get_bool(rd, o, path, "stalled", false, &r->stalled);
    get_ranged(rd, o, path, "failed_fraction", false, &PB_RANGE_FRACTION, &r->failed_fraction);
    uint64_t failure = 0;
    if (get_u64(rd, o, path, "failure_status", false, &failure))
        r->failure_status = (uint32_t)failure;
    get_bool(rd, o, path, "mostly_failed", false, &r->mostly_failed);
    get_uint(rd, o, path, "order", false, &r->order);
    get_uint(rd, o, path, "nthreads", false, &r->nthreads);
    get_bool(rd, o, path, "oversubscribed", false, &r->oversubscribed);
    get_ranged(rd, o, path, "steal_pct", false, &PB_RANGE_PERCENTAGE, &r->steal_pct);
    get_ranged(rd, o, path, "others_pct", false, &PB_RANGE_PERCENTAGE, &r->others_pct);
    get_u64(rd, o, path, "involuntary_switches", false, &r->involuntary_switches);
    get_u64(rd, o, path, "migrations", false, &r->migrations);
    json_t *lat = get_object(rd, o, path, "latency_ns", true);
    if (lat) {
        join(p, sizeof p, path, "latency_ns");
        read_hist(rd, lat, p, "total", &r->total);
        read_hist(rd, lat, p, "queue_wait", &r->queue_wait);
        read_hist(rd, lat, p, "service", &r->service);
    }
    if (rd->failed)
        return;

    json_t *pairs = get_array(rd, o, path, "node_pairs", true);
    if (pairs && json_array_size(pairs) > 0) {
        size_t n = json_array_size(pairs);
        r->pairs = calloc(n, sizeof *r->pairs);
        if (!r->pairs) {
            fail_at(rd, path, "out of memory");
            return;
        }
        for (size_t i = 0; i < n && !rd->failed; i++) {
            json_t *np = json_array_get(pairs, i);
            char idx[48];
            snprintf(idx, sizeof idx, "node_pairs[%zu]", i);
            join(p, sizeof p, path, idx);
            if (!json_is_object(np)) {
                fail_at(rd, p, "expected an object");
                break;
            }
            int64_t a = 0, b = 0;
            get_i64(rd, np, p, "requester_node", true, &a);
            get_i64(rd, np, p, "worker_node", true, &b);
            r->pairs[i].requester_node = (int)a;
            r->pairs[i].worker_node = (int)b;
            read_hist(rd, np, p, "latency_ns", &r->pairs[i].total);
            r->npairs = (unsigned)(i + 1);
        }
    }

    json_t *c = get_object(rd, o, path, "cancel", true);
    if (c) {
        join(p, sizeof p, path, "cancel");
        get_u64(rd, c, p, "attempted", true, &r->cancel.attempted);
        get_u64(rd, c, p, "won", true, &r->cancel.won);
        get_u64(rd, c, p, "lost", true, &r->cancel.lost);
        get_u64(rd, c, p, "early", true, &r->cancel.early);
        get_u64(rd, c, p, "late", true, &r->cancel.late);
        get_u64(rd, c, p, "not_cancelable", true, &r->cancel.not_cancelable);
        get_ranged(rd, c, p, "success_rate", true, &PB_RANGE_FRACTION, &r->cancel.success_rate);
    }
    const uint64_t counts[] = {r->issued, r->completed, r->completed_cancelled, r->failed,
                               r->cancel.attempted, r->cancel.won, r->cancel.lost,
                               r->cancel.early, r->cancel.late, r->cancel.not_cancelable};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0] && !rd->failed; i++)
        if (!add_count(&rd->counts, counts[i]))
            fail_at(rd, path,
                    "the document's ops and cancel counts add up past 2^64 - 1 here (a "
                    "damaged or edited file: summed, they would wrap)");

    json_t *inv = get_object(rd, o, path, "invariants", true);
    if (inv) {
        struct flt_invariants *v = &r->invariants;
        join(p, sizeof p, path, "invariants");
        get_bool(rd, inv, p, "ok", true, &v->ok);
        get_u64(rd, inv, p, "issued", true, &v->issued);
        get_u64(rd, inv, p, "completed", true, &v->completed);
        get_u64(rd, inv, p, "completed_cancelled", true, &v->completed_cancelled);
        get_u64(rd, inv, p, "failed", true, &v->failed);
        get_i64(rd, inv, p, "in_flight", true, &v->in_flight);
        get_i64(rd, inv, p, "outstanding_data", true, &v->outstanding_data);
        get_u64(rd, inv, p, "double_complete_refused", true, &v->double_complete_refused);
        get_u64(rd, inv, p, "routine_left_set", true, &v->routine_left_set);
        get_u64(rd, inv, p, "verifier_violations", true, &v->verifier_violations);
        get_str(rd, inv, p, "why", false, v->why, sizeof v->why);
    }

    json_t *fair = get_object(rd, o, path, "fairness", true);
    if (fair) {
        join(p, sizeof p, path, "fairness");
        get_u64(rd, fair, p, "per_requester_min", true, &r->per_requester_min);
        get_u64(rd, fair, p, "per_requester_max", true, &r->per_requester_max);
        get_ranged(rd, fair, p, "jain_index", true, &PB_RANGE_FRACTION, &r->jain_index);
    }

    json_t *fl = get_object(rd, o, path, "floors", true);
    if (fl) {
        join(p, sizeof p, path, "floors");
        get_ranged(rd, fl, p, "c2c_round_trip_ns", true, &PB_RANGE_NANOSECONDS, &r->c2c_round_trip_ns);
        get_ranged(rd, fl, p, "timestamp_overhead_ns", true, &PB_RANGE_NANOSECONDS,
                   &r->timestamp_overhead_ns);
        get_ranged(rd, fl, p, "futex_wake_ns", true, &PB_RANGE_NANOSECONDS, &r->futex_wake_ns);
        get_ranged(rd, fl, p, "instrumentation_ns_per_op", false, &PB_RANGE_NANOSECONDS,
                   &r->instrumentation_ns_per_op);
        /* The N the run used (latency-every auto resolves it); older
         * files had none to resolve: their params' N. */
        if (get_uint(rd, fl, p, "latency_every", false, &r->latency_every) &&
            (r->latency_every < 1 || r->latency_every > PB_LATENCY_EVERY_MAX)) {
            char pl[PATH_MAX_];
            join(pl, sizeof pl, p, "latency_every");
            fail_at(rd, pl, "%u is not from 1 to %u", r->latency_every, PB_LATENCY_EVERY_MAX);
        }
        if (r->latency_every == 0)
            r->latency_every = s->latency_every ? s->latency_every : 1;
        json_t *cpus = get_array(rd, fl, p, "c2c_os_cpus", false);
        if (cpus) {
            json_t *a = json_array_get(cpus, 0), *b = json_array_get(cpus, 1);
            if (json_array_size(cpus) != 2 || !json_is_integer(a) || !json_is_integer(b)) {
                char pc[PATH_MAX_];
                join(pc, sizeof pc, p, "c2c_os_cpus");
                fail_at(rd, pc, "expected [cpu, cpu]");
            } else {
                r->c2c_os_cpu_a = (int)json_integer_value(a);
                r->c2c_os_cpu_b = (int)json_integer_value(b);
            }
        }
        /* Older files have the round trip's median alone: it stands for
         * c2c_start, with no spread and no sample count (0: unknown). */
        r->c2c_start.median_ns = r->c2c_round_trip_ns;
        read_floor(rd, fl, p, "c2c_start", &r->c2c_start);
        read_floor(rd, fl, p, "c2c_end", &r->c2c_end);
        get_bool(rd, fl, p, "floor_unstable", false, &r->floor_unstable);
        get_str(rd, fl, p, "floor_note", false, r->floor_note, sizeof r->floor_note);
    }

    /* Only a run that took a lock has them; complete when present. */
    json_t *lk = get_object(rd, o, path, "locks", false);
    if (lk) {
        join(p, sizeof p, path, "locks");
        get_u64(rd, lk, p, "acquisitions", true, &r->lock_acquisitions);
        get_u64(rd, lk, p, "contended", true, &r->lock_contended);
        get_ranged(rd, lk, p, "wait_ns", true, &PB_RANGE_NANOSECONDS, &r->lock_wait_ns);
        get_u64(rd, lk, p, "acq_min", true, &r->lock_acq_min);
        get_u64(rd, lk, p, "acq_max", true, &r->lock_acq_max);
        get_ranged(rd, lk, p, "fairness_jain", true, &PB_RANGE_FRACTION, &r->lock_fairness_jain);
        get_u64(rd, lk, p, "worker_acq_min", true, &r->lock_worker_acq_min);
        get_u64(rd, lk, p, "worker_acq_max", true, &r->lock_worker_acq_max);
        get_ranged(rd, lk, p, "worker_fairness_jain", true, &PB_RANGE_FRACTION,
                   &r->lock_worker_fairness_jain);
    }

    json_t *cn = get_object(rd, o, path, "counters", true);
    if (cn) {
        join(p, sizeof p, path, "counters");
#define COUNTER_(name, unit, doc) get_u64(rd, cn, p, #name, false, &r->counters.name);
        PB_COUNTERS(COUNTER_)
#undef COUNTER_
    }
}

/* ---- the document ------------------------------------------------------------ */

/* The environment: every fact optional (a fact a later pendbench adds, or
 * one an older one lacked, keeps "unknown"); the warnings are read as
 * written, not recomputed, so the file says what the session said. */
static void read_env(struct rd *rd, json_t *o, struct pb_environment *e)
{
    const char *p = "context.env";
    get_triple(rd, o, p, "loadavg_start", e->loadavg_start);
    get_triple(rd, o, p, "loadavg_end", e->loadavg_end);
    get_uint(rd, o, p, "ncpus_online", false, &e->ncpus_online);
    get_uint(rd, o, p, "ncpus_usable", false, &e->ncpus_usable);
    get_str(rd, o, p, "governor", false, e->governor, sizeof e->governor);
    get_real(rd, o, p, "freq_min_mhz", false, &e->freq_min_mhz);
    get_real(rd, o, p, "freq_max_mhz", false, &e->freq_max_mhz);
    get_real(rd, o, p, "mhz_per_cpu", false, &e->mhz_per_cpu);
    get_bool(rd, o, p, "cpu_scaling_enabled", false, &e->cpu_scaling_enabled);
    get_int(rd, o, p, "turbo", false, &e->turbo);
    get_int(rd, o, p, "smt_active", false, &e->smt_active);
    get_bool(rd, o, p, "smt_siblings_used", false, &e->smt_siblings_used);
    get_str(rd, o, p, "hypervisor", false, e->hypervisor, sizeof e->hypervisor);
    get_real(rd, o, p, "steal_pct", false, &e->steal_pct);
    get_bool(rd, o, p, "tsc_constant", false, &e->tsc_constant);
    get_bool(rd, o, p, "tsc_nonstop", false, &e->tsc_nonstop);
    get_str(rd, o, p, "clocksource", false, e->clocksource, sizeof e->clocksource);
    get_real(rd, o, p, "tsc_drift_ppm", false, &e->tsc_drift_ppm);
    get_uint(rd, o, p, "max_threads", false, &e->max_threads);
    get_u64(rd, o, p, "migrations", false, &e->migrations);
    char q[PATH_MAX_];
    json_t *caches = get_array(rd, o, p, "caches", false);
    size_t i;
    json_t *c;
    json_array_foreach(caches, i, c) {
        if (e->ncaches >= PB_ENV_MAX_CACHES)
            break;             /* more than this build keeps: the first ones */
        snprintf(q, sizeof q, "%s.caches[%zu]", p, i);
        if (!json_is_object(c)) {
            fail_at(rd, q, "expected an object");
            return;
        }
        struct pb_cache_info *ci = &e->caches[e->ncaches++];
        get_uint(rd, c, q, "level", false, &ci->level);
        get_str(rd, c, q, "type", false, ci->type, sizeof ci->type);
        get_u64(rd, c, q, "size_bytes", false, &ci->size_bytes);
        get_uint(rd, c, q, "num_sharing", false, &ci->num_sharing);
    }
    json_t *warnings = get_array(rd, o, p, "warnings", false);
    json_array_foreach(warnings, i, c) {
        if (e->nwarnings >= PB_ENV_MAX_WARNINGS)
            break;
        if (!json_is_string(c)) {
            snprintf(q, sizeof q, "%s.warnings[%zu]", p, i);
            fail_at(rd, q, "expected a string");
            return;
        }
        snprintf(e->warnings[e->nwarnings++], sizeof e->warnings[0], "%s", json_string_value(c));
    }
}

static void read_context(struct rd *rd, json_t *o, struct pb_context *c)
{
    const char *p = "context";
#define STR_(f) get_str(rd, o, p, #f, false, c->f, sizeof c->f);
    STR_(date) STR_(host) STR_(cpu_model) STR_(kernel) STR_(compiler) STR_(cflags)
    STR_(git_commit) STR_(topology) STR_(placement) STR_(command)
    STR_(build_variant) STR_(git_diff_hash) STR_(run_id)
    get_uint(rd, o, p, "ncpus_online", false, &c->ncpus_online);
    get_bool(rd, o, p, "partial", false, &c->partial);
    get_bool(rd, o, p, "interleaved", false, &c->interleaved);
    get_seed(rd, o, p, "interleave_seed", false, &c->interleave_seed);
    get_uint(rd, o, p, "repetitions", false, &c->repetitions);
    pb_env_init(&c->env);
    json_t *env = get_object(rd, o, p, "env", false);
    if (env)
        read_env(rd, env, &c->env);
#undef STR_
    json_t *cal = get_object(rd, o, p, "calibration", false);
    if (cal) {
        const char *pc = "context.calibration";
        get_real(rd, cal, pc, "c2c_round_trip_ns", false, &c->c2c_round_trip_ns);
        get_real(rd, cal, pc, "timestamp_overhead_ns", false, &c->timestamp_overhead_ns);
        get_real(rd, cal, pc, "futex_wake_ns", false, &c->futex_wake_ns);
        get_real(rd, cal, pc, "tsc_ticks_per_ns", false, &c->tsc_ticks_per_ns);
    }
}

static int read_root(struct rd *rd, json_t *root, struct pb_result_doc *out)
{
    json_t *ver = json_is_object(root) ? json_object_get(root, "schema_version") : NULL;
    json_t *gen = json_is_object(root) ? json_object_get(root, "generator") : NULL;
    if (!json_is_integer(ver) || !json_is_string(gen)) {
        /* Name what is missing or of the wrong type: one of them may be there. */
        fail_at(rd, NULL, "not a pendbench result (%s%s%s)",
                !json_is_integer(ver) ? (ver ? "schema_version is not an integer"
                                             : "no schema_version")
                                      : "",
                !json_is_integer(ver) && !json_is_string(gen) ? ", " : "",
                !json_is_string(gen) ? (gen ? "generator is not a string" : "no generator") : "");
        return -1;
    }
    if (strcmp(json_string_value(gen), PB_RESULT_GENERATOR) != 0) {
        fail_at(rd, NULL, "not a pendbench result (generator '%s')", json_string_value(gen));
        return -1;
    }
    json_int_t v = json_integer_value(ver);
    if (v > PB_RESULT_SCHEMA_VERSION) {
        fail_at(rd, NULL, "schema_version %lld is newer than this pendbench reads (%d)",
                (long long)v, PB_RESULT_SCHEMA_VERSION);
        return -2;             /* not damage: the history tells the two apart */
    }
    if (v < 1) {
        fail_at(rd, NULL, "schema_version %lld is not one this pendbench reads (1 to %d)",
                (long long)v, PB_RESULT_SCHEMA_VERSION);
        return -1;
    }
    out->schema_version = (unsigned)v;
    check_text(rd, root, "");
    if (rd->failed)
        return -1;

    json_t *ctx = get_object(rd, root, "", "context", true);
    if (ctx)
        read_context(rd, ctx, &out->ctx);
    json_t *runs = get_array(rd, root, "", "runs", true);
    if (rd->failed)
        return -1;
    size_t n = json_array_size(runs);
    if (n > UINT_MAX) {
        fail_at(rd, "runs", "too many runs");
        return -1;
    }
    if (n) {
        out->runs = calloc(n, sizeof *out->runs);
        if (!out->runs) {
            fail_at(rd, NULL, "out of memory for %zu runs", n);
            return -1;
        }
    }
    for (size_t i = 0; i < n && !rd->failed; i++) {
        out->nruns = (unsigned)(i + 1);        /* so a failure frees what was read */
        read_run(rd, json_array_get(runs, i), (unsigned)i, &out->runs[i]);
    }
    return rd->failed ? -1 : 0;
}

static int finish(struct rd *rd, json_t *root, json_error_t *jerr, struct pb_result_doc *out)
{
    if (!root) {
        /* Compiler style, "x.json:3:5: not JSON: ...", so editors jump there. */
        if (jerr->line > 0)
            snprintf(rd->err, rd->errlen, "%s:%d:%d: not JSON: %s", rd->name, jerr->line,
                     jerr->column, jerr->text);
        else
            snprintf(rd->err, rd->errlen, "%s: not JSON: %s", rd->name, jerr->text);
        return -1;
    }
    int rc = read_root(rd, root, out);
    json_decref(root);
    if (rc != 0)
        pb_result_doc_free(out);
    return rc;
}

/* Decoding: any JSON value (a bare number is valid JSON, just not ours);
 * a key given twice is a damaged file, not a choice to make silently. */
#define DECODE_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES)

int pb_result_read(const char *path, struct pb_result_doc *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct rd rd = {.name = path, .err = err, .errlen = errlen};
    size_t len;
    char *text = pb_file_read_text(path, PB_RESULT_FILE_KIND, 0, &len, err, errlen);
    if (!text)
        return -1;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, DECODE_FLAGS, &jerr);
    free(text);
    return finish(&rd, root, &jerr, out);
}

int pb_result_read_string(const char *text, const char *name, struct pb_result_doc *out,
                          char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct rd rd = {.name = name ? name : "result", .err = err, .errlen = errlen};
    json_error_t jerr;
    json_t *root = json_loads(text ? text : "", DECODE_FLAGS, &jerr);
    return finish(&rd, root, &jerr, out);
}

void pb_result_doc_free(struct pb_result_doc *doc)
{
    if (!doc)
        return;
    for (unsigned i = 0; doc->runs && i < doc->nruns; i++) {
        json_decref(doc->runs[i].params);
        free(doc->runs[i].r.pairs);
    }
    free(doc->runs);
    memset(doc, 0, sizeof *doc);
}

const struct pb_result_run *pb_result_find(const struct pb_result_doc *doc, const char *scenario,
                                           const char *pool, const char *queue,
                                           const char *handoff, int repetition)
{
    for (unsigned i = 0; doc && i < doc->nruns; i++) {
        const struct pb_scenario *s = &doc->runs[i].r.scenario;
        if ((!scenario || strcmp(s->name, scenario) == 0) && (!pool || strcmp(s->pool, pool) == 0) &&
            (!queue || strcmp(s->queue, queue) == 0) &&
            (!handoff || strcmp(s->handoff, handoff) == 0) &&
            (repetition < 0 || doc->runs[i].r.repetition == (unsigned)repetition))
            return &doc->runs[i];
    }
    return NULL;
}
