/* libFuzzer: a CRL (DER) fetched from the fixed leaf's distribution point
 * (fixtures.h): crl.c's parse and every rule of crlcheck.c, then the
 * serial lookup of a usable CRL. Each input is also re-signed with the
 * fixture root's key, so the rules behind the signature check and the
 * lookup see fuzzed data too. */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common.h"
#include "fixtures.h"
#include "verify/revoke.h"

#define URL "http://crl.nk.test/root.crl"

static X509 *leaf, *root;
static EVP_PKEY *root_key;
static STACK_OF(DIST_POINT) * dps;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    leaf = fx_cert(FX_LEAF_PEM);
    root = fx_cert(FX_ROOT_PEM);
    root_key = fx_key(FX_ROOT_KEY_PEM);
    dps = X509_get_ext_d2i(leaf, NID_crl_distribution_points, NULL, NULL);
    if (sk_DIST_POINT_num(dps) < 1)
        abort();
    return 0;
}

static void check(const unsigned char *der, size_t n, time_t signing_time)
{
    struct nk_verify_opts o = {.now = (time_t)FX_NOW,
                               .signing_time = signing_time};
    struct nk_rev_cert rc = {.reason_code = -1};
    const char *why;
    X509_CRL *crl = nk_crl_parse(der, n, leaf, root,
                                 sk_DIST_POINT_value(dps, 0), o.now, &why);

    if (crl != NULL) {
        nk_crl_lookup(leaf, crl, URL, &o, &rc);
        fx_note("status %d reason %d: %s", (int)rc.status, rc.reason_code,
                rc.detail);
    } else {
        fx_note("unusable: %s", why);
    }
    X509_CRL_free(crl);
}

static void resigned(const uint8_t *data, size_t size, time_t signing_time)
{
    const unsigned char *p = data;
    X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)size);
    unsigned char *der = NULL;
    int len;

    if (crl != NULL && X509_CRL_sign(crl, root_key, EVP_sha256()) > 0) {
        len = i2d_X509_CRL(crl, &der);
        if (len > 0)
            check(der, (size_t)len, signing_time);
    }
    OPENSSL_free(der);
    X509_CRL_free(crl);
    ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an authentic signing time (signingAuthority) for half the inputs */
    time_t signing_time = size & 1 ? (time_t)FX_NOW - 2 * 86400 : 0;

    check(data, size, signing_time);
    resigned(data, size, signing_time);
    return 0;
}
