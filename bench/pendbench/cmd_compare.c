/* pendbench compare: two result files (or a recorded run against a file),
 * run by run, with significance and verdicts. The verb's whole work is
 * pb_compare_main (reports/compare.c), where the reports tests can drive
 * it with an argv array; this is its door in the command. */
#include <stdio.h>

#include "commands.h"
#include "pb_compare.h"

int pb_cmd_compare(int argc, char **argv)
{
    return pb_compare_main(argc, argv, stdout, stderr);
}
