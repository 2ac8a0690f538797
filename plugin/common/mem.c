/* Allocation wrappers and secret wiping. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "mem.h"

void nk_oom(void)
{
    static const char msg[] =
        "{\"errorCode\":\"ERROR\",\"errorMessage\":\"out of memory\"}\n";
    ssize_t r = write(2, msg, sizeof(msg) - 1);

    (void)r;
    _exit(1);
}

void nk_mem_init(void)
{
    cJSON_Hooks hooks = {nk_xmalloc, free};

    cJSON_InitHooks(&hooks);
}

void *nk_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        nk_oom();
    return p;
}

void *nk_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (p == NULL)
        nk_oom();
    return p;
}

void *nk_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        nk_oom();
    return q;
}

char *nk_xstrdup(const char *s)
{
    return nk_xstrndup(s, strlen(s));
}

char *nk_xstrndup(const char *s, size_t n)
{
    char *p = nk_xmalloc(n + 1);

    if (n > 0)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *nk_xasprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        nk_oom();
    p = nk_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void nk_memzero(void *p, size_t n)
{
    if (p != NULL && n > 0)
        explicit_bzero(p, n);
}

void nk_freezero(void *p, size_t n)
{
    if (p == NULL)
        return;
    nk_memzero(p, n);
    free(p);
}

void nk_strfreezero(char *s)
{
    if (s != NULL)
        nk_freezero(s, strlen(s));
}

void nk_mask_init(struct nk_mask *m, char *s)
{
    m->s = s;
    m->pad = NULL;
    m->n = s != NULL ? strlen(s) : 0;
}

static void xor_pad(struct nk_mask *m)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        m->s[i] = (char)(m->s[i] ^ m->pad[i]);
}

void nk_mask_hide(struct nk_mask *m)
{
    size_t got = 0;
    ssize_t r;

    if (m->s == NULL || m->pad != NULL)
        return;
    m->pad = nk_xcalloc(m->n, 1);
    /* getrandom(2) only stops early on a signal; any other failure leaves
     * the rest of the pad zero, so those bytes stay in the clear. */
    while (got < m->n) {
        r = getrandom(m->pad + got, m->n - got, 0);
        if (r <= 0 && errno != EINTR)
            break;
        if (r > 0)
            got += (size_t)r;
    }
    xor_pad(m);
}

void nk_mask_show(struct nk_mask *m)
{
    if (m->pad == NULL)
        return;
    xor_pad(m);
    nk_freezero(m->pad, m->n);
    m->pad = NULL;
}

void nk_mask_release(struct nk_mask *m)
{
    nk_freezero(m->pad, m->n);
    nk_freezero(m->s, m->n);
    m->s = NULL;
    m->pad = NULL;
    m->n = 0;
}
