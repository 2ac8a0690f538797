/* kms/jwt: compact JWS signed with RS256, PS256 and ES256, each checked
 * with OpenSSL directly (PSS with salt = 32, ECDSA from r||s), the header
 * rules, keys that do not suit the algorithm, and PEM keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/b64.h"
#include "common/sigcheck.h"
#include "kms/jwt.h"

static EVP_PKEY *rsa_key;
static EVP_PKEY *ec_key;

static int setup(void **state)
{
    (void)state;
    rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return rsa_key != NULL && ec_key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa_key);
    EVP_PKEY_free(ec_key);
    return 0;
}

/* Splits tok into its three parts (malloc'd copies). */
static void split(const char *tok, char **h, char **c, char **s)
{
    const char *d1 = strchr(tok, '.'), *d2;

    assert_non_null(d1);
    d2 = strchr(d1 + 1, '.');
    assert_non_null(d2);
    assert_null(strchr(d2 + 1, '.'));
    *h = strndup(tok, (size_t)(d1 - tok));
    *c = strndup(d1 + 1, (size_t)(d2 - d1 - 1));
    *s = strdup(d2 + 1);
}

static cJSON *decode_json(const char *b64)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    unsigned char *raw = NULL;
    size_t n = 0;
    cJSON *o;

    assert_int_equal(nk_b64url_decode(b64, "part", &raw, &n, &err), 0);
    o = cJSON_ParseWithLength((const char *)raw, n);
    free(raw);
    assert_non_null(o);
    return o;
}

/* OpenSSL's own verdict on the JWS signature of tok. */
static int verify(EVP_PKEY *pub, enum nk_jwt_alg alg, const char *tok)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    const char *dot = strrchr(tok, '.');
    unsigned char *sig = NULL, *der = NULL;
    size_t n = 0, dn = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    assert_int_equal(nk_b64url_decode(dot + 1, "sig", &sig, &n, &err), 0);
    if (alg == NK_JWT_ES256) {
        assert_int_equal(n, 64);
        assert_int_equal(nk_ecdsa_raw_to_der(sig, n, &der, &dn, &err), 0);
    }
    assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pub),
                     1);
    if (alg == NK_JWT_PS256) {
        /* Salt exactly the hash length, as RFC 7518 section 3.5 says. */
        assert_int_equal(
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
    }
    ok = EVP_DigestVerify(ctx, der != NULL ? der : sig, der != NULL ? dn : n,
                          (const unsigned char *)tok, (size_t)(dot - tok)) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    free(sig);
    return ok;
}

static void sign_and_check(EVP_PKEY *key, enum nk_jwt_alg alg)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    cJSON *hdr = cJSON_CreateObject(), *claims = cJSON_CreateObject();
    cJSON *h, *c;
    char *tok = NULL, *hb, *cb, *sb, *text;

    cJSON_AddStringToObject(hdr, "kid", "key-1");
    cJSON_AddStringToObject(hdr, "alg", "none"); /* must be replaced */
    cJSON_AddStringToObject(claims, "iss", "a@b.example");
    cJSON_AddNumberToObject(claims, "iat", 1700000000);
    assert_int_equal(nk_jwt_sign(hdr, claims, key, alg, &tok, &err), 0);
    split(tok, &hb, &cb, &sb);
    h = decode_json(hb);
    c = decode_json(cb);
    /* alg first, then typ, then the caller's members. */
    text = cJSON_PrintUnformatted(h);
    assert_string_equal(
        text, alg == NK_JWT_RS256
                  ? "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}"
              : alg == NK_JWT_PS256
                  ? "{\"alg\":\"PS256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}"
                  : "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}");
    free(text);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(c, "iss")),
                        "a@b.example");
    assert_true(verify(key, alg, tok));
    /* One flipped byte of the signing input and it no longer verifies. */
    tok[3] = tok[3] == 'A' ? 'B' : 'A';
    assert_false(verify(key, alg, tok));
    /* The caller's trees are left as they were. */
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(hdr, "alg")),
                        "none");
    cJSON_Delete(h);
    cJSON_Delete(c);
    cJSON_Delete(hdr);
    cJSON_Delete(claims);
    free(hb);
    free(cb);
    free(sb);
    free(tok);
}

