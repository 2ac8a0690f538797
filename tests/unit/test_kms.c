/* The KMS backends' pure helpers: awskms:// and hashivault:// / openbao://
 * key URIs, the region of an ARN, the AWS KeySpec and Vault key type
 * tables, Vault's "vault:vN:" signatures, cache file naming, HTTP status
 * mapping, and ECDSA DER -> r||s as the backends use it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "certgen.h"
#include "common/config.h"
#include "common/mem.h"
#include "common/sigcheck.h"
#include "kms/kms_cache.h"
#include "kms/kms_uri.h"
#include "kms/kms_util.h"
#include "kms/vault_answer.h"

static void test_awskms_uri(void **state)
{
    static const char *const bad[] = {
        "awskms://",
        "awskms:///",
        "awskms://host",
        "awskms://host/",
        "awskms://user@host/k",
        "awskms:///alias/a b",
        "awskms:///k?x=1",
        "hashivault://k",
        "awskms:/alias/x",
        "",
    };
    struct nk_err err = {NK_ERR_NONE, ""};
    struct nk_awskms_uri u;
    size_t i;

    (void)state;
    assert_int_equal(nk_awskms_uri_parse("awskms:///alias/notation", &u, &err),
                     0);
    assert_null(u.endpoint);
    assert_string_equal(u.key_ref, "alias/notation");
    nk_awskms_uri_release(&u);

    assert_int_equal(
        nk_awskms_uri_parse("awskms://localhost:4566/1234abcd-12ab-34cd-56ef-"
                            "1234567890ab",
                            &u, &err),
        0);
    assert_string_equal(u.endpoint, "https://localhost:4566");
    assert_string_equal(u.key_ref, "1234abcd-12ab-34cd-56ef-1234567890ab");
    nk_awskms_uri_release(&u);

    assert_int_equal(nk_awskms_uri_parse(
                         "awskms:///arn:aws:kms:eu-west-1:111122223333:alias/"
                         "x",
                         &u, &err),
                     0);
    assert_null(u.endpoint);
    assert_string_equal(u.key_ref,
                        "arn:aws:kms:eu-west-1:111122223333:alias/x");
    nk_awskms_uri_release(&u);
    nk_awskms_uri_release(NULL);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.code = NK_ERR_NONE;
        err.msg[0] = '\0';
        assert_int_equal(nk_awskms_uri_parse(bad[i], &u, &err), -1);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        assert_non_null(strstr(err.msg, "awskms:///"));
        assert_null(u.key_ref);
        assert_null(u.endpoint);
    }
}

static void test_arn_region(void **state)
{
    char *r;

    (void)state;
    r = nk_aws_arn_region("arn:aws:kms:eu-west-1:111122223333:key/"
                          "1234abcd");
    assert_string_equal(r, "eu-west-1");
    free(r);
    r = nk_aws_arn_region("arn:aws-cn:kms:cn-north-1:111122223333:alias/x");
    assert_string_equal(r, "cn-north-1");
    free(r);
    r = nk_aws_arn_region("arn:aws-us-gov:kms:us-gov-west-1:1:key/mrk-1");
    assert_string_equal(r, "us-gov-west-1");
    free(r);
    assert_null(nk_aws_arn_region("alias/notation"));
    assert_null(nk_aws_arn_region("1234abcd-12ab-34cd-56ef-1234567890ab"));
    assert_null(nk_aws_arn_region("arn:aws:kms::111122223333:key/x"));
    assert_null(nk_aws_arn_region("arn:aws:kms:eu-west-1"));
    assert_null(nk_aws_arn_region("arn:aws"));
    assert_null(nk_aws_arn_region(""));
}

static void test_aws_keyspec(void **state)
{
    static const struct {
        const char *aws;
        enum nk_keyspec spec;
        const char *alg;
    } want[] = {
        {"RSA_2048", NK_RSA_2048, "RSASSA_PSS_SHA_256"},
        {"RSA_3072", NK_RSA_3072, "RSASSA_PSS_SHA_384"},
        {"RSA_4096", NK_RSA_4096, "RSASSA_PSS_SHA_512"},
        {"ECC_NIST_P256", NK_EC_256, "ECDSA_SHA_256"},
        {"ECC_NIST_P384", NK_EC_384, "ECDSA_SHA_384"},
        {"ECC_NIST_P521", NK_EC_521, "ECDSA_SHA_512"},
    };
    static const char *const refused[] = {
        "ECC_SECG_P256K1",   "SM2",      "ML_DSA_65",
        "SYMMETRIC_DEFAULT", "HMAC_256", "ECC_NIST_EDWARDS25519",
        "rsa_2048",          "",
    };
    const char *alg;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(nk_aws_keyspec(want[i].aws, &alg), want[i].spec);
        assert_string_equal(alg, want[i].alg);
        assert_string_equal(nk_aws_alg_of(want[i].spec), want[i].alg);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(nk_aws_keyspec(refused[i], &alg), NK_KEYSPEC_NONE);
        assert_null(alg);
    }
    assert_int_equal(nk_aws_keyspec(NULL, &alg), NK_KEYSPEC_NONE);
    assert_null(nk_aws_alg_of(NK_KEYSPEC_NONE));
}

static void test_vault_uri(void **state)
{
    static const char *const bad[] = {
        "hashivault://",
        "hashivault://-x",
        "hashivault://.x",
        "hashivault://a/b",
        "hashivault://../sys/seal",
        "hashivault://a b",
        "hashivault://a?x",
        "openbao://",
        "vault://k",
        "awskms:///k",
    };
    struct nk_err err = {NK_ERR_NONE, ""};
    char *name;
    int bao;
    size_t i;

    (void)state;
    assert_int_equal(
        nk_vault_uri_parse("hashivault://notation-key_1.v2", &name, &bao, &err),
        0);
    assert_string_equal(name, "notation-key_1.v2");
    assert_int_equal(bao, 0);
    free(name);
    assert_int_equal(nk_vault_uri_parse("openbao://k", &name, &bao, &err), 0);
    assert_string_equal(name, "k");
    assert_int_equal(bao, 1);
    free(name);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.code = NK_ERR_NONE;
        err.msg[0] = '\0';
        assert_int_equal(nk_vault_uri_parse(bad[i], &name, &bao, &err), -1);
        assert_null(name);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        assert_non_null(strstr(err.msg, "transit key name"));
    }
}

static void test_vault_keyspec(void **state)
{
    static const struct {
        const char *type;
        enum nk_keyspec spec;
        const char *hash;
    } want[] = {
        {"rsa-2048", NK_RSA_2048, "sha2-256"},
        {"rsa-3072", NK_RSA_3072, "sha2-384"},
        {"rsa-4096", NK_RSA_4096, "sha2-512"},
        {"ecdsa-p256", NK_EC_256, "sha2-256"},
        {"ecdsa-p384", NK_EC_384, "sha2-384"},
        {"ecdsa-p521", NK_EC_521, "sha2-512"},
    };
    static const char *const refused[] = {
        "aes256-gcm96", "aes128-gcm96", "chacha20-poly1305", "ed25519", "hmac",
        "rsa-1024",     "ecdsa-p224",   "RSA-2048",          "",
    };
    const char *hash;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(nk_vault_keyspec(want[i].type, &hash), want[i].spec);
        assert_string_equal(hash, want[i].hash);
    }
    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(nk_vault_keyspec(refused[i], &hash), NK_KEYSPEC_NONE);
        assert_null(hash);
    }
    assert_int_equal(nk_vault_keyspec(NULL, &hash), NK_KEYSPEC_NONE);
}

static void test_vault_sig_split(void **state)
{
    static const char *const bad[] = {
        "vault:v:AAAA",  "vault:vx:AAAA",  "vault:v2AAAA", "vault:v2:",
        "vault:v0:AAAA", "vault:v-1:AAAA", "AAAA",         "",
        "bao:v1:AAAA",
    };
    struct nk_err err = {NK_ERR_NONE, ""};
    const char *b64;
    long v;
    size_t i;

    (void)state;
    assert_int_equal(nk_vault_sig_split("vault:v12:MEUCIQ==", &v, &b64, &err),
                     0);
    assert_int_equal(v, 12);
    assert_string_equal(b64, "MEUCIQ==");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.code = NK_ERR_NONE;
        assert_int_equal(nk_vault_sig_split(bad[i], &v, &b64, &err), -1);
        assert_null(b64);
        assert_int_equal(err.code, NK_ERR_GENERIC);
    }
    err.code = NK_ERR_NONE;
    assert_int_equal(nk_vault_sig_split(NULL, &v, &b64, &err), -1);
}

static void test_cache_name(void **state)
{
    /* SHA-256("") and SHA-256("abc"): the name is the identity's hash. */
    char *a = nk_kms_cache_name(""), *b = nk_kms_cache_name("abc");
    char *c = nk_kms_cache_name("vault\nhttps://v:8200\n\ntransit\nk\n0");
    char *d = nk_kms_cache_name("vault\nhttps://v:8200\n\ntransit\nk\n1");
    size_t i;

    (void)state;
    assert_string_equal(a, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
                           "a495991b7852b855.json");
    assert_string_equal(b, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                           "b410ff61f20015ad.json");
    assert_int_equal(strlen(c), 64 + 5);
    for (i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", c[i]));
    /* Another key version is another entry. */
    assert_string_not_equal(c, d);
    free(a);
    free(b);
    free(c);
    free(d);
}

