/* The Azure backend's pure parts: key id forms (azurekms://, keys/ and
 * certificates/ URLs), hosts and clouds, ports, loopback http, the key id
 * check of answers, the JWK key type table, certificate secrets (PEM with
 * the key block never parsed, leaf found in any order); and the generic
 * JWT signer, whose signatures OpenSSL checks here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include <openssl/pem.h>

#include "certgen.h"
#include "common/b64.h"
#include "common/sigcheck.h"
#include "kms/azure_chain.h"
#include "kms/azure_uri.h"
#include "kms/jwt.h"

static void ok_id(const char *s, enum nk_azure_form form, const char *base,
                  const char *name, const char *version, int mhsm,
                  const char *resource)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_azure_id id;

    assert_true(nk_azure_handles(s));
    if (nk_azure_id_parse(s, &id, &err) != 0)
        fail_msg("%s: %s", s, err.msg);
    assert_int_equal(id.form, form);
    assert_string_equal(id.base, base);
    assert_string_equal(id.name, name);
    if (version == NULL)
        assert_null(id.version);
    else
        assert_string_equal(id.version, version);
    assert_int_equal(id.mhsm, mhsm);
    assert_string_equal(id.resource, resource);
    nk_azure_id_release(&id);
}

static void test_id_forms(void **state)
{
    (void)state;
    ok_id("azurekms://myvault.vault.azure.net/signer", NK_AZ_FORM_COSIGN,
          "https://myvault.vault.azure.net", "signer", NULL, 0,
          "https://vault.azure.net");
    ok_id("azurekms://myvault.vault.azure.net/signer/0123abcd",
          NK_AZ_FORM_COSIGN, "https://myvault.vault.azure.net", "signer",
          "0123abcd", 0, "https://vault.azure.net");
    ok_id("https://MyVault.vault.azure.net/keys/k-1/847956cbd58c4937ab04d8ab"
          "8622000c",
          NK_AZ_FORM_KEYS, "https://myvault.vault.azure.net", "k-1",
          "847956cbd58c4937ab04d8ab8622000c", 0, "https://vault.azure.net");
    ok_id("https://v.vault.azure.net/certificates/leaf/", NK_AZ_FORM_CERTS,
          "https://v.vault.azure.net", "leaf", NULL, 0,
          "https://vault.azure.net");
    ok_id("https://v.vault.azure.net/certificates/leaf/abc/", NK_AZ_FORM_CERTS,
          "https://v.vault.azure.net", "leaf", "abc", 0,
          "https://vault.azure.net");
    /* Sovereign clouds and Managed HSM. */
    ok_id("https://v.vault.azure.cn/keys/k", NK_AZ_FORM_KEYS,
          "https://v.vault.azure.cn", "k", NULL, 0, "https://vault.azure.cn");
    ok_id("https://v.vault.usgovcloudapi.net:8443/keys/k", NK_AZ_FORM_KEYS,
          "https://v.vault.usgovcloudapi.net:8443", "k", NULL, 0,
          "https://vault.usgovcloudapi.net");
    ok_id("https://hsm1.managedhsm.azure.net/keys/k/1", NK_AZ_FORM_KEYS,
          "https://hsm1.managedhsm.azure.net", "k", "1", 1,
          "https://managedhsm.azure.net");
    /* The default port is dropped, as in the service's own key ids. */
    ok_id("https://v.vault.azure.net:443/keys/k", NK_AZ_FORM_KEYS,
          "https://v.vault.azure.net", "k", NULL, 0, "https://vault.azure.net");
    /* Loopback mocks: http allowed, port kept. */
    ok_id("http://127.0.0.1:8080/keys/k/v1", NK_AZ_FORM_KEYS,
          "http://127.0.0.1:8080", "k", "v1", 0, "https://vault.azure.net");
    ok_id("https://localhost:9/certificates/c", NK_AZ_FORM_CERTS,
          "https://localhost:9", "c", NULL, 0, "https://vault.azure.net");
    ok_id("http://[::1]:81/keys/k", NK_AZ_FORM_KEYS, "http://[::1]:81", "k",
          NULL, 0, "https://vault.azure.net");
}

