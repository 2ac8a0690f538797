/* The opt-in trace log. Lines: "<UTC time> +<ms since start> <level> msg". */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum nk_log_level cur = NK_LOG_OFF;
static FILE *out;
static double start_ms;
static int inited;

double nk_log_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void nk_log_init(void)
{
    const char *lvl, *path;
    int fd;

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
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0 || (out = fdopen(fd, "a")) == NULL) {
        if (fd >= 0)
            close(fd);
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
    if (at != NULL && memchr(scheme + 3, '/', (size_t)(at - scheme - 3)) == NULL)
        snprintf(buf, len, "%.*s%.*s", (int)(scheme + 3 - id), id,
                 (int)(n - (size_t)(at + 1 - id)), at + 1);
    else
        snprintf(buf, len, "%.*s", (int)n, id);
    return buf;
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
}
