/* Compact JSON Web Signatures (RFC 7515) that the plugin makes itself: the
 * client assertions and JWT-bearer grants token endpoints accept in place
 * of a secret. Generic: a header and claims in, "h.c.s" out. */
#ifndef NK_JWT_H
#define NK_JWT_H

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/err.h"

enum nk_jwt_alg {
    NK_JWT_RS256 = 1, /* RSASSA-PKCS1-v1_5 with SHA-256 */
    NK_JWT_PS256,     /* RSASSA-PSS, SHA-256, MGF1 SHA-256, salt 32 */
    NK_JWT_ES256      /* ECDSA P-256 with SHA-256, r||s */
};

/* The JWS name of alg ("PS256"). */
const char *nk_jwt_alg_name(enum nk_jwt_alg alg);

/* Signs claims with key: the protected header is "alg", then "typ":"JWT"
 * (unless header has a typ), then header's members (borrowed; may be
 * NULL). *out is the compact serialization (malloc'd). VALIDATION_ERROR
 * when key does not fit alg, ERROR when signing fails. */
int nk_jwt_sign(const cJSON *header, const cJSON *claims, EVP_PKEY *key,
                enum nk_jwt_alg alg, char **out,
                struct nk_err *err) NK_MUST_CHECK;

/* The private key in PEM text (PKCS#8 "PRIVATE KEY", or "RSA PRIVATE KEY"
 * / "EC PRIVATE KEY"), unencrypted, for a JWT a token endpoint takes (a
 * Google service account's private_key). what names the source for
 * errors, which never quote the key. */
int nk_jwt_key_from_pem(const char *pem, const char *what, EVP_PKEY **out,
                        struct nk_err *err) NK_MUST_CHECK;

#endif
