/* `pendbench compare`: two result documents, run by run, metric by metric.
 *
 * Matching. A run is found by its scenario name and strategies (pool,
 * queue, handoff: as the file names them, so a strategy this build lacks
 * still matches). The runs of one side with the same key and the same
 * workload (every params value except the run's length and seed:
 * duration, ops, warmup, seed) form a group: its repetitions. A sweep
 * writes one scenario with several thread counts, so the workload keeps
 * those apart. Groups match across sides on key and workload, comparing
 * only the params both files have (a newer pendbench may add some); then
 * a group left over on each side with the same key is matched anyway,
 * with a warning naming what changed. The rest is listed ("only in
 * BASE"), not failed. No match at all is an error.
 *
 * Figures of a side (never an average of percentiles):
 *   throughput  median of the repetitions' ops/s
 *   p50/p99/p999  of the merged histogram of every repetition (total latency)
 *   cancel      won / attempted, both summed over the repetitions
 * The change is relative to BASE in percent; for the cancel success rate
 * it is in percentage points (a rate near 0 would make any relative
 * change huge), and the threshold applies to points there.
 *
 * Significance (stats.c says how each test works):
 *   (1) Mann-Whitney U on the per-repetition figures (each repetition's
 *       own percentile for latency, its own rate for cancel), when the
 *       sizes can reach alpha at all: 2 / C(na + nb, na) <= alpha, i.e.
 *       4 repetitions a side for 0.05. Fewer: "too few repetitions".
 *   (2) pooled over the repetitions: latency: the (1 - alpha) confidence
 *       intervals of the percentile in the two merged histograms do not
 *       overlap (conservative: the level of this test is well below
 *       alpha); cancel: a two-proportion z test on the summed counts.
 *       Throughput has no pooled test: a run has one throughput figure.
 * A metric is significant when every test that could run says so: with
 * enough repetitions the U test carries the run-to-run noise the pooled
 * tests cannot see (they treat each operation as independent), and the
 * pooled test keeps a difference inside the histogram's resolution or
 * the tail's sampling noise from counting. With too few repetitions the
 * pooled test decides alone. When no test can run (throughput with too
 * few repetitions) the verdict is the threshold alone, and the row says
 * "untested": a CI job that runs once still catches a large drop, and
 * the note says to use --repeat.
 *
 * Verdict per metric: regressed when significant (or untested) and worse
 * by more than the threshold; improved likewise the other way; otherwise
 * unchanged. A run's verdict is its worst metric's. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pb_compare.h"
#include "pb_history.h"

static const struct {
    const char *name, *unit;
    double pct;                /* latency percentile; 0: not a latency */
    bool higher_better;
} metric_info[PB_METRIC_COUNT] = {
    [PB_METRIC_THROUGHPUT] = { "throughput", "ops/s", 0, true },
    [PB_METRIC_P50] = { "p50", "ns", 50, false },
    [PB_METRIC_P99] = { "p99", "ns", 99, false },
    [PB_METRIC_P999] = { "p999", "ns", 99.9, false },
    [PB_METRIC_CANCEL] = { "cancel", "rate", 0, true },
};

const char *pb_metric_name(enum pb_metric m)
{
    return (unsigned)m < PB_METRIC_COUNT ? metric_info[m].name : "?";
}

int pb_metric_parse(const char *name, enum pb_metric *m)
{
    static const struct { const char *name; enum pb_metric m; } alias[] = {
        { "p99.9", PB_METRIC_P999 }, { "tput", PB_METRIC_THROUGHPUT },
        { "ops", PB_METRIC_THROUGHPUT }, { "cancel-rate", PB_METRIC_CANCEL },
    };
    for (unsigned i = 0; i < PB_METRIC_COUNT; i++)
        if (strcmp(name, metric_info[i].name) == 0) {
            *m = (enum pb_metric)i;
            return 0;
        }
    for (size_t i = 0; i < sizeof alias / sizeof alias[0]; i++)
        if (strcmp(name, alias[i].name) == 0) {
            *m = alias[i].m;
            return 0;
        }
    return -1;
}

const char *pb_verdict_name(enum pb_verdict v)
{
    switch (v) {
    case PB_VERDICT_UNCHANGED: return "unchanged";
    case PB_VERDICT_IMPROVED: return "improved";
    case PB_VERDICT_REGRESSED: return "regressed";
    default: return "n/a";
    }
}

void pb_compare_opts_default(struct pb_compare_opts *o)
{
    o->threshold_pct = 5;
    o->alpha = 0.05;
    o->metrics = PB_METRIC_ALL;
}

/* ---- grouping and matching ----------------------------------------------------- */

struct group {
    const struct pb_result_run *runs[PB_COMPARE_MAX_REPS];
    unsigned n, dropped;
    int partner;               /* index in the other side's groups, or -1 */
    bool fuzzy;                /* matched on the key alone */
};

struct side {
    struct group *g;
    unsigned n;
};

/* A strategy as the file names it (params), so a strategy this build does
 * not have still matches; the rebuilt scenario otherwise. */
static const char *strategy(const struct pb_result_run *run, const char *key)
{
    const char *s = run->params ? json_string_value(json_object_get(run->params, key)) : NULL;
    if (s)
        return s;
    if (strcmp(key, "pool") == 0)
        return run->r.scenario.pool;
    if (strcmp(key, "queue") == 0)
        return run->r.scenario.queue;
    return run->r.scenario.handoff;
}

