/* The PKCS#11 backend: keys in any PKCS#11 module, found by RFC 7512
 * "pkcs11:" key ids. */
#ifndef NK_PKCS11_H
#define NK_PKCS11_H

#include "signer.h"

extern const struct nk_signer_ops nk_pkcs11_ops;

#endif
