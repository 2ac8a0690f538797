/* libFuzzer: an OCSP responder's answer (DER) for a fixed leaf, issuer and
 * request nonce (fixtures.h), through ocsp.c's checks: response status,
 * basic response, nonce, signer and chain, the certificate's entry and its
 * freshness. Each input is also re-signed with the fixture root's key, so
 * the entry checks behind the signature see fuzzed data too. */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "common.h"
#include "fixtures.h"
#include "verify/revoke.h"

#define URL "http://ocsp.nk.test/"

static X509 *leaf, *root;
static EVP_PKEY *root_key;
static STACK_OF(X509) * chain;
static OCSP_CERTID *id;
static OCSP_REQUEST *req;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    OCSP_CERTID *dup;

    (void)argc;
    (void)argv;
    leaf = fx_cert(FX_LEAF_PEM);
    root = fx_cert(FX_ROOT_PEM);
    root_key = fx_key(FX_ROOT_KEY_PEM);
    chain = sk_X509_new_null();
    id = OCSP_cert_to_id(NULL, leaf, root);
    req = OCSP_REQUEST_new();
    dup = id != NULL ? OCSP_CERTID_dup(id) : NULL;
    if (chain == NULL || !sk_X509_push(chain, leaf) ||
        !sk_X509_push(chain, root) || req == NULL || dup == NULL ||
        !OCSP_request_add0_id(req, dup) ||
        !OCSP_request_add1_nonce(req, (unsigned char *)FX_OCSP_NONCE,
                                 (int)sizeof(FX_OCSP_NONCE)))
        abort();
    return 0;
}

static void check(const unsigned char *der, size_t n, time_t signing_time)
{
    struct nk_verify_opts o = {.now = (time_t)FX_NOW,
                               .signing_time = signing_time};
    struct nk_rev_cert rc = {.reason_code = -1};

    if (nk_ocsp_answer(der, n, req, id, chain, 1, URL, &o, &rc) == 0)
        fx_note("status %d reason %d: %s", (int)rc.status, rc.reason_code,
                rc.detail);
    else
        fx_note("fault: %s", rc.detail);
}

/* A new basic response with the entries, extensions and certificates of
 * bs (OpenSSL cannot re-sign bs in place when its responder id is by
 * key), signed by the root (responder id by name). */
static OCSP_BASICRESP *copy(OCSP_BASICRESP *bs)
{
    OCSP_BASICRESP *to = OCSP_BASICRESP_new();
    const STACK_OF(X509) *certs = OCSP_resp_get0_certs(bs);
    ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
    OCSP_SINGLERESP *from, *one;
    int i, j, st, reason;

    for (i = 0; to != NULL && i < OCSP_resp_count(bs); i++) {
        from = OCSP_resp_get0(bs, i);
        rev = thisupd = nextupd = NULL;
        st = OCSP_single_get0_status(from, &reason, &rev, &thisupd, &nextupd);
        one = OCSP_basic_add1_status(
            to, (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(from), st, reason, rev,
            thisupd, nextupd);
        for (j = 0; one != NULL && j < OCSP_SINGLERESP_get_ext_count(from); j++)
            OCSP_SINGLERESP_add_ext(one, OCSP_SINGLERESP_get_ext(from, j), -1);
    }
    for (i = 0; to != NULL && i < OCSP_BASICRESP_get_ext_count(bs); i++)
        OCSP_BASICRESP_add_ext(to, OCSP_BASICRESP_get_ext(bs, i), -1);
    for (i = 0; to != NULL && i < sk_X509_num(certs); i++)
        OCSP_basic_add1_cert(to, sk_X509_value(certs, i));
    if (to != NULL && OCSP_basic_sign(to, root, root_key, EVP_sha256(), NULL,
                                      OCSP_NOCERTS) != 1) {
        OCSP_BASICRESP_free(to);
        to = NULL;
    }
    return to;
}

static void resigned(const uint8_t *data, size_t size, time_t signing_time)
{
    const unsigned char *p = data;
    OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)size);
    OCSP_BASICRESP *bs = resp != NULL ? OCSP_response_get1_basic(resp) : NULL;
    OCSP_BASICRESP *signed_bs = bs != NULL ? copy(bs) : NULL;
    OCSP_RESPONSE *again = NULL;
    unsigned char *der = NULL;
    int len;

    if (signed_bs != NULL)
        again =
            OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, signed_bs);
    len = again != NULL ? i2d_OCSP_RESPONSE(again, &der) : -1;
    if (len > 0)
        check(der, (size_t)len, signing_time);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(again);
    OCSP_BASICRESP_free(signed_bs);
    OCSP_BASICRESP_free(bs);
    OCSP_RESPONSE_free(resp);
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
