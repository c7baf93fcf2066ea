/* The run history (pb_history.h), its trend, export and change points
 * (pb_export.h), over either backend (history_db.h).
 *
 * Layout (version 4; the same on SQLite and PostgreSQL):
 *   invocations  one row per recorded command: its context, its run_id
 *                (the identity of the invocation, so a result is never its
 *                own baseline and an import is recorded once), the
 *                machine identity (machine: "host (CPU model; topology
 *                summary)", so series are per machine; topology_summary;
 *                kernel), the result file's path (NULL when none was
 *                written) and the whole result document as text
 *                (result_json), so any past invocation can be read back
 *                exactly, histograms included.
 *   runs         one row per run (repetition) of an invocation: the run key
 *                (scenario, strategies, and the canonical workload text of
 *                pb_runkey.h, which holds a chosen lock as "lock=NAME":
 *                no column of its own, and a run under each strategy's
 *                default lock keeps the text recorded before locks),
 *                thread counts, the figures a trend follows, and others_pct
 *                (how much of the machine's CPU time other processes took
 *                in the run's window: the trend marks, and --skip-busy
 *                leaves out, the points measured beside busy processes).
 *   pendbench_compat  (from layout 4) the oldest layouts whose builds may
 *                read and write the database (history_db.h).
 * A record is one transaction that holds the writer's lock from its start.
 * Nothing here touches the result file: a damaged, locked or unreachable
 * database costs the record, never the results.
 *
 * Older layouts (SQLite 1: no run_id; 2: no machine, no workload; SQLite
 * and PostgreSQL 3: no others_pct) are read as they are and upgraded in
 * place by the first record written into them; their rows keep a NULL
 * workload and machine, and a trend keys them by thread counts and host
 * instead; their others_pct is filled in from the stored documents that
 * have it (fill_others_pct). */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "history_db.h"
#include "pb_changes.h"
#include "pb_compare.h"
#include "pb_env.h"
#include "pb_err.h"
#include "pb_export.h"
#include "pb_file.h"
#include "pb_grow.h"
#include "pb_history.h"
#include "pb_html.h"
#include "pb_runkey.h"
#include "result_internal.h"

bool pb_history_is_server(const char *spec)
{
    return hdb_is_server(spec);
}

/* ---- parameters (always text: history_db.h) --------------------------------------- */

#define MAX_PARAMS 24

struct params {
    const char *v[MAX_PARAMS];
    char buf[MAX_PARAMS][40];
    unsigned n;
};

static void p_text(struct params *p, const char *s)
{
    p->v[p->n++] = s;
}

static void p_int(struct params *p, int64_t x)
{
    snprintf(p->buf[p->n], sizeof p->buf[0], "%lld", (long long)x);
    p->v[p->n] = p->buf[p->n];
    p->n++;
}

/* Not finite (never expected): NULL rather than a value a database mangles. */
static void p_real(struct params *p, double x)
{
    if (!isfinite(x)) {
        p->v[p->n++] = NULL;
        return;
    }
    snprintf(p->buf[p->n], sizeof p->buf[0], "%.17g", x);
    p->v[p->n] = p->buf[p->n];
    p->n++;
}

static int64_t clamp_i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* ---- a damaged history ------------------------------------------------------------- */

/* The one message of a value the history holds that its writer never
 * writes (a hand or a bad disk edited it): "<db>: a damaged history:
 * invocation 3[, runs row 17]: <column>: <why>". -1. */
static int damaged(char *err, size_t errlen, const char *db, int64_t invocation, int64_t row,
                   const char *column, const char *why)
{
    char at[48] = "";
    if (row >= 0)
        snprintf(at, sizeof at, ", runs row %lld", (long long)row);
    snprintf(err, errlen, "%s: a damaged history: invocation %lld%s: %s: %s", db,
             (long long)invocation, at, column, why);
    return -1;
}

/* A text cell the history prints, checked as the result reader checks a
 * file's strings (pb_text_ok): the record writes its text through
 * pb_text_clean, so a control character is damage; printed, "\x1b[2J"
 * cleared the terminal. 0, or -1 with damaged()'s message. */
static int check_text_cell(const char *db, const struct hdb_res *res, unsigned r, unsigned col,
                           const char *column, int64_t invocation, int64_t row, char *err,
                           size_t errlen)
{
    const char *t = hdb_text(res, r, col);
    if (pb_text_ok(t))
        return 0;
    char shown[96], why[160];
    snprintf(why, sizeof why, "\"%s\" holds a control character",
             pb_text_escape(t, shown, sizeof shown));
    return damaged(err, errlen, db, invocation, row, column, why);
}

/* Invocation's stored result document, read as pb_history_find reads it
 * and named as every reader names it (name: the database's; commit: the
 * invocation's git_commit, checked): "<db> (invocation 3 at abcd1234)".
 * 0; -2 when it is of a newer schema_version than this build reads (a
 * newer pendbench on a shared history wrote it: not damage); -1 with a
 * message naming it when there is none or it does not read. On failure
 * *out is empty. */
static int read_stored_result(struct hdb *db, const char *name, int64_t invocation,
                              const char *commit, struct pb_result_doc *out, char *err,
                              size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct params p = { .n = 0 };
    p_int(&p, invocation);
    struct hdb_res res = { 0 };
    if (hdb_query(db, "SELECT result_json FROM invocations WHERE id = CAST($1 AS BIGINT)", p.v,
                  p.n, &res, err, errlen) != 0)
        return -1;
    char docname[700];
    snprintf(docname, sizeof docname, "%s (invocation %lld at %s)", name, (long long)invocation,
             commit && commit[0] ? commit : "an unknown commit");
    int ret = -1;
    if (res.nrows == 0 || hdb_null(&res, 0, 0))
        snprintf(err, errlen, "%s: no result document", docname);
    else
        ret = pb_result_read_string(hdb_text(&res, 0, 0), docname, out, err, errlen);
    hdb_res_free(&res);
    return ret;
}

/* ---- the machine identity ----------------------------------------------------------- */

/* "2 PUs, SMT off, L3 32 MiB" from what the context knows; "" for a context
 * nobody measured (no CPU count). */
static void topology_summary(const struct pb_context *c, char *out, size_t size)
{
    out[0] = 0;
    if (!c->ncpus_online)
        return;
    size_t used = 0;
    used += (size_t)snprintf(out, size, "%u PU%s", c->ncpus_online, c->ncpus_online == 1 ? "" : "s");
    if (c->env.smt_active >= 0 && used < size)
        used += (size_t)snprintf(out + used, size - used, ", SMT %s",
                                 c->env.smt_active ? "on" : "off");
    const struct pb_cache_info *top = NULL;
    for (unsigned i = 0; i < c->env.ncaches && i < PB_ENV_MAX_CACHES; i++)
        if (!top || c->env.caches[i].level > top->level)
            top = &c->env.caches[i];
    if (top && top->size_bytes && used < size) {
        uint64_t kib = top->size_bytes / 1024;
        if (kib >= 1024 && kib % 1024 == 0)
            used += (size_t)snprintf(out + used, size - used, ", L%u %llu MiB", top->level,
                                     (unsigned long long)(kib / 1024));
        else
            used += (size_t)snprintf(out + used, size - used, ", L%u %llu KiB", top->level,
                                     (unsigned long long)kib);
    }
    if (c->topology[0] && strcmp(c->topology, "machine") != 0 && used < size)
        snprintf(out + used, size - used, ", topology %.100s", c->topology);
}

/* "host (CPU model; summary)", or just the host when nothing else is known. */
static void machine_identity(const struct pb_context *c, const char *summary, char *out,
                             size_t size)
{
    const char *host = c->host[0] ? c->host : "unknown";
    bool cpu = c->cpu_model[0] && strcmp(c->cpu_model, "unknown") != 0;
    if (cpu && summary[0])
        snprintf(out, size, "%.127s (%.127s; %.200s)", host, c->cpu_model, summary);
    else if (cpu || summary[0])
        snprintf(out, size, "%.127s (%.200s)", host, cpu ? c->cpu_model : summary);
    else
        snprintf(out, size, "%.127s", host);
}

/* ---- record ------------------------------------------------------------------------ */

/* The document as the result file has it, in memory. */
static char *document_text(const struct pb_context *ctx, const struct pb_run_result *runs,
                           unsigned nruns, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char e[256] = "";
    int rc = pb_result_write_stream(f, ctx, runs, nruns, e, sizeof e);
    if (fclose(f) != 0 || rc != 0) {
        snprintf(err, errlen, "cannot build the result document: %s", e[0] ? e : "out of memory");
        free(buf);
        return NULL;
    }
    return buf;
}

struct record_in {
    const struct pb_context *ctx;
    const struct pb_run_result *const *runs;
    const char *const *workloads;      /* per run, canonical; NULL entries: unknown */
    unsigned nruns;
    const char *json;                  /* the document */
    const char *result_path;           /* may be NULL */
    const char *identity;              /* the run_id column; NULL: none */
};

