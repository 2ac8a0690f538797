/* Unit tests for the RFC 3161 client: request shape, pluginConfig rules
 * and every check on a TSA's answer, with answers made in memory by
 * OpenSSL's own TSA code (TS_RESP_CTX) and then spoiled one way at a
 * time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ts.h>

#include "certgen.h"
#include "envelope/tsa.h"

static EVP_PKEY *root_key, *tsa_key;
static X509 *root, *tsa_cert;

static const unsigned char SIG[] = "raw signature bytes";

static int setup(void **state)
{
    (void)state;
    root_key = tg_key("EC:P-256");
    tsa_key = tg_key("EC:P-256");
    root = tg_cert("root", root_key, NULL, NULL, -TG_DAY, TG_DAY, TG_CA_BC,
                   TG_CA_KU, NULL, NULL);
    tsa_cert = tg_cert("tsa", tsa_key, root, root_key, -TG_DAY, TG_DAY,
                       "CA:FALSE", TG_LEAF_KU, "critical,timeStamping", NULL);
    return root_key && tsa_key && root && tsa_cert ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    X509_free(root);
    X509_free(tsa_cert);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(tsa_key);
    return 0;
}

static TS_REQ *query(enum nk_hash h)
{
    struct nk_err err = {0};
    TS_REQ *req = NULL;

    assert_int_equal(nk_tsa_query(h, SIG, sizeof(SIG), &req, &err), 0);
    return req;
}

/* The DER reply OpenSSL's TSA gives to req, signed by cert/key, with the
 * ESS cert id hash ess (SHA-1 gives the v1 attribute), or NULL when
 * OpenSSL refuses the certificate. */
static unsigned char *reply_for(TS_REQ *req, X509 *cert, EVP_PKEY *key,
                                const EVP_MD *ess, size_t *n)
{
    TS_RESP_CTX *ctx = TS_RESP_CTX_new();
    ASN1_OBJECT *policy = OBJ_txt2obj("1.2.3.4.1", 1);
    unsigned char *q = NULL, *out = NULL;
    int qlen = i2d_TS_REQ(req, &q), len;
    BIO *b = BIO_new_mem_buf(q, qlen);
    TS_RESP *resp = NULL;

    *n = 0;
    if (TS_RESP_CTX_set_signer_cert(ctx, cert) != 1) {
        ERR_clear_error();
        goto out;
    }
    TS_RESP_CTX_set_signer_key(ctx, key);
    TS_RESP_CTX_set_def_policy(ctx, policy);
    TS_RESP_CTX_add_md(ctx, EVP_sha256());
    TS_RESP_CTX_add_md(ctx, EVP_sha384());
    TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
    TS_RESP_CTX_set_ess_cert_id_digest(ctx, ess);
    resp = TS_RESP_create_response(ctx, b);
    assert_non_null(resp);
    len = i2d_TS_RESP(resp, &out);
    assert_true(len > 0);
    *n = (size_t)len;
out:
    TS_RESP_free(resp);
    BIO_free(b);
    OPENSSL_free(q);
    ASN1_OBJECT_free(policy);
    TS_RESP_CTX_free(ctx);
    return out;
}

