/* The Google Cloud KMS backend's pure helpers: CRC-32C against the RFC
 * 3720 vectors, gcpkms:// key ids, the algorithm table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kms/crc32c.h"
#include "kms/gcp_uri.h"

/* RFC 3720 appendix B.4 (the CRC there is shown in wire order, little
 * endian) and the usual check value of "123456789". */
static void test_crc32c(void **state)
{
    unsigned char buf[32];
    size_t i;

    (void)state;
    assert_int_equal(nk_crc32c("123456789", 9), 0xE3069283u);
    assert_int_equal(nk_crc32c("", 0), 0);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof(buf));
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x62A8AB43u);
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)i;
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x46DD794Eu);
    for (i = 0; i < sizeof(buf); i++)
        buf[i] = (unsigned char)(31 - i);
    assert_int_equal(nk_crc32c(buf, sizeof(buf)), 0x113FDB5Cu);
}

static void test_uri(void **state)
{
    static const char *const bad[] = {
        "gcpkms://",
        "gcpkms://projects/p",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/0",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/01",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/1/",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/1?alt=json",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/1x",
        "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "keyVersions/1",
        "gcpkms://projects/p/locations/l/keyRings/../cryptoKeys/k/"
        "cryptoKeyVersions/1",
        "gcpkms://projects/p/locations/l.x/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/1",
        "gcpkms://projects//locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/1",
        "gcpkms://projects/p%2f/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/1",
        "gcpkms:///projects/p/locations/l/keyRings/r/cryptoKeys/k/"
        "cryptoKeyVersions/1",
        "awskms:///alias/x",
    };
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_gcp_key k;
    size_t i;

    (void)state;
    assert_int_equal(nk_gcp_uri_parse("gcpkms://projects/my-proj/locations/"
                                      "europe-west1/keyRings/notation/"
                                      "cryptoKeys/release/"
                                      "cryptoKeyVersions/12",
                                      &k, &err),
                     0);
    assert_string_equal(k.name, "projects/my-proj/locations/europe-west1/"
                                "keyRings/notation/cryptoKeys/release/"
                                "cryptoKeyVersions/12");
    assert_string_equal(k.location, "europe-west1");
    assert_string_equal(k.key_ring, "notation");
    assert_string_equal(k.key, "release");
    assert_string_equal(k.version, "12");
    nk_gcp_key_release(&k);
    /* cosign's short form and a domain-scoped project. */
    assert_int_equal(nk_gcp_uri_parse("gcpkms://projects/example.com:proj/"
                                      "locations/global/keyRings/R_1/"
                                      "cryptoKeys/K-2/versions/3",
                                      &k, &err),
                     0);
    assert_string_equal(k.name, "projects/example.com:proj/locations/global/"
                                "keyRings/R_1/cryptoKeys/K-2/"
                                "cryptoKeyVersions/3");
    nk_gcp_key_release(&k);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        nk_err_clear(&err);
        assert_int_equal(nk_gcp_uri_parse(bad[i], &k, &err), -1);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        assert_non_null(strstr(err.msg, "bad Google Cloud KMS key id"));
        assert_null(k.name);
    }
    /* No version: say how to find one, not just "bad". */
    nk_err_clear(&err);
    assert_int_equal(nk_gcp_uri_parse("gcpkms://projects/p/locations/l/"
                                      "keyRings/r/cryptoKeys/k",
                                      &k, &err),
                     -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "names no key version: add "
                                    "/cryptoKeyVersions/<n>"));
    assert_non_null(strstr(err.msg, "gcloud kms keys versions list "
                                    "--location l --keyring r --key k"));
    assert_non_null(strstr(err.msg, "sort as strings"));
}

static void test_algs(void **state)
{
    static const struct {
        const char *alg;
        enum nk_keyspec spec;
        const char *why;
    } t[] = {
        {"RSA_SIGN_PSS_2048_SHA256", NK_RSA_2048, NULL},
        {"RSA_SIGN_PSS_4096_SHA512", NK_RSA_4096, NULL},
        {"EC_SIGN_P256_SHA256", NK_EC_256, NULL},
        {"EC_SIGN_P384_SHA384", NK_EC_384, NULL},
        {"RSA_SIGN_PSS_3072_SHA256", NK_KEYSPEC_NONE, "RSA-3072 with SHA-384"},
        {"RSA_SIGN_PSS_3072_SHA256", NK_KEYSPEC_NONE, "algorithm's hash only"},
        {"RSA_SIGN_PSS_4096_SHA256", NK_KEYSPEC_NONE, "RSA-4096 with SHA-512"},
        {"RSA_SIGN_PSS_4096_SHA256", NK_KEYSPEC_NONE, "algorithm's hash only"},
        {"RSA_SIGN_PKCS1_2048_SHA256", NK_KEYSPEC_NONE, "not PKCS#1 v1.5"},
        {"RSA_SIGN_RAW_PKCS1_3072", NK_KEYSPEC_NONE, "not PKCS#1 v1.5"},
        {"EC_SIGN_SECP256K1_SHA256", NK_KEYSPEC_NONE, "NIST curves"},
        {"EC_SIGN_ED25519", NK_KEYSPEC_NONE, "ECDSA on NIST curves"},
        {"RSA_DECRYPT_OAEP_2048_SHA256", NK_KEYSPEC_NONE, "decryption key"},
        {"GOOGLE_SYMMETRIC_ENCRYPTION", NK_KEYSPEC_NONE, "symmetric"},
        {"HMAC_SHA256", NK_KEYSPEC_NONE, "MAC key"},
        {"ML_DSA_65", NK_KEYSPEC_NONE, "ECDSA on NIST curves"},
        {NULL, NK_KEYSPEC_NONE, "ECDSA on NIST curves"},
    };
    const char *why;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(nk_gcp_alg_spec(t[i].alg, &why), t[i].spec);
        if (t[i].why == NULL)
            assert_null(why);
        else
            assert_non_null(strstr(why, t[i].why));
    }
    assert_string_equal(nk_gcp_alg_of(NK_EC_384), "EC_SIGN_P384_SHA384");
    assert_string_equal(nk_gcp_alg_of(NK_RSA_4096), "RSA_SIGN_PSS_4096_SHA512");
    assert_null(nk_gcp_alg_of(NK_RSA_3072));
    assert_null(nk_gcp_alg_of(NK_EC_521));
    assert_string_equal(nk_gcp_digest_field(NK_RSA_4096), "sha512");
    assert_string_equal(nk_gcp_digest_field(NK_EC_384), "sha384");
    assert_string_equal(nk_gcp_digest_field(NK_EC_256), "sha256");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_uri),
        cmocka_unit_test(test_algs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
