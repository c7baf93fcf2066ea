/* How the CLI tests run pendbench (program.h). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "program.h"

const char *pb_test_program_named(const char *name)
{
    static char prog[PATH_MAX];
    if (prog[0])
        return prog;
    char self[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(n, 0);
    self[n] = 0;
    /* <variant>/test/X-test -> <variant>/NAME */
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(self, '/');
        cr_assert_not_null(slash);
        *slash = 0;
    }
    cr_assert_lt(strlen(name), 48);
    snprintf(prog, sizeof prog, "%s/%s", self, name);
    cr_assert_eq(access(prog, X_OK), 0, "no program at %s", prog);
    return prog;
}

const char *pb_test_program(void)
{
    return pb_test_program_named("pendbench");
}

int pb_test_exec_program(const char *prog, const char *dir, const char *stdin_path,
                         const char *const *env, const char *const *args, int fd_out,
                         int fd_err, unsigned timeout_s)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        if (in < 0 || dup2(in, 0) < 0 || dup2(fd_out, 1) < 0 || dup2(fd_err, 2) < 0 ||
            (dir && chdir(dir) != 0))
            _exit(99);
        for (int i = 0; env && env[i]; i++) {
            const char *eq = strchr(env[i], '=');
            if (!eq) {
                unsetenv(env[i]);
            } else {
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)(eq - env[i]), env[i]);
                setenv(name, eq + 1, 1);
            }
        }
        const char *argv[32] = { prog };
        for (int i = 0; args[i] && i < 30; i++)
            argv[i + 1] = args[i];
        alarm(timeout_s);     /* a hang is a failure, not a stuck test run */
        execv(prog, (char *const *)argv);
        _exit(98);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int pb_test_exec(const char *dir, const char *stdin_path, const char *history,
                 const char *const *args, int fd_out, int fd_err, unsigned timeout_s)
{
    char var[PATH_MAX + 32];
    if (history)
        snprintf(var, sizeof var, "PENDBENCH_HISTORY_DB=%s", history);
    const char *const env[] = { history ? var : NULL, NULL };
    return pb_test_exec_program(pb_test_program(), dir, stdin_path, env, args, fd_out, fd_err,
                                timeout_s);
}

int pb_test_output_fd(void)
{
    char tmpl[] = "/tmp/pb-cli-out-XXXXXX";
    int fd = mkstemp(tmpl);
    cr_assert_geq(fd, 0);
    unlink(tmpl);
    return fd;
}

void pb_test_read_output(int fd, char *buf, size_t size)
{
    size_t used = 0;
    lseek(fd, 0, SEEK_SET);
    while (used + 1 < size) {
        ssize_t n = read(fd, buf + used, size - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    buf[used] = 0;
    close(fd);
}