static void test_rs256(void **state)
{
    (void)state;
    sign_and_check(rsa_key, NK_JWT_RS256);
}

static void test_ps256(void **state)
{
    (void)state;
    sign_and_check(rsa_key, NK_JWT_PS256);
}

static void test_es256(void **state)
{
    (void)state;
    sign_and_check(ec_key, NK_JWT_ES256);
}

static void test_typ_kept(void **state)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    cJSON *hdr = cJSON_CreateObject(), *claims = cJSON_CreateObject(), *h;
    char *tok = NULL, *hb, *cb, *sb, *text;

    (void)state;
    cJSON_AddStringToObject(hdr, "typ", "at+jwt");
    assert_int_equal(
        nk_jwt_sign(hdr, claims, rsa_key, NK_JWT_RS256, &tok, &err), 0);
    split(tok, &hb, &cb, &sb);
    h = decode_json(hb);
    text = cJSON_PrintUnformatted(h);
    assert_string_equal(text, "{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}");
    free(text);
    assert_int_equal(strcmp(cb, "e30"), 0); /* {} */
    cJSON_Delete(h);
    cJSON_Delete(hdr);
    cJSON_Delete(claims);
    free(hb);
    free(cb);
    free(sb);
    free(tok);
}

static void test_wrong_keys(void **state)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    cJSON *claims = cJSON_CreateObject();
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    char *tok = NULL;

    (void)state;
    assert_int_equal(
        nk_jwt_sign(NULL, claims, ec_key, NK_JWT_RS256, &tok, &err), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "RS256 needs an RSA key"));
    nk_err_clear(&err);
    assert_int_equal(nk_jwt_sign(NULL, claims, small, NK_JWT_PS256, &tok, &err),
                     -1);
    assert_non_null(strstr(err.msg, "2048 bits"));
    nk_err_clear(&err);
    assert_int_equal(nk_jwt_sign(NULL, claims, p384, NK_JWT_ES256, &tok, &err),
                     -1);
    assert_non_null(strstr(err.msg, "P-256"));
    nk_err_clear(&err);
    assert_int_equal(
        nk_jwt_sign(NULL, claims, rsa_key, NK_JWT_ES256, &tok, &err), -1);
    assert_null(tok);
    EVP_PKEY_free(small);
    EVP_PKEY_free(p384);
    cJSON_Delete(claims);
}

static char *pem_of(EVP_PKEY *key, const char *pass)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;

    if (pass != NULL)
        assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, key,
                                                       EVP_aes_256_cbc(), NULL,
                                                       0, NULL, (void *)pass),
                         1);
    else
        assert_int_equal(
            PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(b, &data);
    out = strndup(data, (size_t)n);
    BIO_free(b);
    return out;
}

static void test_key_from_pem(void **state)
{
    struct nk_err err = {NK_ERR_NONE, ""};
    char *pem = pem_of(ec_key, NULL), *enc = pem_of(ec_key, "pw");
    EVP_PKEY *k = NULL;

    (void)state;
    assert_int_equal(nk_jwt_key_from_pem(pem, "key file", &k, &err), 0);
    assert_int_equal(EVP_PKEY_eq(k, ec_key), 1);
    EVP_PKEY_free(k);
    /* Encrypted: refused, never a password prompt (stdin is not ours). */
    assert_int_equal(nk_jwt_key_from_pem(enc, "key file", &k, &err), -1);
    assert_null(k);
    assert_string_equal(err.msg,
                        "key file: not an unencrypted PEM private key");
    nk_err_clear(&err);
    assert_int_equal(nk_jwt_key_from_pem("-----BEGIN PRIVATE KEY-----\nAAAA"
                                         "\n-----END PRIVATE KEY-----\n",
                                         "x", &k, &err),
                     -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    free(pem);
    free(enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rs256),      cmocka_unit_test(test_ps256),
        cmocka_unit_test(test_es256),      cmocka_unit_test(test_typ_kept),
        cmocka_unit_test(test_wrong_keys), cmocka_unit_test(test_key_from_pem),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
