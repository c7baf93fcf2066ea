/* A throwaway PostgreSQL cluster for the history tests (pg_cluster.c):
 * started once before all tests of the program, stopped and removed after
 * them. Each test gets a database of its own. */
#ifndef PB_TEST_PG_CLUSTER_H
#define PB_TEST_PG_CLUSTER_H

#include <stddef.h>

/* Creates an empty database for the calling test and writes its URI
 * ("postgresql:///pb_<pid>?host=<socket dir>&user=postgres"). Fails the
 * test (with a message saying to run scripts/setup) when the cluster could
 * not be started. */
void pg_test_database(char *uri, size_t size);
/* Drops it (at the end of the test). */
void pg_test_drop_database(void);
/* The directory of the cluster's Unix socket; NULL when none runs. */
const char *pg_test_socket_dir(void);

#endif
