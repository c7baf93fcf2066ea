/* The throwaway PostgreSQL cluster of the history tests (pg_cluster.h).
 *
 * Criterion runs each test in a process of its own; the cluster is started
 * once, by the runner, in its PRE_ALL hook, and its socket directory
 * handed to the tests in the environment (PB_TEST_PG_SOCKET, or
 * PB_TEST_PG_ERROR with the reason it could not start). It listens on a
 * Unix socket in its own temporary directory only (listen_addresses ''),
 * trusts local logins, and runs without fsync: nothing in it outlives the
 * test program. initdb and pg_ctl refuse to run as root, so as root they
 * run as the postgres user (runuser), in a directory it owns. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_cluster.h"

static char cluster_dir[64];
static char bin_dir[256];
static char database[64];

/* The newest installed server's bin directory (Debian: one per major
 * version under /usr/lib/postgresql). */
static int find_bin_dir(void)
{
    glob_t g;
    if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) != 0)
        return -1;
    const char *best = NULL;
    long best_v = -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
        if (v > best_v) {
            best_v = v;
            best = g.gl_pathv[i];
        }
    }
    if (best) {
        snprintf(bin_dir, sizeof bin_dir, "%s", best);
        *strrchr(bin_dir, '/') = 0;
    }
    globfree(&g);
    return best ? 0 : -1;
}

/* "runuser -u postgres -- " as root, "" otherwise. */
static const char *as_owner(void)
{
    return geteuid() == 0 ? "runuser -u postgres -- " : "";
}

static int run(const char *what, const char *cmd, char *err, size_t errlen)
{
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(err, errlen, "%s failed (status %d): see %s/%s.log", what, rc, cluster_dir, what);
        return -1;
    }
    return 0;
}

static int start_cluster(char *err, size_t errlen)
{
    if (find_bin_dir() != 0) {
        snprintf(err, errlen,
                 "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/pg_ctl): the history "
                 "tests need them; run scripts/setup (it installs postgresql and libpq-dev)");
        return -1;
    }
    snprintf(cluster_dir, sizeof cluster_dir, "/tmp/pb-pg-test.XXXXXX");
    if (!mkdtemp(cluster_dir)) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        cluster_dir[0] = 0;
        return -1;
    }
    if (geteuid() == 0) {
        struct passwd *pw = getpwnam("postgres");
        if (!pw || chown(cluster_dir, pw->pw_uid, pw->pw_gid) != 0) {
            snprintf(err, errlen,
                     "as root the test cluster runs as the postgres user, and there is none "
                     "(run scripts/setup: the postgresql package makes it)");
            return -1;
        }
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "%s%s/initdb -D %s/data -A trust -U postgres -N -E UTF8 --locale=C "
             ">%s/initdb.log 2>&1",
             as_owner(), bin_dir, cluster_dir, cluster_dir);
    if (run("initdb", cmd, err, errlen) != 0)
        return -1;
    snprintf(cmd, sizeof cmd,
             "%s%s/pg_ctl -D %s/data -l %s/server.log -w -t 60 -o \"-c listen_addresses='' "
             "-k %s -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start "
             ">%s/pg_ctl.log 2>&1",
             as_owner(), bin_dir, cluster_dir, cluster_dir, cluster_dir, cluster_dir);
    return run("pg_ctl", cmd, err, errlen);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void stop_cluster(void)
{
    if (!cluster_dir[0])
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s%s/pg_ctl -D %s/data -m immediate -w stop >/dev/null 2>&1",
             as_owner(), bin_dir, cluster_dir);
    if (bin_dir[0] && system(cmd) != 0)
        fprintf(stderr, "pg_cluster: could not stop the test cluster in %s\n", cluster_dir);
    nftw(cluster_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    cluster_dir[0] = 0;
}

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
    (void)set;
    char err[512];
    if (start_cluster(err, sizeof err) != 0) {
        setenv("PB_TEST_PG_ERROR", err, 1);
        return;
    }
    setenv("PB_TEST_PG_SOCKET", cluster_dir, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    (void)stats;
    stop_cluster();
}

const char *pg_test_socket_dir(void)
{
    return getenv("PB_TEST_PG_SOCKET");
}

static void admin(const char *sql)
{
    char conninfo[256];
    snprintf(conninfo, sizeof conninfo, "host=%s user=postgres dbname=postgres",
             pg_test_socket_dir());
    PGconn *c = PQconnectdb(conninfo);
    cr_assert(PQstatus(c) == CONNECTION_OK, "test cluster: %s", PQerrorMessage(c));
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

void pg_test_database(char *uri, size_t size)
{
    const char *why = getenv("PB_TEST_PG_ERROR");
    cr_assert_null(why, "the PostgreSQL test cluster did not start: %s", why);
    cr_assert_not_null(pg_test_socket_dir(), "no PostgreSQL test cluster (PB_TEST_PG_SOCKET)");
    snprintf(database, sizeof database, "pb_%ld", (long)getpid());
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", database);
    admin(sql);
    snprintf(uri, size, "postgresql:///%s?host=%s&user=postgres", database, pg_test_socket_dir());
}

void pg_test_drop_database(void)
{
    if (!database[0] || !pg_test_socket_dir())
        return;
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", database);
    admin(sql);
    database[0] = 0;
}
