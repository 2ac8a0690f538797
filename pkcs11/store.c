/* "cert generate-test --store": a certificate object written beside the
 * open key, on the token signing found and logged in to. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "log.h"
#include "p11.h"
#include "pkcs11.h"

/* Removes the certificates with the key's CKA_ID (an older test
 * certificate), so the new one is the one signing finds: one left behind
 * could still be the one signing takes, so failing to remove it fails the
 * store (one already gone, CKR_OBJECT_HANDLE_INVALID, is fine). */
static int drop_certs(struct nk_p11 *s, CK_SESSION_HANDLE rw,
                      struct nk_err *err)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_ID, s->id, s->id_len}};
    CK_OBJECT_HANDLE *h = NULL;
    size_t n = 0, i;
    CK_RV rv = CKR_OK;

    if (s->id_len > 0)
        rv = nk_p11_find(s, rw, tmpl, 2, &h, &n);
    for (i = 0; rv == CKR_OK && i < n; i++) {
        rv = s->fl->C_DestroyObject(rw, h[i]);
        if (rv == CKR_OBJECT_HANDLE_INVALID)
            rv = CKR_OK;
    }
    free(h);
    if (rv != CKR_OK)
        return nk_p11_rv_err(err, rv,
                             "cannot remove the old certificate "
                             "of key \"%s\" from token \"%s\"",
                             s->label != NULL ? s->label : "",
                             s->slot->token->label);
    return 0;
}

/* A public token object with the certificate's DER, subject, issuer and
 * serial, and the key's CKA_ID and CKA_LABEL. */
static int create_cert(struct nk_p11 *s, CK_SESSION_HANDLE rw, X509 *cert,
                       struct nk_err *err)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
    int dl = i2d_X509(cert, &der);
    int sl = i2d_X509_NAME(X509_get_subject_name(cert), &subj);
    int il = i2d_X509_NAME(X509_get_issuer_name(cert), &iss);
    int rl = i2d_ASN1_INTEGER(X509_get_serialNumber(cert), &ser);
    CK_ATTRIBUTE t[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
        {CKA_TOKEN, &yes, sizeof(yes)},
        {CKA_PRIVATE, &no, sizeof(no)},
        {CKA_VALUE, der, (CK_ULONG)dl},
        {CKA_SUBJECT, subj, (CK_ULONG)sl},
        {CKA_ISSUER, iss, (CK_ULONG)il},
        {CKA_SERIAL_NUMBER, ser, (CK_ULONG)rl},
        {CKA_ID, s->id, s->id_len},
        {CKA_LABEL, s->label, s->label != NULL ? strlen(s->label) : 0},
    };
    CK_OBJECT_HANDLE h;
    CK_RV rv = CKR_GENERAL_ERROR;

    if (dl > 0 && sl > 0 && il > 0 && rl > 0)
        rv = s->fl->C_CreateObject(rw, t, sizeof(t) / sizeof(t[0]), &h);
    OPENSSL_free(der);
    OPENSSL_free(subj);
    OPENSSL_free(iss);
    OPENSSL_free(ser);
    if (rv != CKR_OK)
        return nk_p11_rv_err(err, rv,
                             "cannot store the certificate on "
                             "token \"%s\"",
                             s->slot->token->label);
    return 0;
}

int nk_p11_store_cert(struct nk_p11 *s, X509 *cert, struct nk_err *err)
{
    CK_SESSION_HANDLE rw;
    int have_rw = 0, ret = -1;

    if (nk_p11_open_session(s, s->slot, 1, &rw, err) != 0)
        goto out;
    have_rw = 1;
    if (drop_certs(s, rw, err) != 0 || create_cert(s, rw, cert, err) != 0)
        goto out;
    nk_info("pkcs11: certificate stored beside key \"%s\" on token \"%s\"",
            s->label != NULL ? s->label : "", s->slot->token->label);
    ret = 0;
out:
    if (have_rw)
        s->fl->C_CloseSession(rw);
    return ret;
}
