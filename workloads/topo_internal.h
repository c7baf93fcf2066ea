/* Hooks of topo.c for the fuzz targets and tests (not a public header:
 * nothing in pendbench itself sets them). */
#ifndef PB_TOPO_INTERNAL_H
#define PB_TOPO_INTERNAL_H

#include <stdbool.h>

/* Loads an XML topology in this process only, without the child process
 * that contains a crash of hwloc: fuzz/fuzz_topo_xml.c sets it so that
 * libFuzzer sees hwloc's crashes itself. */
extern bool pb_topo__xml_in_process;

#endif
