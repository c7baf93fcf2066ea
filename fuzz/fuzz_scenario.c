/* The scenario option parser: pb_scenario_apply_options on the whole
 * input ("key=value" lines, as a built-in or a job section), and
 * pb_scenario_set on its first line split at '=' (as a command-line
 * option). Each either applies or gives one message; an accepted
 * scenario then goes through the validator and the summary. */
#include "fuzz_common.h"
#include "pb_scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct pb_scenario *s)
{
    char err[1024] = "", summary[512];
    if (pb_scenario_validate(s, err, sizeof err) != 0 && !err[0])
        abort();
    pb_scenario_summary(s, summary, sizeof summary);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_string(data, size);
    /* A strategy value with a '/' is a plugin path that pendbench would
     * dlopen: the fuzzer must not load whatever shared object it names. */
    if (strchr(text, '/')) {
        free(text);
        return 0;
    }
    char err[1024] = "";
    struct pb_scenario s;
    pb_scenario_defaults(&s);
    if (pb_scenario_apply_options(&s, text, err, sizeof err) == 0)
        check(&s);
    else if (!err[0])
        abort();

    char *line_end = strchr(text, '\n');
    if (line_end)
        *line_end = '\0';
    char *eq = strchr(text, '=');
    if (eq) {
        *eq = '\0';
        pb_scenario_defaults(&s);
        err[0] = '\0';
        if (pb_scenario_set(&s, text, eq + 1, err, sizeof err) == 0)
            check(&s);
        else if (!err[0])
            abort();
    }
    free(text);
    return 0;
}
