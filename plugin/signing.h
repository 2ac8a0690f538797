/* The signing core shared by generate-signature and generate-envelope (and
 * every backend): open the key, assemble the certificate chain, run the
 * checks notation will run, sign a to-be-signed byte string, and check the
 * signature against the leaf before anyone sees it. */
#ifndef NK_SIGNING_H
#define NK_SIGNING_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common/config.h"
#include "common/err.h"
#include "common/keyspec.h"
#include "common/signer.h"

struct nk_signing {
    struct nk_signer *signer;    /* the open key; signer->ops its backend */
    const struct nk_config *cfg; /* set by nk_signing_prepare */
    struct nk_key_info info;
    STACK_OF(X509) * chain; /* leaf first, ending in a self-signed root */
};

/* Finds the backend for key_id, opens the key and describes it: through
 * the agent when NOTATION_KEYSTORE_AGENT names one that holds the key
 * (agent/signer.h), else directly. cfg must outlive sg. */
int nk_signing_open(struct nk_signing *sg, const char *key_id,
                    const struct nk_config *cfg,
                    struct nk_err *err) NK_MUST_CHECK;
/* The same, never through the agent (storing a certificate needs the
 * store itself). */
int nk_signing_open_direct(struct nk_signing *sg, const char *key_id,
                           const struct nk_config *cfg,
                           struct nk_err *err) NK_MUST_CHECK;

/* Builds sg->chain from pluginConfig certificate-chain / certificate,
 * ca-certs and the store's own certificates, then runs the pre-sign checks
 * (notation's code-signing rules, validity now, the leaf key against the
 * store key and keySpec, and revocation when configured). */
int nk_signing_prepare(struct nk_signing *sg, const struct nk_config *cfg,
                       struct nk_err *err) NK_MUST_CHECK;

/* Hashes tbs with the key spec's hash, has the backend sign it, and checks
 * the result with the leaf certificate's public key. When the backend
 * signed with a key rotated since its (cached) description, the key is
 * described and prepared again first. *sig is malloc'd. */
int nk_signing_sign(struct nk_signing *sg, const unsigned char *tbs, size_t n,
                    unsigned char **sig, size_t *siglen,
                    struct nk_err *err) NK_MUST_CHECK;

void nk_signing_release(struct nk_signing *sg);

#endif
