/* Finding the one private key a URI names (with a report of what was
 * there when it is not exactly one), its public half and certificate. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "log.h"
#include "mem.h"
#include "p11.h"

#define MAX_FOUND 8

/* Appends to a message list, ending it with "..." once it is full. */
static void NK_PRINTF(3, 4) list_add(char *buf, size_t size,
                                     const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    int r;

    if (n + 4 >= size || strcmp(buf + (n >= 3 ? n - 3 : 0), "...") == 0)
        return;
    if (n > 0)
        snprintf(buf + n, size - n, ", ");
    n = strlen(buf);
    va_start(ap, fmt);
    r = vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= size - n)
        snprintf(buf + size - 4, 4, "...");
}

static void hex(const unsigned char *p, size_t n, char *out, size_t size)
{
    size_t i;

    out[0] = '\0';
    for (i = 0; i < n && 2 * i + 2 < size; i++)
        snprintf(out + 2 * i, size - 2 * i, "%02x", p[i]);
    if (n == 0)
        snprintf(out, size, "(none)");
}

static int key_matches(const struct nk_p11_uri *u, const PKCS11_KEY *k)
{
    if (u->object != NULL &&
        (k->label == NULL || strcmp(u->object, k->label) != 0))
        return 0;
    if (u->has_id && (k->id_len != u->id_len ||
                      (u->id_len && memcmp(k->id, u->id, u->id_len) != 0)))
        return 0;
    return 1;
}

static void key_desc(const PKCS11_SLOT *slot, const PKCS11_KEY *k,
                     char *buf, size_t size)
{
    char id[41];

    hex(k->id, k->id_len, id, sizeof(id));
    list_add(buf, size, "\"%s\" id %s on \"%s\"",
             k->label ? k->label : "", id, slot->token->label);
}

/* Logs in to one matching token and collects its matching keys. */
static int scan_token(struct nk_signer *s, PKCS11_SLOT *slot,
                      const struct nk_config *cfg, PKCS11_SLOT **fslot,
                      PKCS11_KEY **fkey, size_t *nfound, char *seen,
                      size_t seen_size, struct nk_err *err)
{
    PKCS11_KEY *keys = NULL;
    unsigned int nkeys = 0, i;

    if (nk_p11_login(s, slot, cfg, err) != 0)
        return -1;
    if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) != 0)
        return nk_p11_rv_err(err, nk_p11_libp11_rv(),
                             "cannot list the private keys of token \"%s\"",
                             slot->token->label);
    for (i = 0; i < nkeys; i++) {
        key_desc(slot, &keys[i], seen, seen_size);
        if (!key_matches(s->uri, &keys[i]))
            continue;
        if (*nfound < MAX_FOUND) {
            fslot[*nfound] = slot;
            fkey[*nfound] = &keys[i];
        }
        (*nfound)++;
    }
    return 0;
}

int nk_p11_find_key(struct nk_signer *s, const struct nk_config *cfg,
                    struct nk_err *err)
{
    PKCS11_SLOT *fslot[MAX_FOUND];
    PKCS11_KEY *fkey[MAX_FOUND];
    char tokens[300] = "", keys[300] = "", found[300] = "";
    char *want = nk_p11_uri_describe(s->uri);
    size_t nfound = 0, i, ntok = 0;
    PKCS11_SLOT *slot;
    int ret = -1;

    for (i = 0; i < s->nslots; i++) {
        slot = &s->slots[i];
        if (slot->token == NULL || !slot->token->initialized)
            continue;
        list_add(tokens, sizeof(tokens), "\"%s\" (slot %lu)",
                 slot->token->label, PKCS11_get_slotid_from_slot(slot));
        if (!nk_p11_token_matches(s, slot))
            continue;
        ntok++;
        if (scan_token(s, slot, cfg, fslot, fkey, &nfound, keys,
                       sizeof(keys), err) != 0)
            goto out;
    }
    if (ntok == 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "no PKCS#11 token matches %s in module \"%s\"; tokens "
                   "there: %s", want, s->module, tokens[0] ? tokens : "none");
        goto out;
    }
    if (nfound == 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "no private key matches %s; private keys on the %zu "
                   "matching token(s): %s", want, ntok,
                   keys[0] ? keys : "none");
        goto out;
    }
    if (nfound > 1) {
        for (i = 0; i < nfound && i < MAX_FOUND; i++)
            key_desc(fslot[i], fkey[i], found, sizeof(found));
        nk_err_set(err, NK_ERR_VALIDATION,
                   "%zu private keys match %s: %s; add id= or token= to the "
                   "key id to pick one", nfound, want, found);
        goto out;
    }
    s->slot = fslot[0];
    s->key = fkey[0];
    nk_debug("pkcs11: key \"%s\" on token \"%s\"",
             s->key->label ? s->key->label : "", s->slot->token->label);
    ret = 0;
