/* Unit tests for the signing core (plugin/signing.c) through the fake
 * backend: opening and describing a key, assembling the chain from
 * certificate-chain, certificate, ca-certs and the store, the pre-sign
 * rules, signing with the self-check, and the stale path. Every signature
 * that comes back is checked with OpenSSL, not by the fake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "certgen.h"
#include "fake_signer.h"
#include "signing.h"

static const unsigned char TBS[] = "to be signed";

static void expect_err(const struct nk_err *err, enum nk_errcode code,
                       const char *needle)
{
    assert_int_equal(err->code, code);
    if (needle != NULL && strstr(err->msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err->msg, needle);
}

static int setup(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_reset();
    return 0;
}

/* Opens "fake:k" and expects it to fail with code and needle. */
static void open_fails(const char *id, enum nk_errcode code, const char *needle)
{
    struct nk_signing sg;
    struct nk_config cfg;
    struct nk_err err = {0};

    nk_config_init(&cfg);
    assert_int_equal(nk_signing_open(&sg, id, &cfg, &err), -1);
    expect_err(&err, code, needle);
    nk_signing_release(&sg);
}

/* ---- open ---- */

static void test_open_every_spec(void **state)
{
    enum nk_keyspec spec;
    struct nk_signing sg;
    struct nk_config cfg;
    struct nk_err err = {0};

    (void)state;
    nk_config_init(&cfg);
    for (spec = NK_RSA_2048; spec <= NK_EC_521; spec++) {
        fake_reset();
        fake.key = spec;
        /* every other round, the store says what the key is */
        fake.say_spec = spec % 2 ? spec : NK_KEYSPEC_NONE;
        assert_int_equal(nk_signing_open(&sg, "fake:k", &cfg, &err), 0);
        assert_int_equal(sg.info.spec, spec);
        assert_string_equal(sg.signer->ops->name, "fake");
        assert_string_equal(fake.last_id, "fake:k");
        assert_null(sg.chain);
        nk_signing_release(&sg);
        assert_int_equal(fake.opens, 1);
        assert_int_equal(fake.describes, 1);
        assert_int_equal(fake.frees, 1);
        /* release twice is harmless */
        nk_signing_release(&sg);
        assert_int_equal(fake.frees, 1);
    }
}

static void test_open_errors(void **state)
{
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

    (void)state;
    open_fails("pkcs11:token=x", NK_ERR_VALIDATION, "unsupported key id");
    assert_int_equal(fake.opens, 0);

    fake.open_err = NK_ERR_ACCESS;
    open_fails("fake:k", NK_ERR_ACCESS, "cannot open fake:k");
    assert_int_equal(fake.describes, 0);

    fake_reset();
    fake.describe_err = NK_ERR_TIMEOUT;
    open_fails("fake:k", NK_ERR_TIMEOUT, "describe failed");
    assert_int_equal(fake.frees, 1); /* the open key is closed */

    fake_reset();
    fake.no_pub = 1;
    open_fails("fake:k", NK_ERR_GENERIC,
               "the fake backend found no public key");

    fake_reset();
    fake.pub = ed;
    open_fails("fake:k", NK_ERR_VALIDATION,
               "ED25519 key is not usable with notation");

    fake_reset();
    fake.key = NK_EC_256;
    fake.say_spec = NK_RSA_2048;
    open_fails("fake:k", NK_ERR_GENERIC,
               "the key store says RSA-2048 but the key is EC-256");
}

/* ---- prepare: where the chain comes from ---- */

struct pki {
    X509 *root; /* self-signed, the fake's CA */
    X509 *leaf; /* fake.cert */
    char *files[4];
    int n_files;
};

static void pki_new(struct pki *p, enum nk_keyspec spec)
{
    memset(p, 0, sizeof(*p));
    fake.key = spec;
    fake_leaf(&p->root);
    p->leaf = fake.cert;
}

static const char *pki_file(struct pki *p, X509 *a, X509 *b)
{
    X509 *certs[2] = {a, b};

    p->files[p->n_files] = fake_pem_file(certs, b != NULL ? 2 : 1);
    return p->files[p->n_files++];
}

static void pki_free(struct pki *p)
{
    int i;

    for (i = 0; i < p->n_files; i++) {
        unlink(p->files[i]);
        free(p->files[i]);
    }
    X509_free(p->root);
}

