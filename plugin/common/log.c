/* The opt-in trace log. Lines: "<UTC time> +<ms since start> <level> msg". */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum nk_log_level cur = NK_LOG_OFF;
static FILE *out;
static double start_ms;
static int inited;
static char refusal[320]; /* why the log file was not used, or "" */

double nk_log_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Opens path for appending: never through a symbolic link, and only a
 * regular file of ours that nobody else may read or write, as the trace
 * names keys, tokens and files and a planted file would collect it. NULL
 * with refusal set otherwise. */
static FILE *open_private(const char *path)
{
    const char *why = NULL;
    struct stat st;
    FILE *f = NULL;
    int fd;

    /* O_NONBLOCK: a FIFO at the path must not hang the plugin; regular
     * files ignore it. */
    fd = open(path,
              O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
                  O_NONBLOCK,
              0600);
    if (fd < 0)
        why = errno == ELOOP ? "it is a symbolic link" : strerror(errno);
    else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = "it is not a regular file";
    else if (st.st_uid != geteuid())
        why = "it belongs to another user";
    else if ((st.st_mode & 077) != 0)
        why = "group or others may use it (chmod 600 it)";
    else
        f = fdopen(fd, "a");
    if (f == NULL && why == NULL)
        why = strerror(errno);
    if (f == NULL) {
        snprintf(refusal, sizeof(refusal),
                 "trace log \"%.200s\" not written: %s", path, why);
        if (fd >= 0)
            close(fd);
    }
    return f;
}

void nk_log_init(void)
{
    const char *lvl, *path;

    if (inited)
        return;
    inited = 1;
    lvl = getenv("NOTATION_KEYSTORE_LOG");
    path = getenv("NOTATION_KEYSTORE_LOG_FILE");
    if (lvl == NULL || path == NULL || path[0] == '\0')
        return;
    if (strcasecmp(lvl, "debug") == 0)
        cur = NK_LOG_DEBUG;
    else if (strcasecmp(lvl, "info") == 0)
        cur = NK_LOG_INFO;
    else
        return;
    out = open_private(path);
    if (out == NULL) {
        cur = NK_LOG_OFF;
        return;
    }
    start_ms = nk_log_now_ms();
    nk_log(NK_LOG_DEBUG, "log opened: notation-keystore %s, level %s",
           NK_VERSION, cur == NK_LOG_DEBUG ? "debug" : "info");
}

const char *nk_log_keyid(const char *id, char *buf, unsigned long len)
{
    const char *q = strchr(id, '?'), *at, *scheme = strstr(id, "://");
    size_t n = q != NULL ? (size_t)(q - id) : strlen(id);

    if (len == 0)
        return "";
    /* Only a "://" before the query counts (pin-source=file:///... may
     * hold one after it). */
    if (scheme != NULL && (size_t)(scheme - id) >= n)
        scheme = NULL;
    /* scheme://user:secret@host/... -> scheme://host/... */
    at = scheme != NULL ? memchr(scheme + 3, '@', n - (size_t)(scheme + 3 - id))
                        : NULL;
    if (at != NULL &&
        memchr(scheme + 3, '/', (size_t)(at - scheme - 3)) == NULL)
        snprintf(buf, len, "%.*s%.*s", (int)(scheme + 3 - id), id,
                 (int)(n - (size_t)(at + 1 - id)), at + 1);
    else
        snprintf(buf, len, "%.*s", (int)n, id);
    return buf;
}

const char *nk_log_refusal(void)
{
    return refusal[0] != '\0' ? refusal : NULL;
}

int nk_log_enabled(enum nk_log_level level)
{
    return out != NULL && level != NK_LOG_OFF && level <= cur;
}

void nk_log(enum nk_log_level level, const char *fmt, ...)
{
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;

    if (!nk_log_enabled(level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(out, "%s.%03ldZ +%.1fms [%d] %s ", stamp, ts.tv_nsec / 1000000,
            nk_log_now_ms() - start_ms, (int)getpid(),
            level == NK_LOG_DEBUG ? "debug" : "info");
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}

void nk_log_close(void)
{
    if (out != NULL)
        fclose(out);
    out = NULL;
    cur = NK_LOG_OFF;
    /* A process that goes on (the agent after it detached) may open the
     * log again. */
    inited = 0;
}
