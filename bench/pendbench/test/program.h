/* The program under test (pendbench, pendbench-micro), run as a child by
 * the CLI tests of both (one way of doing it for every test file). */
#ifndef PB_TEST_PROGRAM_H
#define PB_TEST_PROGRAM_H

#include <stddef.h>

/* <variant>/pendbench beside <variant>/test/cli-test (asserts it exists). */
const char *pb_test_program(void);
/* <variant>/NAME beside the running <variant>/test/X-test (asserts it
 * exists). The path is kept for the process: one name per test program. */
const char *pb_test_program_named(const char *name);

/* Runs the program with args (NULL-terminated; args[0] is the verb) in
 * dir, standard input from stdin_path (NULL: /dev/null), stdout to fd_out
 * and stderr to fd_err (the same fd: interleaved), PENDBENCH_HISTORY_DB
 * set to history (never the checkout's results/), killed after timeout_s.
 * Returns the exit status, or 128 + the signal. */
int pb_test_exec(const char *dir, const char *stdin_path, const char *history,
                 const char *const *args, int fd_out, int fd_err, unsigned timeout_s);
/* The same for any program: env's entries set for it ("NAME=VALUE") or
 * taken out of its environment ("NAME"); env may be NULL. */
int pb_test_exec_program(const char *prog, const char *dir, const char *stdin_path,
                         const char *const *env, const char *const *args, int fd_out,
                         int fd_err, unsigned timeout_s);

/* A temporary file for a child's output: its fd (the name is unlinked). */
int pb_test_output_fd(void);
/* What was written to fd, from its start, into buf (NUL-terminated, cut
 * to size); closes fd. */
void pb_test_read_output(int fd, char *buf, size_t size);

#endif
