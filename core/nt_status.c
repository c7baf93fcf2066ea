/* NTSTATUS names (SPEC NT2). */
#include <stdio.h>

#include "nt_status.h"

const char *nt_status_name(NTSTATUS s)
{
    switch (s) {
#define NT_NAME_CASE_(name) case name: return #name;
    NT_STATUS_NAMES(NT_NAME_CASE_)
#undef NT_NAME_CASE_
    default: return NULL;
    }
}

const char *nt_status_format(NTSTATUS s, char *buf, unsigned size)
{
    const char *n = nt_status_name(s);
    if (n)
        snprintf(buf, size, "%s", n);
    else
        snprintf(buf, size, "0x%08X", (unsigned)s);
    return buf;
}
