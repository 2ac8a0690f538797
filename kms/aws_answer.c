/* AWS KMS answers: the key description of GetPublicKey and DescribeKey,
 * and the signature of Sign. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "aws_answer.h"
#include "common/b64.h"
#include "common/mem.h"
#include "kms_key.h"
#include "kms_uri.h"
#include "kms_util.h"

int nk_aws_public_key_answer(const cJSON *resp, const char *key_ref,
                             struct nk_kms_cached *key, struct nk_err *err)
{
    const char *spec = nk_kms_jstr(resp, "KeySpec");
    const char *usage = nk_kms_jstr(resp, "KeyUsage");
    const char *pub = nk_kms_jstr(resp, "PublicKey");
    const char *arn = nk_kms_jstr(resp, "KeyId");
    unsigned char *der = NULL;
    const unsigned char *q;
    enum nk_keyspec actual, want;
    const char *alg;
    size_t n;

    if (spec == NULL)
        spec = nk_kms_jstr(resp, "CustomerMasterKeySpec");
    if (usage != NULL && strcmp(usage, "SIGN_VERIFY") != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "AWS KMS key \"%s\" has "
                          "KeyUsage %s, not SIGN_VERIFY",
                          key_ref, usage);
    want = nk_aws_keyspec(spec, &alg);
    if (want == NK_KEYSPEC_NONE)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "AWS KMS key \"%s\" is %s, "
                          "which notation cannot use (RSA_2048, RSA_3072, "
                          "RSA_4096, ECC_NIST_P256, ECC_NIST_P384, "
                          "ECC_NIST_P521)",
                          key_ref, spec ? spec : "?");
    if (pub == NULL || nk_b64_decode(pub, "PublicKey", &der, &n, err) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "AWS KMS GetPublicKey for "
                          "\"%s\": no PublicKey in the answer",
                          key_ref);
    q = der;
    key->pub = d2i_PUBKEY(NULL, &q, (long)n);
    free(der);
    if (key->pub == NULL)
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "AWS KMS key \"%s\": bad "
                          "PublicKey",
                          key_ref);
    if (nk_keyspec_of_pkey(key->pub, &actual, err) != 0)
        return -1;
    if (actual != want)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "AWS KMS key \"%s\" says %s "
                          "but its public key is %s",
                          key_ref, spec, nk_keyspec_name(actual));
    key->spec = actual;
    key->id = nk_xstrdup(arn != NULL ? arn : key_ref);
    return 0;
}

int nk_aws_describe_answer(const cJSON *resp, const char *key_ref,
                           struct nk_err *err)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(resp, "KeyMetadata");
    const char *state = nk_kms_jstr(md, "KeyState");
    const char *usage = nk_kms_jstr(md, "KeyUsage");

    if (state != NULL && strcmp(state, "Enabled") != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "AWS KMS key \"%s\" is %s, "
                          "not Enabled",
                          key_ref, state);
    if (usage != NULL && strcmp(usage, "SIGN_VERIFY") != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "AWS KMS key \"%s\" has "
                          "KeyUsage %s, not SIGN_VERIFY",
                          key_ref, usage);
    return 0;
}

int nk_aws_sign_answer(const cJSON *resp, const char *key_ref,
                       enum nk_keyspec spec, unsigned char **sig,
                       size_t *siglen, struct nk_err *err)
{
    char what[300];

    snprintf(what, sizeof(what), "AWS KMS Sign for \"%s\"", key_ref);
    return nk_kms_sig_decode(spec, nk_kms_jstr(resp, "Signature"), what, sig,
                             siglen, err);
}
