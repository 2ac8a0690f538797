/* Unit tests for nk_crl_unusable(): which CRLs may decide a certificate's
 * status (RFC 5280 6.3.3), on CRLs built in memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "certgen.h"
#include "verify/revoke.h"

#define URL "http://127.0.0.1:1/a.crl"

struct pki {
    EVP_PKEY *ca_key, *key;
    X509 *ca, *leaf, *subca;
    DIST_POINT *dp; /* fullName URI:URL */
};

/* A distribution point name: fullName URI:url. */
static DIST_POINT_NAME *uri_dpn(const char *url)
{
    DIST_POINT_NAME *dpn = DIST_POINT_NAME_new();
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *s = ASN1_IA5STRING_new();

    ASN1_STRING_set(s, url, -1);
    GENERAL_NAME_set0_value(gn, GEN_URI, s);
    dpn->type = 0;
    dpn->name.fullname = GENERAL_NAMES_new();
    sk_GENERAL_NAME_push(dpn->name.fullname, gn);
    return dpn;
}

static DIST_POINT *uri_dp(const char *url)
{
    DIST_POINT *dp = DIST_POINT_new();

    dp->distpoint = uri_dpn(url);
    return dp;
}

/* An IDP whose name is nameRelativeToCRLIssuer "CN=part1". */
static ISSUING_DIST_POINT *relative_idp(void)
{
    ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

    idp->distpoint = DIST_POINT_NAME_new();
    idp->distpoint->type = 1;
    idp->distpoint->name.relativename = sk_X509_NAME_ENTRY_new_null();
    sk_X509_NAME_ENTRY_push(
        idp->distpoint->name.relativename,
        X509_NAME_ENTRY_create_by_txt(NULL, "CN", MBSTRING_ASC,
                                      (const unsigned char *)"part1", -1));
    return idp;
}

static int setup(void **state)
{
    struct pki *p = calloc(1, sizeof(*p));

    p->ca_key = tg_key("EC:P-256");
    p->key = tg_key("EC:P-256");
    p->ca = tg_cert("CA", p->ca_key, NULL, NULL, -TG_DAY, 10 * TG_DAY, TG_CA_BC,
                    TG_CA_KU, NULL, NULL);
    p->leaf = tg_cert("Leaf", p->key, p->ca, p->ca_key, -TG_DAY, 10 * TG_DAY,
                      "CA:FALSE", TG_LEAF_KU, NULL, NULL);
    p->subca = tg_cert("Sub CA", p->key, p->ca, p->ca_key, -TG_DAY, 10 * TG_DAY,
                       TG_CA_BC, TG_CA_KU, NULL, NULL);
    p->dp = uri_dp(URL);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pki *p = *state;

    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->key);
    X509_free(p->ca);
    X509_free(p->leaf);
    X509_free(p->subca);
    DIST_POINT_free(p->dp);
    free(p);
    return 0;
}

/* An empty CRL of issuer, current, with idp (taken) when not NULL. */
static X509_CRL *crl_new(X509 *issuer, EVP_PKEY *key, ISSUING_DIST_POINT *idp,
                         int next_update)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
    ASN1_TIME *n = ASN1_TIME_adj(NULL, time(NULL), 1, 0);

    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    X509_CRL_set1_lastUpdate(crl, t);
    if (next_update)
        X509_CRL_set1_nextUpdate(crl, n);
    if (idp != NULL) {
        assert_int_equal(X509_CRL_add1_ext_i2d(
                             crl, NID_issuing_distribution_point, idp, 1, 0),
                         1);
        ISSUING_DIST_POINT_free(idp);
    }
    assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
    ASN1_TIME_free(t);
    ASN1_TIME_free(n);
    return crl;
}

/* The reason crl is refused for cert, "" when usable; frees crl. */
static const char *why(struct pki *p, X509_CRL *crl, X509 *cert,
                       const DIST_POINT *dp)
{
    static char buf[256];
    const char *w = nk_crl_unusable(crl, cert, p->ca, dp, time(NULL));

    snprintf(buf, sizeof(buf), "%s", w != NULL ? w : "");
    X509_CRL_free(crl);
    return buf;
}

static ISSUING_DIST_POINT *idp_flags(int onlyuser, int onlyca)
{
    ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();

    idp->onlyuser = onlyuser;
    idp->onlyCA = onlyca;
    return idp;
}

static void test_plain_and_age(void **state)
{
    struct pki *p = *state;

    assert_string_equal(
        why(p, crl_new(p->ca, p->ca_key, NULL, 1), p->leaf, p->dp), "");
    assert_non_null(
        strstr(why(p, crl_new(p->ca, p->ca_key, NULL, 0), p->leaf, p->dp),
               "no nextUpdate"));
    /* Signed by another key under the same name. */
    assert_non_null(strstr(
        why(p, crl_new(p->ca, p->key, NULL, 1), p->leaf, p->dp), "signature"));
}

static void test_user_ca_flags(void **state)
{
    struct pki *p = *state;

    assert_string_equal(
        why(p, crl_new(p->ca, p->ca_key, idp_flags(1, 0), 1), p->leaf, p->dp),
        "");
    assert_non_null(strstr(
        why(p, crl_new(p->ca, p->ca_key, idp_flags(1, 0), 1), p->subca, p->dp),
        "end-entity certificates only"));
    assert_string_equal(
        why(p, crl_new(p->ca, p->ca_key, idp_flags(0, 1), 1), p->subca, p->dp),
        "");
    assert_non_null(strstr(
        why(p, crl_new(p->ca, p->ca_key, idp_flags(0, 1), 1), p->leaf, p->dp),
        "CA certificates only"));
}

