/* Certificate chain assembly and notation's code-signing certificate rules
 * (notation-core-go x509 validations), with errors that name the rule and
 * the certificate. */
#ifndef NK_CHAIN_H
#define NK_CHAIN_H

#include <time.h>

#include <openssl/x509.h>

#include "common/err.h"

/* Orders certs into leaf-first chain starting at leaf: repeatedly picks the
 * certificate whose subject is the current certificate's issuer (and whose
 * key verifies it) until a self-signed root. Extra certificates are dropped.
 * VALIDATION_ERROR "incomplete certificate chain: no issuer for ..." when
 * the root cannot be reached. leaf and certs are borrowed; *out owns new
 * references. */
int nk_chain_build(X509 *leaf, STACK_OF(X509) * certs, STACK_OF(X509) * *out,
                   struct nk_err *err) NK_MUST_CHECK;

/* Checks a leaf-first chain the way notation does for code signing: shape
 * (one self-signed leaf, or issuer linkage ending in a self-signed root with
 * valid signatures), leaf key usage critical with digitalSignature and no
 * forbidden bits, no forbidden EKU, CA basic constraints and keyCertSign on
 * issuers, path length, key sizes, no SHA-1, and every certificate valid at
 * time `at`. */
int nk_chain_check_codesigning(STACK_OF(X509) * chain, time_t at,
                               struct nk_err *err) NK_MUST_CHECK;

/* The same rules for a chain made by nk_chain_build, whose construction
 * already proved its shape (each certificate's signature verified by the
 * next, ending in a verified self-signed root): signature checks are the
 * dominant cost of a signing run, so they are not repeated. */
int nk_chain_check_built(STACK_OF(X509) * chain, time_t at,
                         struct nk_err *err) NK_MUST_CHECK;

/* "CN=..., O=..." one-line subject for messages; caller frees. */
char *nk_cert_name(X509 *cert);

#endif
