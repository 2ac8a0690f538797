/* Base64: standard padded (RFC 4648 section 4, what notation's JSON uses)
 * and base64url without padding (JWS). */
#ifndef NK_B64_H
#define NK_B64_H

#include <stddef.h>

#include "err.h"

/* Encodes into a new NUL-terminated string. */
char *nk_b64_encode(const unsigned char *p, size_t n);
char *nk_b64url_encode(const unsigned char *p, size_t n);

/* Strict decoders: standard alphabet with exact '=' padding (as Go's
 * encoding/json demands), or url alphabet with no padding. what names the
 * field in the VALIDATION_ERROR. The result is NUL-terminated too. */
int nk_b64_decode(const char *s, const char *what, unsigned char **out,
                  size_t *outlen, struct nk_err *err) NK_MUST_CHECK;
int nk_b64url_decode(const char *s, const char *what, unsigned char **out,
                     size_t *outlen, struct nk_err *err) NK_MUST_CHECK;

#endif
