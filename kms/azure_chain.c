/* Key Vault certificates and certificate secrets to X509 chains. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "azure_chain.h"
#include "azure_pfx.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/certs.h"
#include "common/mem.h"

#define MAX_CHAIN 16

int nk_azure_cer(const char *cer, const char *what, X509 **out,
                 struct nk_err *err)
{
    unsigned char *der = NULL;
    const unsigned char *q;
    size_t n;

    *out = NULL;
    if (cer == NULL)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "%s: no certificate (cer) in "
                          "the answer",
                          what);
    if (nk_b64_decode(cer, "cer", &der, &n, err) != 0)
        return nk_err_prefix(err, "%s", what);
    q = der;
    *out = d2i_X509(NULL, &q, (long)n);
    if (*out == NULL || q != der + n) {
        X509_free(*out);
        *out = NULL;
        free(der);
        return nk_err_ssl(err, NK_ERR_GENERIC,
                          "%s: the certificate (cer) "
                          "is not DER",
                          what);
    }
    free(der);
    return 0;
}

/* Copies only the CERTIFICATE blocks of a PEM text into b: the key block
 * beside them is a secret we have no use for. */
static int cert_blocks(const char *pem, struct nk_buf *b, struct nk_err *err)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    static const char end[] = "-----END CERTIFICATE-----";
    const char *p = pem, *e;

    while ((p = strstr(p, begin)) != NULL) {
        e = strstr(p, end);
        if (e == NULL)
            break;
        e += sizeof(end) - 1;
        if (nk_buf_append(b, p, (size_t)(e - p), err) != 0 ||
            nk_buf_appendstr(b, "\n", err) != 0)
            return -1;
        p = e;
    }
    return 0;
}

static int from_pem(const char *value, const char *what, STACK_OF(X509) * *out,
                    struct nk_err *err)
{
    struct nk_buf b;
    int r = -1;

    nk_buf_init(&b, 1024 * 1024);
    if (cert_blocks(value, &b, err) == 0 && b.len > 0)
        r = nk_certs_load_mem(b.data, b.len, what, out, err);
    else if (err->code == NK_ERR_NONE)
        nk_err_set(err, NK_ERR_VALIDATION, "%s holds no PEM certificate", what);
    nk_buf_release(&b);
    return r;
}

static int from_pfx(const char *value, const char *what, STACK_OF(X509) * *out,
                    struct nk_err *err)
{
    unsigned char *der = NULL;
    size_t n = 0;
    int r;

    if (nk_b64_decode(value, "value", &der, &n, err) != 0)
        return nk_err_prefix(err, "%s (PKCS#12)", what);
    r = nk_azure_pfx_certs(der, n, what, out, err);
    nk_freezero(der, n); /* it holds the (encrypted) key too */
    return r;
}

/* Nonzero when a issued some other certificate of sk. */
static int issued_other(X509 *a, STACK_OF(X509) * sk)
{
    int j;

    for (j = 0; j < sk_X509_num(sk); j++) {
        X509 *b = sk_X509_value(sk, j);

        if (b != a && X509_cmp(a, b) != 0 &&
            X509_check_issued(a, b) == X509_V_OK)
            return 1;
    }
    return 0;
}

/* Drops repeated certificates (a PFX may hold the leaf twice). */
static void dedupe(STACK_OF(X509) * sk)
{
    int i, j;

    for (i = 0; i < sk_X509_num(sk); i++)
        for (j = sk_X509_num(sk) - 1; j > i; j--)
            if (X509_cmp(sk_X509_value(sk, i), sk_X509_value(sk, j)) == 0)
                X509_free(sk_X509_delete(sk, j));
}

int nk_azure_leaf_first(STACK_OF(X509) * sk, const char *what,
                        struct nk_err *err)
{
    int i, leaf = -1, ends = 0, non_ca = 0, pick_nonca = -1;

    dedupe(sk);
    if (sk_X509_num(sk) > MAX_CHAIN)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s holds %d certificates "
                          "(at most %d)",
                          what, sk_X509_num(sk), MAX_CHAIN);
    for (i = 0; i < sk_X509_num(sk); i++) {
        X509 *x = sk_X509_value(sk, i);

        if (issued_other(x, sk))
            continue;
        ends++;
        leaf = i;
        if (X509_check_ca(x) == 0) {
            non_ca++;
            pick_nonca = i;
        }
    }
    if (ends > 1 && non_ca == 1)
        leaf = pick_nonca;
    else if (ends != 1)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s holds %d certificates "
                          "that issued no other, so no single leaf: keep one "
                          "chain in the certificate",
                          what, ends);
    if (leaf > 0)
        sk_X509_unshift(sk, sk_X509_delete(sk, leaf));
    return 0;
}

int nk_azure_secret_chain(const char *value, const char *ctype,
                          const char *what, STACK_OF(X509) * *out,
                          struct nk_err *err)
{
    int r;

    *out = NULL;
    if (value == NULL)
        return nk_err_set(err, NK_ERR_GENERIC, "%s: no value in the answer",
                          what);
    if (ctype != NULL && strcmp(ctype, "application/x-pem-file") == 0)
        r = from_pem(value, what, out, err);
    else if (ctype != NULL && strcmp(ctype, "application/x-pkcs12") == 0)
        r = from_pfx(value, what, out, err);
    else
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s has content type "
                          "\"%.60s\", not a certificate's "
                          "(application/x-pem-file or application/x-pkcs12)",
                          what, ctype ? ctype : "");
    if (r == 0 && nk_azure_leaf_first(*out, what, err) != 0) {
        sk_X509_pop_free(*out, X509_free);
        *out = NULL;
        r = -1;
    }
    return r;
}
