/* Vault/OpenBao answers: Transit key description and signature, and the
 * certificate chain kept in a KV v2 secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "common/certs.h"
#include "common/mem.h"
#include "kms_key.h"
#include "kms_uri.h"
#include "kms_util.h"
#include "vault_answer.h"

static int read_pub(const cJSON *data, const char *product, const char *name,
                    long ver, struct nk_kms_cached *key, struct nk_err *err)
{
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(data, "keys");
    char vs[24];
    const char *pem;
    BIO *bio;

    snprintf(vs, sizeof(vs), "%ld", ver);
    pem = nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(keys, vs), "public_key");
    if (pem == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s transit key \"%s\" has "
                          "no version %ld with a public key",
                          product, name, ver);
    bio = BIO_new_mem_buf(pem, -1);
    key->pub = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (key->pub == NULL)
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "%s transit key \"%s\" "
                          "version %ld: bad public key",
                          product, name, ver);
    return 0;
}

int nk_vault_key_answer(const cJSON *resp, const char *product,
                        const char *name, long want, struct nk_kms_cached *key,
                        struct nk_err *err)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(resp, "data");
    const cJSON *latest =
        cJSON_GetObjectItemCaseSensitive(data, "latest_version");
    const cJSON *sign =
        cJSON_GetObjectItemCaseSensitive(data, "supports_signing");
    const char *type = nk_kms_jstr(data, "type"), *hash;
    enum nk_keyspec actual, spec = nk_vault_keyspec(type, &hash);

    if (spec == NK_KEYSPEC_NONE)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s transit key \"%s\" is "
                          "of type %s, which notation cannot use (rsa-2048, "
                          "rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384, "
                          "ecdsa-p521)",
                          product, name, type ? type : "?");
    if (cJSON_IsFalse(sign))
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s transit key \"%s\" does "
                          "not support signing",
                          product, name);
    key->version = want;
    /* A double out of long's range must not reach the cast (undefined). */
    if (key->version == 0 && cJSON_IsNumber(latest) &&
        latest->valuedouble >= 1 && latest->valuedouble <= NK_VAULT_MAX_VERSION)
        key->version = (long)latest->valuedouble;
    if (key->version < 1 ||
        read_pub(data, product, name, key->version, key, err) != 0)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s transit key \"%s\": no "
                          "usable version",
                          product, name);
    if (nk_keyspec_of_pkey(key->pub, &actual, err) != 0)
        return -1;
    if (actual != spec)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s transit key \"%s\" says %s "
                          "but its public key is %s",
                          product, name, type, nk_keyspec_name(actual));
    key->spec = actual;
    key->id = nk_xstrdup(name);
    return 0;
}

int nk_vault_sign_answer(const cJSON *resp, const char *what,
                         enum nk_keyspec spec, long version, int pinned,
                         long *ver, unsigned char **sig, size_t *siglen,
                         struct nk_err *err)
{
    const char *v = nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(resp, "data"),
                                "signature");
    const char *b64;

    *sig = NULL;
    *siglen = 0;
    if (nk_vault_sig_split(v, ver, &b64, err) != 0)
        return nk_err_prefix(err, "%s", what);
    if (*ver != version && (pinned || *ver < version))
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: signed with version %ld, "
                          "not %ld",
                          what, *ver, version);
    return nk_kms_sig_decode(spec, b64, what, sig, siglen, err);
}

int nk_vault_kv_answer(const cJSON *resp, const char *field, const char *what,
                       STACK_OF(X509) * *chain, struct nk_err *err)
{
    const char *pem =
        nk_kms_jstr(cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(resp, "data"), "data"),
                    field);

    if (pem == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s: no field \"%s\" in "
                          "the secret",
                          what, field);
    return nk_certs_load_mem((const unsigned char *)pem, strlen(pem), what,
                             chain, err);
}
