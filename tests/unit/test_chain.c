/* Chain assembly and notation's code-signing certificate rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "certgen.h"
#include "verify/chain.h"

struct pki {
    EVP_PKEY *root_key, *int_key, *leaf_key;
    X509 *root, *inter;
};

static int setup(void **state)
{
    struct pki *p = calloc(1, sizeof(*p));

    p->root_key = tg_key("EC:P-256");
    p->int_key = tg_key("EC:P-256");
    p->leaf_key = tg_key("EC:P-256");
    p->root = tg_cert("Root", p->root_key, NULL, NULL, -TG_DAY, 10 * TG_DAY,
                      TG_CA_BC, TG_CA_KU, NULL, NULL);
    p->inter = tg_cert("Intermediate", p->int_key, p->root, p->root_key,
                       -TG_DAY, 10 * TG_DAY, TG_CA_BC, TG_CA_KU, NULL, NULL);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct pki *p = *state;

    EVP_PKEY_free(p->root_key);
    EVP_PKEY_free(p->int_key);
    EVP_PKEY_free(p->leaf_key);
    X509_free(p->root);
    X509_free(p->inter);
    free(p);
    return 0;
}

static X509 *leaf(struct pki *p, long from, long to, const char *ku,
                  const char *eku)
{
    return tg_cert("Leaf", p->leaf_key, p->inter, p->int_key, from, to,
                   "CA:FALSE", ku, eku, NULL);
}

/* Runs the rules on leaf, inter, root; returns the error message or "". */
static const char *check3(struct pki *p, X509 *l, struct nk_err *err)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    int r;

    sk_X509_push(sk, l);
    sk_X509_push(sk, p->inter);
    sk_X509_push(sk, p->root);
    nk_err_clear(err);
    r = nk_chain_check_codesigning(sk, time(NULL), err);
    sk_X509_free(sk);
    X509_free(l);
    if (r == 0)
        return "";
    assert_int_equal(err->code, NK_ERR_VALIDATION);
    return err->msg;
}

static void test_good_chain(void **state)
{
    struct pki *p = *state;
    struct nk_err err;

    assert_string_equal(
        check3(p, leaf(p, -10, TG_DAY, TG_LEAF_KU, "codeSigning"), &err), "");
    assert_string_equal(check3(p, leaf(p, -10, TG_DAY, TG_LEAF_KU, NULL), &err),
                        "");
}

static void test_leaf_rules(void **state)
{
    struct pki *p = *state;
    struct nk_err err;

    assert_non_null(strstr(
        check3(p, leaf(p, -10, TG_DAY, TG_LEAF_KU, "codeSigning,serverAuth"),
               &err),
        "serverAuth"));
    assert_non_null(
        strstr(check3(p, leaf(p, -10, TG_DAY, TG_LEAF_KU, "clientAuth"), &err),
               "clientAuth"));
    assert_non_null(strstr(
        check3(p, leaf(p, -10, TG_DAY, TG_LEAF_KU, "timeStamping"), &err),
        "timeStamping"));
    assert_non_null(
        strstr(check3(p, leaf(p, -10, TG_DAY, "digitalSignature", NULL), &err),
               "not critical"));
    assert_non_null(strstr(check3(p, leaf(p, -10, TG_DAY, NULL, NULL), &err),
                           "no keyUsage"));
    assert_non_null(strstr(check3(p,
                                  leaf(p, -10, TG_DAY,
                                       "critical,digitalSignature,"
                                       "keyEncipherment",
                                       NULL),
                                  &err),
                           "forbids"));
    assert_non_null(strstr(
        check3(p, leaf(p, -10, TG_DAY, "critical,keyAgreement", NULL), &err),
        "digitalSignature"));
    /* The message names the certificate. */
    assert_non_null(strstr(err.msg, "CN=Leaf"));
}

static void test_validity(void **state)
{
    struct pki *p = *state;
    struct nk_err err;

    assert_non_null(
        strstr(check3(p, leaf(p, -2 * TG_DAY, -TG_DAY, TG_LEAF_KU, NULL), &err),
               "expired on"));
    assert_non_null(
        strstr(check3(p, leaf(p, TG_DAY, 2 * TG_DAY, TG_LEAF_KU, NULL), &err),
               "not valid before"));
}

