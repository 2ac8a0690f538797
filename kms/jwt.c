/* Compact JWS signing with OpenSSL EVP: RS256, PS256 and ES256. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/b64.h"
#include "common/json.h"
#include "common/mem.h"
#include "common/sigcheck.h"
#include "jwt.h"

const char *nk_jwt_alg_name(enum nk_jwt_alg alg)
{
    switch (alg) {
    case NK_JWT_RS256:
        return "RS256";
    case NK_JWT_PS256:
        return "PS256";
    case NK_JWT_ES256:
        return "ES256";
    default:
        return "?";
    }
}

/* The key must be RSA (2048 bits or more) for RS/PS, P-256 for ES256. */
static int key_fits(EVP_PKEY *key, enum nk_jwt_alg alg, struct nk_err *err)
{
    char curve[32] = "";
    size_t n = 0;

    if (alg == NK_JWT_ES256) {
        if (EVP_PKEY_is_a(key, "EC") &&
            EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof(curve),
                                           &n) == 1 &&
            strcmp(curve, "prime256v1") == 0)
            return 0;
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "ES256 needs an EC P-256 key");
    }
    if ((alg == NK_JWT_RS256 || alg == NK_JWT_PS256) &&
        EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048)
        return 0;
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "%s needs an RSA key of 2048 "
                      "bits or more",
                      nk_jwt_alg_name(alg));
}

/* base64url(JSON text of o). */
static char *part(const cJSON *o)
{
    char *text = nk_json_print(o), *b;

    b = nk_b64url_encode((const unsigned char *)text, strlen(text));
    cJSON_free(text);
    return b;
}

static char *header_part(const cJSON *extra, enum nk_jwt_alg alg)
{
    cJSON *h = cJSON_CreateObject();
    const cJSON *it;
    char *b;

    nk_json_add_string(h, "alg", nk_jwt_alg_name(alg));
    if (cJSON_GetObjectItemCaseSensitive(extra, "typ") == NULL)
        nk_json_add_string(h, "typ", "JWT");
    cJSON_ArrayForEach(it, extra) if (strcmp(it->string, "alg") != 0)
        cJSON_AddItemToObject(h, it->string, cJSON_Duplicate(it, 1));
    b = part(h);
    cJSON_Delete(h);
    return b;
}

/* The signature over input in JWS form (r||s for ES256). */
static int sign_input(EVP_PKEY *key, enum nk_jwt_alg alg, const char *input,
                      unsigned char **sig, size_t *slen, struct nk_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    unsigned char *der = NULL;
    size_t n = 0;
    int ret = -1;

    *sig = NULL;
    if (md == NULL ||
        EVP_DigestSignInit(md, &pc, EVP_sha256(), NULL, key) != 1 ||
        (alg == NK_JWT_PS256 &&
         (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha256()) != 1)) ||
        EVP_DigestSign(md, NULL, &n, (const unsigned char *)input,
                       strlen(input)) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot sign the %s JWT",
                   nk_jwt_alg_name(alg));
        goto out;
    }
    der = nk_xmalloc(n);
    if (EVP_DigestSign(md, der, &n, (const unsigned char *)input,
                       strlen(input)) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot sign the %s JWT",
                   nk_jwt_alg_name(alg));
        goto out;
    }
    if (alg == NK_JWT_ES256) {
        ret = nk_ecdsa_der_to_raw(der, n, 32, sig, slen, err);
        goto out;
    }
    *sig = der;
    *slen = n;
    der = NULL;
    ret = 0;
out:
    free(der);
    EVP_MD_CTX_free(md);
    return ret;
}

int nk_jwt_sign(const cJSON *header, const cJSON *claims, EVP_PKEY *key,
                enum nk_jwt_alg alg, char **out, struct nk_err *err)
{
    char *h = NULL, *c = NULL, *input = NULL, *s = NULL;
    unsigned char *sig = NULL;
    size_t slen = 0;
    int ret = -1;

    *out = NULL;
    if (key_fits(key, alg, err) != 0)
        return -1;
    h = header_part(header, alg);
    c = part(claims);
    input = nk_xasprintf("%s.%s", h, c);
    if (sign_input(key, alg, input, &sig, &slen, err) != 0)
        goto out;
    s = nk_b64url_encode(sig, slen);
    *out = nk_xasprintf("%s.%s", input, s);
    ret = 0;
out:
    free(h);
    free(c);
    free(input);
    free(s);
    free(sig);
    return ret;
}

/* Gives no password: an encrypted key fails rather than OpenSSL's default
 * callback prompting on a terminal the plugin does not own. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

int nk_jwt_key_from_pem(const char *pem, const char *what, EVP_PKEY **out,
                        struct nk_err *err)
{
    BIO *bio = pem != NULL ? BIO_new_mem_buf(pem, -1) : NULL;

    *out = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL)
                       : NULL;
    BIO_free(bio);
    if (*out == NULL) {
        /* OpenSSL's error queue may quote nothing of the key; say only
         * that it is unusable. */
        ERR_clear_error();
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s: not an unencrypted PEM private key", what);
    }
    return 0;
}