/* Opens the fake key, prepares with cfg; returns what prepare returned. */
static int open_prepare(struct nk_signing *sg, const struct nk_config *cfg,
                        struct nk_err *err)
{
    assert_int_equal(nk_signing_open(sg, "fake:k", cfg, err), 0);
    return nk_signing_prepare(sg, cfg, err);
}

static void assert_chain(struct nk_signing *sg, X509 *leaf, X509 *root)
{
    assert_non_null(sg->chain);
    assert_int_equal(sk_X509_num(sg->chain), 2);
    assert_int_equal(X509_cmp(sk_X509_value(sg->chain, 0), leaf), 0);
    assert_int_equal(X509_cmp(sk_X509_value(sg->chain, 1), root), 0);
}

/* A fake key of one spec, its CA in ca-certs, opened and prepared (the
 * chain is leaf, root). */
struct prepared {
    struct pki p;
    struct nk_config cfg;
    struct nk_signing sg;
};

static void prepared_new(struct prepared *r, enum nk_keyspec spec)
{
    struct nk_err err = {0};

    pki_new(&r->p, spec);
    nk_config_init(&r->cfg);
    nk_config_set(&r->cfg, "ca-certs", pki_file(&r->p, r->p.root, NULL));
    assert_int_equal(open_prepare(&r->sg, &r->cfg, &err), 0);
}

static void prepared_free(struct prepared *r)
{
    nk_signing_release(&r->sg);
    nk_config_release(&r->cfg);
    pki_free(&r->p);
}

static void test_chain_from_store(void **state)
{
    struct pki p;
    struct nk_signing sg;
    struct nk_config cfg;
    struct nk_err err = {0};

    (void)state;
    pki_new(&p, NK_EC_256);
    fake.extra = sk_X509_new_null();
    X509_up_ref(p.root);
    sk_X509_push(fake.extra, p.root);
    nk_config_init(&cfg);
    assert_int_equal(open_prepare(&sg, &cfg, &err), 0);
    assert_chain(&sg, p.leaf, p.root);
    nk_signing_release(&sg);
    pki_free(&p);
}

static void test_chain_from_ca_certs(void **state)
{
    struct prepared r;

    (void)state;
    prepared_new(&r, NK_RSA_2048);
    assert_chain(&r.sg, r.p.leaf, r.p.root);
    prepared_free(&r);
}

/* certificate-chain wins over the store's certificate. */
static void test_chain_from_certificate_chain(void **state)
{
    struct pki p;
    struct nk_signing sg;
    struct nk_config cfg;
    struct nk_err err = {0};
    X509 *store_leaf;

    (void)state;
    pki_new(&p, NK_EC_384);
    X509_up_ref(p.leaf);
    nk_config_init(&cfg);
    nk_config_set(&cfg, "certificate-chain", pki_file(&p, p.leaf, p.root));
    fake_leaf(NULL); /* the store now keeps another leaf */
    store_leaf = fake.cert;
    assert_int_equal(open_prepare(&sg, &cfg, &err), 0);
    assert_chain(&sg, p.leaf, p.root);
    assert_int_not_equal(X509_cmp(sk_X509_value(sg.chain, 0), store_leaf), 0);
    nk_signing_release(&sg);
    nk_config_release(&cfg);
    X509_free(p.leaf);
    pki_free(&p);
}

/* certificate: its first certificate is the leaf, the rest join the pool. */
static void test_chain_from_certificate(void **state)
{
    struct pki p;
    struct nk_signing sg;
    struct nk_config cfg;
    struct nk_err err = {0};

    (void)state;
    pki_new(&p, NK_EC_521);
    X509_up_ref(p.leaf);
    nk_config_init(&cfg);
    nk_config_set(&cfg, "certificate", pki_file(&p, p.leaf, p.root));
    X509_free(fake.cert);
    fake.cert = NULL;
    assert_int_equal(open_prepare(&sg, &cfg, &err), 0);
    assert_chain(&sg, p.leaf, p.root);
    nk_signing_release(&sg);
    nk_config_release(&cfg);
    X509_free(p.leaf);
    pki_free(&p);
}

static void prepare_fails(const struct nk_config *cfg, enum nk_errcode code,
                          const char *needle)
{
    struct nk_signing sg;
    struct nk_err err = {0};

    assert_int_equal(open_prepare(&sg, cfg, &err), -1);
    expect_err(&err, code, needle);
    nk_signing_release(&sg);
}

