/* The result document, written (pb_result.h; reports/SCHEMA.md is the
 * field-by-field page and must follow every change made here).
 *
 * Integers are JSON integers. Values a JSON integer of jansson cannot hold
 * (above 2^63 - 1) are clamped to it, except the seed, which is written
 * as a decimal string then (it must stay exact to reproduce a run), and
 * so is the context's interleave_seed.
 * Non-finite reals (a NaN ratio) are written as null. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pb_file.h"
#include "nt_status.h"
#include "pb_err.h"
#include "pb_result.h"
#include "result_internal.h"

#define DUMP_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(10))

/* ---- value helpers: each returns NULL only when out of memory ---------- */

static json_t *ju64(uint64_t v)
{
    return json_integer(v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v);
}

static json_t *ji64(int64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *jreal(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* A fixed-size char array (maybe not NUL-terminated) as a JSON string,
 * through pb_text_clean: text that is not printable UTF-8 (a control
 * character in a host name or a path on the command line, bytes that are
 * not UTF-8, which jansson refuses) has those bytes as '?'. The reader
 * refuses anything else as a damaged file (SCHEMA.md "Reading"). */
static json_t *jstrn(const char *s, size_t size)
{
    if (!s)
        return json_string("");
    size_t n = strnlen(s, size);
    char *copy = malloc(2 * n + 2);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    json_t *v = json_string(pb_text_clean(copy, copy + n + 1, n + 1));
    free(copy);
    return v;
}

#define JSTR(field) jstrn((field), sizeof(field))

static json_t *jname(const char *name)
{
    return json_string(name ? name : "unknown");
}

/* Sets o[key] = v, stealing v; records a failure (v NULL: out of memory). */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
    if (json_object_set_new(o, key, v) != 0)
        *ok = false;
}

static void append(json_t *a, json_t *v, bool *ok)
{
    if (json_array_append_new(a, v) != 0)
        *ok = false;
}

/* ---- pieces --------------------------------------------------------------- */

static json_t *hist_json(const struct pb_hist *h, bool *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    put(o, "count", ju64(h->count), ok);
    put(o, "min", ju64(h->count ? h->min : 0), ok);
    put(o, "max", ju64(h->count ? h->max : 0), ok);
    put(o, "mean", jreal(pb_hist_mean(h)), ok);
    put(o, "p50", ju64(pb_hist_percentile(h, 50)), ok);
    put(o, "p90", ju64(pb_hist_percentile(h, 90)), ok);
    put(o, "p99", ju64(pb_hist_percentile(h, 99)), ok);
    put(o, "p999", ju64(pb_hist_percentile(h, 99.9)), ok);
    json_t *bins = json_array();
    if (bins) {
        for (unsigned i = 0; i < PB_HIST_BINS && *ok; i++) {
            if (!h->bins[i])
                continue;
            /* The last bin is open-ended (everything past the top): its
             * highest value is the histogram's max. */
            uint64_t hi = i == PB_HIST_BINS - 1 ? h->max : pb_hist_bin_hi(i);
            append(bins, json_pack("[III]", (json_int_t)pb_hist_bin_lo(i),
                                   (json_int_t)(hi > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : hi),
                                   (json_int_t)(h->bins[i] > (uint64_t)INT64_MAX
                                                    ? (uint64_t)INT64_MAX
                                                    : h->bins[i])),
                   ok);
        }
    }
    put(o, "bins", bins, ok);
    return o;
}

static json_t *floor_json(const struct pb_floor *f)
{
    return json_pack("{s:o, s:o, s:o, s:I}", "median_ns", jreal(f->median_ns), "p10_ns",
                     jreal(f->p10_ns), "p90_ns", jreal(f->p90_ns), "samples",
                     (json_int_t)f->samples);
}

/* A seed must stay exact: above 2^63 - 1 it is written as a decimal string. */
static json_t *jseed(uint64_t seed)
{
    if (seed > (uint64_t)INT64_MAX) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, seed);
        return json_string(buf);
    }
    return ju64(seed);
}

