/* One option convention for every verb of pendbench.
 *
 * A verb declares its options as data: tables of struct pb_opt (a long
 * name, maybe a one-letter alias, the value's placeholder or NULL for a
 * flag, one line of help), each table grouped with the function that
 * applies its options. One parser, pb_cli_parse, reads the command line
 * against exactly those groups, and `--help` is generated from the same
 * groups: the help cannot list an option the verb refuses, nor leave out
 * one it takes, and "did you mean" suggests only options the verb takes.
 * Adding an option is one table line (and its case in the group's
 * function); a scenario option (workloads' PB_OPTIONS) needs nothing here.
 *
 * The convention, in every verb:
 *   --name VALUE, --name=VALUE  an option with a value. A separate value
 *                               that looks like an option is not taken:
 *                               `--json --duration 1` is a missing value.
 *   --flag                      a flag; `--flag=x` is an error
 *   -o VALUE                    a one-letter alias, where a table gives one
 *   -h, --help                  the verb's help on stdout, exit 0
 *   --                          every later argument is positional
 *   --name A ... --name B       an error (which one was meant?), unless the
 *                               option's placeholder ends in "...": its
 *                               function takes each value in turn
 *   anything else (and "-" alone, stdin or stdout): a positional argument
 * Every error (an unknown option, with the closest one the verb takes; a
 * missing value; a value given to a flag; a value the option refuses; an
 * unexpected argument) is one line on stderr, "pendbench VERB: ...", then
 * "(see `pendbench VERB --help`)"; the verb exits 2. Options are applied
 * in command-line order, and nothing runs before the whole line is read. */
#ifndef PB_OPTIONS_H
#define PB_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pb_opt {
    const char *name;          /* without the dashes; NULL ends a table */
    char alias;                /* 'o' for -o; 0: none */
    const char *metavar;       /* the value's placeholder in --help (N, FILE, TIME); NULL: a flag;
                                * ending in "..." (M...): the option may be given again */
    const char *help;          /* one line, wrapped by the help printer; with the default */
    int id;                    /* the verb's own number for it: group functions switch on it */
};

/* Applies one option (value NULL for a flag). 0, or -1 with what is wrong
 * in err; the parser prints "pendbench VERB: --NAME: ERR". */
typedef int (*pb_opt_set_fn)(void *ctx, const struct pb_opt *o, const char *value, char *err,
                             size_t errlen);

struct pb_opt_group {
    const char *title;         /* its heading in --help: "session options" */
    const struct pb_opt *opts;
    pb_opt_set_fn set;
    void *ctx;
};

/* A positional argument, in order. 0, or -1 with what is wrong in err. */
typedef int (*pb_positional_fn)(void *ctx, const char *arg, char *err, size_t errlen);

struct pb_cli {
    const char *verb;          /* as messages name it: "run", "history export"; "" the suite */
    const char *usage;         /* the usage lines, without "usage: ", ending in '\n' */
    const char *about;         /* what the verb does: paragraphs, ending in '\n' */
    const char *epilog;        /* after the options, or NULL */
    const struct pb_opt_group *groups;
    size_t ngroups;
    pb_positional_fn positional;   /* NULL: the verb takes none */
    void *ctx;
};

enum pb_cli_result {
    PB_CLI_GO,                 /* parsed: the verb goes on */
    PB_CLI_HELP,               /* the help was printed: exit 0 */
    PB_CLI_ERROR,              /* an error was printed: exit 2 */
};

/* Reads argv[1..argc-1] (argv[0] is the verb) against cli's groups. */
enum pb_cli_result pb_cli_parse(const struct pb_cli *cli, int argc, char **argv);
/* The exit status after a result other than PB_CLI_GO: 0 (help) or 2. */
int pb_cli_exit(enum pb_cli_result r);
/* The whole help: usage, about, every group's options, -h, epilog. */
void pb_cli_help(const struct pb_cli *cli, FILE *f);
/* The option lists of some groups alone (the top-level help lists the
 * default suite's this way). */
