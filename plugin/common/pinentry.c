/* An Assuan client for pinentry, just what GETPIN needs: the program
 * greets with "OK", each command we send ("OPTION", "SETDESC", "SETPROMPT",
 * "GETPIN", "BYE") is answered by status ("S ...") or comment ("# ...")
 * lines, data ("D <percent-escaped bytes>") and a final "OK" or
 * "ERR <code> <text>". The program talks over one end of a socketpair, so
 * a pinentry that died gives EPIPE here, not a SIGPIPE; its stderr goes to
 * /dev/null, because the plugin's stderr carries notation's error JSON. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "pinentry.h"

/* Assuan's line limit, and how long a person may take. */
#define LINE_MAX_LEN 1000
#define PIN_MAX 256
#define TIMEOUT_MS (5 * 60 * 1000)
/* libgpg-error's codes for "cancelled" and "timeout" (the low 16 bits). */
#define GPG_ERR_TIMEOUT 62
#define GPG_ERR_CANCELED 99

struct conn {
    const char *prog;
    int fd;
    pid_t pid;
    double deadline;           /* nk_log_now_ms() */
    char in[LINE_MAX_LEN + 2]; /* unread bytes; may hold PIN data */
    size_t inlen;
};

/* Starts prog on one end of a socketpair. 0, or 1 when it cannot be
 * executed (the child reports execvp's errno on a close-on-exec pipe), or
 * -1 with err set. */
static int spawn(struct conn *c, struct nk_err *err)
{
    int sv[2] = {-1, -1}, st[2] = {-1, -1}, code = 0, null;
    ssize_t r;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        pipe(st) != 0 || fcntl(st[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(st[1], F_SETFD, FD_CLOEXEC) != 0) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot start pinentry: %s",
                   strerror(errno));
        goto fail;
    }
    c->pid = fork();
    if (c->pid < 0) {
        nk_err_set(err, NK_ERR_GENERIC, "cannot start pinentry: %s",
                   strerror(errno));
        goto fail;
    }
    if (c->pid == 0) {
        /* Only async-signal-safe calls until exec. */
        null = open("/dev/null", O_WRONLY);
        if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0 ||
            (null >= 0 && dup2(null, 2) < 0))
            _exit(127);
        execlp(c->prog, c->prog, (char *)NULL);
        code = errno;
        if (write(st[1], &code, sizeof(code)) < 0)
            _exit(127);
        _exit(127);
    }
    close(sv[1]);
    close(st[1]);
    c->fd = sv[0];
    do
        r = read(st[0], &code, sizeof(code));
    while (r < 0 && errno == EINTR);
    close(st[0]);
    if (r <= 0)
        return 0;
    nk_debug("pinentry \"%s\" cannot be started: %s", c->prog, strerror(code));
    close(c->fd);
    c->fd = -1;
    waitpid(c->pid, NULL, 0);
    c->pid = -1;
    return 1;
fail:
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
    if (st[0] >= 0)
        close(st[0]);
    if (st[1] >= 0)
        close(st[1]);
    return -1;
}

/* Ends the program: closing our end makes a pinentry exit; one that does
 * not within a second is killed. */
static void reap(struct conn *c)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    int i;

    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->pid <= 0)
        return;
    for (i = 0; i < 100; i++) {
        if (waitpid(c->pid, NULL, WNOHANG) != 0)
            return;
        nanosleep(&ts, NULL);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
}

static int timed_out(const struct conn *c, struct nk_err *err)
{
    return nk_err_set(err, NK_ERR_ACCESS,
                      "pinentry \"%s\" got no answer within %d minutes",
                      c->prog, TIMEOUT_MS / 60000);
}

/* Reads one line (without its "\n") into line, whose size is at least
 * LINE_MAX_LEN + 1. */
static int read_line(struct conn *c, char *line, struct nk_err *err)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    char *nl;
    size_t n;
    ssize_t r;
    int left;

    while ((nl = memchr(c->in, '\n', c->inlen)) == NULL) {
        if (c->inlen > LINE_MAX_LEN)
            return nk_err_set(err, NK_ERR_GENERIC,
                              "pinentry \"%s\" sent a line longer than %d "
                              "bytes",
                              c->prog, LINE_MAX_LEN);
        left = (int)(c->deadline - nk_log_now_ms());
        if (left <= 0)
            return timed_out(c, err);
        r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return timed_out(c, err);
        r = r < 0 ? -1
                  : read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return nk_err_set(err, NK_ERR_GENERIC,
                              "pinentry \"%s\" ended the conversation",
                              c->prog);
        c->inlen += (size_t)r;
    }
    n = (size_t)(nl - c->in);
    memcpy(line, c->in, n);
    line[n] = '\0';
    memmove(c->in, nl + 1, c->inlen - n - 1);
    c->inlen -= n + 1;
    nk_memzero(c->in + c->inlen, sizeof(c->in) - c->inlen);
    return 0;
}

/* Sends one command line: cmd, then arg percent-escaped ('%', CR, LF and
 * other control bytes), cut to the line limit. */
static int send_cmd(struct conn *c, const char *cmd, const char *arg,
                    struct nk_err *err)
{
    char line[LINE_MAX_LEN + 1];
    size_t n, off;
    ssize_t r;