static void test_prepare_errors(void **state)
{
    struct pki p;
    struct nk_config cfg;
    X509 *other_leaf, *expired, *server;
    EVP_PKEY *other = fake_key(NK_EC_384);

    (void)state;
    pki_new(&p, NK_EC_256);
    nk_config_init(&cfg);

    /* no certificate anywhere */
    X509_free(fake.cert);
    fake.cert = NULL;
    prepare_fails(&cfg, NK_ERR_VALIDATION, "no certificate for the key");

    /* files that are not there or hold no certificate */
    nk_config_set(&cfg, "certificate-chain", "/nonexistent/chain.pem");
    prepare_fails(&cfg, NK_ERR_VALIDATION, "certificate-chain");
    nk_config_release(&cfg);
    nk_config_set(&cfg, "certificate", "/nonexistent/leaf.pem");
    prepare_fails(&cfg, NK_ERR_VALIDATION, "certificate");
    nk_config_release(&cfg);
    fake_leaf(NULL);
    nk_config_set(&cfg, "ca-certs", "/dev/null");
    prepare_fails(&cfg, NK_ERR_VALIDATION,
                  "\"ca-certs\": \"/dev/null\" holds no certificate");
    nk_config_release(&cfg);

    /* a leaf for another key */
    other_leaf = tg_cert("Other", other, p.root, fake_ca_key(), -TG_DAY, TG_DAY,
                         NULL, TG_LEAF_KU, "codeSigning", NULL);
    nk_config_set(&cfg, "certificate-chain", pki_file(&p, other_leaf, p.root));
    prepare_fails(&cfg, NK_ERR_VALIDATION,
                  "does not carry the public key of the fake key");
    nk_config_release(&cfg);
    X509_free(other_leaf);

    /* no issuer for the leaf: the store's leaf alone */
    prepare_fails(&cfg, NK_ERR_VALIDATION,
                  "incomplete certificate chain: no issuer certificate");

    /* expired, and a TLS server certificate */
    expired =
        tg_cert("Expired", fake_key(NK_EC_256), p.root, fake_ca_key(),
                -2 * TG_DAY, -TG_DAY, NULL, TG_LEAF_KU, "codeSigning", NULL);
    server = tg_cert("Server", fake_key(NK_EC_256), p.root, fake_ca_key(),
                     -TG_DAY, TG_DAY, NULL, TG_LEAF_KU, "serverAuth", NULL);
    nk_config_set(&cfg, "certificate-chain", pki_file(&p, expired, p.root));
    prepare_fails(&cfg, NK_ERR_VALIDATION,
                  "\"/C=US/ST=WA/O=Test/CN=Expired\" expired on");
    nk_config_set(&cfg, "certificate-chain", pki_file(&p, server, p.root));
    prepare_fails(&cfg, NK_ERR_VALIDATION, "has extended key usage serverAuth");
    nk_config_release(&cfg);
    X509_free(expired);
    X509_free(server);
    pki_free(&p);
}

/* revocation-check-before-sign: a chain without revocation information
 * passes; a leaf whose OCSP responder cannot be reached is refused. */
static void test_prepare_revocation(void **state)
{
    struct pki p;
    struct nk_signing sg;
    struct nk_config cfg;
    struct nk_err err = {0};
    X509 *ocsp_leaf;

    (void)state;
    pki_new(&p, NK_EC_256);
    nk_config_init(&cfg);
    nk_config_set(&cfg, "ca-certs", pki_file(&p, p.root, NULL));
    nk_config_set(&cfg, "revocation-check-before-sign", "maybe");
    prepare_fails(&cfg, NK_ERR_VALIDATION, "revocation-check-before-sign");
    nk_config_set(&cfg, "revocation-check-before-sign", "true");
    assert_int_equal(open_prepare(&sg, &cfg, &err), 0);
    nk_signing_release(&sg);

    /* a closed port on the loopback: refused at once */
    ocsp_leaf = tg_cert("OCSP Leaf", fake_key(NK_EC_256), p.root, fake_ca_key(),
                        -TG_DAY, TG_DAY, NULL, TG_LEAF_KU, "codeSigning", NULL);
    tg_ext(ocsp_leaf, p.root, NID_info_access, "OCSP;URI:http://127.0.0.1:1/");
    assert_true(X509_sign(ocsp_leaf, fake_ca_key(), EVP_sha256()) > 0);
    X509_free(fake.cert);
    fake.cert = ocsp_leaf;
    nk_config_set(&cfg, "ocsp-timeout", "1");
    prepare_fails(&cfg, NK_ERR_VALIDATION,
                  "refusing to sign: revocation status of certificate "
                  "\"/C=US/ST=WA/O=Test/CN=OCSP Leaf\"");
    nk_config_release(&cfg);
    pki_free(&p);
}

