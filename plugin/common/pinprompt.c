/* The PIN prompt: pinentry, else /dev/tty with echo off, as OpenSSH's
 * read_passphrase does. The plugin's stdin and stdout belong to notation's
 * JSON protocol, so the person is reached only through the controlling
 * terminal or a pinentry window. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "mem.h"
#include "pinentry.h"
#include "pinprompt.h"

#define PIN_MAX 256
#define NAME_MAX_LEN 128

/* The signal that interrupted a read with echo off, re-raised once the
 * terminal is restored. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

/* Set by nk_pinprompt_disable. */
static int disabled;

static const int caught[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NCAUGHT (sizeof(caught) / sizeof(caught[0]))

/* A label fit for a terminal or a dialog: control bytes (escape sequences
 * a hostile token could put in its label) become '?', and it is cut. */
static void clean(char *dst, size_t cap, const char *src)
{
    size_t i;

    for (i = 0; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
        dst[i] =
            ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
    dst[i] = '\0';
}

/* The sentence naming the token and the key, with the warning. */
static void describe(const struct nk_pinprompt *q, char *buf, size_t cap)
{
    char tok[NAME_MAX_LEN], key[NAME_MAX_LEN];

    clean(tok, sizeof(tok), q->token);
    clean(key, sizeof(key), q->key);
    snprintf(buf, cap,
             "notation-keystore needs the PIN of token \"%s\"%s%s%s%s", tok,
             key[0] ? " to use key \"" : "", key, key[0] ? "\"" : "",
             q->tries_low ? ".\nWarning: the token reports few PIN tries "
                            "left; a wrong PIN may lock it"
                          : "");
}

static void tty_write(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;
    ssize_t r;

    while (off < n) {
        r = write(fd, s + off, n - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        off += (size_t)r;
    }
}

/* Shows prompt and reads one line from the terminal with echo off into
 * buf. Echo goes off (flushing what was typed ahead) before the prompt
 * shows, so nothing typed after it is echoed or lost. Returns the line's
 * length, or -1 on a read error or end of input. A signal restores the
 * terminal and is raised again (it ends the process, as it would have):
 * the signals stay blocked except inside pselect, so one that comes
 * before a read cannot be missed while the read waits. */
static long read_hidden(int fd, const char *prompt, char *buf, size_t cap)
{
    struct sigaction sa, old[NCAUGHT];
    struct termios saved, quiet;
    sigset_t block, orig;
    fd_set rd;
    size_t n = 0, i;
    long ret = -1;
    ssize_t r;
    char ch;

    if (fd >= FD_SETSIZE || tcgetattr(fd, &saved) != 0)
        return -1;
    sigemptyset(&block);
    for (i = 0; i < NCAUGHT; i++)
        sigaddset(&block, caught[i]);
    sigprocmask(SIG_BLOCK, &block, &orig);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    got_signal = 0;
    for (i = 0; i < NCAUGHT; i++)
        sigaction(caught[i], &sa, &old[i]);
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        goto restore;
    tty_write(fd, prompt);
    for (;;) {
        FD_ZERO(&rd);
        FD_SET(fd, &rd);
        if (pselect(fd + 1, &rd, NULL, NULL, NULL, &orig) < 0) {
            if (errno == EINTR && !got_signal)
                continue;
            goto restore;
        }
        r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto restore;
        if (ch == '\n' || ch == '\r')
            break;
        /* The rest of a line too long is read and dropped. */
        if (n < cap - 1)
            buf[n] = ch;
        n++;
    }
    ret = n < cap ? (long)n : -1;
restore:
    if (ret < 0)
        nk_memzero(buf, cap);
    ch = 0;
    tcsetattr(fd, TCSAFLUSH, &saved);
    tty_write(fd, "\n");
    for (i = 0; i < NCAUGHT; i++)
        sigaction(caught[i], &old[i], NULL);
    sigprocmask(SIG_SETMASK, &orig, NULL);
    if (got_signal)
        raise(got_signal);
    return ret;
}

/* The prompt on the terminal itself. */
static int ask_tty(const struct nk_pinprompt *q, int fd, char **pin,
                   struct nk_err *err)
{
    char text[512], buf[PIN_MAX + 1];
    long n;

    describe(q, text, sizeof(text));
    strncat(text, "\nPIN: ", sizeof(text) - strlen(text) - 1);
    n = read_hidden(fd, text, buf, sizeof(buf));
    if (n < 0)
        return nk_err_set(err, NK_ERR_ACCESS,
                          "no PIN was read from the terminal (end of input, "
                          "or longer than %d bytes)",
                          PIN_MAX);
    if (n == 0)
        return nk_err_set(err, NK_ERR_ACCESS, "no PIN was entered");
    *pin = nk_xstrndup(buf, (size_t)n);
    nk_memzero(buf, sizeof(buf));
    return 0;
}

/* Asks through pinentry program prog. 1 when it cannot be started. */
static int ask_pinentry(const struct nk_pinprompt *q, const char *prog, int tty,
                        char **pin, struct nk_err *err)
{
    char text[512];
    struct nk_pinentry_ask a = {.prog = prog, .prompt = "PIN:"};

    describe(q, text, sizeof(text));
    a.desc = text;
    /* A text-mode pinentry would use its stdin and stdout (our socket)
     * without a terminal's name; it shares our controlling terminal, so
     * "/dev/tty" names it. */
    if (tty >= 0)
        a.tty = "/dev/tty";
    return nk_pinentry_getpin(&a, pin, err);
}

void nk_pinprompt_disable(void)
{
    disabled = 1;
}

int nk_pinprompt_ask(const struct nk_pinprompt *q, char **pin,
                     const char **from, struct nk_err *err)
{
    int tty, ret = -1;

    *pin = NULL;
    *from = NULL;
    if (disabled) {
        nk_debug("pin prompt: disabled in this process");
        return 0;
    }
    tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (q->pinentry != NULL) {
        *from = "pinentry";
        ret = ask_pinentry(q, q->pinentry, tty, pin, err);
        if (ret > 0)
            ret = nk_err_set(err, NK_ERR_ACCESS,
                             "pluginConfig pinentry \"%s\" cannot be "
                             "started",
                             q->pinentry);
        goto out;
    }
    ret = 0;
    if (tty < 0) {
        nk_debug("pin prompt: no terminal (%s) and no pinentry set",
                 strerror(errno));
        goto out;
    }
    *from = "pinentry";
    ret = ask_pinentry(q, "pinentry", tty, pin, err);
    if (ret > 0) {
        *from = "the terminal";
        ret = ask_tty(q, tty, pin, err);
    }
out:
    if (tty >= 0)
        close(tty);
    return ret;
}

void nk_pinprompt_pad(const struct nk_pinprompt *q)
{
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    char tok[NAME_MAX_LEN], text[256];

    if (tty < 0)
        return;
    clean(tok, sizeof(tok), q->token);
    snprintf(text, sizeof(text),
             "notation-keystore: enter the PIN of token \"%s\" on the "
             "reader%s\n",
             tok,
             q->tries_low ? " (the token reports few PIN tries left)" : "");
    tty_write(tty, text);
    close(tty);
}
