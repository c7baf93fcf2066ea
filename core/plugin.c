/* Plugins (pendbench_plugin.h): strategies loaded from shared objects,
 * checked, and found by the registries' pb_*_find under their path. */
#include <dlfcn.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pendbench_plugin.h"

/* Every ops table starts with its name. */
_Static_assert(offsetof(struct pb_pool_ops, name) == 0 && offsetof(struct pb_queue_ops, name) == 0 &&
                   offsetof(struct pb_handoff_ops, name) == 0 &&
                   offsetof(struct pb_lock_ops, name) == 0,
               "an ops table starts with its name");

#define MAX_PLUGINS 32

struct loaded {
    char *path;                    /* as given; another spelling of one file is an entry too */
    enum pb_plugin_kind kind;
    const void *ops;
    const char *name;              /* the ops table's */
    dev_t dev;                     /* the file, to know it under another spelling */
    ino_t ino;
};

/* path as a new entry for the plugin of `same` (the same file). */
static const void *add_spelling(const char *path, const struct loaded *same,
                                enum pb_plugin_kind kind, char *err, size_t n);

static pthread_mutex_t plugins_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loaded plugins[MAX_PLUGINS];
static unsigned nplugins;

static const char *kind_name(uint32_t k)
{
    return k == PB_PLUGIN_POOL ? "pool" : k == PB_PLUGIN_QUEUE ? "queue"
         : k == PB_PLUGIN_HANDOFF ? "handoff" : k == PB_PLUGIN_LOCK ? "lock" : "unknown";
}

int pb_plugin_is_path(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    return v && (strchr(v, '/') || (n > 3 && strcmp(v + n - 3, ".so") == 0));
}

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && n)
        vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A plugin's name is made of what the built-ins' are made of: ASCII
 * letters, digits, '-' and '_'. The name reaches the terminal in the run
 * table, result files, the history and pages: a control character in it
 * ("a\x1b[31mred") was printed raw, a byte outside ASCII was written as
 * '?' into the result (so the file named another strategy); ',' splits a
 * sweep's list, '+' locks_taken's, ' ' and '=' the run key's workload,
 * and a name ending in ".so" reads as a plugin path. The message names the
 * first bad byte by its value and place: the name itself is not printed,
 * since it is what must not reach the terminal. */
static int check_name(const char *path, uint32_t kind, const char *name, char *err, size_t n)
{
    size_t len = strnlen(name, PB_PLUGIN_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return fail(err, n, "plugin %s: its %s's name has byte 0x%02x at %zu: a name is 1 to "
                        "%d ASCII letters, digits, '-' and '_'", path, kind_name(kind), c, i,
                        PB_PLUGIN_NAME_MAX - 1);
    }
    if (len == 0 || len >= PB_PLUGIN_NAME_MAX)
        return fail(err, n, "plugin %s: its %s's name is %zu characters long: a name is 1 to %d "
                    "ASCII letters, digits, '-' and '_'", path, kind_name(kind), len,
                    PB_PLUGIN_NAME_MAX - 1);
    return 0;
}

/* Every operation present, a name of its own (check_name, and not a
 * built-in's). The name is checked first: the messages after it print it. */