static void test_status_code(void **state)
{
    (void)state;
    assert_int_equal(nk_kms_status_code(401), NK_ERR_ACCESS);
    assert_int_equal(nk_kms_status_code(403), NK_ERR_ACCESS);
    assert_int_equal(nk_kms_status_code(400), NK_ERR_VALIDATION);
    assert_int_equal(nk_kms_status_code(404), NK_ERR_VALIDATION);
    assert_int_equal(nk_kms_status_code(429), NK_ERR_THROTTLED);
    assert_int_equal(nk_kms_status_code(504), NK_ERR_TIMEOUT);
    assert_int_equal(nk_kms_status_code(500), NK_ERR_GENERIC);
    assert_int_equal(nk_kms_status_code(302), NK_ERR_GENERIC);
}

/* Nothing known without a source; the source as it is, and whether it was
 * used, otherwise. */
static void test_credential_report(void **state)
{
    char buf[16] = "untouched";

    (void)state;
    assert_int_equal(nk_kms_credential_report(NULL, 1, buf, sizeof(buf)), -1);
    assert_int_equal(nk_kms_credential_report("", 1, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "untouched");
    assert_int_equal(nk_kms_credential_report("Azure CLI", 1, buf, sizeof(buf)),
                     1);
    assert_string_equal(buf, "Azure CLI");
    assert_int_equal(
        nk_kms_credential_report("a source too long", 0, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "a source too lo");
}

/* DER of ECDSA-Sig-Value{r, s} made by OpenSSL from byte strings. */
static unsigned char *der_sig(const unsigned char *r, size_t rn,
                              const unsigned char *s, size_t sn, size_t *n)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int len;

    assert_non_null(sig);
    assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(r, (int)rn, NULL),
                                    BN_bin2bn(s, (int)sn, NULL)),
                     1);
    len = i2d_ECDSA_SIG(sig, &der);
    assert_true(len > 0);
    ECDSA_SIG_free(sig);
    *n = (size_t)len;
    return der;
}

