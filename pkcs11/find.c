/* Finding the one private key a URI names, with a C_FindObjects template
 * per matching token, and a report of what was there when it is not
 * exactly one (only that error path looks at other keys). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "p11.h"

#define MAX_FOUND 8

/* What the search saw: matching tokens, matching RSA and EC keys, and
 * matching keys of other types (never used); and the sessions it opened
 * on tokens without the key, kept until it ends: closing a token's last
 * session logs it out, and the error listing needs the login. */
struct tally {
    size_t ntok, nfound, nother;
    CK_SESSION_HANDLE *held;
    size_t nheld;
};
/* CKA_LABEL and CKA_ID longer than this are not read. */
#define MAX_NAME 4096

/* Appends to a message list, ending it with "..." once it is full. */
static void NK_PRINTF(3, 4)
    list_add(char *buf, size_t size, const char *fmt, ...)
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

static int list_full(const char *buf)
{
    size_t n = strlen(buf);

    return n >= 3 && strcmp(buf + n - 3, "...") == 0;
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

/* The template for the URI's private keys: class, and CKA_ID and CKA_LABEL
 * when the URI has them (all private keys when all is set). */
static CK_ULONG key_template(const struct nk_p11_uri *u, int all,
                             CK_OBJECT_CLASS *cls, CK_ATTRIBUTE tmpl[3])
{
    CK_ULONG nt = 0;

    *cls = CKO_PRIVATE_KEY;
    tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, cls, sizeof(*cls)};
    if (!all && u->has_id)
        tmpl[nt++] = (CK_ATTRIBUTE){CKA_ID, u->id, u->id_len};
    if (!all && u->object != NULL)
        tmpl[nt++] = (CK_ATTRIBUTE){CKA_LABEL, u->object, strlen(u->object)};
    return nt;
}

/* Other key types (Ed25519 ...) never match; libp11 0.4.12, which did the
 * search before, failed on any token holding one. */
int nk_p11_usable_key(struct nk_p11 *s, CK_SESSION_HANDLE session,
                      CK_OBJECT_HANDLE h, CK_KEY_TYPE *kt)
{
    *kt = CKK_VENDOR_DEFINED;
    if (nk_p11_attr_fixed(s, session, h, CKA_KEY_TYPE, kt, sizeof(*kt)) != 0)
        *kt = CKK_VENDOR_DEFINED;
    return *kt == CKK_RSA || *kt == CKK_EC;
}

/* Logs in to one matching token, opens our session there and counts its
 * usable keys that match the URI; the first match overall becomes the key
 * and keeps the session, and the PIN of its login (in s->pin until
 * nk_p11_find_key knows whether the key needs it again). */
static int scan_token(struct nk_p11 *s, PKCS11_SLOT *slot,
                      const struct nk_config *cfg, struct tally *t,
                      struct nk_err *err)
{
    CK_OBJECT_CLASS cls;
    CK_ATTRIBUTE tmpl[3];
    CK_ULONG nt = key_template(s->uri, 0, &cls, tmpl);
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE *h = NULL;
    CK_KEY_TYPE kt;
    char *pin = NULL;
    size_t n = 0, i;
    int keep = 0, ret = -1;
    CK_RV rv;

    if (nk_p11_open_session(s, slot, 0, &session, err) != 0)
        return -1;
    if (nk_p11_login(s, slot, session, cfg, &pin, err) != 0)
        goto out;
    rv = nk_p11_find(s, session, tmpl, nt, &h, &n);
    if (rv != CKR_OK) {
        nk_p11_rv_err(err, rv,
                      "cannot list the private keys of token "
                      "\"%s\"",
                      slot->token->label);
        goto out;
    }
    for (i = 0; i < n; i++) {
        if (!nk_p11_usable_key(s, session, h[i], &kt)) {
            t->nother++;
            continue;
        }
        if (t->nfound == 0) {
            s->slot = slot;
            s->session = session;
            s->have_session = keep = 1;
            s->handle = h[i];
            s->key_type = kt;
        }
        t->nfound++;
    }
    ret = 0;
out:
    if (!keep) {
        t->held = nk_xrealloc(t->held, (t->nheld + 1) * sizeof(*t->held));
        t->held[t->nheld++] = session;
    }
    if (keep && s->pin == NULL) {
        s->pin = pin;
        pin = NULL;
    }
    nk_strfreezero(pin);
    free(h);
    return ret;
}

static void key_desc(struct nk_p11 *s, CK_SESSION_HANDLE session,
                     CK_OBJECT_HANDLE h, PKCS11_SLOT *slot, char *buf,
                     size_t size)
{
    size_t ll, il;
    char *label = (char *)nk_p11_attr(s, session, h, CKA_LABEL, MAX_NAME, &ll);
    unsigned char *id = nk_p11_attr(s, session, h, CKA_ID, MAX_NAME, &il);
    char idhex[41];

    hex(id, il, idhex, sizeof(idhex));
    list_add(buf, size, "\"%s\" id %s on \"%s\"", label ? label : "", idhex,
             slot->token->label);
    free(label);
    free(id);
}

/* For error messages only: describes up to max usable keys on the
 * matching tokens, those the URI names or all of them, into buf. */