static bool same_key(const struct pb_result_run *a, const struct pb_result_run *b)
{
    return strcmp(a->r.scenario.name, b->r.scenario.name) == 0 &&
           strcmp(strategy(a, "pool"), strategy(b, "pool")) == 0 &&
           strcmp(strategy(a, "queue"), strategy(b, "queue")) == 0 &&
           strcmp(strategy(a, "handoff"), strategy(b, "handoff")) == 0;
}

/* Params that say how long a run lasts or which random numbers it draws,
 * not what it does; and the strategies (in the key). */
static bool not_workload(const char *key)
{
    static const char *const skip[] = { "duration", "ops", "warmup", "seed",
                                        "pool", "queue", "handoff" };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(key, skip[i]) == 0)
            return true;
    return false;
}

static bool same_value(const json_t *a, const json_t *b)
{
    char ta[256], tb[256];
    if (pb_result_param_text(a, ta, sizeof ta) == 0 && pb_result_param_text(b, tb, sizeof tb) == 0)
        return strcmp(ta, tb) == 0;
    return json_equal((json_t *)a, (json_t *)b);
}

static void append(char *buf, size_t size, const char *sep, const char *text)
{
    size_t len = strlen(buf);
    /* Truncation is acceptable: the text is for a person; the return value
     * is only taken to say so. */
    if (len + 1 < size && snprintf(buf + len, size - len, "%s%s", len ? sep : "", text) < 0)
        buf[len] = 0;
}

/* Same workload: every workload param both have is equal. diff (may be
 * NULL): "key" or "key: a -> b" for each that is not, comma-separated. */
static bool same_workload(const struct pb_result_run *a, const struct pb_result_run *b,
                          bool with_values, char *diff, size_t difflen)
{
    if (diff && difflen)
        diff[0] = 0;
    if (!a->params || !b->params)
        return true;
    bool same = true;
    const char *key;
    json_t *va;
    json_object_foreach(a->params, key, va) {
        if (not_workload(key))
            continue;
        json_t *vb = json_object_get(b->params, key);
        if (!vb || same_value(va, vb))
            continue;
        same = false;
        if (diff) {
            char item[200], ta[64] = "?", tb[64] = "?";
            pb_result_param_text(va, ta, sizeof ta);
            pb_result_param_text(vb, tb, sizeof tb);
            if (with_values)
                snprintf(item, sizeof item, "%s %s -> %s", key, ta, tb);
            else
                snprintf(item, sizeof item, "%s=%s", key, ta);
            append(diff, difflen, ", ", item);
        }
    }
    return same;
}

static int group_side(const struct pb_result_doc *doc, struct side *s)
{
    s->g = calloc(doc->nruns ? doc->nruns : 1, sizeof *s->g);
    s->n = 0;
    if (!s->g)
        return -1;
    for (unsigned i = 0; i < doc->nruns; i++) {
        const struct pb_result_run *run = &doc->runs[i];
        struct group *g = NULL;
        for (unsigned k = 0; k < s->n && !g; k++)
            if (same_key(s->g[k].runs[0], run) && same_workload(s->g[k].runs[0], run, false, NULL, 0))
                g = &s->g[k];
        if (!g) {
            g = &s->g[s->n++];
            g->partner = -1;
        }
        if (g->n < PB_COMPARE_MAX_REPS)
            g->runs[g->n++] = run;
        else
            g->dropped++;
    }
    return 0;
}

static void match(struct side *b, struct side *n)
{
    for (unsigned i = 0; i < b->n; i++)
        for (unsigned k = 0; k < n->n; k++)
            if (n->g[k].partner < 0 && same_key(b->g[i].runs[0], n->g[k].runs[0]) &&
                same_workload(b->g[i].runs[0], n->g[k].runs[0], false, NULL, 0)) {
                b->g[i].partner = (int)k;
                n->g[k].partner = (int)i;
                break;
            }
    /* Left over: the only unmatched group with this key on each side. */
    for (unsigned i = 0; i < b->n; i++) {
        if (b->g[i].partner >= 0)
            continue;
        int cand = -1, count = 0;
        for (unsigned k = 0; k < n->n; k++)
            if (n->g[k].partner < 0 && same_key(b->g[i].runs[0], n->g[k].runs[0])) {
                cand = (int)k;
                count++;
            }
        int others = 0;
        for (unsigned j = 0; j < b->n; j++)
            if (j != i && b->g[j].partner < 0 && same_key(b->g[i].runs[0], b->g[j].runs[0]))
                others++;
        if (count == 1 && others == 0) {
            b->g[i].partner = cand;
            b->g[i].fuzzy = true;
            n->g[cand].partner = (int)i;
            n->g[cand].fuzzy = true;
        }
    }
}

/* The params that tell g from the groups with its key but another
 * workload, on either side ("requesters=4, workers=4"). */
static void workload_label(const struct group *g, const struct group *partner,
                           const struct side *sides[2], char *out, size_t size)
{
    out[0] = 0;
    char keys[512] = ",";
    for (int s = 0; s < 2; s++)
        for (unsigned k = 0; k < sides[s]->n; k++) {
            const struct pb_result_run *o = sides[s]->g[k].runs[0];
            /* A partner matched despite another workload says so in a warning. */
            if (o == g->runs[0] || (partner && o == partner->runs[0]) || !same_key(g->runs[0], o))
                continue;
            const char *key;
            json_t *va;
            if (!g->runs[0]->params || !o->params)
                continue;
            json_object_foreach(g->runs[0]->params, key, va) {
                json_t *vb = json_object_get(o->params, key);
                if (not_workload(key) || !vb || same_value(va, vb))
                    continue;
                char needle[80];
                snprintf(needle, sizeof needle, ",%s,", key);
                if (strstr(keys, needle))
                    continue;
                append(keys, sizeof keys, "", needle + 1);
                char text[64] = "?", item[160];
                pb_result_param_text(va, text, sizeof text);
                snprintf(item, sizeof item, "%s=%s", key, text);
                append(out, size, ", ", item);
            }
        }
}

