#include "pb_err.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

int pb_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

bool pb_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n;
        uint32_t cp;
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;          /* a continuation byte first, or 0xc0/0xc1/0xf5.. */
        for (unsigned k = 1; k <= n; k++) {
            if ((p[k] & 0xc0) != 0x80)
                return false;      /* also stops at the terminating NUL */
            cp = (cp << 6) | (p[k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
            return false;          /* overlong, beyond Unicode, a surrogate, a C1 control */
        p += n + 1;
    }
    return true;
}

const char *pb_text_escape(const char *s, char *buf, size_t size)
{
    size_t k = 0;
    if (!size)
        return buf;
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < size; p++) {
        if (*p >= 0x20 && *p < 0x7f) {
            buf[k++] = (char)*p;
        } else {
            if (k + 5 > size)
                break;
            snprintf(buf + k, size - k, "\\x%02x", *p);
            k += 4;
        }
    }
    buf[k] = '\0';
    return buf;
}

const char *pb_text_clean(const char *s, char *buf, size_t size)
{
    if (pb_text_ok(s))
        return s;
    size_t k = 0;
    if (!size)
        return "";
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < size; p++)
        buf[k++] = *p >= 0x20 && *p < 0x7f ? (char)*p : '?';
    buf[k] = '\0';
    return buf;
}
