/* pendbench ab OLD NEW [JOB]: two builds measured alternately, the CI gate.
 *
 * Two result files made minutes apart differ by whatever the machine did
 * in between; nothing computed afterwards can take that out. So the two
 * builds run in the same minutes, alternately: for every configuration,
 * one repetition of OLD and one of NEW back to back, in ABBA order (A B,
 * B A, ...), so a drift that is linear over two steps adds the same to
 * both sides and cancels. Attempt i of OLD and attempt i of NEW of a
 * configuration form a pair; compare judges the per-pair ratios (paired t
 * test on their logs, opts.paired), after the multiple-comparison
 * correction and against the noise floor, as for two files.
 *
 * A job file with several sections is split into one job file per section
 * (its [global] and that section, as text), so that a pair's two runs are
 * a second apart rather than the length of the whole job: on this
 * project's VM the host moves the two vCPUs between sockets and SMT
 * siblings about once a second, and the c2c floor with them (30, 70 or
 * 400 ns). A pair in which a run saw another machine state than the
 * majority (compare's floor screen) is left out by compare, and ab
 * measures that configuration again until it has N clean pairs, at most
 * 3N attempts, each after waiting for the floor to come back
 * (pb_wait_for_state: a placement lasts tens of seconds).
 *
 * Each run is one `EXE run JOB... --repeat 1 --quiet --no-history --json
 * FILE` (options every pendbench since the history has), so OLD may be an
 * older build. The runs are merged into DIR/base.json and DIR/new.json
 * (repetition = attempt), kept for `compare`, `report` and `history`, and
 * the comparison is printed with compare's exit status. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "pb_compare.h"
#include "pb_grow.h"
#include "pb_result.h"
#include "pb_rng.h"
#include "pb_runkey.h"

#define AB_MAX_ARGS 200
#define AB_MAX_REPEAT 200
#define AB_MAX_UNITS 64
#define PATH_MAX_AB 1024
/* The longest name ab writes below DIR, "/jobs/NN-<100 characters>.ini"
 * (113) with room to spare: -o DIR is refused when its files would not
 * fit PATH_MAX_AB, rather than written under names cut short. */
#define AB_NAME_ROOM 128

static const char ab_about[] =
    "Measures two builds of pendbench alternately on this machine: for every\n"
    "configuration, N pairs of runs, OLD and NEW back to back in ABBA order\n"
    "(A B, B A, ...), so that drift hits both alike. A job file with several\n"
    "jobs is run one job at a time, so the two runs of a pair are about a second\n"
    "apart: each from DIR/jobs/NN-NAME.ini, the job with the [global] sections\n"
    "before it, as run reads the file. Writes DIR/base.json (OLD) and\n"
    "DIR/new.json (NEW), then prints compare's table with paired statistics:\n"
    "attempt i of OLD against attempt i of NEW (the paired t test on the log of\n"
    "each pair's ratio, with the Wilcoxon signed-rank test beside it when the\n"
    "pairs can reach alpha), corrected for multiple comparisons and judged\n"
    "against the noise floor as `pendbench compare --help` describes. A pair in\n"
    "which a run saw another machine state (its c2c floor moved, or lay beyond\n"
    "--floor-factor of the median; or, with 4 pairs or more, its throughput ratio\n"
    "lay beyond --floor-factor of theirs) is left out and measured again, at most\n"
    "3N attempts per configuration, each after waiting for the floor between its\n"
    "CPUs to come back (probed every 250 ms; at most a quarter of the time ab has\n"
    "run, 30 s in all); a job still short of N clean pairs after them says so\n"
    "above the table.\n"
    "\n"
    "This is the CI gate: build the old revision in a second work tree and run\n"
    "  pendbench ab /tmp/old/build/pendbench ./build/pendbench JOB.ini --repeat 6\n"
    "`pendbench ab ./build/pendbench ./build/pendbench JOB.ini` (the same build\n"
    "twice, an A/A check) shows what this machine calls noise.\n"
    "\n"
    "JOBFILE, the topology options and the scenario options go to every run (as\n"
    "`EXE run JOBFILE OPTIONS --repeat 1 --quiet --no-history --json FILE`); they\n"
    "are checked here first.\n";

enum { AB_REPEAT, AB_OUTPUT, AB_JSON };

static const struct pb_opt ab_opts[] = {
    { "repeat", 0, "N", "clean pairs per configuration, 1 to 200 (default 6; 3 at least for "
      "the statistics)", AB_REPEAT },
    { "output", 'o', "DIR", "where base.json, new.json and ab.log go (default ab-out)",
      AB_OUTPUT },
    { "json", 0, NULL, "the comparison as JSON on stdout instead of the table", AB_JSON },
    { NULL, 0, NULL, NULL, 0 },
};