/* nk_tsa_check's verdict on reply; NULL needle means it must pass. */
static void expect(TS_REQ *req, X509 *anchor, const unsigned char *reply,
                   size_t n, const char *needle)
{
    struct nk_err err = {0};
    unsigned char *tst = NULL;
    size_t tstlen = 0;
    int r = nk_tsa_check(req, anchor, reply, n, &tst, &tstlen, &err);

    if (needle == NULL) {
        if (r != 0)
            fail_msg("rejected: %s", err.msg);
        assert_true(tstlen > 100);
        assert_int_equal(tst[0], 0x30);
    } else {
        assert_int_equal(r, -1);
        assert_null(tst);
        assert_int_equal(err.code, NK_ERR_GENERIC);
        if (strstr(err.msg, needle) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    }
    free(tst);
}

static void test_query_shape(void **state)
{
    TS_REQ *req = query(NK_SHA384);
    TS_MSG_IMPRINT *imp = TS_REQ_get_msg_imprint(req);
    const X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(imp);
    const ASN1_INTEGER *nonce = TS_REQ_get_nonce(req);
    BIGNUM *bn = ASN1_INTEGER_to_BN(nonce, NULL);
    int ptype = -1;

    (void)state;
    assert_int_equal(TS_REQ_get_version(req), 1);
    assert_int_equal(TS_REQ_get_cert_req(req), 1);
    assert_int_equal(OBJ_obj2nid(alg->algorithm), NID_sha384);
    X509_ALGOR_get0(NULL, &ptype, NULL, alg);
    assert_int_equal(ptype, V_ASN1_NULL);
    assert_int_equal(ASN1_STRING_length(TS_MSG_IMPRINT_get_msg(imp)), 48);
    assert_false(BN_is_negative(bn));
    assert_false(BN_is_zero(bn));
    assert_true(BN_num_bits(bn) <= 159);
    assert_null(TS_REQ_get_policy_id(req));
    BN_free(bn);
    TS_REQ_free(req);
}

static void test_good_reply(void **state)
{
    TS_REQ *req = query(NK_SHA256);
    size_t n;
    unsigned char *rep = reply_for(req, tsa_cert, tsa_key, EVP_sha256(), &n);

    (void)state;
    expect(req, root, rep, n, NULL);
    OPENSSL_free(rep);
    TS_REQ_free(req);
}

static void test_wrong_nonce(void **state)
{
    TS_REQ *req = query(NK_SHA256), *other = query(NK_SHA256);
    size_t n;
    unsigned char *rep = reply_for(other, tsa_cert, tsa_key, EVP_sha256(), &n);

    (void)state;
    expect(req, root, rep, n, "nonce mismatch");
    OPENSSL_free(rep);
    TS_REQ_free(req);
    TS_REQ_free(other);
}

static void test_wrong_imprint(void **state)
{
    struct nk_err err = {0};
    TS_REQ *req = query(NK_SHA256), *other = NULL;
    size_t n;
    unsigned char *rep;

    (void)state;
    assert_int_equal(
        nk_tsa_query(NK_SHA256, (const unsigned char *)"x", 1, &other, &err),
        0);
    TS_REQ_set_nonce(other, TS_REQ_get_nonce(req));
    rep = reply_for(other, tsa_cert, tsa_key, EVP_sha256(), &n);
    expect(req, root, rep, n, "messageImprint does not match");
    OPENSSL_free(rep);
    TS_REQ_free(other);
    TS_REQ_free(req);
}

static void test_wrong_root(void **state)
{
    EVP_PKEY *k = tg_key("EC:P-256");
    X509 *other = tg_cert("other root", k, NULL, NULL, -TG_DAY, TG_DAY,
                          TG_CA_BC, TG_CA_KU, NULL, NULL);
    TS_REQ *req = query(NK_SHA256);
    size_t n;
    unsigned char *rep = reply_for(req, tsa_cert, tsa_key, EVP_sha256(), &n);

    (void)state;
    expect(req, other, rep, n, "does not verify");
    OPENSSL_free(rep);
    TS_REQ_free(req);
    X509_free(other);
    EVP_PKEY_free(k);
}

static void test_ess_v1_only(void **state)
{
    TS_REQ *req = query(NK_SHA256);
    size_t n;
    unsigned char *rep = reply_for(req, tsa_cert, tsa_key, EVP_sha1(), &n);

    (void)state;
    expect(req, root, rep, n, "signing-certificate-v2");
    OPENSSL_free(rep);
    TS_REQ_free(req);
}

/* OpenSSL signs with timeStamping plus an unknown usage; we do not. */
static void test_extra_eku(void **state)
{
    EVP_PKEY *k = tg_key("EC:P-256");
    X509 *c =
        tg_cert("tsa2", k, root, root_key, -TG_DAY, TG_DAY, "CA:FALSE",
                TG_LEAF_KU, "critical,timeStamping,1.3.6.1.4.1.99999.1", NULL);
    TS_REQ *req = query(NK_SHA256);
    size_t n;
    unsigned char *rep = reply_for(req, c, k, EVP_sha256(), &n);

    (void)state;
    assert_non_null(rep);
    expect(req, root, rep, n, "timeStamping only");
    OPENSSL_free(rep);
    TS_REQ_free(req);
    X509_free(c);
    EVP_PKEY_free(k);
}

/* OpenSSL will not sign with a non-critical EKU, so the token is made with
 * the good certificate and then carries a twin (same key, issuer and
 * serial) whose EKU is not critical. */
static void test_noncritical_eku(void **state)
{
    X509 *twin = tg_cert("tsa", tsa_key, root, root_key, -TG_DAY, TG_DAY,
                         "CA:FALSE", TG_LEAF_KU, "timeStamping", NULL);
    TS_REQ *req = query(NK_SHA256);
    size_t n;
    unsigned char *rep = reply_for(req, tsa_cert, tsa_key, EVP_sha256(), &n);
    const unsigned char *p = rep;
    TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)n);
    STACK_OF(X509) *certs = TS_RESP_get_token(resp)->d.sign->cert;
    unsigned char *bad = NULL;
    int len;

    (void)state;
    X509_set_serialNumber(twin, X509_get_serialNumber(tsa_cert));
    X509_sign(twin, root_key, EVP_sha256());
    assert_int_equal(sk_X509_num(certs), 1);
    X509_free(sk_X509_value(certs, 0));
    sk_X509_set(certs, 0, twin);
    len = i2d_TS_RESP(resp, &bad);
    expect(req, root, bad, (size_t)len, "not critical");
    OPENSSL_free(bad);
    TS_RESP_free(resp);
    OPENSSL_free(rep);
    TS_REQ_free(req);
}

