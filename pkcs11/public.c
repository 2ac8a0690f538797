/* Describing a key without logging in: its public half from a public key
 * object, else a certificate, that the token shows before login and that
 * the key id names. Most tokens show both (SoftHSM, YubiKey PIV, smart
 * cards), so describe-key needs no PIN; signing still logs in and finds
 * the private key with the rules of find.c. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "log.h"
#include "p11.h"

/* CKA_LABEL and CKA_ID longer than this are not read (as in find.c). */
#define MAX_NAME 4096

/* What one search across the matching tokens saw: how many usable objects
 * match, and the first, whose session stays open. */
struct seen {
    size_t n;
    PKCS11_SLOT *slot;
    CK_SESSION_HANDLE session;
    int have_session;
    CK_OBJECT_HANDLE h;
    CK_KEY_TYPE kt;
};

static void seen_release(const struct nk_p11 *s, struct seen *v)
{
    if (v->have_session)
        s->fl->C_CloseSession(v->session);
    memset(v, 0, sizeof(*v));
}

/* The template for objects of class cls that the URI names: CKA_ID and
 * CKA_LABEL when it has them, X.509 only for certificates. */
static CK_ULONG object_template(const struct nk_p11_uri *u,
                                CK_OBJECT_CLASS *cls, CK_CERTIFICATE_TYPE *ct,
                                CK_ATTRIBUTE t[4])
{
    CK_ULONG nt = 0;

    t[nt++] = (CK_ATTRIBUTE){CKA_CLASS, cls, sizeof(*cls)};
    if (*cls == CKO_CERTIFICATE)
        t[nt++] = (CK_ATTRIBUTE){CKA_CERTIFICATE_TYPE, ct, sizeof(*ct)};
    if (u->has_id)
        t[nt++] = (CK_ATTRIBUTE){CKA_ID, u->id, u->id_len};
    if (u->object != NULL)
        t[nt++] = (CK_ATTRIBUTE){CKA_LABEL, u->object, strlen(u->object)};
    return nt;
}

/* Counts the usable objects of class cls the URI names on one token, in a
 * session without login; the first overall keeps its session in v. */
static int scan_token(struct nk_p11 *s, PKCS11_SLOT *slot, CK_OBJECT_CLASS cls,
                      struct seen *v, struct nk_err *err)
{
    CK_CERTIFICATE_TYPE ct = CKC_X_509;
    CK_ATTRIBUTE tmpl[4];
    CK_ULONG nt = object_template(s->uri, &cls, &ct, tmpl);
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE *h = NULL;
    CK_KEY_TYPE kt = CKK_VENDOR_DEFINED;
    size_t n = 0, i;
    int keep = 0, ret = -1;
    CK_RV rv;

    if (nk_p11_open_session(s, slot, 0, &session, err) != 0)
        return -1;
    rv = nk_p11_find(s, session, tmpl, nt, &h, &n);
    if (rv != CKR_OK) {
        nk_p11_rv_err(err, rv, "cannot list the %s of token \"%s\"",
                      cls == CKO_CERTIFICATE ? "certificates" : "public keys",
                      slot->token->label);
        goto out;
    }
    for (i = 0; i < n; i++) {
        /* A certificate's key is checked once it is the only one. */
        if (cls == CKO_PUBLIC_KEY && !nk_p11_usable_key(s, session, h[i], &kt))
            continue;
        if (v->n++ == 0) {
            v->slot = slot;
            v->session = session;
            v->have_session = keep = 1;
            v->h = h[i];
            v->kt = kt;
        }
    }
    ret = 0;
out:
    if (!keep)
        s->fl->C_CloseSession(session);
    free(h);
    return ret;
}

static int scan_tokens(struct nk_p11 *s, CK_OBJECT_CLASS cls, struct seen *v,
                       struct nk_err *err)
{
    size_t i;

    for (i = 0; i < s->nslots; i++)
        if (nk_p11_token_matches(s, &s->slots[i]) &&
            scan_token(s, &s->slots[i], cls, v, err) != 0)
            return -1;
    /* A key type the token failed to give is its error, not "unusable". */
    return nk_p11_fault_check(s, err);
}

/* Takes the one object v found as the key's description: label, id and
 * public key (from a public key object, else from the certificate with its
 * id or label; from the certificate itself when that is what was found). */
static void adopt(struct nk_p11 *s, CK_OBJECT_CLASS cls, struct seen *v)
{
    X509 *c;
    size_t len;

    s->slot = v->slot;
    s->session = v->session;
    s->have_session = 1;
    v->have_session = 0;
    s->label =
        (char *)nk_p11_attr(s, s->session, v->h, CKA_LABEL, MAX_NAME, &len);
    s->id = nk_p11_attr(s, s->session, v->h, CKA_ID, MAX_NAME, &s->id_len);
    if (cls == CKO_CERTIFICATE) {
        s->cert = nk_p11_cert_value(s, v->h);
        s->cert_tried = 1;
        if (s->cert != NULL)
            s->pub = X509_get_pubkey(s->cert);
        return;
    }
    s->key_type = v->kt;
    s->pub = nk_p11_public_object_key(s, v->h, v->kt);
    if (s->pub != NULL)
        return;
    c = nk_p11_find_cert(s);
    if (c != NULL)
        s->pub = X509_get_pubkey(c);
    X509_free(c);
}

/* RSA and EC keys only, as find.c counts private keys. */
static int usable_pub(const EVP_PKEY *pub)
{
    int id = pub != NULL ? EVP_PKEY_get_base_id(pub) : EVP_PKEY_NONE;

    return id == EVP_PKEY_RSA || id == EVP_PKEY_EC;
}

/* Forgets a description that did not settle the key. */
static void undo(struct nk_p11 *s)
{
    nk_p11_key_release(s);
    if (s->have_session)
        s->fl->C_CloseSession(s->session);
    s->have_session = 0;
    s->slot = NULL;
    s->key_type = 0;
}

int nk_p11_find_public(struct nk_p11 *s, struct nk_err *err)
{
    CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
    struct seen v = {0};
    int ret = -1;

    if (scan_tokens(s, cls, &v, err) != 0)
        goto out;
    if (v.n == 0) {
        cls = CKO_CERTIFICATE;
        if (scan_tokens(s, cls, &v, err) != 0)
            goto out;
    }
    ret = 1;
    if (v.n != 1) {
        nk_debug("pkcs11: %zu %s match without login: logging in to find "
                 "the private key",
                 v.n, cls == CKO_CERTIFICATE ? "certificates" : "public keys");
        goto out;
    }
    adopt(s, cls, &v);
    if (nk_p11_fault_check(s, err) != 0) {
        ret = -1;
        goto out;
    }
    if (!usable_pub(s->pub)) {
        nk_debug("pkcs11: no RSA or EC key in the public object: logging "
                 "in");
        undo(s);
        goto out;
    }
    nk_debug("pkcs11: key \"%s\" on token \"%s\" described from its %s, "
             "without login",
             s->label ? s->label : "", s->slot->token->label,
             cls == CKO_CERTIFICATE ? "certificate" : "public key");
    ret = 0;
out:
    seen_release(s, &v);
    return ret;
}
