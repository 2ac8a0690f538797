/* Key spec tables: one row per spec so every mapping stays in step. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "keyspec.h"

struct spec_row {
    enum nk_keyspec spec;
    const char *name;
    enum nk_hash hash;
    const char *signing_alg;
    const char *jws_alg;
    int cose_alg;
    int bits;          /* RSA modulus bits, EC field bits */
    const char *curve; /* EC only */
};

static const struct spec_row rows[] = {
    {NK_RSA_2048, "RSA-2048", NK_SHA256, "RSASSA-PSS-SHA-256", "PS256", -37,
     2048, NULL},
    {NK_RSA_3072, "RSA-3072", NK_SHA384, "RSASSA-PSS-SHA-384", "PS384", -38,
     3072, NULL},
    {NK_RSA_4096, "RSA-4096", NK_SHA512, "RSASSA-PSS-SHA-512", "PS512", -39,
     4096, NULL},
    {NK_EC_256, "EC-256", NK_SHA256, "ECDSA-SHA-256", "ES256", -7, 256,
     "P-256"},
    {NK_EC_384, "EC-384", NK_SHA384, "ECDSA-SHA-384", "ES384", -35, 384,
     "P-384"},
    {NK_EC_521, "EC-521", NK_SHA512, "ECDSA-SHA-512", "ES512", -36, 521,
     "P-521"},
};

static const struct spec_row *row_of(enum nk_keyspec spec)
{
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].spec == spec)
            return &rows[i];
    return NULL;
}

const char *nk_keyspec_name(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    return r ? r->name : "unknown";
}

enum nk_keyspec nk_keyspec_parse(const char *s)
{
    size_t i;

    for (i = 0; s != NULL && i < sizeof(rows) / sizeof(rows[0]); i++)
        if (strcmp(rows[i].name, s) == 0)
            return rows[i].spec;
    return NK_KEYSPEC_NONE;
}

int nk_keyspec_is_rsa(enum nk_keyspec spec)
{
    return spec == NK_RSA_2048 || spec == NK_RSA_3072 || spec == NK_RSA_4096;
}

enum nk_hash nk_keyspec_hash(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    return r ? r->hash : NK_HASH_NONE;
}

const char *nk_keyspec_signing_alg(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    return r ? r->signing_alg : NULL;
}

const char *nk_keyspec_jws_alg(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    return r ? r->jws_alg : NULL;
}

int nk_keyspec_cose_alg(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    return r ? r->cose_alg : 0;
}

size_t nk_keyspec_ec_width(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    if (r == NULL || r->curve == NULL)
        return 0;
    return ((size_t)r->bits + 7) / 8;
}

size_t nk_keyspec_sig_len(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    if (r == NULL)
        return 0;
    if (r->curve == NULL)
        return (size_t)r->bits / 8;
    return 2 * nk_keyspec_ec_width(spec);
}

const char *nk_keyspec_curve(enum nk_keyspec spec)
{
    const struct spec_row *r = row_of(spec);

    return r ? r->curve : NULL;
}

int nk_keyspec_of_pkey(EVP_PKEY *pkey, enum nk_keyspec *out, struct nk_err *err)
{
    char group[64] = "";
    int bits;
    size_t i;

    *out = NK_KEYSPEC_NONE;
    if (pkey == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "the public key cannot be read");
    bits = EVP_PKEY_get_bits(pkey);
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
            if (rows[i].curve == NULL && rows[i].bits == bits)
                *out = rows[i].spec;
        if (*out == NK_KEYSPEC_NONE)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "RSA key of %d bits is not usable with "
                              "notation (RSA 2048, 3072 or 4096 only)",
                              bits);
        return 0;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), NULL))
            group[0] = '\0';
        if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
            *out = NK_EC_256;
        else if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
            *out = NK_EC_384;
        else if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
            *out = NK_EC_521;
        if (*out == NK_KEYSPEC_NONE)
            return nk_err_set(err, NK_ERR_VALIDATION,
                              "EC key on curve \"%s\" is not usable with "
                              "notation (P-256, P-384 or P-521 only)",
                              group[0] ? group : "unknown");
        return 0;
    }
    return nk_err_set(err, NK_ERR_VALIDATION,
                      "%s key is not usable with notation (RSA or EC only)",
                      EVP_PKEY_get0_type_name(pkey)
                          ? EVP_PKEY_get0_type_name(pkey)
                          : "unknown");
}

EVP_PKEY *nk_keyspec_pkey_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

const char *nk_hash_name(enum nk_hash h)
{
    switch (h) {
    case NK_SHA256:
        return "SHA-256";
    case NK_SHA384:
        return "SHA-384";
    case NK_SHA512:
        return "SHA-512";
    case NK_HASH_NONE:
        break;
    }
    return "unknown";
}

enum nk_hash nk_hash_parse(const char *s)
{
    if (s == NULL)
        return NK_HASH_NONE;
    if (!strcmp(s, "SHA-256"))
        return NK_SHA256;
    if (!strcmp(s, "SHA-384"))
        return NK_SHA384;
    if (!strcmp(s, "SHA-512"))
        return NK_SHA512;
    return NK_HASH_NONE;
}

size_t nk_hash_len(enum nk_hash h)
{
    switch (h) {
    case NK_SHA256:
        return 32;
    case NK_SHA384:
        return 48;
    case NK_SHA512:
        return 64;
    case NK_HASH_NONE:
        break;
    }
    return 0;
}

const EVP_MD *nk_hash_md(enum nk_hash h)
{
    switch (h) {
    case NK_SHA256:
        return EVP_sha256();
    case NK_SHA384:
        return EVP_sha384();
    case NK_SHA512:
        return EVP_sha512();
    case NK_HASH_NONE:
        break;
    }
    return NULL;
}

size_t nk_hash_digest(enum nk_hash h, const unsigned char *p, size_t n,
                      unsigned char *out)
{
    unsigned int len = 0;

    if (EVP_Digest(p, n, out, &len, nk_hash_md(h), NULL) != 1)
        return 0;
    return len;
}
