/* fork/execvp of a helper with captured, capped output and a deadline. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "log.h"

void nk_child_release(struct nk_child *c)
{
    nk_buf_release(&c->out);
    nk_buf_release(&c->err);
}

/* A pipe whose ends no other program we start inherits. */
static int cloexec_pipe(int p[2])
{
    if (pipe(p) != 0)
        return -1;
    if (fcntl(p[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(p[1], F_SETFD, FD_CLOEXEC) != 0)
        return -1;
    return 0;
}

/* In the child: its own process group (so the whole tree can be killed),
 * stdin /dev/null, the pipes as stdout and stderr, nothing else open;
 * writes errno to the status pipe when exec fails. */
static void start(const char *const argv[], int out, int errfd, int status)
{
    int null = open("/dev/null", O_RDONLY);
    size_t i, n = 0;
    char **v;
    int e;

    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 ||
        dup2(errfd, 2) < 0 || dup2(status, 3) < 0)
        _exit(127);
    closefrom(4);
    if (fcntl(3, F_SETFD, FD_CLOEXEC) != 0)
        _exit(127);
    /* execvp wants writable strings: copies (the child is single-threaded
     * and about to be replaced). */
    while (argv[n] != NULL)
        n++;
    v = calloc(n + 1, sizeof(*v));
    for (i = 0; v != NULL && i < n; i++)
        v[i] = strdup(argv[i]);
    if (v != NULL)
        execvp(v[0], v);
    e = errno;
    if (write(3, &e, sizeof(e)) != (ssize_t)sizeof(e))
        _exit(127);
    _exit(127);
}

/* Reads what is ready on fd into b; 0 on EOF (fd closed), 1 to go on,
 * -1 when b is full. */
static int drain(int *fd, struct nk_buf *b)
{
    char tmp[4096];
    struct nk_err e = {NK_ERR_NONE, ""};
    ssize_t n = read(*fd, tmp, sizeof(tmp));

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return 0;
    }
    return nk_buf_append(b, tmp, (size_t)n, &e) == 0 ? 1 : -1;
}

/* Collects both outputs until both close or the deadline passes; 1 on
 * time out, -1 when an output is over its cap, else 0. */
static int collect(int fds[2], struct nk_child *c, double deadline_ms)
{
    struct pollfd p[2];
    double left;
    int i, n, r;

    while (fds[0] >= 0 || fds[1] >= 0) {
        left = deadline_ms - nk_log_now_ms();
        if (left <= 0)
            return 1;
        for (i = n = 0; i < 2; i++) {
            p[i].fd = fds[i];
            p[i].events = POLLIN;
            p[i].revents = 0;
        }
        n = poll(p, 2, (int)left + 1);
        if (n < 0 && errno != EINTR)
            return -1;
        for (i = 0; n > 0 && i < 2; i++) {
            if (fds[i] < 0 || p[i].revents == 0)
                continue;
            r = drain(&fds[i], i == 0 ? &c->out : &c->err);
            if (r < 0)
                return -1;
        }
    }
    return 0;
}

/* waitpid until deadline_ms; kills the process group after it. 0 with
 * *status, or 1 when the child had to be killed. */
static int reap(pid_t pid, double deadline_ms, int *status)
{
    int st = 0, killed = 0;

    for (;;) {
        pid_t r = waitpid(pid, &st, killed ? 0 : WNOHANG);

        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return killed;
        if (!killed && nk_log_now_ms() >= deadline_ms) {
            kill(-pid, SIGKILL);
            killed = 1;
            continue;
        }
        if (r == 0)
            usleep(2000);
    }
    *status = WIFEXITED(st)     ? WEXITSTATUS(st)
              : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
                                : 255;
    return killed;
}

int nk_child_run(const char *const argv[], double timeout, size_t out_max,
                 size_t err_max, const char *what, struct nk_child *c,
                 struct nk_err *err)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1}, ps[2] = {-1, -1}, fds[2];
    double deadline = nk_log_now_ms() + timeout * 1000.0;
    int got, eno = 0, over = 0, ret = -1;
    pid_t pid;

    memset(c, 0, sizeof(*c));
    nk_buf_init(&c->out, out_max);
    nk_buf_init(&c->err, err_max);
    if (cloexec_pipe(po) != 0 || cloexec_pipe(pe) != 0 ||
        cloexec_pipe(ps) != 0) {
        nk_err_set(err, NK_ERR_GENERIC, "%s: cannot make pipes: %s", what,
                   strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        nk_err_set(err, NK_ERR_GENERIC, "%s: cannot fork: %s", what,
                   strerror(errno));
        goto out;
    }
    if (pid == 0)
        start(argv, po[1], pe[1], ps[1]);
    setpgid(pid, pid); /* also here: no race with the kill below */
    close(po[1]);
    close(pe[1]);
    close(ps[1]);
    po[1] = pe[1] = ps[1] = -1;
    fds[0] = po[0];
    fds[1] = pe[0];
    po[0] = pe[0] = -1;
    over = collect(fds, c, deadline);
    if (over != 0)
        kill(-pid, SIGKILL);
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    if (reap(pid, deadline, &c->status) != 0 && over == 0)
        over = 1;
    got = (int)read(ps[0], &eno, sizeof(eno));
    if (got == (int)sizeof(eno)) {
        if (eno == ENOENT) {
            c->not_found = 1;
            ret = 0;
        } else {
            nk_err_set(err, NK_ERR_GENERIC, "%s: cannot run \"%s\": %s", what,
                       argv[0], strerror(eno));
        }
        goto out;
    }
    if (over > 0)
        nk_err_set(err, NK_ERR_TIMEOUT,
                   "%s: \"%s\" did not finish within "
                   "%.1f s and was stopped",
                   what, argv[0], timeout);
    else if (over < 0)
        nk_err_set(err, NK_ERR_GENERIC,
                   "%s: \"%s\" wrote more output "
                   "than allowed (%zu bytes) and was stopped",
                   what, argv[0], out_max);
    else
        ret = 0;
out:
    if (ret == 0 && (nk_buf_append(&c->out, "", 0, err) != 0 ||
                     nk_buf_append(&c->err, "", 0, err) != 0))
        ret = -1;
    for (got = 0; got < 2; got++) {
        if (po[got] >= 0)
            close(po[got]);
        if (pe[got] >= 0)
            close(pe[got]);
        if (ps[got] >= 0)
            close(ps[got]);
    }
    return ret;
}
