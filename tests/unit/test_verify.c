/* Unit tests for the verifier: notation's DN rules and trusted-identity
 * matching, RFC 3339 times, expiry, reason names and the CRL cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/mem.h"
#include "verify/dn.h"
#include "verify/revoke.h"
#include "verify/verify.h"

static const char *dn_get(const struct nk_dn *dn, const char *type)
{
    size_t i;

    for (i = 0; i < dn->n; i++)
        if (strcmp(dn->attrs[i].type, type) == 0)
            return dn->attrs[i].value;
    return NULL;
}

static void dn_ok(const char *s, const char *type, const char *want)
{
    struct nk_err err = {0};
    struct nk_dn dn;

    assert_int_equal(nk_dn_parse(s, &dn, &err), 0);
    assert_non_null(dn_get(&dn, type));
    assert_string_equal(dn_get(&dn, type), want);
    nk_dn_release(&dn);
}

static void dn_bad(const char *s, const char *msg)
{
    struct nk_err err = {0};
    struct nk_dn dn;

    assert_int_equal(nk_dn_parse(s, &dn, &err), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", s, err.msg, msg);
}

static void test_dn_escapes(void **state)
{
    (void)state;
    dn_ok("C=US, ST=WA, O=Acme\\, Inc.", "O", "Acme, Inc.");
    dn_ok("C=US,ST=WA,O=A\\+B", "O", "A+B");
    dn_ok("C=US,ST=WA,O=back\\\\slash", "O", "back\\slash");
    dn_ok("C=US,ST=WA,O=\\\"q\\\"", "O", "\"q\"");
    dn_ok("C=US,ST=WA,O=hex\\2Cvalue", "O", "hex,value");
    dn_ok("C=US,ST=WA,O=caf\\C3\\A9", "O", "caf\xc3\xa9");
    dn_ok("  C = US ,  ST=WA, O=  spaced out  ", "O", "spaced out");
    dn_ok("C=US,ST=WA,O=trailing\\ ", "O", "trailing ");
    dn_ok("C=US,ST=WA,O=\\ leading", "O", " leading");
    dn_ok("C=US; ST=WA; O=semi", "ST", "WA");
    dn_ok("c=US, st=WA, o=lower", "O", "lower");
    dn_ok("C=US, S=WA, O=Acme", "ST", "WA");
}

static void test_dn_rules(void **state)
{
    (void)state;
    dn_bad("C=US, ST=WA", "no \"O\" attribute");
    dn_bad("ST=WA, O=Acme", "no \"C\" attribute");
    dn_bad("C=US, O=Acme", "no \"ST\" attribute");
    dn_bad("C=US, ST=, O=Acme", "no \"ST\" attribute");
    dn_bad("C=US+ST=WA, O=Acme", "multi-valued");
    dn_bad("C=US, C=IN, ST=WA, O=Acme", "duplicate attribute \"C\"");
    dn_bad("C=US, ST=WA, O=#04024869", "=#");
    dn_bad("", "no \"=\"");
    dn_bad("C=US, ST=WA, O=Acme,", "no \"=\"");
    dn_bad("C=US, ST=WA, O=bad\\q", "invalid escape");
    dn_bad("C=US, ST=WA, O=a\"b", "must be escaped");
    dn_bad("C=US, ST=WA, 1O=Acme", "invalid attribute type");
    dn_bad("C=US, ST=WA, O=Acme\\00.evil", "NUL");
}

/* A DN of more than NK_DN_MAX_ATTRS attributes is refused, as a string
 * and as a certificate name: the duplicate check is quadratic. */