static void test_garbage_and_rejection(void **state)
{
    static const unsigned char junk[] = "<html>502 Bad Gateway</html>";
    TS_REQ *req = query(NK_SHA512); /* the TSA only accepts 256 and 384 */
    size_t n;
    unsigned char *rep = reply_for(req, tsa_cert, tsa_key, EVP_sha256(), &n);

    (void)state;
    expect(req, root, junk, sizeof(junk) - 1, "not a DER RFC 3161");
    expect(req, root, junk, 0, "empty answer");
    expect(req, root, rep, n, "not granted");
    OPENSSL_free(rep);
    TS_REQ_free(req);
}

/* ---- pluginConfig ---- */

static char *write_pem(const char *name, X509 *a, X509 *b)
{
    char *path = malloc(256);
    FILE *f;

    snprintf(path, 256, "%s/nk-tsa-%d-%s.pem", P_tmpdir, (int)getpid(), name);
    f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509(f, a);
    if (b != NULL)
        PEM_write_X509(f, b);
    fclose(f);
    return path;
}

static void expect_config(const char *url, const char *rootf,
                          const char *timeout, const char *needle)
{
    struct nk_config cfg;
    struct nk_tsa t;
    struct nk_err err = {0};
    int r;

    nk_config_init(&cfg);
    if (url)
        nk_config_set(&cfg, "timestamp-url", url);
    if (rootf)
        nk_config_set(&cfg, "timestamp-root-cert", rootf);
    if (timeout)
        nk_config_set(&cfg, "timestamp-timeout", timeout);
    r = nk_tsa_config(&cfg, &t, &err);
    if (needle == NULL) {
        if (r != 0)
            fail_msg("rejected: %s", err.msg);
    } else {
        assert_int_equal(r, -1);
        assert_int_equal(err.code, NK_ERR_VALIDATION);
        if (strstr(err.msg, needle) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    }
    nk_tsa_release(&t);
    nk_config_release(&cfg);
}

static void test_config(void **state)
{
    char *one = write_pem("one", root, NULL);
    char *two = write_pem("two", root, tsa_cert);
    char *notroot = write_pem("leaf", tsa_cert, NULL);

    (void)state;
    expect_config(NULL, NULL, NULL, NULL);
    expect_config("http://127.0.0.1:1/", one, "2.5", NULL);
    expect_config("http://127.0.0.1:1/", NULL, NULL, "timestamp-root-cert");
    expect_config(NULL, one, NULL, "timestamp-url");
    expect_config("ftp://x/", one, NULL, "http");
    expect_config("http://x/", two, NULL, "exactly one");
    expect_config("http://x/", notroot, NULL, "self-signed");
    expect_config("http://x/", "/nonexistent/root.pem", NULL,
                  "timestamp-root-cert");
    expect_config("http://x/", one, "-1", "timestamp-timeout");
    unlink(one);
    unlink(two);
    unlink(notroot);
    free(one);
    free(two);
    free(notroot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_shape),
        cmocka_unit_test(test_good_reply),
        cmocka_unit_test(test_wrong_nonce),
        cmocka_unit_test(test_wrong_imprint),
        cmocka_unit_test(test_wrong_root),
        cmocka_unit_test(test_ess_v1_only),
        cmocka_unit_test(test_extra_eku),
        cmocka_unit_test(test_noncritical_eku),
        cmocka_unit_test(test_garbage_and_rejection),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests_name("tsa", tests, setup, teardown);
}
