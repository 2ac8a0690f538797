/* Unit tests for the key spec tables (plugin/common/keyspec.c) against the
 * values the specs give: notation's key specs and signing algorithms, the
 * JOSE (RFC 7518) and COSE (RFC 8152/8230) algorithm identifiers, and the
 * keys notation cannot use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/keyspec.h"

static const struct {
    enum nk_keyspec spec;
    const char *name, *hash, *alg, *jws, *curve;
    int cose;
    size_t sig_len, ec_width;
} want[] = {
    {NK_RSA_2048, "RSA-2048", "SHA-256", "RSASSA-PSS-SHA-256", "PS256", NULL,
     -37, 256, 0},
    {NK_RSA_3072, "RSA-3072", "SHA-384", "RSASSA-PSS-SHA-384", "PS384", NULL,
     -38, 384, 0},
    {NK_RSA_4096, "RSA-4096", "SHA-512", "RSASSA-PSS-SHA-512", "PS512", NULL,
     -39, 512, 0},
    {NK_EC_256, "EC-256", "SHA-256", "ECDSA-SHA-256", "ES256", "P-256", -7, 64,
     32},
    {NK_EC_384, "EC-384", "SHA-384", "ECDSA-SHA-384", "ES384", "P-384", -35, 96,
     48},
    {NK_EC_521, "EC-521", "SHA-512", "ECDSA-SHA-512", "ES512", "P-521", -36,
     132, 66},
};

static void test_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        enum nk_keyspec s = want[i].spec;

        assert_string_equal(nk_keyspec_name(s), want[i].name);
        assert_int_equal(nk_keyspec_parse(want[i].name), s);
        assert_string_equal(nk_hash_name(nk_keyspec_hash(s)), want[i].hash);
        assert_string_equal(nk_keyspec_signing_alg(s), want[i].alg);
        assert_string_equal(nk_keyspec_jws_alg(s), want[i].jws);
        assert_int_equal(nk_keyspec_cose_alg(s), want[i].cose);
        assert_int_equal(nk_keyspec_sig_len(s), want[i].sig_len);
        assert_int_equal(nk_keyspec_ec_width(s), want[i].ec_width);
        assert_int_equal(nk_keyspec_is_rsa(s), want[i].curve == NULL);
        if (want[i].curve == NULL)
            assert_null(nk_keyspec_curve(s));
        else
            assert_string_equal(nk_keyspec_curve(s), want[i].curve);
    }
}

/* Names are exact: no other case, no other spelling. */
static void test_unknown(void **state)
{
    (void)state;
    assert_int_equal(nk_keyspec_parse(NULL), NK_KEYSPEC_NONE);
    assert_int_equal(nk_keyspec_parse("rsa-2048"), NK_KEYSPEC_NONE);
    assert_int_equal(nk_keyspec_parse("EC-224"), NK_KEYSPEC_NONE);
    assert_int_equal(nk_keyspec_parse("RSA-2048 "), NK_KEYSPEC_NONE);
    assert_string_equal(nk_keyspec_name(NK_KEYSPEC_NONE), "unknown");
    assert_int_equal(nk_keyspec_hash(NK_KEYSPEC_NONE), NK_HASH_NONE);
    assert_null(nk_keyspec_signing_alg(NK_KEYSPEC_NONE));
    assert_null(nk_keyspec_jws_alg(NK_KEYSPEC_NONE));
    assert_null(nk_keyspec_curve(NK_KEYSPEC_NONE));
    assert_int_equal(nk_keyspec_cose_alg(NK_KEYSPEC_NONE), 0);
    assert_int_equal(nk_keyspec_sig_len(NK_KEYSPEC_NONE), 0);
    assert_int_equal(nk_keyspec_ec_width(NK_KEYSPEC_NONE), 0);
    assert_false(nk_keyspec_is_rsa(NK_KEYSPEC_NONE));

    assert_int_equal(nk_hash_parse(NULL), NK_HASH_NONE);
    assert_int_equal(nk_hash_parse("SHA256"), NK_HASH_NONE);
    assert_int_equal(nk_hash_parse("sha-256"), NK_HASH_NONE);
    assert_string_equal(nk_hash_name(NK_HASH_NONE), "unknown");
    assert_int_equal(nk_hash_len(NK_HASH_NONE), 0);
    assert_null(nk_hash_md(NK_HASH_NONE));
}

