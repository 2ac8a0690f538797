/* Error recording: formatting, prefixing and OpenSSL queue draining. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "err.h"

static NK_PRINTF(3, 0) void vset(struct nk_err *err, enum nk_errcode code,
                                 const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int nk_err_set(struct nk_err *err, enum nk_errcode code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->code != NK_ERR_NONE)
        return -1;
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int nk_err_ssl(struct nk_err *err, enum nk_errcode code, const char *fmt, ...)
{
    va_list ap;
    unsigned long e = ERR_peek_last_error();
    char reason[256];
    size_t used;

    if (err == NULL || err->code != NK_ERR_NONE) {
        ERR_clear_error();
        return -1;
    }
    va_start(ap, fmt);
    vset(err, code, fmt, ap);
    va_end(ap);
    if (e != 0) {
        ERR_error_string_n(e, reason, sizeof(reason));
        used = strlen(err->msg);
        snprintf(err->msg + used, sizeof(err->msg) - used, ": %s", reason);
    }
    ERR_clear_error();
    return -1;
}

int nk_err_prefix(struct nk_err *err, const char *fmt, ...)
{
    char ctx[256], old[sizeof(err->msg)], both[sizeof(ctx) + sizeof(old) + 2];
    va_list ap;

    if (err == NULL || err->code == NK_ERR_NONE)
        return -1;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(both, sizeof(both), "%s: %s", ctx, old);
    snprintf(err->msg, sizeof(err->msg), "%.*s", (int)sizeof(err->msg) - 1,
             both);
    return -1;
}

void nk_err_clear(struct nk_err *err)
{
    err->code = NK_ERR_NONE;
    err->msg[0] = '\0';
}

const char *nk_errcode_name(enum nk_errcode code)
{
    switch (code) {
    case NK_ERR_VALIDATION:
        return "VALIDATION_ERROR";
    case NK_ERR_CONTRACT:
        return "UNSUPPORTED_CONTRACT_VERSION";
    case NK_ERR_ACCESS:
        return "ACCESS_DENIED";
    case NK_ERR_TIMEOUT:
        return "TIMEOUT";
    case NK_ERR_THROTTLED:
        return "THROTTLED";
    case NK_ERR_NONE:
    case NK_ERR_GENERIC:
        break;
    }
    return "ERROR";
}
