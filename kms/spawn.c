/* fork + execvp without a shell, with captured output and a deadline.
 * The child gets /dev/null as stdin, pipes as stdout and stderr, default
 * signal handling and no other descriptor of ours (pipes, sockets, the
 * plugin's real stdout); an exec failure comes back through a close-on-
 * exec pipe. It stays in our process group so a helper that asks the
 * terminal for a code (MFA) can still do so. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "spawn.h"

#define EXEC_FD 3

void nk_spawn_release(struct nk_spawn *r)
{
    nk_buf_release(&r->out);
    nk_buf_release(&r->errout);
}

/* Closes every descriptor from lo up (close_range, else one by one). */
static void close_from(int lo)
{
    struct rlimit rl;
    long i, max = 65536;

#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned int)lo, ~0U, 0) == 0)
        return;
#endif
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur < max)
        max = (long)rl.rlim_cur;
    for (i = lo; i < max; i++)
        (void)close((int)i);
}

/* In the child: only async-signal-safe calls up to exec. */
static void child(char *const *argv, int out, int errfd, int exec_fd)
{
    struct sigaction sa;
    sigset_t none;
    int e, fd, sig;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (sig = 1; sig < NSIG; sig++)
        (void)sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    fd = open("/dev/null", O_RDONLY);
    if (fd < 0 || dup2(fd, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0 ||
        dup2(exec_fd, EXEC_FD) < 0 || fcntl(EXEC_FD, F_SETFD, FD_CLOEXEC) < 0)
        goto fail;
    close_from(EXEC_FD + 1);
    execvp(argv[0], argv);
fail:
    e = errno;
    (void)!write(EXEC_FD, &e, sizeof(e));
    _exit(127);
}

/* Appends what fd has to b, dropping what passes max_keep; -1 at EOF. */
static int drain(int fd, struct nk_buf *b, size_t max_keep, int *too_big)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    size_t keep;

    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0)
        return -1;
    keep = b->len < max_keep ? max_keep - b->len : 0;
    if ((size_t)n > keep && too_big != NULL)
        *too_big = 1;
    if (keep > (size_t)n)
        keep = (size_t)n;
    if (keep > 0 && nk_buf_append(b, chunk, keep, &e) != 0 && too_big)
        *too_big = 1;
    nk_memzero(chunk, sizeof(chunk));
    return 0;
}

/* A pipe whose two ends close on exec (pipe2 is a GNU extension). */
static int cloexec_pipe(int p[2])
{
    if (pipe(p) != 0)
        return -1;
    if (fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0) {
        close(p[0]);
        close(p[1]);
        p[0] = p[1] = -1;
        return -1;
    }
    return 0;
}

static double now_s(void)
{
    return nk_log_now_ms() / 1000.0;
}

/* Reads both pipes until EOF, the deadline, or too much stdout. */
static void collect(int out, int errfd, double deadline, size_t max_out,
                    size_t max_err, struct nk_spawn *r)
{
    struct pollfd p[2] = {{out, POLLIN, 0}, {errfd, POLLIN, 0}};
    double left;
    int i, n;

    while (p[0].fd >= 0 || p[1].fd >= 0) {
        left = deadline - now_s();
        if (left <= 0) {
            r->timed_out = 1;
            return;
        }
        n = poll(p, 2, (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR)
            return;
        for (i = 0; n > 0 && i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            if (drain(p[i].fd, i == 0 ? &r->out : &r->errout,
                      i == 0 ? max_out : max_err,
                      i == 0 ? &r->out_too_big : NULL) != 0)
                p[i].fd = -1;
            if (r->out_too_big)
                return;
        }
    }
}

/* Waits for the child until the deadline, then kills it. */
static void reap(pid_t pid, double deadline, struct nk_spawn *r)
{
    struct timespec ts = {0, 5 * 1000 * 1000};
    pid_t w;

    while (!r->timed_out && !r->out_too_big) {
        w = waitpid(pid, &r->status, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR))
            return;
        if (now_s() >= deadline)
            r->timed_out = 1;
        else
            nanosleep(&ts, NULL);
    }
    (void)kill(pid, SIGKILL);
    while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
        ;
}

int nk_spawn_run(char *const *argv, double timeout, size_t max_out,
                 size_t max_err, struct nk_spawn *r, struct nk_err *err)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, px[2] = {-1, -1}, e = 0, i;
    double deadline = now_s() + timeout;
    ssize_t n;
    pid_t pid;
    int ret = -1;

    memset(r, 0, sizeof(*r));
    nk_buf_init(&r->out, max_out + 1);
    nk_buf_init(&r->errout, max_err + 1);
    if (cloexec_pipe(po) != 0 || cloexec_pipe(pe) != 0 ||
        cloexec_pipe(px) != 0) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot run \"%s\": pipe: %s", argv[0],
                   strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot run \"%s\": fork: %s", argv[0],
                   strerror(errno));
        goto out;
    }
    if (pid == 0)
        child(argv, po[1], pe[1], px[1]);
    close(po[1]);
    close(pe[1]);
    close(px[1]);
    po[1] = pe[1] = px[1] = -1;
    do
        n = read(px[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(e)) {
        while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
            ;
        nk_err_set(err, NK_ERR_VALIDATION, "cannot run \"%s\": %s", argv[0],
                   strerror(e));
        goto out;
    }
    collect(po[0], pe[0], deadline, max_out, max_err, r);
    reap(pid, deadline, r);
    nk_debug("ran \"%s\": %s %d, %zu bytes of output", argv[0],
             r->timed_out           ? "timed out"
             : WIFEXITED(r->status) ? "exit status"
                                    : "signal",
             WIFEXITED(r->status) ? WEXITSTATUS(r->status)
                                  : WTERMSIG(r->status),
             r->out.len);
    ret = 0;
out:
    for (i = 0; i < 2; i++) {
        if (po[i] >= 0)
            close(po[i]);
        if (pe[i] >= 0)
            close(pe[i]);
        if (px[i] >= 0)
            close(px[i]);
    }
    return ret;
}
