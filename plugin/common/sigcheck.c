/* Signature checks with OpenSSL, so a faulty key store can never hand
 * notation a bad signature. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "mem.h"
#include "sigcheck.h"

int nk_ecdsa_der_to_raw(const unsigned char *der, size_t n, size_t width,
                        unsigned char **out, size_t *outlen, struct nk_err *err)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    const BIGNUM *r, *s;
    unsigned char *raw;

    *out = NULL;
    *outlen = 0;
    if (sig == NULL || p != der + n)
        goto bad;
    ECDSA_SIG_get0(sig, &r, &s);
    if ((size_t)BN_num_bytes(r) > width || (size_t)BN_num_bytes(s) > width)
        goto bad;
    raw = nk_xmalloc(2 * width);
    if (BN_bn2binpad(r, raw, (int)width) < 0 ||
        BN_bn2binpad(s, raw + width, (int)width) < 0) {
        free(raw);
        goto bad;
    }
    ECDSA_SIG_free(sig);
    *out = raw;
    *outlen = 2 * width;
    return 0;
bad:
    ECDSA_SIG_free(sig);
    return nk_err_ssl(err, NK_ERR_GENERIC, "malformed ECDSA signature");
}

int nk_ecdsa_raw_to_der(const unsigned char *raw, size_t n, unsigned char **out,
                        size_t *outlen, struct nk_err *err)
{
    ECDSA_SIG *sig = NULL;
    BIGNUM *r, *s;
    int len;

    *out = NULL;
    *outlen = 0;
    if (n == 0 || n % 2 != 0)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "ECDSA signature has odd length %zu", n);
    r = BN_bin2bn(raw, (int)(n / 2), NULL);
    s = BN_bin2bn(raw + n / 2, (int)(n / 2), NULL);
    sig = ECDSA_SIG_new();
    if (r == NULL || s == NULL || sig == NULL || !ECDSA_SIG_set0(sig, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode ECDSA signature");
    }
    len = i2d_ECDSA_SIG(sig, out);
    ECDSA_SIG_free(sig);
    if (len <= 0)
        return nk_err_ssl(err, NK_ERR_GENERIC, "cannot encode ECDSA signature");
    *outlen = (size_t)len;
    return 0;
}

static int setup_ctx(EVP_PKEY_CTX *ctx, enum nk_keyspec spec)
{
    const EVP_MD *md = nk_hash_md(nk_keyspec_hash(spec));

    if (EVP_PKEY_verify_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0)
        return -1;
    if (!nk_keyspec_is_rsa(spec))
        return 0;
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, (int)EVP_MD_get_size(md)) <= 0)
        return -1;
    return 0;
}

int nk_sig_check(EVP_PKEY *pub, enum nk_keyspec spec,
                 const unsigned char *digest, size_t dlen,
                 const unsigned char *sig, size_t slen, struct nk_err *err)
{
    EVP_PKEY_CTX *ctx = NULL;
    unsigned char *der = NULL;
    size_t derlen = 0;
    const unsigned char *vsig = sig;
    int ret = -1;

    if (slen != nk_keyspec_sig_len(spec)) {
        nk_err_set(err, NK_ERR_GENERIC, "signature is %zu bytes; %s needs %zu",
                   slen, nk_keyspec_name(spec), nk_keyspec_sig_len(spec));
        goto out;
    }
    if (!nk_keyspec_is_rsa(spec)) {
        if (nk_ecdsa_raw_to_der(sig, slen, &der, &derlen, err) != 0)
            goto out;
        vsig = der;
        slen = derlen;
    }
    ctx = EVP_PKEY_CTX_new(pub, NULL);
    if (ctx == NULL || setup_ctx(ctx, spec) != 0) {
        nk_err_ssl(err, NK_ERR_GENERIC, "cannot set up signature check");
        goto out;
    }
    if (EVP_PKEY_verify(ctx, vsig, slen, digest, dlen) != 1) {
        nk_err_ssl(err, NK_ERR_GENERIC,
                   "signature does not verify with the certificate's key");
        goto out;
    }
    ret = 0;
out:
    EVP_PKEY_CTX_free(ctx);
    OPENSSL_free(der);
    return ret;
}