static int check_ops(const char *path, uint32_t kind, const void *ops, char *err, size_t n)
{
    /* Every ops table starts with its name (the _Static_assert above). */
    const char *own = *(const char *const *)ops;
    if (!own)
        return fail(err, n, "plugin %s: its %s has no name", path, kind_name(kind));
    if (check_name(path, kind, own, err, n) != 0)
        return -1;
#define NEED(field)                                                                              \
    if (!o->field)                                                                               \
        return fail(err, n, "plugin %s: %s '%s': operation '%s' is NULL (every operation of "    \
                    "its kind is required)", path, kind_name(kind), o->name, #field)
    const char *name = NULL;
    int builtin = 0;
    if (kind == PB_PLUGIN_POOL) {
        const struct pb_pool_ops *o = ops;
        NEED(init); NEED(fini); NEED(get); NEED(put);
        name = o->name;
        for (size_t i = 0; pb_pools[i]; i++)
            builtin |= strcmp(pb_pools[i]->name, name) == 0;
    } else if (kind == PB_PLUGIN_QUEUE) {
        const struct pb_queue_ops *o = ops;
        NEED(init); NEED(fini); NEED(enqueue); NEED(dequeue); NEED(shutdown);
        name = o->name;
        for (size_t i = 0; pb_queues[i]; i++)
            builtin |= strcmp(pb_queues[i]->name, name) == 0;
    } else if (kind == PB_PLUGIN_LOCK) {
        const struct pb_lock_ops *o = ops;
        NEED(init); NEED(fini); NEED(lock); NEED(unlock);
        /* trylock is the one optional operation: present exactly when the
         * flags promise it (pb_lock_acquire tries it first). */
        if (!o->trylock != !(o->flags & PB_LOCK_TRYLOCK))
            return fail(err, n, "plugin %s: lock '%s': %s", path, o->name,
                        o->trylock ? "has a trylock but its flags lack PB_LOCK_TRYLOCK"
                                   : "its flags have PB_LOCK_TRYLOCK but trylock is NULL");
        if ((o->flags & PB_LOCK_IN_WORD) && o->size > 8)
            return fail(err, n, "plugin %s: lock '%s': PB_LOCK_IN_WORD with %zu bytes of state "
                        "(an in-word lock has at most 8)", path, o->name, o->size);
        name = o->name;
        for (size_t i = 0; pb_locks[i]; i++)
            builtin |= strcmp(pb_locks[i]->name, name) == 0;
    } else {
        const struct pb_handoff_ops *o = ops;
        NEED(init); NEED(fini); NEED(reset); NEED(arm); NEED(disarm); NEED(cancel);
        NEED(is_cancelled); NEED(is_armed);
        name = o->name;
        for (size_t i = 0; pb_handoffs[i]; i++)
            builtin |= strcmp(pb_handoffs[i]->name, name) == 0;
    }
#undef NEED
    if (builtin)
        return fail(err, n, "plugin %s: its %s is named '%s', as a built-in one: give it a name "
                    "of its own", path, kind_name(kind), name);
    for (unsigned i = 0; i < nplugins; i++)
        if (strcmp(plugins[i].name, name) == 0)
            return fail(err, n, "plugin %s: a plugin named '%s' is already loaded (from %s)",
                        path, name, plugins[i].path);
    return 0;
}

static const void *load_locked(const char *path, enum pb_plugin_kind kind, char *err, size_t n)
{
    for (unsigned i = 0; i < nplugins; i++)
        if (strcmp(plugins[i].path, path) == 0) {
            if (kind != PB_PLUGIN_ANY && plugins[i].kind != kind) {
                fail(err, n, "plugin %s is a %s, not a %s", path, kind_name(plugins[i].kind),
                     kind_name(kind));
                return NULL;
            }
            return plugins[i].ops;
        }
    if (nplugins >= MAX_PLUGINS) {
        fail(err, n, "plugin %s: at most %d plugins in one process", path, MAX_PLUGINS);
        return NULL;
    }
    /* dlopen searches the library path for a bare name: a plugin is a file. */
    char file[4096];
    if ((size_t)snprintf(file, sizeof file, "%s%s", strchr(path, '/') ? "" : "./", path) >=
        sizeof file) {
        /* Cut short, it would name (and load) another file. */
        fail(err, n, "plugin %.100s...: a path of %zu characters, too long", path, strlen(path));
        return NULL;
    }
    /* The same file under another spelling (./x.so, x.so, /abs/x.so, a
     * link): dlopen would hand back the loaded object, whose name is
     * taken; it is the same plugin. */
    struct stat st;
    bool known = stat(file, &st) == 0;
    for (unsigned i = 0; known && i < nplugins; i++)
        if (plugins[i].dev == st.st_dev && plugins[i].ino == st.st_ino)
            return add_spelling(path, &plugins[i], kind, err, n);
    void *dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        const char *why = dlerror();
        fail(err, n, "cannot load plugin %s: %s", path, why ? why : "unknown error");
        return NULL;
    }
    const struct pb_plugin *p = dlsym(dl, PB_PLUGIN_SYMBOL);
    const char *bad = NULL;
    char msg[512];
    uint32_t k = p && kind == PB_PLUGIN_ANY ? p->kind : (uint32_t)kind;
    size_t want = k == PB_PLUGIN_POOL ? sizeof(struct pb_pool_ops)
                : k == PB_PLUGIN_QUEUE ? sizeof(struct pb_queue_ops)
                : k == PB_PLUGIN_LOCK ? sizeof(struct pb_lock_ops)
                                       : sizeof(struct pb_handoff_ops);
    if (!p) {
        snprintf(msg, sizeof msg, "plugin %s exports no symbol '%s' (a plugin ends with "
                 "PB_PLUGIN_%s(its_ops); see pendbench_plugin.h)", path, PB_PLUGIN_SYMBOL,
                 kind == PB_PLUGIN_POOL ? "POOL" : kind == PB_PLUGIN_HANDOFF ? "HANDOFF"
                 : kind == PB_PLUGIN_LOCK ? "LOCK" : "QUEUE");
        bad = msg;
    } else if (p->abi_version != PB_PLUGIN_ABI_VERSION) {
        snprintf(msg, sizeof msg, "plugin %s was built for plugin ABI version %u; this pendbench "
                 "has version %u: rebuild it against this pendbench's pendbench_plugin.h",
                 path, p->abi_version, PB_PLUGIN_ABI_VERSION);
        bad = msg;
    } else if (k < PB_PLUGIN_POOL || k > PB_PLUGIN_LOCK) {
        snprintf(msg, sizeof msg, "plugin %s: unknown strategy kind %u", path, p->kind);
        bad = msg;
    } else if (p->kind != k) {
        snprintf(msg, sizeof msg, "plugin %s is a %s strategy, not a %s", path,
                 kind_name(p->kind), kind_name(kind));
        bad = msg;
    } else if (p->ops_size != want || !p->ops) {
        snprintf(msg, sizeof msg, "plugin %s: its %s ops table is %u bytes, this pendbench's is "
                 "%zu: rebuild it against this pendbench's headers", path, kind_name(kind),
                 p->ops_size, want);
        bad = msg;
    } else if (check_ops(path, p->kind, p->ops, msg, sizeof msg) != 0) {
        bad = msg;
    }
    if (bad) {
        fail(err, n, "%s", bad);
        dlclose(dl);
        return NULL;
    }
    char *copy = strdup(path);
    if (!copy) {
        fail(err, n, "plugin %s: out of memory", path);
        dlclose(dl);
        return NULL;
    }
    /* Never closed: models and results refer to its ops and names. */
    plugins[nplugins++] = (struct loaded){ copy, (enum pb_plugin_kind)k, p->ops,
                                           *(const char *const *)p->ops,
                                           known ? st.st_dev : 0, known ? st.st_ino : 0 };
    return p->ops;
}