static void test_other_flags(void **state)
{
    struct pki *p = *state;
    ISSUING_DIST_POINT *idp;

    idp = idp_flags(0, 0);
    idp->indirectCRL = 1;
    assert_non_null(strstr(
        why(p, crl_new(p->ca, p->ca_key, idp, 1), p->leaf, p->dp), "indirect"));
    idp = idp_flags(0, 0);
    idp->onlyattr = 1;
    assert_non_null(
        strstr(why(p, crl_new(p->ca, p->ca_key, idp, 1), p->leaf, p->dp),
               "attribute certificates"));
    idp = idp_flags(0, 0);
    idp->onlysomereasons = ASN1_BIT_STRING_new();
    ASN1_BIT_STRING_set_bit(idp->onlysomereasons, 1, 1);
    assert_non_null(
        strstr(why(p, crl_new(p->ca, p->ca_key, idp, 1), p->leaf, p->dp),
               "only some"));
}

/* The IDP names the distribution point: a fullName URI, or a name
 * relative to the CRL issuer (then a directory name). */
static void test_names(void **state)
{
    struct pki *p = *state;
    ISSUING_DIST_POINT *idp;
    DIST_POINT *dirdp;
    X509_NAME *full;
    GENERAL_NAME *gn;

    idp = idp_flags(0, 0);
    idp->distpoint = uri_dpn("http://127.0.0.1:1/b.crl");
    assert_non_null(
        strstr(why(p, crl_new(p->ca, p->ca_key, idp, 1), p->leaf, p->dp),
               "another partition"));
    idp = idp_flags(0, 0);
    idp->distpoint = uri_dpn(URL);
    assert_string_equal(
        why(p, crl_new(p->ca, p->ca_key, idp, 1), p->leaf, p->dp), "");
    /* nameRelativeToCRLIssuer "CN=part1" = CA's name + CN=part1. */
    full = X509_NAME_dup(X509_get_subject_name(p->ca));
    X509_NAME_add_entry_by_txt(full, "CN", MBSTRING_ASC,
                               (const unsigned char *)"part1", -1, -1, 1);
    dirdp = uri_dp(URL);
    gn = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(gn, GEN_DIRNAME, full);
    sk_GENERAL_NAME_push(dirdp->distpoint->name.fullname, gn);
    assert_string_equal(
        why(p, crl_new(p->ca, p->ca_key, relative_idp(), 1), p->leaf, dirdp),
        "");
    assert_non_null(strstr(
        why(p, crl_new(p->ca, p->ca_key, relative_idp(), 1), p->leaf, p->dp),
        "another partition"));
    DIST_POINT_free(dirdp);
}

/* The issuer's key usage and key identifier. */
static void test_issuer_rules(void **state)
{
    struct pki *p = *state;
    X509 *ca = p->ca;
    X509_CRL *crl;
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    unsigned char id[20] = {1, 2, 3};

    p->ca = tg_cert("CA", p->ca_key, NULL, NULL, -TG_DAY, 10 * TG_DAY, TG_CA_BC,
                    "critical,keyCertSign", NULL, NULL);
    assert_non_null(strstr(
        why(p, crl_new(p->ca, p->ca_key, NULL, 1), p->leaf, p->dp), "cRLSign"));
    X509_free(p->ca);
    /* The CA's SKI (tg_cert sets none): add one, then a CRL naming another. */
    p->ca = tg_cert("CA", p->ca_key, NULL, NULL, -TG_DAY, 10 * TG_DAY, TG_CA_BC,
                    TG_CA_KU, NULL, NULL);
    tg_ext(p->ca, NULL, NID_subject_key_identifier, "hash");
    assert_true(X509_sign(p->ca, p->ca_key, EVP_sha256()) > 0);
    akid->keyid = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(akid->keyid, id, sizeof(id));
    crl = crl_new(p->ca, p->ca_key, NULL, 1);
    assert_int_equal(
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0),
        1);
    assert_true(X509_CRL_sign(crl, p->ca_key, EVP_sha256()) > 0);
    assert_non_null(
        strstr(why(p, crl, p->leaf, p->dp), "authority key identifier"));
    /* The same CRL naming the CA's own key id is fine. */
    ASN1_OCTET_STRING_free(akid->keyid);
    akid->keyid = ASN1_OCTET_STRING_dup(X509_get0_subject_key_id(p->ca));
    crl = crl_new(p->ca, p->ca_key, NULL, 1);
    assert_int_equal(
        X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0),
        1);
    assert_true(X509_CRL_sign(crl, p->ca_key, EVP_sha256()) > 0);
    assert_string_equal(why(p, crl, p->leaf, p->dp), "");
    AUTHORITY_KEYID_free(akid);
    X509_free(p->ca);
    p->ca = ca;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_and_age),
        cmocka_unit_test(test_user_ca_flags),
        cmocka_unit_test(test_other_flags),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_issuer_rules),
    };

    return cmocka_run_group_tests_name("crlcheck", tests, setup, teardown);
}
