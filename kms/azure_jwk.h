/* The public key of a Key Vault JSON Web Key (kty RSA, RSA-HSM, EC,
 * EC-HSM). */
#ifndef NK_AZURE_JWK_H
#define NK_AZURE_JWK_H

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "common/keyspec.h"

/* *pub and *spec from jwk ("n"/"e" or "crv"/"x"/"y", base64url).
 * VALIDATION_ERROR naming what and the key's type for a key notation
 * cannot use (RSA-1024, P-256K, oct ...), ERROR for a malformed key. */
int nk_azure_jwk_pub(const cJSON *jwk, const char *what, EVP_PKEY **pub,
                     enum nk_keyspec *spec, struct nk_err *err) NK_MUST_CHECK;

#endif
