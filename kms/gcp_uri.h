/* Google Cloud KMS key ids (gcpkms://projects/P/locations/L/keyRings/R/
 * cryptoKeys/K/cryptoKeyVersions/N, the form cosign uses) and the table of
 * Cloud KMS signing algorithms notation can use. Pure functions: no I/O,
 * no environment. */
#ifndef NK_GCP_URI_H
#define NK_GCP_URI_H

#include "common/err.h"
#include "common/keyspec.h"

struct nk_gcp_key {
    char *name; /* "projects/P/.../cryptoKeyVersions/N", the REST name */
    char *project;
    char *location;
    char *key_ring;
    char *key;
    char *version; /* decimal, at least 1 */
};

/* Parses key_id; "/versions/N" (which cosign also reads) is accepted for
 * "/cryptoKeyVersions/N". A key id without a version is a VALIDATION_ERROR
 * saying how to list the enabled versions: signing needs one fixed version
 * (the one the certificate is for). out is released by
 * nk_gcp_key_release. */
int nk_gcp_uri_parse(const char *key_id, struct nk_gcp_key *out,
                     struct nk_err *err) NK_MUST_CHECK;
void nk_gcp_key_release(struct nk_gcp_key *k);

/* The notation key spec a CryptoKeyVersion algorithm signs as
 * ("EC_SIGN_P384_SHA384" -> EC-384): only RSA_SIGN_PSS_2048_SHA256,
 * RSA_SIGN_PSS_4096_SHA512, EC_SIGN_P256_SHA256 and EC_SIGN_P384_SHA384
 * pair a key with the hash notation uses for it. For any other algorithm
 * NK_KEYSPEC_NONE and *why says why notation cannot use it. */
enum nk_keyspec nk_gcp_alg_spec(const char *alg, const char **why);

/* The algorithm notation needs for spec, or NULL (RSA-3072, EC-521: Cloud
 * KMS has no such algorithm). */
const char *nk_gcp_alg_of(enum nk_keyspec spec);

/* The member of the Digest message for spec's hash: "sha256" ... */
const char *nk_gcp_digest_field(enum nk_keyspec spec);

#endif
