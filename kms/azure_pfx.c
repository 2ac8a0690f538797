/* PKCS#12 reading: certificate bags only, or key and certificate. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include "azure_pfx.h"
#include "common/log.h"

/* The legacy provider (RC2, the 40-bit schemes of old PFX files) beside
 * the default one, loaded for one retry and unloaded after it: a provider
 * left loaded is memory never given back. */
struct legacy {
    OSSL_PROVIDER *def, *leg;
};

static int legacy_load(struct legacy *l)
{
    l->def = OSSL_PROVIDER_load(NULL, "default");
    l->leg = l->def != NULL ? OSSL_PROVIDER_load(NULL, "legacy") : NULL;
    ERR_clear_error();
    nk_info("PKCS#12: legacy provider %s",
            l->leg != NULL ? "loaded" : "unavailable");
    return l->leg != NULL;
}

static void legacy_unload(struct legacy *l)
{
    if (l->leg != NULL)
        OSSL_PROVIDER_unload(l->leg);
    if (l->def != NULL)
        OSSL_PROVIDER_unload(l->def);
    l->leg = l->def = NULL;
}

static PKCS12 *parse_der(const unsigned char *der, size_t n, const char *what,
                         struct nk_err *err)
{
    const unsigned char *q = der;
    PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)n);

    if (p12 == NULL || q != der + n) {
        PKCS12_free(p12);
        nk_err_ssl(err, NK_ERR_VALIDATION, "%s is not a PKCS#12 (PFX) file",
                   what);
        return NULL;
    }
    return p12;
}

/* The certificate bags of one SafeContents. */
static void take_certs(STACK_OF(PKCS12_SAFEBAG) * bags, STACK_OF(X509) * sk)
{
    int i;
    X509 *x;

    for (i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
        PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);

        if (PKCS12_SAFEBAG_get_nid(bag) != NID_certBag ||
            PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
            continue;
        x = PKCS12_SAFEBAG_get1_cert(bag);
        if (x != NULL)
            sk_X509_push(sk, x);
    }
}

/* Bags of one authsafe: plain data, or encrypted data under an empty or
 * absent password (Key Vault's). NULL when it cannot be opened. */
static STACK_OF(PKCS12_SAFEBAG) * open_safe(PKCS7 *p7)
{
    STACK_OF(PKCS12_SAFEBAG) * bags;
    int nid = OBJ_obj2nid(p7->type);

    if (nid == NID_pkcs7_data)
        return PKCS12_unpack_p7data(p7);
    if (nid != NID_pkcs7_encrypted)
        return NULL;
    bags = PKCS12_unpack_p7encdata(p7, NULL, 0);
    if (bags == NULL)
        bags = PKCS12_unpack_p7encdata(p7, "", 0);
    return bags;
}

static int certs_once(PKCS12 *p12, STACK_OF(X509) * sk)
{
    STACK_OF(PKCS7) *safes = PKCS12_unpack_authsafes(p12);
    STACK_OF(PKCS12_SAFEBAG) * bags;
    int i, ok = safes != NULL;

    for (i = 0; ok && i < sk_PKCS7_num(safes); i++) {
        PKCS7 *p7 = sk_PKCS7_value(safes, i);
        int nid = OBJ_obj2nid(p7->type);

        /* Key bags live in the data safes, shrouded: they are skipped
         * by take_certs, never decrypted. */
        bags = open_safe(p7);
        if (bags == NULL && nid == NID_pkcs7_encrypted)
            ok = 0;
        take_certs(bags, sk);
        sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
    sk_PKCS7_pop_free(safes, PKCS7_free);
    return ok;
}

int nk_azure_pfx_certs(const unsigned char *der, size_t n, const char *what,
                       STACK_OF(X509) * *out, struct nk_err *err)
{
    PKCS12 *p12 = parse_der(der, n, what, err);
    STACK_OF(X509) *sk = sk_X509_new_null();
    struct legacy l = {NULL, NULL};
    int ok;

    *out = NULL;
    if (p12 == NULL) {
        sk_X509_free(sk);
        return -1;
    }
    ok = certs_once(p12, sk);
    if (!ok && legacy_load(&l)) {
        sk_X509_pop_free(sk, X509_free);
        sk = sk_X509_new_null();
        ok = certs_once(p12, sk);
    }
    legacy_unload(&l);
    PKCS12_free(p12);
    if (!ok || sk_X509_num(sk) == 0) {
        sk_X509_pop_free(sk, X509_free);
        return nk_err_ssl(err, NK_ERR_VALIDATION,
                          "%s: no certificate could "
                          "be read from the PKCS#12 (PFX) data",
                          what);
    }
    ERR_clear_error();
    *out = sk;
    return 0;
}

static int key_once(PKCS12 *p12, const char *password, EVP_PKEY **key,
                    X509 **cert, STACK_OF(X509) * *ca)
{
    if (PKCS12_parse(p12, password, key, cert, ca) == 1)
        return 1;
    /* An empty password and an absent one are different MACs. */
    if ((password == NULL || password[0] == '\0') &&
        PKCS12_parse(p12, password == NULL ? "" : NULL, key, cert, ca) == 1)
        return 1;
    return 0;
}

int nk_azure_pfx_key(const unsigned char *der, size_t n, const char *password,
                     const char *what, EVP_PKEY **key, X509 **cert,
                     STACK_OF(X509) * *ca, struct nk_err *err)
{
    PKCS12 *p12 = parse_der(der, n, what, err);
    struct legacy l = {NULL, NULL};
    int ok;

    *key = NULL;
    *cert = NULL;
    *ca = NULL;
    if (p12 == NULL)
        return -1;
    /* Checked first, so a wrong password is told apart from a scheme
     * OpenSSL cannot decrypt. */
    if (PKCS12_mac_present(p12) &&
        PKCS12_verify_mac(p12, password,
                          password ? (int)strlen(password) : 0) != 1 &&
        !((password == NULL || password[0] == '\0') &&
          PKCS12_verify_mac(p12, password == NULL ? "" : NULL, 0) == 1)) {
        PKCS12_free(p12);
        ERR_clear_error();
        return nk_err_set(err, NK_ERR_ACCESS,
                          "%s: wrong password (set "
                          "AZURE_CLIENT_CERTIFICATE_PASSWORD)",
                          what);
    }
    ok = key_once(p12, password, key, cert, ca);
    if (!ok && legacy_load(&l))
        ok = key_once(p12, password, key, cert, ca);
    legacy_unload(&l);
    PKCS12_free(p12);
    if (!ok || *key == NULL || *cert == NULL) {
        EVP_PKEY_free(*key);
        X509_free(*cert);
        sk_X509_pop_free(*ca, X509_free);
        *key = NULL;
        *cert = NULL;
        *ca = NULL;
        return nk_err_ssl(err, NK_ERR_VALIDATION,
                          "%s: no private key with "
                          "its certificate in the PKCS#12 (PFX) file",
                          what);
    }
    ERR_clear_error();
    return 0;
}
