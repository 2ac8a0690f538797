/* The key's certificate (found by template, only its CKA_VALUE read and
 * parsed, once) and its public half. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "p11.h"

/* Certificates larger than this are not read. */
#define MAX_CERT (1024 * 1024)

X509 *nk_p11_cert_value(struct nk_p11 *s, CK_OBJECT_HANDLE h)
{
    size_t dlen = 0;
    unsigned char *der =
        nk_p11_attr(s, s->session, h, CKA_VALUE, MAX_CERT, &dlen);
    const unsigned char *q = der;
    X509 *x = NULL;

    if (der != NULL && dlen > 0)
        x = d2i_X509(NULL, &q, (long)dlen);
    free(der);
    return x;
}

/* The first X.509 certificate object with attribute type = val that
 * parses, or NULL. */
static X509 *cert_by(struct nk_p11 *s, CK_ATTRIBUTE_TYPE type, const void *val,
                     size_t len)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_ATTRIBUTE tmpl[3] = {{CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
                            {type, (void *)val, len}};
    CK_OBJECT_HANDLE *h = NULL;
    size_t n = 0, i;
    X509 *x = NULL;
    CK_RV rv = nk_p11_find(s, s->session, tmpl, 3, &h, &n);

    if (rv != CKR_OK) {
        nk_p11_fault(s, rv, "searching certificates: %s", nk_p11_rv_name(rv));
        return NULL;
    }
    for (i = 0; i < n && x == NULL; i++)
        x = nk_p11_cert_value(s, h[i]);
    free(h);
    return x;
}

static X509 *cert_of(struct nk_p11 *s)
{
    if (s->cert_tried)
        return s->cert;
    s->cert_tried = 1;
    if (s->id_len > 0)
        s->cert = cert_by(s, CKA_ID, s->id, s->id_len);
    if (s->cert == NULL && s->label != NULL)
        s->cert = cert_by(s, CKA_LABEL, s->label, strlen(s->label));
    return s->cert;
}

X509 *nk_p11_find_cert(struct nk_p11 *s)
{
    X509 *c = cert_of(s);

    return c != NULL && X509_up_ref(c) == 1 ? c : NULL;
}

int nk_p11_public_key(struct nk_p11 *s, struct nk_err *err)
{
    X509 *c;

    if (s->pub != NULL)
        return nk_keyspec_of_pkey(s->pub, &s->spec, err);
    /* From the private key's attributes or its public key object; a
     * token with neither (some EC keys) still has the certificate. */
    s->pub = nk_p11_read_public_key(s);
    if (s->pub == NULL) {
        c = cert_of(s);
        if (c != NULL)
            s->pub = X509_get_pubkey(c);
    }
    /* Not "no public key" when the token failed to say. */
    if (nk_p11_fault_check(s, err) != 0)
        return -1;
    if (s->pub == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "cannot read the public key of \"%s\" on token "
                          "\"%s\" (no public key object or certificate with "
                          "its id)",
                          s->label ? s->label : "", s->slot->token->label);
    return nk_keyspec_of_pkey(s->pub, &s->spec, err);
}