static void test_id_refused(void **state)
{
    static const char *const bad[] = {
        "azurekms://",
        "azurekms://v.vault.azure.net",
        "azurekms://v.vault.azure.net/",
        "azurekms://v.vault.azure.net/a/b/c",
        "azurekms://example.com/k",
        "https://v.vault.azure.net/secrets/s",
        "https://v.vault.azure.net/keys/",
        "https://v.vault.azure.net/keys/k/v/sign",
        "https://v.vault.azure.net/keys/k_1",
        "https://v.vault.azure.net/keys/k?api-version=7.4",
        "https://v.vault.azure.net/keys/k#x",
        "https://v.vault.azure.net/keys/a%2fb",
        "https://user:pw@v.vault.azure.net/keys/k",
        "https://v.vault.azure.net:0/keys/k",
        "https://v.vault.azure.net:70000/keys/k",
        "https://v.vault.azure.net:8x/keys/k",
        "https://a.b.vault.azure.net/keys/k",
        "https://.vault.azure.net/keys/k",
        "https://vault.azure.net/keys/k",
        "https://v.vault.azure.net.evil.example/keys/k",
        "http://v.vault.azure.net/keys/k",
        "http://10.0.0.1/keys/k",
        "https://hsm.managedhsm.azure.net/certificates/c",
        "https://v.vault.azure.net/keys/k/ver sion",
        "ftp://v.vault.azure.net/keys/k",
    };
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_azure_id id;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        if (nk_azure_id_parse(bad[i], &id, &err) == 0)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        assert_non_null(strstr(err.msg, "bad Azure key id"));
        assert_null(id.base);
    }
    assert_false(nk_azure_handles("awskms:///alias/x"));
    assert_false(nk_azure_handles("pkcs11:token=t"));
    assert_false(nk_azure_handles("gcpkms://projects/p"));
    /* The reasons people need. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        nk_azure_id_parse("http://v.vault.azure.net/keys/k", &id, &err), -1);
    assert_non_null(strstr(err.msg, "loopback"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        nk_azure_id_parse("https://h.managedhsm.azure.net/certificates/c", &id,
                          &err),
        -1);
    assert_non_null(strstr(err.msg, "keys only"));
}

static void test_kid_check(void **state)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_azure_id id;
    char *v = NULL;

    (void)state;
    assert_int_equal(
        nk_azure_id_parse("https://v.vault.azure.net/certificates/Leaf", &id,
                          &err),
        0);
    assert_int_equal(nk_azure_kid_check(&id,
                                        "https://v.vault.azure.net/keys/leaf/"
                                        "0a1b",
                                        "sign", &v, &err),
                     0);
    assert_string_equal(v, "0a1b");
    free(v);
    /* Another host, another key, no version, not a key: refused. */
    assert_int_equal(nk_azure_kid_check(&id,
                                        "https://w.vault.azure.net/keys/leaf/1",
                                        "sign", &v, &err),
                     -1);
    assert_int_equal(err.code, NK_ERR_GENERIC);
    assert_null(v);
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        nk_azure_kid_check(&id, "https://v.vault.azure.net/keys/other/1",
                           "sign", &v, &err),
        -1);
    memset(&err, 0, sizeof(err));
    assert_int_equal(nk_azure_kid_check(&id,
                                        "https://v.vault.azure.net/keys/leaf",
                                        "sign", &v, &err),
                     -1);
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        nk_azure_kid_check(&id, "https://v.vault.azure.net/secrets/leaf/1",
                           "sign", &v, &err),
        -1);
    memset(&err, 0, sizeof(err));
    assert_int_equal(nk_azure_kid_check(&id, NULL, "sign", &v, &err), -1);
    nk_azure_id_release(&id);
}

