/* Job files (pb_scenario.h), read with inih, in the INI style fio users
 * know:
 *
 *     [global]
 *     duration = 1s
 *     queue = percpu-mpsc
 *
 *     [mpsc]
 *
 *     [ring]
 *     queue = percpu-ring
 *
 * Semantics, in order of precedence (later wins):
 *   1. `base` (the defaults plus command-line options given before the
 *      file);
 *   2. a built-in named by "scenario=" (in the job, else in [global]):
 *      its options applied on top of base;
 *   3. the [global] keys that came before the job's section, in file
 *      order. As in fio, a [global] section after some jobs changes only
 *      the jobs that come after it; several [global] sections add up;
 *   4. the job's own keys, in order. "scenario=" inside a job starts the
 *      job from 1-3 with that built-in, so it must be the job's first key
 *      (after others it would drop them: refused); in [global] likewise.
 * A job's name is its section's name unless the job sets "name"; [global]
 * may not set it (every job would share it). Job names must be unique. A
 * key given twice in one section (one [global] section, or one job) is
 * refused: the first would be dropped without a word.
 *
 * Errors name the file and the line: "FILE:LINE: key 'K': ...", "FILE:LINE:
 * syntax error ...", "FILE:LINE: a NUL byte ...", "FILE: cannot open: ...",
 * "FILE: not a regular file ..." (FILE is '-' for standard input; anything
 * else must be a regular file), "FILE: no jobs ...", and
 * after loading, each job's checks: "FILE: job 'x': ...".
 *
 * Line numbers: inih calls our reader once per line and the handler right
 * after the line it read, so the reader's count is the handler's line.
 * The reader also sees section headers itself, which lets an empty
 * section still be a job and a duplicate section be caught at its line. */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pb_err.h"
#include "pb_file.h"
#include "pb_scenario.h"

#define SEC_NONE (-2)       /* before the first section header */
#define SEC_GLOBAL (-1)

struct global_key {
    char key[32];
    char value[INI_MAX_LINE];
    unsigned line;
};

struct job_info {
    char section[PB_NAME_MAX];
    unsigned line;
    unsigned first_key_line;   /* its first key other than scenario; 0 none yet */
};

struct loader {
    const char *path;
    FILE *f;
    unsigned line;
    const struct pb_scenario *base;

    /* [global] as it stands so far, and how to rebuild it on top of
     * another built-in (a job's own scenario=): its keys, which all come
     * after its scenario= when it has one. */
    struct pb_scenario global;
    struct global_key *gkeys;
    size_t ngkeys, gcap;
    bool seen_global;

    struct pb_scenario *jobs;
    struct job_info *info;
    size_t njobs, cap;

    /* Every section header in file order, [global] ones included. */
    struct pb_job_section *sections;
    size_t nsections, sectioncap;

    int cur;                /* SEC_NONE, SEC_GLOBAL or a job index */
    /* The keys of the section being read (this [global] or this job), to
     * refuse one given twice: the second would win without a word. */
    struct global_key *seen;
    size_t nseen, seencap;
    bool section_has_key;   /* inih's "previous name": indented lines continue it */
    bool continuation;      /* this line is one */

    bool failed;
    unsigned fail_line;
    char msg[512];
};

__attribute__((format(printf, 3, 4)))
static void failf(struct loader *L, unsigned line, const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    L->fail_line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->msg, sizeof L->msg, fmt, ap);
    va_end(ap);
}

