/* Raw signature checks (PSS salt = hash length, ECDSA r||s) and the ECDSA
 * DER <-> r||s conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rsa.h>

#include "certgen.h"
#include "common/sigcheck.h"

static unsigned char *sign_der(EVP_PKEY *k, const unsigned char *dg,
                               size_t dlen, const EVP_MD *md, int saltlen,
                               size_t *n)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
    unsigned char *sig;

    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    assert_true(EVP_PKEY_CTX_set_signature_md(ctx, md) > 0);
    if (saltlen != 0) {
        assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) >
                    0);
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, saltlen) > 0);
    }
    assert_int_equal(EVP_PKEY_sign(ctx, NULL, n, dg, dlen), 1);
    sig = malloc(*n);
    assert_int_equal(EVP_PKEY_sign(ctx, sig, n, dg, dlen), 1);
    EVP_PKEY_CTX_free(ctx);
    return sig;
}

static void test_ec_specs(void **state)
{
    static const char *const curves[] = {"EC:P-256", "EC:P-384", "EC:P-521"};
    static const enum nk_keyspec specs[] = {NK_EC_256, NK_EC_384, NK_EC_521};
    struct nk_err err = {0};
    unsigned char dg[64], *der, *raw;
    size_t i, dlen, n, rawlen;
    EVP_PKEY *k;

    (void)state;
    for (i = 0; i < 3; i++) {
        k = tg_key(curves[i]);
        dlen = nk_hash_digest(nk_keyspec_hash(specs[i]),
                              (const unsigned char *)"abc", 3, dg);
        der =
            sign_der(k, dg, dlen, nk_hash_md(nk_keyspec_hash(specs[i])), 0, &n);
        assert_int_equal(nk_ecdsa_der_to_raw(der, n,
                                             nk_keyspec_ec_width(specs[i]),
                                             &raw, &rawlen, &err),
                         0);
        assert_int_equal(rawlen, nk_keyspec_sig_len(specs[i]));
        assert_int_equal(nk_sig_check(k, specs[i], dg, dlen, raw, rawlen, &err),
                         0);
        /* DER itself is not what notation accepts. */
        assert_int_equal(nk_sig_check(k, specs[i], dg, dlen, der, n, &err), -1);
        nk_err_clear(&err);
        raw[rawlen - 1] ^= 1;
        assert_int_equal(nk_sig_check(k, specs[i], dg, dlen, raw, rawlen, &err),
                         -1);
        nk_err_clear(&err);
        free(raw);
        free(der);
        EVP_PKEY_free(k);
    }
}

static void test_rs_padding(void **state)
{
    /* r = 1, s = 0x0102: each half is left-padded to the field width. */
    static const unsigned char der[] = {0x30, 0x07, 0x02, 0x01, 0x01,
                                        0x02, 0x02, 0x01, 0x02};
    struct nk_err err = {0};
    unsigned char *raw, *back;
    size_t n, bn;

    (void)state;
    assert_int_equal(nk_ecdsa_der_to_raw(der, sizeof(der), 66, &raw, &n, &err),
                     0);
    assert_int_equal(n, 132);
    assert_int_equal(raw[65], 1);
    assert_int_equal(raw[130], 1);
    assert_int_equal(raw[131], 2);
    assert_int_equal(raw[0] | raw[64] | raw[66] | raw[129], 0);
    assert_int_equal(nk_ecdsa_raw_to_der(raw, n, &back, &bn, &err), 0);
    assert_int_equal(bn, sizeof(der));
    assert_memory_equal(back, der, bn);
    OPENSSL_free(back);
    free(raw);
    /* Too wide for the curve, trailing garbage, odd raw length. */
    assert_int_equal(nk_ecdsa_der_to_raw(der, sizeof(der), 1, &raw, &n, &err),
                     -1);
    nk_err_clear(&err);
    assert_int_equal(
        nk_ecdsa_der_to_raw(der, sizeof(der) - 1, 32, &raw, &n, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(nk_ecdsa_raw_to_der(der, 3, &back, &bn, &err), -1);
}

static void test_rsa_pss_salt(void **state)
{
    struct nk_err err = {0};
    EVP_PKEY *k = tg_key("RSA:2048");
    unsigned char dg[32], *sig;
    size_t n;

    (void)state;
    nk_hash_digest(NK_SHA256, (const unsigned char *)"abc", 3, dg);
    sig = sign_der(k, dg, 32, EVP_sha256(), 32, &n);
    assert_int_equal(nk_sig_check(k, NK_RSA_2048, dg, 32, sig, n, &err), 0);
    free(sig);
    /* A maximum-length salt verifies in general but not for notation. */
    sig = sign_der(k, dg, 32, EVP_sha256(), RSA_PSS_SALTLEN_MAX, &n);
    assert_int_equal(nk_sig_check(k, NK_RSA_2048, dg, 32, sig, n, &err), -1);
    free(sig);
    /* Wrong key spec length. */
    nk_err_clear(&err);
    assert_int_equal(nk_sig_check(k, NK_RSA_3072, dg, 32, dg, 32, &err), -1);
    EVP_PKEY_free(k);
}

static void test_keyspec_of_pkey(void **state)
{
    struct nk_err err = {0};
    enum nk_keyspec s;
    EVP_PKEY *k;

    (void)state;
    k = tg_key("EC:P-384");
    assert_int_equal(nk_keyspec_of_pkey(k, &s, &err), 0);
    assert_int_equal(s, NK_EC_384);
    assert_string_equal(nk_keyspec_jws_alg(s), "ES384");
    assert_int_equal(nk_keyspec_cose_alg(s), -35);
    EVP_PKEY_free(k);
    k = tg_key("EC:secp256k1");
    assert_int_equal(nk_keyspec_of_pkey(k, &s, &err), -1);
    assert_non_null(strstr(err.msg, "secp256k1"));
    EVP_PKEY_free(k);
    assert_int_equal(nk_keyspec_parse("RSA-4096"), NK_RSA_4096);
    assert_int_equal(nk_keyspec_hash(NK_RSA_4096), NK_SHA512);
    assert_string_equal(nk_keyspec_signing_alg(NK_RSA_3072),
                        "RSASSA-PSS-SHA-384");
    assert_int_equal(nk_keyspec_parse("rsa-4096"), NK_KEYSPEC_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ec_specs),
        cmocka_unit_test(test_rs_padding),
        cmocka_unit_test(test_rsa_pss_salt),
        cmocka_unit_test(test_keyspec_of_pkey),
    };

    return cmocka_run_group_tests_name("sigcheck", tests, NULL, NULL);
}
