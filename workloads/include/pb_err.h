/* The one way the parsers and loaders say what was wrong with an input:
 * the message goes into the caller's buffer, -1 comes back. */
#ifndef PB_ERR_H
#define PB_ERR_H

#include <stddef.h>

/* Formats the message into err (errlen bytes; nothing when err is NULL or
 * errlen 0) and returns -1, so that `return pb_fail(err, errlen, ...)`
 * reports and fails in one statement. */
int pb_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
