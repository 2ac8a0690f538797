/* Key URIs of the KMS backends (awskms://, hashivault://, openbao://) and
 * the tables that map each service's key types to notation key specs. Pure
 * functions: no I/O, no environment. */
#ifndef NK_KMS_URI_H
#define NK_KMS_URI_H

#include "common/err.h"
#include "common/keyspec.h"

struct nk_awskms_uri {
    char *endpoint; /* "https://host[:port]" from the URI, or NULL */
    char *key_ref;  /* key id, key ARN, alias/name or alias ARN */
};

/* awskms:///<ref> or awskms://<host[:port]>/<ref>; VALIDATION_ERROR
 * otherwise. out is released by nk_awskms_uri_release. */
int nk_awskms_uri_parse(const char *key_id, struct nk_awskms_uri *out,
                        struct nk_err *err) NK_MUST_CHECK;
void nk_awskms_uri_release(struct nk_awskms_uri *u);

/* The region of "arn:<partition>:kms:<region>:<account>:..." (malloc'd),
 * or NULL when ref is not such an ARN. */
char *nk_aws_arn_region(const char *ref);

/* The notation spec of an AWS KeySpec ("RSA_3072") and the signing
 * algorithm notation needs with it (*alg, "RSASSA_PSS_SHA_384");
 * NK_KEYSPEC_NONE (and *alg NULL) for any other KeySpec. */
enum nk_keyspec nk_aws_keyspec(const char *aws_spec, const char **alg);
/* The signing algorithm for a notation spec, or NULL. */
const char *nk_aws_alg_of(enum nk_keyspec spec);

/* hashivault://<name> or openbao://<name> with a Transit key name (word
 * characters, '-' and '.', not starting with '-' or '.'); *name is
 * malloc'd, *openbao set for openbao://. VALIDATION_ERROR otherwise. */
int nk_vault_uri_parse(const char *key_id, char **name, int *openbao,
                       struct nk_err *err) NK_MUST_CHECK;

/* The notation spec of a Transit key type ("ecdsa-p384") and the hash
 * path segment to sign with (*hash, "sha2-384"); NK_KEYSPEC_NONE (and
 * *hash NULL) for types notation cannot use. */
enum nk_keyspec nk_vault_keyspec(const char *type, const char **hash);

/* Splits Vault's "vault:v<N>:<base64>" signature: *version = N, *b64
 * points into v. VALIDATION-free ERROR when v has another shape. */
int nk_vault_sig_split(const char *v, long *version, const char **b64,
                       struct nk_err *err) NK_MUST_CHECK;

#endif