static void test_der_to_raw(void **state)
{
    static const size_t widths[] = {32, 48, 66};
    struct nk_err err = {NK_ERR_NONE, ""};
    unsigned char r[66], s[66], *der, *raw, bad[8];
    size_t i, n, rawlen;

    (void)state;
    for (i = 0; i < 3; i++) {
        size_t w = widths[i];

        /* r with leading zero bytes (short INTEGER), s with the top bit
         * set (DER adds a 0x00): both must come out at full width. */
        memset(r, 0, sizeof(r));
        memset(s, 0, sizeof(s));
        r[w - 1] = 0x01;
        r[w - 2] = 0x7f;
        s[0] = w == 66 ? 0x01 : 0xff;
        s[w - 1] = 0x42;
        der = der_sig(r, w, s, w, &n);
        assert_int_equal(nk_ecdsa_der_to_raw(der, n, w, &raw, &rawlen, &err),
                         0);
        assert_int_equal(rawlen, 2 * w);
        assert_memory_equal(raw, r, w);
        assert_memory_equal(raw + w, s, w);
        free(raw);
        OPENSSL_free(der);
    }
    /* Too wide for the curve: P-256 width with a 33-byte r. */
    memset(r, 0xff, sizeof(r));
    der = der_sig(r, 33, s, 32, &n);
    assert_int_equal(nk_ecdsa_der_to_raw(der, n, 32, &raw, &rawlen, &err), -1);
    OPENSSL_free(der);
    /* Not DER at all, and DER with trailing bytes. */
    memset(bad, 0x30, sizeof(bad));
    assert_int_equal(
        nk_ecdsa_der_to_raw(bad, sizeof(bad), 32, &raw, &rawlen, &err), -1);
}

/* Store, load, expire, mismatch and drop, in a private temporary
 * XDG_CACHE_HOME; a directory others can write to is never used. */
/* A Transit key read whose latest_version is `latest` (JSON number text),
 * with an EC P-256 public key under version `ver`. */