static void run_label(const struct group *g, const char *workload, char *out, size_t size)
{
    const struct pb_result_run *r = g->runs[0];
    snprintf(out, size, "%s %s / %s / %s%s%s%s (%u repetition%s)", r->r.scenario.name,
             strategy(r, "pool"), strategy(r, "queue"), strategy(r, "handoff"),
             workload[0] ? " [" : "", workload, workload[0] ? "]" : "", g->n + g->dropped,
             g->n + g->dropped == 1 ? "" : "s");
}

/* ---- the figures ------------------------------------------------------------------- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median(const double *v, unsigned n)
{
    if (!n)
        return NAN;
    double s[PB_COMPARE_MAX_REPS];
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

/* One side's figure, per-repetition figures and, for latency, the merged
 * histogram's CI. Returns false when the side has no data. */
struct side_figures {
    double value;
    double values[PB_COMPARE_MAX_REPS];
    unsigned n;
    double ci_lo, ci_hi;
    uint64_t won, attempted;
};

static bool figures(const struct group *g, enum pb_metric m, double alpha, struct pb_hist *merged,
                    struct side_figures *f)
{
    memset(f, 0, sizeof *f);
    f->value = NAN;
    if (m == PB_METRIC_THROUGHPUT) {
        for (unsigned i = 0; i < g->n; i++)
            if (isfinite(g->runs[i]->r.throughput_ops_s))
                f->values[f->n++] = g->runs[i]->r.throughput_ops_s;
        f->value = median(f->values, f->n);
        return f->n > 0;
    }
    if (m == PB_METRIC_CANCEL) {
        for (unsigned i = 0; i < g->n; i++) {
            const struct pb_cancel_outcomes *c = &g->runs[i]->r.cancel;
            f->won += c->won;
            f->attempted += c->attempted;
            if (c->attempted)
                f->values[f->n++] = (double)c->won / (double)c->attempted;
        }
        if (!f->attempted)
            return false;
        f->value = (double)f->won / (double)f->attempted;
        return true;
    }
    double pct = metric_info[m].pct;
    pb_hist_init(merged);
    for (unsigned i = 0; i < g->n; i++) {
        const struct pb_hist *h = &g->runs[i]->r.total;
        pb_hist_merge(merged, h);
        if (h->count)
            f->values[f->n++] = (double)pb_hist_percentile(h, pct);
    }
    if (!merged->count)
        return false;
    f->value = (double)pb_hist_percentile(merged, pct);
    pb_hist_percentile_ci(merged, pct, 1 - alpha, &f->ci_lo, &f->ci_hi);
    return true;
}

static void fmt_p(char *buf, size_t size, double p)
{
    if (p < 0.001)
        snprintf(buf, size, "p<0.001");
    else
        snprintf(buf, size, "p=%.3f", p);
}

static void compare_metric(const struct group *gb, const struct group *gn, enum pb_metric m,
                           const struct pb_compare_opts *o, struct pb_hist *scratch,
                           struct pb_compare_metric *out)
{
    memset(out, 0, sizeof *out);
    out->metric = m;
    out->verdict = PB_VERDICT_NA;
    out->utest_p = out->proportion_p = NAN;
    out->base_ci_lo = out->base_ci_hi = out->new_ci_lo = out->new_ci_hi = NAN;
    struct side_figures fb, fn;
    bool hb = figures(gb, m, o->alpha, scratch, &fb);
    bool hn = figures(gn, m, o->alpha, scratch, &fn);
    out->base = fb.value;
    out->new_value = fn.value;
    out->n_base = fb.n;
    out->n_new = fn.n;
    memcpy(out->base_values, fb.values, fb.n * sizeof fb.values[0]);
    memcpy(out->new_values, fn.values, fn.n * sizeof fn.values[0]);
    if (!hb || !hn) {
        snprintf(out->note, sizeof out->note, "no data in %s",
                 !hb && !hn ? "either" : !hb ? "BASE" : "NEW");
        if (m == PB_METRIC_CANCEL)
            snprintf(out->note, sizeof out->note, "no cancels in %s",
                     !hb && !hn ? "either" : !hb ? "BASE" : "NEW");
        return;
    }
    out->available = true;
    if (m == PB_METRIC_CANCEL)
        out->change = (fn.value - fb.value) * 100;
    else if (fb.value != 0)
        out->change = (fn.value - fb.value) / fabs(fb.value) * 100;
    else
        out->change = fn.value == 0 ? 0 : fn.value > 0 ? INFINITY : -INFINITY;

