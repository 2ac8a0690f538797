/* The agent's poll loop. A connection reads one frame (header, then a body
 * of at most NK_AGENT_MAX_REQUEST bytes), gets one reply, and may then send
 * the next request. Deadlines: a frame must be complete FRAME_MS after its
 * first byte, a reply drained WRITE_MS after it was made, and an idle
 * connection goes after IDLE_MS. A peer of another uid is refused at
 * accept. Requests run one at a time, so signing on a token is serialised
 * by construction. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/keys.h"
#include "agent/server.h"
#include "agent/sock.h"
#include "common/log.h"
#include "common/mem.h"

#define MAX_CONNS 64
#define IDLE_MS 120000.0
#define FRAME_MS 10000.0
#define WRITE_MS 10000.0
#define PIN_MAX 1024

struct conn {
    int fd;
    unsigned char hdr[4];
    size_t hlen;
    unsigned char *body; /* while a body is being read */
    size_t want, got;
    int pin_fd;        /* passed beside the request, or -1 */
    struct nk_buf out; /* the reply being written */
    size_t sent;
    int closing; /* close once the reply is out */
    double deadline;
    double last; /* last activity, for eviction */
};

static volatile sig_atomic_t got_term, got_child;

static void on_signal(int sig)
{
    if (sig == SIGCHLD)
        got_child = 1;
    else
        got_term = sig;
}

/* Reads and drops what the client sent and we did not read (at most a
 * frame's worth): closing a Unix socket with unread data resets it, and
 * the client would lose the FAIL that says why. */
static void drain(int fd)
{
    unsigned char junk[4096];
    size_t total = 0;
    ssize_t r;

    do {
        r = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
        total += r > 0 ? (size_t)r : 0;
    } while (r > 0 && total < NK_AGENT_MAX_REQUEST);
}

static void conn_free(struct conn *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0) {
        drain(c->fd);
        close(c->fd);
    }
    if (c->pin_fd >= 0)
        close(c->pin_fd);
    free(c->body);
    nk_buf_release(&c->out);
    free(c);
}

static void idle(struct conn *c, double now)
{
    free(c->body);
    c->body = NULL;
    c->hlen = c->want = c->got = 0;
    c->deadline = now + IDLE_MS;
}

/* A FAIL for a broken request; the connection closes once it is sent. */
static void protocol_error(struct conn *c, const struct nk_err *e)
{
    struct nk_err ignored = {NK_ERR_NONE, ""};

    nk_info("agent: dropping a client: %s", e->msg);
    nk_buf_init(&c->out, NK_AGENT_MAX_REPLY + 4);
    if (nk_agent_fail_frame(&c->out, e, NK_AGENT_WHY_PROTOCOL, &ignored) != 0)
        c->out.len = 0;
    c->sent = 0;
    c->closing = 1;
    c->deadline = nk_log_now_ms() + WRITE_MS;
}

/* The PIN in a pipe the client passed: all of it must be there already
 * and the write end closed, so a client cannot make us wait. */
static int read_pin(int fd, char **pin, struct nk_err *err)
{
    char buf[PIN_MAX + 1];
    struct stat st;
    size_t n = 0;
    ssize_t r;
    int ret = -1;

    *pin = NULL;
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) ||
        fcntl(fd, F_SETFL, O_NONBLOCK) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "what came beside the request is not a pipe");
    for (;;) {
        r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (n += (size_t)r) >= sizeof(buf))
            break;
    }
    if (r != 0 || n == 0 || n > PIN_MAX || memchr(buf, '\0', n) != NULL) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "the PIN pipe must hold 1 to %d bytes, no NUL, and be "
                   "closed",
                   PIN_MAX);
        goto out;
    }
    *pin = nk_xstrndup(buf, n);
    ret = 0;
out:
    nk_memzero(buf, sizeof(buf));
    return ret;
}

/* A whole frame is in: parse it, answer it. */
static void handle(struct conn *c, struct nk_agent_keys *keys, int *stop)
{
    struct nk_agent_msg *m = nk_xmalloc(sizeof(*m));
    struct nk_err err = {NK_ERR_NONE, ""};
    char *pin = NULL;

    if (nk_agent_parse(c->body, c->got, 1, m, &err) != 0 ||
        (c->pin_fd >= 0 && read_pin(c->pin_fd, &pin, &err) != 0)) {
        protocol_error(c, &err);
        goto out;
    }
    nk_buf_init(&c->out, NK_AGENT_MAX_REPLY + 4);
    c->sent = 0;
    nk_agent_keys_handle(keys, m, pin, &c->out, stop);
    c->deadline = nk_log_now_ms() + WRITE_MS;
out:
    if (c->pin_fd >= 0)
        close(c->pin_fd);
    c->pin_fd = -1;
    /* The body may have held a key id and a digest, never a secret. */
    free(c->body);
    c->body = NULL;
    free(m);
}