/* ---- sign ---- */

static void test_sign_every_spec(void **state)
{
    enum nk_keyspec spec;
    struct prepared r;
    struct nk_err err = {0};
    unsigned char *sig = NULL;
    size_t siglen = 0;

    (void)state;
    for (spec = NK_RSA_2048; spec <= NK_EC_521; spec++) {
        fake_reset();
        prepared_new(&r, spec);
        assert_int_equal(
            nk_signing_sign(&r.sg, TBS, sizeof(TBS), &sig, &siglen, &err), 0);
        assert_int_equal(siglen, nk_keyspec_sig_len(spec));
        assert_true(
            fake_openssl_verify(r.p.leaf, spec, TBS, sizeof(TBS), sig, siglen));
        /* and not for other bytes */
        assert_false(fake_openssl_verify(r.p.leaf, spec, TBS, sizeof(TBS) - 1,
                                         sig, siglen));
        free(sig);
        prepared_free(&r);
    }
}

/* Without prepare (doctor, cert generate-test) the store's key checks. */
static void test_sign_without_chain(void **state)
{
    struct nk_signing sg;
    struct nk_config cfg;
    struct nk_err err = {0};
    unsigned char *sig = NULL;
    size_t siglen = 0;
    X509 *root;

    (void)state;
    fake.key = NK_RSA_3072;
    fake_leaf(&root);
    nk_config_init(&cfg);
    assert_int_equal(nk_signing_open(&sg, "fake:k", &cfg, &err), 0);
    assert_int_equal(
        nk_signing_sign(&sg, TBS, sizeof(TBS), &sig, &siglen, &err), 0);
    assert_true(fake_openssl_verify(fake.cert, NK_RSA_3072, TBS, sizeof(TBS),
                                    sig, siglen));
    free(sig);
    nk_signing_release(&sg);
    X509_free(root);
}

/* Signing fails with code and a message holding needle, and not absent
 * (unless NULL); no signature is left. */
static void sign_fails(enum nk_errcode code, const char *needle,
                       const char *absent)
{
    struct prepared r;
    struct nk_err err = {0};
    unsigned char *sig = (unsigned char *)"x";
    size_t siglen = 1;

    prepared_new(&r, NK_EC_256);
    assert_int_equal(
        nk_signing_sign(&r.sg, TBS, sizeof(TBS), &sig, &siglen, &err), -1);
    expect_err(&err, code, needle);
    if (absent != NULL && strstr(err.msg, absent) != NULL)
        fail_msg("message \"%s\" has \"%s\"", err.msg, absent);
    assert_null(sig);
    assert_int_equal(siglen, 0);
    prepared_free(&r);
}

static void test_sign_errors(void **state)
{
    (void)state;
    fake.sign_err = NK_ERR_THROTTLED;
    sign_fails(NK_ERR_THROTTLED, "fake: sign failed", NULL);
    assert_int_equal(fake.stales, 0);
}

/* A bad signature never leaves: with stale the backend drops its cached
 * description and the message says to run again; without, it does not. */
static void test_sign_corrupt(void **state)
{
    (void)state;
    fake.corrupt = 1;
    sign_fails(NK_ERR_GENERIC, "the fake key store returned a bad signature",
               NULL);
    assert_int_equal(fake.signs, 1);
    assert_int_equal(fake.stales, 1);
    fake_reset();
    fake.corrupt = 1;
    sign_fails(NK_ERR_GENERIC, "key may have been replaced", NULL);

    fake_reset();
    fake.corrupt = 1;
    fake.bare = 1;
    sign_fails(NK_ERR_GENERIC, "returned a bad signature", "replaced");
    assert_int_equal(fake.stales, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_every_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_from_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_from_ca_certs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_chain_from_certificate_chain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_from_certificate, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prepare_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_revocation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sign_every_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_without_chain, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sign_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sign_corrupt, setup, teardown),
    };

    return cmocka_run_group_tests_name("signing", tests, NULL, NULL);
}