/* inih's find_chars_or_comment, to see section headers as it does. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
    bool was_space = false;
    while (*s && (!chars || !strchr(chars, *s)) && !(was_space && strchr(";", *s))) {
        was_space = isspace((unsigned char)*s);
        s++;
    }
    return s;
}

static void note_section(struct loader *L, bool global)
{
    if (L->nsections == L->sectioncap) {
        size_t cap = L->sectioncap ? 2 * L->sectioncap : 8;
        struct pb_job_section *s = realloc(L->sections, cap * sizeof *s);
        if (!s) {
            failf(L, L->line, "%s:%u: out of memory", L->path, L->line);
            return;
        }
        L->sections = s;
        L->sectioncap = cap;
    }
    L->sections[L->nsections++] = (struct pb_job_section){ L->line, global };
}

static void open_section(struct loader *L, const char *name, size_t len)
{
    char section[INI_MAX_LINE];
    memcpy(section, name, len);
    section[len] = '\0';
    L->section_has_key = false;
    L->nseen = 0;
    note_section(L, strcmp(section, "global") == 0);
    if (strcmp(section, "global") == 0) {
        L->cur = SEC_GLOBAL;
        L->seen_global = true;
        return;
    }
    if (!pb_text_ok(section)) {
        char shown[200];
        failf(L, L->line, "%s:%u: section [%s]: a job's name must be printable UTF-8 text",
              L->path, L->line, pb_text_escape(section, shown, sizeof shown));
        return;
    }
    if (len == 0 || len >= PB_NAME_MAX || isspace((unsigned char)section[0]) ||
        isspace((unsigned char)section[len - 1])) {
        failf(L, L->line,
              "%s:%u: section [%s]: a job's name must be 1 to %d characters, without spaces "
              "around it",
              L->path, L->line, section, PB_NAME_MAX - 1);
        return;
    }
    for (size_t i = 0; i < L->njobs; i++) {
        if (strcmp(L->info[i].section, section) == 0) {
            failf(L, L->line, "%s:%u: duplicate job section [%s] (first at line %u)", L->path,
                  L->line, section, L->info[i].line);
            return;
        }
    }
    if (L->njobs == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 8;
        struct pb_scenario *jobs = realloc(L->jobs, cap * sizeof *jobs);
        if (jobs)
            L->jobs = jobs;
        struct job_info *info = realloc(L->info, cap * sizeof *info);
        if (info)
            L->info = info;
        if (!jobs || !info) {
            failf(L, L->line, "%s:%u: out of memory", L->path, L->line);
            return;
        }
        L->cap = cap;
    }
    struct pb_scenario *s = &L->jobs[L->njobs];
    *s = L->global;
    memcpy(s->name, section, len + 1);                  /* len < PB_NAME_MAX, checked */
    memcpy(L->info[L->njobs].section, section, len + 1);
    L->info[L->njobs].line = L->line;
    L->info[L->njobs].first_key_line = 0;
    L->cur = (int)L->njobs++;
}

/* Mirrors inih's reading of one line (BOM, comments, continuation,
 * section headers) just enough to know where sections start. */
static void classify(struct loader *L, const char *line)
{
    const char *start = line;
    if (L->line == 1 && (unsigned char)start[0] == 0xEF && (unsigned char)start[1] == 0xBB &&
        (unsigned char)start[2] == 0xBF)
        start += 3;
    const char *p = start;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p || *p == ';' || *p == '#')
        return;
    if (L->section_has_key && p > line) {
        L->continuation = true;
        return;
    }
    if (*p == '[') {
        const char *end = find_chars_or_comment(p + 1, "]");
        if (*end != ']')
            return;         /* no ']': inih reports the syntax error */
        /* inih ignores what follows the ']': "[a] junk" would be job a. */
        const char *rest = end + 1;
        while (isspace((unsigned char)*rest))
            rest++;
        if (*rest && *rest != ';' && *rest != '#') {
            char text[48], shown[200];
            size_t n = strcspn(rest, "\r\n");
            snprintf(text, sizeof text, "%.*s", (int)n, rest);
            failf(L, L->line,
                  "%s:%u: text after the section header's ']': '%s' (a comment starts with ; "
                  "or #)",
                  L->path, L->line, pb_text_escape(text, shown, sizeof shown));
            return;
        }
        open_section(L, p + 1, (size_t)(end - (p + 1)));
        return;
    }
    L->section_has_key = true;
}

/* Reads a line by hand rather than with fgets: a NUL byte would end an
 * fgets line early and hide the rest (a buffer of NULs from /dev/zero has
 * strlen 0, so no length check ever fires and the read never ends). A NUL
 * is an error naming the line; so is a line longer than the buffer. */
