/* RFC 3161 timestamps for envelope signatures: the pluginConfig keys, the
 * request, the HTTP exchange and every check on the answer. */
#ifndef NK_TSA_H
#define NK_TSA_H

#include <stddef.h>

#include <openssl/ts.h>
#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"
#include "common/keyspec.h"

#define NK_TSA_DEFAULT_TIMEOUT 15.0
#define NK_TSA_MAX_TIMEOUT 300.0

struct nk_tsa {
    char *url;       /* NULL: no timestamp wanted */
    char shown[256]; /* url without credentials, for messages and the log */
    X509 *root;      /* the one self-signed root the token must chain to */
    double timeout;  /* seconds for the whole exchange */
};

/* Reads timestamp-url, timestamp-root-cert (both or neither) and
 * timestamp-timeout, and loads the root (PEM or DER, exactly one
 * self-signed certificate). VALIDATION_ERROR on any misfit. */
int nk_tsa_config(const struct nk_config *cfg, struct nk_tsa *t,
                  struct nk_err *err) NK_MUST_CHECK;

/* A request over data: version 1, messageImprint = hash(data) with the
 * hash (parameters NULL), a random positive nonce below 2^159, certReq. */
int nk_tsa_query(enum nk_hash hash, const unsigned char *data, size_t n,
                 TS_REQ **out, struct nk_err *err) NK_MUST_CHECK;

/* Accepts reply only when the status is granted, the nonce and imprint
 * are the request's, the token's signature verifies and chains to root,
 * the TSA certificate's extended key usage is timeStamping alone and
 * critical, and the signed ESS signing-certificate-v2 attribute names that
 * certificate. *tst is the DER TimeStampToken (malloc'd). ERROR saying
 * what is wrong otherwise. */
int nk_tsa_check(TS_REQ *req, X509 *root, const unsigned char *reply, size_t n,
                 unsigned char **tst, size_t *tstlen,
                 struct nk_err *err) NK_MUST_CHECK;

/* Query, POST to t->url, check: the token for the raw signature sig. */
int nk_tsa_stamp(const struct nk_tsa *t, enum nk_hash hash,
                 const unsigned char *sig, size_t n, unsigned char **tst,
                 size_t *tstlen, struct nk_err *err) NK_MUST_CHECK;

void nk_tsa_release(struct nk_tsa *t);

#endif
