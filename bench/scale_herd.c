/*
 * scale_herd.c - starts K copies of one command at once and says how long
 * the last one took to finish (bench/scale_bench.sh, the herd):
 *
 *   scale_herd OUTDIR K CMD [ARG...] [:: CMD2 [ARG...]]
 *
 * Forks K children as fast as it can, each running CMD with its stdout and
 * stderr in OUTDIR/out.<i> (1..K), and waits for all of them. With "::",
 * the first child runs CMD and the K - 1 others CMD2 (one replica applying
 * while the others only start: the floor of a herd). Prints one
 * line, "WALL_MS FAILED": the milliseconds from just before the first fork
 * until the last child has exited (the time until every replica is ready,
 * when CMD is a one-shot startup), and how many children did not exit 0.
 * No shell in the timing; no barrier either: the first replica starts
 * working while the last ones are still being forked, as when an
 * orchestrator starts K containers. A child that cannot be started counts
 * as failed (its reason in its out file). Exit status 0 when the children
 * ran (whatever their status), 2 on bad usage, 1 when it could not fork.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_K 1024

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    static pid_t pids[MAX_K];
    char path[4096];
    char *end = NULL, **first = argv + 3, **others = argv + 3;
    long k;
    int i, started = 0, failed = 0, rc = 0;
    double t0;

    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "::") == 0) {
            argv[i] = NULL; /* ends the first command's argv */
            others = argv + i + 1;
            break;
        }
    }
    if (argc < 4 || !first[0] || !others[0]) {
        fprintf(stderr, "usage: scale_herd OUTDIR K CMD [ARG...] [:: CMD2 [ARG...]]\n");
        return 2;
    }
    errno = 0;
    k = strtol(argv[2], &end, 10);
    if (errno || !end || *end || k < 1 || k > MAX_K) {
        fprintf(stderr, "scale_herd: K must be a number from 1 to %d, not '%s'\n", MAX_K, argv[2]);
        return 2;
    }
    /* The out files are opened before the clock starts: only the children's
     * own work is timed. */
    for (i = 0; i < k; i++) {
        int fd, n = snprintf(path, sizeof path, "%s/out.%d", argv[1], i + 1);
        if (n < 0 || (size_t)n >= sizeof path) {
            fprintf(stderr, "scale_herd: OUTDIR too long: %s\n", argv[1]);
            return 2;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "scale_herd: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
        pids[i] = (pid_t)fd; /* the fd until the fork; the pid after */
    }
    t0 = mono_ms();
    for (i = 0; i < k; i++) {
        int fd = (int)pids[i];
        pid_t p = fork();
        if (p < 0) {
            fprintf(stderr, "scale_herd: fork of replica %d failed: %s\n", i + 1, strerror(errno));
            rc = 1;
            break;
        }
        if (p == 0) {
            if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                _exit(126);
            char **cmd = i == 0 ? first : others;
            execvp(cmd[0], cmd);
            fprintf(stderr, "scale_herd: cannot run %s: %s\n", cmd[0], strerror(errno));
            _exit(127);
        }
        close(fd);
        pids[i] = p;
        started++;
    }
    for (i = started; i < k; i++)
        close((int)pids[i]);
    for (i = 0; i < started; i++) {
        int status;
        while (waitpid(pids[i], &status, 0) < 0) {
            if (errno != EINTR) {
                status = -1;
                break;
            }
        }
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed++;
    }
    printf("%.1f %d\n", mono_ms() - t0, failed + (int)(k - started));
    return rc;
}
