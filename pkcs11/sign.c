/* Signing on the token: CKM_RSA_PKCS_PSS (or, only when the token has no
 * PSS, CKM_RSA_X_509 over a software PSS encoding) and CKM_ECDSA. Never
 * PKCS#1 v1.5. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mem.h"
#include "p11.h"
#include "pinhook.h"

int nk_p11_ec_raw(const unsigned char *in, size_t inlen, size_t width,
                  unsigned char *out, struct nk_err *err)
{
    size_t half = inlen / 2, i, skip;
    const unsigned char *p;

    if (width == 0 || inlen % 2 != 0 || half + NK_P11_MAX_STRIPPED < width)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "token fault: malformed ECDSA signature of %zu "
                          "bytes for a %zu-byte curve",
                          inlen, width);
    memset(out, 0, 2 * width);
    for (i = 0; i < 2; i++) {
        p = in + i * half;
        /* A wider half is fine as long as the extra bytes are zero. */
        for (skip = 0; half - skip > width; skip++)
            if (p[skip] != 0)
                return nk_err_set(err, NK_ERR_GENERIC,
                                  "token returned an ECDSA signature of %zu "
                                  "bytes, too long for a %zu-byte curve",
                                  inlen, width);
        memcpy(out + i * width + (width - (half - skip)), p + skip,
               half - skip);
    }
    return 0;
}

/* More mechanisms than any token has: a longer list is a token fault. */
#define MAX_MECHS 4096

/* 1 when m is in the token's mechanism list, 0 when it is not, -1 with err
 * set when the token cannot give the list or gives one that makes no
 * sense. The list is what a token offers: SoftHSM, for one, answers
 * C_GetMechanismInfo even for mechanisms its configuration has taken off
 * the list. */
static int listed(struct nk_p11 *s, CK_SLOT_ID slot, CK_MECHANISM_TYPE m,
                  struct nk_err *err)
{
    const char *label = s->slot->token->label;
    CK_MECHANISM_TYPE *list = NULL;
    CK_ULONG n = 0, cap = 0, i;
    CK_RV rv = s->fl->C_GetMechanismList(slot, NULL, &n);
    int ret = -1;

    if (rv == CKR_OK && n > MAX_MECHS)
        return nk_err_set(err, NK_ERR_GENERIC,
                          "token fault: \"%s\" reports %lu mechanisms", label,
                          (unsigned long)n);
    if (rv == CKR_OK && n > 0) {
        cap = n;
        list = nk_xcalloc(cap, sizeof(*list));
        rv = s->fl->C_GetMechanismList(slot, list, &n);
    }
    if (rv != CKR_OK) {
        nk_p11_rv_err(err, rv,
                      "cannot read the mechanism list of token "
                      "\"%s\"",
                      label);
        goto out;
    }
    /* Believing a count larger than the list would read past it. */
    if (n > cap) {
        nk_err_set(err, NK_ERR_GENERIC,
                   "token fault: \"%s\" reports %lu mechanisms in a list "
                   "of %lu",
                   label, (unsigned long)n, (unsigned long)cap);
        goto out;
    }
    ret = 0;
    for (i = 0; i < n && ret == 0; i++)
        ret = list[i] == m;
out:
    free(list);
    return ret;
}

/* 1 when the token lists mechanism m with CKF_SIGN, 0 when it does not
 * offer it, -1 with err set when the token fails to say. */
static int offers(struct nk_p11 *s, CK_MECHANISM_TYPE m, struct nk_err *err)
{
    CK_SLOT_ID slot = PKCS11_get_slotid_from_slot(s->slot);
    CK_MECHANISM_INFO info;
    CK_RV rv;
    int r = listed(s, slot, m, err);

    if (r == 0)
        nk_debug("pkcs11: %s not in the mechanism list", nk_p11_mech_name(m));
    if (r <= 0)
        return r;
    rv = s->fl->C_GetMechanismInfo(slot, m, &info);
    if (rv == CKR_MECHANISM_INVALID) {
        nk_debug("pkcs11: %s not offered: %s", nk_p11_mech_name(m),
                 nk_p11_rv_name(rv));
        return 0;
    }
    if (rv != CKR_OK)
        return nk_p11_rv_err(err, rv,
                             "cannot read what token \"%s\" "
                             "offers for %s",
                             s->slot->token->label, nk_p11_mech_name(m));
    return (info.flags & CKF_SIGN) != 0;
}

