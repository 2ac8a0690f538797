/* Checking a raw notation signature (PSS with salt = hash length, or ECDSA
 * r||s) against a public key, and ECDSA format conversion. */
#ifndef NK_SIGCHECK_H
#define NK_SIGCHECK_H

#include <stddef.h>

#include <openssl/evp.h>

#include "err.h"
#include "keyspec.h"

/* 0 when sig is a valid signature by pub over digest (of the spec's hash);
 * else -1 with a VALIDATION_ERROR-free ERROR describing the mismatch. */
int nk_sig_check(EVP_PKEY *pub, enum nk_keyspec spec,
                 const unsigned char *digest, size_t dlen,
                 const unsigned char *sig, size_t slen,
                 struct nk_err *err) NK_MUST_CHECK;

/* DER ECDSA-Sig-Value -> fixed-width r||s of 2*width bytes (malloc'd). */
int nk_ecdsa_der_to_raw(const unsigned char *der, size_t n, size_t width,
                        unsigned char **out, size_t *outlen,
                        struct nk_err *err) NK_MUST_CHECK;
/* r||s (2*width bytes) -> DER (malloc'd with OPENSSL_malloc: free with
 * OPENSSL_free). */
int nk_ecdsa_raw_to_der(const unsigned char *raw, size_t n, unsigned char **out,
                        size_t *outlen, struct nk_err *err) NK_MUST_CHECK;

#endif