    n = (size_t)snprintf(line, sizeof(line), "%s%s", cmd, arg ? " " : "");
    for (; arg != NULL && *arg != '\0' && n + 5 < LINE_MAX_LEN; arg++) {
        if ((unsigned char)*arg < 0x20 || *arg == '%' || *arg == 0x7f)
            n += (size_t)snprintf(line + n, sizeof(line) - n, "%%%02X",
                                  (unsigned char)*arg);
        else
            line[n++] = *arg;
    }
    line[n++] = '\n';
    for (off = 0; off < n; off += (size_t)r) {
        r = send(c->fd, line + off, n - off, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            r = 0;
        else if (r < 0)
            return nk_err_set(err, NK_ERR_GENERIC,
                              "pinentry \"%s\" ended the conversation: %s",
                              c->prog, strerror(errno));
    }
    return 0;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Appends the percent-decoded data of a "D " line to pin[*len]. */
static int add_data(struct conn *c, const char *d, char *pin, size_t *len,
                    struct nk_err *err)
{
    int hi, lo;
    char ch;

    for (; *d != '\0'; d++) {
        ch = *d;
        if (ch == '%') {
            hi = hexval(d[1]);
            lo = hi < 0 ? -1 : hexval(d[2]);
            if (lo < 0)
                return nk_err_set(err, NK_ERR_GENERIC,
                                  "pinentry \"%s\" sent a bad escape", c->prog);
            ch = (char)(hi * 16 + lo);
            d += 2;
        }
        if (ch == '\0' || *len >= PIN_MAX)
            return nk_err_set(err, NK_ERR_ACCESS,
                              "the PIN from pinentry \"%s\" is longer than "
                              "%d bytes or holds a NUL byte",
                              c->prog, PIN_MAX);
        pin[(*len)++] = ch;
    }
    return 0;
}

/* Reads the answer to one command up to its "OK" (0) or "ERR" (-1 with
 * err set; quiet when optional: an OPTION a pinentry does not know). Data
 * lines go to pin when it is not NULL. */
static int answer(struct conn *c, char *pin, size_t *len, int optional,
                  struct nk_err *err)
{
    char line[LINE_MAX_LEN + 1];
    unsigned long code;
    int ret = -1;

    for (;;) {
        if (read_line(c, line, err) != 0)
            goto out;
        if (strcmp(line, "OK") == 0 || strncmp(line, "OK ", 3) == 0)
            break;
        if (strncmp(line, "D ", 2) == 0 && pin != NULL) {
            if (add_data(c, line + 2, pin, len, err) != 0)
                goto out;
            continue;
        }
        if (strncmp(line, "ERR ", 4) != 0)
            continue; /* S (status), # (comment), D where none is wanted */
        if (optional)
            goto out;
        code = strtoul(line + 4, NULL, 10) & 0xffff;
        if (code == GPG_ERR_CANCELED)
            nk_err_set(err, NK_ERR_ACCESS, "PIN entry was cancelled");
        else if (code == GPG_ERR_TIMEOUT)
            timed_out(c, err);
        else
            nk_err_set(err, NK_ERR_GENERIC,
                       "pinentry \"%s\" failed (error %lu)", c->prog, code);
        goto out;
    }
    ret = 0;
out:
    nk_memzero(line, sizeof(line));
    return ret;
}

static int command(struct conn *c, const char *cmd, const char *arg,
                   struct nk_err *err)
{
    if (send_cmd(c, cmd, arg, err) != 0)
        return -1;
    return answer(c, NULL, NULL, 0, err);
}

/* The conversation after the greeting, up to the PIN. */
static int converse(struct conn *c, const struct nk_pinentry_ask *q, char *pin,
                    size_t *len, struct nk_err *err)
{
    char opt[LINE_MAX_LEN];
    struct nk_err ignored = {0};

    if (answer(c, NULL, NULL, 0, err) != 0)
        return -1;
    if (q->tty != NULL) {
        snprintf(opt, sizeof(opt), "ttyname=%s", q->tty);
        if (send_cmd(c, "OPTION", opt, err) != 0)
            return -1;
        (void)answer(c, NULL, NULL, 1, &ignored);
    }
    if (command(c, "SETDESC", q->desc, err) != 0 ||
        command(c, "SETPROMPT", q->prompt, err) != 0 ||
        send_cmd(c, "GETPIN", NULL, err) != 0 ||
        answer(c, pin, len, 0, err) != 0)
        return -1;
    /* A polite goodbye; the answer does not matter. */
    if (send_cmd(c, "BYE", NULL, &ignored) == 0)
        (void)answer(c, NULL, NULL, 1, &ignored);
    return 0;
}

int nk_pinentry_getpin(const struct nk_pinentry_ask *q, char **pin,
                       struct nk_err *err)
{
    struct conn c = {.prog = q->prog, .fd = -1, .pid = -1};
    char buf[PIN_MAX + 1];
    size_t len = 0;
    int ret;

    *pin = NULL;
    c.deadline = nk_log_now_ms() + TIMEOUT_MS;
    ret = spawn(&c, err);
    if (ret != 0)
        return ret;
    ret = -1;
    if (converse(&c, q, buf, &len, err) != 0)
        goto out;
    if (len == 0) {
        nk_err_set(err, NK_ERR_ACCESS, "no PIN was entered");
        goto out;
    }
    *pin = nk_xstrndup(buf, len);
    ret = 0;
out:
    reap(&c);
    nk_memzero(buf, sizeof(buf));
    nk_memzero(c.in, sizeof(c.in));
    return ret;
}
