/* Internals of the revocation check: one OCSP or CRL lookup for one
 * certificate, and the on-disk CRL cache. */
#ifndef NK_REVOKE_H
#define NK_REVOKE_H

#include <stddef.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "verify/verify.h"

/* Asks the OCSP responders in cert's AIA (http only), in order, until one
 * gives a verified answer. Sets rc->status to GOOD, REVOKED or UNKNOWN
 * (with rc->detail saying why). chain is the whole leaf-first chain and
 * issuer_idx the index of cert's issuer in it (the responder's certificate
 * must chain to its root). */
void nk_ocsp_check(X509 *cert, STACK_OF(X509) * chain, int issuer_idx,
                   const struct nk_verify_opts *o, struct nk_rev_cert *rc);
/* Reads der, the DER answer of the responder at url to req, which asks
 * for id (cert's certID; cert is issued by chain[issuer_idx]): a successful
 * basic response with req's nonce, signed by the issuer or a delegated
 * responder chaining to the chain's root, current at o->now. 0 with
 * rc->status set when it decides, else -1 with rc->detail saying why. */
int nk_ocsp_answer(const unsigned char *der, size_t n, OCSP_REQUEST *req,
                   OCSP_CERTID *id, STACK_OF(X509) * chain, int issuer_idx,
                   const char *url, const struct nk_verify_opts *o,
                   struct nk_rev_cert *rc) NK_MUST_CHECK;
/* Nonzero when cert names an http OCSP responder. */
int nk_ocsp_supported(X509 *cert);

/* Checks cert against the CRL of every http distribution point (cache
 * first). Sets rc->status to GOOD, REVOKED or UNKNOWN. */
void nk_crl_check(X509 *cert, X509 *issuer, const struct nk_verify_opts *o,
                  struct nk_rev_cert *rc);
/* Nonzero when cert has an http CRL distribution point. */
int nk_crl_supported(X509 *cert);
/* NULL when crl, fetched from cert's distribution point dp (a fullName),
 * may decide cert's status at now, else why not (RFC 5280 6.3.3): issuer
 * name, signature, authority key id, the issuer's cRLSign, thisUpdate,
 * a nextUpdate still ahead, no delta CRL or unknown critical extension,
 * and an issuing distribution point covering cert and dp (no indirect or
 * reason-partitioned CRLs). */
const char *nk_crl_unusable(X509_CRL *crl, X509 *cert, X509 *issuer,
                            const DIST_POINT *dp, time_t now);

/* The DER CRL der (nothing after it) when nk_crl_unusable() finds no
 * fault for cert, issuer and dp at now; else NULL with *why saying what is
 * wrong. */
X509_CRL *nk_crl_parse(const unsigned char *der, size_t n, X509 *cert,
                       X509 *issuer, const DIST_POINT *dp, time_t now,
                       const char **why);
/* Looks cert's serial up in a usable crl fetched from url: rc->status
 * REVOKED (with time and reason), GOOD (also for an entry whose invalidity
 * date follows o->signing_time), or UNKNOWN for an entry with an unknown
 * critical extension. */
void nk_crl_lookup(X509 *cert, X509_CRL *crl, const char *url,
                   const struct nk_verify_opts *o, struct nk_rev_cert *rc);

/* Cached CRL for url if present and readable, else NULL. Only dir and its
 * parent being private directories and the entry a regular file of the
 * user make it readable. The caller must still verify it (signature,
 * issuer, freshness, scope). */
X509_CRL *nk_crlcache_get(const char *dir, const char *url);
/* Stores the DER CRL atomically (temp file, fsync, rename) in dir,
 * created 0700 when missing; refused when dir or its parent is not a
 * private directory. */
int nk_crlcache_put(const char *dir, const char *url, const unsigned char *der,
                    size_t len, struct nk_err *err) NK_MUST_CHECK;

#endif