static json_t *params_json(const struct pb_scenario *s, bool *ok)
{
    json_t *p = json_object();
    if (!p) {
        *ok = false;
        return NULL;
    }
    char buf[96];
    put(p, "pool", JSTR(s->pool), ok);
    put(p, "queue", JSTR(s->queue), ok);
    put(p, "handoff", JSTR(s->handoff), ok);
    /* Only when chosen: a run under each strategy's own lock keeps the
     * key of the runs recorded before locks existed (pb_runkey.h). */
    if (s->lock[0])
        put(p, "lock", JSTR(s->lock), ok);
    put(p, "requesters", json_integer(s->requesters), ok);
    put(p, "workers", json_integer(s->workers), ok);
    put(p, "cancellers", json_integer(s->cancellers), ok);
    put(p, "idle", jname(pb_idle_name(s->idle)), ok);
    put(p, "placement", jname(pb_placement_name(s->placement)), ok);
    put(p, "route", jname(pb_route_name(s->route)), ok);
    json_t *filters = json_array();
    unsigned nf = s->nfilters < PB_MAX_FILTERS ? s->nfilters : PB_MAX_FILTERS;
    for (unsigned i = 0; filters && i < nf; i++)
        append(filters, jname(pb_filter_kind_name(s->filters[i])), ok);
    put(p, "filters", filters, ok);
    json_t *mix = json_object();
    if (mix) {
#define MIX_(f) put(mix, #f, json_integer(s->mix.f), ok);
        PB_RESULT_MIX_FIELDS(MIX_)
#undef MIX_
    }
    put(p, "mix", mix, ok);
    put(p, "pend-fraction", jreal(s->pend_fraction), ok);
    put(p, "cancel-fraction", jreal(s->cancel_fraction), ok);
    put(p, "cancel-when", jname(pb_cancel_when_name(s->cancel_when)), ok);
    pb_dist_format(&s->cancel_delay, buf, sizeof buf);
    put(p, "cancel-delay", JSTR(buf), ok);
    pb_dist_format(&s->service, buf, sizeof buf);
    put(p, "service", JSTR(buf), ok);
    pb_dist_format(&s->fs_service, buf, sizeof buf);
    put(p, "fs-service", JSTR(buf), ok);
    put(p, "inflight", json_integer(s->inflight), ok);
    put(p, "rate", jreal(s->rate), ok);
    if (s->burst_on_ms > 0 || s->burst_off_ms > 0) {
        char on[40], off[40];
        pb_result_format_double(s->burst_on_ms, on, sizeof on);
        pb_result_format_double(s->burst_off_ms, off, sizeof off);
        snprintf(buf, sizeof buf, "%s:%s", on, off);
        put(p, "burst", json_string(buf), ok);
    } else {
        put(p, "burst", json_string("off"), ok);
    }
    put(p, "duration", jreal(s->duration_s), ok);
    put(p, "ops", ju64(s->ops), ok);
    put(p, "warmup", jreal(s->warmup_s), ok);
    put(p, "seed", jseed(s->seed), ok);
    put(p, "pool-capacity", ju64(s->pool_capacity), ok);
    put(p, "queue-capacity", ju64(s->queue_capacity), ok);
    put(p, "verifier-checks", json_boolean(s->verifier_checks), ok);
    /* Only when set: a run on local memory keeps the key of the runs
     * recorded before the option existed. */
    if (s->memory_node >= 0)
        put(p, "memory-node", json_integer(s->memory_node), ok);
    put(p, "split-every", json_integer(s->split_every), ok);
    put(p, "latency-every",
        s->latency_every == PB_LATENCY_EVERY_AUTO ? json_string("auto")
                                                  : json_integer(s->latency_every),
        ok);
    return p;
}

