/* Bench runner: runs a command RUNS times with stdin from a file and prints
 * "<median ms> <p90 ms> <peak RSS KiB>", and with NK_BENCH_CPU set in the
 * environment a fourth field, the median CPU time (user + system) of a run
 * in ms, which a loaded machine distorts far less than wall time. Written in
 * C so the parent is tiny:
 * Linux counts the RSS a child had before exec in its peak, so a runner
 * forked from a large interpreter would inflate every figure.
 *   spawn RUNS STDIN-FILE|- CMD [ARGS...] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double run_once(char **argv, const char *in, long *rss, double *cpu)
{
    struct rusage ru;
    double t0 = now_ms();
    int status, fd;
    pid_t pid = fork();

    if (pid == 0) {
        fd = open(in, O_RDONLY);
        if (fd < 0 || dup2(fd, 0) < 0)
            _exit(126);
        fd = open("/dev/null", O_WRONLY);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
        perror("spawn");
        exit(1);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn: %s exited with status %d\n", argv[0],
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        exit(1);
    }
    if (ru.ru_maxrss > *rss)
        *rss = ru.ru_maxrss;
    *cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
    return now_ms() - t0;
}

int main(int argc, char **argv)
{
    int runs, i;
    double *t, *c, cpu;
    long rss = 0;
    const char *in;

    if (argc < 4 || (runs = atoi(argv[1])) < 1) {
        fprintf(stderr, "usage: spawn RUNS STDIN-FILE|- CMD [ARGS...]\n");
        return 2;
    }
    in = argv[2][0] == '-' && argv[2][1] == '\0' ? "/dev/null" : argv[2];
    t = calloc((size_t)runs, sizeof(*t));
    c = calloc((size_t)runs, sizeof(*c));
    if (t == NULL || c == NULL)
        return 1;
    (void)run_once(argv + 3, in, &rss, &cpu); /* warm the page cache */
    rss = 0;
    for (i = 0; i < runs; i++)
        t[i] = run_once(argv + 3, in, &rss, &c[i]);
    qsort(t, (size_t)runs, sizeof(*t), cmp);
    qsort(c, (size_t)runs, sizeof(*c), cmp);
    printf("%.2f %.2f %ld", t[runs / 2],
           t[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1], rss);
    if (getenv("NK_BENCH_CPU") != NULL)
        printf(" %.2f", c[runs / 2]);
    printf("\n");
    free(t);
    free(c);
    return 0;
}
