/* The one way the parsers and loaders say what was wrong with an input:
 * the message goes into the caller's buffer, -1 comes back. */
#ifndef PB_ERR_H
#define PB_ERR_H

#include <stdbool.h>
#include <stddef.h>

/* Formats the message into err (errlen bytes; nothing when err is NULL or
 * errlen 0) and returns -1, so that `return pb_fail(err, errlen, ...)`
 * reports and fails in one statement. */
int pb_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether s is text that reads back as given: well-formed UTF-8 (no
 * overlong forms, no surrogates) without control characters. Names and
 * descriptions go to terminals, JSON and HTML: anything else came back as
 * '?' or as raw bytes on the terminal. */
bool pb_text_ok(const char *s);
/* s for a message: ASCII that prints as itself, anything else (control
 * characters, bytes outside ASCII) as \xNN; at most size - 1 bytes. */
const char *pb_text_escape(const char *s, char *buf, size_t size);
/* s made text pb_text_ok accepts, for what pendbench writes: s itself when
 * it is, else a copy into buf (at most size - 1 bytes) with every byte
 * that is a control character or outside ASCII as '?'. What a writer takes
 * from the system or the command line (a host name, a path) is written
 * through it, so a reader can refuse anything else as damage. */
const char *pb_text_clean(const char *s, char *buf, size_t size);

#endif