    char u[48] = "", pooled[48] = "";
    if (fb.n && fn.n && pb_mann_whitney_min_p(fb.n, fn.n) <= o->alpha) {
        out->utest = true;
        out->utest_p = pb_mann_whitney_p(fb.values, fb.n, fn.values, fn.n, NULL);
        char p[24];
        fmt_p(p, sizeof p, out->utest_p);
        snprintf(u, sizeof u, "U %s (%u/%u)", p, fb.n, fn.n);
    }
    bool pooled_sig = true, u_sig = !out->utest || out->utest_p <= o->alpha;
    if (metric_info[m].pct > 0) {
        out->pooled = true;
        out->base_ci_lo = fb.ci_lo;
        out->base_ci_hi = fb.ci_hi;
        out->new_ci_lo = fn.ci_lo;
        out->new_ci_hi = fn.ci_hi;
        out->ci_disjoint = fb.ci_hi < fn.ci_lo || fn.ci_hi < fb.ci_lo;
        pooled_sig = out->ci_disjoint;
        snprintf(pooled, sizeof pooled, "CI %s", out->ci_disjoint ? "disjoint" : "overlap");
    } else if (m == PB_METRIC_CANCEL) {
        out->pooled = true;
        out->proportion_p = pb_two_proportion_p(fb.won, fb.attempted, fn.won, fn.attempted);
        pooled_sig = out->proportion_p <= o->alpha;
        char p[24];
        fmt_p(p, sizeof p, out->proportion_p);
        snprintf(pooled, sizeof pooled, "counts %s", p);
    }
    out->tested = out->utest || out->pooled;
    out->significant = out->tested && u_sig && pooled_sig;

    double mag = fabs(out->change);
    bool beyond = mag > o->threshold_pct;
    bool better = metric_info[m].higher_better ? out->change > 0 : out->change < 0;
    if ((out->significant || !out->tested) && beyond)
        out->verdict = better ? PB_VERDICT_IMPROVED : PB_VERDICT_REGRESSED;
    else
        out->verdict = PB_VERDICT_UNCHANGED;

    char few[48] = "";
    if (!out->utest)
        snprintf(few, sizeof few, "%u/%u reps: no U test", fb.n, fn.n);
    if (!out->tested)
        snprintf(out->note, sizeof out->note, "untested (%s), threshold only", few);
    else if (out->utest && pooled[0])
        snprintf(out->note, sizeof out->note, "%s, %s", u, pooled);
    else if (out->utest)
        snprintf(out->note, sizeof out->note, "%s", u);
    else
        snprintf(out->note, sizeof out->note, "%s (%s)", pooled, few);
}

static void row_warning(struct pb_compare_row *row, const char *fmt, const char *side,
                        const char *detail)
{
    if (row->nwarnings < sizeof row->warnings / sizeof row->warnings[0] &&
        snprintf(row->warnings[row->nwarnings], sizeof row->warnings[0], fmt, side, detail) >= 0)
        row->nwarnings++;
}

static void side_warnings(struct pb_compare_row *row, const struct group *g, const char *side)
{
    unsigned partial = 0, failed = 0, empty = 0;
    const char *why = "";
    for (unsigned i = 0; i < g->n; i++) {
        partial += g->runs[i]->r.partial;
        empty += g->runs[i]->r.total.count == 0;
        if (!g->runs[i]->r.invariants.ok) {
            if (!failed)
                why = g->runs[i]->r.invariants.why;
            failed++;
        }
    }
    char detail[160];
    if (partial) {
        snprintf(detail, sizeof detail, "%u of %u", partial, g->n);
        row_warning(row, "%s: %s repetitions partial (stopped early): compare with care", side,
                    detail);
    }
    if (empty) {
        /* Its throughput (0) still counts in the median: it is what was measured. */
        snprintf(detail, sizeof detail, "%u of %u", empty, g->n);
        row_warning(row, "%s: %s repetitions measured no operation", side, detail);
    }
    if (failed) {
        snprintf(detail, sizeof detail, "%u of %u repetitions: %.120s", failed, g->n, why);
        row_warning(row, "%s: invariants FAILED in %s", side, detail);
    }
    if (g->dropped) {
        snprintf(detail, sizeof detail, "%u", g->dropped);
        row_warning(row, "%s: more than 64 repetitions; %s ignored", side, detail);
    }
}

static void doc_warning(struct pb_comparison *c, const char *text)
{
    if (c->nwarnings < sizeof c->warnings / sizeof c->warnings[0])
        snprintf(c->warnings[c->nwarnings++], sizeof c->warnings[0], "%s", text);
}

static void context_warnings(struct pb_comparison *c, const struct pb_result_doc *b,
                             const struct pb_result_doc *n)
{
    char text[240];
    if ((b->ctx.host[0] && n->ctx.host[0] && strcmp(b->ctx.host, n->ctx.host) != 0) ||
        (b->ctx.cpu_model[0] && n->ctx.cpu_model[0] &&
         strcmp(b->ctx.cpu_model, n->ctx.cpu_model) != 0)) {
        snprintf(text, sizeof text, "measured on different machines: BASE %.40s (%.50s), NEW %.40s (%.50s)",
                 b->ctx.host, b->ctx.cpu_model, n->ctx.host, n->ctx.cpu_model);
        doc_warning(c, text);
    }
    if (b->ctx.partial)
        doc_warning(c, "BASE: the session was interrupted (partial): some runs may be missing");
    if (n->ctx.partial)
        doc_warning(c, "NEW: the session was interrupted (partial): some runs may be missing");
}

static void list_groups(const struct side *s, char *out, size_t size)
{
    out[0] = 0;
    for (unsigned i = 0; i < s->n && i < 3; i++) {
        const struct pb_result_run *r = s->g[i].runs[0];
        char item[200];
        snprintf(item, sizeof item, "%s %s/%s/%s", r->r.scenario.name, strategy(r, "pool"),
                 strategy(r, "queue"), strategy(r, "handoff"));
        append(out, size, ", ", item);
    }
    if (s->n > 3) {
        char more[32];
        snprintf(more, sizeof more, "and %u more", s->n - 3);
        append(out, size, ", ", more);
    }
    if (!s->n)
        snprintf(out, size, "no runs");
}

