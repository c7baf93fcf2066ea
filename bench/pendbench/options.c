/* The one option parser and help printer of every verb (options.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "options.h"
#include "pb_err.h"
#include "pb_html.h"
#include "pb_scenario.h"

#define HELP_WIDTH 79     /* the help fits an 80-column terminal */
#define HELP_COLUMN 24    /* where an option's help starts */

/* "pendbench run: " or, for the suite, "pendbench: ". */
static void prefix(FILE *f, const struct pb_cli *cli)
{
    fprintf(f, "pendbench%s%s: ", cli->verb[0] ? " " : "", cli->verb);
}

static void see_help(const struct pb_cli *cli)
{
    fprintf(stderr, "(see `pendbench%s%s --help`)\n", cli->verb[0] ? " " : "", cli->verb);
}

int pb_cli_fail(const struct pb_cli *cli, const char *fmt, ...)
{
    prefix(stderr, cli);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    see_help(cli);
    return PB_EXIT_USAGE;
}

int pb_cli_exit(enum pb_cli_result r)
{
    return r == PB_CLI_HELP ? PB_EXIT_OK : PB_EXIT_USAGE;
}

/* ---- the help --------------------------------------------------------------------- */

/* text from column `col` (the cursor is there), wrapped at HELP_WIDTH, each
 * further line indented to col; '\n' in text starts a new line. */
static void print_wrapped(FILE *f, const char *text, int col)
{
    int x = col;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            fprintf(f, "\n%*s", col, "");
            x = col;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t len = strcspn(p, " \n");
        if (x > col && x + 1 + (int)len > HELP_WIDTH) {
            fprintf(f, "\n%*s", col, "");
            x = col;
        }
        if (x > col) {
            fputc(' ', f);
            x++;
        }
        fwrite(p, 1, len, f);
        x += (int)len;
        p += len;
    }
    fputc('\n', f);
}