static void test_shape(void **state)
{
    struct pki *p = *state;
    struct nk_err err = {0};
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *l = leaf(p, -10, TG_DAY, TG_LEAF_KU, NULL);

    /* leaf, root: root did not issue the leaf */
    sk_X509_push(sk, l);
    sk_X509_push(sk, p->root);
    assert_int_equal(nk_chain_check_codesigning(sk, time(NULL), &err), -1);
    assert_non_null(strstr(err.msg, "not issued by the next"));
    /* leaf, intermediate: no root */
    nk_err_clear(&err);
    (void)sk_X509_pop(sk);
    sk_X509_push(sk, p->inter);
    assert_int_equal(nk_chain_check_codesigning(sk, time(NULL), &err), -1);
    assert_non_null(strstr(err.msg, "not self-signed"));
    /* empty */
    nk_err_clear(&err);
    sk_X509_zero(sk);
    assert_int_equal(nk_chain_check_codesigning(sk, time(NULL), &err), -1);
    sk_X509_free(sk);
    X509_free(l);
}

static void test_self_signed_leaf(void **state)
{
    struct pki *p = *state;
    struct nk_err err = {0};
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *c = tg_cert("Self", p->leaf_key, NULL, NULL, -10, TG_DAY, NULL,
                      TG_LEAF_KU, "codeSigning", NULL);

    sk_X509_push(sk, c);
    assert_int_equal(nk_chain_check_codesigning(sk, time(NULL), &err), 0);
    sk_X509_pop_free(sk, X509_free);
}

static void test_ca_rules(void **state)
{
    struct pki *p = *state;
    struct nk_err err = {0};
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *bad_int = tg_cert("NotCA", p->int_key, p->root, p->root_key, -10,
                            TG_DAY, "CA:FALSE", TG_CA_KU, NULL, NULL);
    X509 *l = tg_cert("Leaf", p->leaf_key, bad_int, p->int_key, -10, TG_DAY,
                      NULL, TG_LEAF_KU, NULL, NULL);

    sk_X509_push(sk, l);
    sk_X509_push(sk, bad_int);
    sk_X509_push(sk, p->root);
    assert_int_equal(nk_chain_check_codesigning(sk, time(NULL), &err), -1);
    assert_non_null(strstr(err.msg, "is not a CA"));
    sk_X509_free(sk);
    X509_free(l);
    X509_free(bad_int);
}

/* leaf <- lower CA <- upper CA (pathLenConstraint n) <- root: one CA sits
 * below the upper one, so n = 1 is exactly enough and n = 0 is one short. */
static const char *check_pathlen(struct pki *p, const char *upper_bc,
                                 struct nk_err *err)
{
    EVP_PKEY *lower_key = tg_key("EC:P-256");
    X509 *upper = tg_cert("Upper", p->int_key, p->root, p->root_key, -10,
                          TG_DAY, upper_bc, TG_CA_KU, NULL, NULL);
    X509 *lower = tg_cert("Lower", lower_key, upper, p->int_key, -10, TG_DAY,
                          TG_CA_BC, TG_CA_KU, NULL, NULL);
    X509 *l = tg_cert("Leaf", p->leaf_key, lower, lower_key, -10, TG_DAY,
                      "CA:FALSE", TG_LEAF_KU, "codeSigning", NULL);
    STACK_OF(X509) *sk = sk_X509_new_null();
    int r;

    sk_X509_push(sk, l);
    sk_X509_push(sk, lower);
    sk_X509_push(sk, upper);
    sk_X509_push(sk, p->root);
    nk_err_clear(err);
    r = nk_chain_check_codesigning(sk, time(NULL), err);
    sk_X509_free(sk);
    X509_free(l);
    X509_free(lower);
    X509_free(upper);
    EVP_PKEY_free(lower_key);
    return r == 0 ? "" : err->msg;
}

static void test_pathlen(void **state)
{
    struct pki *p = *state;
    struct nk_err err = {0};

    assert_string_equal(check_pathlen(p, "critical,CA:TRUE,pathlen:1", &err),
                        "");
    assert_non_null(strstr(check_pathlen(p, "critical,CA:TRUE,pathlen:0", &err),
                           "allows 0 intermediate CAs below it"));
    assert_int_equal(err.code, NK_ERR_VALIDATION);
}