/* The PIN read at open serves the first signature; a holder of the key
 * that signs again (the agent) hands it over again through the PIN hook. */
static CK_RV context_login(struct nk_p11 *s)
{
    struct nk_err e = {NK_ERR_NONE, ""};

    if (s->slot->token->secureLogin)
        return s->fl->C_Login(s->session, CKU_CONTEXT_SPECIFIC, NULL, 0);
    if (s->pin == NULL &&
        nk_pin_hook_ask(s->slot->token->label, &s->pin, &s->pin_from, &e) != 0)
        return CKR_PIN_INCORRECT;
    if (s->pin == NULL)
        return CKR_PIN_INCORRECT;
    return s->fl->C_Login(s->session, CKU_CONTEXT_SPECIFIC,
                          (CK_UTF8CHAR *)s->pin, strlen(s->pin));
}

/* The first C_Sign buffer; a token asking for more may get up to MAX_SIG. */
#define FIRST_SIG 1024
#define MAX_SIG 65536

/* C_SignInit (+ context login) and C_Sign into a malloc'd buffer. The
 * length the module reports is checked against the buffer it was given:
 * a module claiming more (or nothing) is faulty, and believing it would
 * read past the buffer. */
static int token_sign(struct nk_p11 *s, CK_MECHANISM *mech, unsigned char *in,
                      size_t inlen, unsigned char **out, size_t *outlen,
                      struct nk_err *err)
{
    const char *mname = nk_p11_mech_name(mech->mechanism);
    const char *label = s->label ? s->label : "";
    size_t cap = FIRST_SIG;
    CK_ULONG len = cap;
    unsigned char *buf = NULL;
    CK_RV rv;
    int ret = -1;

    *out = NULL;
    rv = s->fl->C_SignInit(s->session, mech, s->handle);
    if (rv != CKR_OK) {
        nk_p11_rv_err(err, rv, "token refused %s with key \"%s\"", mname,
                      label);
        goto out;
    }
    if (s->always_auth) {
        rv = context_login(s);
        nk_p11_pin_drop(s);
        /* A refused PIN is ACCESS_DENIED, a failing token ERROR. */
        if (rv != CKR_OK) {
            nk_p11_rv_err(err, rv,
                          "key \"%s\" needs the PIN for each "
                          "signature and that login failed",
                          label);
            goto out;
        }
    }
    buf = nk_xmalloc(cap);
    rv = s->fl->C_Sign(s->session, in, inlen, buf, &len);
    if (rv == CKR_BUFFER_TOO_SMALL && len > cap && len <= MAX_SIG) {
        cap = len;
        buf = nk_xrealloc(buf, cap);
        rv = s->fl->C_Sign(s->session, in, inlen, buf, &len);
    }
    if (rv != CKR_OK) {
        nk_p11_rv_err(err, rv, "%s signature with key \"%s\" failed", mname,
                      label);
        goto out;
    }
    if (len == 0 || len > cap) {
        nk_err_set(err, NK_ERR_GENERIC,
                   "token fault: C_Sign (%s, key \"%s\") reported a "
                   "%lu-byte signature in a %zu-byte buffer",
                   mname, label, (unsigned long)len, cap);
        goto out;
    }
    *out = buf;
    *outlen = len;
    buf = NULL;
    ret = 0;
out:
    free(buf);
    return ret;
}

static CK_MECHANISM_TYPE hash_mech(enum nk_hash h)
{
    return h == NK_SHA256   ? CKM_SHA256
           : h == NK_SHA384 ? CKM_SHA384
                            : CKM_SHA512;
}

static CK_RSA_PKCS_MGF_TYPE hash_mgf(enum nk_hash h)
{
    return h == NK_SHA256   ? CKG_MGF1_SHA256
           : h == NK_SHA384 ? CKG_MGF1_SHA384
                            : CKG_MGF1_SHA512;
}

