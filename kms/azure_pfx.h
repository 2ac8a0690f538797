/* PKCS#12 (PFX) files as Azure hands them out: a Key Vault certificate's
 * secret with content type application/x-pkcs12, and client certificate
 * credentials (AZURE_CLIENT_CERTIFICATE_PATH). Files encrypted with the
 * old RC2 or 3DES schemes are read too (OpenSSL's legacy provider is
 * loaded only when the first try fails on such a file). */
#ifndef NK_AZURE_PFX_H
#define NK_AZURE_PFX_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"

/* The certificates of a PFX, in file order, without ever decrypting a key
 * bag (the private key is not ours to touch). A password-less PFX, as Key
 * Vault exports, or one with an empty password. what names it. */
int nk_azure_pfx_certs(const unsigned char *der, size_t n, const char *what,
                       STACK_OF(X509) * *out, struct nk_err *err) NK_MUST_CHECK;

/* The private key, its certificate and the other certificates of a PFX
 * (password may be NULL or empty). ACCESS_DENIED for a wrong password,
 * VALIDATION_ERROR for a file that is no PFX or has no key. */
int nk_azure_pfx_key(const unsigned char *der, size_t n, const char *password,
                     const char *what, EVP_PKEY **key, X509 **cert,
                     STACK_OF(X509) * *ca, struct nk_err *err) NK_MUST_CHECK;

#endif