static void test_sha1_and_key_size(void **state)
{
    struct pki *p = *state;
    struct nk_err err;
    EVP_PKEY *small = tg_key("RSA:1024");
    X509 *l;

    l = tg_cert("Leaf", p->leaf_key, p->inter, p->int_key, -10, TG_DAY, NULL,
                TG_LEAF_KU, NULL, EVP_sha1());
    assert_non_null(strstr(check3(p, l, &err), "SHA-1"));
    l = tg_cert("Leaf", small, p->inter, p->int_key, -10, TG_DAY, NULL,
                TG_LEAF_KU, NULL, NULL);
    assert_non_null(strstr(check3(p, l, &err), "1024 bits"));
    EVP_PKEY_free(small);
}

static void test_build(void **state)
{
    struct pki *p = *state;
    struct nk_err err = {0};
    STACK_OF(X509) *pool = sk_X509_new_null(), *chain = NULL;
    EVP_PKEY *other_key = tg_key("EC:P-256");
    X509 *other = tg_cert("Unrelated", other_key, NULL, NULL, -10, TG_DAY,
                          TG_CA_BC, TG_CA_KU, NULL, NULL);
    X509 *l = leaf(p, -10, TG_DAY, TG_LEAF_KU, NULL);

    /* Any order, with an unrelated certificate: it is dropped. */
    sk_X509_push(pool, p->root);
    sk_X509_push(pool, other);
    sk_X509_push(pool, p->inter);
    assert_int_equal(nk_chain_build(l, pool, &chain, &err), 0);
    assert_int_equal(sk_X509_num(chain), 3);
    assert_int_equal(X509_cmp(sk_X509_value(chain, 1), p->inter), 0);
    assert_int_equal(X509_cmp(sk_X509_value(chain, 2), p->root), 0);
    sk_X509_pop_free(chain, X509_free);
    /* Without the intermediate: an error that says what to do. */
    (void)sk_X509_pop(pool);
    assert_int_equal(nk_chain_build(l, pool, &chain, &err), -1);
    assert_null(chain);
    assert_non_null(strstr(err.msg, "incomplete certificate chain"));
    assert_non_null(strstr(err.msg, "ca-certs"));
    sk_X509_free(pool);
    X509_free(l);
    X509_free(other);
    EVP_PKEY_free(other_key);
}

/* A chain from nk_chain_build skips the repeated signature checks but not
 * the rules. */
static void test_check_built(void **state)
{
    struct pki *p = *state;
    struct nk_err err = {0};
    STACK_OF(X509) *pool = sk_X509_new_null(), *chain = NULL;
    X509 *good = leaf(p, -10, TG_DAY, TG_LEAF_KU, "codeSigning");
    X509 *bad = leaf(p, -10, TG_DAY, TG_LEAF_KU, "serverAuth");

    sk_X509_push(pool, p->inter);
    sk_X509_push(pool, p->root);
    assert_int_equal(nk_chain_build(good, pool, &chain, &err), 0);
    assert_int_equal(nk_chain_check_built(chain, time(NULL), &err), 0);
    assert_int_equal(
        nk_chain_check_built(chain, time(NULL) + 20 * TG_DAY, &err), -1);
    assert_non_null(strstr(err.msg, "expired on"));
    sk_X509_pop_free(chain, X509_free);
    nk_err_clear(&err);
    assert_int_equal(nk_chain_build(bad, pool, &chain, &err), 0);
    assert_int_equal(nk_chain_check_built(chain, time(NULL), &err), -1);
    assert_non_null(strstr(err.msg, "serverAuth"));
    sk_X509_pop_free(chain, X509_free);
    sk_X509_free(pool);
    X509_free(good);
    X509_free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_chain),
        cmocka_unit_test(test_leaf_rules),
        cmocka_unit_test(test_validity),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_self_signed_leaf),
        cmocka_unit_test(test_ca_rules),
        cmocka_unit_test(test_pathlen),
        cmocka_unit_test(test_sha1_and_key_size),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_check_built),
    };

    return cmocka_run_group_tests_name("chain", tests, setup, teardown);
}
