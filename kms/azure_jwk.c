/* JSON Web Keys (RFC 7517) as Key Vault and Managed HSM return them: the
 * public half of an RSA or EC key, checked against notation's specs. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "azure_jwk.h"
#include "azure_uri.h"
#include "common/b64.h"
#include "common/mem.h"
#include "kms_util.h"

/* A base64url member; empty or absent is an error. */
static int member(const cJSON *jwk, const char *name, const char *what,
                  unsigned char **out, size_t *n, struct nk_err *err)
{
    const char *v = nk_kms_jstr(jwk, name);

    if (v == NULL || v[0] == '\0')
        return nk_err_set(err, NK_ERR_GENERIC, "%s: the key has no \"%s\"",
                          what, name);
    if (nk_b64url_decode(v, name, out, n, err) != 0)
        return nk_err_prefix(err, "%s", what);
    return 0;
}

static EVP_PKEY *rsa_pub(const cJSON *jwk, const char *what, struct nk_err *err)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl = 0, el = 0;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (member(jwk, "n", what, &n, &nl, err) != 0 ||
        member(jwk, "e", what, &e, &el, err) != 0)
        goto out;
    bn = BN_bin2bn(n, (int)nl, NULL);
    be = BN_bin2bn(e, (int)el, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn != NULL && be != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        pkey = nk_keyspec_pkey_from_params("RSA", bld);
    if (pkey == NULL)
        nk_err_ssl(err, NK_ERR_GENERIC, "%s: bad RSA key (n, e)", what);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return pkey;
}

static EVP_PKEY *ec_pub(const cJSON *jwk, enum nk_keyspec spec,
                        const char *what, struct nk_err *err)
{
    size_t w = nk_keyspec_ec_width(spec), xl = 0, yl = 0;
    unsigned char *x = NULL, *y = NULL, *pt = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    if (member(jwk, "x", what, &x, &xl, err) != 0 ||
        member(jwk, "y", what, &y, &yl, err) != 0)
        goto out;
    if (xl > w || yl > w) {
        nk_err_set(err, NK_ERR_GENERIC,
                   "%s: EC coordinates longer than the "
                   "curve's %zu bytes",
                   what, w);
        goto out;
    }
    /* Uncompressed point 04 || x || y, each left-padded to the width. */
    pt = nk_xcalloc(1, 1 + 2 * w);
    pt[0] = 0x04;
    memcpy(pt + 1 + w - xl, x, xl);
    memcpy(pt + 1 + 2 * w - yl, y, yl);
    bld = OSSL_PARAM_BLD_new();
    if (bld != NULL &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        nk_keyspec_curve(spec), 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                         1 + 2 * w) == 1)
        pkey = nk_keyspec_pkey_from_params("EC", bld);
    if (pkey == NULL)
        nk_err_ssl(err, NK_ERR_GENERIC, "%s: bad EC key (x, y not on %s)", what,
                   nk_keyspec_curve(spec));
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    free(pt);
    return pkey;
}

/* RSA modulus bits from "n" without building the key. */
static int rsa_bits(const cJSON *jwk)
{
    struct nk_err e = {NK_ERR_NONE, ""};
    unsigned char *n = NULL;
    size_t nl = 0, i = 0;
    int bits;

    if (nk_b64url_decode(nk_kms_jstr(jwk, "n") ? nk_kms_jstr(jwk, "n") : "",
                         "n", &n, &nl, &e) != 0)
        return 0;
    while (i < nl && n[i] == 0)
        i++;
    bits = i < nl ? (int)(nl - i) * 8 : 0;
    free(n);
    return bits;
}

int nk_azure_jwk_pub(const cJSON *jwk, const char *what, EVP_PKEY **pub,
                     enum nk_keyspec *spec, struct nk_err *err)
{
    const char *kty = nk_kms_jstr(jwk, "kty"), *crv = nk_kms_jstr(jwk, "crv");
    enum nk_keyspec want, got;

    *pub = NULL;
    want = nk_azure_keyspec(
        kty, crv,
        kty != NULL && strncmp(kty, "RSA", 3) == 0 ? rsa_bits(jwk) : 0);
    if (want == NK_KEYSPEC_NONE)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s is %s%s%s, which "
                          "notation cannot use (RSA 2048, 3072 or 4096, EC "
                          "P-256, P-384 or P-521)",
                          what, kty ? kty : "of no key type", crv ? " " : "",
                          crv ? crv : "");
    *pub = nk_keyspec_is_rsa(want) ? rsa_pub(jwk, what, err)
                                   : ec_pub(jwk, want, what, err);
    if (*pub == NULL)
        return -1;
    if (nk_keyspec_of_pkey(*pub, &got, err) != 0 || got != want) {
        EVP_PKEY_free(*pub);
        *pub = NULL;
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: the key's numbers do not "
                          "match its type",
                          what);
    }
    *spec = want;
    return 0;
}