/* ab's command line, read. */
struct ab_args {
    const char *exe[2], *outdir;
    unsigned repeat;
    bool json;
    /* What goes to every run, in the order given; jf: the job file's index, or -1. */
    const char *pass[AB_MAX_ARGS];
    int npass, jf;
    char *arena;                       /* the "--name=value" strings of pass[] */
    size_t arena_used, arena_size;
    struct pb_scenario check;          /* the scenario options, applied to check them */
    struct pb_topo *topo;              /* the topology options, loaded to check them */
};

static int ab_set(void *ctx, const struct pb_opt *o, const char *v, char *err, size_t errlen)
{
    struct ab_args *a = ctx;
    uint64_t n;
    switch (o->id) {
    case AB_REPEAT:
        if (pb_opt_count(v, 1, AB_MAX_REPEAT, &n, err, errlen) != 0)
            return -1;
        a->repeat = (unsigned)n;
        return 0;
    case AB_OUTPUT:
        a->outdir = v;
        if (strlen(v) > PATH_MAX_AB - AB_NAME_ROOM) {
            snprintf(err, errlen, "a directory name of %zu characters: at most %d (ab writes "
                     "names of up to %d more in it)", strlen(v), PATH_MAX_AB - AB_NAME_ROOM,
                     AB_NAME_ROOM - 1);
            return -1;
        }
        return pb_opt_path(v, err, errlen);
    case AB_JSON:
        a->json = true;
        return 0;
    }
    return -1;
}

/* A run option, checked: passed on as one "--name=value" (a value that
 * starts with a dash stays a value for any run). */
static int ab_pass(struct ab_args *a, const struct pb_opt *o, const char *v, char *err,
                   size_t errlen)
{
    size_t need = strlen(o->name) + strlen(v) + 4;
    if (a->npass >= AB_MAX_ARGS - 12 || a->arena_used + need > a->arena_size) {
        snprintf(err, errlen, "too many arguments for run");
        return -1;
    }
    char *t = a->arena + a->arena_used;
    snprintf(t, need, "--%s=%s", o->name, v);
    a->arena_used += need;
    a->pass[a->npass++] = t;
    return 0;
}

static int ab_scenario(void *ctx, const struct pb_opt *o, const char *v, char *err,
                       size_t errlen)
{
    struct ab_args *a = ctx;
    if (pb_scenario_opt_apply(&a->check, o, v, err, errlen) != 0)
        return -1;
    return ab_pass(a, o, v, err, errlen);
}

static int ab_topology(void *ctx, const struct pb_opt *o, const char *v, char *err,
                       size_t errlen)
{
    struct ab_args *a = ctx;
    if (pb_topology_set(&a->topo, o, v, err, errlen) != 0)
        return -1;
    return ab_pass(a, o, v, err, errlen);
}

/* OLD, NEW, then the job file. */
static int ab_positional(void *ctx, const char *arg, char *err, size_t errlen)
{
    struct ab_args *a = ctx;
    if (!a->exe[1]) {
        a->exe[a->exe[0] ? 1 : 0] = arg;
        return 0;
    }
    if (a->jf >= 0) {
        snprintf(err, errlen, "one job file at a time ('%s', '%s')", a->pass[a->jf], arg);
        return -1;
    }
    if (a->npass >= AB_MAX_ARGS - 12) {
        snprintf(err, errlen, "too many arguments for run");
        return -1;
    }
    a->jf = a->npass;
    a->pass[a->npass++] = arg;
    return 0;
}

static int fail_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "pendbench ab: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see `pendbench ab --help`)\n");
    return PB_EXIT_USAGE;
}

/* Runs argv with stdout and stderr appended to log_fd. Returns the exit
 * status, 128 + signal, or -1 when it could not start. */
static int spawn(char *const *argv, int log_fd)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(log_fd, 1);
        dup2(log_fd, 2);
        signal(SIGPIPE, SIG_DFL);      /* ignored by main(): an ignored signal outlives exec */
        execv(argv[0], argv);
        fprintf(stderr, "pendbench ab: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    bool passed_on = false;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
        /* A signal sent to ab alone (kill, a CI's SIGTERM) is passed on
         * once: the run saves what it has and ends, rather than running on
         * without its parent. Ctrl-C reaches the whole group anyway. */
        if (pb_interrupted && !passed_on) {
            kill(pid, (int)pb_interrupted);
            passed_on = true;
        }
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The last lines of the log, for a run that failed. */
static void show_log_tail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char buf[4096];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    fprintf(stderr, "---- the end of %s ----\n%s", path, buf);
}

/* ---- the files ab writes in DIR --------------------------------------------------- */

/* A configuration is measured at most this many times its clean pairs:
 * the pairs a changing machine state spoils are measured again. */
static unsigned max_attempts_of(unsigned repeat)
{
    return 3 * repeat;
}

/* The jobs of a job file (its non-global sections): split into one unit
 * each when there are two or more (split_jobfile), else run whole. */
static size_t count_jobs(const struct pb_job_section *sec, size_t nsec)
{
    size_t njobs = 0;
    for (size_t i = 0; i < nsec; i++)
        njobs += !sec[i].global;
    return njobs;
}