static int vault_key_read(const char *latest, const char *ver,
                          struct nk_kms_cached *key, struct nk_err *err)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    BIO *bio = BIO_new(BIO_s_mem());
    cJSON *resp = cJSON_CreateObject(), *data, *keys, *one;
    char *pem, *text;
    long n;
    int r;

    assert_non_null(pk);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
    n = BIO_get_mem_data(bio, &pem);
    text = nk_xstrndup(pem, (size_t)n);
    data = cJSON_AddObjectToObject(resp, "data");
    cJSON_AddStringToObject(data, "type", "ecdsa-p256");
    cJSON_AddItemToObject(data, "latest_version", cJSON_Parse(latest));
    keys = cJSON_AddObjectToObject(data, "keys");
    one = cJSON_AddObjectToObject(keys, ver);
    cJSON_AddStringToObject(one, "public_key", text);
    memset(key, 0, sizeof(*key));
    r = nk_vault_key_answer(resp, "Vault", "k", 0, key, err);
    cJSON_Delete(resp);
    free(text);
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return r;
}

/* latest_version is a JSON number: one beyond the version range must be
 * refused before it is cast to long (1e300 is undefined behaviour there,
 * found by fuzz_vault). */
static void test_vault_latest_version(void **state)
{
    struct nk_kms_cached key;
    struct nk_err err = {0};

    (void)state;
    assert_int_equal(vault_key_read("1", "1", &key, &err), 0);
    assert_int_equal(key.version, 1);
    assert_int_equal(key.spec, NK_EC_256);
    nk_kms_cached_release(&key);
    assert_int_equal(vault_key_read("1e300", "1", &key, &err), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "no usable version"));
    nk_kms_cached_release(&key);
    nk_err_clear(&err);
    assert_int_equal(vault_key_read("-1e300", "1", &key, &err), -1);
    nk_kms_cached_release(&key);
    nk_err_clear(&err);
    assert_int_equal(vault_key_read("2000000", "2000000", &key, &err), -1);
    assert_non_null(strstr(err.msg, "no usable version"));
    nk_kms_cached_release(&key);
}

/* The Vault sign answer: the version it names must be the described one,
 * or, when the request was not pinned to it, a newer one (a rotation the
 * caller answers by describing the key again); never an older one. */
static void test_vault_sign_answer(void **state)
{
    cJSON *resp = cJSON_Parse("{\"data\":{\"signature\":\"vault:v3:YWJj\"}}");
    cJSON *none = cJSON_Parse("{\"data\":{}}");
    const char *what = "Vault sign with \"k\"";
    struct nk_err err = {0};
    unsigned char *sig = NULL;
    size_t n = 0;
    long ver = 0;

    (void)state;
    assert_non_null(resp);
    assert_non_null(none);
    assert_int_equal(nk_vault_sign_answer(resp, what, NK_RSA_2048, 3, 1, &ver,
                                          &sig, &n, &err),
                     0);
    assert_int_equal(ver, 3);
    assert_int_equal(n, 3);
    assert_memory_equal(sig, "abc", 3);
    free(sig);
    assert_int_equal(nk_vault_sign_answer(resp, what, NK_RSA_2048, 2, 1, &ver,
                                          &sig, &n, &err),
                     -1);
    assert_null(sig);
    assert_non_null(strstr(err.msg, "signed with version 3, not 2"));
    nk_err_clear(&err);
    assert_int_equal(nk_vault_sign_answer(resp, what, NK_RSA_2048, 2, 0, &ver,
                                          &sig, &n, &err),
                     0);
    assert_int_equal(ver, 3);
    free(sig);
    assert_int_equal(nk_vault_sign_answer(resp, what, NK_RSA_2048, 4, 0, &ver,
                                          &sig, &n, &err),
                     -1);
    assert_non_null(strstr(err.msg, "signed with version 3, not 4"));
    nk_err_clear(&err);
    assert_int_equal(nk_vault_sign_answer(none, what, NK_RSA_2048, 3, 1, &ver,
                                          &sig, &n, &err),
                     -1);
    assert_non_null(strstr(err.msg, what));
    cJSON_Delete(resp);
    cJSON_Delete(none);
}

