/* The certificates Key Vault keeps with a key: a certificate's "cer" (the
 * leaf), and its secret, which holds the whole chain merged into the
 * vault, as PEM (application/x-pem-file) or base64 PKCS#12
 * (application/x-pkcs12). The private key a secret may also hold is never
 * parsed. */
#ifndef NK_AZURE_CHAIN_H
#define NK_AZURE_CHAIN_H

#include <openssl/x509.h>

#include "common/err.h"

/* The leaf of the certificates API's "cer" (standard base64 DER). */
int nk_azure_cer(const char *cer, const char *what, X509 **out,
                 struct nk_err *err) NK_MUST_CHECK;

/* The certificates of a secret value of content type ctype, leaf first
 * (the one that issued none of the others), the rest in their order.
 * VALIDATION_ERROR naming what for another content type, no certificate,
 * or unrelated certificates with no single leaf. */
int nk_azure_secret_chain(const char *value, const char *ctype,
                          const char *what, STACK_OF(X509) * *out,
                          struct nk_err *err) NK_MUST_CHECK;

/* Orders sk leaf first (see above); exposed for the unit tests. */
int nk_azure_leaf_first(STACK_OF(X509) * sk, const char *what,
                        struct nk_err *err) NK_MUST_CHECK;

#endif
