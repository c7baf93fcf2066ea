/* pendbench list: strategies, built-in scenarios, options. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"

int pb_cmd_list(int argc, char **argv)
{
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: pendbench list [--json]\n\nLists the strategies of each kind, the "
                   "built-in scenarios and the scenario options.\n");
            return PB_EXIT_OK;
        } else {
            fprintf(stderr, "pendbench list: unknown option '%s' (see `pendbench list --help`)\n", argv[i]);
            return PB_EXIT_USAGE;
        }
    }
    if (json) {
        json_t *root = json_object(), *pools = json_array(), *queues = json_array(),
               *handoffs = json_array(), *scen = json_array(), *opts = json_array();
        for (size_t i = 0; pb_pools[i]; i++)
            json_array_append_new(pools, json_pack("{s:s, s:s, s:b}", "name", pb_pools[i]->name,
                                                   "description", pb_pools[i]->description,
                                                   "type_stable", pb_pools[i]->type_stable));
        for (size_t i = 0; pb_queues[i]; i++)
            json_array_append_new(queues, json_pack("{s:s, s:s, s:b}", "name", pb_queues[i]->name,
                                                    "description", pb_queues[i]->description,
                                                    "fifo_per_producer", pb_queues[i]->fifo_per_producer));
        for (size_t i = 0; pb_handoffs[i]; i++)
            json_array_append_new(handoffs, json_pack("{s:s, s:s, s:b}", "name", pb_handoffs[i]->name,
                                                      "description", pb_handoffs[i]->description,
                                                      "broken", pb_handoffs[i]->broken));
        for (const struct pb_builtin *b = pb_builtins; b->name; b++)
            json_array_append_new(scen, json_pack("{s:s, s:s, s:s}", "name", b->name, "description",
                                                  b->description, "options", b->options));
        for (const struct pb_option_doc *o = pb_scenario_options; o->name; o++)
            json_array_append_new(opts, json_pack("{s:s, s:s, s:s}", "name", o->name, "syntax",
                                                  o->syntax, "help", o->help));
        json_object_set_new(root, "pools", pools);
        json_object_set_new(root, "queues", queues);
        json_object_set_new(root, "handoffs", handoffs);
        json_object_set_new(root, "scenarios", scen);
        json_object_set_new(root, "options", opts);
        json_dumpf(root, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(root);
        return PB_EXIT_OK;
    }
    printf("pools:\n");
    for (size_t i = 0; pb_pools[i]; i++)
        printf("  %-14s %s%s\n", pb_pools[i]->name, pb_pools[i]->description,
               pb_pools[i]->type_stable ? " [type-stable]" : "");
    printf("queues:\n");
    for (size_t i = 0; pb_queues[i]; i++)
        printf("  %-14s %s\n", pb_queues[i]->name, pb_queues[i]->description);
    printf("handoffs:\n");
    for (size_t i = 0; pb_handoffs[i]; i++)
        printf("  %-14s %s\n", pb_handoffs[i]->name, pb_handoffs[i]->description);
    printf("scenarios:\n");
    for (const struct pb_builtin *b = pb_builtins; b->name; b++)
        printf("  %-14s %s\n", b->name, b->description);
    printf("options: see `pendbench run --help`\n");
    return PB_EXIT_OK;
}