static void test_dn_many_attrs(void **state)
{
    struct nk_buf b;
    struct nk_err err = {0};
    struct nk_dn dn;
    X509_NAME *name = X509_NAME_new();
    char attr[32];
    int i;

    (void)state;
    nk_buf_init(&b, 1 << 16);
    assert_int_equal(nk_buf_appendstr(&b, "C=US, ST=WA, O=Acme", &err), 0);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
                                                (const unsigned char *)"US", -1,
                                                -1, 0),
                     1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "ST", MBSTRING_ASC,
                                                (const unsigned char *)"WA", -1,
                                                -1, 0),
                     1);
    assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                                (const unsigned char *)"A", -1,
                                                -1, 0),
                     1);
    for (i = 0; i < NK_DN_MAX_ATTRS - 2; i++) {
        snprintf(attr, sizeof(attr), "1.2.3.%d", i);
        assert_int_equal(X509_NAME_add_entry_by_txt(name, attr, MBSTRING_ASC,
                                                    (const unsigned char *)"v",
                                                    -1, -1, 0),
                         1);
        snprintf(attr, sizeof(attr), ", 1.2.3.%d=v", i);
        assert_int_equal(nk_buf_appendstr(&b, attr, &err), 0);
    }
    dn_bad((const char *)b.data, "more than 64 attributes");
    assert_int_equal(nk_dn_from_name(name, &dn, &err), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
    assert_non_null(strstr(err.msg, "more than 64 attributes"));
    X509_NAME_free(name);
    nk_buf_release(&b);
}

static void test_dn_subset(void **state)
{
    struct nk_err err = {0};
    struct nk_dn a, b;

    (void)state;
    assert_int_equal(nk_dn_parse("C=US, ST=WA, O=Acme", &a, &err), 0);
    assert_int_equal(
        nk_dn_parse("CN=Builder, O=Acme, ST=WA, C=US, OU=Eng", &b, &err), 0);
    assert_true(nk_dn_is_subset(&a, &b));
    assert_false(nk_dn_is_subset(&b, &a));
    nk_dn_release(&a);
    assert_int_equal(nk_dn_parse("C=US, ST=WA, O=acme", &a, &err), 0);
    assert_false(nk_dn_is_subset(&a, &b)); /* values are case-sensitive */
    nk_dn_release(&a);
    nk_dn_release(&b);
}

/* Values compare by length and bytes: a longer value whose C string reads
 * the same (an embedded NUL) is another value. */
static void test_dn_subset_length(void **state)
{
    char o1[] = "O", o2[] = "O", v1[] = "Acme", v2[] = "Acme\0.evil";
    struct nk_dn_attr wa = {o1, v1, 4};
    struct nk_dn_attr ha = {o2, v2, sizeof(v2) - 1};
    struct nk_dn want = {1, &wa}, have = {1, &ha};

    (void)state;
    assert_false(nk_dn_is_subset(&want, &have));
    ha.len = 4;
    assert_true(nk_dn_is_subset(&want, &have)); /* control */
}

/* A self-signed P-256 certificate with the given subject entries
 * ("C", "US", ...), valid from nb to na (seconds from now). set_same makes
 * every entry after the first join the previous RDN (multi-valued). */
static X509 *make_cert(const char *const *kv, int n, long nb, long na,
                       int set_same, EVP_PKEY **keyout)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    int i;

    assert_non_null(key);
    for (i = 0; i < n; i++)
        assert_int_equal(
            X509_NAME_add_entry_by_txt(name, kv[2 * i], MBSTRING_UTF8,
                                       (const unsigned char *)kv[2 * i + 1], -1,
                                       -1, set_same && i > 0 ? -1 : 0),
            1);
    X509_set_issuer_name(x, name);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), nb);
    X509_gmtime_adj(X509_getm_notAfter(x), na);
    X509_set_pubkey(x, key);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    if (keyout != NULL)
        *keyout = key;
    else
        EVP_PKEY_free(key);
    return x;
}

static const char *const good_subject[] = {"C", "US",         "ST", "WA",
                                           "O", "Acme, Inc.", "CN", "Builder"};

static void identity(X509 *leaf, const char *id, int want, const char *msg)
{
    struct nk_verdict v;
    const char *ids[2] = {id, "unknown:prefix"};

    nk_identity_check(leaf, ids, 2, &v);
    if (v.success != want || strstr(v.reason, msg) == NULL)
        fail_msg("identity \"%s\": success %d reason \"%s\"", id, v.success,
                 v.reason);
}

