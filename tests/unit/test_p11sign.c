/* Token signature plumbing: r||s normalisation, the software PSS encoding
 * (checked by OpenSSL's own PSS verification) and CK_RV mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "pkcs11/p11.h"

static void test_ec_raw_exact(void **state)
{
    unsigned char in[132], out[132];
    struct nk_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(i + 1);
    assert_int_equal(nk_p11_ec_raw(in, 64, 32, out, &err), 0);
    assert_memory_equal(out, in, 64);
    assert_int_equal(nk_p11_ec_raw(in, 132, 66, out, &err), 0);
    assert_memory_equal(out, in, 132);
}

static void test_ec_raw_short(void **state)
{
    unsigned char in[62], out[64], want[64] = {0};
    struct nk_err err = {0};

    (void)state;
    memset(in, 0xaa, 31);
    memset(in + 31, 0xbb, 31);
    memset(want + 1, 0xaa, 31);
    memset(want + 33, 0xbb, 31);
    assert_int_equal(nk_p11_ec_raw(in, sizeof(in), 32, out, &err), 0);
    assert_memory_equal(out, want, 64);
}

static void test_ec_raw_p521_short(void **state)
{
    unsigned char in[130], out[132], want[132] = {0};
    struct nk_err err = {0};

    (void)state;
    memset(in, 0x01, 65);
    memset(in + 65, 0x02, 65);
    memset(want + 1, 0x01, 65);
    memset(want + 67, 0x02, 65);
    assert_int_equal(nk_p11_ec_raw(in, sizeof(in), 66, out, &err), 0);
    assert_memory_equal(out, want, 132);
}

static void test_ec_raw_wide_zero_padded(void **state)
{
    unsigned char in[66] = {0}, out[64], want[64];
    struct nk_err err = {0};

    (void)state;
    memset(in + 1, 0xcc, 32);
    memset(in + 34, 0xdd, 32);
    memset(want, 0xcc, 32);
    memset(want + 32, 0xdd, 32);
    assert_int_equal(nk_p11_ec_raw(in, sizeof(in), 32, out, &err), 0);
    assert_memory_equal(out, want, 64);
}

static void test_ec_raw_bad(void **state)
{
    unsigned char in[66], out[64];
    struct nk_err err = {0};

    (void)state;
    memset(in, 0xee, sizeof(in));
    assert_int_equal(nk_p11_ec_raw(in, 63, 32, out, &err), -1); /* odd */
    assert_int_equal(err.code, NK_ERR_GENERIC);
    nk_err_clear(&err);
    assert_int_equal(nk_p11_ec_raw(in, 0, 32, out, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(nk_p11_ec_raw(in, 66, 32, out, &err), -1); /* too wide */
    assert_non_null(strstr(err.msg, "too long"));
    nk_err_clear(&err);
    /* halves of 24 bytes for a 32-byte curve: 8 leading zeros dropped, the
     * most a token may drop; 23 bytes is a token fault */
    assert_int_equal(nk_p11_ec_raw(in, 48, 32, out, &err), 0);
    assert_int_equal(nk_p11_ec_raw(in, 46, 32, out, &err), -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_non_null(strstr(err.msg, "token fault"));
}

/* Encodes with nk_p11_pss_encode, does the raw RSA operation in software
 * (what a token's CKM_RSA_X_509 does), and has OpenSSL verify the result
 * as RSASSA-PSS with MGF1 of the same hash and salt = hash length. */
static void pss_roundtrip(int bits, enum nk_hash h)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char digest[64], em[1024], sig[1024];
    size_t dlen, k = ((size_t)bits + 7) / 8, siglen = sizeof(sig);
    struct nk_err err = {0};

    assert_non_null(key);
    assert_int_equal(EVP_PKEY_get_bits(key), bits);
    dlen = nk_hash_digest(h, (const unsigned char *)"payload", 7, digest);
    assert_int_equal(nk_p11_pss_encode(h, digest, dlen, bits, em, k, &err), 0);
    ctx = EVP_PKEY_CTX_new(key, NULL);
    assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
    assert_int_equal(EVP_PKEY_sign(ctx, sig, &siglen, em, k), 1);
    EVP_PKEY_CTX_free(ctx);
    ctx = EVP_PKEY_CTX_new(key, NULL);
    assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING),
                     1);
    assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, nk_hash_md(h)), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, nk_hash_md(h)), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)dlen), 1);
    assert_int_equal(EVP_PKEY_verify(ctx, sig, siglen, digest, dlen), 1);
    /* and a flipped digest bit must not verify */
    digest[0] ^= 1;
    assert_int_not_equal(EVP_PKEY_verify(ctx, sig, siglen, digest, dlen), 1);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
}

