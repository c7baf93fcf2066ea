/* The built-in scenarios, as data: each is a few "key=value" lines read by
 * the same pb_scenario_set() as job files and the command line, applied on
 * top of the defaults (pb_scenario_defaults). A test loads and validates
 * every one. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pb_err.h"
#include "pb_scenario.h"

const struct pb_builtin pb_builtins[] = {
    {"steady", "pend and complete, no cancels: the plain pend-to-completion path",
     "cancel-fraction=0\n"
     "inflight=4\n"},
    {"cancel-storm", "nearly every operation cancelled right after issue",
     "cancel-fraction=0.9\n"
     "cancel-when=immediate\n"
     "cancellers=1\n"
     "inflight=8\n"},
    {"cancel-race", "cancels aimed at the completion instant of a 2 us service: the handoff race "
     "(each requester fires its own cancels, racing the worker's clear)",
     "cancel-fraction=0.5\n"
     "cancel-when=race\n"
     "service=fixed:2000\n"
     "cancellers=0\n"},
    {"cross-node",
     "each requester's worker on another NUMA node; needs 2 nodes (on a one-node machine use "
     "--topology 'numa:2 core:2 pu:1')",
     "placement=cross-node\n"
     "route=local\n"
     "requesters=2\n"
     "workers=2\n"},
    {"burst", "open loop at 200k ops/s in 20 ms bursts every 100 ms (Poisson within a burst)",
     "rate=200000\n"
     "burst=20:80\n"
     "inflight=256\n"
     "cancel-fraction=0\n"},
    {"filter-stack", "three filters returning a mix of statuses above the pending one",
     "filters=mix,callback,pend\n"
     "mix=read=50,write=30,cleanup=10,close=10\n"},
    {"cbdq", "pended into a cancel-safe queue drained by the workers (FltCbdq path)",
     "filters=cbdq\n"
     "cancel-fraction=0.3\n"
     "cancel-when=immediate\n"},
    {"async-io", "filter-initiated I/O pended below, cancelled by its initiator (FltCancelIo)",
     "filters=async,pend\n"
     "cancel-fraction=0.3\n"
     "cancellers=0\n"},
    {"fsfilter", "half of the operations FS filter acquire/release notifications",
     "mix=fsfilter=50,read=50\n"
     "cancel-fraction=0.05\n"},
    {NULL, NULL, NULL},
};

const struct pb_builtin *pb_builtin_find(const char *name)
{
    for (size_t i = 0; name && pb_builtins[i].name; i++)
        if (strcmp(pb_builtins[i].name, name) == 0)
            return &pb_builtins[i];
    return NULL;
}

static char *trim(char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    char *end = p + strlen(p);
    while (end > p && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return p;
}

int pb_scenario_apply_options(struct pb_scenario *s, const char *options, char *err,
                              size_t errlen)
{
    struct pb_scenario t = *s;
    const char *p = options ? options : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[256];
        if (n >= sizeof line)
            return pb_fail(err, errlen, "option line '%.40s...' is too long", p);
        memcpy(line, p, n);
        line[n] = '\0';
        p += nl ? n + 1 : n;
        char *l = trim(line);
        if (!*l || *l == '#' || *l == ';')
            continue;
        char *eq = strchr(l, '=');
        if (!eq)
            return pb_fail(err, errlen, "option line '%s' is not key=value", l);
        *eq = '\0';
        if (pb_scenario_set(&t, trim(l), trim(eq + 1), err, errlen) != 0)
            return -1;
    }
    *s = t;
    return 0;
}

int pb_scenario_builtin(struct pb_scenario *s, const char *name, char *err, size_t errlen)
{
    const struct pb_builtin *b = pb_builtin_find(name);
    if (!b) {
        char known[256];
        size_t used = 0;
        known[0] = '\0';
        for (size_t i = 0; pb_builtins[i].name && used < sizeof known; i++) {
            int k = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                             pb_builtins[i].name);
            if (k < 0)
                break;
            used += (size_t)k;
        }
        return pb_fail(err, errlen, "unknown scenario '%s' (built-in scenarios: %s)",
                    name ? name : "", known);
    }
    struct pb_scenario t;
    pb_scenario_defaults(&t);
    snprintf(t.name, sizeof t.name, "%s", b->name);
    snprintf(t.description, sizeof t.description, "%s", b->description);
    char why[256];
    if (pb_scenario_apply_options(&t, b->options, why, sizeof why) != 0)
        return pb_fail(err, errlen, "built-in scenario '%s': %s", b->name, why);
    *s = t;
    return 0;
}