/* Takes the descriptors of a control message: one, and only beside a
 * request that has none yet. */
static int take_fds(struct conn *c, struct msghdr *msg)
{
    struct cmsghdr *h;
    int fds[4], n, i, bad = (msg->msg_flags & MSG_CTRUNC) != 0;

    for (h = CMSG_FIRSTHDR(msg); h != NULL; h = CMSG_NXTHDR(msg, h)) {
        if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) {
            bad = 1;
            continue;
        }
        n = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        if (n > 4)
            n = 4;
        memcpy(fds, CMSG_DATA(h), (size_t)n * sizeof(int));
        for (i = 0; i < n; i++) {
            if (c->pin_fd < 0 && n == 1) {
                c->pin_fd = fds[i];
            } else {
                close(fds[i]);
                bad = 1;
            }
        }
    }
    return bad ? -1 : 0;
}

/* Reads what is there; 1 once a whole frame is in, 0 for more to come,
 * -1 to drop the connection. */
static int conn_read(struct conn *c, double now, struct nk_err *err)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(4 * sizeof(int))];
    } ctl;
    struct iovec iov;
    struct msghdr msg;
    ssize_t r;

    if (c->body == NULL) {
        iov.iov_base = c->hdr + c->hlen;
        iov.iov_len = 4 - c->hlen;
    } else {
        iov.iov_base = c->body + c->got;
        iov.iov_len = c->want - c->got;
    }
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof(ctl.buf);
    r = recvmsg(c->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (r <= 0)
        return -1;
    if (take_fds(c, &msg) != 0) {
        nk_err_set(err, NK_ERR_VALIDATION, "unexpected descriptors");
        return -1;
    }
    if (c->hlen == 0 && c->body == NULL)
        c->deadline = now + FRAME_MS; /* a frame has begun */
    c->last = now;
    if (c->body == NULL) {
        c->hlen += (size_t)r;
        if (c->hlen < 4)
            return 0;
        if (nk_agent_frame_len(c->hdr, NK_AGENT_MAX_REQUEST, &c->want, err) !=
            0)
            return -1;
        c->body = nk_xmalloc(c->want);
        c->got = 0;
        return 0;
    }
    c->got += (size_t)r;
    return c->got == c->want;
}

/* Writes what the socket takes; -1 to drop the connection. */
static int conn_write(struct conn *c, double now)
{
    ssize_t w = send(c->fd, c->out.data + c->sent, c->out.len - c->sent,
                     MSG_DONTWAIT | MSG_NOSIGNAL);

    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (w <= 0)
        return -1;
    c->sent += (size_t)w;
    c->last = now;
    if (c->sent < c->out.len)
        return 0;
    nk_buf_release(&c->out);
    c->sent = 0;
    if (c->closing)
        return -1;
    idle(c, now);
    return 0;
}

struct loop {
    int lfd;
    struct conn *conns[MAX_CONNS];
    size_t n;
    struct nk_agent_keys *keys;
    int stop;
};

static void drop(struct loop *l, size_t i)
{
    conn_free(l->conns[i]);
    l->conns[i] = l->conns[--l->n];
}

/* Nonzero for a connection between requests (no frame begun, no reply
 * waiting). */
static int between(const struct conn *c)
{
    return c->hlen == 0 && c->body == NULL && c->out.len == 0;
}

/* Makes room for one more: the connection quiet for the longest goes,
 * preferring one between requests (one in the middle of a frame has its
 * own deadline). */
static void evict(struct loop *l)
{
    size_t i, old = 0;

    for (i = 1; i < l->n; i++)
        if (between(l->conns[i]) > between(l->conns[old]) ||
            (between(l->conns[i]) == between(l->conns[old]) &&
             l->conns[i]->last < l->conns[old]->last))
            old = i;
    nk_info("agent: too many connections; closing the quietest");
    drop(l, old);
}