/* Unit n's job file, for the job named job_name: "DIR/jobs/NN-NAME.ini",
 * the name with anything but letters, digits and '-' as '_', cut to 100
 * (the number keeps two apart). 0, or -1 when it would not fit (DIR
 * leaves AB_NAME_ROOM, -o; a cut name is another file). */
static int unit_file_name(char out[PATH_MAX_AB], const char *dir, int n, const char *job_name)
{
    char safe[PB_NAME_MAX];
    size_t m = 0;
    for (const char *p = job_name; *p && m < sizeof safe - 1; p++)
        safe[m++] = isalnum((unsigned char)*p) || *p == '-' ? *p : '_';
    safe[m] = 0;
    return (size_t)snprintf(out, PATH_MAX_AB, "%s/jobs/%02d-%.100s.ini", dir, n, safe) >=
                   PATH_MAX_AB
               ? -1
               : 0;
}

/* The result file of one run: "DIR/base.u03.a01.json" (side 0, OLD) or
 * "DIR/new.u03.a01.json", merged into DIR/base.json or DIR/new.json at the
 * end and then removed. */
static void attempt_file_name(char out[PATH_MAX_AB], const char *dir, int side, int unit,
                              unsigned attempt)
{
    snprintf(out, PATH_MAX_AB, "%s/%s.u%02d.a%02u.json", dir, side ? "new" : "base", unit,
             attempt);
}

/* Whether a file ab would write in dir, or remove there, is one it reads
 * (inputs: the builds, the job file, the topology XML; the plugins are
 * pb_output_is_input's own): base.json, new.json, ab.log, the job file's
 * units (jobs: the loader's, in the order of the non-global sections) and
 * every run's result file, for every attempt each unit may take. Said
 * by pb_output_is_input, naming the input. */
static bool ab_output_is_input(const char *dir, const struct pb_input *inputs, size_t ninputs,
                               const struct pb_job_section *sections, size_t nsections,
                               const struct pb_scenario *jobs, unsigned repeat)
{
    char path[PATH_MAX_AB];
    static const char *const merged[] = { "base.json", "new.json", "ab.log" };
    for (size_t k = 0; k < sizeof merged / sizeof merged[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, merged[k]);
        if (pb_output_is_input("ab", "output", path, "ab's output", inputs, ninputs))
            return true;
    }
    /* More jobs than AB_MAX_UNITS: refused by split_jobfile before it
     * writes anything. */
    size_t njobs = count_jobs(sections, nsections);
    int nunits = njobs >= 2 && njobs <= AB_MAX_UNITS ? (int)njobs : 1;
    for (int u = 0; njobs >= 2 && u < nunits; u++)
        if (unit_file_name(path, dir, u, jobs[u].name) == 0 &&
            pb_output_is_input("ab", "output", path, "ab's output", inputs, ninputs))
            return true;
    for (int u = 0; u < nunits; u++)
        for (unsigned a = 0; a < max_attempts_of(repeat); a++)
            for (int side = 0; side < 2; side++) {
                attempt_file_name(path, dir, side, u, a);
                if (pb_output_is_input("ab", "output", path, "ab's output", inputs, ninputs))
                    return true;
            }
    return false;
}

/* ---- splitting a job file into one file per section ---------------------------- */

/* A section header "[name]" (leading blanks allowed): its name in out. */
/* Writes one job file per job of `path` into dir/jobs, each meaning what
 * that job means in the whole file: the text before the first section,
 * then the [global] sections that come before the job (a [global] after
 * a job changes only the jobs after it, as the loader reads it), then the
 * job's own section. `sec` is the loader's list of section headers
 * (pb_jobfile_load_sections), so the split sees sections, comments and
 * continuation lines exactly as the loader does. Returns the number
 * written (0: fewer than two jobs, run it whole), or -1 with a message. */