static void test_keyspec(void **state)
{
    (void)state;
    assert_int_equal(nk_azure_keyspec("RSA", NULL, 2048), NK_RSA_2048);
    assert_int_equal(nk_azure_keyspec("RSA-HSM", NULL, 3072), NK_RSA_3072);
    assert_int_equal(nk_azure_keyspec("RSA", NULL, 4096), NK_RSA_4096);
    assert_int_equal(nk_azure_keyspec("RSA", NULL, 1024), NK_KEYSPEC_NONE);
    assert_int_equal(nk_azure_keyspec("EC", "P-256", 0), NK_EC_256);
    assert_int_equal(nk_azure_keyspec("EC-HSM", "P-384", 0), NK_EC_384);
    assert_int_equal(nk_azure_keyspec("EC", "P-521", 0), NK_EC_521);
    assert_int_equal(nk_azure_keyspec("EC", "P-256K", 0), NK_KEYSPEC_NONE);
    assert_int_equal(nk_azure_keyspec("oct-HSM", NULL, 256), NK_KEYSPEC_NONE);
    assert_int_equal(nk_azure_keyspec(NULL, NULL, 0), NK_KEYSPEC_NONE);
    assert_string_equal(nk_azure_alg(NK_RSA_2048), "PS256");
    assert_string_equal(nk_azure_alg(NK_RSA_3072), "PS384");
    assert_string_equal(nk_azure_alg(NK_RSA_4096), "PS512");
    assert_string_equal(nk_azure_alg(NK_EC_256), "ES256");
    assert_string_equal(nk_azure_alg(NK_EC_384), "ES384");
    assert_string_equal(nk_azure_alg(NK_EC_521), "ES512");
    assert_null(nk_azure_alg(NK_KEYSPEC_NONE));
}

/* Checks a compact JWS with OpenSSL; returns the decoded header. */
static cJSON *check_jws(const char *jws, EVP_PKEY *pub, enum nk_jwt_alg alg)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    const char *dot1 = strchr(jws, '.'), *dot2;
    unsigned char *sig, *hdr, *der = NULL;
    size_t slen, hlen, dlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    char *head;
    cJSON *h;

    assert_non_null(dot1);
    dot2 = strchr(dot1 + 1, '.');
    assert_non_null(dot2);
    head = strndup(jws, (size_t)(dot1 - jws));
    assert_int_equal(nk_b64url_decode(head, "h", &hdr, &hlen, &err), 0);
    assert_int_equal(nk_b64url_decode(dot2 + 1, "s", &sig, &slen, &err), 0);
    if (alg == NK_JWT_ES256) {
        assert_int_equal(slen, 64);
        assert_int_equal(nk_ecdsa_raw_to_der(sig, slen, &der, &dlen, &err), 0);
    }
    assert_int_equal(EVP_DigestVerifyInit(md, &pc, EVP_sha256(), NULL, pub), 1);
    if (alg == NK_JWT_PS256) {
        assert_int_equal(
            EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 32), 1);
    }
    assert_int_equal(EVP_DigestVerify(md, der ? der : sig, der ? dlen : slen,
                                      (const unsigned char *)jws,
                                      (size_t)(dot2 - jws)),
                     1);
    h = cJSON_Parse((const char *)hdr);
    assert_non_null(h);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    free(sig);
    free(hdr);
    free(head);
    return h;
}

static void test_jwt(void **state)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
    EVP_PKEY *ec384 = EVP_EC_gen("P-384");
    cJSON *claims = cJSON_CreateObject(), *extra = cJSON_CreateObject(), *h;
    char *jws = NULL;

    (void)state;
    cJSON_AddStringToObject(claims, "iss", "client");
    cJSON_AddNumberToObject(claims, "exp", 1700000000);
    cJSON_AddStringToObject(extra, "x5t#S256", "abc");
    cJSON_AddStringToObject(extra, "alg", "none"); /* never overrides */

    assert_int_equal(nk_jwt_sign(extra, claims, rsa, NK_JWT_PS256, &jws, &err),
                     0);
    h = check_jws(jws, rsa, NK_JWT_PS256);
    assert_string_equal(cJSON_GetObjectItem(h, "alg")->valuestring, "PS256");
    assert_string_equal(cJSON_GetObjectItem(h, "typ")->valuestring, "JWT");
    assert_string_equal(cJSON_GetObjectItem(h, "x5t#S256")->valuestring, "abc");
    cJSON_Delete(h);
    free(jws);

    assert_int_equal(nk_jwt_sign(NULL, claims, rsa, NK_JWT_RS256, &jws, &err),
                     0);
    cJSON_Delete(check_jws(jws, rsa, NK_JWT_RS256));
    free(jws);

    assert_int_equal(nk_jwt_sign(NULL, claims, ec, NK_JWT_ES256, &jws, &err),
                     0);
    cJSON_Delete(check_jws(jws, ec, NK_JWT_ES256));
    free(jws);

    /* Keys that do not fit the algorithm. */
    assert_int_equal(nk_jwt_sign(NULL, claims, ec, NK_JWT_PS256, &jws, &err),
                     -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_null(jws);
    memset(&err, 0, sizeof(err));
    assert_int_equal(nk_jwt_sign(NULL, claims, ec384, NK_JWT_ES256, &jws, &err),
                     -1);
    memset(&err, 0, sizeof(err));
    assert_int_equal(nk_jwt_sign(NULL, claims, rsa, NK_JWT_ES256, &jws, &err),
                     -1);
    cJSON_Delete(claims);
    cJSON_Delete(extra);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ec384);
}

