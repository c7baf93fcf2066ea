/* The run key (pb_runkey.h): what makes two runs the same configuration.
 *
 * Everything is done on the canonical workload text, so a key read from a
 * result file and one rebuilt from a stored label compare the same way.
 * Items are separated by ", " and a value never holds one (options take
 * lists as "a,b"); a value that did would have it written as "," so that
 * the text still splits into the same items. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "pb_runkey.h"
#include "result_internal.h"

#define MAX_ITEMS 96
#define ITEM_MAX 512

bool pb_runkey_is_workload_param(const char *name)
{
    /* How long and from which seed it ran, how its latency and its split
     * were sampled, and the strategies (a key of their own) do not make
     * another workload. */
    static const char *const skip[] = { "duration", "ops", "warmup", "seed", "split-every",
                                        "latency-every", "pool", "queue", "handoff" };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(name, skip[i]) == 0)
            return false;
    return true;
}

/* ---- items of a workload text ---------------------------------------------------- */

/* The next "k=v" of *cursor into key and value; false at the end. An item
 * without '=' gives an empty value and *bad = true. */
static bool next_item(const char **cursor, char *key, size_t ksize, char *value, size_t vsize,
                      bool *bad)
{
    const char *s = *cursor;
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    const char *end = strstr(s, ", ");
    size_t len = end ? (size_t)(end - s) : strlen(s);
    *cursor = end ? end + 2 : s + len;
    const char *eq = memchr(s, '=', len);
    size_t klen = eq ? (size_t)(eq - s) : len;
    if (klen >= ksize)
        klen = ksize - 1;
    memcpy(key, s, klen);
    key[klen] = 0;
    value[0] = 0;
    if (!eq) {
        *bad = true;
        return true;
    }
    size_t vlen = len - klen - 1;
    if (vlen >= vsize)
        vlen = vsize - 1;
    memcpy(value, eq + 1, vlen);
    value[vlen] = 0;
    return true;
}

/* The value of `name` in a workload text; false when it has none. */
static bool find_value(const char *text, const char *name, char *value, size_t vsize)
{
    char k[ITEM_MAX], v[ITEM_MAX];
    bool bad = false;
    while (next_item(&text, k, sizeof k, v, sizeof v, &bad))
        if (strcmp(k, name) == 0) {
            snprintf(value, vsize, "%s", v);
            return true;
        }
    return false;
}

static void append(char *buf, size_t size, const char *sep, const char *text)
{
    size_t len = strlen(buf);
    /* Text for a person: cut when it does not fit. The return value is
     * only looked at to keep the buffer terminated. */
    if (len + 1 < size && snprintf(buf + len, size - len, "%s%s", len ? sep : "", text) < 0)
        buf[len] = 0;
}

/* ---- canonical text ----------------------------------------------------------------- */

struct item {
    char key[64];
    char value[ITEM_MAX];
};

static int cmp_item(const void *x, const void *y)
{
    return strcmp(((const struct item *)x)->key, ((const struct item *)y)->key);
}

/* ", " inside a value would split it: write it as ",". */
static void squeeze(char *v)
{
    char *o = v;
    for (const char *s = v; *s; s++) {
        *o++ = *s;
        if (s[0] == ',')
            while (s[1] == ' ')
                s++;
    }
    *o = 0;
}

/* "lock=default" (or an empty lock) says what no lock item says: each
 * strategy's own lock. Dropped, so such a run keeps the key of a run
 * written without the item (and of the runs recorded before locks). */
static bool default_lock_item(const struct item *it)
{
    return strcmp(it->key, "lock") == 0 && (!it->value[0] || strcmp(it->value, "default") == 0);
}

/* The key's lock from its (canonical) workload text. */
static void set_lock(struct pb_runkey *key)
{
    if (!find_value(key->workload, "lock", key->lock, sizeof key->lock) ||
        strcmp(key->lock, "default") == 0)
        key->lock[0] = 0;
}