static int split_jobfile(const char *path, const struct pb_job_section *sec, size_t nsec,
                         const struct pb_scenario *jobs, const char *dir,
                         char files[][PATH_MAX_AB], char *err, size_t errlen)
{
    size_t njobs = count_jobs(sec, nsec);
    if (njobs < 2)
        return 0;
    if (njobs > AB_MAX_UNITS) {
        snprintf(err, errlen, "%s: %zu jobs; ab takes at most %d", path, njobs, AB_MAX_UNITS);
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    /* The file's lines, numbered from 1 as the loader numbers them. */
    char **lines = NULL, *line = NULL;
    size_t nlines = 0, linecap = 0, cap = 0;
    ssize_t len;
    int n = -1;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (nlines == linecap) {
            size_t c = linecap ? 2 * linecap : 256;
            char **l = realloc(lines, c * sizeof *l);
            if (!l)
                goto nomem;
            lines = l;
            linecap = c;
        }
        if (!(lines[nlines] = strdup(line)))
            goto nomem;
        nlines++;
    }
    char jobdir[PATH_MAX_AB];
    snprintf(jobdir, sizeof jobdir, "%s/jobs", dir);
    if (mkdir(jobdir, 0777) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %.900s: %s", jobdir, strerror(errno));
        goto out;
    }
    n = 0;
    for (size_t k = 0, job = 0; k < nsec && n >= 0; k++) {
        if (sec[k].global)
            continue;
        if (unit_file_name(files[n], dir, n, jobs[job++].name) != 0) {
            snprintf(err, errlen, "%.900s...: a job file name too long", jobdir);
            n = -1;
            break;
        }
        FILE *part = fopen(files[n], "w");
        if (!part) {
            snprintf(err, errlen, "cannot write %s: %s", files[n], strerror(errno));
            n = -1;
            break;
        }
        /* Lines [from, to) of the file, 1-based. */
#define COPY_LINES(from, to)                                                    \
        for (size_t ln = (from); ln < (to) && ln <= nlines; ln++)               \
            fputs(lines[ln - 1], part)
        COPY_LINES(1, sec[0].line);
        for (size_t g = 0; g < k; g++)
            if (sec[g].global)
                COPY_LINES(sec[g].line, sec[g + 1].line);
        COPY_LINES(sec[k].line, k + 1 < nsec ? sec[k + 1].line : nlines + 1);
#undef COPY_LINES
        if (ferror(part) | (fclose(part) != 0)) {
            snprintf(err, errlen, "cannot write %s", files[n]);
            n = -1;
            break;
        }
        n++;
    }
    goto out;
nomem:
    snprintf(err, errlen, "out of memory");
    n = -1;
out:
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(lines);
    free(line);
    fclose(f);
    return n;
}

/* ---- what was measured ------------------------------------------------------------ */

struct measured {
    unsigned unit, attempt;
    int side;
    struct pb_runkey key;
    struct pb_floor_state floor;
    double throughput_ops_s;
};

struct tally {
    struct measured *m;
    unsigned n, cap;
};