int pb_compare_docs(const struct pb_result_doc *base, const struct pb_result_doc *new_doc,
                    const struct pb_compare_opts *opts, struct pb_comparison *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->opts = *opts;
    struct side sb = { 0 }, sn = { 0 };
    struct pb_hist *scratch = malloc(sizeof *scratch);
    int rc = -1;
    if (!scratch || group_side(base, &sb) != 0 || group_side(new_doc, &sn) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    match(&sb, &sn);
    unsigned matched = 0;
    for (unsigned i = 0; i < sb.n; i++)
        matched += sb.g[i].partner >= 0;
    if (!matched) {
        char lb[400], ln[400];
        list_groups(&sb, lb, sizeof lb);
        list_groups(&sn, ln, sizeof ln);
        snprintf(err, errlen, "no runs in common (BASE: %s; NEW: %s)", lb, ln);
        goto out;
    }
    out->rows = calloc(matched, sizeof *out->rows);
    out->only_base = calloc(sb.n ? sb.n : 1, sizeof *out->only_base);
    out->only_new = calloc(sn.n ? sn.n : 1, sizeof *out->only_new);
    if (!out->rows || !out->only_base || !out->only_new) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    const struct side *both[2] = { &sb, &sn };
    for (unsigned i = 0; i < sb.n; i++) {
        const struct group *gb = &sb.g[i];
        char wl[160];
        workload_label(gb, gb->partner >= 0 ? &sn.g[gb->partner] : NULL, both, wl, sizeof wl);
        if (gb->partner < 0) {
            run_label(gb, wl, out->only_base[out->nonly_base++], sizeof out->only_base[0]);
            continue;
        }
        const struct group *gn = &sn.g[gb->partner];
        struct pb_compare_row *row = &out->rows[out->nrows++];
        const struct pb_result_run *r = gb->runs[0];
        snprintf(row->scenario, sizeof row->scenario, "%s", r->r.scenario.name);
        snprintf(row->pool, sizeof row->pool, "%s", strategy(r, "pool"));
        snprintf(row->queue, sizeof row->queue, "%s", strategy(r, "queue"));
        snprintf(row->handoff, sizeof row->handoff, "%s", strategy(r, "handoff"));
        snprintf(row->workload, sizeof row->workload, "%s", wl);
        row->reps_base = gb->n;
        row->reps_new = gn->n;
        if (gb->fuzzy) {
            char diff[180];
            same_workload(gb->runs[0], gn->runs[0], true, diff, sizeof diff);
            row_warning(row, "%s differs: %s", "workload", diff);
        }
        side_warnings(row, gb, "BASE");
        side_warnings(row, gn, "NEW");
        row->verdict = PB_VERDICT_NA;
        for (unsigned m = 0; m < PB_METRIC_COUNT; m++) {
            if (!(opts->metrics & (1u << m)))
                continue;
            struct pb_compare_metric *cm = &row->metrics[row->nmetrics++];
            compare_metric(gb, gn, (enum pb_metric)m, opts, scratch, cm);
            switch (cm->verdict) {
            case PB_VERDICT_REGRESSED: out->regressed++; break;
            case PB_VERDICT_IMPROVED: out->improved++; break;
            case PB_VERDICT_UNCHANGED: out->unchanged++; break;
            default: out->not_available++; break;
            }
            if (cm->verdict > row->verdict)   /* n/a < unchanged < improved < regressed */
                row->verdict = cm->verdict;
        }
    }
    for (unsigned k = 0; k < sn.n; k++)
        if (sn.g[k].partner < 0) {
            char wl[160];
            workload_label(&sn.g[k], NULL, both, wl, sizeof wl);
            run_label(&sn.g[k], wl, out->only_new[out->nonly_new++], sizeof out->only_new[0]);
        }
    context_warnings(out, base, new_doc);
    rc = 0;
out:
    free(scratch);
    free(sb.g);
    free(sn.g);
    if (rc != 0)
        pb_comparison_free(out);
    return rc;
}

void pb_comparison_free(struct pb_comparison *c)
{
    if (!c)
        return;
    free(c->rows);
    free(c->only_base);
    free(c->only_new);
    memset(c, 0, sizeof *c);
}

/* ---- output --------------------------------------------------------------------- */

static const char *fmt_value(enum pb_metric m, double v, char *buf, size_t size)
{
    if (!isfinite(v))
        snprintf(buf, size, "-");
    else if (m == PB_METRIC_THROUGHPUT)
        snprintf(buf, size, v >= 1e6 ? "%.3f M/s" : v >= 1e3 ? "%.2f k/s" : "%.0f /s",
                 v >= 1e6 ? v / 1e6 : v >= 1e3 ? v / 1e3 : v);
    else if (m == PB_METRIC_CANCEL)
        snprintf(buf, size, "%.2f%%", v * 100);
    else if (v < 1000)
        snprintf(buf, size, "%.0f ns", v);
    else if (v < 1e6)
        snprintf(buf, size, "%.2f us", v / 1e3);
    else if (v < 1e9)
        snprintf(buf, size, "%.2f ms", v / 1e6);
    else
        snprintf(buf, size, "%.2f s", v / 1e9);
    return buf;
}

static const char *fmt_change(const struct pb_compare_metric *m, char *buf, size_t size)
{
    if (!m->available)
        snprintf(buf, size, "-");
    else if (!isfinite(m->change))
        snprintf(buf, size, "%sinf%%", m->change > 0 ? "+" : "-");
    else if (m->metric == PB_METRIC_CANCEL)
        snprintf(buf, size, "%+.2f pp", m->change);
    else
        snprintf(buf, size, "%+.1f%%", m->change);
    return buf;
}

static void print_side(FILE *out, const char *label, const char *name, const struct pb_context *c)
{
    fprintf(out, "%-4s %s", label, name);
    if (c && c->date[0])
        fprintf(out, "  %s", c->date);
    if (c && c->git_commit[0])
        fprintf(out, "  commit %s", c->git_commit);
    if (c && c->host[0])
        fprintf(out, "  on %s", c->host);
    fprintf(out, "\n");
}

void pb_compare_print(FILE *out, const struct pb_comparison *c, const char *base_name,
                      const struct pb_context *base_ctx, const char *new_name,
                      const struct pb_context *new_ctx)
{
    print_side(out, "BASE", base_name, base_ctx);
    print_side(out, "NEW", new_name, new_ctx);
    for (unsigned w = 0; w < c->nwarnings; w++)
        fprintf(out, "warning: %s\n", c->warnings[w]);
    fprintf(out, "\n%-13s %-34s %-10s %12s %12s %9s  %-34s %s\n", "scenario",
            "pool / queue / handoff", "metric", "base", "new", "change", "test", "verdict");
    for (unsigned i = 0; i < c->nrows; i++) {
        const struct pb_compare_row *r = &c->rows[i];
        char strat[160];
        snprintf(strat, sizeof strat, "%s / %s / %s", r->pool, r->queue, r->handoff);
        for (unsigned k = 0; k < r->nmetrics; k++) {
            const struct pb_compare_metric *m = &r->metrics[k];
            char vb[32], vn[32], ch[32];
            const char *verdict = m->verdict == PB_VERDICT_UNCHANGED ? "no significant change"
                                                                     : pb_verdict_name(m->verdict);
            fprintf(out, "%-13.13s %-34.34s %-10s %12s %12s %9s  %-34s %s\n",
                    k == 0 ? r->scenario : "", k == 0 ? strat : "", pb_metric_name(m->metric),
                    fmt_value(m->metric, m->base, vb, sizeof vb),
                    fmt_value(m->metric, m->new_value, vn, sizeof vn), fmt_change(m, ch, sizeof ch),
                    m->note, verdict);
        }
        if (r->workload[0])
            fprintf(out, "%-13s   [%s]\n", "", r->workload);
        for (unsigned w = 0; w < r->nwarnings; w++)
            fprintf(out, "%-13s   ! %s\n", "", r->warnings[w]);
    }
    if (c->nonly_base || c->nonly_new)
        fprintf(out, "\n");
    for (unsigned i = 0; i < c->nonly_base; i++)
        fprintf(out, "only in BASE: %s\n", c->only_base[i]);
    for (unsigned i = 0; i < c->nonly_new; i++)
        fprintf(out, "only in NEW:  %s\n", c->only_new[i]);
    fprintf(out, "\n%u regressed, %u improved, %u unchanged", c->regressed, c->improved,
            c->unchanged);
    if (c->not_available)
        fprintf(out, ", %u n/a", c->not_available);
    fprintf(out, " (%u run%s compared; threshold %g%%, alpha %g)\n", c->nrows,
            c->nrows == 1 ? "" : "s", c->opts.threshold_pct, c->opts.alpha);
}

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *side_json(const char *name, const struct pb_context *ctx)
{
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(name));
    if (ctx) {
        json_object_set_new(o, "date", json_string(ctx->date));
        json_object_set_new(o, "git_commit", json_string(ctx->git_commit));
        json_object_set_new(o, "host", json_string(ctx->host));
        json_object_set_new(o, "cpu_model", json_string(ctx->cpu_model));
        json_object_set_new(o, "partial", json_boolean(ctx->partial));
    }
    return o;
}

