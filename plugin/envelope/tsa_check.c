/* Checks on a timestamp authority's answer before its token is attached:
 * OpenSSL's TS_RESP_verify_response for the signature and the chain, plus
 * explicit checks where OpenSSL says too little or accepts too much. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "common/mem.h"
#include "tsa.h"

#define BAD "timestamp authority answer rejected: "

static int check_status(TS_RESP *resp, struct nk_err *err)
{
    TS_STATUS_INFO *si = TS_RESP_get_status_info(resp);
    const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
    long st = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
    const ASN1_UTF8STRING *t0;

    /* 0 granted, 1 grantedWithMods: both carry a token. */
    if (st == 0 || st == 1) {
        if (TS_RESP_get_token(resp) == NULL ||
            TS_RESP_get_tst_info(resp) == NULL)
            return nk_err_set(err, NK_ERR_GENERIC,
                              BAD "status granted but no token");
        return 0;
    }
    t0 = sk_ASN1_UTF8STRING_num(text) > 0 ? sk_ASN1_UTF8STRING_value(text, 0)
                                          : NULL;
    return nk_err_set(
        err, NK_ERR_GENERIC, BAD "status %ld (not granted)%s%.*s", st,
        t0 != NULL ? ": " : "", t0 != NULL ? ASN1_STRING_length(t0) : 0,
        t0 != NULL ? (const char *)ASN1_STRING_get0_data(t0) : "");
}

/* The token must answer our question: same nonce, same imprint. */
static int check_tst_info(TS_REQ *req, TS_TST_INFO *ti, struct nk_err *err)
{
    const ASN1_INTEGER *want = TS_REQ_get_nonce(req);
    const ASN1_INTEGER *got = TS_TST_INFO_get_nonce(ti);
    TS_MSG_IMPRINT *a = TS_REQ_get_msg_imprint(req);
    TS_MSG_IMPRINT *b = TS_TST_INFO_get_msg_imprint(ti);

    if (TS_TST_INFO_get_version(ti) != 1)
        return nk_err_set(err, NK_ERR_GENERIC, BAD "token version %ld, not 1",
                          TS_TST_INFO_get_version(ti));
    if (got == NULL)
        return nk_err_set(err, NK_ERR_GENERIC, BAD "the token has no nonce");
    if (ASN1_INTEGER_cmp(want, got) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "nonce mismatch: the token answers another "
                              "request");
    if (OBJ_cmp(TS_MSG_IMPRINT_get_algo(a)->algorithm,
                TS_MSG_IMPRINT_get_algo(b)->algorithm) != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "messageImprint hash algorithm differs from "
                              "the request's");
    if (ASN1_STRING_cmp(TS_MSG_IMPRINT_get_msg(a), TS_MSG_IMPRINT_get_msg(b)) !=
        0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "messageImprint does not match the signature");
    return 0;
}

/* RFC 3161 2.3 and notation: extendedKeyUsage present, critical, and
 * id-kp-timeStamping only; keyUsage, when present, with digitalSignature. */
static int check_tsa_cert(X509 *tsa, struct nk_err *err)
{
    int crit = -1;
    EXTENDED_KEY_USAGE *eku =
        X509_get_ext_d2i(tsa, NID_ext_key_usage, &crit, NULL);
    uint32_t ku = X509_get_key_usage(tsa);
    int has = eku != NULL;
    int n = has ? sk_ASN1_OBJECT_num(eku) : 0;
    int ts =
        n == 1 && OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_time_stamp;

    EXTENDED_KEY_USAGE_free(eku);
    if (!has)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "the TSA certificate has no extended key usage");
    if (!ts)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "the TSA certificate's extended key usage must "
                              "be timeStamping only (it has %d usages)",
                          n);
    if (crit != 1)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "the TSA certificate's extended key usage is "
                              "not critical");
    if (ku != UINT32_MAX && !(ku & KU_DIGITAL_SIGNATURE))
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "the TSA certificate's key usage lacks "
                              "digitalSignature");
    return 0;
}

/* The signed ESS signing-certificate-v2 attribute (RFC 5816) must name
 * the TSA certificate: notation's verifier insists on v2. */
static int check_ess(PKCS7_SIGNER_INFO *si, X509 *tsa, STACK_OF(X509) * certs,
                     struct nk_err *err)
{
    ASN1_TYPE *at =
        PKCS7_get_signed_attribute(si, NID_id_smime_aa_signingCertificateV2);
    ESS_SIGNING_CERT_V2 *ss = NULL;
    STACK_OF(X509) *chain = NULL;
    const unsigned char *p;
    int i, ret = -1;