json_t *pb_result_params_json(const struct pb_scenario *s)
{
    bool ok = true;
    json_t *p = params_json(s, &ok);
    if (!ok) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *env_json(const struct pb_environment *e, bool *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    put(o, "loadavg_start",
        json_pack("[o, o, o]", jreal(e->loadavg_start[0]), jreal(e->loadavg_start[1]),
                  jreal(e->loadavg_start[2])),
        ok);
    put(o, "loadavg_end",
        json_pack("[o, o, o]", jreal(e->loadavg_end[0]), jreal(e->loadavg_end[1]),
                  jreal(e->loadavg_end[2])),
        ok);
    put(o, "ncpus_online", json_integer(e->ncpus_online), ok);
    put(o, "ncpus_usable", json_integer(e->ncpus_usable), ok);
    put(o, "governor", JSTR(e->governor), ok);
    put(o, "freq_min_mhz", jreal(e->freq_min_mhz), ok);
    put(o, "freq_max_mhz", jreal(e->freq_max_mhz), ok);
    put(o, "mhz_per_cpu", jreal(e->mhz_per_cpu), ok);
    put(o, "cpu_scaling_enabled", json_boolean(e->cpu_scaling_enabled), ok);
    put(o, "turbo", json_integer(e->turbo), ok);
    put(o, "smt_active", json_integer(e->smt_active), ok);
    put(o, "smt_siblings_used", json_boolean(e->smt_siblings_used), ok);
    put(o, "hypervisor", JSTR(e->hypervisor), ok);
    put(o, "steal_pct", jreal(e->steal_pct), ok);
    put(o, "tsc_constant", json_boolean(e->tsc_constant), ok);
    put(o, "tsc_nonstop", json_boolean(e->tsc_nonstop), ok);
    put(o, "clocksource", JSTR(e->clocksource), ok);
    put(o, "tsc_drift_ppm", jreal(e->tsc_drift_ppm), ok);
    put(o, "max_threads", json_integer(e->max_threads), ok);
    put(o, "migrations", ju64(e->migrations), ok);
    json_t *caches = json_array();
    unsigned nc = e->ncaches < PB_ENV_MAX_CACHES ? e->ncaches : PB_ENV_MAX_CACHES;
    for (unsigned i = 0; caches && i < nc; i++) {
        const struct pb_cache_info *c = &e->caches[i];
        append(caches,
               json_pack("{s:I, s:o, s:o, s:I}", "level", (json_int_t)c->level, "type",
                         JSTR(c->type), "size_bytes", ju64(c->size_bytes), "num_sharing",
                         (json_int_t)c->num_sharing),
               ok);
    }
    put(o, "caches", caches, ok);
    json_t *warnings = json_array();
    unsigned nw = e->nwarnings < PB_ENV_MAX_WARNINGS ? e->nwarnings : PB_ENV_MAX_WARNINGS;
    for (unsigned i = 0; warnings && i < nw; i++)
        append(warnings, JSTR(e->warnings[i]), ok);
    put(o, "warnings", warnings, ok);
    return o;
}

static json_t *run_json(const struct pb_run_result *r, bool *ok)
{
    const struct pb_scenario *s = &r->scenario;
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    put(o, "scenario", JSTR(s->name), ok);
    put(o, "description", JSTR(s->description), ok);
    put(o, "repetition", json_integer(r->repetition), ok);
    put(o, "partial", json_boolean(r->partial), ok);
    put(o, "strategies",
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "pool", JSTR(s->pool), "queue", JSTR(s->queue),
                  "handoff", JSTR(s->handoff), "lock",
                  s->lock[0] ? JSTR(s->lock) : json_string("default"), "locks_taken",
                  JSTR(r->locks)),
        ok);
    put(o, "params", params_json(s, ok), ok);
    put(o, "seconds", jreal(r->seconds), ok);
    put(o, "ops",
        json_pack("{s:o, s:o, s:o, s:o}", "issued", ju64(r->issued), "completed",
                  ju64(r->completed), "completed_cancelled", ju64(r->completed_cancelled),
                  "failed", ju64(r->failed)),
        ok);
    put(o, "throughput_ops_s", jreal(r->throughput_ops_s), ok);
    put(o, "warmup_throughput_ops_s", jreal(r->warmup_throughput_ops_s), ok);
    put(o, "stalled", json_boolean(r->stalled), ok);
    put(o, "failed_fraction", jreal(r->failed_fraction), ok);
    put(o, "failure_status", json_integer(r->failure_status), ok);
    put(o, "failure_status_name", r->failure_status ? json_string(nt_status_name(r->failure_status))
                                                    : json_null(), ok);
    put(o, "mostly_failed", json_boolean(r->mostly_failed), ok);
    put(o, "order", json_integer(r->order), ok);
    put(o, "nthreads", json_integer(r->nthreads), ok);
    put(o, "oversubscribed", json_boolean(r->oversubscribed), ok);
    put(o, "steal_pct", jreal(r->steal_pct), ok);
    put(o, "others_pct", jreal(r->others_pct), ok);
    put(o, "involuntary_switches", ju64(r->involuntary_switches), ok);
    put(o, "migrations", ju64(r->migrations), ok);
    put(o, "latency_ns",
        json_pack("{s:o, s:o, s:o}", "total", hist_json(&r->total, ok), "queue_wait",
                  hist_json(&r->queue_wait, ok), "service", hist_json(&r->service, ok)),
        ok);

    json_t *pairs = json_array();
    for (unsigned i = 0; pairs && r->pairs && i < r->npairs; i++) {
        const struct pb_node_pair *np = &r->pairs[i];
        append(pairs,
               json_pack("{s:i, s:i, s:o}", "requester_node", np->requester_node, "worker_node",
                         np->worker_node, "latency_ns", hist_json(&np->total, ok)),
               ok);
    }
    put(o, "node_pairs", pairs, ok);

    const struct pb_cancel_outcomes *c = &r->cancel;
    put(o, "cancel",
        json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "attempted", ju64(c->attempted), "won",
                  ju64(c->won), "lost", ju64(c->lost), "early", ju64(c->early), "late",
                  ju64(c->late), "not_cancelable", ju64(c->not_cancelable), "success_rate",
                  jreal(c->success_rate)),
        ok);

    const struct flt_invariants *v = &r->invariants;
    json_t *inv = json_object();
    if (inv) {
        put(inv, "ok", json_boolean(v->ok), ok);
        put(inv, "issued", ju64(v->issued), ok);
        put(inv, "completed", ju64(v->completed), ok);
        put(inv, "completed_cancelled", ju64(v->completed_cancelled), ok);
        put(inv, "failed", ju64(v->failed), ok);
        put(inv, "in_flight", ji64(v->in_flight), ok);
        put(inv, "outstanding_data", ji64(v->outstanding_data), ok);
        put(inv, "double_complete_refused", ju64(v->double_complete_refused), ok);
        put(inv, "routine_left_set", ju64(v->routine_left_set), ok);
        put(inv, "verifier_violations", ju64(v->verifier_violations), ok);
        put(inv, "why", JSTR(v->why), ok);
    }
    put(o, "invariants", inv, ok);

    put(o, "fairness",
        json_pack("{s:o, s:o, s:o}", "per_requester_min", ju64(r->per_requester_min),
                  "per_requester_max", ju64(r->per_requester_max), "jain_index",
                  jreal(r->jain_index)),
        ok);
    json_t *floors =
        json_pack("{s:o, s:o, s:o, s:[i, i]}", "c2c_round_trip_ns", jreal(r->c2c_round_trip_ns),
                  "timestamp_overhead_ns", jreal(r->timestamp_overhead_ns), "futex_wake_ns",
                  jreal(r->futex_wake_ns), "c2c_os_cpus", r->c2c_os_cpu_a, r->c2c_os_cpu_b);
    if (floors) {
        put(floors, "c2c_start", floor_json(&r->c2c_start), ok);
        put(floors, "c2c_end", floor_json(&r->c2c_end), ok);
        put(floors, "floor_unstable", json_boolean(r->floor_unstable), ok);
        put(floors, "floor_note", JSTR(r->floor_note), ok);
        put(floors, "instrumentation_ns_per_op", jreal(r->instrumentation_ns_per_op), ok);
        if (r->latency_every >= 1)    /* 0: the run ended before its floors */
            put(floors, "latency_every", json_integer(r->latency_every), ok);
    }
    put(o, "floors", floors, ok);

    /* A ratio against a floor that moved or spread widely would mislead:
     * withheld then (floors.floor_note says why). */
    json_t *ratios = json_object();
    if (ratios && !r->floor_unstable && r->c2c_round_trip_ns > 0 &&
        isfinite(r->c2c_round_trip_ns)) {
        put(ratios, "p50_over_c2c",
            jreal((double)pb_hist_percentile(&r->total, 50) / r->c2c_round_trip_ns), ok);
        put(ratios, "p99_over_c2c",
            jreal((double)pb_hist_percentile(&r->total, 99) / r->c2c_round_trip_ns), ok);
    }
    put(o, "ratios", ratios, ok);

    json_t *counters = json_object();
    if (counters) {
#define COUNTER_(name, unit, doc) put(counters, #name, ju64(r->counters.name), ok);
        PB_COUNTERS(COUNTER_)
#undef COUNTER_
    }
    put(o, "counters", counters, ok);

    /* The locks' figures, only for a run whose strategies took one. */
    if (r->locks[0]) {
        json_t *locks = json_object();
        if (locks) {
            put(locks, "acquisitions", ju64(r->lock_acquisitions), ok);
            put(locks, "contended", ju64(r->lock_contended), ok);
            put(locks, "wait_ns", jreal(r->lock_wait_ns), ok);
            put(locks, "acq_min", ju64(r->lock_acq_min), ok);
            put(locks, "acq_max", ju64(r->lock_acq_max), ok);
            put(locks, "fairness_jain", jreal(r->lock_fairness_jain), ok);
            put(locks, "worker_acq_min", ju64(r->lock_worker_acq_min), ok);
            put(locks, "worker_acq_max", ju64(r->lock_worker_acq_max), ok);
            put(locks, "worker_fairness_jain", jreal(r->lock_worker_fairness_jain), ok);
        }
        put(o, "locks", locks, ok);
    }
    return o;
}

