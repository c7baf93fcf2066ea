/* An XML topology (--topology-xml): pendbench's checks of the file, then
 * hwloc's XML import in this very process (pb_topo__xml_in_process: no
 * checking child, so libFuzzer sees a crash inside hwloc), then every
 * placement on what loads. With PB_FUZZ_XML_CONTAINED set in the
 * environment (`ninja fuzz` sets it) the import goes through pendbench's
 * checking child as in the program: hwloc's crashes are then contained
 * and reported, and the run fuzzes pendbench's side of it. */
#include <stdbool.h>

#include "fuzz_common.h"
#include "fuzz_topo.h"
#include "../workloads/topo_internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    pb_topo__xml_in_process = getenv("PB_FUZZ_XML_CONTAINED") == NULL;
    /* hwloc's own complaints about each malformed file are noise here. */
    setenv("HWLOC_XML_VERBOSE", "0", 1);
    return 0;
}

/* Whether an "&..." escape at p is one hwloc's XML reader knows. */
static bool known_escape(const char *p)
{
    static const char *const known[] = { "&#10;", "&#13;", "&#9;", "&quot;", "&lt;", "&gt;",
                                         "&amp;" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strncmp(p, known[i], strlen(known[i])) == 0)
            return true;
    return false;
}

/* The attributes of one tag (its text after the name, NUL-terminated) as
 * hwloc 2.9's built-in XML reader takes them: spaces, a name of [a-z_],
 * '="', a value up to the next '"' with the XML escapes it knows; the
 * first attribute it cannot read ends the list. Returns whether one of
 * cpuset, complete_cpuset, nodeset, complete_nodeset is missing, as
 * hwloc would see them. */
static bool lacks_a_set(char *attrs)
{
    bool cpuset = false, complete_cpuset = false, nodeset = false, complete_nodeset = false;
    char *p = attrs;
    for (;;) {
        p += strspn(p, " \t\n");
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
        if (p[n] != '=' || p[n + 1] != '"')
            break;
        char *q = p + n + 2;
        bool readable = true;
        while (*q && *q != '"') {
            if (*q == '&' && !known_escape(q)) {
                readable = false;
                break;
            }
            q++;
        }
        if (!readable || *q != '"')
            break;
        p[n] = '\0';
        cpuset |= strcmp(p, "cpuset") == 0;
        complete_cpuset |= strcmp(p, "complete_cpuset") == 0;
        nodeset |= strcmp(p, "nodeset") == 0;
        complete_nodeset |= strcmp(p, "complete_nodeset") == 0;
        p = q + 1;
    }
    return !(cpuset && complete_cpuset && nodeset && complete_nodeset);
}

/* hwloc 2.9 dereferences a missing set of an object while loading: an
 * object with a cpuset but no complete_cpuset crashes in
 * hwloc_bitmap_compare_first (fixed upstream by "xml: reject imported
 * object missing complete_cpuset/nodeset"), a hwloc-1 NUMANode without
 * sets in hwloc_bitmap_isequal; `lstopo -i` on either segfaults.
 * pendbench contains these crashes in its checking child (the fixtures
 * workloads/test/data/crash-*.xml and their test); here an input with an
 * object lacking any of its four sets is skipped, so that the fuzzer
 * looks for other faults instead of finding these again and again (I/O
 * and Misc objects have no sets, but pendbench leaves them out of its
 * topologies anyway). A PU or NUMANode without os_index, or with a huge
 * one, is not skipped: hwloc would build bitmaps up to that bit (512 MB
 * each at 2^32 - 1), but pendbench refuses such a file before hwloc
 * reads it (check_xml_objects in workloads/topo.c), and the fuzzer's
 * memory limit catches an object that check misses. text is modified. */
static bool hits_known_hwloc_bug(char *text)
{
    for (char *tag = strstr(text, "<object "); tag; tag = strstr(tag + 1, "<object ")) {
        char *end = strchr(tag, '>');
        if (!end)
            return false;       /* hwloc stops reading there */
        size_t len = (size_t)(end - tag) - strlen("<object ");
        char *attrs = malloc(len + 1);
        if (!attrs)
            abort();
        memcpy(attrs, tag + strlen("<object "), len);
        attrs[len] = '\0';
        if (len && attrs[len - 1] == '/')
            attrs[len - 1] = '\0';  /* <object .../> */
        bool bug = lacks_a_set(attrs);
        free(attrs);
        if (bug)
            return true;
    }
    return false;
}

/* Whether a set's value is in the form hwloc writes: comma-separated
 * words "0x" + 1 to 8 hex digits, inner words possibly empty (zero), the
 * first possibly "0xf...f" (an infinite set). */
static bool set_value_ok(const char *v, size_t len)
{
    size_t i = 0, word = 0;
    for (;;) {
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t n = i - start;
        const char *w = v + start;
        bool ok;
        if (n == 0)
            ok = word > 0 && i < len;           /* an empty inner word */
        else if (word == 0 && n == 7 && memcmp(w, "0xf...f", 7) == 0)
            ok = true;
        else
            ok = n >= 3 && n <= 10 && w[0] == '0' && w[1] == 'x' &&
                 strspn(w + 2, "0123456789abcdefABCDEF") >= n - 2;
        if (!ok)
            return false;
        if (i == len)
            return true;
        i++;                                     /* the comma */
        word++;
    }
}

/* hwloc 2.9 asserts (count > 0 in hwloc_bitmap_sscanf: an abort, `lstopo
 * -i` too) on a set value such as ",x0000f000". Any cpuset="..." or
 * nodeset="..." (also complete_..., allowed_..., online_...) whose value
 * is not in hwloc's own form is skipped for the same reason as above
 * (fixture: workloads/test/data/crash-bad-set-value.xml). */
static bool has_odd_set_value(const char *text)
{
    static const char *const names[] = { "cpuset=\"", "nodeset=\"" };
    for (size_t k = 0; k < 2; k++)
        for (const char *p = strstr(text, names[k]); p; p = strstr(p + 1, names[k])) {
            const char *v = p + strlen(names[k]);
            const char *q = strchr(v, '"');
            if (!q || !set_value_ok(v, (size_t)(q - v)))
                return true;
        }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    bool skip = has_odd_set_value(text) || hits_known_hwloc_bug(text);
    free(text);
    if (skip)
        return -1;      /* not added to the corpus */
    char path[64], err[2048] = "";
    fuzz_file(data, size, path, sizeof path);
    struct pb_topo *t = NULL;
    if (pb_topo_load(&t, PB_TOPO_XML, path, err, sizeof err) == 0) {
        fuzz_plan_all(t);
        pb_topo_free(t);
    } else if (!err[0]) {
        abort();
    }
    return 0;
}
