/* Reading inputs and writing outputs by name, the same way in every verb.
 *
 * Inputs (job files, result files): '-' is standard input; any other name
 * must be a regular file. A FIFO without a writer would block the open,
 * a device such as /dev/zero would never end, so both are refused.
 *
 * Outputs (result files, reports, exports): '-' is standard output. A
 * regular file (or a name not there yet) is replaced atomically: written
 * to NAME.tmp.<pid> beside it, synced, renamed over it, so a failed or
 * killed write leaves the old file or the complete new one. A target that
 * exists and is not a regular file is never replaced: a character device
 * (/dev/null, /dev/full, a terminal) or a FIFO is written through, opened
 * without creating or truncating it; a directory, a block device or a
 * socket is refused. */
#ifndef PB_FILE_H
#define PB_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The largest input pb_file_read_text reads (a result file of a long
 * sweep is a few MB; this stops a runaway pipe on standard input). */
#define PB_FILE_MAX_TEXT (256u << 20)

/* Opens an input: stdin for '-', else a regular file. `kind` completes
 * the refusal of anything else, e.g. "a job file is a text file" gives
 * "PATH: not a regular file (a job file is a text file, or - for standard
 * input)". 0 and *f, or -1 with a message. */
int pb_file_open_input(const char *path, const char *kind, FILE **f, char *err, size_t errlen);

/* Closes what pb_file_open_input opened (standard input stays open). */
void pb_file_close_input(FILE *f);

/* The whole input, NUL-terminated, in a malloc'd buffer (*len bytes
 * before the terminator). A NUL byte in it is an error naming its line;
 * so is an input beyond `max` bytes (0: PB_FILE_MAX_TEXT). NULL with a
 * message on error. */
char *pb_file_read_text(const char *path, const char *kind, size_t max, size_t *len, char *err,
                        size_t errlen);

/* Writes the output through `write`, which returns 0, or -1 with its own
 * message in err (the stream's error state is checked here as well). */
typedef int (*pb_file_writer)(FILE *out, void *arg, char *err, size_t errlen);

/* Writes `path` as the header says. Before an atomic write, temporaries
 * NAME.tmp.<pid> of the same target left by processes that no longer
 * exist (a killed run) are removed. 0, or -1 with "PATH: ..." in err; on
 * failure a regular target is left as it was. */
int pb_file_write(const char *path, pb_file_writer write, void *arg, char *err, size_t errlen);

/* Whether out and in name one existing regular file: writing the output
 * would destroy the input (`export R.json -o R.json`, `--json` over the
 * job file or the history database, pendbench-micro's --benchmark_out over
 * a plugin it loaded). */
bool pb_same_file(const char *out, const char *in);

#endif
