/* The listing behind "notation-keystore keys": every slot and token of a
 * module and the keys on each, through the same module load, login, object
 * search, public key and certificate code as signing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "module.h"
#include "p11.h"
#include "pin.h"
#include "pkcs11.h"

static char *hex_of(const unsigned char *p, size_t n)
{
    char *hex = nk_xcalloc(2 * n + 1, 1);
    size_t i;

    for (i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", p[i]);
    return hex;
}

/* Points s at key object h in s->session and describes it in k; -1 with
 * err set when the token failed a lookup on the way. */
static int list_key(struct nk_p11 *s, CK_OBJECT_HANDLE h, int priv,
                    struct nk_p11_listed_key *k, struct nk_err *err)
{
    struct nk_err ignored = {0};
    CK_KEY_TYPE kt;
    int usable = nk_p11_usable_key(s, s->session, h, &kt);

    nk_p11_key_release(s);
    s->handle = h;
    s->key_type = kt;
    nk_p11_read_key(s);
    k->label = nk_xstrdup(s->label != NULL ? s->label : "");
    k->id_hex = hex_of(s->id, s->id_len);
    k->is_private = priv;
    /* The spec signing would see: from the key's attributes, its public
     * key object or its certificate. */
    if (usable && nk_p11_public_key(s, &ignored) == 0)
        k->spec = s->spec;
    k->cert = nk_p11_find_cert(s);
    k->uri = nk_p11_uri_format(s->slot->token->label, s->label, s->id,
                               s->id_len, s->module);
    return nk_p11_fault_check(s, err);
}

/* Lists the private keys after a login where one is meant, else the
 * public keys. A token that opens no session lists no keys; one that fails
 * a search or an attribute read fails the listing. */
static int list_token(struct nk_p11 *s, PKCS11_SLOT *slot, int meant,
                      const struct nk_config *cfg,
                      struct nk_p11_listed_token *t, struct nk_err *err)
{
    const PKCS11_TOKEN *tok = slot->token;
    CK_OBJECT_CLASS cls;
    CK_ATTRIBUTE tmpl = {CKA_CLASS, &cls, sizeof(cls)};
    CK_OBJECT_HANDLE *h = NULL;
    struct nk_err ignored = {0};
    size_t n = 0, i;
    int ret = -1;
    CK_RV rv;

    t->label = nk_xstrdup(tok->label);
    t->manufacturer = nk_xstrdup(tok->manufacturer);
    t->model = nk_xstrdup(tok->model);
    t->serial = nk_xstrdup(tok->serialnr);
    s->slot = slot;
    if (nk_p11_open_session(s, slot, 0, &s->session, &ignored) != 0)
        return 0;
    s->have_session = 1;
    if (meant && tok->loginRequired) {
        if (nk_p11_login(s, slot, s->session, cfg, NULL, err) != 0)
            goto out;
        t->logged_in = 1;
    }
    cls = t->logged_in ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    rv = nk_p11_find(s, s->session, &tmpl, 1, &h, &n);
    if (rv != CKR_OK) {
        nk_p11_rv_err(err, rv, "cannot list the keys of token \"%s\"",
                      tok->label);
        goto out;
    }
    t->keys = nk_xcalloc(n, sizeof(*t->keys));
    for (i = 0; i < n; i++) {
        t->nkeys++;
        if (list_key(s, h[i], t->logged_in, &t->keys[i], err) != 0)
            goto out;
    }
    ret = 0;
out:
    nk_p11_key_release(s);
    if (t->logged_in)
        s->fl->C_Logout(s->session);
    s->fl->C_CloseSession(s->session);
    s->have_session = 0;
    free(h);
    return ret;
}

static int count_tokens(const struct nk_p11 *s)
{
    const PKCS11_TOKEN *t;
    size_t i;
    int n = 0;

    for (i = 0; i < s->nslots; i++) {
        t = s->slots[i].token;
        n += t != NULL && t->initialized;
    }
    return n;
}

int nk_p11_list(const char *module, const char *token,
                const struct nk_config *cfg, struct nk_p11_listing **out,
                struct nk_err *err)
{
    struct nk_p11 *s = nk_xcalloc(1, sizeof(*s));
    struct nk_p11_listing *l = nk_xcalloc(1, sizeof(*l));
    struct nk_p11_listed_slot *e;
    PKCS11_SLOT *slot;
    char *pin = NULL;
    int one, meant, have_pin, ret = -1;
    size_t i;

    *out = NULL;
    if (nk_p11_uri_parse("pkcs11:", &s->uri, err) != 0)
        goto out;
    /* The module from the command line, else the usual sources. */
    if (module != NULL) {
        s->module_from = "--module";
        if (nk_p11_module_value(module, s->module_from, &s->module, err) != 0)
            goto out;
    }
    if (nk_p11_load(s, cfg, err) != 0)
        goto out;
    /* No PIN means public keys only; login reads it again when it is
     * there. */
    if (nk_p11_pin_resolve(s->uri, cfg, &pin, &s->pin_from, err) != 0)
        goto out;
    have_pin = pin != NULL;
    nk_strfreezero(pin);
    one = count_tokens(s) == 1;
    l->module = nk_xstrdup(s->module);
    l->slots = nk_xcalloc(s->nslots, sizeof(*l->slots));
    for (i = 0; i < s->nslots; i++) {
        slot = &s->slots[i];
        e = &l->slots[l->nslots++];
        e->id = PKCS11_get_slotid_from_slot(slot);
        if (slot->description != NULL)
            e->description = nk_xstrdup(slot->description);
        if (slot->token == NULL || !slot->token->initialized)
            continue;
        meant = have_pin &&
                (token != NULL ? strcmp(token, slot->token->label) == 0 : one);
        e->token = nk_xcalloc(1, sizeof(*e->token));
        if (list_token(s, slot, meant, cfg, e->token, err) != 0)
            goto out;
    }
    *out = l;
    l = NULL;
    ret = 0;
out:
    nk_p11_listing_free(l);
    nk_p11_signer_free(s);
    return ret;
}

static void token_free(struct nk_p11_listed_token *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->nkeys; i++) {
        free(t->keys[i].label);
        free(t->keys[i].id_hex);
        X509_free(t->keys[i].cert);
        free(t->keys[i].uri);
    }
    free(t->keys);
    free(t->label);
    free(t->manufacturer);
    free(t->model);
    free(t->serial);
    free(t);
}

void nk_p11_listing_free(struct nk_p11_listing *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->nslots; i++) {
        free(l->slots[i].description);
        token_free(l->slots[i].token);
    }
    free(l->slots);
    free(l->module);
    free(l);
}