static json_t *values_json(const double *v, unsigned n)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(a, jnum(v[i]));
    return a;
}

static json_t *metric_json(const struct pb_compare_metric *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "metric", json_string(pb_metric_name(m->metric)));
    json_object_set_new(o, "unit", json_string(metric_info[m->metric].unit));
    json_object_set_new(o, "better", json_string(metric_info[m->metric].higher_better ? "higher" : "lower"));
    json_object_set_new(o, "available", json_boolean(m->available));
    json_object_set_new(o, "base", jnum(m->base));
    json_object_set_new(o, "new", jnum(m->new_value));
    json_object_set_new(o, m->metric == PB_METRIC_CANCEL ? "change_points" : "change_pct",
                        m->available ? jnum(m->change) : json_null());
    json_object_set_new(o, "base_repetitions", values_json(m->base_values, m->n_base));
    json_object_set_new(o, "new_repetitions", values_json(m->new_values, m->n_new));
    if (m->utest) {
        json_t *u = json_object();
        json_object_set_new(u, "p_value", jnum(m->utest_p));
        json_object_set_new(u, "n_base", json_integer(m->n_base));
        json_object_set_new(u, "n_new", json_integer(m->n_new));
        json_object_set_new(o, "mann_whitney", u);
    } else {
        json_object_set_new(o, "mann_whitney", json_null());
    }
    if (m->pooled && m->metric == PB_METRIC_CANCEL) {
        json_t *t = json_object();
        json_object_set_new(t, "p_value", jnum(m->proportion_p));
        json_object_set_new(o, "proportion_test", t);
    } else if (m->pooled) {
        json_t *t = json_object();
        json_t *bci = json_array(), *nci = json_array();
        json_array_append_new(bci, jnum(m->base_ci_lo));
        json_array_append_new(bci, jnum(m->base_ci_hi));
        json_array_append_new(nci, jnum(m->new_ci_lo));
        json_array_append_new(nci, jnum(m->new_ci_hi));
        json_object_set_new(t, "base_ci_ns", bci);
        json_object_set_new(t, "new_ci_ns", nci);
        json_object_set_new(t, "disjoint", json_boolean(m->ci_disjoint));
        json_object_set_new(o, "histogram_ci", t);
    }
    json_object_set_new(o, "tested", json_boolean(m->tested));
    json_object_set_new(o, "significant", json_boolean(m->significant));
    json_object_set_new(o, "verdict", json_string(pb_verdict_name(m->verdict)));
    json_object_set_new(o, "note", json_string(m->note));
    return o;
}