static int insert_clean(struct hdb *db, const struct record_in *in, const struct pb_context *ctx,
                        char *err, size_t errlen)
{
    char date[32];
    if (ctx->date[0]) {
        snprintf(date, sizeof date, "%s", ctx->date);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    char summary[256], machine[512];
    topology_summary(ctx, summary, sizeof summary);
    machine_identity(ctx, summary, machine, sizeof machine);
    struct params p = { .n = 0 };
    p_text(&p, date);
    p_text(&p, ctx->git_commit);
    p_text(&p, ctx->host);
    p_text(&p, ctx->cpu_model);
    p_text(&p, ctx->kernel);
    p_text(&p, ctx->compiler);
    p_text(&p, ctx->cflags);
    p_text(&p, ctx->topology);
    p_text(&p, ctx->command);
    char path[4096];
    p_text(&p, in->result_path ? pb_text_clean(in->result_path, path, sizeof path) : NULL);
    p_text(&p, in->json);
    p_text(&p, in->identity);
    p_text(&p, machine);
    p_text(&p, summary);
    struct hdb_res res = { 0 };
    if (hdb_query(db,
                  "INSERT INTO invocations (date, git_commit, host, cpu_model, kernel, compiler,"
                  " cflags, topology, command, result_path, result_json, run_id, machine,"
                  " topology_summary) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
                  " RETURNING id",
                  p.v, p.n, &res, err, errlen) != 0)
        return -1;
    int64_t inv = hdb_int(&res, 0, 0);
    hdb_res_free(&res);
    for (unsigned i = 0; i < in->nruns; i++) {
        const struct pb_run_result *r = in->runs[i];
        const struct pb_scenario *s = &r->scenario;
        p.n = 0;
        p_int(&p, inv);
        p_text(&p, s->name);
        p_text(&p, s->pool);
        p_text(&p, s->queue);
        p_text(&p, s->handoff);
        p_int(&p, r->repetition);
        p_int(&p, s->requesters);
        p_int(&p, s->workers);
        p_real(&p, r->throughput_ops_s);
        p_int(&p, clamp_i64(pb_hist_percentile(&r->total, 50)));
        p_int(&p, clamp_i64(pb_hist_percentile(&r->total, 90)));
        p_int(&p, clamp_i64(pb_hist_percentile(&r->total, 99)));
        p_int(&p, clamp_i64(pb_hist_percentile(&r->total, 99.9)));
        p_int(&p, clamp_i64(pb_hist_percentile(&r->queue_wait, 50)));
        p_int(&p, clamp_i64(pb_hist_percentile(&r->service, 50)));
        /* No cancel attempted: no rate (NULL), not a 0% that the trend
         * would show for every run without cancels. */
        p_real(&p, r->cancel.attempted ? r->cancel.success_rate : NAN);
        p_real(&p, isfinite(r->c2c_round_trip_ns) ? r->c2c_round_trip_ns : 0);
        p_int(&p, r->invariants.ok ? 1 : 0);
        p_int(&p, r->partial ? 1 : 0);
        p_text(&p, in->workloads[i]);
        p_real(&p, r->others_pct >= 0 ? r->others_pct : NAN);   /* -1: not known (NULL) */
        if (hdb_query(db,
                      "INSERT INTO runs (invocation_id, scenario, pool, queue, handoff,"
                      " repetition, requesters, workers, throughput_ops_s, p50_ns, p90_ns,"
                      " p99_ns, p999_ns, queue_wait_p50_ns, service_p50_ns,"
                      " cancel_success_rate, c2c_round_trip_ns, invariants_ok, partial, workload,"
                      " others_pct)"
                      " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,"
                      "$19,$20,$21)",
                      p.v, p.n, NULL, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* f through pb_text_clean, in place (f holds at most 512 bytes). */
static void clean_field(char *f, size_t size)
{
    char buf[512];
    const char *t = pb_text_clean(f, buf, size < sizeof buf ? size : sizeof buf);
    if (t != f)
        snprintf(f, size, "%s", t);
}

static int insert_rows(struct hdb *db, const struct record_in *in, char *err, size_t errlen)
{
    /* The context's text as the result document has it (pb_text_clean, the
     * writer's rule): a host name or a path with a control character is
     * recorded with '?' there, and the trend refuses anything else as a
     * damaged history (check_row). A file's context is clean already. */
    struct pb_context *ctx = malloc(sizeof *ctx);
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *ctx = *in->ctx;
    char *const fields[] = { ctx->date, ctx->git_commit, ctx->host, ctx->cpu_model, ctx->kernel,
                             ctx->compiler, ctx->cflags, ctx->topology, ctx->command };
    const size_t sizes[] = { sizeof ctx->date, sizeof ctx->git_commit, sizeof ctx->host,
                             sizeof ctx->cpu_model, sizeof ctx->kernel, sizeof ctx->compiler,
                             sizeof ctx->cflags, sizeof ctx->topology, sizeof ctx->command };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        clean_field(fields[i], sizes[i]);
    int ret = insert_clean(db, in, ctx, err, errlen);
    free(ctx);
    return ret;
}

/* The others_pct of one invocation's rows, from its stored document (read
 * and named as the trend reads it: read_stored_result). The record wrote
 * the rows in the document's order, one per run (insert_rows, in every
 * layout), so a row whose strategies or repetition are not its run's, or a
 * count that differs, is a damaged history, as is a document that does
 * not read: refused with damaged()'s message or the document's, so that
 * the upgrade is taken back whole rather than left with holes no one sees.
 * A document of a newer schema_version is not damage: its rows stay NULL
 * (not known), as the trend lets their own figures stand in. 0, or -1 +
 * message. */
static int fill_others_pct_of(struct hdb *db, int64_t invocation, const char *commit, char *err,
                              size_t errlen)
{
    struct params p = { .n = 0 };
    p_int(&p, invocation);
    struct hdb_res rows = { 0 };
    if (hdb_query(db,
                  "SELECT id, pool, queue, handoff, repetition FROM runs"
                  " WHERE invocation_id = CAST($1 AS BIGINT) ORDER BY id",
                  p.v, p.n, &rows, err, errlen) != 0)
        return -1;
    struct pb_result_doc doc;
    int ret = read_stored_result(db, db->name, invocation, commit, &doc, err, errlen);
    if (ret == -2)
        ret = 0;
    else if (ret == 0 && doc.nruns != rows.nrows) {
        char why[96];
        snprintf(why, sizeof why, "%u row%s, but its stored result has %u run%s", rows.nrows,
                 rows.nrows == 1 ? "" : "s", doc.nruns, doc.nruns == 1 ? "" : "s");
        ret = damaged(err, errlen, db->name, invocation, -1, "runs", why);
    }
    for (unsigned i = 0; ret == 0 && i < doc.nruns; i++) {
        const struct pb_run_result *r = &doc.runs[i].r;
        static const char *const columns[] = { "pool", "queue", "handoff" };
        const char *const names[] = { r->scenario.pool, r->scenario.queue, r->scenario.handoff };
        char why[256], shown[48];
        for (unsigned c = 0; ret == 0 && c < 3; c++) {
            if (strcmp(hdb_text(&rows, i, 1 + c), names[c]) == 0)
                continue;
            snprintf(why, sizeof why, "'%s' where its stored result has '%s'",
                     pb_text_escape(hdb_text(&rows, i, 1 + c), shown, sizeof shown), names[c]);
            ret = damaged(err, errlen, db->name, invocation, hdb_int(&rows, i, 0), columns[c],
                          why);
        }
        double rep;
        bool number = hdb_number(&rows, i, 4, &rep);
        if (ret == 0 && (!number || rep != (double)r->repetition)) {
            if (number)
                snprintf(why, sizeof why, "%g where its stored result has %u", rep,
                         r->repetition);
            else
                snprintf(why, sizeof why, "'%s' where its stored result has %u",
                         pb_text_escape(hdb_text(&rows, i, 4), shown, sizeof shown),
                         r->repetition);
            ret = damaged(err, errlen, db->name, invocation, hdb_int(&rows, i, 0), "repetition",
                          why);
        }
    }
    for (unsigned i = 0; ret == 0 && i < doc.nruns; i++) {
        if (doc.runs[i].r.others_pct < 0)
            continue;                  /* a file older than the figure */
        p.n = 0;
        p_real(&p, doc.runs[i].r.others_pct);
        p_int(&p, hdb_int(&rows, i, 0));
        ret = hdb_query(db,
                        "UPDATE runs SET others_pct = CAST($1 AS DOUBLE PRECISION)"
                        " WHERE id = CAST($2 AS BIGINT)",
                        p.v, p.n, NULL, err, errlen);
    }
    pb_result_doc_free(&doc);
    hdb_res_free(&rows);
    return ret;
}

/* After an upgrade to layout 4: others_pct of every row recorded before
 * it, from the stored documents (one at a time: a long history's
 * documents are never all in memory). 0, or -1 + message: the record is
 * then refused and its transaction, the upgrade with it, rolled back. */
static int fill_others_pct(struct hdb *db, char *err, size_t errlen)
{
    struct hdb_res ids = { 0 };
    if (hdb_query(db, "SELECT id, git_commit FROM invocations ORDER BY id", NULL, 0, &ids, err,
                  errlen) != 0)
        return -1;
    int ret = 0;
    for (unsigned i = 0; i < ids.nrows && ret == 0; i++) {
        int64_t id = hdb_int(&ids, i, 0);
        /* The commit names the document in a message: checked as the
         * lookups check it. */
        ret = check_text_cell(db->name, &ids, i, 1, "git_commit", id, -1, err, errlen);
        if (ret == 0)
            ret = fill_others_pct_of(db, id, hdb_text(&ids, i, 1), err, errlen);
    }
    hdb_res_free(&ids);
    return ret;
}

int pb_history_check(const char *spec, char *err, size_t errlen)
{
    struct hdb db;
    if (hdb_open(&db, spec, true, err, errlen) != 0)
        return -1;
    int ret = -1;
    if (db.ops->begin(&db, true, err, errlen) == 0) {
        /* The tables as the record would make them, then taken back: a
         * file that is not a history, or one of a newer layout, fails here. */
        ret = db.ops->schema(&db, true, err, errlen) == 0 ? 0 : -1;
        db.ops->rollback(&db);
    }
    hdb_close(&db);
    return ret;
}

/* 1 recorded, 0 already there (the same identity), -1 + message. */
static int record(const char *spec, const struct record_in *in, char *err, size_t errlen)
{
    struct hdb db;
    if (hdb_open(&db, spec, true, err, errlen) != 0)
        return -1;
    int ret = -1;
    if (db.ops->begin(&db, true, err, errlen) != 0)
        goto out;
    if (db.ops->schema(&db, true, err, errlen) != 0)
        goto rollback;
    if (db.upgraded_from && db.upgraded_from < 4 && fill_others_pct(&db, err, errlen) != 0)
        goto rollback;
    if (in->identity) {
        struct hdb_res res = { 0 };
        const char *params[1] = { in->identity };
        if (hdb_query(&db, "SELECT count(*) FROM invocations WHERE run_id = $1", params, 1, &res,
                      err, errlen) != 0)
            goto rollback;
        int64_t n = hdb_int(&res, 0, 0);
        hdb_res_free(&res);
        if (n > 0) {
            ret = 0;
            goto rollback;
        }
    }
    if (insert_rows(&db, in, err, errlen) != 0 || db.ops->commit(&db, err, errlen) != 0)
        goto rollback;
    ret = 1;
    goto out;
rollback:
    db.ops->rollback(&db);
out:
    hdb_close(&db);
    return ret;
}

int pb_history_record(const char *db_path, const struct pb_context *ctx,
                      const struct pb_run_result *runs, unsigned nruns,
                      const char *result_path, char *err, size_t errlen)
{
    static const struct pb_context empty;
    if (!ctx)
        ctx = &empty;
    if (!runs)
        nruns = 0;
    /* Built before the database is opened: the lock is held for the
     * inserts only. */
    char *json = document_text(ctx, runs, nruns, err, errlen);
    const struct pb_run_result **ptrs = calloc(nruns + 1, sizeof *ptrs);
    char **workloads = calloc(nruns + 1, sizeof *workloads);
    struct pb_runkey *key = malloc(sizeof *key);
    int ret = -1;
    if (!json || !ptrs || !workloads || !key) {
        if (json)
            snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < nruns; i++) {
        ptrs[i] = &runs[i];
        /* A key that did not fit is still recorded as far as it goes. */
        (void)pb_runkey_of_result(&runs[i], key);
        workloads[i] = strdup(key->workload);
        if (!workloads[i]) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    struct record_in in = { .ctx = ctx, .runs = ptrs, .workloads = (const char *const *)workloads,
                            .nruns = nruns, .json = json, .result_path = result_path,
                            .identity = ctx->run_id[0] ? ctx->run_id : NULL };
    ret = record(db_path, &in, err, errlen) < 0 ? -1 : 0;
out:
    for (unsigned i = 0; workloads && i < nruns; i++)
        free(workloads[i]);
    free(workloads);
    free(ptrs);
    free(key);
    free(json);
    return ret;
}

/* FNV-1a, 64 bits, twice with different starts: the identity of a file
 * without a run_id (not a defence against forgery, only against imports
 * of the same bytes twice). */
static void document_hash(const char *text, size_t len, char *out, size_t size)
{
    uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
    for (size_t i = 0; i < len; i++) {
        a = (a ^ (unsigned char)text[i]) * 0x100000001b3ull;
        b = (b ^ (unsigned char)text[len - 1 - i]) * 0x100000001b3ull;
    }
    snprintf(out, size, "file-%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

int pb_history_import(const char *db_path, const char *result_path, char *err, size_t errlen)
{
    size_t len;
    char *text = pb_file_read_text(result_path, PB_RESULT_FILE_KIND, 0, &len, err, errlen);
    if (!text)
        return -1;
    struct pb_result_doc doc;
    if (pb_result_read_string(text, result_path, &doc, err, errlen) != 0) {
        free(text);
        return -1;
    }
    int ret = -1;
    const struct pb_run_result **ptrs = calloc(doc.nruns + 1, sizeof *ptrs);
    char **workloads = calloc(doc.nruns + 1, sizeof *workloads);
    struct pb_runkey *key = malloc(sizeof *key);
    if (!ptrs || !workloads || !key) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < doc.nruns; i++) {
        ptrs[i] = &doc.runs[i].r;
        (void)pb_runkey_of_run(&doc.runs[i], key);
        workloads[i] = strdup(key->workload);
        if (!workloads[i]) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    char identity[48];
    if (doc.ctx.run_id[0])
        snprintf(identity, sizeof identity, "%s", doc.ctx.run_id);
    else
        document_hash(text, len, identity, sizeof identity);
    /* The file's place, for finding it again; standard input has none. */
    char *abs = strcmp(result_path, "-") == 0 ? strdup("(standard input)")
                                              : realpath(result_path, NULL);
    struct record_in in = { .ctx = &doc.ctx, .runs = ptrs,
                            .workloads = (const char *const *)workloads, .nruns = doc.nruns,
                            .json = text, .result_path = abs ? abs : result_path,
                            .identity = identity };
    ret = record(db_path, &in, err, errlen);
    free(abs);
out:
    for (unsigned i = 0; workloads && i < doc.nruns; i++)
        free(workloads[i]);
    free(workloads);
    free(ptrs);
    free(key);
    pb_result_doc_free(&doc);
    free(text);
    return ret;
}

/* ---- find -------------------------------------------------------------------------- */

static bool is_hex(const char *s, size_t *len)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
              (s[n] >= 'A' && s[n] <= 'F')))
            return false;
    *len = n;
    return n > 0;
}

/* Two abbreviations of one commit: one is a prefix of the other. */
static bool same_commit(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return strncasecmp(a, b, la < lb ? la : lb) == 0;
}

/* What a baseline must come before (pb_history_find_before): NULL for
 * pb_history_find. */
static int find(const char *db_path, const char *spec, const struct pb_context *before,
                struct pb_result_doc *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    bool last = spec && strcmp(spec, "last") == 0;
    size_t speclen = 0;
    if (!last && (!spec || !is_hex(spec, &speclen) || speclen < 4)) {
        snprintf(err, errlen, "'%s' is neither 'last' nor a git commit (4 or more hex digits)",
                 spec ? spec : "");
        return -1;
    }
    struct hdb db;
    if (hdb_open(&db, db_path, false, err, errlen) != 0)
        return -1;
    const char *name = db.name;
    int ret = -1;
    struct hdb_res res = { 0 };
    if (db.ops->begin(&db, false, err, errlen) != 0)
        goto out;
    if (db.ops->schema(&db, false, err, errlen) != 0)
        goto end;
    int64_t count = 0;
    if (db.version > 0) {
        if (hdb_query(&db, "SELECT count(*) FROM invocations", NULL, 0, &res, err, errlen) != 0)
            goto end;
        count = hdb_int(&res, 0, 0);
    }
    if (count == 0) {
        snprintf(err, errlen, "%s: the history is empty (no run recorded yet)", name);
        goto end;
    }
    /* Before NEW: records older than NEW's own record when it is here;
     * otherwise started no later than NEW and not NEW itself. */
    struct params p = { .n = 0 };
    char where[160] = "1 = 1";
    if (before) {
        int64_t own = -1;
        if (db.version >= 2 && before->run_id[0]) {
            const char *params[1] = { before->run_id };
            if (hdb_query(&db, "SELECT min(id) FROM invocations WHERE run_id = $1", params, 1,
                          &res, err, errlen) != 0)
                goto end;
            if (!hdb_null(&res, 0, 0))
                own = hdb_int(&res, 0, 0);
        }
        if (own >= 0) {
            p_int(&p, own);
            snprintf(where, sizeof where, "id < CAST($1 AS BIGINT)");
        } else if (db.version >= 2 && before->run_id[0]) {
            p_text(&p, before->run_id);
            p_text(&p, before->date);
            snprintf(where, sizeof where, "date <= CAST($2 AS TEXT) AND coalesce(run_id, '') <> CAST($1 AS TEXT)");
        } else {
            p_text(&p, before->date);
            snprintf(where, sizeof where, "date < CAST($1 AS TEXT)");
        }
    }
    int64_t id = -1;
    char commit[64] = "";
    char sql[768];
    if (last) {
        snprintf(sql, sizeof sql,
                 "SELECT id, git_commit FROM invocations WHERE %s ORDER BY id DESC LIMIT 1", where);
        if (hdb_query(&db, sql, p.v, p.n, &res, err, errlen) != 0)
            goto end;
        if (res.nrows == 0) {
            if (before)
                snprintf(err, errlen, "%s: no run recorded before %s (the history holds only it, "
                         "or later runs)", name, before->date[0] ? before->date : "NEW");
            else
                snprintf(err, errlen, "%s: the history is empty (no run recorded yet)", name);
            goto end;
        }
        id = hdb_int(&res, 0, 0);
        if (check_text_cell(name, &res, 0, 1, "git_commit", id, -1, err, errlen) != 0)
            goto end;
        snprintf(commit, sizeof commit, "%s", hdb_text(&res, 0, 1));
    } else {
        char lower[128];
        snprintf(lower, sizeof lower, "%s", spec);
        for (char *c = lower; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
        unsigned s = p.n + 1, l = p.n + 2;
        p_text(&p, lower);
        p_int(&p, (int64_t)strlen(lower));
        /* Either may be the shorter: a prefix given for a recorded commit, or
         * a full hash given for a recorded abbreviation. A build with
         * uncommitted changes ("abc1234-dirty") is not at that commit: only
         * clean records match. */
        snprintf(sql, sizeof sql,
                 "SELECT id, git_commit FROM invocations"
                 " WHERE ((length(git_commit) >= CAST($%u AS INTEGER)"
                 "         AND lower(substr(git_commit, 1, CAST($%u AS INTEGER))) = CAST($%u AS TEXT))"
                 "    OR (length(git_commit) >= 4 AND length(git_commit) < CAST($%u AS INTEGER)"
                 "        AND substr(CAST($%u AS TEXT), 1, length(git_commit)) = lower(git_commit)))"
                 "   AND git_commit NOT LIKE '%%-dirty' AND %s"
                 " ORDER BY id DESC", l, l, s, l, s, where);
        if (hdb_query(&db, sql, p.v, p.n, &res, err, errlen) != 0)
            goto end;
        char others[256] = "";
        unsigned nothers = 0;
        for (unsigned r = 0; r < res.nrows; r++) {
            const char *c = hdb_text(&res, r, 1);
            if (check_text_cell(name, &res, r, 1, "git_commit", hdb_int(&res, r, 0), -1, err,
                                errlen) != 0)
                goto end;
            if (!c[0])
                continue;
            if (id < 0) {
                id = hdb_int(&res, r, 0);
                snprintf(commit, sizeof commit, "%s", c);
            } else if (!same_commit(commit, c) && !strstr(others, c)) {
                size_t used = strlen(others);
                snprintf(others + used, sizeof others - used, ", %s", c);
                nothers++;
            }
        }
        if (id < 0) {
            snprintf(err, errlen, "%s: no run recorded at commit %s%s (`pendbench history` lists "
                     "them)", name, spec, before ? " before NEW with a clean tree" : "");
            goto end;
        }
        if (nothers) {
            snprintf(err, errlen, "%s: commit %s is ambiguous: %s%s (give more digits)", name,
                     spec, commit, others);
            goto end;
        }
    }
    ret = read_stored_result(&db, name, id, commit, out, err, errlen);
end:
    db.ops->rollback(&db);             /* read only: nothing to keep */
out:
    hdb_res_free(&res);
    hdb_close(&db);
    return ret;
}

int pb_history_find(const char *db_path, const char *spec, struct pb_result_doc *out, char *err,
                    size_t errlen)
{
    return find(db_path, spec, NULL, out, err, errlen);
}

int pb_history_find_before(const char *db_path, const char *spec, const struct pb_context *new_ctx,
                           struct pb_result_doc *out, char *err, size_t errlen)
{
    static const struct pb_context none;
    return find(db_path, spec, new_ctx ? new_ctx : &none, out, err, errlen);
}

/* ---- trend --------------------------------------------------------------------------- */

static const struct {
    const char *name, *column, *title, *unit;
    double percentile;                 /* latency: merge the repetitions' histograms */
    bool higher_is_better;
    const struct pb_range *range;      /* what the column may hold (check_row) */
} metrics[] = {
    [PB_TREND_THROUGHPUT] = { "throughput", "throughput_ops_s", "throughput (ops/s, median of repetitions)", "ops/s", 0, true, &PB_RANGE_THROUGHPUT },
    [PB_TREND_P50] = { "p50", "p50_ns", "p50 latency (repetitions merged)", "ns", 50, false, &PB_RANGE_NANOSECONDS },
    [PB_TREND_P90] = { "p90", "p90_ns", "p90 latency (repetitions merged)", "ns", 90, false, &PB_RANGE_NANOSECONDS },
    [PB_TREND_P99] = { "p99", "p99_ns", "p99 latency (repetitions merged)", "ns", 99, false, &PB_RANGE_NANOSECONDS },
    [PB_TREND_P999] = { "p999", "p999_ns", "p99.9 latency (repetitions merged)", "ns", 99.9, false, &PB_RANGE_NANOSECONDS },
    [PB_TREND_CANCEL] = { "cancel", "cancel_success_rate", "cancel success rate (median of repetitions)", "fraction", 0, true, &PB_RANGE_FRACTION },
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

int pb_trend_metric_parse(const char *name, enum pb_trend_metric *out)
{
    for (unsigned i = 0; name && i < NMETRICS; i++)
        if (strcmp(name, metrics[i].name) == 0) {
            *out = (enum pb_trend_metric)i;
            return 0;
        }
    return -1;
}

struct point {
    int64_t invocation;
    char date[32], commit[48], host[128], kernel[128];
    double value;
    double *vals;                      /* the repetitions' values */
    unsigned reps, cap;
    bool partial, failed, approximate;
    unsigned busy;                     /* repetitions beside busy processes (others_pct) */
    double others_max;                 /* the most others took of a repetition's window, %;
                                        * -1: not known (recorded before layout 4, or older
                                        * files) */
};

struct block {
    char machine[512];
    struct pb_runkey key;              /* workload: canonical, or "requesters=R, workers=W"
                                        * for rows recorded before the workload was */
    bool by_threads;
    unsigned requesters, workers;
    char label[512];                   /* what tells it from its siblings */
    struct point *points;
    unsigned n, cap;
    unsigned busy_left_out;            /* points --skip-busy left out */
};

struct series {
    struct block *blocks;
    unsigned n, cap;
    unsigned busy_blocks;              /* blocks --skip-busy left out whole */
};

static void series_free(struct series *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        for (unsigned k = 0; k < s->blocks[i].n; k++)
            free(s->blocks[i].points[k].vals);
        free(s->blocks[i].points);
    }
    free(s->blocks);
    memset(s, 0, sizeof *s);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool run_in_block(const struct pb_result_run *run, const struct block *b,
                         struct pb_runkey *scratch)
{
    (void)pb_runkey_of_run(run, scratch);
    if (!pb_runkey_same_name(scratch, &b->key))
        return false;
    if (b->by_threads)
        return run->r.scenario.requesters == b->requesters && run->r.scenario.workers == b->workers;
    return strcmp(scratch->workload, b->key.workload) == 0;
}

/* The value of an invocation's repetitions of block b, from its stored
 * document, as the session's table summarised them: the repetitions
 * measured in another machine state than the invocation's other runs
 * (pb_floor_screen: a session measures those again and keeps both) left
 * out; latency from their merged histograms, the rest their median.
 * 0 with *out (-1: none of them has the figure), 1 when the document is
 * of a newer schema_version than this build reads (a newer pendbench on a
 * shared history recorded it: the rows' median stands in), -1 with a
 * message naming the database and the invocation when it cannot be read
 * or is damaged (it used to stand in silently then too). */
static int doc_value(struct hdb *db, const struct point *pt, const struct block *b,
                     unsigned metric, double *out, char *err, size_t errlen)
{
    *out = -1;
    struct pb_result_doc doc;
    struct pb_hist *h = malloc(sizeof *h);
    struct pb_runkey *k = malloc(sizeof *k);
    int ret = -1;
    if (!h || !k) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    ret = read_stored_result(db, db->name, pt->invocation, pt->commit, &doc, err, errlen);
    if (ret == -2)
        ret = 1;
    if (ret != 0)
        goto out;
    const struct pb_run_result **runs = malloc((doc.nruns ? doc.nruns : 1) * sizeof *runs);
    bool *keep = malloc((doc.nruns ? doc.nruns : 1) * sizeof *keep);
    double *vals = malloc((doc.nruns ? doc.nruns : 1) * sizeof *vals);
    if (!runs || !keep || !vals) {
        snprintf(err, errlen, "out of memory");
        ret = -1;
    }
    unsigned n = 0, m = 0;
    for (unsigned i = 0; ret == 0 && i < doc.nruns; i++)
        if (run_in_block(&doc.runs[i], b, k))
            runs[n++] = &doc.runs[i].r;
    if (n) {
        pb_floor_screen_in_doc(&doc, runs, n, keep);
        pb_hist_init(h);
        for (unsigned i = 0; i < n; i++) {
            if (!keep[i] || (metric == PB_TREND_CANCEL && !runs[i]->cancel.attempted))
                continue;
            pb_hist_merge(h, &runs[i]->total);
            vals[m++] = metric == PB_TREND_CANCEL ? runs[i]->cancel.success_rate
                                                  : runs[i]->throughput_ops_s;
        }
        if (metrics[metric].percentile > 0)
            *out = h->count ? (double)pb_hist_percentile(h, metrics[metric].percentile) : -1;
        else
            *out = m ? median(vals, m) : -1;
    }
    free(runs);
    free(keep);
    free(vals);
    pb_result_doc_free(&doc);
out:
    free(k);
    free(h);
    return ret;
}

/* "POOL/QUEUE/HANDOFF" into three filters (NULL: any). */
static int split_strategies(const char *s, char parts[3][PB_NAME_MAX], const char *filter[3],
                            char *err, size_t errlen)
{
    filter[0] = filter[1] = filter[2] = NULL;
    if (!s)
        return 0;
    const char *p = s;
    for (int k = 0; k < 3; k++) {
        const char *slash = strchr(p, '/');
        if ((k < 2) != (slash != NULL)) {
            snprintf(err, errlen, "--strategies '%s': expected POOL/QUEUE/HANDOFF ('*' for any)", s);
            return -1;
        }
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len >= PB_NAME_MAX) {
            snprintf(err, errlen, "--strategies '%s': a name is too long", s);
            return -1;
        }
        memcpy(parts[k], p, len);
        parts[k][len] = 0;
        if (len && strcmp(parts[k], "*") != 0)
            filter[k] = parts[k];
        p = slash ? slash + 1 : p + len;
    }
    return 0;
}

static int cmp_block(const void *x, const void *y)
{
    const struct block *a = x, *b = y;
    int c = strcmp(a->machine, b->machine);
    if (!c)
        c = strcmp(a->key.scenario, b->key.scenario);
    if (!c)
        c = strcmp(a->key.pool, b->key.pool);
    if (!c)
        c = strcmp(a->key.queue, b->key.queue);
    if (!c)
        c = strcmp(a->key.handoff, b->key.handoff);
    if (!c)
        c = (a->by_threads > b->by_threads) - (a->by_threads < b->by_threads);
    if (!c)
        c = strcmp(a->key.workload, b->key.workload);
    return c;
}

/* The block of a row's key, made when new; NULL when out of memory. */
static struct block *block_for(struct series *s, const struct block *key)
{
    for (unsigned i = s->n; i-- > 0;)
        if (cmp_block(&s->blocks[i], key) == 0)
            return &s->blocks[i];
    struct block *nb = pb_grow_for_one(s->blocks, s->n, &s->cap, sizeof *nb, 8);
    if (!nb)
        return NULL;
    s->blocks = nb;
    s->blocks[s->n] = *key;
    return &s->blocks[s->n++];
}

static int add_value(struct point *p, double v)
{
    double *nv = pb_grow_for_one(p->vals, p->reps, &p->cap, sizeof *nv, 4);
    if (!nv)
        return -1;
    p->vals = nv;
    p->vals[p->reps++] = v;
    return 0;
}

/* --skip-busy: the points with a repetition measured beside busy processes
 * left out, and the blocks left with none. A point whose others are not
 * known (recorded before layout 4, from an older file) stays. */
static void leave_out_busy(struct series *s)
{
    unsigned nb = 0;
    for (unsigned i = 0; i < s->n; i++) {
        struct block *b = &s->blocks[i];
        unsigned n = 0;
        for (unsigned k = 0; k < b->n; k++) {
            if (b->points[k].busy)
                free(b->points[k].vals);
            else
                b->points[n++] = b->points[k];
        }
        b->busy_left_out = b->n - n;
        b->n = n;
        if (n) {
            s->blocks[nb++] = *b;
        } else {
            free(b->points);
            s->busy_blocks++;
        }
    }
    s->n = nb;
}

/* A row of the trend's query (load_series: its columns by number), checked
 * as the result reader checks a file's figures: the history holds what
 * was measured or read from a file, so a value past those ranges is a row
 * a hand or a bad disk edited. The figure must be a number within its
 * range (result_internal.h), others_pct one or NULL (not known), the
 * thread counts and the flags whole numbers of theirs. An inf throughput
 * was drawn as "inf ops/s +inf%" and a -5 as "-nan%"; --json left such a
 * point out and took the next one's change against it. NULL elsewhere
 * reads as before (0). 0, or -1 with "<db>: a damaged history: invocation
 * 3, runs row 17: throughput_ops_s: inf is not a valid throughput (...)". */
static int check_row(const char *db, const struct hdb_res *res, unsigned r,
                     enum pb_trend_metric m, char *err, size_t errlen)
{
    static const struct pb_range threads = { "thread count", 0, UINT_MAX, false,
                                             "0 to 4294967295" };
    static const struct pb_range flag = { "flag", 0, 1, false, "0 or 1" };
    const struct {
        unsigned col;
        const char *column;
        const struct pb_range *range;
        bool whole;
    } cols[] = {
        { 10, metrics[m].column, metrics[m].range, false },
        { 16, "others_pct", &PB_RANGE_PERCENTAGE, false },
        { 8, "requesters", &threads, true },
        { 9, "workers", &threads, true },
        { 11, "partial", &flag, true },
        { 12, "invariants_ok", &flag, true },
    };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        unsigned c = cols[i].col;
        if (hdb_null(res, r, c))
            continue;
        char why[160], shown[48];
        double x;
        if (!hdb_number(res, r, c, &x))
            snprintf(why, sizeof why, "'%s' is not a number",
                     pb_text_escape(hdb_text(res, r, c), shown, sizeof shown));
        else if (pb_range_check(cols[i].range, x, why, sizeof why) != 0)
            ;
        else if (cols[i].whole && x != floor(x))
            snprintf(why, sizeof why, "%g is not a valid %s (%s)", x, cols[i].range->what,
                     cols[i].range->text);
        else
            continue;
        return damaged(err, errlen, db, hdb_int(res, r, 0), hdb_int(res, r, 17), cols[i].column,
                       why);
    }
    static const struct {
        unsigned col;
        const char *column;
    } texts[] = {
        { 1, "date" },     { 2, "git_commit" }, { 3, "host" },      { 4, "scenario" },
        { 5, "pool" },     { 6, "queue" },      { 7, "handoff" },   { 13, "workload" },
        { 14, "machine" }, { 15, "kernel" },
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (check_text_cell(db, res, r, texts[i].col, texts[i].column, hdb_int(res, r, 0),
                            hdb_int(res, r, 17), err, errlen) != 0)
            return -1;
    return 0;
}

/* The blocks of the query, each with its points (one per invocation,
 * oldest first) and their values. The name the database goes by is
 * left in name. >= 0 blocks, -2 no database, -1 + message. */
static int load_series(const char *db_path, const struct pb_trend_query *q, struct series *s,
                       char *name, size_t namelen, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if ((unsigned)q->metric >= NMETRICS) {
        snprintf(err, errlen, "unknown metric %d", (int)q->metric);
        return -1;
    }
    char parts[3][PB_NAME_MAX];
    const char *filter[3];
    if (split_strategies(q->strategies, parts, filter, err, errlen) != 0)
        return -1;
    struct hdb db;
    int o = hdb_open(&db, db_path, false, err, errlen);
    snprintf(name, namelen, "%s", db.name[0] ? db.name : db_path);
    if (o != 0)
        return o;
    int ret = -1;
    struct hdb_res res = { 0 };
    struct block *key = calloc(1, sizeof *key);
    if (!key) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (db.ops->begin(&db, false, err, errlen) != 0)
        goto out;
    if (db.ops->schema(&db, false, err, errlen) != 0)
        goto end;
    if (db.version == 0) {
        ret = 0;
        goto end;
    }
    bool v3 = db.version >= 3;
    const char *machine = v3 ? "coalesce(i.machine, i.host)" : "i.host";
    char sql[2048];
    /* The column comes from the table above, never from the user. */
    snprintf(sql, sizeof sql,
             "SELECT r.invocation_id, i.date, i.git_commit, i.host, r.scenario, r.pool,"
             " r.queue, r.handoff, r.requesters, r.workers, r.%s, r.partial, r.invariants_ok,"
             " %s, %s, i.kernel, %s, r.id"
             " FROM runs r JOIN invocations i ON i.id = r.invocation_id"
             " WHERE (CAST($1 AS TEXT) IS NULL OR r.scenario = CAST($1 AS TEXT))"
             " AND (CAST($2 AS TEXT) IS NULL OR r.pool = CAST($2 AS TEXT))"
             " AND (CAST($3 AS TEXT) IS NULL OR r.queue = CAST($3 AS TEXT))"
             " AND (CAST($4 AS TEXT) IS NULL OR r.handoff = CAST($4 AS TEXT))"
             " AND (CAST($5 AS TEXT) IS NULL OR i.host = CAST($5 AS TEXT)"
             "      OR %s = CAST($5 AS TEXT))"
             " AND r.%s IS NOT NULL"
             " ORDER BY i.date, r.invocation_id, r.repetition",
             metrics[q->metric].column, v3 ? "r.workload" : "NULL", machine,
             db.version >= 4 ? "r.others_pct" : "NULL", machine, metrics[q->metric].column);
    const char *params[5] = { q->scenario, filter[0], filter[1], filter[2], q->machine };
    if (hdb_query(&db, sql, params, 5, &res, err, errlen) != 0)
        goto end;
    for (unsigned r = 0; r < res.nrows; r++) {
        if (check_row(db.name, &res, r, q->metric, err, errlen) != 0)
            goto end;
        memset(key, 0, sizeof *key);
        snprintf(key->machine, sizeof key->machine, "%s", hdb_text(&res, r, 14));
        key->requesters = (unsigned)hdb_int(&res, r, 8);
        key->workers = (unsigned)hdb_int(&res, r, 9);
        char threads[64];
        snprintf(threads, sizeof threads, "requesters=%u, workers=%u", key->requesters,
                 key->workers);
        key->by_threads = hdb_null(&res, r, 13);
        (void)pb_runkey_set(&key->key, hdb_text(&res, r, 4), hdb_text(&res, r, 5),
                            hdb_text(&res, r, 6), hdb_text(&res, r, 7),
                            key->by_threads ? threads : hdb_text(&res, r, 13));
        struct block *b = block_for(s, key);
        if (!b)
            goto oom;
        int64_t inv = hdb_int(&res, r, 0);
        if (!b->n || b->points[b->n - 1].invocation != inv) {
            struct point *np = pb_grow_for_one(b->points, b->n, &b->cap, sizeof *np, 16);
            if (!np)
                goto oom;
            b->points = np;
            struct point *p = &b->points[b->n++];
            memset(p, 0, sizeof *p);
            p->invocation = inv;
            snprintf(p->date, sizeof p->date, "%s", hdb_text(&res, r, 1));
            snprintf(p->commit, sizeof p->commit, "%s", hdb_text(&res, r, 2));
            snprintf(p->host, sizeof p->host, "%s", hdb_text(&res, r, 3));
            snprintf(p->kernel, sizeof p->kernel, "%s", hdb_text(&res, r, 15));
            p->others_max = -1;
        }
        struct point *p = &b->points[b->n - 1];
        if (add_value(p, hdb_real(&res, r, 10)) != 0)
            goto oom;
        p->partial |= hdb_int(&res, r, 11) != 0;
        p->failed |= hdb_int(&res, r, 12) == 0;
        double others = hdb_null(&res, r, 16) ? -1 : hdb_real(&res, r, 16);
        if (others >= 0) {             /* -1: not known (check_row) */
            p->busy += others >= PB_OTHERS_BUSY_PCT;
            p->others_max = others > p->others_max ? others : p->others_max;
        }
    }
    if (q->skip_busy)
        leave_out_busy(s);
    /* Each point's value from its repetitions: from the stored document
     * when there are several (merged histograms, the floor screen). */
    for (unsigned i = 0; i < s->n; i++)
        for (unsigned k = 0; k < s->blocks[i].n; k++) {
            struct point *p = &s->blocks[i].points[k];
            if (p->reps > 1) {
                double v;
                int rc = doc_value(&db, p, &s->blocks[i], (unsigned)q->metric, &v, err, errlen);
                if (rc < 0)
                    goto end;
                if (rc == 0 && v >= 0) {
                    p->value = v;
                    continue;
                }
                p->approximate = metrics[q->metric].percentile > 0;
            }
            p->value = median(p->vals, p->reps);
        }
    if (s->n > 1)
        qsort(s->blocks, s->n, sizeof *s->blocks, cmp_block);
    /* What tells a block from its siblings (same machine, name, strategies). */
    const struct pb_runkey **keys = calloc(s->n + 1, sizeof *keys);
    if (!keys)
        goto oom;
    for (unsigned i = 0; i < s->n; i++)
        keys[i] = &s->blocks[i].key;
    for (unsigned i = 0; i < s->n; i++) {
        unsigned lo = i, hi = i;
        while (lo > 0 && strcmp(s->blocks[lo - 1].machine, s->blocks[i].machine) == 0)
            lo--;
        while (hi + 1 < s->n && strcmp(s->blocks[hi + 1].machine, s->blocks[i].machine) == 0)
            hi++;
        pb_runkey_distinguishing(&s->blocks[i].key, keys + lo, hi - lo + 1, s->blocks[i].label,
                                 sizeof s->blocks[i].label);
    }
    free(keys);
    ret = (int)s->n;
    goto end;
oom:
    snprintf(err, errlen, "%s: out of memory", db.name);
end:
    db.ops->rollback(&db);
out:
    free(key);
    hdb_res_free(&res);
    hdb_close(&db);
    if (ret < 0)
        series_free(s);
    return ret;
}

static void fmt_value(enum pb_trend_metric m, double v, char *buf, size_t size)
{
    if (m == PB_TREND_THROUGHPUT)
        snprintf(buf, size, "%.0f ops/s", v);
    else if (m == PB_TREND_CANCEL)
        snprintf(buf, size, "%.1f%%", 100 * v);
    else if (v < 1000)
        snprintf(buf, size, "%.0f ns", v);
    else if (v < 1e6)
        snprintf(buf, size, "%.2f us", v / 1e3);
    else if (v < 1e9)
        snprintf(buf, size, "%.2f ms", v / 1e6);
    else
        snprintf(buf, size, "%.2f s", v / 1e9);
}

static void print_block_head(FILE *out, const struct block *b, enum pb_trend_metric m)
{
    /* The lock is named with the strategies: blocks under two locks are
     * never siblings that the label tells apart (pb_runkey.h). */
    fprintf(out, "%s  %s/%s/%s%s%s%s  threads %ux%u%s%s%s  on %s  %s\n", b->key.scenario,
            b->key.pool, b->key.queue, b->key.handoff, b->key.lock[0] ? " [lock " : "",
            b->key.lock, b->key.lock[0] ? "]" : "", b->requesters, b->workers,
            b->label[0] ? "  [" : "", b->label, b->label[0] ? "]" : "", b->machine,
            metrics[m].title);
}

static void print_block_text(FILE *out, const struct block *b, unsigned first,
                             enum pb_trend_metric m)
{
    print_block_head(out, b, m);
    fprintf(out, "  %-20s  %-12s  %-16s  %14s  %8s\n", "date", "commit", "host", metrics[m].name,
            "change");
    double lo = INFINITY, hi = -INFINITY;
    for (unsigned i = first; i < b->n; i++) {
        const struct point *p = &b->points[i];
        char value[32], change[16] = "";
        fmt_value(m, p->value, value, sizeof value);
        if (i > first && b->points[i - 1].value != 0)
            snprintf(change, sizeof change, "%+.1f%%",
                     100 * (p->value - b->points[i - 1].value) / fabs(b->points[i - 1].value));
        char busy[96] = "";
        if (p->busy)
            snprintf(busy, sizeof busy, "  (busy machine: %u of %u repetition%s, others up to %.0f%%)",
                     p->busy, p->reps, p->reps == 1 ? "" : "s", p->others_max);
        fprintf(out, "  %-20.20s  %-12.12s  %-16.16s  %14s  %8s%s%s%s%s\n", p->date, p->commit,
                p->host, value, change, p->approximate ? "  (median of repetitions)" : "",
                p->partial ? "  (partial)" : "", p->failed ? "  invariants FAILED" : "", busy);
        if (p->value < lo)
            lo = p->value;
        if (p->value > hi)
            hi = p->value;
    }
    static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    fprintf(out, "  trend ");
    for (unsigned i = first; i < b->n; i++) {
        int level = hi > lo ? (int)lrint(7 * (b->points[i].value - lo) / (hi - lo)) : 3;
        fputs(bars[level < 0 ? 0 : level > 7 ? 7 : level], out);
    }
    char a[32], c[32];
    fmt_value(m, lo, a, sizeof a);
    fmt_value(m, hi, c, sizeof c);
    fprintf(out, "  %u invocation%s, %s to %s", b->n - first, b->n - first == 1 ? "" : "s", a, c);
    if (b->busy_left_out)
        fprintf(out, "; %u on a busy machine left out", b->busy_left_out);
    fputs("\n\n", out);
}

static json_t *block_key_json(const struct block *b)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "machine", b->machine,
                     "scenario", b->key.scenario, "pool", b->key.pool, "queue", b->key.queue,
                     "handoff", b->key.handoff, "lock", b->key.lock[0] ? b->key.lock : "default",
                     "workload", b->by_threads ? "" : b->key.workload, "requesters",
                     (int)b->requesters, "workers", (int)b->workers, "label", b->label);
}

static json_t *block_json(const struct block *b, unsigned first, enum pb_trend_metric m)
{
    json_t *points = json_array();
    for (unsigned i = first; i < b->n; i++) {
        const struct point *p = &b->points[i];
        double prev = i > first ? b->points[i - 1].value : 0;
        /* How the repetitions became one value: a median, or (latency) the
         * percentile of their merged histograms. */
        bool median_of = p->reps > 1 && (metrics[m].percentile == 0 || p->approximate);
        json_array_append_new(
            points, json_pack("{s:I, s:s, s:s, s:s, s:s, s:f, s:o, s:i, s:b, s:b, s:b, s:o, s:i}",
                              "invocation", (json_int_t)p->invocation, "date", p->date, "commit",
                              p->commit, "host", p->host, "kernel", p->kernel, "value",
                              isfinite(p->value) ? p->value : 0.0, "change",
                              prev != 0 ? json_real((p->value - prev) / fabs(prev)) : json_null(),
                              "repetitions", (int)p->reps, "partial", p->partial,
                              "invariants_ok", !p->failed, "median_of_repetitions", median_of,
                              "others_pct_max",
                              p->others_max >= 0 ? json_real(p->others_max) : json_null(),
                              "busy_repetitions", (int)p->busy));
    }
    json_t *o = block_key_json(b);
    json_object_set_new(o, "busy_left_out", json_integer(b->busy_left_out));
    json_object_set_new(o, "points", points);
    return o;
}

#define TREND_CSV_HEADER                                                                       \
    "machine,host,scenario,pool,queue,handoff,workload,requesters,workers,metric,unit,"       \
    "invocation,date,git_commit,kernel,value,repetitions,partial,invariants_ok,"             \
    "others_pct_max,busy_repetitions"

static void print_block_csv(FILE *out, const struct block *b, unsigned first,
                            enum pb_trend_metric m)
{
    for (unsigned i = first; i < b->n; i++) {
        const struct point *p = &b->points[i];
        const char *text[] = { b->machine, p->host, b->key.scenario, b->key.pool, b->key.queue,
                               b->key.handoff, b->by_threads ? "" : b->key.workload };
        for (size_t k = 0; k < sizeof text / sizeof text[0]; k++) {
            pb_export_csv_field(out, text[k]);
            fputc(',', out);
        }
        fprintf(out, "%u,%u,%s,%s,%lld,", b->requesters, b->workers, metrics[m].name,
                metrics[m].unit, (long long)p->invocation);
        pb_export_csv_field(out, p->date);
        fputc(',', out);
        pb_export_csv_field(out, p->commit);
        fputc(',', out);
        pb_export_csv_field(out, p->kernel);
        fprintf(out, ",%.10g,%u,%d,%d,", isfinite(p->value) ? p->value : 0.0, p->reps,
                p->partial ? 1 : 0, p->failed ? 0 : 1);
        if (p->others_max >= 0)        /* empty: not known */
            fprintf(out, "%.10g", p->others_max);
        fprintf(out, ",%u\r\n", p->busy);
    }
}

/* The text's last word on --skip-busy: the series it left out whole. */
static void print_busy_blocks(FILE *out, const struct series *s)
{
    if (s->busy_blocks)
        fprintf(out, "%u series left out whole (--skip-busy): every invocation ran on a busy "
                "machine\n", s->busy_blocks);
}

int pb_export_trend(FILE *out, const char *db_path, const struct pb_trend_query *q, char *err,
                    size_t errlen)
{
    struct series s;
    char name[512];
    int n = load_series(db_path, q, &s, name, sizeof name, err, errlen);
    if (n < 0)
        return n;
    int ret = -1;
    json_t *doc = NULL, *list = NULL;
    if (q->json) {
        list = json_array();
        doc = json_pack("{s:s, s:s, s:s, s:o}", "database", name, "metric",
                        metrics[q->metric].name, "unit", metrics[q->metric].unit, "blocks", list);
    } else if (q->csv) {
        fputs(TREND_CSV_HEADER "\r\n", out);
    }
    for (unsigned i = 0; i < s.n; i++) {
        const struct block *b = &s.blocks[i];
        unsigned first = q->limit && b->n > q->limit ? b->n - q->limit : 0;
        if (q->json)
            json_array_append_new(list, block_json(b, first, q->metric));
        else if (q->csv)
            print_block_csv(out, b, first, q->metric);
        else
            print_block_text(out, b, first, q->metric);
    }
    if (q->json)
        json_object_set_new(doc, "busy_series_left_out", json_integer(s.busy_blocks));
    else if (!q->csv)
        print_busy_blocks(out, &s);
    if (q->json) {
        if (!doc || json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
            snprintf(err, errlen, "cannot write the trend (out of memory?)");
            json_decref(doc);
            goto out;
        }
        fputc('\n', out);
        json_decref(doc);
    }
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "write error");
        goto out;
    }
    ret = (int)s.n;
out:
    series_free(&s);
    return ret;
}

/* ---- change points -------------------------------------------------------------------- */

/* A shift in the worse direction of the metric, beyond threshold_pct. */
static bool is_regression(enum pb_trend_metric m, double shift, double threshold_pct)
{
    double worse = metrics[m].higher_is_better ? -shift : shift;
    return worse * 100 > threshold_pct;
}

/* pb_changes.h's options from c (NULL: the defaults). 0, or -1 + message. */
static int change_options(const struct pb_trend_changes *c, struct pb_change_options *o,
                          char *err, size_t errlen)
{
    static const struct pb_trend_changes defaults;
    if (!c)
        c = &defaults;
    *o = (struct pb_change_options){ .alpha = c->alpha, .permutations = c->permutations,
                                     .seed = c->seed, .min_size = c->min_size };
    if (o->alpha != 0 && !(o->alpha > 0 && o->alpha < 1)) {
        snprintf(err, errlen, "--alpha %g: expected a significance between 0 and 1", o->alpha);
        return -1;
    }
    if (o->min_size == 1) {
        snprintf(err, errlen, "a change needs at least 2 invocations on each side");
        return -1;
    }
    return 0;
}

int pb_export_trend_changes(FILE *out, const char *db_path, const struct pb_trend_query *q,
                            const struct pb_trend_changes *c, unsigned *regressions, char *err,
                            size_t errlen)
{
    *regressions = 0;
    struct pb_change_options o;
    if (change_options(c, &o, err, errlen) != 0)
        return -1;
    struct series s;
    char name[512];
    int n = load_series(db_path, q, &s, name, sizeof name, err, errlen);
    if (n < 0)
        return n;
    int ret = -1;
    double *x = NULL;
    struct pb_change *ch = NULL;
    json_t *doc = NULL, *list = NULL;
    if (q->json) {
        list = json_array();
        doc = json_pack("{s:s, s:s, s:s, s:f, s:I, s:f, s:o}", "database", name, "metric",
                        metrics[q->metric].name, "unit", metrics[q->metric].unit, "alpha",
                        o.alpha ? o.alpha : 0.05, "seed", (json_int_t)o.seed, "threshold_pct",
                        c->threshold_pct, "blocks", list);
    }
    for (unsigned i = 0; i < s.n; i++) {
        const struct block *b = &s.blocks[i];
        free(x);
        free(ch);
        x = malloc((b->n + 1) * sizeof *x);
        ch = malloc((b->n + 1) * sizeof *ch);
        if (!x || !ch) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        for (unsigned k = 0; k < b->n; k++)
            x[k] = isfinite(b->points[k].value) ? b->points[k].value : 0;
        int nc = pb_changes_find(x, b->n, &o, ch, b->n);
        if (nc < 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        bool gate = nc > 0 && is_regression(q->metric, ch[nc - 1].shift, c->threshold_pct);
        if (gate)
            (*regressions)++;
        json_t *jchanges = q->json ? json_array() : NULL;
        if (!q->json)
            print_block_head(out, b, q->metric);
        for (int k = 0; k < nc; k++) {
            const struct point *p = &b->points[ch[k].index];
            const struct point *prev = &b->points[ch[k].index - 1];
            bool worse = is_regression(q->metric, ch[k].shift, 0);
            /* The points each median was taken over, and how many of them
             * ran on a busy machine: a shift made of busy points is the
             * machine's, not the code's. */
            unsigned from = k > 0 ? ch[k - 1].index : 0, to = k + 1 < nc ? ch[k + 1].index : b->n;
            unsigned busy_before = 0, busy_after = 0;
            for (unsigned j = from; j < to; j++)
                *(j < ch[k].index ? &busy_before : &busy_after) += b->points[j].busy > 0;
            if (q->json) {
                json_array_append_new(
                    jchanges,
                    json_pack("{s:i, s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:b, s:i, s:i, s:i,"
                              " s:i}", "index",
                              (int)ch[k].index, "commit", p->commit, "date", p->date,
                              "previous_commit", prev->commit, "median_before",
                              ch[k].median_before, "median_after", ch[k].median_after, "shift",
                              ch[k].shift, "p_value", ch[k].p_value, "direction",
                              worse ? "regression" : "improvement", "gate",
                              gate && k == nc - 1, "invocations_before", (int)(ch[k].index - from),
                              "busy_before", (int)busy_before, "invocations_after",
                              (int)(to - ch[k].index), "busy_after", (int)busy_after));
                continue;
            }
            char before[32], after[32];
            fmt_value(q->metric, ch[k].median_before, before, sizeof before);
            fmt_value(q->metric, ch[k].median_after, after, sizeof after);
            fprintf(out, "  change at %s (%s, after %s): %s -> %s  %+.1f%%  p=%.3f  %s%s\n",
                    p->commit[0] ? p->commit : "?", p->date, prev->commit[0] ? prev->commit : "?",
                    before, after, 100 * ch[k].shift, ch[k].p_value,
                    worse ? "regression" : "improvement",
                    gate && k == nc - 1 ? "  (beyond the gate's threshold)" : "");
            if (busy_before || busy_after)
                fprintf(out, "    on a busy machine (others took %.0f%% or more of a repetition's "
                        "CPU time): %u of %u invocations before it, %u of %u after; "
                        "--skip-busy leaves them out\n", PB_OTHERS_BUSY_PCT, busy_before,
                        ch[k].index - from, busy_after, to - ch[k].index);
        }
        if (q->json) {
            json_t *o2 = block_key_json(b);
            json_object_set_new(o2, "invocations", json_integer(b->n));
            json_object_set_new(o2, "busy_left_out", json_integer(b->busy_left_out));
            json_object_set_new(o2, "changes", jchanges);
            json_array_append_new(list, o2);
        } else if (nc == 0) {
            fprintf(out, "  no change in %u invocation%s%s", b->n, b->n == 1 ? "" : "s",
                    b->n < 2 * (o.min_size ? o.min_size : 3) ? " (too few to tell)" : "");
            if (b->busy_left_out)
                fprintf(out, "; %u on a busy machine left out", b->busy_left_out);
            fputc('\n', out);
        }
        if (!q->json)
            fputc('\n', out);
    }
    if (q->json)
        json_object_set_new(doc, "busy_series_left_out", json_integer(s.busy_blocks));
    else
        print_busy_blocks(out, &s);
    if (q->json) {
        if (!doc || json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0) {
            snprintf(err, errlen, "cannot write the changes (out of memory?)");
            goto out;
        }
        fputc('\n', out);
    }
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "write error");
        goto out;
    }
    ret = (int)s.n;
out:
    json_decref(doc);
    free(x);
    free(ch);
    series_free(&s);
    return ret;
}

/* ---- the trend as a page ---------------------------------------------------------------- */

int pb_export_trend_html(const char *html_path, const char *db_path,
                         const struct pb_trend_query *q, const struct pb_trend_changes *c,
                         const struct pb_html_options *opt, struct pb_html_stats *stats,
                         char *err, size_t errlen)
{
    struct pb_change_options co;
    if (change_options(c, &co, err, errlen) != 0)
        return -1;
    struct series s;
    char name[512];
    int n = load_series(db_path, q, &s, name, sizeof name, err, errlen);
    if (n < 0)
        return n;
    int ret = -1;
    /* Everything the page shows, laid out per block: its points, their
     * value texts (32 bytes each), its changes and theirs. */
    struct pb_html_trend_series *se = calloc(s.n + 1, sizeof *se);
    struct pb_html_trend_point **pts = calloc(s.n + 1, sizeof *pts);
    struct pb_html_trend_change **chs = calloc(s.n + 1, sizeof *chs);
    char (**texts)[32] = calloc(s.n + 1, sizeof *texts);
    char **titles = calloc(s.n + 1, sizeof *titles);
    double *x = NULL;
    struct pb_change *found = NULL;
    if (!se || !pts || !chs || !texts || !titles)
        goto oom;
    for (unsigned i = 0; i < s.n; i++) {
        const struct block *b = &s.blocks[i];
        unsigned first = q->limit && b->n > q->limit ? b->n - q->limit : 0, np = b->n - first;
        free(x);
        free(found);
        x = malloc((b->n + 1) * sizeof *x);
        found = malloc((b->n + 1) * sizeof *found);
        pts[i] = calloc(np + 1, sizeof *pts[i]);
        chs[i] = calloc(b->n + 1, sizeof *chs[i]);
        texts[i] = calloc(np + 2 * b->n + 1, sizeof *texts[i]);
        size_t tlen = 0;
        FILE *tf = open_memstream(&titles[i], &tlen);
        if (!x || !found || !pts[i] || !chs[i] || !texts[i] || !tf) {
            if (tf)
                fclose(tf);
            goto oom;
        }
        print_block_head(tf, b, q->metric);
        if (fclose(tf) != 0 || !titles[i])
            goto oom;
        titles[i][strcspn(titles[i], "\n")] = 0;
        for (unsigned k = 0; k < b->n; k++)
            x[k] = isfinite(b->points[k].value) ? b->points[k].value : 0;
        int nc = pb_changes_find(x, b->n, &co, found, b->n);
        if (nc < 0)
            goto oom;
        for (unsigned k = 0; k < np; k++) {
            const struct point *p = &b->points[first + k];
            fmt_value(q->metric, p->value, texts[i][k], sizeof texts[i][k]);
            pts[i][k] = (struct pb_html_trend_point){
                .date = p->date, .commit = p->commit, .host = p->host, .value = p->value,
                .value_text = texts[i][k], .reps = p->reps, .busy_reps = p->busy,
                .others_max = p->others_max, .partial = p->partial, .failed = p->failed };
        }
        unsigned m = 0;
        for (int k = 0; k < nc; k++) {
            if (found[k].index <= first)
                continue;              /* before the points shown */
            char *before = texts[i][np + 2 * m], *after = texts[i][np + 2 * m + 1];
            fmt_value(q->metric, found[k].median_before, before, 32);
            fmt_value(q->metric, found[k].median_after, after, 32);
            chs[i][m++] = (struct pb_html_trend_change){
                .index = found[k].index - first, .median_before = found[k].median_before,
                .median_after = found[k].median_after, .shift = found[k].shift,
                .p_value = found[k].p_value, .before_text = before, .after_text = after,
                .regression = is_regression(q->metric, found[k].shift, 0) };
        }
        se[i] = (struct pb_html_trend_series){ .title = titles[i], .points = pts[i],
                                               .npoints = np, .changes = chs[i],
                                               .nchanges = m,
                                               .busy_left_out = b->busy_left_out };
    }
    struct pb_html_trend t = { .database = name, .metric_title = metrics[q->metric].title,
                               .unit = metrics[q->metric].unit,
                               .higher_is_better = metrics[q->metric].higher_is_better,
                               .series = se, .nseries = s.n,
                               .busy_series_left_out = s.busy_blocks };
    if (pb_html_trend_write(html_path, &t, opt, stats, err, errlen) == 0)
        ret = (int)s.n;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    for (unsigned i = 0; i < s.n; i++) {
        if (pts)
            free(pts[i]);
        if (chs)
            free(chs[i]);
        if (texts)
            free(texts[i]);
        if (titles)
            free(titles[i]);
    }
    free(se);
    free(pts);
    free(chs);
    free(texts);
    free(titles);
    free(x);
    free(found);
    series_free(&s);
    return ret;
}