void pb_cli_print_groups(const struct pb_opt_group *groups, size_t n, FILE *f);
/* An error found after parsing (options that do not go together, a
 * missing argument): "pendbench VERB: MESSAGE" and the pointer to the
 * help, on stderr. Returns PB_EXIT_USAGE. */
int pb_cli_fail(const struct pb_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- values, with the same units in every verb -------------------------------------
 * Each returns 0, or -1 with what is wrong in err (for a group function's
 * err). The syntax is the scenario options' (workloads/scenario.c), read
 * through pb_scenario_set, so a verb cannot drift from it. */

/* A count: 1000, 1k, 2M, 1G (powers of 1000), from min to max. */
int pb_opt_count(const char *v, uint64_t min, uint64_t max, uint64_t *out, char *err,
                 size_t errlen);
/* A time in seconds: 2, 2s, 500ms, 250us, 1min; above 0 and at most max_s. */
int pb_opt_seconds(const char *v, double max_s, double *out, char *err, size_t errlen);
/* A seed: a whole number from 0 to 2^64-1, decimal or 0x hex. */
int pb_opt_seed(const char *v, uint64_t *out, char *err, size_t errlen);
/* A percentage, "5" or "5%", from lo to hi (lo_open: lo itself refused). */
int pb_opt_percent(const char *v, double lo, int lo_open, double hi, double *out, char *err,
                   size_t errlen);
/* A file name: not empty. */
int pb_opt_path(const char *v, char *err, size_t errlen);
/* A program named for an option (--gnuplot) must be one: a file that
 * exists, is no directory and may be executed, found as posix_spawnp would
 * (a name with no '/' on PATH). One that is not is bad input, caught before
 * the work; gnuplot merely missing from PATH, unasked, stays a warning. */
int pb_opt_program(const char *prog, char *err, size_t errlen);
/* An input file argument after the n given before it: not empty, and '-'
 * (standard input, which can be read once) not twice. */
int pb_opt_input(const char *v, const char *const *given, size_t n, char *err, size_t errlen);
/* The setter of a group whose one option is a flag: *(bool *)ctx = true. */
int pb_opt_set_flag(void *ctx, const struct pb_opt *o, const char *value, char *err,
                    size_t errlen);

/* ---- groups several verbs share ---------------------------------------------------- */

/* The scenario options (workloads' pb_scenario_options, also the keys of
 * job files) as a table. */
const struct pb_opt *pb_scenario_opts(void);
/* Sets o on a scenario through pb_scenario_set, its message without the
 * "key 'NAME': " the parser's prefix already says. */
struct pb_scenario;
int pb_scenario_opt_apply(struct pb_scenario *sc, const struct pb_opt *o, const char *value,
                          char *err, size_t errlen);

/* --topology DESC, --topology-xml FILE: run, sweep, topo (and ab passes
 * them to run). pb_topology_set's ctx is a struct pb_topo ** (a later one
 * replaces an earlier one). */
extern const struct pb_opt pb_topology_opts[];
int pb_topology_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                    size_t errlen);

/* --no-charts, --gnuplot PROGRAM: the verbs that write an HTML page
 * (report, history --html). pb_chart_set's ctx is a struct
 * pb_html_options (pb_html.h). */
extern const struct pb_opt pb_chart_opts[];
int pb_chart_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                 size_t errlen);
/* PENDBENCH_GNUPLOT_TIMEOUT_MS, when set, as opt's limit for all the
 * charts together. 0, or -1 with what is wrong in err. */
struct pb_html_options;
int pb_chart_env(struct pb_html_options *opt, char *err, size_t errlen);
/* The warnings of a page written with some charts missing, on stderr. */
struct pb_html_stats;
void pb_chart_warn(const char *verb, const char *page, const struct pb_html_stats *st);

#endif