static void list_keys(struct nk_p11 *s, int all, size_t max, char *buf,
                      size_t size)
{
    CK_OBJECT_CLASS cls;
    CK_ATTRIBUTE tmpl[3];
    CK_ULONG nt = key_template(s->uri, all, &cls, tmpl);
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE *h;
    CK_KEY_TYPE kt;
    size_t n, i, k, listed = 0;
    struct nk_err ignored = {0};

    for (k = 0; k < s->nslots && listed < max && !list_full(buf); k++) {
        if (!nk_p11_token_matches(s, &s->slots[k]) ||
            nk_p11_open_session(s, &s->slots[k], 0, &session, &ignored) != 0)
            continue;
        if (nk_p11_find(s, session, tmpl, nt, &h, &n) != CKR_OK)
            n = 0;
        for (i = 0; i < n && listed < max && !list_full(buf); i++) {
            if (!nk_p11_usable_key(s, session, h[i], &kt))
                continue;
            key_desc(s, session, h[i], &s->slots[k], buf, size);
            listed++;
        }
        s->fl->C_CloseSession(session);
        free(h);
    }
}

/* The tokens the URI's token attributes match, logged in, each searched
 * for the key; *tokens lists every initialised token. */
static int scan_tokens(struct nk_p11 *s, const struct nk_config *cfg,
                       char *tokens, size_t size, struct tally *t,
                       struct nk_err *err)
{
    PKCS11_SLOT *slot;
    size_t i;

    for (i = 0; i < s->nslots; i++) {
        slot = &s->slots[i];
        if (slot->token == NULL || !slot->token->initialized)
            continue;
        list_add(tokens, size, "\"%s\" (slot %lu)", slot->token->label,
                 PKCS11_get_slotid_from_slot(slot));
        if (!nk_p11_token_matches(s, slot))
            continue;
        t->ntok++;
        if (scan_token(s, slot, cfg, t, err) != 0)
            return -1;
    }
    return 0;
}

void nk_p11_read_key(struct nk_p11 *s)
{
    CK_BBOOL always = CK_FALSE;
    size_t len;

    s->label = (char *)nk_p11_attr(s, s->session, s->handle, CKA_LABEL,
                                   MAX_NAME, &len);
    s->id = nk_p11_attr(s, s->session, s->handle, CKA_ID, MAX_NAME, &s->id_len);
    /* Absent on old tokens (CKR_ATTRIBUTE_TYPE_INVALID): not required. */
    if (nk_p11_attr_fixed(s, s->session, s->handle, CKA_ALWAYS_AUTHENTICATE,
                          &always, sizeof(always)) == 0)
        s->always_auth = always == CK_TRUE;
}

/* The error when the search did not find exactly one key. */
static void not_one(struct nk_p11 *s, const struct tally *t, const char *want,
                    const char *tokens, struct nk_err *err)
{
    char keys[300] = "";

    if (t->ntok == 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "no PKCS#11 token matches %s in module \"%s\"; tokens "
                   "there: %s",
                   want, s->module, tokens[0] ? tokens : "none");
    } else if (t->nfound == 0 && t->nother > 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "%zu private key(s) match %s but none is an RSA or EC "
                   "key (the only kinds notation signs with)",
                   t->nother, want);
    } else if (t->nfound == 0) {
        list_keys(s, 1, (size_t)-1, keys, sizeof(keys));
        nk_err_set(err, NK_ERR_VALIDATION,
                   "no private key matches %s; private keys on the %zu "
                   "matching token(s): %s",
                   want, t->ntok, keys[0] ? keys : "none");
    } else {
        list_keys(s, 0, MAX_FOUND, keys, sizeof(keys));
        nk_err_set(err, NK_ERR_VALIDATION,
                   "%zu private keys match %s: %s; add id= or token= to the "
                   "key id to pick one",
                   t->nfound, want, keys);
    }
}

int nk_p11_find_key(struct nk_p11 *s, const struct nk_config *cfg,
                    struct nk_err *err)
{
    char tokens[300] = "";
    char *want = nk_p11_uri_describe(s->uri);
    struct tally t = {0, 0, 0, NULL, 0};
    size_t i;
    int ret = -1;

    /* A key type the token failed to give would count as "not RSA or
     * EC": its failure is the answer. */
    if (scan_tokens(s, cfg, tokens, sizeof(tokens), &t, err) != 0 ||
        nk_p11_fault_check(s, err) != 0)
        goto out;
    if (t.nfound != 1) {
        not_one(s, &t, want, tokens, err);
        goto out;
    }
    nk_p11_read_key(s);
    if (nk_p11_fault_check(s, err) != 0)
        goto out;
    nk_debug("pkcs11: key \"%s\" on token \"%s\"", s->label ? s->label : "",
             s->slot->token->label);
    s->have_key = 1;
    ret = 0;
out:
    /* The login's PIN stays only for a key that needs it at each
     * signature (until that signature's C_SignInit). */
    if (ret != 0 || !s->always_auth || s->slot->token->secureLogin)
        nk_p11_pin_drop(s);
    for (i = 0; i < t.nheld; i++)
        s->fl->C_CloseSession(t.held[i]);
    free(t.held);
    free(want);
    return ret;
}
