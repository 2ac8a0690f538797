/* Certificates and CSRs signed by a key that never leaves its store:
 * OpenSSL fills in the signature algorithm (signing once with a throwaway
 * key of the same family), then the real key signs the to-be-signed DER
 * and the result is assembled as SEQUENCE { tbs, algorithm, BIT STRING }. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "cli/cli.h"
#include "common/mem.h"
#include "common/sigcheck.h"

/* A digest-sign context with a throwaway key whose signature algorithm
 * identifier equals the one the real key's signature needs. */
static EVP_MD_CTX *placeholder_ctx(enum nk_keyspec spec, EVP_PKEY **tmp,
                                   struct nk_err *err)
{
    const EVP_MD *md = nk_hash_md(nk_keyspec_hash(spec));
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    int rsa = nk_keyspec_is_rsa(spec);

    *tmp = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (m == NULL || *tmp == NULL ||
        EVP_DigestSignInit(m, &pc, md, NULL, *tmp) != 1 ||
        (rsa &&
         (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
          EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1 ||
          EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1))) {
        EVP_MD_CTX_free(m);
        EVP_PKEY_free(*tmp);
        *tmp = NULL;
        nk_err_ssl(err, NK_ERR_GENERIC,
                   "cannot set up the signature algorithm");
        return NULL;
    }
    return m;
}

/* The signature value as the certificate carries it: DER for ECDSA. */
static int sig_value(enum nk_keyspec spec, unsigned char *raw, size_t n,
                     unsigned char **out, size_t *outlen, struct nk_err *err)
{
    unsigned char *der = NULL;
    size_t dlen = 0;

    if (nk_keyspec_is_rsa(spec)) {
        *out = nk_xmalloc(n);
        memcpy(*out, raw, n);
        *outlen = n;
        return 0;
    }
    if (nk_ecdsa_raw_to_der(raw, n, &der, &dlen, err) != 0)
        return -1;
    *out = nk_xmalloc(dlen);
    memcpy(*out, der, dlen);
    *outlen = dlen;
    OPENSSL_free(der);
    return 0;
}

/* SEQUENCE { tbs, alg, BIT STRING sig } into a malloc'd buffer. */
static unsigned char *assemble(const unsigned char *tbs, int tlen,
                               const unsigned char *alg, int alen,
                               const unsigned char *sig, size_t slen,
                               long *outlen)
{
    int bits = ASN1_object_size(0, (int)slen + 1, V_ASN1_BIT_STRING);
    int body = tlen + alen + bits;
    int total = ASN1_object_size(1, body, V_ASN1_SEQUENCE);
    unsigned char *der = nk_xmalloc((size_t)total), *p = der;

    ASN1_put_object(&p, 1, body, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
    memcpy(p, tbs, (size_t)tlen);
    p += tlen;
    memcpy(p, alg, (size_t)alen);
    p += alen;
    ASN1_put_object(&p, 0, (int)slen + 1, V_ASN1_BIT_STRING, V_ASN1_UNIVERSAL);
    *p++ = 0; /* no unused bits */
    memcpy(p, sig, slen);
    *outlen = total;
    return der;
}

/* Signs tbs with the external key and assembles the signed object. */
static int finish(struct nk_signing *sg, const unsigned char *tbs, int tlen,
                  const X509_ALGOR *alg, unsigned char **der, long *dlen,
                  struct nk_err *err)
{
    unsigned char *raw = NULL, *val = NULL, *a = NULL;
    size_t rlen = 0, vlen = 0;
    int alen, ret = -1;

    alen = i2d_X509_ALGOR(alg, &a);
    if (alen <= 0) {
        nk_err_ssl(err, NK_ERR_GENERIC,
                   "cannot encode the signature algorithm");
        goto out;
    }
    if (nk_signing_sign(sg, tbs, (size_t)tlen, &raw, &rlen, err) != 0 ||
        sig_value(sg->info.spec, raw, rlen, &val, &vlen, err) != 0)
        goto out;
    *der = assemble(tbs, tlen, a, alen, val, vlen, dlen);
    ret = 0;
out:
    OPENSSL_free(a);
    free(raw);
    free(val);
    return ret;
}

int nk_cli_sign_cert(struct nk_signing *sg, X509 *x, X509 **out,
                     struct nk_err *err)
{
    EVP_PKEY *tmp = NULL;
    EVP_MD_CTX *m = placeholder_ctx(sg->info.spec, &tmp, err);
    const X509_ALGOR *alg;
    const ASN1_BIT_STRING *psig;
    unsigned char *tbs = NULL, *der = NULL;
    const unsigned char *p;
    long dlen = 0;
    int tlen, ret = -1;

    *out = NULL;
    if (m == NULL)
        return -1;
    if (X509_sign_ctx(x, m) <= 0) {
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode the certificate");
        goto out;
    }
    X509_get0_signature(&psig, &alg, x);
    tlen = i2d_re_X509_tbs(x, &tbs);
    if (tlen <= 0 || finish(sg, tbs, tlen, alg, &der, &dlen, err) != 0)
        goto out;
    p = der;
    *out = d2i_X509(NULL, &p, dlen);
    if (*out == NULL || X509_verify(*out, sg->info.pub) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC,
                   "the signed certificate does not verify");
        goto out;
    }
    ret = 0;
out:
    if (ret != 0) {
        X509_free(*out);
        *out = NULL;
    }
    OPENSSL_free(tbs);
    free(der);
    EVP_MD_CTX_free(m);
    EVP_PKEY_free(tmp);
    return ret;
}

int nk_cli_sign_req(struct nk_signing *sg, X509_REQ *r, X509_REQ **out,
                    struct nk_err *err)
{
    EVP_PKEY *tmp = NULL;
    EVP_MD_CTX *m = placeholder_ctx(sg->info.spec, &tmp, err);
    const X509_ALGOR *alg;
    const ASN1_BIT_STRING *psig;
    unsigned char *tbs = NULL, *der = NULL;
    const unsigned char *p;
    long dlen = 0;
    int tlen, ret = -1;

    *out = NULL;
    if (m == NULL)
        return -1;
    if (X509_REQ_sign_ctx(r, m) <= 0) {
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode the request");
        goto out;
    }
    X509_REQ_get0_signature(r, &psig, &alg);
    tlen = i2d_re_X509_REQ_tbs(r, &tbs);
    if (tlen <= 0 || finish(sg, tbs, tlen, alg, &der, &dlen, err) != 0)
        goto out;
    p = der;
    *out = d2i_X509_REQ(NULL, &p, dlen);
    if (*out == NULL || X509_REQ_verify(*out, sg->info.pub) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC, "the signed request does not verify");
        goto out;
    }
    ret = 0;
out:
    if (ret != 0) {
        X509_REQ_free(*out);
        *out = NULL;
    }
    OPENSSL_free(tbs);
    free(der);
    EVP_MD_CTX_free(m);
    EVP_PKEY_free(tmp);
    return ret;
}