static int sign_rsa(struct nk_p11 *s, enum nk_keyspec spec,
                    const unsigned char *digest, size_t dlen,
                    unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    enum nk_hash h = nk_keyspec_hash(spec);
    size_t k = nk_keyspec_sig_len(spec);
    CK_RSA_PKCS_PSS_PARAMS pss = {hash_mech(h), hash_mgf(h), dlen};
    CK_MECHANISM mech = {CKM_RSA_PKCS_PSS, &pss, sizeof(pss)};
    unsigned char *in = NULL, *raw = NULL;
    size_t rawlen = 0;
    int ret = -1, with_pss, x509 = 0;

    with_pss = offers(s, CKM_RSA_PKCS_PSS, err);
    if (with_pss == 0)
        x509 = offers(s, CKM_RSA_X_509, err);
    if (with_pss < 0 || x509 < 0)
        goto out;
    if (with_pss) {
        in = nk_xmalloc(dlen);
        memcpy(in, digest, dlen);
        if (token_sign(s, &mech, in, dlen, &raw, &rawlen, err) != 0)
            goto out;
    } else if (x509) {
        nk_info("pkcs11: token has no CKM_RSA_PKCS_PSS; PSS encoding in "
                "software, raw RSA on the token");
        mech = (CK_MECHANISM){CKM_RSA_X_509, NULL, 0};
        in = nk_xmalloc(k);
        if (nk_p11_pss_encode(h, digest, dlen, EVP_PKEY_get_bits(s->pub), in, k,
                              err) != 0 ||
            token_sign(s, &mech, in, k, &raw, &rawlen, err) != 0)
            goto out;
    } else {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "token \"%s\" offers neither CKM_RSA_PKCS_PSS nor "
                   "CKM_RSA_X_509 for signing (PKCS#1 v1.5 is never used)",
                   s->slot->token->label);
        goto out;
    }
    if (rawlen > k || rawlen + NK_P11_MAX_STRIPPED < k) {
        nk_err_set(err, NK_ERR_GENERIC,
                   "token fault: RSA signature of %zu bytes for a %zu-byte "
                   "modulus",
                   rawlen, k);
        goto out;
    }
    *sig = nk_xcalloc(1, k);
    memcpy(*sig + (k - rawlen), raw, rawlen); /* restore leading zeros */
    *siglen = k;
    ret = 0;
out:
    free(in);
    free(raw);
    return ret;
}

static int sign_ec(struct nk_p11 *s, enum nk_keyspec spec,
                   const unsigned char *digest, size_t dlen,
                   unsigned char **sig, size_t *siglen, struct nk_err *err)
{
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    size_t w = nk_keyspec_ec_width(spec);
    unsigned char *in = nk_xmalloc(dlen), *raw = NULL, *out = NULL;
    size_t rawlen = 0;
    int ret = -1, ecdsa = offers(s, CKM_ECDSA, err);

    memcpy(in, digest, dlen);
    if (ecdsa < 0)
        goto out;
    if (ecdsa == 0) {
        nk_err_set(err, NK_ERR_VALIDATION,
                   "token \"%s\" does not offer CKM_ECDSA for signing",
                   s->slot->token->label);
        goto out;
    }
    if (token_sign(s, &mech, in, dlen, &raw, &rawlen, err) != 0)
        goto out;
    out = nk_xmalloc(2 * w);
    if (nk_p11_ec_raw(raw, rawlen, w, out, err) != 0)
        goto out;
    *sig = out;
    *siglen = 2 * w;
    out = NULL;
    ret = 0;
out:
    free(in);
    free(raw);
    free(out);
    return ret;
}

int nk_p11_sign(struct nk_p11 *s, enum nk_keyspec spec,
                const unsigned char *digest, size_t dlen, unsigned char **sig,
                size_t *siglen, struct nk_err *err)
{
    *sig = NULL;
    *siglen = 0;
    if (nk_p11_public_key(s, err) != 0)
        return -1;
    if (spec != s->spec)
        return nk_err_set(err, NK_ERR_VALIDATION,
                          "keySpec %s does not match the key on the token "
                          "(%s)",
                          nk_keyspec_name(spec), nk_keyspec_name(s->spec));
    if (dlen != nk_hash_len(nk_keyspec_hash(spec)))
        return nk_err_set(
            err, NK_ERR_GENERIC, "digest of %zu bytes for %s (want %zu)", dlen,
            nk_keyspec_name(spec), nk_hash_len(nk_keyspec_hash(spec)));
    if (nk_keyspec_is_rsa(spec))
        return sign_rsa(s, spec, digest, dlen, sig, siglen, err);
    return sign_ec(s, spec, digest, dlen, sig, siglen, err);
}