out:
    free(want);
    return ret;
}

int nk_p11_find_handle(struct nk_signer *s, struct nk_err *err)
{
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE tmpl[3];
    CK_OBJECT_HANDLE h[2];
    CK_ULONG n = 0, nt = 0;
    CK_BBOOL always = CK_FALSE;
    CK_ATTRIBUTE aa = {CKA_ALWAYS_AUTHENTICATE, &always, sizeof(always)};
    CK_SLOT_ID slot = PKCS11_get_slotid_from_slot(s->slot);
    CK_RV rv;

    rv = s->fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL,
                              &s->session);
    if (rv != CKR_OK)
        return nk_p11_rv_err(err, rv, "cannot open a session on token "
                             "\"%s\"", s->slot->token->label);
    s->have_session = 1;
    tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &cls, sizeof(cls)};
    if (s->key->id_len > 0)
        tmpl[nt++] = (CK_ATTRIBUTE){CKA_ID, s->key->id, s->key->id_len};
    if (s->key->label != NULL)
        tmpl[nt++] = (CK_ATTRIBUTE){CKA_LABEL, s->key->label,
                                    strlen(s->key->label)};
    rv = s->fl->C_FindObjectsInit(s->session, tmpl, nt);
    if (rv == CKR_OK) {
        rv = s->fl->C_FindObjects(s->session, h, 2, &n);
        s->fl->C_FindObjectsFinal(s->session);
    }
    if (rv != CKR_OK)
        return nk_p11_rv_err(err, rv, "cannot look up private key \"%s\"",
                             s->key->label ? s->key->label : "");
    if (n != 1)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "%s private key with label \"%s\" and this id on "
                          "token \"%s\"", n == 0 ? "no" : "more than one",
                          s->key->label ? s->key->label : "",
                          s->slot->token->label);
    s->handle = h[0];
    /* Absent on old tokens (CKR_ATTRIBUTE_TYPE_INVALID): not required. */
    if (s->fl->C_GetAttributeValue(s->session, s->handle, &aa, 1) == CKR_OK)
        s->always_auth = always == CK_TRUE;
    return 0;
}

static PKCS11_CERT *cert_of(struct nk_signer *s)
{
    PKCS11_CERT *certs = NULL;
    unsigned int n = 0, i;
    const PKCS11_KEY *k = s->key;

    if (PKCS11_enumerate_certs(s->slot->token, &certs, &n) != 0) {
        nk_p11_libp11_rv();
        return NULL;
    }
    for (i = 0; k->id_len > 0 && i < n; i++)
        if (certs[i].x509 != NULL && certs[i].id_len == k->id_len &&
            memcmp(certs[i].id, k->id, k->id_len) == 0)
            return &certs[i];
    for (i = 0; k->label != NULL && i < n; i++)
        if (certs[i].x509 != NULL && certs[i].label != NULL &&
            strcmp(certs[i].label, k->label) == 0)
            return &certs[i];
    return NULL;
}

X509 *nk_p11_find_cert(struct nk_signer *s)
{
    PKCS11_CERT *c = cert_of(s);

    return c ? X509_dup(c->x509) : NULL;
}

int nk_p11_public_key(struct nk_signer *s, struct nk_err *err)
{
    PKCS11_CERT *c;

    if (s->pub != NULL)
        return nk_keyspec_of_pkey(s->pub, &s->spec, err);
    /* From the private key's attributes or its public key object; a
     * token with neither (some EC keys) still has the certificate. */
    s->pub = nk_p11_read_public_key(s);
    if (s->pub == NULL) {
        c = cert_of(s);
        if (c != NULL)
            s->pub = X509_get_pubkey(c->x509);
    }
    if (s->pub == NULL)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "cannot read the public key of \"%s\" on token "
                          "\"%s\" (no public key object or certificate with "
                          "its id)", s->key->label ? s->key->label : "",
                          s->slot->token->label);
    return nk_keyspec_of_pkey(s->pub, &s->spec, err);
}