static void print_option(FILE *f, const struct pb_opt *o)
{
    char left[160];
    int n;
    if (o->alias)
        n = snprintf(left, sizeof left, "  -%c, --%s%s%s", o->alias, o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
    else
        n = snprintf(left, sizeof left, "  --%s%s%s", o->name, o->metavar ? " " : "",
                     o->metavar ? o->metavar : "");
    fputs(left, f);
    if (n + 2 > HELP_COLUMN)
        fprintf(f, "\n%*s", HELP_COLUMN, "");
    else
        fprintf(f, "%*s", HELP_COLUMN - n, "");
    print_wrapped(f, o->help, HELP_COLUMN);
}

void pb_cli_print_groups(const struct pb_opt_group *groups, size_t n, FILE *f)
{
    for (size_t g = 0; g < n; g++) {
        if (g)
            fputc('\n', f);
        fprintf(f, "%s:\n", groups[g].title);
        for (const struct pb_opt *o = groups[g].opts; o->name; o++)
            print_option(f, o);
    }
}

void pb_cli_help(const struct pb_cli *cli, FILE *f)
{
    fprintf(f, "usage: %s\n%s\n", cli->usage, cli->about);
    pb_cli_print_groups(cli->groups, cli->ngroups, f);
    static const struct pb_opt help = { "help", 'h', NULL, "this help (also `pendbench help VERB`)",
                                        0 };
    print_option(f, &help);
    if (cli->epilog)
        fprintf(f, "\n%s", cli->epilog);
}

/* ---- the parser --------------------------------------------------------------------- */

static const struct pb_opt *find_long(const struct pb_cli *cli, const char *name,
                                      const struct pb_opt_group **group)
{
    for (size_t g = 0; g < cli->ngroups; g++)
        for (const struct pb_opt *o = cli->groups[g].opts; o->name; o++)
            if (strcmp(o->name, name) == 0) {
                *group = &cli->groups[g];
                return o;
            }
    return NULL;
}

static const struct pb_opt *find_alias(const struct pb_cli *cli, char c,
                                       const struct pb_opt_group **group)
{
    for (size_t g = 0; g < cli->ngroups; g++)
        for (const struct pb_opt *o = cli->groups[g].opts; o->name; o++)
            if (o->alias && o->alias == c) {
                *group = &cli->groups[g];
                return o;
            }
    return NULL;
}

/* The unknown option `arg` (its name without dashes: word; NULL: suggest
 * nothing), with the closest option this verb takes: the names come from
 * its groups alone. */
static void unknown_option(const struct pb_cli *cli, const char *arg, const char *word)
{
    const char *names[512];
    size_t n = 0;
    names[n++] = "help";
    for (size_t g = 0; g < cli->ngroups; g++)
        for (const struct pb_opt *o = cli->groups[g].opts; o->name && n < 512; o++)
            names[n++] = o->name;
    const char *near = word ? pb_closest(word, names, n) : NULL;
    prefix(stderr, cli);
    if (near)
        fprintf(stderr, "unknown option '%s'; did you mean --%s?\n", arg, near);
    else
        fprintf(stderr, "unknown option '%s'\n", arg);
    see_help(cli);
}

/* An argument that is an option of this verb, never an option's value:
 * "--x...", "-h", or a one-letter alias the verb has. */
static bool is_option(const struct pb_cli *cli, const char *a)
{
    const struct pb_opt_group *g;
    if (a[0] != '-')
        return false;
    if (a[1] == '-')
        return a[2] != 0;
    return a[1] && !a[2] && (a[1] == 'h' || find_alias(cli, a[1], &g));
}

/* A placeholder that names a file: its missing value is "a file name". */
static bool names_a_file(const char *metavar)
{
    static const char *const files[] = { "FILE", "PATH", "DIR", "DB", "PROGRAM" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (strcmp(metavar, files[i]) == 0)
            return true;
    return false;
}

/* The options with a value given so far, and their values: an option
 * given twice with two values is refused (which one was meant?), unless its
 * placeholder says it accumulates ("M..."). The same value again, or a
 * flag again, changes nothing and passes. */
struct given {
    const struct pb_opt_group *g;
    const struct pb_opt *o;
    const char *value;
};

/* Two names of one option (history's --db and --history-db): one table,
 * one id. */
static bool same_option(const struct given *a, const struct pb_opt_group *g,
                        const struct pb_opt *o)
{
    return a->o == o || (a->g == g && o->id != 0 && a->o->id == o->id);
}

/* 0, or -1 after printing the error. */
static int check_given_once(const struct pb_cli *cli, struct given *seen, size_t *nseen,
                            size_t cap, const struct pb_opt_group *g, const struct pb_opt *o,
                            const char *value)
{
    size_t len = o->metavar ? strlen(o->metavar) : 0;
    if (!o->metavar || (len >= 3 && strcmp(o->metavar + len - 3, "...") == 0))
        return 0;
    for (size_t k = 0; k < *nseen; k++) {
        if (!same_option(&seen[k], g, o))
            continue;
        if (strcmp(seen[k].value, value) == 0)
            return 0;
        pb_cli_fail(cli, "--%s given twice, as '%s' and as '%s': give it once", seen[k].o->name,
                    seen[k].value, value);
        return -1;
    }
    if (*nseen < cap)
        seen[(*nseen)++] = (struct given){ g, o, value };
    return 0;
}

enum pb_cli_result pb_cli_parse(const struct pb_cli *cli, int argc, char **argv)
{
    bool only_positional = false;
    char err[1024];
    struct given seen[128];
    size_t nseen = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == 0) {
            err[0] = 0;
            if (!cli->positional) {
                pb_cli_fail(cli, "unexpected argument '%s'", a);
                return PB_CLI_ERROR;
            }
            if (cli->positional(cli->ctx, a, err, sizeof err) != 0) {
                pb_cli_fail(cli, "%s", err);
                return PB_CLI_ERROR;
            }
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            pb_cli_help(cli, stdout);
            return PB_CLI_HELP;
        }
        const struct pb_opt_group *g = NULL;
        const struct pb_opt *o = NULL;
        const char *value = NULL;
        bool inline_value = false;
        char shown[80];                 /* the option as given, without its value */
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            char name[64];
            int shown_len = len + 2 < sizeof shown ? (int)len + 2 : (int)sizeof shown - 1;
            snprintf(shown, sizeof shown, "%.*s", shown_len, a);
            if (len < sizeof name) {
                memcpy(name, a + 2, len);
                name[len] = 0;
                if (strcmp(name, "help") == 0) {
                    pb_cli_fail(cli, "--help takes no value ('%s')", a);
                    return PB_CLI_ERROR;
                }
                o = find_long(cli, name, &g);
            }
            if (!o) {
                unknown_option(cli, shown, len < sizeof name ? name : shown + 2);
                return PB_CLI_ERROR;
            }
            if (eq) {
                value = eq + 1;
                inline_value = true;
            }
        } else {
            snprintf(shown, sizeof shown, "%.60s", a);
            if (a[2] == 0)
                o = find_alias(cli, a[1], &g);
            if (!o) {
                /* "-queue": the word is still the best guess of what was meant;
                 * one letter ("-x") is no evidence of any option. */
                unknown_option(cli, shown, a[2] ? a + 1 : NULL);
                return PB_CLI_ERROR;
            }
        }
        if (!o->metavar && inline_value) {
            pb_cli_fail(cli, "%s takes no value ('%s')", shown, a);
            return PB_CLI_ERROR;
        }
        if (o->metavar && !inline_value) {
            const char *what = names_a_file(o->metavar) ? "a file name" : "a value";
            if (i + 1 >= argc) {
                pb_cli_fail(cli, "%s needs %s (%s)", shown, what, o->metavar);
                return PB_CLI_ERROR;
            }
            if (is_option(cli, argv[i + 1])) {
                pb_cli_fail(cli, "%s needs %s (%s), not the option '%s'", shown, what, o->metavar,
                            argv[i + 1]);
                return PB_CLI_ERROR;
            }
            value = argv[++i];
        }
        if (check_given_once(cli, seen, &nseen, sizeof seen / sizeof seen[0], g, o, value))
            return PB_CLI_ERROR;
        err[0] = 0;
        if (g->set(g->ctx, o, value, err, sizeof err) != 0) {
            pb_cli_fail(cli, "%s: %s", shown, err[0] ? err : "refused");
            return PB_CLI_ERROR;
        }
    }
    return PB_CLI_GO;
}