static void test_identity(void **state)
{
    X509 *leaf = make_cert(good_subject, 4, 0, 3600, 0, NULL);
    struct nk_verdict v;
    const char *foreign[] = {"arn:aws:signer:x"};

    (void)state;
    identity(leaf, "x509.subject: C=US, ST=WA, O=Acme\\, Inc.", 1, "matches");
    identity(leaf, "x509.subject:C=US,ST=WA,O=Acme\\2C Inc.,CN=Builder", 1,
             "matches");
    identity(leaf, "x509.subject: C=US, ST=WA, O=Acme", 0, "matches none");
    identity(leaf, "x509.subject: C=US, ST=WA, O=Acme\\, Inc., OU=Eng", 0,
             "matches none");
    identity(leaf, "x509.subject: C=US, O=Acme\\, Inc.", 0, "malformed");
    identity(leaf, "*", 1, "accepts any signer");
    nk_identity_check(leaf, foreign, 1, &v);
    assert_false(v.success);
    assert_non_null(strstr(v.reason, "no trusted identity"));
    nk_identity_check(leaf, NULL, 0, &v);
    assert_false(v.success);
    X509_free(leaf);
}

static void test_identity_bad_leaf(void **state)
{
    static const char *const no_st[] = {"C", "US", "O", "Acme"};
    static const char *const dup[] = {"C",    "US", "ST", "WA", "O",
                                      "Acme", "OU", "a",  "OU", "b"};
    X509 *leaf;

    (void)state;
    leaf = make_cert(no_st, 2, 0, 3600, 0, NULL);
    identity(leaf, "x509.subject: C=US, ST=WA, O=Acme", 0,
             "no \"ST\" attribute");
    X509_free(leaf);
    leaf = make_cert(dup, 5, 0, 3600, 0, NULL);
    identity(leaf, "x509.subject: C=US, ST=WA, O=Acme", 0, "duplicate");
    X509_free(leaf);
    leaf = make_cert(good_subject, 4, 0, 3600, 1, NULL);
    identity(leaf, "x509.subject: C=US, ST=WA, O=Acme", 0, "multi-valued");
    X509_free(leaf);
}

/* O = "Acme\0.evil.example" in the certificate must not match O=Acme. */
static void test_identity_nul(void **state)
{
    static const unsigned char org[] = "Acme\0.evil.example";
    X509 *leaf = make_cert(good_subject, 2, 0, 3600, 0, NULL);
    struct nk_err err = {0};
    struct nk_dn dn;

    (void)state;
    assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(leaf),
                                                "O", V_ASN1_UTF8STRING, org,
                                                (int)sizeof(org) - 1, -1, 0),
                     1);
    assert_int_equal(nk_dn_from_name(X509_get_subject_name(leaf), &dn, &err),
                     -1);
    assert_non_null(strstr(err.msg, "NUL"));
    identity(leaf, "x509.subject: C=US, ST=WA, O=Acme", 0, "NUL");
    X509_free(leaf);
}