int pb_compare_print_json(FILE *out, const struct pb_comparison *c, const char *base_name,
                          const struct pb_context *base_ctx, const char *new_name,
                          const struct pb_context *new_ctx)
{
    json_t *root = json_object();
    json_object_set_new(root, "base", side_json(base_name, base_ctx));
    json_object_set_new(root, "new", side_json(new_name, new_ctx));
    json_object_set_new(root, "threshold_pct", json_real(c->opts.threshold_pct));
    json_object_set_new(root, "alpha", json_real(c->opts.alpha));
    json_t *warn = json_array();
    for (unsigned w = 0; w < c->nwarnings; w++)
        json_array_append_new(warn, json_string(c->warnings[w]));
    json_object_set_new(root, "warnings", warn);
    json_t *runs = json_array();
    for (unsigned i = 0; i < c->nrows; i++) {
        const struct pb_compare_row *r = &c->rows[i];
        json_t *o = json_object(), *st = json_object(), *ms = json_array(), *rw = json_array();
        json_object_set_new(o, "scenario", json_string(r->scenario));
        json_object_set_new(st, "pool", json_string(r->pool));
        json_object_set_new(st, "queue", json_string(r->queue));
        json_object_set_new(st, "handoff", json_string(r->handoff));
        json_object_set_new(o, "strategies", st);
        json_object_set_new(o, "workload", json_string(r->workload));
        json_object_set_new(o, "repetitions_base", json_integer(r->reps_base));
        json_object_set_new(o, "repetitions_new", json_integer(r->reps_new));
        json_object_set_new(o, "verdict", json_string(pb_verdict_name(r->verdict)));
        for (unsigned k = 0; k < r->nmetrics; k++)
            json_array_append_new(ms, metric_json(&r->metrics[k]));
        json_object_set_new(o, "metrics", ms);
        for (unsigned w = 0; w < r->nwarnings; w++)
            json_array_append_new(rw, json_string(r->warnings[w]));
        json_object_set_new(o, "warnings", rw);
        json_array_append_new(runs, o);
    }
    json_object_set_new(root, "runs", runs);
    json_t *ob = json_array(), *on = json_array();
    for (unsigned i = 0; i < c->nonly_base; i++)
        json_array_append_new(ob, json_string(c->only_base[i]));
    for (unsigned i = 0; i < c->nonly_new; i++)
        json_array_append_new(on, json_string(c->only_new[i]));
    json_object_set_new(root, "only_in_base", ob);
    json_object_set_new(root, "only_in_new", on);
    json_t *sum = json_object();
    json_object_set_new(sum, "regressed", json_integer(c->regressed));
    json_object_set_new(sum, "improved", json_integer(c->improved));
    json_object_set_new(sum, "unchanged", json_integer(c->unchanged));
    json_object_set_new(sum, "not_available", json_integer(c->not_available));
    json_object_set_new(root, "summary", sum);
    json_object_set_new(root, "exit_status", json_integer(c->regressed ? 1 : 0));
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (rc == 0)
        fputc('\n', out);
    fflush(out);
    json_decref(root);
    return rc == 0 ? 0 : -1;
}