/* Each hash against OpenSSL's own digest by name. */
static void test_hashes(void **state)
{
    static const char *const names[] = {"SHA-256", "SHA-384", "SHA-512"};
    static const char *const ossl[] = {"SHA256", "SHA384", "SHA512"};
    static const unsigned char msg[] = "abc";
    unsigned char got[64], ref[64];
    unsigned int reflen = 0;
    enum nk_hash h;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        h = nk_hash_parse(names[i]);
        assert_int_not_equal(h, NK_HASH_NONE);
        assert_string_equal(nk_hash_name(h), names[i]);
        assert_int_equal(EVP_Digest(msg, 3, ref, &reflen,
                                    EVP_get_digestbyname(ossl[i]), NULL),
                         1);
        assert_int_equal(nk_hash_len(h), reflen);
        assert_int_equal(nk_hash_digest(h, msg, 3, got), reflen);
        assert_memory_equal(got, ref, reflen);
    }
}

static void expect_spec(EVP_PKEY *k, enum nk_keyspec spec, const char *msg)
{
    struct nk_err err = {0};
    enum nk_keyspec got = NK_KEYSPEC_NONE;

    assert_non_null(k);
    if (msg == NULL) {
        assert_int_equal(nk_keyspec_of_pkey(k, &got, &err), 0);
        assert_int_equal(got, spec);
    } else {
        assert_int_equal(nk_keyspec_of_pkey(k, &got, &err), -1);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        assert_string_equal(err.msg, msg);
    }
    EVP_PKEY_free(k);
}

static void test_of_pkey(void **state)
{
    (void)state;
    expect_spec(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), NK_EC_256, NULL);
    expect_spec(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), NK_EC_384, NULL);
    expect_spec(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"), NK_EC_521, NULL);
    expect_spec(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), NK_RSA_2048,
                NULL);
    expect_spec(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024),
                NK_KEYSPEC_NONE,
                "RSA key of 1024 bits is not usable with notation (RSA 2048, "
                "3072 or 4096 only)");
    expect_spec(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1"),
                NK_KEYSPEC_NONE,
                "EC key on curve \"secp256k1\" is not usable with notation "
                "(P-256, P-384 or P-521 only)");
    expect_spec(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), NK_KEYSPEC_NONE,
                "ED25519 key is not usable with notation (RSA or EC only)");
}

/* A P-256 point (ptlen bytes) as OSSL params. */
static OSSL_PARAM_BLD *p256_params(const unsigned char *pt, size_t ptlen)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();

    assert_non_null(bld);
    assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(
                         bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0),
                     1);
    assert_int_equal(OSSL_PARAM_BLD_push_octet_string(
                         bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptlen),
                     1);
    return bld;
}

/* The key of type built from bld is pub (NULL: none is built); bld is
 * freed. */
static void expect_from_params(const char *type, OSSL_PARAM_BLD *bld,
                               const EVP_PKEY *pub)
{
    EVP_PKEY *k = nk_keyspec_pkey_from_params(type, bld);

    if (pub == NULL)
        assert_null(k);
    else {
        assert_non_null(k);
        assert_int_equal(EVP_PKEY_eq(k, pub), 1);
    }
    EVP_PKEY_free(k);
    OSSL_PARAM_BLD_free(bld);
}

/* A key rebuilt from another key's public parameters is that key's public
 * half; parameters OpenSSL refuses give NULL. */
static void test_pkey_from_params(void **state)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *n = NULL, *e = NULL;
    unsigned char pt[65];
    size_t ptlen = 0;

    (void)state;
    assert_non_null(rsa);
    assert_non_null(ec);
    assert_non_null(bld);
    assert_int_equal(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    assert_int_equal(EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e), 1);
    expect_from_params("RSA", bld, rsa);

    assert_int_equal(EVP_PKEY_get_octet_string_param(
                         ec, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen),
                     1);
    expect_from_params("EC", p256_params(pt, ptlen), ec);
    expect_from_params("NO-SUCH-TYPE", p256_params(pt, ptlen), NULL);
    /* A point that is not on the curve. */
    pt[ptlen - 1] ^= 1;
    expect_from_params("EC", p256_params(pt, ptlen), NULL);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_hashes),
        cmocka_unit_test(test_of_pkey),
        cmocka_unit_test(test_pkey_from_params),
    };

    return cmocka_run_group_tests_name("keyspec", tests, NULL, NULL);
}
