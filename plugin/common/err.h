/* The one error type: a notation errorCode plus a message for people. */
#ifndef NK_ERR_H
#define NK_ERR_H

enum nk_errcode {
    NK_ERR_NONE = 0,
    NK_ERR_VALIDATION, /* VALIDATION_ERROR */
    NK_ERR_CONTRACT,   /* UNSUPPORTED_CONTRACT_VERSION */
    NK_ERR_ACCESS,     /* ACCESS_DENIED */
    NK_ERR_TIMEOUT,    /* TIMEOUT */
    NK_ERR_THROTTLED,  /* THROTTLED */
    NK_ERR_GENERIC     /* ERROR */
};

struct nk_err {
    enum nk_errcode code;
    char msg[512];
};

#define NK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NK_MUST_CHECK __attribute__((warn_unused_result))

/* Records an error unless one is already recorded (the first error wins).
 * Always returns -1 so callers can write `return nk_err_set(...)`. */
int nk_err_set(struct nk_err *err, enum nk_errcode code, const char *fmt, ...)
    NK_PRINTF(3, 4);

/* Like nk_err_set, then appends ": <reason>" from the top of the OpenSSL
 * error queue (if any) and clears the queue. */
int nk_err_ssl(struct nk_err *err, enum nk_errcode code, const char *fmt, ...)
    NK_PRINTF(3, 4);

/* Prepends "<context>: " to a recorded error; returns -1. */
int nk_err_prefix(struct nk_err *err, const char *fmt, ...) NK_PRINTF(2, 3);

/* Clears err so it can be reused. */
void nk_err_clear(struct nk_err *err);

/* The wire string of a code, e.g. "VALIDATION_ERROR". */
const char *nk_errcode_name(enum nk_errcode code);

#endif
