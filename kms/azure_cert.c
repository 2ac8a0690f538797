/* Client certificate credentials: the certificate and key of
 * AZURE_CLIENT_CERTIFICATE_PATH (PEM, or PKCS#12 with
 * AZURE_CLIENT_CERTIFICATE_PASSWORD) and the signed client assertion that
 * Microsoft Entra ID takes instead of a secret (certificate-credentials:
 * PS256 with the certificate's SHA-256 thumbprint). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "azure_auth.h"
#include "azure_pfx.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/json.h"
#include "common/mem.h"
#include "jwt.h"

#define CRED_MAX (1024u * 1024)
#define ASSERTION_LIFE 600 /* seconds; Entra advises 5 to 10 minutes */

struct cred {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) * ca; /* the rest of the chain, if the file has it */
};

static void cred_release(struct cred *c)
{
    EVP_PKEY_free(c->key);
    X509_free(c->cert);
    sk_X509_pop_free(c->ca, X509_free);
    memset(c, 0, sizeof(*c));
}

/* The password for an encrypted PEM key, or none: OpenSSL's default
 * would prompt on the terminal. */
static int pem_password(char *buf, int size, int rwflag, void *u)
{
    size_t n = u != NULL ? strlen(u) : 0;

    (void)rwflag;
    if (u == NULL || n >= (size_t)size)
        return 0;
    memcpy(buf, u, n);
    return (int)n;
}

/* PEM: the (possibly encrypted) private key, the certificate that carries
 * its public key, and any other certificates. */
static int load_pem(const struct nk_buf *b, const char *password,
                    struct cred *c, struct nk_err *err)
{
    BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);
    STACK_OF(X509) *all = sk_X509_new_null();
    X509 *x;
    int i;

    c->key = PEM_read_bio_PrivateKey(bio, NULL, pem_password, (void *)password);
    (void)BIO_reset(bio);
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        sk_X509_push(all, x);
    BIO_free(bio);
    ERR_clear_error();
    if (c->key == NULL) {
        sk_X509_pop_free(all, X509_free);
        return nk_err_set(err, NK_ERR_ACCESS,
                          "AZURE_CLIENT_CERTIFICATE_PATH "
                          "has no private key that could be read (an "
                          "encrypted key needs "
                          "AZURE_CLIENT_CERTIFICATE_PASSWORD)");
    }
    c->ca = sk_X509_new_null();
    for (i = 0; i < sk_X509_num(all); i++) {
        x = sk_X509_value(all, i);
        if (c->cert == NULL && EVP_PKEY_eq(X509_get0_pubkey(x), c->key) == 1)
            c->cert = x;
        else
            sk_X509_push(c->ca, x);
    }
    sk_X509_free(all);
    if (c->cert == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "AZURE_CLIENT_CERTIFICATE_"
                          "PATH holds no certificate for its private key");
    return 0;
}

static int load_cred(const char *path, const char *password, struct cred *c,
                     struct nk_err *err)
{
    struct nk_buf b;
    int r;

    memset(c, 0, sizeof(*c));
    nk_buf_init(&b, CRED_MAX);
    if (nk_buf_read_file(&b, path, err) != 0) {
        nk_buf_release(&b);
        return nk_err_prefix(err, "AZURE_CLIENT_CERTIFICATE_PATH");
    }
    if (b.len > 10 && strstr((const char *)b.data, "-----BEGIN") != NULL)
        r = load_pem(&b, password, c, err);
    else
        r = nk_azure_pfx_key(b.data, b.len, password,
                             "AZURE_CLIENT_CERTIFICATE_PATH", &c->key, &c->cert,
                             &c->ca, err);
    nk_buf_release(&b); /* wipes the key's bytes */
    if (r != 0)
        cred_release(c);
    return r;
}

/* x5t#S256: base64url(SHA-256(DER)). */
static char *thumbprint(X509 *cert)
{
    unsigned char md[32];
    unsigned int n = 0;

    X509_digest(cert, EVP_sha256(), md, &n);
    return nk_b64url_encode(md, 32);
}

/* "x5c": the certificate then the rest of the file's chain, standard
 * base64 DER (RFC 7515 4.1.6). */
static cJSON *x5c(const struct cred *c)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    cJSON *a;
    int i;

    sk_X509_push(sk, c->cert);
    for (i = 0; i < sk_X509_num(c->ca); i++)
        sk_X509_push(sk, sk_X509_value(c->ca, i));
    a = nk_json_cert_array(sk);
    sk_X509_free(sk);
    return a;
}

/* A random GUID-shaped jti. */
static void jti(char *out)
{
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        memset(r, 0, sizeof(r)); /* unique enough with iat; never fatal */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x"
             "%02x%02x",
             r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
             r[11], r[12], r[13], r[14], r[15]);
}

int nk_azure_cert_assertion(const char *url, const char *client,
                            const char *path, const char *password,
                            int send_chain, char **jwt, struct nk_err *err)
{
    struct cred c;
    cJSON *h = NULL, *cl = NULL;
    double now = (double)time(NULL);
    char id[37], *x5t;
    int ret;

    *jwt = NULL;
    if (load_cred(path, password, &c, err) != 0)
        return -1;
    x5t = thumbprint(c.cert);
    h = cJSON_CreateObject();
    nk_json_add_string(h, "x5t#S256", x5t);
    if (send_chain)
        cJSON_AddItemToObject(h, "x5c", x5c(&c));
    jti(id);
    cl = cJSON_CreateObject();
    nk_json_add_string(cl, "aud", url);
    nk_json_add_string(cl, "iss", client);
    nk_json_add_string(cl, "sub", client);
    nk_json_add_string(cl, "jti", id);
    cJSON_AddNumberToObject(cl, "iat", now);
    cJSON_AddNumberToObject(cl, "nbf", now);
    cJSON_AddNumberToObject(cl, "exp", now + ASSERTION_LIFE);
    ret = nk_jwt_sign(h, cl, c.key, NK_JWT_PS256, jwt, err);
    if (ret != 0)
        nk_err_prefix(err, "AZURE_CLIENT_CERTIFICATE_PATH");
    cJSON_Delete(h);
    cJSON_Delete(cl);
    free(x5t);
    cred_release(&c);
    return ret;
}
