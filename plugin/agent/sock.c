/* The agent's socket: a private directory, SO_PEERCRED, and the client's
 * blocking frame exchange (the agent's own reads are in server.c). */
/* struct ucred, which SO_PEERCRED fills, is a GNU extension in glibc. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/sock.h"
#include "common/mem.h"

/* $XDG_RUNTIME_DIR when it is an absolute path to a directory of ours that
 * only we may write to, else /tmp. */
static const char *base_dir(void)
{
    const char *d = getenv("XDG_RUNTIME_DIR");
    struct stat st;

    if (d != NULL && d[0] == '/' && strlen(d) < 64 && stat(d, &st) == 0 &&
        S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
        (st.st_mode & 022) == 0)
        return d;
    return "/tmp";
}

static void set_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path, path, strlen(path) + 1);
}

int nk_agent_listen(char **dir, char **path, int *fd, struct nk_err *err)
{
    struct sockaddr_un a;
    char *d = nk_xasprintf("%s/notation-keystore-XXXXXX", base_dir());
    char *p = NULL;
    mode_t old;
    int s = -1;

    *dir = *path = NULL;
    *fd = -1;
    /* mkdtemp makes the directory 0700: nobody else can reach the socket,
     * whatever its own mode. */
    if (mkdtemp(d) == NULL) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot make a directory \"%s\": %s", d,
                   strerror(errno));
        free(d);
        return -1;
    }
    p = nk_xasprintf("%s/agent.%ld", d, (long)getpid());
    if (strlen(p) >= sizeof(a.sun_path)) {
        nk_err_set(err, NK_ERR_GENERIC, "socket path \"%s\" is too long", p);
        goto fail;
    }
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
        nk_err_set(err, NK_ERR_GENERIC, "socket: %s", strerror(errno));
        goto fail;
    }
    set_addr(&a, p);
    old = umask(0177);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 128) != 0) {
        umask(old);
        nk_err_set(err, NK_ERR_GENERIC, "cannot listen on \"%s\": %s", p,
                   strerror(errno));
        goto fail;
    }
    umask(old);
    *dir = d;
    *path = p;
    *fd = s;
    return 0;
fail:
    if (s >= 0)
        close(s);
    nk_agent_unlink(d, p);
    free(d);
    free(p);
    return -1;
}

void nk_agent_unlink(const char *dir, const char *path)
{
    if (path != NULL)
        (void)unlink(path);
    if (dir != NULL)
        (void)rmdir(dir);
}

int nk_agent_peer_uid(int fd, uid_t *uid)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        len != sizeof(cred))
        return -1;
    *uid = cred.uid;
    return 0;
}

static void set_timeouts(int fd, double t)
{
    struct timeval tv;

    tv.tv_sec = (time_t)t;
    tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int nk_agent_connect(const char *path, double timeout, int *fd,
                     struct nk_err *err)
{
    struct sockaddr_un a;
    uid_t uid;
    int s;

    *fd = -1;
    if (path[0] != '/' || strlen(path) >= sizeof(a.sun_path))
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s=\"%s\" is not an absolute socket path",
                          NK_AGENT_ENV, path);
    s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return nk_err_set(err, NK_ERR_GENERIC, "socket: %s", strerror(errno));
    set_addr(&a, path);
    set_timeouts(s, timeout);
    if (connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot reach the agent at \"%s\": %s",
                   path, strerror(errno));
        close(s);
        return -1;
    }
    /* The agent checks us; we check it: a socket of another user's is
     * not our agent. */
    if (nk_agent_peer_uid(s, &uid) != 0 || uid != geteuid()) {
        nk_err_set(err, NK_ERR_GENERIC,
                   "the agent socket \"%s\" belongs to another user", path);
        close(s);
        return -1;
    }
    *fd = s;
    return 0;
}

/* sendmsg of the first bytes with the descriptor beside them. */
static ssize_t send_with_fd(int fd, const unsigned char *p, size_t n,
                            int pass_fd)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } ctl;
    struct iovec iov = {(void *)(uintptr_t)p, n};
    struct msghdr msg;
    struct cmsghdr *c;

    memset(&msg, 0, sizeof(msg));
    memset(&ctl, 0, sizeof(ctl));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    return sendmsg(fd, &msg, MSG_NOSIGNAL);
}

int nk_agent_send(int fd, const struct nk_buf *frame, int pass_fd,
                  struct nk_err *err)
{
    const unsigned char *p = frame->data;
    size_t n = frame->len;
    ssize_t w;

    while (n > 0) {
        if (pass_fd >= 0)
            w = send_with_fd(fd, p, n, pass_fd);
        else
            w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return nk_err_set(err,
                              errno == EAGAIN ? NK_ERR_TIMEOUT : NK_ERR_GENERIC,
                              "cannot send to the agent: %s",
                              w < 0 ? strerror(errno) : "nothing sent");
        pass_fd = -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_full(int fd, unsigned char *p, size_t n, struct nk_err *err)
{
    ssize_t r;

    while (n > 0) {
        r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return nk_err_set(err, NK_ERR_TIMEOUT,
                              "the agent did not answer in time");
        if (r < 0)
            return nk_err_set(err, NK_ERR_GENERIC,
                              "cannot read from the agent: %s",
                              strerror(errno));
        if (r == 0)
            return nk_err_set(err, NK_ERR_GENERIC,
                              "the agent closed the connection");
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int nk_agent_recv(int fd, struct nk_buf *body, size_t max, struct nk_err *err)
{
    unsigned char hdr[4], *tmp;
    size_t n;
    int r;

    body->len = 0;
    if (read_full(fd, hdr, 4, err) != 0 ||
        nk_agent_frame_len(hdr, max, &n, err) != 0)
        return -1;
    tmp = nk_xmalloc(n);
    r = read_full(fd, tmp, n, err) == 0 && nk_buf_append(body, tmp, n, err) == 0
            ? 0
            : -1;
    free(tmp);
    return r;
}
