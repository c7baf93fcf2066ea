/* The verbs of the pendbench command, and what they share. */
#ifndef PB_COMMANDS_H
#define PB_COMMANDS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pb_file.h"
#include "pb_run.h"
#include "pb_scenario.h"
#include "pb_topo.h"
#include "options.h"
#include "pendbench_plugin.h"

/* The version `pendbench --version` prints beside the git commit and the
 * build variant. */
#define PENDBENCH_VERSION "0.11.0"

int pb_cmd_suite(int argc, char **argv);     /* no verb: the default suite (argv[0]: the program) */
int pb_cmd_run(int argc, char **argv);
int pb_cmd_sweep(int argc, char **argv);
int pb_cmd_stress(int argc, char **argv);
int pb_cmd_topo(int argc, char **argv);
int pb_cmd_list(int argc, char **argv);
int pb_cmd_demo(int argc, char **argv);
int pb_cmd_report(int argc, char **argv);
int pb_cmd_compare(int argc, char **argv);
int pb_cmd_export(int argc, char **argv);
int pb_cmd_history(int argc, char **argv);
int pb_cmd_ab(int argc, char **argv);
/* Each verb reads argv[1..] with pb_cli_parse (options.h); argv[0] is the
 * verb. */

/* compare's statistics options (threshold, alpha, correction, noise-k,
 * max-cv, floor-factor, metric): a group of compare and ab, applied by
 * pb_compare_option; pb_compare_stat_set's ctx is a struct
 * pb_compare_opts. */
extern const struct pb_opt pb_compare_stat_opts[];
int pb_compare_stat_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                        size_t errlen);

/* The default suite's option list, for the top-level help. */
void pb_suite_print_options(FILE *f);

/* Exit statuses: 0 ok, 1 a run's invariants (or stress) failed, 2 bad
 * input or a run that could not start. */
#define PB_EXIT_OK 0
#define PB_EXIT_FAILED 1
#define PB_EXIT_USAGE 2

/* The signal that interrupted the verb (SIGINT, or SIGTERM: what timeout,
 * CI cancellation and systemd send), 0 none: runs stop and keep what they
 * measured (marked partial). The verb then exits pb_interrupted_status(). */
extern volatile sig_atomic_t pb_interrupted;
void pb_install_interrupt(void);
/* 128 + the signal: 130 for SIGINT, 143 for SIGTERM (as a shell reports a
 * process the signal killed). */
int pb_interrupted_status(void);
/* What the verb wrote on stdout could not all be written (a reader that
 * closed the pipe early: `| head`; a full disk): one line on stderr, and
 * exit 2 where the verb would have exited 0. main() calls it last; SIGPIPE
 * is ignored, so such a reader costs EPIPE, never the work in hand (the
 * history record after `run --json -`, the rest of an import). */
int pb_finish_stdout(const char *verb, int status);

/* Whether an output file can be written, checked before the work that
 * produces it: "-" (stdout), an existing writable file, or a new file in
 * an existing writable directory. 0, or -1 with why. */
int pb_check_output_path(const char *path, char *why, size_t n);

/* A file a verb reads: what it is, for the message ("the job file", "the
 * history database"), and its path (NULL or "-": none). */
struct pb_input {
    const char *what, *path;
};
/* Whether the output out (the value of the option opt; NULL or "-":
 * never) names one of the n files the verb reads (pb_same_file), or a
 * plugin it loaded (pb_plugin_path_at: --pool ./x.so, a sweep's list, a
 * job file's key; the runs read their strategies from it): the output
 * would replace it. True after one message on stderr, "pendbench VERB:
 * OPT OUT is WHAT (PATH): NOUN would replace it", for the verb to exit 2
 * before anything runs; every check of an output against the inputs goes
 * through here. */
bool pb_output_is_input(const char *verb, const char *opt, const char *out, const char *noun,
                        const struct pb_input *in, size_t n);

/* Before a run in another machine state (its c2c floor) is measured
 * again, the session and ab wait for the state to come back: a VM's
 * placement lasts tens of seconds, so a run measured again at once lands
 * in the same one. The allowance: a quarter of the time the verb has run
 * so far, 30 s in all, so a short session hardly waits and a machine that
 * moved for good costs a bounded share. */
struct pb_state_wait {
    double started_ms, waited_ms;
};
void pb_state_wait_begin(struct pb_state_wait *w);
/* Probes the floor between the OS CPUs a and b (every 250 ms) until it
 * is back within factor of ref_ns (pb_floor_off) or the allowance is
 * spent; says on out (NULL: nothing) how long it waited. Returns at once
 * for an unknown or single CPU, no reference or factor, or SIGINT. */
void pb_wait_for_state(struct pb_state_wait *w, int cpu_a, int cpu_b, double ref_ns,
                       double factor, FILE *out);

/* Live progress on stderr when it is a terminal. */
struct pb_progress {
    bool enabled;
    const char *label;
    unsigned index, total;
};
void pb_progress_cb(void *arg, double elapsed_s, double ops_per_s, uint64_t p99_ns);
void pb_progress_clear(struct pb_progress *p);

struct pb_context;

/* Writes the result file (atomically) and, for the default suite, the
 * results/<timestamp>/ folder with results/latest pointing at it. Returns
 * 0 or -1 (printed); the runs are never lost: on failure the JSON goes to
 * stdout. */
int pb_save_results(const char *json_path, bool suite_dir, const struct pb_context *ctx,
                    const struct pb_run_result *runs, unsigned n, char *written,
                    size_t written_size);

/* ---- a session: what the suite, run and sweep share (session.c) ------------------ */

#define PB_SESSION_MAX_CV_DEFAULT 10.0

struct pb_session {
    const char *verb;
    /* what to measure, in display order: a scenario asked for twice is
     * measured once and shown twice */
    struct pb_scenario *sc;
    unsigned n;
    const int *baseline_of;              /* display index of each row's baseline, or -1; may be NULL */
    const struct pb_topo *topo;          /* NULL: the machine */
    const struct pb_topo *const *topo_of;   /* per display index, overriding topo; may be NULL */
    /* how */
    unsigned repeat;
    bool interleave, seed_given;
    uint64_t seed;                       /* of the interleaved order (random unless given) */
    double max_cv_pct;                   /* a configuration above it is marked unstable */
    const char *json_path;               /* NULL: none; "-": stdout (the table goes to stderr) */
    bool suite_dir;                      /* results/<timestamp>/ + report.html */
    bool quiet;
    bool no_history;
    const char *history_db;              /* NULL: $PENDBENCH_HISTORY_DB, else PB_HISTORY_DEFAULT */
    const char *jobfile;                 /* the job file read (run), or NULL: --json may not be it */
    char command[512];
};

void pb_session_init(struct pb_session *s, const char *verb);
void pb_session_note_command(struct pb_session *s, int argc, char **argv);
/* The session's options (repeat, no-interleave, interleave-seed, max-cv,
 * json, quiet, no-history, history-db): a group of the suite, run and
 * sweep; pb_session_set's ctx is the struct pb_session. */
extern const struct pb_opt pb_session_opts[];
int pb_session_set(void *ctx, const struct pb_opt *o, const char *value, char *err,
                   size_t errlen);
/* Measures, prints the table, saves, records. Returns the exit status. */
int pb_session_run(struct pb_session *s);

/* Formats ns for people: "812 ns", "3.1 us", "4.20 ms". */
const char *pb_fmt_ns(double ns, char *buf, size_t size);

#endif
