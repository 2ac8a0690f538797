/* libFuzzer: what the Azure and Google backends read from the services'
 * answers without making a call. Input: one byte choosing the reader,
 * then the bytes:
 *   0 an OAuth token endpoint answer (nk_oauth_parse; nk_oauth_error_text
 *     on the same bytes as an error answer with a request id)
 *   1 an Entra ID / managed identity token answer (nk_azure_token_json)
 *   2 a Key Vault key answer: the JWK in "key" (nk_azure_jwk_pub), as
 *     azure_kv.c takes it
 *   3 a Key Vault certificate answer: its "cer" (nk_azure_cer)
 *   4 a Key Vault secret answer: "value" of "contentType"
 *     (nk_azure_secret_chain; PEM and PKCS#12)
 *   5 a PKCS#12 file as bytes (nk_azure_pfx_certs)
 *   6 Google's RFC 3339 times (nk_gcp_parse_time) and a service account
 *     file's private_key PEM (nk_jwt_key_from_pem)
 *   7 an impersonation URL (nk_gcp_impersonated_email) */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "common.h"
#include "kms/azure_auth.h"
#include "kms/azure_chain.h"
#include "kms/azure_jwk.h"
#include "kms/azure_pfx.h"
#include "kms/gcp_external.h"
#include "kms/jwt.h"
#include "kms/kms_util.h"
#include "kms/oauth.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void oauth(const uint8_t *data, size_t size, struct nk_err *err)
{
    struct nk_http_resp r;
    struct nk_oauth_token t = {0};
    char text[512];

    fx_resp(&r, 400, data, size);
    r.request_id = fx_str((const uint8_t *)"req-1", 5);
    nk_oauth_error_text(&r, text, sizeof text);
    r.status = 200;
    if (nk_oauth_parse(&r, "fuzz token endpoint", &t, err) == 0)
        nk_oauth_token_release(&t);
    nk_http_resp_release(&r);
}

static void azure_json(int kind, const cJSON *o, struct nk_err *err)
{
    struct nk_azure_token t = {0};
    EVP_PKEY *pub = NULL;
    enum nk_keyspec spec;
    X509 *leaf = NULL;
    STACK_OF(X509) *sk = NULL;

    if (kind == 1 && nk_azure_token_json(o, "fuzz token", &t, err) == 0)
        nk_azure_token_release(&t);
    else if (kind == 2)
        (void)nk_azure_jwk_pub(cJSON_GetObjectItemCaseSensitive(o, "key"),
                               "fuzz key", &pub, &spec, err);
    else if (kind == 3)
        (void)nk_azure_cer(nk_kms_jstr(o, "cer"), "fuzz cert", &leaf, err);
    else if (kind == 4)
        (void)nk_azure_secret_chain(nk_kms_jstr(o, "value"),
                                    nk_kms_jstr(o, "contentType"),
                                    "fuzz secret", &sk, err);
    EVP_PKEY_free(pub);
    X509_free(leaf);
    sk_X509_pop_free(sk, X509_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct nk_err err = {0};
    STACK_OF(X509) *sk = NULL;
    EVP_PKEY *key = NULL;
    cJSON *o = NULL;
    char *s = NULL, email[128];
    int kind;

    if (size < 1)
        return 0;
    kind = data[0] & 7;
    data++;
    size--;
    s = fx_str(data, size);
    if (kind == 0) {
        oauth(data, size, &err);
    } else if (kind <= 4) {
        o = cJSON_ParseWithLength(s, size);
        if (cJSON_IsObject(o))
            azure_json(kind, o, &err);
    } else if (kind == 5) {
        (void)nk_azure_pfx_certs(data, size, "fuzz pfx", &sk, &err);
    } else if (kind == 6) {
        (void)nk_gcp_parse_time(s);
        (void)nk_jwt_key_from_pem(s, "fuzz service account", &key, &err);
    } else {
        (void)nk_gcp_impersonated_email(s, email, sizeof email);
    }
    fx_note("%s", err.code != NK_ERR_NONE ? err.msg : "ok");
    sk_X509_pop_free(sk, X509_free);
    EVP_PKEY_free(key);
    cJSON_Delete(o);
    free(s);
    return 0;
}