static json_t *context_json(const struct pb_context *c, bool *ok)
{
    json_t *o = json_object();
    if (!o) {
        *ok = false;
        return NULL;
    }
    put(o, "date", JSTR(c->date), ok);
    put(o, "host", JSTR(c->host), ok);
    put(o, "cpu_model", JSTR(c->cpu_model), ok);
    put(o, "kernel", JSTR(c->kernel), ok);
    put(o, "compiler", JSTR(c->compiler), ok);
    put(o, "cflags", JSTR(c->cflags), ok);
    put(o, "build_variant", JSTR(c->build_variant), ok);
    put(o, "git_commit", JSTR(c->git_commit), ok);
    put(o, "git_diff_hash", JSTR(c->git_diff_hash), ok);
    put(o, "run_id", JSTR(c->run_id), ok);
    put(o, "topology", JSTR(c->topology), ok);
    put(o, "placement", JSTR(c->placement), ok);
    put(o, "ncpus_online", json_integer(c->ncpus_online), ok);
    put(o, "partial", json_boolean(c->partial), ok);
    put(o, "command", JSTR(c->command), ok);
    put(o, "calibration",
        json_pack("{s:o, s:o, s:o, s:o}", "c2c_round_trip_ns", jreal(c->c2c_round_trip_ns),
                  "timestamp_overhead_ns", jreal(c->timestamp_overhead_ns), "futex_wake_ns",
                  jreal(c->futex_wake_ns), "tsc_ticks_per_ns", jreal(c->tsc_ticks_per_ns)),
        ok);
    put(o, "interleaved", json_boolean(c->interleaved), ok);
    put(o, "interleave_seed", jseed(c->interleave_seed), ok);
    put(o, "repetitions", json_integer(c->repetitions), ok);
    put(o, "env", env_json(&c->env, ok), ok);
    return o;
}