static void test_cache_roundtrip(void **state)
{
    char tmpl[] = "/tmp/nk-kms-cache.XXXXXX", *dir, path[300];
    const char *ident = "vault\nhttp://127.0.0.1:1\n\ntransit\nk\n0";
    struct nk_kms_cached c = {0}, got;
    struct nk_config cfg;
    double ttl = 0;
    char *name;

    (void)state;
    dir = mkdtemp(tmpl);
    assert_non_null(dir);
    setenv("XDG_CACHE_HOME", dir, 1);
    c.spec = NK_EC_256;
    c.pub = EVP_EC_gen("P-256");
    assert_non_null(c.pub);
    c.id = strdup("k");
    c.version = 3;

    nk_config_init(&cfg);
    assert_int_equal(nk_kms_cache_enabled(&cfg, &ttl), 1);
    assert_true(ttl == 3600);
    nk_config_set(&cfg, "cache", "false");
    assert_int_equal(nk_kms_cache_enabled(&cfg, &ttl), 0);
    nk_config_release(&cfg);

    assert_int_equal(nk_kms_cache_load(ident, 3600, &got), -1);
    nk_kms_cache_store(ident, &c);
    assert_int_equal(nk_kms_cache_load(ident, 3600, &got), 0);
    assert_int_equal(got.spec, NK_EC_256);
    assert_int_equal(got.version, 3);
    assert_string_equal(got.id, "k");
    assert_int_equal(EVP_PKEY_eq(got.pub, c.pub), 1);
    nk_kms_cached_release(&got);
    /* Another identity with the same file name cannot happen (SHA-256),
     * but a file whose recorded identity differs is still refused. */
    name = nk_kms_cache_name(ident);
    snprintf(path, sizeof(path), "%s/notation-keystore/%s", dir, name);
    free(name);
    assert_int_equal(access(path, R_OK), 0);
    assert_int_equal(nk_kms_cache_load("other", 3600, &got), -1);
    /* Expired: a ttl of zero seconds. */
    sleep(1);
    assert_int_equal(nk_kms_cache_load(ident, 0, &got), -1);
    assert_null(got.pub);
    nk_kms_cache_drop(ident);
    assert_int_equal(access(path, F_OK), -1);
    /* A cache directory others may write to is ignored. */
    snprintf(path, sizeof(path), "%s/notation-keystore", dir);
    assert_int_equal(chmod(path, 0777), 0);
    nk_kms_cache_store(ident, &c);
    assert_int_equal(nk_kms_cache_load(ident, 3600, &got), -1);
    assert_int_equal(chmod(path, 0700), 0);

    name = nk_kms_cache_name(ident);
    snprintf(path, sizeof(path), "%s/notation-keystore/%s", dir, name);
    unlink(path);
    free(name);
    snprintf(path, sizeof(path), "%s/notation-keystore", dir);
    rmdir(path);
    rmdir(dir);
    unsetenv("XDG_CACHE_HOME");
    nk_kms_cached_release(&c);
}

/* Certificates kept with a description (Azure Key Vault's chain) come
 * back in order. */
static void test_cache_certs(void **state)
{
    char tmpl[] = "/tmp/nk-kms-certs.XXXXXX", *dir, cmd[300];
    const char *ident = "azure\nhttps://v.vault.azure.net\nk\n\n3";
    struct nk_kms_cached c = {0}, got;
    EVP_PKEY *k2 = EVP_EC_gen("P-256");
    X509 *a, *b;

    (void)state;
    dir = mkdtemp(tmpl);
    assert_non_null(dir);
    setenv("XDG_CACHE_HOME", dir, 1);
    c.spec = NK_EC_256;
    c.pub = EVP_EC_gen("P-256");
    c.id = strdup("https://v.vault.azure.net/keys/k/1");
    c.chain = sk_X509_new_null();
    a = tg_cert("leaf", c.pub, NULL, c.pub, -60, 3600, NULL, NULL, NULL,
                EVP_sha256());
    b = tg_cert("ca", k2, NULL, k2, -60, 3600, NULL, NULL, NULL, EVP_sha256());
    sk_X509_push(c.chain, a);
    sk_X509_push(c.chain, b);
    nk_kms_cache_store(ident, &c);
    assert_int_equal(nk_kms_cache_load(ident, 3600, &got), 0);
    assert_int_equal(sk_X509_num(got.chain), 2);
    assert_int_equal(X509_cmp(sk_X509_value(got.chain, 0), a), 0);
    assert_int_equal(X509_cmp(sk_X509_value(got.chain, 1), b), 0);
    nk_kms_cached_release(&got);
    nk_kms_cached_release(&c);
    EVP_PKEY_free(k2);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    unsetenv("XDG_CACHE_HOME");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awskms_uri),
        cmocka_unit_test(test_arn_region),
        cmocka_unit_test(test_aws_keyspec),
        cmocka_unit_test(test_vault_uri),
        cmocka_unit_test(test_vault_keyspec),
        cmocka_unit_test(test_vault_sig_split),
        cmocka_unit_test(test_cache_name),
        cmocka_unit_test(test_status_code),
        cmocka_unit_test(test_credential_report),
        cmocka_unit_test(test_der_to_raw),
        cmocka_unit_test(test_cache_roundtrip),
        cmocka_unit_test(test_vault_latest_version),
        cmocka_unit_test(test_vault_sign_answer),
        cmocka_unit_test(test_cache_certs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