static void pem_append(char **s, X509 *c)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p, *n;
    long len;

    PEM_write_bio_X509(b, c);
    len = BIO_get_mem_data(b, &p);
    n = malloc(strlen(*s) + (size_t)len + 1);
    sprintf(n, "%s%.*s", *s, (int)len, p);
    free(*s);
    *s = n;
    BIO_free(b);
}

static void test_secret_chain(void **state)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    EVP_PKEY *rk = tg_key("EC:P-256"), *ik = tg_key("EC:P-256");
    EVP_PKEY *lk = tg_key("EC:P-256"), *ok = tg_key("EC:P-256");
    X509 *root = tg_cert("root", rk, NULL, rk, -60, 3600, "critical,CA:true",
                         "critical,keyCertSign", NULL, EVP_sha256());
    X509 *inter = tg_cert("inter", ik, root, rk, -60, 3600, "critical,CA:true",
                          "critical,keyCertSign", NULL, EVP_sha256());
    X509 *leaf =
        tg_cert("leaf", lk, inter, ik, -60, 3600, "CA:false",
                "critical,digitalSignature", "codeSigning", EVP_sha256());
    X509 *other =
        tg_cert("other", ok, inter, ik, -60, 3600, "CA:false",
                "critical,digitalSignature", "codeSigning", EVP_sha256());
    /* A key block first, as Key Vault writes it; then root, leaf, inter:
     * any order. The "key" is not PEM at all: it must not be parsed. */
    char *pem = strdup("-----BEGIN PRIVATE KEY-----\nnot base64 !!\n"
                       "-----END PRIVATE KEY-----\n");
    STACK_OF(X509) *sk = NULL;

    (void)state;
    pem_append(&pem, root);
    pem_append(&pem, leaf);
    pem_append(&pem, inter);
    pem_append(&pem, leaf); /* repeated: dropped */
    assert_int_equal(nk_azure_secret_chain(pem, "application/x-pem-file",
                                           "secret", &sk, &err),
                     0);
    assert_int_equal(sk_X509_num(sk), 3);
    assert_int_equal(X509_cmp(sk_X509_value(sk, 0), leaf), 0);
    sk_X509_pop_free(sk, X509_free);

    /* Two leaves: no single one to sign with. */
    pem_append(&pem, other);
    assert_int_equal(nk_azure_secret_chain(pem, "application/x-pem-file",
                                           "secret", &sk, &err),
                     -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "no single leaf"));
    assert_null(sk);

    /* Another content type, and a PEM without certificates. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(
        nk_azure_secret_chain("x", "text/plain", "secret", &sk, &err), -1);
    assert_non_null(strstr(err.msg, "text/plain"));
    memset(&err, 0, sizeof(err));
    assert_int_equal(nk_azure_secret_chain("-----BEGIN PRIVATE KEY-----",
                                           "application/x-pem-file", "secret",
                                           &sk, &err),
                     -1);
    memset(&err, 0, sizeof(err));
    assert_int_equal(nk_azure_secret_chain("!!", "application/x-pkcs12",
                                           "secret", &sk, &err),
                     -1);
    free(pem);
    X509_free(root);
    X509_free(inter);
    X509_free(leaf);
    X509_free(other);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ik);
    EVP_PKEY_free(lk);
    EVP_PKEY_free(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_forms),  cmocka_unit_test(test_id_refused),
        cmocka_unit_test(test_kid_check), cmocka_unit_test(test_keyspec),
        cmocka_unit_test(test_jwt),       cmocka_unit_test(test_secret_chain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
