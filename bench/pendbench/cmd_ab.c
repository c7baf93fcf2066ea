/* pendbench ab OLD NEW [JOB]: two builds measured alternately, the CI gate.
 *
 * Two result files made minutes apart differ by whatever the machine did
 * in between; nothing computed afterwards can take that out. So the two
 * builds run in the same minutes, alternately, one repetition at a time,
 * in ABBA order (A B, B A, A B, ...): a drift that is linear over a pair
 * of rounds adds the same to both sides and cancels. Round i of OLD and
 * round i of NEW form a pair; compare judges the per-pair ratios (paired
 * t test on their logs, opts.paired), after the multiple-comparison
 * correction and against the noise floor, as for two files.
 *
 * Each repetition is one `EXE run JOB... --repeat 1 --quiet --no-history
 * --json FILE` (options every pendbench since the history have), so OLD
 * may be an older build.
 *
 * A round in which a run saw another machine state than the majority (its
 * c2c floor moved, or lay beyond --floor-factor of the median floor: on a
 * VM the host moves vCPUs between sockets for seconds at a time) is left
 * out by compare's floor screen; ab measures extra rounds until every
 * configuration has N clean pairs, at most 3N rounds in all, so that the
 * screen does not starve the test. The per-repetition files are merged into
 * DIR/base.json and DIR/new.json (repetition = round), kept for `compare`,
 * `report` and `history import`, and the comparison is printed with
 * compare's exit status. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "pb_compare.h"
#include "pb_result.h"
#include "pb_runkey.h"

#define AB_MAX_ARGS 200
#define PATH_MAX_AB 1024
#define AB_MAX_REPEAT 200
#define AB_MAX_ROUNDS (3 * AB_MAX_REPEAT)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pendbench ab OLD_PENDBENCH NEW_PENDBENCH [JOBFILE | run options]\n"
            "                    [--repeat N] [-o DIR] [compare options] [--json]\n"
            "\n"
            "Measures two builds of pendbench alternately on this machine: N rounds, each\n"
            "running the same job once with each build, in ABBA order (A B, B A, A B...),\n"
            "so that drift over the minutes of the run hits both alike. Writes\n"
            "DIR/base.json (OLD) and DIR/new.json (NEW), then prints compare's table with\n"
            "paired statistics: round i of OLD against round i of NEW (the paired t test\n"
            "on the log of each pair's ratio, with the Wilcoxon signed-rank test beside\n"
            "it when the pairs can reach alpha), corrected for multiple comparisons and\n"
            "judged against the noise floor as `pendbench compare --help` describes.\n"
            "\n"
            "This is the CI gate: build the old revision in a second work tree and run\n"
            "  pendbench ab /tmp/old/build/pendbench ./build/pendbench JOB.ini --repeat 6\n"
            "`pendbench ab ./build/pendbench ./build/pendbench JOB.ini` (the same build\n"
            "twice, an A/A check) shows what this machine calls noise.\n"
            "\n"
            "  --repeat N         clean rounds (default 6; 3 at least for a test): rounds in\n"
            "                     which a run saw another machine state (its c2c floor\n"
            "                     moved or was off the median) are repeated, 3N in all at most\n"
            "  -o, --output DIR   where base.json, new.json and ab.log go (default ab-out)\n"
            "  --json             the comparison as JSON on stdout instead of the table\n"
            "  --threshold PCT, --alpha A, --metric M, --correction holm|bh|none,\n"
            "  --noise-k K, --max-cv PCT, --floor-factor F   as for `pendbench compare`\n"
            "Every other argument goes to `run` unchanged (a job file, --scenario, the\n"
            "scenario options, --topology...).\n"
            "\n"
            "Exit status: 0 nothing regressed, 1 something did, 2 bad input (an executable\n"
            "missing, a run that could not start: its message is shown).\n");
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
        execv(argv[0], argv);
        fprintf(stderr, "pendbench ab: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
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

/* What the rounds measured, run by run: enough to count clean pairs. */
struct measured {
    unsigned round;
    int side;
    struct pb_runkey key;
    struct pb_floor_state floor;
};

struct tally {
    struct measured *m;
    unsigned n, cap;
};

