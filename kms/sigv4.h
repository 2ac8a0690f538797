/* AWS Signature Version 4 (header form): canonical request, string to sign,
 * signature and the headers to add, written to the AWS SigV4 test suite. */
#ifndef NK_SIGV4_H
#define NK_SIGV4_H

#include <stddef.h>

#include "common/err.h"
#include "common/http.h"

struct nk_sigv4_params {
    const char *access_key;
    const char *secret_key; /* secret: never logged */
    const char *token;      /* session token or NULL */
    const char *region;
    const char *service;  /* "kms", "sts" ... */
    const char *amz_date; /* "20150830T123600Z" (UTC) */
    int normalize;        /* RFC 3986 dot-segment removal (all but S3) */
    int sign_body;        /* add and sign x-amz-content-sha256 */
    int omit_token;       /* add the token after signing (some services) */
};

/* What signing produced. add[] are the headers to send besides the
 * request's own (X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-Sha256,
 * Authorization); their strings are owned here. */
struct nk_sigv4_out {
    char *creq; /* canonical request */
    char *sts;  /* string to sign */
    char signature[65];
    struct nk_http_header add[4];
    size_t n_add;
    char *owned[4];
};

/* Signs a request. target is the request target as it goes on the wire
 * ("/path?query"); the path is percent-encoded once more (what every
 * service but S3 expects) and the query is decoded and re-encoded.
 * headers must include Host. Header values are trimmed, inner runs of
 * white space (also line folds) collapse to one space, and repeated names
 * are joined with ",". */
int nk_sigv4_sign(const struct nk_sigv4_params *p, const char *method,
                  const char *target, const struct nk_http_header *headers,
                  size_t n_headers, const unsigned char *body, size_t body_len,
                  struct nk_sigv4_out *out, struct nk_err *err) NK_MUST_CHECK;

/* Wipes and frees out. */
void nk_sigv4_out_release(struct nk_sigv4_out *out);

/* "YYYYMMDDTHHMMSSZ" for t (UTC) into buf (at least 17 bytes). */
void nk_sigv4_amz_date(long long t, char *buf);

#endif
