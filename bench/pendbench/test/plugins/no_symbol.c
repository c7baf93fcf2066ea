/* A test plugin that forgot PB_PLUGIN_QUEUE: no pendbench_plugin symbol. */
#include "pendbench_plugin.h"

__attribute__((visibility("default"))) int not_a_plugin = 1;