static int note_round(struct tally *t, const char *path, unsigned round, int side, char *err,
                      size_t errlen)
{
    struct pb_result_doc doc;
    if (pb_result_read(path, &doc, err, errlen) != 0)
        return -1;
    for (unsigned i = 0; i < doc.nruns; i++) {
        if (t->n == t->cap) {
            unsigned cap = t->cap ? 2 * t->cap : 64;
            struct measured *m = realloc(t->m, cap * sizeof *m);
            if (!m) {
                pb_result_doc_free(&doc);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            t->m = m;
            t->cap = cap;
        }
        struct measured *x = &t->m[t->n++];
        x->round = round;
        x->side = side;
        (void)pb_runkey_of_run(&doc.runs[i], &x->key);
        pb_floor_state_of(&doc.runs[i].r, &x->floor);
    }
    pb_result_doc_free(&doc);
    return 0;
}

/* The fewest clean pairs any configuration of OLD has (the screen's rule);
 * *off: runs off the floor in the last round. */
static unsigned fewest_clean_pairs(const struct tally *t, double factor, unsigned last_round,
                                   unsigned *off)
{
    *off = 0;
    struct pb_floor_state *f = malloc((t->n ? t->n : 1) * sizeof *f);
    if (!f)
        return 0;
    for (unsigned i = 0; i < t->n; i++)
        f[i] = t->m[i].floor;
    double ref = pb_floor_reference(f, t->n);
    free(f);
    for (unsigned i = 0; i < t->n; i++)
        *off += t->m[i].round == last_round && pb_floor_off(&t->m[i].floor, ref, factor);
    unsigned fewest = UINT32_MAX;
    for (unsigned i = 0; i < t->n; i++) {
        const struct measured *a = &t->m[i];
        if (a->side != 0 || a->round != 0)
            continue;                          /* one count per configuration */
        unsigned clean = 0;
        for (unsigned j = 0; j < t->n; j++) {
            const struct measured *b = &t->m[j];
            if (b->side != 0 || !pb_runkey_same(&a->key, &b->key) ||
                pb_floor_off(&b->floor, ref, factor))
                continue;
            for (unsigned k = 0; k < t->n; k++) {
                const struct measured *c = &t->m[k];
                if (c->side == 1 && c->round == b->round && pb_runkey_same(&a->key, &c->key) &&
                    !pb_floor_off(&c->floor, ref, factor)) {
                    clean++;
                    break;
                }
            }
        }
        fewest = clean < fewest ? clean : fewest;
    }
    return fewest == UINT32_MAX ? 0 : fewest;
}

/* Concatenates the rounds' documents into one, repetition = round. */
static int merge_rounds(char paths[][PATH_MAX_AB], unsigned n, const char *out_path, char *err,
                        size_t errlen);

int pb_cmd_ab(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return PB_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return PB_EXIT_OK;
        }
    struct pb_compare_opts opts;
    pb_compare_opts_default(&opts);
    opts.paired = true;
    const char *exe[2] = { NULL, NULL }, *outdir = "ab-out";
    unsigned repeat = 6;
    bool json = false;
    const char *pass[AB_MAX_ARGS];
    int npass = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' && !exe[1]) {
            exe[exe[0] ? 1 : 0] = a;
            continue;
        }
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strncmp(a, "--output=", 9) == 0) {
            const char *v = a[1] == 'o' || a[8] == 0 ? (i + 1 < argc ? argv[++i] : NULL) : a + 9;
            if (!v || !*v)
                return fail_usage("%s needs a directory", a);
            outdir = v;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (strncmp(a, "--", 2) == 0) {
            char key[32];
            const char *eq = strchr(a + 2, '=');
            size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
            if (klen < sizeof key) {
                memcpy(key, a + 2, klen);
                key[klen] = 0;
                if (strcmp(key, "repeat") == 0) {
                    const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
                    char *end;
                    unsigned long r = v ? strtoul(v, &end, 10) : 0;
                    if (!v || *end || !*v || v[0] == '-' || r < 1 || r > AB_MAX_REPEAT)
                        return fail_usage("--repeat wants a count of rounds from 1 to 200%s", "");
                    repeat = (unsigned)r;
                    continue;
                }
                const char *v = eq ? eq + 1 : i + 1 < argc ? argv[i + 1] : NULL;
                char err[256];
                int h = pb_compare_option(key, v, &opts, err, sizeof err);
                if (h < 0)
                    return fail_usage("%s", err);
                if (h > 0) {
                    if (!eq)
                        i++;
                    continue;
                }
            }
        }
        if (npass >= AB_MAX_ARGS - 12)
            return fail_usage("too many arguments for run%s", "");
        pass[npass++] = a;
    }
    if (!exe[0] || !exe[1])
        return fail_usage("expected two pendbench executables, OLD and NEW%s", "");
    for (int k = 0; k < 2; k++)
        if (access(exe[k], X_OK) != 0)
            return fail_usage("'%s' is not an executable (build it: ninja build/pendbench)", exe[k]);
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "pendbench ab: cannot create %s: %s\n", outdir, strerror(errno));
        return PB_EXIT_USAGE;
    }
    char log[PATH_MAX_AB];
    snprintf(log, sizeof log, "%s/ab.log", outdir);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0666);
    if (log_fd < 0) {
        fprintf(stderr, "pendbench ab: cannot write %s: %s\n", log, strerror(errno));
        return PB_EXIT_USAGE;
    }

    static char rounds[2][AB_MAX_ROUNDS][PATH_MAX_AB];
    struct tally tally = { 0 };
    unsigned max_rounds = 3 * repeat;
    int status = PB_EXIT_OK;
    pb_install_sigint();
    FILE *msg = json ? stderr : stdout;
    fprintf(msg, "ab: %u clean rounds in ABBA order (at most %u in all): OLD %s, NEW %s; log in %s\n",
            repeat, max_rounds, exe[0], exe[1], log);
    unsigned done_rounds = 0;
    for (unsigned r = 0; r < max_rounds && !pb_interrupted; r++) {
        for (int step = 0; step < 2; step++) {
            /* ABBA: even rounds OLD first, odd rounds NEW first. */
            int side = (r % 2 == 0) ? step : 1 - step;
            snprintf(rounds[side][r], PATH_MAX_AB, "%s/%s.round%u.json", outdir,
                     side ? "new" : "base", r);
            char *args[AB_MAX_ARGS + 16];
            int k = 0;
            args[k++] = (char *)exe[side];
            args[k++] = "run";
            for (int p = 0; p < npass; p++)
                args[k++] = (char *)pass[p];
            args[k++] = "--repeat";
            args[k++] = "1";
            args[k++] = "--quiet";
            args[k++] = "--no-history";
            args[k++] = "--json";
            args[k++] = rounds[side][r];
            args[k] = NULL;
            dprintf(log_fd, "==== round %u, %s: %s run ...\n", r, side ? "NEW" : "OLD", exe[side]);
            if (!json && isatty(1))
                fprintf(stdout, "\r\033[Kround %u (%u clean wanted): %s", r + 1, repeat,
                        side ? "NEW" : "OLD");
            fflush(stdout);
            int rc = spawn(args, log_fd);
            if (rc != 0) {
                if (!json && isatty(1))
                    fprintf(stdout, "\n");
                fprintf(stderr, "pendbench ab: round %u of %s (%s) exited %d\n", r,
                        side ? "NEW" : "OLD", exe[side], rc);
                show_log_tail(log);
                /* 1: invariants failed, still measured; anything else: stop. */
                if (rc != 1 || access(rounds[side][r], R_OK) != 0) {
                    close(log_fd);
                    free(tally.m);
                    return pb_interrupted ? 130 : PB_EXIT_USAGE;
                }
                status = PB_EXIT_FAILED;
            }
        }
        if (pb_interrupted)
            break;
        done_rounds++;
        char err[512];
        for (int side = 0; side < 2; side++)
            if (note_round(&tally, rounds[side][r], r, side, err, sizeof err) != 0) {
                fprintf(stderr, "pendbench ab: %s\n", err);
                close(log_fd);
                free(tally.m);
                return PB_EXIT_USAGE;
            }
        unsigned off;
        unsigned clean = fewest_clean_pairs(&tally, opts.floor_factor > 0 ? opts.floor_factor : 0,
                                            r, &off);
        if (off && !json)
            fprintf(stdout, "%sround %u: %u run%s in another machine state (c2c floor); %s\n",
                    isatty(1) ? "\r\033[K" : "", r + 1, off, off == 1 ? "" : "s",
                    clean >= repeat ? "enough clean rounds" : "one more round");
        if (r + 1 >= repeat && (clean >= repeat || !(opts.floor_factor > 0)))
            break;
    }
    free(tally.m);
    close(log_fd);
    if (!json && isatty(1))
        fprintf(stdout, "\r\033[K");
    if (done_rounds == 0) {
        fprintf(stderr, "pendbench ab: interrupted before a round was complete\n");
        return 130;
    }
    char paths[2][PATH_MAX_AB], err[1024];
    for (int side = 0; side < 2; side++) {
        snprintf(paths[side], sizeof paths[side], "%s/%s.json", outdir, side ? "new" : "base");
        if (merge_rounds(rounds[side], done_rounds, paths[side], err, sizeof err) != 0) {
            fprintf(stderr, "pendbench ab: %s\n", err);
            return PB_EXIT_USAGE;
        }
        for (unsigned r = 0; r < done_rounds; r++)
            unlink(rounds[side][r]);
    }
    fprintf(msg, "ab: wrote %s and %s\n\n", paths[0], paths[1]);

    struct pb_result_doc base, new_doc;
    if (pb_result_read(paths[0], &base, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench ab: %s\n", err);
        return PB_EXIT_USAGE;
    }
    if (pb_result_read(paths[1], &new_doc, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench ab: %s\n", err);
        pb_result_doc_free(&base);
        return PB_EXIT_USAGE;
    }
    struct pb_comparison c;
    int cs = PB_EXIT_USAGE;
    if (pb_compare_docs(&base, &new_doc, &opts, &c, err, sizeof err) != 0) {
        fprintf(stderr, "pendbench ab: %s\n", err);
    } else {
        char bn[PATH_MAX_AB + 16], nn[PATH_MAX_AB + 16];
        snprintf(bn, sizeof bn, "%s", paths[0]);
        snprintf(nn, sizeof nn, "%s", paths[1]);
        if (json)
            pb_compare_print_json(stdout, &c, bn, &base.ctx, nn, &new_doc.ctx);
        else
            pb_compare_print(stdout, &c, bn, &base.ctx, nn, &new_doc.ctx);
        cs = c.regressed ? PB_EXIT_FAILED : PB_EXIT_OK;
        pb_comparison_free(&c);
    }
    pb_result_doc_free(&base);
    pb_result_doc_free(&new_doc);
    if (pb_interrupted)
        fprintf(stderr, "pendbench ab: interrupted: %u rounds compared\n", done_rounds);
    return cs != PB_EXIT_OK ? cs : status;
}

static int merge_rounds(char paths[][PATH_MAX_AB], unsigned n, const char *out_path, char *err,
                        size_t errlen)
{
    struct pb_result_doc *docs = calloc(n, sizeof *docs);
    if (!docs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    unsigned total = 0, loaded = 0;
    int rc = -1;
    for (; loaded < n; loaded++) {
        if (pb_result_read(paths[loaded], &docs[loaded], err, errlen) != 0)
            goto out;
        total += docs[loaded].nruns;
    }
    struct pb_run_result *runs = calloc(total ? total : 1, sizeof *runs);
    if (!runs) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    struct pb_context ctx = docs[0].ctx;
    unsigned k = 0;
    for (unsigned d = 0; d < n; d++) {
        ctx.partial |= docs[d].ctx.partial;
        for (unsigned i = 0; i < docs[d].nruns; i++) {
            runs[k] = docs[d].runs[i].r;          /* shallow: the documents own the pairs */
            runs[k].repetition = d;
            k++;
        }
    }
    ctx.repetitions = n;
    rc = pb_result_write(out_path, &ctx, runs, total, err, errlen);
    free(runs);
out:
    for (unsigned d = 0; d < loaded; d++)
        pb_result_doc_free(&docs[d]);
    free(docs);
    return rc;
}
