/* Certificate file loading: PEM bundles or single DER certificates. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "buf.h"
#include "certs.h"

#define NK_MAX_CERT_FILE (8u * 1024 * 1024)

static int looks_pem(const unsigned char *p, size_t n)
{
    static const char mark[] = "-----BEGIN";
    size_t i;

    for (i = 0; i + sizeof(mark) - 1 <= n; i++)
        if (memcmp(p + i, mark, sizeof(mark) - 1) == 0)
            return 1;
    return 0;
}

int nk_certs_load_mem(const unsigned char *p, size_t n, const char *what,
                      STACK_OF(X509) * *out, struct nk_err *err)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    const unsigned char *q = p;
    BIO *bio = NULL;
    X509 *x;

    *out = NULL;
    if (looks_pem(p, n)) {
        bio = BIO_new_mem_buf(p, (int)n);
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
            sk_X509_push(sk, x);
        BIO_free(bio);
        ERR_clear_error(); /* the read that ends the loop leaves an error */
    } else if (n > 0) {
        x = d2i_X509(NULL, &q, (long)n);
        if (x != NULL && q == p + n)
            sk_X509_push(sk, x);
        else
            X509_free(x);
        ERR_clear_error();
    }
    if (sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "\"%s\" holds no certificate (PEM or DER expected)",
                          what);
    }
    *out = sk;
    return 0;
}

int nk_certs_load_file(const char *path, const char *what,
                       STACK_OF(X509) * *out, struct nk_err *err)
{
    struct nk_buf b;
    int r;

    *out = NULL;
    nk_buf_init(&b, NK_MAX_CERT_FILE);
    r = nk_buf_read_file(&b, path, err);
    if (r == 0)
        r = nk_certs_load_mem(b.data, b.len, path, out, err);
    if (r != 0)
        nk_err_prefix(err, "pluginConfig \"%s\"", what);
    nk_buf_release(&b);
    return r;
}
