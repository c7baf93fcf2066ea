/* pendbench list: strategies, built-in scenarios, options. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "pb_lock.h"

/* A strategy: its name, description, capabilities as words, and the one
 * boolean its kind always had (kept for readers of the old format). */
static json_t *strategy_json(const char *name, const char *description, unsigned flags,
                             const char *key, unsigned flag)
{
    json_t *words = json_array();
    for (unsigned bit = 0; bit < 32; bit++) {
        const char *w = (flags >> bit) & 1u ? pb_strategy_flag_word(1u << bit) : NULL;
        if (w)
            json_array_append_new(words, json_string(w));
    }
    return json_pack("{s:s, s:s, s:b, s:o}", "name", name, "description", description, key,
                     (flags & flag) != 0, "flags", words);
}

static const struct pb_opt list_opts[] = {
    { "json", 0, NULL, "one JSON document on stdout: pools, queues, handoffs, locks (with their flags), "
      "scenarios, options", 0 },
    { NULL, 0, NULL, NULL, 0 },
};

int pb_cmd_list(int argc, char **argv)
{
    bool json = false;
    const struct pb_opt_group groups[] = { { "options", list_opts, pb_opt_set_flag, &json } };
    const struct pb_cli cli = {
        .verb = "list",
        .usage = "pendbench list [--json]\n",
        .about = "Lists the strategies of each kind with their flags, the built-in scenarios\n"
                 "and (with --json) the scenario options.\n",
        .groups = groups,
        .ngroups = 1,
    };
    enum pb_cli_result pr = pb_cli_parse(&cli, argc, argv);
    if (pr != PB_CLI_GO)
        return pb_cli_exit(pr);
    if (json) {
        json_t *root = json_object(), *pools = json_array(), *queues = json_array(),
               *handoffs = json_array(), *locks = json_array(), *scen = json_array(),
               *opts = json_array();
        for (size_t i = 0; pb_pools[i]; i++)
            json_array_append_new(pools, strategy_json(pb_pools[i]->name, pb_pools[i]->description,
                                                       pb_pools[i]->flags, "type_stable",
                                                       PB_TYPE_STABLE));
        for (size_t i = 0; pb_queues[i]; i++)
            json_array_append_new(queues, strategy_json(pb_queues[i]->name,
                                                        pb_queues[i]->description,
                                                        pb_queues[i]->flags, "fifo_per_producer",
                                                        PB_FIFO_PER_PRODUCER));
        for (size_t i = 0; pb_handoffs[i]; i++)
            json_array_append_new(handoffs, strategy_json(pb_handoffs[i]->name,
                                                          pb_handoffs[i]->description,
                                                          pb_handoffs[i]->flags, "broken",
                                                          PB_BROKEN));
        for (size_t i = 0; pb_locks[i]; i++)
            json_array_append_new(locks, strategy_json(pb_locks[i]->name,
                                                       pb_locks[i]->description,
                                                       pb_locks[i]->flags, "fifo", PB_LOCK_FIFO));
        for (const struct pb_builtin *b = pb_builtins; b->name; b++)
            json_array_append_new(scen, json_pack("{s:s, s:s, s:s}", "name", b->name, "description",
                                                  b->description, "options", b->options));
        for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++)
            json_array_append_new(opts, json_pack("{s:s, s:s, s:s}", "name", o->name, "syntax",
                                                  o->syntax, "help", o->help));
        json_object_set_new(root, "pools", pools);
        json_object_set_new(root, "queues", queues);
        json_object_set_new(root, "handoffs", handoffs);
        json_object_set_new(root, "locks", locks);
        json_object_set_new(root, "scenarios", scen);
        json_object_set_new(root, "options", opts);
        json_dumpf(root, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(root);
        return PB_EXIT_OK;
    }
    char words[200];
    printf("pools:\n");
    for (size_t i = 0; pb_pools[i]; i++)
        printf("  %-14s %s [%s%s%s]\n", pb_pools[i]->name, pb_pools[i]->description,
               pb_strategy_flags_text(pb_pools[i]->flags, words, sizeof words),
               pb_pools[i]->lock ? " lock:" : "", pb_pools[i]->lock ? pb_pools[i]->lock : "");
    printf("queues:\n");
    for (size_t i = 0; pb_queues[i]; i++)
        printf("  %-14s %s [%s%s%s]\n", pb_queues[i]->name, pb_queues[i]->description,
               pb_strategy_flags_text(pb_queues[i]->flags, words, sizeof words),
               pb_queues[i]->lock ? " lock:" : "", pb_queues[i]->lock ? pb_queues[i]->lock : "");
    printf("handoffs:\n");
    for (size_t i = 0; pb_handoffs[i]; i++)
        printf("  %-14s %s [%s%s%s]\n", pb_handoffs[i]->name, pb_handoffs[i]->description,
               pb_strategy_flags_text(pb_handoffs[i]->flags, words, sizeof words),
               pb_handoffs[i]->lock ? " lock:" : "", pb_handoffs[i]->lock ? pb_handoffs[i]->lock : "");
    printf("locks (--lock NAME: the lock every lock-based strategy takes; each names its "
           "default as 'lock:'):\n");
    for (size_t i = 0; pb_locks[i]; i++)
        printf("  %-14s %s [%s]\n", pb_locks[i]->name, pb_locks[i]->description,
               pb_strategy_flags_text(pb_locks[i]->flags, words, sizeof words));
    printf("scenarios:\n");
    for (const struct pb_builtin *b = pb_builtins; b->name; b++)
        printf("  %-14s %s\n", b->name, b->description);
    printf("options: see `pendbench run --help`\n");
    return PB_EXIT_OK;
}