/* The whole document; NULL only when out of memory. */
static json_t *document(const struct pb_context *ctx, const struct pb_run_result *runs,
                        unsigned nruns)
{
    static const struct pb_context no_context;  /* NULL: every field empty */
    if (!ctx)
        ctx = &no_context;
    bool ok = true;
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    put(doc, "schema_version", json_integer(PB_RESULT_SCHEMA_VERSION), &ok);
    put(doc, "generator", json_string(PB_RESULT_GENERATOR), &ok);
    put(doc, "context", context_json(ctx, &ok), &ok);
    json_t *arr = json_array();
    for (unsigned i = 0; arr && ok && i < nruns; i++)
        append(arr, run_json(&runs[i], &ok), &ok);
    put(doc, "runs", arr, &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- output -------------------------------------------------------------- */

/* Arrays holding only numbers ([lo, hi, count] bins, the c2c CPU pair)
 * go on one line: JSON_INDENT gives every number its own line, which makes
 * a histogram five lines a bin. Strings are skipped whole, so nothing
 * inside one is touched; the result is the same JSON value. */
static void write_compacted(const char *s, FILE *out)
{
    static const char numeric[] = " \t\r\n0123456789-+.eE,";
    bool in_string = false;
    for (size_t i = 0; s[i]; i++) {
        char ch = s[i];
        if (in_string) {
            fputc(ch, out);
            if (ch == '\\' && s[i + 1])
                fputc(s[++i], out);
            else if (ch == '"')
                in_string = false;
            continue;
        }
        if (ch == '"')
            in_string = true;
        if (ch != '[') {
            fputc(ch, out);
            continue;
        }
        size_t j = i + 1;
        bool digit = false;
        while (s[j] && strchr(numeric, s[j])) {
            digit = digit || (s[j] >= '0' && s[j] <= '9');
            j++;
        }
        if (s[j] != ']' || !digit) {
            fputc(ch, out);
            continue;
        }
        fputc('[', out);
        for (size_t k = i + 1; k < j; k++) {
            if (s[k] == ' ' || s[k] == '\t' || s[k] == '\r' || s[k] == '\n')
                continue;
            fputc(s[k], out);
            if (s[k] == ',')
                fputc(' ', out);
        }
        fputc(']', out);
        i = j;
    }
}

static int dump(json_t *doc, FILE *out)
{
    char *text = json_dumps(doc, DUMP_FLAGS);
    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    write_compacted(text, out);
    free(text);
    if (fputc('\n', out) == EOF || ferror(out))
        return -1;
    return 0;
}

int pb_result_write_stream(FILE *out, const struct pb_context *ctx,
                           const struct pb_run_result *runs, unsigned nruns, char *err,
                           size_t errlen)
{
    json_t *doc = document(ctx, runs, nruns);
    if (!doc) {
        snprintf(err, errlen, "result: out of memory building the document");
        return -1;
    }
    errno = 0;
    int rc = dump(doc, out);
    if (fflush(out) != 0 || ferror(out))
        rc = -1;
    json_decref(doc);
    if (rc != 0)
        snprintf(err, errlen, "result: cannot write: %s", errno ? strerror(errno) : "write error");
    return rc;
}

static int dump_to(FILE *out, void *doc, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return dump(doc, out);
}

int pb_result_write(const char *path, const struct pb_context *ctx,
                    const struct pb_run_result *runs, unsigned nruns, char *err, size_t errlen)
{
    json_t *doc = document(ctx, runs, nruns);
    if (!doc) {
        snprintf(err, errlen, "%s: out of memory building the document", path);
        return -1;
    }
    int rc = pb_file_write(path, dump_to, doc, err, errlen);
    json_decref(doc);
    return rc;
}