/* ---- values --------------------------------------------------------------------------- */

int pb_opt_count(const char *v, uint64_t min, uint64_t max, uint64_t *out, char *err,
                 size_t errlen)
{
    struct pb_scenario tmp;
    char why[256];
    pb_scenario_defaults(&tmp);
    if (pb_scenario_set(&tmp, "ops", v, why, sizeof why) != 0)
        return pb_fail(err, errlen, "'%s' is not a count (a whole number, k/M/G allowed) from %llu "
                    "to %llu", v, (unsigned long long)min, (unsigned long long)max);
    if (tmp.ops < min)
        return pb_fail(err, errlen, "at least %llu (not '%s')", (unsigned long long)min, v);
    if (tmp.ops > max)
        return pb_fail(err, errlen, "at most %llu (not '%s')", (unsigned long long)max, v);
    *out = tmp.ops;
    return 0;
}

int pb_opt_seconds(const char *v, double max_s, double *out, char *err, size_t errlen)
{
    struct pb_scenario tmp;
    char why[256];
    pb_scenario_defaults(&tmp);
    if (pb_scenario_set(&tmp, "duration", v, why, sizeof why) != 0 ||
        !(tmp.duration_s > 0 && tmp.duration_s <= max_s))
        return pb_fail(err, errlen, "'%s' is not a time from 1us to %g s (2, 2s, 500ms, 1min)",
                    v, max_s);
    *out = tmp.duration_s;
    return 0;
}

int pb_opt_seed(const char *v, uint64_t *out, char *err, size_t errlen)
{
    struct pb_scenario tmp;
    char why[256];
    pb_scenario_defaults(&tmp);
    if (pb_scenario_set(&tmp, "seed", v, why, sizeof why) != 0)
        return pb_fail(err, errlen, "'%s' is not a seed (a whole number from 0 to 2^64-1, decimal or "
                    "0x hex)", v);
    *out = tmp.seed;
    return 0;
}