static const void *add_spelling(const char *path, const struct loaded *same,
                                enum pb_plugin_kind kind, char *err, size_t n)
{
    if (kind != PB_PLUGIN_ANY && same->kind != kind) {
        fail(err, n, "plugin %s is a %s strategy, not a %s", path, kind_name(same->kind),
             kind_name(kind));
        return NULL;
    }
    char *copy = strdup(path);
    if (!copy) {
        fail(err, n, "plugin %s: out of memory", path);
        return NULL;
    }
    struct loaded alias = *same;
    alias.path = copy;
    plugins[nplugins++] = alias;
    return alias.ops;
}

const void *pb_plugin_load(const char *path, enum pb_plugin_kind kind, char *err, size_t errlen)
{
    if (!path || !*path) {
        fail(err, errlen, "no plugin path");
        return NULL;
    }
    pthread_mutex_lock(&plugins_lock);
    const void *ops = load_locked(path, kind, err, errlen);
    pthread_mutex_unlock(&plugins_lock);
    return ops;
}

enum pb_plugin_kind pb_plugin_kind_of(const char *path)
{
    enum pb_plugin_kind k = PB_PLUGIN_ANY;
    pthread_mutex_lock(&plugins_lock);
    for (unsigned i = 0; path && i < nplugins; i++)
        if (strcmp(plugins[i].path, path) == 0)
            k = plugins[i].kind;
    pthread_mutex_unlock(&plugins_lock);
    return k;
}

const char *pb_plugin_name_of(const char *path)
{
    const char *name = NULL;
    pthread_mutex_lock(&plugins_lock);
    for (unsigned i = 0; path && i < nplugins; i++)
        if (strcmp(plugins[i].path, path) == 0)
            name = plugins[i].name;
    pthread_mutex_unlock(&plugins_lock);
    return name;
}

const char *pb_plugin_path_at(unsigned i)
{
    const char *path = NULL;
    pthread_mutex_lock(&plugins_lock);
    if (i < nplugins)
        path = plugins[i].path;        /* never freed: entries stay to the end */
    pthread_mutex_unlock(&plugins_lock);
    return path;
}

const void *pb_plugin_find_name(const char *name, enum pb_plugin_kind kind)
{
    const void *ops = NULL;
    pthread_mutex_lock(&plugins_lock);
    for (unsigned i = 0; name && i < nplugins; i++)
        if (plugins[i].kind == kind && strcmp(plugins[i].name, name) == 0)
            ops = plugins[i].ops;
    pthread_mutex_unlock(&plugins_lock);
    return ops;
}