static void test_pss_2048_sha256(void **state)
{
    (void)state;
    pss_roundtrip(2048, NK_SHA256);
}

static void test_pss_3072_sha384(void **state)
{
    (void)state;
    pss_roundtrip(3072, NK_SHA384);
}

static void test_pss_odd_modulus(void **state)
{
    (void)state;
    /* modbits % 8 == 1: the encoding is one byte shorter than k */
    pss_roundtrip(1025, NK_SHA256);
    /* modbits % 8 == 7: the top two bits of the encoding are cleared */
    pss_roundtrip(2047, NK_SHA512);
}

static void test_pss_bad_args(void **state)
{
    unsigned char d[32] = {0}, em[64];
    struct nk_err err = {0};

    (void)state;
    assert_int_equal(nk_p11_pss_encode(NK_SHA256, d, 31, 2048, em, 256, &err),
                     -1);
    nk_err_clear(&err);
    /* 512-bit modulus: 64 bytes < 32 + 32 + 2 for SHA-256 with salt 32 */
    assert_int_equal(nk_p11_pss_encode(NK_SHA256, d, 32, 512, em, 64, &err),
                     -1);
}

static void test_rv_mapping(void **state)
{
    struct nk_err err = {0};

    (void)state;
    assert_int_equal(nk_p11_rv_code(CKR_PIN_INCORRECT), NK_ERR_ACCESS);
    assert_int_equal(nk_p11_rv_code(CKR_PIN_LOCKED), NK_ERR_ACCESS);
    assert_int_equal(nk_p11_rv_code(CKR_PIN_EXPIRED), NK_ERR_ACCESS);
    assert_int_equal(nk_p11_rv_code(CKR_USER_NOT_LOGGED_IN), NK_ERR_ACCESS);
    assert_int_equal(nk_p11_rv_code(CKR_KEY_FUNCTION_NOT_PERMITTED),
                     NK_ERR_VALIDATION);
    assert_int_equal(nk_p11_rv_code(CKR_MECHANISM_INVALID), NK_ERR_VALIDATION);
    assert_int_equal(nk_p11_rv_code(CKR_MECHANISM_PARAM_INVALID),
                     NK_ERR_VALIDATION);
    assert_int_equal(nk_p11_rv_code(CKR_DEVICE_ERROR), NK_ERR_GENERIC);
    assert_int_equal(nk_p11_rv_code(CKR_DEVICE_REMOVED), NK_ERR_GENERIC);
    assert_int_equal(nk_p11_rv_code(CKR_GENERAL_ERROR), NK_ERR_GENERIC);
    assert_int_equal(nk_p11_rv_code(CKR_SLOT_ID_INVALID), NK_ERR_GENERIC);
    assert_int_equal(nk_p11_rv_code(CKR_FUNCTION_REJECTED), NK_ERR_ACCESS);
    assert_int_equal(nk_p11_rv_code(0x80000001UL), NK_ERR_GENERIC);
    assert_string_equal(nk_p11_rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
    assert_string_equal(nk_p11_rv_name(0x80000001UL), "CKR_0x80000001");
    /* PKCS#11 v2.40's newer values have names too. */
    assert_string_equal(nk_p11_rv_name(CKR_CURVE_NOT_SUPPORTED),
                        "CKR_CURVE_NOT_SUPPORTED");
    assert_string_equal(nk_p11_rv_name(CKR_ACTION_PROHIBITED),
                        "CKR_ACTION_PROHIBITED");
    assert_string_equal(nk_p11_mech_name(CKM_RSA_PKCS_PSS), "CKM_RSA_PKCS_PSS");
    assert_string_equal(nk_p11_mech_name(CKM_ECDSA), "CKM_ECDSA");
    assert_int_equal(nk_p11_rv_err(&err, CKR_MECHANISM_INVALID,
                                   "token refused %s", "CKM_RSA_PKCS_PSS"),
                     -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_string_equal(
        err.msg, "token refused CKM_RSA_PKCS_PSS: CKR_MECHANISM_INVALID");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ec_raw_exact),
        cmocka_unit_test(test_ec_raw_short),
        cmocka_unit_test(test_ec_raw_p521_short),
        cmocka_unit_test(test_ec_raw_wide_zero_padded),
        cmocka_unit_test(test_ec_raw_bad),
        cmocka_unit_test(test_pss_2048_sha256),
        cmocka_unit_test(test_pss_3072_sha384),
        cmocka_unit_test(test_pss_odd_modulus),
        cmocka_unit_test(test_pss_bad_args),
        cmocka_unit_test(test_rv_mapping),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
