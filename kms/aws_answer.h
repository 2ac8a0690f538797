/* What AWS KMS answers to GetPublicKey, DescribeKey and Sign, read from
 * the parsed JSON body: pure functions, no I/O. key_ref names the key in
 * messages. */
#ifndef NK_AWS_ANSWER_H
#define NK_AWS_ANSWER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/keyspec.h"
#include "kms_cache.h"

/* GetPublicKey: KeyUsage SIGN_VERIFY (when given), a KeySpec notation can
 * use and a PublicKey (base64 DER) of that spec. Fills key->pub, ->spec
 * and ->id (KeyId, else key_ref); the caller releases key. */
int nk_aws_public_key_answer(const cJSON *resp, const char *key_ref,
                             struct nk_kms_cached *key,
                             struct nk_err *err) NK_MUST_CHECK;

/* DescribeKey: KeyMetadata's KeyState Enabled and KeyUsage SIGN_VERIFY,
 * each when given. VALIDATION_ERROR otherwise. */
int nk_aws_describe_answer(const cJSON *resp, const char *key_ref,
                           struct nk_err *err) NK_MUST_CHECK;

/* Sign: the base64 Signature in notation's form for spec
 * (nk_kms_sig_decode). *sig is malloc'd. */
int nk_aws_sign_answer(const cJSON *resp, const char *key_ref,
                       enum nk_keyspec spec, unsigned char **sig,
                       size_t *siglen, struct nk_err *err) NK_MUST_CHECK;

#endif