int pb_opt_percent(const char *v, double lo, int lo_open, double hi, double *out, char *err,
                   size_t errlen)
{
    /* The options' one strict number: strtod took " 1", "+1" and "0x10". */
    const char *end = v;
    double x = NAN;
    if (pb_number_prefix(v, &x, &end) == 0 && *end == '%')
        end++;
    if (end == v || *end || !isfinite(x) || x < lo || (lo_open && x == lo) || x > hi) {
        if (hi < HUGE_VAL)
            return pb_fail(err, errlen, "'%s' is not a percentage %s %g and up to %g", v,
                        lo_open ? "above" : "from", lo, hi);
        return pb_fail(err, errlen, "'%s' is not a percentage %s %g", v,
                    lo_open ? "above" : "of at least", lo);
    }
    *out = x;
    return 0;
}

int pb_opt_path(const char *v, char *err, size_t errlen)
{
    return *v ? 0 : pb_fail(err, errlen, "an empty file name");
}

int pb_opt_program(const char *prog, char *err, size_t errlen)
{
    char path[4096];
    const char *found = NULL;
    if (strchr(prog, '/')) {
        found = prog;
    } else {
        const char *dirs = getenv("PATH");
        if (!dirs)
            dirs = "/bin:/usr/bin";
        for (const char *d = dirs;; d++) {
            const char *e = strchr(d, ':');
            size_t n = e ? (size_t)(e - d) : strlen(d);
            if ((size_t)snprintf(path, sizeof path, "%.*s%s%s", (int)n, d, n ? "/" : "", prog) <
                sizeof path) {
                struct stat st;
                if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0) {
                    found = path;
                    break;
                }
            }
            if (!e)
                break;
            d = e;
        }
        if (!found)
            return pb_fail(err, errlen, "%s: not found on PATH", prog);
    }
    struct stat st;
    if (stat(found, &st) != 0)
        return pb_fail(err, errlen, "%s: %s", prog, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return pb_fail(err, errlen, "%s: is a directory, not a program", prog);
    if (!S_ISREG(st.st_mode))
        return pb_fail(err, errlen, "%s: not a regular file, not a program", prog);
    if (access(found, X_OK) != 0)
        return pb_fail(err, errlen, "%s: not executable (%s)", prog, strerror(errno));
    return 0;
}

int pb_opt_input(const char *v, const char *const *given, size_t n, char *err, size_t errlen)
{
    if (pb_opt_path(v, err, errlen) != 0)
        return -1;
    for (size_t i = 0; strcmp(v, "-") == 0 && i < n; i++)
        if (strcmp(given[i], "-") == 0)
            return pb_fail(err, errlen, "'-' (standard input) given twice: it can be read once");
    return 0;
}

/* ---- shared groups --------------------------------------------------------------------- */

#define SCENARIO_OPTS_MAX 128

const struct pb_opt *pb_scenario_opts(void)
{
    /* Built once from the scenario's own table, so an option added there
     * is an option of run, sweep and ab at once. The verbs are single
     * threaded while they parse. */
    static struct pb_opt table[SCENARIO_OPTS_MAX + 1];
    static bool built;
    if (!built) {
        size_t n = 0;
        for (const struct pb_option_doc *d = pb_scenario_options; d->name; d++) {
            if (n == SCENARIO_OPTS_MAX) {
                fprintf(stderr, "pendbench: more than %d scenario options: raise "
                        "SCENARIO_OPTS_MAX in bench/pendbench/options.c\n", SCENARIO_OPTS_MAX);
                abort();
            }
            table[n] = (struct pb_opt){ d->name, 0, d->syntax, d->help, (int)n };
            n++;
        }
        table[n] = (struct pb_opt){ NULL, 0, NULL, NULL, 0 };
        built = true;
    }
    return table;
}