/* ---- the command ---------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench compare BASE.json NEW.json [--threshold PCT] [--alpha A]\n"
            "                         [--metric M]... [--json]\n"
            "       pendbench compare --baseline last|COMMIT [--history-db PATH] NEW.json [...]\n"
            "\n"
            "Matches the runs of two result files by scenario, strategies and workload, and\n"
            "for each shows the change in throughput (median of the repetitions), p50, p99\n"
            "and p99.9 total latency (from the merged histograms: never averaged) and the\n"
            "cancel success rate (won / attempted, in percentage points), with a verdict:\n"
            "improved, regressed, or no significant change.\n"
            "\n"
            "Significance: a Mann-Whitney U test on the per-repetition figures (as Google\n"
            "Benchmark's compare.py; needs 4 repetitions a side for alpha 0.05: run with\n"
            "--repeat 5), and for latency the percentiles' confidence intervals in the\n"
            "merged histograms (for cancel: a test of the summed counts). Every test that\n"
            "can run must agree. With too few repetitions throughput is untested and its\n"
            "verdict is the threshold alone.\n"
            "\n"
            "  --threshold PCT   a change must exceed PCT percent (cancel: points) to count\n"
            "                    (default 5)\n"
            "  --alpha A         significance level, 0 < A < 1 (default 0.05)\n"
            "  --metric M        throughput, p50, p99, p999, cancel; repeat or comma-separate\n"
            "                    (default all)\n"
            "  --json            the comparison as JSON on stdout instead of the table\n"
            "  --baseline SPEC   compare against a recorded run: 'last', or a git commit\n"
            "                    (a prefix of 4+ hex digits) from the history database\n"
            "  --history-db PATH the history database (default " PB_HISTORY_DEFAULT ")\n"
            "\n"
            "Exit status: 0 nothing regressed beyond the threshold, 1 something did, 2 bad\n"
            "input (a missing file, not a pendbench result, a schema version this build\n"
            "cannot read, no runs in common, bad options).\n");
}

static int bad_usage(FILE *err, const char *fmt, const char *arg)
{
    fprintf(err, "pendbench compare: ");
    fprintf(err, fmt, arg);
    fprintf(err, "\n(see `pendbench compare --help`)\n");
    return 2;
}

static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v))
        return false;
    if (*end == '%' && end[1] == 0)
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

static int add_metrics(const char *list, unsigned *set)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        enum pb_metric m;
        if (pb_metric_parse(t, &m) != 0)
            return -1;
        *set |= 1u << m;
        n++;
    }
    return n ? 0 : -1;
}

int pb_compare_main(int argc, char **argv, FILE *out, FILE *err)
{
    struct pb_compare_opts opts;
    pb_compare_opts_default(&opts);
    unsigned metrics = 0;
    bool json = false, only_files = false;
    const char *baseline = NULL, *db = PB_HISTORY_DEFAULT;
    const char *files[2];
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (!only_files && strcmp(a, "--") == 0) {
                only_files = true;
                continue;
            }
            if (!only_files && (strcmp(a, "-h") == 0)) {
                usage(out);
                return 0;
            }
            if (nfiles == 2)
                return bad_usage(err, "too many files ('%s'): expected BASE.json NEW.json", a);
            files[nfiles++] = a;
            continue;
        }
        char key[32];
        const char *eq = strchr(a + 2, '=');
        size_t klen = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        if (klen >= sizeof key)
            return bad_usage(err, "unknown option '%s'", a);
        memcpy(key, a + 2, klen);
        key[klen] = 0;
        if (strcmp(key, "help") == 0) {
            usage(out);
            return 0;
        }
        if (strcmp(key, "json") == 0 && !eq) {
            json = true;
            continue;
        }
        static const char *const valued[] = { "threshold", "alpha", "metric", "baseline",
                                              "history-db" };
        bool known = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            known |= strcmp(key, valued[k]) == 0;
        if (!known)
            return bad_usage(err, "unknown option '%s'", a);
        const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!v)
            return bad_usage(err, "%s needs a value", a);
        if (strcmp(key, "threshold") == 0) {
            if (!parse_double(v, &opts.threshold_pct) || opts.threshold_pct < 0)
                return bad_usage(err, "--threshold: '%s' is not a percentage >= 0", v);
        } else if (strcmp(key, "alpha") == 0) {
            if (!parse_double(v, &opts.alpha) || !(opts.alpha > 0 && opts.alpha < 1))
                return bad_usage(err, "--alpha: '%s' is not a level between 0 and 1 (exclusive)", v);
        } else if (strcmp(key, "metric") == 0) {
            if (add_metrics(v, &metrics) != 0)
                return bad_usage(err, "--metric: '%s' is not a list of throughput, p50, p99, "
                                      "p999, cancel", v);
        } else if (strcmp(key, "baseline") == 0) {
            if (!v[0])
                return bad_usage(err, "--baseline wants 'last' or a git commit%s", "");
            baseline = v;
        } else {
            if (!v[0])
                return bad_usage(err, "--history-db wants a path%s", "");
            db = v;
        }
    }
    if (metrics)
        opts.metrics = metrics;
    if (baseline && nfiles != 1)
        return bad_usage(err, "with --baseline, give one file: NEW.json%s", "");
    if (!baseline && nfiles != 2)
        return bad_usage(err, "expected two files, BASE.json NEW.json (or --baseline last|COMMIT "
                              "NEW.json)%s", "");

    struct pb_result_doc base, new_doc;
    memset(&base, 0, sizeof base);
    memset(&new_doc, 0, sizeof new_doc);
    char msg[1024], base_name[300];
    int status = 2;
    if (baseline) {
        snprintf(base_name, sizeof base_name, "history:%s (%s)", baseline, db);
        /* A missing, damaged or locked database is the history's message. */
        if (pb_history_find(db, baseline, &base, msg, sizeof msg) != 0) {
            fprintf(err, "pendbench compare: --baseline %s: %s\n", baseline, msg);
            return 2;
        }
    } else {
        snprintf(base_name, sizeof base_name, "%s", files[0]);
        if (pb_result_read(files[0], &base, msg, sizeof msg) != 0) {
            fprintf(err, "pendbench compare: %s\n", msg);
            return 2;
        }
    }
    const char *new_name = files[nfiles - 1];
    if (pb_result_read(new_name, &new_doc, msg, sizeof msg) != 0) {
        fprintf(err, "pendbench compare: %s\n", msg);
        goto done;
    }
    struct pb_comparison c;
    if (pb_compare_docs(&base, &new_doc, &opts, &c, msg, sizeof msg) != 0) {
        fprintf(err, "pendbench compare: %s vs %s: %s\n", base_name, new_name, msg);
        goto done;
    }
    if (json) {
        if (pb_compare_print_json(out, &c, base_name, &base.ctx, new_name, &new_doc.ctx) != 0) {
            fprintf(err, "pendbench compare: cannot write the JSON output\n");
            pb_comparison_free(&c);
            goto done;
        }
    } else {
        pb_compare_print(out, &c, base_name, &base.ctx, new_name, &new_doc.ctx);
        fflush(out);
    }
    status = c.regressed ? 1 : 0;
    pb_comparison_free(&c);
done:
    pb_result_doc_free(&base);
    pb_result_doc_free(&new_doc);
    return status;
}