static char *read_line(char *str, int num, void *stream)
{
    struct loader *L = stream;
    if (L->failed)
        return NULL;
    int n = 0, c = EOF;
    while (n < num - 1 && (c = getc(L->f)) != EOF) {
        if (c == '\0') {
            L->line++;
            failf(L, L->line, "%s:%u: a NUL byte: not a text job file", L->path, L->line);
            str[0] = '\0';
            return str;
        }
        str[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0 && c == EOF)
        return NULL;
    str[n] = '\0';
    L->line++;
    L->continuation = false;
    if (n == num - 1 && str[n - 1] != '\n') {
        c = getc(L->f);
        if (c != EOF && c != '\n') {
            failf(L, L->line, "%s:%u: line too long (at most %d characters)", L->path, L->line,
                  num - 2);
            str[0] = '\0';
            return str;
        }
    }
    classify(L, str);
    return str;
}

static int remember_key(struct global_key **keys, size_t *n, size_t *cap, const char *key,
                        const char *value, unsigned line)
{
    if (*n == *cap) {
        size_t more = *cap ? 2 * *cap : 16;
        struct global_key *k = realloc(*keys, more * sizeof *k);
        if (!k)
            return -1;
        *keys = k;
        *cap = more;
    }
    struct global_key *k = &(*keys)[(*n)++];
    snprintf(k->key, sizeof k->key, "%s", key);
    snprintf(k->value, sizeof k->value, "%s", value);
    k->line = line;
    return 0;
}

static int add_global_key(struct loader *L, const char *key, const char *value)
{
    return remember_key(&L->gkeys, &L->ngkeys, &L->gcap, key, value, L->line);
}

/* base + built-in, the start of a job or of [global] that says "scenario=". */
static int start_from_builtin(struct loader *L, struct pb_scenario *out, const char *key,
                              const char *value)
{
    const struct pb_builtin *b = pb_builtin_find(value);
    char why[384];
    if (!b) {
        struct pb_scenario probe;
        pb_scenario_set(&probe, key, value, why, sizeof why);   /* fails: names the built-ins */
        failf(L, L->line, "%s:%u: %s", L->path, L->line, why);
        return -1;
    }
    *out = *L->base;
    snprintf(out->name, sizeof out->name, "%s", b->name);
    snprintf(out->description, sizeof out->description, "%s", b->description);
    if (pb_scenario_apply_options(out, b->options, why, sizeof why) != 0) {
        failf(L, L->line, "%s:%u: key '%s': built-in '%s' does not apply: %s", L->path, L->line,
              key, b->name, why);
        return -1;
    }
    return 0;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    struct loader *L = user;
    char why[384];
    if (L->failed)
        return 0;
    if (L->continuation) {
        failf(L, L->line,
              "%s:%u: key '%s': an indented line continues it; continuation lines are not "
              "supported (remove the indentation or join the lines)",
              L->path, L->line, key);
        return 0;
    }
    if (L->cur == SEC_NONE) {
        failf(L, L->line,
              "%s:%u: key '%s': outside any section (put it under [global] or a [job])", L->path,
              L->line, key);
        return 0;
    }
    const char *expect = L->cur == SEC_GLOBAL ? "global" : L->info[L->cur].section;
    if (strcmp(section, expect) != 0) {
        /* Only a header read differently by inih than by us; say where. */
        failf(L, L->line, "%s:%u: syntax error (section header not understood)", L->path,
              L->line);
        return 0;
    }
    for (size_t i = 0; i < L->nseen; i++) {
        if (strcmp(L->seen[i].key, key) == 0) {
            failf(L, L->line, "%s:%u: key '%s': given twice in [%s] (first at line %u)", L->path,
                  L->line, key, expect, L->seen[i].line);
            return 0;
        }
    }
    if (remember_key(&L->seen, &L->nseen, &L->seencap, key, "", L->line) != 0) {
        failf(L, L->line, "%s:%u: out of memory", L->path, L->line);
        return 0;
    }
    bool is_scenario = strcmp(key, "scenario") == 0;

    if (L->cur == SEC_GLOBAL) {
        if (strcmp(key, "name") == 0) {
            failf(L, L->line,
                  "%s:%u: key 'name': not allowed in [global] (a job's name is its section's, "
                  "or its own name key)",
                  L->path, L->line);
            return 0;
        }
        if (is_scenario) {
            /* It starts [global] again from the built-in: keys above it
             * would be dropped without a word. */
            if (L->ngkeys) {
                failf(L, L->line, "%s:%u: key 'scenario' must come before the other [global] "
                      "keys (line %u): it starts from the built-in and would drop them",
                      L->path, L->line, L->gkeys[0].line);
                return 0;
            }
            if (start_from_builtin(L, &L->global, key, value) != 0)
                return 0;
            return 1;
        }
        if (pb_scenario_set(&L->global, key, value, why, sizeof why) != 0) {
            failf(L, L->line, "%s:%u: %s", L->path, L->line, why);
            return 0;
        }
        if (add_global_key(L, key, value) != 0) {
            failf(L, L->line, "%s:%u: out of memory", L->path, L->line);
            return 0;
        }
        return 1;
    }

    struct pb_scenario *s = &L->jobs[L->cur];
    if (is_scenario) {
        if (L->info[L->cur].first_key_line) {
            failf(L, L->line, "%s:%u: key 'scenario' must come first in [%s] (line %u has a key): "
                  "it starts the job from the built-in and would drop the keys above it",
                  L->path, L->line, L->info[L->cur].section, L->info[L->cur].first_key_line);
            return 0;
        }
        struct pb_scenario t;
        if (start_from_builtin(L, &t, key, value) != 0)
            return 0;
        for (size_t i = 0; i < L->ngkeys; i++) {
            const struct global_key *g = &L->gkeys[i];
            if (pb_scenario_set(&t, g->key, g->value, why, sizeof why) != 0) {
                failf(L, g->line, "%s:%u: %s", L->path, g->line, why);
                return 0;
            }
        }
        snprintf(t.name, sizeof t.name, "%s", L->info[L->cur].section);
        *s = t;
        return 1;
    }
    if (pb_scenario_set(s, key, value, why, sizeof why) != 0) {
        failf(L, L->line, "%s:%u: %s", L->path, L->line, why);
        return 0;
    }
    if (!L->info[L->cur].first_key_line)
        L->info[L->cur].first_key_line = L->line;
    return 1;
}

int pb_jobfile_load(const char *path, const struct pb_scenario *base, struct pb_scenario **jobs,
                    char *err, size_t errlen)
{
    return pb_jobfile_load_sections(path, base, jobs, NULL, NULL, err, errlen);
}

int pb_jobfile_load_sections(const char *path, const struct pb_scenario *base,
                             struct pb_scenario **jobs, struct pb_job_section **sections,
                             size_t *nsections, char *err, size_t errlen)
{
    *jobs = NULL;
    if (sections)
        *sections = NULL;
    struct pb_scenario defaults;
    if (!base) {
        pb_scenario_defaults(&defaults);
        base = &defaults;
    }
    FILE *f;
    if (pb_file_open_input(path, "a job file is a text file", &f, err, errlen) != 0)
        return -1;

    struct loader *L = calloc(1, sizeof *L);
    if (!L) {
        pb_file_close_input(f);
        return pb_fail(err, errlen, "%s: out of memory", path);
    }
    L->path = path;
    L->f = f;
    L->base = base;
    L->global = *base;
    L->cur = SEC_NONE;

    int rc = ini_parse_stream(read_line, L, on_key, L);
    int read_errno = ferror(f) ? errno : 0;
    pb_file_close_input(f);

    int result = -1;
    if (read_errno) {
        pb_fail(err, errlen, "%s: cannot read: %s", path, strerror(read_errno));
    } else if (rc < 0) {
        pb_fail(err, errlen, "%s: out of memory", path);
    } else if (rc > 0 && (!L->failed || (unsigned)rc < L->fail_line)) {
        pb_fail(err, errlen, "%s:%d: syntax error (expected [section], key = value, or a ; or # comment)",
             path, rc);
    } else if (L->failed) {
        pb_fail(err, errlen, "%s", L->msg);
    } else if (L->njobs == 0) {
        pb_fail(err, errlen, "%s: no jobs (%s)", path,
             L->seen_global ? "only [global]" : "no [section] in the file");
    } else {
        result = (int)L->njobs;
        for (size_t i = 0; i < L->njobs && result >= 0; i++) {
            for (size_t j = 0; j < i; j++) {
                if (strcmp(L->jobs[i].name, L->jobs[j].name) == 0) {
                    pb_fail(err, errlen,
                         "%s: jobs [%s] (line %u) and [%s] (line %u) are both named '%s'", path,
                         L->info[j].section, L->info[j].line, L->info[i].section,
                         L->info[i].line, L->jobs[i].name);
                    result = -1;
                    break;
                }
            }
            char why[384];
            if (result >= 0 && pb_scenario_validate(&L->jobs[i], why, sizeof why) != 0) {
                pb_fail(err, errlen, "%s: job '%s': %s", path, L->info[i].section, why);
                result = -1;
            }
        }
    }
    if (result >= 0) {
        *jobs = L->jobs;
        L->jobs = NULL;
        if (sections) {
            *sections = L->sections;
            *nsections = L->nsections;
            L->sections = NULL;
        }
    }
    free(L->jobs);
    free(L->sections);
    free(L->info);
    free(L->gkeys);
    free(L->seen);
    free(L);
    return result;
}
