/* Loading certificates from files and comparing keys. */
#ifndef NK_CERTS_H
#define NK_CERTS_H

#include <openssl/x509.h>

#include "err.h"

/* Every certificate in a PEM file (in file order), or the one certificate
 * of a DER file. VALIDATION_ERROR naming the file and pluginConfig key
 * (what) when unreadable or empty. */
int nk_certs_load_file(const char *path, const char *what,
                       STACK_OF(X509) * *out, struct nk_err *err) NK_MUST_CHECK;

/* The same from memory (PEM text or DER bytes). */
int nk_certs_load_mem(const unsigned char *p, size_t n, const char *what,
                      STACK_OF(X509) * *out, struct nk_err *err) NK_MUST_CHECK;

#endif