    if (at == NULL || at->type != V_ASN1_SEQUENCE)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "no ESS signing-certificate-v2 attribute "
                              "(the TSA must use a SHA-2 ESS cert id)");
    p = at->value.sequence->data;
    ss = d2i_ESS_SIGNING_CERT_V2(NULL, &p, at->value.sequence->length);
    chain = sk_X509_new_null();
    if (ss == NULL || chain == NULL || !sk_X509_push(chain, tsa)) {
        nk_err_ssl(err, NK_ERR_GENERIC,
                   BAD "bad ESS signing-certificate-v2 attribute");
        goto out;
    }
    for (i = 0; i < sk_X509_num(certs); i++)
        if (X509_cmp(sk_X509_value(certs, i), tsa) != 0)
            sk_X509_push(chain, sk_X509_value(certs, i));
    if (OSSL_ESS_check_signing_certs(NULL, ss, chain, 1) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC,
                   BAD "the ESS signing-certificate-v2 attribute does not "
                       "name the TSA certificate");
        goto out;
    }
    ret = 0;
out:
    ESS_SIGNING_CERT_V2_free(ss);
    sk_X509_free(chain); /* borrowed certificates */
    return ret;
}

/* The one signer and its certificate, which certReq made the TSA include. */
static int check_signer(PKCS7 *token, struct nk_err *err)
{
    STACK_OF(PKCS7_SIGNER_INFO) *sis = PKCS7_get_signer_info(token);
    STACK_OF(X509) *signers = NULL;
    int ret = -1;

    if (sk_PKCS7_SIGNER_INFO_num(sis) != 1)
        return nk_err_set(err, NK_ERR_GENERIC,
                          BAD "the token must have exactly one signer");
    signers = PKCS7_get0_signers(token, NULL, 0);
    if (signers == NULL || sk_X509_num(signers) != 1) {
        ERR_clear_error();
        nk_err_set(err, NK_ERR_GENERIC,
                   BAD "the token does not carry the TSA certificate");
        goto out;
    }
    if (check_tsa_cert(sk_X509_value(signers, 0), err) != 0 ||
        check_ess(sk_PKCS7_SIGNER_INFO_value(sis, 0), sk_X509_value(signers, 0),
                  token->d.sign->cert, err) != 0)
        goto out;
    ret = 0;
out:
    sk_X509_free(signers);
    return ret;
}

/* Signature, chain to root (OpenSSL's timestamp purpose), ESS (v1 or v2
 * there), version, imprint and nonce again. */
static int verify_openssl(TS_REQ *req, TS_RESP *resp, X509 *root,
                          struct nk_err *err)
{
    TS_VERIFY_CTX *ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL);
    X509_STORE *store = X509_STORE_new();
    int ret = -1;

    if (ctx == NULL || store == NULL || X509_STORE_add_cert(store, root) != 1) {
        X509_STORE_free(store);
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot set up timestamp checks");
        goto out;
    }
    TS_VERIFY_CTX_set_store(ctx, store); /* ctx owns it now */
    TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE |
                                     TS_VFY_IMPRINT | TS_VFY_NONCE);
    if (TS_RESP_verify_response(ctx, resp) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC,
                   BAD "the token's signature or its chain to "
                       "\"timestamp-root-cert\" does not verify");
        goto out;
    }
    ret = 0;
out:
    TS_VERIFY_CTX_free(ctx);
    return ret;
}

int nk_tsa_check(TS_REQ *req, X509 *root, const unsigned char *reply, size_t n,
                 unsigned char **tst, size_t *tstlen, struct nk_err *err)
{
    const unsigned char *p = reply;
    TS_RESP *resp = NULL;
    unsigned char *der = NULL;
    int len, ret = -1;

    *tst = NULL;
    *tstlen = 0;
    if (n == 0) {
        nk_err_set(err, NK_ERR_GENERIC, BAD "empty answer");
        goto out;
    }
    resp = d2i_TS_RESP(NULL, &p, (long)n);
    if (resp == NULL || p != reply + n) {
        ERR_clear_error();
        nk_err_set(err, NK_ERR_GENERIC,
                   BAD "not a DER RFC 3161 TimeStampResp (%zu bytes)", n);
        goto out;
    }
    if (check_status(resp, err) != 0 ||
        check_tst_info(req, TS_RESP_get_tst_info(resp), err) != 0 ||
        check_signer(TS_RESP_get_token(resp), err) != 0 ||
        verify_openssl(req, resp, root, err) != 0)
        goto out;
    len = i2d_PKCS7(TS_RESP_get_token(resp), &der);
    if (len <= 0) {
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode the timestamp token");
        goto out;
    }
    *tst = nk_xmalloc((size_t)len);
    memcpy(*tst, der, (size_t)len);
    *tstlen = (size_t)len;
    ret = 0;
out:
    OPENSSL_free(der);
    TS_RESP_free(resp);
    return ret;
}