static void test_time(void **state)
{
    struct nk_err err = {0};
    time_t t;
    int zero;

    (void)state;
    assert_int_equal(
        nk_time_parse_rfc3339("0001-01-01T00:00:00Z", &t, &zero, &err), 0);
    assert_true(zero);
    assert_int_equal(t, 0);
    assert_int_equal(
        nk_time_parse_rfc3339("2025-01-02T03:04:05Z", &t, &zero, &err), 0);
    assert_false(zero);
    assert_int_equal(t, 1735787045);
    assert_int_equal(
        nk_time_parse_rfc3339("2025-01-02T11:04:05.999+08:00", &t, &zero, &err),
        0);
    assert_int_equal(t, 1735787045);
    assert_int_equal(
        nk_time_parse_rfc3339("2025-01-01T22:04:05-05:00", &t, &zero, &err), 0);
    assert_int_equal(t, 1735787045);
    assert_int_equal(
        nk_time_parse_rfc3339("2025-01-02 03:04:05Z", &t, &zero, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(
        nk_time_parse_rfc3339("2025-13-02T03:04:05Z", &t, &zero, &err), -1);
    nk_err_clear(&err);
    assert_int_equal(
        nk_time_parse_rfc3339("2025-01-02T03:04:05", &t, &zero, &err), -1);
    assert_int_equal(err.code, NK_ERR_VALIDATION);
}

static void test_expiry(void **state)
{
    STACK_OF(X509) *chain = sk_X509_new_null();
    struct nk_verdict v;
    time_t now = time(NULL);

    (void)state;
    sk_X509_push(chain, make_cert(good_subject, 4, -60, 3600, 0, NULL));
    nk_expiry_check(chain, 0, now, &v);
    assert_true(v.success);
    nk_expiry_check(chain, now + 10, now, &v);
    assert_true(v.success);
    nk_expiry_check(chain, now - 10, now, &v);
    assert_false(v.success);
    assert_non_null(strstr(v.reason, "signature expired"));
    nk_expiry_check(chain, 0, now + 7200, &v);
    assert_false(v.success);
    assert_non_null(strstr(v.reason, "is expired"));
    nk_expiry_check(chain, 0, now - 3600, &v);
    assert_false(v.success);
    assert_non_null(strstr(v.reason, "not yet valid"));
    sk_X509_pop_free(chain, X509_free);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(nk_crl_reason_name(-1), "unspecified");
    assert_string_equal(nk_crl_reason_name(1), "keyCompromise");
    assert_string_equal(nk_crl_reason_name(10), "aACompromise");
    assert_string_equal(nk_crl_reason_name(7), "unknown reason code");
    assert_string_equal(nk_crl_reason_name(99), "unknown reason code");
}

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *key)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, 0);
    ASN1_TIME *n = ASN1_TIME_adj(NULL, time(NULL), 1, 0);

    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    X509_CRL_set1_lastUpdate(crl, t);
    X509_CRL_set1_nextUpdate(crl, n);
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    ASN1_TIME_free(n);
    return crl;
}

static void test_crlcache(void **state)
{
    char dir[] = "/tmp/nk-crlcache-XXXXXX", *sub, *cmd;
    const char *url = "http://127.0.0.1:1/x.crl";
    struct nk_err err = {0};
    EVP_PKEY *key = NULL;
    X509 *ca = make_cert(good_subject, 4, 0, 3600, 0, &key);
    X509_CRL *crl = make_crl(ca, key), *got;
    unsigned char *der = NULL;
    int len = i2d_X509_CRL(crl, &der);
    struct stat st;

    (void)state;
    assert_non_null(mkdtemp(dir));
    sub = nk_xasprintf("%s/a/b/crl", dir);
    assert_null(nk_crlcache_get(sub, url)); /* miss */
    assert_int_equal(nk_crlcache_put(sub, url, der, (size_t)len, &err), 0);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    got = nk_crlcache_get(sub, url);
    assert_non_null(got);
    assert_int_equal(X509_CRL_cmp(got, crl), 0);
    X509_CRL_free(got);
    assert_null(nk_crlcache_get(sub, "http://127.0.0.1:1/other.crl"));
    /* A damaged entry is a miss, never an error. */
    cmd = nk_xasprintf("for f in %s/*; do printf garbage >\"$f\"; done", sub);
    assert_int_equal(system(cmd), 0);
    assert_null(nk_crlcache_get(sub, url));
    free(cmd);
    /* Truncated DER is rejected too. */
    assert_int_equal(nk_crlcache_put(sub, url, der, (size_t)len - 5, &err), 0);
    assert_null(nk_crlcache_get(sub, url));
    cmd = nk_xasprintf("rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(sub);
    OPENSSL_free(der);
    X509_CRL_free(crl);
    X509_free(ca);
    EVP_PKEY_free(key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dn_escapes),
        cmocka_unit_test(test_dn_rules),
        cmocka_unit_test(test_dn_many_attrs),
        cmocka_unit_test(test_dn_subset),
        cmocka_unit_test(test_dn_subset_length),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_identity_bad_leaf),
        cmocka_unit_test(test_identity_nul),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_crlcache),
    };

    return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