static int note_run(struct tally *t, const char *path, unsigned unit, unsigned attempt, int side,
                    char *err, size_t errlen)
{
    struct pb_result_doc doc;
    if (pb_result_read(path, &doc, err, errlen) != 0)
        return -1;
    /* One attempt is one `run --repeat 1` of the unit: every configuration
     * once, as many as the unit's first file had. A build that wrote
     * something else (a canned file, another scenario) made a gate that
     * compared nothing, or repetitions that were never paired, and passed. */
    unsigned first = 0;
    bool have_first = false;
    int first_side = -1;            /* ABBA: the unit's first file may be NEW's */
    for (unsigned i = 0; i < t->n; i++)
        if (t->m[i].unit == unit && t->m[i].attempt == 0) {
            if (first_side < 0)
                first_side = t->m[i].side;
            if (t->m[i].side == first_side) {
                first++;
                have_first = true;
            }
        }
    const char *who = side ? "NEW" : "OLD";
    if (doc.nruns == 0 || (have_first && doc.nruns != first)) {
        snprintf(err, errlen, "%s: %s wrote %u run%s for one attempt, where %s %u", path, who,
                 doc.nruns, doc.nruns == 1 ? "" : "s",
                 have_first ? "the first attempt had" : "a run needs at least", have_first ? first : 1);
        pb_result_doc_free(&doc);
        return -1;
    }
    for (unsigned i = 0; i < doc.nruns; i++)
        for (unsigned j = i + 1; j < doc.nruns; j++) {
            struct pb_runkey a, b;
            if (pb_runkey_of_run(&doc.runs[i], &a) == 0 && pb_runkey_of_run(&doc.runs[j], &b) == 0 &&
                pb_runkey_same(&a, &b)) {
                snprintf(err, errlen, "%s: %s wrote runs %u and %u of one configuration for one "
                         "attempt (`run --repeat 1` writes each once)", path, who, i, j);
                pb_result_doc_free(&doc);
                return -1;
            }
        }
    for (unsigned i = 0; i < doc.nruns; i++) {
        struct measured *m = pb_grow_for_one(t->m, t->n, &t->cap, sizeof *m, 64);
        if (!m) {
            pb_result_doc_free(&doc);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        t->m = m;
        struct measured *x = &t->m[t->n++];
        x->unit = unit;
        x->attempt = attempt;
        x->side = side;
        (void)pb_runkey_of_run(&doc.runs[i], &x->key);
        pb_floor_state_of(&doc.runs[i].r, &x->floor);
        x->throughput_ops_s = doc.runs[i].r.throughput_ops_s;
    }
    pb_result_doc_free(&doc);
    return 0;
}

/* Off the floor: against the median floor of every run measured so far
 * between the same two CPUs (compare's screen). */
static bool tally_off(const struct tally *t, const struct pb_floor_state *f, double factor)
{
    struct pb_floor_state *all = malloc((t->n ? t->n : 1) * sizeof *all);
    if (!all)
        return false;
    for (unsigned i = 0; i < t->n; i++)
        all[i] = t->m[i].floor;
    double ref = pb_floor_reference_like(all, t->n, f);
    free(all);
    return pb_floor_off(f, ref, factor);
}

/* Before a unit's extra attempt: wait for the floor between the CPUs of
 * its first run to come back near the reference for that pair. */
static void wait_for_unit_state(const struct tally *t, unsigned unit, double factor,
                                struct pb_state_wait *sw, FILE *out)
{
    for (unsigned i = 0; i < t->n; i++) {
        if (t->m[i].unit != unit)
            continue;
        struct pb_floor_state *all = malloc((t->n ? t->n : 1) * sizeof *all);
        if (!all)
            return;
        for (unsigned j = 0; j < t->n; j++)
            all[j] = t->m[j].floor;
        const struct pb_floor_state *f = &t->m[i].floor;
        double ref = pb_floor_reference_like(all, t->n, f);
        free(all);
        pb_wait_for_state(sw, f->cpu_lo, f->cpu_hi, ref, factor, out);
        return;
    }
}

/* The fewest clean pairs a configuration of `unit` has (compare's screen:
 * both floors, then the pairs' throughput ratios; counting the floors
 * alone, ab stopped at N pairs of which compare then left one out, and the
 * Wilcoxon test that needs 6 had 5). */
static unsigned clean_pairs(const struct tally *t, unsigned unit, double factor)
{
    unsigned fewest = UINT32_MAX;
    double *ratio = malloc((t->n ? t->n : 1) * sizeof *ratio);
    bool *keep = malloc((t->n ? t->n : 1) * sizeof *keep);
    if (!ratio || !keep) {
        free(ratio);
        free(keep);
        return 0;                              /* measure again rather than stop short */
    }
    for (unsigned i = 0; i < t->n; i++) {
        const struct measured *a = &t->m[i];
        if (a->unit != unit || a->side != 0 || a->attempt != 0)
            continue;                          /* one count per configuration */
        unsigned clean = 0;
        bool rated = true;                     /* every pair has two throughputs */
        for (unsigned j = 0; j < t->n; j++) {
            const struct measured *b = &t->m[j];
            if (b->unit != unit || b->side != 0 || !pb_runkey_same(&a->key, &b->key) ||
                tally_off(t, &b->floor, factor))
                continue;
            for (unsigned k = 0; k < t->n; k++) {
                const struct measured *c = &t->m[k];
                if (c->unit == unit && c->side == 1 && c->attempt == b->attempt &&
                    pb_runkey_same(&a->key, &c->key) && !tally_off(t, &c->floor, factor)) {
                    rated &= b->throughput_ops_s > 0 && c->throughput_ops_s > 0;
                    ratio[clean++] = rated ? c->throughput_ops_s / b->throughput_ops_s : 0;
                    break;
                }
            }
        }
        /* compare screens the ratios only when every pair has them. */
        if (rated)
            clean = pb_screen_pair_ratios(ratio, clean, factor, keep);
        fewest = clean < fewest ? clean : fewest;
    }
    free(ratio);
    free(keep);
    return fewest == UINT32_MAX ? 0 : fewest;
}

/* Concatenates every run file of a side into one document, repetition =
 * attempt. */
static int merge_side(char (*files)[PATH_MAX_AB], const unsigned *attempt_of, unsigned n,
                      const char *out_path, char *err, size_t errlen)
{
    struct pb_result_doc *docs = calloc(n ? n : 1, sizeof *docs);
    if (!docs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    unsigned total = 0, loaded = 0;
    int rc = -1;
    for (; loaded < n; loaded++) {
        if (pb_result_read(files[loaded], &docs[loaded], err, errlen) != 0)
            goto out;
        total += docs[loaded].nruns;
    }
    struct pb_run_result *runs = calloc(total ? total : 1, sizeof *runs);
    if (!runs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    struct pb_context ctx = docs[0].ctx;
    unsigned k = 0, most = 0;
    for (unsigned d = 0; d < n; d++) {
        ctx.partial |= docs[d].ctx.partial;
        most = attempt_of[d] + 1 > most ? attempt_of[d] + 1 : most;
        for (unsigned i = 0; i < docs[d].nruns; i++) {
            runs[k] = docs[d].runs[i].r;          /* shallow: the documents own the pairs */
            runs[k].repetition = attempt_of[d];
            runs[k].order = k;
            k++;
        }
    }
    ctx.repetitions = most;
    rc = pb_result_write(out_path, &ctx, runs, total, err, errlen);
    free(runs);
out:
    for (unsigned d = 0; d < loaded; d++)
        pb_result_doc_free(&docs[d]);
    free(docs);
    return rc;
}

/* ---- the verb ------------------------------------------------------------------------ */

/* The measuring, once the command line is read. */
static int ab_run(const struct ab_args *ab, struct pb_compare_opts *opts_in)
{
    struct pb_compare_opts opts = *opts_in;
    const char *const *exe = ab->exe, *outdir = ab->outdir;
    unsigned repeat = ab->repeat;
    bool json = ab->json;
    const char *const *pass = ab->pass;
    int npass = ab->npass, jf = ab->jf;
    if (!exe[0] || !exe[1])
        return fail_usage("expected two pendbench executables, OLD and NEW%s", "");
    for (int k = 0; k < 2; k++)
        if (access(exe[k], X_OK) != 0)
            return fail_usage("'%s' is not an executable (build it: ninja build/pendbench)", exe[k]);
    /* The job file as this build reads it, before anything is made or run
     * (OLD may read it differently, and says so when it runs). */
    struct pb_scenario *jobs = NULL;
    struct pb_job_section *sections = NULL;
    size_t nsections = 0;
    if (jf >= 0) {
        char jerr[1024];
        if (pb_jobfile_load_sections(pass[jf], &ab->check, &jobs, &sections, &nsections, jerr,
                                     sizeof jerr) < 0) {
            fprintf(stderr, "pendbench ab: %s\n", jerr);
            return PB_EXIT_USAGE;
        }
    }
    /* Nothing ab writes in DIR, or removes there, may be what it reads:
     * the builds, the job file, the topology XML and the plugins
     * (pb_output_is_input's own) every run reads. */
    const struct pb_input inputs[] = {
        { "OLD", exe[0] },
        { "NEW", exe[1] },
        { "the job file", jf >= 0 ? pass[jf] : NULL },
        { "the topology XML", ab->topo ? pb_topo_xml_file(ab->topo) : NULL },
    };
    if (ab_output_is_input(outdir, inputs, sizeof inputs / sizeof inputs[0], sections, nsections,
                           jobs, repeat)) {
        free(jobs);
        free(sections);
        return PB_EXIT_USAGE;
    }
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "pendbench ab: cannot create %s: %s\n", outdir, strerror(errno));
        free(jobs);
        free(sections);
        return PB_EXIT_USAGE;
    }

    /* The units: one per job of a job file, or the arguments whole. */
    static char unit_file[AB_MAX_UNITS][PATH_MAX_AB];
    char err[1024];
    int nunits = jf >= 0 ? split_jobfile(pass[jf], sections, nsections, jobs, outdir, unit_file,
                                         err, sizeof err)
                         : 0;
    free(jobs);
    free(sections);
    if (nunits < 0) {
        fprintf(stderr, "pendbench ab: %s\n", err);
        return PB_EXIT_USAGE;
    }
    bool split = nunits > 0;
    if (!split)
        nunits = 1;

    char log[PATH_MAX_AB];
    snprintf(log, sizeof log, "%s/ab.log", outdir);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0666);
    if (log_fd < 0) {
        fprintf(stderr, "pendbench ab: cannot write %s: %s\n", log, strerror(errno));
        return PB_EXIT_USAGE;
    }

    unsigned max_attempts = max_attempts_of(repeat);
    unsigned nfiles_max = (unsigned)nunits * max_attempts;
    char (*files[2])[PATH_MAX_AB];
    unsigned *attempt_of[2];
    unsigned nfiles[2] = { 0, 0 }, attempts[AB_MAX_UNITS] = { 0 };
    struct tally tally = { 0 };
    int status = PB_EXIT_OK;
    for (int s = 0; s < 2; s++) {
        files[s] = calloc(nfiles_max, sizeof *files[s]);
        attempt_of[s] = calloc(nfiles_max, sizeof *attempt_of[s]);
    }
    if (!files[0] || !files[1] || !attempt_of[0] || !attempt_of[1]) {
        fprintf(stderr, "pendbench ab: out of memory\n");
        status = PB_EXIT_USAGE;
        goto out;
    }
    pb_install_interrupt();
    FILE *msg = json ? stderr : stdout;
    fprintf(msg, "ab: %u clean pairs of %d configuration%s%s in ABBA order (at most %u attempts "
                 "each): OLD %s, NEW %s; log in %s\n",
            repeat, nunits, nunits == 1 ? "" : "s", split ? " (one job file section at a time)" : "",
            max_attempts, exe[0], exe[1], log);
    struct pb_rng rng;
    pb_rng_seed(&rng, (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20), 0);
    unsigned step = 0, extra = 0;
    struct pb_state_wait sw;
    pb_state_wait_begin(&sw);
    for (unsigned round = 0; round < max_attempts && !pb_interrupted; round++) {
        /* Which units this round: all for the first N, then those short of clean pairs. */
        int active[AB_MAX_UNITS], nactive = 0;
        for (int u = 0; u < nunits; u++)
            if (round < repeat ||
                (opts.floor_factor > 0 &&
                 clean_pairs(&tally, (unsigned)u, opts.floor_factor) < repeat))
                active[nactive++] = u;
        if (!nactive)
            break;
        if (round >= repeat)
            extra += (unsigned)nactive;
        for (int k = nactive; k > 1; k--) {          /* a random order per round */
            int j = (int)pb_rng_below(&rng, (uint64_t)k);
            int t = active[k - 1];
            active[k - 1] = active[j];
            active[j] = t;
        }
        for (int k = 0; k < nactive && !pb_interrupted; k++, step++) {
            int u = active[k];
            unsigned attempt = attempts[u];
            if (round >= repeat) {
                if (!json && isatty(1))
                    fprintf(stdout, "\r\033[K");
                wait_for_unit_state(&tally, (unsigned)u, opts.floor_factor, &sw, msg);
                if (pb_interrupted)
                    break;
            }
            for (int half = 0; half < 2 && !pb_interrupted; half++) {
                int side = step % 2 == 0 ? half : 1 - half;        /* ABBA */
                char *path = files[side][nfiles[side]];
                attempt_file_name(path, outdir, side, u, attempt);
                char *args[AB_MAX_ARGS + 16];
                int a = 0;
                args[a++] = (char *)exe[side];
                args[a++] = "run";
                for (int p = 0; p < npass; p++)
                    args[a++] = (char *)(split && p == jf ? unit_file[u] : pass[p]);
                args[a++] = "--repeat";
                args[a++] = "1";
                args[a++] = "--quiet";
                args[a++] = "--no-history";
                args[a++] = "--json";
                args[a++] = path;
                args[a] = NULL;
                dprintf(log_fd, "==== round %u, unit %d, %s: %s run ...\n", round, u,
                        side ? "NEW" : "OLD", exe[side]);
                if (!json && isatty(1)) {
                    fprintf(stdout, "\r\033[Kround %u: %s %s", round + 1,
                            split ? unit_file[u] + strlen(outdir) + 6 : "", side ? "NEW" : "OLD");
                    fflush(stdout);
                }
                int rc = spawn(args, log_fd);
                if (rc >= 128 && pb_interrupted) {
                    /* The interruption reaches the run as well (spawn
                     * passes it on): its attempt is not whole, and the
                     * pairs done before it are compared below (this took
                     * it for OLD's failure and dropped them all). */
                    unlink(path);
                    break;
                }
                if (rc != 0) {
                    if (!json && isatty(1))
                        fprintf(stdout, "\n");
                    fprintf(stderr, "pendbench ab: %s (%s) exited %d\n", side ? "NEW" : "OLD",
                            exe[side], rc);
                    show_log_tail(log);
                    /* 1: invariants failed, still measured; anything else: stop. */
                    if (rc != 1 || access(path, R_OK) != 0) {
                        status = pb_interrupted ? pb_interrupted_status() : PB_EXIT_USAGE;
                        goto out;
                    }
                    status = PB_EXIT_FAILED;
                }
                if (note_run(&tally, path, (unsigned)u, attempt, side, err, sizeof err) != 0) {
                    fprintf(stderr, "pendbench ab: %s\n", err);
                    status = PB_EXIT_USAGE;
                    goto out;
                }
                attempt_of[side][nfiles[side]++] = attempt;
            }
            if (!pb_interrupted)
                attempts[u]++;
        }
    }
    if (!json && isatty(1))
        fprintf(stdout, "\r\033[K");
    if (extra && !json)
        fprintf(stdout, "ab: %u extra attempt%s: pairs in another machine state (c2c floor, or "
                        "a throughput ratio far off the others') are measured again\n", extra,
                extra == 1 ? "" : "s");
    /* Out of attempts with pairs still missing: the machine kept changing
     * state. compare's table shows what could be compared (n/a where
     * nothing); said here so that a short gate is not read as a full one. */
    unsigned short_units = 0, fewest = UINT32_MAX;
    for (int u = 0; u < nunits && opts.floor_factor > 0 && !pb_interrupted; u++) {
        unsigned clean = clean_pairs(&tally, (unsigned)u, opts.floor_factor);
        if (clean < repeat) {
            short_units++;
            fewest = clean < fewest ? clean : fewest;
        }
    }
    if (short_units)
        fprintf(msg, "ab: %u of %d %s%s still short of %u clean pairs after %u attempts (the "
                "fewest: %u): the machine kept changing state; the table compares what is "
                "left\n", short_units, nunits, split ? "job file section" : "job",
                nunits == 1 ? "" : "s", repeat, max_attempts, fewest);
    /* An interrupted pair is dropped: both sides keep whole attempts only. */
    for (int s = 0; s < 2; s++)
        while (nfiles[s] > nfiles[1 - s]) {
            nfiles[s]--;
            unlink(files[s][nfiles[s]]);
        }
    if (nfiles[0] == 0) {
        fprintf(stderr, "pendbench ab: interrupted before a pair was complete\n");
        status = pb_interrupted_status();
        goto out;
    }
    char paths[2][PATH_MAX_AB];
    for (int side = 0; side < 2; side++) {
        snprintf(paths[side], sizeof paths[side], "%s/%s.json", outdir, side ? "new" : "base");
        if (merge_side(files[side], attempt_of[side], nfiles[side], paths[side], err,
                       sizeof err) != 0) {
            fprintf(stderr, "pendbench ab: %s\n", err);
            status = PB_EXIT_USAGE;
            goto out;
        }
        for (unsigned f = 0; f < nfiles[side]; f++)
            unlink(files[side][f]);
    }
    fprintf(msg, "ab: wrote %s and %s\n\n", paths[0], paths[1]);

    struct pb_result_doc base, new_doc;
    if (pb_result_read(paths[0], &base, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench ab: %s\n", err);
        status = PB_EXIT_USAGE;
        goto out;
    }
    if (pb_result_read(paths[1], &new_doc, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench ab: %s\n", err);
        pb_result_doc_free(&base);
        status = PB_EXIT_USAGE;
        goto out;
    }
    struct pb_comparison c;
    int cs = PB_EXIT_USAGE;
    if (pb_compare_docs(&base, &new_doc, &opts, &c, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench ab: %s\n", err);
    } else {
        if (json)
            pb_compare_print_json(stdout, &c, paths[0], &base.ctx, paths[1], &new_doc.ctx);
        else
            pb_compare_print(stdout, &c, paths[0], &base.ctx, paths[1], &new_doc.ctx);
        cs = pb_comparison_exit_status(&c);
        if (!c.regressed && !c.improved && !c.unchanged && !c.inconclusive && !c.excluded) {
            /* A gate that compared nothing must not pass: a build whose
             * result file lacks the runs asked for left every metric n/a
             * and exited 0. (Repetitions the floor screen left out are
             * another matter: the table says so, as before.) */
            fprintf(stderr, "pendbench ab: nothing was compared: every metric is n/a (see the "
                    "table: the builds' result files hold no figures for these runs)\n");
            cs = PB_EXIT_USAGE;
        }
        pb_comparison_free(&c);
    }
    pb_result_doc_free(&base);
    pb_result_doc_free(&new_doc);
    if (cs != PB_EXIT_OK || status == PB_EXIT_OK)
        status = cs;
    if (pb_interrupted) {
        /* Like an interrupted run: what was measured is kept and shown, and
         * the status says it is not the whole of what was asked (a gate
         * must not pass on it). */
        fprintf(stderr, "pendbench ab: interrupted: %u pairs compared\n", nfiles[0]);
        status = pb_interrupted_status();
    }
out:
    close(log_fd);
    free(tally.m);
    for (int s = 0; s < 2; s++) {
        free(files[s]);
        free(attempt_of[s]);
    }
    return status;
}

int pb_cmd_ab(int argc, char **argv)
{
    static struct ab_args a;
    memset(&a, 0, sizeof a);
    a.outdir = "ab-out";
    a.repeat = 6;
    a.jf = -1;
    pb_scenario_defaults(&a.check);
    struct pb_compare_opts opts;
    pb_compare_opts_default(&opts);
    opts.paired = true;
    /* Room for every argument as "--name=value". */
    for (int i = 0; i < argc; i++)
        a.arena_size += strlen(argv[i]) + 4;
    a.arena = malloc(a.arena_size);
    if (!a.arena) {
        fprintf(stderr, "pendbench ab: out of memory\n");
        return PB_EXIT_USAGE;
    }
    const struct pb_opt_group groups[] = {
        { "options", ab_opts, ab_set, &a },
        { "statistics (as for `pendbench compare`)", pb_compare_stat_opts, pb_compare_stat_set,
          &opts },
        { "topology options (passed to every run)", pb_topology_opts, ab_topology, &a },
        { "scenario options (passed to every run)", pb_scenario_opts(), ab_scenario, &a },
    };
    const struct pb_cli cli = {
        .verb = "ab",
        .usage = "pendbench ab OLD_PENDBENCH NEW_PENDBENCH [JOBFILE] [OPTIONS]\n",
        .about = ab_about,
        .epilog = "Exit status: 0 nothing regressed, 1 something did, 2 bad input (an executable\n"
                  "missing, a run that could not start: its message is shown), 3 with --strict:\n"
                  "nothing regressed, but something could not be judged, 130 interrupted\n"
                  "(Ctrl-C: the whole pairs measured so far are merged and compared first).\n",
        .groups = groups,
        .ngroups = sizeof groups / sizeof groups[0],
        .positional = ab_positional,
        .ctx = &a,
    };
    int st;
    if (argc < 2) {
        pb_cli_help(&cli, stderr);
        st = PB_EXIT_USAGE;
    } else {
        enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
        st = pr != PB_CLI_GO ? pb_cli_exit(pr) : ab_run(&a, &opts);
    }
    pb_topo_free(a.topo);
    free(a.arena);
    return st;
}
