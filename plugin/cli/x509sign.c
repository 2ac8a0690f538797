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

/* Has the placeholder key sign obj through m, so that obj names the
 * signature algorithm the real key's signature needs (*alg); its
 * to-be-signed DER into *tbs (OPENSSL_free). The DER's length, or -1 with
 * err set. */
typedef int (*tbs_fn)(void *obj, EVP_MD_CTX *m, unsigned char **tbs,
                      const X509_ALGOR **alg, struct nk_err *err);

static int cert_tbs(void *obj, EVP_MD_CTX *m, unsigned char **tbs,
                    const X509_ALGOR **alg, struct nk_err *err)
{
    X509 *x = obj;
    const ASN1_BIT_STRING *psig;
    int n;

    if (X509_sign_ctx(x, m) <= 0 || (n = i2d_re_X509_tbs(x, tbs)) <= 0)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode the certificate");
    X509_get0_signature(&psig, alg, x);
    return n;
}

static int req_tbs(void *obj, EVP_MD_CTX *m, unsigned char **tbs,
                   const X509_ALGOR **alg, struct nk_err *err)
{
    X509_REQ *r = obj;
    const ASN1_BIT_STRING *psig;
    int n;

    if (X509_REQ_sign_ctx(r, m) <= 0 || (n = i2d_re_X509_REQ_tbs(r, tbs)) <= 0)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode the request");
    X509_REQ_get0_signature(r, &psig, alg);
    return n;
}

/* obj (a certificate or a request, as tbs_of handles it) signed by the
 * external key, as DER into *der (free with free()). */
static int sign_der(struct nk_signing *sg, void *obj, tbs_fn tbs_of,
                    unsigned char **der, long *dlen, struct nk_err *err)
{
    EVP_PKEY *tmp = NULL;
    EVP_MD_CTX *m = placeholder_ctx(sg->info.spec, &tmp, err);
    const X509_ALGOR *alg = NULL;
    unsigned char *tbs = NULL;
    int tlen, ret = -1;

    if (m == NULL)
        return -1;
    tlen = tbs_of(obj, m, &tbs, &alg, err);
    if (tlen < 0 || finish(sg, tbs, tlen, alg, der, dlen, err) != 0)
        goto out;
    ret = 0;
out:
    OPENSSL_free(tbs);
    EVP_MD_CTX_free(m);
    EVP_PKEY_free(tmp);
    return ret;
}

int nk_cli_sign_cert(struct nk_signing *sg, X509 *x, X509 **out,
                     struct nk_err *err)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    long dlen = 0;
    int ok;

    *out = NULL;
    if (sign_der(sg, x, cert_tbs, &der, &dlen, err) != 0)
        return -1;
    p = der;
    *out = d2i_X509(NULL, &p, dlen);
    ok = *out != NULL && X509_verify(*out, sg->info.pub) == 1;
    free(der);
    if (ok)
        return 0;
    nk_err_ssl(err, NK_ERR_GENERIC, "the signed certificate does not verify");
    X509_free(*out);
    *out = NULL;
    return -1;
}

int nk_cli_sign_req(struct nk_signing *sg, X509_REQ *r, X509_REQ **out,
                    struct nk_err *err)
{
    unsigned char *der = NULL;
    const unsigned char *p;
    long dlen = 0;
    int ok;

    *out = NULL;
    if (sign_der(sg, r, req_tbs, &der, &dlen, err) != 0)
        return -1;
    p = der;
    *out = d2i_X509_REQ(NULL, &p, dlen);
    ok = *out != NULL && X509_REQ_verify(*out, sg->info.pub) == 1;
    free(der);
    if (ok)
        return 0;
    nk_err_ssl(err, NK_ERR_GENERIC, "the signed request does not verify");
    X509_REQ_free(*out);
    *out = NULL;
    return -1;
}