static void accept_all(struct loop *l, double now)
{
    struct conn *c;
    uid_t uid;
    int fd;

    for (;;) {
        fd = accept(l->lfd, NULL, NULL);
        if (fd < 0)
            return;
        /* OpenSSH's rule: only our own uid may talk to us. */
        if (nk_agent_peer_uid(fd, &uid) != 0 || uid != geteuid()) {
            nk_info("agent: refused a connection from uid %ld",
                    (long)(nk_agent_peer_uid(fd, &uid) == 0 ? (long)uid : -1));
            close(fd);
            continue;
        }
        if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 ||
            fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
            close(fd);
            continue;
        }
        if (l->n >= MAX_CONNS)
            evict(l);
        c = nk_xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->pin_fd = -1;
        c->last = now;
        nk_buf_init(&c->out, 0);
        idle(c, now);
        l->conns[l->n++] = c;
    }
}

/* One connection's turn after poll; -1 to drop it. */
static int service(struct loop *l, struct conn *c, short revents, double now)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    int r;

    if (c->out.len > 0) {
        if (revents & (POLLOUT | POLLERR | POLLHUP))
            return conn_write(c, now);
        return 0;
    }
    if (!(revents & (POLLIN | POLLERR | POLLHUP)))
        return 0;
    r = conn_read(c, now, &err);
    if (r < 0 && err.code != NK_ERR_NONE) {
        protocol_error(c, &err);
        return conn_write(c, now);
    }
    if (r <= 0)
        return r;
    handle(c, l->keys, &l->stop);
    return conn_write(c, now);
}

static int poll_timeout(const struct loop *l, double now, double next_expiry)
{
    double t = 1000; /* signals and the child are looked at each second */
    size_t i;

    if (next_expiry >= 0 && next_expiry < t)
        t = next_expiry;
    for (i = 0; i < l->n; i++)
        if (l->conns[i]->deadline - now < t)
            t = l->conns[i]->deadline - now;
    return t < 0 ? 0 : (int)t + 1;
}

static void one_round(struct loop *l)
{
    struct pollfd pfd[MAX_CONNS + 1];
    double now = nk_log_now_ms(), next = nk_agent_keys_expire(l->keys);
    size_t i, n;
    int timeout = poll_timeout(l, now, next);

    pfd[0] = (struct pollfd){l->lfd, POLLIN, 0};
    for (i = 0; i < l->n; i++)
        pfd[i + 1] = (struct pollfd){
            l->conns[i]->fd, l->conns[i]->out.len > 0 ? POLLOUT : POLLIN, 0};
    n = l->n;
    if (poll(pfd, n + 1, timeout) < 0)
        return; /* EINTR: a signal; the caller looks */
    now = nk_log_now_ms();
    /* Backwards, so dropping (which moves the last one into the gap)
     * never skips one. */
    for (i = n; i-- > 0;) {
        if (service(l, l->conns[i], pfd[i + 1].revents, now) != 0 ||
            l->conns[i]->deadline <= now)
            drop(l, i);
    }
    if (pfd[0].revents & POLLIN)
        accept_all(l, now);
}

static void set_signals(pid_t child)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    if (child > 0) {
        sigaction(SIGCHLD, &sa, NULL);
        /* ^C reaches the command too; the agent lives until it ends. */
        sa.sa_handler = SIG_IGN;
    }
    sigaction(SIGINT, &sa, NULL);
}

/* 0 while the child runs, else 1 with its status as a shell shows it. */
static int child_done(pid_t child, int *status)
{
    int st;

    if (waitpid(child, &st, WNOHANG) != child)
        return 0;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return 1;
}

int nk_agent_serve(int listen_fd, const struct nk_agent_serve_opts *o)
{
    struct loop l;
    int status = 0;

    memset(&l, 0, sizeof(l));
    l.lfd = listen_fd;
    l.keys = nk_agent_keys_new(o->ttl);
    set_signals(o->child);
    nk_info("agent: serving (default key lifetime %u s)", o->ttl);
    while (!l.stop) {
        one_round(&l);
        /* Looked at every round: a command that ended before the
         * SIGCHLD handler was set sent its signal to nobody. */
        if (o->child > 0 && child_done(o->child, &status))
            break;
        if (got_term && o->child > 0) {
            kill(o->child, got_term);
            got_term = 0;
        } else if (got_term) {
            break;
        }
    }
    nk_info("agent: stopping");
    while (l.n > 0)
        drop(&l, l.n - 1);
    nk_agent_keys_free(l.keys);
    return status;
}