/* Joins sorted items; -1 when the text was cut (at a whole item). */
static int join(struct item *items, unsigned n, char *out, size_t size)
{
    qsort(items, n, sizeof *items, cmp_item);
    out[0] = 0;
    size_t used = 0;
    int rc = 0;
    for (unsigned i = 0; i < n; i++) {
        if (i > 0 && strcmp(items[i].key, items[i - 1].key) == 0)
            continue;   /* a label naming a key twice: the first stands */
        int w = snprintf(out + used, size - used, "%s%s=%s", used ? ", " : "", items[i].key,
                         items[i].value);
        if (w < 0 || (size_t)w >= size - used) {
            out[used] = 0;
            rc = -1;
            break;
        }
        used += (size_t)w;
    }
    return rc;
}

static const char *strategy(const struct pb_result_run *run, const char *name)
{
    const char *s = run->params ? json_string_value(json_object_get(run->params, name)) : NULL;
    if (s)
        return s;
    if (strcmp(name, "pool") == 0)
        return run->r.scenario.pool;
    if (strcmp(name, "queue") == 0)
        return run->r.scenario.queue;
    return run->r.scenario.handoff;
}

static int copy(char *dst, size_t size, const char *src)
{
    int n = snprintf(dst, size, "%s", src ? src : "");
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

int pb_runkey_of_run(const struct pb_result_run *run, struct pb_runkey *key)
{
    memset(key, 0, sizeof *key);
    int rc = copy(key->scenario, sizeof key->scenario, run->r.scenario.name);
    rc |= copy(key->pool, sizeof key->pool, strategy(run, "pool"));
    rc |= copy(key->queue, sizeof key->queue, strategy(run, "queue"));
    rc |= copy(key->handoff, sizeof key->handoff, strategy(run, "handoff"));
    if (!run->params)
        return rc ? -1 : 0;
    struct item *items = malloc(MAX_ITEMS * sizeof *items);
    if (!items)
        return -1;
    unsigned n = 0;
    const char *name;
    json_t *v;
    json_object_foreach(run->params, name, v) {
        if (!pb_runkey_is_workload_param(name))
            continue;
        if (n == MAX_ITEMS) {
            rc = -1;
            break;
        }
        struct item *it = &items[n++];
        snprintf(it->key, sizeof it->key, "%s", name);
        if (pb_result_param_text(v, it->value, sizeof it->value) != 0) {
            /* null (a value that was not finite), nesting, or too long: the
             * JSON itself still tells equal from unequal. */
            char *dump = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
            snprintf(it->value, sizeof it->value, "%s", dump ? dump : "?");
            free(dump);
        }
        squeeze(it->value);
        if (default_lock_item(it))
            n--;
    }
    rc |= join(items, n, key->workload, sizeof key->workload);
    free(items);
    set_lock(key);
    return rc ? -1 : 0;
}

int pb_runkey_of_result(const struct pb_run_result *r, struct pb_runkey *key)
{
    /* The params the writer would write for it: the same key as the run
     * has once written and read back. */
    struct pb_result_run run = { .r = *r, .params = pb_result_params_json(&r->scenario) };
    int rc = pb_runkey_of_run(&run, key);
    if (!run.params)
        rc = -1;
    json_decref(run.params);
    return rc;
}

int pb_runkey_set(struct pb_runkey *key, const char *scenario, const char *pool,
                  const char *queue, const char *handoff, const char *workload)
{
    memset(key, 0, sizeof *key);
    int rc = copy(key->scenario, sizeof key->scenario, scenario);
    rc |= copy(key->pool, sizeof key->pool, pool);
    rc |= copy(key->queue, sizeof key->queue, queue);
    rc |= copy(key->handoff, sizeof key->handoff, handoff);
    if (!workload || !workload[0])
        return rc ? -1 : 0;
    struct item *items = malloc(MAX_ITEMS * sizeof *items);
    if (!items)
        return -1;
    unsigned n = 0;
    bool bad = false;
    const char *cursor = workload;
    struct item it;
    while (next_item(&cursor, it.key, sizeof it.key, it.value, sizeof it.value, &bad)) {
        if (n == MAX_ITEMS) {
            rc = -1;
            break;
        }
        if (!default_lock_item(&it))
            items[n++] = it;
    }
    rc |= join(items, n, key->workload, sizeof key->workload);
    free(items);
    set_lock(key);
    return rc || bad ? -1 : 0;
}

/* ---- comparing -------------------------------------------------------------------- */

static bool same_strategies(const struct pb_runkey *a, const struct pb_runkey *b)
{
    return strcmp(a->scenario, b->scenario) == 0 && strcmp(a->pool, b->pool) == 0 &&
           strcmp(a->queue, b->queue) == 0 && strcmp(a->handoff, b->handoff) == 0;
}

bool pb_runkey_same_name(const struct pb_runkey *a, const struct pb_runkey *b)
{
    return same_strategies(a, b) && strcmp(a->lock, b->lock) == 0;
}

/* skip: a param left out of the comparison (NULL: none). */
static bool workload_same(const char *a, const char *b, const char *skip, char *diff,
                          size_t difflen)
{
    if (diff && difflen)
        diff[0] = 0;
    bool same = true, bad = false;
    char k[ITEM_MAX], va[ITEM_MAX], vb[ITEM_MAX];
    for (const char *cursor = a; next_item(&cursor, k, sizeof k, va, sizeof va, &bad);) {
        if ((skip && strcmp(k, skip) == 0) || !find_value(b, k, vb, sizeof vb) ||
            strcmp(va, vb) == 0)
            continue;
        same = false;
        if (!diff)
            break;
        char item[200];
        snprintf(item, sizeof item, "%.60s %.60s -> %.60s", k, va, vb);
        append(diff, difflen, ", ", item);
    }
    return same;
}

bool pb_runkey_workload_same(const char *a, const char *b, char *diff, size_t difflen)
{
    return workload_same(a, b, NULL, diff, difflen);
}

bool pb_runkey_same(const struct pb_runkey *a, const struct pb_runkey *b)
{
    return pb_runkey_same_name(a, b) && pb_runkey_workload_same(a->workload, b->workload, NULL, 0);
}

bool pb_runkey_same_but_lock(const struct pb_runkey *a, const struct pb_runkey *b)
{
    return same_strategies(a, b) && workload_same(a->workload, b->workload, "lock", NULL, 0);
}

void pb_runkey_distinguishing(const struct pb_runkey *key, const struct pb_runkey *const *others,
                              unsigned nothers, char *out, size_t size)
{
    if (!size)
        return;
    out[0] = 0;
    char k[ITEM_MAX], v[ITEM_MAX], vo[ITEM_MAX];
    bool bad = false;
    for (const char *cursor = key->workload; next_item(&cursor, k, sizeof k, v, sizeof v, &bad);) {
        bool differs = false;
        for (unsigned i = 0; i < nothers && !differs; i++) {
            const struct pb_runkey *o = others[i];
            if (o == key || !pb_runkey_same_name(key, o))
                continue;
            differs = find_value(o->workload, k, vo, sizeof vo) && strcmp(v, vo) != 0;
        }
        if (differs) {
            char item[ITEM_MAX + 80];
            snprintf(item, sizeof item, "%.60s=%s", k, v);
            append(out, size, ", ", item);
        }
    }
}

void pb_runkey_strategies_text(const char *pool, const char *queue, const char *handoff,
                               const char *lock, char *out, size_t size)
{
    bool with = lock && lock[0] && strcmp(lock, "default") != 0;
    snprintf(out, size, "%s / %s / %s%s%s%s", pool ? pool : "", queue ? queue : "",
             handoff ? handoff : "", with ? " [lock " : "", with ? lock : "", with ? "]" : "");
}

void pb_runkey_format(const struct pb_runkey *key, const char *label, char *out, size_t size)
{
    bool with = label && label[0];
    char strategies[4 * PB_NAME_MAX + 32];
    pb_runkey_strategies_text(key->pool, key->queue, key->handoff, key->lock, strategies,
                              sizeof strategies);
    snprintf(out, size, "%s %s%s%s%s", key->scenario, strategies, with ? " [" : "",
             with ? label : "", with ? "]" : "");
}