int pb_scenario_opt_apply(struct pb_scenario *sc, const struct pb_opt *o, const char *value,
                          char *err, size_t errlen)
{
    char why[512];
    if (pb_scenario_set(sc, o->name, value, why, sizeof why) == 0)
        return 0;
    char key[96];
    snprintf(key, sizeof key, "key '%s': ", o->name);
    const char *msg = strncmp(why, key, strlen(key)) == 0 ? why + strlen(key) : why;
    return pb_fail(err, errlen, "%s", msg);
}

const struct pb_opt pb_topology_opts[] = {
    { "topology", 0, "DESC", "an hwloc synthetic topology instead of this machine's, e.g. "
      "'pack:2 numa:2 core:4 pu:2' (threads run on this machine's CPUs, folded)", 0 },
    { "topology-xml", 0, "FILE", "an hwloc XML topology (lstopo --of xml) instead of this "
      "machine's", 1 },
    { NULL, 0, NULL, NULL, 0 },
};

int pb_topology_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                    size_t errlen)
{
    struct pb_topo **topo = ctx;
    /* Which of two would win is no rule a user can guess: refuse the second. */
    if (*topo)
        return pb_fail(err, errlen, "a topology was given already: give one --topology or "
                       "--topology-xml");
    return pb_topo_load(topo, o->id ? PB_TOPO_XML : PB_TOPO_SYNTHETIC, value, err, errlen) == 0
               ? 0 : -1;
}

int pb_opt_set_flag(void *ctx, const struct pb_opt *o, const char *value, char *err,
                    size_t errlen)
{
    (void)o;
    (void)value;
    (void)err;
    (void)errlen;
    *(bool *)ctx = true;
    return 0;
}

/* ---- a page's charts ------------------------------------------------------------------- */

enum { CHART_NO_CHARTS = 1, CHART_GNUPLOT };

const struct pb_opt pb_chart_opts[] = {
    { "no-charts", 0, NULL, "tables only", CHART_NO_CHARTS },
    { "gnuplot", 0, "PROGRAM", "the gnuplot to run (default: gnuplot on PATH); one that does "
      "not exist or cannot be run is bad input", CHART_GNUPLOT },
    { NULL, 0, NULL, NULL, 0 },
};

int pb_chart_set(void *ctx, const struct pb_opt *o, const char *v, char *err, size_t errlen)
{
    struct pb_html_options *opt = ctx;
    switch (o->id) {
    case CHART_NO_CHARTS:
        opt->no_charts = true;
        return 0;
    case CHART_GNUPLOT:
        opt->gnuplot = v;
        if (pb_opt_path(v, err, errlen) != 0)
            return -1;
        return pb_opt_program(v, err, errlen);
    }
    return pb_fail(err, errlen, "not a chart option");
}

int pb_chart_env(struct pb_html_options *opt, char *err, size_t errlen)
{
    const char *limit = getenv("PENDBENCH_GNUPLOT_TIMEOUT_MS");
    if (!limit || !*limit)
        return 0;
    char *end;
    errno = 0;
    unsigned long long ms = strtoull(limit, &end, 10);
    if (*limit < '0' || *limit > '9' || *end || errno || ms < 1 || ms > 86400000)
        return pb_fail(err, errlen, "PENDBENCH_GNUPLOT_TIMEOUT_MS=%s: not a number of "
                       "milliseconds from 1 to 86400000", limit);
    opt->total_timeout_s = (double)ms / 1000.0;
    return 0;
}

void pb_chart_warn(const char *verb, const char *page, const struct pb_html_stats *st)
{
    if (st->gnuplot_missing)
        fprintf(stderr, "pendbench %s: warning: %s: charts need gnuplot (the gnuplot-nox "
                "package): %s; the page has the tables only\n", verb, page, st->note);
    else if (st->gnuplot_timed_out)
        fprintf(stderr, "pendbench %s: warning: %s: %s; %u chart%s not drawn (the page has "
                "their tables)\n", verb, page, st->note, st->charts_failed,
                st->charts_failed == 1 ? "" : "s");
    else if (st->charts_failed)
        fprintf(stderr, "pendbench %s: warning: %s: %u chart%s could not be drawn: %s\n", verb,
                page, st->charts_failed, st->charts_failed == 1 ? "" : "s", st->note);
}
